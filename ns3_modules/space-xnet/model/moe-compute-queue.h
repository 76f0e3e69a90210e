/*
 * Space-XNet: one satellite's compute, first come first served, for one model copy.
 */
#ifndef SPACE_XNET_MOE_COMPUTE_QUEUE_H
#define SPACE_XNET_MOE_COMPUTE_QUEUE_H

#include "ns3/nstime.h"
#include "ns3/object.h"
#include "ns3/ptr.h"
#include "ns3/satellite-power.h"

#include <functional>

namespace ns3
{

/**
 * @brief A satellite runs one compute job at a time, in the order they were submitted: the
 * components of a model copy on that satellite (co-located shards, expert copies) share it.
 *
 * MoeTokenHelper makes one per satellite and model copy (each copy's components queue only
 * behind their own), and gives it to the applications it installs there.
 *
 * With a SatellitePower (the Power attribute; MoeTokenHelper sets the one aggregated to the node),
 * every job is admitted through it: below the battery's reserve a job is stretched (throttle) or
 * held (refuse), and its interval counts as the board's busy time.
 */
class MoeComputeQueue : public Object
{
  public:
    static TypeId GetTypeId();
    MoeComputeQueue();

    /**
     * @brief Queue a job of @p duration behind the jobs already queued.
     * @param done runs when the job ends (scheduled now, at that instant)
     * @return the time the job ends
     */
    Time Submit(Time duration, std::function<void()> done);
    /// When the last job queued so far ends (zero before the first).
    Time GetBusyUntil() const;

  private:
    Time m_busyUntil; //!< end of the last job queued
    Ptr<SatellitePower> m_power; //!< the satellite's power system (Power attribute), or none
};

} // namespace ns3

#endif /* SPACE_XNET_MOE_COMPUTE_QUEUE_H */
