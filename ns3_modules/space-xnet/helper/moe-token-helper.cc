/*
 * Space-XNet: installs a model placement as MoeTokenApplications.
 */
#include "moe-token-helper.h"

#include "isl-network-helper.h"
#include "moe-token-application.h"

#include "ns3/abort.h"
#include "ns3/callback.h"
#include "ns3/enum.h"
#include "ns3/pointer.h"
#include "ns3/uinteger.h"

namespace ns3
{

MoeTokenHelper::MoeTokenHelper(Ptr<MoeTrafficPlan> plan)
    : m_plan(plan)
{
}

Ptr<MoeTokenApplication>
MoeTokenHelper::InstallOne(Ptr<Node> n, uint32_t role, uint32_t layer, uint32_t expert)
{
    Ptr<MoeTokenApplication> app = CreateObject<MoeTokenApplication>();
    app->SetAttribute("Plan", PointerValue(m_plan));
    app->SetAttribute("Role", EnumValue(static_cast<MoeTokenApplication::Role>(role)));
    app->SetAttribute("Layer", UintegerValue(layer));
    app->SetAttribute("Expert", UintegerValue(expert));
    // The plan counts through the application's trace sources, the ns-3 way.
    app->TraceConnectWithoutContext("Tx", MakeCallback(&MoeTrafficPlan::NotifyPacketSent, m_plan));
    app->TraceConnectWithoutContext("Rx", MakeCallback(&MoeTrafficPlan::NotifyPacketReceived, m_plan));
    app->TraceConnectWithoutContext("Retransmit", MakeCallback(&MoeTrafficPlan::NotifyRetransmit, m_plan));
    app->TraceConnectWithoutContext("Duplicate", MakeCallback(&MoeTrafficPlan::NotifyDuplicate, m_plan));
    app->TraceConnectWithoutContext("ComputeDone", MakeCallback(&MoeTrafficPlan::NotifyCompute, m_plan));
    n->AddApplication(app);
    return app;
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

} // namespace ns3
