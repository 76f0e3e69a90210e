/*
 * Space-XNet: ns-3 test suite (QUICK cases that build a tiny network, run it and check exact values).
 */
#include "ns3/callback.h"
#include "ns3/data-rate.h"
#include "ns3/forwarding-table-routing.h"
#include "ns3/forwarding-table.h"
#include "ns3/ipv4.h"
#include "ns3/inet-socket-address.h"
#include "ns3/isl-network-helper.h"
#include "ns3/link-forwarder.h"
#include "ns3/link-socket.h"
#include "ns3/log.h"
#include "ns3/moe-token-header.h"
#include "ns3/moe-token-helper.h"
#include "ns3/moe-traffic-plan.h"
#include "ns3/moe-traffic-recorder.h"
#include "ns3/node.h"
#include "ns3/packet.h"
#include "ns3/point-to-point-net-device.h"
#include "ns3/pointer.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/test.h"
#include "ns3/topology-updater.h"
#include "ns3/uinteger.h"

#include <vector>

using namespace ns3;

NS_LOG_COMPONENT_DEFINE("SpaceXNetTestSuite");

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
        MoeTokenHeader h(70000, 123456, 31, 7, MoeTokenHeader::EXPERT_OUTPUT);
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

/// Compute times of every test model: gateway 5 us, expert 7 us, LM head 11 us, ns.
constexpr int64_t G = 5000;
constexpr int64_t E = 7000;
constexpr int64_t H = 11000;
/// A packet of a 1000-byte message, 1000 + 16 + 8 + 20 + 2 = 1046 bytes, at 1 Gbit/s, ns.
constexpr int64_t TX = 1046 * 8;

/**
 * A routed network as the harness builds one: @p numNodes nodes, the links @p edges (two node
 * ids each) at 1 Gbit/s with a 1500-byte MTU, table routing over @p nextHop ([step, node,
 * destination column] toward @p destinations), and a TopologyUpdater (Start sets its schedule).
 */
struct TestNetwork
{
    Ptr<ForwardingTable> table;
    Ptr<TopologyUpdater> updater;
    IslNetworkHelper net;
    NodeContainer nodes;

    TestNetwork(uint32_t numNodes,
                const std::vector<int32_t>& edges,
                const std::vector<int32_t>& destinations,
                const std::vector<int32_t>& nextHop)
    {
        uint32_t steps = nextHop.size() / (numNodes * destinations.size());
        table = CreateObject<ForwardingTable>();
        table->Configure(numNodes, steps, destinations.data(), destinations.size());
        table->SetTables(nextHop.data(), nextHop.size());
        updater = CreateObject<TopologyUpdater>();
        updater->SetAttribute("Table", PointerValue(table));
        net.SetDeviceAttribute("DataRate", StringValue("1Gbps"));
        net.SetDeviceAttribute("Mtu", UintegerValue(1500));
        nodes = net.Install(numNodes, edges.data(), edges.size() / 2, table, updater);
    }

    /// Start the topology: step start times, delays [step, link] in ns, link states [step, link]
    /// (empty: always up).
    void Start(const std::vector<int64_t>& stepTimes,
               const std::vector<int64_t>& delays,
               const std::vector<uint8_t>& up = {})
    {
        updater->SetSchedule(stepTimes.data(), stepTimes.size(), delays.data(), delays.size());
        if (!up.empty())
        {
            updater->SetLinkStates(up.data(), up.size());
        }
        updater->Start();
    }
};

/**
 * Install a 1-layer model with one expert (compute G, E, H) for one request per entry of
 * @p starts, of one token each: the gateway on node @p gatewayNode, the expert on @p expertNode,
 * and with @p userNode >= 0 every request's user there. @p plan holds the attributes; it is
 * configured and filled here. Returns the model's recorder.
 */
Ptr<MoeTrafficRecorder>
InstallModel(const TestNetwork& network,
             Ptr<MoeTrafficPlan> plan,
             int32_t gatewayNode,
             int32_t expertNode,
             const std::vector<int64_t>& starts,
             int32_t userNode = -1)
{
    uint32_t requests = starts.size();
    plan->Configure(1, 1, 1, requests, 1);
    std::vector<int32_t> act(requests, 0);
    plan->SetActivations(act.data(), act.size());
    int64_t gw[] = {G};
    int64_t ex[] = {E};
    plan->SetComputeTimes(gw, ex, 1, H);
    plan->SetRequestStarts(starts.data(), requests);
    if (userNode >= 0)
    {
        std::vector<int32_t> userOf(requests, 0);
        plan->SetUsers(userOf.data(), requests, 1);
    }
    MoeTokenHelper helper(plan);
    int32_t gateways[] = {gatewayNode};
    int32_t experts[] = {expertNode};
    helper.Install(network.nodes, gateways, experts, 1);
    if (userNode >= 0)
    {
        int32_t users[] = {userNode};
        helper.InstallUsers(network.nodes, users, 1);
    }
    return helper.GetRecorder();
}

/// A plan whose messages are @p messageBytes long (one 1000-byte packet by default).
Ptr<MoeTrafficPlan>
MakePlan(uint32_t messageBytes = 1000)
{
    Ptr<MoeTrafficPlan> plan = CreateObject<MoeTrafficPlan>();
    plan->SetAttribute("MessageBytes", UintegerValue(messageBytes));
    return plan;
}

/// Record @p record of @p recorder, whole.
std::vector<int64_t>
Records(Ptr<MoeTrafficRecorder> recorder, MoeTrafficRecorder::Record record, uint64_t size)
{
    std::vector<int64_t> out(size);
    recorder->Copy(record, out.data(), out.size());
    return out;
}

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
        // next hop [node, destination column]: toward 0 and toward 2
        TestNetwork network(3, {0, 1, 1, 2}, {0, 2}, {0, 1, 0, 2, 1, 2});
        network.Start({0}, {1000000, 2000000}); // 1 ms, 2 ms
        Ptr<MoeTrafficRecorder> recorder = InstallModel(network, MakePlan(), 0, 2, {0});
        Simulator::Run();
        const int64_t expected = G + 2 * (TX + 1000000 + TX + 2000000) + E + H;
        NS_TEST_ASSERT_MSG_EQ(Records(recorder, MoeTrafficRecorder::TOKEN_END, 1)[0], expected, "token latency");
        Simulator::Destroy();
    }
};

/**
 * A two-satellite model on one link, gateway on node 0 and its single expert on node 1, 1 Gbit/s,
 * one 1000-byte packet per message. The link's delay and state follow @p stepTimes / @p delays /
 * @p up (up may be empty: always up).
 */
struct TwoNodeModel
{
    TestNetwork network;
    Ptr<MoeTrafficPlan> plan;
    Ptr<MoeTrafficRecorder> recorder;

    TwoNodeModel(const std::vector<int64_t>& stepTimes,
                 const std::vector<int64_t>& delays,
                 const std::vector<uint8_t>& up,
                 const std::vector<int64_t>& requestStarts,
                 Time retransmitTimeout = Time(0),
                 uint32_t maxRetries = 3)
        : network(2, {0, 1}, {0, 1}, OverTheLink(stepTimes.size())),
          plan(MakePlan())
    {
        network.Start(stepTimes, delays, up);
        plan->SetAttribute("RetransmitTimeout", TimeValue(retransmitTimeout));
        plan->SetAttribute("MaxRetries", UintegerValue(maxRetries));
        recorder = InstallModel(network, plan, 0, 1, requestStarts);
    }

    /// Next hops [step, node, destination] of @p steps steps: always over the one link.
    static std::vector<int32_t> OverTheLink(uint32_t steps)
    {
        std::vector<int32_t> nextHop;
        for (uint32_t s = 0; s < steps; ++s)
        {
            nextHop.insert(nextHop.end(), {0, 1, 0, 1});
        }
        return nextHop;
    }

    std::vector<int64_t> Ends() const
    {
        return Records(recorder, MoeTrafficRecorder::TOKEN_END, plan->GetNRequests());
    }

    std::vector<int64_t> Failure() const
    {
        return Records(recorder, MoeTrafficRecorder::FAILURES, MoeTrafficRecorder::FAILURE_FIELDS);
    }
};

/// TopologyUpdater switches a link's delay at a step time; a packet already on the wire keeps the
/// delay it left with, a packet that starts transmitting afterwards gets the new one.
class TopologyUpdaterDelaySwitchTestCase : public TestCase
{
  public:
    TopologyUpdaterDelaySwitchTestCase()
        : TestCase("TopologyUpdater switches the delay at the step time")
    {
    }

  private:
    void DoRun() override
    {
        const int64_t d0 = 1000000; // 1 ms until 10 ms, then 3 ms
        const int64_t d1 = 3000000;
        // Requests at 0 (all in step 0), 9 ms (out in step 0, back in step 1), 20 ms (all in step 1).
        TwoNodeModel m({0, 10000000}, {d0, d1}, {}, {0, 9000000, 20000000});
        uint32_t steps = 0;
        m.network.updater->TraceConnectWithoutContext("Step", MakeBoundCallback(+[](uint32_t* n, uint32_t) { ++*n; }, &steps));
        Simulator::Run();
        std::vector<int64_t> end = m.Ends();
        NS_TEST_ASSERT_MSG_EQ(end[0], G + TX + d0 + E + TX + d0 + H, "all in step 0");
        NS_TEST_ASSERT_MSG_EQ(end[1], 9000000 + G + TX + d0 + E + TX + d1 + H,
                              "hidden state left in step 0, output in step 1");
        NS_TEST_ASSERT_MSG_EQ(end[2], 20000000 + G + TX + d1 + E + TX + d1 + H, "all in step 1");
        NS_TEST_ASSERT_MSG_EQ(steps, 1u, "the Step trace fires at the switch (step 0 is applied by Start)");
        Simulator::Destroy();
    }
};

/// A packet whose reception completes while its link is down is lost (LinkStateErrorModel);
/// without retransmission its token never ends.
class LinkStateInFlightLossTestCase : public TestCase
{
  public:
    LinkStateInFlightLossTestCase()
        : TestCase("LinkStateErrorModel loses a packet in flight when its link goes down")
    {
    }

  private:
    void DoRun() override
    {
        const int64_t d = 5000000; // 5 ms; the link is down from 3 ms to 20 ms
        TwoNodeModel m({0, 3000000, 20000000}, {d, d, d}, {1, 0, 1}, {0});
        uint32_t phyDrops = 0;
        Ptr<NetDevice> expertSide;
        for (uint32_t i = 0; i < m.network.nodes.Get(1)->GetNDevices(); ++i)
        {
            if (DynamicCast<PointToPointNetDevice>(m.network.nodes.Get(1)->GetDevice(i)))
            {
                expertSide = m.network.nodes.Get(1)->GetDevice(i);
            }
        }
        expertSide->TraceConnectWithoutContext(
            "PhyRxDrop",
            MakeBoundCallback(+[](uint32_t* n, Ptr<const Packet>) { ++*n; }, &phyDrops));
        Simulator::Run();
        NS_TEST_ASSERT_MSG_EQ(m.Ends()[0], -1, "the token stalls on the lost hidden state");
        NS_TEST_ASSERT_MSG_EQ(m.network.updater->GetLinkDownDroppedPackets(), 1u, "one packet lost on the down link");
        NS_TEST_ASSERT_MSG_EQ(phyDrops, 1u, "reported by the device's PhyRxDrop trace");
        NS_TEST_ASSERT_MSG_EQ(m.recorder->GetPacketsSent(), 1u, "one packet sent");
        NS_TEST_ASSERT_MSG_EQ(m.recorder->GetPacketsReceived(), 0u, "none received");
        Simulator::Destroy();
    }
};

/// ForwardingTableRouting drops what it has no next hop for, at the source (RouteOutput) and in
/// transit (RouteInput), counts it and fires its Drop trace.
class ForwardingTableRoutingDropTestCase : public TestCase
{
  public:
    ForwardingTableRoutingDropTestCase()
        : TestCase("ForwardingTableRouting drops and reports packets without a route")
    {
    }

  private:
    void DoRun() override
    {
        // Chain 0 - 1 - 2; destinations 0 and 2. Step 0: node 1 has no next hop toward 2 (transit
        // drop). Step 1 (from 10 ms): node 0 has none either (drop at the source).
        // [step, node, destination column]
        TestNetwork network(3, {0, 1, 1, 2}, {0, 2}, {0, 1, 0, -1, 1, 2, /* step 1 */ 0, -1, 0, -1, 1, 2});
        network.Start({0, 10000000}, {1000000, 1000000, 1000000, 1000000});
        // 3 packets per message; one request per step
        Ptr<MoeTrafficRecorder> recorder = InstallModel(network, MakePlan(3000), 0, 2, {0, 20000000});
        NodeContainer& nodes = network.nodes;
        std::vector<uint32_t> drops(3, 0);
        for (uint32_t n = 0; n < 3; ++n)
        {
            Ptr<Ipv4RoutingProtocol> routing = nodes.Get(n)->GetObject<Ipv4>()->GetRoutingProtocol();
            routing->TraceConnectWithoutContext(
                "Drop",
                MakeBoundCallback(+[](uint32_t* c, Ptr<const Packet>, const Ipv4Header&) { ++*c; }, &drops[n]));
        }
        Simulator::Run();
        NS_TEST_ASSERT_MSG_EQ(drops[1], 3u, "step 0: the relay drops the 3 packets of the hidden state");
        NS_TEST_ASSERT_MSG_EQ(drops[0], 3u, "step 1: the source drops the 3 packets of the hidden state");
        NS_TEST_ASSERT_MSG_EQ(drops[2], 0u, "the expert's node drops nothing");
        NS_TEST_ASSERT_MSG_EQ(network.net.GetRoutingDroppedPackets(), 6u, "the helper sums the routing drops");
        std::vector<int64_t> end = Records(recorder, MoeTrafficRecorder::TOKEN_END, 2);
        NS_TEST_ASSERT_MSG_EQ(end[0], -1, "request 0 stalls");
        NS_TEST_ASSERT_MSG_EQ(end[1], -1, "request 1 stalls");
        Simulator::Destroy();
    }
};

/// A message lost in flight is resent after the timeout, over the route in force then; the
/// token's latency is exact; with too few retries the request fails with a reason.
class RetransmissionTestCase : public TestCase
{
  public:
    RetransmissionTestCase()
        : TestCase("MoeTokenApplication retransmits lost messages and fails after MaxRetries")
    {
    }

  private:
    void DoRun() override
    {
        const int64_t d = 5000000;  // 5 ms; the link is down from 3 ms to 20 ms
        const int64_t T = 12000000; // 12 ms timeout, above the 10.01 ms round trip
        {
            // Attempt 0 leaves at G and attempt 1 at G + T: both arrive while the link is down.
            // Attempt 2 leaves at G + 2T > 20 ms and gets through.
            TwoNodeModel m({0, 3000000, 20000000}, {d, d, d}, {1, 0, 1}, {0}, NanoSeconds(T), 3);
            std::vector<uint32_t> attempts;
            for (uint32_t i = 0; i < 2; ++i)
            {
                m.network.nodes.Get(i)->GetApplication(0)->TraceConnectWithoutContext(
                    "Retransmit",
                    MakeBoundCallback(+[](std::vector<uint32_t>* a, uint32_t, uint32_t, uint32_t attempt) {
                        a->push_back(attempt);
                    },
                                 &attempts));
            }
            Simulator::Run();
            NS_TEST_ASSERT_MSG_EQ(m.Ends()[0], G + 2 * T + TX + d + E + TX + d + H,
                                  "latency: two timeouts, then the exact path");
            NS_TEST_ASSERT_MSG_EQ(attempts.size(), 2u, "two retransmissions");
            NS_TEST_ASSERT_MSG_EQ(attempts.back(), 2u, "the last is attempt 2");
            NS_TEST_ASSERT_MSG_EQ(m.recorder->GetRetransmissions(), 2u, "counted by the recorder's sink");
            NS_TEST_ASSERT_MSG_EQ(Records(m.recorder, MoeTrafficRecorder::RETRANSMISSIONS, 1)[0], 2, "counted per token");
            NS_TEST_ASSERT_MSG_EQ(m.network.updater->GetLinkDownDroppedPackets(), 2u, "two copies lost");
            // 3 copies of the hidden state, 1 output, 2 ACKs.
            NS_TEST_ASSERT_MSG_EQ(m.recorder->GetPacketsSent(), 6u, "packets sent");
            NS_TEST_ASSERT_MSG_EQ(m.recorder->GetTokensResolved(), 1u, "resolved");
            NS_TEST_ASSERT_MSG_EQ(m.Failure()[0], MoeRequestStatus::NOT_FAILED, "not failed");
            Simulator::Destroy();
        }
        {
            // One retry only: attempt 1 is lost too, and at G + 2T the request fails.
            TwoNodeModel m({0, 3000000, 20000000}, {d, d, d}, {1, 0, 1}, {0}, NanoSeconds(T), 1);
            Simulator::Run();
            NS_TEST_ASSERT_MSG_EQ(m.Ends()[0], -1, "the token does not end");
            std::vector<int64_t> f = m.Failure();
            NS_TEST_ASSERT_MSG_EQ(f[0], MoeRequestStatus::MESSAGE_LOST, "failure code");
            NS_TEST_ASSERT_MSG_EQ(f[1], 0, "at token 0");
            NS_TEST_ASSERT_MSG_EQ(f[4], MoeTokenHeader::HIDDEN_STATE, "the hidden state was lost");
            NS_TEST_ASSERT_MSG_EQ(f[5], G + 2 * T, "failed at the second timeout");
            NS_TEST_ASSERT_MSG_EQ(m.recorder->GetTokensResolved(), 1u, "a failed token is resolved");
            Simulator::Destroy();
        }
        {
            // The expert's satellite fails at 1 ms, before the hidden state arrives: the request
            // fails when the message reaches it (no retransmission needed to notice).
            TwoNodeModel m({0}, {d}, {}, {0});
            int64_t gwFail[] = {-1};
            int64_t exFail[] = {1000000};
            m.plan->SetFailureTimes(gwFail, exFail, 1);
            Simulator::Run();
            std::vector<int64_t> f = m.Failure();
            NS_TEST_ASSERT_MSG_EQ(f[0], MoeRequestStatus::COMPONENT_LOST, "component lost");
            NS_TEST_ASSERT_MSG_EQ(f[4], 1, "an expert");
            NS_TEST_ASSERT_MSG_EQ(f[5], G + TX + d, "when the hidden state reached it");
            Simulator::Destroy();
        }
    }
};

/// A user on the ground (node 0) sends its prompt over a 100 Mbit/s ground link to the gateway
/// (node 1), which starts the request when the prompt is whole; the token comes back down to the
/// user. Every time is the hand-computed store-and-forward latency, to the ns.
class UserPromptAndTokenTestCase : public TestCase
{
  public:
    UserPromptAndTokenTestCase()
        : TestCase("a user's prompt goes up, the gateway starts on it, the token comes down")
    {
    }

  private:
    void DoRun() override
    {
        TestNetwork network(3, {0, 1, 1, 2}, {0, 1, 2}, {0, 1, 1, 0, 1, 2, 1, 1, 2}); // [node, destination]
        network.net.SetLinkDataRate(0, 1, DataRate("100Mbps")); // link 0 is the ground link
        network.Start({0}, {1000000, 2000000});
        Ptr<MoeTrafficPlan> plan = MakePlan();
        plan->SetAttribute("TokenBytes", UintegerValue(4));
        Ptr<MoeTrafficRecorder> recorder = InstallModel(network, plan, 1, 2, {0}, 0);

        Simulator::Run();
        int64_t prompt = Records(recorder, MoeTrafficRecorder::PROMPT_ARRIVAL, 1)[0];
        int64_t end = Records(recorder, MoeTrafficRecorder::TOKEN_END, 1)[0];
        int64_t user = Records(recorder, MoeTrafficRecorder::USER_TOKEN, 1)[0];
        const int64_t up = 1046 * 80 + 1000000;     // 1000 + 46 bytes at 100 Mbit/s, then 1 ms
        const int64_t down = (4 + 46) * 80 + 1000000; // one token's packet
        NS_TEST_ASSERT_MSG_EQ(prompt, up, "prompt whole at the gateway");
        NS_TEST_ASSERT_MSG_EQ(end, up + G + 2 * (TX + 2000000) + E + H, "token end at the gateway");
        NS_TEST_ASSERT_MSG_EQ(user, end + down, "token at the user");
        NS_TEST_ASSERT_MSG_EQ(recorder->GetTokensResolved(), uint64_t{1}, "a token counts when it reaches its user");
        Simulator::Destroy();
    }
};

/// A LinkSocket gives its port back to the node's LinkForwarder when it is closed and when it is
/// destroyed without a Close (its last Ptr released), as UdpSocketImpl frees its endpoint: the
/// port can be bound again and frames for it reach the new socket, not a dead one.
class LinkSocketUnbindTestCase : public TestCase
{
  public:
    LinkSocketUnbindTestCase()
        : TestCase("LinkSocket unbinds its port when closed or destroyed")
    {
    }

  private:
    static Ptr<LinkSocket> MakeSocket(Ptr<Node> node, Ptr<LinkForwarder> forwarder)
    {
        Ptr<LinkSocket> socket = CreateObject<LinkSocket>();
        socket->SetForwarder(node, forwarder);
        return socket;
    }

    void DoRun() override
    {
        Ptr<Node> node = CreateObject<Node>();
        Ptr<LinkForwarder> forwarder = CreateObject<LinkForwarder>(); // node index 0
        node->AggregateObject(forwarder);
        const uint16_t port = 7000;
        const InetSocketAddress address(Ipv4Address::GetAny(), port);

        Ptr<LinkSocket> first = MakeSocket(node, forwarder);
        NS_TEST_ASSERT_MSG_EQ(first->Bind(address), 0, "a free port binds");
        Ptr<LinkSocket> second = MakeSocket(node, forwarder);
        NS_TEST_ASSERT_MSG_EQ(second->Bind(address), -1, "a bound port is taken");
        NS_TEST_ASSERT_MSG_EQ(second->GetErrno(), Socket::ERROR_ADDRINUSE, "taken: ERROR_ADDRINUSE");

        first->Close();
        NS_TEST_ASSERT_MSG_EQ(second->Bind(address), 0, "Close gives the port back");

        second = nullptr; // destroyed without Close or Dispose
        Ptr<LinkSocket> third = MakeSocket(node, forwarder);
        NS_TEST_ASSERT_MSG_EQ(third->Bind(address), 0, "a destroyed socket gives its port back");

        // A frame for this node (index 0) and port reaches the socket bound now, with its sender's
        // address and port (what a reply goes back to), in the header's 28 bytes.
        Ptr<Packet> frame = Create<Packet>(100);
        frame->AddHeader(LinkForwardingHeader(0, port, LinkForwarder::MAX_TTL, Ipv4Address("10.0.0.6"), 7003));
        NS_TEST_ASSERT_MSG_EQ(frame->GetSize(), 128u, "the link header is 28 bytes, as IPv4 and UDP's");
        forwarder->Receive(nullptr, frame, 0x0800, Address());
        NS_TEST_ASSERT_MSG_EQ(third->GetRxAvailable(), 100u, "the frame's payload is delivered to it");
        NS_TEST_ASSERT_MSG_EQ(forwarder->GetDroppedPackets(), uint64_t{0}, "nothing dropped");
        Address from;
        Ptr<Packet> received = third->RecvFrom(1000, 0, from);
        NS_TEST_ASSERT_MSG_EQ(received->GetSize(), 100u, "the payload, the link header removed");
        NS_TEST_ASSERT_MSG_EQ(InetSocketAddress::ConvertFrom(from).GetIpv4(), Ipv4Address("10.0.0.6"),
                              "the sender's address");
        NS_TEST_ASSERT_MSG_EQ(InetSocketAddress::ConvertFrom(from).GetPort(), 7003, "the sender's port");

        third->Close();
        frame = Create<Packet>(100);
        frame->AddHeader(LinkForwardingHeader(0, port, LinkForwarder::MAX_TTL));
        forwarder->Receive(nullptr, frame, 0x0800, Address());
        NS_TEST_ASSERT_MSG_EQ(third->GetRxAvailable(), 0u, "a closed socket receives nothing more");
        NS_TEST_ASSERT_MSG_EQ(forwarder->GetDroppedPackets(), uint64_t{1}, "a frame for an unbound port is dropped");
        node->Dispose();
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
        AddTestCase(new TopologyUpdaterDelaySwitchTestCase, Duration::QUICK);
        AddTestCase(new LinkStateInFlightLossTestCase, Duration::QUICK);
        AddTestCase(new ForwardingTableRoutingDropTestCase, Duration::QUICK);
        AddTestCase(new RetransmissionTestCase, Duration::QUICK);
        AddTestCase(new UserPromptAndTokenTestCase, Duration::QUICK);
        AddTestCase(new LinkSocketUnbindTestCase, Duration::QUICK);
    }
};

SpaceXNetTestSuite g_spaceXNetTestSuite;

} // namespace
