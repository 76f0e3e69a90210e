"""The serving summary's steady-state throughput over the arrival window
(``window_throughput_tokens_per_s``, harness/analysis/serving.py): its definition on hand-made
arrivals and token ends."""

from __future__ import annotations

import numpy as np

from harness.analysis.serving import WARMUP_SHARE, window_throughput

S = 10**9


def test_window_counts_the_tokens_ending_between_the_warm_up_and_the_last_arrival():
    # Arrivals from 0 to 100 s: the window is [10 s, 100 s] (the first tenth is warm-up), 90 s long.
    arrivals = np.array([0, 25, 50, 100]) * S
    inside = [10 * S, 40 * S, 99 * S, 100 * S]            # both ends count
    warm_up = [0, 5 * S, 10 * S - 1]                      # before the window: the pipeline filling
    drain = [100 * S + 1, 130 * S, 400 * S]               # after the last arrival: the drain
    ends = np.array(inside + warm_up + drain + [-1, -1])  # -1: tokens that never ended
    assert WARMUP_SHARE == 0.1
    assert window_throughput(arrivals, ends) == round(4 / 90, 6)
    # the same arrivals give the same window whatever the drain: a run that drains in 300 s more
    # measures what one that drains at once does
    assert window_throughput(arrivals, np.array(inside + warm_up)) == window_throughput(arrivals, ends)
    # without warm-up, the window is the whole arrival span
    assert window_throughput(arrivals, ends, warmup=0.0) == round(7 / 100, 6)


def test_a_steady_run_measures_its_offered_load():
    # 1,000 requests 1 s apart, each with 4 tokens ending 3.0, 3.5, 4.0 and 4.5 s after it arrived:
    # in steady state 4 tokens/s end, whatever the lag.
    arrivals = np.arange(1000) * S
    ends = (arrivals[:, None] + np.array([3.0, 3.5, 4.0, 4.5])[None, :] * S).astype(np.int64).ravel()
    assert abs(window_throughput(arrivals, ends) - 4.0) <= 4.0 * 0.01
    late = ends + 60 * S  # a minute more lag (after the warm-up) measures the same steady state
    assert abs(window_throughput(arrivals, late) - 4.0) <= 4.0 * 0.01


def test_no_window_without_two_distinct_arrivals():
    assert window_throughput(np.array([5 * S]), np.array([6 * S])) is None
    assert window_throughput(np.array([5 * S, 5 * S]), np.array([6 * S])) is None
