"""The routing choices the paper leaves unstated, as scenario keys: each checked to the nanosecond on
a hand-built network, through real ns-3 and through the analytic model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse
from scipy.sparse.csgraph import dijkstra

from harness.network.links import tx_time_ns
from harness.workload.compute import ComputeTimes
from harness.network.routes import METRICS, PathQuery
from harness.scenario import LinkSpec, RoutingSpec, scenario_from_dict
from networks import analytic_run, packet_run, topology
from test_path_query import constellation_with_outages

GATEWAY_NS, EXPERT_NS, LM_HEAD_NS = 5_000, 7_000, 11_000
MS = 1_000_000


def one_token(topo, paths, links: LinkSpec, gateway: int, expert: int, message_bytes: int = 1000):
    """(ns-3, analytic) combine - start of one token of a one-layer, one-expert model."""
    common = dict(topology=topo, routes=paths, links=links, gateways=np.array([gateway]),
                  experts=np.array([[expert]]), activations=np.zeros((1, 1, 1, 1), dtype=np.int32),
                  compute=ComputeTimes(np.array([GATEWAY_NS]), np.array([[EXPERT_NS]]), LM_HEAD_NS),
                  request_starts_ns=np.array([0]), message_bytes=message_bytes)
    sim = packet_run(**common, seed=1, stop_ns=10**10)
    model = analytic_run(**common)
    return (int(sim.combine_ns[0, 0, 0] - sim.token_start_ns[0, 0]),
            int(model.combine_ns[0, 0, 0] - model.token_start_ns[0, 0]))


def message_ns(links: LinkSpec, message_bytes: int, delays_ns: list[int]) -> int:
    """An idle path's message latency: sum tx + (h - 1) (max tx + relay) + propagation."""
    tx = [tx_time_ns(size, int(links.rate_bps)) for size in links.packet_sizes_bytes(message_bytes)]
    return sum(tx) + (len(delays_ns) - 1) * (max(tx) + links.relay_delay_ns) + sum(delays_ns)


def test_metric_names_match_the_schema():
    assert set(METRICS) == set(RoutingSpec.__dataclass_fields__["metric"].metadata["choices"])
    assert scenario_from_dict({"name": "x", "constellation": {"planes": 6, "sats_per_plane": 8}}).routing.metric == "delay"


# A triangle: 0 - 1 - 2 takes 2 ms over two hops, the direct link 0 - 2 takes 3 ms.
TRIANGLE = ([(0, 1), (1, 2), (0, 2)], [[1 * MS, 1 * MS, 3 * MS]])


@pytest.mark.parametrize("metric, path", [("delay", [1 * MS, 1 * MS]), ("hops", [3 * MS])])
def test_hop_metric_takes_the_direct_link_that_the_delay_metric_avoids(metric, path):
    topo = topology(3, *TRIANGLE)
    paths = PathQuery(topo, metric)
    delay, hops = paths.lookup(np.array([0]), np.array([0]), np.array([2]))
    assert (int(delay[0]), int(hops[0])) == (sum(path), len(path))
    links = LinkSpec(rate_bps=1e9)
    expected = GATEWAY_NS + 2 * message_ns(links, 1000, path) + EXPERT_NS
    assert one_token(topo, paths, links, gateway=0, expert=2) == (expected, expected)


def test_hop_metric_breaks_ties_toward_shorter_delay():
    # Two 2-hop paths from 0 to 3: via 1 (2 + 2 ms) or via 2 (1 + 1 ms); and a 3-hop path of 0.3 ms.
    edges = [(0, 1), (1, 3), (0, 2), (2, 3), (0, 4), (4, 5), (5, 3)]
    topo = topology(6, edges, [[2 * MS, 2 * MS, MS, MS, MS // 10, MS // 10, MS // 10]])
    delay, hops = PathQuery(topo, "hops").lookup(np.array([0]), np.array([0]), np.array([3]))
    assert (int(delay[0]), int(hops[0])) == (2 * MS, 2)
    delay, hops = PathQuery(topo, "delay").lookup(np.array([0]), np.array([0]), np.array([3]))
    assert (int(delay[0]), int(hops[0])) == (3 * MS // 10, 3)


def test_hop_metric_agrees_with_scipy_on_a_constellation_with_outages():
    topo = constellation_with_outages()
    paths = PathQuery(topo, "hops")
    n = topo.num_nodes
    for s in range(topo.num_snapshots):
        up = topo.up[s]
        weight = float(1 << paths.low_bits) + topo.delay_ns[s, up].astype(np.float64)
        graph = scipy.sparse.csr_matrix((weight, (topo.edges[up, 0], topo.edges[up, 1])), shape=(n, n))
        packed = dijkstra(graph, directed=False)
        reachable = np.isfinite(packed)
        packed = np.where(reachable, packed, 0).astype(np.int64)
        a, b = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        delay, hops = paths.lookup(np.full(a.size, s), a.ravel(), b.ravel())
        np.testing.assert_array_equal(delay.reshape(n, n),
                                      np.where(reachable, packed & ((1 << paths.low_bits) - 1), -1))
        np.testing.assert_array_equal(hops.reshape(n, n), np.where(reachable, packed >> paths.low_bits, -1))


@pytest.mark.parametrize("hops", [1, 2, 5])
def test_relay_delay_adds_exactly_h_minus_1_delays_per_message_on_an_idle_path(hops):
    relay_us = 7.5
    link_ns = 2 * MS
    topo = topology(hops + 1, [(i, i + 1) for i in range(hops)], [[link_ns] * hops])
    paths = PathQuery(topo)
    plain, relayed = LinkSpec(rate_bps=1e9), LinkSpec(rate_bps=1e9, relay_delay_us=relay_us)
    base = one_token(topo, paths, plain, gateway=0, expert=hops, message_bytes=4000)
    with_relay = one_token(topo, paths, relayed, gateway=0, expert=hops, message_bytes=4000)
    assert base[0] == base[1] == GATEWAY_NS + 2 * message_ns(plain, 4000, [link_ns] * hops) + EXPERT_NS
    # Two messages (out and back), each delayed 7.5 us at each of its h - 1 relays.
    assert with_relay[0] == with_relay[1] == base[0] + 2 * (hops - 1) * 7_500


def test_relay_delay_is_a_scenario_key_with_a_rule():
    from harness.errors import ScenarioError

    assert scenario_from_dict({"name": "x", "constellation": {"planes": 6, "sats_per_plane": 8}, "links": {"relay_delay_us": 2.5}}).links.relay_delay_ns == 2_500
    with pytest.raises(ScenarioError, match="relay_delay_us"):
        scenario_from_dict({"name": "x", "constellation": {"planes": 6, "sats_per_plane": 8}, "links": {"relay_delay_us": -1}})


def held_token(topo, no_route: str, message_bytes: int = 1000):
    paths = PathQuery(topo)
    common = dict(topology=topo, routes=paths, links=LinkSpec(rate_bps=1e9), gateways=np.array([0]),
                  experts=np.array([[topo.num_nodes - 1]]), activations=np.zeros((1, 1, 1, 1), dtype=np.int32),
                  compute=ComputeTimes(np.array([GATEWAY_NS]), np.array([[EXPERT_NS]]), LM_HEAD_NS),
                  request_starts_ns=np.array([0]), message_bytes=message_bytes)
    return (packet_run(**common, seed=1, stop_ns=10**10, no_route=no_route),
            analytic_run(**common, no_route=no_route))


def test_wait_holds_a_packet_at_its_source_until_the_snapshot_that_restores_its_route():
    # One link, down in snapshot 0 (from 0 s), up in snapshot 1 (from 1 s).
    topo = topology(2, [(0, 1)], [[3 * MS], [3 * MS]])
    topo = replace(topo, up=np.array([[False], [True]]))
    tx = tx_time_ns(1000 + 46, int(1e9))
    sim, model = held_token(topo, "wait")
    expected = 1_000_000_000 + 2 * (tx + 3 * MS) + EXPERT_NS  # sent at 1 s, not at 5 us
    assert sim.combine_ns[0, 0, 0] == model.combine_ns[0, 0, 0] == expected
    assert model.wait_ns[0, 0] == 1_000_000_000 - GATEWAY_NS
    assert sim.packets_held_no_route == 1 and sim.held_no_route_ns == 1_000_000_000 - GATEWAY_NS
    assert sim.packets_dropped_no_route == 0
    dropped, stalled = held_token(topo, "drop")
    assert dropped.token_end_ns[0, 0] == stalled.token_end_ns[0, 0] == -1
    assert dropped.packets_dropped_no_route == 1 and dropped.packets_held_no_route == 0


def test_wait_holds_a_packet_at_a_relay_whose_route_vanished_in_flight():
    # 0 -(999.99 ms)- 1 -(1 ms)- 2; the link 1-2 is down in snapshot 1 only. A packet sent at 5 us
    # reaches relay 1 just after 1 s, in snapshot 1: it waits there until 2 s, then goes on.
    far = 999_990_000
    topo = topology(3, [(0, 1), (1, 2)], [[far, MS]] * 3)
    topo = replace(topo, up=np.array([[True, True], [True, False], [True, True]]))
    tx = tx_time_ns(1000 + 46, int(1e9))
    at_relay = GATEWAY_NS + tx + far
    assert 1_000_000_000 < at_relay < 2_000_000_000
    sim, _ = held_token(topo, "wait")
    back = 2 * tx + MS + far
    assert sim.combine_ns[0, 0, 0] == 2_000_000_000 + tx + MS + EXPERT_NS + back
    assert sim.packets_held_no_route == 1 and sim.held_no_route_ns == 2_000_000_000 - at_relay


def test_wait_end_to_end_completes_where_drop_stalls_and_reports_the_wait(tmp_path):
    """tiny.yaml with 40 % of the links down in every snapshot: with 'drop' nothing completes, with
    'wait' every token does, and tokens.csv carries the analytic route_wait_ns."""
    from harness import pipeline
    from harness.scenario import load_scenario
    from harness.formats.results import read_results

    base = load_scenario("topologies/tiny.yaml")
    base = replace(base, snapshots=replace(base.snapshots, interval_s=0.5, count=120))
    outage = replace(base.links, survival_probability=0.6)
    for no_route in ("drop", "wait"):
        scenario = replace(base, links=outage, routing=replace(base.routing, no_route=no_route))
        result = pipeline.run_scenario(scenario, jobs=1)
        summary = pipeline.write_run(scenario, result, tmp_path / no_route, "name: tiny\n")
        stats = summary["strategies"]["space-xnet"]
        if no_route == "drop":
            assert stats["packets_dropped_no_route"] > 0 and "packets_held_no_route" not in stats
            continue
        assert stats["packets_dropped_no_route"] == 0 and stats["packets_held_no_route"] > 0
        tokens = read_results(tmp_path / no_route).tokens["space-xnet"]
        assert (tokens["latency_ns"] > 0).all()
        assert (tokens["route_wait_ns"] > 0).any() and stats["share"]["route_wait"] > 0
        assert (tokens["compute_ns"] + tokens["serialization_ns"] + tokens["propagation_ns"]
                + tokens["route_wait_ns"] == tokens["analytic_ns"]).all()


def model_token(topo, gateways, experts, activations, *, combine="next-gateway", dispatch="parallel", faults=None):
    """(ns-3, analytic) latency of one token, and the ns-3 result."""
    from harness.scenario import FaultSpec  # noqa: F401 (faults is a FaultSpec or None)

    layers, num_experts = np.shape(experts)
    common = dict(topology=topo, routes=PathQuery(topo), links=LinkSpec(rate_bps=1e9), gateways=np.array(gateways),
                  experts=np.array(experts), activations=np.array(activations, dtype=np.int32)[None, None],
                  compute=ComputeTimes(np.full(layers, GATEWAY_NS), np.full((layers, num_experts), EXPERT_NS),
                                       LM_HEAD_NS),
                  request_starts_ns=np.array([0]), message_bytes=4000)
    sim = packet_run(**common, seed=1, stop_ns=10**10, combine=combine, dispatch=dispatch, faults=faults)
    model = analytic_run(**common, combine=combine, dispatch=dispatch)
    return int(sim.latency_ns[0, 0]), int(model.latency_ns[0, 0]), sim


def test_own_gateway_combine_adds_the_leg_from_the_own_gateway_to_the_next():
    # A ring 0 - 1 - 2 - 3 - 0 of equal links: layer 0 = gateway 0 + expert 1, layer 1 = gateway 2 + expert 3.
    topo = topology(4, [(0, 1), (1, 2), (2, 3), (3, 0)], [[MS] * 4])
    links = LinkSpec(rate_bps=1e9)
    one, two = message_ns(links, 4000, [MS]), message_ns(links, 4000, [MS, MS])
    args = (topo, [0, 2], [[1], [3]], [[0], [0]])
    plain = GATEWAY_NS + 2 * one + EXPERT_NS + GATEWAY_NS + 2 * one + EXPERT_NS + LM_HEAD_NS
    assert model_token(*args)[:2] == (plain, plain)
    # Each layer: out to the expert and back to its own gateway (1 hop each), then 2 hops on.
    own = plain + 2 * two
    assert model_token(*args, combine="own-gateway")[:2] == (own, own)


def test_sequential_dispatch_sums_the_legs_and_the_experts():
    # A triangle: gateway 0, experts 0 and 1 of the one layer on satellites 1 and 2.
    topo = topology(3, [(0, 1), (1, 2), (0, 2)], [[MS, 2 * MS, 5 * MS // 2]])
    links = LinkSpec(rate_bps=1e9)
    m = lambda *d: message_ns(links, 4000, list(d))  # noqa: E731
    args = (topo, [0], [[1, 2]], [[0, 1]])  # the token activates expert 0, then expert 1
    parallel = GATEWAY_NS + max(m(MS) + EXPERT_NS + m(MS), m(5 * MS // 2) + EXPERT_NS + m(5 * MS // 2)) + LM_HEAD_NS
    assert model_token(*args)[:2] == (parallel, parallel)
    sequential = GATEWAY_NS + m(MS) + EXPERT_NS + m(2 * MS) + EXPERT_NS + m(5 * MS // 2) + LM_HEAD_NS
    assert model_token(*args, dispatch="sequential")[:2] == (sequential, sequential)
    # Both keys: the chain ends at the own gateway, which is also the next (one layer): no extra leg.
    assert model_token(*args, dispatch="sequential", combine="own-gateway")[:2] == (sequential, sequential)


@pytest.mark.parametrize("combine, dispatch", [("own-gateway", "parallel"), ("next-gateway", "sequential"),
                                               ("own-gateway", "sequential")])
def test_acknowledgements_find_the_sender_of_every_message_kind(combine, dispatch):
    """With retransmission on and nothing lost, no message is resent: every ACK went to its sender."""
    from harness.scenario import FaultSpec

    topo = topology(6, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0)], [[MS] * 6])
    args = (topo, [0, 2], [[1, 3], [4, 5]], [[0, 1], [1, 0]])
    plain = model_token(*args, combine=combine, dispatch=dispatch)
    resent = model_token(*args, combine=combine, dispatch=dispatch,
                         faults=FaultSpec(retransmit_timeout_ms=1000.0, max_retries=1))
    assert int(resent[2].retransmissions.sum()) == 0 and resent[2].duplicates == 0
    # The ACKs (46 B, 368 ns at 1 Gbit/s) share the links: at most a few of them delay the token.
    assert 0 <= resent[0] - plain[0] <= 4 * tx_time_ns(46, int(1e9))


#: Every key off its default, one at a time (and all together), on tiny.yaml with one request.
KEY_SETTINGS = {
    "planes": {"placement.subnets": "planes"},
    "hops": {"routing.metric": "hops"},
    "own-gateway": {"model.combine": "own-gateway"},
    "sequential": {"model.dispatch": "sequential"},
    "relay-50us": {"links.relay_delay_us": 50.0},
    "wait": {"routing.no_route": "wait", "links.survival_probability": 0.7},
    "all": {"placement.subnets": "planes", "routing.metric": "hops", "model.combine": "own-gateway",
            "model.dispatch": "sequential", "links.relay_delay_us": 50.0, "routing.no_route": "wait",
            "links.survival_probability": 0.7},
}


@pytest.mark.parametrize("name", list(KEY_SETTINGS))
def test_analytic_model_follows_every_key_within_a_thousandth_of_ns3(name):
    """With one request (no contention between requests), ns-3 and the analytic model agree within
    0.1 % on every token of every strategy, under each key."""
    from harness import pipeline
    from harness.scenario import load_scenario

    scenario = load_scenario("topologies/tiny.yaml")
    scenario = replace(scenario, strategies=("space-xnet", "rand-intra-cg", "rand-place"),
                       traffic=replace(scenario.traffic, requests=1),
                       snapshots=replace(scenario.snapshots, count=30))
    for key, value in KEY_SETTINGS[name].items():
        section, leaf = key.split(".")
        scenario = replace(scenario, **{section: replace(getattr(scenario, section), **{leaf: value})})
    result = pipeline.run_scenario(scenario, jobs=1)
    steps_ns = np.arange(scenario.snapshots.count) * int(scenario.snapshots.interval_s * 1e9)
    for trace in result.traces:
        ns3, model = trace.latency_ns[0], trace.analytic_ns[0]
        assert (ns3 > 0).all() and (model > 0).all(), f"{name} {trace.strategy}: every token completes"
        relative = np.abs(ns3 - model) / ns3
        if "routing.no_route" not in KEY_SETTINGS[name]:
            assert relative.max() <= 1e-3, f"{name} {trace.strategy}: {relative.max():.2e}"
            continue
        # With links failing every snapshot, a packet already on its way when its route vanishes
        # waits at that relay in ns-3; the model knows only the waits at a message's source (its
        # send snapshot's routes). So the two agree up to the first token that crossed a snapshot
        # boundary, and from there on each token starts at a different time in each.
        start, end = trace.token_start_ns[0], trace.token_end_ns[0]
        crossed = np.array([((steps_ns > a) & (steps_ns < b)).any() for a, b in zip(start, end)])
        first = int(np.argmax(relative > 1e-3)) if (relative > 1e-3).any() else len(relative)
        assert (relative[:first] <= 1e-3).all()
        assert first == len(relative) or crossed[first], f"{name} {trace.strategy}: token {first} differs"


def test_wait_with_dense_tables_releases_at_the_restoring_step_not_one_later():
    """A held packet is looked up in the step that just began (ns-3's TracedValue fires its sinks
    before it stores the new value, so the table must switch first): with pushed tables too."""
    from networks import routes as dense_routes

    topo = topology(2, [(0, 1)], [[3 * MS], [3 * MS], [3 * MS]])
    topo = replace(topo, up=np.array([[False], [True], [True]]))
    tables = dense_routes(topo, [0, 1], [{}, {(0, 1): 1, (1, 0): 0}, {(0, 1): 1, (1, 0): 0}])
    common = dict(topology=topo, links=LinkSpec(rate_bps=1e9), gateways=np.array([0]), experts=np.array([[1]]),
                  activations=np.zeros((1, 1, 1, 1), dtype=np.int32),
                  compute=ComputeTimes(np.array([GATEWAY_NS]), np.array([[EXPERT_NS]]), LM_HEAD_NS),
                  request_starts_ns=np.array([0]), message_bytes=1000)
    tx = tx_time_ns(1000 + 46, int(1e9))
    for rts in (tables, PathQuery(topo)):
        sim = packet_run(**common, routes=rts, seed=1, stop_ns=10**10, no_route="wait")
        assert sim.combine_ns[0, 0, 0] == 1_000_000_000 + 2 * (tx + 3 * MS) + EXPERT_NS
