"""Mesh ISLs of formation clusters (``constellation.kind: cluster``, harness/constellation/cluster.py).

Inside a cluster every pair of satellites no farther apart than ``links.max_length_km`` is a
candidate. Each satellite carries ``links.terminals`` optical terminals; which candidates get one
is the **shortest-first greedy rule**: candidates are taken in order of their design length (the
Clohessy-Wiltshire separation at the epoch, to the mm; ties by the lower then the higher
satellite id), and a pair is linked when both of its satellites still have a free terminal. The
rule is symmetric (a link is a pair, not a choice of one end), gives every satellite at most
``terminals`` links, and links a satellite to its nearest neighbours first: in a hexagonal lattice
with 6 terminals every inner satellite gets its 6 neighbours. The links are fixed for the run
(terminals keep their partners: in a GCO formation the separations do not change to first order).

Between clusters: each consecutive pair of clusters (c, c+1), and the last and the first when
there are 3 or more spread evenly round the orbit (``cluster_separation_km`` null), is joined by
``links.long_range_links`` long-range ISLs, each on a dedicated terminal: the k-th satellite of
cluster c furthest ahead along-track to the k-th furthest behind of cluster c+1 (ties by id).

At every snapshot a mesh link is down when it is longer than ``links.max_length_km`` (a long-range
one, ``links.long_range_max_km``), besides the usual line-of-sight and outage rules
(:func:`harness.network.topology.isl_topology`).
"""

from __future__ import annotations

import numpy as np

from harness.constellation.cluster import ClusterDesign, greedy_mesh  # greedy_mesh: also the scenario's rules
from harness.constellation.walker import Constellation
from harness.network.topology import Topology, isl_topology

__all__ = ["cluster_edges", "greedy_mesh", "mesh_topology"]


def cluster_edges(design: ClusterDesign, *, max_length_m: float, terminals: int, long_range_links: int,
                  long_range_max_m: float) -> tuple[np.ndarray, np.ndarray]:
    """([L, 2] int32 links sorted, [L] bool: which are long-range)."""
    per, clusters = design.per_cluster, design.clusters
    local = greedy_mesh(design.hill_epoch_m[:per], max_length_m, terminals)
    edges = [local + c * per for c in range(clusters)]
    along = design.hill_epoch_m[:per, 1]
    ids = np.arange(per)
    ahead = np.lexsort((ids, -along))[:long_range_links]   # furthest ahead first
    behind = np.lexsort((ids, along))[:long_range_links]   # furthest behind first
    long_pairs = []
    pairs = [(c, c + 1) for c in range(clusters - 1)]
    if clusters >= 3:  # evenly spread: the ring closes (the scenario's rules checked its line of sight)
        u = design.cluster_arg_latitude_rad
        gap = 2 * np.pi - (u[-1] - u[0])
        chord = 2 * design.semi_major_axis_m * np.sin(gap / 2)
        if abs(gap - (u[1] - u[0])) < 1e-9 and chord <= long_range_max_m:
            pairs.append((clusters - 1, 0))
    for c, d in pairs:
        long_pairs.append(np.column_stack([ahead + c * per, behind + d * per]))
    all_edges = np.concatenate(edges + long_pairs) if long_pairs else np.concatenate(edges)
    is_long = np.concatenate([np.zeros(sum(len(e) for e in edges), bool), np.ones(len(all_edges) - sum(len(e) for e in edges), bool)])
    all_edges = np.sort(all_edges, axis=1).astype(np.int32)
    order = np.lexsort((all_edges[:, 1], all_edges[:, 0]))
    return all_edges[order], is_long[order]


def mesh_topology(constellation: Constellation, design: ClusterDesign, *, max_length_m: float, terminals: int,
                  long_range_links: int, long_range_max_m: float, grazing_altitude_km: float | None = None,
                  max_angular_rate_rad_s: float | None = None, survival_probability: float = 1.0,
                  rng: np.random.Generator | None = None) -> Topology:
    """The clusters' mesh (and long-range) ISLs over the snapshots: :func:`isl_topology` of
    :func:`cluster_edges`, each link down at a snapshot where it is longer than its limit."""
    edges, is_long = cluster_edges(design, max_length_m=max_length_m, terminals=terminals,
                                   long_range_links=long_range_links, long_range_max_m=long_range_max_m)
    base = isl_topology(constellation, edges, grazing_altitude_km=grazing_altitude_km,
                        max_angular_rate_rad_s=max_angular_rate_rad_s, survival_probability=survival_probability,
                        rng=rng)
    limit = np.where(is_long, long_range_max_m, max_length_m)[None, :]
    short_enough = base.length_m <= limit
    return Topology(num_nodes=base.num_nodes, edges=base.edges, times_s=base.times_s, length_m=base.length_m,
                    delay_ns=base.delay_ns, up=base.up & short_enough, feasible=base.feasible & short_enough)
