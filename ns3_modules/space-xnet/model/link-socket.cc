/*
 * Space-XNet: the socket of the link-level mode (links.forwarding: link).
 */
#include "link-socket.h"

#include "ns3/abort.h"
#include "ns3/inet-socket-address.h"
#include "ns3/log.h"
#include "ns3/node.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("LinkSocket");
NS_OBJECT_ENSURE_REGISTERED(LinkSocket);
NS_OBJECT_ENSURE_REGISTERED(LinkSocketFactory);

TypeId
LinkSocket::GetTypeId()
{
    static TypeId tid = TypeId("ns3::LinkSocket")
                            .SetParent<Socket>()
                            .SetGroupName("SpaceXNet")
                            .AddConstructor<LinkSocket>();
    return tid;
}

LinkSocket::LinkSocket()
    : m_port(0),
      m_bound(false),
      m_errno(Socket::ERROR_NOTERROR),
      m_connected(false),
      m_receivedBytes(0)
{
}

LinkSocket::~LinkSocket() = default;

void
LinkSocket::DoDispose()
{
    Close();
    m_received.clear();
    m_forwarder = nullptr;
    m_node = nullptr;
    Socket::DoDispose();
}

void
LinkSocket::SetForwarder(Ptr<Node> node, Ptr<LinkForwarder> forwarder)
{
    m_node = node;
    m_forwarder = forwarder;
}

Socket::SocketErrno
LinkSocket::GetErrno() const
{
    return m_errno;
}

Socket::SocketType
LinkSocket::GetSocketType() const
{
    return NS3_SOCK_DGRAM;
}

Ptr<Node>
LinkSocket::GetNode() const
{
    return m_node;
}

int
LinkSocket::Bind(const Address& address)
{
    if (!InetSocketAddress::IsMatchingType(address) || m_bound)
    {
        m_errno = Socket::ERROR_INVAL;
        return -1;
    }
    uint16_t port = InetSocketAddress::ConvertFrom(address).GetPort();
    if (!m_forwarder->Bind(port, MakeCallback(&LinkSocket::Deliver, this)))
    {
        m_errno = Socket::ERROR_ADDRINUSE;
        return -1;
    }
    m_port = port;
    m_bound = true;
    return 0;
}

int
LinkSocket::Bind()
{
    // A send-only socket (re-placement's weights): nothing to register, and its frames carry
    // source port 0; a component that receives binds its own port with Bind(address).
    return 0;
}

int
LinkSocket::Bind6()
{
    m_errno = Socket::ERROR_OPNOTSUPP;
    return -1;
}

int
LinkSocket::Close()
{
    if (m_bound && m_forwarder)
    {
        m_forwarder->Unbind(m_port);
    }
    m_bound = false;
    return 0;
}

int
LinkSocket::ShutdownSend()
{
    return 0;
}

int
LinkSocket::ShutdownRecv()
{
    return 0;
}

int
LinkSocket::Connect(const Address& address)
{
    if (!InetSocketAddress::IsMatchingType(address))
    {
        m_errno = Socket::ERROR_INVAL;
        return -1;
    }
    m_peer = address;
    m_connected = true;
    return 0;
}

int
LinkSocket::Listen()
{
    m_errno = Socket::ERROR_OPNOTSUPP;
    return -1;
}

uint32_t
LinkSocket::GetTxAvailable() const
{
    return 65507; // UDP's largest datagram: the device's queue decides what is dropped
}

int
LinkSocket::Send(Ptr<Packet> p, uint32_t flags)
{
    if (!m_connected)
    {
        m_errno = Socket::ERROR_NOTCONN;
        return -1;
    }
    return SendTo(p, flags, m_peer);
}

int
LinkSocket::SendTo(Ptr<Packet> p, uint32_t flags, const Address& toAddress)
{
    InetSocketAddress to = InetSocketAddress::ConvertFrom(toAddress);
    uint32_t size = p->GetSize();
    if (!m_forwarder->Send(p, to.GetIpv4(), to.GetPort(), m_bound ? m_port : 0))
    {
        m_errno = Socket::ERROR_NOROUTETOHOST;
        return -1;
    }
    return static_cast<int>(size);
}

uint32_t
LinkSocket::GetRxAvailable() const
{
    return m_receivedBytes;
}

Ptr<Packet>
LinkSocket::Recv(uint32_t maxSize, uint32_t flags)
{
    Address from;
    return RecvFrom(maxSize, flags, from);
}

Ptr<Packet>
LinkSocket::RecvFrom(uint32_t maxSize, uint32_t flags, Address& fromAddress)
{
    if (m_received.empty())
    {
        return nullptr;
    }
    auto [p, from] = m_received.front();
    m_received.pop_front();
    m_receivedBytes -= p->GetSize();
    fromAddress = from; // the sender's address and port, from the frame's link header
    return p;
}

int
LinkSocket::GetSockName(Address& address) const
{
    address = InetSocketAddress(Ipv4Address::GetAny(), m_port);
    return 0;
}

int
LinkSocket::GetPeerName(Address& address) const
{
    if (!m_connected)
    {
        return -1;
    }
    address = m_peer;
    return 0;
}

bool
LinkSocket::SetAllowBroadcast(bool allowBroadcast)
{
    return !allowBroadcast;
}

bool
LinkSocket::GetAllowBroadcast() const
{
    return false;
}

void
LinkSocket::Deliver(Ptr<Packet> packet, const Address& from)
{
    m_receivedBytes += packet->GetSize();
    m_received.emplace_back(packet, from);
    NotifyDataRecv();
}

TypeId
LinkSocketFactory::GetTypeId()
{
    static TypeId tid = TypeId("ns3::LinkSocketFactory")
                            .SetParent<SocketFactory>()
                            .SetGroupName("SpaceXNet")
                            .AddConstructor<LinkSocketFactory>();
    return tid;
}

Ptr<Socket>
LinkSocketFactory::CreateSocket()
{
    Ptr<Node> node = GetObject<Node>();
    NS_ABORT_MSG_IF(!node, "LinkSocketFactory is not aggregated to a node");
    Ptr<LinkForwarder> forwarder = node->GetObject<LinkForwarder>();
    NS_ABORT_MSG_IF(!forwarder, "LinkSocketFactory needs the node's LinkForwarder");
    Ptr<LinkSocket> socket = CreateObject<LinkSocket>();
    socket->SetForwarder(node, forwarder);
    return socket;
}

} // namespace ns3
