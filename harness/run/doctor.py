"""``python -m harness doctor``: what the harness runs on, and whether its ns-3 module loads.

Reports the harness's and Python's locations, the ns3 wheel (version, folder), the C++ compiler
and CMake, where the C++ sources and the build cache are, the build of the current sources (built
or not), removes the cache's stale builds (see :func:`harness.cxx.build.prune_stale_builds`), and
finally loads the module in this process, compiling it first if needed (announced: about 40 s).
Any missing piece is a :class:`~harness.errors.BuildError` naming the fix.
"""

from __future__ import annotations

import importlib.metadata
import logging
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

from harness import __version__
from harness.cxx import build as ns3_build
from harness.errors import BuildError

log = logging.getLogger(__name__)


def _mb(size_bytes: int) -> str:
    return f"{size_bytes / 1e6:.0f} MB"


def _cmake_version() -> str:
    cmake = shutil.which("cmake")
    if cmake is None:
        raise BuildError("'cmake' is not on PATH: install CMake >= 3.16 (Debian: apt-get install cmake)")
    done = subprocess.run([cmake, "--version"], capture_output=True, text=True, check=False)
    return f"{(done.stdout.splitlines() or ['?'])[0].strip()} ({cmake})"


def _compiler() -> str:
    version = ns3_build.compiler_version()
    if not version or shutil.which(ns3_build.compiler()) is None:
        raise BuildError(f"no C++ compiler '{ns3_build.compiler()}': install a C++20 compiler "
                         f"(Debian: apt-get install g++) or set CXX")
    return f"{version} ({shutil.which(ns3_build.compiler())})"


def _ns3() -> str:
    prefix = ns3_build.ns3_prefix()
    return f"{ns3_build.ns3_version()} ({prefix})"


def _sources() -> str:
    root = ns3_build.source_root()
    kind = "packaged with the harness" if root.name == "_cxx" else "a checkout's, for an editable install"
    return f"{root} ({kind})"


def _cache() -> str:
    builds = ns3_build.cached_builds()
    size = sum(b.size_bytes() for b in builds)
    return f"{ns3_build.cache_dir()} ({len(builds)} builds, {_mb(size)})"


def _prune() -> str:
    removed = ns3_build.prune_stale_builds()
    if not removed:
        return "none to remove"
    return "; ".join(f"removed {path.name} ({reason})" for path, reason in removed)


def _build() -> str:
    target = ns3_build.build_dir()
    return f"{target} ({'built' if ns3_build.is_built(target) else 'not built yet'})"


def _load() -> str:
    from harness.cxx.runtime import load

    try:
        ns3 = load()
    except BuildError:
        raise
    except Exception as exc:  # cppyy's own errors (a header or library that does not load)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BuildError(f"the ns-3 module was built but does not load ({first}); see the build log "
                         f"next to {ns3_build.build_dir()}, or rerun with --debug") from exc
    if ns3.Simulator.Now().GetNanoSeconds() != 0:
        raise BuildError("the ns-3 module loaded but the simulator clock is not at 0; report this with "
                         "'python -m harness --debug doctor'")
    ns3.ForwardingTable  # the module's own class resolves
    return f"loads ({ns3_build.module_library()})"


def checks() -> list[tuple[str, Callable[[], str]]]:
    """The report's lines, in order: a label and a function giving its value (or raising)."""
    package = Path(__file__).resolve().parents[1]
    return [
        ("harness", lambda: f"{__version__} ({package})"),
        ("python", lambda: f"{platform.python_version()} ({sys.executable})"),
        ("cppyy", lambda: importlib.metadata.version("cppyy")),
        ("ns-3", _ns3),
        ("compiler", _compiler),
        ("cmake", _cmake_version),
        ("C++ sources", _sources),
        ("build cache", _cache),
        ("stale builds", _prune),
        ("build", _build),
        ("module", _load),
    ]


def run(write: Callable[[str], None]) -> None:
    """Write one line per check; raise the first failure (a :class:`BuildError`) after its line."""
    width = max(len(label) for label, _ in checks())
    for label, check in checks():
        try:
            value = check()
        except importlib.metadata.PackageNotFoundError as exc:
            write(f"{label:<{width}}  MISSING")
            raise BuildError(f"the package {exc} is not installed: pip install space-xnet-harness "
                             f"(or pip install . from a checkout) installs it") from None
        except BuildError:
            write(f"{label:<{width}}  FAILED")
            raise
        write(f"{label:<{width}}  {value}")
