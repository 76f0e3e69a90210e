"""Serving figures from a run's records: per-request TTFT and TPOT, throughput, and how busy each
satellite was. Pure functions of arrays; harness/formats/requests.py writes and reads the files.
"""

from __future__ import annotations

import logging

import numpy as np

from harness.analysis.summary import PERCENTILES

log = logging.getLogger(__name__)


def request_table(arrival_ns: np.ndarray, replica: np.ndarray, prompt_tokens: np.ndarray,
                  output_tokens: np.ndarray, token_end_ns: np.ndarray,
                  queued_ns: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """``(int64 [R, 11] in REQUEST_COLUMNS order, [R] status)`` of a run's requests.

    ``queued_ns``: how long each request waited at layer 0's gateway for KV-cache memory (-1: it
    never started; None: 0 for every request).

    The first token is token 0's end (the prefill pass's LM head with prefill, else the first
    decode pass); TPOT is ``(last end - first end) / (O - 1)`` rounded to the ns (-1 when O < 2
    or the request did not finish). Times of a request that did not finish are -1.
    """
    requests = len(arrival_ns)
    last = np.asarray(output_tokens) - 1
    end = token_end_ns[np.arange(requests), last]
    first = token_end_ns[:, 0]
    runs = np.arange(token_end_ns.shape[1])[None, :] < np.asarray(output_tokens)[:, None]  # the tokens it has
    done = ((token_end_ns >= 0) | ~runs).all(axis=1)
    ttft = np.where(first >= 0, first - arrival_ns, -1)
    gaps = np.where(last > 0, last, 1)
    tpot = np.where(done & (last > 0), np.round((end - first) / gaps), -1).astype(np.int64)
    e2e = np.where(done, end - arrival_ns, -1)
    queued = np.zeros(requests, dtype=np.int64) if queued_ns is None else np.asarray(queued_ns)
    table = np.column_stack([np.arange(requests), replica, arrival_ns, prompt_tokens, output_tokens,
                             first, np.where(done, end, -1), ttft, tpot, e2e, queued]).astype(np.int64)
    return table, ["completed" if d else "unfinished" for d in done]


def serving_records(req, serving, result, num_satellites: int, ground=None, site_of=None) -> dict:
    """A serving run's records for requests.csv, satellite_busy.csv and, with users on the ground
    (``ground``: a :class:`~harness.network.ground.users.GroundSegment`, ``site_of`` ``[R]``),
    coverage_gaps.csv and user_sites.csv. ``req`` is the run's :class:`~harness.workload.traffic.Requests`,
    ``serving`` the packet engine's :class:`~harness.simulate.inputs.ServingInput`, ``result`` its PacketSimResult."""
    users = gaps = sites = None
    if ground is None:
        table, status = request_table(req.arrival_ns, serving.replica_of, req.prompt_tokens, req.output_tokens,
                                      result.token_end_ns, result.queued_ns)
    else:
        # TTFT and TPOT as the user sees them: the tokens' arrivals at the user.
        table, status = request_table(req.arrival_ns, serving.replica_of, req.prompt_tokens, req.output_tokens,
                                      result.user_token_ns, result.queued_ns)
        users = user_columns(ground, site_of, req.arrival_ns, result.prompt_arrival_ns, result.token_end_ns,
                             result.user_token_ns)
        in_gap = serving.users.user_of < 0
        status = ["coverage-gap" if gap else word for gap, word in zip(in_gap, status)]
        if in_gap.any():
            log.warning("%d requests arrived in a coverage gap of their site (status coverage-gap in requests.csv; "
                        "coverage_gaps.csv lists the gaps)", int(in_gap.sum()))
        gaps, sites = ground.gaps(), ground.sites
    if result.failures is not None and (result.failures[:, 0] != 0).any():  # faults: failed with a reason
        failed = result.failures[:, 0] != 0                               # (tokens.csv says which)
        status = ["failed" if bad and word == "unfinished" else word for bad, word in zip(failed, status)]
    kv = None
    if result.kv_bytes is not None:  # disaggregated: one row per KV message that arrived whole
        r, layer = np.nonzero(result.kv_arrival_ns >= 0)
        kv = np.stack([r, np.asarray(serving.replica_of)[r], np.asarray(serving.decode_of)[r], layer,
                       result.kv_bytes[r, layer], result.kv_arrival_ns[r, layer]], axis=1).astype(np.int64)
    recovery = None
    if result.recovery is not None:  # faults.recovery: fail-overs, re-placements, time lost; failed for good
        recovery = result.recovery[:, [2, 3, 4]].astype(np.int64)
        status = ["failed" if code > 0 and word != "completed" else word
                  for code, word in zip(result.failures[:, 0].tolist(), status)]
    return dict(table=table, status=status, busy_ns=result.busy_ns[:num_satellites], replica=serving.replica_of,
                recovery=recovery,
                output_tokens=req.output_tokens, replica_gateways=serving.replica_gateways,
                replica_experts=serving.replica_experts, users=users, gaps=gaps, sites=sites, kv=kv)


def user_columns(ground, site_of: np.ndarray, arrival_ns: np.ndarray, prompt_arrival_ns: np.ndarray,
                 token_end_ns: np.ndarray, user_token_ns: np.ndarray) -> dict[str, np.ndarray]:
    """requests.csv's user columns (see harness/formats/requests.py), ``[R]`` each.

    ``uplink_ns``: from the request's arrival at its user to its prompt whole at layer 0's gateway;
    ``downlink_ns``: from token 0's end at the gateway to its arrival at the user; ``gsl_ns``: the
    two ground-satellite links' light time in those (the slant range at the arrival's snapshot and at
    token 0's end, over c). -1 where not reached; ``serving_sat`` -1 in a coverage gap.
    """
    from harness.constellation.walker import SPEED_OF_LIGHT_M_S

    rows = np.arange(len(site_of))
    at_arrival = ground.snapshot_of(arrival_ns)
    serving = ground.serving[at_arrival, site_of]
    first_end = token_end_ns[:, 0]
    first_user = user_token_ns[:, 0]
    up_m = ground.range_m[at_arrival, site_of]
    down_m = ground.range_m[ground.snapshot_of(np.maximum(first_end, 0)), site_of]
    gsl = np.rint((up_m + down_m) * (1e9 / SPEED_OF_LIGHT_M_S))
    reached = (first_user >= 0) & (prompt_arrival_ns >= 0) & np.isfinite(gsl)
    return {"site": np.array([ground.sites[g].name for g in site_of], dtype=object),
            "region": np.array([ground.sites[g].region for g in site_of], dtype=object),
            "serving_sat": serving.astype(np.int64),
            "uplink_ns": np.where(prompt_arrival_ns >= 0, prompt_arrival_ns - arrival_ns, -1).astype(np.int64),
            "downlink_ns": np.where((first_user >= 0) & (first_end >= 0), first_user - first_end, -1).astype(np.int64),
            "gsl_ns": np.where(reached, np.nan_to_num(gsl, nan=-1), -1).astype(np.int64)[rows]}


def satellite_busy_ns(num_satellites: int, gateways: np.ndarray, experts: np.ndarray, replica: np.ndarray,
                      activations: np.ndarray, token_end_ns: np.ndarray, compute, prompt_tokens: np.ndarray,
                      prefill_counts) -> np.ndarray:
    """``[N]`` compute each satellite did for the passes that completed, ns.

    ``gateways`` ``[P, L]`` and ``experts`` ``[P, L, E]`` per replica, ``replica`` ``[R]``. A decode
    pass costs ``gateway_ns[l]`` at every gateway, ``expert_ns[l, e]`` at each of its k experts and
    the LM head at layer 0's gateway; a prefill pass P times a gateway's, the routed tokens times
    an expert's, and one LM head.
    """
    requests, tokens, layers, _ = activations.shape
    busy = np.zeros(num_satellites, dtype=np.int64)
    done = token_end_ns >= 0  # [R, T]
    prefill = np.zeros((requests, tokens), dtype=bool)
    if prefill_counts is not None:
        prefill[:, 0] = np.asarray(prompt_tokens) > 0
    decode = done & ~prefill
    rep = np.broadcast_to(np.asarray(replica)[:, None], (requests, tokens))
    # Decode passes: gateways and the LM head.
    per_request = decode.sum(axis=1)
    for_gateway = np.zeros((gateways.shape[0], layers), dtype=np.int64)
    np.add.at(for_gateway, np.asarray(replica), per_request[:, None] * compute.gateway_ns[None, :])
    np.add.at(busy, gateways.ravel(), for_gateway.ravel())
    np.add.at(busy, gateways[np.asarray(replica), 0], per_request * int(compute.lm_head_ns))
    # Decode passes: experts.
    r_idx, t_idx = np.nonzero(decode)
    ids = activations[r_idx, t_idx]  # [n, L, k]
    layer = np.broadcast_to(np.arange(layers)[None, :, None], ids.shape)
    rep_n = np.broadcast_to(rep[r_idx, t_idx][:, None, None], ids.shape)
    np.add.at(busy, experts[rep_n, layer, ids].ravel(), compute.expert_ns[layer, ids].ravel())
    # Prefill passes.
    pre = np.flatnonzero(done[:, 0] & prefill[:, 0])
    if len(pre):
        p = np.asarray(prompt_tokens, dtype=np.int64)[pre]
        rp = np.asarray(replica)[pre]
        np.add.at(busy, gateways[rp].ravel(), (p[:, None] * compute.gateway_ns[None, :]).ravel())
        np.add.at(busy, gateways[rp, 0], int(compute.lm_head_ns))
        counts = np.asarray(prefill_counts, dtype=np.int64)[pre]  # [n, L, E]
        np.add.at(busy, experts[rp].ravel(), (counts * compute.expert_ns[None]).ravel())
    return busy


def _percentiles(values: np.ndarray) -> dict:
    values = values[values >= 0]
    return {f"p{p}_ns": (int(round(float(np.percentile(values, p)))) if len(values) else None) for p in PERCENTILES}


def serving_summary(cols: dict[str, np.ndarray]) -> dict:
    """TTFT and TPOT percentiles and throughput of one strategy's requests.csv columns.

    ``throughput_tokens_per_s``: output tokens of completed requests over the span from the first
    arrival to the last token; ``steady_throughput_tokens_per_s``: tokens that ended in the middle
    half of the span from the first to the last token end (the pipeline filled, not yet draining),
    over that half's length: the figure to compare with a saturation bound;
    ``window_throughput_tokens_per_s`` (:func:`window_throughput`, added beside it): tokens that ended
    between the end of the warm-up (the first tenth of the arrival span) and the last arrival, per
    second: the steady state at the offered load, without the drain.
    """
    done = cols["status"] == "completed"
    out = {"requests": int(len(done)), "completed": int(done.sum()),
           "ttft": _percentiles(cols["ttft_ns"]), "tpot": _percentiles(cols["tpot_ns"])}
    if done.any():
        span = int(cols["end_ns"][done].max() - cols["arrival_ns"].min())
        out["throughput_tokens_per_s"] = round(float(cols["output_tokens"][done].sum()) / (span / 1e9), 6)
    else:
        out["throughput_tokens_per_s"] = None
    return out


#: the share of the arrival span that :func:`window_throughput` leaves out as warm-up
WARMUP_SHARE = 0.1


def window_throughput(arrival_ns: np.ndarray, token_end_ns: np.ndarray,
                      warmup: float = WARMUP_SHARE) -> float | None:
    """Steady-state throughput over the arrival window, tokens/s: output tokens that ended in
    [a0 + warmup x (a1 - a0), a1], over that window's length, where a0 and a1 are the first and the
    last arrival. The warm-up (the pipeline filling) and the drain after the last arrival (when
    the offered load has stopped) are left out, as serving simulators measure a steady state
    (Vidur, Sarathi-Serve); the window depends only on the arrivals, so two runs of the same
    arrivals (chunked and unchunked) are measured over the same seconds. None with fewer than two
    distinct arrivals."""
    arrivals = np.asarray(arrival_ns)
    ends = np.asarray(token_end_ns)
    ends = ends[ends >= 0]
    if len(arrivals) < 2 or arrivals.max() == arrivals.min():
        return None
    a0, a1 = int(arrivals.min()), int(arrivals.max())
    lo = a0 + warmup * (a1 - a0)
    n = int(((ends >= lo) & (ends <= a1)).sum())
    return round(n / ((a1 - lo) / 1e9), 6)


def steady_throughput(token_end_ns: np.ndarray) -> float | None:
    """Tokens ending in the middle half of [first end, last end], per second of that half."""
    ends = np.sort(token_end_ns[token_end_ns >= 0])
    if len(ends) < 4 or ends[-1] == ends[0]:
        return None
    lo = ends[0] + (ends[-1] - ends[0]) / 4
    hi = ends[0] + 3 * (ends[-1] - ends[0]) / 4
    n = int(((ends >= lo) & (ends < hi)).sum())
    return round(n / ((hi - lo) / 1e9), 6)
