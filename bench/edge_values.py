"""Walk every numeric scenario key at its bounds, just inside and just outside them, through the CLI
(issue 24, "no allowed value crashes"; tests/test_edge_values.py runs a part of it in CI).

Each value runs (exit 0) or is refused in one ``error:`` line (exit 1); the walk counts the values
that did anything else (a traceback, a signal, an ns-3 fatal, an error of several lines, results
written after a refusal, a run longer than --timeout) and prints them; it exits 1 if there is any.
tests/edge_values.py builds the values from the schema itself and runs them.

    python bench/edge_values.py                  # every value of every key (about 650)
    python bench/edge_values.py --key links.     # the keys starting with links.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

import edge_values  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--key", default="", help="only the keys starting with this")
    parser.add_argument("--timeout", type=float, default=300.0, help="longest run of one value, s")
    parser.add_argument("--workers", type=int, default=2, help="worker processes at once")
    parser.add_argument("--verbose", action="store_true", help="print every value's outcome")
    args = parser.parse_args()
    cases = [c for c in edge_values.cases() if c.key.startswith(args.key)]
    keys = sorted({c.key for c in cases})
    print(f"{len(cases)} values of {len(keys)} keys", flush=True)

    def log(outcome) -> None:
        if args.verbose or not outcome.ok:
            text = outcome.detail.strip().splitlines()[-1][:300] if outcome.detail.strip() else ""
            print(f"{outcome.kind:>13} {outcome.seconds:7.2f} s  {outcome.case.label}  {text}", flush=True)

    clock = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="edge-") as work:
        outcomes = edge_values.run_cases(cases, Path(work), timeout=args.timeout, log=log, workers=args.workers)
    wall = time.perf_counter() - clock
    counts = collections.Counter(o.kind for o in outcomes)
    bad = [o for o in outcomes if not o.ok]
    slowest = sorted(outcomes, key=lambda o: -o.seconds)[:5]
    print(f"\n{len(outcomes)} values of {len(keys)} keys in {wall:.0f} s: {dict(counts)}")
    print("slowest: " + ", ".join(f"{o.case.key}={o.case.value!r} {o.seconds:.1f} s" for o in slowest))
    for o in bad:
        print(f"FAILED {o.kind}: {o.case.label}\n    {o.detail.strip()[-1500:]}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
