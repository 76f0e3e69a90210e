/*
 * Space-XNet: every public header of the module, for cppyy and for users' programs.
 */
#ifndef SPACE_XNET_MODULE_H
#define SPACE_XNET_MODULE_H

#include "model/forwarding-table.h"
#include "model/forwarding-table-routing.h"
#include "model/lazy-shortest-paths.h"
#include "model/link-state-error-model.h"
#include "model/moe-token-application.h"
#include "model/moe-token-header.h"
#include "model/moe-traffic-plan.h"
#include "model/shortest-path-trees.h"
#include "model/topology-updater.h"
#include "helper/isl-network-helper.h"
#include "helper/moe-token-helper.h"

#endif /* SPACE_XNET_MODULE_H */
