"""Inter-satellite link (ISL) topology of a Walker constellation.

The "+Grid" pattern gives every satellite up to four laser links: to the
previous and next satellite of its own plane, and to the satellite in the
same slot of each adjacent plane.  Link lengths and propagation delays are
evaluated at every snapshot of a :class:`~harness.constellation.walker.Constellation`,
together with whether each link is physically feasible (its line of sight
clears the atmosphere, its terminals can track each other, cross-plane
links are off over the poles) and whether it survives random outages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from harness.network import spill
from harness.constellation.walker import EARTH_RADIUS_KM, SPEED_OF_LIGHT_M_S, WALKER_KINDS, Constellation, walker_shape

__all__ = [
    "Topology",
    "cross_plane_mask",
    "failure_snapshots",
    "geocentric_latitude_rad",
    "grazing_altitude_m",
    "isl_topology",
    "line_of_sight_max_length_m",
    "plus_grid_edges",
    "relative_angular_rate_rad_s",
    "satellite_failure_times_s",
    "with_failed_satellites",
]

_EARTH_RADIUS_M = EARTH_RADIUS_KM * 1e3


def plus_grid_edges(*, kind: str, planes: int, sats_per_plane: int, phasing: int) -> np.ndarray:
    """Undirected +Grid ISLs of a Walker constellation.

    Satellite ids follow :func:`~harness.constellation.walker.walker_constellation`:
    ``n = p * S + s`` for slot ``s`` of plane ``p``.  The links are

    * intra-plane: ``(p, s) - (p, (s+1) mod S)`` for every ``p, s``.  With
      ``S == 2`` this is one link per plane, with ``S == 1`` none;
    * cross-plane: ``(p, s) - (p+1, s)`` for ``p = 0 .. P-2``;
    * seam (``walker-delta`` only, ``P >= 3``): ``(P-1, s) - (0, (s+F) mod S)``.
      Continuing the phasing rule past the last plane, a fictitious plane
      ``P`` coincides with plane 0 (its RAAN has wrapped by 360 deg), and its
      slot ``s`` has mean anomaly ``s*360/S + P*F*360/(P*S) = (s+F)*360/S``:
      that is slot ``s+F`` of plane 0, the satellite travelling alongside
      ``(P-1, s)``.  With ``P == 2`` plane 0 is already plane 1's neighbour, so
      no seam is added.  A ``walker-star`` constellation has no seam: its
      first and last planes move in opposite directions where they meet.

    With ``P >= 3`` and ``S >= 3``, a walker-delta grid has exactly ``2 * P * S``
    links and every satellite has degree 4.

    Returns:
        ``[L, 2]`` int32 array of satellite ids, each row ``(a, b)`` with
        ``a < b``, rows sorted lexicographically and unique.

    The arguments' rules (known kind, ``planes, sats_per_plane >= 1``,
    ``phasing`` in ``[0, planes-1]``) are the scenario schema's; here they are asserted.
    """
    planes, sats_per_plane, phasing = walker_shape(kind, planes, sats_per_plane, phasing)

    plane, slot = np.meshgrid(np.arange(planes), np.arange(sats_per_plane), indexing="ij")
    sat_id = plane * sats_per_plane + slot  # [P, S]

    pairs = [
        # Intra-plane ring.
        np.stack([sat_id, np.roll(sat_id, -1, axis=1)], axis=-1).reshape(-1, 2),
        # Cross-plane rungs between consecutive planes.
        np.stack([sat_id[:-1], sat_id[1:]], axis=-1).reshape(-1, 2),
    ]
    if kind == "walker-delta" and planes >= 3:
        pairs.append(np.stack([sat_id[-1], np.roll(sat_id[0], -phasing)], axis=-1))

    edges = np.concatenate(pairs)
    edges = np.sort(edges, axis=1)
    # Small rings fold onto themselves: S == 1 yields self-loops and S == 2
    # yields each intra-plane link twice; drop both.
    edges = edges[edges[:, 0] != edges[:, 1]]
    return np.unique(edges, axis=0).astype(np.int32)


@dataclass(frozen=True)
class Topology:
    """ISLs over the snapshots.

    A link can be down at a snapshot for two reasons, recorded separately:
    ``feasible`` holds the deterministic rules (geometry and pointing, see
    :func:`isl_topology`), and ``up`` additionally removes random outages.
    Links that are ``feasible & ~up`` are in an outage.

    Attributes:
        num_nodes: number of nodes (satellites); node ids are ``0 .. num_nodes-1``.
        edges: ``[L, 2]`` int32 undirected links as node id pairs.
        times_s: ``[S]`` float64 snapshot times, seconds since the epoch.
        length_m: ``[S, L]`` float64 link lengths, metres.
        delay_ns: ``[S, L]`` int64 one-way propagation delays, nanoseconds,
            ``round(length_m / c * 1e9)``.
        up: ``[S, L]`` bool, whether each link is usable at each snapshot
            (``feasible`` and not in an outage).
        feasible: ``[S, L]`` bool, whether each link satisfies the geometry
            and tracking rules at each snapshot, outages aside.  Optional
            when constructing by hand: it defaults to a copy of ``up``
            (every down link is then taken to be infeasible, none an outage).
    """

    num_nodes: int
    edges: np.ndarray
    times_s: np.ndarray
    length_m: np.ndarray
    delay_ns: np.ndarray
    up: np.ndarray
    # Defaulted, and last, so that topologies built field by field before
    # this attribute existed keep working.
    feasible: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.feasible is None:
            # A frozen dataclass must go through object.__setattr__.
            object.__setattr__(self, "feasible", np.array(self.up, dtype=bool))
        elif np.shape(self.feasible) != np.shape(self.up):
            raise ValueError(
                f"feasible has shape {np.shape(self.feasible)}, "
                f"but up has shape {np.shape(self.up)}")

    @property
    def num_links(self) -> int:
        """Number of undirected links ``L``."""
        return int(self.edges.shape[0])

    @property
    def num_snapshots(self) -> int:
        """Number of snapshots ``S``."""
        return int(self.times_s.shape[0])


def _validated_edges(edges: np.ndarray, num_nodes: int) -> np.ndarray:
    """``edges`` as an ``[L, 2]`` int32 array, after checking it is usable."""
    edges = np.asarray(edges)
    if edges.ndim != 2 or edges.shape[1] != 2:
        raise ValueError(f"edges must have shape [L, 2], got {edges.shape}")
    if edges.size and not np.issubdtype(edges.dtype, np.integer):
        raise ValueError(f"edges must be integers, got dtype {edges.dtype}")
    if edges.size and (edges.min() < 0 or edges.max() >= num_nodes):
        raise ValueError(
            f"edges must name satellites in [0, {num_nodes - 1}], "
            f"got ids in [{edges.min()}, {edges.max()}]")
    if np.any(edges[:, 0] == edges[:, 1]):
        raise ValueError("edges must not link a satellite to itself")
    if np.unique(np.sort(edges, axis=1), axis=0).shape[0] != edges.shape[0]:
        # Duplicates would be double-counted by graph builders downstream.
        raise ValueError("edges must not contain the same link twice")
    return edges.astype(np.int32)


def _validated_states(name: str, states: np.ndarray) -> np.ndarray:
    states = np.asarray(states, dtype=np.float64)
    if states.ndim != 3 or states.shape[2] != 3:
        raise ValueError(f"{name} must have shape [S, N, 3], got {states.shape}")
    return states


def _dot(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Dot product over the last axis (``[..., 3] -> [...]``)."""
    return np.einsum("...i,...i->...", x, y)


def _line_of_sight_rate_rad_s(separation_m: np.ndarray,
                              relative_velocity_m_s: np.ndarray) -> np.ndarray:
    """``|r x v| / |r|^2`` over the last axis: the rate at which the unit
    vector ``r/|r|`` turns (its velocity is the part of ``v/|r|`` normal to ``r``)."""
    cross = np.cross(separation_m, relative_velocity_m_s)
    return np.sqrt(_dot(cross, cross)) / _dot(separation_m, separation_m)


#: Snapshots per block of :func:`isl_topology`'s per-link geometry (bounds its temporaries: at 64,
#: a [64, L, 3] float64 block of the hour's 3,168 ISLs is 4.9 MB, and a few of them live at once).
_SNAPSHOT_BLOCK = 64


def _segment_min_altitude_m(start_m: np.ndarray, end_m: np.ndarray) -> np.ndarray:
    """Lowest altitude above the spherical Earth of the segments ``start -> end``.

    ``[..., 3]`` points in metres (origin at the Earth's centre) -> ``[...]``.
    """
    direction_m = end_m - start_m
    # The point of the infinite line closest to the origin is
    # start + t*direction with t = -start.d / d.d; it lies strictly inside
    # the segment iff the origin is behind start and ahead of end along d.
    # Otherwise the segment's lowest point is its lower endpoint.
    inside = (_dot(start_m, direction_m) < 0.0) & (_dot(end_m, direction_m) > 0.0)
    endpoint_radius_m = np.minimum(np.sqrt(_dot(start_m, start_m)), np.sqrt(_dot(end_m, end_m)))
    # Distance from the origin to the line: |start x d| / |d|.  Crossing with
    # d rather than with end avoids the cancellation of two nearly parallel
    # ~7000 km vectors for short links.  ``inside`` implies d != 0.
    normal = np.cross(start_m, direction_m)
    radius_m = np.divide(np.sqrt(_dot(normal, normal)), np.sqrt(_dot(direction_m, direction_m)),
                         out=endpoint_radius_m, where=inside)
    return radius_m - _EARTH_RADIUS_M


def relative_angular_rate_rad_s(positions_m: np.ndarray, velocities_m_s: np.ndarray,
                                edges: np.ndarray) -> np.ndarray:
    """Angular rate of each link's line of sight, rad/s, in an inertial frame.

    With ``r = p_b - p_a`` and ``v = v_b - v_a`` for link ``(a, b)``, the
    unit vector ``r/|r|`` turns at ``omega = |r x v| / |r|^2``.  This is the
    slew rate a laser terminal must track if its satellite did not rotate.
    The satellites' own attitude rotation (about the orbital rate, ~0.001
    rad/s in LEO, for an Earth-pointing bus) is ignored; it is small next
    to the tracking limits of interest (~0.1 rad/s).  TEME is treated as
    inertial: its own slow precession is negligible here.

    Args:
        positions_m: ``[S, N, 3]`` satellite positions, metres.
        velocities_m_s: ``[S, N, 3]`` satellite velocities, m/s.
        edges: ``[L, 2]`` integer node id pairs.

    Returns:
        ``[S, L]`` float64, rad/s (``>= 0``).

    Raises:
        ValueError: on mismatched shapes or invalid edges (see :func:`isl_topology`).
    """
    positions_m = _validated_states("positions_m", positions_m)
    velocities_m_s = _validated_states("velocities_m_s", velocities_m_s)
    if positions_m.shape != velocities_m_s.shape:
        raise ValueError(
            f"positions_m {positions_m.shape} and velocities_m_s "
            f"{velocities_m_s.shape} must have the same shape")
    edges = _validated_edges(edges, positions_m.shape[1])
    a, b = edges[:, 0], edges[:, 1]
    return _line_of_sight_rate_rad_s(positions_m[:, b] - positions_m[:, a],
                                     velocities_m_s[:, b] - velocities_m_s[:, a])


def grazing_altitude_m(positions_m: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Lowest altitude, metres, of the straight line of sight of each link.

    The altitude of a point is its distance from the Earth's centre minus
    :data:`~harness.constellation.walker.EARTH_RADIUS_KM` (a spherical Earth of
    equatorial radius: the ~21 km polar flattening is not modelled, which
    makes the rule conservative at high latitudes).  The lowest point of the segment between
    the two satellites is the foot of the perpendicular from the centre if
    that falls inside the segment, else the lower satellite.  Negative
    values mean the line of sight passes below the surface.

    Args:
        positions_m: ``[S, N, 3]`` positions with the origin at the Earth's
            centre (e.g. TEME), metres.
        edges: ``[L, 2]`` integer node id pairs.

    Returns:
        ``[S, L]`` float64, metres.

    Raises:
        ValueError: on a bad ``positions_m`` shape or invalid edges.
    """
    positions_m = _validated_states("positions_m", positions_m)
    edges = _validated_edges(edges, positions_m.shape[1])
    return _segment_min_altitude_m(positions_m[:, edges[:, 0]], positions_m[:, edges[:, 1]])


def geocentric_latitude_rad(positions_m: np.ndarray) -> np.ndarray:
    """Geocentric latitude, radians in ``[-pi/2, pi/2]``, of positions ``[..., 3]``.

    ``asin(z / |r|)``, computed as ``atan2(z, hypot(x, y))`` (the same angle,
    but well conditioned near the poles).  For TEME positions this is the
    latitude with respect to the Earth's rotation axis: TEME's z axis is
    the true pole of date (precession and nutation already applied), which
    differs from the rotation axis only by polar motion, under an
    arcsecond.  Returns ``positions_m.shape[:-1]``.
    """
    positions_m = np.asarray(positions_m, dtype=np.float64)
    return np.arctan2(positions_m[..., 2], np.hypot(positions_m[..., 0], positions_m[..., 1]))


def cross_plane_mask(constellation: Constellation, edges: np.ndarray) -> np.ndarray:
    """``[L]`` bool: which links join satellites of different orbital planes
    (ordinary cross-plane links and the seam)."""
    edges = _validated_edges(edges, constellation.num_satellites)
    plane_of = constellation.plane_of
    return plane_of[edges[:, 0]] != plane_of[edges[:, 1]]


def isl_topology(
    constellation: Constellation,
    edges: np.ndarray,
    *,
    grazing_altitude_km: float | None = None,
    max_angular_rate_rad_s: float | None = None,
    polar_cutoff_deg: float | None = None,
    survival_probability: float = 1.0,
    rng: np.random.Generator | None = None,
    lengths: bool = True,
) -> Topology:
    """Lengths, propagation delays and availability of ``edges`` at every snapshot.

    Lengths are straight-line distances between the satellites' TEME
    positions at each snapshot; delays assume vacuum propagation at
    :data:`~harness.constellation.walker.SPEED_OF_LIGHT_M_S`.

    A link is ``feasible`` at a snapshot iff all of these hold:

    * line of sight: ``grazing_altitude_km`` is None, or the segment
      between the satellites stays at or above it (see
      :func:`grazing_altitude_m`; a link between two satellites at the same
      altitude passes iff it is no longer than
      :func:`line_of_sight_max_length_m`, up to rounding);
    * tracking: ``max_angular_rate_rad_s`` is None, or the line of sight
      turns slower than it (see :func:`relative_angular_rate_rad_s`);
    * polar cutoff: ``polar_cutoff_deg`` is None, or the link is
      intra-plane, or both satellites are within ``polar_cutoff_deg`` of
      the equator in geocentric latitude (cross-plane terminals are
      switched off over the poles, where adjacent planes cross).

    It is ``up`` iff it is feasible and survives an independent Bernoulli
    trial of probability ``survival_probability`` per link and snapshot.
    The draws are ``rng.random((S, L)) < survival_probability`` for all
    links, feasible or not, so that a seed gives the same outage pattern
    whatever the geometric rules.  With ``survival_probability == 1`` no
    random number is drawn and ``rng`` is not used.

    With the default arguments every link is feasible and up, as before
    these rules existed.  The line-of-sight rule is opt-in (the usual value
    is 80 km) because sparse test shells such as 6x8 at 550 km have +Grid
    links that pass through the Earth, and would be left disconnected.

    Args:
        constellation: satellite states.
        edges: ``[L, 2]`` integer node id pairs, e.g. from :func:`plus_grid_edges`.
        grazing_altitude_km: lowest altitude a beam may pass through, km,
            in ``[0, lowest satellite altitude)``, or None for no limit.
        max_angular_rate_rad_s: tracking limit, rad/s (> 0), or None for none.
        polar_cutoff_deg: latitude limit for cross-plane links, degrees in
            ``(0, 90]``, or None for none.
        survival_probability: probability in ``[0, 1]`` that a link is not
            in an outage at a snapshot.
        rng: source of the outage draws; required if ``survival_probability < 1``.
        lengths: False leaves the lengths out (``length_m`` is then a zero-memory read-only NaN
            array): a long run keeps only the delays, and never holds both at once.

    Raises:
        ValueError: if ``edges`` is not ``[L, 2]`` integers, names a satellite
            outside the constellation, links a satellite to itself, or repeats
            a link. The other arguments' rules are asserted only (the scenario
            schema checks them).
    """
    num_nodes = constellation.num_satellites
    edges = _validated_edges(edges, num_nodes)
    positions_m = constellation.positions_m

    # The rules of these arguments are the scenario schema's (harness/scenario.py, which also keeps
    # the grazing altitude clear of SGP4's lowest satellite); here they are only asserted.
    assert grazing_altitude_km is None or 0.0 <= grazing_altitude_km < float(
        np.sqrt(_dot(positions_m, positions_m)).min()) / 1e3 - EARTH_RADIUS_KM, "grazing above the lowest satellite"
    assert max_angular_rate_rad_s is None or 0.0 < max_angular_rate_rad_s < math.inf, max_angular_rate_rad_s
    assert polar_cutoff_deg is None or 0.0 < polar_cutoff_deg <= 90.0, polar_cutoff_deg
    assert 0.0 <= survival_probability <= 1.0, survival_probability
    assert survival_probability == 1.0 or isinstance(rng, np.random.Generator), "outages need a Generator"

    a, b = edges[:, 0], edges[:, 1]
    steps = positions_m.shape[0]
    length_m = np.empty((steps, len(edges))) if lengths else np.broadcast_to(np.array(np.nan), (steps, len(edges)))
    # The [S, L] state goes to files a block at a time (spill.py): never all in memory at once.
    delay_ns = spill.empty((steps, len(edges)), np.int64)
    feasible = spill.empty((steps, len(edges)), bool)
    cross_plane = constellation.plane_of[a] != constellation.plane_of[b]
    # In blocks of snapshots: the [block, L, 3] endpoint and separation temporaries stay bounded
    # however long the run (elementwise arithmetic, so the same values as all snapshots at once).
    for first in range(0, steps, _SNAPSHOT_BLOCK):
        block = slice(first, min(steps, first + _SNAPSHOT_BLOCK))
        feasible[block] = True
        start_m, end_m = positions_m[block][:, a], positions_m[block][:, b]
        separation_m = end_m - start_m
        block_length_m = np.sqrt(_dot(separation_m, separation_m))
        if lengths:
            length_m[block] = block_length_m
        delay_ns[block] = np.rint(block_length_m * (1e9 / SPEED_OF_LIGHT_M_S))
        if grazing_altitude_km is not None:
            feasible[block] &= _segment_min_altitude_m(start_m, end_m) >= grazing_altitude_km * 1e3
        if max_angular_rate_rad_s is not None:
            velocities_m_s = constellation.velocities_m_s[block]
            rate_rad_s = _line_of_sight_rate_rad_s(
                separation_m, velocities_m_s[:, b] - velocities_m_s[:, a])
            feasible[block] &= rate_rad_s < max_angular_rate_rad_s
        if polar_cutoff_deg is not None:
            # Latitude per satellite first ([S, N]), then gathered per link
            # endpoint: cheaper than per link when links outnumber satellites.
            latitude_rad = geocentric_latitude_rad(positions_m[block])
            below_cutoff = np.abs(latitude_rad) <= math.radians(polar_cutoff_deg)
            feasible[block] &= ~cross_plane | (below_cutoff[:, a] & below_cutoff[:, b])
        spill.release(delay_ns, feasible)

    if survival_probability < 1.0:
        # Drawn in blocks of rows, in order: the same stream as one draw of feasible.shape (the
        # Generator fills an array in C order), without an [S, L] float64 temporary.
        up = spill.empty(feasible.shape, bool)
        for first in range(0, steps, _SNAPSHOT_BLOCK):
            block = slice(first, min(steps, first + _SNAPSHOT_BLOCK))
            up[block] = feasible[block] & (rng.random(feasible[block].shape) < survival_probability)
            spill.release(up, feasible)
    else:
        # A copy, so that editing one array in place cannot change the other.
        up = spill.empty(feasible.shape, bool)
        for first in range(0, steps, _SNAPSHOT_BLOCK):
            up[first:first + _SNAPSHOT_BLOCK] = feasible[first:first + _SNAPSHOT_BLOCK]
            spill.release(up, feasible)

    return Topology(
        num_nodes=num_nodes,
        edges=edges,
        times_s=constellation.times_s,
        length_m=length_m,
        delay_ns=delay_ns,
        up=up,
        feasible=feasible,
    )


def line_of_sight_max_length_m(altitude_km: float, grazing_altitude_km: float = 80.0) -> float:
    """Longest link between two satellites at ``altitude_km`` that clears
    the atmosphere, in metres.

    The link is the chord of the sphere of radius ``a = R + altitude_km``
    that is tangent to the sphere of radius ``R + grazing_altitude_km``
    (the lowest altitude the beam may pass through, 80 km by default, to
    stay above the dense atmosphere): ``2 * sqrt(a^2 - (R + grazing)^2)``.
    It is the length at which :func:`grazing_altitude_m` of two satellites
    at ``altitude_km`` equals ``grazing_altitude_km``, so the line-of-sight
    rule of :func:`isl_topology` keeps exactly the shorter links (up to
    rounding, well under a millimetre).

    Raises:
        ValueError: if ``altitude_km < grazing_altitude_km`` or either
            altitude is not finite.
    """
    altitude_km = float(altitude_km)
    grazing_altitude_km = float(grazing_altitude_km)
    if not (math.isfinite(altitude_km) and math.isfinite(grazing_altitude_km)):
        raise ValueError("altitudes must be finite")
    if altitude_km < grazing_altitude_km:
        raise ValueError(
            f"altitude_km={altitude_km} is below grazing_altitude_km={grazing_altitude_km}")
    orbit_radius_km = EARTH_RADIUS_KM + altitude_km
    grazing_radius_km = EARTH_RADIUS_KM + grazing_altitude_km
    return 2.0 * math.sqrt(orbit_radius_km**2 - grazing_radius_km**2) * 1e3


# ---------------------------------------------------------------------------------------------
# Satellite failures


def satellite_failure_times_s(num_satellites: int, explicit: tuple = (), rate_per_s: float = 0.0,
                              rng: np.random.Generator | None = None) -> np.ndarray:
    """``[N]`` float64 time at which each satellite goes dark, s (``inf``: never).

    ``explicit`` is ``((satellite, time_s), ...)``; with ``rate_per_s > 0`` every satellite also
    fails at an independent exponential time of that rate drawn from ``rng`` (one draw per
    satellite, whatever ``explicit`` holds). A satellite named twice fails at the earliest time.

    >>> satellite_failure_times_s(3, ((1, 2.5),)).tolist()
    [inf, 2.5, inf]
    """
    times = np.full(num_satellites, np.inf)
    if rate_per_s > 0:
        times = rng.exponential(1.0 / rate_per_s, size=num_satellites)
    for sat, t in explicit:
        times[sat] = min(times[sat], t)
    return times


def failure_snapshots(times_s: np.ndarray, fail_times_s: np.ndarray) -> np.ndarray:
    """``[N]`` int index of the first snapshot starting at or after each failure time (``len(times_s)``:
    after the last snapshot, i.e. never within the run). Failures are aligned to snapshots so that a
    satellite's links and its components go dark at the same instant."""
    # A tolerance of 1 ns keeps a failure given at a snapshot's own time in that snapshot.
    return np.searchsorted(times_s, np.asarray(fail_times_s) - 1e-9, side="left")


def with_failed_satellites(topology: Topology, failed_from: np.ndarray) -> Topology:
    """The topology with every link of a failed satellite down from its failure snapshot on.

    ``failed_from`` is ``[N]`` snapshot index (``num_snapshots`` or more: never), as from
    :func:`failure_snapshots`. ``feasible`` is unchanged: a dead satellite's links are down, not
    geometrically impossible.
    """
    steps = np.arange(topology.num_snapshots)[:, None]
    dead = steps >= np.asarray(failed_from)[None, :]  # [S, N]
    a, b = topology.edges[:, 0], topology.edges[:, 1]
    up = topology.up & ~dead[:, a] & ~dead[:, b]
    return Topology(num_nodes=topology.num_nodes, edges=topology.edges, times_s=topology.times_s,
                    length_m=topology.length_m, delay_ns=topology.delay_ns, up=up, feasible=topology.feasible)
