"""Mutated scenarios for property-based fuzzing (hypothesis), drawn from the schema itself.

:func:`scenario_files` (issue 24) starts from one of :data:`SECTION_BASES` instead: BASE with a
section on (serving, serving with an arrivals file, users, ground, a TLE constellation with its
sidecar files, placement's tensor-parallel and replica strategies, power, a formation cluster, a
board profile, faults), mutates that section's keys more often than the others, and also breaks
the files the scenario names: a TLE file (cut, lines dropped or swapped, fields and checksums
changed, binary, duplicated), its slots and ISL files, and an arrivals CSV (binary, NaN, negative,
unsorted, huge values and huge row counts). An example is then a dict of file name -> bytes.

Shared by tests/test_fuzz.py (a few hundred examples in CI) and bench/fuzz.py (thousands). An
example starts from a small valid scenario and applies one to three mutations: a schema key (or an
unknown one) set to a value of the wrong type, an extreme number, a number at or just past the
key's rule bounds, a hostile string; a key or section removed; a section replaced by a scalar. The
result is dumped as YAML and, sometimes, the bytes are broken: cut short, spliced with random or
binary bytes, re-encoded, or replaced by random bytes.

:func:`check_example` feeds the file to the in-process entry the CLI uses before it computes
anything (``harness.cli.check_run``) and, for a valid scenario that is small, runs the pipeline's
preparation and every strategy's placement too. It returns the outcome: "valid", "valid-ran",
"refused" (a HarnessError, one line) and raises on anything else (a traceback: a bug).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import typing
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from hypothesis import strategies as st

from harness import scenario as schema
from networks import analytic_run

#: The valid starting point: small enough that the pipeline's preparation takes milliseconds.
BASE: dict = {
    "name": "fuzz",
    "seed": 3,
    "strategies": ["space-xnet", "rand-place"],
    "constellation": {"kind": "walker-delta", "planes": 6, "sats_per_plane": 10, "phasing": 1,
                      "altitude_km": 550, "inclination_deg": 53},
    "snapshots": {"count": 2, "interval_s": 1.0},
    "links": {"rate_bps": 10e9, "mtu_bytes": 1500, "grazing_altitude_km": 80, "survival_probability": 0.95},
    "model": {"layers": 4, "experts": 4, "top_k": 2},
    "traffic": {"requests": 1, "tokens_per_request": 2},
    "activations": {"kind": "synthetic", "skew": 0.6},
}


def schema_keys() -> list[tuple[tuple[str, ...], Any, dataclasses.Field]]:
    """Every key of the schema as (path, type hint, field)."""
    keys = []

    def walk(cls: type, prefix: tuple[str, ...]) -> None:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.metadata.get("internal"):
                continue
            if dataclasses.is_dataclass(hints[f.name]):
                walk(hints[f.name], prefix + (f.name,))
            else:
                keys.append((prefix + (f.name,), hints[f.name], f))

    walk(schema.Scenario, ())
    return keys


KEYS = schema_keys()
SECTIONS = sorted({path[0] for path, _, _ in KEYS if len(path) > 1})


def _bounds(f: dataclasses.Field) -> list[float]:
    """The numbers in a key's rule text ('[160, 100000]', '(0, 1000]', '>= 0')."""
    rule = getattr(f.metadata.get("check"), "rule", "")
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", rule)]


EXTREME_NUMBERS = [0, -1, 1, -0.0, 0.5, 2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30,
                   10**400, 1e308, -1e308, 5e-324, float("inf"), float("-inf"), float("nan"), 1e-9, 1e15, 1e18]
HOSTILE_TEXT = ["", " ", "../../x", "/etc/passwd", "a\x00b", "line\nbreak", "\u202e", "é" * 300, "x" * 5000,
                "${HOME}", "$(rm -rf /)", "%s%n", "null", "~", "NaN", "1e9", "-", "."]


def _values_for(hint: Any, f: dataclasses.Field) -> st.SearchStrategy:
    """Values for one key: near its rules, of its type, extreme or of another type."""
    near = []
    for b in _bounds(f):
        near += [b, b - 1, b + 1, math.nextafter(b, math.inf), math.nextafter(b, -math.inf)]
        if b == int(b):
            near += [int(b), int(b) - 1, int(b) + 1]
    choices = list(f.metadata.get("choices") or ())
    any_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                           st.text(max_size=40), st.sampled_from(HOSTILE_TEXT), st.sampled_from(EXTREME_NUMBERS))
    extreme = st.sampled_from(EXTREME_NUMBERS)
    huge = st.sampled_from([10**400, -(10**400), 2**64, 2**63, -(2**63) - 1, float("nan"), float("inf")])
    options = [extreme, extreme, extreme, huge, any_scalar, st.lists(any_scalar, max_size=4),
               st.dictionaries(st.text(max_size=8), any_scalar, max_size=3)]
    if near:
        options += [st.sampled_from(near)] * 2
    if choices:
        options.append(st.sampled_from(choices))
    if hint in (int, typing.Optional[int]):
        options.append(st.integers(min_value=-10, max_value=100))
    if hint in (float, typing.Optional[float]):
        options.append(st.floats(min_value=-10, max_value=1e4))
    if hint is tuple:
        options.append(st.lists(st.sampled_from(["space-xnet", "rand-place", "rand-intra", "rand-intra-cg",
                                                 "best"]), max_size=5))
    return st.one_of(options)


@st.composite
def _mutation(draw: st.DrawFn, raw: dict) -> None:
    kind = draw(st.sampled_from(["set"] * 6 + ["unknown", "delete", "section"]))
    if kind == "set":
        path, hint, f = draw(st.sampled_from(KEYS))
        node = raw
        for part in path[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[path[-1]] = draw(_values_for(hint, f))
    elif kind == "unknown":
        where = draw(st.sampled_from([None, *SECTIONS]))
        node = raw if where is None or not isinstance(raw.get(where), dict) else raw[where]
        key = draw(st.one_of(st.text(min_size=1, max_size=12), st.integers(), st.sampled_from(HOSTILE_TEXT)))
        node[key] = draw(st.one_of(st.integers(), st.text(max_size=8), st.none()))
    elif kind == "delete":
        path, _, _ = draw(st.sampled_from(KEYS))
        node = raw
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(path[-1], None)
    else:
        raw[draw(st.sampled_from(SECTIONS))] = draw(st.one_of(st.none(), st.integers(), st.text(max_size=8),
                                                               st.lists(st.integers(), max_size=3)))


def _dump(raw: dict) -> bytes:
    try:
        return yaml.safe_dump(raw, allow_unicode=True, sort_keys=False).encode("utf-8", "surrogatepass")
    except (yaml.YAMLError, UnicodeEncodeError):
        return repr(raw).encode("utf-8", "replace")


@st.composite
def scenario_bytes(draw: st.DrawFn) -> bytes:
    """The bytes of one mutated scenario file."""
    import copy

    raw = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        draw(_mutation(raw))
    data = _dump(raw)
    damage = draw(st.sampled_from(["none"] * 14 + ["cut", "splice", "binary", "latin1", "bom", "random", "deep"]))
    if damage == "cut":
        data = data[:draw(st.integers(min_value=0, max_value=len(data)))]
    elif damage == "splice":
        at = draw(st.integers(min_value=0, max_value=len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
    elif damage == "binary":
        data = b"\x7fELF\x02\x01\x01\x00" + data
    elif damage == "latin1":
        data = data.decode("utf-8", "replace").encode("latin-1", "replace") + b"\nname: caf\xe9\n"
    elif damage == "bom":
        data = b"\xef\xbb\xbf" + data
    elif damage == "random":
        data = draw(st.binary(max_size=200))
    elif damage == "deep":
        depth = draw(st.sampled_from([10, 1000, 100_000]))
        data = data + b"\nx: " + b"[" * depth + b"]" * depth + b"\n"
    return data


def _small(sc: schema.Scenario) -> bool:
    c, t = sc.constellation, sc.traffic
    return (c.num_satellites <= 2000 and sc.snapshots.count <= 20
            and t.requests * t.tokens_per_request * sc.model.layers * sc.model.top_k <= 100_000)


def check_example(data: bytes, folder: Path, use_default_out: bool, run_small: bool = True) -> str:
    """Write ``data`` as a scenario in ``folder`` (the working directory meanwhile) and check it the way
    ``harness run`` does before computing. Returns "refused", "valid" or "valid-ran"; raises
    AssertionError if the outcome breaks the rules (a message with a newline, an output folder made),
    (``data``: the scenario's bytes, or a dict of file name -> bytes with "scenario.yaml" among them)
    and whatever the harness raised besides HarnessError (a bug)."""
    from harness.cli import check_run
    from harness.errors import HarnessError

    files = data if isinstance(data, dict) else {"scenario.yaml": data}
    for name, content in files.items():
        (folder / name).write_bytes(content)
    path = folder / "scenario.yaml"
    here = os.getcwd()
    os.chdir(folder)
    try:
        try:
            scenario, _ = check_run(path, None if use_default_out else folder / "out")
        except HarnessError as exc:
            message = str(exc)
            assert message.strip(), "an empty error message"
            assert len(" ".join(message.split())) < 2000, f"an error of {len(message)} characters"
            outcome = "refused"
        else:
            outcome = "valid"
            if run_small and _small(scenario):
                try:
                    _prepare_and_place(scenario)
                    outcome = "valid-ran"
                except HarnessError as exc:  # refused before ns-3 (a placement that does not fit): one line
                    assert str(exc).strip() and len(" ".join(str(exc).split())) < 2000, str(exc)[:3000]
                    outcome = "refused-late"
        left = sorted(p.name for p in folder.iterdir())
        assert left == sorted(files), f"files left behind: {sorted(set(left) - set(files))}"
        return outcome
    finally:
        os.chdir(here)


def _prepare_and_place(scenario: schema.Scenario) -> None:
    """The pipeline up to the packet engine: constellation, topology, activations, every placement
    and its routes, the analytic latency."""
    from harness import pipeline
    from harness.seeding import rng_for
    from harness.placement import place
    from harness.network.routes import shortest_delay_routes

    from harness.names import REPLICA_STRATEGIES, TENSOR_PARALLEL_STRATEGIES
    from harness.run.strategy import check_placement_memory, place_replicas

    prep = pipeline.prepare(scenario)
    plain = (not scenario.serving.enabled and not scenario.users.enabled and scenario.constellation.kind != "cluster"
             and not set(scenario.strategies) & set(TENSOR_PARALLEL_STRATEGIES + REPLICA_STRATEGIES))
    for name in scenario.strategies:
        if not plain:  # the pipeline's own placements and memory check, as harness run makes them
            for placement in place_replicas(name, prep.inputs, scenario.seed, scenario.serving.replicas):
                check_placement_memory(scenario, placement, prep.topology.num_nodes)
            continue
        placement = place(name, prep.inputs, rng_for(scenario.seed, f"placement:{name}"))
        routes = shortest_delay_routes(prep.topology, np.sort(placement.components))
        analytic_run(topology=prep.topology, routes=routes, links=scenario.links, gateways=placement.gateways,
                         experts=placement.experts, activations=prep.trace.experts, compute=prep.compute,
                         request_starts_ns=prep.request_starts_ns, message_bytes=scenario.model.hidden_bytes)


# ---------------------------------------------------------------------------------------------
# Every section (issue 24): section bases, the files they name, and those files broken.

def walker_tle_records(planes: int, per_plane: int, phasing: int = 1, altitude_km: float = 550.0,
                       inclination_deg: float = 53.0) -> list[tuple[str, str, str]]:
    """The (name, line 1, line 2) of a Walker delta's satellites at 2026-01-01 (tests/test_tle.py's
    construction), plane-major."""
    from datetime import datetime, timezone

    from sgp4.api import WGS72, Satrec

    from harness.constellation.walker import _sgp4_epoch_days, orbital_period_s
    from harness.formats.tle import export_tle

    total = planes * per_plane
    epoch = datetime(2026, 1, 1, tzinfo=timezone.utc)
    mean_motion = 2 * math.pi / (orbital_period_s(altitude_km) / 60)
    out = []
    for p in range(planes):
        for s in range(per_plane):
            sat = Satrec()
            sat.sgp4init(WGS72, "i", p * per_plane + s + 1, _sgp4_epoch_days(epoch), 0, 0, 0, 0.0, 0.0,
                         math.radians(inclination_deg), 2 * math.pi * ((s / per_plane + p * phasing / total) % 1.0),
                         mean_motion, math.radians(p * 360.0 / planes))
            out.append((f"W {p * per_plane + s}", *export_tle(sat)))
    return out


_TLE_CACHE: dict = {}


def walker_tle_text(planes: int = 6, per_plane: int = 10) -> str:
    if (planes, per_plane) not in _TLE_CACHE:
        _TLE_CACHE[planes, per_plane] = "".join(f"{n}\n{a}\n{b}\n" for n, a, b in walker_tle_records(planes, per_plane))
    return _TLE_CACHE[planes, per_plane]


def _base(**sections: Any) -> dict:
    import copy

    raw = copy.deepcopy(BASE)
    for name, value in sections.items():
        if isinstance(value, dict) and isinstance(raw.get(name), dict):
            raw[name].update(value)
            raw[name] = {k: v for k, v in raw[name].items() if v is not None}
        else:
            raw[name] = value
    return raw


_SERVING = {"arrivals": "poisson", "rate_per_s": 5.0, "prefill": True,
            "prompt": {"kind": "lognormal", "median": 8, "sigma": 0.5, "low": 2, "high": 16},
            "output": {"kind": "uniform", "low": 1, "high": 2}, "replicas": 2, "max_batch": 2, "chunk_tokens": 4,
            "replica_policy": "least-outstanding-work"}
ARRIVALS_REQUESTS = 3

#: name -> (scenario, the sections and top-level keys its mutations favour).
SECTION_BASES: dict[str, tuple[dict, tuple[str, ...]]] = {
    "plain": (BASE, ()),
    "serving": (_base(serving=_SERVING), ("serving", "traffic")),
    "arrivals": (_base(serving={"arrivals": "file", "arrivals_path": "arrivals.csv", "prefill": True},
                       traffic={"requests": ARRIVALS_REQUESTS, "tokens_per_request": 2}), ("serving", "traffic")),
    "disaggregated": (_base(serving=dict(_SERVING, max_batch=1, chunk_tokens=0, prefill_replicas=1,
                                         decode_replicas=1)), ("serving",)),
    "users": (_base(serving={"arrivals": "poisson", "rate_per_s": 5.0, "replica_policy": "nearest-to-user",
                             "replicas": 2},
                    users={"locations": [{"name": "Quito", "lat_deg": -0.23, "lon_deg": -78.52, "weight": 1.0},
                                         {"name": "Oslo", "lat_deg": 59.9, "lon_deg": 10.7, "weight": 2.0,
                                          "region": "europe"}], "gsl_rate_bps": 1e9, "token_bytes": 4},
                    ground={"min_elevation_deg": 10.0}), ("users", "ground", "serving")),
    "cities": (_base(serving={"arrivals": "poisson", "rate_per_s": 5.0}, users={"cities": "world"}),
               ("users", "ground")),
    "ground": (_base(ground={"sites": [{"name": "Quito", "lat_deg": -0.23, "lon_deg": -78.52},
                                       {"name": "Oslo", "lat_deg": 59.9, "lon_deg": 10.7, "alt_m": 20.0}],
                             "gsl_rule": "max_length", "max_gsl_length_km": 1260.0, "convention": "wgs84-ut1"}),
               ("ground",)),
    "tle": (_base(constellation={"kind": "tle", "tle_file": "fuzz.tle", "planes": None, "sats_per_plane": None,
                                 "phasing": None, "altitude_km": None, "inclination_deg": None,
                                 "plane_tolerance_deg": 1.0, "shell_tolerance_km": 5.0,
                                 "slot_numbering": "chained"}), ("constellation",)),
    "placement": (_base(strategies=["space-xnet-tp", "compact-packed-tp", "space-xnet-replicas"],
                        placement={"subnets": "arcs", "max_shards": 4, "max_replicas": 2}),
                  ("placement", "strategies")),
    "power": (_base(power={"enabled": True, "capacity_wh": 250.0, "reserve_wh": 50.0, "behaviour": "throttle",
                           "throttle_factor": 0.5, "solar_w": 200.0}), ("power",)),
    "cluster": (_base(strategies=["mesh-tp"],
                      constellation={"kind": "cluster", "clusters": 2, "sats_per_cluster": 19, "spacing_m": 200,
                                     "cluster_radius_m": 1000, "min_separation_m": 50, "cluster_separation_km": 100,
                                     "altitude_km": 650, "planes": None, "sats_per_plane": None, "phasing": None},
                      links={"max_length_km": 0.25, "terminals": 6, "long_range_links": 1,
                             "long_range_max_km": 5000.0}, compute={"hardware": "tpu-v6e"}),
                ("constellation", "links")),
    "hardware": (_base(compute={"hardware": "jetson-agx-orin", "precision": "bf16", "efficiency": 0.7,
                                "memory_gb": 64.0}), ("compute", "model")),
    "faults": (_base(faults={"retransmit_timeout_ms": 500.0, "max_retries": 2, "satellite_failure_rate_per_s": 0.01,
                             "satellite_failures": [{"satellite": 3, "time_s": 0.5}]}), ("faults", "links")),
}


def _section_keys(sections: tuple[str, ...]) -> list:
    return [k for k in KEYS if k[0][0] in sections] or KEYS


@st.composite
def _section_mutation(draw: st.DrawFn, raw: dict, sections: tuple[str, ...]) -> None:
    """A mutation of one of ``sections``' keys (two times in three) or any mutation."""
    if sections and draw(st.integers(0, 2)) < 2:
        path, hint, f = draw(st.sampled_from(_section_keys(sections)))
        if draw(st.integers(0, 4)) == 0:  # removed
            node = raw
            for part in path[:-1]:
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict):
                node.pop(path[-1], None)
            return
        node = raw
        for part in path[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[path[-1]] = draw(_values_for(hint, f))
    else:
        draw(_mutation(raw))


def _damage(draw: st.DrawFn, data: bytes, calm: int = 14) -> bytes:
    kind = draw(st.sampled_from(["none"] * calm + ["cut", "splice", "binary", "latin1", "bom", "random", "nul"]))
    if kind == "cut":
        return data[:draw(st.integers(min_value=0, max_value=len(data)))]
    if kind == "splice":
        at = draw(st.integers(min_value=0, max_value=len(data)))
        return data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
    if kind == "binary":
        return b"\x7fELF\x02\x01\x01\x00" + data
    if kind == "latin1":
        return data + b"\ncaf\xe9\n"
    if kind == "bom":
        return b"\xef\xbb\xbf" + data
    if kind == "random":
        return draw(st.binary(max_size=200))
    if kind == "nul":
        return data.replace(b"\n", b"\x00\n", 1)
    return data


#: TLE fields (0-based column slices of line 1 / line 2) and hostile values for them.
_TLE_FIELDS = {("1", 18, 32): ["26001.00000000", "99999.99999999", "00000.00000000", "57001.00000000", "abcdefghijklmn",
                               "26366.99999999"],
               ("2", 8, 16): ["999.0000", "180.0001", " -1.0000", "  0.0000", "180.0000", "nan     "],
               ("2", 17, 25): ["999.0000", "360.0000", " -5.0000"],
               ("2", 26, 33): ["9999999", "0000000", "-000001", "abcdefg"],
               ("2", 52, 63): ["99.99999999", " 0.00000000", "17.00000000", " 0.00000001", "-15.0000000",
                               " 1.00000000"],
               ("1", 2, 7): ["00000", "99999", "ABCDE", "     "],
               ("2", 2, 7): ["00000", "99999", "ABCDE"]}


def _tle_checksum(line: str) -> str:
    total = sum(int(c) if c.isdigit() else 1 if c == "-" else 0 for c in line[:68])
    return line[:68] + str(total % 10)


@st.composite
def tle_bytes(draw: st.DrawFn, text: str) -> bytes:
    """A TLE file: valid, or broken in one to three ways."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["field", "field", "checksum", "drop", "swap", "duplicate", "char", "one",
                                     "empty", "two-line", "repeat", "long-line", "tabs"]))
        if not lines:
            break
        if kind == "field":
            (which, a, b), values = draw(st.sampled_from(list(_TLE_FIELDS.items())))
            value = draw(st.sampled_from(values))
            targets = [i for i, line in enumerate(lines) if line.startswith(which + " ")]
            if targets:
                i = draw(st.sampled_from(targets))
                line = lines[i].ljust(69)
                fixed = line[:a] + value[:b - a].rjust(b - a) + line[b:]
                lines[i] = _tle_checksum(fixed) if draw(st.booleans()) else fixed
        elif kind == "checksum":
            i = draw(st.integers(0, len(lines) - 1))
            lines[i] = lines[i][:-1] + str((int(lines[i][-1]) + 1) % 10 if lines[i][-1:].isdigit() else 0)
        elif kind == "drop":
            del lines[draw(st.integers(0, len(lines) - 1))]
        elif kind == "swap":
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "duplicate":
            at = 3 * draw(st.integers(0, len(lines) // 3 - 1)) if len(lines) >= 3 else 0
            lines = lines + lines[at:at + 3]
        elif kind == "char":
            i = draw(st.integers(0, len(lines) - 1))
            if lines[i]:
                j = draw(st.integers(0, len(lines[i]) - 1))
                lines[i] = lines[i][:j] + draw(st.sampled_from(list("0159 -.+eE\x00é\t"))) + lines[i][j + 1:]
        elif kind == "one":
            lines = lines[:3]
        elif kind == "empty":
            lines = []
        elif kind == "two-line":
            lines = [line for line in lines if line[:2] in ("1 ", "2 ")]
        elif kind == "repeat":
            lines = lines * draw(st.sampled_from([2, 20]))
        elif kind == "long-line":
            lines.insert(draw(st.integers(0, len(lines))), "1 " + "9" * draw(st.sampled_from([100, 100_000])))
        else:
            lines = [line.replace(" ", "\t", 1) for line in lines]
    newline = draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))
    return _damage(draw, (newline.join(lines) + newline).encode("utf-8"), calm=30)


@st.composite
def slots_bytes(draw: st.DrawFn, count: int) -> bytes:
    rows = [f"{i // 10},{i % 10}" for i in range(count)]
    for _ in range(draw(st.integers(0, 2))):
        i = draw(st.integers(0, len(rows) - 1))
        rows[i] = draw(st.sampled_from(["-1,0", "0,-1", "99999999999,0", "nan,1", "1", "1,2,3", "", "a,b",
                                        rows[0], f"{2**63},0", "1.5,2"]))
    if draw(st.booleans()):
        rows = rows[:draw(st.integers(0, len(rows)))]
    return _damage(draw, ("\n".join(rows) + "\n").encode(), calm=20)


@st.composite
def isl_bytes(draw: st.DrawFn, count: int) -> bytes:
    pairs = [(i, (i + 1) % count) for i in range(count)] + [(i, (i + 10) % count) for i in range(count - 10)]
    rows = [f"{a} {b}" for a, b in pairs]
    for _ in range(draw(st.integers(0, 2))):
        i = draw(st.integers(0, len(rows) - 1))
        rows[i] = draw(st.sampled_from(["0 0", f"0 {count}", "-1 3", f"{2**63} 1", "1", "1 2 3", "a b", "1,2",
                                        rows[0], "2 1", "1e3 2", ""]))
    if draw(st.booleans()):
        rows = rows[:draw(st.integers(0, len(rows)))]
    return _damage(draw, ("\n".join(rows) + "\n").encode(), calm=20)


_TIME_CELLS = ["nan", "NaN", "inf", "-inf", "-1", "-0", "-1e-300", "1e308", "1e8", "100000000.00000001", "abc", "",
               " 1", "1_0", "0x10", str(2**64), "1e-320", "٣"]
_TOKEN_CELLS = ["-1", "0", "1", "65536", "65537", str(2**31), str(2**63), "1e3", "nan", "", "1.5", "+3", " 4", "٣"]


@st.composite
def arrivals_bytes(draw: st.DrawFn, requests: int = ARRIVALS_REQUESTS) -> bytes:
    """An arrivals CSV: valid, or broken (binary, NaN, negative, unsorted, huge values, huge row counts)."""
    width = draw(st.sampled_from([2, 3]))
    header = "time_s,prompt_tokens" + (",output_tokens" if width == 3 else "")
    times = sorted(draw(st.lists(st.floats(0, 100, allow_nan=False), min_size=requests, max_size=requests)))
    rows = [[repr(t), str(draw(st.integers(1, 16)))] + (["1"] if width == 3 else []) for t in times]
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["time", "tokens", "unsorted", "drop", "extra-row", "extra-cell", "header",
                                     "huge-rows", "huge-cell"]))
        if kind == "time" and rows:
            draw(st.sampled_from(rows))[0] = draw(st.sampled_from(_TIME_CELLS))
        elif kind == "tokens" and rows:
            row = draw(st.sampled_from(rows))
            row[draw(st.integers(1, len(row) - 1))] = draw(st.sampled_from(_TOKEN_CELLS))
        elif kind == "unsorted" and len(rows) > 1:
            rows.reverse()
            rows[0][0] = "50.0"
        elif kind == "drop" and rows:
            rows.pop()
        elif kind == "extra-row":
            rows.append(list(rows[-1]) if rows else ["0", "1"])
        elif kind == "extra-cell" and rows:
            draw(st.sampled_from(rows)).append("7")
        elif kind == "header":
            header = draw(st.sampled_from(["", "time,prompt", "prompt_tokens,time_s", "time_s,prompt_tokens,x",
                                           "\ufefftime_s,prompt_tokens", "TIME_S,PROMPT_TOKENS"]))
        elif kind == "huge-rows":
            n = draw(st.sampled_from([1000, 200_000]))
            rows = [[f"{i * 1e-3:.3f}", "4"] + (["1"] * (width - 2)) for i in range(n)]
        else:
            rows.append(["1" * draw(st.sampled_from([400, 100_000])), "4"])
    text = header + "\n" + "".join(",".join(r) + "\n" for r in rows)
    return _damage(draw, text.encode("utf-8"), calm=24)


class Example(dict):
    """One example's files (name -> bytes), with the section base it was drawn from (``base``)."""

    base = "plain"

    def __repr__(self) -> str:
        return f"Example(base={self.base!r}, {dict.__repr__(self)[:2000]})"


def base_files(name: str) -> Example:
    """The unmutated files of a section base (each must be a valid scenario that runs)."""
    base, _ = SECTION_BASES[name]
    files = Example({"scenario.yaml": _dump(base)})
    files.base = name
    if name == "tle":
        files["fuzz.tle"] = walker_tle_text(6, 10).encode()
    if name == "arrivals":
        files["arrivals.csv"] = b"time_s,prompt_tokens\n0,4\n0.5,8\n1.25,3\n"
    return files


@st.composite
def scenario_files(draw: st.DrawFn, only: str | None = None) -> dict[str, bytes]:
    """One example: the mutated scenario of a section base (:data:`SECTION_BASES`, or the base ``only``)
    and the files it names, broken or not, as file name -> bytes."""
    import copy

    name = only or draw(st.sampled_from(list(SECTION_BASES)))
    base, sections = SECTION_BASES[name]
    raw = copy.deepcopy(base)
    files = Example()
    files.base = name
    if name == "tle":
        files["fuzz.tle"] = draw(tle_bytes(walker_tle_text(6, 10)))
        if draw(st.integers(0, 3)) == 0:
            raw["constellation"]["slots_file"] = "fuzz.slots"
            files["fuzz.slots"] = draw(slots_bytes(60))
        if draw(st.integers(0, 3)) == 0:
            raw["constellation"]["isl_file"] = "fuzz.isl"
            files["fuzz.isl"] = draw(isl_bytes(60))
    if name == "arrivals":
        files["arrivals.csv"] = draw(arrivals_bytes())
    for _ in range(draw(st.integers(min_value=0 if files else 1, max_value=3))):
        draw(_section_mutation(raw, sections))
    data = _dump(raw)
    files["scenario.yaml"] = _damage(draw, data, calm=40)
    return files


def fuzz_example() -> st.SearchStrategy:
    """What the fuzzers draw: the plain mutations (:func:`scenario_bytes`) one time in three, the
    section bases (:func:`scenario_files`) two times in three."""
    return st.one_of(scenario_bytes(), scenario_files(), scenario_files())
