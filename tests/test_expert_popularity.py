"""Per-model expert popularity (issue 27, item 5a): a frontier preset fills activations.skew and
activations.stickiness under the scenario's keys (harness/scenario/model.py ACTIVATION_PRESETS),
the generator reproduces the figure each was chosen for, and the older presets keep the schema's
defaults, so their traces stay byte-identical (regress.py on the five baseline scenarios)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.errors import ScenarioError
from harness.formats.files import read_yaml_file
from harness.run.steps import build_activations
from harness.scenario import MODEL_PRESETS, load_scenario
from harness.scenario.loader import scenario_from_dict
from harness.scenario.model import ACTIVATION_PRESETS
from harness.seeding import rng_for
from harness.workload.activations import synthetic_trace

REPO = Path(__file__).resolve().parents[1]
V3 = REPO / "topologies" / "walker_16000_deepseek_v3.yaml"
FRONTIER = ("deepseek-v3", "kimi-k2", "qwen3-235b-a22b", "gpt-oss-120b", "llama-4-maverick")
#: The schema's defaults (harness/scenario/serving.py ActivationSpec).
DEFAULT_SKEW, DEFAULT_STICKINESS = 0.6, 0.05
#: The hottest/mean expert load DeepSeek-V3's skew was chosen for (harness/workload/activations.py)
#: and how far a 20,000-token draw may land from it.
V3_HOTTEST_OVER_MEAN, RATIO_TOLERANCE = 12.0, 0.05


def _raw(**changes) -> dict:
    raw = read_yaml_file(V3, "scenario file", ScenarioError)
    raw.pop("activations")
    raw.update(changes)
    return raw


def test_every_frontier_preset_carries_its_popularity_and_nothing_else_does():
    assert set(ACTIVATION_PRESETS) == set(FRONTIER)
    for name, values in ACTIVATION_PRESETS.items():
        assert name in MODEL_PRESETS
        assert set(values) == {"skew", "stickiness"}
        assert values["skew"] >= 0 and 0 <= values["stickiness"] <= 1


@pytest.mark.parametrize("preset", FRONTIER)
def test_a_frontier_preset_fills_skew_and_stickiness_when_the_scenario_does_not(preset):
    raw = _raw(model={"preset": preset})
    raw["constellation"].update(planes=200, sats_per_plane=128)  # Kimi K2's 23,100 components fit
    sc = scenario_from_dict(raw)
    assert (sc.activations.skew, sc.activations.stickiness) == (ACTIVATION_PRESETS[preset]["skew"],
                                                                ACTIVATION_PRESETS[preset]["stickiness"])


def test_keys_the_scenario_gives_win_over_the_preset():
    sc = scenario_from_dict(_raw(activations={"skew": 0.1}))
    assert (sc.activations.skew, sc.activations.stickiness) == (0.1, ACTIVATION_PRESETS["deepseek-v3"]["stickiness"])
    sc = load_scenario(V3)  # the shipped file gives both: unchanged
    assert (sc.activations.skew, sc.activations.stickiness) == (1.0, 0.2)


def test_an_older_preset_keeps_the_schema_defaults():
    sc = scenario_from_dict(_raw(model={"preset": "qwen3-30b-a3b"}))
    assert (sc.activations.skew, sc.activations.stickiness) == (DEFAULT_SKEW, DEFAULT_STICKINESS)


def test_a_recorded_trace_gets_no_generator_keys(tmp_path):
    trace = tmp_path / "t.npy"
    trace.write_bytes(b"")  # only its existence is checked when the scenario is read
    raw = _raw(activations={"kind": "file", "path": str(trace)})
    sc = scenario_from_dict(raw, base_dir=tmp_path)
    assert sc.activations.kind == "file"
    assert (sc.activations.skew, sc.activations.stickiness) == (DEFAULT_SKEW, DEFAULT_STICKINESS)


def test_the_preset_skew_gives_deepseek_v3_the_hottest_expert_load_it_was_chosen_for():
    skew = ACTIVATION_PRESETS["deepseek-v3"]["skew"]
    m = MODEL_PRESETS["deepseek-v3"]
    trace = synthetic_trace(requests=1, tokens=20_000, layers=4, experts=m["experts"], top_k=m["top_k"],
                            skew=skew, stickiness=0.0, rng=np.random.default_rng(1))
    p = trace.probabilities()
    ratio = p.max(axis=1) / p.mean(axis=1)
    np.testing.assert_allclose(ratio, V3_HOTTEST_OVER_MEAN, rtol=RATIO_TOLERANCE)


def test_the_run_uses_the_preset_popularity():
    """The trace a run builds is the generator's at the preset's parameters, not at the defaults'."""
    sc = scenario_from_dict(_raw(traffic={"requests": 2, "tokens_per_request": 16}))
    shape = dict(requests=2, tokens=16, layers=sc.model.layers, experts=sc.model.experts, top_k=sc.model.top_k)
    popularity = ACTIVATION_PRESETS["deepseek-v3"]
    want = synthetic_trace(**shape, **popularity, rng=rng_for(sc.seed, "activations"))
    default = synthetic_trace(**shape, skew=DEFAULT_SKEW, stickiness=DEFAULT_STICKINESS,
                              rng=rng_for(sc.seed, "activations"))
    got = build_activations(sc).experts
    np.testing.assert_array_equal(got, want.experts)
    assert not np.array_equal(got, default.experts)
