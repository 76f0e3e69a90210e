/*
 * Space-XNet: the inputs of MoeTrafficPlan for placements beyond the paper: tensor-parallel shards
 * and expert replicas.
 */
#include "ns3/abort.h"
#include "ns3/log.h"
#include "ns3/moe-traffic-plan.h"
#include "ns3/simulator.h"

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
}

uint32_t MoeTrafficPlan::GetMaxReplicas() const { return m_maxReplicas; }

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
MoeTrafficPlan::SetShardFailureTimes(const int64_t* shardNs, uint64_t count)
{
    NS_ABORT_MSG_IF(count != static_cast<uint64_t>(m_layers) * m_maxHelpers, "shard failure times: [L, H]");
    m_shardFailNs.assign(shardNs, shardNs + count);
}

void
MoeTrafficPlan::SetReplicaFailureTimes(const int64_t* copyNs, uint64_t count)
{
    NS_ABORT_MSG_IF(count != static_cast<uint64_t>(m_layers) * m_experts * m_maxReplicas,
                    "copy failure times: [L, E, R]");
    m_replicaFailNs.assign(copyNs, copyNs + count);
}

namespace
{

/// Whether a component whose satellite fails at @p failNs (-1: never) is dark now.
bool
DarkNow(int64_t failNs)
{
    return failNs >= 0 && Simulator::Now().GetNanoSeconds() >= failNs;
}

} // namespace

bool
MoeTrafficPlan::IsShardDown(uint32_t layer, uint32_t shard) const
{
    return !m_shardFailNs.empty() && DarkNow(m_shardFailNs[static_cast<uint64_t>(layer) * m_maxHelpers + shard]);
}

bool
MoeTrafficPlan::IsReplicaDown(uint32_t layer, uint32_t expert, uint32_t copy) const
{
    if (copy == 0)
    {
        return IsExpertDown(layer, expert);
    }
    return !m_replicaFailNs.empty() &&
           DarkNow(m_replicaFailNs[(static_cast<uint64_t>(layer) * m_experts + expert) * m_maxReplicas + copy - 1]);
}

uint32_t MoeTrafficPlan::GetNHelpers(uint32_t layer) const { return m_helpers.at(layer); }
uint32_t MoeTrafficPlan::GetMaxHelpers() const { return m_maxHelpers; }
Time MoeTrafficPlan::GetShardCompute(uint32_t layer) const { return NanoSeconds(m_shardNs.at(layer)); }

void
MoeTrafficPlan::SetShardRoofline(const int64_t* memoryNs, const double* exactNs, uint32_t layers)
{
    NS_ABORT_MSG_IF(layers != m_layers, "shard roofline: one entry per layer");
    m_shardMemNs.assign(memoryNs, memoryNs + layers);
    m_shardExactNs.assign(exactNs, exactNs + layers);
}

Time
MoeTrafficPlan::ShardJob(uint32_t layer, uint64_t tokens) const
{
    return Job(m_shardNs.at(layer),
               m_shardExactNs.empty() ? -1.0 : m_shardExactNs[layer],
               m_shardMemNs.empty() ? 0 : m_shardMemNs[layer],
               tokens);
}

} // namespace ns3
