/*
 * The admin socket: `takctl` writes one command line ("status", "reload",
 * "clients", "metrics") and reads one reply back, a JSON document (the
 * Prometheus text for "metrics"); the supervisor closes the connection after
 * it.  Commands that need the workers (fresh counters, CRL
 * acknowledgements) wait for their replies, up to ADMIN_WAIT_MS.
 */
#ifndef TAKD_ADMIN_H
#define TAKD_ADMIN_H

#include <stdbool.h>

#include "ipc/ipc.h"
#include "supervisor/sup.h"

#define ADMIN_WAIT_MS	3000

/*
 * Create run_dir/takd.sock, mode 0600, owned by whoever started takd (root);
 * each connection's SO_PEERCRED must be uid 0 (or that user), at most
 * ADMIN_PER_UID_MAX per uid, and must send its command within
 * ADMIN_IDLE_MS of its accept (docs/security.md).
 */
int	 admin_open(struct sup *, char *err, size_t errlen);
void	 admin_close(struct sup *);
void	 admin_accept(struct sup *);
void	 admin_client_event(struct sup *, void *client, unsigned events);
/*
 * Expire requests whose workers did not answer, and the metrics clients'
 * timeouts (metrics_tick); ms to the next deadline or -1.
 */
int	 admin_tick(struct sup *);

/*
 * Start a CRL reload for takctl (client), or for SIGHUP and crl_watch
 * (client NULL).  While one is in flight, takctl's is refused and the
 * others run after it.
 */
void	 admin_reload(struct sup *, struct admin_client *);
/*
 * From crl.c: the CRL of the reload was read (rc 0: it is the generation
 * in force now, pushed to the workers here) or refused (rc -1, err: the
 * client is told).
 */
void	 admin_reload_parsed(struct sup *, int rc, const char *err);

/*
 * A round of IPC_MSG_STATUS_REQ to every running worker, for takctl status
 * and the metrics: done(sup, round, arg) runs from the loop once every
 * worker asked has answered or died, or wait_ms have passed, never from
 * inside admin_stats_start(); the round is freed after it.  The fresh
 * counters are in each slot's stats.  NULL when out of memory.
 */
typedef void	(*admin_stats_done)(struct sup *, const struct stats_round *,
		    void *arg);
struct stats_round *admin_stats_start(struct sup *, unsigned wait_ms,
	    admin_stats_done, void *arg);
/* The requester went away: done is never called.  NULL does nothing. */
void	 admin_stats_cancel(struct sup *, struct stats_round *);
/* Whether the worker in slot answered this round. */
bool	 admin_stats_answered(const struct stats_round *,
	    const struct proc_slot *);

/* Worker replies and departures, from proc.c. */
void	 admin_worker_status(struct sup *, struct proc_slot *, uint32_t req);
int	 admin_worker_crl_ack(struct sup *, struct proc_slot *,
	    const struct ipc_msg *);
void	 admin_worker_gone(struct sup *, struct proc_slot *);

#endif
