/*
 * Space-XNet: one model component (a layer's gateway or one expert) on one satellite.
 */
#include "moe-token-application.h"

#include "ns3/abort.h"
#include "ns3/enum.h"
#include "ns3/inet-socket-address.h"
#include "ns3/log.h"
#include "ns3/packet.h"
#include "ns3/pointer.h"
#include "ns3/simulator.h"
#include "ns3/udp-socket-factory.h"
#include "ns3/uinteger.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("MoeTokenApplication");
NS_OBJECT_ENSURE_REGISTERED(MoeTokenApplication);

TypeId
MoeTokenApplication::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::MoeTokenApplication")
            .SetParent<Application>()
            .SetGroupName("SpaceXNet")
            .AddConstructor<MoeTokenApplication>()
            .AddAttribute("Plan",
                          "The MoeTrafficPlan shared by every component of the model.",
                          PointerValue(),
                          MakePointerAccessor(&MoeTokenApplication::m_plan),
                          MakePointerChecker<MoeTrafficPlan>())
            .AddAttribute("Role",
                          "Which component this satellite hosts.",
                          EnumValue(MoeTokenApplication::GATEWAY),
                          MakeEnumAccessor<Role>(&MoeTokenApplication::m_role),
                          MakeEnumChecker(MoeTokenApplication::GATEWAY, "Gateway",
                                          MoeTokenApplication::EXPERT, "Expert"))
            .AddAttribute("Layer",
                          "The MoE layer of the component.",
                          UintegerValue(0),
                          MakeUintegerAccessor(&MoeTokenApplication::m_layer),
                          MakeUintegerChecker<uint32_t>())
            .AddAttribute("Expert",
                          "The expert index inside its layer (experts only).",
                          UintegerValue(0),
                          MakeUintegerAccessor(&MoeTokenApplication::m_expert),
                          MakeUintegerChecker<uint32_t>())
            .AddTraceSource("Rx",
                            "A packet of a message arrived.",
                            MakeTraceSourceAccessor(&MoeTokenApplication::m_rxTrace),
                            "ns3::Packet::TracedCallback")
            .AddTraceSource("Tx",
                            "A packet of a message was sent.",
                            MakeTraceSourceAccessor(&MoeTokenApplication::m_txTrace),
                            "ns3::Packet::TracedCallback");
    return tid;
}

MoeTokenApplication::MoeTokenApplication()
    : m_role(GATEWAY),
      m_layer(0),
      m_expert(0)
{
}

MoeTokenApplication::~MoeTokenApplication() = default;

void
MoeTokenApplication::DoDispose()
{
    m_socket = nullptr;
    m_plan = nullptr;
    Application::DoDispose();
}

void
MoeTokenApplication::StartApplication()
{
    NS_ABORT_MSG_IF(!m_plan, "MoeTokenApplication needs a Plan");
    m_socket = Socket::CreateSocket(GetNode(), UdpSocketFactory::GetTypeId());
    NS_ABORT_MSG_IF(m_socket->Bind(InetSocketAddress(Ipv4Address::GetAny(), m_plan->GetPort())) != 0,
                    "cannot bind the MoE port");
    m_socket->SetRecvCallback(MakeCallback(&MoeTokenApplication::HandleRead, this));
    m_busyUntil = Simulator::Now();
    if (m_role == GATEWAY && m_layer == 0)
    {
        for (uint32_t r = 0; r < m_plan->GetNRequests(); ++r)
        {
            Simulator::Schedule(m_plan->GetRequestStart(r) - Simulator::Now(),
                                &MoeTokenApplication::StartToken,
                                this,
                                r,
                                0);
        }
    }
}

void
MoeTokenApplication::StopApplication()
{
    if (m_socket)
    {
        m_socket->Close();
        m_socket->SetRecvCallback(MakeNullCallback<void, Ptr<Socket>>());
    }
}

void
MoeTokenApplication::RunCompute(Time duration, std::function<void()> done)
{
    Time start = std::max(Simulator::Now(), m_busyUntil);
    m_busyUntil = start + duration;
    Simulator::Schedule(m_busyUntil - Simulator::Now(), std::move(done));
}

void
MoeTokenApplication::StartToken(uint32_t request, uint32_t token)
{
    m_plan->RecordTokenStart(request, token, Simulator::Now());
    RunCompute(m_plan->GetGatewayCompute(0), [this, request, token]() { SendToExperts(request, token); });
}

void
MoeTokenApplication::SendToExperts(uint32_t request, uint32_t token)
{
    MoeTokenHeader header;
    header.m_request = request;
    header.m_token = token;
    header.m_layer = m_layer;
    header.m_kind = MoeTokenHeader::HIDDEN_STATE;
    for (uint32_t slot = 0; slot < m_plan->GetTopK(); ++slot)
    {
        header.m_expert = m_plan->GetExpert(request, token, m_layer, slot);
        SendMessage(m_plan->GetExpertAddress(m_layer, header.m_expert), header);
    }
}

void
MoeTokenApplication::SendOutput(uint32_t request, uint32_t token)
{
    MoeTokenHeader header;
    header.m_request = request;
    header.m_token = token;
    header.m_layer = m_layer;
    header.m_expert = m_expert;
    header.m_kind = MoeTokenHeader::EXPERT_OUTPUT;
    uint32_t next = (m_layer + 1) % m_plan->GetNLayers();
    SendMessage(m_plan->GetGatewayAddress(next), header);
}

void
MoeTokenApplication::FinishToken(uint32_t request, uint32_t token)
{
    m_plan->RecordTokenEnd(request, token, Simulator::Now());
    if (token + 1 < m_plan->GetNTokens())
    {
        StartToken(request, token + 1);
    }
}

void
MoeTokenApplication::SendMessage(Ipv4Address destination, const MoeTokenHeader& header)
{
    uint32_t bytes = m_plan->GetMessageBytes();
    uint32_t segment = m_plan->GetSegmentBytes();
    MoeTokenHeader h = header;
    h.m_segments = static_cast<uint16_t>((bytes + segment - 1) / segment);
    InetSocketAddress to(destination, m_plan->GetPort());
    for (uint32_t offset = 0; offset < bytes; offset += segment)
    {
        Ptr<Packet> p = Create<Packet>(std::min(segment, bytes - offset));
        p->AddHeader(h);
        m_txTrace(p);
        m_plan->CountPacketSent();
        m_socket->SendTo(p, 0, to);
    }
}

void
MoeTokenApplication::HandleRead(Ptr<Socket> socket)
{
    Ptr<Packet> p;
    Address from;
    while ((p = socket->RecvFrom(from)))
    {
        m_rxTrace(p);
        m_plan->CountPacketReceived();
        MoeTokenHeader h;
        p->RemoveHeader(h);
        // One key per message: (request, token, layer, expert, kind) packed densely.
        uint64_t key = (((static_cast<uint64_t>(h.m_request) * m_plan->GetNTokens() + h.m_token) *
                             m_plan->GetNLayers() +
                         h.m_layer) *
                            m_plan->GetNExperts() +
                        h.m_expert) *
                           2 +
                       h.m_kind;
        uint32_t& got = m_segments[key];
        if (++got == h.m_segments)
        {
            m_segments.erase(key);
            HandleMessage(h);
        }
    }
}

void
MoeTokenApplication::HandleMessage(const MoeTokenHeader& h)
{
    uint32_t request = h.m_request;
    uint32_t token = h.m_token;
    if (h.m_kind == MoeTokenHeader::HIDDEN_STATE)
    {
        NS_ABORT_MSG_IF(m_role != EXPERT, "a hidden state reached a gateway");
        RunCompute(m_plan->GetExpertCompute(m_layer, m_expert),
                   [this, request, token]() { SendOutput(request, token); });
        return;
    }
    NS_ABORT_MSG_IF(m_role != GATEWAY, "an expert output reached an expert");
    uint64_t key = static_cast<uint64_t>(request) * m_plan->GetNTokens() + token;
    uint32_t& got = m_combines[key];
    if (++got < m_plan->GetTopK())
    {
        return;
    }
    m_combines.erase(key);
    m_plan->RecordCombine(request, token, h.m_layer, Simulator::Now());
    if (m_layer == 0)
    {
        // The ring closes here: the last layer's outputs feed the LM head, which ends the token.
        RunCompute(m_plan->GetLmHeadCompute(), [this, request, token]() { FinishToken(request, token); });
    }
    else
    {
        RunCompute(m_plan->GetGatewayCompute(m_layer),
                   [this, request, token]() { SendToExperts(request, token); });
    }
}

} // namespace ns3
