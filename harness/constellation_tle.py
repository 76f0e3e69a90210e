"""Constellations read from TLE files: satellites propagated with SGP4, planes and slots inferred.

Satellite ``n`` is the ``n``-th element set of the file. Its plane and slot are inferred from the
mean elements at the constellation's epoch (each set's own mean elements moved there by SGP4's
secular rates):

* satellites whose inclinations agree within ``plane_tolerance_deg`` and whose ascending nodes
  (RAAN) lie within ``plane_tolerance_deg`` of a neighbour's form a plane; planes are numbered by
  inclination group, then RAAN ascending from 0 deg;
* inside a plane, slots follow the argument of latitude. Where slot 0 is depends on
  ``slot_numbering`` (:data:`SLOT_NUMBERINGS`): ``chained`` (the default) makes slot 0 of plane
  ``p+1`` the satellite level with or just ahead of plane ``p``'s slot 0, which is how a Walker
  pattern numbers its slots whatever its phasing F; ``from-node`` counts every plane from its
  ascending node (argument of latitude 0 deg up), as Hypatia's TLE generator numbers them.

A sidecar ``plane,slot`` file may give the assignment instead. The +Grid ISLs of the inferred grid
(:func:`grid_edges`) are the ring of each plane, ``(p, s) - (p+1, s)`` between consecutive planes,
and, when the planes go round the whole equator with equal sizes, a seam ``(P-1, s) - (0, s+k)``.
Its shift ``k`` follows the numbering: ``chained``, the satellite of plane 0 level with or just ahead
of the last plane's slot 0 (for a Walker delta ``i: T/P/F``, ``k = F``: the grid of
:func:`harness.topology.plus_grid_edges`, for every F); ``from-node``, the nearest one (a tie goes
to the smaller shift: Hypatia's unshifted seam for its shells with odd planes half a slot ahead).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Optional

import numpy as np
from sgp4.api import SatrecArray

from .constellation import Constellation
from .formats.tle import TleRecord

__all__ = ["SLOT_NUMBERINGS", "Grid", "grid_edges", "infer_grid", "load_tle_grid", "tle_constellation", "tle_edges", "tle_epoch_utc"]

log = logging.getLogger(__name__)

_SECONDS_PER_DAY = 86_400.0
_JD_UNIX_EPOCH = 2440587.5
#: Arguments of latitude closer than this are a tie (TLE angles carry 4 decimals of a degree).
_TIE_DEG = 1e-3
#: Slot numberings (scenario key ``constellation.slot_numbering``), see the module doc.
SLOT_NUMBERINGS = ("chained", "from-node")


@dataclass(frozen=True)
class Grid:
    """Planes and slots of a constellation, and what its +Grid lacks.

    Attributes:
        plane_of, slot_of: ``[N]`` int32.
        raan_deg: ``[P]`` mean RAAN of each plane at the epoch, degrees.
        sizes: ``[P]`` satellites in each plane.
        seam_shift: slot shift of the seam links, or None when there is no seam.
    """

    plane_of: np.ndarray
    slot_of: np.ndarray
    raan_deg: np.ndarray
    sizes: np.ndarray
    seam_shift: Optional[int]

    @property
    def planes(self) -> int:
        return int(len(self.sizes))

    @property
    def regular(self) -> bool:
        """Every plane has the same number of satellites."""
        return bool((self.sizes == self.sizes[0]).all())

    def describe(self, edges: np.ndarray) -> str:
        """One line: the grid, and how many satellites lack a cross-plane or any +Grid neighbour."""
        n = len(self.plane_of)
        cross = self.plane_of[edges[:, 0]] != self.plane_of[edges[:, 1]]
        with_cross = np.zeros(n, bool)
        with_cross[edges[cross].ravel()] = True
        linked = np.zeros(n, bool)
        linked[edges.ravel()] = True
        shape = (f"{self.planes} planes x {int(self.sizes[0])} satellites" if self.regular else
                 f"{self.planes} planes of {int(self.sizes.min())} to {int(self.sizes.max())} satellites (irregular)")
        seam = "no seam" if self.seam_shift is None else f"seam shift {self.seam_shift}"
        return (f"{n} satellites: {shape}, {seam}, {len(edges)} ISLs; {int((~with_cross).sum())} satellites "
                f"without a cross-plane neighbour, {int((~linked).sum())} without any ISL")


def tle_epoch_utc(records: list[TleRecord]) -> datetime:
    """The newest epoch of the element sets (UTC, to the microsecond)."""
    jd = max(r.satrec.jdsatepoch + r.satrec.jdsatepochF for r in records)
    seconds = round((jd - _JD_UNIX_EPOCH) * _SECONDS_PER_DAY * 1e6) / 1e6
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)


def _mean_elements_deg(satrecs: list, epoch_utc: datetime) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inclination, RAAN and argument of latitude (deg, [0, 360)) of every set at ``epoch_utc``:
    the elements at each set's epoch moved by SGP4's secular rates (J2 node and perigee drift)."""
    get = lambda name: np.array([getattr(s, name) for s in satrecs], dtype=np.float64)  # noqa: E731
    target_jd = (epoch_utc - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds() / _SECONDS_PER_DAY
    minutes = ((target_jd + _JD_UNIX_EPOCH - get("jdsatepoch")) - get("jdsatepochF")) * 1440.0
    raan = np.degrees(get("nodeo") + get("nodedot") * minutes) % 360.0
    arg_lat = np.degrees(get("argpo") + get("mo") + (get("argpdot") + get("mdot")) * minutes) % 360.0
    return np.degrees(get("inclo")), raan, arg_lat


def _clusters(values_deg: np.ndarray, tolerance_deg: float, circular: bool) -> np.ndarray:
    """Label of each value: sorted values split where a gap exceeds the tolerance (round the circle
    when ``circular``), labels ordered by the group's smallest value in [0, 360)."""
    order = np.argsort(values_deg, kind="stable")
    sorted_v = values_deg[order]
    breaks = np.flatnonzero(np.diff(sorted_v) > tolerance_deg) + 1
    label_sorted = np.zeros(len(values_deg), dtype=np.int64)
    label_sorted[breaks] = 1
    label_sorted = np.cumsum(label_sorted)
    if circular and len(breaks) and sorted_v[0] + 360.0 - sorted_v[-1] <= tolerance_deg:
        label_sorted[label_sorted == label_sorted[-1]] = 0  # the group across 0 deg is one
    labels = np.empty_like(label_sorted)
    labels[order] = label_sorted
    return np.unique(labels, return_inverse=True)[1]


def _lead_deg(arg_lat_deg: np.ndarray, reference_deg: float) -> np.ndarray:
    """How far ahead of ``reference_deg`` each argument of latitude is, in [-tie, 360 - tie)."""
    return (arg_lat_deg - reference_deg + _TIE_DEG) % 360.0 - _TIE_DEG


def _chained_slots(plane_of: np.ndarray, slot_of: np.ndarray, sizes: np.ndarray, arg_lat: np.ndarray) -> np.ndarray:
    """Slots renumbered so that each plane's slot 0 is level with or just ahead of the previous
    plane's slot 0 (``slot_of``: numbered from each plane's node)."""
    out = slot_of.copy()
    reference = arg_lat[(plane_of == 0) & (slot_of == 0)][0]
    for p in range(1, len(sizes)):  # per plane (a chain), not per satellite
        members = np.flatnonzero(plane_of == p)
        first = int(np.argmin(_lead_deg(arg_lat[members], reference)))
        out[members] = (slot_of[members] - slot_of[members[first]]) % sizes[p]
        reference = arg_lat[members[first]]
    return out


def infer_grid(records: list[TleRecord], epoch_utc: datetime, plane_tolerance_deg: float = 1.0,
               assignment: Optional[tuple[np.ndarray, np.ndarray]] = None,
               slot_numbering: str = "chained") -> tuple[Grid, np.ndarray]:
    """The constellation's planes and slots (see the module doc), and ``[N]`` argument of latitude
    (rad) at ``epoch_utc``. ``assignment``: a given ``(plane_of, slot_of)`` instead of inferring."""
    assert slot_numbering in SLOT_NUMBERINGS, slot_numbering
    satrecs = [r.satrec for r in records]
    inclination, raan, arg_lat = _mean_elements_deg(satrecs, epoch_utc)
    if assignment is None:
        group = _clusters(inclination, plane_tolerance_deg, circular=False)
        node = _clusters(raan, plane_tolerance_deg, circular=True)
        key = group * (node.max() + 1) + node
        plane_of = np.unique(key, return_inverse=True)[1]
        # Within a plane, slots by argument of latitude; lexsort sorts by the last key first.
        order = np.lexsort((arg_lat, plane_of))
        sizes = np.bincount(plane_of)
        start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        slot_of = np.empty(len(records), dtype=np.int64)
        slot_of[order] = np.arange(len(records)) - np.repeat(start, sizes)
        if slot_numbering == "chained":
            slot_of = _chained_slots(plane_of, slot_of, sizes, arg_lat)
    else:
        plane_of, slot_of = (np.asarray(a, dtype=np.int64) for a in assignment)
        sizes = np.bincount(plane_of)
    planes = len(sizes)
    raan_rad = np.radians(raan)
    plane_raan = np.degrees(np.arctan2(np.bincount(plane_of, np.sin(raan_rad), planes),
                                       np.bincount(plane_of, np.cos(raan_rad), planes))) % 360.0
    seam_shift = None
    gaps = np.diff(np.concatenate([plane_raan, [plane_raan[0] + 360.0]]))
    if planes >= 3 and (sizes == sizes[0]).all() and sizes[0] >= 1 and gaps[-1] < 1.5 * np.median(gaps[:-1]):
        last0 = arg_lat[(plane_of == planes - 1) & (slot_of == 0)][0]
        first = np.full(sizes[0], np.nan)
        first[slot_of[plane_of == 0]] = arg_lat[plane_of == 0]
        if slot_numbering == "chained":
            seam_shift = int(np.argmin(_lead_deg(first, last0)))
        else:
            distance = np.abs((first - last0 + 180.0) % 360.0 - 180.0)
            seam_shift = int(np.flatnonzero(distance <= distance.min() + _TIE_DEG)[0])
    grid = Grid(plane_of.astype(np.int32), slot_of.astype(np.int32), plane_raan, sizes, seam_shift)
    return grid, np.radians(arg_lat)


def grid_edges(grid: Grid) -> np.ndarray:
    """``[L, 2]`` int32 +Grid ISLs of the grid (see the module doc), rows ``a < b``, sorted, unique."""
    n = len(grid.plane_of)
    width = int(grid.sizes.max())
    table = np.full((grid.planes, width), -1, dtype=np.int64)
    table[grid.plane_of, grid.slot_of] = np.arange(n)
    pairs = []
    for p in range(grid.planes):  # per plane, not per satellite: a ring of the plane's slots in order
        ring = table[p][table[p] >= 0]
        if len(ring) >= 2:
            pairs.append(np.column_stack([ring, np.roll(ring, -1)]))
    rungs = np.stack([table[:-1], table[1:]], axis=-1).reshape(-1, 2)
    pairs.append(rungs)
    if grid.seam_shift is not None:
        pairs.append(np.column_stack([table[-1], np.roll(table[0], -grid.seam_shift)]))
    edges = np.concatenate(pairs)
    edges = edges[(edges >= 0).all(axis=1)]
    edges = np.sort(edges, axis=1)
    edges = edges[edges[:, 0] != edges[:, 1]]
    return np.unique(edges, axis=0).astype(np.int32)


def tle_constellation(records: list[TleRecord], grid: Grid, arg_latitude_rad: np.ndarray, *,
                      epoch_utc: datetime, snapshot_count: int, snapshot_interval_s: float) -> Constellation:
    """Propagate every element set with SGP4 (WGS72, improved mode) to ``epoch_utc + times_s``.

    Raises:
        ValueError: if SGP4 fails for a satellite at a snapshot (a decayed orbit).
    """
    satrecs = [r.satrec for r in records]
    times_s = np.arange(snapshot_count, dtype=np.float64) * snapshot_interval_s
    # Times as the first set's epoch (whole and fraction, as SGP4 stores it) plus an offset that is
    # exactly 0 when the constellation starts at that epoch, so a TLE shell propagates like the
    # Walker builder's (harness/constellation.py) to the last bit.
    start = (epoch_utc - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds() / _SECONDS_PER_DAY
    first = satrecs[0]
    whole_days = math.floor(start)
    offset_days = (whole_days + _JD_UNIX_EPOCH - first.jdsatepoch) + (start - whole_days - first.jdsatepochF)
    jd_whole = np.full(snapshot_count, first.jdsatepoch)
    jd_fraction = first.jdsatepochF + offset_days + times_s / _SECONDS_PER_DAY
    errors, positions_km, velocities_km_s = SatrecArray(satrecs).sgp4(jd_whole, jd_fraction)
    if np.any(errors):
        sat, snap = np.argwhere(errors)[0]
        raise ValueError(f"SGP4 error code {int(errors[sat, snap])} for satellite {int(sat)} (TLE at line "
                         f"{records[sat].line_number}) at t = {times_s[snap]:g} s; is the epoch far from the TLEs'?")
    sizes = grid.sizes
    return Constellation(
        planes=grid.planes,
        sats_per_plane=int(sizes.max()),
        times_s=times_s,
        positions_m=np.ascontiguousarray(positions_km.transpose(1, 0, 2)) * 1e3,
        velocities_m_s=np.ascontiguousarray(velocities_km_s.transpose(1, 0, 2)) * 1e3,
        plane_of=grid.plane_of,
        slot_of=grid.slot_of,
        arg_latitude_rad=arg_latitude_rad,
        total=len(records),
    )


def load_tle_grid(scenario, epoch_utc: Optional[datetime]) -> tuple[list[TleRecord], Grid, np.ndarray, datetime]:
    """A ``kind: tle`` scenario's element sets, grid, ``[N]`` argument of latitude (rad) at the epoch,
    and the epoch (``epoch_utc``, or when None the newest TLE epoch). Files are
    read strictly (:mod:`harness.formats.tle`); problems raise ScenarioError naming file and line."""
    from .errors import ScenarioError
    from .formats.tle import read_slots_file, read_tle_file

    c = scenario.constellation
    tle_path = scenario.resolve(c.tle_file)
    records = read_tle_file(tle_path)
    lowest_km = min(r.satrec.altp for r in records) * 6378.135
    grazing = scenario.links.grazing_altitude_km
    if grazing is not None and grazing >= lowest_km - 10.0:
        raise ScenarioError(f"{tle_path}: the lowest perigee is {lowest_km:.0f} km, too close to "
                            f"'links.grazing_altitude_km' {grazing:g}; lower it or set null")
    epoch = tle_epoch_utc(records) if epoch_utc is None else epoch_utc
    assignment = read_slots_file(scenario.resolve(c.slots_file), len(records)) if c.slots_file else None
    grid, arg_latitude_rad = infer_grid(records, epoch, c.plane_tolerance_deg, assignment, c.slot_numbering)
    return records, grid, arg_latitude_rad, epoch


def tle_edges(scenario, grid: Grid, count: int) -> np.ndarray:
    """The scenario's ISLs: its ``isl_file`` when given, else the grid's +Grid."""
    from .formats.tle import read_isl_file

    isl_file = scenario.constellation.isl_file
    return read_isl_file(scenario.resolve(isl_file), count) if isl_file else grid_edges(grid)


def build_tle_constellation(scenario) -> Constellation:
    """The constellation of a ``kind: tle`` scenario over its snapshots (logs the inferred grid)."""
    c = scenario.constellation
    records, grid, arg_latitude_rad, epoch = load_tle_grid(scenario, c.epoch)
    log.info("TLE constellation %s: %s", c.tle_file, grid.describe(tle_edges(scenario, grid, len(records))))
    return tle_constellation(records, grid, arg_latitude_rad, epoch_utc=epoch, snapshot_count=scenario.snapshots.count,
                             snapshot_interval_s=scenario.snapshots.interval_s)


def build_tle_edges(scenario) -> np.ndarray:
    """The ISLs of a ``kind: tle`` scenario: its ``isl_file``, else +Grid of the grid."""
    records, grid, _, _ = load_tle_grid(scenario, scenario.constellation.epoch)
    return tle_edges(scenario, grid, len(records))


def shell_tles(name: str, *, planes: int, sats_per_plane: int, inclination_deg: float, mean_motion_rev_day: float,
               epoch_utc: datetime, eccentricity: float = 1e-7, arg_perigee_deg: float = 0.0,
               half_slot_on_odd_planes: bool = True) -> list[tuple[str, str, str]]:
    """``(name, line1, line2)`` TLEs of one shell in Hypatia's convention (satgenpy's
    ``generate_tles_from_scratch_with_sgp``): plane ``o`` at RAAN ``360 o / P``, satellite ``j`` at mean
    anomaly ``360 j / S`` plus half a slot on odd planes, satellite ``o S + j`` named ``"<name> <id>"``;
    written by sgp4's TLE exporter (angles to 1e-4 deg, mean motion to 1e-8 rev/day) at ``epoch_utc``."""
    from sgp4.api import WGS72, Satrec

    from .formats.tle import export_tle

    epoch_days = (epoch_utc - datetime(1949, 12, 31, tzinfo=timezone.utc)) / timedelta(days=1)
    out = []
    for o in range(planes):
        shift = 360.0 / (2.0 * sats_per_plane) if (half_slot_on_odd_planes and o % 2 == 1) else 0.0
        for j in range(sats_per_plane):
            sat = Satrec()
            sat.sgp4init(WGS72, "i", o * sats_per_plane + j + 1, epoch_days, 0.0, 0.0, 0.0, eccentricity,
                         math.radians(arg_perigee_deg), math.radians(inclination_deg),
                         math.radians(shift + j * 360.0 / sats_per_plane), mean_motion_rev_day * 2.0 * math.pi / 1440.0,
                         math.radians(o * 360.0 / planes))
            out.append((f"{name} {o * sats_per_plane + j}", *export_tle(sat)))
    return out
