"""Rules that tie several scenario keys together, checked when a scenario is read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from harness.errors import ScenarioError
from harness.names import CLUSTER_STRATEGIES, REPLICA_STRATEGIES, STRATEGY_NAMES, TENSOR_PARALLEL_STRATEGIES
from harness.scenario.schema import (APP_HEADER_BYTES, IPV4_HEADER_BYTES, MAX_ACTIVATIONS, MAX_COMPUTE_S, MAX_HORIZON_S,
                                     MAX_SATELLITES, MAX_SEGMENT_PAYLOAD_BYTES, SGP4_ALTITUDE_MARGIN_KM, UDP_HEADER_BYTES, _show)

from harness.scenario.model import expert_flops, gateway_flops_per_layer, kv_bytes_per_token, lm_head_flops

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
    if c.kind == "cluster":
        _check_cluster(sc, source)
    else:
        for name in sc.strategies:
            if name in CLUSTER_STRATEGIES:
                raise ScenarioError(f"{source}: strategy {_show(name)} is designed for a formation mesh "
                                    f"(constellation kind 'cluster'), not kind {_show(c.kind)}; drop it from "
                                    f"'strategies'")
    if c.kind != "cluster" and m.num_components > c.num_satellites:
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
    if len(set(sc.strategies)) != len(sc.strategies):
        raise ScenarioError(f"{source}: 'strategies' lists a strategy twice; list each once")
    if sc.links.segment_payload_bytes < 64:
        raise ScenarioError(f"{source}: 'links.mtu_bytes' {sc.links.mtu_bytes} leaves no room for a payload after "
                            f"the {IPV4_HEADER_BYTES + UDP_HEADER_BYTES + APP_HEADER_BYTES} header bytes; use >= 128")
    if sc.links.segment_payload_bytes > MAX_SEGMENT_PAYLOAD_BYTES:  # the packet engine's MoeTrafficPlan limit
        raise ScenarioError(f"{source}: 'links.mtu_bytes' {sc.links.mtu_bytes} gives "
                            f"{sc.links.segment_payload_bytes} payload bytes per packet, more than the packet "
                            f"engine's {MAX_SEGMENT_PAYLOAD_BYTES}; use <= "
                            f"{MAX_SEGMENT_PAYLOAD_BYTES + IPV4_HEADER_BYTES + UDP_HEADER_BYTES + APP_HEADER_BYTES}")
    t = sc.traffic
    entries = t.requests * t.tokens_per_request * m.layers * m.top_k
    if entries > MAX_ACTIVATIONS:
        raise ScenarioError(f"{source}: traffic.requests x traffic.tokens_per_request x model.layers x model.top_k "
                            f"= {entries} activations, more than {MAX_ACTIVATIONS}; lower 'traffic.requests' or "
                            f"'traffic.tokens_per_request'")
    if (t.requests - 1) * t.request_spacing_s > MAX_HORIZON_S:
        raise ScenarioError(f"{source}: the last request starts at {(t.requests - 1) * t.request_spacing_s:g} s, "
                            f"beyond {MAX_HORIZON_S:g} s; lower 'traffic.request_spacing_s' or 'traffic.requests'")

    _check_model_shape(m, source)
    for key, flops in (("gateway_flops", max(gateway_flops_per_layer(m))), ("expert_flops", expert_flops(m)),
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
    _check_recovery(sc, source)
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


def _check_model_shape(m, source: str) -> None:
    """The attention kind's keys, dense layers and sliding windows (issue 27)."""
    mla_keys = ("q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim")
    if m.attention == "mla":
        for key in ("kv_lora_rank", "v_head_dim"):
            if not getattr(m, key):
                raise ScenarioError(f"{source}: 'model.attention' is 'mla' but 'model.{key}' is 0; give the "
                                    f"config's {key} (DeepSeek-V3: kv_lora_rank 512, v_head_dim 128)")
        if not m.qk_nope_head_dim + m.qk_rope_head_dim:
            raise ScenarioError(f"{source}: 'model.attention' is 'mla' but 'model.qk_nope_head_dim' and "
                                f"'model.qk_rope_head_dim' are both 0; give the config's (DeepSeek-V3: 128 and 64)")
        if m.kv_heads is not None or m.head_dim is not None:
            raise ScenarioError(f"{source}: 'model.kv_heads' and 'model.head_dim' do not apply to 'mla' attention "
                                f"(its heads share one latent); remove them")
    else:
        for key in mla_keys:
            if getattr(m, key):
                raise ScenarioError(f"{source}: 'model.{key}' applies to 'mla' attention only, but 'model.attention' "
                                    f"is {_show(m.attention)}; set attention: mla or remove {key}")
        if m.attention == "gqa" and m.kv_heads is None:
            raise ScenarioError(f"{source}: 'model.attention' is 'gqa' but 'model.kv_heads' is not set; give the "
                                f"config's num_key_value_heads")
        kv = m.kv_heads if m.kv_heads is not None else m.heads
        if m.heads % kv:
            raise ScenarioError(f"{source}: 'model.kv_heads' {kv} does not divide 'model.heads' {m.heads}; each "
                                f"key/value head serves heads / kv_heads query heads")
        if m.attention == "mha" and kv != m.heads:
            raise ScenarioError(f"{source}: 'model.kv_heads' {kv} differs from 'model.heads' {m.heads} under 'mha' "
                                f"attention; set attention: gqa")
        if m.head_dim is None and m.hidden_size % m.heads:
            raise ScenarioError(f"{source}: 'model.hidden_size' {m.hidden_size} is not a multiple of 'model.heads' "
                                f"{m.heads}; give 'model.head_dim'")
    if m.has_dense_layers and not m.dense_ffn_size:
        raise ScenarioError(f"{source}: the model has dense layers (first_dense_layers {m.first_dense_layers}, "
                            f"moe_interval {m.moe_interval}) but 'model.dense_ffn_size' is 0; give the config's "
                            f"intermediate_size")
    if m.sliding_window_pattern and not m.sliding_window:
        raise ScenarioError(f"{source}: 'model.sliding_window_pattern' is set but 'model.sliding_window' is 0; give "
                            f"the window or remove the pattern")


#: Strategies that need a Walker +Grid (plane x slot ids): refused on clusters.
GRID_STRATEGIES = ("compact", "compact-tp", "compact-packed-tp")


def _check_cluster(sc: Scenario, source: str) -> None:
    """A formation cluster's geometry, mesh and strategies (harness/constellation/cluster.py,
    harness/network/mesh.py); every check on the Clohessy-Wiltshire design, before SGP4 runs."""
    import math

    import numpy as np

    from harness.constellation.cluster import FORMATIONS, cw_positions_m, lattice_points, min_separation_m
    from harness.constellation.walker import EARTH_RADIUS_KM

    c, links, m = sc.constellation, sc.links, sc.model
    if math.sin(math.radians(c.inclination_deg)) < math.sin(math.radians(1.0)):
        raise ScenarioError(f"{source}: a cluster's reference orbit at inclination {c.inclination_deg:g} deg has no "
                            f"well-defined node (its cross-track motion is set by the node); use an inclination "
                            f"between 1 and 179 deg")
    if c.spacing_m > c.cluster_radius_m:
        raise ScenarioError(f"{source}: 'constellation.spacing_m' {c.spacing_m:g} m is larger than "
                            f"'constellation.cluster_radius_m' {c.cluster_radius_m:g} m; lower the spacing or raise "
                            f"the radius")
    points = lattice_points(c.lattice, c.spacing_m, c.sats_per_cluster)
    reach = float(np.hypot(points[:, 0], points[:, 1]).max())
    if reach > c.cluster_radius_m * (1 + 1e-9):
        raise ScenarioError(f"{source}: {c.sats_per_cluster} satellites of a {c.lattice} lattice {c.spacing_m:g} m "
                            f"apart reach {reach:.0f} m from the centre, beyond 'constellation.cluster_radius_m' "
                            f"{c.cluster_radius_m:g} m; raise the radius, or lower spacing_m or sats_per_cluster")
    closest = min_separation_m(points, c.formation)
    if closest < c.min_separation_m:
        raise ScenarioError(f"{source}: the cluster would intersect itself: two satellites come {closest:.1f} m "
                            f"apart over an orbit, closer than 'constellation.min_separation_m' "
                            f"{c.min_separation_m:g} m; raise spacing_m")
    a_km = EARTH_RADIUS_KM + c.altitude_km
    extent_m = float(np.linalg.norm(cw_positions_m(points, c.formation, np.linspace(0, 2 * np.pi, 72)),
                                    axis=-1).max())
    if c.clusters >= 2:
        gap_km = c.cluster_separation_km if c.cluster_separation_km is not None else 2 * math.pi * a_km / c.clusters
        if gap_km * 1e3 < 2 * extent_m + c.min_separation_m:
            raise ScenarioError(f"{source}: clusters {gap_km:g} km apart along-track would touch (each reaches "
                                f"{extent_m:.0f} m from its centre, 'min_separation_m' {c.min_separation_m:g}); "
                                f"raise 'constellation.cluster_separation_km'")
        if gap_km * c.clusters > 2 * math.pi * a_km * (1 + 1e-12):
            raise ScenarioError(f"{source}: {c.clusters} clusters {gap_km:g} km apart go round the orbit "
                                f"({2 * math.pi * a_km:.0f} km) more than once; lower 'constellation.cluster_separation_km'")
        chord_km = 2 * a_km * math.sin(gap_km / a_km / 2)
        if chord_km > links.long_range_max_km:
            raise ScenarioError(f"{source}: consecutive clusters are {chord_km:.1f} km apart, beyond "
                                f"'links.long_range_max_km' {links.long_range_max_km:g}; raise it or lower "
                                f"'constellation.cluster_separation_km'")
        lowest_km = a_km * math.cos(gap_km / a_km / 2) - EARTH_RADIUS_KM
        if links.grazing_altitude_km is not None and lowest_km < links.grazing_altitude_km:
            raise ScenarioError(f"{source}: the long-range ISL between consecutive clusters {gap_km:g} km apart "
                                f"dips to {lowest_km:.0f} km, below 'links.grazing_altitude_km' "
                                f"{links.grazing_altitude_km:g}; set 'constellation.cluster_separation_km' smaller")
        if links.long_range_links > c.sats_per_cluster:
            raise ScenarioError(f"{source}: 'links.long_range_links' {links.long_range_links} is more than the "
                                f"{c.sats_per_cluster} satellites of a cluster; lower it")
    if links.max_length_km is None or links.terminals is None:
        missing = "max_length_km" if links.max_length_km is None else "terminals"
        raise ScenarioError(f"{source}: kind 'cluster' needs 'links.{missing}' (the mesh: pairs within "
                            f"max_length_km are candidates for one of each satellite's 'terminals'); give it")
    pos = cw_positions_m(points, c.formation, 0.0)
    dist = np.linalg.norm(pos[:, None] - pos[None, :], axis=-1)
    neighbours = ((dist <= links.max_length_km * 1e3) & ~np.eye(len(points), dtype=bool)).sum(axis=1)
    if c.sats_per_cluster > 1 and neighbours.max() == 0:
        raise ScenarioError(f"{source}: no two satellites of a cluster are within 'links.max_length_km' "
                            f"{links.max_length_km:g} km ({c.spacing_m:g} m apart); raise it to at least "
                            f"{c.spacing_m / 1e3:g}")
    if links.terminals > neighbours.max():
        raise ScenarioError(f"{source}: 'links.terminals' {links.terminals} is more than the {int(neighbours.max())} "
                            f"neighbours any satellite has within 'links.max_length_km' {links.max_length_km:g} km; "
                            f"lower terminals or raise max_length_km")
    if c.sats_per_cluster > 1:  # the packet engine gives each satellite its address on an ISL: it needs one
        from harness.constellation.cluster import greedy_mesh

        degree = np.bincount(greedy_mesh(pos, links.max_length_km * 1e3, links.terminals).ravel(),
                             minlength=len(points))
        if (degree == 0).any():
            raise ScenarioError(f"{source}: the cluster's mesh leaves satellite {int(np.argmin(degree))} of each "
                                f"cluster without a link ('links.terminals' {links.terminals}: the shortest pairs "
                                f"take every terminal first); raise terminals or 'links.max_length_km'")
    if sc.placement.subnets == "planes":
        raise ScenarioError(f"{source}: 'placement.subnets' 'planes' cuts whole orbital planes, and a cluster's "
                            f"satellites share one orbit; use 'arcs' (along-track slabs of the clusters)")
    for name in sc.strategies:
        if name in GRID_STRATEGIES:
            raise ScenarioError(f"{source}: strategy {_show(name)} walks a Walker +Grid of planes and slots, which "
                                f"a cluster does not have; drop it from 'strategies' (use mesh-tp)")
        if name != "mesh-tp" and m.num_components > c.num_satellites:
            raise ScenarioError(f"{source}: strategy {_show(name)} puts each component on its own satellite: "
                                f"{m.num_components} ({m.layers} layers x (1 gateway + {m.experts} experts)) but "
                                f"the cluster(s) have {c.num_satellites}; drop it from 'strategies' (mesh-tp packs "
                                f"experts by memory) or add satellites")
    if "mesh-tp" in sc.strategies and m.layers >= c.num_satellites:
        raise ScenarioError(f"{source}: strategy 'mesh-tp' gives each of the {m.layers} layers' gateways a "
                            f"satellite of its own and needs at least one more for the experts, but there are "
                            f"{c.num_satellites}; add satellites")


def _check_recovery(sc: Scenario, source: str) -> None:
    """faults.recovery (issue 24): fail-over needs a second replica; re-placement a second replica
    (the weights' holder) and a spare satellite."""
    f, v = sc.faults, sc.serving
    if f.recovery == "none":
        return
    if v.replicas < 2:
        what = ("another replica to fail over to" if f.recovery == "failover" else
                "another replica's copy of a lost component to load its weights from")
        raise ScenarioError(f"{source}: 'faults.recovery' is {_show(f.recovery)} but 'serving.replicas' is "
                            f"{v.replicas}: it needs {what}; set serving.replicas: 2 or more, or recovery: none")
    if v.disaggregated or sc.users.enabled:
        what = "disaggregated serving (serving.prefill_replicas)" if v.disaggregated else "a users section"
        raise ScenarioError(f"{source}: 'faults.recovery' {_show(f.recovery)} does not model {what} (a request "
                            f"moves between replicas only at layer 0's gateway); set recovery: none or drop it")
    sharded = [name for name in sc.strategies if name in TENSOR_PARALLEL_STRATEGIES + REPLICA_STRATEGIES]
    if sharded:
        raise ScenarioError(f"{source}: 'faults.recovery' does not model strategy '{sharded[0]}' (its shards "
                            f"or expert copies have no failure model); drop that strategy or set recovery: none")
    if f.recovery == "replace":
        spares = sc.constellation.num_satellites - v.replicas * sc.model.num_components
        if spares < 1:
            raise ScenarioError(f"{source}: 'faults.recovery' is 'replace' but no satellite is spare: "
                                f"{v.replicas} replicas x {sc.model.num_components} components fill all "
                                f"{sc.constellation.num_satellites}; lower serving.replicas, add satellites, or "
                                f"use recovery: failover")


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
    if v.arrivals == "poisson" and v.rate_per_s is not None and sc.traffic.requests / v.rate_per_s > MAX_HORIZON_S:
        raise ScenarioError(f"{source}: {sc.traffic.requests} Poisson arrivals at 'serving.rate_per_s' "
                            f"{v.rate_per_s:g} last about traffic.requests / rate_per_s = "
                            f"{sc.traffic.requests / v.rate_per_s:g} s, beyond {MAX_HORIZON_S:g} s (simulated time is "
                            f"int64 ns); raise rate_per_s or lower 'traffic.requests'")
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
    # A tensor-parallel layer's shards run the roofline for their share of the gateway's work, one
    # token, a prefill or a batch of decode steps (ShardWork, RunStep's SHARD steps): no refusal.
    tp = [name for name in sc.strategies if name in TENSOR_PARALLEL_STRATEGIES]
    p = v.prompt
    if p.low > p.high:
        raise ScenarioError(f"{source}: 'serving.prompt.low' {p.low} is above 'serving.prompt.high' {p.high}; "
                            f"swap them")
    if v.chunk_tokens and not v.prefill:
        raise ScenarioError(f"{source}: 'serving.chunk_tokens' {v.chunk_tokens} is set but 'serving.prefill' is "
                            f"false, so there is no prompt to chunk; set prefill: true or remove chunk_tokens")
    if v.prefill:
        if m.dispatch != "parallel":
            raise ScenarioError(f"{source}: 'serving.prefill' needs 'model.dispatch' 'parallel' (a prompt's tokens "
                                f"go to many experts at once); set dispatch: parallel or prefill: false")
        problem = prefill_problem(sc, p.tokens if p.kind == "fixed" else p.high)
        if problem:
            raise ScenarioError(f"{source}: {problem}")
    if (v.prefill_replicas > 0) != (v.decode_replicas > 0):
        given, other = (("prefill_replicas", "decode_replicas") if v.prefill_replicas
                        else ("decode_replicas", "prefill_replicas"))
        raise ScenarioError(f"{source}: 'serving.{given}' is {getattr(v, given)} but 'serving.{other}' is 0: "
                            f"disaggregated serving hands each request from a prefill replica to a decode "
                            f"replica, so it needs both; set {other} or remove {given}")
    if v.disaggregated:
        _check_disaggregated(sc, source, p.tokens if p.kind == "fixed" else p.high)
    if v.enabled and not tp:
        _check_one_request_fits(sc, source, (p.tokens if p.kind == "fixed" else p.high)
                                if v.prefill and v.arrivals != "file" else 0)
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
    if v.replicas * m.num_components > sc.constellation.num_satellites and (
            sc.constellation.kind != "cluster" or v.replicas > 1):
        raise ScenarioError(f"{source}: {v.replicas} replicas need {v.replicas * m.num_components} satellites but "
                            f"the constellation has {sc.constellation.num_satellites}; lower 'serving.replicas'")


def _check_one_request_fits(sc: Scenario, source: str, longest: int) -> None:
    """A serving run's gateways admit requests while their KV caches fit beside the weights: layer
    0's gateway (attention, router, shared experts and the LM head) must hold one request's
    (longest prompt + tokens_per_request tokens). Tensor-parallel strategies split that, and an
    arrivals file's prompts are known later: both are checked once placed (harness/run/strategy.py)."""
    m, c = sc.model, sc.compute
    h = m.hidden_size
    weights = (4.0 * h * h + h * m.experts + 3.0 * h * m.shared_ffn_size + h * m.vocab_size) * c.weight_bytes
    tokens = longest + sc.traffic.tokens_per_request
    kv = float(kv_bytes_per_token(m)) * tokens
    if weights + kv > c.memory_gb * 1e9:
        raise ScenarioError(f"{source}: the KV cache of one request ({tokens} tokens: the longest prompt {longest} + "
                            f"tokens_per_request, {kv / 1e9:.3f} GB a layer) does not fit beside layer 0's gateway "
                            f"weights ({weights / 1e9:.3f} GB) in 'compute.memory_gb' {c.memory_gb:g}; raise "
                            f"memory_gb, shorten serving.prompt or traffic.tokens_per_request, or use a model with "
                            f"fewer KV heads (model.kv_heads)")


def _check_disaggregated(sc: Scenario, source: str, longest: int) -> None:
    """Disaggregated prefill and decode: what it needs of the rest of the scenario."""
    v = sc.serving
    total = v.prefill_replicas + v.decode_replicas
    if not v.prefill:
        raise ScenarioError(f"{source}: 'serving.prefill_replicas' needs 'serving.prefill: true' (without a prompt "
                            f"there is no prefill to separate); set prefill: true or remove prefill_replicas and "
                            f"decode_replicas")
    if v.replicas != total:
        raise ScenarioError(f"{source}: 'serving.replicas' is {v.replicas} but prefill_replicas + decode_replicas = "
                            f"{total}; set replicas: {total} (every model replica is one or the other)")
    if sc.faults.enabled or sc.users.enabled:
        section = "faults" if sc.faults.enabled else "users"
        raise ScenarioError(f"{source}: disaggregated serving (serving.prefill_replicas) does not model the "
                            f"'{section}' section (a KV transfer is neither acknowledged nor sent to the ground); "
                            f"drop {section} or prefill_replicas and decode_replicas")
    segments = -(-longest * kv_bytes_per_token(sc.model) // sc.links.segment_payload_bytes)
    if segments > min(65535, sc.links.queue_packets):
        limit = ("the 65535 a message header counts" if segments > 65535
                 else f"'links.queue_packets' {sc.links.queue_packets}")
        raise ScenarioError(f"{source}: the KV cache of a {longest}-token prompt in one layer is {segments} packets, "
                            f"more than {limit}; raise queue_packets (or links.mtu_bytes) or lower the prompt length")


def prefill_problem(sc: Scenario, longest: int) -> Optional[str]:
    """Why prompts of up to ``longest`` tokens cannot be prefilled in this scenario, or None. Checked
    here for serving.prompt and, at run time, for an arrivals file's prompts (harness/workload/traffic)."""
    m, t = sc.model, sc.traffic
    if sc.serving.chunk_tokens > longest:
        return (f"'serving.chunk_tokens' {sc.serving.chunk_tokens} is larger than the longest prompt ({longest} "
                f"tokens): no prompt would be chunked; set chunk_tokens to at most {longest} (0: no chunking)")
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
