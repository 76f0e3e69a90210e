"""Scenario files: the YAML a user writes, validated once into frozen typed objects.

Every key of the schema is declared in this package, once, with its unit, default and rule. Code
downstream receives a :class:`Scenario` and never sees the raw dict. Unknown keys, wrong types and
values out of range raise :class:`~harness.errors.ScenarioError` with one line naming the key, the
problem and the fix.

The package's modules: :mod:`.schema` (declaring a key, value rules, ceilings), the sections
(:mod:`.constellation`, :mod:`.model`, :mod:`.serving`, :mod:`.faults`, :mod:`.ground`,
:mod:`.power`, :mod:`.simulation`),
:mod:`.loader` (the top-level :class:`Scenario`, reading and converting) and :mod:`.rules` (the
checks across keys).

Example::

    >>> from harness.scenario import scenario_from_dict
    >>> sc = scenario_from_dict({"name": "demo", "constellation": {"planes": 6, "sats_per_plane": 8}})
    >>> sc.constellation.num_satellites
    48
"""

from __future__ import annotations

from harness.scenario.schema import (APP_HEADER_BYTES, IPV4_HEADER_BYTES, MAX_ACTIVATIONS, MAX_COMPUTE_S, MAX_COUNT,
                                     MAX_HORIZON_S, MAX_SATELLITES, MAX_SEED, MAX_SEGMENT_PAYLOAD_BYTES,
                                     PACKET_OVERHEAD_BYTES, PPP_HEADER_BYTES,
                                     SGP4_ALTITUDE_MARGIN_KM, UDP_HEADER_BYTES)
from harness.scenario.constellation import ConstellationSpec, LinkSpec, PlacementSpec, RoutingSpec, SnapshotSpec
from harness.scenario.model import MODEL_PRESETS, ComputeSpec, ModelSpec
from harness.scenario.serving import ActivationSpec, LengthSpec, ServingSpec, TrafficSpec
from harness.scenario.faults import FaultSpec, SatelliteFailureList
from harness.scenario.power import PowerSpec
from harness.scenario.simulation import SimulationSpec
from harness.scenario.ground import CITY_SETS, GroundSpec, SiteList, UserLocationList, UsersSpec
from harness.scenario.spec import Scenario
from harness.scenario.loader import _YamlLoader, load_scenario, scenario_from_dict
from harness.scenario.rules import prefill_problem

__all__ = [
    "APP_HEADER_BYTES", "UDP_HEADER_BYTES", "IPV4_HEADER_BYTES", "PPP_HEADER_BYTES", "PACKET_OVERHEAD_BYTES",
    "MAX_SATELLITES", "MAX_COUNT", "MAX_SEED", "MAX_SEGMENT_PAYLOAD_BYTES", "MAX_ACTIVATIONS", "MAX_COMPUTE_S", "MAX_HORIZON_S",
    "SGP4_ALTITUDE_MARGIN_KM",
    "ConstellationSpec", "SnapshotSpec", "LinkSpec", "RoutingSpec", "PlacementSpec",
    "ComputeSpec", "MODEL_PRESETS", "ModelSpec",
    "TrafficSpec", "ActivationSpec", "LengthSpec", "ServingSpec",
    "SatelliteFailureList", "FaultSpec", "PowerSpec", "SimulationSpec",
    "SiteList", "GroundSpec", "UserLocationList", "CITY_SETS", "UsersSpec",
    "Scenario", "load_scenario", "scenario_from_dict", "prefill_problem", "_YamlLoader",
]
