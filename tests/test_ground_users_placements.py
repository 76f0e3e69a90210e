"""Users on the ground with the placement strategies beyond the paper (issue 10), through the real
ns-3: the user messages only touch layer 0's gateway (the prompt in) and the LM head's output (the
tokens out), so a tensor-parallel gateway (compact-packed-tp, decode only) and expert copies
(space-xnet-replicas) serve users like any other placement."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.network.links import message_serialization_ns
from harness.pipeline import prepare, run_scenario
from harness.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]

USERS = ("users:\n  gsl_rate_bps: 10.0e9\n  locations:\n"
         "    - {name: Quito, lat_deg: -0.23, lon_deg: -78.52, weight: 1}\n"
         "    - {name: Nairobi, lat_deg: -1.29, lon_deg: 36.82, weight: 1}\n"
         "    - {name: Jakarta, lat_deg: -6.2, lon_deg: 106.8, weight: 1}\n")


def test_users_with_tensor_parallel_and_expert_copies_two_replicas_nearest_to_user(tmp_path):
    """tiny.yaml (2 GFLOP/s satellites), 6 requests of 2 tokens from three sites, two model replicas with nearest-to-user,
    decode only: for compact-packed-tp and space-xnet-replicas every request completes at its user;
    each request is on the replica whose layer-0 gateway its user reaches soonest; request 0's
    prompt reaches the gateway after the route's delay plus store-and-forward serialisation,
    exactly; and replica 1 uses none of replica 0's satellites (gateways, experts, shards, copies)."""
    text = (REPO / "topologies" / "tiny.yaml").read_text()
    text = "\n".join(line for line in text.splitlines() if not line.startswith("name:"))
    text = text.replace("strategies: [space-xnet]", "strategies: [compact-packed-tp, space-xnet-replicas]")
    text = text.replace("  requests: 2\n", "  requests: 6\n").replace("tokens_per_request: 8", "tokens_per_request: 2")
    # Slower satellites (2 GFLOP/s: 67 ms of attention a layer), so that splitting it over the
    # neighbours pays; 20 snapshots so that every request ends inside the run.
    text = text.replace("satellite_flops: 7.28e9", "satellite_flops: 2.0e9").replace("count: 10\n", "count: 20\n")
    path = tmp_path / "users_tp.yaml"
    path.write_text("name: users_tp\n" + text + "\nground:\n  min_elevation_deg: 10\n"
                    "serving:\n  replicas: 2\n  replica_policy: nearest-to-user\n" + USERS)
    scenario = load_scenario(path)
    result = run_scenario(scenario, jobs=1)
    prep = prepare(scenario)
    g = prep.ground
    node = g.node_of[prep.site_of]
    snap = g.snapshot_of(prep.requests.arrival_ns)
    assert [tr.strategy for tr in result.traces] == ["compact-packed-tp", "space-xnet-replicas"]
    tp, copies = result.traces
    assert tp.shards is not None and (np.asarray(tp.shards) >= 0).any()  # the gateways are split
    assert copies.replicas is not None and (np.asarray(copies.replicas) >= 0).any()  # experts have copies
    for trace in result.traces:
        serving = trace.serving
        assert all(s == "completed" for s in serving["status"]), (trace.strategy, serving["status"])
        gateways = serving["replica_gateways"][:, 0]
        delay = np.stack([prep.paths.lookup(snap, node, np.full(len(node), int(gw)))[0] for gw in gateways], axis=1)
        assert (serving["replica"] == np.argmin(delay, axis=1)).all(), trace.strategy
        # Request 0's prompt (one hidden state, decode only) up to its replica's layer-0 gateway.
        gateway = int(gateways[serving["replica"][0]])
        d, hops = prep.paths.lookup(np.array([0]), np.array([int(node[0])]), np.array([gateway]))
        uplink = int(d[0] + message_serialization_ns(scenario.links, scenario.model.hidden_bytes, hops)[0])
        assert serving["users"]["uplink_ns"][0] == uplink, trace.strategy
        # The tokens at the user come after the gateway's (the downlink) and in order.
        assert (serving["users"]["downlink_ns"] > 0).all()
        # Model replicas on disjoint satellites: replica 0's shards and copies are excluded too.
        first = set(serving["replica_gateways"][0].tolist()) | set(serving["replica_experts"][0].ravel().tolist())
        for extra in (trace.shards, trace.replicas):
            if extra is not None:
                first |= {int(s) for s in np.asarray(extra).ravel() if s >= 0}
        second = set(serving["replica_gateways"][1].tolist()) | set(serving["replica_experts"][1].ravel().tolist())
        assert not first & second, trace.strategy


def test_message_kinds_and_roles_are_distinct():
    """Issue 12's PROMPT / OUTPUT_TOKEN and User role beside issue 10's shard kinds and role, read
    from the compiled module: every kind and role has its own value, and the kinds fit the
    MessageKey's KINDS slots."""
    from harness.cxx import runtime as ns3_runtime

    ns3 = ns3_runtime.load()
    header, role = ns3.MoeTokenHeader, ns3.MoeRole
    kinds = [int(getattr(header, name)) for name in ("HIDDEN_STATE", "EXPERT_OUTPUT", "ACK", "COMBINED_STATE",
                                                      "SHARD_SCATTER", "SHARD_GATHER", "SHARD_INPUT", "PROMPT",
                                                      "OUTPUT_TOKEN")]
    assert len(set(kinds)) == len(kinds) and max(kinds) < int(header.KINDS)
    roles = [int(getattr(role, name)) for name in ("GATEWAY", "EXPERT", "SHARD", "USER")]
    # A COMPONENT_LOST failure record names the lost component by its role: 0 gateway, 1 expert.
    assert len(set(roles)) == len(roles) and roles[:2] == [0, 1]
