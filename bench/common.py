"""What the benchmarks share: the scenario argument, --save / --baseline, peak memory, the report."""

from __future__ import annotations

import argparse
import json
import resource
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    """The process's peak resident memory so far, MB (Linux ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scenario_parser(description: str) -> argparse.ArgumentParser:
    """SCENARIO (default walker_1584), --save FILE and --baseline FILE."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("scenario", nargs="?", default=str(REPO / "topologies" / "walker_1584.yaml"))
    parser.add_argument("--save", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--baseline", type=Path, help="a JSON file written by --save: print each figure's ratio")
    return parser


def report(figures: dict[str, float], save: Path | None, baseline: Path | None) -> None:
    """Print every figure (with its ratio to the baseline's, if any) and save them if asked."""
    before = json.loads(baseline.read_text()) if baseline else {}
    for name, value in figures.items():
        line = f"  {name:42s} {value:14.3f}"
        if before.get(name):
            line += f"   x{value / before[name]:.2f} vs baseline"
        print(line)
    if save:
        save.write_text(json.dumps(figures, indent=2) + "\n")
