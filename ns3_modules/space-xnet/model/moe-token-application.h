/*
 * Space-XNet: one model component (a layer's gateway or one expert) on one satellite.
 */
#ifndef SPACE_XNET_MOE_TOKEN_APPLICATION_H
#define SPACE_XNET_MOE_TOKEN_APPLICATION_H

#include "ns3/address.h"
#include "ns3/application.h"
#include "ns3/event-id.h"
#include "ns3/ipv4-address.h"
#include "ns3/moe-component-directory.h"
#include "ns3/moe-compute-queue.h"
#include "ns3/moe-request-status.h"
#include "ns3/moe-token-header.h"
#include "ns3/moe-traffic-plan.h"
#include "ns3/moe-traffic-recorder.h"
#include "ns3/socket.h"
#include "ns3/traced-callback.h"

#include <deque>
#include <utility>
#include <functional>
#include <memory>
#include <unordered_map>
#include <unordered_set>

namespace ns3
{

class MoeFailover;

/**
 * @brief Moves MoE hidden states as real UDP packets and computes on one satellite.
 *
 * A gateway of layer l combines the k expert outputs of layer l-1 (waits for all k), runs its
 * compute (attention + router), then sends the hidden state to each of the token's k experts of
 * layer l. An expert computes and sends its output to the gateway of layer l+1. The ring closes at
 * the gateway of layer 0: the outputs of the last layer are combined there, the LM head runs, the
 * token ends, and the next token of the request starts (its layer-0 attention) at that instant.
 *
 * Messages are cut into packets of at most SegmentBytes payload plus a 16-byte MoeTokenHeader; a
 * message is complete when all its segments arrived. Compute is first-come first-served: a
 * satellite runs one job at a time (its MoeComputeQueue), so concurrent requests queue for it.
 * Where the other components listen is the MoeComponentDirectory's; which requests failed the
 * MoeRequestStatus's. What happens is reported only through trace sources (TokenStart, TokenEnd,
 * Combine, PromptArrival, UserToken, RequestFailed, Tx, Rx, Retransmit, Duplicate, ComputeDone),
 * which MoeTokenHelper connects to a MoeTrafficRecorder.
 *
 * With the plan's RetransmitTimeout non-zero, the receiver of a complete message acknowledges it
 * (a header-only ACK to the sender component) and the sender resends the whole message, with the
 * next attempt number, when no ACK came within the timeout; the packets take the route in force at
 * the retry. Segments count per attempt, and a duplicate of a message already complete is
 * acknowledged again but not processed twice. After MaxRetries retransmissions the request fails
 * (MoeRequestStatus::MESSAGE_LOST). A component whose satellite has failed (the plan's failure
 * times) does no more work: the request that needed it fails (COMPONENT_LOST) when a message
 * would be sent to it, reaches it, or times out toward it, or when its compute would have ended;
 * a dead component whose own message is still unacknowledged fails that request too (it cannot
 * resend, even if only the ACK was lost).
 *
 * Every message is acknowledged the same way: a user's prompt and output tokens (the user and
 * layer 0's gateway ACK each other's), a shard's scatter, input and gather, and messages to and
 * from expert copies (an ACK to a copy goes to the packet's source). A dark attention shard fails
 * the request like a dark gateway (its tensor-parallel group cannot finish the layer). A message
 * for a dark expert copy goes to a surviving copy instead (Reroute), at dispatch or at its
 * timeout; only when every copy is dark does the request fail (the failure record then names
 * copy R + 1, and a dark copy r with the token's work on it copy r, as expert + copy x E).
 */
class MoeTokenApplication : public Application
{
  public:
    /**
     * TracedCallback signature of a retransmission.
     * @param request, token the token whose message is resent
     * @param attempt the attempt number of the new transmission (1 for the first retransmission)
     */
    typedef void (*RetransmitTracedCallback)(uint32_t request, uint32_t token, uint32_t attempt);
    /// TracedCallback signature of an event of one token (started, ended, reached its user, duplicate).
    typedef void (*TokenTracedCallback)(uint32_t request, uint32_t token);
    /// TracedCallback signature of a combine: the gateway after @p layer had the token's expert outputs.
    typedef void (*CombineTracedCallback)(uint32_t request, uint32_t token, uint32_t layer);
    /// TracedCallback signature of a prompt whole at layer 0's gateway.
    typedef void (*PromptTracedCallback)(uint32_t request);
    /**
     * TracedCallback signature of a request's failure, detected by this component at (request, token).
     * @param code MoeRequestStatus::MESSAGE_LOST or COMPONENT_LOST
     * @param layer, expert, kind for MESSAGE_LOST the message (kind: MoeTokenHeader::Kind); for
     *        COMPONENT_LOST the lost component (kind: its MoeRole)
     */
    typedef void (*RequestFailedTracedCallback)(uint32_t request,
                                                uint32_t token,
                                                MoeRequestStatus::FailureCode code,
                                                uint32_t layer,
                                                uint32_t expert,
                                                uint32_t kind);
    /**
     * TracedCallback signature of a KV transfer whole at a decode replica's gateway.
     * @param request the request (the decode replica's index)
     * @param layer the layer whose cache it is, or the layer count for the first output token
     * @param bytes the payload bytes of its packets
     */
    typedef void (*KvTracedCallback)(uint32_t request, uint32_t layer, uint64_t bytes);
    /// TracedCallback signature of a request admitted at layer 0's gateway after @p queued.
    typedef void (*AdmitTracedCallback)(uint32_t request, Time queued);
    /// TracedCallback signature of a compute job that ended: the satellite's node id and the job's duration.
    typedef void (*ComputeTracedCallback)(uint32_t node, Time duration);
    /// TracedCallback signature of a user's message resent: @p kind MoeTokenHeader::PROMPT or OUTPUT_TOKEN.
    typedef void (*UserRetransmitTracedCallback)(uint32_t request, uint32_t token, uint32_t kind);
    /// TracedCallback signature of a message to expert (@p layer, @p expert) routed around a dark copy.
    typedef void (*RerouteTracedCallback)(uint32_t request, uint32_t token, uint32_t layer, uint32_t expert);

    static TypeId GetTypeId();

    /// Count every packet this application sends and receives into @p recorder directly (what its
    /// "Tx" and "Rx" traces connected to the recorder would count, without a traced call per packet).
    void SetRecorder(Ptr<MoeTrafficRecorder> recorder);
    MoeTokenApplication();
    ~MoeTokenApplication() override;

  protected:
    void DoDispose() override;

  private:
    friend class MoeFailover; // fail-over and re-placement start requests (Admit) and drop them (Forget)

    void StartApplication() override;
    void StopApplication() override;

    void HandleRead(Ptr<Socket> socket);
    /// A packet is being sent: counted into the recorder, and the "Tx" trace fired if connected.
    void CountSent(Ptr<const Packet> p)
    {
        if (m_recorder)
        {
            m_recorder->CountSent();
        }
        if (!m_txTrace.IsEmpty())
        {
            m_txTrace(p);
        }
    }
    void HandleMessage(const MoeTokenHeader& header);
    void StartToken(uint32_t request, uint32_t token);
    /// A request reached layer 0's gateway: start it, or (a KV budget) queue it until its cache fits.
    void Admit(uint32_t request);
    /// Start the queued requests, in arrival order, while their KV caches fit the budget.
    void TryAdmit();
    /// Fail-over: @p request was abandoned here; free its place in the KV budget (layer 0's gateway).
    void Forget(uint32_t request);
    /// Chunked prefill at a later gateway: run the chunk's attention after its predecessors', holding
    /// it until they have been queued.
    void RunChunkInOrder(uint32_t request, uint32_t token);
    /// Chunked prefill: start chunk @p chunk of @p request's prompt at layer 0's gateway.
    void StartChunk(uint32_t request, uint32_t chunk);
    void SendToExperts(uint32_t request, uint32_t token);
    void SendOutput(uint32_t request, uint32_t token);
    void FinishToken(uint32_t request, uint32_t token);
    /// A user sends @p request's prompt up to layer 0's gateway.
    void SendPrompt(uint32_t request);
    /// A user's prompt or output token arrived whole (with retransmission on it was acknowledged
    /// like every other message, and a duplicate dropped, before it gets here).
    void HandleUserMessage(const MoeTokenHeader& header);
    /// Send a message to component (@p role, @p layer, @p expert), or to copy @p copy >= 1 of an
    /// expert; with retransmission on, keep it until acknowledged.
    void SendMessage(MoeRole role, uint32_t layer, uint32_t expert, const MoeTokenHeader& header, uint32_t copy = 0);
    /// Expert replicas under faults: @p preferred if it is alive, else the first copy of expert
    /// (@p layer, @p expert) that is (0: the expert itself, then its copies); NO_COPY if none is.
    uint32_t LiveCopy(uint32_t layer, uint32_t expert, uint32_t preferred) const;
    /// LiveCopy's answer when every copy of the expert is dark.
    static constexpr uint32_t NO_COPY = 0xffffffff;
    void SendSegments(Ipv4Address destination, uint16_t port, const MoeTokenHeader& header);
    /// Send @p bytes of payload as one message (packets of at most SegmentBytes).
    void SendBytes(Ipv4Address destination, uint16_t port, const MoeTokenHeader& header, uint64_t bytes);
    /// @name Disaggregated prefill and decode (the plan's KV targets and sources)
    /// @{
    /// Send this layer's KV cache of @p request's prompt (or, @p firstToken, the first output
    /// token) to the decode replica's gateway of this layer.
    void SendKv(uint32_t request, bool firstToken);
    /// A KV cache (or the first token) of @p bytes arrived whole at this decode gateway.
    void HandleKv(const MoeTokenHeader& h, uint64_t bytes);
    /// @}
    void SendAck(const MoeTokenHeader& message);
    void HandleAck(const MoeTokenHeader& ack);
    void HandleTimeout(uint64_t key);
    /// Fail @p request at @p token, unless it failed before; fires RequestFailed.
    void Fail(uint32_t request,
              uint32_t token,
              MoeRequestStatus::FailureCode code,
              uint32_t layer,
              uint32_t expert,
              uint32_t kind);
    /// Whether component (@p role, @p layer, @p expert) is dark now (users never are; an expert's
    /// copies: MoeTrafficPlan::IsReplicaDown).
    bool IsDown(MoeRole role, uint32_t layer, uint32_t expert) const;
    /// True when this component is dark; then the request is failed (COMPONENT_LOST).
    bool FailIfDown(uint32_t request, uint32_t token);
    /// Dense key of a message: (request, token, layer, expert, kind).
    uint64_t MessageKey(const MoeTokenHeader& h) const;
    /// Key of an unacknowledged message to (@p role, index @p expert): the MessageKey, except for an
    /// expert's output to the shards of the next layer, one message per shard under one header
    /// (their ACKs carry the shard's index in the attempt field).
    uint64_t PendingKey(const MoeTokenHeader& h, MoeRole role, uint32_t expert) const;
    /// UDP port of component (@p role, @p layer, @p expert) (a gateway's index is 0).
    uint16_t PortOf(MoeRole role, uint32_t layer, uint32_t expert) const;
    /// @name Prefill (the plan's IsPrefill): work and message sizes that scale with the prompt.
    /// @{
    /// This gateway's compute for (request, token): the prompt's tokens times one token's in prefill.
    Time GatewayWork(uint32_t request, uint32_t token) const;
    /// This expert's compute: the prompt tokens routed to it times one token's in prefill.
    Time ExpertWork(uint32_t request, uint32_t token) const;
    /// This shard's compute: the prompt's tokens times one token's in prefill (roofline).
    Time ShardWork(uint32_t request, uint32_t token) const;
    /// Expert outputs a gateway waits for: k, one in a sequential chain, or in prefill every
    /// expert of the layer that got a prompt token.
    uint32_t ExpectedOutputs(uint32_t request, uint32_t token, uint32_t layer) const;
    /// Payload bytes of a message: one hidden state, or in prefill the hidden states it carries.
    uint64_t MessageBytes(const MoeTokenHeader& header) const;
    /// Prefill dispatch: the hidden states of the prompt tokens routed to each expert, one message each.
    void SendPrefillToExperts(uint32_t request, uint32_t token);
    /// @}
    /// @name Batching (the plan's MaxBatch > 1): a gateway's decode steps wait in a queue and run
    /// in batches of up to MaxBatch steps of one kind (attention, or the LM head), one job each;
    /// an expert's waiting tokens (of its one layer) likewise, its weights read once per batch.
    /// @{
    enum StepKind
    {
        ATTENTION = 0,
        LM_HEAD = 1,
        EXPERT = 2,
        SHARD = 3, //!< a tensor-parallel shard's part of the attention (gateway or helper)
    };
    /// Run a decode step: at once as its own job (MaxBatch 1, or a prefill), or batched.
    void RunStep(StepKind kind, uint32_t request, uint32_t token, std::function<void()> done);
    /// Start the next batch from the queue's head (its kind, up to MaxBatch steps of that kind).
    void StartBatch();
    /// @}
    /// Queue a compute job of duration @p duration on the satellite's queue; @p done runs when it ends.
    void RunCompute(Time duration, std::function<void()> done);
    /// A gateway's attention + router for (request, token), then the dispatch to the experts:
    /// on its own, or split over its helper shards (RunShardedAttention).
    void RunAttention(uint32_t request, uint32_t token, bool combined);
    /// Send a hidden state to expert (@p layer, @p expert), or to the copy of it the plan's
    /// replica lookup names for this instant (expert replicas).
    void SendToExpert(uint32_t layer, uint32_t expert, const MoeTokenHeader& header);

    /// @name Tensor-parallel gateway (the plan's shards)
    /// The gateway scatters the hidden state to its H helpers and computes its own shard; each
    /// helper computes its shard and gathers its partial output back; once all H gathers and its
    /// own shard are done, the gateway dispatches to the experts.
    /// @{
    void RunShardedAttention(uint32_t request, uint32_t token, bool scatter);
    /// Whether the experts of the layer before @p layer send their outputs straight to its shards
    /// (so its gateway does not scatter): with helpers, for l >= 1, parallel dispatch and the
    /// combine at the next gateway.
    bool DirectShardInput(uint32_t layer) const;
    /// One part (own shard or a gather) of (request, token) is done; dispatch after the last.
    void ShardPartDone(uint32_t request, uint32_t token);
    /// A scatter (at a shard) or a gather (at a gateway) arrived whole.
    void HandleShardMessage(const MoeTokenHeader& h);
    /// @}

    /// Arrivals counted per (request, token): expert outputs to combine, or a sharded attention's parts.
    using ArrivalCounts = std::unordered_map<uint64_t, uint32_t>;
    /// Count one arrival for (@p request, @p token) in @p counts: true when it is the
    /// @p expected-th, and the count is then cleared (the parts are complete: combine them).
    bool AllArrived(ArrivalCounts& counts, uint32_t request, uint32_t token, uint32_t expected) const;

    Ptr<MoeTrafficPlan> m_plan;
    Ptr<MoeFailover> m_failover; //!< recovery across replicas (faults.recovery); null: none
    uint32_t m_replica{0};       //!< this component's model replica (with m_failover)
    bool m_spare{false};         //!< a re-placed component's application on its spare satellite
    Ptr<MoeComponentDirectory> m_directory;
    Ptr<MoeRequestStatus> m_status;
    Ptr<MoeComputeQueue> m_computeQueue;
    MoeRole m_role;
    uint32_t m_layer;
    uint32_t m_expert;
    uint32_t m_copy; //!< expert replicas: 0 for the expert itself, r >= 1 for its copy r
    Ptr<Socket> m_socket;
    std::unordered_map<uint64_t, uint32_t> m_segments; //!< message key -> segments received
    ArrivalCounts m_combines;   //!< expert outputs received (a gateway's, or a shard's direct input)
    ArrivalCounts m_shardParts; //!< a tensor-parallel gateway's attention parts done

    /// A decode step waiting for a batch.
    struct Step
    {
        StepKind kind;
        std::function<void()> done;
        uint32_t request = 0; //!< whose step (its KV cache: the plan's GetKvBytes)
        uint32_t token = 0;
    };

    std::unordered_map<uint64_t, uint64_t> m_kvBytesIn;  //!< KV message key -> payload bytes received
    std::unordered_map<uint32_t, uint8_t> m_kvReady;     //!< request -> 1: cache whole, 2: first token
    std::unordered_set<uint32_t> m_kvHeld;               //!< requests whose token 1 waits for the cache
    std::unordered_map<uint32_t, uint32_t> m_chunkNext;  //!< chunked prefill: the next chunk to run, per request
    std::unordered_set<uint64_t> m_chunkHeld;            //!< chunks whose predecessor has not run yet
    TracedCallback<uint32_t, uint32_t, uint64_t> m_kvTrace;
    std::deque<std::pair<uint32_t, Time>> m_admitQueue; //!< requests waiting for KV memory, since when
    uint64_t m_kvInUse;                                  //!< KV-cache tokens of the admitted requests
    TracedCallback<uint32_t, Time> m_admitTrace;         //!< a request admitted after waiting this long

    std::deque<Step> m_steps; //!< waiting decode steps, in arrival order
    bool m_batchRunning;      //!< a batch is queued or running on this satellite

    /// A message sent and not yet acknowledged (retransmission on only).
    struct Pending
    {
        MoeTokenHeader header; //!< attempt = the latest transmission
        MoeRole role;          //!< destination component
        uint32_t layer;
        uint32_t expert;
        EventId timer;
        uint32_t copy{0}; //!< an expert's copy the message went to (0: the expert itself)
    };

    std::unordered_map<uint64_t, Pending> m_pending; //!< message key -> unacknowledged message
    std::unordered_set<uint64_t> m_delivered;         //!< keys of messages received whole
    TracedCallback<Ptr<const Packet>> m_rxTrace;
    TracedCallback<Ptr<const Packet>> m_txTrace;
    Ptr<MoeTrafficRecorder> m_recorder; //!< counts every packet sent and received (SetRecorder), or null
    TracedCallback<uint32_t, uint32_t, uint32_t> m_retransmitTrace;
    TracedCallback<uint32_t, uint32_t, MoeRequestStatus::FailureCode, uint32_t, uint32_t, uint32_t>
        m_requestFailedTrace;
    TracedCallback<uint32_t, uint32_t> m_duplicateTrace;
    TracedCallback<uint32_t, Time> m_computeTrace;
    TracedCallback<uint32_t, uint32_t> m_tokenStartTrace;
    TracedCallback<uint32_t, uint32_t> m_tokenEndTrace;
    TracedCallback<uint32_t, uint32_t, uint32_t> m_combineTrace;
    TracedCallback<uint32_t> m_promptArrivalTrace;
    TracedCallback<uint32_t, uint32_t> m_userTokenTrace;
    /// A user's prompt or output token resent: request, token, kind (MoeTokenHeader::PROMPT or OUTPUT_TOKEN).
    TracedCallback<uint32_t, uint32_t, uint32_t> m_userRetransmitTrace;
    /// A message to a dark expert copy sent to a surviving copy instead: request, token, layer, expert.
    TracedCallback<uint32_t, uint32_t, uint32_t, uint32_t> m_rerouteTrace;
    Address m_from; //!< the sender of the packet being handled (expert replicas: where ACKs go)
};

} // namespace ns3

#endif /* SPACE_XNET_MOE_TOKEN_APPLICATION_H */
