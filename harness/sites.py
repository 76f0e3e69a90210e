"""Named places on the Earth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Site", "UserSite", "site_arrays"]


@dataclass(frozen=True)
class Site:
    """A ground site: geodetic latitude and longitude (deg, east positive) and altitude above the
    ellipsoid (m). Which ellipsoid is the scenario's Earth convention (:mod:`.geometry`)."""

    name: str
    lat_deg: float
    lon_deg: float
    alt_m: float = 0.0


@dataclass(frozen=True)
class UserSite:
    """Where users are: a place on the Earth, the region it is reported under, and its weight (a
    request comes from it with probability weight / total; a city's population, say)."""

    name: str
    lat_deg: float
    lon_deg: float
    weight: float
    region: str = "custom"
    alt_m: float = 0.0


def site_arrays(sites: tuple[Site | UserSite, ...] | list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``[G]`` latitudes (deg), longitudes (deg) and altitudes (m)."""
    return (np.array([s.lat_deg for s in sites], dtype=np.float64),
            np.array([s.lon_deg for s in sites], dtype=np.float64),
            np.array([s.alt_m for s in sites], dtype=np.float64))
