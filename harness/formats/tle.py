"""Two-line element sets (TLE), the sidecar ``plane,slot`` file and the ``a b`` ISL list.

A TLE file holds one satellite per two lines (``1 ...`` and ``2 ...``, 69 characters each), each
optionally preceded by a name line (the three-line form). The reader is strict: a line of the wrong
length, a bad checksum, an unreadable field or an epoch outside SGP4's range is one error that names
the file, the line number and the fix. Blank lines are allowed between sets.

Example::

    >>> from pathlib import Path
    >>> import tempfile
    >>> from sgp4.api import Satrec, WGS72
    >>> sat = Satrec(); sat.sgp4init(WGS72, "i", 1, 18263.0, 0, 0, 0, 1e-7, 0, 0.9, 0.1, 0.0646, 0.2)
    >>> path = Path(tempfile.mkdtemp()) / "one.tle"
    >>> write_tle_file(path, [("SAT 0", *export_tle(sat))])
    >>> [r.name for r in read_tle_file(path)]
    ['SAT 0']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Iterable

import numpy as np
from sgp4.api import WGS72, Satrec
from sgp4.exporter import export_tle  # noqa: F401  (re-exported: the writer's companion)

from ..errors import ScenarioError
from .files import MAX_DATA_BYTES, read_text_file

__all__ = ["TleRecord", "export_tle", "read_isl_file", "read_slots_file", "read_tle_file", "write_tle_file"]

TLE_LINE_CHARS = 69
#: SGP4's epochs: two-digit years 57-99 are 1957-1999, 00-56 are 2000-2056.
_EPOCH_FIELD = slice(18, 32)


@dataclass(frozen=True)
class TleRecord:
    """One element set: its name (``""`` without a name line), its two lines and where line 1 is."""

    name: str
    line1: str
    line2: str
    line_number: int  # 1-based line of line 1 in the file

    @cached_property
    def satrec(self) -> Satrec:
        """The SGP4 record (WGS72 constants, as TLEs are fitted with), parsed once."""
        return Satrec.twoline2rv(self.line1, self.line2, WGS72)


def _checksum(line: str) -> int:
    """TLE checksum: digits count their value, '-' counts 1, all else 0; modulo 10, over columns 1-68."""
    return sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68]) % 10


def _check_line(path: Path, number: int, line: str, kind: str) -> None:
    where = f"{path}: line {number}"
    if len(line) != TLE_LINE_CHARS:
        raise ScenarioError(f"{where}: TLE line {kind} has {len(line)} characters, not {TLE_LINE_CHARS}; "
                            f"fix the line (trailing spaces are trimmed, nothing else is)")
    if not line[68].isdigit() or int(line[68]) != _checksum(line):
        raise ScenarioError(f"{where}: TLE line {kind} checksum is {line[68]!r} but the line sums to "
                            f"{_checksum(line)}; the line is corrupt or was edited: fix it or regenerate the file")


def read_tle_file(path: Path) -> list[TleRecord]:
    """Every element set of a two- or three-line TLE file, in file order (strict, see the module doc).

    Raises:
        ScenarioError: naming the file and line of the first problem.
    """
    path = Path(path)
    text = read_text_file(path, "TLE file", ScenarioError, MAX_DATA_BYTES)
    lines = [(i + 1, raw.rstrip()) for i, raw in enumerate(text.splitlines())]
    lines = [(n, s) for n, s in lines if s]
    records: list[TleRecord] = []
    i = 0
    while i < len(lines):
        number, line = lines[i]
        name = ""
        if not line.startswith("1 "):
            if line.startswith("2 "):
                raise ScenarioError(f"{path}: line {number}: TLE line 2 without a line 1 before it; "
                                    f"each satellite needs lines '1 ...' and '2 ...'")
            name = line[2:].strip() if line.startswith("0 ") else line.strip()
            i += 1
            if i >= len(lines):
                raise ScenarioError(f"{path}: line {number}: name line {name!r} is not followed by a TLE; "
                                    f"add its lines 1 and 2 or remove it")
            number, line = lines[i]
            if not line.startswith("1 "):
                raise ScenarioError(f"{path}: line {number}: expected TLE line 1 (starting '1 ') after the name "
                                    f"line, got {line[:20]!r}")
        if i + 1 >= len(lines) or not lines[i + 1][1].startswith("2 "):
            at = lines[i + 1][0] if i + 1 < len(lines) else number
            raise ScenarioError(f"{path}: line {at}: TLE line 1 at line {number} is not followed by a line 2 "
                                f"(starting '2 '); the file is truncated or misaligned")
        number2, line2 = lines[i + 1]
        _check_line(path, number, line, "1")
        _check_line(path, number2, line2, "2")
        if line[2:7] != line2[2:7]:
            raise ScenarioError(f"{path}: line {number2}: catalogue number {line2[2:7]!r} differs from line 1's "
                                f"{line[2:7]!r}; the lines belong to different satellites")
        epoch = line[_EPOCH_FIELD]
        if not re.fullmatch(r"\d{5}\.\d{8}", epoch) or not 1.0 <= float(epoch[2:]) < 367.0:
            raise ScenarioError(f"{path}: line {number}: epoch field (columns 19-32) is {epoch!r}; it must be "
                                f"YYDDD.DDDDDDDD with a day of year in [1, 367)")
        try:
            satrec = Satrec.twoline2rv(line, line2, WGS72)
        except (ValueError, IndexError) as exc:
            raise ScenarioError(f"{path}: line {number}: SGP4 cannot read this element set ({exc}); "
                                f"fix the fields") from None
        if satrec.error or not satrec.no_kozai > 0:
            raise ScenarioError(f"{path}: line {number2}: the elements are not a valid orbit (SGP4 error "
                                f"{satrec.error}, mean motion {satrec.no_kozai:g} rad/min); fix line 2")
        records.append(TleRecord(name, line, line2, number))
        i += 2
    if not records:
        raise ScenarioError(f"{path}: the TLE file holds no element sets; give lines '1 ...' and '2 ...'")
    return records


def write_tle_file(path: Path, records: Iterable[tuple[str, str, str]]) -> None:
    """Write ``(name, line1, line2)`` element sets as a three-line TLE file."""
    text = "".join(f"{name}\n{l1}\n{l2}\n" for name, l1, l2 in records)
    Path(path).write_text(text, encoding="utf-8")


def read_slots_file(path: Path, count: int) -> tuple[np.ndarray, np.ndarray]:
    """``[N]`` plane and slot of each satellite (TLE order) from a ``plane,slot`` CSV, one row per
    satellite (an optional ``plane,slot`` header). Planes and slots are whole numbers >= 0 and no two
    satellites share a (plane, slot)."""
    path = Path(path)
    text = read_text_file(path, "plane,slot file", ScenarioError, MAX_DATA_BYTES)
    rows = [(i + 1, s.strip()) for i, s in enumerate(text.splitlines()) if s.strip()]
    if rows and rows[0][1].replace(" ", "").lower() == "plane,slot":
        rows = rows[1:]
    if len(rows) != count:
        raise ScenarioError(f"{path}: {len(rows)} plane,slot rows for {count} satellites in the TLE file; "
                            f"give one row per satellite, in TLE order")
    out = np.empty((count, 2), dtype=np.int64)
    for k, (number, row) in enumerate(rows):
        m = re.fullmatch(r"(\d+)\s*,\s*(\d+)", row)
        if not m:
            raise ScenarioError(f"{path}: line {number}: {row[:40]!r} is not 'plane,slot' (two whole numbers)")
        out[k] = int(m.group(1)), int(m.group(2))
    _, first = np.unique(out, axis=0, return_index=True)
    if len(first) != count:
        dup = sorted(set(range(count)) - set(first.tolist()))[0]
        raise ScenarioError(f"{path}: line {rows[dup][0]}: plane,slot {tuple(out[dup])} is given twice; "
                            f"each satellite needs its own")
    return out[:, 0].astype(np.int32), out[:, 1].astype(np.int32)


def read_isl_file(path: Path, count: int) -> np.ndarray:
    """``[L, 2]`` int32 ISLs from an ``a b`` list (satellite indices in TLE order, 0-based; '#' starts
    a comment). Rows come back as ``a < b``, sorted; self-links and repeats are errors."""
    path = Path(path)
    text = read_text_file(path, "ISL file", ScenarioError, MAX_DATA_BYTES)
    edges, seen = [], {}
    for number, raw in enumerate(text.splitlines(), start=1):
        row = raw.split("#", 1)[0].strip()
        if not row:
            continue
        m = re.fullmatch(r"(\d+)[\s,]+(\d+)", row)
        if not m:
            raise ScenarioError(f"{path}: line {number}: {row[:40]!r} is not 'a b' (two satellite indices)")
        a, b = sorted((int(m.group(1)), int(m.group(2))))
        if b >= count:
            raise ScenarioError(f"{path}: line {number}: satellite {b} does not exist (the TLE file has "
                                f"{count}: 0 to {count - 1})")
        if a == b:
            raise ScenarioError(f"{path}: line {number}: satellite {a} linked to itself; remove the line")
        if (a, b) in seen:
            raise ScenarioError(f"{path}: line {number}: link {a} {b} repeats line {seen[(a, b)]}; list it once")
        seen[(a, b)] = number
        edges.append((a, b))
    if not edges:
        raise ScenarioError(f"{path}: the ISL file lists no links; give one 'a b' per line")
    return np.array(sorted(edges), dtype=np.int32)
