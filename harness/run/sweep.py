"""Parameter sweeps: a grid over scenario keys, each point a ``harness run`` in its own process,
scheduled on Dask (dask.distributed).

A sweep file::

    name: altitude
    base: ../topologies/polar_1056.yaml      # the scenario every point starts from
    set:                                     # optional: keys changed for every point
      traffic.tokens_per_request: 4
    grid:                                    # the swept keys and their values (cartesian product)
      constellation.altitude_km: [450, 550, 750, 1000]
      seed: [1, 2]
    report: paper                            # optional: also OUT/paper.csv (harness/analysis/paper_comparison.py)

Every point is validated before anything runs. Point i is written to ``OUT/points/NNN-<key=value,...>/``
as an ordinary results directory; a point whose directory already has ``summary.json`` is done and
is not run again, so an interrupted sweep resumes where it stopped. ``OUT/sweep.csv`` collects one
row per point and strategy, and ``OUT/sweep.png`` plots mean latency against the first swept key,
one line per strategy (and per value of the other keys).

By default the points run on a local Dask cluster of one single-threaded worker per core;
``--scheduler ADDRESS`` sends them to an existing cluster instead (its workers need the harness
installed and the same files at the same paths).
"""

from __future__ import annotations

import copy
import io
import itertools
import json
import logging
import math
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

from harness.errors import ResultsError, ScenarioError
from harness.scenario import scenario_from_dict
from harness.formats.files import default_results_dir, read_json_file, read_yaml_file, show as _show
from harness.formats.results import write_files

log = logging.getLogger(__name__)

_SWEEP_KEYS = {"name", "base", "set", "grid", "report"}
#: Extra tables a sweep file may ask for (``report``), written next to sweep.csv.
REPORTS = ("paper",)
#: Most points one sweep file may define.
MAX_POINTS = 10_000
#: Lines of a failed point's log kept in failed.json.
LOG_TAIL_LINES = 20


@dataclass(frozen=True)
class SweepPoint:
    """One point of the grid: its values, its scenario and where its results go."""

    index: int
    values: dict[str, Any]
    scenario: dict
    out_dir: Path

    @property
    def done(self) -> bool:
        return (self.out_dir / "summary.json").is_file()


@dataclass(frozen=True)
class Sweep:
    name: str
    keys: list[str]
    points: list[SweepPoint]
    base_dir: Path
    out_dir: Path
    report: Optional[str] = None  # "paper": also OUT/paper.csv (harness/analysis/paper_comparison.py)


def _read_yaml(path: Path, what: str) -> Any:
    return read_yaml_file(path, what, ScenarioError)


def _set_key(raw: dict, dotted: str, value: Any, source: str) -> None:
    if not isinstance(dotted, str) or not dotted:
        raise ScenarioError(f"{source}: key {_show(dotted)} must be a dotted scenario key such as "
                            f"'constellation.altitude_km'")
    *sections, key = dotted.split(".")
    node = raw
    for section in sections:
        node = node.setdefault(section, {})
        if not isinstance(node, dict):
            raise ScenarioError(f"{source}: '{dotted}' goes through '{section}', which is not a section")
    node[key] = value


def _slug(values: dict[str, Any]) -> str:
    text = ",".join(f"{k.split('.')[-1]}={v}" for k, v in values.items())
    return "".join(c if c.isalnum() or c in "=,.-_" else "_" for c in text)[:120]


def load_sweep(path: Path, out_dir: Optional[Path] = None) -> Sweep:
    """Read a sweep file and validate every point's scenario (nothing runs yet). The results go to
    ``out_dir``, by default ``results/sweep-<name>``."""
    path = Path(path)
    raw = _read_yaml(path, "sweep file")
    source = str(path)
    if not isinstance(raw, dict):
        raise ScenarioError(f"{source}: a sweep must be a mapping with keys {', '.join(sorted(_SWEEP_KEYS))}")
    unknown = sorted((k for k in raw if k not in _SWEEP_KEYS), key=str)
    if unknown:
        raise ScenarioError(f"{source}: unknown key {_show(unknown[0])}; allowed: {', '.join(sorted(_SWEEP_KEYS))}")
    for key in ("name", "base", "grid"):
        if key not in raw:
            raise ScenarioError(f"{source}: missing required key '{key}'")
    for key in ("name", "base"):
        if not isinstance(raw[key], str) or not raw[key].strip() or "\0" in raw[key]:
            raise ScenarioError(f"{source}: '{key}' must be a non-empty string, got {_show(raw[key])}")
    if out_dir is None:
        out_dir = default_results_dir(raw["name"], prefix="sweep-")
    grid = raw["grid"]
    if not isinstance(grid, dict) or not grid or not all(isinstance(v, list) and v for v in grid.values()):
        raise ScenarioError(f"{source}: 'grid' must map scenario keys to non-empty lists of values")
    if math.prod(len(v) for v in grid.values()) > MAX_POINTS:
        raise ScenarioError(f"{source}: the grid has {math.prod(len(v) for v in grid.values())} points, more than "
                            f"{MAX_POINTS}; split the sweep")
    if raw.get("report") is not None and raw["report"] not in REPORTS:
        raise ScenarioError(f"{source}: 'report' is {_show(raw['report'])}; choose one of: {', '.join(REPORTS)}")
    if not isinstance(raw.get("set") or {}, dict):
        raise ScenarioError(f"{source}: 'set' must map scenario keys to values")
    base_path = (path.parent / raw["base"]).resolve()
    base = _read_yaml(base_path, "base scenario")
    if not isinstance(base, dict):
        raise ScenarioError(f"{base_path}: the base scenario must be a mapping of keys to values")
    for dotted, value in (raw.get("set") or {}).items():
        _set_key(base, dotted, value, source)
    keys = list(grid)
    points = []
    for index, combo in enumerate(itertools.product(*(grid[k] for k in keys))):
        values = dict(zip(keys, combo))
        scenario = copy.deepcopy(base)
        for dotted, value in values.items():
            _set_key(scenario, dotted, value, source)
        scenario["name"] = f"{raw['name']}-{index:03d}"
        # Validate now: a bad value (or a misspelt key) fails before any point runs.
        scenario_from_dict(scenario, base_dir=base_path.parent, source=f"{source} point {index} ({_slug(values)})")
        points.append(SweepPoint(index, values, scenario, Path(out_dir) / "points" / f"{index:03d}-{_slug(values)}"))
    return Sweep(raw["name"], keys, points, base_path.parent, Path(out_dir), raw.get("report"))


def run_point(scenario: dict, base_dir: str, out_dir: str) -> dict:
    """Run one point as its own process (``python -m harness run``) and return its outcome, never
    raising for the point's own failure: ``{"ok": bool, "returncode": int, "signal": name or None,
    "log_tail": [last lines of its stderr]}``. The whole log goes to ``OUT/logs/<point>.log``.

    The scenario is written next to the results so that relative paths resolve against the base
    scenario's folder via ``base_dir``; the child process validates it again.
    """
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    scenario_file = out.parent / f".{out.name}.yaml"
    text = yaml.safe_dump(_absolute_paths(scenario, Path(base_dir)), sort_keys=False)
    scenario_file.write_text(text)
    try:
        done = subprocess.run([sys.executable, "-m", "harness", "run", str(scenario_file), "--out", str(out)],
                              capture_output=True, text=True, errors="replace", check=False)
    finally:
        scenario_file.unlink(missing_ok=True)
    logs = out.parent.parent / "logs"
    write_files(logs, {f"{out.name}.log": done.stderr})
    code = done.returncode
    return {"ok": code == 0, "returncode": code,
            "signal": signal.Signals(-code).name if code < 0 and -code in signal.valid_signals() else None,
            "log_tail": done.stderr.strip().splitlines()[-LOG_TAIL_LINES:]}


def _absolute_paths(scenario: dict, base_dir: Path) -> dict:
    scenario = copy.deepcopy(scenario)
    activations = scenario.get("activations") or {}
    if activations.get("path"):
        activations["path"] = str((base_dir / activations["path"]).resolve())
    return scenario


def run_sweep(sweep: Sweep, scheduler: Optional[str] = None, workers: Optional[int] = None) -> list[dict]:
    """Run the points that are not done on Dask, each in its own process, and return the failed ones
    (also written to ``OUT/failed.json``): index, point, values, returncode, signal, log_tail. A
    point that fails (an error, a signal such as SIGSEGV or SIGKILL, an ns-3 fatal error) does not
    stop the others; run the sweep again to retry only the points without results."""
    from dask.distributed import Client, LocalCluster, as_completed

    if not log.isEnabledFor(logging.DEBUG):  # importing distributed configures its own INFO logging
        logging.getLogger("distributed").setLevel(logging.WARNING)

    todo = [p for p in sweep.points if not p.done]
    log.info("sweep %s: %d points, %d done, %d to run", sweep.name, len(sweep.points),
             len(sweep.points) - len(todo), len(todo))
    if not todo:
        write_files(sweep.out_dir, {"failed.json": "[]\n"})
        return []
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    failed = []
    try:
        futures = {client.submit(run_point, p.scenario, str(sweep.base_dir), str(p.out_dir), pure=False): p
                   for p in todo}
        for count, future in enumerate(as_completed(futures), start=1):
            point = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # the worker itself died (e.g. killed): the point failed
                outcome = {"ok": False, "returncode": None, "signal": None,
                           "log_tail": [f"{type(exc).__name__}: {exc}"]}
            if outcome["ok"]:
                log.info("sweep %s: point %d done (%d/%d): %s", sweep.name, point.index, count, len(todo),
                         _slug(point.values))
            else:
                failed.append({"index": point.index, "point": point.out_dir.name, "values": point.values,
                               **{k: outcome[k] for k in ("returncode", "signal", "log_tail")}})
                log.warning("sweep %s: point %d FAILED (%d/%d, exit %s%s): %s", sweep.name, point.index, count,
                            len(todo), outcome["returncode"], f", {outcome['signal']}" if outcome["signal"] else "",
                            (outcome["log_tail"] or ["(no output)"])[-1])
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    failed.sort(key=lambda f: f["index"])
    write_files(sweep.out_dir, {"failed.json": json.dumps(failed, indent=2, default=str) + "\n"})
    return failed


def collect(sweep: Sweep) -> str:
    """The sweep table as CSV: one row per finished point and strategy."""
    out = io.StringIO()
    summaries = []
    for point in sweep.points:
        if not point.done:
            continue
        summary = read_json_file(point.out_dir / "summary.json", "summary.json", ResultsError, 1 << 26)
        if not isinstance(summary, dict) or not isinstance(summary.get("strategies"), dict):
            raise ResultsError(f"{point.out_dir / 'summary.json'}: field 'strategies' is missing; remove the "
                               f"point's directory and run the sweep again")
        summaries.append((point, summary))
    # Serving sweeps (every point a serving run) add throughput and TTFT / TPOT percentiles.
    serving = bool(summaries) and all("serving" in stats for _, s in summaries for stats in s["strategies"].values())
    # ... and with faults.recovery (docs/failover.md) the served fraction, failures, losses and moves.
    recovery = serving and all("recovery" in stats["serving"] for _, s in summaries
                               for stats in s["strategies"].values())
    out.write(",".join(["point", *sweep.keys, "strategy", "tokens", "completed", "mean_ns", "p50_ns", "p95_ns",
                        "p99_ns", *(SERVING_COLUMNS if serving else ()),
                        *(RECOVERY_COLUMNS if recovery else ())]) + "\n")
    for point, summary in summaries:
        for name, stats in summary["strategies"].items():
            cells = [point.index, *(point.values[k] for k in sweep.keys), name, stats["tokens"],
                     stats["completed"], *(stats[f] if stats[f] is not None else "" for f in
                                           ("mean_ns", "p50_ns", "p95_ns", "p99_ns"))]
            if serving:
                v = stats["serving"]
                cells += [("" if x is None else x) for x in (
                    v["throughput_tokens_per_s"], v["steady_throughput_tokens_per_s"], v["ttft"]["p50_ns"],
                    v["ttft"]["p99_ns"], v["tpot"]["p50_ns"], v["tpot"]["p99_ns"])]
            if recovery:
                v = stats["serving"]["recovery"]
                cells += [v[k] for k in RECOVERY_COLUMNS]
            out.write(",".join(str(c) for c in cells) + "\n")
    return out.getvalue()


#: sweep.csv's columns after those when every point has faults.recovery (summary.json's "serving.recovery").
RECOVERY_COLUMNS = ("served_fraction", "requests_failed", "requests_lost", "failovers", "replacements",
                    "lost_ns_mean")
#: sweep.csv's extra columns when every point is a serving run (summary.json's "serving").
SERVING_COLUMNS = ("throughput_tokens_per_s", "steady_throughput_tokens_per_s", "ttft_p50_ns", "ttft_p99_ns",
                   "tpot_p50_ns", "tpot_p99_ns")


def serving_plot_png(sweep: Sweep, table_csv: str) -> bytes:
    """The throughput-latency curve of a serving sweep: throughput, TTFT and TPOT (p50, p99) against
    the first swept key (the arrival rate), one line per strategy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    lines = table_csv.strip().splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","))) for line in lines[1:]]
    x_key = sweep.keys[0]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for name in dict.fromkeys(r["strategy"] for r in rows):
        mine = sorted((r for r in rows if r["strategy"] == name), key=lambda r: float(r[x_key]))
        x = np.array([float(r[x_key]) for r in mine])

        def col(key: str) -> np.ndarray:
            return np.array([float(r[key]) if r[key] else np.nan for r in mine])

        axes[0].plot(x, col("steady_throughput_tokens_per_s"), marker="o", label=name)
        for ax, what in ((axes[1], "ttft"), (axes[2], "tpot")):
            ax.plot(x, col(f"{what}_p50_ns") / 1e9, marker="o", label=f"{name} p50")
            ax.plot(x, col(f"{what}_p99_ns") / 1e9, marker="x", ls="--", label=f"{name} p99")
    for ax, label in zip(axes, ("steady throughput (tokens/s)", "TTFT (s)", "TPOT (s)")):
        ax.set_xlabel(x_key)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"sweep {sweep.name}: throughput and latency against offered load")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def sweep_plot_png(sweep: Sweep, table_csv: str) -> bytes:
    """Mean latency against the first swept key, one line per strategy and other keys' values."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows = [line.split(",") for line in table_csv.strip().splitlines()[1:]]
    x_key, others = sweep.keys[0], sweep.keys[1:]
    col = {name: i for i, name in enumerate(["point", *sweep.keys, "strategy", "tokens", "completed", "mean_ns"])}
    lines: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        if not r[col["mean_ns"]]:
            continue
        label = r[col["strategy"]] + "".join(f", {k.split('.')[-1]}={r[col[k]]}" for k in others)
        try:
            x = float(r[col[x_key]])
        except ValueError:
            x = float(sorted({row[col[x_key]] for row in rows}).index(r[col[x_key]]))
        lines.setdefault(label, []).append((x, float(r[col["mean_ns"]]) / 1e9))
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for label, points in sorted(lines.items()):
        xs, ys = np.array(sorted(points)).T
        ax.plot(xs, ys, marker="o", label=label)
    ax.set_xlabel(x_key)
    ax.set_ylabel("mean per-token latency (s)")
    ax.set_title(f"sweep {sweep.name}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def write_collection(sweep: Sweep) -> str:
    table = collect(sweep)
    write_files(sweep.out_dir, {"sweep.csv": table, "sweep.png": sweep_plot_png(sweep, table)})
    if SERVING_COLUMNS[0] in table.split("\n", 1)[0]:
        write_files(sweep.out_dir, {"serving.png": serving_plot_png(sweep, table)})
    if sweep.report == "paper":
        from harness.analysis.paper_comparison import compare_sweep, format_table, paper_csv

        comparisons = compare_sweep(sweep.out_dir)
        write_files(sweep.out_dir, {"paper.csv": paper_csv(comparisons)})
        log.info("against the paper, closest settings first (all in paper.csv):\n%s", format_table(comparisons, 5))
    return table

