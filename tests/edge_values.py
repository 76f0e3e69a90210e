"""Edge values of every numeric scenario key through the CLI (issue 24): no allowed value crashes.

Shared by tests/test_edge_values.py (CI) and bench/edge_values.py (the full walk). The keys come
from the schema itself (:data:`scenario_fuzz.KEYS`: every field of the frozen dataclasses, with
its ``_spec(check=...)`` rule), so a new key is walked without a change here. Each number key is
set, on a small scenario where its section is on (:data:`BASES`, :func:`base_for`), to its lower
and upper bound, just inside them and just outside (the next float, or the next whole number); a
key with no upper bound gets huge values (1e12, 2**63, 1e308): absurd sizes must be refused, not
run out of memory. The numbers inside list entries (faults.satellite_failures, ground.sites,
users.locations) are walked too (:data:`ENTRY_KEYS`).

Each value is run as ``python -m harness run SCENARIO --out OUT --jobs 1`` would run it: through
``harness.cli.main`` in a worker process that runs many values one after another (a fresh
interpreter per value costs a second of imports). The worker announces each value before it runs
it, so a value that kills the worker (a signal, an ns-3 fatal: exit 133) is known; that value is
then run again alone, in ``python -m harness run`` in a fresh process, to confirm, and the worker
restarts after it. A value passes when it runs (exit 0, results written) or is refused in one
``error:`` line (exit 1, nothing written); anything else (a traceback, a signal, an ns-3 fatal, an
error of several lines, a half-written results directory) fails.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import re
import subprocess
import sys
import time
import typing
from pathlib import Path
from typing import Any, Optional

import yaml

REPO = Path(__file__).resolve().parents[1]

#: A small tiny.yaml: 100 satellites, 4 layers x 4 experts, 1 request of 2 tokens, 2 snapshots.
TINY: dict = {
    "name": "edge",
    "seed": 7,
    "strategies": ["space-xnet"],
    "constellation": {"kind": "walker-delta", "planes": 10, "sats_per_plane": 10, "phasing": 1,
                      "altitude_km": 550, "inclination_deg": 53, "epoch_utc": "2026-01-01T00:00:00Z"},
    "snapshots": {"count": 2, "interval_s": 1.0},
    "links": {"rate_bps": 10e9, "mtu_bytes": 1500, "queue_packets": 1000, "grazing_altitude_km": 80,
              "max_angular_rate_rad_s": 0.12},
    "model": {"layers": 4, "experts": 4, "top_k": 2, "hidden_size": 4096, "ffn_size": 1376, "vocab_size": 32000},
    "traffic": {"requests": 1, "tokens_per_request": 2},
    "activations": {"kind": "synthetic"},
}


def _with(**sections: dict) -> dict:
    """TINY with these sections merged in (a section value None removes the key)."""
    raw = copy.deepcopy(TINY)
    for name, value in sections.items():
        if isinstance(value, dict) and isinstance(raw.get(name), dict):
            for k, v in value.items():
                if v is None:
                    raw[name].pop(k, None)
                else:
                    raw[name][k] = v
        else:
            raw[name] = value
    return raw


_SERVING = {"arrivals": "poisson", "rate_per_s": 20.0, "prefill": True,
            "prompt": {"kind": "lognormal", "median": 8, "sigma": 0.5, "low": 2, "high": 16},
            "output": {"kind": "uniform", "low": 1, "high": 2}}
_USERS = {"locations": [{"name": "Quito", "lat_deg": -0.23, "lon_deg": -78.52, "weight": 1.0},
                        {"name": "Singapore", "lat_deg": 1.35, "lon_deg": 103.8, "weight": 2.0}]}
_CLUSTER_CONST = {"kind": "cluster", "clusters": 2, "sats_per_cluster": 19, "formation": "gco",
                  "lattice": "hexagonal", "spacing_m": 200, "cluster_radius_m": 1000, "min_separation_m": 50,
                  "cluster_separation_km": 100, "altitude_km": 650, "inclination_deg": 53,
                  "epoch_utc": "2026-01-01T00:00:00Z"}

#: The small scenarios the keys are walked on, by name: each turns on the section its keys need.
BASES: dict[str, dict] = {
    "tiny": TINY,
    "sun-synchronous": _with(constellation={"orbit": "sun-synchronous", "inclination_deg": None, "ltan_h": 6.0}),
    "cluster": _with(constellation=dict(_CLUSTER_CONST, planes=None, sats_per_plane=None, phasing=None),
                     strategies=["mesh-tp"],
                     links={"max_length_km": 0.25, "terminals": 6, "long_range_links": 1,
                            "long_range_max_km": 5000.0, "max_angular_rate_rad_s": None},
                     compute={"hardware": "tpu-v6e"}),
    "tle": _with(constellation={"kind": "tle", "tle_file": "edge.tle", "plane_tolerance_deg": 1.0,
                                "shell_tolerance_km": 5.0, "epoch_utc": None, "planes": None,
                                "sats_per_plane": None, "phasing": None, "altitude_km": None,
                                "inclination_deg": None}),
    "tensor-parallel": _with(strategies=["space-xnet-tp"], placement={"max_shards": 4}),
    "replicas": _with(strategies=["space-xnet-replicas"], placement={"max_replicas": 2}),
    "board": _with(compute={"hardware": "jetson-agx-orin", "efficiency": 0.8}),
    "roofline": _with(compute={"memory_bytes_per_s": 1e11, "memory_gb": 8.0, "weight_bytes": 2}),
    "mla": _with(model={"attention": "mla", "q_lora_rank": 64, "kv_lora_rank": 32, "qk_nope_head_dim": 16,
                        "qk_rope_head_dim": 8, "v_head_dim": 16, "heads": 8}),
    "gqa": _with(model={"attention": "gqa", "kv_heads": 8, "head_dim": 128, "heads": 32}),
    "dense": _with(model={"first_dense_layers": 1, "moe_interval": 2, "dense_ffn_size": 2048}),
    "sliding": _with(model={"attention": "gqa", "kv_heads": 8, "sliding_window": 4, "sliding_window_pattern": 2}),
    "faults": _with(faults={"retransmit_timeout_ms": 2000.0, "max_retries": 3,
                            "satellite_failure_rate_per_s": 0.001},
                    links={"survival_probability": 0.95, "drop_in_flight": True}),
    "ground": _with(ground={"sites": [{"name": "Quito", "lat_deg": -0.23, "lon_deg": -78.52},
                                      {"name": "Singapore", "lat_deg": 1.35, "lon_deg": 103.8, "alt_m": 15.0}],
                            "gsl_rule": "max_length", "max_gsl_length_km": 1260.0, "min_elevation_deg": 25.0}),
    "serving": _with(serving=dict(_SERVING, replicas=2, max_batch=2, chunk_tokens=4,
                                  replica_policy="least-outstanding-work")),
    "disaggregated": _with(serving=dict(_SERVING, replicas=2, prefill_replicas=1, decode_replicas=1)),
    "users": _with(serving={"arrivals": "poisson", "rate_per_s": 20.0}, users=_USERS,
                   ground={"min_elevation_deg": 10.0}),
    "power": _with(power={"enabled": True, "capacity_wh": 250.0, "reserve_wh": 50.0}),
}

#: Which base a key is walked on: the first entry whose prefix the key starts with (else tiny).
KEY_BASES: list[tuple[str, str]] = [
    ("constellation.ltan_h", "sun-synchronous"),
    ("constellation.plane_tolerance_deg", "tle"), ("constellation.shell_tolerance_km", "tle"),
    ("constellation.clusters", "cluster"), ("constellation.sats_per_cluster", "cluster"),
    ("constellation.spacing_m", "cluster"), ("constellation.cluster_radius_m", "cluster"),
    ("constellation.min_separation_m", "cluster"), ("constellation.cluster_separation_km", "cluster"),
    ("links.max_length_km", "cluster"), ("links.terminals", "cluster"), ("links.long_range_links", "cluster"),
    ("links.long_range_max_km", "cluster"),
    ("placement.max_shards", "tensor-parallel"), ("placement.max_replicas", "replicas"),
    ("compute.efficiency", "board"), ("compute.memory_bytes_per_s", "roofline"), ("compute.memory_gb", "roofline"),
    ("compute.weight_bytes", "roofline"),
    ("model.q_lora_rank", "mla"), ("model.kv_lora_rank", "mla"), ("model.qk_nope_head_dim", "mla"),
    ("model.qk_rope_head_dim", "mla"), ("model.v_head_dim", "mla"),
    ("model.kv_heads", "gqa"), ("model.head_dim", "gqa"),
    ("model.first_dense_layers", "dense"), ("model.moe_interval", "dense"), ("model.dense_ffn_size", "dense"),
    ("model.sliding_window", "sliding"),
    ("faults.", "faults"), ("ground.", "ground"),
    ("serving.prefill_replicas", "disaggregated"), ("serving.decode_replicas", "disaggregated"),
    ("serving.", "serving"), ("users.", "users"), ("power.", "power"),
]


#: Keys of the base that a walked key replaces (removed when it is set).
COMPANIONS: dict[str, tuple[str, ...]] = {"constellation.satellites": ("constellation.sats_per_plane",)}


def base_for(key: str) -> str:
    return next((base for prefix, base in KEY_BASES if key.startswith(prefix)), "tiny")


#: Numbers inside list entries, as (key, entry path, lower, upper or None): walked like keys.
ENTRY_KEYS: list[tuple[str, str, float, Optional[float]]] = [
    ("faults.satellite_failures[0].satellite", "faults", 0, 99),     # tiny's satellites 0..99
    ("faults.satellite_failures[0].time_s", "faults", 0.0, None),
    ("ground.sites[0].lat_deg", "ground", -90.0, 90.0),
    ("ground.sites[0].lon_deg", "ground", -180.0, 360.0),
    ("ground.sites[0].alt_m", "ground", -500.0, 100_000.0),
    ("users.locations[0].lat_deg", "users", -90.0, 90.0),
    ("users.locations[0].lon_deg", "users", -180.0, 360.0),
    ("users.locations[0].weight", "users", 0.0, 1e12),
]

#: The memory the walk's runs may think they have (harness/run/estimate.py's check), so that a value
#: refused for its memory is refused on every machine.
MEMORY_CAP_BYTES = 8 << 30

#: Values for a key with no upper bound (and above a bound for the bigger-is-absurd keys).
HUGE = [1e12, 2**63, 1e308]


@dataclasses.dataclass(frozen=True)
class Case:
    key: str          #: dotted key, e.g. "links.rate_bps" ("faults.satellite_failures[0].time_s": an entry)
    value: Any
    where: str        #: "lo-out", "lo", "lo-in", "hi-in", "hi", "hi-out", "huge", "choice", "not-a-choice";
                      #: "base": the base scenario as it is
    base: str

    @property
    def label(self) -> str:
        return f"{self.key}={self.value!r} ({self.where}, on {self.base})"


def _parse_rule(rule: str) -> tuple[Optional[float], Optional[float], bool]:
    """(lower, upper, lower open) of a rule text: '[lo, hi]', '(lo, hi]', '>= lo'."""
    m = re.fullmatch(r"([\[(])\s*(\S+),\s*(\S+)\]", rule)
    if m:
        return float(m.group(2)), float(m.group(3)), m.group(1) == "("
    m = re.fullmatch(r">=\s*(\S+)", rule)
    if m:
        return float(m.group(1)), None, False
    raise ValueError(f"a rule the edge walk does not read: {rule!r}")


def _steps(lo: Optional[float], hi: Optional[float], open_low: bool, integer: bool) -> list[tuple[str, Any]]:
    out = []
    if lo is not None:
        if integer:
            lo_i = int(lo)
            out += [("lo-out", lo_i - 1), ("lo", lo_i), ("lo-in", lo_i + 1)]
        elif open_low:
            out += [("lo-out", lo), ("lo-in", math.nextafter(lo, math.inf)), ("lo-in", lo + max(abs(lo), 1) * 1e-9)]
        else:
            out += [("lo-out", math.nextafter(lo, -math.inf)), ("lo", lo), ("lo-in", math.nextafter(lo, math.inf))]
    if hi is not None:
        if integer:
            hi_i = int(hi)
            out += [("hi-in", hi_i - 1), ("hi", hi_i), ("hi-out", hi_i + 1)]
        else:
            out += [("hi-in", math.nextafter(hi, -math.inf)), ("hi", hi), ("hi-out", math.nextafter(hi, math.inf))]
    else:
        out += [("huge", int(v) if integer else float(v)) for v in HUGE]
    return out


def numeric_keys() -> list[tuple[str, Any, dataclasses.Field]]:
    """Every number key of the schema: (dotted key, type hint, field)."""
    sys.path.insert(0, str(REPO / "tests"))
    from scenario_fuzz import KEYS

    out = []
    for path, hint, f in KEYS:
        bare = next((a for a in typing.get_args(hint) if a is not type(None)), hint)
        if bare in (int, float):
            out.append((".".join(path), bare, f))
    return out


def cases() -> list[Case]:
    """Every edge value of every number key (and list-entry number)."""
    out = base_cases()
    for key, bare, f in numeric_keys():
        base = base_for(key)
        choices = f.metadata.get("choices") or ()
        check = f.metadata.get("check")
        if choices:
            out += [Case(key, v, "choice", base) for v in choices]
            out += [Case(key, v, "not-a-choice", base) for v in (0, max(choices) + 1, -1)]
            continue
        if check is None or not hasattr(check, "rule"):
            raise AssertionError(f"number key {key} has no rule: give it a check=_range(lo, hi)")
        lo, hi, open_low = _parse_rule(check.rule)
        out += [Case(key, v, where, base) for where, v in _steps(lo, hi, open_low, bare is int)]
    for key, base, lo, hi in ENTRY_KEYS:
        integer = isinstance(lo, int) and (hi is None or isinstance(hi, int))
        out += [Case(key, v, where, base) for where, v in _steps(lo, hi, False, integer)]
    return out


def base_cases() -> list[Case]:
    """Each base scenario as it is (key "(base)"): it must run, or its keys' walk tests little."""
    return [Case("(base)", None, "base", name) for name in BASES]


def ci_cases() -> list[Case]:
    """The values CI walks (tests/test_edge_values.py): every bound, every value outside a bound, the
    huge ones, and the value just inside an open bound (where the bound itself is refused); the value
    just inside a closed bound is left to bench/edge_values.py's full walk."""
    out = []
    for case in cases():
        closed = {(c.key, c.where) for c in cases_of(case.key)}
        if case.where == "lo-in" and (case.key, "lo") in closed or case.where == "hi-in" and (case.key, "hi") in closed:
            continue
        out.append(case)
    return out


_CASES_BY_KEY: dict[str, list[Case]] = {}


def cases_of(key: str) -> list[Case]:
    if not _CASES_BY_KEY:
        for case in cases():
            _CASES_BY_KEY.setdefault(case.key, []).append(case)
    return _CASES_BY_KEY[key]


def _set(raw: dict, key: str, value: Any) -> None:
    m = re.fullmatch(r"(\w+)\.(\w+)\[(\d+)\]\.(\w+)", key)
    if m:
        section, lst, i, field = m.groups()
        node = raw.setdefault(section, {})
        if lst == "satellite_failures" and lst not in node:
            node[lst] = [{"satellite": 5, "time_s": 0.5}]
        node[lst][int(i)][field] = value
        return
    *parents, last = key.split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def write_tle(path: Path) -> None:
    """tiny.yaml's Walker 53:100/10/1 shell as a TLE file (tests/test_tle.py's construction)."""
    from sgp4.api import WGS72, Satrec

    from datetime import datetime, timezone

    from harness.constellation.walker import _sgp4_epoch_days, orbital_period_s
    from harness.formats.tle import export_tle, write_tle_file

    planes, per_plane, total = 10, 10, 100
    epoch = datetime(2026, 1, 1, tzinfo=timezone.utc)
    mean_motion = 2 * math.pi / (orbital_period_s(550.0) / 60)
    records = []
    for p in range(planes):
        for s in range(per_plane):
            sat = Satrec()
            sat.sgp4init(WGS72, "i", p * per_plane + s + 1, _sgp4_epoch_days(epoch), 0, 0, 0, 0.0, 0.0,
                         math.radians(53.0), 2 * math.pi * ((s / per_plane + p / total) % 1.0), mean_motion,
                         math.radians(p * 360.0 / planes))
            records.append((f"W {p * per_plane + s}", *export_tle(sat)))
    write_tle_file(path, records)


def write_case(case: Case, folder: Path) -> Path:
    """The scenario file of ``case`` (and its TLE file) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = copy.deepcopy(BASES[case.base])
    for path in COMPANIONS.get(case.key, ()):
        section, key = path.split(".")
        raw[section].pop(key, None)
    if case.where != "base":
        _set(raw, case.key, case.value)
    if case.base == "tle":
        write_tle(folder / "edge.tle")
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


# ---------------------------------------------------------------------------------------------
# Running: a worker runs many values through harness.cli.main; the parent watches it.

def _worker(jobs_file: str) -> None:
    """Run each (index, scenario, out) of ``jobs_file`` through the CLI's main, one after another;
    print 'START i' before each and one JSON line after it."""
    import io
    import logging
    import traceback

    class Current(io.TextIOBase):
        buffer_: io.StringIO = io.StringIO()

        def write(self, s: str) -> int:
            return Current.buffer_.write(s)

        def writable(self) -> bool:
            return True

    stream = Current()
    logging.basicConfig(stream=stream, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from harness.cli import main
    import harness.run.estimate as estimate

    # The walk's outcomes must not depend on the machine: the memory check sees at most 8 GiB.
    real_available = estimate.available_memory_bytes
    estimate.available_memory_bytes = lambda: min(real_available(), MEMORY_CAP_BYTES)

    real_stdout = sys.stdout
    for index, scenario, out in json.loads(Path(jobs_file).read_text()):
        real_stdout.write(f"START {index}\n")
        real_stdout.flush()
        if (Path(scenario).parent / "SIGSEGV").exists():  # tests/test_edge_values.py: a worker killed mid-case
            import signal

            os.kill(os.getpid(), signal.SIGSEGV)
        Current.buffer_ = io.StringIO()
        sys.stderr = stream
        sys.stdout = stream
        clock = time.perf_counter()
        try:
            rc: Any = main(["run", scenario, "--out", out, "--jobs", "1"])
            tb = ""
        except SystemExit as exc:
            rc, tb = exc.code, ""
        except BaseException:  # noqa: BLE001 (a traceback is what the walk looks for)
            rc, tb = "traceback", traceback.format_exc()
        finally:
            sys.stderr, sys.stdout = sys.__stderr__, real_stdout
        real_stdout.write(json.dumps({"index": index, "rc": rc, "stderr": Current.buffer_.getvalue()[-4000:],
                                      "traceback": tb[-4000:], "s": round(time.perf_counter() - clock, 3)}) + "\n")
        real_stdout.flush()


@dataclasses.dataclass
class Outcome:
    case: Case
    kind: str          #: "ran", "refused", or a failure: "traceback", "crash", "several-lines", "stray", "timeout"
    detail: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.kind in ("ran", "refused")


def _judge(case: Case, rc: Any, stderr: str, tb: str, out: Path, seconds: float) -> Outcome:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    if tb:
        return Outcome(case, "traceback", tb, seconds)
    if rc == 0:
        if not (out / "summary.json").is_file():
            return Outcome(case, "stray", f"exit 0 but no summary.json in {out}", seconds)
        return Outcome(case, "ran", "", seconds)
    if rc == 1:
        errors = [line for line in lines if line.startswith("error:")]
        if out.exists():
            return Outcome(case, "stray", f"refused but {out} was written: {sorted(p.name for p in out.iterdir())}",
                           seconds)
        if len(errors) != 1 or lines[-1] != errors[0] or any("Traceback" in line for line in lines):
            return Outcome(case, "several-lines", stderr[-2000:], seconds)
        if "process died" in errors[0]:  # a strategy's child killed by an ns-3 fatal
            return Outcome(case, "crash", errors[0], seconds)
        return Outcome(case, "refused", errors[0], seconds)
    return Outcome(case, "crash", f"exit {rc}: {stderr[-2000:]}", seconds)


def run_alone(case: Case, folder: Path, timeout: float) -> Outcome:
    """``python -m harness run`` of one case in a fresh process (the confirmation of a crash), with the
    walk's memory cap."""
    scenario = write_case(case, folder)
    out = folder / "out"
    clock = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    try:
        # python -m harness run, with the walk's memory cap (the worker's)
        capped = (f"import runpy, sys, harness.run.estimate as e; real = e.available_memory_bytes; "
                  f"e.available_memory_bytes = lambda: min(real(), {MEMORY_CAP_BYTES}); "
                  f"sys.argv = ['harness', 'run', {str(scenario)!r}, '--out', {str(out)!r}, '--jobs', '1']; "
                  f"runpy.run_module('harness', run_name='__main__')")
        done = subprocess.run([sys.executable, "-c", capped], cwd=folder, env=env, capture_output=True, text=True,
                              errors="replace", timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return Outcome(case, "timeout", f"over {timeout:g} s", timeout)
    rc = done.returncode if done.returncode >= 0 else f"signal {-done.returncode}"
    tb = done.stderr if "Traceback (most recent call last)" in done.stderr else ""
    return _judge(case, rc, done.stderr, tb, out, time.perf_counter() - clock)


def run_cases(all_cases: list[Case], workdir: Path, *, timeout: float = 120.0, log=None,
              workers: int = 2) -> list[Outcome]:
    """Every case through the CLI: in ``workers`` worker processes at once (the cases dealt out in
    turn), each running many cases; a case that kills its worker is confirmed alone in ``python -m
    harness run``."""
    from concurrent.futures import ThreadPoolExecutor

    workers = max(1, min(workers, len(all_cases)))
    shares = [list(range(k, len(all_cases), workers)) for k in range(workers)]
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(lambda k: _run_share([all_cases[i] for i in shares[k]], workdir / f"w{k}", timeout, log),
                              range(workers)))
    out: list = [None] * len(all_cases)
    for share, part in zip(shares, parts):
        for i, outcome in zip(share, part):
            out[i] = outcome
    return out


def _run_share(all_cases: list[Case], workdir: Path, timeout: float, log) -> list[Outcome]:
    """:func:`run_cases` of one worker's share, one worker process after another."""
    workdir.mkdir(parents=True, exist_ok=True)
    folders = []
    for i, case in enumerate(all_cases):
        folder = workdir / f"c{i:04d}"
        folders.append((write_case(case, folder), folder / "out"))
    results: dict[int, Outcome] = {}
    pending = list(range(len(all_cases)))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    while pending:
        jobs_file = workdir / "jobs.json"
        jobs_file.write_text(json.dumps([[i, str(folders[i][0]), str(folders[i][1])] for i in pending]))
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker", str(jobs_file)],
                                cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                errors="replace")
        import selectors

        current: Optional[int] = None
        started = time.perf_counter()
        timed_out = False
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        buffer = ""
        while True:
            ready = sel.select(timeout=1.0)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 65536).decode("utf-8", "replace")
                if not chunk:
                    break
                buffer += chunk
                while "\n" in buffer:
                    line, buffer = buffer.split("\n", 1)
                    if line.startswith("START "):
                        current, started = int(line.split()[1]), time.perf_counter()
                    elif line.startswith("{"):
                        r = json.loads(line)
                        i = r["index"]
                        results[i] = _judge(all_cases[i], r["rc"], r["stderr"], r["traceback"], folders[i][1], r["s"])
                        if log:
                            log(results[i])
                        current = None
            if current is not None and time.perf_counter() - started > timeout:
                proc.kill()
                timed_out = True
                break
        proc.wait()
        stderr = proc.stderr.read()
        sel.close()
        if current is None:  # the worker finished every case it had
            pending = [i for i in pending if i not in results]
            if pending:  # it died between cases: should not happen
                raise RuntimeError(f"the edge-value worker stopped early (exit {proc.returncode}): {stderr[-2000:]}")
            break
        case = all_cases[current]
        if timed_out:
            results[current] = Outcome(case, "timeout", f"over {timeout:g} s", timeout)
        else:  # it killed the worker: confirm it alone in a fresh `python -m harness run`
            alone = run_alone(case, workdir / f"alone{current:04d}", timeout)
            if alone.ok:  # not reproducible alone: the worker's death is still reported
                alone = Outcome(case, "crash", f"killed the worker (exit {proc.returncode}: {stderr[-1500:]}) "
                                f"but {alone.kind} alone", alone.seconds)
            results[current] = alone
        if log:
            log(results[current])
        pending = [i for i in pending if i not in results]
    return [results[i] for i in range(len(all_cases))]


if __name__ == "__main__" and sys.argv[1:2] == ["--worker"]:
    sys.path.insert(0, str(REPO))
    _worker(sys.argv[2])
