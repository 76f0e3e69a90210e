/*
 * Space-XNet: drops what a laser ISL receives while the link is down.
 */
#include "link-state-error-model.h"

#include "ns3/log.h"
#include "ns3/packet.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("LinkStateErrorModel");
NS_OBJECT_ENSURE_REGISTERED(LinkStateErrorModel);

TypeId
LinkStateErrorModel::GetTypeId()
{
    static TypeId tid = TypeId("ns3::LinkStateErrorModel")
                            .SetParent<ErrorModel>()
                            .SetGroupName("SpaceXNet")
                            .AddConstructor<LinkStateErrorModel>();
    return tid;
}

LinkStateErrorModel::LinkStateErrorModel()
    : m_dropped(0)
{
}

uint64_t
LinkStateErrorModel::GetDroppedPackets() const
{
    return m_dropped;
}

bool
LinkStateErrorModel::DoCorrupt(Ptr<Packet> p)
{
    // ErrorModel::IsCorrupt leaves the enabled check to its subclasses. Enabled = link down.
    if (!IsEnabled())
    {
        return false;
    }
    ++m_dropped;
    NS_LOG_LOGIC("link down: packet " << p->GetUid() << " lost in flight");
    return true;
}

void
LinkStateErrorModel::DoReset()
{
}

} // namespace ns3
