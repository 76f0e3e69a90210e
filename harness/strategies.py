"""The names of the placement strategies: the registry the schema checks ``strategies`` against.

This module holds names only, so that :mod:`harness.scenario` can validate a scenario without
importing the placement code (numpy routines, the routing engine). :data:`harness.placement.STRATEGIES`
maps each of these names to its implementation; a test checks that the two agree, so a new
strategy is added in both places.
"""

from __future__ import annotations

#: Every strategy a scenario's ``strategies`` list (and ``harness place --strategy``) may name, in
#: the order the reference lists them.
STRATEGY_NAMES: tuple[str, ...] = ("space-xnet", "rand-place", "rand-intra", "rand-intra-cg", "compact",
                                   "space-xnet-tp", "compact-tp", "space-xnet-packed-tp", "compact-packed-tp",
                                   "space-xnet-replicas")

#: The strategies that split a layer's attention over shards (placement.max_shards applies).
TENSOR_PARALLEL_STRATEGIES: tuple[str, ...] = ("space-xnet-tp", "compact-tp", "space-xnet-packed-tp",
                                               "compact-packed-tp")
#: The strategies that copy experts (placement.max_replicas applies).
REPLICA_STRATEGIES: tuple[str, ...] = ("space-xnet-replicas",)
