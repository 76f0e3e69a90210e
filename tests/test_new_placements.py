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
from harness.run.strategy import run_strategy
from harness.seeding import rng_for
from harness.errors import PlacementError, ScenarioError
from harness.placement import load_plan, place, save_plan
from harness.placement.resources import check_memory, memory_use_bytes
from harness.scenario import load_scenario, scenario_from_dict
from harness.names import TENSOR_PARALLEL_STRATEGIES
from networks import analytic_run, packet_run

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
#: harness/simulate/analytic.py: 9 ms once in 8 tokens of space-xnet-tp on polar_1056), and the tokens after
#: it then meet the snapshots at other instants. With the scenario's outages, the mean agrees
#: within the same tolerance (:func:`test_with_outages_the_mean_latency_agrees`).
@pytest.fixture(scope="module", params=list(ONE_REQUEST))
def prepared(request):
    scenario = _one_request(request.param, survival=1.0)
    return request.param, scenario, pipeline.prepare(scenario)


#: With the scenario's outages, a message rerouted in flight shifts one token by a detour (measured:
#: 8.9 ms in token 7 of space-xnet-packed-tp on polar_1056, 1.4e-3 of the 8-token mean of 0.81 s;
#: the other 7 tokens within 6e-5): at most one token may leave TOLERANCE, and the mean must agree
#: within this.
OUTAGE_MEAN_TOLERANCE = 2e-3


@pytest.mark.parametrize("strategy", NEW)
def test_with_outages_the_mean_latency_agrees(strategy):
    scenario = _one_request("polar_1056")
    assert scenario.links.survival_probability == 0.95
    prep = pipeline.prepare(scenario)
    placement = place(strategy, prep.inputs, rng_for(scenario.seed, f"placement:{strategy}"))
    trace = run_strategy(scenario, prep, placement, None)
    ns = trace.token_end_ns - trace.token_start_ns
    assert (np.abs(ns - trace.analytic_ns) / ns > TOLERANCE).sum() <= 1, "one in-flight reroute at most"
    assert abs(ns.mean() - trace.analytic_ns.mean()) / ns.mean() <= OUTAGE_MEAN_TOLERANCE


@pytest.mark.parametrize("strategy", NEW)
def test_one_request_ns3_equals_the_analytic_model_within_tolerance(prepared, strategy):
    name, scenario, prep = prepared
    placement = place(strategy, prep.inputs, rng_for(scenario.seed, f"placement:{strategy}"))
    if strategy in TENSOR_PARALLEL_STRATEGIES:
        helpers = (placement.shards >= 0).sum(axis=1)
        assert helpers.sum() > 0, "the tensor-parallel placement splits no layer: the test would prove nothing"
    trace = run_strategy(scenario, prep, placement, None)
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
    # 32 heads over 3 shards: each is charged the largest one's 11 heads
    assert use[1] == pytest.approx((ATTENTION_B + kv) * 11 / 32 + ROUTER_B, abs=1e-6)
    assert use[30] == use[31] == pytest.approx((ATTENTION_B + kv) * 11 / 32, abs=1e-6)
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


def test_tensor_parallel_and_copy_strategies_take_a_faults_section():
    """Shards and copies have a failure model now (tests/test_faults_everywhere.py): the schema no
    longer refuses them beside a faults section."""
    sc = scenario_from_dict({"name": "f", "strategies": ["space-xnet-tp", "space-xnet-packed-tp", "space-xnet-replicas"],
                             "constellation": {"kind": "walker-delta", "planes": 10, "sats_per_plane": 10},
                             "model": {"layers": 4, "experts": 4, "top_k": 2},
                             "faults": {"retransmit_timeout_ms": 50}})
    assert sc.faults.enabled and "space-xnet-tp" in sc.strategies


# ---------------------------------------------------------------------------------------------
# Hand-built networks: the new message patterns to the nanosecond, the formula and ns-3


def _both(topo, rts, *, gateways, experts, activations, rate_bps, shards=None, message_bytes=8192):
    """(ns-3 result, analytic result) of the same inputs (as tests/test_analytic.py's ``both``)."""
    from harness.workload.compute import ComputeTimes
    from harness.scenario import LinkSpec

    experts = np.array(experts, dtype=np.int32)
    layers, num_experts = experts.shape
    compute = ComputeTimes(np.full(layers, 5_000), np.full((layers, num_experts), 7_000), 11_000)
    kwargs = dict(topology=topo, routes=rts, links=LinkSpec(rate_bps=rate_bps, mtu_bytes=1500),
                  gateways=np.array(gateways, dtype=np.int32), experts=experts,
                  activations=np.array(activations, dtype=np.int32), compute=compute,
                  request_starts_ns=np.array([0], dtype=np.int64), message_bytes=message_bytes,
                  shards=None if shards is None else np.array(shards, dtype=np.int32))
    return packet_run(**kwargs, seed=1, stop_ns=10**10), analytic_run(**kwargs)


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
    from harness.network.links import message_serialization_ns
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
    from harness.formats.results import read_results

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
    from harness.workload.compute import ComputeTimes
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
    ns, model = packet_run(**kwargs, seed=1, stop_ns=3 * 10**9), analytic_run(**kwargs)
    token = 5_000 + 2 * _message_ns(1e9, 1_000_000) + 7_000 + 11_000  # 1 ms each way: the near copy
    assert model.latency_ns.tolist() == [[token, token], [token, token]]
    for name in ("token_start_ns", "token_end_ns", "combine_ns"):
        np.testing.assert_array_equal(getattr(model, name), getattr(ns, name))
    tie = replica_choice(topology(3, [(0, 1), (0, 2)], [[2_000_000, 2_000_000]]), gateways, experts, copies)
    assert tie.tolist() == [[[0]]]


@pytest.mark.parametrize("strategy", ["space-xnet-packed-tp", "space-xnet-replicas"])
def test_a_plan_with_shards_or_copies_runs_under_a_faults_section(tmp_path, strategy):
    """A saved plan with shards (several components on a satellite, too) or copies runs with a
    faults section through ``run --plan``: every token completed, with status and reason columns
    (packed components get their ACKs on their own ports: no needless retransmission)."""
    plan, out = tmp_path / "plan.json", tmp_path / "out"
    tiny = REPO / "topologies" / "tiny.yaml"
    made = subprocess.run([sys.executable, "-m", "harness", "place", str(tiny), "--strategy", strategy,
                           "--out", str(plan)], capture_output=True, text=True, cwd=REPO)
    assert made.returncode == 0, made.stderr[-500:]
    faulty = tmp_path / "faulty.yaml"
    faulty.write_text(tiny.read_text() + "\nfaults:\n  retransmit_timeout_ms: 500\n")
    run = subprocess.run([sys.executable, "-m", "harness", "run", str(faulty), "--plan", str(plan),
                          "--out", str(out)], capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, run.stderr[-500:]
    import csv
    import json

    rows = list(csv.DictReader(open(out / "tokens.csv")))
    assert len(rows) == 16 and {r["status"] for r in rows} == {"completed"}
    summary = json.loads((out / "summary.json").read_text())["strategies"][strategy]
    assert summary["messages_retransmitted"] == 0 and summary["messages_duplicated"] == 0


def test_a_shared_expert_is_split_over_the_shards_in_memory_as_in_compute():
    """qwen1.5-moe-a2.7b has a shared expert (shared_ffn_size 5632) in the gateway's work; a
    tensor-parallel layer splits that work evenly over its 1 + H shards (packet_sim.shard_compute_ns),
    so each shard holds the same share of the shared expert's weights, the gateway no more."""
    from harness.workload.compute import compute_times_ns, gateway_flops
    from harness.workload.compute import shard_compute_ns
    from harness.placement.types import Placement

    scenario = scenario_from_dict({"name": "q", "constellation": {"kind": "walker-delta", "planes": 20,
                                                                  "sats_per_plane": 20},
                                   "model": {"preset": "qwen1.5-moe-a2.7b", "layers": 2},
                                   "traffic": {"requests": 1, "tokens_per_request": 4}})
    model = scenario.model
    h, e = 2048, 60
    assert model.hidden_size == h and model.experts == e and model.shared_ffn_size == 5632
    attention, shared, router = 4 * h * h * 2, 3 * h * 5632 * 2, h * e * 2
    kv = 2 * h * 2 * 4
    # compute: the shared expert is in the gateway's work, and a shard does a third of it
    assert gateway_flops(model) == 2 * 4 * h * h + 2 * h * e + 2 * 3 * h * 5632
    gateway_ns = compute_times_ns(model, 7.28e9)[0]
    assert model.heads == 16  # 6 of the 16 heads on the largest of 3 shards
    assert shard_compute_ns(gateway_ns, np.array([0, 2]), 16)[1] == round(gateway_ns[1] * 6 / 16)
    gateways = np.array([0, 1], dtype=np.int32)
    experts = np.arange(2, 2 + 2 * e, dtype=np.int32).reshape(2, e)
    shards = np.array([[-1, -1], [300, 301]], dtype=np.int32)
    placement = Placement("hand", gateways, experts, np.full(400, -1, dtype=np.int32), shards)
    use, _ = memory_use_bytes(placement, model, weight_bytes=2, context_tokens=4, num_satellites=400)
    # memory: the shared expert's weights split the same way (layer 0 alone keeps them whole)
    assert use[300] == use[301] == pytest.approx((attention + shared + kv) * 6 / 16, abs=1e-6)
    assert use[1] == pytest.approx((attention + shared + kv) * 6 / 16 + router, abs=1e-6)
    assert use[0] == attention + shared + kv + router + h * model.vocab_size * 2


def test_message_pairs_are_the_shard_inputs_the_engine_sends():
    """Layer 0's helpers get the scatter from their gateway; a helper of layer l >= 1 gets the
    outputs of every expert (and copy) of layer l-1 instead (parallel dispatch, combine at the next
    gateway), and a gateway -> helper scatter only when the inputs go through the gateway."""
    from harness.placement.types import Placement

    gateways = np.array([0, 1], dtype=np.int32)
    experts = np.array([[2, 3], [4, 5]], dtype=np.int32)
    shards = np.array([[10], [11]], dtype=np.int32)
    replicas = np.array([[[20], [-1]], [[-1], [-1]]], dtype=np.int32)  # expert 0 of layer 0 copied to 20
    placement = Placement("hand", gateways, experts, np.full(30, -1, dtype=np.int32), shards, replicas)
    pairs = {tuple(p) for p in placement.message_pairs().tolist()}
    base = {(0, 2), (0, 3), (1, 4), (1, 5), (2, 1), (3, 1), (4, 0), (5, 0), (0, 20), (20, 1)}
    assert pairs == base | {(0, 10), (10, 0), (11, 1), (2, 11), (3, 11), (20, 11)}
    through_gateway = {tuple(p) for p in placement.message_pairs(direct_shard_input=False).tolist()}
    assert through_gateway == base | {(0, 10), (10, 0), (11, 1), (1, 11)}


def test_attention_is_split_by_heads():
    """A shard computes ceil(heads / m) of a layer's heads: gateway_ns / m to the bit when m divides
    the heads, the largest shard's share otherwise; no layer is split over more satellites than heads."""
    from harness.workload.compute import shard_compute_ns

    gateway_ns = np.array([18_446_997] * 4)
    np.testing.assert_array_equal(shard_compute_ns(gateway_ns, np.array([0, 1, 3, 7]), 32),
                                  np.round(gateway_ns / np.array([1, 2, 4, 8])).astype(np.int64))
    assert shard_compute_ns(gateway_ns[:1], np.array([2]), 32)[0] == round(18_446_997 * 11 / 32)
    assert shard_compute_ns(gateway_ns[:1], np.array([4]), 32)[0] == round(18_446_997 * 7 / 32)
    with pytest.raises(ValueError, match="3 shards but has only 2 attention heads"):
        shard_compute_ns(gateway_ns[:1], np.array([2]), 2)


def test_presets_carry_their_published_head_counts():
    """num_attention_heads of each model's config.json (LLaMA-MoE keeps LLaMA-2-7B's 32)."""
    from harness.scenario import MODEL_PRESETS

    published = {"llama-moe-3.5b-2of8": 32, "llama-moe-3.5b-4of16": 32, "mixtral-8x7b": 32,
                 "qwen1.5-moe-a2.7b": 16, "olmoe-1b-7b": 16, "deepseek-v2-lite": 16, "qwen3-30b-a3b": 32,
                 "deepseek-v3": 128, "kimi-k2": 64, "qwen3-235b-a22b": 64, "gpt-oss-120b": 64, "llama-4-maverick": 40}
    assert {name: preset["heads"] for name, preset in MODEL_PRESETS.items()} == published


def test_a_layer_is_split_over_at_most_its_heads(prepared):
    """With 2 heads a tensor-parallel strategy gives a layer at most 1 helper; a plan splitting a
    layer over more satellites than heads is refused in one line."""
    from harness.placement.types import check_plan_for_scenario

    _, _, prep = prepared
    wide = place("space-xnet-tp", prep.inputs, np.random.default_rng(0))
    assert (wide.shards >= 0).sum(axis=1).max() >= 2
    narrow = place("space-xnet-tp", dataclasses.replace(prep.inputs, heads=2, shared={}), np.random.default_rng(0))
    assert (narrow.shards >= 0).sum(axis=1).max() <= 1
    with pytest.raises(PlacementError, match=r"over \d+ satellites but the model has 2 heads \(model.heads\)"):
        check_plan_for_scenario(wide, "plan file 'p.json'", heads=2)


def test_shard_ids_below_minus_one_and_dense_routes_missing_a_helper_or_copy_are_refused():
    """packet_sim's input checks agree with Placement._validate_shards (ids >= -1), and dense
    Routes must cover every helper shard and expert copy as a destination (run_packet_sim and
    analytic_latency both call check_destinations)."""
    from harness.simulate.packet import _check_shards, check_destinations
    from harness.network.routes import Routes

    with pytest.raises(ValueError, match="satellite ids first, then -1"):
        _check_shards(np.array([[3, -2]]), np.array([0]), 10)
    routes = Routes(destinations=np.array([0, 1, 2], dtype=np.int32), next_hop=np.zeros((1, 10, 3), np.int32),
                    delay_ns=np.zeros((1, 10, 3), np.int64), hops=np.zeros((1, 10, 3), np.int32))
    gateways, experts = np.array([0]), np.array([[1, 2]])
    check_destinations(routes, gateways, experts, None, None)  # components covered
    for shards, replicas in ((np.array([[5]]), None), (None, np.array([[[6], [-1]]]))):
        with pytest.raises(ValueError, match="every component, shard and expert copy"):
            check_destinations(routes, gateways, experts, shards, replicas)
