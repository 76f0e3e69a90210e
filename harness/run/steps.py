"""The pipeline's steps as functions of the scenario: the constellation, its ISL topology, the
satellites' failures, the activation trace, and (a notebook helper) the ground paths between named
sites. Randomness comes from the scenario's seed, one Generator per purpose
(:func:`harness.seeding.rng_for`)."""

from __future__ import annotations

from typing import Optional

import numpy as np

from harness.constellation.cluster import ClusterDesign, cluster_constellation, cluster_design
from harness.constellation.tle import build_tle_constellation, build_tle_edges
from harness.constellation.walker import Constellation, walker_constellation
from harness.errors import HarnessError
from harness.network.mesh import mesh_topology
from harness.network.topology import (Topology, failure_snapshots, isl_topology, plus_grid_edges,
                                      satellite_failure_times_s, with_failed_satellites)
from harness.scenario import Scenario
from harness.seeding import rng_for
from harness.workload import activations as activations_mod


#: Constellation kinds read from files: kind -> (constellation builder, ISL builder); the rest are Walker shells.
TLE_BUILDERS = {"tle": (build_tle_constellation, build_tle_edges)}


def build_cluster_design(scenario: Scenario) -> ClusterDesign:
    """A cluster scenario's formation geometry (harness/constellation/cluster.py), from plain numbers."""
    c = scenario.constellation
    return cluster_design(clusters=c.clusters, sats_per_cluster=c.sats_per_cluster, formation=c.formation,
                          lattice=c.lattice, spacing_m=c.spacing_m, altitude_km=c.altitude_km,
                          inclination_deg=c.inclination_deg, raan_deg=c.raan0_deg,
                          cluster_separation_km=c.cluster_separation_km)


def build_constellation(scenario: Scenario) -> Constellation:
    c = scenario.constellation
    if c.kind == "cluster":
        return cluster_constellation(build_cluster_design(scenario), epoch_utc=c.epoch,
                                     snapshot_count=scenario.snapshots.count,
                                     snapshot_interval_s=scenario.snapshots.interval_s,
                                     match_j2_drift=c.match_j2_drift)
    if c.kind in TLE_BUILDERS:
        return TLE_BUILDERS[c.kind][0](scenario)
    return walker_constellation(kind=c.kind, planes=c.planes, sats_per_plane=c.sats_per_plane,
                                phasing=c.phasing, altitude_km=c.altitude_km,
                                inclination_deg=c.inclination_deg, epoch_utc=c.epoch,
                                snapshot_count=scenario.snapshots.count,
                                snapshot_interval_s=scenario.snapshots.interval_s,
                                raan0_deg=c.raan0_deg, raan_spread_deg=c.raan_spread_deg)


def build_topology(scenario: Scenario, constellation: Constellation, with_failures: bool = True,
                   lengths: bool = True) -> Topology:
    """The ISL topology; ``with_failures``: with the links of failed satellites down (faults section);
    ``lengths=False``: without the links' lengths (a zero-memory NaN stand-in; Walker and TLE
    shells, see :func:`~harness.network.topology.isl_topology`)."""
    c, links = scenario.constellation, scenario.links
    if c.kind == "cluster":
        topology = mesh_topology(constellation, build_cluster_design(scenario), max_length_m=links.max_length_km * 1e3,
                                 terminals=links.terminals, long_range_links=links.long_range_links,
                                 long_range_max_m=links.long_range_max_km * 1e3,
                                 grazing_altitude_km=links.grazing_altitude_km,
                                 max_angular_rate_rad_s=links.max_angular_rate_rad_s,
                                 survival_probability=links.survival_probability, rng=rng_for(scenario.seed, "outages"))
        failed_from = satellite_failure_snapshots(scenario, topology) if with_failures else None
        return topology if failed_from is None else with_failed_satellites(topology, failed_from)
    if c.kind in TLE_BUILDERS:
        edges = TLE_BUILDERS[c.kind][1](scenario)
    else:
        edges = plus_grid_edges(kind=c.kind, planes=c.planes, sats_per_plane=c.sats_per_plane, phasing=c.phasing)
    topology = isl_topology(constellation, edges, grazing_altitude_km=links.grazing_altitude_km,
                            max_angular_rate_rad_s=links.max_angular_rate_rad_s,
                            polar_cutoff_deg=links.polar_cutoff_deg,
                            survival_probability=links.survival_probability,
                            rng=rng_for(scenario.seed, "outages"), lengths=lengths)
    failed_from = satellite_failure_snapshots(scenario, topology) if with_failures else None
    return topology if failed_from is None else with_failed_satellites(topology, failed_from)


def satellite_failure_snapshots(scenario: Scenario, topology: Topology) -> Optional[np.ndarray]:
    """``[N]`` first snapshot of each satellite's failure (``num_snapshots``: never), or None when the
    scenario schedules none. Drawn failures use their own Generator, so other draws do not shift."""
    f = scenario.faults
    if not f.satellite_failures and f.satellite_failure_rate_per_s <= 0:
        return None
    times_s = satellite_failure_times_s(topology.num_nodes, f.satellite_failures, f.satellite_failure_rate_per_s,
                                        rng_for(scenario.seed, "satellite-failures"))
    return failure_snapshots(topology.times_s, times_s)


def build_activations(scenario: Scenario, prompt_tokens: int = 0) -> activations_mod.ActivationTrace:
    """The activation trace: ``[R, P + T, L, k]`` with ``prompt_tokens`` P (the longest prompt, with
    serving.prefill) before each request's T decode tokens (see harness/workload/traffic/prefill.py)."""
    m, t, a = scenario.model, scenario.traffic, scenario.activations
    shape = dict(requests=t.requests, tokens=prompt_tokens + t.tokens_per_request, layers=m.layers,
                 experts=m.experts, top_k=m.top_k)
    if a.kind == "file":
        return activations_mod.load_trace(scenario.resolve(a.path), **shape)
    return activations_mod.synthetic_trace(**shape, skew=a.skew, stickiness=a.stickiness,
                                           rng=rng_for(scenario.seed, "activations"))


def ground_paths_for(scenario: Scenario, pairs: list[tuple[str, str]]) -> list:
    """The shortest ground -> satellites -> ground path of each pair of the scenario's ground sites at
    every snapshot (:func:`harness.network.ground.paths.ground_paths`): a list of ``PairPaths``.

    Example (a notebook)::

        from harness.scenario import load_scenario
        sc = load_scenario("topologies/hypatia_kuiper_630.yaml")
        manila_dalian, = ground_paths_for(sc, [("Manila", "Dalian")])
    """
    from harness.network.ground.paths import ground_paths

    g = scenario.ground
    names = [s.name for s in g.sites]
    for a, b in pairs:
        for name in (a, b):
            if name not in names:
                raise HarnessError(f"unknown ground site {name!r}; the scenario's ground.sites are: "
                                   f"{', '.join(names) or '(none: add ground.sites)'}")
        if a == b:
            raise HarnessError(f"pair {a!r} {b!r} joins a site to itself; name two different sites")
    constellation = build_constellation(scenario)
    topology = build_topology(scenario, constellation)
    return ground_paths(constellation, topology, g.sites, pairs, epoch_utc=scenario.constellation.epoch,
                        convention=g.convention, gsl_rule=g.gsl_rule, min_elevation_deg=g.min_elevation_deg,
                        max_gsl_length_m=None if g.max_gsl_length_km is None else g.max_gsl_length_km * 1e3)
