"""Per-token work of the MoE model's components, and its compute times on a satellite.

Default FLOP counts (multiply-accumulate = 2 FLOP), from the model's dimensions, for one token:

- gateway (attention projections + router): ``2 * 4 * hidden^2 + 2 * hidden * experts``
  (Q, K, V and O projections; the score computation over the context is left out), plus
  ``2 * 3 * hidden * shared_ffn_size`` for a model whose shared experts every token uses: they run
  on the gateway's satellite, since sending the hidden state elsewhere would only add a round trip;
- one expert (a SwiGLU FFN of three matrices): ``2 * 3 * hidden * ffn``;
- LM head: ``2 * hidden * vocab``.

The model's full shape (issue 27; :mod:`harness.scenario.model`): attention is ``2 x`` its
projection weights (``attention_weights``: GQA's smaller K and V, MLA's down- and up-projections)
when the model is not plain multi-head; a dense layer (no experts) runs on the gateway of the MoE
layer after it, which adds ``2 x (attention + 3 x hidden x dense_ffn_size)`` to that gateway's work
(``gateway_flops_per_layer``), so gateways differ by layer.

For LLaMA-MoE-3.5B (hidden 4096, ffn 1376, vocab 32000) that is 134.3 MFLOP per gateway, 33.8 MFLOP
per expert and 262 MFLOP for the LM head. Each can be overridden in the scenario.

Roofline (``compute.memory_bytes_per_s``, set by every real board profile of ``compute.hardware``):
a job of n tokens on a component takes max(n x FLOPs / rate, weight bytes / bandwidth), rounded to
whole ns once (one token: the two sides rounded apart, the larger taken; the same number). A token's
FLOPs are 2 per weight (one multiply-accumulate), so a component's weights are its per-token FLOPs / 2
weights of ``compute.weight_bytes`` each: 134 MB for a LLaMA-MoE-3.5B gateway, 34 MB per expert, 262
MB for the LM head (bf16). This applies to every job: a gateway's attention, an expert, the LM head,
a tensor-parallel shard (its ceil(heads / m) / heads of the gateway's FLOPs and weights), an
expert's copy, a prefill (n = the prompt tokens it gets) and a batch (n = its steps).

KV-cache reads (:class:`KvReads`): an attention job's bytes moved are its weights plus the KV cache it
reads and writes. A pass of n new tokens after o tokens already cached moves, per transformer layer
its gateway runs, the cache of o + n tokens (min(o, window) + n on a sliding-window layer): a decode
step (n = 1) reads the whole cache of its request so far, a prefill pass (or chunk) reads the
earlier chunks' cache and writes its own. A batch moves the sum of its steps' caches (each request's
own). The job then takes max(n x FLOPs / rate, weight read + round(KV bytes / bandwidth)): the
weight read and the KV read are rounded to whole ns apart. A tensor-parallel shard reads
ceil(kv_heads / m) / kv_heads of the cache (its heads' keys and values; the whole compressed latent
under MLA, which every head needs). Experts and the LM head read no cache. The FLOP counts still leave
out the score computation over the context (the paper's compute model; without the roofline nothing
changes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from harness.scenario import ModelSpec
# The FLOP formulas live beside ModelSpec, so the scenario's rules can check them without importing
# this step; they are this module's public face too.
from harness.scenario.model import expert_flops, gateway_flops, gateway_flops_per_layer, lm_head_flops  # noqa: F401
from harness.scenario.model import gateway_layers, is_sliding, kv_elements_per_token


def compute_ns(flops: float, satellite_flops: float) -> int:
    """Time to do ``flops`` at ``satellite_flops`` FLOP/s, rounded to whole nanoseconds."""
    return int(round(flops / satellite_flops * 1e9))


def compute_times_ns(model: ModelSpec, satellite_flops: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Compute times: gateways [L] int64, experts [L, E] int64, and the LM head, in ns."""
    gateway = np.array([compute_ns(f, satellite_flops) for f in gateway_flops_per_layer(model)], dtype=np.int64)
    expert = np.full((model.layers, model.experts), compute_ns(expert_flops(model), satellite_flops),
                     dtype=np.int64)
    return gateway, expert, compute_ns(lm_head_flops(model), satellite_flops)


def memory_times_ns(model: ModelSpec, memory_bytes_per_s: float,
                    weight_bytes: int = 2) -> tuple[np.ndarray, np.ndarray, int]:
    """Time to read each component's weights once at ``memory_bytes_per_s``, ``weight_bytes`` per
    weight: gateways [L], experts [L, E] and the LM head, ns (the roofline's memory side; see the
    module docstring)."""
    def read_ns(flops: float) -> int:
        return int(round(flops / 2 * weight_bytes / memory_bytes_per_s * 1e9))

    gateway = np.array([read_ns(f) for f in gateway_flops_per_layer(model)], dtype=np.int64)
    expert = np.full((model.layers, model.experts), read_ns(expert_flops(model)), dtype=np.int64)
    return gateway, expert, read_ns(lm_head_flops(model))


def exact_compute_ns(model: ModelSpec, satellite_flops: float) -> tuple[np.ndarray, np.ndarray, float]:
    """FLOP time of one token, unrounded (float ns): gateways [L], experts [L, E] and the LM head.
    A job of n > 1 tokens under the roofline takes round(n x this), not n x round(this)."""
    return (np.array([f / satellite_flops * 1e9 for f in gateway_flops_per_layer(model)], dtype=np.float64),
            np.full((model.layers, model.experts), expert_flops(model) / satellite_flops * 1e9),
            lm_head_flops(model) / satellite_flops * 1e9)


@dataclass(frozen=True)
class ComputeTimes:
    """Compute time of every component for one token, ns."""

    gateway_ns: np.ndarray  # [L] int64
    expert_ns: np.ndarray   # [L, E] int64
    lm_head_ns: int
    #: attention heads of a layer (model.heads): a tensor-parallel shard computes ceil(heads / m) of them
    heads: int = 32
    #: the same FLOP times unrounded (float ns: gateways [L], experts [L, E], LM head;
    #: :func:`exact_compute_ns`), or None: under the roofline a job of n > 1 tokens then takes
    #: round(n x these) rather than n x the whole-ns times above
    exact: Optional[tuple] = None


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


def shard_exact_ns(gateway_exact_ns: np.ndarray, helpers: np.ndarray, heads: int = 32) -> np.ndarray:
    """[L] float: :func:`shard_compute_ns` of the unrounded gateway times (not rounded)."""
    m = 1 + np.asarray(helpers, dtype=np.int64)
    return np.asarray(gateway_exact_ns, dtype=np.float64) * (-(-heads // m)) / heads


@dataclass(frozen=True)
class KvReads:
    """The KV cache an attention job moves under the roofline (see the module docstring), per MoE
    layer's gateway: ``full_bytes`` [L] and ``sliding_bytes`` [L] bytes per cached token over the
    transformer layers it runs that attend to the whole context and to the last ``window`` tokens;
    ``bandwidth`` B/s; ``kv_heads`` the heads the cache is split by for tensor-parallel shards
    (0: not split, MLA's shared latent)."""

    full_bytes: np.ndarray     # [L] float64
    sliding_bytes: np.ndarray  # [L] float64
    window: int
    bandwidth: float
    kv_heads: int = 0

    def bytes(self, layer, cached, fresh):
        """Bytes a pass of ``fresh`` new tokens after ``cached`` cached ones moves at gateway
        ``layer`` (numpy broadcasting; float64, in the C++ order of operations)."""
        cached = np.asarray(cached, dtype=np.int64)
        fresh = np.asarray(fresh, dtype=np.int64)
        slid = np.minimum(cached, self.window) if self.window else cached
        return (np.asarray(self.full_bytes, dtype=np.float64)[layer] * (cached + fresh).astype(np.float64)
                + np.asarray(self.sliding_bytes, dtype=np.float64)[layer] * (slid + fresh).astype(np.float64))

    def read_ns(self, nbytes):
        """Time to move ``nbytes`` at the bandwidth, whole ns (half up: C++ ``floor(x + 0.5)``)."""
        return np.floor(np.asarray(nbytes, dtype=np.float64) / self.bandwidth * 1e9 + 0.5).astype(np.int64)

    def shard_fraction(self, helpers) -> np.ndarray:
        """[L] share of the cache one shard of a layer split over 1 + ``helpers`` satellites reads."""
        m = 1 + np.asarray(helpers, dtype=np.int64)
        if not self.kv_heads:
            return np.ones(m.shape)
        return (-(-self.kv_heads // m)) / self.kv_heads

    def decode_bytes(self, layer, context_tokens):
        """Bytes a decode step moves when its request's cache holds ``context_tokens`` tokens with
        its own (cached = context - 1, fresh = 1)."""
        return self.bytes(layer, np.asarray(context_tokens) - 1, 1)


def kv_reads(model: ModelSpec, memory_bytes_per_s: float) -> KvReads:
    """:class:`KvReads` of ``model`` at ``memory_bytes_per_s``: each gateway's transformer layers
    (:func:`harness.scenario.model.gateway_layers`) x :func:`kv_elements_per_token` x
    bytes_per_element (GQA's kv_heads, MLA's compressed latent), split by sliding window."""
    per = float(kv_elements_per_token(model) * model.bytes_per_element)
    full, sliding = [], []
    for layers in gateway_layers(model):
        slide = sum(1 for t in layers if is_sliding(model, t))
        full.append(per * (len(layers) - slide))
        sliding.append(per * slide)
    if model.attention == "mla":
        kv_heads = 0
    else:
        kv_heads = model.kv_heads if model.kv_heads is not None else model.heads
    return KvReads(np.array(full), np.array(sliding), int(model.sliding_window), float(memory_bytes_per_s),
                   kv_heads=int(kv_heads))
