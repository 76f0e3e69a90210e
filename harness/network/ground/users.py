"""Users on the ground: their sites, their ground-satellite links (GSL) over the snapshots, and the
network that carries requests up to the model and tokens back down.

Each user site links to the satellite of highest elevation, if it is at least
``ground.min_elevation_deg`` up (:data:`~.gsl.GSL_RULES` ``min_elevation``), re-chosen at every
snapshot: a handover whenever that satellite changes. The geometry is :mod:`.geometry`'s (skyfield
TEME -> ITRS, the scenario's ``ground.convention``), vectorised over satellites and snapshots.

In ns-3 a site is one ground node. It has one point-to-point link to every satellite that serves it
at some snapshot of the run, and exactly one of them is up at a time (none in a coverage gap): the
topology updater sets each link's delay from the slant range and its up state at every snapshot,
and the routes (lazy shortest-path trees) see the same up states. Point-to-point links are what
ns-3 (and the updater, which owns every channel) handle cleanly; re-attaching one device to another
satellite's channel would need devices that ns-3's PointToPointChannel does not allow to move. A
ground node has at most one link up, so no shortest path can pass through it: ground nodes never
relay. A site no satellite ever serves gets no node (every request from it is a coverage gap).

Example::

    segment = ground_segment(constellation, topology, sites, epoch_utc=epoch, min_elevation_deg=25)
    segment.serving[:, 0]   # [S] the satellite serving site 0 at each snapshot, -1 in a gap
    segment.gaps()          # [(site, start_s, end_s), ...]
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from harness.constellation.walker import SPEED_OF_LIGHT_M_S, Constellation
from harness.network import spill
from harness.network.topology import Topology
from harness.network.ground.geometry import (elevation_rad, rotated_to_fixed_m, site_positions_m, site_up_vectors,
                                             slant_range_m, teme_to_fixed)
from harness.network.ground.gsl import gsl_candidates
from harness.sites import UserSite, site_arrays

__all__ = ["GroundSegment", "UserLinks", "draw_users", "ground_segment", "user_sites"]

log = logging.getLogger(__name__)

#: Snapshots per block of the per-site geometry in :func:`ground_segment` (bounds its temporaries).
_SNAPSHOT_BLOCK = 64


@dataclass(frozen=True)
class UserLinks:
    """Users on the ground as the packet engine takes them (:func:`harness.simulate.packet.run_packet_sim`).

    ``nodes`` ``[U]`` the ground node of each user; ``user_of`` ``[R]`` each request's user, -1 for
    a request that is not simulated (it arrived in a coverage gap); the topology's links from
    ``first_gsl`` on are ground-satellite links at ``gsl_rate_bps``; ``token_bytes`` the payload of
    an output token sent down to its user.
    """

    nodes: np.ndarray
    user_of: np.ndarray
    first_gsl: int
    gsl_rate_bps: float
    token_bytes: int


@dataclass(frozen=True)
class GroundSegment:
    """The users' sites and links over the snapshots, and the network extended by them.

    Attributes:
        sites: the user sites, in scenario order.
        times_s: ``[S]`` snapshot times.
        serving: ``[S, G]`` int32 satellite serving each site, -1 in a coverage gap.
        range_m: ``[S, G]`` slant range to the serving satellite, NaN in a gap.
        node_of: ``[G]`` int32 ground node of each site in :attr:`topology`, -1 for a site no
            satellite ever serves.
        topology: the satellites' topology with the ground nodes (ids from N on) and their GSLs
            appended after the ISLs.
        first_gsl: index of the first GSL among :attr:`topology`'s links.
    """

    sites: tuple[UserSite, ...]
    times_s: np.ndarray
    serving: np.ndarray
    range_m: np.ndarray
    node_of: np.ndarray
    topology: Topology
    first_gsl: int

    @property
    def num_gsl(self) -> int:
        return self.topology.num_links - self.first_gsl

    def snapshot_of(self, t_ns: np.ndarray) -> np.ndarray:
        """``[R]`` snapshot in force at each time (ns)."""
        steps_ns = np.round(self.times_s * 1e9).astype(np.int64)
        return np.searchsorted(steps_ns, np.asarray(t_ns, dtype=np.int64), side="right") - 1

    def user_links(self, site_of: np.ndarray, arrival_ns: np.ndarray, gsl_rate_bps: float,
                   token_bytes: int) -> UserLinks:
        """The packet engine's users: the covered sites' ground nodes, and each request's user (-1
        when it arrives while its site has no satellite high enough: a coverage gap)."""
        covered = np.flatnonzero(self.node_of >= 0)
        user_index = np.full(len(self.sites), -1, dtype=np.int32)
        user_index[covered] = np.arange(len(covered))
        in_gap = self.serving[self.snapshot_of(arrival_ns), site_of] < 0
        user_of = np.where(in_gap, -1, user_index[site_of]).astype(np.int32)
        return UserLinks(self.node_of[covered], user_of, self.first_gsl, gsl_rate_bps, token_bytes)

    def gateway_delays_ns(self, paths, site_of: np.ndarray, arrival_ns: np.ndarray,
                          gateways: np.ndarray) -> np.ndarray:
        """``[R, P]`` route delay from each request's user to each gateway at its arrival, -1 where
        unreachable (a site without a ground node); ``paths`` a :class:`~harness.network.routes.PathQuery`
        of :attr:`topology`."""
        snap = self.snapshot_of(arrival_ns)
        node = self.node_of[site_of]
        delay = np.full((len(node), len(gateways)), -1, dtype=np.int64)
        has = node >= 0
        for p, gateway in enumerate(gateways):  # per replica, vectorised over requests
            delay[has, p], _ = paths.lookup(snap[has], node[has], np.full(int(has.sum()), int(gateway)))
        return delay

    def gaps(self) -> list[tuple[str, float, float]]:
        """Coverage gaps: ``(site, start_s, end_s)`` per run of snapshots with no satellite high
        enough (end_s: the start of the next snapshot, or of the snapshot after the last)."""
        interval = float(self.times_s[1] - self.times_s[0]) if len(self.times_s) > 1 else 0.0
        ends = np.append(self.times_s[1:], self.times_s[-1] + interval)
        out = []
        for g, site in enumerate(self.sites):
            gap = np.concatenate([[False], self.serving[:, g] < 0, [False]]).astype(np.int8)
            starts, stops = np.flatnonzero(np.diff(gap) == 1), np.flatnonzero(np.diff(gap) == -1)
            out.extend((site.name, float(self.times_s[a]), float(ends[b - 1])) for a, b in zip(starts, stops))
        return out


def user_sites(users) -> tuple[UserSite, ...]:
    """The scenario's user sites (``users.cities`` or ``users.locations``)."""
    if users.cities is not None:
        from harness.formats.cities import city_set_path, read_cities_csv

        return read_cities_csv(city_set_path(users.cities))
    return tuple(users.locations)


def draw_users(sites: tuple[UserSite, ...], requests: int, rng: np.random.Generator) -> np.ndarray:
    """``[R]`` int32 site of each request, drawn by the sites' weights (rng: ``rng_for(seed, "users")``)."""
    weight = np.array([s.weight for s in sites], dtype=np.float64)
    return rng.choice(len(sites), size=requests, p=weight / weight.sum()).astype(np.int32)


#: Slack of :func:`_above_horizon`'s test, metres: far beyond the rounding of its products (about
#: 1e-9 m at these lengths), so no satellite at or above the horizon is ever left out.
_HORIZON_SLACK_M = 1000.0


def _above_horizon(heights_m: np.ndarray, horizon_m: np.ndarray) -> np.ndarray:
    """``[N, ...]`` bool: satellite n is at or above a site's horizon plane at some snapshot of a
    block, or a little below it; ``heights_m`` ``[B, N, ...]`` the satellites' positions along the
    site's up vector (``[B, N]`` for one site), ``horizon_m`` the site's own (a scalar, or ``[G]``). Every satellite of elevation >= 0 is
    marked, so the highest satellite, wherever it is high enough for a link (min_elevation_deg
    >= 0), is too."""
    return (heights_m > horizon_m - _HORIZON_SLACK_M).any(axis=0)


def ground_segment(constellation: Constellation, topology: Topology, sites: tuple[UserSite, ...], *,
                   epoch_utc: datetime, convention: str = "wgs84-ut1",
                   min_elevation_deg: float = 25.0, whole: bool = True) -> GroundSegment:
    """Each site's serving satellite and slant range at every snapshot, and the extended network.

    ``whole=False`` leaves out what a run does not read after this (the packet engine and the
    routes take the delays and up states): the extended topology's ``length_m`` is then a
    zero-memory read-only NaN array and its ``feasible`` is its ``up`` (the same array), and
    ``topology``'s own lengths and feasibility are not read."""
    n, times_s = constellation.num_satellites, constellation.times_s
    steps = len(times_s)
    rotation = teme_to_fixed(convention, epoch_utc, times_s)  # [S, 3, 3]: small

    def fixed_blocks():
        # The satellites' Earth-fixed positions in blocks of snapshots, never all at once: the
        # [block, N, 3] temporaries stay bounded however long the run (the rows of the whole).
        for first in range(0, steps, _SNAPSHOT_BLOCK):
            block = slice(first, min(steps, first + _SNAPSHOT_BLOCK))
            yield block, rotated_to_fixed_m(convention, rotation[block], constellation.positions_m[block])

    lat, lon, alt = site_arrays(sites)
    sites_m = site_positions_m(convention, lat, lon, alt)
    up = site_up_vectors(lat, lon)
    serving = np.full((steps, len(sites)), -1, dtype=np.int32)
    range_m = np.full((steps, len(sites)), np.nan)
    ever = np.zeros((len(sites), n), dtype=bool)  # satellite serves site g at some snapshot
    # Pass 1, per block of snapshots and per site (vectorised over the block's snapshots and the
    # satellites): the serving satellite (the highest, if high enough) and its range. Only the
    # satellites above the site's horizon plane at some snapshot of the block are looked at
    # (:func:`_above_horizon`): a satellite high enough is one of them, and the highest of them is
    # the highest of all, with the same values (the same elementwise arithmetic on fewer columns).
    horizon_m = np.einsum("gi,gi->g", sites_m, up)  # each site's height along its own up vector
    for block, satellites_m in fixed_blocks():
        for g in range(len(sites)):
            if min_elevation_deg < 0:
                looked, near_m = slice(None), satellites_m
            else:
                # [N]: satellite n is at or above site g's horizon plane at some snapshot of the
                # block (one site at a time: [B, N] temporaries, however many sites)
                looked = np.flatnonzero(_above_horizon(satellites_m @ up[g], horizon_m[g]))
                if not looked.size:
                    continue  # no satellite above the horizon in this block: a coverage gap throughout
                near_m = satellites_m[:, looked]
            rng_m = slant_range_m(near_m, sites_m[g])
            usable = gsl_candidates("min_elevation", rng_m, elevation_rad(near_m, sites_m[g], up[g]),
                                    min_elevation_deg=min_elevation_deg)
            covered = np.flatnonzero(usable.any(axis=1))
            best = np.argmax(usable, axis=1)[covered]
            serving[block.start + covered, g] = np.arange(n)[looked][best]
            range_m[block.start + covered, g] = rng_m[covered, best]
            ever[g, looked] |= usable.any(axis=0)
    node_of = np.full(len(sites), -1, dtype=np.int32)
    served = []  # per site with a node: the satellites it ever links to
    for g in range(len(sites)):
        if not ever[g].any():
            log.warning("user site %s: no satellite is ever %.1f deg above its horizon; every request from it "
                        "is a coverage gap", sites[g].name, min_elevation_deg)
            continue
        node_of[g] = n + len(served)
        served.append((g, np.flatnonzero(ever[g])))
    isls = topology.num_links
    links = isls + sum(len(sats) for _, sats in served)
    edges = np.concatenate([topology.edges.astype(np.int32)] + [
        np.column_stack([sats, np.full(len(sats), node_of[g])]).astype(np.int32) for g, sats in served])
    # Pass 2: the ground links' columns of the extended arrays, filled block by block (the ISLs'
    # columns copied once). A site's link to a satellite is up exactly when that satellite serves
    # it (the min_elevation rule makes one candidate per snapshot), and its length is the same
    # slant range as pass 1's, over the satellites the site ever links to only.
    # In files, a block of rows at a time (harness/network/spill.py): never all in memory at once.
    delay_ns = spill.empty((steps, links), np.int64)
    link_up = spill.empty((steps, links), bool)
    if whole:
        length_m = np.empty((steps, links))
        length_m[:, :isls] = topology.length_m
        feasible = np.empty((steps, links), dtype=bool)
        feasible[:, :isls] = topology.feasible
    for block, satellites_m in fixed_blocks():
        delay_ns[block, :isls] = topology.delay_ns[block]
        link_up[block, :isls] = topology.up[block]
        column = isls
        for g, sats in served:
            columns = slice(column, column + len(sats))
            rng_m = slant_range_m(satellites_m[:, sats], sites_m[g])
            delay_ns[block, columns] = np.rint(rng_m * (1e9 / SPEED_OF_LIGHT_M_S))
            link_up[block, columns] = serving[block, g][:, None] == sats[None, :]
            if whole:
                length_m[block, columns] = rng_m
            column += len(sats)
        spill.release(delay_ns, link_up, topology.delay_ns, topology.up)
    if whole:
        feasible[:, isls:] = link_up[:, isls:]
    else:
        length_m = np.broadcast_to(np.array(np.nan), (steps, links))
        feasible = link_up
    extended = Topology(num_nodes=n + len(served), edges=edges, times_s=times_s, length_m=length_m,
                        delay_ns=delay_ns, up=link_up, feasible=feasible)
    log.info("%d user sites, %d with coverage; %d ground-satellite links, %d handovers", len(sites),
             len(served), links - isls, int((np.diff(serving, axis=0) != 0).sum()))
    return GroundSegment(tuple(sites), times_s, serving, range_m, node_of, extended, isls)
