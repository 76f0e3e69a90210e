"""Request arrival processes: a registry of seeded generators of arrival times.

Each is ``(Scenario, Generator) -> (arrival_ns int64[R], prompt_tokens int32[R] or None,
output_tokens int32[R] or None)``; the arrival file gives the lengths too, the others leave them to
``serving.prompt`` and ``serving.output``.
``serving.arrivals`` picks one.
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from harness.formats.requests import read_arrivals_csv
from harness.scenario import Scenario

Arrivals = Callable[[Scenario, np.random.Generator], tuple[np.ndarray, Optional[np.ndarray], Optional[np.ndarray]]]


def fixed_arrivals(scenario: Scenario, rng: np.random.Generator):
    """Request r at ``r x traffic.request_spacing_s``: the runs without a serving section, exactly."""
    t = scenario.traffic
    starts = np.round(np.arange(t.requests) * t.request_spacing_s * 1e9)
    return starts.astype(np.int64), None, None


def poisson_arrivals(scenario: Scenario, rng: np.random.Generator):
    """A Poisson process of ``serving.rate_per_s``: exponential gaps, the first request at its first gap."""
    gaps_s = rng.exponential(1.0 / scenario.serving.rate_per_s, size=scenario.traffic.requests)
    return np.round(np.cumsum(gaps_s) * 1e9).astype(np.int64), None, None


def file_arrivals(scenario: Scenario, rng: np.random.Generator):
    """Arrival times and prompt lengths from ``serving.arrivals_path`` (harness/formats/requests.py)."""
    times_s, prompts, outputs = read_arrivals_csv(scenario.resolve(scenario.serving.arrivals_path),
                                                  requests=scenario.traffic.requests,
                                                  max_output=scenario.traffic.tokens_per_request)
    return np.round(times_s * 1e9).astype(np.int64), prompts, outputs


ARRIVALS: dict[str, Arrivals] = {
    "fixed": fixed_arrivals,
    "poisson": poisson_arrivals,
    "file": file_arrivals,
}
