/*
 * Space-XNet: one satellite's compute, first come first served, for one model copy.
 */
#include "moe-compute-queue.h"

#include "ns3/log.h"
#include "ns3/pointer.h"
#include "ns3/satellite-power.h"
#include "ns3/simulator.h"

#include <algorithm>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("MoeComputeQueue");
NS_OBJECT_ENSURE_REGISTERED(MoeComputeQueue);

TypeId
MoeComputeQueue::GetTypeId()
{
    static TypeId tid = TypeId("ns3::MoeComputeQueue")
                            .SetParent<Object>()
                            .SetGroupName("SpaceXNet")
                            .AddConstructor<MoeComputeQueue>()
                            .AddAttribute("Power",
                                          "The satellite's power system, consulted for every job (none: "
                                          "no power model).",
                                          PointerValue(),
                                          MakePointerAccessor(&MoeComputeQueue::m_power),
                                          MakePointerChecker<SatellitePower>());
    return tid;
}

MoeComputeQueue::MoeComputeQueue()
    : m_busyUntil(0)
{
}

Time
MoeComputeQueue::Submit(Time duration, std::function<void()> done)
{
    Time start = std::max(Simulator::Now(), m_busyUntil);
    if (m_power)
    {
        m_power->Admit(Simulator::Now(), start, duration); // may stretch the job or hold it
    }
    m_busyUntil = start + duration;
    NS_LOG_LOGIC("job of " << duration << " from " << start << " to " << m_busyUntil);
    Simulator::Schedule(m_busyUntil - Simulator::Now(), std::move(done));
    return m_busyUntil;
}

Time
MoeComputeQueue::GetBusyUntil() const
{
    return m_busyUntil;
}

} // namespace ns3
