"""What the benchmarks share: the scenario argument, --save / --baseline, peak memory, the report."""

from __future__ import annotations

import argparse
import json
import os
import resource
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    """The process's peak resident memory so far, MB (Linux ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _descendants(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                for child in f.read().split():
                    found += [int(child)] + _descendants(int(child))
    except OSError:
        pass
    return found


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class TreeRss:
    """Peak of the summed resident memory of this process and every process it forked (the
    strategies' simulations run in forked processes), sampled every 50 ms. Pages the forks share
    with this process are counted in each, so the figure is an upper bound."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, sum(_rss_mb(p) for p in [me] + _descendants(me)))
            self._stop.wait(0.05)

    def __enter__(self) -> "TreeRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, peak_rss_mb())


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
