/*
 * Space-XNet: the parts of MoeTokenApplication for users on the ground: a user's prompt sent up to
 * layer 0's gateway, and the messages a user or that gateway gets from the other (output tokens
 * down, prompts up).
 */
#include "ns3/abort.h"
#include "ns3/log.h"
#include "ns3/moe-token-application.h"
#include "ns3/simulator.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("MoeTokenApplicationUsers");

void
MoeTokenApplication::SendPrompt(uint32_t request)
{
    NS_LOG_FUNCTION(this << request);
    // Acknowledged by layer 0's gateway and resent like every message, with retransmission on.
    SendMessage(MoeRole::GATEWAY, 0, 0, MoeTokenHeader(request, 0, 0, 0, MoeTokenHeader::PROMPT));
}

void
MoeTokenApplication::HandleUserMessage(const MoeTokenHeader& h)
{
    NS_LOG_FUNCTION(this << h);
    if (h.m_kind == MoeTokenHeader::OUTPUT_TOKEN)
    {
        NS_ABORT_MSG_IF(m_role != MoeRole::USER, "an output token reached a satellite");
        m_userTokenTrace(h.m_request, h.m_token);
        return;
    }
    NS_ABORT_MSG_IF(m_role != MoeRole::GATEWAY || m_layer != 0, "a prompt reached another component than layer 0's gateway");
    m_promptArrivalTrace(h.m_request);
    Admit(h.m_request);
}

} // namespace ns3
