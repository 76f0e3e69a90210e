"""``harness estimate SCENARIO --explain``: what a model needs of a board and a constellation,
from the scenario alone, before any constellation, route or placement is computed.

For the scenario's model, board (``compute``) and constellation it prints:

- the model's weights (by the formulas of ``harness/scenario/model.py``) and their bytes at
  ``compute.weight_bytes``, the KV cache per token per layer and the context held;
- each component's memory (``harness/placement/resources.py``'s :func:`component_bytes`): one
  expert, layer 0's gateway (its attention, the dense layers it runs, shared experts, router, LM head
  and embedding) and the largest other gateway;
- the boards the weights need by memory alone, and the satellites the model occupies;
- per strategy: satellites per layer, the largest satellite's memory and the headroom left on the
  board, or the one line that refuses it with the smallest memory per board that would do.

What each strategy holds per satellite, as the placement code builds it:

- one component per satellite (the paper's four, ``compact``, ``sun-aware``; ``space-xnet-replicas``
  adds copies, one expert each): the largest component;
- tensor-parallel (``space-xnet-tp``, ``compact-tp``): a helper shard may sit on an expert's
  satellite, so at most the largest of the unsplit gateways and one expert beside a half split
  (ceil(heads / 2) / heads of the largest attention part); the shard count is chosen by latency, so
  this is the bound, and the placement's own check (which names the smallest memory that fits it)
  has the last word;
- packed (``space-xnet-packed-tp``, ``compact-packed-tp``, ``mesh-tp``): each layer's experts go on
  at least ceil(E / capacity) boards, capacity = what a board holds beside the largest attention
  part (``expert_capacity``); refused when not one expert fits beside it.
"""

from __future__ import annotations

import math

from harness.names import CLUSTER_STRATEGIES, REPLICA_STRATEGIES, STRATEGY_NAMES, TENSOR_PARALLEL_STRATEGIES
from harness.placement.resources import GB, component_bytes, expert_capacity
from harness.scenario import Scenario
from harness.scenario.model import kv_elements_per_token, weight_counts

PACKED = ("space-xnet-packed-tp", "compact-packed-tp", "mesh-tp")


def _gb(x: float) -> str:
    return f"{x / GB:,.3f} GB" if x < 10 * GB else f"{x / GB:,.1f} GB"


def _round_up_gb(x: float) -> str:
    """Bytes as GB rounded up to 3 significant figures: the smallest memory that fits."""
    gb = x / GB
    scale = 10 ** (math.floor(math.log10(gb)) - 2) if gb > 0 else 1
    digits = max(0, 2 - math.floor(math.log10(gb))) if gb > 0 else 0
    return f"{math.ceil(gb / scale - 1e-9) * scale:.{digits}f} GB"


def explain(scenario: Scenario) -> list[str]:
    """The lines of ``harness estimate --explain`` for ``scenario``."""
    m, c, t = scenario.model, scenario.compute, scenario.traffic
    wb = c.weight_bytes
    context = t.requests * t.tokens_per_request
    w = weight_counts(m)
    parts = component_bytes(m, weight_bytes=wb, context_tokens=context)
    memory = c.memory_gb * GB
    gateway, expert, split = parts["gateway"], parts["expert"], parts["split"]
    dense = m.transformer_layers - m.layers
    shape = (f"{m.transformer_layers} layers ({dense} dense + {m.layers} MoE" if dense
             else f"{m.layers} MoE layers ({m.layers}")
    shape += f" of {m.experts} experts, top-{m.top_k}"
    if m.shared_ffn_size:
        shape += f", shared FFN {m.shared_ffn_size}"
    shape += f"), {m.attention} attention, {m.heads} heads"
    kv = kv_elements_per_token(m) * m.bytes_per_element
    window = f", layers with a sliding window keep at most {m.sliding_window} tokens" if m.sliding_window else ""
    lines = [
        f"model {m.preset or '(custom)'}: {shape}",
        f"  {w['total'] / 1e9:,.2f} B weights, {w['total'] * wb / 1e9:,.1f} GB at "
        f"{wb} B per weight; KV cache {kv:,} B per token per layer, {context} tokens of context "
        f"(traffic.requests x tokens_per_request){window}",
        f"board {c.hardware}: {c.memory_gb:g} GB per satellite, {c.precision}",
        f"  one expert {_gb(expert)}; layer 0's gateway {_gb(gateway[0])} (attention"
        + (f", {m.first_dense_layers + m.moe_interval - 1} dense layers" if m.has_dense_layers else "")
        + (", shared experts" if m.shared_ffn_size else "") + ", router, LM head"
        + ("" if m.tie_embeddings else " and embedding") + ")"
        + (f"; other gateways up to {_gb(gateway[1:].max())}" if m.layers > 1 else ""),
    ]
    total = gateway.sum() + m.layers * m.experts * expert
    lines.append(f"  boards by memory alone: {math.ceil(total / memory):,} ({_gb(total)} / {c.memory_gb:g} GB); "
                 f"the model is {m.num_components:,} components ({m.layers} x (1 gateway + {m.experts} experts)) "
                 f"on {scenario.constellation.num_satellites:,} satellites")
    capacity = expert_capacity(m, memory_gb=c.memory_gb, weight_bytes=wb, context_tokens=context)
    half = split.max() * -(-m.heads // 2) / m.heads
    lines.append(f"{'strategy':22s} {'satellites per layer':>28s}  {'largest satellite':>18s}  headroom")
    for name in STRATEGY_NAMES:
        if name in CLUSTER_STRATEGIES and scenario.constellation.kind != "cluster":
            lines.append(f"{name:22s} for a formation mesh (constellation kind cluster) only")
            continue
        shards = min(scenario.placement.max_shards, m.heads) - 1
        if name in PACKED:
            need = max(gateway.max(), expert + split.max())
            boards = -(-m.experts // max(1, capacity))
            per_layer = f"1 + {boards}+ boards" + (f" + <= {shards} shards" if shards else "")
            largest = max(gateway.max(), min(m.experts, capacity) * expert + split.max()) if capacity else need
        elif name in TENSOR_PARALLEL_STRATEGIES:
            need = largest = max(gateway.max(), expert + half if shards else expert)
            per_layer = f"{1 + m.experts}" + (f" + <= {shards} shards" if shards else "")
        else:
            need = largest = max(gateway.max(), expert)
            per_layer = f"{1 + m.experts}"
            if name in REPLICA_STRATEGIES:
                per_layer += f" + <= {m.experts * scenario.placement.max_replicas} copies"
        if need > memory or (name in PACKED and capacity < 1):
            lines.append(f"{name:22s} refused: needs at least {_round_up_gb(need)} per board (has {c.memory_gb:g} GB)")
            continue
        lines.append(f"{name:22s} {per_layer:>28s}  {_gb(largest):>18s}  {_gb(memory - largest)} "
                     f"({(memory - largest) / memory:.0%})")
    return lines
