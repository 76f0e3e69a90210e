"""Replica policies: which model replica serves each request, a registry.

Each policy is ``(arrival_ns [R], work_ns [R], replicas) -> int32[R]``, requests in arrival order.
``work_ns`` is a request's compute on its replica's busiest satellite (the bottleneck), so a
replica's outstanding work drains at one ns per ns. ``serving.replica_policy`` picks one.

The decision is made once, before the simulation, from this work model (a dispatcher that knows
each request's lengths, not the replicas' live queues): deterministic and the same for every
strategy of a run.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

Policy = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


def round_robin(arrival_ns: np.ndarray, work_ns: np.ndarray, replicas: int) -> np.ndarray:
    """Request i (in arrival order) to replica i mod R."""
    return (np.arange(len(arrival_ns)) % replicas).astype(np.int32)


def least_outstanding_work(arrival_ns: np.ndarray, work_ns: np.ndarray, replicas: int) -> np.ndarray:
    """Each request to the replica with the least work still queued at its arrival; ties (e.g. every
    replica idle) to the one given the least work so far, then the lowest index."""
    free_at = np.zeros(replicas, dtype=np.int64)  # when each replica's bottleneck runs out of work
    given = np.zeros(replicas, dtype=np.int64)    # work assigned so far
    out = np.empty(len(arrival_ns), dtype=np.int32)
    for i, (arrive, work) in enumerate(zip(arrival_ns.tolist(), work_ns.tolist())):
        queued = np.maximum(free_at - arrive, 0)
        chosen = int(np.lexsort((np.arange(replicas), given, queued))[0])
        free_at[chosen] = max(int(free_at[chosen]), arrive) + work
        given[chosen] += work
        out[i] = chosen
    return out


def nearest_to_user(delay_ns: np.ndarray) -> np.ndarray:
    """Each request to the replica whose layer-0 gateway its user reaches soonest: ``delay_ns``
    ``[R, P]`` is the route's delay from the user's ground node to each replica's gateway at the
    request's arrival (-1: unreachable, a coverage gap); ties and unreachable rows to the lowest
    index."""
    d = np.where(np.asarray(delay_ns) < 0, np.iinfo(np.int64).max, delay_ns)
    return np.argmin(d, axis=1).astype(np.int32)


#: Policies decided after placement, from where the users are (a ``users`` section): name -> policy
#: over ``[R, P]`` delays from each request's user to each replica's layer-0 gateway.
USER_POLICIES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "nearest-to-user": nearest_to_user,
}


POLICIES: dict[str, Policy] = {
    "round-robin": round_robin,
    "least-outstanding-work": least_outstanding_work,
}
