"""What both engines take: one strategy's run, built once (:class:`SimulationInput`), and the
serving run's extras that only the packet engine models (:class:`ServingInput`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

import numpy as np

from harness.network.routes import PathQuery, Routes
from harness.network.topology import Topology
from harness.scenario import LinkSpec, PowerSpec
from harness.workload.compute import ComputeTimes, KvReads

if TYPE_CHECKING:
    from harness.network.ground.users import UserLinks

__all__ = ["PowerInput", "RecoveryInput", "ServingInput", "SimulationInput"]


@dataclass(frozen=True, kw_only=True)
class SimulationInput:
    """One placed model's tokens over the time-varying network: the input of both
    :func:`harness.simulate.analytic.analytic_latency` and :func:`harness.simulate.packet.run_packet_sim`.

    Arrays are as the engines check them: ids are satellite (node) ids, times are ns.
    """

    # The network
    topology: Topology
    #: the run's :class:`PathQuery` (next hops computed in C++ on demand), or dense :class:`Routes`
    #: covering every component as a destination (hand-built routes in tests)
    routes: PathQuery | Routes
    links: LinkSpec
    # The placed model
    gateways: np.ndarray     # [L] satellite of each layer's gateway
    experts: np.ndarray      # [L, E] satellite of each expert
    #: [L, H] tensor-parallel helper shards of each layer's attention (-1 padded), or None
    shards: Optional[np.ndarray] = None
    #: [L, E, R] copies of each expert (-1 padded), or None; with ``replica_choice`` [S, L, E], the
    #: copy in force per snapshot
    replicas: Optional[np.ndarray] = None
    replica_choice: Optional[np.ndarray] = None
    # Its work
    activations: np.ndarray  # [R, T, L, k] expert ids of every token
    compute: ComputeTimes    # FLOP side of each component's work, one token
    #: weight-read times (the roofline's memory side, compute.memory_bytes_per_s), or None
    memory: Optional[ComputeTimes] = None
    #: the KV cache attention jobs move under the roofline (with ``memory``), or None: weights only
    kv: Optional[KvReads] = None
    request_starts_ns: np.ndarray  # [R] when each request's first token starts
    message_bytes: int  # one hidden state
    # How messages move (routing.no_route, model.combine, model.dispatch)
    no_route: str = "drop"
    combine: str = "next-gateway"
    dispatch: str = "parallel"
    #: the analytic model queues the messages of one phase for their shared links
    #: (``simulation.analytic_queueing``; off: every message timed alone, the earlier model)
    analytic_queueing: bool = False

    @property
    def token_compute(self) -> ComputeTimes:
        """Each component's time for one token: with the roofline, max(compute, weight read); else
        the compute. (A batch or prefill of n tokens takes max(n x compute, memory) instead, which
        only the packet engine models; so does an attention job's KV-cache read, which grows with the
        context: :attr:`kv`, taken per token by both engines.)"""
        if self.memory is None:
            return self.compute
        c, m = self.compute, self.memory
        return ComputeTimes(np.maximum(c.gateway_ns, m.gateway_ns), np.maximum(c.expert_ns, m.expert_ns),
                            max(c.lm_head_ns, m.lm_head_ns), heads=c.heads)


@dataclass(frozen=True, kw_only=True)
class ServingInput:
    """A serving run's extras (harness/workload/traffic/), which only the packet engine models.

    ``replica_gateways`` ``[P, L]`` and ``replica_experts`` ``[P, L, E]`` place P model replicas on
    disjoint satellites and ``replica_of`` ``[R]`` names each request's (the input's ``gateways``
    and ``experts`` are then replica 0's); ``replica_extras`` gives each one its own ``(shards,
    replicas, replica_choice)``. ``prompt_tokens`` ``[R]`` and ``prefill_counts`` ``[R, L, E]``
    (prompt tokens per expert) make token 0 of each request with a prompt its prefill.
    ``max_batch`` is a gateway's batch of decode steps (``serving.max_batch``). ``output_tokens``
    ``[R]`` (each in [1, T]) ends request r after its first ``output_tokens[r]`` tokens.
    ``users`` (:class:`harness.network.ground.users.UserLinks`): requests start at their users on
    the ground, whose prompts go up and tokens come down over real links. ``chunks`` (chunked
    prefill): ``([R, C, L, E], [R, C])`` each chunk's tokens per expert and its tokens
    (:func:`harness.workload.traffic.prefill.chunk_counts`); each chunk is a pass of its own.
    ``decode_of`` ``[R]`` (disaggregated serving): each request's decode replica (-1: none, one
    output token); ``replica_of`` is then its prefill replica, and after the prefill each layer's
    KV cache (prompt tokens x ``kv_bytes_per_token``) moves to the decode replica as packets.
    ``kv_budgets`` (one per replica, tokens; 0: no limit): layer 0's gateway admits a request only
    while the KV caches of its running requests (prompt + output tokens each) fit.
    """

    replica_gateways: Optional[np.ndarray] = None
    replica_experts: Optional[np.ndarray] = None
    replica_of: Optional[np.ndarray] = None
    prompt_tokens: Optional[np.ndarray] = None
    prefill_counts: Optional[np.ndarray] = None
    max_batch: int = 1
    output_tokens: Optional[np.ndarray] = None
    replica_extras: Optional[list] = None
    users: Optional["UserLinks"] = None
    chunks: Optional[tuple] = None
    decode_of: Optional[np.ndarray] = None
    kv_bytes_per_token: int = 0
    kv_budgets: Optional[list] = None


@dataclass(frozen=True, kw_only=True)
class PowerInput:
    """The power model's input (issue 22; only the packet engine models it): every satellite's
    power system (``spec``, the scenario's enabled ``power`` section) and ``sunlit`` ``[S, N]``,
    whether satellite n is in sunlight in snapshot s (:func:`harness.constellation.sun.sunlit`;
    N the satellites, without ground nodes)."""

    spec: PowerSpec
    sunlit: np.ndarray


@dataclass(frozen=True, kw_only=True)
class RecoveryInput:
    """Recovery from satellite failures across model replicas (``faults.recovery``, issue 24; only
    the packet engine models it; ns3 MoeFailover).

    ``policy`` is ``failover`` or ``replace``; ``detection_ns`` the time from a component's failure
    until the service acts. ``replacements`` (replace): one row per lost component, ``[J, 8]``
    int64 ``replica, role (0 gateway, 1 expert), layer, index, fail_ns, source_sat, spare_sat,
    bytes``: its weights come from ``source_sat`` (another replica's copy) to ``spare_sat``.
    ``max_restarts``: how often re-placements may abandon and restart one request before it fails.
    """

    policy: str
    detection_ns: int
    replacements: Optional[np.ndarray] = None
    max_restarts: int = 3
