"""Benchmark: how a whole run grows with the constellation and the model.

Runs ``python -m harness run``'s work (every strategy, 200 snapshots, 4 requests x 8 tokens) for
Walker deltas of growing size carrying LLaMA-MoE-3.5B (288 components), and the 6,400-satellite
Qwen3-30B-A3B scenario (6,192 components), and ``topologies/walker_16000_deepseek_v3.yaml`` as it
stands (16,000 satellites, DeepSeek-V3's 14,906 components, 400 snapshots, the paper's four
strategies), each in a fresh process; prints wall time, peak
resident memory and the memory estimate of harness/run/estimate.py, and the growth exponents of wall
time and memory against the number of satellites (least squares on log-log).

    python bench/scaling_bench.py [--only NAME ...] [--save FILE] [--baseline FILE]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import report  # noqa: E402

BASE = yaml.safe_load((REPO / "topologies" / "walker_1584.yaml").read_text())

#: name -> (planes, satellites, phasing, model preset): Walker deltas at 550 km, 53 deg.
POINTS = {
    "walker_528": (24, 528, 13, "llama-moe-3.5b-2of8"),
    "walker_1584": (72, 1584, 39, "llama-moe-3.5b-2of8"),
    "walker_3168": (72, 3168, 39, "llama-moe-3.5b-2of8"),
    "walker_6400": (80, 6400, 17, "llama-moe-3.5b-2of8"),
    "walker_6400_qwen3": (80, 6400, 17, "qwen3-30b-a3b"),
}
#: Points run from a shipped scenario file as it stands (its own snapshots, strategies and board).
FILES = {"walker_16000_deepseek_v3": REPO / "topologies" / "walker_16000_deepseek_v3.yaml"}


def scenario_for(name: str) -> dict:
    if name in FILES:
        raw = yaml.safe_load(FILES[name].read_text())
        return raw
    planes, satellites, phasing, preset = POINTS[name]
    raw = json.loads(json.dumps(BASE))
    raw["name"] = name
    raw["constellation"].update(planes=planes, satellites=satellites, phasing=phasing)
    raw["model"] = {"preset": preset}
    return raw


def one(path: Path) -> None:
    """Child process: run one scenario, print its figures as JSON."""
    from harness import pipeline
    from harness.run.estimate import estimate_memory
    from harness.scenario import load_scenario

    scenario = load_scenario(path)
    clock = time.perf_counter()
    pipeline.run_scenario(scenario)
    print(json.dumps({
        "satellites": scenario.constellation.num_satellites,
        "components": scenario.model.num_components,
        "snapshots": scenario.snapshots.count,
        "wall_s": time.perf_counter() - clock,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        # the strategies' simulations run in forked processes: the largest of them
        "fork_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "estimate_mb": estimate_memory(scenario).total_bytes / 2**20,
    }))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted({**POINTS, **FILES}), help="run only these points")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--save", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--baseline", type=Path, help="a JSON file written by --save: print each figure's ratio")
    args = parser.parse_args()
    if args.one:
        one(args.one)
        return 0
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only or {**POINTS, **FILES}:
            path = Path(tmp) / f"{name}.yaml"
            path.write_text(yaml.safe_dump(scenario_for(name)))
            done = subprocess.run([sys.executable, __file__, "--one", str(path)], capture_output=True,
                                  text=True, cwd=REPO)
            if done.returncode != 0:
                print(f"{name}: failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
                continue
            rows[name] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{'scenario':20s} {'satellites':>10s} {'components':>10s} {'snapshots':>9s} {'wall s':>8s} "
          f"{'run MB':>8s} {'fork MB':>8s} {'estimate MB':>11s}")
    for name, r in rows.items():
        print(f"{name:20s} {r['satellites']:10d} {r['components']:10d} {r['snapshots']:9d} {r['wall_s']:8.1f} "
              f"{r['peak_rss_mb']:8.0f} {r['fork_peak_rss_mb']:8.0f} {r['estimate_mb']:11.0f}")
    print("(run MB: peak resident memory of the run's process; fork MB: of the largest process it forked "
          "for a strategy's simulation, two of which run at once on 2 cores; they share the run's pages)")
    figures = {f"{name}_{key}": r[key] for name, r in rows.items()
               for key in ("wall_s", "peak_rss_mb", "fork_peak_rss_mb")}
    same_model = [r for name, r in rows.items() if name in POINTS and not name.endswith("qwen3")]
    if len(same_model) >= 2:
        n = np.log([r["satellites"] for r in same_model])
        figures["wall_exponent"] = float(np.polyfit(n, np.log([r["wall_s"] for r in same_model]), 1)[0])
        figures["memory_exponent"] = float(np.polyfit(n, np.log([r["peak_rss_mb"] for r in same_model]), 1)[0])
        print(f"growth with satellites (288 components): wall ~ N^{figures['wall_exponent']:.2f}, "
              f"peak memory ~ N^{figures['memory_exponent']:.2f}")
    report(figures, args.save, args.baseline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
