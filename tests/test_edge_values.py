"""No allowed value crashes (issue 24): every numeric schema key at its bounds and outside them runs
or is refused in one line, through the CLI and the real ns-3.

tests/edge_values.py builds the values from the schema itself (a new key is walked without a change
here) and runs them through ``harness.cli.main`` in worker processes, a value that kills its worker
confirmed alone in ``python -m harness run``; bench/edge_values.py walks the values just inside the
closed bounds too (figures in bench/README.md).
"""

from __future__ import annotations

import collections

import pytest

import edge_values
from edge_values import Case, run_alone


def test_every_numeric_key_at_its_edges_runs_or_is_refused_in_one_line(tmp_path):
    cases = edge_values.ci_cases()
    outcomes = edge_values.run_cases(cases, tmp_path, timeout=300, workers=2)
    bad = [o for o in outcomes if not o.ok]
    assert not bad, "\n".join(f"{o.kind}: {o.case.label}: {o.detail.strip()[-800:]}" for o in bad)
    # Every number key of the schema was walked, and the walk reached both outcomes.
    walked = {o.case.key for o in outcomes}
    assert {key for key, _, _ in edge_values.numeric_keys()} <= walked
    kinds = collections.Counter(o.kind for o in outcomes)
    assert kinds["ran"] > 150 and kinds["refused"] > 150, kinds
    # A value outside a key's stated rule is refused, naming the key.
    for o in outcomes:
        if o.case.where in ("lo-out", "hi-out", "not-a-choice"):
            assert o.kind == "refused" and o.case.key.split("[")[0] in o.detail, o.case.label
    # Every base scenario runs as it is: each section's keys are walked on a valid scenario with the section on.
    assert {o.case.base for o in outcomes if o.case.where == "base" and o.kind == "ran"} == set(edge_values.BASES)


def test_a_value_that_kills_its_worker_is_attributed_to_it_and_the_walk_goes_on(tmp_path):
    # The worker runs many values in one process: one that kills it (here a SIGSEGV the worker sends
    # itself on a marker file, as an ns-3 fatal would) must be reported as that value's crash, and the
    # values after it still run in a new worker.
    cases = [Case("links.queue_packets", v, w, "tiny") for v, w in ((0, "lo-out"), (1, "lo"), (2, "lo-in"))]
    (tmp_path / "w0" / "c0001").mkdir(parents=True)
    (tmp_path / "w0" / "c0001" / "SIGSEGV").touch()
    outcomes = edge_values.run_cases(cases, tmp_path, timeout=300, workers=1)
    assert [o.kind for o in outcomes] == ["refused", "crash", "ran"], [(o.kind, o.detail[-300:]) for o in outcomes]
    assert "exit -11" in outcomes[1].detail and "but ran alone" in outcomes[1].detail


#: The values the walk found crashing (issue 24), each now refused in one line: run alone, in a fresh
#: ``python -m harness run``.
FOUND = [
    # The mesh of a cluster of 19 with one terminal each left a satellite with no link: a ValueError
    # (traceback) in the packet engine ("satellite 17 has no ISL").
    Case("links.terminals", 1, "lo", "cluster"),
    # Poisson arrivals at 5e-324 per second: gaps of inf s overflowed int64 ns into negative start
    # times, a ValueError in the packet engine.
    Case("serving.rate_per_s", 5e-324, "lo-in", "serving"),
]


@pytest.mark.parametrize("case", FOUND, ids=lambda c: f"{c.key}={c.value!r}")
def test_the_values_that_crashed_are_refused_in_one_line(case, tmp_path):
    outcome = run_alone(case, tmp_path, timeout=300)
    assert outcome.kind == "refused", f"{outcome.kind}: {outcome.detail[-2000:]}"


@pytest.mark.parametrize("what, key", [("arrivals", "serving.arrivals_path"), ("tle", "constellation.tle_file")])
def test_an_input_file_beyond_its_ceiling_is_refused_before_it_is_read(what, key, tmp_path):
    # A sparse file of 2**27 + 1 bytes: reading it whole would take the memory of many times its size.
    from harness.cli import check_run
    from harness.errors import ScenarioError
    from harness.formats.files import MAX_INPUT_BYTES

    import yaml

    raw = edge_values.BASES["tle" if what == "tle" else "serving"]
    raw = {**raw, "serving": {"arrivals": "file", "arrivals_path": "big.csv"}} if what == "arrivals" else \
        {**raw, "constellation": {**raw["constellation"], "tle_file": "big.tle"}}
    big = tmp_path / ("big.csv" if what == "arrivals" else "big.tle")
    with open(big, "wb") as f:
        f.truncate(MAX_INPUT_BYTES + 1)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ScenarioError, match=f"{MAX_INPUT_BYTES + 1} bytes, more than the {MAX_INPUT_BYTES}"):
        check_run(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()
