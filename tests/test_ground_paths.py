"""Ground-to-ground paths against an independent reference: for every snapshot, the minimum over
(uplink satellite u, downlink satellite v) of gsl_A(u) + ISL shortest path(u, v) + gsl_B(v), with
scipy's Dijkstra on float lengths, for both GSL rules."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
from scipy.sparse.csgraph import dijkstra

from harness.constellation.walker import SPEED_OF_LIGHT_M_S
from harness.network.ground.geometry import (elevation_rad, satellites_ecef_m, site_positions_m, site_up_vectors,
                                             slant_range_m)
from harness.network.ground.gsl import gsl_candidates
from harness.pipeline import build_constellation, build_topology, ground_paths_for
from harness.scenario import scenario_from_dict

REPO = Path(__file__).resolve().parents[1]
#: The engine ranks paths by per-link delays rounded to whole ns, so among paths within a few ns of
#: each other it may keep one a few ns longer than the float optimum: at most 1 ns per link.
RANKING_ROUNDING_NS = 20.0

SITES = [{"name": "Lagos", "lat_deg": 6.5, "lon_deg": 3.4}, {"name": "Cairo", "lat_deg": 30.0, "lon_deg": 31.2},
         {"name": "Nairobi", "lat_deg": -1.3, "lon_deg": 36.8, "alt_m": 1795}]


def _scenario(rule: dict):
    return scenario_from_dict({
        "name": "ground", "constellation": {"planes": 12, "sats_per_plane": 20, "phasing": 1, "altitude_km": 550,
                                            "inclination_deg": 53},
        "snapshots": {"count": 60, "interval_s": 20.0}, "links": {"grazing_altitude_km": 80},
        "ground": {"sites": SITES, **rule}})


def _reference(scenario, a: int, b: int) -> np.ndarray:
    """[S] RTT (ns) of the best ground -> ISLs -> ground path, NaN where there is none."""
    g = scenario.ground
    constellation = build_constellation(scenario)
    topology = build_topology(scenario, constellation)
    sats = satellites_ecef_m(g.convention, constellation.positions_m, scenario.constellation.epoch,
                             constellation.times_s)
    lat = np.array([s.lat_deg for s in g.sites]); lon = np.array([s.lon_deg for s in g.sites])
    alt = np.array([s.alt_m for s in g.sites])
    sites = site_positions_m(g.convention, lat, lon, alt)
    up = site_up_vectors(lat, lon)
    gsl = []
    for i in (a, b):
        rng = slant_range_m(sats, sites[i])
        ok = gsl_candidates(g.gsl_rule, rng, elevation_rad(sats, sites[i], up[i]),
                            min_elevation_deg=g.min_elevation_deg,
                            max_gsl_length_m=None if g.max_gsl_length_km is None else g.max_gsl_length_km * 1e3)
        gsl.append(np.where(ok, rng, np.inf))
    n = constellation.num_satellites
    out = np.full(topology.num_snapshots, np.nan)
    for s in range(topology.num_snapshots):  # the reference may loop: it is not the code under test
        up_edges = topology.edges[topology.up[s]]
        graph = scipy.sparse.csr_matrix((topology.length_m[s, topology.up[s]], (up_edges[:, 0], up_edges[:, 1])),
                                        shape=(n, n))
        ups, downs = np.flatnonzero(np.isfinite(gsl[0][s])), np.flatnonzero(np.isfinite(gsl[1][s]))
        if not len(ups) or not len(downs):
            continue
        isl = dijkstra(graph, directed=False, indices=ups)[:, downs]
        total = gsl[0][s][ups][:, None] + isl + gsl[1][s][downs][None, :]
        if np.isfinite(total).any():
            out[s] = 2.0 * total.min() / SPEED_OF_LIGHT_M_S * 1e9
    return out


@pytest.mark.parametrize("rule", [{"gsl_rule": "min_elevation", "min_elevation_deg": 15.0},
                                  {"gsl_rule": "min_elevation", "min_elevation_deg": 25.0},
                                  {"gsl_rule": "max_length", "max_gsl_length_km": 1500.0}],
                         ids=["min_elevation_15", "min_elevation_25_with_gaps", "max_length"])
def test_paths_are_the_minimum_over_uplink_and_downlink_satellites(rule):
    scenario = _scenario(rule)
    pairs = [("Lagos", "Cairo"), ("Cairo", "Nairobi")]
    results = ground_paths_for(scenario, pairs)
    for (a, b), r in zip([(0, 1), (1, 2)], results):
        reference = _reference(scenario, a, b)
        np.testing.assert_array_equal(r.reachable, np.isfinite(reference))
        assert r.reachable.any()
        if rule.get("min_elevation_deg") == 25.0:
            assert not r.reachable.all()  # coverage gaps: unreachable, never routed another way
        assert np.abs(r.rtt_ns - reference)[r.reachable].max() < RANKING_ROUNDING_NS
        # The path is a chain of satellites from an uplink to a downlink: ground sites never relay.
        sats = r.satellites[r.reachable]
        assert ((sats >= -1) & (sats < scenario.constellation.num_satellites)).all()
        assert (r.hops[r.reachable] == (sats >= 0).sum(axis=1) + 1).all()


def test_min_elevation_uses_the_highest_satellite():
    scenario = _scenario({"gsl_rule": "min_elevation", "min_elevation_deg": 15.0})
    (r,) = ground_paths_for(scenario, [("Lagos", "Cairo")])
    constellation = build_constellation(scenario)
    sats = satellites_ecef_m("wgs84-ut1", constellation.positions_m, scenario.constellation.epoch,
                             constellation.times_s)
    site = site_positions_m("wgs84-ut1", 6.5, 3.4, 0.0)[0]
    highest = np.argmax(elevation_rad(sats, site, site_up_vectors(6.5, 3.4)[0]), axis=1)
    np.testing.assert_array_equal(r.satellites[r.reachable, 0], highest[r.reachable])


def test_unknown_sites_and_self_pairs_are_one_line_errors():
    from harness.errors import HarnessError

    scenario = _scenario({})
    with pytest.raises(HarnessError, match="unknown ground site 'Oslo'.*Lagos, Cairo, Nairobi"):
        ground_paths_for(scenario, [("Oslo", "Cairo")])
    with pytest.raises(HarnessError, match="joins a site to itself"):
        ground_paths_for(scenario, [("Cairo", "Cairo")])
    bare = dataclasses.replace(scenario, ground=dataclasses.replace(scenario.ground, sites=()))
    with pytest.raises(HarnessError, match="none: add ground.sites"):
        ground_paths_for(bare, [("Lagos", "Cairo")])
