"""The paper's four strategies (arXiv 2605.00515): space-xnet, rand-place, rand-intra and
rand-intra-cg (the package docstring says what each does). One model component per satellite."""

from __future__ import annotations

import numpy as np

from harness.errors import PlacementError
from harness.placement.subnets import _members, _subnets, centres, free_satellites, shared_expected_path_delays_ns
from harness.placement.types import Placement, PlacementInput


def _experts_by_latency(inp: PlacementInput, subnets: np.ndarray, gateways: np.ndarray) -> np.ndarray:
    cost = shared_expected_path_delays_ns(inp, gateways)
    experts = np.empty((inp.layers, inp.experts), dtype=np.int32)
    for layer in range(inp.layers):
        candidates = np.setdiff1d(_members(subnets, layer), gateways[layer])
        by_latency = candidates[np.lexsort((candidates, cost[layer, candidates]))]
        by_popularity = np.lexsort((np.arange(inp.experts), -inp.probabilities[layer]))
        experts[layer, by_popularity] = by_latency[: inp.experts]
    return experts


def _random_experts(inp: PlacementInput, subnets: np.ndarray, gateways: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
    experts = np.empty((inp.layers, inp.experts), dtype=np.int32)
    for layer in range(inp.layers):
        candidates = np.setdiff1d(_members(subnets, layer), gateways[layer])
        experts[layer] = rng.choice(candidates, size=inp.experts, replace=False)
    return experts


def space_xnet(inp: PlacementInput, rng: np.random.Generator) -> Placement:
    subnets = _subnets(inp)
    gateways = centres(inp, subnets)
    experts = _experts_by_latency(inp, subnets, gateways)
    return Placement("space-xnet", gateways, experts, subnets)


def rand_place(inp: PlacementInput, rng: np.random.Generator) -> Placement:
    n = inp.topology.num_nodes
    free = free_satellites(inp)  # 0..n-1 unless some are unavailable: the same draws then
    needed = inp.layers * (1 + inp.experts)
    if len(free) < needed:
        raise PlacementError(f"rand-place needs {needed} free satellites but only {len(free)} of {n} are available; "
                             f"use fewer model replicas or a larger constellation")
    chosen = free[rng.choice(len(free), size=needed, replace=False)].astype(np.int32)
    gateways = chosen[: inp.layers]
    experts = chosen[inp.layers:].reshape(inp.layers, inp.experts)
    return Placement("rand-place", gateways, experts, np.full(n, -1, dtype=np.int32))


def rand_intra(inp: PlacementInput, rng: np.random.Generator) -> Placement:
    subnets = _subnets(inp)
    gateways = np.array([rng.choice(_members(subnets, layer)) for layer in range(inp.layers)], dtype=np.int32)
    return Placement("rand-intra", gateways, _random_experts(inp, subnets, gateways, rng), subnets)


def rand_intra_cg(inp: PlacementInput, rng: np.random.Generator) -> Placement:
    subnets = _subnets(inp)
    gateways = centres(inp, subnets)
    return Placement("rand-intra-cg", gateways, _random_experts(inp, subnets, gateways, rng), subnets)
