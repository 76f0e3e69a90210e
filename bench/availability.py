"""Availability against the satellite failure rate (issue 24, docs/failover.md): reads the
availability sweep's sweep.csv and draws docs/failover/availability.png (served fraction, p99 TTFT
and fail-overs against faults.satellite_failure_rate_per_s, one line per serving.replicas), and
prints the table of docs/failover.md.

    python -m harness sweep sweeps/availability.yaml --workers 1 --out results/sweep-availability
    PYTHONPATH=. python bench/availability.py results/sweep-availability/sweep.csv
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RATE, REPLICAS = "faults.satellite_failure_rate_per_s", "serving.replicas"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table", type=Path, help="the sweep's sweep.csv")
    parser.add_argument("--png", type=Path, default=ROOT / "docs" / "failover" / "availability.png")
    args = parser.parse_args()
    with open(args.table, newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: (int(r[REPLICAS]), float(r[RATE])))
    print("| failure rate, 1/s per satellite | replicas | served fraction | requests failed (with a reason) | "
          "lost | p99 TTFT, s | p99 TPOT, s | fail-overs | time lost per request, mean s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ttft = float(r["ttft_p99_ns"]) / 1e9 if r["ttft_p99_ns"] else float("nan")
        tpot = float(r["tpot_p99_ns"]) / 1e9 if r["tpot_p99_ns"] else float("nan")
        print(f"| {float(r[RATE]):g} | {r[REPLICAS]} | {float(r['served_fraction']):.3f} | {r['requests_failed']} | "
              f"{r['requests_lost']} | {ttft:.1f} | {tpot:.2f} | {r['failovers']} | "
              f"{float(r['lost_ns_mean']) / 1e9:.1f} |")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for replicas in sorted({int(r[REPLICAS]) for r in rows}):
        mine = [r for r in rows if int(r[REPLICAS]) == replicas]
        x = [float(r[RATE]) for r in mine]
        axes[0].plot(x, [float(r["served_fraction"]) for r in mine], marker="o", label=f"{replicas} replicas")
        axes[1].plot(x, [float(r["ttft_p99_ns"]) / 1e9 if r["ttft_p99_ns"] else float("nan") for r in mine],
                     marker="o", label=f"{replicas} replicas")
        axes[2].plot(x, [int(r["failovers"]) for r in mine], marker="o", label=f"{replicas} replicas")
    for ax, label in zip(axes, ("availability (served fraction)", "p99 TTFT, s", "fail-overs")):
        ax.set_xlabel("satellite failure rate, 1/s per satellite")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylim(-0.05, 1.05)
    axes[0].legend()
    fig.suptitle("serving_polar_1056 with fail-over (detection 1 s): 8 requests, 400 s", fontsize=9)
    fig.tight_layout()
    args.png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.png, dpi=110)


if __name__ == "__main__":
    main()
