/*
 * Space-XNet: shortest paths computed only as far as the traffic needs them.
 */
#include "lazy-shortest-paths.h"

#include "ns3/abort.h"
#include "ns3/log.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <mutex>
#include <numeric>
#include <pthread.h>
#include <set>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("LazyShortestPaths");

namespace
{
constexpr int64_t UNREACHED = GrowingTree::UNREACHED;
using HeapEntry = std::pair<int64_t, int32_t>;

/*
 * A 4-ary min-heap of (packed length, node) entries, ordered as the pairs compare: the pops come in
 * exactly the order of the binary std::push_heap / std::pop_heap heap it replaces (every entry is a
 * distinct (length, node) pair, since a node is pushed again only with a strictly shorter length),
 * so the trees are the same; it is shallower and touches fewer cache lines per operation.
 */
constexpr std::size_t ARITY = 4;

inline void
HeapPush(std::vector<HeapEntry>& heap, HeapEntry entry)
{
    std::size_t i = heap.size();
    heap.push_back(entry);
    while (i > 0)
    {
        std::size_t parent = (i - 1) / ARITY;
        if (!(entry < heap[parent]))
        {
            break;
        }
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = entry;
}

/// Remove and return the smallest entry (the heap must not be empty).
inline HeapEntry
HeapPop(std::vector<HeapEntry>& heap)
{
    HeapEntry top = heap.front();
    HeapEntry last = heap.back();
    heap.pop_back();
    const std::size_t n = heap.size();
    if (n == 0)
    {
        return top;
    }
    std::size_t i = 0;
    while (true)
    {
        std::size_t first = ARITY * i + 1;
        if (first >= n)
        {
            break;
        }
        std::size_t best = first;
        std::size_t end = std::min(first + ARITY, n);
        for (std::size_t c = first + 1; c < end; ++c)
        {
            if (heap[c] < heap[best])
            {
                best = c;
            }
        }
        if (!(heap[best] < last))
        {
            break;
        }
        heap[i] = heap[best];
        i = best;
    }
    heap[i] = last;
    return top;
}

/*
 * Every LazyShortestPaths whose prefetch is on. Before the process forks (the harness forks its
 * strategies' processes), their worker threads are stopped and joined: a child must not inherit
 * a std::thread whose thread it does not have. Their trees stay usable; the next step switch
 * takes them as usual.
 */
std::mutex g_prefetchMutex;
std::set<LazyShortestPaths*>* g_prefetching = nullptr;

void
StopEveryPrefetch()
{
    std::lock_guard<std::mutex> lock(g_prefetchMutex);
    if (g_prefetching)
    {
        for (LazyShortestPaths* paths : *g_prefetching)
        {
            paths->StopPrefetch();
        }
    }
}

void
RegisterPrefetch(LazyShortestPaths* paths, bool on)
{
    static std::once_flag atfork;
    std::call_once(atfork, [] { pthread_atfork(&StopEveryPrefetch, nullptr, nullptr); });
    std::lock_guard<std::mutex> lock(g_prefetchMutex);
    if (!g_prefetching)
    {
        g_prefetching = new std::set<LazyShortestPaths*>(); // never freed: atfork may run at exit
    }
    if (on)
    {
        g_prefetching->insert(paths);
    }
    else
    {
        g_prefetching->erase(paths);
    }
}
} // namespace

StepGraph::StepGraph(uint32_t numNodes,
                     const int32_t* edges,
                     uint32_t numEdges,
                     uint32_t numSteps,
                     const int64_t* delayNs,
                     const uint8_t* up,
                     uint32_t lowBits,
                     bool hopsFirst,
                     bool borrowDelays,
                     bool borrowStates)
    : m_numNodes(numNodes),
      m_numEdges(numEdges),
      m_numSteps(numSteps),
      m_lowBits(lowBits),
      m_hopsFirst(hopsFirst)
{
    NS_ABORT_MSG_IF(numNodes == 0 || numSteps == 0, "StepGraph needs nodes and steps");
    NS_ABORT_MSG_IF(lowBits == 0 || lowBits > 48, "lowBits out of range: " << lowBits);
    // Both directions: forward arcs of links 0..E-1, then the reverse arcs, stably sorted by
    // (tail, head), as numpy's lexsort does in harness/routes.py.
    std::vector<uint32_t> order(2 * static_cast<size_t>(numEdges));
    std::iota(order.begin(), order.end(), 0);
    auto tail = [&](uint32_t a) { return a < numEdges ? edges[2 * a] : edges[2 * (a - numEdges) + 1]; };
    auto head = [&](uint32_t a) { return a < numEdges ? edges[2 * a + 1] : edges[2 * (a - numEdges)]; };
    for (uint32_t a = 0; a < order.size(); ++a)
    {
        NS_ABORT_MSG_IF(tail(a) < 0 || static_cast<uint32_t>(tail(a)) >= numNodes,
                        "link node id " << tail(a) << " out of range");
    }
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        return std::make_pair(tail(a), head(a)) < std::make_pair(tail(b), head(b));
    });
    m_tails.resize(order.size());
    m_heads.resize(order.size());
    m_linkOf.resize(order.size());
    m_degreeStart.assign(numNodes + 1, 0);
    for (size_t i = 0; i < order.size(); ++i)
    {
        m_tails[i] = tail(order[i]);
        m_heads[i] = head(order[i]);
        m_linkOf[i] = order[i] < numEdges ? order[i] : order[i] - numEdges;
        ++m_degreeStart[m_tails[i] + 1];
    }
    std::partial_sum(m_degreeStart.begin(), m_degreeStart.end(), m_degreeStart.begin());
    uint64_t cells = static_cast<uint64_t>(numSteps) * numEdges;
    if (borrowDelays)
    {
        m_delays = delayNs;
    }
    else
    {
        m_delayNs.assign(delayNs, delayNs + cells);
        m_delays = m_delayNs.data();
    }
    for (uint64_t i = 0; i < cells; ++i)
    {
        NS_ABORT_MSG_IF(m_delays[i] < 0, "negative link delay");
    }
    if (up != nullptr && borrowStates)
    {
        m_states = up;
    }
    else if (up != nullptr)
    {
        m_up.assign(up, up + cells);
        m_states = m_up.data();
    }
    m_borrowedDelays = borrowDelays;
    m_borrowedStates = borrowStates && up != nullptr;
}

void
StepGraph::SetReleaseWindow(uint32_t window)
{
    NS_ABORT_MSG_IF(window > 0 && (!m_borrowedDelays || (m_states != nullptr && !m_borrowedStates)),
                    "a release window needs borrowed delays and states");
    const uint64_t cells = static_cast<uint64_t>(m_numSteps) * m_numEdges;
    m_delayRows.Set(m_delays, cells * sizeof(int64_t), window);
    m_stateRows.Set(m_states, m_states ? cells : 0, m_states ? window : 0);
}

const MappedRows&
StepGraph::GetDelayRows() const
{
    return m_delayRows;
}

const MappedRows&
StepGraph::GetStateRows() const
{
    return m_stateRows;
}

uint32_t
StepGraph::GetNNodes() const
{
    return m_numNodes;
}

uint32_t
StepGraph::GetNSteps() const
{
    return m_numSteps;
}

int64_t
StepGraph::DelayOf(int64_t packed) const
{
    const int64_t low = packed & ((int64_t{1} << m_lowBits) - 1);
    return m_hopsFirst ? low : packed >> m_lowBits;
}

int32_t
StepGraph::HopsOf(int64_t packed) const
{
    const int64_t low = packed & ((int64_t{1} << m_lowBits) - 1);
    return static_cast<int32_t>(m_hopsFirst ? packed >> m_lowBits : low);
}

void
StepGraph::BuildCsr(uint32_t step,
                    std::vector<int32_t>& indptr,
                    std::vector<int32_t>& indices,
                    std::vector<int64_t>& weights) const
{
    NS_ABORT_MSG_IF(step >= m_numSteps, "step " << step << " out of range");
    const uint64_t row = static_cast<uint64_t>(step) * m_numEdges;
    m_delayRows.Read(step);
    m_stateRows.Read(step);
    indptr.assign(m_numNodes + 1, 0);
    indices.clear();
    weights.clear();
    indices.reserve(m_heads.size());
    weights.reserve(m_heads.size());
    for (uint32_t n = 0; n < m_numNodes; ++n)
    {
        for (int32_t a = m_degreeStart[n]; a < m_degreeStart[n + 1]; ++a)
        {
            uint32_t link = m_linkOf[a];
            if (m_states && !m_states[row + link])
            {
                continue;
            }
            indices.push_back(m_heads[a]);
            const int64_t delay = m_delays[row + link];
            weights.push_back(m_hopsFirst ? (int64_t{1} << m_lowBits) + delay : (delay << m_lowBits) + 1);
        }
        indptr[n + 1] = static_cast<int32_t>(indices.size());
    }
}

void
StepGraph::ComponentLabels(int32_t* labels) const
{
    std::vector<int32_t> parent(m_numNodes);
    auto find = [&](int32_t x) {
        while (parent[x] != x)
        {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        return x;
    };
    for (uint32_t s = 0; s < m_numSteps; ++s)
    {
        std::iota(parent.begin(), parent.end(), 0);
        const uint64_t row = static_cast<uint64_t>(s) * m_numEdges;
        m_stateRows.Read(s);
        for (size_t a = 0; a < m_tails.size(); ++a)
        {
            if (m_states && !m_states[row + m_linkOf[a]])
            {
                continue;
            }
            int32_t x = find(m_tails[a]);
            int32_t y = find(m_heads[a]);
            if (x != y)
            {
                // The smaller id becomes the root, so a component's label is its smallest node.
                parent[std::max(x, y)] = std::min(x, y);
            }
        }
        int32_t* out = labels + static_cast<uint64_t>(s) * m_numNodes;
        for (uint32_t n = 0; n < m_numNodes; ++n)
        {
            out[n] = find(static_cast<int32_t>(n));
        }
    }
}

GrowingTree::GrowingTree(uint32_t numNodes, int32_t root)
    : m_node(numNodes),
      m_numSettled(0),
      m_needed(0)
{
    // Sized once: a tree touches at most N nodes, and its heap rarely holds more entries, so
    // growing it (at every step, on either thread) seldom asks malloc for memory.
    m_touched.reserve(numNodes);
    m_heap.reserve(numNodes);
    m_node[root].dist = 0;
    m_node[root].parent = root;
    m_touched.push_back(root);
    m_heap.emplace_back(0, root);
}

void
GrowingTree::Reset(int32_t root)
{
    for (int32_t v : m_touched)
    {
        m_node[v] = Node();
    }
    m_touched.clear();
    m_heap.clear();
    m_numSettled = 0;
    m_needed = 0;
    m_node[root].dist = 0;
    m_node[root].parent = root;
    m_touched.push_back(root);
    m_heap.emplace_back(0, root);
}

bool
GrowingTree::Step(const int32_t* indptr, const int32_t* indices, const int64_t* weights)
{
    while (!m_heap.empty())
    {
        auto [d, u] = HeapPop(m_heap);
        if (d != m_node[u].dist)
        {
            continue; // a stale entry: u was reached by a shorter path since
        }
        m_node[u].rank = m_numSettled++;
        for (int32_t k = indptr[u]; k < indptr[u + 1]; ++k)
        {
            int32_t v = indices[k];
            int64_t candidate = d + weights[k];
            Node& next = m_node[v];
            if (candidate < next.dist)
            {
                if (next.dist == UNREACHED)
                {
                    m_touched.push_back(v);
                }
                next.dist = candidate;
                next.parent = u;
                HeapPush(m_heap, HeapEntry(candidate, v));
            }
        }
        return true;
    }
    return false;
}

bool
GrowingTree::Settle(uint32_t node, const int32_t* indptr, const int32_t* indices, const int64_t* weights)
{
    while (m_node[node].rank == UNSETTLED && Step(indptr, indices, weights))
    {
    }
    if (m_node[node].rank != UNSETTLED)
    {
        // Grown by Settle alone, the tree would have stopped right after settling node.
        m_needed = std::max(m_needed, m_node[node].rank + 1);
        return true;
    }
    m_needed = m_numSettled; // nothing left: Settle alone would have settled every reachable node
    return false;
}

void
GrowingTree::SettleAll(const int32_t* indptr, const int32_t* indices, const int64_t* weights)
{
    while (Step(indptr, indices, weights))
    {
    }
    m_needed = m_numSettled;
}

void
GrowingTree::Grow(uint32_t count,
                  const int32_t* indptr,
                  const int32_t* indices,
                  const int64_t* weights,
                  const std::atomic<bool>& stop)
{
    while (m_numSettled < count && !stop.load(std::memory_order_relaxed) && Step(indptr, indices, weights))
    {
    }
}

int32_t
GrowingTree::Parent(uint32_t node) const
{
    return m_node[node].rank != UNSETTLED ? m_node[node].parent : -1;
}

int64_t
GrowingTree::Packed(uint32_t node) const
{
    return m_node[node].rank != UNSETTLED ? m_node[node].dist : -1;
}

uint32_t
GrowingTree::GetNSettled() const
{
    return m_needed;
}

LazyShortestPaths::LazyShortestPaths(std::shared_ptr<const StepGraph> graph)
    : m_graph(std::move(graph)),
      m_step(0),
      m_built(false),
      m_treeOf(m_graph->GetNNodes()),
      m_treesGrown(0),
      m_settledBefore(0),
      m_prefetch(false),
      m_ready(m_graph->GetNNodes())
{
}

LazyShortestPaths::~LazyShortestPaths()
{
    SetPrefetch(false);
}

void
LazyShortestPaths::SetPrefetch(bool prefetch)
{
    if (prefetch == m_prefetch)
    {
        return;
    }
    if (!prefetch)
    {
        StopPrefetch();
    }
    m_prefetch = prefetch;
    RegisterPrefetch(this, prefetch);
}

void
LazyShortestPaths::StopPrefetch()
{
    if (m_job && m_job->worker.joinable())
    {
        m_job->stop.store(true, std::memory_order_relaxed);
        m_job->worker.join();
    }
}

void
LazyShortestPaths::WaitPrefetch()
{
    if (m_job && m_job->worker.joinable())
    {
        m_job->worker.join();
    }
}

void
LazyShortestPaths::SetStep(uint32_t step)
{
    if (m_entered && step == m_step)
    {
        return;
    }
    // What the step being left needed: its destinations, and how far each one's tree grew.
    m_nextDests.clear();
    m_nextTargets.clear();
    const uint32_t n = m_graph->GetNNodes();
    for (uint32_t dest : m_active)
    {
        const uint32_t needed = m_treeOf[dest]->GetNSettled();
        if (m_prefetch)
        {
            m_nextDests.push_back(dest);
            m_nextTargets.push_back(std::min(n, needed + needed / 8 + 8)); // a little beyond: paths move
        }
        m_settledBefore += needed;
        m_spare.push_back(std::move(m_treeOf[dest])); // reused by the next steps' trees
    }
    m_active.clear();
    for (uint32_t dest : m_readyDests)
    {
        if (m_ready[dest])
        {
            m_spare.push_back(std::move(m_ready[dest])); // grown ahead, never asked for
        }
    }
    m_readyDests.clear();
    m_step = step;
    m_entered = true;
    m_built = false; // the CSR of the new step is built when first needed
    if (m_prefetch)
    {
        PrefetchSwitch(step);
    }
}

void
LazyShortestPaths::PrefetchSwitch(uint32_t step)
{
    if (!m_job)
    {
        m_job = std::make_unique<Prefetch>();
    }
    Prefetch& job = *m_job;
    StopPrefetch();
    if (job.pending && job.step == step)
    {
        if (job.built)
        {
            std::swap(m_indptr, job.indptr);
            std::swap(m_indices, job.indices);
            std::swap(m_weights, job.weights);
            m_built = true;
        }
        for (uint32_t i = 0; i < job.ready; ++i)
        {
            m_ready[job.dests[i]] = std::move(job.trees[i]);
            m_readyDests.push_back(job.dests[i]);
        }
    }
    job.pending = false;
    for (auto& tree : job.trees)
    {
        if (tree)
        {
            m_spare.push_back(std::move(tree));
        }
    }
    job.trees.clear();
    if (step + 1 >= m_graph->GetNSteps() || m_nextDests.empty())
    {
        return;
    }
    job.step = step + 1;
    std::swap(job.dests, m_nextDests); // the buffers go back and forth, keeping their capacity
    std::swap(job.targets, m_nextTargets);
    for (size_t i = 0; i < job.dests.size(); ++i)
    {
        // Spare trees while there are; the worker makes the others (off this thread).
        job.trees.emplace_back();
        if (!m_spare.empty())
        {
            job.trees.back() = std::move(m_spare.back());
            m_spare.pop_back();
        }
    }
    job.built = false;
    job.ready = 0;
    job.stop.store(false, std::memory_order_relaxed);
    job.pending = true;
    const StepGraph* graph = m_graph.get();
    job.worker = std::thread([graph, &job]() {
        graph->BuildCsr(job.step, job.indptr, job.indices, job.weights);
        job.built = true;
        for (size_t i = 0; i < job.dests.size() && !job.stop.load(std::memory_order_relaxed); ++i)
        {
            if (!job.trees[i])
            {
                job.trees[i] = std::make_unique<GrowingTree>(graph->GetNNodes(), job.dests[i]);
            }
            job.trees[i]->Reset(static_cast<int32_t>(job.dests[i]));
            job.ready = static_cast<uint32_t>(i + 1);
            job.trees[i]->Grow(job.targets[i],
                               job.indptr.data(),
                               job.indices.data(),
                               job.weights.data(),
                               job.stop);
        }
    });
}

uint32_t
LazyShortestPaths::GetStep() const
{
    return m_step;
}

GrowingTree&
LazyShortestPaths::TreeToward(uint32_t dest)
{
    if (!m_built)
    {
        m_graph->BuildCsr(m_step, m_indptr, m_indices, m_weights);
        m_built = true;
    }
    std::unique_ptr<GrowingTree>& tree = m_treeOf[dest];
    if (!tree)
    {
        ++m_treesGrown;
        if (m_ready[dest])
        {
            ++m_treesPrefetched;
            tree = std::move(m_ready[dest]); // grown ahead by the prefetch: Settle goes on from there
        }
        else if (m_spare.empty())
        {
            tree = std::make_unique<GrowingTree>(m_graph->GetNNodes(), dest);
        }
        else
        {
            tree = std::move(m_spare.back());
            m_spare.pop_back();
            tree->Reset(dest);
        }
        m_active.push_back(dest);
    }
    return *tree;
}

const GrowingTree*
LazyShortestPaths::Reach(uint32_t node, uint32_t dest)
{
    if (node >= m_graph->GetNNodes() || dest >= m_graph->GetNNodes())
    {
        return nullptr;
    }
    GrowingTree& tree = TreeToward(dest);
    return tree.Settle(node, m_indptr.data(), m_indices.data(), m_weights.data()) ? &tree : nullptr;
}

int32_t
LazyShortestPaths::NextHop(uint32_t node, uint32_t dest)
{
    // The graph is undirected: a node's parent in the tree rooted at dest is its next hop.
    if (node < m_treeOf.size() && dest < m_treeOf.size() && m_treeOf[dest])
    {
        // Most hops ask a tree of this step about a node it has settled already.
        const int32_t parent = m_treeOf[dest]->SettledParent(node);
        if (parent >= 0)
        {
            return parent;
        }
    }
    const GrowingTree* tree = Reach(node, dest);
    return tree ? tree->Parent(node) : -1;
}

int64_t
LazyShortestPaths::Packed(uint32_t node, uint32_t dest)
{
    const GrowingTree* tree = Reach(node, dest);
    return tree ? tree->Packed(node) : -1;
}

uint64_t
LazyShortestPaths::GetTreesGrown() const
{
    return m_treesGrown;
}

uint64_t
LazyShortestPaths::GetTreesPrefetched() const
{
    return m_treesPrefetched;
}

uint64_t
LazyShortestPaths::GetNodesSettled() const
{
    uint64_t total = m_settledBefore;
    for (uint32_t dest : m_active)
    {
        total += m_treeOf[dest]->GetNSettled();
    }
    return total;
}

ShortestPathQuery::ShortestPathQuery(uint32_t numNodes,
                                     const int32_t* edges,
                                     uint32_t numEdges,
                                     uint32_t numSteps,
                                     const int64_t* delayNs,
                                     const uint8_t* up,
                                     uint32_t lowBits,
                                     bool hopsFirst,
                                     bool borrowDelays,
                                     bool borrowStates)
    : m_graph(std::make_shared<StepGraph>(numNodes, edges, numEdges, numSteps, delayNs, up, lowBits, hopsFirst,
                                          borrowDelays, borrowStates)),
      m_paths(m_graph)
{
    NS_LOG_FUNCTION(this << numNodes << numEdges << numSteps << hopsFirst);
}

void
ShortestPathQuery::Query(uint64_t count,
                         const int32_t* steps,
                         const int32_t* sources,
                         const int32_t* destinations,
                         int64_t* delayNs,
                         int32_t* hops,
                         bool rootAtSource)
{
    if (rootAtSource)
    {
        std::swap(sources, destinations);
    }
    const uint32_t n = m_graph->GetNNodes();
    // Grouped by (step, destination): one tree per group, grown as far as its farthest source.
    std::vector<uint64_t> order(count);
    std::iota(order.begin(), order.end(), 0);
    for (uint64_t i = 0; i < count; ++i)
    {
        NS_ABORT_MSG_IF(steps[i] < 0 || static_cast<uint32_t>(steps[i]) >= m_graph->GetNSteps(),
                        "query step " << steps[i] << " out of range");
        NS_ABORT_MSG_IF(sources[i] < 0 || static_cast<uint32_t>(sources[i]) >= n ||
                            destinations[i] < 0 || static_cast<uint32_t>(destinations[i]) >= n,
                        "query node out of range");
    }
    std::sort(order.begin(), order.end(), [&](uint64_t a, uint64_t b) {
        return std::make_pair(steps[a], destinations[a]) < std::make_pair(steps[b], destinations[b]);
    });
    for (uint64_t i : order)
    {
        m_paths.SetStep(static_cast<uint32_t>(steps[i]));
        int64_t packed = m_paths.Packed(static_cast<uint32_t>(sources[i]), static_cast<uint32_t>(destinations[i]));
        delayNs[i] = packed < 0 ? -1 : m_graph->DelayOf(packed);
        hops[i] = packed < 0 ? -1 : m_graph->HopsOf(packed);
    }
}

void
ShortestPathQuery::Paths(uint64_t count,
                         const int32_t* steps,
                         const int32_t* sources,
                         const int32_t* destinations,
                         uint32_t width,
                         int32_t* nodes)
{
    const uint32_t n = m_graph->GetNNodes();
    std::fill(nodes, nodes + count * width, -1);
    // Grouped by (step, destination), like Query: one tree per group.
    std::vector<uint64_t> order(count);
    std::iota(order.begin(), order.end(), 0);
    for (uint64_t i = 0; i < count; ++i)
    {
        NS_ABORT_MSG_IF(steps[i] < 0 || static_cast<uint32_t>(steps[i]) >= m_graph->GetNSteps(),
                        "path step " << steps[i] << " out of range");
        NS_ABORT_MSG_IF(sources[i] < 0 || static_cast<uint32_t>(sources[i]) >= n ||
                            destinations[i] < 0 || static_cast<uint32_t>(destinations[i]) >= n,
                        "path node out of range");
    }
    std::sort(order.begin(), order.end(), [&](uint64_t a, uint64_t b) {
        return std::make_pair(steps[a], destinations[a]) < std::make_pair(steps[b], destinations[b]);
    });
    for (uint64_t i : order)
    {
        m_paths.SetStep(static_cast<uint32_t>(steps[i]));
        auto dest = static_cast<uint32_t>(destinations[i]);
        int32_t node = sources[i];
        int32_t* row = nodes + i * width;
        for (uint32_t k = 0; k < width && node >= 0; ++k)
        {
            row[k] = node;
            if (static_cast<uint32_t>(node) == dest)
            {
                break;
            }
            node = m_paths.NextHop(static_cast<uint32_t>(node), dest);
        }
        if (node < 0)
        {
            std::fill(row, row + width, -1); // unreachable
        }
    }
}

void
ShortestPathQuery::ComponentLabels(int32_t* labels) const
{
    m_graph->ComponentLabels(labels);
}

std::shared_ptr<const StepGraph>
ShortestPathQuery::GetGraph() const
{
    return m_graph;
}

void
ShortestPathQuery::SetReleaseWindow(uint32_t window)
{
    m_graph->SetReleaseWindow(window);
}

uint32_t
ShortestPathQuery::GetMaxStepsHeld() const
{
    return m_graph->GetDelayRows().GetMaxRowsHeld();
}

uint64_t
ShortestPathQuery::GetReleases() const
{
    return m_graph->GetDelayRows().GetReleases();
}

uint64_t
ShortestPathQuery::GetTreesGrown() const
{
    return m_paths.GetTreesGrown();
}

uint64_t
ShortestPathQuery::GetNodesSettled() const
{
    return m_paths.GetNodesSettled();
}

} // namespace ns3
