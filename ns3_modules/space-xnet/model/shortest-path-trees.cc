/*
 * Space-XNet: shortest-path trees toward many destinations, for the per-snapshot routing tables.
 */
#include "shortest-path-trees.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <thread>
#include <utility>
#include <vector>

namespace ns3
{

namespace
{

/// Destinations per tile: one tile's rows fit in L2, and each node's writes are a contiguous run.
constexpr uint32_t TILE = 32;
constexpr int64_t UNREACHED = std::numeric_limits<int64_t>::max();

/// Dijkstra from @p root into @p dist / @p parent (length N each).
void
TreeToward(const int32_t* indptr,
           const int32_t* indices,
           const int64_t* weights,
           int32_t root,
           int64_t* dist,
           int32_t* parent,
           uint32_t numNodes,
           std::vector<std::pair<int64_t, int32_t>>& heap)
{
    using Entry = std::pair<int64_t, int32_t>;
    std::fill(dist, dist + numNodes, UNREACHED);
    std::fill(parent, parent + numNodes, -1);
    dist[root] = 0;
    parent[root] = root;
    heap.clear();
    heap.emplace_back(0, root);
    // A binary heap with lazy deletion: a stale entry (no longer its node's distance) is skipped.
    while (!heap.empty())
    {
        std::pop_heap(heap.begin(), heap.end(), std::greater<Entry>());
        auto [d, u] = heap.back();
        heap.pop_back();
        if (d != dist[u])
        {
            continue;
        }
        for (int32_t k = indptr[u]; k < indptr[u + 1]; ++k)
        {
            int32_t v = indices[k];
            int64_t candidate = d + weights[k];
            if (candidate < dist[v])
            {
                dist[v] = candidate;
                parent[v] = u;
                heap.emplace_back(candidate, v);
                std::push_heap(heap.begin(), heap.end(), std::greater<Entry>());
            }
        }
    }
}

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
    if (numThreads == 0)
    {
        numThreads = std::max(1u, std::thread::hardware_concurrency());
    }
    uint32_t numTiles = (numDestinations + TILE - 1) / TILE;
    numThreads = std::max(1u, std::min(numThreads, numTiles));
    const int64_t hopMask = (int64_t{1} << hopBits) - 1;
    auto work = [&](uint32_t firstTile) {
        std::vector<int64_t> dist(static_cast<size_t>(TILE) * numNodes);
        std::vector<int32_t> parent(static_cast<size_t>(TILE) * numNodes);
        std::vector<std::pair<int64_t, int32_t>> heap;
        heap.reserve(4 * static_cast<size_t>(numNodes));
        for (uint32_t tile = firstTile; tile < numTiles; tile += numThreads)
        {
            uint32_t first = tile * TILE;
            uint32_t count = std::min(TILE, numDestinations - first);
            for (uint32_t j = 0; j < count; ++j)
            {
                TreeToward(indptr, indices, weights, destinations[first + j], &dist[j * numNodes],
                           &parent[j * numNodes], numNodes, heap);
            }
            for (uint32_t n = 0; n < numNodes; ++n)
            {
                uint64_t at = static_cast<uint64_t>(n) * numDestinations + first;
                for (uint32_t j = 0; j < count; ++j)
                {
                    int64_t d = dist[j * numNodes + n];
                    bool reached = d != UNREACHED;
                    nextHop[at + j] = parent[j * numNodes + n];
                    delayNs[at + j] = reached ? (d >> hopBits) : -1;
                    hops[at + j] = reached ? static_cast<int16_t>(d & hopMask) : -1;
                }
            }
        }
    };
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

} // namespace ns3
