#ifndef TAKD_PROC_H
#define TAKD_PROC_H

#include "supervisor/sup.h"

#define PROC_BACKOFF_MIN_MS	100
#define PROC_BACKOFF_MAX_MS	30000
#define PROC_STABLE_MS		10000	/* a worker that lived this long resets backoff */
#define PROC_READY_WAIT_MS	10000	/* READY=1 waits this long for hellos */

/* "worker 3", "api process": a slot in log lines. */
#define PROC_NAME_MAX		24
const char *proc_name(const struct proc_slot *, char *buf);

/*
 * Fork the process of a slot: a worker, or the api process (sup->api,
 * supervisor/api_proc.c).  -1 when fork or socketpair failed.
 */
int	 proc_spawn(struct sup *, struct proc_slot *);
/* Reap every exited child; respawn or give up per slot.  From SIGCHLD. */
void	 proc_reap(struct sup *);
/* Respawn slots whose backoff has elapsed; returns ms until the next one or -1. */
int	 proc_respawn_due(struct sup *);
/* Ask every running worker to stop. */
void	 proc_shutdown_all(struct sup *);
/* Number of slots with a live process. */
unsigned proc_running(const struct sup *);
void	 proc_kill_all(struct sup *, int sig);
/* Send a control frame to a running worker; -1 when not sent. */
int	 proc_send(struct sup *, struct proc_slot *, uint32_t type, uint32_t gen,
	    const void *payload, size_t len, int pass_fd);
/* Handle frames from a worker's control channel. */
void	 proc_ctl_event(struct sup *, struct proc_slot *, unsigned events);
/*
 * Readiness at start (sd_notify READY=1; see proc.c for the rules): arm it
 * once the workers of the start are forked.  READY=1 goes when each of them
 * has said hello, or from PROC_READY_WAIT_MS on when at least one has.
 * proc_ready_tick() checks at that deadline and returns the ms until it, or
 * -1 when nothing is due.
 */
void	 proc_ready_arm(struct sup *);
int	 proc_ready_tick(struct sup *);
/*
 * In a child just forked: drop what it must not keep of the supervisor's
 * (the store, the ticket keys), block TERM and INT for its signalfd.
 */
void	 proc_child_prepare(struct sup *);
/* In a child: close every descriptor but the keep ones and stdio. */
void	 proc_close_inherited(const int *keep, size_t nkeep);
/* Describe a waitpid status ("exited with status 1", "killed by signal 9 (SIGKILL)"). */
void	 proc_describe_status(int status, char *buf, size_t len);

#endif
