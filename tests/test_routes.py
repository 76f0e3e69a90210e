"""Tests for harness.network.routes against networkx's Dijkstra."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import networkx as nx
import numpy as np
import pytest

from harness.constellation.walker import SPEED_OF_LIGHT_M_S, walker_constellation
from harness.network.routes import Routes, path_delays_ns, path_nodes, shortest_delay_routes
from harness.network.topology import Topology, isl_topology, plus_grid_edges

EPOCH_UTC = datetime(2024, 3, 5, 7, 8, 9, tzinfo=timezone.utc)


def grid_topology(planes=4, sats_per_plane=5, phasing=1, snapshot_count=3) -> Topology:
    c = walker_constellation(
        kind="walker-delta", planes=planes, sats_per_plane=sats_per_plane, phasing=phasing,
        altitude_km=550.0, inclination_deg=53.0, epoch_utc=EPOCH_UTC,
        snapshot_count=snapshot_count, snapshot_interval_s=600.0)
    edges = plus_grid_edges(kind="walker-delta", planes=planes,
                            sats_per_plane=sats_per_plane, phasing=phasing)
    return isl_topology(c, edges)


def hand_topology(num_nodes, edges, delay_ns, up=None) -> Topology:
    """A one-snapshot topology with the given integer delays."""
    edges = np.asarray(edges, dtype=np.int32)
    delay_ns = np.asarray(delay_ns, dtype=np.int64)[None, :]
    return Topology(
        num_nodes=num_nodes, edges=edges, times_s=np.zeros(1),
        length_m=delay_ns * (SPEED_OF_LIGHT_M_S / 1e9), delay_ns=delay_ns,
        up=np.ones_like(delay_ns, dtype=bool) if up is None else np.asarray(up)[None, :])


def nx_graph(topology: Topology, snapshot: int) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(range(topology.num_nodes))
    up = topology.up[snapshot]
    for (a, b), delay in zip(topology.edges[up].tolist(), topology.delay_ns[snapshot, up].tolist()):
        graph.add_edge(a, b, delay=delay)
    return graph


def link_delays(topology: Topology, snapshot: int) -> dict:
    """{(a, b): delay_ns} in both directions, for the links that are up."""
    up = topology.up[snapshot]
    delays = {}
    for (a, b), delay in zip(topology.edges[up].tolist(), topology.delay_ns[snapshot, up].tolist()):
        delays[a, b] = delays[b, a] = delay
    return delays


@pytest.fixture(scope="module")
def grid():
    topology = grid_topology()
    # Node 7 loses all its links in snapshot 1 only.
    up = topology.up.copy()
    up[1, (topology.edges == 7).any(axis=1)] = False
    topology = replace(topology, up=up)
    destinations = np.arange(topology.num_nodes)[::-1].copy()  # all nodes, shuffled order
    return topology, shortest_delay_routes(topology, destinations)


def test_routes_shapes_and_dtypes(grid):
    topology, routes = grid
    shape = (topology.num_snapshots, topology.num_nodes, topology.num_nodes)
    assert isinstance(routes, Routes)
    assert routes.destinations.dtype == np.int32
    assert routes.next_hop.shape == routes.delay_ns.shape == routes.hops.shape == shape
    assert routes.next_hop.dtype == np.int32
    assert routes.delay_ns.dtype == np.int64
    assert routes.hops.dtype == np.int16


def test_delays_match_networkx_for_every_pair(grid):
    topology, routes = grid
    for snapshot in range(topology.num_snapshots):
        lengths = dict(nx.all_pairs_dijkstra_path_length(nx_graph(topology, snapshot),
                                                         weight="delay"))
        for j, dst in enumerate(routes.destinations.tolist()):
            for src in range(topology.num_nodes):
                expected = lengths[src].get(dst, -1)
                assert routes.delay_ns[snapshot, src, j] == expected, (snapshot, src, dst)


def test_next_hop_is_a_neighbour_on_a_shortest_path(grid):
    topology, routes = grid
    for snapshot in range(topology.num_snapshots):
        delays = link_delays(topology, snapshot)
        for j, dst in enumerate(routes.destinations.tolist()):
            for src in range(topology.num_nodes):
                nxt = int(routes.next_hop[snapshot, src, j])
                if src == dst or nxt < 0:
                    continue
                assert (src, nxt) in delays
                assert routes.delay_ns[snapshot, src, j] == \
                    delays[src, nxt] + routes.delay_ns[snapshot, nxt, j]
                assert routes.hops[snapshot, src, j] == routes.hops[snapshot, nxt, j] + 1


def test_following_next_hops_reaches_destination_in_hops_steps(grid):
    topology, routes = grid
    for snapshot in range(topology.num_snapshots):
        delays = link_delays(topology, snapshot)
        for j, dst in enumerate(routes.destinations.tolist()):
            for src in range(topology.num_nodes):
                path = path_nodes(routes, snapshot, src, dst)
                if routes.delay_ns[snapshot, src, j] < 0:
                    assert path == []
                    continue
                assert path[0] == src and path[-1] == dst
                assert len(path) - 1 == routes.hops[snapshot, src, j]
                assert sum(delays[a, b] for a, b in zip(path, path[1:])) \
                    == routes.delay_ns[snapshot, src, j]


def test_destination_is_its_own_next_hop(grid):
    topology, routes = grid
    columns = np.arange(routes.destinations.size)
    for snapshot in range(topology.num_snapshots):
        np.testing.assert_array_equal(
            routes.next_hop[snapshot, routes.destinations, columns], routes.destinations)
        assert np.all(routes.delay_ns[snapshot, routes.destinations, columns] == 0)
        assert np.all(routes.hops[snapshot, routes.destinations, columns] == 0)


def test_cut_off_node_is_unreachable_only_while_cut_off(grid):
    topology, routes = grid
    node = 7
    column = int(np.flatnonzero(routes.destinations == node)[0])
    others = np.flatnonzero(routes.destinations != node)
    for table in (routes.next_hop, routes.delay_ns, routes.hops):
        # Snapshot 1: nothing leaves node 7 and nothing reaches it ...
        assert np.all(table[1, node, others] == -1)
        assert np.all(np.delete(table[1, :, column], node) == -1)
        # ... but it is still its own destination, and all is well at snapshot 0.
        assert np.all(table[0] >= 0)
    assert routes.next_hop[1, node, column] == node
    assert np.all(np.delete(routes.next_hop[1], node, axis=0)[:, others] >= 0)
    assert path_nodes(routes, 1, node, 0) == []
    assert path_nodes(routes, 1, 0, node) == []


def test_zero_delay_link_is_used():
    # Satellites can coincide (e.g. where polar planes cross), giving a 0 ns
    # link; it must not be mistaken for a missing link.
    topology = hand_topology(3, [[0, 1], [0, 2], [1, 2]], [0, 6, 5])
    routes = shortest_delay_routes(topology, np.array([1, 2]))
    assert routes.delay_ns[0, 0].tolist() == [0, 5]
    assert routes.next_hop[0, 0].tolist() == [1, 1]
    assert routes.hops[0, 0].tolist() == [1, 2]
    np.testing.assert_array_equal(path_delays_ns(topology, np.array([0]), snapshot=0),
                                  [[0.0, 0.0, 5.0]])


def test_equal_delay_tie_goes_to_fewer_hops():
    # 0 -> 3 costs 20 ns either directly or via 1 and 2.
    topology = hand_topology(4, [[0, 1], [0, 3], [1, 2], [2, 3]], [5, 20, 10, 5])
    routes = shortest_delay_routes(topology, np.array([3]))
    assert routes.delay_ns[0, 0, 0] == 20
    assert routes.hops[0, 0, 0] == 1
    assert routes.next_hop[0, 0, 0] == 3


def test_full_shell_matches_networkx():
    """Full 72x22 shell against networkx for a few destinations."""
    topology = grid_topology(planes=72, sats_per_plane=22, phasing=39, snapshot_count=2)
    destinations = np.array([0, 100, 797, 1583])
    routes = shortest_delay_routes(topology, destinations)
    for snapshot in range(topology.num_snapshots):
        graph = nx_graph(topology, snapshot)
        for j, dst in enumerate(destinations.tolist()):
            lengths = nx.single_source_dijkstra_path_length(graph, dst, weight="delay")
            np.testing.assert_array_equal(
                routes.delay_ns[snapshot, :, j], [lengths[n] for n in range(1584)])
            for src in (1, 555, 1500):
                path = path_nodes(routes, snapshot, src, dst)
                assert len(path) - 1 == routes.hops[snapshot, src, j]
                assert nx.path_weight(graph, path, weight="delay") == lengths[src]


def test_path_delays_match_networkx_and_routes(grid):
    topology, routes = grid
    sources = np.array([0, 7, 19])
    delays = path_delays_ns(topology, sources)
    assert delays.shape == (topology.num_snapshots, 3, topology.num_nodes)
    assert delays.dtype == np.float64
    for snapshot in range(topology.num_snapshots):
        graph = nx_graph(topology, snapshot)
        for k, src in enumerate(sources.tolist()):
            lengths = nx.single_source_dijkstra_path_length(graph, src, weight="delay")
            expected = [lengths.get(n, np.inf) for n in range(topology.num_nodes)]
            np.testing.assert_array_equal(delays[snapshot, k], expected)
        np.testing.assert_array_equal(
            path_delays_ns(topology, sources, snapshot=snapshot), delays[snapshot])
    # Undirected: delay from a source equals the routed delay toward it.
    column = {int(d): j for j, d in enumerate(routes.destinations)}
    for k, src in enumerate(sources.tolist()):
        routed = routes.delay_ns[:, :, column[src]].astype(float)
        np.testing.assert_array_equal(np.where(routed < 0, np.inf, routed), delays[:, k])


def test_no_destinations_gives_empty_tables(grid):
    topology, _ = grid
    routes = shortest_delay_routes(topology, np.array([], dtype=np.int32))
    assert routes.next_hop.shape == (topology.num_snapshots, topology.num_nodes, 0)


@pytest.mark.parametrize(
    ("destinations", "message"),
    [(np.array([0, 20]), r"\[0, 19\]"), (np.array([-1]), r"\[0, 19\]"),
     (np.array([[0, 1]]), "1-D"), (np.array([0.0, 1.0]), "integer")])
def test_invalid_destinations_raise(grid, destinations, message):
    topology, _ = grid
    with pytest.raises(ValueError, match=message):
        shortest_delay_routes(topology, destinations)
    with pytest.raises(ValueError, match=message):
        path_delays_ns(topology, destinations)


def test_path_nodes_requires_a_routed_destination(grid):
    topology, _ = grid
    routes = shortest_delay_routes(topology, np.array([3]))
    assert path_nodes(routes, 0, 3, 3) == [3]
    with pytest.raises(ValueError, match="not one of the routed destinations"):
        path_nodes(routes, 0, 3, 4)


def test_path_nodes_detects_a_corrupt_table():
    topology = hand_topology(3, [[0, 1], [1, 2]], [1, 1])
    routes = shortest_delay_routes(topology, np.array([2]))
    looping = routes.next_hop.copy()
    looping[0, 0, 0], looping[0, 1, 0] = 1, 0
    with pytest.raises(RuntimeError, match="does not lead"):
        path_nodes(replace(routes, next_hop=looping), 0, 0, 2)


def test_native_engine_agrees_with_scipy_on_delays_hops_and_gives_valid_next_hops():
    """The C++ engine against scipy's csgraph on a real constellation with outages."""
    from datetime import datetime, timezone

    from harness.constellation.walker import walker_constellation
    from harness.network.topology import Topology, isl_topology, plus_grid_edges

    constellation = walker_constellation(
        kind="walker-delta", planes=12, sats_per_plane=10, phasing=5, altitude_km=550.0,
        inclination_deg=53.0, epoch_utc=datetime(2026, 1, 1, tzinfo=timezone.utc),
        snapshot_count=4, snapshot_interval_s=30.0)
    edges = plus_grid_edges(kind="walker-delta", planes=12, sats_per_plane=10, phasing=5)
    full = isl_topology(constellation, edges)
    survived = np.random.default_rng(3).random(full.up.shape) < 0.8  # some nodes get cut off
    topology = Topology(num_nodes=full.num_nodes, edges=full.edges, times_s=full.times_s,
                        length_m=full.length_m, delay_ns=full.delay_ns, up=full.up & survived)
    destinations = np.arange(0, 120, 7, dtype=np.int32)
    native = shortest_delay_routes(topology, destinations, engine="native")
    reference = shortest_delay_routes(topology, destinations, engine="scipy")
    np.testing.assert_array_equal(native.delay_ns, reference.delay_ns)
    np.testing.assert_array_equal(native.hops, reference.hops)
    np.testing.assert_array_equal(native.next_hop < 0, reference.next_hop < 0)
    assert (native.delay_ns < 0).any(), "the outages should cut some node off"
    # Every next hop is a live neighbour on a shortest path: delay(n) = link + delay(next).
    for s in range(topology.num_snapshots):
        link_delay = {}
        for (a, b), d, up in zip(topology.edges, topology.delay_ns[s], topology.up[s]):
            if up:
                link_delay[(a, b)] = link_delay[(b, a)] = d
        for j, dest in enumerate(destinations):
            for n in range(topology.num_nodes):
                nxt = native.next_hop[s, n, j]
                if nxt < 0 or n == dest:
                    continue
                assert native.delay_ns[s, n, j] == link_delay[(n, nxt)] + native.delay_ns[s, nxt, j]
                assert native.hops[s, n, j] == 1 + native.hops[s, nxt, j]


def test_path_delays_engines_agree():
    from datetime import datetime, timezone

    from harness.constellation.walker import walker_constellation
    from harness.network.topology import isl_topology, plus_grid_edges

    constellation = walker_constellation(
        kind="walker-star", planes=6, sats_per_plane=8, phasing=1, altitude_km=550.0,
        inclination_deg=87.0, epoch_utc=datetime(2026, 1, 1, tzinfo=timezone.utc),
        snapshot_count=3, snapshot_interval_s=60.0)
    topology = isl_topology(constellation, plus_grid_edges(kind="walker-star", planes=6, sats_per_plane=8,
                                                           phasing=1))
    sources = np.array([0, 5, 17, 40])
    np.testing.assert_array_equal(path_delays_ns(topology, sources, engine="native"),
                                  path_delays_ns(topology, sources, engine="scipy"))
    with pytest.raises(ValueError, match="unknown routing engine"):
        path_delays_ns(topology, sources, engine="fast")


def test_a_cut_off_destination_is_reported_with_when():
    # A 4-node ring; node 3 loses both its links in snapshot 1 only.
    edges = np.array([[0, 1], [1, 2], [2, 3], [0, 3]], dtype=np.int32)
    delays = np.full((3, 4), 1000, dtype=np.int64)
    up = np.ones((3, 4), dtype=bool)
    up[1, [2, 3]] = False
    topology = Topology(num_nodes=4, edges=edges, times_s=np.array([0.0, 1.0, 2.0]),
                        length_m=delays * 0.3, delay_ns=delays, up=up)
    from harness.network.routes import unreachable_pairs

    routes = shortest_delay_routes(topology, np.array([0, 3]))
    cut = unreachable_pairs(routes, np.array([[0, 3], [3, 0], [1, 0]]))
    assert cut.tolist() == [[1, 0, 3], [1, 3, 0]]
    with pytest.raises(ValueError, match="not one of the routed destinations"):
        unreachable_pairs(routes, np.array([[0, 2]]))
