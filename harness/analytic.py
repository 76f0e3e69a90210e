"""Analytic token latency: what the packet engine records when nothing ever queues.

The packet engine (:mod:`harness.packet_sim`, the ns-3 module ``space-xnet``) moves every packet.
This module computes, with a loop over tokens and layers (vectorised over requests and the k
experts of a layer, never per packet), the times ns-3 would record if no two messages ever shared a
link at the same time and no satellite ever had two compute jobs at once. It is the reference the
packet engine is checked against, and a fast estimate where queueing does not matter.

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
  per-packet transmission time: :func:`tx_time_ns`, b*8/R rounded to whole ns exactly as ns-3's
  ``DataRate::CalculateBytesTxTime`` does (nearest ns, an exact half rounding down); with a relay
  forwarding delay D (``links.relay_delay_us``) every packet waits D at each of the h - 1 relays,
  which shifts the whole pipeline by (h - 1) D (counted in the serialisation part: both are
  store-and-forward time);
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
  computes its shard (``shard_compute_ns``: ``gateway_ns[l] / (1 + H_l)``, nearest ns) from a,
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

Where ns-3 can differ (ns-3 is never earlier than this model except for the snapshot effects):

- queueing inside one layer of one token. The gateway's k dispatches leave one after the other
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
- a snapshot boundary crossed mid-message: ns-3 routes each packet at each node with the table in
  force when it gets there and uses each link's delay in force when the packet starts transmitting
  on it; this model keeps the send snapshot for the whole message. The difference is the change of
  the path's delay over one snapshot (tens of ns when the route stays; up to the delay difference
  between the old and the new route when it changes), either sign, and a message can be lost in
  ns-3 (``links.drop_in_flight``) or stall where the model does not, or the other way round.
- an event at exactly a snapshot time or at exactly ``stop_ns``: ns-3 orders simultaneous events
  by when they were scheduled; the model takes the new snapshot, and keeps a time == ``stop_ns``.
- several requests that overlap in time (request_spacing_s shorter than a request) share
  satellites and links in ns-3; the model ignores that contention entirely.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .packet_sim import ComputeTimes
from .routes import PathQuery, Routes
from .scenario import LinkSpec
from .topology import Topology

#: The IPv4 TTL the packet engine gives every packet (IslNetworkHelper::MAX_TTL): a longer path
#: loses its packets in ns-3, and stalls its request here too. (A packet held at its source by
#: routing.no_route 'wait' spends one unit more, passing its own node's forwarding once: 254 hops.)
MAX_PATH_HOPS = 255

__all__ = ["AnalyticResult", "analytic_latency", "message_serialization_ns", "tx_time_ns"]


@dataclass(frozen=True)
class AnalyticResult:
    """The times the packet engine would record without queueing; ns, -1 where never reached."""

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


def tx_time_ns(wire_bytes: int, rate_bps: int) -> int:
    """Transmission time of one packet of ``wire_bytes`` at ``rate_bps``, in whole ns, as ns-3.

    ns-3 computes ``bits / rate`` in its 64.64 fixed-point type (the quotient truncated to 2^-64 s),
    scales it to ns and rounds to the nearest ns (halves away from zero); the truncation makes an
    exact half round down. Checked against ``ns3::DataRate::CalculateBytesTxTime`` for every size
    up to 9000 B at a dozen rates (tests/test_analytic.py).
    """
    rate = int(rate_bps)
    if rate <= 0:
        raise ValueError(f"rate must be a positive whole number of bit/s, got {rate_bps}")
    seconds_q64 = (int(wire_bytes) * 8 << 64) // rate
    return int((seconds_q64 * 10**9 + (1 << 63)) >> 64)


def _queue_on_shared_satellites(arrived: np.ndarray, sats: np.ndarray, work: np.ndarray):
    """([R, k] done times, [R, k] the slot whose job ends where each one's begins, or -1) of the k
    experts' compute when several share a satellite: first come first served, slot order on a tie
    (the gateway sends slot 0 first)."""
    done = np.empty_like(arrived)
    after = np.full(arrived.shape, -1, dtype=np.int64)
    rows = np.arange(arrived.shape[0])
    for j in range(arrived.shape[1]):
        start = arrived[:, j].copy()
        for i in range(j):
            queued = (sats[:, i] == sats[:, j]) & (done[:, i] > start)
            start = np.where(queued, done[:, i], start)
            after[:, j] = np.where(queued, i, after[:, j])
        done[:, j] = start + work[:, j]
    del rows
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


def message_serialization_ns(links: LinkSpec, message_bytes: int, hops: np.ndarray) -> np.ndarray:
    """Serialisation part of a message's latency over ``hops`` links: sum tx + (h - 1) max tx."""
    tx = [tx_time_ns(size, int(links.rate_bps)) for size in links.packet_sizes_bytes(message_bytes)]
    hops = np.asarray(hops, dtype=np.int64)
    return sum(tx) + (hops - 1) * max(tx)


def analytic_latency(*, topology: Topology, routes: PathQuery | Routes, links: LinkSpec, gateways: np.ndarray,
                     experts: np.ndarray, activations: np.ndarray, compute: ComputeTimes,
                     request_starts_ns: np.ndarray, message_bytes: int,
                     stop_ns: int | None = None, no_route: str = "drop", combine: str = "next-gateway",
                     dispatch: str = "parallel", shards: np.ndarray | None = None,
                     replicas: np.ndarray | None = None, replica_choice: np.ndarray | None = None) -> AnalyticResult:
    """Token times of a placement without queueing (see the module docstring for the model).

    Takes the arguments of :func:`harness.packet_sim.run_packet_sim` (``activations`` is the
    [R, T, L, k] expert ids); ``stop_ns``, when given, drops every time after it like the packet
    simulation's stop.
    """
    gateways = np.asarray(gateways, dtype=np.int64)
    experts = np.asarray(experts, dtype=np.int64)
    activations = np.asarray(activations, dtype=np.int64)
    starts = np.asarray(request_starts_ns, dtype=np.int64)
    requests, tokens, layers, top_k = activations.shape
    num_layers, num_experts = experts.shape
    if layers != num_layers or gateways.shape != (num_layers,):
        raise ValueError(f"activations have {layers} layers but the placement has {num_layers}")
    if activations.size and (activations.min() < 0 or activations.max() >= num_experts):
        raise ValueError("activation expert ids out of range")
    if starts.shape != (requests,) or (starts < 0).any():
        raise ValueError("one non-negative start time per request is needed")
    components = np.concatenate([gateways, experts.ravel()])
    # Experts may share a satellite (its compute queue is first-come first-served); a gateway may not.
    if len(np.unique(gateways)) != len(gateways) or np.isin(gateways, experts).any():
        raise ValueError("two components share a satellite: a gateway needs a satellite of its own")
    if isinstance(routes, Routes) and not np.isin(components, routes.destinations).all():
        raise ValueError("routes do not cover every component as a destination")
    steps_ns = np.round(np.asarray(topology.times_s) * 1e9).astype(np.int64)
    if steps_ns[0] != 0 or (np.diff(steps_ns) <= 0).any():
        raise ValueError("snapshot times must start at 0 and increase")

    tx = [tx_time_ns(size, int(links.rate_bps)) for size in links.packet_sizes_bytes(message_bytes)]
    tx_sum, tx_max = sum(tx), max(tx)
    relay_ns = links.relay_delay_ns
    gateway_ns = np.asarray(compute.gateway_ns, dtype=np.int64)
    expert_ns = np.asarray(compute.expert_ns, dtype=np.int64)
    lm_head_ns = int(compute.lm_head_ns)

    hold = no_route == "wait"
    own_gateway, sequential = combine == "own-gateway", dispatch == "sequential"
    if hold and not isinstance(routes, PathQuery):
        raise ValueError("routing.no_route 'wait' needs a PathQuery (its connected components)")

    def message(send: np.ndarray, src: np.ndarray, dst: np.ndarray, root_at_source: bool = False):
        """(wait, serialisation, propagation, reachable) of messages sent at ``send`` from src to dst."""
        snap = np.searchsorted(steps_ns, send, side="right") - 1
        wait = np.zeros(np.shape(send), dtype=np.int64)
        if hold:
            # Held at the source until the first later snapshot that connects it to dst.
            labels = routes.component_labels()
            cut = np.nonzero(labels[snap, src] != labels[snap, dst])
            if cut[0].size:
                a, b, s = src[cut], dst[cut], snap[cut]
                later = (labels[:, a] == labels[:, b]) & (np.arange(len(steps_ns))[:, None] > s[None, :])
                found = later.any(axis=0)
                snap = snap.copy()
                snap[cut] = np.where(found, np.argmax(later, axis=0), s)
                wait[cut] = np.where(found, steps_ns[snap[cut]] - send[cut], 0)
        delay, hops = routes.lookup(snap, src, dst, root_at_source=root_at_source)
        routed = delay >= 0
        if (routed & (hops < 1)).any():
            raise ValueError("routes.hops is < 1 for a routed message between two distinct satellites: the "
                             "hop and delay tables do not describe the next-hop table (build them with "
                             "harness.routes.shortest_delay_routes)")
        ok = routed & (hops >= 1) & (delay >= 0) & (hops <= MAX_PATH_HOPS)
        serial = np.where(ok, tx_sum + (hops - 1) * (tx_max + relay_ns), 0)
        return np.where(ok, wait, 0), serial, np.where(ok, delay, 0), ok

    if shards is not None:
        from .packet_sim import shard_compute_ns

        shards = np.asarray(shards, dtype=np.int64)
        helper_count = (shards >= 0).sum(axis=1)
        shard_ns = shard_compute_ns(gateway_ns, helper_count)

    def attention(l: int, start: np.ndarray, alive: np.ndarray):
        """(end, compute, serialisation, propagation, wait) of layer l's attention from ``start``,
        and the requests still alive: the gateway alone, or its tensor-parallel shards."""
        if shards is None or helper_count[l] == 0:
            zeros = [np.zeros(requests, dtype=np.int64) for _ in range(3)]
            return (start + gateway_ns[l], np.full(requests, gateway_ns[l], dtype=np.int64), *zeros, alive)
        own = start + shard_ns[l]
        helpers = shards[l, : helper_count[l]]
        send = np.repeat(start[:, None], len(helpers), axis=1)
        src = np.full_like(send, gateways[l])
        dst = np.broadcast_to(helpers, send.shape).copy()
        out_w, out_s, out_p, out_ok = message(send, src, dst, root_at_source=True)
        done = np.where(out_ok, send + out_w + out_s + out_p + shard_ns[l], 0)
        back_w, back_s, back_p, back_ok = message(done, dst, src)
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

    if replicas is not None:
        copies = np.concatenate([experts[:, :, None], np.asarray(replicas, dtype=np.int64)], axis=2)  # [L, E, 1+R]
        choice = np.asarray(replica_choice, dtype=np.int64)

    def expert_sats(l: int, chosen: np.ndarray, send: np.ndarray) -> np.ndarray:
        """Satellites of layer l's experts ``chosen`` ([R, k] or [R]) for hidden states sent at ``send``."""
        if replicas is None:
            return experts[l][chosen]
        snap = np.searchsorted(steps_ns, send, side="right") - 1
        snap = np.broadcast_to(snap.reshape(snap.shape + (1,) * (chosen.ndim - snap.ndim)), chosen.shape)
        return copies[l, chosen, choice[snap, l, chosen]]

    def direct(l: int) -> bool:
        """Layer l's shards take the expert outputs of layer l-1 themselves (no scatter)."""
        return (shards is not None and 0 < l < layers and helper_count[l] > 0 and not own_gateway
                and not sequential)

    def direct_attention(l: int, at_gateway: np.ndarray, done: np.ndarray, sats: np.ndarray, base, via_gateway,
                         alive: np.ndarray):
        """Layer l's sharded attention when the k outputs of layer l-1 (finished at ``done`` [R, k] on
        ``sats``, their critical-path parts so far ``base``: compute, serialisation, propagation,
        wait, each [R, k]) go to the gateway (all in at ``at_gateway``, parts ``via_gateway``) and
        straight to every helper. Returns (end, the layer's parts from the dispatch on, alive)."""
        helpers = shards[l, : helper_count[l]]
        own_end = at_gateway + shard_ns[l]
        ends = [own_end]
        parts = [tuple(v + (shard_ns[l] if i == 0 else 0) for i, v in enumerate(via_gateway))]
        for helper in helpers:
            w, se, pr, ok = message(done, sats, np.full_like(sats, helper))
            arrive = np.where(ok, done + w + se + pr, -1)
            alive = alive & ok.all(axis=1)
            j = np.argmax(arrive, axis=1)  # the output that completes the shard's input (first on ties)
            ready = arrive[rows, j] + shard_ns[l]
            bw, bs, bp, bok = message(ready, np.full(requests, helper), np.full(requests, gateways[l]))
            alive = alive & bok
            ends.append(np.where(bok, ready + bw + bs + bp, -1))
            parts.append((base[0][rows, j] + shard_ns[l], base[1][rows, j] + se[rows, j] + bs,
                          base[2][rows, j] + pr[rows, j] + bp, base[3][rows, j] + w[rows, j] + bw))
        ends = np.stack(ends, axis=1)
        critical = np.argmax(ends, axis=1)  # own shard first on ties, then helpers in order
        chosen = tuple(np.stack([p[i] for p in parts], axis=1)[rows, critical] for i in range(4))
        return ends[rows, critical], chosen, alive

    shape = (requests, tokens)
    token_start = np.full(shape, -1, dtype=np.int64)
    token_end = np.full(shape, -1, dtype=np.int64)
    combine = np.full((requests, tokens, layers), -1, dtype=np.int64)
    compute_part = np.full(shape, -1, dtype=np.int64)
    serial_part = np.full(shape, -1, dtype=np.int64)
    prop_part = np.full(shape, -1, dtype=np.int64)
    wait_part = np.full(shape, -1, dtype=np.int64)

    alive = np.ones(requests, dtype=bool)  # the request has not stalled
    current = starts.copy()                # start of the request's next token
    rows = np.arange(requests)
    for t in range(tokens):
        token_start[alive, t] = current[alive]
        time, comp, serial, prop, held, alive = attention(0, np.where(alive, current, 0), alive)
        time = np.where(alive, time, 0)
        for l in range(layers):
            chosen = activations[:, t, l, :]                      # [R, k] expert ids
            sats = expert_sats(l, chosen, time)                    # [R, k] their satellites (or copies)
            work = expert_ns[l][chosen]
            nxt = gateways[(l + 1) % layers]
            combiner = gateways[l] if own_gateway else nxt
            if sequential:
                # gateway -> e_1 -> ... -> e_k -> combiner: every leg and every expert in series.
                at, src = time.copy(), np.full(requests, gateways[l])
                for j in range(top_k):
                    sats[:, j] = expert_sats(l, chosen[:, j], at)  # each leg picks its copy when sent
                    w, se, pr, ok = message(at, src, sats[:, j])
                    alive &= ok
                    at = np.where(alive, at + w + se + pr + work[:, j], 0)
                    comp += work[:, j]
                    serial, prop, held = serial + se, prop + pr, held + w
                    src = sats[:, j]
                w, se, pr, ok = message(at, src, np.full(requests, combiner))
                alive &= ok
                time = np.where(alive, at + w + se + pr, 0)
                serial, prop, held = serial + se, prop + pr, held + w
            else:
                send = np.repeat(time[:, None], top_k, axis=1)
                # The k dispatches share their source: one shortest-path tree from the gateway.
                out_wait, out_serial, out_prop, out_ok = message(send, np.full_like(sats, gateways[l]), sats,
                                                                 root_at_source=True)
                arrived = np.where(out_ok, send + out_wait + out_serial + out_prop, 0)
                done, own_start = _queue_on_shared_satellites(arrived, sats, work)
                done = np.where(out_ok, done, 0)
                back_wait, back_serial, back_prop, back_ok = message(done, sats, np.full_like(sats, combiner))
                arrive = done + back_wait + back_serial + back_prop
                alive &= (out_ok & back_ok).all(axis=1)
                critical = np.argmax(np.where(out_ok & back_ok, arrive, -1), axis=1)  # first slot on ties
                time = np.where(alive, arrive[rows, critical], 0)
                # An expert that waited for another on its satellite: its path runs through that one.
                work, out_serial, out_prop, out_wait = _through_queue(own_start, work, out_serial, out_prop,
                                                                     out_wait)
                if direct(l + 1):
                    # The next layer's shards get the k outputs straight from the experts.
                    base = (work, out_serial, out_prop, out_wait)
                    via_gateway = tuple(b[rows, critical] + x[rows, critical] for b, x in
                                        zip(base, (np.zeros_like(work), back_serial, back_prop, back_wait)))
                    end, parts, alive = direct_attention(l + 1, time, done, sats, base, via_gateway, alive)
                    combine[alive, t, l] = time[alive]
                    time = np.where(alive, end, 0)
                    comp, serial, prop, held = comp + parts[0], serial + parts[1], prop + parts[2], held + parts[3]
                    continue
                comp += work[rows, critical]
                serial += out_serial[rows, critical] + back_serial[rows, critical]
                prop += out_prop[rows, critical] + back_prop[rows, critical]
                held += out_wait[rows, critical] + back_wait[rows, critical]
            if combiner != nxt:
                # Combined at the own gateway: one more message, on to the next layer's gateway.
                w, se, pr, ok = message(time, np.full(requests, gateways[l]), np.full(requests, nxt))
                alive &= ok
                time = np.where(alive, time + w + se + pr, 0)
                serial, prop, held = serial + se, prop + pr, held + w
            combine[alive, t, l] = time[alive]
            if l + 1 < layers:
                end, c, se, pr, w, alive = attention(l + 1, time, alive)
                time = np.where(alive, end, 0)
                comp, serial, prop, held = comp + c, serial + se, prop + pr, held + w
        time = time + lm_head_ns
        comp += lm_head_ns
        token_end[alive, t] = time[alive]
        compute_part[alive, t] = comp[alive]
        serial_part[alive, t] = serial[alive]
        prop_part[alive, t] = prop[alive]
        wait_part[alive, t] = held[alive]
        current = np.where(alive, time, current)

    done = token_end >= 0
    assert (compute_part + serial_part + prop_part + wait_part == token_end - token_start)[done].all(), \
        "the critical-path decomposition does not add up to the latency"

    if stop_ns is not None:
        late_end = done & (token_end > stop_ns)
        for arr in (token_start, token_end, combine):
            arr[arr > stop_ns] = -1
        for arr in (compute_part, serial_part, prop_part, wait_part):
            arr[late_end] = -1
    return AnalyticResult(token_start_ns=token_start, token_end_ns=token_end, combine_ns=combine,
                          compute_ns=compute_part, serialization_ns=serial_part, propagation_ns=prop_part,
                          wait_ns=wait_part)
