"""Compute and model sections of the scenario schema, with the published model presets, and the
FLOP of one token on each kind of component (:func:`gateway_flops`, :func:`expert_flops`,
:func:`lm_head_flops`; the formulas are in :mod:`harness.workload.compute`'s docstring)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from harness.names import BOARD_NAMES, PRECISIONS
from harness.scenario.schema import _spec, _range, MAX_SATELLITES


@dataclass(frozen=True)
class ComputeSpec:
    """On-board compute: a named board (hardware.py) whose figures fill the keys not given here."""

    hardware: str = _spec("paper", help="board profile (docs/hardware.md): fills satellite_flops, "
                          "memory_bytes_per_s, memory_gb and weight_bytes where they are not given; 'paper' is the "
                          "paper's effective 7.28 GFLOP/s with no roofline", choices=BOARD_NAMES)
    precision: str = _spec("bf16", help="number format the board computes in: picks the profile's dense "
                           "throughput and (unless weight_bytes is given) the bytes per weight (2 for bf16/fp16, "
                           "1 for fp8/int8)", choices=PRECISIONS)
    efficiency: float = _spec(1.0, help="achieved / peak: scales the profile's throughput and bandwidth (1: the "
                              "roofline's bound, the default; explicit satellite_flops / memory_bytes_per_s are "
                              "taken as given)", check=_range(0.0, 1.0, open_low=True))
    satellite_flops: float = _spec(7.28e9, unit="FLOP/s", help="effective compute of every satellite",
                                   check=_range(1.0, 1e18))
    memory_bytes_per_s: Optional[float] = _spec(None, unit="B/s", help="memory bandwidth of every satellite: "
                                                "with it, a compute job of n tokens takes max(n x FLOPs / "
                                                "satellite_flops, weight bytes / this) (roofline; the weights "
                                                "of a component are its per-token FLOPs / 2 weights of "
                                                "weight_bytes each). null: FLOPs only (a board profile sets it)",
                                                check=_range(1.0, 1e18))
    memory_gb: float = _spec(8.0, unit="GB", help="memory of every satellite (the paper's board class: 8 GB); the "
                             "weights and KV cache of the components a satellite holds must fit (10^9 B per GB)",
                             check=_range(1e-6, 1e6))
    weight_bytes: int = _spec(2, unit="B", help="bytes per model weight in satellite memory (2: bf16)",
                              check=_range(1, 8))


#: Published models, by name: the shape keys a ``model.preset`` fills in (explicit keys win).
MODEL_PRESETS: dict[str, dict[str, int]] = {
    # LLaMA-MoE-3.5B (2/8): the paper's model.
    "llama-moe-3.5b-2of8": dict(layers=32, experts=8, top_k=2, hidden_size=4096, bytes_per_element=2,
                                ffn_size=1376, vocab_size=32000, heads=32),
    # LLaMA-MoE-3.5B (4/16): the same FFN split into 16 experts of 688 neurons, top-4.
    "llama-moe-3.5b-4of16": dict(layers=32, experts=16, top_k=4, hidden_size=4096, bytes_per_element=2,
                                 ffn_size=688, vocab_size=32000, heads=32),
    # The models below: the shape keys of each model's published config.json (Hugging Face model
    # cards: num_hidden_layers, num_local_experts / num_experts / n_routed_experts,
    # num_experts_per_tok, hidden_size, intermediate_size / moe_intermediate_size, vocab_size,
    # num_attention_heads: the query heads; LLaMA-MoE keeps LLaMA-2-7B's 32).
    # mistralai/Mixtral-8x7B-v0.1 (grouped-query attention: num_key_value_heads 8).
    "mixtral-8x7b": dict(layers=32, experts=8, top_k=2, hidden_size=4096, bytes_per_element=2,
                         ffn_size=14336, vocab_size=32000, heads=32, kv_heads=8),
    # Qwen/Qwen1.5-MoE-A2.7B: 60 routed experts of 1408 plus one always-on shared expert of 5632
    # (shared_expert_intermediate_size), run at the gateway.
    "qwen1.5-moe-a2.7b": dict(layers=24, experts=60, top_k=4, hidden_size=2048, bytes_per_element=2,
                              ffn_size=1408, shared_ffn_size=5632, vocab_size=151936, heads=16),
    # allenai/OLMoE-1B-7B-0924.
    "olmoe-1b-7b": dict(layers=16, experts=64, top_k=8, hidden_size=2048, bytes_per_element=2,
                        ffn_size=1024, vocab_size=50304, heads=16),
    # deepseek-ai/DeepSeek-V2-Lite: 27 layers, the first dense (first_k_dense_replace = 1,
    # intermediate_size 10944), then 26 MoE layers of 64 routed experts of 1408 (top-6) and 2 shared
    # experts (2 x 1408 = 2816 neurons, run at the gateway). The dense first layer is not a
    # component of its own: it runs where every token starts and ends, on layer 0's gateway, and its
    # work (attention 2*4*h^2 + FFN 2*3*h*10944 = 168.1 MFLOP) is added to the LM head's
    # (2*h*vocab = 419.4 MFLOP) there. Attention is counted as 4 h x h projections, an upper bound
    # for DeepSeek's multi-head latent attention; its KV cache is the compressed latent, kv_lora_rank
    # 512 plus the decoupled RoPE key, qk_rope_head_dim 64, per token and layer.
    "deepseek-v2-lite": dict(layers=26, experts=64, top_k=6, hidden_size=2048, bytes_per_element=2,
                             ffn_size=1408, shared_ffn_size=2816, vocab_size=102400, heads=16,
                             kv_lora_rank=512, qk_rope_head_dim=64,
                             lm_head_flops=2 * 2048 * 102400 + 2 * 4 * 2048**2 + 2 * 3 * 2048 * 10944),
    # Qwen/Qwen3-30B-A3B: 48 layers of 128 experts of 768 neurons, top-8; grouped-query attention,
    # num_key_value_heads 4 of head_dim 128.
    "qwen3-30b-a3b": dict(layers=48, experts=128, top_k=8, hidden_size=2048, bytes_per_element=2,
                          ffn_size=768, vocab_size=151936, heads=32, kv_heads=4, head_dim=128),
}


@dataclass(frozen=True)
class ModelSpec:
    """The mixture-of-experts model: its shape and per-token work."""

    preset: Optional[str] = _spec(None, help="a published model whose shape fills the keys not given here",
                                  choices=tuple(MODEL_PRESETS))
    layers: int = _spec(4, help="MoE layers L (one ring subnet each)", check=_range(1, MAX_SATELLITES))
    experts: int = _spec(4, help="experts per layer E", check=_range(1, MAX_SATELLITES))
    top_k: int = _spec(2, help="experts activated per token and layer k, in [1, E]", check=_range(1, MAX_SATELLITES))
    hidden_size: int = _spec(4096, help="hidden dimension (a message is hidden_size x bytes_per_element)",
                             check=_range(1, 2**20))
    bytes_per_element: int = _spec(2, unit="B", help="bytes per hidden-state element (2 for bf16)",
                                   choices=(1, 2, 4))
    ffn_size: int = _spec(1376, help="neurons of one expert's FFN", check=_range(1, 2**24))
    heads: int = _spec(32, help="attention heads of a layer: a tensor-parallel layer split over m satellites "
                       "(m <= heads) takes ceil(heads / m) / heads of the gateway's work per shard",
                       check=_range(1, 2**16))
    shared_ffn_size: int = _spec(0, help="neurons of the always-active shared expert(s) of a layer, run at its "
                                 "gateway (0: none)", check=_range(0, 2**24))
    vocab_size: int = _spec(32000, help="vocabulary size (LM head)", check=_range(1, 2**24))
    kv_heads: Optional[int] = _spec(None, help="key/value heads of a layer (grouped-query attention keeps fewer "
                                    "than heads); null: heads. The KV cache is 2 x kv_heads x head_dim x "
                                    "bytes_per_element per token and layer", check=_range(1, 2**16))
    head_dim: Optional[int] = _spec(None, help="dimension of one attention head; null: hidden_size / heads",
                                    check=_range(1, 2**16))
    kv_lora_rank: Optional[int] = _spec(None, help="multi-head latent attention (DeepSeek): the compressed KV "
                                        "latent's width; with it the KV cache is (kv_lora_rank + "
                                        "qk_rope_head_dim) x bytes_per_element per token and layer. null: no MLA",
                                        check=_range(1, 2**20))
    qk_rope_head_dim: Optional[int] = _spec(None, help="multi-head latent attention: the decoupled RoPE key's "
                                            "width cached beside the latent (0 if null)", check=_range(0, 2**16))
    combine: str = _spec("next-gateway", help="where a layer's k expert outputs are combined: at the 'next-gateway' "
                         "(they go straight on) or the 'own-gateway' (which forwards one combined state)",
                         choices=("next-gateway", "own-gateway"))
    dispatch: str = _spec("parallel", help="how a token reaches its k experts: all at once ('parallel') or one "
                          "after another ('sequential': gateway -> e1 -> ... -> ek -> combining gateway)",
                          choices=("parallel", "sequential"))
    gateway_flops: Optional[float] = _spec(None, unit="FLOP", help="per-token gateway work (attention + router); "
                                           "default derived from the dimensions", check=_range(0.0, 1e20, open_low=True))
    expert_flops: Optional[float] = _spec(None, unit="FLOP", help="per-token work of one expert; default derived",
                                          check=_range(0.0, 1e20, open_low=True))
    lm_head_flops: Optional[float] = _spec(None, unit="FLOP", help="per-token LM head work; default derived",
                                           check=_range(0.0, 1e20, open_low=True))

    @property
    def hidden_bytes(self) -> int:
        """Bytes of one token's hidden state: the size of every message."""
        return self.hidden_size * self.bytes_per_element

    @property
    def num_components(self) -> int:
        """Satellites the model occupies: one gateway and E experts per layer."""
        return self.layers * (1 + self.experts)


def kv_bytes_per_token(model: ModelSpec) -> int:
    """Bytes of one token's KV cache in one layer: with multi-head latent attention (``kv_lora_rank``)
    the compressed latent and the RoPE key, ``(kv_lora_rank + qk_rope_head_dim) x bytes_per_element``;
    otherwise keys and values, ``2 x kv_heads x head_dim x bytes_per_element`` (``kv_heads`` defaults
    to ``heads`` and ``head_dim`` to ``hidden_size / heads``: ``2 x hidden_size x bytes_per_element``
    for a model without grouped-query attention, as before)."""
    if model.kv_lora_rank is not None:
        return (model.kv_lora_rank + (model.qk_rope_head_dim or 0)) * model.bytes_per_element
    kv_heads = model.kv_heads if model.kv_heads is not None else model.heads
    if model.head_dim is None and kv_heads == model.heads:
        return 2 * model.hidden_size * model.bytes_per_element
    head_dim = model.head_dim if model.head_dim is not None else model.hidden_size // model.heads
    return 2 * kv_heads * head_dim * model.bytes_per_element


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
