/*
 * Space-XNet: builds the satellites, their laser ISLs and the table-routed internet stack.
 */
#ifndef SPACE_XNET_ISL_NETWORK_HELPER_H
#define SPACE_XNET_ISL_NETWORK_HELPER_H

#include "ns3/data-rate.h"
#include "ns3/forwarding-table.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/ipv4-routing-helper.h"
#include "ns3/net-device-container.h"
#include "ns3/node-container.h"
#include "ns3/object-factory.h"
#include "ns3/point-to-point-helper.h"
#include "ns3/queue.h"
#include "ns3/topology-updater.h"

#include <vector>

namespace ns3
{

/**
 * @brief Installs ForwardingTableRouting, sharing one ForwardingTable, on nodes.
 */
class ForwardingTableRoutingHelper : public Ipv4RoutingHelper
{
  public:
    explicit ForwardingTableRoutingHelper(Ptr<ForwardingTable> table);
    ForwardingTableRoutingHelper* Copy() const override;
    Ptr<Ipv4RoutingProtocol> Create(Ptr<Node> node) const override;
    /// Set an attribute of every ns3::ForwardingTableRouting created (RelayDelay, ...).
    void Set(std::string name, const AttributeValue& value);

  private:
    Ptr<ForwardingTable> m_table;
    ObjectFactory m_factory;
};

/**
 * @brief Builds a laser-ISL network from an edge list in one call.
 *
 * Node i of the returned container is satellite i. Every edge becomes a PointToPoint link (its
 * own /30 subnet from 10.0.0.0/8) whose devices use the attributes set here; the traffic-control
 * layer's default queue disc is removed so that the device's drop-tail queue is the only queue.
 * Every node routes with ForwardingTableRouting over the shared ForwardingTable, whose address map
 * and neighbour lists are filled here. The channels are handed to a TopologyUpdater in edge order.
 */
class IslNetworkHelper
{
  public:
    IslNetworkHelper();

    /// Set an attribute of every ns3::PointToPointNetDevice (DataRate, Mtu, ...).
    void SetDeviceAttribute(std::string name, const AttributeValue& value);
    /// Set an attribute of every device's ns3::DropTailQueue (MaxSize).
    void SetQueueAttribute(std::string name, const AttributeValue& value);
    /// Set an attribute of every node's ns3::ForwardingTableRouting (RelayDelay).
    void SetRoutingAttribute(std::string name, const AttributeValue& value);
    /**
     * @brief The link-level mode (before Install): every node also gets a LinkForwarder (given the
     * routing attributes, RelayDelay and HoldWithoutRoute) and a LinkSocketFactory, and its
     * devices hand what they receive to the LinkForwarder, so that MoeTokenApplications send
     * their messages hop by hop at the NetDevice level, without traffic control, IPv4 and UDP. The
     * IPv4 stack stays installed: its addresses still name the nodes.
     */
    void SetLinkForwarding(bool enable);
    /**
     * @brief The IPv4 relay fast path (before Install; links.forwarding: ip): every node also gets
     * an IpRelay, which its devices hand what they receive to. Packets keep their IPv4 and UDP
     * headers; a packet relayed by a node is forwarded there below ns-3's stack, with the same
     * next hops, holding, relay delay, TTL and flow control; every other packet goes up the stack
     * as without it. Off (the default): every packet climbs the stack at every hop (ip-stack).
     */
    void SetIpRelay(bool enable);

    /**
     * @brief Build the network.
     * @param numNodes number of satellites
     * @param edges C-contiguous [numEdges, 2] node ids, each pair distinct and in range
     * @param numEdges number of links
     * @param table the shared ForwardingTable (already configured for numNodes)
     * @param updater receives every channel, in edge order
     * @return the nodes, node i being satellite i
     */
    NodeContainer Install(uint32_t numNodes,
                          const int32_t* edges,
                          uint32_t numEdges,
                          Ptr<ForwardingTable> table,
                          Ptr<TopologyUpdater> updater);

    /**
     * @brief Give links [@p first, @p first + @p count) of the last Install (edge order) their own
     * rate: the ground-satellite links (GSL), appended after the ISLs, run at the GSL rate.
     */
    void SetLinkDataRate(uint32_t first, uint32_t count, DataRate rate);

    /// The address every other node uses to reach @p node (its first ISL interface).
    static Ipv4Address GetNodeAddress(Ptr<Node> node);

    /// Packets dropped for want of a route, summed over the installed nodes.
    uint64_t GetRoutingDroppedPackets() const;
    /// Packets dropped by full device queues, summed over the installed devices.
    uint64_t GetQueueDroppedPackets() const;
    /// Packets handed to a device for transmission, summed over devices: the packet-hops.
    uint64_t GetPacketHops() const;
    /// Packets held for want of a route (ForwardingTableRouting's HoldWithoutRoute), and the
    /// total time they waited, ns, summed over the installed nodes.
    uint64_t GetHeldPackets() const;
    uint64_t GetHeldNs() const;
    /// Packets whose IPv4 TTL (MAX_TTL hops) ran out, summed over the installed nodes.
    uint64_t GetTtlExpiredPackets() const;

    /// The IPv4 TTL of every packet: the longest path a packet may take, in hops.
    static constexpr uint8_t MAX_TTL = 255;

  private:
    /// @p getter of every node's ForwardingTableRouting, summed.
    template <typename Getter>
    uint64_t SumOverRouting(Getter getter) const;
    /// A counter of a device queue (QueueBase::GetTotal...).
    using QueueCounter = uint32_t (QueueBase::*)() const;
    /// @p counter of every device's queue, summed.
    uint64_t SumOverQueues(QueueCounter counter) const;

    std::vector<std::pair<std::string, Ptr<AttributeValue>>> m_routingAttributes;
    void CountIpDrop(const Ipv4Header& header,
                     Ptr<const Packet> packet,
                     Ipv4L3Protocol::DropReason reason,
                     Ptr<Ipv4> ipv4,
                     uint32_t interface);

    /// @p getter of every node's LinkForwarder (the link-level mode), summed.
    template <typename Getter>
    uint64_t SumOverForwarders(Getter getter) const;

    bool m_linkForwarding = false;
    bool m_ipRelay = false;
    uint64_t m_ttlExpired = 0;
    PointToPointHelper m_p2p;
    NodeContainer m_nodes;
    NetDeviceContainer m_devices;
};

} // namespace ns3

#endif /* SPACE_XNET_ISL_NETWORK_HELPER_H */
