"""Issue 27: the frontier presets, checked against hand computations from each model's config.json.

Every expected figure below is written out from the config's numbers (the preset's comment in
harness/scenario/model.py names the file), independently of the formulas in the code: matrix by
matrix, then summed. Tolerance: 1 % (the must-show), because norms and biases are left out of the
model (the largest such share is gpt-oss-120b's biases, 0.03 %); the published totals are checked
to the precision they are published with.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.placement.resources import component_bytes
from harness.scenario import MODEL_PRESETS, ModelSpec
from harness.scenario.model import (attention_weights, gateway_flops, gateway_flops_per_layer, kv_cache_bytes,
                                    kv_elements_per_token, weight_counts)

#: the must-show tolerance on a hand computation
REL = 0.01


def preset(name: str) -> ModelSpec:
    return ModelSpec(preset=name, **MODEL_PRESETS[name])


def mla_attention(h, heads, q_lora, kv_lora, nope, rope, v):
    q = h * q_lora + q_lora * heads * (nope + rope) if q_lora else h * heads * (nope + rope)
    return q + h * (kv_lora + rope) + kv_lora * heads * (nope + v) + heads * v * h


def gqa_attention(h, heads, kv_heads, head_dim):
    return h * heads * head_dim + 2 * h * kv_heads * head_dim + heads * head_dim * h


def swiglu(h, n):
    return 3 * h * n


# Each row: per-layer parts written from the config, then (dense layers, MoE layers, embedding matrices),
# and the published total (params), with the precision it is published to.
HAND = {
    # DeepSeek-V3 config_671B.json: dim 7168, inter 18432, moe_inter 2048, 61 layers (3 dense), 128 heads,
    # 256 routed + 1 shared, q_lora 1536, kv_lora 512, nope 128, rope 64, v 128, vocab 129280.
    "deepseek-v3": dict(attn=mla_attention(7168, 128, 1536, 512, 128, 64, 128), dense=swiglu(7168, 18432),
                        expert=swiglu(7168, 2048), experts=256, shared=1 * swiglu(7168, 2048), router=7168 * 256,
                        n_dense=3, n_moe=58, embed=2 * 129280 * 7168, published=671e9, published_rel=0.005),
    # Kimi K2: DeepSeek-V3's architecture with 64 heads, 384 experts, 1 dense layer, vocab 163840.
    "kimi-k2": dict(attn=mla_attention(7168, 64, 1536, 512, 128, 64, 128), dense=swiglu(7168, 18432),
                    expert=swiglu(7168, 2048), experts=384, shared=swiglu(7168, 2048), router=7168 * 384,
                    n_dense=1, n_moe=60, embed=2 * 163840 * 7168, published=1.0e12, published_rel=0.05),
    # Qwen3-235B-A22B: 94 MoE layers, hidden 4096, 64 q / 4 kv heads of 128, 128 experts of 1536.
    "qwen3-235b-a22b": dict(attn=gqa_attention(4096, 64, 4, 128), dense=0, expert=swiglu(4096, 1536), experts=128,
                            shared=0, router=4096 * 128, n_dense=0, n_moe=94, embed=2 * 151936 * 4096,
                            published=235e9, published_rel=0.005),
    # gpt-oss-120b: 36 MoE layers, hidden 2880, 64 q / 8 kv heads of 64, 128 experts of 2880; the model
    # card's 116.83 B include the biases the model leaves out.
    "gpt-oss-120b": dict(attn=gqa_attention(2880, 64, 8, 64), dense=0, expert=swiglu(2880, 2880), experts=128,
                         shared=0, router=2880 * 128, n_dense=0, n_moe=36, embed=2 * 201088 * 2880,
                         published=116.83e9, published_rel=0.005),
    # Llama 4 Maverick: 48 layers, MoE every 2nd (24 dense of 16384, 24 MoE of 128 x 8192 + a shared 8192),
    # hidden 5120, 40 q / 8 kv heads of 128.
    "llama-4-maverick": dict(attn=gqa_attention(5120, 40, 8, 128), dense=swiglu(5120, 16384),
                             expert=swiglu(5120, 8192), experts=128, shared=swiglu(5120, 8192), router=5120 * 128,
                             n_dense=24, n_moe=24, embed=2 * 202048 * 5120, published=400e9, published_rel=0.01),
    # DeepSeek-V2-Lite: 27 layers (1 dense of 10944), 16 heads, no q_lora, 64 routed of 1408 + 2 shared.
    "deepseek-v2-lite": dict(attn=mla_attention(2048, 16, 0, 512, 128, 64, 128), dense=swiglu(2048, 10944),
                             expert=swiglu(2048, 1408), experts=64, shared=2 * swiglu(2048, 1408), router=2048 * 64,
                             n_dense=1, n_moe=26, embed=2 * 102400 * 2048, published=15.7e9, published_rel=0.005),
}


@pytest.mark.parametrize("name", list(HAND))
def test_weights_per_layer_and_total_match_the_config_by_hand(name):
    """Must-show: per-layer and total weight bytes within 1 % of the hand computation, and the total
    near the published parameter count."""
    m, hand = preset(name), HAND[name]
    w = weight_counts(m)
    moe_layer = hand["attn"] + hand["router"] + hand["shared"] + hand["experts"] * hand["expert"]
    dense_layer = hand["attn"] + hand["dense"]
    total = hand["n_dense"] * dense_layer + hand["n_moe"] * moe_layer + hand["embed"]
    assert m.transformer_layers == hand["n_dense"] + hand["n_moe"]
    assert w["attention"] == pytest.approx(hand["attn"], rel=REL)
    assert w["expert"] == pytest.approx(hand["expert"], rel=REL)
    assert w["total"] == pytest.approx(total, rel=REL)
    assert w["total"] == pytest.approx(hand["published"], rel=hand["published_rel"])
    # bytes, as the memory model holds them (bf16, no context): every gateway and one expert
    parts = component_bytes(m, weight_bytes=2, context_tokens=0)
    assert parts["expert"] == pytest.approx(2 * hand["expert"], rel=REL)
    gateways = parts["gateway"]
    per_layer_dense = [hand["n_dense"] if l == 0 and m.moe_interval == 1 else (m.moe_interval - 1)
                       for l in range(m.layers)]
    if m.moe_interval > 1:
        assert sum(per_layer_dense) == hand["n_dense"]
    for l in range(m.layers):
        want = 2 * (hand["attn"] + hand["router"] + hand["shared"] + per_layer_dense[l] * dense_layer
                    + (hand["embed"] if l == 0 else 0))
        assert gateways[l] == pytest.approx(want, rel=REL), l
    # the model's bytes over every component add up to the total
    everything = gateways.sum() + m.layers * m.experts * parts["expert"]
    assert everything == pytest.approx(2 * total, rel=REL)


def test_deepseek_v3_layer_experts_and_board_count_match_the_design_arithmetic():
    """One expert 3 x 7168 x 2048 x 2 B = 88.1 MB; a layer's 256 routed experts 22.5 GB; the model
    1.34 TB in bf16: >= 168 boards of 8 GB (10^9 B) before KV cache, 42 of 32 GB."""
    parts = component_bytes(preset("deepseek-v3"), weight_bytes=2, context_tokens=0)
    assert parts["expert"] == 88_080_384
    assert 256 * parts["expert"] / 1e9 == pytest.approx(22.55, abs=0.01)
    total = 2 * weight_counts(preset("deepseek-v3"))["total"]
    assert total / 1e12 == pytest.approx(1.342, abs=0.001)
    assert math.ceil(total / 8e9) == 168 and math.ceil(total / 32e9) == 42


@pytest.mark.parametrize("name,per_token", [("deepseek-v3", (512 + 64) * 2), ("kimi-k2", (512 + 64) * 2),
                                            ("deepseek-v2-lite", (512 + 64) * 2),
                                            ("qwen3-235b-a22b", 2 * 4 * 128 * 2), ("gpt-oss-120b", 2 * 8 * 64 * 2),
                                            ("llama-4-maverick", 2 * 8 * 128 * 2),
                                            ("llama-moe-3.5b-2of8", 2 * 32 * 128 * 2)])
def test_kv_cache_per_token_per_layer_mla_against_gqa(name, per_token):
    """Must-show: MLA caches (kv_lora 512 + qk_rope 64) x bytes per token per layer; GQA 2 x kv_heads x
    head_dim x bytes (MHA: kv_heads = heads)."""
    m = preset(name)
    assert kv_elements_per_token(m) * m.bytes_per_element == per_token
    full = next(i for i in range(m.transformer_layers) if kv_cache_bytes(m, i, 1000) == 1000 * per_token)
    assert kv_cache_bytes(m, full, 1) == per_token


def test_sliding_window_layers_bound_the_kv_cache():
    """gpt-oss-120b: even layers slide over 128 tokens, odd ones attend to everything; Maverick's
    chunked layers are bounded by 8192 and every 4th layer is global."""
    m = preset("gpt-oss-120b")
    per = 2 * 8 * 64 * 2
    assert [kv_cache_bytes(m, i, 10_000) for i in range(4)] == [128 * per, 10_000 * per, 128 * per, 10_000 * per]
    assert kv_cache_bytes(m, 0, 100) == 100 * per  # under the window, the context
    mav = preset("llama-4-maverick")
    per = 2 * 8 * 128 * 2
    assert [kv_cache_bytes(mav, i, 100_000) / per for i in range(8)] == [8192, 8192, 8192, 100_000] * 2
    # the memory model: a gpt-oss gateway holds one layer; layers alternate sliding / full
    parts = component_bytes(m, weight_bytes=2, context_tokens=10_000)
    assert parts["split"][1] - parts["split"][0] == pytest.approx((10_000 - 128) * 2 * 8 * 64 * 2)


def test_attention_flops_for_mha_gqa_and_mla():
    """Must-show: attention FLOPs are 2 per projection weight: MHA 2 x 4 h^2 (LLaMA-MoE: 134.2 M),
    GQA with K and V of kv_heads x head_dim, MLA with its up-projections (q_b: q_lora x heads x 192,
    kv_b: kv_lora x heads x (128 + 128)) counted."""
    llama = preset("llama-moe-3.5b-2of8")
    assert gateway_flops(llama) == 2 * 4 * 4096**2 + 2 * 4096 * 8  # unchanged: 134.3 MFLOP
    qwen = preset("qwen3-235b-a22b")
    gqa = 2 * (4096 * 64 * 128 * 2 + 2 * 4096 * 4 * 128)
    assert gateway_flops(qwen) == gqa + 2 * 4096 * 128
    v3 = preset("deepseek-v3")
    up = 1536 * 128 * 192 + 512 * 128 * 256
    down = 7168 * 1536 + 7168 * 576
    o = 128 * 128 * 7168
    assert attention_weights(v3) == down + up + o
    assert gateway_flops(v3) == 2 * (down + up + o) + 2 * 7168 * 256 + 2 * 3 * 7168 * 2048
    # the up-projections are 29 % of DeepSeek-V3's attention: leaving them out would be wrong by that
    assert up / (down + up + o) == pytest.approx(0.2914, abs=1e-3)


def test_dense_layers_run_on_the_next_moe_gateway():
    """DeepSeek-V3's 3 dense layers add their attention and dense FFN to MoE layer 0's gateway only;
    Maverick's dense layer before each MoE layer to every gateway; the plain shape is unchanged."""
    v3 = preset("deepseek-v3")
    per = gateway_flops_per_layer(v3)
    dense = 2 * (attention_weights(v3) + 3 * 7168 * 18432)
    assert per[0] == pytest.approx(gateway_flops(v3) + 3 * dense, rel=1e-12)
    assert set(per[1:]) == {gateway_flops(v3)}
    mav = preset("llama-4-maverick")
    assert set(gateway_flops_per_layer(mav)) == {gateway_flops(mav) + 2 * (attention_weights(mav) + 3 * 5120 * 16384)}
    llama = preset("llama-moe-3.5b-2of8")
    assert gateway_flops_per_layer(llama) == [gateway_flops(llama)] * 32
    from harness.workload.compute import compute_times_ns

    g, e, lm = compute_times_ns(v3, 1e12)
    assert g[0] == round(per[0] / 1e12 * 1e9) and (g[1:] == round(per[1] / 1e12 * 1e9)).all()
    assert e.shape == (58, 256)


# ---- A model of the full shape through ns-3 and the analytic model ---------------------------------

AGREEMENT = 1e-3  # relative, per token: ns-3 against the analytic model (queueing is all that differs)


def _tiny(tmp_path, model_extra: str):
    from pathlib import Path

    from harness.scenario import load_scenario

    repo = Path(__file__).resolve().parents[1]
    text = (repo / "topologies" / "tiny.yaml").read_text()
    shaped = text.replace("  vocab_size: 32000\n", "  vocab_size: 32000\n" + model_extra)
    # the two requests one after the other: the analytic model has no queueing to compare
    shaped = shaped.replace("request_spacing_s: 0.05", "request_spacing_s: 5.0")
    assert shaped != text
    path = tmp_path / "shaped.yaml"
    path.write_text(shaped)
    return load_scenario(path)


def test_dense_layers_gqa_and_a_shared_expert_run_through_ns3_as_the_analytic_model_says(tmp_path):
    """tiny.yaml's 4 MoE layers as 10 layers (2 dense first, then a dense one before each MoE layer),
    GQA 32 / 8 and a shared expert: every token's critical-path compute is the sum of its per-layer
    gateways (the dense ones included), one expert per layer and the LM head; ns-3 agrees with the
    analytic model per token; the plain shape's gateways are shorter by exactly the dense work."""
    from harness import pipeline
    from harness.workload.compute import compute_times_ns

    extra = ("  first_dense_layers: 2\n  moe_interval: 2\n  dense_ffn_size: 2752\n  shared_ffn_size: 1376\n"
             "  attention: gqa\n  kv_heads: 8\n  head_dim: 128\n")
    sc = _tiny(tmp_path, extra)
    plain = _tiny(tmp_path, "  shared_ffn_size: 1376\n")
    assert sc.model.transformer_layers == 10
    g, e, lm = compute_times_ns(sc.model, sc.compute.satellite_flops)
    g0, _, _ = compute_times_ns(plain.model, plain.compute.satellite_flops)
    # by hand: GQA attention 2 x (2 x 4096 x 4096 + 2 x 4096 x 8 x 128) FLOP; a dense layer adds that
    # and 2 x 3 x 4096 x 2752; gateway 0 runs 3 dense layers, the others 1
    attn = 2 * (2 * 4096 * 4096 + 2 * 4096 * 8 * 128)
    dense = attn + 2 * 3 * 4096 * 2752
    own = attn + 2 * 4096 * 4 + 2 * 3 * 4096 * 1376
    want = [own + 3 * dense, own + dense, own + dense, own + dense]
    assert g.tolist() == [round(f / 7.28e9 * 1e9) for f in want]
    assert (g > g0).all()
    (trace,) = pipeline.run_scenario(sc).traces
    assert (trace.token_end_ns > trace.token_start_ns).all()
    np.testing.assert_array_equal(trace.compute_ns, g.sum() + 4 * e[0, 0] + lm)
    ns3 = trace.latency_ns
    assert np.max(np.abs(ns3 - trace.analytic_ns) / ns3) <= AGREEMENT


def test_frontier_keys_are_refused_in_one_line_when_inconsistent(tmp_path):
    from harness.errors import ScenarioError

    for extra, match in [("  attention: gqa\n", "'model.kv_heads' is not set"),
                         ("  attention: mla\n", "'model.kv_lora_rank' is 0"),
                         ("  first_dense_layers: 1\n", "'model.dense_ffn_size' is 0"),
                         ("  kv_lora_rank: 512\n", "applies to 'mla' attention only"),
                         ("  attention: gqa\n  kv_heads: 5\n", "does not divide"),
                         ("  sliding_window_pattern: 2\n", "'model.sliding_window' is 0")]:
        with pytest.raises(ScenarioError, match=match):
            _tiny(tmp_path, extra)


# ---- estimate --explain and the one-line refusals --------------------------------------------------

def _v3_scenario(**compute):
    from pathlib import Path

    from harness.formats.files import read_yaml_file
    from harness.errors import ScenarioError
    from harness.scenario import scenario_from_dict

    path = Path(__file__).resolve().parents[1] / "topologies" / "walker_16000_deepseek_v3.yaml"
    raw = read_yaml_file(path, "scenario", ScenarioError)
    raw["compute"] = compute
    return scenario_from_dict(raw, base_dir=path.parent)


def test_explain_sizes_deepseek_v3_and_names_the_smallest_board_that_fits():
    """Layer 0's gateway by hand (bf16): 4 MLA attentions + 3 dense FFNs + the shared expert + the
    router + LM head and embedding, + 4 layers' KV cache for 32 tokens; the one-per-satellite
    strategies need exactly that per board: refused one line below it, placed at it."""
    from harness.run.explain import explain

    attn = 7168 * 1536 + 1536 * 128 * 192 + 7168 * 576 + 512 * 128 * 256 + 128 * 128 * 7168
    gateway0 = 2 * (4 * attn + 3 * 3 * 7168 * 18432 + 3 * 7168 * 2048 + 7168 * 256 + 2 * 129280 * 7168) \
        + 4 * 576 * 2 * 32
    lines = explain(_v3_scenario(hardware="jetson-orin-nano"))
    text = "\n".join(lines)
    assert f"layer 0's gateway {gateway0 / 1e9:.3f} GB" in text
    assert "boards by memory alone: 168 " in text and "14,906 components" in text
    row = next(line for line in lines if line.startswith("space-xnet "))
    assert f"{gateway0 / 1e9:.3f} GB" in row and f"{(8e9 - gateway0) / 1e9:.3f} GB" in row
    need = math.ceil(gateway0 / 1e7) / 100  # GB, rounded up to 3 significant figures: 7.68
    small = "\n".join(explain(_v3_scenario(hardware="jetson-orin-nano", memory_gb=need - 0.01)))
    assert f"space-xnet             refused: needs at least {need:.2f} GB per board" in small
    assert "refused" not in next(line for line in explain(_v3_scenario(hardware="jetson-orin-nano", memory_gb=need))
                                 if line.startswith("space-xnet "))
    # packed: an 8 GB board holds 45 experts beside layer 0's attention part (3.96 GB): >= 6 boards a layer
    assert "1 + 6+ boards" in next(line for line in lines if line.startswith("space-xnet-packed-tp"))


def test_a_placement_that_does_not_fit_names_the_smallest_memory_per_board_in_one_line(tmp_path):
    """The placement check (every strategy) refuses in one line naming the memory that would do;
    with that memory the same placement passes."""
    from harness.errors import PlacementError
    from harness.placement import place
    from harness.placement.resources import check_memory
    from harness.run.prepare import prepare
    from harness.seeding import rng_for

    sc = _tiny(tmp_path, "  first_dense_layers: 1\n  dense_ffn_size: 11008\n")
    prep = prepare(sc)
    for name in ("space-xnet", "space-xnet-packed-tp"):
        placement = place(name, prep.inputs, rng_for(sc.seed, f"placement:{name}"))
        kwargs = dict(weight_bytes=2, context_tokens=16, num_satellites=prep.topology.num_nodes)
        use = check_memory(placement, sc.model, memory_gb=8.0, **kwargs)
        need = math.ceil(use.max() / 1e7) / 100 if use.max() >= 1e9 else math.ceil(use.max() / 1e6) / 1000
        with pytest.raises(PlacementError, match=rf"needs at least {need:g} GB per board") as err:
            check_memory(placement, sc.model, memory_gb=need * 0.99, **kwargs)
        assert "\n" not in str(err.value)
        check_memory(placement, sc.model, memory_gb=need, **kwargs)


# ---- The routing-trace converter ------------------------------------------------------------------

EXAMPLE = "topologies/traces/routed_experts_tiny.npy"


def test_the_committed_routing_trace_round_trips_to_a_run(tmp_path, capsys):
    """convert-trace cuts the example's 16 tokens into 2 requests of 8; tiny.yaml run on it through
    ns-3 activates exactly those experts, token by token and layer by layer."""
    from pathlib import Path

    from harness import pipeline
    from harness.cli import main
    from harness.scenario import load_scenario

    repo = Path(__file__).resolve().parents[1]
    routed = np.load(repo / EXAMPLE)
    out = tmp_path / "trace.npy"
    assert main(["convert-trace", str(repo / EXAMPLE), "--experts", "4", "--tokens-per-request", "8",
                 "--out", str(out)]) == 0
    assert "2 requests x 8 tokens x 4 layers x top-2" in capsys.readouterr().out
    text = (repo / "topologies" / "tiny.yaml").read_text()
    scenario = tmp_path / "tiny_routed.yaml"
    scenario.write_text(text.replace("kind: synthetic", "kind: file\n  path: trace.npy")
                        .replace("  skew: 1.0\n  stickiness: 0.2\n", ""))
    sc = load_scenario(scenario)
    (trace,) = pipeline.run_scenario(sc).traces
    np.testing.assert_array_equal(trace.activations, routed.reshape(2, 8, 4, 2))
    assert (trace.token_end_ns > trace.token_start_ns).all()


def test_a_trace_of_every_layer_keeps_the_moe_rows_of_the_preset(tmp_path, capsys):
    """DeepSeek-V3's 61 layers: rows 0-2 (dense, no routing: -1 would be refused, so any ids) are
    dropped, rows 3-60 kept."""
    from harness.cli import main

    rng = np.random.default_rng(0)
    full = np.stack([np.stack([rng.choice(256, 8, replace=False) for _ in range(61)]) for _ in range(4)])
    src = tmp_path / "v3.npy"
    np.save(src, full.astype(np.int32))
    out = tmp_path / "out.npy"
    assert main(["convert-trace", str(src), "--preset", "deepseek-v3", "--tokens-per-request", "2",
                 "--out", str(out)]) == 0
    np.testing.assert_array_equal(np.load(out), full[:, 3:].reshape(2, 2, 58, 8))


@pytest.mark.parametrize("make,match", [
    (lambda a: np.where(a == 3, 4, a), r"expert id 4 at token \d+, layer \d+, slot \d+ is outside \[0, 4\)"),
    (lambda a: a[None], r"rank 4 .*expected rank 3"),
    (lambda a: a[:, :, 0], r"rank 2 .*expected rank 3"),
    (lambda a: np.where(np.arange(a.size).reshape(a.shape) == 5, np.nan, a.astype(float)),
     r"value nan at token 0, layer 2, slot 1 is not an expert id"),
    (lambda a: np.concatenate([a[:, :, :1], a[:, :, :1]], axis=2), r"routed to one expert twice"),
])
def test_a_malformed_routing_trace_is_one_error_line(tmp_path, capsys, make, match):
    import re
    from pathlib import Path

    from harness.cli import main

    routed = np.load(Path(__file__).resolve().parents[1] / EXAMPLE)
    bad = tmp_path / "bad.npy"
    np.save(bad, make(routed))
    assert main(["convert-trace", str(bad), "--experts", "4", "--tokens-per-request", "8",
                 "--out", str(tmp_path / "out.npy")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and re.search(match, err), err
    assert not (tmp_path / "out.npy").exists()


def test_packed_strategies_spread_a_layer_over_as_many_boards_as_memory_needs(tmp_path):
    """With room for 2 experts beside the largest attention part, tiny's 4 experts a layer go on at
    least 2 boards (the default boards hold them all on 1-4, chosen by latency alone)."""
    import dataclasses

    from harness.placement import place
    from harness.placement.resources import component_bytes
    from harness.run.prepare import prepare
    from harness.seeding import rng_for

    sc = _tiny(tmp_path, "")
    prep = prepare(sc)
    parts = component_bytes(sc.model, weight_bytes=2, context_tokens=16)
    for capacity in (1, 2, 3):
        inputs = dataclasses.replace(prep.inputs, expert_capacity=capacity)
        for name in ("space-xnet-packed-tp", "compact-packed-tp"):
            placement = place(name, inputs, rng_for(sc.seed, f"placement:{name}"))
            for row in placement.experts:
                _, per_board = np.unique(row, return_counts=True)
                assert per_board.max() <= capacity and len(per_board) >= -(-4 // capacity), (name, capacity, row)
    assert parts["expert"] == 3 * 4096 * 1376 * 2


def test_the_shape_keys_at_their_defaults_leave_tiny_traces_byte_identical(tmp_path):
    """tiny.yaml with every issue-27 key spelled out at its default gives the tokens.csv saved before
    they existed (tests/data/serving_regression/tiny_tokens.csv); regress.py checks the five shipped
    baselines the same way (all identical after this issue's changes)."""
    from pathlib import Path

    from harness.cli import main

    repo = Path(__file__).resolve().parents[1]
    expected = (repo / "tests" / "data" / "serving_regression" / "tiny_tokens.csv").read_bytes()
    text = (repo / "topologies" / "tiny.yaml").read_text()
    spelled = text.replace("  vocab_size: 32000\n", "  vocab_size: 32000\n  first_dense_layers: 0\n  moe_interval: 1\n"
                           "  dense_ffn_size: 0\n  attention: mha\n  kv_heads: null\n  head_dim: null\n"
                           "  sliding_window: 0\n  sliding_window_pattern: 0\n  tie_embeddings: true\n")
    assert spelled != text
    scenario = tmp_path / "defaults.yaml"
    scenario.write_text(spelled)
    assert main(["run", str(scenario), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "tokens.csv").read_bytes() == expected
