"""A scenario end to end: constellation -> topology -> activations -> placement -> routes ->
packet simulation -> traces and summary.

Each step is a pure function of its own module; this one only wires them in order. Randomness
comes from the scenario's seed through one numpy Generator per purpose, so the same scenario and
seed give byte-identical traces whatever strategies are listed alongside.
"""

from __future__ import annotations

import logging
import time
import zlib
from dataclasses import dataclass

import numpy as np

from . import activations as activations_mod
from .analysis import latency_summary
from .constellation import Constellation, walker_constellation
from .model import compute_times_ns
from .packet_sim import ComputeTimes, run_packet_sim
from .placement import PlacementInput, place
from .routes import shortest_delay_routes, unreachable_pairs
from .scenario import Scenario
from .topology import Topology, isl_topology, plus_grid_edges
from .traces import StrategyTrace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """Every strategy's trace and the summary of a scenario run."""

    traces: list[StrategyTrace]
    summary: dict


def rng_for(seed: int, purpose: str) -> np.random.Generator:
    """An independent Generator per purpose (e.g. 'activations', 'placement:rand-intra')."""
    return np.random.default_rng([seed, zlib.crc32(purpose.encode())])


def build_constellation(scenario: Scenario) -> Constellation:
    c = scenario.constellation
    return walker_constellation(kind=c.kind, planes=c.planes, sats_per_plane=c.sats_per_plane,
                                phasing=c.phasing, altitude_km=c.altitude_km,
                                inclination_deg=c.inclination_deg, epoch_utc=c.epoch,
                                snapshot_count=scenario.snapshots.count,
                                snapshot_interval_s=scenario.snapshots.interval_s)


def build_topology(scenario: Scenario, constellation: Constellation) -> Topology:
    c, links = scenario.constellation, scenario.links
    edges = plus_grid_edges(kind=c.kind, planes=c.planes, sats_per_plane=c.sats_per_plane, phasing=c.phasing)
    return isl_topology(constellation, edges, grazing_altitude_km=links.grazing_altitude_km,
                        max_angular_rate_rad_s=links.max_angular_rate_rad_s,
                        polar_cutoff_deg=links.polar_cutoff_deg,
                        survival_probability=links.survival_probability,
                        rng=rng_for(scenario.seed, "outages"))


def build_activations(scenario: Scenario) -> activations_mod.ActivationTrace:
    m, t, a = scenario.model, scenario.traffic, scenario.activations
    shape = dict(requests=t.requests, tokens=t.tokens_per_request, layers=m.layers, experts=m.experts,
                 top_k=m.top_k)
    if a.kind == "file":
        return activations_mod.load_trace(scenario.resolve(a.path), **shape)
    return activations_mod.synthetic_trace(**shape, skew=a.skew, stickiness=a.stickiness,
                                           rng=rng_for(scenario.seed, "activations"))


def run_scenario(scenario: Scenario) -> RunResult:
    """Run every strategy of the scenario through ns-3 and summarise."""
    clock = time.perf_counter()
    constellation = build_constellation(scenario)
    topology = build_topology(scenario, constellation)
    trace = build_activations(scenario)
    log.info("constellation %d satellites, %d ISLs, %d snapshots (%.2f s)", topology.num_nodes,
             topology.num_links, topology.num_snapshots, time.perf_counter() - clock)
    inputs = PlacementInput(topology=topology, arg_latitude_rad=constellation.arg_latitude_rad,
                            probabilities=trace.probabilities(), layers=scenario.model.layers,
                            experts=scenario.model.experts)
    gateway_ns, expert_ns, lm_head_ns = compute_times_ns(scenario.model, scenario.compute.satellite_flops)
    compute = ComputeTimes(gateway_ns, expert_ns, lm_head_ns)
    request_starts_ns = np.round(np.arange(scenario.traffic.requests) * scenario.traffic.request_spacing_s
                                 * 1e9).astype(np.int64)
    stop_ns = int(round(scenario.snapshots.horizon_s * 1e9))

    traces, summary = [], {"scenario": scenario.name, "seed": scenario.seed, "strategies": {}}
    for name in scenario.strategies:
        clock = time.perf_counter()
        placement = place(name, inputs, rng_for(scenario.seed, f"placement:{name}"))
        routes = shortest_delay_routes(topology, np.sort(placement.components))
        cut = unreachable_pairs(routes, placement.message_pairs())
        if len(cut):
            first = cut[0]
            log.warning("%s: %d (snapshot, pair) combinations have no route, e.g. satellite %d cannot reach "
                        "%d in snapshot %d (t = %.3f s); tokens crossing them stall", name, len(cut), first[1],
                        first[2], first[0], topology.times_s[first[0]])
        result = run_packet_sim(topology=topology, routes=routes, links=scenario.links,
                                gateways=placement.gateways, experts=placement.experts,
                                activations=trace.experts, compute=compute,
                                request_starts_ns=request_starts_ns,
                                message_bytes=scenario.model.hidden_bytes, seed=scenario.seed, stop_ns=stop_ns)
        traces.append(StrategyTrace(name, result.token_start_ns, result.token_end_ns, result.combine_ns,
                                    trace.experts, placement.gateways, placement.experts))
        stats = latency_summary(result.latency_ns)
        stats.update(packets_sent=result.packets_sent, packets_received=result.packets_received,
                     packets_dropped_no_route=result.packets_dropped_no_route,
                     packets_dropped_queue=result.packets_dropped_queue,
                     packets_dropped_link_down=result.packets_dropped_link_down,
                     unreachable_pair_snapshots=int(len(cut)),
                     unreachable_examples=[{"snapshot": int(s), "time_s": float(topology.times_s[s]),
                                            "from_sat": int(a), "to_sat": int(b)} for s, a, b in cut[:10]])
        summary["strategies"][name] = stats
        log.info("%s: %d/%d tokens completed (%.2f s)", name, stats["completed"], stats["tokens"],
                 time.perf_counter() - clock)
        if stats["completed"] < stats["tokens"]:
            log.warning("%s: %d tokens did not complete within the %.3f s horizon (snapshots.count x "
                        "interval_s); lengthen it or send fewer tokens", name,
                        stats["tokens"] - stats["completed"], scenario.snapshots.horizon_s)
    return RunResult(traces, summary)
