"""The strategies beyond the paper (harness/placement/compact_subnets.py, tensor_parallel.py) and the
resource model (harness/placement/resources.py), on the shipped full-size scenarios and real ns-3.

- One request (no contention, which the analytic model leaves out): every token's latency from
  ns-3 agrees with the analytic model within :data:`TOLERANCE` for every new strategy, on the
  paper's polar star and on the Walker delta; the tensor-parallel placements really split
  attention (so scatter, direct shard input and gather messages are exercised).
- Memory: hand-computed bytes for LLaMA-MoE-3.5B's components; a placement that does not fit is
  refused in one line, by the CLI too, with nothing written.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness import pipeline
from harness.errors import PlacementError, ScenarioError
from harness.placement import load_plan, place, save_plan
from harness.placement.resources import check_memory, memory_use_bytes
from harness.scenario import load_scenario, scenario_from_dict
from harness.strategies import TENSOR_PARALLEL_STRATEGIES

REPO = Path(__file__).resolve().parents[1]
#: Largest relative difference allowed between ns-3's and the model's latency of any token (as
#: tests/test_analytic.py: the must-show of issue 10 asks for 0.1 %).
TOLERANCE = 1e-3
NEW = ("compact", "space-xnet-tp", "compact-tp", "space-xnet-packed-tp", "compact-packed-tp")
#: One request of 8 tokens; snapshots enough to cover it (polar: under 1.2 s a token, delta: under 3 s).
ONE_REQUEST = {"polar_1056": 14, "walker_1584": 26}


def _one_request(name: str, survival: float | None = None):
    scenario = load_scenario(REPO / "topologies" / f"{name}.yaml")
    links = scenario.links if survival is None else dataclasses.replace(scenario.links, survival_probability=survival)
    return dataclasses.replace(
        scenario, strategies=NEW, links=links,
        traffic=dataclasses.replace(scenario.traffic, requests=1),
        snapshots=dataclasses.replace(scenario.snapshots, count=ONE_REQUEST[name]))


#: Per token, the scenarios run with every link up: a link outage that reroutes a message in flight
#: shifts ns-3's timeline against the model's by up to the detour (a snapshot effect documented in
#: harness/analytic.py: 9 ms once in 8 tokens of space-xnet-tp on polar_1056), and the tokens after
#: it then meet the snapshots at other instants. With the scenario's outages, the mean agrees
#: within the same tolerance (:func:`test_with_outages_the_mean_latency_agrees`).
@pytest.fixture(scope="module", params=list(ONE_REQUEST))
def prepared(request):
    scenario = _one_request(request.param, survival=1.0)
    return request.param, scenario, pipeline.prepare(scenario)


@pytest.mark.parametrize("strategy", NEW)
def test_with_outages_the_mean_latency_agrees(strategy):
    scenario = _one_request("polar_1056")
    assert scenario.links.survival_probability == 0.95
    prep = pipeline.prepare(scenario)
    placement = place(strategy, prep.inputs, pipeline.rng_for(scenario.seed, f"placement:{strategy}"))
    trace = pipeline._run_strategy(scenario, prep, placement, None)
    ns = (trace.token_end_ns - trace.token_start_ns).mean()
    assert abs(ns - trace.analytic_ns.mean()) / ns <= TOLERANCE


@pytest.mark.parametrize("strategy", NEW)
def test_one_request_ns3_equals_the_analytic_model_within_tolerance(prepared, strategy):
    name, scenario, prep = prepared
    placement = place(strategy, prep.inputs, pipeline.rng_for(scenario.seed, f"placement:{strategy}"))
    if strategy in TENSOR_PARALLEL_STRATEGIES:
        helpers = (placement.shards >= 0).sum(axis=1)
        assert helpers.sum() > 0, "the tensor-parallel placement splits no layer: the test would prove nothing"
    trace = pipeline._run_strategy(scenario, prep, placement, None)
    ns = trace.token_end_ns - trace.token_start_ns
    assert (trace.token_end_ns >= 0).all() and (trace.analytic_ns > 0).all(), "every token completes in both"
    relative = np.abs(ns - trace.analytic_ns) / ns
    print(f"\n{name} {strategy}: mean {ns.mean() / 1e9:.4f} s, max relative difference {relative.max():.2e}")
    assert relative.max() <= TOLERANCE
    np.testing.assert_array_equal(trace.compute_ns + trace.serialization_ns + trace.propagation_ns,
                                  trace.analytic_ns)


def test_tensor_parallel_plans_round_trip_with_their_shards(prepared, tmp_path):
    _, scenario, prep = prepared
    placement = place("space-xnet-tp", prep.inputs, np.random.default_rng(0))
    path = tmp_path / "plan.json"
    save_plan(placement, path)
    again = load_plan(path, num_satellites=prep.topology.num_nodes, layers=scenario.model.layers,
                      experts=scenario.model.experts)
    np.testing.assert_array_equal(again.shards, placement.shards)
    assert again.to_json() == placement.to_json()


# ---------------------------------------------------------------------------------------------
# Resource model: bytes by hand for LLaMA-MoE-3.5B (hidden 4096, ffn 1376, vocab 32000, 8 experts)

ATTENTION_B = 4 * 4096 * 4096 * 2   # Q, K, V, O in bf16: 134,217,728 B
ROUTER_B = 4096 * 8 * 2             # 65,536 B
EXPERT_B = 3 * 4096 * 1376 * 2      # 33,816,576 B
LM_HEAD_B = 4096 * 32000 * 2        # 262,144,000 B
KV_PER_TOKEN_B = 2 * 4096 * 2       # K and V of one token, bf16: 16,384 B


def _model_scenario(**compute):
    return scenario_from_dict({"name": "m", "constellation": {"kind": "walker-delta", "planes": 20,
                                                              "sats_per_plane": 20},
                               "model": {"preset": "llama-moe-3.5b-2of8"}, "compute": compute,
                               "traffic": {"requests": 4, "tokens_per_request": 8}})


def test_memory_of_each_component_by_hand():
    from harness.placement.types import Placement

    scenario = _model_scenario()
    gateways = np.array([0, 1], dtype=np.int32)
    experts = np.arange(2, 18, dtype=np.int32).reshape(2, 8)
    shards = np.array([[-1, -1], [30, 31]], dtype=np.int32)  # layer 1 split over its gateway + 2 helpers
    placement = Placement("hand", gateways, experts, np.full(40, -1, dtype=np.int32), shards)
    model = dataclasses.replace(scenario.model, layers=2)
    use, what = memory_use_bytes(placement, model, weight_bytes=2, context_tokens=32, num_satellites=40)
    kv = KV_PER_TOKEN_B * 32
    assert use[0] == ATTENTION_B + ROUTER_B + kv + LM_HEAD_B
    assert use[1] == pytest.approx((ATTENTION_B + kv) / 3 + ROUTER_B, abs=1e-6)
    assert use[30] == use[31] == pytest.approx((ATTENTION_B + kv) / 3, abs=1e-6)
    assert (use[2:18] == EXPERT_B).all() and use[18:30].sum() == 0
    assert what[0] == ["gateway of layer 0 + LM head"] and what[30] == ["attention shard 1 of layer 1"]


def test_a_placement_that_exceeds_a_satellites_memory_is_refused_in_one_line(prepared):
    _, scenario, prep = prepared
    placement = place("compact", prep.inputs, np.random.default_rng(0))
    common = dict(weight_bytes=2, context_tokens=8, num_satellites=prep.topology.num_nodes)
    fullest = float(memory_use_bytes(placement, scenario.model, **common)[0].max())  # layer 0's gateway
    assert fullest == ATTENTION_B + ROUTER_B + LM_HEAD_B + KV_PER_TOKEN_B * 8
    check_memory(placement, scenario.model, memory_gb=fullest / 1e9, **common)  # exactly fits
    with pytest.raises(PlacementError) as info:
        check_memory(placement, scenario.model, memory_gb=0.3, **common)
    text = str(info.value)
    sat = int(placement.gateways[0])
    assert "\n" not in text
    assert f"does not fit satellite {sat}: it holds {fullest / 1e9:.3f} GB (gateway of layer 0 + LM head)" in text
    assert f"but has 0.3 GB, {(fullest - 0.3e9) / 1e9:.3f} GB over" in text


def test_the_cli_refuses_an_overflowing_placement_with_one_line_and_writes_nothing(tmp_path):
    scenario = (REPO / "topologies" / "tiny.yaml").read_text().replace(
        "  satellite_flops: 7.28e9", "  satellite_flops: 7.28e9\n  memory_gb: 0.1")
    path = tmp_path / "small_boards.yaml"
    path.write_text(scenario)
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "harness", "run", str(path), "--out", str(out)],
                         capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert errors == lines[-1:], "one error line, last, after the progress log"
    assert errors[0].startswith("error: placement 'space-xnet' does not fit satellite ")
    assert "but has 0.1 GB" in errors[0] and "raise compute.memory_gb" in errors[0]
    assert "Traceback" not in run.stderr
    assert not out.exists()


def test_tensor_parallel_strategies_with_faults_are_one_schema_error():
    with pytest.raises(ScenarioError, match="strategy 'space-xnet-tp' splits attention over shards"):
        scenario_from_dict({"name": "f", "strategies": ["space-xnet-tp"],
                            "constellation": {"kind": "walker-delta", "planes": 10, "sats_per_plane": 10},
                            "model": {"layers": 4, "experts": 4, "top_k": 2},
                            "faults": {"retransmit_timeout_ms": 50}})
