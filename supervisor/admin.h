/*
 * The admin socket: `takctl` writes one command line ("status", "reload") and
 * reads one JSON document back; the supervisor closes the connection after it.
 * Commands that need the workers (fresh counters, CRL acknowledgements) wait
 * for their replies, up to ADMIN_WAIT_MS.
 */
#ifndef TAKD_ADMIN_H
#define TAKD_ADMIN_H

#include "ipc/ipc.h"
#include "supervisor/sup.h"

#define ADMIN_WAIT_MS	3000

/* Create run_dir/takd.sock (mode 0660, owned by uid:gid when root). */
int	 admin_open(struct sup *, uid_t, gid_t, char *err, size_t errlen);
void	 admin_close(struct sup *);
void	 admin_accept(struct sup *);
void	 admin_client_event(struct sup *, void *client, unsigned events);
/* Expire requests whose workers did not answer; ms to the next deadline or -1. */
int	 admin_tick(struct sup *);

/* Start a CRL reload (SIGHUP or takctl); client may be NULL. */
void	 admin_reload(struct sup *, struct admin_client *);

/* Worker replies and departures, from proc.c. */
void	 admin_worker_status(struct sup *, struct proc_slot *, uint32_t req);
int	 admin_worker_crl_ack(struct sup *, struct proc_slot *,
	    const struct ipc_msg *);
void	 admin_worker_gone(struct sup *, struct proc_slot *);

#endif
