"""Two-line element sets (TLE), the sidecar ``plane,slot`` file and the ``a b`` ISL list.

A TLE file holds one satellite per two lines (``1 ...`` and ``2 ...``, 69 characters each), each
optionally preceded by a name line (the three-line form). The reader is strict: a line of the wrong
length, a bad checksum, an unreadable or non-finite field, an inclination outside [0, 180] deg, an
eccentricity outside [0, 1), or an epoch whose day is not in its year is one error that names the
file, the line the field is on and the fix. Blank lines are allowed between sets.

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

import calendar
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np
from sgp4.api import WGS72, Satrec
from sgp4.exporter import export_tle  # noqa: F401  (re-exported: the writer's companion)

from harness.errors import ScenarioError
from harness.formats.files import MAX_INPUT_BYTES, read_text_file

__all__ = ["TleRecord", "export_tle", "read_isl_file", "read_slots_file", "read_tle_file", "write_tle_file"]

TLE_LINE_CHARS = 69
#: SGP4's epochs: two-digit years 57-99 are 1957-1999, 00-56 are 2000-2056.
_EPOCH_FIELD = slice(18, 32)
#: Satrec attribute -> (TLE line it is read from, what it is): each must be a finite number.
_FIELDS = {"ndot": (1, "first derivative of mean motion (columns 34-43)"),
           "nddot": (1, "second derivative of mean motion (columns 45-52)"),
           "bstar": (1, "B* drag term (columns 54-61)"),
           "inclo": (2, "inclination (columns 9-16)"), "nodeo": (2, "RAAN (columns 18-25)"),
           "ecco": (2, "eccentricity (columns 27-33)"), "argpo": (2, "argument of perigee (columns 35-42)"),
           "mo": (2, "mean anomaly (columns 44-51)"), "no_kozai": (2, "mean motion (columns 53-63)")}


@dataclass(frozen=True)
class TleRecord:
    """One element set: its name (``""`` without a name line), its two lines, where line 1 is, and its
    SGP4 record (WGS72 constants, as TLEs are fitted with), parsed once by the reader."""

    name: str
    line1: str
    line2: str
    line_number: int  # 1-based line of line 1 in the file
    satrec: Satrec = field(compare=False, repr=False)


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


def _check_epoch(path: Path, number: int, epoch: str) -> None:
    """The epoch field: ``YYDDD.DDDDDDDD`` with a day of year inside its year (366 only in a leap year)."""
    if re.fullmatch(r"\d{5}\.\d{8}", epoch):
        two_digit = int(epoch[:2])
        year = two_digit + (1900 if two_digit >= 57 else 2000)
        days = 366 if calendar.isleap(year) else 365
        if 1.0 <= float(epoch[2:]) < days + 1.0:
            return
        raise ScenarioError(f"{path}: line {number}: epoch field (columns 19-32) is {epoch!r}: day of year "
                            f"{float(epoch[2:]):g} is outside {year}, which has {days} days; give a day in "
                            f"[1, {days + 1})")
    raise ScenarioError(f"{path}: line {number}: epoch field (columns 19-32) is {epoch!r}; it must be "
                        f"YYDDD.DDDDDDDD with a day of year in [1, 366], 366 only in a leap year")


def _check_elements(path: Path, numbers: dict[int, int], satrec: Satrec) -> None:
    """Every element finite and in its range, and SGP4's initialisation without error; an error names
    the line (``numbers``: TLE line 1 or 2 -> line of the file) the field is on."""
    for attribute, (line, what) in _FIELDS.items():
        value = getattr(satrec, attribute)
        if not math.isfinite(value):
            raise ScenarioError(f"{path}: line {numbers[line]}: the {what} is {value} (not a number); fix TLE "
                                f"line {line}'s field")
    bad = None
    if not 0.0 <= satrec.inclo <= math.pi:
        bad = f"the inclination is {math.degrees(satrec.inclo):g} deg; it must be in [0, 180]"
    elif not 0.0 <= satrec.ecco < 1.0:
        bad = f"the eccentricity is {satrec.ecco:g}; it must be in [0, 1)"
    elif not satrec.no_kozai > 0.0:
        bad = f"the mean motion is {satrec.no_kozai:g} rad/min; it must be above 0"
    if bad:
        raise ScenarioError(f"{path}: line {numbers[2]}: {bad}; fix TLE line 2")
    if satrec.error:
        from sgp4.api import SGP4_ERRORS

        raise ScenarioError(f"{path}: lines {numbers[1]}-{numbers[2]}: the elements are not a valid orbit (SGP4 "
                            f"error {satrec.error}: {SGP4_ERRORS.get(satrec.error, 'unknown')}); fix the element set")


def read_tle_file(path: Path) -> list[TleRecord]:
    """Every element set of a two- or three-line TLE file, in file order (strict, see the module doc).

    Raises:
        ScenarioError: naming the file and line of the first problem.
    """
    path = Path(path)
    text = read_text_file(path, "TLE file", ScenarioError, MAX_INPUT_BYTES)
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
        _check_epoch(path, number, line[_EPOCH_FIELD])
        try:
            satrec = Satrec.twoline2rv(line, line2, WGS72)
        except (ValueError, IndexError) as exc:
            raise ScenarioError(f"{path}: lines {number}-{number2}: SGP4 cannot read this element set ({exc}); "
                                f"fix the fields") from None
        _check_elements(path, {1: number, 2: number2}, satrec)
        records.append(TleRecord(name, line, line2, number, satrec))
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
    satellite (an optional ``plane,slot`` header). Planes and slots are whole numbers >= 0, no two
    satellites share a (plane, slot), the planes are 0 to P - 1 and each plane's slots 0 to its size - 1.

    Raises:
        ScenarioError: naming the file and line of the first problem.
    """
    path = Path(path)
    text = read_text_file(path, "plane,slot file", ScenarioError, MAX_INPUT_BYTES)
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
        plane, slot = int(m.group(1)), int(m.group(2))
        if max(plane, slot) >= count:  # numbered without gaps, both are below the satellite count
            raise ScenarioError(f"{path}: line {number}: plane,slot {plane},{slot} is beyond the {count} satellites "
                                f"of the TLE file; number the planes and each plane's slots 0, 1, 2, ... without gaps")
        out[k] = plane, slot
    _, first = np.unique(out, axis=0, return_index=True)
    if len(first) != count:
        dup = sorted(set(range(count)) - set(first.tolist()))[0]
        raise ScenarioError(f"{path}: line {rows[dup][0]}: plane,slot {tuple(out[dup])} is given twice; "
                            f"each satellite needs its own")
    sizes = np.bincount(out[:, 0])
    if not sizes.all():
        gap = int(np.flatnonzero(sizes == 0)[0])
        above = int(np.flatnonzero(out[:, 0] > gap)[0])
        raise ScenarioError(f"{path}: line {rows[above][0]}: plane {out[above, 0]} is given but plane {gap} has no "
                            f"satellite; number the planes 0, 1, 2, ... without gaps")
    beyond = np.flatnonzero(out[:, 1] >= sizes[out[:, 0]])
    if len(beyond):  # slots unique and all below the plane's size: each plane's slots are 0 to size - 1
        k = int(beyond[0])
        plane, slot = (int(v) for v in out[k])
        raise ScenarioError(f"{path}: line {rows[k][0]}: slot {slot} of plane {plane}, which has {sizes[plane]} "
                            f"satellites; number each plane's slots 0 to {sizes[plane] - 1} without gaps")
    return out[:, 0].astype(np.int32), out[:, 1].astype(np.int32)


def read_isl_file(path: Path, count: int) -> np.ndarray:
    """``[L, 2]`` int32 ISLs from an ``a b`` list (satellite indices in TLE order, 0-based; '#' starts
    a comment). Rows come back as ``a < b``, sorted; self-links and repeats are errors."""
    path = Path(path)
    text = read_text_file(path, "ISL file", ScenarioError, MAX_INPUT_BYTES)
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
