"""Ground-to-satellite geometry: Earth conventions, Earth-fixed positions, slant range, elevation.

Satellite states come from SGP4 in the TEME frame (:mod:`harness.constellation.walker`). A ground site is
fixed on the rotating Earth. Both are brought into one Earth-fixed frame per snapshot, vectorised
over satellites and snapshots. How is an :data:`CONVENTIONS` entry, chosen by the scenario key
``ground.convention``:

- ``wgs84-ut1`` (the default): WGS84 sites; TEME -> ITRS through skyfield's frames, with UT1 from
  skyfield's built-in IERS tables (nothing is downloaded). The physical choice.
- ``wgs72-utc``: WGS72 sites (a = 6378135 m, f = 1/298.26); skyfield's TEME -> ITRS with UTC taken as
  UT1 (a timescale whose Delta T is TT - UTC).
- ``pyephem``: what PyEphem (XEphem's libastro) computes, and so what Hypatia's satgenpy, which
  measures every distance with PyEphem, reproduces: sites on XEphem's ellipsoid (a = 6378160 m,
  f = 1/298.25) at the latitude ``atan(tan(lat) / (1 - f^2))`` its ``orbit`` routines use; the
  Earth turned by Newcomb's sidereal time with UTC as UT1 (0.076 s behind IAU 1982's GMST in 2000);
  and SGP4 positions, computed in Earth radii of 6378.135 km, scaled back with 6378.16 km
  (27 m higher at 630 km). Each quirk moves a ground-satellite distance by 10 to 30 m; together they
  decide in which 100 ms step a satellite crosses a range limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

import numpy as np

from harness.names import GROUND_CONVENTIONS

__all__ = ["CONVENTIONS", "Convention", "elevation_rad", "rotated_to_fixed_m", "satellites_ecef_m",
           "site_positions_m", "site_up_vectors", "slant_range_m", "teme_to_fixed"]

_SECONDS_PER_DAY = 86_400.0


def _skyfield_rotation(epoch_utc: datetime, times_s: np.ndarray, utc_as_ut1: bool) -> np.ndarray:
    """``[S, 3, 3]`` TEME -> ITRS rotation of each snapshot through skyfield's frame objects."""
    from skyfield.api import load
    from skyfield.framelib import itrs
    from skyfield.functions import T, mxm
    from skyfield.sgp4lib import TEME

    builtin = load.timescale(builtin=True)
    ts = builtin
    if utc_as_ut1:
        # A constant Delta T = TT - UTC (32.184 s plus the leap seconds in force) makes UT1 = UTC.
        t0 = builtin.from_datetime(epoch_utc)
        jd_utc = (epoch_utc - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds() / _SECONDS_PER_DAY + 2440587.5
        leap_s = round((t0.tt - jd_utc) * _SECONDS_PER_DAY - 32.184)
        ts = load.timescale(delta_t=32.184 + leap_s)
    e = epoch_utc.astimezone(timezone.utc)
    t = ts.utc(e.year, e.month, e.day, e.hour, e.minute, e.second + e.microsecond * 1e-6 + np.asarray(times_s))
    rotation = mxm(itrs.rotation_at(t), T(TEME.rotation_at(t)))  # [3, 3, S]
    return np.ascontiguousarray(np.moveaxis(rotation, -1, 0))


def _newcomb_rotation(epoch_utc: datetime, times_s: np.ndarray) -> np.ndarray:
    """``[S, 3, 3]`` rotation by XEphem's sidereal time (Newcomb's formula at 0h UT, advanced at
    1.0027379093 sidereal days per day; UTC as UT)."""
    start_days = (epoch_utc - datetime(1899, 12, 31, tzinfo=timezone.utc)) / timedelta(days=1)
    days = start_days + np.asarray(times_s) / _SECONDS_PER_DAY
    day0 = np.floor(days)
    centuries = (day0 - 0.5) / 36525.0
    reference = (6.6460656 + 2400.051262 * centuries + 0.00002581 * centuries**2) / 24.0
    theta = 2.0 * np.pi * ((days - day0) * 1.0027379093 + reference - np.floor(reference))
    c, s = np.cos(theta), np.sin(theta)
    zero, one = np.zeros_like(theta), np.ones_like(theta)
    return np.stack([np.stack([c, s, zero], -1), np.stack([-s, c, zero], -1), np.stack([zero, zero, one], -1)], -2)


def _geoid_sites(radius_m: float, inverse_flattening: float) -> Callable:
    def positions(lat_deg: np.ndarray, lon_deg: np.ndarray, alt_m: np.ndarray) -> np.ndarray:
        from skyfield.toposlib import Geoid

        geoid = Geoid("site ellipsoid", radius_m, inverse_flattening)
        return np.asarray(geoid.latlon(lat_deg, lon_deg, elevation_m=alt_m).itrs_xyz.m).T.reshape(-1, 3)
    return positions


def _xephem_sites(lat_deg: np.ndarray, lon_deg: np.ndarray, alt_m: np.ndarray) -> np.ndarray:
    """XEphem's ``GetSitPosition``: a = 6378.16 km, f = 1/298.25, latitude atan(tan(lat)/(1-f^2))."""
    a, f = 6378160.0, 1.0 / 298.25
    lat = np.arctan(np.tan(np.radians(lat_deg)) / (1.0 - f * f))
    lon = np.radians(lon_deg)
    g1 = a / np.sqrt(1.0 - (2.0 * f - f * f) * np.sin(lat) ** 2)
    g2 = g1 * (1.0 - f) ** 2
    g1, g2 = g1 + alt_m, g2 + alt_m
    return np.stack([g1 * np.cos(lat) * np.cos(lon), g1 * np.cos(lat) * np.sin(lon), g2 * np.sin(lat)], -1)


@dataclass(frozen=True)
class Convention:
    """How sites and satellites are placed in one Earth-fixed frame."""

    help: str
    sites_m: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]  # (lat, lon, alt) -> [G, 3]
    rotation: Callable[[datetime, np.ndarray], np.ndarray]  # (epoch, times_s) -> [S, 3, 3] TEME -> fixed
    satellite_scale: float = 1.0


#: Earth conventions by name (scenario key ``ground.convention``); see the module doc.
CONVENTIONS: dict[str, Convention] = {
    "wgs84-ut1": Convention("WGS84 sites, skyfield TEME -> ITRS with IERS UT1 (physical)",
                            _geoid_sites(6378137.0, 298.257223563),
                            lambda epoch, t: _skyfield_rotation(epoch, t, utc_as_ut1=False)),
    "wgs72-utc": Convention("WGS72 sites, skyfield TEME -> ITRS with UTC as UT1",
                            _geoid_sites(6378135.0, 298.26),
                            lambda epoch, t: _skyfield_rotation(epoch, t, utc_as_ut1=True)),
    "pyephem": Convention("PyEphem's (Hypatia's) distances: XEphem sites and sidereal time, SGP4 radii of "
                          "6378.16 km", _xephem_sites, _newcomb_rotation, satellite_scale=6378.16 / 6378.135),
}


def site_positions_m(convention: str, lat_deg, lon_deg, alt_m) -> np.ndarray:
    """``[G, 3]`` Earth-fixed positions of sites, metres."""
    return CONVENTIONS[convention].sites_m(np.atleast_1d(np.asarray(lat_deg, float)),
                                           np.atleast_1d(np.asarray(lon_deg, float)),
                                           np.atleast_1d(np.asarray(alt_m, float)))


def site_up_vectors(lat_deg, lon_deg) -> np.ndarray:
    """``[G, 3]`` unit normals of the ellipsoid (geodetic up) at the sites."""
    lat, lon = np.radians(np.atleast_1d(lat_deg)), np.radians(np.atleast_1d(lon_deg))
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1)


def satellites_ecef_m(convention: str, positions_teme_m: np.ndarray, epoch_utc: datetime,
                      times_s: np.ndarray) -> np.ndarray:
    """``[S, N, 3]`` satellite positions in the convention's Earth-fixed frame, metres."""
    return rotated_to_fixed_m(convention, teme_to_fixed(convention, epoch_utc, times_s), positions_teme_m)


def teme_to_fixed(convention: str, epoch_utc: datetime, times_s: np.ndarray) -> np.ndarray:
    """``[S, 3, 3]`` the convention's TEME -> Earth-fixed rotation at each snapshot."""
    return CONVENTIONS[convention].rotation(epoch_utc, np.asarray(times_s, dtype=np.float64))


def rotated_to_fixed_m(convention: str, rotation: np.ndarray, positions_teme_m: np.ndarray) -> np.ndarray:
    """``[S, N, 3]`` positions ``[S, N, 3]`` turned by ``rotation`` ``[S, 3, 3]`` (:func:`teme_to_fixed`)
    and scaled as the convention does: any block of snapshots gives the rows of the whole
    (elementwise sums of three products), so a long run can go block by block."""
    c = CONVENTIONS[convention]
    fixed = np.einsum("sij,snj->sni", rotation, positions_teme_m)
    return fixed * c.satellite_scale if c.satellite_scale != 1.0 else fixed


def slant_range_m(satellites_m: np.ndarray, site_m: np.ndarray) -> np.ndarray:
    """``[S, N]`` distance from one site (``[3]``) to every satellite (``[S, N, 3]``), metres."""
    d = satellites_m - site_m
    return np.sqrt(np.einsum("...i,...i->...", d, d))


def elevation_rad(satellites_m: np.ndarray, site_m: np.ndarray, up: np.ndarray) -> np.ndarray:
    """``[S, N]`` elevation of every satellite above one site's horizon plane (normal ``up``), radians."""
    d = satellites_m - site_m
    return np.arcsin(np.clip(np.einsum("...i,i->...", d, up) / slant_range_m(satellites_m, site_m), -1.0, 1.0))


assert tuple(CONVENTIONS) == GROUND_CONVENTIONS, "the schema's names (harness/names.py) and the registry must agree"
