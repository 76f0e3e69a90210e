"""Peak memory of a run, estimated from the scenario alone, before anything is allocated.

A run that does not fit must stop with one line that says so and names the key to change, not
die of an out-of-memory kill or a numpy MemoryError halfway through. The estimate adds up the
largest things a run holds at once, each from the scenario's sizes (S snapshots, N satellites,
E = 2N +Grid links, the model's L layers of E_x experts, R requests of T tokens), with per-item
byte counts taken from the code that allocates them and a per-node cost of the ns-3 network
measured here (bench/scaling_bench.py prints the measured peaks next to these estimates):

========================  ==========================================================  ==========
what                      size                                                        module
========================  ==========================================================  ==========
runtime                   Python, numpy, scipy, cppyy and the ns-3 libraries          fixed
constellation             positions and velocities, float64, plus SGP4's temporaries  constellation
topology                  per link and snapshot: lengths, delays, states and the      topology
                          feasibility temporaries (3-vectors per link)
path graph                the per-step graph copied into C++ once (delay + state)     routes
placement centres         mean member-to-member delays of neighbouring subnets,       placement
                          [N, 2N/L] float64, and a block of the centres' programme,
                          when a strategy puts gateways at subnet centres
ns-3 network              nodes, devices, queues, IPv4 stacks, per satellite          packet_sim
routing trees             the on-demand trees of one step, per destination in use     routes
traces                    per token and layer records, activations                    traces
========================  ==========================================================  ==========

Deliberately generous (it rounds every coefficient up): refusing a run that would have fitted is
a nuisance, an out-of-memory kill halfway through is a lost hour.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ScenarioError
from harness.scenario import Scenario

__all__ = ["MemoryEstimate", "available_memory_bytes", "check_memory", "estimate_memory"]

MiB = 2**20
GiB = 2**30

#: Interpreter, numpy/scipy/matplotlib, cppyy and the ns-3 libraries once loaded (measured ~300 MB).
RUNTIME_BYTES = 400 * MiB
#: Per satellite and snapshot: positions and velocities (2 x 3 float64) and SGP4's temporaries.
CONSTELLATION_BYTES_PER_SAT_SNAPSHOT = 160
#: Per link and snapshot: length, delay, up, feasible, plus the feasibility temporaries.
TOPOLOGY_BYTES_PER_LINK_SNAPSHOT = 160
#: Per link and snapshot in the C++ path graph: int64 delay + uint8 state.
PATH_GRAPH_BYTES_PER_LINK_SNAPSHOT = 9
#: Per satellite in the ns-3 network: node, 4 devices and channels, queues, IPv4 stack, routing.
NS3_BYTES_PER_SAT = 200 * 1024
#: Per node of one on-demand tree: int64 distance, int32 parent, settled flag, heap entries.
TREE_BYTES_PER_NODE = 40
#: Strategies that place gateways at subnet centres (the delays between the members of neighbouring
#: subnets while placing: harness/placement/subnets.py).
CENTRE_STRATEGIES = ("space-xnet", "rand-intra-cg")
#: The centres' delay tables per satellite and member of its subnet: [m, m] and [m, m'] float64 sums
#: and their means (8 B x 2 x 2).
CENTRE_BYTES_PER_SAT_MEMBER = 32
#: The centres' dynamic programme: a block of [start, previous, current] sums and its reductions.
CENTRE_PROGRAMME_BYTES = 64 * MiB


@dataclass(frozen=True)
class MemoryEstimate:
    """Estimated peak resident memory of a run, in bytes, and its largest parts."""

    parts: dict[str, int]

    @property
    def total_bytes(self) -> int:
        return sum(self.parts.values())

    def largest(self) -> str:
        return max(self.parts, key=self.parts.get)


def estimate_memory(scenario: Scenario, jobs: int | None = None) -> MemoryEstimate:
    """The run's estimated peak memory (see the module docstring for what is counted).

    ``jobs`` strategies are simulated at once, each in a forked process that shares the topology
    and routes and holds its own ns-3 network, routing trees and records (default: as
    harness.run.pipeline does, one per core, at most one per strategy)."""
    if jobs is None:
        import os

        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:
            cores = os.cpu_count() or 1
        jobs = max(1, min(cores, len(scenario.strategies)))
    jobs = min(jobs, len(scenario.strategies))
    s = scenario.snapshots.count
    n = scenario.constellation.num_satellites
    links = 2 * n
    m, t = scenario.model, scenario.traffic
    tokens = t.requests * t.tokens_per_request
    centres = any(name in CENTRE_STRATEGIES for name in scenario.strategies)
    # Destinations with a tree in one step: at most every component, at most what the tokens in
    # flight can reach (each request has one token in flight, at most k + 1 destinations per layer).
    active_trees = min(m.num_components, t.requests * m.layers * (m.top_k + 1))
    parts = {
        "runtime": RUNTIME_BYTES,
        "constellation": CONSTELLATION_BYTES_PER_SAT_SNAPSHOT * s * n,
        "topology": TOPOLOGY_BYTES_PER_LINK_SNAPSHOT * s * links,
        "path graph": PATH_GRAPH_BYTES_PER_LINK_SNAPSHOT * s * links,
        "placement centres": (CENTRE_BYTES_PER_SAT_MEMBER * n * -(-n // m.layers) + CENTRE_PROGRAMME_BYTES
                              if centres else 0),
        "ns-3 network": jobs * NS3_BYTES_PER_SAT * n,
        "routing trees": jobs * TREE_BYTES_PER_NODE * n * active_trees,
        "traces": jobs * tokens * m.layers * (8 * (4 + m.top_k) + 8 * m.experts),
    }
    return MemoryEstimate(parts)


def available_memory_bytes() -> int:
    """Memory this process may still use: the lower of MemAvailable and any cgroup limit left."""
    available = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
    except OSError:
        pass
    if available is None:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            available = 1 << 62  # unknown: do not refuse
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            limit = Path(limit_file).read_text().strip()
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit():
            available = min(available, max(0, int(limit) - usage))
    return available


#: The scenario key that shrinks each part.
_KEY_FOR = {
    "constellation": "snapshots.count or constellation.satellites",
    "topology": "snapshots.count or constellation.satellites",
    "path graph": "snapshots.count or constellation.satellites",
    "placement centres": "constellation.satellites (or drop space-xnet and rand-intra-cg from strategies)",
    "ns-3 network": "constellation.satellites (or run fewer strategies at once: --jobs 1)",
    "routing trees": "traffic.requests or model.layers",
    "traces": "traffic.requests or traffic.tokens_per_request",
    "runtime": "nothing in the scenario (free memory on this machine)",
}


def check_memory(scenario: Scenario, available_bytes: int | None = None, jobs: int | None = None) -> MemoryEstimate:
    """Refuse a scenario whose estimated peak exceeds the memory available, in one line.

    Raises:
        ScenarioError: naming the estimate, what is available, the largest part and its key.
    """
    estimate = estimate_memory(scenario, jobs)
    available = available_memory_bytes() if available_bytes is None else available_bytes
    if estimate.total_bytes > available:
        part = estimate.largest()
        raise ScenarioError(
            f"scenario '{scenario.name}' needs an estimated {estimate.total_bytes / GiB:.1f} GiB of memory "
            f"but {available / GiB:.1f} GiB are available; the largest part is the {part} "
            f"({estimate.parts[part] / GiB:.1f} GiB): reduce {_KEY_FOR[part]}")
    return estimate
