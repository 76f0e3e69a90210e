"""The validation boundary: hostile names cannot write outside the results root, staging folders go
away on errors and Ctrl-C, and every bad file (binary, not UTF-8, oversized, overflowing, malformed
results) is one line `error: ...` with exit 1."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness import formats
from harness.formats import results as traces
from harness.cli import check_run, main
from harness.errors import HarnessError, ResultsError, ScenarioError
from harness.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "topologies" / "tiny.yaml"
SMALL = ("name: {name}\nconstellation: {{planes: 6, sats_per_plane: 10}}\nsnapshots: {{count: 2}}\n"
         "traffic: {{requests: 1, tokens_per_request: 1}}\n")


def cli(*args: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, check=False, **kwargs)


def tiny_with(tmp_path: Path, name: str, text: str = "") -> Path:
    path = tmp_path / "s.yaml"
    lines = TINY.read_text().replace("name: tiny", f"name: {json.dumps(name)}")
    path.write_text(lines + text)
    return path


@pytest.mark.parametrize("name, folder", [
    ("../../x", "x"), ("/etc/passwd", "etc_passwd"), ("..", "scenario"), ("a/../../b", "a_.._.._b"),
    ("~root/.ssh", "root_.ssh"), ("C:\\evil", "C_evil"), (".hidden", "hidden"), ("ok-name_1.2", "ok-name_1.2"),
    ("x" * 500, "x" * 100), ("é/ü", "scenario"),
])
def test_a_hostile_name_gives_a_folder_inside_the_results_root(tmp_path, monkeypatch, name, folder):
    monkeypatch.chdir(tmp_path)
    if len(name) > 200:
        with pytest.raises(ScenarioError, match="at most 200"):
            check_run(tiny_with(tmp_path, name))
        assert formats.safe_name(name) == folder
        return
    _, out = check_run(tiny_with(tmp_path, name))
    assert out == Path("results") / folder
    assert out.resolve().parent == (tmp_path / "results").resolve()


@pytest.mark.parametrize("name", ["a\x00b", "line\nbreak", "", "   "])
def test_names_with_control_characters_or_nothing_are_refused(tmp_path, name):
    with pytest.raises(ScenarioError) as info:
        check_run(tiny_with(tmp_path, name))
    assert "'name'" in str(info.value) and "\n" not in str(info.value)


def test_a_hostile_name_run_through_the_cli_writes_only_under_results(tmp_path):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    scenario = work / "s.yaml"
    scenario.write_text(SMALL.format(name="'../../escaped'"))
    done = cli("run", str(scenario), cwd=work)
    assert done.returncode == 0, done.stderr
    outside = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if work not in (p, *p.parents))
    assert outside == ["a"], outside
    assert (work / "results" / "escaped" / "summary.json").is_file()
    assert not (tmp_path / "escaped").exists() and not (tmp_path.parent / "escaped").exists()
    assert sorted(p.name for p in (work / "results").iterdir()) == ["escaped"]


def test_a_symlinked_default_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "tiny").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(HarnessError, match="link out of results"):
        check_run(TINY)


@pytest.mark.parametrize("interrupt", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_staging_is_removed_on_errors_and_ctrl_c(tmp_path, interrupt):
    out = tmp_path / "results" / "run"
    with pytest.raises(type(interrupt)):
        with traces.staged_directory(out) as staging:
            traces.write_files(staging, {"tokens.csv": "x\n"})
            raise interrupt
    assert list((tmp_path / "results").iterdir()) == []
    out.mkdir()
    with pytest.raises(type(interrupt)):
        with traces.staged_directory(out) as staging:
            traces.write_files(staging, {"tokens.csv": "x\n"})
            raise interrupt
    assert list(out.iterdir()) == []


def test_sigterm_during_a_run_leaves_no_output_directory(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(TINY.read_text().replace("count: 10", "count: 400").replace("tokens_per_request: 8",
                                                                                     "tokens_per_request: 400"))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-m", "harness", "run", str(scenario), "--out", str(tmp_path / "out")],
                             cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Signal once the packet simulation is under way (its first progress line), not after a fixed
    # sleep: on an idle machine the whole run can end within a few seconds.
    seen = []
    for line in child.stderr:
        seen.append(line)
        if "simulated" in line:
            break
    child.send_signal(signal.SIGTERM)
    _, rest = child.communicate(timeout=120)
    stderr = "".join(seen) + rest
    assert child.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "interrupted"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


# ---------------------------------------------------------------------------------------------
# Bad files: one line, exit 1


def run_main(capsys, *argv: str) -> tuple[int, list[str]]:
    code = main(list(argv))
    return code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("content, words", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["binary file"]),
    ("name: t\u00e9\n".encode("latin-1"), ["not UTF-8", "byte 7"]),
    (b"name: t\nseed: " + b"9" * 5000 + b"\n", ["cannot be read"]),
    (b"name: t\nseed: 99999999999999999999\n", ["'seed'", "9223372036854775806"]),
    (b"name: t\nconstellation: {altitude_km: 1e400}\n", ["altitude_km", "finite"]),
    (b"name: t\nconstellation: {altitude_km: " + b"9" * 400 + b"}\n", ["altitude_km", "finite"]),
    (b"name: t\nconstellation: {altitude_km: .nan}\n", ["altitude_km", "finite"]),
    (b"name: t\nname: u\n", ["given twice"]),
    (b"name: t\n" + b"[" * 5000, ["5000 deep"]),
    (b"name: t\nconstellation: {planes: 32768, sats_per_plane: 32768}\n", ["more than the 32768"]),
    (b"name: t\nconstellation: {sats_per_plane: 10, planes: 10}\nlinks: {grazing_altitude_km: 545}\n",
     ["grazing_altitude_km", "SGP4"]),
    (b"name: t\nconstellation: {planes: 6, sats_per_plane: 8}\ntraffic: {requests: 1000000, "
     b"tokens_per_request: 1000000}\n", ["activations, more than"]),
    (b"name: t\nconstellation: {planes: 6, sats_per_plane: 8}\ncompute: {satellite_flops: 1}\n", ["compute"]),
    (b"name: t\nconstellation: {planes: 6, sats_per_plane: 8}\nsnapshots: {count: 1000000, interval_s: 86400}\n",
     ["snapshots.count"]),
    (b"{1: 2, x: 3}\n", ["unknown key"]),
    (b"name: t\n'a\\nb': 1\n", ["unknown key 'a\\\\nb'"]),
])
def test_bad_scenario_files_are_one_line_and_exit_1(tmp_path, capsys, content, words):
    path = tmp_path / "s.yaml"
    path.write_bytes(content)
    code, lines = run_main(capsys, "run", str(path), "--out", str(tmp_path / "out"))
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error: "), lines
    for word in words:
        assert word in lines[0], lines[0]
    assert not (tmp_path / "out").exists()


def test_an_oversized_scenario_file_is_refused_unread(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    with open(path, "wb") as f:
        f.write(b"name: t\n# " + b"x" * (formats.MAX_CONFIG_BYTES + 10) + b"\n")
    code, lines = run_main(capsys, "run", str(path))
    assert code == 1 and len(lines) == 1 and "more than the 1048576" in lines[0]


def test_bad_plan_and_trace_files_are_one_line(tmp_path, capsys):
    plan = tmp_path / "plan.json"
    plan.write_bytes(b"\xff\xfe{}")
    code, lines = run_main(capsys, "run", str(TINY), "--plan", str(plan), "--out", str(tmp_path / "out"))
    assert code == 1 and len(lines) == 1 and "plan file" in lines[0] and "UTF-8" in lines[0]
    plan.write_text("[" * 100_000)
    code, lines = run_main(capsys, "run", str(TINY), "--plan", str(plan), "--out", str(tmp_path / "out"))
    assert code == 1 and len(lines) == 1 and "plan file" in lines[0]
    # A trace that needs unpickling is refused, never loaded.
    np.save(tmp_path / "trace.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(TINY.read_text().replace("kind: synthetic", "kind: file\n  path: trace.npy")
                        .replace("  skew: 1.0\n  stickiness: 0.2\n", ""))
    code, lines = run_main(capsys, "run", str(scenario), "--out", str(tmp_path / "out"))
    assert code == 1 and len(lines) == 1 and "trace.npy" in lines[0] and "pickle" in lines[0].lower(), lines
    (tmp_path / "trace.npy").write_bytes(b"\x00" * 64)
    code, lines = run_main(capsys, "run", str(scenario), "--out", str(tmp_path / "out"))
    assert code == 1 and len(lines) == 1 and "trace.npy" in lines[0]
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------------
# Results directories for `harness analyze`


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    scenario = tmp_path_factory.mktemp("scenario") / "s.yaml"
    scenario.write_text(SMALL.format(name="r"))
    done = cli("run", str(scenario), "--out", str(out), cwd=scenario.parent)
    assert done.returncode == 0, done.stderr
    return out


def test_analyze_reads_back_a_good_results_directory(results_dir, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(results_dir, copy)
    before = json.loads((copy / "summary.json").read_text())
    code, _ = run_main(capsys, "analyze", str(copy))
    assert code == 0
    assert json.loads((copy / "summary.json").read_text()) == before


@pytest.mark.parametrize("file, damage, words", [
    ("run.json", None, ["has no run.json"]),
    ("run.json", b"{not json", ["run.json", "not valid JSON at line 1"]),
    ("run.json", b'{"scenario": "x", "seed": 1}', ["field 'strategies'"]),
    ("run.json", b'{"scenario": "x", "seed": NaN, "strategies": {}}', ["run.json", "NaN"]),
    ("tokens.csv", b"strategy,request\nspace-xnet,1\n", ["tokens.csv", "line 1"]),
    ("tokens.csv", "append:space-xnet,0,0,1,2,1,1,0,0,zero\n", ["tokens.csv", "column 'propagation_ns'"]),
    ("tokens.csv", "append:space-xnet,0,0\n", ["tokens.csv", "fields"]),
    ("layers.csv", b"\x00\x01\x02", ["layers.csv", "binary"]),
    ("layers.csv", "drop-last-line", ["layers.csv", "3 layers but placements.json has 4 gateways"]),
    ("placements.json", b'{"space-xnet": {"gateways": [99999], "experts": [[1]], "subnets": []}}',
     ["placements.json", "space-xnet.gateways"]),
    ("satellites.csv", b"sat,plane,slot,lat_deg,lon_deg\n0,0,0,nan,1\n", ["satellites.csv", "finite"]),
])
def test_a_damaged_results_directory_is_one_line(results_dir, tmp_path, capsys, file, damage, words):
    copy = tmp_path / "copy"
    shutil.copytree(results_dir, copy)
    target = copy / file
    if damage is None:
        target.unlink()
    elif damage == "drop-last-line":
        target.write_text("".join(target.read_text().splitlines(keepends=True)[:-1]))
    elif isinstance(damage, str) and damage.startswith("append:"):
        target.write_text(target.read_text() + damage[len("append:"):])
    else:
        target.write_bytes(damage)
    code, lines = run_main(capsys, "analyze", str(copy))
    assert code == 1 and len(lines) == 1, lines
    for word in words:
        assert word in lines[0], lines[0]
    with pytest.raises(ResultsError):
        traces.read_results(copy)
