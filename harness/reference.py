"""The scenario reference (docs/scenario-reference.md), generated from the schema in scenario.py.

    python -m harness reference > docs/scenario-reference.md

A test checks that the checked-in file equals what this module generates, so the document cannot
drift from the schema.
"""

from __future__ import annotations

import dataclasses
import typing

from . import scenario as schema

_PREAMBLE = """# Scenario reference

Generated from `harness/scenario.py` by `python -m harness reference`; do not edit by hand.

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
        if f.metadata.get("internal") or dataclasses.is_dataclass(hints[f.name]):
            continue
        meta = f.metadata
        text = meta["help"]
        if meta.get("choices"):
            text += "; one of: " + ", ".join(f"`{c}`" for c in meta["choices"])
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
    from .placement import STRATEGIES

    lines += ["", "## Strategies", "", "`strategies` picks from: " + ", ".join(f"`{n}`" for n in STRATEGIES)
              + " (see `harness/placement.py`)."]
    return "\n".join(lines) + "\n"
