"""TopoJSON (https://github.com/topojson/topojson-specification) read strictly, as the lines of its
arcs: what the maps draw as coastlines (Natural Earth's land outlines, shipped in
``harness/analysis/report/assets/land-110m.json``; see its ``SOURCE.md``).

Only what such a file uses is read: a quantized ``transform`` (``scale``, ``translate``) and
``arcs`` of delta-encoded integer positions. Every arc becomes one polyline of (longitude,
latitude) degrees. The cuts that the file's polygons make along the antimeridian and the bottom
edge of Antarctica are not coastline and are left out, and a line is split where it jumps across
the antimeridian.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.errors import HarnessError
from harness.formats.files import read_json_file

_MAX_BYTES = 16 << 20


def read_topojson_lines(path: Path, error: type = HarnessError) -> list[np.ndarray]:
    """``[K, 2]`` float64 (lon, lat) polylines of every arc of a quantized TopoJSON file; ``error``
    names the file and the field when it is not one."""
    topology = read_json_file(path, "TopoJSON file", error, _MAX_BYTES)
    fix = "restore the shipped file (see SOURCE.md beside it)"
    if not isinstance(topology, dict) or topology.get("type") != "Topology":
        raise error(f"{path}: not a TopoJSON Topology (no \"type\": \"Topology\"); {fix}")
    transform, arcs = topology.get("transform"), topology.get("arcs")
    try:
        scale = np.asarray(transform["scale"], dtype=np.float64).reshape(2)
        translate = np.asarray(transform["translate"], dtype=np.float64).reshape(2)
    except (TypeError, KeyError, ValueError):
        raise error(f"{path}: field 'transform' must hold two-number 'scale' and 'translate'; {fix}") from None
    if not isinstance(arcs, list) or not arcs:
        raise error(f"{path}: field 'arcs' must be a non-empty list of arcs; {fix}")
    lines = []
    bottom = translate[1] + 1e-6  # the lowest latitude of the file: Antarctica's cut, not a coast
    for i, arc in enumerate(arcs):
        try:
            steps = np.asarray(arc, dtype=np.int64).reshape(-1, 2)
        except (TypeError, ValueError):
            raise error(f"{path}: arc {i} is not a list of integer [x, y] pairs; {fix}") from None
        points = np.cumsum(steps, axis=0) * scale + translate
        lines.extend(_coast_pieces(points, bottom))
    return lines


def _coast_pieces(points: np.ndarray, bottom: float) -> list[np.ndarray]:
    """``points`` split where a segment runs along the antimeridian or the file's bottom edge."""
    lon, lat = points[:, 0], points[:, 1]
    on_cut = (np.abs(lon) >= 180 - 1e-6) | (lat <= bottom)
    # [K-1] segments lying on a cut, or jumping across the map from one side of the antimeridian to the other
    cut = (on_cut[:-1] & on_cut[1:]) | (np.abs(np.diff(lon)) > 180)
    pieces, start = [], 0
    for j in np.flatnonzero(cut):
        if j + 1 - start >= 2:
            pieces.append(points[start:j + 1])
        start = j + 1
    if len(points) - start >= 2:
        pieces.append(points[start:])
    return pieces
