/*
 * Space-XNet example: one MoE token over a chain of three satellites.
 *
 * Satellite 0 hosts the gateway of a one-layer model, satellite 2 its single expert, and
 * satellite 1 relays between them over two laser ISLs of --firstKm and --secondKm. The token's
 * hidden state goes 0 -> 1 -> 2, the expert's output comes back 2 -> 1 -> 0, and the gateway's
 * LM head ends the token. With messages of one packet the latency is exact:
 *
 *   gateway + expert + LM head compute + 4 x (packet bytes x 8 / rate) + 2 x (d1 + d2) / c
 *
 * where a packet is the message plus 46 header bytes (MoeTokenHeader 16, UDP 8, IPv4 20, PPP 2).
 *
 *   ./space-xnet-chain-example --firstKm=1000 --secondKm=2000
 */
#include "ns3/core-module.h"
#include "ns3/space-xnet-module.h"

#include <cmath>
#include <iostream>

using namespace ns3;

NS_LOG_COMPONENT_DEFINE("SpaceXNetChainExample");

int
main(int argc, char* argv[])
{
    double firstKm = 1000;
    double secondKm = 2000;
    uint32_t messageBytes = 1000;
    std::string rate = "1Gbps";
    CommandLine cmd(__FILE__);
    cmd.AddValue("firstKm", "Length of the ISL from the gateway's satellite to the relay, km", firstKm);
    cmd.AddValue("secondKm", "Length of the ISL from the relay to the expert's satellite, km", secondKm);
    cmd.AddValue("messageBytes", "Bytes of a hidden state (one packet: at most 1456)", messageBytes);
    cmd.AddValue("rate", "Data rate of every ISL", rate);
    cmd.Parse(argc, argv);

    // The chain: links 0-1 and 1-2, one topology step, delays d/c in whole ns as the harness has them.
    const uint32_t numNodes = 3;
    int32_t edges[] = {0, 1, 1, 2};
    const double c = 299792458.0; // m/s
    int64_t delayNs[] = {std::llround(firstKm * 1e3 / c * 1e9), std::llround(secondKm * 1e3 / c * 1e9)};
    uint8_t up[] = {1, 1};
    // Shortest-delay routes computed on demand, as in the harness (8 low bits: hop counts below 256).
    ShortestPathQuery paths(numNodes, edges, 2, 1, delayNs, up, 8);
    Ptr<ForwardingTable> table = CreateObject<ForwardingTable>();
    table->UseShortestPaths(paths);
    Ptr<TopologyUpdater> updater = CreateObject<TopologyUpdater>();
    updater->SetAttribute("Table", PointerValue(table));
    IslNetworkHelper network;
    network.SetDeviceAttribute("DataRate", StringValue(rate));
    network.SetDeviceAttribute("Mtu", UintegerValue(1500));
    NodeContainer satellites = network.Install(numNodes, edges, 2, table, updater);
    int64_t stepTimes[] = {0};
    updater->SetSchedule(stepTimes, 1, delayNs, 2);
    updater->Start();

    // A one-layer model with one expert (top-1), one request of one token starting at 0.
    Ptr<MoeTrafficPlan> plan = CreateObject<MoeTrafficPlan>();
    plan->SetAttribute("MessageBytes", UintegerValue(messageBytes));
    plan->Configure(1, 1, 1, 1, 1);
    int32_t expertOfToken[] = {0};
    plan->SetActivations(expertOfToken, 1);
    int64_t gatewayNs[] = {5000};
    int64_t expertNs[] = {7000};
    plan->SetComputeTimes(gatewayNs, expertNs, 1, 11000);
    int64_t startNs[] = {0};
    plan->SetRequestStarts(startNs, 1);
    MoeTokenHelper moe(plan);
    int32_t gatewayNode[] = {0};
    int32_t expertNode[] = {2};
    moe.Install(satellites, gatewayNode, expertNode, 1);

    Simulator::Run();
    int64_t endNs[1];
    moe.GetRecorder()->Copy(MoeTrafficRecorder::TOKEN_END, endNs, 1);
    std::cout << "chain of 3 satellites, ISLs of " << firstKm << " km and " << secondKm << " km at " << rate
              << ", messages of " << messageBytes << " bytes" << std::endl;
    std::cout << "token latency: " << endNs[0] << " ns" << std::endl;
    Simulator::Destroy();
    return endNs[0] < 0 ? 1 : 0;
}
