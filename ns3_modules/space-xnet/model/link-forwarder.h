/*
 * Space-XNet: link-level forwarding (links.forwarding: link), a lean alternative to the IPv4 path.
 */
#ifndef SPACE_XNET_LINK_FORWARDER_H
#define SPACE_XNET_LINK_FORWARDER_H

#include "ns3/callback.h"
#include "ns3/forwarding-table.h"
#include "ns3/header.h"
#include "ns3/ipv4-address.h"
#include "ns3/net-device-queue-interface.h"
#include "ns3/net-device.h"
#include "ns3/nstime.h"
#include "ns3/object.h"
#include "ns3/packet.h"
#include "ns3/relay-hold.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace ns3
{

/**
 * @brief What a frame of the link-level mode carries instead of the IPv4 and UDP headers: its
 * destination node and port, and a hop limit. It occupies exactly their 28 bytes on the wire
 * (the rest is zero), so a frame has the IP mode's size, serialization time and queue share.
 *
 * | bytes | field       | meaning                                                 |
 * |-------|-------------|---------------------------------------------------------|
 * | 4     | destination | destination node (its index in the ForwardingTable)     |
 * | 2     | port        | the destination component's port                        |
 * | 1     | ttl         | hops left (IPv4's TTL: the IP mode's MAX_TTL at the source) |
 * | 1     | padding     | zero                                                    |
 * | 4     | source      | the sender's address (the IP mode's source address: the |
 * |       |             | sending node's address on its first hop's link)          |
 * | 2     | source port | the sending socket's port (UDP's source port)            |
 * | 14    | padding     | zero: the 28 bytes of IPv4 (20) and UDP (8) headers      |
 *
 * The source is what a receiver replies to (an expert replica's acknowledgement goes back to
 * the copy that sent the message, as UDP's source address and port say in the IP mode).
 */
class LinkForwardingHeader : public Header
{
  public:
    /// Bytes on the wire: an IPv4 header (20) and a UDP header (8), the headers it stands for.
    static constexpr uint32_t SIZE = 28;

    static TypeId GetTypeId();
    TypeId GetInstanceTypeId() const override;
    LinkForwardingHeader();
    LinkForwardingHeader(uint32_t destination,
                         uint16_t port,
                         uint8_t ttl,
                         Ipv4Address source = Ipv4Address::GetAny(),
                         uint16_t sourcePort = 0);

    uint32_t GetSerializedSize() const override;
    void Serialize(Buffer::Iterator start) const override;
    uint32_t Deserialize(Buffer::Iterator start) override;
    void Print(std::ostream& os) const override;

    uint32_t m_destination;
    uint16_t m_port;
    uint8_t m_ttl;
    Ipv4Address m_source;
    uint16_t m_sourcePort;
};

/**
 * @brief Moves one node's frames at the NetDevice level: traffic control, IPv4 and UDP skipped.
 *
 * IslNetworkHelper (SetLinkForwarding) aggregates one to every node and makes it the receive
 * callback of the node's point-to-point devices; LinkSocket sends and receives through it. A
 * frame's next hop comes from the same ForwardingTable as ForwardingTableRouting's, and everything
 * around it mirrors the IP mode: the same frame size (LinkForwardingHeader), the device's
 * drop-tail queue as the only queue, a frame dropped when the device's transmit queue is stopped
 * (the traffic-control layer's flow control), RelayDelay and HoldWithoutRoute as in
 * ForwardingTableRouting (same attribute names, and the same RelayHold applies them), the hop
 * limit, and the drop counters.
 */
class LinkForwarder : public Object
{
  public:
    static TypeId GetTypeId();
    LinkForwarder();
    ~LinkForwarder() override;

    /// Routes by @p table, as node @p index of it.
    void Configure(Ptr<ForwardingTable> table, uint32_t index);
    /// Neighbour node @p neighbour is reached through @p device (this node's end of their link).
    void AddNeighbour(uint32_t neighbour, Ptr<NetDevice> device);

    /// What receives a frame's payload (the link header removed) at its destination port, with
    /// the sender's address and port (an InetSocketAddress).
    using DeliverCallback = Callback<void, Ptr<Packet>, const Address&>;
    /// Deliver frames for @p port to @p deliver; false when the port is taken.
    bool Bind(uint16_t port, DeliverCallback deliver);
    void Unbind(uint16_t port);

    /**
     * @brief Send @p packet to port @p port of the node owning @p destination, from this node's
     * port @p sourcePort (0: none).
     * @return false when it was dropped at once (unknown destination, no route)
     */
    bool Send(Ptr<Packet> packet, Ipv4Address destination, uint16_t port, uint16_t sourcePort = 0);

    /// The devices' receive callback: a frame arrived over a link.
    bool Receive(Ptr<NetDevice> device, Ptr<const Packet> packet, uint16_t protocol, const Address& from);

    /// Frames dropped for want of a route (ForwardingTableRouting's GetDroppedPackets).
    uint64_t GetDroppedPackets() const;
    /// Frames held for want of a route, and the time they waited (HoldWithoutRoute).
    uint64_t GetHeldPackets() const;
    uint64_t GetHeldNs() const;
    /// Frames whose hop limit ran out.
    uint64_t GetTtlExpiredPackets() const;
    /// Frames dropped because the device's transmit queue was stopped (the traffic-control
    /// layer's "Drop" in the IP mode, which the harness does not count either).
    uint64_t GetFlowControlDroppedPackets() const;

    /// The hop limit at the source: IslNetworkHelper::MAX_TTL.
    static constexpr uint8_t MAX_TTL = 255;

  protected:
    void DoDispose() override;

  private:
    struct Neighbour
    {
        uint32_t node;
        Ptr<NetDevice> device;
        Ptr<NetDeviceQueue> txQueue; //!< the device's transmit queue (flow control), or null
        Ipv4Address local;           //!< this node's address on the link: a frame's source through it
    };

    /// A frame on its way: what waits here for a route (held) or for the relay delay.
    struct Frame
    {
        Ptr<Packet> packet; //!< without its link header
        LinkForwardingHeader header;
    };

    using Relay = RelayHold<LinkForwarder, Frame, const Neighbour*>;
    friend Relay;

    /// The neighbour toward node @p destination in the active step, or null.
    const Neighbour* Lookup(uint32_t destination) const;
    /// Route a frame at a relay: held, dropped, or (after the relay delay) forwarded.
    void Route(Frame frame);
    /// Forward through @p next: the hop limit, then the device (unless its queue is stopped).
    void Transmit(const Neighbour& next, Frame& frame, bool decrementTtl);
    void Deliver(Ptr<Packet> packet, LinkForwardingHeader header);
    // For RelayHold: a frame released there is looked up again, and forwarded (a hop: the TTL
    // goes down) or dropped.
    const Neighbour* RelayHoldLookup(const Frame& frame) const;
    void RelayHoldSend(const Neighbour* next, Frame& frame);
    void RelayHoldDrop(Frame& frame);

    Ptr<ForwardingTable> m_table;
    uint32_t m_index;
    std::vector<Neighbour> m_neighbours;                     //!< a handful: a linear scan
    std::vector<std::pair<uint16_t, DeliverCallback>> m_ports; //!< a few per node: a linear scan
    Time m_relayDelay;
    bool m_holdWithoutRoute;
    Relay m_relay; //!< the relay delay and the held frames
    uint64_t m_dropped;
    uint64_t m_ttlExpired;
    uint64_t m_flowDropped;
};

} // namespace ns3

#endif /* SPACE_XNET_LINK_FORWARDER_H */
