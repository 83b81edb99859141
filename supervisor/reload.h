/*
 * The reload round: what SIGHUP, `takctl reload` (and `takctl revoke`)
 * and [tls] crl_watch start.  The CRL file is read and verified by crl.c's
 * parser process while the loop goes on; a valid CRL becomes the next
 * generation, whose revoked-serial set is pushed to every running worker
 * (IPC_MSG_CRL, a round: round.h); each worker installs it, closes the live
 * sessions it revokes and acknowledges (IPC_MSG_CRL_ACK, worker/revoke.c).
 * The round ends at the last answer or after RELOAD_WAIT_MS, with one log
 * line.  Beside it, and whatever [tls] crl_check says, the users file is
 * read again (userfile.c); a valid one is the next users generation,
 * pushed the same way (IPC_MSG_USERS, worker/auth.c), an invalid one keeps
 * the set in force.  The requester, if any, gets one report of both.
 *
 * One reload at a time.  A requester's reload during another is refused
 * (it is told so and may retry); one of nobody's (SIGHUP, crl_watch), which
 * nobody would be told about, runs once the one in flight is over, so that
 * a CRL replaced meanwhile is never missed.
 */
#ifndef TAKD_RELOAD_H
#define TAKD_RELOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "ipc/ipc.h"
#include "supervisor/sup.h"

#define RELOAD_MAGIC	0x524c4f44u	/* "RLOD" */
/* For the workers' acknowledgements, from the end of the parse. */
#define RELOAD_WAIT_MS	3000
#define RELOAD_ERROR_MAX 512

/* The users file's part of a reload (userfile.c, IPC_MSG_USERS). */
struct reload_users {
	bool		 done;
	/* -1: the file was refused and the set in force stays (error). */
	int		 rc;
	uint32_t	 generation;	/* in force in the supervisor */
	unsigned	 acked;
	unsigned	 failed;
	unsigned	 unanswered;
	unsigned	 changed;	/* live sessions whose groups changed */
	unsigned	 closed;	/* live sessions of deleted users */
	char		 error[RELOAD_ERROR_MAX];
};

/* How a reload ended, for its requester. */
struct reload_report {
	bool		 crl;		/* a CRL part ([tls] crl_check on) */
	/*
	 * -1: the CRL was refused (or could not be read) and the generation
	 * in force stays; error says why and nothing was pushed.  0: the new
	 * generation is in force in the supervisor and was pushed.
	 */
	int		 rc;
	bool		 ok;		/* rc 0 and every worker asked took it */
	const char	*error;		/* "" when none: the last failure */
	uint32_t	 generation;	/* in force in the supervisor */
	unsigned	 acked;		/* workers that installed it */
	unsigned	 failed;	/* workers that refused it */
	unsigned	 unanswered;	/* asked, alive, silent at the deadline */
	unsigned	 sessions_closed; /* revoked live sessions, all workers */
	struct reload_users users;
};

typedef void	(*reload_done_fn)(struct sup *, const struct reload_report *,
		    void *arg);

/*
 * Start a reload for a requester (done, arg), or for nobody (done NULL).
 * 0: started (or, for nobody, due after the one in flight); done runs once
 * from the loop when it is over, never from inside reload_start().  -1
 * with err: not started (one is in flight already, the CRL parser could
 * not be started): done will not run.  err may be NULL.
 */
int	 reload_start(struct sup *, reload_done_fn, void *arg, char *err,
	    size_t errlen);
/* The requester arg went away: the reload goes on, nobody is told. */
void	 reload_detach(struct sup *, void *arg);
/*
 * From crl.c: the CRL of the reload was read.  rc 0: it is the generation
 * in force now, pushed to the workers here; rc -1: refused, with err.
 */
void	 reload_parsed(struct sup *, int rc, const char *err);
/* IPC_MSG_CRL_ACK from slot's worker (proc.c); -1: malformed. */
int	 reload_worker_ack(struct sup *, struct proc_slot *,
	    const struct ipc_msg *);
/* IPC_MSG_USERS_ACK from slot's worker (proc.c); -1: malformed. */
int	 reload_users_ack(struct sup *, struct proc_slot *,
	    const struct ipc_msg *);
/*
 * From the loop, after round_tick(): run the reload of nobody asked for
 * while another was in flight, once that one is over (not while stopping).
 */
void	 reload_tick(struct sup *);
void	 reload_free(struct sup *);

#endif
