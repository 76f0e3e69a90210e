"""Constellations read from TLE files: satellites propagated with SGP4, planes and slots inferred.

Satellite ``n`` is the ``n``-th element set of the file. Its plane and slot are inferred from the
mean elements at the constellation's epoch (each set's own mean elements moved there by SGP4's
secular rates):

* satellites are grouped into shells: inclinations within ``plane_tolerance_deg`` of a neighbour's,
  then, inside each inclination group, mean semi-major axes (altitude) within ``shell_tolerance_km``
  of a neighbour's; inside each shell, ascending nodes (RAAN) within ``plane_tolerance_deg`` of a
  neighbour's form a plane. Planes are numbered by inclination group, then shell (lowest first),
  then RAAN ascending from 0 deg;
* inside a plane, slots follow the argument of latitude. Where slot 0 is depends on
  ``slot_numbering`` (:data:`SLOT_NUMBERINGS`): ``chained`` (the default) makes slot 0 of plane
  ``p+1`` the satellite level with or just ahead of plane ``p``'s slot 0, which is how a Walker
  pattern numbers its slots whatever its phasing F (a shell's first plane counts from its node);
  ``from-node`` counts every plane from its ascending node (argument of latitude 0 deg up), as
  Hypatia's TLE generator numbers them.

A sidecar ``plane,slot`` file may give the assignment instead (one shell). The +Grid ISLs of the
grid (:func:`grid_edges`) are the ring of each plane, a rung from each satellite to its neighbour in
the next plane of its shell, and, when there is one shell and its planes go round the whole equator
with equal sizes, a seam ``(P-1, s) - (0, s+k)``. Planes of different shells are not linked.

The rungs go by argument of latitude, not by slot number. Plane ``p+1`` sits ``d`` ahead of plane
``p``: the lead of its slot 0 over plane ``p``'s slot 0, which the numbering fixes (refined modulo
the slot spacing from every pair of the two planes). Each satellite links to the satellite of plane
``p+1`` nearest to its own argument of latitude plus ``d``, when the two are each other's nearest
and within half a slot spacing (``360 / S``, ``S`` the larger plane's size). In a regular grid that
is exactly ``(p, s) - (p+1, s)``; where a plane misses satellites, the satellites facing the gap get
no rung (not a link across the planes' shifted slots, through the Earth), and a ring does not jump a
gap wider than 1.5 slot spacings (of the shell's largest plane).

The seam's shift ``k`` follows the numbering: ``chained``, the satellite of plane 0 level with or
just ahead of the last plane's slot 0 (for a Walker delta ``i: T/P/F``, ``k = F``: the grid of
:func:`harness.network.topology.plus_grid_edges`, for every F); ``from-node``, the nearest one (a tie goes
to the smaller shift: Hypatia's unshifted seam for its shells with odd planes half a slot ahead).
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Optional

import numpy as np
from sgp4.api import SatrecArray

from harness.constellation.walker import Constellation
from harness.formats.tle import TleRecord

__all__ = ["SLOT_NUMBERINGS", "Grid", "check_propagation", "grid_edges", "infer_grid", "load_tle_grid",
           "tle_constellation", "tle_edges", "tle_epoch_utc"]

log = logging.getLogger(__name__)

_SECONDS_PER_DAY = 86_400.0
#: SGP4's Earth radius (WGS72), km: its semi-major axes are in these radii.
_EARTH_RADIUS_WGS72_KM = 6378.135
_JD_UNIX_EPOCH = 2440587.5
#: Arguments of latitude closer than this are a tie (TLE angles carry 4 decimals of a degree).
_TIE_DEG = 1e-3
#: A ring link spans at most this many slot spacings (360 deg / the largest plane): the links across a
#: gap of missing satellites would pass through the Earth.
_MAX_RING_GAP_SLOTS = 1.5
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
        arg_latitude_deg: ``[N]`` mean argument of latitude at the epoch, degrees in [0, 360).
        slot_numbering: how slot 0 was chosen (:data:`SLOT_NUMBERINGS`); the rungs follow it.
        shell_of_plane: ``[P]`` shell of each plane (planes of different shells are not linked), or
            None for one shell.
    """

    plane_of: np.ndarray
    slot_of: np.ndarray
    raan_deg: np.ndarray
    sizes: np.ndarray
    seam_shift: Optional[int]
    arg_latitude_deg: np.ndarray
    slot_numbering: str = "chained"
    shell_of_plane: Optional[np.ndarray] = None

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
        if self.shell_of_plane is not None:
            shape = f"{int(self.shell_of_plane.max()) + 1} shells, {shape}"
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


def _nested_clusters(group: np.ndarray, values: np.ndarray, tolerance: float, circular: bool) -> np.ndarray:
    """Labels splitting each group (labels 0..G-1) into clusters of ``values`` (:func:`_clusters`), numbered
    by group first, then by cluster."""
    out = np.empty_like(group)
    start = 0
    for g in range(int(group.max()) + 1):  # per group (a shell or an inclination), not per satellite
        members = np.flatnonzero(group == g)
        labels = _clusters(values[members], tolerance, circular)
        out[members] = start + labels
        start += int(labels.max()) + 1
    return out


def _lead_deg(arg_lat_deg: np.ndarray, reference_deg: float) -> np.ndarray:
    """How far ahead of ``reference_deg`` each argument of latitude is, in [-tie, 360 - tie)."""
    return (arg_lat_deg - reference_deg + _TIE_DEG) % 360.0 - _TIE_DEG


def _chained_slots(plane_of: np.ndarray, slot_of: np.ndarray, sizes: np.ndarray, arg_lat: np.ndarray,
                   shell_of_plane: np.ndarray) -> np.ndarray:
    """Slots renumbered so that each plane's slot 0 is level with or just ahead of the previous
    plane's slot 0 (``slot_of``: numbered from each plane's node; a shell's first plane keeps it)."""
    out = slot_of.copy()
    reference = None
    for p in range(len(sizes)):  # per plane (a chain), not per satellite
        members = np.flatnonzero(plane_of == p)
        if p == 0 or shell_of_plane[p] != shell_of_plane[p - 1]:
            reference = arg_lat[members[slot_of[members] == 0][0]]
            continue
        first = int(np.argmin(_lead_deg(arg_lat[members], reference)))
        out[members] = (slot_of[members] - slot_of[members[first]]) % sizes[p]
        reference = arg_lat[members[first]]
    return out


def infer_grid(records: list[TleRecord], epoch_utc: datetime, plane_tolerance_deg: float = 1.0,
               assignment: Optional[tuple[np.ndarray, np.ndarray]] = None,
               slot_numbering: str = "chained", shell_tolerance_km: float = 5.0) -> tuple[Grid, np.ndarray]:
    """The constellation's planes and slots (see the module doc), and ``[N]`` argument of latitude
    (rad) at ``epoch_utc``. ``assignment``: a given ``(plane_of, slot_of)`` instead of inferring."""
    assert slot_numbering in SLOT_NUMBERINGS, slot_numbering
    satrecs = [r.satrec for r in records]
    inclination, raan, arg_lat = _mean_elements_deg(satrecs, epoch_utc)
    if assignment is None:
        semi_major_km = np.array([s.a for s in satrecs]) * _EARTH_RADIUS_WGS72_KM
        shell = _nested_clusters(np.zeros(len(satrecs), np.int64), inclination, plane_tolerance_deg, circular=False)
        shell = _nested_clusters(shell, semi_major_km, shell_tolerance_km, circular=False)
        plane_of = _nested_clusters(shell, raan, plane_tolerance_deg, circular=True)
        shell_of_plane = np.zeros(plane_of.max() + 1, np.int64)
        shell_of_plane[plane_of] = shell
        # Within a plane, slots by argument of latitude; lexsort sorts by the last key first.
        order = np.lexsort((arg_lat, plane_of))
        sizes = np.bincount(plane_of)
        start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        slot_of = np.empty(len(records), dtype=np.int64)
        slot_of[order] = np.arange(len(records)) - np.repeat(start, sizes)
        if slot_numbering == "chained":
            slot_of = _chained_slots(plane_of, slot_of, sizes, arg_lat, shell_of_plane)
    else:
        plane_of, slot_of = (np.asarray(a, dtype=np.int64) for a in assignment)
        sizes = np.bincount(plane_of)
        shell_of_plane = np.zeros(len(sizes), np.int64)
    planes = len(sizes)
    raan_rad = np.radians(raan)
    plane_raan = np.degrees(np.arctan2(np.bincount(plane_of, np.sin(raan_rad), planes),
                                       np.bincount(plane_of, np.cos(raan_rad), planes))) % 360.0
    seam_shift = None
    gaps = np.diff(np.concatenate([plane_raan, [plane_raan[0] + 360.0]]))
    one_shell = not shell_of_plane.any()
    if planes >= 3 and one_shell and (sizes == sizes[0]).all() and sizes[0] >= 1 \
            and gaps[-1] < 1.5 * np.median(gaps[:-1]):
        last0 = arg_lat[(plane_of == planes - 1) & (slot_of == 0)][0]
        first = np.full(sizes[0], np.nan)
        first[slot_of[plane_of == 0]] = arg_lat[plane_of == 0]
        if slot_numbering == "chained":
            seam_shift = int(np.argmin(_lead_deg(first, last0)))
        else:
            distance = np.abs((first - last0 + 180.0) % 360.0 - 180.0)
            seam_shift = int(np.flatnonzero(distance <= distance.min() + _TIE_DEG)[0])
    grid = Grid(plane_of.astype(np.int32), slot_of.astype(np.int32), plane_raan, sizes, seam_shift, arg_lat,
                slot_numbering, shell_of_plane if shell_of_plane.any() else None)
    return grid, np.radians(arg_lat)


def _rungs(grid: Grid, table: np.ndarray, p: int) -> np.ndarray:
    """``[R, 2]`` rungs between planes ``p`` and ``p+1`` by argument of latitude (see the module doc)."""
    a, b = table[p][table[p] >= 0], table[p + 1][table[p + 1] >= 0]  # each plane in slot order, slot 0 first
    if not len(a) or not len(b):
        return np.zeros((0, 2), np.int64)
    u = grid.arg_latitude_deg
    spacing = 360.0 / max(len(a), len(b))
    lead = u[b][None, :] - u[a][:, None]  # [A, B] how far each of plane p+1 is ahead of each of plane p
    offset = (u[b[0]] - u[a[0]] + 180.0) % 360.0 - 180.0  # slot 0's lead: the numbering's offset
    if grid.slot_numbering == "chained":
        offset = (offset + _TIE_DEG) % 360.0 - _TIE_DEG
    if len(a) > 1 or len(b) > 1:  # the lattice phase from every pair, the range from slot 0
        phase = np.angle(np.exp(2j * np.pi * lead / spacing).mean()) / (2 * np.pi) * spacing
        if grid.slot_numbering == "chained":
            offset = (phase + _TIE_DEG) % spacing - _TIE_DEG
        else:
            offset = phase + spacing * np.round((offset - phase) / spacing)
    miss = np.abs((lead - offset + 180.0) % 360.0 - 180.0)
    nearest_b, nearest_a = miss.argmin(axis=1), miss.argmin(axis=0)
    rows = np.arange(len(a))
    keep = (nearest_a[nearest_b] == rows) & (miss[rows, nearest_b] <= spacing / 2)
    return np.column_stack([a[keep], b[nearest_b[keep]]])


def grid_edges(grid: Grid) -> np.ndarray:
    """``[L, 2]`` int32 +Grid ISLs of the grid (see the module doc), rows ``a < b``, sorted, unique."""
    n = len(grid.plane_of)
    width = int(grid.sizes.max())
    table = np.full((grid.planes, width), -1, dtype=np.int64)
    table[grid.plane_of, grid.slot_of] = np.arange(n)
    shell = np.zeros(grid.planes, np.int64) if grid.shell_of_plane is None else grid.shell_of_plane
    shell_width = np.zeros(shell.max() + 1, np.int64)
    np.maximum.at(shell_width, shell, grid.sizes)  # the largest plane of each shell: its slot spacing
    pairs = []
    for p in range(grid.planes):  # per plane, not per satellite: a ring of the plane's slots in order
        ring = table[p][table[p] >= 0]
        if len(ring) >= 2:
            ahead = np.roll(ring, -1)
            gap = np.abs((grid.arg_latitude_deg[ahead] - grid.arg_latitude_deg[ring] + 180.0) % 360.0 - 180.0)
            close = gap <= _MAX_RING_GAP_SLOTS * 360.0 / shell_width[shell[p]] + _TIE_DEG
            pairs.append(np.column_stack([ring, ahead])[close | (len(ring) == 2)])
        if p + 1 < grid.planes and shell[p] == shell[p + 1]:
            pairs.append(_rungs(grid, table, p))
    if grid.seam_shift is not None:
        pairs.append(np.column_stack([table[-1], np.roll(table[0], -grid.seam_shift)]))
    edges = np.concatenate(pairs) if pairs else np.empty((0, 2), np.int64)  # one plane of one satellite: none
    edges = edges[(edges >= 0).all(axis=1)]
    edges = np.sort(edges, axis=1)
    edges = edges[edges[:, 0] != edges[:, 1]]
    return np.unique(edges, axis=0).astype(np.int32)


def _propagate(records: list[TleRecord], epoch_utc: datetime, times_s: np.ndarray,
               source: str = "TLE file") -> tuple[np.ndarray, np.ndarray]:
    """``[N, S, 3]`` SGP4 positions and velocities (km, km/s) at ``epoch_utc + times_s``.

    Raises:
        ScenarioError: naming the first satellite, its TLE line and the time SGP4 fails at (a decayed orbit).
    """
    from sgp4.api import SGP4_ERRORS

    from harness.errors import ScenarioError

    satrecs = [r.satrec for r in records]
    # Times as the first set's epoch (whole and fraction, as SGP4 stores it) plus an offset that is
    # exactly 0 when the constellation starts at that epoch, so a TLE shell propagates like the
    # Walker builder's (harness/constellation/walker.py) to the last bit.
    start = (epoch_utc - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds() / _SECONDS_PER_DAY
    first = satrecs[0]
    whole_days = math.floor(start)
    offset_days = (whole_days + _JD_UNIX_EPOCH - first.jdsatepoch) + (start - whole_days - first.jdsatepochF)
    jd_whole = np.full(len(times_s), first.jdsatepoch)
    jd_fraction = first.jdsatepochF + offset_days + times_s / _SECONDS_PER_DAY
    errors, positions_km, velocities_km_s = SatrecArray(satrecs).sgp4(jd_whole, jd_fraction)
    if np.any(errors):
        sat, snap = np.argwhere(errors)[0]
        code = int(errors[sat, snap])
        when = epoch_utc + timedelta(seconds=float(times_s[snap]))
        raise ScenarioError(f"{source}: SGP4 cannot propagate satellite {int(sat)} "
                            f"(TLE at line {records[sat].line_number}) "
                            f"to t = {times_s[snap]:g} s ({when.isoformat().replace('+00:00', 'Z')}): error {code}, "
                            f"{SGP4_ERRORS.get(code, 'unknown')}; set 'constellation.epoch_utc' closer to the TLE "
                            f"epochs or drop the satellite from the file")
    return positions_km, velocities_km_s


def check_propagation(records: list[TleRecord], epoch_utc: datetime, snapshot_count: int,
                      snapshot_interval_s: float, source: str = "TLE file") -> None:
    """Propagate every set to the first and last snapshot: a decayed orbit is a scenario error when the
    scenario is read, not mid-run (:func:`tle_constellation` checks every snapshot)."""
    _propagate(records, epoch_utc, np.array([0.0, (snapshot_count - 1) * snapshot_interval_s]), source)


def tle_constellation(records: list[TleRecord], grid: Grid, arg_latitude_rad: np.ndarray, *,
                      epoch_utc: datetime, snapshot_count: int, snapshot_interval_s: float,
                      source: str = "TLE file") -> Constellation:
    """Propagate every element set with SGP4 (WGS72, improved mode) to ``epoch_utc + times_s``.

    Raises:
        ScenarioError: if SGP4 fails for a satellite at a snapshot (a decayed orbit).
    """
    times_s = np.arange(snapshot_count, dtype=np.float64) * snapshot_interval_s
    positions_km, velocities_km_s = _propagate(records, epoch_utc, times_s, source)
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


def _read_tle_once(path) -> list[TleRecord]:
    """The file's element sets, parsed once per file version: reading a scenario and building its
    constellation and ISLs all need them (the key holds the file's size and modification time)."""
    from pathlib import Path

    try:
        stat = Path(path).stat()
    except OSError:  # missing or unreadable: the reader says so, naming the file
        stat = None
    if stat is None:
        from harness.formats.tle import read_tle_file

        return read_tle_file(path)
    return list(_read_tle_cached(str(path), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=8)
def _read_tle_cached(path: str, mtime_ns: int, size: int) -> tuple[TleRecord, ...]:
    from harness.formats.tle import read_tle_file

    return tuple(read_tle_file(path))


def load_tle_grid(scenario, epoch_utc: Optional[datetime]) -> tuple[list[TleRecord], Grid, np.ndarray, datetime]:
    """A ``kind: tle`` scenario's element sets, grid, ``[N]`` argument of latitude (rad) at the epoch,
    and the epoch (``epoch_utc``, or when None the newest TLE epoch). Files are
    read strictly (:mod:`harness.formats.tle`); problems raise ScenarioError naming file and line."""
    from harness.errors import ScenarioError
    from harness.formats.tle import read_slots_file

    c = scenario.constellation
    tle_path = scenario.resolve(c.tle_file)
    records = _read_tle_once(tle_path)
    lowest_km = min(r.satrec.altp for r in records) * 6378.135
    grazing = scenario.links.grazing_altitude_km
    if grazing is not None and grazing >= lowest_km - 10.0:
        raise ScenarioError(f"{tle_path}: the lowest perigee is {lowest_km:.0f} km, too close to "
                            f"'links.grazing_altitude_km' {grazing:g}; lower it or set null")
    epoch = tle_epoch_utc(records) if epoch_utc is None else epoch_utc
    assignment = read_slots_file(scenario.resolve(c.slots_file), len(records)) if c.slots_file else None
    grid, arg_latitude_rad = infer_grid(records, epoch, c.plane_tolerance_deg, assignment, c.slot_numbering,
                                        c.shell_tolerance_km)
    return records, grid, arg_latitude_rad, epoch


def tle_edges(scenario, grid: Grid, count: int) -> np.ndarray:
    """The scenario's ISLs: its ``isl_file`` when given, else the grid's +Grid."""
    from harness.formats.tle import read_isl_file

    isl_file = scenario.constellation.isl_file
    return read_isl_file(scenario.resolve(isl_file), count) if isl_file else grid_edges(grid)


def build_tle_constellation(scenario) -> Constellation:
    """The constellation of a ``kind: tle`` scenario over its snapshots (logs the inferred grid)."""
    c = scenario.constellation
    records, grid, arg_latitude_rad, epoch = load_tle_grid(scenario, c.epoch)
    log.info("TLE constellation %s: %s", c.tle_file, grid.describe(tle_edges(scenario, grid, len(records))))
    return tle_constellation(records, grid, arg_latitude_rad, epoch_utc=epoch, snapshot_count=scenario.snapshots.count,
                             snapshot_interval_s=scenario.snapshots.interval_s,
                             source=str(scenario.resolve(c.tle_file)))


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

    from harness.formats.tle import export_tle

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
