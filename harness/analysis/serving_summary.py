"""A serving run's summary and figures, from its results directory (requests.csv, satellite_busy.csv).

:func:`add_serving` adds, per strategy, ``summary["strategies"][name]["serving"]``: requests and
completions, TTFT and TPOT p50/p95/p99, throughput (tokens/s over the whole run; steady: the
middle half of the span of token ends; window: from the end of the warm-up, the first tenth of the
arrival span, to the last arrival), and the busiest satellites with their utilisation (busy
compute time over the span from the first arrival to the last token end). It marks the analytic
model not applicable: it has no queueing (tokens.csv's analytic columns are -1 in serving runs).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.formats.requests import read_busy_csv, read_requests_csv
from harness.analysis.serving import serving_summary, steady_throughput, window_throughput


def add_serving(summary: dict, results, directory: Path) -> dict[str, bytes]:
    """Add the serving figures to ``summary`` (in place); return the serving plots by file name."""
    requests = read_requests_csv(directory / "requests.csv")
    busy = read_busy_csv(directory / "satellite_busy.csv") if (directory / "satellite_busy.csv").is_file() else {}
    utilisation = {}
    for name, cols in requests.items():
        stats = serving_summary(cols)
        stats["steady_throughput_tokens_per_s"] = steady_throughput(results.tokens[name]["t_end_ns"])
        stats["window_throughput_tokens_per_s"] = window_throughput(cols["arrival_ns"],
                                                                    results.tokens[name]["t_end_ns"])
        ends = cols["end_ns"][cols["end_ns"] >= 0]
        span = int(max(ends.max() if len(ends) else 0, results.tokens[name]["t_end_ns"].max())
                   - cols["arrival_ns"].min())
        if name in busy and span > 0:
            sats, ns = busy[name]
            util = ns / span
            utilisation[name] = (sats, util)
            top = np.argsort(-ns, kind="stable")[:5]
            stats["busiest_satellites"] = [{"sat": int(sats[i]), "busy_ns": int(ns[i]),
                                            "utilisation": round(float(util[i]), 6)} for i in top]
        stats["analytic_model"] = ("not applicable: a serving run queues requests, and the analytic model "
                                   "(harness/simulate/analytic.py) has no queueing")
        if "region" in cols:
            from harness.analysis.users import region_summary

            stats["regions"] = region_summary(cols)
            stats["coverage_gap_requests"] = int((cols["status"] == "coverage-gap").sum())
        if "lost_ns" in cols:  # faults.recovery (docs/failover.md)
            stats["recovery"] = recovery_summary(cols)
        summary["strategies"].setdefault(name, {})["serving"] = stats
    plots = serving_plots(results, requests, utilisation)
    if (directory / "user_sites.csv").is_file():
        from harness.formats.requests import read_user_sites_csv
        from harness.analysis.users import user_plots

        plots.update(user_plots(requests, read_user_sites_csv(directory / "user_sites.csv")))
    return plots


def recovery_summary(cols: dict[str, np.ndarray]) -> dict:
    """Fail-over and re-placement of one strategy's requests.csv: the served fraction, the requests
    that failed with a reason and those lost (neither completed nor failed by the horizon: tokens.csv
    says "not ended by the horizon"), the moves, and the time lost per request (mean over all
    requests, and the largest)."""
    status, lost = cols["status"], cols["lost_ns"]
    done, failed = status == "completed", status == "failed"
    return {"served_fraction": round(float(done.mean()), 6) if len(done) else None,
            "requests_failed": int(failed.sum()), "requests_lost": int((~done & ~failed).sum()),
            "failovers": int(cols["failovers"].sum()), "replacements": int(cols["replacements"].sum()),
            "requests_moved": int(((cols["failovers"] > 0) | (cols["replacements"] > 0)).sum()),
            "lost_ns_mean": int(round(float(lost.mean()))) if len(lost) else 0,
            "lost_ns_max": int(lost.max()) if len(lost) else 0}


def serving_plots(results, requests: dict, utilisation: dict) -> dict[str, bytes]:
    """CDFs of TTFT and TPOT, and each satellite's utilisation on the map."""
    from harness.analysis.coastlines import draw_coastlines
    from harness.analysis.plots import png_bytes, plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for name, cols in requests.items():
        for ax, key in zip(axes, ("ttft_ns", "tpot_ns")):
            values = np.sort(cols[key][cols[key] >= 0]) / 1e9
            if len(values):
                ax.step(values, np.arange(1, len(values) + 1) / len(values), where="post", label=name)
    for ax, title in zip(axes, ("time to first token (s)", "time per output token (s)")):
        ax.set_xlabel(title)
        ax.set_ylabel("fraction of requests")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"{results.scenario}: TTFT and TPOT")
    fig.tight_layout()
    plots = {"plots/ttft_tpot_cdf.png": png_bytes(fig)}
    if results.satellites is not None and utilisation:
        names = list(utilisation)
        fig, axes = plt.subplots(len(names), 1, figsize=(7, 3.6 * len(names)), squeeze=False)
        lon, lat = results.satellites["lon_deg"], results.satellites["lat_deg"]
        for ax, name in zip(axes.ravel(), names):
            draw_coastlines(ax)
            sats, util = utilisation[name]
            ax.scatter(lon, lat, s=3, c="0.8", linewidths=0)
            points = ax.scatter(lon[sats], lat[sats], s=18, c=util, cmap="inferno_r", vmin=0,
                                vmax=max(1e-9, float(util.max())), linewidths=0)
            fig.colorbar(points, ax=ax, label="compute utilisation")
            ax.set_title(f"{name}: utilisation per satellite (every replica)")
            ax.set_xlim(-180, 180)
            ax.set_ylim(-90, 90)
        fig.tight_layout()
        plots["plots/utilisation_map.png"] = png_bytes(fig)
    return plots
