"""The faults section of the scenario schema."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

from harness.scenario.schema import _spec, _within, _range


class SatelliteFailureList(tuple):
    """Satellites that go dark: a YAML list of ``{satellite: N, time_s: T}``, read into
    ``((satellite, time_s), ...)``."""


def _satellite_failures(value: Any, key: str) -> Optional[str]:
    """The problem with a ``faults.satellite_failures`` value, or None."""
    if not isinstance(value, list):
        return "must be a list of {satellite: N, time_s: T} mappings"
    for i, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"satellite", "time_s"}:
            return f"entry {i} must be a mapping with exactly the keys satellite and time_s, got {item!r}"
        sat, t = item["satellite"], item["time_s"]
        if isinstance(sat, bool) or not isinstance(sat, int) or sat < 0:
            return f"entry {i}: satellite must be a whole number >= 0, got {sat!r}"
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
            return f"entry {i}: time_s must be a finite number >= 0, got {t!r}"
    return None


@dataclass(frozen=True)
class FaultSpec:
    """Fault recovery and satellite failures (all off by default)."""

    retransmit_timeout_ms: Optional[float] = _spec(None, unit="ms", help="application-level timeout of every "
                                                   "message: the receiver acknowledges a whole message and the "
                                                   "sender resends it, over the route in force then, when no "
                                                   "acknowledgement came within this time (null: no "
                                                   "acknowledgements, a lost packet stalls its request)",
                                                   check=_within(1e-3, 1e6))
    max_retries: int = _spec(3, help="retransmissions of one message before its request fails (with "
                             "retransmit_timeout_ms set)", check=_within(0, 255))
    satellite_failures: SatelliteFailureList = _spec(SatelliteFailureList(), unit="s",
                                                     help="satellites that go dark at given times: a list of "
                                                     "{satellite: N, time_s: T}; from the first snapshot at or "
                                                     "after T on, their links are down and their components lost")
    satellite_failure_rate_per_s: float = _spec(0.0, unit="1/s", help="each satellite also fails at a seeded, "
                                                "exponentially distributed time of this rate (0: none), "
                                                "aligned to snapshots as above", check=_range(0.0, 1e6))
    recovery: str = _spec("none", help="what the service does when a satellite of a model replica fails "
                          "(serving.replicas >= 2; docs/failover.md): 'none' (the requests that needed it fail "
                          "with a reason), 'failover' (detection_delay_s after the replica's first loss, its "
                          "requests in flight are resent from their first token to the next replica that is "
                          "not broken, and new requests avoid it) or 'replace' (the replica pauses; each lost "
                          "component moves to a spare satellite (the free one of least path delay between the "
                          "component's neighbours, space-xnet's rule: harness/placement/spares.py) after its "
                          "weights came over the ISLs as packets from the nearest other replica's copy; then "
                          "its requests restart)", choices=("none", "failover", "replace"))
    detection_delay_s: float = _spec(1.0, unit="s", help="time from a component's failure until the service "
                                     "notices it (a heartbeat timeout) and starts fail-over or re-placement",
                                     check=_within(1e-6, 1e6))

    @property
    def enabled(self) -> bool:
        """Whether any fault handling is on (then tokens.csv carries retransmissions, status and reason)."""
        return (self.retransmit_timeout_ms is not None or bool(self.satellite_failures)
                or self.satellite_failure_rate_per_s > 0)
