"""The traffic step: which requests arrive when, with how many prompt and output tokens, and on
which model replica.

``arrivals.py`` (fixed spacing, Poisson, a file), ``lengths.py`` (prompt lengths: fixed, uniform,
lognormal), ``replicas.py`` (round robin, least outstanding work) are registries keyed by the
schema's names; ``prefill.py`` turns the prompts' activations into per-expert token counts and
works out a prefill's critical path; ``report.py`` derives TTFT, TPOT and utilisation.

Without a ``serving`` section the requests are today's: request r starts at
``r x traffic.request_spacing_s``, no prompt, one replica.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from harness.errors import ScenarioError
from harness.seeding import rng_for
from harness.scenario import Scenario, prefill_problem
from harness.workload.traffic.arrivals import ARRIVALS
from harness.workload.traffic.lengths import LENGTHS
from harness.workload.traffic.replicas import POLICIES, USER_POLICIES

__all__ = ["ARRIVALS", "LENGTHS", "POLICIES", "USER_POLICIES", "Requests", "build_requests", "bottleneck_work_ns",
           "check_arrivals_file"]


@dataclass(frozen=True)
class Requests:
    """The requests of a run, in arrival order."""

    arrival_ns: np.ndarray     # [R] int64
    prompt_tokens: np.ndarray  # [R] int32; 0 without prefill
    output_tokens: np.ndarray  # [R] int32
    replica: np.ndarray        # [R] int32 in [0, replicas): with disaggregation, the prefill replica
    decode_replica: Optional[np.ndarray] = None  # [R] disaggregated serving: the decode replica (-1: one output token)

    @property
    def max_prompt_tokens(self) -> int:
        return int(self.prompt_tokens.max()) if len(self.prompt_tokens) else 0


def bottleneck_work_ns(prompt_tokens: np.ndarray, output_tokens: np.ndarray, gateway_ns: np.ndarray,
                       lm_head_ns: int, prefill: bool) -> np.ndarray:
    """``[R]`` compute each request puts on its replica's busiest gateway, ns.

    A pass of ``n`` tokens costs ``n x gateway_ns[l]`` at gateway ``l``, and layer 0's gateway runs
    the LM head once per pass. With prefill, token 0 is the prompt's pass (``P`` tokens) and the
    other ``O - 1`` are decode passes; without it every one of the ``O`` passes is one token.
    Experts are not counted: with k of E experts per token an expert carries less than a gateway.
    """
    prompt = np.asarray(prompt_tokens, dtype=np.int64)
    out = np.asarray(output_tokens, dtype=np.int64)
    tokens = np.where(prefill & (prompt > 0), prompt + out - 1, out)  # tokens through every gateway
    per_gateway = tokens[:, None] * np.asarray(gateway_ns, dtype=np.int64)[None, :]
    per_gateway[:, 0] += out * int(lm_head_ns)
    return per_gateway.max(axis=1)


def check_arrivals_file(scenario: Scenario) -> None:
    """Read and check ``serving.arrivals_path`` as :func:`build_requests` will (its rows, and its longest
    prompt against the prefill limits), so that ``harness run`` refuses a bad file in one line before
    it computes anything (harness/cli.py ``check_run``)."""
    v = scenario.serving
    if v.arrivals != "file":
        return
    _, prompts, _ = ARRIVALS["file"](scenario, rng_for(scenario.seed, "traffic:arrivals"))
    if v.prefill and len(prompts):
        problem = prefill_problem(scenario, int(prompts.max()))
        if problem:
            raise ScenarioError(f"{scenario.resolve(v.arrivals_path)}: {problem}")


def build_requests(scenario: Scenario, gateway_ns: np.ndarray, lm_head_ns: int) -> Requests:
    """The scenario's requests: arrivals, prompt lengths (seeded) and replicas."""

    v, t = scenario.serving, scenario.traffic
    arrival_ns, prompts, outputs = ARRIVALS[v.arrivals](scenario, rng_for(scenario.seed, "traffic:arrivals"))
    if prompts is None:
        prompts = LENGTHS[v.prompt.kind](v.prompt, t.requests, rng_for(scenario.seed, "traffic:prompt"))
    if not v.prefill:
        prompts = np.zeros(t.requests, dtype=np.int32)
    elif v.arrivals == "file":  # the schema checked serving.prompt's lengths; a file's are checked here
        problem = prefill_problem(scenario, int(prompts.max()))
        if problem:
            raise ScenarioError(f"{scenario.resolve(v.arrivals_path)}: {problem}")
    if outputs is None:
        if v.output.kind == "fixed":
            outputs = np.full(t.requests, v.output.tokens or t.tokens_per_request, dtype=np.int32)
        else:
            outputs = LENGTHS[v.output.kind](v.output, t.requests, rng_for(scenario.seed, "traffic:output"))
    output = np.asarray(outputs, dtype=np.int32)
    work = bottleneck_work_ns(prompts, output, gateway_ns, lm_head_ns, v.prefill)
    if v.replica_policy in USER_POLICIES:  # decided per strategy once the replicas are placed
        replica = np.zeros(len(arrival_ns), dtype=np.int32)
    elif v.disaggregated:
        # Prefill replicas 0..P-1 get the prompts' passes, decode replicas P..P+D-1 the rest, each
        # chosen by the policy among its own kind on the work it puts there.
        prefill_work = bottleneck_work_ns(prompts, np.ones_like(output), gateway_ns, lm_head_ns, True)
        decode_work = bottleneck_work_ns(np.zeros_like(prompts), np.maximum(output - 1, 1), gateway_ns, lm_head_ns,
                                         False)
        replica = POLICIES[v.replica_policy](arrival_ns, prefill_work, v.prefill_replicas)
        decode = v.prefill_replicas + POLICIES[v.replica_policy](arrival_ns, decode_work, v.decode_replicas)
        decode = np.where(output > 1, decode, -1).astype(np.int32)
        return Requests(arrival_ns, prompts.astype(np.int32), output, np.asarray(replica, dtype=np.int32), decode)
    else:
        replica = POLICIES[v.replica_policy](arrival_ns, work, v.replicas)
    return Requests(arrival_ns, prompts.astype(np.int32), output, replica)
