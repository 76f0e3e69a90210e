"""The scenario schema's machinery: declaring a key (:func:`_spec`, :func:`_section`), its value
rules, the ceilings of the boundary and the packet header sizes."""

from __future__ import annotations

import dataclasses
from dataclasses import field
from datetime import datetime, timezone
from typing import Any, Callable, Optional

from harness.formats.files import show as _show  # noqa: F401 (the section modules take it from here)

# Header bytes that every packet of a message carries besides its payload (see docs/simulation.md, "Packets").
APP_HEADER_BYTES = 16
UDP_HEADER_BYTES = 8
IPV4_HEADER_BYTES = 20
# The largest payload the packet engine puts in one packet (MoeTrafficPlan's SegmentBytes attribute,
# ns3_modules/space-xnet/model/moe-traffic-plan.cc): links.mtu_bytes is at most this + the headers.
MAX_SEGMENT_PAYLOAD_BYTES = 65000
PPP_HEADER_BYTES = 2
#: Bytes each packet carries on the wire besides its application payload.
PACKET_OVERHEAD_BYTES = APP_HEADER_BYTES + UDP_HEADER_BYTES + IPV4_HEADER_BYTES + PPP_HEADER_BYTES

_Check = Callable[[Any], Optional[str]]


def _spec(default: Any = dataclasses.MISSING, *, help: str, unit: str = "",
          check: Optional[_Check] = None, choices: tuple = ()) -> Any:
    """Declare one scenario key: its default, unit, help text and value rule."""
    meta = {"help": help, "unit": unit, "check": check, "choices": choices}
    if isinstance(default, (list, dict)):
        raise TypeError("mutable defaults are not allowed in the schema")
    return field(default=default, metadata=meta)


def _section(cls: type) -> Any:
    """A nested section whose every key has a default."""
    return field(default_factory=cls, metadata={"help": cls.__doc__.strip().splitlines()[0],
                                                 "unit": "", "check": None, "choices": ()})


def _at_least(lo: float) -> _Check:
    return _rule(f">= {lo:g}", lambda v: None if v >= lo else f"must be >= {lo:g}")


def _rule(text: str, check: _Check) -> _Check:
    check.rule = text  # type: ignore[attr-defined]  # shown by the reference (harness/scenario/reference.py)
    return check


def _within(lo: float, hi: float) -> _Check:
    return _rule(f"[{_num(lo)}, {_num(hi)}]",
                 lambda v: None if lo <= v <= hi else f"must be in [{_num(lo)}, {_num(hi)}]")


def _range(lo: float, hi: float, *, open_low: bool = False) -> _Check:
    """A value in [lo, hi] (or (lo, hi] with ``open_low``): every number key has a ceiling, so that
    nothing downstream overflows a C integer or a float, or allocates an absurd array."""
    low = "(" if open_low else "["
    return _rule(f"{low}{_num(lo)}, {_num(hi)}]", lambda v: None if (v > lo if open_low else v >= lo) and v <= hi
                 else f"must be in {low}{_num(lo)}, {_num(hi)}]")


def _num(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


#: Ceilings of the boundary: the largest constellation the routes' int16 hop counts and the dense
#: tables handle, and what the C++ side's uint32 counters hold. The work and memory estimate of a
#: scenario (issue 9) refuses large runs that fit these but not the machine.
MAX_SATELLITES = 32768
MAX_COUNT = 1_000_000
MAX_SEED = 2**63 - 2  # ns-3 RngSeedManager::SetRun(seed + 1) takes a uint64
#: Largest activation table [R, T, L, k] the C++ plan holds (int32 entries; 2**28 = 1 GiB).
MAX_ACTIVATIONS = 2**28
#: Largest single compute time, s: every time is an int64 count of ns (< 9.2e9 s).
MAX_COMPUTE_S = 1e8
#: Longest simulated run (snapshots.count x interval_s), and latest request start, s.
MAX_HORIZON_S = 1e8
#: SGP4 places a satellite up to ~7.5 km below its nominal altitude_km (its mean elements are not
#: osculating ones), so a grazing altitude must stay this far below the orbit.
SGP4_ALTITUDE_MARGIN_KM = 10.0


def _utc_instant(v: str) -> Optional[str]:
    try:
        stamp = _parse_utc(v)
    except (ValueError, OverflowError):
        return "must be an ISO 8601 UTC instant such as '2026-01-01T00:00:00Z'"
    if not 1957 <= stamp.year <= 2100:
        return "must be between 1957 and 2100 (SGP4's epochs)"
    return None


def _name_problem(v: str) -> Optional[str]:
    if not v.strip():
        return "must not be empty"
    if len(v) > 200:
        return "must be at most 200 characters"
    if any(ord(c) < 32 or ord(c) == 127 for c in v):
        return "must not hold control characters (a NUL, a newline)"
    return None


def _parse_utc(text: str) -> datetime:
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.astimezone(timezone.utc)
