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
NEW = ("compact", "space-xnet-tp", "compact-tp", "space-xnet-packed-tp", "compact-packed-tp", "space-xnet-replicas")
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


# ---------------------------------------------------------------------------------------------
# Hand-built networks: the new message patterns to the nanosecond, the formula and ns-3


def _both(topo, rts, *, gateways, experts, activations, rate_bps, shards=None, message_bytes=8192):
    """(ns-3 result, analytic result) of the same inputs (as tests/test_analytic.py's ``both``)."""
    from harness.analytic import analytic_latency
    from harness.packet_sim import ComputeTimes, run_packet_sim
    from harness.scenario import LinkSpec

    experts = np.array(experts, dtype=np.int32)
    layers, num_experts = experts.shape
    compute = ComputeTimes(np.full(layers, 5_000), np.full((layers, num_experts), 7_000), 11_000)
    kwargs = dict(topology=topo, routes=rts, links=LinkSpec(rate_bps=rate_bps, mtu_bytes=1500),
                  gateways=np.array(gateways, dtype=np.int32), experts=experts,
                  activations=np.array(activations, dtype=np.int32), compute=compute,
                  request_starts_ns=np.array([0], dtype=np.int64), message_bytes=message_bytes,
                  shards=None if shards is None else np.array(shards, dtype=np.int32))
    return run_packet_sim(**kwargs, seed=1, stop_ns=10**10), analytic_latency(**kwargs)


def _message_ns(rate_bps: float, delay_ns: int, message_bytes: int = 8192) -> int:
    """One message over one idle link: the packets' transmission times (whole ns at 1 Gbit/s) plus
    the propagation delay."""
    from harness.scenario import LinkSpec

    return sum(round(size * 8 / rate_bps * 1e9) for size in LinkSpec(rate_bps=rate_bps).packet_sizes_bytes(
        message_bytes)) + delay_ns


def test_tensor_parallel_scatter_direct_input_and_gather_equal_the_hand_formula_and_ns3():
    from networks import routes, topology

    # Layer 0: gateway 0, expert 1, helper 5 (scattered to from 0); layer 1: gateway 2, expert 3,
    # helper 4, which takes expert 1's output straight over its own link and gathers to 2. Every
    # message has a link to itself, so nothing queues and the model is ns-3 to the ns.
    edges = [(0, 1), (1, 2), (2, 3), (0, 3), (1, 4), (2, 4), (0, 5)]
    delays = [1_000_000, 2_000_000, 3_000_000, 4_000_000, 1_500_000, 1_500_000, 300_000]
    topo = topology(6, edges, [delays])
    nxt = {(0, 5): 5, (5, 0): 0, (0, 1): 1, (1, 2): 2, (1, 4): 4, (4, 2): 2, (2, 3): 3, (3, 0): 0}
    rts = routes(topo, [0, 1, 2, 3, 4, 5], [nxt])
    ns, model = _both(topo, rts, gateways=[0, 2], experts=[[1], [3]], activations=np.zeros((1, 2, 2, 1)),
                      rate_bps=1e9, shards=[[5], [4]])
    d = dict(zip(edges, delays))
    m = {pair: _message_ns(1e9, d[pair]) for pair in edges}
    shard = 2_500  # 5 us of attention over the gateway and one helper
    attention0 = m[0, 5] + shard + m[0, 5]                  # the helper's part is the later one
    expert0_done = attention0 + m[0, 1] + 7_000
    combine0 = expert0_done + m[1, 2]                       # at gateway 2
    attention1 = expert0_done + m[1, 4] + shard + m[2, 4]   # 3 ms via the helper > 2 ms to the gateway
    assert attention1 > combine0 + shard
    combine1 = attention1 + m[2, 3] + 7_000 + m[0, 3]       # back at gateway 0
    token = combine1 + 11_000
    assert model.combine_ns[0, 0].tolist() == [combine0, combine1]
    assert model.latency_ns[0].tolist() == [token, token]
    assert model.compute_ns[0, 0] == 2 * shard + 2 * 7_000 + 11_000
    assert model.propagation_ns[0, 0] == 2 * 300_000 + 1_000_000 + 3_000_000 + 3_000_000 + 4_000_000
    for name in ("token_start_ns", "token_end_ns", "combine_ns"):
        np.testing.assert_array_equal(getattr(model, name), getattr(ns, name))


def test_experts_sharing_a_satellite_compute_one_after_the_other_as_in_ns3():
    from networks import routes, topology

    # One layer: gateway 0, both experts on satellite 1 (top-2). At 100 Gbit/s the second hidden
    # state arrives 0.7 us after the first, while the first expert still computes for 7 us: the
    # second waits for it (first come, first served), then both outputs go back to gateway 0.
    topo = topology(2, [(0, 1)], [[1_000_000]])
    rts = routes(topo, [0, 1], [{(0, 1): 1, (1, 0): 0}])
    ns, model = _both(topo, rts, gateways=[0], experts=[[1, 1]], activations=[[[[0, 1]], [[1, 0]]]],
                      rate_bps=100e9)
    from harness.analytic import message_serialization_ns
    from harness.scenario import LinkSpec

    hop = message_serialization_ns(LinkSpec(rate_bps=100e9), 8192, 1) + 1_000_000
    token = 5_000 + hop + 7_000 + 7_000 + hop + 11_000
    assert model.latency_ns[0].tolist() == [token, token]
    assert model.compute_ns[0].tolist() == [5_000 + 14_000 + 11_000] * 2
    for name in ("token_start_ns", "token_end_ns", "combine_ns"):
        np.testing.assert_array_equal(getattr(model, name), getattr(ns, name))


def test_a_saved_tensor_parallel_plan_runs_and_its_results_read_back_with_the_shards(tmp_path):
    """harness place -> run --plan -> analyze: placements.json lists the shards, the reader takes
    them, and the placement map (which marks them) is drawn again."""
    from harness.traces import read_results

    plan, out = tmp_path / "plan.json", tmp_path / "out"
    tiny = str(REPO / "topologies" / "tiny.yaml")
    for args in (["place", tiny, "--strategy", "space-xnet-packed-tp", "--out", str(plan)],
                 ["run", tiny, "--plan", str(plan), "--out", str(out)], ["analyze", str(out)]):
        run = subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, cwd=REPO)
        assert run.returncode == 0, run.stderr[-500:]
    saved = load_plan(plan, num_satellites=100, layers=4, experts=4)
    assert saved.shards is not None and (saved.shards >= 0).any()
    results = read_results(out)
    shards = results.placements["space-xnet-packed-tp"]["shards"]
    assert shards == [[int(v) for v in row if v >= 0] for row in saved.shards]
    assert (out / "plots" / "placement_map.png").stat().st_size > 0


def test_a_token_goes_to_the_copy_nearest_in_the_snapshot_in_force_as_in_ns3():
    from harness.analytic import analytic_latency
    from harness.packet_sim import ComputeTimes, run_packet_sim
    from harness.placement.replicas import replica_choice
    from harness.scenario import LinkSpec
    from networks import routes, topology

    # Gateway 0; its one expert on satellite 1, a copy on 2. Snapshot 0: 1 is 1 ms away, 2 is 5 ms;
    # snapshot 1 (from t = 1 s): the other way round. Request 0 starts in snapshot 0 and uses the
    # expert, request 1 starts in snapshot 1 and uses the copy; a tie would keep the expert.
    topo = topology(3, [(0, 1), (0, 2)], [[1_000_000, 5_000_000], [5_000_000, 1_000_000]])
    rts = routes(topo, [0, 1, 2], [{(0, 1): 1, (1, 0): 0, (0, 2): 2, (2, 0): 0}] * 2)
    gateways, experts, copies = np.array([0]), np.array([[1]]), np.array([[[2]]])
    choice = replica_choice(topo, gateways, experts, copies)
    assert choice[:, 0, 0].tolist() == [0, 1]
    compute = ComputeTimes(np.array([5_000]), np.array([[7_000]]), 11_000)
    kwargs = dict(topology=topo, routes=rts, links=LinkSpec(rate_bps=1e9, mtu_bytes=1500), gateways=gateways,
                  experts=experts, activations=np.zeros((2, 2, 1, 1), dtype=np.int32), compute=compute,
                  request_starts_ns=np.array([0, 1_000_000_000]), message_bytes=8192, replicas=copies,
                  replica_choice=choice)
    ns, model = run_packet_sim(**kwargs, seed=1, stop_ns=3 * 10**9), analytic_latency(**kwargs)
    token = 5_000 + 2 * _message_ns(1e9, 1_000_000) + 7_000 + 11_000  # 1 ms each way: the near copy
    assert model.latency_ns.tolist() == [[token, token], [token, token]]
    for name in ("token_start_ns", "token_end_ns", "combine_ns"):
        np.testing.assert_array_equal(getattr(model, name), getattr(ns, name))
    tie = replica_choice(topology(3, [(0, 1), (0, 2)], [[2_000_000, 2_000_000]]), gateways, experts, copies)
    assert tie.tolist() == [[[0]]]
