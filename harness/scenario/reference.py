"""The scenario reference (docs/scenario-reference.md), generated from the schema in scenario.py.

    python -m harness reference > docs/scenario-reference.md

A test checks that the checked-in file equals what this module generates, so the document cannot
drift from the schema.
"""

from __future__ import annotations

import dataclasses
import typing

from harness import scenario as schema

_PREAMBLE = """# Scenario reference

Generated from the schema in `harness/scenario/` by `python -m harness reference`; do not edit by hand.

A scenario is a YAML mapping. Every key below is optional unless marked *required*; a key that is
not listed here is an error. Nested sections are mappings (`constellation: {planes: 72, ...}`).
Numbers may be written as `1e9` or `100.0e9`; `null` means "not set".
"""


def _type_name(hint: typing.Any) -> str:
    args = typing.get_args(hint)
    if type(None) in args:
        inner = next(a for a in args if a is not type(None))
        return f"{_type_name(inner)} or null"
    if hint is tuple:
        return "list of names"
    if hint is schema.SatelliteFailureList:
        return "list of {satellite, time_s}"
    if hint is schema.UserLocationList:
        return "list of {name, lat_deg, lon_deg, weight, region}"
    if hint is schema.SiteList:
        return "list of {name, lat_deg, lon_deg, alt_m}"
    return {int: "integer", float: "number", str: "string", bool: "true/false"}.get(hint, getattr(hint, "__name__",
                                                                                                   str(hint)))


def _default(f: dataclasses.Field) -> str:
    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
        return "*required*"
    value = f.default
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _section_rows(cls: type, prefix: str) -> list[str]:
    hints = typing.get_type_hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        if f.metadata.get("internal"):
            continue
        if dataclasses.is_dataclass(hints[f.name]):  # a section inside a section: its keys, dotted
            rows.append(f"| `{prefix}{f.name}` | section | | | {f.metadata['help'].rstrip('.')}: the keys below |")
            rows += _section_rows(hints[f.name], f"{prefix}{f.name}.")
            continue
        meta = f.metadata
        text = meta["help"]
        if meta.get("choices"):
            text += "; one of: " + ", ".join(f"`{c}`" for c in meta["choices"])
        rule = getattr(meta.get("check"), "rule", "")
        if rule:
            text += f"; allowed: {rule}"
        rows.append(f"| `{prefix}{f.name}` | {_type_name(hints[f.name])} | {meta.get('unit') or ''} | "
                    f"{_default(f)} | {text} |")
    return rows


def scenario_reference_markdown() -> str:
    """The whole reference as Markdown."""
    lines = [_PREAMBLE, "## Top level", "", "| key | type | unit | default | meaning |", "|---|---|---|---|---|"]
    lines += _section_rows(schema.Scenario, "")
    hints = typing.get_type_hints(schema.Scenario)
    for f in dataclasses.fields(schema.Scenario):
        section = hints[f.name]
        if not dataclasses.is_dataclass(section):
            continue
        lines += ["", f"## `{f.name}`", "", section.__doc__.strip().splitlines()[0], "",
                  "| key | type | unit | default | meaning |", "|---|---|---|---|---|"]
        lines += _section_rows(section, f"{f.name}.")
    lines += ["", "## Model presets", "", "`model.preset` fills these keys (keys given explicitly win):", ""]
    for name, values in schema.MODEL_PRESETS.items():
        lines.append(f"- `{name}`: " + ", ".join(f"{k} {v}" for k, v in values.items()))
    from harness.scenario.model import ACTIVATION_PRESETS

    lines += ["", "A frontier preset also fills its expert popularity under the `activations` keys given, for a "
              "synthetic trace (`harness/scenario/model.py` says where each figure comes from; the other presets "
              "keep the defaults):", ""]
    for name, values in ACTIVATION_PRESETS.items():
        lines.append(f"- `{name}`: " + ", ".join(f"activations.{k} {v}" for k, v in values.items()))
    from harness.names import STRATEGY_NAMES

    lines += ["", "## Strategies", "", "`strategies` picks from: " + ", ".join(f"`{n}`" for n in STRATEGY_NAMES)
              + " (see `harness/placement/`)."]
    lines += ["", "## Rules across keys", "", "Checked when the scenario is read, before anything runs:", "",
              f"- at most {schema.MAX_SATELLITES} satellites (planes x sats_per_plane); phasing in [0, planes - 1];",
              f"- `links.grazing_altitude_km` at least {schema.SGP4_ALTITUDE_MARGIN_KM:g} km below "
              "`constellation.altitude_km` (SGP4's orbits dip up to ~7.5 km below the nominal altitude);",
              f"- `snapshots.count` x `snapshots.interval_s` and the last request's start at most "
              f"{schema.MAX_HORIZON_S:g} s;",
              "- `model.top_k` <= `model.experts`; the model's layers x (1 + experts) components fit the N "
              "satellites (which also makes every ring subnet, floor(N / layers) satellites or more, hold a "
              "gateway and the layer's experts);",
              "- `links.mtu_bytes` leaves at least 64 payload bytes after the 44 header bytes;",
              f"- `links.mtu_bytes` leaves at most {schema.MAX_SEGMENT_PAYLOAD_BYTES} payload bytes (the packet "
              f"engine's largest packet): at most {schema.MAX_SEGMENT_PAYLOAD_BYTES + 44} B;",
              f"- requests x tokens_per_request x layers x top_k at most {schema.MAX_ACTIVATIONS} activations;",
              f"- each component's compute time per token (FLOP / compute.satellite_flops) at most "
              f"{schema.MAX_COMPUTE_S:g} s;",
              "- `activations.path` names an existing file when `activations.kind` is `file`, and is unset otherwise;",
              "- `strategies` names each strategy once;",
              "- `constellation.kind: tle` needs `tle_file` (read strictly: line length, checksum, epoch) and takes "
              "planes, satellites and (unless given) epoch_utc from it; the Walker keys (planes, sats_per_plane, "
              "satellites, phasing, altitude_km, inclination_deg, orbit, ltan_h, raan_spread_deg) are refused there, and "
              "tle_file, slots_file and isl_file are refused for Walker kinds;",
              "- `constellation.orbit: sun-synchronous` computes `inclination_deg` from `altitude_km` and J2 (giving "
              "`inclination_deg` too is refused, and an altitude where no such orbit exists, above about 5,974 km); "
              "`ltan_h` is refused unless the orbit is sun-synchronous;",
              "- `ground.gsl_rule: max_length` needs `ground.max_gsl_length_km`; site names are unique;",
              "- `power.reserve_wh` <= `power.capacity_wh`; `power.compute_busy_w` >= `power.compute_idle_w` "
              "(docs/power.md)."]
    return "\n".join(lines) + "\n"
