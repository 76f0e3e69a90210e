/*
 * Space-XNet: the socket of the link-level mode (links.forwarding: link).
 */
#ifndef SPACE_XNET_LINK_SOCKET_H
#define SPACE_XNET_LINK_SOCKET_H

#include "ns3/link-forwarder.h"
#include "ns3/socket-factory.h"
#include "ns3/socket.h"

#include <deque>
#include <utility>

namespace ns3
{

/**
 * @brief A datagram socket over the node's LinkForwarder: what a UDP socket does for the
 * MoeTokenApplication (bind a port, send to an address and port, receive whole packets), without
 * UDP and IPv4. Addresses are InetSocketAddress, as for UDP.
 */
class LinkSocket : public Socket
{
  public:
    static TypeId GetTypeId();
    LinkSocket();
    ~LinkSocket() override;

    /// Sends and receives through @p forwarder, on @p node.
    void SetForwarder(Ptr<Node> node, Ptr<LinkForwarder> forwarder);

    Socket::SocketErrno GetErrno() const override;
    Socket::SocketType GetSocketType() const override;
    Ptr<Node> GetNode() const override;
    int Bind(const Address& address) override;
    int Bind() override;
    int Bind6() override;
    int Close() override;
    int ShutdownSend() override;
    int ShutdownRecv() override;
    int Connect(const Address& address) override;
    int Listen() override;
    uint32_t GetTxAvailable() const override;
    int Send(Ptr<Packet> p, uint32_t flags) override;
    int SendTo(Ptr<Packet> p, uint32_t flags, const Address& toAddress) override;
    uint32_t GetRxAvailable() const override;
    Ptr<Packet> Recv(uint32_t maxSize, uint32_t flags) override;
    Ptr<Packet> RecvFrom(uint32_t maxSize, uint32_t flags, Address& fromAddress) override;
    int GetSockName(Address& address) const override;
    int GetPeerName(Address& address) const override;
    bool SetAllowBroadcast(bool allowBroadcast) override;
    bool GetAllowBroadcast() const override;

  protected:
    void DoDispose() override;

  private:
    /// The forwarder delivers a frame's payload for this socket's port, from @p from (the
    /// sender's address and port).
    void Deliver(Ptr<Packet> packet, const Address& from);

    Ptr<Node> m_node;
    Ptr<LinkForwarder> m_forwarder;
    uint16_t m_port;
    bool m_bound;
    Socket::SocketErrno m_errno;
    Address m_peer;   ///< set by Connect: where Send goes (a send-only socket, e.g. re-placement's weights)
    bool m_connected; ///< whether Connect was called
    std::deque<std::pair<Ptr<Packet>, Address>> m_received;
    uint32_t m_receivedBytes;
};

/**
 * @brief Makes LinkSockets; IslNetworkHelper aggregates one to every node in the link-level mode,
 * and MoeTokenApplication uses it when its node has one.
 */
class LinkSocketFactory : public SocketFactory
{
  public:
    static TypeId GetTypeId();
    Ptr<Socket> CreateSocket() override;
};

} // namespace ns3

#endif /* SPACE_XNET_LINK_SOCKET_H */
