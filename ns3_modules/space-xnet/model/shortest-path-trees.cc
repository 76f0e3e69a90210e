/*
 * Space-XNet: shortest-path trees toward many destinations, for the per-snapshot routing tables.
 */
#include "shortest-path-trees.h"

#include "ns3/lazy-shortest-paths.h"
#include "ns3/log.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("ShortestPathTrees");

namespace
{
/// Runs ``work(t)`` for t = 0 .. numThreads - 1, t = 0 on the calling thread, and waits for all.
template <typename Work>
void
RunOnThreads(uint32_t numThreads, const Work& work)
{
    std::vector<std::thread> workers;
    for (uint32_t t = 1; t < numThreads; ++t)
    {
        workers.emplace_back(work, t);
    }
    work(0);
    for (auto& w : workers)
    {
        w.join();
    }
}

/// Destinations per tile: each node's writes are a contiguous run of the tile's columns.
constexpr uint32_t TILE = 32;

} // namespace

void
ComputeShortestPathTrees(uint32_t numNodes,
                         const int32_t* indptr,
                         const int32_t* indices,
                         const int64_t* weights,
                         uint32_t hopBits,
                         const int32_t* destinations,
                         uint32_t numDestinations,
                         int32_t* nextHop,
                         int64_t* delayNs,
                         int16_t* hops,
                         uint32_t numThreads)
{
    NS_LOG_FUNCTION(numNodes << numDestinations << numThreads);
    if (numThreads == 0)
    {
        numThreads = std::max(1u, std::thread::hardware_concurrency());
    }
    uint32_t numTiles = (numDestinations + TILE - 1) / TILE;
    numThreads = std::max(1u, std::min(numThreads, numTiles));
    const int64_t hopMask = (int64_t{1} << hopBits) - 1;
    auto work = [&](uint32_t firstTile) {
        std::vector<std::unique_ptr<GrowingTree>> trees(TILE);
        for (uint32_t tile = firstTile; tile < numTiles; tile += numThreads)
        {
            uint32_t first = tile * TILE;
            uint32_t count = std::min(TILE, numDestinations - first);
            for (uint32_t j = 0; j < count; ++j)
            {
                // The same Dijkstra as the on-demand routes, run to the end.
                trees[j] = std::make_unique<GrowingTree>(numNodes, destinations[first + j]);
                trees[j]->SettleAll(indptr, indices, weights);
            }
            for (uint32_t n = 0; n < numNodes; ++n)
            {
                uint64_t at = static_cast<uint64_t>(n) * numDestinations + first;
                for (uint32_t j = 0; j < count; ++j)
                {
                    int64_t d = trees[j]->Packed(n);
                    bool reached = d >= 0;
                    nextHop[at + j] = trees[j]->Parent(n);
                    delayNs[at + j] = reached ? (d >> hopBits) : -1;
                    hops[at + j] = reached ? static_cast<int16_t>(d & hopMask) : -1;
                }
            }
        }
    };
    RunOnThreads(numThreads, work);
}

void
ComputePathDelaysToTargets(uint32_t numNodes,
                           const int32_t* indptr,
                           const int32_t* indices,
                           const int64_t* weights,
                           uint32_t hopBits,
                           const int32_t* sources,
                           uint32_t numSources,
                           const int32_t* targets,
                           uint32_t numTargets,
                           int64_t* delayNs,
                           uint32_t numThreads)
{
    NS_LOG_FUNCTION(numNodes << numSources << numTargets << numThreads);
    if (numSources == 0)
    {
        return;
    }
    if (numThreads == 0)
    {
        numThreads = std::max(1u, std::thread::hardware_concurrency());
    }
    numThreads = std::max(1u, std::min(numThreads, numSources));
    auto work = [&](uint32_t first) {
        GrowingTree tree(numNodes, sources[first]);
        for (uint32_t k = first; k < numSources; k += numThreads)
        {
            if (k != first)
            {
                tree.Reset(sources[k]); // only the nodes the last tree touched are cleared
            }
            int64_t* out = delayNs + static_cast<uint64_t>(k) * numTargets;
            for (uint32_t t = 0; t < numTargets; ++t)
            {
                // Settled in the order of a full run: the answer is the complete tree's.
                out[t] = tree.Settle(targets[t], indptr, indices, weights)
                             ? (tree.Packed(targets[t]) >> hopBits)
                             : -1;
            }
        }
    };
    RunOnThreads(numThreads, work);
}

} // namespace ns3
