"""The packet engine through real ns-3: exact latencies on hand-built networks.

A one-layer model with one expert (top-1) makes the traffic known exactly: the gateway computes,
sends the hidden state to the expert, the expert computes and sends its output back to the same
gateway (layer 0 is also the next layer), whose combine time is recorded. So

    combine - start = gateway compute + message(gw -> expert) + expert compute + message(expert -> gw)

and, on an otherwise idle network, a message of packets p_1..p_n over a path of h hops, every link
at the same rate R, arrives after sum_i(p_i)*8/R + (h-1)*max_i(p_i)*8/R + sum(propagation): the
packets pipeline, store and forward, and the largest one sets the pace hop to hop.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.network.links import tx_time_ns
from harness.workload.compute import ComputeTimes
from harness.network.routes import Routes
from harness.scenario import PACKET_OVERHEAD_BYTES, LinkSpec
from harness.network.topology import Topology
from networks import packet_run, routes, topology

SPEED_OF_LIGHT_M_S = 299_792_458.0
GATEWAY_NS, EXPERT_NS, LM_HEAD_NS = 5_000, 7_000, 11_000


def run(topo: Topology, rts: Routes, *, gateway: int, expert: int, message_bytes: int, rate_bps: float,
        starts_ns=(0,), stop_ns: int = 10**10, drop_in_flight: bool = False):
    compute = ComputeTimes(np.array([GATEWAY_NS]), np.array([[EXPERT_NS]]), LM_HEAD_NS)
    starts = np.array(starts_ns, dtype=np.int64)
    return packet_run(topology=topo, routes=rts, links=LinkSpec(rate_bps=rate_bps, mtu_bytes=1500,
                                                                  drop_in_flight=drop_in_flight),
                          gateways=np.array([gateway]), experts=np.array([[expert]]),
                          activations=np.zeros((len(starts), 1, 1, 1), dtype=np.int32), compute=compute,
                          request_starts_ns=starts, message_bytes=message_bytes, seed=1, stop_ns=stop_ns)


def message_ns(link: LinkSpec, message_bytes: int, path_delays_ns: list[int]) -> float:
    sizes = link.packet_sizes_bytes(message_bytes)
    tx_ns = [size * 8 / link.rate_bps * 1e9 for size in sizes]
    return sum(tx_ns) + (len(path_delays_ns) - 1) * max(tx_ns) + sum(path_delays_ns)


def test_packet_sizes_cover_the_message_with_documented_headers():
    link = LinkSpec(mtu_bytes=1500)
    sizes = link.packet_sizes_bytes(8192)
    assert PACKET_OVERHEAD_BYTES == 16 + 8 + 20 + 2
    assert max(sizes) == 1500 + 2  # a full packet fills the IP MTU, plus the 2-byte PPP header
    assert sum(sizes) - len(sizes) * PACKET_OVERHEAD_BYTES == 8192


@pytest.mark.parametrize("message_bytes", [1000, 8192])
def test_lone_message_over_one_link_is_size_over_rate_plus_distance_over_c(message_bytes):
    distance_m = 1_358_000.0  # an intra-plane hop of 32 satellites per plane at 550 km
    delay_ns = round(distance_m / SPEED_OF_LIGHT_M_S * 1e9)
    rate_bps = 1e9  # 8 ns per byte: every packet's transmission time is a whole number of ns
    topo = topology(2, [(0, 1)], [[delay_ns]])
    rts = routes(topo, [0, 1], [{(0, 1): 1, (1, 0): 0}])
    result = run(topo, rts, gateway=0, expert=1, message_bytes=message_bytes, rate_bps=rate_bps)
    wire_bytes = message_bytes + len(LinkSpec().packet_sizes_bytes(message_bytes)) * PACKET_OVERHEAD_BYTES
    one_message_ns = wire_bytes * 8 / rate_bps * 1e9 + delay_ns
    expected = GATEWAY_NS + 2 * one_message_ns + EXPERT_NS
    assert result.combine_ns[0, 0, 0] - result.token_start_ns[0, 0] == expected
    assert result.token_end_ns[0, 0] == expected + LM_HEAD_NS
    assert result.packets_sent == result.packets_received
    assert result.packets_dropped_no_route == 0 and result.packets_dropped_queue == 0


def test_lone_message_at_100_gbps_is_exact_with_ns3s_per_packet_rounding():
    # At 100 Gbit/s a 1502-byte packet takes 120.16 ns: ns-3 rounds each packet's transmission time
    # to the nearest ns (harness.simulate.analytic.tx_time_ns), so the message takes the sum of those.
    delay_ns = 4_530_000
    topo = topology(2, [(0, 1)], [[delay_ns]])
    rts = routes(topo, [0, 1], [{(0, 1): 1, (1, 0): 0}])
    link = LinkSpec(rate_bps=100e9)
    result = run(topo, rts, gateway=0, expert=1, message_bytes=8192, rate_bps=link.rate_bps)
    one_message_ns = sum(tx_time_ns(size, int(link.rate_bps)) for size in link.packet_sizes_bytes(8192)) + delay_ns
    expected = GATEWAY_NS + 2 * one_message_ns + EXPERT_NS
    assert result.combine_ns[0, 0, 0] - result.token_start_ns[0, 0] == expected
    assert expected != GATEWAY_NS + 2 * message_ns(link, 8192, [delay_ns]) + EXPERT_NS  # rounding matters


# A square 0-1-2-3-0 with the expert on 2: two 2-hop paths each way, the table picks which.
SQUARE_EDGES = [(0, 1), (1, 2), (2, 3), (0, 3)]
SQUARE_DELAYS_NS = [1_000_000, 2_000_000, 3_000_000, 4_000_000]  # per edge, in SQUARE_EDGES order
VIA_3_THEN_BACK_VIA_1 = {(0, 2): 3, (3, 2): 2, (2, 0): 1, (1, 0): 0}
VIA_1_THEN_BACK_VIA_3 = {(0, 2): 1, (1, 2): 2, (2, 0): 3, (3, 0): 0}


@pytest.mark.parametrize("message_bytes", [1000, 8192])
def test_multi_hop_route_follows_the_pushed_table_and_sums_its_hops(message_bytes):
    # The table sends the hidden state out over the slow side (0-3-2: 4 ms + 3 ms) and the output
    # back over the fast side (2-1-0: 2 ms + 1 ms), not the shortest path both ways.
    rate_bps = 1e9
    link = LinkSpec(rate_bps=rate_bps)
    topo = topology(4, SQUARE_EDGES, [SQUARE_DELAYS_NS])
    rts = routes(topo, [0, 2], [VIA_3_THEN_BACK_VIA_1])
    result = run(topo, rts, gateway=0, expert=2, message_bytes=message_bytes, rate_bps=rate_bps)
    out_ns = message_ns(link, message_bytes, [4_000_000, 3_000_000])
    back_ns = message_ns(link, message_bytes, [2_000_000, 1_000_000])
    expected = GATEWAY_NS + out_ns + EXPERT_NS + back_ns
    assert result.combine_ns[0, 0, 0] - result.token_start_ns[0, 0] == expected
    # Every packet crossed two links out and two back.
    assert result.packet_hops == 4 * len(link.packet_sizes_bytes(message_bytes))
    # The shortest path both ways would have been faster: the table, not the delays, chose the route.
    assert expected > GATEWAY_NS + EXPERT_NS + 2 * message_ns(link, message_bytes, [2_000_000, 1_000_000])


def test_table_swap_at_a_step_boundary_reroutes_the_next_packets():
    # Step 0 (from 0 s) goes out via 3 and back via 1; step 1 (from 1 s) the other way round, with
    # new link delays too. Request 0 runs entirely in step 0, request 1 entirely in step 1.
    rate_bps = 1e9
    link = LinkSpec(rate_bps=rate_bps)
    step1_delays = [1_500_000, 2_500_000, 3_500_000, 4_500_000]
    topo = topology(4, SQUARE_EDGES, [SQUARE_DELAYS_NS, step1_delays], interval_s=1.0)
    rts = routes(topo, [0, 2], [VIA_3_THEN_BACK_VIA_1, VIA_1_THEN_BACK_VIA_3])
    result = run(topo, rts, gateway=0, expert=2, message_bytes=1000, rate_bps=rate_bps,
                 starts_ns=(0, 1_000_000_000))
    step0 = GATEWAY_NS + message_ns(link, 1000, [4_000_000, 3_000_000]) + EXPERT_NS \
        + message_ns(link, 1000, [2_000_000, 1_000_000])
    step1 = GATEWAY_NS + message_ns(link, 1000, [1_500_000, 2_500_000]) + EXPERT_NS \
        + message_ns(link, 1000, [3_500_000, 4_500_000])
    latency = result.combine_ns[:, 0, 0] - result.token_start_ns[:, 0]
    assert latency.tolist() == [step0, step1]


def test_unreachable_destination_is_dropped_and_counted_not_lost():
    # Node 2 is the expert but no table entry leads there: the gateway cannot send.
    topo = topology(3, [(0, 1), (1, 2)], [[1_000_000, 1_000_000]])
    rts = routes(topo, [0, 2], [{(1, 0): 0, (2, 0): 1}])  # nothing routes toward 2
    result = run(topo, rts, gateway=0, expert=2, message_bytes=8192, rate_bps=1e9)
    assert result.token_end_ns[0, 0] == -1
    assert result.latency_ns[0, 0] == -1
    assert result.packets_received == 0
    assert result.packets_dropped_no_route == result.packets_sent == len(LinkSpec().packet_sizes_bytes(8192))


def test_two_runs_in_one_process_give_identical_records():
    topo = topology(4, SQUARE_EDGES, [SQUARE_DELAYS_NS])
    rts = routes(topo, [0, 2], [VIA_3_THEN_BACK_VIA_1])
    first = run(topo, rts, gateway=0, expert=2, message_bytes=8192, rate_bps=100e9, starts_ns=(0, 10))
    second = run(topo, rts, gateway=0, expert=2, message_bytes=8192, rate_bps=100e9, starts_ns=(0, 10))
    np.testing.assert_array_equal(first.token_end_ns, second.token_end_ns)
    np.testing.assert_array_equal(first.combine_ns, second.combine_ns)


def test_a_link_going_down_loses_the_packets_still_in_flight_on_it_when_asked():
    # One link of 10 ms; the gateway sends at 5 us; the link goes down at 5 ms (step 1), while the
    # packets are on the wire: with drop_in_flight they are lost and counted, and the token stalls;
    # without, they arrive as if the link had stayed up.
    delay_ns = 10_000_000
    topo = topology(2, [(0, 1)], [[delay_ns], [delay_ns]], interval_s=0.005)
    topo = Topology(num_nodes=2, edges=topo.edges, times_s=topo.times_s, length_m=topo.length_m,
                    delay_ns=topo.delay_ns, up=np.array([[True], [False]]))
    rts = routes(topo, [0, 1], [{(0, 1): 1, (1, 0): 0}, {(0, 1): 1, (1, 0): 0}])
    kept = run(topo, rts, gateway=0, expert=1, message_bytes=8192, rate_bps=1e9, drop_in_flight=False)
    assert kept.packets_dropped_link_down == 0 and kept.token_end_ns[0, 0] > 0
    result = run(topo, rts, gateway=0, expert=1, message_bytes=8192, rate_bps=1e9, drop_in_flight=True)
    packets = len(LinkSpec().packet_sizes_bytes(8192))
    assert result.packets_sent == packets
    assert result.packets_dropped_link_down == packets
    assert result.packets_received == 0
    assert result.token_end_ns[0, 0] == -1


def test_a_link_that_is_up_again_delivers():
    # Down in step 0 only: the token starts in step 1 and completes with the step-1 latency.
    delay_ns = 1_000_000
    topo = topology(2, [(0, 1)], [[delay_ns], [delay_ns]], interval_s=0.5)
    topo = Topology(num_nodes=2, edges=topo.edges, times_s=topo.times_s, length_m=topo.length_m,
                    delay_ns=topo.delay_ns, up=np.array([[False], [True]]))
    rts = routes(topo, [0, 1], [{}, {(0, 1): 1, (1, 0): 0}])
    result = run(topo, rts, gateway=0, expert=1, message_bytes=1000, rate_bps=1e9, starts_ns=(500_000_000,),
                 drop_in_flight=True)
    assert result.packets_dropped_link_down == 0
    assert result.latency_ns[0, 0] == GATEWAY_NS + 2 * ((1000 + PACKET_OVERHEAD_BYTES) * 8 + delay_ns) \
        + EXPERT_NS + LM_HEAD_NS


@pytest.mark.parametrize("hops, completes", [(100, True), (300, False)])
def test_paths_up_to_255_hops_arrive_longer_ones_are_counted_as_ttl_drops(hops, completes):
    """A large shell has paths longer than IPv4's usual 64 hops (an 80 x 80 Walker delta: up to 72);
    packets may cross up to 255 links, and a longer path is a counted drop, never a silent one."""
    from harness.network.routes import PathQuery

    delay_ns = 1_000_000
    topo = topology(hops + 1, [(i, i + 1) for i in range(hops)], [[delay_ns] * hops])
    result = run(topo, PathQuery(topo), gateway=0, expert=hops, message_bytes=1000, rate_bps=1e9)
    if completes:
        wire = 1000 + PACKET_OVERHEAD_BYTES
        one_way = wire * 8 + hops * delay_ns  # one packet: 8 ns per byte at 1 Gbit/s, store and forward
        one_way += (hops - 1) * wire * 8
        assert result.combine_ns[0, 0, 0] - result.token_start_ns[0, 0] == GATEWAY_NS + 2 * one_way + EXPERT_NS
        assert result.packets_dropped_ttl == 0
    else:
        assert result.token_end_ns[0, 0] == -1
        assert result.packets_dropped_ttl == 1 and result.packets_received == 0
