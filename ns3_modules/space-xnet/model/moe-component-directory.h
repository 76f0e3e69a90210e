/*
 * Space-XNet: where every component of a model copy listens (address and UDP port), by role.
 */
#ifndef SPACE_XNET_MOE_COMPONENT_DIRECTORY_H
#define SPACE_XNET_MOE_COMPONENT_DIRECTORY_H

#include "ns3/ipv4-address.h"
#include "ns3/object.h"

#include <cstdint>
#include <vector>

namespace ns3
{

/**
 * @brief What a MoeTokenApplication hosts. GATEWAY and EXPERT keep the values 0 and 1: a
 * COMPONENT_LOST failure record names the lost component's role by them.
 */
enum class MoeRole : uint8_t
{
    /// A layer's gateway: attention and router, and the combine of the layer before's outputs.
    GATEWAY = 0,
    /// One expert of a layer, or one of its copies (expert replicas).
    EXPERT = 1,
    /// One helper shard of a tensor-parallel gateway's attention.
    SHARD = 2,
    /// A user on the ground: sends its requests' prompts and receives their output tokens.
    USER = 3,
};

/// Prints the role's name (Gateway, Expert, Shard, User).
std::ostream& operator<<(std::ostream& os, MoeRole role);

/**
 * @brief Address and UDP port of every component of one model copy, filled by MoeTokenHelper as
 * it installs the applications and read by them to address their messages.
 *
 * A component is (role, layer, index, copy): index is the expert (EXPERT), the shard (SHARD) or
 * 0 (GATEWAY); for a USER, layer is the user's index; copy is an expert's replica (0: the expert
 * itself). Components on one satellite listen on distinct ports (MoeTokenHelper picks them).
 */
class MoeComponentDirectory : public Object
{
  public:
    static TypeId GetTypeId();
    MoeComponentDirectory();

    /**
     * @brief Size the directory; every entry is unset (address 0.0.0.0, port 0) until Add.
     * @param layers, experts the model's L and E
     * @param maxHelpers the most helper shards of any layer (H)
     * @param maxReplicas the most copies of any expert (R)
     * @param users users on the ground
     */
    void Configure(uint32_t layers, uint32_t experts, uint32_t maxHelpers, uint32_t maxReplicas, uint32_t users);
    /// Record where component (@p role, @p layer, @p index, @p copy) listens.
    void Add(MoeRole role, uint32_t layer, uint32_t index, uint32_t copy, Ipv4Address address, uint16_t port);
    Ipv4Address GetAddress(MoeRole role, uint32_t layer, uint32_t index = 0, uint32_t copy = 0) const;
    uint16_t GetPort(MoeRole role, uint32_t layer, uint32_t index = 0, uint32_t copy = 0) const;

  private:
    /// Where a component listens.
    struct Entry
    {
        Ipv4Address address;
        uint16_t port{0};
    };

    /// Index of a component's entry: gateways [L], then experts [L, E], shards [L, H], replicas
    /// [L, E, R] (copy r at r - 1), users [U].
    uint64_t Slot(MoeRole role, uint32_t layer, uint32_t index, uint32_t copy) const;

    uint32_t m_layers;
    uint32_t m_experts;
    uint32_t m_maxHelpers;
    uint32_t m_maxReplicas;
    std::vector<Entry> m_entries;
};

} // namespace ns3

#endif /* SPACE_XNET_MOE_COMPONENT_DIRECTORY_H */
