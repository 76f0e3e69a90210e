"""The C++ ns-3 module (``ns3_modules/space-xnet``): compiled on first use against the ``ns3`` wheel
(:mod:`.build`) and loaded with cppyy (:mod:`.runtime`). Every step above that calls into C++ (the
routing engine, placement's path delays, the packet simulation) goes through :func:`.runtime.load`.

Layer 3: imports only :mod:`harness.errors` (see :data:`harness.LAYERS`).
"""
