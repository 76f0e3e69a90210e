"""The on-disk formats of a run's results: one module owns them all.

A results directory holds:

- ``tokens.csv``: one row per token: ``strategy, request, token, t_start_ns, t_end_ns,
  latency_ns, analytic_ns, compute_ns, serialization_ns, propagation_ns``. Times are simulated
  integer ns; ``t_end_ns`` and ``latency_ns`` are -1 for a token that did not complete before the
  run's horizon. ``analytic_ns`` is the analytic model's latency of the token (no queueing) and the
  last three split it into compute, transmission and propagation on the critical path (-1 where
  the model has no route); ``latency_ns - analytic_ns`` is the queueing the packet engine saw
  (with ``simulation.analytic_queueing`` on, the model queues a token's own messages for their
  shared links, and the difference is the queueing between requests and snapshot effects).
  With any of ``faults`` on (retransmission or satellite failures) three columns follow:
  ``retransmissions`` (messages resent on behalf of the token), ``status`` (``completed``,
  ``failed``, ``cancelled`` or ``unfinished``) and ``reason`` (words, empty when completed; see
  :func:`harness.simulate.packet.token_outcomes`). Without faults the file is as before.
- ``layers.csv``: one row per token and layer: ``strategy, request, token, layer, gateway_sat,
  expert_0..expert_{k-1}, expert_sat_0..expert_sat_{k-1}, t_combine_ns`` where ``t_combine_ns``
  is when the gateway of the next layer (layer 0 after the last) had all k expert outputs of this
  layer (-1 if never).
- ``run.json``: the scenario's name and seed, and per strategy the packet counters and the pairs
  of components that had no route in some snapshot.
- ``placements.json``: per strategy, the satellite of every gateway and expert and the ring
  subnet of every satellite (-1: none).
- ``satellites.csv``: ``sat, plane, slot, lat_deg, lon_deg`` at the first snapshot (geocentric,
  Earth-fixed), for maps.
- ``network.npz``: every snapshot's satellite positions and the ISLs' states and delays, for
  ``python -m harness report`` (:mod:`harness.formats.network`).
- ``summary.json``: derived from the files above by :func:`harness.analysis.summary.summarize`, so
  ``python -m harness analyze DIR`` rebuilds it exactly.
- ``scenario.yaml``: a copy of the scenario file that was run.
- ``plots/``: ``latency_cdf.png``, ``layer_latency.png``, ``placement_map.png``.
- With ``power.enabled``: ``energy.csv``, ``sunlit.csv``, ``power.json`` and two more plots
  (:mod:`harness.formats.power`).

``python -m harness topology`` writes one ``.npz`` (numpy's zip of arrays, readable with
``numpy.load`` or any zip + .npy reader), see :func:`topology_npz_arrays`.

Results are written all at once, after the whole run succeeded: files are first written into a
temporary folder next to the target, then moved into place, so a failed run leaves nothing
half-written. The default results directory is ``results/<name>`` with the scenario's name
sanitised (:func:`harness.formats.default_results_dir`), so no name can point outside ``results/``.

:func:`read_results` reads a results directory back strictly, through the readers of
:mod:`harness.formats` (every on-disk format and its strict reader are there or here): a missing,
oversized, binary or malformed file is a :class:`~harness.errors.ResultsError` whose one line names
the file, the field and the fix.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import numpy as np

from harness.errors import HarnessError, ResultsError
from harness.formats.files import MAX_CONFIG_BYTES, MAX_DATA_BYTES, read_json_file, read_text_file, show as _show

TOKEN_COLUMNS = ("request", "token", "t_start_ns", "t_end_ns", "latency_ns", "analytic_ns", "compute_ns",
                 "serialization_ns", "propagation_ns")
#: tokens.csv column present only with routing.no_route 'wait': the analytic critical path's time
#: held for want of a route.
WAIT_COLUMNS = ("route_wait_ns",)
#: tokens.csv columns present only when faults are on; the last two are text.
FAULT_COLUMNS = ("retransmissions", "status", "reason")
TEXT_COLUMNS = ("status", "reason")


@dataclass(frozen=True)
class StrategyTrace:
    """The records of one strategy's run, ready to write."""

    strategy: str
    token_start_ns: np.ndarray  # [R, T]
    token_end_ns: np.ndarray    # [R, T]
    combine_ns: np.ndarray      # [R, T, L]
    activations: np.ndarray     # [R, T, L, k] expert ids
    gateways: np.ndarray        # [L] satellites
    experts: np.ndarray         # [L, E] satellites
    subnets: np.ndarray         # [N] ring subnet of each satellite, -1 none
    analytic_ns: np.ndarray     # [R, T] analytic latency, -1 where unroutable
    compute_ns: np.ndarray      # [R, T] analytic critical-path compute
    serialization_ns: np.ndarray  # [R, T] analytic critical-path transmission
    propagation_ns: np.ndarray  # [R, T] analytic critical-path propagation
    counters: dict              # packet counters and unreachable pairs of the run
    retransmissions: Optional[np.ndarray] = None  # [R, T] with faults on, else None
    status: Optional[np.ndarray] = None           # [R, T] str, with faults on
    reason: Optional[np.ndarray] = None           # [R, T] str, with faults on
    route_wait_ns: Optional[np.ndarray] = None    # [R, T] analytic time held for a route, with no_route 'wait'
    serving: Optional[dict] = None  # serving runs: requests.csv's table and status, busy_ns [N], replica [R],
    #                                 replica_gateways [P, L], replica_experts [P, L, E]
    shards: Optional[np.ndarray] = None           # [L, H] helper shards of tensor-parallel layers (-1 padded)
    replicas: Optional[np.ndarray] = None         # [L, E, R] copies of each expert (-1 padded)
    power: Optional[object] = None  # with power.enabled: harness.simulate.packet.PowerRecords
    occupied: Optional[np.ndarray] = None  # satellites holding a component (any replica): energy.csv's rows

    @property
    def latency_ns(self) -> np.ndarray:
        done = (self.token_end_ns >= 0) & (self.token_start_ns >= 0)
        return np.where(done, self.token_end_ns - self.token_start_ns, -1)


# ---------------------------------------------------------------------------------------------
# Writing


def tokens_csv(traces: list[StrategyTrace], out=None) -> Optional[str]:
    """tokens.csv's text; or, given a text file ``out``, written into it a block of rows at a time
    (the same characters: a long run's text never held whole) and None returned."""
    whole = out is None
    out = io.StringIO() if whole else out
    faults = bool(traces) and traces[0].status is not None
    wait = bool(traces) and traces[0].route_wait_ns is not None
    out.write("strategy," + ",".join(TOKEN_COLUMNS + (WAIT_COLUMNS if wait else ())
                                     + (FAULT_COLUMNS if faults else ())) + "\n")
    for tr in traces:
        requests, tokens = tr.token_start_ns.shape
        r, t = np.meshgrid(np.arange(requests), np.arange(tokens), indexing="ij")
        table = np.column_stack([a.ravel() for a in (r, t, tr.token_start_ns, tr.token_end_ns, tr.latency_ns,
                                                     tr.analytic_ns, tr.compute_ns, tr.serialization_ns,
                                                     tr.propagation_ns)])
        if wait:
            table = np.column_stack([table, tr.route_wait_ns.ravel()])
        keep = _kept_tokens(tr)
        if faults:
            table = np.column_stack([table, tr.retransmissions.ravel()])
            suffixes = [f",{st},{why}" for st, why, k in zip(tr.status.ravel(), tr.reason.ravel(), keep) if k]
            _write_rows(out, tr.strategy, table[keep], suffixes)
        else:
            _write_rows(out, tr.strategy, table[keep])
    return out.getvalue() if whole else None


def _kept_tokens(tr: StrategyTrace) -> np.ndarray:
    """``[R x T]`` bool: the tokens a request runs (serving runs: its first output_tokens[r]; else all)."""
    requests, tokens = tr.token_start_ns.shape
    if tr.serving is None:
        return np.ones(requests * tokens, dtype=bool)
    return (np.arange(tokens)[None, :] < np.asarray(tr.serving["output_tokens"])[:, None]).ravel()


def layers_csv(traces: list[StrategyTrace], out=None) -> Optional[str]:
    """layers.csv's text; or, given a text file ``out``, written into it a block of rows at a time
    (the same characters: a long run's millions of rows never held as one text) and None returned."""
    whole = out is None
    out = io.StringIO() if whole else out
    top_k = traces[0].activations.shape[-1] if traces else 0
    out.write(",".join(layer_columns(top_k)) + "\n")
    for tr in traces:
        requests, tokens, layers, k = tr.activations.shape
        all_ids = tr.activations.reshape(-1, k)
        all_combine = tr.combine_ns.reshape(-1)
        kept = np.flatnonzero(np.repeat(_kept_tokens(tr), layers))  # rows (r, t, l) in order
        for first in range(0, len(kept), _ROW_BLOCK):  # the table one block of rows at a time
            rows = kept[first:first + _ROW_BLOCK]
            r, t, layer = rows // (tokens * layers), rows // layers % tokens, rows % layers
            expert_ids = all_ids[rows]
            if tr.serving is not None:  # each request on its replica's satellites
                rep_of = tr.serving["replica"][r]
                gateway_sats = tr.serving["replica_gateways"][rep_of, layer]
                expert_sats = tr.serving["replica_experts"][rep_of[:, None], layer[:, None], expert_ids]
            else:
                gateway_sats = tr.gateways[layer]
                expert_sats = tr.experts[layer[:, None], expert_ids]
            _write_rows(out, tr.strategy, np.column_stack([r, t, layer, gateway_sats, expert_ids, expert_sats,
                                                           all_combine[rows]]))
    return out.getvalue() if whole else None


def layer_columns(top_k: int) -> list[str]:
    return (["strategy", "request", "token", "layer", "gateway_sat"] + [f"expert_{j}" for j in range(top_k)]
            + [f"expert_sat_{j}" for j in range(top_k)] + ["t_combine_ns"])


def _write_rows(out: io.StringIO, strategy: str, table: np.ndarray, suffixes: Optional[list[str]] = None) -> None:
    # In blocks of rows: a long run's millions of rows never exist as text twice (the same lines).
    # Each row's cells through one "%d,%d,..." format of Python ints: np.savetxt's text (the
    # reference, _savetxt_rows), a third of its time.
    prefix = strategy + ","
    cells = ",".join(["%d"] * (table.shape[1] if table.ndim == 2 else 1))
    for first in range(0, len(table), _ROW_BLOCK):
        rows = table[first:first + _ROW_BLOCK].astype(np.int64).reshape(-1, 1 if table.ndim == 1 else
                                                                         table.shape[1]).tolist()
        if suffixes is None:
            out.writelines([prefix + cells % tuple(row) + "\n" for row in rows])
        else:
            out.writelines([prefix + cells % tuple(row) + suffix + "\n"
                            for row, suffix in zip(rows, suffixes[first:first + _ROW_BLOCK])])


def _savetxt_rows(out: io.StringIO, strategy: str, table: np.ndarray, suffixes: Optional[list[str]] = None) -> None:
    """:func:`_write_rows` through np.savetxt (the code before issue 23's writing phase; the tests' reference)."""
    prefix = strategy + ","
    for first in range(0, len(table), _ROW_BLOCK):
        body = io.StringIO()
        np.savetxt(body, table[first:first + _ROW_BLOCK].astype(np.int64), fmt="%d", delimiter=",")
        lines = body.getvalue().splitlines()
        if suffixes is not None:
            lines = [line + suffix for line, suffix in zip(lines, suffixes[first:first + _ROW_BLOCK])]
        out.writelines(prefix + line + "\n" for line in lines)


#: Rows per block of _write_rows.
_ROW_BLOCK = 65536


def run_json(name: str, seed: int, traces: list[StrategyTrace]) -> str:
    return _json({"scenario": name, "seed": seed, "strategies": {tr.strategy: tr.counters for tr in traces}})


def placements_json(traces: list[StrategyTrace]) -> str:
    def entry(tr: StrategyTrace) -> dict:
        plan = {"gateways": tr.gateways.tolist(), "experts": tr.experts.tolist(), "subnets": tr.subnets.tolist()}
        if tr.shards is not None:  # [L] lists of each layer's helper shards (tensor-parallel strategies)
            plan["shards"] = [[int(v) for v in row if v >= 0] for row in np.asarray(tr.shards)]
        if tr.replicas is not None:  # [L] lists of [E] lists of each expert's copies
            plan["replicas"] = [[[int(v) for v in c if v >= 0] for c in row] for row in np.asarray(tr.replicas)]
        return plan

    return _json({tr.strategy: entry(tr) for tr in traces})


def satellites_csv(plane: np.ndarray, slot: np.ndarray, lat_deg: np.ndarray, lon_deg: np.ndarray) -> str:
    out = io.StringIO()
    out.write("sat,plane,slot,lat_deg,lon_deg\n")
    for n in range(len(plane)):
        out.write(f"{n},{plane[n]},{slot[n]},{lat_deg[n]:.4f},{lon_deg[n]:.4f}\n")
    return out.getvalue()


def summary_json(summary: dict) -> str:
    return _json(summary)


def _json(value: dict) -> str:
    return json.dumps(value, indent=2) + "\n"


@contextlib.contextmanager
def staged_directory(out_dir: Path) -> Iterator[Path]:
    """A temporary folder to write results into (inside ``out_dir`` if it exists, else next to
    it); when the block succeeds, its files move into ``out_dir`` (replacing files of the same
    name), and on failure it is removed, so nothing is left half-written."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # Stage on the same file system as the target, so that the final moves are renames: inside an
    # existing out_dir (which may be a mount point, e.g. a container's /results), else beside it.
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir if out_dir.is_dir() else out_dir.parent))
    try:
        yield staging
        if out_dir.exists():
            for path in sorted(p for p in staging.rglob("*") if p.is_file()):
                target = out_dir / path.relative_to(staging)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
            shutil.rmtree(staging)
        else:
            staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_streamed(directory: Path, name: str, write: Callable[[Any], None]) -> None:
    """Write the text file ``name`` in ``directory`` as :func:`write_files` writes a text (the same
    bytes, atomically), its text given piece by piece: ``write(f)`` writes it into the open file
    ``f`` (e.g. ``lambda f: layers_csv(traces, f)``)."""
    target = Path(directory) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.tmp")
    with staging.open("w") as f:  # Path.write_text's mode, encoding and newlines
        write(f)
    os.replace(staging, target)


def write_files(directory: Path, files: dict[str, str | bytes]) -> None:
    """Write ``files`` (relative name -> text or bytes) into ``directory``, each one atomically
    (a temporary file renamed over the target)."""
    for name, content in files.items():
        target = Path(directory) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.tmp")
        if isinstance(content, bytes):
            staging.write_bytes(content)
        else:
            staging.write_text(content)
        os.replace(staging, target)


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class Results:
    """A results directory read back: per strategy, the columns of tokens.csv and layers.csv."""

    scenario: str
    seed: int
    tokens: dict[str, dict[str, np.ndarray]]   # strategy -> column -> [rows]
    layers: dict[str, dict[str, np.ndarray]]   # strategy -> column -> [rows]
    counters: dict[str, dict]                  # strategy -> run.json entry
    placements: dict[str, dict]                # strategy -> placements.json entry
    satellites: Optional[dict[str, np.ndarray]]


def read_results(directory: Path, layer_columns: Optional[tuple] = None) -> Results:
    """Read a results directory written by ``python -m harness run``, strictly: a missing or
    malformed file raises :class:`~harness.errors.ResultsError` naming the file, the field and the fix.

    ``layer_columns``: keep only these of layers.csv's columns (request, token and layer always),
    e.g. what the summary and plots read: every row is still read and checked, but a long run's
    table is held narrower (the same values)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ResultsError(f"results directory {_show(str(directory))} not found; give the --out folder of a "
                           f"'harness run'")
    for name in ("tokens.csv", "layers.csv", "run.json"):
        if not (directory / name).is_file():
            raise ResultsError(f"{directory} has no {name}: is it a results directory of 'harness run'? "
                               f"(run the scenario again to rewrite it)")
    run = _read_run_json(directory / "run.json")
    tokens = _read_tokens_csv(directory / "tokens.csv")
    layers = _read_layers_csv(directory / "layers.csv", tokens, layer_columns)
    satellites = None
    if (directory / "satellites.csv").is_file():
        satellites = _read_satellites_csv(directory / "satellites.csv")
    placements = {}
    if (directory / "placements.json").is_file():
        placements = _read_placements_json(directory / "placements.json", layers,
                                           None if satellites is None else len(satellites["sat"]))
        for name, plan in placements.items():
            if name in layers and len(plan["gateways"]) != int(layers[name]["layer"].max()) + 1:
                raise ResultsError(f"{directory / 'layers.csv'}: strategy '{name}' has "
                                   f"{int(layers[name]['layer'].max()) + 1} layers but placements.json has "
                                   f"{len(plan['gateways'])} gateways; run the scenario again")
    return Results(scenario=run["scenario"], seed=run["seed"], tokens=tokens, layers=layers,
                   counters=run["strategies"], placements=placements, satellites=satellites)


def _fail(path: Path, problem: str, error: type = ResultsError) -> HarnessError:
    return error(f"{path}: {problem}")


def _read_run_json(path: Path) -> dict:
    fix = "run the scenario again to rewrite it"
    run = read_json_file(path, "run.json", ResultsError, MAX_CONFIG_BYTES * 64)
    if not isinstance(run, dict):
        raise _fail(path, f"must be a JSON object with keys scenario, seed, strategies; {fix}")
    for key, kind in (("scenario", str), ("seed", int), ("strategies", dict)):
        if not isinstance(run.get(key), kind) or isinstance(run.get(key), bool):
            raise _fail(path, f"field '{key}' is missing or not a {kind.__name__}; {fix}")
    for name, counters in run["strategies"].items():
        if not isinstance(counters, dict):
            raise _fail(path, f"field 'strategies.{name}' must be an object of packet counters; {fix}")
    return run


def _csv_rows(path: Path, header: list[str], what: str, text: Optional[str] = None) -> list:
    if text is None:
        text = read_text_file(path, what, ResultsError, MAX_DATA_BYTES)
    lines = text.splitlines()
    if not lines or lines[0].strip().split(",") != header:
        first = _show(lines[0] if lines else "")
        raise _fail(path, f"line 1 is {first}, expected the header '{','.join(header)}'; the file is not one "
                          f"'harness run' wrote: run the scenario again")
    rows = []
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split(",")
        if len(cells) != len(header):
            raise _fail(path, f"line {n} has {len(cells)} fields, the header {len(header)}; fix or remove that line")
        rows.append((n, cells))
    return rows


def _ints(cells: list[str]) -> np.ndarray:
    """[len(cells)] int64 of decimal text cells; ValueError (or OverflowError) on a cell that is not
    one. Straight from the strings: what ``np.array(cells, dtype=str).astype(np.int64)`` gives and
    refuses (the reference), without the fixed-width string array and its slow cast (a 150 s
    serving run's layers.csv: ~200 -> ~60 ms)."""
    return np.array(cells, dtype=np.int64)


def _int_table(path: Path, rows: list, columns: list[str], first: int) -> np.ndarray:
    """The cells from column ``first`` on as int64, or ResultsError naming the line and column."""
    try:  # fast path, in blocks of rows (bounded string arrays); on a bad cell, the loop below names it
        with np.errstate(all="ignore"):
            table = np.empty((len(rows), len(columns) - first), dtype=np.int64)
            for start in range(0, len(rows), _ROW_BLOCK):
                block = rows[start:start + _ROW_BLOCK]
                table[start:start + len(block)] = _ints([cell for _, cells in block for cell in cells[first:]]).reshape(
                    len(block), len(columns) - first)
            return table
    except (ValueError, OverflowError):
        pass
    table = np.empty((len(rows), len(columns) - first), dtype=np.int64)
    for i, (n, cells) in enumerate(rows):
        for j, cell in enumerate(cells[first:]):
            try:
                value = int(cell)
            except ValueError:
                raise _fail(path, f"line {n}, column '{columns[first + j]}' is {_show(cell)}, not a whole "
                                  f"number; fix or remove that line") from None
            if not -(2**63) <= value < 2**63:
                raise _fail(path, f"line {n}, column '{columns[first + j]}' is out of the int64 range; fix "
                                  f"or remove that line")
            table[i, j] = value
    return table


def _fast_by_strategy(text: str, columns: list[str]) -> Optional[dict[str, dict[str, np.ndarray]]]:
    """:func:`_by_strategy` of an all-integer CSV (after the strategy column) parsed in blocks of
    rows, so a long run's millions of rows never exist as Python lists of cell strings (the
    writing phase's peak, issue 23); None on anything unusual (header, blank line, field count,
    empty name, a cell numpy cannot read), so the strict reader then names the problem."""
    newline = text.find("\n")
    after_header = len(text) if newline < 0 else newline + 1
    count = text.count("\n", after_header) + (0 if text.endswith("\n") else 1)
    if count < 1 or after_header >= len(text):
        return None

    def chunks():
        # Cut by slicing, not read through io.StringIO (a copy of the whole text at 4 bytes per
        # character): whole lines, about _PARSE_CHARS characters, through the end of the line
        # that holds the block's last character.
        start = after_header
        while start < len(text):
            cut = text.find("\n", start + _PARSE_CHARS - 1) if start + _PARSE_CHARS < len(text) else -1
            end = len(text) if cut < 0 else cut + 1
            yield text[start:end]
            start = end

    return _parse_blocks(text[:after_header], chunks(), count, columns)


def _fast_file_by_strategy(path: Path, columns: list[str],
                           keep: Optional[set] = None) -> Optional[dict[str, dict[str, np.ndarray]]]:
    """:func:`_fast_by_strategy` of the file at ``path``, read in blocks of bytes (about
    _PARSE_CHARS, whole lines): the whole text never exists at once (a long run's layers.csv
    is 100 MB and more). None also where :func:`~harness.formats.files.read_text_file` would
    refuse the file (too large, a NUL byte, not UTF-8), so the strict reader then names it."""
    try:
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size > MAX_DATA_BYTES:
                return None
            header = f.readline()
            if header.startswith(codecs.BOM_UTF8):
                header = header[len(codecs.BOM_UTF8):]
            after_header = f.tell()
            newlines, last = 0, b""
            while True:  # the rows, counted first: the table is allocated once
                data = f.read(_PARSE_CHARS)
                if not data:
                    break
                newlines, last = newlines + data.count(b"\n"), data[-1:]
            if not header.endswith(b"\n") or not last:
                return None
            count = newlines + (0 if last == b"\n" else 1)

            def chunks():
                f.seek(after_header)
                while True:
                    data = f.read(_PARSE_CHARS)
                    if not data:
                        return
                    if not data.endswith(b"\n"):
                        data += f.readline()  # through the end of the line ("\n" is no part of a UTF-8 sequence)
                    if b"\0" in data:
                        raise ValueError("a NUL byte")
                    yield data.decode("utf-8")

            if b"\0" in header:
                return None
            return _parse_blocks(header.decode("utf-8"), chunks(), count, columns, keep)
    except (OSError, ValueError):  # UnicodeDecodeError is a ValueError
        return None


def _parse_blocks(header: str, chunks, count: int, columns: list[str],
                  keep: Optional[set] = None) -> Optional[dict[str, dict[str, np.ndarray]]]:
    """The block parser of :func:`_fast_by_strategy`: ``chunks`` of whole lines after the header,
    ``count`` lines in all."""
    if header.strip().split(",") != columns:
        return None
    width = len(columns) - 1
    # the columns kept (``keep``; None: all), each read and checked like the others
    kept = [i for i, column in enumerate(columns[1:]) if keep is None or column in keep]
    narrow = len(kept) < width
    table = np.empty((count, len(kept)), dtype=np.int64)  # filled in place: no list of blocks to concatenate
    code_of = np.empty(count, dtype=np.int32)
    codes: dict[str, int] = {}
    done = 0
    try:
        with np.errstate(all="ignore"):
            for chunk in chunks:
                block = chunk.split("\n")
                if chunk.endswith("\n"):
                    block.pop()  # the empty string after the block's last newline
                if done + len(block) > count:
                    return None
                same = _one_head_cells(chunk, block, width)
                if same is not None:  # every line of one strategy (the usual block): no loop over lines
                    heads, cells = codes.setdefault(same[0], len(codes)), same[1]
                else:
                    heads, cells = [], []
                    for line in block:
                        head, sep, rest = line.rstrip("\r\n").partition(",")
                        if not head or not sep or rest.count(",") != width - 1:
                            return None
                        heads.append(codes.setdefault(head, len(codes)))
                        cells.append(rest)
                    cells = ",".join(cells).split(",")
                chunk = None
                values = _ints(cells)
                values = values.reshape(len(block), width)
                table[done:done + len(block)] = values[:, kept] if narrow else values
                code_of[done:done + len(block)] = heads
                done += len(block)
    except (ValueError, OverflowError):
        return None
    if done != count:
        return None
    out = {}
    for name, code in codes.items():
        picked = table if len(codes) == 1 else table[code_of == code]  # one strategy: no copy
        out[name] = {columns[1 + i]: picked[:, j] for j, i in enumerate(kept)}
    return out


def _one_head_cells(chunk: str, lines: list[str], width: int) -> Optional[tuple[str, list[str]]]:
    """(strategy, cells after it, row by row) of a block of whole lines (``chunk``, split into
    ``lines``) whose every line is that strategy's name, a comma and ``width`` cells (``width`` - 1
    commas), with no carriage return; None for any other block (the loop over lines then reads or
    refuses it). The same cells as that loop, found with string and array operations over the
    whole block."""
    if not lines or "\r" in chunk:
        return None
    head = lines[0].partition(",")[0]
    prefix = head + ","
    # a line starts at the block's start or after a newline: each of them starts with the prefix
    if not head or not chunk.startswith(prefix) or chunk.count("\n" + prefix) != len(lines) - 1:
        return None
    body = chunk[len(prefix):].replace("\n" + prefix, "\n")
    data = np.frombuffer(body.encode("utf-8"), dtype=np.uint8)  # "," and "\n" are single bytes in UTF-8
    newline = data == 10
    line_of = np.cumsum(newline) - newline  # each byte's line
    commas = np.bincount(line_of[data == 44], minlength=len(lines))
    if len(commas) != len(lines) or (commas != width - 1).any():
        return None
    cells = body.replace("\n", ",").split(",")
    if chunk.endswith("\n"):
        cells.pop()  # after the last newline
    return head, cells


#: Characters per block of _fast_by_strategy's parsing (its cell strings exist one block at a time),
#: rounded up to whole lines: about 4,000 rows of layers.csv.
_PARSE_CHARS = 1 << 18


def _by_strategy(path: Path, rows: list, columns: list[str]) -> dict[str, dict[str, np.ndarray]]:
    table = _int_table(path, rows, columns, 1)
    names = [cells[0] for _, cells in rows]
    for n, cells in rows:
        if not cells[0]:
            raise _fail(path, f"line {n} has an empty strategy name; fix or remove that line")
    out = {}
    for name in dict.fromkeys(names):
        picked = table[[i for i, x in enumerate(names) if x == name]]
        out[name] = {column: picked[:, i] for i, column in enumerate(columns[1:])}
    return out


def _read_tokens_csv(path: Path) -> dict[str, dict[str, np.ndarray]]:
    text = read_text_file(path, "tokens.csv", ResultsError, MAX_DATA_BYTES)
    header = text.split("\n", 1)[0].strip().split(",")
    columns = ["strategy", *TOKEN_COLUMNS]
    for optional in (WAIT_COLUMNS, FAULT_COLUMNS):  # with routing.no_route 'wait'; with faults on
        if header[len(columns):len(columns) + len(optional)] == list(optional):
            columns += optional
    rows = _csv_rows(path, columns, "tokens.csv", text)
    if not rows:
        raise _fail(path, "has no token rows; run the scenario again")
    words = [i for i, name in enumerate(columns) if name in TEXT_COLUMNS]
    numeric = [name for i, name in enumerate(columns) if i not in words]
    tokens = _by_strategy(path, [(n, [c for i, c in enumerate(cells) if i not in words]) for n, cells in rows],
                          numeric)
    for name in tokens:
        picked = [cells for _, cells in rows if cells[0] == name]
        for i in words:
            tokens[name][columns[i]] = np.array([cells[i] for cells in picked], dtype=str)
    for name, cols in tokens.items():
        if (cols["request"] < 0).any() or (cols["token"] < 0).any():
            raise _fail(path, f"strategy '{name}' has a negative request or token index; run the scenario again")
        pairs = set(zip(cols["request"].tolist(), cols["token"].tolist()))
        if len(pairs) != len(cols["request"]):
            raise _fail(path, f"strategy '{name}' lists a (request, token) twice; remove the repeated line")
    return tokens


def _read_layers_csv(path: Path, tokens: dict, keep: Optional[tuple] = None) -> dict[str, dict[str, np.ndarray]]:
    keep = None if keep is None else {"request", "token", "layer", *keep}
    layers = None
    try:  # the header's cells give top_k; the rows are read from the file in blocks
        with open(path, "rb") as f:
            header = f.readline(1 << 16).decode("utf-8-sig")
        layers = _fast_file_by_strategy(path, layer_columns(max((len(header.strip().split(",")) - 6) // 2, 1)), keep)
    except (OSError, ValueError):
        pass
    if layers is None:  # the whole text, and the strict reader names the problem
        text = read_text_file(path, "layers.csv", ResultsError, MAX_DATA_BYTES)
        newline = text.find("\n")
        top_k = (len(text[:newline if newline >= 0 else len(text)].strip().split(",")) - 6) // 2
        columns = layer_columns(max(top_k, 1))
        layers = _fast_by_strategy(text, columns)
        if layers is None:
            layers = _by_strategy(path, _csv_rows(path, columns, "layers.csv", text), columns)
        if keep is not None:
            layers = {name: {c: v for c, v in cols.items() if c in keep} for name, cols in layers.items()}
    for name, cols in tokens.items():
        if name not in layers:
            raise _fail(path, f"has no rows of strategy '{name}' (tokens.csv has); run the scenario again")
        got = layers[name]
        num_layers = int(got["layer"].max()) + 1 if got["layer"].size else 0
        if num_layers < 1 or (got["layer"] < 0).any() or len(got["layer"]) != len(cols["request"]) * num_layers:
            raise _fail(path, f"strategy '{name}' needs one row per token of tokens.csv and layer 0..L-1; "
                              f"run the scenario again")
        order = np.lexsort((got["layer"], got["token"], got["request"]))
        if not (got["layer"][order].reshape(-1, num_layers) == np.arange(num_layers)).all():
            raise _fail(path, f"strategy '{name}' does not give every token each layer 0..{num_layers - 1} once; "
                              f"run the scenario again")
        keys = np.column_stack([got["request"][order], got["token"][order]])[::num_layers]
        token_order = np.lexsort((cols["token"], cols["request"]))
        if not (keys == np.column_stack([cols["request"][token_order], cols["token"][token_order]])).all():
            raise _fail(path, f"strategy '{name}' has rows for tokens that tokens.csv does not list; run the "
                              f"scenario again")
    return layers


def _read_satellites_csv(path: Path) -> dict[str, np.ndarray]:
    columns = ["sat", "plane", "slot", "lat_deg", "lon_deg"]
    rows = _csv_rows(path, columns, "satellites.csv")
    try:
        table = np.array([[float(c) for c in cells] for _, cells in rows], dtype=np.float64).reshape(-1, 5)
    except ValueError:
        raise _fail(path, "holds a value that is not a number; run the scenario again") from None
    if not np.isfinite(table).all() or (table[:, 0] != np.arange(len(table))).any():
        raise _fail(path, "column 'sat' must count 0, 1, 2, ... with finite values; run the scenario again")
    return {name: table[:, i] for i, name in enumerate(columns)}


def _read_placements_json(path: Path, layers: dict, num_satellites: Optional[int]) -> dict:
    fix = "run the scenario again to rewrite it"
    plans = read_json_file(path, "placements.json", ResultsError, MAX_DATA_BYTES)
    if not isinstance(plans, dict):
        raise _fail(path, f"must be a JSON object of strategy -> placement; {fix}")
    for name, plan in plans.items():
        if not isinstance(plan, dict) or set(plan) - {"shards", "replicas"} != {"gateways", "experts", "subnets"}:
            raise _fail(path, f"field '{name}' must be an object with gateways, experts, subnets (and shards, "
                              f"replicas); {fix}")
        copies = [c for row in plan.get("replicas", []) if isinstance(row, list) for c in row]
        if not isinstance(plan.get("replicas", []), list) or not all(
                isinstance(c, list) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 and
                                            (num_satellites is None or v < num_satellites) for v in c)
                for c in copies):
            raise _fail(path, f"field '{name}.replicas' must be lists of lists of satellite ids; {fix}")
        shards = plan.get("shards", [])
        if not isinstance(shards, list) or not all(
                isinstance(row, list) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 and
                                              (num_satellites is None or v < num_satellites) for v in row)
                for row in shards):
            raise _fail(path, f"field '{name}.shards' must be lists of satellite ids of the constellation; {fix}")
        for key in ("gateways", "experts", "subnets"):
            try:
                values = np.asarray(plan[key], dtype=np.int64)
            except (TypeError, ValueError, OverflowError):
                raise _fail(path, f"field '{name}.{key}' must hold whole numbers; {fix}") from None
            want_dims = 2 if key == "experts" else 1
            if values.ndim != want_dims or (num_satellites is not None and values.size
                                            and (values.min() < -1 or values.max() >= num_satellites)):
                raise _fail(path, f"field '{name}.{key}' has the wrong shape or a satellite outside the "
                                  f"constellation of satellites.csv; {fix}")
        if num_satellites is not None and len(plan["subnets"]) not in (0, num_satellites):
            raise _fail(path, f"field '{name}.subnets' must have one entry per satellite of satellites.csv; {fix}")
    return plans


# ---------------------------------------------------------------------------------------------
# Topology export

#: Version of the topology export's layout; bumped when a field changes meaning.
TOPOLOGY_FORMAT_VERSION = 2  # 2: adds sunlit


def topology_npz_arrays(constellation, topology, sunlit: np.ndarray, *, scenario_name: str,
                        epoch_utc: str) -> dict[str, np.ndarray]:
    """The arrays of a topology export, by name:

    - ``format_version`` (int), ``scenario`` (str), ``epoch_utc`` (str, ISO 8601), ``frame`` (str:
      "TEME", SGP4's true-equator mean-equinox frame of date, Earth-centred), ``units`` (str);
    - ``times_s`` [S] float64: snapshot times after the epoch, s;
    - ``positions_m`` [S, N, 3] and ``velocities_m_s`` [S, N, 3] float64, TEME;
    - ``plane`` [N], ``slot`` [N] int32: satellite n is (plane, slot), n = plane * S + slot;
    - ``edges`` [L, 2] int32: the ISLs as satellite pairs;
    - ``length_m`` [S, L] float64, ``delay_ns`` [S, L] int64 (round(length / c));
    - ``feasible`` [S, L] bool (line of sight, tracking, polar rules), ``up`` [S, L] bool
      (feasible and not in an outage): the links the routes and the packet engine use;
    - ``sunlit`` [S, N] bool: satellite n in sunlight at snapshot s (skyfield's test, DE421;
      :func:`harness.constellation.sun.sunlit`).
    """
    assert sunlit.shape == constellation.positions_m.shape[:2] and sunlit.dtype == np.bool_, sunlit.shape
    return {
        "format_version": np.array(TOPOLOGY_FORMAT_VERSION),
        "scenario": np.array(scenario_name),
        "epoch_utc": np.array(epoch_utc),
        "frame": np.array("TEME"),
        "units": np.array("positions_m: m; velocities_m_s: m/s; length_m: m; delay_ns: ns; times_s: s"),
        "times_s": topology.times_s,
        "positions_m": constellation.positions_m,
        "velocities_m_s": constellation.velocities_m_s,
        "plane": constellation.plane_of,
        "slot": constellation.slot_of,
        "edges": topology.edges,
        "length_m": topology.length_m,
        "delay_ns": topology.delay_ns,
        "feasible": topology.feasible,
        "up": topology.up,
        "sunlit": sunlit,
    }


def write_topology_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write a topology export atomically (a temporary file renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
