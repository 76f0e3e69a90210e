"""The memory estimate: oversized scenarios are refused in one line before anything is allocated."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from harness.errors import ScenarioError
from harness.run.estimate import GiB, available_memory_bytes, check_memory, estimate_memory
from harness.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]


def test_the_estimate_grows_with_snapshots_and_satellites():
    base = load_scenario(REPO / "topologies" / "walker_1584.yaml")
    longer = replace(base, snapshots=replace(base.snapshots, count=4 * base.snapshots.count))
    assert estimate_memory(longer).parts["topology"] == 4 * estimate_memory(base).parts["topology"]
    bigger = load_scenario(REPO / "topologies" / "walker_6400_qwen3.yaml")
    assert estimate_memory(bigger).total_bytes > estimate_memory(base).total_bytes


def test_shipped_scenarios_fit_the_8_gib_the_large_one_is_promised():
    for name in ("tiny", "polar_1056", "walker_1584", "walker_6400_qwen3"):
        estimate = estimate_memory(load_scenario(REPO / "topologies" / f"{name}.yaml"))
        assert estimate.total_bytes < 8 * GiB, (name, estimate.parts)


def test_refusal_names_the_estimate_the_largest_part_and_its_key():
    scenario = load_scenario(REPO / "topologies" / "walker_1584.yaml")
    estimate = estimate_memory(scenario)
    with pytest.raises(ScenarioError) as info:
        check_memory(scenario, available_bytes=estimate.total_bytes - 1)
    message = str(info.value)
    assert "needs an estimated" in message and "GiB" in message and "\n" not in message
    assert "reduce" in message
    assert check_memory(scenario, available_bytes=estimate.total_bytes) == estimate
    assert available_memory_bytes() > 0


def test_cli_refuses_an_oversized_scenario_in_one_line_and_writes_nothing(tmp_path):
    raw = yaml.safe_load((REPO / "topologies" / "walker_1584.yaml").read_text())
    raw["name"] = "oversized"
    raw["snapshots"]["count"] = 500_000  # ~250 GB of link state, within the schema's ceilings
    path = tmp_path / "oversized.yaml"
    path.write_text(yaml.safe_dump(raw))
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "harness", "run", str(path), "--out", str(out)],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "needs an estimated" in lines[0] and "snapshots.count" in lines[0]
    assert not out.exists()
