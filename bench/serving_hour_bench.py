"""Benchmark: an hour of serving traffic (issue 23), phase by phase.

Runs ``topologies/serving_hour_walker_1584.yaml`` (walker_1584, the shipped world cities, Poisson
1 request/s of 16 output tokens, no prefill, two replicas nearest-to-user, space-xnet; 3,600
snapshots of 1 s) as ``python -m harness run`` does, in a fresh process per measurement, and prints:

- wall time and its phases: constellation (positions, ISLs, ground links, workload: ``prepare``),
  placement, routes (Python path queries before the packet simulation: unreachable pairs, the
  replicas' gateway delays, the users' links), simulation (``run_packet_sim``: network setup and
  Simulator::Run, whose on-demand shortest paths are in C++), writing (network.npz and the results
  directory, summary and plots included);
- peak memory: the summed PSS of the run's process and its children (bench/common.py);
- simulated seconds, tokens and packet-hops per wall second;
- CPU time (user + system, the run's process and its children): on a machine shared with other
  jobs, the wall time is about this divided by the share of a core the run got.

``--seconds S`` runs a shorter horizon: S snapshots of 1 s and S - 60 requests (the last arrives
about a minute before the end), e.g. ``--seconds 600`` in a few minutes.

``--scenario PATH`` runs another scenario of the same kind instead, e.g.
``topologies/serving_day_walker_1584.yaml`` (a day: see bench/README.md).

``--ref GITREF`` measures that commit's code (``git archive`` into a temporary directory, run with
it on PYTHONPATH) alternately with this checkout's, ``--repeat`` times each, in the same run: the
figures are medians and the ratios compare like with like on a shared machine. ``--save`` /
``--baseline`` work as in the other benches.

``--mtu 9000`` runs the fast mode: jumbo frames, one packet per hidden state (docs/performance.md).
``--forwarding ip`` runs the IP mode (``links.forwarding: ip``, the default before the link-level
mode; the same traces, docs/performance.md); the fastest mode is the default's link-level forwarding
with jumbo frames. ``--ref-mtu`` / ``--ref-forwarding`` set them for the ``--ref`` code
(default: the same as this checkout's), so ``--ref HEAD --ref-forwarding ip --forwarding link``
compares the two modes of one commit in the same run.

    python bench/serving_hour_bench.py [--seconds 3600] [--mtu 9000] [--forwarding link] [--ref main] [--repeat 1] [--save F] [--baseline F]
"""

from __future__ import annotations

import argparse
import json
import inspect
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "topologies" / "serving_hour_walker_1584.yaml"
DRAIN_S = 60  # the last request arrives about this long before the horizon

PHASES = ("constellation", "placement", "routes", "simulation", "writing")


def _scenario(path: Path, seconds: int | None, mtu: int | None = None, forwarding: str | None = None):
    import yaml

    from harness.scenario import _YamlLoader, load_scenario, scenario_from_dict

    if seconds is None and mtu is None and forwarding is None:
        return load_scenario(path), path.read_text()
    raw = yaml.load(path.read_text(), Loader=_YamlLoader)  # the harness's own YAML rules
    if seconds is not None:
        raw["snapshots"]["count"] = int(seconds)
        raw["traffic"]["requests"] = max(1, int(seconds) - DRAIN_S)
        raw["name"] = f"{raw['name']}_{int(seconds)}s"
    if mtu is not None:
        raw["links"]["mtu_bytes"] = int(mtu)
        raw["name"] = f"{raw['name']}_mtu{int(mtu)}"
    if forwarding is not None:
        raw["links"]["forwarding"] = forwarding
        raw["name"] = f"{raw['name']}_{forwarding}"
    return scenario_from_dict(raw, base_dir=path.parent, source=str(path)), yaml.safe_dump(raw)


def measure(seconds: int | None, out_dir: Path, mtu: int | None = None, forwarding: str | None = None) -> dict:
    """One run in this process, its phases timed by wrapping the pipeline's steps."""
    sys.path.insert(0, str(REPO / "bench"))
    from common import TreeRss, _descendants, _memory_mb

    import harness.run.pipeline as pipeline
    import harness.run.strategy as strategy

    scenario, text = _scenario(Path(os.environ.get("SERVING_BENCH_SCENARIO", SCENARIO)), seconds, mtu, forwarding)
    spent = dict.fromkeys(PHASES, 0.0)
    sim = {}

    current = ["other"]  # the phase running now, for the per-phase memory peaks
    peaks: dict[str, float] = {}

    def timed(phase, fn):
        def wrapper(*args, **kwargs):
            clock = time.perf_counter()
            before, current[0] = current[0], phase
            try:
                return fn(*args, **kwargs)
            finally:
                current[0] = before
                spent[phase] += time.perf_counter() - clock
        return wrapper

    real_run_strategy, real_packet_sim = strategy.run_strategy, strategy.run_packet_sim

    def run_strategy(*args, **kwargs):  # routes: everything before the packet simulation starts
        sim["strategy_start"] = time.perf_counter()
        clock = time.perf_counter()
        out = real_run_strategy(*args, **kwargs)
        sim["strategy_s"] = sim.get("strategy_s", 0.0) + time.perf_counter() - clock
        return out

    def run_packet_sim(*args, **kwargs):
        spent["routes"] += time.perf_counter() - sim["strategy_start"]
        clock, cpu = time.perf_counter(), time.process_time()
        current[0] = "simulation"
        result = real_packet_sim(*args, **kwargs)
        current[0] = "other"
        spent["simulation"] += time.perf_counter() - clock
        sim["simulation_cpu_s"] = sim.get("simulation_cpu_s", 0.0) + time.process_time() - cpu
        sim["run_wall_s"] = sim.get("run_wall_s", 0.0) + result.run_wall_s
        sim["packet_hops"] = sim.get("packet_hops", 0) + result.packet_hops
        sim["tokens"] = sim.get("tokens", 0) + int((result.token_end_ns >= 0).sum())
        sim["end_ns"] = max(sim.get("end_ns", 0), int(result.token_end_ns.max()))
        sim["routing_nodes_settled"] = sim.get("routing_nodes_settled", 0) + result.routing_nodes_settled
        return result

    pipeline.prepare = timed("constellation", pipeline.prepare)
    pipeline.place_replicas = timed("placement", pipeline.place_replicas)
    pipeline.run_strategy = run_strategy  # jobs=1 below: the strategy runs in this process
    strategy.run_packet_sim = run_packet_sim
    pipeline.network_npz = timed("writing", pipeline.network_npz)

    class PhaseRss(TreeRss):
        """TreeRss (bench/common.py), and the peak PSS within each phase: where the memory goes."""

        def _sample(self) -> None:
            me = os.getpid()
            while not self._stop.is_set():
                tree = [me] + _descendants(me)
                pss = sum(_memory_mb(p, "Pss") for p in tree)
                self.peak_mb = max(self.peak_mb, pss)
                peaks[current[0]] = max(peaks.get(current[0], 0.0), pss)
                self.peak_rss_sum_mb = max(self.peak_rss_sum_mb, sum(_memory_mb(p, "Rss") for p in tree))
                self._stop.wait(0.25)

    clock, cpu = time.perf_counter(), os.times()
    with PhaseRss() as rss:
        result = pipeline.run_scenario(scenario, jobs=1)
        wclock = time.perf_counter()
        current[0] = "writing"
        # as `harness run` does; a --ref commit older than write_run's release lets go of nothing
        release = {"release": True} if "release" in inspect.signature(pipeline.write_run).parameters else {}
        pipeline.write_run(scenario, result, out_dir, text, **release)
        spent["writing"] += time.perf_counter() - wclock
    wall = time.perf_counter() - clock
    now = os.times()
    # CPU time of the run (this process and any it forked): on a shared machine, wall time is
    # this divided by the share of a core the run got.
    cpu_s = sum(getattr(now, f) - getattr(cpu, f) for f in ("user", "system", "children_user", "children_system"))
    accounted = sum(spent.values()) + sim["strategy_s"] - spent["routes"] - spent["simulation"]
    horizon_s = scenario.snapshots.horizon_s
    figures = {"wall_s": wall, "cpu_s": cpu_s}
    figures.update({f"phase_{p}_s": spent[p] for p in PHASES})
    figures["phase_after_simulation_s"] = sim["strategy_s"] - spent["routes"] - spent["simulation"]
    figures["phase_other_s"] = wall - accounted
    figures["simulator_run_s"] = sim["run_wall_s"]
    figures["simulation_cpu_s"] = sim["simulation_cpu_s"]
    figures["peak_pss_mb"] = rss.peak_mb
    figures["peak_rss_sum_mb"] = rss.peak_rss_sum_mb
    figures.update({f"peak_pss_{p}_mb": peaks.get(p, 0.0) for p in PHASES})
    figures["simulated_s"] = horizon_s
    figures["simulated_s_per_wall_s"] = horizon_s / wall
    figures["simulated_s_per_cpu_s"] = horizon_s / cpu_s
    figures["tokens"] = sim["tokens"]
    figures["tokens_per_wall_s"] = sim["tokens"] / wall
    figures["packet_hops"] = sim["packet_hops"]
    figures["packet_hops_per_wall_s"] = sim["packet_hops"] / wall
    figures["us_per_packet_hop_in_run"] = sim["run_wall_s"] / max(1, sim["packet_hops"]) * 1e6
    figures["routing_nodes_settled"] = sim["routing_nodes_settled"]
    return figures


def _child(code: Path, seconds: int | None, mtu: int | None = None, forwarding: str | None = None) -> dict:
    """One measurement in a fresh process running ``code``'s harness."""
    with tempfile.TemporaryDirectory(prefix="serving-hour-") as tmp:
        env = dict(os.environ, PYTHONPATH=str(code))
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(Path(tmp) / "out")]
        if seconds is not None:
            cmd += ["--seconds", str(seconds)]
        if mtu is not None:
            cmd += ["--mtu", str(mtu)]
        if forwarding is not None:
            cmd += ["--forwarding", forwarding]
        done = subprocess.run(cmd, env=env, cwd=str(code), capture_output=True, text=True)
        if done.returncode != 0:
            sys.stderr.write(done.stderr[-4000:])
            raise SystemExit(f"error: the measurement with {code} failed (exit {done.returncode})")
        return json.loads(done.stdout.strip().splitlines()[-1])


def _median(runs: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=None, help="horizon in 1 s snapshots (default: the "
                        "scenario's 3,600); requests = seconds - 60")
    parser.add_argument("--mtu", type=int, default=None, help="links.mtu_bytes for the run (default: the "
                        "scenario's 1,500 B); 9000 carries each 8 KiB hidden state in one packet (the fast "
                        "mode, docs/performance.md)")
    parser.add_argument("--forwarding", choices=("ip", "link"), default=None, help="links.forwarding for the "
                        "run (default: the scenario's, link); ip: UDP over IPv4 at the endpoints (docs/performance.md)")
    parser.add_argument("--ref-mtu", type=int, default=None, help="--mtu for the --ref code (default: --mtu)")
    parser.add_argument("--ref-forwarding", choices=("ip", "link"), default=None,
                        help="--forwarding for the --ref code (default: --forwarding)")
    parser.add_argument("--scenario", type=Path, default=None, help="another scenario of the same kind (default: "
                        "topologies/serving_hour_walker_1584.yaml), e.g. topologies/serving_day_walker_1584.yaml")
    parser.add_argument("--ref", default=None, help="also measure this git commit's code, alternately, in this run")
    parser.add_argument("--repeat", type=int, default=1, help="measurements of each code (medians reported)")
    parser.add_argument("--save", type=Path, help="write this checkout's figures to this JSON file")
    parser.add_argument("--baseline", type=Path, help="a JSON file written by --save: print each figure's ratio")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        import logging

        logging.basicConfig(level=logging.WARNING)
        print(json.dumps(measure(args.seconds, args.child, args.mtu, args.forwarding)))
        return 0

    if args.scenario is not None:
        os.environ["SERVING_BENCH_SCENARIO"] = str(args.scenario.resolve())  # the children read it
    codes = {"this checkout": REPO}
    tmp = None
    if args.ref:
        tmp = Path(tempfile.mkdtemp(prefix="serving-hour-ref-"))
        archive = subprocess.run(["git", "-C", str(REPO), "archive", args.ref], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive.stdout, check=True)
        shutil.copy(SCENARIO, tmp / "topologies" / SCENARIO.name)  # the ref may predate the scenario
        codes = {f"ref {args.ref}": tmp, "this checkout": REPO}
        schema = tmp / "harness" / "scenario" / "constellation.py"
        ref_knows_forwarding = schema.exists() and "forwarding: str" in schema.read_text()
    runs: dict[str, list[dict]] = {name: [] for name in codes}
    loads = []
    try:
        for i in range(args.repeat):
            for name, code in codes.items():
                loads.append(os.getloadavg()[0])
                if name.startswith("ref"):
                    mtu = args.mtu if args.ref_mtu is None else args.ref_mtu
                    forwarding = args.forwarding if args.ref_forwarding is None else args.ref_forwarding
                    mtu = None if mtu == 1500 else mtu
                    if forwarding == "ip" and not ref_knows_forwarding:
                        forwarding = None  # a ref older than links.forwarding runs IP, its only mode
                else:
                    mtu, forwarding = args.mtu, args.forwarding
                runs[name].append(_child(code, args.seconds, mtu, forwarding))
                print(f"  [{i + 1}/{args.repeat}] {name}: {runs[name][-1]['wall_s']:.1f} s wall "
                      f"(load average {loads[-1]:.2f})", flush=True)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    medians = {name: _median(r) for name, r in runs.items()}
    mine = medians["this checkout"]
    before = json.loads(args.baseline.read_text()) if args.baseline else {}
    ref = medians.get(f"ref {args.ref}") if args.ref else None
    print(f"serving hour bench: {mine['simulated_s']:.0f} simulated s, medians of {args.repeat} run(s), "
          f"load average {statistics.median(loads):.2f} (min {min(loads):.2f}, max {max(loads):.2f}), "
          f"{os.cpu_count()} cores")
    header = f"  {'figure':32s} {'this checkout':>14s}"
    if ref is not None:
        header += f" {'ref ' + args.ref:>14s}   ratio"
    print(header)
    for name, value in mine.items():
        line = f"  {name:32s} {value:14.3f}"
        if ref is not None:
            line += f" {ref[name]:14.3f}   x{value / ref[name]:.2f}" if ref[name] else f" {ref[name]:14.3f}"
        if before.get(name):
            line += f"   x{value / before[name]:.2f} vs saved baseline"
        print(line)
    if args.save:
        args.save.write_text(json.dumps(mine, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
