/*
 * Streaming bodies through evhttp (http.h, docs/api.md "Streaming"):
 * request bodies handed to a route piece by piece as they come off the
 * network, and replies sent from a file piece by piece as the client
 * takes them.  Neither is ever whole in memory.
 *
 * Requests.  evhttp reads a request's body itself and hands the request
 * to the server only once the body is whole; a request's chunk callback
 * (evhttp_request_set_chunked_cb) gets the body as it comes instead, and
 * its header callback (evhttp_request_set_header_cb) runs once the head
 * is parsed, before any byte of the body, where the body limit of the
 * connection (evhttp_connection_set_max_body_size: checked against
 * Content-Length before "100 Continue" and against the bytes read) can
 * still be raised for this one request.  But libevent 2.1 gives a server
 * no request before its body: evhttp_set_newreqcb(), which would, came
 * with 2.2 (unreleased; Debian 12 has 2.1.12).  The request is found
 * instead where evhttp keeps it: the queue head of its connection, one
 * request at a time on a server connection.  struct evhttp_request is
 * public (event2/http_struct.h); struct evhttp_connection is not, and its
 * layout up to that queue is mirrored below from libevent 2.1.12's
 * http-internal.h.  Three guards keep that honest:
 *   - only with libevent 2.1.12 (event_get_version_number()), else no
 *     route streams (and upload routes are not served: logged at start);
 *   - before each use, the mirror must find this server in the
 *     connection's http_server and a request whose evcon and queue links
 *     point back at the connection;
 *   - every request the router gets must be the one the mirror finds;
 *     the first mismatch turns streaming off for the process, loudly.
 * The header callback is set on the connection's request each time bytes
 * come in (conn.c's input callback runs before evhttp reads them); a
 * request pipelined behind another one may be parsed before that and its
 * body is then buffered up to [api] max_body and handed to the route in
 * one piece (api_stream_buffered()).
 *
 * Replies.  api_req_reply_fd() sends the head with Content-Length, then
 * API_SEND_PIECE bytes at a time, reading the next piece when libevent
 * says the previous one is written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>

#include "api/http_int.h"

#define API_SEND_MAGIC		0x41534e44u	/* "ASND" */
#define API_SEND_PIECE		(128 * 1024)	/* read and written at once */
#define API_LIBEVENT_2_1_12	0x02010c00u	/* the layout mirrored */

/*
 * libevent 2.1.12's struct evhttp_connection (http-internal.h) up to its
 * request queue, in public types.
 */
struct api_evcon_2_1_12 {
	struct {
		void	*next;
		void	**prev;
	}			 next;
	evutil_socket_t		 fd;
	struct bufferevent	*bufev;
	struct event		 retry_ev;
	char			*bind_address;
	ev_uint16_t		 bind_port;
	char			*address;
	ev_uint16_t		 port;
	size_t			 max_headers_size;
	ev_uint64_t		 max_body_size;
	int			 flags;
	struct timeval		 timeout;
	int			 retry_cnt;
	int			 retry_max;
	struct timeval		 initial_retry_timeout;
	int			 state;		/* enum evhttp_connection_state */
	struct evhttp		*http_server;
	struct {
		struct evhttp_request	 *first;
		struct evhttp_request	**last;
	}			 requests;
};

struct api_sendfd {
	unsigned	 magic;
	struct api_req	*req;
	int		 fd;
	uint64_t	 size;
	uint64_t	 sent;
	struct evbuffer	*buf;
	void		(*done)(struct api_req *, uint64_t, bool, void *);
	void		*arg;
};

/* Each listener kind's, to find ours from libevent's struct evhttp. */
static struct api_http	*api_stream_https[API_PORT_MAX];
static int		 api_stream_ok = -1;	/* -1: not yet known */

bool
api_http_streaming(void)
{
	if (api_stream_ok == -1)
		api_stream_ok = (event_get_version_number() & 0xffffff00u) ==
		    API_LIBEVENT_2_1_12;
	return (api_stream_ok == 1);
}

static void
api_stream_off(const char *why)
{
	if (api_stream_ok == 0)
		return;
	api_stream_ok = 0;
	log_warnx("libevent %s: %s: request bodies are no longer streamed "
	    "(uploads over [api] max_body get 413)", event_get_version(), why);
}

void
api_stream_register(struct api_http *http)
{
	api_stream_https[http->port] = http;
}

void
api_stream_unregister(struct api_http *http)
{
	if (api_stream_https[http->port] == http)
		api_stream_https[http->port] = NULL;
}

static struct api_http *
api_stream_http(void *evh)
{
	size_t	 i;

	for (i = 0; i < API_PORT_MAX; i++)
		if (api_stream_https[i] != NULL &&
		    api_stream_https[i]->evh == evh)
			return (api_stream_https[i]);
	return (NULL);
}

/* The request evhttp holds for c's next (or current) one, or NULL. */
static struct evhttp_request *
api_stream_current(struct api_conn *c)
{
	struct api_evcon_2_1_12		*e;
	struct evhttp_request		*r;

	if (!api_http_streaming() || c->evcon == NULL)
		return (NULL);
	e = (void *)c->evcon;
	if (e->http_server != c->http->evh) {
		api_stream_off("a connection's layout is not 2.1.12's");
		return (NULL);
	}
	if ((r = e->requests.first) == NULL)
		return (NULL);
	if (r->evcon != c->evcon ||
	    r->next.tqe_prev != &e->requests.first ||
	    r->kind != EVHTTP_REQUEST) {
		api_stream_off("a request's links are not 2.1.12's");
		return (NULL);
	}
	return (r);
}

static void	 api_stream_chunk_cb(struct evhttp_request *, void *);

/*
 * The head of a request is parsed, its body not read: a streaming route's
 * gets its request now, its body limit, and the pieces of its body.
 */
static int
api_stream_header_cb(struct evhttp_request *evreq, void *evh)
{
	struct api_http		*http;
	struct api_conn		*c;
	struct api_route	*r;
	struct api_req		*req;
	const struct evhttp_uri	*uri;
	const char		*path;
	unsigned		 method;
	int			 rc;

	if ((http = api_stream_http(evh)) == NULL ||
	    (c = api_conn_find(http, evhttp_request_get_connection(evreq))) ==
	    NULL || c->closing)
		return (0);
	/* Every request starts from [api] max_body. */
	evhttp_connection_set_max_body_size(c->evcon,
	    (ev_ssize_t)http->opts.max_body);
	if (c->sreq != NULL) {
		api_req_free(c->sreq);
		c->sreq = NULL;
	}
	uri = evhttp_request_get_evhttp_uri(evreq);
	path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	method = (unsigned)evhttp_request_get_command(evreq);
	if (path == NULL || (r = api_http_find_route(http, path)) == NULL ||
	    r->stream == NULL || (r->methods & method) == 0)
		return (0);
	/*
	 * evhttp hands a chunked body over chunk by chunk, each whole: one
	 * chunk of 100 MiB would be held.  Such a body keeps max_body.
	 */
	if (evhttp_find_header(evhttp_request_get_input_headers(evreq),
	    "Transfer-Encoding") != NULL) {
		log_limited(&http->rl, LOG_WARNING, "%s: %s: %s: a chunked "
		    "body is not streamed (send Content-Length): at most [api] "
		    "max_body", http->opts.name, c->peer, path);
		return (0);
	}
	if ((req = api_req_new(http, c, evreq)) == NULL) {
		log_warnx("%s: %s: out of memory for a request",
		    http->opts.name, c->peer);
		return (-1);
	}
	evhttp_connection_set_max_body_size(c->evcon,
	    (ev_ssize_t)r->stream->max);
	evhttp_request_set_chunked_cb(evreq, api_stream_chunk_cb);
	c->sreq = req;
	c->in_bytes = 0;
	api_conn_waiting(c);
	req->ops = r->stream;
	req->ops_arg = r->arg;
	if ((rc = r->stream->begin(req, r->arg)) != 0)
		req->refuse = rc;
	return (0);
}

/* The next piece of a streamed body (evhttp drains it after this). */
static void
api_stream_chunk_cb(struct evhttp_request *evreq, void *evh)
{
	struct api_http		*http;
	struct api_conn		*c;
	struct api_req		*req;
	struct evbuffer		*in;
	struct evbuffer_iovec	 v[16];
	size_t			 len;
	int			 i, n, rc;

	in = evhttp_request_get_input_buffer(evreq);
	if ((http = api_stream_http(evh)) == NULL ||
	    (c = api_conn_find(http, evhttp_request_get_connection(evreq))) ==
	    NULL || (req = c->sreq) == NULL || req->evreq != evreq) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	api_conn_waiting(c);
	while ((len = evbuffer_get_length(in)) > 0) {
		n = evbuffer_peek(in, (ev_ssize_t)len, NULL, v, 16);
		if (n > 16)
			n = 16;
		for (i = 0, len = 0; i < n; i++) {
			req->body_bytes += v[i].iov_len;
			len += v[i].iov_len;
			if (req->refuse != 0 || v[i].iov_len == 0)
				continue;
			if ((rc = req->ops->data(req, v[i].iov_base,
			    v[i].iov_len, req->ops_arg)) != 0)
				req->refuse = rc;
		}
		evbuffer_drain(in, len);
	}
}

void
api_stream_arm(struct api_conn *c)
{
	struct evhttp_request	*r;

	/* Only where a route streams: 8443, not enrollment or metrics. */
	if (c->http->n_streams == 0 || c->sreq != NULL ||
	    (r = api_stream_current(c)) == NULL ||
	    r->header_cb == api_stream_header_cb)
		return;
	evhttp_request_set_header_cb(r, api_stream_header_cb);
}

void
api_stream_reached(struct api_conn *c, struct evhttp_request *evreq)
{
	if (c->http->n_streams == 0)
		return;
	if (api_stream_current(c) != evreq && api_http_streaming())
		api_stream_off("the router's request is not the one found");
	/* The next request starts from [api] max_body. */
	evhttp_connection_set_max_body_size(c->evcon,
	    (ev_ssize_t)c->http->opts.max_body);
}

void
api_stream_buffered(struct api_req *req, struct api_route *r)
{
	int	 rc;

	req->ops = r->stream;
	req->ops_arg = r->arg;
	if ((rc = r->stream->begin(req, r->arg)) != 0) {
		req->refuse = rc;
		return;
	}
	req->body_bytes = req->body_len;
	if (req->body_len > 0 && (rc = r->stream->data(req, req->body,
	    req->body_len, r->arg)) != 0)
		req->refuse = rc;
}

/* --- replies from a file --------------------------------------------- */

static void
api_send_free(struct api_sendfd *s)
{
	if (s == NULL)
		return;
	if (s->fd != -1)
		close(s->fd);
	if (s->buf != NULL)
		evbuffer_free(s->buf);
	s->magic = 0;
	free(s);
}

/* The end of a reply from a file: said to the route, req freed. */
static void
api_send_end(struct api_sendfd *s, bool whole)
{
	struct api_req	*req = s->req;
	struct api_conn	*c = req->conn;

	req->send = NULL;
	req->gone = NULL;
	if (s->done != NULL)
		s->done(req, s->sent, whole, s->arg);
	if (c != NULL && req->evreq != NULL) {
		if (whole) {
			c->ours = true;
			evhttp_send_reply_end(req->evreq);
			c->ours = false;
			api_conn_idle(c);
		} else {
			/* Content-Length promised more: the client must see. */
			c->req = NULL;
			api_conn_close(c, "a file could not be read whole", -1);
		}
	}
	api_send_free(s);
	api_req_free(req);
}

static void
api_send_gone(struct api_req *req, void *arg)
{
	struct api_sendfd	*s = arg;

	if (s != NULL && s->magic == API_SEND_MAGIC)
		api_send_end(s, false);
}

static void	 api_send_next(struct evhttp_connection *, void *);

/* The previous piece is written: the next one, or the end. */
static void
api_send_next(struct evhttp_connection *evcon, void *arg)
{
	struct api_sendfd	*s = arg;
	struct api_req		*req;
	struct api_conn		*c;
	struct evbuffer_iovec	 v;
	uint64_t		 want;
	ssize_t			 n = -1;

	if (s == NULL || s->magic != API_SEND_MAGIC)
		return;
	req = s->req;
	if ((c = req->conn) == NULL || req->evreq == NULL) {
		api_send_end(s, false);
		return;
	}
	if (s->sent == s->size || req->head) {
		api_send_end(s, true);
		return;
	}
	want = s->size - s->sent;
	if (want > API_SEND_PIECE)
		want = API_SEND_PIECE;
	/* evbuffer_read() takes 4 KiB at a time: read(2) into its room. */
	if (evbuffer_reserve_space(s->buf, (ev_ssize_t)want, &v, 1) == 1) {
		do
			n = read(s->fd, v.iov_base, (size_t)want);
		while (n == -1 && errno == EINTR);
		v.iov_len = n > 0 ? (size_t)n : 0;
		if (n > 0 && evbuffer_commit_space(s->buf, &v, 1) == -1)
			n = -1;
	}
	if (n <= 0) {
		log_warnx("%s: %s: %s: read of the file %s after %llu of %llu "
		    "bytes", req->http->opts.name, req->peer, req->path,
		    n == 0 ? "ended" : strerror(errno),
		    (unsigned long long)s->sent, (unsigned long long)s->size);
		api_send_end(s, false);
		return;
	}
	s->sent += (uint64_t)n;
	c->ours = true;
	evhttp_send_reply_chunk_with_cb(req->evreq, s->buf, api_send_next, s);
	c->ours = false;
}

void
api_req_reply_fd(struct api_req *req, const char *ctype, int fd,
    uint64_t size, void (*done)(struct api_req *, uint64_t, bool, void *),
    void *arg)
{
	struct api_sendfd	*s;
	struct evkeyvalq	*out;
	struct api_conn		*c = req->conn;
	char			 clen[32];

	if (req->evreq == NULL || c == NULL) {
		close(fd);
		if (done != NULL)
			done(req, 0, false, arg);
		api_req_free(req);
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->buf = evbuffer_new()) == NULL) {
		free(s);
		close(fd);
		log_warnx("%s: %s: out of memory for a reply",
		    req->http->opts.name, req->peer);
		api_req_reply_text(req, 500, NULL);
		return;
	}
	s->magic = API_SEND_MAGIC;
	s->req = req;
	s->fd = fd;
	s->size = size;
	s->done = done;
	s->arg = arg;
	req->send = s;
	api_req_on_gone(req, api_send_gone, s);
	out = evhttp_request_get_output_headers(req->evreq);
	evhttp_add_header(out, "Content-Type", ctype);
	snprintf(clen, sizeof(clen), "%llu", (unsigned long long)size);
	evhttp_remove_header(out, "Content-Length");
	evhttp_add_header(out, "Content-Length", clen);
	evhttp_add_header(out, "Cache-Control", "no-store");
	log_debug("%s: %s: %s %s: 200, %llu bytes from a file",
	    req->http->opts.name, req->peer, req->head ? "HEAD" : "GET",
	    req->path, (unsigned long long)size);
	c->ours = true;
	evhttp_send_reply_start(req->evreq, 200, api_http_reason(200));
	c->ours = false;
	api_send_next(NULL, s);
}
