"""Experiment behind README's "Results against the paper": rand-intra on whole-plane subnets.

Our ring subnets are arcs of the argument of latitude. If the paper's subnets were whole orbital
planes instead, its random-intra baselines would be slower than ours. This places the 32-layer model
of polar_1056.yaml with subnet l = plane l, gateway and experts at random inside it, and compares
its mean per-token latency with the registered strategies', all through the analytic model (one
request, so no queueing: the packet engine agrees with it to 1e-5 there).

    python docs/experiments/plane_subnets.py
"""

import dataclasses
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from harness import pipeline  # noqa: E402
from harness.analytic import analytic_latency  # noqa: E402
from harness.placement import Placement, place  # noqa: E402
from harness.routes import shortest_delay_routes  # noqa: E402
from harness.scenario import load_scenario  # noqa: E402


def mean_latency_s(scenario, prep, placement: Placement) -> float:
    routes = shortest_delay_routes(prep.topology, np.sort(placement.components))
    model = analytic_latency(topology=prep.topology, routes=routes, links=scenario.links,
                             gateways=placement.gateways, experts=placement.experts,
                             activations=prep.trace.experts, compute=prep.compute,
                             request_starts_ns=prep.request_starts_ns, message_bytes=scenario.model.hidden_bytes)
    latency = model.latency_ns[model.latency_ns > 0]
    return float(latency.mean()) / 1e9


def main() -> None:
    scenario = load_scenario(REPO / "topologies" / "polar_1056.yaml")
    scenario = dataclasses.replace(scenario, traffic=dataclasses.replace(scenario.traffic, requests=1))
    prep = pipeline.prepare(scenario)
    layers, experts = scenario.model.layers, scenario.model.experts
    plane = prep.constellation.plane_of
    subnets = np.where(plane < layers, plane, -1).astype(np.int32)
    rng = pipeline.rng_for(scenario.seed, "experiment:plane-subnets")
    gateways = np.array([rng.choice(np.flatnonzero(subnets == l)) for l in range(layers)], dtype=np.int32)
    chosen = np.array([rng.choice(np.setdiff1d(np.flatnonzero(subnets == l), gateways[l]), experts, replace=False)
                       for l in range(layers)], dtype=np.int32)
    print(f"rand-intra, whole-plane subnets: {mean_latency_s(scenario, prep, Placement('x', gateways, chosen, subnets)):.2f} s/token")
    for name in ("space-xnet", "rand-intra-cg", "rand-intra", "rand-place"):
        placement = place(name, prep.inputs, pipeline.rng_for(scenario.seed, f"placement:{name}"))
        print(f"{name}, argument-of-latitude arcs: {mean_latency_s(scenario, prep, placement):.2f} s/token")


if __name__ == "__main__":
    main()
