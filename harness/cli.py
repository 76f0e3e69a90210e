"""Command line: ``python -m harness run SCENARIO.yaml [--out DIR]``,
``python -m harness topology SCENARIO.yaml --out FILE.npz``.

A user's mistake (a bad scenario, a missing file, an impossible placement) is printed as one line
``error: ...`` with exit code 1; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .errors import HarnessError

log = logging.getLogger("harness")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness",
                                     description="Packet-level MoE-on-LEO-constellation harness (ns-3).")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a scenario's strategies through ns-3 and write traces")
    run.add_argument("scenario", type=Path, help="scenario YAML (see topologies/)")
    run.add_argument("--out", type=Path, default=None,
                     help="results directory (default: results/<scenario name>)")
    run.set_defaults(handler=_run)
    topo = commands.add_parser("topology", help="export the scenario's satellite positions and ISLs per snapshot")
    topo.add_argument("scenario", type=Path, help="scenario YAML (see topologies/)")
    topo.add_argument("--out", type=Path, required=True, help="output .npz file")
    topo.set_defaults(handler=_topology)
    return parser


def _topology(args: argparse.Namespace) -> int:
    from . import traces
    from .pipeline import build_constellation, build_topology
    from .scenario import load_scenario

    scenario = load_scenario(args.scenario)
    if args.out.suffix != ".npz":
        raise HarnessError(f"--out {args.out} must end in .npz (the export is a numpy .npz archive)")
    if args.out.is_dir():
        raise HarnessError(f"--out {args.out} is a directory; name a .npz file")
    constellation = build_constellation(scenario)
    topology = build_topology(scenario, constellation)
    traces.write_topology_npz(args.out, traces.topology_npz_arrays(
        constellation, topology, scenario_name=scenario.name, epoch_utc=scenario.constellation.epoch_utc))
    down = 1.0 - float(topology.up.mean())
    print(f"{topology.num_nodes} satellites, {topology.num_links} ISLs, {topology.num_snapshots} snapshots, "
          f"{down:.1%} of link-snapshots down -> {args.out}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from . import traces
    from .analysis import format_summary_table
    from .pipeline import run_scenario
    from .scenario import load_scenario

    scenario = load_scenario(args.scenario)
    out_dir = args.out if args.out is not None else Path("results") / scenario.name
    if out_dir.exists() and not out_dir.is_dir():
        raise HarnessError(f"--out {out_dir} is a file; name a directory")
    result = run_scenario(scenario)
    traces.write_results(out_dir, {
        "tokens.csv": traces.tokens_csv(result.traces),
        "layers.csv": traces.layers_csv(result.traces),
        "summary.json": traces.summary_json(result.summary),
    })
    print(format_summary_table(result.summary))
    print(f"traces written to {out_dir}/ (tokens.csv, layers.csv, summary.json)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    try:
        return args.handler(args)
    except HarnessError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
