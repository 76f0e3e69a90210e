/*
 * Space-XNet: what the MoE token traffic of a model copy did, recorded from its applications' traces.
 */
#ifndef SPACE_XNET_MOE_TRAFFIC_RECORDER_H
#define SPACE_XNET_MOE_TRAFFIC_RECORDER_H

#include "ns3/moe-request-status.h"
#include "ns3/moe-traffic-plan.h"
#include "ns3/nstime.h"
#include "ns3/object.h"
#include "ns3/packet.h"

#include <cstdint>
#include <vector>

namespace ns3
{

/**
 * @brief The per-token records and the counters of one model copy, fed only by the trace sources
 * of its MoeTokenApplications (MoeTokenHelper connects them): a sink, never read by the model.
 *
 * Python copies the records into numpy arrays after Simulator::Run (Copy). Times are integer
 * nanoseconds, taken when the trace fires; a record that was never reached stays -1.
 */
class MoeTrafficRecorder : public Object
{
  public:
    /// The per-token records, for Copy (in this order).
    enum Record
    {
        /// [R, T] when the token's layer-0 attention started at the gateway.
        TOKEN_START,
        /// [R, T] when the LM head ended the token.
        TOKEN_END,
        /// [R, T, L] when the gateway after layer l had every expert output of the token.
        COMBINE,
        /// [R, T] messages retransmitted on behalf of each token.
        RETRANSMISSIONS,
        /// [R, FAILURE_FIELDS]: code, token, layer, expert, kind, time (all -1 but code 0 if none).
        FAILURES,
        /// [R] when the prompt was whole at layer 0's gateway (with users).
        PROMPT_ARRIVAL,
        /// [R, T] when the output token was whole at its user (with users).
        USER_TOKEN,
        /// [R, L + 1] when each layer's KV cache (column L: the first token) was whole at the
        /// decode replica (disaggregated serving; -1: none).
        KV_ARRIVAL,
        /// [R, L + 1] the payload bytes of those messages' packets (0: none).
        KV_BYTES,
        /// [R] how long the request waited at layer 0's gateway for KV-cache memory (-1: not admitted).
        QUEUED,
        /// Number of records.
        RECORDS,
    };

    /// Fields of one request's failure record, in FAILURES order.
    static constexpr uint32_t FAILURE_FIELDS = 6;

    static TypeId GetTypeId();
    MoeTrafficRecorder();

    /// Size the records for @p plan (filled: users and output tokens set) and clear them.
    void Configure(Ptr<const MoeTrafficPlan> plan);

    /// @name Trace sinks (MoeTokenApplication's trace sources of the same names)
    /// @{
    void NotifyTokenStart(uint32_t request, uint32_t token);
    void NotifyTokenEnd(uint32_t request, uint32_t token);
    void NotifyCombine(uint32_t request, uint32_t token, uint32_t layer);
    void NotifyPromptArrival(uint32_t request);
    void NotifyUserToken(uint32_t request, uint32_t token);
    /**
     * @brief The first failure of @p request, at @p token.
     * @param code MESSAGE_LOST or COMPONENT_LOST
     * @param layer, expert, kind for MESSAGE_LOST the message (kind: MoeTokenHeader::Kind); for
     *        COMPONENT_LOST the lost component (kind: its MoeRole, 0 gateway, 1 expert)
     */
    void NotifyRequestFailed(uint32_t request,
                             uint32_t token,
                             MoeRequestStatus::FailureCode code,
                             uint32_t layer,
                             uint32_t expert,
                             uint32_t kind);
    void NotifyPacketSent(Ptr<const Packet> packet);
    void NotifyPacketReceived(Ptr<const Packet> packet);
    void NotifyRetransmit(uint32_t request, uint32_t token, uint32_t attempt);
    void NotifyDuplicate(uint32_t request, uint32_t token);
    /// A compute job of @p duration ended on satellite @p node.
    void NotifyCompute(uint32_t node, Time duration);
    /// A KV cache (layer @p layer; the layer count: the first token) of @p bytes arrived whole.
    void NotifyKv(uint32_t request, uint32_t layer, uint64_t bytes);
    /// @p request was admitted after waiting @p queued for KV-cache memory.
    void NotifyAdmitted(uint32_t request, Time queued);
    /// A user's prompt or output token was resent (@p kind MoeTokenHeader::PROMPT or OUTPUT_TOKEN).
    void NotifyUserRetransmit(uint32_t request, uint32_t token, uint32_t kind);
    /// A message to a dark expert copy went to a surviving copy.
    void NotifyReroute(uint32_t request, uint32_t token, uint32_t layer, uint32_t expert);
    /// @}

    /// Copy record @p record out into @p out, which holds @p count entries (its whole size).
    void Copy(Record record, int64_t* out, uint64_t count) const;
    /// Compute time each satellite (node id) spent in jobs that ended, ns: [count] (0 for the others).
    void CopyBusy(int64_t* out, uint64_t count) const;
    uint64_t GetPacketsSent() const;
    uint64_t GetPacketsReceived() const;
    /// A packet was sent or received by an application given this recorder by MoeTokenApplication::
    /// SetRecorder: the same counts as NotifyPacketSent / NotifyPacketReceived through the "Tx" and
    /// "Rx" traces, without a traced call per packet.
    void CountSent()
    {
        ++m_packetsSent;
    }

    void CountReceived()
    {
        ++m_packetsReceived;
    }
    uint64_t GetRetransmissions() const;
    /// Messages received whole more than once (retransmissions that were not needed).
    uint64_t GetDuplicates() const;
    /// Users' prompts resent (of GetRetransmissions()).
    uint64_t GetPromptRetransmissions() const;
    /// Output tokens resent down to their users (of GetRetransmissions()).
    uint64_t GetOutputTokenRetransmissions() const;
    /// Messages sent to a surviving copy of an expert because the copy in force had failed.
    uint64_t GetReroutes() const;
    /// Tokens that ended so far (of R * T).
    uint64_t GetTokensCompleted() const;
    /// Tokens that ended (with users: reached their user) or never will because their request
    /// failed (of R * T).
    uint64_t GetTokensResolved() const;

  protected:
    void DoDispose() override;

  private:
    uint64_t TokenIndex(uint32_t request, uint32_t token) const;

    Ptr<const MoeTrafficPlan> m_plan;
    std::vector<int64_t> m_records[RECORDS]; //!< by Record
    std::vector<int64_t> m_busyNs;           //!< [node] compute time of the jobs that ended
    uint64_t m_packetsSent;
    uint64_t m_packetsReceived;
    uint64_t m_retransmissionCount;
    uint64_t m_duplicates;
    uint64_t m_tokensCompleted;
    uint64_t m_userTokensReceived;
    uint64_t m_tokensAbandoned; //!< tokens of failed requests that never ended
    uint64_t m_promptRetransmissions{0};
    uint64_t m_outputTokenRetransmissions{0};
    uint64_t m_reroutes{0};
};

} // namespace ns3

#endif /* SPACE_XNET_MOE_TRAFFIC_RECORDER_H */
