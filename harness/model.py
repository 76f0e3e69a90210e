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

import numpy as np

from .scenario import ModelSpec


def gateway_flops(model: ModelSpec) -> float:
    """FLOP of one gateway (attention + router) for one token."""
    if model.gateway_flops is not None:
        return model.gateway_flops
    flops = 2.0 * 4 * model.hidden_size**2 + 2.0 * model.hidden_size * model.experts
    if model.shared_ffn_size:
        flops += 2.0 * 3 * model.hidden_size * model.shared_ffn_size
    return flops


def expert_flops(model: ModelSpec) -> float:
    """FLOP of one expert for one token."""
    if model.expert_flops is not None:
        return model.expert_flops
    return 2.0 * 3 * model.hidden_size * model.ffn_size


def lm_head_flops(model: ModelSpec) -> float:
    """FLOP of the LM head for one token."""
    if model.lm_head_flops is not None:
        return model.lm_head_flops
    return 2.0 * model.hidden_size * model.vocab_size


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
