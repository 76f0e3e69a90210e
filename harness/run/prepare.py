"""Everything a scenario's strategies share, built once before the strategy loop (:func:`prepare`)."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

import numpy as np

from harness.constellation.walker import Constellation, subsatellite_points_deg, subsatellite_tracks_deg
from harness.formats.network import cdeg_steps
from harness.network.routes import PathQuery
from harness.network.spill import is_spilled, spill
from harness.network.topology import Topology, with_failed_satellites
from harness.placement import PlacementInput
from harness.placement.resources import expert_capacity
from harness.run.estimate import check_memory
from harness.run.steps import build_activations, build_constellation, build_topology, satellite_failure_snapshots
from harness.scenario import Scenario
from harness.seeding import rng_for
from harness.workload import activations as activations_mod
from harness.workload import traffic
from harness.workload.compute import (ComputeTimes, KvReads, compute_times_ns, exact_compute_ns, kv_reads,
                                      memory_times_ns)
from harness.workload.traffic.prefill import chunk_counts, prefill_counts

if TYPE_CHECKING:
    from harness.network.ground.users import GroundSegment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """Everything a scenario's strategies share, built once before the strategy loop.

    ``constellation.positions_m`` and ``.velocities_m_s`` and ``topology.length_m`` (and the
    placement input's) are zero-memory NaN stand-ins: nothing after :func:`prepare` reads them, and
    a long run need not hold them (``harness topology`` and ``harness paths`` build their own,
    whole). The maps' positions are kept instead, as the results files store them: ``map_points``
    and ``map_steps``. With users, ``topology.feasible`` is ``topology.up`` (nothing after
    :func:`prepare` reads it)."""

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
    sunlit: Optional[np.ndarray] = None  # [S, N] with power.enabled (or sun-aware): satellite n lit in snapshot s
    chunks: Optional[tuple] = None  # serving.chunk_tokens: ([R, C, L, E] tokens per expert, [R, C] tokens) per chunk
    kv: Optional[KvReads] = None  # with the roofline: the KV cache attention jobs move (compute.KvReads)
    # satellites.csv's [N] latitude and longitude at snapshot 0, degrees (subsatellite_points_deg)
    map_points: Optional[tuple] = None
    # network.npz's lat_step_cdeg and lon_step_cdeg, [S, N] int16 (harness/formats/network.py)
    map_steps: Optional[tuple] = None


def prepare(scenario: Scenario) -> Prepared:
    """Constellation, topology, activations, placement input, compute times and request starts.

    Refuses (ScenarioError) a scenario whose estimated peak memory exceeds what is available,
    before anything is allocated."""
    check_memory(scenario)
    constellation = build_constellation(scenario)
    # Placement does not foresee satellite failures; routes and the packet engine see them.
    healthy = build_topology(scenario, constellation, with_failures=False, lengths=False)
    # What no later step reads is let go as soon as it has been read (docs/performance.md, memory):
    # the satellites' velocities ([S, N, 3], for the ISLs' tracking rule) and the links' lengths
    # ([S, L]; the delays are kept) give way to zero-memory read-only NaN arrays of the same shapes.
    constellation = dataclasses.replace(constellation, velocities_m_s=_released(constellation.velocities_m_s))
    healthy = dataclasses.replace(healthy, length_m=_released(healthy.length_m))
    failed_from = satellite_failure_snapshots(scenario, healthy)
    topology = healthy if failed_from is None else with_failed_satellites(healthy, failed_from)
    fail_ns = None
    if failed_from is not None:
        times_ns = np.round(topology.times_s * 1e9).astype(np.int64)
        fail_ns = np.where(failed_from < topology.num_snapshots,
                           times_ns[np.minimum(failed_from, topology.num_snapshots - 1)], -1)
        log.info("%d satellites fail during the run", int((fail_ns >= 0).sum()))
    gateway_ns, expert_ns, lm_head_ns = compute_times_ns(scenario.model, scenario.compute.satellite_flops)
    requests = counts = chunks = None
    if scenario.serving.enabled or scenario.users.enabled:
        requests = traffic.build_requests(scenario, gateway_ns, lm_head_ns)
    prompt = requests.max_prompt_tokens if requests is not None else 0
    trace = build_activations(scenario, prompt_tokens=prompt)
    probabilities = trace.probabilities()  # the prompts' tokens too: they load the experts as well
    if prompt:
        counts = prefill_counts(trace.experts[:, :prompt], requests.prompt_tokens, scenario.model.experts)
        if scenario.serving.chunk_tokens:
            chunks = chunk_counts(trace.experts[:, :prompt], requests.prompt_tokens, scenario.model.experts,
                                  scenario.serving.chunk_tokens)
        trace = activations_mod.ActivationTrace(experts=np.ascontiguousarray(trace.experts[:, prompt:]),
                                                num_experts=trace.num_experts)
    memory = kv = None
    place_gateway_ns, place_expert_ns = gateway_ns, expert_ns
    if scenario.compute.memory_bytes_per_s is not None:
        memory = ComputeTimes(*memory_times_ns(scenario.model, scenario.compute.memory_bytes_per_s,
                                              scenario.compute.weight_bytes), heads=scenario.model.heads)
        # The placements weigh one token's job as it runs: the roofline's larger side (a decode
        # step is memory-bound on every real board, so the FLOP time alone would be 100-1000x short).
        # A gateway's step also reads its request's KV cache: the placements take the mean decode
        # step's (every request's prompt, with prefill, and output tokens so far).
        kv = kv_reads(scenario.model, scenario.compute.memory_bytes_per_s)
        place_gateway_ns = np.maximum(gateway_ns, memory.gateway_ns + _mean_kv_read_ns(kv, scenario, requests))
        place_expert_ns = np.maximum(expert_ns, memory.expert_ns)
    inputs = PlacementInput(topology=healthy, arg_latitude_rad=constellation.arg_latitude_rad,
                            probabilities=probabilities, layers=scenario.model.layers,
                            experts=scenario.model.experts, subnets=scenario.placement.subnets,
                            plane_of=constellation.plane_of, gateway_ns=place_gateway_ns, expert_ns=place_expert_ns,
                            max_shards=scenario.placement.max_shards, heads=scenario.model.heads,
                            max_replicas=scenario.placement.max_replicas,
                            expert_capacity=expert_capacity(
                                scenario.model, memory_gb=scenario.compute.memory_gb,
                                weight_bytes=scenario.compute.weight_bytes,
                                context_tokens=scenario.traffic.requests * scenario.traffic.tokens_per_request))
    starts = np.round(np.arange(scenario.traffic.requests) * scenario.traffic.request_spacing_s * 1e9)
    if requests is not None:
        starts = requests.arrival_ns
    ground = site_of = None
    if scenario.users.enabled:
        from harness.network.ground.users import draw_users, ground_segment, user_sites

        sites = user_sites(scenario.users)
        ground = ground_segment(constellation, topology, sites, epoch_utc=scenario.constellation.epoch,
                                convention=scenario.ground.convention,
                                min_elevation_deg=scenario.ground.min_elevation_deg, whole=False)
        site_of = draw_users(sites, scenario.traffic.requests, rng_for(scenario.seed, "users"))
        topology = ground.topology  # ground nodes never relay (one GSL up at a time): satellite routes unchanged
        if failed_from is None:
            # The placement's topology is the extended one's first columns (the ISLs, the same
            # values): views, so a long run does not hold its [S, L] arrays twice.
            isls = healthy.num_links
            inputs = dataclasses.replace(inputs, topology=Topology(
                num_nodes=healthy.num_nodes, edges=healthy.edges, times_s=healthy.times_s,
                length_m=topology.length_m[:, :isls], delay_ns=topology.delay_ns[:, :isls],
                up=topology.up[:, :isls], feasible=topology.feasible[:, :isls]))
            healthy = None
    lit = None
    if scenario.power.enabled or "sun-aware" in scenario.strategies:
        from harness.constellation.sun import sunlit

        lit = sunlit(constellation, scenario.constellation.epoch)
        log.info("sunlit: %.1f %% of (snapshot, satellite) pairs", 100.0 * lit.mean())
        inputs = dataclasses.replace(inputs, sunlit=lit)
    # The satellites' positions ([S, N, 3] float64) are read for the last time: the maps keep them
    # as the results files store them (int16 steps of hundredths of a degree, a sixth of the size).
    map_points = subsatellite_points_deg(constellation, scenario.constellation.epoch)
    map_steps = map_tracks(constellation, scenario.constellation.epoch)
    constellation = dataclasses.replace(constellation, positions_m=_released(constellation.positions_m))
    topology = dataclasses.replace(topology, length_m=_released(topology.length_m))
    inputs = dataclasses.replace(inputs, topology=dataclasses.replace(inputs.topology,
                                                                      length_m=_released(inputs.topology.length_m)))
    topology, inputs = _spilled(topology, inputs)
    map_steps = tuple(spill(steps) for steps in map_steps)  # read again only for network.npz
    if ground is not None:
        ground = dataclasses.replace(ground, topology=topology)
    healthy = None
    return Prepared(constellation, topology, trace, inputs, PathQuery(topology, scenario.routing.metric),
                    ComputeTimes(gateway_ns, expert_ns, lm_head_ns, heads=scenario.model.heads,
                                 exact=exact_compute_ns(scenario.model, scenario.compute.satellite_flops)),
                    starts.astype(np.int64), int(round(scenario.snapshots.horizon_s * 1e9)), fail_ns,
                    requests, counts, memory, ground, site_of, lit, chunks, kv, map_points, map_steps)


def map_tracks(constellation: Constellation, epoch_utc) -> tuple[np.ndarray, np.ndarray]:
    """network.npz's ``lat_step_cdeg`` and ``lon_step_cdeg`` ([S, N] int16, harness/formats/network.py)
    of every satellite at every snapshot, made in blocks of snapshots: the float64 temporaries stay
    bounded however long the run, and the values are those of the whole at once (elementwise
    arithmetic; the steps continue from each block's last row)."""
    steps, n = constellation.num_snapshots, constellation.num_satellites
    lat_steps, lon_steps = np.empty((steps, n), np.int16), np.empty((steps, n), np.int16)
    lat_last = lon_last = None
    for first in range(0, steps, _SNAPSHOT_BLOCK):
        block = slice(first, min(steps, first + _SNAPSHOT_BLOCK))
        lat, lon = subsatellite_tracks_deg(constellation, epoch_utc, block)
        lat_cdeg, lon_cdeg = np.round(lat * 100).astype(np.int32), np.round(lon * 100).astype(np.int32)
        lat_steps[block] = cdeg_steps(lat_cdeg, lat_last)
        lon_steps[block] = cdeg_steps(lon_cdeg, lon_last, wrap=36000)
        lat_last, lon_last = lat_cdeg[-1], lon_cdeg[-1]
    return lat_steps, lon_steps


#: Snapshots per block of :func:`map_tracks`.
_SNAPSHOT_BLOCK = 256


def _spilled(topology: Topology, inputs: PlacementInput) -> tuple[Topology, PlacementInput]:
    """The topology and the placement input with their [S, L] delays and link states moved to
    files that the readers hold a window of snapshots at a time (harness/network/spill.py): the same
    values, read-only. An array the placement input shares with the topology (the same array, or
    its first columns) stays shared."""
    made: dict[int, np.ndarray] = {}

    def moved(values: np.ndarray) -> np.ndarray:
        if is_spilled(values):
            return values  # made in a file already (and shared as it is)
        root = values
        while isinstance(root.base, np.ndarray):
            root = root.base
        if id(root) not in made:
            made[id(root)] = spill(root)
        out = made[id(root)]
        if values is root:
            return out
        if (values.ndim == 2 and root.ndim == 2 and values.strides == root.strides and values.shape[0] == root.shape[0]
                and values.__array_interface__["data"][0] == root.__array_interface__["data"][0]):
            return out[:, :values.shape[1]]  # the first columns (the placement's ISLs)
        return spill(values)

    def spilled(t: Topology) -> Topology:
        return dataclasses.replace(t, delay_ns=moved(t.delay_ns), up=moved(t.up), feasible=moved(t.feasible))

    return spilled(topology), dataclasses.replace(inputs, topology=spilled(inputs.topology))


def _mean_kv_read_ns(kv: KvReads, scenario: Scenario, requests: Optional[traffic.Requests]) -> np.ndarray:
    """[L] the mean decode step's KV-cache read at each gateway, ns: over every request's decode
    steps (context = its prompt, with serving.prefill, + the step's position), whole ns."""
    tokens = scenario.traffic.tokens_per_request
    if requests is not None:
        prompts = requests.prompt_tokens.astype(np.int64) if scenario.serving.prefill else \
            np.zeros(len(requests.output_tokens), dtype=np.int64)
        outputs = requests.output_tokens.astype(np.int64)
    else:
        prompts = np.zeros(scenario.traffic.requests, dtype=np.int64)
        outputs = np.full(scenario.traffic.requests, tokens, dtype=np.int64)
    # a decode step's cached tokens (the C++ GetKvBytes): prompt + t - 1 for t >= 1 after a prompt, else t
    t = np.arange(tokens, dtype=np.int64)[None, :]
    cached = np.where(prompts[:, None] > 0, prompts[:, None] + t - 1, t)
    steps = (t < outputs[:, None]) & ((prompts[:, None] == 0) | (t >= 1))
    if not steps.any():
        return np.zeros(scenario.model.layers, dtype=np.int64)
    layers = np.arange(scenario.model.layers)[:, None]
    mean = kv.bytes(layers, cached[steps][None, :], 1).mean(axis=1)
    return kv.read_ns(mean)


def _released(values: np.ndarray) -> np.ndarray:
    """A read-only array of ``values``' shape and dtype, all NaN, that takes no memory."""
    return np.broadcast_to(np.array(np.nan, dtype=values.dtype), values.shape)
