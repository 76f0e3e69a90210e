"""Inter-satellite link (ISL) topology of a Walker constellation.

The "+Grid" pattern gives every satellite up to four laser links: to the
previous and next satellite of its own plane, and to the satellite in the
same slot of each adjacent plane.  Link lengths and propagation delays are
evaluated at every snapshot of a :class:`~harness.constellation.Constellation`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .constellation import (
    EARTH_RADIUS_KM,
    SPEED_OF_LIGHT_M_S,
    WALKER_KINDS,
    Constellation,
    _require_int,
)

__all__ = [
    "Topology",
    "isl_topology",
    "line_of_sight_max_length_m",
    "plus_grid_edges",
]


def plus_grid_edges(*, kind: str, planes: int, sats_per_plane: int, phasing: int) -> np.ndarray:
    """Undirected +Grid ISLs of a Walker constellation.

    Satellite ids follow :func:`~harness.constellation.walker_constellation`:
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

    Raises:
        ValueError: on an unknown kind, ``planes < 1``, ``sats_per_plane < 1``
            or ``phasing`` outside ``[0, planes-1]``.
    """
    if kind not in WALKER_KINDS:
        raise ValueError(
            f"kind must be one of {sorted(WALKER_KINDS)}, got {kind!r}")
    planes = _require_int("planes", planes, 1)
    sats_per_plane = _require_int("sats_per_plane", sats_per_plane, 1)
    phasing = _require_int("phasing", phasing, 0)
    if phasing > planes - 1:
        raise ValueError(
            f"phasing must be in [0, planes-1] = [0, {planes - 1}], got {phasing}")

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

    Attributes:
        num_nodes: number of nodes (satellites); node ids are ``0 .. num_nodes-1``.
        edges: ``[L, 2]`` int32 undirected links as node id pairs.
        times_s: ``[S]`` float64 snapshot times, seconds since the epoch.
        length_m: ``[S, L]`` float64 link lengths, metres.
        delay_ns: ``[S, L]`` int64 one-way propagation delays, nanoseconds,
            ``round(length_m / c * 1e9)``.
        up: ``[S, L]`` bool, whether each link is usable at each snapshot.
    """

    num_nodes: int
    edges: np.ndarray
    times_s: np.ndarray
    length_m: np.ndarray
    delay_ns: np.ndarray
    up: np.ndarray

    @property
    def num_links(self) -> int:
        """Number of undirected links ``L``."""
        return int(self.edges.shape[0])

    @property
    def num_snapshots(self) -> int:
        """Number of snapshots ``S``."""
        return int(self.times_s.shape[0])


def isl_topology(constellation: Constellation, edges: np.ndarray) -> Topology:
    """Lengths and propagation delays of ``edges`` at every snapshot.

    Lengths are straight-line distances between the satellites' TEME
    positions at each snapshot; delays assume vacuum propagation at
    :data:`~harness.constellation.SPEED_OF_LIGHT_M_S`.  Every link is marked
    up (feasibility and outages are applied elsewhere).

    Args:
        constellation: satellite states.
        edges: ``[L, 2]`` integer node id pairs, e.g. from :func:`plus_grid_edges`.

    Raises:
        ValueError: if ``edges`` is not ``[L, 2]`` integers, names a satellite
            outside the constellation, links a satellite to itself, or repeats
            a link.
    """
    edges = np.asarray(edges)
    if edges.ndim != 2 or edges.shape[1] != 2:
        raise ValueError(f"edges must have shape [L, 2], got {edges.shape}")
    if edges.size and not np.issubdtype(edges.dtype, np.integer):
        raise ValueError(f"edges must be integers, got dtype {edges.dtype}")
    num_nodes = constellation.num_satellites
    if edges.size and (edges.min() < 0 or edges.max() >= num_nodes):
        raise ValueError(
            f"edges must name satellites in [0, {num_nodes - 1}], "
            f"got ids in [{edges.min()}, {edges.max()}]")
    if np.any(edges[:, 0] == edges[:, 1]):
        raise ValueError("edges must not link a satellite to itself")
    if np.unique(np.sort(edges, axis=1), axis=0).shape[0] != edges.shape[0]:
        # Duplicates would be double-counted by graph builders downstream.
        raise ValueError("edges must not contain the same link twice")
    edges = edges.astype(np.int32)

    positions_m = constellation.positions_m
    length_m = np.linalg.norm(
        positions_m[:, edges[:, 1]] - positions_m[:, edges[:, 0]], axis=-1)
    delay_ns = np.rint(length_m * (1e9 / SPEED_OF_LIGHT_M_S)).astype(np.int64)
    up = np.ones(length_m.shape, dtype=bool)

    return Topology(
        num_nodes=num_nodes,
        edges=edges,
        times_s=constellation.times_s,
        length_m=length_m,
        delay_ns=delay_ns,
        up=up,
    )


def line_of_sight_max_length_m(altitude_km: float, grazing_altitude_km: float = 80.0) -> float:
    """Longest link between two satellites at ``altitude_km`` that clears
    the atmosphere, in metres.

    The link is the chord of the sphere of radius ``a = R + altitude_km``
    that is tangent to the sphere of radius ``R + grazing_altitude_km``
    (the lowest altitude the beam may pass through, 80 km by default, to
    stay above the dense atmosphere): ``2 * sqrt(a^2 - (R + grazing)^2)``.

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
