"""Expert activations: which ``k`` experts each token activates in every MoE layer.

A trace is an int32 array ``experts[R, T, L, k]``: for request ``r`` (an independent token
stream), token ``t`` and MoE layer ``l``, the ``k`` distinct expert ids in ``[0, E)`` that the
router activates.  The ``k`` ids of a row are kept in draw order: slot 0 holds the
*first-choice* expert (the one with the highest routing score), slot 1 the second choice, and
so on.  Ids are not sorted.

Traces come from :func:`synthetic_trace` (a seeded generator) or from a recorded file read by
:func:`load_trace` (and written by :func:`save_trace`).

Synthetic generator
-------------------
Real routers are skewed (a few experts get most of the tokens) and sticky (consecutive tokens
often pick the same experts).  The generator models both with two knobs:

* **Skew.**  In every layer, expert popularity follows a Zipf law: the expert of popularity rank
  ``i`` (1-based) has weight ``w_i = i ** -skew``; ``skew = 0`` is uniform.  Which expert id gets
  which rank is a random permutation drawn independently for each layer, so the hot experts
  differ from layer to layer (and stay hot for the whole trace).
* **Stickiness.**  For token ``t >= 1``, independently per request, token and layer, with
  probability ``stickiness`` the token reuses the previous token's ``k`` experts of that layer
  (same ids, same slot order).  Otherwise it draws ``k`` distinct experts without replacement,
  with probability proportional to the weights (successive sampling), by the Gumbel-top-k trick:
  the ``k`` largest of ``log w_e + G_e``, in decreasing order, with ``G_e`` i.i.d. standard
  Gumbel (drawn as ``-log X_e``, ``X_e ~ Exp(1)``).  Token 0 always draws afresh.

Consequences, for choosing parameters (``H(E, s) = sum_{i=1..E} i ** -s``):

* The first choice of a fresh draw is expert ``e`` with probability ``q_e = w_e / sum(w)``.  With
  ``top_k = 1`` the hottest expert's load is ``w_1 / mean(w) = E / H(E, skew)`` times the mean
  load: for ``E = 8`` that is 2.9x at ``skew = 1``, 5.2x at 2, 7.7x at 5 and never 8x or more;
  for ``E = 64`` it is 13.5x at ``skew = 1`` and 12x at ``skew = 0.94``.
* With ``top_k = k`` a token activates an expert at most once while the mean is ``k / E`` per
  token, so hottest/mean can never exceed ``E / k``: 4x for ``E = 8, k = 2`` (Mixtral's shape;
  the generator gives 2.5x at ``skew = 1``, 3.2x at 1.5).  The ~12x hottest/mean load reported
  for DeepSeek-R1 (``E = 256, k = 8``) is reproduced at ``skew ~ 0.65`` (measured with this
  generator; ``skew = 1`` gives ~25x).  Eight experts cannot reproduce it at all.
* A token repeats the previous token's first choice (same request and layer) with probability
  ``stickiness + (1 - stickiness) * sum_e q_e ** 2``; with ``skew = 0`` the second term is
  ``(1 - stickiness) / E``.  Mixtral 8x7B repeats its first choice on 14-28% of consecutive
  tokens depending on layer and domain, against 12.5% for a uniform router, i.e.
  ``stickiness`` in ``[0.02, 0.18]`` at ``skew = 0``.  Skew alone raises repetition: with
  ``E = 8``, ``skew = 1`` gives 20.7% at ``stickiness = 0`` and 36.5% at ``stickiness = 0.2``,
  so lower one knob when raising the other.

The generator is vectorised over requests, tokens and layers (no Python loop over tokens) and
deterministic: the same arguments and ``rng = np.random.default_rng(seed)`` give an identical
array.  It consumes ``rng`` in this order: ``L * E`` uniforms for the per-layer permutations,
``R * T * L`` uniforms for stickiness, then ``E`` exponentials per fresh (non-sticky) position,
positions in C order.

Trace files (the format and its strict reader: harness/formats/activation_trace.py)
-----------------------------------------------------------------------------------
* ``.npy``: an integer array ``[R, T, L, k]``, or ``[T, L, k]`` for a single request.
* ``.csv``: the header ``request,token,layer,slot,expert`` then one line per activation, in any
  order; blank lines are ignored.  ``slot`` is the choice rank (0 = first choice).

:func:`load_trace` checks the file against the scenario: it must have exactly the scenario's
number of layers and ``k``, and at least its number of requests and tokens (a longer trace is cut
to its first requests and tokens).  Expert ids must lie in ``[0, E)`` everywhere in the file; the
part that is used must be complete (CSV) and have ``k`` distinct ids per row.  A problem raises
:class:`~harness.errors.TraceError` with one line ``"<path>: <problem>; <fix>"``.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import TraceError
from harness.formats.activation_trace import _first_repeated_row, read_trace, write_trace

__all__ = ["ActivationTrace", "load_trace", "save_trace", "synthetic_trace"]

# Routing noise is drawn in chunks of at most this many float64 values (32 MiB) so that a long
# trace with many experts never needs an [R, T, L, E] array at once.  Consecutive draws from a
# numpy Generator do not depend on how they are chunked, so this only bounds memory.
_GUMBEL_CHUNK_VALUES = 1 << 22


@dataclass(frozen=True)
class ActivationTrace:
    """Which experts each token activates.

    Attributes:
        experts: ``[R, T, L, k]`` int32, C-contiguous: the ``k`` distinct expert ids in
            ``[0, num_experts)`` activated by request ``r``, token ``t`` in layer ``l``, in draw
            order (slot 0 is the first choice).
        num_experts: ``E``, experts per layer.

    The constructor converts ``experts`` to a C-contiguous int32 array (copying only if needed)
    and raises ``ValueError`` if the shape, ids or distinctness are wrong.
    """

    experts: np.ndarray
    num_experts: int

    def __post_init__(self) -> None:
        num_experts = _count("num_experts", self.num_experts)
        arr = np.asarray(self.experts)
        if arr.ndim != 4:
            raise ValueError(f"experts must be a [R, T, L, k] array, got shape {arr.shape}")
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"experts must hold integer expert ids, got dtype {arr.dtype}")
        if arr.shape[3] < 1:
            raise ValueError("experts must activate k >= 1 experts per row, got k = 0")
        if arr.shape[3] > num_experts:
            raise ValueError(f"experts activates k={arr.shape[3]} experts per row but there are only "
                             f"{num_experts}")
        if arr.size:
            lo, hi = int(arr.min()), int(arr.max())
            if lo < 0 or hi >= num_experts:
                raise ValueError(f"expert ids must be in [0, {num_experts}), got values in [{lo}, {hi}]")
            bad = _first_repeated_row(arr)
            if bad is not None:
                raise ValueError(f"request {bad[0]}, token {bad[1]}, layer {bad[2]} activates the same "
                                 f"expert twice: {arr[bad].tolist()}; the k ids of a row must be distinct")
        object.__setattr__(self, "experts", np.ascontiguousarray(arr, dtype=np.int32))
        object.__setattr__(self, "num_experts", num_experts)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(R, T, L, k)``: requests, tokens per request, layers, experts per token and layer."""
        r, t, l, k = self.experts.shape
        return int(r), int(t), int(l), int(k)

    def probabilities(self) -> np.ndarray:
        """Activation probability of every expert, per layer.

        Returns:
            ``[L, E]`` float64 ``p`` with ``p[l, e] = n[l, e] / (R * T)``, where ``n[l, e]`` is the
            number of (request, token) rows of layer ``l`` that activate expert ``e`` in any
            slot.  Since a row activates ``k`` distinct experts, every row of ``p`` sums to ``k``;
            ``p[l, e] / k`` is expert ``e``'s share of layer ``l``'s load, and sorting a row of ``p``
            in decreasing order ranks the layer's experts from hottest to coldest.  All zeros if
            the trace has no tokens.
        """
        r, t, l, _ = self.shape
        e = self.num_experts
        if r * t == 0:
            return np.zeros((l, e), dtype=np.float64)
        flat = self.experts.astype(np.int64) + (np.arange(l, dtype=np.int64) * e)[None, None, :, None]
        counts = np.bincount(flat.ravel(), minlength=l * e).reshape(l, e)
        return counts / float(r * t)


# ---------------------------------------------------------------------------------------------
# Synthetic generator


def synthetic_trace(*, requests: int, tokens: int, layers: int, experts: int, top_k: int,
                    skew: float, stickiness: float, rng: np.random.Generator) -> ActivationTrace:
    """Draw a skewed, sticky activation trace (see the module docstring for the model).

    Args:
        requests, tokens, layers: ``R``, ``T``, ``L``, each >= 1.
        experts: ``E`` >= 1, experts per layer.
        top_k: ``k`` in ``[1, E]``, experts activated per token and layer.
        skew: Zipf exponent >= 0 of per-layer popularity (0 = uniform).
        stickiness: probability in ``[0, 1]`` that a token reuses the previous token's experts.
        rng: the random generator, e.g. ``np.random.default_rng(seed)``.

    Raises:
        ValueError: an argument is out of range.
        TypeError: ``rng`` is not a ``numpy.random.Generator``.
    """
    r, t, l, e, k = _shape_args(requests, tokens, layers, experts, top_k)
    skew = _real("skew", skew)
    stickiness = _real("stickiness", stickiness)
    if skew < 0:
        raise ValueError(f"skew must be >= 0 (0 = uniform popularity), got {skew}")
    if not 0.0 <= stickiness <= 1.0:
        raise ValueError(f"stickiness must be a probability in [0, 1], got {stickiness}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}")

    # Per-layer popularity: rank_to_expert[l, i] is the expert of rank i + 1 in layer l.
    rank_to_expert = np.argsort(rng.random((l, e)), axis=1, kind="stable")
    log_weight = np.empty((l, e), dtype=np.float64)
    rank_log_weight = -skew * np.log(np.arange(1, e + 1, dtype=np.float64))
    np.put_along_axis(log_weight, rank_to_expert, np.broadcast_to(rank_log_weight, (l, e)), axis=1)

    sticky = rng.random((r, t, l)) < stickiness
    sticky[:, 0, :] = False

    # Fresh draws at the non-sticky positions (C order), Gumbel-top-k in chunks.
    fresh_layer = np.nonzero(~sticky)[2]
    drawn = np.empty((fresh_layer.size, k), dtype=np.int32)
    chunk = max(1, _GUMBEL_CHUNK_VALUES // e)
    for start in range(0, fresh_layer.size, chunk):
        stop = min(start + chunk, fresh_layer.size)
        # key = -(log w + G) with G = -log X, X ~ Exp(1) standard Gumbel: the k smallest keys,
        # in increasing order, are the Gumbel-top-k draw (an exponential race, ~2x faster than
        # rng.gumbel and exact in log space whatever the skew).
        key = rng.standard_exponential(size=(stop - start, e))
        np.log(key, out=key)
        key -= log_weight[fresh_layer[start:stop]]
        drawn[start:stop] = _k_smallest(key, k)

    fresh = np.zeros((r, t, l, k), dtype=np.int32)
    fresh[~sticky] = drawn
    # Each position copies the last fresh token at or before it (token 0 is always fresh).
    source = np.where(sticky, 0, np.arange(t, dtype=np.intp)[None, :, None])
    np.maximum.accumulate(source, axis=1, out=source)
    out = np.take_along_axis(fresh, source[..., None], axis=1)
    return ActivationTrace(experts=np.ascontiguousarray(out, dtype=np.int32), num_experts=e)


def _k_smallest(keys: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the ``k`` smallest keys of each row, smallest first."""
    e = keys.shape[1]
    if k < e:
        part = np.argpartition(keys, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(e), keys.shape)
    order = np.argsort(np.take_along_axis(keys, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


# ---------------------------------------------------------------------------------------------
# Files


def save_trace(trace: ActivationTrace, path: Path) -> None:
    """Write ``trace`` to ``path``: ``.npy`` (the ``[R, T, L, k]`` array) or ``.csv`` (long form).

    Raises:
        TraceError: the suffix is neither ``.npy`` nor ``.csv``.
    """
    write_trace(trace.experts, path)


def load_trace(path: Path, *, requests: int, tokens: int, layers: int, experts: int,
               top_k: int) -> ActivationTrace:
    """Read a trace file and fit it to the scenario.

    Args:
        path: a ``.npy`` or ``.csv`` trace (formats in the module docstring).
        requests, tokens: the scenario needs this many; a file with more keeps its first ones.
        layers, top_k: the file must have exactly this many layers and experts per row.
        experts: ``E``; every expert id in the file must be in ``[0, E)``.

    Returns:
        An ``ActivationTrace`` of shape ``(requests, tokens, layers, top_k)``.

    Raises:
        TraceError: the file is missing, unreadable, malformed or does not fit the scenario; the
            message is one line ``"<path>: <problem>; <fix>"``.
        ValueError: an argument is out of range.
    """
    want = _shape_args(requests, tokens, layers, experts, top_k)
    arr = read_trace(Path(path), want)
    return ActivationTrace(experts=arr, num_experts=want[3])


# ---------------------------------------------------------------------------------------------
# Argument checks


def _count(name: str, value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    try:
        n = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}") from None
    if n < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {n}")
    return n


def _real(name: str, value: object) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number, got {value!r}") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return x


def _shape_args(requests: int, tokens: int, layers: int, experts: int,
                top_k: int) -> tuple[int, int, int, int, int]:
    r = _count("requests", requests)
    t = _count("tokens", tokens)
    l = _count("layers", layers)
    e = _count("experts", experts)
    k = _count("top_k", top_k)
    if k > e:
        raise ValueError(f"top_k must be in [1, experts] = [1, {e}], got {k}")
    return r, t, l, e, k
