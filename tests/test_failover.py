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


def run(policy: str | None, *, starts_ns, fail_sat: int, replica_of, replacements=None):
    topo, rts = ring()
    starts = np.array(starts_ns, dtype=np.int64)
    requests = len(starts)
    inp = simulation_input(topology=topo, routes=rts, links=LinkSpec(rate_bps=RATE_BPS, mtu_bytes=MTU),
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


def test_replace_moves_the_failed_expert_to_the_spare_after_its_weights_arrive_as_packets():
    # Replica 0's expert (satellite 1) fails at 100 ms; detected at 150 ms, its 10 MB of weights go
    # from replica 1's copy (satellite 3) to spare 4, one hop, as packets paced at the link rate.
    # Request 0 arrived at 120 ms and was stuck; it restarts when the weights are whole, on the
    # spare: its first token is delayed by the transfer.
    size = 10_000_000
    jobs = np.array([[0, 1, 0, 0, FAIL_NS, 3, 4, size]], dtype=np.int64)
    result = run("replace", starts_ns=[120_000_000, 130_000_000], fail_sat=1, replica_of=[0, 1],
                 replacements=jobs)
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
