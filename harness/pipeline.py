"""A scenario end to end: constellation -> topology -> activations -> placement -> routes ->
packet simulation -> traces and summary.

Each step is a pure function of its own module; this one only wires them in order. Randomness
comes from the scenario's seed through one numpy Generator per purpose, so the same scenario and
seed give byte-identical traces whatever strategies are listed alongside.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import time
import zlib
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Callable, Optional

import numpy as np

from . import activations as activations_mod
from . import traffic
from .traffic.prefill import prefill_counts
from .traffic.report import serving_records
from .analytic import analytic_latency
from .errors import HarnessError
from .estimate import check_memory
from .constellation import Constellation, subsatellite_points_deg, walker_constellation
from .constellation_tle import build_tle_constellation, build_tle_edges
from .model import compute_times_ns, memory_times_ns
from .packet_sim import ComputeTimes, run_packet_sim, token_outcomes
from .placement import PlacementInput, check_plan_for_scenario, load_plan, place
from .placement.replicas import replica_choice
from .placement.resources import check_memory as check_satellite_memory
from .routes import PathQuery, unreachable_pairs
from .scenario import Scenario
from .topology import (Topology, failure_snapshots, isl_topology, plus_grid_edges, satellite_failure_times_s,
                       with_failed_satellites)
from .traces import StrategyTrace

if TYPE_CHECKING:
    from .ground.users import GroundSegment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """Every strategy's trace, and the satellites' map positions, of a scenario run."""

    traces: list[StrategyTrace]
    lat_deg: np.ndarray  # [N] at the first snapshot
    lon_deg: np.ndarray
    plane_of: np.ndarray
    slot_of: np.ndarray


ProgressCallback = Callable[[str, float, float, int, int], None]


@dataclass(frozen=True)
class Prepared:
    """Everything a scenario's strategies share, built once before the strategy loop."""

    constellation: Constellation
    topology: Topology
    trace: activations_mod.ActivationTrace
    inputs: PlacementInput
    paths: PathQuery  # every strategy's routes, computed on demand in C++
    compute: ComputeTimes
    request_starts_ns: np.ndarray  # [R]
    stop_ns: int
    satellite_fail_ns: Optional[np.ndarray] = None  # [N] when each satellite goes dark, -1 never; None: no failures
    requests: Optional[traffic.Requests] = None  # serving runs (a serving section): the traffic step's requests
    prefill_counts: Optional[np.ndarray] = None  # [R, L, E] prompt tokens per expert, with serving.prefill
    memory: Optional[ComputeTimes] = None  # weight-read times (roofline), with compute.memory_bytes_per_s
    ground: Optional["GroundSegment"] = None  # with users: their sites and links; topology and paths include them
    site_of: Optional[np.ndarray] = None  # [R] with users: the site each request comes from


def prepare(scenario: Scenario) -> Prepared:
    """Constellation, topology, activations, placement input, compute times and request starts.

    Refuses (ScenarioError) a scenario whose estimated peak memory exceeds what is available,
    before anything is allocated."""
    check_memory(scenario)
    constellation = build_constellation(scenario)
    # Placement does not foresee satellite failures; routes and the packet engine see them.
    healthy = build_topology(scenario, constellation, with_failures=False)
    failed_from = satellite_failure_snapshots(scenario, healthy)
    topology = healthy if failed_from is None else with_failed_satellites(healthy, failed_from)
    fail_ns = None
    if failed_from is not None:
        times_ns = np.round(topology.times_s * 1e9).astype(np.int64)
        fail_ns = np.where(failed_from < topology.num_snapshots,
                           times_ns[np.minimum(failed_from, topology.num_snapshots - 1)], -1)
        log.info("%d satellites fail during the run", int((fail_ns >= 0).sum()))
    gateway_ns, expert_ns, lm_head_ns = compute_times_ns(scenario.model, scenario.compute.satellite_flops)
    requests = counts = None
    if scenario.serving.enabled or scenario.users.enabled:
        requests = traffic.build_requests(scenario, gateway_ns, lm_head_ns)
    prompt = requests.max_prompt_tokens if requests is not None else 0
    trace = build_activations(scenario, prompt_tokens=prompt)
    probabilities = trace.probabilities()  # the prompts' tokens too: they load the experts as well
    if prompt:
        counts = prefill_counts(trace.experts[:, :prompt], requests.prompt_tokens, scenario.model.experts)
        trace = activations_mod.ActivationTrace(experts=np.ascontiguousarray(trace.experts[:, prompt:]),
                                                num_experts=trace.num_experts)
    inputs = PlacementInput(topology=healthy, arg_latitude_rad=constellation.arg_latitude_rad,
                            probabilities=probabilities, layers=scenario.model.layers,
                            experts=scenario.model.experts, subnets=scenario.placement.subnets,
                            plane_of=constellation.plane_of, gateway_ns=gateway_ns, expert_ns=expert_ns,
                            max_shards=scenario.placement.max_shards, heads=scenario.model.heads,
                            max_replicas=scenario.placement.max_replicas)
    memory = None
    if scenario.compute.memory_bytes_per_s is not None:
        memory = ComputeTimes(*memory_times_ns(scenario.model, scenario.compute.memory_bytes_per_s))
    starts = np.round(np.arange(scenario.traffic.requests) * scenario.traffic.request_spacing_s * 1e9)
    if requests is not None:
        starts = requests.arrival_ns
    ground = site_of = None
    if scenario.users.enabled:
        from .ground.users import draw_users, ground_segment, user_sites

        sites = user_sites(scenario.users)
        ground = ground_segment(constellation, topology, sites, epoch_utc=scenario.constellation.epoch,
                                convention=scenario.ground.convention,
                                min_elevation_deg=scenario.ground.min_elevation_deg)
        site_of = draw_users(sites, scenario.traffic.requests, rng_for(scenario.seed, "users"))
        topology = ground.topology  # ground nodes never relay (one GSL up at a time): satellite routes unchanged
    return Prepared(constellation, topology, trace, inputs, PathQuery(topology, scenario.routing.metric),
                    ComputeTimes(gateway_ns, expert_ns, lm_head_ns, heads=scenario.model.heads),
                    starts.astype(np.int64), int(round(scenario.snapshots.horizon_s * 1e9)), fail_ns,
                    requests, counts, memory, ground, site_of)


#: Constellation kinds read from files: kind -> (constellation builder, ISL builder); the rest are Walker shells.
TLE_BUILDERS = {"tle": (build_tle_constellation, build_tle_edges)}


def rng_for(seed: int, purpose: str) -> np.random.Generator:
    """An independent Generator per purpose (e.g. 'activations', 'placement:rand-intra')."""
    return np.random.default_rng([seed, zlib.crc32(purpose.encode())])


def build_constellation(scenario: Scenario) -> Constellation:
    c = scenario.constellation
    if c.kind in TLE_BUILDERS:
        return TLE_BUILDERS[c.kind][0](scenario)
    return walker_constellation(kind=c.kind, planes=c.planes, sats_per_plane=c.sats_per_plane,
                                phasing=c.phasing, altitude_km=c.altitude_km,
                                inclination_deg=c.inclination_deg, epoch_utc=c.epoch,
                                snapshot_count=scenario.snapshots.count,
                                snapshot_interval_s=scenario.snapshots.interval_s)


def build_topology(scenario: Scenario, constellation: Constellation, with_failures: bool = True) -> Topology:
    """The ISL topology; ``with_failures``: with the links of failed satellites down (faults section)."""
    c, links = scenario.constellation, scenario.links
    if c.kind in TLE_BUILDERS:
        edges = TLE_BUILDERS[c.kind][1](scenario)
    else:
        edges = plus_grid_edges(kind=c.kind, planes=c.planes, sats_per_plane=c.sats_per_plane, phasing=c.phasing)
    topology = isl_topology(constellation, edges, grazing_altitude_km=links.grazing_altitude_km,
                            max_angular_rate_rad_s=links.max_angular_rate_rad_s,
                            polar_cutoff_deg=links.polar_cutoff_deg,
                            survival_probability=links.survival_probability,
                            rng=rng_for(scenario.seed, "outages"))
    failed_from = satellite_failure_snapshots(scenario, topology) if with_failures else None
    return topology if failed_from is None else with_failed_satellites(topology, failed_from)


def satellite_failure_snapshots(scenario: Scenario, topology: Topology) -> Optional[np.ndarray]:
    """``[N]`` first snapshot of each satellite's failure (``num_snapshots``: never), or None when the
    scenario schedules none. Drawn failures use their own Generator, so other draws do not shift."""
    f = scenario.faults
    if not f.satellite_failures and f.satellite_failure_rate_per_s <= 0:
        return None
    times_s = satellite_failure_times_s(topology.num_nodes, f.satellite_failures, f.satellite_failure_rate_per_s,
                                        rng_for(scenario.seed, "satellite-failures"))
    return failure_snapshots(topology.times_s, times_s)


def build_activations(scenario: Scenario, prompt_tokens: int = 0) -> activations_mod.ActivationTrace:
    """The activation trace: ``[R, P + T, L, k]`` with ``prompt_tokens`` P (the longest prompt, with
    serving.prefill) before each request's T decode tokens (see harness/traffic/prefill.py)."""
    m, t, a = scenario.model, scenario.traffic, scenario.activations
    shape = dict(requests=t.requests, tokens=prompt_tokens + t.tokens_per_request, layers=m.layers,
                 experts=m.experts, top_k=m.top_k)
    if a.kind == "file":
        return activations_mod.load_trace(scenario.resolve(a.path), **shape)
    return activations_mod.synthetic_trace(**shape, skew=a.skew, stickiness=a.stickiness,
                                           rng=rng_for(scenario.seed, "activations"))


def run_scenario(scenario: Scenario, progress: Optional[ProgressCallback] = None,
                 plan: Optional[Path] = None, jobs: Optional[int] = None) -> RunResult:
    """Run every strategy of the scenario through ns-3 and through the analytic model.

    ``progress(strategy, simulated_s, horizon_s, tokens_done, tokens_total)`` is called as the
    packet simulation advances. With ``plan`` (a saved placement, see ``harness place``), that
    placement is run instead of the scenario's strategies, tagged with the plan's strategy name.

    The placements are made here, one after the other (strategies share work such as the subnet
    centres); each strategy's analytic model and packet simulation then runs in a process of its
    own, ``jobs`` at a time (default: one per core), forked from this one so that the topology and
    routes are shared, not copied. ns-3 is single-threaded and every strategy's simulation is
    independent and seeded, so the traces are the same, byte for byte, whatever ``jobs`` is.
    """
    clock = time.perf_counter()
    prep = prepare(scenario)
    constellation, topology, inputs = prep.constellation, prep.topology, prep.inputs
    isls = topology.num_links if prep.ground is None else prep.ground.first_gsl  # GSLs follow the ISLs
    log.info("constellation %d satellites, %d ISLs, %d snapshots, %.1f%% of link-snapshots down (%.2f s)",
             constellation.num_satellites, isls, topology.num_snapshots, 100 * (1 - topology.up[:, :isls].mean()),
             time.perf_counter() - clock)

    if plan is not None:
        if scenario.serving.replicas > 1:
            raise HarnessError("a saved plan is one copy of the model; run it with serving.replicas: 1, or run "
                               "the scenario's strategies, which are placed once per replica")
        placements = [[load_plan(plan, num_satellites=constellation.num_satellites, layers=scenario.model.layers,
                                 experts=scenario.model.experts)]]
        check_plan_for_scenario(placements[0][0], f"plan file '{plan}'", faults_enabled=scenario.faults.enabled,
                                heads=scenario.model.heads)
    else:
        placements = []
        for name in scenario.strategies:
            clock = time.perf_counter()
            placements.append(place_replicas(name, inputs, scenario.seed, scenario.serving.replicas))
            log.info("%s: placed (%.2f s)", name, time.perf_counter() - clock)
    for replicas in placements:  # every satellite's weights and KV cache fit its memory, or one error line
        for placement in replicas:
            check_placement_memory(scenario, placement, topology.num_nodes)
    jobs = min(len(placements), available_cores() if jobs is None else max(1, jobs))
    if jobs == 1:
        traces = [_run_strategy(scenario, prep, placement, progress) for placement in placements]
    else:
        traces = _run_in_processes(scenario, prep, placements, progress, jobs)
    lat, lon = subsatellite_points_deg(constellation, scenario.constellation.epoch)
    return RunResult(traces, lat, lon, constellation.plane_of, constellation.slot_of)


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
                        weight_bytes=scenario.compute.weight_bytes,
                        context_tokens=scenario.traffic.requests * scenario.traffic.tokens_per_request,
                        num_satellites=num_satellites)


def placement_satellites(placement) -> np.ndarray:
    """Every satellite ``placement`` uses: gateways, experts, tensor-parallel shards and expert copies
    (``Placement.occupied``)."""
    return placement.occupied


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _run_strategy(scenario: Scenario, prep: Prepared, replicas, progress: Optional[ProgressCallback]):
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
    direct = _direct_shard_input(scenario)
    cut = unreachable_pairs(routes, np.concatenate([p.message_pairs(direct_shard_input=direct) for p in replicas]))
    if len(cut):
        first = cut[0]
        log.warning("%s: %d (snapshot, pair) combinations have no route, e.g. satellite %d cannot reach "
                    "%d in snapshot %d (t = %.3f s); tokens crossing them stall", name, len(cut), first[1],
                    first[2], first[0], topology.times_s[first[0]])
    compute = prep.compute
    if prep.memory is not None:  # one token a job: the roofline is max(compute, weight read) per component
        compute = ComputeTimes(np.maximum(compute.gateway_ns, prep.memory.gateway_ns),
                               np.maximum(compute.expert_ns, prep.memory.expert_ns),
                               max(compute.lm_head_ns, prep.memory.lm_head_ns))
    common = dict(topology=topology, routes=routes, links=scenario.links, gateways=placement.gateways,
                  experts=placement.experts, activations=prep.trace.experts, compute=compute,
                  request_starts_ns=prep.request_starts_ns, message_bytes=scenario.model.hidden_bytes)
    shape = dict(no_route=scenario.routing.no_route, combine=scenario.model.combine,
                 dispatch=scenario.model.dispatch, shards=placement.shards, replicas=placement.replicas,
                 replica_choice=None if placement.replicas is None else
                 replica_choice(topology, placement.gateways, placement.experts, placement.replicas))
    serving = {}
    if prep.requests is not None:
        # A serving run: the analytic model has no queueing, so it does not apply (tokens.csv -1).
        model = _not_modelled(prep.trace.experts.shape[:2])
        req = prep.requests
        replica_gateways = np.stack([p.gateways for p in replicas])
        replica_of = req.replica
        if scenario.serving.replica_policy in traffic.USER_POLICIES:
            delay = prep.ground.gateway_delays_ns(prep.paths, prep.site_of, req.arrival_ns, replica_gateways[:, 0])
            replica_of = traffic.USER_POLICIES[scenario.serving.replica_policy](delay)
        serving = dict(replica_gateways=replica_gateways,
                       replica_experts=np.stack([p.experts for p in replicas]), replica_of=replica_of,
                       prompt_tokens=req.prompt_tokens if prep.prefill_counts is not None else None,
                       prefill_counts=prep.prefill_counts, max_batch=scenario.serving.max_batch,
                       output_tokens=req.output_tokens,
                       replica_extras=[(p.shards, p.replicas, None if p.replicas is None else
                                        replica_choice(topology, p.gateways, p.experts, p.replicas))
                                       for p in replicas])
        if prep.ground is not None:
            serving["users"] = prep.ground.user_links(prep.site_of, req.arrival_ns, scenario.users.gsl_rate_bps,
                                                      scenario.users.token_bytes)
    else:
        model = analytic_latency(**common, **shape)

    def report(now_ns: int, done: int) -> None:
        if progress is not None:
            progress(name, now_ns / 1e9, stop_ns / 1e9, done, total_tokens)

    # ns-3 gets the FLOPs side and the memory side apart: a batch or a prefill of n tokens takes
    # max(n x compute, memory), not n x max(compute, memory).
    result = run_packet_sim(**{**common, "compute": prep.compute}, memory=prep.memory, seed=scenario.seed,
                            stop_ns=stop_ns, progress=report, **shape, faults=scenario.faults,
                            satellite_fail_ns=prep.satellite_fail_ns, **serving)
    faults = {}
    if scenario.faults.enabled:
        status, reason = token_outcomes(result, placement.gateways, placement.experts,
                                        scenario.faults.retransmit_timeout_ms is not None, stop_ns)
        if "users" in serving:  # never simulated: say why
            gap = serving["users"].user_of < 0
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
        replicas=placement.replicas,
        serving=serving_records(prep.requests, serving, result, prep.constellation.num_satellites, prep.ground,
                                prep.site_of) if serving else None)


def _not_modelled(shape: tuple) -> SimpleNamespace:
    """The analytic model's fields, all -1: not applicable."""
    none = np.full(shape, -1, dtype=np.int64)
    return SimpleNamespace(latency_ns=none, compute_ns=none, serialization_ns=none, propagation_ns=none,
                           wait_ns=none)


#: What forked strategy processes read: set by _run_in_processes just before it forks them.
_FORKED: dict = {}


def _strategy_in_child(index: int):
    state = _FORKED
    queue = state["queue"]

    def progress(*args) -> None:
        queue.put(args)

    return _run_strategy(state["scenario"], state["prep"], state["placements"][index], progress)


def _direct_shard_input(scenario: Scenario) -> bool:
    """Whether a tensor-parallel layer l >= 1 takes layer l-1's expert outputs straight to its helpers
    (parallel dispatch, combine at the next gateway), not a scatter from its gateway (analytic.py)."""
    return scenario.model.dispatch != "sequential" and scenario.model.combine != "own-gateway"


def _packet_work(prep: Prepared, placement, scenario: Scenario) -> int:
    """Hops of all of a placement's message paths at the first snapshot: its simulation's cost, roughly."""
    direct = _direct_shard_input(scenario)
    pairs = np.concatenate([p.message_pairs(direct_shard_input=direct) for p in placement])
    _, hops = prep.paths.lookup(np.zeros(len(pairs), dtype=np.int64), pairs[:, 0], pairs[:, 1])
    return int(np.maximum(hops, 0).sum())


def _drain(queue, progress: Optional[ProgressCallback]) -> None:
    """Pass the progress reports the strategies' processes queued on to ``progress``."""
    while not queue.empty():
        args = queue.get()
        if progress is not None:
            progress(*args)


def _run_in_processes(scenario: Scenario, prep: Prepared, placements: list, progress: Optional[ProgressCallback],
                      jobs: int) -> list:
    """:func:`_run_strategy` of every placement in ``jobs`` forked processes, in placement order."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    _FORKED.update(scenario=scenario, prep=prep, placements=placements, queue=queue)
    try:
        with ProcessPoolExecutor(jobs, mp_context=context) as pool:
            # Longest first (the hops its messages cross, at the first snapshot: the packet engine's
            # work), so that the processes finish together; the results keep the placements' order.
            futures = [None] * len(placements)
            for i in sorted(range(len(placements)), key=lambda i: -_packet_work(prep, placements[i], scenario)):
                futures[i] = pool.submit(_strategy_in_child, i)
            running = set(futures)
            while running:
                _, running = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(queue, progress)
            _drain(queue, progress)
            try:
                return [f.result() for f in futures]
            except BrokenProcessPool:
                raise HarnessError("a strategy's simulation process died (an ns-3 fatal error or the "
                                   "out-of-memory killer); rerun with --jobs 1 to see its error") from None
    finally:
        _FORKED.clear()
        queue.close()


def write_run(scenario: Scenario, result: RunResult, out_dir: Path, scenario_text: str) -> dict:
    """Write a run's results directory (see harness/traces.py) and return its summary.

    The summary and plots are made from the written files, read back, exactly as
    ``python -m harness analyze`` makes them.
    """
    from . import traces as formats

    with formats.staged_directory(out_dir) as staging:
        formats.write_files(staging, {
            "scenario.yaml": scenario_text,
            "tokens.csv": formats.tokens_csv(result.traces),
            "layers.csv": formats.layers_csv(result.traces),
            "run.json": formats.run_json(scenario.name, scenario.seed, result.traces),
            "placements.json": formats.placements_json(result.traces),
            "satellites.csv": formats.satellites_csv(result.plane_of, result.slot_of, result.lat_deg,
                                                     result.lon_deg),
        })
        if any(tr.serving is not None for tr in result.traces):
            from .formats import requests as serving_formats

            rows = {}
            for tr in result.traces:
                rows[tr.strategy], rows[tr.strategy + ":status"] = tr.serving["table"], tr.serving["status"]
                if tr.serving.get("users") is not None:
                    rows[tr.strategy + ":users"] = tr.serving["users"]
            formats.write_files(staging, {
                "requests.csv": serving_formats.requests_csv(rows, [tr.strategy for tr in result.traces]),
                "satellite_busy.csv": serving_formats.busy_csv({tr.strategy: tr.serving["busy_ns"]
                                                                for tr in result.traces})})
            gaps = result.traces[0].serving.get("gaps")
            if gaps is not None:
                formats.write_files(staging, {"coverage_gaps.csv": serving_formats.coverage_gaps_csv(gaps),
                                              "user_sites.csv": serving_formats.user_sites_csv(
                                                  result.traces[0].serving["sites"])})
        summary = analyze_directory(staging)
    return summary


def analyze_directory(directory: Path) -> dict:
    """Recompute summary.json and the plots of a results directory from its traces; write them."""
    from . import traces as formats
    from .analysis import summarize
    from .plots import all_plots

    results = formats.read_results(directory)
    summary = summarize(results)
    plots = all_plots(results)
    if (directory / "requests.csv").is_file():
        from .traffic.summary import add_serving

        plots.update(add_serving(summary, results, directory))
    formats.write_files(directory, {"summary.json": formats.summary_json(summary), **plots})
    return summary


def ground_paths_for(scenario: Scenario, pairs: list[tuple[str, str]]) -> list:
    """The shortest ground -> satellites -> ground path of each pair of the scenario's ground sites at
    every snapshot (:func:`harness.ground.paths.ground_paths`): a list of ``PairPaths``.

    Example (a notebook)::

        from harness.scenario import load_scenario
        sc = load_scenario("topologies/hypatia_kuiper_630.yaml")
        manila_dalian, = ground_paths_for(sc, [("Manila", "Dalian")])
    """
    from .ground.paths import ground_paths

    g = scenario.ground
    names = [s.name for s in g.sites]
    for a, b in pairs:
        for name in (a, b):
            if name not in names:
                raise HarnessError(f"unknown ground site {name!r}; the scenario's ground.sites are: "
                                   f"{', '.join(names) or '(none: add ground.sites)'}")
        if a == b:
            raise HarnessError(f"pair {a!r} {b!r} joins a site to itself; name two different sites")
    constellation = build_constellation(scenario)
    topology = build_topology(scenario, constellation)
    return ground_paths(constellation, topology, g.sites, pairs, epoch_utc=scenario.constellation.epoch,
                        convention=g.convention, gsl_rule=g.gsl_rule, min_elevation_deg=g.min_elevation_deg,
                        max_gsl_length_m=None if g.max_gsl_length_km is None else g.max_gsl_length_km * 1e3)
