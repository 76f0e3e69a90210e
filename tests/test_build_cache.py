"""The build cache: which builds are pruned, and the sources' location in a checkout."""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
from pathlib import Path

import pytest

from harness.cxx import build as ns3_build
from harness.errors import BuildError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SPACEXNET_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    return tmp_path / "cache"


def make_build(cache: Path, name: str, record: dict | None, complete: bool = True, age_days: float = 0) -> Path:
    """A cache folder as ns3_build leaves one: ``complete`` stamp, ``source.json``, the library."""
    path = cache / name
    path.mkdir()
    (path / ns3_build.LIBRARY_NAME).write_bytes(b"\x7fELF")
    if record is not None:
        (path / "source.json").write_text(json.dumps(record))
    stamp = path / "complete" if complete else path
    if complete:
        stamp.write_text("ok\n")
    when = time.time() - age_days * 86400
    os.utime(stamp, (when, when))
    (cache / f"{name.split('.')[0]}.log").write_text("cmake output\n")
    return path


def test_in_a_checkout_the_sources_are_ns3_modules():
    assert ns3_build.source_root() == REPO / "ns3_modules"
    assert (ns3_build.source_root() / ns3_build.MODULE_FOLDER / "CMakeLists.txt").is_file()


def test_stale_builds_are_pruned_and_current_or_foreign_ones_kept(cache, tmp_path):
    root, prefix = str(ns3_build.source_root()), str(ns3_build.ns3_prefix())
    other_checkout = tmp_path / "other-checkout"
    other_checkout.mkdir()
    current = make_build(cache, ns3_build.build_dir().name, {"source_root": root, "ns3_prefix": prefix})
    keep = {
        current,
        # another checkout's build, recently used: another install's current build
        make_build(cache, "build-1111111111111111", {"source_root": str(other_checkout), "ns3_prefix": prefix}),
        # the same sources against another ns3 (another venv using this checkout)
        make_build(cache, "build-2222222222222222", {"source_root": root, "ns3_prefix": str(tmp_path)}),
        # an older harness's build (no record), used last week
        make_build(cache, "build-3333333333333333", None, age_days=7),
    }
    gone = {
        make_build(cache, "build-aaaaaaaaaaaaaaaa", {"source_root": root, "ns3_prefix": prefix}):
            "older sources of this install",
        make_build(cache, "build-bbbbbbbbbbbbbbbb", {"source_root": str(tmp_path / "deleted"), "ns3_prefix": prefix}):
            "its install is gone",
        make_build(cache, "build-cccccccccccccccc", None, age_days=ns3_build.UNUSED_DAYS + 1):
            f"unused for {ns3_build.UNUSED_DAYS} days",
        make_build(cache, "build-dddddddddddddddd.x1y2z3", None, complete=False): "an interrupted build",
    }
    # A build in progress (its lock held) is never touched, whatever it looks like.
    building = make_build(cache, "build-eeeeeeeeeeeeeeee.a1b2c3", None, complete=False)
    with open(cache / "build-eeeeeeeeeeeeeeee.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        removed = dict(ns3_build.prune_stale_builds())
    assert removed == gone
    assert {p for p in cache.iterdir() if p.is_dir()} == keep | {building}
    assert not (cache / "build-aaaaaaaaaaaaaaaa.log").exists()  # a removed build's log goes with it
    assert (cache / "build-1111111111111111.log").exists()
    # Once its lock is free, the unfinished build is a leftover too; then nothing is left to prune.
    assert ns3_build.prune_stale_builds() == [(building, "an interrupted build")]
    assert ns3_build.prune_stale_builds() == []


def test_a_build_in_use_is_kept_until_its_users_exit(cache):
    root, prefix = str(ns3_build.source_root()), str(ns3_build.ns3_prefix())
    older = make_build(cache, "build-aaaaaaaaaaaaaaaa", {"source_root": root, "ns3_prefix": prefix})
    # A running process (here another open file) holds the older build's in-use lock, shared.
    user = ns3_build._hold_in_use(older.name)
    assert user is not None
    assert ns3_build.prune_stale_builds() == []
    assert older.is_dir() and (cache / f"{older.name}.log").exists()
    user.close()  # the process exits
    assert ns3_build.prune_stale_builds() == [(older, "older sources of this install")]
    assert not older.exists() and not (cache / f"{older.name}.use").exists()


def test_a_lock_file_removed_while_waiting_is_taken_again(cache, monkeypatch):
    """A process that opened a build's in-use file just before a prune deleted it must not hold a
    lock nobody else sees: it takes the lock again on the file now at that path."""
    from types import SimpleNamespace

    path = cache / "build-aaaaaaaaaaaaaaaa.use"
    calls = []

    def flock(handle, operation):  # the prune wins the race: the file goes before the lock is taken
        calls.append(os.fstat(handle.fileno()).st_ino)
        if len(calls) == 1:
            path.unlink()
        fcntl.flock(handle, operation)

    monkeypatch.setattr(ns3_build, "fcntl", SimpleNamespace(flock=flock, LOCK_SH=fcntl.LOCK_SH))
    held = ns3_build._hold_in_use("build-aaaaaaaaaaaaaaaa")
    assert len(calls) == 2
    assert os.fstat(held.fileno()).st_ino == path.stat().st_ino
    with open(path) as prune:
        with pytest.raises(BlockingIOError):
            fcntl.flock(prune, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_this_process_holds_the_build_it_loaded():
    """The module this test session loaded (the real cache) is locked against other processes'
    prunes for as long as the session runs."""
    library = ns3_build.module_library()
    with open(ns3_build._use_path(library.parent.name)) as prune:
        with pytest.raises(BlockingIOError):
            fcntl.flock(prune, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_missing_sources_name_the_reinstall(monkeypatch, tmp_path):
    monkeypatch.setattr(ns3_build, "_source_candidates", lambda: (tmp_path / "_cxx", tmp_path / "ns3_modules"))
    with pytest.raises(BuildError, match="are missing from the harness .*pip install --force-reinstall"):
        ns3_build.source_root()


def doctor(cwd: Path, **env_changes: str):
    import subprocess
    import sys

    env = {**os.environ, **env_changes}
    return subprocess.run([sys.executable, "-m", "harness", "doctor"], capture_output=True, text=True, cwd=cwd,
                          env=env, check=False)


def test_doctor_reports_the_toolchain_and_loads_the_module(tmp_path):
    done = doctor(REPO)
    assert done.returncode == 0, done.stderr
    report = dict(line.split(None, 1) for line in done.stdout.splitlines()
                  if not line.startswith(("ok:", "C++", "build", "stale")))  # the one-word labels
    assert report["ns-3"].startswith(ns3_build.ns3_version())
    assert report["compiler"].startswith(ns3_build.compiler_version())
    assert f"{ns3_build.source_root()} (a checkout's" in done.stdout
    assert f"{ns3_build.build_dir()} (built)" in done.stdout
    assert report["module"].startswith("loads")


def test_doctor_without_a_compiler_fails_with_one_line(tmp_path):
    done = doctor(tmp_path, CXX=str(tmp_path / "no-such-c++"))
    assert done.returncode == 1
    assert re.search(r"^compiler +FAILED$", done.stdout, re.M), done.stdout
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: no C++ compiler") and "apt-get install g++" in line
