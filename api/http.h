/*
 * The api process's HTTP framework (docs/api.md): libevent's evhttp does
 * the parsing; this file is what takd puts around it, the same for every
 * listener kind (enum api_port):
 *
 *   - connections: each one's SSL is made here (evhttp_set_bevcb +
 *     bufferevent_openssl_socket_new) from the workers' SSL_CTX, so the
 *     verify callback, the CA and the CRL generation are the workers';
 *     8443 asks for a client certificate, 8446 does not, [metrics] listen
 *     is plain.  Each connection is admitted against max_connections (and
 *     per source address): at the limit the oldest connection that is not
 *     in a request makes room, else the newcomer is refused.  Deadlines:
 *     the TLS handshake ([tls] handshake_timeout from the accept), then
 *     each request and each reply ([api] timeout, from the previous one).
 *     A CRL generation closes the connections whose certificate it
 *     revokes.  Every refusal is counted (shared/counters.h, "api") and
 *     logged with the peer's address.
 *   - routes: an exact path (or a path prefix: /Marti/api/sync/metadata/
 *     {hash}/tool) and the methods it takes; 404 for another path, 405
 *     (with Allow) for another method.
 *   - requests: the peer, the raw Authorization header, the query string,
 *     the body (at most [api] max_body: 413 beyond), the client
 *     certificate on 8443, and a reply now or later (the handler returns
 *     and answers from another callback: signing goes over IPC).
 *   - streaming routes (uploads): the body is handed to the route piece by
 *     piece as it comes off the network, never whole in memory, up to the
 *     route's own limit ([api] max_upload); a stalled body times out
 *     ([api] timeout between pieces).  Replies may stream from a file.
 *
 * Handlers run in the api process's loop; a handler that answers later
 * keeps its struct api_req until api_req_reply(), which it must call
 * exactly once (also after the client went away: then nothing is sent).
 */
#ifndef TAKD_API_HTTP_H
#define TAKD_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api_int.h"

/* Methods of a route (libevent's enum evhttp_cmd_type bits). */
#define API_GET		0x001	/* EVHTTP_REQ_GET */
#define API_POST	0x002	/* EVHTTP_REQ_POST */
#define API_HEAD	0x004	/* EVHTTP_REQ_HEAD */
#define API_PUT		0x008	/* EVHTTP_REQ_PUT */
#define API_DELETE	0x010	/* EVHTTP_REQ_DELETE */

#define API_ROUTES_MAX		64
#define API_PATH_MAX		128

/* How a listener kind behaves. */
struct api_http_opts {
	const char	*name;		/* "marti", "enroll", "metrics": logs */
	bool		 tls;
	bool		 client_cert;	/* mutual TLS: a certificate required */
	/*
	 * With client_cert: asked for, verified when given, not required
	 * (the console's password login, docs/console.md); a request
	 * without one has no api_req_tls_peer().
	 */
	bool		 cert_optional;
	/*
	 * The old /metrics contract: a request head with a byte no HTTP head
	 * has is answered 400 at once, one over max_headers 431, and every
	 * reply closes the connection.
	 */
	bool		 plain_gate;
	size_t		 max_body;
	size_t		 max_headers;
	unsigned	 timeout_ms;	/* each request, each reply */
	unsigned	 handshake_ms;	/* TLS: from the accept */
	unsigned	 max_conns;
	unsigned	 max_conns_per_address;
};

struct api_http;
struct api_req;
struct tls_peer;

typedef void	(*api_route_fn)(struct api_req *, void *arg);

/*
 * A streaming route's body (http_stream.c).  begin when the head is in
 * (query, headers, certificate known), data for each piece, in order; then
 * the route's api_route_fn once the body is whole, which answers.  Either
 * may return an HTTP status instead of 0 to refuse: the rest of the body
 * is then read and dropped (a reply cannot go out before it is read) and
 * the handler answers the refusal.  release is called once for every
 * request begin was called for, when it is freed (answered, or given up:
 * the client went away, a stalled body, libevent's 413): it lets go of
 * what begin made (a temp file).  A body over max gets libevent's 413 and
 * no handler.
 */
struct api_stream_ops {
	uint64_t	 max;		/* body bytes at most */
	int		(*begin)(struct api_req *, void *arg);
	int		(*data)(struct api_req *, const unsigned char *,
			    size_t, void *arg);
	void		(*release)(struct api_req *, void *arg);
};
/* Why a streamed request ended without its handler (api_req_stream_end). */
enum api_stream_end {
	API_STREAM_ANSWERED,	/* the handler had it */
	API_STREAM_GONE,	/* the client went away mid-body */
	API_STREAM_STALLED,	/* nothing within [api] timeout */
	API_STREAM_TOO_LARGE	/* over the route's max: libevent's 413 */
};
/*
 * Before any route: true to go on, false when the guard answered the
 * request itself (a 401 for every path, say).
 */
typedef bool	(*api_guard_fn)(struct api_req *, void *arg);

/* A listener kind with its evhttp; NULL (logged) on failure. */
struct api_http	*api_http_new(struct api *, enum api_port,
		    const struct api_http_opts *);
/* Accept on fd (bound and listening, the supervisor's).  -1 logged. */
int		 api_http_listen(struct api_http *, int fd, const char *address,
		    unsigned port);
/* Close the listeners (drain): the connections stay. */
void		 api_http_unlisten(struct api_http *);
/* Every connection closed, the listeners, the evhttp.  NULL: nothing. */
void		 api_http_free(struct api_http *);
/*
 * Serve path (exact, the query string apart) with handler for the methods
 * (API_* bits; API_GET takes HEAD too, answered without its body).
 * -1 when the table is full or the path too long.
 */
int		 api_http_route(struct api_http *, const char *path,
		    unsigned methods, api_route_fn, void *arg);
/* One line of a module's route table, for api_http_routes(). */
struct api_route_def {
	const char	*path;
	unsigned	 methods;
	api_route_fn	 fn;
};
/*
 * Every route of a table of n, each with arg; -1 (logged as WHO: route
 * PATH) at the first that cannot be added.
 */
int		 api_http_routes(struct api_http *, const struct api_route_def *,
		    size_t n, void *arg, const char *who);
/* Serve every path that starts with prefix (after the exact routes). */
int		 api_http_route_prefix(struct api_http *, const char *prefix,
		    unsigned methods, api_route_fn, void *arg);
/*
 * Serve path with a streaming body (ops, borrowed for good): POST and PUT
 * only.  -1 as api_http_route(); also when libevent does not let takd
 * stream (api_http_streaming()), logged: the route is then not served.
 */
int		 api_http_route_stream(struct api_http *, const char *path,
		    unsigned methods, api_route_fn, void *arg,
		    const struct api_stream_ops *);
/*
 * Whether request bodies can be streamed with the libevent in use
 * (http_stream.c says how it finds a request before its body).
 */
bool		 api_http_streaming(void);
/* The guard of every request of http (one; NULL: none). */
void		 api_http_guard(struct api_http *, api_guard_fn, void *arg);
/* Connections open. */
size_t		 api_http_conns(const struct api_http *);
/*
 * A new CRL generation (or none): close the connections whose client
 * certificate set revokes; how many.
 */
unsigned	 api_http_revoke(struct api_http *, const struct crlset *);
/* Close the connections past their deadline (from the tick). */
void		 api_http_tick(struct api_http *, int64_t now_ms);

/* The request: borrowed until api_req_reply(). */
const char	*api_req_peer(const struct api_req *);	/* "addr:port" */
const char	*api_req_addr(const struct api_req *);	/* "addr" */
const char	*api_req_path(const struct api_req *);	/* decoded: no */
/* The raw query string after '?', NULL when there is none. */
const char	*api_req_query(const struct api_req *);
unsigned	 api_req_method(const struct api_req *);	/* API_* */
/* A request header's value (the first of that name), NULL if absent. */
const char	*api_req_header(const struct api_req *, const char *name);
/* The raw Authorization header, NULL if absent. */
const char	*api_req_authorization(const struct api_req *);
/* The body, contiguous (NUL after it), at most max_body bytes. */
const unsigned char *api_req_body(struct api_req *, size_t *len);
/* 8443: the client certificate's serial, subject and user; else NULL. */
const struct tls_peer *api_req_tls_peer(const struct api_req *);
/* The listener kind and the process. */
enum api_port	 api_req_port(const struct api_req *);
struct api	*api_req_api(const struct api_req *);
/* The client went away: a reply will not be sent. */
bool		 api_req_gone(const struct api_req *);
/*
 * A handler that answers later and holds something (a file being sent):
 * fn is called once if the client goes away before the reply is done;
 * the handler then lets go and calls api_req_reply() (which sends
 * nothing).  NULL: none.
 */
void		 api_req_on_gone(struct api_req *, void (*fn)(struct api_req *,
		    void *), void *arg);
/* A streaming route's state (begin sets it; release frees it). */
void		*api_req_stream_state(const struct api_req *);
void		 api_req_set_stream_state(struct api_req *, void *);
/* How a streamed request ended, in release. */
enum api_stream_end api_req_stream_end(const struct api_req *);
/* Bytes of the body the route was given. */
uint64_t	 api_req_body_bytes(const struct api_req *);

/* A header of the reply to come. */
void		 api_req_set_header(struct api_req *, const char *name,
		    const char *value);
/*
 * Answer: the status, its Content-Type and body (len bytes, copied; a HEAD
 * gets the head only).  Frees req: exactly once per request, now or later.
 */
void		 api_req_reply(struct api_req *, int code, const char *ctype,
		    const void *body, size_t len);
/* A plain-text answer ("404 Not Found\n" when text is NULL). */
void		 api_req_reply_text(struct api_req *, int code,
		    const char *text);
/*
 * Answer 200 with the size bytes of fd (from its offset 0; the request
 * owns fd from now on, and closes it), streamed in pieces as the client
 * takes them, with Content-Length: never the whole file in memory.  done
 * (may be NULL) is called with the bytes sent and whether all went, when
 * it ends; then req is freed.
 */
void		 api_req_reply_fd(struct api_req *, const char *ctype, int fd,
		    uint64_t size, void (*done)(struct api_req *, uint64_t,
		    bool, void *), void *arg);

#endif
