"""Fail-over between model replicas and re-placement of lost components (faults.recovery, issue 24),
through real ns-3, against times computed by hand; the schema's refusals; and the default (none)
leaving today's traces byte-identical.

The hand-built network is a ring of five satellites 0-1-2-3-4-0, every link 1 ms and 1 Gbit/s,
MTU 9000. A one-layer, one-expert model runs as two replicas: replica 0 has its gateway on 0 and
its expert on 1, replica 1 on 2 and 3; satellite 4 is spare. Messages are 1000 bytes (one packet).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from harness.errors import ScenarioError
from harness.scenario import (APP_HEADER_BYTES, PACKET_OVERHEAD_BYTES, FaultSpec, LinkSpec, load_scenario,
                              scenario_from_dict)
from harness.simulate.inputs import RecoveryInput, ServingInput
from harness.simulate.packet import COMPONENT_LOST, NO_REPLICA, RECOVERY_FIELDS, run_packet_sim, token_outcomes
from harness.workload.compute import ComputeTimes
from networks import routes, simulation_input, topology

GATEWAY_NS, EXPERT_NS, LM_HEAD_NS = 5_000, 7_000, 11_000
HOP_NS = 1_000_000
RATE_BPS = 1e9
MTU = 9000
TX_NS = (1000 + PACKET_OVERHEAD_BYTES) * 8  # one 1000-byte message at 1 Gbit/s
#: One token through gateway -> expert -> gateway, each leg one 1 ms hop.
TOKEN_NS = GATEWAY_NS + TX_NS + HOP_NS + EXPERT_NS + TX_NS + HOP_NS + LM_HEAD_NS
FAIL_NS, DETECT_NS = 100_000_000, 50_000_000
#: Header bytes a weight packet adds on the wire: UDP, IPv4, PPP (no application header).
WEIGHT_OVERHEAD_BYTES = PACKET_OVERHEAD_BYTES - APP_HEADER_BYTES


def ring():
    n = 5
    topo = topology(n, [(i, (i + 1) % n) for i in range(n)], [[HOP_NS] * n], interval_s=10.0)
    hops = {}
    for a in range(n):
        for b in range(n):
            if a != b:
                forward = (b - a) % n
                hops[a, b] = (a + 1) % n if forward <= n // 2 else (a - 1) % n
    return topo, routes(topo, list(range(n)), [hops])


def run(policy: str | None, *, starts_ns, fail_sat: int, replica_of, replacements=None, forwarding="ip"):
    topo, rts = ring()
    starts = np.array(starts_ns, dtype=np.int64)
    requests = len(starts)
    inp = simulation_input(topology=topo, routes=rts, links=LinkSpec(rate_bps=RATE_BPS, mtu_bytes=MTU, forwarding=forwarding),
                           gateways=np.array([0]), experts=np.array([[1]]),
                           activations=np.zeros((requests, 1, 1, 1), dtype=np.int32),
                           compute=ComputeTimes(np.array([GATEWAY_NS]), np.array([[EXPERT_NS]]), LM_HEAD_NS),
                           request_starts_ns=starts, message_bytes=1000)
    serving = ServingInput(replica_gateways=np.array([[0], [2]]), replica_experts=np.array([[[1]], [[3]]]),
                           replica_of=np.array(replica_of, dtype=np.int32))
    fail = np.full(5, -1, dtype=np.int64)
    fail[fail_sat] = FAIL_NS  # one satellite, or several
    recovery = None if policy is None else RecoveryInput(policy=policy, detection_ns=DETECT_NS,
                                                         replacements=replacements)
    return run_packet_sim(inp, seed=1, stop_ns=2 * 10**9, faults=FaultSpec(satellite_failures=((0, 0.1),)),
                          satellite_fail_ns=fail, serving=serving, recovery=recovery)


def test_failover_resends_the_request_in_flight_after_the_detection_delay_and_routes_new_ones_around():
    # Replica 0's gateway (satellite 0) fails at 100 ms. Request 0 arrives there at 120 ms and is
    # stuck; at 150 ms the loss is detected and it is resent to replica 1, where its token takes
    # TOKEN_NS. Request 1 arrives at replica 0 at 200 ms, known broken: it goes to replica 1 at once.
    # Request 2 (replica 1) is not touched.
    result = run("failover", starts_ns=[120_000_000, 200_000_000, 130_000_000], fail_sat=0, replica_of=[0, 0, 1])
    rec = dict(zip(RECOVERY_FIELDS, result.recovery.T))
    detected = FAIL_NS + DETECT_NS
    assert result.token_end_ns[:, 0].tolist() == [detected + TOKEN_NS, 200_000_000 + TOKEN_NS,
                                                  130_000_000 + TOKEN_NS]
    assert rec["replica"].tolist() == [1, 1, 1]
    assert rec["failovers"].tolist() == [1, 1, 0]
    assert rec["lost_ns"].tolist() == [detected - 120_000_000, 0, 0]
    assert (result.failures[:, 0] == 0).all()


def test_without_failover_the_failing_replicas_request_fails_with_a_reason():
    result = run(None, starts_ns=[120_000_000, 130_000_000], fail_sat=0, replica_of=[0, 1])
    assert result.recovery is None
    assert result.failures[0, 0] == COMPONENT_LOST and result.token_end_ns[0, 0] == -1
    assert result.token_end_ns[1, 0] == 130_000_000 + TOKEN_NS
    status, reason = token_outcomes(result, np.array([0]), np.array([[1]]), False, 2 * 10**9)
    assert status[0, 0] == "failed" and reason[0, 0].startswith("satellite 0 failed: lost the gateway of layer 0")
    assert status[1, 0] == "completed"


def test_failover_with_no_replica_left_fails_the_request_with_a_reason():
    # Both gateways fail at 100 ms: request 0, stuck on replica 0, finds replica 1 broken too.
    result = run("failover", starts_ns=[120_000_000], fail_sat=[0, 2], replica_of=[0])
    assert result.failures[0, 0] == NO_REPLICA and result.token_end_ns[0, 0] == -1
    assert result.recovery[0, RECOVERY_FIELDS.index("lost_ns")] == FAIL_NS + DETECT_NS - 120_000_000
    status, reason = token_outcomes(result, np.array([0]), np.array([[1]]), False, 2 * 10**9)
    assert status[0, 0] == "failed" and "no other replica was left" in reason[0, 0]


def weight_transfer_ns(size: int) -> int:
    """The paced transfer of ``size`` bytes of weights over one 1 ms hop at 1 Gbit/s: every packet's
    wire time (payload + UDP/IPv4/PPP headers), back to back, plus the hop's propagation delay."""
    segment = LinkSpec(rate_bps=RATE_BPS, mtu_bytes=MTU).segment_payload_bytes
    packets = math.ceil(size / segment)
    return (size + packets * WEIGHT_OVERHEAD_BYTES) * 8 + HOP_NS, packets


@pytest.mark.parametrize("forwarding", ["ip", "link"])
def test_replace_moves_the_failed_expert_to_the_spare_after_its_weights_arrive_as_packets(forwarding):
    # Replica 0's expert (satellite 1) fails at 100 ms; detected at 150 ms, its 10 MB of weights go
    # from replica 1's copy (satellite 3) to spare 4, one hop, as packets paced at the link rate.
    # Request 0 arrived at 120 ms and was stuck; it restarts when the weights are whole, on the
    # spare: its first token is delayed by the transfer.
    size = 10_000_000
    jobs = np.array([[0, 1, 0, 0, FAIL_NS, 3, 4, size]], dtype=np.int64)
    # (links.forwarding: link moves the same frames without IP and UDP: the same times to the ns)
    result = run("replace", starts_ns=[120_000_000, 130_000_000], fail_sat=1, replica_of=[0, 1],
                 replacements=jobs, forwarding=forwarding)
    detected = FAIL_NS + DETECT_NS
    exact_ns, packets = weight_transfer_ns(size)
    (detected_ns, ready_ns, sent, sent_bytes), = result.replacements.tolist()
    assert detected_ns == detected and sent == packets == result.weight_packets and sent_bytes == size
    assert ready_ns - detected_ns == exact_ns
    # The weight packets are real ns-3 traffic: one hop each, beside the tokens' 2 x 2 hops.
    assert result.packet_hops == packets + 2 * 2
    assert result.packets_dropped_queue == 0
    # The first token after the re-placement: delayed by the transfer, within 1 % of
    # bytes / link rate + path delay (the headers add 30 B per 8956 B packet: 0.33 %).
    first_token_delay = result.token_end_ns[0, 0] - (detected + TOKEN_NS)
    brief_ns = size * 8 / RATE_BPS * 1e9 + HOP_NS
    assert first_token_delay == exact_ns
    assert abs(first_token_delay - brief_ns) / brief_ns < 0.01
    rec = dict(zip(RECOVERY_FIELDS, result.recovery.T))
    assert rec["replacements"].tolist() == [1, 0] and rec["failovers"].tolist() == [0, 0]
    assert rec["lost_ns"].tolist() == [ready_ns - 120_000_000, 0]
    assert result.token_end_ns[1, 0] == 130_000_000 + TOKEN_NS  # replica 1 untouched


TINY_SERVING = {"name": "t", "constellation": {"planes": 10, "sats_per_plane": 10},
                "model": {"layers": 2, "experts": 4, "top_k": 2},
                "serving": {"replicas": 2}}


@pytest.mark.parametrize("extra, words", [
    ({"serving": {"replicas": 1}, "faults": {"recovery": "failover"}}, ["'serving.replicas' is 1", "recovery: none"]),
    ({"serving": {"replicas": 1}, "faults": {"recovery": "replace"}}, ["another replica's copy"]),
    ({"constellation": {"planes": 4, "sats_per_plane": 5}, "serving": {"replicas": 2},
      "faults": {"recovery": "replace"}}, ["no satellite is spare", "recovery: failover"]),
    ({"faults": {"recovery": "sometimes"}}, ["faults.recovery"]),
    ({"faults": {"recovery": "failover", "detection_delay_s": 0}}, ["faults.detection_delay_s"]),
])
def test_bad_recovery_keys_are_one_line_naming_the_key_and_the_fix(extra, words):
    raw = {**TINY_SERVING, **{k: {**TINY_SERVING.get(k, {}), **v} for k, v in extra.items()}}
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(raw)
    assert all(w in str(err.value) for w in words), str(err.value)
    assert "\n" not in str(err.value)


REPO = Path(__file__).resolve().parents[1]
TINY_TOKENS = REPO / "tests" / "data" / "serving_regression" / "tiny_tokens.csv"


def test_recovery_none_spelled_out_leaves_tokens_csv_byte_identical(tmp_path):
    # The default: today's traces byte for byte (tiny.yaml's tokens.csv saved before the serving
    # work). The five baseline scenarios were also checked with /work/shared/tools/regress.py.
    from harness.cli import main

    scenario = tmp_path / "tiny_none.yaml"
    scenario.write_text((REPO / "topologies" / "tiny.yaml").read_text()
                        + "faults:\n  recovery: none\n  detection_delay_s: 2.5\n")
    assert main(["run", str(scenario), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "tokens.csv").read_bytes() == TINY_TOKENS.read_bytes()


def test_failover_without_failures_changes_no_token_time(tmp_path):
    # Two replicas on tiny.yaml: the controller starts every request where and when it would start.
    from harness import pipeline

    base = (REPO / "topologies" / "tiny.yaml").read_text() + (
        "serving:\n  replicas: 2\n  arrivals: poisson\n  rate_per_s: 20\n")
    runs = {}
    for policy in ("none", "failover"):
        (tmp_path / f"{policy}.yaml").write_text(base + f"faults:\n  recovery: {policy}\n")
        (runs[policy],) = pipeline.run_scenario(load_scenario(tmp_path / f"{policy}.yaml")).traces
    np.testing.assert_array_equal(runs["failover"].token_start_ns, runs["none"].token_start_ns)
    np.testing.assert_array_equal(runs["failover"].token_end_ns, runs["none"].token_end_ns)
    assert (runs["failover"].serving["recovery"] == 0).all() and runs["none"].serving["recovery"] is None
    assert runs["failover"].serving["status"] == ["completed"] * 2


@pytest.fixture(scope="module")
def polar_runs(tmp_path_factory):
    """serving_polar_1056 (two replicas) with replica 0's gateway of layer 5 (satellite 549) failing
    at 120 s, while requests 3 and 5 are in flight there (bench/failover.py; docs/failover.md)."""
    from harness import pipeline

    out = tmp_path_factory.mktemp("polar")
    runs = {}
    for policy in ("none", "failover"):
        path = out / f"{policy}.yaml"
        path.write_text((REPO / "topologies" / "serving_polar_1056.yaml").read_text()
                        + f"faults:\n  satellite_failures: [{{satellite: 549, time_s: 120}}]\n  recovery: {policy}\n")
        (runs[policy],) = pipeline.run_scenario(load_scenario(path)).traces
    return runs


def test_serving_polar_1056_with_failover_completes_every_request(polar_runs):
    none, failover = polar_runs["none"], polar_runs["failover"]
    assert 549 in none.serving["replica_gateways"][0]
    # Without recovery, replica 0's two requests in flight fail, with the satellite named.
    failed = sorted(int(r) for r in np.flatnonzero((none.status == "failed").any(axis=1)))
    assert failed == [3, 5]
    assert all(none.serving["replica"][r] == 0 for r in failed)
    for r in failed:
        assert next(x for x in none.reason[r] if x).startswith("satellite 549 failed: lost the gateway of layer 5")
    # With fail-over every request completes; the two are resent to replica 1 one detection delay
    # after the failure, and lose the time from their arrival to then.
    assert failover.serving["status"] == ["completed"] * 8
    rec = failover.serving["recovery"]  # failovers, replacements, lost_ns
    arrival = failover.serving["table"][:, 2]
    assert rec[:, 0].tolist() == [0, 0, 0, 1, 0, 1, 0, 0] and (rec[:, 1] == 0).all()
    assert rec[[3, 5], 2].tolist() == (121_000_000_000 - arrival[[3, 5]]).tolist()


def test_the_spare_is_the_free_satellite_of_least_path_delay_and_the_holder_the_nearest_copy():
    # A six-satellite ring, 1 ms links: replica 0 (gateway 0, expert 1), replica 1 (gateway 2,
    # expert 3), free 4 and 5. Replica 0's expert is lost: d(0, n) + d(n, 0) is 2 ms for 5 (next to
    # gateway 0), 4 ms for 4. The weights come from replica 1's expert (3). Satellite 5 failing too
    # would leave 4.
    from harness.placement.spares import REPLACEMENT_COLUMNS, replacements

    n = 6
    topo = topology(n, [(i, (i + 1) % n) for i in range(n)], [[HOP_NS] * n])
    fail = np.array([-1, FAIL_NS, -1, -1, -1, -1])
    rows, missing = replacements(topo, fail, np.array([[0], [2]]), np.array([[[1]], [[3]]]), DETECT_NS,
                                 np.array([5e6]), 7e6)
    assert dict(zip(REPLACEMENT_COLUMNS, rows[0].tolist())) == dict(
        replica=0, role=1, layer=0, index=0, fail_ns=FAIL_NS, source_sat=3, spare_sat=5, bytes=7_000_000)
    assert missing == []
    fail[5] = 3 * FAIL_NS  # fails later in the run: not a spare
    rows, _ = replacements(topo, fail, np.array([[0], [2]]), np.array([[[1]], [[3]]]), DETECT_NS,
                           np.array([5e6]), 7e6)
    assert rows[0, REPLACEMENT_COLUMNS.index("spare_sat")] == 4
