"""Sweeps on a local Dask cluster: a 4-point grid end to end, and an interrupted sweep resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.run.sweep import load_sweep

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


# Installed through PYTHONPATH into every Python process of the sweep: the `harness run` child of the
# point whose scenario file names CRASH_POINT dies of a real SIGSEGV before the harness starts, as an
# ns-3 fatal error or a segfault in the C++ module would kill it. No hook in the harness itself.
CRASH_HOOK = """
import os, signal, sys
_mark = os.environ.get("SPACEXNET_TEST_CRASH")
if _mark and "run" in sys.argv and any(_mark in arg for arg in sys.argv):
    os.kill(os.getpid(), signal.SIGSEGV)
"""


def test_a_crashing_point_is_recorded_the_others_complete_and_a_rerun_retries_only_it(tmp_path):
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(CRASH_HOOK)
    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text(SWEEP.format(base=REPO / "topologies" / "tiny.yaml").replace("[550, 800]", "[550, 600, 650]")
                          .replace("seed: [1, 2]", "seed: [1]"))
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hook), str(REPO)]),
           "SPACEXNET_TEST_CRASH": "altitude_km=600"}
    first = sweep_cli(str(sweep_file), "--out", str(out), "--workers", "2", cwd=REPO, env=env)
    assert first.returncode == 1, first.stderr
    last = first.stderr.strip().splitlines()[-1]
    assert last.startswith("error: 1 of 3 points failed: 001-altitude_km=600,seed=1 (SIGSEGV)"), last
    assert "rerun the same command" in last
    failed = json.loads((out / "failed.json").read_text())
    assert [(f["index"], f["returncode"], f["signal"]) for f in failed] == [(1, -signal.SIGSEGV, "SIGSEGV")]
    assert (out / "logs" / "001-altitude_km=600,seed=1.log").is_file()
    finished = {p.parent.name: p.stat().st_mtime_ns for p in (out / "points").glob("*/summary.json")}
    assert sorted(finished) == ["000-altitude_km=550,seed=1", "002-altitude_km=650,seed=1"]
    assert len((out / "sweep.csv").read_text().splitlines()) == 1 + 2
    assert not [p for p in (out / "points").iterdir() if p.name.startswith(".")], "staging left behind"

    env.pop("SPACEXNET_TEST_CRASH")
    again = sweep_cli(str(sweep_file), "--out", str(out), "--workers", "2", cwd=REPO, env=env)
    assert again.returncode == 0, again.stderr
    assert "2 done, 1 to run" in again.stderr
    assert json.loads((out / "failed.json").read_text()) == []
    after = {p.parent.name: p.stat().st_mtime_ns for p in (out / "points").glob("*/summary.json")}
    assert len(after) == 3 and all(after[name] == mtime for name, mtime in finished.items())
    assert len((out / "sweep.csv").read_text().splitlines()) == 1 + 3


def test_a_hostile_sweep_name_gives_a_folder_inside_the_results_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "sweep.yaml"
    path.write_text(SWEEP.format(base=REPO / "topologies" / "tiny.yaml").replace("name: t", "name: '../../../x'"))
    sweep = load_sweep(path)
    assert sweep.out_dir == Path("results") / "sweep-x"
    assert all(Path("results") in p.out_dir.parents for p in sweep.points)
    path.write_text(SWEEP.format(base=REPO / "topologies" / "tiny.yaml").replace("name: t", "name: [1]"))
    with pytest.raises(ScenarioError, match="'name' must be a non-empty string"):
        load_sweep(path)
