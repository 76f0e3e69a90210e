"""The paper's headline numbers, and how far a sweep's settings land from them.

*Space Network of Experts* (arXiv 2605.00515) reports the mean end-to-end latency per token of its
four strategies on a 33 x 32 polar constellation (averaged over 8 lm-eval tasks). A sweep over the
modelling choices the paper leaves unstated (``sweeps/paper_assumptions.yaml``) gives, per setting,
our four means; this module sets each beside the paper's, with the relative errors, the worst of
the four, and space-xnet's speed-up over rand-intra-cg (the paper's "at least threefold": 3.2x).

    python -m harness paper OUT        # OUT: the sweep's output folder; writes OUT/paper.csv
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ResultsError
from harness.formats.files import MAX_DATA_BYTES, read_text_file

#: Mean latency per token, s, on the paper's polar constellation (its headline table).
PAPER_MEAN_S = {"rand-place": 5.29, "rand-intra": 4.15, "rand-intra-cg": 3.35, "space-xnet": 1.05}
#: The paper's speed-up of space-xnet over rand-intra-cg.
PAPER_SPEEDUP = PAPER_MEAN_S["rand-intra-cg"] / PAPER_MEAN_S["space-xnet"]

_FIXED = ("point", "strategy", "tokens", "completed", "mean_ns", "p50_ns", "p95_ns", "p99_ns")


@dataclass(frozen=True)
class Comparison:
    """One sweep point against the paper."""

    point: int
    setting: dict[str, str]        # swept key -> value
    mean_s: dict[str, float]       # strategy -> our mean latency per token, s (completed tokens)
    completed: dict[str, str]      # strategy -> "completed/tokens"

    def error(self, strategy: str) -> float:
        """Relative error of our mean against the paper's: (ours - paper) / paper."""
        return self.mean_s[strategy] / PAPER_MEAN_S[strategy] - 1.0

    @property
    def worst_error(self) -> float:
        """The largest absolute relative error over the four strategies."""
        return max(abs(self.error(s)) for s in PAPER_MEAN_S)

    @property
    def speedup(self) -> float:
        return self.mean_s["rand-intra-cg"] / self.mean_s["space-xnet"]


def compare_sweep(out_dir: Path) -> list[Comparison]:
    """Every point of the sweep in ``out_dir`` (its sweep.csv) that ran the paper's four
    strategies, compared with the paper; sorted by worst-case relative error, smallest first."""
    path = Path(out_dir) / "sweep.csv"
    text = read_text_file(path, "sweep.csv", ResultsError, MAX_DATA_BYTES)
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or any(col not in rows[0] for col in _FIXED):
        raise ResultsError(f"{path}: not a sweep table of 'harness sweep' (columns {', '.join(_FIXED)}); "
                           f"give the --out folder of a finished sweep")
    keys = [col for col in rows[0] if col not in _FIXED]
    points: dict[int, dict] = {}
    for n, row in enumerate(rows, start=2):
        try:
            point, mean_ns = int(row["point"]), row["mean_ns"]
        except (TypeError, ValueError):
            raise ResultsError(f"{path}: line {n} has no whole 'point'; rerun the sweep") from None
        entry = points.setdefault(point, {"setting": {k: row[k] for k in keys}, "mean_s": {}, "completed": {}})
        if mean_ns not in ("", None):
            entry["mean_s"][row["strategy"]] = int(mean_ns) / 1e9
        entry["completed"][row["strategy"]] = f"{row['completed']}/{row['tokens']}"
    found = [Comparison(point, e["setting"], e["mean_s"], e["completed"]) for point, e in sorted(points.items())
             if all(s in e["mean_s"] for s in PAPER_MEAN_S)]
    if not found:
        raise ResultsError(f"{path}: no point has a mean latency for all of {', '.join(PAPER_MEAN_S)}; run the "
                           f"four strategies (sweeps/paper_assumptions.yaml)")
    return sorted(found, key=lambda c: (c.worst_error, c.point))


def paper_csv(comparisons: list[Comparison]) -> str:
    """One row per point: the setting, our four means and their relative errors, the worst error
    and the speed-up, next to the paper's."""
    keys = list(comparisons[0].setting)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["point", *keys, *(f"{s}_s" for s in PAPER_MEAN_S), *(f"{s}_error" for s in PAPER_MEAN_S),
                     "worst_error", "speedup_vs_rand_intra_cg"])
    writer.writerow(["paper", *([""] * len(keys)), *(f"{v:.3f}" for v in PAPER_MEAN_S.values()),
                     *(["0"] * len(PAPER_MEAN_S)), "0", f"{PAPER_SPEEDUP:.3f}"])
    for c in comparisons:
        writer.writerow([c.point, *(c.setting[k] for k in keys), *(f"{c.mean_s[s]:.3f}" for s in PAPER_MEAN_S),
                         *(f"{c.error(s):+.3f}" for s in PAPER_MEAN_S), f"{c.worst_error:.3f}", f"{c.speedup:.3f}"])
    return out.getvalue()


def format_table(comparisons: list[Comparison], rows: int = 10) -> str:
    """The ``rows`` settings closest to the paper (worst-case error), as an aligned text table."""
    keys = list(comparisons[0].setting)
    head = " ".join(f"{k.split('.')[-1][:13]:>13s}" for k in keys)
    lines = [f"{head} " + " ".join(f"{s:>13s}" for s in PAPER_MEAN_S) + "  worst  speed-up",
             " ".join(f"{'':>13s}" for _ in keys) + " " + " ".join(f"{v:13.2f}" for v in PAPER_MEAN_S.values())
             + f"  (paper)  {PAPER_SPEEDUP:.2f}x"]
    for c in comparisons[:rows]:
        lines.append(" ".join(f"{c.setting[k][:13]:>13s}" for k in keys) + " "
                     + " ".join(f"{c.mean_s[s]:6.2f} ({c.error(s):+4.0%})" for s in PAPER_MEAN_S)
                     + f"  {c.worst_error:5.0%}  {c.speedup:.2f}x")
    return "\n".join(lines)
