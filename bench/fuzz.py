"""Fuzz the scenario boundary with thousands of mutated scenarios (tests/test_fuzz.py runs a few hundred).

Each example is a mutated scenario (tests/scenario_fuzz.py: wrong types, extreme numbers, values at
the rules' bounds, missing and unknown keys, broken YAML, binary bytes), two in three of them from
a section base (serving, an arrivals file, users, ground, TLE with its slots and ISL files,
placement, power, cluster, a board profile, faults) with the files it names broken too (TLE,
arrivals CSV), checked through the CLI's
own pre-flight (``harness.cli.check_run``) in-process; a valid small one also goes through the
pipeline up to the packet engine (constellation, topology, activations, every placement, routes,
analytic latency). ``--cli N`` sends N more through ``python -m harness run`` in a subprocess,
ns-3 included. It reports the outcomes, the tracebacks (with the first few inputs that caused them)
and the stray output directories; it exits 1 if there is any of either.

    python bench/fuzz.py                    # 5,000 examples in-process + 20 through the CLI
    python bench/fuzz.py --examples 500 --cli 0 --seed 7
"""

from __future__ import annotations

import argparse
import collections
import logging
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from scenario_fuzz import SECTION_BASES, check_example, fuzz_example  # noqa: E402

log = logging.getLogger("fuzz")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000, help="examples checked in-process")
    parser.add_argument("--cli", type=int, default=20, help="examples run through the CLI in a subprocess")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("harness").setLevel(logging.ERROR)

    outcomes: collections.Counter = collections.Counter()
    by_base: dict = collections.defaultdict(collections.Counter)
    failures: list[tuple[bytes, str]] = []
    strays: list[str] = []
    config = settings(max_examples=args.examples, deadline=None, database=None, derandomize=False,
                      suppress_health_check=list(HealthCheck), phases=[p for p in settings.default.phases
                                                                       if p.name in ("generate",)])

    @config
    @given(data=fuzz_example(), default_out=st.booleans())
    def in_process(data, default_out: bool) -> None:
        base = getattr(data, "base", "plain")
        with tempfile.TemporaryDirectory() as folder:
            try:
                outcome = check_example(data, Path(folder), default_out)
            except AssertionError as exc:
                strays.append(str(exc))
                outcome = "stray"
            except Exception:  # a traceback: what the boundary must never let out
                failures.append((data, traceback.format_exc(limit=-3)))
                outcome = "traceback"
            outcomes[outcome] += 1
            by_base[base][outcome] += 1

    clock = time.perf_counter()
    seed(args.seed)(in_process)()
    elapsed = time.perf_counter() - clock
    total = sum(outcomes.values())
    log.info("in-process: %d examples in %.1f s: %s", total, elapsed, dict(outcomes))
    for base in SECTION_BASES:
        log.info("  base %-14s %5d examples: %s", base, sum(by_base[base].values()), dict(by_base[base]))

    cli_outcomes: collections.Counter = collections.Counter()
    if args.cli:
        cli_config = settings(max_examples=args.cli, deadline=None, database=None,
                              suppress_health_check=list(HealthCheck),
                              phases=[p for p in settings.default.phases if p.name == "generate"])

        @cli_config
        @given(data=fuzz_example())
        def through_cli(data) -> None:
            files = data if isinstance(data, dict) else {"scenario.yaml": data}
            with tempfile.TemporaryDirectory() as folder:
                folder = Path(folder)
                for name, content in files.items():
                    (folder / name).write_bytes(content)
                env = {**os.environ, "PYTHONPATH": str(REPO)}
                done = subprocess.run([sys.executable, "-m", "harness", "run", "scenario.yaml", "--jobs", "1"],
                                      cwd=folder, env=env, capture_output=True, text=True, errors="replace",
                                      timeout=600, check=False)
                made = sorted(p.name for p in folder.iterdir())
                lines = done.stderr.strip().splitlines()
                if done.returncode == 0 and made == sorted([*files, "results"]):
                    cli_outcomes["ran"] += 1
                elif done.returncode == 1 and lines and lines[-1].startswith("error: ") \
                        and sum(line.startswith("error") for line in lines) == 1 \
                        and "process died" not in lines[-1] and made == sorted(files):
                    cli_outcomes["refused"] += 1
                else:
                    cli_outcomes["broken"] += 1
                    failures.append((data, f"exit {done.returncode}, made {made}:\n{done.stderr[-3000:]}"))

        clock = time.perf_counter()
        seed(args.seed)(through_cli)()
        log.info("through the CLI: %d examples in %.1f s: %s", sum(cli_outcomes.values()),
                 time.perf_counter() - clock, dict(cli_outcomes))

    for data, text in failures[:5]:
        log.info("--- input %s\n%s", repr(data)[:600], text)
    for text in strays[:5]:
        log.info("--- stray: %s", text)
    tracebacks = outcomes["traceback"] + cli_outcomes["broken"]
    log.info("summary: %d examples, %d tracebacks or broken CLI outcomes, %d stray output directories",
             total + sum(cli_outcomes.values()), tracebacks, outcomes["stray"])
    return 1 if tracebacks or outcomes["stray"] else 0


if __name__ == "__main__":
    sys.exit(main())
