"""Issue 23: a long run's ``prepare`` works in blocks of snapshots and lets go of what no later step
reads (the constellation phase's memory). Each blocked step must give the same values, bit for
bit, as the whole-run computation it replaced (written out here as the reference, the code before
the blocks): the satellites' SGP4 states, the users' ground links, and network.npz's map steps;
and the run's network.npz must be the same file as one made from the whole positions."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sgp4.api import SatrecArray

import harness.constellation.walker as walker
import harness.network.ground.users as users
import harness.run.prepare as prepare_mod
from harness.constellation.walker import SPEED_OF_LIGHT_M_S, subsatellite_points_deg, subsatellite_tracks_deg
from harness.formats.network import network_npz_bytes
from harness.network.ground.geometry import elevation_rad, satellites_ecef_m, site_positions_m, site_up_vectors, \
    slant_range_m
from harness.network.ground.gsl import gsl_candidates
from harness.network.topology import Topology
from harness.pipeline import build_constellation, build_topology, prepare
from harness.scenario import load_scenario
from harness.sites import site_arrays

REPO = Path(__file__).resolve().parents[1]
#: The serving-hour scenario (48 world cities on walker_1584), cut to this many snapshots.
SNAPSHOTS = 40
#: A block size that does not divide SNAPSHOTS: blocks of unequal length, a short last one.
BLOCK = 7


@pytest.fixture(scope="module")
def scenario():
    sc = load_scenario(REPO / "topologies" / "serving_hour_walker_1584.yaml")
    return dataclasses.replace(sc, snapshots=dataclasses.replace(sc.snapshots, count=SNAPSHOTS),
                               traffic=dataclasses.replace(sc.traffic, requests=20))


@pytest.fixture(scope="module")
def constellation(scenario):
    return build_constellation(scenario)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Same shape, dtype and bytes (NaNs included)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_walker_blocks_equal_one_sgp4_call(scenario, constellation, monkeypatch):
    """Positions and velocities propagated in blocks equal one SatrecArray call over every snapshot,
    transposed and scaled as before (the reference), bit for bit, whatever the block size."""
    c = scenario.constellation
    satrecs = walker.walker_satrecs(kind=c.kind, planes=c.planes, sats_per_plane=c.sats_per_plane, phasing=c.phasing,
                                    altitude_km=c.altitude_km, inclination_deg=c.inclination_deg, epoch_utc=c.epoch,
                                    raan0_deg=c.raan0_deg, raan_spread_deg=c.raan_spread_deg)[0]
    times = np.arange(SNAPSHOTS, dtype=np.float64) * scenario.snapshots.interval_s
    errors, r_km, v_km_s = SatrecArray(satrecs).sgp4(np.full(SNAPSHOTS, satrecs[0].jdsatepoch),
                                                     satrecs[0].jdsatepochF + times / 86_400.0)
    assert not errors.any()
    assert _same(constellation.positions_m, np.ascontiguousarray(r_km.transpose(1, 0, 2)) * 1e3)
    assert _same(constellation.velocities_m_s, np.ascontiguousarray(v_km_s.transpose(1, 0, 2)) * 1e3)
    monkeypatch.setattr(walker, "_SNAPSHOT_BLOCK", BLOCK)
    small = build_constellation(scenario)
    assert _same(small.positions_m, constellation.positions_m)
    assert _same(small.velocities_m_s, constellation.velocities_m_s)


def _whole_run_ground_links(constellation, topology, sites, epoch_utc, min_elevation_deg):
    """ground_segment before the blocks (the reference): every site over all snapshots at once."""
    n = constellation.num_satellites
    satellites_m = satellites_ecef_m("wgs84-ut1", constellation.positions_m, epoch_utc, constellation.times_s)
    lat, lon, alt = site_arrays(sites)
    sites_m, up = site_positions_m("wgs84-ut1", lat, lon, alt), site_up_vectors(lat, lon)
    steps = len(constellation.times_s)
    serving = np.full((steps, len(sites)), -1, dtype=np.int32)
    range_m = np.full((steps, len(sites)), np.nan)
    edges, lengths, ups, nodes = [], [], [], 0
    for g in range(len(sites)):
        rng_m = slant_range_m(satellites_m, sites_m[g])
        usable = gsl_candidates("min_elevation", rng_m, elevation_rad(satellites_m, sites_m[g], up[g]),
                                min_elevation_deg=min_elevation_deg)
        covered = usable.any(axis=1)
        best = np.argmax(usable, axis=1)
        serving[covered, g] = best[covered]
        range_m[covered, g] = rng_m[np.arange(steps)[covered], best[covered]]
        ever = np.flatnonzero(usable.any(axis=0))
        if len(ever):
            edges.append(np.column_stack([ever, np.full(len(ever), n + nodes)]))
            lengths.append(rng_m[:, ever])
            ups.append(usable[:, ever])
            nodes += 1
    length = np.concatenate(lengths, axis=1)
    return serving, range_m, Topology(
        num_nodes=n + nodes, edges=np.concatenate([topology.edges] + edges).astype(np.int32),
        times_s=topology.times_s, length_m=np.concatenate([topology.length_m, length], axis=1),
        delay_ns=np.concatenate([topology.delay_ns, np.rint(length * (1e9 / SPEED_OF_LIGHT_M_S)).astype(np.int64)],
                                axis=1),
        up=np.concatenate([topology.up] + ups, axis=1), feasible=np.concatenate([topology.feasible] + ups, axis=1))


@pytest.mark.parametrize("block", [BLOCK, 256])
def test_ground_segment_blocks_equal_the_whole_run(scenario, constellation, block, monkeypatch):
    """The users' ground links made in two passes over blocks of snapshots equal the whole-run
    computation, bit for bit: serving satellites, ranges, links, lengths, delays, up states; and
    whole=False keeps the delays, up states and links, with no lengths and feasible = up."""
    monkeypatch.setattr(users, "_SNAPSHOT_BLOCK", block)
    topology = build_topology(scenario, constellation)
    sites = users.user_sites(scenario.users)
    kw = dict(epoch_utc=scenario.constellation.epoch, min_elevation_deg=scenario.ground.min_elevation_deg)
    serving, range_m, reference = _whole_run_ground_links(constellation, topology, sites, **kw)
    segment = users.ground_segment(constellation, topology, sites, **kw)
    assert reference.num_links - topology.num_links > 48  # the cities see several satellites each
    assert _same(segment.serving, serving) and _same(segment.range_m, range_m)
    assert segment.first_gsl == topology.num_links and segment.topology.num_nodes == reference.num_nodes
    for field in ("edges", "length_m", "delay_ns", "up", "feasible"):
        assert _same(getattr(segment.topology, field), getattr(reference, field)), field
    lean = users.ground_segment(constellation, topology, sites, whole=False, **kw).topology
    for field in ("edges", "delay_ns", "up"):
        assert _same(getattr(lean, field), getattr(reference, field)), field
    assert lean.feasible is lean.up and lean.length_m.shape == reference.length_m.shape
    assert np.isnan(lean.length_m).all() and lean.length_m.strides == (0, 0)


@pytest.mark.parametrize("min_elevation_deg", [0.0, 60.0, 90.0])
def test_ground_segment_horizon_filter_equals_every_satellite(scenario, constellation, min_elevation_deg):
    """ground_segment looks only at the satellites near each site's horizon or above it (issue 23:
    the constellation phase's time); the serving satellites, ranges, links and delays equal the
    whole-run reference over every satellite, bit for bit, at the lowest elevation the schema
    allows, at a high one (long coverage gaps), and at 90 deg (no site is ever covered)."""
    topology = build_topology(scenario, constellation)
    sites = users.user_sites(scenario.users)
    # the filter: every satellite at elevation >= 0 at some snapshot, and few others
    satellites_m = satellites_ecef_m("wgs84-ut1", constellation.positions_m, scenario.constellation.epoch,
                                     constellation.times_s)
    lat, lon, alt = site_arrays(sites)
    sites_m, up = site_positions_m("wgs84-ut1", lat, lon, alt), site_up_vectors(lat, lon)
    seen = users._above_horizon(satellites_m @ up.T, np.einsum("gi,gi->g", sites_m, up))
    for g in range(len(sites)):
        visible = (elevation_rad(satellites_m, sites_m[g], up[g]) >= 0).any(axis=0)
        assert visible.any() and not (visible & ~seen[:, g]).any()
    assert seen.mean() < 0.2
    kw = dict(epoch_utc=scenario.constellation.epoch, min_elevation_deg=min_elevation_deg)
    segment = users.ground_segment(constellation, topology, sites, **kw)
    if min_elevation_deg >= 90.0:
        assert (segment.serving < 0).all() and (segment.node_of < 0).all()
        assert segment.topology.num_links == topology.num_links
        return
    serving, range_m, reference = _whole_run_ground_links(constellation, topology, sites, **kw)
    assert (serving >= 0).any() and (serving < 0).any() if min_elevation_deg else (serving >= 0).all()
    assert _same(segment.serving, serving) and _same(segment.range_m, range_m)
    for field in ("edges", "length_m", "delay_ns", "up", "feasible"):
        assert _same(getattr(segment.topology, field), getattr(reference, field)), field


def _whole_run_network_npz(scenario, constellation, topology, isls: int) -> bytes:
    """network.npz from the whole [S, N] float64 positions (the reference: the code before the blocks)."""
    lat, lon = subsatellite_tracks_deg(constellation, scenario.constellation.epoch)
    return network_npz_bytes(scenario=scenario.name, metric=scenario.routing.metric, times_s=topology.times_s,
                             lat_deg=lat, lon_deg=lon, edges=topology.edges[:isls], up=topology.up[:, :isls],
                             delay_ns=topology.delay_ns[:, :isls])


def test_prepare_keeps_the_maps_not_the_positions(scenario, constellation, monkeypatch):
    """prepare lets go of the positions and velocities (zero-memory NaN stand-ins) and of the
    extended topology's lengths, keeps the maps as the results files store them, and the run's
    network.npz is the same file, byte for byte, as one made from the whole positions, whatever
    the block size of the map steps."""
    from harness.run.pipeline import network_npz

    monkeypatch.setattr(prepare_mod, "_SNAPSHOT_BLOCK", BLOCK)
    prep = prepare(scenario)
    for released in (prep.constellation.positions_m, prep.constellation.velocities_m_s, prep.topology.length_m):
        assert np.isnan(released).all() and not released.flags.writeable and set(released.strides) == {0}
    assert prep.topology.feasible is prep.topology.up
    lat, lon = subsatellite_points_deg(constellation, scenario.constellation.epoch)
    assert _same(prep.map_points[0], lat) and _same(prep.map_points[1], lon)
    isls = prep.ground.first_gsl
    whole = _whole_run_network_npz(scenario, constellation, prep.topology, isls)
    mine = network_npz(scenario, prep.map_steps, prep.topology, isls)
    with zipfile.ZipFile(io.BytesIO(mine)) as archive:
        assert archive.namelist()[4:6] == ["lat_step_cdeg.npy", "lon_step_cdeg.npy"]
        steps = np.load(io.BytesIO(archive.read("lon_step_cdeg.npy")))
    assert steps.dtype == np.int16 and (np.abs(steps[1:]) < 18000).all() and steps.any()
    assert mine == whole
    # and the placement's topology is the run's ISL columns, the same values
    assert _same(np.ascontiguousarray(prep.inputs.topology.delay_ns), prep.topology.delay_ns[:, :isls])


def test_isl_topology_blocks_equal_the_whole_run(scenario, constellation, monkeypatch):
    """The ISLs' delays from blocks of lengths, and the outages drawn in blocks of rows, equal the
    whole-run computation (delays rounded from the whole [S, L] lengths, one draw of [S, L]
    uniforms), bit for bit; lengths=False keeps everything but the lengths."""
    import harness.network.topology as topology_mod
    from harness.seeding import rng_for

    monkeypatch.setattr(topology_mod, "_SNAPSHOT_BLOCK", BLOCK)
    whole = build_topology(scenario, constellation)
    assert scenario.links.survival_probability < 1 and not whole.up.all()
    draws = rng_for(scenario.seed, "outages").random(whole.feasible.shape)
    assert _same(whole.up, whole.feasible & (draws < scenario.links.survival_probability))
    assert _same(whole.delay_ns, np.rint(whole.length_m * (1e9 / SPEED_OF_LIGHT_M_S)).astype(np.int64))
    lean = build_topology(scenario, constellation, lengths=False)
    for field in ("edges", "delay_ns", "up", "feasible"):
        assert _same(getattr(lean, field), getattr(whole, field)), field
    assert np.isnan(lean.length_m).all() and lean.length_m.strides == (0, 0)


def _whole_arrays_npz(arrays: dict) -> bytes:
    """network.npz's archive as written before the blocks (the reference): each array whole."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, value in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w") as member:
                np.lib.format.write_array(member, value, allow_pickle=False)
    return buffer.getvalue()


@pytest.mark.parametrize("links", [0, 5, 300])
def test_network_npz_rows_in_blocks_are_the_whole_arrays_bytes(links):
    """up and delay_step_ns written block by block (non-contiguous column views in, as a run passes
    its ISL columns) give the same file, byte for byte, as each array written whole; a delay step
    that does not fit int32 is refused before anything is returned."""
    rng = np.random.default_rng(links)
    steps, n = 700, 6  # 700 rows: blocks of 256, a short last one
    wide_delay = rng.integers(0, 10**7, (steps, links + 3)).cumsum(axis=0)
    wide_up = rng.random((steps, links + 3)) < 0.9
    delay, up = wide_delay[:, :links], wide_up[:, :links]
    lat = np.round(rng.uniform(-90, 90, (steps, n)) * 100).astype(np.int32)
    lon = np.round(rng.uniform(-180, 180, (steps, n)) * 100).astype(np.int32)
    edges = np.column_stack([np.arange(links) % n, (np.arange(links) + 1) % n]).astype(np.int32)
    times = np.arange(steps, dtype=np.float64)
    mine = network_npz_bytes(scenario="s", metric="delay", times_s=times, lat_deg=None, lon_deg=None, lat_cdeg=lat,
                             lon_cdeg=lon, edges=edges, up=up, delay_ns=delay)
    delay_steps = np.diff(delay, axis=0, prepend=np.zeros((1, links), np.int64)).astype(np.int32)
    lon_steps = np.diff(lon, axis=0, prepend=np.zeros((1, n), np.int32))
    reference = _whole_arrays_npz({
        "format_version": np.array(1, dtype=np.int64), "scenario": np.array("s"), "metric": np.array("delay"),
        "times_s": times, "lat_step_cdeg": np.diff(lat, axis=0, prepend=np.zeros((1, n), np.int32)).astype(np.int16),
        "lon_step_cdeg": ((lon_steps + 18000) % 36000 - 18000).astype(np.int16), "edges": edges,
        "up": np.ascontiguousarray(up), "delay_step_ns": delay_steps})
    assert mine == reference
    if links:
        delay = delay.copy()
        delay[400:, 0] += 2**31
        with pytest.raises(ValueError, match="int32"):
            network_npz_bytes(scenario="s", metric="delay", times_s=times, lat_deg=None, lon_deg=None, lat_cdeg=lat,
                              lon_cdeg=lon, edges=edges, up=up, delay_ns=delay)
