"""Faults for every feature (issue 24, item 2), through real ns-3: users' prompts and output tokens
acknowledged and resent like the rest; expert copies routed around when their satellite fails;
tensor-parallel shards whose satellite fails failing their request with the shard named; and,
without a faults section, traces as before.

Hand-built networks are timed by hand as in test_faults.py: 1000-byte messages (one packet of
1046 bytes on the wire) at 1 Gbit/s, ACKs of 46 bytes; compute 5 us (gateway), 7 us (expert),
11 us (LM head).
"""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from harness.network.ground.users import UserLinks
from harness.scenario import PACKET_OVERHEAD_BYTES, FaultSpec, LinkSpec
from harness.simulate.packet import COMPONENT_LOST, MESSAGE_LOST, OUTPUT_TOKEN, PROMPT, token_outcomes
from harness.workload.compute import ComputeTimes
from networks import packet_run, routes, topology

REPO = Path(__file__).resolve().parents[1]
GATEWAY_NS, EXPERT_NS, LM_HEAD_NS = 5_000, 7_000, 11_000
TX_NS = (1000 + PACKET_OVERHEAD_BYTES) * 8  # one 1000-byte message at 1 Gbit/s
STEP_NS = 5_000_000
TIMEOUT_NS = 20_000_000
COMPUTE = ComputeTimes(np.array([GATEWAY_NS]), np.array([[EXPERT_NS]]), LM_HEAD_NS)


# ---------------------------------------------------------------------------------------------
# Users: a prompt and an output token lost in flight, resent over the route in force at the retry


def _user_network():
    """Gateway 0 and its expert 1 (1 ms apart); relay 2 (2 ms from the gateway); a user on ground
    node 3, 10 ms from the gateway directly or 2 + 2 ms through the relay. Steps of 5 ms: the
    direct link is up only in steps 0 and 5 (each packet on it when it goes down is lost)."""
    steps = 12
    topo = topology(4, [(0, 1), (0, 2), (3, 0), (3, 2)],
                    [[1_000_000, 2_000_000, 10_000_000, 2_000_000]] * steps, interval_s=STEP_NS / 1e9)
    up = np.ones((steps, 4), dtype=bool)
    up[:, 2] = False
    up[[0, 5], 2] = True
    topo = dataclasses.replace(topo, up=up, feasible=up.copy())
    core = {(0, 1): 1, (1, 0): 0, (2, 0): 0, (2, 3): 3, (1, 3): 0, (2, 1): 0}
    direct = {**core, (3, 0): 0, (0, 3): 3, (3, 1): 0}
    relayed = {**core, (3, 0): 2, (0, 3): 2, (3, 1): 2}
    rts = routes(topo, [0, 1, 3], [direct if up[s, 2] else relayed for s in range(steps)])
    return topo, rts


def _user_run(max_retries: int):
    topo, rts = _user_network()
    users = UserLinks(nodes=np.array([3]), user_of=np.array([0]), first_gsl=2, gsl_rate_bps=1e9, token_bytes=1000)
    return packet_run(topology=topo, routes=rts, links=LinkSpec(rate_bps=1e9, drop_in_flight=True),
                      gateways=np.array([0]), experts=np.array([[1]]),
                      activations=np.zeros((1, 1, 1, 1), dtype=np.int32), compute=COMPUTE,
                      request_starts_ns=np.array([0]), message_bytes=1000, seed=1, stop_ns=10**9,
                      faults=FaultSpec(retransmit_timeout_ms=TIMEOUT_NS / 1e6, max_retries=max_retries),
                      users=users)


def test_a_users_prompt_and_output_token_lost_in_flight_are_resent_to_the_nanosecond():
    # The prompt leaves the user at 0 on the 10 ms direct link, which goes down at 5 ms: lost.
    # After the 20 ms timeout it is resent through the relay (2 hops of 2 ms): whole at 24.02 ms.
    result = _user_run(max_retries=3)
    relayed_ns = 2 * (TX_NS + 2_000_000)
    prompt_ns = TIMEOUT_NS + relayed_ns
    assert result.prompt_arrival_ns.tolist() == [prompt_ns]
    # The token: attention, the expert 1 ms away and back, the LM head; it ends at 26.06 ms, in
    # step 5, whose direct link takes the output token down and goes down at 30 ms: lost again.
    end_ns = prompt_ns + GATEWAY_NS + (TX_NS + 1_000_000) + EXPERT_NS + (TX_NS + 1_000_000) + LM_HEAD_NS
    assert result.token_end_ns.tolist() == [[end_ns]]
    assert 25_000_000 <= end_ns < 30_000_000 < end_ns + TX_NS + 10_000_000
    # Resent at its timeout, through the relay: whole at its user at 50.07 ms.
    assert result.user_token_ns.tolist() == [[end_ns + TIMEOUT_NS + relayed_ns]]
    assert (result.prompts_retransmitted, result.output_tokens_retransmitted) == (1, 1)
    assert result.retransmissions.tolist() == [[2]]
    assert result.packets_dropped_link_down == 2
    assert result.failures[0, 0] == 0 and result.duplicates == 0
    # prompt x2, hidden state, output, output token x2; an ACK of each of the 4 messages delivered
    assert result.packets_sent == 6 + 4


def test_a_users_prompt_out_of_retries_fails_its_request_with_the_message_named():
    result = _user_run(max_retries=0)
    code, token, layer, expert, kind, at_ns = result.failures[0].tolist()
    assert (code, token, kind) == (MESSAGE_LOST, 0, PROMPT)
    assert at_ns == TIMEOUT_NS  # the first timeout finds no retry left
    assert result.token_end_ns.tolist() == [[-1]] and result.user_token_ns.tolist() == [[-1]]
    status, reason = token_outcomes(result, np.array([0]), np.array([[1]]), True, 10**9)
    assert status.tolist() == [["failed"]]
    assert reason[0, 0] == ("message lost after all retries at 0.020000 s: prompt up from its user to the "
                            "gateway of layer 0 (sat 0)")


def test_an_output_token_out_of_retries_fails_its_request_though_the_token_ended_at_the_gateway():
    # One retry each: the prompt gets through on its retry as above; the output token is lost in
    # flight at 30 ms, and its retry at its timeout (45 ms on) finds the relay without a route to
    # the user: the request fails at the second timeout, although the token ended at the gateway.
    topo, rts = _user_network()
    rts.next_hop[9:, 2, 2] = -1  # from 45 ms on, the relay has no route to the user
    users = UserLinks(nodes=np.array([3]), user_of=np.array([0]), first_gsl=2, gsl_rate_bps=1e9, token_bytes=1000)
    result = packet_run(topology=topo, routes=rts, links=LinkSpec(rate_bps=1e9, drop_in_flight=True),
                        gateways=np.array([0]), experts=np.array([[1]]),
                        activations=np.zeros((1, 1, 1, 1), dtype=np.int32), compute=COMPUTE,
                        request_starts_ns=np.array([0]), message_bytes=1000, seed=1, stop_ns=10**9,
                        faults=FaultSpec(retransmit_timeout_ms=TIMEOUT_NS / 1e6, max_retries=1), users=users)
    end_ns = int(result.token_end_ns[0, 0])
    assert end_ns > 0 and result.user_token_ns.tolist() == [[-1]]
    code, token, layer, expert, kind, at_ns = result.failures[0].tolist()
    assert (code, token, kind) == (MESSAGE_LOST, 0, OUTPUT_TOKEN)
    assert at_ns == end_ns + 2 * TIMEOUT_NS
    status, reason = token_outcomes(result, np.array([0]), np.array([[1]]), True, 10**9)
    assert status.tolist() == [["failed"]]  # with users a token is done when it reached its user
    assert "output token 0 down from the gateway of layer 0 (sat 0) to its user" in reason[0, 0]


# ---------------------------------------------------------------------------------------------
# Expert copies: a message to a dead copy goes to a surviving one


def test_a_message_to_a_copy_whose_satellite_failed_is_routed_to_the_expert_to_the_nanosecond():
    """Gateway 0; its expert on satellite 1 (1 ms away) and a copy on 2 (5 ms), the copy in force
    throughout. Satellite 2 fails at 2 ms, its link with it, with request 0's hidden state on the
    way: after the timeout the gateway resends it to the expert, the copy that survives. Request 1
    starts after the failure: sent to the expert at once."""
    topo = topology(3, [(0, 1), (0, 2)], [[1_000_000, 5_000_000]] * 20, interval_s=0.002)
    up = np.ones((20, 2), dtype=bool)
    up[1:, 1] = False
    topo = dataclasses.replace(topo, up=up, feasible=up.copy())
    rts = routes(topo, [0, 1, 2], [{(0, 1): 1, (1, 0): 0, (0, 2): 2, (2, 0): 0}] * 20)
    choice = np.ones((20, 1, 1), dtype=np.int32)  # copy 1 (satellite 2) in force
    result = packet_run(topology=topo, routes=rts, links=LinkSpec(rate_bps=1e9, drop_in_flight=True),
                        gateways=np.array([0]), experts=np.array([[1]]), replicas=np.array([[[2]]]),
                        replica_choice=choice, activations=np.zeros((2, 1, 1, 1), dtype=np.int32),
                        compute=COMPUTE, request_starts_ns=np.array([0, 30_000_000]), message_bytes=1000,
                        seed=1, stop_ns=10**9, faults=FaultSpec(retransmit_timeout_ms=TIMEOUT_NS / 1e6),
                        satellite_fail_ns=np.array([-1, -1, 2_000_000]))
    hop = TX_NS + 1_000_000
    direct = GATEWAY_NS + hop + EXPERT_NS + hop + LM_HEAD_NS
    assert result.latency_ns.tolist() == [[direct + TIMEOUT_NS], [direct]]
    assert result.failures[:, 0].tolist() == [0, 0]
    assert result.messages_rerouted == 2  # at request 0's timeout, and at request 1's dispatch
    assert result.retransmissions.tolist() == [[1], [0]]
    assert result.packets_dropped_link_down == 1


def test_every_copy_of_an_expert_lost_fails_the_request_with_the_expert_named():
    topo = topology(3, [(0, 1), (0, 2)], [[1_000_000, 5_000_000]])
    rts = routes(topo, [0, 1, 2], [{(0, 1): 1, (1, 0): 0, (0, 2): 2, (2, 0): 0}])
    replicas = np.array([[[2]]])
    result = packet_run(topology=topo, routes=rts, links=LinkSpec(rate_bps=1e9), gateways=np.array([0]),
                        experts=np.array([[1]]), replicas=replicas, replica_choice=np.zeros((1, 1, 1), dtype=np.int32),
                        activations=np.zeros((1, 1, 1, 1), dtype=np.int32), compute=COMPUTE,
                        request_starts_ns=np.array([0]), message_bytes=1000, seed=1, stop_ns=10**9,
                        faults=FaultSpec(retransmit_timeout_ms=TIMEOUT_NS / 1e6), satellite_fail_ns=np.array([-1, 0, 0]))
    code, token, layer, expert, kind, at_ns = result.failures[0].tolist()
    assert (code, token, layer, kind, at_ns) == (COMPONENT_LOST, 0, 0, 1, GATEWAY_NS)
    status, reason = token_outcomes(result, np.array([0]), np.array([[1]]), True, 10**9, replicas=replicas)
    assert reason[0, 0] == "satellite 1 failed: lost the expert 0 of layer 0 and every copy of it at 0.000005 s"


# ---------------------------------------------------------------------------------------------
# Tensor-parallel shards: a lost shard fails its request, named


def test_a_shard_whose_satellite_failed_fails_the_request_with_the_shard_named():
    """Gateway 0 (2 heads) with one helper shard on satellite 2 (1 ms away) and its expert on 1.
    The shard's satellite fails as token 0 ends: token 1's scatter to it, sent at that instant,
    finds it dark and fails the request with the shard named (its group cannot finish the layer)."""
    topo = topology(3, [(0, 1), (0, 2)], [[1_000_000, 1_000_000]])
    rts = routes(topo, [0, 1, 2], [{(0, 1): 1, (1, 0): 0, (0, 2): 2, (2, 0): 0}])
    shards = np.array([[2]])
    compute = ComputeTimes(np.array([GATEWAY_NS]), np.array([[EXPERT_NS]]), LM_HEAD_NS, heads=2)
    kwargs = dict(topology=topo, routes=rts, links=LinkSpec(rate_bps=1e9), gateways=np.array([0]),
                  experts=np.array([[1]]), shards=shards, activations=np.zeros((1, 2, 1, 1), dtype=np.int32),
                  compute=compute, request_starts_ns=np.array([0]), message_bytes=1000, seed=1, stop_ns=10**9,
                  faults=FaultSpec(retransmit_timeout_ms=TIMEOUT_NS / 1e6))
    healthy = packet_run(**kwargs)
    assert (healthy.latency_ns > 0).all()
    fail_at = int(healthy.token_end_ns[0, 0])
    result = packet_run(**kwargs, satellite_fail_ns=np.array([-1, -1, fail_at]))
    assert result.token_end_ns[0, 0] == healthy.token_end_ns[0, 0] and result.token_end_ns[0, 1] == -1
    code, token, layer, expert, kind, at_ns = result.failures[0].tolist()
    assert (code, token, layer, expert, kind) == (COMPONENT_LOST, 1, 0, 0, 2)  # kind 2: MoeRole::SHARD
    assert at_ns == healthy.token_end_ns[0, 0]  # token 1 starts (and scatters) as token 0 ends
    status, reason = token_outcomes(result, np.array([0]), np.array([[1]]), True, 10**9, shards=shards)
    assert status.tolist() == [["completed", "failed"]]
    assert reason[0, 1].startswith("satellite 2 failed: lost the attention shard 0 of layer 0")


# ---------------------------------------------------------------------------------------------
# End to end through the CLI


def _tiny_with_users(tmp_path: Path, name: str, *, strategies: str = "[space-xnet]", requests: int = 60,
                     extra: str = "") -> Path:
    """tiny.yaml with users in three equatorial cities (min elevation 10 deg: every request
    covered), link survival 0.9 with losses in flight, 30 snapshots, ``requests`` of 2 tokens
    every 0.249 s (so that some prompts are in flight when links go down, at whole seconds)."""
    text = (REPO / "topologies" / "tiny.yaml").read_text()
    text = "\n".join(line for line in text.splitlines() if not line.startswith("name:"))
    text = (text.replace("strategies: [space-xnet]", f"strategies: {strategies}")
            .replace("survival_probability: 1.0", "survival_probability: 0.9\n  drop_in_flight: true")
            .replace("count: 10\n", "count: 30\n").replace("  requests: 2\n", f"  requests: {requests}\n")
            .replace("request_spacing_s: 0.05", "request_spacing_s: 0.249")
            .replace("tokens_per_request: 8", "tokens_per_request: 2"))
    users = ("ground:\n  min_elevation_deg: 10\nusers:\n  locations:\n"
             "    - {name: Nairobi, lat_deg: -1.29, lon_deg: 36.82, weight: 1}\n"
             "    - {name: Singapore, lat_deg: 1.35, lon_deg: 103.82, weight: 1}\n"
             "    - {name: Quito, lat_deg: -0.18, lon_deg: -78.47, weight: 1}\n")
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\n{text}\n{users}{extra}")
    return path


def _run(path: Path, out: Path) -> tuple[dict, list, list]:
    """(summary.json's strategies, requests.csv rows, tokens.csv rows) of ``harness run``."""
    from harness.cli import main

    assert main(["run", str(path), "--out", str(out), "--jobs", "1"]) == 0
    with open(out / "requests.csv") as f:
        requests = list(csv.DictReader(f))
    with open(out / "tokens.csv") as f:
        tokens = list(csv.DictReader(f))
    return json.loads((out / "summary.json").read_text())["strategies"], requests, tokens


def test_users_with_faults_at_survival_0_9_every_request_completes_with_prompts_and_tokens_resent(tmp_path):
    """Must-show: users on the ground with a faults section, link survival 0.9: prompts and output
    tokens lost on the way are resent, and every request completes (at its user). Without the
    faults section the same losses leave requests unfinished."""
    faults = "faults:\n  retransmit_timeout_ms: 300\n  max_retries: 10\n"
    summary, requests, tokens = _run(_tiny_with_users(tmp_path, "users_faults", extra=faults), tmp_path / "faults")
    stats = summary["space-xnet"]
    assert len(requests) == 60 and {r["status"] for r in requests} == {"completed"}
    assert {r["status"] for r in tokens} == {"completed"} and len(tokens) == 120
    assert stats["token_status"] == {"completed": 120, "failed": 0, "cancelled": 0, "unfinished": 0}
    assert stats["prompts_retransmitted"] >= 1 and stats["output_tokens_retransmitted"] >= 1
    assert stats["messages_retransmitted"] >= stats["prompts_retransmitted"] + stats["output_tokens_retransmitted"]
    assert sum(int(r["retransmissions"]) for r in tokens) == stats["messages_retransmitted"]
    assert stats["packets_dropped_link_down"] > 0
    # The same scenario without the section: lost prompts and tokens stall their requests.
    _, requests, _ = _run(_tiny_with_users(tmp_path, "users_no_faults"), tmp_path / "none")
    assert 1 <= sum(r["status"] == "unfinished" for r in requests) < 60


def test_tp_and_copy_strategies_under_faults_handle_a_failed_shard_and_a_failed_copy(tmp_path):
    """space-xnet-tp and space-xnet-replicas, each with a faults section at link survival 0.9 and
    one satellite failing at 1 s: a helper shard's, and an expert copy's. The tensor-parallel
    requests that need the shard then fail, the shard named; the copy's tokens go to a surviving
    copy and complete. Nothing is left unfinished."""
    from harness import pipeline
    from harness.placement.replicas import replica_choice
    from harness.run.strategy import place_replicas
    from harness.scenario import load_scenario

    faults = "faults:\n  retransmit_timeout_ms: 500\n  max_retries: 5\n"
    sc = load_scenario(_tiny_with_users(tmp_path, "healthy", requests=8, extra=faults))
    prep = pipeline.prepare(sc)  # placements are made without knowledge of the failures
    tp = place_replicas("space-xnet-tp", prep.inputs, sc.seed, 1)[0]
    copies = place_replicas("space-xnet-replicas", prep.inputs, sc.seed, 1)[0]
    shard_sat = int(tp.shards[1, 0])  # layer 1's first helper shard
    # The copy in force from 1 s on for the most activations of the trace.
    choice = replica_choice(prep.topology, copies.gateways, copies.experts, copies.replicas)
    uses = np.zeros(copies.experts.shape)
    np.add.at(uses, (np.arange(uses.shape[0])[None, None, :, None], prep.trace.experts), 1)
    layer, expert = np.unravel_index(np.argmax(uses * (choice[1:] > 0).mean(axis=0)), uses.shape)
    copy_sat = int(copies.replicas[layer, expert, choice[1, layer, expert] - 1])
    assert shard_sat >= 0 and copy_sat >= 0

    def failing(strategy: str, sat: int) -> tuple[dict, list]:
        extra = faults + f"  satellite_failures:\n    - {{satellite: {sat}, time_s: 1.0}}\n"
        summary, requests, tokens = _run(_tiny_with_users(tmp_path, strategy, strategies=f"[{strategy}]",
                                                          requests=8, extra=extra), tmp_path / strategy)
        return summary[strategy], requests, tokens

    # Tensor parallel: tokens before 1 s complete; the requests that needed the shard after it fail.
    stats, requests, rows = failing("space-xnet-tp", shard_sat)
    assert {r["status"] for r in rows} <= {"completed", "failed", "cancelled"}
    failed = [r for r in rows if r["status"] == "failed"]
    assert failed and stats["requests_failed"] == len(failed) and stats["satellites_failed"] == 1
    assert all(r["reason"].startswith(f"satellite {shard_sat} failed: lost the attention shard 0 of layer 1")
               for r in failed)
    assert any(r["status"] == "completed" for r in rows)
    assert sorted(int(r["request"]) for r in requests if r["status"] == "failed") == sorted(
        int(r["request"]) for r in failed)  # requests.csv says failed, not unfinished
    assert {r["status"] for r in requests} == {"completed", "failed"}
    # Expert copies: every token completes. From the failure's snapshot on the per-snapshot copy
    # choice (lowest delay over the links up) already leaves the dead copy out; a message caught
    # on its way to it is sent to a surviving copy (messages_rerouted; to the ns in the test above).
    stats, requests, rows = failing("space-xnet-replicas", copy_sat)
    assert {r["status"] for r in rows} == {"completed"} and len(rows) == 16
    assert {r["status"] for r in requests} == {"completed"}
    assert stats["requests_failed"] == 0 and stats["satellites_failed"] == 1 and "messages_rerouted" in stats
    assert sum(int(r["t_start_ns"]) > 1_000_000_000 for r in rows) >= 4  # tokens ran after the failure


def test_without_faults_users_shards_and_copies_leave_every_file_byte_identical(tmp_path):
    """Users, tensor-parallel shards (packed too) and expert copies without a faults section take
    the C++ paths this issue changed; their tokens.csv and requests.csv are byte for byte those
    saved on main before it (tests/data/faults_regression/SOURCE.md). regress.py checks the five
    shipped baselines the same way (all identical)."""
    data = REPO / "tests" / "data" / "faults_regression"
    from harness.cli import main

    assert main(["run", str(data / "users_no_faults.yaml"), "--out", str(tmp_path / "out"), "--jobs", "1"]) == 0
    assert (tmp_path / "out" / "tokens.csv").read_bytes() == (data / "users_no_faults_tokens.csv").read_bytes()
    assert (tmp_path / "out" / "requests.csv").read_bytes() == (data / "users_no_faults_requests.csv").read_bytes()


def test_an_experts_output_to_each_of_two_shards_is_acknowledged_on_its_own():
    """Layer 1's attention is split over its gateway 2 and two helpers (4 and 6), which take layer
    0's expert output straight: one message per helper under one header. Each is acknowledged by
    its own shard (the ACK names the shard), so with a timeout that expires mid-run and no loss,
    nothing is resent and every token is timed as without the faults section; only the ACKs add
    packets."""
    edges = [(0, 1), (1, 2), (2, 3), (0, 3), (1, 4), (2, 4), (0, 5), (1, 6), (2, 6)]
    delays = [1_000_000, 2_000_000, 3_000_000, 4_000_000, 1_500_000, 1_500_000, 300_000, 1_000_000, 1_000_000]
    topo = topology(7, edges, [delays])
    nxt = {(0, 5): 5, (5, 0): 0, (0, 1): 1, (1, 0): 0, (1, 2): 2, (2, 1): 1, (1, 4): 4, (4, 1): 1, (4, 2): 2,
           (2, 4): 4, (1, 6): 6, (6, 1): 1, (6, 2): 2, (2, 6): 6, (2, 3): 3, (3, 2): 2, (3, 0): 0, (0, 3): 3}
    rts = routes(topo, list(range(7)), [nxt])
    compute = ComputeTimes(np.full(2, GATEWAY_NS), np.full((2, 1), EXPERT_NS), LM_HEAD_NS, heads=4)
    kwargs = dict(topology=topo, routes=rts, links=LinkSpec(rate_bps=1e9), gateways=np.array([0, 2]),
                  experts=np.array([[1], [3]]), shards=np.array([[5, -1], [4, 6]]),
                  activations=np.zeros((1, 3, 2, 1), dtype=np.int32), compute=compute,
                  request_starts_ns=np.array([0]), message_bytes=1000, seed=1, stop_ns=10**9)
    plain = packet_run(**kwargs)
    acked = packet_run(**kwargs, faults=FaultSpec(retransmit_timeout_ms=TIMEOUT_NS / 1e6))
    assert (plain.latency_ns > 0).all() and plain.token_end_ns[0, -1] > TIMEOUT_NS  # timers expire mid-run
    np.testing.assert_array_equal(acked.token_end_ns, plain.token_end_ns)
    assert acked.retransmissions.sum() == 0 and acked.duplicates == 0 and acked.failures[0, 0] == 0
    # per token: scatter to 5 and its gather, 2 hidden states, 2 outputs to gateways, 2 to helpers,
    # 2 gathers: 10 messages, each acknowledged once
    assert acked.packets_sent == plain.packets_sent + 3 * 10


def test_the_shipped_cities_scenario_under_faults_is_the_cities_one_with_losses_and_recovery():
    """topologies/serving_cities_faults_walker_1584.yaml (docs/faults.md's users table) differs from
    serving_cities_walker_1584 only by its name, survival 0.9 with losses in flight and the faults
    section, so its figures compare with that scenario's."""
    from harness.scenario import load_scenario

    plain = load_scenario(REPO / "topologies" / "serving_cities_walker_1584.yaml")
    faulty = load_scenario(REPO / "topologies" / "serving_cities_faults_walker_1584.yaml")
    assert faulty.faults == FaultSpec(retransmit_timeout_ms=300, max_retries=10)
    assert (faulty.links.survival_probability, faulty.links.drop_in_flight) == (0.9, True)
    same = dataclasses.replace(faulty, name=plain.name, faults=plain.faults,
                               links=dataclasses.replace(faulty.links, survival_probability=0.95, drop_in_flight=False))
    assert same == plain
