/*
 * A worker process: one epoll loop over the listeners, the sessions, the
 * control channel to the supervisor and a signalfd.  See worker.h for the
 * entry point and docs/worker.md for the behaviour.
 *
 * Each turn of the loop: sleep until an event or the nearest timer (a
 * handshake deadline, the drain deadline, the end of an accept pause, a
 * delayed flush, or WORKER_TICK_MS), handle the events, run the conns that
 * yielded with work left, expire timers (and, once per WORKER_TICK_MS,
 * recheck the supervisor), write what was queued, and free what was closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "ipc/ipc.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "worker/auth.h"
#include "worker/conn.h"
#include "worker/fileshare.h"
#include "worker/groups.h"
#include "worker/registry.h"
#include "worker/revoke.h"
#include "worker/session.h"
#include "worker/worker.h"
#include "worker/fanout.h"
#include "worker/worker_int.h"

#define WORKER_EVENTS		64	/* epoll events per wakeup */


void
worker_stop(struct worker *w, int status, const char *why)
{
	if (w->state == WORKER_EXIT)
		return;
	if (status == 0)
		log_info("stopping: %s", why);
	else
		log_warnx("stopping with status %d: %s", status, why);
	accept_close_all(w);
	conn_close_all(w, true, why);
	w->state = WORKER_EXIT;
	w->exit_status = status;
}

void
worker_drain(struct worker *w, unsigned ms, const char *why)
{
	int64_t	 deadline = clock_mono_ms() + ms;

	if (w->state == WORKER_EXIT)
		return;
	if (w->state == WORKER_DRAIN) {
		/* A second request can only bring the deadline closer. */
		if (deadline < w->drain_deadline_ms)
			w->drain_deadline_ms = deadline;
		return;
	}
	log_info("draining (%s): %" PRIu64 " sessions, %" PRIu64 " handshaking, "
	    "deadline %u ms", why, w->cnt.sessions, w->cnt.handshaking, ms);
	w->state = WORKER_DRAIN;
	w->drain_deadline_ms = deadline;
	accept_close_all(w);
	conn_drain_all(w);
}

static int
worker_signals_init(struct worker *w)
{
	struct sigaction	 sa;
	struct epoll_event	 ev;
	sigset_t		 set;

	/*
	 * Ctrl-C in a foreground terminal reaches the whole process group:
	 * TERM and INT drain, the supervisor orchestrates the rest.  HUP (the
	 * CRL comes over the control channel) and USR1 (so does the log file)
	 * are the supervisor's business; PIPE becomes EPIPE.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGHUP, &sa, NULL) == -1 ||
	    sigaction(SIGPIPE, &sa, NULL) == -1 ||
	    sigaction(SIGUSR1, &sa, NULL) == -1) {
		log_warn("sigaction");
		return (-1);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
		log_warn("sigprocmask");
		return (-1);
	}
	if ((w->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		log_warn("signalfd");
		return (-1);
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = WORKER_EV_SIGNAL;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->sigfd, &ev) == -1) {
		log_warn("signalfd: epoll_ctl");
		return (-1);
	}
	return (0);
}

static void
worker_signal_read(struct worker *w)
{
	struct signalfd_siginfo	 si;
	char			 why[64];
	ssize_t			 n;

	while ((n = read(w->sigfd, &si, sizeof(si))) == (ssize_t)sizeof(si)) {
		snprintf(why, sizeof(why), "%s from pid %u",
		    si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM", si.ssi_pid);
		worker_drain(w, w->cfg->drain_timeout_ms, why);
	}
	if (n == -1 && errno != EAGAIN && errno != EINTR) {
		log_warn("signalfd: read");
		worker_stop(w, 1, "signalfd failed");
	}
}

static bool
worker_args_valid(const struct worker_args *args)
{
	return (args != NULL && args->cfg != NULL && args->ssl_ctx != NULL &&
	    args->ca != NULL && args->ctl_fd >= 0 &&
	    (args->n_tls_fds == 0 || args->tls_fds != NULL) &&
	    (args->n_tcp_fds == 0 || args->tcp_fds != NULL));
}

/* 0, or the exit status when the worker cannot run. */
static int
worker_init(struct worker *w, const struct worker_args *args)
{
	memset(w, 0, sizeof(*w));
	w->magic = WORKER_MAGIC;
	w->epfd = w->sigfd = w->spare_fd = -1;
	TAILQ_INIT(&w->handshaking);
	TAILQ_INIT(&w->live);
	w->rcv.stale = true;
	TAILQ_INIT(&w->ready);
	TAILQ_INIT(&w->dead);
	TAILQ_INIT(&w->outlist);
	TAILQ_INIT(&w->written);
	TAILQ_INIT(&w->sawait);
	if (!worker_args_valid(args)) {
		log_warnx("invalid worker arguments");
		return (2);
	}
	w->args = args;
	w->cfg = args->cfg;
	w->ctx = args->ssl_ctx;
	w->crl_generation = args->crl_generation;
	/* Our copy of the supervisor's since the fork: ours to free. */
	revoke_set_crl(w, args->crl);
	w->users = args->users;
	w->users_generation = args->users_generation;
	w->ppid = getppid();
	if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		log_warn("epoll_create1");
		return (1);
	}
	if (worker_signals_init(w) == -1)
		return (1);
	if ((w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("/dev/null");
		return (errno == ENOENT ? 2 : 1);
	}
	if (accept_init(w) == -1) {
		/* The supervisor would hand the same unusable socket again. */
		return (errno == EBADF || errno == ENOTSOCK ||
		    errno == EINVAL ? 2 : 1);
	}
	/* Before the control channel: PEER frames may be waiting on it. */
	if (fanout_init(w) == -1)
		return (1);
	if (ctl_init(w) == -1)
		return (1);
	if (registry_init(w) == -1)
		return (1);
	if ((w->groups = groups_new()) == NULL) {
		log_warn("group table");
		return (1);
	}
	if ((w->fileshare = fileshare_new(w->cfg, args->api_port)) == NULL) {
		log_warn("fileshare");
		return (1);
	}
	log_info("started: %zu listeners, CRL generation %u, max %u sessions",
	    w->n_acceptors, w->crl_generation, w->cfg->max_sessions);
	/* Should it fail, the loop stops at once with the status. */
	ctl_hello(w);
	return (0);
}

static void
worker_teardown(struct worker *w)
{
	conn_close_all(w, false, NULL);
	conn_reap(w);
	/* Every session gave its groups back. */
	groups_free(w->groups);
	receivers_free(w);
	w->groups = NULL;
	registry_free(w);
	fileshare_free(w->fileshare);
	w->fileshare = NULL;
	revoke_free(w);
	auth_free(w);
	accept_close_all(w);
	free(w->acceptors);
	w->acceptors = NULL;
	admit_free(&w->admit);
	ctl_free(w);
	fanout_free(w);
	if (w->sigfd != -1)
		close(w->sigfd);
	if (w->spare_fd != -1)
		close(w->spare_fd);
	if (w->epfd != -1)
		close(w->epfd);
	w->magic = 0;
}

static void
worker_dispatch(struct worker *w, const struct epoll_event *ev)
{
	const unsigned	*magic;

	if (ev->data.u64 == WORKER_EV_SIGNAL) {
		worker_signal_read(w);
		return;
	}
	if (ev->data.u64 == WORKER_EV_CTL) {
		ctl_handle(w, ev->events);
		return;
	}
	/* Every other registered object starts with its magic. */
	magic = ev->data.ptr;
	switch (*magic) {
	case ACCEPTOR_MAGIC:
		if (w->state == WORKER_RUN)
			accept_handle(w, ev->data.ptr);
		break;
	case CONN_MAGIC:
		conn_handle(w, ev->data.ptr, ev->events);
		break;
	case CONN_DEAD_MAGIC:
		break;		/* closed earlier in this batch */
	case FANOUT_PEER_MAGIC:
		fanout_handle(w, ev->data.ptr, ev->events);
		break;
	default:
		log_warnx("epoll event for an unknown object (magic %#x)",
		    *magic);
		worker_stop(w, 1, "internal error");
		break;
	}
}

/* Milliseconds until the nearest timer, at most WORKER_TICK_MS. */
static int
worker_timeout(const struct worker *w)
{
	const struct conn	*c;
	int64_t			 now = clock_mono_ms(), t = WORKER_TICK_MS;
	int64_t			 commit;

	if (!TAILQ_EMPTY(&w->ready) || !TAILQ_EMPTY(&w->outlist))
		return (0);
	/* The end of a delay may let waiting output go (or find none). */
	if ((c = TAILQ_FIRST(&w->written)) != NULL &&
	    c->flushed_ms + w->cfg->flush_delay_ms - now < t)
		t = c->flushed_ms + w->cfg->flush_delay_ms - now;
	if ((c = TAILQ_FIRST(&w->sawait)) != NULL && c->sa_due_ms - now < t)
		t = c->sa_due_ms - now;
	if ((c = TAILQ_FIRST(&w->handshaking)) != NULL && c->deadline_ms != 0 &&
	    c->deadline_ms - now < t)
		t = c->deadline_ms - now;
	if (w->state == WORKER_DRAIN && w->drain_deadline_ms - now < t)
		t = w->drain_deadline_ms - now;
	if (w->accept_paused && w->accept_resume_ms - now < t)
		t = w->accept_resume_ms - now;
	if (w->cnt.sessions > 0 && w->next_sweep_ms - now < t)
		t = w->next_sweep_ms - now;
	if ((commit = registry_commit_wait(w, now)) >= 0 && commit < t)
		t = commit;
	if ((commit = fanout_wait(w, now)) >= 0 && commit < t)
		t = commit;
	return (t < 0 ? 0 : (int)t);
}

/* The supervisor's death reparents us: its pid is no longer our parent. */
static void
worker_check_parent(struct worker *w)
{
	if (w->state != WORKER_EXIT && getppid() != w->ppid)
		worker_stop(w, 0, "supervisor gone");
}

static void
worker_timers(struct worker *w)
{
	int64_t	 now = clock_mono_ms();

	(void)conn_expire(w, now);
	session_sweep(w, now);
	/* Not every turn: getppid() is a system call, turns come by thousands. */
	if (now >= w->parent_check_ms) {
		w->parent_check_ms = now + WORKER_TICK_MS;
		worker_check_parent(w);
	}
	if (w->state == WORKER_DRAIN && now >= w->drain_deadline_ms) {
		if (w->cnt.sessions + w->cnt.handshaking > 0)
			log_info("drain deadline passed with %" PRIu64 " sessions "
			    "open",
			    w->cnt.sessions + w->cnt.handshaking);
		worker_stop(w, 0, "drain deadline passed");
	}
	if (w->state == WORKER_RUN && w->accept_paused &&
	    now >= w->accept_resume_ms)
		accept_resume(w);
}

static int
worker_loop(struct worker *w)
{
	struct epoll_event	 evs[WORKER_EVENTS];
	int			 i, n;

	for (;;) {
		if (w->state == WORKER_DRAIN &&
		    w->cnt.sessions + w->cnt.handshaking == 0)
			worker_stop(w, 0, "all sessions closed");
		if (w->state == WORKER_EXIT)
			break;
		ctl_update_interest(w);
		n = epoll_wait(w->epfd, evs, WORKER_EVENTS, worker_timeout(w));
		/* What is queued this turn waits from here (deliver.c). */
		w->turn_ms = clock_mono_ms();
		if (n == -1 && errno != EINTR) {
			log_warn("epoll_wait");
			worker_stop(w, 1, "event loop failed");
		}
		for (i = 0; i < n && w->state != WORKER_EXIT; i++)
			worker_dispatch(w, &evs[i]);
		if (w->state != WORKER_EXIT) {
			conn_run_ready(w);
			worker_timers(w);
		}
		/*
		 * Before sleeping: the output pass writes what this turn
		 * queued (and closes the doomed), the store commits its
		 * batched writes in one transaction, the mesh flushes.
		 */
		if (w->state != WORKER_EXIT) {
			conn_flush_pending(w);
			registry_commit_due(w, clock_mono_ms());
			fanout_before_sleep(w);
		}
		conn_reap(w);
	}
	conn_reap(w);
	return (w->exit_status);
}

int
worker_main(const struct worker_args *args)
{
	struct worker	 w;
	int		 status;

	if ((status = worker_init(&w, args)) == 0)
		status = worker_loop(&w);
	log_info("exiting with status %d: accepted %" PRIu64 ", handshakes "
	    "%" PRIu64 " ok, %" PRIu64 " failed, %" PRIu64 " timed out; "
	    "rejected %" PRIu64 " (max_sessions), %" PRIu64 " (descriptors)",
	    status, w.cnt.accepted, w.cnt.handshakes_ok,
	    w.cnt.handshakes_failed, w.cnt.handshake_timeouts,
	    w.cnt.rejected_full, w.cnt.rejected_emfile);
	if (w.cnt.events_in + w.cnt.events_out > 0)
		log_info("events: %" PRIu64 " in, %" PRIu64 " out, %" PRIu64
		    " pongs; dropped %" PRIu64 " malformed, %" PRIu64 " over "
		    "the rate, %" PRIu64 " without recipient, %" PRIu64
		    " superseded, %" PRIu64 " queued at close",
		    w.cnt.events_in, w.cnt.events_out, w.cnt.pongs,
		    w.cnt.drop_malformed, w.cnt.drop_rate,
		    w.cnt.drop_no_recipient, w.cnt.drop_superseded,
		    w.cnt.drop_closed);
	worker_teardown(&w);
	return (status);
}
