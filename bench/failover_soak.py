"""Soak (issue 24): an hour of serving through satellite failures with fail-over, twice.

serving_polar_1056 (space-xnet, prefill) stretched to ``--seconds`` (default 3,600) snapshots of
1 s, three replicas, Poisson arrivals at 0.02 request/s (``--seconds`` x 0.02 requests, the last
well before the end), every satellite failing at a seeded exponential time of rate 2e-6 per s
(about 7.6 failures over 1,056 satellites in an hour, most of them on components), fail-over with
a 1 s detection. Runs it twice in fresh processes and prints: the failures, the components they
killed, the fail-overs; every request's status (completed or failed with a reason: none may be
left unaccounted for); whether the two runs' tokens.csv, layers.csv and requests.csv are
byte-identical; wall time and peak resident memory of each run.

    PYTHONPATH=. python bench/failover_soak.py [--seconds 3600] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def scenario_text(seconds: int) -> str:
    import yaml

    raw = yaml.safe_load((ROOT / "topologies" / "serving_polar_1056.yaml").read_text())
    raw["name"] = f"failover_soak_{seconds}"
    raw["snapshots"]["count"] = seconds
    raw["traffic"]["requests"] = int(seconds * 0.02 * 0.9)  # the last arrives around 90 % of the horizon
    raw["serving"].update(rate_per_s=0.02, replicas=3)
    raw["faults"] = {"satellite_failure_rate_per_s": 2e-6, "recovery": "failover", "detection_delay_s": 1.0}
    return yaml.safe_dump(raw, sort_keys=False)


def run(path: Path, out: Path) -> tuple[float, float]:
    clock = time.perf_counter()
    subprocess.run([sys.executable, "-m", "harness", "run", str(path), "--out", str(out)], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - clock, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3600)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "failover_soak")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"soak_{args.seconds}.yaml"
    path.write_text(scenario_text(args.seconds))
    walls = []
    for attempt in ("a", "b"):
        wall, peak = run(path, args.out / attempt)
        walls.append(wall)
        print(f"run {attempt}: {wall:.0f} s wall, peak resident memory of the runs so far {peak:.0f} MB")
    same = {name: (args.out / "a" / name).read_bytes() == (args.out / "b" / name).read_bytes()
            for name in ("tokens.csv", "layers.csv", "requests.csv")}
    print("byte-identical on rerun:", same)
    with open(args.out / "a" / "requests.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    status = {}
    for r in rows:
        status[r["status"]] = status.get(r["status"], 0) + 1
    summary = json.loads((args.out / "a" / "summary.json").read_text())["strategies"]["space-xnet"]
    print(f"requests: {len(rows)}, status: {status}")
    print("recovery:", summary["serving"]["recovery"])
    print("satellites failed:", summary.get("satellites_failed"), " fail-overs:", summary.get("failovers"),
          " requests failed over:", summary.get("requests_failed_over"))
    with open(args.out / "a" / "tokens.csv", newline="") as f:
        reasons = {row["reason"].split(" at ")[0] for row in csv.DictReader(f) if row["status"] == "failed"}
    print("failure reasons:", sorted(reasons))
    accounted = all(r["status"] in ("completed", "failed") for r in rows)
    print("every request accounted for (completed or failed with a reason):", accounted)


if __name__ == "__main__":
    main()
