"""Traffic, activation and serving sections of the scenario schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from harness.scenario.schema import _spec, _section, _within, _range, MAX_COUNT


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
    # expert carry 2x the mean load; see harness/workload/activations.py for the formulas.
    skew: float = _spec(0.6, help="Zipf exponent of per-layer expert popularity (0 = uniform); a frontier "
                        "model.preset gives its own (Model presets below)", check=_range(0.0, 100.0))
    stickiness: float = _spec(0.05, help="probability that a token reuses the previous token's experts; a frontier "
                              "model.preset gives its own", check=_within(0.0, 1.0))
    path: Optional[str] = _spec(None, help="trace file (.npy or .csv) when kind is 'file', relative to the scenario")


@dataclass(frozen=True)
class LengthSpec:
    """A token-length distribution (harness/workload/traffic/lengths.py): fixed, uniform or lognormal."""

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
    """Serving under load (harness/workload/traffic/): arrivals, prompt lengths, prefill and model replicas."""

    arrivals: str = _spec("fixed", help="request arrivals: 'fixed' (request r at r x traffic.request_spacing_s, "
                          "as without this section), 'poisson' (rate_per_s) or 'file' (arrivals_path)",
                          choices=("fixed", "poisson", "file"))
    rate_per_s: Optional[float] = _spec(None, unit="1/s", help="mean arrival rate of the Poisson arrivals (at least traffic.requests / "
                                        "1e8 s: the arrivals must end within simulated time's 1e8 s)",
                                        check=_range(0.0, 1e6, open_low=True))
    arrivals_path: Optional[str] = _spec(None, help="CSV 'time_s,prompt_tokens' or 'time_s,prompt_tokens,"
                                         "output_tokens' (one request per line, header first) when arrivals is "
                                         "'file', relative to the scenario; its lengths replace serving.prompt "
                                         "(and serving.output)")
    prompt: LengthSpec = _section(LengthSpec)
    output: LengthSpec = _section(LengthSpec)
    prefill: bool = _spec(False, help="run each request's prompt through every layer before decoding (token 0 of "
                          "the request is then the prefill pass, whose LM head gives the first output token)")
    chunk_tokens: int = _spec(0, help="chunked prefill (Sarathi-style): a prompt runs as passes of at most this "
                              "many tokens each (a per-job token budget), so that decode steps interleave "
                              "between its chunks at every gateway; a chunk's compute and messages follow its "
                              "token count. 0: the whole prompt as one pass. Needs prefill; at most the longest "
                              "prompt", check=_range(0, 65536))
    replicas: int = _spec(1, help="copies of the model on disjoint satellites; replica r is the strategy placed "
                          "again without the satellites of replicas < r", check=_range(1, 64))
    max_batch: int = _spec(1, help="continuous batching: a gateway runs up to this many waiting decode steps "
                           "(attention, or the LM head) as one job, an expert up to this many waiting tokens "
                           "of its layer, and a tensor-parallel shard up to this many of its steps; it helps only "
                           "under the roofline (compute.memory_bytes_per_s, or a board profile): the weights are "
                           "read once per batch (each step still reads its own request's KV cache). 1: no "
                           "batching",
                           check=_range(1, 65536))
    prefill_replicas: int = _spec(0, help="disaggregated serving (DistServe-style): the first this many model "
                                  "replicas run prefill only; after a request's prefill its KV cache moves over "
                                  "the ISLs, layer by layer, to a decode replica. 0: replicas do both. Needs "
                                  "decode_replicas, and prefill_replicas + decode_replicas = replicas",
                                  check=_range(0, 64))
    decode_replicas: int = _spec(0, help="disaggregated serving: the last this many model replicas decode only "
                                 "(a request's decode replica is chosen by replica_policy among them)",
                                 check=_range(0, 64))
    replica_policy: str = _spec("round-robin", help="which replica a request goes to: 'round-robin', "
                                "'least-outstanding-work' (the replica whose queued work, drained at its "
                                "bottleneck satellite's rate, ends first) or, with a users section, "
                                "'nearest-to-user' (the replica whose layer-0 gateway the user's route reaches "
                                "soonest at the request's arrival)",
                                choices=("round-robin", "least-outstanding-work", "nearest-to-user"))

    @property
    def disaggregated(self) -> bool:
        """Whether prefill and decode run on separate replicas."""
        return self.prefill_replicas > 0 and self.decode_replicas > 0

    @property
    def enabled(self) -> bool:
        """Whether the run is a serving run (requests.csv written, the analytic model marked not applicable)."""
        return self != ServingSpec()
