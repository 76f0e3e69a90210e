"""Ground sites and ground users sections of the scenario schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from harness.names import GROUND_CONVENTIONS, GSL_RULE_NAMES
from harness.scenario.schema import _spec, _rule, _within, _range, _name_problem, _show


class SiteList(tuple):
    """Ground sites: a YAML list of ``{name, lat_deg, lon_deg[, alt_m]}``, read into ``(Site, ...)``."""


def _sites(value: Any) -> Optional[str]:
    """The problem with a ``ground.sites`` value, or None."""
    if not isinstance(value, list):
        return "must be a list of {name, lat_deg, lon_deg, alt_m} mappings"
    names = set()
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not {"name", "lat_deg", "lon_deg"} <= set(item) <= {"name", "lat_deg",
                                                                                           "lon_deg", "alt_m"}:
            return (f"entry {i} must be a mapping with keys name, lat_deg, lon_deg and optionally alt_m, "
                    f"got {_show(item)}")
        if not isinstance(item["name"], str) or _name_problem(item["name"]):
            return f"entry {i}: name must be a non-empty string, got {_show(item['name'])}"
        if item["name"] in names:
            return f"entry {i}: site {item['name']!r} is listed twice; give each site once"
        names.add(item["name"])
        for key, lo, hi in (("lat_deg", -90.0, 90.0), ("lon_deg", -180.0, 360.0), ("alt_m", -500.0, 100_000.0)):
            v = item.get(key, 0.0)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:  # NaN fails too
                return f"entry {i} ({item['name']}): {key} must be a number in [{lo:g}, {hi:g}], got {_show(v)}"
    return None


@dataclass(frozen=True)
class GroundSpec:
    """Ground sites and their ground-satellite links (GSL)."""

    sites: SiteList = _spec(SiteList(), help="named places: a list of {name, lat_deg, lon_deg, alt_m} (geodetic, "
                            "east positive, metres above the convention's ellipsoid)")
    convention: str = _spec("wgs84-ut1", help="Earth model and rotation placing sites and satellites in one "
                            "Earth-fixed frame (harness/network/ground/geometry.py)", choices=tuple(GROUND_CONVENTIONS))
    gsl_rule: str = _spec("min_elevation", help="which satellites a site links to: the highest one above "
                          "min_elevation_deg, or every one within max_gsl_length_km (Hypatia)",
                          choices=tuple(GSL_RULE_NAMES))
    min_elevation_deg: float = _spec(25.0, unit="deg", help="gsl_rule min_elevation: lowest elevation of a usable "
                                     "satellite", check=_within(0.0, 90.0))
    max_gsl_length_km: Optional[float] = _spec(None, unit="km", help="gsl_rule max_length: longest usable "
                                               "ground-satellite link", check=_range(0.0, 1e5, open_low=True))


class UserLocationList(tuple):
    """User locations: a YAML list of ``{name, lat_deg, lon_deg, weight[, region]}``, read into
    ``(UserSite, ...)``."""


def _user_locations(value: Any) -> Optional[str]:
    """The problem with a ``users.locations`` value, or None."""
    keys = {"name", "lat_deg", "lon_deg", "weight"}
    if not isinstance(value, list):
        return "must be a list of {name, lat_deg, lon_deg, weight, region} mappings"
    names = set()
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not keys <= set(item) <= keys | {"region"}:
            return (f"entry {i} must be a mapping with keys name, lat_deg, lon_deg, weight and optionally region, "
                    f"got {_show(item)}")
        for key in ("name", "region"):
            if key in item and (not isinstance(item[key], str) or _name_problem(item[key]) or "," in item[key]):
                return f"entry {i}: {key} must be a non-empty string without commas, got {_show(item[key])}"
        if item["name"] in names:
            return f"entry {i}: location {item['name']!r} is listed twice; give each location once"
        names.add(item["name"])
        for key, lo, hi in (("lat_deg", -90.0, 90.0), ("lon_deg", -180.0, 360.0), ("weight", 0.0, 1e12)):
            v = item[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:  # NaN fails too
                return f"entry {i} ({item['name']}): {key} must be a number in [{lo:g}, {hi:g}], got {_show(v)}"
    if value and not any(item["weight"] > 0 for item in value):
        return "needs at least one location of weight > 0"
    return None


#: Shipped sets of user sites (``users.cities``): name -> CSV under harness/network/ground/data/ (see its SOURCE.md).
CITY_SETS = ("world",)


@dataclass(frozen=True)
class UsersSpec:
    """Users on the ground (harness/network/ground/users.py): where requests come from, over which links."""

    cities: Optional[str] = _spec(None, help="a shipped set of user sites weighted by population: 'world' (the 8 "
                                  "most populous cities of each inhabited continent, GeoNames, CC BY 4.0; "
                                  "harness/network/ground/data/SOURCE.md)",
                                  check=_rule("'world'", lambda v: None if v in CITY_SETS else
                                              f"must be one of: {', '.join(CITY_SETS)}"))
    locations: UserLocationList = _spec(UserLocationList(), help="user sites: a list of {name, lat_deg, lon_deg, "
                                        "weight, region} (geodetic deg, east positive; a request comes from a "
                                        "site with probability weight / total)")
    gsl_rate_bps: float = _spec(1e9, unit="bit/s", help="rate of a user's ground-satellite link, both ways",
                                check=_range(1e3, 1e13))
    token_bytes: int = _spec(4, unit="bytes", help="payload of one output token sent down to its user",
                             check=_range(1, 65000))

    @property
    def enabled(self) -> bool:
        """Whether requests come from users on the ground (a serving run, with ground-satellite links)."""
        return self.cities is not None or bool(self.locations)
