"""Property-based fuzzing of the scenario boundary (hypothesis; bench/fuzz.py runs thousands more).

Every mutated scenario either is valid (and, when small, goes through the pipeline up to the packet
engine) or is refused with one line; it never raises anything else and never leaves an output
directory. A few examples go through the real CLI, ns-3 included, in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import copy

import scenario_fuzz

import pytest
import yaml

from scenario_fuzz import (BASE, EXTREME_NUMBERS, HOSTILE_TEXT, KEYS, SECTION_BASES, base_files, check_example,
                           scenario_bytes, scenario_files)

REPO = Path(__file__).resolve().parents[1]
OUTCOMES: Counter = Counter()
FUZZ = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(FUZZ, max_examples=300)
@given(data=scenario_bytes(), default_out=st.booleans())
def test_mutated_scenarios_are_valid_or_one_line_errors(data, default_out):
    with tempfile.TemporaryDirectory() as folder:
        OUTCOMES[check_example(data, Path(folder), default_out)] += 1


HOSTILE_VALUES = [*EXTREME_NUMBERS, *HOSTILE_TEXT, None, True, [], {}, [1, "a"], {"a": None}]


@pytest.mark.parametrize("path", [k[0] for k in KEYS], ids=".".join)
def test_every_key_with_every_hostile_value(path, tmp_path):
    # Systematic where the property above samples: each schema key gets each hostile value once.
    outcomes = Counter()
    for value in HOSTILE_VALUES:
        raw = copy.deepcopy(BASE)
        node = raw
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
        folder = tmp_path / f"v{len(outcomes)}-{sum(outcomes.values())}"
        folder.mkdir()
        outcomes[check_example(yaml.safe_dump(raw, allow_unicode=True).encode("utf-8", "surrogatepass"), folder,
                               use_default_out=True, run_small=False)] += 1
    assert outcomes["refused"] > 0, outcomes


SECTION_OUTCOMES: Counter = Counter()


@pytest.mark.parametrize("name", list(SECTION_BASES))
def test_every_section_base_is_valid_and_prepares(name, tmp_path):
    # The section fuzzer mutates these: each must be a scenario that runs, or its mutations test nothing.
    assert check_example(base_files(name), tmp_path, use_default_out=False) == "valid-ran"


@pytest.mark.parametrize("name", list(SECTION_BASES))
def test_every_section_and_its_files_mutated_are_valid_or_one_line_errors(name):
    # serving, arrivals files, users, ground, TLE files (slots, ISLs), placement, power, cluster, boards, faults

    @settings(FUZZ, max_examples=12)
    @given(files=scenario_files(only=name), default_out=st.booleans())
    def check(files, default_out):
        with tempfile.TemporaryDirectory() as folder:
            SECTION_OUTCOMES[files.base, check_example(files, Path(folder), default_out)] += 1

    check()


def test_the_section_fuzzer_reaches_every_base_and_both_outcomes():
    # Run after the property above (file order).
    bases = {base for base, _ in SECTION_OUTCOMES}
    assert bases == set(SECTION_BASES), sorted(set(SECTION_BASES) - bases)
    outcomes = Counter(outcome for _, outcome in SECTION_OUTCOMES.elements())
    assert outcomes["refused"] > 40 and outcomes["valid-ran"] > 10, outcomes


def test_the_fuzzer_reaches_both_outcomes():
    # Run after the property above (file order): it must have seen valid scenarios run and refusals.
    assert OUTCOMES["refused"] > 50 and OUTCOMES["valid-ran"] > 5, OUTCOMES


@settings(FUZZ, max_examples=6)
@given(data=st.one_of(scenario_bytes(), scenario_files()))
def test_mutated_scenarios_through_the_cli_run_or_fail_with_one_line(data):
    files = data if isinstance(data, dict) else {"scenario.yaml": data}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for name, content in files.items():
            (folder / name).write_bytes(content)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        done = subprocess.run([sys.executable, "-m", "harness", "run", "scenario.yaml", "--jobs", "1"], cwd=folder,
                              env=env, capture_output=True, text=True, errors="replace", timeout=300, check=False)
        made = sorted(p.name for p in folder.iterdir())
        if done.returncode == 0:
            assert made == sorted([*files, "results"]), made
            assert len(list((folder / "results").iterdir())) == 1
        else:
            lines = done.stderr.strip().splitlines()
            assert done.returncode == 1 and lines[-1].startswith("error: "), done.stderr[-2000:]
            assert sum(line.startswith(("error", "Traceback")) for line in lines) == 1, done.stderr[-2000:]
            assert made == sorted(files), made


def _tle_files(**extra: bytes) -> dict:
    files = base_files("tle")
    raw = yaml.safe_load(files["scenario.yaml"])
    for name in extra:
        raw["constellation"]["slots_file" if name.endswith(".slots") else "isl_file"] = name
    files["scenario.yaml"] = yaml.safe_dump(raw).encode()
    files.update(extra)
    return files


def _slots(row0: str) -> bytes:
    return ("\n".join([row0] + [f"{i // 10},{i % 10}" for i in range(1, 60)]) + "\n").encode()


@pytest.mark.parametrize("what, files", [
    # A plane numbered 99999999999 in a slots file: np.bincount allocated 745 GiB (MemoryError).
    ("a huge plane number", _tle_files(**{"fuzz.slots": _slots("99999999999,0")})),
    # A plane of 2**63 overflowed the int64 table (OverflowError).
    ("a plane beyond int64", _tle_files(**{"fuzz.slots": _slots(f"{2**63},0")})),
    # A TLE file of one satellite: no +Grid ring, np.concatenate of nothing (ValueError).
    ("one satellite", {**_tle_files(),
                       "fuzz.tle": "".join(scenario_fuzz.walker_tle_text(6, 10).splitlines(True)[:3]).encode()}),
    # An ISL file that leaves a satellite without a link: the packet engine's ValueError, now refused at load.
    ("a satellite without an ISL",
     _tle_files(**{"fuzz.isl": ("\n".join(f"{i} {i + 1}" for i in range(58)) + "\n").encode()})),
])
def test_the_files_the_fuzzer_broke_are_refused_in_one_line(what, files, tmp_path):
    assert check_example(files, tmp_path, use_default_out=False) == "refused", what
