"""Token-length distributions of prompts: a registry of seeded samplers.

Each sampler is ``(LengthSpec, count, Generator) -> int32[count]``; ``serving.prompt.kind`` picks one.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from harness.scenario import LengthSpec

Sampler = Callable[[LengthSpec, int, np.random.Generator], np.ndarray]


def fixed_lengths(spec: LengthSpec, count: int, rng: np.random.Generator) -> np.ndarray:
    """Every length is ``spec.tokens``."""
    return np.full(count, spec.tokens, dtype=np.int32)


def uniform_lengths(spec: LengthSpec, count: int, rng: np.random.Generator) -> np.ndarray:
    """Whole numbers drawn uniformly from ``[low, high]`` (both included)."""
    return rng.integers(spec.low, spec.high + 1, size=count).astype(np.int32)


def lognormal_lengths(spec: LengthSpec, count: int, rng: np.random.Generator) -> np.ndarray:
    """``median x exp(sigma x Z)``, ``Z ~ N(0, 1)``, rounded to whole tokens and clipped to ``[low, high]``."""
    draw = spec.median * np.exp(spec.sigma * rng.standard_normal(count))
    return np.clip(np.rint(draw), spec.low, spec.high).astype(np.int32)


LENGTHS: dict[str, Sampler] = {
    "fixed": fixed_lengths,
    "uniform": uniform_lengths,
    "lognormal": lognormal_lengths,
}
