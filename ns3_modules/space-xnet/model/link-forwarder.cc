/*
 * Space-XNet: link-level forwarding (links.forwarding: link), a lean alternative to the IPv4 path.
 */
#include "link-forwarder.h"

#include "ns3/boolean.h"
#include "ns3/inet-socket-address.h"
#include "ns3/ip-relay.h"
#include "ns3/ipv4.h"
#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/simulator.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("LinkForwarder");
NS_OBJECT_ENSURE_REGISTERED(LinkForwardingHeader);
NS_OBJECT_ENSURE_REGISTERED(LinkForwarder);

TypeId
LinkForwardingHeader::GetTypeId()
{
    static TypeId tid = TypeId("ns3::LinkForwardingHeader")
                            .SetParent<Header>()
                            .SetGroupName("SpaceXNet")
                            .AddConstructor<LinkForwardingHeader>();
    return tid;
}

TypeId
LinkForwardingHeader::GetInstanceTypeId() const
{
    return GetTypeId();
}

LinkForwardingHeader::LinkForwardingHeader()
    : m_destination(0),
      m_port(0),
      m_ttl(0),
      m_source(Ipv4Address::GetAny()),
      m_sourcePort(0)
{
}

LinkForwardingHeader::LinkForwardingHeader(uint32_t destination,
                                           uint16_t port,
                                           uint8_t ttl,
                                           Ipv4Address source,
                                           uint16_t sourcePort)
    : m_destination(destination),
      m_port(port),
      m_ttl(ttl),
      m_source(source),
      m_sourcePort(sourcePort)
{
}

uint32_t
LinkForwardingHeader::GetSerializedSize() const
{
    return SIZE;
}

void
LinkForwardingHeader::Serialize(Buffer::Iterator start) const
{
    start.WriteHtonU32(m_destination);
    start.WriteHtonU16(m_port);
    start.WriteU8(m_ttl);
    start.WriteU8(0);
    start.WriteHtonU32(m_source.Get());
    start.WriteHtonU16(m_sourcePort);
    start.WriteU8(0, SIZE - 14);
}

uint32_t
LinkForwardingHeader::Deserialize(Buffer::Iterator start)
{
    m_destination = start.ReadNtohU32();
    m_port = start.ReadNtohU16();
    m_ttl = start.ReadU8();
    start.Next(1);
    m_source.Set(start.ReadNtohU32());
    m_sourcePort = start.ReadNtohU16();
    return SIZE;
}

void
LinkForwardingHeader::Print(std::ostream& os) const
{
    os << "destination=" << m_destination << " port=" << m_port << " ttl=" << static_cast<uint32_t>(m_ttl)
       << " source=" << m_source << ":" << m_sourcePort;
}

TypeId
LinkForwarder::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::LinkForwarder")
            .SetParent<Object>()
            .SetGroupName("SpaceXNet")
            .AddConstructor<LinkForwarder>()
            .AddAttribute("RelayDelay",
                          "Time a relaying node holds a frame before it forwards it (as "
                          "ForwardingTableRouting's); not applied where a frame starts or ends.",
                          TimeValue(Seconds(0)),
                          MakeTimeAccessor(&LinkForwarder::m_relayDelay),
                          MakeTimeChecker(Seconds(0)))
            .AddAttribute("HoldWithoutRoute",
                          "Hold a frame that has no route where it is until a step change gives it "
                          "one, instead of dropping it (as ForwardingTableRouting's).",
                          BooleanValue(false),
                          MakeBooleanAccessor(&LinkForwarder::m_holdWithoutRoute),
                          MakeBooleanChecker());
    return tid;
}

LinkForwarder::LinkForwarder()
    : m_index(0),
      m_holdWithoutRoute(false),
      m_relay(this, m_table, m_relayDelay, m_holdWithoutRoute),
      m_dropped(0),
      m_ttlExpired(0),
      m_flowDropped(0)
{
}

LinkForwarder::~LinkForwarder() = default;

void
LinkForwarder::DoDispose()
{
    m_relay.Dispose();
    m_neighbours.clear();
    m_ports.clear();
    m_table = nullptr;
    Object::DoDispose();
}

void
LinkForwarder::Configure(Ptr<ForwardingTable> table, uint32_t index)
{
    m_table = table;
    m_index = index;
}

void
LinkForwarder::AddNeighbour(uint32_t neighbour, Ptr<NetDevice> device)
{
    Ptr<NetDeviceQueueInterface> ndqi = device->GetObject<NetDeviceQueueInterface>();
    // The address the IP mode gives a packet leaving through this device (its interface's).
    Ipv4Address local = Ipv4Address::GetAny();
    Ptr<Ipv4> ipv4 = device->GetNode() ? device->GetNode()->GetObject<Ipv4>() : nullptr;
    int32_t iface = ipv4 ? ipv4->GetInterfaceForDevice(device) : -1;
    if (iface >= 0 && ipv4->GetNAddresses(iface) > 0)
    {
        local = ipv4->GetAddress(iface, 0).GetLocal();
    }
    m_neighbours.push_back(Neighbour{neighbour, device, ndqi ? ndqi->GetTxQueue(0) : nullptr, local});
}

bool
LinkForwarder::Bind(uint16_t port, DeliverCallback deliver)
{
    for (const auto& [p, cb] : m_ports)
    {
        if (p == port)
        {
            return false;
        }
    }
    m_ports.emplace_back(port, deliver);
    return true;
}

void
LinkForwarder::Unbind(uint16_t port)
{
    for (auto it = m_ports.begin(); it != m_ports.end(); ++it)
    {
        if (it->first == port)
        {
            m_ports.erase(it);
            return;
        }
    }
}

const LinkForwarder::Neighbour*
LinkForwarder::Lookup(uint32_t destination) const
{
    int32_t next = m_table->GetNextHop(m_index, destination);
    if (next < 0 || static_cast<uint32_t>(next) == m_index)
    {
        return nullptr;
    }
    for (const auto& n : m_neighbours)
    {
        if (n.node == static_cast<uint32_t>(next))
        {
            return &n;
        }
    }
    NS_LOG_WARN("node " << m_index << ": next hop " << next << " is not a neighbour");
    return nullptr;
}

bool
LinkForwarder::Send(Ptr<Packet> packet, Ipv4Address destination, uint16_t port, uint16_t sourcePort)
{
    int32_t dest = m_table->GetNodeOfAddress(destination);
    if (dest < 0)
    {
        ++m_dropped;
        return false;
    }
    // The source: this node's address on the first hop's link, as the IP mode's; without a next
    // hop now (held, or for this node itself) its first link's (any of its addresses names it).
    const Neighbour* next =
        static_cast<uint32_t>(dest) == m_index ? nullptr : Lookup(static_cast<uint32_t>(dest));
    Ipv4Address source =
        next ? next->local : (m_neighbours.empty() ? Ipv4Address::GetAny() : m_neighbours.front().local);
    Frame frame{packet, LinkForwardingHeader(static_cast<uint32_t>(dest), port, MAX_TTL, source, sourcePort)};
    if (static_cast<uint32_t>(dest) == m_index)
    {
        // The IP mode has no route to its own node: it drops the packet, or (HoldWithoutRoute)
        // loops it back through the loopback device, which delivers it in an event of its own.
        if (!m_holdWithoutRoute)
        {
            ++m_dropped;
            return false;
        }
        Ptr<Node> node = GetObject<Node>();
        Simulator::ScheduleWithContext(node ? node->GetId() : Simulator::GetContext(),
                                       Seconds(0),
                                       &LinkForwarder::Deliver,
                                       this,
                                       packet,
                                       frame.header);
        return true;
    }
    if (!next)
    {
        if (!m_holdWithoutRoute)
        {
            ++m_dropped;
            return false;
        }
        m_relay.Hold(frame, false);
        return true;
    }
    Transmit(*next, frame, false);
    return true;
}

bool
LinkForwarder::Receive(Ptr<NetDevice> device, Ptr<const Packet> packet, uint16_t protocol, const Address& from)
{
    // The point-to-point device's own copy of the frame (PointToPointChannel::TransmitStart made it
    // for this device, which keeps no use for it after this callback): taken over, not copied.
    Ptr<Packet> p = ConstCast<Packet>(packet);
    LinkForwardingHeader header;
    p->RemoveHeader(header);
    if (header.m_destination == m_index)
    {
        Deliver(p, header);
        return true;
    }
    Route(Frame{p, header});
    return true;
}

void
LinkForwarder::Route(Frame frame)
{
    const Neighbour* next = Lookup(frame.header.m_destination);
    if (!next)
    {
        if (m_holdWithoutRoute)
        {
            m_relay.Hold(std::move(frame), true);
        }
        else
        {
            ++m_dropped;
        }
        return;
    }
    m_relay.Forward(next, frame, true);
}

const LinkForwarder::Neighbour*
LinkForwarder::RelayHoldLookup(const Frame& frame) const
{
    return Lookup(frame.header.m_destination);
}

void
LinkForwarder::RelayHoldSend(const Neighbour* next, Frame& frame)
{
    Transmit(*next, frame, true);
}

void
LinkForwarder::RelayHoldDrop(Frame& /* frame */)
{
    ++m_dropped;
}

void
LinkForwarder::Transmit(const Neighbour& next, Frame& frame, bool decrementTtl)
{
    if (decrementTtl && --frame.header.m_ttl == 0)
    {
        ++m_ttlExpired;
        return;
    }
    // With room for the device's PPP header in front (RelayRoomHeader): the same bytes.
    frame.packet->AddHeader(RelayRoomHeader(frame.header));
    frame.packet->RemoveAtStart(RelayRoomHeader::ROOM);
    if (next.txQueue && next.txQueue->IsStopped())
    {
        ++m_flowDropped; // what the traffic-control layer does without a queue disc
        return;
    }
    // Protocol 0x0800 (IPv4's) only because the point-to-point device's PPP header knows no other;
    // the receiving device hands the frame to its node's LinkForwarder whatever the protocol.
    next.device->Send(frame.packet, next.device->GetBroadcast(), 0x0800);
}

void
LinkForwarder::Deliver(Ptr<Packet> packet, LinkForwardingHeader header)
{
    for (const auto& [p, cb] : m_ports)
    {
        if (p == header.m_port)
        {
            cb(packet, InetSocketAddress(header.m_source, header.m_sourcePort));
            return;
        }
    }
    NS_LOG_WARN("node " << m_index << ": no one listens on port " << header.m_port);
    ++m_dropped;
}

uint64_t
LinkForwarder::GetDroppedPackets() const
{
    return m_dropped;
}

uint64_t
LinkForwarder::GetHeldPackets() const
{
    return m_relay.GetHeldPackets();
}

uint64_t
LinkForwarder::GetHeldNs() const
{
    return m_relay.GetHeldNs();
}

uint64_t
LinkForwarder::GetTtlExpiredPackets() const
{
    return m_ttlExpired;
}

uint64_t
LinkForwarder::GetFlowControlDroppedPackets() const
{
    return m_flowDropped;
}

} // namespace ns3
