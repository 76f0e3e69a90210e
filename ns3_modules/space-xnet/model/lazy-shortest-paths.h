/*
 * Space-XNet: shortest paths computed only as far as the traffic needs them.
 */
#ifndef SPACE_XNET_LAZY_SHORTEST_PATHS_H
#define SPACE_XNET_LAZY_SHORTEST_PATHS_H

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ns3
{

/**
 * @brief The ISL graph of every topology step: fixed links, per-step delays and link states.
 *
 * Held once per run and shared (read-only) by the routing of the packet simulation and by the
 * path queries of the analytic model. A step's graph is the links up in that step, both
 * directions, in CSR order sorted by (node, neighbour) with a stable order for parallel links.
 *
 * Two metrics, each a packed integer path length that Dijkstra minimises:
 * - shortest delay, ties toward fewer hops: arcs weigh (delay_ns << lowBits) + 1, the path's
 *   delay is in the high bits and its hop count in the low ones; exactly the arcs of
 *   harness/routes.py's _csr_arcs, so ties are broken as by ComputeShortestPathTrees;
 * - fewest hops, ties toward shorter delay (hopsFirst): arcs weigh (1 << lowBits) + delay_ns.
 */
class StepGraph
{
  public:
    /**
     * @param numNodes N
     * @param edges [E, 2] node ids of each link
     * @param numEdges E
     * @param numSteps S
     * @param delayNs [S, E] propagation delay of each link in each step, ns, >= 0
     * @param up [S, E] 1 where the link is up in that step; nullptr means always up
     * @param lowBits bits of a packed path length below the leading term: they hold the hop
     *        count (delay metric) or the delay (hops metric), and must never overflow
     * @param hopsFirst the metric: false for shortest delay, true for fewest hops
     * @param borrowDelays read @p delayNs where it is instead of copying it (a long run's [S, E]
     *        array is then held once): the caller keeps it alive and unchanged as long as the graph
     */
    StepGraph(uint32_t numNodes,
              const int32_t* edges,
              uint32_t numEdges,
              uint32_t numSteps,
              const int64_t* delayNs,
              const uint8_t* up,
              uint32_t lowBits,
              bool hopsFirst = false,
              bool borrowDelays = false);

    uint32_t GetNNodes() const;
    uint32_t GetNSteps() const;
    /// Delay in ns of a path of packed length @p packed.
    int64_t DelayOf(int64_t packed) const;
    /// Hop count of a path of packed length @p packed.
    int32_t HopsOf(int64_t packed) const;

    /// The CSR arcs of step @p step (indptr has N + 1 entries).
    void BuildCsr(uint32_t step,
                  std::vector<int32_t>& indptr,
                  std::vector<int32_t>& indices,
                  std::vector<int64_t>& weights) const;

    /**
     * @brief Connected components of every step.
     * @param labels out [S, N]: the smallest node id of each node's component in each step
     */
    void ComponentLabels(int32_t* labels) const;

  private:
    uint32_t m_numNodes;
    uint32_t m_numEdges;
    uint32_t m_numSteps;
    uint32_t m_lowBits;
    bool m_hopsFirst;
    std::vector<int32_t> m_tails;   //!< [2E] arc tails, both directions, in CSR order
    std::vector<int32_t> m_heads;   //!< [2E] arc heads, in CSR order
    std::vector<uint32_t> m_linkOf; //!< [2E] link index of each arc
    std::vector<int32_t> m_degreeStart; //!< [N + 1] first arc of each node
    std::vector<int64_t> m_delayNs; //!< [S, E], empty when borrowed
    const int64_t* m_delays;        //!< [S, E]: m_delayNs's data, or the borrowed array
    std::vector<uint8_t> m_up;      //!< [S, E], empty when every link is always up
};

/**
 * @brief Dijkstra from one root, run only until the nodes asked about are settled.
 *
 * The nodes are popped in exactly the order of a full run (a binary heap with lazy deletion, arcs
 * relaxed in CSR order, strict improvements only), and a settled node's parent and distance never
 * change afterwards, so every answer equals that of the complete tree.
 */
class GrowingTree
{
  public:
    GrowingTree(uint32_t numNodes, int32_t root);

    /// Start again from @p root, reusing the arrays: only the nodes the last run touched are reset.
    void Reset(int32_t root);

    /**
     * @brief Run until @p node is settled or nothing is left to settle.
     * @return true when @p node is reachable (then Parent and Packed are final)
     */
    bool Settle(uint32_t node, const int32_t* indptr, const int32_t* indices, const int64_t* weights);
    /// Run to the end: every node reachable from the root is then settled.
    void SettleAll(const int32_t* indptr, const int32_t* indices, const int64_t* weights);
    /// Parent of a settled node (the root is its own parent).
    int32_t Parent(uint32_t node) const;
    /// Packed length (delay << hopBits | hops) of a settled node's path.
    int64_t Packed(uint32_t node) const;
    /// Nodes settled so far.
    uint32_t GetNSettled() const;

  private:
    /// Pop the next node; false when nothing is left.
    bool Step(const int32_t* indptr, const int32_t* indices, const int64_t* weights);

    std::vector<int64_t> m_dist;
    std::vector<int32_t> m_parent;
    std::vector<uint8_t> m_settled;
    std::vector<std::pair<int64_t, int32_t>> m_heap;
    std::vector<int32_t> m_touched; //!< nodes given a distance, to reset in O(touched)
    uint32_t m_numSettled;
};

/**
 * @brief Shortest paths of one step toward any destination, grown on demand.
 *
 * Holds one GrowingTree per destination asked about in the active step; switching steps drops
 * them. Memory is O(active destinations x N) for the current step only, and the work is only
 * the part of each tree that the queries reach.
 */
class LazyShortestPaths
{
  public:
    explicit LazyShortestPaths(std::shared_ptr<const StepGraph> graph);

    /// Make @p step active (a no-op when it already is).
    void SetStep(uint32_t step);
    uint32_t GetStep() const;

    /// Next node from @p node toward @p dest; @p dest itself at @p dest; -1 if unreachable.
    int32_t NextHop(uint32_t node, uint32_t dest);
    /// Packed length of the path from @p node to @p dest; -1 if unreachable.
    int64_t Packed(uint32_t node, uint32_t dest);

    /// Trees grown so far over every step (a measure of the routing work).
    uint64_t GetTreesGrown() const;
    /// Nodes settled so far over every tree and step.
    uint64_t GetNodesSettled() const;

  private:
    GrowingTree& TreeToward(uint32_t dest);
    /// The tree toward @p dest, grown until @p node is settled; nullptr when it cannot be.
    const GrowingTree* Reach(uint32_t node, uint32_t dest);

    std::shared_ptr<const StepGraph> m_graph;
    uint32_t m_step;
    bool m_built;
    std::vector<int32_t> m_indptr;
    std::vector<int32_t> m_indices;
    std::vector<int64_t> m_weights;
    std::vector<std::unique_ptr<GrowingTree>> m_treeOf; //!< [N] the active step's tree toward each node
    std::vector<uint32_t> m_active;                      //!< destinations with a tree in the active step
    std::vector<std::unique_ptr<GrowingTree>> m_spare;   //!< trees of earlier steps, to reuse
    uint64_t m_treesGrown;
    uint64_t m_settledBefore; //!< nodes settled by the trees of earlier steps
};

/**
 * @brief Batched path queries over a StepGraph: delay and hop count of (step, source, destination)
 * triples, as the analytic model and the reports need them. Python creates one per run.
 */
class ShortestPathQuery
{
  public:
    /// Same arguments as StepGraph's constructor; the arrays are copied, but for the delays with
    /// @p borrowDelays (the caller then keeps them alive as long as this query).
    ShortestPathQuery(uint32_t numNodes,
                      const int32_t* edges,
                      uint32_t numEdges,
                      uint32_t numSteps,
                      const int64_t* delayNs,
                      const uint8_t* up,
                      uint32_t lowBits,
                      bool hopsFirst = false,
                      bool borrowDelays = false);

    /**
     * @brief Path of each query, as the routing of the packet simulation would follow it.
     * @param count number of queries
     * @param steps [count] topology step of each query
     * @param sources [count] node ids
     * @param destinations [count] node ids
     * @param delayNs out [count] path delay, ns; -1 if unreachable
     * @param hops out [count] links on the path; -1 if unreachable
     * @param rootAtSource grow the trees from the sources instead of the destinations: the
     *        answers are the same (the shortest packed length is symmetric),
     *        and one tree serves every query that shares a source (a gateway's k dispatches)
     */
    void Query(uint64_t count,
               const int32_t* steps,
               const int32_t* sources,
               const int32_t* destinations,
               int64_t* delayNs,
               int32_t* hops,
               bool rootAtSource = false);

    /**
     * @brief The nodes of each query's path, hop by hop as the packet simulation's routing
     * forwards (each node's next hop toward the destination in the step's tree rooted there),
     * for the analytic model's link queueing.
     * @param count number of queries
     * @param steps [count] topology step of each query
     * @param sources [count] node ids
     * @param destinations [count] node ids
     * @param width nodes kept per query
     * @param nodes out [count, width]: source, ..., destination, then -1; all -1 if unreachable
     *        (a path longer than width - 1 links is cut there)
     */
    void Paths(uint64_t count,
               const int32_t* steps,
               const int32_t* sources,
               const int32_t* destinations,
               uint32_t width,
               int32_t* nodes);

    /// Connected components of every step: [S, N] smallest node id of each node's component.
    void ComponentLabels(int32_t* labels) const;

    /// The graph, to share with a ForwardingTable.
    std::shared_ptr<const StepGraph> GetGraph() const;

    uint64_t GetTreesGrown() const;
    uint64_t GetNodesSettled() const;

  private:
    std::shared_ptr<const StepGraph> m_graph;
    /// Kept across calls: consecutive calls mostly ask about the same step, whose trees then serve
    /// again (a tree's answers do not depend on how far it had grown).
    LazyShortestPaths m_paths;
};

} // namespace ns3

#endif /* SPACE_XNET_LAZY_SHORTEST_PATHS_H */
