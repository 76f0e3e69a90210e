/*
 * Space-XNet: where every component of a model copy listens (address and UDP port), by role.
 */
#include "moe-component-directory.h"

#include "ns3/abort.h"
#include "ns3/log.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("MoeComponentDirectory");
NS_OBJECT_ENSURE_REGISTERED(MoeComponentDirectory);

std::ostream&
operator<<(std::ostream& os, MoeRole role)
{
    switch (role)
    {
    case MoeRole::GATEWAY:
        return os << "Gateway";
    case MoeRole::EXPERT:
        return os << "Expert";
    case MoeRole::SHARD:
        return os << "Shard";
    case MoeRole::USER:
        return os << "User";
    }
    return os << "MoeRole(" << static_cast<uint32_t>(role) << ")";
}

TypeId
MoeComponentDirectory::GetTypeId()
{
    static TypeId tid = TypeId("ns3::MoeComponentDirectory")
                            .SetParent<Object>()
                            .SetGroupName("SpaceXNet")
                            .AddConstructor<MoeComponentDirectory>();
    return tid;
}

MoeComponentDirectory::MoeComponentDirectory()
    : m_layers(0),
      m_experts(0),
      m_maxHelpers(0),
      m_maxReplicas(0)
{
}

void
MoeComponentDirectory::Configure(uint32_t layers,
                                 uint32_t experts,
                                 uint32_t maxHelpers,
                                 uint32_t maxReplicas,
                                 uint32_t users)
{
    NS_LOG_FUNCTION(this << layers << experts << maxHelpers << maxReplicas << users);
    m_layers = layers;
    m_experts = experts;
    m_maxHelpers = maxHelpers;
    m_maxReplicas = maxReplicas;
    uint64_t perLayer = 1 + experts + maxHelpers + static_cast<uint64_t>(experts) * maxReplicas;
    m_entries.assign(layers * perLayer + users, Entry{});
}

uint64_t
MoeComponentDirectory::Slot(MoeRole role, uint32_t layer, uint32_t index, uint32_t copy) const
{
    uint64_t experts = static_cast<uint64_t>(m_layers) * m_experts;
    uint64_t shards = static_cast<uint64_t>(m_layers) * m_maxHelpers;
    uint64_t replicas = experts * m_maxReplicas;
    switch (role)
    {
    case MoeRole::GATEWAY:
        return layer;
    case MoeRole::EXPERT:
        if (copy > 0)
        {
            return m_layers + experts + shards +
                   (static_cast<uint64_t>(layer) * m_experts + index) * m_maxReplicas + copy - 1;
        }
        return m_layers + static_cast<uint64_t>(layer) * m_experts + index;
    case MoeRole::SHARD:
        return m_layers + experts + static_cast<uint64_t>(layer) * m_maxHelpers + index;
    case MoeRole::USER:
        return m_layers + experts + shards + replicas + layer;
    }
    NS_ABORT_MSG("unknown role " << role);
}

void
MoeComponentDirectory::Add(MoeRole role,
                           uint32_t layer,
                           uint32_t index,
                           uint32_t copy,
                           Ipv4Address address,
                           uint16_t port)
{
    NS_LOG_FUNCTION(this << role << layer << index << copy << address << port);
    m_entries.at(Slot(role, layer, index, copy)) = Entry{address, port};
}

Ipv4Address
MoeComponentDirectory::GetAddress(MoeRole role, uint32_t layer, uint32_t index, uint32_t copy) const
{
    return m_entries.at(Slot(role, layer, index, copy)).address;
}

uint16_t
MoeComponentDirectory::GetPort(MoeRole role, uint32_t layer, uint32_t index, uint32_t copy) const
{
    return m_entries.at(Slot(role, layer, index, copy)).port;
}

} // namespace ns3
