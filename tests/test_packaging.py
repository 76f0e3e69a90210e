"""The harness as a normal Python package: the sdist holds everything the build needs, the wheel
built from it installs into a fresh venv and runs tiny.yaml from a directory outside the checkout
(the C++ module compiled on first use, announced), with the same tokens.csv, byte for byte, as this
interpreter's (editable) install; the ``space-xnet`` console script and ``doctor`` work there.

It builds and installs for real (pip, with the dependencies, from the package index or pip's cache)
and compiles the module into a fresh cache: about 3 minutes here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "topologies" / "tiny.yaml"
NAME = "space_xnet_harness"


def run(command: list, cwd: Path, env: dict | None = None, timeout: float = 1200) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True,
                          check=False, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def outside_env(cache: Path) -> dict:
    """The environment of a user outside the checkout: no PYTHONPATH, a build cache of its own."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["SPACEXNET_CACHE_DIR"] = str(cache)
    return env


def wheel_files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as wheel:
        return {n: wheel.read(n) for n in wheel.namelist() if ".dist-info/" not in n}


def test_wheel_from_the_sdist_installs_in_a_fresh_venv_and_runs_outside_the_checkout(tmp_path):
    dist = tmp_path / "dist"
    # python -m build makes the sdist, then the wheel from the unpacked sdist alone.
    run([sys.executable, "-m", "build", "--outdir", dist, REPO], cwd=tmp_path)
    (sdist,) = dist.glob(f"{NAME}-*.tar.gz")
    (wheel,) = dist.glob(f"{NAME}-*-py3-none-any.whl")
    with tarfile.open(sdist) as archive:
        in_sdist = {m.name.split("/", 1)[1] for m in archive.getmembers() if m.isfile()}
    cxx = sorted(p.relative_to(REPO / "ns3_modules").as_posix() for p in (REPO / "ns3_modules").rglob("*")
                 if p.is_file())
    assert {"CMakeLists.txt", "cmake/ns3-wheel-build-lib.cmake", "space-xnet/CMakeLists.txt"} <= set(cxx)
    python = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "harness").glob("*.py"))
    assert {f"ns3_modules/{f}" for f in cxx} | set(python) | {"pyproject.toml"} <= in_sdist
    files = wheel_files(wheel)
    assert {f"harness/_cxx/{f}" for f in cxx} | set(python) <= set(files)
    assert not [n for n in files if not n.startswith("harness/")], "the wheel installs only the harness package"
    # pip wheel on the checkout gives the same files as the wheel built from the sdist.
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp_path / "pip-wheel", REPO], cwd=tmp_path)
    (direct,) = (tmp_path / "pip-wheel").glob(f"{NAME}-*.whl")
    assert wheel_files(direct) == files

    # A fresh venv with the wheel and its dependencies; no checkout on its path.
    venv = tmp_path / "venv"
    env = outside_env(tmp_path / "cache")
    run([sys.executable, "-m", "venv", venv], cwd=tmp_path, env=env)
    run([venv / "bin" / "python", "-m", "pip", "install", "-q", wheel], cwd=tmp_path, env=env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(TINY, elsewhere / "tiny.yaml")
    where = run([venv / "bin" / "python", "-c",
                 "import harness, harness.cxx.build as b; print(harness.__file__); print(b.source_root())"],
                cwd=elsewhere, env=env).stdout.split()
    site = (venv / "lib").resolve()
    assert all(Path(p).resolve().is_relative_to(site) for p in where), where
    assert Path(where[1]).name == "_cxx"

    # The console script, from outside the checkout: the first run compiles, and says so.
    first = run([venv / "bin" / "space-xnet", "run", "tiny.yaml", "--out", "results"], cwd=elsewhere, env=env)
    assert "compiling the ns-3 module once" in first.stderr
    assert "space-xnet" in first.stdout and "mean ms" in first.stdout
    doctor = run([venv / "bin" / "space-xnet", "doctor"], cwd=elsewhere, env=env)
    assert "packaged with the harness" in doctor.stdout and "(built)" in doctor.stdout
    assert "module" in doctor.stdout and "loads" in doctor.stdout and "compiling" not in doctor.stderr

    # This interpreter's install (editable in CI), python -m harness: the same tokens, byte for byte.
    run([sys.executable, "-m", "harness", "run", elsewhere / "tiny.yaml", "--out", tmp_path / "editable"],
        cwd=tmp_path)
    installed = (elsewhere / "results" / "tokens.csv").read_bytes()
    assert installed.count(b"\n") == 1 + 16
    assert installed == (tmp_path / "editable" / "tokens.csv").read_bytes()
