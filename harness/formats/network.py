"""``network.npz``: the constellation and its ISLs at every snapshot of a run, compactly, for the report.

A run writes it beside its traces (``harness run``), so that ``harness report`` can draw the
satellites moving, the links going up and down, and every token's hops from the results
directory alone. It is numpy's zip of ``.npy`` arrays (``numpy.load(..., allow_pickle=False)`` or
any zip + .npy reader), compressed:

- ``format_version`` int: :data:`NETWORK_FORMAT_VERSION`;
- ``scenario`` str; ``metric`` str: the run's ``routing.metric`` ("delay" or "hops");
- ``times_s`` [S] float64: snapshot times after the epoch, s;
- ``lat_step_cdeg``, ``lon_step_cdeg`` [S, N] int16: each satellite's geocentric latitude and
  Earth-fixed longitude in hundredths of a degree (0.01 deg is 1.1 km on the ground: for maps, not
  navigation; snapshot 0 is ``satellites.csv`` rounded), as steps along the snapshots: row 0 is the
  position at snapshot 0, row s > 0 the change from s - 1 (longitude changes wrapped into
  [-180, 180) deg, so the sum is taken modulo 360 deg);
- ``edges`` [L, 2] int32: the ISLs as satellite pairs (satellites only: ground links are not here);
- ``up`` [S, L] bool: the link is usable at the snapshot (feasible and not in an outage);
- ``delay_step_ns`` [S, L] int32: the links' one-way propagation delays (``round(length / c)``,
  ns) as steps along the snapshots: row 0 is the delay at snapshot 0, row s > 0 the change from
  s - 1. :func:`read_network_npz` returns the exact int64 delays (``cumsum``), from which the
  harness's own routing (:class:`harness.network.routes.PathQuery`) gives the runs' routes again.

Stored this way it is about 0.5 MB for 1,584 satellites over 200 snapshots (float32 positions and
int64 delays, compressed, would be 3 MB). :func:`read_network_npz` is strict: a missing or damaged file, a
missing array, a wrong shape or dtype or a value out of range is one :class:`ResultsError` naming
the file and the array.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import ResultsError
from harness.formats.files import MAX_DATA_BYTES

#: Version of ``network.npz``'s layout; bumped when a field changes meaning.
NETWORK_FORMAT_VERSION = 1
_FIX = "run the scenario again to rewrite it"


@dataclass(frozen=True)
class Network:
    """``network.npz`` read back."""

    scenario: str
    metric: str
    times_s: np.ndarray   # [S] float64
    lat_deg: np.ndarray   # [S, N] float64 (to 0.01 deg)
    lon_deg: np.ndarray   # [S, N] float64 (to 0.01 deg)
    edges: np.ndarray     # [L, 2] int32
    up: np.ndarray        # [S, L] bool
    delay_ns: np.ndarray  # [S, L] int64

    @property
    def num_snapshots(self) -> int:
        return int(self.times_s.shape[0])

    @property
    def num_satellites(self) -> int:
        return int(self.lat_deg.shape[1])

    def snapshot_at(self, t_ns: np.ndarray) -> np.ndarray:
        """The snapshot in force at each simulated time (ns): the last one that began at or before it."""
        starts = np.round(self.times_s * 1e9).astype(np.int64)
        return np.clip(np.searchsorted(starts, np.asarray(t_ns, dtype=np.int64), side="right") - 1, 0,
                       len(starts) - 1)


def network_npz_bytes(*, scenario: str, metric: str, times_s: np.ndarray, lat_deg: np.ndarray | None,
                      lon_deg: np.ndarray | None, edges: np.ndarray, up: np.ndarray, delay_ns: np.ndarray,
                      lat_cdeg: np.ndarray | None = None, lon_cdeg: np.ndarray | None = None,
                      lat_step_cdeg: np.ndarray | None = None, lon_step_cdeg: np.ndarray | None = None,
                      after_block=None) -> bytes:
    """The bytes of a ``network.npz`` (see the module docstring); deterministic for the same input.

    The positions come as degrees (``lat_deg``, ``lon_deg``), already rounded to int32
    hundredths of a degree (``lat_cdeg``, ``lon_cdeg``), or already as the file's int16 steps
    (``lat_step_cdeg``, ``lon_step_cdeg``, made block by block with :func:`cdeg_steps`): the same
    file, with less memory on long runs. Each array is made and compressed in turn, straight into
    the archive; ``after_block()``, if given, is called after each block of ``up``'s and
    ``delay_ns``'s rows is read (a long run's spilled arrays are let go there:
    harness/network/spill.py)."""
    after_block = after_block or (lambda: None)
    if lat_step_cdeg is None:
        if lat_cdeg is None:
            lat_cdeg = np.round(np.asarray(lat_deg) * 100).astype(np.int32)
        lat_step_cdeg = cdeg_steps(np.asarray(lat_cdeg, dtype=np.int32))
        lat_cdeg = None
    if lon_step_cdeg is None:
        if lon_cdeg is None:
            lon_cdeg = np.round(np.asarray(lon_deg) * 100).astype(np.int32)
        lon_step_cdeg = cdeg_steps(np.asarray(lon_cdeg, dtype=np.int32), wrap=36000)
        lon_cdeg = None
    arrays = {
        "format_version": lambda: np.array(NETWORK_FORMAT_VERSION, dtype=np.int64),
        "scenario": lambda: np.array(scenario),
        "metric": lambda: np.array(metric),
        "times_s": lambda: np.asarray(times_s, dtype=np.float64),
        "lat_step_cdeg": lambda: np.asarray(lat_step_cdeg, dtype=np.int16),
        "lon_step_cdeg": lambda: np.asarray(lon_step_cdeg, dtype=np.int16),
        "edges": lambda: np.asarray(edges, dtype=np.int32).reshape(-1, 2),
    }
    up, delay_ns = np.asarray(up), np.asarray(delay_ns)
    for _ in _delay_steps(delay_ns):  # first: its range check refuses before anything is written
        after_block()
    # The [S, L] arrays go in block by block (the same bytes as the whole array's .npy): no
    # contiguous copy of the links' columns, no int32 steps of the whole run at once.
    rows = {"up": (up.shape, bool, lambda: _row_blocks(up)),
            "delay_step_ns": (delay_ns.shape, np.int32, lambda: _delay_steps(delay_ns))}
    buffer = io.BytesIO()
    # Fixed member times, so that the same run gives the same bytes (zipfile stamps the clock).
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in [*arrays, *rows]:
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w") as member:
                if name in arrays:
                    np.lib.format.write_array(member, arrays[name](), allow_pickle=False)
                else:
                    shape, dtype, blocks = rows[name]
                    _write_npy_rows(member, shape, dtype, blocks(), after_block)
    return buffer.getvalue()


def _write_npy_rows(member, shape: tuple, dtype, blocks, after_block=lambda: None) -> None:
    """The .npy of a C-order array of ``shape`` and ``dtype`` whose rows come in ``blocks``: the
    bytes :func:`numpy.lib.format.write_array` writes for the whole array (its version 1.0 header,
    then the data in C order)."""
    np.lib.format.write_array_header_1_0(member, {"shape": tuple(int(n) for n in shape), "fortran_order": False,
                                                  "descr": np.lib.format.dtype_to_descr(np.dtype(dtype))})
    for block in blocks:
        member.write(np.ascontiguousarray(block, dtype=dtype).tobytes())
        after_block()


def _row_blocks(values: np.ndarray, block: int = 256):
    for first in range(0, values.shape[0], block):
        yield values[first:first + block]


def _delay_steps(delay: np.ndarray):
    """int32 row 0 of ``delay`` [S, L], then the changes along axis 0, in blocks of rows (bounded
    int64 temporaries); ValueError when one does not fit int32."""
    block = 256
    for first in range(0, delay.shape[0], block):
        last = min(delay.shape[0], first + block)
        part = np.asarray(delay[first:last], dtype=np.int64)
        change = np.diff(part, axis=0, prepend=(np.asarray(delay[first - 1:first], dtype=np.int64) if first
                                                else np.zeros((1,) + part.shape[1:], np.int64)))
        if change.size and np.abs(change).max() >= 2**31:
            raise ValueError("an ISL delay or its change between snapshots does not fit int32")
        yield change.astype(np.int32)


def cdeg_steps(values: np.ndarray, previous: np.ndarray | None = None, wrap: int = 0) -> np.ndarray:
    """``lat_step_cdeg`` / ``lon_step_cdeg`` of int32 hundredths of a degree ``values`` [S, N]: int16
    row 0, then the changes along axis 0 (wrapped into [-wrap/2, wrap/2) when ``wrap``, row 0
    too). Block by block: ``values`` is a block of rows and ``previous`` [N] the row before it
    (None for the first block); the blocks' steps, stacked, are those of the whole."""
    first = np.zeros((1,) + values.shape[1:], values.dtype) if previous is None else \
        np.asarray(previous, dtype=values.dtype).reshape((1,) + values.shape[1:])
    steps = np.diff(values, axis=0, prepend=first)
    if wrap:
        steps = (steps + wrap // 2) % wrap - wrap // 2
    return steps.astype(np.int16)


def read_network_npz(path: Path) -> Network:
    """Read ``network.npz`` strictly (see the module docstring); ResultsError names the file and array."""
    path = Path(path)
    if not path.is_file():
        raise ResultsError(f"{path} not found: the report needs the run's network.npz (written by 'harness run' "
                           f"since the report exists); {_FIX}")
    if path.stat().st_size > MAX_DATA_BYTES:
        raise ResultsError(f"{path} is larger than {MAX_DATA_BYTES} bytes: not a network.npz of a run; {_FIX}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except Exception as exc:  # zipfile.BadZipFile, ValueError (a pickled member), OSError, EOFError
        raise ResultsError(f"{path} is damaged or not a numpy .npz ({type(exc).__name__}); {_FIX}") from None

    def array(name: str, kind: str, ndim: int) -> np.ndarray:
        if name not in arrays:
            raise ResultsError(f"{path} has no array '{name}'; {_FIX}")
        value = arrays[name]
        if value.dtype.kind != kind or value.ndim != ndim:
            raise ResultsError(f"{path}: array '{name}' is {value.dtype} with {value.ndim} dimensions, not the "
                               f"format's; {_FIX}")
        return value

    version = array("format_version", "i", 0)
    if int(version) != NETWORK_FORMAT_VERSION:
        raise ResultsError(f"{path}: format_version {int(version)}, this harness reads {NETWORK_FORMAT_VERSION}; "
                           f"{_FIX}")
    scenario, metric = str(array("scenario", "U", 0)), str(array("metric", "U", 0))
    times = array("times_s", "f", 1)
    lat_steps, lon_steps = array("lat_step_cdeg", "i", 2), array("lon_step_cdeg", "i", 2)
    edges, up, steps = array("edges", "i", 2), array("up", "b", 2), array("delay_step_ns", "i", 2)
    snapshots, satellites, links = len(times), lat_steps.shape[1], len(edges)
    for name, value, shape in (("lat_step_cdeg", lat_steps, (snapshots, satellites)),
                               ("lon_step_cdeg", lon_steps, (snapshots, satellites)),
                               ("edges", edges, (links, 2)), ("up", up, (snapshots, links)),
                               ("delay_step_ns", steps, (snapshots, links))):
        if value.shape != shape:
            raise ResultsError(f"{path}: array '{name}' has shape {value.shape}, expected {shape} (times_s has "
                               f"{snapshots} snapshots, lat_step_cdeg {satellites} satellites, edges {links} links); {_FIX}")
    if snapshots < 1 or satellites < 1:
        raise ResultsError(f"{path} has no snapshot or no satellite; {_FIX}")
    if not np.isfinite(times).all() or (np.diff(times) <= 0).any():
        raise ResultsError(f"{path}: array 'times_s' must be finite and increasing; {_FIX}")
    lat = np.cumsum(lat_steps.astype(np.int64), axis=0)
    lon = (np.cumsum(lon_steps.astype(np.int64), axis=0) + 18000) % 36000 - 18000
    if np.abs(lat).max() > 9000:
        raise ResultsError(f"{path}: array 'lat_step_cdeg' gives a latitude outside +-90 deg; {_FIX}")
    if links and (edges.min() < 0 or edges.max() >= satellites):
        raise ResultsError(f"{path}: array 'edges' names a satellite outside 0..{satellites - 1}; {_FIX}")
    delay = np.cumsum(steps.astype(np.int64), axis=0)
    if delay.size and delay.min() < 0:
        raise ResultsError(f"{path}: array 'delay_step_ns' gives a negative delay; {_FIX}")
    if metric not in ("delay", "hops"):
        raise ResultsError(f"{path}: metric {metric!r} is not 'delay' or 'hops'; {_FIX}")
    return Network(scenario=scenario, metric=metric, times_s=times.astype(np.float64),
                   lat_deg=lat.astype(np.float64) / 100, lon_deg=lon.astype(np.float64) / 100,
                   edges=edges.astype(np.int32), up=up.astype(bool), delay_ns=delay)
