/*
 * Space-XNet: one satellite's power system: solar array, loads and battery, integrated event by event.
 */
#ifndef SPACE_XNET_SATELLITE_POWER_H
#define SPACE_XNET_SATELLITE_POWER_H

#include "ns3/nstime.h"
#include "ns3/object.h"

#include <cstdint>
#include <deque>
#include <vector>

namespace ns3
{

/**
 * @brief A satellite's battery, charged by its solar array while the satellite is sunlit and
 * drained by its bus and its compute board, and what the satellite does below its reserve.
 *
 * The model (docs/power.md): every watt goes through the battery,
 *
 *     dE/dt = solar(t) x ChargeEfficiency - load(t) / DischargeEfficiency,
 *     solar(t) = SolarPower while sunlit (the snapshot's flag), else 0,
 *     load(t)  = BaselinePower + IdlePower, or + BusyPower instead of IdlePower while a compute job runs
 *                (a throttled job: IdlePower + ThrottleFactor x (BusyPower - IdlePower)),
 *
 * and E is clipped to [0, Capacity]: what would go above is spilled (the array is curtailed), what
 * would go below is unserved (a brown-out the model does not simulate further; recorded). Between
 * two events (a snapshot boundary, a job's start or end) the power is constant, so the battery is
 * linear there and the clip at the end of each such segment is exact: the integral is exact, not
 * stepped.
 *
 * The MoeComputeQueue of the satellite consults it (Admit) for every job it queues: the jobs of a
 * queue are first come first served, so their [start, end) intervals are known when queued. Admit
 * projects the battery to the job's start (the jobs queued before it included); below Reserve the
 * job runs ThrottleFactor as fast (behaviour THROTTLE) or is held until the battery, charging with
 * the board idle, is back at the Reserve (behaviour REFUSE; never, if it never gets there).
 *
 * No event is scheduled: the battery is brought up to date on each Admit and by Finish, so a power
 * model that never reaches its reserve leaves every packet's timing as it was.
 */
class SatellitePower : public Object
{
  public:
    /// What the satellite does below its reserve.
    enum Behaviour
    {
        THROTTLE, //!< jobs run ThrottleFactor as fast, at a lower busy draw
        REFUSE,   //!< jobs wait until the battery is back at the reserve
    };

    /// Per-snapshot records, for SatellitePowerHelper::Copy (in this order).
    enum Record
    {
        ENERGY_END,    //!< J stored at the end of the snapshot's interval (or at Finish)
        SOLAR_IN,      //!< J the array delivered (before ChargeEfficiency)
        LOAD_OUT,      //!< J the loads drew (bus + compute, before DischargeEfficiency)
        COMPUTE_BUSY,  //!< J the board drew while running jobs
        BUSY_TIME,     //!< s the board ran jobs
        THROTTLED_TIME, //!< s the board ran throttled jobs
        BELOW_RESERVE, //!< s the battery spent below Reserve
        SPILLED,       //!< J clipped at full
        UNSERVED,      //!< J clipped at empty
        ENERGY_MIN,    //!< the lowest J stored in the snapshot's interval
        RECORDS,
    };

    static TypeId GetTypeId();
    SatellitePower();

    /**
     * @brief The snapshot schedule: snapshot s lasts [stepTimesNs[s], stepTimesNs[s + 1]) (the last
     * one, on to the end), the satellite sunlit in it when sunlit[s * stride] is non-zero.
     * Sizes the records; sets the battery to InitialEnergy.
     */
    void SetSchedule(const int64_t* stepTimesNs, uint32_t steps, const uint8_t* sunlit, uint64_t stride);

    /**
     * @brief The hook of MoeComputeQueue: a job of @p duration is queued at @p now to start at
     * @p start (the queue's own rule). Below the reserve at @p start, THROTTLE stretches
     * @p duration by 1 / ThrottleFactor; REFUSE moves @p start to when the battery is back at the
     * reserve. The job's interval is then counted as busy.
     */
    void Admit(Time now, Time& start, Time& duration);

    /// Bring the battery up to @p t (>= the last time it was brought up to date).
    void Advance(Time t);
    /// Advance to @p t and close the records (the end of the run).
    void Finish(Time t);

    /// J stored now (as of the last Advance).
    double GetEnergy() const;
    /// The lowest J stored so far.
    double GetMinEnergy() const;
    /// J stored at t = 0.
    double GetInitialEnergy() const;
    /// Jobs admitted below the reserve (throttled or held).
    uint64_t GetProtectedJobs() const;
    /// Record @p which of snapshot @p step.
    double GetRecord(Record which, uint32_t step) const;

  private:
    /// A compute job's interval, in ns.
    struct Job
    {
        int64_t start;
        int64_t end;
        bool throttled;
    };

    /// The snapshot in force at @p t ns (the last one whose start is <= t).
    uint32_t StepAt(int64_t t) const;
    /// Load W of the board in @p job (nullptr: idle).
    double Load(const Job* job) const;
    /// Integrate from @p from to @p to ns on @p energy along @p jobs (front first); with @p record,
    /// fill the records. Returns the energy at @p to.
    double Integrate(int64_t from, int64_t to, double energy, const std::deque<Job>& jobs, bool record);
    /// When, at or after @p from, the battery (holding @p energy, the board idle) reaches the reserve;
    /// -1 if never.
    int64_t RecoveryTime(int64_t from, double energy) const;

    // Attributes
    double m_solarW;
    double m_baselineW;
    double m_idleW;
    double m_busyW;
    double m_capacityJ;
    double m_chargeEfficiency;
    double m_dischargeEfficiency;
    double m_initialJ;
    double m_reserveJ;
    Behaviour m_behaviour;
    double m_throttleFactor;

    std::vector<int64_t> m_stepTimes; //!< [S] snapshot starts, ns
    std::vector<uint8_t> m_sunlit;    //!< [S] this satellite's flag per snapshot
    std::vector<double> m_records;    //!< [RECORDS, S]
    std::deque<Job> m_jobs;           //!< jobs that end after m_now, in order
    int64_t m_now;                    //!< ns the battery is up to date to
    double m_energy;                  //!< J stored at m_now
    double m_minEnergy;               //!< lowest J so far
    uint64_t m_protectedJobs;         //!< jobs admitted below the reserve
};

} // namespace ns3

#endif /* SPACE_XNET_SATELLITE_POWER_H */
