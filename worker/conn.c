/*
 * Client connections of a worker: see conn.h.  Everything here is driven by
 * level-triggered epoll: the interest of a conn is whatever its last OpenSSL
 * call wanted (either direction can want the other), and a conn that stopped
 * for fairness with data left inside OpenSSL goes on the ready list, because
 * such bytes never make the socket readable again.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/un.h>
#include <unistd.h>

#include "shared/log.h"
#include "worker/conn.h"

/* SSL_read calls per event before yielding to other conns. */
#define CONN_MAX_READS		32

void
conn_addr_format(const struct sockaddr *sa, socklen_t salen, char *dst,
    size_t len)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	char				 a[INET6_ADDRSTRLEN];
	struct in_addr			 v4;

	snprintf(dst, len, "?");
	if (sa->sa_family == AF_INET && salen >= sizeof(*sin)) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		if (inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a)) != NULL)
			snprintf(dst, len, "%s:%u", a, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6 && salen >= sizeof(*sin6)) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		/* A dual-stack listener shows IPv4 peers as ::ffff:a.b.c.d. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(&v4, &sin6->sin6_addr.s6_addr[12], sizeof(v4));
			if (inet_ntop(AF_INET, &v4, a, sizeof(a)) != NULL)
				snprintf(dst, len, "%s:%u", a,
				    ntohs(sin6->sin6_port));
		} else if (inet_ntop(AF_INET6, &sin6->sin6_addr, a,
		    sizeof(a)) != NULL)
			snprintf(dst, len, "[%s]:%u", a,
			    ntohs(sin6->sin6_port));
	} else if (sa->sa_family == AF_UNIX)
		snprintf(dst, len, "unix");
}

static int
conn_set_events(struct worker *w, struct conn *c, uint32_t events)
{
	struct epoll_event	 ev;

	if (c->events == events)
		return (0);
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = c;
	if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev) == -1) {
		log_warn("session %" PRIu64 ": epoll_ctl", c->id);
		return (-1);
	}
	c->events = events;
	return (0);
}

static void
conn_mark_ready(struct worker *w, struct conn *c)
{
	if (c->on_ready)
		return;
	TAILQ_INSERT_TAIL(&w->ready, c, ready_entry);
	c->on_ready = true;
}

/* Take c off the handshaking or live list and the ready list. */
static void
conn_unlink(struct worker *w, struct conn *c)
{
	if (c->on_ready) {
		TAILQ_REMOVE(&w->ready, c, ready_entry);
		c->on_ready = false;
	}
	if (c->state == CONN_HANDSHAKE) {
		TAILQ_REMOVE(&w->handshaking, c, entry);
		w->cnt.handshaking--;
	} else {
		TAILQ_REMOVE(&w->live, c, entry);
		w->cnt.sessions--;
	}
}

/*
 * Release everything c holds.  why, when not NULL, is logged for an
 * established session; handshake failures are logged by their callers.
 */
static void
conn_close(struct worker *w, struct conn *c, const char *why)
{
	if (why != NULL && c->state != CONN_HANDSHAKE)
		log_info("session %" PRIu64 " closed: %s (peer %s serial %s, "
		    "%" PRId64 " s, %" PRIu64 " bytes in)", c->id, why, c->peer,
		    c->tls.serial_hex,
		    (worker_now_ms() - c->established_ms) / 1000, c->rx_bytes);
	else if (why != NULL)
		log_debug("peer %s: connection %" PRIu64 " closed during "
		    "handshake: %s", c->peer, c->id, why);
	conn_unlink(w, c);
	/* close() would drop the registration too, unless the fd was dup'ed. */
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	SSL_free(c->ssl);
	c->ssl = NULL;
	close(c->fd);
	c->fd = -1;
	tls_peer_clear(&c->tls);
	c->magic = CONN_DEAD_MAGIC;
	TAILQ_INSERT_TAIL(&w->dead, c, entry);
}

struct conn *
conn_new(struct worker *w, struct acceptor *a, int fd,
    const struct sockaddr *sa, socklen_t salen)
{
	struct epoll_event	 ev;
	struct conn		*c;
	char			 peer[CONN_ADDR_MAX];

	conn_addr_format(sa, salen, peer, sizeof(peer));
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("peer %s: cannot allocate a connection", peer);
		close(fd);
		return (NULL);
	}
	memcpy(c->peer, peer, sizeof(c->peer));
	c->fd = fd;
	c->acceptor = a;
	c->accepted_ms = worker_now_ms();
	if (w->cfg->handshake_timeout_ms > 0)
		c->deadline_ms = c->accepted_ms + w->cfg->handshake_timeout_ms;
	if ((c->ssl = tls_new(w->ctx, fd)) == NULL) {
		log_ssl(LOG_WARNING, "peer %s: cannot create a TLS session",
		    peer);
		goto fail;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = c->events = EPOLLIN;	/* the ClientHello comes first */
	ev.data.ptr = c;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		log_warn("peer %s: epoll_ctl", peer);
		goto fail;
	}
	c->magic = CONN_MAGIC;
	c->id = ++w->next_conn_id;
	c->state = CONN_HANDSHAKE;
	TAILQ_INSERT_TAIL(&w->handshaking, c, entry);
	w->cnt.handshaking++;
	w->cnt.accepted++;
	log_debug("peer %s: connection %" PRIu64 " accepted on %s", peer,
	    c->id, a->name);
	return (c);
fail:
	SSL_free(c->ssl);
	close(fd);
	free(c);
	return (NULL);
}

static void
conn_handshake_failed(struct worker *w, struct conn *c, enum tls_res r,
    const char *reason)
{
	w->cnt.handshakes_failed++;
	/* A peer that hangs up unannounced is a probe, not an attack. */
	worker_log_limited(&c->acceptor->rl,
	    r == TLS_CLOSED ? LOG_INFO : LOG_WARNING,
	    "peer %s: handshake failed: %s", c->peer, reason);
	conn_close(w, c, NULL);
}

/* The handshake completed: record the peer and move c to the live list. */
static int
conn_established(struct worker *w, struct conn *c)
{
	if (tls_peer_get(c->ssl, &c->tls) == -1) {
		/* Only reachable if the context stopped requiring a cert. */
		conn_handshake_failed(w, c, TLS_ERROR, "no client certificate");
		return (-1);
	}
	TAILQ_REMOVE(&w->handshaking, c, entry);
	w->cnt.handshaking--;
	c->state = CONN_ESTABLISHED;
	c->deadline_ms = 0;
	c->established_ms = worker_now_ms();
	TAILQ_INSERT_TAIL(&w->live, c, entry);
	w->cnt.sessions++;
	w->cnt.handshakes_ok++;
	log_info("session %" PRIu64 " established: peer %s subject \"%s\" "
	    "serial %s (%s, resumed %s)", c->id, c->peer, c->tls.subject,
	    c->tls.serial_hex, SSL_get_version(c->ssl),
	    SSL_session_reused(c->ssl) ? "yes" : "no");
	return (0);
}

/* Wait for the direction OpenSSL wants. */
static void
conn_wait(struct worker *w, struct conn *c, enum tls_res r, uint32_t events)
{
	uint32_t	 want = r == TLS_WANT_WRITE ? EPOLLOUT : EPOLLIN;

	/*
	 * After an error or hangup the socket stays ready forever; a call
	 * that still wants I/O then would spin the loop.
	 */
	if (events & (EPOLLERR | EPOLLHUP)) {
		if (c->state == CONN_HANDSHAKE)
			conn_handshake_failed(w, c, TLS_ERROR,
			    "connection error");
		else
			conn_close(w, c, "connection error");
		return;
	}
	if (conn_set_events(w, c, want) == -1) {
		if (c->state == CONN_HANDSHAKE)
			w->cnt.handshakes_failed++;
		conn_close(w, c, "internal error (epoll)");
	}
}

/* After a read on an established or closing session. */
static void
conn_after_read(struct worker *w, struct conn *c, enum tls_res r,
    uint32_t events, const char *reason)
{
	switch (r) {
	case TLS_WANT_READ:
	case TLS_WANT_WRITE:
		conn_wait(w, c, r, events);
		break;
	case TLS_AGAIN:
		conn_mark_ready(w, c);
		break;
	case TLS_CLOSED:
		conn_close(w, c, c->state == CONN_CLOSING ?
		    "server shutting down" : reason);
		break;
	case TLS_DONE:
	case TLS_ERROR:
		conn_close(w, c, reason);
		break;
	}
}

/* Advance the close_notify exchange; 1 when the caller should read on. */
static int
conn_step_closing(struct worker *w, struct conn *c, uint32_t events,
    char *reason, size_t len)
{
	enum tls_res	 r;

	if (c->shutdown_sent)
		return (1);
	switch ((r = tls_shutdown(c->ssl, reason, len))) {
	case TLS_DONE:
		conn_close(w, c, "server shutting down");
		return (0);
	case TLS_WANT_READ:
		/* Sent; the peer's close_notify or EOF ends the session. */
		c->shutdown_sent = true;
		return (1);
	case TLS_WANT_WRITE:
		conn_wait(w, c, r, events);
		return (0);
	default:
		conn_close(w, c, reason);
		return (0);
	}
}

/*
 * Advance c as far as it goes without blocking: handshake, then reading, or
 * the close_notify exchange.  events is what epoll reported, 0 when run from
 * the ready list.
 */
void
conn_handle(struct worker *w, struct conn *c, uint32_t events)
{
	char		 reason[TLS_REASON_MAX] = "";
	enum tls_res	 r;

	if (c->magic != CONN_MAGIC)
		return;
	if (c->state == CONN_HANDSHAKE) {
		r = tls_handshake(c->ssl, reason, sizeof(reason));
		if (r == TLS_WANT_READ || r == TLS_WANT_WRITE) {
			conn_wait(w, c, r, events);
			return;
		}
		if (r != TLS_DONE) {
			conn_handshake_failed(w, c, r, reason);
			return;
		}
		if (conn_established(w, c) == -1)
			return;
		/* The client may have sent data right behind Finished. */
	}
	if (c->state == CONN_CLOSING &&
	    !conn_step_closing(w, c, events, reason, sizeof(reason)))
		return;
	r = tls_read_discard(c->ssl, CONN_MAX_READS, &c->rx_bytes, reason,
	    sizeof(reason));
	conn_after_read(w, c, r, events, reason);
}

void
conn_run_ready(struct worker *w)
{
	struct conn	*c;
	size_t		 n = 0;

	/* Only those queued before this pass: a conn may queue itself again. */
	TAILQ_FOREACH(c, &w->ready, ready_entry)
		n++;
	while (n-- > 0 && (c = TAILQ_FIRST(&w->ready)) != NULL) {
		TAILQ_REMOVE(&w->ready, c, ready_entry);
		c->on_ready = false;
		conn_handle(w, c, 0);
	}
}

int64_t
conn_expire(struct worker *w, int64_t now)
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&w->handshaking)) != NULL) {
		if (c->deadline_ms == 0)
			return (-1);	/* no timeout configured */
		if (c->deadline_ms > now)
			return (c->deadline_ms - now);
		w->cnt.handshake_timeouts++;
		worker_log_limited(&c->acceptor->rl, LOG_WARNING,
		    "peer %s: handshake timed out after %u ms", c->peer,
		    w->cfg->handshake_timeout_ms);
		conn_close(w, c, NULL);
	}
	return (-1);
}

void
conn_drain_all(struct worker *w)
{
	struct conn	*c, *next;

	while ((c = TAILQ_FIRST(&w->handshaking)) != NULL)
		conn_close(w, c, "server shutting down");
	for (c = TAILQ_FIRST(&w->live); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->state != CONN_ESTABLISHED)
			continue;
		c->state = CONN_CLOSING;
		conn_handle(w, c, 0);
	}
}

void
conn_close_all(struct worker *w, bool close_notify, const char *why)
{
	struct conn	*c;
	char		 reason[TLS_REASON_MAX];

	while ((c = TAILQ_FIRST(&w->handshaking)) != NULL)
		conn_close(w, c, why);
	while ((c = TAILQ_FIRST(&w->live)) != NULL) {
		/* One attempt, no waiting: the process is about to exit. */
		if (close_notify && !c->shutdown_sent)
			(void)tls_shutdown(c->ssl, reason, sizeof(reason));
		conn_close(w, c, why);
	}
}

void
conn_reap(struct worker *w)
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&w->dead)) != NULL) {
		TAILQ_REMOVE(&w->dead, c, entry);
		c->magic = 0;
		free(c);
	}
}
