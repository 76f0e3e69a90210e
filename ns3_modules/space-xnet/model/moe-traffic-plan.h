/*
 * Space-XNet: what the MoE token traffic does, shared by every MoeTokenApplication, and what it recorded.
 */
#ifndef SPACE_XNET_MOE_TRAFFIC_PLAN_H
#define SPACE_XNET_MOE_TRAFFIC_PLAN_H

#include "ns3/boolean.h"
#include "ns3/ipv4-address.h"
#include "ns3/nstime.h"
#include "ns3/object.h"
#include "ns3/packet.h"

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace ns3
{

/**
 * @brief The model's placement, the activation trace, the compute times, and the per-token records.
 *
 * One plan is shared by every MoeTokenApplication of a run. Python fills it from numpy arrays
 * (C-contiguous, the shapes given below), the applications read it and record into it, and Python
 * copies the records back into numpy arrays after Simulator::Run. Times are integer nanoseconds;
 * a record that was never reached stays -1.
 */
class MoeTrafficPlan : public Object
{
  public:
    /// Why a request failed (RecordRequestFailure); 0 means it did not.
    enum FailureCode : int64_t
    {
        NOT_FAILED = 0,
        /// A message was not acknowledged after MaxRetries retransmissions.
        MESSAGE_LOST = 1,
        /// A component the token needed sat on a satellite that had failed.
        COMPONENT_LOST = 2,
    };
    /// Fields of one request's failure record, in CopyFailures order.
    static constexpr uint32_t FAILURE_FIELDS = 6;

    static TypeId GetTypeId();
    MoeTrafficPlan();

    /// Size the plan: L layers of E experts, top-k, R requests of T tokens each.
    void Configure(uint32_t layers, uint32_t experts, uint32_t topK, uint32_t requests, uint32_t tokens);

    /// Expert ids of every token: [R, T, L, k], each in [0, E).
    void SetActivations(const int32_t* expertIds, uint64_t count);
    /// Compute time of each gateway [L], of each expert [L, E], and of the LM head, ns.
    void SetComputeTimes(const int64_t* gatewayNs, const int64_t* expertNs, uint64_t expertCount, int64_t lmHeadNs);
    /// Start time of each request [R], ns.
    void SetRequestStarts(const int64_t* startNs, uint32_t count);
    void SetGatewayAddress(uint32_t layer, Ipv4Address address);
    void SetExpertAddress(uint32_t layer, uint32_t expert, Ipv4Address address);
    /**
     * @brief When each component goes dark with its satellite, ns (-1: never; the default).
     * @param gatewayNs [L]
     * @param expertNs C-contiguous [L, E]
     * @param expertCount L * E
     */
    void SetFailureTimes(const int64_t* gatewayNs, const int64_t* expertNs, uint64_t expertCount);

    /**
     * @name Prefill (serving): token 0 of a request is its prompt's pass through every layer.
     * Gateway compute scales with the prompt's tokens, a message to (or from) an expert carries the
     * hidden states of the prompt tokens routed to it, the expert computes once per such token, and
     * the gateway waits for the outputs of every expert that got at least one token. The LM head
     * runs once (for the last prompt token): the pass ends with the request's first output token.
     * Requests with 0 prompt tokens start decoding at once, as without prefill.
     * @{
     */
    /**
     * @param tokenCounts C-contiguous [R, L, E]: prompt tokens of request r routed to expert e of layer l
     * @param count R * L * E
     * @param promptTokens [R] prompt tokens of each request
     * @param requests R
     */
    void SetPrefill(const int32_t* tokenCounts, uint64_t count, const int32_t* promptTokens, uint32_t requests);
    /// Output tokens of each request [R] (each in [1, T]); without: T each.
    void SetRequestTokens(const int32_t* tokens, uint32_t count);
    /// Tokens @p request runs: its output tokens.
    uint32_t GetRequestTokens(uint32_t request) const;
    /// Whether (request, token) is a prefill pass.
    bool IsPrefill(uint32_t request, uint32_t token) const;
    uint32_t GetPromptTokens(uint32_t request) const;
    /// Prompt tokens of @p request that layer @p layer routes to @p expert.
    uint32_t GetPrefillTokens(uint32_t request, uint32_t layer, uint32_t expert) const;
    /// Experts of @p layer that get at least one of @p request's prompt tokens.
    uint32_t GetPrefillExperts(uint32_t request, uint32_t layer) const;
    /// @}

    /**
     * @name Roofline and batching (serving): a compute job of n tokens takes
     * max(n x compute time, memory time), the memory time being the component's weights read once
     * at the memory bandwidth; a gateway runs up to MaxBatch waiting decode steps (attention, or
     * the LM head) as one job. All memory times 0 (the default): FLOPs only.
     * @{
     */
    /// Weight-read time of each gateway [L], each expert [L, E] and the LM head, ns.
    void SetMemoryTimes(const int64_t* gatewayNs, const int64_t* expertNs, uint64_t expertCount, int64_t lmHeadNs);
    /// A job of @p tokens tokens: max(tokens x @p compute, @p memory).
    static Time Roofline(Time compute, Time memory, uint64_t tokens);
    Time GetGatewayMemory(uint32_t layer) const;
    Time GetExpertMemory(uint32_t layer, uint32_t expert) const;
    Time GetLmHeadMemory() const;
    uint32_t GetMaxBatch() const;
    /// @}

    /**
     * @name Users on the ground (harness/ground/users.py): request r belongs to user (ground node)
     * u = userOf[r]. The user sends the prompt (max(P, 1) hidden states) to layer 0's gateway at the
     * request's start; the gateway starts the request when the prompt is whole, and sends every
     * output token (TokenBytes) back down to the user, who records its arrival. Without SetUsers a
     * request starts at its start time at the gateway, as before.
     * @{
     */
    /// @param userOf [R] user index of each request, in [0, users)
    void SetUsers(const int32_t* userOf, uint32_t count, uint32_t users);
    bool HasUsers() const;
    uint32_t GetNUsers() const;
    uint32_t GetUserOf(uint32_t request) const;
    void SetUserAddress(uint32_t user, Ipv4Address address);
    Ipv4Address GetUserAddress(uint32_t user) const;
    uint32_t GetTokenBytes() const;
    /// The prompt of @p request was whole at layer 0's gateway at @p t.
    void RecordPromptArrival(uint32_t request, Time t);
    /// Output token @p token of @p request was whole at its user at @p t.
    void RecordUserToken(uint32_t request, uint32_t token, Time t);
    /// [R] prompt arrivals at the gateway and [R, T] token arrivals at the user, ns (-1: never).
    void CopyPromptArrivals(int64_t* out, uint64_t count) const;
    void CopyUserTokens(int64_t* out, uint64_t count) const;
    /// @}

    /**
     * @name Tensor-parallel gateways and co-located components (placement strategies beyond the paper)
     * A layer's attention may be split over its gateway and H_l helper satellites (shards); each
     * shard, the gateway's own included, computes for GetShardCompute(layer). Components that
     * share a satellite listen on distinct ports and share its first-come first-served compute.
     * @{
     */
    /// Size the shard tables: @p helpers [L] helper shards per layer (0: the layer is not split),
    /// @p shardNs [L] compute of one shard, ns. Call after Configure.
    void SetShards(const int32_t* helpers, const int64_t* shardNs, uint32_t layers);
    void SetShardAddress(uint32_t layer, uint32_t index, Ipv4Address address);
    uint32_t GetNHelpers(uint32_t layer) const;
    /// The most helpers of any layer (0 without tensor parallelism).
    uint32_t GetMaxHelpers() const;
    Time GetShardCompute(uint32_t layer) const;
    Ipv4Address GetShardAddress(uint32_t layer, uint32_t index) const;
    /// UDP port of a component (role 0 gateway, 1 expert, 2 shard); the Port attribute unless set.
    uint16_t GetComponentPort(uint32_t role, uint32_t layer, uint32_t index) const;
    void SetComponentPort(uint32_t role, uint32_t layer, uint32_t index, uint16_t port);
    /// End of the last compute job queued on satellite @p node (shared by its components).
    Time& NodeBusyUntil(uint32_t node);
    /** @} */

    /**
     * @name Expert replicas (placement strategies beyond the paper)
     * Expert (l, e) may have copies on other satellites; the copy a token is sent to is looked up
     * per snapshot (the one in force when the gateway dispatches): @p choice [S, L, E] holds 0 for
     * the expert itself or r >= 1 for its copy r (the lowest-delay copy, chosen in Python).
     * @{
     */
    void SetReplicas(const int32_t* choice, uint64_t count, const int64_t* stepNs, uint32_t steps,
                     uint32_t maxReplicas);
    void SetReplicaAddress(uint32_t layer, uint32_t expert, uint32_t copy, Ipv4Address address);
    Ipv4Address GetReplicaAddress(uint32_t layer, uint32_t expert, uint32_t copy) const;
    uint32_t GetMaxReplicas() const;
    uint16_t GetReplicaPort(uint32_t layer, uint32_t expert, uint32_t copy) const;
    void SetReplicaPort(uint32_t layer, uint32_t expert, uint32_t copy, uint16_t port);
    /// The copy of expert (@p layer, @p expert) a message sent at @p now goes to (0: the expert).
    uint32_t GetExpertCopy(uint32_t layer, uint32_t expert, Time now) const;
    /** @} */

    uint32_t GetNLayers() const;
    uint32_t GetNExperts() const;
    uint32_t GetTopK() const;
    uint32_t GetNRequests() const;
    uint32_t GetNTokens() const;
    uint32_t GetMessageBytes() const;
    uint32_t GetSegmentBytes() const;
    uint16_t GetPort() const;
    uint32_t GetExpert(uint32_t request, uint32_t token, uint32_t layer, uint32_t slot) const;
    Time GetGatewayCompute(uint32_t layer) const;
    Time GetExpertCompute(uint32_t layer, uint32_t expert) const;
    Time GetLmHeadCompute() const;
    Time GetRequestStart(uint32_t request) const;
    Ipv4Address GetGatewayAddress(uint32_t layer) const;
    Ipv4Address GetExpertAddress(uint32_t layer, uint32_t expert) const;
    /// Application-level retransmission timeout; zero: no acknowledgements, no retransmission.
    Time GetRetransmitTimeout() const;
    /// Experts send their outputs to their own layer's gateway, which forwards the combined state.
    bool GetCombineAtOwnGateway() const;
    /// A token's k experts are reached one after another (gateway -> e_1 -> ... -> e_k -> combiner).
    bool GetSequentialDispatch() const;
    uint32_t GetMaxRetries() const;
    /// Whether the gateway of @p layer (role 0) or expert (@p layer, @p expert) (role 1) is dark now.
    bool IsComponentDown(uint32_t role, uint32_t layer, uint32_t expert) const;
    bool IsRequestFailed(uint32_t request) const;

    void RecordTokenStart(uint32_t request, uint32_t token, Time t);
    void RecordTokenEnd(uint32_t request, uint32_t token, Time t);
    /// Time the gateway after layer @p layer had all k expert outputs of the token.
    void RecordCombine(uint32_t request, uint32_t token, uint32_t layer, Time t);
    /**
     * @brief Fail a request at @p token (the first failure wins; later calls are ignored).
     * @param code MESSAGE_LOST or COMPONENT_LOST
     * @param layer, expert, kind for MESSAGE_LOST the message (kind: MoeTokenHeader::Kind); for
     *        COMPONENT_LOST the lost component (kind: 0 gateway, 1 expert)
     */
    void RecordRequestFailure(uint32_t request, uint32_t token, FailureCode code, uint32_t layer,
                              uint32_t expert, uint32_t kind, Time t);

    /// Trace sinks (connected by MoeTokenHelper to every application's trace sources).
    void NotifyPacketSent(Ptr<const Packet> packet);
    void NotifyPacketReceived(Ptr<const Packet> packet);
    void NotifyRetransmit(uint32_t request, uint32_t token, uint32_t attempt);
    void NotifyDuplicate(uint32_t request, uint32_t token);
    /// A compute job of @p duration ended on satellite @p node.
    void NotifyCompute(uint32_t node, Time duration);
    /// Compute time each satellite (node id) spent in jobs that ended, ns: [count] (0 for the others).
    void CopyBusy(int64_t* out, uint64_t count) const;

    /// Copy the records out: [R, T] token starts and ends, [R, T, L] combines, ns.
    void CopyTokenStarts(int64_t* out, uint64_t count) const;
    void CopyTokenEnds(int64_t* out, uint64_t count) const;
    void CopyCombines(int64_t* out, uint64_t count) const;
    /// [R, T] messages retransmitted on behalf of each token.
    void CopyRetransmissions(int64_t* out, uint64_t count) const;
    /// [R, FAILURE_FIELDS]: code, token, layer, expert, kind, time ns (all -1 but code = 0 if none).
    void CopyFailures(int64_t* out, uint64_t count) const;
    uint64_t GetPacketsSent() const;
    uint64_t GetPacketsReceived() const;
    uint64_t GetRetransmissions() const;
    /// Messages received whole more than once (retransmissions that were not needed).
    uint64_t GetDuplicates() const;
    /// Tokens that ended so far (of R * T).
    uint64_t GetTokensCompleted() const;
    /// Tokens that ended or will never end because their request failed (of R * T).
    uint64_t GetTokensResolved() const;

  private:
    uint64_t TokenIndex(uint32_t request, uint32_t token) const;

    uint32_t m_layers;
    uint32_t m_experts;
    uint32_t m_topK;
    uint32_t m_requests;
    uint32_t m_tokens;
    uint32_t m_messageBytes;
    uint32_t m_segmentBytes;
    uint16_t m_port;
    std::vector<int32_t> m_activations;   //!< [R, T, L, k]
    std::vector<int64_t> m_gatewayNs;      //!< [L]
    std::vector<int64_t> m_expertNs;       //!< [L, E]
    int64_t m_lmHeadNs;
    std::vector<int64_t> m_requestStartNs; //!< [R]
    std::vector<Ipv4Address> m_gatewayAddress; //!< [L]
    std::vector<Ipv4Address> m_expertAddress;  //!< [L, E]
    std::vector<int64_t> m_tokenStartNs;   //!< [R, T]
    std::vector<int64_t> m_tokenEndNs;     //!< [R, T]
    std::vector<int64_t> m_combineNs;      //!< [R, T, L]
    std::vector<int64_t> m_gatewayFailNs;  //!< [L], -1 never
    std::vector<int64_t> m_expertFailNs;   //!< [L, E], -1 never
    std::vector<int64_t> m_retransmissions; //!< [R, T]
    std::vector<int64_t> m_failures;       //!< [R, FAILURE_FIELDS]
    Time m_retransmitTimeout;
    uint32_t m_maxRetries;
    bool m_combineAtOwnGateway;
    bool m_sequentialDispatch;
    std::vector<int32_t> m_prefillTokens;  //!< [R, L, E] prompt tokens per expert; empty: no prefill
    std::vector<int32_t> m_prefillExperts; //!< [R, L] experts with at least one prompt token
    std::vector<int32_t> m_promptTokens;   //!< [R]
    std::vector<int32_t> m_requestTokens;  //!< [R] output tokens; empty: T each
    std::vector<int64_t> m_busyNs;         //!< [node] compute time of the jobs that ended
    std::vector<int64_t> m_gatewayMemNs;   //!< [L] weight-read time; empty: FLOPs only
    std::vector<int64_t> m_expertMemNs;    //!< [L, E]
    int64_t m_lmHeadMemNs;
    uint32_t m_maxBatch;
    std::vector<int32_t> m_userOf;          //!< [R] user of each request; empty: no users
    std::vector<Ipv4Address> m_userAddress; //!< [users]
    std::vector<int64_t> m_promptArrivalNs; //!< [R]
    std::vector<int64_t> m_userTokenNs;     //!< [R, T]
    uint32_t m_tokenBytes;
    uint64_t m_userTokensReceived;
    uint64_t m_packetsSent;
    uint64_t m_packetsReceived;
    uint64_t m_retransmissionCount;
    uint64_t m_duplicates;
    uint64_t m_tokensCompleted;
    uint64_t m_tokensAbandoned; //!< tokens of failed requests that never ended
    std::vector<int32_t> m_helpers;               //!< [L] helper shards per layer
    std::vector<int64_t> m_shardNs;               //!< [L]
    uint32_t m_maxHelpers;
    std::vector<Ipv4Address> m_shardAddress;      //!< [L, m_maxHelpers]
    std::vector<uint16_t> m_componentPort;        //!< [L + L E + L H], 0: the Port attribute
    std::unordered_map<uint32_t, Time> m_nodeBusyUntil;
    std::vector<int32_t> m_replicaChoice;         //!< [S, L, E] copy per snapshot, empty: none
    std::vector<int64_t> m_replicaStepNs;         //!< [S] snapshot start times
    uint32_t m_maxReplicas;
    std::vector<Ipv4Address> m_replicaAddress;    //!< [L, E, m_maxReplicas] (copy r at r - 1)
    void ResizePorts();
};

} // namespace ns3

#endif /* SPACE_XNET_MOE_TRAFFIC_PLAN_H */
