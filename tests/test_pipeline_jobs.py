"""Strategies simulated in forked processes give the same traces as one after the other."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest

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
    assert one.network == two.network  # made in a thread beside the simulation (jobs=1) or after it
    assert {args[0] for args in seen} == set(scenario.strategies), "progress reaches the parent"


def test_network_npz_is_made_beside_the_simulation_and_its_error_reaches_the_caller(monkeypatch):
    """Issue 23 (the writing phase): with one strategy process, network.npz is made in a thread while
    ns-3 runs, which Simulator::Run allows by letting go of the GIL; the file is the one made after
    the simulation (the test above), and an error there is the run's error."""
    import harness.run.pipeline as run_pipeline
    from harness.cxx.runtime import load

    scenario = load_scenario("topologies/tiny.yaml")
    made_in, real = [], run_pipeline._network_npz

    def spy(*args):
        made_in.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(run_pipeline, "_network_npz", spy)
    result = pipeline.run_scenario(scenario, jobs=1)
    assert made_in == ["harness-aside"] and result.network[:2] == b"PK"
    assert load().Simulator.Run.__release_gil__

    def broken(*args):
        raise OSError("no space left for network.npz")

    monkeypatch.setattr(run_pipeline, "_network_npz", broken)
    with pytest.raises(OSError, match="no space left"):
        pipeline.run_scenario(scenario, jobs=1)
