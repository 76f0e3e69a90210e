/*
 * Space-XNet: one model component (a layer's gateway or one expert) on one satellite.
 */
#include "moe-token-application.h"

#include "ns3/abort.h"
#include "ns3/callback.h"
#include "ns3/boolean.h"
#include "ns3/enum.h"
#include "ns3/inet-socket-address.h"
#include "ns3/link-socket.h"
#include "ns3/log.h"
#include "ns3/moe-failover.h"
#include "ns3/packet.h"
#include "ns3/pointer.h"
#include "ns3/simulator.h"
#include "ns3/udp-socket-factory.h"
#include "ns3/uinteger.h"

#include <algorithm>

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
            .AddAttribute("Directory",
                          "Where every component of the model copy listens.",
                          PointerValue(),
                          MakePointerAccessor(&MoeTokenApplication::m_directory),
                          MakePointerChecker<MoeComponentDirectory>())
            .AddAttribute("Status",
                          "Which requests of the model copy have failed (shared by its components).",
                          PointerValue(),
                          MakePointerAccessor(&MoeTokenApplication::m_status),
                          MakePointerChecker<MoeRequestStatus>())
            .AddAttribute("ComputeQueue",
                          "The compute of this satellite, shared by the model copy's components on it.",
                          PointerValue(),
                          MakePointerAccessor(&MoeTokenApplication::m_computeQueue),
                          MakePointerChecker<MoeComputeQueue>())
            .AddAttribute("Role",
                          "Which component this application is.",
                          EnumValue(MoeRole::GATEWAY),
                          MakeEnumAccessor<MoeRole>(&MoeTokenApplication::m_role),
                          MakeEnumChecker(MoeRole::GATEWAY, "Gateway",
                                          MoeRole::EXPERT, "Expert",
                                          MoeRole::SHARD, "Shard",
                                          MoeRole::USER, "User"))
            .AddAttribute("Layer",
                          "The MoE layer of the component.",
                          UintegerValue(0),
                          MakeUintegerAccessor(&MoeTokenApplication::m_layer),
                          MakeUintegerChecker<uint32_t>())
            .AddAttribute("Expert",
                          "The expert index inside its layer (experts), or the shard index (shards).",
                          UintegerValue(0),
                          MakeUintegerAccessor(&MoeTokenApplication::m_expert),
                          MakeUintegerChecker<uint32_t>())
            .AddAttribute("Copy",
                          "Experts only: 0 for the expert itself, r >= 1 for its replica r.",
                          UintegerValue(0),
                          MakeUintegerAccessor(&MoeTokenApplication::m_copy),
                          MakeUintegerChecker<uint32_t>())
            .AddAttribute("Failover",
                          "Recovery across model replicas (fail-over or re-placement); null: none.",
                          PointerValue(),
                          MakePointerAccessor(&MoeTokenApplication::m_failover),
                          MakePointerChecker<MoeFailover>())
            .AddAttribute("Replica",
                          "The model replica of this component (with a Failover).",
                          UintegerValue(0),
                          MakeUintegerAccessor(&MoeTokenApplication::m_replica),
                          MakeUintegerChecker<uint32_t>())
            .AddAttribute("Spare",
                          "A re-placed component on its spare satellite: it never counts as lost.",
                          BooleanValue(false),
                          MakeBooleanAccessor(&MoeTokenApplication::m_spare),
                          MakeBooleanChecker())
            .AddTraceSource("Rx",
                            "A packet of a message arrived.",
                            MakeTraceSourceAccessor(&MoeTokenApplication::m_rxTrace),
                            "ns3::Packet::TracedCallback")
            .AddTraceSource("Tx",
                            "A packet of a message (or an ACK) was sent.",
                            MakeTraceSourceAccessor(&MoeTokenApplication::m_txTrace),
                            "ns3::Packet::TracedCallback")
            .AddTraceSource("Retransmit",
                            "A message of (request, token) was resent after its timeout; the "
                            "third argument is the new attempt number.",
                            MakeTraceSourceAccessor(&MoeTokenApplication::m_retransmitTrace),
                            "ns3::MoeTokenApplication::RetransmitTracedCallback")
            .AddTraceSource("RequestFailed",
                            "This component failed (request, token), the request's first failure: "
                            "a message exhausted its retries or a component it needed was lost; "
                            "then the code, and the message's (layer, expert, kind) or the lost "
                            "component's (layer, expert, role).",
                            MakeTraceSourceAccessor(&MoeTokenApplication::m_requestFailedTrace),
                            "ns3::MoeTokenApplication::RequestFailedTracedCallback")
            .AddTraceSource("TokenStart",
                            "Layer 0's gateway started (request, token): its first attention.",
                            MakeTraceSourceAccessor(&MoeTokenApplication::m_tokenStartTrace),
                            "ns3::MoeTokenApplication::TokenTracedCallback")
            .AddTraceSource("TokenEnd",
                            "Layer 0's gateway ended (request, token): its LM head finished.",
                            MakeTraceSourceAccessor(&MoeTokenApplication::m_tokenEndTrace),
                            "ns3::MoeTokenApplication::TokenTracedCallback")
            .AddTraceSource("Combine",
                            "This gateway had every expert output of (request, token) of a layer.",
                            MakeTraceSourceAccessor(&MoeTokenApplication::m_combineTrace),
                            "ns3::MoeTokenApplication::CombineTracedCallback")
            .AddTraceSource("PromptArrival",
                            "The prompt of a request was whole at layer 0's gateway (users).",
                            MakeTraceSourceAccessor(&MoeTokenApplication::m_promptArrivalTrace),
                            "ns3::MoeTokenApplication::PromptTracedCallback")
            .AddTraceSource("UserToken",
                            "An output token (request, token) was whole at its user (users).",
                            MakeTraceSourceAccessor(&MoeTokenApplication::m_userTokenTrace),
                            "ns3::MoeTokenApplication::TokenTracedCallback")
            .AddTraceSource("Admitted",
                            "Layer 0's gateway admitted a request (its KV cache fits the budget) "
                            "after it waited this long for memory.",
                            MakeTraceSourceAccessor(&MoeTokenApplication::m_admitTrace),
                            "ns3::MoeTokenApplication::AdmitTracedCallback")
            .AddTraceSource("KvReceived",
                            "A KV cache (or the first output token) from a prefill replica was whole "
                            "here: the request, the layer (the layer count for the first token), and "
                            "the payload bytes of its packets.",
                            MakeTraceSourceAccessor(&MoeTokenApplication::m_kvTrace),
                            "ns3::MoeTokenApplication::KvTracedCallback")
            .AddTraceSource("ComputeDone",
                            "A compute job ended: the satellite (node id) and the job's duration.",
                            MakeTraceSourceAccessor(&MoeTokenApplication::m_computeTrace),
                            "ns3::MoeTokenApplication::ComputeTracedCallback")
            .AddTraceSource("Duplicate",
                            "A message of (request, token) arrived whole again after it had "
                            "been received: a retransmission that was not needed.",
                            MakeTraceSourceAccessor(&MoeTokenApplication::m_duplicateTrace),
                            "ns3::MoeTokenApplication::TokenTracedCallback")
            .AddTraceSource("UserRetransmit",
                            "A user's prompt (at the user) or an output token (at layer 0's gateway) "
                            "was resent after its timeout: request, token, kind.",
                            MakeTraceSourceAccessor(&MoeTokenApplication::m_userRetransmitTrace),
                            "ns3::MoeTokenApplication::UserRetransmitTracedCallback")
            .AddTraceSource("Reroute",
                            "A message to a copy of expert (layer, expert) whose satellite had failed "
                            "went to a surviving copy instead: request, token, layer, expert.",
                            MakeTraceSourceAccessor(&MoeTokenApplication::m_rerouteTrace),
                            "ns3::MoeTokenApplication::RerouteTracedCallback");
    return tid;
}

MoeTokenApplication::MoeTokenApplication()
    : m_role(MoeRole::GATEWAY),
      m_layer(0),
      m_expert(0),
      m_copy(0),
      m_kvInUse(0),
      m_batchRunning(false)
{
}

MoeTokenApplication::~MoeTokenApplication() = default;

void
MoeTokenApplication::DoDispose()
{
    for (auto& [key, pending] : m_pending)
    {
        pending.timer.Cancel();
    }
    m_pending.clear();
    m_delivered.clear();
    m_socket = nullptr;
    m_plan = nullptr;
    m_recorder = nullptr;
    m_failover = nullptr;
    m_directory = nullptr;
    m_status = nullptr;
    m_computeQueue = nullptr;
    Application::DoDispose();
}

void
MoeTokenApplication::SetRecorder(Ptr<MoeTrafficRecorder> recorder)
{
    m_recorder = recorder;
}

void
MoeTokenApplication::StartApplication()
{
    NS_ABORT_MSG_IF(!m_plan || !m_directory || !m_status || !m_computeQueue,
                    "MoeTokenApplication needs a Plan, a Directory, a Status and a ComputeQueue "
                    "(MoeTokenHelper sets them)");
    // The link-level mode (IslNetworkHelper::SetLinkForwarding) gives the node a LinkSocketFactory.
    Ptr<LinkSocketFactory> link = GetNode()->GetObject<LinkSocketFactory>();
    m_socket = link ? link->CreateSocket() : Socket::CreateSocket(GetNode(), UdpSocketFactory::GetTypeId());
    uint16_t port = m_role == MoeRole::USER ? m_plan->GetPort() : m_directory->GetPort(m_role, m_layer, m_expert, m_copy);
    NS_ABORT_MSG_IF(m_socket->Bind(InetSocketAddress(Ipv4Address::GetAny(), port)) != 0,
                    "cannot bind the MoE port");
    m_socket->SetRecvCallback(MakeCallback(&MoeTokenApplication::HandleRead, this));
    if (m_role == MoeRole::USER)
    {
        for (uint32_t r = 0; r < m_plan->GetNRequests(); ++r)
        {
            if (m_plan->GetUserOf(r) == m_layer)
            {
                Simulator::Schedule(m_plan->GetRequestStart(r) - Simulator::Now(),
                                    &MoeTokenApplication::SendPrompt,
                                    this,
                                    r);
            }
        }
    }
    else if (m_role == MoeRole::GATEWAY && m_layer == 0 && m_failover)
    {
        // Recovery across replicas: the controller starts each request where it can run.
        m_failover->RegisterGateway(m_replica, this, m_spare);
        for (uint32_t r = 0; r < m_plan->GetNRequests() && !m_spare; ++r)
        {
            if (m_failover->Owns(m_replica, r))
            {
                Simulator::Schedule(m_plan->GetRequestStart(r) - Simulator::Now(),
                                    &MoeFailover::Arrive,
                                    m_failover,
                                    m_replica,
                                    r);
            }
        }
    }
    else if (m_role == MoeRole::GATEWAY && m_layer == 0 && !m_plan->HasUsers())
    {
        for (uint32_t r = 0; r < m_plan->GetNRequests(); ++r)
        {
            if (m_plan->IsKvReceiver(r))
            {
                continue; // a decode replica's request starts when its KV cache is here (HandleKv)
            }
            if (m_plan->GetKvBudget() > 0)
            {
                Simulator::Schedule(m_plan->GetRequestStart(r) - Simulator::Now(), &MoeTokenApplication::Admit, this, r);
                continue;
            }
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
    // One queue per satellite: components that share it (co-located shards) wait for each other.
    m_computeQueue->Submit(duration, [this, duration, done = std::move(done)]() {
        m_computeTrace(GetNode()->GetId(), duration);
        done();
    });
}

void
MoeTokenApplication::StartToken(uint32_t request, uint32_t token)
{
    NS_LOG_FUNCTION(this << request << token);
    if (m_status->IsFailed(request) || FailIfDown(request, token))
    {
        return;
    }
    m_tokenStartTrace(request, token);
    // Chunked prefill: the prompt's first chunk starts; each next one when its predecessor's
    // attention here ends (SendToExperts).
    RunAttention(request, token == 0 ? m_plan->GetChunkToken(request, 0) : token, false);
}

void
MoeTokenApplication::StartChunk(uint32_t request, uint32_t chunk)
{
    NS_LOG_FUNCTION(this << request << chunk);
    if (m_status->IsFailed(request) || FailIfDown(request, 0))
    {
        return;
    }
    RunAttention(request, m_plan->GetChunkToken(request, chunk), false);
}

void
MoeTokenApplication::SendToExperts(uint32_t request, uint32_t token)
{
    if (m_plan->IsPrefill(request, token))
    {
        if (token == 0 && m_plan->HasKvTarget(request))
        {
            SendKv(request, false); // the prompt's last pass ran here: this layer's cache is whole
        }
        if (m_layer == 0 && m_plan->IsChunk(token))
        {
            // This chunk's attention at layer 0 ended: the next chunk of the prompt queues here now,
            // behind the decode steps that arrived meanwhile.
            Simulator::ScheduleNow(&MoeTokenApplication::StartChunk,
                                   this,
                                   request,
                                   m_plan->GetChunkIndex(request, token) + 1);
        }
        SendPrefillToExperts(request, token);
        return;
    }
    MoeTokenHeader header(request, token, m_layer, 0, MoeTokenHeader::HIDDEN_STATE);
    // In sequential dispatch only the first expert hears from the gateway; it passes the state on.
    uint32_t slots = m_plan->GetSequentialDispatch() ? 1 : m_plan->GetTopK();
    for (uint32_t slot = 0; slot < slots && !m_status->IsFailed(request); ++slot)
    {
        header.m_expert = m_plan->GetExpert(request, token, m_layer, slot);
        SendToExpert(m_layer, header.m_expert, header);
    }
}

void
MoeTokenApplication::SendOutput(uint32_t request, uint32_t token)
{
    MoeTokenHeader header(request, token, m_layer, m_expert, MoeTokenHeader::EXPERT_OUTPUT);
    if (m_plan->GetSequentialDispatch())
    {
        uint32_t k = m_plan->GetTopK();
        uint32_t slot = 0;
        while (slot < k && m_plan->GetExpert(request, token, m_layer, slot) != m_expert)
        {
            ++slot;
        }
        if (slot + 1 < k)
        {
            // Not the last of the chain: the hidden state goes on to the token's next expert.
            header.m_kind = MoeTokenHeader::HIDDEN_STATE;
            header.m_expert = m_plan->GetExpert(request, token, m_layer, slot + 1);
            SendToExpert(m_layer, header.m_expert, header);
            return;
        }
    }
    uint32_t combiner = m_plan->GetCombineAtOwnGateway() ? m_layer : (m_layer + 1) % m_plan->GetNLayers();
    SendMessage(MoeRole::GATEWAY, combiner, 0, header);
    if (DirectShardInput(combiner))
    {
        // Tensor-parallel next layer: every one of its shards needs the combined state too.
        header.m_kind = MoeTokenHeader::SHARD_INPUT;
        for (uint32_t i = 0; i < m_plan->GetNHelpers(combiner) && !m_status->IsFailed(request); ++i)
        {
            SendMessage(MoeRole::SHARD, combiner, i, header);
        }
    }
}

void
MoeTokenApplication::FinishToken(uint32_t request, uint32_t token)
{
    NS_LOG_FUNCTION(this << request << token);
    m_tokenEndTrace(request, token);
    if (token == 0 && m_plan->HasKvTarget(request))
    {
        SendKv(request, true); // the first output token goes on to the decode replica
    }
    if (m_plan->HasUsers())
    {
        // Acknowledged by the user and resent like every message, with retransmission on.
        SendMessage(MoeRole::USER, m_plan->GetUserOf(request), 0,
                    MoeTokenHeader(request, token, 0, 0, MoeTokenHeader::OUTPUT_TOKEN));
    }
    if (m_failover && token + 1 >= m_plan->GetRequestTokens(request))
    {
        m_failover->Done(m_replica, request);
    }
    if (token + 1 < m_plan->GetRequestTokens(request))
    {
        StartToken(request, token + 1);
    }
    else if (m_plan->GetKvBudget() > 0 && !m_plan->IsKvReceiver(request))
    {
        m_kvInUse -= m_plan->GetRequestKvTokens(request); // its KV cache is freed
        TryAdmit();
    }
}

void
MoeTokenApplication::Admit(uint32_t request)
{
    if (m_plan->GetKvBudget() == 0)
    {
        StartToken(request, 0);
        return;
    }
    m_admitQueue.emplace_back(request, Simulator::Now());
    TryAdmit();
}

void
MoeTokenApplication::Forget(uint32_t request)
{
    for (auto it = m_admitQueue.begin(); it != m_admitQueue.end(); ++it)
    {
        if (it->first == request)
        {
            m_admitQueue.erase(it);
            return; // it never held KV memory
        }
    }
    if (m_plan->GetKvBudget() > 0)
    {
        m_kvInUse -= m_plan->GetRequestKvTokens(request);
        TryAdmit();
    }
}

void
MoeTokenApplication::TryAdmit()
{
    while (!m_admitQueue.empty() &&
           m_kvInUse + m_plan->GetRequestKvTokens(m_admitQueue.front().first) <= m_plan->GetKvBudget())
    {
        auto [request, since] = m_admitQueue.front();
        m_admitQueue.pop_front();
        m_kvInUse += m_plan->GetRequestKvTokens(request);
        m_admitTrace(request, Simulator::Now() - since);
        StartToken(request, 0);
    }
}

bool
MoeTokenApplication::AllArrived(ArrivalCounts& counts, uint32_t request, uint32_t token, uint32_t expected) const
{
    uint64_t key = static_cast<uint64_t>(request) * m_plan->GetNTokenSlots() + token;
    if (++counts[key] < expected)
    {
        return false;
    }
    counts.erase(key);
    return true;
}

uint16_t
MoeTokenApplication::PortOf(MoeRole role, uint32_t layer, uint32_t expert) const
{
    return m_directory->GetPort(role, layer, role == MoeRole::GATEWAY ? 0 : expert);
}

uint64_t
MoeTokenApplication::MessageKey(const MoeTokenHeader& h) const
{
    // (request, token, layer, expert or shard index, kind) packed densely; a message's kind is
    // any but ACK (MoeTokenHeader::KINDS of them).
    uint64_t slots = std::max(m_plan->GetNExperts(), m_plan->GetMaxHelpers());
    return (((static_cast<uint64_t>(h.m_request) * m_plan->GetNTokenSlots() + h.m_token) * m_plan->GetNLayers() +
             h.m_layer) *
                slots +
            h.m_expert) *
               MoeTokenHeader::KINDS +
           h.m_kind;
}

void
MoeTokenApplication::SendMessage(MoeRole role,
                                 uint32_t layer,
                                 uint32_t expert,
                                 const MoeTokenHeader& header,
                                 uint32_t copy)
{
    if (copy > 0 ? m_plan->IsReplicaDown(layer, expert, copy) : IsDown(role, layer, expert))
    {
        Fail(header.m_request, header.m_token, MoeRequestStatus::COMPONENT_LOST, layer, expert, static_cast<uint32_t>(role));
        return;
    }
    if (copy > 0)
    {
        SendSegments(m_directory->GetAddress(role, layer, expert, copy), m_directory->GetPort(role, layer, expert, copy), header);
    }
    else
    {
        SendSegments(m_directory->GetAddress(role, layer, expert), PortOf(role, layer, expert), header);
    }
    Time timeout = m_plan->GetRetransmitTimeout();
    if (timeout.IsStrictlyPositive())
    {
        uint64_t key = PendingKey(header, role, expert);
        Pending& p = m_pending[key];
        p.timer.Cancel(); // (a key is sent once while pending; never two timers on one entry)
        p.header = header;
        p.role = role;
        p.layer = layer;
        p.expert = expert;
        p.copy = copy;
        p.timer = Simulator::Schedule(timeout, &MoeTokenApplication::HandleTimeout, this, key);
    }
}

uint64_t
MoeTokenApplication::PendingKey(const MoeTokenHeader& h, MoeRole role, uint32_t expert) const
{
    if (role != MoeRole::SHARD || h.m_kind != MoeTokenHeader::SHARD_INPUT)
    {
        return MessageKey(h);
    }
    return (uint64_t{1} << 63) | (MessageKey(h) * 256 + expert);
}

uint32_t
MoeTokenApplication::LiveCopy(uint32_t layer, uint32_t expert, uint32_t preferred) const
{
    if (!m_plan->IsReplicaDown(layer, expert, preferred))
    {
        return preferred;
    }
    for (uint32_t copy = 0; copy <= m_plan->GetMaxReplicas(); ++copy)
    {
        if (!m_plan->IsReplicaDown(layer, expert, copy))
        {
            return copy;
        }
    }
    return NO_COPY;
}

void
MoeTokenApplication::SendSegments(Ipv4Address destination, uint16_t port, const MoeTokenHeader& header)
{
    SendBytes(destination, port, header, MessageBytes(header));
}

void
MoeTokenApplication::SendBytes(Ipv4Address destination, uint16_t port, const MoeTokenHeader& header, uint64_t bytes)
{
    uint32_t segment = m_plan->GetSegmentBytes();
    MoeTokenHeader h = header;
    h.m_segments = static_cast<uint16_t>((bytes + segment - 1) / segment);
    NS_LOG_LOGIC("send " << h << " to " << destination);
    InetSocketAddress to(destination, port);
    for (uint64_t offset = 0; offset < bytes; offset += segment)
    {
        Ptr<Packet> p = Create<Packet>(static_cast<uint32_t>(std::min<uint64_t>(segment, bytes - offset)));
        p->AddHeader(h);
        CountSent(p);
        m_socket->SendTo(p, 0, to);
    }
}

void
MoeTokenApplication::SendAck(const MoeTokenHeader& message)
{
    MoeTokenHeader ack = message;
    ack.m_kind = MoeTokenHeader::ACK;
    ack.m_segments = message.m_kind; // an ACK's segments field names the kind it acknowledges
    if (message.m_kind == MoeTokenHeader::SHARD_INPUT)
    {
        ack.m_attempt = static_cast<uint8_t>(m_expert); // which of the layer's shards acknowledges
    }
    if (m_plan->GetMaxReplicas() > 0 && InetSocketAddress::IsMatchingType(m_from))
    {
        // Expert replicas: the header does not say which copy sent it; the packet's source does.
        Ptr<Packet> p = Create<Packet>(0);
        p->AddHeader(ack);
        CountSent(p);
        m_socket->SendTo(p, 0, m_from);
        return;
    }
    Ipv4Address sender;
    uint16_t port = m_plan->GetPort(); // the paper's components: one per satellite, on the base port
    if (message.m_kind == MoeTokenHeader::PROMPT)
    {
        sender = m_directory->GetAddress(MoeRole::USER, m_plan->GetUserOf(message.m_request));
        port = m_directory->GetPort(MoeRole::USER, m_plan->GetUserOf(message.m_request));
    }
    else if (message.m_kind == MoeTokenHeader::OUTPUT_TOKEN)
    {
        sender = m_directory->GetAddress(MoeRole::GATEWAY, 0);
        port = PortOf(MoeRole::GATEWAY, 0, 0);
    }
    else if (message.m_kind == MoeTokenHeader::HIDDEN_STATE)
    {
        // From the gateway, or in a sequential chain from the token's previous expert.
        uint32_t slot = 0;
        while (m_plan->GetSequentialDispatch() && slot < m_plan->GetTopK() &&
               m_plan->GetExpert(message.m_request, message.m_token, message.m_layer, slot) != message.m_expert)
        {
            ++slot;
        }
        sender = m_plan->GetSequentialDispatch() && slot > 0 && slot < m_plan->GetTopK()
                     ? m_directory->GetAddress(MoeRole::EXPERT, 
                           message.m_layer,
                           m_plan->GetExpert(message.m_request, message.m_token, message.m_layer, slot - 1))
                     : m_directory->GetAddress(MoeRole::GATEWAY, message.m_layer);
        // Components sharing a satellite (packed placements) listen on ports of their own.
        port = m_plan->GetSequentialDispatch() && slot > 0 && slot < m_plan->GetTopK()
                   ? PortOf(MoeRole::EXPERT,
                            message.m_layer,
                            m_plan->GetExpert(message.m_request, message.m_token, message.m_layer, slot - 1))
                   : PortOf(MoeRole::GATEWAY, message.m_layer, 0);
    }
    else if (message.m_kind == MoeTokenHeader::COMBINED_STATE)
    {
        sender = m_directory->GetAddress(MoeRole::GATEWAY, message.m_layer);
        port = PortOf(MoeRole::GATEWAY, message.m_layer, 0);
    }
    else if (message.m_kind == MoeTokenHeader::SHARD_SCATTER)
    {
        sender = m_directory->GetAddress(MoeRole::GATEWAY, message.m_layer);
        port = PortOf(MoeRole::GATEWAY, message.m_layer, 0);
    }
    else if (message.m_kind == MoeTokenHeader::SHARD_INPUT)
    {
        sender = m_directory->GetAddress(MoeRole::EXPERT, message.m_layer, message.m_expert);
        port = PortOf(MoeRole::EXPERT, message.m_layer, message.m_expert);
    }
    else if (message.m_kind == MoeTokenHeader::SHARD_GATHER)
    {
        sender = m_directory->GetAddress(MoeRole::SHARD, message.m_layer, message.m_expert);
        port = PortOf(MoeRole::SHARD, message.m_layer, message.m_expert);
    }
    else
    {
        sender = m_directory->GetAddress(MoeRole::EXPERT, message.m_layer, message.m_expert);
        port = PortOf(MoeRole::EXPERT, message.m_layer, message.m_expert);
    }
    Ptr<Packet> p = Create<Packet>(0);
    p->AddHeader(ack);
    CountSent(p);
    m_socket->SendTo(p, 0, InetSocketAddress(sender, port));
}

void
MoeTokenApplication::HandleAck(const MoeTokenHeader& ack)
{
    MoeTokenHeader message = ack;
    message.m_kind = static_cast<uint8_t>(ack.m_segments); // the kind it acknowledges
    auto it = m_pending.find(PendingKey(message, MoeRole::SHARD, ack.m_attempt));
    if (it == m_pending.end())
    {
        return; // a late ACK of a message already acknowledged
    }
    NS_LOG_LOGIC("acknowledged " << message);
    it->second.timer.Cancel();
    m_pending.erase(it);
}

void
MoeTokenApplication::HandleTimeout(uint64_t key)
{
    auto it = m_pending.find(key);
    NS_ASSERT(it != m_pending.end());
    Pending& p = it->second;
    uint32_t request = p.header.m_request;
    uint32_t token = p.header.m_token;
    if (m_status->IsFailed(request) || FailIfDown(request, token))
    {
        m_pending.erase(it);
        return;
    }
    if (p.copy > 0 ? m_plan->IsReplicaDown(p.layer, p.expert, p.copy) : IsDown(p.role, p.layer, p.expert))
    {
        uint32_t copy = p.role == MoeRole::EXPERT && m_plan->GetMaxReplicas() > 0
                            ? LiveCopy(p.layer, p.expert, m_plan->GetExpertCopy(p.layer, p.expert, Simulator::Now()))
                            : NO_COPY;
        if (copy != NO_COPY)
        {
            // Expert replicas: the copy died with the message unacknowledged; a surviving copy
            // computes it instead (a retransmission to another satellite).
            p.copy = copy;
            p.header.m_attempt = static_cast<uint8_t>(std::min<uint32_t>(p.header.m_attempt + 1u, 255u));
            m_rerouteTrace(request, m_plan->IsChunk(token) ? 0 : token, p.layer, p.expert);
            m_retransmitTrace(request, m_plan->IsChunk(token) ? 0 : token, p.header.m_attempt);
            SendSegments(m_directory->GetAddress(MoeRole::EXPERT, p.layer, p.expert, copy),
                         m_directory->GetPort(MoeRole::EXPERT, p.layer, p.expert, copy),
                         p.header);
            p.timer = Simulator::Schedule(m_plan->GetRetransmitTimeout(), &MoeTokenApplication::HandleTimeout, this, key);
            return;
        }
        auto role = static_cast<uint32_t>(p.role);
        uint32_t layer = p.layer;
        uint32_t expert = p.expert;
        if (p.role == MoeRole::EXPERT && m_plan->GetMaxReplicas() > 0)
        {
            expert += (m_plan->GetMaxReplicas() + 1) * m_plan->GetNExperts(); // every copy is dark
        }
        m_pending.erase(it);
        Fail(request, token, MoeRequestStatus::COMPONENT_LOST, layer, expert, role);
        return;
    }
    if (p.header.m_attempt >= m_plan->GetMaxRetries())
    {
        MoeTokenHeader h = p.header;
        m_pending.erase(it);
        Fail(request, token, MoeRequestStatus::MESSAGE_LOST, h.m_layer, h.m_expert, h.m_kind);
        return;
    }
    ++p.header.m_attempt;
    NS_LOG_INFO("timeout: resend " << p.header);
    m_retransmitTrace(request, m_plan->IsChunk(token) ? 0 : token, p.header.m_attempt); // a chunk: the prefill's
    if (p.header.m_kind == MoeTokenHeader::PROMPT || p.header.m_kind == MoeTokenHeader::OUTPUT_TOKEN)
    {
        m_userRetransmitTrace(request, token, p.header.m_kind);
    }
    if (p.copy > 0)
    {
        SendSegments(m_directory->GetAddress(p.role, p.layer, p.expert, p.copy),
                     m_directory->GetPort(p.role, p.layer, p.expert, p.copy),
                     p.header);
    }
    else
    {
        SendSegments(m_directory->GetAddress(p.role, p.layer, p.expert), PortOf(p.role, p.layer, p.expert), p.header);
    }
    p.timer = Simulator::Schedule(m_plan->GetRetransmitTimeout(), &MoeTokenApplication::HandleTimeout, this, key);
}

void
MoeTokenApplication::Fail(uint32_t request,
                          uint32_t token,
                          MoeRequestStatus::FailureCode code,
                          uint32_t layer,
                          uint32_t expert,
                          uint32_t kind)
{
    if (m_failover && code == MoeRequestStatus::COMPONENT_LOST)
    {
        // Recovery: the request stops here; the controller resends it when the loss is detected.
        m_status->MarkFailed(request);
        return;
    }
    if (!m_status->MarkFailed(request))
    {
        return; // failed before: the first failure is the one that counts
    }
    if (m_failover)
    {
        m_failover->Resolved(m_replica, request);
    }
    NS_LOG_INFO("request " << request << " token " << token << " failed (code " << code << ")");
    // A prefill chunk's failure is the prefill's (token 0): the recorder counts tokens from there.
    m_requestFailedTrace(request, m_plan->IsChunk(token) ? 0 : token, code, layer, expert, kind);
}

bool
MoeTokenApplication::IsDown(MoeRole role, uint32_t layer, uint32_t expert) const
{
    switch (role)
    {
    case MoeRole::GATEWAY:
        return m_plan->IsGatewayDown(layer);
    case MoeRole::EXPERT:
        return m_plan->IsExpertDown(layer, expert);
    case MoeRole::SHARD:
        return m_plan->IsShardDown(layer, expert);
    default:
        return false; // users do not fail
    }
}

bool
MoeTokenApplication::FailIfDown(uint32_t request, uint32_t token)
{
    // With recovery a component re-placed elsewhere stays lost here (its spare is another application).
    bool down = m_failover ? !m_spare && m_plan->HasFailed(static_cast<uint32_t>(m_role), m_layer, m_expert)
                : m_copy > 0 ? m_plan->IsReplicaDown(m_layer, m_expert, m_copy)
                             : IsDown(m_role, m_layer, m_expert);
    if (!down)
    {
        return false;
    }
    // An expert's copy r >= 1 is named as expert + r x E (the failure record has no copy field).
    Fail(request,
         token,
         MoeRequestStatus::COMPONENT_LOST,
         m_layer,
         m_role == MoeRole::GATEWAY ? 0 : m_expert + m_copy * m_plan->GetNExperts(),
         static_cast<uint32_t>(m_role));
    return true;
}

void
MoeTokenApplication::HandleRead(Ptr<Socket> socket)
{
    Ptr<Packet> p;
    Address from;
    while ((p = socket->RecvFrom(from)))
    {
        if (m_recorder)
        {
            m_recorder->CountReceived();
        }
        if (!m_rxTrace.IsEmpty())
        {
            m_rxTrace(p);
        }
        m_from = from;
        MoeTokenHeader h;
        p->RemoveHeader(h);
        if (h.m_kind == MoeTokenHeader::ACK)
        {
            HandleAck(h);
            continue;
        }
        if (h.m_segments == 1 && h.m_kind != MoeTokenHeader::KV_CACHE)
        {
            // A message of one segment is whole on arrival: the count below would be made and
            // erased again at once (jumbo frames carry every hidden state so).
            HandleMessage(h);
            continue;
        }
        // Segments count per attempt: a message is whole when every segment of one transmission came.
        uint64_t key = MessageKey(h) * 256 + h.m_attempt;
        uint32_t& got = m_segments[key];
        if (h.m_kind == MoeTokenHeader::KV_CACHE)
        {
            m_kvBytesIn[key] += p->GetSize();
        }
        if (++got == h.m_segments)
        {
            m_segments.erase(key);
            if (h.m_kind == MoeTokenHeader::KV_CACHE)
            {
                uint64_t bytes = m_kvBytesIn[key];
                m_kvBytesIn.erase(key);
                HandleKv(h, bytes);
                continue;
            }
            HandleMessage(h);
        }
    }
}

void
MoeTokenApplication::HandleMessage(const MoeTokenHeader& h)
{
    uint32_t request = h.m_request;
    uint32_t token = h.m_token;
    NS_LOG_LOGIC("received " << h);
    if (h.m_kind == MoeTokenHeader::PROMPT || h.m_kind == MoeTokenHeader::OUTPUT_TOKEN)
    {
        if (m_status->IsFailed(request))
        {
            return;
        }
        if (m_plan->GetRetransmitTimeout().IsStrictlyPositive())
        {
            // Acknowledged like every message (a dark gateway acknowledges nothing); a duplicate
            // (its ACK was late or lost) is not handled twice.
            if (FailIfDown(request, token))
            {
                return;
            }
            SendAck(h);
            if (!m_delivered.insert(MessageKey(h)).second)
            {
                m_duplicateTrace(request, token);
                return;
            }
        }
        HandleUserMessage(h);
        return;
    }
    if (m_status->IsFailed(request) || FailIfDown(request, token))
    {
        return;
    }
    if (m_plan->GetRetransmitTimeout().IsStrictlyPositive())
    {
        SendAck(h);
        if (!m_delivered.insert(MessageKey(h)).second)
        {
            m_duplicateTrace(request, token);
            return; // a retransmission of a message that was already whole (its ACK was late or lost)
        }
    }
    if (h.m_kind == MoeTokenHeader::SHARD_SCATTER || h.m_kind == MoeTokenHeader::SHARD_GATHER ||
        h.m_kind == MoeTokenHeader::SHARD_INPUT)
    {
        HandleShardMessage(h);
        return;
    }
    if (h.m_kind == MoeTokenHeader::HIDDEN_STATE)
    {
        NS_ABORT_MSG_IF(m_role != MoeRole::EXPERT, "a hidden state reached a gateway");
        RunStep(EXPERT, request, token, [this, request, token]() {
            if (!m_status->IsFailed(request) && !FailIfDown(request, token))
            {
                SendOutput(request, token);
            }
        });
        return;
    }
    NS_ABORT_MSG_IF(m_role != MoeRole::GATEWAY, "an expert output reached an expert");
    if (h.m_kind == MoeTokenHeader::EXPERT_OUTPUT)
    {
        // A sequential chain delivers one output (its last expert's), parallel dispatch k.
        if (!AllArrived(m_combines, request, token, ExpectedOutputs(request, token, h.m_layer)))
        {
            return;
        }
        uint32_t next = (m_layer + 1) % m_plan->GetNLayers();
        if (m_plan->GetCombineAtOwnGateway() && h.m_layer == m_layer && next != m_layer)
        {
            // Combined here, at the layer's own gateway: one message on to the next gateway.
            MoeTokenHeader combined = h;
            combined.m_kind = MoeTokenHeader::COMBINED_STATE;
            combined.m_expert = 0;
            SendMessage(MoeRole::GATEWAY, next, 0, combined);
            return;
        }
    }
    if (m_plan->IsChunk(token))
    {
        if (m_layer == 0)
        {
            return; // a prefill chunk before the last: its pass ends here, with no LM head
        }
    }
    else
    {
        m_combineTrace(request, token, h.m_layer);
    }
    if (m_layer == 0)
    {
        // The ring closes here: the last layer's outputs feed the LM head, which ends the token.
        RunStep(LM_HEAD, request, token, [this, request, token]() {
            if (!m_status->IsFailed(request) && !FailIfDown(request, token))
            {
                FinishToken(request, token);
            }
        });
    }
    else if (token == 1 && m_plan->IsKvReceiver(request) && !(m_kvReady[request] & 1))
    {
        m_kvHeld.insert(request); // this layer's KV cache is still on its way from the prefill replica
    }
    else if (m_plan->IsPrefill(request, token) && m_plan->GetNChunks(request) > 1)
    {
        RunChunkInOrder(request, token);
    }
    else
    {
        RunAttention(request, token, true);
    }
}

void
MoeTokenApplication::RunChunkInOrder(uint32_t request, uint32_t token)
{
    // A chunk's attention reads the KV cache of the chunks before it: it queues here only after
    // theirs (this satellite's compute is first come, first served), however its experts answered.
    uint32_t& next = m_chunkNext[request];
    uint64_t base = static_cast<uint64_t>(request) * m_plan->GetNTokenSlots();
    uint32_t chunk = m_plan->GetChunkIndex(request, token);
    if (chunk != next)
    {
        m_chunkHeld.insert(base + chunk);
        return;
    }
    while (true)
    {
        RunAttention(request, m_plan->GetChunkToken(request, next), true);
        ++next;
        if (next == m_plan->GetNChunks(request))
        {
            m_chunkNext.erase(request);
            return;
        }
        if (m_chunkHeld.erase(base + next) == 0)
        {
            return;
        }
    }
}

void
MoeTokenApplication::SendKv(uint32_t request, bool firstToken)
{
    MoeTokenHeader h(m_plan->GetKvRequest(request), 0, m_layer, firstToken ? 1 : 0, MoeTokenHeader::KV_CACHE);
    uint64_t bytes = firstToken ? m_plan->GetTokenBytes() : m_plan->GetKvBytes(request);
    NS_LOG_LOGIC("KV of request " << request << " layer " << m_layer << ": " << bytes << " B");
    SendBytes(m_plan->GetKvAddress(request, m_layer), m_plan->GetKvPort(request, m_layer), h, bytes);
}

void
MoeTokenApplication::HandleKv(const MoeTokenHeader& h, uint64_t bytes)
{
    uint32_t request = h.m_request;
    bool first = h.m_expert == 1;
    m_kvTrace(request, first ? m_plan->GetNLayers() : m_layer, bytes);
    uint8_t& ready = m_kvReady[request];
    ready |= first ? 2 : 1;
    if (m_layer == 0)
    {
        if (ready == 3)
        {
            m_kvReady.erase(request);
            StartToken(request, 1); // cache and first token here: decoding starts
        }
        return;
    }
    if (m_kvHeld.erase(request))
    {
        RunAttention(request, 1, true);
    }
}

} // namespace ns3
