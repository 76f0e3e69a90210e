"""Latency as users on the ground see it, from a run's requests.csv and user_sites.csv: per-region
figures for summary.json, the world map of users coloured by mean TTFT, and TTFT CDFs per region."""

from __future__ import annotations

import numpy as np


def region_summary(cols: dict[str, np.ndarray]) -> dict:
    """Per region: requests, completed, coverage gaps, mean TTFT (ms) and the shares of the mean TTFT
    spent on the uplink, the downlink and the ground-satellite links' light time, over the
    completed requests."""
    out = {}
    for region in sorted(set(cols["region"].tolist())):
        mine = cols["region"] == region
        done = mine & (cols["status"] == "completed")
        row = {"requests": int(mine.sum()), "completed": int(done.sum()),
               "coverage_gaps": int((mine & (cols["status"] == "coverage-gap")).sum()),
               "mean_ttft_ms": None, "uplink_share": None, "downlink_share": None, "gsl_share": None}
        if done.any():
            ttft = cols["ttft_ns"][done].astype(np.float64).sum()
            row["mean_ttft_ms"] = round(float(cols["ttft_ns"][done].mean()) / 1e6, 3)
            for key, column in (("uplink_share", "uplink_ns"), ("downlink_share", "downlink_ns"),
                                ("gsl_share", "gsl_ns")):
                row[key] = round(float(cols[column][done].sum()) / ttft, 6)
        out[region] = row
    return out


def user_plots(requests: dict, sites: dict) -> dict[str, bytes]:
    """``users_ttft_map.png`` (each site at its place, coloured by its requests' mean TTFT; sites
    whose requests all fell in coverage gaps as crosses) and ``ttft_cdf_by_region.png``."""
    from harness.analysis.coastlines import draw_coastlines
    from harness.analysis.plots import png_bytes, plt

    names = list(requests)
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 4.4 * len(names)), squeeze=False)
    for ax, name in zip(axes.ravel(), names):
        draw_coastlines(ax)
        cols = requests[name]
        done = cols["status"] == "completed"
        lat = np.array([v[1] for v in sites.values()])
        lon = np.array([v[2] for v in sites.values()])
        ax.scatter(lon, lat, s=8, c="0.75", linewidths=0, label="no request")
        mean = {s: float(cols["ttft_ns"][done & (cols["site"] == s)].mean()) / 1e9
                for s in sites if (done & (cols["site"] == s)).any()}
        if mean:
            keys = list(mean)
            points = ax.scatter([sites[s][2] for s in keys], [sites[s][1] for s in keys], c=[mean[s] for s in keys],
                                s=36, cmap="viridis", linewidths=0)
            fig.colorbar(points, ax=ax, label="mean TTFT at the user (s)")
        gap = sorted(set(cols["site"][cols["status"] == "coverage-gap"].tolist()) - set(mean))
        if gap:
            ax.scatter([sites[s][2] for s in gap], [sites[s][1] for s in gap], marker="x", c="red", s=30,
                       label="coverage gap")
        ax.set_xlim(-180, 180)
        ax.set_ylim(-90, 90)
        ax.set_xlabel("longitude (deg)")
        ax.set_ylabel("latitude (deg)")
        ax.set_title(f"{name}: mean TTFT per user site")
        ax.legend(fontsize=7, loc="lower left")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    plots = {"plots/users_ttft_map.png": png_bytes(fig)}
    fig, axes = plt.subplots(1, len(names), figsize=(6 * len(names), 4), squeeze=False)
    for ax, name in zip(axes.ravel(), names):
        cols = requests[name]
        done = cols["status"] == "completed"
        for region in sorted(set(cols["region"].tolist())):
            values = np.sort(cols["ttft_ns"][done & (cols["region"] == region)]) / 1e9
            if len(values):
                ax.step(values, np.arange(1, len(values) + 1) / len(values), where="post",
                        label=f"{region} ({len(values)})")
        ax.set_xlabel("TTFT at the user (s)")
        ax.set_ylabel("fraction of the region's requests")
        ax.set_title(f"{name}: TTFT per region")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    plots["plots/ttft_cdf_by_region.png"] = png_bytes(fig)
    return plots
