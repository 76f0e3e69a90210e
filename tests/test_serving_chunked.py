"""Chunked prefill (serving.chunk_tokens, Sarathi-style) through the real ns-3: a chunk's compute and
messages to the nanosecond against a hand computation, decode steps interleaving with a long
prompt's chunks, the chunk table, the schema's refusals and the byte-identical default."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.errors import ScenarioError
from harness.scenario import LinkSpec, scenario_from_dict
from harness.workload.compute import ComputeTimes
from harness.workload.traffic.prefill import chunk_counts, prefill_counts
from networks import packet_run, routes, topology

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "serving_regression"
RATE_BPS = 1e9  # 8 ns per byte: whole-ns transmissions
MESSAGE_BYTES = 1000
DELAY_NS = 1_000_000


def tx_ns(message_bytes: int) -> int:
    """One-hop transmission of a whole message at RATE_BPS: its packets back to back."""
    return sum(size * 8 for size in LinkSpec(rate_bps=RATE_BPS).packet_sizes_bytes(message_bytes))


def packets(message_bytes: int) -> int:
    return len(LinkSpec().packet_sizes_bytes(message_bytes))


def one_layer_run(prompts, chunk, gateway_ns, expert_ns, lm_head_ns, arrival, tokens=3):
    """A 1-layer model, one expert (top-1) one hop (DELAY_NS) from the gateway."""
    topo = topology(2, [(0, 1)], [[DELAY_NS]])
    rts = routes(topo, [0, 1], [{(0, 1): 1, (1, 0): 0}])
    prompts = np.asarray(prompts, dtype=np.int32)
    requests = len(prompts)
    activations = np.zeros((requests, tokens, 1, 1), dtype=np.int32)
    trace = np.zeros((requests, max(int(prompts.max()), 1), 1, 1), dtype=np.int32)
    counts = prefill_counts(trace, prompts, num_experts=1)
    chunks = None if chunk is None else chunk_counts(trace, prompts, 1, chunk)
    return packet_run(topology=topo, routes=rts, links=LinkSpec(rate_bps=RATE_BPS),
                      gateways=np.array([0]), experts=np.array([[1]]), activations=activations,
                      compute=ComputeTimes(np.array([gateway_ns]), np.array([[expert_ns]]), lm_head_ns),
                      request_starts_ns=np.asarray(arrival, dtype=np.int64), message_bytes=MESSAGE_BYTES, seed=1,
                      stop_ns=10**11, prompt_tokens=prompts, prefill_counts=counts, chunks=chunks)


def test_chunked_prefill_ttft_and_packets_to_the_nanosecond():
    # One request, a 5-token prompt in chunks of 2: passes of 2, 2 and 1 tokens. Chunk c + 1's
    # attention starts when chunk c's ends at the gateway (G = 50 us per token), so the last chunk
    # (token 0) leaves at 5 G and, its one token at the expert and back, ends with the LM head.
    # The gaps keep the link and the expert free for each chunk (checked below).
    g, e, lm = 50_000, 7_000, 11_000
    chunked = one_layer_run([5], 2, g, e, lm, [0])
    whole = one_layer_run([5], None, g, e, lm, [0])
    ends_c, ends_w = chunked.token_end_ns[0], whole.token_end_ns[0]
    # Chunk 1's message (sent at 4 G) finds the expert done with chunk 0 (sent at 2 G), and chunk 2's
    # (5 G) finds it done with chunk 1: the hand formula holds only if these are true.
    assert 2 * g + tx_ns(2000) + DELAY_NS + 2 * e <= 4 * g + tx_ns(2000) + DELAY_NS
    assert 4 * g + tx_ns(2000) + DELAY_NS + 2 * e <= 5 * g + tx_ns(1000) + DELAY_NS
    ttft_chunked = 5 * g + 2 * (tx_ns(1000) + DELAY_NS) + e + lm
    ttft_whole = 5 * g + 2 * (tx_ns(5000) + DELAY_NS) + 5 * e + lm
    decode = g + 2 * (tx_ns(1000) + DELAY_NS) + e + lm
    assert ends_c.tolist() == [ttft_chunked, ttft_chunked + decode, ttft_chunked + 2 * decode]
    assert ends_w.tolist() == [ttft_whole, ttft_whole + decode, ttft_whole + 2 * decode]
    assert chunked.token_start_ns[0, 0] == 0  # token 0 starts with its first chunk
    # Messages follow each chunk's tokens: 2000, 2000 and 1000 B each way, then 2 decode tokens.
    assert chunked.packets_sent == 2 * (2 * packets(2000) + packets(1000)) + 2 * 2 * packets(1000)
    assert whole.packets_sent == 2 * packets(5000) + 2 * 2 * packets(1000)
    # The same compute in all: 5 G + 5 E + 3 LM at the two satellites (FLOPs only: chunking costs nothing).
    assert chunked.busy_ns.tolist() == whole.busy_ns.tolist() == [5 * g + 2 * g + 3 * lm, 5 * e + 2 * e]


def test_decode_steps_interleave_between_chunks():
    # Request 0 decodes (no prompt) from t = 0 while request 1's 40-token prompt arrives at 1 ms
    # (G = 1 ms a token). Unchunked, its 40 ms prefill job starts at 1 ms and request 0's LM head,
    # due at about 3 ms, waits behind all of it. In chunks of 4 (4 ms jobs) each of a decode pass's
    # two gateway steps (attention, LM head) waits behind at most one chunk.
    g, e, lm = 1_000_000, 7_000, 11_000
    lone = g + 2 * (tx_ns(1000) + DELAY_NS) + e + lm
    ends = {}
    for chunk in (None, 4):
        run = one_layer_run([0, 40], chunk, g, e, lm, [0, 1_000_000], tokens=6)
        assert (run.token_end_ns >= 0).all()
        ends[chunk] = run.token_end_ns[0]
    assert ends[None][0] >= 1_000_000 + 40 * g + lm
    gaps = np.diff(np.concatenate([[0], ends[4]]))
    assert (gaps >= lone).all() and gaps.max() <= lone + 2 * 4 * g
    assert gaps.max() > lone  # it did wait behind a chunk: the test is not vacuous
    assert ends[4][0] < 1_000_000 + 40 * g


def test_chunk_table_sums_to_the_prompt():
    rng = np.random.default_rng(3)
    prompts = np.array([7, 0, 16, 1], dtype=np.int32)
    trace = rng.integers(0, 8, size=(4, 16, 3, 2)).astype(np.int32)
    counts, tokens = chunk_counts(trace, prompts, 8, 5)
    assert tokens.tolist() == [[5, 2, 0, 0], [0, 0, 0, 0], [5, 5, 5, 1], [1, 0, 0, 0]]
    assert (counts.sum(axis=1) == prefill_counts(trace, prompts, 8)).all()
    assert (counts.sum(axis=3) == tokens[:, :, None] * 2).all()  # top-2: each token twice a layer
    # Chunk 1 of request 2 is its prompt's tokens 5..9, i.e. trace positions 5..9 (P = P_max).
    expected = np.bincount(trace[2, 5:10, 1].ravel(), minlength=8)
    assert counts[2, 1, 1].tolist() == expected.tolist()


BASE = {"name": "s", "constellation": {"planes": 6, "sats_per_plane": 8}}


@pytest.mark.parametrize("serving, words", [
    ({"prefill": True, "prompt": {"kind": "fixed", "tokens": 16}, "chunk_tokens": 17}, "larger than the longest prompt"),
    ({"prefill": True, "prompt": {"kind": "uniform", "low": 4, "high": 64}, "chunk_tokens": 65}, "at most 64"),
    ({"chunk_tokens": 8}, "'serving.prefill' is false"),
])
def test_bad_chunk_is_one_clear_error(serving, words):
    with pytest.raises(ScenarioError, match=words):
        scenario_from_dict({**BASE, "serving": serving})


def test_bad_chunk_on_the_command_line_is_one_error_line_exit_1(tmp_path, capsys):
    from harness.cli import main

    scenario = tmp_path / "bad.yaml"
    scenario.write_text((REPO / "topologies" / "tiny.yaml").read_text()
                        + "serving:\n  prefill: true\n  prompt: {kind: fixed, tokens: 12}\n  chunk_tokens: 13\n")
    assert main(["run", str(scenario), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "chunk_tokens" in err[0]
    assert not (tmp_path / "out").exists()


def test_chunk_tokens_0_leaves_tokens_csv_byte_identical(tmp_path):
    from harness.cli import main

    scenario = tmp_path / "zero.yaml"
    scenario.write_text((REPO / "topologies" / "tiny.yaml").read_text() + "serving:\n  chunk_tokens: 0\n")
    assert main(["run", str(scenario), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "tokens.csv").read_bytes() == (DATA / "tiny_tokens.csv").read_bytes()


def test_tiny_chunked_prefill_with_retransmission_completes(tmp_path):
    # Chunks carry token ids of their own, so acknowledgements and duplicates stay apart.
    from harness.cli import main
    from harness.formats.requests import read_requests_csv

    scenario = tmp_path / "chunked.yaml"
    scenario.write_text((REPO / "topologies" / "tiny.yaml").read_text().replace("name: tiny", "name: chunked")
                        + "faults:\n  retransmit_timeout_ms: 500\n"
                        + "serving:\n  prefill: true\n  prompt: {kind: uniform, low: 3, high: 12}\n"
                        + "  chunk_tokens: 4\n  replicas: 2\n")
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out)]) == 0
    req = read_requests_csv(out / "requests.csv")["space-xnet"]
    assert (req["status"] == "completed").all() and (req["prompt_tokens"] >= 3).all()


def test_a_chunk_waits_for_its_predecessor_at_a_later_gateway():
    # Two layers, top-1. The prompt's token 0 (chunk 0) goes to layer 0's far expert (node 1,
    # 5 ms away), token 1 (chunk 1, the last: token 0 of the request) to the near one (node 2,
    # 0.5 ms): chunk 1 reaches layer 1's gateway (node 3) first, but its attention reads chunk 0's
    # KV cache, so it runs only after chunk 0's. Layer 1's experts: node 4 (chunk 0), node 5 (chunk 1).
    far, near, d = 5_000_000, 500_000, 1_000_000
    edges = [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (3, 5), (4, 0), (5, 0)]
    topo = topology(6, edges, [[far, near, far, near, d, d, d, d]])
    hops = {(0, 1): 1, (0, 2): 2, (1, 3): 3, (2, 3): 3, (3, 4): 4, (3, 5): 5, (4, 0): 0, (5, 0): 0}
    rts = routes(topo, list(range(6)), [hops])
    g, e, lm = 50_000, 7_000, 11_000
    trace = np.array([[[[0], [0]], [[1], [1]]]], dtype=np.int32)  # [R=1, P=2, L=2, k=1]
    prompts = np.array([2], dtype=np.int32)
    result = packet_run(topology=topo, routes=rts, links=LinkSpec(rate_bps=RATE_BPS),
                        gateways=np.array([0, 3]), experts=np.array([[1, 2], [4, 5]]),
                        activations=np.zeros((1, 1, 2, 1), dtype=np.int32),
                        compute=ComputeTimes(np.array([g, g]), np.full((2, 2), e), lm),
                        request_starts_ns=np.zeros(1, dtype=np.int64), message_bytes=MESSAGE_BYTES, seed=1,
                        stop_ns=10**10, prompt_tokens=prompts, prefill_counts=prefill_counts(trace, prompts, 2),
                        chunks=chunk_counts(trace, prompts, 2, 1), output_tokens=np.array([1], dtype=np.int32))
    t = tx_ns(MESSAGE_BYTES)
    chunk0_at_gw1 = g + 2 * (t + far) + e
    chunk1_at_gw1 = 2 * g + 2 * (t + near) + e
    assert chunk1_at_gw1 < chunk0_at_gw1  # the later chunk is there first
    end = chunk0_at_gw1 + 2 * g + 2 * (t + d) + e + lm  # chunk 0's attention, then chunk 1's
    assert result.token_end_ns[0].tolist() == [end]
