/*
 * Space-XNet: replays precomputed ISL delays and routing steps at the snapshot times.
 */
#include "topology-updater.h"

#include "ns3/abort.h"
#include "ns3/log.h"
#include "ns3/point-to-point-net-device.h"
#include "ns3/pointer.h"
#include "ns3/simulator.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("TopologyUpdater");
NS_OBJECT_ENSURE_REGISTERED(TopologyUpdater);

TypeId
TopologyUpdater::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::TopologyUpdater")
            .SetParent<Object>()
            .SetGroupName("SpaceXNet")
            .AddConstructor<TopologyUpdater>()
            .AddAttribute("Table",
                          "The ForwardingTable whose active step follows the schedule (may be null).",
                          PointerValue(),
                          MakePointerAccessor(&TopologyUpdater::m_table),
                          MakePointerChecker<ForwardingTable>())
            .AddTraceSource("Step",
                            "A topology step was applied; the argument is its index.",
                            MakeTraceSourceAccessor(&TopologyUpdater::m_stepTrace),
                            "ns3::TracedValueCallback::Uint32");
    return tid;
}

TopologyUpdater::TopologyUpdater() = default;

void
TopologyUpdater::DoDispose()
{
    m_channels.clear();
    m_linkModels.clear();
    m_table = nullptr;
    Object::DoDispose();
}

void
TopologyUpdater::AddChannel(Ptr<PointToPointChannel> channel)
{
    m_channels.push_back(channel);
}

uint32_t
TopologyUpdater::GetNLinks() const
{
    return m_channels.size();
}

void
TopologyUpdater::SetSchedule(const int64_t* stepTimesNs,
                             uint32_t numSteps,
                             const int64_t* delaysNs,
                             uint64_t count)
{
    NS_ABORT_MSG_IF(numSteps == 0, "TopologyUpdater needs at least one step");
    NS_ABORT_MSG_IF(count != static_cast<uint64_t>(numSteps) * m_channels.size(),
                    "delays have " << count << " entries, expected " << numSteps << " x "
                                   << m_channels.size());
    NS_ABORT_MSG_IF(stepTimesNs[0] != 0, "the first step must start at time 0");
    for (uint32_t s = 1; s < numSteps; ++s)
    {
        NS_ABORT_MSG_IF(stepTimesNs[s] <= stepTimesNs[s - 1], "step times must increase");
    }
    m_stepTimesNs.assign(stepTimesNs, stepTimesNs + numSteps);
    m_delaysNs.assign(delaysNs, delaysNs + count);
    m_borrowedDelays = nullptr;
}

void
TopologyUpdater::BorrowSchedule(const int64_t* stepTimesNs,
                                uint32_t numSteps,
                                const int64_t* delaysNs,
                                uint64_t count)
{
    // SetSchedule's checks (on no delays, so nothing is copied); then the borrowed array.
    NS_ABORT_MSG_IF(count != static_cast<uint64_t>(numSteps) * m_channels.size(),
                    "delays have " << count << " entries, expected " << numSteps << " x "
                                   << m_channels.size());
    NS_ABORT_MSG_IF(numSteps == 0, "TopologyUpdater needs at least one step");
    NS_ABORT_MSG_IF(stepTimesNs[0] != 0, "the first step must start at time 0");
    for (uint32_t s = 1; s < numSteps; ++s)
    {
        NS_ABORT_MSG_IF(stepTimesNs[s] <= stepTimesNs[s - 1], "step times must increase");
    }
    m_stepTimesNs.assign(stepTimesNs, stepTimesNs + numSteps);
    m_delaysNs.clear();
    m_delaysNs.shrink_to_fit();
    m_borrowedDelays = delaysNs;
}

void
TopologyUpdater::SetReleaseWindow(uint32_t window)
{
    NS_ABORT_MSG_IF(window > 0 && m_borrowedDelays == nullptr, "SetReleaseWindow needs BorrowSchedule first");
    const uint64_t cells = static_cast<uint64_t>(m_stepTimesNs.size()) * m_channels.size();
    m_delayRows.Set(m_borrowedDelays, cells * sizeof(int64_t), window);
    // the link states too when they are borrowed (BorrowLinkStates), not when copied
    const bool borrowed = m_states != nullptr && m_up.empty();
    m_stateRows.Set(borrowed ? m_states : nullptr, borrowed ? cells : 0, borrowed ? window : 0);
}

uint32_t
TopologyUpdater::GetMaxStepsHeld() const
{
    return m_delayRows.GetMaxRowsHeld();
}

uint64_t
TopologyUpdater::GetReleases() const
{
    return m_delayRows.GetReleases();
}

void
TopologyUpdater::CheckLinkStates(uint64_t count, const char* caller) const
{
    NS_ABORT_MSG_IF(m_stepTimesNs.empty(), caller << " before SetSchedule");
    NS_ABORT_MSG_IF(count != m_stepTimesNs.size() * m_channels.size(),
                    "link states have " << count << " entries, expected " << m_stepTimesNs.size() << " x "
                                        << m_channels.size());
}

void
TopologyUpdater::SetLinkStates(const uint8_t* up, uint64_t count)
{
    CheckLinkStates(count, "SetLinkStates");
    m_up.assign(up, up + count);
    m_states = m_up.data();
    InstallLinkModels();
}

void
TopologyUpdater::BorrowLinkStates(const uint8_t* up, uint64_t count)
{
    CheckLinkStates(count, "BorrowLinkStates");
    m_up.clear();
    m_up.shrink_to_fit();
    m_states = up;
    InstallLinkModels();
}

void
TopologyUpdater::InstallLinkModels()
{
    m_linkModels.clear();
    for (const auto& channel : m_channels)
    {
        for (std::size_t side = 0; side < 2; ++side)
        {
            Ptr<LinkStateErrorModel> model = CreateObject<LinkStateErrorModel>();
            channel->GetPointToPointDevice(side)->SetReceiveErrorModel(model);
            m_linkModels.push_back(model);
        }
    }
}

uint64_t
TopologyUpdater::GetLinkDownDroppedPackets() const
{
    uint64_t dropped = 0;
    for (const auto& model : m_linkModels)
    {
        dropped += model->GetDroppedPackets();
    }
    return dropped;
}

void
TopologyUpdater::Start()
{
    NS_ABORT_MSG_IF(m_stepTimesNs.empty(), "TopologyUpdater::Start before SetSchedule");
    ApplyStep(0);
    for (uint32_t s = 1; s < m_stepTimesNs.size(); ++s)
    {
        Simulator::Schedule(NanoSeconds(m_stepTimesNs[s]) - Simulator::Now(),
                            &TopologyUpdater::ApplyStep,
                            this,
                            s);
    }
}

void
TopologyUpdater::ApplyStep(uint32_t step)
{
    NS_LOG_FUNCTION(this << step);
    m_delayRows.Read(step);
    const int64_t* delays = (m_borrowedDelays ? m_borrowedDelays : m_delaysNs.data()) +
                            static_cast<uint64_t>(step) * m_channels.size();
    if (!m_delayAccessor)
    {
        // The channels' "Delay" attribute, looked up once: setting it through its accessor is what
        // SetAttribute("Delay", ...) does after finding it by name and copying the value (a Time
        // checker accepts every Time), without the lookup and the copy, per link and step.
        TypeId::AttributeInformation info;
        const bool found = PointToPointChannel::GetTypeId().LookupAttributeByName("Delay", &info);
        NS_ABORT_MSG_IF(!found || !(info.flags & TypeId::ATTR_SET) || !info.accessor->HasSetter(),
                        "ns3::PointToPointChannel has no settable Delay attribute");
        m_delayAccessor = info.accessor;
    }
    if (m_appliedNs.size() != m_channels.size())
    {
        m_appliedNs.assign(m_channels.size(), -1);
    }
    for (size_t link = 0; link < m_channels.size(); ++link)
    {
        if (delays[link] == m_appliedNs[link])
        {
            continue; // the channel holds this delay already
        }
        NS_ABORT_MSG_IF(!m_delayAccessor->Set(PeekPointer(m_channels[link]), TimeValue(NanoSeconds(delays[link]))),
                        "could not set the delay of link " << link);
        m_appliedNs[link] = delays[link];
    }
    if (m_states != nullptr)
    {
        m_stateRows.Read(step);
        const uint8_t* up = m_states + static_cast<uint64_t>(step) * m_channels.size();
        for (size_t link = 0; link < m_channels.size(); ++link)
        {
            for (size_t side = 0; side < 2; ++side)
            {
                auto& model = m_linkModels[2 * link + side];
                up[link] ? model->Disable() : model->Enable();
            }
        }
    }
    if (m_table)
    {
        m_table->SetStep(step);
    }
    m_stepTrace(step);
}

} // namespace ns3
