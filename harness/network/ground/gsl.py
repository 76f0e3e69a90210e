"""Ground-satellite link (GSL) rules: which satellites a site may link to at each snapshot.

:data:`GSL_RULES` maps the scenario key ``ground.gsl_rule`` to a rule. Each rule turns a site's
slant ranges and elevations (``[S, N]``) into a ``[S, N]`` bool mask of usable links:

- ``min_elevation``: only the satellite of highest elevation, if it is at least
  ``min_elevation_deg`` above the horizon (a user terminal that tracks one satellite and hands over
  at every snapshot, as the ground issue specifies);
- ``max_length``: every satellite within ``max_gsl_length_m`` (Hypatia's rule: any of them may
  carry the path; no elevation test).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from harness.names import GSL_RULE_NAMES

__all__ = ["GSL_RULES", "GslRule", "gsl_candidates"]


def _min_elevation(range_m: np.ndarray, elevation_rad: np.ndarray, *, min_elevation_deg: float,
                   max_gsl_length_m: float | None) -> np.ndarray:
    best = np.argmax(elevation_rad, axis=-1)  # [S]
    mask = np.zeros(elevation_rad.shape, dtype=bool)
    rows = np.arange(elevation_rad.shape[0])
    mask[rows, best] = elevation_rad[rows, best] >= math.radians(min_elevation_deg)
    return mask


def _max_length(range_m: np.ndarray, elevation_rad: np.ndarray, *, min_elevation_deg: float,
                max_gsl_length_m: float | None) -> np.ndarray:
    return range_m <= max_gsl_length_m


@dataclass(frozen=True)
class GslRule:
    help: str
    candidates: Callable[..., np.ndarray]


#: GSL rules by name (scenario key ``ground.gsl_rule``).
GSL_RULES: dict[str, GslRule] = {
    "min_elevation": GslRule("the highest satellite, if at least min_elevation_deg up", _min_elevation),
    "max_length": GslRule("every satellite within max_gsl_length_km (Hypatia)", _max_length),
}


def gsl_candidates(rule: str, range_m: np.ndarray, elevation_rad: np.ndarray, *, min_elevation_deg: float = 25.0,
                   max_gsl_length_m: float | None = None) -> np.ndarray:
    """``[S, N]`` bool: the satellites a site may link to at each snapshot under ``rule``."""
    return GSL_RULES[rule].candidates(range_m, elevation_rad, min_elevation_deg=min_elevation_deg,
                                      max_gsl_length_m=max_gsl_length_m)

assert tuple(GSL_RULES) == GSL_RULE_NAMES, "the schema's names (harness/names.py) and the registry must agree"
