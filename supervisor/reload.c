/*
 * The reload round: read, validate, push, count, finish, report.  See
 * reload.h; the path of one revocation is in docs/architecture.md.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "supervisor/crl.h"
#include "supervisor/proc.h"
#include "supervisor/reload.h"
#include "supervisor/round.h"
#include "supervisor/state.h"
#include "supervisor/userfile.h"

struct reload {
	unsigned	 magic;
	bool		 active;	/* from reload_start() to the report */
	bool		 parsing;	/* crl.c's parser reads the CRL */
	bool		 again;		/* one of nobody's came meanwhile */
	bool		 crl_done;	/* the CRL part is over (or none) */
	int		 crl_rc;	/* -1: the CRL was refused */
	unsigned	 crl_unanswered;
	bool		 finish_due;	/* both over inside reload_start() */
	uint32_t	 generation;
	int64_t		 started_ms;	/* the request: the log line's time */
	struct round	*round;		/* the push, after the parse */
	unsigned	 acked;
	unsigned	 failed;
	unsigned	 sessions_closed;
	/*
	 * The api process takes the same pushes; it is no worker, so it is
	 * counted apart (the report's workers_* stay the workers').
	 */
	bool		 api_crl_acked;
	bool		 api_users_acked;
	unsigned	 api_closed;	/* HTTPS connections of revoked certs */
	char		 error[RELOAD_ERROR_MAX];
	struct reload_users users;	/* the users file's part */
	struct round	*users_round;
	reload_done_fn	 done;		/* the requester, or NULL */
	void		*arg;
};

static void	 reload_errf(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
reload_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The reload's state, made with the first reload. */
static struct reload *
reload_get(struct sup *sup)
{
	struct reload	*rl;

	if ((rl = sup->reload) != NULL)
		return (rl);
	if ((rl = calloc(1, sizeof(*rl))) == NULL) {
		log_warn("reload");
		return (NULL);
	}
	rl->magic = RELOAD_MAGIC;
	sup->reload = rl;
	return (rl);
}

/* The reload is over: tell its requester, if it still has one. */
static void
reload_report(struct sup *sup, struct reload *rl)
{
	struct reload_report	 rep;
	reload_done_fn		 done = rl->done;
	void			*arg = rl->arg;

	rl->active = false;
	rl->round = NULL;
	rl->users_round = NULL;
	rl->done = NULL;
	rl->arg = NULL;
	if (done == NULL)
		return;
	memset(&rep, 0, sizeof(rep));
	rep.crl = sup->cfg->crl_check != CRL_CHECK_OFF;
	rep.rc = rl->crl_rc;
	rep.ok = (!rep.crl || (rl->crl_rc == 0 && rl->failed == 0 &&
	    rl->crl_unanswered == 0)) && rl->users.rc == 0 &&
	    rl->users.failed == 0 && rl->users.unanswered == 0;
	rep.error = rl->error;
	rep.generation = sup->crl.info.generation;
	rep.acked = rl->acked;
	rep.failed = rl->failed;
	rep.unanswered = rl->crl_unanswered;
	rep.sessions_closed = rl->sessions_closed;
	rep.users = rl->users;
	done(sup, &rep, arg);
}

/* Both parts over: tell the requester. */
static void
reload_maybe_report(struct sup *sup, struct reload *rl)
{
	if (rl->active && rl->crl_done && rl->users.done)
		reload_report(sup, rl);
}

/* The CRL push is over: every worker asked answered or died, or the deadline. */
static void
reload_finish(struct sup *sup, struct reload *rl, unsigned unanswered)
{
	log_info("CRL generation %u active in %u of %u workers after %lld ms"
	    "%s%s; %u live sessions closed", rl->generation, rl->acked,
	    rl->acked + rl->failed + unanswered,
	    (long long)(clock_mono_ms() - rl->started_ms),
	    rl->error[0] ? "; " : "", rl->error, rl->sessions_closed);
	if (sup->api_run)
		log_info("CRL generation %u %s in the api process; %u HTTPS "
		    "connections closed", rl->generation, rl->api_crl_acked ?
		    "active" : "NOT active", rl->api_closed);
	/* The workers closed the revoked sessions: their positions go too. */
	state_sa_revoked(sup);
	rl->crl_done = true;
	rl->crl_unanswered = unanswered;
	reload_maybe_report(sup, rl);
}

static void
reload_pushed(struct sup *sup, const struct round *r, void *arg)
{
	struct reload	*rl = arg;

	if (rl->magic != RELOAD_MAGIC)
		fatalx("reload: bad magic");
	reload_finish(sup, rl, round_waiting(r) -
	    (round_waits_for(r, &sup->api) ? 1 : 0));
}

/* The users push is over. */
static void
reload_users_pushed(struct sup *sup, const struct round *r, void *arg)
{
	struct reload		*rl = arg;
	struct reload_users	*u;

	if (rl->magic != RELOAD_MAGIC)
		fatalx("reload: bad magic");
	u = &rl->users;
	u->unanswered = round_waiting(r) - (round_waits_for(r, &sup->api) ?
	    1 : 0);
	u->done = true;
	rl->users_round = NULL;
	log_info("users generation %u active in %u of %u workers after %lld "
	    "ms%s%s; %u live sessions changed groups, %u closed",
	    u->generation, u->acked, u->acked + u->failed + u->unanswered,
	    (long long)(clock_mono_ms() - rl->started_ms),
	    u->error[0] ? "; " : "", u->error, u->changed, u->closed);
	reload_maybe_report(sup, rl);
}

/*
 * Read the users file again and push it: the part of the reload that runs
 * whatever [tls] crl_check says.  Refused, the set in force stays.
 */
static void
reload_users_start(struct sup *sup, struct reload *rl)
{
	struct reload_users	*u = &rl->users;
	struct round		*r;
	int			 fd;

	memset(u, 0, sizeof(*u));
	u->generation = sup->users.generation;
	if (userfile_reload(sup, u->error, sizeof(u->error)) == -1) {
		u->rc = -1;
		u->done = true;
		return;
	}
	u->generation = sup->users.generation;
	if ((fd = userfile_memfd(sup)) == -1) {
		snprintf(u->error, sizeof(u->error), "cannot prepare the users "
		    "file for the workers");
		u->done = true;
		return;
	}
	if ((r = round_new(sup, IPC_MSG_USERS, u->generation, RELOAD_WAIT_MS,
	    reload_users_pushed, rl)) == NULL) {
		close(fd);
		snprintf(u->error, sizeof(u->error), "out of memory pushing "
		    "the users file to the workers");
		u->done = true;
		return;
	}
	/*
	 * Like the CRL: one not sent it is unanswered; one respawned has it.
	 * The api process gets the hashes when it enrolls (userfile.h).
	 */
	round_send_fds(sup, r, NULL, 0, fd, userfile_api_fd(sup, fd),
	    ROUND_UNSENT_WAIT);
	close(fd);
	rl->users_round = r;
}

int
reload_start(struct sup *sup, reload_done_fn done, void *arg, char *err,
    size_t errlen)
{
	struct reload	*rl;
	char		 why[512];

	if ((rl = reload_get(sup)) == NULL) {
		reload_errf(err, errlen, "out of memory");
		return (-1);
	}
	if (rl->active && done != NULL) {
		log_warnx("reload refused: generation %u is still being "
		    "pushed", rl->generation);
		reload_errf(err, errlen, "a reload is already in progress");
		return (-1);
	}
	if (rl->active) {
		/* The file may have changed since this one read it. */
		if (!rl->again)
			log_info("reload deferred: generation %u is still "
			    "being pushed", rl->generation);
		rl->again = true;
		return (0);
	}
	/* crl.c logs a failure and keeps it for takctl status. */
	if (sup->cfg->crl_check != CRL_CHECK_OFF &&
	    crl_reload(sup, why, sizeof(why)) == -1) {
		reload_errf(err, errlen, "%s", why);
		return (-1);
	}
	rl->active = true;
	rl->parsing = sup->cfg->crl_check != CRL_CHECK_OFF;
	rl->crl_done = !rl->parsing;
	rl->crl_rc = 0;
	rl->crl_unanswered = 0;
	rl->again = false;	/* this one reads the files as they are now */
	rl->generation = sup->crl.info.generation + 1;
	rl->started_ms = clock_mono_ms();
	rl->round = NULL;
	rl->acked = rl->failed = rl->sessions_closed = 0;
	rl->api_crl_acked = rl->api_users_acked = false;
	rl->api_closed = 0;
	rl->error[0] = '\0';
	rl->done = done;
	rl->arg = arg;
	reload_users_start(sup, rl);
	/* Nothing to wait for: the loop reports it (never from in here). */
	rl->finish_due = rl->crl_done && rl->users.done;
	return (0);
}

void
reload_detach(struct sup *sup, void *arg)
{
	struct reload	*rl = sup->reload;

	if (rl != NULL && arg != NULL && rl->arg == arg) {
		rl->done = NULL;
		rl->arg = NULL;
	}
}

void
reload_parsed(struct sup *sup, int rc, const char *err)
{
	struct reload	*rl = sup->reload;
	struct round	*r;
	int		 fd;

	if (rl == NULL || !rl->active || !rl->parsing)
		return;
	rl->parsing = false;
	if (rc == -1) {
		/* crl.c logged it; the generation in force stays. */
		snprintf(rl->error, sizeof(rl->error), "%s", err);
		rl->crl_rc = -1;
		rl->crl_done = true;
		reload_maybe_report(sup, rl);
		return;
	}
	rl->generation = sup->crl.info.generation;
	if ((fd = crl_memfd(sup)) == -1) {
		snprintf(rl->error, sizeof(rl->error), "cannot prepare the CRL "
		    "for the workers");
		reload_finish(sup, rl, 0);
		return;
	}
	if ((r = round_new(sup, IPC_MSG_CRL, rl->generation, RELOAD_WAIT_MS,
	    reload_pushed, rl)) == NULL) {
		close(fd);
		snprintf(rl->error, sizeof(rl->error), "out of memory pushing "
		    "the CRL to the workers");
		reload_finish(sup, rl, 0);
		return;
	}
	/*
	 * A worker not sent the CRL (its queue is full) stays on the old one:
	 * it counts as unanswered unless it dies meanwhile.  One not running
	 * is respawned with the generation in force.
	 */
	round_send(sup, r, NULL, 0, fd, ROUND_UNSENT_WAIT);
	close(fd);
	rl->round = r;
}

int
reload_worker_ack(struct sup *sup, struct proc_slot *slot,
    const struct ipc_msg *m)
{
	struct reload	*rl = sup->reload;
	struct round	*r;
	struct ipc_rd	 rd;
	uint32_t	 status, closed;
	char		 err[200], name[PROC_NAME_MAX];

	ipc_rd_init(&rd, m);
	status = ipc_get_u32(&rd);
	closed = ipc_get_u32(&rd);
	ipc_get_str(&rd, err, sizeof(err));
	if (ipc_rd_done(&rd) == -1)
		return (-1);
	if (status != 0)
		log_warnx("%s rejected CRL generation %u: %s",
		    proc_name(slot, name), m->hdr.gen_or_peer, err);
	/* An answer after the reload's deadline counts no more. */
	r = round_find(sup, IPC_MSG_CRL, m->hdr.gen_or_peer, slot);
	if (rl == NULL || r == NULL || r != rl->round)
		return (0);
	if (slot->id == TAKD_API_SLOT) {
		rl->api_crl_acked = status == 0;
		rl->api_closed += closed;
		round_answer(sup, r, slot);
		return (0);
	}
	if (status == 0) {
		rl->acked++;
		rl->sessions_closed += closed;
	} else {
		rl->failed++;
		snprintf(rl->error, sizeof(rl->error), "worker %u: %s",
		    slot->id, err);
	}
	round_answer(sup, r, slot);
	return (0);
}

int
reload_users_ack(struct sup *sup, struct proc_slot *slot,
    const struct ipc_msg *m)
{
	struct reload	*rl = sup->reload;
	struct round	*r;
	struct ipc_rd	 rd;
	uint32_t	 status, changed, closed;
	char		 err[200], name[PROC_NAME_MAX];

	ipc_rd_init(&rd, m);
	status = ipc_get_u32(&rd);
	changed = ipc_get_u32(&rd);
	closed = ipc_get_u32(&rd);
	ipc_get_str(&rd, err, sizeof(err));
	if (ipc_rd_done(&rd) == -1)
		return (-1);
	if (status != 0)
		log_warnx("%s rejected users generation %u: %s",
		    proc_name(slot, name), m->hdr.gen_or_peer, err);
	r = round_find(sup, IPC_MSG_USERS, m->hdr.gen_or_peer, slot);
	if (rl == NULL || r == NULL || r != rl->users_round)
		return (0);
	if (slot->id == TAKD_API_SLOT) {
		rl->api_users_acked = status == 0;
		round_answer(sup, r, slot);
		return (0);
	}
	if (status == 0) {
		rl->users.acked++;
		rl->users.changed += changed;
		rl->users.closed += closed;
	} else {
		rl->users.failed++;
		snprintf(rl->users.error, sizeof(rl->users.error),
		    "worker %u: %s", slot->id, err);
	}
	round_answer(sup, r, slot);
	return (0);
}

void
reload_tick(struct sup *sup)
{
	struct reload	*rl = sup->reload;

	if (rl != NULL && rl->active && rl->finish_due) {
		rl->finish_due = false;
		reload_report(sup, rl);
	}
	if (rl == NULL || rl->active || !rl->again || sup->stopping)
		return;
	rl->again = false;
	log_info("reloading the CRL again: it was asked for during the last "
	    "reload");
	(void)reload_start(sup, NULL, NULL, NULL, 0);
}

void
reload_free(struct sup *sup)
{
	struct reload	*rl = sup->reload;

	if (rl == NULL)
		return;
	round_cancel(sup, rl->round);
	round_cancel(sup, rl->users_round);
	rl->magic = 0;
	free(rl);
	sup->reload = NULL;
}
