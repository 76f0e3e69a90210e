/*
 * Space-XNet: shortest paths computed only as far as the traffic needs them.
 */
#ifndef SPACE_XNET_LAZY_SHORTEST_PATHS_H
#define SPACE_XNET_LAZY_SHORTEST_PATHS_H

#include "ns3/mapped-rows.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <thread>
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
     * @param borrowStates the same for @p up
     */
    StepGraph(uint32_t numNodes,
              const int32_t* edges,
              uint32_t numEdges,
              uint32_t numSteps,
              const int64_t* delayNs,
              const uint8_t* up,
              uint32_t lowBits,
              bool hopsFirst = false,
              bool borrowDelays = false,
              bool borrowStates = false);

    /**
     * @brief Hold the borrowed delays and states a window of steps at a time (MappedRows): both
     * must be borrowed, each in a read-only shared file mapping (harness/network/spill.py).
     * @param window steps read between two releases of the mappings' pages; 0: never release
     */
    void SetReleaseWindow(uint32_t window);
    /// The borrowed delays' window (MappedRows: releases, most steps held).
    const MappedRows& GetDelayRows() const;
    /// The borrowed states' window.
    const MappedRows& GetStateRows() const;

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
    std::vector<uint8_t> m_up;      //!< [S, E], empty when every link is always up or when borrowed
    const uint8_t* m_states = nullptr; //!< [S, E]: m_up's data, the borrowed array, or null: always up
    bool m_borrowedDelays = false;
    bool m_borrowedStates = false;
    MappedRows m_delayRows; //!< SetReleaseWindow's window over the borrowed delays
    MappedRows m_stateRows; //!< and over the borrowed states
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
    static constexpr int64_t UNREACHED = std::numeric_limits<int64_t>::max();
    static constexpr uint32_t UNSETTLED = std::numeric_limits<uint32_t>::max();

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
    /**
     * @brief Run until @p count nodes are settled, nothing is left, or @p stop is set (checked
     * before every node): ahead of the queries, on another thread (LazyShortestPaths's prefetch).
     * The tree is valid whenever it stops; Settle grows it on from there.
     */
    void Grow(uint32_t count,
              const int32_t* indptr,
              const int32_t* indices,
              const int64_t* weights,
              const std::atomic<bool>& stop);
    /// Parent of a settled node (the root is its own parent).
    int32_t Parent(uint32_t node) const;
    /**
     * @brief Parent of @p node if it is settled already (counted as a query, as by Settle), else -1:
     * the lookup of a hop whose tree reached it, in one record.
     */
    int32_t SettledParent(uint32_t node)
    {
        const Node& record = m_node[node];
        if (record.rank == UNSETTLED)
        {
            return -1;
        }
        m_needed = std::max(m_needed, record.rank + 1);
        return record.parent;
    }
    /// Packed length (delay << hopBits | hops) of a settled node's path.
    int64_t Packed(uint32_t node) const;
    /**
     * @brief Nodes the queries so far needed settled: those a tree grown only by Settle would have
     * settled (the same number whether or not Grow ran ahead of them, since nodes settle in the
     * same order).
     */
    uint32_t GetNSettled() const;

  private:
    /// Pop the next node; false when nothing is left.
    bool Step(const int32_t* indptr, const int32_t* indices, const int64_t* weights);

    /// What the tree knows of a node, in one 16-byte record (one cache line per lookup).
    struct Node
    {
        int64_t dist = UNREACHED;     //!< packed length of the best path found so far
        int32_t parent = -1;          //!< next node toward the root on that path
        uint32_t rank = UNSETTLED;    //!< settle order (0 for the root), UNSETTLED until settled
    };

    std::vector<Node> m_node;
    std::vector<std::pair<int64_t, int32_t>> m_heap;
    std::vector<int32_t> m_touched; //!< nodes given a distance, to reset in O(touched)
    uint32_t m_numSettled;
    uint32_t m_needed; //!< GetNSettled: the largest settle rank a query reached, plus one
};

/**
 * @brief Shortest paths of one step toward any destination, grown on demand.
 *
 * Holds one GrowingTree per destination asked about in the active step; switching steps drops
 * them. Memory is O(active destinations x N) for the current step only, and the work is only
 * the part of each tree that the queries reach.
 *
 * With the prefetch on (SetPrefetch; the packet simulation's ForwardingTable with its
 * PrefetchRoutes attribute, whose steps advance one at a time), switching to step s also starts a worker thread that grows the trees of step
 * s + 1 toward the destinations the step before used, each about as far as its tree there grew,
 * while the simulation runs step s on the calling thread. Switching to s + 1 stops the worker
 * (it checks a flag before every node) and hands its trees, however far they got, to the
 * queries, which grow them on as needed. A tree's answers do not depend on how far it had grown,
 * nor on which thread grew it, so every next hop is the same as without the prefetch; the
 * counters (GetTreesGrown, GetNodesSettled) count what the queries needed, also the same.
 */
class LazyShortestPaths
{
  public:
    explicit LazyShortestPaths(std::shared_ptr<const StepGraph> graph);
    ~LazyShortestPaths();
    LazyShortestPaths(const LazyShortestPaths&) = delete;
    LazyShortestPaths& operator=(const LazyShortestPaths&) = delete;

    /// Grow the next step's trees on a worker thread (see the class description); off by default.
    void SetPrefetch(bool prefetch);
    /// Stop the worker thread, if one runs, and wait for it (its trees stay usable).
    void StopPrefetch();
    /// Wait until the worker thread, if one runs, has done its job (tests: a step switch then finds
    /// every prefetched tree grown to its target, whatever the machine's load).
    void WaitPrefetch();

    /// Make @p step active (a no-op when it already is).
    void SetStep(uint32_t step);
    uint32_t GetStep() const;

    /// Next node from @p node toward @p dest; @p dest itself at @p dest; -1 if unreachable.
    int32_t NextHop(uint32_t node, uint32_t dest);
    /// Packed length of the path from @p node to @p dest; -1 if unreachable.
    int64_t Packed(uint32_t node, uint32_t dest);

    /// Trees grown so far over every step (a measure of the routing work).
    uint64_t GetTreesGrown() const;
    /// Of those, the trees the prefetch had started to grow before their first query.
    uint64_t GetTreesPrefetched() const;
    /// Nodes settled so far over every tree and step.
    uint64_t GetNodesSettled() const;

  private:
    GrowingTree& TreeToward(uint32_t dest);
    /// The tree toward @p dest, grown until @p node is settled; nullptr when it cannot be.
    const GrowingTree* Reach(uint32_t node, uint32_t dest);
    /// SetStep's part for the prefetch: take the worker's trees of @p step, start the next step's
    /// toward m_nextDests (the step before's destinations), each grown until m_nextTargets settle.
    void PrefetchSwitch(uint32_t step);

    /// The worker's job: the CSR of one step and the trees it grows in it.
    struct Prefetch
    {
        uint32_t step = 0;
        std::vector<int32_t> indptr;
        std::vector<int32_t> indices;
        std::vector<int64_t> weights;
        std::vector<uint32_t> dests;                     //!< roots of the trees, in order
        std::vector<uint32_t> targets;                   //!< nodes to settle in each tree
        std::vector<std::unique_ptr<GrowingTree>> trees; //!< one per root
        bool built = false;                              //!< the CSR is complete
        uint32_t ready = 0;                              //!< trees reset to their roots (usable)
        std::atomic<bool> stop{false};
        std::thread worker;
        bool pending = false; //!< a job for step was started and not yet taken
    };

    std::shared_ptr<const StepGraph> m_graph;
    uint32_t m_step;
    bool m_entered = false; //!< a step was made active
    bool m_built;
    std::vector<int32_t> m_indptr;
    std::vector<int32_t> m_indices;
    std::vector<int64_t> m_weights;
    std::vector<std::unique_ptr<GrowingTree>> m_treeOf; //!< [N] the active step's tree toward each node
    std::vector<uint32_t> m_active;                      //!< destinations with a tree in the active step
    std::vector<std::unique_ptr<GrowingTree>> m_spare;   //!< trees of earlier steps, to reuse
    uint64_t m_treesGrown;
    uint64_t m_treesPrefetched = 0;
    uint64_t m_settledBefore; //!< nodes settled by the trees of earlier steps
    bool m_prefetch;
    std::unique_ptr<Prefetch> m_job;                    //!< the worker's job, when the prefetch is on
    std::vector<std::unique_ptr<GrowingTree>> m_ready;  //!< [N] the worker's trees of the active step, not yet asked for
    std::vector<uint32_t> m_readyDests;                 //!< destinations with a tree in m_ready
    std::vector<uint32_t> m_nextDests;                  //!< the next job's roots (SetStep fills them)
    std::vector<uint32_t> m_nextTargets;                //!< the next job's nodes to settle per root
};

/**
 * @brief Batched path queries over a StepGraph: delay and hop count of (step, source, destination)
 * triples, as the analytic model and the reports need them. Python creates one per run.
 */
class ShortestPathQuery
{
  public:
    /// Same arguments as StepGraph's constructor; the arrays are copied, but for the delays with
    /// @p borrowDelays and the states with @p borrowStates (the caller then keeps them alive as
    /// long as this query).
    ShortestPathQuery(uint32_t numNodes,
                      const int32_t* edges,
                      uint32_t numEdges,
                      uint32_t numSteps,
                      const int64_t* delayNs,
                      const uint8_t* up,
                      uint32_t lowBits,
                      bool hopsFirst = false,
                      bool borrowDelays = false,
                      bool borrowStates = false);

    /// StepGraph::SetReleaseWindow of the graph (before it is shared with a ForwardingTable).
    void SetReleaseWindow(uint32_t window);
    /// The most steps of delays the graph held between two releases (StepGraph::GetDelayRows).
    uint32_t GetMaxStepsHeld() const;
    /// Releases of the graph's delays so far.
    uint64_t GetReleases() const;

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
    std::shared_ptr<StepGraph> m_graph;
    /// Kept across calls: consecutive calls mostly ask about the same step, whose trees then serve
    /// again (a tree's answers do not depend on how far it had grown).
    LazyShortestPaths m_paths;
};

} // namespace ns3

#endif /* SPACE_XNET_LAZY_SHORTEST_PATHS_H */
