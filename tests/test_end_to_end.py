"""tiny.yaml end to end through real ns-3, in-process and through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness import pipeline
from harness.workload.compute import compute_times_ns
from harness.network.routes import shortest_delay_routes
from harness.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "topologies" / "tiny.yaml"


@pytest.fixture(scope="module")
def tiny_run():
    scenario = load_scenario(TINY)
    return scenario, pipeline.run_scenario(scenario)


def test_every_token_of_every_request_completes(tiny_run):
    scenario, result = tiny_run
    (trace,) = result.traces
    assert trace.token_end_ns.shape == (scenario.traffic.requests, scenario.traffic.tokens_per_request)
    assert (trace.token_end_ns > trace.token_start_ns).all()
    assert (trace.combine_ns >= 0).all()
    stats = trace.counters
    assert (trace.latency_ns > 0).sum() == 16
    assert stats["packets_sent"] == stats["packets_received"]
    assert stats["packets_dropped_no_route"] == stats["packets_dropped_queue"] == 0
    # Tokens of a request follow one another: each starts when the previous one ends.
    np.testing.assert_array_equal(trace.token_start_ns[:, 1:], trace.token_end_ns[:, :-1])


def test_token_latency_is_at_least_critical_path_compute_plus_shortest_propagation(tiny_run):
    scenario, result = tiny_run
    (trace,) = result.traces
    topology = pipeline.build_topology(scenario, pipeline.build_constellation(scenario))
    components = np.sort(np.concatenate([trace.gateways, trace.experts.ravel()]))
    routes = shortest_delay_routes(topology, components)
    # Shortest propagation delay between two components over every snapshot: a lower bound on any
    # message between them whatever snapshot it flies in.
    column = {int(node): i for i, node in enumerate(routes.destinations)}
    def min_delay(src, dst):
        return routes.delay_ns[:, src, column[dst]].min()
    gateway_ns, expert_ns, lm_head_ns = compute_times_ns(scenario.model, scenario.compute.satellite_flops)
    layers = scenario.model.layers
    latency = trace.token_end_ns - trace.token_start_ns
    bounds = np.zeros(latency.shape, dtype=np.int64)
    for r in range(latency.shape[0]):
        for t in range(latency.shape[1]):
            bound = lm_head_ns
            for l in range(layers):
                gw, nxt = trace.gateways[l], trace.gateways[(l + 1) % layers]
                bound += gateway_ns[l] + max(
                    min_delay(gw, trace.experts[l, e]) + expert_ns[l, e] + min_delay(trace.experts[l, e], nxt)
                    for e in trace.activations[r, t, l])
            bounds[r, t] = bound
    assert (latency >= bounds).all(), np.argwhere(latency < bounds)
    # and not far above it: two requests on an idle network queue only briefly for shared compute
    assert (latency < 1.5 * bounds).all()


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, cwd=cwd,
                          check=False)


def test_cli_writes_the_three_files_prints_the_summary_and_is_deterministic(tmp_path):
    first = run_cli("run", str(TINY), "--out", str(tmp_path / "a"), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "space-xnet" in first.stdout and "mean ms" in first.stdout
    second = run_cli("run", str(TINY), "--out", str(tmp_path / "b"), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    for name in ("tokens.csv", "layers.csv", "summary.json", "run.json", "placements.json", "satellites.csv",
                 "plots/latency_cdf.png", "plots/placement_map.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["strategies"]["space-xnet"]["completed"] == 16
    tokens = (tmp_path / "a" / "tokens.csv").read_text().splitlines()
    assert tokens[0].startswith("strategy,request,token,t_start_ns,t_end_ns,latency_ns,analytic_ns")
    assert len(tokens) == 17
    for name in ("plots/latency_cdf.png", "plots/layer_latency.png", "plots/placement_map.png"):
        assert (tmp_path / "a" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    # analyze rebuilds summary.json byte for byte from the traces alone
    original = (tmp_path / "a" / "summary.json").read_bytes()
    (tmp_path / "a" / "summary.json").unlink()
    again = run_cli("analyze", str(tmp_path / "a"), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "a" / "summary.json").read_bytes() == original
    both = run_cli("analyze", str(tmp_path / "a"), str(tmp_path / "b"), cwd=tmp_path)
    assert both.returncode == 0 and "ratio" in both.stdout and "1.000" in both.stdout
    layers = (tmp_path / "a" / "layers.csv").read_text().splitlines()
    assert len(layers) == 1 + 16 * 4


def test_analyze_of_a_folder_that_is_not_a_results_directory_is_one_line(tmp_path):
    done = run_cli("analyze", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.startswith("error: ") and "tokens.csv" in done.stderr
    done = run_cli("analyze", str(tmp_path / "absent"), cwd=tmp_path)
    assert done.returncode == 1 and "not found" in done.stderr


BAD_INPUTS = {
    "missing file": (None, "not found"),
    "yaml syntax": ("name: x\nconstellation: {planes: 6\n", "YAML syntax error"),
    "unknown key": ("name: x\nconstelation: {planes: 6}\n", "unknown key 'constelation'"),
    "negative altitude": ("name: x\nconstellation: {altitude_km: -550}\n", "altitude_km"),
    "too many components": ("name: x\nconstellation: {planes: 3, sats_per_plane: 4}\n", "needs 20 satellites"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_one_line_exit_1_no_traceback_no_output(case, tmp_path):
    text, words = BAD_INPUTS[case]
    scenario = tmp_path / "scenario.yaml"
    if text is not None:
        scenario.write_text(text)
    out = tmp_path / "out"
    done = run_cli("run", str(scenario), "--out", str(out), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and words in lines[0]
    assert "Traceback" not in done.stderr
    assert not out.exists()
    assert not (tmp_path / "results").exists()


def test_topology_export_is_self_consistent(tmp_path):
    out = tmp_path / "topo.npz"
    done = run_cli("topology", str(TINY), "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    z = np.load(out)
    assert str(z["frame"]) == "TEME" and int(z["format_version"]) == 2
    positions, edges = z["positions_m"], z["edges"]
    assert positions.shape == (10, 100, 3) and edges.shape == (200, 2)
    # every link length is the distance between its two satellites' exported positions
    lengths = np.linalg.norm(positions[:, edges[:, 0]] - positions[:, edges[:, 1]], axis=-1)
    np.testing.assert_allclose(z["length_m"], lengths, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(z["delay_ns"], np.round(lengths / 299_792_458.0 * 1e9).astype(np.int64))
    assert z["up"].all() and z["feasible"].all()  # tiny.yaml: no outages, every link in sight
    # sunlit: one flag per satellite and snapshot; a 53 deg shell has satellites on both sides (tests/test_sun.py
    # checks the flags themselves against skyfield)
    assert z["sunlit"].shape == (10, 100) and z["sunlit"].dtype == bool and 0 < z["sunlit"].mean() < 1


def test_topology_export_rejects_a_non_npz_target(tmp_path):
    done = run_cli("topology", str(TINY), "--out", str(tmp_path / "topo.csv"), cwd=tmp_path)
    assert done.returncode == 1 and "must end in .npz" in done.stderr
    assert not (tmp_path / "topo.csv").exists()


def test_outages_are_seeded_and_replayed(tmp_path):
    # With 10 % of link-snapshots down every token still completes over the rerouted paths (packets
    # on a link when it fails still arrive: drop_in_flight is false); the same seed, the same trace.
    text = TINY.read_text().replace("survival_probability: 1.0", "survival_probability: 0.9")
    scenario = tmp_path / "lossy.yaml"
    scenario.write_text(text)
    sc = load_scenario(scenario)
    first, second = pipeline.run_scenario(sc), pipeline.run_scenario(sc)
    np.testing.assert_array_equal(first.traces[0].token_end_ns, second.traces[0].token_end_ns)
    topology = pipeline.build_topology(sc, pipeline.build_constellation(sc))
    assert 0.8 < topology.up.mean() < 0.97
    stats = first.traces[0].counters
    assert (first.traces[0].latency_ns > 0).all()
    assert stats["packets_dropped_link_down"] == 0 and stats["packets_dropped_ttl"] == 0
    assert stats["packets_sent"] == (stats["packets_received"] + stats["packets_dropped_no_route"]
                                     + stats["packets_dropped_queue"] + stats["packets_dropped_link_down"])


def test_a_saved_plan_is_run_as_is(tmp_path):
    plan = tmp_path / "plan.json"
    made = run_cli("place", str(TINY), "--strategy", "rand-intra", "--out", str(plan), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    saved = json.loads(plan.read_text())
    done = run_cli("run", str(TINY), "--plan", str(plan), "--out", str(tmp_path / "r"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    placements = json.loads((tmp_path / "r" / "placements.json").read_text())
    assert list(placements) == ["rand-intra"]
    assert placements["rand-intra"]["gateways"] == saved["gateways"]
    assert placements["rand-intra"]["experts"] == saved["experts"]
    missing = run_cli("run", str(TINY), "--plan", str(tmp_path / "absent.json"), "--out", str(tmp_path / "x"),
                      cwd=tmp_path)
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "harness place" in missing.stderr
    assert not (tmp_path / "x").exists()


def test_results_go_into_an_existing_directory_and_replace_old_files(tmp_path):
    # An existing --out (e.g. a mounted /results) is filled in place; no staging folder is left.
    out = tmp_path / "mounted"
    out.mkdir()
    (out / "tokens.csv").write_text("old\n")
    (out / "keep.txt").write_text("mine\n")
    done = run_cli("run", str(TINY), "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (out / "tokens.csv").read_text().startswith("strategy,")
    assert (out / "keep.txt").read_text() == "mine\n"
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []
