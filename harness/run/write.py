"""A run's results directory: the trace files, then the summary and plots made from them as
written (:func:`write_run`), and the same remade from a directory (:func:`analyze_directory`,
``python -m harness analyze``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from harness.formats.results import StrategyTrace
from harness.scenario import Scenario


@dataclass(frozen=True)
class RunResult:
    """Every strategy's trace, and the satellites' map positions, of a scenario run."""

    traces: list[StrategyTrace]
    lat_deg: np.ndarray  # [N] at the first snapshot
    lon_deg: np.ndarray
    plane_of: np.ndarray
    slot_of: np.ndarray
    network: Optional[bytes] = None  # network.npz (harness/formats/network.py): positions, ISLs per snapshot
    sunlit: Optional[np.ndarray] = None  # [S, N] with power.enabled
    times_s: Optional[np.ndarray] = None  # [S] snapshot times, with power.enabled


def write_run(scenario: Scenario, result: RunResult, out_dir: Path, scenario_text: str,
              release: bool = False) -> dict:
    """Write a run's results directory (see harness/formats/results.py) and return its summary.

    The summary and plots are made from the written files, read back, exactly as
    ``python -m harness analyze`` makes them. With ``release`` (for a caller done with ``result``,
    as ``harness run`` is), ``result.traces`` is emptied once every file is written, so a long
    run's traces and the tables read back from them are not in memory together; the files and
    the summary are the same.
    """
    from harness.formats import results as formats
    from harness.run.strategy import _return_freed_memory

    _return_freed_memory()  # what the run freed goes back to the system before the writing (no value changes)
    with formats.staged_directory(out_dir) as staging:
        formats.write_files(staging, {"scenario.yaml": scenario_text})
        # the token and layer tables straight into their files, a block of rows at a time: a long
        # run's millions of rows are never one text in memory (the same bytes)
        formats.write_streamed(staging, "tokens.csv", lambda f: formats.tokens_csv(result.traces, f))
        formats.write_streamed(staging, "layers.csv", lambda f: formats.layers_csv(result.traces, f))
        formats.write_files(staging, {
            "run.json": formats.run_json(scenario.name, scenario.seed, result.traces),
            "placements.json": formats.placements_json(result.traces),
            "satellites.csv": formats.satellites_csv(result.plane_of, result.slot_of, result.lat_deg,
                                                     result.lon_deg),
        })
        if result.network is not None:
            formats.write_files(staging, {"network.npz": result.network})
        if any(tr.serving is not None for tr in result.traces):
            from harness.formats import requests as serving_formats

            rows = {}
            for tr in result.traces:
                rows[tr.strategy], rows[tr.strategy + ":status"] = tr.serving["table"], tr.serving["status"]
                if tr.serving.get("users") is not None:
                    rows[tr.strategy + ":users"] = tr.serving["users"]
                if tr.serving.get("recovery") is not None:
                    rows[tr.strategy + ":recovery"] = tr.serving["recovery"]
            formats.write_files(staging, {
                "requests.csv": serving_formats.requests_csv(rows, [tr.strategy for tr in result.traces]),
                "satellite_busy.csv": serving_formats.busy_csv({tr.strategy: tr.serving["busy_ns"]
                                                                for tr in result.traces})})
            if result.traces[0].serving.get("kv") is not None:
                formats.write_files(staging, {"kv_transfers.csv": serving_formats.kv_transfers_csv(
                    {tr.strategy: tr.serving["kv"] for tr in result.traces})})
            gaps = result.traces[0].serving.get("gaps")
            if gaps is not None:
                formats.write_files(staging, {"coverage_gaps.csv": serving_formats.coverage_gaps_csv(gaps),
                                              "user_sites.csv": serving_formats.user_sites_csv(
                                                  result.traces[0].serving["sites"])})
        if result.traces and result.traces[0].power is not None:
            from harness.formats import power as power_formats

            formats.write_files(staging, {
                "energy.csv": power_formats.energy_csv([(tr.strategy, tr.occupied, tr.power) for tr in result.traces],
                                                       result.sunlit, scenario.power.capacity_wh),
                "sunlit.csv": power_formats.sunlit_csv(result.times_s, result.sunlit),
                "power.json": power_formats.power_json(scenario.power, [(tr.strategy, tr.power)
                                                                        for tr in result.traces])})
        if release:
            result.traces.clear()
            _return_freed_memory()
        summary = analyze_directory(staging)
    return summary


def analyze_directory(directory: Path) -> dict:
    """Recompute summary.json and the plots of a results directory from its traces; write them."""
    from harness.formats import results as formats
    from harness.analysis.summary import summarize
    from harness.analysis.plots import all_plots

    # the summary and plots read these of layers.csv's columns (analysis.summary.layer_durations_ns)
    results = formats.read_results(directory, layer_columns=("request", "token", "layer", "t_combine_ns"))
    summary = summarize(results)
    plots = all_plots(results)
    if (directory / "requests.csv").is_file():
        from harness.analysis.serving_summary import add_serving

        plots.update(add_serving(summary, results, directory))
    if (directory / "energy.csv").is_file():
        from harness.analysis.power import add_power

        plots.update(add_power(summary, results, directory))
    formats.write_files(directory, {"summary.json": formats.summary_json(summary), **plots})
    return summary
