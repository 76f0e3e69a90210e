/*
 * Space-XNet: what the MoE token traffic of a model copy did, recorded from its applications' traces.
 */
#include "moe-traffic-recorder.h"

#include "ns3/abort.h"
#include "ns3/log.h"
#include "ns3/moe-token-header.h"
#include "ns3/simulator.h"

#include <algorithm>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("MoeTrafficRecorder");
NS_OBJECT_ENSURE_REGISTERED(MoeTrafficRecorder);

TypeId
MoeTrafficRecorder::GetTypeId()
{
    static TypeId tid = TypeId("ns3::MoeTrafficRecorder")
                            .SetParent<Object>()
                            .SetGroupName("SpaceXNet")
                            .AddConstructor<MoeTrafficRecorder>();
    return tid;
}

MoeTrafficRecorder::MoeTrafficRecorder()
    : m_packetsSent(0),
      m_packetsReceived(0),
      m_retransmissionCount(0),
      m_duplicates(0),
      m_tokensCompleted(0),
      m_userTokensReceived(0),
      m_tokensAbandoned(0)
{
}

void
MoeTrafficRecorder::DoDispose()
{
    m_plan = nullptr;
    Object::DoDispose();
}

void
MoeTrafficRecorder::Configure(Ptr<const MoeTrafficPlan> plan)
{
    NS_LOG_FUNCTION(this << plan);
    m_plan = plan;
    uint64_t requests = plan->GetNRequests();
    uint64_t tokens = requests * plan->GetNTokens();
    m_records[TOKEN_START].assign(tokens, -1);
    m_records[TOKEN_END].assign(tokens, -1);
    m_records[COMBINE].assign(tokens * plan->GetNLayers(), -1);
    m_records[RETRANSMISSIONS].assign(tokens, 0);
    m_records[FAILURES].assign(requests * FAILURE_FIELDS, -1);
    for (uint64_t r = 0; r < requests; ++r)
    {
        m_records[FAILURES][r * FAILURE_FIELDS] = MoeRequestStatus::NOT_FAILED;
    }
    m_records[PROMPT_ARRIVAL].assign(plan->HasUsers() ? requests : 0, -1);
    m_records[USER_TOKEN].assign(plan->HasUsers() ? tokens : 0, -1);
    m_records[KV_ARRIVAL].assign(requests * (plan->GetNLayers() + 1), -1);
    m_records[KV_BYTES].assign(requests * (plan->GetNLayers() + 1), 0);
    m_records[QUEUED].assign(requests, -1);
    m_busyNs.clear();
    m_packetsSent = 0;
    m_packetsReceived = 0;
    m_retransmissionCount = 0;
    m_duplicates = 0;
    m_tokensCompleted = 0;
    m_userTokensReceived = 0;
    m_tokensAbandoned = 0;
    m_promptRetransmissions = 0;
    m_outputTokenRetransmissions = 0;
    m_reroutes = 0;
}

uint64_t
MoeTrafficRecorder::TokenIndex(uint32_t request, uint32_t token) const
{
    return static_cast<uint64_t>(request) * m_plan->GetNTokens() + token;
}

void
MoeTrafficRecorder::NotifyTokenStart(uint32_t request, uint32_t token)
{
    m_records[TOKEN_START][TokenIndex(request, token)] = Simulator::Now().GetNanoSeconds();
}

void
MoeTrafficRecorder::NotifyTokenEnd(uint32_t request, uint32_t token)
{
    m_records[TOKEN_END][TokenIndex(request, token)] = Simulator::Now().GetNanoSeconds();
    ++m_tokensCompleted;
}

void
MoeTrafficRecorder::NotifyCombine(uint32_t request, uint32_t token, uint32_t layer)
{
    m_records[COMBINE][TokenIndex(request, token) * m_plan->GetNLayers() + layer] = Simulator::Now().GetNanoSeconds();
}

void
MoeTrafficRecorder::NotifyPromptArrival(uint32_t request)
{
    m_records[PROMPT_ARRIVAL][request] = Simulator::Now().GetNanoSeconds();
}

void
MoeTrafficRecorder::NotifyUserToken(uint32_t request, uint32_t token)
{
    int64_t& slot = m_records[USER_TOKEN][TokenIndex(request, token)];
    if (slot < 0)
    {
        slot = Simulator::Now().GetNanoSeconds();
        ++m_userTokensReceived;
    }
}

void
MoeTrafficRecorder::NotifyRequestFailed(uint32_t request,
                                        uint32_t token,
                                        MoeRequestStatus::FailureCode code,
                                        uint32_t layer,
                                        uint32_t expert,
                                        uint32_t kind)
{
    NS_LOG_INFO("request " << request << " fails at token " << token << ": code " << code << " layer "
                           << layer << " expert " << expert << " kind " << kind);
    int64_t* f = &m_records[FAILURES][static_cast<uint64_t>(request) * FAILURE_FIELDS];
    f[0] = code;
    f[1] = token;
    f[2] = layer;
    f[3] = expert;
    f[4] = kind;
    f[5] = Simulator::Now().GetNanoSeconds();
    // With users a token is resolved when it reached its user: after the failure none will (the
    // user drops them), so every token not yet there is abandoned, an ended one whose output token
    // was lost on the way down included.
    for (uint32_t k = m_plan->HasUsers() ? 0 : token; k < m_plan->GetRequestTokens(request); ++k)
    {
        if (m_records[m_plan->HasUsers() ? USER_TOKEN : TOKEN_END][TokenIndex(request, k)] < 0)
        {
            ++m_tokensAbandoned;
        }
    }
}

void
MoeTrafficRecorder::NotifyPacketSent(Ptr<const Packet> /* packet */)
{
    ++m_packetsSent;
}

void
MoeTrafficRecorder::NotifyPacketReceived(Ptr<const Packet> /* packet */)
{
    ++m_packetsReceived;
}

void
MoeTrafficRecorder::NotifyRetransmit(uint32_t request, uint32_t token, uint32_t /* attempt */)
{
    ++m_records[RETRANSMISSIONS][TokenIndex(request, token)];
    ++m_retransmissionCount;
}

void
MoeTrafficRecorder::NotifyDuplicate(uint32_t /* request */, uint32_t /* token */)
{
    ++m_duplicates;
}

void
MoeTrafficRecorder::NotifyUserRetransmit(uint32_t /* request */, uint32_t /* token */, uint32_t kind)
{
    ++(kind == MoeTokenHeader::PROMPT ? m_promptRetransmissions : m_outputTokenRetransmissions);
}

void
MoeTrafficRecorder::NotifyReroute(uint32_t /* request */, uint32_t /* token */, uint32_t /* layer */, uint32_t /* expert */)
{
    ++m_reroutes;
}

uint64_t
MoeTrafficRecorder::GetPromptRetransmissions() const
{
    return m_promptRetransmissions;
}

uint64_t
MoeTrafficRecorder::GetOutputTokenRetransmissions() const
{
    return m_outputTokenRetransmissions;
}

uint64_t
MoeTrafficRecorder::GetReroutes() const
{
    return m_reroutes;
}

void
MoeTrafficRecorder::NotifyCompute(uint32_t node, Time duration)
{
    if (node >= m_busyNs.size())
    {
        m_busyNs.resize(node + 1, 0);
    }
    m_busyNs[node] += duration.GetNanoSeconds();
}

void
MoeTrafficRecorder::NotifyKv(uint32_t request, uint32_t layer, uint64_t bytes)
{
    uint64_t i = static_cast<uint64_t>(request) * (m_plan->GetNLayers() + 1) + layer;
    m_records[KV_ARRIVAL][i] = Simulator::Now().GetNanoSeconds();
    m_records[KV_BYTES][i] = static_cast<int64_t>(bytes);
}

void
MoeTrafficRecorder::NotifyAdmitted(uint32_t request, Time queued)
{
    m_records[QUEUED][request] = queued.GetNanoSeconds();
}

void
MoeTrafficRecorder::Copy(Record record, int64_t* out, uint64_t count) const
{
    NS_ABORT_MSG_IF(record < 0 || record >= RECORDS, "Copy: no record " << record);
    const std::vector<int64_t>& from = m_records[record];
    NS_ABORT_MSG_IF(count != from.size(),
                    "Copy: record " << record << " has " << from.size() << " entries, not " << count);
    std::copy(from.begin(), from.end(), out);
}

void
MoeTrafficRecorder::CopyBusy(int64_t* out, uint64_t count) const
{
    for (uint64_t i = 0; i < count; ++i)
    {
        out[i] = i < m_busyNs.size() ? m_busyNs[i] : 0;
    }
}

uint64_t
MoeTrafficRecorder::GetPacketsSent() const
{
    return m_packetsSent;
}

uint64_t
MoeTrafficRecorder::GetPacketsReceived() const
{
    return m_packetsReceived;
}

uint64_t
MoeTrafficRecorder::GetRetransmissions() const
{
    return m_retransmissionCount;
}

uint64_t
MoeTrafficRecorder::GetDuplicates() const
{
    return m_duplicates;
}

uint64_t
MoeTrafficRecorder::GetTokensCompleted() const
{
    return m_tokensCompleted;
}

uint64_t
MoeTrafficRecorder::GetTokensResolved() const
{
    // With users a token is done when it reached its user, not when it left the gateway.
    return (m_plan->HasUsers() ? m_userTokensReceived : m_tokensCompleted) + m_tokensAbandoned;
}

} // namespace ns3
