/*
 * The admin socket: its connections, their commands and the replies; what
 * needs the workers is asked of a round (round.h) or a reload (reload.h).
 * See admin.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/counters.h"
#include "shared/grouplist.h"
#include "shared/json.h"
#include "shared/log.h"
#include "shared/store.h"
#include "shared/trust.h"
#include "shared/users.h"
#include "supervisor/admin.h"
#include "supervisor/api_proc.h"
#include "supervisor/cluster_proc.h"
#include "supervisor/crl.h"
#include "supervisor/crl_fetch.h"
#include "supervisor/expiry.h"
#include "supervisor/ocsp.h"
#include "supervisor/listen.h"
#include "supervisor/metrics.h"
#include "supervisor/proc.h"
#include "supervisor/reload.h"
#include "supervisor/round.h"
#include "supervisor/usersd_proc.h"

#define ADMIN_LINE_MAX	256
#define ADMIN_MAX_CLIENTS 32
#define ADMIN_PER_UID_MAX 8	/* connections of one uid */
#define ADMIN_ROOT_RESERVE 1	/* of ADMIN_MAX_CLIENTS, for uid 0 only */
#define ADMIN_IDLE_MS	2000	/* for a whole command line, from accept */

enum admin_req {
	REQ_NONE,
	REQ_STATUS,
	REQ_METRICS,
	REQ_RELOAD
};

struct admin_client {
	struct admin_client *next;
	struct sup_ev	 ev;
	int		 fd;
	uid_t		 uid;		/* SO_PEERCRED at accept */
	pid_t		 pid;
	bool		 reading;	/* no whole command line yet */
	int64_t		 accepted_ms;
	char		 in[ADMIN_LINE_MAX];
	size_t		 inlen;
	struct json	 out;
	struct metrics_buf text;	/* a reply that is not JSON */
	size_t		 outoff;
	enum admin_req	 req;
	struct round	*round;		/* REQ_STATUS, REQ_METRICS */
	int64_t		 deadline_ms;
};

/* The admin socket out of descriptors: see listen.h. */
static struct listen_pause admin_pause;
static struct log_ratelimit admin_rl;	/* what a local peer can provoke */

static void	 admin_client_free(struct sup *, struct admin_client *);

struct round *
admin_stats_start(struct sup *sup, unsigned wait_ms, round_done_fn done,
    void *arg)
{
	struct round	*r;

	if ((r = round_new(sup, IPC_MSG_STATUS_REQ, 0, wait_ms, done,
	    arg)) == NULL)
		return (NULL);
	/* proc.c puts each STATUS_REP's counters in its slot's stats. */
	round_send(sup, r, NULL, 0, -1, ROUND_UNSENT_SKIP);
	return (r);
}

/*
 * run_dir/takd.sock, mode 0600: the socket file is the first gate, made by
 * bind() with its mode already right (the umask), owned by whoever started
 * takd, never chowned; SO_PEERCRED on each connection is the second
 * (admin_peer_allowed).  run_dir is root's: nobody else can put anything
 * in the socket's place.
 */
int
admin_open(struct sup *sup, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct epoll_event	 ev;
	mode_t			 old;
	int			 fd, probe;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s",
	    sup->cfg->run_dir, TAKD_ADMIN_SOCKET) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "admin socket path too long: %s/%s",
		    sup->cfg->run_dir, TAKD_ADMIN_SOCKET);
		return (-1);
	}
	/* A socket that answers belongs to a running takd; a dead one is stale. */
	if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1) {
		if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(probe);
			snprintf(err, errlen, "another takd is running (%s "
			    "answers)", sun.sun_path);
			return (-1);
		}
		close(probe);
	}
	if (unlinkat(sup->run_dirfd, TAKD_ADMIN_SOCKET, 0) == -1 &&
	    errno != ENOENT) {
		snprintf(err, errlen, "admin socket %s: cannot remove the stale "
		    "one: %s", sun.sun_path, strerror(errno));
		return (-1);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "admin socket: %s", strerror(errno));
		return (-1);
	}
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 16) == -1) {
		umask(old);
		snprintf(err, errlen, "admin socket %s: %s", sun.sun_path,
		    strerror(errno));
		close(fd);
		return (-1);
	}
	umask(old);
	sup->admin_fd = fd;
	sup->admin_ev.kind = SUP_EV_ADMIN_LISTEN;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &sup->admin_ev;
	if (epoll_ctl(sup->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		snprintf(err, errlen, "epoll_ctl admin: %s", strerror(errno));
		return (-1);
	}
	return (0);
}

void
admin_close(struct sup *sup)
{
	while (sup->admin_clients != NULL)
		admin_client_free(sup, sup->admin_clients);
	if (sup->admin_fd >= 0)
		close(sup->admin_fd);
	sup->admin_fd = -1;
}

/*
 * takctl is root's: uid 0 may do everything, the service user nothing (a
 * worker taken over must not reload the CRL or list the clients).  A takd
 * not started as root (a developer's) also serves the user who started it.
 */
static bool
admin_peer_allowed(uid_t uid)
{
	return (uid == 0 || uid == trust_get_owner());
}

static unsigned
admin_count(const struct sup *sup, long uid)
{
	struct admin_client	*c;
	unsigned		 n = 0;

	for (c = sup->admin_clients; c != NULL; c = c->next)
		if (uid == -1 || c->uid == (uid_t)uid)
			n++;
	return (n);
}

static unsigned
admin_count_pid(const struct sup *sup, pid_t pid)
{
	struct admin_client	*c;
	unsigned		 n = 0;

	for (c = sup->admin_clients; c != NULL; c = c->next)
		if (c->pid == pid)
			n++;
	return (n);
}

/*
 * The connection to close for a newcomer: one still sending its command (of
 * uid, or of anyone: -1), of the process that holds the most connections,
 * its oldest.  A process that keeps connections open (or keeps opening
 * them) thus only ever loses its own, and a takctl, one connection sending
 * its command at once, is never the one closed.
 */
static struct admin_client *
admin_victim(const struct sup *sup, long uid)
{
	struct admin_client	*c, *best = NULL;
	unsigned		 n, most = 0;

	for (c = sup->admin_clients; c != NULL; c = c->next) {
		if (!c->reading || (uid != -1 && c->uid != (uid_t)uid))
			continue;
		n = admin_count_pid(sup, c->pid);
		if (n > most || (n == most && c->accepted_ms <
		    best->accepted_ms)) {
			most = n;
			best = c;
		}
	}
	return (best);
}

/*
 * Room for one more connection of uid.  Idle ones (no whole command yet)
 * are closed rather than the newcomer refused (admin_victim): one of uid
 * when it holds ADMIN_PER_UID_MAX, else one of anyone when all slots are
 * taken.  The last slot is root's alone, so that `takctl status` as root
 * always gets in.  -1: every slot is busy with a command in progress.
 */
static int
admin_make_room(struct sup *sup, uid_t uid)
{
	struct admin_client	*victim;
	unsigned		 limit;

	limit = ADMIN_MAX_CLIENTS - (uid == 0 ? 0 : ADMIN_ROOT_RESERVE);
	if (admin_count(sup, uid) >= ADMIN_PER_UID_MAX)
		victim = admin_victim(sup, uid);
	else if (admin_count(sup, -1) >= limit)
		victim = admin_victim(sup, -1);
	else
		return (0);
	if (victim == NULL)
		return (-1);
	sup->admin_idle_closed++;
	log_limited(&admin_rl, LOG_WARNING, "admin: idle connection of uid "
	    "%u (pid %d) closed after %lld ms to make room for uid %u",
	    (unsigned)victim->uid, (int)victim->pid,
	    (long long)(clock_mono_ms() - victim->accepted_ms), (unsigned)uid);
	admin_client_free(sup, victim);
	return (0);
}

void
admin_accept(struct sup *sup)
{
	struct admin_client	*c;
	struct epoll_event	 ev;
	struct ucred		 cred;
	socklen_t		 len;
	int			 fd;

	for (;;) {
		fd = accept4(sup->admin_fd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC);
		if (fd == -1) {
			if (listen_accept_error(sup, sup->admin_fd, "admin",
			    &admin_pause) == -1)
				return;
			continue;
		}
		len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred,
		    &len) == -1) {
			log_warn("admin: SO_PEERCRED; connection closed");
			close(fd);
			continue;
		}
		if (!admin_peer_allowed(cred.uid)) {
			sup->admin_refused++;
			log_limited(&admin_rl, LOG_WARNING, "admin: connection "
			    "of uid %u (pid %d) refused: only root%s may use "
			    "takctl", (unsigned)cred.uid, (int)cred.pid,
			    trust_get_owner() != 0 ? " and the user that "
			    "started takd" : "");
			close(fd);
			continue;
		}
		if (admin_make_room(sup, cred.uid) == -1) {
			sup->admin_refused++;
			log_limited(&admin_rl, LOG_WARNING, "admin: %u "
			    "connections busy, one more of uid %u (pid %d) "
			    "refused", admin_count(sup, -1),
			    (unsigned)cred.uid, (int)cred.pid);
			close(fd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			log_warn("admin: connection closed");
			close(fd);
			continue;
		}
		c->fd = fd;
		c->uid = cred.uid;
		c->pid = cred.pid;
		c->reading = true;
		c->ev.kind = SUP_EV_ADMIN_CLIENT;
		c->ev.ptr = c;
		c->accepted_ms = clock_mono_ms();
		/* Not extended by bytes: a trickle cannot hold the slot. */
		c->deadline_ms = c->accepted_ms + ADMIN_IDLE_MS;
		json_init(&c->out);
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = &c->ev;
		if (epoll_ctl(sup->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
			log_warn("admin: epoll_ctl");
			close(fd);
			json_free(&c->out);
			free(c);
			continue;
		}
		c->next = sup->admin_clients;
		sup->admin_clients = c;
	}
}

static void
admin_client_free(struct sup *sup, struct admin_client *c)
{
	struct admin_client	**pp;

	for (pp = &sup->admin_clients; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (c->req == REQ_RELOAD)
		reload_detach(sup, c);
	cluster_proc_clients_cancel(sup, c);
	round_cancel(sup, c->round);
	epoll_ctl(sup->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	json_free(&c->out);
	metrics_buf_free(&c->text);
	free(c);
}

/* Write what is left of the reply; free the client once it is all out. */
static void
admin_client_write(struct sup *sup, struct admin_client *c)
{
	struct epoll_event	 ev;
	const char		*buf = c->out.buf;
	size_t			 len = c->out.len;
	ssize_t			 n;

	if (c->text.buf != NULL) {
		buf = c->text.buf;
		len = c->text.len;
	}
	while (c->outoff < len) {
		n = send(c->fd, buf + c->outoff, len - c->outoff, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			memset(&ev, 0, sizeof(ev));
			ev.events = EPOLLOUT;
			ev.data.ptr = &c->ev;
			/* Commands unregister the client while they wait. */
			if (epoll_ctl(sup->epfd, EPOLL_CTL_MOD, c->fd, &ev) == -1 &&
			    epoll_ctl(sup->epfd, EPOLL_CTL_ADD, c->fd, &ev) == -1)
				break;
			return;
		}
		if (n <= 0)
			break;
		c->outoff += (size_t)n;
	}
	admin_client_free(sup, c);
}

static void
admin_reply(struct sup *sup, struct admin_client *c)
{
	c->req = REQ_NONE;
	c->deadline_ms = clock_mono_ms() + ADMIN_WAIT_MS;
	if (c->out.err || c->text.err) {
		log_warnx("admin: out of memory building a reply");
		admin_client_free(sup, c);
		return;
	}
	admin_client_write(sup, c);
}

static void
admin_reply_error(struct sup *sup, struct admin_client *c, const char *msg)
{
	json_obj_begin(&c->out);
	json_kv_bool(&c->out, "ok", false);
	json_kv_str(&c->out, "error", msg);
	json_obj_end(&c->out);
	admin_reply(sup, c);
}

static const char *
admin_slot_state(enum slot_state st)
{
	switch (st) {
	case SLOT_EMPTY:
		return ("empty");
	case SLOT_RUNNING:
		return ("running");
	case SLOT_RESPAWN_WAIT:
		return ("respawning");
	case SLOT_GAVE_UP:
		return ("failed");
	case SLOT_STOPPED:
		return ("stopped");
	}
	return ("?");
}

static void
admin_json_crl(const struct sup *sup, struct json *j)
{
	const struct crl_state	*cs = &sup->crl;
	time_t			 now = time(NULL);

	json_key(j, "crl");
	json_obj_begin(j);
	json_kv_str(j, "check", config_crl_check_name(sup->cfg->crl_check));
	json_kv_str(j, "stale_policy",
	    config_crl_stale_name(sup->cfg->crl_stale));
	json_kv_str(j, "path", sup->cfg->crl);
	json_kv_uint(j, "generation", cs->info.generation);
	json_kv_uint(j, "entries", cs->info.entries);
	json_kv_str(j, "issuer", cs->crl != NULL ? cs->info.issuer : NULL);
	json_kv_time(j, "last_update", cs->info.last_update);
	json_kv_time(j, "next_update", cs->info.next_update);
	json_key(j, "seconds_to_next_update");
	if (cs->info.next_update != 0)
		json_int(j, (int64_t)(cs->info.next_update - now));
	else
		json_null(j);
	json_kv_bool(j, "stale", crl_is_stale(sup));
	json_kv_time(j, "loaded_at", cs->loaded_at);
	json_kv_str(j, "last_error", cs->last_error[0] ? cs->last_error : NULL);
	json_kv_time(j, "last_error_at", cs->last_error_at);
	json_key(j, "number");
	if (cs->crl != NULL && cs->info.number >= 0)
		json_int(j, cs->info.number);
	else
		json_null(j);
	crl_fetch_json(sup, j);	/* [tls] crl_url */
	json_obj_end(j);
	expiry_json(sup, j);
	ocsp_json(sup, j);	/* [ocsp] staple */
}

/* The users file in force (userfile.c). */
static void
admin_json_users(const struct sup *sup, struct json *j)
{
	const struct users_state *us = &sup->users;

	json_key(j, "users");
	json_obj_begin(j);
	json_kv_str(j, "path", sup->cfg->users);
	json_kv_bool(j, "present", !us->missing);
	json_kv_uint(j, "generation", us->generation);
	json_kv_uint(j, "count", users_count(us->set));
	json_kv_uint(j, "groups", users_group_count(us->set));
	json_kv_time(j, "loaded_at", us->loaded_at);
	json_kv_str(j, "last_error", us->last_error[0] ? us->last_error : NULL);
	json_kv_time(j, "last_error_at", us->last_error_at);
	json_obj_end(j);
}

/*
 * The store file every process shares, and the supervisor's own counters.
 * Its writes are immediate, never batched: it drops no operations and does
 * not grow the map (metrics_text.c shows the same).
 */
static void
admin_json_store(const struct sup *sup, struct json *j)
{
	struct store_stats	 st;

	store_get_stats(sup->store, &st);
	json_key(j, "store");
	json_obj_begin(j);
	json_kv_bool(j, "open", sup->store != NULL);
	json_kv_uint(j, "used_bytes", st.map_used);
	json_kv_uint(j, "map_max_bytes", st.map_max);
	json_kv_uint(j, "map_size_bytes", st.mapsize);
	json_kv_uint(j, "commits", st.commits);
	json_kv_uint(j, "commit_failures", st.commit_failures);
	json_obj_end(j);
}

static void
admin_json_workers(const struct sup *sup, const struct round *r,
    struct json *j)
{
	const struct proc_slot	*s;
	unsigned		 i;
	uint64_t		 total = 0;

	json_key(j, "workers");
	json_arr_begin(j);
	for (i = 0; i < sup->n_slots; i++) {
		s = &sup->slots[i];
		json_obj_begin(j);
		json_kv_uint(j, "id", s->id);
		json_kv_str(j, "state", admin_slot_state(s->state));
		json_kv_int(j, "pid", s->pid);
		json_kv_time(j, "started", s->started);
		json_kv_uint(j, "restarts", s->restarts);
		json_kv_bool(j, "responding", round_answered(r, s));
		counters_json(j, &s->stats);
		json_obj_end(j);
		if (s->state == SLOT_RUNNING)
			total += s->stats.sessions;
	}
	json_arr_end(j);
	json_kv_uint(j, "sessions", total);
}

/* The api process (api_proc.c), when it runs: its slot and its counters. */
static void
admin_json_api(const struct sup *sup, const struct round *r,
    struct json *j)
{
	const struct proc_slot	*s = &sup->api;

	if (!sup->api_run)
		return;
	json_key(j, "api");
	json_obj_begin(j);
	json_kv_str(j, "state", admin_slot_state(s->state));
	json_kv_int(j, "pid", s->pid);
	json_kv_time(j, "started", s->started);
	json_kv_uint(j, "restarts", s->restarts);
	json_kv_bool(j, "responding", round_answered(r, s));
	counters_json(j, &s->stats);
	json_obj_end(j);
}

/* takd-signer (signer_proc.h), when enrollment is on. */
static void
admin_json_signer(const struct sup *sup, struct json *j)
{
	const struct signer_proc	*sp = &sup->signer;

	if (!sup->signer_on)
		return;
	json_key(j, "signer");
	json_obj_begin(j);
	json_kv_str(j, "state", sp->pid > 0 ? "running" : sp->gave_up ?
	    "gave_up" : sup->stopping ? "stopped" : "respawn_wait");
	json_kv_int(j, "pid", sp->pid > 0 ? sp->pid : 0);
	json_kv_uint(j, "restarts", sp->restarts);
	json_kv_bool(j, "gave_up", sp->gave_up);
	json_obj_end(j);
}

static void
admin_json_listener(const struct listener *l, struct json *j)
{
	json_obj_begin(j);
	json_kv_str(j, "proto", l->proto);
	json_kv_str(j, "address", l->address);
	json_kv_uint(j, "port", l->port);
	json_obj_end(j);
}

void
admin_json_status(const struct sup *sup, const struct round *r,
    struct json *j)
{
	const struct listener	*l;
	size_t			 i;

	json_obj_begin(j);
	json_kv_bool(j, "ok", true);
	json_kv_str(j, "version", TAKD_VERSION);
	json_kv_int(j, "pid", getpid());
	json_kv_time(j, "started", sup->started);
	json_kv_int(j, "uptime", (int64_t)(time(NULL) - sup->started));
	json_kv_str(j, "user", sup->user);
	json_kv_bool(j, "stopping", sup->stopping);
	json_key(j, "listeners");
	json_arr_begin(j);
	for (i = 0; i < sup->n_listeners; i++) {
		l = &sup->listeners[i];
		if (l->fd >= 0)
			admin_json_listener(l, j);
	}
	/* After the others: listeners.0 is the first TLS one. */
	for (i = 0; (l = api_proc_listener(sup, i)) != NULL; i++)
		admin_json_listener(l, j);
	json_arr_end(j);
	admin_json_crl(sup, j);
	admin_json_users(sup, j);
	admin_json_store(sup, j);
	json_key(j, "admin");
	json_obj_begin(j);
	json_kv_uint(j, "refused", sup->admin_refused);
	json_kv_uint(j, "idle_closed", sup->admin_idle_closed);
	/* The api process's now: it serves [metrics] listen. */
	json_kv_uint(j, "metrics_idle_closed",
	    sup->api.stats.api_metrics_evicted);
	json_obj_end(j);
	admin_json_workers(sup, r, j);
	admin_json_api(sup, r, j);
	admin_json_signer(sup, j);
	usersd_proc_json(sup, j);
	cluster_proc_json(sup, j);
	json_obj_end(j);
}

static void
admin_status_done(struct sup *sup, const struct round *r, void *arg)
{
	struct admin_client	*c = arg;

	c->round = NULL;
	admin_json_status(sup, r, &c->out);
	admin_reply(sup, c);
}

static void
admin_metrics_done(struct sup *sup, const struct round *r, void *arg)
{
	struct admin_client	*c = arg;

	c->round = NULL;
	metrics_render(sup, r, &c->text);
	admin_reply(sup, c);
}

/* status and metrics: ask the workers for fresh counters first. */
static void
admin_stats_request(struct sup *sup, struct admin_client *c,
    enum admin_req req)
{
	c->req = req;
	c->round = admin_stats_start(sup, req == REQ_METRICS ?
	    METRICS_WAIT_MS : ADMIN_WAIT_MS, req == REQ_METRICS ?
	    admin_metrics_done : admin_status_done, c);
	if (c->round == NULL)
		admin_reply_error(sup, c, "out of memory");
}

/* The users file's part of a reload, as "users": {...}. */
static void
admin_reload_users(const struct sup *sup, struct json *j,
    const struct reload_users *u)
{
	json_key(j, "users");
	json_obj_begin(j);
	json_kv_bool(j, "ok", u->rc == 0 && u->failed == 0 &&
	    u->unanswered == 0);
	if (u->error[0] != '\0')
		json_kv_str(j, "error", u->error);
	json_kv_str(j, "path", sup->cfg->users);
	json_kv_uint(j, "generation", u->generation);
	json_kv_uint(j, "count", users_count(sup->users.set));
	json_kv_uint(j, "workers_acked", u->acked);
	json_kv_uint(j, "workers_failed", u->failed);
	json_kv_uint(j, "workers_unanswered", u->unanswered);
	json_kv_uint(j, "sessions_changed", u->changed);
	json_kv_uint(j, "sessions_closed", u->closed);
	json_obj_end(j);
}

static void
admin_reload_done(struct sup *sup, const struct reload_report *rep,
    void *arg)
{
	struct admin_client	*c = arg;
	struct json		*j = &c->out;
	const struct reload_users *u = &rep->users;
	char			 error[2 * RELOAD_ERROR_MAX + 16];

	/* "error" says what failed, the CRL's first: takctl exits 1 on it. */
	snprintf(error, sizeof(error), "%s%s%s", rep->error,
	    rep->error[0] != '\0' && u->error[0] != '\0' ? "; " : "",
	    u->error);
	json_obj_begin(j);
	json_kv_bool(j, "ok", rep->ok);
	if (error[0] != '\0')
		json_kv_str(j, "error", error);
	json_kv_bool(j, "crl_ok", rep->crl && rep->rc == 0 &&
	    rep->failed == 0 && rep->unanswered == 0);
	admin_reload_users(sup, j, u);
	if (!rep->crl || rep->rc == -1) {
		json_obj_end(j);
		admin_reply(sup, c);
		return;
	}
	json_kv_uint(j, "generation", rep->generation);
	json_kv_uint(j, "entries", sup->crl.info.entries);
	json_kv_time(j, "next_update", sup->crl.info.next_update);
	json_kv_bool(j, "stale", crl_is_stale(sup));
	json_kv_uint(j, "workers_acked", rep->acked);
	json_kv_uint(j, "workers_failed", rep->failed);
	json_kv_uint(j, "workers_unanswered", rep->unanswered);
	json_kv_uint(j, "sessions_closed", rep->sessions_closed);
	json_obj_end(j);
	admin_reply(sup, c);
}

/* takctl reload (and takctl revoke): reload.c reads, pushes and counts. */
static void
admin_reload(struct sup *sup, struct admin_client *c)
{
	char	 err[512];

	if (reload_start(sup, admin_reload_done, c, err, sizeof(err)) == -1) {
		admin_reply_error(sup, c, err);
		return;
	}
	c->req = REQ_RELOAD;
}

/* A list of group names (shared/grouplist.h) as a JSON array. */
static void
admin_groups_json(struct json *j, const char *key, const char *list)
{
	const char	*pos = list, *end = list + strlen(list), *name;
	char		 one[GROUPLIST_NAME_MAX];
	size_t		 n;

	json_key(j, key);
	json_arr_begin(j);
	while ((name = grouplist_next(&pos, end, &n)) != NULL) {
		snprintf(one, sizeof(one), "%.*s", (int)n, name);
		json_str(j, one);
	}
	json_arr_end(j);
}

/* The node's id in takctl clients --cluster, else NULL. */
static const char *admin_clients_node;

static int
admin_client_json(const struct store_client *sc, void *arg)
{
	struct json	*j = arg;

	json_obj_begin(j);
	if (admin_clients_node != NULL)
		json_kv_str(j, "node", admin_clients_node);
	json_kv_str(j, "uid", sc->uid);
	json_kv_str(j, "callsign", sc->callsign);
	json_kv_uint(j, "worker", sc->worker);
	json_kv_str(j, "group", sc->group);
	json_kv_str(j, "role", sc->role);
	json_kv_str(j, "subject", sc->subject);
	json_kv_str(j, "serial", sc->serial);
	/* The certificate's notAfter; absent when the record lacks it. */
	if (sc->not_after > 0)
		json_kv_time(j, "expires", (time_t)sc->not_after);
	json_kv_str(j, "peer", sc->peer);
	/* The stream's encoding (docs/takproto.md). */
	json_kv_str(j, "encoding", sc->v1 ? "v1" : "xml");
	/* Access (docs/groups.md); "group" above is the team colour. */
	json_kv_str(j, "user", sc->user);
	json_key(j, "groups");
	json_obj_begin(j);
	admin_groups_json(j, "in", sc->groups_in);
	admin_groups_json(j, "out", sc->groups_out);
	json_obj_end(j);
	json_kv_time(j, "connected", (time_t)(sc->connected_ms / 1000));
	json_kv_time(j, "last_seen", (time_t)(sc->last_seen_ms / 1000));
	json_obj_end(j);
	return (0);
}

/*
 * The registry as the workers last committed it (once per loop turn, so a
 * client is listed within milliseconds of its handshake).
 */
static void
admin_clients(struct sup *sup, struct admin_client *c)
{
	struct json	*j = &c->out;

	if (sup->store == NULL) {
		admin_reply_error(sup, c, "the shared state is not open");
		return;
	}
	json_obj_begin(j);
	json_kv_bool(j, "ok", true);
	json_key(j, "clients");
	json_arr_begin(j);
	if (store_foreach_client(sup->store, admin_client_json, j) == -1) {
		json_free(j);
		json_init(j);
		admin_reply_error(sup, c, "cannot read the client registry");
		return;
	}
	json_arr_end(j);
	json_obj_end(j);
	admin_reply(sup, c);
}

/*
 * takctl clients --cluster: this node's, then the other nodes' as the
 * cluster process knows them from their presence (docs/cluster.md).
 */
static void
admin_clients_cluster_done(struct sup *sup, const char *arr, size_t len,
    const char *why, void *arg)
{
	struct admin_client	*c = arg;
	struct json		*j = &c->out;
	struct json_rd		 rd;
	const char		*pos, *end, *e;
	size_t			 elen;
	int			 rc;

	if (arr == NULL) {
		admin_reply_error(sup, c, why);
		return;
	}
	/* Another process's text: one well-formed array, or nothing. */
	json_rd_init(&rd, arr, len);
	if (json_rd_skip(&rd) == -1 || json_rd_end(&rd) == -1 ||
	    arr[0] != '[') {
		admin_reply_error(sup, c, "the cluster process sent a "
		    "malformed client list");
		return;
	}
	json_obj_begin(j);
	json_kv_bool(j, "ok", true);
	json_key(j, "clients");
	json_arr_begin(j);
	admin_clients_node = sup->cfg->cluster_node;
	rc = sup->store != NULL ? store_foreach_client(sup->store,
	    admin_client_json, j) : 0;
	admin_clients_node = NULL;
	if (rc == -1) {
		json_free(j);
		json_init(j);
		admin_reply_error(sup, c, "cannot read the client registry");
		return;
	}
	pos = arr;
	end = arr + len;
	while (json_array_next(&pos, end, &e, &elen) == 1)
		json_value(j, e, elen);
	json_arr_end(j);
	json_obj_end(j);
	admin_reply(sup, c);
}

static void
admin_clients_cluster(struct sup *sup, struct admin_client *c)
{
	if (!sup->cluster_run) {
		admin_reply_error(sup, c, "this node is in no cluster ([cluster] "
		    "nats is not set)");
		return;
	}
	if (cluster_proc_clients(sup, admin_clients_cluster_done, c) == -1)
		admin_reply_error(sup, c, "the cluster process cannot be "
		    "asked now");
}

static int
admin_sa_json(const struct store_sa *sa, void *arg)
{
	struct json	*j = arg;

	json_obj_begin(j);
	json_kv_str(j, "uid", sa->uid);
	json_kv_str(j, "type", sa->type);
	json_kv_str(j, "owner", sa->owner);
	json_kv_str(j, "serial", sa->serial);
	json_kv_time(j, "stored", (time_t)(sa->time_ms / 1000));
	json_kv_time(j, "stale", (time_t)(sa->stale_ms / 1000));
	json_kv_uint(j, "bytes", sa->len);
	json_kv_bool(j, "stale_clamped", (sa->flags & STORE_SA_F_CLAMPED) != 0);
	json_obj_end(j);
	return (0);
}

/*
 * takctl sa: "sa list" (every stored SA, newest first, stale ones too) and
 * "sa purge uid UID", "sa purge cert NAME" (the owner's CN), "sa purge all".
 */
static void
admin_sa(struct sup *sup, struct admin_client *c, const char *args)
{
	struct store_sa_match	 m;
	struct json		*j = &c->out;
	long			 n;

	if (sup->store == NULL) {
		admin_reply_error(sup, c, "the shared state is not open");
		return;
	}
	if (strcmp(args, "list") == 0) {
		json_obj_begin(j);
		json_kv_bool(j, "ok", true);
		json_key(j, "sa");
		json_arr_begin(j);
		if (store_foreach_sa(sup->store, 0, NULL, admin_sa_json, j) ==
		    -1) {
			json_free(j);
			json_init(j);
			admin_reply_error(sup, c, "cannot read the SA store");
			return;
		}
		json_arr_end(j);
		json_obj_end(j);
		admin_reply(sup, c);
		return;
	}
	memset(&m, 0, sizeof(m));
	if (strncmp(args, "purge uid ", 10) == 0 && args[10] != '\0') {
		m.sel = STORE_SA_SEL_UID;
		m.value = args + 10;
	} else if (strncmp(args, "purge cert ", 11) == 0 && args[11] != '\0') {
		m.sel = STORE_SA_SEL_CN;
		m.value = args + 11;
	} else if (strcmp(args, "purge all") == 0)
		m.sel = STORE_SA_SEL_ALL;
	else {
		admin_reply_error(sup, c, "usage: sa list | sa purge uid UID | "
		    "sa purge cert NAME | sa purge all");
		return;
	}
	if ((n = store_sa_delete(sup->store, &m)) == -1) {
		admin_reply_error(sup, c, "cannot write the SA store");
		return;
	}
	log_info("admin: %s: %ld stored SA entr%s removed", args, n,
	    n == 1 ? "y" : "ies");
	json_obj_begin(j);
	json_kv_bool(j, "ok", true);
	json_kv_uint(j, "removed", (uint64_t)n);
	json_obj_end(j);
	admin_reply(sup, c);
}

static void
admin_command(struct sup *sup, struct admin_client *c, const char *cmd)
{
	/* Nothing more is read: a peer that keeps writing must not wake us. */
	epoll_ctl(sup->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	c->reading = false;
	log_debug("admin: \"%.32s\" from uid %u (pid %d)", cmd,
	    (unsigned)c->uid, (int)c->pid);
	if (strcmp(cmd, "status") == 0)
		admin_stats_request(sup, c, REQ_STATUS);
	else if (strcmp(cmd, "metrics") == 0)
		admin_stats_request(sup, c, REQ_METRICS);
	else if (strcmp(cmd, "reload") == 0)
		admin_reload(sup, c);
	else if (strcmp(cmd, "clients") == 0)
		admin_clients(sup, c);
	else if (strcmp(cmd, "clients cluster") == 0)
		admin_clients_cluster(sup, c);
	else if (strncmp(cmd, "sa ", 3) == 0)
		admin_sa(sup, c, cmd + 3);
	else
		admin_reply_error(sup, c, "unknown command");
}

static void
admin_client_read(struct sup *sup, struct admin_client *c)
{
	char	*nl;
	ssize_t	 n;

	for (;;) {
		n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen,
		    0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			admin_client_free(sup, c);
			return;
		}
		c->inlen += (size_t)n;
		c->in[c->inlen] = '\0';
		if ((nl = strchr(c->in, '\n')) != NULL) {
			*nl = '\0';
			if (nl > c->in && nl[-1] == '\r')
				nl[-1] = '\0';
			admin_command(sup, c, c->in);
			return;
		}
		if (c->inlen == sizeof(c->in) - 1) {
			admin_reply_error(sup, c, "command too long");
			return;
		}
	}
}

void
admin_client_event(struct sup *sup, void *ptr, unsigned events)
{
	struct admin_client	*c = ptr;

	/* Out of the epoll set while a command waits: a reply, or the line. */
	if (c->out.len > 0 || c->text.len > 0)
		admin_client_write(sup, c);
	else
		admin_client_read(sup, c);
}

int
admin_tick(struct sup *sup)
{
	struct admin_client	*c, *next;
	int64_t			 now = clock_mono_ms(), wait, left;

	wait = listen_pause_tick(sup, sup->admin_fd, &sup->admin_ev,
	    &admin_pause, now);
	for (c = sup->admin_clients; c != NULL; c = next) {
		next = c->next;
		if (c->round != NULL || c->req == REQ_RELOAD)
			continue;	/* the wait has its own deadline */
		if (c->deadline_ms <= now) {
			admin_client_free(sup, c);
			continue;
		}
		left = c->deadline_ms - now;
		if (wait == -1 || left < wait)
			wait = left;
	}
	return ((int)wait);
}
