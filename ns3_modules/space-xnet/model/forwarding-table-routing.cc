/*
 * Space-XNet: an Ipv4RoutingProtocol that forwards by a dense next-hop table.
 */
#include "forwarding-table-routing.h"

#include "ns3/boolean.h"
#include "ns3/ipv4-route.h"
#include "ns3/log.h"
#include "ns3/output-stream-wrapper.h"
#include "ns3/pointer.h"
#include "ns3/simulator.h"

#include <iomanip>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("ForwardingTableRouting");
NS_OBJECT_ENSURE_REGISTERED(ForwardingTableRouting);

TypeId
ForwardingTableRouting::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::ForwardingTableRouting")
            .SetParent<Ipv4RoutingProtocol>()
            .SetGroupName("SpaceXNet")
            .AddConstructor<ForwardingTableRouting>()
            .AddAttribute("Table",
                          "The ForwardingTable shared by every node of the network.",
                          PointerValue(),
                          MakePointerAccessor(&ForwardingTableRouting::m_table),
                          MakePointerChecker<ForwardingTable>())
            .AddAttribute("RelayDelay",
                          "Time a relaying node holds a packet before it forwards it (processing, "
                          "switching); not applied where a packet starts or ends.",
                          TimeValue(Seconds(0)),
                          MakeTimeAccessor(&ForwardingTableRouting::m_relayDelay),
                          MakeTimeChecker(Seconds(0)))
            .AddAttribute("HoldWithoutRoute",
                          "Hold a packet that has no route where it is until a step change gives it "
                          "one, instead of dropping it.",
                          BooleanValue(false),
                          MakeBooleanAccessor(&ForwardingTableRouting::m_holdWithoutRoute),
                          MakeBooleanChecker())
            .AddTraceSource("Drop",
                            "A packet was dropped because its destination is unknown or unreachable.",
                            MakeTraceSourceAccessor(&ForwardingTableRouting::m_dropTrace),
                            "ns3::ForwardingTableRouting::DropTracedCallback");
    return tid;
}

ForwardingTableRouting::ForwardingTableRouting()
    : m_nodeIndex(0),
      m_dropped(0),
      m_holdWithoutRoute(false),
      m_relay(this, m_table, m_relayDelay, m_holdWithoutRoute)
{
}

ForwardingTableRouting::~ForwardingTableRouting() = default;

void
ForwardingTableRouting::DoDispose()
{
    m_relay.Dispose();
    m_ipv4 = nullptr;
    m_table = nullptr;
    m_neighbours.clear();
    Ipv4RoutingProtocol::DoDispose();
}

void
ForwardingTableRouting::AddNeighbour(uint32_t neighbour, uint32_t interface, Ipv4Address neighbourAddress)
{
    m_neighbours.push_back(Neighbour{neighbour, interface, neighbourAddress});
}

void
ForwardingTableRouting::SetNodeIndex(uint32_t index)
{
    m_nodeIndex = index;
}

uint64_t
ForwardingTableRouting::GetDroppedPackets() const
{
    return m_dropped;
}

uint64_t
ForwardingTableRouting::GetHeldPackets() const
{
    return m_relay.GetHeldPackets();
}

uint64_t
ForwardingTableRouting::GetHeldNs() const
{
    return m_relay.GetHeldNs();
}

Ptr<Ipv4Route>
ForwardingTableRouting::LoopbackRoute(const Ipv4Header& header) const
{
    Ptr<Ipv4Route> route = Create<Ipv4Route>();
    route->SetDestination(header.GetDestination());
    route->SetGateway(Ipv4Address::GetLoopback());
    // The source address the packet will carry: this node's first ISL interface.
    route->SetSource(m_ipv4->GetAddress(m_neighbours.empty() ? 0 : m_neighbours.front().interface, 0).GetLocal());
    route->SetOutputDevice(m_ipv4->GetNetDevice(0)); // interface 0 is the loopback
    return route;
}

Ptr<Ipv4Route>
ForwardingTableRouting::RelayHoldLookup(const Pending& pending) const
{
    return Lookup(pending.header.GetDestination());
}

void
ForwardingTableRouting::RelayHoldSend(Ptr<Ipv4Route> route, Pending& pending)
{
    pending.forward(route, pending.packet, pending.header);
}

void
ForwardingTableRouting::RelayHoldDrop(Pending& pending)
{
    CountDrop(pending.packet, pending.header);
}

bool
ForwardingTableRouting::CanHold(const Ipv4Header& header) const
{
    // Only a packet for a known node can wait for a route to it.
    return m_holdWithoutRoute && m_table->GetNodeOfAddress(header.GetDestination()) >= 0;
}

void
ForwardingTableRouting::Hold(Ptr<const Packet> p,
                             const Ipv4Header& header,
                             const UnicastForwardCallback& ucb,
                             bool relay)
{
    NS_LOG_LOGIC("node " << m_nodeIndex << " holds a packet for " << header.GetDestination());
    m_relay.Hold(Pending{p, header, ucb}, relay);
}

Ptr<Ipv4Route>
ForwardingTableRouting::Lookup(Ipv4Address destination) const
{
    int32_t destNode = m_table->GetNodeOfAddress(destination);
    if (destNode < 0)
    {
        return nullptr;
    }
    return LookupNode(destNode, destination);
}

Ptr<Ipv4Route>
ForwardingTableRouting::LookupNode(int32_t destNode, Ipv4Address destination) const
{
    int32_t next = m_table->GetNextHop(m_nodeIndex, static_cast<uint32_t>(destNode));
    if (next < 0 || static_cast<uint32_t>(next) == m_nodeIndex)
    {
        return nullptr;
    }
    for (const auto& n : m_neighbours)
    {
        if (n.node == static_cast<uint32_t>(next))
        {
            if (!n.route)
            {
                n.route = Create<Ipv4Route>();
                n.route->SetGateway(n.address);
                n.route->SetSource(m_ipv4->GetAddress(n.interface, 0).GetLocal());
                n.route->SetOutputDevice(m_ipv4->GetNetDevice(n.interface));
            }
            n.route->SetDestination(destination);
            return n.route;
        }
    }
    NS_LOG_WARN("node " << m_nodeIndex << ": next hop " << next << " is not a neighbour");
    return nullptr;
}

void
ForwardingTableRouting::CountDrop(Ptr<const Packet> p, const Ipv4Header& header)
{
    ++m_dropped;
    m_dropTrace(p, header);
}

Ptr<Ipv4Route>
ForwardingTableRouting::RouteOutput(Ptr<Packet> p,
                                    const Ipv4Header& header,
                                    Ptr<NetDevice> oif,
                                    Socket::SocketErrno& sockerr)
{
    Ptr<Ipv4Route> route = Lookup(header.GetDestination());
    if (!route && CanHold(header))
    {
        sockerr = Socket::ERROR_NOTERROR;
        return LoopbackRoute(header); // held when it comes back through RouteInput
    }
    if (!route)
    {
        sockerr = Socket::ERROR_NOROUTETOHOST;
        if (p)
        {
            CountDrop(p, header);
        }
        return nullptr;
    }
    sockerr = Socket::ERROR_NOTERROR;
    return route;
}

bool
ForwardingTableRouting::RouteInput(Ptr<const Packet> p,
                                   const Ipv4Header& header,
                                   Ptr<const NetDevice> idev,
                                   const UnicastForwardCallback& ucb,
                                   const MulticastForwardCallback& mcb,
                                   const LocalDeliverCallback& lcb,
                                   const ErrorCallback& ecb)
{
    // The common case first: a packet for another node of the network (every ISL address is
    // unique to its node, so it cannot be one of this node's) goes straight to its next hop.
    int32_t destNode = m_table->GetNodeOfAddress(header.GetDestination());
    if (destNode >= 0 && static_cast<uint32_t>(destNode) != m_nodeIndex && m_relayDelay.IsZero())
    {
        Ptr<Ipv4Route> route = LookupNode(destNode, header.GetDestination());
        if (route)
        {
            ucb(route, p, header);
            return true;
        }
    }
    int32_t iif = m_ipv4->GetInterfaceForDevice(idev);
    if (m_ipv4->IsDestinationAddress(header.GetDestination(), iif))
    {
        if (!lcb.IsNull())
        {
            lcb(p, header, iif);
            return true;
        }
        return false;
    }
    Ptr<Ipv4Route> route = Lookup(header.GetDestination());
    // A packet sent from this node comes in through the loopback (interface 0) only when it was
    // deferred by RouteOutput: it is at its source, not at a relay.
    auto atRelay = [&]() { return m_ipv4->GetInterfaceForDevice(idev) != 0; };
    if (!route && CanHold(header))
    {
        Hold(p, header, ucb, atRelay());
        return true;
    }
    if (!route)
    {
        CountDrop(p, header);
        if (!ecb.IsNull())
        {
            ecb(p, header, Socket::ERROR_NOROUTETOHOST);
        }
        return true; // handled: dropped and counted
    }
    if (m_relayDelay.IsZero())
    {
        ucb(route, p, header);
        return true;
    }
    Pending pending{p, header, ucb};
    m_relay.Forward(route, pending, atRelay());
    return true;
}

bool
ForwardingTableRouting::RouteRelay(Ptr<const Packet> p,
                                   const Ipv4Header& header,
                                   int32_t destNode,
                                   const UnicastForwardCallback& forward)
{
    // RouteInput's branches for a packet at a relay (not one of this node's addresses, not the
    // loopback): the same lookup, holding and relay delay.
    Ptr<Ipv4Route> route = LookupNode(destNode, header.GetDestination());
    if (!route)
    {
        if (!CanHold(header))
        {
            return false;
        }
        Hold(p, header, forward, true);
        return true;
    }
    if (m_relayDelay.IsZero())
    {
        forward(route, p, header);
        return true;
    }
    Pending pending{p, header, forward};
    m_relay.Forward(route, pending, true);
    return true;
}

void
ForwardingTableRouting::NotifyInterfaceUp(uint32_t interface)
{
}

void
ForwardingTableRouting::NotifyInterfaceDown(uint32_t interface)
{
}

void
ForwardingTableRouting::NotifyAddAddress(uint32_t interface, Ipv4InterfaceAddress address)
{
}

void
ForwardingTableRouting::NotifyRemoveAddress(uint32_t interface, Ipv4InterfaceAddress address)
{
}

void
ForwardingTableRouting::SetIpv4(Ptr<Ipv4> ipv4)
{
    m_ipv4 = ipv4;
}

void
ForwardingTableRouting::PrintRoutingTable(Ptr<OutputStreamWrapper> stream, Time::Unit unit) const
{
    std::ostream& os = *stream->GetStream();
    os << "Node " << m_nodeIndex << ", time " << Simulator::Now().As(unit) << ", step "
       << m_table->GetStep() << ", ForwardingTableRouting\n";
    for (const auto& n : m_neighbours)
    {
        os << "  neighbour " << std::setw(6) << n.node << " via interface " << n.interface << " ("
           << n.address << ")\n";
    }
}

} // namespace ns3
