"""The top-level :class:`Scenario` and the loading of a scenario file or dict into it."""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import ScenarioError
from harness.formats.files import YamlLoader, read_yaml_file
from harness.scenario.schema import _show
from harness.scenario.constellation import ConstellationSpec
from harness.scenario.model import ACTIVATION_PRESETS, MODEL_PRESETS
from harness.scenario.faults import SatelliteFailureList, _satellite_failures
from harness.scenario.ground import SiteList, _sites, UserLocationList, _user_locations
from harness.scenario.hardware import resolve_compute, resolve_power
from harness.scenario.rules import _check_consistency
from harness.scenario.spec import Scenario


# ---------------------------------------------------------------------------------------------
# Loading


#: The strict YAML loader (harness/formats/ owns every on-disk format); kept under this name for callers.
_YamlLoader = YamlLoader


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file."""
    path = Path(path)
    raw = read_yaml_file(path, "scenario file", ScenarioError)
    if raw is None:
        raise ScenarioError(f"{path}: the file is empty; a scenario needs at least 'name'")
    return scenario_from_dict(raw, base_dir=path.parent, source=str(path))


def scenario_from_dict(raw: Any, *, base_dir: str | Path = ".", source: str = "scenario") -> Scenario:
    """Validate a plain dict (as YAML gives it) into a :class:`Scenario`."""
    raw = _apply_model_preset(raw, source)
    scenario = _build(Scenario, raw, source, "")
    scenario = dataclasses.replace(scenario, base_dir=str(base_dir))
    shape = {"tle": _resolve_tle, "cluster": _resolve_cluster}.get(scenario.constellation.kind, _resolve_shape)
    scenario = dataclasses.replace(scenario, constellation=shape(scenario, raw, source))
    given = raw.get("compute") or {}
    scenario = dataclasses.replace(scenario, compute=resolve_compute(scenario.compute, set(given), source))
    given_power = raw.get("power") or {}
    scenario = dataclasses.replace(scenario, power=resolve_power(scenario.power, scenario.compute.hardware,
                                                                 set(given_power)))
    _check_consistency(scenario, source)
    return scenario


def _build(cls: type, raw: Any, source: str, prefix: str) -> Any:
    where = prefix.rstrip(".") or "the top level"
    if not isinstance(raw, dict):
        raise ScenarioError(f"{source}: {where} must be a mapping of keys to values, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    unknown = sorted((k for k in raw if k not in fields), key=str)
    if unknown:
        raise ScenarioError(f"{source}: unknown key {_show(prefix + str(unknown[0]))}; allowed keys in {where}: "
                            f"{', '.join(fields)}")
    values = {}
    for name, f in fields.items():
        key = prefix + name
        if name not in raw:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ScenarioError(f"{source}: missing required key '{key}': add it ({f.metadata['help']})")
            continue
        values[name] = _convert(hints[name], raw[name], f, source, key)
    return cls(**values)


def _convert(hint: Any, value: Any, f: dataclasses.Field, source: str, key: str) -> Any:
    optional = typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in typing.get_args(hint)
    if optional:
        if value is None:
            return None
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, source, key + ".")

    def bad(expected: str) -> ScenarioError:
        return ScenarioError(f"{source}: '{key}' must be {expected}, got {_show(value)}")

    if hint is bool:
        if not isinstance(value, bool):
            raise bad("true or false")
    elif hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("a whole number")
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a finite number")
        try:
            value = float(value)
        except OverflowError:  # an integer beyond a float's range
            raise bad("a finite number") from None
        if not math.isfinite(value):
            raise bad("a finite number")
    elif hint is str:
        if not isinstance(value, str):
            raise bad("a string")
    elif hint is SatelliteFailureList:
        problem = _satellite_failures(value, key)
        if problem:
            raise ScenarioError(f"{source}: '{key}' {problem}")
        value = SatelliteFailureList((int(v["satellite"]), float(v["time_s"])) for v in value)
    elif hint is UserLocationList:
        problem = _user_locations(value)
        if problem:
            raise ScenarioError(f"{source}: '{key}' {problem}")
        from harness.sites import UserSite

        value = UserLocationList(UserSite(v["name"], float(v["lat_deg"]), float(v["lon_deg"]), float(v["weight"]),
                                          v.get("region", "custom")) for v in value)
    elif hint is SiteList:
        problem = _sites(value)
        if problem:
            raise ScenarioError(f"{source}: '{key}' {problem}")
        from harness.sites import Site

        value = SiteList(Site(v["name"], float(v["lat_deg"]), float(v["lon_deg"]), float(v.get("alt_m", 0.0)))
                         for v in value)
    elif hint is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise bad("a non-empty list of names")
        value = tuple(value)
    choices = f.metadata.get("choices") or ()
    if choices and value not in choices:
        raise ScenarioError(f"{source}: '{key}' is {_show(value)}; choose one of: {', '.join(map(str, choices))}")
    check = f.metadata.get("check")
    if check is not None:
        problem = check(value)
        if problem:
            unit = f" {f.metadata['unit']}" if f.metadata.get("unit") else ""
            raise ScenarioError(f"{source}: '{key}' is {_show(value)}{unit}; it {problem}")
    return value


def _apply_model_preset(raw: Any, source: str) -> Any:
    """Fill a model preset's keys under the ones the user gave, and a frontier preset's expert
    popularity (``activations.skew``, ``activations.stickiness``: ACTIVATION_PRESETS) under the
    scenario's ``activations`` keys when its trace is synthetic."""
    if not isinstance(raw, dict) or not isinstance(raw.get("model"), dict) or raw["model"].get("preset") is None:
        return raw
    name = raw["model"]["preset"]
    if not isinstance(name, str) or name not in MODEL_PRESETS:
        raise ScenarioError(f"{source}: 'model.preset' is {_show(name)}; choose one of: {', '.join(MODEL_PRESETS)}")
    raw = {**raw, "model": {**MODEL_PRESETS[name], **raw["model"]}}
    popularity = ACTIVATION_PRESETS.get(name)
    given = raw.get("activations")
    if popularity and (given is None or (isinstance(given, dict) and given.get("kind", "synthetic") == "synthetic")):
        # The preset's expert popularity under the keys the scenario gave (docs/frontier-models.md).
        raw = {**raw, "activations": {**popularity, **(given or {})}}
    return raw


def _resolve_tle(sc: Scenario, raw: dict, source: str) -> ConstellationSpec:
    """Read and check the TLE file (and sidecar files) now, and fill the shape keys from it."""
    c = sc.constellation
    if not c.tle_file:
        raise ScenarioError(f"{source}: 'constellation.kind' is 'tle' but 'constellation.tle_file' is not set; "
                            f"name the TLE file")
    for key in ("planes", "sats_per_plane", "satellites", "phasing", "altitude_km", "inclination_deg", "orbit",
                "ltan_h", "raan_spread_deg"):
        if key in raw.get("constellation", {}):
            raise ScenarioError(f"{source}: 'constellation.{key}' does not apply to kind 'tle' (the TLE file gives "
                                f"the orbits); remove it")
    from harness.constellation.tle import check_propagation, load_tle_grid, tle_edges

    explicit = "epoch_utc" in raw.get("constellation", {})
    records, grid, _, epoch = load_tle_grid(sc, c.epoch if explicit else None)
    check_propagation(records, epoch, sc.snapshots.count, sc.snapshots.interval_s, str(sc.resolve(c.tle_file)))
    edges = tle_edges(sc, grid, len(records))  # an isl_file is read (strictly) now, not mid-run
    degree = np.bincount(np.asarray(edges).ravel(), minlength=len(records))
    if len(records) > 1 and (degree == 0).any():  # the packet engine gives each satellite its address on an ISL
        lonely = int(np.argmin(degree))
        where, fix = (("the isl_file", "add a link for it") if c.isl_file
                      else ("the +Grid of the inferred planes", "give an isl_file or a slots_file"))
        raise ScenarioError(f"{source}: satellite {lonely} of the TLE file ({records[lonely].name or 'unnamed'}, "
                            f"line {records[lonely].line_number}) has no ISL in {where}; every satellite needs "
                            f"one: {fix}, or remove it from the TLE file")
    return dataclasses.replace(c, planes=grid.planes, sats_per_plane=int(grid.sizes.max()), satellites=len(records),
                               epoch_utc=c.epoch_utc if explicit else epoch.isoformat().replace("+00:00", "Z"))


#: The constellation keys that only kind cluster reads.
CLUSTER_KEYS = ("clusters", "sats_per_cluster", "formation", "lattice", "spacing_m", "cluster_radius_m",
                "min_separation_m", "cluster_separation_km", "match_j2_drift")
#: The links keys that only kind cluster reads.
CLUSTER_LINK_KEYS = ("max_length_km", "terminals", "long_range_links", "long_range_max_km")


def _resolve_cluster(sc: Scenario, raw: dict, source: str) -> ConstellationSpec:
    """A cluster's shape: planes = clusters, sats_per_plane = sats_per_cluster (harness/constellation/cluster.py)."""
    c = sc.constellation
    given = raw.get("constellation", {})
    for key in ("planes", "sats_per_plane", "satellites", "phasing", "raan_spread_deg", "tle_file", "slots_file",
                "isl_file"):
        if key in given:
            raise ScenarioError(f"{source}: 'constellation.{key}' does not apply to kind 'cluster'; remove it (give "
                                f"'clusters' and 'sats_per_cluster')")
    if c.sats_per_cluster is None:
        raise ScenarioError(f"{source}: kind 'cluster' needs 'constellation.sats_per_cluster'; give the satellites "
                            f"of each cluster (Suncatcher: 81)")
    c = dataclasses.replace(c, planes=c.clusters, sats_per_plane=c.sats_per_cluster,
                            satellites=c.clusters * c.sats_per_cluster, phasing=0)
    return _resolve_orbit(c, raw, source)


def _resolve_shape(sc: Scenario, raw: dict, source: str) -> ConstellationSpec:
    """Fill sats_per_plane from satellites (T) or the other way round, checking T = P x S."""
    c = sc.constellation
    for key in CLUSTER_KEYS:
        if key in raw.get("constellation", {}):
            raise ScenarioError(f"{source}: 'constellation.{key}' applies to kind 'cluster' only, but "
                                f"'constellation.kind' is {c.kind!r}; remove it")
    for key in CLUSTER_LINK_KEYS:
        if isinstance(raw.get("links"), dict) and key in raw["links"]:
            raise ScenarioError(f"{source}: 'links.{key}' applies to constellation kind 'cluster' only, but "
                                f"'constellation.kind' is {c.kind!r}; remove it")
    for key in ("tle_file", "slots_file", "isl_file"):  # slot_numbering and plane_tolerance_deg: harmless
        if getattr(c, key) is not None:
            raise ScenarioError(f"{source}: 'constellation.{key}' is set but 'constellation.kind' is {c.kind!r}; "
                                f"set kind: tle or remove {key}")
    if c.sats_per_plane is None and c.satellites is None:
        raise ScenarioError(f"{source}: the constellation needs 'constellation.sats_per_plane' or "
                            f"'constellation.satellites'; give one")
    if c.satellites is not None:
        if c.satellites % c.planes:
            raise ScenarioError(f"{source}: 'constellation.satellites' T = {c.satellites} is not divisible by "
                                f"'constellation.planes' P = {c.planes}; a Walker i:T/P/F pattern needs T = P x S")
        per_plane = c.satellites // c.planes
        if c.sats_per_plane is not None and c.sats_per_plane != per_plane:
            raise ScenarioError(f"{source}: 'constellation.satellites' {c.satellites} and 'sats_per_plane' "
                                f"{c.sats_per_plane} disagree for {c.planes} planes; give only one")
        c = dataclasses.replace(c, sats_per_plane=per_plane)
    else:
        c = dataclasses.replace(c, satellites=c.planes * c.sats_per_plane)
    return _resolve_orbit(c, raw, source)


def _resolve_orbit(c: ConstellationSpec, raw: dict, source: str) -> ConstellationSpec:
    """A sun-synchronous shell's inclination, from its altitude (the inclination and LTAN keys checked)."""
    given = raw.get("constellation", {})
    if c.orbit != "sun-synchronous":
        if "ltan_h" in given:
            raise ScenarioError(f"{source}: 'constellation.ltan_h' is set but 'constellation.orbit' is "
                                f"{_show(c.orbit)}; set orbit: sun-synchronous or remove ltan_h")
        return c
    if "inclination_deg" in given:
        raise ScenarioError(f"{source}: 'constellation.inclination_deg' is set but 'constellation.orbit' is "
                            f"'sun-synchronous', which computes it from the altitude; remove inclination_deg "
                            f"(or set orbit: inclined)")
    from harness.constellation.sun_synchronous import sun_synchronous_cos_inclination, sun_synchronous_inclination_deg

    cos_i = sun_synchronous_cos_inclination(c.altitude_km)
    if cos_i < -1.0:
        raise ScenarioError(f"{source}: no sun-synchronous orbit exists at 'constellation.altitude_km' "
                            f"{c.altitude_km:g} km: J2 turns the plane slower than the Sun even at 180 deg "
                            f"(cos i would be {cos_i:.4f}); lower the altitude (below about 5,974 km) or set "
                            f"orbit: inclined")
    return dataclasses.replace(c, inclination_deg=sun_synchronous_inclination_deg(c.altitude_km))
