/*
 * Space-XNet: the IPv4 relay fast path of the IP engine (links.forwarding: ip).
 */
#ifndef SPACE_XNET_IP_RELAY_H
#define SPACE_XNET_IP_RELAY_H

#include "ns3/forwarding-table-routing.h"
#include "ns3/forwarding-table.h"
#include "ns3/header.h"
#include "ns3/ipv4-header.h"
#include "ns3/ipv4-interface.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/ipv4-route.h"
#include "ns3/net-device-queue-interface.h"
#include "ns3/net-device.h"
#include "ns3/object.h"
#include "ns3/packet.h"
#include "ns3/traffic-control-layer.h"

#include <cstdint>
#include <vector>

namespace ns3
{

/**
 * @brief A header written with room in front of it for a point-to-point (PPP) header: a relay
 * adds it, then removes the room (Packet::RemoveAtStart), so that the device's header goes on in
 * place. Where the buffer is shared (the receiving device keeps a copy for its traces until its
 * receive callback returns), ns-3 moves the bytes to a new buffer with no room in front, and the
 * device's header would move them once more: one move per hop instead of two, the same bytes.
 * IpRelay (the IPv4 header) and LinkForwarder (its LinkForwardingHeader) use it.
 */
class RelayRoomHeader : public Header
{
  public:
    /// Bytes of room: a PPP header's.
    static constexpr uint32_t ROOM = 2;

    static TypeId GetTypeId();
    TypeId GetInstanceTypeId() const override;
    /// Room in front of @p inner, which must outlive this.
    explicit RelayRoomHeader(const Header& inner);
    uint32_t GetSerializedSize() const override;
    void Serialize(Buffer::Iterator start) const override;
    /// Not read back: the room is removed as soon as the header is on.
    uint32_t Deserialize(Buffer::Iterator start) override;
    void Print(std::ostream& os) const override;

  private:
    const Header* m_inner;
};

/**
 * @brief Forwards the IPv4 packets a node relays in its forwarding plane, below ns-3's stack.
 *
 * IslNetworkHelper (SetIpRelay) aggregates one to every node and makes it the receive callback
 * of the node's point-to-point devices, in place of the node's protocol dispatch (whose only
 * handler for these devices is the traffic-control layer). A packet keeps its real IPv4 and UDP
 * headers. A packet for another node of the network, received on an up interface, with a TTL
 * above 1, no padding, a valid checksum (when checksums are on) and a size every device of the
 * node carries, is relayed here: ForwardingTableRouting::RouteRelay looks up its next hop in the
 * same ForwardingTable (and holds it for want of a route, or delays it by RelayDelay, with the
 * routing protocol's own logic), and Forward does what Ipv4L3Protocol::IpForward, SendRealOut,
 * Ipv4Interface::Send and TrafficControlLayer::Send do for it: TTL - 1, the header back on, the
 * packet dropped when the device's transmit queue is stopped (no queue disc is installed), else
 * the device's Send. Synchronously, as the stack: no event is added, so event order is unchanged.
 *
 * Every other packet (for this node, for an unknown address, TTL expiring, no route and not
 * held) goes up ns-3's stack exactly as without the relay (TrafficControlLayer::Receive), which
 * delivers, drops, counts and reports it as before.
 */
class IpRelay : public Object
{
  public:
    static TypeId GetTypeId();
    IpRelay();
    ~IpRelay() override;

    /// Relay for the node this is aggregated to, node @p index of @p table.
    void Configure(Ptr<ForwardingTable> table, uint32_t index);
    /// Take over the receive callback of @p device (a device of this node with an IPv4 interface).
    void AddDevice(Ptr<NetDevice> device);

    /// The devices' receive callback.
    bool Receive(Ptr<NetDevice> device, Ptr<const Packet> packet, uint16_t protocol, const Address& from);

    /// Packets forwarded by the fast path.
    uint64_t GetRelayedPackets() const;
    /// Packets handed up ns-3's stack.
    uint64_t GetStackPackets() const;
    /// Packets dropped because the device's transmit queue was stopped (the traffic-control
    /// layer's "Drop", which the harness does not count either).
    uint64_t GetFlowControlDroppedPackets() const;

  protected:
    void DoDispose() override;

  private:
    struct Port
    {
        Ptr<NetDevice> device;       //!< null: not a device of the relay
        Ptr<Ipv4Interface> interface; //!< its IPv4 interface
        Ptr<NetDeviceQueue> txQueue; //!< its transmit queue (flow control), or null
    };

    /// The port of @p device, or null.
    const Port* PortOf(const Ptr<const NetDevice>& device) const;
    /// Up ns-3's stack, as the node's protocol dispatch would hand it.
    bool Up(Ptr<NetDevice> device, Ptr<const Packet> packet, uint16_t protocol, const Address& from);
    /// The unicast forward callback given to ForwardingTableRouting (IpForward's part).
    void Forward(Ptr<Ipv4Route> route, Ptr<const Packet> packet, const Ipv4Header& header);

    Ptr<ForwardingTable> m_table;
    Ptr<Ipv4L3Protocol> m_ipv4;
    Ptr<ForwardingTableRouting> m_routing;
    Ptr<TrafficControlLayer> m_tc;
    uint32_t m_index;
    uint32_t m_minMtu;
    int m_checksum; //!< Node::ChecksumEnabled(), read at the first packet (-1: not yet)
    std::vector<Port> m_ports; //!< by the device's index in its node
    Ipv4RoutingProtocol::UnicastForwardCallback m_forward;
    uint64_t m_relayed;
    uint64_t m_stack;
    uint64_t m_flowDropped;
};

} // namespace ns3

#endif /* SPACE_XNET_IP_RELAY_H */
