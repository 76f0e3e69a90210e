"""Space-XNet: a packet-level harness for mixture-of-experts LLMs on LEO satellite constellations.

The packages read as the pipeline, and imports run one way, down it:

    scenario -> constellation -> network -> workload -> placement -> simulate -> analysis
       (YAML)     (SGP4)       (ISLs, routes,  (compute,    (where each    (ns-3 packets;   (summaries,
                               ground)         activations, component      the analytic     plots, the
                                               traffic)     lives)         twin)            paper)

driven by :mod:`harness.run` (a scenario end to end, sweeps) and :mod:`harness.cli`. Beneath the
steps: :mod:`harness.errors`, :mod:`harness.names` (the names the schema accepts),
:mod:`harness.seeding`, :mod:`harness.sites`, :mod:`harness.formats` (every on-disk format) and
:mod:`harness.cxx` (the C++ ns-3 module, built on first use).

:data:`LAYERS` is that order, bottom first, with one exception: :mod:`harness.constellation` sits
below :mod:`harness.scenario` (it takes plain numbers, and the scenario's validation reads a TLE
file's orbits with it at the boundary). A module may import its own package and any layer
below its own, never one above (``tests/test_imports.py`` holds the code to it, and to no cycles).
"""

__version__ = "0.1.0"

#: The import order, bottom first: each entry a layer of ``harness`` sub-packages and modules. A
#: module imports only from its own package and from earlier layers.
LAYERS = (
    ("errors", "names", "seeding", "sites"),
    ("formats",),
    ("constellation",),
    ("scenario",),
    ("cxx",),
    ("network",),
    ("workload",),
    ("placement",),
    ("simulate",),
    ("analysis",),
    ("run",),
    ("pipeline", "cli"),
    ("__main__",),
)
