/*
 * The connections of the api process: see http.h for what they promise
 * and http_int.h for the state.  libevent owns each connection (evhttp's
 * evhttp_connection and its bufferevent); a struct api_conn rides along:
 *
 *   - evhttp_set_bevcb calls api_conn_bevcb() before evhttp knows the
 *     descriptor: the bufferevent is made here (with our SSL) and one
 *     reference to it is ours, so that it outlives evhttp's use;
 *   - the admission runs from the loop right after (the connection's
 *     descriptor and evhttp_connection are set by then, no byte has been
 *     read): limits, then evhttp_connection_set_closecb(), which tells us
 *     of every end whoever closes;
 *   - we close a connection with evhttp_connection_free(), always from
 *     our own deferred event, never inside libevent's call about it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "api/http_int.h"
#include "shared/clock.h"
#include "shared/crlset.h"
#include "shared/pkiutil.h"
#include "shared/tlsctx.h"

#define API_CONN_DEAD_MAGIC	0x41444541u	/* "ADEA" */
#define API_DRAIN_MAX		(64 * 1024)	/* input read before a close */

static int	 api_ssl_idx = -1;

static const char api_plain_on_tls[] =
    "HTTP/1.1 400 Bad Request\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 42\r\n"
    "Connection: close\r\n\r\n"
    "This port speaks TLS: use https:// here.\r\n";

int
api_conn_ssl_index(void)
{
	if (api_ssl_idx == -1)
		api_ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	return (api_ssl_idx);
}

void
api_conn_refused(struct api_conn *c, uint64_t *counter, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512];

	if (counter != NULL)
		(*counter)++;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_limited(&c->http->rl, LOG_WARNING, "%s: %s: %s", c->http->opts.name,
	    c->peer[0] != '\0' ? c->peer : "?", msg);
}

static void
api_conn_unlink(struct api_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->http->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
	c->http->n_conns--;
}

static void
api_conn_set_state(struct api_conn *c, enum api_conn_state st,
    unsigned wait_ms)
{
	c->state = st;
	c->since_ms = clock_mono_ms();
	c->deadline_ms = wait_ms > 0 ? c->since_ms + wait_ms : 0;
}

/* --- the TLS of a connection ------------------------------------------ */

static struct api_conn *
api_conn_of_ssl(const SSL *ssl)
{
	struct api_conn	*c;

	if (api_ssl_idx == -1 || (c = SSL_get_ex_data(ssl, api_ssl_idx)) ==
	    NULL || c->magic != API_CONN_MAGIC)
		return (NULL);
	return (c);
}

/*
 * The workers' verify callback (tlsctx.c: CA, CRL set, stale policy) with
 * a note of the certificate it refused, for the log line.
 */
static int
api_conn_verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL		*ssl;
	SSL_verify_cb	 inner;
	struct api_conn	*c;
	X509		*x;
	BIGNUM		*bn;
	char		*hex;

	ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl == NULL)
		return (0);
	if ((inner = SSL_CTX_get_verify_callback(SSL_get_SSL_CTX(ssl))) !=
	    NULL)
		ok = inner(ok, xs);
	if (ok || (c = api_conn_of_ssl(ssl)) == NULL ||
	    (x = X509_STORE_CTX_get_current_cert(xs)) == NULL)
		return (ok);
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) !=
	    NULL && (hex = BN_bn2hex(bn)) != NULL) {
		snprintf(c->bad_serial, sizeof(c->bad_serial), "%s", hex);
		OPENSSL_free(hex);
	}
	BN_free(bn);
	(void)X509_NAME_oneline(X509_get_subject_name(x), c->bad_subject,
	    sizeof(c->bad_subject));
	return (ok);
}

/* Whether set revokes the certificate of c; why says since when. */
static bool
api_conn_revoked(const struct api_conn *c, const struct crlset *set,
    char *why, size_t len)
{
	const struct crlset_entry	*e;
	char				 since[32] = "unknown";

	if (set == NULL || c->tls.serial == NULL || c->tls.issuer == NULL ||
	    !crlset_covers(set, c->tls.issuer) ||
	    !crlset_find(set, c->tls.serial, &e))
		return (false);
	if (e->revoked_at != 0)
		pki_time_format((time_t)e->revoked_at, since, sizeof(since));
	snprintf(why, len, "certificate %s revoked (since %s)",
	    c->tls.serial_hex, since);
	return (true);
}

/*
 * The handshake is done (called inside OpenSSL: nothing is closed here).
 * OpenSSL checked the chain and the CRL set; no session resumes here (the
 * api process has no ticket key and no cache), but the set is checked
 * again against the serial, as the workers do after every handshake.
 */
static void
api_conn_handshake_done(struct api_conn *c)
{
	struct api	*api = c->http->api;
	char		 why[160];

	c->hs_done = true;
	/* Closed as a failed handshake: still counted as handshaking. */
	if (c->http->opts.client_cert && c->http->opts.cert_optional &&
	    SSL_get0_peer_certificate(c->ssl) == NULL)
		c->has_cert = false;	/* the console's login page only */
	else if (c->http->opts.client_cert && tls_peer_get(c->ssl,
	    api->cfg->user_rdn_nid, &c->tls) == -1) {
		c->hs_done = false;
		api_conn_close(c, "no client certificate after the handshake",
		    IPC_HS_NO_CERT);
		return;
	} else if (c->http->opts.client_cert)
		c->has_cert = true;
	if (api_conn_revoked(c, api->crl, why, sizeof(why))) {
		c->hs_done = false;
		snprintf(c->why, sizeof(c->why), "%s", why);
		api->cnt.revoked_refused++;
		api_conn_close(c, c->why, IPC_HS_REVOKED);
		return;
	}
	api->cnt.handshakes_ok++;
	api->cnt.handshaking--;
	if (c->has_cert)
		log_debug("%s: %s: %s, certificate %s serial %s",
		    c->http->opts.name, c->peer, SSL_get_version(c->ssl),
		    c->tls.subject, c->tls.serial_hex);
	else
		log_debug("%s: %s: %s", c->http->opts.name, c->peer,
		    SSL_get_version(c->ssl));
	api_conn_set_state(c, CONN_IDLE, c->http->opts.timeout_ms);
}

static void
api_conn_info_cb(const SSL *ssl, int where, int ret)
{
	struct api_conn	*c;

	if (!(where & SSL_CB_HANDSHAKE_DONE) ||
	    (c = api_conn_of_ssl(ssl)) == NULL || c->hs_done ||
	    c->state != CONN_HANDSHAKE)
		return;
	api_conn_handshake_done(c);
}

/* Our SSL for a connection of http: the workers' context, our callbacks. */
static SSL *
api_conn_ssl_new(struct api_http *http, struct api_conn *c)
{
	SSL	*ssl;

	ERR_clear_error();
	if ((ssl = SSL_new(http->ctx)) == NULL)
		return (NULL);
	if (SSL_set_ex_data(ssl, api_conn_ssl_index(), c) != 1) {
		SSL_free(ssl);
		return (NULL);
	}
	if (http->opts.client_cert && http->opts.cert_optional)
		SSL_set_verify(ssl, SSL_VERIFY_PEER, api_conn_verify_cb);
	else if (http->opts.client_cert)
		SSL_set_verify(ssl, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, api_conn_verify_cb);
	else
		SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	/* Every handshake a full one: the chain and the CRL checked each time. */
	SSL_set_options(ssl, SSL_OP_NO_TICKET);
	(void)SSL_set_num_tickets(ssl, 0);
	SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
	SSL_set_info_callback(ssl, api_conn_info_cb);
	return (ssl);
}

/* --- the gate of the plain listener ----------------------------------- */

/*
 * The bytes of the request head as they come (before evhttp reads them):
 * one no HTTP head has (a TLS hello, binary) is answered 400 at once
 * rather than at the timeout, a head longer than max_headers 431.  Only
 * the byte classes and the empty line that ends the head are looked at:
 * evhttp parses the request.
 */
static void
api_conn_gate_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct api_conn		*c = arg;
	struct evbuffer_ptr	 p;
	struct evbuffer_iovec	 v[8];
	size_t			 len, i, k, from;
	int			 n, j;
	unsigned char		 ch;

	if (c->magic != API_CONN_MAGIC || info->n_added == 0 ||
	    c->head_done || c->refuse_code != 0)
		return;
	len = evbuffer_get_length(buf);
	from = len - info->n_added;
	if (evbuffer_ptr_set(buf, &p, from, EVBUFFER_PTR_SET) == -1)
		return;
	n = evbuffer_peek(buf, (ev_ssize_t)info->n_added, &p, v, 8);
	for (j = 0, k = 0; j < n && j < 8 && !c->head_done; j++) {
		for (i = 0; i < v[j].iov_len && k < info->n_added; i++, k++) {
			ch = ((const unsigned char *)v[j].iov_base)[i];
			if ((ch < 0x20 && ch != '\r' && ch != '\n' &&
			    ch != '\t') || ch >= 0x7f) {
				c->refuse_code = 400;
				break;
			}
			c->head_len++;
			/* "\n\n" or "\n\r\n": the empty line. */
			if (ch == '\n' && (c->head_tail[2] == '\n' ||
			    (c->head_tail[2] == '\r' && c->head_tail[1] ==
			    '\n'))) {
				c->head_done = true;
				break;
			}
			c->head_tail[0] = c->head_tail[1];
			c->head_tail[1] = c->head_tail[2];
			c->head_tail[2] = ch;
		}
		if (c->refuse_code != 0)
			break;
	}
	if (c->refuse_code == 0 && !c->head_done &&
	    c->head_len > c->http->opts.max_headers)
		c->refuse_code = 431;
	if (c->refuse_code == 0)
		return;
	/* evhttp reads nothing of it: the answer is ours, from the loop. */
	evbuffer_drain(buf, len);
	api_conn_close(c, c->refuse_code == 400 ? "not an HTTP request head" :
	    "request head too large", -1);
}

/*
 * What is written to the client: a reply evhttp made itself (a request it
 * could not parse, a body over max_body, a method it does not know) is
 * seen here, counted and logged.  Ours are counted where they are made.
 */
static void
api_conn_out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct api_conn	*c = arg;
	struct api	*api;
	char		 head[16];
	int		 code;

	if (c->magic != API_CONN_MAGIC || c->ours || info->n_added == 0 ||
	    info->orig_size != 0 || c->state == CONN_NEW)
		return;
	memset(head, 0, sizeof(head));
	if (evbuffer_copyout(buf, head, sizeof(head) - 1) < 12 ||
	    strncmp(head, "HTTP/1.", 7) != 0)
		return;
	code = atoi(head + 9);
	api = c->http->api;
	/*
	 * libevent 2.1 answers 400 for a head over max_headers: no body is
	 * read before the head is whole, so more bytes than that since the
	 * last request were one head.
	 */
	if (code == 400 && c->in_bytes > c->http->opts.max_headers) {
		api_conn_refused(c, &api->cnt.api_head_too_large, "400: "
		    "request head over [api] max_headers (%zu bytes)",
		    c->http->opts.max_headers);
		return;
	}
	switch (code) {
	case 413:
		if (c->sreq != NULL && c->sreq->ops != NULL) {
			/* An upload over its route's limit ([api] max_upload). */
			c->sreq->end = API_STREAM_TOO_LARGE;
			api_conn_refused(c, &api->cnt.api_body_too_large, "413: "
			    "%s: body over %llu bytes ([api] max_upload)",
			    c->sreq->path,
			    (unsigned long long)c->sreq->ops->max);
			break;
		}
		api_conn_refused(c, &api->cnt.api_body_too_large, "413: body "
		    "over [api] max_body (%zu bytes)", c->http->opts.max_body);
		break;
	case 501:
		api_conn_refused(c, &api->cnt.api_bad_method, "501: a method "
		    "libevent does not take");
		break;
	default:
		if (code >= 400)
			api_conn_refused(c, &api->cnt.api_bad_request, "%d: "
			    "malformed request", code);
		break;
	}
}

/* Bytes of the request under way (api_conn_out_cb() reads them). */
static void
api_conn_in_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct api_conn	*c = arg;

	if (c->magic != API_CONN_MAGIC || info->n_added == 0)
		return;
	c->in_bytes += info->n_added;
	/* Before evhttp reads them: a request head to see early. */
	if (c->state != CONN_NEW && c->state != CONN_HANDSHAKE)
		api_stream_arm(c);
}

/* --- admission -------------------------------------------------------- */

/* Connections of addr open besides self. */
static unsigned
api_conn_count_addr(const struct api_http *http, const char *addr,
    const struct api_conn *self)
{
	const struct api_conn	*c;
	unsigned		 n = 0;

	for (c = http->conns; c != NULL; c = c->next)
		if (c != self && c->state != CONN_NEW && !c->closing &&
		    strcmp(c->addr, addr) == 0)
			n++;
	return (n);
}

/* The oldest connection of addr (NULL: any) not in a request. */
static struct api_conn *
api_conn_oldest_idle(const struct api_http *http, const char *addr,
    const struct api_conn *self)
{
	struct api_conn	*c, *best = NULL;

	for (c = http->conns; c != NULL; c = c->next) {
		if (c == self || c->closing ||
		    (c->state != CONN_IDLE && c->state != CONN_HANDSHAKE))
			continue;
		if (addr != NULL && strcmp(c->addr, addr) != 0)
			continue;
		if (best == NULL || c->since_ms < best->since_ms)
			best = c;
	}
	return (best);
}

/*
 * Room for c: at the per-address limit the oldest idle connection of its
 * address goes; at the listener's, the oldest idle one of the address
 * holding the most.  -1 when every connection there is in a request.
 */
static int
api_conn_make_room(struct api_conn *c)
{
	struct api_http	*http = c->http;
	struct api	*api = http->api;
	struct api_conn	*o, *victim = NULL;
	unsigned	 n, most = 0, open = 0;

	for (o = http->conns; o != NULL; o = o->next)
		if (o != c && o->state != CONN_NEW && !o->closing)
			open++;
	if (api_conn_count_addr(http, c->addr, c) >=
	    http->opts.max_conns_per_address)
		victim = api_conn_oldest_idle(http, c->addr, c);
	else if (open >= http->opts.max_conns) {
		for (o = http->conns; o != NULL; o = o->next) {
			if (o == c || (o->state != CONN_IDLE &&
			    o->state != CONN_HANDSHAKE) ||
			    o->closing)
				continue;
			if ((n = api_conn_count_addr(http, o->addr, c)) >
			    most) {
				most = n;
				victim = api_conn_oldest_idle(http, o->addr, c);
			}
		}
	} else
		return (0);
	if (victim == NULL)
		return (-1);
	api->cnt.api_evicted++;
	if (http->port == API_PORT_METRICS)
		api->cnt.api_metrics_evicted++;
	log_limited(&http->rl, LOG_WARNING, "%s: %s: no request after %lld "
	    "ms, closed to make room for %s", http->opts.name, victim->peer,
	    (long long)(clock_mono_ms() - victim->since_ms), c->addr);
	api_conn_close(victim, NULL, -1);
	return (0);
}

static void
api_conn_closecb(struct evhttp_connection *, void *);

/* Unread input would turn the close into a reset that loses the reply. */
static void
api_conn_drain(int fd)
{
	char	 drain[4096];
	size_t	 left = API_DRAIN_MAX;
	ssize_t	 n;

	shutdown(fd, SHUT_WR);
	while (left > 0 && (n = recv(fd, drain, sizeof(drain),
	    MSG_DONTWAIT)) > 0)
		left -= (size_t)n < left ? (size_t)n : left;
}

/* A refusal of our own on the plain listener: said, then closed. */
static void
api_conn_refuse_plain(struct api_conn *c, int code)
{
	const char	*text;
	char		 body[64], msg[256];
	int		 fd, n, blen;

	text = code == 400 ? "Bad Request" : code == 431 ?
	    "Request Header Fields Too Large" : "Service Unavailable";
	blen = snprintf(body, sizeof(body), "%d %s\n", code, text);
	n = snprintf(msg, sizeof(msg), "HTTP/1.1 %d %s\r\nContent-Type: "
	    "text/plain; charset=utf-8\r\nContent-Length: %d\r\n"
	    "Cache-Control: no-store\r\nConnection: close\r\n\r\n%s", code,
	    text, blen, body);
	if ((fd = bufferevent_getfd(c->bev)) == -1)
		return;
	/* An empty socket buffer takes these few bytes whole. */
	(void)send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	api_conn_drain(fd);
}

/* 0, or -1 when c is gone (evhttp had given up on it). */
static int
api_conn_admit(struct api_conn *c)
{
	struct api_http		*http = c->http;
	struct api		*api = http->api;
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	bufferevent_data_cb	 rd, wr;
	bufferevent_event_cb	 evcb;
	void			*arg = NULL;
	unsigned		 port = 0;
	int			 on = 1;
	int			 fd;

	/* evhttp's callbacks carry its connection once it took the bev. */
	bufferevent_getcb(c->bev, &rd, &wr, &evcb, &arg);
	fd = bufferevent_getfd(c->bev);
	if (arg == NULL || fd == -1) {
		/* evhttp gave up on it (out of memory) and freed its part. */
		api_conn_unlink(c);
		bufferevent_decref(c->bev);
		c->magic = API_CONN_DEAD_MAGIC;
		free(c);
		return (-1);
	}
	c->evcon = arg;
	evhttp_connection_set_closecb(c->evcon, api_conn_closecb, c);
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			const struct sockaddr_in *s4 = (const void *)&ss;

			inet_ntop(AF_INET, &s4->sin_addr, c->addr,
			    sizeof(c->addr));
			port = ntohs(s4->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (const void *)&ss;

			inet_ntop(AF_INET6, &s6->sin6_addr, c->addr,
			    sizeof(c->addr));
			port = ntohs(s6->sin6_port);
		}
	}
	if (c->addr[0] == '\0')
		snprintf(c->addr, sizeof(c->addr), "?");
	snprintf(c->peer, sizeof(c->peer), "%s:%u", c->addr, port);
	/*
	 * A reply goes out in a few writes (TLS records, evhttp's head and
	 * body): with Nagle the last waits for the client's delayed ACK,
	 * 40 ms on every keep-alive request.
	 */
	if (port != 0 && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
	    sizeof(on)) == -1)
		log_debug("%s: TCP_NODELAY: %s", c->peer, strerror(errno));
	api->cnt.accepted++;
	api->cnt.api_conns++;
	if (c->ssl != NULL) {
		api->cnt.handshaking++;
		api_conn_set_state(c, CONN_HANDSHAKE, http->opts.handshake_ms);
	} else
		api_conn_set_state(c, CONN_IDLE, http->opts.timeout_ms);
	evbuffer_add_cb(bufferevent_get_output(c->bev), api_conn_out_cb, c);
	evbuffer_add_cb(bufferevent_get_input(c->bev), api_conn_in_cb, c);
	if (http->opts.plain_gate)
		evbuffer_add_cb(bufferevent_get_input(c->bev), api_conn_gate_cb,
		    c);
	if (api->state != API_RUN) {
		api_conn_close(c, "stopping", -1);
		return (0);
	}
	if (api_conn_make_room(c) == -1) {
		api_conn_refused(c, &api->cnt.api_conn_refused, "%zu "
		    "connections busy with a request (max_connections %u, %u "
		    "per address): refused", http->n_conns - 1,
		    http->opts.max_conns, http->opts.max_conns_per_address);
		if (c->ssl == NULL)
			c->refuse_code = 503;
		api_conn_close(c, NULL, -1);
	}
	return (0);
}

static void
api_conn_ev(evutil_socket_t fd, short what, void *arg)
{
	struct api_conn	*c = arg;

	if (c->magic != API_CONN_MAGIC)
		return;
	if (c->state == CONN_NEW) {
		if (api_conn_admit(c) == -1)
			return;
		/* Doomed before or during its admission: next turn. */
		if (c->closing)
			event_active(&c->ev, EV_TIMEOUT, 1);
		return;
	}
	if (!c->closing || c->evcon == NULL)
		return;
	if (c->refuse_code != 0 && c->ssl == NULL)
		api_conn_refuse_plain(c, c->refuse_code);
	/* closecb frees c. */
	evhttp_connection_free(c->evcon);
}

struct bufferevent *
api_conn_bevcb(struct event_base *base, void *arg)
{
	struct api_http		*http = arg;
	struct api_conn		*c;
	struct bufferevent	*bev = NULL;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto fail;
	c->magic = API_CONN_MAGIC;
	c->http = http;
	c->doom_hs = -1;
	c->accepted_ms = c->since_ms = clock_mono_ms();
	if (http->opts.tls) {
		if ((c->ssl = api_conn_ssl_new(http, c)) == NULL)
			goto fail;
		/* The bufferevent frees the SSL and closes the descriptor. */
		bev = bufferevent_openssl_socket_new(base, -1, c->ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
		if (bev == NULL) {
			SSL_free(c->ssl);
			goto fail;
		}
		/* A peer that stops at any time is no error to report. */
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	} else if ((bev = bufferevent_socket_new(base, -1,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		goto fail;
	c->bev = bev;
	bufferevent_incref(bev);
	/* Admitted from the loop, before any byte of it is read. */
	event_assign(&c->ev, base, -1, 0, api_conn_ev, c);
	event_active(&c->ev, EV_TIMEOUT, 1);
	if ((c->next = http->conns) != NULL)
		c->next->prev = c;
	http->conns = c;
	http->n_conns++;
	return (bev);
fail:
	/*
	 * evhttp then makes a plain bufferevent of its own: on a TLS port its
	 * requests would not be ours (api_conn_find() knows no such
	 * connection), and http.c answers them 500 and closes.
	 */
	log_warnx("%s: out of memory for a connection", http->opts.name);
	ERR_clear_error();
	free(c);
	return (NULL);
}

struct api_conn *
api_conn_find(struct api_http *http, struct evhttp_connection *evcon)
{
	struct api_conn	*c;

	for (c = http->conns; c != NULL; c = c->next)
		if (c->evcon == evcon && c->state != CONN_NEW)
			return (c);
	return (NULL);
}

/* Why a handshake failed, from what OpenSSL said and we saw. */
static int
api_conn_hs_class(struct api_conn *c, bool *plain, char *why, size_t len)
{
	unsigned long	 e, first = 0;
	long		 vr = X509_V_OK;
	int		 hs;

	*plain = false;
	while ((e = bufferevent_get_openssl_error(c->bev)) != 0) {
		if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
		    (ERR_GET_REASON(e) == SSL_R_HTTP_REQUEST ||
		    ERR_GET_REASON(e) == SSL_R_HTTPS_PROXY_REQUEST))
			*plain = true;
		if (first == 0)
			first = e;
	}
	if (c->ssl != NULL)
		vr = SSL_get_verify_result(c->ssl);
	if (*plain) {
		snprintf(why, len, "plain HTTP on a TLS port");
		return (IPC_HS_PROTOCOL);
	}
	if (vr != X509_V_OK) {
		hs = tlsctx_verify_class(vr);
		snprintf(why, len, "certificate %s%s%s refused: %s",
		    c->bad_serial[0] != '\0' ? "serial " : "", c->bad_serial,
		    c->bad_subject[0] != '\0' ? "" : "",
		    X509_verify_cert_error_string(vr));
		if (c->bad_subject[0] != '\0' && strlen(why) + 3 < len)
			snprintf(why + strlen(why), len - strlen(why), " (%s)",
			    c->bad_subject);
		return (hs);
	}
	if (first != 0 && ERR_GET_LIB(first) == ERR_LIB_SSL &&
	    ERR_GET_REASON(first) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
		snprintf(why, len, "no client certificate");
		return (IPC_HS_NO_CERT);
	}
	if (first != 0) {
		snprintf(why, len, "TLS: %s", ERR_reason_error_string(first) !=
		    NULL ? ERR_reason_error_string(first) : "protocol error");
		return (IPC_HS_PROTOCOL);
	}
	snprintf(why, len, "closed by the peer during the handshake");
	return (IPC_HS_CLOSED);
}

/* A connection that ends before its handshake did: count and say why. */
static void
api_conn_hs_failed(struct api_conn *c)
{
	struct api	*api = c->http->api;
	char		 why[512];
	bool		 plain = false;
	int		 hs, fd;

	if (c->doom_hs >= 0) {
		hs = c->doom_hs;
		snprintf(why, sizeof(why), "%s", c->doom != NULL ? c->doom :
		    "refused");
	} else
		hs = api_conn_hs_class(c, &plain, why, sizeof(why));
	if (hs == IPC_HS_TIMEOUT)
		api->cnt.handshake_timeouts++;
	if (hs == IPC_HS_REVOKED && c->doom_hs < 0)
		api->cnt.revoked_refused++;
	api->cnt.handshakes_failed++;
	api->cnt.hs_fail[hs]++;
	if (plain) {
		api->cnt.api_plain_on_tls++;
		/* Say so in the client's language, as nginx does. */
		if ((fd = bufferevent_getfd(c->bev)) != -1) {
			(void)send(fd, api_plain_on_tls,
			    sizeof(api_plain_on_tls) - 1, MSG_NOSIGNAL |
			    MSG_DONTWAIT);
			api_conn_drain(fd);
		}
	}
	if (hs == IPC_HS_CLOSED)
		log_debug("%s: %s: %s", c->http->opts.name, c->peer, why);
	else
		log_limited(&c->http->rl, LOG_WARNING, "%s: %s: TLS handshake "
		    "refused (%s): %s", c->http->opts.name, c->peer,
		    counters_hs_fail_names[hs], why);
	ERR_clear_error();
}

/* evhttp frees the connection (whoever decided): we let go of it. */
static void
api_conn_closecb(struct evhttp_connection *evcon, void *arg)
{
	struct api_conn	*c = arg;
	struct api_http	*http;
	struct api	*api;
	struct api_req	*req;

	if (c == NULL || c->magic != API_CONN_MAGIC || c->evcon != evcon)
		return;
	http = c->http;
	api = http->api;
	evhttp_connection_set_closecb(evcon, NULL, NULL);
	if (c->state == CONN_HANDSHAKE) {
		api->cnt.handshaking--;
		api_conn_hs_failed(c);
	} else if (c->doom != NULL)
		log_info("%s: %s: closed: %s", http->opts.name, c->peer,
		    c->doom);
	/* A body that was coming: given up (its temp file goes). */
	if (c->sreq != NULL) {
		req = c->sreq;
		c->sreq = NULL;
		req->conn = NULL;
		req->evreq = NULL;
		if (req->end == API_STREAM_ANSWERED)
			req->end = API_STREAM_GONE;
		api_req_free(req);
	}
	/* A request a handler holds is answered to nobody. */
	if (c->req != NULL) {
		req = c->req;
		c->req = NULL;
		req->lib_frees = c->closing;
		req->conn = NULL;
		req->evreq = NULL;
		/* Its handler lets go of what it holds (a file it sends). */
		if (req->gone != NULL)
			req->gone(req, req->gone_arg);
	}
	evbuffer_remove_cb(bufferevent_get_output(c->bev), api_conn_out_cb, c);
	evbuffer_remove_cb(bufferevent_get_input(c->bev), api_conn_in_cb, c);
	if (http->opts.plain_gate)
		evbuffer_remove_cb(bufferevent_get_input(c->bev),
		    api_conn_gate_cb, c);
	event_del(&c->ev);
	api->cnt.api_conns--;
	api_conn_unlink(c);
	tls_peer_clear(&c->tls);
	/* evhttp's bufferevent_free() right after ours ends it. */
	bufferevent_decref(c->bev);
	c->magic = API_CONN_DEAD_MAGIC;
	free(c);
}

void
api_conn_close(struct api_conn *c, const char *why, int hs)
{
	if (c->closing)
		return;
	if (why != NULL && c->doom == NULL)
		c->doom = why;
	if (hs >= 0 && c->doom_hs < 0)
		c->doom_hs = hs;
	c->closing = true;
	/* A new one's admission, already due, sees it. */
	if (c->state != CONN_NEW)
		event_active(&c->ev, EV_TIMEOUT, 1);
}

void
api_conn_busy(struct api_conn *c)
{
	api_conn_set_state(c, CONN_BUSY, 0);
}

void
api_conn_waiting(struct api_conn *c)
{
	api_conn_set_state(c, CONN_BUSY, c->http->opts.timeout_ms);
}

void
api_conn_idle(struct api_conn *c)
{
	c->req = NULL;
	c->in_bytes = 0;
	api_conn_set_state(c, CONN_IDLE, c->http->opts.timeout_ms);
}

unsigned
api_http_revoke(struct api_http *http, const struct crlset *set)
{
	struct api_conn	*c;
	char		 why[160];
	unsigned	 n = 0;

	if (http == NULL || set == NULL)
		return (0);
	for (c = http->conns; c != NULL; c = c->next) {
		if (!c->hs_done || c->closing ||
		    !api_conn_revoked(c, set, why, sizeof(why)))
			continue;
		http->api->cnt.revoked_closed++;
		log_info("%s: %s: %s: closing its connection",
		    http->opts.name, c->peer, why);
		api_conn_close(c, "certificate revoked", -1);
		n++;
	}
	return (n);
}

void
api_http_tick(struct api_http *http, int64_t now)
{
	struct api_conn	*c;
	struct api	*api;

	if (http == NULL)
		return;
	api = http->api;
	for (c = http->conns; c != NULL; c = c->next) {
		if (c->closing)
			continue;
		/* Draining: what waits for a request will get none. */
		if (api->state != API_RUN && c->state == CONN_IDLE) {
			api_conn_close(c, NULL, -1);
			continue;
		}
		if (c->deadline_ms == 0 || c->deadline_ms > now)
			continue;
		if (c->state == CONN_HANDSHAKE) {
			api_conn_close(c, "no TLS handshake within [tls] "
			    "handshake_timeout", IPC_HS_TIMEOUT);
			continue;
		}
		api->cnt.api_timeouts++;
		if (c->sreq != NULL) {
			/* A stalled upload: its temp file goes at the close. */
			c->sreq->end = API_STREAM_STALLED;
			log_limited(&http->rl, LOG_WARNING, "%s: %s: %s: no "
			    "byte of the body for %lld ms after %llu ([api] "
			    "timeout): closed", http->opts.name, c->peer,
			    c->sreq->path, (long long)(now - c->since_ms),
			    (unsigned long long)c->sreq->body_bytes);
		} else
			log_limited(&http->rl, LOG_INFO, "%s: %s: nothing for "
			    "%lld ms ([api] timeout): closed", http->opts.name,
			    c->peer, (long long)(now - c->since_ms));
		api_conn_close(c, NULL, -1);
	}
}
