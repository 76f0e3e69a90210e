"""The placement's types: what a strategy sees (:class:`PlacementInput`), what it returns
(:class:`Placement`), and the plan file that stores a placement (:func:`save_plan`, :func:`load_plan`;
the format itself is harness/formats/plan.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from harness.errors import PlacementError
from harness.formats.plan import parse_plan, plan_json
from harness.network.topology import Topology


@dataclass(frozen=True)
class PlacementInput:
    """What a strategy may look at."""

    topology: Topology
    arg_latitude_rad: np.ndarray  # [N] argument of latitude of each satellite at the epoch
    probabilities: np.ndarray     # [L, E] activation probability of each expert
    layers: int
    experts: int
    #: How the ring subnets are cut (placement.subnets): "arcs" of argument of latitude, or whole
    #: orbital "planes" in ring order (needs plane_of).
    subnets: str = "arcs"
    plane_of: np.ndarray | None = None  # [N] orbital plane of each satellite
    #: [N] bool, True for a satellite this placement may not use (e.g. it already holds a component
    #: of another model replica), or None: every satellite is free. Every strategy respects it.
    unavailable: np.ndarray | None = None
    #: [L] int64 compute of each layer's gateway (attention + router), ns: what tensor-parallel
    #: strategies weigh against the round trip to a shard. None: those strategies refuse.
    gateway_ns: np.ndarray | None = None
    #: [L, E] int64 compute of each expert, ns (what packed placements weigh against the detours).
    expert_ns: np.ndarray | None = None
    #: placement.max_shards: the most satellites one layer's attention is split over.
    max_shards: int = 8
    #: model.heads: a layer's attention heads; a layer is split over at most that many satellites,
    #: each shard computing ceil(heads / m) / heads of the gateway's work (packet_sim.shard_compute_ns).
    heads: int = 32
    #: placement.max_replicas: the most copies of one expert (replica strategies).
    max_replicas: int = 2
    #: How many experts one board's memory holds beside an attention shard (mesh-tp), or None: no limit.
    expert_capacity: int | None = None
    #: [S, N] bool: satellite n in sunlight at snapshot s (harness/constellation/sun.py), or None
    #: (not computed: every satellite counts as lit). The sun-aware strategy reads it.
    sunlit: np.ndarray | None = None
    #: Results that several strategies share (the subnet centres), computed once per run.
    shared: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Placement:
    """Where every model component lives."""

    strategy: str
    gateways: np.ndarray  # [L] int32 satellite of each layer's gateway
    experts: np.ndarray   # [L, E] int32 satellite of each expert
    subnets: np.ndarray   # [N] int32 layer whose subnet the satellite belongs to; -1 outside any ring subnet
    #: [L, H] int32 helper satellites of each layer's tensor-parallel attention (-1 padded), or None:
    #: every gateway computes its attention alone. A helper may share its satellite with another
    #: component (the resource model counts both).
    shards: np.ndarray | None = None
    #: [L, E, R] int32 copies of each expert on other satellites (-1 padded), or None; a token goes
    #: to the copy of least delay in the snapshot in force (harness/placement/replicas.py).
    replicas: np.ndarray | None = None

    @property
    def components(self) -> np.ndarray:
        """Every satellite that hosts a component: gateways first, then experts layer by layer."""
        return np.concatenate([self.gateways, self.experts.ravel()]).astype(np.int32)

    @property
    def occupied(self) -> np.ndarray:
        """Every satellite this placement uses, sorted and distinct: gateways, experts, helper shards
        and expert copies (what another model replica must leave alone: its ``unavailable`` mask)."""
        used = [self.components]
        for extra in (self.shards, self.replicas):
            if extra is not None:
                extra = np.asarray(extra).ravel()
                used.append(extra[extra >= 0])
        return np.unique(np.concatenate(used)).astype(np.int32)

    def message_pairs(self, *, direct_shard_input: bool = True) -> np.ndarray:
        """[P, 2] every (source, destination) satellite pair that can exchange a message:
        gateway_l -> expert (l, e) and expert (l, e) -> gateway_{l+1 mod L}, the same for each expert
        copy, and for a tensor-parallel layer l its gather helper -> gateway_l and its shard input:
        the scatter gateway_l -> helper for layer 0 (and for every layer when not
        ``direct_shard_input``), else every expert (and copy) of layer l-1 -> helper of layer l, as
        the packet engine sends them with parallel dispatch and the combine at the next gateway."""
        layers, experts = self.experts.shape
        gateway = np.repeat(self.gateways, experts)
        next_gateway = np.repeat(np.roll(self.gateways, -1), experts)
        expert = self.experts.ravel()
        pairs = [np.column_stack([gateway, expert]), np.column_stack([expert, next_gateway])]
        # every satellite that holds expert (l, e): the expert itself, then its copies
        holders = [(np.repeat(np.arange(layers), experts), expert)]
        if self.replicas is not None:  # gateway_l -> copy and copy -> gateway_{l+1}
            layer, e, r = np.nonzero(np.asarray(self.replicas) >= 0)
            copy = np.asarray(self.replicas)[layer, e, r]
            nxt = np.roll(self.gateways, -1)
            pairs += [np.column_stack([self.gateways[layer], copy]), np.column_stack([copy, nxt[layer]])]
            holders.append((layer, copy))
        if self.shards is not None:
            layer, index = np.nonzero(np.asarray(self.shards) >= 0)
            helper = np.asarray(self.shards)[layer, index]
            pairs.append(np.column_stack([helper, self.gateways[layer]]))  # gather
            scatter = (layer == 0) | (not direct_shard_input)
            pairs.append(np.column_stack([self.gateways[layer[scatter]], helper[scatter]]))
            if direct_shard_input:  # expert (and copy) of layer l-1 -> helper of layer l >= 1
                held_layer = np.concatenate([h[0] for h in holders])
                held_sat = np.concatenate([h[1] for h in holders])
                i, j = np.nonzero(held_layer[None, :] == layer[~scatter, None] - 1)
                pairs.append(np.column_stack([held_sat[j], helper[~scatter][i]]))
        return np.concatenate(pairs)

    def validate(self, num_satellites: int) -> None:
        """Raise PlacementError unless every component sits on its own existing satellite."""
        used = self.components
        if used.min() < 0 or used.max() >= num_satellites:
            raise PlacementError(f"placement '{self.strategy}' names a satellite outside 0..{num_satellites - 1}")
        if len(np.unique(self.gateways)) != len(self.gateways) or np.isin(self.gateways, self.experts).any():
            raise PlacementError(f"placement '{self.strategy}' puts a gateway and another component on one "
                                 f"satellite; a gateway needs a satellite of its own")
        self._validate_shards(num_satellites, f"placement '{self.strategy}'")
        self._validate_replicas(num_satellites, f"placement '{self.strategy}'")

    def _validate_replicas(self, num_satellites: int, who: str) -> None:
        """Replicas: [L, E, R], satellite ids or -1, in range, never on a gateway or its own expert."""
        if self.replicas is None:
            return
        copies = np.asarray(self.replicas)
        if copies.ndim != 3 or copies.shape[:2] != np.asarray(self.experts).shape:
            raise PlacementError(f"{who}: replicas must be one list of copies per expert of every layer")
        used = copies >= 0
        if (copies < -1).any() or (copies >= num_satellites).any():
            raise PlacementError(f"{who} puts an expert copy outside 0..{num_satellites - 1}; use a plan made for "
                                 f"this constellation")
        if np.isin(copies[used], self.gateways).any() or (copies == np.asarray(self.experts)[:, :, None]).any():
            raise PlacementError(f"{who} puts an expert copy on a gateway or on its own expert's satellite; "
                                 f"move it")

    def _validate_shards(self, num_satellites: int, who: str) -> None:
        """Helper shards: [L, H], each layer's first then -1, in range, distinct, not the own gateway."""
        if self.shards is None:
            return
        shards = np.asarray(self.shards)
        if shards.ndim != 2 or shards.shape[0] != len(self.gateways):
            raise PlacementError(f"{who}: shards must be one list of helper satellites per layer")
        used = shards >= 0
        if (np.diff(used.astype(np.int8), axis=1) > 0).any() or (shards < -1).any():
            raise PlacementError(f"{who}: a layer's shards must be satellite ids, -1 only after them")
        if (shards >= num_satellites).any():
            raise PlacementError(f"{who} puts a shard on satellite {int(shards.max())}, outside "
                                 f"0..{num_satellites - 1}; use a plan made for this constellation")
        for layer, row in enumerate(shards):
            row = row[row >= 0]
            if len(np.unique(row)) != len(row) or (row == self.gateways[layer]).any():
                raise PlacementError(f"{who}: layer {layer}'s shards repeat a satellite or include its own gateway; "
                                     f"each shard needs a satellite of its own")

    def validate_for(self, num_satellites: int, layers: int, experts: int, *, source: str | None = None) -> None:
        """Raise PlacementError (one line: the problem and the fix) unless this placement fits a model
        of ``layers`` x ``experts`` on a constellation of ``num_satellites``: the right shapes, every
        satellite in range, one component per satellite, subnets [N] (or empty) in -1..L-1."""
        who = source or f"placement '{self.strategy}'"
        gateways, placed = np.asarray(self.gateways), np.asarray(self.experts)
        if gateways.ndim != 1 or placed.ndim != 2 or placed.shape[0] != gateways.shape[0]:
            raise PlacementError(f"{who}: gateways must be a list of L satellites and experts a list of L lists "
                                 f"of E satellites (got shapes {list(gateways.shape)} and {list(placed.shape)}); "
                                 f"fix the plan")
        if placed.shape != (layers, experts):
            raise PlacementError(f"{who} is for a model of {placed.shape[0]} layers x {placed.shape[1]} experts "
                                 f"but this model has {layers} x {experts}; use a plan made for this model or "
                                 f"set model.layers / model.experts to match")
        names = [f"the gateway of layer {layer}" for layer in range(layers)] + [
            f"expert {e} of layer {layer}" for layer in range(layers) for e in range(experts)]
        used = self.components
        outside = np.flatnonzero((used < 0) | (used >= num_satellites))
        if outside.size:
            i = int(outside[0])
            raise PlacementError(f"{who} puts {names[i]} on satellite {int(used[i])}, outside 0..{num_satellites - 1} "
                                 f"of this constellation; use a plan made for this constellation")
        order = np.argsort(used, kind="stable")
        same = np.flatnonzero(used[order][1:] == used[order][:-1])
        same = same[order[same] < layers]  # experts may share a satellite; a gateway may not
        if same.size:
            first, second = int(order[same[0]]), int(order[same[0] + 1])
            raise PlacementError(f"{who} puts {names[first]} and {names[second]} both on satellite "
                                 f"{int(used[first])}; a gateway needs a satellite of its own: move one")
        self._validate_shards(num_satellites, who)
        self._validate_replicas(num_satellites, who)
        subnets = np.asarray(self.subnets)
        if subnets.ndim != 1 or subnets.size not in (0, num_satellites):
            raise PlacementError(f"{who} has {subnets.size} subnet entries but the constellation has "
                                 f"{num_satellites} satellites; give one layer index (or -1) per satellite, or null")
        if subnets.size and (subnets.min() < -1 or subnets.max() >= layers):
            raise PlacementError(f"{who} has a subnet index outside -1..{layers - 1}; a satellite's subnet is the "
                                 f"layer whose ring subnet holds it, or -1")

    def to_json(self) -> str:
        """The plan file's text (format: harness/formats/plan.py); :meth:`from_json` reads it back."""
        return plan_json(self.strategy, self.gateways, self.experts, self.subnets, self.shards, self.replicas)

    @classmethod
    def from_json(cls, text: str, source: str = "plan", num_satellites: int | None = None) -> "Placement":
        """Parse a plan file's text; PlacementError (naming ``source``) if it is malformed.

        A null ``subnets`` becomes -1 for each of ``num_satellites`` satellites when that is given,
        else an empty array. Shapes and ranges are checked by :meth:`validate_for`.
        """
        return cls(**parse_plan(text, source, num_satellites))


def save_plan(placement: Placement, path: str | Path) -> None:
    """Write ``placement`` as a plan file (atomically: a reader never sees half a file)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(placement.to_json())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise PlacementError(f"cannot write plan '{path}': {exc.strerror or exc}; check the folder exists and is "
                             f"writable") from None


def load_plan(path: str | Path, *, num_satellites: int, layers: int, experts: int) -> Placement:
    """Read and check a plan file for a model of ``layers`` x ``experts`` on ``num_satellites``."""
    from harness.formats.files import read_text_file

    path = Path(path)
    if not path.is_file():
        raise PlacementError(f"plan file '{path}' not found; check the path (make one with: python -m harness place SCENARIO --strategy NAME --out PLAN.json)")
    text = read_text_file(path, "plan file", PlacementError)
    placement = Placement.from_json(text, source=f"plan file '{path}'", num_satellites=num_satellites)
    placement.validate_for(num_satellites, layers, experts, source=f"plan file '{path}'")
    return placement


def check_plan_for_scenario(placement: Placement, source: str, *, heads: int) -> None:
    """PlacementError (one line) if ``placement`` (read from ``source``) splits a layer over more
    satellites than the model has attention ``heads``. (Shards, copies and shared satellites run
    under a 'faults' section like the paper's placements: docs/faults.md.)"""
    if placement.shards is not None:
        split = 1 + (np.asarray(placement.shards) >= 0).sum(axis=1)
        if split.size and split.max() > heads:
            layer = int(np.argmax(split))
            raise PlacementError(f"{source} splits layer {layer}'s attention over {int(split[layer])} satellites but "
                                 f"the model has {heads} heads (model.heads); use a plan made for this model")


Strategy = Callable[[PlacementInput, np.random.Generator], Placement]
