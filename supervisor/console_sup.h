/*
 * What the admin console (docs/console.md) asks of the supervisor that
 * changes something: close one client's session (IPC_MSG_DISCONNECT,
 * relayed to the worker that holds it).  The api process names the
 * session by its registry id; the supervisor checks the request, sends it
 * to that worker only and relays the worker's answer, keeping no state.
 */
#ifndef TAKD_SUP_CONSOLE_OPS_H
#define TAKD_SUP_CONSOLE_OPS_H

#include "ipc/ipc.h"
#include "supervisor/sup.h"

/* IPC_MSG_DISCONNECT from the api process.  -1: malformed (kill it). */
int	 console_ops_disconnect(struct sup *, const struct ipc_msg *);
/* IPC_MSG_DISCONNECT_ACK from a worker.  -1: malformed. */
int	 console_ops_disconnect_ack(struct sup *, struct proc_slot *,
	    const struct ipc_msg *);

#endif
