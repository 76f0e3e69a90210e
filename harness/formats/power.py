"""The power model's files in a results directory (written only with ``power.enabled``; issue 22).

- ``energy.csv``: one row per strategy, satellite and snapshot, for the satellites that hold a
  component of that strategy (a gateway, an expert, a tensor-parallel shard or an expert copy, of
  any model replica: ``placements.json``), and for the snapshots that started before the run ended:
  ``strategy, sat, snapshot, t_start_s, t_end_s, sunlit, energy_wh, soc, min_energy_wh,
  solar_in_j, load_out_j, compute_busy_j, busy_s, throttled_s, below_reserve_s, spilled_j,
  unserved_j``. Over the snapshot's interval ``[t_start_s, t_end_s)`` (the last one ends with the
  run): ``sunlit`` 1/0 (skyfield's test), ``energy_wh`` the battery at the interval's end and
  ``soc`` that as a share of the capacity, ``min_energy_wh`` the lowest it held in the interval,
  ``solar_in_j`` what the array delivered (before the charge efficiency), ``load_out_j`` what the
  bus and the board drew (before the discharge efficiency), ``compute_busy_j`` the board's draw
  while it ran jobs, ``busy_s`` and ``throttled_s`` the time it ran jobs and throttled jobs,
  ``below_reserve_s`` the time the battery was below the reserve, ``spilled_j`` and ``unserved_j``
  the energy clipped at full and at empty. Per satellite,
  ``energy_wh`` of its last row x 3600 - ``initial_wh`` x 3600 = sum of (``solar_in_j`` x charge
  efficiency - ``load_out_j`` / discharge efficiency - ``spilled_j`` + ``unserved_j``).
- ``sunlit.csv``: one row per snapshot: ``snapshot, t_s, lit, flags``; ``flags`` holds one
  character per satellite, ``1`` sunlit and ``0`` in shadow; ``lit`` counts the ``1``s.
- ``power.json``: the power section as run (``solar_w``, ``baseline_w``, ``compute_idle_w``,
  ``compute_busy_w``, ``capacity_wh``, ``charge_efficiency``, ``discharge_efficiency``,
  ``initial_wh``, ``reserve_wh``, ``behaviour``, ``throttle_factor``), ``end_s`` per strategy (the
  batteries are integrated up to the run's end) and ``protected_jobs`` per strategy: satellite ->
  jobs admitted below the reserve.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import ResultsError
from harness.formats.files import MAX_CONFIG_BYTES, MAX_DATA_BYTES, read_json_file, read_text_file, show

ENERGY_COLUMNS = ("strategy", "sat", "snapshot", "t_start_s", "t_end_s", "sunlit", "energy_wh", "soc",
                  "min_energy_wh", "solar_in_j", "load_out_j", "compute_busy_j", "busy_s", "throttled_s",
                  "below_reserve_s", "spilled_j", "unserved_j")
SUNLIT_COLUMNS = ("snapshot", "t_s", "lit", "flags")
POWER_KEYS = ("solar_w", "baseline_w", "compute_idle_w", "compute_busy_w", "capacity_wh", "charge_efficiency",
              "discharge_efficiency", "initial_wh", "reserve_wh", "behaviour", "throttle_factor")
_J_PER_WH = 3600.0


def _g(x: float) -> str:
    """12 significant digits: enough for the energy balance to 1e-9, and the same bytes every run."""
    return f"{x:.12g}"


def energy_csv(rows: list[tuple[str, np.ndarray, object]], sunlit: np.ndarray, capacity_wh: float) -> str:
    """energy.csv from ``(strategy, occupied satellites, PowerRecords)`` per strategy and ``sunlit`` [S, N]."""
    out = io.StringIO()
    out.write(",".join(ENERGY_COLUMNS) + "\n")
    for name, sats, power in rows:
        times = np.asarray(power.step_times_ns, dtype=np.int64)
        steps = int(np.searchsorted(times, power.end_ns, side="left"))  # snapshots started before the end
        ends = np.minimum(np.append(times[1:], power.end_ns), power.end_ns)
        sats = np.asarray(sats, dtype=np.int64)
        r = {key: value[:steps][:, sats].T for key, value in power.records.items()}  # [sats, steps]
        sat, snap = np.meshgrid(sats, np.arange(steps), indexing="ij")
        energy = r["energy_end_j"]
        columns = [sat, snap, np.broadcast_to(times[:steps] / 1e9, sat.shape), np.broadcast_to(ends[:steps] / 1e9, sat.shape),
                   np.asarray(sunlit, dtype=np.int64)[:steps][:, sats].T, energy / _J_PER_WH,
                   energy / (capacity_wh * _J_PER_WH), r["energy_min_j"] / _J_PER_WH] + [
            r[key] for key in ("solar_in_j", "load_out_j", "compute_busy_j", "busy_s", "throttled_s",
                               "below_reserve_s", "spilled_j", "unserved_j")]
        table = np.column_stack([np.ravel(c) for c in columns]).astype(np.float64)
        body = io.StringIO()
        np.savetxt(body, table, fmt=["%d"] * 2 + ["%.12g"] * 2 + ["%d"] + ["%.12g"] * 11, delimiter=",")
        prefix = name + ","
        out.writelines(prefix + line + "\n" for line in body.getvalue().splitlines())
    return out.getvalue()


def sunlit_csv(times_s: np.ndarray, sunlit: np.ndarray) -> str:
    out = io.StringIO()
    out.write(",".join(SUNLIT_COLUMNS) + "\n")
    chars = np.where(np.asarray(sunlit, dtype=bool), "1", "0")
    for s in range(sunlit.shape[0]):
        out.write(f"{s},{_g(float(times_s[s]))},{int(sunlit[s].sum())},{''.join(chars[s])}\n")
    return out.getvalue()


def power_json(spec, traces: list[tuple[str, object]]) -> str:
    """power.json from the scenario's PowerSpec and ``(strategy, PowerRecords)`` per strategy."""
    values = {key: getattr(spec, key) for key in POWER_KEYS if key != "initial_wh"}
    values["initial_wh"] = spec.initial_soc * spec.capacity_wh
    body = {"power": {key: values[key] for key in POWER_KEYS},
            "end_s": {name: p.end_ns / 1e9 for name, p in traces},
            "protected_jobs": {name: {str(int(sat)): int(p.protected_jobs[sat])
                                      for sat in np.flatnonzero(p.protected_jobs)} for name, p in traces}}
    return json.dumps(body, indent=2) + "\n"


@dataclass(frozen=True)
class PowerFiles:
    """energy.csv, sunlit.csv and power.json read back."""

    energy: dict[str, dict[str, np.ndarray]]  # strategy -> column -> [rows] (float64; sat, snapshot, sunlit int64)
    sunlit: np.ndarray                        # [S, N] bool
    sunlit_times_s: np.ndarray                # [S]
    power: dict                               # power.json's "power"
    end_s: dict[str, float]
    protected_jobs: dict[str, dict[int, int]]


def read_power_files(directory: Path) -> PowerFiles:
    """The power files of a results directory, strictly (ResultsError naming the file and line)."""
    directory = Path(directory)
    energy = _read_energy(directory / "energy.csv")
    sunlit, times = _read_sunlit(directory / "sunlit.csv")
    path = directory / "power.json"
    body = read_json_file(path, "power.json", ResultsError, MAX_CONFIG_BYTES)
    if not isinstance(body, dict) or not isinstance(body.get("power"), dict) or set(body["power"]) != set(POWER_KEYS):
        raise ResultsError(f"{path}: must hold 'power' with the keys {', '.join(POWER_KEYS)}; run the scenario again")
    return PowerFiles(energy=energy, sunlit=sunlit, sunlit_times_s=times, power=body["power"],
                      end_s={k: float(v) for k, v in body.get("end_s", {}).items()},
                      protected_jobs={k: {int(s): int(n) for s, n in v.items()}
                                      for k, v in body.get("protected_jobs", {}).items()})


def _read_energy(path: Path) -> dict[str, dict[str, np.ndarray]]:
    text = read_text_file(path, "energy.csv", ResultsError, MAX_DATA_BYTES)
    lines = text.splitlines()
    if not lines or lines[0] != ",".join(ENERGY_COLUMNS):
        raise ResultsError(f"{path}: line 1 is not the header '{','.join(ENERGY_COLUMNS)}'; run the scenario again")
    names, cells = [], []
    for n, line in enumerate(lines[1:], start=2):
        parts = line.split(",")
        if len(parts) != len(ENERGY_COLUMNS) or not parts[0]:
            raise ResultsError(f"{path}: line {n} has {len(parts)} fields, the header {len(ENERGY_COLUMNS)}; "
                               f"run the scenario again")
        names.append(parts[0])
        cells.append(parts[1:])
    try:
        table = np.array(cells, dtype=np.float64).reshape(len(cells), len(ENERGY_COLUMNS) - 1)
    except ValueError:
        raise ResultsError(f"{path}: a cell is not a number; run the scenario again") from None
    if not np.isfinite(table).all():
        raise ResultsError(f"{path}: a cell is not a finite number; run the scenario again")
    names = np.array(names, dtype=object)
    out = {}
    for name in dict.fromkeys(names):
        picked = table[names == name]
        out[name] = {col: (picked[:, i].astype(np.int64) if col in ("sat", "snapshot", "sunlit") else picked[:, i])
                     for i, col in enumerate(ENERGY_COLUMNS[1:])}
    return out


def _read_sunlit(path: Path) -> tuple[np.ndarray, np.ndarray]:
    text = read_text_file(path, "sunlit.csv", ResultsError, MAX_DATA_BYTES)
    lines = text.splitlines()
    if not lines or lines[0] != ",".join(SUNLIT_COLUMNS):
        raise ResultsError(f"{path}: line 1 is not the header '{','.join(SUNLIT_COLUMNS)}'; run the scenario again")
    flags, times = [], []
    for n, line in enumerate(lines[1:], start=2):
        parts = line.split(",")
        if (len(parts) != 4 or set(parts[3]) - {"0", "1"} or (flags and len(parts[3]) != len(flags[0]))
                or parts[0] != str(n - 2)):
            raise ResultsError(f"{path}: line {n} is {show(line[:60])}, not 'snapshot,t_s,lit,flags'; run the "
                               f"scenario again")
        times.append(float(parts[1]))
        flags.append(parts[3])
    lit = np.array([[c == "1" for c in row] for row in flags], dtype=bool) if flags else np.zeros((0, 0), bool)
    return lit, np.array(times)
