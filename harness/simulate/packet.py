"""The packet simulation: one ns-3 run of a placed model over the time-varying ISL network.

Python hands ns-3 whole arrays (links, per-snapshot delays and next-hop tables, the placement, the
activation trace, compute times) and reads whole arrays back; every packet, hop, queue and compute
job is handled in C++ (ns3_modules/space-xnet). Inputs are validated here, because an ns-3 fatal
error would kill the process.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional

import numpy as np

from harness.network.routes import PathQuery, Routes
from harness.network.spill import WINDOW, is_spilled, release
from harness.scenario import FaultSpec, LinkSpec
from harness.simulate.inputs import PowerInput, RecoveryInput, ServingInput, SimulationInput
from harness.workload.compute import ComputeTimes, KvReads, shard_compute_ns, shard_exact_ns
from harness.network.topology import Topology

if TYPE_CHECKING:
    from harness.network.ground.users import UserLinks

log = logging.getLogger(__name__)


#: SatellitePower's per-snapshot records, in its Record order: name -> unit.
POWER_RECORDS = (("energy_end_j", "J"), ("solar_in_j", "J"), ("load_out_j", "J"), ("compute_busy_j", "J"),
                 ("busy_s", "s"), ("throttled_s", "s"), ("below_reserve_s", "s"), ("spilled_j", "J"),
                 ("unserved_j", "J"), ("energy_min_j", "J"))


@dataclass(frozen=True)
class PowerRecords:
    """What every satellite's battery did (ns3 SatellitePower), read back as arrays.

    Each of :data:`POWER_RECORDS` is ``[S, N]`` over snapshot s's interval [t_s, t_s+1), the last
    one and any cut by the run's end ending at ``end_ns``; snapshots starting at or after ``end_ns``
    hold zeros. ``energy_end_j`` is the energy stored at the end of the interval.
    """

    records: dict            # name -> [S, N] float64
    initial_j: float         # every battery at t = 0
    min_energy_j: np.ndarray  # [N] the lowest each battery held
    protected_jobs: np.ndarray  # [N] jobs admitted below the reserve (throttled or held)
    end_ns: int              # the run's end: the batteries are integrated up to it
    step_times_ns: np.ndarray  # [S]

    @property
    def final_j(self) -> np.ndarray:
        """[N] each battery at the run's end (energy_end_j of the last snapshot that started before it)."""
        last = max(0, int(np.searchsorted(self.step_times_ns, self.end_ns, side="left")) - 1)
        return self.records["energy_end_j"][last]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.records[name]


@dataclass(frozen=True)
class PacketSimResult:
    """What ns-3 recorded. Times are ns of simulated time; -1 where a token never got there."""

    token_start_ns: np.ndarray  # [R, T] int64
    token_end_ns: np.ndarray    # [R, T] int64
    combine_ns: np.ndarray      # [R, T, L] int64: all k outputs of layer l reached gateway l+1 (mod L)
    packets_sent: int
    packets_received: int
    packets_dropped_no_route: int
    packets_dropped_queue: int
    packets_dropped_link_down: int
    packets_dropped_ttl: int  # paths longer than the IPv4 TTL (255 hops)
    packets_held_no_route: int  # held where they had no route (routing.no_route: wait)
    held_no_route_ns: int       # the time they waited, summed
    packet_hops: int  # packet transmissions over all links: the engine's unit of work
    routing_nodes_settled: int  # nodes settled by the on-demand shortest-path trees (0 with tables)
    run_wall_s: float  # wall time spent in Simulator::Run (setup excluded)
    retransmissions: np.ndarray = None  # [R, T] int64 messages resent on behalf of each token
    failures: np.ndarray = None         # [R, 6] int64 per request: code, token, layer, expert, kind, time ns
    duplicates: int = 0                 # messages received whole more than once (needless retransmissions)
    busy_ns: np.ndarray = None          # [N] compute time of the jobs each satellite finished
    prompt_arrival_ns: np.ndarray = None  # [R] with users: the prompt whole at layer 0's gateway (-1: never)
    user_token_ns: np.ndarray = None      # [R, T] with users: each output token whole at its user (-1: never)
    power: Optional[PowerRecords] = None  # with a power model: what every satellite's battery did
    kv_arrival_ns: np.ndarray = None      # [R, L + 1] disaggregated: each layer's KV cache (column L: the
    kv_bytes: np.ndarray = None           # first token) whole at the decode replica, and its packets' bytes
    queued_ns: np.ndarray = None          # [R] waited at layer 0's gateway for KV-cache memory (-1: never started)
    prompts_retransmitted: int = 0        # with users and retransmission: prompts resent up to layer 0's gateway
    output_tokens_retransmitted: int = 0  # and output tokens resent down to their users
    messages_rerouted: int = 0            # expert copies: messages sent to a surviving copy instead of a dark one
    recovery: np.ndarray = None           # [R, 8] with faults.recovery: RECOVERY_FIELDS per request
    replacements: np.ndarray = None       # [J, 4] re-placements: detected ns, weights whole ns, packets, bytes
    weight_packets: int = 0               # packets of weights sent to spares (re-placement)
    run_cpu_s: float = 0.0                # CPU time of this process in Simulator::Run (on a shared machine: steadier)
    # snapshots of spilled link delays the topology updater held at most between two releases
    # (harness/network/spill.py; 0 when they were in memory): a window, not the run
    delay_steps_held: int = 0

    @property
    def latency_ns(self) -> np.ndarray:
        """[R, T] int64 per-token latency, -1 for tokens that did not complete."""
        done = (self.token_end_ns >= 0) & (self.token_start_ns >= 0)
        return np.where(done, self.token_end_ns - self.token_start_ns, -1)


#: Fields of a request's failure record (MoeTrafficRecorder's FAILURES) and its codes; NO_REPLICA
#: and REPLACED_TWICE are MoeFailover's (faults.recovery).
FAILURE_FIELDS = 6
MESSAGE_LOST, COMPONENT_LOST, NO_REPLICA, REPLACED_TWICE = 1, 2, 3, 4
#: MoeFailover's record of a request (faults.recovery), in its order.
RECOVERY_FIELDS = ("replica", "slot", "failovers", "replacements", "lost_ns", "attempt_ns", "code", "fail_ns")


def token_outcomes(result: PacketSimResult, gateways: np.ndarray, experts: np.ndarray,
                   retransmission: bool, stop_ns: int, *, shards: Optional[np.ndarray] = None,
                   replicas: Optional[np.ndarray] = None) -> tuple[np.ndarray, np.ndarray]:
    """``[R, T]`` status and reason of every token, as words (no commas: they go into tokens.csv).

    status is ``completed``; ``failed`` (the first unfinished token of a failed request; the reason
    says which message was lost or which satellite's component was needed); ``cancelled`` (later
    tokens of a failed request, never started); or ``unfinished`` (neither ended nor failed by the
    horizon: without retransmission a lost packet stalls its request like this). With users on the
    ground (``result.user_token_ns``) a token is completed when it reached its user. ``shards``
    ``[L, H]`` and ``replicas`` ``[L, E, R]`` name the satellites of helper shards and expert copies.
    """
    requests, tokens = result.token_end_ns.shape
    ended = result.token_end_ns if result.user_token_ns is None else result.user_token_ns
    status = np.full((requests, tokens), "completed", dtype=object)
    reason = np.full((requests, tokens), "", dtype=object)
    for r in range(requests):
        code, token, layer, expert, kind, at_ns = (int(v) for v in result.failures[r])
        open_tokens = np.flatnonzero(ended[r] < 0)
        if len(open_tokens) == 0:
            continue
        first = int(open_tokens[0])
        if code == 0:
            status[r, open_tokens] = "unfinished"
            reason[r, open_tokens] = (f"not ended by the {stop_ns / 1e9:g} s horizon" if retransmission else
                                      f"not ended by the {stop_ns / 1e9:g} s horizon; without retransmission "
                                      f"a lost packet stalls its request")
            continue
        if code in (NO_REPLICA, REPLACED_TWICE):
            text = (f"its replica broke at {at_ns / 1e9:.6f} s and no other replica was left to fail over to "
                    f"(each broken or already tried)" if code == NO_REPLICA else
                    f"abandoned by re-placements more often than the restarts allowed (the last at "
                    f"{at_ns / 1e9:.6f} s)")
        elif code == MESSAGE_LOST:
            what = _message_words(kind, layer, expert, token, gateways, experts, shards, replicas)
            text = f"message lost after all retries at {at_ns / 1e9:.6f} s: {what}"
        else:
            component, sat = _component_words(kind, layer, expert, gateways, experts, shards, replicas)
            text = f"satellite {sat} failed: lost the {component} at {at_ns / 1e9:.6f} s"
        status[r, first] = "failed"
        reason[r, first] = text
        status[r, open_tokens[1:]] = "cancelled"
        reason[r, open_tokens[1:]] = f"request failed at token {first}"
    return status, reason


#: MoeTokenHeader kinds of the messages a failure record can name (ns3_modules/space-xnet/model/moe-token-header.h).
HIDDEN_STATE, EXPERT_OUTPUT, COMBINED_STATE, SHARD_SCATTER, SHARD_GATHER, SHARD_INPUT, PROMPT, OUTPUT_TOKEN = (
    0, 1, 3, 4, 5, 6, 7, 8)


def _expert_sat(layer: int, expert: int, experts: np.ndarray, replicas: Optional[np.ndarray]) -> str:
    """Where expert (layer, expert) is, and its copies if it has any."""
    copies = [] if replicas is None else [int(c) for c in np.asarray(replicas)[layer, expert] if c >= 0]
    return f"sat {experts[layer, expert]}" + (f" or a copy on sats {'/'.join(map(str, copies))}" if copies else "")


def _message_words(kind: int, layer: int, expert: int, token: int, gateways, experts, shards, replicas) -> str:
    """The message a MESSAGE_LOST record names, in words."""
    nxt = (layer + 1) % len(gateways)
    if kind == HIDDEN_STATE:
        return (f"hidden state of layer {layer} to expert {expert} (sat {gateways[layer]} -> "
                f"{_expert_sat(layer, expert, experts, replicas)})")
    if kind == EXPERT_OUTPUT:
        return (f"output of expert {expert} of layer {layer} to the gateway of layer {nxt} "
                f"({_expert_sat(layer, expert, experts, replicas)} -> sat {gateways[nxt]})")
    if kind == COMBINED_STATE:
        return f"combined state of layer {layer} to the gateway of layer {nxt} (sat {gateways[layer]} -> sat {gateways[nxt]})"
    shard_sat = "?" if shards is None else int(np.asarray(shards)[layer, expert])
    if kind == SHARD_SCATTER:
        return f"hidden state of layer {layer} to its attention shard {expert} (sat {gateways[layer]} -> sat {shard_sat})"
    if kind == SHARD_GATHER:
        return f"partial attention of shard {expert} of layer {layer} to its gateway (sat {shard_sat} -> sat {gateways[layer]})"
    if kind == SHARD_INPUT:
        return f"output of expert {expert} of layer {layer} to an attention shard of layer {nxt}"
    if kind == PROMPT:
        return f"prompt up from its user to the gateway of layer 0 (sat {gateways[0]})"
    if kind == OUTPUT_TOKEN:
        return f"output token {token} down from the gateway of layer 0 (sat {gateways[0]}) to its user"
    return f"message of kind {kind} of layer {layer}"


def _component_words(kind: int, layer: int, expert: int, gateways, experts, shards, replicas) -> tuple[str, int]:
    """(the lost component in words, its satellite) of a COMPONENT_LOST record (kind: its MoeRole;
    an expert's copy r >= 1 is recorded as expert + r x E)."""
    if kind == 0:
        return f"gateway of layer {layer}", int(gateways[layer])
    if kind == 2:
        return (f"attention shard {expert} of layer {layer} (its tensor-parallel group cannot finish the layer)",
                int(np.asarray(shards)[layer, expert]) if shards is not None else -1)
    num_experts = experts.shape[1]
    copy, expert = divmod(expert, num_experts)
    copies = 0 if replicas is None else np.asarray(replicas).shape[2]
    if copies and copy == copies + 1:  # every copy dark when a message had to go to one
        every = " and every copy of it" if (np.asarray(replicas)[layer, expert] >= 0).any() else ""
        return f"expert {expert} of layer {layer}{every}", int(experts[layer, expert])
    if copy > 0:
        return (f"copy {copy} of expert {expert} of layer {layer} with the token's work on it",
                int(np.asarray(replicas)[layer, expert, copy - 1]))
    if copies:
        return f"expert {expert} of layer {layer} with the token's work on it", int(experts[layer, expert])
    return f"expert {expert} of layer {layer}", int(experts[layer, expert])


def _check_shards(shards: np.ndarray, gateways: np.ndarray, num_nodes: int) -> None:
    """Shards [L, H]: each layer's helpers first (then -1), distinct, not its own gateway, in range."""
    shards = np.asarray(shards)
    if shards.ndim != 2 or shards.shape[0] != len(gateways):
        raise ValueError(f"shards must be [L, H] with L = {len(gateways)}")
    used = shards >= 0
    if (np.diff(used.astype(np.int8), axis=1) > 0).any() or (shards < -1).any():
        raise ValueError("a layer's helper shards must be satellite ids first, then -1")
    if (shards[used] >= num_nodes).any():
        raise ValueError("a shard names a satellite that does not exist")
    for layer in range(len(gateways)):
        helpers = shards[layer][used[layer]]
        if len(np.unique(helpers)) != len(helpers) or (helpers == gateways[layer]).any():
            raise ValueError(f"layer {layer}'s shards repeat a satellite or include its own gateway")


def check_destinations(routes, gateways: np.ndarray, experts: np.ndarray, shards: np.ndarray | None,
                       replicas: np.ndarray | None) -> None:
    """ValueError unless dense ``routes`` (a :class:`Routes`) cover every satellite a message can go
    to: every component, helper shard and expert copy (a PathQuery covers every satellite)."""
    if not isinstance(routes, Routes):
        return
    targets = [np.asarray(gateways).ravel(), np.asarray(experts).ravel()]
    for extra in (shards, replicas):
        if extra is not None:
            extra = np.asarray(extra).ravel()
            targets.append(extra[extra >= 0])
    if not np.isin(np.concatenate(targets), routes.destinations).all():
        raise ValueError("routes do not cover every component, shard and expert copy as a destination")


def _c_array(values: np.ndarray, dtype: type) -> np.ndarray:
    """cppyy passes only C-contiguous arrays of the exact dtype as pointers."""
    return np.ascontiguousarray(values, dtype=dtype)


def run_packet_sim(inp: SimulationInput, *, seed: int, stop_ns: int,
                   progress: Optional[Callable[[int, int], None]] = None, faults: Optional[FaultSpec] = None,
                   satellite_fail_ns: Optional[np.ndarray] = None,
                   serving: Optional[ServingInput] = None, power: Optional[PowerInput] = None,
                   recovery: Optional[RecoveryInput] = None) -> PacketSimResult:
    """Simulate the token traffic of one placement (``inp``) until every token ends or ``stop_ns``.

    ``progress(now_ns, tokens_completed)`` is called between chunks of simulated time (one
    snapshot interval each); the run stops early once every token has ended or failed.
    ``faults`` sets the retransmission timeout and retries; ``satellite_fail_ns`` is ``[N]`` the
    instant each satellite goes dark (-1: never), whose components then fail the tokens that need
    them. ``serving`` (:class:`ServingInput`): model replicas, prefill, batching, output lengths and
    users on the ground; requests of user -1 are not simulated (their records stay -1). ``power``
    (:class:`PowerInput`): every satellite gets a battery (ns3 SatellitePower) that its compute
    queue consults for every job; the result's ``power`` holds its records. ``recovery``
    (:class:`RecoveryInput`, two or more replicas): fail-over or re-placement (ns3 MoeFailover); every
    replica's plan then holds every request (1 + ``max_restarts`` times with re-placement), and each request's records are
    those of the replica and attempt it ended on.

    ns-3 gets the FLOPs side (``inp.compute``) and the memory side (``inp.memory``) apart: a batch
    or a prefill of n tokens takes max(n x compute, memory), not n x max(compute, memory).
    """
    topology, routes, links, gateways, experts = inp.topology, inp.routes, inp.links, inp.gateways, inp.experts
    activations, compute, memory = inp.activations, inp.compute, inp.memory
    request_starts_ns, message_bytes = inp.request_starts_ns, inp.message_bytes
    no_route, combine, dispatch = inp.no_route, inp.combine, inp.dispatch
    shards, replicas, replica_choice = inp.shards, inp.replicas, inp.replica_choice
    serving = ServingInput() if serving is None else serving
    replica_gateways, replica_experts, replica_of = serving.replica_gateways, serving.replica_experts, serving.replica_of
    prompt_tokens, prefill_counts, max_batch = serving.prompt_tokens, serving.prefill_counts, serving.max_batch
    output_tokens, replica_extras, users = serving.output_tokens, serving.replica_extras, serving.users
    chunks, decode_of = serving.chunks, serving.decode_of
    num_layers, num_experts = experts.shape
    requests, tokens, layers, top_k = activations.shape
    _check_inputs(topology, routes, gateways, experts, activations, request_starts_ns, num_layers, layers)
    if users is not None and (np.shape(users.user_of) != (requests,) or np.max(users.user_of) >= len(users.nodes)):
        raise ValueError("users.user_of must give every request a user in [-1, users)")
    if replica_gateways is not None:
        for rep in range(len(replica_gateways)):
            _check_inputs(topology, routes, replica_gateways[rep], replica_experts[rep], activations,
                          request_starts_ns, num_layers, layers)
        if replica_of is None or replica_of.shape != (requests,) or not (
                (0 <= replica_of) & (replica_of < len(replica_gateways))).all():
            raise ValueError("replica_of must give every request a replica in [0, replicas)")
    if output_tokens is not None and (np.shape(output_tokens) != (requests,) or np.min(output_tokens) < 1
                                      or np.max(output_tokens) > tokens):
        raise ValueError(f"output_tokens must give every request a count in [1, {tokens}]")
    if replica_extras is None:
        replica_extras = [(shards, replicas, replica_choice)] + [(None, None, None)] * (
            0 if replica_gateways is None else len(replica_gateways) - 1)
    if replica_gateways is not None and len(replica_extras) != len(replica_gateways):
        raise ValueError("replica_extras must give every model replica its (shards, copies, choice)")
    held = []  # each model replica's satellites (packed strategies may put two components on one)
    for rep, extra in enumerate(replica_extras):
        rep_gateways = gateways if replica_gateways is None else replica_gateways[rep]
        rep_experts = experts if replica_experts is None else replica_experts[rep]
        _check_extras(topology, routes, rep_gateways, rep_experts, *extra)
        parts = [np.ravel(rep_gateways), np.ravel(rep_experts)] + [np.ravel(x)[np.ravel(x) >= 0]
                                                                  for x in extra[:2] if x is not None]
        held.append(np.unique(np.concatenate(parts)))
    every = np.concatenate(held)
    if len(np.unique(every)) != len(every):
        raise ValueError("two replicas share a satellite")

    from harness.cxx.runtime import load

    ns3 = load()
    ns3.RngSeedManager.SetSeed(1)
    ns3.RngSeedManager.SetRun(seed + 1)
    ns3.RngSeedManager.ResetNextStreamIndex()  # Simulator::Destroy does not reset the streams

    steps = topology.num_snapshots
    nodes, network, updater, table = build_network(ns3, topology, routes, links, hold=no_route == "wait")
    # What the steps before read of spilled per-snapshot state (harness/network/spill.py) is let go:
    # from here the engine holds a window of snapshots of it.
    release(topology.delay_ns, topology.up, topology.feasible)
    active = np.ones(requests, dtype=bool) if users is None else np.asarray(users.user_of) >= 0
    if users is not None and topology.num_links > users.first_gsl:
        network.SetLinkDataRate(users.first_gsl, topology.num_links - users.first_gsl,
                                ns3.DataRate(f"{int(users.gsl_rate_bps)}bps"))
    step_times_ns = _c_array(np.round(topology.times_s * 1e9), np.int64)
    power_helper = None
    if power is not None:  # before the plans: their compute queues look for the node's SatellitePower
        power_helper = _install_power(ns3, nodes, power, step_times_ns)

    # One plan per model replica (its requests, re-indexed), all in the same network: replicas sit
    # on disjoint satellites, so each one's applications only ever talk to each other.
    if replica_of is None:
        replica_of = np.zeros(requests, dtype=np.int32)
        replica_gateways, replica_experts = gateways[None], experts[None]
    recorders = []
    made = {}  # disaggregated serving: replica -> (idx, plan, helper)
    failover = None if recovery is None else _make_failover(ns3, recovery, links, len(replica_gateways),
                                                            replica_of, users, decode_of)
    for rep in range(len(replica_gateways)):
        decoding = decode_of is not None and (decode_of == rep).any()
        idx = np.flatnonzero(((decode_of == rep) if decoding else (replica_of == rep)) & active)
        if failover is not None:  # every request has a slot (two with re-placement) on every replica
            idx = np.tile(np.arange(requests), 1 if recovery.policy == "failover" else 1 + recovery.max_restarts)
        if not len(idx):
            continue
        outputs = None if output_tokens is None else output_tokens[idx]
        if decode_of is not None and not decoding:
            outputs = np.ones(len(idx), dtype=np.int32)  # a prefill replica runs token 0 only
        keep = [] if decode_of is not None or failover is not None else None
        recorders.append((idx, _make_plan(ns3, nodes, links, replica_gateways[rep], replica_experts[rep],
                                          activations[idx], compute, request_starts_ns[idx], message_bytes,
                                          combine, dispatch, faults, satellite_fail_ns,
                                          None if prompt_tokens is None or decoding else prompt_tokens[idx],
                                          None if prefill_counts is None or decoding else prefill_counts[idx],
                                          memory, max_batch, outputs,
                                          *replica_extras[rep], step_times_ns, steps,
                                          users=users, idx=idx, replica=rep,
                                          chunks=None if chunks is None or decoding else
                                          (chunks[0][idx], chunks[1][idx]), keep=keep,
                                          kv_budget=0 if serving.kv_budgets is None else
                                          int(serving.kv_budgets[rep]),
                                          kv=inp.kv if memory is not None else None,
                                          kv_prompt=None if prompt_tokens is None else prompt_tokens[idx],
                                          failover=None if failover is None else (failover, rep),
                                          spares=_spares_of(recovery, rep))))
        if failover is not None:
            held_sats = np.concatenate([np.ravel(replica_gateways[rep]), np.ravel(replica_experts[rep])])
            fails = np.asarray(satellite_fail_ns)[held_sats] if satellite_fail_ns is not None else np.array([-1])
            first = int(fails[fails >= 0].min()) if (fails >= 0).any() else -1
            failover.SetReplica(rep, keep[0], keep[1].GetStatus(), keep[1].GetDirectory(), first)
        if keep is not None:
            made[rep] = (idx, *keep)
            if decoding:
                keep[0].SetKvSources(_c_array(np.ones(len(idx)), np.int32), len(idx))
    if decode_of is not None:
        _connect_kv(ns3, made, replica_of, decode_of, layers, serving.kv_bytes_per_token)
    if failover is not None:
        for row in ([] if recovery.replacements is None else np.asarray(recovery.replacements).tolist()):
            rep_, role, layer, index, fail_ns, source, spare, size = (int(v) for v in row)
            failover.AddReplacement(rep_, role, layer, index, fail_ns, nodes.Get(source), nodes.Get(spare),
                                    ns3.IslNetworkHelper.GetNodeAddress(nodes.Get(spare)), size)
        failover.Start()

    # Run in chunks of one snapshot interval: to report progress and to stop as soon as every token
    # has ended (the topology updater's events would otherwise run on to the horizon). The chunk
    # boundaries only add stop events, so the packets' event order, and the records, do not change.
    chunk_ns = int(step_times_ns[1]) if steps > 1 else int(stop_ns)
    total_tokens = requests * tokens if output_tokens is None else int(np.sum(output_tokens))
    if users is not None:
        total_tokens = int(np.sum((output_tokens if output_tokens is not None else np.full(requests, tokens))[active]))
    now_ns = 0
    clock, cpu = time.perf_counter(), time.process_time()
    def resolved() -> int:
        if failover is not None:  # whole requests: a request that moved counts once
            return int(failover.GetResolved()) * total_tokens // max(requests, 1)
        return sum(int(recorder.GetTokensResolved()) for _, recorder in recorders)

    while now_ns < stop_ns and resolved() < total_tokens:
        now_ns = min(now_ns + chunk_ns, int(stop_ns))
        ns3.Simulator.Stop(ns3.NanoSeconds(now_ns) - ns3.Simulator.Now())
        ns3.Simulator.Run()
        if progress is not None:
            progress(now_ns, resolved())
    run_wall_s = time.perf_counter() - clock
    run_cpu_s = time.process_time() - cpu
    power_records = None if power_helper is None else _read_power(ns3, power_helper, power, step_times_ns)

    # Requests no plan simulated (users in a coverage gap) keep -1 records and no failure.
    start = np.full((requests, tokens), -1, dtype=np.int64)
    end = np.full((requests, tokens), -1, dtype=np.int64)
    combine = np.full((requests, tokens, layers), -1, dtype=np.int64)
    retransmissions = np.zeros((requests, tokens), dtype=np.int64)
    failures = np.full((requests, FAILURE_FIELDS), -1, dtype=np.int64)
    failures[:, 0] = 0
    prompt_arrival = user_token = None
    if users is not None:
        prompt_arrival = np.full(requests, -1, dtype=np.int64)
        user_token = np.full((requests, tokens), -1, dtype=np.int64)
    record = ns3.MoeTrafficRecorder
    kv_arrival = kv_bytes = None
    queued = np.full(requests, -1, dtype=np.int64)
    if decode_of is not None:
        kv_arrival = np.full((requests, layers + 1), -1, dtype=np.int64)
        kv_bytes = np.zeros((requests, layers + 1), dtype=np.int64)
    recovered = None
    for rep_index, (idx, recorder) in enumerate(recorders):
        pairs = ((record.TOKEN_START, start), (record.TOKEN_END, end), (record.COMBINE, combine),
                 (record.RETRANSMISSIONS, retransmissions), (record.FAILURES, failures), (record.QUEUED, queued))
        if users is not None:
            pairs += ((record.PROMPT_ARRIVAL, prompt_arrival), (record.USER_TOKEN, user_token))
        if decode_of is not None:
            pairs += ((record.KV_ARRIVAL, kv_arrival), (record.KV_BYTES, kv_bytes))
        if failover is not None:  # each request's records are those of the replica and slot it ended on
            if recovered is None:
                recovered = np.empty((requests, len(RECOVERY_FIELDS)), dtype=np.int64)
                failover.Copy(recovered, recovered.size)
            mine = np.flatnonzero(recovered[:, 0] == rep_index)
            for which, out in pairs:
                part = np.empty((len(idx),) + out.shape[1:], dtype=np.int64)
                recorder.Copy(which, part, part.size)
                out[mine] = part[recovered[mine, 1]]
            continue
        for which, out in pairs:
            part = np.empty((len(idx),) + out.shape[1:], dtype=np.int64)
            recorder.Copy(which, part, part.size)
            # A request is in one plan, or (disaggregated) in a prefill and a decode plan whose
            # records it does not share: each holds -1 (0 for counts) where the other ran.
            out[idx] = part if decode_of is None else np.maximum(out[idx], part)
    replacements, weight_packets = None, 0
    if failover is not None:
        gone = np.flatnonzero(recovered[:, 6] > 0)  # failed for good: no replica left, or abandoned twice
        failures[gone] = np.stack([recovered[gone, 6], np.zeros(len(gone), np.int64),
                                   *(np.full(len(gone), -1, np.int64),) * 3, recovered[gone, 7]], axis=1)
        jobs = 0 if recovery.replacements is None else len(recovery.replacements)
        replacements = np.empty((jobs, 4), dtype=np.int64)
        if jobs:
            failover.CopyReplacements(replacements, replacements.size)
        weight_packets = int(failover.GetWeightPackets())
    result = PacketSimResult(
        token_start_ns=start, token_end_ns=end, combine_ns=combine,
        packets_sent=sum(int(recorder.GetPacketsSent()) for _, recorder in recorders),
        packets_received=sum(int(recorder.GetPacketsReceived()) for _, recorder in recorders),
        packets_dropped_no_route=int(network.GetRoutingDroppedPackets()),
        packets_dropped_queue=int(network.GetQueueDroppedPackets()),
        packets_dropped_link_down=int(updater.GetLinkDownDroppedPackets()),
        packets_dropped_ttl=int(network.GetTtlExpiredPackets()),
        packets_held_no_route=int(network.GetHeldPackets()), held_no_route_ns=int(network.GetHeldNs()),
        packet_hops=int(network.GetPacketHops()),
        routing_nodes_settled=int(table.GetNodesSettled()), run_wall_s=run_wall_s,
        retransmissions=retransmissions, failures=failures,
        duplicates=sum(int(recorder.GetDuplicates()) for _, recorder in recorders),
        busy_ns=_busy(recorders, topology.num_nodes),
        prompt_arrival_ns=prompt_arrival, user_token_ns=user_token, power=power_records,
        kv_arrival_ns=kv_arrival, kv_bytes=kv_bytes,
        queued_ns=np.where(queued >= 0, queued, np.where(start[:, 0] >= 0, 0, -1)),
        prompts_retransmitted=sum(int(recorder.GetPromptRetransmissions()) for _, recorder in recorders),
        output_tokens_retransmitted=sum(int(recorder.GetOutputTokenRetransmissions()) for _, recorder in recorders),
        messages_rerouted=sum(int(recorder.GetReroutes()) for _, recorder in recorders),
        recovery=recovered, replacements=replacements, weight_packets=weight_packets, run_cpu_s=run_cpu_s,
        delay_steps_held=int(updater.GetMaxStepsHeld()))
    ns3.Simulator.Destroy()
    if failover is not None:
        failover.Dispose()  # it and the applications refer to each other
    return result


def _make_failover(ns3, recovery: RecoveryInput, links: LinkSpec, replicas: int, replica_of: np.ndarray,
                   users, decode_of):
    """The MoeFailover of a run with ``faults.recovery``, configured (its replicas come with the plans)."""
    if replicas < 2 or users is not None or decode_of is not None or recovery.policy not in ("failover", "replace"):
        raise ValueError("recovery needs 'failover' or 'replace', two or more replicas, no users and no "
                         "disaggregated serving")
    failover = ns3.CreateObject[ns3.MoeFailover]()
    failover.SetAttribute("Policy", ns3.UintegerValue(1 if recovery.policy == "failover" else 2))
    failover.SetAttribute("DetectionDelay", ns3.TimeValue(ns3.NanoSeconds(int(recovery.detection_ns))))
    failover.SetAttribute("PaceRate", ns3.DataRateValue(ns3.DataRate(f"{int(links.rate_bps)}bps")))
    failover.SetAttribute("SegmentBytes", ns3.UintegerValue(links.segment_payload_bytes))
    failover.SetAttribute("MaxRestarts", ns3.UintegerValue(recovery.max_restarts))
    owner = _c_array(replica_of, np.int32)
    failover.Configure(replicas, len(owner), owner)
    return failover


def _spares_of(recovery: Optional[RecoveryInput], replica: int) -> list:
    """(role, layer, index, spare satellite) of each re-placement of ``replica``."""
    if recovery is None or recovery.replacements is None:
        return []
    rows = np.asarray(recovery.replacements)
    return [(int(r[1]), int(r[2]), int(r[3]), int(r[6])) for r in rows if int(r[0]) == replica]


def _check_extras(topology: Topology, routes, gateways: np.ndarray, experts: np.ndarray,
                  shards: Optional[np.ndarray], replicas: Optional[np.ndarray], replica_choice: Optional[np.ndarray]) -> None:
    """ValueError unless one model replica's tensor-parallel shards and expert copies are consistent."""
    num_layers, num_experts = experts.shape
    if shards is not None:
        _check_shards(shards, gateways, topology.num_nodes)
    check_destinations(routes, gateways, experts, shards, replicas)
    if replicas is not None:
        replicas = np.asarray(replicas)
        if (replica_choice is None or np.shape(replica_choice) != (topology.num_snapshots, num_layers, num_experts)
                or replicas.ndim != 3 or replicas.shape[:2] != experts.shape or (replicas >= topology.num_nodes).any()
                or np.isin(replicas[replicas >= 0], gateways).any()):
            raise ValueError("replicas must be [L, E, R] satellites (not gateways) with a [S, L, E] replica_choice")
        picked = np.take_along_axis(np.concatenate([experts[:, :, None], replicas], axis=2)[None],
                                    np.asarray(replica_choice)[..., None].astype(np.int64), axis=3)
        if (np.asarray(replica_choice) < 0).any() or (picked < 0).any():
            raise ValueError("replica_choice names a copy that does not exist")


def _install_power(ns3, nodes, power: PowerInput, step_times_ns: np.ndarray):
    """A SatellitePower on every satellite (node 0 .. N-1), with the scenario's power section and
    its column of the sunlit schedule, pushed once as one [S, N] array."""
    p = power.spec
    sunlit = _c_array(power.sunlit, np.uint8)
    steps, satellites = sunlit.shape
    if steps != len(step_times_ns) or satellites > int(nodes.GetN()):
        raise ValueError(f"sunlit must be [snapshots, satellites] = [{len(step_times_ns)}, <= {nodes.GetN()}]")
    helper = ns3.SatellitePowerHelper()
    for name, value in (("SolarPower", p.solar_w), ("BaselinePower", p.baseline_w), ("IdlePower", p.compute_idle_w),
                        ("BusyPower", p.compute_busy_w), ("Capacity", p.capacity_j),
                        ("ChargeEfficiency", p.charge_efficiency), ("DischargeEfficiency", p.discharge_efficiency),
                        ("InitialEnergy", p.initial_soc * p.capacity_j), ("Reserve", p.reserve_j),
                        ("ThrottleFactor", p.throttle_factor)):
        helper.Set(name, ns3.DoubleValue(float(value)))
    helper.Set("Behaviour", ns3.EnumValue["ns3::SatellitePower::Behaviour"](
        ns3.SatellitePower.THROTTLE if p.behaviour == "throttle" else ns3.SatellitePower.REFUSE))
    helper.Install(nodes, satellites, step_times_ns, steps, sunlit, sunlit.size)
    return helper


def _read_power(ns3, helper, power: PowerInput, step_times_ns: np.ndarray) -> PowerRecords:
    """Bring every battery up to now (the run's end) and read their records as [S, N] arrays."""
    end_ns = int(ns3.Simulator.Now().GetNanoSeconds())
    helper.Finish(ns3.NanoSeconds(end_ns))
    steps, satellites = power.sunlit.shape
    records = {}
    for which, (name, _) in enumerate(POWER_RECORDS):
        out = np.empty((steps, satellites), dtype=np.float64)
        helper.Copy(which, out, out.size)
        records[name] = out
    low = np.empty(satellites, dtype=np.float64)
    helper.CopyMinEnergy(low, satellites)
    protected = np.empty(satellites, dtype=np.int64)
    helper.CopyProtectedJobs(protected, satellites)
    return PowerRecords(records=records, initial_j=power.spec.initial_soc * power.spec.capacity_j,
                        min_energy_j=low, protected_jobs=protected, end_ns=end_ns,
                        step_times_ns=np.asarray(step_times_ns, dtype=np.int64).copy())


def _busy(recorders: list, num_nodes: int) -> np.ndarray:
    """[N] compute time the satellites spent on finished jobs, over every replica's recorder."""
    busy = np.zeros(num_nodes, dtype=np.int64)
    for _, recorder in recorders:
        part = np.empty(num_nodes, dtype=np.int64)
        recorder.CopyBusy(part, num_nodes)
        busy += part
    return busy


def _make_plan(ns3, nodes, links: LinkSpec, gateways: np.ndarray, experts: np.ndarray, activations: np.ndarray,
               compute: ComputeTimes, request_starts_ns: np.ndarray, message_bytes: int, combine: str,
               dispatch: str, faults: Optional[FaultSpec], satellite_fail_ns: Optional[np.ndarray],
               prompt_tokens: Optional[np.ndarray], prefill_counts: Optional[np.ndarray],
               memory: Optional[ComputeTimes] = None, max_batch: int = 1,
               output_tokens: Optional[np.ndarray] = None, shards: Optional[np.ndarray] = None,
               replicas: Optional[np.ndarray] = None, replica_choice: Optional[np.ndarray] = None,
               step_times_ns=None, steps: int = 1, users: Optional[UserLinks] = None,
               idx: Optional[np.ndarray] = None, replica: int = 0, chunks: Optional[tuple] = None,
               keep: Optional[list] = None, kv_budget: int = 0, kv: Optional[KvReads] = None,
               kv_prompt: Optional[np.ndarray] = None, failover=None, spares: list = ()):
    """One model copy's MoeTrafficPlan, filled, with its applications installed on ``nodes``: returns
    the copy's MoeTrafficRecorder, which the applications' traces feed; with
    ``users``, the users of its requests ``idx`` too (on a port of the replica's own: every replica
    has an application on each ground node)."""
    requests, tokens, layers, top_k = activations.shape
    num_experts = experts.shape[1]
    plan = ns3.CreateObject[ns3.MoeTrafficPlan]()
    plan.SetAttribute("MessageBytes", ns3.UintegerValue(message_bytes))
    plan.SetAttribute("SegmentBytes", ns3.UintegerValue(links.segment_payload_bytes))
    if combine == "own-gateway":
        plan.SetAttribute("CombineAtOwnGateway", ns3.BooleanValue(True))
    if dispatch == "sequential":
        plan.SetAttribute("SequentialDispatch", ns3.BooleanValue(True))
    if faults is not None and faults.retransmit_timeout_ms is not None:
        plan.SetAttribute("RetransmitTimeout",
                          ns3.TimeValue(ns3.NanoSeconds(int(round(faults.retransmit_timeout_ms * 1e6)))))
        plan.SetAttribute("MaxRetries", ns3.UintegerValue(faults.max_retries))
    plan.Configure(layers, num_experts, top_k, requests, tokens)
    act = _c_array(activations, np.int32)
    plan.SetActivations(act, act.size)
    expert_ns = _c_array(compute.expert_ns, np.int64)
    plan.SetComputeTimes(_c_array(compute.gateway_ns, np.int64), expert_ns, expert_ns.size,
                         int(compute.lm_head_ns))
    plan.SetRequestStarts(_c_array(request_starts_ns, np.int64), requests)
    if output_tokens is not None:
        plan.SetRequestTokens(_c_array(output_tokens, np.int32), requests)
    if max_batch > 1:
        plan.SetAttribute("MaxBatch", ns3.UintegerValue(max_batch))
    if memory is not None:
        memory_expert_ns = _c_array(memory.expert_ns, np.int64)
        plan.SetMemoryTimes(_c_array(memory.gateway_ns, np.int64), memory_expert_ns, memory_expert_ns.size,
                            int(memory.lm_head_ns))
        if compute.exact is not None:  # the roofline's n-token jobs: round(n x FLOPs / rate) once
            exact_expert = _c_array(compute.exact[1], np.float64)
            plan.SetExactComputeTimes(_c_array(compute.exact[0], np.float64), exact_expert, exact_expert.size,
                                      float(compute.exact[2]))
    if prefill_counts is not None:
        counts = _c_array(prefill_counts, np.int32)
        plan.SetPrefill(counts, counts.size, _c_array(prompt_tokens, np.int32), requests)
        if chunks is not None:  # chunked prefill: each chunk a pass of its own
            chunk_counts = _c_array(chunks[0], np.int32)
            plan.SetChunks(chunk_counts, chunk_counts.size, _c_array(chunks[1], np.int32), requests,
                           chunks[1].shape[1])
    if satellite_fail_ns is not None and (np.asarray(satellite_fail_ns) >= 0).any():
        fail_ns = np.asarray(satellite_fail_ns, dtype=np.int64)
        expert_fail = _c_array(fail_ns[experts], np.int64)
        plan.SetFailureTimes(_c_array(fail_ns[gateways], np.int64), expert_fail, expert_fail.size)
    if users is not None:
        plan.SetAttribute("Port", ns3.UintegerValue(5000 + replica))
        plan.SetAttribute("TokenBytes", ns3.UintegerValue(users.token_bytes))
        plan.SetUsers(_c_array(np.asarray(users.user_of)[idx], np.int32), requests, len(users.nodes))
    if shards is not None:
        helpers = _c_array((np.asarray(shards) >= 0).sum(axis=1), np.int32)
        plan.SetShards(helpers, _c_array(shard_compute_ns(compute.gateway_ns, helpers, compute.heads), np.int64),
                       layers)
        if memory is not None:  # a shard reads its ceil(heads / m) / heads of the gateway's weights
            exact = (shard_exact_ns(compute.exact[0], helpers, compute.heads) if compute.exact is not None
                     else np.full(layers, -1.0))
            plan.SetShardRoofline(_c_array(shard_compute_ns(memory.gateway_ns, helpers, compute.heads), np.int64),
                                  _c_array(exact, np.float64), layers)
    if kv is not None:  # the roofline's KV-cache reads (compute.KvReads): each request's prompt + tokens
        helper_count = (np.asarray(shards) >= 0).sum(axis=1) if shards is not None else np.zeros(layers, int)
        plan.SetKvReads(_c_array(kv.full_bytes, np.float64), _c_array(kv.sliding_bytes, np.float64),
                        _c_array(kv.shard_fraction(helper_count), np.float64), layers, int(kv.window),
                        float(kv.bandwidth),
                        _c_array(np.zeros(requests) if kv_prompt is None else kv_prompt, np.int32), requests)
    if replicas is not None:
        replicas = np.asarray(replicas)
        choice = _c_array(replica_choice, np.int32)
        plan.SetReplicas(choice, choice.size, step_times_ns, steps, int(replicas.shape[2]))
    if satellite_fail_ns is not None and (np.asarray(satellite_fail_ns) >= 0).any():
        _set_extra_failures(plan, np.asarray(satellite_fail_ns, dtype=np.int64), shards, replicas)
    placed = _c_array(experts, np.int32)
    helper = ns3.MoeTokenHelper(plan)
    if failover is not None:  # recovery across replicas: (MoeFailover, this replica)
        helper.SetFailover(*failover)
    helper.Install(nodes, _c_array(gateways, np.int32), placed, placed.size)
    for role, layer, index, spare in spares:  # re-placement: dormant until the weights arrived
        helper.InstallSpare(nodes, role, layer, index, spare)
    if shards is not None and int(helpers.max()) > 0:
        shard_nodes = _c_array(np.asarray(shards)[:, :int(helpers.max())], np.int32)
        helper.InstallShards(nodes, shard_nodes, shard_nodes.size)
    if replicas is not None and replicas.shape[2] > 0:
        copies = _c_array(replicas, np.int32)
        helper.InstallReplicas(nodes, copies, copies.size)
    if users is not None:
        helper.InstallUsers(nodes, _c_array(users.nodes, np.int32), len(users.nodes))
    if kv_budget > 0:  # run-time admission at layer 0's gateway while the KV caches fit
        plan.SetKvBudget(kv_budget)
    if keep is not None:  # the caller wires the plans together (disaggregated serving)
        keep.extend((plan, helper))
    return helper.GetRecorder()


def _set_extra_failures(plan, fail_ns: np.ndarray, shards: Optional[np.ndarray],
                        replicas: Optional[np.ndarray]) -> None:
    """Give the plan when each helper shard and expert copy goes dark with its satellite (a slot
    with no shard or copy: 0, dark from the start, so never chosen)."""
    if shards is not None and int(plan.GetMaxHelpers()) > 0:
        held = np.asarray(shards)[:, :int(plan.GetMaxHelpers())]
        shard_fail = _c_array(np.where(held >= 0, fail_ns[np.maximum(held, 0)], 0), np.int64)
        plan.SetShardFailureTimes(shard_fail, shard_fail.size)
    if replicas is not None and int(plan.GetMaxReplicas()) > 0:
        copies = np.asarray(replicas)
        copy_fail = _c_array(np.where(copies >= 0, fail_ns[np.maximum(copies, 0)], 0), np.int64)
        plan.SetReplicaFailureTimes(copy_fail, copy_fail.size)


def _connect_kv(ns3, made: dict, replica_of: np.ndarray, decode_of: np.ndarray, layers: int,
                kv_bytes_per_token: int) -> None:
    """Disaggregated serving: give each prefill replica's plan, per request, where each layer's
    gateway of its decode replica listens and the request's index there."""
    local = {rep: {int(r): i for i, r in enumerate(idx)} for rep, (idx, _, _) in made.items()}
    for rep, (idx, plan, _) in made.items():
        if (decode_of == rep).any():
            continue
        addresses = np.zeros((len(idx), layers), dtype=np.uint32)
        ports = np.zeros((len(idx), layers), dtype=np.int32)
        remote = np.full(len(idx), -1, dtype=np.int32)
        for i, r in enumerate(idx.tolist()):
            d = int(decode_of[r])
            if d < 0 or d not in made:
                continue
            directory = made[d][2].GetDirectory()
            remote[i] = local[d][r]
            for l in range(layers):
                addresses[i, l] = directory.GetAddress(ns3.MoeRole.GATEWAY, l, 0, 0).Get()
                ports[i, l] = directory.GetPort(ns3.MoeRole.GATEWAY, l, 0, 0)
        plan.SetKvTargets(_c_array(addresses, np.uint32), _c_array(ports, np.int32), _c_array(remote, np.int32),
                          len(idx), int(kv_bytes_per_token))


def build_network(ns3, topology: Topology, routes: PathQuery | Routes, links: LinkSpec, hold: bool = False):
    """The ISL network in ns-3: nodes, links, table routing and the topology updater, started.

    Returns (nodes, IslNetworkHelper, TopologyUpdater, ForwardingTable); keep them referenced
    while the simulation runs (their counters are read afterwards), and ``topology`` too (the
    updater reads its delays in place, and its link states too when they are spilled: a window of
    snapshots at a time, harness/network/spill.py).
    """
    table = ns3.CreateObject[ns3.ForwardingTable]()
    if isinstance(routes, PathQuery):
        table.UseShortestPaths(routes.native)
    else:
        destinations = _c_array(routes.destinations, np.int32)
        table.Configure(topology.num_nodes, topology.num_snapshots, destinations, len(destinations))
        next_hop = _c_array(routes.next_hop, np.int32)
        table.SetTables(next_hop, next_hop.size)

    updater = ns3.CreateObject[ns3.TopologyUpdater]()
    updater.SetAttribute("Table", ns3.PointerValue(table))
    network = ns3.IslNetworkHelper()
    network.SetDeviceAttribute("DataRate", ns3.StringValue(f"{int(links.rate_bps)}bps"))
    network.SetDeviceAttribute("Mtu", ns3.UintegerValue(links.mtu_bytes))
    network.SetQueueAttribute("MaxSize", ns3.StringValue(f"{links.queue_packets}p"))
    if links.forwarding == "link":
        network.SetLinkForwarding(True)
    elif links.forwarding == "ip":
        network.SetIpRelay(True)  # relays forward below the stack; "ip-stack": every hop climbs it
    if hold:
        network.SetRoutingAttribute("HoldWithoutRoute", ns3.BooleanValue(True))
    if links.relay_delay_ns:
        network.SetRoutingAttribute("RelayDelay", ns3.TimeValue(ns3.NanoSeconds(links.relay_delay_ns)))
    edges = _c_array(topology.edges, np.int32)
    nodes = network.Install(topology.num_nodes, edges, topology.num_links, table, updater)
    step_times_ns = _c_array(np.round(topology.times_s * 1e9), np.int64)
    delays = _c_array(topology.delay_ns, np.int64)
    if delays is topology.delay_ns:
        # The updater reads the topology's own array, which the caller holds while the simulation
        # runs (a long run's [S, L] delays are not copied once more).
        updater.BorrowSchedule(step_times_ns, topology.num_snapshots, delays, delays.size)
    else:
        updater.SetSchedule(step_times_ns, topology.num_snapshots, delays, delays.size)
    up = None
    if links.drop_in_flight:
        up = topology.up
        if up.dtype == np.bool_ and up.flags.c_contiguous and is_spilled(up):
            up = up.view(np.uint8)  # read where it is, a window at a time, like the delays
            updater.BorrowLinkStates(up, up.size)
        else:
            up = _c_array(topology.up, np.uint8)
            updater.SetLinkStates(up, up.size)
    if delays is topology.delay_ns and is_spilled(delays) and (up is None or is_spilled(up)):
        # Spilled to files (harness/network/spill.py): the updater holds a window of snapshots.
        updater.SetReleaseWindow(WINDOW)
    updater.Start()
    return nodes, network, updater, table


def _check_inputs(topology: Topology, routes: Routes, gateways: np.ndarray, experts: np.ndarray,
                  activations: np.ndarray, request_starts_ns: np.ndarray, num_layers: int, layers: int) -> None:
    """Catch what would be an ns-3 fatal error (which kills the process) as a Python exception."""
    if layers != num_layers or gateways.shape != (num_layers,):
        raise ValueError(f"activations have {layers} layers but the placement has {num_layers}")
    if activations.min() < 0 or activations.max() >= experts.shape[1]:
        raise ValueError("activation expert ids out of range")
    components = np.concatenate([gateways, experts.ravel()])
    # Experts may share a satellite (its compute queue is first-come first-served); a gateway may not.
    if len(np.unique(gateways)) != len(gateways) or np.isin(gateways, experts).any():
        raise ValueError("two components share a satellite: a gateway needs a satellite of its own")
    if components.min() < 0 or components.max() >= topology.num_nodes:
        raise ValueError("a component names a satellite that does not exist")
    if isinstance(routes, PathQuery):
        if (routes.num_nodes, routes.num_snapshots) != (topology.num_nodes, topology.num_snapshots):
            raise ValueError("the path query was built for another topology")
    else:
        if routes.next_hop.shape != (topology.num_snapshots, topology.num_nodes, len(routes.destinations)):
            raise ValueError(f"next-hop tables have shape {routes.next_hop.shape}; expected "
                             f"{(topology.num_snapshots, topology.num_nodes, len(routes.destinations))}")
    if request_starts_ns.shape != (activations.shape[0],) or (request_starts_ns < 0).any():
        raise ValueError("one non-negative start time per request is needed")
    if topology.times_s[0] != 0 or (np.diff(topology.times_s) <= 0).any():
        raise ValueError("snapshot times must start at 0 and increase")
    degree = np.bincount(topology.edges.ravel(), minlength=topology.num_nodes)
    if (degree == 0).any():
        raise ValueError(f"satellite {int(np.argmin(degree))} has no ISL; every satellite needs one to get an address")

