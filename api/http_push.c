/*
 * Streaming replies (api/http_push.h) on libevent's chunked replies:
 * evhttp_send_reply_start/_chunk/_end.  Only what http.c's one-shot
 * api_req_reply() cannot do; the request's life is the framework's.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>

#include "api/http_int.h"
#include "api/http_push.h"

int
api_req_push_start(struct api_req *req, const char *ctype)
{
	struct evkeyvalq	*out;
	struct api_conn		*c = req->conn;

	if (req->evreq == NULL || c == NULL)
		return (-1);
	out = evhttp_request_get_output_headers(req->evreq);
	evhttp_add_header(out, "Content-Type", ctype);
	evhttp_add_header(out, "Cache-Control", "no-store");
	/* Proxies must not hold the events back. */
	evhttp_add_header(out, "X-Accel-Buffering", "no");
	c->ours = true;
	evhttp_send_reply_start(req->evreq, 200, "OK");
	c->ours = false;
	req->stream = req->evreq;
	return (0);
}

int
api_req_push_send(struct api_req *req, const void *data, size_t len)
{
	struct evbuffer	*buf;
	struct api_conn	*c = req->conn;

	if (req->evreq == NULL || c == NULL)
		return (-1);
	if ((buf = evbuffer_new()) == NULL)
		return (-1);
	if (evbuffer_add(buf, data, len) == -1) {
		evbuffer_free(buf);
		return (-1);
	}
	c->ours = true;
	evhttp_send_reply_chunk(req->evreq, buf);
	c->ours = false;
	evbuffer_free(buf);
	return (0);
}

size_t
api_req_push_pending(const struct api_req *req)
{
	if (req->evreq == NULL || req->conn == NULL)
		return (0);
	return (evbuffer_get_length(bufferevent_get_output(req->conn->bev)));
}

void
api_req_push_end(struct api_req *req)
{
	struct api_conn	*c = req->conn;

	if (req->evreq != NULL && c != NULL) {
		c->ours = true;
		evhttp_send_reply_end(req->evreq);
		c->ours = false;
		api_conn_idle(c);
	} else if (req->stream != NULL && !req->lib_frees)
		/*
		 * The client went away mid-stream: libevent detached the
		 * unfinished request from its connection and left it to us;
		 * with no connection, the end frees it.
		 */
		evhttp_send_reply_end(req->stream);
	free(req->path);
	free(req->query);
	free(req->body);
	req->magic = 0;
	free(req);
}
