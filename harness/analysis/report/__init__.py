"""``python -m harness report RESULTS``: one self-contained HTML file of a run, to click through offline.

It is built from the results directory alone (read strictly: :func:`harness.formats.results.read_results`,
:func:`harness.formats.network.read_network_npz`, the serving files), and embeds everything it
shows: the run's data as one JSON object, the plotting library (plotly.js, basic bundle) and the
coastlines (Natural Earth 110 m), both vendored under ``assets/`` with their ``SOURCE.md``.
Nothing is fetched when it opens. It shows:

- a map with coastlines and a slider over the snapshots: the satellites, the ISLs up and down,
  the chosen strategy's gateways, experts, tensor-parallel shards and expert copies, and, where
  the run had users, their sites and the satellite that served each request;
- a token's journey: each layer's route gateway -> experts -> next gateway as ISL hops at that
  snapshot (:mod:`.paths`), with the per-layer times of ``layers.csv``;
- the figures: latency CDFs, mean time per layer, TTFT and TPOT CDFs and satellite utilisation
  (serving runs), and the summary table.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np

from harness.analysis.coastlines import coastline_xy
from harness.analysis.report.paths import token_journeys
from harness.analysis.summary import summarize
from harness.errors import ResultsError
from harness.formats.network import read_network_npz
from harness.formats.results import read_results

ASSETS = Path(__file__).parent / "assets"
TEMPLATE = Path(__file__).parent / "template.html"
PLOTLY = ASSETS / "plotly-basic.min.js"


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def report_data(directory: Path) -> dict:
    """Everything the page shows, as one JSON-able object (raises ResultsError on a bad directory)."""
    directory = Path(directory)
    results = read_results(directory)
    network = read_network_npz(directory / "network.npz")
    if results.satellites is not None and len(results.satellites["sat"]) != network.num_satellites:
        raise ResultsError(f"{directory / 'network.npz'} has {network.num_satellites} satellites, satellites.csv "
                           f"{len(results.satellites['sat'])}: they are of different runs; run the scenario again")
    for name, plan in results.placements.items():
        for key in ("gateways", "experts"):
            values = np.asarray(plan[key])
            if values.size and values.max() >= network.num_satellites:
                raise ResultsError(f"{directory / 'placements.json'}: {name}.{key} names a satellite that "
                                   f"network.npz does not have; run the scenario again")
    for name, cols in results.layers.items():
        sats = np.concatenate([cols["gateway_sat"]] + [v for c, v in cols.items() if c.startswith("expert_sat_")])
        if sats.min() < 0 or sats.max() >= network.num_satellites:
            raise ResultsError(f"{directory / 'layers.csv'}: strategy '{name}' names a satellite outside "
                               f"network.npz's 0..{network.num_satellites - 1}; run the scenario again")
    summary = summarize(results)
    journeys = token_journeys(network, results.tokens, results.layers)
    coast_x, coast_y = coastline_xy()
    strategies = {}
    for name, tokens in results.tokens.items():
        order = np.lexsort((tokens["token"], tokens["request"]))
        cols = results.layers[name]
        num_layers = int(cols["layer"].max()) + 1
        lorder = np.lexsort((cols["layer"], cols["token"], cols["request"]))
        k = sum(1 for c in cols if c.startswith("expert_sat_"))
        strategies[name] = {
            "request": tokens["request"][order].tolist(),
            "token": tokens["token"][order].tolist(),
            "t_start_ns": tokens["t_start_ns"][order].tolist(),
            "t_end_ns": tokens["t_end_ns"][order].tolist(),
            "latency_ns": tokens["latency_ns"][order].tolist(),
            "layers": num_layers,
            "top_k": k,
            "gateway_sat": cols["gateway_sat"][lorder].tolist(),                          # [T * L]
            "expert": np.stack([cols[f"expert_{j}"][lorder] for j in range(k)], -1).ravel().tolist(),
            "expert_sat": np.stack([cols[f"expert_sat_{j}"][lorder] for j in range(k)], -1).ravel().tolist(),
            "t_combine_ns": cols["t_combine_ns"][lorder].tolist(),
            "legs": journeys.legs[name].ravel().tolist(),                                  # [T, L, 2, k]
            "snapshot": journeys.snapshots[name].ravel().tolist(),                         # [T, L]
            "placement": results.placements.get(name),
        }
    data = {
        "scenario": results.scenario, "seed": results.seed, "directory": directory.name,
        "times_s": network.times_s.tolist(), "num_satellites": network.num_satellites, "metric": network.metric,
        "lat_cdeg": _b64(np.round(network.lat_deg * 100).astype("<i2")),
        "lon_cdeg": _b64(np.round(network.lon_deg * 100).astype("<i2")),
        "edges": _b64(network.edges.astype("<i4")),
        "up_bits": _b64(np.packbits(network.up.ravel())),
        "coast_x": [None if np.isnan(v) else round(float(v), 3) for v in coast_x],
        "coast_y": [None if np.isnan(v) else round(float(v), 3) for v in coast_y],
        "paths": journeys.paths,
        "strategies": strategies,
        "summary": summary,
    }
    if (directory / "requests.csv").is_file():
        data["serving"] = _serving(directory, summary, results)
    return data


def _serving(directory: Path, summary: dict, results) -> dict:
    from harness.analysis.serving_summary import add_serving
    from harness.formats.requests import read_busy_csv, read_requests_csv, read_user_sites_csv

    add_serving(summary, results, directory)  # the serving lines of the summary table (its plots unused)
    requests = read_requests_csv(directory / "requests.csv")
    busy = read_busy_csv(directory / "satellite_busy.csv") if (directory / "satellite_busy.csv").is_file() else {}
    out: dict = {"strategies": {}}
    for name, cols in requests.items():
        entry = {key: cols[key].tolist() for key in ("request", "arrival_ns", "end_ns", "ttft_ns", "tpot_ns", "status")
                 if key in cols}
        for key in ("site", "serving_sat"):
            if key in cols:
                entry[key] = cols[key].tolist()
        if name in busy:
            sats, ns = busy[name]
            entry["busy_sat"], entry["busy_ns"] = sats.tolist(), ns.tolist()
        out["strategies"][name] = entry
    if (directory / "user_sites.csv").is_file():
        sites = read_user_sites_csv(directory / "user_sites.csv")
        out["sites"] = {name: [float(v[1]), float(v[2])] for name, v in sites.items()}
    return out


def render_report(data: dict) -> str:
    """The HTML page of :func:`report_data` (self-contained: the script and data inline)."""
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False)
    payload = payload.replace("</", "<\\/")  # never closes the <script> element early
    library = PLOTLY.read_text(encoding="utf-8").replace("</script", "<\\/script")
    page = TEMPLATE.read_text(encoding="utf-8")
    title = f"{data['scenario']}: Space-XNet run report"
    return (page.replace("{{TITLE}}", _escape(title))
            .replace("/*{{PLOTLY}}*/", library)
            .replace("/*{{DATA}}*/null", payload))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_report(directory: Path, out: Path | None = None) -> Path:
    """Build the report of a results directory and write it (default ``DIRECTORY/report.html``),
    atomically: on any error nothing is written."""
    from harness.formats.results import write_files

    directory = Path(directory)
    html = render_report(report_data(directory))  # everything is read and checked before a byte is written
    out = Path(out) if out is not None else directory / "report.html"
    if out.is_dir():
        raise ResultsError(f"--out {out} is a directory; name an .html file")
    if not out.parent.is_dir():
        raise ResultsError(f"--out {out}: folder {out.parent} does not exist; create it first")
    write_files(out.parent, {out.name: html})
    return out
