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

The gateways "at the subnet centre" (space-xnet and rand-intra-cg) minimise, together, each one's
mean shortest-path delay to its subnet's members plus the delay of the ring of gateways, averaged
over :data:`CENTRE_SNAPSHOTS` evenly spaced snapshots (:func:`subnet_centres`). In the paper's
polar Walker star a subnet is an arc across the planes and this is the arc's middle; in a Walker
delta a subnet wraps around the Earth, every member is about as central as any other, and picking
each subnet's most central member alone would put consecutive gateways on opposite sides of the
planet.

space-xnet's expert placement minimises, with the gateways fixed, the objective

    J = sum_l sum_e p[l, e] * c[l, x[l, e]],
    c[l, n] = mean over snapshots s of ( d_s(gateway_l, n) + d_s(n, gateway_{(l+1) mod L}) )

where p[l, e] is expert e's activation probability, x[l, e] its satellite (one of subnet l's
members other than its gateway, one expert per satellite) and d_s the shortest propagation delay
at snapshot s (:func:`expected_path_delays_ns` gives c, :func:`expected_latency_objective` J). The
layers are independent, and inside a layer sorting p descending against c ascending is optimal
(the rearrangement inequality), so the sort is the exact minimum over all assignments.

A placement can be written to and read from a plan file (:meth:`Placement.to_json`,
:func:`save_plan`, :func:`load_plan`; the format and its strict reader are in
harness/formats/plan.py): a JSON object

    {"format": "space-xnet-placement", "format_version": 1, "strategy": "...",
     "gateways": [L satellite ids], "experts": [[E satellite ids] x L], "subnets": [N] or null}

Speed: the shortest paths are the whole cost (one Dijkstra tree per source and snapshot). The
centres take one call per sampled snapshot with every ring member as a source, and the expected
delays one call per snapshot with the L gateways as sources (one tile of 32 trees, so one native
thread per call) spread over one worker thread per core: the native call is marked to release the
GIL (``__release_gil__`` on its cppyy proxy, process-wide; it touches no Python object). 1584
satellites, 32 layers and 200 snapshots place in about 1.5 s on two cores, against 2.3 s for one
call per layer and snapshot (bench/placement_bench.py); what is left is ~12,700 Dijkstra trees at
~0.24 ms each per core. The results are those of the straightforward per-layer loop, bit for bit.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import routes as routes_mod
from .errors import PlacementError
from .formats.plan import PLAN_FORMAT, PLAN_FORMAT_VERSION, parse_plan, plan_json  # noqa: F401 (re-exported)
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
    #: How the ring subnets are cut (placement.subnets): "arcs" of argument of latitude, or whole
    #: orbital "planes" in ring order (needs plane_of).
    subnets: str = "arcs"
    plane_of: np.ndarray | None = None  # [N] orbital plane of each satellite
    #: Results that several strategies share (the subnet centres), computed once per run.
    shared: dict = field(default_factory=dict, compare=False, repr=False)

    def centres(self, subnets: np.ndarray) -> np.ndarray:
        """:func:`subnet_centres` of ``subnets``, computed once for every strategy that asks."""
        key = ("centres", subnets.tobytes())
        if key not in self.shared:
            self.shared[key] = subnet_centres(self.topology, subnets, self.layers)
        return self.shared[key].copy()


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

    def validate_for(self, num_satellites: int, layers: int, experts: int, *, source: str | None = None) -> None:
        """Raise PlacementError (one line: the problem and the fix) unless this placement fits a model
        of ``layers`` x ``experts`` on a constellation of ``num_satellites``: the right shapes, every
        satellite in range, one component per satellite, subnets [N] (or empty) in -1..L-1."""
        who = source or f"placement '{self.strategy}'"
        gateways, placed = np.asarray(self.gateways), np.asarray(self.experts)
        if gateways.ndim != 1 or placed.ndim != 2 or placed.shape[0] != gateways.shape[0]:
            raise PlacementError(f"{who}: gateways must be a list of L satellites and experts a list of L lists "
                                 f"of E satellites (got shapes {list(gateways.shape)} and {list(placed.shape)}); "
                                 f"fix the plan")
        if placed.shape != (layers, experts):
            raise PlacementError(f"{who} is for a model of {placed.shape[0]} layers x {placed.shape[1]} experts "
                                 f"but this model has {layers} x {experts}; use a plan made for this model or "
                                 f"set model.layers / model.experts to match")
        names = [f"the gateway of layer {layer}" for layer in range(layers)] + [
            f"expert {e} of layer {layer}" for layer in range(layers) for e in range(experts)]
        used = self.components
        outside = np.flatnonzero((used < 0) | (used >= num_satellites))
        if outside.size:
            i = int(outside[0])
            raise PlacementError(f"{who} puts {names[i]} on satellite {int(used[i])}, outside 0..{num_satellites - 1} "
                                 f"of this constellation; use a plan made for this constellation")
        order = np.argsort(used, kind="stable")
        same = np.flatnonzero(used[order][1:] == used[order][:-1])
        if same.size:
            first, second = int(order[same[0]]), int(order[same[0] + 1])
            raise PlacementError(f"{who} puts {names[first]} and {names[second]} both on satellite "
                                 f"{int(used[first])}; each satellite hosts at most one component: move one")
        subnets = np.asarray(self.subnets)
        if subnets.ndim != 1 or subnets.size not in (0, num_satellites):
            raise PlacementError(f"{who} has {subnets.size} subnet entries but the constellation has "
                                 f"{num_satellites} satellites; give one layer index (or -1) per satellite, or null")
        if subnets.size and (subnets.min() < -1 or subnets.max() >= layers):
            raise PlacementError(f"{who} has a subnet index outside -1..{layers - 1}; a satellite's subnet is the "
                                 f"layer whose ring subnet holds it, or -1")

    def to_json(self) -> str:
        """The plan file's text (format: harness/formats/plan.py); :meth:`from_json` reads it back."""
        return plan_json(self.strategy, self.gateways, self.experts, self.subnets)

    @classmethod
    def from_json(cls, text: str, source: str = "plan", num_satellites: int | None = None) -> "Placement":
        """Parse a plan file's text; PlacementError (naming ``source``) if it is malformed.

        A null ``subnets`` becomes -1 for each of ``num_satellites`` satellites when that is given,
        else an empty array. Shapes and ranges are checked by :meth:`validate_for`.
        """
        return cls(**parse_plan(text, source, num_satellites))


def save_plan(placement: Placement, path: str | Path) -> None:
    """Write ``placement`` as a plan file (atomically: a reader never sees half a file)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(placement.to_json())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise PlacementError(f"cannot write plan '{path}': {exc.strerror or exc}; check the folder exists and is "
                             f"writable") from None


def load_plan(path: str | Path, *, num_satellites: int, layers: int, experts: int) -> Placement:
    """Read and check a plan file for a model of ``layers`` x ``experts`` on ``num_satellites``."""
    from .formats.files import read_text_file

    path = Path(path)
    if not path.is_file():
        raise PlacementError(f"plan file '{path}' not found; check the path (make one with: python -m harness place SCENARIO --strategy NAME --out PLAN.json)")
    text = read_text_file(path, "plan file", PlacementError)
    placement = Placement.from_json(text, source=f"plan file '{path}'", num_satellites=num_satellites)
    placement.validate_for(num_satellites, layers, experts, source=f"plan file '{path}'")
    return placement


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


def plane_subnets(plane_of: np.ndarray, layers: int) -> np.ndarray:
    """Cut the constellation into ``layers`` groups of whole orbital planes, in ring order.

    Planes are taken in order of their index (of RAAN) and cut into ``layers`` contiguous groups
    whose plane counts differ by at most one, so subnet l+1 is the next group of planes and the last
    closes the ring to the first. Each subnet is then a closed ring of satellites (or several), where
    "centre" means nothing geometric: the gateways are chosen, like the arcs' centres, as the
    members of least mean delay to their subnet chained into the shortest ring of gateways
    (:func:`subnet_centres`). Returns [N] int32 subnet index.
    """
    planes = int(plane_of.max()) + 1
    if planes < layers:
        raise PlacementError(f"placement.subnets 'planes' needs a plane per layer, but the constellation has "
                             f"{planes} planes for {layers} layers; use 'arcs' or more planes")
    return ((plane_of.astype(np.int64) * layers) // planes).astype(np.int32)


def _subnets(inp: PlacementInput) -> np.ndarray:
    """The ring subnets of ``inp`` (placement.subnets), checked to hold a layer each."""
    if inp.subnets == "planes":
        subnets = plane_subnets(inp.plane_of, inp.layers)
    else:
        subnets = ring_subnets(inp.arg_latitude_rad, inp.layers)
    _check_subnet_sizes(subnets, inp.layers, inp.experts)
    return subnets


def _members(subnets: np.ndarray, layer: int) -> np.ndarray:
    return np.flatnonzero(subnets == layer).astype(np.int32)


def _check_subnet_sizes(subnets: np.ndarray, layers: int, experts: int) -> None:
    smallest = int(np.bincount(subnets, minlength=layers).min())
    if smallest < experts + 1:
        raise PlacementError(f"ring subnets hold only {smallest} satellites but a layer needs {experts + 1} "
                             f"(1 gateway + {experts} experts); use a larger constellation or fewer layers")


#: Shortest-path engine of the placement's path delays (harness.routes.ENGINES).
ENGINE = routes_mod.DEFAULT_ENGINE
#: Sources per call when the centres are computed: whole layers are grouped up to at least this
#: many, so that the native engine's tiles of 32 trees keep every core busy while the [sources, N]
#: delay tables stay small.
_CENTRE_SOURCES_PER_CALL = 256


def _member_delays(topology: Topology, members: list[np.ndarray]) -> list[np.ndarray]:
    """Per layer, [m, N] mean (over the sampled snapshots) shortest delay from each member to
    every satellite."""
    count = topology.num_snapshots
    picks = np.unique(np.linspace(0, count - 1, min(CENTRE_SNAPSHOTS, count)).round().astype(int))
    layers = len(members)
    # Layers grouped so that one call computes the trees of many members (all of a group's layers).
    groups, group = [], []
    for layer in range(layers):
        group.append(layer)
        if sum(len(members[g]) for g in group) >= _CENTRE_SOURCES_PER_CALL or layer == layers - 1:
            groups.append(group)
            group = []
    totals = [np.zeros((len(m), topology.num_nodes)) for m in members]
    for s in picks:
        for group in groups:
            sources = np.concatenate([members[layer] for layer in group])
            delays = path_delays_ns(topology, sources, snapshot=int(s), engine=ENGINE)
            row = 0
            for layer in group:
                totals[layer] += delays[row:row + len(members[layer])]
                row += len(members[layer])
    return [t / len(picks) for t in totals]


def subnet_centres(topology: Topology, subnets: np.ndarray, layers: int) -> np.ndarray:
    """[L] the gateway of each subnet: central in its subnet, and chained around the ring.

    The gateways minimise sum_l [ m_l(gateway_l) + d(gateway_l, gateway_{l+1 mod L}) ], where
    m_l(n) is n's mean path delay to the members of subnet l (how central n is) and d the path
    delay between consecutive gateways, both averaged over :data:`CENTRE_SNAPSHOTS` snapshots; a
    dynamic programme over the layers for every choice of gateway_0 finds the exact minimum (ties:
    the lowest satellite ids). In the paper's Walker star a ring subnet is an arc across the planes
    and every plane's ring is as long as any other, so the gateways are the arcs' middles; in a
    Walker delta a subnet wraps around the Earth, every member is about as central as any other, and
    the ring term keeps consecutive gateways next to each other instead of on opposite sides of the
    planet.
    """
    members = [_members(subnets, layer) for layer in range(layers)]
    delays = _member_delays(topology, members)
    score = [delays[layer][:, members[layer]].mean(axis=1) for layer in range(layers)]
    if layers == 1:
        return members[0][[int(np.argmin(score[0]))]].astype(np.int32)

    def step(layer: int) -> np.ndarray:
        """[previous member, member]: ring delay from layer-1's member plus layer's centrality."""
        prev = (layer - 1) % layers
        return delays[prev][:, members[layer]] + score[layer][None, :]

    first = len(members[0])
    cost = np.where(np.eye(first, dtype=bool), score[0][:, None], np.inf)  # [start, current]
    back = []
    for layer in range(1, layers):
        total = cost[:, :, None] + step(layer)[None, :, :]  # [start, previous, current]
        back.append(np.argmin(total, axis=1))
        cost = np.min(total, axis=1)
    closing = cost + delays[layers - 1][:, members[0]].T  # [start, last]: the last gateway back to the start
    start = int(np.argmin(closing.min(axis=1)))
    chain = [int(np.argmin(closing[start]))]
    for layer in range(layers - 1, 1, -1):
        chain.append(int(back[layer - 1][start, chain[-1]]))
    chain.append(start)
    chain.reverse()  # member rows for layers 0 .. L-1
    return np.array([members[layer][row] for layer, row in enumerate(chain)], dtype=np.int32)


def _worker_threads() -> int:
    """Threads for independent per-snapshot shortest-path calls: the cores, when the engine can run
    without Python's GIL (the native one, told so here), else 1."""
    if ENGINE != "native":
        return 1
    from .ns3_runtime import load

    load().ComputeShortestPathTrees.__release_gil__ = True  # it touches no Python object
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def expected_path_delays_ns(topology: Topology, gateways: np.ndarray) -> np.ndarray:
    """[L, N] mean over snapshots of delay(gateway_l -> n) + delay(n -> gateway_{l+1})."""
    gateways = np.asarray(gateways)
    count = topology.num_snapshots

    def partial_sum(snapshots: np.ndarray) -> np.ndarray:
        total = np.zeros((len(gateways), topology.num_nodes))
        for s in snapshots:
            total += path_delays_ns(topology, gateways, snapshot=int(s), engine=ENGINE)
        return total

    # The delays are whole ns far below 2**53, so these float sums are exact whatever their order:
    # the mean is the one of the [S, L, N] array, bit for bit, without holding that array.
    chunks = [c for c in np.array_split(np.arange(count), min(count, _worker_threads())) if c.size]
    if len(chunks) == 1:
        total = partial_sum(chunks[0])
    else:
        with ThreadPoolExecutor(len(chunks)) as pool:
            total = sum(pool.map(partial_sum, chunks))
    mean = total / count
    return mean + np.roll(mean, -1, axis=0)


def expected_latency_objective(inp: PlacementInput, placement: Placement) -> float:
    """space-xnet's objective J (module docstring) of ``placement``, in ns: the activation-weighted
    expected path latency gateway_l -> expert -> gateway_{l+1}, summed over layers and experts."""
    cost = expected_path_delays_ns(inp.topology, placement.gateways)
    layers = np.arange(inp.layers)[:, None]
    return float((inp.probabilities * cost[layers, placement.experts]).sum())


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
    subnets = _subnets(inp)
    gateways = inp.centres(subnets)
    experts = _experts_by_latency(inp, subnets, gateways)
    return Placement("space-xnet", gateways, experts, subnets)


def rand_place(inp: PlacementInput, rng: np.random.Generator) -> Placement:
    n = inp.topology.num_nodes
    chosen = rng.choice(n, size=inp.layers * (1 + inp.experts), replace=False).astype(np.int32)
    gateways = chosen[: inp.layers]
    experts = chosen[inp.layers:].reshape(inp.layers, inp.experts)
    return Placement("rand-place", gateways, experts, np.full(n, -1, dtype=np.int32))


def rand_intra(inp: PlacementInput, rng: np.random.Generator) -> Placement:
    subnets = _subnets(inp)
    gateways = np.array([rng.choice(_members(subnets, layer)) for layer in range(inp.layers)], dtype=np.int32)
    return Placement("rand-intra", gateways, _random_experts(inp, subnets, gateways, rng), subnets)


def rand_intra_cg(inp: PlacementInput, rng: np.random.Generator) -> Placement:
    subnets = _subnets(inp)
    gateways = inp.centres(subnets)
    return Placement("rand-intra-cg", gateways, _random_experts(inp, subnets, gateways, rng), subnets)


#: The implementation of every strategy name of the registry (harness/strategies.py, which the schema
#: checks names against without importing this module); tests/test_placement.py checks they agree.
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
