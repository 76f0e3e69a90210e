"""Serving (harness/traffic/): prefill, model replicas and requests.csv through the real ns-3, against
hand computations; the traffic registries; the schema's serving rules; the regression guard."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from harness.errors import ScenarioError
from harness.packet_sim import ComputeTimes, run_packet_sim
from harness.scenario import LinkSpec, LengthSpec, load_scenario, scenario_from_dict
from harness.traffic import bottleneck_work_ns
from harness.traffic.lengths import LENGTHS
from harness.traffic.prefill import prefill_counts
from harness.traffic.replicas import POLICIES
from harness.traffic.report import request_table
from networks import routes, topology

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
    result = run_packet_sim(topology=topo, routes=rts, links=LinkSpec(rate_bps=RATE_BPS, mtu_bytes=1500),
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


def test_one_replica_pipelines_two_requests_behind_its_gateway():
    # Two requests on one replica, the second arriving while the first is still at its expert:
    # the gateway is free again (compute first come, first served) so the second only waits for
    # what it shares. Lone decode: the first's TPOT; the second's first pass starts at its arrival.
    topo = topology(2, [(0, 1)], [[1_000_000]])
    rts = routes(topo, [0, 1], [{(0, 1): 1, (1, 0): 0}])
    one = GATEWAY_NS + 2 * (tx_ns(MESSAGE_BYTES) + 1_000_000) + EXPERT_NS + LM_HEAD_NS
    arrival = np.array([0, 100_000], dtype=np.int64)  # the second arrives while the first is in flight
    result = run_packet_sim(topology=topo, routes=rts, links=LinkSpec(rate_bps=RATE_BPS),
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
    result = run_packet_sim(topology=topo, routes=rts, links=LinkSpec(rate_bps=RATE_BPS),
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
