"""Issue 23: the harness's ns-3 runs its events from ns-3's PriorityQueueScheduler (a binary heap on
a vector) instead of ns-3's default MapScheduler (a red-black tree, one allocation per event).

Every ns-3 scheduler hands events out by (time, insertion id), a total order, so the choice cannot
change a run: these tests run the same scenarios with both schedulers in one process and compare
every token's latency and every counter, to the nanosecond, with the ip relay fast path, the stack
and the retransmission / loss / holding paths exercised. Today's traces stay byte-identical
(``/work/shared/tools/regress.py check`` on the shipped baselines, bench/README.md).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from harness.cxx.runtime import load
from harness.run.pipeline import run_scenario
from harness.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]


def _scheduler(name: str) -> str:
    ns3 = load()
    ns3.GlobalValue.Bind("SchedulerType", ns3.StringValue(name))  # read by the next simulator made
    value = ns3.StringValue()
    ns3.GlobalValue.GetValueByName("SchedulerType", value)
    return str(value.Get())


def _both(scenario):
    try:
        assert _scheduler("ns3::MapScheduler") == "ns3::MapScheduler"
        tree = run_scenario(scenario, jobs=1)
    finally:
        assert _scheduler("ns3::PriorityQueueScheduler") == "ns3::PriorityQueueScheduler"
    heap = run_scenario(scenario, jobs=1)
    assert len(tree.traces) == len(heap.traces) > 0
    compared = 0
    for a, b in zip(tree.traces, heap.traces):
        assert a.strategy == b.strategy
        assert (a.latency_ns > 0).any(), a.strategy
        np.testing.assert_array_equal(b.latency_ns, a.latency_ns, err_msg=a.strategy)
        assert b.counters == a.counters, a.strategy
        compared += int((a.latency_ns > 0).sum())
    return tree, compared


def test_the_harness_binds_the_priority_queue_scheduler():
    ns3 = load()
    value = ns3.StringValue()
    ns3.GlobalValue.GetValueByName("SchedulerType", value)
    assert str(value.Get()) == "ns3::PriorityQueueScheduler"


def test_schedulers_give_the_same_tokens_on_tiny():
    _, compared = _both(load_scenario(REPO / "topologies" / "tiny.yaml"))
    assert compared == 16


def test_schedulers_give_the_same_tokens_when_holding_delaying_and_losing():
    """polar_1056 with link survival 0.8, losses in flight, retransmission, routing.no_route 'wait'
    and a 1 us relay delay, in the default mode and with every hop on the stack."""
    scenario = load_scenario(REPO / "topologies" / "polar_1056.yaml")
    faults = load_scenario(REPO / "topologies" / "polar_1056_faults.yaml").faults
    for forwarding in ("ip", "ip-stack"):
        lossy = dataclasses.replace(
            scenario, strategies=("space-xnet", "rand-place"),
            routing=dataclasses.replace(scenario.routing, no_route="wait"),
            links=dataclasses.replace(scenario.links, forwarding=forwarding, relay_delay_us=1.0,
                                      survival_probability=0.8, drop_in_flight=True),
            faults=dataclasses.replace(faults, satellite_failure_rate_per_s=1e-4))
        tree, compared = _both(lossy)
        assert compared > 0
        for trace in tree.traces:
            for counter in ("packets_held_no_route", "packets_dropped_link_down", "messages_retransmitted"):
                assert trace.counters[counter] > 0, (forwarding, trace.strategy, counter)
