/*
 * Space-XNet: which requests of a model copy have failed, as its components see it.
 */
#include "moe-request-status.h"

#include "ns3/log.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("MoeRequestStatus");
NS_OBJECT_ENSURE_REGISTERED(MoeRequestStatus);

TypeId
MoeRequestStatus::GetTypeId()
{
    static TypeId tid = TypeId("ns3::MoeRequestStatus")
                            .SetParent<Object>()
                            .SetGroupName("SpaceXNet")
                            .AddConstructor<MoeRequestStatus>();
    return tid;
}

MoeRequestStatus::MoeRequestStatus() = default;

void
MoeRequestStatus::Configure(uint32_t requests)
{
    m_failed.assign(requests, 0);
}

bool
MoeRequestStatus::IsFailed(uint32_t request) const
{
    return m_failed[request] != 0;
}

bool
MoeRequestStatus::MarkFailed(uint32_t request)
{
    if (m_failed.at(request))
    {
        return false;
    }
    NS_LOG_INFO("request " << request << " failed");
    m_failed[request] = 1;
    return true;
}

} // namespace ns3
