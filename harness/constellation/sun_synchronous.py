"""Sun-synchronous circular orbits: the inclination at which J2 turns a plane with the mean Sun,
and the ascending node that gives a local time of the ascending node (LTAN).

The Earth's oblateness (J2) turns a circular orbit's plane about the polar axis at

    dOmega/dt = -(3/2) * J2 * (R / a)^2 * n * cos(i)

(Vallado, *Fundamentals of Astrodynamics and Applications*, 4th ed., eq. 9-41 with e = 0), ``n`` the
mean motion. A plane is sun-synchronous when that rate equals the mean Sun's, one turn eastward per
tropical year, so ``cos(i) = -(2/3) * rate / (J2 * (R/a)^2 * n)``; above about 5,974 km no
inclination is slow enough (``cos(i) < -1``). Its local time of the ascending node then stays put:
the node sits ``(LTAN - 12 h) * 15 deg`` east of the mean Sun's right ascension.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from harness.constellation.walker import EARTH_RADIUS_KM, MU_EARTH_KM3_S2

__all__ = ["J2_EARTH", "SUN_SYNCHRONOUS_NODE_RATE_DEG_DAY", "TROPICAL_YEAR_DAYS", "mean_sun_right_ascension_deg",
           "sun_synchronous_cos_inclination", "sun_synchronous_inclination_deg", "sun_synchronous_raan_deg"]

#: The Earth's second zonal harmonic J2 (unnormalised), WGS84 / EGM96 (NIMA TR8350.2, 3rd ed., table 3.1:
#: C2,0 = -484.16685e-6 normalised, i.e. J2 = 1.08262668e-3).
J2_EARTH = 1.08262668e-3
#: Mean tropical year, days (Astronomical Almanac; 365.24219 d at J2000).
TROPICAL_YEAR_DAYS = 365.2422
#: The nodal rate of a sun-synchronous plane: 360 deg per tropical year, eastward (~0.98565 deg/day).
SUN_SYNCHRONOUS_NODE_RATE_DEG_DAY = 360.0 / TROPICAL_YEAR_DAYS

_J2000_UTC = datetime(2000, 1, 1, 12, tzinfo=timezone.utc)


def sun_synchronous_cos_inclination(altitude_km: float) -> float:
    """cos(i) of the sun-synchronous circular orbit at ``altitude_km`` (above :data:`EARTH_RADIUS_KM`);
    below -1 where none exists. Keplerian mean motion from :data:`MU_EARTH_KM3_S2`."""
    a_km = EARTH_RADIUS_KM + float(altitude_km)
    n_rad_s = math.sqrt(MU_EARTH_KM3_S2 / a_km**3)
    rate_rad_s = math.radians(SUN_SYNCHRONOUS_NODE_RATE_DEG_DAY) / 86_400.0
    return -(2.0 / 3.0) * rate_rad_s / (J2_EARTH * (EARTH_RADIUS_KM / a_km) ** 2 * n_rad_s)


def sun_synchronous_inclination_deg(altitude_km: float) -> float:
    """Inclination (deg, retrograde: > 90) of the sun-synchronous circular orbit at ``altitude_km``.

    >>> round(sun_synchronous_inclination_deg(550.0), 2)
    97.59

    Raises:
        ValueError: no sun-synchronous orbit exists at that altitude (the scenario schema refuses
            it first, naming the key).
    """
    cos_i = sun_synchronous_cos_inclination(altitude_km)
    if cos_i < -1.0:
        raise ValueError(f"no sun-synchronous circular orbit at {altitude_km:g} km (cos i = {cos_i:.4f} < -1)")
    return math.degrees(math.acos(cos_i))


def mean_sun_right_ascension_deg(instant_utc: datetime) -> float:
    """Right ascension of the mean Sun at ``instant_utc`` (timezone-aware), degrees in [0, 360).

    The mean Sun moves along the equator at a uniform rate; its right ascension is the Sun's mean
    longitude ``L = 280.460 + 0.9856474 d`` deg, ``d`` days from J2000.0 (the Astronomical Almanac's
    low-precision solar coordinates, section C5; good to about 0.01 deg from 1950 to 2050).
    """
    days = (instant_utc.astimezone(timezone.utc) - _J2000_UTC) / timedelta(days=1)
    return (280.460 + 0.9856474 * days) % 360.0


def sun_synchronous_raan_deg(ltan_h: float, epoch_utc: datetime) -> float:
    """RAAN (deg, in [0, 360)) at ``epoch_utc`` of a plane whose local time of the ascending node is
    ``ltan_h`` hours (6.0: dawn-dusk, ascending at dawn; 18.0: dusk-dawn; 12.0: noon-midnight)."""
    return (mean_sun_right_ascension_deg(epoch_utc) + (float(ltan_h) - 12.0) * 15.0) % 360.0
