"""Rules that tie several scenario keys together, checked when a scenario is read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from harness.errors import ScenarioError
from harness.names import REPLICA_STRATEGIES, STRATEGY_NAMES, TENSOR_PARALLEL_STRATEGIES
from harness.scenario.schema import (APP_HEADER_BYTES, IPV4_HEADER_BYTES, MAX_ACTIVATIONS, MAX_COMPUTE_S, MAX_HORIZON_S,
                                     MAX_SATELLITES, SGP4_ALTITUDE_MARGIN_KM, UDP_HEADER_BYTES, _show)

from harness.scenario.model import expert_flops, gateway_flops, lm_head_flops

if TYPE_CHECKING:
    from harness.scenario.spec import Scenario


def _check_consistency(sc: Scenario, source: str) -> None:
    """Rules that tie several keys together. Code downstream relies on them and does not check again."""
    c = sc.constellation
    if c.num_satellites > MAX_SATELLITES:
        raise ScenarioError(f"{source}: the constellation has {c.planes} x {c.sats_per_plane} = {c.num_satellites} "
                            f"satellites, more than the {MAX_SATELLITES} the routing tables hold; lower "
                            f"'constellation.planes' or 'constellation.sats_per_plane'")
    if c.kind != "tle" and c.phasing > c.planes - 1:
        raise ScenarioError(f"{source}: 'constellation.phasing' is {c.phasing}; it must be in [0, planes - 1] = "
                            f"[0, {c.planes - 1}]")
    grazing = sc.links.grazing_altitude_km
    if c.kind != "tle" and grazing is not None and grazing >= c.altitude_km - SGP4_ALTITUDE_MARGIN_KM:
        raise ScenarioError(f"{source}: 'links.grazing_altitude_km' {grazing:g} must be below the orbit altitude "
                            f"{c.altitude_km:g} km less {SGP4_ALTITUDE_MARGIN_KM:g} km (SGP4's orbits dip that much "
                            f"below the nominal altitude); lower it (default 80) or set null for no line-of-sight rule")
    horizon_s = sc.snapshots.horizon_s
    if horizon_s > MAX_HORIZON_S:
        raise ScenarioError(f"{source}: the run lasts snapshots.count x snapshots.interval_s = {horizon_s:g} s, more "
                            f"than {MAX_HORIZON_S:g} s (simulated time is int64 ns); lower 'snapshots.count' or "
                            f"'snapshots.interval_s'")
    m = sc.model
    if m.top_k > m.experts:
        raise ScenarioError(f"{source}: 'model.top_k' is {m.top_k} but the model has only {m.experts} experts per "
                            f"layer; lower top_k or raise experts")
    if m.num_components > c.num_satellites:
        raise ScenarioError(f"{source}: the model needs {m.num_components} satellites ({m.layers} layers x "
                            f"(1 gateway + {m.experts} experts)) but the constellation has {c.num_satellites}; "
                            f"add planes or satellites per plane, or shrink the model")
    if sc.placement.subnets == "planes":
        if c.planes < m.layers:
            raise ScenarioError(f"{source}: 'placement.subnets' is 'planes' but the constellation has {c.planes} "
                                f"planes for {m.layers} layers; use 'arcs' or at least {m.layers} planes")
        smallest = (c.planes // m.layers) * c.sats_per_plane
        if smallest < 1 + m.experts:
            raise ScenarioError(f"{source}: with 'placement.subnets' 'planes' a layer gets {smallest} satellites but "
                                f"needs {1 + m.experts} (1 gateway + {m.experts} experts); use 'arcs' or larger planes")
    for name in sc.strategies:
        if name not in STRATEGY_NAMES:
            raise ScenarioError(f"{source}: unknown strategy {_show(name)} in 'strategies'; choose from: "
                                f"{', '.join(STRATEGY_NAMES)}")
    sharded = [name for name in sc.strategies if name in TENSOR_PARALLEL_STRATEGIES + REPLICA_STRATEGIES]
    if sharded and sc.faults.enabled:
        raise ScenarioError(f"{source}: strategy '{sharded[0]}' splits attention over shards or copies experts, "
                            f"which the 'faults' section does not model (no retransmission or failure of a shard "
                            f"or copy); drop the faults section or that strategy")
    if len(set(sc.strategies)) != len(sc.strategies):
        raise ScenarioError(f"{source}: 'strategies' lists a strategy twice; list each once")
    if sc.links.segment_payload_bytes < 64:
        raise ScenarioError(f"{source}: 'links.mtu_bytes' {sc.links.mtu_bytes} leaves no room for a payload after "
                            f"the {IPV4_HEADER_BYTES + UDP_HEADER_BYTES + APP_HEADER_BYTES} header bytes; use >= 128")
    t = sc.traffic
    entries = t.requests * t.tokens_per_request * m.layers * m.top_k
    if entries > MAX_ACTIVATIONS:
        raise ScenarioError(f"{source}: traffic.requests x traffic.tokens_per_request x model.layers x model.top_k "
                            f"= {entries} activations, more than {MAX_ACTIVATIONS}; lower 'traffic.requests' or "
                            f"'traffic.tokens_per_request'")
    if (t.requests - 1) * t.request_spacing_s > MAX_HORIZON_S:
        raise ScenarioError(f"{source}: the last request starts at {(t.requests - 1) * t.request_spacing_s:g} s, "
                            f"beyond {MAX_HORIZON_S:g} s; lower 'traffic.request_spacing_s' or 'traffic.requests'")

    for key, flops in (("gateway_flops", gateway_flops(m)), ("expert_flops", expert_flops(m)),
                       ("lm_head_flops", lm_head_flops(m))):
        if flops / sc.compute.satellite_flops > MAX_COMPUTE_S:
            raise ScenarioError(f"{source}: one token's {key[:-6].replace('_', ' ')} work takes "
                                f"{flops / sc.compute.satellite_flops:g} s at compute.satellite_flops, more than "
                                f"{MAX_COMPUTE_S:g} s; raise 'compute.satellite_flops' or lower 'model.{key}' "
                                f"or the model's dimensions")
    for sat, _ in sc.faults.satellite_failures:
        if sat >= c.num_satellites:
            raise ScenarioError(f"{source}: 'faults.satellite_failures' names satellite {sat} but the constellation "
                                f"has {c.num_satellites} (0 to {c.num_satellites - 1}); fix the satellite number")
    g = sc.ground
    if g.gsl_rule == "max_length" and g.max_gsl_length_km is None:
        raise ScenarioError(f"{source}: 'ground.gsl_rule' is 'max_length' but 'ground.max_gsl_length_km' is not set; "
                            f"give the longest usable link (Hypatia's Kuiper-630: 1260)")
    _check_serving(sc, source)
    _check_power(sc, source)
    u = sc.users
    if u.cities is not None and u.locations:
        raise ScenarioError(f"{source}: 'users.cities' and 'users.locations' are both set; give one of them")
    if sc.serving.replica_policy == "nearest-to-user" and not u.enabled:
        raise ScenarioError(f"{source}: 'serving.replica_policy' is 'nearest-to-user' but there are no users; add a "
                            f"users section (users.cities or users.locations) or choose another policy")
    if u.enabled and g.gsl_rule != "min_elevation":
        raise ScenarioError(f"{source}: users link to the highest satellite above 'ground.min_elevation_deg', but "
                            f"'ground.gsl_rule' is {_show(g.gsl_rule)}; set it to min_elevation (or remove it)")
    a = sc.activations
    if a.kind == "file":
        if not a.path:
            raise ScenarioError(f"{source}: 'activations.kind' is 'file' but 'activations.path' is not set; "
                                f"name the trace file")
        try:
            found = sc.resolve(a.path).is_file()
        except (OSError, ValueError):  # a name too long, a NUL
            found = False
        if not found:
            raise ScenarioError(f"{source}: activation trace {_show(str(sc.resolve(a.path)))} not found; fix "
                                f"'activations.path' (it is relative to the scenario file)")
    elif a.path is not None:
        raise ScenarioError(f"{source}: 'activations.path' is set but 'activations.kind' is 'synthetic'; "
                            f"set kind: file or remove path")


def _check_power(sc: Scenario, source: str) -> None:
    """The power section's cross-key rules (checked whether or not it is enabled)."""
    p = sc.power
    if p.reserve_wh > p.capacity_wh:
        raise ScenarioError(f"{source}: 'power.reserve_wh' {p.reserve_wh:g} Wh is above 'power.capacity_wh' "
                            f"{p.capacity_wh:g} Wh; the reserve is a part of the battery: lower it or raise the capacity")
    if p.compute_busy_w < p.compute_idle_w:
        raise ScenarioError(f"{source}: 'power.compute_busy_w' {p.compute_busy_w:g} W is below 'power.compute_idle_w' "
                            f"{p.compute_idle_w:g} W; a busy board draws at least its idle power")


def _check_serving(sc: Scenario, source: str) -> None:
    """The serving section's cross-key rules."""
    v, m = sc.serving, sc.model
    if v.arrivals == "poisson" and v.rate_per_s is None:
        raise ScenarioError(f"{source}: 'serving.arrivals' is 'poisson' but 'serving.rate_per_s' is not set; give "
                            f"the mean arrival rate in requests per second")
    if v.arrivals != "poisson" and v.rate_per_s is not None:
        raise ScenarioError(f"{source}: 'serving.rate_per_s' is set but 'serving.arrivals' is {_show(v.arrivals)}; "
                            f"set arrivals: poisson or remove rate_per_s")
    if v.arrivals == "file":
        if not v.arrivals_path:
            raise ScenarioError(f"{source}: 'serving.arrivals' is 'file' but 'serving.arrivals_path' is not set; "
                                f"name the arrivals CSV")
        if not sc.resolve(v.arrivals_path).is_file():
            raise ScenarioError(f"{source}: arrivals file {_show(str(sc.resolve(v.arrivals_path)))} not found; fix "
                                f"'serving.arrivals_path' (it is relative to the scenario file)")
    elif v.arrivals_path is not None:
        raise ScenarioError(f"{source}: 'serving.arrivals_path' is set but 'serving.arrivals' is "
                            f"{_show(v.arrivals)}; set arrivals: file or remove arrivals_path")
    # A tensor-parallel layer's shards compute GetShardCompute (gateway FLOPs / m, one token) on their
    # own satellites: serving's batched, prefill and roofline gateway work is not split over them.
    tp = [name for name in sc.strategies if name in TENSOR_PARALLEL_STRATEGIES]
    if tp and sc.placement.max_shards > 1:
        for key, on, fix in (("serving.prefill", v.prefill, "prefill: false"),
                             ("serving.max_batch", v.max_batch > 1, "max_batch: 1"),
                             ("compute.memory_bytes_per_s", sc.compute.memory_bytes_per_s is not None,
                              "memory_bytes_per_s: null")):
            if on:
                raise ScenarioError(f"{source}: '{key}' does not compose with tensor-parallel strategy '{tp[0]}' "
                                    f"(its attention shards run one token's gateway FLOPs / m, not batched, "
                                    f"prefill or roofline work); set {fix}, 'placement.max_shards: 1', or drop "
                                    f"'{tp[0]}' from 'strategies'")
    p = v.prompt
    if p.low > p.high:
        raise ScenarioError(f"{source}: 'serving.prompt.low' {p.low} is above 'serving.prompt.high' {p.high}; "
                            f"swap them")
    if v.prefill:
        if m.dispatch != "parallel":
            raise ScenarioError(f"{source}: 'serving.prefill' needs 'model.dispatch' 'parallel' (a prompt's tokens "
                                f"go to many experts at once); set dispatch: parallel or prefill: false")
        problem = prefill_problem(sc, p.tokens if p.kind == "fixed" else p.high)
        if problem:
            raise ScenarioError(f"{source}: {problem}")
    o, most = v.output, sc.traffic.tokens_per_request
    if o.kind == "fixed" and o.tokens > most:
        raise ScenarioError(f"{source}: 'serving.output.tokens' {o.tokens} is above 'traffic.tokens_per_request' "
                            f"{most} (the activation trace's decode length, the longest output); raise "
                            f"tokens_per_request or lower the output (0: tokens_per_request)")
    if o.kind != "fixed" and not 1 <= o.low <= o.high <= most:
        raise ScenarioError(f"{source}: 'serving.output' draws lengths in [low, high] = [{o.low}, {o.high}], which "
                            f"must lie in [1, traffic.tokens_per_request = {most}] (the longest output); set "
                            f"serving.output.low/high or raise tokens_per_request")
    if v.arrivals != "file" and not v.prefill and (p.kind != "fixed" or p.tokens):
        raise ScenarioError(f"{source}: 'serving.prompt' is set but 'serving.prefill' is false, so prompts would "
                            f"do nothing; set prefill: true or remove prompt")
    if v.replicas * m.num_components > sc.constellation.num_satellites:
        raise ScenarioError(f"{source}: {v.replicas} replicas need {v.replicas * m.num_components} satellites but "
                            f"the constellation has {sc.constellation.num_satellites}; lower 'serving.replicas'")


def prefill_problem(sc: Scenario, longest: int) -> Optional[str]:
    """Why prompts of up to ``longest`` tokens cannot be prefilled in this scenario, or None. Checked
    here for serving.prompt and, at run time, for an arrivals file's prompts (harness/workload/traffic)."""
    m, t = sc.model, sc.traffic
    entries = t.requests * (t.tokens_per_request + longest) * m.layers * m.top_k
    if entries > MAX_ACTIVATIONS:
        return (f"with prefill the activation trace holds traffic.requests x (longest prompt {longest} + "
                f"tokens_per_request) x model.layers x model.top_k = {entries} entries, more than {MAX_ACTIVATIONS}; "
                f"lower 'traffic.requests' or the prompt lengths")
    segments = -(-longest * m.hidden_bytes // sc.links.segment_payload_bytes)
    if segments > 65535:
        return (f"a prefill message of {longest} prompt tokens is {segments} packets, more than the 65535 a "
                f"message header counts; lower the prompt length or raise 'links.mtu_bytes'")
    if sc.links.queue_packets < m.top_k * segments:
        return (f"'links.queue_packets' {sc.links.queue_packets} cannot hold one prefill layer's burst "
                f"({m.top_k} x {segments} packets for {longest} prompt tokens): packets would be dropped and the "
                f"request stall; raise queue_packets to at least {m.top_k * segments}")
    return None
