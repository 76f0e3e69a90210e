"""Serving (issue 11) with the placements beyond the paper (issue 10): model replicas of every new
strategy on disjoint satellites (the placement package's unavailable mask), serving runs of a
tensor-parallel and an expert-replica strategy through the real ns-3, and the schema's refusal of
the combinations that do not compose (tensor-parallel shards with prefill, batching or roofline)."""

from __future__ import annotations

from pathlib import Path

import dataclasses
import re

import numpy as np
import pytest

from harness.errors import PlacementError, ScenarioError
from harness.pipeline import place_replicas, placement_satellites, prepare
from harness.scenario import load_scenario, scenario_from_dict
from harness.names import CLUSTER_STRATEGIES, REPLICA_STRATEGIES, TENSOR_PARALLEL_STRATEGIES

REPO = Path(__file__).resolve().parents[1]
# Beyond the paper, on a Walker shell (the cluster-only strategies are refused there).
NEW_STRATEGIES = tuple(s for s in ("compact",) + TENSOR_PARALLEL_STRATEGIES + REPLICA_STRATEGIES
                       if s not in CLUSTER_STRATEGIES)


def polar_1056(tmp_path: Path, strategies: tuple) -> Path:
    text = (REPO / "topologies" / "polar_1056.yaml").read_text()
    text = text.replace("count: 200", "count: 3")  # placement reads the first snapshot; fewer to build
    text = re.sub(r"strategies: \[.*\]", f"strategies: [{', '.join(strategies)}]", text)
    path = tmp_path / "polar.yaml"
    path.write_text(text)
    return path


def test_two_model_replicas_of_every_new_strategy_use_disjoint_satellites(tmp_path):
    # Replica 1 is placed with replica 0's satellites (gateways, experts, shards and expert copies)
    # marked unavailable: no satellite serves both, and each replica still has every component.
    scenario = load_scenario(polar_1056(tmp_path, NEW_STRATEGIES))
    prep = prepare(scenario)
    for name in NEW_STRATEGIES:
        inputs = prep.inputs
        if name in REPLICA_STRATEGIES:
            # Two expert copies fill a 33-satellite subnet beyond what a second model replica needs:
            # one error line naming the keys; with one copy per expert both replicas fit.
            with pytest.raises(PlacementError, match=r"placement\.max_replicas"):
                place_replicas(name, inputs, scenario.seed, 2)
            inputs = dataclasses.replace(inputs, max_replicas=1)
        first, second = place_replicas(name, inputs, scenario.seed, 2)
        a, b = placement_satellites(first), placement_satellites(second)
        assert not np.intersect1d(a, b).size, name
        assert second.experts.shape == first.experts.shape and (second.experts >= 0).all(), name
        if name in TENSOR_PARALLEL_STRATEGIES:
            # the shards count: both replicas split attention, and replica 1's helpers avoid replica 0's
            assert first.shards is not None and (first.shards >= 0).any(), name
            assert second.shards is not None and (second.shards >= 0).any(), name
        if name in REPLICA_STRATEGIES:
            assert (first.replicas >= 0).any() and (second.replicas >= 0).any(), name


BASE = {"name": "s", "constellation": {"planes": 6, "sats_per_plane": 8}, "strategies": ["space-xnet-tp"]}


def test_tensor_parallel_with_batching_is_accepted():
    # issue 21: the shards batch their decode steps like gateways (RunStep's SHARD steps), so the
    # refusal is gone (tests/test_kv_roofline.py times such batches to the nanosecond)
    sc = scenario_from_dict({**BASE, "serving": {"max_batch": 4}})
    assert sc.serving.max_batch == 4 and sc.placement.max_shards > 1
    scenario_from_dict({**BASE, "serving": {"max_batch": 4}, "placement": {"max_shards": 1}})


@pytest.mark.parametrize("serving, compute", [
    ({"prefill": True, "prompt": {"tokens": 8}}, {}),
    ({}, {"memory_bytes_per_s": 1e11}),
    ({}, {"hardware": "jetson-agx-orin"}),
])
def test_tensor_parallel_takes_prefill_and_the_roofline(serving, compute):
    # issue 21: the shards follow the roofline (ShardWork), so these are no longer refused
    scenario_from_dict({**BASE, "serving": serving, "compute": compute})


def tiny_serving(tmp_path: Path, strategies: str, serving: str, extra: str = "") -> Path:
    text = (REPO / "topologies" / "tiny.yaml").read_text().replace("name: tiny", "name: tiny-serving")
    text = text.replace("strategies: [space-xnet]", f"strategies: [{strategies}]")
    path = tmp_path / "serving.yaml"
    path.write_text(text + extra + "serving:\n" + serving)
    return path


def _requests(out: Path) -> dict:
    from harness.formats.requests import read_requests_csv

    return read_requests_csv(out / "requests.csv")


def test_serving_two_replicas_tensor_parallel_and_expert_copies_with_prefill_complete(tmp_path):
    # Two model replicas of a tensor-parallel strategy (decode only, as the schema allows) and of
    # the expert-replica strategy with prefill and batching (prefill messages go through
    # SendToExpert, so a prompt's tokens reach the copy in force): every request completes.
    from harness.cli import main

    tp = tiny_serving(tmp_path, "space-xnet-tp, compact-packed-tp",
                      "  arrivals: poisson\n  rate_per_s: 4\n  replicas: 2\n")
    assert main(["run", str(tp), "--out", str(tmp_path / "tp")]) == 0
    req = _requests(tmp_path / "tp")
    for name in ("space-xnet-tp", "compact-packed-tp"):
        assert (req[name]["status"] == "completed").all() and sorted(set(req[name]["replica"].tolist())) == [0, 1]
    copies = tiny_serving(tmp_path, "space-xnet-replicas",
                          "  arrivals: poisson\n  rate_per_s: 4\n  prefill: true\n"
                          "  prompt: {kind: uniform, low: 2, high: 20}\n  replicas: 2\n  max_batch: 2\n")
    assert main(["run", str(copies), "--out", str(tmp_path / "copies")]) == 0
    req = _requests(tmp_path / "copies")["space-xnet-replicas"]
    assert (req["status"] == "completed").all() and sorted(set(req["replica"].tolist())) == [0, 1]
    assert (req["prompt_tokens"] >= 2).all()
