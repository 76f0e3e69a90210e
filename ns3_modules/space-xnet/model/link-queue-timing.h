/*
 * Space-XNet: the analytic model's link queueing: a few messages' packets over point-to-point links,
 * first come first served, without a simulator.
 */
#ifndef SPACE_XNET_LINK_QUEUE_TIMING_H
#define SPACE_XNET_LINK_QUEUE_TIMING_H

#include <cstdint>

namespace ns3
{

/**
 * @brief When each of a few messages arrives when their packets queue for the links they share,
 * as ns-3's point-to-point transmit queues serve them (harness/simulate/analytic.py, "link queueing").
 *
 * A message hands all its packets to its first link when it is sent; every link transmits one
 * packet at a time, first come first served, for its tx time; a packet reaches the link's far end
 * the link's delay after it finished, and a relay hands it to its next link the relay delay later.
 * Packets that reach one link at the same ns go in the order ns-3 runs their events: a packet sent
 * there first, in message then packet order; then the relayed packet that started on its previous
 * link first (its receive event was scheduled first). A message arrives with its last packet.
 *
 * Per-packet work for the analytic model, done here rather than per packet in Python; no ns-3
 * object is involved.
 */
class LinkQueueTiming
{
  public:
    /**
     * @param count messages, in send order
     * @param width hops per message row
     * @param links [count, width] a queue id per hop (one per directed link; messages that must not
     *        interact use distinct ids), -1 past the message's last hop (at least one hop each)
     * @param delaysNs [count, width] the propagation delay of each hop's link, ns
     * @param sendNs [count] when each message is sent, ns
     * @param numPackets packets per message
     * @param txNs [numPackets] each packet's transmission time on every link, ns (> 0)
     * @param relayNs time a relay holds a packet before its next link, ns
     * @param arrivalNs out [count] when each message's last packet reached its destination, ns
     */
    static void Arrivals(uint64_t count,
                         uint32_t width,
                         const int64_t* links,
                         const int64_t* delaysNs,
                         const int64_t* sendNs,
                         uint32_t numPackets,
                         const int64_t* txNs,
                         int64_t relayNs,
                         int64_t* arrivalNs);
};

} // namespace ns3

#endif /* SPACE_XNET_LINK_QUEUE_TIMING_H */
