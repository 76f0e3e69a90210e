/*
 * Space-XNet: shortest-path trees toward many destinations, for the per-snapshot routing tables.
 */
#ifndef SPACE_XNET_SHORTEST_PATH_TREES_H
#define SPACE_XNET_SHORTEST_PATH_TREES_H

#include <cstdint>

namespace ns3
{

/**
 * @brief Dijkstra from every destination over an undirected graph given in CSR form.
 *
 * This is the native engine of harness/routes.py (its reference engine is
 * scipy.sparse.csgraph.dijkstra; the tests check that the two agree). Because links are
 * undirected, a node's parent in the tree rooted at destination d is its next hop toward d.
 *
 * Arc weights are (delay_ns << hopBits) + 1, so a path's packed length holds its delay in the high
 * bits and its hop count in the low bits, and equal delays are broken toward fewer hops. Remaining
 * ties go to the neighbour relaxed first in CSR order, which is deterministic.
 *
 * Outputs are node-major, [N, D], as the ForwardingTable wants them; trees are computed a block of
 * destinations at a time per thread and written back tile by tile.
 *
 * @param numNodes N
 * @param indptr [N + 1] CSR row pointers (both directions of every link present)
 * @param indices [indptr[N]] neighbour of each arc
 * @param weights [indptr[N]] packed weight of each arc, > 0
 * @param hopBits bits of the packed weight that hold the hop count
 * @param destinations [D] node ids
 * @param numDestinations D
 * @param nextHop out [N, D]: next node from n toward destinations[d]; the destination itself at d; -1 if unreachable
 * @param delayNs out [N, D]: path delay in ns; -1 if unreachable
 * @param hops out [N, D]: path hop count; -1 if unreachable
 * @param numThreads worker threads; 0 means one per core
 */
void ComputeShortestPathTrees(uint32_t numNodes,
                              const int32_t* indptr,
                              const int32_t* indices,
                              const int64_t* weights,
                              uint32_t hopBits,
                              const int32_t* destinations,
                              uint32_t numDestinations,
                              int32_t* nextHop,
                              int64_t* delayNs,
                              int16_t* hops,
                              uint32_t numThreads);

/**
 * @brief Path delays from every source to a few targets, each tree grown only until its targets
 * are settled.
 *
 * The same Dijkstra, arcs and packed weights as ComputeShortestPathTrees (a GrowingTree per
 * source, reused), so every delay is that tree's, but nothing beyond the farthest target is
 * settled and no [N, K] table is written. The placements' subnet centres need only the delays
 * between members of neighbouring ring subnets (harness/placement/subnets.py).
 *
 * @param numNodes N
 * @param indptr [N + 1] CSR row pointers (both directions of every link present)
 * @param indices [indptr[N]] neighbour of each arc
 * @param weights [indptr[N]] packed weight of each arc, > 0
 * @param hopBits bits of the packed weight that hold the hop count
 * @param sources [K] node ids
 * @param numSources K
 * @param targets [T] node ids, the same for every source
 * @param numTargets T
 * @param delayNs out [K, T]: delay in ns of the shortest path from sources[k] to targets[t]; -1 if unreachable
 * @param numThreads worker threads; 0 means one per core
 */
void ComputePathDelaysToTargets(uint32_t numNodes,
                                const int32_t* indptr,
                                const int32_t* indices,
                                const int64_t* weights,
                                uint32_t hopBits,
                                const int32_t* sources,
                                uint32_t numSources,
                                const int32_t* targets,
                                uint32_t numTargets,
                                int64_t* delayNs,
                                uint32_t numThreads);

} // namespace ns3

#endif /* SPACE_XNET_SHORTEST_PATH_TREES_H */
