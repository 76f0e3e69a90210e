/*
 * Space-XNet: the parts of MoeTokenApplication for placements beyond the paper: a layer's attention
 * on its gateway alone or split over helper shards (the scatter, the expert outputs taken straight
 * by the shards, the gather), and the per-token choice of an expert's copy (expert replicas).
 */
#include "ns3/abort.h"
#include "ns3/log.h"
#include "ns3/moe-token-application.h"
#include "ns3/simulator.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("MoeTokenApplicationPlacement");

void
MoeTokenApplication::RunAttention(uint32_t request, uint32_t token, bool combined)
{
    if (m_plan->GetNHelpers(m_layer) > 0)
    {
        // After a combine, the shards got the expert outputs themselves when DirectShardInput.
        RunShardedAttention(request, token, !(combined && DirectShardInput(m_layer)));
        return;
    }
    // Serving's batching and roofline / prefill work (RunStep, GatewayWork); without them the gateway's
    // compute time, as before.
    RunStep(ATTENTION, request, token, [this, request, token]() {
        if (!m_status->IsFailed(request) && !FailIfDown(request, token))
        {
            SendToExperts(request, token);
        }
    });
}

void
MoeTokenApplication::SendToExpert(uint32_t layer, uint32_t expert, const MoeTokenHeader& header)
{
    // The copy in force now; if its satellite has failed, the expert itself or the first copy that
    // survives (a production router sends around a dead replica). Every copy dark: the request fails.
    uint32_t copy = LiveCopy(layer, expert, m_plan->GetExpertCopy(layer, expert, Simulator::Now()));
    if (copy == NO_COPY)
    {
        // With copies, "every copy" is named as copy R + 1 (expert + (R + 1) x E), see FailIfDown.
        Fail(header.m_request, header.m_token, MoeRequestStatus::COMPONENT_LOST, layer,
             expert + (m_plan->GetMaxReplicas() > 0 ? (m_plan->GetMaxReplicas() + 1) * m_plan->GetNExperts() : 0),
             static_cast<uint32_t>(MoeRole::EXPERT));
        return;
    }
    if (copy != m_plan->GetExpertCopy(layer, expert, Simulator::Now()))
    {
        m_rerouteTrace(header.m_request, m_plan->IsChunk(header.m_token) ? 0 : header.m_token, layer, expert);
    }
    SendMessage(MoeRole::EXPERT, layer, expert, header, copy);
}

bool
MoeTokenApplication::DirectShardInput(uint32_t layer) const
{
    return layer > 0 && m_plan->GetNHelpers(layer) > 0 && !m_plan->GetCombineAtOwnGateway() &&
           !m_plan->GetSequentialDispatch();
}

void
MoeTokenApplication::RunShardedAttention(uint32_t request, uint32_t token, bool scatter)
{
    NS_LOG_FUNCTION(this << request << token << scatter);
    MoeTokenHeader header(request, token, m_layer, 0, MoeTokenHeader::SHARD_SCATTER);
    for (uint32_t i = 0; scatter && i < m_plan->GetNHelpers(m_layer); ++i)
    {
        header.m_expert = i;
        SendMessage(MoeRole::SHARD, m_layer, i, header);
    }
    // The own shard's part: a job of its own, or batched with other decode steps' (serving.max_batch).
    RunStep(SHARD, request, token, [this, request, token]() { ShardPartDone(request, token); });
}

void
MoeTokenApplication::ShardPartDone(uint32_t request, uint32_t token)
{
    if (!AllArrived(m_shardParts, request, token, 1 + m_plan->GetNHelpers(m_layer)))
    {
        return; // the own shard and every helper's gather: 1 + H parts
    }
    if (!m_status->IsFailed(request) && !FailIfDown(request, token))
    {
        SendToExperts(request, token);
    }
}

void
MoeTokenApplication::HandleShardMessage(const MoeTokenHeader& h)
{
    NS_LOG_FUNCTION(this << h);
    uint32_t request = h.m_request;
    uint32_t token = h.m_token;
    if (h.m_kind == MoeTokenHeader::SHARD_GATHER)
    {
        NS_ABORT_MSG_IF(m_role != MoeRole::GATEWAY, "a shard's partial output reached a non-gateway");
        ShardPartDone(request, token);
        return;
    }
    NS_ABORT_MSG_IF(m_role != MoeRole::SHARD, "a scatter reached a non-shard");
    if (h.m_kind == MoeTokenHeader::SHARD_INPUT)
    {
        // The k expert outputs of the layer before, combined here: the shard's input.
        if (!AllArrived(m_combines, request, token, ExpectedOutputs(request, token, h.m_layer)))
        {
            return;
        }
    }
    RunStep(SHARD, request, token, [this, request, token]() {
        if (m_status->IsFailed(request) || FailIfDown(request, token))
        {
            return; // a shard that died with the work: its tensor-parallel group cannot finish the layer
        }
        SendMessage(MoeRole::GATEWAY,
                    m_layer,
                    0,
                    MoeTokenHeader(request, token, m_layer, m_expert, MoeTokenHeader::SHARD_GATHER));
    });
}

} // namespace ns3
