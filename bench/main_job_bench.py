"""Benchmark: the main job, and the packet engine's cost per packet-hop against raw ns-3.

1. Runs ``python -m harness run``'s work for a scenario (default walker_1584, every strategy) in
   this process and the processes it forks for the strategies' simulations: wall time and the
   peak of their summed proportional set size (PSS: pages shared by the forks counted once), with
   the summed resident sets (shared pages counted in each) as an upper bound.
2. Runs space-xnet's packet simulation alone and divides its wall time by its packet-hops (packet
   transmissions over all links).
3. In the same process, over the same ISL network and routing tables, plain ns-3 UDP flows
   (ns-3's UdpClient -> UdpServer, 1456-byte payloads, between the same component satellites)
   give raw ns-3's cost per packet-hop; the ratio is printed. Both route with the run's
   on-demand shortest paths (harness.network.routes.PathQuery), so the ratio includes their cost.

    python bench/main_job_bench.py [SCENARIO] [--save FILE] [--baseline FILE] [--skip-main]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import TreeRss, peak_rss_mb, report, scenario_parser  # noqa: E402
from harness import pipeline  # noqa: E402
from harness.seeding import rng_for
from harness.cxx.runtime import load  # noqa: E402
from harness.simulate.inputs import SimulationInput  # noqa: E402
from harness.simulate.packet import build_network, run_packet_sim  # noqa: E402
from harness.placement import place  # noqa: E402
from harness.scenario import load_scenario  # noqa: E402

#: Raw flows: packets per flow and the gap between a flow's packets (keeps queues short).
RAW_PACKETS_PER_FLOW = 2000
RAW_INTERVAL_US = 20


def raw_udp_cost(ns3, topology, routes, links, pairs: np.ndarray) -> tuple[float, int]:
    """Wall seconds and packet-hops of plain UdpClient/UdpServer flows between ``pairs``."""
    import cppyy

    cppyy.include("ns3/udp-client-server-helper.h")
    cppyy.include("ns3/inet-socket-address.h")
    nodes, network, updater, _table = build_network(ns3, topology, routes, links)
    servers = set()
    for port, (src, dst) in enumerate(pairs.tolist(), start=9000):
        if dst not in servers:
            ns3.UdpServerHelper(9).Install(nodes.Get(dst)).Start(ns3.Seconds(0))
            servers.add(dst)
        remote = ns3.InetSocketAddress(ns3.IslNetworkHelper.GetNodeAddress(nodes.Get(dst)), 9)
        client = ns3.UdpClientHelper(remote.ConvertTo())
        client.SetAttribute("MaxPackets", ns3.UintegerValue(RAW_PACKETS_PER_FLOW))
        client.SetAttribute("Interval", ns3.TimeValue(ns3.MicroSeconds(RAW_INTERVAL_US)))
        client.SetAttribute("PacketSize", ns3.UintegerValue(links.segment_payload_bytes + 16))
        client.Install(nodes.Get(src)).Start(ns3.Seconds(0))
    ns3.Simulator.Stop(ns3.Seconds(1.0))
    clock = time.perf_counter()
    ns3.Simulator.Run()
    wall = time.perf_counter() - clock
    hops = int(network.GetPacketHops())
    ns3.Simulator.Destroy()
    return wall, hops


def main() -> int:
    parser = scenario_parser(__doc__.splitlines()[0])
    parser.add_argument("--skip-main", action="store_true", help="only the per-packet-hop comparison")
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    ns3 = load()
    figures: dict[str, float] = {}

    if not args.skip_main:
        clock = time.perf_counter()
        with TreeRss() as rss:
            pipeline.run_scenario(scenario)
        figures["main_job_s"] = time.perf_counter() - clock
        figures["main_job_peak_pss_mb"] = rss.peak_mb
        figures["main_job_peak_rss_sum_mb"] = rss.peak_rss_sum_mb
        figures["main_job_parent_peak_rss_mb"] = peak_rss_mb()

    prep = pipeline.prepare(scenario)
    topology = prep.topology
    placement = place("space-xnet", prep.inputs, rng_for(scenario.seed, "placement:space-xnet"))
    routes = prep.paths  # the run's on-demand routes
    clock = time.perf_counter()
    inp = SimulationInput(topology=topology, routes=routes, links=scenario.links, gateways=placement.gateways,
                          experts=placement.experts, activations=prep.trace.experts, compute=prep.compute,
                          request_starts_ns=prep.request_starts_ns, message_bytes=scenario.model.hidden_bytes)
    result = run_packet_sim(inp, seed=scenario.seed, stop_ns=prep.stop_ns)
    figures["engine_setup_and_run_s"] = time.perf_counter() - clock
    engine_wall = result.run_wall_s
    figures["engine_run_s"] = engine_wall
    figures["engine_packet_hops"] = result.packet_hops
    figures["engine_us_per_packet_hop"] = engine_wall / result.packet_hops * 1e6
    figures["engine_routing_nodes_settled"] = result.routing_nodes_settled

    raw_wall, raw_hops = raw_udp_cost(ns3, topology, routes, scenario.links, placement.message_pairs()[:64])
    figures["raw_ns3_run_s"] = raw_wall
    figures["raw_ns3_packet_hops"] = raw_hops
    figures["raw_ns3_us_per_packet_hop"] = raw_wall / raw_hops * 1e6
    figures["engine_over_raw_ratio"] = figures["engine_us_per_packet_hop"] / figures["raw_ns3_us_per_packet_hop"]
    figures["peak_rss_mb"] = peak_rss_mb()

    print(f"scenario {scenario.name}: {topology.num_nodes} satellites, strategies {', '.join(scenario.strategies)}, "
          f"{scenario.traffic.requests} x {scenario.traffic.tokens_per_request} tokens")
    report(figures, args.save, args.baseline)
    print("  (per packet-hop, Simulator::Run only: engine = the MoE token application with its compute and "
          "combine logic; raw = ns-3's own UdpClient/UdpServer over the same network and routing tables)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
