"""Every name the scenario schema accepts for a choice: placement strategies, Earth conventions,
ground-satellite link rules and board profiles (the registries the schema checks ``strategies``,
``ground.convention``, ``ground.gsl_rule``, ``compute.hardware`` and ``compute.precision`` against).

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
                                   "space-xnet-replicas", "mesh-tp", "sun-aware")

#: The strategies that split a layer's attention over shards (placement.max_shards applies).
TENSOR_PARALLEL_STRATEGIES: tuple[str, ...] = ("space-xnet-tp", "compact-tp", "space-xnet-packed-tp",
                                               "compact-packed-tp", "mesh-tp")
#: The strategies that copy experts (placement.max_replicas applies).
REPLICA_STRATEGIES: tuple[str, ...] = ("space-xnet-replicas",)
#: The strategies made for a formation mesh (constellation kind cluster), refused on any other kind.
CLUSTER_STRATEGIES: tuple[str, ...] = ("mesh-tp",)

#: Earth conventions (``ground.convention``); :data:`harness.network.ground.geometry.CONVENTIONS`
#: maps each to its implementation (it asserts that the two agree).
GROUND_CONVENTIONS = ("wgs84-ut1", "wgs72-utc", "pyephem")
#: GSL rules (``ground.gsl_rule``); :data:`harness.network.ground.gsl.GSL_RULES` maps each to its
#: implementation (it asserts that the two agree).
GSL_RULE_NAMES = ("min_elevation", "max_length")

#: Board profiles (``compute.hardware``); :data:`harness.scenario.hardware.BOARDS` holds each one's
#: figures and sources (it asserts that the two agree). ``paper`` is the default.
BOARD_NAMES = ("paper", "jetson-orin-nano", "jetson-orin-nano-super", "jetson-agx-orin", "h100-sxm", "tpu-v5e",
               "tpu-v6e", "versal-ai-core-xqr")
#: Number formats a board computes in (``compute.precision``): dense matrix throughput differs by format.
PRECISIONS = ("bf16", "fp16", "fp8", "int8")
