"""Where ns-3's token latency exceeds the analytic model's on a formation cluster: every packet's
wait in every link's transmit queue, split into the wait behind packets of its own message (the
store-and-forward pipelining) and behind other messages (the queueing the analytic model leaves
out by default; with ``simulation.analytic_queueing: true`` it queues them), summed over the
messages' last packets by where the link ends (docs/clusters.md).

    python bench/gather_queueing.py topologies/suncatcher_81.yaml [--max-shards 8]

One request; diagnostic only: the queue traces are hooked from this script through cppyy (a C++
recorder compiled at run time), the harness and its engine run unchanged.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import yaml

from harness import pipeline
from harness.formats.files import YamlLoader
from harness.scenario import scenario_from_dict
import harness.simulate.packet as packet

RECORDER = r"""
#include "ns3/point-to-point-net-device.h"
#include "ns3/ppp-header.h"
#include "ns3/ipv4-header.h"
#include "ns3/queue.h"
#include "ns3/channel.h"
#include "ns3/node-list.h"
#include <vector>
#include <unordered_map>
namespace gq {
std::unordered_map<uint64_t, int64_t> enq;
std::vector<int64_t> rows;  // per dequeued packet: deq ns, enq ns, from node, to node, size, src ip, dst ip
void OnEnq(uint32_t, uint32_t, ns3::Ptr<const ns3::Packet> p) {
    enq[p->GetUid()] = ns3::Simulator::Now().GetNanoSeconds();
}
void OnDeq(uint32_t from, uint32_t to, ns3::Ptr<const ns3::Packet> p) {
    int64_t now = ns3::Simulator::Now().GetNanoSeconds();
    auto it = enq.find(p->GetUid());
    ns3::Ptr<ns3::Packet> c = p->Copy();
    ns3::PppHeader ppp; c->RemoveHeader(ppp);
    ns3::Ipv4Header ip; c->PeekHeader(ip);
    int64_t row[7] = {now, it->second, from, to, (int64_t)p->GetSize(),
                      (int64_t)ip.GetSource().Get(), (int64_t)ip.GetDestination().Get()};
    rows.insert(rows.end(), row, row + 7);
    enq.erase(it);
}
void Hook(uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) {
        ns3::Ptr<ns3::Node> node = ns3::NodeList::GetNode(i);
        for (uint32_t d = 0; d < node->GetNDevices(); ++d) {
            auto dev = ns3::DynamicCast<ns3::PointToPointNetDevice>(node->GetDevice(d));
            if (!dev) continue;
            auto ch = dev->GetChannel();
            uint32_t to = ch->GetDevice(0) == dev ? ch->GetDevice(1)->GetNode()->GetId()
                                                  : ch->GetDevice(0)->GetNode()->GetId();
            dev->GetQueue()->TraceConnectWithoutContext("Enqueue", ns3::MakeBoundCallback(&OnEnq, i, to));
            dev->GetQueue()->TraceConnectWithoutContext("Dequeue", ns3::MakeBoundCallback(&OnDeq, i, to));
        }
    }
}
}
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("--max-shards", type=int, default=None)
    args = ap.parse_args()
    raw = yaml.load(Path(args.scenario).read_text(), Loader=YamlLoader)
    raw["traffic"]["requests"] = 1
    raw.pop("power", None)
    if args.max_shards is not None:
        raw.setdefault("placement", {})["max_shards"] = args.max_shards
    sc = scenario_from_dict(raw, base_dir=Path(args.scenario).resolve().parent)

    from harness.cxx.runtime import load
    import cppyy

    ns3 = load()
    cppyy.cppdef(RECORDER)
    build = packet.build_network
    held = {}

    def hooked(ns3_, topology, *a, **k):
        out = build(ns3_, topology, *a, **k)
        cppyy.gbl.gq.Hook(topology.num_nodes)
        held["edges"] = topology.edges
        return out

    packet.build_network = hooked
    result = pipeline.run_scenario(sc)
    (trace,) = result.traces
    rows = np.array(list(cppyy.gbl.gq.rows), dtype=np.int64).reshape(-1, 7)
    edges = held["edges"]

    def node(ip):  # link e is 10.0.0.0 + 4e: .1 on edges[e, 0], .2 on edges[e, 1]
        off = ip - 0x0A000000
        return edges[off // 4, off % 4 - 1]

    deq, enq, frm, to, size = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 4]
    src, dst = node(rows[:, 5]), node(rows[:, 6])
    rate = sc.links.rate_bps
    tx = np.round(size * 8 / rate * 1e9).astype(np.int64)
    # per link, FIFO: the packets ahead of p are those dequeued before it whose transmission overlaps
    # [enq_p, deq_p); split that overlap by own (same source, destination, same source send) or other message.
    foreign = np.zeros(len(rows), dtype=np.int64)
    key = frm * 100_000 + to
    order = np.lexsort((deq, key))
    ks, ds = key[order], deq[order]
    bounds = np.flatnonzero(np.diff(ks)) + 1
    for chunk in np.split(np.arange(len(order)), bounds):
        idx = order[chunk]
        for j, p in enumerate(idx):
            if deq[p] == enq[p]:
                continue
            for q in idx[:j][::-1]:
                if deq[q] + tx[q] <= enq[p]:
                    break
                if (src[q], dst[q]) != (src[p], dst[p]):
                    foreign[p] += min(deq[q] + tx[q], deq[p]) - max(deq[q], enq[p])
    lat = (trace.token_end_ns - trace.token_start_ns).ravel()
    ana = trace.analytic_ns.ravel()
    gap = lat - ana
    gateways = set(int(g) for g in np.ravel(trace.gateways)) if hasattr(trace, "gateways") else set()
    tokens = lat.size
    print(f"tokens {tokens}: ns-3 mean {lat.mean() / 1e3:.3f} us, analytic {ana.mean() / 1e3:.3f} us, "
          f"gap mean {gap.mean():.0f} ns ({gap.mean() / ana.mean():.3%}), max {(gap / ana).max():.3%}")
    print(f"packets {len(rows)}, waited behind another message: {(foreign > 0).sum()}, "
          f"foreign wait total {foreign.sum()} ns ({foreign.sum() / tokens:.0f} ns per token)")
    last_hop = to == dst
    first_hop = frm == src
    for name, m in (("last hop into the destination", last_hop & ~first_hop),
                    ("first hop out of the source", first_hop & ~last_hop),
                    ("single-hop message (first = last)", first_hop & last_hop),
                    ("relay links", ~first_hop & ~last_hop)):
        print(f"  {name}: {foreign[m].sum() / tokens:.0f} ns per token, {(foreign[m] > 0).sum()} packets")
    into = {}
    for p in np.flatnonzero(foreign > 0):
        into.setdefault((int(frm[p]), int(to[p])), []).append(foreign[p])
    top = sorted(into.items(), key=lambda kv: -sum(kv[1]))[:8]
    print("links with most foreign wait (from -> to: ns total, packets):")
    for (a, b), w in top:
        print(f"  {a} -> {b}: {sum(w)} ns, {len(w)}")
    np.savez("/tmp/gather_queueing.npz", rows=rows, foreign=foreign, src=src, dst=dst, gap=gap)


if __name__ == "__main__":
    main()
