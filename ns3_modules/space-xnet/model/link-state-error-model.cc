/*
 * Space-XNet: drops what a laser ISL receives while the link is down.
 */
#include "link-state-error-model.h"

namespace ns3
{

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
    return true;
}

void
LinkStateErrorModel::DoReset()
{
}

} // namespace ns3
