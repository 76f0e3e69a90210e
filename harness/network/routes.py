"""Shortest-propagation-delay routing over an ISL :class:`~harness.network.topology.Topology`.

Two forms of the same routes:

- :class:`PathQuery` (what a run uses): the per-snapshot link graph is handed to C++ once per
  run, shared by every strategy; the packet simulation's routing and the analytic model ask it for
  the paths they actually take, and it grows one shortest-path tree per (snapshot, destination)
  only as far as those paths need (``lazy-shortest-paths.cc``). Nothing of size snapshots x nodes x
  destinations is ever built: route state grows with the traffic.
- :class:`Routes` from :func:`shortest_delay_routes`: dense ``[S, N, D]`` tables, computed by the
  native C++ engine or by ``scipy.sparse.csgraph.dijkstra`` (the reference). The tests check that
  the three agree on every delay and hop count, and that the lazy trees follow exactly the native
  engine's next hops.

For every snapshot, the links that are up form an undirected graph weighted
by their integer propagation delay in nanoseconds.  Routing tables are
computed with one multi-source Dijkstra call per snapshot (rooted at the
destinations), which yields, for each destination, the shortest-path tree
toward it: a node's parent in that tree is its next hop.

Among equal-delay paths, the one with the fewest hops is chosen.  This is
done by packing ``(delay, hops)`` into a single exactly representable
float64 edge weight ``delay_ns * 2**k + 1``, with ``2**k`` larger than any
hop count; Dijkstra then minimises delay first and hops second, returns the
exact integer delay and hop count of the chosen path, and never sees a
zero-weight edge (sparse-graph libraries may treat a stored zero as "no
edge", and two satellites can coincide, e.g. where polar planes cross).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse
from scipy.sparse.csgraph import dijkstra

from harness.network.spill import WINDOW, is_spilled, release, row_read, spill
from harness.network.topology import Topology

__all__ = ["METRICS", "PathQuery", "Routes", "path_delays_ns", "path_delays_to_ns", "path_nodes", "shortest_delay_routes", "unreachable_pairs"]

logger = logging.getLogger(__name__)

# Integers up to 2**53 are exact in float64; beyond it, packed path weights
# could round and both the decoded delay and the tie-breaking would be wrong.
_FLOAT64_EXACT_INT_LIMIT = 2**53
# Marker used by scipy.sparse.csgraph for "no predecessor".
_CSGRAPH_NO_PREDECESSOR = -9999


@dataclass(frozen=True)
class Routes:
    """Shortest-delay routes toward a set of destination nodes, per snapshot.

    Attributes:
        destinations: ``[D]`` int32 destination node ids; column ``d`` of the
            tables below refers to ``destinations[d]``.
        next_hop: ``[S, N, D]`` int32, the next node on the path from node
            ``n`` toward ``destinations[d]``; a destination is its own next
            hop; -1 where the destination is unreachable.
        delay_ns: ``[S, N, D]`` int64, one-way propagation delay of that path
            in nanoseconds (sum of link ``delay_ns``); -1 where unreachable.
        hops: ``[S, N, D]`` int16, number of links on that path; -1 where
            unreachable.
    """

    destinations: np.ndarray
    next_hop: np.ndarray
    delay_ns: np.ndarray
    hops: np.ndarray

    def lookup(self, snapshots: np.ndarray, sources: np.ndarray, destinations: np.ndarray,
               root_at_source: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(delay_ns, hops) int64 of each (snapshot, source, destination), -1 where unreachable
        (every destination must be one of :attr:`destinations`; ``root_at_source`` is ignored)."""
        column_of = np.full(self.next_hop.shape[1], -1, dtype=np.int64)
        column_of[self.destinations] = np.arange(len(self.destinations))
        col = column_of[np.asarray(destinations)]
        if (col < 0).any():
            raise ValueError("a destination is not one of the routed destinations")
        routed = self.next_hop[snapshots, sources, col] >= 0
        delay = np.where(routed, self.delay_ns[snapshots, sources, col], -1).astype(np.int64)
        hops = np.where(routed, self.hops[snapshots, sources, col], -1).astype(np.int64)
        return delay, hops

    def paths(self, snapshots: np.ndarray, sources: np.ndarray, destinations: np.ndarray,
              width: int) -> np.ndarray:
        """[..., width] int64 nodes of each path (source, ..., destination, then -1), following
        :attr:`next_hop`; all -1 where unreachable (see :meth:`PathQuery.paths`)."""
        column_of = np.full(self.next_hop.shape[1], -1, dtype=np.int64)
        column_of[self.destinations] = np.arange(len(self.destinations))
        snapshots, sources, destinations = np.broadcast_arrays(snapshots, sources, destinations)
        col = column_of[destinations]
        if (col < 0).any():
            raise ValueError("a destination is not one of the routed destinations")
        out = np.full(sources.shape + (width,), -1, dtype=np.int64)
        node = sources.astype(np.int64)
        lost = np.zeros(sources.shape, dtype=bool)
        for k in range(width):
            out[..., k] = node
            step = (node >= 0) & (node != destinations)
            node = np.where(step, self.next_hop[snapshots, np.maximum(node, 0), col], -1)
            lost |= step & (node < 0)
        out[lost] = -1
        return out


#: Routing metrics (scenario key ``routing.metric``): what a path minimises first, then second.
METRICS = {"delay": "shortest propagation delay, ties toward fewer hops",
           "hops": "fewest hops, ties toward shorter delay"}


class PathQuery:
    """Shortest paths of a topology, computed in C++ only where they are asked for.

    ``metric`` (:data:`METRICS`): "delay" (the default) or "hops".

    One per run: the link graph of every snapshot (links up, their delays) is copied into C++
    once, and every strategy's packet simulation and analytic model share it. Routes are the
    native engine's exactly (same arcs, same tie order: fewest hops among equal delays, then CSR
    order), so a run's traces do not depend on which form computed them.

    Example::

        paths = PathQuery(topology)
        delay_ns, hops = paths.lookup(np.array([0]), np.array([3]), np.array([7]))
    """

    def __init__(self, topology: Topology, metric: str = "delay"):
        from harness.cxx.runtime import load

        if metric not in METRICS:
            raise ValueError(f"unknown routing metric {metric!r}; choose from {', '.join(METRICS)}")
        if topology.num_nodes - 1 > np.iinfo(np.int16).max:
            raise OverflowError("more than 32768 nodes: hop counts would not fit in int16")
        if topology.delay_ns.size and topology.delay_ns.min() < 0:
            raise ValueError("negative link delay")
        self.num_nodes = topology.num_nodes
        self.num_snapshots = topology.num_snapshots
        self.metric = metric
        # A packed path length: the leading term (delay or hops) above low_bits of the other one.
        longest = int(topology.delay_ns.max(initial=0)) * max(1, topology.num_nodes - 1)
        hop_bits = _hop_bits(topology.num_nodes)
        if metric == "delay":
            self.low_bits, highest = hop_bits, longest << hop_bits
        else:
            self.low_bits = max(1, longest.bit_length())
            highest = topology.num_nodes << self.low_bits
        if highest >= 2**62 or self.low_bits > 48:
            raise OverflowError("link delays too long for exact packed path lengths")
        ns3 = load()
        edges = np.ascontiguousarray(topology.edges, dtype=np.int32)
        delays = np.ascontiguousarray(topology.delay_ns, dtype=np.int64)
        up = topology.up
        # bool is a byte of 0 or 1: the states are read as uint8 where they are, not copied
        up = up.view(np.uint8) if up.dtype == np.bool_ and up.flags.c_contiguous else \
            np.ascontiguousarray(up, dtype=np.uint8)
        if edges.size == 0:  # cppyy cannot pass an empty array as a pointer; nothing reads it
            edges, delays, up = (np.zeros(2, np.int32), np.zeros(topology.num_snapshots, np.int64),
                                 np.zeros(topology.num_snapshots, np.uint8))
        # The C++ graph reads the delays and link states where they are (a long run's [S, L]
        # arrays are held once): this query keeps them alive.
        self._delays, self._up = delays, up
        self.native = ns3.ShortestPathQuery(topology.num_nodes, edges, topology.num_links,
                                            topology.num_snapshots, delays, up, self.low_bits,
                                            metric == "hops", True, True)
        if is_spilled(delays) and is_spilled(up):
            # Spilled to files (harness/network/spill.py): the graph holds a window of snapshots.
            self.native.SetReleaseWindow(WINDOW)
        self._labels: np.ndarray | None = None

    def lookup(self, snapshots: np.ndarray, sources: np.ndarray, destinations: np.ndarray,
               root_at_source: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(delay_ns, hops) int64 of the path of each (snapshot, source, destination), -1 where
        the destination is unreachable; arrays broadcast together.

        The answers do not depend on ``root_at_source``, only the work does: one tree per
        (snapshot, destination) by default, per (snapshot, source) with it (cheaper when many
        queries share a source, as a gateway's k dispatches do)."""
        snapshots, sources, destinations = np.broadcast_arrays(snapshots, sources, destinations)
        shape = snapshots.shape
        steps = np.ascontiguousarray(snapshots.ravel(), dtype=np.int32)
        src = np.ascontiguousarray(sources.ravel(), dtype=np.int32)
        dst = np.ascontiguousarray(destinations.ravel(), dtype=np.int32)
        for name, ids, limit in (("snapshot", steps, self.num_snapshots), ("source", src, self.num_nodes),
                                 ("destination", dst, self.num_nodes)):
            if ids.size and (ids.min() < 0 or ids.max() >= limit):
                raise ValueError(f"{name} out of range [0, {limit - 1}]")
        delay = np.empty(steps.size, dtype=np.int64)
        hops = np.empty(steps.size, dtype=np.int32)
        if steps.size:
            self.native.Query(steps.size, steps, src, dst, delay, hops, bool(root_at_source))
        return delay.reshape(shape), hops.astype(np.int64).reshape(shape)

    def paths(self, snapshots: np.ndarray, sources: np.ndarray, destinations: np.ndarray,
              width: int) -> np.ndarray:
        """[..., width] int64 nodes of the path of each (snapshot, source, destination), hop by
        hop as the packet simulation's routing forwards: the source, each node's next hop toward
        the destination, ..., the destination, then -1; all -1 where unreachable (a path of more
        than ``width - 1`` links is cut there). Arrays broadcast together."""
        snapshots, sources, destinations = np.broadcast_arrays(snapshots, sources, destinations)
        shape = snapshots.shape
        steps = np.ascontiguousarray(snapshots.ravel(), dtype=np.int32)
        src = np.ascontiguousarray(sources.ravel(), dtype=np.int32)
        dst = np.ascontiguousarray(destinations.ravel(), dtype=np.int32)
        nodes = np.empty((steps.size, int(width)), dtype=np.int32)
        if steps.size and width > 0:
            self.native.Paths(steps.size, steps, src, dst, int(width), nodes)
        return nodes.astype(np.int64).reshape(shape + (int(width),))

    def component_labels(self) -> np.ndarray:
        """[S, N] int32: each node's connected component per snapshot (its smallest node id)."""
        if self._labels is None:
            labels = np.empty((self.num_snapshots, self.num_nodes), dtype=np.int32)
            self.native.ComponentLabels(labels)
            # kept for the next caller: in a file, as the state it was computed from (spill.py)
            self._labels = spill(labels) if is_spilled(self._delays) else labels
        return self._labels

    @property
    def trees_grown(self) -> int:
        """Shortest-path trees started by :meth:`lookup` so far."""
        return int(self.native.GetTreesGrown())

    @property
    def nodes_settled(self) -> int:
        """Nodes those trees settled: the query side's routing work."""
        return int(self.native.GetNodesSettled())


def _node_ids(name: str, values: object, num_nodes: int) -> np.ndarray:
    """Validate a 1-D array of node ids and return it as int32."""
    ids = np.asarray(values)
    if ids.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of node ids, got shape {ids.shape}")
    if ids.size == 0:
        return ids.astype(np.int32)
    if not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"{name} must be integer node ids, got dtype {ids.dtype}")
    if ids.min() < 0 or ids.max() >= num_nodes:
        raise ValueError(
            f"{name} must be node ids in [0, {num_nodes - 1}], "
            f"got values in [{ids.min()}, {ids.max()}]")
    return ids.astype(np.int32)


def _hop_bits(num_nodes: int) -> int:
    """Bits reserved for the hop count in a packed weight (a simple path
    has at most ``num_nodes - 1`` hops)."""
    return max(1, (num_nodes - 1).bit_length())


def _packed_graph(topology: Topology, snapshot: int, hop_bits: int) -> scipy.sparse.csr_matrix:
    """Undirected graph of the links up at ``snapshot``, weighted
    ``delay_ns * 2**hop_bits + 1`` (see the module docstring)."""
    up = topology.up[snapshot]
    edges = topology.edges[up]
    delay_ns = topology.delay_ns[snapshot, up]
    row_read(topology.delay_ns, topology.up)  # copied out: a spilled run's pages go a window at a time
    if delay_ns.size and delay_ns.min() < 0:
        raise ValueError(f"negative link delay at snapshot {snapshot}")
    weight = (delay_ns.astype(np.float64) * float(2**hop_bits)) + 1.0
    n = topology.num_nodes
    # One direction per link suffices: dijkstra(directed=False) symmetrises.
    return scipy.sparse.csr_matrix((weight, (edges[:, 0], edges[:, 1])), shape=(n, n))


def _csr_arcs(topology: Topology, snapshot: int, hop_bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both directions of every link up at ``snapshot`` as CSR arrays (indptr, indices, int64
    packed weights), sorted by (node, neighbour) so the native engine's tie order is fixed.

    The arcs of every link are sorted once per topology (:func:`_sorted_arcs`) and each snapshot
    keeps those up: a stable sort of the links up gives that order too (the same arrays as
    sorting them afresh, which :func:`_csr_arcs_sorted_afresh` does, the reference)."""
    up = topology.up[snapshot]
    delay_ns = topology.delay_ns[snapshot]
    row_read(topology.delay_ns, topology.up)  # copied out: a spilled run's pages go a window at a time
    order, tails, heads = _sorted_arcs(topology.edges)
    links = topology.num_links
    kept = order[np.concatenate([up, up])[order]]  # the arcs up, in (tail, head) order
    link = np.where(kept < links, kept, kept - links)
    delay_up = delay_ns[link]
    if delay_up.size and delay_up.min() < 0:
        raise ValueError(f"negative link delay at snapshot {snapshot}")
    indptr = np.zeros(topology.num_nodes + 1, dtype=np.int32)
    np.cumsum(np.bincount(tails[kept], minlength=topology.num_nodes), out=indptr[1:])
    return (indptr, np.ascontiguousarray(heads[kept], dtype=np.int32),
            np.ascontiguousarray(delay_up.astype(np.int64) * (1 << hop_bits) + 1))


def _csr_arcs_sorted_afresh(topology: Topology, snapshot: int,
                            hop_bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_csr_arcs` by sorting the arcs up at ``snapshot`` (the reference of the tests)."""
    up = topology.up[snapshot]
    edges = topology.edges[up]
    delay_ns = topology.delay_ns[snapshot, up]
    if delay_ns.size and delay_ns.min() < 0:
        raise ValueError(f"negative link delay at snapshot {snapshot}")
    weight = delay_ns.astype(np.int64) * (1 << hop_bits) + 1
    tails = np.concatenate([edges[:, 0], edges[:, 1]])
    heads = np.concatenate([edges[:, 1], edges[:, 0]])
    weights = np.concatenate([weight, weight])
    order = np.lexsort((heads, tails))
    indptr = np.zeros(topology.num_nodes + 1, dtype=np.int32)
    np.cumsum(np.bincount(tails, minlength=topology.num_nodes), out=indptr[1:])
    return indptr, np.ascontiguousarray(heads[order], dtype=np.int32), np.ascontiguousarray(weights[order])


#: :func:`_sorted_arcs` of the last few edge arrays: (edges, order, tails, heads).
_SORTED_ARCS: list = []


def _sorted_arcs(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The arcs of links ``edges`` ``[L, 2]``: arc a < L runs edges[a, 0] -> edges[a, 1], arc L + a
    back. Returns their stable (tail, head) order and every arc's tail and head. Kept for the last
    few edge arrays, by value (a run's placements and routes ask per snapshot, with the same links)."""
    for held, order, tails, heads in _SORTED_ARCS:
        if held.shape == edges.shape and held.dtype == edges.dtype and np.array_equal(held, edges):
            return order, tails, heads
    tails = np.concatenate([edges[:, 0], edges[:, 1]])
    heads = np.concatenate([edges[:, 1], edges[:, 0]])
    order = np.lexsort((heads, tails))
    _SORTED_ARCS.insert(0, (edges.copy(), order, tails, heads))
    del _SORTED_ARCS[4:]
    return order, tails, heads


def _scipy_trees(topology: Topology, snapshot: int, roots: np.ndarray, hop_bits: int,
                 next_hop: np.ndarray, delay_ns: np.ndarray, hops: np.ndarray) -> None:
    """Reference engine: fill ``[N, K]`` next hops, delays and hop counts toward ``roots``."""
    graph = _packed_graph(topology, snapshot, hop_bits)
    dist, predecessors = dijkstra(graph, directed=False, indices=roots, return_predecessors=True)
    reachable = np.isfinite(dist)
    if reachable.any() and dist[reachable].max() >= _FLOAT64_EXACT_INT_LIMIT:
        raise OverflowError(
            f"packed path weights at snapshot {snapshot} exceed 2**53; "
            "path delays are too long to be routed exactly")
    packed = np.where(reachable, dist, 0).astype(np.int64)
    parents = np.where(predecessors == _CSGRAPH_NO_PREDECESSOR, -1, predecessors)
    parents[np.arange(len(roots)), roots] = roots
    next_hop[...] = parents.T
    delay_ns[...] = np.where(reachable, packed >> hop_bits, -1).T
    hops[...] = np.where(reachable, packed & ((1 << hop_bits) - 1), -1).T


def _native_trees(topology: Topology, snapshot: int, roots: np.ndarray, hop_bits: int,
                  next_hop: np.ndarray, delay_ns: np.ndarray, hops: np.ndarray) -> None:
    """The C++ engine (ns3_modules/space-xnet/model/shortest-path-trees.cc), same outputs,
    written in place and in parallel over destinations."""
    from harness.cxx.runtime import load

    ns3 = load()
    indptr, indices, weights = _csr_arcs(topology, snapshot, hop_bits)
    if indices.size == 0:  # cppyy cannot pass an empty array as a pointer; nothing reads it
        indices, weights = np.zeros(1, dtype=np.int32), np.zeros(1, dtype=np.int64)
    for out in (next_hop, delay_ns, hops):
        assert out.flags.c_contiguous  # written through a raw pointer
    ns3.ComputeShortestPathTrees(topology.num_nodes, indptr, indices, weights, hop_bits,
                                 np.ascontiguousarray(roots, dtype=np.int32), len(roots),
                                 next_hop, delay_ns, hops, 0)


#: Shortest-path engines by name: scipy's csgraph is the reference; the native C++ one is ~3x
#: faster per tree and uses every core. Both break equal delays toward fewer hops.
ENGINES = {"scipy": _scipy_trees, "native": _native_trees}
DEFAULT_ENGINE = "native"


def _trees(topology: Topology, snapshot: int, roots: np.ndarray, engine: str,
           out: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None):
    """``[N, K]`` next hops, delay_ns and hops of the shortest-path trees rooted at ``roots``,
    into ``out`` when given (C-contiguous int32, int64, int16 arrays)."""
    try:
        compute = ENGINES[engine]
    except KeyError:
        raise ValueError(f"unknown routing engine {engine!r}; choose from {sorted(ENGINES)}") from None
    if topology.num_nodes - 1 > np.iinfo(np.int16).max:
        raise OverflowError("more than 32768 nodes: hop counts would not fit in int16")
    if out is None:
        shape = (topology.num_nodes, len(roots))
        out = (np.empty(shape, np.int32), np.empty(shape, np.int64), np.empty(shape, np.int16))
    compute(topology, snapshot, roots, _hop_bits(topology.num_nodes), *out)
    return out


def shortest_delay_routes(topology: Topology, destinations: np.ndarray,
                          engine: str = DEFAULT_ENGINE) -> Routes:
    """Shortest-propagation-delay next hops toward ``destinations``.

    Only links that are ``up`` at a snapshot are used at that snapshot.
    Ties in delay are broken toward fewer hops; remaining ties arbitrarily
    (but consistently: ``delay_ns`` and ``hops`` describe the path that
    ``next_hop`` follows).

    Args:
        topology: links, delays and availability over the snapshots.
        destinations: ``[D]`` node ids to compute routes toward.
        engine: a name in :data:`ENGINES`: "native" (C++, default) or "scipy" (the reference).
            They agree on every delay and hop count; where two paths tie on both, each engine
            picks one deterministically, not necessarily the same one.

    Returns:
        :class:`Routes` with ``[S, N, D]`` tables.

    Raises:
        ValueError: if a destination is not a node of ``topology`` or a
            link delay is negative.
        OverflowError: if a path delay exceeds ``2**53 / 2**ceil(log2 N)`` ns
            (4.4e12 ns for N = 1584), beyond which the packed weights stop
            being exact, or a path has more than 32767 hops.
    """
    destinations = _node_ids("destinations", destinations, topology.num_nodes)
    num_snapshots, num_nodes, num_dest = (
        topology.num_snapshots, topology.num_nodes, destinations.size)
    shape = (num_snapshots, num_nodes, num_dest)
    # Every element is written below; np.empty avoids touching these large
    # tables (about 1.3 GB for 200 x 1584 x 288) twice.
    next_hop = np.empty(shape, dtype=np.int32)
    delay_ns = np.empty(shape, dtype=np.int64)
    hops = np.empty(shape, dtype=np.int16)
    if num_dest == 0:
        return Routes(destinations, next_hop, delay_ns, hops)

    for snapshot in range(num_snapshots):
        # The graph is undirected, so a node's parent in the tree rooted at a destination is its
        # first hop toward that destination.
        _trees(topology, snapshot, destinations, engine, out=(next_hop[snapshot], delay_ns[snapshot], hops[snapshot]))
    logger.debug("routed %d nodes toward %d destinations over %d snapshots",
                 num_nodes, num_dest, num_snapshots)
    return Routes(destinations=destinations, next_hop=next_hop, delay_ns=delay_ns, hops=hops)


def path_delays_ns(topology: Topology, sources: np.ndarray,
                   snapshot: int | None = None, engine: str = DEFAULT_ENGINE) -> np.ndarray:
    """Shortest propagation delay, in ns, from each source to every node.

    Args:
        topology: links, delays and availability over the snapshots.
        sources: ``[K]`` source node ids.
        snapshot: if given, only this snapshot is evaluated.

    Returns:
        float64 ``[S, K, N]`` (or ``[K, N]`` when ``snapshot`` is given) with
        integral nanosecond delays and ``np.inf`` where a node is unreachable.

    Raises:
        ValueError: if a source is not a node of ``topology``.
        IndexError: if ``snapshot`` is out of range.
    """
    sources = _node_ids("sources", sources, topology.num_nodes)
    if snapshot is not None:
        if not -topology.num_snapshots <= snapshot < topology.num_snapshots:
            raise IndexError(
                f"snapshot {snapshot} out of range for {topology.num_snapshots} snapshots")
        snapshots = [snapshot]
    else:
        snapshots = range(topology.num_snapshots)

    out = np.full((len(snapshots), sources.size, topology.num_nodes), np.inf)
    if sources.size:
        for i, s in enumerate(snapshots):
            _, delay_ns, _ = _trees(topology, s, sources, engine)
            out[i] = np.where(delay_ns >= 0, delay_ns, np.inf).T
    return out[0] if snapshot is not None else out


def path_delays_to_ns(topology: Topology, sources: np.ndarray, targets: np.ndarray, snapshot: int,
                      engine: str = DEFAULT_ENGINE) -> np.ndarray:
    """Shortest propagation delay, in ns, from each source to each of a few targets at ``snapshot``.

    The same delays as ``path_delays_ns(topology, sources, snapshot)[:, targets]`` (the trees'
    arcs and tie order are the same), but the native engine grows each source's tree only until
    its targets are settled and writes no ``[N, K]`` table: what the placements' subnet centres
    need at 16,000 satellites.

    Returns:
        float64 ``[K, T]`` with integral nanosecond delays and ``np.inf`` where unreachable.
    """
    sources = _node_ids("sources", sources, topology.num_nodes)
    targets = _node_ids("targets", targets, topology.num_nodes)
    if not -topology.num_snapshots <= snapshot < topology.num_snapshots:
        raise IndexError(f"snapshot {snapshot} out of range for {topology.num_snapshots} snapshots")
    if engine != "native":
        return path_delays_ns(topology, sources, snapshot=snapshot, engine=engine)[:, targets]
    out = np.full((sources.size, targets.size), np.inf)
    if sources.size == 0 or targets.size == 0:
        return out
    if topology.num_nodes - 1 > np.iinfo(np.int16).max:
        raise OverflowError("more than 32768 nodes: hop counts would not fit in int16")
    from harness.cxx.runtime import load

    hop_bits = _hop_bits(topology.num_nodes)
    indptr, indices, weights = _csr_arcs(topology, snapshot, hop_bits)
    if indices.size == 0:  # cppyy cannot pass an empty array as a pointer; nothing reads it
        indices, weights = np.zeros(1, dtype=np.int32), np.zeros(1, dtype=np.int64)
    delay_ns = np.empty((sources.size, targets.size), dtype=np.int64)
    load().ComputePathDelaysToTargets(topology.num_nodes, indptr, indices, weights, hop_bits,
                                      np.ascontiguousarray(sources), sources.size,
                                      np.ascontiguousarray(targets), targets.size, delay_ns, 0)
    reached = delay_ns >= 0
    out[reached] = delay_ns[reached]
    return out


def path_nodes(routes: Routes, snapshot: int, src: int, dst: int) -> list[int]:
    """Nodes on the routed path from ``src`` to ``dst`` at ``snapshot``.

    Follows ``routes.next_hop``.  Returns ``[src, ..., dst]`` (``[dst]`` when
    ``src == dst``), or ``[]`` if ``dst`` is unreachable from ``src``.

    Raises:
        ValueError: if ``dst`` is not one of ``routes.destinations``.
        RuntimeError: if the next hops do not lead to ``dst`` (a corrupt table).
    """
    columns = np.flatnonzero(routes.destinations == dst)
    if columns.size == 0:
        raise ValueError(f"node {dst} is not one of the routed destinations")
    table = routes.next_hop[snapshot, :, columns[0]]
    node = int(src)
    if table[node] < 0:
        return []
    path = [node]
    # A loop-free path visits each node at most once.
    for _ in range(table.shape[0]):
        if node == dst:
            return path
        node = int(table[node])
        if node < 0:
            break
        path.append(node)
    raise RuntimeError(
        f"next_hop at snapshot {snapshot} does not lead from {src} to {dst}: {path[:20]}")


def unreachable_pairs(routes: Routes | PathQuery, pairs: np.ndarray) -> np.ndarray:
    """Which (source, destination) pairs have no route, when.

    Args:
        routes: a :class:`PathQuery` (connected components per snapshot), or dense routes whose
            destinations include every pair's destination.
        pairs: ``[K, 2]`` (source node, destination node).

    Returns:
        ``[M, 3]`` int64 rows ``(snapshot, source, destination)`` for every snapshot in which the
        destination cannot be reached from the source, sorted by snapshot then pair order.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if isinstance(routes, PathQuery):
        labels = routes.component_labels()
        cut = labels[:, pairs[:, 0]] != labels[:, pairs[:, 1]]  # [S, K]
        release(labels)  # read whole just now (a spilled one: spill.py)
        snapshot, k = np.nonzero(cut)
        return np.column_stack([snapshot, pairs[k, 0], pairs[k, 1]]).astype(np.int64)
    column_of = np.full(routes.next_hop.shape[1], -1, dtype=np.int64)
    column_of[routes.destinations] = np.arange(len(routes.destinations))
    columns = column_of[pairs[:, 1]]
    if (columns < 0).any():
        raise ValueError("a pair's destination is not one of the routed destinations")
    cut = routes.next_hop[:, pairs[:, 0], columns] < 0  # [S, K]
    snapshot, k = np.nonzero(cut)
    return np.column_stack([snapshot, pairs[k, 0], pairs[k, 1]]).astype(np.int64)
