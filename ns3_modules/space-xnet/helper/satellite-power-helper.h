/*
 * Space-XNet: installs a SatellitePower on every satellite and reads their records back as arrays.
 */
#ifndef SPACE_XNET_SATELLITE_POWER_HELPER_H
#define SPACE_XNET_SATELLITE_POWER_HELPER_H

#include "ns3/double.h"
#include "ns3/enum.h"
#include "ns3/node-container.h"
#include "ns3/object-factory.h"
#include "ns3/satellite-power.h"

#include <string>
#include <vector>

namespace ns3
{

/**
 * @brief Creates one SatellitePower per satellite (the attributes given with Set), gives each its
 * column of the sunlit schedule, and aggregates it to its node: the MoeComputeQueue that
 * MoeTokenHelper creates on that node then consults it. Install before MoeTokenHelper::Install.
 *
 * The records come back for all satellites at once (Copy: [S, N] in one call), after Finish.
 */
class SatellitePowerHelper
{
  public:
    SatellitePowerHelper();

    /// Set an attribute of every SatellitePower installed afterwards.
    void Set(const std::string& name, const AttributeValue& value);

    /**
     * @brief Install on nodes 0 .. satellites - 1 of @p nodes.
     * @param stepTimesNs [S] snapshot start times, ns (the first 0)
     * @param sunlit C-contiguous [S, satellites] bool flags (1: sunlit)
     * @param count S * satellites
     */
    void Install(NodeContainer nodes, uint32_t satellites, const int64_t* stepTimesNs, uint32_t steps,
                 const uint8_t* sunlit, uint64_t count);

    /// Bring every battery up to @p t (the end of the run) and close the records.
    void Finish(Time t);

    /// Record @p which of every satellite: @p out is C-contiguous [S, N], @p count = S * N.
    void Copy(SatellitePower::Record which, double* out, uint64_t count) const;
    /// [N] the lowest energy each satellite's battery held, J.
    void CopyMinEnergy(double* out, uint64_t count) const;
    /// [N] jobs each satellite admitted below its reserve.
    void CopyProtectedJobs(int64_t* out, uint64_t count) const;

    /// The SatellitePower of satellite @p i.
    Ptr<SatellitePower> Get(uint32_t i) const;

  private:
    ObjectFactory m_factory;
    std::vector<Ptr<SatellitePower>> m_power; //!< [N]
    uint32_t m_steps;
};

} // namespace ns3

#endif /* SPACE_XNET_SATELLITE_POWER_HELPER_H */
