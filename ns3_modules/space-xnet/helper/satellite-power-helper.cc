/*
 * Space-XNet: installs a SatellitePower on every satellite and reads their records back as arrays.
 */
#include "satellite-power-helper.h"

#include "ns3/abort.h"
#include "ns3/log.h"
#include "ns3/node.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("SatellitePowerHelper");

SatellitePowerHelper::SatellitePowerHelper()
    : m_steps(0)
{
    m_factory.SetTypeId(SatellitePower::GetTypeId());
}

void
SatellitePowerHelper::Set(const std::string& name, const AttributeValue& value)
{
    m_factory.Set(name, value);
}

void
SatellitePowerHelper::Install(NodeContainer nodes, uint32_t satellites, const int64_t* stepTimesNs, uint32_t steps,
                              const uint8_t* sunlit, uint64_t count)
{
    NS_LOG_FUNCTION(this << satellites << steps);
    NS_ABORT_MSG_IF(satellites > nodes.GetN(), "SatellitePowerHelper: more satellites than nodes");
    NS_ABORT_MSG_IF(count != static_cast<uint64_t>(steps) * satellites, "SatellitePowerHelper: sunlit must be [S, N]");
    m_steps = steps;
    m_power.clear();
    m_power.reserve(satellites);
    for (uint32_t n = 0; n < satellites; ++n)
    {
        Ptr<SatellitePower> power = m_factory.Create<SatellitePower>();
        power->SetSchedule(stepTimesNs, steps, sunlit + n, satellites);
        nodes.Get(n)->AggregateObject(power);
        m_power.push_back(power);
    }
}

void
SatellitePowerHelper::Finish(Time t)
{
    for (const auto& power : m_power)
    {
        power->Finish(t);
    }
}

void
SatellitePowerHelper::Copy(SatellitePower::Record which, double* out, uint64_t count) const
{
    const uint64_t n = m_power.size();
    NS_ABORT_MSG_IF(count != m_steps * n, "SatellitePowerHelper::Copy: out must be [S, N]");
    for (uint64_t i = 0; i < n; ++i)
    {
        for (uint32_t s = 0; s < m_steps; ++s)
        {
            out[s * n + i] = m_power[i]->GetRecord(which, s);
        }
    }
}

void
SatellitePowerHelper::CopyMinEnergy(double* out, uint64_t count) const
{
    NS_ABORT_MSG_IF(count != m_power.size(), "SatellitePowerHelper::CopyMinEnergy: out must be [N]");
    for (uint64_t i = 0; i < count; ++i)
    {
        out[i] = m_power[i]->GetMinEnergy();
    }
}

void
SatellitePowerHelper::CopyProtectedJobs(int64_t* out, uint64_t count) const
{
    NS_ABORT_MSG_IF(count != m_power.size(), "SatellitePowerHelper::CopyProtectedJobs: out must be [N]");
    for (uint64_t i = 0; i < count; ++i)
    {
        out[i] = static_cast<int64_t>(m_power[i]->GetProtectedJobs());
    }
}

Ptr<SatellitePower>
SatellitePowerHelper::Get(uint32_t i) const
{
    NS_ABORT_MSG_IF(i >= m_power.size(), "SatellitePowerHelper::Get: no satellite " << i);
    return m_power[i];
}

} // namespace ns3
