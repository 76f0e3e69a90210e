"""Formation clusters: N satellites a few hundred metres apart on one reference orbit, in a
passively bounded formation, propagated with SGP4 like every other satellite.

The design (docs/clusters.md): a **general circular orbit (GCO) formation** (or, as an option, a
projected circular orbit, PCO), after Sabol, Burns & McLaughlin, "Satellite formation flying
design and evolution", J. Spacecraft and Rockets 38(2), 2001, and Alfriend, Vadali, Gurfil, How &
Breger, *Spacecraft Formation Flying*, Elsevier 2010, ch. 5.

Hill frame of the reference (chief) orbit: x radial, y along-track, z cross-track (along the
orbit normal). The Clohessy-Wiltshire (CW) equations' bounded solutions, with ``n`` the mean
motion, ``theta = n t + phi``, are

    x = (rho / 2) cos(theta),  y = y_c - rho sin(theta),  z = k rho cos(theta)

(the along-track drift term is zero: ``vy0 = -2 n x0``). Every satellite of the cluster is a
point ``(p, q) = rho (cos phi, sin phi)`` of a 2-D lattice (hexagonal or square, ``spacing_m``
apart, the N points nearest the centre); at ``t = 0`` it sits at ``(p / 2, -q, k p)``.

- GCO, ``k = sqrt(3)/2``: ``|r|^2 = (p^2 + q^2)`` at every instant, and so is every pair's
  separation: the whole lattice turns rigidly, once per orbit, in a plane holding the along-track
  axis tilted 60 deg from the radial towards the cross-track axis. Neighbours stay ``spacing_m``
  apart to first order.
- PCO, ``k = 1``: the lattice turns rigidly in its projection on the along-track / cross-track
  plane; separations vary between ``1`` and ``sqrt(1.25)`` times the projected ones.

Each CW state becomes the satellite's own mean elements (near-circular linearised relative orbit
elements, D'Amico 2010, "Autonomous formation flying in low Earth orbit", TU Delft thesis, eq.
2.20): with the reference at argument of latitude ``u0`` at the epoch, semi-major axis ``a`` and
inclination ``i``,

    eccentricity vector   e (cos w, sin w) = (rho / 2a) (cos(u0 - phi + pi), sin(u0 - phi + pi))
    inclination           i + delta_i,  delta_i = -k rho sin(phi - u0) / a
    node                  Omega + delta_Omega,  delta_Omega = -k rho cos(phi - u0) / (a sin i)
    mean arg. of latitude u0 + y_c / a - delta_Omega cos i

and the same semi-major axis (no CW drift). SGP4 then adds what the linear model leaves out:
J2's secular rates differ between satellites of different ``e`` and ``i``. With
``match_j2_drift`` (the default) each satellite's mean motion is nudged (a few mm/s) until SGP4's
secular along-track rate ``Mdot + wdot + Omegadot cos i`` equals the reference's, after Schaub &
Alfriend, "J2 invariant relative orbits for spacecraft formations", Celestial Mechanics and
Dynamical Astronomy 79, 2001; what remains is the differential nodal drift of the cross-track
motion (``delta_i`` turns the node at a different rate), ~100 m per day at 1 km (the tests
report it).

Several clusters share the orbit, cluster ``c`` centred ``c x cluster_separation_km`` along-track
ahead of cluster 0 (or spread evenly around the orbit). Satellite ``c x S + s`` is satellite ``s``
of cluster ``c``; the :class:`~harness.constellation.walker.Constellation` calls the clusters
"planes" and the satellites "slots", and its ``arg_latitude_rad`` is each satellite's actual
argument of latitude at the epoch (the cluster's centre plus ``y / a``), so cuts "along the
orbiting direction" slice a cluster into along-track slabs.

This module takes plain numbers (it sits below the scenario schema, which calls
:func:`lattice_points` and :func:`cw_positions_m` to check a cluster at load time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sgp4.api import WGS72, Satrec, SatrecArray

from harness.constellation.walker import (EARTH_RADIUS_KM, Constellation, _MAX_SATNUM, _SECONDS_PER_DAY,
                                          _sgp4_epoch_days, orbital_period_s)

__all__ = ["FORMATIONS", "LATTICES", "ClusterDesign", "cluster_constellation", "cluster_design", "cluster_satrecs",
           "cw_positions_m", "greedy_mesh", "lattice_points", "min_separation_m"]

#: Formation designs: the cross-track amplitude k of the bounded CW orbits (module docstring).
FORMATIONS = {"gco": math.sqrt(3.0) / 2.0, "pco": 1.0}
#: Lattices of the cluster plane.
LATTICES = ("hexagonal", "square")


def lattice_points(lattice: str, spacing_m: float, count: int) -> np.ndarray:
    """[count, 2] the ``count`` points of a hexagonal or square lattice of ``spacing_m`` nearest
    the origin (the origin included; ties by angle from +p, then p, then q), metres."""
    assert lattice in LATTICES and spacing_m > 0 and count >= 1, (lattice, spacing_m, count)
    reach = int(math.ceil(math.sqrt(count))) + 2
    i, j = np.meshgrid(np.arange(-reach, reach + 1), np.arange(-reach, reach + 1), indexing="ij")
    i, j = i.ravel().astype(np.float64), j.ravel().astype(np.float64)
    if lattice == "hexagonal":
        p, q = i + 0.5 * j, j * (math.sqrt(3.0) / 2.0)
    else:
        p, q = i, j
    radius = np.round(np.hypot(p, q), 9)
    angle = np.round(np.mod(np.arctan2(q, p), 2 * np.pi), 9)
    order = np.lexsort((q, p, angle, radius))[:count]
    return np.column_stack([p[order], q[order]]) * float(spacing_m)


def cw_positions_m(points_m: np.ndarray, formation: str, phase_rad, along_offset_m=0.0) -> np.ndarray:
    """Hill-frame positions (x radial, y along-track, z cross-track), metres, of lattice points
    ``[N, 2]`` at orbital phase ``n t`` (scalar or ``[T]``): ``[N, 3]`` or ``[T, N, 3]``.
    ``along_offset_m`` (scalar or [N]) is each satellite's constant along-track offset y_c."""
    k = FORMATIONS[formation]
    p, q = points_m[:, 0], points_m[:, 1]
    rho, phi = np.hypot(p, q), np.arctan2(q, p)
    theta = np.add.outer(np.asarray(phase_rad, dtype=np.float64), phi)
    x = 0.5 * rho * np.cos(theta)
    y = np.asarray(along_offset_m) - rho * np.sin(theta)
    z = k * rho * np.cos(theta)
    return np.stack([x, y, z], axis=-1)


def min_separation_m(points_m: np.ndarray, formation: str, samples: int = 72) -> float:
    """The smallest distance between two satellites of one cluster over an orbit (CW), metres."""
    if len(points_m) < 2:
        return math.inf
    pos = cw_positions_m(points_m, formation, np.linspace(0.0, 2 * np.pi, samples, endpoint=False))
    a, b = np.triu_indices(len(points_m), 1)
    # One sample at a time ([pairs, 3], not [samples, pairs, 3]: 14 GB for 4096 satellites); the same minimum.
    return min(float(np.linalg.norm(pos[t, a] - pos[t, b], axis=-1).min()) for t in range(len(pos)))


@dataclass(frozen=True)
class ClusterDesign:
    """Everything the elements and the mesh need, in plain numbers.

    Attributes:
        semi_major_axis_m, inclination_rad, raan_rad: the reference orbit.
        cluster_arg_latitude_rad: ``[C]`` each cluster centre's argument of latitude at the epoch.
        points_m: ``[S, 2]`` the lattice (one cluster's; every cluster has the same).
        formation: "gco" or "pco".
        hill_epoch_m: ``[C x S, 3]`` each satellite's CW position at the epoch relative to its own
            cluster's centre (x radial, y along-track, z cross-track), metres.
    """

    semi_major_axis_m: float
    inclination_rad: float
    raan_rad: float
    cluster_arg_latitude_rad: np.ndarray
    points_m: np.ndarray
    formation: str
    hill_epoch_m: np.ndarray

    @property
    def clusters(self) -> int:
        return len(self.cluster_arg_latitude_rad)

    @property
    def per_cluster(self) -> int:
        return len(self.points_m)

    @property
    def cluster_of(self) -> np.ndarray:
        return (np.arange(self.clusters * self.per_cluster) // self.per_cluster).astype(np.int32)


def cluster_design(*, clusters: int, sats_per_cluster: int, formation: str, lattice: str, spacing_m: float,
                   altitude_km: float, inclination_deg: float, raan_deg: float,
                   cluster_separation_km: float | None) -> ClusterDesign:
    """The formation's geometry (no propagation)."""
    assert formation in FORMATIONS and clusters >= 1, (formation, clusters)
    a_m = (EARTH_RADIUS_KM + float(altitude_km)) * 1e3
    if cluster_separation_km is None:
        step = 2 * np.pi / clusters
    else:
        step = float(cluster_separation_km) * 1e3 / a_m
    u0 = np.mod(np.arange(clusters) * step, 2 * np.pi)
    points = lattice_points(lattice, spacing_m, sats_per_cluster)
    hill = np.tile(cw_positions_m(points, formation, 0.0), (clusters, 1))
    return ClusterDesign(a_m, math.radians(inclination_deg), math.radians(raan_deg % 360.0), u0, points, formation,
                         hill)


#: SGP4 raises every eccentricity below this to it while it propagates (``if em < 1e-6: em = 1e-6``
#: in Vallado's sgp4), which would move a satellite of eccentricity ~0 by up to 7 m, along its
#: argument of perigee, whatever the formation wants.
SGP4_MIN_ECCENTRICITY = 1e-6


def common_eccentricity(design: ClusterDesign) -> float:
    """The eccentricity shared by the reference and every satellite (perigee at 90 deg, as a frozen
    orbit's): the largest formation eccentricity plus twice SGP4's floor, so that no satellite's is
    clamped. It moves every satellite alike (a ~0.5 km radial breath for a 1 km cluster), which the
    relative motion feels only at second order (e x separation: centimetres)."""
    rho = np.hypot(design.points_m[:, 0], design.points_m[:, 1]).max()
    return float(0.5 * rho / design.semi_major_axis_m + 2 * SGP4_MIN_ECCENTRICITY)


def _element_offsets(design: ClusterDesign) -> tuple[np.ndarray, ...]:
    """[C x S] (eccentricity, argument of perigee, inclination, RAAN, mean argument of latitude), rad."""
    a, inc, k = design.semi_major_axis_m, design.inclination_rad, FORMATIONS[design.formation]
    p, q = np.tile(design.points_m[:, 0], design.clusters), np.tile(design.points_m[:, 1], design.clusters)
    rho, phi = np.hypot(p, q), np.arctan2(q, p)
    u0 = np.repeat(design.cluster_arg_latitude_rad, design.per_cluster)
    # Each satellite's eccentricity vector: the common one (see common_eccentricity) plus its own.
    d_ecc, d_argp = 0.5 * rho / a, u0 - phi + np.pi
    e0 = common_eccentricity(design)
    ex, ey = d_ecc * np.cos(d_argp), e0 + d_ecc * np.sin(d_argp)
    ecc, argp = np.hypot(ex, ey), np.mod(np.arctan2(ey, ex), 2 * np.pi)
    gamma = phi - u0
    d_inc = -k * rho * np.sin(gamma) / a
    d_raan = -k * rho * np.cos(gamma) / (a * math.sin(inc))
    u = u0 - d_raan * math.cos(inc)  # y_c = 0: every satellite's along-track offset is periodic
    return ecc, argp, inc + d_inc, design.raan_rad + d_raan, u


def _along_track_rate(satrec: Satrec, inc: float) -> float:
    """SGP4's secular rate of the mean argument of latitude plus the node's along-track share, rad/min."""
    return satrec.mdot + satrec.argpdot + satrec.nodedot * math.cos(inc)


def cluster_satrecs(design: ClusterDesign, epoch_utc: datetime, *, match_j2_drift: bool = True
                    ) -> tuple[list[Satrec], Satrec]:
    """(the satellites' SGP4 records, the reference orbit's record: the centre of cluster 0)."""
    period_s = orbital_period_s(design.semi_major_axis_m / 1e3 - EARTH_RADIUS_KM)
    n0 = 2.0 * math.pi / (period_s / 60.0)  # rad/min, Kozai mean motion (as Walker shells)
    epoch_days = _sgp4_epoch_days(epoch_utc)

    def record(num: int, ecc: float, argp: float, inc: float, raan: float, mean_anomaly: float, n: float) -> Satrec:
        satrec = Satrec()
        satrec.sgp4init(WGS72, "i", num % _MAX_SATNUM + 1, epoch_days, 0.0, 0.0, 0.0, float(ecc), float(argp),
                        float(inc), float(np.mod(mean_anomaly, 2 * np.pi)), float(n), float(raan))
        return satrec

    reference = record(0, common_eccentricity(design), np.pi / 2, design.inclination_rad, design.raan_rad,
                       float(design.cluster_arg_latitude_rad[0]) - np.pi / 2, n0)
    target = _along_track_rate(reference, design.inclination_rad)
    ecc, argp, inc, raan, u = _element_offsets(design)
    satrecs = []
    for sat in range(len(ecc)):
        n = n0
        satrec = record(sat, ecc[sat], argp[sat], inc[sat], raan[sat], u[sat] - argp[sat], n)
        if match_j2_drift:
            # Newton on the mean motion: d(rate)/dn is 1 to 1e-3, so three steps reach round-off.
            for _ in range(3):
                n -= _along_track_rate(satrec, design.inclination_rad) - target
                satrec = record(sat, ecc[sat], argp[sat], inc[sat], raan[sat], u[sat] - argp[sat], n)
        satrecs.append(satrec)
    return satrecs, reference


def propagate(satrecs: list[Satrec], times_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """([T, N, 3] positions m, [T, N, 3] velocities m/s) in TEME at ``times_s`` after the epoch."""
    jd_whole = np.full(len(times_s), satrecs[0].jdsatepoch)
    jd_fraction = satrecs[0].jdsatepochF + np.asarray(times_s, dtype=np.float64) / _SECONDS_PER_DAY
    errors, r_km, v_km_s = SatrecArray(satrecs).sgp4(jd_whole, jd_fraction)
    if np.any(errors):
        sat, snap = np.argwhere(errors)[0]
        raise ValueError(f"SGP4 error code {int(errors[sat, snap])} for cluster satellite {int(sat)} at "
                         f"t = {times_s[snap]:g} s")
    return (np.ascontiguousarray(r_km.transpose(1, 0, 2)) * 1e3,
            np.ascontiguousarray(v_km_s.transpose(1, 0, 2)) * 1e3)


def cluster_constellation(design: ClusterDesign, *, epoch_utc: datetime, snapshot_count: int,
                          snapshot_interval_s: float, match_j2_drift: bool = True) -> Constellation:
    """Propagate the cluster(s) with SGP4 over evenly spaced snapshots (see the module docstring)."""
    satrecs, _ = cluster_satrecs(design, epoch_utc, match_j2_drift=match_j2_drift)
    times_s = np.arange(snapshot_count, dtype=np.float64) * snapshot_interval_s
    positions_m, velocities_m_s = propagate(satrecs, times_s)
    total = len(satrecs)
    u0 = np.repeat(design.cluster_arg_latitude_rad, design.per_cluster)
    arg_latitude = np.mod(u0 + design.hill_epoch_m[:, 1] / design.semi_major_axis_m, 2 * np.pi)
    return Constellation(planes=design.clusters, sats_per_plane=design.per_cluster, times_s=times_s,
                         positions_m=positions_m, velocities_m_s=velocities_m_s,
                         plane_of=design.cluster_of, slot_of=(np.arange(total) % design.per_cluster).astype(np.int32),
                         arg_latitude_rad=arg_latitude)


def hill_frame(reference_r_m: np.ndarray, reference_v_m_s: np.ndarray) -> np.ndarray:
    """[T, 3, 3] rows: the radial, along-track and cross-track unit vectors of the reference."""
    x = reference_r_m / np.linalg.norm(reference_r_m, axis=-1, keepdims=True)
    z = np.cross(reference_r_m, reference_v_m_s)
    z /= np.linalg.norm(z, axis=-1, keepdims=True)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=-2)


def greedy_mesh(positions_m: np.ndarray, max_length_m: float, terminals: int) -> np.ndarray:
    """[L, 2] the shortest-first greedy links among ``positions_m`` ([N, 3], one cluster's): the mesh of
    harness/network/mesh.py, here so that the scenario's rules can check it before a run."""
    n = len(positions_m)
    a, b = np.triu_indices(n, 1)
    length_mm = np.round(np.linalg.norm(positions_m[a] - positions_m[b], axis=-1) * 1e3)
    keep = length_mm <= max_length_m * 1e3
    a, b, length_mm = a[keep], b[keep], length_mm[keep]
    order = np.lexsort((b, a, length_mm))
    free = np.full(n, terminals, dtype=np.int64)
    chosen = []
    for i in order.tolist():  # one pass over the candidate pairs, once per run
        x, y = int(a[i]), int(b[i])
        if free[x] and free[y]:
            free[x] -= 1
            free[y] -= 1
            chosen.append((x, y))
    return np.array(chosen, dtype=np.int32).reshape(-1, 2)
