"""The power model (issue 22): ns3 SatellitePower against hand-built schedules and hand formulas,
energy conservation on a real run, bad input, and power off leaving the traces byte-identical.

Tolerances: ENERGY_RTOL = 1e-9 relative (the issue's bound on the energy balance; the C++ sums
doubles per segment, ~1e-16 relative each, over at most a few thousand segments)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
ENERGY_RTOL = 1e-9

# A hand-built satellite: 100 W array, 10 W bus, board 5 W idle / 45 W busy, 3000 J battery at
# 1500 J, efficiencies 0.9 in and 0.8 out, reserve 1000 J, throttle to half speed.
HAND = dict(SolarPower=100.0, BaselinePower=10.0, IdlePower=5.0, BusyPower=45.0, Capacity=3000.0,
            ChargeEfficiency=0.9, DischargeEfficiency=0.8, InitialEnergy=1500.0, Reserve=1000.0, ThrottleFactor=0.5)
STEPS_S = [0.0, 100.0, 200.0, 300.0]
LIT = [1, 0, 0, 1]


def _power(ns3, behaviour="throttle"):
    p = ns3.CreateObject[ns3.SatellitePower]()
    for key, value in HAND.items():
        p.SetAttribute(key, ns3.DoubleValue(value))
    p.SetAttribute("Behaviour", ns3.EnumValue["ns3::SatellitePower::Behaviour"](
        ns3.SatellitePower.THROTTLE if behaviour == "throttle" else ns3.SatellitePower.REFUSE))
    steps = np.array([round(s * 1e9) for s in STEPS_S], dtype=np.int64)
    p.SetSchedule(steps, len(steps), np.array(LIT, dtype=np.uint8), 1)
    return p


def _admit(ns3, p, now_s, start_s, duration_s):
    start, duration = ns3.NanoSeconds(round(start_s * 1e9)), ns3.NanoSeconds(round(duration_s * 1e9))
    p.Admit(ns3.NanoSeconds(round(now_s * 1e9)), start, duration)
    return start.GetNanoSeconds() / 1e9, duration.GetNanoSeconds() / 1e9


def _reference(jobs, end_s):
    """An independent integrator of the model as docs/power.md states it: between breakpoints (snapshot
    starts, job starts and ends) the power is constant; E += (solar x eta_c - load / eta_d) dt, clipped
    to [0, C] at each breakpoint. ``jobs``: (start, end, throttled). Returns E at the end and per-snapshot
    solar, load, spilled and unserved."""
    h = HAND
    points = sorted({0.0, end_s, *[t for t in STEPS_S if t < end_s], *[t for j in jobs for t in j[:2] if t < end_s]})
    e = h["InitialEnergy"]
    out = {k: np.zeros(len(STEPS_S)) for k in ("solar", "load", "spilled", "unserved")}
    for a, b in zip(points[:-1], points[1:]):
        s = max(i for i, t in enumerate(STEPS_S) if t <= a)
        job = next((j for j in jobs if j[0] <= a < j[1]), None)
        board = h["IdlePower"] if job is None else (
            h["IdlePower"] + h["ThrottleFactor"] * (h["BusyPower"] - h["IdlePower"]) if job[2] else h["BusyPower"])
        solar, load = h["SolarPower"] * LIT[s], h["BaselinePower"] + board
        e += (solar * h["ChargeEfficiency"] - load / h["DischargeEfficiency"]) * (b - a)
        out["solar"][s] += solar * (b - a)
        out["load"][s] += load * (b - a)
        if e > h["Capacity"]:
            out["spilled"][s] += e - h["Capacity"]
            e = h["Capacity"]
        if e < 0:
            out["unserved"][s] += -e
            e = 0.0
    return e, out


def _records(p):
    names = ("energy_end", "solar", "load", "compute_busy", "busy_s", "throttled_s", "below_reserve", "spilled",
             "unserved", "energy_min")
    return {name: np.array([p.GetRecord(i, s) for s in range(len(STEPS_S))]) for i, name in enumerate(names)}


def test_hand_built_schedule_throttle_clips_and_conserves_energy():
    from harness.cxx.runtime import load

    ns3 = load()
    p = _power(ns3)
    # 0-100 s lit, idle: +90 - 18.75 = +71.25 W from 1500 J: full (3000 J) after 21.05 s, the rest spilled.
    assert _admit(ns3, p, 150, 150, 20) == (150.0, 20.0)  # above the reserve: as asked
    assert p.GetEnergy() == pytest.approx(3000 - 50 * 18.75, rel=1e-12)  # 2062.5 J at 150 s, in shadow since 100 s
    # At 190 s: 2062.5 - 20 x 55 / 0.8 - 20 x 18.75 = 312.5 J < 1000 J: the job runs at half speed.
    assert _admit(ns3, p, 190, 190, 5) == (190.0, 10.0)
    # At 250 s the battery is empty (clipped since 197.14 s): throttled again.
    assert _admit(ns3, p, 250, 250, 10) == (250.0, 20.0)
    p.Finish(ns3.Seconds(400.0))
    jobs = [(150, 170, False), (190, 200, True), (250, 270, True)]
    e_ref, ref = _reference(jobs, 400.0)
    rec = _records(p)
    assert p.GetEnergy() == pytest.approx(e_ref, rel=ENERGY_RTOL)
    for key in ("solar", "load", "spilled", "unserved"):
        np.testing.assert_allclose(rec[key], ref[key], rtol=ENERGY_RTOL, atol=1e-9)
    assert rec["unserved"].sum() > 0 and rec["spilled"].sum() > 0  # both clips were exercised
    # The balance: end - start = integral of (solar x eta_c - load / eta_d), less spilled, plus unserved.
    h = HAND
    flow = (rec["solar"] * h["ChargeEfficiency"] - rec["load"] / h["DischargeEfficiency"]).sum()
    balance = flow - rec["spilled"].sum() + rec["unserved"].sum()
    assert p.GetEnergy() - h["InitialEnergy"] == pytest.approx(balance, rel=ENERGY_RTOL)
    assert p.GetEnergy() - h["InitialEnergy"] == pytest.approx(e_ref - h["InitialEnergy"], rel=ENERGY_RTOL)
    assert rec["throttled_s"].tolist() == pytest.approx([0, 10, 20, 0])
    assert rec["busy_s"].tolist() == pytest.approx([0, 30, 20, 0])
    assert p.GetMinEnergy() == 0.0 and p.GetProtectedJobs() == 2
    # Below the reserve: 1000 J crossed at 150 + (2062.5 - 1000) / 68.75 = 165.4545 s, left at
    # 300 + 1000 / 71.25 = 314.035 s (charging from empty in sunlight).
    assert rec["below_reserve"].sum() == pytest.approx((314.0350877192982 - 165.45454545454547), rel=1e-9)


def test_hand_built_schedule_refuse_holds_the_job_until_the_reserve_is_back():
    from harness.cxx.runtime import load

    ns3 = load()
    p = _power(ns3, "refuse")
    _admit(ns3, p, 150, 150, 20)
    # At 190 s, 312.5 J: held. Idle in shadow it empties at 190 + 312.5 / 18.75 = 206.67 s; at 300 s
    # the Sun charges it at 71.25 W: back at 1000 J at 300 + 1000 / 71.25 s (rounded up to the ns).
    start, duration = _admit(ns3, p, 190, 190, 5)
    expected_ns = 300 * 10**9 + math.ceil(1000 / 71.25 * 1e9)
    assert round(start * 1e9) == expected_ns and duration == 5.0
    p.Finish(ns3.Seconds(400.0))
    e_ref, _ = _reference([(150, 170, False), (expected_ns / 1e9, expected_ns / 1e9 + 5, False)], 400.0)
    assert p.GetEnergy() == pytest.approx(e_ref, rel=ENERGY_RTOL)
    rec = _records(p)
    assert rec["throttled_s"].sum() == 0 and rec["busy_s"].sum() == pytest.approx(25.0)


def _tiny(**power) -> "Scenario":
    import yaml

    from harness.scenario import _YamlLoader, scenario_from_dict

    raw = yaml.load((REPO / "topologies" / "tiny.yaml").read_text(), Loader=_YamlLoader)
    raw["power"] = {"enabled": True, **power}
    return scenario_from_dict(raw, base_dir=REPO / "topologies")


def test_compute_draw_comes_from_the_board_profile_unless_the_scenario_writes_it():
    """compute_idle_w / compute_busy_w: the board's published figures (harness/scenario/hardware.py),
    an explicit key winning, and the section's defaults where the board publishes none."""
    import yaml

    from harness.scenario import _YamlLoader, scenario_from_dict
    from harness.scenario.hardware import BOARDS

    def power(hardware: str, **keys):
        raw = yaml.load((REPO / "topologies" / "tiny.yaml").read_text(), Loader=_YamlLoader)
        raw["compute"], raw["power"] = {"hardware": hardware}, {"enabled": True, **keys}
        p = scenario_from_dict(raw, base_dir=REPO / "topologies").power
        return p.compute_idle_w, p.compute_busy_w

    nano = BOARDS["jetson-orin-nano"]
    assert power("jetson-orin-nano") == (nano.idle_w, nano.busy_w) == (7.0, 15.0)
    assert power("jetson-orin-nano", compute_busy_w=12.0) == (7.0, 12.0)
    assert power("h100-sxm") == (15.0, BOARDS["h100-sxm"].busy_w)  # no idle figure published: the default
    assert power("paper") == (15.0, 60.0)


def _simulate(scenario):
    """tiny's space-xnet through ns-3 with its power section: (result, prep, placement)."""
    from harness.placement import place
    from harness.run.prepare import prepare
    from harness.seeding import rng_for
    from harness.simulate.inputs import PowerInput, SimulationInput
    from harness.simulate.packet import run_packet_sim

    prep = prepare(scenario)
    placement = place("space-xnet", prep.inputs, rng_for(scenario.seed, "placement:space-xnet"))
    inp = SimulationInput(topology=prep.topology, routes=prep.paths, links=scenario.links,
                          gateways=placement.gateways, experts=placement.experts, activations=prep.trace.experts,
                          compute=prep.compute, request_starts_ns=prep.request_starts_ns,
                          message_bytes=scenario.model.hidden_bytes)
    power = PowerInput(spec=scenario.power, sunlit=prep.sunlit) if scenario.power.enabled else None
    return run_packet_sim(inp, seed=scenario.seed, stop_ns=prep.stop_ns, power=power), prep, placement


def test_energy_is_conserved_on_a_real_run_against_the_sunlit_schedule_and_the_busy_trace():
    """tiny with a half-full battery (no clipping): each satellite's battery end - start equals the
    integral rebuilt outside the power model, from skyfield's sunlit flags (Python) and the compute
    time the ComputeDone trace recorded (MoeTrafficRecorder), to 1e-9 relative."""
    from harness.constellation.sun import sunlit
    from harness.run.steps import build_constellation

    sc = _tiny(initial_soc=0.5)
    result, prep, placement = _simulate(sc)
    p, rec = sc.power, result.power
    assert (result.latency_ns >= 0).all()
    # The positions again (prepare lets its own go once it has read them), for a schedule rebuilt
    # outside the power model.
    lit = sunlit(build_constellation(sc), sc.constellation.epoch)
    starts = rec.step_times_ns / 1e9
    ends = np.minimum(np.append(starts[1:], np.inf), rec.end_ns / 1e9)
    dt = np.clip(ends - starts, 0, None)[:, None]  # [S, 1] each snapshot's share of the run
    total = rec.end_ns / 1e9
    busy = result.busy_ns / 1e9  # [N] from the ComputeDone trace, not the power model
    assert busy.sum() > 0
    solar = (p.solar_w * lit * dt).sum(axis=0)
    load = (p.baseline_w + p.compute_idle_w) * total + (p.compute_busy_w - p.compute_idle_w) * busy
    expected = solar * p.charge_efficiency - load / p.discharge_efficiency
    start = p.initial_soc * p.capacity_j
    end = rec.final_j
    assert rec["spilled_j"].sum() == 0 and rec["unserved_j"].sum() == 0
    np.testing.assert_allclose(end - start, expected, rtol=ENERGY_RTOL)
    np.testing.assert_allclose(rec["busy_s"].sum(axis=0), busy, rtol=1e-12, atol=1e-9)
    # Sunlit and eclipsed satellites both occur, so both terms are tested.
    assert 0 < lit.mean() < 1


def test_energy_balance_holds_with_clipping_on_a_real_run():
    """tiny, full batteries (the sunlit ones spill) and a small one that empties: the recorded flows,
    spills and brown-outs balance each battery to 1e-9 relative; jobs below the reserve were throttled."""
    sc = _tiny(capacity_wh=0.02, reserve_wh=0.01, initial_soc=0.6)
    result, _, _ = _simulate(sc)
    p, rec = sc.power, result.power
    flow = (rec["solar_in_j"] * p.charge_efficiency - rec["load_out_j"] / p.discharge_efficiency).sum(axis=0)
    balance = flow - rec["spilled_j"].sum(axis=0) + rec["unserved_j"].sum(axis=0)
    delta = rec.final_j - p.initial_soc * p.capacity_j
    scale = np.abs(rec["solar_in_j"]).sum(axis=0) + np.abs(rec["load_out_j"]).sum(axis=0)
    assert np.all(np.abs(delta - balance) <= ENERGY_RTOL * scale)
    assert rec["spilled_j"].sum() > 0 and rec["unserved_j"].sum() > 0 and rec["throttled_s"].sum() > 0


def test_throttling_slows_tokens_and_refusal_too():
    """Below the reserve the tokens show it: a battery that starts empty in shadow throttles (jobs
    twice as long) or holds jobs, and the mean latency rises against the power model off."""
    off, _, _ = _simulate(_tiny(enabled=False))
    base = off.latency_ns[off.latency_ns >= 0].mean()
    throttled, _, _ = _simulate(_tiny(initial_soc=0.0, reserve_wh=10.0, solar_w=0.0))
    assert (throttled.latency_ns >= 0).all()
    assert throttled.power["throttled_s"].sum() > 0
    assert throttled.latency_ns.mean() > 1.2 * base
    held, _, _ = _simulate(_tiny(initial_soc=0.0, reserve_wh=10.0, solar_w=0.0, behaviour="refuse"))
    assert (held.latency_ns < 0).all()  # no Sun, never back at the reserve: no token ends
    assert held.power.protected_jobs.sum() > 0


def test_power_on_above_the_reserve_and_power_off_leave_tokens_csv_byte_identical(tmp_path):
    """Power off (the default; also spelled out) and power on with a battery that never reaches its
    reserve give tiny's tokens.csv saved before the power model existed
    (tests/data/serving_regression/tiny_tokens.csv), byte for byte; only the power run writes energy.csv."""
    from harness.cli import main

    expected = (REPO / "tests" / "data" / "serving_regression" / "tiny_tokens.csv").read_bytes()
    text = (REPO / "topologies" / "tiny.yaml").read_text()
    variants = {"default": text, "off": text + "power:\n  enabled: false\n  capacity_wh: 10\n  reserve_wh: 5\n",
                "on": text + "power:\n  enabled: true\n  reserve_wh: 0\n"}
    for name, body in variants.items():
        scenario = tmp_path / f"{name}.yaml"
        scenario.write_text(body)
        out = tmp_path / name
        assert main(["run", str(scenario), "--out", str(out)]) == 0
        assert (out / "tokens.csv").read_bytes() == expected, name
        assert (out / "energy.csv").is_file() == (name == "on")
    # The power run's files read back, and analyze rebuilds the same summary from them.
    summary = (tmp_path / "on" / "summary.json").read_bytes()
    assert main(["analyze", str(tmp_path / "on")]) == 0
    assert (tmp_path / "on" / "summary.json").read_bytes() == summary
    assert (tmp_path / "on" / "plots" / "state_of_charge.png").is_file()


@pytest.mark.parametrize("power, message", [
    ("capacity_wh: -5", "'power.capacity_wh' is -5.0 Wh; it must be in (0, 1e+09]"),
    ("charge_efficiency: 1.2", "'power.charge_efficiency' is 1.2; it must be in (0, 1]"),
    ("discharge_efficiency: 1.01", "'power.discharge_efficiency' is 1.01; it must be in (0, 1]"),
    ("reserve_wh: 300", "'power.reserve_wh' 300 Wh is above 'power.capacity_wh' 250 Wh"),
])
def test_bad_power_input_is_one_error_line_and_exit_1(tmp_path, power, message):
    scenario = tmp_path / "bad.yaml"
    scenario.write_text((REPO / "topologies" / "tiny.yaml").read_text() + f"power:\n  enabled: true\n  {power}\n")
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "harness", "run", str(scenario), "--out", str(out)],
                         capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], run.stderr
    assert not out.exists()


def test_sun_aware_keeps_gateways_on_the_least_shadowed_satellites_and_is_space_xnet_without_the_sun():
    import dataclasses

    from harness.names import STRATEGY_NAMES
    from harness.placement import STRATEGIES, place
    from harness.placement.sun_aware import SHADOW_SLACK, shadow_share
    from harness.run.prepare import prepare
    from harness.seeding import rng_for

    assert "sun-aware" in STRATEGY_NAMES and "sun-aware" in STRATEGIES
    sc = _tiny()
    prep = prepare(sc)
    inp = prep.inputs
    assert inp.sunlit is not None and 0 < inp.sunlit.mean() < 1
    sun = place("sun-aware", inp, rng_for(sc.seed, "placement:sun-aware"))
    xnet = place("space-xnet", inp, rng_for(sc.seed, "placement:space-xnet"))
    shadow = shadow_share(inp)
    for layer, gateway in enumerate(sun.gateways):
        members = np.flatnonzero(sun.subnets == layer)
        assert shadow[gateway] <= shadow[members].min() + SHADOW_SLACK
    # Hot experts away from the shadow: the activation-weighted shadow share does not rise.
    p = inp.probabilities
    assert (p * shadow[sun.experts]).sum() <= (p * shadow[xnet.experts]).sum()
    assert (shadow[xnet.gateways] > 0).any()  # there was shadow to avoid
    # No sunlit schedule: every satellite counts as lit, and it is space-xnet.
    dark = place("sun-aware", dataclasses.replace(inp, sunlit=None), rng_for(sc.seed, "placement:sun-aware"))
    np.testing.assert_array_equal(dark.gateways, xnet.gateways)
    np.testing.assert_array_equal(dark.experts, xnet.experts)
