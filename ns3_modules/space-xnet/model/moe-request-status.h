/*
 * Space-XNet: which requests of a model copy have failed, as its components see it.
 */
#ifndef SPACE_XNET_MOE_REQUEST_STATUS_H
#define SPACE_XNET_MOE_REQUEST_STATUS_H

#include "ns3/object.h"

#include <cstdint>
#include <vector>

namespace ns3
{

/**
 * @brief The run-time state the components of a model copy share: a request that failed
 * somewhere stops everywhere (no more compute, no more messages for it).
 *
 * The first failure of a request wins; MoeTokenApplication fires its RequestFailed trace then, with
 * the reason, for the MoeTrafficRecorder.
 */
class MoeRequestStatus : public Object
{
  public:
    /// Why a request failed (the code of a MoeTrafficRecorder failure record).
    enum FailureCode : int64_t
    {
        NOT_FAILED = 0,
        /// A message was not acknowledged after MaxRetries retransmissions.
        MESSAGE_LOST = 1,
        /// A component the token needed sat on a satellite that had failed.
        COMPONENT_LOST = 2,
    };

    static TypeId GetTypeId();
    MoeRequestStatus();

    /// Size for @p requests requests, none failed.
    void Configure(uint32_t requests);
    bool IsFailed(uint32_t request) const;
    /// Mark @p request failed: true if it had not failed before (this failure is the one that counts).
    bool MarkFailed(uint32_t request);

  private:
    std::vector<uint8_t> m_failed; //!< [R] 1 once failed
};

} // namespace ns3

#endif /* SPACE_XNET_MOE_REQUEST_STATUS_H */
