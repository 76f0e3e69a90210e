"""The coastlines every map of the harness draws: Natural Earth's 110 m land outlines (public
domain), from the ``world-atlas`` package, shipped as ``harness/analysis/report/assets/land-110m.json``
(source, version and licence in ``SOURCE.md`` beside it)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from harness.errors import ResultsError
from harness.formats.topojson import read_topojson_lines

LAND_110M = Path(__file__).parent / "report" / "assets" / "land-110m.json"


@lru_cache(maxsize=1)
def coastlines() -> tuple[np.ndarray, ...]:
    """The coastlines as ``[K, 2]`` (longitude, latitude) polylines, degrees."""
    return tuple(read_topojson_lines(LAND_110M, ResultsError))


def coastline_xy() -> tuple[np.ndarray, np.ndarray]:
    """Every coastline in one pair of arrays, the lines separated by NaN (for one plotted line)."""
    lines = coastlines()
    gap = np.array([[np.nan, np.nan]])
    joined = np.vstack([part for line in lines for part in (line, gap)])
    return joined[:, 0], joined[:, 1]


def draw_coastlines(ax) -> None:
    """Draw the coastlines on a matplotlib axis in (longitude, latitude) degrees, under everything."""
    x, y = coastline_xy()
    ax.plot(x, y, color="0.55", linewidth=0.5, zorder=0.5)
