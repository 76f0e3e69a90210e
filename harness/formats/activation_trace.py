"""The activation trace files: which experts each token activates, per request, token and layer.

* ``.npy``: an integer array ``[R, T, L, k]``, or ``[T, L, k]`` for a single request; read with
  ``allow_pickle=False`` (an object array is refused, never unpickled).
* ``.csv``: the header ``request,token,layer,slot,expert`` then one line per activation, in any
  order; blank lines are ignored.  ``slot`` is the choice rank (0 = first choice).

:func:`read_trace` checks a file against the scenario's shape (see harness/workload/activations.py,
:func:`~harness.workload.activations.load_trace`); every problem is a TraceError of one line
``"<path>: <problem>; <fix>"``. :func:`write_trace` writes either form.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from harness.errors import TraceError
from harness.formats.files import MAX_DATA_BYTES, read_text_file

# The header line of a CSV trace; its columns, in this order.
_CSV_HEADER = "request,token,layer,slot,expert"
_CSV_COLUMNS = tuple(_CSV_HEADER.split(","))
# CSV lines quoted in error messages are cut to this many characters.
_QUOTE_CHARS = 60


def write_trace(experts: np.ndarray, path: Path) -> None:
    """Write an ``[R, T, L, k]`` trace to ``path``: ``.npy`` (the array) or ``.csv`` (long form)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        with open(path, "wb") as fh:  # np.save(str) would append ".npy" to an upper-case suffix
            np.save(fh, experts, allow_pickle=False)
    elif suffix == ".csv":
        r, t, l, k = experts.shape
        index = np.indices((r, t, l, k)).reshape(4, -1)
        rows = np.column_stack([index.T, experts.reshape(-1)])
        np.savetxt(path, rows, fmt="%d", delimiter=",", header=_CSV_HEADER, comments="")
    else:
        raise TraceError(f"{path}: cannot write a trace as '{path.suffix}'; name the file .npy or .csv")


def read_trace(path: Path, want: tuple[int, int, int, int, int]) -> np.ndarray:
    """The ``[R, T, L, k]`` int32 window of a trace file that a scenario of ``want = (R, T, L, E, k)``
    uses, or TraceError."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".csv"):
        raise TraceError(f"{path}: unknown trace format '{path.suffix}'; use a .npy array [R, T, L, k] "
                         f"or a .csv with the header '{_CSV_HEADER}'")
    if not path.is_file():
        raise TraceError(f"{path}: trace file not found; check the path (activations.path is relative "
                         f"to the scenario file)")
    if path.stat().st_size > MAX_DATA_BYTES:
        raise TraceError(f"{path}: the trace is {path.stat().st_size} bytes, more than {MAX_DATA_BYTES}; "
                         f"keep only the requests and tokens the scenario needs")
    if suffix == ".npy":
        arr = _read_npy(path, want)
    else:
        arr = _read_csv(path, want)
    return arr


def _read_npy(path: Path, want: tuple[int, int, int, int, int]) -> np.ndarray:
    requests, tokens, layers, num_experts, top_k = want
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:  # numpy raises ValueError, OSError, EOFError... for a bad file
        raise TraceError(f"{path}: not a readable .npy array ({_one_line(exc)}); re-save it with "
                         f"numpy.save as an integer array [R, T, L, k]") from None
    if not isinstance(arr, np.ndarray):
        if hasattr(arr, "close"):
            arr.close()  # an .npz archive keeps its file open
        raise TraceError(f"{path}: holds a {type(arr).__name__}, not a single array; save one integer array "
                         f"[R, T, L, k] with numpy.save")
    if not np.issubdtype(arr.dtype, np.integer):
        raise TraceError(f"{path}: holds {arr.dtype} values, expected integer expert ids; save the array "
                         f"with an integer dtype")
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4:
        raise TraceError(f"{path}: array has shape {arr.shape}, expected [R, T, L, k] or [T, L, k]; "
                         f"reshape it before saving")
    _check_extent(path, arr.shape, want)
    if arr.size:
        bad = np.argwhere((arr < 0) | (arr >= num_experts))
        if bad.size:
            where = tuple(int(i) for i in bad[0])
            raise TraceError(f"{path}: expert id {int(arr[where])} at request {where[0]}, token {where[1]}, "
                             f"layer {where[2]}, slot {where[3]} is outside [0, {num_experts}); "
                             f"set model.experts to the traced model's or fix the trace")
    window = np.ascontiguousarray(arr[:requests, :tokens], dtype=np.int32)
    _check_distinct(path, window)
    return window


def _read_csv(path: Path, want: tuple[int, int, int, int, int]) -> np.ndarray:
    requests, tokens, layers, num_experts, top_k = want
    text = read_text_file(path, "activation trace", TraceError, MAX_DATA_BYTES)
    lines = text.splitlines()
    if not lines or [c.strip().lower() for c in lines[0].split(",")] != list(_CSV_COLUMNS):
        first = lines[0] if lines else ""
        raise TraceError(f"{path}: line 1 is {_quote(first)}, expected the header '{_CSV_HEADER}'; "
                         f"add that header line")
    numbered = [(n, line) for n, line in enumerate(lines[1:], start=2) if line.strip()]
    if not numbered:
        raise TraceError(f"{path}: no activation rows after the header; add one line per activation "
                         f"({_CSV_HEADER})")
    line_no = np.fromiter((n for n, _ in numbered), dtype=np.int64, count=len(numbered))
    rows = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows = np.loadtxt([line for _, line in numbered], delimiter=",", dtype=np.int64,
                              ndmin=2, comments=None)
    except ValueError:
        pass
    if rows is None or rows.shape != (len(numbered), len(_CSV_COLUMNS)):
        for n, line in numbered:
            if _parse_csv_line(line) is None:
                raise TraceError(f"{path}: line {n}: expected {len(_CSV_COLUMNS)} integers "
                                 f"{_CSV_HEADER}, got {_quote(line)}; fix or remove that line")
        raise TraceError(f"{path}: could not parse the rows as integers; check the file is a CSV with "
                         f"the header '{_CSV_HEADER}'")

    for col, name in enumerate(_CSV_COLUMNS[:4]):
        neg = np.flatnonzero(rows[:, col] < 0)
        if neg.size:
            i = neg[0]
            raise TraceError(f"{path}: line {line_no[i]}: negative {name} {rows[i, col]}; "
                             f"{name} indices start at 0")
    ids = rows[:, 4]
    bad = np.flatnonzero((ids < 0) | (ids >= num_experts))
    if bad.size:
        i = bad[0]
        raise TraceError(f"{path}: line {line_no[i]}: expert id {ids[i]} is outside [0, {num_experts}); "
                         f"set model.experts to the traced model's or fix the trace")

    order = np.lexsort(rows[:, 3::-1].T)  # by request, then token, layer, slot
    key = rows[order, :4]
    same = np.flatnonzero(np.all(key[1:] == key[:-1], axis=1))
    if same.size:
        a, b = sorted((line_no[order[same[0]]], line_no[order[same[0] + 1]]))
        r, t, l, s = (int(v) for v in key[same[0]])
        raise TraceError(f"{path}: line {b}: request {r}, token {t}, layer {l}, slot {s} is already given on "
                         f"line {a}; remove one of the two lines")

    extent = tuple(int(v) + 1 for v in rows[:, :4].max(axis=0))
    _check_extent(path, extent, want)

    keep = (rows[:, 0] < requests) & (rows[:, 1] < tokens)
    kept = rows[keep]
    window = np.zeros((requests, tokens, layers, top_k), dtype=np.int32)
    present = np.zeros(window.shape, dtype=bool)
    idx = tuple(kept[:, c] for c in range(4))
    window[idx] = kept[:, 4]
    present[idx] = True
    if not present.all():
        missing = np.argwhere(~present)
        r, t, l, s = (int(v) for v in missing[0])
        raise TraceError(f"{path}: no line for request {r}, token {t}, layer {l}, slot {s} ({len(missing)} "
                         f"of the {present.size} needed activations are missing); add the missing lines or "
                         f"lower traffic.requests / traffic.tokens_per_request")
    _check_distinct(path, window)
    return window


def _parse_csv_line(line: str) -> tuple[int, ...] | None:
    """The five integers of a CSV data line, or ``None`` if it is malformed."""
    fields = line.split(",")
    if len(fields) != len(_CSV_COLUMNS):
        return None
    try:
        values = tuple(int(f.strip()) for f in fields)
    except ValueError:
        return None
    if any(not -(2**63) <= v < 2**63 for v in values):
        return None
    return values


def _check_extent(path: Path, extent: tuple[int, ...], want: tuple[int, int, int, int, int]) -> None:
    """Raise unless a file of ``extent = (R, T, L, k)`` can serve the scenario's shape."""
    requests, tokens, layers, _, top_k = want
    r, t, l, k = extent
    if l != layers:
        raise TraceError(f"{path}: the trace has {l} layers, the scenario needs {layers}; set model.layers "
                         f"to {l} or use a trace of a {layers}-layer model")
    if k != top_k:
        raise TraceError(f"{path}: the trace activates {k} experts per token and layer, the scenario needs "
                         f"top_k = {top_k}; set model.top_k to {k} or use a top-{top_k} trace")
    if r < requests:
        raise TraceError(f"{path}: the trace has {r} requests, the scenario needs {requests}; lower "
                         f"traffic.requests to at most {r} or record more requests")
    if t < tokens:
        raise TraceError(f"{path}: the trace has {t} tokens per request, the scenario needs {tokens}; lower "
                         f"traffic.tokens_per_request to at most {t} or record longer requests")


def _check_distinct(path: Path, window: np.ndarray) -> None:
    bad = _first_repeated_row(window)
    if bad is not None:
        raise TraceError(f"{path}: request {bad[0]}, token {bad[1]}, layer {bad[2]} activates the same "
                         f"expert twice {window[bad].tolist()}; each token must activate {window.shape[3]} "
                         f"distinct experts per layer")


def _first_repeated_row(arr: np.ndarray) -> tuple[int, int, int] | None:
    """Index ``(r, t, l)`` of the first row of ``arr[R, T, L, k]`` with a repeated id, else ``None``."""
    if arr.shape[3] < 2 or arr.size == 0:
        return None
    s = np.sort(arr, axis=3)
    rep = np.any(s[..., 1:] == s[..., :-1], axis=3)
    hits = np.argwhere(rep)
    if hits.size == 0:
        return None
    return tuple(int(v) for v in hits[0])


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _quote(line: str) -> str:
    if len(line) > _QUOTE_CHARS:
        line = line[:_QUOTE_CHARS] + "..."
    return repr(line)
