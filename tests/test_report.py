"""``harness report``: network.npz, the self-contained HTML, and the page in a real headless Chromium.

Runs tiny.yaml (with links that fail, so that ISLs go up and down) and a small serving run with users
on the ground through the real ns-3, writes their reports, then:

- checks network.npz against the topology the run used (positions to 0.01 deg, every ISL state and
  delay exactly), and that writing it leaves tokens.csv and layers.csv byte for byte as without it;
- checks the HTML: no remote src/href/url(), it parses, and it embeds layers.csv's numbers;
- checks each drawn token path against the route engine (``shortest_delay_routes`` + ``path_nodes``
  and ``PathQuery.lookup`` on the scenario's own topology at that snapshot);
- checks that a damaged or partial results directory is one ``error:`` line naming the file, and no
  report is written;
- drives Debian's chromium (``/usr/bin/chromium``, or ``SPACEXNET_CHROMIUM``) through Playwright with
  no browser download: zero console errors, no request leaving the file (the detector is itself tested
  on a page that makes one), the slider moves the satellites and changes the ISLs drawn, a token
  selection draws one leg per layer, the journey table shows layers.csv's times, and a screenshot
  with the map drawn (coastline and satellite pixels) is saved. ``.ci/run`` installs chromium when
  it is missing; the tests fail, never skip, without it.
"""

from __future__ import annotations

import dataclasses
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from harness import pipeline
from harness.analysis.report import report_data, write_report
from harness.errors import ResultsError
from harness.formats.network import read_network_npz
from harness.formats.results import read_results
from harness.network.routes import PathQuery, path_nodes, shortest_delay_routes
from harness.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
TINY = (REPO / "topologies" / "tiny.yaml").read_text()
#: Positions are stored in hundredths of a degree: rounding is at most half of one.
POSITION_TOLERANCE_DEG = 0.005 + 1e-9
CHROMIUM = os.environ.get("SPACEXNET_CHROMIUM", "/usr/bin/chromium")
#: A page that takes longer than this to load and draw in the headless browser fails (issue 26: 5 s).
LOAD_LIMIT_S = 5.0


def _scenario(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text.replace("name: tiny", f"name: {name}"))
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two results directories with reports: tiny with link outages, and a small serving run with users."""
    tmp = tmp_path_factory.mktemp("report")
    flaky = TINY.replace("survival_probability: 1.0", "survival_probability: 0.8")
    users = TINY + "ground:\n  min_elevation_deg: 10\nusers:\n  cities: world\n"
    out = {}
    for name, text in (("tiny_flaky", flaky), ("tiny_users", users)):
        path = _scenario(tmp, name, text)
        scenario = load_scenario(path)
        result = pipeline.run_scenario(scenario)
        pipeline.write_run(scenario, result, tmp / name, path.read_text())
        write_report(tmp / name)
        out[name] = (scenario, result, tmp / name)
    # tiny.yaml as shipped, through the command line: run --report writes the report with the results
    done = _cli("run", str(REPO / "topologies" / "tiny.yaml"), "--out", str(tmp / "tiny"), "--report")
    assert done.returncode == 0 and (tmp / "tiny" / "report.html").is_file(), done.stderr
    out["tiny"] = (load_scenario(REPO / "topologies" / "tiny.yaml"), None, tmp / "tiny")
    return out


# ---------------------------------------------------------------------------------------------
# network.npz


def test_network_npz_is_the_runs_topology(runs):
    scenario, _, directory = runs["tiny_flaky"]
    constellation = pipeline.build_constellation(scenario)
    topology = pipeline.build_topology(scenario, constellation)
    net = read_network_npz(directory / "network.npz")
    assert net.num_snapshots == topology.num_snapshots and net.num_satellites == constellation.num_satellites
    np.testing.assert_array_equal(net.edges, topology.edges)
    np.testing.assert_array_equal(net.up, topology.up)
    np.testing.assert_array_equal(net.delay_ns, topology.delay_ns)
    assert 0 < (~net.up).sum() < net.up.size  # this run has links down and up
    sats = read_results(directory).satellites
    assert np.abs(net.lat_deg[0] - sats["lat_deg"]).max() <= POSITION_TOLERANCE_DEG + 1e-4  # csv: 4 decimals
    lon_gap = np.abs((net.lon_deg[0] - sats["lon_deg"] + 180) % 360 - 180)
    assert lon_gap.max() <= POSITION_TOLERANCE_DEG + 1e-4
    # later snapshots move (about 0.06 deg/s of orbital motion at 550 km), and are the map positions of
    # harness/constellation/walker.py at that snapshot
    assert np.abs(net.lat_deg[-1] - net.lat_deg[0]).max() > 0.1
    from harness.constellation.walker import subsatellite_points_deg

    lat, lon = subsatellite_points_deg(constellation, scenario.constellation.epoch, net.num_snapshots - 1)
    assert np.abs(net.lat_deg[-1] - lat).max() <= POSITION_TOLERANCE_DEG
    assert np.abs((net.lon_deg[-1] - lon + 180) % 360 - 180).max() <= POSITION_TOLERANCE_DEG


def test_network_npz_leaves_the_traces_byte_for_byte(runs, tmp_path):
    scenario, result, directory = runs["tiny_flaky"]
    pipeline.write_run(scenario, dataclasses.replace(result, network=None), tmp_path / "without", TINY)
    for name in ("tokens.csv", "layers.csv", "run.json", "placements.json", "satellites.csv"):
        assert (tmp_path / "without" / name).read_bytes() == (directory / name).read_bytes(), name
    assert not (tmp_path / "without" / "network.npz").exists()


def test_network_npz_with_users_holds_satellites_and_isls_only(runs):
    scenario, _, directory = runs["tiny_users"]
    net = read_network_npz(directory / "network.npz")
    assert net.num_satellites == scenario.constellation.num_satellites
    assert net.edges.max() < net.num_satellites


# ---------------------------------------------------------------------------------------------
# the HTML file


class _Parser(html.parser.HTMLParser):
    VOID = {"meta", "input", "br", "img", "link", "hr"}

    def __init__(self):
        super().__init__()
        self.stack, self.remote, self.scripts = [], [], []

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("src", "href", "data", "action", "poster") and value and not value.startswith("#"):
                self.remote.append((tag, key, value))
        if tag == "script":
            self.scripts.append(dict(attrs))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()


def _page(directory: Path) -> str:
    return (directory / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["tiny", "tiny_flaky", "tiny_users"])
def test_report_is_self_contained_and_parses(runs, name):
    page = _page(runs[name][2])
    parser = _Parser()
    parser.feed(page)
    parser.close()
    assert parser.stack == []  # every element closed
    assert parser.remote == []  # no src= / href= at all: nothing to load, local or remote
    assert not re.search(r"<(script|link|img|iframe)[^>]*\s(src|href)\s*=", page, re.I)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page, re.I) and "@import" not in page
    data = json.loads(re.search(r'<script id="report-data" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert data["scenario"] == name
    assert len(parser.scripts) == 3  # the library, the data and the page's code, all inline
    assert 1.0e6 < len(page.encode()) < 3.0e6  # the library (1.2 MB) and a tiny run's data


def test_report_embeds_layers_csv(runs):
    _, _, directory = runs["tiny_flaky"]
    data = report_data(directory)
    layers = read_results(directory).layers["space-xnet"]
    st = data["strategies"]["space-xnet"]
    order = np.lexsort((layers["layer"], layers["token"], layers["request"]))
    assert st["t_combine_ns"] == layers["t_combine_ns"][order].tolist()
    assert st["gateway_sat"] == layers["gateway_sat"][order].tolist()
    page = _page(directory)
    # The JSON in the page is this data (the numbers of layers.csv, as written).
    embedded = json.loads(re.search(r'type="application/json">(.*?)</script>', page, re.S).group(1))
    assert embedded["strategies"]["space-xnet"]["t_combine_ns"] == st["t_combine_ns"]


def test_drawn_paths_are_the_route_engines(runs):
    """Every leg of a few tokens: the drawn satellites are path_nodes of the dense routes of that
    snapshot, and their delay and hop count are PathQuery's (the packet engine's routing)."""
    scenario, _, directory = runs["tiny_flaky"]
    constellation = pipeline.build_constellation(scenario)
    topology = pipeline.build_topology(scenario, constellation)
    query = PathQuery(topology, scenario.routing.metric)
    data = report_data(directory)
    st = data["strategies"]["space-xnet"]
    num_layers, k = st["layers"], st["top_k"]
    legs = np.asarray(st["legs"]).reshape(-1, num_layers, 2, k)
    snapshots = np.asarray(st["snapshot"]).reshape(-1, num_layers)
    gateway = np.asarray(st["gateway_sat"]).reshape(-1, num_layers)
    expert = np.asarray(st["expert_sat"]).reshape(-1, num_layers, k)
    start = np.asarray(st["t_start_ns"])
    assert (snapshots[:, 0] == np.searchsorted(np.round(topology.times_s * 1e9), start, side="right") - 1).all()
    link_delay = {}
    checked = 0
    for row in (0, 3, len(legs) - 1):
        for layer in range(num_layers):
            s = int(snapshots[row, layer])
            for direction in (0, 1):
                for j in range(k):
                    src = gateway[row, layer] if direction == 0 else expert[row, layer, j]
                    dst = expert[row, layer, j] if direction == 0 else gateway[row, (layer + 1) % num_layers]
                    drawn = data["paths"][legs[row, layer, direction, j]]
                    routes = shortest_delay_routes(topology, np.array([dst]))
                    assert drawn == path_nodes(routes, s, int(src), int(dst))
                    delay, hops = query.lookup(np.array([s]), np.array([src]), np.array([dst]))
                    assert len(drawn) - 1 == hops[0]
                    if not link_delay.get(s):
                        up = topology.up[s]
                        link_delay[s] = {tuple(sorted(e)): d for e, d in zip(topology.edges[up].tolist(),
                                                                              topology.delay_ns[s, up].tolist())}
                    assert sum(link_delay[s][tuple(sorted(p))] for p in zip(drawn, drawn[1:])) == delay[0]
                    checked += 1
    assert checked == 3 * num_layers * 2 * k


# ---------------------------------------------------------------------------------------------
# damaged or partial results


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, env=env, cwd=REPO)


def _damage_zip(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:200])


def _drop_array(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist() if n != "up.npy"}
    with zipfile.ZipFile(path, "w") as archive:
        for n, b in members.items():
            archive.writestr(n, b)


@pytest.mark.parametrize("damage, words", [
    (lambda d: (d / "network.npz").unlink(), "network.npz not found"),
    (lambda d: _damage_zip(d / "network.npz"), "network.npz is damaged"),
    (lambda d: _drop_array(d / "network.npz"), "network.npz has no array 'up'"),
    (lambda d: (d / "layers.csv").unlink(), "has no layers.csv"),
    (lambda d: (d / "tokens.csv").write_text("strategy,request\nx,1\n"), "tokens.csv"),
    (lambda d: (d / "placements.json").write_text("{"), "placements.json"),
])
def test_damaged_results_are_one_error_line_and_no_report(runs, tmp_path, damage, words):
    directory = tmp_path / "results"
    shutil.copytree(runs["tiny_flaky"][2], directory)
    (directory / "report.html").unlink()
    damage(directory)
    done = _cli("report", str(directory))
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], done.stderr
    assert not (directory / "report.html").exists()
    assert not list(directory.glob(".report.html*"))  # no staging file left behind


def test_report_cli_writes_where_asked(runs, tmp_path):
    done = _cli("report", str(runs["tiny_flaky"][2]), "--out", str(tmp_path / "r.html"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "r.html").read_bytes() == (runs["tiny_flaky"][2] / "report.html").read_bytes()
    bad = _cli("report", str(runs["tiny_flaky"][2]), "--out", str(tmp_path / "nowhere" / "r.html"))
    assert bad.returncode == 1 and "does not exist" in bad.stderr


# ---------------------------------------------------------------------------------------------
# in a real browser


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install chromium), as .ci/run "
                    f"does, or set SPACEXNET_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # Debian's build, not one Playwright downloads; no sandbox as root (CI), no network by proxy either.
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--proxy-server=127.0.0.1:9",
                                                                  "--host-resolver-rules=MAP * ~NOTFOUND"])
        yield b
        b.close()


def _open(browser, url: str):
    """A page at ``url`` with every console error, page error and request leaving file:// recorded
    (and such requests aborted)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, offline=True)
    page = context.new_page()
    seen = {"errors": [], "remote": []}
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))

    def route(r):
        if r.request.url.startswith(("file:", "data:", "blob:")):
            r.continue_()
        else:
            seen["remote"].append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:")) or r.url in seen["remote"]
            else seen["remote"].append(r.url))
    page.goto(url)
    return context, page, seen


def test_the_request_detector_catches_a_request(browser, tmp_path):
    probe = tmp_path / "probe.html"
    probe.write_text('<html><body><img src="https://example.invalid/x.png">'
                     '<script>fetch("http://example.invalid/y").catch(() => 0)</script></body></html>')
    context, page, seen = _open(browser, probe.as_uri())
    page.wait_for_timeout(500)
    context.close()
    assert any("example.invalid/x.png" in u for u in seen["remote"]), seen
    assert any("example.invalid/y" in u for u in seen["remote"]), seen


def _map_traces(page) -> dict:
    return page.evaluate("""() => {
        const out = {};
        for (const t of document.getElementById('map').data) (out[t.meta] = out[t.meta] || []).push(
            {x: Array.from(t.x || []), y: Array.from(t.y || []), name: t.name});
        return out; }""")


@pytest.mark.parametrize("name", ["tiny", "tiny_flaky", "tiny_users"])
def test_report_in_chromium(browser, runs, name, tmp_path):
    scenario, _, directory = runs[name]
    import time

    clock = time.perf_counter()
    context, page, seen = _open(browser, (directory / "report.html").as_uri())
    page.wait_for_selector("body[data-ready='1']", timeout=30000)
    load_s = time.perf_counter() - clock
    assert load_s <= LOAD_LIMIT_S, load_s
    first = _map_traces(page)
    assert len(first["coast"][0]["x"]) > 5000  # the Natural Earth coastlines
    assert len(first["satellites"][0]["x"]) == scenario.constellation.num_satellites
    # the slider: the satellites move and the ISLs drawn change
    net = read_network_npz(directory / "network.npz")
    later = int(np.argmax([(net.up[s] != net.up[0]).sum() for s in range(net.num_snapshots)]))
    assert (net.up[later] != net.up[0]).any() or name != "tiny_flaky"
    page.evaluate(f"""() => {{ const s = document.getElementById('snapshot'); s.value = {later or 1};
                              s.dispatchEvent(new Event('input')); }}""")
    moved = _map_traces(page)
    assert page.get_attribute("#map", "data-snapshot") == str(later or 1)
    assert moved["satellites"][0]["x"] != first["satellites"][0]["x"]
    assert moved["isl-up"][0]["x"] != first["isl-up"][0]["x"]
    if name == "tiny_flaky":
        assert moved["isl-down"][0]["name"] != first["isl-down"][0]["name"]  # a different number of links down
    # a token: one leg per layer on the map, and the layer times of layers.csv in the table
    page.select_option("#request", "1")
    page.select_option("#token", "2")
    legs = _map_traces(page).get("leg", [])
    assert len(legs) == scenario.model.layers
    assert all(len(leg["x"]) > 0 for leg in legs)
    layers = read_results(directory).layers["space-xnet"]
    tokens = read_results(directory).tokens["space-xnet"]
    rows = (layers["request"] == 1) & (layers["token"] == 2)
    combine = layers["t_combine_ns"][rows][np.argsort(layers["layer"][rows])]
    start = tokens["t_start_ns"][(tokens["request"] == 1) & (tokens["token"] == 2)][0]
    want = [f"{v / 1e6:.3f}" for v in np.diff(np.concatenate([[start], combine]))]
    assert page.locator("td.layer-ms").all_inner_texts() == want
    if name == "tiny_users":
        assert _map_traces(page)["users"][1]["x"]  # the user sites
        assert page.locator("#fig-ttft").count() == 1 and page.locator("#fig-utilisation").count() == 1
        ttft = json.loads((directory / "summary.json").read_text())["strategies"]["space-xnet"]["serving"]["ttft"]
        assert page.locator("td.ttft-p50").inner_text() == f"{ttft['p50_ns'] / 1e6:.2f}"
    shot = tmp_path / f"{name}.png"
    page.locator("#map").screenshot(path=str(shot))
    context.close()
    assert seen["errors"] == [] and seen["remote"] == [], seen
    _assert_map_drawn(shot)


def _assert_map_drawn(png: Path) -> None:
    """The screenshot holds the map: grey coastline pixels and coloured satellite/link pixels."""
    import matplotlib.image

    pixels = (matplotlib.image.imread(png)[..., :3] * 255).round().astype(int)
    flat = pixels.reshape(-1, 3)
    background = np.all(flat >= 245, axis=1)
    assert (~background).mean() > 0.05  # more than a blank plot
    grey = (np.ptp(flat, axis=1) < 10) & (flat[:, 0] > 100) & (flat[:, 0] < 180)
    assert grey.sum() > 2000  # coastlines (#8a8a8a) and grey satellites
    assert len({tuple(p) for p in flat[~background][::7].tolist()}) > 50
