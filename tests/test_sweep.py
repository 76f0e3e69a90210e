"""Sweeps on a local Dask cluster: a 4-point grid end to end, and an interrupted sweep resumed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.sweep import load_sweep

REPO = Path(__file__).resolve().parents[1]

SWEEP = """
name: t
base: {base}
set:
  traffic.tokens_per_request: 2
  traffic.requests: 1
  snapshots.count: 3
grid:
  constellation.altitude_km: [550, 800]
  seed: [1, 2]
"""


def write_sweep(tmp_path: Path, grid_extra: str = "") -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(SWEEP.format(base=REPO / "topologies" / "tiny.yaml") + grid_extra)
    return path


def sweep_cli(*args: str, cwd: Path, **kwargs):
    return subprocess.run([sys.executable, "-m", "harness", "sweep", *args], capture_output=True, text=True,
                          cwd=cwd, check=False, **kwargs)


def test_points_are_the_grid_and_bad_points_fail_before_anything_runs(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path), tmp_path / "out")
    assert [p.values for p in sweep.points] == [
        {"constellation.altitude_km": 550, "seed": 1}, {"constellation.altitude_km": 550, "seed": 2},
        {"constellation.altitude_km": 800, "seed": 1}, {"constellation.altitude_km": 800, "seed": 2}]
    bad = tmp_path / "bad.yaml"
    bad.write_text(SWEEP.format(base=REPO / "topologies" / "tiny.yaml")
                   .replace("[550, 800]", "[550, 100]"))
    with pytest.raises(ScenarioError, match="altitude_km"):
        load_sweep(bad, tmp_path / "out")
    typo = tmp_path / "typo.yaml"
    typo.write_text(SWEEP.format(base=REPO / "topologies" / "tiny.yaml").replace("seed:", "sead:"))
    with pytest.raises(ScenarioError, match="unknown key 'sead'"):
        load_sweep(typo, tmp_path / "out")


def test_four_point_sweep_on_a_local_dask_cluster(tmp_path):
    out = tmp_path / "out"
    done = sweep_cli(str(write_sweep(tmp_path)), "--out", str(out), "--workers", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    table = (out / "sweep.csv").read_text().splitlines()
    assert table[0].startswith("point,constellation.altitude_km,seed,strategy")
    assert len(table) == 1 + 4
    assert (out / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    assert len(list((out / "points").glob("*/summary.json"))) == 4
    # Higher orbits mean longer links: the 800 km points are slower than the 550 km ones.
    means = {(row.split(",")[1], row.split(",")[2]): int(row.split(",")[6]) for row in table[1:]}
    assert means[("800", "1")] > means[("550", "1")] and means[("800", "2")] > means[("550", "2")]


def test_an_interrupted_sweep_resumes_without_redoing_finished_points(tmp_path):
    out = tmp_path / "out"
    sweep_file = write_sweep(tmp_path)
    child = subprocess.Popen([sys.executable, "-m", "harness", "sweep", str(sweep_file), "--out", str(out),
                              "--workers", "1"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not list((out / "points").glob("*/summary.json")):
        time.sleep(0.2)
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    finished = {p.parent.name: p.stat().st_mtime_ns for p in (out / "points").glob("*/summary.json")}
    assert 1 <= len(finished) < 4, "the sweep should be killed midway"
    again = sweep_cli(str(sweep_file), "--out", str(out), "--workers", "1", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"{len(finished)} done, {4 - len(finished)} to run" in again.stderr
    after = {p.parent.name: p.stat().st_mtime_ns for p in (out / "points").glob("*/summary.json")}
    assert len(after) == 4
    for name, mtime in finished.items():
        assert after[name] == mtime, f"{name} was run again"
