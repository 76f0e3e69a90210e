"""Command line: ``python -m harness run SCENARIO.yaml [--out DIR]``,
``python -m harness analyze RESULTS_DIR [OTHER_DIR]``,
``python -m harness topology SCENARIO.yaml --out FILE.npz``, ``python -m harness report RESULTS_DIR``,
``python -m harness doctor``.

A user's mistake (a bad scenario, a missing file, an impossible placement) is printed as one line
``error: ...`` with exit code 1; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from pathlib import Path

from harness.errors import HarnessError

log = logging.getLogger("harness")


def _parser() -> argparse.ArgumentParser:
    invoked = "space-xnet" if Path(sys.argv[0]).name == "space-xnet" else "python -m harness"  # the same command
    parser = argparse.ArgumentParser(prog=invoked,
                                     description="Packet-level MoE-on-LEO-constellation harness (ns-3).")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a scenario's strategies through ns-3 and write traces")
    run.add_argument("scenario", type=Path, help="scenario YAML (see topologies/)")
    run.add_argument("--out", type=Path, default=None,
                     help="results directory (default: results/<scenario name>)")
    run.add_argument("--plan", type=Path, default=None,
                     help="run this saved placement (from 'harness place') instead of the scenario's strategies")
    run.add_argument("--jobs", type=_positive_int, default=None,
                     help="strategies simulated at once, each in its own process (default: one per core); "
                          "the traces do not depend on it")
    run.add_argument("--report", action="store_true",
                     help="also write report.html, the interactive report, into the results directory")
    run.set_defaults(handler=_run)
    placer = commands.add_parser("place", help="make a strategy's placement for a scenario and save it as JSON")
    placer.add_argument("scenario", type=Path, help="scenario YAML")
    placer.add_argument("--strategy", required=True, help="a strategy name (see docs/scenario-reference.md)")
    placer.add_argument("--out", type=Path, required=True, help="plan file to write (.json)")
    placer.set_defaults(handler=_place)
    est = commands.add_parser("estimate", help="the run's estimated peak memory on this machine and, with "
                              "--explain, the boards, satellites per layer and memory headroom the model needs")
    est.add_argument("scenario", type=Path, help="scenario YAML")
    est.add_argument("--explain", action="store_true", help="also size the model for the board and the "
                     "constellation, per strategy, before any simulation")
    est.add_argument("--hardware", action="append", default=None, metavar="BOARD",
                     help="explain for this board profile instead of the scenario's (repeat for several)")
    est.set_defaults(handler=_estimate)
    conv = commands.add_parser("convert-trace", help="convert a routing trace [tokens, layers, top_k] (.npy, as "
                               "vLLM's --enable-return-routed-experts or Megatron record it) to an activation trace")
    conv.add_argument("routing", type=Path, help="routing trace .npy [tokens, layers, top_k]")
    conv.add_argument("--out", type=Path, required=True, help="activation trace to write (.npy or .csv)")
    conv.add_argument("--tokens-per-request", type=_positive_int, required=True,
                      help="tokens per request T: the tokens are cut into requests of T in order")
    conv.add_argument("--experts", type=_positive_int, default=None, help="experts per layer E (default: the preset's)")
    conv.add_argument("--preset", default=None, help="the traced model's preset: its experts and top_k, and which "
                      "rows of a trace holding every layer are its MoE layers")
    conv.set_defaults(handler=_convert_trace)
    analyze = commands.add_parser("analyze", help="recompute summary.json and plots from a results directory, "
                                  "or compare two")
    analyze.add_argument("results", type=Path, help="a results directory of 'harness run'")
    analyze.add_argument("other", type=Path, nargs="?", help="a second one to compare side by side")
    analyze.add_argument("--report", action="store_true",
                         help="also write RESULTS/report.html (see 'report'); with two directories, each one's")
    analyze.set_defaults(handler=_analyze)
    report = commands.add_parser("report", help="write a self-contained interactive HTML report of a results "
                                 "directory (map, token journeys, figures; works offline)")
    report.add_argument("results", type=Path, help="a results directory of 'harness run'")
    report.add_argument("--out", type=Path, default=None, help="HTML file to write (default: RESULTS/report.html)")
    report.set_defaults(handler=_report)
    sweep = commands.add_parser("sweep", help="run a grid of scenario variations on Dask and collect them")
    sweep.add_argument("sweep", type=Path, help="sweep YAML (see sweeps/)")
    sweep.add_argument("--out", type=Path, default=None, help="output directory (default: results/sweep-<name>)")
    sweep.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler "
                       "(default: a local cluster)")
    sweep.add_argument("--workers", type=int, default=None, help="local cluster workers (default: one per core)")
    sweep.set_defaults(handler=_sweep)
    paper = commands.add_parser("paper", help="compare a sweep's settings with the paper's four numbers "
                                "(writes OUT/paper.csv)")
    paper.add_argument("out", type=Path, help="the --out folder of a finished sweep (sweeps/paper_assumptions.yaml)")
    paper.add_argument("--rows", type=_positive_int, default=10, help="settings to print, closest first")
    paper.set_defaults(handler=_paper)
    ref = commands.add_parser("reference", help="print the scenario reference (Markdown) generated from the schema")
    ref.set_defaults(handler=_reference)
    topo = commands.add_parser("topology", help="export the scenario's satellite positions and ISLs per snapshot")
    topo.add_argument("scenario", type=Path, help="scenario YAML (see topologies/)")
    topo.add_argument("--out", type=Path, required=True, help="output .npz file")
    topo.set_defaults(handler=_topology)
    paths = commands.add_parser("paths", help="shortest ground -> satellites -> ground path between named ground "
                                "sites at every snapshot (RTT, hops, satellites) as CSV")
    paths.add_argument("scenario", type=Path, help="scenario YAML with ground.sites (see topologies/)")
    paths.add_argument("--pair", nargs=2, action="append", required=True, metavar=("A", "B"),
                       help="two site names (repeat for more pairs)")
    paths.add_argument("--out", type=Path, required=True, help="CSV file to write")
    paths.set_defaults(handler=_paths)
    doctor = commands.add_parser("doctor", help="report ns-3, the compiler and the module's build, and load it "
                                 "(compiling it first if needed)")
    doctor.set_defaults(handler=_doctor)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _doctor(args: argparse.Namespace) -> int:
    from harness.run.doctor import run

    run(lambda line: print(line, flush=True))
    print("ok: the harness is ready")
    return 0


def _paths(args: argparse.Namespace) -> int:
    from harness.run.estimate import check_memory
    from harness.formats.ground_paths import write_paths_csv
    from harness.run.pipeline import ground_paths_for
    from harness.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    if args.out.is_dir():
        raise HarnessError(f"--out {args.out} is a directory; name a .csv file")
    if not args.out.parent.is_dir():
        raise HarnessError(f"--out {args.out}: folder {args.out.parent} does not exist; create it first")
    check_memory(scenario)
    results = ground_paths_for(scenario, [tuple(p) for p in args.pair])
    write_paths_csv(args.out, results)
    for r in results:
        reach = r.reachable
        rtt = r.rtt_ns[reach]
        span = f"RTT {rtt.min() / 1e6:.3f} to {rtt.max() / 1e6:.3f} ms" if reach.any() else "never reachable"
        print(f"{r.src} -> {r.dst}: reachable at {int(reach.sum())} of {len(reach)} snapshots, {span}")
    print(f"-> {args.out}")
    return 0


def _topology(args: argparse.Namespace) -> int:
    from harness.constellation.sun import sunlit
    from harness.formats import results as traces
    from harness.run.estimate import check_memory
    from harness.run.pipeline import build_constellation, build_topology
    from harness.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    if args.out.suffix != ".npz":
        raise HarnessError(f"--out {args.out} must end in .npz (the export is a numpy .npz archive)")
    if args.out.is_dir():
        raise HarnessError(f"--out {args.out} is a directory; name a .npz file")
    check_memory(scenario)
    constellation = build_constellation(scenario)
    topology = build_topology(scenario, constellation)
    lit = sunlit(constellation, scenario.constellation.epoch)
    traces.write_topology_npz(args.out, traces.topology_npz_arrays(
        constellation, topology, lit, scenario_name=scenario.name, epoch_utc=scenario.constellation.epoch_utc))
    down = 1.0 - float(topology.up.mean())
    print(f"{topology.num_nodes} satellites, {topology.num_links} ISLs, {topology.num_snapshots} snapshots, "
          f"{down:.1%} of link-snapshots down, {1.0 - float(lit.mean()):.1%} of satellite-snapshots in eclipse "
          f"-> {args.out}")
    return 0


def check_run(scenario_path: Path, out: Path | None = None, plan: Path | None = None, jobs: int | None = None):
    """Everything ``harness run`` checks before it computes anything: the scenario, its activation
    trace file, the plan file and the results directory. Returns (scenario, results directory);
    raises HarnessError (one line) on any problem. The fuzz tests call this in-process."""
    from harness.run.estimate import check_memory
    from harness.formats import default_results_dir
    from harness.scenario import load_scenario

    scenario = load_scenario(scenario_path)
    check_memory(scenario, jobs=1 if plan is not None else jobs)  # refused before anything is allocated
    if plan is not None:
        from harness.placement import check_plan_for_scenario, load_plan

        if not Path(plan).is_file():
            raise HarnessError(f"plan file '{plan}' not found; make one with: python -m harness place "
                               f"SCENARIO --strategy NAME --out PLAN.json")
        m = scenario.model
        placement = load_plan(plan, num_satellites=scenario.constellation.num_satellites, layers=m.layers,
                              experts=m.experts)
        check_plan_for_scenario(placement, f"plan file '{plan}'", heads=m.heads)
    if scenario.activations.kind == "file":
        from harness.run.pipeline import build_activations

        build_activations(scenario)  # reads and checks the whole trace against the scenario
    if scenario.serving.arrivals == "file":
        from harness.workload.traffic import check_arrivals_file

        check_arrivals_file(scenario)  # reads and checks the whole arrivals file, as the run will
    out_dir = out if out is not None else default_results_dir(scenario.name)
    if out_dir.exists() and not out_dir.is_dir():
        raise HarnessError(f"--out {out_dir} is a file; name a directory")
    return scenario, out_dir


def _run(args: argparse.Namespace) -> int:
    from harness.analysis.summary import format_summary_table
    from harness.run.pipeline import run_scenario, write_run

    scenario, out_dir = check_run(args.scenario, args.out, args.plan, args.jobs)
    clock = time.perf_counter()
    progress = _Progress()
    result = run_scenario(scenario, progress=progress, plan=args.plan, jobs=args.jobs)
    progress.close()
    summary = write_run(scenario, result, out_dir, Path(args.scenario).read_text(), release=True)
    print(format_summary_table(summary))
    print(f"results in {out_dir}/ (tokens.csv, layers.csv, summary.json, plots/) after "
          f"{time.perf_counter() - clock:.1f} s")
    if args.report:
        from harness.analysis.report import write_report

        print(f"report -> {write_report(out_dir)}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from harness.analysis.report import write_report

    clock = time.perf_counter()
    out = write_report(args.results, args.out)
    print(f"report -> {out} ({out.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - clock:.1f} s); open it in "
          f"a browser, it needs no network")
    return 0


def _place(args: argparse.Namespace) -> int:
    from harness.run.pipeline import check_placement_memory, prepare
    from harness.seeding import rng_for
    from harness.placement import place, save_plan
    from harness.scenario import load_scenario
    from harness.names import STRATEGY_NAMES

    scenario = load_scenario(args.scenario)
    if args.strategy not in STRATEGY_NAMES:
        raise HarnessError(f"unknown strategy '{args.strategy}'; choose from: {', '.join(STRATEGY_NAMES)}")
    prep = prepare(scenario)
    placement = place(args.strategy, prep.inputs, rng_for(scenario.seed, f"placement:{args.strategy}"))
    check_placement_memory(scenario, placement, prep.topology.num_nodes)
    save_plan(placement, args.out)
    print(f"{args.strategy}: {len(placement.components)} components on {prep.topology.num_nodes} satellites "
          f"-> {args.out}")
    return 0


def _estimate(args: argparse.Namespace) -> int:
    from harness.errors import ScenarioError
    from harness.formats.files import read_yaml_file
    from harness.run.estimate import available_memory_bytes, estimate_memory
    from harness.run.explain import explain
    from harness.scenario import load_scenario, scenario_from_dict

    scenario = load_scenario(args.scenario)
    estimate = estimate_memory(scenario)
    print(f"run {scenario.name}: estimated peak {estimate.total_bytes / 2**30:.2f} GiB "
          f"(largest: {estimate.largest()}), {available_memory_bytes() / 2**30:.1f} GiB available")
    if not args.explain:
        return 0
    scenarios = [scenario]
    if args.hardware:
        raw = read_yaml_file(args.scenario, "scenario file", ScenarioError)
        scenarios = [scenario_from_dict({**raw, "compute": {**(raw.get("compute") or {}), "hardware": board}},
                                        base_dir=args.scenario.parent, source=f"{args.scenario} (hardware {board})")
                     for board in args.hardware]
    for i, sc in enumerate(scenarios):
        if i:
            print()
        print("\n".join(explain(sc)))
    return 0


def _convert_trace(args: argparse.Namespace) -> int:
    from harness.formats.routing_trace import convert_routed_experts
    from harness.scenario import MODEL_PRESETS, ModelSpec
    from harness.scenario.model import gateway_layers

    moe_layers = top_k = None
    experts = args.experts
    if args.preset is not None:
        if args.preset not in MODEL_PRESETS:
            raise HarnessError(f"unknown preset '{args.preset}'; choose from: {', '.join(MODEL_PRESETS)}")
        model = ModelSpec(**MODEL_PRESETS[args.preset])
        experts = experts or model.experts
        top_k = model.top_k
        if model.has_dense_layers:
            moe_layers = [hosted[-1] for hosted in gateway_layers(model)]
    if experts is None:
        raise HarnessError("give --experts (the traced model's experts per layer) or --preset")
    if args.out.suffix.lower() not in (".npy", ".csv"):
        raise HarnessError(f"--out {args.out}: name a .npy or .csv file")
    trace = convert_routed_experts(args.routing, args.out, num_experts=experts,
                                   tokens_per_request=args.tokens_per_request, moe_layers=moe_layers, top_k=top_k)
    r, t, l, k = trace.shape
    print(f"{r} requests x {t} tokens x {l} layers x top-{k} -> {args.out} (activations: {{kind: file, path: ...}})")
    return 0


def _paper(args: argparse.Namespace) -> int:
    from harness.analysis.paper_comparison import compare_sweep, format_table, paper_csv
    from harness.formats.results import write_files

    comparisons = compare_sweep(args.out)
    write_files(args.out, {"paper.csv": paper_csv(comparisons)})
    print(format_table(comparisons, args.rows))
    print(f"{len(comparisons)} settings compared -> {args.out / 'paper.csv'}")
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from harness.analysis.summary import format_comparison, format_summary_table
    from harness.run.pipeline import analyze_directory

    summaries = []
    for directory in [args.results, *([args.other] if args.other else [])]:
        summaries.append(analyze_directory(directory))  # a strict reader: ResultsError names the file
        print(f"{directory}:")
        print(format_summary_table(summaries[-1]))
    if args.report:
        from harness.analysis.report import write_report

        for directory in [args.results, *([args.other] if args.other else [])]:
            print(f"report -> {write_report(directory)}")
    if len(summaries) == 2:
        print()
        print(format_comparison(summaries[0], summaries[1], args.results.name, args.other.name))
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from harness.errors import SweepError
    from harness.run.sweep import load_sweep, run_sweep, write_collection

    sweep = load_sweep(args.sweep, args.out)
    out = sweep.out_dir
    failed = run_sweep(sweep, scheduler=args.scheduler, workers=args.workers)
    print(write_collection(sweep), end="")
    print(f"sweep table and plot in {out}/ (sweep.csv, sweep.png)")
    if failed:
        listed = ", ".join(f"{f['point']} ({f['signal'] or 'exit ' + str(f['returncode'])})" for f in failed[:10])
        raise SweepError(f"{len(failed)} of {len(sweep.points)} points failed: {listed}"
                         f"{' ...' if len(failed) > 10 else ''}; logs in {out}/logs/, details in {out}/failed.json; "
                         f"rerun the same command to retry only the failed points")
    return 0


def _reference(args: argparse.Namespace) -> int:
    from harness.scenario.reference import scenario_reference_markdown

    sys.stdout.write(scenario_reference_markdown())
    return 0


class _Progress:
    """One status line on a terminal (rewritten in place), or a log line every 10 s otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.shown = False

    def __call__(self, strategy: str, now_s: float, horizon_s: float, done: int, total: int) -> None:
        line = f"{strategy}: simulated {now_s:.1f} of {horizon_s:.0f} s, {done}/{total} tokens"
        if self.tty:
            sys.stderr.write("\r" + line.ljust(70))
            sys.stderr.flush()
            self.shown = True
        elif time.monotonic() - self.last > 10:
            self.last = time.monotonic()
            log.info(line)

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so that staging directories are removed on the way out."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminated)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for chatty in ("distributed", "matplotlib"):  # their INFO lines are about themselves, not the run
        logging.getLogger(chatty).setLevel(logging.DEBUG if args.debug else logging.WARNING)
    try:
        return args.handler(args)
    except HarnessError as exc:
        if args.debug:
            raise
        print("error: " + " ".join(str(exc).split()), file=sys.stderr)  # always one line
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
