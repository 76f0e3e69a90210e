/*
 * Space-XNet: the application header that every packet of an MoE message carries.
 */
#ifndef SPACE_XNET_MOE_TOKEN_HEADER_H
#define SPACE_XNET_MOE_TOKEN_HEADER_H

#include "ns3/header.h"

#include <cstdint>

namespace ns3
{

/**
 * @brief Identifies the message a segment belongs to: 16 bytes on the wire.
 *
 * | bytes | field    | meaning                                                     |
 * |-------|----------|-------------------------------------------------------------|
 * | 4     | request  | request (token stream) index                                |
 * | 4     | token    | token index inside the request                              |
 * | 2     | layer    | MoE layer the message belongs to                            |
 * | 2     | expert   | expert index inside the layer                               |
 * | 1     | kind     | 0: hidden state to an expert; 1: expert output to the combining gateway; 2: ack; 3: combined state to the next gateway; 4: a user's prompt to layer 0's gateway; 5: an output token down to its user |
 * | 1     | attempt  | 0 for the first transmission, n for the n-th retransmission |
 * | 2     | segments | number of packets the message was cut into (an ack: the kind it acknowledges) |
 */
class MoeTokenHeader : public Header
{
  public:
    enum Kind : uint8_t
    {
        HIDDEN_STATE = 0,
        EXPERT_OUTPUT = 1,
        /// Acknowledges a whole message (retransmission on only); the other fields name it.
        ACK = 2,
        /// A layer's combined expert outputs, from its gateway to the next one (combine at the own gateway).
        COMBINED_STATE = 3,
        /// Tensor-parallel gateway: the hidden state, from a layer's gateway to one of its attention shards.
        SHARD_SCATTER = 4,
        /// Tensor-parallel gateway: a shard's partial attention output, back to its gateway.
        SHARD_GATHER = 5,
        /// Tensor-parallel gateway: an expert's output, straight to one attention shard of the next
        /// layer (which combines the k outputs itself: no scatter from the gateway).
        SHARD_INPUT = 6,
        /// A user's prompt (max(P, 1) hidden states), from the ground up to layer 0's gateway.
        PROMPT = 7,
        /// One output token, from layer 0's gateway down to the request's user.
        OUTPUT_TOKEN = 8,
        /// Disaggregated serving: a prefill replica's gateway sends its layer's KV cache (expert
        /// field 0), or layer 0's gateway the first output token (expert field 1), to the gateway
        /// of the same layer of the request's decode replica.
        KV_CACHE = 9,
        /// Number of kinds (MessageKey packs a kind in [0, KINDS)).
        KINDS = 10,
    };

    static TypeId GetTypeId();
    TypeId GetInstanceTypeId() const override;
    MoeTokenHeader();
    /**
     * @brief The header of a message (first transmission; the segments field is set when it is sent).
     * @param request, token the token the message belongs to
     * @param layer, expert the layer, and the expert (or shard) index, the message names
     * @param kind what the message carries
     */
    MoeTokenHeader(uint32_t request, uint32_t token, uint32_t layer, uint32_t expert, Kind kind);

    uint32_t GetSerializedSize() const override;
    void Serialize(Buffer::Iterator start) const override;
    uint32_t Deserialize(Buffer::Iterator start) override;
    void Print(std::ostream& os) const override;

    uint32_t m_request;
    uint32_t m_token;
    uint16_t m_layer;
    uint16_t m_expert;
    uint8_t m_kind;
    uint8_t m_attempt; //!< retransmission number of the message (0: first transmission)
    uint16_t m_segments;
};

} // namespace ns3

#endif /* SPACE_XNET_MOE_TOKEN_HEADER_H */
