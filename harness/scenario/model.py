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
MODEL_PRESETS: dict[str, dict[str, object]] = {
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
                         ffn_size=14336, vocab_size=32000, heads=32, attention="gqa", kv_heads=8),
    # Qwen/Qwen1.5-MoE-A2.7B: 60 routed experts of 1408 plus one always-on shared expert of 5632
    # (shared_expert_intermediate_size), run at the gateway.
    "qwen1.5-moe-a2.7b": dict(layers=24, experts=60, top_k=4, hidden_size=2048, bytes_per_element=2,
                              ffn_size=1408, shared_ffn_size=5632, vocab_size=151936, heads=16),
    # allenai/OLMoE-1B-7B-0924.
    "olmoe-1b-7b": dict(layers=16, experts=64, top_k=8, hidden_size=2048, bytes_per_element=2,
                        ffn_size=1024, vocab_size=50304, heads=16),
    # deepseek-ai/DeepSeek-V2-Lite, config.json (Hugging Face): num_hidden_layers 27 with
    # first_k_dense_replace 1 (intermediate_size 10944), so 26 MoE layers of n_routed_experts 64 of
    # moe_intermediate_size 1408, num_experts_per_tok 6, n_shared_experts 2 (2 x 1408 = 2816 neurons,
    # run at the gateway); hidden_size 2048, num_attention_heads 16, multi-head latent attention with
    # q_lora_rank null (a plain Q projection), kv_lora_rank 512, qk_nope_head_dim 128,
    # qk_rope_head_dim 64, v_head_dim 128; vocab_size 102400, tie_word_embeddings false; 15.7 B
    # parameters. Re-checked (issue 27): the shape keys were right; attention was counted as 4 h x h
    # (16.8 M weights, an upper bound) where MLA has 13.8 M, and the dense first layer ran with the LM
    # head; it now runs on layer 0's gateway before its attention, as the model does.
    "deepseek-v2-lite": dict(layers=26, experts=64, top_k=6, hidden_size=2048, bytes_per_element=2,
                             ffn_size=1408, shared_ffn_size=2816, vocab_size=102400, heads=16,
                             first_dense_layers=1, dense_ffn_size=10944, attention="mla", kv_lora_rank=512,
                             qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128, tie_embeddings=False),
    # Qwen/Qwen3-30B-A3B: 48 layers of 128 experts of 768 neurons, top-8.
    "qwen3-30b-a3b": dict(layers=48, experts=128, top_k=8, hidden_size=2048, bytes_per_element=2,
                          ffn_size=768, vocab_size=151936, heads=32),
    # The frontier models (issue 27). No network access was available when these were written: the
    # figures are those of each model's official config.json as published on Hugging Face (the file
    # named per preset), from memory of those files, and each was checked against the model's
    # published total parameter count (tests/test_frontier_models.py recomputes every weight by
    # hand from the figures quoted here).
    # deepseek-ai/DeepSeek-V3, inference/configs/config_671B.json (and the Hugging Face config.json):
    # vocab_size 129280, dim / hidden_size 7168, inter_dim / intermediate_size 18432 (dense layers),
    # moe_inter_dim / moe_intermediate_size 2048, n_layers 61 of which n_dense_layers /
    # first_k_dense_replace 3, n_heads 128, n_routed_experts 256, n_shared_experts 1, n_activated_experts
    # 8, q_lora_rank 1536, kv_lora_rank 512, qk_nope_head_dim 128, qk_rope_head_dim 64, v_head_dim 128;
    # untied embeddings. 671 B parameters (the multi-token-prediction module's 14 B are not served).
    "deepseek-v3": dict(layers=58, experts=256, top_k=8, hidden_size=7168, bytes_per_element=2, ffn_size=2048,
                        shared_ffn_size=2048, vocab_size=129280, heads=128, first_dense_layers=3,
                        dense_ffn_size=18432, attention="mla", q_lora_rank=1536, kv_lora_rank=512,
                        qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128, tie_embeddings=False),
    # moonshotai/Kimi-K2-Instruct, config.json (the DeepSeek-V3 architecture): num_hidden_layers 61
    # with first_k_dense_replace 1, n_routed_experts 384, n_shared_experts 1, num_experts_per_tok 8,
    # hidden_size 7168, intermediate_size 18432, moe_intermediate_size 2048, num_attention_heads 64,
    # q_lora_rank 1536, kv_lora_rank 512, qk_nope_head_dim 128, qk_rope_head_dim 64, v_head_dim 128,
    # vocab_size 163840; untied embeddings. About 1.03 T parameters (the model card: 1 T total, 32 B active).
    "kimi-k2": dict(layers=60, experts=384, top_k=8, hidden_size=7168, bytes_per_element=2, ffn_size=2048,
                    shared_ffn_size=2048, vocab_size=163840, heads=64, first_dense_layers=1, dense_ffn_size=18432,
                    attention="mla", q_lora_rank=1536, kv_lora_rank=512, qk_nope_head_dim=128,
                    qk_rope_head_dim=64, v_head_dim=128, tie_embeddings=False),
    # Qwen/Qwen3-235B-A22B, config.json: num_hidden_layers 94 (every layer MoE: decoder_sparse_step 1,
    # mlp_only_layers []), num_experts 128, num_experts_per_tok 8, hidden_size 4096,
    # moe_intermediate_size 1536, num_attention_heads 64, num_key_value_heads 4, head_dim 128,
    # vocab_size 151936, tie_word_embeddings false. 235 B parameters (22 B active).
    "qwen3-235b-a22b": dict(layers=94, experts=128, top_k=8, hidden_size=4096, bytes_per_element=2, ffn_size=1536,
                            vocab_size=151936, heads=64, attention="gqa", kv_heads=4, head_dim=128,
                            tie_embeddings=False),
    # openai/gpt-oss-120b, config.json: num_hidden_layers 36, num_local_experts 128,
    # num_experts_per_tok (experts_per_token) 4, hidden_size 2880, intermediate_size 2880 (a gated
    # FFN: gate_up_proj 2 x 2880 and down_proj, three matrices), num_attention_heads 64,
    # num_key_value_heads 8, head_dim 64, sliding_window 128 with layer_types alternating
    # sliding_attention (even layers) and full_attention (odd layers), vocab_size 201088, untied
    # embeddings. The model card: 116.8 B parameters (5.1 B active). Biases (about 0.03 %) are not counted.
    "gpt-oss-120b": dict(layers=36, experts=128, top_k=4, hidden_size=2880, bytes_per_element=2, ffn_size=2880,
                         vocab_size=201088, heads=64, attention="gqa", kv_heads=8, head_dim=64, sliding_window=128,
                         sliding_window_pattern=2, tie_embeddings=False),
    # meta-llama/Llama-4-Maverick-17B-128E-Instruct, config.json (text_config): num_hidden_layers 48,
    # interleave_moe_layer_step 2 (layers 1, 3, ..., 47 are MoE), num_local_experts 128,
    # num_experts_per_tok 1, one shared expert of intermediate_size 8192 beside routed experts of 8192,
    # intermediate_size_mlp 16384 (the dense layers), hidden_size 5120, num_attention_heads 40,
    # num_key_value_heads 8, head_dim 128, vocab_size 202048, untied embeddings; attention_chunk_size
    # 8192 on three layers of four (every fourth, NoPE, layer attends globally): its KV cache is bounded
    # like a sliding window of 8192. About 400 B parameters (17 B active). The vision encoder is not modelled.
    "llama-4-maverick": dict(layers=24, experts=128, top_k=1, hidden_size=5120, bytes_per_element=2, ffn_size=8192,
                             shared_ffn_size=8192, vocab_size=202048, heads=40, moe_interval=2, dense_ffn_size=16384,
                             attention="gqa", kv_heads=8, head_dim=128, sliding_window=8192, sliding_window_pattern=4,
                             tie_embeddings=False),
}


#: Expert popularity of the frontier presets (issue 27, item 5a): the synthetic generator's
#: ``activations.skew`` (Zipf exponent of per-layer popularity) and ``activations.stickiness``
#: (probability that a token reuses the previous token's experts) that ``model.preset`` fills in
#: when the scenario does not give them (harness/scenario/loader.py; the generator and its formulas:
#: harness/workload/activations.py). Real routing statistics need the weights and a workload, which
#: could not be run here (no network, no weights), so each entry says where its figures come from or
#: that they are an assumption. The older presets have none: their scenarios keep the schema's
#: defaults (skew 0.6, stickiness 0.05), so their traces stay byte-identical. The generator draws each
#: layer independently: co-activation across layers is not modelled (no published per-pair figures
#: for these models were at hand).
ACTIVATION_PRESETS: dict[str, dict[str, float]] = {
    # DeepSeek-V3 (arXiv 2412.19437): auxiliary-loss-free balancing (a per-expert bias, sec. 2.1.2)
    # balances the load of whole training batches, yet at serving time the report still replicates
    # "high-load experts", detected from online statistics (32 redundant experts in prefill, sec.
    # 3.4.1): deployed traffic is skewed. Figure: the ~12x hottest/mean expert load quoted for
    # DeepSeek-R1 (V3's architecture and router) in harness/workload/activations.py, which this
    # generator gives at skew 0.65 with 256 experts, top-8 (tests/test_expert_popularity.py
    # measures it); that figure's original source could not be re-checked here. Stickiness: no
    # published figure; the schema's default 0.05 (an assumption).
    "deepseek-v3": dict(skew=0.65, stickiness=0.05),
    # Kimi K2 (the DeepSeek-V3 architecture and its bias-based balancing, 384 experts): assumption, no
    # published per-expert load figures: DeepSeek-V3's parameters.
    "kimi-k2": dict(skew=0.65, stickiness=0.05),
    # Qwen3-235B-A22B (Qwen3 technical report, arXiv 2505.09388: global-batch load-balancing loss,
    # which lets experts specialise by domain) and gpt-oss-120b and Llama 4 Maverick (model cards: no
    # routing statistics): no published per-expert load figures; assumption: the schema's defaults,
    # stated here so that every frontier preset says what it uses.
    "qwen3-235b-a22b": dict(skew=0.6, stickiness=0.05),
    "gpt-oss-120b": dict(skew=0.6, stickiness=0.05),
    "llama-4-maverick": dict(skew=0.6, stickiness=0.05),
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
    # The model's shape beyond its MoE layers (issue 27). The defaults are the plain shape above: every
    # layer MoE, multi-head attention of 4 hidden x hidden projections, one tied embedding matrix.
    first_dense_layers: int = _spec(0, help="dense layers (attention + an FFN of dense_ffn_size, no experts) before "
                                    "the first MoE layer (DeepSeek's first_k_dense_replace); they run on MoE layer "
                                    "0's gateway, before its attention", check=_range(0, 4096))
    moe_interval: int = _spec(1, help="after the first dense layers every moe_interval-th layer is MoE (Llama 4's "
                              "interleave_moe_layer_step); the moe_interval - 1 dense layers before each run on "
                              "that MoE layer's gateway, before its attention", check=_range(1, 64))
    dense_ffn_size: int = _spec(0, help="neurons of a dense layer's FFN (a SwiGLU: 3 matrices; the config's "
                                "intermediate_size); needed with first_dense_layers or moe_interval > 1",
                                check=_range(0, 2**24))
    attention: str = _spec("mha", help="attention kind: 'mha' (multi-head), 'gqa' (grouped-query: kv_heads key/value "
                           "heads) or 'mla' (DeepSeek's multi-head latent attention: kv_lora_rank, the qk and v "
                           "head dims)", choices=("mha", "gqa", "mla"))
    kv_heads: Optional[int] = _spec(None, help="key/value heads (gqa; null: = heads)", check=_range(1, 2**16))
    head_dim: Optional[int] = _spec(None, help="dimension of one attention head (mha/gqa; null: hidden_size / heads)",
                                    check=_range(1, 2**16))
    q_lora_rank: int = _spec(0, help="mla: rank of the query's low-rank projection (0: a plain query projection)",
                             check=_range(0, 2**20))
    kv_lora_rank: int = _spec(0, help="mla: rank of the compressed key/value latent, cached per token",
                              check=_range(0, 2**20))
    qk_nope_head_dim: int = _spec(0, help="mla: per-head query/key dimension without rotary embedding",
                                  check=_range(0, 2**16))
    qk_rope_head_dim: int = _spec(0, help="mla: per-head query/key dimension with rotary embedding (its key part is "
                                  "shared by the heads and cached beside the latent)", check=_range(0, 2**16))
    v_head_dim: int = _spec(0, help="mla: per-head value dimension", check=_range(0, 2**16))
    sliding_window: int = _spec(0, unit="tokens", help="sliding-window (or chunked) attention: a layer keeps the KV "
                                "cache of at most this many tokens (0: none)", check=_range(0, 2**30))
    sliding_window_pattern: int = _spec(0, help="with sliding_window: every n-th layer (layer i, counting every "
                                        "layer from 0, with (i + 1) % n == 0) attends to the whole context, the "
                                        "others to the window (0: every layer slides)", check=_range(0, 4096))
    tie_embeddings: bool = _spec(True, help="the input embedding and the LM head share one vocab x hidden matrix "
                                 "(false: two, both held by layer 0's gateway)")

    @property
    def hidden_bytes(self) -> int:
        """Bytes of one token's hidden state: the size of every message."""
        return self.hidden_size * self.bytes_per_element

    @property
    def num_components(self) -> int:
        """Satellites the model occupies: one gateway and E experts per layer."""
        return self.layers * (1 + self.experts)

    @property
    def transformer_layers(self) -> int:
        """Every layer of the model, dense and MoE: first_dense_layers + layers x moe_interval."""
        return self.first_dense_layers + self.layers * self.moe_interval

    @property
    def has_dense_layers(self) -> bool:
        return self.first_dense_layers > 0 or self.moe_interval > 1


# Weights, per token FLOPs and KV cache of each part of the model. A part's per-token FLOPs are 2 per
# weight (one multiply-accumulate), as everywhere in the harness; norms and biases (under 0.1 % of
# every preset) are left out.


def attention_weights(model: ModelSpec) -> float:
    """Weights of one layer's attention projections.

    - mha / gqa: Q ``hidden x heads x head_dim``, K and V ``hidden x kv_heads x head_dim`` each, O
      ``heads x head_dim x hidden``; with neither kv_heads nor head_dim given, ``4 hidden^2``;
    - mla: the query's down- and up-projections ``hidden x q_lora + q_lora x heads x (nope + rope)``
      (or ``hidden x heads x (nope + rope)`` without q_lora), the joint key/value down-projection
      ``hidden x (kv_lora + rope)``, the key/value up-projection ``kv_lora x heads x (nope + v)``
      and O ``heads x v x hidden``.
    """
    h, heads = model.hidden_size, model.heads
    if model.attention == "mla":
        qk = model.qk_nope_head_dim + model.qk_rope_head_dim
        q = (h * model.q_lora_rank + model.q_lora_rank * heads * qk) if model.q_lora_rank else h * heads * qk
        kv_down = h * (model.kv_lora_rank + model.qk_rope_head_dim)
        kv_up = model.kv_lora_rank * heads * (model.qk_nope_head_dim + model.v_head_dim)
        return float(q + kv_down + kv_up + heads * model.v_head_dim * h)
    if model.kv_heads is None and model.head_dim is None:
        return 4.0 * h * h
    hd = model.head_dim if model.head_dim is not None else h // heads
    kv = model.kv_heads if model.kv_heads is not None else heads
    return float(2 * h * heads * hd + 2 * h * kv * hd)


def kv_elements_per_token(model: ModelSpec) -> int:
    """Elements one layer caches per token of context: ``kv_lora + qk_rope`` for mla (the compressed
    latent and the shared rotary key), ``2 x kv_heads x head_dim`` for gqa / mha (``2 hidden`` for
    the plain shape)."""
    if model.attention == "mla":
        return model.kv_lora_rank + model.qk_rope_head_dim
    if model.kv_heads is None and model.head_dim is None:
        return 2 * model.hidden_size
    hd = model.head_dim if model.head_dim is not None else model.hidden_size // model.heads
    return 2 * (model.kv_heads if model.kv_heads is not None else model.heads) * hd


def is_sliding(model: ModelSpec, layer: int) -> bool:
    """Whether transformer layer ``layer`` (every layer from 0) attends only to the sliding window."""
    if not model.sliding_window:
        return False
    n = model.sliding_window_pattern
    return n == 0 or (layer + 1) % n != 0


def gateway_layers(model: ModelSpec) -> list[list[int]]:
    """Per MoE layer l, the transformer layers its gateway runs (their indices, every layer from 0):
    the dense layers before it, then its own (MoE) layer."""
    out = []
    for l in range(model.layers):
        own = model.first_dense_layers + l * model.moe_interval + model.moe_interval - 1
        first = 0 if l == 0 else own - (model.moe_interval - 1)
        out.append(list(range(first, own + 1)))
    return out


def dense_layers_at(model: ModelSpec) -> list[int]:
    """[L] dense layers each MoE layer's gateway runs."""
    return [len(ls) - 1 for ls in gateway_layers(model)]


def dense_ffn_weights(model: ModelSpec) -> float:
    """Weights of one dense layer's FFN (SwiGLU): ``3 x hidden x dense_ffn_size``."""
    return 3.0 * model.hidden_size * model.dense_ffn_size


def kv_cache_bytes(model: ModelSpec, layer: int, context_tokens: int) -> float:
    """Bytes transformer layer ``layer`` caches for ``context_tokens`` tokens (bounded by the window
    on a sliding layer), at bytes_per_element."""
    tokens = min(context_tokens, model.sliding_window) if is_sliding(model, layer) else context_tokens
    return float(kv_elements_per_token(model)) * model.bytes_per_element * tokens


def weight_counts(model: ModelSpec) -> dict[str, float]:
    """The model's weights by part: ``attention`` (one layer), ``dense_ffn`` (one dense layer),
    ``router``, ``shared`` (one layer's shared experts), ``expert`` (one), ``embedding`` (the
    vocab x hidden matrices, 1 tied or 2), and ``total`` over every layer."""
    h = model.hidden_size
    attn = attention_weights(model)
    dense = dense_ffn_weights(model)
    router = float(h * model.experts)
    shared = 3.0 * h * model.shared_ffn_size
    expert = 3.0 * h * model.ffn_size
    embedding = (1 if model.tie_embeddings else 2) * float(h * model.vocab_size)
    n_dense = sum(dense_layers_at(model))
    total = (model.transformer_layers * attn + n_dense * dense
             + model.layers * (router + shared + model.experts * expert) + embedding)
    return dict(attention=attn, dense_ffn=dense, router=router, shared=shared, expert=expert, embedding=embedding,
                total=total)


def kv_bytes_per_token(model: ModelSpec) -> int:
    """Bytes of one token's KV cache in one (full-attention) layer: :func:`kv_elements_per_token` x
    bytes_per_element (MLA: the compressed latent and the RoPE key; GQA/MHA: keys and values of
    kv_heads x head_dim; ``2 x hidden_size`` elements for the plain shape, as before)."""
    return kv_elements_per_token(model) * model.bytes_per_element


def gateway_flops(model: ModelSpec) -> float:
    """FLOP of one gateway (attention + router) for one token."""
    if model.gateway_flops is not None:
        return model.gateway_flops
    attention = 2.0 * 4 * model.hidden_size**2 if model.attention == "mha" and model.kv_heads is None \
        and model.head_dim is None else 2.0 * attention_weights(model)
    flops = attention + 2.0 * model.hidden_size * model.experts
    if model.shared_ffn_size:
        flops += 2.0 * 3 * model.hidden_size * model.shared_ffn_size
    return flops


def gateway_flops_per_layer(model: ModelSpec) -> list[float]:
    """[L] FLOP of each MoE layer's gateway for one token: :func:`gateway_flops` plus, for each dense
    layer it runs, that layer's attention and dense FFN (``2 x (attention + 3 x hidden x
    dense_ffn_size)``). An explicit ``model.gateway_flops`` is every gateway's whole work."""
    base = gateway_flops(model)
    if model.gateway_flops is not None or not model.has_dense_layers:
        return [base] * model.layers
    dense = 2.0 * (attention_weights(model) + dense_ffn_weights(model))
    return [base + n * dense for n in dense_layers_at(model)]


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
