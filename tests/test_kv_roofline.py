"""KV-cache reads in the roofline and batched tensor-parallel shards (issue 21).

An attention job's bytes moved are its weights plus the KV cache it reads: a decode step reads the
whole cache of its request so far, a prefill pass (or chunk) the earlier chunks' cache and its own
(harness/workload/compute.py, ``KvReads``; C++ ``MoeTrafficPlan::GetKvBytes``). Checked here against
hand formulas: the per-token layouts of the presets (GQA, MLA, sliding windows, dense layers on a
gateway), the C++ bytes of every kind of pass, a batch of B shard steps to the nanosecond, and the
analytic model against ns-3 when the cache dominates. Defaults (the paper's board, no roofline)
never read the cache: ``tests/test_hardware.py`` keeps tiny.yaml's traces byte-identical, and
regress.py the five shipped baselines.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from harness.scenario import LinkSpec, ModelSpec
from harness.scenario.model import MODEL_PRESETS
from harness.workload.compute import ComputeTimes, KvReads, kv_reads
from networks import analytic_run, packet_run, routes, topology


def preset(name: str) -> ModelSpec:
    return ModelSpec(**{k: v for k, v in MODEL_PRESETS[name].items() if k != "lm_head_flops"})


def test_kv_reads_follow_the_presets_layouts():
    # Bytes per cached token at each MoE layer's gateway, from each config.json (model.py):
    # keys and values of kv_heads x head_dim (GQA; MHA: 2 x hidden), MLA's latent + RoPE key,
    # every transformer layer the gateway runs (dense layers before it), split by sliding window.
    llama = kv_reads(preset("llama-moe-3.5b-2of8"), 1e9)
    assert (llama.full_bytes == 2 * 4096 * 2).all() and (llama.sliding_bytes == 0).all()
    assert llama.window == 0 and llama.kv_heads == 32
    mixtral = kv_reads(preset("mixtral-8x7b"), 1e9)
    assert (mixtral.full_bytes == 2 * 8 * 128 * 2).all() and mixtral.kv_heads == 8
    lite = kv_reads(preset("deepseek-v2-lite"), 1e9)  # MLA; gateway 0 also runs the first dense layer
    assert lite.full_bytes[0] == 2 * (512 + 64) * 2 and (lite.full_bytes[1:] == (512 + 64) * 2).all()
    assert lite.kv_heads == 0 and (lite.shard_fraction(np.array([3, 0])) == 1.0).all()  # the latent is shared
    oss = kv_reads(preset("gpt-oss-120b"), 1e9)  # window 128 on even layers, full on odd ones
    per = 2 * 8 * 64 * 2
    assert oss.window == 128 and (oss.sliding_bytes[0::2] == per).all() and (oss.full_bytes[0::2] == 0).all()
    assert (oss.full_bytes[1::2] == per).all() and (oss.sliding_bytes[1::2] == 0).all()
    maverick = kv_reads(preset("llama-4-maverick"), 1e9)  # 2 layers a gateway, every 4th global
    per = 2 * 8 * 128 * 2
    assert (maverick.full_bytes[0], maverick.sliding_bytes[0]) == (0, 2 * per)       # layers 0, 1
    assert (maverick.full_bytes[1], maverick.sliding_bytes[1]) == (per, per)         # layers 2, 3
    # a decode step with 1,000 tokens cached (its own the 1,001st) at gpt-oss's gateway 0 (sliding)
    # reads 128 + 1 tokens, at gateway 1 (full) 1,001
    assert oss.decode_bytes(0, 1001) == 129 * 2048 and oss.decode_bytes(1, 1001) == 1001 * 2048
    # a GQA shard of m = 3 reads ceil(8 / 3) = 3 of 8 KV heads
    assert mixtral.shard_fraction(np.array([2]))[0] == 3 / 8


def test_cxx_kv_bytes_of_every_pass_match_the_hand_formula():
    # One plan, two requests: request 0 has a 5-token prompt in chunks of 2 (2, 2, 1), request 1
    # no prompt. Layer 0: 100 B per token over full layers and 10 over sliding ones, window 3.
    # A pass of n new tokens after o cached moves 100 (o + n) + 10 (min(o, 3) + n).
    from harness.cxx.runtime import load
    from harness.simulate.packet import _c_array

    ns3 = load()
    plan = ns3.CreateObject[ns3.MoeTrafficPlan]()
    plan.Configure(2, 2, 1, 2, 4)
    prompt_counts = np.zeros((2, 2, 2))
    prompt_counts[0, :, 0] = 5  # request 0's 5 prompt tokens all go to expert 0
    counts = _c_array(prompt_counts, np.int32)
    plan.SetPrefill(counts, counts.size, _c_array([5, 0], np.int32), 2)
    chunk_tokens = np.array([[2, 2, 1], [0, 0, 0]])
    per_chunk = np.zeros((2, 3, 2, 2))
    per_chunk[0, :, :, 0] = chunk_tokens[0][:, None]  # top-1: each chunk's tokens all to expert 0
    chunk_counts = _c_array(per_chunk, np.int32)
    plan.SetChunks(chunk_counts, chunk_counts.size, _c_array(chunk_tokens, np.int32), 2, 3)
    plan.SetKvReads(_c_array([100.0, 7.0], np.float64), _c_array([10.0, 0.0], np.float64),
                    _c_array([0.5, 1.0], np.float64), 2, 3, 1e10, _c_array([5, 0], np.int32), 2)

    def hand(o, n):
        return 100 * (o + n) + 10 * (min(o, 3) + n)

    tokens = 4  # chunk c < last travels as token id 4 + c; the last chunk is token 0
    got = {name: plan.GetKvBytes(0, r, t) for name, r, t in [
        ("chunk 0", 0, tokens), ("chunk 1", 0, tokens + 1), ("last chunk", 0, 0),
        ("decode 1", 0, 1), ("decode 3", 0, 3), ("no prompt 0", 1, 0), ("no prompt 2", 1, 2)]}
    assert got == {"chunk 0": hand(0, 2), "chunk 1": hand(2, 2), "last chunk": hand(4, 1),
                   "decode 1": hand(5, 1), "decode 3": hand(7, 1),   # prompt 5 + t - 1 cached
                   "no prompt 0": hand(0, 1), "no prompt 2": hand(2, 1)}
    assert plan.GetKvBytes(1, 0, 3) == 7.0 * 8  # layer 1: 7 B a token, 8 tokens
    # whole ns, halves up, as KvReads.read_ns: 25 B at 10 GB/s is 2.5 ns -> 3
    kv = KvReads(np.array([100.0]), np.array([0.0]), 0, 1e10)
    for nbytes in (25.0, 24.0, 1234567.0, 0.0):
        assert plan.KvReadTime(nbytes).GetNanoSeconds() == int(kv.read_ns(nbytes)), nbytes
    assert int(kv.read_ns(25.0)) == 3


# ---- Batched tensor-parallel shards, to the nanosecond ------------------------------------------

PEAK = 10e12                  # FLOP/s
BANDWIDTH = 10e9              # B/s
GATEWAY_FLOP = 800_006_000    # 80,000.6 ns a token; a shard of m = 2 computes half: 40,000.3
GATEWAY_BYTES = 20_000_000    # 2 ms to read; a shard reads half: 1 ms
KV_BYTES = 50_000             # the gateway's cache per cached token; a shard reads half: 2.5 us
DELAY_NS = 1_000_000


def shard_roofline_ns(batch: int) -> int:
    """A shard's job of B one-token decode steps: max(B x F / 2 / peak, W / 2 / bw + B x K / 2 / bw)."""
    compute = Fraction(batch * GATEWAY_FLOP, 2) / Fraction(PEAK) * 10**9
    weights = round(Fraction(GATEWAY_BYTES, 2) / Fraction(BANDWIDTH) * 10**9)
    cache = round(Fraction(batch * KV_BYTES, 2) / Fraction(BANDWIDTH) * 10**9)
    one = round(Fraction(GATEWAY_FLOP, 2) / Fraction(PEAK) * 10**9)  # one token: the whole-ns FLOP time
    return max(one if batch == 1 else round(compute), weights + cache)


@pytest.mark.parametrize("batch", [1, 4, 32])
def test_a_batch_of_b_tensor_parallel_shard_steps_takes_the_roofline(batch):
    # One layer split over its gateway (node 0) and one helper shard (node 2), expert on node 1,
    # every link 1 ms. Request 0 starts alone at t = 0: the gateway scatters its hidden state and
    # runs its own shard's step (1 ms of weights); requests 1..B start at 1 ns, are scattered
    # behind it and wait at both shards, which then run them as one batch of B each. Each
    # satellite's busy time is exactly its two shard jobs (the LM head costs nothing here).
    topo = topology(3, [(0, 1), (0, 2)], [[DELAY_NS, DELAY_NS]])
    rts = routes(topo, [0, 1, 2], [{(0, 1): 1, (1, 0): 0, (0, 2): 2, (2, 0): 0, (1, 2): 0, (2, 1): 0}])
    g_exact = GATEWAY_FLOP / PEAK * 1e9
    compute = ComputeTimes(np.array([round(g_exact)]), np.array([[1000]]), 0,
                           exact=(np.array([g_exact]), np.array([[1000.0]]), 0.0))
    memory = ComputeTimes(np.array([round(GATEWAY_BYTES / BANDWIDTH * 1e9)]), np.array([[0]]), 0)
    requests = 1 + batch
    result = packet_run(topology=topo, routes=rts, links=LinkSpec(rate_bps=1e9, mtu_bytes=1500),
                        gateways=np.array([0]), experts=np.array([[1]]), shards=np.array([[2]]),
                        activations=np.zeros((requests, 1, 1, 1), dtype=np.int32), compute=compute,
                        request_starts_ns=np.array([0] + [1] * batch, dtype=np.int64), message_bytes=1000,
                        seed=1, stop_ns=10**10, memory=memory, max_batch=batch,
                        kv=KvReads(np.array([float(KV_BYTES)]), np.array([0.0]), 0, BANDWIDTH, kv_heads=32))
    assert (result.latency_ns > 0).all()
    one, many = shard_roofline_ns(1), shard_roofline_ns(batch)
    assert int(result.busy_ns[0]) == one + many and int(result.busy_ns[2]) == one + many
    # 1 ms of weights + B x 2.5 us of cache, until B x 40,000.3 ns of FLOPs passes it at B = 32
    assert (one, many) == (1_002_500, {1: 1_002_500, 4: 1_010_000, 32: 1_280_010}[batch])


# ---- The analytic model with a cache that matters ----------------------------------------------

@pytest.mark.parametrize("sharded", [False, True])
def test_analytic_follows_the_growing_cache_like_ns3(sharded):
    # One request of 6 tokens, no batching, one layer (gateway node 0, expert node 1, a helper
    # shard on node 2 when sharded), 30 us of weights and 5 us of cache per cached token at the
    # gateway (half of each at a shard): decode step t reads t + 1 tokens, so each token takes
    # exactly 5 us (2.5 us sharded) longer than the one before, in ns-3 and in the analytic model.
    topo = topology(3, [(0, 1), (0, 2)], [[DELAY_NS, DELAY_NS]])
    rts = routes(topo, [0, 1, 2], [{(0, 1): 1, (1, 0): 0, (0, 2): 2, (2, 0): 0, (1, 2): 0, (2, 1): 0}])
    kw = dict(topology=topo, routes=rts, links=LinkSpec(rate_bps=1e9, mtu_bytes=1500), gateways=np.array([0]),
              experts=np.array([[1]]), shards=np.array([[2]]) if sharded else None,
              activations=np.zeros((1, 6, 1, 1), dtype=np.int32),
              compute=ComputeTimes(np.array([1000]), np.array([[2000]]), 500),
              memory=ComputeTimes(np.array([30_000]), np.array([[0]]), 0), request_starts_ns=np.array([0]),
              message_bytes=1000, kv=KvReads(np.array([50_000.0]), np.array([0.0]), 0, BANDWIDTH, kv_heads=32))
    ns3 = packet_run(seed=1, stop_ns=10**10, **kw)
    model = analytic_run(**kw)
    ns3_latency = (ns3.token_end_ns - ns3.token_start_ns)[0]
    assert ns3_latency.tolist() == (model.token_end_ns - model.token_start_ns)[0].tolist()
    step = 2_500 if sharded else 5_000
    assert np.diff(ns3_latency).tolist() == [step] * 5
    assert np.diff(model.compute_ns[0]).tolist() == [step] * 5
    # without the cache every token takes the same time
    flat = packet_run(seed=1, stop_ns=10**10, **{**kw, "kv": None})
    assert np.diff((flat.token_end_ns - flat.token_start_ns)[0]).tolist() == [0] * 5


def test_tensor_parallel_strategies_batch_in_a_serving_run(tmp_path):
    # What the schema refused before: serving.max_batch > 1 with tensor-parallel strategies. tiny.yaml
    # on a Jetson Orin Nano (the roofline and the KV reads on), 12 requests at 50/s, batches of up to
    # 8: every request completes.
    from pathlib import Path

    from harness.cli import main
    from harness.formats.requests import read_requests_csv

    repo = Path(__file__).resolve().parents[1]
    text = (repo / "topologies" / "tiny.yaml").read_text().replace("name: tiny", "name: tiny-tp-batch")
    text = text.replace("strategies: [space-xnet]", "strategies: [space-xnet-tp, compact-packed-tp]")
    text = text.replace("\ncompute:\n  satellite_flops: 7.28e9\n", "\ncompute:\n  hardware: jetson-orin-nano\n")
    assert "hardware: jetson-orin-nano" in text and "space-xnet-tp" in text
    path = tmp_path / "tp.yaml"
    path.write_text(text + "serving:\n  arrivals: poisson\n  rate_per_s: 50\n  max_batch: 8\n")
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 0
    for strategy, req in read_requests_csv(tmp_path / "out" / "requests.csv").items():
        assert (req["status"] == "completed").all(), strategy


def test_placements_weigh_each_gateway_with_the_mean_decode_steps_cache():
    # tiny.yaml (2 requests of 8 decode tokens, no prompt) on a Jetson Orin Nano: the placements
    # see each gateway at max(FLOPs, weight read + the mean step's KV read), the mean step holding
    # (1 + ... + 8) / 8 = 4.5 tokens of 16 KiB (2 x 4,096 x 2 B) each, at 68 GB/s.
    from pathlib import Path

    from harness.errors import ScenarioError
    from harness.formats.files import read_yaml_file
    from harness.run.prepare import prepare
    from harness.scenario import scenario_from_dict

    raw = read_yaml_file(Path(__file__).resolve().parents[1] / "topologies" / "tiny.yaml", "scenario", ScenarioError)
    raw["compute"] = {"hardware": "jetson-orin-nano"}
    prep = prepare(scenario_from_dict(raw))
    read = int(np.floor(4.5 * 2 * 4096 * 2 / 68e9 * 1e9 + 0.5))
    assert read == 1084
    assert prep.inputs.gateway_ns.tolist() == (prep.memory.gateway_ns + read).tolist()
    assert (prep.memory.gateway_ns > prep.compute.gateway_ns).all()  # memory-bound: the read decides
