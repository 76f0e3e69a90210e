"""Fault recovery through real ns-3: retransmission after a loss, over the route in force at the
retry; requests that fail with a reason; satellite failures; and defaults that change nothing.

Exact expectations are computed by hand as in test_packet_sim.py: a one-layer, one-expert model
whose gateway is on node 0 and expert on node 1, 1000-byte messages (one packet of 1046 bytes on
the wire) at 1 Gbit/s.
"""

from __future__ import annotations

import csv
import dataclasses

import numpy as np
import pytest

from harness import pipeline
from harness.seeding import rng_for
from harness.errors import ScenarioError
from harness.simulate.packet import COMPONENT_LOST, MESSAGE_LOST
from harness.workload.compute import ComputeTimes
from harness.scenario import PACKET_OVERHEAD_BYTES, FaultSpec, LinkSpec, load_scenario, scenario_from_dict
from harness.network.topology import Topology, failure_snapshots, satellite_failure_times_s, with_failed_satellites
from networks import packet_run, routes, topology
from test_end_to_end import REPO, TINY, run_cli

GATEWAY_NS, EXPERT_NS, LM_HEAD_NS = 5_000, 7_000, 11_000
TX_NS = (1000 + PACKET_OVERHEAD_BYTES) * 8  # one 1000-byte message at 1 Gbit/s


def run(topo: Topology, rts, *, faults: FaultSpec, starts_ns=(0,), fail_ns=None):
    compute = ComputeTimes(np.array([GATEWAY_NS]), np.array([[EXPERT_NS]]), LM_HEAD_NS)
    starts = np.array(starts_ns, dtype=np.int64)
    return packet_run(topology=topo, routes=rts, links=LinkSpec(rate_bps=1e9, drop_in_flight=True),
                          gateways=np.array([0]), experts=np.array([[1]]),
                          activations=np.zeros((len(starts), 1, 1, 1), dtype=np.int32), compute=compute,
                          request_starts_ns=starts, message_bytes=1000, seed=1, stop_ns=10**9, faults=faults,
                          satellite_fail_ns=fail_ns)


def triangle(direct_up_in_step_1: bool) -> tuple[Topology, object]:
    """Gateway 0 and expert 1 joined directly (10 ms) and through relay 2 (2 ms + 2 ms). Step 0
    (0-5 ms) routes direct; step 1 (from 5 ms) routes through 2, and the direct link is down unless
    asked otherwise."""
    topo = topology(3, [(0, 1), (0, 2), (2, 1)], [[10_000_000, 2_000_000, 2_000_000]] * 2, interval_s=0.005)
    up = np.array([[True, True, True], [direct_up_in_step_1, True, True]])
    topo = dataclasses.replace(topo, up=up, feasible=up.copy())
    rts = routes(topo, [0, 1], [{(0, 1): 1, (1, 0): 0, (2, 0): 0, (2, 1): 1},
                                {(0, 1): 2, (1, 0): 2, (2, 0): 0, (2, 1): 1}])
    return topo, rts


def test_a_message_lost_in_flight_is_resent_over_the_route_in_force_at_the_retry():
    # The hidden state leaves at 5 us on the 10 ms direct link, which goes down at 5 ms: lost. After
    # the 20 ms timeout it is resent through the relay (2 hops of 2 ms), and so is the output.
    topo, rts = triangle(direct_up_in_step_1=False)
    timeout_ns = 20_000_000
    result = run(topo, rts, faults=FaultSpec(retransmit_timeout_ms=timeout_ns / 1e6, max_retries=3))
    two_hops_ns = 2 * TX_NS + 4_000_000
    assert result.latency_ns[0, 0] == GATEWAY_NS + timeout_ns + two_hops_ns + EXPERT_NS + two_hops_ns + LM_HEAD_NS
    assert result.retransmissions.tolist() == [[1]]
    assert result.packets_dropped_link_down == 1
    # The hidden state twice, the output once, and one ACK for each delivered message.
    assert result.packets_sent == 3 + 2
    assert result.failures[0, 0] == 0
    assert result.duplicates == 0  # the retransmission was needed


def test_without_retransmission_the_same_loss_stalls_the_request():
    topo, rts = triangle(direct_up_in_step_1=False)
    result = run(topo, rts, faults=FaultSpec())
    assert result.latency_ns[0, 0] == -1
    assert result.retransmissions.tolist() == [[0]]
    assert result.packets_dropped_link_down == 1


def test_a_message_that_exhausts_its_retries_fails_its_request_with_the_message_named():
    # The expert is cut off from 5 ms on (no route in step 1): every retry is dropped at the source.
    topo, rts = triangle(direct_up_in_step_1=False)
    rts.next_hop[1, 0, 1] = -1
    timeout_ns = 20_000_000
    result = run(topo, rts, faults=FaultSpec(retransmit_timeout_ms=timeout_ns / 1e6, max_retries=2))
    assert result.latency_ns[0, 0] == -1
    assert result.retransmissions.tolist() == [[2]]
    code, token, layer, expert, kind, at_ns = result.failures[0].tolist()
    assert (code, token, layer, expert, kind) == (MESSAGE_LOST, 0, 0, 0, 0)
    assert at_ns == GATEWAY_NS + 3 * timeout_ns  # the third timeout finds no retry left
    assert result.packets_dropped_no_route == 2


def test_a_failed_satellite_fails_the_token_that_needs_its_component():
    # The expert's satellite goes dark at 3 ms; the hidden state reaches it at 5 us + 10 ms + tx.
    topo, rts = triangle(direct_up_in_step_1=True)
    result = run(topo, rts, faults=FaultSpec(), fail_ns=np.array([-1, 3_000_000, -1]))
    code, token, layer, expert, kind, at_ns = result.failures[0].tolist()
    assert (code, token, layer, expert, kind) == (COMPONENT_LOST, 0, 0, 0, 1)
    assert at_ns == GATEWAY_NS + TX_NS + 10_000_000


def test_satellite_failures_are_aligned_to_snapshots_and_take_their_links_down():
    times_s = np.array([0.0, 1.0, 2.0])
    fail_s = satellite_failure_times_s(3, ((1, 0.5), (2, 2.0), (1, 3.0)))
    assert fail_s.tolist() == [np.inf, 0.5, 2.0]
    assert failure_snapshots(times_s, fail_s).tolist() == [3, 1, 2]
    topo = topology(3, [(0, 1), (1, 2), (0, 2)], [[1, 1, 1]] * 3)
    down = with_failed_satellites(topo, np.array([3, 1, 2]))
    assert down.up.tolist() == [[True, True, True], [False, False, True], [False, False, False]]
    assert down.feasible.all()


def test_drawn_failures_are_seeded_and_do_not_shift_other_draws():
    first = satellite_failure_times_s(100, (), 0.01, rng_for(1, "satellite-failures"))
    again = satellite_failure_times_s(100, (), 0.01, rng_for(1, "satellite-failures"))
    np.testing.assert_array_equal(first, again)
    sc = load_scenario(TINY)
    faulty = dataclasses.replace(sc, faults=FaultSpec(satellite_failure_rate_per_s=0.01))
    healthy = pipeline.build_topology(sc, pipeline.build_constellation(sc))
    np.testing.assert_array_equal(pipeline.build_topology(faulty, pipeline.build_constellation(faulty),
                                                          with_failures=False).up, healthy.up)


@pytest.mark.parametrize("faults, words", [
    ({"satellite_failures": [{"satellite": 100, "time_s": 1}]}, ["satellite 100", "has 100", "0 to 99"]),
    ({"satellite_failures": [{"satellite": 1}]}, ["entry 0", "satellite and time_s"]),
    ({"satellite_failures": [{"satellite": 1, "time_s": -1}]}, ["time_s", ">= 0"]),
    ({"retransmit_timeout_ms": 0}, ["retransmit_timeout_ms", "must be in"]),
    ({"max_retries": 256}, ["max_retries", "must be in"]),
])
def test_bad_fault_keys_are_one_line_naming_the_key(faults, words):
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict({"name": "t", "constellation": {"planes": 10, "sats_per_plane": 10}, "faults": faults})
    assert all(w in str(err.value) for w in words) and "\n" not in str(err.value)


@pytest.fixture(scope="module")
def tiny_healthy():
    sc = load_scenario(TINY)
    return sc, pipeline.run_scenario(sc).traces[0]


def test_tiny_with_retransmission_and_no_loss_only_adds_one_ack_per_message(tiny_healthy, tmp_path):
    sc, healthy = tiny_healthy
    text = (REPO / "topologies" / "tiny.yaml").read_text() + "faults:\n  retransmit_timeout_ms: 500\n"
    (tmp_path / "tiny_rtx.yaml").write_text(text)
    done = run_cli("run", str(tmp_path / "tiny_rtx.yaml"), "--out", str(tmp_path / "out"), cwd=REPO)
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "out" / "tokens.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[-3:] == ["retransmissions", "status", "reason"]
    assert [int(r["latency_ns"]) for r in rows] == healthy.latency_ns.ravel().tolist()
    assert {(r["retransmissions"], r["status"], r["reason"]) for r in rows} == {("0", "completed", "")}
    import json
    stats = json.loads((tmp_path / "out" / "summary.json").read_text())["strategies"]["space-xnet"]
    messages = sc.traffic.requests * sc.traffic.tokens_per_request * sc.model.layers * 2 * sc.model.top_k
    assert stats["packets_sent"] == healthy.counters["packets_sent"] + messages
    assert stats["retransmissions"] == stats["messages_retransmitted"] == stats["messages_duplicated"] == 0
    assert stats["token_status"] == {"completed": 16, "failed": 0, "cancelled": 0, "unfinished": 0}


def test_tiny_with_a_gateway_satellite_failing_reports_every_token(tiny_healthy):
    sc, healthy = tiny_healthy
    sat = int(healthy.gateways[2])
    faulty = dataclasses.replace(sc, faults=FaultSpec(retransmit_timeout_ms=500.0,
                                                      satellite_failures=((sat, 1.0),)))
    (trace,) = pipeline.run_scenario(faulty).traces
    before = healthy.token_end_ns <= 1_000_000_000  # ended before the failure: untouched
    np.testing.assert_array_equal(trace.token_end_ns[before], healthy.token_end_ns[before])
    assert (trace.status[trace.token_end_ns >= 0] == "completed").all()
    for r in range(sc.traffic.requests):
        open_tokens = np.flatnonzero(trace.token_end_ns[r] < 0)
        assert len(open_tokens) > 0, "every request still needs the lost gateway"
        first = open_tokens[0]
        assert trace.status[r, first] == "failed"
        assert trace.reason[r, first].startswith(f"satellite {sat} failed: lost the gateway of layer 2 at ")
        assert (trace.status[r, open_tokens[1:]] == "cancelled").all()
        assert (trace.reason[r, open_tokens[1:]] == f"request failed at token {first}").all()
    assert trace.counters["requests_failed"] == sc.traffic.requests
    assert trace.counters["satellites_failed"] == 1


def test_tiny_with_outages_stalls_without_retransmission_and_completes_with_it():
    # tiny.yaml with 30 % of link-snapshots in an outage and packets lost in flight: without
    # retransmission some request stalls; with a 1 s timeout every token completes.
    sc = load_scenario(TINY)
    lossy = dataclasses.replace(sc, links=dataclasses.replace(sc.links, survival_probability=0.7,
                                                              drop_in_flight=True))
    (stalled,) = pipeline.run_scenario(lossy).traces
    assert (stalled.latency_ns < 0).any() and stalled.status is None
    recovered_sc = dataclasses.replace(lossy, faults=FaultSpec(retransmit_timeout_ms=1000.0, max_retries=10))
    (recovered,) = pipeline.run_scenario(recovered_sc).traces
    c = recovered.counters
    assert (recovered.latency_ns > 0).all() and (recovered.status == "completed").all()
    assert c["messages_retransmitted"] == recovered.retransmissions.sum() > 0
    assert c["messages_retransmitted"] > c["messages_duplicated"]  # some retransmissions were needed
    lost = c["packets_dropped_link_down"] + c["packets_dropped_no_route"] + c["packets_dropped_queue"]
    assert lost > 0 and c["packets_sent"] == c["packets_received"] + lost  # every packet accounted for
