"""Mutated scenarios for property-based fuzzing (hypothesis), drawn from the schema itself.

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
    and whatever the harness raised besides HarnessError (a bug)."""
    from harness.cli import check_run
    from harness.errors import HarnessError

    path = folder / "scenario.yaml"
    path.write_bytes(data)
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
                _prepare_and_place(scenario)
                outcome = "valid-ran"
        left = sorted(p.name for p in folder.iterdir())
        assert left == ["scenario.yaml"], f"files left behind: {left}"
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

    prep = pipeline.prepare(scenario)
    for name in scenario.strategies:
        placement = place(name, prep.inputs, rng_for(scenario.seed, f"placement:{name}"))
        routes = shortest_delay_routes(prep.topology, np.sort(placement.components))
        analytic_run(topology=prep.topology, routes=routes, links=scenario.links, gateways=placement.gateways,
                         experts=placement.experts, activations=prep.trace.experts, compute=prep.compute,
                         request_starts_ns=prep.request_starts_ns, message_bytes=scenario.model.hidden_bytes)
