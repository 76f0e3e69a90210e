"""The on-disk formats of a run's results: one module owns them all.

A results directory holds:

- ``tokens.csv``: one row per token: ``strategy, request, token, t_start_ns, t_end_ns,
  latency_ns`` (simulated time in integer ns; ``t_end_ns`` and ``latency_ns`` are -1 for a token
  that did not complete before the run's horizon);
- ``layers.csv``: one row per token and layer: ``strategy, request, token, layer, gateway_sat,
  expert_0..expert_{k-1}, expert_sat_0..expert_sat_{k-1}, t_combine_ns`` where ``t_combine_ns``
  is when the gateway of the next layer (layer 0 after the last) had all k expert outputs of this
  layer (-1 if never);
- ``summary.json``: the scenario name and seed and, per strategy, token counts, mean / p50 / p95 /
  p99 latency in ns and packet counters.

``python -m harness topology`` writes one ``.npz`` (numpy's zip of arrays, readable with
``numpy.load`` or any zip + .npy reader), see :func:`topology_npz_arrays`.

Results are written all at once, after the whole run succeeded: files are first written into a
temporary folder next to the target, then moved into place, so a failed run leaves nothing
half-written.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np


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


def tokens_csv(traces: list[StrategyTrace]) -> str:
    out = io.StringIO()
    out.write("strategy,request,token,t_start_ns,t_end_ns,latency_ns\n")
    for tr in traces:
        requests, tokens = tr.token_start_ns.shape
        r, t = np.meshgrid(np.arange(requests), np.arange(tokens), indexing="ij")
        done = (tr.token_end_ns >= 0) & (tr.token_start_ns >= 0)
        latency = np.where(done, tr.token_end_ns - tr.token_start_ns, -1)
        table = np.column_stack([r.ravel(), t.ravel(), tr.token_start_ns.ravel(), tr.token_end_ns.ravel(),
                                 latency.ravel()])
        _write_rows(out, tr.strategy, table)
    return out.getvalue()


def layers_csv(traces: list[StrategyTrace]) -> str:
    out = io.StringIO()
    top_k = traces[0].activations.shape[-1] if traces else 0
    columns = (["strategy", "request", "token", "layer", "gateway_sat"]
               + [f"expert_{j}" for j in range(top_k)] + [f"expert_sat_{j}" for j in range(top_k)]
               + ["t_combine_ns"])
    out.write(",".join(columns) + "\n")
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


def _write_rows(out: io.StringIO, strategy: str, table: np.ndarray) -> None:
    body = io.StringIO()
    np.savetxt(body, table.astype(np.int64), fmt="%d", delimiter=",")
    prefix = strategy + ","
    out.writelines(prefix + line + "\n" for line in body.getvalue().splitlines())


def summary_json(summary: dict) -> str:
    return json.dumps(summary, indent=2, sort_keys=False) + "\n"


def write_results(out_dir: Path, files: dict[str, str]) -> None:
    """Write ``files`` (name -> text) into ``out_dir`` all at once; nothing is left on failure."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        for name, text in files.items():
            (staging / name).write_text(text)
        if out_dir.exists():
            for name in files:
                os.replace(staging / name, out_dir / name)
            shutil.rmtree(staging)
        else:
            staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


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


def read_tokens_csv(path: Path) -> dict[str, np.ndarray]:
    """Per strategy, the [n, 5] int64 rows (request, token, t_start_ns, t_end_ns, latency_ns)."""
    rows: dict[str, list[list[int]]] = {}
    with open(path) as f:
        header = f.readline().strip()
        if header != "strategy,request,token,t_start_ns,t_end_ns,latency_ns":
            raise ValueError(f"{path}: not a tokens.csv (header {header!r})")
        for line in f:
            name, *values = line.rstrip("\n").split(",")
            rows.setdefault(name, []).append([int(v) for v in values])
    return {name: np.array(v, dtype=np.int64) for name, v in rows.items()}
