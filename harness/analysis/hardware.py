"""The hardware sweep's report (docs/hardware.md): per constellation and board, each strategy's mean
token latency and compute share, the ranking of the strategies, and space-xnet's speed-up over
rand-intra-cg (the paper's "at least threefold" claim), as a Markdown table and a PNG.

    python -m harness.analysis.hardware OUT_DIR_POLAR OUT_DIR_WALKER --png docs/hardware.png

Each OUT_DIR is a finished ``python -m harness sweep sweeps/hardware*.yaml --out OUT_DIR``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

#: The paper's claim: space-xnet at least this much faster than its best baseline, rand-intra-cg.
CLAIM = 3.0


def read_sweep(out_dir: Path) -> tuple[str, dict[str, dict[str, dict]]]:
    """(the base scenario's name, {board: {strategy: summary stats}}) of a finished hardware sweep."""
    boards: dict[str, dict[str, dict]] = {}
    base = ""
    for point in sorted((Path(out_dir) / "points").iterdir()):
        summary_path = point / "summary.json"
        if not summary_path.is_file():
            continue
        summary = json.loads(summary_path.read_text())
        boards[point.name.split("hardware=")[-1]] = summary["strategies"]
        base = base or _constellation_name(point)
    return base, boards


def _constellation_name(point: Path) -> str:
    text = (point / "scenario.yaml").read_text() if (point / "scenario.yaml").is_file() else ""
    return "walker_1584" if "walker-delta" in text else "polar_1056"


def table(name: str, boards: dict[str, dict[str, dict]]) -> str:
    """One Markdown table: a row per board."""
    strategies = list(next(iter(boards.values())))
    head = ["board"] + [f"{s} s (compute %)" for s in strategies] + ["ranking (fastest first)",
                                                                     "space-xnet vs rand-intra-cg"]
    lines = [f"**{name}**", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for board, stats in boards.items():
        cells = [f"`{board}`"]
        for s in strategies:
            v = stats[s]
            cells.append(f"{v['mean_ns'] / 1e9:.3f} ({100 * v['share']['compute']:.0f} %)" if v["mean_ns"] else "-")
        ranking = sorted((s for s in strategies if stats[s]["mean_ns"]), key=lambda s: stats[s]["mean_ns"])
        cells.append(" < ".join(ranking))
        speedup = stats["rand-intra-cg"]["mean_ns"] / stats["space-xnet"]["mean_ns"]
        cells.append(f"**{speedup:.2f}x**" if speedup >= CLAIM else f"{speedup:.2f}x")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_png(sweeps: list[tuple[str, dict[str, dict[str, dict]]]], path: Path) -> None:
    """Mean latency (log scale) and compute share per board and strategy, one column per constellation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(sweeps), figsize=(6.5 * len(sweeps), 8), squeeze=False)
    for col, (name, boards) in enumerate(sweeps):
        names = list(boards)
        strategies = list(next(iter(boards.values())))
        for s in strategies:
            lat = [boards[b][s]["mean_ns"] / 1e9 for b in names]
            share = [100 * boards[b][s]["share"]["compute"] for b in names]
            axes[0, col].plot(range(len(names)), lat, marker="o", label=s)
            axes[1, col].plot(range(len(names)), share, marker="o", label=s)
        axes[0, col].set_yscale("log")
        axes[0, col].set_title(f"{name}: mean token latency")
        axes[0, col].set_ylabel("s")
        axes[1, col].set_title(f"{name}: compute share of latency")
        axes[1, col].set_ylabel("%")
        for row in range(2):
            axes[row, col].set_xticks(range(len(names)), names, rotation=35, ha="right", fontsize=8)
            axes[row, col].grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dirs", nargs="+", type=Path)
    parser.add_argument("--png", type=Path)
    args = parser.parse_args(argv)
    sweeps = [read_sweep(d) for d in args.out_dirs]
    for name, boards in sweeps:
        sys.stdout.write(table(name, boards) + "\n")
    if args.png:
        plot_png(sweeps, args.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
