/*
 * What the admin console (docs/console.md) asks of the supervisor that
 * changes something:
 *
 * - close one client's session (IPC_MSG_DISCONNECT, relayed to the worker
 *   that holds it).  The api process names the session by its registry
 *   id; the supervisor checks the request, sends it to that worker only
 *   and relays the worker's answer, keeping no state.
 * - revoke a certificate (IPC_MSG_REVOKE).  Neither the api process nor
 *   the supervisor holds the CA key: the supervisor asks takd-signer over
 *   its channel (IPC_MSG_SIGN_REVOKE_REQ), which journals the revocation
 *   and answers with a CRL it signed; the supervisor keeps that as the
 *   last good copy (crl_fetch_copy_write) and installs it by the normal
 *   reload round, whose parser checks it like any CRL and takes it only
 *   when newer; the workers close the revoked sessions.  Then the api
 *   gets the outcome (IPC_MSG_REVOKE_ACK).  One revocation at a time,
 *   end to end; a few wait their turn.
 */
#ifndef TAKD_SUP_CONSOLE_SUP_H
#define TAKD_SUP_CONSOLE_SUP_H

#include "ipc/ipc.h"
#include "supervisor/sup.h"

/* IPC_MSG_DISCONNECT from the api process.  -1: malformed (kill it). */
int	 console_sup_disconnect(struct sup *, const struct ipc_msg *);
/* IPC_MSG_DISCONNECT_ACK from a worker.  -1: malformed. */
int	 console_sup_disconnect_ack(struct sup *, struct proc_slot *,
	    const struct ipc_msg *);

/* IPC_MSG_REVOKE from the api process.  -1: malformed (kill it). */
int	 console_sup_revoke(struct sup *, const struct ipc_msg *);
/* takd-signer's channel: into the epoll set after a spawn, out before. */
void	 console_sup_signer_attach(struct sup *);
void	 console_sup_signer_detach(struct sup *);
/* Its channel is readable (SUP_EV_SIGNER). */
void	 console_sup_signer_event(struct sup *, unsigned events);
/* Deadlines; ms to the next, or -1. */
int	 console_sup_tick(struct sup *);
void	 console_sup_free(struct sup *);

#endif
