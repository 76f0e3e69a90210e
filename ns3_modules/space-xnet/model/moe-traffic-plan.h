/*
 * Space-XNet: what the MoE token traffic does: the inputs shared by every MoeTokenApplication of a model copy.
 */
#ifndef SPACE_XNET_MOE_TRAFFIC_PLAN_H
#define SPACE_XNET_MOE_TRAFFIC_PLAN_H

#include "ns3/boolean.h"
#include "ns3/ipv4-address.h"
#include "ns3/nstime.h"
#include "ns3/object.h"

#include <cstdint>
#include <vector>

namespace ns3
{

/**
 * @brief The inputs of one model copy's traffic: its size, the activation trace, the compute and
 * memory times, the requests, and the optional parts (prefill, users, shards, replicas, failures).
 *
 * One plan is shared by every MoeTokenApplication of a model copy. Python fills it from numpy
 * arrays (C-contiguous, the shapes given below) before it creates the MoeTokenHelper; the
 * applications only read it. Where the components are is the MoeComponentDirectory's, which
 * requests failed the MoeRequestStatus's, the satellites' compute the MoeComputeQueue's, and what
 * happened the MoeTrafficRecorder's. Times are integer nanoseconds.
 */
class MoeTrafficPlan : public Object
{
  public:
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
     * @name Chunked prefill (Sarathi-style; serving.chunk_tokens): a prompt's pass is cut into
     * chunks of at most the budget's tokens, each a pass of its own through every layer, so that a
     * gateway runs at most one chunk's job before a waiting decode step. Chunk c of request r
     * (c < n_r - 1) travels as token id GetNTokens() + c; its last chunk is token 0 (whose LM head
     * gives the first output token). Chunk c + 1 starts at layer 0's gateway when chunk c's
     * attention there ends. A chunk's compute and message sizes follow its own token counts.
     * Without SetChunks a prompt is one pass (token 0), as before.
     * @{
     */
    /**
     * @param chunkCounts C-contiguous [R, C, L, E]: tokens of chunk c of request r routed to expert
     *        e of layer l (zero past the request's last chunk)
     * @param count R * C * L * E
     * @param chunkTokens [R, C] tokens of each chunk (0 past the last)
     * @param requests R
     * @param maxChunks C, the most chunks of any request
     */
    void SetChunks(const int32_t* chunkCounts, uint64_t count, const int32_t* chunkTokens, uint32_t requests,
                   uint32_t maxChunks);
    /// Chunks of @p request's prompt: 1 without chunking (0 without a prompt).
    uint32_t GetNChunks(uint32_t request) const;
    /// Whether @p token is a prefill chunk's id (one before its prompt's last chunk).
    bool IsChunk(uint32_t token) const;
    /// The token id of chunk @p chunk of @p request (GetNTokens() + chunk; 0 for the last).
    uint32_t GetChunkToken(uint32_t request, uint32_t chunk) const;
    /// The chunk index of prefill pass @p token of @p request.
    uint32_t GetChunkIndex(uint32_t request, uint32_t token) const;
    /// Token ids messages and arrivals are keyed by: GetNTokens() + the most chunks - 1.
    uint32_t GetNTokenSlots() const;
    /// Prompt tokens of prefill pass (@p request, @p token): the whole prompt, or its chunk's.
    uint32_t GetPassTokens(uint32_t request, uint32_t token) const;
    /// Of those, the ones layer @p layer routes to @p expert.
    uint32_t GetPassExpertTokens(uint32_t request, uint32_t token, uint32_t layer, uint32_t expert) const;
    /// Experts of @p layer that get at least one of the pass's tokens.
    uint32_t GetPassExperts(uint32_t request, uint32_t token, uint32_t layer) const;
    /// @}

    /**
     * @name Disaggregated prefill and decode (DistServe-style; serving.prefill_replicas and
     * decode_replicas). A prefill replica's plan runs a request's prefill pass only (its output
     * tokens: 1); when the last pass of the prompt has run at layer l's gateway, that gateway sends
     * the layer's KV cache (prompt tokens x KvBytesPerToken, a message of kind KV_CACHE) to layer
     * l's gateway of the decode replica, and layer 0's gateway sends the first output token after
     * its LM head. On the decode replica's plan the request starts at token 1 once layer 0's
     * gateway has both its cache and the first token, and each layer's gateway holds token 1's
     * attention until its own layer's cache is whole (layer-wise transfer). No acknowledgements.
     * @{
     */
    /**
     * @param addresses [R, L] IPv4 address (host order) of each layer's decode gateway
     * @param ports [R, L] its UDP port
     * @param remote [R] the request's index in the decode replica's plan (-1: no decode part)
     * @param requests R
     * @param kvBytesPerToken KV cache bytes of one token in one layer
     */
    void SetKvTargets(const uint32_t* addresses, const int32_t* ports, const int32_t* remote, uint32_t requests,
                      uint64_t kvBytesPerToken);
    bool HasKvTarget(uint32_t request) const;
    Ipv4Address GetKvAddress(uint32_t request, uint32_t layer) const;
    uint16_t GetKvPort(uint32_t request, uint32_t layer) const;
    uint32_t GetKvRequest(uint32_t request) const;
    /// KV cache bytes of @p request's prompt in one layer.
    uint64_t GetKvBytes(uint32_t request) const;
    /// @param receives [R] 1: the request's prefill runs elsewhere; it starts at token 1 on its KV cache
    void SetKvSources(const int32_t* receives, uint32_t requests);
    bool IsKvReceiver(uint32_t request) const;
    /// @}

    /**
     * @name KV-cache memory at run time (serving): layer 0's gateway admits a request (starts its
     * token 0) only while the KV cache of the requests it admitted and that have not ended, each
     * GetRequestKvTokens tokens, fits the budget; the others wait in arrival order. Budget 0 (the
     * default): every request starts at once, as before.
     * @{
     */
    /// @param tokens the KV-cache tokens the replica's gateways hold beside their weights (0: no limit)
    void SetKvBudget(uint64_t tokens);
    uint64_t GetKvBudget() const;
    /// Tokens of @p request's KV cache while it runs: its prompt and its output tokens.
    uint64_t GetRequestKvTokens(uint32_t request) const;
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
    /**
     * FLOP time of one token of each gateway [L], expert [L, E] and the LM head, unrounded (ns):
     * with them, a job of n > 1 tokens computes for round(n x this) rather than n x the whole-ns
     * time of one token (the roofline's exact form; without them, as before).
     */
    void SetExactComputeTimes(const double* gatewayNs, const double* expertNs, uint64_t expertCount, double lmHeadNs);
    /// The roofline's job of @p tokens tokens at layer @p layer's gateway (attention + router).
    Time GatewayJob(uint32_t layer, uint64_t tokens) const;
    /// The roofline's job of @p tokens tokens at expert (@p layer, @p expert) (or a copy of it).
    Time ExpertJob(uint32_t layer, uint32_t expert, uint64_t tokens) const;
    /// The roofline's job of @p tokens tokens at the LM head.
    Time LmHeadJob(uint64_t tokens) const;
    /// @}

    /**
     * @name Users on the ground (harness/ground/users.py): request r belongs to user (ground node)
     * u = userOf[r]. The user sends the prompt (max(P, 1) hidden states) to layer 0's gateway at the
     * request's start; the gateway starts the request when the prompt is whole, and sends every
     * output token (TokenBytes) back down to the user. Without SetUsers a request starts at its
     * start time at the gateway, as before.
     * @{
     */
    /// @param userOf [R] user index of each request, in [0, users)
    void SetUsers(const int32_t* userOf, uint32_t count, uint32_t users);
    bool HasUsers() const;
    uint32_t GetNUsers() const;
    uint32_t GetUserOf(uint32_t request) const;
    uint32_t GetTokenBytes() const;
    /// @}

    /**
     * @name Tensor-parallel gateways and co-located components (placement strategies beyond the paper)
     * A layer's attention may be split over its gateway and H_l helper satellites (shards); each
     * shard, the gateway's own included, computes for GetShardCompute(layer).
     * @{
     */
    /// Size the shard tables: @p helpers [L] helper shards per layer (0: the layer is not split),
    /// @p shardNs [L] compute of one shard, ns. Call after Configure.
    void SetShards(const int32_t* helpers, const int64_t* shardNs, uint32_t layers);
    uint32_t GetNHelpers(uint32_t layer) const;
    /// The most helpers of any layer (0 without tensor parallelism).
    uint32_t GetMaxHelpers() const;
    Time GetShardCompute(uint32_t layer) const;
    /// Roofline of a shard: its weight-read time [L] (ns) and unrounded FLOP time of one token
    /// [L] (ns). Call after SetShards; without it a shard's job is tokens x GetShardCompute.
    void SetShardRoofline(const int64_t* memoryNs, const double* exactNs, uint32_t layers);
    /// The roofline's job of @p tokens tokens on one shard of layer @p layer's attention.
    Time ShardJob(uint32_t layer, uint64_t tokens) const;
    /** @} */

    /**
     * @name KV-cache reads in the roofline (harness/workload/compute.py, KvReads): an attention job
     * also moves the KV cache of its requests. A pass of n new tokens after o cached ones moves, at
     * layer l's gateway, fullBytes[l] x (o + n) + slidingBytes[l] x (min(o, window) + n) bytes: a
     * decode step (n = 1, o = its request's prompt + earlier tokens) reads the whole cache so far, a
     * prefill pass or chunk (o = the earlier chunks' tokens) reads and writes its chunk's. A job's
     * memory side is then its weight read + floor(KV bytes / bandwidth x 1e9 + 0.5) ns; a batch
     * moves the sum of its steps' bytes; a shard moves shardFraction[l] of them. Without
     * SetKvReads (the default) no KV bytes are counted, as before.
     * @{
     */
    /**
     * @param fullBytes [L] bytes per cached token over the gateway's full-attention layers
     * @param slidingBytes [L] the same over its sliding-window layers
     * @param shardFraction [L] share of the cache one tensor-parallel shard reads
     * @param window the sliding window, tokens (0: none)
     * @param bytesPerS the memory bandwidth, B/s
     * @param promptTokens [R] prompt tokens each request's decode steps attend to (0: none)
     */
    void SetKvReads(const double* fullBytes,
                    const double* slidingBytes,
                    const double* shardFraction,
                    uint32_t layers,
                    uint64_t window,
                    double bytesPerS,
                    const int32_t* promptTokens,
                    uint32_t requests);
    bool HasKvReads() const;
    /// KV bytes (@p request, @p token)'s pass moves at layer @p layer's gateway (0 without SetKvReads).
    double GetKvBytes(uint32_t layer, uint32_t request, uint32_t token) const;
    /// Time to move @p bytes at the bandwidth, whole ns (zero without SetKvReads).
    Time KvReadTime(double bytes) const;
    /// GatewayJob whose memory side also moves @p kvBytes of KV cache.
    Time GatewayJob(uint32_t layer, uint64_t tokens, double kvBytes) const;
    /// ShardJob whose memory side also moves the shard's share of @p kvBytes (the gateway's).
    Time ShardJob(uint32_t layer, uint64_t tokens, double kvBytes) const;
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
    uint32_t GetMaxReplicas() const;
    /// The copy of expert (@p layer, @p expert) a message sent at @p now goes to (0: the expert).
    uint32_t GetExpertCopy(uint32_t layer, uint32_t expert, Time now) const;
    /** @} */

    /**
     * @name Failures of helper shards and expert copies (faults): when each goes dark with its
     * satellite, ns (-1: never). A slot with no shard or copy is given 0 (dark from the start), so
     * that it is never chosen. Without these calls no shard or copy fails.
     * @{
     */
    /// @param shardNs C-contiguous [L, GetMaxHelpers()] @param count L * GetMaxHelpers()
    void SetShardFailureTimes(const int64_t* shardNs, uint64_t count);
    /// @param copyNs C-contiguous [L, E, GetMaxReplicas()] (copy r >= 1 at r - 1) @param count its size
    void SetReplicaFailureTimes(const int64_t* copyNs, uint64_t count);
    /// Whether helper shard @p shard of layer @p layer is dark now.
    bool IsShardDown(uint32_t layer, uint32_t shard) const;
    /// Whether copy @p copy of expert (@p layer, @p expert) is dark now (copy 0: the expert itself).
    bool IsReplicaDown(uint32_t layer, uint32_t expert, uint32_t copy) const;
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
    /// Application-level retransmission timeout; zero: no acknowledgements, no retransmission.
    Time GetRetransmitTimeout() const;
    /// Experts send their outputs to their own layer's gateway, which forwards the combined state.
    bool GetCombineAtOwnGateway() const;
    /// A token's k experts are reached one after another (gateway -> e_1 -> ... -> e_k -> combiner).
    bool GetSequentialDispatch() const;
    uint32_t GetMaxRetries() const;
    /// Whether the gateway of @p layer is dark now (its satellite failed; SetFailureTimes).
    bool IsGatewayDown(uint32_t layer) const;
    /// Whether expert (@p layer, @p expert) is dark now.
    bool IsExpertDown(uint32_t layer, uint32_t expert) const;
    /// @name Re-placement (MoeFailover, faults.recovery: replace)
    /// @{
    /// Component (@p role: a MoeRole's value, @p layer, @p index) runs again, on a spare satellite:
    /// IsGatewayDown / IsExpertDown say false for it from now on.
    void Restore(uint32_t role, uint32_t layer, uint32_t index);
    /// Whether the satellite that first held component (@p role, @p layer, @p index) has failed,
    /// restored or not (shards and users: never).
    bool HasFailed(uint32_t role, uint32_t layer, uint32_t index) const;
    /// @}

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
    std::vector<int64_t> m_gatewayFailNs;  //!< [L], -1 never
    std::vector<int64_t> m_expertFailNs;   //!< [L, E], -1 never
    std::vector<uint8_t> m_restored;       //!< [L + L * E] gateways then experts re-placed; empty: none
    Time m_retransmitTimeout;
    uint32_t m_maxRetries;
    bool m_combineAtOwnGateway;
    bool m_sequentialDispatch;
    std::vector<int32_t> m_prefillTokens;  //!< [R, L, E] prompt tokens per expert; empty: no prefill
    std::vector<int32_t> m_prefillExperts; //!< [R, L] experts with at least one prompt token
    std::vector<int32_t> m_promptTokens;   //!< [R]
    std::vector<int32_t> m_requestTokens;  //!< [R] output tokens; empty: T each
    uint32_t m_maxChunks;                  //!< C; 0 without chunking
    std::vector<int32_t> m_chunkCounts;    //!< [R, C, L, E]; empty: no chunking
    std::vector<int32_t> m_chunkTokens;    //!< [R, C]
    std::vector<int32_t> m_chunkExperts;   //!< [R, C, L] experts with at least one of the chunk's tokens
    std::vector<int32_t> m_chunks;         //!< [R] chunks of each request
    std::vector<uint32_t> m_kvAddresses;   //!< [R, L] decode gateways; empty: not a prefill replica
    std::vector<int32_t> m_kvPorts;        //!< [R, L]
    std::vector<int32_t> m_kvRemote;       //!< [R] request index on the decode replica, -1 none
    uint64_t m_kvBytesPerToken;
    std::vector<int32_t> m_kvReceivers;    //!< [R] 1: decode part only; empty: none
    uint64_t m_kvBudget;                   //!< KV-cache tokens a replica holds; 0: no limit
    std::vector<int64_t> m_gatewayMemNs;   //!< [L] weight-read time; empty: FLOPs only
    std::vector<int64_t> m_expertMemNs;    //!< [L, E]
    int64_t m_lmHeadMemNs;
    uint32_t m_maxBatch;
    std::vector<double> m_gatewayExactNs;  //!< [L] unrounded FLOP time of one token; empty: n x whole ns
    std::vector<double> m_expertExactNs;   //!< [L, E]
    double m_lmHeadExactNs;
    std::vector<int64_t> m_shardMemNs;     //!< [L] a shard's weight-read time; empty: FLOPs only
    std::vector<double> m_shardExactNs;    //!< [L]
    /// max(tokens x compute (exact when @p exact is not negative and tokens > 1), memory).
    static Time Job(int64_t computeNs, double exactNs, int64_t memoryNs, uint64_t tokens);
    std::vector<int32_t> m_userOf;          //!< [R] user of each request; empty: no users
    uint32_t m_users;                       //!< users on the ground (0: none)
    uint32_t m_tokenBytes;
    std::vector<int32_t> m_helpers;               //!< [L] helper shards per layer
    std::vector<int64_t> m_shardNs;               //!< [L]
    uint32_t m_maxHelpers;
    std::vector<double> m_kvFullBytes;            //!< [L] KV bytes per cached token, full attention; empty: none
    std::vector<double> m_kvSlidingBytes;         //!< [L] the same, sliding-window layers
    std::vector<double> m_kvShardFraction;        //!< [L]
    std::vector<int32_t> m_kvPromptTokens;        //!< [R]
    uint64_t m_kvWindow;
    double m_kvBytesPerS;
    std::vector<int32_t> m_replicaChoice;         //!< [S, L, E] copy per snapshot, empty: none
    std::vector<int64_t> m_replicaStepNs;         //!< [S] snapshot start times
    uint32_t m_maxReplicas;
    std::vector<int64_t> m_shardFailNs;           //!< [L, H] -1 never; empty: no shard fails
    std::vector<int64_t> m_replicaFailNs;         //!< [L, E, R] -1 never; empty: no copy fails
};

} // namespace ns3

#endif /* SPACE_XNET_MOE_TRAFFIC_PLAN_H */
