"""Sunlight: which satellites the Sun lights at every snapshot.

The test is skyfield's own :meth:`skyfield.positionlib.ICRF.is_sunlit`, applied to every satellite
at once: a satellite is sunlit unless the straight line from it to the Sun's centre passes through
the Earth, a sphere of skyfield's radius ``ERAD`` (6378136.6 m, IERS 2010). The Sun is where the
JPL ephemeris DE421 puts it (geometric, Earth-centred, GCRS), and the satellites are brought from
SGP4's TEME frame into GCRS with skyfield's ``TEME.rotation_at``, exactly as
``EarthSatellite.at(t)`` does. The ephemeris is the copy the ``skyfield-data`` package ships
(``skyfield_data/data/de421.bsp``, 1900 to 2050): nothing is downloaded at run time.

Why skyfield's test and not a separate cylinder or cone model: a user who checks a flag with
skyfield (``sat.at(t).is_sunlit(eph)``) should get the same answer, and the harness should not
hold a second, slightly different Earth shadow. The geometry is the same as a cylindrical shadow to
within the Sun's parallax (the line aims at the Sun's centre 150 million km away, not along a
fixed direction: under 2 m of shadow edge at LEO) and it ignores the penumbra (the Sun is a point:
a satellite at 550 km crosses the penumbra in about 8 s) and the atmosphere. What is vectorised:
the Sun's position and the TEME -> GCRS rotation are computed once per snapshot (one skyfield call
each, over all snapshots), and the line-sphere test runs on the whole ``[snapshots, satellites]``
array with numpy; there is no Python loop over satellites or snapshots. 1,584 satellites x 200
snapshots take 0.10 to 0.15 s (0.18 s with the first read of the ephemeris; ``docs/sunlight.md``),
against 1.5 s for ``EarthSatellite.at(t).is_sunlit`` called once per satellite, and the flags are
the same.

Example::

    >>> flags = sunlit(constellation, epoch_utc)       # [snapshots, satellites] bool
    >>> flags.mean(axis=0)                              # each satellite's sunlit share
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources

import numpy as np

from harness.constellation.walker import Constellation

__all__ = ["EPHEMERIS_FILE", "sun_gcrs_m", "sunlit"]

#: The JPL ephemeris used, as shipped inside the skyfield-data package (no download).
EPHEMERIS_FILE = "de421.bsp"


@lru_cache(maxsize=1)
def _ephemeris():
    """DE421 from the skyfield-data package (read once per process; a read-only kernel)."""
    from skyfield.api import load_file

    # importlib.resources, not skyfield_data.get_skyfield_data_path(): that call warns about the
    # package's Earth-orientation file, which is not used here (UT1 comes from skyfield's own table).
    path = resources.files("skyfield_data") / "data" / EPHEMERIS_FILE
    return load_file(str(path))


def _times(epoch_utc: datetime, times_s: np.ndarray):
    """skyfield Time array of ``epoch_utc + times_s`` (UTC, skyfield's built-in tables)."""
    from skyfield.api import load

    assert isinstance(epoch_utc, datetime) and epoch_utc.utcoffset() is not None, epoch_utc
    e = epoch_utc.astimezone(timezone.utc)
    ts = load.timescale(builtin=True)
    return ts.utc(e.year, e.month, e.day, e.hour, e.minute,
                  e.second + e.microsecond * 1e-6 + np.asarray(times_s, dtype=np.float64))


def sun_gcrs_m(epoch_utc: datetime, times_s: np.ndarray) -> np.ndarray:
    """``[S, 3]`` the Sun's geometric position from the Earth's centre (GCRS, DE421), metres."""
    eph = _ephemeris()
    t = _times(epoch_utc, np.atleast_1d(times_s))
    return np.ascontiguousarray(np.asarray((eph["sun"] - eph["earth"]).at(t).xyz.m).T)


def sunlit(constellation: Constellation, epoch_utc: datetime) -> np.ndarray:
    """``[S, N]`` bool: whether satellite ``n`` is in sunlight at snapshot ``s``.

    ``epoch_utc`` (timezone-aware) is the instant of ``times_s = 0``, the epoch the constellation
    was propagated from. The test is skyfield's ``is_sunlit`` (see the module doc): the line from
    the satellite to the Sun's centre misses the Earth's sphere of radius 6378136.6 m, or meets it
    only behind the satellite.
    """
    from skyfield.constants import ERAD
    from skyfield.functions import T
    from skyfield.sgp4lib import TEME

    if not np.isfinite(constellation.positions_m).all():
        # prepare() lets the positions go (NaN stand-ins) once it has read them: NaN would read as lit.
        raise ValueError("sunlit needs the satellites' positions; these are NaN (a prepared run's released "
                         "positions?): build the constellation again (harness.run.steps.build_constellation)")
    t = _times(epoch_utc, constellation.times_s)
    eph = _ephemeris()
    sun_m = np.asarray((eph["sun"] - eph["earth"]).at(t).xyz.m).T[:, None, :]  # [S, 1, 3]
    to_gcrs = np.moveaxis(np.asarray(T(TEME.rotation_at(t))).reshape(3, 3, -1), -1, 0)  # [S, 3, 3]
    earth_m = -np.einsum("sij,snj->sni", to_gcrs, constellation.positions_m)  # the Earth seen from each satellite
    # skyfield.geometry.intersect_line_and_sphere(sun_m + earth_m, earth_m, ERAD), on [S, N] at once:
    # the distances along the line toward the Sun at which it enters and leaves the sphere.
    line = sun_m + earth_m
    unit = line / np.sqrt(np.einsum("sni,sni->sn", line, line))[..., None]
    minus_b = 2.0 * np.einsum("sni,sni->sn", unit, earth_m)
    c = np.einsum("sni,sni->sn", earth_m, earth_m) - ERAD * ERAD
    discriminant = minus_b * minus_b - 4.0 * c
    with np.errstate(invalid="ignore"):
        far = (minus_b + np.sqrt(discriminant)) / 2.0  # nan: the line misses the Earth
    return np.nan_to_num(far) <= 0.0

