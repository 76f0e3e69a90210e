/*
 * Space-XNet: what the MoE token traffic does: the inputs shared by every MoeTokenApplication of a model copy.
 */
#include "moe-traffic-plan.h"

#include "ns3/abort.h"
#include "ns3/log.h"
#include "ns3/nstime.h"
#include "ns3/simulator.h"
#include "ns3/uinteger.h"

#include <algorithm>
#include <cmath>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("MoeTrafficPlan");
NS_OBJECT_ENSURE_REGISTERED(MoeTrafficPlan);

TypeId
MoeTrafficPlan::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::MoeTrafficPlan")
            .SetParent<Object>()
            .SetGroupName("SpaceXNet")
            .AddConstructor<MoeTrafficPlan>()
            .AddAttribute("MessageBytes",
                          "Bytes of one message: a token's hidden state, or one expert's output.",
                          UintegerValue(8192),
                          MakeUintegerAccessor(&MoeTrafficPlan::m_messageBytes),
                          MakeUintegerChecker<uint32_t>(1))
            .AddAttribute("SegmentBytes",
                          "Application payload bytes per packet; a message is cut into "
                          "ceil(MessageBytes / SegmentBytes) packets. Keep payload + 44 header bytes "
                          "within the link MTU.",
                          UintegerValue(1456),
                          MakeUintegerAccessor(&MoeTrafficPlan::m_segmentBytes),
                          MakeUintegerChecker<uint32_t>(1, 65000))
            .AddAttribute("Port",
                          "UDP port of the model copy's applications: every user, and the first "
                          "component on each satellite (the others take the next ports).",
                          UintegerValue(5000),
                          MakeUintegerAccessor(&MoeTrafficPlan::m_port),
                          MakeUintegerChecker<uint16_t>(1))
            .AddAttribute("TokenBytes",
                          "Payload bytes of one output token sent down to its user (with users only).",
                          UintegerValue(4),
                          MakeUintegerAccessor(&MoeTrafficPlan::m_tokenBytes),
                          MakeUintegerChecker<uint32_t>(1))
            .AddAttribute("RetransmitTimeout",
                          "Application-level retransmission timeout of every message, from its "
                          "(re)transmission to its acknowledgement. Zero: messages are not "
                          "acknowledged and a lost packet stalls its request.",
                          TimeValue(Time(0)),
                          MakeTimeAccessor(&MoeTrafficPlan::m_retransmitTimeout),
                          MakeTimeChecker(Time(0)))
            .AddAttribute("MaxRetries",
                          "Retransmissions of a message before its request fails "
                          "(with a RetransmitTimeout only).",
                          UintegerValue(3),
                          MakeUintegerAccessor(&MoeTrafficPlan::m_maxRetries),
                          MakeUintegerChecker<uint32_t>(0, 255))
            .AddAttribute("CombineAtOwnGateway",
                          "Experts send their outputs back to their own layer's gateway, which "
                          "combines them and forwards one message to the next layer's gateway "
                          "(false: the outputs go straight to the next layer's gateway).",
                          BooleanValue(false),
                          MakeBooleanAccessor(&MoeTrafficPlan::m_combineAtOwnGateway),
                          MakeBooleanChecker())
            .AddAttribute("SequentialDispatch",
                          "A token's k experts are reached one after another: the hidden state goes "
                          "from the gateway to the first expert, from each expert to the next, and "
                          "from the last to the combining gateway (false: the gateway sends to all k "
                          "at once).",
                          BooleanValue(false),
                          MakeBooleanAccessor(&MoeTrafficPlan::m_sequentialDispatch),
                          MakeBooleanChecker())
            .AddAttribute("MaxBatch",
                          "Most decode steps a gateway runs as one batched job (continuous "
                          "batching); 1: every step is a job of its own.",
                          UintegerValue(1),
                          MakeUintegerAccessor(&MoeTrafficPlan::m_maxBatch),
                          MakeUintegerChecker<uint32_t>(1, 65536));
    return tid;
}

MoeTrafficPlan::MoeTrafficPlan()
    : m_layers(0),
      m_experts(0),
      m_topK(0),
      m_requests(0),
      m_tokens(0),
      m_messageBytes(8192),
      m_segmentBytes(1456),
      m_port(5000),
      m_lmHeadNs(0),
      m_retransmitTimeout(0),
      m_maxRetries(3),
      m_combineAtOwnGateway(false),
      m_sequentialDispatch(false),
      m_maxChunks(0),
      m_kvBytesPerToken(0),
      m_kvBudget(0),
      m_lmHeadMemNs(0),
      m_maxBatch(1),
      m_lmHeadExactNs(-1.0),
      m_users(0),
      m_tokenBytes(4),
      m_maxHelpers(0),
      m_kvWindow(0),
      m_kvBytesPerS(0.0),
      m_maxReplicas(0)
{
}

void
MoeTrafficPlan::Configure(uint32_t layers, uint32_t experts, uint32_t topK, uint32_t requests, uint32_t tokens)
{
    NS_ABORT_MSG_IF(layers == 0 || experts == 0 || requests == 0 || tokens == 0, "empty MoE traffic plan");
    NS_ABORT_MSG_IF(topK == 0 || topK > experts, "top-k must be in [1, experts]");
    m_layers = layers;
    m_experts = experts;
    m_topK = topK;
    m_requests = requests;
    m_tokens = tokens;
    m_activations.assign(static_cast<uint64_t>(requests) * tokens * layers * topK, 0);
    m_gatewayNs.assign(layers, 0);
    m_expertNs.assign(static_cast<uint64_t>(layers) * experts, 0);
    m_requestStartNs.assign(requests, 0);
    m_helpers.assign(layers, 0);
    m_shardNs.assign(layers, 0);
    m_maxHelpers = 0;
    m_maxReplicas = 0;
    m_replicaChoice.clear();
    m_replicaStepNs.clear();
    m_gatewayFailNs.assign(layers, -1);
    m_expertFailNs.assign(static_cast<uint64_t>(layers) * experts, -1);
}

void
MoeTrafficPlan::SetFailureTimes(const int64_t* gatewayNs, const int64_t* expertNs, uint64_t expertCount)
{
    NS_ABORT_MSG_IF(expertCount != m_expertFailNs.size(), "expert failure times: wrong count");
    std::copy(gatewayNs, gatewayNs + m_layers, m_gatewayFailNs.begin());
    std::copy(expertNs, expertNs + expertCount, m_expertFailNs.begin());
}

bool
MoeTrafficPlan::GetCombineAtOwnGateway() const
{
    return m_combineAtOwnGateway;
}

bool
MoeTrafficPlan::GetSequentialDispatch() const
{
    return m_sequentialDispatch;
}

Time
MoeTrafficPlan::GetRetransmitTimeout() const
{
    return m_retransmitTimeout;
}

uint32_t
MoeTrafficPlan::GetMaxRetries() const
{
    return m_maxRetries;
}

namespace
{

/// Whether a satellite failing at @p failNs (-1: never) is dark now.
bool
IsDarkNow(int64_t failNs)
{
    return failNs >= 0 && Simulator::Now().GetNanoSeconds() >= failNs;
}

} // namespace

bool MoeTrafficPlan::IsGatewayDown(uint32_t layer) const
{
    return IsDarkNow(m_gatewayFailNs[layer]) && (m_restored.empty() || !m_restored[layer]);
}
bool MoeTrafficPlan::IsExpertDown(uint32_t layer, uint32_t expert) const
{
    uint64_t i = static_cast<uint64_t>(layer) * m_experts + expert;
    return IsDarkNow(m_expertFailNs[i]) && (m_restored.empty() || !m_restored[m_layers + i]);
}

void
MoeTrafficPlan::Restore(uint32_t role, uint32_t layer, uint32_t index)
{
    NS_ABORT_MSG_IF(role > 1 || layer >= m_layers || (role == 1 && index >= m_experts),
                    "Restore: no component (" << role << ", " << layer << ", " << index << ")");
    m_restored.resize(m_layers + static_cast<uint64_t>(m_layers) * m_experts, 0);
    m_restored[role == 0 ? layer : m_layers + static_cast<uint64_t>(layer) * m_experts + index] = 1;
}

bool
MoeTrafficPlan::HasFailed(uint32_t role, uint32_t layer, uint32_t index) const
{
    if (role == 0)
    {
        return IsDarkNow(m_gatewayFailNs[layer]);
    }
    return role == 1 && IsDarkNow(m_expertFailNs[static_cast<uint64_t>(layer) * m_experts + index]);
}

void
MoeTrafficPlan::SetActivations(const int32_t* expertIds, uint64_t count)
{
    NS_ABORT_MSG_IF(count != m_activations.size(),
                    "activations have " << count << " entries, expected " << m_activations.size());
    for (uint64_t i = 0; i < count; ++i)
    {
        NS_ABORT_MSG_IF(expertIds[i] < 0 || static_cast<uint32_t>(expertIds[i]) >= m_experts,
                        "expert id " << expertIds[i] << " out of range");
    }
    std::copy(expertIds, expertIds + count, m_activations.begin());
}

void
MoeTrafficPlan::SetComputeTimes(const int64_t* gatewayNs, const int64_t* expertNs, uint64_t expertCount, int64_t lmHeadNs)
{
    NS_ABORT_MSG_IF(expertCount != m_expertNs.size(), "expert compute times: wrong count");
    std::copy(gatewayNs, gatewayNs + m_layers, m_gatewayNs.begin());
    std::copy(expertNs, expertNs + expertCount, m_expertNs.begin());
    m_lmHeadNs = lmHeadNs;
}

void
MoeTrafficPlan::SetRequestStarts(const int64_t* startNs, uint32_t count)
{
    NS_ABORT_MSG_IF(count != m_requests, "request starts: wrong count");
    std::copy(startNs, startNs + count, m_requestStartNs.begin());
}

uint32_t MoeTrafficPlan::GetNLayers() const { return m_layers; }
uint32_t MoeTrafficPlan::GetNExperts() const { return m_experts; }
uint32_t MoeTrafficPlan::GetTopK() const { return m_topK; }
uint32_t MoeTrafficPlan::GetNRequests() const { return m_requests; }
uint32_t MoeTrafficPlan::GetNTokens() const { return m_tokens; }
uint32_t MoeTrafficPlan::GetMessageBytes() const { return m_messageBytes; }
uint32_t MoeTrafficPlan::GetSegmentBytes() const { return m_segmentBytes; }
uint16_t MoeTrafficPlan::GetPort() const { return m_port; }

uint32_t
MoeTrafficPlan::GetExpert(uint32_t request, uint32_t token, uint32_t layer, uint32_t slot) const
{
    return m_activations[((TokenIndex(request, token) * m_layers) + layer) * m_topK + slot];
}

Time
MoeTrafficPlan::GetGatewayCompute(uint32_t layer) const
{
    return NanoSeconds(m_gatewayNs[layer]);
}

Time
MoeTrafficPlan::GetExpertCompute(uint32_t layer, uint32_t expert) const
{
    return NanoSeconds(m_expertNs[static_cast<uint64_t>(layer) * m_experts + expert]);
}

Time
MoeTrafficPlan::GetLmHeadCompute() const
{
    return NanoSeconds(m_lmHeadNs);
}

Time
MoeTrafficPlan::GetRequestStart(uint32_t request) const
{
    return NanoSeconds(m_requestStartNs[request]);
}

// ---- Prefill ----------------------------------------------------------------------------------

void
MoeTrafficPlan::SetPrefill(const int32_t* tokenCounts, uint64_t count, const int32_t* promptTokens, uint32_t requests)
{
    uint64_t perRequest = static_cast<uint64_t>(m_layers) * m_experts;
    NS_ABORT_MSG_IF(requests != m_requests || count != requests * perRequest, "SetPrefill: wrong count");
    m_prefillTokens.assign(tokenCounts, tokenCounts + count);
    m_promptTokens.assign(promptTokens, promptTokens + requests);
    m_prefillExperts.assign(static_cast<uint64_t>(requests) * m_layers, 0);
    for (uint64_t rl = 0; rl < static_cast<uint64_t>(requests) * m_layers; ++rl)
    {
        int32_t sum = 0;
        for (uint32_t e = 0; e < m_experts; ++e)
        {
            int32_t n = m_prefillTokens[rl * m_experts + e];
            NS_ABORT_MSG_IF(n < 0, "SetPrefill: negative token count");
            sum += n;
            m_prefillExperts[rl] += n > 0 ? 1 : 0;
        }
        NS_ABORT_MSG_IF(sum != static_cast<int64_t>(m_promptTokens[rl / m_layers]) * m_topK,
                        "SetPrefill: a layer's expert token counts must sum to prompt tokens x top-k");
    }
}

void
MoeTrafficPlan::SetRequestTokens(const int32_t* tokens, uint32_t count)
{
    NS_ABORT_MSG_IF(count != m_requests, "SetRequestTokens: wrong count");
    m_requestTokens.assign(tokens, tokens + count);
    for (int32_t n : m_requestTokens)
    {
        NS_ABORT_MSG_IF(n < 1 || static_cast<uint32_t>(n) > m_tokens, "SetRequestTokens: a count outside [1, T]");
    }
}

uint32_t
MoeTrafficPlan::GetRequestTokens(uint32_t request) const
{
    return m_requestTokens.empty() ? m_tokens : m_requestTokens[request];
}

bool
MoeTrafficPlan::IsPrefill(uint32_t request, uint32_t token) const
{
    return (token == 0 && !m_promptTokens.empty() && m_promptTokens[request] > 0) || token >= m_tokens;
}

uint32_t
MoeTrafficPlan::GetPromptTokens(uint32_t request) const
{
    return m_promptTokens.empty() ? 0 : m_promptTokens[request];
}

uint32_t
MoeTrafficPlan::GetPrefillTokens(uint32_t request, uint32_t layer, uint32_t expert) const
{
    return m_prefillTokens[(static_cast<uint64_t>(request) * m_layers + layer) * m_experts + expert];
}

uint32_t
MoeTrafficPlan::GetPrefillExperts(uint32_t request, uint32_t layer) const
{
    return m_prefillExperts[static_cast<uint64_t>(request) * m_layers + layer];
}

// ---- Chunked prefill -------------------------------------------------------------------------

void
MoeTrafficPlan::SetChunks(const int32_t* chunkCounts, uint64_t count, const int32_t* chunkTokens, uint32_t requests,
                          uint32_t maxChunks)
{
    uint64_t perChunk = static_cast<uint64_t>(m_layers) * m_experts;
    NS_ABORT_MSG_IF(m_promptTokens.empty(), "SetChunks: call SetPrefill first");
    NS_ABORT_MSG_IF(requests != m_requests || maxChunks < 1 ||
                        count != static_cast<uint64_t>(requests) * maxChunks * perChunk,
                    "SetChunks: wrong count");
    m_maxChunks = maxChunks;
    m_chunkCounts.assign(chunkCounts, chunkCounts + count);
    m_chunkTokens.assign(chunkTokens, chunkTokens + static_cast<uint64_t>(requests) * maxChunks);
    m_chunkExperts.assign(static_cast<uint64_t>(requests) * maxChunks * m_layers, 0);
    m_chunks.assign(requests, 0);
    for (uint32_t r = 0; r < requests; ++r)
    {
        int64_t total = 0;
        for (uint32_t c = 0; c < maxChunks; ++c)
        {
            int32_t n = m_chunkTokens[static_cast<uint64_t>(r) * maxChunks + c];
            NS_ABORT_MSG_IF(n < 0 || (n > 0 && static_cast<uint32_t>(m_chunks[r]) != c), "SetChunks: chunks must come first, non-empty");
            m_chunks[r] += n > 0 ? 1 : 0;
            total += n;
            for (uint32_t l = 0; l < m_layers; ++l)
            {
                uint64_t rcl = (static_cast<uint64_t>(r) * maxChunks + c) * m_layers + l;
                int64_t sum = 0;
                for (uint32_t e = 0; e < m_experts; ++e)
                {
                    int32_t k = m_chunkCounts[rcl * m_experts + e];
                    NS_ABORT_MSG_IF(k < 0, "SetChunks: negative token count");
                    sum += k;
                    m_chunkExperts[rcl] += k > 0 ? 1 : 0;
                }
                NS_ABORT_MSG_IF(sum != static_cast<int64_t>(n) * m_topK,
                                "SetChunks: a layer's expert token counts must sum to chunk tokens x top-k");
            }
        }
        NS_ABORT_MSG_IF(total != m_promptTokens[r], "SetChunks: the chunks of a request must sum to its prompt");
    }
}

uint32_t
MoeTrafficPlan::GetNChunks(uint32_t request) const
{
    if (m_chunks.empty())
    {
        return GetPromptTokens(request) > 0 ? 1 : 0;
    }
    return m_chunks[request];
}

bool MoeTrafficPlan::IsChunk(uint32_t token) const { return token >= m_tokens; }

uint32_t
MoeTrafficPlan::GetChunkToken(uint32_t request, uint32_t chunk) const
{
    return chunk + 1 >= GetNChunks(request) ? 0 : m_tokens + chunk;
}

uint32_t
MoeTrafficPlan::GetChunkIndex(uint32_t request, uint32_t token) const
{
    return token >= m_tokens ? token - m_tokens : GetNChunks(request) - 1;
}

uint32_t
MoeTrafficPlan::GetNTokenSlots() const
{
    return m_tokens + (m_maxChunks > 1 ? m_maxChunks - 1 : 0);
}

uint32_t
MoeTrafficPlan::GetPassTokens(uint32_t request, uint32_t token) const
{
    if (m_chunks.empty())
    {
        return GetPromptTokens(request);
    }
    return m_chunkTokens[static_cast<uint64_t>(request) * m_maxChunks + GetChunkIndex(request, token)];
}

uint32_t
MoeTrafficPlan::GetPassExpertTokens(uint32_t request, uint32_t token, uint32_t layer, uint32_t expert) const
{
    if (m_chunks.empty())
    {
        return GetPrefillTokens(request, layer, expert);
    }
    uint64_t rc = static_cast<uint64_t>(request) * m_maxChunks + GetChunkIndex(request, token);
    return m_chunkCounts[(rc * m_layers + layer) * m_experts + expert];
}

uint32_t
MoeTrafficPlan::GetPassExperts(uint32_t request, uint32_t token, uint32_t layer) const
{
    if (m_chunks.empty())
    {
        return GetPrefillExperts(request, layer);
    }
    uint64_t rc = static_cast<uint64_t>(request) * m_maxChunks + GetChunkIndex(request, token);
    return m_chunkExperts[rc * m_layers + layer];
}

// ---- Disaggregated prefill and decode --------------------------------------------------------

void
MoeTrafficPlan::SetKvTargets(const uint32_t* addresses, const int32_t* ports, const int32_t* remote,
                             uint32_t requests, uint64_t kvBytesPerToken)
{
    NS_ABORT_MSG_IF(requests != m_requests, "SetKvTargets: wrong count");
    uint64_t n = static_cast<uint64_t>(requests) * m_layers;
    m_kvAddresses.assign(addresses, addresses + n);
    m_kvPorts.assign(ports, ports + n);
    m_kvRemote.assign(remote, remote + requests);
    m_kvBytesPerToken = kvBytesPerToken;
}

bool
MoeTrafficPlan::HasKvTarget(uint32_t request) const
{
    return !m_kvRemote.empty() && m_kvRemote[request] >= 0;
}

Ipv4Address
MoeTrafficPlan::GetKvAddress(uint32_t request, uint32_t layer) const
{
    return Ipv4Address(m_kvAddresses[static_cast<uint64_t>(request) * m_layers + layer]);
}

uint16_t
MoeTrafficPlan::GetKvPort(uint32_t request, uint32_t layer) const
{
    return static_cast<uint16_t>(m_kvPorts[static_cast<uint64_t>(request) * m_layers + layer]);
}

uint32_t MoeTrafficPlan::GetKvRequest(uint32_t request) const { return m_kvRemote[request]; }

uint64_t
MoeTrafficPlan::GetKvBytes(uint32_t request) const
{
    return GetPromptTokens(request) * m_kvBytesPerToken;
}

void
MoeTrafficPlan::SetKvSources(const int32_t* receives, uint32_t requests)
{
    NS_ABORT_MSG_IF(requests != m_requests, "SetKvSources: wrong count");
    m_kvReceivers.assign(receives, receives + requests);
}

bool
MoeTrafficPlan::IsKvReceiver(uint32_t request) const
{
    return !m_kvReceivers.empty() && m_kvReceivers[request] != 0;
}

// ---- KV-cache memory at run time --------------------------------------------------------------

void MoeTrafficPlan::SetKvBudget(uint64_t tokens) { m_kvBudget = tokens; }

uint64_t MoeTrafficPlan::GetKvBudget() const { return m_kvBudget; }

uint64_t
MoeTrafficPlan::GetRequestKvTokens(uint32_t request) const
{
    return static_cast<uint64_t>(GetPromptTokens(request)) + GetRequestTokens(request);
}

// ---- Roofline and batching ---------------------------------------------------------------------

void
MoeTrafficPlan::SetMemoryTimes(const int64_t* gatewayNs, const int64_t* expertNs, uint64_t expertCount,
                               int64_t lmHeadNs)
{
    NS_ABORT_MSG_IF(expertCount != static_cast<uint64_t>(m_layers) * m_experts, "SetMemoryTimes: wrong count");
    m_gatewayMemNs.assign(gatewayNs, gatewayNs + m_layers);
    m_expertMemNs.assign(expertNs, expertNs + expertCount);
    m_lmHeadMemNs = lmHeadNs;
}

Time
MoeTrafficPlan::Roofline(Time compute, Time memory, uint64_t tokens)
{
    return std::max(NanoSeconds(compute.GetNanoSeconds() * static_cast<int64_t>(tokens)), memory);
}

Time
MoeTrafficPlan::GetGatewayMemory(uint32_t layer) const
{
    return NanoSeconds(m_gatewayMemNs.empty() ? 0 : m_gatewayMemNs[layer]);
}

Time
MoeTrafficPlan::GetExpertMemory(uint32_t layer, uint32_t expert) const
{
    return NanoSeconds(m_expertMemNs.empty() ? 0 : m_expertMemNs[static_cast<uint64_t>(layer) * m_experts + expert]);
}

Time MoeTrafficPlan::GetLmHeadMemory() const { return NanoSeconds(m_lmHeadMemNs); }

void
MoeTrafficPlan::SetExactComputeTimes(const double* gatewayNs, const double* expertNs, uint64_t expertCount,
                                     double lmHeadNs)
{
    NS_ABORT_MSG_IF(expertCount != static_cast<uint64_t>(m_layers) * m_experts, "SetExactComputeTimes: wrong count");
    m_gatewayExactNs.assign(gatewayNs, gatewayNs + m_layers);
    m_expertExactNs.assign(expertNs, expertNs + expertCount);
    m_lmHeadExactNs = lmHeadNs;
}

Time
MoeTrafficPlan::Job(int64_t computeNs, double exactNs, int64_t memoryNs, uint64_t tokens)
{
    int64_t compute = tokens > 1 && exactNs >= 0.0 ? std::llround(static_cast<double>(tokens) * exactNs)
                                                    : computeNs * static_cast<int64_t>(tokens);
    return NanoSeconds(std::max(compute, memoryNs));
}

Time
MoeTrafficPlan::GatewayJob(uint32_t layer, uint64_t tokens) const
{
    return Job(m_gatewayNs.at(layer),
               m_gatewayExactNs.empty() ? -1.0 : m_gatewayExactNs[layer],
               m_gatewayMemNs.empty() ? 0 : m_gatewayMemNs[layer],
               tokens);
}

Time
MoeTrafficPlan::ExpertJob(uint32_t layer, uint32_t expert, uint64_t tokens) const
{
    uint64_t i = static_cast<uint64_t>(layer) * m_experts + expert;
    return Job(m_expertNs.at(i),
               m_expertExactNs.empty() ? -1.0 : m_expertExactNs[i],
               m_expertMemNs.empty() ? 0 : m_expertMemNs[i],
               tokens);
}

Time
MoeTrafficPlan::LmHeadJob(uint64_t tokens) const
{
    return Job(m_lmHeadNs, m_lmHeadExactNs, m_lmHeadMemNs, tokens);
}
uint32_t MoeTrafficPlan::GetMaxBatch() const { return m_maxBatch; }

uint64_t
MoeTrafficPlan::TokenIndex(uint32_t request, uint32_t token) const
{
    return static_cast<uint64_t>(request) * m_tokens + token;
}

void
MoeTrafficPlan::SetUsers(const int32_t* userOf, uint32_t count, uint32_t users)
{
    NS_ABORT_MSG_IF(count != m_requests, "SetUsers: " << count << " users for " << m_requests << " requests");
    for (uint32_t r = 0; r < count; ++r)
    {
        NS_ABORT_MSG_IF(userOf[r] < 0 || static_cast<uint32_t>(userOf[r]) >= users, "SetUsers: bad user");
    }
    m_userOf.assign(userOf, userOf + count);
    m_users = users;
}

bool MoeTrafficPlan::HasUsers() const { return !m_userOf.empty(); }
uint32_t MoeTrafficPlan::GetNUsers() const { return m_users; }
uint32_t MoeTrafficPlan::GetUserOf(uint32_t request) const { return m_userOf[request]; }
uint32_t MoeTrafficPlan::GetTokenBytes() const { return m_tokenBytes; }

// ---- KV-cache reads in the roofline ------------------------------------------------------------

void
MoeTrafficPlan::SetKvReads(const double* fullBytes,
                           const double* slidingBytes,
                           const double* shardFraction,
                           uint32_t layers,
                           uint64_t window,
                           double bytesPerS,
                           const int32_t* promptTokens,
                           uint32_t requests)
{
    NS_ABORT_MSG_IF(layers != m_layers || requests != m_requests, "SetKvReads: wrong count");
    NS_ABORT_MSG_IF(!(bytesPerS > 0.0), "SetKvReads: the bandwidth must be positive");
    m_kvFullBytes.assign(fullBytes, fullBytes + layers);
    m_kvSlidingBytes.assign(slidingBytes, slidingBytes + layers);
    m_kvShardFraction.assign(shardFraction, shardFraction + layers);
    m_kvPromptTokens.assign(promptTokens, promptTokens + requests);
    m_kvWindow = window;
    m_kvBytesPerS = bytesPerS;
}

bool MoeTrafficPlan::HasKvReads() const { return !m_kvFullBytes.empty(); }

double
MoeTrafficPlan::GetKvBytes(uint32_t layer, uint32_t request, uint32_t token) const
{
    if (m_kvFullBytes.empty())
    {
        return 0.0;
    }
    uint64_t cached = 0;
    uint64_t fresh = 1;
    if (IsPrefill(request, token))
    {
        // A prompt's pass (or chunk c): the earlier chunks' tokens are cached, its own are new.
        fresh = GetPassTokens(request, token);
        if (!m_chunks.empty())
        {
            uint32_t c = GetChunkIndex(request, token);
            for (uint32_t i = 0; i < c; ++i)
            {
                cached += m_chunkTokens[static_cast<uint64_t>(request) * m_maxChunks + i];
            }
        }
    }
    else
    {
        // A decode step: the prompt and the tokens before it (token 0 follows the prompt pass's
        // output when there is a prompt, so step t reads prompt + t tokens, its own included).
        uint64_t prompt = static_cast<uint64_t>(std::max<int32_t>(0, m_kvPromptTokens.at(request)));
        cached = prompt > 0 ? prompt + token - 1 : token;
    }
    uint64_t slid = m_kvWindow > 0 ? std::min(cached, m_kvWindow) : cached;
    return m_kvFullBytes.at(layer) * static_cast<double>(cached + fresh) +
           m_kvSlidingBytes.at(layer) * static_cast<double>(slid + fresh);
}

Time
MoeTrafficPlan::KvReadTime(double bytes) const
{
    if (m_kvFullBytes.empty() || bytes <= 0.0)
    {
        return NanoSeconds(0);
    }
    return NanoSeconds(static_cast<int64_t>(std::floor(bytes / m_kvBytesPerS * 1e9 + 0.5)));
}

Time
MoeTrafficPlan::GatewayJob(uint32_t layer, uint64_t tokens, double kvBytes) const
{
    if (m_kvFullBytes.empty() || m_gatewayMemNs.empty())
    {
        return GatewayJob(layer, tokens);
    }
    return Job(m_gatewayNs.at(layer),
               m_gatewayExactNs.empty() ? -1.0 : m_gatewayExactNs[layer],
               m_gatewayMemNs[layer] + KvReadTime(kvBytes).GetNanoSeconds(),
               tokens);
}

Time
MoeTrafficPlan::ShardJob(uint32_t layer, uint64_t tokens, double kvBytes) const
{
    if (m_kvFullBytes.empty() || m_shardMemNs.empty())
    {
        return ShardJob(layer, tokens);
    }
    return Job(m_shardNs.at(layer),
               m_shardExactNs.empty() ? -1.0 : m_shardExactNs[layer],
               m_shardMemNs[layer] + KvReadTime(kvBytes * m_kvShardFraction.at(layer)).GetNanoSeconds(),
               tokens);
}

} // namespace ns3
