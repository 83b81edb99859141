/*
 * Client connections of a worker: see conn.h.  Everything here is driven by
 * level-triggered epoll.  A session reads and writes independently: the
 * interest of a conn is what its reading waits for (EPOLLIN, or EPOLLOUT
 * when OpenSSL wants to write first) plus what a blocked write waits for,
 * if any (either direction can want the other).  A conn that stopped
 * reading for fairness with data left inside OpenSSL goes on the ready
 * list, because such bytes never make the socket readable again.
 *
 * Output: deliveries only queue (session.c); conns with queued output sit
 * on the worker's outlist (when they get there: outsched.c), and
 * conn_flush_pending() writes them before the loop sleeps, coalescing what
 * each got into 16 KiB records.  With [cot]
 * flush_delay a conn is written at most once per delay unless a record's
 * worth is queued: output that comes within the delay of the last write
 * waits for the rest of it, so that under load one write carries several
 * events (a write -- record, system call, TCP -- is most of what a delivery
 * costs), while a quiet session's event goes out at once, as Nagle's
 * algorithm does for TCP.  Conns written within the delay are on the
 * worker's written list, oldest first, which the output pass reads only as
 * far as the delays that ended.  A write that would block leaves the outlist
 * and waits for its event.
 *
 * Latency classes: a queue that holds only SA positions waits up to [cot]
 * sa_flush_delay from the oldest of them (the turn it was queued in), on
 * the worker's sawait list (by deadline); meanwhile a newer position of a
 * uid supersedes the queued one (outq.c).  A record's worth goes at once,
 * as whole records: what is left waits for its own deadline.  Anything
 * else queued -- a chat line, an emergency, a directed event, a pong, a
 * notice -- makes the conn due as before, and the write carries the
 * positions along.
 *
 * A conn from a [tcp] listener has no SSL: conn_io_read() and
 * conn_io_write() use the socket directly and it is established at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "shared/tlsctx.h"
#include "worker/auth.h"
#include "worker/conn.h"
#include "worker/outsched.h"
#include "worker/registry.h"
#include "worker/revoke.h"

/* SSL_read calls per event before yielding to other conns. */
#define CONN_MAX_READS		32
/* Records written per session and pass before yielding to other conns. */
#define CONN_MAX_WRITES		16

static uint8_t		 conn_rbuf[CONN_IO_BUF];
static uint8_t		 conn_stage[CONN_IO_BUF];

static void	 conn_drain_one(struct worker *, struct conn *);

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

const char *
conn_who(const struct conn *c, char *buf, size_t len)
{
	if (c->plain)
		snprintf(buf, len, "peer %s, plain TCP", c->peer);
	else
		snprintf(buf, len, "peer %s subject \"%s\" serial %s", c->peer,
		    c->tls.subject, c->tls.serial_hex);
	return (buf);
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

static int
conn_update_events(struct worker *w, struct conn *c)
{
	return (conn_set_events(w, c, c->rd_wait | c->wr_wait));
}

static void
conn_mark_ready(struct worker *w, struct conn *c)
{
	if (c->on_ready)
		return;
	TAILQ_INSERT_TAIL(&w->ready, c, ready_entry);
	c->on_ready = true;
}

/*
 * Take c off the handshaking or live list, the ready list, the outlist and
 * the written list.
 */
static void
conn_unlink(struct worker *w, struct conn *c)
{
	if (c->on_ready) {
		TAILQ_REMOVE(&w->ready, c, ready_entry);
		c->on_ready = false;
	}
	conn_outlist_del(w, c);
	conn_written_del(w, c);
	conn_sawait_del(w, c);
	if (c->state == CONN_HANDSHAKE) {
		TAILQ_REMOVE(&w->handshaking, c, entry);
		w->cnt.handshaking--;
		admit_del(&w->admit, &c->adm);
	} else {
		TAILQ_REMOVE(&w->live, c, entry);
		receivers_stale(w);
		w->cnt.sessions--;
		registry_cert_del(w, c);
	}
}

/*
 * Release everything c holds.  why, when not NULL, is logged for an
 * established session; handshake failures are logged by their callers.
 */
static void
conn_close_level(struct worker *w, struct conn *c, int level, const char *why)
{
	char	 who[CONN_WHO_MAX];

	if (c->magic != CONN_MAGIC)
		return;
	if (why != NULL && c->state != CONN_HANDSHAKE) {
		conn_who(c, who, sizeof(who));
		(level <= LOG_WARNING ? log_warnx : log_info)("session %" PRIu64
		    " closed: %s (%s, %" PRId64 " s, %" PRIu64 " bytes and "
		    "%" PRIu64 " events in, %" PRIu64 " events out)", c->id,
		    why, who, (clock_mono_ms() - c->established_ms) / 1000,
		    c->rx_bytes, c->s.events_in, c->s.events_out);
	} else if (why != NULL)
		log_debug("peer %s: connection %" PRIu64 " closed during "
		    "handshake: %s", c->peer, c->id, why);
	conn_unlink(w, c);
	/* Off every list first: the disconnect notice must not come back. */
	session_end(w, c);
	/* close() would drop the registration too, unless the fd was dup'ed. */
	if (c->fd != -1) {
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	SSL_free(c->ssl);
	c->ssl = NULL;
	c->fd = -1;
	tls_peer_clear(&c->tls);
	c->magic = CONN_DEAD_MAGIC;
	TAILQ_INSERT_TAIL(&w->dead, c, entry);
}

void
conn_close(struct worker *w, struct conn *c, const char *why)
{
	conn_close_level(w, c, LOG_INFO, why);
}

void
conn_abort(struct worker *w, struct conn *c, const char *why)
{
	conn_close_level(w, c, LOG_WARNING, why);
}

struct conn *
conn_of_admit(struct admit_node *n)
{
	return ((struct conn *)(void *)((char *)n -
	    offsetof(struct conn, adm)));
}

void
conn_evict(struct worker *w, struct conn *c)
{
	if (c->magic != CONN_MAGIC || c->state != CONN_HANDSHAKE)
		return;
	conn_close(w, c, "evicted: room for a new connection");
}

/*
 * [tls] max_sessions_per_cert: the certificate of c, which just completed
 * its handshake, may hold one more session, or its oldest session in this
 * worker is closed for it; -1 when neither (c refused, counted, logged).
 * The count of other workers' sessions comes from the store, which lags by
 * the turn of their loop that has not committed yet.
 */
static int
conn_cert_admit(struct worker *w, struct conn *c)
{
	struct conn	*oldest = NULL;
	unsigned	 max = w->cfg->max_sessions_per_cert;
	size_t		 here = 0, n;
	char		 who[CONN_WHO_MAX], why[160];

	if (max == 0 || c->plain || c->tls.serial_hex[0] == '\0')
		return (0);
	n = registry_cert_count(w, c, max, &here, &oldest);
	if (n < max)
		return (0);
	if (oldest != NULL) {
		w->cnt.close_per_cert++;
		log_warnx("peer %s: certificate serial %s holds %zu sessions "
		    "(%zu in this worker), the max_sessions_per_cert limit of "
		    "%u: its oldest here, session %" PRIu64 ", makes room",
		    c->peer, c->tls.serial_hex, n, here, max, oldest->id);
		snprintf(why, sizeof(why), "replaced by a new session of its "
		    "certificate (max_sessions_per_cert %u)", max);
		conn_close(w, oldest, why);
		return (0);
	}
	w->cnt.rejected_per_cert++;
	log_limited(&w->rl_cert, LOG_WARNING, "session refused: its "
	    "certificate holds %zu sessions in other workers, the "
	    "max_sessions_per_cert limit of %u (%s)", n, max,
	    conn_who(c, who, sizeof(who)));
	conn_close(w, c, NULL);
	return (-1);
}

/* The handshake completed, or a plain connection was accepted. */
static int
conn_established(struct worker *w, struct conn *c)
{
	char	 who[CONN_WHO_MAX];
	char	 why[REVOKE_WHY_MAX];

	if (!c->plain && tls_peer_get(c->ssl,
	    w->cfg->user_rdn_nid, &c->tls) == -1) {
		/* Only reachable if the context stopped requiring a cert. */
		w->cnt.handshakes_failed++;
		w->cnt.hs_fail[IPC_HS_NO_CERT]++;
		log_limited(&c->acceptor->rl, LOG_WARNING,
		    "peer %s: handshake failed: %s", c->peer,
		    TLS_REASON_NO_CERT);
		conn_close(w, c, NULL);
		return (-1);
	}
	/* OpenSSL does not verify the certificate of a resumed session. */
	if (!c->plain && SSL_session_reused(c->ssl) &&
	    revoke_check_resumed(w, &c->tls, why, sizeof(why)) == -1) {
		w->cnt.handshakes_failed++;
		w->cnt.hs_fail[IPC_HS_REVOKED]++;
		w->cnt.revoked_refused++;
		log_limited(&c->acceptor->rl, LOG_WARNING,
		    "peer %s: resumed session refused: %s (subject \"%s\" "
		    "serial %s)", c->peer, why, c->tls.subject,
		    c->tls.serial_hex);
		conn_close(w, c, NULL);
		return (-1);
	}
	/* Handshakes that finish together may overshoot the accept check. */
	if (w->cfg->max_sessions != 0 &&
	    w->cnt.sessions >= w->cfg->max_sessions) {
		w->cnt.rejected_full++;
		log_limited(&w->rl_full, LOG_WARNING, "peer %s: %u sessions, "
		    "the max_sessions limit: session refused", c->peer,
		    w->cfg->max_sessions);
		conn_close(w, c, NULL);
		return (-1);
	}
	if (conn_cert_admit(w, c) == -1)
		return (-1);
	TAILQ_REMOVE(&w->handshaking, c, entry);
	w->cnt.handshaking--;
	admit_del(&w->admit, &c->adm);
	c->state = CONN_ESTABLISHED;
	c->deadline_ms = 0;
	c->established_ms = clock_mono_ms();
	c->rd_wait = EPOLLIN;
	TAILQ_INSERT_TAIL(&w->live, c, entry);
	receivers_stale(w);
	w->cnt.sessions++;
	registry_cert_add(w, c);
	if (c->plain)
		log_info("session %" PRIu64 " established: %s on %s", c->id,
		    conn_who(c, who, sizeof(who)), c->acceptor->name);
	else {
		w->cnt.handshakes_ok++;
		if (SSL_session_reused(c->ssl))
			w->cnt.handshakes_resumed++;
		log_info("session %" PRIu64 " established: %s (%s, resumed "
		    "%s)", c->id, conn_who(c, who, sizeof(who)),
		    SSL_get_version(c->ssl),
		    SSL_session_reused(c->ssl) ? "yes" : "no");
	}
	auth_session(w, c);
	session_start(w, c);
	return (0);
}

struct conn *
conn_new(struct worker *w, struct acceptor *a, int fd,
    const struct sockaddr *sa, socklen_t salen)
{
	struct epoll_event	 ev;
	struct admit_key	 key;
	struct conn		*c;
	char			 peer[CONN_ADDR_MAX];

	conn_addr_format(sa, salen, peer, sizeof(peer));
	admit_key_set(&key, sa, salen);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("peer %s: cannot allocate a connection", peer);
		close(fd);
		return (NULL);
	}
	memcpy(c->peer, peer, sizeof(c->peer));
	c->fd = fd;
	c->acceptor = a;
	c->plain = a->plain;
	c->accepted_ms = clock_mono_ms();
	session_init(w, c);
	if (!c->plain && w->cfg->handshake_timeout_ms > 0)
		c->deadline_ms = c->accepted_ms + w->cfg->handshake_timeout_ms;
	if (!c->plain && (c->ssl = tls_new(w->ctx, fd)) == NULL) {
		log_ssl(LOG_WARNING, "peer %s: cannot create a TLS session",
		    peer);
		goto fail;
	}
	memset(&ev, 0, sizeof(ev));
	/* The ClientHello, or the first event, comes first. */
	ev.events = c->events = c->rd_wait = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		log_warn("peer %s: epoll_ctl", peer);
		goto fail;
	}
	if (!c->plain && admit_add(&w->admit, &c->adm, &key) == -1) {
		log_warn("peer %s: connection", peer);
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
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
	if (c->plain) {
		if (conn_established(w, c) == -1)
			return (NULL);
		return (c);
	}
	/*
	 * The ClientHello often came right behind the TCP handshake: answered
	 * now, the connection is no longer among the first an eviction takes.
	 */
	conn_handle(w, c, EPOLLIN);
	return (c->magic == CONN_MAGIC ? c : NULL);
fail:
	SSL_free(c->ssl);
	close(fd);
	free(c);
	return (NULL);
}

/* Why a handshake failed, for the metrics (enum ipc_hs_fail). */
static enum ipc_hs_fail
conn_handshake_class(const struct conn *c, enum tls_res r, const char *reason)
{
	long	 vr = X509_V_OK;

	if (c->ssl != NULL)
		vr = SSL_get_verify_result(c->ssl);
	if (vr != X509_V_OK)
		return ((enum ipc_hs_fail)tlsctx_verify_class(vr));
	if (r == TLS_CLOSED)
		return (IPC_HS_CLOSED);
	if (strcmp(reason, TLS_REASON_NO_CERT) == 0)
		return (IPC_HS_NO_CERT);
	return (IPC_HS_PROTOCOL);
}

static void
conn_handshake_failed(struct worker *w, struct conn *c, enum tls_res r,
    const char *reason)
{
	enum ipc_hs_fail	 cls = conn_handshake_class(c, r, reason);

	w->cnt.handshakes_failed++;
	w->cnt.hs_fail[cls]++;
	if (cls == IPC_HS_REVOKED)
		w->cnt.revoked_refused++;
	/* A peer that hangs up unannounced is a probe, not an attack. */
	log_limited(&c->acceptor->rl,
	    r == TLS_CLOSED ? LOG_INFO : LOG_WARNING,
	    "peer %s: handshake failed: %s", c->peer, reason);
	conn_close(w, c, NULL);
}

/* Wait for the direction OpenSSL wants to go on reading (or handshaking). */
static void
conn_wait(struct worker *w, struct conn *c, enum tls_res r, uint32_t events)
{
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
	c->rd_wait = r == TLS_WANT_WRITE ? EPOLLOUT : EPOLLIN;
	if (conn_update_events(w, c) == -1) {
		if (c->state == CONN_HANDSHAKE) {
			w->cnt.handshakes_failed++;
			w->cnt.hs_fail[IPC_HS_PROTOCOL]++;
		}
		conn_close(w, c, "internal error (epoll)");
	}
}

static enum tls_res
conn_io_read(struct conn *c, void *buf, size_t len, size_t *n, char *reason,
    size_t rlen)
{
	ssize_t	 r;

	if (c->ssl != NULL)
		return (tls_read(c->ssl, buf, len, n, reason, rlen));
	*n = 0;
	while ((r = read(c->fd, buf, len)) == -1 && errno == EINTR)
		;
	if (r > 0) {
		*n = (size_t)r;
		return (TLS_DONE);
	}
	if (r == 0) {
		snprintf(reason, rlen, "closed by peer");
		return (TLS_CLOSED);
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return (TLS_WANT_READ);
	snprintf(reason, rlen, "%s", strerror(errno));
	return (errno == ECONNRESET ? TLS_CLOSED : TLS_ERROR);
}

/*
 * Whether a read that gave n bytes may have left some behind that epoll
 * will not report: bytes in OpenSSL's buffers, or a plain read that
 * filled the buffer.
 */
static bool
conn_io_pending(struct conn *c, size_t n)
{
	if (c->ssl != NULL)
		return (SSL_has_pending(c->ssl) == 1);
	return (n == sizeof(conn_rbuf));
}

static enum tls_res
conn_io_write(struct conn *c, const void *buf, size_t len, size_t *n,
    char *reason, size_t rlen)
{
	ssize_t	 r;

	if (c->ssl != NULL)
		return (tls_write(c->ssl, buf, len, n, reason, rlen));
	*n = 0;
	while ((r = send(c->fd, buf, len, MSG_NOSIGNAL)) == -1 &&
	    errno == EINTR)
		;
	if (r >= 0) {
		*n = (size_t)r;
		return (TLS_DONE);
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return (TLS_WANT_WRITE);
	snprintf(reason, rlen, "%s", strerror(errno));
	return (errno == EPIPE || errno == ECONNRESET ? TLS_CLOSED :
	    TLS_ERROR);
}

/*
 * Write c's queued output: staged 16 KiB at a time, at most CONN_MAX_WRITES
 * records; positions that may still wait stay queued.  Returns 1 when output is left and the socket may take more, 0
 * when the queue is empty, the write is blocked (c then waits for its epoll
 * event) or c was closed.
 */
static int
conn_flush(struct worker *w, struct conn *c)
{
	struct outq	*q = &c->s.outq;
	char		 reason[TLS_REASON_MAX] = "";
	enum tls_res	 r;
	size_t		 n, done, events;
	int		 i;

	if (c->s.doom != NULL) {
		conn_abort(w, c, c->s.doom);
		return (0);
	}
	if (c->state != CONN_ESTABLISHED)
		return (0);
	for (i = 0; i < CONN_MAX_WRITES; i++) {
		/*
		 * Under a record's worth of positions left by this pass:
		 * they wait for their own deadline (or for a full record),
		 * not for a small write of their own.
		 */
		if (i > 0 && conn_sa_hold(w, c))
			return (0);
		/* Positions that may wait are never cut between records. */
		n = w->cfg->sa_flush_delay_ms > 0 && !c->draining &&
		    !outq_urgent(q) ?
		    outq_peek_whole(q, conn_stage, sizeof(conn_stage)) :
		    outq_peek(q, conn_stage, sizeof(conn_stage));
		if (n == 0)
			break;
		r = conn_io_write(c, conn_stage, n, &done, reason,
		    sizeof(reason));
		if (r == TLS_DONE) {
			/* Nothing unparsed is ever queued. */
			events = outq_consume_count(q, done, w->cnt.ev_out,
			    IPC_EV_UNPARSED);
			c->tx_bytes += done;
			c->s.write_ms = clock_mono_ms();
			conn_written(w, c, c->s.write_ms);
			w->cnt.bytes_out += done;
			c->s.events_out += events;
			w->cnt.events_out += events;
			continue;
		}
		if (r == TLS_WANT_READ || r == TLS_WANT_WRITE) {
			/* OpenSSL holds a record made of these bytes. */
			if (c->ssl != NULL)
				outq_pin(q, n);
			c->wr_wait = r == TLS_WANT_WRITE ? EPOLLOUT : EPOLLIN;
			if (conn_update_events(w, c) == -1)
				conn_close(w, c, "internal error (epoll)");
			return (0);
		}
		conn_close(w, c, r == TLS_CLOSED ? "closed by peer" : reason);
		return (0);
	}
	if (i == CONN_MAX_WRITES && outq_bytes(q) > 0)
		return (1);
	/* All written (by the last record of the pass, too). */
	if (c->draining)
		conn_drain_one(w, c);
	return (0);
}

void
conn_flush_pending(struct worker *w)
{
	struct conn_list	 later;
	struct conn		*c;
	int64_t			 now;

	now = TAILQ_EMPTY(&w->written) && TAILQ_EMPTY(&w->sawait) ? 0 :
	    clock_mono_ms();
	/* Positions whose deadline came: due now, whatever else is queued. */
	while ((c = TAILQ_FIRST(&w->sawait)) != NULL && now >= c->sa_due_ms) {
		conn_sawait_del(w, c);
		conn_output(w, c);
	}
	/* Whose delay ended: the output that waited for it is due. */
	if (!TAILQ_EMPTY(&w->written)) {
		while ((c = TAILQ_FIRST(&w->written)) != NULL &&
		    now - c->flushed_ms >= w->cfg->flush_delay_ms) {
			conn_written_del(w, c);
			if (outq_bytes(&c->s.outq) > 0)
				conn_output(w, c);
		}
	}
	TAILQ_INIT(&later);
	/* Closing a session may queue its notice to others: they come next. */
	while ((c = TAILQ_FIRST(&w->outlist)) != NULL) {
		conn_outlist_del(w, c);
		if (conn_flush(w, c) == 1) {
			/* Yielded with more to write: the next pass goes on. */
			TAILQ_INSERT_TAIL(&later, c, out_entry);
			c->on_outlist = true;
		}
	}
	TAILQ_CONCAT(&w->outlist, &later, out_entry);
}

/*
 * Read what the socket has, at most CONN_MAX_READS records, into the
 * session (or nowhere while closing).  *aborted when the session was closed
 * for what it sent.
 */
static enum tls_res
conn_read(struct worker *w, struct conn *c, char *reason, size_t len,
    bool *aborted)
{
	enum tls_res	 r;
	size_t		 n;
	unsigned	 i;

	*aborted = false;
	for (i = 0; i < CONN_MAX_READS; i++) {
		r = conn_io_read(c, conn_rbuf, sizeof(conn_rbuf), &n, reason,
		    len);
		if (r != TLS_DONE)
			return (r);
		c->rx_bytes += n;
		w->cnt.bytes_in += n;
		if (c->state != CONN_ESTABLISHED)
			continue;
		if (session_input(w, c, conn_rbuf, n, reason, len) == -1) {
			conn_abort(w, c, reason);
			*aborted = true;
			return (TLS_DONE);
		}
		/* Its own queue overflowed: closed at the output pass. */
		if (c->s.doom != NULL)
			return (TLS_DONE);
		/*
		 * Nothing left in OpenSSL: the socket is all there is, and
		 * epoll (level-triggered) says when it has more.  Another read
		 * now would mostly fail with EAGAIN, one wasted call per event.
		 */
		if (!conn_io_pending(c, n))
			return (TLS_WANT_READ);
	}
	/*
	 * Bytes already decrypted or buffered inside OpenSSL never make the
	 * socket readable again, so come back by ourselves.
	 */
	return (TLS_AGAIN);
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
	case TLS_DONE:		/* doomed: closed at the output pass */
		break;
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
	if (c->ssl == NULL) {
		/* Plain TCP: half-close, then read until the peer's EOF. */
		if (shutdown(c->fd, SHUT_WR) == -1) {
			conn_close(w, c, "server shutting down");
			return (0);
		}
		c->shutdown_sent = true;
		return (1);
	}
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

/* How far c's handshake has gone, for the admission policy (admit.h). */
static enum admit_level
conn_hs_level(const struct conn *c)
{
	/* Verified as it arrived, or restored from a resumption ticket. */
	if (SSL_get0_peer_certificate(c->ssl) != NULL)
		return (ADMIT_AUTH);
	switch (SSL_get_state(c->ssl)) {
	case TLS_ST_BEFORE:
	case TLS_ST_SR_CLNT_HELLO:	/* a ClientHello still arriving */
		return (ADMIT_FRESH);
	default:
		return (ADMIT_HELLO);
	}
}

/*
 * An established session's socket reports an error.  The kernel ends a
 * peer that vanished (keepalive probes unanswered, data unacknowledged for
 * [server] tcp_user_timeout) with ETIMEDOUT: a dead peer, counted apart.
 * true when c was closed.
 */
static bool
conn_socket_error(struct worker *w, struct conn *c)
{
	socklen_t	 len = sizeof(int);
	int		 err = 0;
	char		 why[128];

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err == 0)
		return (false);
	switch (err) {
	case ETIMEDOUT:
		w->cnt.close_dead_peer++;
		snprintf(why, sizeof(why), "dead peer: nothing acknowledged "
		    "(tcp_keepalive %u s, tcp_user_timeout %u ms)",
		    (w->cfg->keepalive_ms + 999) / 1000,
		    w->cfg->user_timeout_ms);
		conn_close(w, c, why);
		break;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
		/* A router said so while TCP retried: dead all the same. */
		w->cnt.close_dead_peer++;
		snprintf(why, sizeof(why), "dead peer: %s", strerror(err));
		conn_close(w, c, why);
		break;
	default:
		/* What reading would have said (tls.c). */
		conn_close(w, c, strerror(err));
		break;
	}
	return (true);
}

/*
 * Advance c as far as it goes without blocking: handshake, then writing and
 * reading, or the close_notify exchange.  events is what epoll reported, 0
 * when run from the ready list.
 */
void
conn_handle(struct worker *w, struct conn *c, uint32_t events)
{
	char		 reason[TLS_REASON_MAX] = "";
	enum tls_res	 r;
	bool		 aborted;
	int		 more;

	if (c->magic != CONN_MAGIC || c->s.doom != NULL)
		return;
	if (c->state == CONN_HANDSHAKE) {
		r = tls_handshake(c->ssl, reason, sizeof(reason));
		if (r == TLS_WANT_READ || r == TLS_WANT_WRITE) {
			admit_raise(&w->admit, &c->adm, conn_hs_level(c));
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
		events = 0;
	}
	if ((events & EPOLLERR) && conn_socket_error(w, c))
		return;
	if (c->wr_wait != 0 &&
	    (events & (c->wr_wait | EPOLLERR | EPOLLHUP))) {
		c->wr_wait = 0;
		more = conn_flush(w, c);
		if (c->magic != CONN_MAGIC)
			return;
		if (c->wr_wait == 0 && conn_update_events(w, c) == -1) {
			conn_close(w, c, "internal error (epoll)");
			return;
		}
		if (more)
			conn_output(w, c);
	}
	if (events != 0 && !(events & (c->rd_wait | EPOLLERR | EPOLLHUP)))
		return;
	if (c->state == CONN_CLOSING &&
	    !conn_step_closing(w, c, events, reason, sizeof(reason)))
		return;
	r = conn_read(w, c, reason, sizeof(reason), &aborted);
	if (!aborted)
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
		w->cnt.hs_fail[IPC_HS_TIMEOUT]++;
		log_limited(&c->acceptor->rl, LOG_WARNING,
		    "peer %s: handshake timed out after %u ms", c->peer,
		    w->cfg->handshake_timeout_ms);
		conn_close(w, c, NULL);
	}
	return (-1);
}

/*
 * A draining session whose output is all written starts its close_notify
 * (from the ready list: this may run in the middle of conn_handle()).  One
 * with output left keeps writing as its socket allows; the worker's drain
 * deadline bounds how long.
 */
static void
conn_drain_one(struct worker *w, struct conn *c)
{
	if (c->state != CONN_ESTABLISHED || c->wr_wait != 0 ||
	    outq_bytes(&c->s.outq) > 0)
		return;
	conn_outlist_del(w, c);
	c->state = CONN_CLOSING;
	conn_mark_ready(w, c);
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
		if (c->s.doom != NULL) {
			conn_abort(w, c, c->s.doom);
			continue;
		}
		c->draining = true;
		/* What is queued goes out first; the rest as the socket takes it. */
		if (c->wr_wait == 0)
			conn_output(w, c);
		conn_drain_one(w, c);
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
		if (close_notify && !c->shutdown_sent && c->ssl != NULL)
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
