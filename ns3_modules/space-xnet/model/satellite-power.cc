/*
 * Space-XNet: one satellite's power system: solar array, loads and battery, integrated event by event.
 */
#include "satellite-power.h"

#include "ns3/abort.h"
#include "ns3/double.h"
#include "ns3/enum.h"
#include "ns3/log.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("SatellitePower");
NS_OBJECT_ENSURE_REGISTERED(SatellitePower);

namespace
{
/// Where a job the battery never lets start is put: far beyond any run (~31.7 years), still far
/// below int64 ns overflow when a queue's later jobs are added behind it.
constexpr int64_t NEVER_NS = 1000000000000000000LL;
} // namespace

TypeId
SatellitePower::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::SatellitePower")
            .SetParent<Object>()
            .SetGroupName("SpaceXNet")
            .AddConstructor<SatellitePower>()
            .AddAttribute("SolarPower", "Solar array output while sunlit, W.", DoubleValue(200.0),
                          MakeDoubleAccessor(&SatellitePower::m_solarW), MakeDoubleChecker<double>(0.0))
            .AddAttribute("BaselinePower", "Bus draw besides compute, always on, W.", DoubleValue(40.0),
                          MakeDoubleAccessor(&SatellitePower::m_baselineW), MakeDoubleChecker<double>(0.0))
            .AddAttribute("IdlePower", "Compute board draw while its queue is empty, W.", DoubleValue(15.0),
                          MakeDoubleAccessor(&SatellitePower::m_idleW), MakeDoubleChecker<double>(0.0))
            .AddAttribute("BusyPower", "Compute board draw while it runs a job, W.", DoubleValue(60.0),
                          MakeDoubleAccessor(&SatellitePower::m_busyW), MakeDoubleChecker<double>(0.0))
            .AddAttribute("Capacity", "Battery capacity, J.", DoubleValue(250.0 * 3600.0),
                          MakeDoubleAccessor(&SatellitePower::m_capacityJ), MakeDoubleChecker<double>(0.0))
            .AddAttribute("ChargeEfficiency", "Share of the array's power the battery stores.", DoubleValue(0.95),
                          MakeDoubleAccessor(&SatellitePower::m_chargeEfficiency),
                          MakeDoubleChecker<double>(0.0, 1.0))
            .AddAttribute("DischargeEfficiency", "Share of the battery's energy that reaches the loads.",
                          DoubleValue(0.95), MakeDoubleAccessor(&SatellitePower::m_dischargeEfficiency),
                          MakeDoubleChecker<double>(0.0, 1.0))
            .AddAttribute("InitialEnergy", "Energy stored at t = 0, J (SetSchedule applies it).",
                          DoubleValue(250.0 * 3600.0), MakeDoubleAccessor(&SatellitePower::m_initialJ),
                          MakeDoubleChecker<double>(0.0))
            .AddAttribute("Reserve", "Below this stored energy, J, the satellite protects itself.",
                          DoubleValue(50.0 * 3600.0), MakeDoubleAccessor(&SatellitePower::m_reserveJ),
                          MakeDoubleChecker<double>(0.0))
            .AddAttribute("Behaviour", "What the satellite does below the reserve.",
                          EnumValue(SatellitePower::THROTTLE),
                          MakeEnumAccessor<Behaviour>(&SatellitePower::m_behaviour),
                          MakeEnumChecker(SatellitePower::THROTTLE, "Throttle", SatellitePower::REFUSE, "Refuse"))
            .AddAttribute("ThrottleFactor", "Behaviour Throttle: the share of its speed the board keeps.",
                          DoubleValue(0.5), MakeDoubleAccessor(&SatellitePower::m_throttleFactor),
                          MakeDoubleChecker<double>(0.0, 1.0));
    return tid;
}

SatellitePower::SatellitePower()
    : m_solarW(200.0),
      m_baselineW(40.0),
      m_idleW(15.0),
      m_busyW(60.0),
      m_capacityJ(250.0 * 3600.0),
      m_chargeEfficiency(0.95),
      m_dischargeEfficiency(0.95),
      m_initialJ(250.0 * 3600.0),
      m_reserveJ(50.0 * 3600.0),
      m_behaviour(THROTTLE),
      m_throttleFactor(0.5),
      m_now(0),
      m_energy(0.0),
      m_minEnergy(0.0),
      m_protectedJobs(0)
{
}

void
SatellitePower::SetSchedule(const int64_t* stepTimesNs, uint32_t steps, const uint8_t* sunlit, uint64_t stride)
{
    NS_ABORT_MSG_IF(steps == 0 || stepTimesNs[0] != 0, "SatellitePower: the schedule must start at t = 0");
    NS_ABORT_MSG_IF(m_initialJ > m_capacityJ, "SatellitePower: InitialEnergy above Capacity");
    NS_ABORT_MSG_IF(m_throttleFactor <= 0.0 || m_chargeEfficiency <= 0.0 || m_dischargeEfficiency <= 0.0,
                    "SatellitePower: ThrottleFactor and the efficiencies must be above 0");
    m_stepTimes.assign(stepTimesNs, stepTimesNs + steps);
    m_sunlit.resize(steps);
    for (uint32_t s = 0; s < steps; ++s)
    {
        NS_ABORT_MSG_IF(s > 0 && m_stepTimes[s] <= m_stepTimes[s - 1], "SatellitePower: snapshot times must increase");
        m_sunlit[s] = sunlit[s * stride] != 0;
    }
    m_records.assign(static_cast<size_t>(RECORDS) * steps, 0.0);
    std::fill(m_records.begin() + static_cast<size_t>(ENERGY_MIN) * steps,
              m_records.begin() + static_cast<size_t>(ENERGY_MIN + 1) * steps,
              std::numeric_limits<double>::infinity());
    m_jobs.clear();
    m_now = 0;
    m_energy = m_initialJ;
    m_minEnergy = m_initialJ;
    m_protectedJobs = 0;
}

uint32_t
SatellitePower::StepAt(int64_t t) const
{
    auto it = std::upper_bound(m_stepTimes.begin(), m_stepTimes.end(), t);
    return it == m_stepTimes.begin() ? 0 : static_cast<uint32_t>(it - m_stepTimes.begin() - 1);
}

double
SatellitePower::Load(const Job* job) const
{
    if (job == nullptr)
    {
        return m_baselineW + m_idleW;
    }
    if (job->throttled)
    {
        return m_baselineW + m_idleW + m_throttleFactor * (m_busyW - m_idleW);
    }
    return m_baselineW + m_busyW;
}

double
SatellitePower::Integrate(int64_t from, int64_t to, double energy, const std::deque<Job>& jobs, bool record)
{
    const uint32_t steps = static_cast<uint32_t>(m_stepTimes.size());
    size_t i = 0;
    int64_t t = from;
    uint32_t s = StepAt(t);
    while (t < to)
    {
        while (i < jobs.size() && jobs[i].end <= t)
        {
            ++i;
        }
        int64_t next = to;
        if (s + 1 < steps)
        {
            next = std::min(next, m_stepTimes[s + 1]);
        }
        const Job* job = nullptr;
        if (i < jobs.size())
        {
            if (jobs[i].start <= t)
            {
                job = &jobs[i];
                next = std::min(next, jobs[i].end);
            }
            else
            {
                next = std::min(next, jobs[i].start);
            }
        }
        const double dt = static_cast<double>(next - t) * 1e-9;
        const double solar = m_sunlit[s] ? m_solarW : 0.0;
        const double load = Load(job);
        const double rate = solar * m_chargeEfficiency - load / m_dischargeEfficiency;
        double after = energy + rate * dt;
        double spilled = 0.0;
        double unserved = 0.0;
        if (after > m_capacityJ)
        {
            spilled = after - m_capacityJ;
            after = m_capacityJ;
        }
        else if (after < 0.0)
        {
            unserved = -after;
            after = 0.0;
        }
        if (record)
        {
            // The battery is linear in the segment until clipped, so the time below the reserve
            // is exact: before the crossing when charging, after it when discharging.
            double below = 0.0;
            if (m_reserveJ > 0.0)
            {
                if (rate > 0.0)
                {
                    below = std::clamp((m_reserveJ - energy) / rate, 0.0, dt);
                }
                else if (rate < 0.0)
                {
                    below = dt - std::clamp((energy - m_reserveJ) / -rate, 0.0, dt);
                }
                else
                {
                    below = energy < m_reserveJ ? dt : 0.0;
                }
            }
            double* r = m_records.data();
            r[ENERGY_END * steps + s] = after;
            r[SOLAR_IN * steps + s] += solar * dt;
            r[LOAD_OUT * steps + s] += load * dt;
            if (job != nullptr)
            {
                r[COMPUTE_BUSY * steps + s] += (load - m_baselineW) * dt;
                r[BUSY_TIME * steps + s] += dt;
                if (job->throttled)
                {
                    r[THROTTLED_TIME * steps + s] += dt;
                }
            }
            r[BELOW_RESERVE * steps + s] += below;
            r[SPILLED * steps + s] += spilled;
            r[UNSERVED * steps + s] += unserved;
            // Linear in the segment: its lowest point is one of its ends.
            r[ENERGY_MIN * steps + s] = std::min({r[ENERGY_MIN * steps + s], energy, after});
            m_minEnergy = std::min(m_minEnergy, after);
        }
        energy = after;
        t = next;
        if (s + 1 < steps && t >= m_stepTimes[s + 1])
        {
            ++s;
        }
    }
    return energy;
}

void
SatellitePower::Advance(Time t)
{
    const int64_t to = t.GetNanoSeconds();
    NS_ABORT_MSG_IF(m_stepTimes.empty(), "SatellitePower: SetSchedule first");
    if (to <= m_now)
    {
        return;
    }
    m_energy = Integrate(m_now, to, m_energy, m_jobs, true);
    m_now = to;
    while (!m_jobs.empty() && m_jobs.front().end <= m_now)
    {
        m_jobs.pop_front();
    }
}

void
SatellitePower::Finish(Time t)
{
    Advance(t);
}

int64_t
SatellitePower::RecoveryTime(int64_t from, double energy) const
{
    // After the last queued job the board is idle: the battery follows the sunlit schedule alone.
    const uint32_t steps = static_cast<uint32_t>(m_stepTimes.size());
    int64_t t = from;
    for (uint32_t s = StepAt(from);; ++s)
    {
        const int64_t end = s + 1 < steps ? m_stepTimes[s + 1] : std::numeric_limits<int64_t>::max();
        const double rate = (m_sunlit[s] ? m_solarW * m_chargeEfficiency : 0.0) -
                            (m_baselineW + m_idleW) / m_dischargeEfficiency;
        if (energy >= m_reserveJ)
        {
            return t;
        }
        if (rate > 0.0)
        {
            const double needNs = std::ceil((m_reserveJ - energy) / rate * 1e9);
            if (needNs < static_cast<double>(end - t))
            {
                return t + static_cast<int64_t>(needNs);
            }
        }
        if (s + 1 >= steps)
        {
            return -1;
        }
        energy = std::clamp(energy + rate * static_cast<double>(end - t) * 1e-9, 0.0, m_capacityJ);
        t = end;
    }
}

void
SatellitePower::Admit(Time now, Time& start, Time& duration)
{
    Advance(now);
    int64_t begin = start.GetNanoSeconds();
    const double atStart = Integrate(m_now, begin, m_energy, m_jobs, false);
    bool throttled = false;
    if (atStart < m_reserveJ)
    {
        ++m_protectedJobs;
        if (m_behaviour == THROTTLE)
        {
            throttled = true;
            duration = NanoSeconds(
                static_cast<int64_t>(std::llround(static_cast<double>(duration.GetNanoSeconds()) / m_throttleFactor)));
        }
        else
        {
            const int64_t back = RecoveryTime(begin, atStart);
            begin = back < 0 ? std::max(begin, NEVER_NS) : back;
            start = NanoSeconds(begin);
        }
        NS_LOG_LOGIC("below the reserve (" << atStart << " J) at " << start << ": job of " << duration
                                           << (throttled ? " throttled" : " held"));
    }
    m_jobs.push_back(Job{begin, begin + duration.GetNanoSeconds(), throttled});
}

double
SatellitePower::GetEnergy() const
{
    return m_energy;
}

double
SatellitePower::GetMinEnergy() const
{
    return m_minEnergy;
}

double
SatellitePower::GetInitialEnergy() const
{
    return m_initialJ;
}

uint64_t
SatellitePower::GetProtectedJobs() const
{
    return m_protectedJobs;
}

double
SatellitePower::GetRecord(Record which, uint32_t step) const
{
    NS_ABORT_MSG_IF(which >= RECORDS || step >= m_stepTimes.size(), "SatellitePower: no such record");
    return m_records[static_cast<size_t>(which) * m_stepTimes.size() + step];
}

} // namespace ns3
