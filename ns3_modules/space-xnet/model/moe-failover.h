/*
 * Space-XNet: fail-over between model replicas and re-placement of lost components (issue 24).
 */
#ifndef SPACE_XNET_MOE_FAILOVER_H
#define SPACE_XNET_MOE_FAILOVER_H

#include "ns3/data-rate.h"
#include "ns3/event-id.h"
#include "ns3/ipv4-address.h"
#include "ns3/moe-component-directory.h"
#include "ns3/moe-request-status.h"
#include "ns3/moe-traffic-plan.h"
#include "ns3/node.h"
#include "ns3/nstime.h"
#include "ns3/object.h"
#include "ns3/packet.h"
#include "ns3/ptr.h"
#include "ns3/socket.h"
#include "ns3/traced-callback.h"

#include <cstdint>
#include <vector>

namespace ns3
{

class MoeTokenApplication;

/**
 * @brief The service's recovery from satellite failures across its model replicas (faults.recovery).
 *
 * Every replica's MoeTrafficPlan holds a slot for every request of the run (global indices; under
 * REPLACE 1 + MaxRestarts: slot r for the first attempt, slot kR + r for the attempt after the k-th
 * re-placement that abandoned it); a
 * replica starts only the slots it owns, and this object starts the others when a request moves.
 *
 * A replica is detected broken DetectionDelay after the first failure of one of its components
 * (a heartbeat's worth of time; the failure times are the plan's). Then:
 * - FAILOVER: every request in flight on it (started, not ended) is abandoned there and resent,
 *   from its first token, to the next replica in index order that is not known broken and has not
 *   run it; requests that arrive at a broken replica go there at once. No such replica: the
 *   request fails (code NO_REPLICA).
 * - REPLACE: the replica pauses: its requests in flight are abandoned; each lost component's
 *   weights (its bytes) go from the nearest holder (another replica's copy) to a spare satellite
 *   as UDP packets paced at PaceRate; when all have arrived, the directory points at the spare's
 *   application, the plan marks the component restored, and the replica resumes: the abandoned
 *   requests restart from their first token (in their next slot), the ones that arrived meanwhile
 *   start. A request abandoned more than MaxRestarts times fails (code TWICE).
 *
 * The records (Copy) give every request its final replica and slot, how often it moved and the
 * time it lost: from the start of each abandoned attempt (or its arrival, when it waited) to the
 * start of the next.
 */
class MoeFailover : public Object
{
  public:
    /// The recovery policy.
    enum Policy : uint32_t
    {
        FAILOVER = 1,
        REPLACE = 2,
    };

    /// Failure codes of the records, beyond MoeRequestStatus's.
    enum Code : int64_t
    {
        /// Every other replica was broken or had already run the request.
        NO_REPLICA = 3,
        /// The request was abandoned by re-placements more than MaxRestarts times.
        TWICE = 4,
    };

    /// Fields of a request's record (Copy): final replica, final slot, fail-overs, re-placements,
    /// lost ns, final start ns, failure code (0 none), failure time ns (-1 none).
    static constexpr uint32_t FIELDS = 8;

    static TypeId GetTypeId();
    MoeFailover();

    /**
     * @brief Size the controller.
     * @param replicas model replicas
     * @param requests R, the run's requests
     * @param owner [R] the replica that request r arrives at
     */
    void Configure(uint32_t replicas, uint32_t requests, const int32_t* owner);
    /// Replica @p replica's plan, status and directory, and when its first component fails (-1: never).
    void SetReplica(uint32_t replica,
                    Ptr<MoeTrafficPlan> plan,
                    Ptr<MoeRequestStatus> status,
                    Ptr<MoeComponentDirectory> directory,
                    int64_t firstFailureNs);
    /**
     * @brief A re-placement (REPLACE): component (@p role, @p layer, @p index) of @p replica, lost
     * at @p failNs, moves to @p spare after @p bytes of weights came from @p source.
     */
    void AddReplacement(uint32_t replica,
                        uint32_t role,
                        uint32_t layer,
                        uint32_t index,
                        int64_t failNs,
                        Ptr<Node> source,
                        Ptr<Node> spare,
                        Ipv4Address spareAddress,
                        uint64_t bytes);
    /// Schedule the detections; call once, after the applications are installed.
    void Start();

    /// Whether @p replica starts slot @p slot at its start time.
    bool Owns(uint32_t replica, uint32_t slot) const;
    /// @name Called by the applications
    /// @{
    /// Layer 0's gateway of @p replica (@p spare: its application on a spare satellite, used once re-placed).
    void RegisterGateway(uint32_t replica, Ptr<MoeTokenApplication> gateway, bool spare);
    /// Slot @p slot's start time came at @p replica's layer-0 gateway.
    void Arrive(uint32_t replica, uint32_t slot);
    /// Slot @p slot ended its last token on @p replica.
    void Done(uint32_t replica, uint32_t slot);
    /// Slot @p slot failed on @p replica for a reason fail-over does not cover (a message lost).
    void Resolved(uint32_t replica, uint32_t slot);
    /// @}

    /// Requests that ended, failed, or failed for good: the run is over when all have.
    uint32_t GetResolved() const;
    /// The records: [R, FIELDS] int64 (see FIELDS).
    void Copy(int64_t* out, uint64_t count) const;
    /// Per re-placement: [J, 4] detection ns, weights whole ns (-1 never), packets, payload bytes.
    void CopyReplacements(int64_t* out, uint64_t count) const;
    uint64_t GetWeightPackets() const;

  protected:
    void DoDispose() override;

  private:
    struct Replica
    {
        Ptr<MoeTrafficPlan> plan;
        Ptr<MoeRequestStatus> status;
        Ptr<MoeComponentDirectory> directory;
        Ptr<MoeTokenApplication> gateway;
        Ptr<MoeTokenApplication> spareGateway;
        int64_t firstFailureNs{-1};
        bool broken{false};
        uint32_t paused{0};
        std::vector<uint32_t> abandoned;      //!< REPLACE: requests to restart when it resumes
        std::vector<uint32_t> waiting;        //!< REPLACE: requests that arrived while it was paused
        std::vector<uint8_t> used;            //!< [R] FAILOVER: the request ran here
    };

    struct Job
    {
        uint32_t replica;
        uint32_t role;
        uint32_t layer;
        uint32_t index;
        int64_t failNs;
        Ptr<Node> source;
        Ptr<Node> spare;
        Ipv4Address spareAddress;
        uint64_t bytes;
        Ptr<Socket> tx;
        Ptr<Socket> rx;
        uint64_t sent{0};
        uint64_t received{0};
        uint64_t packets{0};
        int64_t detectNs{-1};
        int64_t readyNs{-1};
    };

    struct Request
    {
        uint32_t replica{0};
        uint32_t slot{0};
        bool started{false};
        bool done{false};
        int64_t attemptNs{-1}; //!< start of the current attempt (or arrival, while waiting)
        int64_t arrivalNs{-1};
        int64_t failovers{0};
        int64_t replacements{0};
        int64_t lostNs{0};
        int64_t code{0};
        int64_t failNs{-1};
    };

    void Detect(uint32_t replica);
    void DetectJob(uint32_t job);
    /// Abandon @p replica's requests in flight; FAILOVER resends them, REPLACE keeps them.
    void Abandon(uint32_t replica);
    void Resend(uint32_t request);
    void Begin(uint32_t replica, uint32_t slot);
    void FailForGood(uint32_t request, int64_t code);
    void SendWeights(uint32_t job);
    void ReceiveWeights(uint32_t job, Ptr<Socket> socket);
    void Ready(uint32_t job);

    Policy m_policy;
    Time m_detectionDelay;
    DataRate m_paceRate;
    uint32_t m_segmentBytes;
    uint32_t m_overheadBytes;
    uint32_t m_maxRestarts;
    uint16_t m_weightPort;
    uint32_t m_requests;
    uint32_t m_resolved;
    uint64_t m_weightPackets;
    std::vector<Replica> m_replicas;
    std::vector<Request> m_state;
    std::vector<Job> m_jobs;
    TracedCallback<Ptr<const Packet>> m_weightTxTrace;
};

} // namespace ns3

#endif /* SPACE_XNET_MOE_FAILOVER_H */
