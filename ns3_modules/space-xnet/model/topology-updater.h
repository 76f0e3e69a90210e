/*
 * Space-XNet: replays precomputed ISL delays and routing steps at the snapshot times.
 */
#ifndef SPACE_XNET_TOPOLOGY_UPDATER_H
#define SPACE_XNET_TOPOLOGY_UPDATER_H

#include "ns3/forwarding-table.h"
#include "ns3/link-state-error-model.h"
#include "ns3/mapped-rows.h"
#include "ns3/nstime.h"
#include "ns3/object.h"
#include "ns3/point-to-point-channel.h"
#include "ns3/traced-callback.h"

#include <vector>

namespace ns3
{

/**
 * @brief The ISL delay updater: at each snapshot time, sets every link's propagation delay and
 * up/down state and makes the snapshot's routing step active.
 *
 * Delays are piecewise constant over a snapshot. A new delay applies to packets that start
 * transmitting after the change (PointToPointChannel reads its delay at transmission start), so a
 * packet already on the wire keeps the delay it left with. A link that is down in a snapshot
 * loses every packet whose reception completes during that snapshot (LinkStateErrorModel on
 * both devices); routes avoid down links, so this only hits packets queued or in flight when
 * the link went down.
 */
class TopologyUpdater : public Object
{
  public:
    static TypeId GetTypeId();
    TopologyUpdater();

    /// Add the channel of the next link; links are numbered in the order they are added.
    void AddChannel(Ptr<PointToPointChannel> channel);
    uint32_t GetNLinks() const;

    /**
     * @brief Set the schedule.
     * @param stepTimesNs [steps] start time of each step, ns, strictly increasing, the first 0
     * @param numSteps number of steps
     * @param delaysNs C-contiguous [steps, links] propagation delay of each link in each step, ns
     * @param count number of delay entries; must equal steps * links
     */
    void SetSchedule(const int64_t* stepTimesNs, uint32_t numSteps, const int64_t* delaysNs, uint64_t count);
    /// SetSchedule, reading @p delaysNs where it is instead of copying it (a long run's [S, L]
    /// array is then held once): the caller keeps it alive and unchanged while this updater runs.
    void BorrowSchedule(const int64_t* stepTimesNs, uint32_t numSteps, const int64_t* delaysNs, uint64_t count);

    /**
     * @brief Hold the borrowed delays a window of steps at a time (MappedRows): after
     * BorrowSchedule, with the delays in a read-only shared file mapping (harness/network/spill.py);
     * the steps it applies then fault their rows in, and every @p window steps the mapping's pages
     * are let go again, so what the updater holds does not grow with the run.
     * @param window steps applied between two releases; 0: never release
     */
    void SetReleaseWindow(uint32_t window);
    /// The most steps of delays held between two releases (0 without a window).
    uint32_t GetMaxStepsHeld() const;
    /// Releases of the borrowed delays so far.
    uint64_t GetReleases() const;

    /**
     * @brief Set which links are up in each step (optional: without it every link stays up).
     * @param up C-contiguous [steps, links], nonzero for up; call after SetSchedule
     * @param count number of entries; must equal steps * links
     */
    void SetLinkStates(const uint8_t* up, uint64_t count);
    /// SetLinkStates, reading @p up where it is instead of copying it: the caller keeps it alive
    /// and unchanged while this updater runs; with SetReleaseWindow, held a window at a time too.
    void BorrowLinkStates(const uint8_t* up, uint64_t count);

    /// Apply step 0 now and schedule every later step. Call once, before Simulator::Run.
    void Start();

    /// Packets lost because their link went down while they were queued or on the wire.
    uint64_t GetLinkDownDroppedPackets() const;

  protected:
    void DoDispose() override;

  private:
    /// Aborts unless @p count link states (of SetLinkStates or BorrowLinkStates, @p caller) fit the schedule.
    void CheckLinkStates(uint64_t count, const char* caller) const;
    void ApplyStep(uint32_t step);
    /// A LinkStateErrorModel on both devices of every link (SetLinkStates, BorrowLinkStates).
    void InstallLinkModels();

    Ptr<ForwardingTable> m_table;
    std::vector<Ptr<PointToPointChannel>> m_channels;
    std::vector<int64_t> m_stepTimesNs;
    std::vector<int64_t> m_delaysNs; //!< [steps, links]
    const int64_t* m_borrowedDelays = nullptr; //!< [steps, links] (BorrowSchedule), or null: m_delaysNs
    MappedRows m_delayRows;                    //!< SetReleaseWindow's window over the borrowed delays
    Ptr<const AttributeAccessor> m_delayAccessor; //!< PointToPointChannel's "Delay", found at the first step
    std::vector<int64_t> m_appliedNs;             //!< [links] the delay each channel holds (-1: not set yet)
    std::vector<uint8_t> m_up;       //!< [steps, links], empty: always up (or borrowed)
    const uint8_t* m_states = nullptr; //!< [steps, links]: m_up's data, the borrowed array, or null: always up
    MappedRows m_stateRows;            //!< SetReleaseWindow's window over the borrowed states
    std::vector<Ptr<LinkStateErrorModel>> m_linkModels; //!< [links, 2] receive models of both devices
    TracedCallback<uint32_t> m_stepTrace;
};

} // namespace ns3

#endif /* SPACE_XNET_TOPOLOGY_UPDATER_H */
