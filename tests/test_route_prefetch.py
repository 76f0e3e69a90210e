"""Issue 23: the packet engine's on-demand routes grown one step ahead on a worker thread.

ns3::ForwardingTable's ``PrefetchRoutes`` attribute (off by default: docs/performance.md) lets LazyShortestPaths grow the next topology step's trees, toward the
destinations the step before used, while the simulation runs the current step; the step switch
hands them over however far they got. A tree's answers do not depend on how far it grew, nor on
the thread that grew it, so the next hops, the counters of the routing work (trees grown, nodes
the queries needed settled) and every trace must equal those without the prefetch. The defaults'
traces are unchanged: ``python /work/shared/tools/regress.py check /work/baseline`` reported every
token row of tiny, polar_1056, walker_1584, serving_cities_walker_1584 and polar_1056_faults
identical, byte for byte, with the prefetch on (it was the default then) and with it off.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from harness.constellation.walker import walker_constellation
from harness.cxx.runtime import load
from harness.network.routes import PathQuery, shortest_delay_routes
from harness.network.topology import Topology, isl_topology, plus_grid_edges
from harness.run.pipeline import run_scenario
from harness.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]


def _walker_with_outages(snapshots: int = 12, survival: float = 0.85) -> Topology:
    constellation = walker_constellation(
        kind="walker-delta", planes=12, sats_per_plane=10, phasing=5, altitude_km=550.0,
        inclination_deg=53.0, epoch_utc=datetime(2026, 1, 1, tzinfo=timezone.utc),
        snapshot_count=snapshots, snapshot_interval_s=30.0)
    full = isl_topology(constellation, plus_grid_edges(kind="walker-delta", planes=12, sats_per_plane=10,
                                                       phasing=5))
    survived = np.random.default_rng(5).random(full.up.shape) < survival
    return Topology(num_nodes=full.num_nodes, edges=full.edges, times_s=full.times_s,
                    length_m=full.length_m, delay_ns=full.delay_ns, up=full.up & survived)


def _walk(topology: Topology, prefetch: bool, native) -> tuple[tuple[int, int], int]:
    """Steps 0..S-1 in order, as the topology updater switches them, with the same queries per step
    (a fixed set of destinations, some used only in some steps, from random nodes); every answer
    checked against the native engine's next-hop tables."""
    import cppyy

    ns3 = load()
    cppyy.include("ns3/boolean.h")
    table = ns3.CreateObject[ns3.ForwardingTable]()
    table.SetAttribute("PrefetchRoutes", ns3.BooleanValue(prefetch))
    assert bool(table.GetPrefetchRoutes()) == prefetch
    table.UseShortestPaths(PathQuery(topology).native)
    rng = np.random.default_rng(11)
    dests = rng.choice(topology.num_nodes, 24, replace=False)
    for step in range(topology.num_snapshots):
        table.WaitPrefetch()  # the worker's trees grown to their targets, however loaded the machine
        table.SetStep(step)
        used = dests[rng.random(len(dests)) < 0.8]  # a destination is sometimes idle for a step
        for dest in used.tolist():
            for node in rng.integers(0, topology.num_nodes, 6).tolist():
                assert table.GetNextHop(node, dest) == native.next_hop[step, node, dest], (step, node, dest)
    return (int(table.GetTreesGrown()), int(table.GetNodesSettled())), int(table.GetTreesPrefetched())


def test_prefetched_trees_give_the_same_next_hops_and_counters():
    topology = _walker_with_outages()
    native = shortest_delay_routes(topology, np.arange(topology.num_nodes, dtype=np.int32), engine="native")
    (on, prefetched), (off, none) = _walk(topology, True, native), _walk(topology, False, native)
    assert on == off
    trees, settled = off
    # The worker's trees were used (a destination used in step s - 1 and again in s + 1 gets one).
    assert none == 0 and 0 < prefetched < trees
    # Some trees, each partly grown: the counters measure what the queries needed, not the whole graph.
    assert 0 < trees and 0 < settled < trees * topology.num_nodes


def test_prefetch_leaves_every_token_and_counter_of_polar_1056_unchanged():
    """Two strategies of polar_1056 (200 steps), in both forwarding modes, with and without the
    prefetch: every token's latency and every packet counter equal."""
    import cppyy

    ns3 = load()
    cppyy.include("ns3/config.h")
    cppyy.include("ns3/boolean.h")
    default = bool(ns3.CreateObject[ns3.ForwardingTable]().GetPrefetchRoutes())
    scenario = load_scenario(REPO / "topologies" / "polar_1056.yaml")
    scenario = dataclasses.replace(scenario, strategies=("space-xnet", "rand-place"))
    for forwarding in ("ip", "link"):
        run = dataclasses.replace(scenario, links=dataclasses.replace(scenario.links, forwarding=forwarding))
        results = {}
        for prefetch in (True, False):
            ns3.Config.SetDefault("ns3::ForwardingTable::PrefetchRoutes", ns3.BooleanValue(prefetch))
            try:
                results[prefetch] = run_scenario(run, jobs=1)
            finally:
                ns3.Config.SetDefault("ns3::ForwardingTable::PrefetchRoutes", ns3.BooleanValue(default))
        for a, b in zip(results[True].traces, results[False].traces):
            assert a.strategy == b.strategy
            assert (a.latency_ns > 0).all(), f"{a.strategy}: every token should complete"
            np.testing.assert_array_equal(a.latency_ns, b.latency_ns)
            assert a.counters == b.counters, (forwarding, a.strategy)
