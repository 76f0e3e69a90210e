"""Per-token work of the MoE model's components, and its compute times on a satellite.

Default FLOP counts (multiply-accumulate = 2 FLOP), from the model's dimensions, for one token:

- gateway (attention projections + router): ``2 * 4 * hidden^2 + 2 * hidden * experts``
  (Q, K, V and O projections; the score computation over the context is left out), plus
  ``2 * 3 * hidden * shared_ffn_size`` for a model whose shared experts every token uses: they run
  on the gateway's satellite, since sending the hidden state elsewhere would only add a round trip;
- one expert (a SwiGLU FFN of three matrices): ``2 * 3 * hidden * ffn``;
- LM head: ``2 * hidden * vocab``.

For LLaMA-MoE-3.5B (hidden 4096, ffn 1376, vocab 32000) that is 134.3 MFLOP per gateway, 33.8 MFLOP
per expert and 262 MFLOP for the LM head. Each can be overridden in the scenario.

Roofline (``compute.memory_bytes_per_s``): a job of n tokens on a component takes
max(n x FLOPs / rate, weight bytes / bandwidth). A token's FLOPs are 2 per weight (one
multiply-accumulate), so a component's weights are its per-token FLOPs / 2 elements of
``bytes_per_element`` each: 134 MB for a LLaMA-MoE-3.5B gateway, 34 MB per expert, 262 MB for the
LM head (bf16).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.scenario import ModelSpec
# The FLOP formulas live beside ModelSpec, so the scenario's rules can check them without importing
# this step; they are this module's public face too.
from harness.scenario.model import expert_flops, gateway_flops, lm_head_flops  # noqa: F401


def compute_ns(flops: float, satellite_flops: float) -> int:
    """Time to do ``flops`` at ``satellite_flops`` FLOP/s, rounded to whole nanoseconds."""
    return int(round(flops / satellite_flops * 1e9))


def compute_times_ns(model: ModelSpec, satellite_flops: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Compute times: gateways [L] int64, experts [L, E] int64, and the LM head, in ns."""
    gateway = np.full(model.layers, compute_ns(gateway_flops(model), satellite_flops), dtype=np.int64)
    expert = np.full((model.layers, model.experts), compute_ns(expert_flops(model), satellite_flops),
                     dtype=np.int64)
    return gateway, expert, compute_ns(lm_head_flops(model), satellite_flops)


def memory_times_ns(model: ModelSpec, memory_bytes_per_s: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Time to read each component's weights once at ``memory_bytes_per_s``: gateways [L], experts
    [L, E] and the LM head, ns (the roofline's memory side; see the module docstring)."""
    def read_ns(flops: float) -> int:
        return int(round(flops / 2 * model.bytes_per_element / memory_bytes_per_s * 1e9))

    gateway = np.full(model.layers, read_ns(gateway_flops(model)), dtype=np.int64)
    expert = np.full((model.layers, model.experts), read_ns(expert_flops(model)), dtype=np.int64)
    return gateway, expert, read_ns(lm_head_flops(model))


@dataclass(frozen=True)
class ComputeTimes:
    """Compute time of every component for one token, ns."""

    gateway_ns: np.ndarray  # [L] int64
    expert_ns: np.ndarray   # [L, E] int64
    lm_head_ns: int
    #: attention heads of a layer (model.heads): a tensor-parallel shard computes ceil(heads / m) of them
    heads: int = 32


def shard_compute_ns(gateway_ns: np.ndarray, helpers: np.ndarray, heads: int = 32) -> np.ndarray:
    """[L] int64 compute of one attention shard of each layer, ns: the gateway's compute split by
    heads over the gateway and its ``helpers``, m = 1 + helpers <= ``heads`` satellites: the largest
    shard's ceil(heads / m) / heads of it, which every shard is charged (the gather waits for the
    largest; rounded to the nearest ns; the gateway alone when 0 helpers). A model's shared experts
    are part of the gateway's compute and are split with it (by FFN columns; each shard holds its
    share of their weights too: placement/resources.py). With m dividing ``heads`` this is
    gateway_ns / m, to the bit (both round the same quotient once)."""
    gateway_ns = np.asarray(gateway_ns, dtype=np.int64)
    m = 1 + np.asarray(helpers, dtype=np.int64)
    if (m > heads).any():
        raise ValueError(f"a layer is split over {int(m.max())} shards but has only {heads} attention heads")
    per_shard = -(-heads // m)  # ceil(heads / m)
    return np.round(gateway_ns * per_shard / heads).astype(np.int64)
