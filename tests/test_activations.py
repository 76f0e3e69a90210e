"""Tests of harness.workload.activations: the synthetic generator's statistics, the trace object and trace files."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from harness.workload.activations import ActivationTrace, load_trace, save_trace, synthetic_trace
from harness.errors import TraceError

# Statistical checks accept an estimate within this many binomial standard deviations of the
# exact value.  A correct generator lands outside 5 sigma with probability ~6e-7 per check, so
# a change of seed will not make these tests flaky, while the effects they guard (a wrong
# exponent, a missing permutation, a sticky copy of the wrong token) move the estimates by tens
# of sigma at the sample sizes used.
SIGMAS = 5.0
# Exact float comparisons of fractions that are sums of k ones divided by a count.
EXACT = 1e-12


def _binomial_tol(p: float, n: int) -> float:
    """SIGMAS standard deviations of a fraction of n independent Bernoulli(p) trials."""
    return SIGMAS * math.sqrt(p * (1.0 - p) / n)


def _zipf(experts: int, skew: float) -> np.ndarray:
    """Normalised Zipf weights by rank (rank 1 first)."""
    w = np.arange(1, experts + 1, dtype=np.float64) ** -skew
    return w / w.sum()


def _trace(seed: int = 0, **kw) -> ActivationTrace:
    args = dict(requests=2, tokens=16, layers=3, experts=8, top_k=2, skew=1.0, stickiness=0.2)
    args.update(kw)
    return synthetic_trace(rng=np.random.default_rng(seed), **args)


def _assert_valid(trace: ActivationTrace, shape: tuple[int, int, int, int], experts: int) -> None:
    arr = trace.experts
    assert trace.shape == shape and arr.shape == shape
    assert all(type(n) is int for n in trace.shape)
    assert arr.dtype == np.int32
    assert arr.flags.c_contiguous
    assert trace.num_experts == experts
    assert arr.min() >= 0 and arr.max() < experts
    s = np.sort(arr, axis=3)
    assert not np.any(s[..., 1:] == s[..., :-1]), "a row repeats an expert"


# ---------------------------------------------------------------------------------------------
# Generator: structure and determinism


@pytest.mark.parametrize("kw", [
    dict(requests=3, tokens=7, layers=4, experts=8, top_k=2, skew=1.0, stickiness=0.2),
    dict(requests=1, tokens=1, layers=1, experts=1, top_k=1, skew=0.0, stickiness=0.0),
    dict(requests=2, tokens=9, layers=2, experts=5, top_k=5, skew=3.0, stickiness=1.0),
    dict(requests=2, tokens=30, layers=3, experts=64, top_k=6, skew=0.0, stickiness=0.5),
    dict(requests=1, tokens=10, layers=2, experts=16, top_k=3, skew=400.0, stickiness=0.0),
])
def test_synthetic_shape_dtype_and_rows(kw):
    trace = synthetic_trace(rng=np.random.default_rng(7), **kw)
    _assert_valid(trace, (kw["requests"], kw["tokens"], kw["layers"], kw["top_k"]), kw["experts"])


def test_synthetic_is_deterministic_per_seed():
    a, b, c = _trace(seed=5), _trace(seed=5), _trace(seed=6)
    assert np.array_equal(a.experts, b.experts)
    assert not np.array_equal(a.experts, c.experts)


def test_huge_skew_always_picks_the_top_experts_in_rank_order():
    # With skew 400 the rank-i weight dwarfs all lower ranks: every row is the layer's ranking.
    trace = _trace(requests=3, tokens=50, layers=4, experts=16, top_k=4, skew=400.0, stickiness=0.0)
    arr = trace.experts
    assert np.all(arr == arr[:1, :1])
    assert len({tuple(arr[0, 0, l]) for l in range(4)}) > 1, "layers share one ranking"


@pytest.mark.parametrize("bad", [
    dict(requests=0), dict(tokens=0), dict(layers=0), dict(experts=0), dict(top_k=0),
    dict(experts=4, top_k=5), dict(skew=-0.1), dict(skew=float("nan")), dict(skew=float("inf")),
    dict(stickiness=-0.01), dict(stickiness=1.01), dict(stickiness=float("nan")),
    dict(requests=2.5), dict(tokens=True), dict(skew="high"),
])
def test_synthetic_rejects_bad_arguments(bad):
    with pytest.raises(ValueError):
        _trace(**bad)


def test_synthetic_rejects_a_non_generator_rng():
    with pytest.raises(TypeError, match="default_rng"):
        synthetic_trace(requests=1, tokens=1, layers=1, experts=2, top_k=1, skew=0.0, stickiness=0.0,
                        rng=42)


# ---------------------------------------------------------------------------------------------
# Generator: skew


@pytest.mark.parametrize("experts, skew", [(4, 0.5), (8, 1.2), (8, 2.0)])
def test_first_choice_shares_follow_zipf(experts, skew):
    layers, n = 2, 200_000
    trace = _trace(requests=2, tokens=n // 2, layers=layers, experts=experts, top_k=1, skew=skew,
                   stickiness=0.0)
    expected = _zipf(experts, skew)
    tol = np.array([_binomial_tol(p, n) for p in expected])
    # Ranks are recovered by sorting the empirical shares; that is only sound if neighbouring
    # ranks are further apart than the tolerance on each side.
    assert np.all(-np.diff(expected) > tol[:-1] + tol[1:])
    shares = trace.probabilities()
    for l in range(layers):
        got = np.sort(shares[l])[::-1]
        assert np.all(np.abs(got - expected) <= tol), (l, got, expected)


def test_zero_skew_is_uniform():
    experts, n = 8, 200_000
    trace = _trace(requests=4, tokens=n // 4, layers=3, experts=experts, top_k=1, skew=0.0,
                   stickiness=0.0)
    assert np.all(np.abs(trace.probabilities() - 1 / experts) <= _binomial_tol(1 / experts, n))


def test_hot_experts_differ_across_layers_and_stay_hot():
    # skew 2: rank 1 gets 4x rank 2, so per-half argmax is the rank-1 expert beyond doubt.
    trace = _trace(requests=1, tokens=2000, layers=16, experts=8, top_k=1, skew=2.0, stickiness=0.0)
    first = ActivationTrace(trace.experts[:, :1000], 8).probabilities().argmax(axis=1)
    second = ActivationTrace(trace.experts[:, 1000:], 8).probabilities().argmax(axis=1)
    assert np.array_equal(first, second)
    assert len(set(first.tolist())) > 1  # all 16 equal has probability 8**-15 if perms are per layer


@pytest.mark.parametrize("experts, skew", [(8, 1.0), (64, 1.0), (64, 0.9374)])
def test_hottest_expert_load_matches_zipf(experts, skew):
    # top_k = 1: hottest/mean load = w_1 / mean(w) = E / H(E, skew); 13.49x for E = 64, skew 1
    # and 12.0x for skew 0.9374 (DeepSeek-R1's reported hot-expert load).
    n = 100_000
    trace = _trace(requests=2, tokens=n // 2, layers=1, experts=experts, top_k=1, skew=skew,
                   stickiness=0.0)
    p1 = _zipf(experts, skew)[0]
    ratio = trace.probabilities()[0].max() * experts  # mean load is exactly 1/E per token
    assert abs(ratio - p1 * experts) <= experts * _binomial_tol(p1, n)


def test_top_k_draws_are_successive_sampling_in_choice_order():
    # Ordered pair (i, j) in slots (0, 1) has probability q_i * q_j / (1 - q_i): the first slot
    # is the first choice and the second is drawn from the rest.
    experts, skew, n = 4, 1.0, 200_000
    trace = _trace(requests=2, tokens=n // 2, layers=1, experts=experts, top_k=2, skew=skew,
                   stickiness=0.0)
    q = _zipf(experts, skew)
    first = trace.experts[..., 0].ravel()
    first_share = np.bincount(first, minlength=experts) / n
    rank_to_expert = np.argsort(-first_share, kind="stable")
    assert np.all(np.abs(first_share[rank_to_expert] - q) <= [_binomial_tol(p, n) for p in q])
    pairs = np.bincount(first * experts + trace.experts[..., 1].ravel(), minlength=experts**2) / n
    for i in range(experts):
        for j in range(experts):
            p = 0.0 if i == j else q[i] * q[j] / (1 - q[i])
            got = pairs[rank_to_expert[i] * experts + rank_to_expert[j]]
            assert abs(got - p) <= max(_binomial_tol(p, n), EXACT), (i, j, got, p)


# ---------------------------------------------------------------------------------------------
# Generator: stickiness


def _repeat_indicator(trace: ActivationTrace) -> np.ndarray:
    """[R, T-1, L] bool: token t+1's expert row equals token t's."""
    arr = trace.experts
    return np.all(arr[:, 1:] == arr[:, :-1], axis=3)


@pytest.mark.parametrize("stickiness", [0.0, 0.3, 0.8])
def test_repeat_rate_matches_stickiness(stickiness):
    # top_k = 1, uniform: a step repeats with p = s + (1 - s) / E whatever the current expert, so
    # the steps are independent Bernoulli(p) trials and the tolerance is binomial.
    experts, requests, tokens, layers = 8, 4, 20_001, 2
    trace = _trace(requests=requests, tokens=tokens, layers=layers, experts=experts, top_k=1, skew=0.0,
                   stickiness=stickiness)
    rep = _repeat_indicator(trace)
    p = stickiness + (1 - stickiness) / experts
    n = requests * (tokens - 1)
    assert abs(rep.mean() - p) <= _binomial_tol(p, n * layers)
    # Sticky coins are independent across layers: both layers repeat with probability p**2.
    both = (rep[..., 0] & rep[..., 1]).mean()
    assert abs(both - p * p) <= _binomial_tol(p * p, n)


def test_full_stickiness_repeats_token_zero():
    trace = _trace(requests=3, tokens=40, layers=3, experts=8, top_k=3, skew=0.5, stickiness=1.0)
    assert np.array_equal(trace.experts, np.broadcast_to(trace.experts[:, :1], trace.shape))


def test_sticky_tokens_copy_the_whole_row_in_order():
    # k = 3 of E = 64 uniform: a fresh draw equals the previous ordered row with probability
    # 1 / (64 * 63 * 62) ~ 4e-6, so the ordered-row repeat rate is the stickiness itself.
    s, n = 0.5, 3 * 9_999 * 2
    trace = _trace(requests=3, tokens=10_000, layers=2, experts=64, top_k=3, skew=0.0, stickiness=s)
    assert abs(_repeat_indicator(trace).mean() - s) <= _binomial_tol(s, n) + 1 / (64 * 63 * 62)


def test_first_choice_repetition_with_skew_mixtral_shape():
    # E = 8, k = 2, skew 1, stickiness 0.2: first choice repeats with s + (1 - s) * sum q**2
    # = 0.365.  Two tokens per request keep the trials independent (the chain is stationary).
    experts, skew, s = 8, 1.0, 0.2
    requests, layers = 50_000, 2
    trace = _trace(requests=requests, tokens=2, layers=layers, experts=experts, top_k=2, skew=skew,
                   stickiness=s)
    p = s + (1 - s) * float(np.sum(_zipf(experts, skew) ** 2))
    got = np.mean(trace.experts[:, 1, :, 0] == trace.experts[:, 0, :, 0])
    assert abs(got - p) <= _binomial_tol(p, requests * layers)


# ---------------------------------------------------------------------------------------------
# ActivationTrace


def test_probabilities_hand_count():
    arr = np.array([[[[0, 1], [2, 0]],
                     [[1, 2], [2, 1]]]])  # [R=1, T=2, L=2, k=2]
    trace = ActivationTrace(arr, 3)
    assert trace.experts.dtype == np.int32 and trace.shape == (1, 2, 2, 2)
    expected = np.array([[0.5, 1.0, 0.5],
                         [0.5, 0.5, 1.0]])
    p = trace.probabilities()
    assert p.dtype == np.float64 and p.shape == (2, 3)
    assert np.array_equal(p, expected)


def test_probability_rows_sum_to_k():
    trace = _trace(requests=3, tokens=50, layers=5, experts=16, top_k=4)
    assert np.allclose(trace.probabilities().sum(axis=1), 4, rtol=0, atol=EXACT)


@pytest.mark.parametrize("arr, experts", [
    (np.zeros((2, 2, 2)), 4),                       # not 4-D
    (np.zeros((1, 1, 1, 1)), 4),                    # float ids
    (np.array([[[[0, 4]]]]), 4),                    # id out of range
    (np.array([[[[-1, 0]]]]), 4),                   # negative id
    (np.array([[[[1, 1]]]]), 4),                    # repeated id
    (np.array([[[[0, 1, 2]]]]), 2),                 # k > E
    (np.zeros((1, 1, 1, 0), dtype=np.int32), 2),   # k = 0
])
def test_trace_rejects_malformed_arrays(arr, experts):
    with pytest.raises(ValueError):
        ActivationTrace(arr, experts)


# ---------------------------------------------------------------------------------------------
# Files


def _write_csv(path: Path, rows: list[tuple[int, int, int, int, int]]) -> Path:
    lines = ["request,token,layer,slot,expert"] + [",".join(map(str, row)) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _csv_rows(arr: np.ndarray) -> list[tuple[int, int, int, int, int]]:
    return [(*idx, int(arr[idx])) for idx in np.ndindex(arr.shape)]


def _assert_trace_error(path: Path, match: str, **want) -> str:
    args = dict(requests=1, tokens=2, layers=2, experts=4, top_k=2)
    args.update(want)
    with pytest.raises(TraceError) as info:
        load_trace(path, **args)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(f"{path}: ")
    assert ";" in msg  # "<problem>; <fix>"
    assert match in msg, msg
    return msg


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".NPY"])
def test_save_load_round_trip(tmp_path, suffix):
    trace = _trace(requests=2, tokens=5, layers=3, experts=6, top_k=2)
    path = tmp_path / f"trace{suffix}"
    save_trace(trace, path)
    assert path.is_file()
    back = load_trace(path, requests=2, tokens=5, layers=3, experts=6, top_k=2)
    _assert_valid(back, (2, 5, 3, 2), 6)
    assert np.array_equal(back.experts, trace.experts)


def test_save_rejects_unknown_suffix(tmp_path):
    with pytest.raises(TraceError, match=r"\.npy or \.csv"):
        save_trace(_trace(), tmp_path / "trace.txt")


def test_load_3d_npy_is_one_request(tmp_path):
    arr = _trace(requests=1, tokens=4, layers=2, experts=5, top_k=2).experts
    path = tmp_path / "one.npy"
    np.save(path, arr[0].astype(np.int64))
    back = load_trace(path, requests=1, tokens=4, layers=2, experts=5, top_k=2)
    assert np.array_equal(back.experts, arr)


def test_load_csv_in_any_order_with_blank_lines(tmp_path):
    arr = _trace(requests=2, tokens=3, layers=2, experts=5, top_k=2).experts
    rows = _csv_rows(arr)
    np.random.default_rng(0).shuffle(rows)
    lines = ["request, token, layer, slot, expert"] + [", ".join(map(str, r)) for r in rows]
    lines.insert(4, "")
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n\n")
    back = load_trace(path, requests=2, tokens=3, layers=2, experts=5, top_k=2)
    assert np.array_equal(back.experts, arr)


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_load_takes_the_first_requests_and_tokens(tmp_path, suffix):
    trace = _trace(requests=3, tokens=10, layers=2, experts=6, top_k=2)
    path = tmp_path / f"long{suffix}"
    save_trace(trace, path)
    back = load_trace(path, requests=2, tokens=4, layers=2, experts=6, top_k=2)
    assert np.array_equal(back.experts, trace.experts[:2, :4])
    assert back.experts.flags.c_contiguous


def test_load_csv_ignores_a_ragged_unused_tail(tmp_path):
    # Request 1 has only 2 tokens, request 0 has 3; asking for 2 tokens uses complete data.
    arr = np.array([[[[0, 1]], [[1, 2]], [[2, 3]]],
                    [[[3, 0]], [[0, 2]], [[0, 0]]]])
    rows = [row for row in _csv_rows(arr) if not (row[0] == 1 and row[1] == 2)]
    path = _write_csv(tmp_path / "ragged.csv", rows)
    back = load_trace(path, requests=2, tokens=2, layers=1, experts=4, top_k=2)
    assert np.array_equal(back.experts, arr[:, :2])
    _assert_trace_error(path, "no line for request 1, token 2, layer 0, slot 0", requests=2, tokens=3,
                        layers=1)


def test_load_rejects_missing_file(tmp_path):
    _assert_trace_error(tmp_path / "absent.npy", "not found")


def test_load_rejects_unknown_suffix(tmp_path):
    path = tmp_path / "trace.txt"
    path.write_text("request,token,layer,slot,expert\n0,0,0,0,1\n")
    _assert_trace_error(path, "unknown trace format '.txt'")


def _npy(tmp_path: Path, arr) -> Path:
    path = tmp_path / "t.npy"
    np.save(path, np.asarray(arr))
    return path


GOOD = np.array([[[[0, 1], [2, 3]], [[1, 2], [3, 0]]]])  # [R=1, T=2, L=2, k=2], E=4


@pytest.mark.parametrize("fmt", ["npy", "csv"])
@pytest.mark.parametrize("case", ["id_out_of_range", "negative_id", "repeated_id", "layers", "top_k",
                                  "tokens", "requests"])
def test_load_rejects_bad_content(tmp_path, fmt, case):
    arr = GOOD.copy()
    want: dict = {}
    if case == "id_out_of_range":
        arr[0, 1, 1, 0] = 4
        match = "expert id 4"
    elif case == "negative_id":
        arr[0, 0, 1, 1] = -2
        match = "expert id -2"
    elif case == "repeated_id":
        arr[0, 1, 0] = [3, 3]
        match = "request 0, token 1, layer 0 activates the same expert twice"
    elif case == "layers":
        want = dict(layers=3)
        match = "the trace has 2 layers, the scenario needs 3"
    elif case == "top_k":
        want = dict(top_k=1)
        match = "activates 2 experts per token and layer, the scenario needs top_k = 1"
    elif case == "tokens":
        want = dict(tokens=3)
        match = "the trace has 2 tokens per request, the scenario needs 3"
    else:
        want = dict(requests=2)
        match = "the trace has 1 requests, the scenario needs 2"
    path = _npy(tmp_path, arr) if fmt == "npy" else _write_csv(tmp_path / "t.csv", _csv_rows(arr))
    _assert_trace_error(path, match, **want)


def test_load_csv_names_the_line_of_a_bad_id(tmp_path):
    rows = _csv_rows(GOOD)
    rows[5] = rows[5][:4] + (9,)
    path = _write_csv(tmp_path / "t.csv", rows)
    _assert_trace_error(path, "line 7: expert id 9 is outside [0, 4)")


@pytest.mark.parametrize("bad_line", ["0,1,1,0", "0,1,1,0,x", "0,1,1,0,1.0", "0,1,1,0,1,5",
                                      "0;1;1;0;1", "0,1,1,0,99999999999999999999999"])
def test_load_csv_names_a_malformed_line(tmp_path, bad_line):
    rows = [",".join(map(str, r)) for r in _csv_rows(GOOD)]
    rows[4] = bad_line
    path = tmp_path / "t.csv"
    path.write_text("request,token,layer,slot,expert\n" + "\n".join(rows) + "\n")
    msg = _assert_trace_error(path, "line 6: expected 5 integers")
    assert repr(bad_line) in msg


def test_load_csv_rejects_a_missing_row(tmp_path):
    rows = _csv_rows(GOOD)
    del rows[6]  # request 0, token 1, layer 1, slot 0
    _assert_trace_error(_write_csv(tmp_path / "t.csv", rows),
                        "no line for request 0, token 1, layer 1, slot 0 (1 of the 8")


def test_load_csv_rejects_a_duplicate_row(tmp_path):
    rows = _csv_rows(GOOD)
    rows.append(rows[2][:4] + (3,))
    _assert_trace_error(_write_csv(tmp_path / "t.csv", rows),
                        "line 10: request 0, token 0, layer 1, slot 0 is already given on line 4")


def test_load_csv_rejects_a_negative_index(tmp_path):
    rows = _csv_rows(GOOD)
    rows[3] = (0, -1, 1, 1, 3)
    _assert_trace_error(_write_csv(tmp_path / "t.csv", rows), "line 5: negative token -1")


@pytest.mark.parametrize("text, match", [
    ("", "expected the header"),
    ("req,tok,layer,slot,expert\n0,0,0,0,1\n", "line 1 is 'req,tok,layer,slot,expert'"),
    ("request,token,layer,slot,expert\n\n", "no activation rows"),
])
def test_load_csv_rejects_bad_header_or_no_rows(tmp_path, text, match):
    path = tmp_path / "t.csv"
    path.write_text(text)
    _assert_trace_error(path, match)


@pytest.mark.parametrize("content, match", [
    (b"not an npy file", "not a readable .npy array"),
    (None, "holds float64 values"),
    (np.zeros((2, 2), dtype=np.int32), "array has shape (2, 2)"),
])
def test_load_npy_rejects_unreadable_or_wrong_type(tmp_path, content, match):
    path = tmp_path / "t.npy"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is None:
        np.save(path, GOOD.astype(np.float64))
    else:
        np.save(path, content)
    _assert_trace_error(path, match)


def test_load_rejects_bad_arguments(tmp_path):
    path = _npy(tmp_path, GOOD)
    with pytest.raises(ValueError):
        load_trace(path, requests=1, tokens=2, layers=2, experts=1, top_k=2)
