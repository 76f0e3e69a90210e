"""Strategies in parallel: each one's analytic model and packet simulation in a process of its own,
forked from the parent so that the topology and routes are shared, not copied. ns-3 is
single-threaded and every strategy's simulation is independent and seeded, so the traces are the
same, byte for byte, whatever the number of processes."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Optional

import numpy as np

from harness.errors import HarnessError
from harness.run.prepare import Prepared
from harness.run.strategy import ProgressCallback, direct_shard_input, run_strategy
from harness.scenario import Scenario


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


#: What forked strategy processes read: set by run_in_processes just before it forks them.
_FORKED: dict = {}


def _strategy_in_child(index: int):
    state = _FORKED
    queue = state["queue"]

    def progress(*args) -> None:
        queue.put(args)

    return run_strategy(state["scenario"], state["prep"], state["placements"][index], progress)


#: Destinations whose trees :func:`_packet_work` grows at once. The run's PathQuery keeps one snapshot's
#: trees (one per destination asked about) and reuses their memory for later ones; the placements'
#: message pairs reach every component, so at 16,000 satellites one lookup of them all held ~15,000
#: trees (about 4 GB) in the run's process when it forked the strategies' processes.
_WORK_BLOCK_DESTINATIONS = 256


def _packet_work(prep: Prepared, placements: list, scenario: Scenario) -> list[int]:
    """Per placement, the hops of all its message paths at the first snapshot: its simulation's cost,
    roughly.

    Every placement's pairs toward a block of destinations are looked up together (so the placements
    share each destination's tree, as in one lookup of them all); between blocks a lookup at the
    second snapshot lays the block's trees aside, so the trees held stay at one block's. The hop
    counts are those of one lookup of everything."""
    direct = direct_shard_input(scenario)
    pairs = [np.concatenate([p.message_pairs(direct_shard_input=direct) for p in placement])
             for placement in placements]
    owner = np.repeat(np.arange(len(pairs)), [len(p) for p in pairs])
    pairs = np.concatenate(pairs)
    work = np.zeros(len(placements), dtype=np.int64)
    destinations = np.unique(pairs[:, 1])
    block = len(destinations) if prep.paths.num_snapshots < 2 else _WORK_BLOCK_DESTINATIONS
    for lo in range(0, len(destinations), max(1, block)):
        chosen = np.isin(pairs[:, 1], destinations[lo:lo + block])
        _, hops = prep.paths.lookup(np.zeros(int(chosen.sum()), dtype=np.int64), pairs[chosen, 0], pairs[chosen, 1])
        np.add.at(work, owner[chosen], np.maximum(hops, 0))
        if block < len(destinations):  # another snapshot: this block's trees laid aside
            prep.paths.lookup(np.ones(1, dtype=np.int64), destinations[lo:lo + 1], destinations[lo:lo + 1])
    return [int(w) for w in work]


def _drain(queue, progress: Optional[ProgressCallback]) -> None:
    """Pass the progress reports the strategies' processes queued on to ``progress``."""
    while not queue.empty():
        args = queue.get()
        if progress is not None:
            progress(*args)


def run_in_processes(scenario: Scenario, prep: Prepared, placements: list, progress: Optional[ProgressCallback],
                      jobs: int) -> list:
    """:func:`run_strategy` of every placement in ``jobs`` forked processes, in placement order."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    _FORKED.update(scenario=scenario, prep=prep, placements=placements, queue=queue)
    try:
        with ProcessPoolExecutor(jobs, mp_context=context) as pool:
            # Longest first (the hops its messages cross, at the first snapshot: the packet engine's
            # work), so that the processes finish together; the results keep the placements' order.
            futures = [None] * len(placements)
            work = _packet_work(prep, placements, scenario)
            for i in sorted(range(len(placements)), key=lambda i: -work[i]):
                futures[i] = pool.submit(_strategy_in_child, i)
            running = set(futures)
            while running:
                _, running = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(queue, progress)
            _drain(queue, progress)
            try:
                return [f.result() for f in futures]
            except BrokenProcessPool:
                raise HarnessError("a strategy's simulation process died (an ns-3 fatal error or the "
                                   "out-of-memory killer); rerun with --jobs 1 to see its error") from None
    finally:
        _FORKED.clear()
        queue.close()
