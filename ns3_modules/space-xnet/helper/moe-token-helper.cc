/*
 * Space-XNet: installs a model placement as MoeTokenApplications.
 */
#include "moe-token-helper.h"

#include "ns3/boolean.h"

#include "ns3/abort.h"
#include "ns3/callback.h"
#include "ns3/enum.h"
#include "ns3/isl-network-helper.h"
#include "ns3/log.h"
#include "ns3/moe-token-application.h"
#include "ns3/pointer.h"
#include "ns3/satellite-power.h"
#include "ns3/uinteger.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("MoeTokenHelper");

MoeTokenHelper::MoeTokenHelper(Ptr<MoeTrafficPlan> plan)
    : m_plan(plan),
      m_directory(CreateObject<MoeComponentDirectory>()),
      m_status(CreateObject<MoeRequestStatus>()),
      m_recorder(CreateObject<MoeTrafficRecorder>())
{
    m_directory->Configure(plan->GetNLayers(),
                           plan->GetNExperts(),
                           plan->GetMaxHelpers(),
                           plan->GetMaxReplicas(),
                           plan->GetNUsers());
    m_status->Configure(plan->GetNRequests());
    m_recorder->Configure(plan);
}

Ptr<MoeTrafficRecorder>
MoeTokenHelper::GetRecorder() const
{
    return m_recorder;
}

Ptr<MoeComponentDirectory>
MoeTokenHelper::GetDirectory() const
{
    return m_directory;
}

namespace
{

/// Node @p id of @p nodes, checked.
Ptr<Node>
NodeOf(const NodeContainer& nodes, int32_t id)
{
    NS_ABORT_MSG_IF(id < 0 || static_cast<uint32_t>(id) >= nodes.GetN(), "node " << id << " out of range");
    return nodes.Get(id);
}

} // namespace

ApplicationContainer
MoeTokenHelper::InstallUsers(NodeContainer nodes, const int32_t* userNodes, uint32_t count)
{
    NS_ABORT_MSG_IF(count != m_plan->GetNUsers(), "InstallUsers: " << count << " nodes for " << m_plan->GetNUsers()
                                                                    << " users; call the plan's SetUsers first");
    ApplicationContainer apps;
    for (uint32_t u = 0; u < count; ++u)
    {
        apps.Add(InstallOne(NodeOf(nodes, userNodes[u]), MoeRole::USER, u, 0));
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
    ApplicationContainer apps;
    for (uint32_t l = 0; l < layers; ++l)
    {
        apps.Add(InstallOne(NodeOf(nodes, gatewayNodes[l]), MoeRole::GATEWAY, l, 0));
    }
    for (uint32_t l = 0; l < layers; ++l)
    {
        for (uint32_t e = 0; e < experts; ++e)
        {
            apps.Add(InstallOne(NodeOf(nodes, expertNodes[l * experts + e]), MoeRole::EXPERT, l, e));
        }
    }
    return apps;
}

Ptr<MoeTokenApplication>
MoeTokenHelper::InstallOne(Ptr<Node> n, MoeRole role, uint32_t layer, uint32_t index, uint32_t copy)
{
    NS_LOG_FUNCTION(this << n->GetId() << role << layer << index << copy);
    Ptr<MoeComputeQueue>& queue = m_computeQueues[n->GetId()];
    if (!queue)
    {
        queue = CreateObject<MoeComputeQueue>();
        if (Ptr<SatellitePower> power = n->GetObject<SatellitePower>()) // SatellitePowerHelper installed one
        {
            queue->SetAttribute("Power", PointerValue(power));
        }
    }
    Ptr<MoeTokenApplication> app = CreateObject<MoeTokenApplication>();
    app->SetAttribute("Plan", PointerValue(m_plan));
    app->SetAttribute("Directory", PointerValue(m_directory));
    app->SetAttribute("Status", PointerValue(m_status));
    app->SetAttribute("ComputeQueue", PointerValue(queue));
    app->SetAttribute("Role", EnumValue(role));
    app->SetAttribute("Layer", UintegerValue(layer));
    app->SetAttribute("Expert", UintegerValue(index));
    app->SetAttribute("Copy", UintegerValue(copy));
    if (m_failover)
    {
        app->SetAttribute("Failover", PointerValue(m_failover));
        app->SetAttribute("Replica", UintegerValue(m_replica));
    }
    // The recorder records through the application's trace sources, the ns-3 way; the per-packet
    // counts (the "Tx" and "Rx" traces' NotifyPacketSent / NotifyPacketReceived) go to it directly.
    const Ptr<MoeTrafficRecorder>& r = m_recorder;
    app->SetRecorder(r);
    app->TraceConnectWithoutContext("Retransmit", MakeCallback(&MoeTrafficRecorder::NotifyRetransmit, r));
    app->TraceConnectWithoutContext("Duplicate", MakeCallback(&MoeTrafficRecorder::NotifyDuplicate, r));
    app->TraceConnectWithoutContext("ComputeDone", MakeCallback(&MoeTrafficRecorder::NotifyCompute, r));
    app->TraceConnectWithoutContext("KvReceived", MakeCallback(&MoeTrafficRecorder::NotifyKv, r));
    app->TraceConnectWithoutContext("Admitted", MakeCallback(&MoeTrafficRecorder::NotifyAdmitted, r));
    app->TraceConnectWithoutContext("TokenStart", MakeCallback(&MoeTrafficRecorder::NotifyTokenStart, r));
    app->TraceConnectWithoutContext("TokenEnd", MakeCallback(&MoeTrafficRecorder::NotifyTokenEnd, r));
    app->TraceConnectWithoutContext("Combine", MakeCallback(&MoeTrafficRecorder::NotifyCombine, r));
    app->TraceConnectWithoutContext("PromptArrival", MakeCallback(&MoeTrafficRecorder::NotifyPromptArrival, r));
    app->TraceConnectWithoutContext("UserToken", MakeCallback(&MoeTrafficRecorder::NotifyUserToken, r));
    app->TraceConnectWithoutContext("RequestFailed", MakeCallback(&MoeTrafficRecorder::NotifyRequestFailed, r));
    app->TraceConnectWithoutContext("UserRetransmit", MakeCallback(&MoeTrafficRecorder::NotifyUserRetransmit, r));
    app->TraceConnectWithoutContext("Reroute", MakeCallback(&MoeTrafficRecorder::NotifyReroute, r));
    // Components sharing a satellite listen on distinct ports: the first on the plan's Port. A user
    // (one per ground node and plan) always listens on the plan's Port.
    uint16_t& count = m_appsOnNode[n->GetId()];
    NS_ABORT_MSG_IF(role == MoeRole::USER && count > 0, "two users of one plan on ground node " << n->GetId());
    uint16_t port = role == MoeRole::USER ? m_plan->GetPort() : static_cast<uint16_t>(m_plan->GetPort() + count);
    m_directory->Add(role, layer, index, copy, IslNetworkHelper::GetNodeAddress(n), port);
    ++count;
    n->AddApplication(app);
    return app;
}

void
MoeTokenHelper::SetFailover(Ptr<MoeFailover> failover, uint32_t replica)
{
    m_failover = failover;
    m_replica = replica;
}

Ptr<MoeRequestStatus>
MoeTokenHelper::GetStatus() const
{
    return m_status;
}

Ptr<MoeTokenApplication>
MoeTokenHelper::InstallSpare(NodeContainer nodes, uint32_t role, uint32_t layer, uint32_t index, int32_t spareNode)
{
    NS_ABORT_MSG_IF(role > 1, "InstallSpare: only gateways (0) and experts (1) are re-placed");
    auto r = static_cast<MoeRole>(role);
    // The directory keeps the lost component's entry until the MoeFailover moves it (same port).
    Ipv4Address address = m_directory->GetAddress(r, layer, index);
    uint16_t port = m_directory->GetPort(r, layer, index);
    Ptr<MoeTokenApplication> app = InstallOne(NodeOf(nodes, spareNode), r, layer, index);
    m_directory->Add(r, layer, index, 0, address, port);
    app->SetAttribute("Spare", BooleanValue(true));
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
            apps.Add(InstallOne(NodeOf(nodes, shardNodes[static_cast<uint64_t>(l) * helpers + i]), MoeRole::SHARD, l, i));
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
        if (replicaNodes[i] < 0)
        {
            continue;
        }
        uint32_t layer = static_cast<uint32_t>(i / (static_cast<uint64_t>(experts) * copies));
        uint32_t expert = static_cast<uint32_t>((i / copies) % experts);
        uint32_t copy = static_cast<uint32_t>(i % copies) + 1;
        apps.Add(InstallOne(NodeOf(nodes, replicaNodes[i]), MoeRole::EXPERT, layer, expert, copy));
    }
    return apps;
}

} // namespace ns3
