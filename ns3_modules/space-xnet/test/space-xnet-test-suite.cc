/*
 * Space-XNet: ns-3 test suite (QUICK cases that build a tiny network, run it and check exact values).
 */
#include "forwarding-table-routing.h"
#include "forwarding-table.h"
#include "isl-network-helper.h"
#include "moe-token-header.h"
#include "moe-token-helper.h"
#include "moe-traffic-plan.h"
#include "topology-updater.h"

#include "ns3/data-rate.h"
#include "ns3/packet.h"
#include "ns3/pointer.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/test.h"
#include "ns3/uinteger.h"

using namespace ns3;

namespace
{

/// The header survives a serialise / deserialise round trip and is 16 bytes.
class MoeTokenHeaderTestCase : public TestCase
{
  public:
    MoeTokenHeaderTestCase()
        : TestCase("MoeTokenHeader round trip")
    {
    }

  private:
    void DoRun() override
    {
        MoeTokenHeader h;
        h.m_request = 70000;
        h.m_token = 123456;
        h.m_layer = 31;
        h.m_expert = 7;
        h.m_kind = MoeTokenHeader::EXPERT_OUTPUT;
        h.m_segments = 6;
        Ptr<Packet> p = Create<Packet>(100);
        p->AddHeader(h);
        NS_TEST_ASSERT_MSG_EQ(p->GetSize(), 116u, "header must be 16 bytes");
        MoeTokenHeader g;
        p->RemoveHeader(g);
        NS_TEST_ASSERT_MSG_EQ(g.m_request, 70000u, "request");
        NS_TEST_ASSERT_MSG_EQ(g.m_token, 123456u, "token");
        NS_TEST_ASSERT_MSG_EQ(g.m_layer, 31u, "layer");
        NS_TEST_ASSERT_MSG_EQ(g.m_expert, 7u, "expert");
        NS_TEST_ASSERT_MSG_EQ(static_cast<uint32_t>(g.m_kind), 1u, "kind");
        NS_TEST_ASSERT_MSG_EQ(g.m_segments, 6u, "segments");
    }
};

/// The table answers per step, maps addresses to nodes, and reports what it does not know as -1.
class ForwardingTableTestCase : public TestCase
{
  public:
    ForwardingTableTestCase()
        : TestCase("ForwardingTable steps, destinations and addresses")
    {
    }

  private:
    void DoRun() override
    {
        Ptr<ForwardingTable> table = CreateObject<ForwardingTable>();
        int32_t destinations[] = {2};
        table->Configure(3, 2, destinations, 1);
        // [step, node, destination]: step 0 routes 0 -> 1 -> 2, step 1 routes 0 -> 2 directly
        int32_t nextHop[] = {1, 2, 2, 2, -1, 2};
        table->SetTables(nextHop, 6);
        NS_TEST_ASSERT_MSG_EQ(table->GetNextHop(0, 2), 1, "step 0 goes via node 1");
        table->SetStep(1);
        NS_TEST_ASSERT_MSG_EQ(table->GetNextHop(0, 2), 2, "step 1 goes direct");
        NS_TEST_ASSERT_MSG_EQ(table->GetNextHop(1, 2), -1, "unreachable in step 1");
        NS_TEST_ASSERT_MSG_EQ(table->GetNextHop(0, 1), -1, "node 1 is not a destination");
        NS_TEST_ASSERT_MSG_EQ(table->GetNextHop(7, 2), -1, "no such node");
        table->AddAddress(Ipv4Address("10.0.0.6"), 2);
        NS_TEST_ASSERT_MSG_EQ(table->GetNodeOfAddress(Ipv4Address("10.0.0.6")), 2, "address of node 2");
        NS_TEST_ASSERT_MSG_EQ(table->GetNodeOfAddress(Ipv4Address("10.0.0.9")), -1, "unknown address");
    }
};

/// One token through a 1-layer, 1-expert model on a 3-node chain: gateway 0 - relay 1 - expert 2.
/// Every message crosses two hops both ways; the latency is known exactly.
class ChainTokenTestCase : public TestCase
{
  public:
    ChainTokenTestCase()
        : TestCase("one token over a routed 3-node chain has the analytic latency")
    {
    }

  private:
    void DoRun() override
    {
        const uint32_t numNodes = 3;
        int32_t edges[] = {0, 1, 1, 2};
        int32_t destinations[] = {0, 2};
        // next hop [node, destination column]: toward 0 and toward 2
        int32_t nextHop[] = {0, 1, 0, 2, 1, 2};
        Ptr<ForwardingTable> table = CreateObject<ForwardingTable>();
        table->Configure(numNodes, 1, destinations, 2);
        table->SetTables(nextHop, 6);
        Ptr<TopologyUpdater> updater = CreateObject<TopologyUpdater>();
        updater->SetAttribute("Table", PointerValue(table));

        IslNetworkHelper net;
        net.SetDeviceAttribute("DataRate", StringValue("1Gbps"));
        net.SetDeviceAttribute("Mtu", UintegerValue(1500));
        NodeContainer nodes = net.Install(numNodes, edges, 2, table, updater);
        int64_t stepTimes[] = {0};
        int64_t delays[] = {1000000, 2000000}; // 1 ms, 2 ms
        updater->SetSchedule(stepTimes, 1, delays, 2);
        updater->Start();

        Ptr<MoeTrafficPlan> plan = CreateObject<MoeTrafficPlan>();
        plan->SetAttribute("MessageBytes", UintegerValue(1000)); // one packet
        plan->Configure(1, 1, 1, 1, 1);
        int32_t act[] = {0};
        plan->SetActivations(act, 1);
        int64_t gw[] = {5000};
        int64_t ex[] = {7000};
        plan->SetComputeTimes(gw, ex, 1, 11000);
        int64_t starts[] = {0};
        plan->SetRequestStarts(starts, 1);
        MoeTokenHelper helper(plan);
        int32_t gateways[] = {0};
        int32_t experts[] = {2};
        helper.Install(nodes, gateways, experts, 1);

        Simulator::Run();
        int64_t end[1];
        plan->CopyTokenEnds(end, 1);
        // A packet of 1000 + 16 + 8 + 20 + 2 = 1046 bytes takes 8368 ns at 1 Gbit/s per hop.
        const int64_t tx = 1046 * 8;
        const int64_t expected = 5000 + 2 * (tx + 1000000 + tx + 2000000) + 7000 + 11000;
        NS_TEST_ASSERT_MSG_EQ(end[0], expected, "token latency");
        Simulator::Destroy();
    }
};

class SpaceXNetTestSuite : public TestSuite
{
  public:
    SpaceXNetTestSuite()
        : TestSuite("space-xnet", Type::UNIT)
    {
        AddTestCase(new MoeTokenHeaderTestCase, Duration::QUICK);
        AddTestCase(new ForwardingTableTestCase, Duration::QUICK);
        AddTestCase(new ChainTokenTestCase, Duration::QUICK);
    }
};

SpaceXNetTestSuite g_spaceXNetTestSuite;

} // namespace
