"""Re-placement of lost components (``faults.recovery: replace``, issue 24): which spare satellite
takes a lost component, and which holder sends it the weights.

The rule is space-xnet's own (and space-xnet-replicas' rule for an expert's copies): a component
sits where the path delay of the messages through it is least. When the satellite of a component
of model replica p fails at snapshot s, the detection snapshot s' (the failure plus
``faults.detection_delay_s``) is the one the choice is made in:

- an expert (l, e) of replica p moves to the free satellite n of least
  d_s'(gateway_l, n) + d_s'(n, gateway_{l+1}) (its layer's gateway in, the next layer's gateway
  out; replica p's gateways);
- a gateway of layer l moves to the free satellite n of least
  d_s'(gateway_{l-1}, n) + d_s'(n, gateway_{l+1}) (its neighbours on the ring of layers);

where d_s' is the shortest propagation delay over the ISLs in snapshot s' and a satellite is free
when no replica holds a component on it, no earlier re-placement took it, and it never fails
during the run. Ties: the lower satellite id. The weights come from the holder nearest the spare
(least d_s'(holder, spare)): the same component of another replica whose satellite has not failed
by then. A lost component with no free satellite or no holder is not re-placed (the returned
``missing`` lists it; its replica's requests then stall and end ``unfinished``).
"""

from __future__ import annotations

import numpy as np

from harness.network.routes import path_delays_ns
from harness.network.topology import Topology

#: Columns of a re-placement row (harness.simulate.inputs.RecoveryInput.replacements).
REPLACEMENT_COLUMNS = ("replica", "role", "layer", "index", "fail_ns", "source_sat", "spare_sat", "bytes")


def replacements(topology: Topology, fail_ns: np.ndarray, replica_gateways: np.ndarray,
                 replica_experts: np.ndarray, detection_ns: int, gateway_bytes: np.ndarray,
                 expert_bytes: float) -> tuple[np.ndarray, list]:
    """``([J, 8] int64 rows of REPLACEMENT_COLUMNS, missing)`` for every component lost in the run,
    in order of failure time (then replica, gateways before experts, layer, index).

    ``fail_ns`` ``[N]`` when each satellite fails (-1 never); ``replica_gateways`` ``[P, L]``,
    ``replica_experts`` ``[P, L, E]``; ``gateway_bytes`` ``[L]`` and ``expert_bytes`` the weights of
    a gateway and of one expert; ``missing`` lists ``(replica, role, layer, index)`` left unplaced."""
    fail_ns = np.asarray(fail_ns, dtype=np.int64)
    replicas, layers = replica_gateways.shape
    lost = []
    for p in range(replicas):
        for layer in range(layers):
            if fail_ns[replica_gateways[p, layer]] >= 0:
                lost.append((int(fail_ns[replica_gateways[p, layer]]), p, 0, layer, 0))
            for e in np.flatnonzero(fail_ns[replica_experts[p, layer]] >= 0):
                lost.append((int(fail_ns[replica_experts[p, layer, e]]), p, 1, layer, int(e)))
    lost.sort()
    taken = np.zeros(topology.num_nodes, dtype=bool)
    taken[np.ravel(replica_gateways)] = taken[np.ravel(replica_experts)] = True
    taken |= fail_ns >= 0
    step_ns = np.round(topology.times_s * 1e9).astype(np.int64)
    rows, missing = [], []
    for at_ns, p, role, layer, index in lost:
        snapshot = max(0, int(np.searchsorted(step_ns, at_ns + detection_ns, side="right")) - 1)
        before = replica_gateways[p, (layer - 1) % layers] if role == 0 else replica_gateways[p, layer]
        after = replica_gateways[p, (layer + 1) % layers]
        d = path_delays_ns(topology, np.array([before, after]), snapshot=snapshot)
        cost = np.where(taken, np.inf, d[0] + d[1])
        holders = [int(replica_gateways[q, layer] if role == 0 else replica_experts[q, layer, index])
                   for q in range(replicas) if q != p]
        holders = [h for h in holders if not 0 <= fail_ns[h] <= at_ns + detection_ns]
        if not np.isfinite(cost).any() or not holders:
            missing.append((p, role, layer, index))
            continue
        spare = int(np.argmin(cost))
        taken[spare] = True
        to_spare = path_delays_ns(topology, np.array(holders), snapshot=snapshot)[:, spare]
        source = holders[int(np.argmin(to_spare))]
        size = int(round(gateway_bytes[layer] if role == 0 else expert_bytes))
        rows.append((p, role, layer, index, at_ns, source, spare, size))
    return np.array(rows, dtype=np.int64).reshape(-1, len(REPLACEMENT_COLUMNS)), missing
