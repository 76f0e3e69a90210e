"""The power section of the scenario schema: each satellite's solar array, loads and battery (issue 22).

Off by default (``power.enabled: false``): nothing of it reaches ns-3 and every trace stays as it
was, byte for byte. The defaults size one compute satellite of the Jetson AGX Orin class; the
sources and the arithmetic are in ``docs/power.md`` ("Sizing the defaults").

Compute draw: ``compute_idle_w`` and ``compute_busy_w`` come from the board profile
(``compute.hardware``, :func:`harness.scenario.hardware.resolve_power`) where the board publishes
them and the scenario does not write them; otherwise the defaults below stand.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.scenario.schema import _range, _spec, _within

#: Joules per watt-hour.
J_PER_WH = 3600.0


@dataclass(frozen=True)
class PowerSpec:
    """Each satellite's power system: solar array, loads, battery (off by default)."""

    enabled: bool = _spec(False, help="model every satellite's battery (energy.csv, joules per token, throttling "
                          "below the reserve); false: no power model, traces as without this section")
    solar_w: float = _spec(200.0, unit="W", help="solar array output while the satellite is sunlit (skyfield's "
                           "test, harness/constellation/sun.py), 0 in shadow. Default: 0.49 m^2 of 30 % AM0 "
                           "triple-junction cells facing the Sun, 1361 W/m^2 x 0.30 x 0.49 m^2 = 200 W (solar "
                           "constant: Kopp & Lean 2011; cell efficiency: Spectrolab XTJ Prime / Azur 3G30 data "
                           "sheets, ~30 % at beginning of life)", check=_range(0.0, 1e9))
    baseline_w: float = _spec(40.0, unit="W", help="bus draw besides compute, always on: attitude control, "
                              "on-board computer, thermal, laser terminals. Default: an assumption for a ~100 kg "
                              "bus with optical terminals (no published figure for the paper's satellites)",
                              check=_range(0.0, 1e9))
    compute_idle_w: float = _spec(15.0, unit="W", help="compute board draw while its queue is empty. Default: "
                                  "the Jetson AGX Orin 64 GB module's lowest power mode, 15 W (NVIDIA Jetson AGX "
                                  "Orin Series data sheet: 15 to 60 W); a compute.hardware board that publishes its idle "
                                  "power supplies it instead, unless the scenario writes this key", check=_range(0.0, 1e9))
    compute_busy_w: float = _spec(60.0, unit="W", help="compute board draw while it runs a job (MoeComputeQueue "
                                  "busy). Default: the Jetson AGX Orin 64 GB module's MAXN mode, 60 W (same data "
                                  "sheet); a compute.hardware board that publishes its busy power supplies it "
                                  "instead, unless the scenario writes this key", check=_range(0.0, 1e9))
    capacity_wh: float = _spec(250.0, unit="Wh", help="battery capacity. Default: a 35.6-min eclipse at full "
                               "load (40 + 60 W) / 0.95 = 62 Wh at ~30 % depth of discharge (LEO Li-ion cycling, "
                               "~5,500 cycles a year) = 208 Wh, rounded up; ~1.6 kg of Li-ion at 160 Wh/kg",
                               check=_range(0.0, 1e9, open_low=True))
    charge_efficiency: float = _spec(0.95, help="share of the solar power put into the battery that it stores "
                                     "(Li-ion energy efficiency per direction, ~95 %: round trip ~90 %)",
                                     check=_range(0.0, 1.0, open_low=True))
    discharge_efficiency: float = _spec(0.95, help="share of the energy taken from the battery that reaches the "
                                        "loads (as charge_efficiency)", check=_range(0.0, 1.0, open_low=True))
    initial_soc: float = _spec(1.0, help="state of charge at t = 0, a fraction of capacity_wh (1: full)",
                               check=_within(0.0, 1.0))
    reserve_wh: float = _spec(50.0, unit="Wh", help="below this stored energy the satellite protects itself "
                              "(power.behaviour). Default: the bus alone (40 W) through two 35.6-min eclipses, "
                              "2 x 40 W x 0.593 h / 0.95 = 50 Wh; must not exceed capacity_wh",
                              check=_range(0.0, 1e9))
    behaviour: str = _spec("throttle", help="below reserve_wh: 'throttle' (every compute job started runs at "
                           "throttle_factor of the board's speed and busy draw idle + throttle_factor x (busy - "
                           "idle)) or 'refuse' (a job is not started until the battery is back above the "
                           "reserve; it waits in the queue)", choices=("throttle", "refuse"))
    throttle_factor: float = _spec(0.5, help="behaviour throttle: the fraction of its speed the board keeps below "
                                   "the reserve (a job takes 1 / factor as long). Default: an assumption, about "
                                   "the step from the AGX Orin's 60 W to its 30 W mode",
                                   check=_range(0.0, 1.0, open_low=True))

    @property
    def capacity_j(self) -> float:
        return self.capacity_wh * J_PER_WH

    @property
    def reserve_j(self) -> float:
        return self.reserve_wh * J_PER_WH
