"""Walker constellations propagated with SGP4.

A Walker constellation ``i: T/P/F`` has ``P`` equally spaced orbital planes
of ``S = T/P`` satellites each, all on circular orbits at the same altitude
and inclination.  Adjacent planes are offset in phase by ``F * 360/T``
degrees.  This module turns such a description into satellite states
(position and velocity in the TEME frame, SGP4's native output frame) at
a series of evenly spaced snapshot times.

Satellites are numbered plane-major: satellite ``n = p * S + s`` is slot
``s`` of plane ``p``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

import numpy as np
from sgp4.api import WGS72, Satrec, SatrecArray

__all__ = [
    "EARTH_RADIUS_KM",
    "MU_EARTH_KM3_S2",
    "SPEED_OF_LIGHT_M_S",
    "WALKER_KINDS",
    "Constellation",
    "orbital_period_s",
    "walker_constellation",
    "walker_satrecs",
]

logger = logging.getLogger(__name__)

#: Speed of light in vacuum, m/s (exact by SI definition).
SPEED_OF_LIGHT_M_S = 299_792_458.0
#: Earth equatorial radius, km (WGS84).
EARTH_RADIUS_KM = 6378.137
#: Earth gravitational parameter GM, km^3/s^2 (WGS84).
MU_EARTH_KM3_S2 = 398600.4418

#: Constellation kinds understood by :func:`walker_constellation`, mapped to
#: the arc (deg) over which the ascending nodes of the planes are spread.
#: A delta constellation spreads its planes over the whole equator; a star
#: constellation (near-polar orbits) over half of it, so that its first and
#: last planes are adjacent but counter-rotating.
WALKER_KINDS = {"walker-delta": 360.0, "walker-star": 180.0}

_SECONDS_PER_DAY = 86_400.0
#: Snapshots per block of :func:`walker_constellation`'s propagation (bounds its temporaries).
_SNAPSHOT_BLOCK = 256
_MINUTES_PER_DAY = 1_440.0
# SGP4 counts its epoch in days since 1949 December 31 00:00 UTC.
_SGP4_EPOCH_ZERO_UTC = datetime(1949, 12, 31, tzinfo=timezone.utc)
# SGP4 stores the catalogue number in Alpha-5, whose largest value is 339999.
# The number is only a label here, so it is wrapped into the legal range.
_MAX_SATNUM = 339_999


@dataclass(frozen=True)
class Constellation:
    """Satellite states over the snapshots.

    Satellite ``n`` is slot ``slot_of[n]`` of plane ``plane_of[n]``, with
    ``n = plane * sats_per_plane + slot`` for a Walker shell (a TLE constellation,
    :mod:`harness.constellation.tle`, keeps the file's order).  Arrays are meant to be treated
    as read-only.

    Attributes:
        planes: number of orbital planes ``P``.
        sats_per_plane: satellites per plane ``S``.
        times_s: ``[S_t]`` float64, snapshot times in seconds since the epoch.
        positions_m: ``[S_t, N, 3]`` float64, positions in the TEME frame
            (SGP4's output frame), metres.
        velocities_m_s: ``[S_t, N, 3]`` float64, velocities in TEME, m/s.
        plane_of: ``[N]`` int32, plane index of each satellite.
        slot_of: ``[N]`` int32, slot index of each satellite inside its plane.
        arg_latitude_rad: ``[N]`` float64, argument of latitude of the mean
            elements at the epoch, radians in ``[0, 2*pi)``.
    """

    planes: int
    sats_per_plane: int
    times_s: np.ndarray
    positions_m: np.ndarray
    velocities_m_s: np.ndarray
    plane_of: np.ndarray
    slot_of: np.ndarray
    arg_latitude_rad: np.ndarray
    total: Optional[int] = None  # satellites when planes differ in size (TLE files); None: P x S

    @property
    def num_satellites(self) -> int:
        """Total number of satellites: ``planes * sats_per_plane`` for a Walker shell."""
        return self.planes * self.sats_per_plane if self.total is None else self.total

    @property
    def num_snapshots(self) -> int:
        """Number of snapshot times."""
        return int(self.times_s.shape[0])


def orbital_period_s(altitude_km: float) -> float:
    """Keplerian period, in seconds, of a circular orbit at ``altitude_km``.

    Uses ``T = 2*pi*sqrt(a^3 / mu)`` with ``a = EARTH_RADIUS_KM + altitude_km``
    and :data:`MU_EARTH_KM3_S2`; perturbations such as J2 are ignored.

    Raises:
        ValueError: if the orbit radius would not be positive.
    """
    semi_major_axis_km = EARTH_RADIUS_KM + float(altitude_km)
    if not semi_major_axis_km > 0.0:
        raise ValueError(
            f"altitude_km={altitude_km!r} gives a non-positive orbit radius")
    return 2.0 * math.pi * math.sqrt(semi_major_axis_km**3 / MU_EARTH_KM3_S2)


def _sgp4_epoch_days(epoch_utc: datetime) -> float:
    """Days since 1949-12-31 00:00 UTC, the epoch convention of ``sgp4init``.

    Python datetimes ignore leap seconds, as does SGP4's UTC-based Julian
    date, so plain datetime arithmetic is the matching convention.
    """
    elapsed = epoch_utc.astimezone(timezone.utc) - _SGP4_EPOCH_ZERO_UTC
    # Sum the integer parts exactly before dividing, so microseconds survive.
    return elapsed.days + (elapsed.seconds + elapsed.microseconds * 1e-6) / _SECONDS_PER_DAY


def walker_shape(kind: str, planes: int, sats_per_plane: int, phasing: int) -> tuple[int, int, int]:
    """A Walker pattern's (P, S, F) as ints. The rules (kind, P, S >= 1, F in [0, P-1]) are the
    scenario schema's (harness/scenario.py); here they are only asserted."""
    assert kind in WALKER_KINDS, kind
    assert all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (planes, sats_per_plane, phasing))
    assert planes >= 1 and sats_per_plane >= 1 and 0 <= phasing <= planes - 1, (planes, sats_per_plane, phasing)
    return int(planes), int(sats_per_plane), int(phasing)


def walker_satrecs(*, kind: str, planes: int, sats_per_plane: int, phasing: int, altitude_km: float,
                   inclination_deg: float, epoch_utc: datetime, raan0_deg: float = 0.0,
                   raan_spread_deg: Optional[float] = None) -> tuple[list[Satrec], np.ndarray, np.ndarray, np.ndarray]:
    """The SGP4 records of a Walker shell (see :func:`walker_constellation` for the elements), with
    each satellite's plane, slot and argument of latitude at the epoch. Tests hand them to
    skyfield's ``EarthSatellite.from_satrec`` to check what the harness derives from them."""
    planes, sats_per_plane, phasing = walker_shape(kind, planes, sats_per_plane, phasing)
    total = planes * sats_per_plane
    sat_ids = np.arange(total)
    plane_of = (sat_ids // sats_per_plane).astype(np.int32)
    slot_of = (sat_ids % sats_per_plane).astype(np.int32)

    spread_deg = WALKER_KINDS[kind] if raan_spread_deg is None else float(raan_spread_deg)
    # With raan0_deg 0.0 (the default) the sum and the modulo are exact: the RAANs, and so the traces,
    # stay bit for bit what they were before these two arguments.
    raan_rad = np.radians((float(raan0_deg) + plane_of * (spread_deg / planes)) % 360.0)
    # Work in fractions of a turn before converting, so that exact slot
    # positions (e.g. a quarter turn) are not blurred by degree round-off.
    phase_turns = np.mod(slot_of / sats_per_plane + plane_of * phasing / total, 1.0)
    arg_latitude_rad = 2.0 * np.pi * phase_turns
    inclination_rad = math.radians(inclination_deg)
    period_s = orbital_period_s(altitude_km)
    mean_motion_rad_min = 2.0 * math.pi / (period_s / 60.0)
    epoch_days = _sgp4_epoch_days(epoch_utc)

    satrecs = []
    for n in range(total):
        satrec = Satrec()
        satrec.sgp4init(
            WGS72, "i", n % _MAX_SATNUM + 1, epoch_days,
            0.0,  # bstar: no drag
            0.0, 0.0,  # ndot, nddot: ignored by SGP4, kept zero
            0.0,  # eccentricity: circular orbit
            0.0,  # argument of perigee
            inclination_rad,
            float(arg_latitude_rad[n]),  # mean anomaly == arg. of latitude when e = 0
            mean_motion_rad_min,
            float(raan_rad[n]),
        )
        satrecs.append(satrec)

    return satrecs, plane_of, slot_of, arg_latitude_rad


def walker_constellation(
    *,
    kind: str,
    planes: int,
    sats_per_plane: int,
    phasing: int,
    altitude_km: float,
    inclination_deg: float,
    epoch_utc: datetime,
    snapshot_count: int,
    snapshot_interval_s: float,
    raan0_deg: float = 0.0,
    raan_spread_deg: Optional[float] = None,
) -> Constellation:
    """Propagate a Walker constellation with SGP4 over evenly spaced snapshots.

    Plane ``p`` has its ascending node (RAAN) at ``raan0_deg + p * spread/P`` deg, the spread
    360 deg for ``kind="walker-delta"`` and 180 deg for ``kind="walker-star"`` unless
    ``raan_spread_deg`` is given (e.g. a sun-synchronous shell kept near the terminator).
    Slot ``s`` of plane ``p`` starts at mean anomaly
    ``s * 360/S + p * F * 360/T`` deg, with ``T = P*S`` and ``F = phasing``.
    Orbits are circular (eccentricity 0, argument of perigee 0), so the
    mean anomaly is also the argument of latitude.  The mean motion is the
    Keplerian one for ``altitude_km`` (see :func:`orbital_period_s`), drag
    terms are zero, and SGP4 runs with WGS72 constants in improved mode.

    Args:
        kind: ``"walker-delta"`` or ``"walker-star"``.
        planes: number of planes ``P >= 1``.
        sats_per_plane: satellites per plane ``S >= 1``.
        phasing: Walker phasing factor ``F`` in ``[0, P-1]``.
        altitude_km: orbit altitude above :data:`EARTH_RADIUS_KM`, km (> 0).
        inclination_deg: inclination, degrees in ``[0, 180]``.
        epoch_utc: timezone-aware epoch of the elements and of ``times_s = 0``.
        snapshot_count: number of snapshots (>= 1).
        snapshot_interval_s: spacing of the snapshots, seconds (> 0).
        raan0_deg: RAAN of plane 0, degrees (0: the default; a sun-synchronous shell's comes from
            its local time of the ascending node, :mod:`harness.constellation.sun_synchronous`).
        raan_spread_deg: arc over which the planes' nodes are spread, degrees (None: the kind's).

    Returns:
        The :class:`Constellation` at ``times_s = arange(snapshot_count) *
        snapshot_interval_s``.

    The arguments' rules are the scenario schema's (harness/scenario.py checks them once, with
    errors that name the key); here they are only asserted.

    Raises:
        ValueError: if SGP4 reports an error for any satellite at any
            snapshot (e.g. an orbit that decays).
    """
    planes, sats_per_plane, phasing = walker_shape(kind, planes, sats_per_plane, phasing)
    assert altitude_km > 0.0 and 0.0 <= inclination_deg <= 180.0, (altitude_km, inclination_deg)
    # A naive datetime is ambiguous (local time? UTC?); the schema always gives an aware one.
    assert isinstance(epoch_utc, datetime) and epoch_utc.utcoffset() is not None, epoch_utc
    assert isinstance(snapshot_count, (int, np.integer)) and not isinstance(snapshot_count, bool), snapshot_count
    assert snapshot_count >= 1 and 0.0 < snapshot_interval_s < math.inf, (snapshot_count, snapshot_interval_s)

    satrecs, plane_of, slot_of, arg_latitude_rad = walker_satrecs(
        kind=kind, planes=planes, sats_per_plane=sats_per_plane, phasing=phasing, altitude_km=altitude_km,
        inclination_deg=inclination_deg, epoch_utc=epoch_utc, raan0_deg=raan0_deg, raan_spread_deg=raan_spread_deg)
    total = len(satrecs)

    times_s = np.arange(snapshot_count, dtype=np.float64) * snapshot_interval_s
    # Propagate relative to the epoch exactly as sgp4init stored it, so that
    # times_s == 0 is the instant the elements refer to.
    jd_whole = np.full(snapshot_count, satrecs[0].jdsatepoch)
    jd_fraction = satrecs[0].jdsatepochF + times_s / _SECONDS_PER_DAY
    # In blocks of snapshots, straight into the snapshot-major arrays: SGP4 works on each (satellite,
    # time) pair alone and the km -> m scaling is elementwise, so the values are those of one call
    # for all snapshots, without its [N, S, 3] km arrays and their transposed copies (about 4x the
    # positions and velocities at once on a long run).
    array = SatrecArray(satrecs)
    errors = np.zeros((total, snapshot_count), dtype=np.uint8)
    positions_m = np.empty((snapshot_count, total, 3))
    velocities_m_s = np.empty((snapshot_count, total, 3))
    for first in range(0, snapshot_count, _SNAPSHOT_BLOCK):
        block = slice(first, min(snapshot_count, first + _SNAPSHOT_BLOCK))
        errors[:, block], positions_km, velocities_km_s = array.sgp4(jd_whole[block], jd_fraction[block])
        # sgp4 returns [N, S_t, 3]; snapshot-major suits per-snapshot consumers.
        positions_m[block] = positions_km.transpose(1, 0, 2) * 1e3
        velocities_m_s[block] = velocities_km_s.transpose(1, 0, 2) * 1e3
        del positions_km, velocities_km_s

    if np.any(errors):
        sat, snap = np.argwhere(errors)[0]
        raise ValueError(
            f"SGP4 error code {int(errors[sat, snap])} for satellite {int(sat)} "
            f"(plane {int(plane_of[sat])}, slot {int(slot_of[sat])}) at "
            f"t = {times_s[snap]:g} s; {int(np.count_nonzero(errors))} "
            f"satellite-snapshot pairs failed in total")

    logger.debug("propagated %d satellites over %d snapshots", total, snapshot_count)

    return Constellation(
        planes=planes,
        sats_per_plane=sats_per_plane,
        times_s=times_s,
        positions_m=positions_m,
        velocities_m_s=velocities_m_s,
        plane_of=plane_of,
        slot_of=slot_of,
        arg_latitude_rad=arg_latitude_rad,
    )


def subsatellite_points_deg(constellation: Constellation, epoch_utc: datetime,
                            snapshot: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Geocentric latitude and Earth-fixed longitude (degrees) of every satellite at a snapshot.

    TEME's z axis is the Earth's rotation axis (to polar motion), so latitude is asin(z / r) and
    the longitude is the TEME right ascension less the Greenwich mean sidereal angle at that
    instant (skyfield's GMST, built-in time scale: nothing is downloaded). For maps, not navigation.
    """
    from datetime import timedelta

    from skyfield.api import load

    instant = epoch_utc + timedelta(seconds=float(constellation.times_s[snapshot]))
    gmst_hours = load.timescale(builtin=True).from_datetime(instant).gmst
    x, y, z = np.moveaxis(constellation.positions_m[snapshot], -1, 0)
    lat = np.degrees(np.arcsin(z / np.sqrt(x * x + y * y + z * z)))
    lon = np.degrees(np.arctan2(y, x)) - gmst_hours * 15.0
    return lat, (lon + 180.0) % 360.0 - 180.0


def subsatellite_tracks_deg(constellation: Constellation, epoch_utc: datetime,
                            snapshots: slice | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``[S, N]`` latitude and longitude (degrees) of every satellite at every snapshot: the same
    arithmetic as :func:`subsatellite_points_deg`, for all snapshots at once (one time-scale call:
    the sidereal angles agree with the one-snapshot form to float rounding). With ``snapshots``,
    only those rows (the same values as theirs of the whole: elementwise arithmetic)."""
    from skyfield.api import load

    scale = load.timescale(builtin=True)
    e = epoch_utc
    seconds = e.second + e.microsecond * 1e-6 + np.asarray(constellation.times_s, dtype=np.float64)
    gmst_hours = np.asarray(scale.utc(e.year, e.month, e.day, e.hour, e.minute, seconds).gmst, dtype=np.float64)
    positions = constellation.positions_m
    if snapshots is not None:
        gmst_hours, positions = gmst_hours[snapshots], positions[snapshots]
    x, y, z = np.moveaxis(positions, -1, 0)
    lat = np.degrees(np.arcsin(z / np.sqrt(x * x + y * y + z * z)))
    lon = np.degrees(np.arctan2(y, x)) - gmst_hours[:, None] * 15.0
    return lat, (lon + 180.0) % 360.0 - 180.0
