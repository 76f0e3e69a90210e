/*
 * Space-XNet: drops what a laser ISL receives while the link is down.
 */
#ifndef SPACE_XNET_LINK_STATE_ERROR_MODEL_H
#define SPACE_XNET_LINK_STATE_ERROR_MODEL_H

#include "ns3/error-model.h"

namespace ns3
{

/**
 * @brief Receive error model of an ISL device: while enabled (the link is down) every packet whose
 * reception completes is lost; while disabled (the link is up) nothing is.
 *
 * TopologyUpdater enables it for the snapshots in which the link is down (out of line of sight,
 * beyond the tracking limit, or an outage). Routes avoid down links, so it only catches packets
 * that were queued or on the wire when the link went down: they are lost, counted here, and
 * reported by ns-3's PhyRxDrop trace of the device.
 */
class LinkStateErrorModel : public ErrorModel
{
  public:
    static TypeId GetTypeId();
    LinkStateErrorModel();

    /// Packets lost because the link was down when they arrived.
    uint64_t GetDroppedPackets() const;

  private:
    bool DoCorrupt(Ptr<Packet> p) override;
    void DoReset() override;

    uint64_t m_dropped;
};

} // namespace ns3

#endif /* SPACE_XNET_LINK_STATE_ERROR_MODEL_H */
