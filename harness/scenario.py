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

from .errors import ScenarioError
from .strategies import REPLICA_STRATEGIES, STRATEGY_NAMES, TENSOR_PARALLEL_STRATEGIES
from .ground.names import GROUND_CONVENTIONS, GSL_RULE_NAMES
from .formats.files import YamlLoader, read_yaml_file, show as _show

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
    return _rule(f">= {lo:g}", lambda v: None if v >= lo else f"must be >= {lo:g}")


def _rule(text: str, check: _Check) -> _Check:
    check.rule = text  # type: ignore[attr-defined]  # shown by the reference (harness/reference.py)
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


@dataclass(frozen=True)
class ConstellationSpec:
    """The constellation: a Walker shell (shape, orbit, epoch) or a TLE file."""

    kind: str = _spec("walker-delta", help="Walker pattern: planes spread over 360 deg (delta) or 180 deg (star); "
                      "or 'tle': the satellites of tle_file (planes, slots and satellites are then inferred)",
                      choices=("walker-delta", "walker-star", "tle"))
    planes: int = _spec(6, help="number of orbital planes P", check=_range(1, MAX_SATELLITES))
    sats_per_plane: Optional[int] = _spec(None, help="satellites per plane S (give this or 'satellites')",
                                          check=_range(1, MAX_SATELLITES))
    satellites: Optional[int] = _spec(None, help=f"total satellites T = P x S (give this or 'sats_per_plane'), "
                                      f"at most {MAX_SATELLITES}", check=_range(1, MAX_SATELLITES))
    phasing: int = _spec(1, help="Walker phasing factor F, in [0, P-1]", check=_range(0, MAX_SATELLITES))
    altitude_km: float = _spec(550.0, unit="km", help="circular orbit altitude above the equatorial radius",
                               check=_range(160.0, 100_000.0))
    inclination_deg: float = _spec(53.0, unit="deg", help="orbit inclination", check=_within(0.0, 180.0))
    epoch_utc: str = _spec("2026-01-01T00:00:00Z", unit="UTC", help="instant of the first snapshot (kind tle: "
                           "default the newest TLE epoch)", check=_utc_instant)
    tle_file: Optional[str] = _spec(None, help="kind tle: two- or three-line TLE file, relative to the scenario")
    slots_file: Optional[str] = _spec(None, help="kind tle: optional 'plane,slot' CSV, one row per satellite in TLE "
                                      "order, instead of inferring planes and slots")
    isl_file: Optional[str] = _spec(None, help="kind tle: optional ISL list, 'a b' per line (0-based TLE order), "
                                    "instead of +Grid")
    plane_tolerance_deg: float = _spec(1.0, unit="deg", help="kind tle: satellites whose inclinations and RAANs agree "
                                       "within this share a plane", check=_range(1e-6, 90.0))
    shell_tolerance_km: float = _spec(5.0, unit="km", help="kind tle: satellites of one inclination whose mean "
                                      "semi-major axes agree within this (chained) form a shell; planes are inferred "
                                      "within each shell", check=_range(1e-3, 10_000.0))
    slot_numbering: str = _spec("chained", help="kind tle: slot 0 of each plane is level with or just ahead of the "
                                "previous plane's ('chained', a Walker pattern's numbering for any phasing) or the first "
                                "satellite past its ascending node ('from-node', Hypatia's); +Grid links equal slots "
                                "(irregular planes: the nearest in argument of latitude)",
                                choices=("chained", "from-node"))

    @property
    def num_satellites(self) -> int:
        return self.planes * self.sats_per_plane if self.satellites is None else self.satellites

    @property
    def epoch(self) -> datetime:
        return _parse_utc(self.epoch_utc)


@dataclass(frozen=True)
class SnapshotSpec:
    """Topology snapshots: how many, and how far apart in time."""

    count: int = _spec(10, help="number of topology snapshots (the paper used 200)", check=_range(1, MAX_COUNT))
    interval_s: float = _spec(1.0, unit="s", help="time between snapshots; the simulation runs for count * interval_s",
                              check=_range(1e-6, 86_400.0))

    @property
    def horizon_s(self) -> float:
        return self.count * self.interval_s


@dataclass(frozen=True)
class LinkSpec:
    """Laser inter-satellite links as ns-3 point-to-point links."""

    rate_bps: float = _spec(100e9, unit="bit/s", help="data rate of every ISL (whole bit/s are used)",
                            check=_range(1.0, 1e15))
    mtu_bytes: int = _spec(1500, unit="B", help="IP MTU of every ISL device", check=_within(128, 65535))
    queue_packets: int = _spec(1000, unit="packets", help="drop-tail queue of every ISL device",
                               check=_range(1, 10_000_000))
    grazing_altitude_km: Optional[float] = _spec(80.0, unit="km", help="an ISL's line of sight must stay above "
                                                 "this altitude, below the orbit's (null: no line-of-sight rule)",
                                                 check=_at_least(0.0))
    max_angular_rate_rad_s: Optional[float] = _spec(None, unit="rad/s", help="an ISL exists only while its line of "
                                                    "sight turns slower than this (the paper: 0.12; null: no limit)",
                                                    check=_range(0.0, 1e3, open_low=True))
    polar_cutoff_deg: Optional[float] = _spec(None, unit="deg", help="cross-plane ISLs are off while an end is "
                                              "above this latitude (null: never)", check=_within(1e-9, 90.0))
    survival_probability: float = _spec(1.0, help="each ISL survives each snapshot with this probability "
                                        "(independent, seeded; the paper: 0.95)", check=_within(0.0, 1.0))
    relay_delay_us: float = _spec(0.0, unit="us", help="forwarding delay at every satellite a packet relays "
                                  "through (not where it starts or ends)", check=_within(0.0, 1e6))
    drop_in_flight: bool = _spec(False, help="when a link goes down, lose the packets still queued or on the wire "
                                 "on it (true) or let them arrive (false); routes avoid down links either way. "
                                 "Without faults.retransmit_timeout_ms a lost packet stalls its request")

    @property
    def segment_payload_bytes(self) -> int:
        """Application payload per packet: the MTU less the IPv4, UDP and application headers."""
        return self.mtu_bytes - IPV4_HEADER_BYTES - UDP_HEADER_BYTES - APP_HEADER_BYTES

    @property
    def relay_delay_ns(self) -> int:
        """The relay forwarding delay in whole ns."""
        return int(round(self.relay_delay_us * 1000))

    def packet_sizes_bytes(self, message_bytes: int) -> list[int]:
        """On-the-wire size of each packet a message of ``message_bytes`` is cut into."""
        full, rest = divmod(message_bytes, self.segment_payload_bytes)
        sizes = [self.segment_payload_bytes] * full + ([rest] if rest else [])
        return [size + PACKET_OVERHEAD_BYTES for size in sizes]


@dataclass(frozen=True)
class RoutingSpec:
    """How packets are routed over the ISLs."""

    metric: str = _spec("delay", help="what a route minimises: 'delay' (propagation, ties toward fewer hops) or "
                        "'hops' (ties toward shorter delay)", choices=("delay", "hops"))
    no_route: str = _spec("drop", help="a packet with no route where it is: 'drop' it (its request stalls) or "
                          "'wait' there until a snapshot gives it one", choices=("drop", "wait"))


@dataclass(frozen=True)
class PlacementSpec:
    """How the constellation is cut into the layers' ring subnets."""

    subnets: str = _spec("arcs", help="'arcs': equal arcs of argument of latitude, one slot of every plane per "
                         "layer in a polar star; 'planes': whole orbital planes in ring order",
                         choices=("arcs", "planes"))
    max_shards: int = _spec(8, help="tensor-parallel strategies (space-xnet-tp, compact-tp, space-xnet-packed-tp, "
                            "compact-packed-tp): the most satellites "
                            "one layer's attention is split over, its gateway included (1: never split)",
                            check=_range(1, 64))
    max_replicas: int = _spec(2, help="replica strategies (space-xnet-replicas): the most copies of one expert, "
                              "besides the expert itself", check=_range(1, 16))


@dataclass(frozen=True)
class ComputeSpec:
    """On-board compute."""

    satellite_flops: float = _spec(7.28e9, unit="FLOP/s", help="effective compute of every satellite",
                                   check=_range(1.0, 1e18))
    memory_bytes_per_s: Optional[float] = _spec(None, unit="B/s", help="memory bandwidth of every satellite: "
                                                "with it, a compute job of n tokens takes max(n x FLOPs / "
                                                "satellite_flops, weight bytes / this) (roofline; the weights "
                                                "of a component are its per-token FLOPs / 2 elements of "
                                                "model.bytes_per_element). null: FLOPs only",
                                                check=_range(1.0, 1e18))
    memory_gb: float = _spec(8.0, unit="GB", help="memory of every satellite (the paper's board class: 8 GB); the "
                             "weights and KV cache of the components a satellite holds must fit (10^9 B per GB)",
                             check=_range(1e-6, 1e6))
    weight_bytes: int = _spec(2, unit="B", help="bytes per model weight in satellite memory (2: bf16)",
                              check=_range(1, 8))


#: Published models, by name: the shape keys a ``model.preset`` fills in (explicit keys win).
MODEL_PRESETS: dict[str, dict[str, int]] = {
    # LLaMA-MoE-3.5B (2/8): the paper's model.
    "llama-moe-3.5b-2of8": dict(layers=32, experts=8, top_k=2, hidden_size=4096, bytes_per_element=2,
                                ffn_size=1376, vocab_size=32000, heads=32),
    # LLaMA-MoE-3.5B (4/16): the same FFN split into 16 experts of 688 neurons, top-4.
    "llama-moe-3.5b-4of16": dict(layers=32, experts=16, top_k=4, hidden_size=4096, bytes_per_element=2,
                                 ffn_size=688, vocab_size=32000, heads=32),
    # The models below: the shape keys of each model's published config.json (Hugging Face model
    # cards: num_hidden_layers, num_local_experts / num_experts / n_routed_experts,
    # num_experts_per_tok, hidden_size, intermediate_size / moe_intermediate_size, vocab_size,
    # num_attention_heads: the query heads; LLaMA-MoE keeps LLaMA-2-7B's 32).
    # mistralai/Mixtral-8x7B-v0.1.
    "mixtral-8x7b": dict(layers=32, experts=8, top_k=2, hidden_size=4096, bytes_per_element=2,
                         ffn_size=14336, vocab_size=32000, heads=32),
    # Qwen/Qwen1.5-MoE-A2.7B: 60 routed experts of 1408 plus one always-on shared expert of 5632
    # (shared_expert_intermediate_size), run at the gateway.
    "qwen1.5-moe-a2.7b": dict(layers=24, experts=60, top_k=4, hidden_size=2048, bytes_per_element=2,
                              ffn_size=1408, shared_ffn_size=5632, vocab_size=151936, heads=16),
    # allenai/OLMoE-1B-7B-0924.
    "olmoe-1b-7b": dict(layers=16, experts=64, top_k=8, hidden_size=2048, bytes_per_element=2,
                        ffn_size=1024, vocab_size=50304, heads=16),
    # deepseek-ai/DeepSeek-V2-Lite: 27 layers, the first dense (first_k_dense_replace = 1,
    # intermediate_size 10944), then 26 MoE layers of 64 routed experts of 1408 (top-6) and 2 shared
    # experts (2 x 1408 = 2816 neurons, run at the gateway). The dense first layer is not a
    # component of its own: it runs where every token starts and ends, on layer 0's gateway, and its
    # work (attention 2*4*h^2 + FFN 2*3*h*10944 = 168.1 MFLOP) is added to the LM head's
    # (2*h*vocab = 419.4 MFLOP) there. Attention is counted as 4 h x h projections, an upper bound
    # for DeepSeek's multi-head latent attention.
    "deepseek-v2-lite": dict(layers=26, experts=64, top_k=6, hidden_size=2048, bytes_per_element=2,
                             ffn_size=1408, shared_ffn_size=2816, vocab_size=102400, heads=16,
                             lm_head_flops=2 * 2048 * 102400 + 2 * 4 * 2048**2 + 2 * 3 * 2048 * 10944),
    # Qwen/Qwen3-30B-A3B: 48 layers of 128 experts of 768 neurons, top-8.
    "qwen3-30b-a3b": dict(layers=48, experts=128, top_k=8, hidden_size=2048, bytes_per_element=2,
                          ffn_size=768, vocab_size=151936, heads=32),
}


@dataclass(frozen=True)
class ModelSpec:
    """The mixture-of-experts model: its shape and per-token work."""

    preset: Optional[str] = _spec(None, help="a published model whose shape fills the keys not given here",
                                  choices=tuple(MODEL_PRESETS))
    layers: int = _spec(4, help="MoE layers L (one ring subnet each)", check=_range(1, MAX_SATELLITES))
    experts: int = _spec(4, help="experts per layer E", check=_range(1, MAX_SATELLITES))
    top_k: int = _spec(2, help="experts activated per token and layer k, in [1, E]", check=_range(1, MAX_SATELLITES))
    hidden_size: int = _spec(4096, help="hidden dimension (a message is hidden_size x bytes_per_element)",
                             check=_range(1, 2**20))
    bytes_per_element: int = _spec(2, unit="B", help="bytes per hidden-state element (2 for bf16)",
                                   choices=(1, 2, 4))
    ffn_size: int = _spec(1376, help="neurons of one expert's FFN", check=_range(1, 2**24))
    heads: int = _spec(32, help="attention heads of a layer: a tensor-parallel layer split over m satellites "
                       "(m <= heads) takes ceil(heads / m) / heads of the gateway's work per shard",
                       check=_range(1, 2**16))
    shared_ffn_size: int = _spec(0, help="neurons of the always-active shared expert(s) of a layer, run at its "
                                 "gateway (0: none)", check=_range(0, 2**24))
    vocab_size: int = _spec(32000, help="vocabulary size (LM head)", check=_range(1, 2**24))
    combine: str = _spec("next-gateway", help="where a layer's k expert outputs are combined: at the 'next-gateway' "
                         "(they go straight on) or the 'own-gateway' (which forwards one combined state)",
                         choices=("next-gateway", "own-gateway"))
    dispatch: str = _spec("parallel", help="how a token reaches its k experts: all at once ('parallel') or one "
                          "after another ('sequential': gateway -> e1 -> ... -> ek -> combining gateway)",
                          choices=("parallel", "sequential"))
    gateway_flops: Optional[float] = _spec(None, unit="FLOP", help="per-token gateway work (attention + router); "
                                           "default derived from the dimensions", check=_range(0.0, 1e20, open_low=True))
    expert_flops: Optional[float] = _spec(None, unit="FLOP", help="per-token work of one expert; default derived",
                                          check=_range(0.0, 1e20, open_low=True))
    lm_head_flops: Optional[float] = _spec(None, unit="FLOP", help="per-token LM head work; default derived",
                                           check=_range(0.0, 1e20, open_low=True))

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

    requests: int = _spec(2, help="concurrent requests (independent token streams)", check=_range(1, MAX_COUNT))
    tokens_per_request: int = _spec(8, help="tokens generated per request", check=_range(1, MAX_COUNT))
    request_spacing_s: float = _spec(0.0, unit="s", help="start of request r is r * request_spacing_s",
                                     check=_range(0.0, 1e6))


@dataclass(frozen=True)
class ActivationSpec:
    """Which experts each token activates: a seeded synthetic generator or a recorded trace."""

    kind: str = _spec("synthetic", help="synthetic generator or a recorded trace file", choices=("synthetic", "file"))
    # Defaults: with 8 experts, skew 0.6 and stickiness 0.05 make a token repeat the previous
    # token's first choice 19 % of the time (Mixtral: 14-28 %, uniform: 12.5 %) and the hottest
    # expert carry 2x the mean load; see harness/activations.py for the formulas.
    skew: float = _spec(0.6, help="Zipf exponent of per-layer expert popularity (0 = uniform)", check=_range(0.0, 100.0))
    stickiness: float = _spec(0.05, help="probability that a token reuses the previous token's experts",
                              check=_within(0.0, 1.0))
    path: Optional[str] = _spec(None, help="trace file (.npy or .csv) when kind is 'file', relative to the scenario")


@dataclass(frozen=True)
class LengthSpec:
    """A token-length distribution (harness/traffic/lengths.py): fixed, uniform or lognormal."""

    kind: str = _spec("fixed", help="'fixed' (tokens), 'uniform' (whole numbers in [low, high]) or 'lognormal' "
                      "(median x exp(sigma x N(0,1)), rounded, clipped to [low, high])",
                      choices=("fixed", "uniform", "lognormal"))
    tokens: int = _spec(0, help="the length when kind is 'fixed' (serving.output: 0 means "
                        "traffic.tokens_per_request)", check=_range(0, 65536))
    low: int = _spec(1, help="smallest length (uniform, lognormal)", check=_range(0, 65536))
    high: int = _spec(512, help="largest length (uniform, lognormal)", check=_range(0, 65536))
    median: float = _spec(128.0, help="median length (lognormal)", check=_range(0.0, 65536.0, open_low=True))
    sigma: float = _spec(1.0, help="standard deviation of the length's natural log (lognormal)",
                         check=_range(0.0, 10.0))


@dataclass(frozen=True)
class ServingSpec:
    """Serving under load (harness/traffic/): arrivals, prompt lengths, prefill and model replicas."""

    arrivals: str = _spec("fixed", help="request arrivals: 'fixed' (request r at r x traffic.request_spacing_s, "
                          "as without this section), 'poisson' (rate_per_s) or 'file' (arrivals_path)",
                          choices=("fixed", "poisson", "file"))
    rate_per_s: Optional[float] = _spec(None, unit="1/s", help="mean arrival rate of the Poisson arrivals",
                                        check=_range(0.0, 1e6, open_low=True))
    arrivals_path: Optional[str] = _spec(None, help="CSV 'time_s,prompt_tokens' or 'time_s,prompt_tokens,"
                                         "output_tokens' (one request per line, header first) when arrivals is "
                                         "'file', relative to the scenario; its lengths replace serving.prompt "
                                         "(and serving.output)")
    prompt: LengthSpec = _section(LengthSpec)
    output: LengthSpec = _section(LengthSpec)
    prefill: bool = _spec(False, help="run each request's prompt through every layer before decoding (token 0 of "
                          "the request is then the prefill pass, whose LM head gives the first output token)")
    replicas: int = _spec(1, help="copies of the model on disjoint satellites; replica r is the strategy placed "
                          "again without the satellites of replicas < r", check=_range(1, 64))
    max_batch: int = _spec(1, help="continuous batching: a gateway runs up to this many waiting decode steps "
                           "(attention, or the LM head) as one job; it helps only with compute.memory_bytes_per_s "
                           "(roofline), FLOPs alone scale with the batch. 1: no batching", check=_range(1, 65536))
    replica_policy: str = _spec("round-robin", help="which replica a request goes to: 'round-robin', "
                                "'least-outstanding-work' (the replica whose queued work, drained at its "
                                "bottleneck satellite's rate, ends first) or, with a users section, "
                                "'nearest-to-user' (the replica whose layer-0 gateway the user's route reaches "
                                "soonest at the request's arrival)",
                                choices=("round-robin", "least-outstanding-work", "nearest-to-user"))

    @property
    def enabled(self) -> bool:
        """Whether the run is a serving run (requests.csv written, the analytic model marked not applicable)."""
        return self != ServingSpec()


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

    @property
    def enabled(self) -> bool:
        """Whether any fault handling is on (then tokens.csv carries retransmissions, status and reason)."""
        return (self.retransmit_timeout_ms is not None or bool(self.satellite_failures)
                or self.satellite_failure_rate_per_s > 0)


class SiteList(tuple):
    """Ground sites: a YAML list of ``{name, lat_deg, lon_deg[, alt_m]}``, read into ``(Site, ...)``."""


def _sites(value: Any) -> Optional[str]:
    """The problem with a ``ground.sites`` value, or None."""
    if not isinstance(value, list):
        return "must be a list of {name, lat_deg, lon_deg, alt_m} mappings"
    names = set()
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not {"name", "lat_deg", "lon_deg"} <= set(item) <= {"name", "lat_deg",
                                                                                           "lon_deg", "alt_m"}:
            return (f"entry {i} must be a mapping with keys name, lat_deg, lon_deg and optionally alt_m, "
                    f"got {_show(item)}")
        if not isinstance(item["name"], str) or _name_problem(item["name"]):
            return f"entry {i}: name must be a non-empty string, got {_show(item['name'])}"
        if item["name"] in names:
            return f"entry {i}: site {item['name']!r} is listed twice; give each site once"
        names.add(item["name"])
        for key, lo, hi in (("lat_deg", -90.0, 90.0), ("lon_deg", -180.0, 360.0), ("alt_m", -500.0, 100_000.0)):
            v = item.get(key, 0.0)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:  # NaN fails too
                return f"entry {i} ({item['name']}): {key} must be a number in [{lo:g}, {hi:g}], got {_show(v)}"
    return None


@dataclass(frozen=True)
class GroundSpec:
    """Ground sites and their ground-satellite links (GSL)."""

    sites: SiteList = _spec(SiteList(), help="named places: a list of {name, lat_deg, lon_deg, alt_m} (geodetic, "
                            "east positive, metres above the convention's ellipsoid)")
    convention: str = _spec("wgs84-ut1", help="Earth model and rotation placing sites and satellites in one "
                            "Earth-fixed frame (harness/ground/geometry.py)", choices=tuple(GROUND_CONVENTIONS))
    gsl_rule: str = _spec("min_elevation", help="which satellites a site links to: the highest one above "
                          "min_elevation_deg, or every one within max_gsl_length_km (Hypatia)",
                          choices=tuple(GSL_RULE_NAMES))
    min_elevation_deg: float = _spec(25.0, unit="deg", help="gsl_rule min_elevation: lowest elevation of a usable "
                                     "satellite", check=_within(0.0, 90.0))
    max_gsl_length_km: Optional[float] = _spec(None, unit="km", help="gsl_rule max_length: longest usable "
                                               "ground-satellite link", check=_range(0.0, 1e5, open_low=True))


class UserLocationList(tuple):
    """User locations: a YAML list of ``{name, lat_deg, lon_deg, weight[, region]}``, read into
    ``(UserSite, ...)``."""


def _user_locations(value: Any) -> Optional[str]:
    """The problem with a ``users.locations`` value, or None."""
    keys = {"name", "lat_deg", "lon_deg", "weight"}
    if not isinstance(value, list):
        return "must be a list of {name, lat_deg, lon_deg, weight, region} mappings"
    names = set()
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not keys <= set(item) <= keys | {"region"}:
            return (f"entry {i} must be a mapping with keys name, lat_deg, lon_deg, weight and optionally region, "
                    f"got {_show(item)}")
        for key in ("name", "region"):
            if key in item and (not isinstance(item[key], str) or _name_problem(item[key]) or "," in item[key]):
                return f"entry {i}: {key} must be a non-empty string without commas, got {_show(item[key])}"
        if item["name"] in names:
            return f"entry {i}: location {item['name']!r} is listed twice; give each location once"
        names.add(item["name"])
        for key, lo, hi in (("lat_deg", -90.0, 90.0), ("lon_deg", -180.0, 360.0), ("weight", 0.0, 1e12)):
            v = item[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:  # NaN fails too
                return f"entry {i} ({item['name']}): {key} must be a number in [{lo:g}, {hi:g}], got {_show(v)}"
    if value and not any(item["weight"] > 0 for item in value):
        return "needs at least one location of weight > 0"
    return None


#: Shipped sets of user sites (``users.cities``): name -> CSV under harness/ground/data/ (see its SOURCE.md).
CITY_SETS = ("world",)


@dataclass(frozen=True)
class UsersSpec:
    """Users on the ground (harness/ground/users.py): where requests come from, over which links."""

    cities: Optional[str] = _spec(None, help="a shipped set of user sites weighted by population: 'world' (the 8 "
                                  "most populous cities of each inhabited continent, GeoNames, CC BY 4.0; "
                                  "harness/ground/data/SOURCE.md)",
                                  check=_rule("'world'", lambda v: None if v in CITY_SETS else
                                              f"must be one of: {', '.join(CITY_SETS)}"))
    locations: UserLocationList = _spec(UserLocationList(), help="user sites: a list of {name, lat_deg, lon_deg, "
                                        "weight, region} (geodetic deg, east positive; a request comes from a "
                                        "site with probability weight / total)")
    gsl_rate_bps: float = _spec(1e9, unit="bit/s", help="rate of a user's ground-satellite link, both ways",
                                check=_range(1e3, 1e13))
    token_bytes: int = _spec(4, unit="bytes", help="payload of one output token sent down to its user",
                             check=_range(1, 65000))

    @property
    def enabled(self) -> bool:
        """Whether requests come from users on the ground (a serving run, with ground-satellite links)."""
        return self.cities is not None or bool(self.locations)


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
    base_dir: str = field(default=".", metadata={"internal": True})

    def resolve(self, relative: str) -> Path:
        """A path named in the scenario, relative to the scenario file's folder."""
        return Path(self.base_dir) / relative


# ---------------------------------------------------------------------------------------------
# Loading


#: The strict YAML loader (harness/traces.py owns every on-disk format); kept under this name for callers.
_YamlLoader = YamlLoader


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file."""
    path = Path(path)
    raw = read_yaml_file(path, "scenario file", ScenarioError)
    if raw is None:
        raise ScenarioError(f"{path}: the file is empty; a scenario needs at least 'name'")
    return scenario_from_dict(raw, base_dir=path.parent, source=str(path))


def scenario_from_dict(raw: Any, *, base_dir: str | Path = ".", source: str = "scenario") -> Scenario:
    """Validate a plain dict (as YAML gives it) into a :class:`Scenario`."""
    raw = _apply_model_preset(raw, source)
    scenario = _build(Scenario, raw, source, "")
    scenario = dataclasses.replace(scenario, base_dir=str(base_dir))
    shape = _resolve_tle if scenario.constellation.kind == "tle" else _resolve_shape
    scenario = dataclasses.replace(scenario, constellation=shape(scenario, raw, source))
    _check_consistency(scenario, source)
    return scenario


def _build(cls: type, raw: Any, source: str, prefix: str) -> Any:
    where = prefix.rstrip(".") or "the top level"
    if not isinstance(raw, dict):
        raise ScenarioError(f"{source}: {where} must be a mapping of keys to values, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    unknown = sorted((k for k in raw if k not in fields), key=str)
    if unknown:
        raise ScenarioError(f"{source}: unknown key {_show(prefix + str(unknown[0]))}; allowed keys in {where}: "
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
        return ScenarioError(f"{source}: '{key}' must be {expected}, got {_show(value)}")

    if hint is bool:
        if not isinstance(value, bool):
            raise bad("true or false")
    elif hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("a whole number")
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a finite number")
        try:
            value = float(value)
        except OverflowError:  # an integer beyond a float's range
            raise bad("a finite number") from None
        if not math.isfinite(value):
            raise bad("a finite number")
    elif hint is str:
        if not isinstance(value, str):
            raise bad("a string")
    elif hint is SatelliteFailureList:
        problem = _satellite_failures(value, key)
        if problem:
            raise ScenarioError(f"{source}: '{key}' {problem}")
        value = SatelliteFailureList((int(v["satellite"]), float(v["time_s"])) for v in value)
    elif hint is UserLocationList:
        problem = _user_locations(value)
        if problem:
            raise ScenarioError(f"{source}: '{key}' {problem}")
        from .ground.sites import UserSite

        value = UserLocationList(UserSite(v["name"], float(v["lat_deg"]), float(v["lon_deg"]), float(v["weight"]),
                                          v.get("region", "custom")) for v in value)
    elif hint is SiteList:
        problem = _sites(value)
        if problem:
            raise ScenarioError(f"{source}: '{key}' {problem}")
        from .ground.sites import Site

        value = SiteList(Site(v["name"], float(v["lat_deg"]), float(v["lon_deg"]), float(v.get("alt_m", 0.0)))
                         for v in value)
    elif hint is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise bad("a non-empty list of names")
        value = tuple(value)
    choices = f.metadata.get("choices") or ()
    if choices and value not in choices:
        raise ScenarioError(f"{source}: '{key}' is {_show(value)}; choose one of: {', '.join(map(str, choices))}")
    check = f.metadata.get("check")
    if check is not None:
        problem = check(value)
        if problem:
            unit = f" {f.metadata['unit']}" if f.metadata.get("unit") else ""
            raise ScenarioError(f"{source}: '{key}' is {_show(value)}{unit}; it {problem}")
    return value


def _apply_model_preset(raw: Any, source: str) -> Any:
    """Fill a model preset's keys under the ones the user gave."""
    if not isinstance(raw, dict) or not isinstance(raw.get("model"), dict) or raw["model"].get("preset") is None:
        return raw
    name = raw["model"]["preset"]
    if not isinstance(name, str) or name not in MODEL_PRESETS:
        raise ScenarioError(f"{source}: 'model.preset' is {_show(name)}; choose one of: {', '.join(MODEL_PRESETS)}")
    return {**raw, "model": {**MODEL_PRESETS[name], **raw["model"]}}


def _resolve_tle(sc: Scenario, raw: dict, source: str) -> ConstellationSpec:
    """Read and check the TLE file (and sidecar files) now, and fill the shape keys from it."""
    c = sc.constellation
    if not c.tle_file:
        raise ScenarioError(f"{source}: 'constellation.kind' is 'tle' but 'constellation.tle_file' is not set; "
                            f"name the TLE file")
    for key in ("planes", "sats_per_plane", "satellites", "phasing", "altitude_km", "inclination_deg"):
        if key in raw.get("constellation", {}):
            raise ScenarioError(f"{source}: 'constellation.{key}' does not apply to kind 'tle' (the TLE file gives "
                                f"the orbits); remove it")
    from .constellation_tle import check_propagation, load_tle_grid, tle_edges

    explicit = "epoch_utc" in raw.get("constellation", {})
    records, grid, _, epoch = load_tle_grid(sc, c.epoch if explicit else None)
    check_propagation(records, epoch, sc.snapshots.count, sc.snapshots.interval_s, str(sc.resolve(c.tle_file)))
    tle_edges(sc, grid, len(records))  # an isl_file is read (strictly) now, not mid-run
    return dataclasses.replace(c, planes=grid.planes, sats_per_plane=int(grid.sizes.max()), satellites=len(records),
                               epoch_utc=c.epoch_utc if explicit else epoch.isoformat().replace("+00:00", "Z"))


def _resolve_shape(sc: Scenario, raw: dict, source: str) -> ConstellationSpec:
    """Fill sats_per_plane from satellites (T) or the other way round, checking T = P x S."""
    c = sc.constellation
    for key in ("tle_file", "slots_file", "isl_file"):  # slot_numbering and plane_tolerance_deg: harmless
        if getattr(c, key) is not None:
            raise ScenarioError(f"{source}: 'constellation.{key}' is set but 'constellation.kind' is {c.kind!r}; "
                                f"set kind: tle or remove {key}")
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
    """Rules that tie several keys together. Code downstream relies on them and does not check again."""
    c = sc.constellation
    if c.num_satellites > MAX_SATELLITES:
        raise ScenarioError(f"{source}: the constellation has {c.planes} x {c.sats_per_plane} = {c.num_satellites} "
                            f"satellites, more than the {MAX_SATELLITES} the routing tables hold; lower "
                            f"'constellation.planes' or 'constellation.sats_per_plane'")
    if c.kind != "tle" and c.phasing > c.planes - 1:
        raise ScenarioError(f"{source}: 'constellation.phasing' is {c.phasing}; it must be in [0, planes - 1] = "
                            f"[0, {c.planes - 1}]")
    grazing = sc.links.grazing_altitude_km
    if c.kind != "tle" and grazing is not None and grazing >= c.altitude_km - SGP4_ALTITUDE_MARGIN_KM:
        raise ScenarioError(f"{source}: 'links.grazing_altitude_km' {grazing:g} must be below the orbit altitude "
                            f"{c.altitude_km:g} km less {SGP4_ALTITUDE_MARGIN_KM:g} km (SGP4's orbits dip that much "
                            f"below the nominal altitude); lower it (default 80) or set null for no line-of-sight rule")
    horizon_s = sc.snapshots.horizon_s
    if horizon_s > MAX_HORIZON_S:
        raise ScenarioError(f"{source}: the run lasts snapshots.count x snapshots.interval_s = {horizon_s:g} s, more "
                            f"than {MAX_HORIZON_S:g} s (simulated time is int64 ns); lower 'snapshots.count' or "
                            f"'snapshots.interval_s'")
    m = sc.model
    if m.top_k > m.experts:
        raise ScenarioError(f"{source}: 'model.top_k' is {m.top_k} but the model has only {m.experts} experts per "
                            f"layer; lower top_k or raise experts")
    if m.num_components > c.num_satellites:
        raise ScenarioError(f"{source}: the model needs {m.num_components} satellites ({m.layers} layers x "
                            f"(1 gateway + {m.experts} experts)) but the constellation has {c.num_satellites}; "
                            f"add planes or satellites per plane, or shrink the model")
    if sc.placement.subnets == "planes":
        if c.planes < m.layers:
            raise ScenarioError(f"{source}: 'placement.subnets' is 'planes' but the constellation has {c.planes} "
                                f"planes for {m.layers} layers; use 'arcs' or at least {m.layers} planes")
        smallest = (c.planes // m.layers) * c.sats_per_plane
        if smallest < 1 + m.experts:
            raise ScenarioError(f"{source}: with 'placement.subnets' 'planes' a layer gets {smallest} satellites but "
                                f"needs {1 + m.experts} (1 gateway + {m.experts} experts); use 'arcs' or larger planes")
    for name in sc.strategies:
        if name not in STRATEGY_NAMES:
            raise ScenarioError(f"{source}: unknown strategy {_show(name)} in 'strategies'; choose from: "
                                f"{', '.join(STRATEGY_NAMES)}")
    sharded = [name for name in sc.strategies if name in TENSOR_PARALLEL_STRATEGIES + REPLICA_STRATEGIES]
    if sharded and sc.faults.enabled:
        raise ScenarioError(f"{source}: strategy '{sharded[0]}' splits attention over shards or copies experts, "
                            f"which the 'faults' section does not model (no retransmission or failure of a shard "
                            f"or copy); drop the faults section or that strategy")
    if len(set(sc.strategies)) != len(sc.strategies):
        raise ScenarioError(f"{source}: 'strategies' lists a strategy twice; list each once")
    if sc.links.segment_payload_bytes < 64:
        raise ScenarioError(f"{source}: 'links.mtu_bytes' {sc.links.mtu_bytes} leaves no room for a payload after "
                            f"the {IPV4_HEADER_BYTES + UDP_HEADER_BYTES + APP_HEADER_BYTES} header bytes; use >= 128")
    t = sc.traffic
    entries = t.requests * t.tokens_per_request * m.layers * m.top_k
    if entries > MAX_ACTIVATIONS:
        raise ScenarioError(f"{source}: traffic.requests x traffic.tokens_per_request x model.layers x model.top_k "
                            f"= {entries} activations, more than {MAX_ACTIVATIONS}; lower 'traffic.requests' or "
                            f"'traffic.tokens_per_request'")
    if (t.requests - 1) * t.request_spacing_s > MAX_HORIZON_S:
        raise ScenarioError(f"{source}: the last request starts at {(t.requests - 1) * t.request_spacing_s:g} s, "
                            f"beyond {MAX_HORIZON_S:g} s; lower 'traffic.request_spacing_s' or 'traffic.requests'")
    from . import model as work  # the FLOP formulas (model.py imports this module, so not at the top)

    for key, flops in (("gateway_flops", work.gateway_flops(m)), ("expert_flops", work.expert_flops(m)),
                       ("lm_head_flops", work.lm_head_flops(m))):
        if flops / sc.compute.satellite_flops > MAX_COMPUTE_S:
            raise ScenarioError(f"{source}: one token's {key[:-6].replace('_', ' ')} work takes "
                                f"{flops / sc.compute.satellite_flops:g} s at compute.satellite_flops, more than "
                                f"{MAX_COMPUTE_S:g} s; raise 'compute.satellite_flops' or lower 'model.{key}' "
                                f"or the model's dimensions")
    for sat, _ in sc.faults.satellite_failures:
        if sat >= c.num_satellites:
            raise ScenarioError(f"{source}: 'faults.satellite_failures' names satellite {sat} but the constellation "
                                f"has {c.num_satellites} (0 to {c.num_satellites - 1}); fix the satellite number")
    g = sc.ground
    if g.gsl_rule == "max_length" and g.max_gsl_length_km is None:
        raise ScenarioError(f"{source}: 'ground.gsl_rule' is 'max_length' but 'ground.max_gsl_length_km' is not set; "
                            f"give the longest usable link (Hypatia's Kuiper-630: 1260)")
    _check_serving(sc, source)
    u = sc.users
    if u.cities is not None and u.locations:
        raise ScenarioError(f"{source}: 'users.cities' and 'users.locations' are both set; give one of them")
    if sc.serving.replica_policy == "nearest-to-user" and not u.enabled:
        raise ScenarioError(f"{source}: 'serving.replica_policy' is 'nearest-to-user' but there are no users; add a "
                            f"users section (users.cities or users.locations) or choose another policy")
    if u.enabled and g.gsl_rule != "min_elevation":
        raise ScenarioError(f"{source}: users link to the highest satellite above 'ground.min_elevation_deg', but "
                            f"'ground.gsl_rule' is {_show(g.gsl_rule)}; set it to min_elevation (or remove it)")
    a = sc.activations
    if a.kind == "file":
        if not a.path:
            raise ScenarioError(f"{source}: 'activations.kind' is 'file' but 'activations.path' is not set; "
                                f"name the trace file")
        try:
            found = sc.resolve(a.path).is_file()
        except (OSError, ValueError):  # a name too long, a NUL
            found = False
        if not found:
            raise ScenarioError(f"{source}: activation trace {_show(str(sc.resolve(a.path)))} not found; fix "
                                f"'activations.path' (it is relative to the scenario file)")
    elif a.path is not None:
        raise ScenarioError(f"{source}: 'activations.path' is set but 'activations.kind' is 'synthetic'; "
                            f"set kind: file or remove path")


def _check_serving(sc: Scenario, source: str) -> None:
    """The serving section's cross-key rules."""
    v, m = sc.serving, sc.model
    if v.arrivals == "poisson" and v.rate_per_s is None:
        raise ScenarioError(f"{source}: 'serving.arrivals' is 'poisson' but 'serving.rate_per_s' is not set; give "
                            f"the mean arrival rate in requests per second")
    if v.arrivals != "poisson" and v.rate_per_s is not None:
        raise ScenarioError(f"{source}: 'serving.rate_per_s' is set but 'serving.arrivals' is {_show(v.arrivals)}; "
                            f"set arrivals: poisson or remove rate_per_s")
    if v.arrivals == "file":
        if not v.arrivals_path:
            raise ScenarioError(f"{source}: 'serving.arrivals' is 'file' but 'serving.arrivals_path' is not set; "
                                f"name the arrivals CSV")
        if not sc.resolve(v.arrivals_path).is_file():
            raise ScenarioError(f"{source}: arrivals file {_show(str(sc.resolve(v.arrivals_path)))} not found; fix "
                                f"'serving.arrivals_path' (it is relative to the scenario file)")
    elif v.arrivals_path is not None:
        raise ScenarioError(f"{source}: 'serving.arrivals_path' is set but 'serving.arrivals' is "
                            f"{_show(v.arrivals)}; set arrivals: file or remove arrivals_path")
    # A tensor-parallel layer's shards compute GetShardCompute (gateway FLOPs / m, one token) on their
    # own satellites: serving's batched, prefill and roofline gateway work is not split over them.
    tp = [name for name in sc.strategies if name in TENSOR_PARALLEL_STRATEGIES]
    if tp and sc.placement.max_shards > 1:
        for key, on, fix in (("serving.prefill", v.prefill, "prefill: false"),
                             ("serving.max_batch", v.max_batch > 1, "max_batch: 1"),
                             ("compute.memory_bytes_per_s", sc.compute.memory_bytes_per_s is not None,
                              "memory_bytes_per_s: null")):
            if on:
                raise ScenarioError(f"{source}: '{key}' does not compose with tensor-parallel strategy '{tp[0]}' "
                                    f"(its attention shards run one token's gateway FLOPs / m, not batched, "
                                    f"prefill or roofline work); set {fix}, 'placement.max_shards: 1', or drop "
                                    f"'{tp[0]}' from 'strategies'")
    p = v.prompt
    if p.low > p.high:
        raise ScenarioError(f"{source}: 'serving.prompt.low' {p.low} is above 'serving.prompt.high' {p.high}; "
                            f"swap them")
    if v.prefill:
        if m.dispatch != "parallel":
            raise ScenarioError(f"{source}: 'serving.prefill' needs 'model.dispatch' 'parallel' (a prompt's tokens "
                                f"go to many experts at once); set dispatch: parallel or prefill: false")
        problem = prefill_problem(sc, p.tokens if p.kind == "fixed" else p.high)
        if problem:
            raise ScenarioError(f"{source}: {problem}")
    o, most = v.output, sc.traffic.tokens_per_request
    if o.kind == "fixed" and o.tokens > most:
        raise ScenarioError(f"{source}: 'serving.output.tokens' {o.tokens} is above 'traffic.tokens_per_request' "
                            f"{most} (the activation trace's decode length, the longest output); raise "
                            f"tokens_per_request or lower the output (0: tokens_per_request)")
    if o.kind != "fixed" and not 1 <= o.low <= o.high <= most:
        raise ScenarioError(f"{source}: 'serving.output' draws lengths in [low, high] = [{o.low}, {o.high}], which "
                            f"must lie in [1, traffic.tokens_per_request = {most}] (the longest output); set "
                            f"serving.output.low/high or raise tokens_per_request")
    if v.arrivals != "file" and not v.prefill and (p.kind != "fixed" or p.tokens):
        raise ScenarioError(f"{source}: 'serving.prompt' is set but 'serving.prefill' is false, so prompts would "
                            f"do nothing; set prefill: true or remove prompt")
    if v.replicas * m.num_components > sc.constellation.num_satellites:
        raise ScenarioError(f"{source}: {v.replicas} replicas need {v.replicas * m.num_components} satellites but "
                            f"the constellation has {sc.constellation.num_satellites}; lower 'serving.replicas'")


def prefill_problem(sc: Scenario, longest: int) -> Optional[str]:
    """Why prompts of up to ``longest`` tokens cannot be prefilled in this scenario, or None. Checked
    here for serving.prompt and, at run time, for an arrivals file's prompts (harness/traffic)."""
    m, t = sc.model, sc.traffic
    entries = t.requests * (t.tokens_per_request + longest) * m.layers * m.top_k
    if entries > MAX_ACTIVATIONS:
        return (f"with prefill the activation trace holds traffic.requests x (longest prompt {longest} + "
                f"tokens_per_request) x model.layers x model.top_k = {entries} entries, more than {MAX_ACTIVATIONS}; "
                f"lower 'traffic.requests' or the prompt lengths")
    segments = -(-longest * m.hidden_bytes // sc.links.segment_payload_bytes)
    if segments > 65535:
        return (f"a prefill message of {longest} prompt tokens is {segments} packets, more than the 65535 a "
                f"message header counts; lower the prompt length or raise 'links.mtu_bytes'")
    if sc.links.queue_packets < m.top_k * segments:
        return (f"'links.queue_packets' {sc.links.queue_packets} cannot hold one prefill layer's burst "
                f"({m.top_k} x {segments} packets for {longest} prompt tokens): packets would be dropped and the "
                f"request stall; raise queue_packets to at least {m.top_k * segments}")
    return None
