"""Benchmark: ground-to-ground paths of a scenario with ground sites (default hypatia_kuiper_630:
1156 satellites, 2000 snapshots, 3 pairs of its sites).

Times, in one process: the TLE constellation (read, inferred, SGP4 over every snapshot); the +Grid
ISLs; then the paths of every pair of the first three sites (satellites into the Earth-fixed frame,
GSL ranges and rules, one routes-engine run per pair, the walk back along the paths). Prints wall
time per step, the time per pair and per snapshot, and the peak memory.

    python bench/ground_paths_bench.py [SCENARIO] [--save FILE] [--baseline FILE]
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import peak_rss_mb, report, scenario_parser  # noqa: E402
from harness import pipeline  # noqa: E402
from harness.network.ground.paths import ground_paths  # noqa: E402
from harness.cxx.runtime import load  # noqa: E402
from harness.scenario import load_scenario  # noqa: E402


def main() -> int:
    parser = scenario_parser(__doc__.splitlines()[0])
    parser.set_defaults(scenario=str(REPO / "topologies" / "hypatia_kuiper_630.yaml"))
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    g = scenario.ground
    if len(g.sites) < 2:
        print("error: the scenario needs at least two ground.sites", file=sys.stderr)
        return 1
    load()  # the native routing engine: loaded once, outside the timings
    figures: dict[str, float] = {}

    clock = time.perf_counter()
    constellation = pipeline.build_constellation(scenario)
    figures["constellation_s"] = time.perf_counter() - clock
    clock = time.perf_counter()
    topology = pipeline.build_topology(scenario, constellation)
    figures["isls_s"] = time.perf_counter() - clock

    pairs = list(itertools.combinations([s.name for s in g.sites[:3]], 2))
    clock = time.perf_counter()
    ground_paths(constellation, topology, g.sites, pairs, epoch_utc=scenario.constellation.epoch,
                 convention=g.convention, gsl_rule=g.gsl_rule, min_elevation_deg=g.min_elevation_deg,
                 max_gsl_length_m=None if g.max_gsl_length_km is None else g.max_gsl_length_km * 1e3)
    elapsed = time.perf_counter() - clock
    figures["paths_s"] = elapsed
    figures["paths_per_pair_s"] = elapsed / len(pairs)
    figures["paths_per_pair_snapshot_ms"] = 1e3 * elapsed / len(pairs) / topology.num_snapshots
    figures["peak_rss_mb"] = peak_rss_mb()
    print(f"{scenario.name}: {constellation.num_satellites} satellites, {topology.num_snapshots} snapshots, "
          f"{len(pairs)} pairs")
    report(figures, args.save, args.baseline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
