"""Availability against the satellite failure rate (issue 24, docs/failover.md): reads the
availability sweep's sweep.csv and draws docs/failover/availability.png (served fraction, p99 TTFT
and fail-overs against faults.satellite_failure_rate_per_s, one line per serving.replicas), and
prints the table of docs/failover.md.

    python -m harness sweep sweeps/availability.yaml --workers 1 --out results/sweep-availability
    python -m harness sweep sweeps/availability_replace.yaml --workers 1 --out results/sweep-availability-replace
    PYTHONPATH=. python bench/availability.py results/sweep-availability/sweep.csv \
        results/sweep-availability-replace/sweep.csv --labels failover replace
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RATE, REPLICAS = "faults.satellite_failure_rate_per_s", "serving.replicas"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tables", type=Path, nargs="+", help="the sweeps' sweep.csv")
    parser.add_argument("--labels", nargs="+", default=["failover"], help="faults.recovery of each sweep")
    parser.add_argument("--png", type=Path, default=ROOT / "docs" / "failover" / "availability.png")
    args = parser.parse_args()
    rows = []
    for table, label in zip(args.tables, args.labels):
        with open(table, newline="") as f:
            rows += [dict(r, recovery=label) for r in csv.DictReader(f)]
    rows.sort(key=lambda r: (r["recovery"], int(r[REPLICAS]), float(r[RATE])))
    print("| recovery | failure rate, 1/s per satellite | replicas | served fraction | requests failed (with a "
          "reason) | lost (unfinished at the horizon) | p99 TTFT, s | p99 TPOT, s | fail-overs | re-placement restarts | time lost per "
          "request, mean s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ttft = float(r["ttft_p99_ns"]) / 1e9 if r["ttft_p99_ns"] else float("nan")
        tpot = float(r["tpot_p99_ns"]) / 1e9 if r["tpot_p99_ns"] else float("nan")
        print(f"| {r['recovery']} | {float(r[RATE]):g} | {r[REPLICAS]} | {float(r['served_fraction']):.3f} | "
              f"{r['requests_failed']} | {r['requests_lost']} | {ttft:.1f} | {tpot:.2f} | {r['failovers']} | "
              f"{r['replacements']} | {float(r['lost_ns_mean']) / 1e9:.1f} |")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for recovery, replicas in dict.fromkeys((r["recovery"], int(r[REPLICAS])) for r in rows):
        mine = [r for r in rows if r["recovery"] == recovery and int(r[REPLICAS]) == replicas]
        x = [float(r[RATE]) for r in mine]
        style = dict(marker="o" if recovery == "failover" else "s", ls="-" if recovery == "failover" else "--",
                     label=f"{replicas} replicas, {recovery}")
        axes[0].plot(x, [float(r["served_fraction"]) for r in mine], **style)
        axes[1].plot(x, [float(r["ttft_p99_ns"]) / 1e9 if r["ttft_p99_ns"] else float("nan") for r in mine],
                     **style)
        axes[2].plot(x, [int(r["failovers"]) + int(r["replacements"]) for r in mine], **style)
    for ax, label in zip(axes, ("availability (served fraction)", "p99 TTFT, s",
                                "requests moved (fail-overs, restarts)")):
        ax.set_xscale("symlog", linthresh=1e-6)  # 0 and the rates from 3e-6 to 1e-4
        ax.set_xlabel("satellite failure rate, 1/s per satellite")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylim(-0.05, 1.05)
    axes[0].legend(fontsize=8)
    fig.suptitle("serving_polar_1056 under satellite failures (detection 1 s): 8 requests, 400 s", fontsize=9)
    fig.tight_layout()
    args.png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.png, dpi=110)


if __name__ == "__main__":
    main()
