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


def _memory_mb(pid: int, field: str) -> float:
    """A field (kB) of /proc/PID/smaps_rollup, in MB: Rss, or Pss (shared pages split among sharers)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class TreeRss:
    """Peak memory of this process and every process it forked (the strategies' simulations run in
    forked processes), sampled every 250 ms: ``peak_mb``, the summed proportional set size (a page
    the forks share with this process counts once, split among them: the memory the run really
    holds), and ``peak_rss_sum_mb``, the summed resident sets (shared pages counted in every
    process: an upper bound)."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self.peak_rss_sum_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            tree = [me] + _descendants(me)
            self.peak_mb = max(self.peak_mb, sum(_memory_mb(p, "Pss") for p in tree))
            self.peak_rss_sum_mb = max(self.peak_rss_sum_mb, sum(_memory_mb(p, "Rss") for p in tree))
            self._stop.wait(0.25)

    def __enter__(self) -> "TreeRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


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
