"""The comparison of a sweep with the paper's numbers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import ResultsError
from harness.analysis.paper_comparison import PAPER_MEAN_S, compare_sweep, paper_csv

REPO = Path(__file__).resolve().parents[1]

HEADER = "point,model.combine,strategy,tokens,completed,mean_ns,p50_ns,p95_ns,p99_ns\n"


def sweep_dir(tmp_path: Path, means: dict[int, dict[str, int]]) -> Path:
    lines = [HEADER]
    for point, by_strategy in means.items():
        for strategy, mean_ns in by_strategy.items():
            lines.append(f"{point},{'own' if point else 'next'},{strategy},8,8,{mean_ns},0,0,0\n")
    (tmp_path / "sweep.csv").write_text("".join(lines))
    return tmp_path


def test_points_are_ranked_by_their_worst_relative_error(tmp_path):
    exact = {s: int(v * 1e9) for s, v in PAPER_MEAN_S.items()}
    off = {**exact, "space-xnet": int(1.05e9 * 1.5)}  # space-xnet 50 % slow
    out = sweep_dir(tmp_path, {0: off, 1: exact})
    ranked = compare_sweep(out)
    assert [c.point for c in ranked] == [1, 0]
    assert ranked[0].worst_error == pytest.approx(0.0, abs=1e-9)
    assert ranked[1].worst_error == pytest.approx(0.5) and ranked[1].error("space-xnet") == pytest.approx(0.5)
    assert ranked[0].speedup == pytest.approx(3.35 / 1.05)
    table = paper_csv(ranked).splitlines()
    assert table[1].startswith("paper,") and table[2].startswith("1,own,")


def test_cli_writes_paper_csv_and_refuses_a_folder_without_a_sweep(tmp_path):
    out = sweep_dir(tmp_path / "s", {0: {s: int(v * 1e9) for s, v in PAPER_MEAN_S.items()}}) \
        if (tmp_path / "s").mkdir() is None else None
    done = subprocess.run([sys.executable, "-m", "harness", "paper", str(out)], capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (out / "paper.csv").is_file() and "1 settings compared" in done.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    done = subprocess.run([sys.executable, "-m", "harness", "paper", str(empty)], capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "sweep.csv" in done.stderr
    with pytest.raises(ResultsError):
        compare_sweep(empty)


def test_a_sweep_with_report_paper_writes_paper_csv(tmp_path):
    """One point of tiny.yaml with the paper's four strategies, through the real sweep (Dask, one
    worker): sweep.csv and paper.csv; a report the sweep does not know is refused in one line."""
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"""
name: p
base: {REPO / "topologies" / "tiny.yaml"}
report: paper
set:
  strategies: [space-xnet, rand-intra-cg, rand-intra, rand-place]
  traffic.tokens_per_request: 2
  traffic.requests: 1
grid:
  model.combine: [own-gateway]
""")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "harness", "sweep", str(sweep), "--out", str(out), "--workers", "1"],
                          capture_output=True, text=True, cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = (out / "paper.csv").read_text().splitlines()
    assert rows[0].startswith("point,model.combine,rand-place_s") and rows[1].startswith("paper,")
    assert rows[2].startswith("0,own-gateway,")
    sweep.write_text(sweep.read_text().replace("report: paper", "report: nature"))
    done = subprocess.run([sys.executable, "-m", "harness", "sweep", str(sweep), "--out", str(out)],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 1 and "'report'" in done.stderr and done.stderr.count("\n") == 1
