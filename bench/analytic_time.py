"""What the analytic model's link queueing costs: the analytic model of every strategy of a scenario,
with its queueing (``simulation.analytic_queueing: true``) and with every message timed alone (the
default), in the same run, interleaved, median of 3 (bench/README.md).

    python bench/analytic_time.py topologies/polar_1056.yaml [more scenarios]

Prints, per scenario, the wall time of the analytic model over all its strategies both ways and
how many tokens differ. The ns-3 engine does not run.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from pathlib import Path

import numpy as np

from harness.run.prepare import prepare
from harness.placement.replicas import replica_choice
from harness.run.strategy import place_replicas
from harness.scenario import load_scenario
from harness.simulate import analytic
from harness.simulate.inputs import SimulationInput


def inputs(path: Path) -> list[SimulationInput]:
    scenario = load_scenario(path)
    prep = prepare(scenario)
    out = []
    for name in scenario.strategies:
        (placement,) = place_replicas(name, prep.inputs, scenario.seed, 1)
        out.append(SimulationInput(
            topology=prep.topology, routes=prep.paths, links=scenario.links, gateways=placement.gateways,
            experts=placement.experts, shards=placement.shards, replicas=placement.replicas,
            replica_choice=None if placement.replicas is None else
            replica_choice(prep.topology, placement.gateways, placement.experts, placement.replicas),
            activations=prep.trace.experts,
            compute=prep.compute, memory=prep.memory, request_starts_ns=prep.request_starts_ns,
            message_bytes=scenario.model.hidden_bytes, no_route=scenario.routing.no_route,
            combine=scenario.model.combine, dispatch=scenario.model.dispatch))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenarios", nargs="+", type=Path)
    args = ap.parse_args()
    for path in args.scenarios:
        inps = inputs(path)
        times = {"queueing": [], "alone": []}
        results = {}
        for _ in range(3):
            for name, queueing in (("queueing", True), ("alone", False)):
                clock = time.perf_counter()
                results[name] = [analytic.analytic_latency(dataclasses.replace(inp, analytic_queueing=queueing)).latency_ns
                                 for inp in inps]
                times[name].append(time.perf_counter() - clock)
        differ = sum(int((a != b).sum()) for a, b in zip(results["queueing"], results["alone"]))
        tokens = sum(a.size for a in results["queueing"])
        print(f"{path.name}: {len(inps)} strategies, {tokens} tokens; analytic model "
              f"{statistics.median(times['queueing']):.2f} s with queueing, "
              f"{statistics.median(times['alone']):.2f} s with every message alone (median of 3); "
              f"{differ} tokens differ")


if __name__ == "__main__":
    main()
