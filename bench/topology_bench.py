"""Benchmark: constellation dynamics of a scenario (default walker_1584: 72 x 22, 200 snapshots).

Times, in one process: SGP4 positions of every satellite at every snapshot; the +Grid ISLs with
lengths, delays, feasibility and outages; shortest-delay routes toward every satellite that hosts a
model component (space-xnet's placement, made first and not timed). Prints wall time per step, the
total and the peak memory, and in the same run the time of networkx's Floyd-Warshall on ONE
snapshot (Hypatia's method) as the comparison.

    python bench/topology_bench.py [SCENARIO] [--save FILE] [--baseline FILE] [--scipy]

``--save`` writes the figures as JSON; ``--baseline`` prints each figure's ratio to a saved run.
``--scipy`` also times the scipy reference routing engine.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import peak_rss_mb, report, scenario_parser  # noqa: E402
from harness import pipeline  # noqa: E402
from harness.seeding import rng_for
from harness.cxx.runtime import load  # noqa: E402
from harness.placement import PlacementInput, place  # noqa: E402
from harness.network.routes import shortest_delay_routes  # noqa: E402
from harness.scenario import load_scenario  # noqa: E402


def main() -> int:
    parser = scenario_parser(__doc__.splitlines()[0])
    parser.add_argument("--scipy", action="store_true", help="also time the scipy routing engine")
    args = parser.parse_args()

    scenario = load_scenario(args.scenario)
    load()  # ns-3 and the native routing engine: loaded once, outside the timings
    figures: dict[str, float] = {}

    clock = time.perf_counter()
    constellation = pipeline.build_constellation(scenario)
    figures["positions_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    topology = pipeline.build_topology(scenario, constellation)
    figures["links_s"] = time.perf_counter() - clock

    trace = pipeline.build_activations(scenario)
    inputs = PlacementInput(topology=topology, arg_latitude_rad=constellation.arg_latitude_rad,
                            probabilities=trace.probabilities(), layers=scenario.model.layers,
                            experts=scenario.model.experts)
    destinations = np.sort(place("space-xnet", inputs, rng_for(scenario.seed, "placement")).components)

    clock = time.perf_counter()
    routes = shortest_delay_routes(topology, destinations)
    figures["routes_s"] = time.perf_counter() - clock
    figures["total_s"] = figures["positions_s"] + figures["links_s"] + figures["routes_s"]
    figures["peak_rss_mb"] = peak_rss_mb()

    if args.scipy:
        clock = time.perf_counter()
        reference = shortest_delay_routes(topology, destinations, engine="scipy")
        figures["routes_scipy_s"] = time.perf_counter() - clock
        assert np.array_equal(reference.delay_ns, routes.delay_ns)

    graph = nx.Graph()
    graph.add_nodes_from(range(topology.num_nodes))
    up = topology.up[0]
    graph.add_weighted_edges_from((int(a), int(b), int(d)) for (a, b), d in
                                  zip(topology.edges[up], topology.delay_ns[0, up]))
    clock = time.perf_counter()
    nx.floyd_warshall_numpy(graph, weight="weight")
    figures["networkx_floyd_warshall_one_snapshot_s"] = time.perf_counter() - clock

    print(f"scenario {scenario.name}: {topology.num_nodes} satellites, {topology.num_links} ISLs, "
          f"{topology.num_snapshots} snapshots, {len(destinations)} destinations, "
          f"{1 - topology.up.mean():.1%} of link-snapshots down")
    report(figures, args.save, args.baseline)
    per_snapshot = figures["routes_s"] / topology.num_snapshots
    print(f"  routes per snapshot: {per_snapshot * 1e3:.1f} ms; networkx Floyd-Warshall per snapshot is "
          f"{figures['networkx_floyd_warshall_one_snapshot_s'] / per_snapshot:.0f}x that")
    return 0


if __name__ == "__main__":
    sys.exit(main())
