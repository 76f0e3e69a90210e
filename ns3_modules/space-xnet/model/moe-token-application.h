/*
 * Space-XNet: one model component (a layer's gateway or one expert) on one satellite.
 */
#ifndef SPACE_XNET_MOE_TOKEN_APPLICATION_H
#define SPACE_XNET_MOE_TOKEN_APPLICATION_H

#include "moe-token-header.h"
#include "moe-traffic-plan.h"

#include "ns3/application.h"
#include "ns3/ipv4-address.h"
#include "ns3/socket.h"
#include "ns3/traced-callback.h"

#include <functional>
#include <unordered_map>

namespace ns3
{

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
 * satellite runs one job at a time, so concurrent requests queue for it.
 */
class MoeTokenApplication : public Application
{
  public:
    enum Role
    {
        GATEWAY = 0,
        EXPERT = 1,
    };

    static TypeId GetTypeId();
    MoeTokenApplication();
    ~MoeTokenApplication() override;

  protected:
    void DoDispose() override;

  private:
    void StartApplication() override;
    void StopApplication() override;

    void HandleRead(Ptr<Socket> socket);
    void HandleMessage(const MoeTokenHeader& header);
    void StartToken(uint32_t request, uint32_t token);
    void SendToExperts(uint32_t request, uint32_t token);
    void SendOutput(uint32_t request, uint32_t token);
    void FinishToken(uint32_t request, uint32_t token);
    void SendMessage(Ipv4Address destination, const MoeTokenHeader& header);
    /// Queue a compute job of duration @p duration, FIFO; @p done runs when it ends.
    void RunCompute(Time duration, std::function<void()> done);

    Ptr<MoeTrafficPlan> m_plan;
    Role m_role;
    uint32_t m_layer;
    uint32_t m_expert;
    Ptr<Socket> m_socket;
    Time m_busyUntil;                                  //!< end of the last queued compute job
    std::unordered_map<uint64_t, uint32_t> m_segments; //!< message key -> segments received
    std::unordered_map<uint64_t, uint32_t> m_combines; //!< (request, token) -> expert outputs received
    TracedCallback<Ptr<const Packet>> m_rxTrace;
    TracedCallback<Ptr<const Packet>> m_txTrace;
};

} // namespace ns3

#endif /* SPACE_XNET_MOE_TOKEN_APPLICATION_H */
