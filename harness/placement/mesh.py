"""``mesh-tp``: a placement for a formation cluster's mesh (constellation kind ``cluster``), where a
hop is ~200 m (0.67 us) and compute, not geometry, sets a token's latency.

Why. The ring strategies cut the constellation into L subnets of 1 + E satellites each, one
component per satellite: a cluster of 81 cannot hold a 32-layer model of 8 experts that way (288
components), although one TPU-class board holds dozens of its experts. Here:

- **Gateways**: the L satellites of least mean path delay to every free satellite (the cluster's
  middle; ties: lower id), chained by a nearest-neighbour tour from the most central one, so
  consecutive layers' gateways are a hop or two apart.
- **Experts sharded over boards by memory**: every other free satellite is a board; layer l's
  experts, hottest first, go to the boards of least expected all-to-all path
  ``d(gateway_l, n) + d(n, gateway_{l+1})`` (mean shortest delay over the sampled snapshots), one
  expert of a layer per board while boards last (a token's top-k experts then never queue behind
  each other), a board taking experts of many layers until its memory is full
  (``PlacementInput.expert_capacity``: ``compute.memory_gb`` less the largest attention share, over
  one expert's weights; the resource model checks the result).
- **Tensor-parallel attention over the cluster**: each layer's attention is split by heads over
  its gateway and the m - 1 nearest free satellites that are not a gateway nor hold an expert of
  the layer before (whose outputs they receive directly), m chosen as in
  :func:`harness.placement.tensor_parallel.choose_shards` (the shard's work plus the farthest
  helper's round trip, smallest; m <= placement.max_shards, model.heads). Unlike there, a
  satellite may be a helper of several layers: a token's layers run one after another.

Deterministic: no random draw.
"""

from __future__ import annotations

import numpy as np

from harness.errors import PlacementError
from harness.placement.compact_subnets import mean_delays_ns
from harness.placement.types import Placement, PlacementInput
from harness.workload.compute import shard_compute_ns


def mesh_tp(inp: PlacementInput, rng: np.random.Generator) -> Placement:
    n = inp.topology.num_nodes
    free = np.ones(n, dtype=bool) if inp.unavailable is None else ~np.asarray(inp.unavailable)
    ids = np.flatnonzero(free)
    if len(ids) < inp.layers + 1:
        raise PlacementError(f"mesh-tp needs {inp.layers + 1} free satellites (a gateway per layer and a board) but "
                             f"{len(ids)} are free; use fewer model replicas or more satellites")
    delays = mean_delays_ns(inp, ids)  # [free, N]
    centrality = delays[:, ids].mean(axis=1)
    central = ids[np.lexsort((ids, centrality))[: inp.layers]]
    # nearest-neighbour tour over the central set, from the most central
    row = {int(s): i for i, s in enumerate(ids)}
    tour, left = [int(central[0])], set(int(s) for s in central[1:])
    while left:
        here = delays[row[tour[-1]]]
        tour.append(min(left, key=lambda s: (here[s], s)))
        left.remove(tour[-1])
    gateways = np.array(tour, dtype=np.int32)
    boards = np.setdiff1d(ids, gateways)
    to_gateway = delays[[row[int(g)] for g in gateways]]  # [L, N]
    cost = to_gateway + np.roll(to_gateway, -1, axis=0)
    capacity = np.full(n, inp.expert_capacity if inp.expert_capacity is not None else inp.layers * inp.experts)
    if capacity.max() < 1:
        raise PlacementError("mesh-tp: one expert does not fit a board's memory beside an attention shard; raise "
                             "compute.memory_gb")
    experts = np.empty((inp.layers, inp.experts), dtype=np.int32)
    for layer in range(inp.layers):
        hot = np.lexsort((np.arange(inp.experts), -inp.probabilities[layer]))
        order = boards[np.lexsort((boards, cost[layer, boards]))]
        used_here = np.zeros(n, dtype=np.int64)
        for e in hot.tolist():
            open_boards = order[capacity[order] > 0]
            if open_boards.size == 0:
                raise PlacementError(f"mesh-tp: the boards' memory is full at layer {layer}; raise compute.memory_gb "
                                     f"or add satellites")
            fewest = open_boards[used_here[open_boards] == used_here[open_boards].min()]
            board = int(fewest[0])  # the cheapest board with the fewest of this layer's experts
            experts[layer, e] = board
            used_here[board] += 1
            capacity[board] -= 1
    shards = _mesh_shards(inp, gateways, experts, delays, row, free)
    subnets = np.full(n, -1, dtype=np.int32)
    return Placement("mesh-tp", gateways, experts, subnets, shards)


def _mesh_shards(inp: PlacementInput, gateways: np.ndarray, experts: np.ndarray, delays: np.ndarray, row: dict,
                 free: np.ndarray) -> np.ndarray | None:
    if inp.gateway_ns is None:
        raise PlacementError("mesh-tp needs the gateways' compute times (PlacementInput.gateway_ns)")
    most = max(0, min(inp.max_shards, inp.heads) - 1)
    if most == 0:
        return None
    rows = []
    for layer in range(inp.layers):
        usable = free.copy()
        usable[gateways] = False
        if layer > 0:
            usable[experts[layer - 1]] = False
        pool = np.flatnonzero(usable)
        d = delays[row[int(gateways[layer])], pool]
        order = np.lexsort((pool, d))[:most]
        m_all = np.arange(1, len(order) + 2)
        work = shard_compute_ns(np.full(len(m_all), inp.gateway_ns[layer]), m_all - 1, inp.heads)
        finish = work + np.concatenate([[0.0], 2.0 * d[order]])
        m = int(m_all[int(np.argmin(finish))])
        rows.append(pool[order[: m - 1]])
    width = max(len(r) for r in rows)
    if width == 0:
        return None
    table = np.full((inp.layers, width), -1, dtype=np.int32)
    for layer, helpers in enumerate(rows):
        table[layer, : len(helpers)] = helpers
    return table
