"""Every token's journey as ISL hops: for each layer, the routes gateway -> each expert -> the next
layer's gateway (layer 0's after the last), at the snapshot in force when the layer began (the
token's start for layer 0, the previous layer's combine after it).

The routes are the harness's own (:func:`harness.network.routes.shortest_delay_routes`, the native
engine that :class:`~harness.network.routes.PathQuery` follows exactly: same arcs, same tie order),
over the links of ``network.npz`` at that snapshot; each distinct (snapshot, source, destination)
is routed once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.formats.network import Network
from harness.network.routes import path_nodes, shortest_delay_routes
from harness.network.topology import Topology


@dataclass(frozen=True)
class Journeys:
    """The hop paths of every token of one results directory."""

    paths: list[list[int]]          # distinct satellite sequences [src, ..., dst]; [] when no route
    legs: dict[str, np.ndarray]     # strategy -> [tokens, L, 2, k] path ids: [..., 0, j] gateway -> expert j,
    #                                 [..., 1, j] expert j -> next gateway; token rows in (request, token) order
    snapshots: dict[str, np.ndarray]  # strategy -> [tokens, L] the snapshot of each layer


def layer_snapshots(network: Network, tokens: dict, combine: np.ndarray) -> np.ndarray:
    """``[T, L]`` snapshot at each layer's start (``combine``: ``[T, L]`` t_combine_ns in token order)."""
    order = np.lexsort((tokens["token"], tokens["request"]))
    starts = np.hstack([tokens["t_start_ns"][order][:, None], combine[:, :-1]])
    starts = np.where(starts >= 0, starts, tokens["t_start_ns"][order][:, None])  # a stalled layer: the token's start
    return network.snapshot_at(np.maximum(starts, 0))


def token_journeys(network: Network, tokens: dict[str, dict], layers: dict[str, dict]) -> Journeys:
    """The hop paths of every token of every strategy (``tokens``, ``layers``: read_results' columns)."""
    legs, snaps, triples = {}, {}, []
    for name, cols in layers.items():
        num_layers = int(cols["layer"].max()) + 1
        order = np.lexsort((cols["layer"], cols["token"], cols["request"]))
        k = sum(1 for c in cols if c.startswith("expert_sat_"))
        gateway = cols["gateway_sat"][order].reshape(-1, num_layers)             # [T, L]
        experts = np.stack([cols[f"expert_sat_{j}"][order] for j in range(k)], -1).reshape(-1, num_layers, k)
        combine = cols["t_combine_ns"][order].reshape(-1, num_layers)
        snap = layer_snapshots(network, tokens[name], combine)                      # [T, L]
        following = np.roll(gateway, -1, axis=1)                                    # layer 0's after the last
        s = np.broadcast_to(snap[:, :, None], experts.shape)
        out = np.stack([s, np.broadcast_to(gateway[:, :, None], experts.shape), experts], -1)
        back = np.stack([s, experts, np.broadcast_to(following[:, :, None], experts.shape)], -1)
        triples.append(np.stack([out, back], axis=2).reshape(-1, 3))  # [T, L, 2, k] legs of 3 ints
        snaps[name] = snap
        legs[name] = (gateway.shape[0], num_layers, k)
    every = np.concatenate(triples) if triples else np.zeros((0, 3), np.int64)
    unique, inverse = np.unique(every, axis=0, return_inverse=True)
    paths = _route(network, unique)
    offset = 0
    for name, shape in list(legs.items()):
        size = int(np.prod(shape)) * 2
        legs[name] = inverse.ravel()[offset:offset + size].reshape(shape[0], shape[1], 2, shape[2]).astype(np.int32)
        offset += size
    return Journeys(paths=paths, legs=legs, snapshots=snaps)


def _route(network: Network, triples: np.ndarray) -> list[list[int]]:
    """The satellites of the route of each distinct (snapshot, source, destination)."""
    paths: list[list[int]] = [[] for _ in range(len(triples))]
    for snapshot in np.unique(triples[:, 0]) if len(triples) else []:
        rows = np.flatnonzero(triples[:, 0] == snapshot)
        delay = network.delay_ns[snapshot:snapshot + 1]
        if network.metric == "hops":  # fewest hops first, then delay: PathQuery's order for metric 'hops'
            longest = int(network.delay_ns.max(initial=0)) * max(1, network.num_satellites - 1)
            delay = delay + (1 << max(1, longest.bit_length()))
        one = Topology(num_nodes=network.num_satellites, edges=network.edges,
                       times_s=network.times_s[snapshot:snapshot + 1], length_m=delay.astype(np.float64),
                       delay_ns=delay, up=network.up[snapshot:snapshot + 1])
        destinations = np.unique(triples[rows, 2]).astype(np.int32)
        routes = shortest_delay_routes(one, destinations)
        for i in rows:
            paths[i] = path_nodes(routes, 0, int(triples[i, 1]), int(triples[i, 2]))
    return paths
