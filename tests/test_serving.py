"""Serving (harness/workload/traffic/): prefill, model replicas and requests.csv through the real ns-3, against
hand computations; the traffic registries; the schema's serving rules; the regression guard."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from harness.errors import ScenarioError
from harness.workload.compute import ComputeTimes
from harness.scenario import LinkSpec, LengthSpec, load_scenario, scenario_from_dict
from harness.workload.traffic import bottleneck_work_ns
from harness.workload.traffic.lengths import LENGTHS
from harness.workload.traffic.prefill import prefill_counts
from harness.workload.traffic.replicas import POLICIES
from harness.analysis.serving import request_table, satellite_busy_ns
from networks import packet_run, routes, topology

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "serving_regression"

GATEWAY_NS, EXPERT_NS, LM_HEAD_NS = 5_000, 7_000, 11_000
RATE_BPS = 1e9  # 8 ns per byte: every packet's transmission time is a whole number of ns
MESSAGE_BYTES = 1000


def tx_ns(message_bytes: int) -> int:
    """One-hop transmission of a whole message at RATE_BPS: its packets back to back."""
    return sum(size * 8 for size in LinkSpec(rate_bps=RATE_BPS).packet_sizes_bytes(message_bytes))


def test_two_replicas_pipeline_ideally_ttft_and_tpot_to_the_nanosecond():
    # Two replicas of a 1-layer model with 2 experts (top-2): replica 0 on gateway 0 and experts
    # 1, 2; replica 1 on gateway 3 and experts 4, 5. Every component is one hop from its gateway, a
    # link of its own, so two requests arriving together, one per replica (round robin), run in
    # parallel without touching each other: each sees the lone-request times.
    edges = [(0, 1), (0, 2), (3, 4), (3, 5), (2, 3)]
    delays = [1_000_000, 2_000_000, 3_000_000, 500_000, 9_000_000]  # ns, in edge order
    topo = topology(6, edges, [delays])
    hops = {}
    for gw, ex in ((0, (1, 2)), (3, (4, 5))):
        for e in ex:
            hops[gw, e], hops[e, gw] = e, gw
    rts = routes(topo, [0, 1, 2, 3, 4, 5], [hops])
    prompts = np.array([6, 3], dtype=np.int32)  # P: 6 and 3 prompt tokens
    requests, tokens = 2, 3
    activations = np.tile(np.array([0, 1], dtype=np.int32), (requests, tokens, 1, 1))  # [R, T, L=1, k=2]
    prompt_trace = np.tile(np.array([0, 1], dtype=np.int32), (requests, int(prompts.max()), 1, 1))
    counts = prefill_counts(prompt_trace, prompts, num_experts=2)
    assert counts.tolist() == [[[6, 6]], [[3, 3]]]
    replica_of = POLICIES["round-robin"](np.zeros(requests, dtype=np.int64), np.ones(requests, dtype=np.int64), 2)
    assert replica_of.tolist() == [0, 1]
    gateways = np.array([[0], [3]], dtype=np.int32)
    experts = np.array([[[1, 2]], [[4, 5]]], dtype=np.int32)
    arrival = np.array([0, 0], dtype=np.int64)
    result = packet_run(topology=topo, routes=rts, links=LinkSpec(rate_bps=RATE_BPS, mtu_bytes=1500),
                            gateways=gateways[0], experts=experts[0], activations=activations,
                            compute=ComputeTimes(np.array([GATEWAY_NS]), np.array([[EXPERT_NS, EXPERT_NS]]),
                                                 LM_HEAD_NS),
                            request_starts_ns=arrival, message_bytes=MESSAGE_BYTES, seed=1, stop_ns=10**10,
                            replica_gateways=gateways, replica_experts=experts, replica_of=replica_of,
                            prompt_tokens=prompts, prefill_counts=counts)
    # Hand computation. Replica r's expert e sits d[r][e] ns (one hop) from its gateway.
    d = [[delays[0], delays[1]], [delays[2], delays[3]]]
    expected_ttft, expected_tpot = [], []
    for r, p in enumerate(prompts.tolist()):
        # Prefill: P x gateway compute; each expert gets the P tokens routed to it (P x 1000 B, its
        # own link), computes P x its work and sends P hidden states back; the later of the two
        # outputs to arrive closes the layer; then one LM head.
        prefill = p * GATEWAY_NS + max(2 * (tx_ns(p * MESSAGE_BYTES) + de) + p * EXPERT_NS for de in d[r]) + LM_HEAD_NS
        decode = GATEWAY_NS + max(2 * (tx_ns(MESSAGE_BYTES) + de) + EXPERT_NS for de in d[r]) + LM_HEAD_NS
        expected_ttft.append(prefill)
        expected_tpot.append(decode)
    table, status = request_table(arrival, replica_of, prompts, np.full(requests, tokens), result.token_end_ns)
    assert status == ["completed", "completed"]
    ttft, tpot = table[:, 7], table[:, 8]
    assert ttft.tolist() == expected_ttft
    assert tpot.tolist() == expected_tpot
    # The two replicas differ (their links do), so each request really ran on its own replica.
    assert expected_ttft[0] != expected_ttft[1]
    # Prefill messages carry P hidden states: 6 tokens x 1000 B = 5 packets of up to 1456 B each way.
    per_message = len(LinkSpec().packet_sizes_bytes(6 * MESSAGE_BYTES)) + len(LinkSpec().packet_sizes_bytes(3 * MESSAGE_BYTES))
    decode_packets = requests * (tokens - 1) * 2 * 2 * len(LinkSpec().packet_sizes_bytes(MESSAGE_BYTES))
    assert result.packets_sent == 2 * 2 * per_message + decode_packets  # 2 experts x (out + back)
    assert result.packets_dropped_queue == 0
    # The engine's busy time per satellite (its ComputeDone trace) is the work of every pass.
    compute = ComputeTimes(np.array([GATEWAY_NS]), np.array([[EXPERT_NS, EXPERT_NS]]), LM_HEAD_NS)
    expected_busy = satellite_busy_ns(6, gateways, experts, replica_of, activations, result.token_end_ns, compute,
                                      prompts, counts)
    assert result.busy_ns.tolist() == expected_busy.tolist()
    p0, p1 = prompts.tolist()
    assert expected_busy[0] == p0 * GATEWAY_NS + LM_HEAD_NS + (tokens - 1) * (GATEWAY_NS + LM_HEAD_NS)
    assert expected_busy[4] == p1 * EXPERT_NS + (tokens - 1) * EXPERT_NS


def test_one_replica_pipelines_two_requests_behind_its_gateway():
    # Two requests on one replica, the second arriving while the first is still at its expert:
    # the gateway is free again (compute first come, first served) so the second only waits for
    # what it shares. Lone decode: the first's TPOT; the second's first pass starts at its arrival.
    topo = topology(2, [(0, 1)], [[1_000_000]])
    rts = routes(topo, [0, 1], [{(0, 1): 1, (1, 0): 0}])
    one = GATEWAY_NS + 2 * (tx_ns(MESSAGE_BYTES) + 1_000_000) + EXPERT_NS + LM_HEAD_NS
    arrival = np.array([0, 100_000], dtype=np.int64)  # the second arrives while the first is in flight
    result = packet_run(topology=topo, routes=rts, links=LinkSpec(rate_bps=RATE_BPS),
                            gateways=np.array([0]), experts=np.array([[1]]),
                            activations=np.zeros((2, 2, 1, 1), dtype=np.int32),
                            compute=ComputeTimes(np.array([GATEWAY_NS]), np.array([[EXPERT_NS]]), LM_HEAD_NS),
                            request_starts_ns=arrival, message_bytes=MESSAGE_BYTES, seed=1, stop_ns=10**10)
    table, _ = request_table(arrival, np.zeros(2, dtype=np.int32), np.zeros(2, dtype=np.int32),
                             np.full(2, 2), result.token_end_ns)
    # Neither ever waits: their compute jobs never overlap (5 us jobs, 2 ms apart at the gateway).
    assert table[:, 7].tolist() == [one, one]
    assert table[:, 8].tolist() == [one, one]


def test_default_keys_leave_tokens_csv_byte_identical(tmp_path):
    # tiny.yaml with today's keys, and with a serving section that spells out every default, against
    # main's tokens.csv saved before the serving work (tests/data/serving_regression/SOURCE.md).
    from harness.cli import main

    expected = (DATA / "tiny_tokens.csv").read_bytes()
    for name, extra in (("plain", ""), ("defaults", "serving:\n  arrivals: fixed\n  prefill: false\n  replicas: 1\n"
                                                     "  replica_policy: round-robin\n  prompt: {kind: fixed, tokens: 0}\n")):
        scenario = tmp_path / f"{name}.yaml"
        scenario.write_text((REPO / "topologies" / "tiny.yaml").read_text() + extra)
        out = tmp_path / name
        assert main(["run", str(scenario), "--out", str(out)]) == 0
        assert (out / "tokens.csv").read_bytes() == expected
        assert not (out / "requests.csv").exists()


def test_lengths_registry():
    rng = np.random.default_rng(3)
    assert LENGTHS["fixed"](LengthSpec(tokens=512), 4, rng).tolist() == [512] * 4
    u = LENGTHS["uniform"](LengthSpec(kind="uniform", low=3, high=5), 2000, rng)
    assert set(u.tolist()) == {3, 4, 5}
    ln = LENGTHS["lognormal"](LengthSpec(kind="lognormal", median=100, sigma=0.5, low=1, high=10_000), 20_000, rng)
    # The median of median x exp(sigma Z) is the median (sampling error of 20,000 draws: ~1 %).
    assert abs(np.median(ln) - 100) <= 2


def test_least_outstanding_work_balances_by_queued_work():
    # A long request then two short ones, all at once: the long one takes replica 0, both short
    # ones replica 1 (its queue is still shorter after the first), where round robin alternates.
    arrival = np.zeros(3, dtype=np.int64)
    work = np.array([100, 10, 10], dtype=np.int64)
    assert POLICIES["least-outstanding-work"](arrival, work, 2).tolist() == [0, 1, 1]
    assert POLICIES["round-robin"](arrival, work, 2).tolist() == [0, 1, 0]
    # Arrivals far apart find every replica idle: the tie goes to the replica given less work so far.
    spaced = np.array([0, 10**6, 2 * 10**6], dtype=np.int64)
    assert POLICIES["least-outstanding-work"](spaced, np.array([5, 3, 1]), 2).tolist() == [0, 1, 1]


def test_bottleneck_work_counts_prompt_and_lm_head():
    gw = np.array([10, 30])
    assert bottleneck_work_ns(np.array([4]), np.array([3]), gw, 50, True).tolist() == [max(6 * 10 + 3 * 50, 6 * 30)]
    assert bottleneck_work_ns(np.array([4]), np.array([3]), gw, 50, False).tolist() == [max(3 * 10 + 150, 90)]


BASE = {"name": "s", "constellation": {"planes": 6, "sats_per_plane": 8}}


@pytest.mark.parametrize("serving, words", [
    ({"arrivals": "poisson"}, "rate_per_s"),
    ({"rate_per_s": 2.0}, "set arrivals: poisson"),
    ({"arrivals": "file"}, "arrivals_path"),
    ({"prompt": {"kind": "fixed", "tokens": 8}}, "prefill"),
    ({"prefill": True, "prompt": {"kind": "uniform", "low": 9, "high": 3}}, "swap them"),
    ({"replicas": 3}, "replicas"),
    ({"prefill": True, "prompt": {"tokens": 2000}}, "queue_packets"),
    ({"bogus": 1}, "unknown key 'serving.bogus'"),
])
def test_bad_serving_keys_are_one_clear_error(serving, words):
    with pytest.raises(ScenarioError, match=words.replace(".", r"\.")):
        scenario_from_dict({**BASE, "serving": serving})


def test_shipped_serving_scenarios_load():
    for name in ("serving_polar_1056.yaml", "serving_ttft_polar_1056.yaml"):
        sc = load_scenario(REPO / "topologies" / name)
        assert sc.serving.enabled and sc.serving.prefill


@pytest.mark.parametrize("max_batch", [1, 2])
def test_gateway_batching_under_the_roofline_to_the_nanosecond(max_batch):
    # One layer, one expert one hop away; three requests of one token at t = 0. Roofline: the
    # gateway's attention takes max(n x 5 us, 20 us) for a batch of n, the LM head max(n x 11 us,
    # 30 us): memory-bound, so a batch of two costs what one step does.
    topo = topology(2, [(0, 1)], [[1_000_000]])
    rts = routes(topo, [0, 1], [{(0, 1): 1, (1, 0): 0}])
    memory = ComputeTimes(np.array([20_000]), np.array([[0]]), 30_000)
    result = packet_run(topology=topo, routes=rts, links=LinkSpec(rate_bps=RATE_BPS),
                            gateways=np.array([0]), experts=np.array([[1]]),
                            activations=np.zeros((3, 1, 1, 1), dtype=np.int32),
                            compute=ComputeTimes(np.array([GATEWAY_NS]), np.array([[EXPERT_NS]]), LM_HEAD_NS),
                            request_starts_ns=np.zeros(3, dtype=np.int64), message_bytes=MESSAGE_BYTES, seed=1,
                            stop_ns=10**10, memory=memory, max_batch=max_batch)
    tx, m = tx_ns(MESSAGE_BYTES), tx_ns(MESSAGE_BYTES) + 1_000_000  # one message over the link
    if max_batch == 2:
        # r0's attention alone [0, 20 us] (the others were not queued yet when it started); r1 and
        # r2 together [20, 40 us]. Their hidden states share the link: r2's leaves tx after r1's;
        # the expert runs r1 [40 us + m, 47 us + m], r2 from 40 us + m + tx = 48.368 us + m (when its
        # message is whole, after r1 finished), 7 us.
        # LM heads: r0 alone at its combine (27 us + 2m) for 30 us; r1 and r2 have both combined
        # (47 us + 2m, 55.368 us + 2m) when it ends, so they run as one batch of 30 us.
        combine = [27_000 + 2 * m, 47_000 + 2 * m, 40_000 + tx + EXPERT_NS + 2 * m]
        end = [57_000 + 2 * m, 87_000 + 2 * m, 87_000 + 2 * m]
    else:
        # One step a job: attention r0 [0, 20], r1 [20, 40], r2 [40, 60] us; the expert is free for
        # each; LM heads one after the other, 30 us each, from r0's combine on.
        combine = [27_000 + 2 * m, 47_000 + 2 * m, 67_000 + 2 * m]
        end = [57_000 + 2 * m, 87_000 + 2 * m, 117_000 + 2 * m]
    assert result.combine_ns[:, 0, 0].tolist() == combine
    assert result.token_end_ns[:, 0].tolist() == end


def tiny_serving(tmp_path: Path, serving: str, extra: str = "") -> Path:
    text = (REPO / "topologies" / "tiny.yaml").read_text().replace("name: tiny", "name: tiny-serving")
    path = tmp_path / "serving.yaml"
    path.write_text(text + extra + "serving:\n" + serving)
    return path


def test_tiny_serving_run_end_to_end_two_replicas_prefill(tmp_path):
    # tiny.yaml with Poisson arrivals, uniform prompts, prefill, two replicas: every request
    # completes on its replica's satellites, requests.csv agrees with tokens.csv, the analytic model
    # is marked not applicable, and `analyze` rebuilds the same summary from the files.
    import json

    from harness.cli import main
    from harness.formats.requests import read_requests_csv

    scenario = tiny_serving(tmp_path, "  arrivals: poisson\n  rate_per_s: 4\n  prefill: true\n"
                                      "  prompt: {kind: uniform, low: 2, high: 20}\n  replicas: 2\n")
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out)]) == 0
    req = read_requests_csv(out / "requests.csv")["space-xnet"]
    assert (req["status"] == "completed").all()
    assert sorted(set(req["replica"].tolist())) == [0, 1]  # round robin over 2 requests
    assert ((2 <= req["prompt_tokens"]) & (req["prompt_tokens"] <= 20)).all()
    tokens = np.loadtxt(out / "tokens.csv", delimiter=",", skiprows=1, usecols=range(1, 10), dtype=np.int64)
    ends = tokens[:, 3].reshape(2, 8)
    assert (req["first_token_ns"] == ends[:, 0]).all() and (req["ttft_ns"] == ends[:, 0] - req["arrival_ns"]).all()
    assert (req["tpot_ns"] == np.round((ends[:, -1] - ends[:, 0]) / 7)).all()
    assert (tokens[tokens[:, 1] == 0, 2] == req["arrival_ns"]).all()  # token 0, the prefill, starts at arrival
    assert (tokens[:, 5] == -1).all()  # analytic_ns: not applicable
    summary = json.loads((out / "summary.json").read_text())
    stats = summary["strategies"]["space-xnet"]
    assert stats["analytic_agreement"] is None and stats["share"] is None
    assert stats["serving"]["completed"] == 2 and "not applicable" in stats["serving"]["analytic_model"]
    assert (out / "plots" / "ttft_tpot_cdf.png").is_file() and (out / "plots" / "utilisation_map.png").is_file()
    # The two replicas' placements share no satellite (layers.csv: each request on its replica's).
    layers = np.loadtxt(out / "layers.csv", delimiter=",", skiprows=1, usecols=(1, 4), dtype=np.int64)
    gw_of = {r: set(layers[layers[:, 0] == r, 1].tolist()) for r in (0, 1)}
    assert not gw_of[0] & gw_of[1]
    before = (out / "summary.json").read_text()
    assert main(["analyze", str(out)]) == 0
    assert (out / "summary.json").read_text() == before


def test_prefill_with_own_gateway_combine_and_retransmission_completes(tmp_path):
    from harness.cli import main
    from harness.formats.requests import read_requests_csv

    scenario = tiny_serving(tmp_path, "  prefill: true\n  prompt: {kind: fixed, tokens: 12}\n",
                            extra="faults:\n  retransmit_timeout_ms: 500\n")
    scenario.write_text(scenario.read_text().replace("  ffn_size: 1376\n", "  ffn_size: 1376\n  combine: own-gateway\n"))
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out)]) == 0
    req = read_requests_csv(out / "requests.csv")["space-xnet"]
    assert (req["status"] == "completed").all() and (req["prompt_tokens"] == 12).all()


def test_poisson_arrivals_are_seeded_and_have_the_rate():
    from harness.workload.traffic.arrivals import ARRIVALS

    sc = scenario_from_dict({**BASE, "traffic": {"requests": 20_000},
                             "serving": {"arrivals": "poisson", "rate_per_s": 50.0}})
    a, _, _ = ARRIVALS["poisson"](sc, np.random.default_rng(1))
    b, _, _ = ARRIVALS["poisson"](sc, np.random.default_rng(1))
    assert (a == b).all() and (np.diff(a) >= 0).all()
    # Mean gap 1 / rate = 20 ms; the standard error of 20,000 exponential gaps is 0.7 %: 3 % is 4 sigma.
    assert abs(np.diff(a).mean() / 20e6 - 1) < 0.03


def test_arrivals_file_is_read_strictly(tmp_path):
    from harness.formats.requests import read_arrivals_csv

    good = tmp_path / "a.csv"
    good.write_text("time_s,prompt_tokens\n0.5,10\n1.25,0\n")
    times, prompts, outputs = read_arrivals_csv(good, requests=2)
    assert times.tolist() == [0.5, 1.25] and prompts.tolist() == [10, 0] and outputs is None
    good.write_text("time_s,prompt_tokens,output_tokens\n0.5,10,3\n1.25,0,8\n")
    assert read_arrivals_csv(good, requests=2, max_output=8)[2].tolist() == [3, 8]
    good.write_text("time_s,prompt_tokens,output_tokens\n0.5,10,3\n1.25,0,9\n")
    with pytest.raises(ScenarioError, match="output_tokens must be in"):
        read_arrivals_csv(good, requests=2, max_output=8)
    for text, words in (("time_s,prompt\n0,1\n0,1\n", "header"), ("time_s,prompt_tokens\n0,1\n", "has 1 requests"),
                        ("time_s,prompt_tokens\n2,1\n1,1\n", "sort the file"),
                        ("time_s,prompt_tokens\n0,x\n0,1\n", "line 2")):
        good.write_text(text)
        with pytest.raises(ScenarioError, match=words):
            read_arrivals_csv(good, requests=2)


def test_prefill_counts_sum_to_prompt_times_top_k():
    rng = np.random.default_rng(5)
    trace = rng.integers(0, 8, size=(3, 10, 4, 2)).astype(np.int32)
    prompts = np.array([10, 4, 0])
    counts = prefill_counts(trace, prompts, num_experts=8)
    assert (counts.sum(axis=2) == prompts[:, None] * 2).all()
    # Request 1's prompt is its last 4 prompt positions (right-aligned against the decode tokens).
    assert (counts[1, 0] == np.bincount(trace[1, 6:, 0].ravel(), minlength=8)).all()


def test_sweep_table_gets_serving_columns(tmp_path):
    import json

    from harness.run.sweep import SERVING_COLUMNS, collect, load_sweep

    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text(f"name: s\nbase: {REPO / 'topologies' / 'tiny.yaml'}\ngrid:\n  serving.rate_per_s: [1.0]\n"
                          f"set:\n  serving.arrivals: poisson\n")
    sweep = load_sweep(sweep_file, tmp_path / "out")
    point = sweep.points[0]
    point.out_dir.mkdir(parents=True)
    serving = {"throughput_tokens_per_s": 1.5, "steady_throughput_tokens_per_s": 2.5,
               "ttft": {"p50_ns": 1, "p95_ns": 2, "p99_ns": 3}, "tpot": {"p50_ns": 4, "p95_ns": 5, "p99_ns": 6}}
    stats = {"tokens": 4, "completed": 4, "mean_ns": 7, "p50_ns": 7, "p95_ns": 7, "p99_ns": 7, "serving": serving}
    (point.out_dir / "summary.json").write_text(json.dumps({"strategies": {"space-xnet": stats}}))
    header, row = collect(sweep).strip().splitlines()
    assert header.endswith(",".join(SERVING_COLUMNS))
    assert row.endswith(",1.5,2.5,1,3,4,6")


def test_output_lengths_end_requests_early_and_leave_them_out_of_the_traces(tmp_path):
    # Uniform output lengths in [2, 8] (traffic.tokens_per_request 8 is the longest): each request
    # ends after its own count, tokens.csv and layers.csv list only those tokens, and TPOT divides
    # by its own count - 1.
    from harness.cli import main
    from harness.formats.requests import read_requests_csv

    scenario = tiny_serving(tmp_path, "  arrivals: poisson\n  rate_per_s: 10\n  output: {kind: uniform, low: 2, high: 8}\n")
    text = scenario.read_text().replace("requests: 2", "requests: 6")
    scenario.write_text(text)
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out)]) == 0
    req = read_requests_csv(out / "requests.csv")["space-xnet"]
    assert (req["status"] == "completed").all()
    lengths = req["output_tokens"]
    assert ((2 <= lengths) & (lengths <= 8)).all() and len(set(lengths.tolist())) > 1
    tokens = np.loadtxt(out / "tokens.csv", delimiter=",", skiprows=1, usecols=range(1, 10), dtype=np.int64)
    assert len(tokens) == lengths.sum()
    assert np.bincount(tokens[:, 0], minlength=6).tolist() == lengths.tolist()
    assert (tokens[:, 3] >= 0).all()
    for r in range(6):
        ends = tokens[tokens[:, 0] == r, 3]
        assert req["tpot_ns"][r] == round((ends[-1] - ends[0]) / (lengths[r] - 1))
    layers = np.loadtxt(out / "layers.csv", delimiter=",", skiprows=1, usecols=(1,), dtype=np.int64)
    assert len(layers) == 4 * lengths.sum()
    with pytest.raises(ScenarioError, match="serving.output"):
        scenario_from_dict({**BASE, "serving": {"output": {"kind": "uniform", "low": 1, "high": 9}}})


def test_an_arrivals_files_prompts_are_checked_against_the_links(tmp_path, capsys):
    # serving.prompt's lengths are checked by the schema; a file's only when read: a prompt whose
    # prefill burst overflows the link queues is one error line naming the file, before ns-3 runs.
    from harness.cli import main

    arrivals = tmp_path / "arrivals.csv"
    arrivals.write_text("time_s,prompt_tokens\n0,4\n0.1,3000\n")
    scenario = tiny_serving(tmp_path, "  arrivals: file\n  arrivals_path: arrivals.csv\n  prefill: true\n")
    assert main(["run", str(scenario), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"error: {arrivals}: 'links.queue_packets' 1000 cannot hold") and "3000" in err[-1]
    assert not (tmp_path / "out").exists()
