"""Tensor-parallel gateways: a layer's attention split by heads over its gateway and a few nearby
satellites (strategies ``space-xnet-tp`` and ``compact-tp``), and the same with each layer's
experts packed on one satellite (``space-xnet-packed-tp``, ``compact-packed-tp``).

Why. On polar_1056 a token spends 65 % of its 1.19 s computing, and most of that is the gateways'
attention: 134 MFLOP, 18.4 ms per layer on one 7.28 GFLOP/s satellite, 0.59 s per token, while
the satellites around each gateway wait.

Physics. Attention's Q, K, V and output projections split by heads without any communication
inside the layer: a shard holding h of the H heads computes its heads' attention and its slice of
the output projection (and keeps those heads' KV cache), and the layer's output is the sum of the
shards' partial outputs. With m shards (the gateway and m - 1 helpers):

- each helper needs the layer's input hidden state: for layer 0 the gateway (which has just run
  the LM head and starts the next token) sends it to each helper, the scatter; for l >= 1 the
  experts of layer l-1 send their outputs to the helpers as well as to the gateway, and each helper
  sums the k outputs itself, so no scatter leg delays the shards;
- every shard computes its ceil(heads / m) of the layer's heads, ceil(heads / m) / heads of gateway_ns
  (gateway_ns / m when m divides model.heads; the router's 2 x hidden x E FLOP are counted in, split too:
  a simplification worth 0.05 % of the work; a model's shared experts, part of gateway_ns, are split
  too, by FFN columns, and so are their weights: placement/resources.py);
- each helper sends its partial output (the same size) back: the gather; the gateway sums them
  and dispatches to the experts once its own shard and every partial output are done.

So the attention takes gateway_ns / m plus the latest helper's lag (its extra input delay and
its gather), instead of gateway_ns. A helper is worth adding only while the compute it saves
exceeds that lag: :func:`choose_shards` ranks the candidates by it (mean delays over
:data:`~harness.placement.subnets.CENTRE_SNAPSHOTS` snapshots) and picks m (at most
``placement.max_shards``) per layer. An 8 KiB message is ~0.7 us at 100 Gbit/s, so the round trip is propagation: in the polar
star a ring subnet runs across the planes, whose neighbours are 0.25-2.2 ms apart (less near the
poles), while an intra-plane hop is 4.5 ms.

Where the shards go. ``space-xnet-tp`` keeps space-xnet's placement and takes the helpers from the
gateway's own ring subnet; ``compact-tp`` keeps the compact placement (:mod:`.compact_subnets`) and takes
them from any satellite. A helper may sit on an expert's satellite: within one token the expert
works only after the attention is over, so they do not wait for each other (concurrent requests
share that satellite's first-come first-served queue, as the packet engine models). A helper never
sits on a gateway or on an expert of the layer before (whose output it receives directly), and no
satellite is a helper of two layers.

Packed experts. The resource model lets one satellite hold several experts of a layer (8 x 34 MB
for LLaMA-MoE-3.5B is far below an 8 GB board). Packed on the few satellites of least expected
path delay gateway_l -> n -> gateway_{l+1}, every token's experts are a short detour away, at the
price of computing two experts one after the other when both sit on one board (first come, first
served: 2 x 4.6 ms instead of 4.6 ms). Where the spread experts' paths are long, as in a Walker
delta (a hop is 4.8-6.6 ms), the detour saved is worth more than the extra compute; where the
second-best spot is nearly as good, as across the planes of a polar star, two boards with the hot
experts dealt apart avoid most of it (:func:`pack_experts` picks the count per layer).
"""

from __future__ import annotations

import numpy as np

from harness.errors import PlacementError
from harness.workload.compute import shard_compute_ns
from harness.placement.compact_subnets import best_compact, mean_delays_ns
from harness.placement.paper import space_xnet
from harness.placement.types import Placement, PlacementInput


def choose_shards(inp: PlacementInput, placement: Placement, candidates: np.ndarray) -> np.ndarray:
    """[L, H] helper satellites (-1 padded) of each layer, chosen among ``candidates`` ([L, N] bool).

    A helper's cost is how much later than the gateway's own shard its partial output is back: for
    layer 0 (whose gateway scatters the new token's state) the round trip 2 d(g, n); for l >= 1
    (the experts of layer l-1 send their outputs to the shards directly) d(n, g) plus the
    activation-weighted mean of d(expert, n) - d(expert, g) over the experts of layer l-1, at least
    0 (all delays: means over the sampled snapshots). Layers are served in order; each takes its
    cheapest free candidates (ties: lower id) and keeps the m - 1 of them that make
    the shard's work (``shard_compute_ns``: ceil(heads / m) / heads of gateway_ns) + the (m-1)-th
    cost smallest (m <= placement.max_shards and m <= model.heads).
    """
    if inp.gateway_ns is None:
        raise PlacementError("tensor-parallel strategies need the gateways' compute times (PlacementInput.gateway_ns)")
    gateways, experts = placement.gateways, placement.experts
    delays = mean_delays_ns(inp, gateways)  # [L, N]
    from_experts = mean_delays_ns(inp, experts.ravel()).reshape(inp.layers, inp.experts, -1)  # [L, E, N]
    weights = inp.probabilities / np.maximum(inp.probabilities.sum(axis=1, keepdims=True), 1e-300)
    taken = np.zeros(inp.topology.num_nodes, dtype=bool)
    taken[gateways] = True
    rows = []
    for layer in range(inp.layers):
        usable = candidates[layer] & ~taken
        if layer > 0:  # the experts of layer l-1 send to these helpers: never to their own satellite
            usable[experts[layer - 1]] = False
        pool = np.flatnonzero(usable)
        if layer == 0 or inp.layers == 1:
            cost = 2.0 * delays[layer, pool]
        else:
            prev = layer - 1
            with np.errstate(invalid="ignore"):  # an expert cut off from both ends: inf - inf
                detour = from_experts[prev][:, pool] - from_experts[prev][:, gateways[layer]][:, None]  # [E, n]
                cost = np.maximum(delays[layer, pool] + weights[prev] @ detour, 0.0)
            cost[np.isnan(cost)] = np.inf  # unreachable: never a helper (argmin would pick a NaN)
        order = np.lexsort((pool, cost))[: max(0, min(inp.max_shards, inp.heads) - 1)]
        shards = np.arange(1, len(order) + 2)  # m = 1 .. 1 + helpers available (<= heads)
        work = shard_compute_ns(np.full(len(shards), inp.gateway_ns[layer]), shards - 1, inp.heads)
        finish = work + np.concatenate([[0.0], cost[order]])
        m = int(shards[int(np.argmin(finish))])
        helpers = pool[order[: m - 1]]
        taken[helpers] = True
        rows.append(helpers)
    width = max((len(r) for r in rows), default=0)
    table = np.full((inp.layers, width), -1, dtype=np.int32)
    for layer, helpers in enumerate(rows):
        table[layer, : len(helpers)] = helpers
    return table


def _free(inp: PlacementInput) -> np.ndarray:
    free = np.ones(inp.topology.num_nodes, dtype=bool)
    if inp.unavailable is not None:
        free &= ~inp.unavailable
    return free


def space_xnet_tp(inp: PlacementInput, rng: np.random.Generator) -> Placement:
    """space-xnet, its attention split over helpers from each gateway's own ring subnet."""
    base = space_xnet(inp, rng)
    layers = np.arange(inp.layers)[:, None]
    candidates = (base.subnets[None, :] == layers) & _free(inp)[None, :]
    shards = choose_shards(inp, base, candidates)
    return Placement("space-xnet-tp", base.gateways, base.experts, base.subnets, shards)


def compact_tp(inp: PlacementInput, rng: np.random.Generator) -> Placement:
    """compact, its attention split over helpers from any satellite near each gateway."""
    base = best_compact(inp).placement("compact-tp")
    candidates = np.broadcast_to(_free(inp)[None, :], (inp.layers, inp.topology.num_nodes))
    shards = choose_shards(inp, base, candidates)
    return Placement("compact-tp", base.gateways, base.experts, base.subnets, shards)


#: The most satellites one layer's experts are packed on (packed strategies).
MAX_BOARDS = 4


def pack_experts(inp: PlacementInput, placement: Placement, candidates: np.ndarray) -> np.ndarray:
    """[L, E] each layer's experts packed on b satellites ("boards", 1 <= b <= :data:`MAX_BOARDS`;
    b_min <= b < b_min + MAX_BOARDS when one board holds fewer than E experts:
    b_min = ceil(E / ``inp.expert_capacity``)).

    The boards of layer l are the b free candidates ([L, N] bool; not a gateway, not another
    layer's board) of least expected path delay c(n) = d(gateway_l, n) + d(n, gateway_{l+1}) (ties:
    lower id); experts, hottest first, are dealt to them in turn, so the hot ones sit apart. b
    minimises the expected critical path of a token's top-2 experts, treating the experts as chosen
    independently with their activation probabilities: E[max(c(board_i), c(board_j)) + (expert_ns if
    both on one board)], the second expert waiting for the first on a shared board.
    """
    if inp.expert_ns is None:
        raise PlacementError("packed strategies need the experts' compute times (PlacementInput.expert_ns)")
    gateways = placement.gateways
    delays = mean_delays_ns(inp, gateways)
    cost = delays + np.roll(delays, -1, axis=0)
    taken = np.zeros(inp.topology.num_nodes, dtype=bool)
    taken[gateways] = True
    experts = np.empty((inp.layers, inp.experts), dtype=np.int32)
    # Memory (issue 27): a board holds at most expert_capacity experts beside an attention share, so a
    # layer needs at least ceil(E / capacity) boards (1 for every model below a board's memory; with
    # no expert fitting, one each, and the memory check refuses the placement in one line).
    capacity = inp.expert_capacity if inp.expert_capacity is not None else inp.experts
    fewest = min(inp.experts, -(-inp.experts // max(1, capacity)))
    for layer in range(inp.layers):
        pool = np.flatnonzero(candidates[layer] & ~taken)
        if pool.size < fewest or pool.size == 0:
            raise PlacementError(f"no free satellite left for the experts of layer {layer} (it needs {fewest} "
                                 f"boards); use fewer model replicas or another strategy")
        spots = pool[np.lexsort((pool, cost[layer, pool]))[:fewest + MAX_BOARDS - 1]]
        p = inp.probabilities[layer]
        hot = np.lexsort((np.arange(inp.experts), -p))
        pair = np.outer(p, p)
        np.fill_diagonal(pair, 0.0)
        pair /= max(pair.sum(), 1e-300)
        best, best_cost = None, np.inf
        for boards in range(fewest, len(spots) + 1):
            sat = np.empty(inp.experts, dtype=np.int64)
            sat[hot] = spots[np.arange(inp.experts) % boards]
            c = cost[layer, sat]
            same = sat[:, None] == sat[None, :]
            expected = float((pair * (np.maximum(c[:, None], c[None, :]) + same * float(inp.expert_ns[layer].max()))).sum())
            if expected < best_cost:
                best, best_cost = sat, expected
        experts[layer] = best
        taken[np.unique(best)] = True
    return experts


def space_xnet_packed_tp(inp: PlacementInput, rng: np.random.Generator) -> Placement:
    """space-xnet's ring subnets and gateways, each layer's experts packed on 1-:data:`MAX_BOARDS`
    satellites ("boards") of its subnet (:func:`pack_experts`), the attention split over helpers
    from the subnet."""
    base = space_xnet(inp, rng)
    layers = np.arange(inp.layers)[:, None]
    candidates = (base.subnets[None, :] == layers) & _free(inp)[None, :]
    experts = pack_experts(inp, base, candidates)
    packed = Placement("space-xnet-packed-tp", base.gateways, experts, base.subnets)
    return Placement(packed.strategy, packed.gateways, experts, base.subnets, choose_shards(inp, packed, candidates))


def compact_packed_tp(inp: PlacementInput, rng: np.random.Generator) -> Placement:
    """The compact loop of gateways, each layer's experts packed on 1-:data:`MAX_BOARDS` satellites
    ("boards") beside the path to the next gateway (:func:`pack_experts`), the attention split over
    helpers from any satellite."""
    base = best_compact(inp).placement("compact-packed-tp")
    candidates = np.broadcast_to(_free(inp)[None, :], (inp.layers, inp.topology.num_nodes))
    experts = pack_experts(inp, base, candidates)
    subnets = np.full(inp.topology.num_nodes, -1, dtype=np.int32)
    subnets[base.gateways] = np.arange(inp.layers)
    subnets[experts] = np.arange(inp.layers)[:, None]
    packed = Placement(base.strategy, base.gateways, experts, subnets)
    return Placement(packed.strategy, packed.gateways, experts, subnets, choose_shards(inp, packed, candidates))
