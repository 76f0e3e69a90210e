"""Hand-built networks for the packet-engine and analytic-model tests: a Topology from an edge
list and per-snapshot delays, and Routes from explicit next hops (with the delay and hop count of
every entry found by following them)."""

from __future__ import annotations

import dataclasses

import numpy as np

from harness.network.routes import Routes
from harness.network.topology import Topology
from harness.simulate.inputs import ServingInput, SimulationInput

SPEED_OF_LIGHT_M_S = 299_792_458.0


def topology(num_nodes: int, edges: list[tuple[int, int]], delays_ns: list[list[int]],
             interval_s: float = 1.0) -> Topology:
    delays = np.array(delays_ns, dtype=np.int64)
    return Topology(num_nodes=num_nodes, edges=np.array(edges, dtype=np.int32),
                    times_s=np.arange(len(delays)) * interval_s,
                    length_m=delays * SPEED_OF_LIGHT_M_S / 1e9, delay_ns=delays,
                    up=np.ones(delays.shape, dtype=bool))


def routes(topo: Topology, destinations: list[int], next_hops: list[dict[tuple[int, int], int]]) -> Routes:
    """Tables from {(node, destination): next node} per step, with the path delay and hop count of
    every entry found by following the next hops over the step's link delays."""
    steps, n = topo.num_snapshots, topo.num_nodes
    table = np.full((steps, n, len(destinations)), -1, dtype=np.int32)
    delay = np.full(table.shape, -1, dtype=np.int64)
    hops = np.full(table.shape, -1, dtype=np.int16)
    for s, entries in enumerate(next_hops):
        link = {}
        for (a, b), d in zip(topo.edges.tolist(), topo.delay_ns[s].tolist()):
            link[a, b] = link[b, a] = d
        for c, dest in enumerate(destinations):
            table[s, dest, c] = dest
            delay[s, dest, c] = hops[s, dest, c] = 0
        for (node, dest), nxt in entries.items():
            table[s, node, destinations.index(dest)] = nxt
        for c, dest in enumerate(destinations):
            for node in range(n):
                walk, total, count = node, 0, 0
                while walk != dest and table[s, walk, c] >= 0:
                    total += link[walk, int(table[s, walk, c])]
                    walk, count = int(table[s, walk, c]), count + 1
                if walk == dest:
                    delay[s, node, c], hops[s, node, c] = total, count
    return Routes(destinations=np.array(destinations, dtype=np.int32), next_hop=table, delay_ns=delay, hops=hops)


# The tests name both engines' inputs as one flat set of keywords (as the engines took them before
# SimulationInput); these split them into the input, the serving extras and the run's settings.
_SERVING_KEYS = {f.name for f in dataclasses.fields(ServingInput)}
_INPUT_KEYS = {f.name for f in dataclasses.fields(SimulationInput)}


def simulation_input(**kwargs) -> SimulationInput:
    return SimulationInput(**{k: v for k, v in kwargs.items() if k in _INPUT_KEYS})


def packet_run(**kwargs):
    """:func:`run_packet_sim` of the flat keywords (``seed``, ``stop_ns``, ``progress``, ``faults``,
    ``satellite_fail_ns`` are the run's; serving keywords become a ServingInput)."""
    from harness.simulate.packet import run_packet_sim

    unknown = set(kwargs) - _INPUT_KEYS - _SERVING_KEYS - {"seed", "stop_ns", "progress", "faults", "satellite_fail_ns"}
    assert not unknown, f"not a keyword of either engine: {sorted(unknown)}"
    serving = {k: v for k, v in kwargs.items() if k in _SERVING_KEYS}
    run = {k: kwargs[k] for k in ("seed", "stop_ns", "progress", "faults", "satellite_fail_ns") if k in kwargs}
    return run_packet_sim(simulation_input(**kwargs), serving=ServingInput(**serving) if serving else None, **run)


def analytic_run(**kwargs):
    """:func:`analytic_latency` of the flat keywords (``stop_ns`` is the run's)."""
    from harness.simulate.analytic import analytic_latency

    unknown = set(kwargs) - _INPUT_KEYS - {"stop_ns"}
    assert not unknown, f"not a keyword of the analytic engine: {sorted(unknown)}"
    return analytic_latency(simulation_input(**kwargs), stop_ns=kwargs.get("stop_ns"))


def socket_arrivals():
    """A C++ recorder of the times (ns) packets reach an ns-3 socket, for the forwarding tests:
    ``(Arrivals, ReadCallback)``; ``ReadCallback(arrivals)`` is the socket's receive callback.
    Defined once per process."""
    import cppyy

    cppyy.include("ns3/socket.h")
    cppyy.include("ns3/simulator.h")
    if not hasattr(cppyy.gbl, "spacexnet_tests"):
        cppyy.cppdef("""
        namespace spacexnet_tests {
        struct Arrivals {
            std::vector<int64_t> ns;
            void Read(ns3::Ptr<ns3::Socket> s) {
                while (s->Recv()) { ns.push_back(ns3::Simulator::Now().GetNanoSeconds()); }
            }
        };
        ns3::Callback<void, ns3::Ptr<ns3::Socket>> ReadCallback(Arrivals* a) {
            return ns3::MakeCallback(&Arrivals::Read, a);
        }
        }
        """)
    return cppyy.gbl.spacexnet_tests.Arrivals, cppyy.gbl.spacexnet_tests.ReadCallback
