"""``sun-aware``: space-xnet with the Sun in its objective (issue 22).

A satellite in the Earth's shadow runs on its battery; near its reserve it throttles or refuses
work (the ``power`` section). This strategy keeps the work that every token needs off the satellites
the run will see in shadow, using the sunlit schedule ``PlacementInput.sunlit`` ``[S, N]``
(:func:`harness.constellation.sun.sunlit`):

- **Gateways** (attention, router, and the LM head on layer 0: the busiest satellites): space-xnet's
  ring subnets and centres (:func:`harness.placement.subnets.centres`), but chosen among each
  subnet's satellites with the least shadow over the run (shadow share <= the subnet's lowest +
  :data:`SHADOW_SLACK`); in a Walker delta every subnet wraps around the Earth, so it has lit
  members whatever the Sun does.
- **Experts**: space-xnet's objective plus a cost for compute planned in eclipse,

      c'[l, n] = c[l, n] + shadow[n] x mean_e expert_ns[l, e] x (1 / THROTTLE_FACTOR - 1),

  the expected path delay gateway_l -> n -> gateway_{l+1} (space-xnet's c) plus the time one expert
  job loses when its satellite throttles (the default ``power.throttle_factor``, 0.5: one job
  time), weighted by the share of the run satellite n spends in shadow. Sorting the experts by
  activation probability (descending) onto c' (ascending) minimises sum p x c' exactly, as in
  space-xnet (the rearrangement inequality): hot experts land on satellites that stay lit.

Without a sunlit schedule (``sunlit`` None: every satellite lit) it is space-xnet.
"""

from __future__ import annotations

import numpy as np

from harness.placement.subnets import _members, _subnets, centres, shared_expected_path_delays_ns
from harness.placement.types import Placement, PlacementInput

#: Gateway candidates: members whose shadow share is within this of their subnet's lowest.
SHADOW_SLACK = 0.02
#: The throttle factor the expert cost assumes (power.throttle_factor's default).
THROTTLE_FACTOR = 0.5


def shadow_share(inp: PlacementInput) -> np.ndarray:
    """[N] the share of the run's snapshots each satellite spends in shadow (0 without a schedule)."""
    if inp.sunlit is None:
        return np.zeros(inp.topology.num_nodes)
    share = 1.0 - np.asarray(inp.sunlit, dtype=np.float64).mean(axis=0)
    return np.pad(share, (0, inp.topology.num_nodes - len(share)))  # ground nodes (users): never hold work


def sun_aware(inp: PlacementInput, rng: np.random.Generator) -> Placement:
    subnets = _subnets(inp)
    shadow = shadow_share(inp)
    lowest = np.full(inp.layers, np.inf)
    member = subnets >= 0
    np.minimum.at(lowest, subnets[member], shadow[member])
    dark = member & (shadow > lowest[np.maximum(subnets, 0)] + SHADOW_SLACK)
    # space-xnet's centres, among each subnet's least-shadowed members (every subnet keeps at least one).
    gateways = centres(inp, np.where(dark, -1, subnets).astype(np.int32))
    cost = shared_expected_path_delays_ns(inp, gateways).astype(np.float64)
    if inp.expert_ns is not None:
        cost = cost + shadow[None, :] * np.asarray(inp.expert_ns, dtype=np.float64).mean(axis=1)[:, None] * (
            1.0 / THROTTLE_FACTOR - 1.0)
    experts = np.empty((inp.layers, inp.experts), dtype=np.int32)
    for layer in range(inp.layers):
        candidates = np.setdiff1d(_members(subnets, layer), gateways[layer])
        by_cost = candidates[np.lexsort((candidates, cost[layer, candidates]))]
        by_popularity = np.lexsort((np.arange(inp.experts), -inp.probabilities[layer]))
        experts[layer, by_popularity] = by_cost[: inp.experts]
    return Placement("sun-aware", gateways, experts, subnets)
