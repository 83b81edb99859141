/*
 * Channels seen from the supervisor (docs/groups.md, "Channels"): the api
 * process says a user turned some of its groups' halves off or on
 * (IPC_MSG_CHANNELS); the supervisor records the off set in LMDB, asks
 * every worker to give the user's live sessions their groups under it
 * (a round of IPC_MSG_CHANNELS), and answers the api with the workers'
 * word (IPC_MSG_CHANNELS_ACK), so that the HTTP reply comes once the
 * choice is in force.
 */
#ifndef TAKD_CHANPUSH_H
#define TAKD_CHANPUSH_H

#include "ipc/ipc.h"
#include "supervisor/sup.h"

/* A worker answers within this, or is counted as not answering. */
#define CHANPUSH_WAIT_MS	2000

/* IPC_MSG_CHANNELS from the api process.  -1: malformed (kill it). */
int	 chanpush_req(struct sup *, const struct ipc_msg *);
/* IPC_MSG_CHANNELS_ACK from a worker.  -1: malformed. */
int	 chanpush_ack(struct sup *, struct proc_slot *, const struct ipc_msg *);

#endif
