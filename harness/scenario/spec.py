"""The whole scenario: one frozen :class:`Scenario` of the section specs (built and checked by
:mod:`.loader`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.scenario.constellation import ConstellationSpec, LinkSpec, PlacementSpec, RoutingSpec, SnapshotSpec
from harness.scenario.faults import FaultSpec
from harness.scenario.ground import GroundSpec, UsersSpec
from harness.scenario.model import ComputeSpec, ModelSpec
from harness.scenario.power import PowerSpec
from harness.scenario.schema import MAX_SEED, _name_problem, _range, _section, _spec
from harness.scenario.serving import ActivationSpec, ServingSpec, TrafficSpec
from harness.scenario.simulation import SimulationSpec


@dataclass(frozen=True)
class Scenario:
    """One scenario: constellation, links, model, traffic and the strategies to compare."""

    name: str = _spec(help="scenario name, used in reports and (sanitised: letters, digits, '.', '-', '_') as "
                      "the default results directory results/<name>", check=_name_problem)
    seed: int = _spec(1, help="seed of every random choice (traces, random placements, ns-3 streams)",
                      check=_range(0, MAX_SEED))
    strategies: tuple = _spec(("space-xnet",), help="placement strategies to run, by name")
    constellation: ConstellationSpec = _section(ConstellationSpec)
    snapshots: SnapshotSpec = _section(SnapshotSpec)
    links: LinkSpec = _section(LinkSpec)
    routing: RoutingSpec = _section(RoutingSpec)
    placement: PlacementSpec = _section(PlacementSpec)
    compute: ComputeSpec = _section(ComputeSpec)
    model: ModelSpec = _section(ModelSpec)
    traffic: TrafficSpec = _section(TrafficSpec)
    activations: ActivationSpec = _section(ActivationSpec)
    faults: FaultSpec = _section(FaultSpec)
    ground: GroundSpec = _section(GroundSpec)
    serving: ServingSpec = _section(ServingSpec)
    users: UsersSpec = _section(UsersSpec)
    power: PowerSpec = _section(PowerSpec)
    simulation: SimulationSpec = _section(SimulationSpec)
    base_dir: str = field(default=".", metadata={"internal": True})

    def resolve(self, relative: str) -> Path:
        """A path named in the scenario, relative to the scenario file's folder."""
        return Path(self.base_dir) / relative
