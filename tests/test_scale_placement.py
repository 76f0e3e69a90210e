"""Issue 27's scale work on the placements: the subnet centres' delays now come from trees grown
only until their targets are settled (harness/network/routes.py path_delays_to_ns, the C++
ComputePathDelaysToTargets). They must equal the full trees' delays, and networkx's, exactly; the
placements they give are checked equal to the old code's on walker_1584 here and, byte for byte,
on walker_16000_deepseek_v3 and walker_6400_qwen3 by regress.py (bench/README.md)."""

from __future__ import annotations

from datetime import datetime, timezone

import networkx as nx
import numpy as np
import pytest

from harness.constellation.walker import walker_constellation
from harness.network.routes import path_delays_ns, path_delays_to_ns
from harness.network.topology import Topology, isl_topology, plus_grid_edges
from harness.placement import subnets as subnets_mod
from harness.placement.subnets import CENTRE_SNAPSHOTS, ring_subnets, subnet_centres

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def walker() -> Topology:
    """A 12 x 10 Walker delta over 5 snapshots, with some links down and satellite 7 cut off in
    snapshot 2 (so some delays are unreachable)."""
    c = walker_constellation(kind="walker-delta", planes=12, sats_per_plane=10, phasing=1, altitude_km=550.0,
                             inclination_deg=53.0, epoch_utc=EPOCH, snapshot_count=5, snapshot_interval_s=300.0)
    topology = isl_topology(c, plus_grid_edges(kind="walker-delta", planes=12, sats_per_plane=10, phasing=1))
    up = topology.up.copy()
    rng = np.random.default_rng(3)
    up &= rng.random(up.shape) > 0.15
    up[2, (topology.edges == 7).any(axis=1)] = False
    return Topology(num_nodes=topology.num_nodes, edges=topology.edges, times_s=topology.times_s,
                    length_m=topology.length_m, delay_ns=topology.delay_ns, up=up)


def test_delays_to_targets_equal_the_full_trees_and_networkx(walker):
    rng = np.random.default_rng(5)
    for s in range(walker.num_snapshots):
        sources = rng.choice(walker.num_nodes, size=17, replace=False)
        targets = np.concatenate([rng.choice(walker.num_nodes, size=30, replace=False), sources[:3], [7]])
        got = path_delays_to_ns(walker, sources, targets, snapshot=s)
        np.testing.assert_array_equal(got, path_delays_ns(walker, sources, snapshot=s)[:, targets])
        graph = nx.Graph()
        graph.add_nodes_from(range(walker.num_nodes))
        up = walker.up[s]
        for (a, b), d in zip(walker.edges[up].tolist(), walker.delay_ns[s, up].tolist()):
            graph.add_edge(a, b, delay=d)
        for i, src in enumerate(sources.tolist()):
            lengths = nx.single_source_dijkstra_path_length(graph, src, weight="delay")
            want = [lengths.get(t, np.inf) for t in targets.tolist()]
            np.testing.assert_array_equal(got[i], want)
    assert np.isinf(path_delays_to_ns(walker, [0], [7], snapshot=2)).all()  # cut off: unreachable


def test_delays_to_targets_reference_engine_and_edge_cases(walker):
    sources, targets = np.array([3, 50, 99]), np.array([0, 3, 119])
    np.testing.assert_array_equal(path_delays_to_ns(walker, sources, targets, 1, engine="scipy"),
                                  path_delays_to_ns(walker, sources, targets, 1))
    assert path_delays_to_ns(walker, np.array([], dtype=int), targets, 0).shape == (0, 3)
    assert path_delays_to_ns(walker, sources, np.array([], dtype=int), 0).shape == (3, 0)
    with pytest.raises(ValueError):
        path_delays_to_ns(walker, sources, np.array([120]), 0)
    with pytest.raises(IndexError):
        path_delays_to_ns(walker, sources, targets, 5)


def _centres_from_full_tables(topology: Topology, subnets: np.ndarray, layers: int) -> np.ndarray:
    """The centres as before issue 27's change: [m, N] tables of whole trees, then the same programme."""
    count = topology.num_snapshots
    picks = np.unique(np.linspace(0, count - 1, min(CENTRE_SNAPSHOTS, count)).round().astype(int))
    members = [np.flatnonzero(subnets == l).astype(np.int32) for l in range(layers)]
    full = [sum(path_delays_ns(topology, members[l], snapshot=int(s)) for s in picks) / len(picks)
            for l in range(layers)]
    score = [full[l][:, members[l]].mean(axis=1) for l in range(layers)]
    cost = np.where(np.eye(len(members[0]), dtype=bool), score[0][:, None], np.inf)
    back = []
    for l in range(1, layers):
        total = cost[:, :, None] + (full[l - 1][:, members[l]] + score[l][None, :])[None]
        back.append(np.argmin(total, axis=1))
        cost = np.min(total, axis=1)
    closing = cost + full[layers - 1][:, members[0]].T
    start = int(np.argmin(closing.min(axis=1)))
    chain = [int(np.argmin(closing[start]))]
    for l in range(layers - 1, 1, -1):
        chain.append(int(back[l - 1][start, chain[-1]]))
    chain.append(start)
    chain.reverse()
    return np.array([members[l][row] for l, row in enumerate(chain)], dtype=np.int32)


@pytest.mark.parametrize("layers", [2, 5, 9])
@pytest.mark.parametrize("block", [None, 1, 50])
def test_centres_equal_those_of_the_full_tables(walker, layers, block, monkeypatch):
    if block is not None:  # the dynamic programme a few starts at a time, as at 16,000 satellites
        monkeypatch.setattr(subnets_mod, "_PROGRAMME_BLOCK_VALUES", block)
    c = walker_constellation(kind="walker-delta", planes=12, sats_per_plane=10, phasing=1, altitude_km=550.0,
                             inclination_deg=53.0, epoch_utc=EPOCH, snapshot_count=1, snapshot_interval_s=300.0)
    subnets = ring_subnets(c.arg_latitude_rad, layers)
    np.testing.assert_array_equal(subnet_centres(walker, subnets, layers),
                                  _centres_from_full_tables(walker, subnets, layers))


def test_packet_work_in_blocks_counts_the_same_hops_and_keeps_few_trees(monkeypatch):
    """The run orders its strategies' processes by the hops of their messages at the first snapshot
    (harness/run/processes.py); counted a few destinations at a time, so that the run's process does
    not keep a tree per component, the counts (and so the order) are the same."""
    from pathlib import Path

    from harness.run import processes
    from harness.run.prepare import prepare
    from harness.run.strategy import place_replicas
    from harness.scenario import load_scenario

    sc = load_scenario(Path(__file__).resolve().parents[1] / "topologies" / "tiny.yaml")
    prep = prepare(sc)
    placements = [place_replicas(name, prep.inputs, sc.seed, 1) for name in sc.strategies]
    monkeypatch.setattr(processes, "_WORK_BLOCK_DESTINATIONS", 10**9)
    whole = processes._packet_work(prep, placements, sc)
    one_by_one = [processes._packet_work(prep, [p], sc)[0] for p in placements]
    grown = prep.paths.trees_grown
    monkeypatch.setattr(processes, "_WORK_BLOCK_DESTINATIONS", 3)
    blocks = processes._packet_work(prep, placements, sc)
    assert blocks == whole == one_by_one and min(whole) > 0 and len(whole) == len(sc.strategies)
    assert prep.paths.trees_grown > grown  # the blocks' trees were laid aside and grown again
