"""Issue 23: the engine's speed-ups keep today's traces, and the fast mode (jumbo frames,
``links.mtu_bytes: 9000``: each 8 KiB hidden state in one packet) stays within 0.1 % per token
where docs/performance.md says it does.

The default path's changes (a 4-ary heap in the on-demand shortest paths, one route object per
neighbour, a direct address index) must leave tokens.csv byte-identical: tiny is checked here
against the tokens.csv saved before them (tests/data/serving_regression/tiny_tokens.csv);
``python /work/shared/tools/regress.py check /work/baseline`` on tiny, polar_1056, walker_1584,
serving_cities_walker_1584 and polar_1056_faults reported every token row identical on this branch.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from harness.run.pipeline import run_scenario
from harness.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]

#: The fast mode's per-token tolerance (issue 23): |fast - default| / default.
PER_TOKEN_TOLERANCE = 1e-3


def _latencies(scenario, mtu: int) -> dict[str, np.ndarray]:
    run = run_scenario(dataclasses.replace(scenario, links=dataclasses.replace(scenario.links, mtu_bytes=mtu)),
                       jobs=1)
    return {tr.strategy: tr.latency_ns for tr in run.traces}


def _relative(default: np.ndarray, fast: np.ndarray) -> np.ndarray:
    assert np.array_equal(default > 0, fast > 0), "the fast mode completed other tokens"
    done = default > 0
    assert done.any()
    return np.abs(fast[done] - default[done]) / default[done]


def test_defaults_leave_tiny_tokens_csv_byte_identical(tmp_path):
    from harness.cli import main

    expected = (REPO / "tests" / "data" / "serving_regression" / "tiny_tokens.csv").read_bytes()
    assert main(["run", str(REPO / "topologies" / "tiny.yaml"), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "tokens.csv").read_bytes() == expected


def test_jumbo_frames_within_a_tenth_of_a_percent_per_token_on_tiny():
    scenario = load_scenario(REPO / "topologies" / "tiny.yaml")
    default, fast = _latencies(scenario, scenario.links.mtu_bytes), _latencies(scenario, 9000)
    for strategy in default:
        rel = _relative(default[strategy], fast[strategy])
        assert rel.max() <= PER_TOKEN_TOLERANCE, (strategy, rel.max())
        assert rel.max() > 0  # the mode does change what is modelled: headers and store-and-forward


def test_jumbo_frames_within_a_tenth_of_a_percent_per_token_on_polar_1056_space_xnet():
    """space-xnet on polar_1056 (measured 0.0073 % at most). Strategies whose components share
    compute queues across tokens (rand-place, the -tp ones) exceed it on some tokens, up to about 1 %:
    a message arriving whole instead of in six pipelined packets can change the order two jobs enter
    a satellite's compute queue (docs/performance.md); their medians stay within it (checked too)."""
    scenario = load_scenario(REPO / "topologies" / "polar_1056.yaml")
    scenario = dataclasses.replace(scenario, strategies=("space-xnet", "rand-place"))
    default, fast = _latencies(scenario, scenario.links.mtu_bytes), _latencies(scenario, 9000)
    rel = _relative(default["space-xnet"], fast["space-xnet"])
    assert rel.max() <= PER_TOKEN_TOLERANCE, rel.max()
    other = _relative(default["rand-place"], fast["rand-place"])
    assert np.median(other) <= PER_TOKEN_TOLERANCE, np.median(other)


def test_an_mtu_beyond_the_engine_is_one_error_line_at_load_time():
    """65535 is within links.mtu_bytes' range but its 65,491-byte payload exceeds the engine's
    largest packet (65,000 B); it used to kill the process with an ns-3 fatal error."""
    from harness.errors import ScenarioError

    scenario = load_scenario(REPO / "topologies" / "tiny.yaml")
    from harness.scenario import scenario_from_dict
    import yaml
    from harness.scenario import _YamlLoader

    raw = yaml.load((REPO / "topologies" / "tiny.yaml").read_text(), Loader=_YamlLoader)
    raw["links"]["mtu_bytes"] = 65535
    with pytest.raises(ScenarioError, match="use <= 65044"):
        scenario_from_dict(raw, source="tiny")
    raw["links"]["mtu_bytes"] = 65044
    assert scenario_from_dict(raw, source="tiny").links.segment_payload_bytes == 65000
    assert scenario.links.mtu_bytes == 1500


@pytest.mark.parametrize("mtu", [128, 65044])
def test_every_mtu_the_schema_allows_runs(mtu):
    """The allowed extremes ([128, 65044]): a hidden state in 98 packets of 84 B, or in one."""
    scenario = load_scenario(REPO / "topologies" / "tiny.yaml")
    latency = _latencies(scenario, mtu)["space-xnet"]
    default = _latencies(scenario, scenario.links.mtu_bytes)["space-xnet"]
    assert (latency > 0).all()
    # Smaller packets cost more headers per hidden state: never faster than the default's.
    if mtu < scenario.links.mtu_bytes:
        assert (latency >= default).all()
    else:
        assert (latency > 0).all() and np.abs(latency - default).max() / default.min() <= PER_TOKEN_TOLERANCE
