"""Issue 23: the IP engine's relay fast path (``links.forwarding: ip``, the default before ``link``).

A node that relays a packet forwards it below ns-3's stack (ns3 IpRelay): the same next hop from the
same ForwardingTable, TTL - 1, the same holding (``routing.no_route: wait``) and relay delay (the
routing protocol's own code, ForwardingTableRouting::RouteRelay), the same flow control; packets for
the node itself, and those IPv4 would treat otherwise (TTL expiring, no route), climb ns-3's stack as
before. ``links.forwarding: ip-stack`` keeps every hop on the stack: the reference, which these tests
prove the fast path equal to, token by token and counter by counter, to the nanosecond.

Today's traces are byte-identical with the defaults: ``python /work/shared/tools/regress.py check
/work/baseline`` reported every token row identical on tiny, polar_1056, walker_1584,
serving_cities_walker_1584 and polar_1056_faults with the fast path on (bench/README.md, issue 23).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from harness.run.pipeline import run_scenario
from harness.scenario import load_scenario
from networks import socket_arrivals

REPO = Path(__file__).resolve().parents[1]


def _run(scenario, forwarding: str):
    links = dataclasses.replace(scenario.links, forwarding=forwarding)
    return run_scenario(dataclasses.replace(scenario, links=links), jobs=1)


def _assert_identical(scenario) -> int:
    """ip against ip-stack: every token's latency and every counter equal. Returns tokens compared."""
    fast, stack = _run(scenario, "ip"), _run(scenario, "ip-stack")
    compared = 0
    assert len(fast.traces) == len(stack.traces) > 0
    for a, b in zip(stack.traces, fast.traces):
        assert a.strategy == b.strategy
        assert (a.latency_ns > 0).any(), f"{a.strategy}: no token completed"
        np.testing.assert_array_equal(b.latency_ns, a.latency_ns, err_msg=a.strategy)
        assert b.counters == a.counters, a.strategy
        compared += int((a.latency_ns > 0).sum())
    return compared


def test_fast_path_equals_the_stack_on_tiny():
    assert _assert_identical(load_scenario(REPO / "topologies" / "tiny.yaml")) == 16


def test_fast_path_equals_the_stack_on_polar_1056():
    scenario = load_scenario(REPO / "topologies" / "polar_1056.yaml")
    scenario = dataclasses.replace(scenario, strategies=("space-xnet", "rand-place", "space-xnet-packed-tp"))
    assert _assert_identical(scenario) > 0


def test_fast_path_equals_the_stack_when_holding_delaying_and_losing():
    """polar_1056 with link survival 0.8, losses in flight, retransmission, a satellite failure,
    routing.no_route 'wait' and a 1 us relay delay: packets wait for routes at sources and relays
    (released at snapshot changes, in arrival order) and every relay delays them."""
    scenario = load_scenario(REPO / "topologies" / "polar_1056.yaml")
    faults = load_scenario(REPO / "topologies" / "polar_1056_faults.yaml").faults
    scenario = dataclasses.replace(
        scenario, strategies=("space-xnet", "rand-place"),
        routing=dataclasses.replace(scenario.routing, no_route="wait"),
        links=dataclasses.replace(scenario.links, relay_delay_us=1.0, survival_probability=0.8, drop_in_flight=True),
        faults=dataclasses.replace(faults, satellite_failure_rate_per_s=1e-4))
    fast, stack = _run(scenario, "ip"), _run(scenario, "ip-stack")
    for a, b in zip(stack.traces, fast.traces):
        # Every one of them is exercised: holding, losses in flight, retransmission, failures.
        for counter in ("packets_held_no_route", "packets_dropped_link_down", "messages_retransmitted",
                        "satellites_failed"):
            assert a.counters[counter] > 0, (a.strategy, counter)
        assert (a.latency_ns > 0).any(), a.strategy
        np.testing.assert_array_equal(b.latency_ns, a.latency_ns, err_msg=a.strategy)
        assert b.counters == a.counters, a.strategy


def test_the_ip_mode_with_the_fast_path_leaves_tiny_tokens_csv_byte_identical(tmp_path):
    """The IP mode (the default until link-level forwarding became it; the fast path on) writes
    tiny's tokens.csv byte for byte as saved before the fast path existed
    (tests/data/serving_regression, also read by tests/test_fast_mode.py for the default)."""
    from harness.cli import main

    expected = (REPO / "tests" / "data" / "serving_regression" / "tiny_tokens.csv").read_bytes()
    text = (REPO / "topologies" / "tiny.yaml").read_text()
    assert "\nlinks:\n" in text and "forwarding:" not in text
    path = tmp_path / "tiny.yaml"
    path.write_text(text.replace("\nlinks:\n", "\nlinks:\n  forwarding: ip\n", 1))
    assert load_scenario(path).links.forwarding == "ip"
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "tokens.csv").read_bytes() == expected


# --- a chain of satellites, driven directly ------------------------------------------------------

def _chain(next_hop: np.ndarray, delays_ns, rates=None, **links):
    """A line of len(delays_ns) + 1 nodes with the given [N, N] next-hop table, one snapshot."""
    from harness.network.topology import Topology

    delays = np.array([delays_ns], dtype=np.int64)
    n = delays.shape[1] + 1
    edges = np.array([[i, i + 1] for i in range(n - 1)], dtype=np.int32)
    topology = Topology(num_nodes=n, edges=edges, times_s=np.array([0.0]), length_m=delays * 0.299792458,
                        delay_ns=delays, up=np.ones((1, n - 1), dtype=bool))
    routes = type("R", (), {"destinations": np.arange(n, dtype=np.int32), "next_hop": next_hop[None]})()
    return topology, routes


def _send_udp(forwarding: str, topology, routes, packets: int, size: int = 1000, queue_packets: int = 1000,
              rate_bps=1e9, slow_link: int | None = None, interval_ns: int | None = None):
    """Send ``packets`` UDP packets from node 0 to the last node, at once (or with ns-3's UdpClient,
    ``interval_ns`` apart); arrival times (ns) and the network's counters."""
    import cppyy

    from harness.cxx.runtime import load
    from harness.scenario.constellation import LinkSpec
    from harness.simulate.packet import build_network

    ns3 = load()
    cppyy.include("ns3/inet-socket-address.h")
    cppyy.include("ns3/udp-socket-factory.h")
    cppyy.include("ns3/ip-relay.h")
    cppyy.include("ns3/udp-client-server-helper.h")
    if not hasattr(cppyy.gbl, "spacexnet_relay_test"):
        cppyy.cppdef("""
        namespace spacexnet_relay_test {
        uint64_t Relayed(ns3::NodeContainer nodes) {
            uint64_t total = 0;
            for (uint32_t i = 0; i < nodes.GetN(); ++i) {
                ns3::Ptr<ns3::IpRelay> r = nodes.Get(i)->GetObject<ns3::IpRelay>();
                total += r ? r->GetRelayedPackets() : 0;
            }
            return total;
        }
        }
        """)
    links = LinkSpec(rate_bps=rate_bps, forwarding=forwarding, queue_packets=queue_packets)
    nodes, network, updater, table = build_network(ns3, topology, routes, links)
    if slow_link is not None:
        network.SetLinkDataRate(slow_link, 1, ns3.DataRate("100Mbps"))
    last = topology.num_nodes - 1
    receiver = ns3.Socket.CreateSocket(nodes.Get(last), ns3.UdpSocketFactory.GetTypeId())
    assert receiver.Bind(ns3.InetSocketAddress(ns3.Ipv4Address.GetAny(), 7).ConvertTo()) == 0
    Arrivals, ReadCallback = socket_arrivals()
    got = Arrivals()
    receiver.SetRecvCallback(ReadCallback(got))
    to = ns3.InetSocketAddress(ns3.IslNetworkHelper.GetNodeAddress(nodes.Get(last)), 7)
    if interval_ns is None:
        sender = ns3.Socket.CreateSocket(nodes.Get(0), ns3.UdpSocketFactory.GetTypeId())
        sender.Bind()
        for _ in range(packets):
            assert sender.SendTo(ns3.Create[ns3.Packet](size), 0, to.ConvertTo()) == size
    else:
        client = ns3.UdpClientHelper(to.ConvertTo())
        client.SetAttribute("MaxPackets", ns3.UintegerValue(packets))
        client.SetAttribute("Interval", ns3.TimeValue(ns3.NanoSeconds(interval_ns)))
        client.SetAttribute("PacketSize", ns3.UintegerValue(size))
        client.Install(nodes.Get(0)).Start(ns3.Seconds(0))
    ns3.Simulator.Stop(ns3.Seconds(1))
    ns3.Simulator.Run()
    out = dict(arrivals=list(got.ns), hops=int(network.GetPacketHops()),
               ttl=int(network.GetTtlExpiredPackets()), queue_drops=int(network.GetQueueDroppedPackets()),
               no_route=int(network.GetRoutingDroppedPackets()),
               relayed=int(cppyy.gbl.spacexnet_relay_test.Relayed(nodes)))
    ns3.Simulator.Destroy()
    return out


def test_a_relayed_packet_crosses_a_chain_in_the_hand_computed_time():
    """Three satellites in a line, 1 ms and 2 ms apart, 1 Gbit/s: a 1,000-byte UDP payload from
    node 0 to node 2 arrives after 2 x (1,000 + 8 + 20 + 2 bytes) x 8 ns + 3 ms (two serializations
    with the UDP, IPv4 and PPP headers, and the two propagation delays). With ip the middle node
    relays it on the fast path; with ip-stack through ns-3's stack."""
    next_hop = np.array([[0, 1, 1], [0, 1, 2], [1, 1, 2]], dtype=np.int32)
    topology, routes = _chain(next_hop, [1_000_000, 2_000_000])
    fast = _send_udp("ip", topology, routes, 1)
    stack = _send_udp("ip-stack", topology, routes, 1)
    assert fast["arrivals"] == [2 * (1000 + 8 + 20 + 2) * 8 + 3_000_000]
    assert stack == dict(fast, relayed=0)
    assert fast["relayed"] == 1 and fast["hops"] == 2


def test_ttl_expiry_in_a_routing_loop_is_counted_as_the_stack_counts_it():
    """Nodes 1 and 2 send packets for node 3 to each other: each packet loops until its TTL (255)
    runs out; the fast path relays it until the hop where IPv4 would expire it (and send ICMP
    time exceeded back), which it leaves to the stack. Hops and drops equal the stack's."""
    next_hop = np.array([[0, 1, 1, 1], [0, 1, 2, 2], [1, 1, 2, 1], [2, 2, 2, 3]], dtype=np.int32)
    topology, routes = _chain(next_hop, [1_000, 1_000, 1_000])
    fast = _send_udp("ip", topology, routes, 3)
    stack = _send_udp("ip-stack", topology, routes, 3)
    assert fast["ttl"] == 3 and fast["arrivals"] == []
    assert fast["hops"] >= 3 * 254  # 254 hops each, and the ICMP replies' hops
    assert fast["relayed"] >= 3 * 252
    assert stack == dict(fast, relayed=0)


def test_a_full_queue_stops_the_device_and_drops_as_traffic_control_does():
    """ns-3's UdpClient sends 50 packets 1 us apart over a 10 Gbit/s link, then the relay sends
    them on over a 100 Mbit/s one (85 us a packet) with a 5-packet queue: the relay's device queue
    fills and stops, and the packets that find it stopped are dropped (the traffic-control layer's
    flow control without a queue disc; not the queue's own drop). The same packets arrive at the
    same instants with ip and ip-stack."""
    next_hop = np.array([[0, 1, 1], [0, 1, 2], [1, 1, 2]], dtype=np.int32)
    topology, routes = _chain(next_hop, [1_000, 1_000])
    args = dict(queue_packets=5, rate_bps=10e9, slow_link=1, interval_ns=1_000)
    fast = _send_udp("ip", topology, routes, 50, **args)
    stack = _send_udp("ip-stack", topology, routes, 50, **args)
    assert 0 < len(fast["arrivals"]) < 50
    assert stack == dict(fast, relayed=0)
    # Every packet reached the relay's fast path; those that found the queue stopped never
    # entered it (packet-hops: 50 on the first link, one per arrival on the second).
    assert fast["relayed"] == 50 and fast["hops"] == 50 + len(fast["arrivals"])
