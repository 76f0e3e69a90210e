"""Compact subnets: every layer on a small cluster of satellites, the clusters chained into a short
closed ring (strategy ``compact``).

Why. The paper cuts the constellation into L arcs along the orbiting direction. In its polar
Walker star an arc runs across the planes and its members are a few short cross-plane hops apart;
in a Walker delta (53 deg, 72 x 22) the same cut makes each subnet a band of argument of latitude
that wraps around the whole Earth, so even the best expert of a subnet is many hops from its
gateway, and the message gateway_l -> expert -> gateway_{l+1} costs tens of ms of propagation per
layer (space-xnet on walker_1584: 74 % of 2.98 s per token is propagation).

What. The gateways sit on a closed loop of the +Grid (the perimeter of a rectangle of planes x
slots, one gateway every ``stride`` grid steps), so consecutive layers' gateways are ``stride``
hops apart and the ring closes after L of them. A token's layer l costs at least the path
gateway_l -> expert -> gateway_{l+1}; the experts are given, hottest first over all layers, the
free satellite of least expected cost c[l, n] = d(gateway_l, n) + d(n, gateway_{l+1}) (mean
shortest propagation delay over :data:`~harness.placement.subnets.CENTRE_SNAPSHOTS` snapshots),
which puts hot experts on or beside the gateway-to-gateway path. The "subnet" of layer l is then
its 1 + E satellites, a compact cluster instead of an arc.

Which loop. Every rectangle whose perimeter holds exactly L gateways at a stride of 1, 2 or 3 grid
steps, at a few positions along the orbit (the cross-plane links are shortest at high latitude in
a star), is scored by the paper's objective J (activation-weighted expected path latency; the
same J space-xnet minimises) after its experts are assigned; the lowest J wins (ties: the first
candidate in a fixed order). No random choice: the placement is a pure function of the topology
and the activation probabilities.

Works for any Walker shape whose satellite ids follow ``p * S + s`` (plane p, slot s: what
:func:`harness.constellation.walker.walker_constellation` makes); a loop never crosses a delta's seam
(the last plane to the first) or a star's counter-rotating seam.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from harness.errors import PlacementError
from harness.network.routes import path_delays_ns
from harness.placement.subnets import CENTRE_SNAPSHOTS, ENGINE, _worker_threads, free_satellites
from harness.placement.types import Placement, PlacementInput

#: Gateway spacing along the loop, in grid steps (ISL hops), tried by :func:`compact`.
STRIDES = (1, 2, 3)
#: Positions of the loop along the orbit (its lowest slot, as a fraction of a plane's slots).
SLOT_OFFSETS = 8


def grid_shape(inp: PlacementInput) -> tuple[int, int]:
    """(planes, slots per plane) of a Walker constellation with ids ``p * S + s``; PlacementError else."""
    n = inp.topology.num_nodes
    if inp.plane_of is None:
        raise PlacementError("compact placements need the orbital plane of each satellite (PlacementInput.plane_of)")
    planes = int(inp.plane_of.max()) + 1
    slots = n // planes
    if planes * slots != n or not np.array_equal(inp.plane_of, np.arange(n) // slots):
        raise PlacementError("compact placements need a Walker grid whose satellite ids are plane * slots + slot")
    return planes, slots


def mean_delays_ns(inp: PlacementInput, sources: np.ndarray) -> np.ndarray:
    """[K, N] mean over :data:`CENTRE_SNAPSHOTS` evenly spaced snapshots of the shortest delay, ns."""
    key = ("mean-delays", np.asarray(sources).tobytes())
    if key in inp.shared:
        return inp.shared[key]
    topology = inp.topology
    count = topology.num_snapshots
    picks = np.unique(np.linspace(0, count - 1, min(CENTRE_SNAPSHOTS, count)).round().astype(int))
    _worker_threads()  # marks the native engine GIL-free, so that the calls below may overlap

    def one(s: int) -> np.ndarray:
        return path_delays_ns(topology, sources, snapshot=int(s), engine=ENGINE)

    with ThreadPoolExecutor(min(len(picks), _worker_threads())) as pool:
        total = sum(pool.map(one, picks))
    inp.shared[key] = total / len(picks)
    return inp.shared[key]


def rectangle_loops(layers: int, planes: int, slots: int, star: bool) -> list[np.ndarray]:
    """Candidate gateway loops: [C] arrays of L (plane, slot) pairs, in ring order.

    A loop is the perimeter of a rectangle of W planes x H slots walked counter-clockwise (W + H
    grid steps each way), a gateway every ``stride`` steps; W + H = L * stride / 2. A loop stays
    inside planes 0 .. P-1 (it never crosses the seam); in a star it keeps off the first and last
    plane when it can, which meet the counter-rotating seam.
    """
    loops = []
    first_plane = 1 if star and planes > 4 else 0
    last_plane = planes - 2 if star and planes > 4 else planes - 1
    for stride in STRIDES:
        if (layers * stride) % 2:
            continue
        half = layers * stride // 2
        for width in range(1, half):
            height = half - width
            if first_plane + width > last_plane or height >= slots:
                continue
            for offset in range(SLOT_OFFSETS):
                s0 = (offset * slots) // SLOT_OFFSETS
                cells = ([(first_plane + i, s0) for i in range(width)]
                         + [(first_plane + width, s0 + j) for j in range(height)]
                         + [(first_plane + width - i, s0 + height) for i in range(width)]
                         + [(first_plane, s0 + height - j) for j in range(height)])
                loop = np.array(cells[::stride], dtype=np.int64)
                loop[:, 1] %= slots
                loops.append(loop)
    return loops


def greedy_experts(inp: PlacementInput, gateways: np.ndarray, delays: np.ndarray, free: np.ndarray) -> np.ndarray:
    """[L, E] experts: hottest first over all layers, each on the free satellite of least
    c[l, n] = d(gateway_l, n) + d(n, gateway_{l+1}) (``delays``: [L, N] rows of the gateways).

    Ties go to the lower satellite id, and among equally hot experts to the lower (layer, expert).
    """
    layers, experts = inp.layers, inp.experts
    cost = delays + np.roll(delays, -1, axis=0)  # [L, N]
    usable = np.zeros(inp.topology.num_nodes, dtype=bool)
    usable[free] = True
    usable[gateways] = False
    cost = np.where(usable[None, :], cost, np.inf)
    flat = inp.probabilities.ravel()
    order = np.lexsort((np.arange(flat.size), -flat))
    placed = np.empty((layers, experts), dtype=np.int32)
    for index in order:
        layer, expert = divmod(int(index), experts)
        sat = int(np.argmin(cost[layer]))
        if not np.isfinite(cost[layer, sat]):
            raise PlacementError(f"compact: no free satellite left for expert {expert} of layer {layer}; "
                                 f"use fewer model replicas or a larger constellation")
        placed[layer, expert] = sat
        cost[:, sat] = np.inf
    return placed


def compact(inp: PlacementInput, rng: np.random.Generator) -> Placement:
    """Strategy ``compact`` (module docstring): the loop of least objective J, hot experts beside
    the gateway-to-gateway paths."""
    return best_compact(inp).placement("compact")


class CompactLayout:
    """A compact placement's gateways, experts and the J that chose it."""

    def __init__(self, gateways: np.ndarray, experts: np.ndarray, objective_ns: float, num_nodes: int):
        self.gateways, self.experts, self.objective_ns = gateways, experts, objective_ns
        self.num_nodes = num_nodes

    def subnets(self) -> np.ndarray:
        subnets = np.full(self.num_nodes, -1, dtype=np.int32)
        layers = np.arange(len(self.gateways))
        subnets[self.gateways] = layers
        subnets[self.experts] = layers[:, None]
        return subnets

    def placement(self, name: str) -> Placement:
        return Placement(name, self.gateways.astype(np.int32), self.experts.astype(np.int32), self.subnets())


def best_compact(inp: PlacementInput) -> CompactLayout:
    """The compact layout of least J over every candidate loop, computed once per run."""
    key = ("compact", None if inp.unavailable is None else inp.unavailable.tobytes())
    if key in inp.shared:
        return inp.shared[key]
    planes, slots = grid_shape(inp)
    loops = rectangle_loops(inp.layers, planes, slots, star=_is_star(inp, planes, slots))
    free = free_satellites(inp)
    free_mask = np.zeros(inp.topology.num_nodes, dtype=bool)
    free_mask[free] = True
    candidates = []
    for loop in loops:
        gateways = (loop[:, 0] * slots + loop[:, 1]).astype(np.int32)
        if free_mask[gateways].all() and len(np.unique(gateways)) == len(gateways):
            candidates.append(gateways)
    if not candidates:
        raise PlacementError(f"compact: no loop of {inp.layers} gateways fits this {planes} x {slots} grid with "
                             f"the satellites available; use fewer layers, fewer model replicas or another strategy")
    sources = np.unique(np.concatenate(candidates))
    delays = mean_delays_ns(inp, sources)
    row_of = np.full(inp.topology.num_nodes, -1, dtype=np.int64)
    row_of[sources] = np.arange(len(sources))
    best = None
    for gateways in candidates:
        rows = delays[row_of[gateways]]
        try:
            experts = greedy_experts(inp, gateways, rows, free)
        except PlacementError:
            continue
        cost = rows + np.roll(rows, -1, axis=0)
        objective = float((inp.probabilities * cost[np.arange(inp.layers)[:, None], experts]).sum())
        if best is None or objective < best.objective_ns:
            best = CompactLayout(gateways, experts, objective, inp.topology.num_nodes)
    if best is None:
        raise PlacementError("compact: no loop leaves enough free satellites for the experts; use fewer model "
                             "replicas or a larger constellation")
    inp.shared[key] = best
    return best


def _is_star(inp: PlacementInput, planes: int, slots: int) -> bool:
    """A star has no seam links between the last plane and the first (its planes counter-rotate there)."""
    edges = inp.topology.edges
    a, b = edges[:, 0] // slots, edges[:, 1] // slots
    return not bool((((a == 0) & (b == planes - 1)) | ((a == planes - 1) & (b == 0))).any())
