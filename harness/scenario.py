"""Scenario files: the YAML a user writes, validated once into frozen typed objects.

Every key of the schema is declared here, once, with its unit, default and rule. Code downstream
receives a :class:`Scenario` and never sees the raw dict. Unknown keys, wrong types and values out of
range raise :class:`~harness.errors.ScenarioError` with one line naming the key, the problem and
the fix.

Example::

    >>> from harness.scenario import scenario_from_dict
    >>> sc = scenario_from_dict({"name": "demo", "constellation": {"planes": 6, "sats_per_plane": 8}})
    >>> sc.constellation.num_satellites
    48
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional

import re

import yaml

from .errors import ScenarioError

# Header bytes that every packet of a message carries besides its payload (see README "Packets").
APP_HEADER_BYTES = 16
UDP_HEADER_BYTES = 8
IPV4_HEADER_BYTES = 20
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
    return lambda v: None if v >= lo else f"must be >= {lo:g}"


def _above(lo: float) -> _Check:
    return lambda v: None if v > lo else f"must be > {lo:g}"


def _within(lo: float, hi: float) -> _Check:
    return lambda v: None if lo <= v <= hi else f"must be in [{lo:g}, {hi:g}]"


def _utc_instant(v: str) -> Optional[str]:
    try:
        _parse_utc(v)
    except ValueError:
        return "must be an ISO 8601 UTC instant such as '2026-01-01T00:00:00Z'"
    return None


def _parse_utc(text: str) -> datetime:
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.astimezone(timezone.utc)


@dataclass(frozen=True)
class ConstellationSpec:
    """The Walker constellation: shape, orbit and epoch."""

    kind: str = _spec("walker-delta", help="Walker pattern: planes spread over 360 deg (delta) or 180 deg (star)",
                      choices=("walker-delta", "walker-star"))
    planes: int = _spec(6, help="number of orbital planes P", check=_at_least(1))
    sats_per_plane: Optional[int] = _spec(None, help="satellites per plane S (give this or 'satellites')",
                                          check=_at_least(1))
    satellites: Optional[int] = _spec(None, help="total satellites T = P x S (give this or 'sats_per_plane')",
                                      check=_at_least(1))
    phasing: int = _spec(1, help="Walker phasing factor F, in [0, P-1]", check=_at_least(0))
    altitude_km: float = _spec(550.0, unit="km", help="circular orbit altitude above the equatorial radius",
                               check=_at_least(160.0))
    inclination_deg: float = _spec(53.0, unit="deg", help="orbit inclination", check=_within(0.0, 180.0))
    epoch_utc: str = _spec("2026-01-01T00:00:00Z", unit="UTC", help="instant of the first snapshot",
                           check=_utc_instant)

    @property
    def num_satellites(self) -> int:
        return self.planes * self.sats_per_plane

    @property
    def epoch(self) -> datetime:
        return _parse_utc(self.epoch_utc)


@dataclass(frozen=True)
class SnapshotSpec:
    """Topology snapshots: how many, and how far apart in time."""

    count: int = _spec(10, help="number of topology snapshots (the paper used 200)", check=_at_least(1))
    interval_s: float = _spec(1.0, unit="s", help="time between snapshots; the simulation runs for count * interval_s",
                              check=_above(0.0))

    @property
    def horizon_s(self) -> float:
        return self.count * self.interval_s


@dataclass(frozen=True)
class LinkSpec:
    """Laser inter-satellite links as ns-3 point-to-point links."""

    rate_bps: float = _spec(100e9, unit="bit/s", help="data rate of every ISL", check=_above(0.0))
    mtu_bytes: int = _spec(1500, unit="B", help="IP MTU of every ISL device", check=_within(128, 65535))
    queue_packets: int = _spec(1000, unit="packets", help="drop-tail queue of every ISL device",
                               check=_at_least(1))
    grazing_altitude_km: Optional[float] = _spec(80.0, unit="km", help="an ISL's line of sight must stay above "
                                                 "this altitude (null: no line-of-sight rule)", check=_at_least(0.0))
    max_angular_rate_rad_s: Optional[float] = _spec(None, unit="rad/s", help="an ISL exists only while its line of "
                                                    "sight turns slower than this (the paper: 0.12; null: no limit)",
                                                    check=_above(0.0))
    polar_cutoff_deg: Optional[float] = _spec(None, unit="deg", help="cross-plane ISLs are off while an end is "
                                              "above this latitude (null: never)", check=_within(1e-9, 90.0))
    survival_probability: float = _spec(1.0, help="each ISL survives each snapshot with this probability "
                                        "(independent, seeded; the paper: 0.95)", check=_within(0.0, 1.0))
    drop_in_flight: bool = _spec(False, help="when a link goes down, lose the packets still queued or on the wire "
                                 "on it (true) or let them arrive (false); routes avoid down links either way. "
                                 "Without faults.retransmit_timeout_ms a lost packet stalls its request")

    @property
    def segment_payload_bytes(self) -> int:
        """Application payload per packet: the MTU less the IPv4, UDP and application headers."""
        return self.mtu_bytes - IPV4_HEADER_BYTES - UDP_HEADER_BYTES - APP_HEADER_BYTES

    def packet_sizes_bytes(self, message_bytes: int) -> list[int]:
        """On-the-wire size of each packet a message of ``message_bytes`` is cut into."""
        full, rest = divmod(message_bytes, self.segment_payload_bytes)
        sizes = [self.segment_payload_bytes] * full + ([rest] if rest else [])
        return [size + PACKET_OVERHEAD_BYTES for size in sizes]


@dataclass(frozen=True)
class ComputeSpec:
    """On-board compute."""

    satellite_flops: float = _spec(7.28e9, unit="FLOP/s", help="effective compute of every satellite",
                                   check=_above(0.0))


#: Published models, by name: the shape keys a ``model.preset`` fills in (explicit keys win).
MODEL_PRESETS: dict[str, dict[str, int]] = {
    # LLaMA-MoE-3.5B (2/8): the paper's model.
    "llama-moe-3.5b-2of8": dict(layers=32, experts=8, top_k=2, hidden_size=4096, bytes_per_element=2,
                                ffn_size=1376, vocab_size=32000),
    # LLaMA-MoE-3.5B (4/16): the same FFN split into 16 experts of 688 neurons, top-4.
    "llama-moe-3.5b-4of16": dict(layers=32, experts=16, top_k=4, hidden_size=4096, bytes_per_element=2,
                                 ffn_size=688, vocab_size=32000),
}


@dataclass(frozen=True)
class ModelSpec:
    """The mixture-of-experts model: its shape and per-token work."""

    preset: Optional[str] = _spec(None, help="a published model whose shape fills the keys not given here",
                                  choices=tuple(MODEL_PRESETS))
    layers: int = _spec(4, help="MoE layers L (one ring subnet each)", check=_at_least(1))
    experts: int = _spec(4, help="experts per layer E", check=_at_least(1))
    top_k: int = _spec(2, help="experts activated per token and layer k, in [1, E]", check=_at_least(1))
    hidden_size: int = _spec(4096, help="hidden dimension", check=_at_least(1))
    bytes_per_element: int = _spec(2, unit="B", help="bytes per hidden-state element (2 for bf16)",
                                   choices=(1, 2, 4))
    ffn_size: int = _spec(1376, help="neurons of one expert's FFN", check=_at_least(1))
    vocab_size: int = _spec(32000, help="vocabulary size (LM head)", check=_at_least(1))
    gateway_flops: Optional[float] = _spec(None, unit="FLOP", help="per-token gateway work (attention + router); "
                                           "default derived from the dimensions", check=_above(0.0))
    expert_flops: Optional[float] = _spec(None, unit="FLOP", help="per-token work of one expert; default derived",
                                          check=_above(0.0))
    lm_head_flops: Optional[float] = _spec(None, unit="FLOP", help="per-token LM head work; default derived",
                                           check=_above(0.0))

    @property
    def hidden_bytes(self) -> int:
        """Bytes of one token's hidden state: the size of every message."""
        return self.hidden_size * self.bytes_per_element

    @property
    def num_components(self) -> int:
        """Satellites the model occupies: one gateway and E experts per layer."""
        return self.layers * (1 + self.experts)


@dataclass(frozen=True)
class TrafficSpec:
    """The token streams pushed through the model."""

    requests: int = _spec(2, help="concurrent requests (independent token streams)", check=_at_least(1))
    tokens_per_request: int = _spec(8, help="tokens generated per request", check=_at_least(1))
    request_spacing_s: float = _spec(0.0, unit="s", help="start of request r is r * request_spacing_s",
                                     check=_at_least(0.0))


@dataclass(frozen=True)
class ActivationSpec:
    """Which experts each token activates: a seeded synthetic generator or a recorded trace."""

    kind: str = _spec("synthetic", help="synthetic generator or a recorded trace file", choices=("synthetic", "file"))
    # Defaults: with 8 experts, skew 0.6 and stickiness 0.05 make a token repeat the previous
    # token's first choice 19 % of the time (Mixtral: 14-28 %, uniform: 12.5 %) and the hottest
    # expert carry 2x the mean load; see harness/activations.py for the formulas.
    skew: float = _spec(0.6, help="Zipf exponent of per-layer expert popularity (0 = uniform)", check=_at_least(0.0))
    stickiness: float = _spec(0.05, help="probability that a token reuses the previous token's experts",
                              check=_within(0.0, 1.0))
    path: Optional[str] = _spec(None, help="trace file (.npy or .csv) when kind is 'file', relative to the scenario")


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
                                                "aligned to snapshots as above", check=_at_least(0.0))

    @property
    def enabled(self) -> bool:
        """Whether any fault handling is on (then tokens.csv carries retransmissions, status and reason)."""
        return (self.retransmit_timeout_ms is not None or bool(self.satellite_failures)
                or self.satellite_failure_rate_per_s > 0)


@dataclass(frozen=True)
class Scenario:
    """One scenario: constellation, links, model, traffic and the strategies to compare."""

    name: str = _spec(help="scenario name, used in reports")
    seed: int = _spec(1, help="seed of every random choice (traces, random placements, ns-3 streams)",
                      check=_at_least(0))
    strategies: tuple = _spec(("space-xnet",), help="placement strategies to run, by name")
    constellation: ConstellationSpec = _section(ConstellationSpec)
    snapshots: SnapshotSpec = _section(SnapshotSpec)
    links: LinkSpec = _section(LinkSpec)
    compute: ComputeSpec = _section(ComputeSpec)
    model: ModelSpec = _section(ModelSpec)
    traffic: TrafficSpec = _section(TrafficSpec)
    activations: ActivationSpec = _section(ActivationSpec)
    faults: FaultSpec = _section(FaultSpec)
    base_dir: str = field(default=".", metadata={"internal": True})

    def resolve(self, relative: str) -> Path:
        """A path named in the scenario, relative to the scenario file's folder."""
        return Path(self.base_dir) / relative


# ---------------------------------------------------------------------------------------------
# Loading


class _YamlLoader(yaml.SafeLoader):
    """SafeLoader that also reads YAML 1.2 floats such as ``1e9`` and ``10.0e9`` as numbers.

    PyYAML follows YAML 1.1, where an exponent needs a dot and a sign (``1.0e+9``); without this,
    ``rate_bps: 1e9`` would silently be the string '1e9'.
    """


_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)$"),
    list("-+0123456789"),
)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"scenario file '{path}' not found: check the path "
                            f"(shipped scenarios are in topologies/)")
    try:
        raw = yaml.load(path.read_text(), Loader=_YamlLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{path}: YAML syntax error{where}: {problem}; fix the file's syntax") from None
    if raw is None:
        raise ScenarioError(f"{path}: the file is empty; a scenario needs at least 'name'")
    return scenario_from_dict(raw, base_dir=path.parent, source=str(path))


def scenario_from_dict(raw: Any, *, base_dir: str | Path = ".", source: str = "scenario") -> Scenario:
    """Validate a plain dict (as YAML gives it) into a :class:`Scenario`."""
    raw = _apply_model_preset(raw, source)
    scenario = _build(Scenario, raw, source, "")
    scenario = dataclasses.replace(scenario, base_dir=str(base_dir),
                                   constellation=_resolve_shape(scenario.constellation, source))
    _check_consistency(scenario, source)
    return scenario


def _build(cls: type, raw: Any, source: str, prefix: str) -> Any:
    where = prefix.rstrip(".") or "the top level"
    if not isinstance(raw, dict):
        raise ScenarioError(f"{source}: {where} must be a mapping of keys to values, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ScenarioError(f"{source}: unknown key '{prefix}{unknown[0]}'; allowed keys in {where}: "
                            f"{', '.join(fields)}")
    values = {}
    for name, f in fields.items():
        key = prefix + name
        if name not in raw:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ScenarioError(f"{source}: missing required key '{key}': add it ({f.metadata['help']})")
            continue
        values[name] = _convert(hints[name], raw[name], f, source, key)
    return cls(**values)


def _convert(hint: Any, value: Any, f: dataclasses.Field, source: str, key: str) -> Any:
    optional = typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in typing.get_args(hint)
    if optional:
        if value is None:
            return None
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, source, key + ".")

    def bad(expected: str) -> ScenarioError:
        return ScenarioError(f"{source}: '{key}' must be {expected}, got {value!r}")

    if hint is bool:
        if not isinstance(value, bool):
            raise bad("true or false")
    elif hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("a whole number")
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise bad("a finite number")
        value = float(value)
    elif hint is str:
        if not isinstance(value, str):
            raise bad("a string")
    elif hint is SatelliteFailureList:
        problem = _satellite_failures(value, key)
        if problem:
            raise ScenarioError(f"{source}: '{key}' {problem}")
        value = SatelliteFailureList((int(v["satellite"]), float(v["time_s"])) for v in value)
    elif hint is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise bad("a non-empty list of names")
        value = tuple(value)
    choices = f.metadata.get("choices") or ()
    if choices and value not in choices:
        raise ScenarioError(f"{source}: '{key}' is {value!r}; choose one of: {', '.join(map(str, choices))}")
    check = f.metadata.get("check")
    if check is not None:
        problem = check(value)
        if problem:
            unit = f" {f.metadata['unit']}" if f.metadata.get("unit") else ""
            raise ScenarioError(f"{source}: '{key}' is {value!r}{unit}; it {problem}")
    return value


def _apply_model_preset(raw: Any, source: str) -> Any:
    """Fill a model preset's keys under the ones the user gave."""
    if not isinstance(raw, dict) or not isinstance(raw.get("model"), dict) or raw["model"].get("preset") is None:
        return raw
    name = raw["model"]["preset"]
    if name not in MODEL_PRESETS:
        raise ScenarioError(f"{source}: 'model.preset' is {name!r}; choose one of: {', '.join(MODEL_PRESETS)}")
    return {**raw, "model": {**MODEL_PRESETS[name], **raw["model"]}}


def _resolve_shape(c: ConstellationSpec, source: str) -> ConstellationSpec:
    """Fill sats_per_plane from satellites (T) or the other way round, checking T = P x S."""
    if c.sats_per_plane is None and c.satellites is None:
        raise ScenarioError(f"{source}: the constellation needs 'constellation.sats_per_plane' or "
                            f"'constellation.satellites'; give one")
    if c.satellites is not None:
        if c.satellites % c.planes:
            raise ScenarioError(f"{source}: 'constellation.satellites' T = {c.satellites} is not divisible by "
                                f"'constellation.planes' P = {c.planes}; a Walker i:T/P/F pattern needs T = P x S")
        per_plane = c.satellites // c.planes
        if c.sats_per_plane is not None and c.sats_per_plane != per_plane:
            raise ScenarioError(f"{source}: 'constellation.satellites' {c.satellites} and 'sats_per_plane' "
                                f"{c.sats_per_plane} disagree for {c.planes} planes; give only one")
        return dataclasses.replace(c, sats_per_plane=per_plane)
    return dataclasses.replace(c, satellites=c.planes * c.sats_per_plane)


def _check_consistency(sc: Scenario, source: str) -> None:
    """Rules that tie several keys together."""
    from .placement import STRATEGIES  # the registry owns the valid names

    c = sc.constellation
    if c.phasing > c.planes - 1:
        raise ScenarioError(f"{source}: 'constellation.phasing' is {c.phasing}; it must be in [0, planes - 1] = "
                            f"[0, {c.planes - 1}]")
    grazing = sc.links.grazing_altitude_km
    if grazing is not None and grazing >= c.altitude_km:
        raise ScenarioError(f"{source}: 'links.grazing_altitude_km' {grazing:g} must be below the orbit altitude "
                            f"{c.altitude_km:g} km; lower it (default 80) or set null for no line-of-sight rule")
    m = sc.model
    if m.top_k > m.experts:
        raise ScenarioError(f"{source}: 'model.top_k' is {m.top_k} but the model has only {m.experts} experts per "
                            f"layer; lower top_k or raise experts")
    if m.num_components > c.num_satellites:
        raise ScenarioError(f"{source}: the model needs {m.num_components} satellites ({m.layers} layers x "
                            f"(1 gateway + {m.experts} experts)) but the constellation has {c.num_satellites}; "
                            f"add planes or satellites per plane, or shrink the model")
    for name in sc.strategies:
        if name not in STRATEGIES:
            raise ScenarioError(f"{source}: unknown strategy '{name}' in 'strategies'; choose from: "
                                f"{', '.join(STRATEGIES)}")
    if len(set(sc.strategies)) != len(sc.strategies):
        raise ScenarioError(f"{source}: 'strategies' lists a strategy twice; list each once")
    if sc.links.segment_payload_bytes < 64:
        raise ScenarioError(f"{source}: 'links.mtu_bytes' {sc.links.mtu_bytes} leaves no room for a payload after "
                            f"the {IPV4_HEADER_BYTES + UDP_HEADER_BYTES + APP_HEADER_BYTES} header bytes; use >= 128")
    for sat, _ in sc.faults.satellite_failures:
        if sat >= c.num_satellites:
            raise ScenarioError(f"{source}: 'faults.satellite_failures' names satellite {sat} but the constellation "
                                f"has {c.num_satellites} (0 to {c.num_satellites - 1}); fix the satellite number")
    a = sc.activations
    if a.kind == "file":
        if not a.path:
            raise ScenarioError(f"{source}: 'activations.kind' is 'file' but 'activations.path' is not set; "
                                f"name the trace file")
        if not sc.resolve(a.path).is_file():
            raise ScenarioError(f"{source}: activation trace '{sc.resolve(a.path)}' not found; fix "
                                f"'activations.path' (it is relative to the scenario file)")
    elif a.path is not None:
        raise ScenarioError(f"{source}: 'activations.path' is set but 'activations.kind' is 'synthetic'; "
                            f"set kind: file or remove path")
