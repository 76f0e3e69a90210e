"""TLE constellations: the strict reader, plane/slot inference, +Grid, sidecar files, the schema."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from sgp4.api import WGS72, Satrec

from harness.constellation_tle import grid_edges, infer_grid, shell_tles, tle_epoch_utc
from harness.errors import ScenarioError
from harness.formats.tle import export_tle, read_tle_file, write_tle_file
from harness.pipeline import build_constellation, build_topology
from harness.scenario import load_scenario, scenario_from_dict

REPO = Path(__file__).resolve().parents[1]
EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
#: ISL lengths of a TLE shell against the Walker builder's: the TLE carries the mean motion to 1e-8
#: rev/day (about 3e-10 of it) and SGP4 re-derives its constants from it; measured: 0.16 mm.
TLE_ROUNDING_M = 1e-3


def walker_tles(planes: int, per_plane: int, phasing: int, altitude_km: float, inclination_deg: float,
                spread_deg: float = 360.0):
    """The TLEs of the Walker shell harness.constellation builds (same elements), plane-major;
    ``spread_deg`` 360 for a delta, 180 for a star."""
    from harness.constellation import _sgp4_epoch_days, orbital_period_s

    total = planes * per_plane
    mean_motion = 2 * math.pi / (orbital_period_s(altitude_km) / 60)
    out = []
    for p in range(planes):
        for s in range(per_plane):
            sat = Satrec()
            sat.sgp4init(WGS72, "i", p * per_plane + s + 1, _sgp4_epoch_days(EPOCH), 0, 0, 0, 0.0, 0.0,
                         math.radians(inclination_deg), 2 * math.pi * ((s / per_plane + p * phasing / total) % 1.0),
                         mean_motion, math.radians(p * spread_deg / planes))
            out.append((f"W {p * per_plane + s}", *export_tle(sat)))
    return out


@pytest.fixture
def tiny_tle(tmp_path):
    path = tmp_path / "tiny.tle"
    write_tle_file(path, walker_tles(10, 10, 1, 550.0, 53.0))
    return path


def _tle_scenario(tmp_path: Path, tle: Path, **constellation) -> Path:
    text = (REPO / "topologies" / "tiny.yaml").read_text()
    head, rest = text.split("constellation:\n", 1)
    rest = rest.split("snapshots:", 1)[1]
    extra = "".join(f"  {k}: {v}\n" for k, v in constellation.items())
    path = tmp_path / "tle.yaml"
    path.write_text(f"{head}constellation:\n  kind: tle\n  tle_file: {tle.name}\n{extra}snapshots:{rest}")
    return path


def test_synthetic_tle_equals_the_walker_shell(tmp_path, tiny_tle):
    """The TLEs of tiny.yaml's Walker 53:100/10/1 shell infer its grid, and every ISL length over every
    snapshot is the Walker scenario's."""
    walker = load_scenario(REPO / "topologies" / "tiny.yaml")
    tle = load_scenario(_tle_scenario(tmp_path, tiny_tle))
    assert (tle.constellation.planes, tle.constellation.sats_per_plane) == (10, 10)
    assert tle.constellation.epoch == EPOCH
    w_const, t_const = build_constellation(walker), build_constellation(tle)
    np.testing.assert_array_equal(t_const.plane_of, w_const.plane_of)
    np.testing.assert_array_equal(t_const.slot_of, w_const.slot_of)
    w_topo, t_topo = build_topology(walker, w_const), build_topology(tle, t_const)
    np.testing.assert_array_equal(t_topo.edges, w_topo.edges)  # +Grid with the F = 1 seam
    assert np.abs(t_topo.length_m - w_topo.length_m).max() < TLE_ROUNDING_M
    np.testing.assert_array_equal(t_topo.up, w_topo.up)


@pytest.mark.parametrize("kind, planes, per_plane, phasing, inclination", [
    ("walker-delta", 72, 22, 39, 53.0),  # walker_1584.yaml's shell: F = 39, more than half of P
    ("walker-delta", 10, 10, 7, 53.0),
    ("walker-star", 32, 33, 1, 87.0),    # polar_1056.yaml's shell: no seam
])
def test_chained_numbering_gives_the_walker_grid_for_any_phasing(tmp_path, kind, planes, per_plane, phasing,
                                                                 inclination):
    from harness.topology import WALKER_KINDS, plus_grid_edges

    write_tle_file(tmp_path / "w.tle", walker_tles(planes, per_plane, phasing, 550.0, inclination, WALKER_KINDS[kind]))
    tles = read_tle_file(tmp_path / "w.tle")
    grid, _ = infer_grid(tles, tle_epoch_utc(tles))
    ids = np.arange(planes * per_plane)
    np.testing.assert_array_equal(grid.plane_of, ids // per_plane)
    np.testing.assert_array_equal(grid.slot_of, ids % per_plane)
    assert grid.seam_shift == (phasing % per_plane if kind == "walker-delta" else None)
    expected = plus_grid_edges(kind=kind, planes=planes, sats_per_plane=per_plane, phasing=phasing)
    np.testing.assert_array_equal(grid_edges(grid), expected)
    if phasing > 1:  # numbered from each node instead, the slots of later planes wrap: another grid
        node_grid, _ = infer_grid(tles, tle_epoch_utc(tles), slot_numbering="from-node")
        assert not np.array_equal(grid_edges(node_grid), expected)


def test_shuffled_file_gives_the_same_grid(tmp_path):
    """Satellite ids follow the file; planes and slots do not depend on the order."""
    records = walker_tles(6, 8, 1, 550.0, 53.0)
    order = np.random.default_rng(3).permutation(len(records))
    write_tle_file(tmp_path / "s.tle", [records[i] for i in order])
    tles = read_tle_file(tmp_path / "s.tle")
    grid, _ = infer_grid(tles, tle_epoch_utc(tles))
    np.testing.assert_array_equal(grid.plane_of, order // 8)
    np.testing.assert_array_equal(grid.slot_of, order % 8)
    assert grid.seam_shift == 1 and len(grid_edges(grid)) == 2 * 48


def test_irregular_file_reports_satellites_without_neighbours(tmp_path):
    records = walker_tles(6, 8, 1, 550.0, 53.0)
    kept = [r for k, r in enumerate(records) if k not in (9, 10, 11)]  # plane 1 loses three satellites
    write_tle_file(tmp_path / "i.tle", kept)
    tles = read_tle_file(tmp_path / "i.tle")
    grid, _ = infer_grid(tles, tle_epoch_utc(tles))
    assert not grid.regular and grid.seam_shift is None
    assert list(grid.sizes) == [8, 5, 8, 8, 8, 8]
    line = grid.describe(grid_edges(grid))
    assert "irregular" in line and "0 without any ISL" in line
    assert "satellites without a cross-plane neighbour" in line and not line.count(" 0 satellites without a cross")


def test_sidecar_slots_and_isl_files(tmp_path, tiny_tle):
    (tmp_path / "slots.csv").write_text("plane,slot\n" + "".join(f"{k // 10},{(k + 1) % 10}\n" for k in range(100)))
    (tmp_path / "isl.txt").write_text("# a hand-made ring\n" + "".join(f"{k} {(k + 1) % 100}\n" for k in range(100)))
    sc = load_scenario(_tle_scenario(tmp_path, tiny_tle, slots_file="slots.csv", isl_file="isl.txt"))
    const = build_constellation(sc)
    np.testing.assert_array_equal(const.slot_of, (np.arange(100) + 1) % 10)
    topology = build_topology(sc, const)
    assert topology.num_links == 100 and (topology.edges[:, 1] - topology.edges[:, 0]).max() == 99


def _corrupt(tmp_path: Path, tiny_tle: Path, line_index: int, edit) -> Path:
    lines = tiny_tle.read_text().splitlines()
    lines[line_index] = edit(lines[line_index])
    path = tmp_path / "bad.tle"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("line_index, edit, words", [
    (4, lambda s: s[:40] + ("1" if s[40] != "1" else "2") + s[41:], ["line 5", "checksum"]),
    (5, lambda s: s[:-3] + s[-2:], ["line 6", "68 characters, not 69"]),
    (4, lambda s: s[:18] + "26x01.00000000" + s[32:], ["line 5", "epoch"]),
    (4, lambda s: s[:18] + "26400.00000000" + s[32:], ["line 5", "epoch", "day of year"]),
    (5, lambda s: "1" + s[1:], ["line 5", "not followed by a line 2"]),
])
def test_bad_tles_name_the_file_and_line(tmp_path, tiny_tle, line_index, edit, words):
    bad = _corrupt(tmp_path, tiny_tle, line_index, edit)
    if "epoch" in words or "checksum" not in words:  # keep the checksum right: the other check must fire
        lines = bad.read_text().splitlines()
        from harness.formats.tle import _checksum

        lines[line_index] = lines[line_index][:68] + str(_checksum(lines[line_index])) \
            if len(lines[line_index]) == 69 else lines[line_index]
        bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(ScenarioError) as err:
        read_tle_file(bad)
    message = str(err.value)
    assert str(bad) in message and "\n" not in message
    for word in words:
        assert word in message, message


def test_schema_rules_for_tle_keys(tmp_path, tiny_tle):
    with pytest.raises(ScenarioError, match="'constellation.tle_file' is not set"):
        scenario_from_dict({"name": "x", "constellation": {"kind": "tle"}})
    with pytest.raises(ScenarioError, match="set kind: tle or remove tle_file"):
        scenario_from_dict({"name": "x", "constellation": {"planes": 6, "sats_per_plane": 8, "tle_file": "a.tle"}})
    with pytest.raises(ScenarioError, match="'constellation.planes' does not apply to kind 'tle'"):
        scenario_from_dict({"name": "x", "constellation": {"kind": "tle", "tle_file": str(tiny_tle), "planes": 10}})
    with pytest.raises(ScenarioError, match="not found"):
        scenario_from_dict({"name": "x", "constellation": {"kind": "tle", "tle_file": "missing.tle"}})
    (tmp_path / "isl.txt").write_text("0 1\n1 100\n")
    with pytest.raises(ScenarioError, match=r"isl.txt: line 2: satellite 100 does not exist"):
        scenario_from_dict({"name": "x", "constellation": {"kind": "tle", "tle_file": str(tiny_tle),
                                                           "isl_file": str(tmp_path / "isl.txt")}})
    with pytest.raises(ScenarioError, match="'ground.max_gsl_length_km' is not set"):
        scenario_from_dict({"name": "x", "constellation": {"planes": 6, "sats_per_plane": 8},
                            "ground": {"gsl_rule": "max_length"}})
    with pytest.raises(ScenarioError, match="listed twice"):
        scenario_from_dict({"name": "x", "constellation": {"planes": 6, "sats_per_plane": 8}, "ground": {"sites": [
            {"name": "A", "lat_deg": 0, "lon_deg": 0}, {"name": "A", "lat_deg": 1, "lon_deg": 0}]}})
    with pytest.raises(ScenarioError, match="lat_deg must be a number in"):
        scenario_from_dict({"name": "x", "constellation": {"planes": 6, "sats_per_plane": 8},
                            "ground": {"sites": [{"name": "A", "lat_deg": 91, "lon_deg": 0}]}})
    explicit = scenario_from_dict({"name": "x", "constellation": {"kind": "tle", "tle_file": str(tiny_tle),
                                                                  "epoch_utc": "2026-01-01T00:00:10Z"}})
    assert explicit.constellation.epoch_utc == "2026-01-01T00:00:10Z" and explicit.constellation.num_satellites == 100


def test_shipped_kuiper_tle_file_is_what_shell_tles_writes(tmp_path):
    """topologies/hypatia_kuiper_630.tle is reproducible from its recorded parameters."""
    records = shell_tles("Kuiper-630", planes=34, sats_per_plane=34, inclination_deg=51.9, mean_motion_rev_day=14.80,
                         epoch_utc=datetime(2000, 1, 1, tzinfo=timezone.utc))
    write_tle_file(tmp_path / "k.tle", records)
    assert (tmp_path / "k.tle").read_text() == (REPO / "topologies" / "hypatia_kuiper_630.tle").read_text()
    second = read_tle_file(tmp_path / "k.tle")[35]
    assert second.line2[17:25].strip() == "10.5882" and second.line2[43:51].strip() == "15.8824"  # half a slot


def test_walker_scenarios_unchanged_by_the_new_keys():
    """The new keys' defaults leave a Walker scenario as it was: same objects, no ground sites."""
    sc = load_scenario(REPO / "topologies" / "tiny.yaml")
    assert sc.constellation.tle_file is None and sc.ground.sites == ()
    assert sc.constellation.num_satellites == sc.constellation.planes * sc.constellation.sats_per_plane == 100
    assert dataclasses.asdict(sc.ground)["gsl_rule"] == "min_elevation"


def test_tle_twin_of_tiny_runs_through_ns3_with_the_same_tokens(tmp_path, tiny_tle):
    """The whole run (placement, routes, ns-3) on the TLE twin of tiny.yaml's shell gives tiny's
    tokens.csv byte for byte. (Its ISL lengths agree to 0.2 mm; one of the 2000 link delays rounds to
    the other nanosecond, on no path the run takes.)"""
    import subprocess
    import sys

    scenario = _tle_scenario(tmp_path, tiny_tle)
    for name, path in (("walker", REPO / "topologies" / "tiny.yaml"), ("tle", scenario)):
        run = subprocess.run([sys.executable, "-m", "harness", "run", str(path), "--out", str(tmp_path / name)],
                             capture_output=True, text=True, cwd=REPO)
        assert run.returncode == 0, run.stderr
    walker_tokens = sorted((tmp_path / "walker").rglob("tokens.csv"))
    tle_tokens = sorted((tmp_path / "tle").rglob("tokens.csv"))
    assert walker_tokens and len(walker_tokens) == len(tle_tokens)
    for a, b in zip(walker_tokens, tle_tokens):
        assert a.read_bytes() == b.read_bytes(), (a, b)
