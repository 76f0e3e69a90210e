"""Expert replicas: copies of hot experts on idle satellites, the copy chosen per token (strategy
``space-xnet-replicas``).

Why. An expert's weights (3 x 4096 x 1376 x 2 B = 34 MB for LLaMA-MoE-3.5B) are cheap to store
beside an 8 GB board, and an 8 KiB hidden state is cheap to send; but the best satellite for an
expert is not the same in every snapshot: links fail (each survives a snapshot with probability
0.95 in the shipped scenarios) and cross-plane links stretch and shrink with latitude, so the path
gateway_l -> expert -> gateway_{l+1} of a fixed placement sometimes detours.

What. space-xnet's placement, plus up to ``placement.max_replicas`` copies of each expert on the
idle satellites of its layer's ring subnet (no gateway, expert, or other copy there): the experts
take copies hottest first, round after round, each the free satellite of least mean expected
path delay c(n) = d(gateway_l, n) + d(n, gateway_{l+1}). The copy a token goes to is chosen when
the gateway dispatches it, from the snapshot in force then: the copy (the expert itself included)
of least d_s(gateway_l, n) + d_s(n, gateway_{l+1}) in that snapshot (ties: the expert itself, then
copy order); :func:`replica_choice` tabulates it per snapshot, and the packet engine and the
analytic model look it up at each dispatch's instant. Copies are ranked by path delay whatever
``routing.metric`` says (the metric picks each message's route; d_s is the delay of the
shortest-delay path, what a token's latency is made of). Each copy's weights count against its
satellite in the resource model (:mod:`.resources`).
"""

from __future__ import annotations

import numpy as np

from harness.network.routes import path_delays_ns
from harness.network.topology import Topology
from harness.placement.paper import space_xnet
from harness.placement.subnets import ENGINE, shared_expected_path_delays_ns
from harness.placement.types import Placement, PlacementInput


def add_replicas(inp: PlacementInput, placement: Placement, candidates: np.ndarray) -> np.ndarray:
    """[L, E, R] copies (-1 padded) of each expert among ``candidates`` ([L, N] bool), R =
    ``inp.max_replicas``: hottest expert first, round after round, the free candidate of least
    mean c(n) (ties: lower id)."""
    cost = shared_expected_path_delays_ns(inp, placement.gateways)  # [L, N], as space-xnet's
    taken = np.zeros(inp.topology.num_nodes, dtype=bool)
    taken[placement.gateways] = True
    taken[placement.experts.ravel()] = True
    copies = np.full((inp.layers, inp.experts, inp.max_replicas), -1, dtype=np.int32)
    for layer in range(inp.layers):
        pool = np.flatnonzero(candidates[layer] & ~taken)
        pool = pool[np.lexsort((pool, cost[layer, pool]))]
        hot = np.lexsort((np.arange(inp.experts), -inp.probabilities[layer]))
        order = [(r, e) for r in range(inp.max_replicas) for e in hot]
        for (r, e), sat in zip(order, pool):
            copies[layer, e, r] = sat
        taken[copies[layer][copies[layer] >= 0]] = True
    return copies


def space_xnet_replicas(inp: PlacementInput, rng: np.random.Generator) -> Placement:
    """space-xnet, plus copies of its experts on the idle satellites of each ring subnet."""
    base = space_xnet(inp, rng)
    layers = np.arange(inp.layers)[:, None]
    candidates = base.subnets[None, :] == layers
    if inp.unavailable is not None:
        candidates &= ~inp.unavailable[None, :]
    return Placement("space-xnet-replicas", base.gateways, base.experts, base.subnets,
                     replicas=add_replicas(inp, base, candidates))


def replica_choice(topology: Topology, gateways: np.ndarray, experts: np.ndarray, replicas: np.ndarray) -> np.ndarray:
    """[S, L, E] int32 which copy of expert (l, e) a token dispatched in snapshot s goes to: 0 for
    the expert itself, r for its copy r (``replicas[l, e, r - 1]``), the one of least
    d_s(gateway_l, n) + d_s(n, gateway_{l+1}) (unreachable: infinite; ties: the lower index)."""
    layers, num_experts, max_copies = replicas.shape
    sats = np.concatenate([experts[:, :, None], replicas], axis=2)  # [L, E, 1 + R]
    layer = np.arange(layers)[:, None, None]
    choice = np.zeros((topology.num_snapshots, layers, num_experts), dtype=np.int32)
    for s in range(topology.num_snapshots):
        delays = path_delays_ns(topology, gateways, snapshot=s, engine=ENGINE)  # [L, N]
        cost = delays + np.roll(delays, -1, axis=0)
        via = np.where(sats >= 0, cost[np.broadcast_to(layer, sats.shape), np.maximum(sats, 0)], np.inf)
        choice[s] = np.argmin(via, axis=2)  # the first minimum: the expert itself on a tie
    return choice
