"""Summaries of per-token latency traces.

Pure functions over arrays; ``traces.py`` owns the files and ``cli.py`` the printing.
"""

from __future__ import annotations

import numpy as np

#: Percentiles reported in every summary.
PERCENTILES = (50, 95, 99)


def latency_summary(latency_ns: np.ndarray) -> dict:
    """Token counts and mean / p50 / p95 / p99 latency (ns, rounded) of the completed tokens.

    ``latency_ns`` holds one entry per token, -1 for a token that did not complete. Percentiles use
    numpy's default (linear) interpolation.
    """
    latency_ns = np.asarray(latency_ns).ravel()
    done = latency_ns[latency_ns >= 0]
    summary = {"tokens": int(latency_ns.size), "completed": int(done.size)}
    if done.size == 0:
        summary.update({"mean_ns": None, **{f"p{p}_ns": None for p in PERCENTILES}})
        return summary
    summary["mean_ns"] = int(round(float(done.mean())))
    for p in PERCENTILES:
        summary[f"p{p}_ns"] = int(round(float(np.percentile(done, p))))
    return summary


def format_summary_table(summary: dict) -> str:
    """The per-strategy summary as an aligned text table, latencies in milliseconds."""
    header = ("strategy", "tokens", "done", "mean ms", "p50 ms", "p95 ms", "p99 ms")
    rows = [header]
    for name, s in summary["strategies"].items():
        def ms(key: str) -> str:
            return "-" if s[key] is None else f"{s[key] / 1e6:.3f}"
        rows.append((name, str(s["tokens"]), str(s["completed"]), ms("mean_ns"), ms("p50_ns"),
                     ms("p95_ns"), ms("p99_ns")))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
