/*
 * The admin socket: `takctl` writes one command line ("status", "reload",
 * "clients", "metrics") and reads one reply back, a JSON document (the
 * Prometheus text for "metrics"); the supervisor closes the connection after
 * it.  Commands that need the workers wait for a round of their replies:
 * fresh counters (a status round, up to ADMIN_WAIT_MS) or the CRL's
 * acknowledgements (a reload, reload.h).
 */
#ifndef TAKD_ADMIN_H
#define TAKD_ADMIN_H

#include <stdbool.h>

#include "supervisor/round.h"
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
 * Close the clients idle past their deadline (not those waiting on a round
 * or a reload: those have their own), and the metrics clients' timeouts
 * (metrics_tick); ms to the next deadline or -1.
 */
int	 admin_tick(struct sup *);
struct json;
struct round;
/* takctl status's JSON after round r (also the console's health). */
void	 admin_json_status(const struct sup *, const struct round *,
	    struct json *);

/*
 * A status round (round.h) of IPC_MSG_STATUS_REQ to every running worker,
 * for takctl status and the metrics: done runs once every worker asked has
 * answered or died, or wait_ms have passed; the fresh counters are in each
 * slot's stats (proc.c), round_answered() says whose are.  Cancel it with
 * round_cancel().  NULL when out of memory.
 */
struct round	*admin_stats_start(struct sup *, unsigned wait_ms,
		    round_done_fn, void *arg);

#endif
