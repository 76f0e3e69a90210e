"""The placement plan file: where every gateway and expert of a model sits, as JSON.

    {"format": "space-xnet-placement", "format_version": 1, "strategy": "...",
     "gateways": [L satellite ids], "experts": [[E satellite ids] x L], "subnets": [N] or null}

:func:`plan_json` writes it (one key per line); :func:`parse_plan` reads it strictly: malformed
JSON, a missing or unknown key, another format or version, ids that are not whole numbers >= 0
(subnets: >= -1) or ragged expert rows are a PlacementError naming the file, the key and the fix.
The shapes against a model and a constellation are checked by
:meth:`harness.placement.Placement.validate_for`.
"""

from __future__ import annotations

import json
from typing import Any, Optional

import numpy as np

from harness.errors import PlacementError

#: The plan file's format name and the version this module writes and reads.
PLAN_FORMAT = "space-xnet-placement"
PLAN_FORMAT_VERSION = 1
_PLAN_KEYS = ("format", "format_version", "strategy", "gateways", "experts", "subnets")
#: Keys a plan may add (written only when used, so the paper's plans keep their bytes): "shards",
#: [L] lists of the helper satellites of each layer's tensor-parallel attention; "replicas", [L]
#: lists of [E] lists of the satellites holding copies of each expert.
_OPTIONAL_KEYS = ("shards", "replicas")


def plan_json(strategy: str, gateways: np.ndarray, experts: np.ndarray, subnets: np.ndarray,
              shards: Optional[np.ndarray] = None, replicas: Optional[np.ndarray] = None) -> str:
    """The text of a plan file (``shards``: [L, H] helper satellites, -1 padded, or None)."""
    subnets = np.asarray(subnets)
    plan = {"format": PLAN_FORMAT, "format_version": PLAN_FORMAT_VERSION, "strategy": strategy,
            "gateways": np.asarray(gateways).astype(int).tolist(),
            "experts": np.asarray(experts).astype(int).tolist(),
            "subnets": subnets.astype(int).tolist() if subnets.size else None}
    keys = _PLAN_KEYS
    if shards is not None:
        plan["shards"] = [[int(v) for v in row if v >= 0] for row in np.asarray(shards)]
        keys = keys + ("shards",)
    if replicas is not None:
        plan["replicas"] = [[[int(v) for v in copies if v >= 0] for copies in row] for row in np.asarray(replicas)]
        keys = keys + ("replicas",)
    lines = [f'  "{key}": {json.dumps(plan[key])}' for key in keys]  # one key per line
    return "{\n" + ",\n".join(lines) + "\n}\n"


def parse_plan(text: str, source: str = "plan", num_satellites: Optional[int] = None) -> dict[str, Any]:
    """A plan file's fields as arrays (strategy, gateways [L], experts [L, E], subnets [N] int32).

    A null ``subnets`` becomes -1 for each of ``num_satellites`` satellites when that is given, else
    an empty array.
    """
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlacementError(f"{source}: malformed JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); "
                             f"fix the file or write it again with save_plan") from None
    except (ValueError, RecursionError):  # a number of 5000 digits, nesting too deep
        raise PlacementError(f"{source}: malformed JSON (a number too long or nesting too deep); fix the file "
                             f"or write it again with save_plan") from None
    if not isinstance(raw, dict):
        raise PlacementError(f"{source}: a plan must be a JSON object with keys {', '.join(_PLAN_KEYS)}; "
                             f"got {type(raw).__name__}")
    for key in _PLAN_KEYS:
        if key not in raw:
            raise PlacementError(f"{source}: missing key '{key}'; a plan needs {', '.join(_PLAN_KEYS)}")
    unknown = sorted(set(raw) - set(_PLAN_KEYS) - set(_OPTIONAL_KEYS))
    if unknown:
        raise PlacementError(f"{source}: unknown key '{unknown[0]}'; a plan has only "
                             f"{', '.join(_PLAN_KEYS + _OPTIONAL_KEYS)}")
    if raw["format"] != PLAN_FORMAT:
        raise PlacementError(f"{source}: 'format' is {raw['format']!r}, not {PLAN_FORMAT!r}; this is not a "
                             f"placement plan")
    if raw["format_version"] != PLAN_FORMAT_VERSION or isinstance(raw["format_version"], bool):
        raise PlacementError(f"{source}: 'format_version' is {raw['format_version']!r} but this harness reads "
                             f"version {PLAN_FORMAT_VERSION}; write the plan again with this harness")
    if not isinstance(raw["strategy"], str) or not raw["strategy"]:
        raise PlacementError(f"{source}: 'strategy' must be a non-empty string naming how the plan was made")
    gateways = _id_list(raw["gateways"], "gateways", source)
    rows = raw["experts"]
    if not isinstance(rows, list):
        raise PlacementError(f"{source}: 'experts' must be a list of L lists of E satellite ids")
    experts = [_id_list(row, f"experts[{i}]", source) for i, row in enumerate(rows)]
    if len({len(row) for row in experts}) > 1:
        raise PlacementError(f"{source}: the rows of 'experts' have different lengths "
                             f"{sorted({len(row) for row in experts})}; every layer has the same E experts")
    width = len(experts[0]) if experts else 0
    if raw["subnets"] is None:
        subnets = np.full(num_satellites or 0, -1, dtype=np.int32)
    else:
        subnets = _id_list(raw["subnets"], "subnets", source, allow_minus_one=True)
    out = dict(strategy=raw["strategy"], gateways=gateways,
               experts=np.array(experts, dtype=np.int32).reshape(len(experts), width), subnets=subnets)
    if "shards" in raw:
        rows = raw["shards"]
        if not isinstance(rows, list) or len(rows) != len(gateways):
            raise PlacementError(f"{source}: 'shards' must be a list of L = {len(gateways)} lists of helper "
                                 f"satellite ids (one per layer, [] for a layer that is not split)")
        helpers = [_id_list(row, f"shards[{i}]", source) for i, row in enumerate(rows)]
        width = max((len(row) for row in helpers), default=0)
        table = np.full((len(helpers), width), -1, dtype=np.int32)
        for i, row in enumerate(helpers):
            table[i, : len(row)] = row
        out["shards"] = table
    if "replicas" in raw:
        rows = raw["replicas"]
        if not isinstance(rows, list) or len(rows) != len(gateways) or not all(
                isinstance(row, list) and len(row) == width for row in rows):
            raise PlacementError(f"{source}: 'replicas' must be a list of L = {len(gateways)} lists of E lists of "
                                 f"satellite ids (the copies of each expert, [] for none)")
        copies = [[_id_list(c, f"replicas[{i}][{e}]", source) for e, c in enumerate(row)] for i, row in enumerate(rows)]
        depth = max((len(c) for row in copies for c in row), default=0)
        table = np.full((len(copies), width, depth), -1, dtype=np.int32)
        for i, row in enumerate(copies):
            for e, c in enumerate(row):
                table[i, e, : len(c)] = c
        out["replicas"] = table
    return out


def _id_list(value: Any, key: str, source: str, allow_minus_one: bool = False) -> np.ndarray:
    """A JSON list of satellite ids (whole numbers, not booleans) as int32."""
    lowest = -1 if allow_minus_one else 0
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise PlacementError(f"{source}: '{key}' must be a list of whole numbers (satellite ids), got "
                             f"{json.dumps(value)[:60]}")
    if value and (min(value) < lowest or max(value) > np.iinfo(np.int32).max):
        raise PlacementError(f"{source}: '{key}' holds {min(value)}; satellite ids are whole numbers >= {lowest}")
    return np.array(value, dtype=np.int32)
