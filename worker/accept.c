/*
 * Accepting on the listening sockets inherited from the supervisor: this
 * worker slot's own socket of every address (a SO_REUSEPORT group of one
 * socket per slot, supervisor/listen.c), which no other process accepts on.
 * The kernel has already chosen this worker for whatever is queued there;
 * the worker accepts a bounded number per wakeup so a connection storm
 * cannot starve established sessions.
 *
 * A full worker (max_sessions established sessions) accepts and closes
 * what the kernel gave it: another worker cannot take it, and left in the
 * backlog it would wait until a session ends here.
 *
 * Connections that have not authenticated yet have limits of their own
 * (worker/admit.h, docs/security.md "Before authentication"): so many
 * handshakes per worker ([tls] max_handshakes) and per source address
 * (max_handshakes_per_address).  A new connection that finds one full
 * takes the place of the oldest unauthenticated connection that has made
 * the least progress, or is refused when every one has progressed too far.
 * Established sessions never count there: idle connections cannot lock
 * out those that authenticate.
 *
 * Out of descriptors (EMFILE, ENFILE) the pending connection would keep the
 * listener readable and spin the loop, so the worker gives up its spare
 * descriptor for a moment to accept the connection and close it at once.  If
 * even that fails, accepting pauses for a short while.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "worker/conn.h"

#define ACCEPT_BATCH		64	/* accepts per wakeup and listener */
#define ACCEPT_PAUSE_MS		200	/* when no descriptor can be had */
/*
 * A full worker or one out of descriptors stays so for a while under load:
 * one line per ACCEPT_LOG_WINDOW seconds, which says how many it stands for;
 * the counters (takctl status) have every one.
 */
#define ACCEPT_LOG_WINDOW	5

static int
accept_register(struct worker *w, struct acceptor *a)
{
	struct epoll_event	 ev;

	if (a->fd == -1 || a->in_epoll)
		return (0);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = a;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, a->fd, &ev) == -1)
		return (-1);
	a->in_epoll = true;
	return (0);
}

static void
accept_unregister(struct worker *w, struct acceptor *a)
{
	if (!a->in_epoll)
		return;
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, a->fd, NULL);
	a->in_epoll = false;
}

int
accept_init(struct worker *w)
{
	const struct worker_args	*args = w->args;
	struct sockaddr_storage		 ss;
	struct acceptor			*a;
	socklen_t			 sl;
	size_t				 i;
	uint64_t			 seed = 0;

	w->rl_full.burst = w->rl_emfile.burst = w->rl_accept.burst = 1;
	w->rl_full.window = w->rl_emfile.window = w->rl_accept.window =
	    ACCEPT_LOG_WINDOW;
	w->rl_admit.burst = w->rl_hs.burst = w->rl_cert.burst = 1;
	w->rl_admit.window = w->rl_hs.window = w->rl_cert.window =
	    ACCEPT_LOG_WINDOW;
	/* Without entropy the hash is merely predictable; not fatal. */
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint64_t)getpid() ^ (uint64_t)clock_mono_ms();
	if (admit_init(&w->admit, w->cfg->max_handshakes,
	    w->cfg->max_handshakes_per_address, seed) == -1) {
		log_warn("admission");
		return (-1);
	}
	w->n_acceptors = args->n_tls_fds + args->n_tcp_fds;
	if (w->n_acceptors > 0 &&
	    (w->acceptors = calloc(w->n_acceptors,
	    sizeof(*w->acceptors))) == NULL) {
		log_warn("acceptors");
		return (-1);
	}
	for (i = 0; i < w->n_acceptors; i++) {
		a = &w->acceptors[i];
		a->magic = ACCEPTOR_MAGIC;
		a->fd = -1;
	}
	for (i = 0; i < w->n_acceptors; i++) {
		a = &w->acceptors[i];
		/* TLS listeners first, then the plain [tcp] ones. */
		a->plain = i >= args->n_tls_fds;
		a->fd = a->plain ? args->tcp_fds[i - args->n_tls_fds] :
		    args->tls_fds[i];
		sl = sizeof(ss);
		if (getsockname(a->fd, (struct sockaddr *)&ss, &sl) == -1) {
			log_warn("listener %zu (fd %d)", i, a->fd);
			return (-1);
		}
		conn_addr_format((struct sockaddr *)&ss, sl, a->name,
		    sizeof(a->name));
		/* [tcp] group: the first source of its sessions' groups. */
		if (a->plain && w->cfg->tcp_group[0] != '\0')
			a->group = w->cfg->tcp_group;
		if (a->plain)
			log_info("listener %s: plain TCP CoT, no TLS: for "
			    "trusted networks only%s%s%s", a->name,
			    a->group != NULL ? "; every session in group \"" :
			    "", a->group != NULL ? a->group : "",
			    a->group != NULL ? "\"" : "");
		if (accept_register(w, a) == -1) {
			log_warn("listener %s: epoll_ctl", a->name);
			return (-1);
		}
	}
	return (0);
}

void
accept_close_all(struct worker *w)
{
	size_t	 i;

	for (i = 0; i < w->n_acceptors; i++) {
		accept_unregister(w, &w->acceptors[i]);
		if (w->acceptors[i].fd != -1)
			close(w->acceptors[i].fd);
		w->acceptors[i].fd = -1;
	}
	w->accept_paused = false;
}

void
accept_pause(struct worker *w, int64_t until_ms)
{
	size_t	 i;

	for (i = 0; i < w->n_acceptors; i++)
		accept_unregister(w, &w->acceptors[i]);
	w->accept_paused = true;
	w->accept_resume_ms = until_ms;
}

void
accept_resume(struct worker *w)
{
	size_t	 i;

	if (w->spare_fd == -1 &&
	    (w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		/* Still short of descriptors: keep waiting. */
		w->accept_resume_ms = clock_mono_ms() + ACCEPT_PAUSE_MS;
		return;
	}
	for (i = 0; i < w->n_acceptors; i++)
		if (accept_register(w, &w->acceptors[i]) == -1)
			log_warn("listener %s: epoll_ctl",
			    w->acceptors[i].name);
	w->accept_paused = false;
}

/* Out of descriptors: accept one connection with the spare and drop it. */
static void
accept_shed(struct worker *w, struct acceptor *a, int err)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	char			 peer[CONN_ADDR_MAX] = "?";
	int			 fd;

	if (w->spare_fd == -1) {
		log_limited(&w->rl_emfile, LOG_WARNING,
		    "listener %s: accept: %s; pausing %d ms", a->name,
		    strerror(err), ACCEPT_PAUSE_MS);
		accept_pause(w, clock_mono_ms() + ACCEPT_PAUSE_MS);
		return;
	}
	close(w->spare_fd);
	w->spare_fd = -1;
	fd = accept4(a->fd, (struct sockaddr *)&ss, &sl,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd != -1) {
		conn_addr_format((struct sockaddr *)&ss, sl, peer,
		    sizeof(peer));
		close(fd);
		w->cnt.rejected_emfile++;
	}
	w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	/* fd == -1: it went away. */
	if (fd != -1)
		log_limited(&w->rl_emfile, LOG_WARNING,
		    "listener %s: accept: %s; connection from %s dropped",
		    a->name, strerror(err), peer);
	if (w->spare_fd == -1)
		accept_pause(w, clock_mono_ms() + ACCEPT_PAUSE_MS);
}

static bool
accept_full(const struct worker *w)
{
	unsigned	 max = w->cfg->max_sessions;

	return (max != 0 && w->cnt.sessions >= max);
}

/*
 * Room for a TLS connection from key in the handshake limits, made by
 * closing unauthenticated connections if the policy picks one; -1 when the
 * connection is refused (counted and logged here).
 */
static int
accept_admit(struct worker *w, struct acceptor *a, const struct admit_key *key,
    const char *peer)
{
	struct admit_node	*victim;
	struct conn		*vc;
	enum admit_verdict	 v;
	char			 src[ADMIT_KEY_STR];
	int			 i;

	/* An eviction for the address frees a place in the worker too. */
	for (i = 0; i < 3; i++) {
		v = admit_check(&w->admit, key, &victim);
		if (v == ADMIT_OK)
			return (0);
		admit_key_format(key, src, sizeof(src));
		if (v == ADMIT_EVICT_ADDR || v == ADMIT_EVICT_FULL) {
			vc = conn_of_admit(victim);
			if (v == ADMIT_EVICT_ADDR)
				w->cnt.evicted_per_address++;
			else
				w->cnt.evicted_handshakes_full++;
			log_limited(v == ADMIT_EVICT_ADDR ? &w->rl_admit :
			    &w->rl_hs, LOG_WARNING, "listener %s: "
			    "%u handshakes %s%s, the %s limit: peer %s closed "
			    "(%s, %" PRId64 " ms old) for %s", a->name,
			    v == ADMIT_EVICT_ADDR ? admit_src_count(&w->admit,
			    key) : (unsigned)w->cnt.handshaking,
			    v == ADMIT_EVICT_ADDR ? "from " : "in progress",
			    v == ADMIT_EVICT_ADDR ? src : "",
			    v == ADMIT_EVICT_ADDR ?
			    "max_handshakes_per_address" : "max_handshakes",
			    vc->peer, victim->level == ADMIT_FRESH ?
			    "no ClientHello yet" : "no certificate yet",
			    clock_mono_ms() - vc->accepted_ms, peer);
			conn_evict(w, vc);
			continue;
		}
		if (v == ADMIT_REFUSE_ADDR) {
			w->cnt.rejected_per_address++;
			log_limited(&w->rl_admit, LOG_WARNING, "listener %s: "
			    "%u handshakes from %s, the "
			    "max_handshakes_per_address limit, none of them "
			    "idle: connection from %s refused", a->name,
			    admit_src_count(&w->admit, key), src, peer);
		} else {
			w->cnt.rejected_handshakes_full++;
			log_limited(&w->rl_hs, LOG_WARNING, "listener %s: "
			    "%" PRIu64 " handshakes in progress, the "
			    "max_handshakes limit, all authenticating: "
			    "connection from %s refused", a->name,
			    w->cnt.handshaking, peer);
		}
		return (-1);
	}
	return (-1);
}

/* Whole seconds, at least 1, for the TCP_KEEP* options. */
static int
accept_secs(unsigned ms)
{
	return ((int)((ms + 999) / 1000));
}

/*
 * A peer that vanishes without FIN or RST (a phone out of coverage) must
 * not stay "connected": keepalive probes a silent one, TCP_USER_TIMEOUT
 * ends one that leaves data or probes unacknowledged.  docs/operations.md,
 * "Dead peers".
 */
static void
accept_keepalive(const struct worker *w, int fd)
{
	const struct config	*cfg = w->cfg;
	int			 on = 1, v;

	if (cfg->keepalive_ms > 0) {
		if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on,
		    sizeof(on)) == -1)
			log_debug("SO_KEEPALIVE: %s", strerror(errno));
		v = accept_secs(cfg->keepalive_ms);
		if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v,
		    sizeof(v)) == -1)
			log_debug("TCP_KEEPIDLE: %s", strerror(errno));
		v = accept_secs(cfg->keepalive_interval_ms);
		if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v,
		    sizeof(v)) == -1)
			log_debug("TCP_KEEPINTVL: %s", strerror(errno));
		v = (int)cfg->keepalive_count;
		if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &v,
		    sizeof(v)) == -1)
			log_debug("TCP_KEEPCNT: %s", strerror(errno));
	}
	if (cfg->user_timeout_ms > 0) {
		v = (int)cfg->user_timeout_ms;
		if (setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v,
		    sizeof(v)) == -1)
			log_debug("TCP_USER_TIMEOUT: %s", strerror(errno));
	}
}

static void
accept_one(struct worker *w, struct acceptor *a, int fd,
    const struct sockaddr_storage *ss, socklen_t sl)
{
	struct admit_key	 key;
	char			 peer[CONN_ADDR_MAX];
	int			 on = 1;
	bool			 inet;

	conn_addr_format((const struct sockaddr *)ss, sl, peer, sizeof(peer));
	if (accept_full(w)) {
		close(fd);
		w->cnt.rejected_full++;
		log_limited(&w->rl_full, LOG_WARNING,
		    "listener %s: %u sessions, the max_sessions limit: "
		    "connection from %s rejected", a->name,
		    w->cfg->max_sessions, peer);
		return;
	}
	if (!a->plain) {
		admit_key_set(&key, (const struct sockaddr *)ss, sl);
		if (accept_admit(w, a, &key, peer) == -1) {
			close(fd);
			return;
		}
	}
	inet = ss->ss_family == AF_INET || ss->ss_family == AF_INET6;
	/* Events are small and latency matters more than packet count. */
	if (inet && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
	    sizeof(on)) == -1)
		log_debug("TCP_NODELAY: %s", strerror(errno));
	if (inet)
		accept_keepalive(w, fd);
	(void)conn_new(w, a, fd, (const struct sockaddr *)ss, sl);
}

void
accept_handle(struct worker *w, struct acceptor *a)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	int			 fd, i;

	for (i = 0; i < ACCEPT_BATCH && a->fd != -1 && a->in_epoll; i++) {
		sl = sizeof(ss);
		fd = accept4(a->fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd != -1) {
			accept_one(w, a, fd, &ss, sl);
			continue;
		}
		switch (errno) {
		case EAGAIN:
#if EAGAIN != EWOULDBLOCK
		case EWOULDBLOCK:
#endif
			return;		/* none left */
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
		case ENETDOWN:
		case ENOPROTOOPT:
		case EHOSTDOWN:
		case ENONET:
		case EHOSTUNREACH:
		case EOPNOTSUPP:
		case ENETUNREACH:
		case EPERM:		/* firewall rule */
			continue;	/* that connection is gone, not us */
		case EMFILE:
		case ENFILE:
			accept_shed(w, a, errno);
			continue;
		case ENOBUFS:
		case ENOMEM:
			log_limited(&w->rl_accept, LOG_WARNING,
			    "listener %s: accept: %s; pausing %d ms", a->name,
			    strerror(errno), ACCEPT_PAUSE_MS);
			accept_pause(w, clock_mono_ms() + ACCEPT_PAUSE_MS);
			return;
		default:
			/* EBADF, EINVAL: the inherited socket is unusable. */
			log_warn("listener %s: accept", a->name);
			worker_stop(w, 1, "listener failed");
			return;
		}
	}
}
