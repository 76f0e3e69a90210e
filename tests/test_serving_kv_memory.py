"""KV-cache memory at run time: layer 0's gateway admits a request only while the KV caches of the
requests it runs fit beside the weights (requests.csv's queued_ns), through the real ns-3; the
resource check's KV cache (prompt tokens, grouped-query attention); the refusal of a cache that
cannot hold one request."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.errors import ScenarioError
from harness.placement.resources import kv_budget_tokens, memory_use_bytes
from harness.placement.types import Placement
from harness.scenario import scenario_from_dict
from harness.scenario.model import ModelSpec

REPO = Path(__file__).resolve().parents[1]
H, E, VOCAB = 4096, 4, 32000  # tiny.yaml's model
GATEWAY0_BYTES = (4 * H * H + H * E + H * VOCAB) * 2  # attention, router and LM head, bf16
KV_TOKEN = 2 * H * 2  # bytes of one token's cache in one layer (no GQA)


def _tiny(tmp_path: Path, compute: str, serving: str) -> Path:
    text = (REPO / "topologies" / "tiny.yaml").read_text().replace("name: tiny", "name: kvmem")
    text = text.replace("compute:\n  satellite_flops: 7.28e9\n", "compute:\n  satellite_flops: 7.28e9\n" + compute)
    path = tmp_path / "kvmem.yaml"
    path.write_text(text + "serving:\n" + serving)
    return path


def test_gateway_admits_while_the_kv_cache_fits(tmp_path):
    # Two requests of 12 prompt + 8 output = 20 tokens each, 50 ms apart, one replica. Layer 0's
    # gateway has room for 30 tokens beside its weights: the second request waits for the first to
    # end (its last LM head frees 20 tokens), then starts at that instant.
    from harness.cli import main
    from harness.formats.requests import read_requests_csv

    memory_gb = (GATEWAY0_BYTES + 30 * KV_TOKEN + 100) / 1e9
    serving = "  prefill: true\n  prompt: {kind: fixed, tokens: 12}\n"
    scenario = _tiny(tmp_path, f"  memory_gb: {memory_gb!r}\n", serving)
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out)]) == 0
    req = read_requests_csv(out / "requests.csv")["space-xnet"]
    assert (req["status"] == "completed").all()
    tokens = np.loadtxt(out / "tokens.csv", delimiter=",", skiprows=1, usecols=range(1, 10), dtype=np.int64)
    start0 = tokens[(tokens[:, 0] == 1) & (tokens[:, 1] == 0), 2][0]
    assert req["queued_ns"][0] == 0
    assert start0 == req["end_ns"][0]  # admitted when request 0's cache was freed
    assert req["queued_ns"][1] == req["end_ns"][0] - req["arrival_ns"][1] > 0
    # With room for both (40 tokens) neither waits, and the run is that of unlimited memory.
    roomy = _tiny(tmp_path, f"  memory_gb: {(GATEWAY0_BYTES + 40 * KV_TOKEN + 100) / 1e9!r}\n", serving)
    assert main(["run", str(roomy), "--out", str(tmp_path / "roomy")]) == 0
    free = read_requests_csv(tmp_path / "roomy" / "requests.csv")["space-xnet"]
    assert (free["queued_ns"] == 0).all() and free["end_ns"][1] < req["end_ns"][1]


def test_a_kv_cache_that_cannot_hold_one_request_is_one_error_line(tmp_path, capsys):
    from harness.cli import main

    memory_gb = (GATEWAY0_BYTES + 19 * KV_TOKEN) / 1e9  # 19 tokens: one request needs 20
    scenario = _tiny(tmp_path, f"  memory_gb: {memory_gb!r}\n", "  prefill: true\n  prompt: {kind: fixed, tokens: 12}\n")
    assert main(["run", str(scenario), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "KV cache of one request (20 tokens" in err[0]
    assert not (tmp_path / "out").exists()


def test_resource_check_counts_gqa_and_the_budget():
    # Layer 0's gateway on satellite 0 with the LM head; a GQA model (8 of 32 heads) keeps a quarter
    # of the cache: 2 x 8 x 128 x 2 = 4096 B per token and layer.
    model = ModelSpec(layers=2, experts=2, top_k=1, hidden_size=H, ffn_size=1376, vocab_size=VOCAB, attention="gqa",
                      kv_heads=8)
    placement = Placement("hand", np.array([0, 1]), np.array([[2, 3], [4, 5]]), np.full(6, -1, dtype=np.int32))
    use, _ = memory_use_bytes(placement, model, weight_bytes=2, context_tokens=100, num_satellites=6)
    # GQA's projections: Q and O of H x H, K and V of H x (8 x 128).
    attention = 2 * H * H + 2 * H * 8 * 128
    gateway0 = (attention + H * 2 + H * VOCAB) * 2
    assert use[0] == gateway0 + 100 * 4096
    assert use[1] == (attention + H * 2) * 2 + 100 * 4096
    # The budget: the least room over the gateways (layer 0's, beside the LM head), in tokens.
    budget = kv_budget_tokens(placement, model, memory_gb=1.0, weight_bytes=2, num_satellites=6)
    assert budget == (1_000_000_000 - gateway0) // 4096


def test_one_request_check_counts_the_prompt_at_load_time():
    base = {"name": "s", "constellation": {"planes": 6, "sats_per_plane": 8},
            "model": {"layers": 2, "experts": 2, "top_k": 1, "hidden_size": H, "vocab_size": VOCAB},
            "traffic": {"tokens_per_request": 8}, "links": {"queue_packets": 100000}}
    weights = (4 * H * H + H * 2 + H * VOCAB) * 2
    fits = {**base, "compute": {"memory_gb": (weights + 520 * KV_TOKEN) / 1e9},
            "serving": {"prefill": True, "prompt": {"kind": "uniform", "low": 8, "high": 512}}}
    scenario_from_dict(fits)  # 512 + 8 tokens: exactly room
    with pytest.raises(ScenarioError, match="KV cache of one request"):
        scenario_from_dict({**fits, "compute": {"memory_gb": (weights + 519 * KV_TOKEN) / 1e9}})
    # Grouped-query attention: 8 of 32 heads need a quarter of that.
    scenario_from_dict({**fits, "compute": {"memory_gb": (weights + 130 * KV_TOKEN) / 1e9},
                        "model": {**base["model"], "attention": "gqa", "kv_heads": 8}})
