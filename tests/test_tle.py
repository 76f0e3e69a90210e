"""TLE constellations: the strict reader, plane/slot inference, +Grid, sidecar files, the schema."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from sgp4.api import WGS72, Satrec

from harness.constellation.tle import grid_edges, infer_grid, shell_tles, tle_epoch_utc
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
                spread_deg: float = 360.0, raan_offset_deg: float = 0.0):
    """The TLEs of the Walker shell harness.constellation.walker builds (same elements), plane-major;
    ``spread_deg`` 360 for a delta, 180 for a star; ``raan_offset_deg`` turns every plane's node."""
    from harness.constellation.walker import _sgp4_epoch_days, orbital_period_s

    total = planes * per_plane
    mean_motion = 2 * math.pi / (orbital_period_s(altitude_km) / 60)
    out = []
    for p in range(planes):
        for s in range(per_plane):
            sat = Satrec()
            sat.sgp4init(WGS72, "i", p * per_plane + s + 1, _sgp4_epoch_days(EPOCH), 0, 0, 0, 0.0, 0.0,
                         math.radians(inclination_deg), 2 * math.pi * ((s / per_plane + p * phasing / total) % 1.0),
                         mean_motion, math.radians(p * spread_deg / planes + raan_offset_deg))
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
    from harness.network.topology import WALKER_KINDS, plus_grid_edges

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


def test_irregular_file_links_by_argument_of_latitude(tmp_path):
    """Plane 1 of a Walker 53:48/6/1 shell loses slots 1 to 3. The irregular file's +Grid is the full
    grid's links between the kept satellites, less the seam (no seam without equal planes) and less
    the ring link across the gap: no rung pairs satellites by a slot number shifted by the gap (which
    gave 13,858 km links through the Earth). The satellites facing the gap, slots 1 to 3 of plane 0,
    are the ones without a cross-plane neighbour; no cross-plane link is longer than the full grid's
    longest."""
    from harness.constellation.tle import tle_constellation

    records = walker_tles(6, 8, 1, 550.0, 53.0)
    kept = np.array([k for k in range(48) if k not in (9, 10, 11)])
    write_tle_file(tmp_path / "full.tle", records)
    write_tle_file(tmp_path / "i.tle", [records[k] for k in kept])
    full_tles, tles = read_tle_file(tmp_path / "full.tle"), read_tle_file(tmp_path / "i.tle")
    full, full_arg_lat = infer_grid(full_tles, tle_epoch_utc(full_tles))
    grid, arg_lat = infer_grid(tles, tle_epoch_utc(tles))
    assert not grid.regular and grid.seam_shift is None
    assert list(grid.sizes) == [8, 5, 8, 8, 8, 8]
    edges = grid_edges(grid)
    full_edges = grid_edges(full)
    inside = np.isin(full_edges, kept).all(axis=1)
    seam = (full_edges // 8 == [0, 5]).all(axis=1)
    expected = {tuple(e) for e in full_edges[inside & ~seam]} - {(8, 12)}  # the ring across the gap
    assert {(int(kept[a]), int(kept[b])) for a, b in edges} == expected
    cross = grid.plane_of[edges[:, 0]] != grid.plane_of[edges[:, 1]]
    orphans = np.setdiff1d(np.arange(len(kept)), edges[cross].ravel())
    np.testing.assert_array_equal(kept[orphans], [1, 2, 3])
    line = grid.describe(edges)
    assert "irregular" in line and "3 satellites without a cross-plane neighbour, 0 without any ISL" in line
    const = tle_constellation(tles, grid, arg_lat, epoch_utc=tle_epoch_utc(tles), snapshot_count=60,
                              snapshot_interval_s=100.0)
    full_const = tle_constellation(full_tles, full, full_arg_lat, epoch_utc=tle_epoch_utc(full_tles), snapshot_count=60,
                                   snapshot_interval_s=100.0)

    def longest_km(c, e):
        return np.linalg.norm(c.positions_m[:, e[:, 0]] - c.positions_m[:, e[:, 1]], axis=2).max() / 1e3

    full_cross = full.plane_of[full_edges[:, 0]] != full.plane_of[full_edges[:, 1]]
    assert longest_km(const, edges[cross]) <= longest_km(full_const, full_edges[full_cross]) + 1e-6  # 7,422 km


def test_two_shells_are_not_mixed(tmp_path):
    """Two shells, 6 x 8 at 53.0 deg and 540 km, 4 x 20 at 53.2 deg and 550 km with nodes 0.5 deg
    apart: within the plane tolerance (1 deg) in inclination and RAAN, but not one plane. The shells
    are told apart by their semi-major axes (10 km apart) before planes are found within each: 10
    planes of one shell each, each shell its own +Grid (its rings spaced by its own slots), no link
    between the shells."""
    low = walker_tles(6, 8, 1, 540.0, 53.0)
    high = walker_tles(4, 20, 1, 550.0, 53.2, raan_offset_deg=0.5)
    order = np.random.default_rng(5).permutation(128)  # the shells interleaved in the file
    write_tle_file(tmp_path / "two.tle", [(low + high)[k] for k in order])
    tles = read_tle_file(tmp_path / "two.tle")
    grid, _ = infer_grid(tles, tle_epoch_utc(tles))
    in_high = order >= 48  # satellite n of the file is set order[n] of low + high
    np.testing.assert_array_equal(grid.plane_of, np.where(in_high, 6 + (order - 48) // 20, order // 8))
    np.testing.assert_array_equal(grid.slot_of, np.where(in_high, (order - 48) % 20, order % 8))
    assert list(grid.shell_of_plane) == [0] * 6 + [1] * 4 and grid.seam_shift is None
    edges = grid_edges(grid)
    assert (in_high[edges[:, 0]] == in_high[edges[:, 1]]).all()
    for shell, (records, first) in enumerate([(low, 0), (high, 48)]):
        alone, _ = infer_grid(read_tle_file(_written(tmp_path, records)), EPOCH)
        mine = order[edges[in_high[edges[:, 0]] == bool(shell)]] - first
        np.testing.assert_array_equal(np.unique(np.sort(mine, axis=1), axis=0),
                                      grid_edges(dataclasses.replace(alone, seam_shift=None)))
    assert "2 shells, 10 planes of 8 to 20 satellites" in grid.describe(edges)


def _written(tmp_path: Path, records) -> Path:
    path = tmp_path / f"w{len(records)}.tle"
    write_tle_file(path, records)
    return path


def test_sidecar_slots_and_isl_files(tmp_path, tiny_tle):
    (tmp_path / "slots.csv").write_text("plane,slot\n" + "".join(f"{k // 10},{(k + 1) % 10}\n" for k in range(100)))
    (tmp_path / "isl.txt").write_text("# a hand-made ring\n" + "".join(f"{k} {(k + 1) % 100}\n" for k in range(100)))
    sc = load_scenario(_tle_scenario(tmp_path, tiny_tle, slots_file="slots.csv", isl_file="isl.txt"))
    const = build_constellation(sc)
    np.testing.assert_array_equal(const.slot_of, (np.arange(100) + 1) % 10)
    topology = build_topology(sc, const)
    assert topology.num_links == 100 and (topology.edges[:, 1] - topology.edges[:, 0]).max() == 99


@pytest.mark.parametrize("rows, words", [
    ([f"{k // 10},{k % 10 + 1}" for k in range(100)], ["line 11:", "slot 10 of plane 0, which has 10", "0 to 9"]),
    ([f"{k // 10},{k % 10}" for k in range(99)] + ["9,12"], ["line 101:", "slot 12 of plane 9", "0 to 9"]),
    ([f"{k // 10 + (k >= 50)},{k % 10}" for k in range(100)], ["line 52:", "plane 6 is given but plane 5 has no"]),
])
def test_bad_slots_files_name_the_line(tmp_path, tiny_tle, rows, words):
    """A plane,slot sidecar must number planes 0 to P - 1 and each plane's slots 0 to its size - 1
    (without slot 0, or with planes skipped, the grid cannot be built)."""
    (tmp_path / "slots.csv").write_text("plane,slot\n" + "".join(f"{r}\n" for r in rows))
    with pytest.raises(ScenarioError) as err:
        load_scenario(_tle_scenario(tmp_path, tiny_tle, slots_file="slots.csv"))
    message = str(err.value)
    assert "slots.csv" in message and "\n" not in message
    for word in words:
        assert word in message, message


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


def _with_bstar(tmp_path: Path, tiny_tle: Path, bstar_field: str) -> Path:
    """tiny_tle with satellite 0's B* (line 1, columns 54-61) replaced, its checksum kept right."""
    from harness.formats.tle import _checksum

    lines = tiny_tle.read_text().splitlines()
    line = lines[1][:53] + bstar_field + lines[1][61:]
    lines[1] = line[:68] + str(_checksum(line))
    path = tmp_path / "drag.tle"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("epoch, snapshots, when", [
    ("2026-01-04T00:00:00Z", "count: 10\n  interval_s: 1.0", "t = 0 s (2026-01-04T00:00:00Z)"),  # when read
    ("2026-01-01T00:00:00Z", "count: 10\n  interval_s: 86400", "t = 259200 s"),  # mid-run: fine on day 9 again
])
def test_decayed_orbit_is_one_error_line_through_the_cli(tmp_path, tiny_tle, epoch, snapshots, when):
    """Satellite 0 with B* 0.9 at 550 km has decayed (SGP4 error 6) from day 2.5 to day 7. Propagating
    into that window is one 'error:' line naming the satellite, its TLE line and the time, exit 1,
    nothing written; whether it shows at the first or last snapshot (checked when the scenario is read)
    or only in between (checked when the constellation is built)."""
    import subprocess
    import sys

    drag = _with_bstar(tmp_path, tiny_tle, " 90000+0")
    scenario = _tle_scenario(tmp_path, drag, epoch_utc=f'"{epoch}"')
    text = scenario.read_text()
    head, rest = text.split("snapshots:\n", 1)
    scenario.write_text(f"{head}snapshots:\n  {snapshots}\n" + rest.split("\n", 2)[2])
    out = tmp_path / "topology.npz"
    run = subprocess.run([sys.executable, "-m", "harness", "topology", str(scenario), "--out", str(out)],
                         capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 1, run.stderr
    lines = run.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and "Traceback" not in run.stderr, run.stderr
    for words in ("drag.tle", "satellite 0 (TLE at line 2)", when, "error 6", "decay"):
        assert words in lines[-1], lines[-1]
    assert not out.exists()


def _edit(line: str, start: int, text: str) -> str:
    """``line`` with ``text`` written from column ``start`` (0-based) on, the checksum kept right."""
    from harness.formats.tle import _checksum

    line = line[:start] + text + line[start + len(text):]
    return line[:68] + str(_checksum(line))


@pytest.mark.parametrize("index, start, text, words", [
    (4, 53, " nan0-0 ", ["line 5:", "B* drag term", "not a number", "TLE line 1"]),
    (4, 33, "       nan", ["line 5:", "first derivative of mean motion", "not a number"]),
    (4, 44, "  nan-0 ", ["line 5:", "not a number", "TLE line 1"]),  # sgp4 then reads B* as nan too
    (5, 8, "200.0000", ["line 6:", "inclination is 200 deg", "[0, 180]", "TLE line 2"]),
    (5, 17, "     nan", ["line 6:", "RAAN", "not a number"]),
    (5, 34, "     nan", ["line 6:", "argument of perigee", "not a number"]),
    (5, 43, "     nan", ["line 6:", "mean anomaly", "not a number"]),
    (5, 52, "        nan", ["line 6:", "mean motion (columns 53-63) is nan"]),
    (5, 52, " 0.00000000", ["line 6:", "mean motion is 0 rad/min"]),
    (4, 18, "26366.00000000", ["line 5:", "day of year 366 is outside 2026, which has 365 days"]),
    (4, 18, "25365.99999999", None),  # the last instant of 2025
    (4, 18, "24366.50000000", None),  # 2024 is a leap year
])
def test_tle_fields_are_finite_and_in_range(tmp_path, tiny_tle, index, start, text, words):
    """Each field SGP4 reads must be a finite number in its range, and the error names the line the
    field is on (B* and the mean motion derivatives are on line 1, the orbit on line 2)."""
    lines = tiny_tle.read_text().splitlines()
    lines[index] = _edit(lines[index], start, text)
    bad = tmp_path / "bad.tle"
    bad.write_text("\n".join(lines) + "\n")
    if words is None:
        assert len(read_tle_file(bad)) == 100
        return
    with pytest.raises(ScenarioError) as err:
        read_tle_file(bad)
    message = str(err.value)
    assert message.startswith(f"{bad}: ") and "\n" not in message
    for word in words:
        assert word in message, message


def test_a_run_parses_the_tle_file_once(tmp_path, tiny_tle, monkeypatch):
    """Reading the scenario, building the constellation and building the ISLs share one parse of the
    file (each element set's Satrec is built by the reader and kept); an edited file is read again."""
    import harness.formats.tle as tle_format

    calls = []
    real = tle_format.read_tle_file
    monkeypatch.setattr(tle_format, "read_tle_file", lambda path: calls.append(path) or real(path))
    scenario = load_scenario(_tle_scenario(tmp_path, tiny_tle))
    build_topology(scenario, build_constellation(scenario))
    assert len(calls) == 1
    tiny_tle.write_text(tiny_tle.read_text() + "\n")  # another size: another version of the file
    load_scenario(_tle_scenario(tmp_path, tiny_tle))
    assert len(calls) == 2


def test_paths_csv_leaves_nothing_on_failure(tmp_path):
    """write_paths_csv writes through a .part file; a failure mid-write removes it and leaves no CSV."""
    from harness.formats.ground_paths import read_paths_csv, write_paths_csv
    from harness.network.ground.paths import PairPaths

    good = PairPaths("A", "B", np.array([0, 100]), np.array([1.5, np.nan]), np.array([2, -1]),
                     np.array([[3, -1], [-1, -1]], np.int32))
    write_paths_csv(tmp_path / "ok.csv", [good])
    assert [r["path"] for r in read_paths_csv(tmp_path / "ok.csv")] == ["3", "unreachable"]
    broken = dataclasses.replace(good, hops=np.array([2]))  # shorter than times_ns: fails at the 2nd row
    with pytest.raises(IndexError):
        write_paths_csv(tmp_path / "bad.csv", [good, broken])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.csv"]


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
