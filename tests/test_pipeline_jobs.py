"""Strategies simulated in forked processes give the same traces as one after the other."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from harness import pipeline
from harness.scenario import load_scenario


def test_traces_do_not_depend_on_how_many_strategies_run_at_once():
    scenario = load_scenario("topologies/tiny.yaml")
    scenario = replace(scenario, strategies=("space-xnet", "rand-place", "rand-intra-cg"))
    seen = []
    one = pipeline.run_scenario(scenario, jobs=1)
    two = pipeline.run_scenario(scenario, jobs=2, progress=lambda *args: seen.append(args))
    assert [t.strategy for t in two.traces] == list(scenario.strategies)
    for a, b in zip(one.traces, two.traces):
        for field in ("token_start_ns", "token_end_ns", "combine_ns", "analytic_ns", "gateways", "experts"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        assert a.counters == b.counters
    assert {args[0] for args in seen} == set(scenario.strategies), "progress reaches the parent"
