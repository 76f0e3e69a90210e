/*
 * Space-XNet: the application header that every packet of an MoE message carries.
 */
#include "moe-token-header.h"

#include "ns3/log.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("MoeTokenHeader");

NS_OBJECT_ENSURE_REGISTERED(MoeTokenHeader);

TypeId
MoeTokenHeader::GetTypeId()
{
    static TypeId tid = TypeId("ns3::MoeTokenHeader")
                            .SetParent<Header>()
                            .SetGroupName("SpaceXNet")
                            .AddConstructor<MoeTokenHeader>();
    return tid;
}

TypeId
MoeTokenHeader::GetInstanceTypeId() const
{
    return GetTypeId();
}

MoeTokenHeader::MoeTokenHeader()
    : m_request(0),
      m_token(0),
      m_layer(0),
      m_expert(0),
      m_kind(HIDDEN_STATE),
      m_attempt(0),
      m_segments(0)
{
}

MoeTokenHeader::MoeTokenHeader(uint32_t request, uint32_t token, uint32_t layer, uint32_t expert, Kind kind)
    : m_request(request),
      m_token(token),
      m_layer(static_cast<uint16_t>(layer)),
      m_expert(static_cast<uint16_t>(expert)),
      m_kind(kind),
      m_attempt(0),
      m_segments(0)
{
}

uint32_t
MoeTokenHeader::GetSerializedSize() const
{
    return 16;
}

void
MoeTokenHeader::Serialize(Buffer::Iterator start) const
{
    NS_LOG_FUNCTION(this);
    start.WriteHtonU32(m_request);
    start.WriteHtonU32(m_token);
    start.WriteHtonU16(m_layer);
    start.WriteHtonU16(m_expert);
    start.WriteU8(m_kind);
    start.WriteU8(m_attempt);
    start.WriteHtonU16(m_segments);
}

uint32_t
MoeTokenHeader::Deserialize(Buffer::Iterator start)
{
    NS_LOG_FUNCTION(this);
    m_request = start.ReadNtohU32();
    m_token = start.ReadNtohU32();
    m_layer = start.ReadNtohU16();
    m_expert = start.ReadNtohU16();
    m_kind = start.ReadU8();
    m_attempt = start.ReadU8();
    m_segments = start.ReadNtohU16();
    return GetSerializedSize();
}

void
MoeTokenHeader::Print(std::ostream& os) const
{
    os << "request=" << m_request << " token=" << m_token << " layer=" << m_layer
       << " expert=" << m_expert << " kind="
       << (m_kind == HIDDEN_STATE    ? "hidden"
           : m_kind == EXPERT_OUTPUT ? "output"
           : m_kind == ACK           ? "ack"
           : m_kind == SHARD_SCATTER ? "scatter"
           : m_kind == SHARD_GATHER  ? "gather"
           : m_kind == SHARD_INPUT   ? "shard-input"
           : m_kind == PROMPT        ? "prompt"
           : m_kind == OUTPUT_TOKEN  ? "output-token"
                                     : "combined")
       << " attempt=" << static_cast<uint32_t>(m_attempt) << " segments=" << m_segments;
}

} // namespace ns3
