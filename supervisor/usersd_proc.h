/*
 * The supervisor's side of takd-usersd (usersd/usersd.c; docs/security.md
 * "Console: who changes the users file"): the helper that writes the
 * users file for the admin console.
 *
 * Forked and exec'ed once, as root, before the privilege drop (it keeps
 * uid 0 without any capability: it drops them itself before it reads a
 * byte); never respawned, since the supervisor is no longer root after
 * the drop.  Its only channel is a SOCK_SEQPACKET pair whose other end the
 * supervisor keeps (close-on-exec, closed in every forked process:
 * usersd_proc_child_close()).
 *
 * A change: the api process sends IPC_MSG_USER_EDIT; the supervisor
 * checks its framing only and relays it; takd-usersd decides, writes and
 * answers (IPC_MSG_USER_EDIT_ACK); after a change the supervisor runs the
 * normal reload of the users file (sessions of a deleted user close,
 * changed groups take effect), then answers the api.  One change at a
 * time; another meanwhile is answered "busy".
 */
#ifndef TAKD_SUP_USERSD_PROC_H
#define TAKD_SUP_USERSD_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "ipc/ipc.h"
#include "supervisor/sup.h"

struct json;

/*
 * As root, before the drop, after the signal set-up and daemonize():
 * start takd-usersd (next to takd) when the console runs; gid is the
 * service group the users file is given (-1: not started as root).  A
 * helper that cannot start is logged: user changes answer 503.
 */
void	 usersd_proc_start(struct sup *, gid_t gid);
/* In a forked child: the channel is the supervisor's only. */
void	 usersd_proc_child_close(struct sup *);
/* From the SIGCHLD reaping: 1 when pid was takd-usersd. */
int	 usersd_proc_exited(struct sup *, pid_t pid, int status);
/* Its channel is readable or writable (SUP_EV_USERSD). */
void	 usersd_proc_event(struct sup *, unsigned events);
/* IPC_MSG_USER_EDIT from the api process.  -1: malformed (kill it). */
int	 usersd_proc_request(struct sup *, const struct ipc_msg *);
/* The log file was reopened: hand it the new one. */
void	 usersd_proc_log_fd(struct sup *);
/* Deadlines; ms to the next, or -1. */
int	 usersd_proc_tick(struct sup *);
/* takd stops: the channel closes, the helper exits. */
void	 usersd_proc_free(struct sup *);
/* "usersd": its state for takctl status. */
void	 usersd_proc_json(const struct sup *, struct json *);

#endif
