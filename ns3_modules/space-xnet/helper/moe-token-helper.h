/*
 * Space-XNet: installs a model placement as MoeTokenApplications.
 */
#ifndef SPACE_XNET_MOE_TOKEN_HELPER_H
#define SPACE_XNET_MOE_TOKEN_HELPER_H

#include "ns3/application-container.h"
#include "ns3/moe-component-directory.h"
#include "ns3/moe-compute-queue.h"
#include "ns3/moe-failover.h"
#include "ns3/moe-request-status.h"
#include "ns3/moe-token-application.h"
#include "ns3/moe-traffic-plan.h"
#include "ns3/moe-traffic-recorder.h"
#include "ns3/node-container.h"

#include <map>

namespace ns3
{

/**
 * @brief Installs one model copy: a MoeTokenApplication per component of a placement, each given
 * the copy's plan, its MoeComponentDirectory (filled here: where every component listens), its
 * MoeRequestStatus and its satellite's MoeComputeQueue; and connects every application's trace
 * sources to the copy's MoeTrafficRecorder (GetRecorder).
 */
class MoeTokenHelper
{
  public:
    /// For the model copy of @p plan, which must be filled (Configure and the Set* calls) before.
    explicit MoeTokenHelper(Ptr<MoeTrafficPlan> plan);

    /// The records and counters of everything installed by this helper.
    Ptr<MoeTrafficRecorder> GetRecorder() const;
    /// Where the copy's components listen (filled by Install): a prefill replica's KV targets.
    Ptr<MoeComponentDirectory> GetDirectory() const;

    /**
     * @brief Install the model.
     * @param nodes all satellites, node i being satellite i
     * @param gatewayNodes [L] satellite of each layer's gateway
     * @param expertNodes C-contiguous [L, E] satellite of each expert
     * @param expertCount L * E
     * @return the applications, gateways first, then experts layer by layer
     */
    ApplicationContainer Install(NodeContainer nodes,
                                 const int32_t* gatewayNodes,
                                 const int32_t* expertNodes,
                                 uint64_t expertCount);

    /**
     * @brief Install one USER application per ground node (after SetUsers on the plan).
     * @param nodes every node of the network
     * @param userNodes [users] node of each user (a ground node), in the plan's user order
     * @param count number of users; must equal the plan's
     */
    ApplicationContainer InstallUsers(NodeContainer nodes, const int32_t* userNodes, uint32_t count);

    /**
     * @brief Install the helper shards of tensor-parallel gateways (after Install and after the
     * plan's SetShards). A shard may share its satellite with any other component: it then
     * listens on the next free port above the plan's Port.
     * @param nodes all satellites
     * @param shardNodes C-contiguous [L, H] satellite of each helper shard, H = the plan's
     *        GetMaxHelpers(); entries past a layer's GetNHelpers are ignored (-1)
     * @param shardCount L * H
     * @return the shard applications, layer by layer
     */
    ApplicationContainer InstallShards(NodeContainer nodes, const int32_t* shardNodes, uint64_t shardCount);

    /**
     * @brief Install the copies of experts (expert replicas; after Install and the plan's SetReplicas).
     * @param replicaNodes C-contiguous [L, E, R] satellite of copy r + 1 of each expert, -1 for none,
     *        R = the plan's GetMaxReplicas()
     * @param replicaCount L * E * R
     */
    ApplicationContainer InstallReplicas(NodeContainer nodes, const int32_t* replicaNodes, uint64_t replicaCount);

    /**
     * @brief Recovery across model replicas (faults.recovery): the applications installed after
     * this call belong to replica @p replica of @p failover. Call before Install.
     */
    void SetFailover(Ptr<MoeFailover> failover, uint32_t replica);
    /// Which requests of the copy have failed (shared by its components).
    Ptr<MoeRequestStatus> GetStatus() const;
    /**
     * @brief Install a dormant application for component (@p role, @p layer, @p index) on spare
     * satellite @p spareNode (re-placement; after Install): it listens on the component's port and
     * gets messages once the MoeFailover points the directory at it.
     */
    Ptr<MoeTokenApplication> InstallSpare(NodeContainer nodes, uint32_t role, uint32_t layer, uint32_t index,
                                          int32_t spareNode);

  private:
    /// Create, configure, connect and add one application (@p copy: an expert's replica, or 0),
    /// and enter it in the directory.
    Ptr<MoeTokenApplication> InstallOne(Ptr<Node> node, MoeRole role, uint32_t layer, uint32_t index,
                                        uint32_t copy = 0);

    Ptr<MoeTrafficPlan> m_plan;
    Ptr<MoeComponentDirectory> m_directory;
    Ptr<MoeRequestStatus> m_status;
    Ptr<MoeTrafficRecorder> m_recorder;
    std::map<uint32_t, Ptr<MoeComputeQueue>> m_computeQueues; //!< node id -> its compute queue
    std::map<uint32_t, uint16_t> m_appsOnNode; //!< node id -> MoE applications installed on it
    Ptr<MoeFailover> m_failover; //!< SetFailover's; null: none
    uint32_t m_replica{0};
};

} // namespace ns3

#endif /* SPACE_XNET_MOE_TOKEN_HELPER_H */
