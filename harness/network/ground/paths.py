"""Shortest ground -> satellites -> ground paths between named sites, per snapshot.

For a pair of sites (A, B), the ISL topology is extended by two nodes, A and B, linked to the
satellites their GSL rule allows at each snapshot (:mod:`.gsl`), weighted by the slant range. The
routes engine (:func:`harness.network.routes.shortest_delay_routes`, one shortest-path tree toward B per
snapshot, in C++) then finds the path of least propagation delay. No other site is in the graph, and
A and B are the ends of every path, so a ground site never relays. Paths are read back for all
snapshots at once (one step per hop), and the round-trip time is twice the path's length over c,
summed from the distances in floating point (the engine's integer-nanosecond delays only rank paths).

Example::

    result = ground_paths(constellation, topology, sites, [("Manila", "Dalian")], epoch_utc=epoch)
    result[0].rtt_ns  # [S] float64, NaN where unreachable
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from harness.constellation.walker import SPEED_OF_LIGHT_M_S, Constellation
from harness.network.routes import shortest_delay_routes
from harness.network.topology import Topology
from harness.network.ground.geometry import (CONVENTIONS, elevation_rad, satellites_ecef_m, site_positions_m,
                                             site_up_vectors, slant_range_m)
from harness.network.ground.gsl import gsl_candidates
from harness.sites import Site, site_arrays

__all__ = ["PairPaths", "ground_paths"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PairPaths:
    """One pair's paths over the snapshots.

    Attributes:
        src, dst: site names.
        times_ns: ``[S]`` int64 snapshot times.
        rtt_ns: ``[S]`` float64 round-trip time ``2 * length / c``, NaN where unreachable.
        hops: ``[S]`` int64 links on the path (the two GSLs included), -1 where unreachable.
        satellites: ``[S, H]`` int32 satellites along the path from src to dst, padded with -1.
    """

    src: str
    dst: str
    times_ns: np.ndarray
    rtt_ns: np.ndarray
    hops: np.ndarray
    satellites: np.ndarray

    @property
    def reachable(self) -> np.ndarray:
        return self.hops >= 0


def ground_paths(constellation: Constellation, topology: Topology, sites: tuple[Site, ...],
                 pairs: list[tuple[str, str]], *, epoch_utc: datetime, convention: str = "wgs84-ut1",
                 gsl_rule: str = "min_elevation", min_elevation_deg: float = 25.0,
                 max_gsl_length_m: float | None = None, engine: str = "native") -> list[PairPaths]:
    """The shortest path between each pair of named sites at every snapshot (see the module doc).

    Raises:
        KeyError: naming a site of ``pairs`` that is not in ``sites`` (the CLI checks names first).
    """
    by_name = {s.name: i for i, s in enumerate(sites)}
    for a, b in pairs:
        for name in (a, b):
            if name not in by_name:
                raise KeyError(f"unknown site {name!r}; sites: {', '.join(by_name)}")
    n = constellation.num_satellites
    times_s = constellation.times_s
    satellites_m = satellites_ecef_m(convention, constellation.positions_m, epoch_utc, times_s)
    lat, lon, alt = site_arrays(sites)
    sites_m = site_positions_m(convention, lat, lon, alt)
    up = site_up_vectors(lat, lon)
    scale = CONVENTIONS[convention].satellite_scale
    isl_length_m = topology.length_m * scale if scale != 1.0 else topology.length_m

    links: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def site_links(i: int) -> tuple[np.ndarray, np.ndarray]:
        """[S, N] slant range and usable-link mask of site i, computed once per site."""
        if i not in links:
            range_m = slant_range_m(satellites_m, sites_m[i])
            usable = gsl_candidates(gsl_rule, range_m, elevation_rad(satellites_m, sites_m[i], up[i]),
                                    min_elevation_deg=min_elevation_deg, max_gsl_length_m=max_gsl_length_m)
            links[i] = (range_m, usable)
        return links[i]

    times_ns = np.round(times_s * 1e9).astype(np.int64)
    results = []
    steps = np.arange(len(times_s))
    for a_name, b_name in pairs:
        a, b = by_name[a_name], by_name[b_name]
        node_a, node_b = n, n + 1
        lengths, ups, edges = [isl_length_m], [topology.up], [topology.edges.astype(np.int64)]
        for site, node in ((a, node_a), (b, node_b)):
            range_m, usable = site_links(site)
            ever = np.flatnonzero(usable.any(axis=0))  # satellites the site links to at some snapshot
            edges.append(np.column_stack([ever, np.full(len(ever), node)]))
            lengths.append(range_m[:, ever])
            ups.append(usable[:, ever])
        length_m = np.concatenate(lengths, axis=1)
        graph = Topology(num_nodes=n + 2, edges=np.concatenate(edges).astype(np.int32), times_s=times_s,
                         length_m=length_m, delay_ns=np.rint(length_m * (1e9 / SPEED_OF_LIGHT_M_S)).astype(np.int64),
                         up=np.concatenate(ups, axis=1))
        routes = shortest_delay_routes(graph, np.array([node_b]), engine=engine)
        next_hop = routes.next_hop[:, :, 0]  # [S, N + 2]
        hops = np.where(next_hop[:, node_a] >= 0, routes.hops[:, node_a, 0], -1).astype(np.int64)
        positions = np.concatenate([satellites_m, np.broadcast_to(sites_m[[a, b]], (len(steps), 2, 3))], axis=1)
        # Walk every snapshot's path at once: one step per hop, not per snapshot.
        node = np.where(hops >= 0, node_a, node_b)
        length = np.zeros(len(steps))
        visited = []
        for _ in range(int(hops.max(initial=0))):
            nxt = np.where(node == node_b, node_b, next_hop[steps, node])
            d = positions[steps, nxt] - positions[steps, node]
            length += np.sqrt(np.einsum("si,si->s", d, d))
            visited.append(np.where(nxt < n, nxt, -1))
            node = nxt
        satellites = (np.stack(visited, axis=1) if visited else np.zeros((len(steps), 0), np.int64)).astype(np.int32)
        rtt_ns = np.where(hops >= 0, 2.0 * length / SPEED_OF_LIGHT_M_S * 1e9, np.nan)
        log.info("%s -> %s: reachable at %d of %d snapshots", a_name, b_name, int((hops >= 0).sum()), len(steps))
        results.append(PairPaths(a_name, b_name, times_ns, rtt_ns, hops, satellites))
    return results
