/*
 * Space-XNet: the parts of MoeTrafficPlan for placements beyond the paper: tensor-parallel shards,
 * components sharing a satellite (ports, one compute queue per satellite) and expert replicas.
 */
#include "ns3/abort.h"
#include "ns3/log.h"
#include "ns3/moe-traffic-plan.h"

#include <algorithm>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("MoeTrafficPlanPlacement");

void
MoeTrafficPlan::SetShards(const int32_t* helpers, const int64_t* shardNs, uint32_t layers)
{
    NS_LOG_FUNCTION(this << layers);
    NS_ABORT_MSG_IF(layers != m_layers, "shards: one entry per layer");
    m_maxHelpers = 0;
    for (uint32_t l = 0; l < layers; ++l)
    {
        NS_ABORT_MSG_IF(helpers[l] < 0 || shardNs[l] < 0, "shards: negative count or time");
        m_helpers[l] = helpers[l];
        m_shardNs[l] = shardNs[l];
        m_maxHelpers = std::max(m_maxHelpers, static_cast<uint32_t>(helpers[l]));
    }
    m_shardAddress.assign(static_cast<uint64_t>(m_layers) * m_maxHelpers, Ipv4Address());
    ResizePorts();
}

void
MoeTrafficPlan::ResizePorts()
{
    // Gateways [L], experts [L, E], shards [L, H], replicas [L, E, R]; set when installed.
    m_componentPort.assign(static_cast<uint64_t>(m_layers) *
                               (1 + m_experts + m_maxHelpers + static_cast<uint64_t>(m_experts) * m_maxReplicas),
                           0);
}

void
MoeTrafficPlan::SetReplicas(const int32_t* choice, uint64_t count, const int64_t* stepNs, uint32_t steps,
                            uint32_t maxReplicas)
{
    NS_LOG_FUNCTION(this << count << steps << maxReplicas);
    NS_ABORT_MSG_IF(count != static_cast<uint64_t>(steps) * m_layers * m_experts, "replicas: [S, L, E] choices");
    NS_ABORT_MSG_IF(steps == 0 || stepNs[0] != 0, "replicas: snapshot times must start at 0");
    m_replicaChoice.assign(choice, choice + count);
    m_replicaStepNs.assign(stepNs, stepNs + steps);
    for (int32_t c : m_replicaChoice)
    {
        NS_ABORT_MSG_IF(c < 0 || static_cast<uint32_t>(c) > maxReplicas, "replicas: copy index out of range");
    }
    m_maxReplicas = maxReplicas;
    m_replicaAddress.assign(static_cast<uint64_t>(m_layers) * m_experts * maxReplicas, Ipv4Address());
    ResizePorts();
}

void
MoeTrafficPlan::SetReplicaAddress(uint32_t layer, uint32_t expert, uint32_t copy, Ipv4Address address)
{
    m_replicaAddress.at((static_cast<uint64_t>(layer) * m_experts + expert) * m_maxReplicas + copy - 1) = address;
}

Ipv4Address
MoeTrafficPlan::GetReplicaAddress(uint32_t layer, uint32_t expert, uint32_t copy) const
{
    return m_replicaAddress.at((static_cast<uint64_t>(layer) * m_experts + expert) * m_maxReplicas + copy - 1);
}

uint32_t MoeTrafficPlan::GetMaxReplicas() const { return m_maxReplicas; }

uint16_t
MoeTrafficPlan::GetReplicaPort(uint32_t layer, uint32_t expert, uint32_t copy) const
{
    return GetComponentPort(3, layer, (static_cast<uint32_t>(layer) * m_experts + expert) * m_maxReplicas + copy - 1);
}

void
MoeTrafficPlan::SetReplicaPort(uint32_t layer, uint32_t expert, uint32_t copy, uint16_t port)
{
    SetComponentPort(3, layer, (static_cast<uint32_t>(layer) * m_experts + expert) * m_maxReplicas + copy - 1, port);
}

uint32_t
MoeTrafficPlan::GetExpertCopy(uint32_t layer, uint32_t expert, Time now) const
{
    if (m_replicaChoice.empty())
    {
        return 0;
    }
    // The snapshot in force: the last step time <= now.
    auto it = std::upper_bound(m_replicaStepNs.begin(), m_replicaStepNs.end(), now.GetNanoSeconds());
    uint64_t step = static_cast<uint64_t>(it - m_replicaStepNs.begin()) - 1;
    return m_replicaChoice[(step * m_layers + layer) * m_experts + expert];
}

void
MoeTrafficPlan::SetShardAddress(uint32_t layer, uint32_t index, Ipv4Address address)
{
    m_shardAddress.at(static_cast<uint64_t>(layer) * m_maxHelpers + index) = address;
}

uint32_t MoeTrafficPlan::GetNHelpers(uint32_t layer) const { return m_helpers.at(layer); }
uint32_t MoeTrafficPlan::GetMaxHelpers() const { return m_maxHelpers; }
Time MoeTrafficPlan::GetShardCompute(uint32_t layer) const { return NanoSeconds(m_shardNs.at(layer)); }

Ipv4Address
MoeTrafficPlan::GetShardAddress(uint32_t layer, uint32_t index) const
{
    return m_shardAddress.at(static_cast<uint64_t>(layer) * m_maxHelpers + index);
}

static uint64_t
ComponentSlot(uint32_t role, uint32_t layer, uint32_t index, uint32_t layers, uint32_t experts, uint32_t helpers)
{
    // Gateways [L], then experts [L, E], then shards [L, H], then replicas (role 3; index: the
    // expert's copy slot e * R + r - 1, counted from the replicas' start per layer: [L, E R]).
    if (role == 0)
    {
        return layer;
    }
    if (role == 1)
    {
        return layers + static_cast<uint64_t>(layer) * experts + index;
    }
    if (role == 2)
    {
        return layers + static_cast<uint64_t>(layers) * experts + static_cast<uint64_t>(layer) * helpers + index;
    }
    return layers + static_cast<uint64_t>(layers) * (experts + helpers) + index;
}

uint16_t
MoeTrafficPlan::GetComponentPort(uint32_t role, uint32_t layer, uint32_t index) const
{
    uint16_t port = m_componentPort.at(ComponentSlot(role, layer, index, m_layers, m_experts, m_maxHelpers));
    return port ? port : m_port;
}

void
MoeTrafficPlan::SetComponentPort(uint32_t role, uint32_t layer, uint32_t index, uint16_t port)
{
    m_componentPort.at(ComponentSlot(role, layer, index, m_layers, m_experts, m_maxHelpers)) = port;
}

Time&
MoeTrafficPlan::NodeBusyUntil(uint32_t node)
{
    return m_nodeBusyUntil[node]; // zero at first: no job queued yet
}

} // namespace ns3
