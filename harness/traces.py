"""The on-disk formats of a run's results: one module owns them all.

A results directory holds:

- ``tokens.csv``: one row per token: ``strategy, request, token, t_start_ns, t_end_ns,
  latency_ns, analytic_ns, compute_ns, serialization_ns, propagation_ns``. Times are simulated
  integer ns; ``t_end_ns`` and ``latency_ns`` are -1 for a token that did not complete before the
  run's horizon. ``analytic_ns`` is the analytic model's latency of the token (no queueing) and the
  last three split it into compute, transmission and propagation on the critical path (-1 where
  the model has no route); ``latency_ns - analytic_ns`` is the queueing the packet engine saw.
  With any of ``faults`` on (retransmission or satellite failures) three columns follow:
  ``retransmissions`` (messages resent on behalf of the token), ``status`` (``completed``,
  ``failed``, ``cancelled`` or ``unfinished``) and ``reason`` (words, empty when completed; see
  :func:`harness.packet_sim.token_outcomes`). Without faults the file is as before.
- ``layers.csv``: one row per token and layer: ``strategy, request, token, layer, gateway_sat,
  expert_0..expert_{k-1}, expert_sat_0..expert_sat_{k-1}, t_combine_ns`` where ``t_combine_ns``
  is when the gateway of the next layer (layer 0 after the last) had all k expert outputs of this
  layer (-1 if never).
- ``run.json``: the scenario's name and seed, and per strategy the packet counters and the pairs
  of components that had no route in some snapshot.
- ``placements.json``: per strategy, the satellite of every gateway and expert and the ring
  subnet of every satellite (-1: none).
- ``satellites.csv``: ``sat, plane, slot, lat_deg, lon_deg`` at the first snapshot (geocentric,
  Earth-fixed), for maps.
- ``summary.json``: derived from the files above by :func:`harness.analysis.summarize`, so
  ``python -m harness analyze DIR`` rebuilds it exactly.
- ``scenario.yaml``: a copy of the scenario file that was run.
- ``plots/``: ``latency_cdf.png``, ``layer_latency.png``, ``placement_map.png``.

``python -m harness topology`` writes one ``.npz`` (numpy's zip of arrays, readable with
``numpy.load`` or any zip + .npy reader), see :func:`topology_npz_arrays`.

Results are written all at once, after the whole run succeeded: files are first written into a
temporary folder next to the target, then moved into place, so a failed run leaves nothing
half-written.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

TOKEN_COLUMNS = ("request", "token", "t_start_ns", "t_end_ns", "latency_ns", "analytic_ns", "compute_ns",
                 "serialization_ns", "propagation_ns")
#: tokens.csv columns present only when faults are on; the last two are text.
FAULT_COLUMNS = ("retransmissions", "status", "reason")
TEXT_COLUMNS = ("status", "reason")


@dataclass(frozen=True)
class StrategyTrace:
    """The records of one strategy's run, ready to write."""

    strategy: str
    token_start_ns: np.ndarray  # [R, T]
    token_end_ns: np.ndarray    # [R, T]
    combine_ns: np.ndarray      # [R, T, L]
    activations: np.ndarray     # [R, T, L, k] expert ids
    gateways: np.ndarray        # [L] satellites
    experts: np.ndarray         # [L, E] satellites
    subnets: np.ndarray         # [N] ring subnet of each satellite, -1 none
    analytic_ns: np.ndarray     # [R, T] analytic latency, -1 where unroutable
    compute_ns: np.ndarray      # [R, T] analytic critical-path compute
    serialization_ns: np.ndarray  # [R, T] analytic critical-path transmission
    propagation_ns: np.ndarray  # [R, T] analytic critical-path propagation
    counters: dict              # packet counters and unreachable pairs of the run
    retransmissions: Optional[np.ndarray] = None  # [R, T] with faults on, else None
    status: Optional[np.ndarray] = None           # [R, T] str, with faults on
    reason: Optional[np.ndarray] = None           # [R, T] str, with faults on

    @property
    def latency_ns(self) -> np.ndarray:
        done = (self.token_end_ns >= 0) & (self.token_start_ns >= 0)
        return np.where(done, self.token_end_ns - self.token_start_ns, -1)


# ---------------------------------------------------------------------------------------------
# Writing


def tokens_csv(traces: list[StrategyTrace]) -> str:
    out = io.StringIO()
    faults = bool(traces) and traces[0].status is not None
    out.write("strategy," + ",".join(TOKEN_COLUMNS + (FAULT_COLUMNS if faults else ())) + "\n")
    for tr in traces:
        requests, tokens = tr.token_start_ns.shape
        r, t = np.meshgrid(np.arange(requests), np.arange(tokens), indexing="ij")
        table = np.column_stack([a.ravel() for a in (r, t, tr.token_start_ns, tr.token_end_ns, tr.latency_ns,
                                                     tr.analytic_ns, tr.compute_ns, tr.serialization_ns,
                                                     tr.propagation_ns)])
        if faults:
            table = np.column_stack([table, tr.retransmissions.ravel()])
            suffixes = [f",{st},{why}" for st, why in zip(tr.status.ravel(), tr.reason.ravel())]
            _write_rows(out, tr.strategy, table, suffixes)
        else:
            _write_rows(out, tr.strategy, table)
    return out.getvalue()


def layers_csv(traces: list[StrategyTrace]) -> str:
    out = io.StringIO()
    top_k = traces[0].activations.shape[-1] if traces else 0
    out.write(",".join(layer_columns(top_k)) + "\n")
    for tr in traces:
        requests, tokens, layers, k = tr.activations.shape
        r, t, l = np.meshgrid(np.arange(requests), np.arange(tokens), np.arange(layers), indexing="ij")
        expert_ids = tr.activations.reshape(-1, k)
        layer = l.ravel()
        expert_sats = tr.experts[layer[:, None], expert_ids]
        table = np.column_stack([r.ravel(), t.ravel(), layer, tr.gateways[layer], expert_ids, expert_sats,
                                 tr.combine_ns.ravel()])
        _write_rows(out, tr.strategy, table)
    return out.getvalue()


def layer_columns(top_k: int) -> list[str]:
    return (["strategy", "request", "token", "layer", "gateway_sat"] + [f"expert_{j}" for j in range(top_k)]
            + [f"expert_sat_{j}" for j in range(top_k)] + ["t_combine_ns"])


def _write_rows(out: io.StringIO, strategy: str, table: np.ndarray, suffixes: Optional[list[str]] = None) -> None:
    body = io.StringIO()
    np.savetxt(body, table.astype(np.int64), fmt="%d", delimiter=",")
    prefix = strategy + ","
    lines = body.getvalue().splitlines()
    if suffixes is not None:
        lines = [line + suffix for line, suffix in zip(lines, suffixes)]
    out.writelines(prefix + line + "\n" for line in lines)


def run_json(name: str, seed: int, traces: list[StrategyTrace]) -> str:
    return _json({"scenario": name, "seed": seed, "strategies": {tr.strategy: tr.counters for tr in traces}})


def placements_json(traces: list[StrategyTrace]) -> str:
    return _json({tr.strategy: {"gateways": tr.gateways.tolist(), "experts": tr.experts.tolist(),
                                "subnets": tr.subnets.tolist()} for tr in traces})


def satellites_csv(plane: np.ndarray, slot: np.ndarray, lat_deg: np.ndarray, lon_deg: np.ndarray) -> str:
    out = io.StringIO()
    out.write("sat,plane,slot,lat_deg,lon_deg\n")
    for n in range(len(plane)):
        out.write(f"{n},{plane[n]},{slot[n]},{lat_deg[n]:.4f},{lon_deg[n]:.4f}\n")
    return out.getvalue()


def summary_json(summary: dict) -> str:
    return _json(summary)


def _json(value: dict) -> str:
    return json.dumps(value, indent=2) + "\n"


@contextlib.contextmanager
def staged_directory(out_dir: Path) -> Iterator[Path]:
    """A temporary folder to write results into (inside ``out_dir`` if it exists, else next to
    it); when the block succeeds, its files move into ``out_dir`` (replacing files of the same
    name), and on failure it is removed, so nothing is left half-written."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # Stage on the same file system as the target, so that the final moves are renames: inside an
    # existing out_dir (which may be a mount point, e.g. a container's /results), else beside it.
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir if out_dir.is_dir() else out_dir.parent))
    try:
        yield staging
        if out_dir.exists():
            for path in sorted(p for p in staging.rglob("*") if p.is_file()):
                target = out_dir / path.relative_to(staging)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
            shutil.rmtree(staging)
        else:
            staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_files(directory: Path, files: dict[str, str | bytes]) -> None:
    """Write ``files`` (relative name -> text or bytes) into ``directory``, each one atomically
    (a temporary file renamed over the target)."""
    for name, content in files.items():
        target = Path(directory) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.tmp")
        if isinstance(content, bytes):
            staging.write_bytes(content)
        else:
            staging.write_text(content)
        os.replace(staging, target)


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class Results:
    """A results directory read back: per strategy, the columns of tokens.csv and layers.csv."""

    scenario: str
    seed: int
    tokens: dict[str, dict[str, np.ndarray]]   # strategy -> column -> [rows]
    layers: dict[str, dict[str, np.ndarray]]   # strategy -> column -> [rows]
    counters: dict[str, dict]                  # strategy -> run.json entry
    placements: dict[str, dict]                # strategy -> placements.json entry
    satellites: Optional[dict[str, np.ndarray]]


def read_results(directory: Path) -> Results:
    """Read a results directory written by ``python -m harness run``."""
    directory = Path(directory)
    for name in ("tokens.csv", "layers.csv", "run.json"):
        if not (directory / name).is_file():
            raise FileNotFoundError(f"{directory} has no {name}: is it a results directory of 'harness run'?")
    run = json.loads((directory / "run.json").read_text())
    placements = {}
    if (directory / "placements.json").is_file():
        placements = json.loads((directory / "placements.json").read_text())
    satellites = _read_csv(directory / "satellites.csv", numeric_from=0) if (directory / "satellites.csv").is_file() \
        else None
    return Results(scenario=run["scenario"], seed=run["seed"],
                   tokens=_by_strategy(directory / "tokens.csv"), layers=_by_strategy(directory / "layers.csv"),
                   counters=run["strategies"], placements=placements,
                   satellites=satellites[""] if satellites else None)


def _read_csv(path: Path, numeric_from: int) -> dict[str, dict[str, np.ndarray]]:
    """Columns of a CSV of integers (and floats), grouped by the first column unless numeric_from == 0."""
    with open(path) as f:
        header = f.readline().strip().split(",")
        lines = [line.rstrip("\n").split(",") for line in f if line.strip()]
    groups: dict[str, list[list[str]]] = {}
    for cells in lines:
        key = cells[0] if numeric_from == 1 else ""
        groups.setdefault(key, []).append(cells[numeric_from:])
    columns = header[numeric_from:]
    text = [i for i, name in enumerate(columns) if name in TEXT_COLUMNS]
    out = {}
    for key, rows in groups.items():
        words = {i: np.array([row[i] for row in rows], dtype=str) for i in text}
        numbers = [[v for i, v in enumerate(row) if i not in words] for row in rows]
        table = np.array(numbers, dtype=np.float64 if numeric_from == 0 else np.int64)
        numeric = [i for i in range(len(columns)) if i not in words]
        out[key] = {columns[i]: words[i] if i in words else table[:, numeric.index(i)] for i in range(len(columns))}
    return out


def _by_strategy(path: Path) -> dict[str, dict[str, np.ndarray]]:
    return _read_csv(path, numeric_from=1)


# ---------------------------------------------------------------------------------------------
# Topology export

#: Version of the topology export's layout; bumped when a field changes meaning.
TOPOLOGY_FORMAT_VERSION = 1


def topology_npz_arrays(constellation, topology, *, scenario_name: str, epoch_utc: str) -> dict[str, np.ndarray]:
    """The arrays of a topology export, by name:

    - ``format_version`` (int), ``scenario`` (str), ``epoch_utc`` (str, ISO 8601), ``frame`` (str:
      "TEME", SGP4's true-equator mean-equinox frame of date, Earth-centred), ``units`` (str);
    - ``times_s`` [S] float64: snapshot times after the epoch, s;
    - ``positions_m`` [S, N, 3] and ``velocities_m_s`` [S, N, 3] float64, TEME;
    - ``plane`` [N], ``slot`` [N] int32: satellite n is (plane, slot), n = plane * S + slot;
    - ``edges`` [L, 2] int32: the ISLs as satellite pairs;
    - ``length_m`` [S, L] float64, ``delay_ns`` [S, L] int64 (round(length / c));
    - ``feasible`` [S, L] bool (line of sight, tracking, polar rules), ``up`` [S, L] bool
      (feasible and not in an outage): the links the routes and the packet engine use.
    """
    return {
        "format_version": np.array(TOPOLOGY_FORMAT_VERSION),
        "scenario": np.array(scenario_name),
        "epoch_utc": np.array(epoch_utc),
        "frame": np.array("TEME"),
        "units": np.array("positions_m: m; velocities_m_s: m/s; length_m: m; delay_ns: ns; times_s: s"),
        "times_s": topology.times_s,
        "positions_m": constellation.positions_m,
        "velocities_m_s": constellation.velocities_m_s,
        "plane": constellation.plane_of,
        "slot": constellation.slot_of,
        "edges": topology.edges,
        "length_m": topology.length_m,
        "delay_ns": topology.delay_ns,
        "feasible": topology.feasible,
        "up": topology.up,
    }


def write_topology_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write a topology export atomically (a temporary file renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
