"""Randomness from the scenario's seed: one numpy Generator per purpose, so that adding a strategy
or a traffic source never shifts another's random draws (same scenario and seed -> byte-identical
traces). Imports nothing from the harness."""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["rng_for"]


def rng_for(seed: int, purpose: str) -> np.random.Generator:
    """An independent Generator per purpose (e.g. 'activations', 'placement:rand-intra')."""
    return np.random.default_rng([seed, zlib.crc32(purpose.encode())])
