"""The resource model: what each satellite must hold in memory for a placement, and the check that
it fits the board (``compute.memory_gb``; the paper's board class has 8 GB).

A component's memory is its weights (``compute.weight_bytes`` per weight, 2 for bf16) plus, for
attention, the KV cache of the scenario's requests:

- a gateway (attention + router): ``4 hidden^2 + hidden x E`` weights (Q, K, V, O and the router)
  and the KV cache (:func:`harness.scenario.model.kv_bytes_per_token`: ``2 x hidden x
  bytes_per_element`` per token of context, less with grouped-query attention's ``kv_heads`` or
  multi-head latent attention), for every request's tokens (``traffic.requests x
  traffic.tokens_per_request``) or, in a serving run, one request's longest prompt and output
  (layer 0's gateway admits the others at run time while their caches fit: :func:`kv_budget_tokens`); a model with shared experts keeps
  their ``3 x hidden x shared_ffn_size`` weights with the attention (on the gateway, or split over
  its shards, below); the gateway of layer 0 also holds the LM head, ``hidden x vocab``;
- an expert: ``3 x hidden x ffn`` weights (a SwiGLU FFN), and as much for each of its copies
  (expert replicas) on the copy's satellite;
- a tensor-parallel layer's attention is split by heads over its m = 1 + H shards: each (the
  gateway included) is charged the largest shard's share, ceil(heads / m) / heads (1 / m when m
  divides ``model.heads``), of the attention weights, of the KV cache (its heads) and of the shared
  experts' weights (their FFN split by columns, the partial outputs summed with the attention's
  gather), as the packet engine charges each shard that share of the gateway's whole compute, shared
  experts included (``packet_sim.shard_compute_ns``); the gateway keeps the router (and the LM head).

The model's full shape (issue 27; ``harness/scenario/model.py``): attention weights are
``attention_weights`` (GQA's kv_heads, MLA's down- and up-projections) and the KV cache per token
of a layer is ``kv_elements_per_token`` (MLA: the latent kv_lora + the rotary key qk_rope; GQA: 2 x
kv_heads x head_dim), bounded by the window on a sliding layer; a gateway also holds the dense
layers it runs (their attention, KV cache and FFN, split with the attention over its shards); an
untied embedding is a second vocab x hidden matrix beside the LM head on layer 0's gateway.

Compute stays one first-come first-served queue per satellite (the packet engine's). The paper's
four strategies keep one component per satellite; the tensor-parallel ones may add a shard to an
expert's satellite, and then both count.
"""

from __future__ import annotations

import numpy as np

from harness.errors import PlacementError
from harness.placement.types import Placement
from harness.scenario.model import (attention_weights, dense_ffn_weights, gateway_layers,
                                    kv_bytes_per_token, kv_cache_bytes)

#: Bytes per GB in ``compute.memory_gb``.
GB = 1e9


def memory_use_bytes(placement: Placement, model, *, weight_bytes: int, context_tokens: int,
                     num_satellites: int) -> tuple[np.ndarray, list[list[str]]]:
    """([N] float bytes each satellite holds, [N] lists of what it holds, for messages).

    ``model`` is the scenario's ModelSpec; ``context_tokens`` the tokens whose KV cache a layer keeps
    (every request's tokens, as all requests may be in flight at once).
    """
    parts = component_bytes(model, weight_bytes=weight_bytes, context_tokens=context_tokens)
    split_w = parts["split"]  # [L]: what the shards divide (attention, dense layers, shared experts, KV)
    router_w = parts["router"]
    expert_w = parts["expert"]
    lm_head_w = parts["lm_head"]
    use = np.zeros(num_satellites)
    what: list[list[str]] = [[] for _ in range(num_satellites)]
    layers = len(placement.gateways)
    shards = placement.shards
    for layer in range(layers):
        helpers = np.asarray(shards[layer])[np.asarray(shards[layer]) >= 0] if shards is not None else np.array([], int)
        split = 1 + len(helpers)  # each shard is charged the largest one's heads, as in compute
        share = split_w[layer] * -(-model.heads // split) / model.heads
        gateway = int(placement.gateways[layer])
        use[gateway] += share + router_w + (lm_head_w if layer == 0 else 0.0)
        what[gateway].append(f"gateway of layer {layer}" + (" + LM head" if layer == 0 else ""))
        for i, sat in enumerate(helpers.tolist()):
            use[sat] += share
            what[sat].append(f"attention shard {i + 1} of layer {layer}")
    np.add.at(use, placement.experts.ravel(), expert_w)
    if placement.replicas is not None:  # every copy of an expert holds its weights too
        layer, e, r = np.nonzero(np.asarray(placement.replicas) >= 0)
        copy = np.asarray(placement.replicas)[layer, e, r]
        np.add.at(use, copy, expert_w)
        for l, ex, sat in zip(layer.tolist(), e.tolist(), copy.tolist()):
            what[sat].append(f"copy of expert {ex} of layer {l}")
    for layer, row in enumerate(placement.experts.tolist()):
        for e, sat in enumerate(row):
            what[sat].append(f"expert {e} of layer {layer}")
    return use, what


def component_bytes(model, *, weight_bytes: int, context_tokens: int) -> dict:
    """Bytes of each kind of component: ``split`` [L] float (a gateway's part that tensor-parallel
    shards divide: the attention of its own layer and of the dense layers it runs, their KV cache,
    the dense layers' FFNs and the shared experts), ``router``, ``expert`` (one), ``lm_head`` (the
    LM head, and the input embedding when it is not tied: both on layer 0's gateway) and
    ``gateway`` [L] (a whole unsplit gateway: split + router, + lm_head at layer 0)."""
    h, experts = model.hidden_size, model.experts
    shared_w = 3.0 * h * (model.shared_ffn_size or 0) * weight_bytes
    if model.attention == "mha" and model.kv_heads is None and model.head_dim is None and not model.sliding_window \
            and not model.has_dense_layers:
        # the plain shape: the original formula, to the bit
        attention_w = 4.0 * h * h * weight_bytes
        kv = 2.0 * h * model.bytes_per_element * context_tokens
        split = np.full(model.layers, attention_w + shared_w + kv)
    else:
        attention_w = attention_weights(model) * weight_bytes
        dense_w = dense_ffn_weights(model) * weight_bytes
        split = np.array([len(hosted) * attention_w + (len(hosted) - 1) * dense_w + shared_w
                          + sum(kv_cache_bytes(model, i, context_tokens) for i in hosted)
                          for hosted in gateway_layers(model)])
    router_w = float(h * experts * weight_bytes)
    lm_head_w = float(h * model.vocab_size * weight_bytes) * (1 if model.tie_embeddings else 2)
    gateway = split + router_w
    gateway[0] += lm_head_w
    return dict(split=split, router=router_w, expert=3.0 * h * model.ffn_size * weight_bytes, lm_head=lm_head_w,
                gateway=gateway)


def kv_budget_tokens(placement: Placement, model, *, memory_gb: float, weight_bytes: int,
                     num_satellites: int) -> int:
    """KV-cache tokens one model replica holds at run time: at each layer's gateway the memory left
    beside the weights of everything on its satellite, over one token's cache there (its share of
    the heads when the layer is split over shards), the least of the layers, rounded down."""
    weights, _ = memory_use_bytes(placement, model, weight_bytes=weight_bytes, context_tokens=0,
                                  num_satellites=num_satellites)
    kv = float(kv_bytes_per_token(model))
    budget = np.inf
    for layer, sat in enumerate(np.asarray(placement.gateways).tolist()):
        split = 1
        if placement.shards is not None:
            split += int((np.asarray(placement.shards[layer]) >= 0).sum())
        per_token = kv * -(-model.heads // split) / model.heads
        budget = min(budget, (memory_gb * GB - weights[sat]) / per_token)
    return max(0, int(budget))


def expert_capacity(model, *, memory_gb: float, weight_bytes: int, context_tokens: int) -> int:
    """How many experts one board holds beside one whole layer's attention (its weights, shared
    experts and KV cache: the most a helper shard is charged): mesh-tp's packing limit."""
    h = model.hidden_size
    parts = component_bytes(model, weight_bytes=weight_bytes, context_tokens=context_tokens)
    attention = float(parts["split"].max())
    if model.attention == "mha" and model.kv_heads is None and model.head_dim is None and not model.sliding_window \
            and not model.has_dense_layers:  # the plain shape: the original expression, to the bit
        attention = (4.0 * h * h + 3.0 * h * (model.shared_ffn_size or 0)) * weight_bytes \
            + 2.0 * h * model.bytes_per_element * context_tokens
    return max(0, int((memory_gb * GB - attention) // parts["expert"]))


def _round_up(gb: float) -> str:
    """``gb`` rounded up to 3 significant figures (the smallest memory that does fit, not just under it)."""
    import math

    if gb <= 0:
        return "0"
    scale = 10 ** (math.floor(math.log10(gb)) - 2)
    return f"{math.ceil(gb / scale - 1e-9) * scale:.{max(0, 2 - math.floor(math.log10(gb)))}f}"


def check_memory(placement: Placement, model, *, memory_gb: float, weight_bytes: int, context_tokens: int,
                 num_satellites: int) -> np.ndarray:
    """[N] bytes held per satellite; PlacementError (one line) naming the fullest satellite that
    does not fit ``memory_gb``, what it holds and by how much it overflows."""
    use, what = memory_use_bytes(placement, model, weight_bytes=weight_bytes, context_tokens=context_tokens,
                                 num_satellites=num_satellites)
    over = use - memory_gb * GB
    if (over > 0).any():
        sat = int(np.argmax(over))
        shown = what[sat] if len(what[sat]) <= 4 else what[sat][:3] + [f"{len(what[sat]) - 3} more"]
        raise PlacementError(f"placement '{placement.strategy}' does not fit satellite {sat}: it holds "
                             f"{use[sat] / GB:.3f} GB ({', '.join(shown)}) but has {memory_gb:g} GB, "
                             f"{over[sat] / GB:.3f} GB over; this placement needs at least "
                             f"{_round_up(use.max() / GB)} GB per board: raise compute.memory_gb (or pick a board "
                             f"with that much), use fewer bytes per weight (compute.weight_bytes) or a smaller model")
    return use
