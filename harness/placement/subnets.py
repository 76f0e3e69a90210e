"""The subnets shared by the ring strategies: the ring cut (arcs or planes), each subnet's centre
(the gateways), and the expected path delays gateway_l -> satellite -> gateway_{l+1} that the
sorted expert placement ranks satellites by. See the package docstring for the physics and the
speed notes."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from harness.network import routes as routes_mod
from harness.errors import PlacementError
from harness.network.routes import path_delays_ns, path_delays_to_ns
from harness.network.topology import Topology
from harness.placement.types import Placement, PlacementInput


#: Snapshots sampled (evenly spaced) to find each subnet's centre: all-pairs delays are costly.
CENTRE_SNAPSHOTS = 4


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
    """The ring subnets of ``inp`` (placement.subnets), checked to hold a layer each.

    Satellites marked in ``inp.unavailable`` (e.g. held by another model replica) are cut out of
    the ring like every other satellite, so the replicas share one cut, but then belong to no
    subnet (-1): no strategy will put anything on them.
    """
    if inp.subnets == "planes":
        subnets = plane_subnets(inp.plane_of, inp.layers)
    else:
        subnets = ring_subnets(inp.arg_latitude_rad, inp.layers)
    if inp.unavailable is not None:
        subnets = np.where(inp.unavailable, -1, subnets).astype(np.int32)
    _check_subnet_sizes(subnets, inp.layers, inp.experts, masked=inp.unavailable is not None)
    return subnets


def _members(subnets: np.ndarray, layer: int) -> np.ndarray:
    return np.flatnonzero(subnets == layer).astype(np.int32)


def _check_subnet_sizes(subnets: np.ndarray, layers: int, experts: int, *, masked: bool = False) -> None:
    sizes = np.bincount(subnets[subnets >= 0], minlength=layers)
    smallest = int(sizes.min())
    if smallest < experts + 1:
        if masked:
            raise PlacementError(f"with the unavailable satellites left out, subnet {int(np.argmin(sizes))} has only "
                                 f"{smallest} free satellites but a layer needs {experts + 1} (1 gateway + {experts} "
                                 f"experts); use fewer model replicas (serving.replicas), fewer expert copies "
                                 f"(placement.max_replicas) or a larger constellation")
        raise PlacementError(f"ring subnets hold only {smallest} satellites but a layer needs {experts + 1} "
                             f"(1 gateway + {experts} experts); use a larger constellation or fewer layers")


def free_satellites(inp: PlacementInput) -> np.ndarray:
    """[n] int32 ids of the satellites a placement may use (all but ``inp.unavailable``)."""
    n = inp.topology.num_nodes
    if inp.unavailable is None:
        return np.arange(n, dtype=np.int32)
    return np.flatnonzero(~inp.unavailable).astype(np.int32)


#: Shortest-path engine of the placement's path delays (harness.network.routes.ENGINES).
ENGINE = routes_mod.DEFAULT_ENGINE


#: Values of the centres' dynamic programme's [start, previous, current] sums held at once (32 MB).
_PROGRAMME_BLOCK_VALUES = 1 << 22


def _member_delays(topology: Topology, members: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per layer l, the mean (over the sampled snapshots) shortest delay from each member of subnet l
    to every member of subnet l ([m_l, m_l]) and of subnet l + 1 mod L ([m_l, m_{l+1}]): all that
    :func:`subnet_centres` reads. Each member's tree grows only until those members are settled
    (:func:`~harness.network.routes.path_delays_to_ns`), and no [m, N] table is held: at 16,000
    satellites the whole [N, N] of them would be 2 GB."""
    count = topology.num_snapshots
    picks = np.unique(np.linspace(0, count - 1, min(CENTRE_SNAPSHOTS, count)).round().astype(int))
    layers = len(members)
    own = [np.zeros((len(members[layer]), len(members[layer]))) for layer in range(layers)]
    nxt = [np.zeros((len(members[layer]), len(members[(layer + 1) % layers]))) for layer in range(layers)]
    for s in picks:
        for layer in range(layers):
            m = len(members[layer])
            targets = np.concatenate([members[layer], members[(layer + 1) % layers]])
            delays = path_delays_to_ns(topology, members[layer], targets, snapshot=int(s), engine=ENGINE)
            # Whole ns, far below 2**53: these float sums are exact, as the full tables' were.
            own[layer] += delays[:, :m]
            nxt[layer] += delays[:, m:]
    return [t / len(picks) for t in own], [t / len(picks) for t in nxt]


def centres(inp: PlacementInput, subnets: np.ndarray) -> np.ndarray:
    """:func:`subnet_centres` of ``subnets`` over ``inp``'s topology, computed once per run for every
    strategy that asks (kept in ``inp.shared``)."""
    key = ("centres", subnets.tobytes())
    if key not in inp.shared:
        inp.shared[key] = subnet_centres(inp.topology, subnets, inp.layers,
                                         member_delays=_shared_member_delays(inp, subnets))
    return inp.shared[key].copy()


def _shared_member_delays(inp: PlacementInput, subnets: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """:func:`_member_delays` of ``subnets``' members over ``inp``'s topology, kept in ``inp.shared``;
    taken from those of a cut made before where ``subnets`` is that cut with satellites left out
    (-1: another model replica's, or dark ones): a path's delay does not depend on which other
    members are asked about, so those are the rows and columns of the members kept, the same
    values bit for bit (a model replica's centres then cost no shortest paths)."""
    members = [_members(subnets, layer) for layer in range(inp.layers)]
    for key, value in inp.shared.items():  # which holds other kinds of entries too
        if not (isinstance(key, tuple) and key[0] == "member-delays"):
            continue
        cut, own, nxt = value
        if len(own) != inp.layers or cut.shape != subnets.shape:
            continue
        if ((subnets == cut) | (subnets < 0)).all():
            rows = [np.searchsorted(_members(cut, layer), members[layer]) for layer in range(inp.layers)]
            after = [rows[(layer + 1) % inp.layers] for layer in range(inp.layers)]
            return ([own[layer][np.ix_(rows[layer], rows[layer])] for layer in range(inp.layers)],
                    [nxt[layer][np.ix_(rows[layer], after[layer])] for layer in range(inp.layers)])
    own, nxt = _member_delays(inp.topology, members)
    inp.shared[("member-delays", subnets.tobytes())] = (subnets.copy(), own, nxt)
    return own, nxt


def forget_member_delays(inp: PlacementInput) -> None:
    """Let go of the member delays :func:`centres` keeps in ``inp.shared`` (``[m, m]`` per layer
    and subnet cut: 128 MB at 16,000 satellites), once every placement of a run is made."""
    for key in [key for key in inp.shared if key[0] == "member-delays"]:
        del inp.shared[key]


def subnet_centres(topology: Topology, subnets: np.ndarray, layers: int,
                   member_delays: tuple[list[np.ndarray], list[np.ndarray]] | None = None) -> np.ndarray:
    """[L] the gateway of each subnet: central in its subnet, and chained around the ring.

    The gateways minimise sum_l [ m_l(gateway_l) + d(gateway_l, gateway_{l+1 mod L}) ], where
    m_l(n) is n's mean path delay to the members of subnet l (how central n is) and d the path
    delay between consecutive gateways, both averaged over :data:`CENTRE_SNAPSHOTS` snapshots; a
    dynamic programme over the layers for every choice of gateway_0 finds the exact minimum (ties:
    the lowest satellite ids). In the paper's Walker star a ring subnet is an arc across the planes
    and every plane's ring is as long as any other, so the gateways are the arcs' middles; in a
    Walker delta a subnet wraps around the Earth, every member is about as central as any other, and
    the ring term keeps consecutive gateways next to each other instead of on opposite sides of the
    planet. ``member_delays``: :func:`_member_delays` of the members, if already known.
    """
    members = [_members(subnets, layer) for layer in range(layers)]
    # nxt[l]: [members of l, members of l + 1]
    own, nxt = _member_delays(topology, members) if member_delays is None else member_delays
    score = [own[layer].mean(axis=1) for layer in range(layers)]
    del own
    if layers == 1:
        return members[0][[int(np.argmin(score[0]))]].astype(np.int32)

    def step(layer: int) -> np.ndarray:
        """[previous member, member]: ring delay from layer-1's member plus layer's centrality."""
        return nxt[layer - 1] + score[layer][None, :]

    first = len(members[0])
    cost = np.where(np.eye(first, dtype=bool), score[0][:, None], np.inf)  # [start, current]
    back = []
    for layer in range(1, layers):
        ring = step(layer)
        best = np.empty((first, ring.shape[1]))
        back.append(np.empty((first, ring.shape[1]), dtype=np.intp))
        # [start, previous, current] a block of starts at a time: at 16,000 satellites the whole
        # of it would be 276^3 x 8 B = 168 MB per temporary; every element is the same sum either way.
        block = max(1, _PROGRAMME_BLOCK_VALUES // max(1, ring.size))
        for lo in range(0, first, block):
            total = cost[lo:lo + block, :, None] + ring[None, :, :]
            back[-1][lo:lo + block] = np.argmin(total, axis=1)
            best[lo:lo + block] = np.min(total, axis=1)
        cost = best
    closing = cost + nxt[layers - 1].T  # [start, last]: the last gateway back to the start
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
    from harness.cxx.runtime import load

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


def shared_expected_path_delays_ns(inp: PlacementInput, gateways: np.ndarray) -> np.ndarray:
    """:func:`expected_path_delays_ns` of ``gateways``, computed once per run for every strategy
    that asks (space-xnet's experts, its replicas). Read-only: copy before changing it."""
    key = ("expected-path-delays", np.asarray(gateways, dtype=np.int64).tobytes())
    if key not in inp.shared:
        inp.shared[key] = expected_path_delays_ns(inp.topology, gateways)
        inp.shared[key].flags.writeable = False
    return inp.shared[key]


def expected_latency_objective(inp: PlacementInput, placement: Placement) -> float:
    """space-xnet's objective J (module docstring) of ``placement``, in ns: the activation-weighted
    expected path latency gateway_l -> expert -> gateway_{l+1}, summed over layers and experts."""
    cost = expected_path_delays_ns(inp.topology, placement.gateways)
    layers = np.arange(inp.layers)[:, None]
    return float((inp.probabilities * cost[layers, placement.experts]).sum())
