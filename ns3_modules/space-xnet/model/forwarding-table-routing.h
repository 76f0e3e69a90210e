/*
 * Space-XNet: an Ipv4RoutingProtocol that forwards by a dense next-hop table.
 */
#ifndef SPACE_XNET_FORWARDING_TABLE_ROUTING_H
#define SPACE_XNET_FORWARDING_TABLE_ROUTING_H

#include "ns3/boolean.h"
#include "ns3/forwarding-table.h"
#include "ns3/ipv4-route.h"
#include "ns3/ipv4-routing-protocol.h"
#include "ns3/ipv4.h"
#include "ns3/nstime.h"
#include "ns3/relay-hold.h"
#include "ns3/traced-callback.h"

#include <vector>

namespace ns3
{

/**
 * @brief Routes every packet by the active step of a shared ForwardingTable.
 *
 * The destination address is resolved to a destination node, the table gives the next-hop node,
 * and a per-node neighbour list gives the interface and the neighbour's address on that link. A
 * packet whose destination is unknown or unreachable in the active step is dropped: the drop is
 * counted and fired on the "Drop" trace source, never lost silently. Routes are looked up per
 * packet, so a table swap applies to the very next packet sent or forwarded.
 *
 * With HoldWithoutRoute, a packet that has no route where it is (at its source, or at a relay
 * after a step change) is held there instead, and sent on at the first step change that gives it
 * one; the time it waited is counted. A locally sent packet is held by handing the socket a route
 * to the loopback device, which brings the packet back through RouteInput (as ns-3's AODV defers
 * its packets while it looks for a route). The holding and the relay delay are RelayHold's, shared
 * with LinkForwarder.
 */
class ForwardingTableRouting : public Ipv4RoutingProtocol
{
  public:
    static TypeId GetTypeId();
    ForwardingTableRouting();
    ~ForwardingTableRouting() override;

    /**
     * @brief Declare that neighbour node @p neighbour is reached through @p interface, where
     * the neighbour's own address on the link is @p neighbourAddress.
     */
    void AddNeighbour(uint32_t neighbour, uint32_t interface, Ipv4Address neighbourAddress);

    /// The node id this instance routes for (its index in the ForwardingTable).
    void SetNodeIndex(uint32_t index);

    /// Packets this node dropped for want of a route.
    uint64_t GetDroppedPackets() const;
    /// Packets this node held for want of a route (HoldWithoutRoute), and the time they waited.
    uint64_t GetHeldPackets() const;
    uint64_t GetHeldNs() const;

    /**
     * @brief RouteInput for a packet at a relay (received over a link, for node @p destNode,
     * another node of the network), forwarded with @p forward instead of the stack's IpForward:
     * IpRelay's fast path. It goes on at once, after RelayDelay, or is held (HoldWithoutRoute),
     * exactly as RouteInput would send it on.
     * @return false, and nothing done, when it has no route and is not held: RouteInput would
     * drop it (the caller hands it to the stack, which does)
     */
    bool RouteRelay(Ptr<const Packet> p, const Ipv4Header& header, int32_t destNode, const UnicastForwardCallback& forward);

    // Ipv4RoutingProtocol
    Ptr<Ipv4Route> RouteOutput(Ptr<Packet> p,
                               const Ipv4Header& header,
                               Ptr<NetDevice> oif,
                               Socket::SocketErrno& sockerr) override;
    bool RouteInput(Ptr<const Packet> p,
                    const Ipv4Header& header,
                    Ptr<const NetDevice> idev,
                    const UnicastForwardCallback& ucb,
                    const MulticastForwardCallback& mcb,
                    const LocalDeliverCallback& lcb,
                    const ErrorCallback& ecb) override;
    void NotifyInterfaceUp(uint32_t interface) override;
    void NotifyInterfaceDown(uint32_t interface) override;
    void NotifyAddAddress(uint32_t interface, Ipv4InterfaceAddress address) override;
    void NotifyRemoveAddress(uint32_t interface, Ipv4InterfaceAddress address) override;
    void SetIpv4(Ptr<Ipv4> ipv4) override;
    void PrintRoutingTable(Ptr<OutputStreamWrapper> stream, Time::Unit unit = Time::S) const override;

  protected:
    void DoDispose() override;

  private:
    struct Neighbour
    {
        uint32_t node;
        uint32_t interface;
        Ipv4Address address;
        /// The route through this neighbour, made on first use and reused by every later lookup
        /// (only its destination changes): ns-3 reads a route while it forwards or sends the
        /// packet and keeps no reference, so one object per neighbour serves every packet.
        mutable Ptr<Ipv4Route> route;
    };

    /// A packet on its way: what waits at this node for a route or for the relay delay.
    struct Pending
    {
        Ptr<const Packet> packet;
        Ipv4Header header;
        UnicastForwardCallback forward;
    };

    using Relay = RelayHold<ForwardingTableRouting, Pending, Ptr<Ipv4Route>>;
    friend Relay;

    /// @return the route toward @p destination in the active step, or nullptr.
    Ptr<Ipv4Route> Lookup(Ipv4Address destination) const;
    /// Lookup for a destination already resolved to its node (@p destNode >= 0).
    Ptr<Ipv4Route> LookupNode(int32_t destNode, Ipv4Address destination) const;
    void CountDrop(Ptr<const Packet> p, const Ipv4Header& header);
    /// A route to the loopback device: the socket sends, the packet comes back to RouteInput.
    Ptr<Ipv4Route> LoopbackRoute(const Ipv4Header& header) const;
    /// Whether a packet without a route may wait (HoldWithoutRoute, and a known destination).
    bool CanHold(const Ipv4Header& header) const;
    void Hold(Ptr<const Packet> p, const Ipv4Header& header, const UnicastForwardCallback& ucb, bool relay);
    // For RelayHold: a packet released there is looked up again, and forwarded or dropped.
    Ptr<Ipv4Route> RelayHoldLookup(const Pending& pending) const;
    void RelayHoldSend(Ptr<Ipv4Route> route, Pending& pending);
    void RelayHoldDrop(Pending& pending);

    Ptr<Ipv4> m_ipv4;
    Ptr<ForwardingTable> m_table;
    uint32_t m_nodeIndex;
    std::vector<Neighbour> m_neighbours; //!< at most a handful: a linear scan beats a map
    uint64_t m_dropped;
    Time m_relayDelay; //!< held at each relay before forwarding
    bool m_holdWithoutRoute;
    Relay m_relay; //!< the relay delay and the held packets
    TracedCallback<Ptr<const Packet>, const Ipv4Header&> m_dropTrace;
};

} // namespace ns3

#endif /* SPACE_XNET_FORWARDING_TABLE_ROUTING_H */
