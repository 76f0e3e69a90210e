"""The simulation section of the scenario schema: options of the engines (issue 25).

Off by default (``simulation.analytic_queueing: false``): the analytic model is the one of every
earlier trace, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.scenario.schema import _spec


@dataclass(frozen=True)
class SimulationSpec:
    """Options of the simulation engines (docs/simulation.md)."""

    analytic_queueing: bool = _spec(False, help="analytic model (tokens.csv's analytic columns): the messages "
                                    "one token sends together (a gateway's k dispatches, the outputs converging "
                                    "on the next gateway, a tensor-parallel layer's scatter, expert outputs to "
                                    "every shard, the gathers) queue for the links they share, packet by packet "
                                    "and first come first served, as in ns-3; false: every message is timed "
                                    "alone (the model of earlier traces, kept off by default so that they stay "
                                    "comparable byte for byte). Clusters and tensor-parallel scatter need it "
                                    "for the analytic model to agree with ns-3 within 0.1 % (docs/clusters.md)")
