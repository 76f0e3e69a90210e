"""Build the C++ ns-3 module on first use, into a cache keyed by source hash and ns-3 version.

A user never types cmake: :func:`module_library` returns the path of ``libspacexnet.so``, building
it (Release, about 40 s on 2 cores; announced in the log) when no build of the current sources
exists. Builds are guarded by a file lock, so parallel processes (a sweep) build once and share
the result, and a process holds a shared lock on the build it uses until it exits, so that no
prune removes it under a running simulation.

The C++ sources (the checkout's ``ns3_modules/``: ``CMakeLists.txt``, ``cmake/`` and ``space-xnet/``) travel
inside the package as ``harness/_cxx/`` in a wheel or a non-editable install; an editable install
uses the checkout's.

The cache lives in ``$SPACEXNET_CACHE_DIR``, else ``$XDG_CACHE_HOME/space-xnet``, else
``~/.cache/space-xnet``. Each build records which sources and ns3 wheel it was made from
(``source.json``); after a build, :func:`prune_stale_builds` removes the builds it supersedes (the
same install's older sources), builds whose install is gone, builds unused for
:data:`UNUSED_DAYS` days, and leftovers of interrupted builds.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from harness.errors import BuildError

log = logging.getLogger(__name__)

LIBRARY_NAME = "libspacexnet.so"
TEST_LIBRARY_NAME = "libspacexnet-test.so"
#: ns-3 libraries the module links and the loader loads, in dependency order.
NS3_MODULES = ("core", "network", "bridge", "traffic-control", "internet", "point-to-point", "applications")
#: how long the first build takes here (2 cores, Release), for the announcement.
BUILD_SECONDS_ABOUT = 40
#: a build not used for this long is removed by :func:`prune_stale_builds`.
UNUSED_DAYS = 30
_SOURCE_RECORD = "source.json"
_COMPLETE = "complete"


#: the module's folder inside the source root
MODULE_FOLDER = "space-xnet"


def _source_candidates() -> tuple[Path, Path]:
    package = Path(__file__).resolve().parents[1]
    return package / "_cxx", package.parent / "ns3_modules"  # an installed package's; a checkout's


def source_root() -> Path:
    """The folder holding ``CMakeLists.txt`` and the module's ``space-xnet/``: the installed
    package's ``harness/_cxx/``, else (an editable install) the checkout's ``ns3_modules/``."""
    for root in _source_candidates():
        if (root / "CMakeLists.txt").is_file() and (root / MODULE_FOLDER).is_dir():
            return root
    raise BuildError(f"the C++ sources (CMakeLists.txt, {MODULE_FOLDER}/) are missing from the harness at "
                     f"{Path(__file__).resolve().parents[1]}; reinstall it (pip install --force-reinstall "
                     f"space-xnet-harness, or pip install . from a checkout)")


def ns3_prefix() -> Path:
    """The installed ns3 wheel's folder (holding ``include/`` and ``lib64/``)."""
    spec = importlib.util.find_spec("ns3")
    if spec is None or not spec.submodule_search_locations:
        raise BuildError("the ns3 wheel is not installed: pip install ns3==3.44.post0")
    prefix = Path(list(spec.submodule_search_locations)[0])
    if not (prefix / "include" / "ns3").is_dir() or not (prefix / "lib64").is_dir():
        raise BuildError(f"the ns3 wheel at {prefix} has no include/ns3 or lib64/; reinstall ns3==3.44.post0")
    return prefix


def ns3_version() -> str:
    """The ns3 wheel's version, e.g. ``3.44.post0``."""
    return importlib.metadata.version("ns3")


def ns3_library_version() -> str:
    """The version in the library names, e.g. ``3.44`` for ``libns3.44-core.so``."""
    return ".".join(ns3_version().split(".")[:2])


def ns3_library(module: str) -> Path:
    return ns3_prefix() / "lib64" / f"libns{ns3_library_version()}-{module}.so"


def cache_dir() -> Path:
    if os.environ.get("SPACEXNET_CACHE_DIR"):
        return Path(os.environ["SPACEXNET_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "space-xnet"


def source_hash() -> str:
    """Hash of everything the build depends on: sources, CMakeLists, ns-3 version, compiler."""
    root = source_root()
    digest = hashlib.sha256()
    files = sorted(p for p in root.rglob("*") if p.is_file())  # CMakeLists.txt, cmake/, the module
    for path in files:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    digest.update(ns3_version().encode())
    digest.update(str(ns3_prefix()).encode())
    digest.update(_compiler_id().encode())
    return digest.hexdigest()[:16]


def compiler() -> str:
    """The C++ compiler CMake will use: ``$CXX``, else ``c++`` on PATH."""
    return os.environ.get("CXX") or shutil.which("c++") or "c++"


def _compiler_id() -> str:
    cxx = compiler()
    try:
        return subprocess.run([cxx, "--version"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return cxx


def compiler_version() -> str:
    """The first line of ``$CXX --version`` (empty if there is no compiler)."""
    return (_compiler_id().splitlines() or [""])[0].strip()


def build_dir() -> Path:
    return cache_dir() / f"build-{source_hash()}"


def is_built(target: Optional[Path] = None) -> bool:
    """Whether the cache holds a complete build of the current sources (or of ``target``)."""
    return ((target or build_dir()) / _COMPLETE).is_file()


def module_library() -> Path:
    """Path of the built module, building it first if the cache has no build of these sources."""
    target = build_dir()
    library = target / LIBRARY_NAME
    if target in _in_use:
        return library
    cache_dir().mkdir(parents=True, exist_ok=True)
    # Held for the rest of the process: cppyy reads the build's headers long after loading its
    # library, so another process's prune (after it built newer sources) must leave this build alone.
    use = _hold_in_use(target.name)
    if is_built(target):
        _mark_used(target)
        _in_use[target] = use
        return library
    built = False
    with open(_lock_path(target.name), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building the same sources
        if not is_built(target):
            _build(target)
            built = True
    _in_use[target] = use
    if built:
        try:
            prune_stale_builds()
        except OSError as exc:  # a cache we may not write to: the new build is what matters
            log.warning("could not prune old builds in %s: %s", cache_dir(), exc)
    return library


#: the builds this process uses, with the open file holding each one's in-use lock (shared)
_in_use: dict = {}


def _lock_path(name: str) -> Path:
    """The build lock: held exclusively while the build is made (or removed)."""
    return cache_dir() / f"{name}.lock"


def _use_path(name: str) -> Path:
    """The in-use lock: held shared by every process using the build, exclusively by a prune."""
    return cache_dir() / f"{name}.use"


def _hold_in_use(name: str):
    """Take the build's in-use lock (shared) and return its open file; None where the cache is
    read-only and has no such file (nothing can prune a build there either)."""
    path = _use_path(name)
    while True:
        try:
            handle = open(path, "a")
        except OSError:
            try:
                handle = open(path)
            except OSError:
                return None
        fcntl.flock(handle, fcntl.LOCK_SH)  # waits only while a prune removes this very build
        try:
            same = os.fstat(handle.fileno()).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return handle
        handle.close()  # a prune removed the file after we opened it: take the new one


def _mark_used(target: Path) -> None:
    """Refresh the build's last-use time (the ``complete`` stamp's mtime) at most once a day."""
    stamp = target / _COMPLETE
    try:
        if time.time() - stamp.stat().st_mtime > 86400:
            os.utime(stamp)
    except OSError:
        pass  # a read-only cache (a container run as another user) is fine


def _build(target: Path) -> None:
    for tool in ("cmake", "c++"):
        if shutil.which(tool) is None:
            raise BuildError(f"'{tool}' is not on PATH: install CMake >= 3.16 and a C++20 compiler "
                             f"(Debian: apt-get install cmake g++)")
    log.warning("compiling the ns-3 module once for these sources, about %d s (into %s)",
                BUILD_SECONDS_ABOUT, target)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    log_path = target.parent / f"{target.name}.log"
    configure = ["cmake", "-S", str(source_root()), "-B", str(work), "-DCMAKE_BUILD_TYPE=Release",
                 f"-DNS3_PREFIX={ns3_prefix()}", f"-DNS3_VERSION={ns3_library_version()}",
                 f"-DPython3_EXECUTABLE={sys.executable}"]
    build = ["cmake", "--build", str(work), "-j", str(max(1, os.cpu_count() or 1))]
    with open(log_path, "w") as out:
        for command in (configure, build):
            done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
            if done.returncode != 0:
                shutil.rmtree(work, ignore_errors=True)
                raise BuildError(f"building the ns-3 module failed ({' '.join(command[:2])}); "
                                 f"see {log_path}")
    (work / _SOURCE_RECORD).write_text(json.dumps(
        {"source_root": str(source_root()), "ns3_prefix": str(ns3_prefix()), "ns3_version": ns3_version(),
         "compiler": compiler_version(), "hash": target.name.removeprefix("build-")}, indent=1) + "\n")
    (work / _COMPLETE).write_text("ok\n")
    if target.exists():
        shutil.rmtree(target)
    work.rename(target)
    log.info("compiled the ns-3 module in %.0f s", time.monotonic() - started)


@dataclass(frozen=True)
class CachedBuild:
    """A folder in the build cache: a build, or the leftover of an interrupted one."""

    path: Path
    complete: bool
    source_root: Optional[str]
    ns3_prefix: Optional[str]
    last_used: float  # seconds since the epoch

    @property
    def hash(self) -> str:
        return self.path.name.removeprefix("build-").split(".")[0]

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())


def cached_builds() -> list[CachedBuild]:
    """Every ``build-*`` folder of the cache, by name."""
    builds = []
    if not cache_dir().is_dir():
        return builds
    for path in sorted(cache_dir().glob("build-*")):
        if not path.is_dir():
            continue
        record = {}
        try:
            record = json.loads((path / _SOURCE_RECORD).read_text())
        except (OSError, ValueError):
            pass
        complete = (path / _COMPLETE).is_file()
        try:
            last_used = (path / _COMPLETE if complete else path).stat().st_mtime
        except OSError:
            continue
        builds.append(CachedBuild(path, complete, record.get("source_root"), record.get("ns3_prefix"), last_used))
    return builds


def stale_reason(build: CachedBuild, current: Path) -> Optional[str]:
    """Why ``build`` is no longer needed (None: keep it). ``current`` is this install's build folder."""
    if build.path == current:
        return None
    if not build.complete:
        return "an interrupted build"
    if build.source_root is not None and build.ns3_prefix is not None:
        if not Path(build.source_root).is_dir() or not Path(build.ns3_prefix).is_dir():
            return "its install is gone"
        if build.source_root == str(source_root()) and build.ns3_prefix == str(ns3_prefix()):
            return "older sources of this install"
    if time.time() - build.last_used > UNUSED_DAYS * 86400:
        return f"unused for {UNUSED_DAYS} days"
    return None


def prune_stale_builds() -> list[tuple[Path, str]]:
    """Remove the cache's builds that no longer match an installed harness (see the module's
    docstring); a build another process is making or using (its build or in-use lock held) is left
    alone. Returns the removed folders and why."""
    current = build_dir()
    removed = []
    for build in cached_builds():
        reason = stale_reason(build, current)
        if reason is None:
            continue
        name = f"build-{build.hash}"
        with open(_lock_path(name), "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # being built right now
            if build.complete:
                with open(_use_path(name), "a") as use:
                    try:
                        fcntl.flock(use, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # a running process reads it (its headers, its test library)
                    shutil.rmtree(build.path, ignore_errors=True)
                    # its log and locks go too (an interrupted build's belong to a retry)
                    for leftover in (cache_dir() / f"{name}.log", _lock_path(name), _use_path(name)):
                        leftover.unlink(missing_ok=True)
            else:
                shutil.rmtree(build.path, ignore_errors=True)
        log.info("removed the build %s (%s)", build.path, reason)
        removed.append((build.path, reason))
    return removed
