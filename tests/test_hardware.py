"""Board profiles and the roofline (issue 21): the profiles' figures against their vendors' numbers,
the schema's resolution and refusals, a batch of B decode steps at a gateway and at an expert to the
nanosecond through the real ns-3, and the analytic model's agreement with ns-3 under every board."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from harness.errors import ScenarioError
from harness.names import BOARD_NAMES
from harness.scenario import LinkSpec, scenario_from_dict
from harness.scenario.hardware import BOARDS
from harness.workload.compute import ComputeTimes
from networks import packet_run, routes, topology

BASE = {"name": "s", "constellation": {"planes": 6, "sats_per_plane": 8}}


def test_profiles_carry_the_vendor_figures():
    # The vendors' pages (sources in each profile and docs/hardware.md), dense throughput.
    h100, v6e, v5e, agx = BOARDS["h100-sxm"], BOARDS["tpu-v6e"], BOARDS["tpu-v5e"], BOARDS["jetson-agx-orin"]
    assert (h100.bf16_flops, h100.memory_bytes_per_s, h100.memory_gb, h100.busy_w) == (1979e12 / 2, 3.35e12, 80, 700)
    assert (v6e.bf16_flops, v6e.memory_bytes_per_s, v6e.memory_gb) == (918e12, 1638e9, 32)
    assert (v5e.bf16_flops, v5e.memory_bytes_per_s, v5e.memory_gb) == (197e12, 819e9, 16)
    # Jetson: dense BF16 = sparse INT8 TOPS / 4 (GPU only on the AGX: 170 of its 275)
    assert agx.bf16_flops == 170e12 / 4 and (agx.memory_bytes_per_s, agx.idle_w, agx.busy_w) == (204.8e9, 15, 60)
    nano, sup = BOARDS["jetson-orin-nano"], BOARDS["jetson-orin-nano-super"]
    assert (nano.bf16_flops, nano.memory_bytes_per_s, nano.busy_w) == (40e12 / 4, 68e9, 15)
    assert (sup.bf16_flops, sup.memory_bytes_per_s, sup.busy_w) == (67e12 / 4, 102e9, 25)
    assert BOARDS["versal-ai-core-xqr"].int8_ops == 133e12
    assert tuple(BOARDS) == BOARD_NAMES
    for board in BOARDS.values():
        assert board.source and board.precisions and "bf16" in board.precisions


def test_paper_is_the_default_and_changes_nothing():
    plain = scenario_from_dict(BASE)
    assert plain.compute.hardware == "paper" and plain.compute.satellite_flops == 7.28e9
    assert plain.compute.memory_bytes_per_s is None and plain.compute.weight_bytes == 2
    assert plain == scenario_from_dict({**BASE, "compute": {"hardware": "paper"}})


def test_a_profile_fills_the_keys_and_explicit_keys_win():
    sc = scenario_from_dict({**BASE, "compute": {"hardware": "jetson-agx-orin"}})
    assert (sc.compute.satellite_flops, sc.compute.memory_bytes_per_s, sc.compute.memory_gb) == (42.5e12, 204.8e9, 64)
    half = scenario_from_dict({**BASE, "compute": {"hardware": "h100-sxm", "efficiency": 0.5, "precision": "int8"}})
    assert half.compute.satellite_flops == 1979e12 * 0.5 and half.compute.memory_bytes_per_s == 3.35e12 * 0.5
    assert half.compute.weight_bytes == 1
    mine = scenario_from_dict({**BASE, "compute": {"hardware": "tpu-v6e", "satellite_flops": 1e12,
                                                  "memory_gb": 4, "efficiency": 0.5}})
    assert (mine.compute.satellite_flops, mine.compute.memory_gb) == (1e12, 4)
    assert mine.compute.memory_bytes_per_s == 1638e9 * 0.5


@pytest.mark.parametrize("compute, words", [
    ({"hardware": "orin"}, "'compute.hardware' is 'orin'; choose one of: paper, jetson-orin-nano"),
    ({"hardware": "tpu-v6e", "precision": "fp8"}, "board 'tpu-v6e' has no fp8 figure; set 'compute.precision' "
                                                  "to one of: bf16, int8"),
    ({"efficiency": 0}, "'compute.efficiency' is 0"),
    ({"precision": "fp4"}, "'compute.precision' is 'fp4'"),
])
def test_bad_board_input_is_one_clear_error(compute, words):
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict({**BASE, "compute": compute})
    assert words in str(err.value) and "\n" not in str(err.value)


def test_unknown_board_from_the_command_line_is_one_line_and_exit_1(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    text = (repo / "topologies" / "tiny.yaml").read_text() + "\n"
    assert "\ncompute:" in text
    text = text.replace("\ncompute:", "\ncompute:\n  hardware: jetson-xavier")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "harness", "run", str(path), "--out", str(out)],
                       capture_output=True, text=True, cwd=repo)
    assert p.returncode == 1 and not out.exists()
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "jetson-xavier" in lines[0]
    assert "jetson-agx-orin" in lines[0]


# ---- The roofline, to the nanosecond ------------------------------------------------------------

PEAK = 10e12            # FLOP/s
BANDWIDTH = 10e9        # B/s
GATEWAY_FLOP = 50_004_000      # 5,000.4 ns a token: the roofline rounds B x 5,000.4, not B x 5,000
GATEWAY_BYTES = 300_000        # 30 us to read
EXPERT_FLOP = 400_003_000      # 40,000.3 ns a token
EXPERT_BYTES = 10_000_000      # 1 ms to read
DELAY_NS = 1_000_000


KV_BYTES = 50_000              # the gateway's KV cache per cached token (5 us to read): a step of
                               # request r reads its whole cache, here 1 token each (one-token requests)


def roofline_ns(tokens: int, flop: int, weight_bytes: int, kv_bytes: int = 0) -> int:
    """max(B x F / peak, W / bandwidth + KV / bandwidth), ns (exact fractions; the weight read and
    the KV read each rounded to whole ns, the compute side once)."""
    compute = Fraction(tokens * flop) / Fraction(PEAK) * 10**9
    memory = round(Fraction(weight_bytes) / Fraction(BANDWIDTH) * 10**9) + \
        round(Fraction(kv_bytes) / Fraction(BANDWIDTH) * 10**9)
    return max(round(compute), memory)


@pytest.mark.parametrize("kv", [0, KV_BYTES])
@pytest.mark.parametrize("batch", [1, 4, 32])
def test_a_batch_of_b_decode_steps_takes_the_roofline_at_a_gateway_and_an_expert(batch, kv):
    # One layer, one expert (top-1), gateway on node 0, expert on node 1, 1 ms apart. Request 0
    # starts alone at t = 0 and holds the gateway; requests 1..B start at 1 ns and wait, so the
    # gateway runs them as one batch of B. Request 0's hidden state reaches the expert first and
    # holds it for its 1 ms weight read, long enough for the B hidden states to arrive behind it:
    # the expert runs them as one batch of B too. The LM head costs nothing here, so each
    # satellite's busy time is exactly its jobs: the gateway's 1-token job and its B-batch, the
    # expert's likewise. With kv, the gateway's steps also read their requests' KV caches (one
    # cached token each, KV_BYTES): the batch of B reads B of them beside its weights, which turns
    # B = 32 memory-bound again; experts read no cache.
    from harness.workload.compute import KvReads

    topo = topology(2, [(0, 1)], [[DELAY_NS]])
    rts = routes(topo, [0, 1], [{(0, 1): 1, (1, 0): 0}])
    g_exact, e_exact = GATEWAY_FLOP / PEAK * 1e9, EXPERT_FLOP / PEAK * 1e9
    compute = ComputeTimes(np.array([round(g_exact)]), np.array([[round(e_exact)]]), 0,
                           exact=(np.array([g_exact]), np.array([[e_exact]]), 0.0))
    memory = ComputeTimes(np.array([roofline_ns(0, 0, GATEWAY_BYTES)]), np.array([[roofline_ns(0, 0, EXPERT_BYTES)]]),
                          0)
    requests = 1 + batch
    links = LinkSpec(rate_bps=1e9, mtu_bytes=1500)
    result = packet_run(topology=topo, routes=rts, links=links, gateways=np.array([0]), experts=np.array([[1]]),
                        activations=np.zeros((requests, 1, 1, 1), dtype=np.int32), compute=compute,
                        request_starts_ns=np.array([0] + [1] * batch, dtype=np.int64), message_bytes=1000,
                        seed=1, stop_ns=10**10, memory=memory, max_batch=batch,
                        kv=KvReads(np.array([float(kv)]), np.array([0.0]), 0, BANDWIDTH) if kv else None)
    gateway_one = roofline_ns(1, GATEWAY_FLOP, GATEWAY_BYTES, kv)
    gateway_batch = roofline_ns(batch, GATEWAY_FLOP, GATEWAY_BYTES, batch * kv)
    expert_one, expert_batch = roofline_ns(1, EXPERT_FLOP, EXPERT_BYTES), roofline_ns(batch, EXPERT_FLOP, EXPERT_BYTES)
    assert int(result.busy_ns[0]) == gateway_one + gateway_batch
    assert int(result.busy_ns[1]) == expert_one + expert_batch
    # and when: the expert's batch starts when request 0's job ends, its outputs leave together
    # and cross the link one after another (tx each), then the LM head (0 ns) ends each token.
    tx = sum(size * 8 for size in links.packet_sizes_bytes(1000))
    expert_free = gateway_one + tx + DELAY_NS + expert_one
    assert expert_free >= gateway_one + gateway_batch + batch * tx + DELAY_NS  # all B were waiting
    expected = [expert_free + tx + DELAY_NS] + [expert_free + expert_batch + (i + 1) * tx + DELAY_NS
                                                for i in range(batch)]
    assert result.combine_ns[:, 0, 0].tolist() == expected
    if kv:  # 30 us of weights + B x 5 us of KV cache: memory-bound at every B
        assert (gateway_one, gateway_batch) == (35_000, {1: 35_000, 4: 50_000, 32: 190_000}[batch])
        assert expert_batch == (1_280_010 if batch == 32 else 1_000_000)
    elif batch == 32:  # both sides of the roofline were exercised: compute-bound at 32, memory-bound below
        assert gateway_batch == 160_013 and expert_batch == 1_280_010
    else:
        assert (gateway_batch, expert_batch) == (30_000, 1_000_000)


def test_hardware_paper_spelled_out_leaves_tiny_traces_byte_identical(tmp_path):
    """tiny.yaml with ``hardware: paper``, ``precision: bf16``, ``efficiency: 1`` gives the tokens.csv
    saved before boards existed (tests/data/serving_regression/tiny_tokens.csv; regress.py checks
    the five shipped baselines the same way)."""
    from pathlib import Path

    from harness.cli import main

    repo = Path(__file__).resolve().parents[1]
    expected = (repo / "tests" / "data" / "serving_regression" / "tiny_tokens.csv").read_bytes()
    text = (repo / "topologies" / "tiny.yaml").read_text()
    spelled = text.replace("\ncompute:\n", "\ncompute:\n  hardware: paper\n  precision: bf16\n  efficiency: 1.0\n")
    assert spelled != text
    scenario = tmp_path / "paper.yaml"
    scenario.write_text(spelled)
    assert main(["run", str(scenario), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "tokens.csv").read_bytes() == expected


# ---- Agreement: every strategy x every board on polar_1056 ----------------------------------------

AGREEMENT = 1e-3  # relative, per token (the 0.1 %)


def _polar(board: str):
    from pathlib import Path

    from harness.errors import ScenarioError as _E
    from harness.formats.files import read_yaml_file

    raw = read_yaml_file(Path(__file__).resolve().parents[1] / "topologies" / "polar_1056.yaml", "scenario", _E)
    raw["compute"] = {"hardware": board}  # drop the file's explicit satellite_flops: the board's figures
    raw["traffic"] = {"requests": 1, "tokens_per_request": 2}
    # One topology for the whole run: a token crossing a snapshot boundary is routed differently by
    # the two engines (ns-3 reroutes packets in flight, the model keeps the send snapshot), which is
    # the routing model's documented gap (tests/test_analytic.py), not the compute model's.
    raw["snapshots"] = {"count": 2, "interval_s": 30.0}
    return scenario_from_dict(raw)


@pytest.mark.parametrize("board", BOARD_NAMES)
def test_analytic_agrees_with_ns3_under_every_board_for_every_strategy(board):
    # One request of two tokens, no batching, on polar_1056 with the board's figures (the roofline
    # on for every board but the paper's): each token's latency from ns-3 and from the analytic
    # model, for each of the ten strategies, within AGREEMENT.
    from harness.names import STRATEGY_NAMES
    from harness.run.prepare import prepare
    from harness.run.strategy import place_replicas, run_strategy

    sc = _polar(board)
    assert (sc.compute.memory_bytes_per_s is None) == (board == "paper")
    prep = prepare(sc)
    worst = {}
    for name in STRATEGY_NAMES:
        trace = run_strategy(sc, prep, place_replicas(name, prep.inputs, sc.seed, 1), None)
        ns3 = trace.token_end_ns - trace.token_start_ns
        assert (trace.token_end_ns > 0).all() and (trace.analytic_ns > 0).all(), name
        worst[name] = float(np.max(np.abs(ns3 - trace.analytic_ns) / ns3))
        if name == "space-xnet" and prep.kv is not None:
            # The KV-cache reads are in: token 1's 32 gateway steps each read two tokens' cache
            # (16 KiB each, LLaMA-MoE's 2 x 4,096 x 2 B), token 0's one; everything else on the
            # compute path (the experts, all alike, the LM head) is the same for both tokens.
            per_token = 2 * 4096 * 2
            assert prep.kv.full_bytes.tolist() == [per_token] * 32
            grow = sum(round(2 * per_token / sc.compute.memory_bytes_per_s * 1e9)
                       - round(per_token / sc.compute.memory_bytes_per_s * 1e9) for _ in range(32))
            assert int(trace.compute_ns[0, 1] - trace.compute_ns[0, 0]) == grow > 0
    print(f"\n{board}: worst relative gap per strategy {worst}")
    assert max(worst.values()) <= AGREEMENT, worst


def test_tensor_parallel_prefill_and_batched_experts_under_a_board_complete(tmp_path):
    # What the schema used to refuse: tensor-parallel strategies with prefill under the roofline
    # (their shards run ShardWork: the prompt's tokens, the shard's share of the weights); and
    # space-xnet with batched experts. tiny.yaml on a Jetson Orin Nano: every request completes,
    # (requests.csv).
    from pathlib import Path

    from harness.cli import main
    from harness.formats.requests import read_requests_csv

    repo = Path(__file__).resolve().parents[1]
    text = (repo / "topologies" / "tiny.yaml").read_text().replace("name: tiny", "name: tiny-board")
    text = text.replace("strategies: [space-xnet]", "strategies: [space-xnet, space-xnet-tp, compact-packed-tp]")
    text = text.replace("\ncompute:\n  satellite_flops: 7.28e9\n", "\ncompute:\n  hardware: jetson-orin-nano\n")
    assert "hardware: jetson-orin-nano" in text and "space-xnet-tp" in text
    for name, serving in (("prefill", "  arrivals: poisson\n  rate_per_s: 4\n  prefill: true\n"
                                      "  prompt: {kind: uniform, low: 20, high: 80}\n"),
                          ("batch", "  arrivals: poisson\n  rate_per_s: 50\n  max_batch: 8\n")):
        path = tmp_path / f"{name}.yaml"
        body = text if name == "prefill" else text.replace(", space-xnet-tp, compact-packed-tp", "")
        path.write_text(body + "serving:\n" + serving)
        assert main(["run", str(path), "--out", str(tmp_path / name)]) == 0
        for strategy, req in read_requests_csv(tmp_path / name / "requests.csv").items():
            assert (req["status"] == "completed").all(), (name, strategy)
