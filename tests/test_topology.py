"""Tests for harness.network.topology: +Grid links, link lengths and delays.

The feasibility rules and outages are tested in test_link_feasibility.py.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np
import pytest

from harness.constellation.walker import EARTH_RADIUS_KM, SPEED_OF_LIGHT_M_S, orbital_period_s, walker_constellation
from harness.network.topology import Topology, isl_topology, line_of_sight_max_length_m, plus_grid_edges

EPOCH_UTC = datetime(2024, 3, 5, 7, 8, 9, tzinfo=timezone.utc)
# Snapshots per orbit when a test needs a whole orbit.
SAMPLES_PER_ORBIT = 120

# SGP4's J2 short-period terms distort each "circular" orbit by a relative
# amount of order J2 * (R/a)^2 ~ 1e-3, and neighbouring satellites are
# distorted differently, so an instantaneous intra-plane chord differs from
# the ideal 2 a sin(pi/S).  Measured: at most 0.12 % (2.3 km for 72x22 at
# 550 km) over a day, for several shells at 300..1200 km and 0..98 deg.
INTRA_PLANE_INSTANT_REL_TOLERANCE = 1.5e-3
# Averaged over one orbit the short-period terms cancel, leaving an offset
# that is small near 53 deg inclination (measured 0.04 km for 72x22, 0.14 km
# for the small shell; the mean radius there is within 0.13 km of a).
INTRA_PLANE_ORBIT_MEAN_TOLERANCE_M = 1e3
# delay_ns is rounded to the nearest nanosecond.
DELAY_ROUNDING_TOLERANCE_NS = 0.5
# The seam must pair satellites that fly alongside each other: its length
# may not exceed the longest ordinary cross-plane link by more than this.
SEAM_TO_CROSS_PLANE_MAX_RATIO = 1.5
# Often-quoted maximum ISL range for the 550 km Starlink shell with an 80 km
# grazing altitude: ~5017 km.
LOS_550_KM_REFERENCE_M = 5017e3
LOS_REFERENCE_TOLERANCE_M = 1e3

STARLINK_SHELL = dict(planes=72, sats_per_plane=22, phasing=39)


def degrees(edges: np.ndarray, num_nodes: int) -> np.ndarray:
    return np.bincount(edges.ravel(), minlength=num_nodes)


def reference_plus_grid(kind: str, planes: int, sats_per_plane: int, phasing: int) -> set:
    """The +Grid written out literally, one link at a time."""
    def sat(p, s):
        return p * sats_per_plane + s % sats_per_plane

    links = set()
    for p in range(planes):
        for s in range(sats_per_plane):
            links.add(frozenset((sat(p, s), sat(p, s + 1))))
            if p + 1 < planes:
                links.add(frozenset((sat(p, s), sat(p + 1, s))))
            elif kind == "walker-delta" and planes >= 3:
                links.add(frozenset((sat(p, s), sat(0, s + phasing))))
    return {tuple(sorted(link)) for link in links if len(link) == 2}


def walker(kind="walker-delta", *, planes, sats_per_plane, phasing, altitude_km=550.0,
           inclination_deg=53.0, snapshot_count=SAMPLES_PER_ORBIT, whole_orbit=True):
    interval_s = orbital_period_s(altitude_km) / snapshot_count if whole_orbit else 60.0
    return walker_constellation(
        kind=kind, planes=planes, sats_per_plane=sats_per_plane, phasing=phasing,
        altitude_km=altitude_km, inclination_deg=inclination_deg, epoch_utc=EPOCH_UTC,
        snapshot_count=snapshot_count, snapshot_interval_s=interval_s)


@pytest.fixture(scope="module")
def starlink_delta():
    c = walker(**STARLINK_SHELL)
    edges = plus_grid_edges(kind="walker-delta", **STARLINK_SHELL)
    return c, edges, isl_topology(c, edges)


# --- plus_grid_edges --------------------------------------------------------

@pytest.mark.parametrize(
    ("kind", "planes", "sats_per_plane", "phasing"),
    [("walker-delta", 72, 22, 39), ("walker-delta", 3, 4, 1), ("walker-delta", 5, 3, 4),
     ("walker-delta", 2, 5, 1), ("walker-delta", 4, 2, 3), ("walker-delta", 1, 6, 0),
     ("walker-delta", 3, 1, 2), ("walker-star", 6, 11, 3), ("walker-star", 2, 2, 0)])
def test_edges_match_literal_plus_grid(kind, planes, sats_per_plane, phasing):
    edges = plus_grid_edges(kind=kind, planes=planes, sats_per_plane=sats_per_plane,
                            phasing=phasing)
    assert edges.dtype == np.int32
    assert edges.ndim == 2 and edges.shape[1] == 2
    assert np.all(edges[:, 0] < edges[:, 1])
    order = np.lexsort((edges[:, 1], edges[:, 0]))
    np.testing.assert_array_equal(order, np.arange(len(edges)))  # sorted
    assert len(np.unique(edges, axis=0)) == len(edges)
    assert set(map(tuple, edges.tolist())) == reference_plus_grid(
        kind, planes, sats_per_plane, phasing)


@pytest.mark.parametrize(("planes", "sats_per_plane", "phasing"),
                         [(72, 22, 39), (3, 3, 0), (5, 8, 2), (24, 66, 13)])
def test_walker_delta_grid_is_4_regular_with_2n_links(planes, sats_per_plane, phasing):
    n = planes * sats_per_plane
    edges = plus_grid_edges(kind="walker-delta", planes=planes,
                            sats_per_plane=sats_per_plane, phasing=phasing)
    assert len(edges) == 2 * n
    assert np.all(degrees(edges, n) == 4)


def test_walker_star_has_no_seam_and_degree_3_on_edge_planes():
    planes, sats_per_plane = 6, 11
    edges = plus_grid_edges(kind="walker-star", planes=planes, sats_per_plane=sats_per_plane,
                            phasing=2)
    plane = edges // sats_per_plane
    assert not np.any((plane[:, 0] == 0) & (plane[:, 1] == planes - 1))
    degree_by_plane = degrees(edges, planes * sats_per_plane).reshape(planes, sats_per_plane)
    assert np.all(degree_by_plane[[0, -1]] == 3)
    assert np.all(degree_by_plane[1:-1] == 4)
    assert len(edges) == 2 * planes * sats_per_plane - sats_per_plane


def test_small_rings_do_not_duplicate_links():
    # S == 2: the ring is a single link per plane.  P == 2: no seam.
    edges = plus_grid_edges(kind="walker-delta", planes=2, sats_per_plane=2, phasing=1)
    np.testing.assert_array_equal(edges, [[0, 1], [0, 2], [1, 3], [2, 3]])
    # S == 1: no intra-plane links at all.
    edges = plus_grid_edges(kind="walker-delta", planes=4, sats_per_plane=1, phasing=0)
    np.testing.assert_array_equal(edges, [[0, 1], [0, 3], [1, 2], [2, 3]])
    assert plus_grid_edges(kind="walker-star", planes=1, sats_per_plane=1, phasing=0).shape \
        == (0, 2)


def test_seam_offset_follows_from_walker_phasing():
    """Extending the phasing rule one plane past the last one lands exactly
    on the plane-0 satellite the seam links to (F slots further on)."""
    planes, sats_per_plane, phasing = 72, 22, 39
    c = walker(planes=planes, sats_per_plane=sats_per_plane, phasing=phasing,
               snapshot_count=1)
    edges = plus_grid_edges(kind="walker-delta", planes=planes,
                            sats_per_plane=sats_per_plane, phasing=phasing)
    seam = edges[(c.plane_of[edges[:, 0]] == 0) & (c.plane_of[edges[:, 1]] == planes - 1)]
    assert len(seam) == sats_per_plane
    first, last = seam[:, 0], seam[:, 1]
    phase_step_rad = 2 * np.pi * phasing / (planes * sats_per_plane)
    mismatch = np.angle(np.exp(1j * (c.arg_latitude_rad[last] + phase_step_rad
                                     - c.arg_latitude_rad[first])))
    np.testing.assert_allclose(mismatch, 0.0, atol=1e-9)


def test_seam_links_are_as_short_as_other_cross_plane_links(starlink_delta):
    c, edges, topology = starlink_delta
    plane_a, plane_b = c.plane_of[edges[:, 0]], c.plane_of[edges[:, 1]]
    seam = (plane_a == 0) & (plane_b == c.planes - 1)
    cross = (plane_a != plane_b) & ~seam
    longest_cross_m = topology.length_m[:, cross].max()
    assert topology.length_m[:, seam].max() <= SEAM_TO_CROSS_PLANE_MAX_RATIO * longest_cross_m

    # The check has teeth: pairing same slots across the seam (ignoring the
    # F-slot offset) would give links several times longer.
    last_plane = c.plane_of == c.planes - 1
    naive = np.linalg.norm(c.positions_m[:, last_plane] - c.positions_m[:, c.plane_of == 0],
                           axis=-1)
    assert naive.max() > SEAM_TO_CROSS_PLANE_MAX_RATIO * longest_cross_m


@pytest.mark.parametrize(
    ("overrides", "message"),
    [(dict(kind="delta"), "kind"), (dict(planes=0), "planes"),
     (dict(sats_per_plane=0), "sats_per_plane"), (dict(phasing=-1), "phasing"),
     (dict(phasing=3), "phasing"), (dict(planes=3.5), "planes")])
def test_plus_grid_edges_asserts_invalid_arguments(overrides, message):
    args = dict(kind="walker-delta", planes=3, sats_per_plane=4, phasing=1)
    args.update(overrides)
    with pytest.raises(AssertionError):
        plus_grid_edges(**args)


# --- isl_topology -------------------------------------------------------------

def test_topology_shapes_and_dtypes(starlink_delta):
    c, edges, topology = starlink_delta
    assert isinstance(topology, Topology)
    assert topology.num_nodes == c.num_satellites == 1584
    assert topology.num_links == len(edges) == 3168
    assert topology.num_snapshots == SAMPLES_PER_ORBIT
    np.testing.assert_array_equal(topology.edges, edges)
    np.testing.assert_array_equal(topology.times_s, c.times_s)
    assert topology.length_m.shape == topology.delay_ns.shape == topology.up.shape \
        == topology.feasible.shape == (SAMPLES_PER_ORBIT, 3168)
    assert topology.length_m.dtype == np.float64
    assert topology.delay_ns.dtype == np.int64
    # The two-argument call applies no feasibility rule and no outage.
    assert topology.up.dtype == np.bool_ and topology.up.all()
    assert topology.feasible.dtype == np.bool_ and topology.feasible.all()


def test_topology_built_by_hand_defaults_feasible_to_up():
    delay_ns = np.array([[10, 20], [30, 40]], dtype=np.int64)
    up = np.array([[True, False], [True, True]])
    fields = dict(num_nodes=3, edges=np.array([[0, 1], [1, 2]], dtype=np.int32),
                  times_s=np.arange(2.0), length_m=delay_ns * 0.3, delay_ns=delay_ns)
    topology = Topology(**fields, up=up)
    np.testing.assert_array_equal(topology.feasible, up)
    assert topology.feasible.dtype == np.bool_ and not np.shares_memory(topology.feasible, up)
    with pytest.raises(ValueError, match="feasible"):
        Topology(**fields, up=up, feasible=np.ones(2, dtype=bool))


def test_lengths_are_distances_between_satellites(starlink_delta):
    c, edges, topology = starlink_delta
    snapshot, link = 37, 1234
    a, b = edges[link]
    assert topology.length_m[snapshot, link] == pytest.approx(
        math.dist(c.positions_m[snapshot, a], c.positions_m[snapshot, b]), rel=1e-12)


@pytest.mark.parametrize(
    ("planes", "sats_per_plane", "phasing", "altitude_km"),
    [(72, 22, 39, 550.0), (3, 10, 1, 1000.0)])
def test_intra_plane_length_is_chord_of_slot_spacing(planes, sats_per_plane, phasing,
                                                     altitude_km):
    c = walker(planes=planes, sats_per_plane=sats_per_plane, phasing=phasing,
               altitude_km=altitude_km)
    edges = plus_grid_edges(kind="walker-delta", planes=planes, sats_per_plane=sats_per_plane,
                            phasing=phasing)
    topology = isl_topology(c, edges)
    intra = c.plane_of[edges[:, 0]] == c.plane_of[edges[:, 1]]
    chord_m = 2 * (EARTH_RADIUS_KM + altitude_km) * 1e3 * math.sin(math.pi / sats_per_plane)
    lengths_m = topology.length_m[:, intra]
    np.testing.assert_allclose(lengths_m, chord_m, rtol=INTRA_PLANE_INSTANT_REL_TOLERANCE)
    # Snapshots cover exactly one orbit, evenly spaced.
    np.testing.assert_allclose(lengths_m.mean(axis=0), chord_m,
                               atol=INTRA_PLANE_ORBIT_MEAN_TOLERANCE_M)


def test_starlink_intra_plane_length_is_about_1972_km(starlink_delta):
    c, edges, topology = starlink_delta
    intra = c.plane_of[edges[:, 0]] == c.plane_of[edges[:, 1]]
    assert topology.length_m[:, intra].mean() == pytest.approx(1972e3, abs=1e3)


def test_delay_is_length_over_speed_of_light(starlink_delta):
    _, _, topology = starlink_delta
    exact_ns = topology.length_m / SPEED_OF_LIGHT_M_S * 1e9
    assert np.abs(topology.delay_ns - exact_ns).max() <= DELAY_ROUNDING_TOLERANCE_NS


@pytest.mark.parametrize(
    ("edges", "message"),
    [(np.array([0, 1]), "shape"), (np.array([[0, 24]]), r"\[0, 23\]"),
     (np.array([[-1, 2]]), r"\[0, 23\]"), (np.array([[3, 3]]), "itself"),
     (np.array([[1, 2], [2, 1]]), "twice"), (np.array([[0.0, 1.0]]), "integers")])
def test_isl_topology_rejects_invalid_edges(edges, message):
    c = walker(planes=4, sats_per_plane=6, phasing=1, snapshot_count=2)
    with pytest.raises(ValueError, match=message):
        isl_topology(c, edges)


# --- line_of_sight_max_length_m ----------------------------------------------------

def test_line_of_sight_limit_at_550_km():
    assert line_of_sight_max_length_m(550.0) == pytest.approx(
        LOS_550_KM_REFERENCE_M, abs=LOS_REFERENCE_TOLERANCE_M)


@pytest.mark.parametrize(("altitude_km", "grazing_km"), [(550.0, 80.0), (1200.0, 100.0)])
def test_line_of_sight_chord_just_grazes_the_atmosphere(altitude_km, grazing_km):
    # Place two satellites on a circle of radius a, separated by the limit,
    # and find the lowest point of the straight segment between them.
    length_m = line_of_sight_max_length_m(altitude_km, grazing_altitude_km=grazing_km)
    radius_m = (EARTH_RADIUS_KM + altitude_km) * 1e3
    half_angle = math.asin(length_m / 2 / radius_m)
    a = radius_m * np.array([math.cos(half_angle), math.sin(half_angle)])
    b = radius_m * np.array([math.cos(half_angle), -math.sin(half_angle)])
    assert math.dist(a, b) == pytest.approx(length_m, rel=1e-12)
    points = a + np.linspace(0.0, 1.0, 100_001)[:, None] * (b - a)
    lowest_altitude_km = np.linalg.norm(points, axis=1).min() / 1e3 - EARTH_RADIUS_KM
    assert lowest_altitude_km == pytest.approx(grazing_km, abs=1e-3)


def test_line_of_sight_edge_cases():
    assert line_of_sight_max_length_m(80.0) == 0.0
    with pytest.raises(ValueError, match="below"):
        line_of_sight_max_length_m(50.0)
    with pytest.raises(ValueError, match="finite"):
        line_of_sight_max_length_m(float("nan"))
