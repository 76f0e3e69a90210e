"""Placement strategies: which satellite hosts each layer's gateway and each expert.

A strategy is a function ``(PlacementInput, numpy Generator) -> Placement`` registered by name in
:data:`STRATEGIES`; the scenario's ``strategies`` list picks from these names, and a new strategy
joins by adding one entry. One model component per satellite, always.

The paper's strategies (arXiv 2605.00515):

- ``space-xnet``: ring layer placement (the constellation is cut along the orbiting direction into
  L arcs of the argument of latitude, subnet l hosting layer l, so consecutive layers are
  neighbours and the ring closes), the gateway at the subnet centre, and experts sorted by
  activation probability (descending) onto the subnet's satellites sorted by expected path latency
  gateway_l -> satellite -> gateway_{l+1} (ascending);
- ``rand-place``: gateways and experts on distinct random satellites anywhere;
- ``rand-intra``: ring layer placement, gateway and experts at random inside their subnet;
- ``rand-intra-cg``: as rand-intra, but the gateway at the subnet centre.

The subnet centre is the member with the smallest mean shortest-path delay to the other members,
averaged over :data:`CENTRE_SNAPSHOTS` evenly spaced snapshots; ties go to the lower satellite id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .errors import PlacementError
from .routes import path_delays_ns
from .topology import Topology

#: Snapshots sampled (evenly spaced) to find each subnet's centre: all-pairs delays are costly.
CENTRE_SNAPSHOTS = 4


@dataclass(frozen=True)
class PlacementInput:
    """What a strategy may look at."""

    topology: Topology
    arg_latitude_rad: np.ndarray  # [N] argument of latitude of each satellite at the epoch
    probabilities: np.ndarray     # [L, E] activation probability of each expert
    layers: int
    experts: int


@dataclass(frozen=True)
class Placement:
    """Where every model component lives."""

    strategy: str
    gateways: np.ndarray  # [L] int32 satellite of each layer's gateway
    experts: np.ndarray   # [L, E] int32 satellite of each expert
    subnets: np.ndarray   # [N] int32 layer whose subnet the satellite belongs to; -1 outside any ring subnet

    @property
    def components(self) -> np.ndarray:
        """Every satellite that hosts a component: gateways first, then experts layer by layer."""
        return np.concatenate([self.gateways, self.experts.ravel()]).astype(np.int32)

    def message_pairs(self) -> np.ndarray:
        """[2 L E, 2] every (source, destination) satellite pair that can exchange a message:
        gateway_l -> expert (l, e) and expert (l, e) -> gateway_{l+1 mod L}."""
        layers, experts = self.experts.shape
        gateway = np.repeat(self.gateways, experts)
        next_gateway = np.repeat(np.roll(self.gateways, -1), experts)
        expert = self.experts.ravel()
        return np.concatenate([np.column_stack([gateway, expert]), np.column_stack([expert, next_gateway])])

    def validate(self, num_satellites: int) -> None:
        """Raise PlacementError unless every component sits on its own existing satellite."""
        used = self.components
        if used.min() < 0 or used.max() >= num_satellites:
            raise PlacementError(f"placement '{self.strategy}' names a satellite outside 0..{num_satellites - 1}")
        if len(np.unique(used)) != len(used):
            raise PlacementError(f"placement '{self.strategy}' puts two components on one satellite; "
                                 f"each satellite hosts at most one")


Strategy = Callable[[PlacementInput, np.random.Generator], Placement]


def ring_subnets(arg_latitude_rad: np.ndarray, layers: int) -> np.ndarray:
    """Cut the constellation along the orbiting direction into ``layers`` arcs of equal size.

    Satellites are ordered by argument of latitude (ties by id) and cut into ``layers`` contiguous
    groups whose sizes differ by at most one, so subnet l+1 follows subnet l along the orbit and the
    last closes the ring to the first. Returns [N] int32 subnet index.
    """
    n = len(arg_latitude_rad)
    order = np.lexsort((np.arange(n), arg_latitude_rad))
    subnet = np.empty(n, dtype=np.int32)
    subnet[order] = (np.arange(n) * layers) // n
    return subnet


def _members(subnets: np.ndarray, layer: int) -> np.ndarray:
    return np.flatnonzero(subnets == layer).astype(np.int32)


def _check_subnet_sizes(subnets: np.ndarray, layers: int, experts: int) -> None:
    smallest = int(np.bincount(subnets, minlength=layers).min())
    if smallest < experts + 1:
        raise PlacementError(f"ring subnets hold only {smallest} satellites but a layer needs {experts + 1} "
                             f"(1 gateway + {experts} experts); use a larger constellation or fewer layers")


def subnet_centres(topology: Topology, subnets: np.ndarray, layers: int) -> np.ndarray:
    """[L] satellite of each subnet with the smallest mean path delay to the other members."""
    count = topology.num_snapshots
    picks = np.unique(np.linspace(0, count - 1, min(CENTRE_SNAPSHOTS, count)).round().astype(int))
    centres = np.empty(layers, dtype=np.int32)
    for layer in range(layers):
        members = _members(subnets, layer)
        total = np.zeros(len(members))
        for s in picks:
            delays = path_delays_ns(topology, members, snapshot=int(s))[:, members]
            total += delays.mean(axis=1)
        centres[layer] = members[int(np.argmin(total))]  # argmin keeps the first (lowest id) on ties
    return centres


def expected_path_delays_ns(topology: Topology, gateways: np.ndarray) -> np.ndarray:
    """[L, N] mean over snapshots of delay(gateway_l -> n) + delay(n -> gateway_{l+1})."""
    delays = path_delays_ns(topology, gateways)  # [S, L, N]
    mean = delays.mean(axis=0)
    return mean + np.roll(mean, -1, axis=0)


def _experts_by_latency(inp: PlacementInput, subnets: np.ndarray, gateways: np.ndarray) -> np.ndarray:
    cost = expected_path_delays_ns(inp.topology, gateways)
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
    subnets = ring_subnets(inp.arg_latitude_rad, inp.layers)
    _check_subnet_sizes(subnets, inp.layers, inp.experts)
    gateways = subnet_centres(inp.topology, subnets, inp.layers)
    experts = _experts_by_latency(inp, subnets, gateways)
    return Placement("space-xnet", gateways, experts, subnets)


def rand_place(inp: PlacementInput, rng: np.random.Generator) -> Placement:
    n = inp.topology.num_nodes
    chosen = rng.choice(n, size=inp.layers * (1 + inp.experts), replace=False).astype(np.int32)
    gateways = chosen[: inp.layers]
    experts = chosen[inp.layers:].reshape(inp.layers, inp.experts)
    return Placement("rand-place", gateways, experts, np.full(n, -1, dtype=np.int32))


def rand_intra(inp: PlacementInput, rng: np.random.Generator) -> Placement:
    subnets = ring_subnets(inp.arg_latitude_rad, inp.layers)
    _check_subnet_sizes(subnets, inp.layers, inp.experts)
    gateways = np.array([rng.choice(_members(subnets, layer)) for layer in range(inp.layers)], dtype=np.int32)
    return Placement("rand-intra", gateways, _random_experts(inp, subnets, gateways, rng), subnets)


def rand_intra_cg(inp: PlacementInput, rng: np.random.Generator) -> Placement:
    subnets = ring_subnets(inp.arg_latitude_rad, inp.layers)
    _check_subnet_sizes(subnets, inp.layers, inp.experts)
    gateways = subnet_centres(inp.topology, subnets, inp.layers)
    return Placement("rand-intra-cg", gateways, _random_experts(inp, subnets, gateways, rng), subnets)


#: The scenario's allowed strategy names and their implementations.
STRATEGIES: dict[str, Strategy] = {
    "space-xnet": space_xnet,
    "rand-place": rand_place,
    "rand-intra": rand_intra,
    "rand-intra-cg": rand_intra_cg,
}


def place(name: str, inp: PlacementInput, rng: np.random.Generator) -> Placement:
    """Run strategy ``name`` and check the result."""
    try:
        strategy = STRATEGIES[name]
    except KeyError:
        raise PlacementError(f"unknown strategy '{name}'; choose from: {', '.join(STRATEGIES)}") from None
    placement = strategy(inp, rng)
    placement.validate(inp.topology.num_nodes)
    return placement
