"""Analytic token latency: what the packet engine records when nothing ever queues (by default),
or for one request at a time (with ``simulation.analytic_queueing``).

The packet engine (:mod:`harness.simulate.packet`, the ns-3 module ``space-xnet``) moves every packet.
This module computes, with a loop over tokens and layers (vectorised over requests and the k
experts of a layer, never per packet), the times ns-3 would record if no two messages ever shared a
link at the same time and no satellite ever had two compute jobs at once. It is the reference the
packet engine is checked against, and a fast estimate where queueing does not matter.

With ``simulation.analytic_queueing: true`` (:attr:`SimulationInput.analytic_queueing`; off by
default, so that earlier traces stay byte-identical) it computes the times ns-3 records when
requests do not overlap in time: messages sent together within a token (a gateway's k dispatches,
the outputs converging on the next gateway, a tensor-parallel layer's scatter, expert outputs to
every shard and gathers) queue for the links they share as in ns-3 (see "link queueing" below),
but different requests never meet. Clusters and tensor-parallel scatter need it for 0.1 %.

The model, for token t of request r (the same steps as ``moe-token-application.cc``):

- the token starts at the layer-0 gateway: token 0 at the request's start, token t+1 when token t
  ends;
- layer l: the gateway g_l computes (``gateway_ns[l]``), then sends the hidden state (a message of
  ``message_bytes``) to each of the token's k experts; expert j's satellite x_j computes
  (``expert_ns[l, e_j]``) once the whole message arrived and sends its output (same size) to the
  gateway of layer (l+1) mod L. The combine ``combine_ns[r, t, l]`` is when the last of the k
  outputs arrived. For l+1 < L that gateway then computes and dispatches layer l+1; after the last
  layer, gateway 0 runs the LM head (``lm_head_ns``) and the token ends.
- a message sent at time s uses the snapshot in force at s (the last ``topology.times_s`` <= s, in
  whole ns as ns-3 schedules them) for its whole flight: its path (``routes.lookup``, the path the
  packet engine's routing follows) has ``h`` links and ``P`` ns of propagation, and it arrives at

      s + sum_i tx(p_i) + (h - 1) * max_i tx(p_i) + P

  where p_i are the packets' wire sizes (:meth:`LinkSpec.packet_sizes_bytes`) and tx(b) is ns-3's
  per-packet transmission time: :func:`harness.network.links.tx_time_ns`, b*8/R rounded to whole ns exactly as ns-3's
  ``DataRate::CalculateBytesTxTime`` does (nearest ns, an exact half rounding down); with a relay
  forwarding delay D (``links.relay_delay_us``) every packet waits D at each of the h - 1 relays,
  which shifts the whole pipeline by (h - 1) D (counted in the serialisation part: both are
  store-and-forward time);
- link queueing (only with ``simulation.analytic_queueing``; off, every message is timed alone
  with the formula above): the messages of one phase (sent together: the k dispatches, the k outputs to
  their combiner, with tensor-parallel shards the H scatters, the k (1 + H) outputs of layer l-1
  to gateway l and its H helpers, the H gathers) are followed packet by packet when two of them
  share a link of their routed paths (the nodes ns-3's routing visits, ``routes.paths``): every
  directed link serves its packets first come first served, one at a time for tx(p) each; a
  message hands all its packets to its first link when sent, messages that leave one node at the
  same instant in the C++ send order (slot order; an expert's output to the combiner first, then
  to each shard in order; a message's packets whole before the next message's); a relay passes a
  packet on to its next link when it arrived plus D. A message arrives with its last packet. With
  no shared link this is the formula above; with one, the message's serialisation part also holds
  its waits behind the other messages' packets (transmission time spent on their behalf);
- the critical path of layer l is the expert whose output arrived last (the first in slot order on
  a tie). A token's latency splits exactly into compute (every gateway's compute, the critical
  experts' compute and the LM head), serialisation (the ``sum + (h-1) max`` terms of the critical
  messages) and propagation (their ``P``): ``compute + serialization + propagation == latency``.
- with ``combine="own-gateway"`` (``model.combine``) the k outputs go back to gateway g_l, and the
  combine is when the combined state, one message sent by g_l once the last output arrived, reached
  g_{l+1}; with ``dispatch="sequential"`` (``model.dispatch``) the hidden state goes from g_l to the
  token's first expert, from each expert to the next (slot order) after it computed, and from the
  last to the combining gateway: the legs and the experts' compute add up;
- with tensor-parallel gateways (``shards``: [L, H] helper satellites, -1 padded), layer l's
  attention at gateway g_l, started at time a, is split over g_l and its H_l helpers: g_l
  computes its shard (``shard_compute_ns``: ``gateway_ns[l] x ceil(heads / (1 + H_l)) / heads``,
  nearest ns) from a,
  and sends the hidden state (one message) to every helper at a; a helper computes its shard once
  the message arrived and sends its partial output (one message) back; the attention ends when
  the own shard and the last partial output are done (the own shard first on a tie, then the
  first helper), and the critical path runs through that part. For l >= 1 (with parallel dispatch
  and the combine at the next gateway) there is no scatter: every expert of layer l-1 sends its
  output to g_l and to each helper of layer l, a helper starts once its k outputs arrived, and the
  critical path runs through the output that arrived last at the critical shard;
- with expert replicas (``replicas`` [L, E, R], ``replica_choice`` [S, L, E]), a hidden state sent
  at time s to expert e goes to the copy ``replica_choice`` names for the snapshot in force at s
  (0: the expert itself), as the packet engine looks it up at the dispatch;
- requests are computed independently: the model has no contention between them;
- with ``no_route="wait"`` (``routing.no_route``), a message whose destination is unreachable at
  its send snapshot waits at its source for the first later snapshot that connects the two (from
  the routes' connected components), leaves at that snapshot's time and takes that snapshot's
  path, as ns-3's routing releases held packets at the step change; the wait is its own part of
  the latency (``wait_ns``);
- otherwise, a message whose destination is unreachable at its send snapshot (-1 in the tables) stalls its
  request as in ns-3: that token keeps its start (and the combines of the layers it completed) but
  its end is -1, and every later token of the request is -1 throughout;
- with ``stop_ns`` (the packet simulation's stop time), every time after it becomes -1, as the
  events would never have run.

Where ns-3 can differ (by default ns-3 is never earlier than this model except for the snapshot effects):

- without ``simulation.analytic_queueing`` (the default): queueing inside one layer of one token.
  The gateway's k dispatches leave one after the other
  from one socket: when two first hops are the same interface, the later message waits for the
  earlier one's packets. The k outputs converge on the next gateway: with destination-based routes
  their paths, once merged, stay merged, so a later output can wait behind earlier ones on the
  shared links. A message is held up by each other message of its phase about once (behind it,
  packets of equal size then pipeline without further waits; only paths that part and meet again
  could collide twice), so each phase adds up to (k-1) message serialisations S = sum_i tx(p_i)
  to the layer's combine: at most 2 (k-1) S per layer, and in practice (k-1) S (a dispatch delay
  staggers the outputs, which then no longer collide). On tiny.yaml (8192 B in 6 packets at
  10 Gbit/s: S = 6776 ns; k = 2; 4 layers) the bound is 4 S = 27.1 us per token, on tokens of
  0.5-0.7 s: ns-3 was later than the model by at most exactly 4 S (space-xnet places both experts
  of a layer behind the same first hop), 5.7e-5 of the latency (tests/test_analytic.py).
- with ``simulation.analytic_queueing``: queueing across phases or tokens: a phase's messages queue for each other only, so a message
  still in flight when the next phase starts (none, when the compute between phases outlasts a
  phase's messages, as in every shipped scenario) is not seen by it. Packets that reach a link at
  the very same ns are served in the order ns-3 runs their events (the one whose receive was
  scheduled first, i.e. that started on its previous link first; without this rule suncatcher_4x81
  was 15 ns off in one token), except that a packet sent there and one relayed there at the same
  ns are taken sent first (ns-3: the event scheduled first, which depends on the compute before
  the send): one packet time either way.
- a snapshot boundary crossed mid-message: ns-3 routes each packet at each node with the table in
  force when it gets there and uses each link's delay in force when the packet starts transmitting
  on it; this model keeps the send snapshot for the whole message. The difference is the change of
  the path's delay over one snapshot (tens of ns when the route stays; up to the delay difference
  between the old and the new route when it changes), either sign, and a message can be lost in
  ns-3 (``links.drop_in_flight``) or stall where the model does not, or the other way round.
- an event at exactly a snapshot time or at exactly ``stop_ns``: ns-3 orders simultaneous events
  by when they were scheduled; the model takes the new snapshot, and keeps a time == ``stop_ns``.
- several requests that overlap in time (request_spacing_s shorter than a request) share
  satellites and links in ns-3; the model ignores that contention entirely (with
  ``simulation.analytic_queueing``, each request's messages queue only for each other's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.network.links import tx_time_ns
from harness.network.routes import PathQuery
from harness.simulate.inputs import SimulationInput
from harness.simulate.packet import check_destinations
from harness.workload.compute import shard_compute_ns

#: The IPv4 TTL the packet engine gives every packet (IslNetworkHelper::MAX_TTL): a longer path
#: loses its packets in ns-3, and stalls its request here too. (A packet held at its source by
#: routing.no_route 'wait' spends one unit more, passing its own node's forwarding once: 254 hops.)
MAX_PATH_HOPS = 255

__all__ = ["AnalyticResult", "analytic_latency"]


@dataclass(frozen=True)
class AnalyticResult:
    """The times the packet engine would record without queueing (with ``analytic_queueing``: for
    each request alone); ns, -1 where never reached."""

    token_start_ns: np.ndarray    # [R, T] int64
    token_end_ns: np.ndarray      # [R, T] int64
    combine_ns: np.ndarray        # [R, T, L] int64: all k outputs of layer l reached gateway l+1 (mod L)
    compute_ns: np.ndarray        # [R, T] int64: compute on each token's critical path
    serialization_ns: np.ndarray  # [R, T] int64: transmission (size / rate) on the critical path
    propagation_ns: np.ndarray    # [R, T] int64: propagation (distance / c) on the critical path
    wait_ns: np.ndarray           # [R, T] int64: held for want of a route (routing.no_route: wait)
    # (the parts are -1 where the token did not complete; otherwise they sum to its latency)

    @property
    def latency_ns(self) -> np.ndarray:
        """[R, T] int64 per-token latency, -1 for tokens that did not complete."""
        done = (self.token_end_ns >= 0) & (self.token_start_ns >= 0)
        return np.where(done, self.token_end_ns - self.token_start_ns, -1)


def _queue_on_shared_satellites(arrived: np.ndarray, sats: np.ndarray, work: np.ndarray):
    """([R, k] done times, [R, k] the slot whose job ends where each one's begins, or -1) of the k
    experts' compute when several share a satellite: first come first served, slot order on a tie
    (the gateway sends slot 0 first)."""
    done = np.empty_like(arrived)
    after = np.full(arrived.shape, -1, dtype=np.int64)
    for j in range(arrived.shape[1]):
        start = arrived[:, j].copy()
        for i in range(j):
            queued = (sats[:, i] == sats[:, j]) & (done[:, i] > start)
            start = np.where(queued, done[:, i], start)
            after[:, j] = np.where(queued, i, after[:, j])
        done[:, j] = start + work[:, j]
    return done, after


def _through_queue(after: np.ndarray, work, serial, prop, wait):
    """Each slot's critical-path parts up to its compute's end ([R, k] each): its own message and
    compute, or, when it waited behind slot ``after``, that slot's parts plus its own compute."""
    work, serial, prop, wait = (np.array(a, copy=True) for a in (work, serial, prop, wait))
    rows = np.arange(work.shape[0])
    for j in range(work.shape[1]):
        behind = after[:, j] >= 0
        if behind.any():
            i = np.where(behind, after[:, j], 0)
            work[:, j] = np.where(behind, work[rows, i] + work[:, j], work[:, j])
            serial[:, j] = np.where(behind, serial[rows, i], serial[:, j])
            prop[:, j] = np.where(behind, prop[rows, i], prop[:, j])
            wait[:, j] = np.where(behind, wait[rows, i], wait[:, j])
    return work, serial, prop, wait


def analytic_latency(inp: SimulationInput, *, stop_ns: int | None = None) -> AnalyticResult:
    """Token times of a placement without queueing, or with ``inp.analytic_queueing`` each request
    alone (see the module docstring for the model).

    Takes the packet engine's input (each component's time for one token is
    ``inp.token_compute``: the roofline's max(compute, weight read) when it applies; with ``inp.kv``
    a gateway's or shard's weight read of token t also moves the t + 1 tokens of KV cache its request
    holds then, as ns-3's GatewayJob / ShardJob); ``stop_ns``,
    when given, drops every time after it like the packet simulation's stop.
    """
    result = _Timeline(inp).run()
    return result if stop_ns is None else _stopped(result, stop_ns)


def _check(inp: SimulationInput) -> None:
    """ValueError for an input the model cannot time (the packet engine refuses the same)."""
    gateways, experts = np.asarray(inp.gateways), np.asarray(inp.experts)
    activations, starts = np.asarray(inp.activations), np.asarray(inp.request_starts_ns)
    requests, _, layers, _ = activations.shape
    num_layers, num_experts = experts.shape
    if layers != num_layers or gateways.shape != (num_layers,):
        raise ValueError(f"activations have {layers} layers but the placement has {num_layers}")
    if activations.size and (activations.min() < 0 or activations.max() >= num_experts):
        raise ValueError("activation expert ids out of range")
    if starts.shape != (requests,) or (starts < 0).any():
        raise ValueError("one non-negative start time per request is needed")
    # Experts may share a satellite (its compute queue is first-come first-served); a gateway may not.
    if len(np.unique(gateways)) != len(gateways) or np.isin(gateways, experts).any():
        raise ValueError("two components share a satellite: a gateway needs a satellite of its own")
    check_destinations(inp.routes, gateways, experts, inp.shards, inp.replicas)
    steps_ns = np.round(np.asarray(inp.topology.times_s) * 1e9).astype(np.int64)
    if steps_ns[0] != 0 or (np.diff(steps_ns) <= 0).any():
        raise ValueError("snapshot times must start at 0 and increase")
    if inp.no_route == "wait" and not isinstance(inp.routes, PathQuery):
        raise ValueError("routing.no_route 'wait' needs a PathQuery (its connected components)")


def _queued_arrivals(tl: "_Timeline", go, snap, src, dst, hops, prop, ok, formula):
    """Arrival times ([R, m]) of messages that leave at ``go`` and may queue for each other's links
    (see :meth:`_Timeline.contend`), or None when no row has two messages to time.

    Every packet of each row's messages is followed link by link on the path ns-3's routing takes
    (``routes.paths``) by ``LinkQueueTiming`` (C++, ``link-queue-timing.cc``): it joins a link's
    queue when it arrives there (at its source: when sent; at a relay: when it arrived plus the relay
    delay), leaves it when transmitted, first come first served, and reaches the next node the
    link's propagation delay later. A message alone on its links gets ``formula`` exactly."""
    live = ok & (ok.sum(axis=1, keepdims=True) >= 2)
    if not live.any():
        return None
    rows, cols = np.nonzero(live)
    arc, delay = tl.path_arcs(snap[live], src[live], dst[live], hops[live], prop[live])
    link = np.where(arc >= 0, rows[:, None] * 2 * tl.link_delay_ns.shape[1] + arc, -1)  # a queue per request and arc
    arrival = np.empty(len(rows), dtype=np.int64)
    tl.native.LinkQueueTiming.Arrivals(len(rows), arc.shape[1], np.ascontiguousarray(link, dtype=np.int64),
                                       np.ascontiguousarray(delay, dtype=np.int64),
                                       np.ascontiguousarray(go[live], dtype=np.int64), len(tl.tx),
                                       np.ascontiguousarray(tl.tx), int(tl.relay_ns), arrival)
    out = formula.copy()
    out[rows, cols] = arrival
    return out


class _Path:
    """A token's critical path so far, over the requests: the time it reached, its parts (compute,
    serialisation, propagation, wait; each [R] int64, ns) and whether the request is still alive
    (False once one of its messages found no route: it stalls there, as in ns-3)."""

    def __init__(self, time, comp, serial, prop, held, alive):
        self.time, self.comp, self.serial, self.prop, self.held, self.alive = time, comp, serial, prop, held, alive

    def add(self, comp, serial, prop, held) -> None:
        self.comp, self.serial, self.prop, self.held = (self.comp + comp, self.serial + serial,
                                                        self.prop + prop, self.held + held)


class _Timeline:
    """The analytic engine for one input: the per-message arithmetic (:meth:`message`), each
    layer's attention (:meth:`attention`, :meth:`direct_attention`) and expert phase
    (:meth:`parallel_experts`, :meth:`sequential_experts`), walked token by token by :meth:`run`,
    vectorised over requests."""

    def __init__(self, inp: SimulationInput):
        _check(inp)
        compute = inp.token_compute
        self.routes = inp.routes
        self.gateways = np.asarray(inp.gateways, dtype=np.int64)
        self.experts = np.asarray(inp.experts, dtype=np.int64)
        self.activations = np.asarray(inp.activations, dtype=np.int64)
        self.starts = np.asarray(inp.request_starts_ns, dtype=np.int64)
        self.requests, self.tokens, self.layers, self.top_k = self.activations.shape
        self.rows = np.arange(self.requests)
        self.steps_ns = np.round(np.asarray(inp.topology.times_s) * 1e9).astype(np.int64)
        tx = [tx_time_ns(size, int(inp.links.rate_bps)) for size in inp.links.packet_sizes_bytes(inp.message_bytes)]
        self.tx_sum, self.tx_max = sum(tx), max(tx)
        self.tx = np.asarray(tx, dtype=np.int64)
        self.relay_ns = inp.links.relay_delay_ns
        self.queueing = bool(inp.analytic_queueing)  # simulation.analytic_queueing (off: :meth:`contend` is :meth:`message`)
        if self.queueing:
            # Directed links for the queueing of simultaneous messages (:meth:`contend`): arc u -> v is
            # 2 e + (u is not edges[e, 0]) of the first link e between u and v, the interface ns-3's
            # routing picks toward a neighbour (its neighbours are added in link order).
            edges = np.asarray(inp.topology.edges, dtype=np.int64).reshape(-1, 2)
            self.num_nodes = int(inp.topology.num_nodes)
            self.link_delay_ns = np.asarray(inp.topology.delay_ns, dtype=np.int64)
            pair = np.concatenate([edges[:, 0] * self.num_nodes + edges[:, 1],
                                   edges[:, 1] * self.num_nodes + edges[:, 0]])
            arc = np.concatenate([2 * np.arange(len(edges)), 2 * np.arange(len(edges)) + 1])
            order = np.lexsort((arc, pair))
            first = np.ones(len(order), dtype=bool)
            first[1:] = pair[order][1:] != pair[order][:-1]
            self.arc_pair, self.arc_id = pair[order][first], arc[order][first]
            self.paths_seen: dict = {}  # (snapshot, source, destination) -> (arcs, delays) of its routed path
            self.native = None
        self.gateway_ns = np.asarray(compute.gateway_ns, dtype=np.int64)
        self.expert_ns = np.asarray(compute.expert_ns, dtype=np.int64)
        self.lm_head_ns = int(compute.lm_head_ns)
        self.hold = inp.no_route == "wait"
        self.own_gateway, self.sequential = inp.combine == "own-gateway", inp.dispatch == "sequential"
        self.shards = None
        if inp.shards is not None:
            self.shards = np.asarray(inp.shards, dtype=np.int64)
            self.helper_count = (self.shards >= 0).sum(axis=1)
            self.shard_ns = shard_compute_ns(self.gateway_ns, self.helper_count, compute.heads)
        # KV-cache reads under the roofline: an attention job's memory side grows with the context,
        # so token t's gateway and shard times are set per token (:meth:`_kv_times`).
        self.kv = inp.kv if inp.memory is not None else None
        if self.kv is not None:
            c, m, heads = inp.compute, inp.memory, compute.heads
            self._kv_base = (np.asarray(c.gateway_ns, dtype=np.int64), np.asarray(m.gateway_ns, dtype=np.int64))
            if self.shards is not None:
                self._kv_shard_base = (shard_compute_ns(c.gateway_ns, self.helper_count, heads),
                                       shard_compute_ns(m.gateway_ns, self.helper_count, heads),
                                       self.kv.shard_fraction(self.helper_count))
        self.copies = None
        if inp.replicas is not None:  # [L, E, 1 + R]: the expert itself, then its copies
            self.copies = np.concatenate([self.experts[:, :, None], np.asarray(inp.replicas, dtype=np.int64)], axis=2)
            self.choice = np.asarray(inp.replica_choice, dtype=np.int64)

    def _kv_times(self, t: int) -> None:
        """Token t's gateway [L] and shard [L] times with its KV-cache read (one request, no prompt:
        the cache holds t tokens before it; compute.KvReads, as the C++ GatewayJob / ShardJob)."""
        layers = np.arange(self.layers)
        nbytes = self.kv.bytes(layers, t, 1)
        compute, memory = self._kv_base
        self.gateway_ns = np.maximum(compute, memory + self.kv.read_ns(nbytes))
        if self.shards is not None:
            s_compute, s_memory, fraction = self._kv_shard_base
            self.shard_ns = np.maximum(s_compute, s_memory + self.kv.read_ns(nbytes * fraction))

    def message(self, send: np.ndarray, src: np.ndarray, dst: np.ndarray, root_at_source: bool = False):
        """(wait, serialisation, propagation, reachable) of messages sent at ``send`` from src to dst."""
        return self._route(send, src, dst, root_at_source)[:4]

    def contend(self, send: np.ndarray, src: np.ndarray, dst: np.ndarray, root_at_source: bool = False):
        """:meth:`message` for [R, m] messages of which those of one request (a row) may share links:
        each row's messages queue for each other's links packet by packet, first in first out, as
        ns-3's transmit queues serve them; the column order is the send order of messages that leave
        one node at the same instant (the C++ send loops'). The waits behind other messages are
        counted in the serialisation part (transmission time of other messages' packets). Rows do
        not interact (requests are independent in this model). With ``simulation.analytic_queueing``
        off (the default): exactly :meth:`message`, every message alone."""
        if not self.queueing:
            return self.message(send, src, dst, root_at_source)
        wait, serial, prop, ok, snap, hops = self._route(send, src, dst, root_at_source)
        if send.ndim != 2 or send.shape[1] < 2:
            return wait, serial, prop, ok
        go = np.asarray(send) + wait
        arrive = _queued_arrivals(self, go, snap, np.broadcast_to(src, send.shape),
                                  np.broadcast_to(dst, send.shape), hops, prop, ok, go + serial + prop)
        if arrive is not None:
            serial = np.where(ok, arrive - send - wait - prop, serial)
        return wait, serial, prop, ok

    def path_arcs(self, snap: np.ndarray, src: np.ndarray, dst: np.ndarray, hops: np.ndarray, prop: np.ndarray):
        """([M, W] arc of each hop, [M, W] its delay; -1 and 0 past the last hop) of the routed path of
        each (snapshot, source, destination) [M], as ns-3's routing forwards (remembered per triple)."""
        if self.native is None:
            from harness.cxx.runtime import load
            self.native = load()
        keys = list(zip(snap.tolist(), src.tolist(), dst.tolist()))
        new = [i for i, key in enumerate(keys) if key not in self.paths_seen]
        if new:
            idx = np.array(new)
            nodes = self.routes.paths(snap[idx], src[idx], dst[idx], int(hops[idx].max()) + 1)
            tail, head = nodes[:, :-1], nodes[:, 1:]
            on = head >= 0
            pair = np.where(on, tail * self.num_nodes + head, -1)
            at = np.clip(np.searchsorted(self.arc_pair, pair), 0, len(self.arc_pair) - 1)
            if (on & (self.arc_pair[at] != pair)).any() or (nodes[:, 0] != src[idx]).any():
                raise ValueError("a routed path steps between two satellites with no link between them")
            arcs = np.where(on, self.arc_id[at], -1)
            delays = np.where(on, self.link_delay_ns[snap[idx][:, None], np.maximum(arcs, 0) // 2], 0)
            if (delays.sum(axis=1) != prop[idx]).any() or (on.sum(axis=1) != hops[idx]).any():
                raise ValueError("a routed path's links do not add up to its routed delay and hops")
            for j, i in enumerate(new):
                self.paths_seen[keys[i]] = (arcs[j, : hops[i]], delays[j, : hops[i]])
        width = int(hops.max())
        arc = np.full((len(keys), width), -1, dtype=np.int64)
        delay = np.zeros((len(keys), width), dtype=np.int64)
        for i, key in enumerate(keys):
            a, d = self.paths_seen[key]
            arc[i, : len(a)], delay[i, : len(d)] = a, d
        return arc, delay

    def _route(self, send: np.ndarray, src: np.ndarray, dst: np.ndarray, root_at_source: bool = False):
        """:meth:`message`, and each message's snapshot and hop count."""
        steps_ns = self.steps_ns
        snap = np.searchsorted(steps_ns, send, side="right") - 1
        wait = np.zeros(np.shape(send), dtype=np.int64)
        if self.hold:
            # Held at the source until the first later snapshot that connects it to dst.
            labels = self.routes.component_labels()
            cut = np.nonzero(labels[snap, src] != labels[snap, dst])
            if cut[0].size:
                a, b, s = src[cut], dst[cut], snap[cut]
                later = (labels[:, a] == labels[:, b]) & (np.arange(len(steps_ns))[:, None] > s[None, :])
                found = later.any(axis=0)
                snap = snap.copy()
                snap[cut] = np.where(found, np.argmax(later, axis=0), s)
                wait[cut] = np.where(found, steps_ns[snap[cut]] - send[cut], 0)
        delay, hops = self.routes.lookup(snap, src, dst, root_at_source=root_at_source)
        routed = delay >= 0
        if (routed & (hops < 1)).any():
            raise ValueError("routes.hops is < 1 for a routed message between two distinct satellites: the "
                             "hop and delay tables do not describe the next-hop table (build them with "
                             "harness.network.routes.shortest_delay_routes)")
        ok = routed & (hops >= 1) & (delay >= 0) & (hops <= MAX_PATH_HOPS)
        serial = np.where(ok, self.tx_sum + (hops - 1) * (self.tx_max + self.relay_ns), 0)
        return np.where(ok, wait, 0), serial, np.where(ok, delay, 0), ok, snap, hops

    def attention(self, l: int, start: np.ndarray, alive: np.ndarray):
        """(end, compute, serialisation, propagation, wait) of layer l's attention from ``start``,
        and the requests still alive: the gateway alone, or its tensor-parallel shards."""
        requests, rows, gateways = self.requests, self.rows, self.gateways
        if self.shards is None or self.helper_count[l] == 0:
            zeros = [np.zeros(requests, dtype=np.int64) for _ in range(3)]
            return (start + self.gateway_ns[l], np.full(requests, self.gateway_ns[l], dtype=np.int64), *zeros, alive)
        shard_ns = self.shard_ns
        own = start + shard_ns[l]
        helpers = self.shards[l, : self.helper_count[l]]
        send = np.repeat(start[:, None], len(helpers), axis=1)
        src = np.full_like(send, gateways[l])
        dst = np.broadcast_to(helpers, send.shape).copy()
        out_w, out_s, out_p, out_ok = self.contend(send, src, dst, root_at_source=True)
        done = np.where(out_ok, send + out_w + out_s + out_p + shard_ns[l], 0)
        back_w, back_s, back_p, back_ok = self.contend(done, dst, src)
        arrive = np.where(out_ok & back_ok, done + back_w + back_s + back_p, -1)
        alive = alive & (out_ok & back_ok).all(axis=1)
        parts = np.concatenate([own[:, None], arrive], axis=1)  # own shard first: it wins ties
        critical = np.argmax(parts, axis=1)
        end = parts[rows, critical]
        helper = np.maximum(critical - 1, 0)
        via = critical > 0
        serial = np.where(via, out_s[rows, helper] + back_s[rows, helper], 0)
        prop = np.where(via, out_p[rows, helper] + back_p[rows, helper], 0)
        wait = np.where(via, out_w[rows, helper] + back_w[rows, helper], 0)
        return end, np.full(requests, shard_ns[l]), serial, prop, wait, alive

    def expert_sats(self, l: int, chosen: np.ndarray, send: np.ndarray) -> np.ndarray:
        """Satellites of layer l's experts ``chosen`` ([R, k] or [R]) for hidden states sent at ``send``."""
        if self.copies is None:
            return self.experts[l][chosen]
        snap = np.searchsorted(self.steps_ns, send, side="right") - 1
        snap = np.broadcast_to(snap.reshape(snap.shape + (1,) * (chosen.ndim - snap.ndim)), chosen.shape)
        return self.copies[l, chosen, self.choice[snap, l, chosen]]

    def direct(self, l: int) -> bool:
        """Layer l's shards take the expert outputs of layer l-1 themselves (no scatter)."""
        return (self.shards is not None and 0 < l < self.layers and self.helper_count[l] > 0
                and not self.own_gateway and not self.sequential)

    def direct_attention(self, l: int, at_gateway: np.ndarray, done: np.ndarray, inputs, base,
                         via_gateway, alive: np.ndarray):
        """Layer l's sharded attention when the k outputs of layer l-1 (finished at ``done`` [R, k],
        their critical-path parts so far ``base``: compute, serialisation, propagation, wait, each
        [R, k]) go to the gateway (all in at ``at_gateway``, parts ``via_gateway``) and straight to
        every helper (``inputs``: per helper, the (wait, serialisation, propagation, reachable) of
        the k outputs sent to it). Returns (end, the layer's parts from the dispatch on, alive)."""
        rows, shard_ns = self.rows, self.shard_ns
        helpers = self.shards[l, : self.helper_count[l]]
        own_end = at_gateway + shard_ns[l]
        ready, last = [], []
        for w, se, pr, ok in inputs:
            arrive = np.where(ok, done + w + se + pr, -1)
            alive = alive & ok.all(axis=1)
            j = np.argmax(arrive, axis=1)  # the output that completes the shard's input (first on ties)
            ready.append(arrive[rows, j] + shard_ns[l])
            last.append(j)
        # The partial outputs go back to the gateway, each when its shard is done; they may meet.
        ready = np.stack(ready, axis=1)
        bw, bs, bp, bok = self.contend(ready, np.broadcast_to(helpers, ready.shape),
                                       np.full(ready.shape, self.gateways[l]))
        alive = alive & bok.all(axis=1)
        ends = [own_end]
        parts = [tuple(v + (shard_ns[l] if i == 0 else 0) for i, v in enumerate(via_gateway))]
        for h, ((w, se, pr, _), j) in enumerate(zip(inputs, last)):
            ends.append(np.where(bok[:, h], ready[:, h] + bw[:, h] + bs[:, h] + bp[:, h], -1))
            parts.append((base[0][rows, j] + shard_ns[l], base[1][rows, j] + se[rows, j] + bs[:, h],
                          base[2][rows, j] + pr[rows, j] + bp[:, h], base[3][rows, j] + w[rows, j] + bw[:, h]))
        ends = np.stack(ends, axis=1)
        critical = np.argmax(ends, axis=1)  # own shard first on ties, then helpers in order
        chosen = tuple(np.stack([p[i] for p in parts], axis=1)[rows, critical] for i in range(4))
        return ends[rows, critical], chosen, alive

    def sequential_experts(self, l: int, p: _Path, chosen: np.ndarray, sats: np.ndarray, work: np.ndarray,
                           combiner: int) -> None:
        """gateway -> e_1 -> ... -> e_k -> combiner: every leg and every expert in series."""
        requests = self.requests
        at, src = p.time.copy(), np.full(requests, self.gateways[l])
        for j in range(self.top_k):
            sats[:, j] = self.expert_sats(l, chosen[:, j], at)  # each leg picks its copy when sent
            w, se, pr, ok = self.message(at, src, sats[:, j])
            p.alive &= ok
            at = np.where(p.alive, at + w + se + pr + work[:, j], 0)
            p.comp += work[:, j]
            p.serial, p.prop, p.held = p.serial + se, p.prop + pr, p.held + w
            src = sats[:, j]
        w, se, pr, ok = self.message(at, src, np.full(requests, combiner))
        p.alive &= ok
        p.time = np.where(p.alive, at + w + se + pr, 0)
        p.serial, p.prop, p.held = p.serial + se, p.prop + pr, p.held + w

    def parallel_experts(self, l: int, t: int, p: _Path, sats: np.ndarray, work: np.ndarray, combiner: int,
                         combine: np.ndarray) -> bool:
        """The gateway sends to the k experts at once; their outputs meet at ``combiner``. True when
        the next layer's shards took the outputs straight (its attention is then done as well)."""
        rows, top_k = self.rows, self.top_k
        send = np.repeat(p.time[:, None], top_k, axis=1)
        # The k dispatches share their source: one shortest-path tree from the gateway.
        out_wait, out_serial, out_prop, out_ok = self.contend(send, np.full_like(sats, self.gateways[l]), sats,
                                                              root_at_source=True)
        arrived = np.where(out_ok, send + out_wait + out_serial + out_prop, 0)
        done, own_start = _queue_on_shared_satellites(arrived, sats, work)
        done = np.where(out_ok, done, 0)
        direct = self.direct(l + 1)
        if direct:
            # Each expert sends its output to the combiner, then to every shard of the next layer
            # (SendOutput's order): k (1 + H) messages, which may queue for each other's links.
            helpers = self.shards[l + 1, : self.helper_count[l + 1]]
            fan = 1 + len(helpers)
            dests = np.concatenate([[combiner], helpers])
            w, se, pr, ok = self.contend(np.repeat(done, fan, axis=1), np.repeat(sats, fan, axis=1),
                                         np.broadcast_to(np.tile(dests, top_k), (len(rows), top_k * fan)))
            back_wait, back_serial, back_prop, back_ok = w[:, ::fan], se[:, ::fan], pr[:, ::fan], ok[:, ::fan]
            inputs = [(w[:, h::fan], se[:, h::fan], pr[:, h::fan], ok[:, h::fan]) for h in range(1, fan)]
        else:
            back_wait, back_serial, back_prop, back_ok = self.contend(done, sats, np.full_like(sats, combiner))
        arrive = done + back_wait + back_serial + back_prop
        p.alive &= (out_ok & back_ok).all(axis=1)
        critical = np.argmax(np.where(out_ok & back_ok, arrive, -1), axis=1)  # first slot on ties
        p.time = np.where(p.alive, arrive[rows, critical], 0)
        # An expert that waited for another on its satellite: its path runs through that one.
        work, out_serial, out_prop, out_wait = _through_queue(own_start, work, out_serial, out_prop, out_wait)
        if direct:
            # The next layer's shards get the k outputs straight from the experts.
            base = (work, out_serial, out_prop, out_wait)
            via_gateway = tuple(b[rows, critical] + x[rows, critical] for b, x in
                                zip(base, (np.zeros_like(work), back_serial, back_prop, back_wait)))
            end, parts, p.alive = self.direct_attention(l + 1, p.time, done, inputs, base, via_gateway, p.alive)
            combine[p.alive, t, l] = p.time[p.alive]
            p.time = np.where(p.alive, end, 0)
            p.add(*parts)
            return True
        p.comp += work[rows, critical]
        p.serial += out_serial[rows, critical] + back_serial[rows, critical]
        p.prop += out_prop[rows, critical] + back_prop[rows, critical]
        p.held += out_wait[rows, critical] + back_wait[rows, critical]
        return False

    def layer(self, l: int, t: int, p: _Path, combine: np.ndarray) -> None:
        """Layer l of token t from its gateway's attention done (``p.time``) to the next layer's
        attention done (or, after the last layer, to the combine at gateway 0)."""
        requests, layers, gateways = self.requests, self.layers, self.gateways
        chosen = self.activations[:, t, l, :]                 # [R, k] expert ids
        sats = self.expert_sats(l, chosen, p.time)            # [R, k] their satellites (or copies)
        work = self.expert_ns[l][chosen]
        nxt = gateways[(l + 1) % layers]
        combiner = gateways[l] if self.own_gateway else nxt
        if self.sequential:
            self.sequential_experts(l, p, chosen, sats, work, combiner)
        elif self.parallel_experts(l, t, p, sats, work, combiner, combine):
            return
        if combiner != nxt:
            # Combined at the own gateway: one more message, on to the next layer's gateway.
            w, se, pr, ok = self.message(p.time, np.full(requests, gateways[l]), np.full(requests, nxt))
            p.alive &= ok
            p.time = np.where(p.alive, p.time + w + se + pr, 0)
            p.serial, p.prop, p.held = p.serial + se, p.prop + pr, p.held + w
        combine[p.alive, t, l] = p.time[p.alive]
        if l + 1 < layers:
            end, c, se, pr, w, p.alive = self.attention(l + 1, p.time, p.alive)
            p.time = np.where(p.alive, end, 0)
            p.add(c, se, pr, w)

    def run(self) -> AnalyticResult:
        """Every token of every request, in order: token t+1 starts when token t ended."""
        requests, tokens, layers = self.requests, self.tokens, self.layers
        shape = (requests, tokens)
        token_start = np.full(shape, -1, dtype=np.int64)
        token_end = np.full(shape, -1, dtype=np.int64)
        combine = np.full((requests, tokens, layers), -1, dtype=np.int64)
        compute_part = np.full(shape, -1, dtype=np.int64)
        serial_part = np.full(shape, -1, dtype=np.int64)
        prop_part = np.full(shape, -1, dtype=np.int64)
        wait_part = np.full(shape, -1, dtype=np.int64)

        alive = np.ones(requests, dtype=bool)  # the request has not stalled
        current = self.starts.copy()           # start of the request's next token
        for t in range(tokens):
            if self.kv is not None:
                self._kv_times(t)
            token_start[alive, t] = current[alive]
            p = _Path(*self.attention(0, np.where(alive, current, 0), alive))
            p.time = np.where(p.alive, p.time, 0)
            for l in range(layers):
                self.layer(l, t, p, combine)
            p.time = p.time + self.lm_head_ns
            p.comp += self.lm_head_ns
            alive = p.alive
            token_end[alive, t] = p.time[alive]
            compute_part[alive, t] = p.comp[alive]
            serial_part[alive, t] = p.serial[alive]
            prop_part[alive, t] = p.prop[alive]
            wait_part[alive, t] = p.held[alive]
            current = np.where(alive, p.time, current)

        done = token_end >= 0
        assert (compute_part + serial_part + prop_part + wait_part == token_end - token_start)[done].all(), \
            "the critical-path decomposition does not add up to the latency"
        return AnalyticResult(token_start_ns=token_start, token_end_ns=token_end, combine_ns=combine,
                              compute_ns=compute_part, serialization_ns=serial_part, propagation_ns=prop_part,
                              wait_ns=wait_part)


def _stopped(result: AnalyticResult, stop_ns: int) -> AnalyticResult:
    """``result`` with every time after ``stop_ns`` -1, as the packet simulation's stop leaves them
    (the parts too, of a token that ended after it)."""
    token_start, token_end, combine = result.token_start_ns, result.token_end_ns, result.combine_ns
    parts = (result.compute_ns, result.serialization_ns, result.propagation_ns, result.wait_ns)
    late_end = (token_end >= 0) & (token_end > stop_ns)
    for arr in (token_start, token_end, combine):
        arr[arr > stop_ns] = -1
    for arr in parts:
        arr[late_end] = -1
    return result
