"""Placement strategies (harness/placement/): optimality, definitions, ring subnets, plan files.

Distances here are computed independently with networkx's Dijkstra, not with harness.network.routes.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from harness import pipeline
from harness.seeding import rng_for
from harness.constellation.walker import walker_constellation
from harness.errors import PlacementError
from harness.placement import (CENTRE_SNAPSHOTS, STRATEGIES, Placement, PlacementInput, expected_latency_objective,
                               expected_path_delays_ns, load_plan, place, ring_subnets, save_plan, subnet_centres)
from harness.network.routes import path_delays_ns
from harness.scenario import load_scenario
from harness.network.topology import Topology, isl_topology, plus_grid_edges

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "topologies" / "tiny.yaml"
EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


def all_pairs_delays(topology: Topology) -> np.ndarray:
    """[S, N, N] shortest delay (ns, float, inf if unreachable) by networkx, per snapshot."""
    n = topology.num_nodes
    out = np.full((topology.num_snapshots, n, n), np.inf)
    for s in range(topology.num_snapshots):
        graph = nx.Graph()
        graph.add_nodes_from(range(n))
        up = topology.up[s]
        for (a, b), d in zip(topology.edges[up].tolist(), topology.delay_ns[s, up].tolist()):
            graph.add_edge(a, b, delay=d)
        for src, lengths in nx.all_pairs_dijkstra_path_length(graph, weight="delay"):
            for dst, d in lengths.items():
                out[s, src, dst] = d
    return out


# ---------------------------------------------------------------------------------------------
# A hand-checkable case: 16 satellites (4 planes x 4), 2 layers x 3 experts, subnets of 8


@pytest.fixture(scope="module")
def small():
    constellation = walker_constellation(kind="walker-delta", planes=4, sats_per_plane=4, phasing=1,
                                         altitude_km=550.0, inclination_deg=53.0, epoch_utc=EPOCH,
                                         snapshot_count=6, snapshot_interval_s=300.0)
    edges = plus_grid_edges(kind="walker-delta", planes=4, sats_per_plane=4, phasing=1)
    topology = isl_topology(constellation, edges)  # no line-of-sight rule: 4 per plane would cut the Earth
    probabilities = np.array([[1.2, 0.5, 0.3], [0.2, 0.9, 0.9]])  # rows sum to k = 2; a tie in layer 1
    inp = PlacementInput(topology=topology, arg_latitude_rad=constellation.arg_latitude_rad,
                         probabilities=probabilities, layers=2, experts=3)
    delays = all_pairs_delays(topology)
    assert np.isfinite(delays).all()  # connected in every snapshot
    return inp, delays


def test_expected_path_delays_match_independent_shortest_paths(small):
    inp, delays = small
    gateways = np.array([3, 9], dtype=np.int32)
    want = delays[:, gateways, :].mean(axis=0)  # delays are symmetric: d(n -> g) = d(g -> n)
    want = want + np.roll(want, -1, axis=0)
    np.testing.assert_array_equal(expected_path_delays_ns(inp.topology, gateways), want)


def test_space_xnet_experts_are_the_brute_force_optimum_of_its_objective(small):
    inp, delays = small
    placement = place("space-xnet", inp, np.random.default_rng(0))
    gateways = placement.gateways
    cost = delays[:, gateways, :].mean(axis=0)
    cost = cost + np.roll(cost, -1, axis=0)  # c[l, n], from networkx
    candidates = [np.setdiff1d(np.flatnonzero(placement.subnets == layer), gateways[layer]) for layer in range(2)]
    assert [len(c) for c in candidates] == [7, 7]
    # Every assignment of the 3 experts of each layer to distinct satellites of its subnet (other
    # than the gateway): 210 x 210 joint assignments.
    per_layer = [list(itertools.permutations(c.tolist(), 3)) for c in candidates]
    best, best_plans = np.inf, []
    for plan in itertools.product(*per_layer):
        value = sum(inp.probabilities[layer, e] * cost[layer, plan[layer][e]] for layer in range(2) for e in range(3))
        if value < best - 1e-6:
            best, best_plans = value, [plan]
        elif abs(value - best) <= 1e-6:
            best_plans.append(plan)
    got = tuple(tuple(row) for row in placement.experts.tolist())
    assert got in best_plans
    assert expected_latency_objective(inp, placement) == pytest.approx(best, rel=1e-12)
    # The optimum is not trivial: the worst assignment costs more.
    worst = max(sum(inp.probabilities[layer, e] * cost[layer, plan[layer][e]] for layer in range(2) for e in range(3))
                for plan in itertools.product(*per_layer))
    assert worst > best * 1.01


def _brute_force_gateways(delays_by_snapshot, picks, subnets, layers):
    """The definition of subnet_centres by exhaustion: the gateways minimising the sum over layers
    of each one's mean delay to its subnet's members plus the delay to the next gateway."""
    mean = delays_by_snapshot[picks].mean(axis=0)  # [N, N] over the sampled snapshots
    members = [np.flatnonzero(subnets == layer) for layer in range(layers)]
    centrality = np.zeros(len(mean))
    for m in members:
        centrality[m] = mean[m][:, m].mean(axis=1)
    best, best_cost = None, np.inf
    for ring in itertools.product(*members):
        cost = sum(centrality[ring[l]] + mean[ring[l], ring[(l + 1) % layers]] for l in range(layers))
        if cost < best_cost:  # strict: the first ring in product order wins a tie, as argmin does
            best, best_cost = ring, cost
    return np.array(best), best_cost, mean


def test_subnet_centres_are_the_exhaustive_optimum_of_centrality_plus_ring(small):
    inp, delays = small
    count = inp.topology.num_snapshots
    picks = np.unique(np.linspace(0, count - 1, min(CENTRE_SNAPSHOTS, count)).round().astype(int))
    for layers in (2, 3):
        subnets = ring_subnets(inp.arg_latitude_rad, layers)
        centres = subnet_centres(inp.topology, subnets, layers)
        want, want_cost, mean = _brute_force_gateways(delays, picks, subnets, layers)
        got_cost = sum(mean[centres[l]][subnets == l].mean() + mean[centres[l], centres[(l + 1) % layers]]
                       for l in range(layers))
        assert got_cost == pytest.approx(want_cost, rel=1e-12)
        np.testing.assert_array_equal(centres, want)


def test_polar_star_gateways_are_in_the_middle_planes():
    """In a Walker star a ring subnet is an arc across the planes: its centre is the middle plane."""
    constellation = walker_constellation(kind="walker-star", planes=9, sats_per_plane=12, phasing=1,
                                         altitude_km=550.0, inclination_deg=87.0, epoch_utc=EPOCH,
                                         snapshot_count=2, snapshot_interval_s=60.0)
    topology = isl_topology(constellation, plus_grid_edges(kind="walker-star", planes=9, sats_per_plane=12,
                                                           phasing=1))
    subnets = ring_subnets(constellation.arg_latitude_rad, 4)
    centres = subnet_centres(topology, subnets, 4)
    assert constellation.plane_of[centres].tolist() == [4, 4, 4, 4]


# ---------------------------------------------------------------------------------------------
# Every strategy on tiny.yaml (100 satellites, 4 layers x 4 experts)


@pytest.fixture(scope="module")
def tiny():
    return pipeline.prepare(load_scenario(TINY)).inputs


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_every_strategy_keeps_one_component_per_satellite_and_its_definition(tiny, strategy):
    inp = tiny
    n, layers = inp.topology.num_nodes, inp.layers
    placement = place(strategy, inp, rng_for(7, f"placement:{strategy}"))
    placement.validate_for(n, layers, inp.experts)
    used = placement.components
    assert len(used) == layers * (1 + inp.experts)
    if "packed" in strategy or strategy == "mesh-tp":  # experts may share a satellite; gateways never do
        assert len(np.unique(placement.gateways)) == layers and not np.isin(placement.gateways, placement.experts).any()
    else:
        assert len(np.unique(used)) == len(used)
    assert placement.gateways.shape == (layers,) and placement.experts.shape == (layers, inp.experts)
    rings = ring_subnets(inp.arg_latitude_rad, layers)
    if strategy in ("rand-place", "mesh-tp"):
        assert (placement.subnets == -1).all()
    elif strategy in ("compact", "compact-tp", "compact-packed-tp"):  # a layer's subnet: its own satellites
        for layer in range(layers):
            members = np.flatnonzero(placement.subnets == layer)
            np.testing.assert_array_equal(members, np.unique(np.append(placement.experts[layer], placement.gateways[layer])))
    else:
        np.testing.assert_array_equal(placement.subnets, rings)
        for layer in range(layers):  # gateway and experts of layer l inside subnet l
            assert rings[placement.gateways[layer]] == layer
            assert (rings[placement.experts[layer]] == layer).all()
    if strategy in ("space-xnet", "rand-intra-cg", "space-xnet-tp", "space-xnet-packed-tp", "space-xnet-replicas"):
        np.testing.assert_array_equal(placement.gateways, subnet_centres(inp.topology, rings, layers))
    if strategy == "space-xnet-replicas":  # space-xnet's components, copies on idle satellites of the subnet
        base = place("space-xnet", inp, np.random.default_rng(0))
        np.testing.assert_array_equal(placement.components, base.components)
        copies = placement.replicas[placement.replicas >= 0]
        assert copies.size and not np.isin(copies, placement.components).any() and len(np.unique(copies)) == copies.size
        layer_of = np.nonzero(placement.replicas >= 0)[0]
        np.testing.assert_array_equal(rings[copies], layer_of)
    if strategy == "space-xnet-tp":  # space-xnet's components, helpers from the gateway's own subnet
        base = place("space-xnet", inp, np.random.default_rng(0))
        np.testing.assert_array_equal(placement.components, base.components)
        helpers = placement.shards[placement.shards >= 0]
        assert (rings[placement.shards] == np.arange(layers)[:, None])[placement.shards >= 0].all()
        assert not np.isin(helpers, placement.gateways).any() and len(np.unique(helpers)) == len(helpers)


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_same_seed_same_plan_and_random_strategies_change_with_the_seed(tiny, strategy):
    one = place(strategy, tiny, np.random.default_rng(1))
    again = place(strategy, tiny, np.random.default_rng(1))
    other = place(strategy, tiny, np.random.default_rng(2))
    assert one.to_json() == again.to_json()
    if strategy not in ("rand-place", "rand-intra", "rand-intra-cg"):  # no random choice at all
        assert one.to_json() == other.to_json()
    else:
        assert not np.array_equal(one.components, other.components)


def test_space_xnet_beats_random_experts_behind_the_same_gateways(tiny):
    sx = place("space-xnet", tiny, np.random.default_rng(0))
    for seed in range(5):
        cg = place("rand-intra-cg", tiny, np.random.default_rng(seed))
        np.testing.assert_array_equal(cg.gateways, sx.gateways)
        assert expected_latency_objective(tiny, sx) <= expected_latency_objective(tiny, cg)


def test_centres_and_expected_delays_equal_the_straightforward_computation(tiny):
    rings = ring_subnets(tiny.arg_latitude_rad, tiny.layers)
    centres = subnet_centres(tiny.topology, rings, tiny.layers)
    count = tiny.topology.num_snapshots
    picks = np.unique(np.linspace(0, count - 1, min(CENTRE_SNAPSHOTS, count)).round().astype(int))
    delays = np.array([path_delays_ns(tiny.topology, np.arange(tiny.topology.num_nodes), snapshot=int(s))
                       for s in range(count)])
    want, want_cost, mean = _brute_force_gateways(delays, picks, rings, tiny.layers)
    np.testing.assert_array_equal(centres, want)
    mean = path_delays_ns(tiny.topology, centres).mean(axis=0)
    np.testing.assert_array_equal(expected_path_delays_ns(tiny.topology, centres), mean + np.roll(mean, -1, axis=0))


# ---------------------------------------------------------------------------------------------
# Ring subnets


@pytest.mark.parametrize("layers", [1, 3, 4, 7, 32])
def test_ring_subnets_are_contiguous_arcs_of_near_equal_size_in_orbit_order(tiny, layers):
    args = tiny.arg_latitude_rad
    subnets = ring_subnets(args, layers)
    sizes = np.bincount(subnets, minlength=layers)
    assert len(sizes) == layers and sizes.max() - sizes.min() <= 1 and sizes.sum() == len(args)
    order = np.lexsort((np.arange(len(args)), args))
    along = subnets[order]
    assert along[0] == 0 and (np.diff(along) >= 0).all() and (np.diff(along) <= 1).all()
    for layer in range(layers - 1):  # subnet l ends where l+1 begins along the orbit
        assert args[subnets == layer].max() <= args[subnets == layer + 1].min()


def test_ring_subnets_break_equal_arguments_by_satellite_id():
    args = np.array([0.5, 0.1, 0.5, 0.1, 0.3, 0.5])
    assert ring_subnets(args, 2).tolist() == [1, 0, 1, 0, 0, 1]
    assert ring_subnets(args, 3).tolist() == [1, 0, 2, 0, 1, 2]


# ---------------------------------------------------------------------------------------------
# Plan files


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_plan_json_round_trip(tiny, strategy, tmp_path):
    placement = place(strategy, tiny, np.random.default_rng(3))
    text = placement.to_json()
    raw = json.loads(text)
    assert raw["format_version"] == 1 and raw["strategy"] == strategy
    assert len(raw["gateways"]) == tiny.layers and len(raw["experts"][0]) == tiny.experts
    back = Placement.from_json(text, source="test")
    path = tmp_path / "plan.json"
    save_plan(placement, path)
    loaded = load_plan(path, num_satellites=tiny.topology.num_nodes, layers=tiny.layers, experts=tiny.experts)
    for other in (back, loaded):
        assert other.strategy == placement.strategy
        for name in ("gateways", "experts", "subnets"):
            np.testing.assert_array_equal(getattr(other, name), getattr(placement, name))
            assert getattr(other, name).dtype == np.int32
    assert path.read_text() == text


def test_null_subnets_read_as_no_ring(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"format": "space-xnet-placement", "format_version": 1, "strategy": "by-hand",
                                "gateways": [0, 1], "experts": [[2, 3], [4, 5]], "subnets": None}))
    placement = load_plan(path, num_satellites=10, layers=2, experts=2)
    assert placement.subnets.tolist() == [-1] * 10


def _plan_dict() -> dict:
    return {"format": "space-xnet-placement", "format_version": 1, "strategy": "by-hand",
            "gateways": [0, 1], "experts": [[2, 3], [4, 5]], "subnets": None}


def _with(**changes) -> str:
    plan = _plan_dict()
    for key, value in changes.items():
        if value is ...:
            del plan[key]
        else:
            plan[key] = value
    return json.dumps(plan)


BAD_PLANS = {
    "malformed JSON": ('{"format": "space-xnet-placement",', "malformed JSON at line 1"),
    "not an object": ("[1, 2]", "must be a JSON object"),
    "missing key": (_with(experts=...), "missing key 'experts'"),
    "unknown key": (_with(extra=1), "unknown key 'extra'"),
    "wrong format": (_with(format="other"), "not a placement plan"),
    "wrong version": (_with(format_version=2), "reads version 1"),
    "strategy not a string": (_with(strategy=3), "'strategy' must be"),
    "id not a whole number": (_with(gateways=[0, 1.5]), "'gateways' must be a list of whole numbers"),
    "boolean id": (_with(gateways=[0, True]), "'gateways' must be a list of whole numbers"),
    "string id": (_with(experts=[[2, "3"], [4, 5]]), "'experts[0]' must be a list of whole numbers"),
    "negative id": (_with(gateways=[0, -1]), "satellite ids are whole numbers >= 0"),
    "ragged experts": (_with(experts=[[2, 3], [4]]), "different lengths"),
    "wrong shape for the model": (_with(gateways=[0, 1, 6], experts=[[2, 3], [4, 5], [7, 8]]),
                                  "is for a model of 3 layers x 2 experts but this model has 2 x 2"),
    "satellite out of range": (_with(experts=[[2, 3], [4, 10]]),
                               "expert 1 of layer 1 on satellite 10, outside 0..9"),
    "two components on one satellite": (_with(experts=[[2, 3], [4, 1]]),
                                        "the gateway of layer 1 and expert 1 of layer 1 both on satellite 1"),
    "subnets of the wrong length": (_with(subnets=[0, 1]), "2 subnet entries but the constellation has 10"),
    "subnet index out of range": (_with(subnets=[0] * 9 + [2]), "subnet index outside -1..1"),
}


@pytest.mark.parametrize("case", list(BAD_PLANS))
def test_load_plan_names_the_problem_in_one_line(case, tmp_path):
    text, fragment = BAD_PLANS[case]
    path = tmp_path / "plan.json"
    path.write_text(text)
    with pytest.raises(PlacementError) as info:
        load_plan(path, num_satellites=10, layers=2, experts=2)
    message = str(info.value)
    assert fragment in message and str(path) in message and "\n" not in message


def test_load_plan_missing_file(tmp_path):
    with pytest.raises(PlacementError, match="plan file .* not found; check the path"):
        load_plan(tmp_path / "nope.json", num_satellites=10, layers=2, experts=2)


def test_the_valid_plan_of_the_error_cases_loads(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(_with())
    placement = load_plan(path, num_satellites=10, layers=2, experts=2)
    assert placement.gateways.tolist() == [0, 1] and placement.experts.tolist() == [[2, 3], [4, 5]]


def test_save_plan_to_a_missing_folder_is_a_placement_error(tiny, tmp_path):
    placement = place("space-xnet", tiny, np.random.default_rng(0))
    with pytest.raises(PlacementError, match="cannot write plan"):
        save_plan(placement, tmp_path / "no" / "such" / "plan.json")


def test_the_strategy_registry_and_the_implementations_agree():
    from harness.names import STRATEGY_NAMES

    assert tuple(STRATEGIES) == STRATEGY_NAMES


def test_the_schema_does_not_import_the_placement_code():
    code = "import sys, harness.scenario, harness.scenario.reference; print('harness.placement' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.strip() == "False"


# ---------------------------------------------------------------------------------------------
# Satellites held by another model replica (PlacementInput.unavailable)


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_every_strategy_leaves_unavailable_satellites_alone(tiny, strategy):
    first = place(strategy, tiny, np.random.default_rng(3))
    mask = np.zeros(tiny.topology.num_nodes, dtype=bool)
    mask[first.occupied] = True  # its helper shards and expert copies too
    second_inp = dataclasses.replace(tiny, unavailable=mask, shared={})
    second = place(strategy, second_inp, np.random.default_rng(3))
    assert not mask[second.occupied].any()  # disjoint from the first replica
    second.validate_for(tiny.topology.num_nodes, tiny.layers, tiny.experts)
    if strategy not in ("rand-place", "compact", "compact-tp", "compact-packed-tp", "mesh-tp"):  # the same ring cut, the taken satellites in no subnet
        rings = ring_subnets(tiny.arg_latitude_rad, tiny.layers)
        np.testing.assert_array_equal(second.subnets, np.where(mask, -1, rings))
        for layer in range(tiny.layers):
            assert rings[second.gateways[layer]] == layer and (rings[second.experts[layer]] == layer).all()


@pytest.mark.parametrize("strategy", ["space-xnet-tp", "space-xnet-replicas"])
def test_a_second_model_replica_avoids_the_first_ones_helpers_and_copies(tiny, strategy):
    """Placement.occupied lists the helper shards and expert copies beside the components; a second
    placement masked by it uses none of the first's satellites, helpers and copies included."""
    first = place(strategy, tiny, np.random.default_rng(3))
    extra = first.shards if strategy == "space-xnet-tp" else first.replicas
    extra = np.asarray(extra)[np.asarray(extra) >= 0]
    assert extra.size and not np.isin(extra, first.components).all()  # the strategy did use other satellites
    assert np.isin(extra, first.occupied).all() and np.isin(first.components, first.occupied).all()
    mask = np.zeros(tiny.topology.num_nodes, dtype=bool)
    mask[first.occupied] = True
    second = place(strategy, dataclasses.replace(tiny, unavailable=mask, shared={}), np.random.default_rng(3))
    assert not np.isin(second.occupied, first.occupied).any()


def test_an_all_false_mask_changes_nothing(tiny):
    mask = np.zeros(tiny.topology.num_nodes, dtype=bool)
    for strategy in STRATEGIES:
        plain = place(strategy, tiny, np.random.default_rng(5))
        masked = place(strategy, dataclasses.replace(tiny, unavailable=mask, shared={}), np.random.default_rng(5))
        np.testing.assert_array_equal(plain.components, masked.components)


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_a_subnet_left_too_small_by_the_mask_is_one_error(tiny, strategy):
    rings = ring_subnets(tiny.arg_latitude_rad, tiny.layers)
    mask = rings == 0  # layer 0's whole subnet is taken
    if strategy in ("rand-place", "compact", "compact-tp", "compact-packed-tp"):
        mask = np.ones(tiny.topology.num_nodes, dtype=bool)
        mask[: tiny.layers * (1 + tiny.experts) - 1] = False  # one satellite short
    if strategy == "mesh-tp":  # a gateway per layer and one board
        mask = np.ones(tiny.topology.num_nodes, dtype=bool)
        mask[: tiny.layers] = False  # one satellite short
    with pytest.raises(PlacementError) as err:
        place(strategy, dataclasses.replace(tiny, unavailable=mask, shared={}), np.random.default_rng(0))
    text = str(err.value)
    assert "\n" not in text and ("free satellites" in text) and "replicas" in text


def test_a_replicas_centres_from_the_shared_member_delays_equal_computing_them(tiny, monkeypatch):
    """Issue 23 (the placement phase): a second model replica's subnet centres take the member
    delays of the first replica's cut (its rows and columns of the members kept) instead of
    growing shortest-path trees again; those equal the delays computed afresh, bit for bit, and
    the gateways equal subnet_centres' own computation, with no path asked for."""
    from harness.placement import subnets as subnets_mod

    inp = dataclasses.replace(tiny, shared={})
    first = place("space-xnet", inp, np.random.default_rng(3))
    mask = np.zeros(inp.topology.num_nodes, dtype=bool)
    mask[first.occupied] = True
    masked = dataclasses.replace(inp, unavailable=mask)  # the same shared work, as place_replicas passes
    cut = subnets_mod._subnets(masked)
    members = [subnets_mod._members(cut, layer) for layer in range(inp.layers)]
    own, nxt = subnets_mod._member_delays(inp.topology, members)
    calls = []
    monkeypatch.setattr(subnets_mod, "path_delays_to_ns", lambda *a, **k: calls.append(a))
    shared_own, shared_nxt = subnets_mod._shared_member_delays(masked, cut)
    assert not calls  # taken from the first cut's, no tree grown
    for want, got in zip(own + nxt, shared_own + shared_nxt):
        assert want.shape == got.shape and want.dtype == got.dtype and want.tobytes() == got.tobytes()
    assert any(len(m) < len(subnets_mod._members(first.subnets, layer)) for layer, m in enumerate(members))
    monkeypatch.undo()
    np.testing.assert_array_equal(subnets_mod.centres(masked, cut), subnet_centres(inp.topology, cut, inp.layers))
    subnets_mod.forget_member_delays(masked)
    assert not any(key[0] == "member-delays" for key in inp.shared)


def test_csr_arcs_from_the_sorted_links_equal_sorting_the_links_up():
    """_csr_arcs keeps the arcs up out of every link's arcs sorted once; that equals sorting the
    arcs up at each snapshot (the reference), arrays and dtypes, with random links down, links
    given in no order, a node with several links and a parallel link."""
    from harness.network.routes import _csr_arcs, _csr_arcs_sorted_afresh

    rng = np.random.default_rng(23)
    n, snapshots = 40, 12
    edges = rng.integers(0, n, size=(200, 2)).astype(np.int32)
    edges = edges[edges[:, 0] != edges[:, 1]]
    edges = np.concatenate([edges, edges[:3]])  # parallel links
    links = len(edges)
    topology = Topology(num_nodes=n, edges=edges, times_s=np.arange(snapshots, dtype=float),
                        length_m=np.ones((snapshots, links)), delay_ns=rng.integers(1, 10**6, (snapshots, links)),
                        up=rng.random((snapshots, links)) < 0.7, feasible=np.ones((snapshots, links), bool))
    for s in range(snapshots):
        for got, want in zip(_csr_arcs(topology, s, 9), _csr_arcs_sorted_afresh(topology, s, 9)):
            assert got.dtype == want.dtype and np.array_equal(got, want)
    topology.up[3] = False
    assert [a.size for a in _csr_arcs(topology, 3, 9)] == [n + 1, 0, 0]
