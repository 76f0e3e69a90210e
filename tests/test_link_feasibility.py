"""Tests for the per-snapshot ISL feasibility rules of harness.network.topology:
line of sight above the grazing altitude, terminal tracking rate, polar
cutoff of cross-plane links, and random outages."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timezone

import numpy as np
import pytest

from harness.constellation.walker import EARTH_RADIUS_KM, Constellation, orbital_period_s, walker_constellation
from harness.network.topology import (cross_plane_mask, geocentric_latitude_rad, grazing_altitude_m, isl_topology,
                                      line_of_sight_max_length_m, plus_grid_edges, relative_angular_rate_rad_s)

EPOCH_UTC = datetime(2024, 3, 5, 7, 8, 9, tzinfo=timezone.utc)
EARTH_RADIUS_M = EARTH_RADIUS_KM * 1e3

# Finite-difference check of the line-of-sight rate.  The angle between the
# unit vectors at t and t+dt, over dt, is the mean rate over the step; it is
# compared with the trapezoid mean of the analytic rates at both ends, whose
# truncation error is ~dt^2/12 * |omega''|.  The fastest links (polar
# cross-plane links passing ~30 km apart at ~700 m/s) change on a ~50 s
# scale, so with dt = 0.1 s that error is ~1e-8 relative.  What remains is
# SGP4 itself: its velocity is not exactly the time derivative of its
# position (measured 2 cm/s, 2.4e-6 relative, whatever dt), which shows up
# as a floor of at most 5.8e-6 relative in omega (measured with dt from 0.01 s
# to 0.3 s).  dt = 1 s would already give 7.6e-5 from truncation.
FINITE_DIFFERENCE_DT_S = 0.1
FINITE_DIFFERENCE_REL_TOLERANCE = 3e-5
# On one ideal circular orbit the chord between two satellites turns at
# exactly the orbital rate 2*pi/T.  SGP4's J2 terms make the argument of
# latitude advance slightly faster or slower than the Keplerian mean motion
# and add short-period wobble; measured at most 0.29 % off 2*pi/T over an
# orbit (300..1200 km, 0..98 deg inclination).
INTRA_PLANE_RATE_REL_TOLERANCE = 5e-3
# Segment minima in metres are sums and products of ~7e6 m coordinates:
# double rounding gives errors of order 1e-9 m.
GRAZING_ROUNDING_TOLERANCE_M = 1e-6
# Outage counts are binomial: allow 5 standard deviations.
BINOMIAL_SIGMAS = 5.0
# The paper's figures.
PAPER_MAX_ANGULAR_RATE_RAD_S = 0.12
PAPER_SURVIVAL_PROBABILITY = 0.95

STARLINK_SHELL = dict(kind="walker-delta", planes=72, sats_per_plane=22, phasing=39)
# The paper's polar shell, with phasing 0: same-slot satellites of adjacent
# planes then pass closest to each other near the poles, which gives the
# fastest-turning links of the phasings tried.
POLAR_SHELL = dict(kind="walker-star", planes=33, sats_per_plane=32, phasing=0)


def walker(*, kind, planes, sats_per_plane, phasing, inclination_deg, snapshot_count,
           snapshot_interval_s, altitude_km=550.0):
    constellation = walker_constellation(
        kind=kind, planes=planes, sats_per_plane=sats_per_plane, phasing=phasing,
        altitude_km=altitude_km, inclination_deg=inclination_deg, epoch_utc=EPOCH_UTC,
        snapshot_count=snapshot_count, snapshot_interval_s=snapshot_interval_s)
    edges = plus_grid_edges(kind=kind, planes=planes, sats_per_plane=sats_per_plane,
                            phasing=phasing)
    return constellation, edges


def hand_constellation(positions_m, plane_of=None) -> Constellation:
    """A constellation with the given ``[S, N, 3]`` positions, at rest."""
    positions_m = np.asarray(positions_m, dtype=np.float64)
    snapshots, n = positions_m.shape[:2]
    plane_of = np.zeros(n, dtype=np.int32) if plane_of is None else np.asarray(plane_of, np.int32)
    return Constellation(
        planes=int(plane_of.max()) + 1, sats_per_plane=n, times_s=np.arange(snapshots, dtype=float),
        positions_m=positions_m, velocities_m_s=np.zeros_like(positions_m), plane_of=plane_of,
        slot_of=np.arange(n, dtype=np.int32), arg_latitude_rad=np.zeros(n))


def rotated_about_z(radius_m: float, angle_rad: float) -> np.ndarray:
    return radius_m * np.array([math.cos(angle_rad), math.sin(angle_rad), 0.0])


def link_kinds(constellation, edges):
    plane_a = constellation.plane_of[edges[:, 0]]
    plane_b = constellation.plane_of[edges[:, 1]]
    seam = (plane_a == 0) & (plane_b == constellation.planes - 1)
    cross = (plane_a != plane_b) & ~seam
    return {"intra-plane": plane_a == plane_b, "cross-plane": cross, "seam": seam}


@pytest.fixture(scope="module")
def starlink_outage_shell():
    return walker(**STARLINK_SHELL, inclination_deg=53.0, snapshot_count=50,
                  snapshot_interval_s=60.0)


@pytest.fixture(scope="module")
def polar_shell():
    # A few snapshots suffice: with 32 slots per plane, some satellites are
    # near each pole at any time, and the pattern repeats every T/32.
    return walker(**POLAR_SHELL, inclination_deg=87.0, snapshot_count=6,
                  snapshot_interval_s=37.0)


# --- relative_angular_rate_rad_s ----------------------------------------------

@pytest.mark.parametrize(
    "shell",
    [dict(kind="walker-delta", planes=12, sats_per_plane=10, phasing=5, inclination_deg=53.0),
     dict(**POLAR_SHELL, inclination_deg=87.0)],
    ids=["delta-12x10", "star-33x32"])
def test_angular_rate_matches_finite_difference_of_line_of_sight(shell):
    dt_s = FINITE_DIFFERENCE_DT_S
    c, edges = walker(**shell, snapshot_count=3, snapshot_interval_s=dt_s)
    rate_rad_s = relative_angular_rate_rad_s(c.positions_m, c.velocities_m_s, edges)
    assert rate_rad_s.shape == (3, len(edges)) and rate_rad_s.dtype == np.float64

    separation_m = c.positions_m[:, edges[:, 1]] - c.positions_m[:, edges[:, 0]]
    unit = separation_m / np.linalg.norm(separation_m, axis=-1, keepdims=True)
    before, after = unit[:-1], unit[1:]
    # atan2 of sine and cosine stays accurate for the tiny angles involved.
    angle_rad = np.arctan2(np.linalg.norm(np.cross(before, after), axis=-1),
                           np.einsum("...i,...i->...", before, after))
    finite_difference_rad_s = angle_rad / dt_s
    trapezoid_rad_s = (rate_rad_s[:-1] + rate_rad_s[1:]) / 2

    for kind, mask in link_kinds(c, edges).items():
        if shell["kind"] == "walker-star" and kind == "seam":
            assert not mask.any()
            continue
        assert mask.any(), kind
        np.testing.assert_allclose(finite_difference_rad_s[:, mask], trapezoid_rad_s[:, mask],
                                   rtol=FINITE_DIFFERENCE_REL_TOLERANCE, err_msg=kind)


@pytest.mark.parametrize(
    ("shell", "altitude_km"),
    [(dict(STARLINK_SHELL, inclination_deg=53.0), 550.0),
     (dict(POLAR_SHELL, inclination_deg=87.0), 550.0),
     (dict(kind="walker-delta", planes=6, sats_per_plane=8, phasing=1, inclination_deg=98.0),
      1200.0)],
    ids=["delta-72x22", "star-33x32", "delta-6x8-1200km"])
def test_intra_plane_line_of_sight_turns_at_the_orbital_rate(shell, altitude_km):
    period_s = orbital_period_s(altitude_km)
    c, edges = walker(**shell, altitude_km=altitude_km, snapshot_count=60,
                      snapshot_interval_s=period_s / 60)
    intra = ~cross_plane_mask(c, edges)
    rate_rad_s = relative_angular_rate_rad_s(c.positions_m, c.velocities_m_s, edges)[:, intra]
    np.testing.assert_allclose(rate_rad_s, 2 * math.pi / period_s,
                               rtol=INTRA_PLANE_RATE_REL_TOLERANCE)


def test_angular_rate_of_hand_made_pair():
    # b passes a at 2 km/s, 100 km away, broadside: omega = v / d.
    positions_m = np.array([[[7e6, 0, 0], [7e6, 100e3, 0]]])
    velocities_m_s = np.array([[[0, 0, 0], [0, 0, 2e3]]])
    rate = relative_angular_rate_rad_s(positions_m, velocities_m_s, np.array([[0, 1]]))
    assert rate[0, 0] == pytest.approx(2e3 / 100e3, rel=1e-12)
    # Moving along the line of sight does not turn it.
    velocities_m_s = np.array([[[0, 0, 0], [0, 5e3, 0]]])
    assert relative_angular_rate_rad_s(positions_m, velocities_m_s, np.array([[0, 1]]))[0, 0] == 0


def test_angular_rate_rejects_bad_inputs():
    positions_m = np.zeros((2, 3, 3))
    with pytest.raises(ValueError, match="same shape"):
        relative_angular_rate_rad_s(positions_m, np.zeros((2, 4, 3)), np.array([[0, 1]]))
    with pytest.raises(ValueError, match=r"\[S, N, 3\]"):
        relative_angular_rate_rad_s(np.zeros((3, 3)), np.zeros((3, 3)), np.array([[0, 1]]))
    with pytest.raises(ValueError, match="itself"):
        relative_angular_rate_rad_s(positions_m, positions_m, np.array([[1, 1]]))


# --- grazing_altitude_m and the line-of-sight rule -------------------------------

@pytest.mark.parametrize("theta_deg", [1.0, 30.0, 42.0, 90.0, 120.0, 179.0])
def test_grazing_altitude_of_symmetric_chord(theta_deg):
    radius_m = (EARTH_RADIUS_KM + 550.0) * 1e3
    theta = math.radians(theta_deg)
    start = rotated_about_z(radius_m, 0.3)
    end = rotated_about_z(radius_m, 0.3 + theta)
    positions_m = np.array([[start, end]])
    expected_m = radius_m * math.cos(theta / 2) - EARTH_RADIUS_M
    for edges in ([[0, 1]], [[1, 0]]):  # the direction of a link does not matter
        got = grazing_altitude_m(positions_m, np.array(edges))
        np.testing.assert_allclose(got, expected_m, atol=GRAZING_ROUNDING_TOLERANCE_M)


def test_grazing_altitude_is_the_lowest_point_of_the_segment():
    # The perpendicular foot may fall outside the segment; then the lower
    # endpoint is the lowest point.  Check against dense sampling.
    rng = np.random.default_rng(3)
    start = rng.normal(size=(200, 3))
    end = start + rng.normal(size=(200, 3)) * rng.uniform(0.05, 2.0, size=(200, 1))
    scale_m = 7e6
    positions_m = np.concatenate([start, end])[None] * scale_m
    edges = np.stack([np.arange(200), np.arange(200, 400)], axis=1)
    got_m = grazing_altitude_m(positions_m, edges)[0]

    t = np.linspace(0.0, 1.0, 20_001)[:, None, None]
    samples_m = (start + t * (end - start)) * scale_m
    sampled_m = np.linalg.norm(samples_m, axis=-1).min(axis=0) - EARTH_RADIUS_M
    # Some sample lies within half a step of the true lowest point, at a
    # distance r from the centre, so sampling overestimates the minimum
    # radius by at most sqrt(r^2 + (step/2)^2) - r.
    half_step_m = np.linalg.norm(end - start, axis=1) * scale_m / 20_000 / 2
    got_radius_m = got_m + EARTH_RADIUS_M
    assert np.all(got_m <= sampled_m + GRAZING_ROUNDING_TOLERANCE_M)
    assert np.all(sampled_m + EARTH_RADIUS_M
                  <= np.hypot(got_radius_m, half_step_m) + GRAZING_ROUNDING_TOLERANCE_M)
    # Both kinds of segment occur.
    direction = end - start
    inside = ((np.einsum("ij,ij->i", start, direction) < 0)
              & (np.einsum("ij,ij->i", end, direction) > 0))
    assert 20 < inside.sum() < 180


def test_grazing_altitude_of_radial_segments():
    # Along a radius the lowest point is the lower end; through the centre it is the centre.
    positions_m = np.array([[[7e6, 0, 0], [8e6, 0, 0], [-7e6, 0, 0]]])
    got = grazing_altitude_m(positions_m, np.array([[0, 1], [0, 2]]))
    np.testing.assert_allclose(got[0], [7e6 - EARTH_RADIUS_M, -EARTH_RADIUS_M],
                               atol=GRAZING_ROUNDING_TOLERANCE_M)
    got = grazing_altitude_m(positions_m, np.array([[1, 0]]))
    np.testing.assert_allclose(got[0], [7e6 - EARTH_RADIUS_M], atol=GRAZING_ROUNDING_TOLERANCE_M)


@pytest.mark.parametrize(("altitude_km", "grazing_km"), [(550.0, 80.0), (1200.0, 100.0)])
def test_grazing_rule_agrees_with_line_of_sight_max_length(altitude_km, grazing_km):
    radius_m = (EARTH_RADIUS_KM + altitude_km) * 1e3
    limit_m = line_of_sight_max_length_m(altitude_km, grazing_altitude_km=grazing_km)
    # Three pairs at the same altitude: exactly at the limit, 1 m shorter,
    # 1 m longer.  1 m of length moves the lowest point by ~0.2 m, far more
    # than rounding.
    points = []
    for length_m in (limit_m, limit_m - 1.0, limit_m + 1.0):
        half_angle = math.asin(length_m / 2 / radius_m)
        points += [rotated_about_z(radius_m, 1.0 - half_angle),
                   rotated_about_z(radius_m, 1.0 + half_angle)]
    c = hand_constellation(np.array([points]))
    edges = np.array([[0, 1], [2, 3], [4, 5]])
    lowest_m = grazing_altitude_m(c.positions_m, edges)[0]
    assert lowest_m[0] == pytest.approx(grazing_km * 1e3, abs=GRAZING_ROUNDING_TOLERANCE_M)
    assert lowest_m[1] > grazing_km * 1e3 + 0.1 and lowest_m[2] < grazing_km * 1e3 - 0.1

    topology = isl_topology(c, edges, grazing_altitude_km=grazing_km)
    np.testing.assert_allclose(topology.length_m[0, 1:], [limit_m - 1.0, limit_m + 1.0],
                               atol=1e-6)
    assert topology.feasible[0, 1] and not topology.feasible[0, 2]


def test_links_through_the_earth_are_down():
    # 3 planes x 3 satellites: intra-plane neighbours are 120 deg apart, and
    # their chord dips to a*cos(60 deg) - R, below the surface.
    c, edges = walker(kind="walker-delta", planes=3, sats_per_plane=3, phasing=1,
                      inclination_deg=53.0, snapshot_count=20, snapshot_interval_s=300.0)
    intra = ~cross_plane_mask(c, edges)
    lowest_m = grazing_altitude_m(c.positions_m, edges)
    assert lowest_m[:, intra].max() < 0.0

    topology = isl_topology(c, edges, grazing_altitude_km=80.0)
    assert not topology.feasible[:, intra].any()
    assert not topology.up[:, intra].any()
    np.testing.assert_array_equal(topology.feasible, lowest_m >= 80e3)
    # The rule is the threshold and nothing else, whatever the threshold.
    for grazing_km in (0.0, 300.0, 500.0):
        low = isl_topology(c, edges, grazing_altitude_km=grazing_km)
        np.testing.assert_array_equal(low.feasible, lowest_m >= grazing_km * 1e3)
    # Without the rule (the default), every link is up, as before.
    assert isl_topology(c, edges).up.all()


def test_short_links_clear_the_atmosphere(starlink_outage_shell):
    c, edges = starlink_outage_shell
    topology = isl_topology(c, edges, grazing_altitude_km=80.0)
    assert topology.feasible.all() and topology.up.all()
    # The check has teeth: the shell's lowest link passes ~470 km up.
    lowest_km = grazing_altitude_m(c.positions_m, edges).min() / 1e3
    assert 400.0 < lowest_km < 540.0
    assert not isl_topology(c, edges, grazing_altitude_km=lowest_km + 1.0).feasible.all()


# --- tracking rule ---------------------------------------------------------------

def test_tracking_threshold_flips_exactly_one_link(polar_shell):
    c, edges = polar_shell
    rate_rad_s = relative_angular_rate_rad_s(c.positions_m, c.velocities_m_s, edges)
    assert isl_topology(c, edges, max_angular_rate_rad_s=rate_rad_s.max() * 1.001).feasible.all()

    values = np.sort(rate_rad_s.ravel())
    # Symmetric links (e.g. all intra-plane ones) can share a rate; only a
    # value distinct from both neighbours can be isolated by a threshold.
    distinct = np.flatnonzero((values[1:-1] > values[:-2]) & (values[1:-1] < values[2:])) + 1
    middle = distinct[np.searchsorted(distinct, values.size // 2)]
    # The fastest link-snapshot, and one from the middle of the distribution.
    for k in (values.size - 1, middle):
        below = (values[k - 1] + values[k]) / 2
        above = (values[k] + values[k + 1]) / 2 if k + 1 < values.size else values[k] * 1.001
        assert values[k - 1] < below < values[k] < above
        slow_enough = isl_topology(c, edges, max_angular_rate_rad_s=above).feasible
        too_fast = isl_topology(c, edges, max_angular_rate_rad_s=below).feasible
        flipped = np.argwhere(slow_enough != too_fast)
        snapshot, link = np.argwhere(rate_rad_s == values[k])[0]
        np.testing.assert_array_equal(flipped, [[snapshot, link]])
        assert slow_enough[snapshot, link] and not too_fast[snapshot, link]
        # The limit is strict: a link turning exactly at it is down.
        at_limit = isl_topology(c, edges, max_angular_rate_rad_s=values[k]).feasible
        assert not at_limit[snapshot, link]


def test_paper_tracking_limit_removes_no_plus_grid_link(polar_shell, starlink_outage_shell):
    """Measured: +Grid lines of sight turn at most ~0.021 rad/s (polar
    shell, cross-plane links near the poles) and ~0.0012 rad/s (72x22 at
    53 deg), far below the paper's 0.12 rad/s."""
    for c, edges in (polar_shell, starlink_outage_shell):
        topology = isl_topology(c, edges, max_angular_rate_rad_s=PAPER_MAX_ANGULAR_RATE_RAD_S)
        assert topology.feasible.all()


# --- polar cutoff ----------------------------------------------------------------

def test_geocentric_latitude():
    points = np.array([[7e6, 0, 0], [0, 0, 7e6], [0, 0, -1], [1, 1, math.sqrt(2)], [0, -3, 3]])
    np.testing.assert_allclose(geocentric_latitude_rad(points),
                               [0, math.pi / 2, -math.pi / 2, math.pi / 4, math.pi / 4],
                               atol=1e-15)
    rng = np.random.default_rng(0)
    points = rng.normal(size=(4, 5, 3)) * 7e6
    expected = np.arcsin(points[..., 2] / np.linalg.norm(points, axis=-1))
    np.testing.assert_allclose(geocentric_latitude_rad(points), expected, rtol=1e-12)


def test_cross_plane_mask(polar_shell):
    c, edges = polar_shell
    mask = cross_plane_mask(c, edges)
    assert mask.shape == (len(edges),) and mask.dtype == np.bool_
    np.testing.assert_array_equal(mask, edges[:, 0] // c.sats_per_plane
                                  != edges[:, 1] // c.sats_per_plane)
    # 33 rings of 32, and 32 rungs between each of the 32 pairs of adjacent planes.
    assert (~mask).sum() == 33 * 32 and mask.sum() == 32 * 32


@pytest.mark.parametrize("cutoff_deg", [60.0, 75.0, 85.0])
def test_polar_cutoff_switches_off_cross_plane_links_only(polar_shell, cutoff_deg):
    c, edges = polar_shell
    topology = isl_topology(c, edges, polar_cutoff_deg=cutoff_deg)
    positions_m = c.positions_m
    latitude_deg = np.degrees(np.arcsin(positions_m[..., 2] / np.linalg.norm(positions_m, axis=-1)))
    highest_end_deg = np.maximum(np.abs(latitude_deg[:, edges[:, 0]]),
                                 np.abs(latitude_deg[:, edges[:, 1]]))
    cross = cross_plane_mask(c, edges)

    assert topology.feasible[:, ~cross].all()
    np.testing.assert_array_equal(topology.feasible[:, cross],
                                  highest_end_deg[:, cross] <= cutoff_deg)
    # Both outcomes occur, so the comparison above has teeth.
    assert 0 < topology.feasible[:, cross].mean() < 1
    # Intra-plane rings stay whole: every satellite keeps its two ring links.
    intra_degree = np.stack([np.bincount(edges[~cross][up].ravel(), minlength=c.num_satellites)
                             for up in topology.feasible[:, ~cross]])
    assert np.all(intra_degree == 2)


def test_polar_cutoff_of_90_degrees_keeps_everything(polar_shell):
    c, edges = polar_shell
    assert isl_topology(c, edges, polar_cutoff_deg=90.0).feasible.all()


def test_polar_cutoff_on_hand_made_geometry():
    # Satellite 1 is at 70 deg latitude; satellite 2 at 10 deg.
    radius_m = 7e6
    def at_latitude(deg):
        return radius_m * np.array([math.cos(math.radians(deg)), 0, math.sin(math.radians(deg))])
    c = hand_constellation(np.array([[at_latitude(0), at_latitude(70), at_latitude(10),
                                      at_latitude(-75)]]), plane_of=[0, 1, 1, 2])
    edges = np.array([[0, 1], [0, 2], [1, 2], [2, 3]])  # [1, 2] is intra-plane
    feasible = isl_topology(c, edges, polar_cutoff_deg=70.0).feasible[0]
    np.testing.assert_array_equal(feasible, [True, True, True, False])
    feasible = isl_topology(c, edges, polar_cutoff_deg=69.9).feasible[0]
    np.testing.assert_array_equal(feasible, [False, True, True, False])


# --- outages ---------------------------------------------------------------------

def test_outage_rate_matches_survival_probability(starlink_outage_shell):
    c, edges = starlink_outage_shell
    p = PAPER_SURVIVAL_PROBABILITY
    topology = isl_topology(c, edges, survival_probability=p, rng=np.random.default_rng(11))
    assert topology.feasible.all()
    trials = topology.up.size
    down_fraction = 1.0 - topology.up.mean()
    sigma = math.sqrt(p * (1 - p) / trials)
    assert abs(down_fraction - (1 - p)) <= BINOMIAL_SIGMAS * sigma

    # Independent across snapshots: a link down at one snapshot is down at
    # the next with probability 1-p, not 1 (a per-link draw would give 1).
    down = ~topology.up
    both = (down[:-1] & down[1:]).mean()
    pairs = down[:-1].size
    sigma_both = math.sqrt((1 - p) ** 2 * (1 - (1 - p) ** 2) / pairs)
    assert abs(both - (1 - p) ** 2) <= BINOMIAL_SIGMAS * sigma_both
    # Independent across links: likewise for neighbouring links.
    both_links = (down[:, :-1] & down[:, 1:]).mean()
    assert abs(both_links - (1 - p) ** 2) <= BINOMIAL_SIGMAS * sigma_both


def test_outages_follow_the_documented_draw(polar_shell):
    c, edges = polar_shell
    p = 0.7
    topology = isl_topology(c, edges, polar_cutoff_deg=75.0, survival_probability=p,
                            rng=np.random.default_rng(5))
    survived = np.random.default_rng(5).random((c.num_snapshots, len(edges))) < p
    np.testing.assert_array_equal(topology.up, topology.feasible & survived)
    # Outages and infeasibility are told apart.
    assert (~topology.feasible).any() and (topology.feasible & ~topology.up).any()
    assert not (topology.up & ~topology.feasible).any()


def test_outages_are_reproducible_per_seed(starlink_outage_shell):
    c, edges = starlink_outage_shell
    def up(seed):
        return isl_topology(c, edges, survival_probability=PAPER_SURVIVAL_PROBABILITY,
                            rng=np.random.default_rng(seed)).up
    np.testing.assert_array_equal(up(1), up(1))
    assert not np.array_equal(up(1), up(2))


def test_certain_survival_draws_nothing(polar_shell):
    c, edges = polar_shell
    rng = np.random.default_rng(9)
    state = rng.bit_generator.state
    topology = isl_topology(c, edges, polar_cutoff_deg=75.0, survival_probability=1.0, rng=rng)
    assert rng.bit_generator.state == state
    np.testing.assert_array_equal(topology.up, topology.feasible)
    # The arrays are independent copies: editing one leaves the other alone.
    assert not np.shares_memory(topology.up, topology.feasible)
    assert isl_topology(c, edges, survival_probability=1.0, rng=None).up.all()


def test_zero_survival_takes_every_link_down(polar_shell):
    c, edges = polar_shell
    topology = isl_topology(c, edges, survival_probability=0.0, rng=np.random.default_rng(0))
    assert topology.feasible.all() and not topology.up.any()


# --- invariants and validation -------------------------------------------------------

def test_rules_off_keep_the_plus_grid_whole(starlink_outage_shell):
    c, edges = starlink_outage_shell
    for topology in (isl_topology(c, edges),
                     isl_topology(c, edges, grazing_altitude_km=None,
                                  max_angular_rate_rad_s=None, polar_cutoff_deg=None,
                                  survival_probability=1.0, rng=None)):
        assert topology.feasible.dtype == np.bool_
        assert topology.feasible.shape == topology.up.shape == (c.num_snapshots, len(edges))
        assert topology.feasible.all() and topology.up.all()
        # Per snapshot: 2N links and every satellite of degree 4.
        assert np.all(topology.feasible.sum(axis=1) == 2 * c.num_satellites)
        for snapshot in (0, c.num_snapshots - 1):
            degree = np.bincount(edges[topology.feasible[snapshot]].ravel(),
                                 minlength=c.num_satellites)
            assert np.all(degree == 4)


def test_rules_combine_as_a_conjunction(polar_shell):
    c, edges = polar_shell
    rate_rad_s = relative_angular_rate_rad_s(c.positions_m, c.velocities_m_s, edges)
    limit = float(np.quantile(rate_rad_s, 0.9))
    def feasible(**rules):
        return isl_topology(c, edges, **rules).feasible
    los = feasible(grazing_altitude_km=540.0)
    tracking = feasible(max_angular_rate_rad_s=limit)
    polar = feasible(polar_cutoff_deg=80.0)
    combined = feasible(grazing_altitude_km=540.0, max_angular_rate_rad_s=limit,
                        polar_cutoff_deg=80.0)
    np.testing.assert_array_equal(combined, los & tracking & polar)
    for single in (los, tracking, polar):
        assert not single.all()


def test_replacing_up_keeps_feasibility(polar_shell):
    c, edges = polar_shell
    topology = isl_topology(c, edges, polar_cutoff_deg=80.0)
    # Replacing up (e.g. to inject failures) keeps the recorded feasibility.
    failed = topology.up.copy()
    failed[0] = False
    edited = replace(topology, up=failed)
    np.testing.assert_array_equal(edited.feasible, topology.feasible)


BAD_RULES = [
    (dict(grazing_altitude_km=-1.0), "grazing_altitude_km"),
    (dict(grazing_altitude_km=560.0), "lowest satellite altitude"),
    (dict(grazing_altitude_km=float("nan")), "grazing_altitude_km"),
    (dict(max_angular_rate_rad_s=0.0), "max_angular_rate_rad_s"),
    (dict(max_angular_rate_rad_s=-0.1), "max_angular_rate_rad_s"),
    (dict(max_angular_rate_rad_s=float("inf")), "max_angular_rate_rad_s"),
    (dict(polar_cutoff_deg=0.0), "polar_cutoff_deg"),
    (dict(polar_cutoff_deg=90.5), "polar_cutoff_deg"),
    (dict(polar_cutoff_deg="high"), "polar_cutoff_deg"),
    (dict(survival_probability=-0.1, rng=np.random.default_rng(0)), "survival_probability"),
    (dict(survival_probability=1.1), "survival_probability"),
    (dict(survival_probability=0.95), "rng"),
    (dict(survival_probability=0.95, rng=7), "Generator"),
]


@pytest.mark.parametrize(("rules", "message"), BAD_RULES,
                         ids=[f"{next(iter(r))}={list(r.values())[-1]!r}" for r, _ in BAD_RULES])
def test_isl_topology_asserts_invalid_rules(rules, message):
    # The scenario schema refuses these with a one-line error (tests/test_scenario.py); called
    # directly, isl_topology asserts rather than computing nonsense.
    c, edges = walker(kind="walker-delta", planes=4, sats_per_plane=6, phasing=1,
                      inclination_deg=53.0, snapshot_count=2, snapshot_interval_s=60.0)
    with pytest.raises((AssertionError, TypeError)):
        isl_topology(c, edges, **rules)
