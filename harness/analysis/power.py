"""A power-model run's summary and figures, from its results directory (energy.csv, sunlit.csv,
power.json; issue 22).

:func:`add_power` adds, per strategy, ``summary["strategies"][name]["power"]``:

- ``compute_j_per_token`` and ``compute_j_per_request``: the energy the compute boards of the
  strategy's satellites drew while running jobs (``compute_busy_j``), over the completed tokens
  and over the requests whose every token completed; ``load_j_per_token`` and
  ``load_j_per_request``: everything those satellites drew over the run (bus, idle and busy
  board), the same way;
- ``lowest_soc`` (a share of the capacity), the satellite and the snapshot where it was reached;
- ``throttled_s`` (time the boards ran throttled jobs), ``below_reserve_s`` (time batteries spent
  below the reserve), both summed over the strategy's satellites, ``satellites_below_reserve``,
  ``protected_jobs`` (jobs admitted below the reserve), ``spilled_j`` and ``unserved_j``;
- ``shadow_share``: the share of (satellite, snapshot) pairs of its satellites in shadow;
- ``protected_windows``: the snapshots in which some satellite of the strategy was below its
  reserve, and the mean per-token latency of the tokens that started in them against the others.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.formats.power import PowerFiles, read_power_files

_J_PER_WH = 3600.0


def _round(x: float, digits: int = 6) -> float:
    return round(float(x), digits)


def power_summary(files: PowerFiles, name: str, tokens: dict) -> dict:
    """The ``power`` entry of strategy ``name`` (its energy.csv rows and tokens.csv columns)."""
    e = files.energy[name]
    capacity_j = files.power["capacity_wh"] * _J_PER_WH
    latency = tokens["latency_ns"]
    done = latency >= 0
    tokens_done = int(done.sum())
    requests = np.unique(tokens["request"])
    requests_done = int(sum(done[tokens["request"] == r].all() for r in requests))
    compute_j, load_j = float(e["compute_busy_j"].sum()), float(e["load_out_j"].sum())
    low = int(np.argmin(e["min_energy_wh"])) if len(e["sat"]) else None
    stats = {
        "satellites": int(len(np.unique(e["sat"]))),
        "compute_j_per_token": _round(compute_j / tokens_done) if tokens_done else None,
        "compute_j_per_request": _round(compute_j / requests_done) if requests_done else None,
        "load_j_per_token": _round(load_j / tokens_done) if tokens_done else None,
        "load_j_per_request": _round(load_j / requests_done) if requests_done else None,
        "compute_j": _round(compute_j), "load_j": _round(load_j),
        "lowest_soc": _round(e["min_energy_wh"][low] * _J_PER_WH / capacity_j) if low is not None else None,
        "lowest_soc_sat": int(e["sat"][low]) if low is not None else None,
        "lowest_soc_snapshot": int(e["snapshot"][low]) if low is not None else None,
        "throttled_s": _round(e["throttled_s"].sum()),
        "below_reserve_s": _round(e["below_reserve_s"].sum()),
        "satellites_below_reserve": int(len(np.unique(e["sat"][e["below_reserve_s"] > 0]))),
        "protected_jobs": int(sum(files.protected_jobs.get(name, {}).values())),
        "spilled_j": _round(e["spilled_j"].sum()), "unserved_j": _round(e["unserved_j"].sum()),
        "shadow_share": _round(1.0 - e["sunlit"].mean()) if len(e["sunlit"]) else None,
    }
    # Snapshots in which some satellite of the strategy was below its reserve, and the tokens in them.
    protected = np.unique(e["snapshot"][e["below_reserve_s"] > 0])
    times = files.sunlit_times_s
    start_snapshot = np.searchsorted(times, tokens["t_start_ns"] / 1e9, side="right") - 1
    inside = np.isin(start_snapshot, protected) & done
    outside = ~np.isin(start_snapshot, protected) & done
    stats["protected_windows"] = {
        "snapshots": [int(s) for s in protected],
        "tokens_inside": int(inside.sum()), "tokens_outside": int(outside.sum()),
        "mean_latency_ns_inside": int(round(latency[inside].mean())) if inside.any() else None,
        "mean_latency_ns_outside": int(round(latency[outside].mean())) if outside.any() else None,
    }
    return stats


def add_power(summary: dict, results, directory: Path) -> dict[str, bytes]:
    """Add the power figures to ``summary`` (in place); return the power plots by file name."""
    files = read_power_files(directory)
    for name in files.energy:
        if name in results.tokens:
            summary["strategies"].setdefault(name, {})["power"] = power_summary(files, name, results.tokens[name])
    plots = {"plots/state_of_charge.png": state_of_charge_png(results.scenario, files)}
    if results.satellites is not None and results.placements:
        plots["plots/sunlit_map.png"] = sunlit_map_png(results, files)
    return plots


def busiest(files: PowerFiles, name: str, count: int = 4) -> np.ndarray:
    """The ``count`` satellites of strategy ``name`` whose boards ran jobs longest (ties: lower id)."""
    e = files.energy[name]
    sats = np.unique(e["sat"])
    busy = np.bincount(np.searchsorted(sats, e["sat"]), weights=e["busy_s"], minlength=len(sats))
    return sats[np.argsort(-busy, kind="stable")[:count]]


def _spans(mask: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> list[tuple[float, float]]:
    """Merged [start, end) of the runs of True in ``mask``."""
    spans: list[tuple[float, float]] = []
    for on, a, b in zip(mask, starts, ends):
        if on:
            if spans and abs(spans[-1][1] - a) < 1e-12:
                spans[-1] = (spans[-1][0], b)
            else:
                spans.append((a, b))
    return spans


def state_of_charge_png(scenario: str, files: PowerFiles) -> bytes:
    """Per strategy (rows), the busiest satellites' state of charge over time (columns), their
    shadow shaded grey, snapshots with throttled or held jobs marked red, the reserve dashed."""
    from harness.analysis.plots import png_bytes, plt

    names = list(files.energy)
    cols = 4
    fig, axes = plt.subplots(len(names), cols, figsize=(3.2 * cols, 2.6 * len(names)), squeeze=False, sharey=True)
    capacity, reserve, initial = (files.power[k] for k in ("capacity_wh", "reserve_wh", "initial_wh"))
    for row, name in zip(axes, names):
        e = files.energy[name]
        for ax, sat in zip(row, busiest(files, name, cols)):
            mine = np.flatnonzero(e["sat"] == sat)
            mine = mine[np.argsort(e["snapshot"][mine])]
            starts, ends = e["t_start_s"][mine], e["t_end_s"][mine]
            for a, b in _spans(e["sunlit"][mine] == 0, starts, ends):
                ax.axvspan(a, b, color="0.85", lw=0)
            for a, b in _spans((e["throttled_s"][mine] > 0) | (e["below_reserve_s"][mine] > 0), starts, ends):
                ax.axvspan(a, b, ymin=0.0, ymax=0.06, color="tab:red", lw=0)
            ax.plot(np.append(0.0, ends), np.append(initial, e["energy_wh"][mine]) / capacity, color="tab:blue",
                    lw=1.2, label="state of charge")
            ax.plot(ends, e["min_energy_wh"][mine] / capacity, color="tab:blue", lw=0.6, ls=":",
                    label="lowest in snapshot")
            ax.axhline(reserve / capacity, color="tab:red", ls="--", lw=0.8, label="reserve")
            ax.set_title(f"{name}: sat {int(sat)}", fontsize=8)
            ax.set_xlabel("time (s)", fontsize=8)
            ax.set_ylim(0, 1.02)
            ax.tick_params(labelsize=7)
        row[0].set_ylabel("state of charge", fontsize=8)
        for ax in row[len(busiest(files, name, cols)):]:
            ax.axis("off")
    axes[0][0].legend(fontsize=6, loc="lower left")
    fig.suptitle(f"{scenario}: state of charge of the busiest satellites (grey: shadow; red: below reserve)",
                 fontsize=9)
    fig.tight_layout()
    return png_bytes(fig)


def sunlit_map_png(results, files: PowerFiles) -> bytes:
    """At the first snapshot: every satellite, sunlit (gold) or in shadow (navy), with each
    strategy's gateways and experts drawn on it."""
    from harness.analysis.plots import frame_map, png_bytes, plt

    sats = results.satellites
    lon, lat = sats["lon_deg"], sats["lat_deg"]
    lit = files.sunlit[0] if len(files.sunlit) else np.ones(len(lon), dtype=bool)
    names = [n for n in results.tokens if n in results.placements]
    cols = min(2, max(1, len(names)))
    rows = max(1, (len(names) + cols - 1) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 3.6 * rows), squeeze=False)
    for ax, name in zip(axes.ravel(), names):
        plan = results.placements[name]
        ax.scatter(lon[lit], lat[lit], s=4, c="gold", linewidths=0, label="sunlit")
        ax.scatter(lon[~lit], lat[~lit], s=4, c="midnightblue", linewidths=0, label="in shadow")
        experts = np.asarray(plan["experts"]).ravel()
        gateways = np.asarray(plan["gateways"])
        ax.scatter(lon[experts], lat[experts], s=16, facecolors="none", edgecolors="tab:red", linewidths=0.8,
                   label="experts")
        ax.scatter(lon[gateways], lat[gateways], s=30, c="black", marker="^", linewidths=0, label="gateways")
        ax.set_title(f"{name}: {int((~lit[gateways]).sum())}/{len(gateways)} gateways in shadow")
        frame_map(ax)
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    fig.suptitle(f"{results.scenario}: sunlit and eclipsed satellites at the first snapshot, with the placements")
    fig.tight_layout()
    return png_bytes(fig)
