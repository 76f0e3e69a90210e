"""Benchmark: how a whole run grows with the constellation and the model.

Runs ``python -m harness run``'s work (every strategy, 200 snapshots, 4 requests x 8 tokens) for
Walker deltas of growing size carrying LLaMA-MoE-3.5B (288 components), and the 6,400-satellite
Qwen3-30B-A3B scenario (6,192 components), and ``topologies/walker_16000_deepseek_v3.yaml`` as it
stands (16,000 satellites, DeepSeek-V3's 14,906 components, 400 snapshots, the paper's four
strategies), each in a fresh process; prints wall time, CPU time (user + system, the run's process
and its forks: less sensitive to the machine's load than wall time), the placements' wall time,
peak memory (the summed PSS of the run's process and its forks, sampled every 250 ms, and the
largest resident set of each) and the memory estimate of harness/run/estimate.py, and the growth
exponents of wall time and memory against the number of satellites (least squares on log-log).

``--ref GITREF --repeat N`` also measures that commit's code (``git archive`` into a temporary
directory, run with it on PYTHONPATH), alternately with this checkout's, N times each, in the same
run, and prints medians and ratios with the load averages. The run's memory check
(harness/run/estimate.py) is skipped in the measured process: the bench measures the real peak.

    python bench/scaling_bench.py [--only NAME ...] [--ref GITREF] [--repeat N] [--save FILE] [--baseline FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
#: The harness measured: this checkout's, or (set by --ref) another commit's exported code.
CODE = Path(os.environ.get("SCALING_BENCH_CODE", str(REPO)))
sys.path.insert(0, str(CODE))
sys.path.insert(0, str(REPO / "bench"))

from common import TreeRss, report  # noqa: E402

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
    from harness.run import pipeline
    from harness.run import prepare as prepare_mod
    from harness.run.estimate import estimate_memory
    from harness.scenario import load_scenario

    scenario = load_scenario(path)
    prepare_mod.check_memory = lambda *args, **kwargs: None  # measured here, not estimated
    placing = [0.0]
    place_replicas = pipeline.place_replicas

    def timed_place_replicas(*args, **kwargs):
        clock = time.perf_counter()
        try:
            return place_replicas(*args, **kwargs)
        finally:
            placing[0] += time.perf_counter() - clock

    pipeline.place_replicas = timed_place_replicas
    load_before = os.getloadavg()[0]
    clock = time.perf_counter()
    with TreeRss() as tree:
        result = pipeline.run_scenario(scenario)
    wall = time.perf_counter() - clock
    me, forks = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    if os.environ.get("SCALING_BENCH_TOKENS"):  # after the measurement: the traces, to compare with regress.py's
        from harness.formats import results as formats

        Path(os.environ["SCALING_BENCH_TOKENS"]).write_text(formats.tokens_csv(result.traces))
    print(json.dumps({
        "satellites": scenario.constellation.num_satellites,
        "components": scenario.model.num_components,
        "snapshots": scenario.snapshots.count,
        "wall_s": wall,
        "cpu_s": me.ru_utime + me.ru_stime + forks.ru_utime + forks.ru_stime,
        "placement_s": placing[0],
        "peak_pss_mb": tree.peak_mb,
        "peak_rss_mb": me.ru_maxrss / 1024,
        # the strategies' simulations run in forked processes: the largest of them
        "fork_peak_rss_mb": forks.ru_maxrss / 1024,
        "estimate_mb": estimate_memory(scenario).total_bytes / 2**20,
        "load_average": (load_before + os.getloadavg()[0]) / 2,
    }))


def measure(name: str, code: Path, tmp: Path) -> dict | None:
    """One point in a fresh process running ``code``'s harness (this bench's own code drives it)."""
    path = tmp / f"{name}.yaml"
    if name in FILES:  # as it stands (PyYAML would read 100.0e9 as a string)
        shutil.copy(FILES[name], path)
    else:
        path.write_text(yaml.safe_dump(scenario_for(name)))
    env = dict(os.environ, PYTHONPATH=str(code), SCALING_BENCH_CODE=str(code))
    done = subprocess.run([sys.executable, __file__, "--one", str(path)], capture_output=True, text=True,
                          cwd=code, env=env)
    if done.returncode != 0:
        print(f"{name}: failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted({**POINTS, **FILES}), help="run only these points")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--ref", default=None, help="also measure this git commit's code, alternately, in this run")
    parser.add_argument("--repeat", type=int, default=1, help="measurements of each point and code (medians reported)")
    parser.add_argument("--save", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--baseline", type=Path, help="a JSON file written by --save: print each figure's ratio")
    args = parser.parse_args()
    if args.one:
        one(args.one)
        return 0
    codes = {"this checkout": REPO}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.ref:
            ref = tmp / "ref"
            ref.mkdir()
            archive = subprocess.run(["git", "-C", str(REPO), "archive", args.ref], capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", str(ref)], input=archive.stdout, check=True)
            codes = {f"ref {args.ref}": ref, "this checkout": REPO}
        runs: dict[str, dict[str, list]] = {code: {} for code in codes}
        for name in args.only or {**POINTS, **FILES}:
            for i in range(args.repeat):
                for code, where in codes.items():
                    r = measure(name, where, tmp)
                    if r is None:
                        continue
                    runs[code].setdefault(name, []).append(r)
                    print(f"  [{i + 1}/{args.repeat}] {name}, {code}: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, "
                          f"peak PSS {r['peak_pss_mb']:.0f} MB (load average {r['load_average']:.1f})", flush=True)
    medians = {code: {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in points.items()}
               for code, points in runs.items()}
    rows = medians["this checkout"]
    for code, points in medians.items():
        print(f"{code} (medians of {args.repeat}):")
        print(f"{'scenario':26s} {'satellites':>10s} {'components':>10s} {'snapshots':>9s} {'wall s':>8s} {'CPU s':>8s} "
              f"{'place s':>8s} {'PSS MB':>8s} {'run MB':>8s} {'fork MB':>8s} {'estimate MB':>11s} {'load':>5s}")
        for name, r in points.items():
            print(f"{name:26s} {r['satellites']:10.0f} {r['components']:10.0f} {r['snapshots']:9.0f} {r['wall_s']:8.1f} "
                  f"{r['cpu_s']:8.1f} {r['placement_s']:8.1f} {r['peak_pss_mb']:8.0f} {r['peak_rss_mb']:8.0f} "
                  f"{r['fork_peak_rss_mb']:8.0f} {r['estimate_mb']:11.0f} {r['load_average']:5.1f}")
    print("(PSS MB: peak of the summed proportional set sizes of the run's process and its forks, shared pages "
          "counted once; run MB: peak resident memory of the run's process; fork MB: of the largest process it "
          "forked for a strategy's simulation, two of which run at once on 2 cores; they share the run's pages)")
    if args.ref:
        ref_rows = medians[f"ref {args.ref}"]
        for name, r in rows.items():
            if name in ref_rows:
                print(f"{name}: this checkout / ref {args.ref}: " + ", ".join(
                    f"{k} x{r[k] / ref_rows[name][k]:.2f}" for k in ("wall_s", "cpu_s", "placement_s", "peak_pss_mb",
                                                                      "peak_rss_mb", "fork_peak_rss_mb")
                    if ref_rows[name][k]))
    figures = {f"{name}_{key}": r[key] for name, r in rows.items()
               for key in ("wall_s", "cpu_s", "placement_s", "peak_pss_mb", "peak_rss_mb", "fork_peak_rss_mb")}
    same_model = [r for name, r in rows.items() if name in POINTS and not name.endswith("qwen3")]
    if len(same_model) >= 2:
        n = np.log([r["satellites"] for r in same_model])
        figures["wall_exponent"] = float(np.polyfit(n, np.log([r["wall_s"] for r in same_model]), 1)[0])
        figures["memory_exponent"] = float(np.polyfit(n, np.log([r["peak_rss_mb"] for r in same_model]), 1)[0])
        figures["cpu_exponent"] = float(np.polyfit(n, np.log([r["cpu_s"] for r in same_model]), 1)[0])
        figures["pss_exponent"] = float(np.polyfit(n, np.log([r["peak_pss_mb"] for r in same_model]), 1)[0])
        print(f"growth with satellites (288 components): wall ~ N^{figures['wall_exponent']:.2f}, "
              f"CPU ~ N^{figures['cpu_exponent']:.2f}, peak memory ~ N^{figures['memory_exponent']:.2f} "
              f"(PSS ~ N^{figures['pss_exponent']:.2f})")
    if len(rows) >= 3 and any(name in FILES for name in rows):
        # Every point, whatever its model: how the whole runs grow up to walker_16000_deepseek_v3
        # (the model grows with N along these points: 288 to 14,906 components).
        every = list(rows.values())
        n = np.log([r["satellites"] for r in every])
        for key, label in (("wall_s", "wall"), ("cpu_s", "CPU"), ("peak_pss_mb", "PSS")):
            figures[f"all_points_{key}_exponent"] = float(np.polyfit(n, np.log([r[key] for r in every]), 1)[0])
        print("growth with satellites over every point (the models grow too): "
              + ", ".join(f"{label} ~ N^{figures[f'all_points_{key}_exponent']:.2f}"
                          for key, label in (("wall_s", "wall"), ("cpu_s", "CPU"), ("peak_pss_mb", "PSS"))))
    report(figures, args.save, args.baseline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
