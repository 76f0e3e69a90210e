/*
 * Space-XNet: next-hop tables shared by every satellite's ForwardingTableRouting.
 */
#include "forwarding-table.h"

#include "ns3/abort.h"
#include "ns3/boolean.h"
#include "ns3/log.h"


namespace ns3
{

NS_LOG_COMPONENT_DEFINE("ForwardingTable");

namespace
{
constexpr uint32_t ISL_BASE = 0x0A000000u; //!< 10.0.0.0, the first address IslNetworkHelper gives
constexpr uint32_t ISL_SPAN = 1u << 24;    //!< 10.0.0.0/8
} // namespace
NS_OBJECT_ENSURE_REGISTERED(ForwardingTable);

TypeId
ForwardingTable::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::ForwardingTable")
            .SetParent<Object>()
            .SetGroupName("SpaceXNet")
            .AddConstructor<ForwardingTable>()
            .AddAttribute("PrefetchRoutes",
                          "With on-demand routes, grow the next topology step's trees on a worker "
                          "thread while the current step runs (the same routes). Off by default: on "
                          "the serving benchmark it saved the simulation thread about 3 % at the "
                          "price of a second thread's CPU (docs/performance.md).",
                          BooleanValue(false),
                          MakeBooleanAccessor(&ForwardingTable::SetPrefetchRoutes,
                                              &ForwardingTable::GetPrefetchRoutes),
                          MakeBooleanChecker())
            .AddTraceSource("Step",
                            "The active topology step changed.",
                            MakeTraceSourceAccessor(&ForwardingTable::m_step),
                            "ns3::TracedValueCallback::Uint32");
    return tid;
}

ForwardingTable::ForwardingTable()
    : m_numNodes(0),
      m_numSteps(0),
      m_numDestinations(0),
      m_activeStep(0),
      m_step(0),
      m_prefetchRoutes(false)
{
}

void
ForwardingTable::DoDispose()
{
    if (m_paths)
    {
        m_paths->SetPrefetch(false); // its worker thread, if one runs, stops here
    }
    Object::DoDispose();
}

void
ForwardingTable::SetPrefetchRoutes(bool prefetch)
{
    m_prefetchRoutes = prefetch;
    if (m_paths)
    {
        m_paths->SetPrefetch(prefetch);
    }
}

bool
ForwardingTable::GetPrefetchRoutes() const
{
    return m_prefetchRoutes;
}

void
ForwardingTable::Configure(uint32_t numNodes,
                           uint32_t numSteps,
                           const int32_t* destinations,
                           uint32_t numDestinations)
{
    NS_ABORT_MSG_IF(numNodes == 0 || numSteps == 0, "ForwardingTable needs nodes and steps");
    m_numNodes = numNodes;
    m_numSteps = numSteps;
    m_numDestinations = numDestinations;
    m_columnOfNode.assign(numNodes, -1);
    for (uint32_t d = 0; d < numDestinations; ++d)
    {
        NS_ABORT_MSG_IF(destinations[d] < 0 || static_cast<uint32_t>(destinations[d]) >= numNodes,
                        "destination node id " << destinations[d] << " out of range");
        m_columnOfNode[destinations[d]] = static_cast<int32_t>(d);
    }
    m_nextHop.assign(static_cast<uint64_t>(numSteps) * numNodes * numDestinations, -1);
    m_paths.reset();
    m_activeStep = 0;
    m_step = 0;
}

void
ForwardingTable::UseShortestPaths(const ShortestPathQuery& query)
{
    std::shared_ptr<const StepGraph> graph = query.GetGraph();
    m_numNodes = graph->GetNNodes();
    m_numSteps = graph->GetNSteps();
    m_numDestinations = 0;
    m_columnOfNode.assign(m_numNodes, -1);
    m_nextHop.clear();
    m_nextHop.shrink_to_fit();
    m_paths = std::make_unique<LazyShortestPaths>(graph);
    m_paths->SetPrefetch(m_prefetchRoutes);
    m_activeStep = 0;
    m_step = 0;
    m_paths->SetStep(0);
    NS_LOG_INFO("next hops computed on demand: " << m_numNodes << " nodes, " << m_numSteps << " steps");
}

uint64_t
ForwardingTable::GetTreesGrown() const
{
    return m_paths ? m_paths->GetTreesGrown() : 0;
}

void
ForwardingTable::WaitPrefetch()
{
    if (m_paths)
    {
        m_paths->WaitPrefetch();
    }
}

uint64_t
ForwardingTable::GetTreesPrefetched() const
{
    return m_paths ? m_paths->GetTreesPrefetched() : 0;
}

uint64_t
ForwardingTable::GetNodesSettled() const
{
    return m_paths ? m_paths->GetNodesSettled() : 0;
}

void
ForwardingTable::SetTables(const int32_t* nextHop, uint64_t count)
{
    NS_ABORT_MSG_IF(count != m_nextHop.size(),
                    "next-hop tables have " << count << " entries, expected " << m_nextHop.size());
    std::copy(nextHop, nextHop + count, m_nextHop.begin());
}

void
ForwardingTable::SetStep(uint32_t step)
{
    NS_ABORT_MSG_IF(step >= m_numSteps, "step " << step << " out of range");
    // The new step is in force before the Step trace fires (TracedValue calls its sinks before it
    // stores the value): its sinks, such as held packets, look routes up in the new step.
    m_activeStep = step;
    if (m_paths)
    {
        m_paths->SetStep(step);
    }
    m_step = step;
}

uint32_t
ForwardingTable::GetStep() const
{
    return m_activeStep;
}

int32_t
ForwardingTable::GetNextHop(uint32_t node, uint32_t destNode) const
{
    if (node >= m_numNodes || destNode >= m_numNodes)
    {
        return -1;
    }
    if (m_paths)
    {
        return m_paths->NextHop(node, destNode);
    }
    int32_t column = m_columnOfNode[destNode];
    if (column < 0)
    {
        return -1;
    }
    uint64_t index = (static_cast<uint64_t>(m_activeStep) * m_numNodes + node) * m_numDestinations + column;
    return m_nextHop[index];
}

void
ForwardingTable::AddAddress(Ipv4Address address, uint32_t node)
{
    m_nodeOfAddress[address.Get()] = node;
    const uint32_t offset = address.Get() - ISL_BASE;
    if (address.Get() >= ISL_BASE && offset < ISL_SPAN)
    {
        if (offset >= m_nodeOfIslAddress.size())
        {
            m_nodeOfIslAddress.resize(offset + 1, -1);
        }
        m_nodeOfIslAddress[offset] = static_cast<int32_t>(node);
    }
}

int32_t
ForwardingTable::GetNodeOfAddress(Ipv4Address address) const
{
    const uint32_t offset = address.Get() - ISL_BASE;
    if (address.Get() >= ISL_BASE && offset < m_nodeOfIslAddress.size())
    {
        return m_nodeOfIslAddress[offset];
    }
    if (address.Get() >= ISL_BASE && offset < ISL_SPAN)
    {
        return -1; // in the ISL range, beyond the last address given
    }
    auto it = m_nodeOfAddress.find(address.Get());
    return it == m_nodeOfAddress.end() ? -1 : static_cast<int32_t>(it->second);
}

uint32_t
ForwardingTable::GetNNodes() const
{
    return m_numNodes;
}

uint32_t
ForwardingTable::GetNSteps() const
{
    return m_numSteps;
}

uint32_t
ForwardingTable::GetNDestinations() const
{
    return m_numDestinations;
}

} // namespace ns3
