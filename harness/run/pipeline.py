"""A scenario end to end: constellation -> topology -> activations -> placement -> routes ->
packet simulation -> traces and summary.

Each step is a pure function of its own module; this one only wires them in order
(:mod:`.steps`, :mod:`.prepare`, :mod:`.strategy`, :mod:`.processes`, :mod:`.write`). Randomness
comes from the scenario's seed through one numpy Generator per purpose, so the same scenario and
seed give byte-identical traces whatever strategies are listed alongside.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Callable, Optional

from harness.errors import HarnessError
from harness.network.spill import release
from harness.placement import check_plan_for_scenario, load_plan
from harness.placement.subnets import forget_member_delays
from harness.run.prepare import Prepared, prepare
from harness.run.processes import available_cores, run_in_processes
from harness.run.steps import (build_activations, build_constellation, build_topology, ground_paths_for,
                               satellite_failure_snapshots)
from harness.run.strategy import (ProgressCallback, check_placement_memory, place_replicas, placement_satellites,
                                  run_strategy)
from harness.run.write import RunResult, analyze_directory, write_run
from harness.scenario import Scenario

# The pipeline's public face: the run, and the steps it wires, under one import.
__all__ = ["Prepared", "ProgressCallback", "RunResult", "analyze_directory", "build_activations",
           "build_constellation", "build_topology", "check_placement_memory", "ground_paths_for", "place_replicas",
           "placement_satellites",
           "prepare", "run_scenario", "satellite_failure_snapshots", "write_run"]

log = logging.getLogger(__name__)


def run_scenario(scenario: Scenario, progress: Optional[ProgressCallback] = None,
                 plan: Optional[Path] = None, jobs: Optional[int] = None) -> RunResult:
    """Run every strategy of the scenario through ns-3 and through the analytic model.

    ``progress(strategy, simulated_s, horizon_s, tokens_done, tokens_total)`` is called as the
    packet simulation advances. With ``plan`` (a saved placement, see ``harness place``), that
    placement is run instead of the scenario's strategies, tagged with the plan's strategy name.

    The placements are made here, one after the other (strategies share work such as the subnet
    centres); each strategy's analytic model and packet simulation then runs in a process of its
    own, ``jobs`` at a time (default: one per core), forked from this one so that the topology and
    routes are shared, not copied. ns-3 is single-threaded and every strategy's simulation is
    independent and seeded, so the traces are the same, byte for byte, whatever ``jobs`` is.
    """
    clock = time.perf_counter()
    prep = prepare(scenario)
    constellation, topology, inputs = prep.constellation, prep.topology, prep.inputs
    isls = topology.num_links if prep.ground is None else prep.ground.first_gsl  # GSLs follow the ISLs
    log.info("constellation %d satellites, %d ISLs, %d snapshots, %.1f%% of link-snapshots down (%.2f s)",
             constellation.num_satellites, isls, topology.num_snapshots, 100 * (1 - topology.up[:, :isls].mean()),
             time.perf_counter() - clock)
    release(topology.up)  # read whole just now: a long run's is in a file (harness/network/spill.py)

    if plan is not None:
        if scenario.serving.replicas > 1:
            raise HarnessError("a saved plan is one copy of the model; run it with serving.replicas: 1, or run "
                               "the scenario's strategies, which are placed once per replica")
        placements = [[load_plan(plan, num_satellites=constellation.num_satellites, layers=scenario.model.layers,
                                 experts=scenario.model.experts)]]
        check_plan_for_scenario(placements[0][0], f"plan file '{plan}'", heads=scenario.model.heads)
    else:
        placements = []
        for name in scenario.strategies:
            clock = time.perf_counter()
            placements.append(place_replicas(name, inputs, scenario.seed, scenario.serving.replicas))
            log.info("%s: placed (%.2f s)", name, time.perf_counter() - clock)
        forget_member_delays(inputs)  # what the placements shared among them: no later step reads it
    release(topology.delay_ns, topology.up, topology.feasible)  # what the placements read (spill.py)
    for replicas in placements:  # every satellite's weights and KV cache fit its memory, or one error line
        for placement in replicas:
            check_placement_memory(scenario, placement, topology.num_nodes)
    jobs = min(len(placements), available_cores() if jobs is None else max(1, jobs))
    if jobs == 1:
        # network.npz and the writing phase's imports are made on the side once ns-3 runs (from its
        # first progress report on: Simulator::Run lets go of the GIL), on the second core; the
        # same bytes.
        aside = _Aside(lambda: _network_npz(scenario, prep.map_steps, topology, isls))

        def running(*args) -> None:
            aside.start()
            if progress is not None:
                progress(*args)

        try:
            traces = [run_strategy(scenario, prep, placement, running) for placement in placements]
        except BaseException:
            aside.wait(discard=True)  # the thread reads the topology: done before anything lets go of it
            raise
        network = aside.wait()
    else:
        traces = run_in_processes(scenario, prep, placements, progress, jobs)
        network = network_npz(scenario, prep.map_steps, topology, isls)
    release(topology.delay_ns, topology.up, topology.feasible)  # what the strategies read (spill.py)
    lat, lon = prep.map_points
    return RunResult(traces, lat, lon, constellation.plane_of, constellation.slot_of,
                     network=network, sunlit=prep.sunlit, times_s=prep.topology.times_s)


class _Aside:
    """``make()`` in a thread of this process, after importing what the writing phase draws with
    (matplotlib): :meth:`start` begins it (once), :meth:`wait` waits for it (beginning it if need
    be) and returns ``make``'s value or raises its exception. Meant to run beside the packet
    simulation: ns-3's Simulator::Run releases the GIL (harness/cxx/runtime.py), so the thread
    takes the second core, not the simulation's; begun once the simulation runs, it does not slow
    the network's setup (many short calls into ns-3, each needing the GIL)."""

    def __init__(self, make: Callable[[], bytes]):
        self._make, self._thread, self._box = make, None, {}

    def _work(self) -> None:
        try:
            from harness.analysis import plots  # loads matplotlib, for write_run

            del plots  # only the import was wanted

            self._box["value"] = self._make()
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            self._box["error"] = exc

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="harness-aside", daemon=True)
            self._thread.start()

    def wait(self, discard: bool = False) -> Optional[bytes]:
        if self._thread is None:
            if discard:
                return None
            self.start()
        self._thread.join()
        if discard:
            return None
        if "error" in self._box:
            raise self._box.pop("error")
        return self._box.pop("value")


def network_npz(scenario: Scenario, map_steps: tuple, topology, isls: int) -> bytes:
    """``network.npz`` of a run (harness/formats/network.py): every snapshot's satellite positions
    (``map_steps``: :attr:`Prepared.map_steps`) and the ISLs (the first ``isls`` links of the
    topology; ground links are left out), for the report."""
    return _network_npz(scenario, map_steps, topology, isls)


def _network_npz(scenario: Scenario, map_steps: tuple, topology, isls: int) -> bytes:
    """:func:`network_npz` (which a caller may wrap, e.g. to time it, in the caller's thread)."""
    from harness.formats.network import network_npz_bytes

    return network_npz_bytes(scenario=scenario.name, metric=scenario.routing.metric, times_s=topology.times_s,
                             lat_deg=None, lon_deg=None, lat_step_cdeg=map_steps[0], lon_step_cdeg=map_steps[1],
                             edges=topology.edges[:isls], up=topology.up[:, :isls],
                             delay_ns=topology.delay_ns[:, :isls],
                             # a long run's spilled delays and states are read a block at a time
                             after_block=lambda: release(topology.delay_ns, topology.up, *map_steps))
