"""Constellation, snapshot, link, routing and placement sections of the scenario schema."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from harness.scenario.schema import (APP_HEADER_BYTES, IPV4_HEADER_BYTES, MAX_COUNT, MAX_SATELLITES,
                                     PACKET_OVERHEAD_BYTES, UDP_HEADER_BYTES, _at_least, _parse_utc, _range, _spec,
                                     _utc_instant, _within)


#: Largest formation cluster: its rules (harness/scenario/rules.py) and mesh compare every pair of
#: its satellites, N x N x 3 floats (4096: 0.4 GB; 32,768 would be 26 GB).
MAX_CLUSTER_SATELLITES = 4096


@dataclass(frozen=True)
class ConstellationSpec:
    """The constellation: a Walker shell (shape, orbit, epoch) or a TLE file."""

    kind: str = _spec("walker-delta", help="Walker pattern: planes spread over 360 deg (delta) or 180 deg (star); "
                      "or 'tle': the satellites of tle_file (planes, slots and satellites are then inferred); or 'cluster': "
                      "formation clusters on one reference orbit (docs/clusters.md)",
                      choices=("walker-delta", "walker-star", "tle", "cluster"))
    planes: int = _spec(6, help="number of orbital planes P", check=_range(1, MAX_SATELLITES))
    sats_per_plane: Optional[int] = _spec(None, help="satellites per plane S (give this or 'satellites')",
                                          check=_range(1, MAX_SATELLITES))
    satellites: Optional[int] = _spec(None, help=f"total satellites T = P x S (give this or 'sats_per_plane'), "
                                      f"at most {MAX_SATELLITES}", check=_range(1, MAX_SATELLITES))
    phasing: int = _spec(1, help="Walker phasing factor F, in [0, P-1]", check=_range(0, MAX_SATELLITES))
    altitude_km: float = _spec(550.0, unit="km", help="circular orbit altitude above the equatorial radius",
                               check=_range(160.0, 100_000.0))
    inclination_deg: float = _spec(53.0, unit="deg", help="orbit inclination (orbit sun-synchronous: computed, "
                                   "do not give it)", check=_within(0.0, 180.0))
    orbit: str = _spec("inclined", help="Walker kinds: 'inclined' (the planes tilt by inclination_deg) or "
                       "'sun-synchronous' (the inclination at which J2 turns each plane with the mean Sun, 360 deg "
                       "per 365.2422 days, from altitude_km: 97.59 deg at 550 km; plane 0's node at ltan_h)",
                       choices=("inclined", "sun-synchronous"))
    ltan_h: float = _spec(6.0, unit="h", help="orbit sun-synchronous: local time of plane 0's ascending node "
                          "(6: dawn-dusk; 18: dusk-dawn; 12: noon-midnight); its RAAN is the mean Sun's right "
                          "ascension at the epoch + (ltan_h - 12) x 15 deg", check=_within(0.0, 24.0))
    raan_spread_deg: Optional[float] = _spec(None, unit="deg", help="Walker kinds: arc over which the planes' "
                                             "ascending nodes are spread, plane p at RAAN0 + p x spread / P (null: "
                                             "360 for walker-delta, 180 for walker-star)",
                                             check=_range(0.0, 360.0, open_low=True))
    epoch_utc: str = _spec("2026-01-01T00:00:00Z", unit="UTC", help="instant of the first snapshot (kind tle: "
                           "default the newest TLE epoch)", check=_utc_instant)
    tle_file: Optional[str] = _spec(None, help="kind tle: two- or three-line TLE file, relative to the scenario")
    slots_file: Optional[str] = _spec(None, help="kind tle: optional 'plane,slot' CSV, one row per satellite in TLE "
                                      "order, instead of inferring planes and slots")
    isl_file: Optional[str] = _spec(None, help="kind tle: optional ISL list, 'a b' per line (0-based TLE order), "
                                    "instead of +Grid")
    plane_tolerance_deg: float = _spec(1.0, unit="deg", help="kind tle: satellites whose inclinations and RAANs agree "
                                       "within this share a plane", check=_range(1e-6, 90.0))
    shell_tolerance_km: float = _spec(5.0, unit="km", help="kind tle: satellites of one inclination whose mean "
                                      "semi-major axes agree within this (chained) form a shell; planes are inferred "
                                      "within each shell", check=_range(1e-3, 10_000.0))
    slot_numbering: str = _spec("chained", help="kind tle: slot 0 of each plane is level with or just ahead of the "
                                "previous plane's ('chained', a Walker pattern's numbering for any phasing) or the first "
                                "satellite past its ascending node ('from-node', Hypatia's); +Grid links equal slots "
                                "(irregular planes: the nearest in argument of latitude)",
                                choices=("chained", "from-node"))
    clusters: int = _spec(1, help="kind cluster: clusters on the reference orbit, cluster c centred "
                          "c x cluster_separation_km along-track ahead of cluster 0", check=_range(1, 4096))
    sats_per_cluster: Optional[int] = _spec(None, help="kind cluster: satellites in each cluster (the lattice points "
                                            "nearest its centre); at most 4096: the cluster's rules compare every "
                                            "pair of its satellites (32,768 needed tens of GB)",
                                            check=_range(1, MAX_CLUSTER_SATELLITES))
    formation: str = _spec("gco", help="kind cluster: bounded Clohessy-Wiltshire design: 'gco' (general circular "
                           "orbit: the lattice turns rigidly once per orbit, separations constant to first order) "
                           "or 'pco' (projected circular orbit: separations vary by up to 12 %)",
                           choices=("gco", "pco"))
    lattice: str = _spec("hexagonal", help="kind cluster: the formation plane's lattice", choices=("hexagonal", "square"))
    spacing_m: float = _spec(200.0, unit="m", help="kind cluster: distance between lattice neighbours",
                             check=_range(1.0, 1e6))
    cluster_radius_m: float = _spec(1000.0, unit="m", help="kind cluster: every satellite's lattice point lies "
                                    "within this of its cluster's centre", check=_range(1.0, 1e7))
    min_separation_m: float = _spec(50.0, unit="m", help="kind cluster: no two satellites may come closer than this "
                                    "over an orbit (Clohessy-Wiltshire)", check=_range(0.0, 1e7))
    cluster_separation_km: Optional[float] = _spec(None, unit="km", help="kind cluster: along-track arc between "
                                                   "consecutive clusters' centres (null: spread evenly around the "
                                                   "orbit)", check=_range(0.0, 1e6, open_low=True))
    match_j2_drift: bool = _spec(True, help="kind cluster: tune each satellite's mean motion so that SGP4's secular "
                                 "along-track rate equals the reference orbit's (removes J2's differential "
                                 "along-track drift; its cross-track drift remains)")

    @property
    def num_satellites(self) -> int:
        return self.planes * self.sats_per_plane if self.satellites is None else self.satellites

    @property
    def epoch(self) -> datetime:
        return _parse_utc(self.epoch_utc)

    @property
    def raan0_deg(self) -> float:
        """RAAN of plane 0 at the epoch, degrees: 0 unless the orbit is sun-synchronous."""
        if self.orbit != "sun-synchronous":
            return 0.0
        from harness.constellation.sun_synchronous import sun_synchronous_raan_deg

        return sun_synchronous_raan_deg(self.ltan_h, self.epoch)


@dataclass(frozen=True)
class SnapshotSpec:
    """Topology snapshots: how many, and how far apart in time."""

    count: int = _spec(10, help="number of topology snapshots (the paper used 200)", check=_range(1, MAX_COUNT))
    interval_s: float = _spec(1.0, unit="s", help="time between snapshots; the simulation runs for count * interval_s",
                              check=_range(1e-6, 86_400.0))

    @property
    def horizon_s(self) -> float:
        return self.count * self.interval_s


@dataclass(frozen=True)
class LinkSpec:
    """Laser inter-satellite links as ns-3 point-to-point links."""

    rate_bps: float = _spec(100e9, unit="bit/s", help="data rate of every ISL (whole bit/s are used)",
                            check=_range(1.0, 1e15))
    mtu_bytes: int = _spec(1500, unit="B", help="IP MTU of every ISL device; at most 65044 in effect: the "
                            "packet engine's largest payload (65,000 B) plus the IPv4, UDP and application headers "
                            "(44 B)", check=_within(128, 65535))
    queue_packets: int = _spec(1000, unit="packets", help="drop-tail queue of every ISL device",
                               check=_range(1, 10_000_000))
    grazing_altitude_km: Optional[float] = _spec(80.0, unit="km", help="an ISL's line of sight must stay above "
                                                 "this altitude, below the orbit's (null: no line-of-sight rule)",
                                                 check=_at_least(0.0))
    max_angular_rate_rad_s: Optional[float] = _spec(None, unit="rad/s", help="an ISL exists only while its line of "
                                                    "sight turns slower than this (the paper: 0.12; null: no limit)",
                                                    check=_range(0.0, 1e3, open_low=True))
    polar_cutoff_deg: Optional[float] = _spec(None, unit="deg", help="cross-plane ISLs are off while an end is "
                                              "above this latitude (null: never)", check=_within(1e-9, 90.0))
    survival_probability: float = _spec(1.0, help="each ISL survives each snapshot with this probability "
                                        "(independent, seeded; the paper: 0.95)", check=_within(0.0, 1.0))
    relay_delay_us: float = _spec(0.0, unit="us", help="forwarding delay at every satellite a packet relays "
                                  "through (not where it starts or ends)", check=_within(0.0, 1e6))
    max_length_km: Optional[float] = _spec(None, unit="km", help="kind cluster: pairs of a cluster within this "
                                           "are mesh-link candidates, and a link longer than this at a snapshot is "
                                           "down (required for clusters; other kinds: not used)",
                                           check=_range(0.0, 1e5, open_low=True))
    terminals: Optional[int] = _spec(None, help="kind cluster: optical terminals per satellite for the cluster's mesh; "
                                     "the shortest candidates get them first, both ends free (required for "
                                     "clusters)", check=_range(1, 64))
    long_range_links: int = _spec(1, help="kind cluster, 2 or more clusters: long-range ISLs between consecutive "
                                  "clusters, each on its own terminal", check=_range(1, 64))
    long_range_max_km: float = _spec(5000.0, unit="km", help="kind cluster: the longest long-range ISL (longer: down)",
                                     check=_range(0.0, 1e5, open_low=True))
    drop_in_flight: bool = _spec(False, help="when a link goes down, lose the packets still queued or on the wire "
                                 "on it (true) or let them arrive (false); routes avoid down links either way. "
                                 "Without faults.retransmit_timeout_ms a lost packet stalls its request")
    forwarding: str = _spec("link", help="how the packet engine moves packets between satellites: 'link' (hop by "
                            "hop at the NetDevice level: the same next hops, frame sizes, queues, losses and events as "
                            "'ip', every trace equal to it; fastest), 'ip' (UDP over IPv4 through ns-3's stack at "
                            "sources and destinations; relays forward below it, with the same next hops, TTL, holding, "
                            "relay delay and queues: traces equal to 'ip-stack') or 'ip-stack' (every hop through "
                            "ns-3's traffic-control and IPv4 layers: the reference)",
                            choices=("ip", "ip-stack", "link"))

    @property
    def segment_payload_bytes(self) -> int:
        """Application payload per packet: the MTU less the IPv4, UDP and application headers."""
        return self.mtu_bytes - IPV4_HEADER_BYTES - UDP_HEADER_BYTES - APP_HEADER_BYTES

    @property
    def relay_delay_ns(self) -> int:
        """The relay forwarding delay in whole ns."""
        return int(round(self.relay_delay_us * 1000))

    def packet_sizes_bytes(self, message_bytes: int) -> list[int]:
        """On-the-wire size of each packet a message of ``message_bytes`` is cut into."""
        full, rest = divmod(message_bytes, self.segment_payload_bytes)
        sizes = [self.segment_payload_bytes] * full + ([rest] if rest else [])
        return [size + PACKET_OVERHEAD_BYTES for size in sizes]


@dataclass(frozen=True)
class RoutingSpec:
    """How packets are routed over the ISLs."""

    metric: str = _spec("delay", help="what a route minimises: 'delay' (propagation, ties toward fewer hops) or "
                        "'hops' (ties toward shorter delay)", choices=("delay", "hops"))
    no_route: str = _spec("drop", help="a packet with no route where it is: 'drop' it (its request stalls) or "
                          "'wait' there until a snapshot gives it one", choices=("drop", "wait"))


@dataclass(frozen=True)
class PlacementSpec:
    """How the constellation is cut into the layers' ring subnets."""

    subnets: str = _spec("arcs", help="'arcs': equal arcs of argument of latitude, one slot of every plane per "
                         "layer in a polar star; 'planes': whole orbital planes in ring order",
                         choices=("arcs", "planes"))
    max_shards: int = _spec(8, help="tensor-parallel strategies (space-xnet-tp, compact-tp, space-xnet-packed-tp, "
                            "compact-packed-tp): the most satellites "
                            "one layer's attention is split over, its gateway included (1: never split)",
                            check=_range(1, 64))
    max_replicas: int = _spec(2, help="replica strategies (space-xnet-replicas): the most copies of one expert, "
                              "besides the expert itself", check=_range(1, 16))
