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

4. With --link, the engine again in the link-level mode (``links.forwarding: link``, the
   default), its cost per packet-hop and its ratio to raw ns-3's; with --repeat N, steps 2-5 N
   times, interleaved, and the medians (each figure's runs are printed too), after one untimed run
   of the engine.
5. With --ip, the engine again in the IP mode (``links.forwarding: ip``: UDP and IPv4 at the
   endpoints, the relay fast path; the default before link, the same traces); with --stack, with
   every hop on ns-3's stack (``links.forwarding: ip-stack``; the same traces): their costs and
   ratios too.

Plain ns-3's flows always run on ns-3's own stack at every hop (``ip-stack``).

    python bench/main_job_bench.py [SCENARIO] [--save FILE] [--baseline FILE] [--skip-main] [--link] [--ip] [--stack] [--repeat N]
"""

from __future__ import annotations

import dataclasses
import os
import statistics
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


def raw_udp_cost(ns3, topology, routes, links, pairs: np.ndarray) -> tuple[float, int, float]:
    """Wall seconds, packet-hops and CPU seconds of plain UdpClient/UdpServer flows between ``pairs``."""
    import cppyy

    cppyy.include("ns3/udp-client-server-helper.h")
    cppyy.include("ns3/inet-socket-address.h")
    # ns-3's own stack at every hop, not the engine's relay fast path.
    links = dataclasses.replace(links, forwarding="ip-stack")
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
    clock, cpu = time.perf_counter(), time.process_time()
    ns3.Simulator.Run()
    wall, cpu = time.perf_counter() - clock, time.process_time() - cpu
    hops = int(network.GetPacketHops())
    ns3.Simulator.Destroy()
    return wall, hops, cpu


def main() -> int:
    parser = scenario_parser(__doc__.splitlines()[0])
    parser.add_argument("--skip-main", action="store_true", help="only the per-packet-hop comparison")
    parser.add_argument("--link", action="store_true", help="also the link-level mode (links.forwarding: link)")
    parser.add_argument("--ip", action="store_true", help="also the IP mode (links.forwarding: ip)")
    parser.add_argument("--stack", action="store_true",
                        help="also the engine with every hop on ns-3's stack (links.forwarding: ip-stack)")
    parser.add_argument("--repeat", type=int, default=1, help="per-packet-hop measurements, interleaved; medians")
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
    def engine(links) -> tuple[float, int, int, float]:
        inp = SimulationInput(topology=topology, routes=routes, links=links, gateways=placement.gateways,
                              experts=placement.experts, activations=prep.trace.experts, compute=prep.compute,
                              request_starts_ns=prep.request_starts_ns, message_bytes=scenario.model.hidden_bytes)
        result = run_packet_sim(inp, seed=scenario.seed, stop_ns=prep.stop_ns)
        return result.run_wall_s, result.packet_hops, result.routing_nodes_settled, result.run_cpu_s

    # One untimed run first: the first simulation in a process pays one-time costs (its heap's
    # first pages, cppyy's first calls) that would fall on whichever engine is measured first.
    engine(scenario.links)
    runs: dict[str, list[float]] = {}
    for attempt in range(args.repeat):
        # The scenario's engine, then (with --link, --ip, --stack) the link-level, IP and all-stack
        # ones, in that order.
        engines = [("engine", scenario.links.forwarding)]
        engines += [("link_engine", "link")] * args.link + [("ip_engine", "ip")] * args.ip
        engines += [("stack_engine", "ip-stack")] * args.stack
        for name, forwarding in engines:
            wall, hops, settled, cpu = engine(dataclasses.replace(scenario.links, forwarding=forwarding))
            runs.setdefault(f"{name}_run_s", []).append(wall)
            runs.setdefault(f"{name}_us_per_packet_hop", []).append(wall / hops * 1e6)
            runs.setdefault(f"{name}_cpu_us_per_packet_hop", []).append(cpu / hops * 1e6)
            figures[f"{name}_packet_hops"] = hops
            if name == "engine":
                figures["engine_routing_nodes_settled"] = settled
        raw_wall, raw_hops, raw_cpu = raw_udp_cost(ns3, topology, routes, scenario.links,
                                                    placement.message_pairs()[:64])
        runs.setdefault("raw_ns3_run_s", []).append(raw_wall)
        runs.setdefault("raw_ns3_us_per_packet_hop", []).append(raw_wall / raw_hops * 1e6)
        runs.setdefault("raw_ns3_cpu_us_per_packet_hop", []).append(raw_cpu / raw_hops * 1e6)
        figures["raw_ns3_packet_hops"] = raw_hops
        runs.setdefault("engine_over_raw_ratio", []).append(
            runs["engine_us_per_packet_hop"][-1] / runs["raw_ns3_us_per_packet_hop"][-1])
        runs.setdefault("engine_over_raw_cpu_ratio", []).append(
            runs["engine_cpu_us_per_packet_hop"][-1] / runs["raw_ns3_cpu_us_per_packet_hop"][-1])
        if args.link:
            runs.setdefault("link_engine_over_raw_ratio", []).append(
                runs["link_engine_us_per_packet_hop"][-1] / runs["raw_ns3_us_per_packet_hop"][-1])
            runs.setdefault("link_engine_over_raw_cpu_ratio", []).append(
                runs["link_engine_cpu_us_per_packet_hop"][-1] / runs["raw_ns3_cpu_us_per_packet_hop"][-1])
        for name in ("ip_engine",) * args.ip + ("stack_engine",) * args.stack:
            runs.setdefault(f"{name}_over_raw_ratio", []).append(
                runs[f"{name}_us_per_packet_hop"][-1] / runs["raw_ns3_us_per_packet_hop"][-1])
            runs.setdefault(f"{name}_over_raw_cpu_ratio", []).append(
                runs[f"{name}_cpu_us_per_packet_hop"][-1] / runs["raw_ns3_cpu_us_per_packet_hop"][-1])
        runs.setdefault("load_average_1min", []).append(os.getloadavg()[0])
    for name, values in runs.items():
        figures[name] = statistics.median(values)
        if args.repeat > 1:
            print(f"  {name}: " + ", ".join(f"{v:.3f}" for v in values))
    figures["peak_rss_mb"] = peak_rss_mb()

    print(f"scenario {scenario.name}: {topology.num_nodes} satellites, strategies {', '.join(scenario.strategies)}, "
          f"{scenario.traffic.requests} x {scenario.traffic.tokens_per_request} tokens")
    report(figures, args.save, args.baseline)
    print("  (per packet-hop, Simulator::Run only: engine = the MoE token application with its compute and "
          "combine logic; raw = ns-3's own UdpClient/UdpServer over the same network and routing tables)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
