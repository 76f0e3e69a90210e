"""Summaries of per-token latency traces.

Pure functions of a results directory's contents (:class:`harness.formats.results.Results`), so that
``python -m harness run`` and ``python -m harness analyze`` give the same summary from the same
files. ``traces.py`` owns the files, ``plots.py`` the figures, ``cli.py`` the printing.
"""

from __future__ import annotations

import numpy as np

from harness.formats.results import Results

#: Percentiles reported in every summary.
PERCENTILES = (50, 95, 99)
#: The strategy whose speed-up over every other one is reported.
REFERENCE_STRATEGY = "space-xnet"


def latency_summary(latency_ns: np.ndarray) -> dict:
    """Token counts and mean / p50 / p95 / p99 latency (ns, rounded) of the completed tokens.

    ``latency_ns`` holds one entry per token, -1 for a token that did not complete. Percentiles use
    numpy's default (linear) interpolation.
    """
    latency_ns = np.asarray(latency_ns).ravel()
    done = latency_ns[latency_ns >= 0]
    summary = {"tokens": int(latency_ns.size), "completed": int(done.size)}
    if done.size == 0:
        summary.update({"mean_ns": None, **{f"p{p}_ns": None for p in PERCENTILES}})
        return summary
    summary["mean_ns"] = _mean(done)
    for p in PERCENTILES:
        summary[f"p{p}_ns"] = int(round(float(np.percentile(done, p))))
    return summary


def _mean(values: np.ndarray) -> int | None:
    return int(round(float(np.mean(values)))) if len(values) else None


def layer_durations_ns(tokens: dict[str, np.ndarray], layers: dict[str, np.ndarray]) -> np.ndarray:
    """[tokens, L + 1] time each completed token spent per layer, then in the LM head, ns.

    Layer l runs from the previous layer's combine (the token's start for layer 0) to its own
    combine; it covers the gateway's compute, the dispatch, the experts and the combine. The last
    column is the LM head: from the last combine to the token's end. Rows sum to the latency.
    """
    done = tokens["latency_ns"] >= 0
    num_layers = int(layers["layer"].max()) + 1
    order = np.lexsort((layers["layer"], layers["token"], layers["request"]))
    combine = layers["t_combine_ns"][order].reshape(-1, num_layers)  # rows in (request, token) order
    token_order = np.lexsort((tokens["token"], tokens["request"]))
    start = tokens["t_start_ns"][token_order][:, None]
    end = tokens["t_end_ns"][token_order][:, None]
    edges = np.hstack([start, combine, end])
    return np.diff(edges, axis=1)[done[token_order]]


def summarize(results: Results) -> dict:
    """The summary of a results directory: per strategy, token counts, latency percentiles, mean
    time per layer and in the LM head, the shares of compute, transmission, propagation and
    queueing in the mean latency, the agreement with the analytic model and the packet counters;
    and the speed-up of space-xnet's mean latency over every other strategy."""
    summary: dict = {"scenario": results.scenario, "seed": results.seed, "strategies": {}}
    for name, tokens in results.tokens.items():
        latency = tokens["latency_ns"]
        stats = latency_summary(latency)
        done = latency >= 0
        durations = layer_durations_ns(tokens, results.layers[name])
        stats["layer_mean_ns"] = [_mean(col) for col in durations[:, :-1].T]
        stats["lm_head_mean_ns"] = _mean(durations[:, -1])
        modelled = done & (tokens["analytic_ns"] >= 0)
        if modelled.any():
            total = float(latency[modelled].sum())
            queueing = latency[modelled] - tokens["analytic_ns"][modelled]
            stats["share"] = {
                "compute": round(float(tokens["compute_ns"][modelled].sum()) / total, 6),
                "transmission": round(float(tokens["serialization_ns"][modelled].sum()) / total, 6),
                "propagation": round(float(tokens["propagation_ns"][modelled].sum()) / total, 6),
                "queueing": round(float(queueing.sum()) / total, 6),
            }
            if "route_wait_ns" in tokens:  # routing.no_route 'wait'
                stats["share"]["route_wait"] = round(float(tokens["route_wait_ns"][modelled].sum()) / total, 6)
            relative = np.abs(queueing) / tokens["analytic_ns"][modelled]
            stats["analytic_agreement"] = {"max_relative_difference": round(float(relative.max()), 9),
                                           "mean_relative_difference": round(float(relative.mean()), 9)}
        else:
            stats["share"] = None
            stats["analytic_agreement"] = None
        if "status" in tokens:  # faults on: every token's outcome and its retransmissions
            stats["token_status"] = {word: int((tokens["status"] == word).sum())
                                     for word in ("completed", "failed", "cancelled", "unfinished")}
            stats["retransmissions"] = int(tokens["retransmissions"].sum())
            stats["tokens_with_retransmissions"] = int((tokens["retransmissions"] > 0).sum())
        stats.update(results.counters.get(name, {}))
        summary["strategies"][name] = stats
    reference = summary["strategies"].get(REFERENCE_STRATEGY)
    if reference and reference["mean_ns"]:
        summary["speedup_of_" + REFERENCE_STRATEGY.replace("-", "_")] = {
            other: round(s["mean_ns"] / reference["mean_ns"], 4)
            for other, s in summary["strategies"].items() if other != REFERENCE_STRATEGY and s["mean_ns"]}
    return summary


def format_summary_table(summary: dict) -> str:
    """The per-strategy summary as an aligned text table, latencies in milliseconds."""
    header = ("strategy", "tokens", "done", "mean ms", "p50 ms", "p95 ms", "p99 ms", "compute", "propag.",
              "queue", "vs analytic", "speed-up")
    speedups = next((v for k, v in summary.items() if k.startswith("speedup_of_")), {})
    rows = [header]
    for name, s in summary["strategies"].items():
        def ms(key: str) -> str:
            return "-" if s.get(key) is None else f"{s[key] / 1e6:.3f}"

        share = s.get("share") or {}
        agreement = s.get("analytic_agreement") or {}
        rows.append((name, str(s["tokens"]), str(s["completed"]), ms("mean_ns"), ms("p50_ns"), ms("p95_ns"),
                     ms("p99_ns"),
                     f"{share['compute']:.0%}" if share else "-",
                     f"{share['propagation']:.0%}" if share else "-",
                     f"{share['queueing']:.1%}" if share else "-",
                     f"{agreement['max_relative_difference']:.2e}" if agreement else "-",
                     f"x{speedups[name]:.2f}" if name in speedups else ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if speedups:
        lines.append(f"speed-up: how many times {REFERENCE_STRATEGY}'s mean latency is lower than each strategy's")
    return "\n".join(lines)


def format_comparison(first: dict, second: dict, first_name: str, second_name: str) -> str:
    """Two summaries side by side: mean and p99 latency per strategy and their ratio."""
    header = ("strategy", f"mean ms ({first_name})", f"mean ms ({second_name})", "ratio", "p99 ratio")
    rows = [header]
    for name in list(dict.fromkeys([*first["strategies"], *second["strategies"]])):
        a, b = first["strategies"].get(name), second["strategies"].get(name)
        mean_a = a["mean_ns"] if a else None
        mean_b = b["mean_ns"] if b else None
        ratio = f"{mean_b / mean_a:.3f}" if mean_a and mean_b else "-"
        p99 = f"{b['p99_ns'] / a['p99_ns']:.3f}" if a and b and a["p99_ns"] and b["p99_ns"] else "-"
        rows.append((name, "-" if mean_a is None else f"{mean_a / 1e6:.3f}",
                     "-" if mean_b is None else f"{mean_b / 1e6:.3f}", ratio, p99))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
