/*
 * Space-XNet: next-hop tables shared by every satellite's ForwardingTableRouting.
 */
#ifndef SPACE_XNET_FORWARDING_TABLE_H
#define SPACE_XNET_FORWARDING_TABLE_H

#include "ns3/ipv4-address.h"
#include "ns3/lazy-shortest-paths.h"
#include "ns3/object.h"
#include "ns3/traced-value.h"

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

namespace ns3
{

/**
 * @brief Next hops of every topology step, for every node toward every destination.
 *
 * Two sources of next hops. By default (UseShortestPaths) they are computed in C++ on demand:
 * shortest-delay paths of the active step's graph (fewest hops among equal delays), one tree per
 * destination, grown only as far as the packets that ask need it and dropped at the next step, so
 * route state grows with the traffic, not with nodes x destinations x steps. Alternatively
 * (SetTables, used by hand-built tests and deliberately non-shortest routes), Python computes shortest-delay routes per topology snapshot and pushes them here once, as a
 * C-contiguous int32 array of shape [steps, nodes, destinations]: entry (s, n, d) is the node id
 * of n's next hop toward destination column d in step s, or -1 when d is unreachable from n. One
 * step is active at a time; TopologyUpdater switches steps at the snapshot times. The table also
 * maps every interface address to the node that owns it, so a packet's destination address
 * resolves to a destination node in O(1).
 */
class ForwardingTable : public Object
{
  public:
    static TypeId GetTypeId();
    ForwardingTable();

    /**
     * @brief Size the table and name the destination nodes.
     * @param numNodes number of nodes (ids 0..numNodes-1)
     * @param numSteps number of topology steps
     * @param destinations node id of each destination column
     * @param numDestinations number of destination columns
     */
    void Configure(uint32_t numNodes,
                   uint32_t numSteps,
                   const int32_t* destinations,
                   uint32_t numDestinations);

    /**
     * @brief Replace the next hops of every step at once.
     * @param nextHop C-contiguous [steps, nodes, destinations] node ids, -1 for unreachable
     * @param count number of entries; must equal steps * nodes * destinations
     */
    void SetTables(const int32_t* nextHop, uint64_t count);

    /**
     * @brief Compute next hops on demand from @p query's graph (see the class description).
     * Replaces any pushed tables; every node is a possible destination.
     */
    void UseShortestPaths(const ShortestPathQuery& query);

    /// Trees grown by UseShortestPaths routing so far (0 with pushed tables).
    uint64_t GetTreesGrown() const;
    /// Nodes settled by those trees so far: the routing's work.
    uint64_t GetNodesSettled() const;
    /// Trees the PrefetchRoutes worker had started before their first query (0 without it).
    uint64_t GetTreesPrefetched() const;
    /// Wait for the PrefetchRoutes worker to finish growing the next step's trees (for tests).
    void WaitPrefetch();

    /// Make step @p step the one that routes packets from now on.
    void SetStep(uint32_t step);
    uint32_t GetStep() const;

    /**
     * @return next hop node id from @p node toward @p destNode in the active step, or -1 when the
     * destination is unreachable or not one of the configured destinations.
     */
    int32_t GetNextHop(uint32_t node, uint32_t destNode) const;

    /// Record that interface address @p address belongs to node @p node.
    void AddAddress(Ipv4Address address, uint32_t node);
    /// @return the node owning @p address, or -1 if unknown.
    int32_t GetNodeOfAddress(Ipv4Address address) const;

    uint32_t GetNNodes() const;
    uint32_t GetNSteps() const;
    uint32_t GetNDestinations() const;

    /// The PrefetchRoutes attribute: grow the next step's on-demand trees on a worker thread.
    void SetPrefetchRoutes(bool prefetch);
    bool GetPrefetchRoutes() const;

  protected:
    void DoDispose() override;

  private:
    uint32_t m_numNodes;
    uint32_t m_numSteps;
    uint32_t m_numDestinations;
    uint32_t m_activeStep;                             //!< active step, set before m_step fires
    TracedValue<uint32_t> m_step;                      //!< active step, traced
    std::vector<int32_t> m_columnOfNode;               //!< node id -> destination column or -1
    std::vector<int32_t> m_nextHop;                    //!< [steps, nodes, destinations]
    mutable std::unique_ptr<LazyShortestPaths> m_paths; //!< on-demand routes, when used
    std::unordered_map<uint32_t, uint32_t> m_nodeOfAddress; //!< address (host order) -> node id
    /// The same for the addresses the ISL helper gives (10.0.0.0/8, four per link, numbered from
    /// 10.0.0.0): a direct index, looked up at every hop; -1 where no node has the address.
    std::vector<int32_t> m_nodeOfIslAddress;
    bool m_prefetchRoutes; //!< the PrefetchRoutes attribute
};

} // namespace ns3

#endif /* SPACE_XNET_FORWARDING_TABLE_H */
