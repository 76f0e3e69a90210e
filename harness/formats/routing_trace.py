"""Routing traces of real serving engines -> the harness's activation trace (``activation_trace.py``).

The input is what vLLM's ``--enable-return-routed-experts`` and Megatron-LM's routing-trace option
record for a stretch of generated tokens: one ``.npy`` integer array ``[tokens, layers, top_k]``,
the expert ids each token's router chose in each MoE layer (slot 0 its first choice). The layer
axis holds either the MoE layers only, or every layer of a model with dense layers (their rows
are ignored: :func:`convert_routed_experts`'s ``moe_layers`` names the MoE rows).

The output is an ``[R, T, L, k]`` activation trace: the tokens cut into R requests of T tokens in
order (a remainder shorter than T is left out), ready for ``activations.kind: file``.

A malformed file is refused in one line naming the problem and the fix: not a ``.npy`` array, a
rank other than 3, NaN or other non-integral values, an expert id outside [0, experts), a token
routed twice to one expert in a layer, fewer tokens than one request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from harness.errors import TraceError
from harness.formats.activation_trace import write_trace
from harness.formats.files import MAX_DATA_BYTES


def read_routed_experts(path: Path, num_experts: int) -> np.ndarray:
    """The ``[tokens, layers, top_k]`` int32 routing trace of ``path``, checked; TraceError (one line)."""
    path = Path(path)
    if path.suffix.lower() != ".npy":
        raise TraceError(f"{path}: a routing trace is a .npy array [tokens, layers, top_k]; save it with numpy.save")
    if not path.is_file():
        raise TraceError(f"{path}: routing trace not found; check the path")
    if path.stat().st_size > MAX_DATA_BYTES:
        raise TraceError(f"{path}: the trace is {path.stat().st_size} bytes, more than {MAX_DATA_BYTES}; keep "
                         f"fewer tokens")
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:  # numpy raises ValueError, OSError, EOFError... for a bad file
        raise TraceError(f"{path}: not a readable .npy array ({' '.join(str(exc).split())[:80]}); re-save it "
                         f"with numpy.save as an integer array [tokens, layers, top_k]") from None
    if not isinstance(arr, np.ndarray):
        if hasattr(arr, "close"):
            arr.close()
        raise TraceError(f"{path}: holds a {type(arr).__name__}, not one array; save one array [tokens, layers, "
                         f"top_k] with numpy.save")
    if arr.ndim != 3:
        raise TraceError(f"{path}: the array has rank {arr.ndim} (shape {arr.shape}), expected rank 3 [tokens, "
                         f"layers, top_k]; one request's routed experts, as vLLM and Megatron record them")
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TraceError(f"{path}: holds {arr.dtype} values, expected integer expert ids; save an integer array")
    if np.issubdtype(arr.dtype, np.floating):
        bad = np.argwhere(~np.isfinite(arr) | (arr != np.round(arr)))
        if bad.size:
            t, l, s = (int(i) for i in bad[0])
            raise TraceError(f"{path}: value {arr[t, l, s]} at token {t}, layer {l}, slot {s} is not an expert id "
                             f"(NaN, infinite or fractional); drop the tokens that were not routed")
    if 0 in arr.shape:
        raise TraceError(f"{path}: the array {arr.shape} is empty; record at least one token")
    bad = np.argwhere((arr < 0) | (arr >= num_experts))
    if bad.size:
        t, l, s = (int(i) for i in bad[0])
        raise TraceError(f"{path}: expert id {arr[t, l, s]:g} at token {t}, layer {l}, slot {s} is outside "
                         f"[0, {num_experts}); give the traced model's expert count (--experts)")
    ids = arr.astype(np.int32)
    ordered = np.sort(ids, axis=2)
    twice = np.argwhere((ordered[:, :, 1:] == ordered[:, :, :-1]))
    if twice.size:
        t, l, _ = (int(i) for i in twice[0])
        raise TraceError(f"{path}: token {t} is routed to one expert twice in layer {l} ({ids[t, l].tolist()}); "
                         f"a router's top-k are distinct experts")
    return ids


def convert_routed_experts(source: Path, out: Path, *, num_experts: int, tokens_per_request: int,
                           moe_layers: Optional[Sequence[int]] = None, top_k: Optional[int] = None) -> np.ndarray:
    """Convert the routing trace ``source`` into the activation trace ``out`` (.npy or .csv) and return
    it, ``[R, T, L, k]``. ``moe_layers``: the rows of the layer axis that are MoE layers, when it holds
    every layer (None: every row is one). ``top_k``: the model's k (None: the trace's); a trace with
    more slots keeps the first k (its best choices), one with fewer is refused."""
    ids = read_routed_experts(source, num_experts)
    if moe_layers is not None and ids.shape[1] != len(moe_layers):
        if max(moe_layers) >= ids.shape[1]:
            raise TraceError(f"{source}: the trace has {ids.shape[1]} layers but the model has {len(moe_layers)} "
                             f"MoE layers (up to layer {max(moe_layers)}); give the traced model's preset")
        ids = ids[:, list(moe_layers)]
    if top_k is not None:
        if ids.shape[2] < top_k:
            raise TraceError(f"{source}: the trace routes each token to {ids.shape[2]} experts per layer, fewer "
                             f"than the model's top_k {top_k}; give the traced model's top_k")
        ids = ids[:, :, :top_k]
    requests = ids.shape[0] // tokens_per_request
    if requests == 0:
        raise TraceError(f"{source}: {ids.shape[0]} tokens, fewer than one request of {tokens_per_request}; lower "
                         f"--tokens-per-request")
    trace = np.ascontiguousarray(ids[:requests * tokens_per_request].reshape(
        requests, tokens_per_request, ids.shape[1], ids.shape[2]))
    write_trace(trace, out)
    return trace
