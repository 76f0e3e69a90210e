"""A long run's per-snapshot state on disk, held a window of snapshots at a time.

The topology's [S, L] link delays and states grow with the run (and L with it: every satellite a
city ever sees is a ground link), and the C++ engine reads them for the whole run: the topology
updater one snapshot after another, the path graph the snapshots its queries ask about.
:func:`spill` writes such an array, block by block, to an unlinked temporary file and gives back
a read-only array of the same shape, dtype and values that reads that file through a shared
mapping. A mapping's pages count as the process's memory only while they are mapped in: the
readers let them go behind them (:func:`release` from Python; the C++ readers' MappedRows, given
:data:`WINDOW`), and a later read faults them in again from the file, the same bytes. So what a
run holds of them is about a window of snapshots, not S, and nothing computed from them changes
(docs/performance.md, "Memory over long runs").

The file is gone once the last array reading it is (it was unlinked when made); forked
processes share its pages instead of copying them.
"""

from __future__ import annotations

import mmap
import os
import tempfile
from typing import Optional

import numpy as np

from harness.errors import HarnessError

#: Snapshots the C++ readers read between two releases of a spilled array's pages.
WINDOW = 64

#: Arrays smaller than this stay in memory (bytes). 0: every run's state goes to files, short or
#: long (one code path, exercised by every run); the tests raise it to get the in-memory reference.
SPILL_MIN_BYTES = 0

_BLOCK_BYTES = 16 << 20  # rows written per block: about this many bytes

#: Environment variable naming the folder for the files (default: :func:`spill_directory`'s choice).
SPILL_DIR_ENV = "SPACEXNET_SPILL_DIR"

_RAM_FILESYSTEMS = frozenset({"tmpfs", "ramfs"})


def filesystem_type(path: str, mountinfo: Optional[str] = None) -> Optional[str]:
    """The type of the file system ``path`` is on ("ext4", "tmpfs", ...), from the mount with the
    longest mount point above it in ``mountinfo`` (the text of /proc/self/mountinfo, read when
    None); None where that is unknown."""
    if mountinfo is None:
        try:
            with open("/proc/self/mountinfo", encoding="utf-8") as handle:
                mountinfo = handle.read()
        except OSError:
            return None
    path = os.path.realpath(path)
    best, kind = "", None
    for line in mountinfo.splitlines():
        fields, _, rest = line.partition(" - ")
        fields = fields.split()
        if len(fields) < 5 or not rest:
            continue
        point = fields[4].replace("\\040", " ")
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, rest.split()[0]
    return kind


def spill_directory() -> str:
    """Where the files go: ``$SPACEXNET_SPILL_DIR`` if set; else the system's temporary directory,
    unless it is RAM-backed (a tmpfs, where the files would be memory again), then the user's cache
    folder (``$XDG_CACHE_HOME`` or ``~/.cache``) if that is on a disk."""
    chosen = os.environ.get(SPILL_DIR_ENV)
    if chosen:
        return chosen
    temporary = tempfile.gettempdir()
    if filesystem_type(temporary) not in _RAM_FILESYSTEMS:
        return temporary
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if os.path.isdir(cache) and os.access(cache, os.W_OK) and filesystem_type(cache) not in _RAM_FILESYSTEMS:
        return cache
    return temporary


def _spill_file(nbytes: int, directory: Optional[str]):
    """An unlinked file of ``nbytes`` with its blocks reserved on disk (so a full disk is one
    error now, not a SIGBUS in a later write through the mapping)."""
    directory = directory or spill_directory()
    try:
        handle = tempfile.TemporaryFile(dir=directory)
    except OSError as exc:
        raise HarnessError(f"cannot make a file for the run's per-snapshot state in {directory} ({exc.strerror}); "
                           f"set {SPILL_DIR_ENV} to a writable folder on a disk") from None
    try:
        os.posix_fallocate(handle.fileno(), 0, max(1, nbytes))
    except OSError as exc:
        handle.close()
        raise HarnessError(f"no room for the run's per-snapshot state ({nbytes / 1e6:.0f} MB) in {directory} "
                           f"({exc.strerror}); free space there or set {SPILL_DIR_ENV} to a disk with room") from None
    return handle


def spill(values: np.ndarray, directory: Optional[str] = None) -> np.ndarray:
    """A read-only C-ordered array equal to ``values`` (same shape and dtype), backed by an
    unlinked file in ``directory`` (default: :func:`spill_directory`) instead of memory.

    ``values`` is copied a block of rows at a time; an array below :data:`SPILL_MIN_BYTES`, or
    one with no elements, comes back as it is."""
    values = np.asarray(values)
    if values.nbytes < max(1, SPILL_MIN_BYTES) or values.ndim == 0:
        return values
    rows = values.shape[0]
    row_bytes = values.nbytes // rows
    step = max(1, _BLOCK_BYTES // max(1, row_bytes))
    with _spill_file(values.nbytes, directory) as handle:  # unlinked: the mapping keeps it alive
        for first in range(0, rows, step):
            handle.write(np.ascontiguousarray(values[first:first + step]).tobytes())
        handle.flush()
        mapped = mmap.mmap(handle.fileno(), values.nbytes, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
    out = np.frombuffer(mapped, dtype=values.dtype).reshape(values.shape)
    release(out)  # what the copy wrote is in the file, not this process
    return out


def empty(shape: tuple, dtype, directory: Optional[str] = None) -> np.ndarray:
    """A writable C-ordered array of ``shape`` and ``dtype``, all zeros, in an unlinked file in
    ``directory``, to be filled a block of rows at a time with :func:`release` after each block: a
    long run's [S, L] state is then never all in memory while it is made. Below
    :data:`SPILL_MIN_BYTES`, an ordinary ``numpy.zeros``."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes < max(1, SPILL_MIN_BYTES):
        return np.zeros(shape, dtype=dtype)
    with _spill_file(nbytes, directory) as handle:  # unlinked: the mapping keeps it alive; zeros
        mapped = mmap.mmap(handle.fileno(), nbytes, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    return np.frombuffer(mapped, dtype=dtype).reshape(shape)


def _mapping(values) -> Optional[mmap.mmap]:
    """The mmap a spilled array (or a view of one) reads, or None."""
    base = values
    while isinstance(base, np.ndarray):
        base = base.base
    if isinstance(base, memoryview):  # what np.frombuffer keeps of the mmap
        base = base.obj
    return base if isinstance(base, mmap.mmap) else None


def is_spilled(values) -> bool:
    """Whether ``values`` (or the array it views) was made by :func:`spill`."""
    return _mapping(values) is not None


def release(*arrays) -> None:
    """Let go of every mapped-in page of each spilled array (or of the array it views); other
    arrays are left alone. The values do not change: a later read faults them in again."""
    for values in arrays:
        mapped = _mapping(values)
        if mapped is not None and len(mapped):
            mapped.madvise(mmap.MADV_DONTNEED)


_rows_read: dict[int, int] = {}


def row_read(*arrays) -> None:
    """Note that a snapshot's row of each spilled array was read (and copied out): every
    :data:`WINDOW` rows read, the array's mapped-in pages are let go (:func:`release`), as the C++
    readers do, so a Python reader going over every snapshot holds a window of them. Other arrays
    are left alone."""
    for values in arrays:
        mapped = _mapping(values)
        if mapped is None:
            continue
        count = _rows_read.get(id(mapped), 0) + 1
        if count > WINDOW:
            release(values)
            count = 0
        _rows_read[id(mapped)] = count


def resident_bytes(values) -> int:
    """Bytes of a spilled array's mapping mapped into this process now (its Rss in
    /proc/self/smaps), 0 for other arrays: what holding it costs the process."""
    mapped = _mapping(values)
    if mapped is None:
        return 0
    address = np.frombuffer(mapped, dtype=np.uint8).__array_interface__["data"][0]
    inside = False
    with open(f"/proc/{os.getpid()}/smaps") as smaps:
        for line in smaps:
            head = line.split(None, 1)[0]
            if "-" in head and not head.endswith(":"):
                start, end = (int(x, 16) for x in head.split("-"))
                inside = start <= address < end
            elif inside and head == "Rss:":
                return int(line.split()[1]) * 1024
    return 0
