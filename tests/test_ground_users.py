"""Users on the ground (harness/network/ground/users.py) through the real ns-3: latitude coverage on polar_1056
and walker_1584, a request's uplink and downlink against the routes and store-and-forward
serialisation computed by hand, the shipped city set, and the schema's users rules.

The geometry itself (slant range against the law of cosines, a visibility window against skyfield's
find_events) is tests/test_ground_geometry.py's: the users share that code."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from harness.errors import ScenarioError
from harness.network.ground.users import draw_users, ground_segment, user_sites
from harness.pipeline import build_constellation, build_topology, prepare, run_scenario
from harness.seeding import rng_for
from harness.scenario import load_scenario, scenario_from_dict

REPO = Path(__file__).resolve().parents[1]


def _dict(**sections) -> dict:
    return {"name": "u", "constellation": {"sats_per_plane": 10}, **sections}

#: tiny.yaml's small model, so that the big shells' runs stay quick.
SMALL_MODEL = """model:
  layers: 4
  experts: 4
  top_k: 2
  hidden_size: 4096
  bytes_per_element: 2
  ffn_size: 1376
  vocab_size: 32000
"""


def _with_users(base: str, tmp_path: Path, users: str, extra: str = "", name: str = "users") -> Path:
    text = (REPO / "topologies" / base).read_text()
    text = "\n".join(line for line in text.splitlines() if not line.startswith("name:"))
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\n" + text + "\n" + extra + "users:\n" + users)
    return path


def _sites_every(lat_step_deg: float, lons_deg: tuple) -> str:
    rows = [f"    - {{name: s{i}, lat_deg: {lat:g}, lon_deg: {lon:g}, weight: 1}}\n"
            for i, (lat, lon) in enumerate((lat, lon) for lat in np.arange(-90, 90 + 1e-9, lat_step_deg)
                                           for lon in lons_deg)]
    return "  locations:\n" + "".join(rows)


def test_polar_1056_covers_every_latitude(tmp_path):
    """Every latitude from pole to pole (every 2.5 deg, at 8 longitudes) has a satellite at least
    25 deg up at every snapshot of a 30-minute stretch (one snapshot a minute)."""
    path = _with_users("polar_1056.yaml", tmp_path, _sites_every(2.5, tuple(range(0, 360, 45))))
    scenario = load_scenario(path)
    scenario = dataclasses.replace(scenario, snapshots=dataclasses.replace(scenario.snapshots, count=30,
                                                                           interval_s=60.0))
    constellation = build_constellation(scenario)
    segment = ground_segment(constellation, build_topology(scenario, constellation), user_sites(scenario.users),
                             epoch_utc=scenario.constellation.epoch, min_elevation_deg=scenario.ground.min_elevation_deg)
    assert scenario.ground.min_elevation_deg == 25.0
    assert len(segment.sites) == 73 * 8
    assert (segment.serving >= 0).all(), segment.gaps()[:5]
    assert segment.gaps() == []
    # The serving satellite is really >= 25 deg up: its slant range is at most the 25-deg range of
    # the highest satellite (law of cosines with R = 6378.137 km and h <= 560 km).
    r_km, h_km, e = 6378.137, 560.0, np.radians(25.0)
    assert np.nanmax(segment.range_m) / 1e3 <= np.sqrt((r_km + h_km) ** 2 - (r_km * np.cos(e)) ** 2) - r_km * np.sin(e)


def test_walker_1584_user_at_75_deg_is_a_coverage_gap_not_routed(tmp_path):
    """A 53-deg shell never rises 25 deg above a site at 75 deg latitude: its requests are reported
    (status coverage-gap, the gap in coverage_gaps.csv spanning the run) and never enter ns-3 (no
    token of theirs starts), while the equatorial user's requests complete."""
    from harness.cli import main
    from harness.formats.requests import read_requests_csv

    users = ("  locations:\n    - {name: Svalbard-ish, lat_deg: 75.0, lon_deg: 15.0, weight: 1, region: north}\n"
             "    - {name: Equator, lat_deg: 0.0, lon_deg: 15.0, weight: 1, region: equator}\n")
    extra = ("snapshots:\n  count: 8\n  interval_s: 1.0\n" + SMALL_MODEL
             + "traffic:\n  requests: 6\n  tokens_per_request: 2\n  request_spacing_s: 0.2\n")
    text = (REPO / "topologies" / "walker_1584.yaml").read_text()
    keep = [line for line in text.splitlines() if not line.startswith(("name:", "strategies:"))]
    # Drop the shipped snapshots/model/traffic sections: the test's own follow.
    out_lines, skip = [], False
    for line in keep:
        if line and not line.startswith(" "):
            skip = line.split(":")[0] in ("snapshots", "model", "traffic")
        if not skip:
            out_lines.append(line)
    path = tmp_path / "w.yaml"
    path.write_text("name: w75\nstrategies: [space-xnet]\n" + "\n".join(out_lines) + "\n" + extra + "users:\n" + users)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 0
    req = read_requests_csv(out / "requests.csv")["space-xnet"]
    north = req["site"] == "Svalbard-ish"
    assert north.any() and (~north).any()
    assert (req["status"][north] == "coverage-gap").all()
    assert (req["serving_sat"][north] == -1).all() and (req["ttft_ns"][north] == -1).all()
    assert (req["uplink_ns"][north] == -1).all()
    assert (req["status"][~north] == "completed").all() and (req["serving_sat"][~north] >= 0).all()
    tokens = np.loadtxt(out / "tokens.csv", delimiter=",", skiprows=1, usecols=(1, 3), dtype=np.int64)
    for r in req["request"][north]:
        assert (tokens[tokens[:, 0] == r, 1] == -1).all()  # never started: not routed
    gaps = (out / "coverage_gaps.csv").read_text().splitlines()
    assert gaps == ["site,start_s,end_s", "Svalbard-ish,0,8"]
    import json

    summary = json.loads((out / "summary.json").read_text())
    regions = summary["strategies"]["space-xnet"]["serving"]["regions"]
    assert regions["north"]["coverage_gaps"] == int(north.sum()) and regions["north"]["mean_ttft_ms"] is None
    assert regions["equator"]["completed"] == int((~north).sum())
    assert (out / "plots" / "users_ttft_map.png").is_file() and (out / "plots" / "ttft_cdf_by_region.png").is_file()
    before = (out / "summary.json").read_text()
    assert main(["analyze", str(out)]) == 0
    assert (out / "summary.json").read_text() == before


@pytest.mark.parametrize("prompt_tokens", [0, 12])
def test_uplink_and_downlink_are_the_routes_plus_serialisation_to_the_ns(tmp_path, prompt_tokens):
    """tiny.yaml with users whose GSLs run at the ISL rate: request 0's prompt (one hidden state
    without prefill, 12 with a 12-token prefill) reaches layer 0's gateway after the route's delay plus store-and-forward
    serialisation (sum of its packets' tx + (hops - 1) x the largest), exactly; its first token
    comes down the same way (one packet of token_bytes); the TTFT at the user is the gateway's plus
    both; the GSL share is the two slant ranges over c."""
    from harness.network.links import message_serialization_ns
    from harness.constellation.walker import SPEED_OF_LIGHT_M_S

    users = ("  gsl_rate_bps: 10.0e9\n  locations:\n    - {name: Quito, lat_deg: -0.23, lon_deg: -78.52, weight: 1}\n"
             "    - {name: Nairobi, lat_deg: -1.29, lon_deg: 36.82, weight: 1}\n"
             "    - {name: Oslo, lat_deg: 59.91, lon_deg: 10.75, weight: 1}\n")
    prefill = (f"serving:\n  prefill: true\n  prompt: {{kind: fixed, tokens: {prompt_tokens}}}\n"
               if prompt_tokens else "")
    path = _with_users("tiny.yaml", tmp_path, users, extra="ground:\n  min_elevation_deg: 10\n" + prefill)
    scenario = load_scenario(path)
    result = run_scenario(scenario, jobs=1)
    trace = result.traces[0]
    prep = prepare(scenario)
    users_cols = trace.serving["users"]
    table = trace.serving["table"]
    assert trace.serving["status"][0] == "completed"
    g = prep.ground
    site = int(prep.site_of[0])
    node, gateway = int(g.node_of[site]), int(trace.gateways[0])
    assert node >= scenario.constellation.num_satellites  # a ground node
    links = scenario.links
    delay, hops = prep.paths.lookup(np.array([0]), np.array([node]), np.array([gateway]))
    prompt_bytes = max(prompt_tokens, 1) * scenario.model.hidden_bytes  # the prompt: max(P, 1) hidden states
    uplink = int(delay[0] + message_serialization_ns(links, prompt_bytes, hops)[0])
    assert users_cols["uplink_ns"][0] == uplink
    first_end = int(trace.token_end_ns[0, 0])
    snap = int(g.snapshot_of(np.array([first_end]))[0])
    delay, hops = prep.paths.lookup(np.array([snap]), np.array([gateway]), np.array([node]))
    downlink = int(delay[0] + message_serialization_ns(links, scenario.users.token_bytes, hops)[0])
    assert users_cols["downlink_ns"][0] == downlink
    arrival = int(table[0, 2])
    assert table[0, 7] == first_end - arrival + downlink  # ttft_ns at the user
    gsl = (g.range_m[0, site] + g.range_m[snap, site]) / SPEED_OF_LIGHT_M_S * 1e9
    assert abs(users_cols["gsl_ns"][0] - gsl) <= 1
    assert users_cols["serving_sat"][0] == g.serving[0, site]


def test_each_ground_node_has_at_most_one_link_up_so_it_never_relays(tmp_path):
    path = _with_users("tiny.yaml", tmp_path, "  cities: world\n")
    scenario = load_scenario(path)
    constellation = build_constellation(scenario)
    topology = build_topology(scenario, constellation)
    g = ground_segment(constellation, topology, user_sites(scenario.users), epoch_utc=scenario.constellation.epoch)
    gsl_up = g.topology.up[:, g.first_gsl:]
    ground = g.topology.edges[g.first_gsl:, 1]
    for node in np.unique(ground):
        assert (gsl_up[:, ground == node].sum(axis=1) <= 1).all()
    # The ISLs are the satellites' own, unchanged.
    assert (g.topology.delay_ns[:, :g.first_gsl] == topology.delay_ns).all()


def test_world_cities_are_weighted_by_population_and_drawn_seeded():
    scenario = scenario_from_dict(_dict(users={"cities": "world"}))
    sites = user_sites(scenario.users)
    assert len(sites) == 48 and {s.region for s in sites} == {"AF", "AS", "EU", "NA", "OC", "SA"}
    shanghai = next(s for s in sites if s.name == "Shanghai")
    assert shanghai.weight == 24874500 and abs(shanghai.lat_deg - 31.22222) < 1e-9
    a = draw_users(sites, 20000, rng_for(1, "users"))
    assert (a == draw_users(sites, 20000, rng_for(1, "users"))).all()
    weight = np.array([s.weight for s in sites])
    share = np.bincount(a, minlength=len(sites)) / len(a)
    expected = weight / weight.sum()
    # Binomial standard error at 20000 draws is below 0.0035 for every city: 5 sigma.
    assert np.abs(share - expected).max() < 5 * np.sqrt(expected * (1 - expected) / len(a)).max()


@pytest.mark.parametrize("users, words", [
    ({"cities": "mars"}, "users.cities"),
    ({"cities": "world", "locations": [{"name": "a", "lat_deg": 0, "lon_deg": 0, "weight": 1}]}, "both set"),
    ({"locations": [{"name": "a", "lat_deg": 95, "lon_deg": 0, "weight": 1}]}, "lat_deg"),
    ({"locations": [{"name": "a", "lat_deg": 0, "lon_deg": 0}]}, "weight"),
    ({"locations": [{"name": "a", "lat_deg": 0, "lon_deg": 0, "weight": 0}]}, "weight > 0"),
    ({"locations": [{"name": "a,b", "lat_deg": 0, "lon_deg": 0, "weight": 1}]}, "without commas"),
    ({"gsl_rate_bps": 0}, "gsl_rate_bps"),
])
def test_bad_users_keys_are_one_clear_error(users, words):
    with pytest.raises(ScenarioError, match=words):
        scenario_from_dict(_dict(users=users))


def test_users_need_the_min_elevation_rule():
    with pytest.raises(ScenarioError, match="min_elevation"):
        scenario_from_dict(_dict(users={"cities": "world"},
                                 ground={"gsl_rule": "max_length", "max_gsl_length_km": 1000}))


def test_default_users_keys_leave_tokens_csv_byte_identical(tmp_path):
    """tiny.yaml without a users section, and with one spelling out every default, gives the
    tokens.csv saved before users existed (tests/data/serving_regression/tiny_tokens.csv)."""
    from harness.cli import main

    expected = (REPO / "tests" / "data" / "serving_regression" / "tiny_tokens.csv").read_bytes()
    for i, extra in enumerate(("", "users:\n  cities: null\n  locations: []\n  gsl_rate_bps: 1.0e9\n  token_bytes: 4\n")):
        scenario = tmp_path / f"t{i}.yaml"
        scenario.write_text((REPO / "topologies" / "tiny.yaml").read_text() + extra)
        out = tmp_path / f"out{i}"
        assert main(["run", str(scenario), "--out", str(out)]) == 0
        assert (out / "tokens.csv").read_bytes() == expected
        assert not (out / "requests.csv").exists()


def test_nearest_to_user_policy_picks_the_gateway_the_user_reaches_soonest(tmp_path):
    """The registry function on hand-made delays, then tiny.yaml with two replicas: every request is
    on the replica whose layer-0 gateway is the fewest ns away from its user at its arrival."""
    from harness.workload.traffic.replicas import USER_POLICIES

    pick = USER_POLICIES["nearest-to-user"]
    assert pick(np.array([[5, 3], [2, 2], [-1, 7], [-1, -1]])).tolist() == [1, 0, 1, 0]
    users = ("  gsl_rate_bps: 10.0e9\n  locations:\n    - {name: Quito, lat_deg: -0.23, lon_deg: -78.52, weight: 1}\n"
             "    - {name: Nairobi, lat_deg: -1.29, lon_deg: 36.82, weight: 1}\n"
             "    - {name: Jakarta, lat_deg: -6.2, lon_deg: 106.8, weight: 1}\n")
    path = _with_users("tiny.yaml", tmp_path, users,
                       extra="ground:\n  min_elevation_deg: 10\nserving:\n  replicas: 2\n"
                             "  replica_policy: nearest-to-user\n")
    text = path.read_text().replace("  requests: 2\n", "  requests: 6\n").replace("tokens_per_request: 8", "tokens_per_request: 2")
    path.write_text(text)
    scenario = load_scenario(path)
    trace = run_scenario(scenario, jobs=1).traces[0]
    prep = prepare(scenario)
    g = prep.ground
    snap = g.snapshot_of(prep.requests.arrival_ns)
    node = g.node_of[prep.site_of]
    gateways = trace.serving["replica_gateways"][:, 0]
    delay = np.stack([prep.paths.lookup(snap, node, np.full(len(node), int(gw)))[0] for gw in gateways], axis=1)
    assert (node >= 0).all() and (delay >= 0).all()
    expected = np.argmin(delay, axis=1)
    assert (trace.serving["replica"] == expected).all()
    assert (trace.serving["table"][:, 1] == expected).all()
    assert len(set(expected.tolist())) == 2, delay  # both replicas serve someone
    assert all(s == "completed" for s in trace.serving["status"])


def test_nearest_to_user_needs_users():
    with pytest.raises(ScenarioError, match="nearest-to-user"):
        scenario_from_dict(_dict(serving={"replicas": 2, "replica_policy": "nearest-to-user"}))


def test_handover_rehomes_the_ground_link_in_ns3(tmp_path):
    """tiny.yaml with 30-s snapshots and one request every 30.5 s (so each arrives in a later
    snapshot, alone): each request's serving satellite is the one of its arrival's snapshot, the
    users hand over between requests, and every uplink is the route in force then (its GSL's delay
    updated by the topology updater) plus serialisation, to the ns."""
    from harness.network.links import message_serialization_ns

    users = "  gsl_rate_bps: 10.0e9\n  locations:\n    - {name: Nairobi, lat_deg: -1.29, lon_deg: 36.82, weight: 1}\n"
    path = _with_users("tiny.yaml", tmp_path, users, extra="ground:\n  min_elevation_deg: 10\n")
    text = (path.read_text().replace("  requests: 2\n", "  requests: 8\n")
            .replace("tokens_per_request: 8", "tokens_per_request: 1")
            .replace("request_spacing_s: 0.05", "request_spacing_s: 30.5")
            .replace("  interval_s: 1.0\n", "  interval_s: 30.0\n"))
    path.write_text(text)
    scenario = load_scenario(path)
    trace = run_scenario(scenario, jobs=1).traces[0]
    prep = prepare(scenario)
    g = prep.ground
    cols, table = trace.serving["users"], trace.serving["table"]
    snap = g.snapshot_of(table[:, 2])
    covered = g.serving[snap, 0] >= 0
    assert covered.sum() >= 3
    assert (cols["serving_sat"] == g.serving[snap, 0]).all()
    assert len(set(cols["serving_sat"][covered].tolist())) >= 2  # handovers between the requests
    node, gateway = int(g.node_of[0]), int(trace.gateways[0])
    delay, hops = prep.paths.lookup(snap[covered], np.full(int(covered.sum()), node),
                                    np.full(int(covered.sum()), gateway))
    expected = delay + message_serialization_ns(scenario.links, scenario.model.hidden_bytes, hops)
    assert (cols["uplink_ns"][covered] == expected).all()
    status = np.array(trace.serving["status"])
    assert (status[covered] == "completed").all() and (status[~covered] == "coverage-gap").all()


def test_gap_requests_say_so_in_tokens_csv_with_faults(tmp_path):
    """With fault handling on, tokens.csv's status and reason name the coverage gap of a request
    that was never simulated (not 'unfinished')."""
    from harness.cli import main

    users = ("  locations:\n    - {name: North, lat_deg: 80.0, lon_deg: 0.0, weight: 1}\n"
             "    - {name: Nairobi, lat_deg: -1.29, lon_deg: 36.82, weight: 1}\n")
    path = _with_users("tiny.yaml", tmp_path, users,
                       extra="ground:\n  min_elevation_deg: 10\nfaults:\n  retransmit_timeout_ms: 500\n")
    path.write_text(path.read_text().replace("  requests: 2\n", "  requests: 6\n")
                    .replace("tokens_per_request: 8", "tokens_per_request: 2"))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 0
    from harness.formats.requests import read_requests_csv

    req = read_requests_csv(out / "requests.csv")["space-xnet"]
    north = req["site"] == "North"
    assert north.any() and (~north).any()
    lines = (out / "tokens.csv").read_text().splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","))) for line in lines[1:]]
    for row in rows:
        r = int(row["request"])
        if r in req["request"][north]:
            assert row["status"] == "coverage-gap" and "min_elevation" in row["reason"]
        else:
            assert row["status"] == "completed"
