"""Fail-over on serving_polar_1056 (issue 24, docs/failover.md): two replicas, replica 0's gateway of
layer 5 (satellite 549) failing at 120 s, run with faults.recovery none and failover (and replace
with --replace); prints the table of docs/failover.md and draws docs/failover/requests.png.

    PYTHONPATH=. python bench/failover.py [--out DIR] [--replace]

Each run is an ordinary results directory under DIR (default results/failover); a run whose
summary.json exists is not run again.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "topologies" / "serving_polar_1056.yaml"
FAILED_SAT, FAIL_S = 549, 120


def run(policy: str, out: Path) -> Path:
    target = out / policy
    if (target / "summary.json").is_file():
        return target
    text = SCENARIO.read_text() + (f"faults:\n  satellite_failures: [{{satellite: {FAILED_SAT}, time_s: {FAIL_S}}}]\n"
                                   f"  recovery: {policy}\n")
    out.mkdir(parents=True, exist_ok=True)
    scenario = out / f"serving_polar_1056_{policy}.yaml"
    scenario.write_text(text)
    subprocess.run([sys.executable, "-m", "harness", "run", str(scenario), "--out", str(target)], check=True,
                   cwd=ROOT)
    return target


def table(runs: dict[str, Path]) -> str:
    from harness.formats.requests import read_requests_csv

    lines = ["| recovery | served fraction | requests failed (with a reason) | lost | p99 TTFT, s | "
             "time lost per request, mean (max), s | requests resent to another replica | requests restarted after a re-placement |",
             "|---|---|---|---|---|---|---|---|"]
    for policy, path in runs.items():
        cols = read_requests_csv(path / "requests.csv")["space-xnet"]
        status = cols["status"]
        done = status == "completed"
        ttft = cols["ttft_ns"][cols["ttft_ns"] >= 0]
        p99 = np.percentile(ttft, 99) / 1e9 if len(ttft) else float("nan")
        lost = cols.get("lost_ns", np.zeros(len(status), dtype=np.int64))
        failed = (status == "failed").sum() if "lost_ns" in cols else (~done).sum()
        lost_requests = (~done).sum() - failed
        lines.append(f"| {policy} | {done.mean():.3f} ({done.sum()}/{len(done)}) | {failed} | {lost_requests} | "
                     f"{p99:.2f} | {(f'{lost.mean() / 1e9:.2f} ({lost.max() / 1e9:.2f})' if 'lost_ns' in cols else '-')} | "
                     f"{int(cols.get('failovers', np.zeros(1)).sum())} | "
                     f"{int(cols.get('replacements', np.zeros(1)).sum())} |")
    return "\n".join(lines)


def figure(runs: dict[str, Path], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from harness.formats.requests import read_requests_csv

    fig, axes = plt.subplots(len(runs), 1, figsize=(8, 1.8 + 1.2 * len(runs)), sharex=True)
    for ax, (policy, run_dir) in zip(np.atleast_1d(axes), runs.items()):
        cols = read_requests_csv(run_dir / "requests.csv")["space-xnet"]
        for r in range(len(cols["request"])):
            a, end = cols["arrival_ns"][r] / 1e9, cols["end_ns"][r] / 1e9
            colour = "C0" if cols["replica"][r] == 0 else "C2"
            ax.plot([a, a], [r - 0.3, r + 0.3], color="k", lw=1)
            if end > 0:
                ax.barh(r, end - a, left=a, height=0.5, color=colour, alpha=0.7)
                first = cols["first_token_ns"][r] / 1e9
                ax.plot([first], [r], "k|", ms=10)
            else:
                ax.barh(r, FAIL_S + 5 - a, left=a, height=0.5, color="C3", alpha=0.4, hatch="//")
            moved = ("resent" if cols["failovers"][r] else "restarted") if "failovers" in cols and (
                cols["failovers"][r] or cols["replacements"][r]) else None
            if moved:
                ax.annotate(f"{moved}, {cols['lost_ns'][r] / 1e9:.0f} s lost", (end if end > 0 else a, r),
                            xytext=(4, -3), textcoords="offset points", fontsize=7)
        ax.axvline(FAIL_S, color="C3", ls="--", lw=1)
        ax.set_ylabel("request")
        ax.set_yticks(range(len(cols["request"])))
        ax.set_title(f"recovery: {policy} (bars: arrival to last token; blue: arrived at replica 0, green: "
                     f"replica 1; red: failed)", fontsize=8)
        ax.invert_yaxis()
    np.atleast_1d(axes)[-1].set_xlabel(f"time, s (dashed: satellite {FAILED_SAT}, replica 0's gateway of layer 5, "
                                       f"fails at {FAIL_S} s)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "failover")
    parser.add_argument("--replace", action="store_true", help="also run faults.recovery: replace")
    args = parser.parse_args()
    policies = ["none", "failover"] + (["replace"] if args.replace else [])
    runs = {p: run(p, args.out) for p in policies}
    print(table(runs))
    figure(runs, ROOT / "docs" / "failover" / "requests.png")


if __name__ == "__main__":
    main()
