"""Shortest-propagation-delay routing over an ISL :class:`~harness.topology.Topology`.

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

from .topology import Topology

__all__ = ["Routes", "path_delays_ns", "path_nodes", "shortest_delay_routes"]

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
    if delay_ns.size and delay_ns.min() < 0:
        raise ValueError(f"negative link delay at snapshot {snapshot}")
    weight = (delay_ns.astype(np.float64) * float(2**hop_bits)) + 1.0
    n = topology.num_nodes
    # One direction per link suffices: dijkstra(directed=False) symmetrises.
    return scipy.sparse.csr_matrix((weight, (edges[:, 0], edges[:, 1])), shape=(n, n))


def _packed_dijkstra(topology: Topology, snapshot: int, sources: np.ndarray):
    """Dijkstra from ``sources`` at one snapshot.

    Returns ``(delay_ns, hops, predecessors)``, each ``[len(sources), N]``:
    int64 delays and hop counts (-1 where unreachable) and csgraph's
    predecessor array (``-9999`` at the roots and unreachable nodes).
    """
    hop_bits = _hop_bits(topology.num_nodes)
    graph = _packed_graph(topology, snapshot, hop_bits)
    dist, predecessors = dijkstra(graph, directed=False, indices=sources,
                                  return_predecessors=True)
    reachable = np.isfinite(dist)
    if reachable.any() and dist[reachable].max() >= _FLOAT64_EXACT_INT_LIMIT:
        raise OverflowError(
            f"packed path weights at snapshot {snapshot} exceed 2**53; "
            "path delays are too long to be routed exactly")
    packed = np.where(reachable, dist, 0.0).astype(np.int64)
    delay_ns = np.where(reachable, packed >> hop_bits, -1)
    hops = np.where(reachable, packed & ((1 << hop_bits) - 1), -1)
    return delay_ns, hops, predecessors


def shortest_delay_routes(topology: Topology, destinations: np.ndarray) -> Routes:
    """Shortest-propagation-delay next hops toward ``destinations``.

    Only links that are ``up`` at a snapshot are used at that snapshot.
    Ties in delay are broken toward fewer hops; remaining ties arbitrarily
    (but consistently: ``delay_ns`` and ``hops`` describe the path that
    ``next_hop`` follows).

    Args:
        topology: links, delays and availability over the snapshots.
        destinations: ``[D]`` node ids to compute routes toward.

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

    columns = np.arange(num_dest)
    for snapshot in range(num_snapshots):
        tree_delay_ns, tree_hops, predecessors = _packed_dijkstra(
            topology, snapshot, destinations)
        if tree_hops.max() > np.iinfo(np.int16).max:
            raise OverflowError(f"a route at snapshot {snapshot} exceeds 32767 hops")
        # The graph is undirected, so a node's parent in the tree rooted at a
        # destination is its first hop toward that destination.
        predecessors = np.where(predecessors == _CSGRAPH_NO_PREDECESSOR, -1, predecessors)
        predecessors[columns, destinations] = destinations
        next_hop[snapshot] = predecessors.T
        delay_ns[snapshot] = tree_delay_ns.T
        hops[snapshot] = tree_hops.T
    logger.debug("routed %d nodes toward %d destinations over %d snapshots",
                 num_nodes, num_dest, num_snapshots)
    return Routes(destinations=destinations, next_hop=next_hop, delay_ns=delay_ns, hops=hops)


def path_delays_ns(topology: Topology, sources: np.ndarray,
                   snapshot: int | None = None) -> np.ndarray:
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
            delay_ns, _, _ = _packed_dijkstra(topology, s, sources)
            out[i] = np.where(delay_ns >= 0, delay_ns, np.inf)
    return out[0] if snapshot is not None else out


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
