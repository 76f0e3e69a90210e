"""The on-demand routes (harness.network.routes.PathQuery and the ForwardingTable's lazy trees in C++)
against the dense engines: the same delays, hop counts and, tie for tie, the same next hops."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from harness.constellation.walker import walker_constellation
from harness.cxx.runtime import load
from harness.network.routes import PathQuery, shortest_delay_routes, unreachable_pairs
from harness.network.topology import Topology, isl_topology, plus_grid_edges
from networks import analytic_run, packet_run


def constellation_with_outages(survival: float = 0.8, seed: int = 3) -> Topology:
    constellation = walker_constellation(
        kind="walker-delta", planes=12, sats_per_plane=10, phasing=5, altitude_km=550.0,
        inclination_deg=53.0, epoch_utc=datetime(2026, 1, 1, tzinfo=timezone.utc),
        snapshot_count=4, snapshot_interval_s=30.0)
    full = isl_topology(constellation, plus_grid_edges(kind="walker-delta", planes=12, sats_per_plane=10,
                                                       phasing=5))
    survived = np.random.default_rng(seed).random(full.up.shape) < survival
    return Topology(num_nodes=full.num_nodes, edges=full.edges, times_s=full.times_s,
                    length_m=full.length_m, delay_ns=full.delay_ns, up=full.up & survived)


def lattice_of_ties(rows: int = 6, cols: int = 7, snapshots: int = 2) -> Topology:
    """A torus whose links all have the same delay: most node pairs have many equal shortest
    paths, so only an identical tie order gives identical next hops. Snapshot 1 drops a few links."""
    node = lambda r, c: (r % rows) * cols + (c % cols)  # noqa: E731
    edges = np.array([[node(r, c), node(r, c + 1)] for r in range(rows) for c in range(cols)]
                     + [[node(r, c), node(r + 1, c)] for r in range(rows) for c in range(cols)], dtype=np.int32)
    delays = np.full((snapshots, len(edges)), 1_000_000, dtype=np.int64)
    up = np.ones_like(delays, dtype=bool)
    up[1, ::5] = False
    return Topology(num_nodes=rows * cols, edges=edges, times_s=np.arange(snapshots, dtype=float),
                    length_m=delays * 0.3, delay_ns=delays, up=up)


@pytest.mark.parametrize("make", [constellation_with_outages, lattice_of_ties])
def test_lookup_equals_the_dense_tables_of_both_engines(make):
    topology = make()
    everyone = np.arange(topology.num_nodes, dtype=np.int32)
    native = shortest_delay_routes(topology, everyone, engine="native")
    scipy = shortest_delay_routes(topology, everyone, engine="scipy")
    np.testing.assert_array_equal(native.delay_ns, scipy.delay_ns)
    np.testing.assert_array_equal(native.hops, scipy.hops)
    paths = PathQuery(topology)
    s, n, d = np.meshgrid(np.arange(topology.num_snapshots), everyone, everyone, indexing="ij")
    # Asked in a scrambled order: a tree's answers must not depend on how far it had grown.
    order = np.random.default_rng(0).permutation(s.size)
    delay, hops = paths.lookup(s.ravel()[order], n.ravel()[order], d.ravel()[order])
    np.testing.assert_array_equal(delay, native.delay_ns.ravel()[order])
    np.testing.assert_array_equal(hops, native.hops.ravel()[order].astype(np.int64))
    assert (delay < 0).any() == (native.delay_ns < 0).any()
    assert paths.trees_grown == topology.num_snapshots * topology.num_nodes  # one per (step, dest)


@pytest.mark.parametrize("make", [constellation_with_outages, lattice_of_ties])
def test_forwarding_table_next_hops_equal_the_native_engine_tie_for_tie(make):
    """What the packet simulation follows, hop by hop: the ForwardingTable's lazily grown trees."""
    topology = make()
    everyone = np.arange(topology.num_nodes, dtype=np.int32)
    native = shortest_delay_routes(topology, everyone, engine="native")
    ns3 = load()
    paths = PathQuery(topology)
    table = ns3.CreateObject[ns3.ForwardingTable]()
    table.UseShortestPaths(paths.native)
    rng = np.random.default_rng(1)
    for step in range(topology.num_snapshots):
        table.SetStep(step)
        got = np.full((topology.num_nodes, topology.num_nodes), -2, dtype=np.int32)
        for node, dest in rng.permutation([(a, b) for a in everyone for b in everyone]):
            got[node, dest] = table.GetNextHop(int(node), int(dest))
        np.testing.assert_array_equal(got, native.next_hop[step])
    # Switching back to a step regrows its trees from scratch, to the same answers.
    table.SetStep(0)
    assert [table.GetNextHop(int(n), 5) for n in everyone] == native.next_hop[0, :, 5].tolist()
    assert table.GetTreesGrown() == (topology.num_snapshots + 1) * topology.num_nodes - topology.num_nodes + 1


def test_partial_trees_settle_only_what_the_queries_reach():
    """A query between neighbours settles a handful of nodes, not the whole constellation."""
    topology = constellation_with_outages(survival=1.0)
    a, b = topology.edges[0]
    paths = PathQuery(topology)
    delay, hops = paths.lookup(np.array([0]), np.array([a]), np.array([b]))
    assert hops[0] == 1 and delay[0] == topology.delay_ns[0, 0]
    assert paths.nodes_settled < topology.num_nodes // 4


def test_unreachable_pairs_from_components_equal_the_dense_tables():
    topology = constellation_with_outages(survival=0.6, seed=7)
    pairs = np.random.default_rng(2).integers(0, topology.num_nodes, size=(300, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    dense = shortest_delay_routes(topology, np.unique(pairs[:, 1]))
    expected = unreachable_pairs(dense, pairs)
    assert len(expected) > 0, "survival 0.6 should cut some pairs"
    np.testing.assert_array_equal(unreachable_pairs(PathQuery(topology), pairs), expected)


def test_lookup_rejects_out_of_range_ids():
    paths = PathQuery(lattice_of_ties())
    with pytest.raises(ValueError, match="destination out of range"):
        paths.lookup(np.array([0]), np.array([0]), np.array([42]))
    with pytest.raises(ValueError, match="snapshot out of range"):
        paths.lookup(np.array([2]), np.array([0]), np.array([1]))


def _scenario(name: str, **overrides):
    from dataclasses import replace

    from harness.scenario import load_scenario

    scenario = load_scenario(f"topologies/{name}.yaml")
    return replace(scenario, **overrides)


@pytest.mark.parametrize("name, snapshots, strategies", [
    ("tiny", None, None),
    # The paper's setup, cut to the 40 s its 32 tokens need so the dense tables stay small; the
    # random placements have the longest paths, the most relays and the most cut-off pairs.
    ("polar_1056", 40, ("space-xnet", "rand-place")),
])
def test_on_demand_routes_give_the_dense_tables_traces(name, snapshots, strategies):
    """ns-3 and the analytic model record the same times, to the ns, whichever form the routes take."""
    from dataclasses import replace

    from harness import pipeline
    from harness.seeding import rng_for
    from harness.placement import place

    scenario = _scenario(name)
    if snapshots is not None:
        scenario = replace(scenario, snapshots=replace(scenario.snapshots, count=snapshots))
    prep = pipeline.prepare(scenario)
    for strategy in strategies or scenario.strategies:
        placement = place(strategy, prep.inputs, rng_for(scenario.seed, f"placement:{strategy}"))
        dense = shortest_delay_routes(prep.topology, np.sort(placement.components))
        np.testing.assert_array_equal(unreachable_pairs(prep.paths, placement.message_pairs()),
                                      unreachable_pairs(dense, placement.message_pairs()))
        common = dict(topology=prep.topology, links=scenario.links, gateways=placement.gateways,
                      experts=placement.experts, activations=prep.trace.experts, compute=prep.compute,
                      request_starts_ns=prep.request_starts_ns, message_bytes=scenario.model.hidden_bytes)
        lazy_model, dense_model = (analytic_run(**common, routes=r) for r in (prep.paths, dense))
        for field in ("token_start_ns", "token_end_ns", "combine_ns", "propagation_ns", "serialization_ns"):
            np.testing.assert_array_equal(getattr(lazy_model, field), getattr(dense_model, field))
        lazy, by_table = (packet_run(**common, routes=r, seed=scenario.seed, stop_ns=prep.stop_ns)
                          for r in (prep.paths, dense))
        assert (lazy.token_end_ns >= 0).all(), f"{strategy}: every token should complete"
        for field in ("token_start_ns", "token_end_ns", "combine_ns"):
            np.testing.assert_array_equal(getattr(lazy, field), getattr(by_table, field))
        assert (lazy.packets_sent, lazy.packet_hops, lazy.packets_dropped_no_route) == \
            (by_table.packets_sent, by_table.packet_hops, by_table.packets_dropped_no_route)
        assert 0 < lazy.routing_nodes_settled and by_table.routing_nodes_settled == 0


@pytest.mark.parametrize("make", [constellation_with_outages, lattice_of_ties])
def test_trees_from_the_sources_give_the_same_answers(make):
    topology = make()
    paths = PathQuery(topology)
    rng = np.random.default_rng(4)
    s = rng.integers(0, topology.num_snapshots, 2000)
    a, b = rng.integers(0, topology.num_nodes, (2, 2000))
    by_destination = paths.lookup(s, a, b)
    by_source = paths.lookup(s, a, b, root_at_source=True)
    np.testing.assert_array_equal(by_destination[0], by_source[0])
    np.testing.assert_array_equal(by_destination[1], by_source[1])


@pytest.mark.parametrize("make", [constellation_with_outages, lattice_of_ties])
def test_paths_follow_the_native_engine_next_hops_node_by_node(make):
    # The analytic model's link queueing follows the nodes ns-3's routing visits: PathQuery.paths
    # (the lazy trees, in C++) equals a walk of the dense native tables (Routes.paths), tie for tie,
    # every consecutive pair is a link up in that snapshot, and the length is the routed hop count.
    topology = make()
    everyone = np.arange(topology.num_nodes, dtype=np.int32)
    native = shortest_delay_routes(topology, everyone, engine="native")
    rng = np.random.default_rng(1)
    s = rng.integers(0, topology.num_snapshots, 400)
    a, b = rng.integers(0, topology.num_nodes, 400), rng.integers(0, topology.num_nodes, 400)
    _, hops = native.lookup(s, a, b)
    width = int(hops.max()) + 1
    lazy = PathQuery(topology).paths(s, a, b, width)
    np.testing.assert_array_equal(lazy, native.paths(s, a, b, width))
    up = {(int(t), int(u), int(v)) for t in range(topology.num_snapshots)
          for (u, v), on in zip(topology.edges, topology.up[t]) if on}
    for t, row, h in zip(s, lazy, hops):
        if h < 0:
            assert (row == -1).all()
            continue
        nodes = row[row >= 0]
        assert len(nodes) == h + 1
        assert all((t, u, v) in up or (t, v, u) in up for u, v in zip(nodes[:-1], nodes[1:]))
