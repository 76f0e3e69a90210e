"""Bring up ns-3 and the Space-XNet module in this process, through cppyy.

``from ns import ns`` would include every ns-3 module (7-10 s, ~640 MB). :func:`load` loads only
the libraries the harness needs, then the module's library, and only then the headers (loading a
library before including headers that define static objects avoids cppyy's "Failed to
materialize symbols" noise): about 2 s.

    >>> from harness.cxx.runtime import load
    >>> ns3 = load()
    >>> ns3.Simulator.Now().GetNanoSeconds()
    0
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from types import SimpleNamespace

from harness.cxx import build as ns3_build

log = logging.getLogger(__name__)

_HEADERS = (
    "ns3/simulator.h",
    "ns3/global-value.h",
    "ns3/rng-seed-manager.h",
    "ns3/nstime.h",
    "ns3/string.h",
    "ns3/uinteger.h",
    "ns3/pointer.h",
    "ns3/node-container.h",
    "ns3/application-container.h",
    "ns3/test.h",
    "ns3/space-xnet-module.h",
)

_state = SimpleNamespace(ns3=None)


def load():
    """Load ns-3 and the module once per process; return the ``ns3`` C++ namespace."""
    if _state.ns3 is not None:
        return _state.ns3
    library = ns3_build.module_library()
    prefix = ns3_build.ns3_prefix()
    import cppyy
    import libcppyy

    libcppyy.AddSmartPtrType("Ptr")  # ns-3's smart pointer, as the ns3 wheel's own loader does
    cppyy.add_library_path(str(prefix / "lib64"))
    cppyy.add_include_path(str(prefix / "include"))
    cppyy.add_include_path(str(library.parent / "include"))  # the module's headers, staged as ns3/*.h
    for module in ns3_build.NS3_MODULES:
        cppyy.load_library(str(ns3_build.ns3_library(module)))
    cppyy.load_library(str(library))
    for header in _HEADERS:
        cppyy.include(header)
    ns3 = cppyy.gbl.ns3
    # The event queue: ns-3's binary heap on a vector instead of its default red-black tree (one
    # allocation per event fewer; a serving run's Simulator::Run 6-9 % less CPU). Events leave
    # every ns-3 scheduler in the same order, by (time, insertion id), a total order: the same
    # runs, event for event. Bound before the first Simulator call creates the simulator; each
    # one made after a Simulator::Destroy reads it again.
    ns3.GlobalValue.Bind("SchedulerType", ns3.StringValue("ns3::PriorityQueueScheduler"))
    # Simulator::Run calls no Python (the harness hands ns-3 no Python callback): it lets go of
    # the GIL, so a Python thread may work beside it (harness/run/pipeline.py writes network.npz).
    ns3.Simulator.Run.__release_gil__ = True
    _state.ns3 = ns3
    return _state.ns3


def run_cxx_test_suite(suite: str = "space-xnet") -> subprocess.CompletedProcess:
    """Run the module's ns-3 TestSuite in a child process (an ns-3 fatal error kills its process).

    Returns the finished process; its return code is ns-3's TestRunner's (0: every case passed).
    """
    code = (
        "import sys, cppyy\n"
        "from harness.cxx import build as ns3_build, runtime as ns3_runtime\n"
        "ns3 = ns3_runtime.load()\n"
        "cppyy.load_library(str(ns3_build.module_library().parent / ns3_build.TEST_LIBRARY_NAME))\n"
        "cppyy.cppdef('''int spacexnet_run_tests(const std::string& suite) {\n"
        "  std::string a0 = \"test-runner\", a1 = \"--suite=\" + suite, a2 = \"--verbose\";\n"
        "  char* argv[] = {a0.data(), a1.data(), a2.data(), nullptr};\n"
        "  return ns3::TestRunner::Run(3, argv); }''')\n"
        "sys.stdout.flush()\n"
        "sys.exit(cppyy.gbl.spacexnet_run_tests(sys.argv[1]))\n"
    )
    env = dict(os.environ)
    return subprocess.run([sys.executable, "-c", code, suite], capture_output=True, text=True, env=env,
                          check=False)
