"""Issue 23: a long run's [S, L] link delays and states are spilled to a file and the C++ engine (the
topology updater, the path graph) holds a window of snapshots of them at a time
(harness/network/spill.py, ns3 MappedRows), so what a run holds no longer grows with S.

The windowed engine must give exactly the whole-run engine's results (every token, counter and
network.npz byte, in each forwarding mode), and it must really hold only a window: the process's
mapped-in pages of the delays, sampled between the simulation's snapshots, stay near a window's
rows, where an engine that held the whole run again would map in every row."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import harness.network.routes as routes_mod
import harness.network.spill as spill_mod
import harness.simulate.packet as packet_mod
from harness.network.spill import is_spilled, release, resident_bytes, spill
from harness.pipeline import run_scenario
from harness.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
#: The serving-hour scenario (48 world cities on walker_1584: ISLs and ground links), cut short.
SNAPSHOTS = 40
#: A window that a run of SNAPSHOTS crosses many times, and does not divide.
WINDOW = 3
PAGE = 4096


def test_spill_gives_the_same_values_read_only_and_lets_go_of_them():
    """A spilled array equals its source bit for bit (dtype, shape, bytes; a view of it too), is
    read-only, and its mapped-in pages go when released while its values stay."""
    rng = np.random.default_rng(7)
    delays = rng.integers(0, 2**40, size=(300, 1000), dtype=np.int64)
    up = rng.random((300, 1000)) < 0.9
    out, out_up = spill(delays), spill(up)
    assert resident_bytes(out) == 0 and resident_bytes(out_up) == 0  # the copies went to the files
    assert is_spilled(out) and is_spilled(out_up) and is_spilled(out[:, :10]) and not is_spilled(delays)
    assert out.dtype == delays.dtype and out.shape == delays.shape and out.tobytes() == delays.tobytes()
    assert out_up.dtype == np.bool_ and out_up.tobytes() == up.tobytes()
    release(out)
    assert resident_bytes(out) == 0
    with pytest.raises(ValueError):
        out[0, 0] = 1
    assert int(out.sum()) == int(delays.sum())  # reads every row: mapped in
    assert resident_bytes(out) >= delays.nbytes - PAGE
    release(out)
    assert resident_bytes(out) == 0
    assert out[:, :10].tobytes() == delays[:, :10].tobytes()  # faulted in again from the file
    release(delays)  # not spilled: left alone
    assert resident_bytes(delays) == 0 and int(delays[0, 0]) == int(out[0, 0])


def _scenario(forwarding: str, mtu: int, **links):
    sc = load_scenario(REPO / "topologies" / "serving_hour_walker_1584.yaml")
    return dataclasses.replace(
        sc, snapshots=dataclasses.replace(sc.snapshots, count=SNAPSHOTS),
        traffic=dataclasses.replace(sc.traffic, requests=SNAPSHOTS - 10),
        links=dataclasses.replace(sc.links, forwarding=forwarding, mtu_bytes=mtu, **links),
        routing=dataclasses.replace(sc.routing, no_route="wait" if forwarding == "ip-stack" else sc.routing.no_route))


def _run(scenario, monkeypatch, spilled: bool):
    """The run, its per-snapshot state spilled with a window of WINDOW steps or held in memory; and
    the most bytes of the delays mapped into the process at any snapshot of the simulation."""
    monkeypatch.setattr(spill_mod, "SPILL_MIN_BYTES", 0 if spilled else 2**62)
    for module in (routes_mod, packet_mod):
        monkeypatch.setattr(module, "WINDOW", WINDOW)
    seen = {}
    real = packet_mod.build_network

    def build_network(ns3, topology, *args, **kwargs):
        seen["topology"] = topology
        seen["resident"] = 0
        return real(ns3, topology, *args, **kwargs)

    def progress(name, simulated_s, horizon_s, done, total):
        seen["resident"] = max(seen["resident"], resident_bytes(seen["topology"].delay_ns))

    results = {}
    real_sim = packet_mod.run_packet_sim

    def run_packet_sim(*args, **kwargs):
        results["sim"] = real_sim(*args, **kwargs)
        return results["sim"]

    monkeypatch.setattr(packet_mod, "build_network", build_network)
    import harness.run.strategy as strategy_mod
    monkeypatch.setattr(strategy_mod, "run_packet_sim", run_packet_sim)
    result = run_scenario(scenario, progress=progress, jobs=1)
    assert is_spilled(seen["topology"].delay_ns) == spilled
    return result, results["sim"], seen["resident"], seen["topology"]


@pytest.mark.parametrize("forwarding, mtu, links", [
    ("link", 9000, {}),                          # the fastest mode
    ("ip", 1500, {"drop_in_flight": True}),      # the default engine; link states lose packets in flight
    ("ip-stack", 1500, {}),                      # the reference stack, no_route: wait
])
def test_windowed_engine_equals_the_whole_run_and_holds_a_window(forwarding, mtu, links, monkeypatch):
    """The same tokens, records, counters and network.npz bytes with the state spilled and read a
    window of WINDOW snapshots at a time as with it in memory; and the windowed run's updater and
    path graph held at most WINDOW snapshots between releases, released many times over the run,
    and the delays' pages mapped into the process stayed near a window's rows (the whole run's
    would be SNAPSHOTS rows)."""
    scenario = _scenario(forwarding, mtu, **links)
    whole, whole_sim, whole_resident, _ = _run(scenario, monkeypatch, spilled=False)
    windowed, sim, resident, topology = _run(scenario, monkeypatch, spilled=True)

    assert whole.network == windowed.network
    (a,), (b,) = whole.traces, windowed.traces
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), field.name
        elif field.name != "serving":
            assert x == y, field.name
    for name in ("token_end_ns", "combine_ns", "user_token_ns"):
        assert getattr(whole_sim, name).tobytes() == getattr(sim, name).tobytes(), name
    assert whole_sim.packet_hops == sim.packet_hops and whole_sim.routing_nodes_settled == sim.routing_nodes_settled
    assert (sim.token_end_ns >= 0).sum() > 0  # tokens did cross the network

    # The engine held a window, not the run (its own counts; the pages it mapped in are measured on
    # a longer run below: this one is too short to tell a window from the run by pages).
    assert whole_sim.delay_steps_held == 0 and 1 <= sim.delay_steps_held <= WINDOW


#: The synthetic network below: many short steps of a few hundred links.
STEPS, NODES, CHORDS = 6000, 50, 8
#: Pages the process may map in around a row it reads (the kernel maps a whole folio of the file,
#: 512 KiB here) times the readers, beyond the window's rows themselves.
AROUND = 4 << 20


def _ring(spilled: bool):
    """A ring of NODES with chords (CHORDS links per node), STEPS steps of 1 ms, each link's delay
    changing every step: [STEPS, L] int64 delays of 19 MB."""
    from harness.network.topology import Topology

    edges = np.array([(i, (i + k) % NODES) for k in range(1, CHORDS + 1) for i in range(NODES)], dtype=np.int32)
    steps = np.arange(STEPS, dtype=np.int64)[:, None]
    delays = 1_000_000 + 1_000 * ((steps * 7 + np.arange(len(edges))[None, :] * 13) % 97)
    up = np.ones(delays.shape, dtype=bool)
    if spilled:
        delays, up = spill(delays), spill(up)
    return Topology(num_nodes=NODES, edges=edges, times_s=np.arange(STEPS) * 1e-3,
                    length_m=np.broadcast_to(np.array(np.nan), delays.shape), delay_ns=delays, up=up)


@pytest.mark.parametrize("window", [16, 0])
def test_the_engine_maps_in_a_window_of_the_delays_not_the_run(window, monkeypatch):
    """The topology updater applying every step, and the path graph answering a query at every
    step, with the delays spilled: the delays' pages mapped into the process, sampled as the run
    goes, stay within a window's rows (plus the kernel's mapping granularity), where the same run
    with no window (0: what an engine holding the whole run does) maps in nearly every row, the
    measurement failing as it should."""
    from harness.cxx.runtime import load
    from harness.network.routes import PathQuery
    from harness.scenario import LinkSpec

    for module in (routes_mod, packet_mod):
        monkeypatch.setattr(module, "WINDOW", window)
    topo = _ring(spilled=True)
    whole = topo.delay_ns.nbytes
    assert whole > 4 * AROUND
    paths = PathQuery(topo)
    ns3 = load()
    nodes, network, updater, table = packet_mod.build_network(ns3, topo, paths, LinkSpec(rate_bps=1e9))
    release(topo.delay_ns, topo.up)
    most = 0
    for first in range(0, STEPS, 250):
        ns3.Simulator.Stop(ns3.NanoSeconds((first + 250) * 1_000_000) - ns3.Simulator.Now())
        ns3.Simulator.Run()  # the updater applies these 250 steps
        steps = np.arange(first, first + 250)
        paths.lookup(steps, np.zeros(250, int), np.full(250, NODES // 2))
        most = max(most, resident_bytes(topo.delay_ns))
    ns3.Simulator.Destroy()
    if window:
        assert 1 <= int(updater.GetMaxStepsHeld()) <= window and int(paths.native.GetMaxStepsHeld()) <= window
        assert int(updater.GetReleases()) >= STEPS // window and int(paths.native.GetReleases()) >= STEPS // window
        assert most <= 2 * window * topo.delay_ns.strides[0] + AROUND, (most, whole)
    else:
        assert int(updater.GetReleases()) == 0 and int(updater.GetMaxStepsHeld()) == 0
        assert most >= 0.9 * whole, (most, whole)
    # the windowed graph's answers are those of the same graph held in memory
    mem = PathQuery(_ring(spilled=False))
    steps = np.arange(STEPS - 250, STEPS)
    assert (mem.lookup(steps, np.zeros(250, int), np.full(250, NODES // 2))[0] ==
            paths.lookup(steps, np.zeros(250, int), np.full(250, NODES // 2))[0]).all()


def test_spill_empty_is_a_writable_file_array_that_keeps_what_was_written():
    """spill.empty: zeros in a file, written a block at a time and released between blocks, reads
    back what was written (the pages let go keep their data in the file)."""
    out = spill_mod.empty((500, 700), np.int64)
    assert is_spilled(out) and out.flags.writeable and not out.any()
    expected = np.arange(500 * 700, dtype=np.int64).reshape(500, 700) * 3
    for first in range(0, 500, 64):
        out[first:first + 64] = expected[first:first + 64]
        release(out)
        assert resident_bytes(out) == 0
    assert out.tobytes() == expected.tobytes()
    assert spill_mod.SPILL_MIN_BYTES == 0  # the default spills every array


def test_prepare_makes_the_state_in_files_and_the_placement_shares_it(monkeypatch):
    """prepare's [S, L] delays and link states are made in files (spilled, block by block), the
    placement input's are views of the same files (not copies), and they hold the values of the
    same arrays made in memory."""
    from harness.run.prepare import prepare

    scenario = _scenario("link", 9000)
    prep = prepare(scenario)
    t = prep.topology
    assert is_spilled(t.delay_ns) and is_spilled(t.up) and t.feasible is t.up
    assert is_spilled(prep.inputs.topology.delay_ns) and np.shares_memory(prep.inputs.topology.delay_ns, t.delay_ns)
    assert all(is_spilled(steps) for steps in prep.map_steps)
    monkeypatch.setattr(spill_mod, "SPILL_MIN_BYTES", 2**62)
    mem = prepare(scenario)
    assert not is_spilled(mem.topology.delay_ns)
    for name in ("delay_ns", "up"):
        assert getattr(t, name).tobytes() == getattr(mem.topology, name).tobytes(), name


def test_streamed_tables_are_the_texts_bytes(tmp_path, monkeypatch):
    """tokens.csv and layers.csv written a block of rows at a time into their files are the bytes of
    the whole texts written at once (a serving run with users: the cities' tables; blocks of 7 rows)."""
    from harness.formats import results as formats

    monkeypatch.setattr(formats, "_ROW_BLOCK", 7)
    result = run_scenario(_scenario("link", 9000), jobs=1)
    for name, make in (("tokens.csv", formats.tokens_csv), ("layers.csv", formats.layers_csv)):
        formats.write_files(tmp_path / "whole", {name: make(result.traces)})
        formats.write_streamed(tmp_path / "streamed", name, lambda f: make(result.traces, f))
        whole, streamed = (tmp_path / "whole" / name).read_bytes(), (tmp_path / "streamed" / name).read_bytes()
        assert whole == streamed and whole.count(b"\n") > 100


def test_results_read_narrow_are_the_same_columns(tmp_path):
    """read_results with layer_columns keeps those columns of layers.csv (and request, token, layer),
    equal to the whole read's; the summary made from it is the whole read's."""
    from harness.analysis.summary import summarize
    from harness.formats import results as formats
    from harness.run.write import write_run

    scenario = load_scenario(REPO / "topologies" / "tiny.yaml")
    write_run(scenario, run_scenario(scenario, jobs=1), tmp_path / "out", "")
    whole = formats.read_results(tmp_path / "out")
    narrow = formats.read_results(tmp_path / "out", layer_columns=("t_combine_ns",))
    for name, cols in whole.layers.items():
        assert set(narrow.layers[name]) == {"request", "token", "layer", "t_combine_ns"} and len(cols) > 4
        for column, values in narrow.layers[name].items():
            assert values.dtype == cols[column].dtype and values.tobytes() == cols[column].tobytes()
    assert summarize(narrow) == summarize(whole)


def test_write_run_releasing_the_traces_writes_the_same_files(tmp_path):
    """``write_run(..., release=True)`` (what ``harness run`` does) empties the run's traces before
    the read-back, and every file and the summary are those of a run that keeps them."""
    from harness.run.write import write_run

    scenario = load_scenario(REPO / "topologies" / "tiny.yaml")
    result = run_scenario(scenario, jobs=1)
    kept = write_run(scenario, result, tmp_path / "kept", "name: tiny\n")
    assert result.traces
    released = write_run(scenario, result, tmp_path / "released", "name: tiny\n", release=True)
    assert result.traces == [] and released == kept
    files = sorted(p.relative_to(tmp_path / "kept") for p in (tmp_path / "kept").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "released") for p in (tmp_path / "released").rglob("*")
                           if p.is_file())
    for name in files:
        assert (tmp_path / "kept" / name).read_bytes() == (tmp_path / "released" / name).read_bytes(), name


MOUNTINFO = """\
22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
25 22 0:21 / /tmp rw,nosuid shared:5 - tmpfs tmpfs rw,size=8g
26 22 0:22 / /home/user/.cache rw shared:6 - ext4 /dev/vdb1 rw
27 22 0:23 / /mnt/my\\040disk rw shared:7 - xfs /dev/vdc1 rw
"""


def test_the_file_system_under_a_path_is_its_longest_mount_point():
    assert spill_mod.filesystem_type("/tmp/x", MOUNTINFO) == "tmpfs"
    assert spill_mod.filesystem_type("/tmpfoo", MOUNTINFO) == "ext4"  # not under /tmp
    assert spill_mod.filesystem_type("/home/user/.cache/a", MOUNTINFO) == "ext4"
    assert spill_mod.filesystem_type("/mnt/my disk/b", MOUNTINFO) == "xfs"
    assert spill_mod.filesystem_type("/x", "garbage\n") is None


def test_spill_files_avoid_a_ram_backed_temporary_directory(monkeypatch, tmp_path):
    monkeypatch.delenv(spill_mod.SPILL_DIR_ENV, raising=False)
    monkeypatch.setattr(spill_mod.tempfile, "gettempdir", lambda: "/tmp")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    kinds = {"/tmp": "tmpfs", str(tmp_path): "ext4"}
    monkeypatch.setattr(spill_mod, "filesystem_type", lambda path: kinds[path])
    assert spill_mod.spill_directory() == str(tmp_path)
    kinds["/tmp"] = "ext4"
    assert spill_mod.spill_directory() == "/tmp"
    monkeypatch.setenv(spill_mod.SPILL_DIR_ENV, str(tmp_path / "mine"))
    assert spill_mod.spill_directory() == str(tmp_path / "mine")


def test_a_spill_folder_that_cannot_take_the_file_is_one_error(monkeypatch, tmp_path):
    from harness.errors import HarnessError

    monkeypatch.setenv(spill_mod.SPILL_DIR_ENV, str(tmp_path / "missing"))
    with pytest.raises(HarnessError, match="SPACEXNET_SPILL_DIR"):
        spill_mod.empty((8, 4), np.int64)
    monkeypatch.setenv(spill_mod.SPILL_DIR_ENV, str(tmp_path))
    made = spill_mod.empty((8, 4), np.int64)
    assert made.shape == (8, 4) and not made.any() and spill_mod.is_spilled(made)
