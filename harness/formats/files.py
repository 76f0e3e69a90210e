"""Strict readers shared by every on-disk format, and where results go.

A file the harness reads goes through :func:`read_text_file` (and :func:`read_json_file` or
:func:`read_yaml_file` on top): missing, a directory, larger than its format allows, binary (a NUL
byte) or not UTF-8 is an error of the caller's type (ScenarioError, PlacementError, TraceError,
ResultsError) whose one line names the file, the problem and the fix. Nothing is ever unpickled.
"""

from __future__ import annotations

import json
import re
import reprlib
from pathlib import Path
from typing import Any

import yaml

from harness.errors import HarnessError

#: Largest file each reader accepts: a scenario, sweep or plan is small; a trace or a results CSV
#: may be large, but past this it is not a file the harness wrote.
MAX_CONFIG_BYTES = 1 << 20
MAX_DATA_BYTES = 1 << 31
#: Largest input file a scenario names besides an activation trace (arrivals CSV, TLE, slots and ISL
#: files): far above what the schema's ceilings let them hold (10^6 arrivals, 32,768 satellites), and
#: small enough that reading one never runs a machine out of memory (issue 24).
MAX_INPUT_BYTES = 1 << 27


def read_text_file(path: Path, what: str, error: type = HarnessError, max_bytes: int = MAX_CONFIG_BYTES) -> str:
    """A text file's contents, or ``error`` naming the file: missing, a directory, larger than
    ``max_bytes``, binary (a NUL byte) or not UTF-8 (a BOM is allowed)."""
    path = Path(path)
    try:
        if not path.is_file():
            raise error(f"{what} {show(str(path))} not found (or not a file); check the path")
        size = path.stat().st_size
    except (OSError, ValueError) as exc:  # a name too long, a NUL in the name, no permission
        raise error(f"{what} {show(str(path))} cannot be opened ({_one_line(exc)}); check the path") from None
    if size > max_bytes:
        raise error(f"{path}: {what} is {size} bytes, more than the {max_bytes} a {what} may have; check this "
                    f"is the right file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({_one_line(exc)}); check its permissions") from None
    if b"\0" in data:
        raise error(f"{path}: the {what} is a binary file (it holds NUL bytes), not text; give the text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: the {what} is not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x}); save it "
                    f"as UTF-8") from None


def read_json_file(path: Path, what: str, error: type = HarnessError, max_bytes: int = MAX_CONFIG_BYTES) -> Any:
    """A JSON file's value (strict: no NaN or Infinity), or ``error`` naming the line and column."""
    text = read_text_file(path, what, error, max_bytes)

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not a JSON number")

    try:
        return json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as exc:
        raise error(f"{path}: the {what} is not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); "
                    f"fix the file or write it again") from None
    except (ValueError, RecursionError) as exc:
        raise error(f"{path}: the {what} is not valid JSON ({_one_line(exc)}); fix the file or write it "
                    f"again") from None


class YamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser when PyYAML has it
    """SafeLoader that reads YAML 1.2 floats such as ``1e9`` and ``10.0e9`` as numbers, and refuses a
    key given twice in one mapping.

    PyYAML follows YAML 1.1, where an exponent needs a dot and a sign (``1.0e+9``); without this,
    ``rate_bps: 1e9`` would silently be the string '1e9'. PyYAML also keeps the last of two equal
    keys without a word; a repeated key is nearly always a mistake.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                repeated = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: SafeLoader reports it below
                continue
            if repeated:
                raise yaml.constructor.ConstructorError(None, None, f"key {show(key)} is given twice",
                                                        key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)$"),
    list("-+0123456789"),
)


def read_yaml_file(path: Path, what: str, error: type = HarnessError, max_bytes: int = MAX_CONFIG_BYTES) -> Any:
    """A YAML file's value (safe: plain data only), or ``error`` naming the line and column."""
    text = read_text_file(path, what, error, max_bytes)
    depth = _flow_depth(text)
    if depth > MAX_YAML_DEPTH:
        raise error(f"{path}: the {what} nests [ ] or {{ }} {depth} deep, more than {MAX_YAML_DEPTH}; a "
                    f"{what} is a shallow mapping: fix the file")
    try:
        return yaml.load(text, Loader=YamlLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or _one_line(exc)
        raise error(f"{path}: YAML syntax error{where}: {problem}; fix the file's syntax") from None
    except (ValueError, RecursionError, OverflowError) as exc:  # a 5000-digit number, nesting too deep
        raise error(f"{path}: the {what} cannot be read ({_one_line(exc)}); fix the file") from None


#: Deepest [ ] / { } nesting a YAML file may have (PyYAML's parser is recursive and, in flow
#: collections, quadratic in the depth).
MAX_YAML_DEPTH = 32


def _flow_depth(text: str) -> int:
    """Deepest nesting of [ ] and { } outside quoted strings and comments (approximate: enough to
    refuse a nesting bomb before the parser sees it)."""
    text = re.sub(r"'(?:[^']|'')*'|\"(?:[^\"\\]|\\.)*\"|#[^\n]*", "", text)
    depth = deepest = 0
    for c in re.sub(r"[^\[\]{}]", "", text):
        depth = depth + 1 if c in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlevel = 2


def show(value: Any) -> str:
    """A value as an error shows it: escaped (no newline can reach the message) and shortened, even
    for a deeply nested or self-referencing value."""
    return _REPR.repr(value)


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


# ---------------------------------------------------------------------------------------------
# Where results go


#: The folder the default results directories are made in.
RESULTS_ROOT = Path("results")


def safe_name(name: str) -> str:
    """A scenario or sweep name as a single folder name: letters, digits, '.', '-', '_' (anything else
    becomes '_'), no leading or trailing dots (so never '..' or a hidden folder), at most 100
    characters, 'scenario' if nothing is left."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:100].strip("._")
    return cleaned or "scenario"


def default_results_dir(name: str, root: Path = RESULTS_ROOT, prefix: str = "") -> Path:
    """``root/<prefix><safe_name(name)>``; HarnessError if that path leads outside ``root`` (a symlink)."""
    root = Path(root)
    out = root / (prefix + safe_name(name))
    if out.is_symlink() or (out.exists() and out.resolve().parent != root.resolve()):
        raise HarnessError(f"the default results directory {out} is a link out of {root}/; remove it or pass "
                           f"--out DIR")
    return out
