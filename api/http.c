/*
 * The HTTP framework of the api process: listeners, routes, requests and
 * replies on libevent's evhttp.  See http.h; connections are conn.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "api/http_int.h"
#include "shared/clock.h"

/* Every method evhttp knows reaches the router: 405, never 501. */
#define API_EVHTTP_METHODS	(EVHTTP_REQ_GET | EVHTTP_REQ_POST | \
	EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | \
	EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | \
	EVHTTP_REQ_PATCH)

_Static_assert(API_GET == EVHTTP_REQ_GET && API_POST == EVHTTP_REQ_POST &&
    API_HEAD == EVHTTP_REQ_HEAD && API_PUT == EVHTTP_REQ_PUT &&
    API_DELETE == EVHTTP_REQ_DELETE, "API_* are evhttp's bits");

static void	 api_http_gencb(struct evhttp_request *, void *);

struct api_http *
api_http_new(struct api *api, enum api_port port,
    const struct api_http_opts *opts)
{
	struct api_http	*http;
	struct timeval	 tv;

	if ((http = calloc(1, sizeof(*http))) == NULL) {
		log_warn("%s: new listener", opts->name);
		return (NULL);
	}
	http->magic = API_HTTP_MAGIC;
	http->api = api;
	http->port = port;
	http->opts = *opts;
	http->ctx = api->args->ssl_ctx;
	if ((http->evh = evhttp_new(api->base)) == NULL) {
		log_warnx("%s: evhttp_new failed", opts->name);
		free(http);
		return (NULL);
	}
	evhttp_set_bevcb(http->evh, api_conn_bevcb, http);
	evhttp_set_gencb(http->evh, api_http_gencb, http);
	evhttp_set_allowed_methods(http->evh, API_EVHTTP_METHODS);
	evhttp_set_max_headers_size(http->evh,
	    (ev_ssize_t)opts->max_headers);
	evhttp_set_max_body_size(http->evh, (ev_ssize_t)opts->max_body);
	/*
	 * A backstop: conn.c's deadlines close a stalled client first (each
	 * request and reply within [api] timeout, counted and logged);
	 * libevent's own read and write timeouts only ever catch what they
	 * would miss.
	 */
	tv.tv_sec = opts->timeout_ms / 1000 + API_EVHTTP_SLACK_S;
	tv.tv_usec = 0;
	evhttp_set_timeout_tv(http->evh, &tv);
	evhttp_set_default_content_type(http->evh, "text/plain; charset=utf-8");
	api_stream_register(http);
	return (http);
}

/* Out of descriptors, accept pauses: the backlog keeps the socket readable. */
static void
api_http_resume(evutil_socket_t fd, short what, void *arg)
{
	struct api_listener	*l = arg;

	if (l->bound != NULL && l->http->api->state == API_RUN)
		evconnlistener_enable(l->lev);
}

/*
 * The listeners of the process, to find one from its evconnlistener: the
 * error callback's argument is evhttp's (the accept callback's).
 */
static struct api_listener	*api_listeners[API_PORT_MAX * API_LIS_MAX];

static void
api_http_accept_error(struct evconnlistener *lev, void *arg)
{
	struct api_listener	*l = NULL;
	struct timeval		 tv = { 0, API_PAUSE_MS * 1000 };
	int			 err = EVUTIL_SOCKET_ERROR();
	size_t			 i;

	for (i = 0; i < API_PORT_MAX * API_LIS_MAX && l == NULL; i++)
		if (api_listeners[i] != NULL && api_listeners[i]->lev == lev)
			l = api_listeners[i];
	if (l == NULL || l->bound == NULL)
		return;
	log_limited(&l->rl, LOG_WARNING, "%s: accept: %s (%s:%u); pausing %d "
	    "ms", l->http->opts.name, strerror(err), l->address, l->port,
	    API_PAUSE_MS);
	if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM) {
		l->http->api->cnt.rejected_emfile++;
		evconnlistener_disable(lev);
		evtimer_add(l->resume, &tv);
	}
}

int
api_http_listen(struct api_http *http, int fd, const char *address,
    unsigned port)
{
	struct api_listener	*l;

	if (http->n_lis == API_LIS_MAX) {
		log_warnx("%s: more than %d sockets", http->opts.name,
		    API_LIS_MAX);
		return (-1);
	}
	l = &http->lis[http->n_lis];
	memset(l, 0, sizeof(*l));
	l->http = http;
	snprintf(l->address, sizeof(l->address), "%s", address);
	l->port = port;
	/* Out of descriptors can last: one line per 10 s, with the count. */
	l->rl.burst = 1;
	l->rl.window = 10;
	/* Backlog 0: bound and listening already, by the supervisor. */
	l->lev = evconnlistener_new(http->api->base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (l->lev == NULL) {
		log_warnx("%s: cannot listen on %s:%u", http->opts.name,
		    address, port);
		return (-1);
	}
	if ((l->resume = evtimer_new(http->api->base, api_http_resume, l)) ==
	    NULL) {
		evconnlistener_free(l->lev);
		l->lev = NULL;
		return (-1);
	}
	evconnlistener_set_error_cb(l->lev, api_http_accept_error);
	/* evhttp takes the accepted sockets; the error callback stays ours. */
	if ((l->bound = evhttp_bind_listener(http->evh, l->lev)) == NULL) {
		evconnlistener_free(l->lev);
		event_free(l->resume);
		l->lev = NULL;
		return (-1);
	}
	http->n_lis++;
	api_listeners[http->port * API_LIS_MAX + http->n_lis - 1] = l;
	log_info("%s: listening on %s:%u%s", http->opts.name, address, port,
	    !http->opts.tls ? "" : http->opts.client_cert ? " (mutual TLS)" :
	    " (TLS)");
	return (0);
}

void
api_http_unlisten(struct api_http *http)
{
	size_t	 i;

	if (http == NULL)
		return;
	for (i = 0; i < http->n_lis; i++) {
		if (http->lis[i].bound == NULL)
			continue;
		evtimer_del(http->lis[i].resume);
		/* Frees the evconnlistener, which closes our copy of the fd. */
		evhttp_del_accept_socket(http->evh, http->lis[i].bound);
		http->lis[i].bound = NULL;
		http->lis[i].lev = NULL;
	}
}

void
api_http_free(struct api_http *http)
{
	size_t	 i;

	if (http == NULL)
		return;
	/* Every connection closes, its closecb frees our part. */
	evhttp_free(http->evh);
	api_stream_unregister(http);
	for (i = 0; i < http->n_lis; i++) {
		api_listeners[http->port * API_LIS_MAX + i] = NULL;
		if (http->lis[i].resume != NULL)
			event_free(http->lis[i].resume);
	}
	http->magic = 0;
	free(http);
}

static struct api_route *
api_http_route_add(struct api_http *http, const char *path, unsigned methods,
    api_route_fn fn, void *arg)
{
	struct api_route	*r;

	if (http->n_routes == API_ROUTES_MAX || strlen(path) >= API_PATH_MAX) {
		log_warnx("%s: cannot route %s", http->opts.name, path);
		return (NULL);
	}
	r = &http->routes[http->n_routes++];
	memset(r, 0, sizeof(*r));
	snprintf(r->path, sizeof(r->path), "%s", path);
	/* A GET route answers HEAD too, with the head only. */
	r->methods = methods | ((methods & API_GET) ? API_HEAD : 0);
	r->fn = fn;
	r->arg = arg;
	return (r);
}

int
api_http_route(struct api_http *http, const char *path, unsigned methods,
    api_route_fn fn, void *arg)
{
	return (api_http_route_add(http, path, methods, fn, arg) == NULL ? -1 :
	    0);
}

int
api_http_routes(struct api_http *http, const struct api_route_def *defs,
    size_t n, void *arg, const char *who)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (api_http_route(http, defs[i].path, defs[i].methods,
		    defs[i].fn, arg) == -1) {
			log_warnx("%s: route %s", who, defs[i].path);
			return (-1);
		}
	return (0);
}

int
api_http_route_prefix(struct api_http *http, const char *prefix,
    unsigned methods, api_route_fn fn, void *arg)
{
	struct api_route	*r;

	if ((r = api_http_route_add(http, prefix, methods, fn, arg)) == NULL)
		return (-1);
	r->prefix = true;
	return (0);
}

int
api_http_route_stream(struct api_http *http, const char *path,
    unsigned methods, api_route_fn fn, void *arg,
    const struct api_stream_ops *ops)
{
	struct api_route	*r;

	if (!api_http_streaming()) {
		log_warnx("%s: %s not served: this libevent (%s) does not let "
		    "takd stream request bodies", http->opts.name, path,
		    event_get_version());
		return (-1);
	}
	if ((methods & ~(unsigned)(API_POST | API_PUT)) != 0 ||
	    (r = api_http_route_add(http, path, methods, fn, arg)) == NULL)
		return (-1);
	r->stream = ops;
	http->n_streams++;
	return (0);
}

struct api_route *
api_http_find_route(struct api_http *http, const char *path)
{
	size_t	 i;

	for (i = 0; i < http->n_routes; i++)
		if (!http->routes[i].prefix &&
		    strcmp(http->routes[i].path, path) == 0)
			return (&http->routes[i]);
	for (i = 0; i < http->n_routes; i++)
		if (http->routes[i].prefix && strncmp(http->routes[i].path,
		    path, strlen(http->routes[i].path)) == 0)
			return (&http->routes[i]);
	return (NULL);
}

void
api_http_guard(struct api_http *http, api_guard_fn fn, void *arg)
{
	http->guard = fn;
	http->guard_arg = arg;
}

size_t
api_http_conns(const struct api_http *http)
{
	return (http != NULL ? http->n_conns : 0);
}

/* --- requests ------------------------------------------------------- */

static uint64_t *
api_http_req_counter(struct api_http *http)
{
	switch (http->port) {
	case API_PORT_MARTI:
		return (&http->api->cnt.api_req_marti);
	case API_PORT_ENROLL:
		return (&http->api->cnt.api_req_enroll);
	default:
		return (&http->api->cnt.api_req_metrics);
	}
}

void
api_req_free(struct api_req *req)
{
	/* A stream's temp file and the like go first. */
	if (req->ops != NULL && req->ops->release != NULL)
		req->ops->release(req, req->ops_arg);
	req->ops = NULL;
	free(req->path);
	free(req->query);
	free(req->body);
	req->magic = 0;
	free(req);
}

/* "GET, HEAD" for the Allow header of a 405. */
static void
api_http_allow(unsigned methods, char *buf, size_t len)
{
	static const struct {
		unsigned	 bit;
		const char	*name;
	} names[] = {
		{ API_GET, "GET" }, { API_HEAD, "HEAD" }, { API_POST, "POST" },
		{ API_PUT, "PUT" }, { API_DELETE, "DELETE" },
	};
	size_t	 i;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (methods & names[i].bit)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
			    buf[0] != '\0' ? ", " : "", names[i].name);
}

/* The request's path, query and body, copied: a handler may answer late. */
struct api_req *
api_req_new(struct api_http *http, struct api_conn *c,
    struct evhttp_request *evreq)
{
	const struct evhttp_uri	*uri;
	struct evbuffer		*in;
	struct api_req		*req;
	const char		*path, *query;

	if ((req = calloc(1, sizeof(*req))) == NULL)
		return (NULL);
	req->magic = API_REQ_MAGIC;
	req->http = http;
	req->conn = c;
	req->evreq = evreq;
	req->method = (unsigned)evhttp_request_get_command(evreq);
	req->head = req->method == API_HEAD;
	snprintf(req->addr, sizeof(req->addr), "%s", c->addr);
	snprintf(req->peer, sizeof(req->peer), "%s", c->peer);
	if (c->hs_done && c->has_cert) {
		req->has_tls = true;
		req->tls = c->tls;
		req->tls.serial = NULL;		/* the connection's */
		req->tls.issuer = NULL;
	}
	uri = evhttp_request_get_evhttp_uri(evreq);
	path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	if ((req->path = strdup(path != NULL && path[0] != '\0' ? path :
	    "/")) == NULL || (query != NULL && (req->query =
	    strdup(query)) == NULL))
		goto fail;
	in = evhttp_request_get_input_buffer(evreq);
	req->body_len = evbuffer_get_length(in);
	if ((req->body = malloc(req->body_len + 1)) == NULL)
		goto fail;
	if (evbuffer_remove(in, req->body, req->body_len) !=
	    (int)req->body_len)
		goto fail;
	req->body[req->body_len] = '\0';
	return (req);
fail:
	api_req_free(req);
	return (NULL);
}

static void
api_http_gencb(struct evhttp_request *evreq, void *arg)
{
	struct api_http		*http = arg;
	struct api		*api = http->api;
	struct api_conn		*c;
	struct api_req		*req;
	struct api_route	*r;
	char			 allow[64];

	c = api_conn_find(http, evhttp_request_get_connection(evreq));
	if (c == NULL || c->closing || (http->opts.tls && !c->hs_done)) {
		/* Not a connection of ours (see api_conn_bevcb()). */
		evhttp_add_header(evhttp_request_get_output_headers(evreq),
		    "Connection", "close");
		evhttp_send_error(evreq, 500, "Internal Server Error");
		return;
	}
	(*api_http_req_counter(http))++;
	api_conn_busy(c);
	api_stream_reached(c, evreq);
	/* A streamed body came whole: its request was made with its head. */
	req = c->sreq;
	c->sreq = NULL;
	if (req != NULL && req->evreq != evreq) {
		api_req_free(req);
		req = NULL;
	}
	if (req == NULL && (req = api_req_new(http, c, evreq)) == NULL) {
		log_warnx("%s: %s: out of memory for a request",
		    http->opts.name, c->peer);
		c->ours = true;
		evhttp_send_error(evreq, 500, "Internal Server Error");
		c->ours = false;
		api_conn_idle(c);
		return;
	}
	c->req = req;
	if (http->guard != NULL && !http->guard(req, http->guard_arg))
		return;
	if ((r = api_http_find_route(http, req->path)) == NULL) {
		api_conn_refused(c, &api->cnt.api_not_found, "404: %s",
		    req->path);
		api_req_reply_text(req, 404, NULL);
		return;
	}
	if ((r->methods & req->method) == 0) {
		api_conn_refused(c, &api->cnt.api_bad_method, "405: a method "
		    "%s does not take", req->path);
		api_http_allow(r->methods, allow, sizeof(allow));
		api_req_set_header(req, "Allow", allow);
		api_req_reply_text(req, 405, NULL);
		return;
	}
	/* Pipelined behind another request, the head was not seen early. */
	if (r->stream != NULL && req->ops == NULL)
		api_stream_buffered(req, r);
	r->fn(req, r->arg);
}

const char *
api_req_peer(const struct api_req *req)
{
	return (req->peer);
}

const char *
api_req_addr(const struct api_req *req)
{
	return (req->addr);
}

const char *
api_req_path(const struct api_req *req)
{
	return (req->path);
}

const char *
api_req_query(const struct api_req *req)
{
	return (req->query);
}

unsigned
api_req_method(const struct api_req *req)
{
	return (req->method);
}

const char *
api_req_header(const struct api_req *req, const char *name)
{
	if (req->evreq == NULL)
		return (NULL);
	return (evhttp_find_header(evhttp_request_get_input_headers(
	    req->evreq), name));
}

const char *
api_req_authorization(const struct api_req *req)
{
	return (api_req_header(req, "Authorization"));
}

const unsigned char *
api_req_body(struct api_req *req, size_t *len)
{
	*len = req->body_len;
	return (req->body);
}

const struct tls_peer *
api_req_tls_peer(const struct api_req *req)
{
	return (req->has_tls ? &req->tls : NULL);
}

enum api_port
api_req_port(const struct api_req *req)
{
	return (req->http->port);
}

struct api *
api_req_api(const struct api_req *req)
{
	return (req->http->api);
}

bool
api_req_gone(const struct api_req *req)
{
	return (req->evreq == NULL);
}

void
api_req_on_gone(struct api_req *req, void (*fn)(struct api_req *, void *),
    void *arg)
{
	req->gone = fn;
	req->gone_arg = arg;
}

void *
api_req_stream_state(const struct api_req *req)
{
	return (req->sstate);
}

void
api_req_set_stream_state(struct api_req *req, void *state)
{
	req->sstate = state;
}

enum api_stream_end
api_req_stream_end(const struct api_req *req)
{
	return (req->end);
}

uint64_t
api_req_body_bytes(const struct api_req *req)
{
	return (req->body_bytes);
}

void
api_req_set_header(struct api_req *req, const char *name, const char *value)
{
	if (req->evreq != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(
		    req->evreq), name, value);
}

static const char *
api_http_method_name(const struct api_req *req)
{
	switch (req->method) {
	case API_HEAD:
		return ("HEAD");
	case API_POST:
		return ("POST");
	case API_PUT:
		return ("PUT");
	case API_DELETE:
		return ("DELETE");
	}
	return ("GET");
}

const char *
api_http_reason(int code)
{
	switch (code) {
	case 200:
		return ("OK");
	case 204:
		return ("No Content");
	case 400:
		return ("Bad Request");
	case 401:
		return ("Unauthorized");
	case 403:
		return ("Forbidden");
	case 404:
		return ("Not Found");
	case 405:
		return ("Method Not Allowed");
	case 411:
		return ("Length Required");
	case 413:
		return ("Content Too Large");
	case 429:
		return ("Too Many Requests");
	case 500:
		return ("Internal Server Error");
	case 502:
		return ("Bad Gateway");
	case 503:
		return ("Service Unavailable");
	case 507:
		return ("Insufficient Storage");
	}
	return (code < 300 ? "OK" : code < 500 ? "Client Error" :
	    "Server Error");
}

void
api_req_reply(struct api_req *req, int code, const char *ctype,
    const void *body, size_t len)
{
	struct evkeyvalq	*out;
	struct evbuffer		*buf = NULL;
	struct api_conn		*c = req->conn;
	char			 clen[32];

	if (req->evreq == NULL || c == NULL)
		goto done;		/* the client went away */
	out = evhttp_request_get_output_headers(req->evreq);
	if (code != 204 && code != 304) {
		evhttp_add_header(out, "Content-Type", ctype);
		snprintf(clen, sizeof(clen), "%zu", len);
		/* A HEAD's length is its GET's: evhttp sets none for it. */
		evhttp_remove_header(out, "Content-Length");
		evhttp_add_header(out, "Content-Length", clen);
	}
	evhttp_add_header(out, "Cache-Control", "no-store");
	if (req->http->opts.plain_gate)
		evhttp_add_header(out, "Connection", "close");
	if (!req->head && len > 0 && code != 204) {
		if ((buf = evbuffer_new()) == NULL || evbuffer_add(buf, body,
		    len) == -1) {
			log_warnx("%s: %s: out of memory for a reply",
			    req->http->opts.name, req->peer);
			code = 500;
			if (buf != NULL)
				evbuffer_free(buf);
			buf = NULL;
			evhttp_remove_header(out, "Content-Length");
			evhttp_add_header(out, "Content-Length", "0");
		}
	}
	log_debug("%s: %s: %s %s: %d, %zu bytes", req->http->opts.name,
	    req->peer, api_http_method_name(req), req->path, code, len);
	c->ours = true;
	evhttp_send_reply(req->evreq, code, api_http_reason(code), buf);
	c->ours = false;
	if (buf != NULL)
		evbuffer_free(buf);
	api_conn_idle(c);
done:
	api_req_free(req);
}

void
api_req_reply_text(struct api_req *req, int code, const char *text)
{
	char	 buf[128];
	int	 n;

	if (text == NULL) {
		n = snprintf(buf, sizeof(buf), "%d %s\n", code,
		    api_http_reason(code));
		api_req_reply(req, code, "text/plain; charset=utf-8", buf,
		    (size_t)n);
	} else
		api_req_reply(req, code, "text/plain; charset=utf-8", text,
		    strlen(text));
}
