/*
 * Space-XNet: the IPv4 relay fast path of the IP engine (links.forwarding: ip).
 */
#include "ip-relay.h"

#include "ns3/abort.h"
#include "ns3/ipv4-interface.h"
#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/socket.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("IpRelay");
NS_OBJECT_ENSURE_REGISTERED(IpRelay);
NS_OBJECT_ENSURE_REGISTERED(RelayRoomHeader);

TypeId
RelayRoomHeader::GetTypeId()
{
    static TypeId tid = TypeId("ns3::RelayRoomHeader").SetParent<Header>().SetGroupName("SpaceXNet");
    return tid;
}

TypeId
RelayRoomHeader::GetInstanceTypeId() const
{
    return GetTypeId();
}

RelayRoomHeader::RelayRoomHeader(const Header& inner)
    : m_inner(&inner)
{
}

uint32_t
RelayRoomHeader::GetSerializedSize() const
{
    return ROOM + m_inner->GetSerializedSize();
}

void
RelayRoomHeader::Serialize(Buffer::Iterator start) const
{
    start.WriteU8(0, ROOM);
    m_inner->Serialize(start);
}

uint32_t
RelayRoomHeader::Deserialize(Buffer::Iterator start)
{
    NS_FATAL_ERROR("RelayRoomHeader is not read back");
    return 0;
}

void
RelayRoomHeader::Print(std::ostream& os) const
{
    m_inner->Print(os);
}

TypeId
IpRelay::GetTypeId()
{
    static TypeId tid = TypeId("ns3::IpRelay")
                            .SetParent<Object>()
                            .SetGroupName("SpaceXNet")
                            .AddConstructor<IpRelay>();
    return tid;
}

IpRelay::IpRelay()
    : m_index(0),
      m_minMtu(0xFFFFFFFFu),
      m_checksum(-1),
      m_relayed(0),
      m_stack(0),
      m_flowDropped(0)
{
    m_forward = MakeCallback(&IpRelay::Forward, this);
}

IpRelay::~IpRelay() = default;

void
IpRelay::DoDispose()
{
    m_ports.clear();
    m_forward = Ipv4RoutingProtocol::UnicastForwardCallback();
    m_table = nullptr;
    m_ipv4 = nullptr;
    m_routing = nullptr;
    m_tc = nullptr;
    Object::DoDispose();
}

void
IpRelay::Configure(Ptr<ForwardingTable> table, uint32_t index)
{
    m_table = table;
    m_index = index;
    Ptr<Node> node = GetObject<Node>();
    NS_ABORT_MSG_IF(!node, "IpRelay: aggregate it to a node before Configure");
    m_ipv4 = node->GetObject<Ipv4L3Protocol>();
    m_tc = node->GetObject<TrafficControlLayer>();
    NS_ABORT_MSG_IF(!m_ipv4 || !m_tc, "IpRelay: the node has no IPv4 stack");
    m_routing = DynamicCast<ForwardingTableRouting>(m_ipv4->GetRoutingProtocol());
    NS_ABORT_MSG_IF(!m_routing, "IpRelay: the node does not route with ForwardingTableRouting");
}

void
IpRelay::AddDevice(Ptr<NetDevice> device)
{
    int32_t interface = m_ipv4->GetInterfaceForDevice(device);
    NS_ABORT_MSG_IF(interface < 0, "IpRelay: the device has no IPv4 interface");
    uint32_t index = device->GetIfIndex();
    if (m_ports.size() <= index)
    {
        m_ports.resize(index + 1);
    }
    Ptr<NetDeviceQueueInterface> ndqi = device->GetObject<NetDeviceQueueInterface>();
    m_ports[index] = Port{device, m_ipv4->GetInterface(interface), ndqi ? ndqi->GetTxQueue(0) : nullptr};
    m_minMtu = std::min<uint32_t>(m_minMtu, device->GetMtu());
    device->SetReceiveCallback(MakeCallback(&IpRelay::Receive, this));
}

const IpRelay::Port*
IpRelay::PortOf(const Ptr<const NetDevice>& device) const
{
    uint32_t index = device->GetIfIndex();
    if (index < m_ports.size() && PeekPointer(m_ports[index].device) == PeekPointer(device))
    {
        return &m_ports[index];
    }
    return nullptr;
}

bool
IpRelay::Up(Ptr<NetDevice> device, Ptr<const Packet> packet, uint16_t protocol, const Address& from)
{
    // What Node::ReceiveFromDevice does with it: the traffic-control layer is the node's one
    // handler for an IPv4 interface's device (IPv4 and ARP), and it hands the packet to IPv4.
    ++m_stack;
    m_tc->Receive(device, packet, protocol, from, device->GetAddress(), NetDevice::PACKET_HOST);
    return true;
}

bool
IpRelay::Receive(Ptr<NetDevice> device, Ptr<const Packet> packet, uint16_t protocol, const Address& from)
{
    const Port* in = PortOf(device);
    // Too large for one of this node's devices: IPv4 would fragment it (never, with one MTU).
    if (protocol != Ipv4L3Protocol::PROT_NUMBER || !in || packet->GetSize() > m_minMtu)
    {
        return Up(device, packet, protocol, from);
    }
    // Ipv4L3Protocol::Receive's header and checks.
    if (m_checksum < 0)
    {
        // ns-3's global ChecksumEnabled, read once the simulation runs (set before it, as
        // Ipv4L3Protocol reads it for every packet): a global lookup per packet saved.
        m_checksum = Node::ChecksumEnabled() ? 1 : 0;
    }
    Ipv4Header header;
    if (m_checksum)
    {
        header.EnableChecksum();
    }
    packet->PeekHeader(header);
    int32_t dest = m_table->GetNodeOfAddress(header.GetDestination());
    // A packet for another node of the network is relayed here, unless IPv4 would treat it
    // otherwise: an interface down, padding, a bad checksum, a TTL that expires here (ICMP).
    if (dest < 0 || static_cast<uint32_t>(dest) == m_index || header.GetTtl() <= 1 ||
        header.GetPayloadSize() + header.GetSerializedSize() != packet->GetSize() || !header.IsChecksumOk() ||
        !in->interface->IsUp())
    {
        return Up(device, packet, protocol, from);
    }
    // The packet is the point-to-point device's own copy (PointToPointChannel::TransmitStart made
    // it for this device, whose Receive has just removed its PPP header and keeps no use for it
    // after this callback): the relay takes it over, without Ipv4L3Protocol::Receive's and
    // IpForward's copies.
    Ptr<Packet> p = ConstCast<Packet>(packet);
    p->RemoveAtStart(header.GetSerializedSize()); // the header just read
    // ForwardingTableRouting::RouteInput's work for it (next hop, hold, relay delay), with
    // Forward in place of IpForward; without a route and not held, the stack drops and reports it.
    if (!m_routing->RouteRelay(p, header, dest, m_forward))
    {
        p->AddHeader(header); // as it came (the stack's checks ahead read the same bytes)
        return Up(device, p, protocol, from);
    }
    ++m_relayed;
    return true;
}

void
IpRelay::Forward(Ptr<Ipv4Route> route, Ptr<const Packet> p, const Ipv4Header& header)
{
    const Port* out = PortOf(route->GetOutputDevice());
    NS_ASSERT_MSG(out, "IpRelay: a route through a device the relay does not own");
    // The packet is the one Receive took over, forwarded once.
    Ptr<Packet> packet = ConstCast<Packet>(p);
    // IpForward: TTL - 1 (Receive let through only TTLs above 1), the priority tag (IpForward's
    // and the traffic-control layer's work on a single-queue device leave none).
    Ipv4Header ipHeader = header;
    ipHeader.SetTtl(ipHeader.GetTtl() - 1);
    SocketPriorityTag priorityTag;
    packet->RemovePacketTag(priorityTag);
    // SendRealOut, Ipv4Interface::Send: nothing is sent through an interface that is down.
    if (!out->interface->IsUp())
    {
        return;
    }
    // TrafficControlLayer::Send without a queue disc: the header on (with room for the device's
    // PPP header in front, RelayRoomHeader), dropped if the device's transmit queue is stopped,
    // else to the device.
    packet->AddHeader(RelayRoomHeader(ipHeader));
    packet->RemoveAtStart(RelayRoomHeader::ROOM);
    if (out->txQueue && out->txQueue->IsStopped())
    {
        ++m_flowDropped;
        return;
    }
    out->device->Send(packet, out->device->GetBroadcast(), Ipv4L3Protocol::PROT_NUMBER);
}

uint64_t
IpRelay::GetRelayedPackets() const
{
    return m_relayed;
}

uint64_t
IpRelay::GetStackPackets() const
{
    return m_stack;
}

uint64_t
IpRelay::GetFlowControlDroppedPackets() const
{
    return m_flowDropped;
}

} // namespace ns3
