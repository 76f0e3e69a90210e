/*
 * Space-XNet: the parts of MoeTokenApplication for serving: prefill (a prompt's tokens through a
 * layer at once: gateway and expert work, message sizes, the dispatch to the experts) and continuous
 * batching (a gateway's decode steps, and an expert's tokens of its layer, run together as one
 * roofline job).
 */
#include "ns3/log.h"
#include "ns3/moe-token-application.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("MoeTokenApplicationServing");

// ---- Prefill ----------------------------------------------------------------------------------

Time
MoeTokenApplication::GatewayWork(uint32_t request, uint32_t token) const
{
    uint64_t tokens = m_plan->IsPrefill(request, token) ? m_plan->GetPassTokens(request, token) : 1;
    if (m_plan->HasKvReads())
    {
        return m_plan->GatewayJob(m_layer, tokens, m_plan->GetKvBytes(m_layer, request, token));
    }
    return m_plan->GatewayJob(m_layer, tokens);
}

Time
MoeTokenApplication::ExpertWork(uint32_t request, uint32_t token) const
{
    uint64_t tokens =
        m_plan->IsPrefill(request, token) ? m_plan->GetPassExpertTokens(request, token, m_layer, m_expert) : 1;
    return m_plan->ExpertJob(m_layer, m_expert, tokens);
}

Time
MoeTokenApplication::ShardWork(uint32_t request, uint32_t token) const
{
    uint64_t tokens = m_plan->IsPrefill(request, token) ? m_plan->GetPassTokens(request, token) : 1;
    if (m_plan->HasKvReads())
    {
        return m_plan->ShardJob(m_layer, tokens, m_plan->GetKvBytes(m_layer, request, token));
    }
    return m_plan->ShardJob(m_layer, tokens);
}

uint32_t
MoeTokenApplication::ExpectedOutputs(uint32_t request, uint32_t token, uint32_t layer) const
{
    if (m_plan->IsPrefill(request, token))
    {
        return m_plan->GetPassExperts(request, token, layer);
    }
    return m_plan->GetSequentialDispatch() ? 1 : m_plan->GetTopK();
}

uint64_t
MoeTokenApplication::MessageBytes(const MoeTokenHeader& h) const
{
    uint64_t one = m_plan->GetMessageBytes();
    if (h.m_kind == MoeTokenHeader::OUTPUT_TOKEN)
    {
        return m_plan->GetTokenBytes();
    }
    if (h.m_kind == MoeTokenHeader::PROMPT)
    {
        return one * std::max<uint64_t>(1, m_plan->GetPromptTokens(h.m_request));
    }
    if (!m_plan->IsPrefill(h.m_request, h.m_token))
    {
        return one;
    }
    if (h.m_kind == MoeTokenHeader::COMBINED_STATE || h.m_kind == MoeTokenHeader::SHARD_SCATTER ||
        h.m_kind == MoeTokenHeader::SHARD_GATHER)
    {
        return one * m_plan->GetPassTokens(h.m_request, h.m_token);
    }
    return one * m_plan->GetPassExpertTokens(h.m_request, h.m_token, h.m_layer, h.m_expert);
}

void
MoeTokenApplication::SendPrefillToExperts(uint32_t request, uint32_t token)
{
    MoeTokenHeader header(request, token, m_layer, 0, MoeTokenHeader::HIDDEN_STATE);
    for (uint32_t e = 0; e < m_plan->GetNExperts() && !m_status->IsFailed(request); ++e)
    {
        if (m_plan->GetPassExpertTokens(request, token, m_layer, e) > 0)
        {
            header.m_expert = e;
            SendToExpert(m_layer, e, header);
        }
    }
}

// ---- Batching ---------------------------------------------------------------------------------

void
MoeTokenApplication::RunStep(StepKind kind, uint32_t request, uint32_t token, std::function<void()> done)
{
    if (m_plan->GetMaxBatch() <= 1 || m_plan->IsPrefill(request, token))
    {
        Time work = kind == LM_HEAD ? m_plan->LmHeadJob(1)
                    : kind == EXPERT ? ExpertWork(request, token)
                    : kind == SHARD  ? ShardWork(request, token)
                                     : GatewayWork(request, token);
        RunCompute(work, std::move(done));
        return;
    }
    m_steps.push_back(Step{kind, std::move(done), request, token});
    if (!m_batchRunning)
    {
        StartBatch();
    }
}

void
MoeTokenApplication::StartBatch()
{
    if (m_steps.empty())
    {
        m_batchRunning = false;
        return;
    }
    StepKind kind = m_steps.front().kind;
    auto batch = std::make_shared<std::vector<std::function<void()>>>();
    double kvBytes = 0.0; // the KV cache the batch's attention steps move, each request's own
    for (auto it = m_steps.begin(); it != m_steps.end() && batch->size() < m_plan->GetMaxBatch();)
    {
        if (it->kind == kind)
        {
            if (kind == ATTENTION || kind == SHARD)
            {
                kvBytes += m_plan->GetKvBytes(m_layer, it->request, it->token);
            }
            batch->push_back(std::move(it->done));
            it = m_steps.erase(it);
        }
        else
        {
            ++it;
        }
    }
    Time work = kind == LM_HEAD ? m_plan->LmHeadJob(batch->size())
                : kind == EXPERT ? m_plan->ExpertJob(m_layer, m_expert, batch->size())
                : kind == SHARD  ? m_plan->ShardJob(m_layer, batch->size(), kvBytes)
                                 : m_plan->GatewayJob(m_layer, batch->size(), kvBytes);
    NS_LOG_LOGIC("batch of " << batch->size() << " steps, " << work);
    m_batchRunning = true;
    RunCompute(work, [this, batch]() {
        for (auto& done : *batch)
        {
            done();
        }
        StartBatch();
    });
}

} // namespace ns3
