"""Ground geometry (harness/network/ground): slant range against the law of cosines, one visibility window
against skyfield's own pass finder, the GSL rules and the Earth conventions."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from harness.constellation.walker import walker_constellation
from harness.network.ground import CONVENTIONS, GSL_RULES, gsl_candidates
from harness.network.ground.geometry import (elevation_rad, satellites_ecef_m, site_positions_m, site_up_vectors,
                                             slant_range_m)
from harness.names import GROUND_CONVENTIONS, GSL_RULE_NAMES

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
WGS84_A_M = 6378137.0


def _shell(count: int, interval_s: float):
    return walker_constellation(kind="walker-delta", planes=10, sats_per_plane=10, phasing=1, altitude_km=550.0,
                                inclination_deg=53.0, epoch_utc=EPOCH, snapshot_count=count,
                                snapshot_interval_s=interval_s)


def test_slant_range_is_the_law_of_cosines_from_elevation():
    """d = sqrt((R+h)^2 - (R cos e)^2) - R sin e for a site on the equator (where the ellipsoid's
    normal is radial and its radius is a), for every satellite above the horizon over 20 snapshots."""
    shell = _shell(20, 30.0)
    sats = satellites_ecef_m("wgs84-ut1", shell.positions_m, EPOCH, shell.times_s)
    for lon in (0.0, 77.0, -150.0):
        site = site_positions_m("wgs84-ut1", 0.0, lon, 0.0)[0]
        assert abs(np.linalg.norm(site) - WGS84_A_M) < 1e-6
        up = site_up_vectors(0.0, lon)[0]
        e = elevation_rad(sats, site, up)
        d = slant_range_m(sats, site)
        visible = e > 0
        assert visible.sum() > 20
        r = np.linalg.norm(sats, axis=-1)  # R + h
        law = np.sqrt(r**2 - (WGS84_A_M * np.cos(e)) ** 2) - WGS84_A_M * np.sin(e)
        # float64 on ~7000 km vectors: well under a millimetre.
        assert np.abs(d - law)[visible].max() < 1e-3


def test_visibility_window_matches_skyfield_find_events():
    """One satellite over one site: the first and last snapshot at or above 25 deg are within one
    snapshot interval of skyfield's EarthSatellite.find_events rise and set at 25 deg."""
    from sgp4.api import WGS72, Satrec
    from skyfield.api import EarthSatellite, load, wgs84

    from harness.formats.tle import export_tle

    interval_s, count = 5.0, 240  # 20 minutes
    shell = _shell(count, interval_s)
    # The same satellite as a TLE for skyfield: satellite 0 of the shell (sgp4init with the shell's elements).
    from harness.constellation.walker import _sgp4_epoch_days, orbital_period_s

    sat = Satrec()
    sat.sgp4init(WGS72, "i", 1, _sgp4_epoch_days(EPOCH), 0, 0, 0, 0.0, 0.0, math.radians(53.0), 0.0,
                 2 * math.pi / (orbital_period_s(550.0) / 60), 0.0)
    ts = load.timescale(builtin=True)
    skysat = EarthSatellite.from_satrec(sat, ts)
    line1, line2 = export_tle(sat)
    assert line1 and line2
    # A site 3 deg off the ground track 6 minutes in: one pass inside the window.
    t_mid = ts.from_datetime(EPOCH + timedelta(minutes=6))
    sub = wgs84.subpoint_of(skysat.at(t_mid))
    lat, lon = sub.latitude.degrees + 3.0, sub.longitude.degrees
    t0, t1 = ts.from_datetime(EPOCH), ts.from_datetime(EPOCH + timedelta(seconds=(count - 1) * interval_s))
    times, events = skysat.find_events(wgs84.latlon(lat, lon), t0, t1, altitude_degrees=25.0)
    assert list(events) == [0, 1, 2]
    rise_s, set_s = [(t.utc_datetime() - EPOCH).total_seconds() for t in (times[0], times[2])]

    sats = satellites_ecef_m("wgs84-ut1", shell.positions_m[:, :1], EPOCH, shell.times_s)
    site = site_positions_m("wgs84-ut1", lat, lon, 0.0)[0]
    e = elevation_rad(sats, site, site_up_vectors(lat, lon)[0])[:, 0]
    visible = np.flatnonzero(e >= math.radians(25.0))
    assert len(visible) and np.all(np.diff(visible) == 1)  # one window
    first_s, last_s = shell.times_s[visible[0]], shell.times_s[visible[-1]]
    assert rise_s <= first_s < rise_s + interval_s
    assert set_s - interval_s < last_s <= set_s


def test_gsl_rules():
    range_m = np.array([[1000e3, 900e3, 2000e3], [1300e3, 1250e3, 1100e3]])
    elevation = np.radians([[20.0, 40.0, 5.0], [10.0, 24.0, 26.0]])
    best = gsl_candidates("min_elevation", range_m, elevation, min_elevation_deg=25.0)
    np.testing.assert_array_equal(best, [[False, True, False], [False, False, True]])
    none = gsl_candidates("min_elevation", range_m, elevation, min_elevation_deg=45.0)
    assert not none.any()  # a coverage gap, never a fallback
    within = gsl_candidates("max_length", range_m, elevation, max_gsl_length_m=1260e3)
    np.testing.assert_array_equal(within, [[True, True, False], [False, True, True]])


def test_registries_match_the_schema_names():
    assert tuple(CONVENTIONS) == GROUND_CONVENTIONS and tuple(GSL_RULES) == GSL_RULE_NAMES


@pytest.mark.parametrize("convention", GROUND_CONVENTIONS)
def test_conventions_agree_to_tens_of_metres(convention):
    """The three Earth conventions place a site and satellites within ~100 m of the physical one
    (they differ by UT1 - UTC, the ellipsoid and PyEphem's radius scaling): the slant range to every
    satellite within 2000 km agrees to 100 m."""
    shell = _shell(3, 60.0)
    ranges = {}
    for name in ("wgs84-ut1", convention):
        sats = satellites_ecef_m(name, shell.positions_m, EPOCH, shell.times_s)
        ranges[name] = slant_range_m(sats, site_positions_m(name, 45.0, 10.0, 0.0)[0])
    near = ranges["wgs84-ut1"] < 2000e3
    assert near.sum() > 5
    assert np.abs(ranges[convention] - ranges["wgs84-ut1"])[near].max() < 100.0
