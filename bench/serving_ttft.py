"""TTFT of a request's prefill, split into compute, propagation, transmission and queueing.

    python bench/serving_ttft.py topologies/serving_ttft_polar_1056.yaml RESULTS_DIR

RESULTS_DIR is that scenario's results (``python -m harness run ... --out RESULTS_DIR``): its
requests.csv gives the packet engine's TTFT of request 0. The split walks the prefill's critical
path alone (harness/workload/traffic/prefill.py: gateway compute P x per token, the slowest expert's
message out, compute and message back, per layer, then the LM head) over the routes in force at
each send; queueing is the rest (messages of one prefill that share a link wait for each other).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from harness.formats.requests import read_requests_csv
from harness.pipeline import place_replicas, prepare
from harness.scenario import load_scenario
from harness.workload.traffic.prefill import prefill_path


def main(scenario_path: str, results: str) -> None:
    scenario = load_scenario(scenario_path)
    prep = prepare(scenario)
    name = scenario.strategies[0]
    placement = place_replicas(name, prep.inputs, scenario.seed, 1)[0]
    req = prep.requests
    path = prefill_path(prep.prefill_counts[0], int(req.prompt_tokens[0]), prep.compute, placement.gateways,
                        placement.experts, int(req.arrival_ns[0]), prep.paths,
                        np.round(prep.topology.times_s * 1e9).astype(np.int64), scenario.links,
                        scenario.model.hidden_bytes)
    ttft = int(read_requests_csv(Path(results) / "requests.csv")[name]["ttft_ns"][0])
    queueing = ttft - path.total_ns
    print(f"{scenario.name} {name}: prompt {int(req.prompt_tokens[0])} tokens, TTFT {ttft / 1e9:.6f} s")
    for label, ns in (("prefill compute", path.compute_ns), ("propagation", path.propagation_ns),
                      ("transmission", path.transmission_ns), ("queueing", queueing)):
        print(f"  {label:16s} {ns / 1e9:12.6f} s  {100 * ns / ttft:7.3f} %")


if __name__ == "__main__":
    main(*sys.argv[1:])
