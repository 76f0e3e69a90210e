/*
 * Space-XNet: installs a model placement as MoeTokenApplications.
 */
#ifndef SPACE_XNET_MOE_TOKEN_HELPER_H
#define SPACE_XNET_MOE_TOKEN_HELPER_H

#include "moe-token-application.h"
#include "moe-traffic-plan.h"

#include "ns3/application-container.h"
#include "ns3/node-container.h"

namespace ns3
{

/**
 * @brief Puts one MoeTokenApplication on each satellite of a placement, tells the plan where
 * every component lives, and connects the plan's counters (packets sent and received,
 * retransmissions per token, duplicates) to each application's Tx, Rx, Retransmit and Duplicate
 * trace sources.
 */
class MoeTokenHelper
{
  public:
    explicit MoeTokenHelper(Ptr<MoeTrafficPlan> plan);

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

  private:
    /// One application (role: MoeTokenApplication::Role) on @p n, its trace sources connected to the plan.
    Ptr<MoeTokenApplication> InstallOne(Ptr<Node> n, uint32_t role, uint32_t layer, uint32_t expert);

    Ptr<MoeTrafficPlan> m_plan;
};

} // namespace ns3

#endif /* SPACE_XNET_MOE_TOKEN_HELPER_H */
