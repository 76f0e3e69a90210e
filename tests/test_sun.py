"""Sunlight (harness/constellation/sun.py) and sun-synchronous shells
(harness/constellation/sun_synchronous.py) against references computed here, not by the code under
test: the eclipse fraction of the cylindrical shadow from the beta angle, with the Sun from the
Astronomical Almanac's low-precision formula and the orbit plane from the satellite's own r x v;
skyfield's ``EarthSatellite.at(t).is_sunlit`` for every satellite of a 1,584-satellite shell; the
published sun-synchronous inclination at 550 km and the Sun's mean motion. Also the scenario keys'
bad inputs, and tiny.yaml's traces unchanged by the new keys' defaults."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from harness.constellation.walker import EARTH_RADIUS_KM, orbital_period_s, walker_constellation, walker_satrecs
from harness.constellation.sun import sunlit
from harness.constellation.sun_synchronous import (SUN_SYNCHRONOUS_NODE_RATE_DEG_DAY, sun_synchronous_inclination_deg,
                                                   sun_synchronous_raan_deg)
from harness.run.steps import build_constellation
from harness.scenario import load_scenario
from harness.scenario.constellation import SnapshotSpec

REPO = Path(__file__).resolve().parents[1]

# The eclipse fraction of one orbit from the flags may differ from the closed form by at most 1 % of
# the orbit (the bound). What it absorbs: the snapshot spacing (10 s of a 5,739 s orbit:
# 0.2 % at each of the two crossings), the Sun's parallax and the point-Sun edge (under 0.01 %), SGP4's
# +-7 km radius oscillation against the mean altitude used in the formula (about 0.1 %), and the
# Almanac Sun's 0.01 deg.
ECLIPSE_FRACTION_TOLERANCE = 0.01
ECLIPSE_SNAPSHOT_S = 10.0
# The sun-synchronous inclination commonly quoted for 550 km, 97.6 deg, to 0.05 deg; and the highest
# circular SSO, where cos i reaches -1: a semi-major axis of 12,352 km (Wikipedia, "Sun-synchronous orbit",
# from the same first-order J2 rate), to 5 km (the radius and J2 it took are not stated to more digits).
SSO_INCLINATION_550_KM_DEG = 97.6
SSO_INCLINATION_TOLERANCE_DEG = 0.05
SSO_LIMIT_SEMI_MAJOR_AXIS_KM = 12_352.0
SSO_LIMIT_TOLERANCE_KM = 5.0
# SGP4's secular node rate carries J2^2 and J4 terms and takes the mean motion as Kozai's, where the
# preset solves the first-order J2 formula: the propagated plane turns 0.17 % slower than 360 deg per
# tropical year (measured: 0.98400 against 0.98565 deg/day, 0.6 deg of LTAN a year). 0.3 % bounds it.
NODE_RATE_REL_TOLERANCE = 3e-3
# The flags against skyfield's per-satellite is_sunlit: the bound.
SKYFIELD_AGREEMENT_MIN = 0.999


def almanac_sun_unit(instant: datetime) -> np.ndarray:
    """The Sun's direction, equatorial frame of date, from the Astronomical Almanac's low-precision
    solar coordinates (section C5; 0.01 deg from 1950 to 2050): independent of skyfield and DE421."""
    n = (instant - datetime(2000, 1, 1, 12, tzinfo=timezone.utc)) / timedelta(days=1)
    mean_longitude = 280.460 + 0.9856474 * n
    g = math.radians(357.528 + 0.9856003 * n)
    ecliptic_longitude = math.radians(mean_longitude + 1.915 * math.sin(g) + 0.020 * math.sin(2 * g))
    obliquity = math.radians(23.439 - 0.0000004 * n)
    return np.array([math.cos(ecliptic_longitude), math.cos(obliquity) * math.sin(ecliptic_longitude),
                     math.sin(obliquity) * math.sin(ecliptic_longitude)])


def cylinder_eclipse_fraction(beta_rad: float, altitude_km: float) -> float:
    """Share of a circular orbit in a cylindrical Earth shadow (e.g. Vallado, 4th ed., sec. 5.3):
    (1/pi) arccos(sqrt(h^2 + 2 R h) / ((R + h) cos beta)) when |beta| < asin(R / (R + h)), else 0."""
    r, h = EARTH_RADIUS_KM, altitude_km
    if abs(beta_rad) >= math.asin(r / (r + h)):
        return 0.0
    return math.acos(math.sqrt(h * h + 2 * r * h) / ((r + h) * math.cos(beta_rad))) / math.pi


def _one_orbit_of_one_plane(epoch: datetime, inclination_deg: float, raan_deg: float, altitude_km: float = 550.0):
    return walker_constellation(kind="walker-delta", planes=1, sats_per_plane=1, phasing=0, altitude_km=altitude_km,
                                inclination_deg=inclination_deg, epoch_utc=epoch,
                                snapshot_count=int(round(orbital_period_s(altitude_km) / ECLIPSE_SNAPSHOT_S)),
                                snapshot_interval_s=ECLIPSE_SNAPSHOT_S, raan0_deg=raan_deg)


EPOCH_EQUINOX = datetime(2026, 3, 20, 12, tzinfo=timezone.utc)
EPOCH_SOLSTICE = datetime(2026, 6, 21, tzinfo=timezone.utc)
EPOCH_NEW_YEAR = datetime(2026, 1, 1, tzinfo=timezone.utc)
SSO_550_DEG = sun_synchronous_inclination_deg(550.0)

# (name, epoch, inclination, RAAN of the plane): beta near 0, near -30 deg and near 76 deg for the 53 deg
# shell; a dawn-dusk SSO in June (|beta| ~ 74 deg: no eclipse) and in its eclipse season (January,
# |beta| ~ 59 deg, below the 67 deg at which the shadow starts to reach a 550 km orbit).
ORBITS = [
    ("53deg-equinox", EPOCH_EQUINOX, 53.0, 0.0),
    ("53deg-solstice", EPOCH_SOLSTICE, 53.0, 0.0),
    ("53deg-solstice-raan180", EPOCH_SOLSTICE, 53.0, 180.0),
    ("sso-dawn-dusk-june", EPOCH_SOLSTICE, SSO_550_DEG, sun_synchronous_raan_deg(6.0, EPOCH_SOLSTICE)),
    ("sso-dawn-dusk-january", EPOCH_NEW_YEAR, SSO_550_DEG, sun_synchronous_raan_deg(6.0, EPOCH_NEW_YEAR)),
]


@pytest.mark.parametrize("name, epoch, inclination_deg, raan_deg", ORBITS, ids=[o[0] for o in ORBITS])
def test_eclipse_fraction_matches_the_cylinder_from_the_beta_angle(name, epoch, inclination_deg, raan_deg):
    c = _one_orbit_of_one_plane(epoch, inclination_deg, raan_deg)
    r, v = c.positions_m[:, 0], c.velocities_m_s[:, 0]
    normal = np.cross(r, v).mean(axis=0)
    normal /= np.linalg.norm(normal)
    middle = epoch + timedelta(seconds=float(c.times_s[-1]) / 2)
    beta = math.asin(float(normal @ almanac_sun_unit(middle)))
    altitude_km = float(np.linalg.norm(r, axis=1).mean()) / 1e3 - EARTH_RADIUS_KM
    expected = cylinder_eclipse_fraction(beta, altitude_km)
    measured = 1.0 - float(sunlit(c, epoch)[:, 0].mean())
    print(f"{name}: beta {math.degrees(beta):+.2f} deg, eclipse {measured:.4f} of the orbit, cylinder {expected:.4f}")
    assert abs(measured - expected) <= ECLIPSE_FRACTION_TOLERANCE, (name, math.degrees(beta), measured, expected)
    if name.startswith("53deg-equinox"):
        assert expected > 0.35  # the case must test a deep eclipse, not a trivial 0 = 0
    if name == "sso-dawn-dusk-june":
        assert measured == 0.0


def test_shipped_dawn_dusk_scenario_has_no_eclipse_all_day():
    scenario = load_scenario(REPO / "topologies" / "dawn_dusk_polar.yaml")
    assert scenario.constellation.orbit == "sun-synchronous"
    day = dataclasses.replace(scenario, snapshots=SnapshotSpec(count=24 * 60, interval_s=60.0))
    flags = sunlit(build_constellation(day), scenario.constellation.epoch)
    assert flags.shape == (1440, 1056) and flags.all()


def test_sunlit_flags_agree_with_skyfield_is_sunlit_for_every_satellite_of_a_1584_shell(tmp_path):
    """walker_1584's shell over one orbit (30 s snapshots), exported by `harness topology`, against
    skyfield's EarthSatellite.at(t).is_sunlit(de421) for all 1,584 satellites (no sampling: 1.5 s)."""
    from skyfield.api import EarthSatellite, load, load_file

    from harness.cli import main

    scenario_path = tmp_path / "one_orbit.yaml"
    text = (REPO / "topologies" / "walker_1584.yaml").read_text()
    count = math.ceil(orbital_period_s(550.0) / 30.0)
    scenario_path.write_text(text.replace("  count: 200\n  interval_s: 1.0\n", f"  count: {count}\n  interval_s: 30.0\n"))
    out = tmp_path / "topology.npz"
    assert main(["topology", str(scenario_path), "--out", str(out)]) == 0
    z = np.load(out)
    flags = z["sunlit"]
    assert int(z["format_version"]) == 2 and flags.shape == (count, 1584) and flags.dtype == bool

    c = load_scenario(scenario_path).constellation
    satrecs, *_ = walker_satrecs(kind=c.kind, planes=c.planes, sats_per_plane=c.sats_per_plane, phasing=c.phasing,
                                 altitude_km=c.altitude_km, inclination_deg=c.inclination_deg, epoch_utc=c.epoch)
    ts = load.timescale(builtin=True)
    e = c.epoch
    t = ts.utc(e.year, e.month, e.day, e.hour, e.minute, e.second + z["times_s"])
    eph = load_file(str(resources.files("skyfield_data") / "data" / "de421.bsp"))
    reference = np.stack([EarthSatellite.from_satrec(s, ts).at(t).is_sunlit(eph) for s in satrecs], axis=1)

    agreement = float((reference == flags).mean())
    print(f"agreement with skyfield: {agreement:.6%} of {flags.size} pairs")
    assert agreement >= SKYFIELD_AGREEMENT_MIN
    assert 0.2 < 1 - reference.mean() < 0.45  # the comparison sees plenty of shadow, not all-lit trivia
    # every disagreement within one snapshot of a shadow crossing (skyfield's flag changes there)
    crossing = np.zeros_like(reference)
    changes = reference[1:] != reference[:-1]
    crossing[1:] |= changes
    crossing[:-1] |= changes
    assert crossing[reference != flags].all()


def test_sun_synchronous_inclination_at_550_km_is_the_published_value():
    assert abs(sun_synchronous_inclination_deg(550.0) - SSO_INCLINATION_550_KM_DEG) <= SSO_INCLINATION_TOLERANCE_DEG
    from scipy.optimize import brentq

    from harness.constellation.sun_synchronous import sun_synchronous_cos_inclination

    limit_km = brentq(lambda h: sun_synchronous_cos_inclination(h) + 1.0, 1_000.0, 10_000.0)
    assert abs(EARTH_RADIUS_KM + limit_km - SSO_LIMIT_SEMI_MAJOR_AXIS_KM) <= SSO_LIMIT_TOLERANCE_KM
    with pytest.raises(ValueError, match="no sun-synchronous"):
        sun_synchronous_inclination_deg(limit_km + 1.0)


def test_propagated_sun_synchronous_plane_turns_with_the_mean_sun():
    """The shipped preset through the scenario: SGP4 over seven days turns the plane's node
    0.9856 deg/day eastward, and at the epoch the node sits 6 h of local time west of the mean Sun."""
    scenario = load_scenario(REPO / "topologies" / "dawn_dusk_polar.yaml")
    week = dataclasses.replace(scenario, snapshots=SnapshotSpec(count=7 * 24 * 6, interval_s=600.0))
    c = build_constellation(week)
    h = np.cross(c.positions_m[:, 0], c.velocities_m_s[:, 0])  # plane 0, slot 0
    node_deg = np.degrees(np.unwrap(np.arctan2(h[:, 0], -h[:, 1])))
    rate, start = np.polyfit(c.times_s / 86_400.0, node_deg, 1)
    print(f"node rate {rate:.5f} deg/day against {SUN_SYNCHRONOUS_NODE_RATE_DEG_DAY:.5f}")
    assert abs(rate / 0.9856 - 1.0) <= NODE_RATE_REL_TOLERANCE
    assert abs(SUN_SYNCHRONOUS_NODE_RATE_DEG_DAY - 0.98565) < 1e-5
    # LTAN 5.0: the node is 7 h (105 deg) west of the Sun's mean right ascension (280.46 + 0.9856474 d)
    days = (scenario.constellation.epoch - datetime(2000, 1, 1, 12, tzinfo=timezone.utc)) / timedelta(days=1)
    mean_sun_deg = (280.460 + 0.9856474 * days) % 360.0
    assert abs((start - (mean_sun_deg - 105.0) + 180.0) % 360.0 - 180.0) < 0.1


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, cwd=cwd,
                          check=False)


@pytest.mark.parametrize("edit, words", [
    ({"altitude_km": 6000}, ["no sun-synchronous orbit exists", "'constellation.altitude_km' 6000 km"]),
    ({"inclination_deg": 97.6}, ["'constellation.inclination_deg' is set", "sun-synchronous"]),
], ids=["altitude-too-high", "inclination-with-the-preset"])
def test_bad_sun_synchronous_input_is_one_error_line_and_exit_1(tmp_path, edit, words):
    text = (REPO / "topologies" / "dawn_dusk_polar.yaml").read_text()
    for key, value in edit.items():
        if f"  {key}:" in text:
            text = "\n".join(f"  {key}: {value}" if line.startswith(f"  {key}:") else line for line in text.split("\n"))
        else:
            text = text.replace("  orbit: sun-synchronous\n", f"  orbit: sun-synchronous\n  {key}: {value}\n")
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(text)
    done = _cli("topology", str(scenario), "--out", str(tmp_path / "x.npz"), cwd=tmp_path)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert all(w in lines[0] for w in words), lines[0]
    assert not (tmp_path / "x.npz").exists()


def test_ltan_without_the_preset_is_refused():
    from harness.errors import ScenarioError
    from harness.scenario import scenario_from_dict

    raw = {"name": "x", "constellation": {"planes": 10, "sats_per_plane": 10, "ltan_h": 6.0}}
    with pytest.raises(ScenarioError, match="'constellation.ltan_h' is set but 'constellation.orbit' is 'inclined'"):
        scenario_from_dict(raw)


def test_default_orbit_keys_leave_tiny_traces_byte_identical(tmp_path):
    """tiny.yaml as shipped, and with the new keys spelled at their defaults, gives the tokens.csv saved
    before they existed (tests/data/serving_regression/tiny_tokens.csv)."""
    from harness.cli import main

    expected = (REPO / "tests" / "data" / "serving_regression" / "tiny_tokens.csv").read_bytes()
    text = (REPO / "topologies" / "tiny.yaml").read_text()
    spelled = text.replace("  inclination_deg: 53\n", "  inclination_deg: 53\n  orbit: inclined\n  raan_spread_deg: null\n")
    assert spelled != text
    for i, body in enumerate((text, spelled)):
        scenario = tmp_path / f"t{i}.yaml"
        scenario.write_text(body)
        out = tmp_path / f"out{i}"
        assert main(["run", str(scenario), "--out", str(out)]) == 0
        assert (out / "tokens.csv").read_bytes() == expected


def test_sunlit_refuses_released_positions():
    """prepare() replaces the positions it has read by NaN stand-ins; NaN would test as lit, so sunlit
    refuses them (a schedule built from them would be all sunlight)."""
    from harness.run.prepare import prepare

    scenario = load_scenario(Path(__file__).resolve().parents[1] / "topologies" / "tiny.yaml")
    prep = prepare(scenario)
    assert np.isnan(prep.constellation.positions_m).all()
    with pytest.raises(ValueError, match="positions; these are NaN"):
        sunlit(prep.constellation, scenario.constellation.epoch)
    fresh = sunlit(build_constellation(scenario), scenario.constellation.epoch)
    assert fresh.shape == prep.constellation.positions_m.shape[:2] and fresh.dtype == np.bool_
