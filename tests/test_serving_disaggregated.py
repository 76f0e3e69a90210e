"""Disaggregated prefill and decode (serving.prefill_replicas / decode_replicas, DistServe-style)
through the real ns-3: the KV transfer's timing to the nanosecond on a hand-built network, its
bytes against the KV layout's hand formula (GQA and MLA), the schema's refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.errors import ScenarioError
from harness.scenario import LinkSpec, scenario_from_dict
from harness.scenario.model import MODEL_PRESETS, ModelSpec, kv_bytes_per_token
from harness.workload.compute import ComputeTimes
from harness.workload.traffic.prefill import prefill_counts
from networks import packet_run, routes, topology

REPO = Path(__file__).resolve().parents[1]
RATE_BPS = 1e9
MESSAGE_BYTES = 1000
G, E, LM = 50_000, 7_000, 11_000


def tx_ns(message_bytes: int) -> int:
    return sum(size * 8 for size in LinkSpec(rate_bps=RATE_BPS).packet_sizes_bytes(message_bytes))


def test_kv_bytes_follow_the_published_layouts():
    # Hand formulas from each model's config.json: keys and values of kv_heads x head_dim per token
    # and layer, or MLA's compressed latent (kv_lora_rank) plus its RoPE key (qk_rope_head_dim).
    def preset(name):
        return ModelSpec(**{k: v for k, v in MODEL_PRESETS[name].items() if k != "lm_head_flops"})

    assert kv_bytes_per_token(preset("llama-moe-3.5b-2of8")) == 2 * 32 * 128 * 2 == 16384  # no GQA: 2 x hidden x 2
    assert kv_bytes_per_token(preset("mixtral-8x7b")) == 2 * 8 * 128 * 2 == 4096          # GQA, 8 KV heads
    assert kv_bytes_per_token(preset("qwen3-235b-a22b")) == 2 * 4 * 128 * 2 == 2048       # GQA, head_dim 128
    assert kv_bytes_per_token(preset("deepseek-v2-lite")) == (512 + 64) * 2 == 1152       # MLA
    assert kv_bytes_per_token(ModelSpec()) == 2 * ModelSpec().hidden_size * 2  # the default, as before


def test_kv_transfer_then_decode_to_the_nanosecond():
    # Prefill replica: gateway 0, expert 1; decode replica: gateway 2, expert 3; 0-2 one hop. A
    # 4-token prompt: the prefill gateway sends its layer's KV cache (4 x 600 B) to gateway 2 when
    # the prompt's attention ends (4 G), and the first token (4 B) after its LM head; the decode
    # replica starts token 1 when both are whole, and decodes on its own expert.
    edges = [(0, 1), (0, 2), (2, 3)]
    d01, d02, d23 = 1_000_000, 3_000_000, 500_000
    topo = topology(4, edges, [[d01, d02, d23]])
    hops = {(0, 1): 1, (1, 0): 0, (0, 2): 2, (2, 0): 0, (2, 3): 3, (3, 2): 2}
    rts = routes(topo, [0, 1, 2, 3], [hops])
    prompts = np.array([4], dtype=np.int32)
    tokens = 3
    activations = np.zeros((1, tokens, 1, 1), dtype=np.int32)
    counts = prefill_counts(np.zeros((1, 4, 1, 1), dtype=np.int32), prompts, num_experts=1)
    kv_per_token = 600
    result = packet_run(topology=topo, routes=rts, links=LinkSpec(rate_bps=RATE_BPS),
                        gateways=np.array([0]), experts=np.array([[1]]), activations=activations,
                        compute=ComputeTimes(np.array([G]), np.array([[E]]), LM),
                        request_starts_ns=np.zeros(1, dtype=np.int64), message_bytes=MESSAGE_BYTES, seed=1,
                        stop_ns=10**10, prompt_tokens=prompts, prefill_counts=counts,
                        replica_gateways=np.array([[0], [2]]), replica_experts=np.array([[[1]], [[3]]]),
                        replica_of=np.array([0], dtype=np.int32), decode_of=np.array([1], dtype=np.int32),
                        kv_bytes_per_token=kv_per_token, output_tokens=np.array([tokens], dtype=np.int32))
    first = 4 * G + 2 * (tx_ns(4 * MESSAGE_BYTES) + d01) + 4 * E + LM
    kv_whole = 4 * G + tx_ns(4 * kv_per_token) + d02
    token_whole = first + tx_ns(4) + d02
    assert kv_whole < token_whole  # the cache is there first: decode waits for the first token
    decode = G + 2 * (tx_ns(MESSAGE_BYTES) + d23) + E + LM
    assert result.token_end_ns[0].tolist() == [first, token_whole + decode, token_whole + 2 * decode]
    assert result.kv_arrival_ns[0].tolist() == [kv_whole, token_whole]
    assert result.kv_bytes[0].tolist() == [4 * kv_per_token, 4]
    # Packets: prefill out and back (4000 B), KV (2400 B) and first token (4 B), 2 decode passes.
    n = lambda b: len(LinkSpec().packet_sizes_bytes(b))  # noqa: E731
    assert result.packets_sent == 2 * n(4000) + n(2400) + n(4) + 2 * 2 * n(MESSAGE_BYTES)
    # The decode replica did the decode work, the prefill replica the prompt's.
    assert result.busy_ns.tolist() == [4 * G + LM, 4 * E, 2 * (G + LM), 2 * E]


def _tiny(tmp_path, model_extra: str, serving: str) -> Path:
    text = (REPO / "topologies" / "tiny.yaml").read_text().replace("name: tiny", "name: disagg")
    text = text.replace("  vocab_size: 32000\n", "  vocab_size: 32000\n" + model_extra)
    path = tmp_path / "disagg.yaml"
    path.write_text(text + "serving:\n" + serving)
    return path


@pytest.mark.parametrize("model_extra, per_token", [
    ("  attention: gqa\n  kv_heads: 8\n", 2 * 8 * 128 * 2),          # GQA: 8 of 32 heads, head_dim 4096 / 32
    ("  attention: mla\n  kv_lora_rank: 512\n  qk_rope_head_dim: 64\n  qk_nope_head_dim: 128\n"
     "  v_head_dim: 128\n", (512 + 64) * 2),                             # MLA (DeepSeek-V2's widths)
])
def test_kv_transfer_packets_carry_the_prompts_kv_cache(tmp_path, model_extra, per_token):
    # tiny.yaml, 1 prefill + 2 decode replicas: kv_transfers.csv has one row per layer and request
    # whose bytes (the payload of the packets that arrived) are prompt x the layout's bytes.
    from harness.cli import main
    from harness.formats.requests import read_requests_csv

    scenario = _tiny(tmp_path, model_extra, "  prefill: true\n  prompt: {kind: uniform, low: 3, high: 12}\n"
                                            "  replicas: 3\n  prefill_replicas: 1\n  decode_replicas: 2\n")
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out)]) == 0
    req = read_requests_csv(out / "requests.csv")["space-xnet"]
    assert (req["status"] == "completed").all()
    rows = np.loadtxt(out / "kv_transfers.csv", delimiter=",", skiprows=1, usecols=range(1, 7), dtype=np.int64)
    layers = 4
    assert len(rows) == 2 * (layers + 1)
    prompt = dict(zip(req["request"].tolist(), req["prompt_tokens"].tolist()))
    for request, pre, dec, layer, size, arrival in rows.tolist():
        assert pre == 0 and dec in (1, 2)
        assert size == (4 if layer == layers else prompt[request] * per_token)
        assert arrival > 0
    assert sorted({r[2] for r in rows.tolist()}) == [1, 2]  # round robin over the decode replicas


BASE = {"name": "s", "constellation": {"planes": 6, "sats_per_plane": 8},
        "model": {"layers": 2, "experts": 2, "top_k": 1}}


@pytest.mark.parametrize("serving, words", [
    ({"prefill": True, "replicas": 2, "prefill_replicas": 2}, "'serving.decode_replicas' is 0"),
    ({"prefill": True, "replicas": 2, "decode_replicas": 1}, "'serving.prefill_replicas' is 0"),
    ({"prefill": True, "replicas": 2, "prefill_replicas": 1, "decode_replicas": 2}, "set replicas: 3"),
    ({"replicas": 2, "prefill_replicas": 1, "decode_replicas": 1}, "prefill: true"),
])
def test_bad_disaggregation_is_one_clear_error(serving, words):
    with pytest.raises(ScenarioError, match=words):
        scenario_from_dict({**BASE, "serving": serving})


def test_prefill_without_decode_replicas_on_the_command_line(tmp_path, capsys):
    from harness.cli import main

    scenario = _tiny(tmp_path, "", "  prefill: true\n  replicas: 2\n  prefill_replicas: 2\n")
    assert main(["run", str(scenario), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "decode_replicas" in err[0]
    assert not (tmp_path / "out").exists()
