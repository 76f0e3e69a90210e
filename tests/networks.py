"""Hand-built networks for the packet-engine and analytic-model tests: a Topology from an edge
list and per-snapshot delays, and Routes from explicit next hops (with the delay and hop count of
every entry found by following them)."""

from __future__ import annotations

import numpy as np

from harness.routes import Routes
from harness.topology import Topology

SPEED_OF_LIGHT_M_S = 299_792_458.0


def topology(num_nodes: int, edges: list[tuple[int, int]], delays_ns: list[list[int]],
             interval_s: float = 1.0) -> Topology:
    delays = np.array(delays_ns, dtype=np.int64)
    return Topology(num_nodes=num_nodes, edges=np.array(edges, dtype=np.int32),
                    times_s=np.arange(len(delays)) * interval_s,
                    length_m=delays * SPEED_OF_LIGHT_M_S / 1e9, delay_ns=delays,
                    up=np.ones(delays.shape, dtype=bool))


def routes(topo: Topology, destinations: list[int], next_hops: list[dict[tuple[int, int], int]]) -> Routes:
    """Tables from {(node, destination): next node} per step, with the path delay and hop count of
    every entry found by following the next hops over the step's link delays."""
    steps, n = topo.num_snapshots, topo.num_nodes
    table = np.full((steps, n, len(destinations)), -1, dtype=np.int32)
    delay = np.full(table.shape, -1, dtype=np.int64)
    hops = np.full(table.shape, -1, dtype=np.int16)
    for s, entries in enumerate(next_hops):
        link = {}
        for (a, b), d in zip(topo.edges.tolist(), topo.delay_ns[s].tolist()):
            link[a, b] = link[b, a] = d
        for c, dest in enumerate(destinations):
            table[s, dest, c] = dest
            delay[s, dest, c] = hops[s, dest, c] = 0
        for (node, dest), nxt in entries.items():
            table[s, node, destinations.index(dest)] = nxt
        for c, dest in enumerate(destinations):
            for node in range(n):
                walk, total, count = node, 0, 0
                while walk != dest and table[s, walk, c] >= 0:
                    total += link[walk, int(table[s, walk, c])]
                    walk, count = int(table[s, walk, c]), count + 1
                if walk == dest:
                    delay[s, node, c], hops[s, node, c] = total, count
    return Routes(destinations=np.array(destinations, dtype=np.int32), next_hop=table, delay_ns=delay, hops=hops)
