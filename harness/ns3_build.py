"""Build the C++ ns-3 module on first use, into a cache keyed by source hash and ns-3 version.

A user never types cmake: :func:`module_library` returns the path of ``libspacexnet.so``, building
it (Release, about half a minute on 2 cores) when no build of the current sources exists. Builds
are guarded by a file lock, so parallel processes (a sweep) build once and share the result.

The cache lives in ``$SPACEXNET_CACHE_DIR``, else ``$XDG_CACHE_HOME/space-xnet``, else
``~/.cache/space-xnet``.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .errors import BuildError

log = logging.getLogger(__name__)

LIBRARY_NAME = "libspacexnet.so"
TEST_LIBRARY_NAME = "libspacexnet-test.so"
#: ns-3 libraries the module links and the loader loads, in dependency order.
NS3_MODULES = ("core", "network", "bridge", "traffic-control", "internet", "point-to-point", "applications")


def source_root() -> Path:
    """The checkout holding ``CMakeLists.txt`` and ``ns3_modules/``."""
    root = Path(__file__).resolve().parents[1]
    if not (root / "CMakeLists.txt").is_file() or not (root / "ns3_modules").is_dir():
        raise BuildError(f"the C++ sources were not found next to the harness package ({root}); "
                         f"install the harness from a checkout with 'pip install -e .'")
    return root


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
    files = [root / "CMakeLists.txt", *sorted(p for p in (root / "ns3_modules").rglob("*") if p.is_file())]
    for path in files:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    digest.update(ns3_version().encode())
    digest.update(str(ns3_prefix()).encode())
    digest.update(_compiler_id().encode())
    return digest.hexdigest()[:16]


def _compiler_id() -> str:
    cxx = os.environ.get("CXX") or shutil.which("c++") or "c++"
    try:
        return subprocess.run([cxx, "--version"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return cxx


def build_dir() -> Path:
    return cache_dir() / f"build-{source_hash()}"


def module_library() -> Path:
    """Path of the built module, building it first if the cache has no build of these sources."""
    target = build_dir()
    library = target / LIBRARY_NAME
    if (target / "complete").is_file():
        return library
    cache_dir().mkdir(parents=True, exist_ok=True)
    with open(cache_dir() / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building the same sources
        if not (target / "complete").is_file():
            _build(target)
    return library


def _build(target: Path) -> None:
    for tool in ("cmake", "c++"):
        if shutil.which(tool) is None:
            raise BuildError(f"'{tool}' is not on PATH: install CMake >= 3.16 and a C++20 compiler "
                             f"(Debian: apt-get install cmake g++)")
    log.info("building the ns-3 module (once for these sources) into %s", target)
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
    (work / "complete").write_text("ok\n")
    if target.exists():
        shutil.rmtree(target)
    work.rename(target)
