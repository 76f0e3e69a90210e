"""Figures of a results directory (matplotlib, Agg backend): pure functions returning PNG bytes.

- :func:`latency_cdf_png`: the per-token latency CDF of every strategy;
- :func:`layer_latency_png`: the mean time per layer (and LM head) of every strategy;
- :func:`placement_map_png`: a map of the constellation at the first snapshot with each
  strategy's ring subnets, gateways and experts, over the coastlines
  (:mod:`harness.analysis.coastlines`).
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from harness.analysis.coastlines import draw_coastlines  # noqa: E402
from harness.analysis.summary import layer_durations_ns  # noqa: E402
from harness.formats.results import Results  # noqa: E402

_DPI = 110


def png_bytes(fig) -> bytes:
    buffer = io.BytesIO()
    # A fixed creation date keeps the bytes identical from run to run.
    fig.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def latency_cdf_png(results: Results) -> bytes:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for name, tokens in results.tokens.items():
        latency = np.sort(tokens["latency_ns"][tokens["latency_ns"] >= 0]) / 1e9
        if latency.size:
            ax.step(latency, np.arange(1, latency.size + 1) / latency.size, where="post", label=name)
    ax.set_xlabel("per-token latency (s)")
    ax.set_ylabel("fraction of tokens")
    ax.set_title(f"{results.scenario}: per-token latency CDF")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:  # no token completed: no line, no legend
        ax.legend()
    fig.tight_layout()
    return png_bytes(fig)


def layer_latency_png(results: Results) -> bytes:
    names = list(results.tokens)
    durations = {name: layer_durations_ns(results.tokens[name], results.layers[name]) for name in names}
    means = {name: (d.mean(axis=0) if len(d) else np.full(d.shape[1], np.nan)) / 1e6 for name, d in durations.items()}
    num_bars = len(next(iter(means.values()))) if means else 0
    fig, ax = plt.subplots(figsize=(max(7, num_bars * 0.35), 4.2))
    width = 0.8 / max(1, len(names))
    x = np.arange(num_bars)
    for i, name in enumerate(names):
        if np.all(np.isfinite(means[name])):
            ax.bar(x + i * width - 0.4 + width / 2, means[name], width, label=name)
    ax.set_xticks(x, [str(l) for l in range(num_bars - 1)] + ["LM"])
    ax.set_xlabel("layer")
    ax.set_ylabel("mean time per token (ms)")
    ax.set_title(f"{results.scenario}: time per layer (gateway compute + experts + messages)")
    ax.grid(axis="y", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    fig.tight_layout()
    return png_bytes(fig)


def placement_map_png(results: Results) -> bytes:
    sats = results.satellites
    names = [n for n in results.tokens if n in results.placements]
    cols = min(2, max(1, len(names)))
    rows = max(1, (len(names) + cols - 1) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 3.6 * rows), squeeze=False)
    for ax, name in zip(axes.ravel(), names):
        draw_coastlines(ax)
        plan = results.placements[name]
        lon, lat = sats["lon_deg"], sats["lat_deg"]
        subnets = np.asarray(plan["subnets"])
        in_ring = subnets >= 0
        ax.scatter(lon[~in_ring], lat[~in_ring], s=4, c="0.75", linewidths=0)
        if in_ring.any():
            ax.scatter(lon[in_ring], lat[in_ring], s=6, c=subnets[in_ring], cmap="viridis", linewidths=0)
        experts = np.asarray(plan["experts"]).ravel()
        gateways = np.asarray(plan["gateways"])
        ax.scatter(lon[experts], lat[experts], s=16, facecolors="none", edgecolors="tab:red", label="experts",
                   linewidths=0.8)
        helpers = np.array([v for row in plan.get("shards", []) for v in row], dtype=np.int64)
        if helpers.size:
            ax.scatter(lon[helpers], lat[helpers], s=14, c="tab:blue", marker="x", label="attention shards",
                       linewidths=0.8)
        copies = np.array([v for row in plan.get("replicas", []) for c in row for v in c], dtype=np.int64)
        if copies.size:
            ax.scatter(lon[copies], lat[copies], s=16, facecolors="none", edgecolors="tab:orange", marker="s",
                       label="expert copies", linewidths=0.8)
        ax.scatter(lon[gateways], lat[gateways], s=30, c="black", marker="^", label="gateways", linewidths=0)
        ax.set_title(name)
        frame_map(ax)
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    fig.suptitle(f"{results.scenario}: placements at the first snapshot (colour: ring subnet)")
    fig.tight_layout()
    return png_bytes(fig)


def frame_map(ax) -> None:
    """A longitude/latitude map panel's frame: the whole Earth, axis labels, the legend."""
    ax.set_xlim(-180, 180)
    ax.set_ylim(-90, 90)
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")
    ax.legend(loc="lower left", fontsize=7)


def all_plots(results: Results) -> dict[str, bytes]:
    """Every figure, by its file name under ``plots/``."""
    plots = {"plots/latency_cdf.png": latency_cdf_png(results),
             "plots/layer_latency.png": layer_latency_png(results)}
    if results.satellites is not None and results.placements:
        plots["plots/placement_map.png"] = placement_map_png(results)
    return plots
