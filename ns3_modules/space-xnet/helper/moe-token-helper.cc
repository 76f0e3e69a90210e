/*
 * Space-XNet: installs a model placement as MoeTokenApplications.
 */
#include "moe-token-helper.h"

#include "ns3/abort.h"
#include "ns3/callback.h"
#include "ns3/enum.h"
#include "ns3/isl-network-helper.h"
#include "ns3/log.h"
#include "ns3/moe-token-application.h"
#include "ns3/pointer.h"
#include "ns3/uinteger.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("MoeTokenHelper");

MoeTokenHelper::MoeTokenHelper(Ptr<MoeTrafficPlan> plan)
    : m_plan(plan)
{
}

ApplicationContainer
MoeTokenHelper::InstallUsers(NodeContainer nodes, const int32_t* userNodes, uint32_t count)
{
    NS_ABORT_MSG_IF(count != m_plan->GetNUsers(), "InstallUsers: " << count << " nodes for " << m_plan->GetNUsers()
                                                                    << " users; call the plan's SetUsers first");
    ApplicationContainer apps;
    for (uint32_t u = 0; u < count; ++u)
    {
        NS_ABORT_MSG_IF(userNodes[u] < 0 || static_cast<uint32_t>(userNodes[u]) >= nodes.GetN(),
                        "user node " << userNodes[u] << " out of range");
        Ptr<Node> n = nodes.Get(userNodes[u]);
        m_plan->SetUserAddress(u, IslNetworkHelper::GetNodeAddress(n));
        apps.Add(InstallOne(n, MoeTokenApplication::USER, u, 0));
    }
    return apps;
}

ApplicationContainer
MoeTokenHelper::Install(NodeContainer nodes,
                        const int32_t* gatewayNodes,
                        const int32_t* expertNodes,
                        uint64_t expertCount)
{
    NS_LOG_FUNCTION(this << nodes.GetN() << expertCount);
    uint32_t layers = m_plan->GetNLayers();
    uint32_t experts = m_plan->GetNExperts();
    NS_ABORT_MSG_IF(expertCount != static_cast<uint64_t>(layers) * experts, "expert placement: wrong count");
    auto node = [&](int32_t id) {
        NS_ABORT_MSG_IF(id < 0 || static_cast<uint32_t>(id) >= nodes.GetN(), "satellite " << id << " out of range");
        return nodes.Get(id);
    };
    ApplicationContainer apps;
    auto install = [&](Ptr<Node> n, MoeTokenApplication::Role role, uint32_t layer, uint32_t expert) {
        apps.Add(InstallOne(n, role, layer, expert));
    };
    for (uint32_t l = 0; l < layers; ++l)
    {
        Ptr<Node> n = node(gatewayNodes[l]);
        m_plan->SetGatewayAddress(l, IslNetworkHelper::GetNodeAddress(n));
        install(n, MoeTokenApplication::GATEWAY, l, 0);
    }
    for (uint32_t l = 0; l < layers; ++l)
    {
        for (uint32_t e = 0; e < experts; ++e)
        {
            Ptr<Node> n = node(expertNodes[l * experts + e]);
            m_plan->SetExpertAddress(l, e, IslNetworkHelper::GetNodeAddress(n));
            install(n, MoeTokenApplication::EXPERT, l, e);
        }
    }
    return apps;
}

Ptr<MoeTokenApplication>
MoeTokenHelper::InstallOne(Ptr<Node> n, uint32_t role, uint32_t layer, uint32_t index, uint32_t copy)
{
    NS_LOG_FUNCTION(this << n->GetId() << role << layer << index << copy);
    Ptr<MoeTokenApplication> app = CreateObject<MoeTokenApplication>();
    app->SetAttribute("Plan", PointerValue(m_plan));
    app->SetAttribute("Role", EnumValue(static_cast<MoeTokenApplication::Role>(role)));
    app->SetAttribute("Layer", UintegerValue(layer));
    app->SetAttribute("Expert", UintegerValue(index));
    app->SetAttribute("Copy", UintegerValue(copy));
    // The plan counts through the application's trace sources, the ns-3 way.
    app->TraceConnectWithoutContext("Tx", MakeCallback(&MoeTrafficPlan::NotifyPacketSent, m_plan));
    app->TraceConnectWithoutContext("Rx", MakeCallback(&MoeTrafficPlan::NotifyPacketReceived, m_plan));
    app->TraceConnectWithoutContext("Retransmit", MakeCallback(&MoeTrafficPlan::NotifyRetransmit, m_plan));
    app->TraceConnectWithoutContext("Duplicate", MakeCallback(&MoeTrafficPlan::NotifyDuplicate, m_plan));
    app->TraceConnectWithoutContext("ComputeDone", MakeCallback(&MoeTrafficPlan::NotifyCompute, m_plan));
    // Components sharing a satellite listen on distinct ports: the first on the plan's Port. A user
    // (one per ground node and plan) always listens on the plan's Port.
    uint16_t& count = m_appsOnNode[n->GetId()];
    if (role == MoeTokenApplication::USER)
    {
        NS_ABORT_MSG_IF(count > 0, "two users of one plan on ground node " << n->GetId());
    }
    else if (count > 0 && copy > 0)
    {
        m_plan->SetReplicaPort(layer, index, copy, static_cast<uint16_t>(m_plan->GetPort() + count));
    }
    else if (count > 0)
    {
        m_plan->SetComponentPort(role, layer, index, static_cast<uint16_t>(m_plan->GetPort() + count));
    }
    ++count;
    n->AddApplication(app);
    return app;
}

ApplicationContainer
MoeTokenHelper::InstallShards(NodeContainer nodes, const int32_t* shardNodes, uint64_t shardCount)
{
    uint32_t layers = m_plan->GetNLayers();
    uint32_t helpers = m_plan->GetMaxHelpers();
    NS_ABORT_MSG_IF(shardCount != static_cast<uint64_t>(layers) * helpers, "shard placement: wrong count");
    ApplicationContainer apps;
    for (uint32_t l = 0; l < layers; ++l)
    {
        for (uint32_t i = 0; i < m_plan->GetNHelpers(l); ++i)
        {
            int32_t id = shardNodes[static_cast<uint64_t>(l) * helpers + i];
            NS_ABORT_MSG_IF(id < 0 || static_cast<uint32_t>(id) >= nodes.GetN(), "satellite " << id << " out of range");
            Ptr<Node> n = nodes.Get(id);
            m_plan->SetShardAddress(l, i, IslNetworkHelper::GetNodeAddress(n));
            apps.Add(InstallOne(n, MoeTokenApplication::SHARD, l, i));
        }
    }
    return apps;
}

ApplicationContainer
MoeTokenHelper::InstallReplicas(NodeContainer nodes, const int32_t* replicaNodes, uint64_t replicaCount)
{
    uint32_t layers = m_plan->GetNLayers();
    uint32_t experts = m_plan->GetNExperts();
    uint32_t copies = m_plan->GetMaxReplicas();
    NS_ABORT_MSG_IF(replicaCount != static_cast<uint64_t>(layers) * experts * copies, "replicas: wrong count");
    ApplicationContainer apps;
    for (uint64_t i = 0; i < replicaCount; ++i)
    {
        int32_t id = replicaNodes[i];
        if (id < 0)
        {
            continue;
        }
        NS_ABORT_MSG_IF(static_cast<uint32_t>(id) >= nodes.GetN(), "satellite " << id << " out of range");
        uint32_t layer = static_cast<uint32_t>(i / (static_cast<uint64_t>(experts) * copies));
        uint32_t expert = static_cast<uint32_t>((i / copies) % experts);
        uint32_t copy = static_cast<uint32_t>(i % copies) + 1;
        Ptr<Node> n = nodes.Get(id);
        m_plan->SetReplicaAddress(layer, expert, copy, IslNetworkHelper::GetNodeAddress(n));
        apps.Add(InstallOne(n, MoeTokenApplication::EXPERT, layer, expert, copy));
    }
    return apps;
}

} // namespace ns3
