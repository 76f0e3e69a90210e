"""Ground-to-ground paths CSV (``harness paths``): one row per pair and snapshot.

Columns: ``time_ns,src,dst,reachable,rtt_ns,hops,path``. ``rtt_ns`` is the round-trip time
``2 x length / c`` in ns with 3 decimals; ``hops`` counts links, both GSLs included; ``path`` is
the satellites from ``src`` to ``dst`` joined by ``-`` (node ids: the constellation's satellite
numbers). An unreachable snapshot has ``reachable`` 0, ``rtt_ns`` and ``hops`` -1 and path ``unreachable``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

__all__ = ["COLUMNS", "write_paths_csv"]

COLUMNS = ("time_ns", "src", "dst", "reachable", "rtt_ns", "hops", "path")


def write_paths_csv(path: Path, results) -> None:
    """Write :class:`harness.network.ground.paths.PairPaths` results, pair after pair, through a temporary
    file renamed at the end (nothing half-written on failure)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    try:
        with tmp.open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(COLUMNS)
            for r in results:
                for k in range(len(r.times_ns)):
                    if r.hops[k] < 0:
                        out.writerow([int(r.times_ns[k]), r.src, r.dst, 0, -1, -1, "unreachable"])
                        continue
                    sats = r.satellites[k]
                    out.writerow([int(r.times_ns[k]), r.src, r.dst, 1, f"{r.rtt_ns[k]:.3f}", int(r.hops[k]),
                                  "-".join(map(str, sats[sats >= 0].tolist()))])
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_paths_csv(path: Path) -> list[dict]:
    """Rows of a paths CSV as dicts (for tests and notebooks)."""
    with Path(path).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
