"""The shipped city sets (``users.cities``): ``harness/network/ground/data/<set>_cities.csv``.

Header ``name,country,region,lat_deg,lon_deg,population`` then one city per line (see the data
folder's SOURCE.md for where the rows come from and under which licence).
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import HarnessError
from harness.sites import UserSite
from harness.formats.files import read_text_file, show

CITIES_HEADER = ("name", "country", "region", "lat_deg", "lon_deg", "population")
DATA_DIR = Path(__file__).resolve().parents[1] / "network" / "ground" / "data"


def city_set_path(name: str) -> Path:
    return DATA_DIR / f"{name}_cities.csv"


def read_cities_csv(path: Path) -> tuple[UserSite, ...]:
    """The cities of a city-set file as user sites weighted by population, strictly."""
    text = read_text_file(path, "city set")
    lines = text.splitlines()
    if not lines or tuple(lines[0].split(",")) != CITIES_HEADER:
        raise HarnessError(f"{path}: line 1 must be the header '{','.join(CITIES_HEADER)}'; reinstall the harness")
    sites = []
    for n, line in enumerate(lines[1:], start=2):
        cells = line.split(",")
        try:
            if len(cells) != len(CITIES_HEADER):
                raise ValueError
            lat, lon, population = float(cells[3]), float(cells[4]), int(cells[5])
            if not (-90 <= lat <= 90 and -180 <= lon <= 180 and population >= 0):
                raise ValueError
        except ValueError:
            raise HarnessError(f"{path}: line {n} is {show(line)}; expected '{','.join(CITIES_HEADER)}' with "
                               f"latitude in [-90, 90], longitude in [-180, 180], population >= 0") from None
        sites.append(UserSite(cells[0], lat, lon, float(population), cells[2]))
    return tuple(sites)
