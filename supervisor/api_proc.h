/*
 * The api process seen from the supervisor (docs/api.md, "Process"): its
 * listeners, bound here as root before the privilege drop and handed to
 * it at every fork; its slot (sup->api), spawned, reaped and respawned by
 * proc.c like a worker's and asked by the same rounds (status, CRL and
 * users pushes); and the Prometheus text it asks for when /metrics is
 * scraped, which the supervisor makes (metrics_text.c), since the
 * counters of every process meet here.
 */
#ifndef TAKD_API_PROC_H
#define TAKD_API_PROC_H

#include <stdbool.h>
#include <stdint.h>

#include "supervisor/sup.h"

/*
 * As root: whether the api process runs ([api] enabled, or [metrics]
 * listen), and its listeners bound.  -1 with err (an address in use).
 */
int	 api_proc_open(struct sup *, char *err, size_t errlen);
/* Whether cfg has the api process serve enrollment ([api] enroll_listen). */
bool	 api_proc_enrolls(const struct config *);
/* The console's login form checks passwords too (docs/console.md). */
bool	 api_proc_console_login(const struct config *);
/* The console is on: it may revoke through takd-signer (console_sup.c). */
bool	 api_proc_console_revokes(const struct config *);
/*
 * As root, before the drop, when it enrolls: open what takd-signer needs
 * (signer_prepare()).  Exits 78 (config) when it cannot: enrollment would
 * answer nothing but 503.  With the console on, also what revocation
 * needs; when that cannot be (no CA key: a PKI not takctl's), the console
 * says so and does not revoke, and takd starts.
 */
void	 api_proc_signer_prepare(struct sup *);
/*
 * proc_spawn() of the api process: a fresh signer before the fork
 * (sup->signer_fd its end, or -1), that end closed after it.
 */
void	 api_proc_signer_fork(struct sup *);
void	 api_proc_signer_forked(struct sup *);
/*
 * From the loop: a signer that died is started again once its backoff
 * passed and its channel sent to the running api (IPC_MSG_SIGNER_FD).  ms
 * to the next respawn, or -1.
 */
int	 api_proc_signer_tick(struct sup *);
/* A new signer for the running api now (a reopened log file); else stop. */
void	 api_proc_signer_renew(struct sup *);
/* After the workers: fork it (fatal when it cannot be). */
void	 api_proc_start(struct sup *);
/* In the child proc_spawn() forked for sup->api: never returns. */
void	 api_proc_child(struct sup *, int ctl_fd, pid_t parent)
	    __attribute__((noreturn));
/* IPC_MSG_METRICS_REQ id: a status round, then IPC_MSG_METRICS_REP. */
/* status_json: takctl status's JSON (the console's health), not /metrics. */
void	 api_proc_metrics_req(struct sup *, uint32_t id, bool status_json);
/* The api process gave up (exit 2): nobody would accept on them. */
void	 api_proc_close_listeners(struct sup *);
/* The i-th of its listeners still open, NULL past the last (status). */
const struct listener *api_proc_listener(const struct sup *, size_t i);

#endif
