"""Placement strategies: which satellite hosts each layer's gateway and each expert.

A strategy is a function ``(PlacementInput, numpy Generator) -> Placement`` registered by name in
:data:`STRATEGIES`; the scenario's ``strategies`` list picks from these names, and a new strategy
joins by adding one entry (and its name in harness/names.py). The paper's four strategies keep
one model component per satellite.

The package: :mod:`.types` (PlacementInput, Placement, plan files), :mod:`.subnets` (the ring cut,
the subnet centres and the expected path delays the ring strategies share), :mod:`.paper` (the
paper's four strategies), :mod:`.compact_subnets` (``compact``: layers on compact clusters chained
into a short loop), :mod:`.tensor_parallel` (``space-xnet-tp``, ``compact-tp`` and the packed
``space-xnet-packed-tp``, ``compact-packed-tp``: attention split over shards, experts packed on a
few satellites), :mod:`.replicas` (``space-xnet-replicas``: copies of experts, the nearest
chosen per token), :mod:`.sun_aware` (``sun-aware``: gateways and hot experts kept on
satellites that stay lit), :mod:`.resources` (the memory each satellite must hold, checked against
``compute.memory_gb``), and this registry. Each module's docstring gives the physics.

Model replicas: ``PlacementInput.unavailable`` ([N] bool) marks satellites another replica already
uses; every strategy leaves them out (the ring cut stays the same, the marked satellites just
belong to no subnet), and a subnet left with too few free satellites is one PlacementError.

The paper's strategies (arXiv 2605.00515):

- ``space-xnet``: ring layer placement (the constellation is cut along the orbiting direction into
  L arcs of the argument of latitude, subnet l hosting layer l, so consecutive layers are
  neighbours and the ring closes), the gateway at the subnet centre, and experts sorted by
  activation probability (descending) onto the subnet's satellites sorted by expected path latency
  gateway_l -> satellite -> gateway_{l+1} (ascending);
- ``rand-place``: gateways and experts on distinct random satellites anywhere;
- ``rand-intra``: ring layer placement, gateway and experts at random inside their subnet;
- ``rand-intra-cg``: as rand-intra, but the gateway at the subnet centre.

The gateways "at the subnet centre" (space-xnet and rand-intra-cg) minimise, together, each one's
mean shortest-path delay to its subnet's members plus the delay of the ring of gateways, averaged
over :data:`CENTRE_SNAPSHOTS` evenly spaced snapshots (:func:`subnet_centres`). In the paper's
polar Walker star a subnet is an arc across the planes and this is the arc's middle; in a Walker
delta a subnet wraps around the Earth, every member is about as central as any other, and picking
each subnet's most central member alone would put consecutive gateways on opposite sides of the
planet.

space-xnet's expert placement minimises, with the gateways fixed, the objective

    J = sum_l sum_e p[l, e] * c[l, x[l, e]],
    c[l, n] = mean over snapshots s of ( d_s(gateway_l, n) + d_s(n, gateway_{(l+1) mod L}) )

where p[l, e] is expert e's activation probability, x[l, e] its satellite (one of subnet l's
members other than its gateway, one expert per satellite) and d_s the shortest propagation delay
at snapshot s (:func:`expected_path_delays_ns` gives c, :func:`expected_latency_objective` J). The
layers are independent, and inside a layer sorting p descending against c ascending is optimal
(the rearrangement inequality), so the sort is the exact minimum over all assignments.

A placement can be written to and read from a plan file (:meth:`Placement.to_json`,
:func:`save_plan`, :func:`load_plan`; the format and its strict reader are in
harness/formats/plan.py): a JSON object

    {"format": "space-xnet-placement", "format_version": 1, "strategy": "...",
     "gateways": [L satellite ids], "experts": [[E satellite ids] x L], "subnets": [N] or null}

Speed: the shortest paths are the whole cost (one Dijkstra tree per source and snapshot). The
centres take one call per sampled snapshot and layer with the layer's ring members as sources, each
tree grown only until the members of its own and the next subnet are settled, and only those
delays kept ([m, m] per layer: at 16,000 satellites the full [N, N] tables were 2 GB and the trees
2.7x the work); the expected delays one call per snapshot with the L gateways as sources (one tile of 32 trees, so one native
thread per call) spread over one worker thread per core: the native call is marked to release the
GIL (``__release_gil__`` on its cppyy proxy, process-wide; it touches no Python object). 1584
satellites, 32 layers and 200 snapshots place in about 1.5 s on two cores, against 2.3 s for one
call per layer and snapshot (bench/placement_bench.py); what is left is ~12,700 Dijkstra trees at
~0.24 ms each per core. The results are those of the straightforward per-layer loop, bit for bit.
"""

from __future__ import annotations

import numpy as np

from harness.errors import PlacementError
from harness.formats.plan import PLAN_FORMAT, PLAN_FORMAT_VERSION, parse_plan, plan_json  # noqa: F401 (re-exported)
from harness.placement.compact_subnets import compact
from harness.placement.paper import rand_intra, rand_intra_cg, rand_place, space_xnet
from harness.placement.mesh import mesh_tp
from harness.placement.replicas import space_xnet_replicas
from harness.placement.sun_aware import sun_aware
from harness.placement.tensor_parallel import compact_packed_tp, compact_tp, space_xnet_packed_tp, space_xnet_tp
from harness.placement.subnets import (CENTRE_SNAPSHOTS, ENGINE, expected_latency_objective,  # noqa: F401 (re-exported)
                                       expected_path_delays_ns, plane_subnets, ring_subnets, subnet_centres)
from harness.placement.types import (Placement, PlacementInput, Strategy, load_plan,  # noqa: F401 (re-exported)
                                     check_plan_for_scenario, save_plan)


#: The implementation of every strategy name of the registry (harness/names.py, which the schema
#: checks names against without importing this module); tests/test_placement.py checks they agree.
STRATEGIES: dict[str, Strategy] = {
    "space-xnet": space_xnet,
    "rand-place": rand_place,
    "rand-intra": rand_intra,
    "rand-intra-cg": rand_intra_cg,
    "compact": compact,
    "space-xnet-tp": space_xnet_tp,
    "compact-tp": compact_tp,
    "space-xnet-packed-tp": space_xnet_packed_tp,
    "compact-packed-tp": compact_packed_tp,
    "space-xnet-replicas": space_xnet_replicas,
    "mesh-tp": mesh_tp,
    "sun-aware": sun_aware,
}


def place(name: str, inp: PlacementInput, rng: np.random.Generator) -> Placement:
    """Run strategy ``name`` and check the result."""
    try:
        strategy = STRATEGIES[name]
    except KeyError:
        raise PlacementError(f"unknown strategy '{name}'; choose from: {', '.join(STRATEGIES)}") from None
    n = inp.topology.num_nodes
    if inp.unavailable is not None:
        mask = np.asarray(inp.unavailable)
        if mask.dtype != bool or mask.shape != (n,):
            raise PlacementError(f"the unavailable-satellite mask must be [N] bool with N = {n} (one flag per "
                                 f"satellite), got {mask.dtype} {list(mask.shape)}")
    placement = strategy(inp, rng)
    placement.validate(n)
    if inp.unavailable is not None:
        taken = placement.occupied[inp.unavailable[placement.occupied]]
        if taken.size:
            raise PlacementError(f"strategy '{name}' put a component, shard or copy on unavailable satellite "
                                 f"{int(taken[0])}")
    return placement
