/*
 * node.h — everything a caller of the node may use, in one include:
 * config, replica, model, workflow and the daemon's client calls. Each
 * sub-folder's own header is the real interface (docs/architecture.md).
 */
#ifndef FM_NODE_H
#define FM_NODE_H

#include "config/config.h"
#include "replica/replica.h"
#include "model/model.h"
#include "workflow/workflow.h"
#include "daemon/daemon.h"

#endif
