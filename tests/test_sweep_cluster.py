"""A sweep on a real Dask deployment: a ``dask scheduler`` and two ``dask worker`` processes, each
started on its own, on loopback, as on a cluster (docs/sweeps.md), give the same sweep.csv as the
local cluster. The test stops the processes it started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).parent / "dask"
LOOPBACK = "127.0.0.1"
WORKERS = ("sx-worker-0", "sx-worker-1")

SWEEP = """
name: cluster
base: {base}
set:
  traffic.tokens_per_request: 2
  traffic.requests: 1
  snapshots.count: 3
grid:
  constellation.altitude_km: [550, 800]
  seed: [1, 2]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def sweep_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", "sweep", *args], capture_output=True, text=True,
                          cwd=cwd, check=False, timeout=600)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group this test started (a worker's nanny and its worker), then
    SIGKILL after 20 s."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture
def dask_deployment(tmp_path):
    """A scheduler and two single-threaded workers, each its own process (group), on loopback."""
    assert DASK.is_file(), f"{DASK}: the dask command comes with distributed"
    address = f"tcp://{LOOPBACK}:{free_port()}"
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    processes: list[subprocess.Popen] = []

    def start(name: str, *args: str) -> None:
        with open(logs / f"{name}.log", "w") as log:
            processes.append(subprocess.Popen([str(DASK), *args], cwd=logs, stdout=log, stderr=subprocess.STDOUT,
                                              start_new_session=True))

    try:
        start("scheduler", "scheduler", "--host", LOOPBACK, "--port", address.rsplit(":", 1)[1],
              "--no-dashboard")
        for name in WORKERS:
            start(name, "worker", address, "--name", name, "--host", LOOPBACK, "--nworkers", "1",
                  "--nthreads", "1", "--no-dashboard", "--local-directory", str(logs / name))
        from dask.distributed import Client

        deadline = time.monotonic() + 120
        names: set = set()
        while time.monotonic() < deadline:
            assert all(p.poll() is None for p in processes), \
                "a dask process exited: " + " | ".join(f.read_text()[-400:] for f in logs.glob("*.log"))
            try:
                with Client(address, timeout=5) as client:
                    names = {w["name"] for w in client.scheduler_info()["workers"].values()}
            except OSError:
                names = set()
            if names == set(WORKERS):
                break
            time.sleep(1)
        assert names == set(WORKERS), f"workers {names} registered, not {WORKERS}"
        yield address
    finally:
        for process in reversed(processes):
            stop(process)
    assert all(p.returncode is not None for p in processes)


def points_run_by_worker(address: str) -> dict[str, int]:
    """How many sweep points (``run_point`` tasks) each worker of the deployment has run."""
    from dask.distributed import Client

    def count(dask_worker):
        return len({str(entry[0]) for entry in dask_worker.state.log if "run_point" in str(entry[0])})

    with Client(address, timeout=10) as client:
        by_address = client.run(count)
        names = {a: w["name"] for a, w in client.scheduler_info()["workers"].items()}
    return {names[a]: n for a, n in by_address.items()}


def test_a_sweep_on_a_separately_started_scheduler_and_workers_matches_the_local_cluster(tmp_path, dask_deployment):
    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text(SWEEP.format(base=REPO / "topologies" / "tiny.yaml"))

    remote = sweep_cli(str(sweep_file), "--out", str(tmp_path / "remote"), "--scheduler", dask_deployment,
                       cwd=tmp_path)
    assert remote.returncode == 0, remote.stderr
    ran = points_run_by_worker(dask_deployment)
    assert sum(ran.values()) == 4, ran
    assert all(ran[name] >= 1 for name in WORKERS), f"both workers should run points: {ran}"

    local = sweep_cli(str(sweep_file), "--out", str(tmp_path / "local"), "--workers", "2", cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    remote_csv = (tmp_path / "remote" / "sweep.csv").read_bytes()
    assert remote_csv.count(b"\n") == 1 + 4
    assert remote_csv == (tmp_path / "local" / "sweep.csv").read_bytes()
