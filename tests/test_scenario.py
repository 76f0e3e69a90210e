"""Scenario validation: valid files load into frozen objects; every mistake is one clear error."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.scenario import load_scenario, scenario_from_dict

REPO = Path(__file__).resolve().parents[1]


def base(**overrides) -> dict:
    raw = {"name": "t", "constellation": {"planes": 6, "sats_per_plane": 8}}
    for key, value in overrides.items():
        section, _, field = key.partition("__")
        if field:
            raw.setdefault(section, {})[field] = value
        else:
            raw[section] = value
    return raw


def test_shipped_tiny_scenario_loads():
    sc = load_scenario(REPO / "topologies" / "tiny.yaml")
    assert sc.name == "tiny"
    assert sc.constellation.num_satellites == 100
    assert sc.model.num_components == 20
    assert sc.model.hidden_bytes == 8192


def test_defaults_fill_missing_sections_and_objects_are_frozen():
    sc = scenario_from_dict(base())
    assert sc.links.rate_bps == 100e9
    assert sc.strategies == ("space-xnet",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sc.seed = 3  # type: ignore[misc]


def test_total_satellites_gives_satellites_per_plane():
    sc = scenario_from_dict({"name": "w", "constellation": {"planes": 72, "satellites": 1584, "phasing": 39}})
    assert sc.constellation.sats_per_plane == 22 and sc.constellation.num_satellites == 1584


def test_integers_are_accepted_where_floats_are_expected():
    sc = scenario_from_dict(base(constellation__altitude_km=600))
    assert sc.constellation.altitude_km == 600.0 and isinstance(sc.constellation.altitude_km, float)


@pytest.mark.parametrize("raw, words", [
    (base(colour="red"), ["unknown key 'colour'", "allowed keys"]),
    (base(links__speed=1), ["unknown key 'links.speed'", "rate_bps"]),
    (base(constellation__altitude_km=-550), ["constellation.altitude_km", "[160, 100000]"]),
    (base(constellation__altitude_km=100), ["constellation.altitude_km", "[160, 100000]"]),
    (base(constellation__inclination_deg=200), ["inclination_deg", "[0, 180]"]),
    (base(constellation__phasing=6), ["constellation.phasing", "[0, 5]"]),
    (base(constellation__kind="walker-triangle"), ["walker-delta", "walker-star"]),
    (base(constellation__planes="six"), ["constellation.planes", "whole number"]),
    (base(constellation__planes=True), ["constellation.planes", "whole number"]),
    (base(snapshots__count=0), ["snapshots.count", "[1, 1000000]"]),
    (base(snapshots__interval_s=0), ["snapshots.interval_s", "[1e-06, 86400]"]),
    (base(model__layers=10), ["needs 50 satellites", "has 48"]),
    (base(model__top_k=5), ["top_k", "only 4 experts"]),
    (base(strategies=["space-xnet", "best-ever"]), ["unknown strategy 'best-ever'", "rand-intra-cg"]),
    (base(strategies=["space-xnet", "space-xnet"]), ["twice"]),
    (base(constellation__epoch_utc="yesterday"), ["epoch_utc", "ISO 8601"]),
    (base(activations__kind="file"), ["activations.path"]),
    (base(activations__kind="file", activations__path="nope.npy"), ["not found", "activations.path"]),
    (base(links__mtu_bytes=100), ["mtu_bytes", "[128, 65535]"]),
    ({"name": "t", "constellation": {"planes": 72, "satellites": 1580}}, ["1580", "not divisible", "72"]),
    ({"name": "t", "constellation": {"planes": 72, "satellites": 1584, "sats_per_plane": 20}}, ["disagree"]),
    ({"name": "t", "constellation": {"planes": 72}}, ["sats_per_plane", "satellites"]),
    (base(links__max_angular_rate_rad_s=-0.12), ["max_angular_rate_rad_s", "(0, 1000]"]),
    (base(links__grazing_altitude_km=600), ["grazing_altitude_km", "below the orbit altitude"]),
    (base(links__survival_probability=1.5), ["survival_probability", "[0, 1]"]),
    (base(links__polar_cutoff_deg=95), ["polar_cutoff_deg"]),
    ({"constellation": {}}, ["missing required key 'name'"]),
    ([1, 2], ["must be a mapping"]),
])
def test_mistakes_are_one_line_errors_naming_the_key(raw, words):
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(raw)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_missing_file_and_yaml_syntax_errors(tmp_path):
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nconstellation: {planes: 6\n")
    with pytest.raises(ScenarioError, match=r"YAML syntax error at line \d+"):
        load_scenario(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(ScenarioError, match="empty"):
        load_scenario(empty)


def test_trace_path_is_relative_to_the_scenario_file(tmp_path):
    (tmp_path / "trace.npy").write_bytes(b"")
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\nconstellation: {planes: 6, sats_per_plane: 8}\n"
                        "activations: {kind: file, path: trace.npy}\n")
    sc = load_scenario(scenario)
    assert sc.resolve(sc.activations.path) == tmp_path / "trace.npy"


def test_exponent_floats_without_a_dot_or_sign_are_numbers(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\nconstellation: {planes: 6, sats_per_plane: 8}\n"
                        "links: {rate_bps: 1e9}\ncompute: {satellite_flops: 7.28e9}\n")
    sc = load_scenario(scenario)
    assert sc.links.rate_bps == 1e9
    assert sc.compute.satellite_flops == 7.28e9


def test_model_preset_fills_the_shape_and_explicit_keys_win():
    sc = scenario_from_dict({"name": "p", "constellation": {"planes": 33, "sats_per_plane": 32},
                             "model": {"preset": "llama-moe-3.5b-2of8"}})
    m = sc.model
    assert (m.layers, m.experts, m.top_k, m.hidden_size, m.ffn_size) == (32, 8, 2, 4096, 1376)
    assert m.hidden_bytes == 8192 and m.num_components == 288
    sc = scenario_from_dict({"name": "p", "constellation": {"planes": 33, "sats_per_plane": 32},
                             "model": {"preset": "llama-moe-3.5b-4of16", "layers": 8}})
    assert (sc.model.layers, sc.model.experts, sc.model.top_k, sc.model.ffn_size) == (8, 16, 4, 688)
    with pytest.raises(ScenarioError, match="choose one of: llama-moe-3.5b-2of8"):
        scenario_from_dict({"name": "p", "constellation": {"planes": 33, "sats_per_plane": 32},
                            "model": {"preset": "gpt-5"}})
