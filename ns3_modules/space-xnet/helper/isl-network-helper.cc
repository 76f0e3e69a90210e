/*
 * Space-XNet: builds the satellites, their laser ISLs and the table-routed internet stack.
 */
#include "isl-network-helper.h"

#include "ns3/abort.h"
#include "ns3/forwarding-table-routing.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/ipv4.h"
#include "ns3/ip-relay.h"
#include "ns3/link-forwarder.h"
#include "ns3/link-socket.h"
#include "ns3/log.h"
#include "ns3/point-to-point-channel.h"
#include "ns3/point-to-point-net-device.h"
#include "ns3/pointer.h"
#include "ns3/queue.h"
#include "ns3/traffic-control-helper.h"
#include "ns3/uinteger.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("IslNetworkHelper");

ForwardingTableRoutingHelper::ForwardingTableRoutingHelper(Ptr<ForwardingTable> table)
    : m_table(table)
{
    m_factory.SetTypeId(ForwardingTableRouting::GetTypeId());
}

void
ForwardingTableRoutingHelper::Set(std::string name, const AttributeValue& value)
{
    m_factory.Set(name, value);
}

ForwardingTableRoutingHelper*
ForwardingTableRoutingHelper::Copy() const
{
    return new ForwardingTableRoutingHelper(*this);
}

Ptr<Ipv4RoutingProtocol>
ForwardingTableRoutingHelper::Create(Ptr<Node> node) const
{
    Ptr<ForwardingTableRouting> routing = m_factory.Create<ForwardingTableRouting>();
    routing->SetAttribute("Table", PointerValue(m_table));
    routing->SetNodeIndex(node->GetId());
    return routing;
}

IslNetworkHelper::IslNetworkHelper()
{
    m_p2p.SetQueue("ns3::DropTailQueue<Packet>");
}

void
IslNetworkHelper::SetDeviceAttribute(std::string name, const AttributeValue& value)
{
    m_p2p.SetDeviceAttribute(name, value);
}

void
IslNetworkHelper::SetQueueAttribute(std::string name, const AttributeValue& value)
{
    m_p2p.SetQueue("ns3::DropTailQueue<Packet>", name, value);
}

void
IslNetworkHelper::SetRoutingAttribute(std::string name, const AttributeValue& value)
{
    m_routingAttributes.emplace_back(name, value.Copy());
}

void
IslNetworkHelper::SetLinkForwarding(bool enable)
{
    m_linkForwarding = enable;
}

void
IslNetworkHelper::SetIpRelay(bool enable)
{
    m_ipRelay = enable;
}

NodeContainer
IslNetworkHelper::Install(uint32_t numNodes,
                          const int32_t* edges,
                          uint32_t numEdges,
                          Ptr<ForwardingTable> table,
                          Ptr<TopologyUpdater> updater)
{
    NS_LOG_FUNCTION(this << numNodes << numEdges);
    NS_ABORT_MSG_IF(table->GetNNodes() != numNodes, "ForwardingTable sized for another network");
    NodeContainer nodes;
    nodes.Create(numNodes);
    // Node ids are global across a run; the routing protocol indexes the table by position.
    uint32_t firstId = nodes.Get(0)->GetId();

    InternetStackHelper stack;
    stack.SetIpv6StackInstall(false);
    ForwardingTableRoutingHelper routing(table);
    for (const auto& [name, value] : m_routingAttributes)
    {
        routing.Set(name, *value);
    }
    stack.SetRoutingHelper(routing);
    stack.Install(nodes);
    for (uint32_t n = 0; n < numNodes; ++n)
    {
        // Paths across a large shell can be longer than IPv4's usual 64 hops (80 x 80 Walker delta:
        // up to 72): allow the most a header can carry, and count what still expires.
        Ptr<Ipv4L3Protocol> l3 = nodes.Get(n)->GetObject<Ipv4L3Protocol>();
        l3->SetAttribute("DefaultTtl", UintegerValue(MAX_TTL));
        l3->TraceConnectWithoutContext("Drop", MakeCallback(&IslNetworkHelper::CountIpDrop, this));
        if (m_linkForwarding)
        {
            Ptr<LinkForwarder> forwarder = CreateObject<LinkForwarder>();
            for (const auto& [name, value] : m_routingAttributes)
            {
                forwarder->SetAttribute(name, *value);
            }
            forwarder->Configure(table, n);
            nodes.Get(n)->AggregateObject(forwarder);
            nodes.Get(n)->AggregateObject(CreateObject<LinkSocketFactory>());
        }
        else if (m_ipRelay)
        {
            Ptr<IpRelay> relay = CreateObject<IpRelay>();
            nodes.Get(n)->AggregateObject(relay);
            relay->Configure(table, n);
        }
    }

    // Link e is the /30 network 10.0.0.0 + 4e: a gets .1, b gets .2 of it (what Ipv4AddressHelper
    // would assign, network after network). The addresses are set directly: the helper's global
    // collision check walks every earlier allocation, O(links^2), about a second per network here.
    NS_ABORT_MSG_IF(static_cast<uint64_t>(numEdges) * 4 > (1u << 24), "too many links for 10.0.0.0/8");
    const Ipv4Mask mask("255.255.255.252");
    for (uint32_t e = 0; e < numEdges; ++e)
    {
        int32_t a = edges[2 * e];
        int32_t b = edges[2 * e + 1];
        NS_ABORT_MSG_IF(a < 0 || b < 0 || static_cast<uint32_t>(a) >= numNodes ||
                            static_cast<uint32_t>(b) >= numNodes || a == b,
                        "bad edge " << e << ": (" << a << ", " << b << ")");
        NetDeviceContainer devices = m_p2p.Install(nodes.Get(a), nodes.Get(b));
        m_devices.Add(devices);
        const uint32_t network = 0x0A000000u + 4 * e;
        Ipv4Address address[2] = {Ipv4Address(network + 1), Ipv4Address(network + 2)};
        for (int side = 0; side < 2; ++side)
        {
            Ptr<Ipv4> ipv4 = nodes.Get(side == 0 ? a : b)->GetObject<Ipv4>();
            int32_t iface = ipv4->GetInterfaceForDevice(devices.Get(side));
            if (iface < 0)
            {
                iface = static_cast<int32_t>(ipv4->AddInterface(devices.Get(side)));
            }
            ipv4->AddAddress(iface, Ipv4InterfaceAddress(address[side], mask));
            ipv4->SetMetric(iface, 1);
            ipv4->SetUp(iface);
            Ptr<ForwardingTableRouting> r = DynamicCast<ForwardingTableRouting>(ipv4->GetRoutingProtocol());
            NS_ABORT_MSG_IF(!r, "node does not route with ForwardingTableRouting");
            r->SetNodeIndex(nodes.Get(side == 0 ? a : b)->GetId() - firstId);
            r->AddNeighbour(side == 0 ? b : a, iface, address[1 - side]);
        }
        if (m_linkForwarding)
        {
            // The devices' frames go to the LinkForwarder instead of the node's protocol handlers.
            for (int side = 0; side < 2; ++side)
            {
                Ptr<LinkForwarder> forwarder = nodes.Get(side == 0 ? a : b)->GetObject<LinkForwarder>();
                forwarder->AddNeighbour(side == 0 ? b : a, devices.Get(side));
                devices.Get(side)->SetReceiveCallback(MakeCallback(&LinkForwarder::Receive, forwarder));
            }
        }
        if (m_ipRelay && !m_linkForwarding)
        {
            // The devices' packets go to the IpRelay, which hands those it does not relay to the
            // traffic-control layer, as the node's protocol dispatch did.
            for (int side = 0; side < 2; ++side)
            {
                nodes.Get(side == 0 ? a : b)->GetObject<IpRelay>()->AddDevice(devices.Get(side));
            }
        }
        table->AddAddress(address[0], a);
        table->AddAddress(address[1], b);
        updater->AddChannel(DynamicCast<PointToPointChannel>(devices.Get(0)->GetChannel()));
    }
    m_nodes.Add(nodes);
    return nodes;
}

void
IslNetworkHelper::SetLinkDataRate(uint32_t first, uint32_t count, DataRate rate)
{
    NS_ABORT_MSG_IF(2 * (static_cast<uint64_t>(first) + count) > m_devices.GetN(), "SetLinkDataRate: no such link");
    for (uint32_t d = 2 * first; d < 2 * (first + count); ++d)
    {
        DynamicCast<PointToPointNetDevice>(m_devices.Get(d))->SetDataRate(rate);
    }
}

void
IslNetworkHelper::CountIpDrop(const Ipv4Header& header,
                              Ptr<const Packet> packet,
                              Ipv4L3Protocol::DropReason reason,
                              Ptr<Ipv4> ipv4,
                              uint32_t interface)
{
    if (reason == Ipv4L3Protocol::DROP_TTL_EXPIRED)
    {
        ++m_ttlExpired;
    }
}

uint64_t
IslNetworkHelper::GetTtlExpiredPackets() const
{
    return m_ttlExpired + SumOverForwarders(&LinkForwarder::GetTtlExpiredPackets);
}

Ipv4Address
IslNetworkHelper::GetNodeAddress(Ptr<Node> node)
{
    Ptr<Ipv4> ipv4 = node->GetObject<Ipv4>();
    NS_ABORT_MSG_IF(!ipv4 || ipv4->GetNInterfaces() < 2, "node " << node->GetId() << " has no ISL");
    return ipv4->GetAddress(1, 0).GetLocal();
}

template <typename Getter>
uint64_t
IslNetworkHelper::SumOverRouting(Getter getter) const
{
    uint64_t total = 0;
    for (auto it = m_nodes.Begin(); it != m_nodes.End(); ++it)
    {
        Ptr<ForwardingTableRouting> r =
            DynamicCast<ForwardingTableRouting>((*it)->GetObject<Ipv4>()->GetRoutingProtocol());
        total += ((*r).*getter)();
    }
    return total;
}

template <typename Getter>
uint64_t
IslNetworkHelper::SumOverForwarders(Getter getter) const
{
    uint64_t total = 0;
    for (auto it = m_nodes.Begin(); m_linkForwarding && it != m_nodes.End(); ++it)
    {
        total += ((*(*it)->GetObject<LinkForwarder>()).*getter)();
    }
    return total;
}

uint64_t
IslNetworkHelper::GetRoutingDroppedPackets() const
{
    return SumOverRouting(&ForwardingTableRouting::GetDroppedPackets) +
           SumOverForwarders(&LinkForwarder::GetDroppedPackets);
}

uint64_t
IslNetworkHelper::GetHeldPackets() const
{
    return SumOverRouting(&ForwardingTableRouting::GetHeldPackets) +
           SumOverForwarders(&LinkForwarder::GetHeldPackets);
}

uint64_t
IslNetworkHelper::GetHeldNs() const
{
    return SumOverRouting(&ForwardingTableRouting::GetHeldNs) + SumOverForwarders(&LinkForwarder::GetHeldNs);
}

uint64_t
IslNetworkHelper::SumOverQueues(QueueCounter counter) const
{
    uint64_t total = 0;
    for (auto it = m_devices.Begin(); it != m_devices.End(); ++it)
    {
        Ptr<Queue<Packet>> queue = DynamicCast<PointToPointNetDevice>(*it)->GetQueue();
        total += ((*queue).*counter)();
    }
    return total;
}

uint64_t
IslNetworkHelper::GetQueueDroppedPackets() const
{
    return SumOverQueues(&QueueBase::GetTotalDroppedPackets);
}

uint64_t
IslNetworkHelper::GetPacketHops() const
{
    // Every hop a packet takes passes one device queue.
    return SumOverQueues(&QueueBase::GetTotalReceivedPackets);
}

} // namespace ns3
