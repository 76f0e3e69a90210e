"""One strategy of a scenario: its placement (one per model replica), then the analytic model and
the packet simulation of it, both from one :class:`~harness.simulate.inputs.SimulationInput`, into
its trace (:func:`run_strategy`)."""

from __future__ import annotations

import dataclasses
import logging
import time
from types import SimpleNamespace
from typing import Callable, Optional

import numpy as np

from harness.analysis.serving import serving_records
from harness.errors import ScenarioError
from harness.formats.results import StrategyTrace
from harness.network.routes import unreachable_pairs
from harness.placement import PlacementInput, place
from harness.placement.replicas import replica_choice
from harness.placement.resources import check_memory as check_satellite_memory, component_bytes, kv_budget_tokens
from harness.placement.spares import replacements as spare_replacements
from harness.run.prepare import Prepared
from harness.scenario import Scenario
from harness.scenario.model import kv_bytes_per_token
from harness.seeding import rng_for
from harness.simulate.analytic import analytic_latency
from harness.simulate.inputs import PowerInput, RecoveryInput, ServingInput, SimulationInput
from harness.simulate.packet import run_packet_sim, token_outcomes
from harness.workload import traffic

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, float, float, int, int], None]


def place_replicas(name: str, inputs: PlacementInput, seed: int, replicas: int) -> list:
    """``replicas`` placements of strategy ``name`` on disjoint satellites: replica r is the strategy
    placed again with the satellites of replicas < r marked unavailable (each replica draws from a
    Generator of its own; replica 0 is exactly the placement without replicas)."""
    placements = [place(name, inputs, rng_for(seed, f"placement:{name}"))]
    used = np.zeros(inputs.topology.num_nodes, dtype=bool)
    for r in range(1, replicas):
        used[placement_satellites(placements[-1])] = True
        placements.append(place(name, dataclasses.replace(inputs, unavailable=used.copy()),
                                rng_for(seed, f"placement:{name}:replica-{r}")))
    return placements


def check_placement_memory(scenario: Scenario, placement, num_satellites: int) -> np.ndarray:
    """[N] bytes each satellite holds under ``placement`` (harness/placement/resources.py);
    PlacementError naming the satellite and the overflow if one exceeds compute.memory_gb."""
    return check_satellite_memory(placement, scenario.model, memory_gb=scenario.compute.memory_gb,
                        weight_bytes=scenario.compute.weight_bytes, context_tokens=context_tokens(scenario),
                        num_satellites=num_satellites)


def context_tokens(scenario: Scenario) -> int:
    """The tokens of KV cache a gateway must hold beside its weights: every request's tokens at once,
    or in a serving run (whose layer 0 gateway admits requests at run time while their caches fit)
    one request's longest prompt and output."""
    t, v = scenario.traffic, scenario.serving
    if not v.enabled:
        return t.requests * t.tokens_per_request
    return longest_prompt(scenario) + t.tokens_per_request


def longest_prompt(scenario: Scenario) -> int:
    """The longest prompt serving.prompt allows (0 without prefill; an arrivals file's are checked
    against the same bound when it is read, harness/workload/traffic)."""
    v = scenario.serving
    if not v.prefill or v.arrivals == "file":  # a file's prompts: checked against the budget (kv_budgets)
        return 0
    return v.prompt.tokens if v.prompt.kind == "fixed" else v.prompt.high


def kv_budgets(scenario: Scenario, replicas: list, req, replica_of: np.ndarray, num_satellites: int) -> list[int]:
    """Each model replica's KV-cache budget in tokens for run-time admission
    (:func:`harness.placement.resources.kv_budget_tokens`), 0 where every request it serves fits
    at once (no admission: as before). ScenarioError if one request's cache alone does not fit."""
    c = scenario.compute
    need = req.prompt_tokens.astype(np.int64) + req.output_tokens
    budgets = []
    for rep, placement in enumerate(replicas):
        mine = need[np.asarray(replica_of) == rep]
        budget = kv_budget_tokens(placement, scenario.model, memory_gb=c.memory_gb, weight_bytes=c.weight_bytes,
                                  num_satellites=num_satellites)
        if len(mine) and mine.max() > budget:
            raise ScenarioError(f"scenario '{scenario.name}': the KV cache of one request ({int(mine.max())} tokens: prompt + "
                                f"output, {kv_bytes_per_token(scenario.model)} B per token and layer) does not fit "
                                f"beside the weights of model replica {rep}'s gateways: {budget} tokens fit in "
                                f"compute.memory_gb {c.memory_gb:g}; raise memory_gb, shorten serving.prompt / "
                                f"traffic.tokens_per_request, or use a model with fewer KV heads")
        budgets.append(budget if len(mine) and mine.sum() > budget else 0)
    return budgets


def placement_satellites(placement) -> np.ndarray:
    """Every satellite ``placement`` uses: gateways, experts, tensor-parallel shards and expert copies
    (``Placement.occupied``)."""
    return placement.occupied


def run_strategy(scenario: Scenario, prep: Prepared, replicas, progress: Optional[ProgressCallback]):
    """One strategy's placement (a list, one per model replica, or one placement) through the analytic
    model and ns-3: its trace."""
    clock = time.perf_counter()
    replicas = replicas if isinstance(replicas, (list, tuple)) else [replicas]
    placement = replicas[0]
    name, topology, stop_ns = placement.strategy, prep.topology, prep.stop_ns
    total_tokens = scenario.traffic.requests * scenario.traffic.tokens_per_request
    if prep.requests is not None:
        total_tokens = int(prep.requests.output_tokens.sum())
    routes = prep.paths
    direct = direct_shard_input(scenario)
    cut = unreachable_pairs(routes, np.concatenate([p.message_pairs(direct_shard_input=direct) for p in replicas]))
    if len(cut):
        first = cut[0]
        log.warning("%s: %d (snapshot, pair) combinations have no route, e.g. satellite %d cannot reach "
                    "%d in snapshot %d (t = %.3f s); tokens crossing them stall", name, len(cut), first[1],
                    first[2], first[0], topology.times_s[first[0]])
    inp = SimulationInput(
        topology=topology, routes=routes, links=scenario.links, gateways=placement.gateways,
        experts=placement.experts, shards=placement.shards, replicas=placement.replicas,
        replica_choice=None if placement.replicas is None else
        replica_choice(topology, placement.gateways, placement.experts, placement.replicas),
        activations=prep.trace.experts, compute=prep.compute, memory=prep.memory, kv=prep.kv,
        request_starts_ns=prep.request_starts_ns, message_bytes=scenario.model.hidden_bytes,
        no_route=scenario.routing.no_route, combine=scenario.model.combine, dispatch=scenario.model.dispatch,
        analytic_queueing=scenario.simulation.analytic_queueing)
    serving = None
    if prep.requests is not None:
        # A serving run: the analytic model has no queueing, so it does not apply (tokens.csv -1).
        model = _not_modelled(prep.trace.experts.shape[:2])
        serving = _serving_input(scenario, prep, replicas)
    else:
        model = analytic_latency(inp)

    def report(now_ns: int, done: int) -> None:
        if progress is not None:
            progress(name, now_ns / 1e9, stop_ns / 1e9, done, total_tokens)

    recovery = _recovery_input(scenario, prep, serving, name)
    result = run_packet_sim(inp, seed=scenario.seed, stop_ns=stop_ns, progress=report, faults=scenario.faults,
                            satellite_fail_ns=prep.satellite_fail_ns, serving=serving,
                            power=None if not scenario.power.enabled else PowerInput(spec=scenario.power, sunlit=prep.sunlit),
                            recovery=recovery)
    _return_freed_memory()
    faults = {}
    if scenario.faults.enabled:
        status, reason = token_outcomes(result, placement.gateways, placement.experts,
                                        scenario.faults.retransmit_timeout_ms is not None, stop_ns,
                                        shards=placement.shards, replicas=placement.replicas)
        if serving is not None and serving.users is not None:  # never simulated: say why
            gap = serving.users.user_of < 0
            status[gap], reason[gap] = "coverage-gap", "no satellite above ground.min_elevation_deg at arrival"
        faults = dict(retransmissions=result.retransmissions, status=status, reason=reason)
    counters = dict(packets_sent=result.packets_sent, packets_received=result.packets_received,
                    packets_dropped_no_route=result.packets_dropped_no_route,
                    packets_dropped_queue=result.packets_dropped_queue,
                    packets_dropped_link_down=result.packets_dropped_link_down,
                    packets_dropped_ttl=result.packets_dropped_ttl,
                    **({"packets_held_no_route": result.packets_held_no_route,
                        "held_no_route_ns": result.held_no_route_ns} if scenario.routing.no_route == "wait" else {}),
                    unreachable_pair_snapshots=int(len(cut)),
                    unreachable_examples=[{"snapshot": int(s), "time_s": float(topology.times_s[s]),
                                           "from_sat": int(a), "to_sat": int(b)} for s, a, b in cut[:10]])
    if faults:
        counters.update(messages_retransmitted=int(result.retransmissions.sum()),
                        messages_duplicated=result.duplicates,
                        requests_failed=int((faults["status"] == "failed").any(axis=1).sum()),
                        satellites_failed=int((prep.satellite_fail_ns >= 0).sum())
                        if prep.satellite_fail_ns is not None else 0)
        if serving is not None and serving.users is not None:  # the users' messages, resent like the rest
            counters.update(prompts_retransmitted=result.prompts_retransmitted,
                            output_tokens_retransmitted=result.output_tokens_retransmitted)
        if placement.replicas is not None:  # expert copies: messages sent around a dark copy
            counters.update(messages_rerouted=result.messages_rerouted)
    if result.recovery is not None:  # faults.recovery: every fail-over and re-placement
        rec = result.recovery
        counters.update(recovery=scenario.faults.recovery, failovers=int(rec[:, 2].sum()),
                        replacements=int(len(result.replacements)),
                        requests_replaced=int((rec[:, 3] > 0).sum()),
                        requests_failed_over=int((rec[:, 2] > 0).sum()),
                        time_lost_ns=int(rec[:, 4].sum()), weight_packets_sent=result.weight_packets,
                        replacement_records=[dict(zip(("detected_ns", "ready_ns", "packets", "bytes"),
                                                      map(int, row))) for row in result.replacements])
    completed = int((result.latency_ns >= 0).sum())
    log.info("%s: %d/%d tokens completed (%.2f s)", name, completed, total_tokens, time.perf_counter() - clock)
    failed = 0
    if faults:
        failed = int(((faults["status"] == "failed") | (faults["status"] == "cancelled")).sum())
        log.info("%s: %d messages retransmitted, %d tokens failed or cancelled (reasons in tokens.csv)",
                 name, counters["messages_retransmitted"], failed)
    if completed + failed < total_tokens:
        log.warning("%s: %d tokens did not complete within the %.3f s horizon (snapshots.count x "
                    "interval_s) or stalled on a lost packet; see summary.json", name,
                    total_tokens - completed - failed, scenario.snapshots.horizon_s)
    return StrategyTrace(
        strategy=name, token_start_ns=result.token_start_ns, token_end_ns=result.token_end_ns,
        combine_ns=result.combine_ns, activations=prep.trace.experts, gateways=placement.gateways,
        experts=placement.experts, subnets=placement.subnets, analytic_ns=model.latency_ns,
        compute_ns=model.compute_ns, serialization_ns=model.serialization_ns,
        propagation_ns=model.propagation_ns, counters=counters, **faults,
        route_wait_ns=model.wait_ns if scenario.routing.no_route == "wait" else None, shards=placement.shards,
        replicas=placement.replicas, power=result.power,
        occupied=np.unique(np.concatenate([placement_satellites(p) for p in replicas])),
        serving=serving_records(prep.requests, serving, result, prep.constellation.num_satellites, prep.ground,
                                prep.site_of) if serving is not None else None)


def _recovery_input(scenario: Scenario, prep: Prepared, serving: Optional[ServingInput],
                    name: str) -> Optional[RecoveryInput]:
    """faults.recovery's input to the packet engine (None: 'none'); with 'replace', every lost
    component's spare and weights' holder (harness/placement/spares.py)."""
    f = scenario.faults
    if f.recovery == "none" or serving is None:
        return None
    detection_ns = int(round(f.detection_delay_s * 1e9))
    rows = None
    if f.recovery == "replace" and prep.satellite_fail_ns is not None:
        parts = component_bytes(scenario.model, weight_bytes=scenario.compute.weight_bytes, context_tokens=0)
        rows, missing = spare_replacements(prep.topology, prep.satellite_fail_ns, serving.replica_gateways,
                                           serving.replica_experts, detection_ns, parts["gateway"], parts["expert"])
        if missing:
            log.warning("%s: %d lost components have no spare satellite or no surviving holder of their "
                        "weights; their replicas' requests stall", name, len(missing))
    return RecoveryInput(policy=f.recovery, detection_ns=detection_ns, replacements=rows)


def _not_modelled(shape: tuple) -> SimpleNamespace:
    """The analytic model's fields, all -1: not applicable."""
    none = np.full(shape, -1, dtype=np.int64)
    return SimpleNamespace(latency_ns=none, compute_ns=none, serialization_ns=none, propagation_ns=none,
                           wait_ns=none)


def direct_shard_input(scenario: Scenario) -> bool:
    """Whether a tensor-parallel layer l >= 1 takes layer l-1's expert outputs straight to its helpers
    (parallel dispatch, combine at the next gateway), not a scatter from its gateway (analytic.py)."""
    return scenario.model.dispatch != "sequential" and scenario.model.combine != "own-gateway"


def _serving_input(scenario: Scenario, prep: Prepared, replicas: list) -> ServingInput:
    """The serving run's extras: every model replica's placement, each request's replica (by the
    scenario's policy; nearest-to-user policies by the gateway delay from the user's site), the
    prefill, batching and output lengths, and the users' links."""
    topology, req = prep.topology, prep.requests
    replica_gateways = np.stack([p.gateways for p in replicas])
    replica_of = req.replica
    if scenario.serving.replica_policy in traffic.USER_POLICIES:
        delay = prep.ground.gateway_delays_ns(prep.paths, prep.site_of, req.arrival_ns, replica_gateways[:, 0])
        replica_of = traffic.USER_POLICIES[scenario.serving.replica_policy](delay)
    users = None
    if prep.ground is not None:
        users = prep.ground.user_links(prep.site_of, req.arrival_ns, scenario.users.gsl_rate_bps,
                                       scenario.users.token_bytes)
    return ServingInput(replica_gateways=replica_gateways, replica_experts=np.stack([p.experts for p in replicas]),
                        replica_of=replica_of,
                        prompt_tokens=req.prompt_tokens if prep.prefill_counts is not None else None,
                        prefill_counts=prep.prefill_counts, max_batch=scenario.serving.max_batch,
                        output_tokens=req.output_tokens,
                        replica_extras=[(p.shards, p.replicas, None if p.replicas is None else
                                         replica_choice(topology, p.gateways, p.experts, p.replicas))
                                        for p in replicas],
                        users=users, chunks=prep.chunks, decode_of=req.decode_replica,
                        kv_budgets=None if req.decode_replica is not None else
                        kv_budgets(scenario, replicas, req, replica_of, topology.num_nodes),
                        kv_bytes_per_token=kv_bytes_per_token(scenario.model))


def _return_freed_memory() -> None:
    """Give the heap the simulation freed (ns-3's nodes, packets, event queue) back to the system
    (glibc's malloc_trim; nothing elsewhere): the writing phase then starts from what is live, not
    from the simulation's high-water mark (docs/performance.md, memory). Changes no value."""
    import ctypes

    try:
        ctypes.CDLL(None).malloc_trim(0)  # the process's own C library
    except (OSError, AttributeError):  # not glibc
        pass
