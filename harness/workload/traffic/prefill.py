"""Prefill: the prompt's activations as per-expert token counts, and the prefill's critical path.

The activation trace of a serving run with prefill holds ``P_max + T`` tokens per request: request
r's prompt is tokens ``[P_max - P_r, P_max)`` and its decode tokens follow from ``P_max`` on, so
that a sticky router carries over from the prompt into the decode, as in a real sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def prefill_counts(prompt_experts: np.ndarray, prompt_tokens: np.ndarray, num_experts: int) -> np.ndarray:
    """``[R, L, E]`` int32 prompt tokens per expert from the prompt part ``[R, P_max, L, k]`` of a trace."""
    requests, max_prompt, layers, _ = prompt_experts.shape
    used = np.arange(max_prompt)[None, :] >= (max_prompt - np.asarray(prompt_tokens))[:, None]  # [R, P_max]
    r, _, l, _ = np.nonzero(np.broadcast_to(used[:, :, None, None], prompt_experts.shape))
    index = (r * layers + l) * num_experts + prompt_experts[used].ravel()
    counts = np.bincount(index, minlength=requests * layers * num_experts)
    return counts.reshape(requests, layers, num_experts).astype(np.int32)


def chunk_counts(prompt_experts: np.ndarray, prompt_tokens: np.ndarray, num_experts: int,
                 chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """Chunked prefill (``serving.chunk_tokens``): ``([R, C, L, E] int32, [R, C] int32)``, the tokens of
    chunk c of request r routed to each expert, and the chunk's tokens. Request r's prompt (tokens
    ``[P_max - P_r, P_max)`` of ``prompt_experts`` ``[R, P_max, L, k]``) is cut in order into
    ``ceil(P_r / chunk)`` chunks of ``chunk`` tokens, the last holding the rest; C is the most of
    any request, and a request's chunks past its last are empty."""
    requests, max_prompt, layers, _ = prompt_experts.shape
    prompt = np.asarray(prompt_tokens, dtype=np.int64)
    chunks = -(-prompt // chunk)
    most = max(int(chunks.max()) if requests else 0, 1)
    position = np.arange(max_prompt)[None, :] - (max_prompt - prompt)[:, None]  # [R, P_max], <0: not the prompt
    used = position >= 0
    chunk_of = np.where(used, position // chunk, 0)
    r, p, l, _ = np.nonzero(np.broadcast_to(used[:, :, None, None], prompt_experts.shape))
    index = ((r * most + chunk_of[r, p]) * layers + l) * num_experts + prompt_experts[used].ravel()
    counts = np.bincount(index, minlength=requests * most * layers * num_experts)
    tokens = np.clip(prompt[:, None] - np.arange(most)[None, :] * chunk, 0, chunk)
    return (counts.reshape(requests, most, layers, num_experts).astype(np.int32), tokens.astype(np.int32))


@dataclass(frozen=True)
class PrefillPath:
    """A prefill pass alone on an idle replica, on its critical path, ns."""

    compute_ns: int       # gateway, expert and LM head compute on the critical path
    propagation_ns: int   # light time of the critical path's messages
    transmission_ns: int  # serialisation of the critical path's messages (store and forward, every hop)

    @property
    def total_ns(self) -> int:
        return self.compute_ns + self.propagation_ns + self.transmission_ns


def prefill_path(counts: np.ndarray, prompt_tokens: int, compute, gateways: np.ndarray, experts: np.ndarray,
                 start_ns: int, paths, steps_ns: np.ndarray, links, hidden_bytes: int) -> PrefillPath:
    """The critical path of one request's prefill alone (no other traffic), layer by layer.

    ``counts`` is the request's ``[L, E]``; ``compute`` a :class:`~harness.simulate.packet.ComputeTimes`;
    ``paths.lookup(snapshots, src, dst)`` gives (delay_ns, hops) of the route in force; ``steps_ns``
    the snapshot start times. At each layer the gateway computes ``P x gateway_ns``, sends to each
    expert with tokens, the expert computes its tokens, and the last output to reach the next
    gateway ends the layer; the LM head closes the pass. Routes are those in force at each message's
    send time, as in the packet engine. What this leaves out, the packet engine's TTFT minus
    :attr:`PrefillPath.total_ns`, is queueing: messages that share a link wait for one another.
    """
    from harness.network.links import message_serialization_ns

    layers = counts.shape[0]
    now = int(start_ns)
    compute_ns = propagation = transmission = 0

    def snap(t):
        return np.searchsorted(steps_ns, np.asarray(t), side="right") - 1

    for l in range(layers):
        step = prompt_tokens * int(compute.gateway_ns[l])
        now += step
        compute_ns += step
        used = np.flatnonzero(counts[l])
        sats = experts[l, used]
        nxt = np.full(len(used), gateways[(l + 1) % layers])
        d1, h1 = paths.lookup(np.full(len(used), snap(now)), np.full(len(used), gateways[l]), sats)
        t1 = np.array([int(message_serialization_ns(links, int(c) * hidden_bytes, h))
                       for c, h in zip(counts[l, used], h1)], dtype=np.int64)
        work = counts[l, used].astype(np.int64) * compute.expert_ns[l, used]
        ready = now + d1 + t1 + work
        d2, h2 = paths.lookup(snap(ready), sats, nxt)
        t2 = np.array([int(message_serialization_ns(links, int(c) * hidden_bytes, h))
                       for c, h in zip(counts[l, used], h2)], dtype=np.int64)
        arrive = ready + d2 + t2
        last = int(np.argmax(arrive))
        compute_ns += int(work[last])
        propagation += int(d1[last] + d2[last])
        transmission += int(t1[last] + t2[last])
        now = int(arrive[last])
    compute_ns += int(compute.lm_head_ns)
    return PrefillPath(compute_ns, propagation, transmission)
