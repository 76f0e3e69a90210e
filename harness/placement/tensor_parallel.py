"""Tensor-parallel gateways: a layer's attention split by heads over its gateway and a few nearby
satellites (strategies ``space-xnet-tp`` and ``compact-tp``).

Why. On polar_1056 a token spends 65 % of its 1.19 s computing, and most of that is the gateways'
attention: 134 MFLOP, 18.4 ms per layer on one 7.28 GFLOP/s satellite, 0.59 s per token, while
the satellites around each gateway wait.

Physics. Attention's Q, K, V and output projections split by heads without any communication
inside the layer: a shard holding h of the H heads computes its heads' attention and its slice of
the output projection (and keeps those heads' KV cache), and the layer's output is the sum of the
shards' partial outputs. With m shards (the gateway and m - 1 helpers):

- the gateway sends the hidden state (one message, hidden_size x bytes) to each helper: the
  scatter;
- every shard computes gateway_ns / m (the router's 2 x hidden x E FLOP are counted in, split too:
  a simplification worth 0.05 % of the work);
- each helper sends its partial output (the same size) back: the gather; the gateway sums them
  and dispatches to the experts once its own shard and every partial output are done.

So the attention takes gateway_ns / m + max over helpers of (round trip to it), instead of
gateway_ns. A helper is worth adding only while the compute it saves exceeds the extra round
trip: for each layer the helpers are the satellites of least mean round trip from its gateway
(over :data:`~harness.placement.subnets.CENTRE_SNAPSHOTS` snapshots), and m (at most
``placement.max_shards``) minimises gateway_ns / m + the round trip to the (m-1)-th nearest
helper. An 8 KiB message is ~0.7 us at 100 Gbit/s, so the round trip is propagation: in the polar
star a ring subnet runs across the planes, whose neighbours are 0.25-2.2 ms apart (less near the
poles), while an intra-plane hop is 4.5 ms.

Where the shards go. ``space-xnet-tp`` keeps space-xnet's placement and takes the helpers from the
gateway's own ring subnet; ``compact-tp`` keeps the compact placement (:mod:`.compact`) and takes
them from any satellite. A helper may sit on an expert's satellite: within one token the expert
works only after the attention is over, so they do not wait for each other (concurrent requests
share that satellite's first-come first-served queue, as the packet engine models). A helper never
sits on a gateway, and no satellite is a helper of two layers.
"""

from __future__ import annotations

import numpy as np

from ..errors import PlacementError
from .compact import best_compact, mean_delays_ns
from .paper import space_xnet
from .types import Placement, PlacementInput


def choose_shards(inp: PlacementInput, placement: Placement, candidates: np.ndarray) -> np.ndarray:
    """[L, H] helper satellites (-1 padded) of each layer, chosen among ``candidates`` ([L, N] bool).

    Layers are served in order; each takes its nearest free candidates (mean round trip from its
    gateway; ties: lower id) and keeps as many as make gateway_ns / m + round trip smallest.
    """
    if inp.gateway_ns is None:
        raise PlacementError("tensor-parallel strategies need the gateways' compute times (PlacementInput.gateway_ns)")
    gateways = placement.gateways
    delays = mean_delays_ns(inp, gateways)  # [L, N]
    taken = np.zeros(inp.topology.num_nodes, dtype=bool)
    taken[gateways] = True
    rows = []
    for layer in range(inp.layers):
        pool = np.flatnonzero(candidates[layer] & ~taken)
        round_trip = 2.0 * delays[layer, pool]
        order = np.lexsort((pool, round_trip))[: max(0, inp.max_shards - 1)]
        work = float(inp.gateway_ns[layer])
        shards = np.arange(1, len(order) + 2)  # m = 1 .. 1 + helpers available
        finish = work / shards + np.concatenate([[0.0], round_trip[order]])
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
