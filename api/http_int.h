/*
 * What api/http.c (listeners, routes, requests) and api/conn.c (each
 * connection: its TLS, admission, deadlines, refusals) share.  Handlers
 * see only api/http.h.
 */
#ifndef TAKD_API_HTTP_INT_H
#define TAKD_API_HTTP_INT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include <event2/event_struct.h>
#include <openssl/ssl.h>

#include "api/http.h"
#include "shared/log.h"
#include "worker/tls.h"

#define API_HTTP_MAGIC		0x41485450u	/* "AHTP" */
#define API_CONN_MAGIC		0x41434f4eu	/* "ACON" */
#define API_REQ_MAGIC		0x41524551u	/* "AREQ" */
#define API_LIS_MAX		4	/* sockets of one kind (v4, v6 ...) */
#define API_PAUSE_MS		200	/* accept paused: out of descriptors */
/* Between the backstop of libevent's own timeout and ours. */
#define API_EVHTTP_SLACK_S	2

enum api_conn_state {
	CONN_NEW,		/* made by the bevcb, not yet admitted */
	CONN_HANDSHAKE,		/* TLS handshake under way */
	CONN_IDLE,		/* waiting for a request (or a reply to go) */
	CONN_BUSY		/* a request is in a handler */
};

struct api_route {
	char		 path[API_PATH_MAX];
	bool		 prefix;	/* path is a prefix of the paths served */
	unsigned	 methods;
	api_route_fn	 fn;
	void		*arg;
	const struct api_stream_ops *stream;	/* NULL: a buffered body */
};

struct api_listener {
	struct api_http		*http;
	struct evconnlistener	*lev;
	struct evhttp_bound_socket *bound;	/* NULL: closed */
	struct event		*resume;	/* the end of a pause */
	char			 address[64];
	unsigned		 port;
	struct log_ratelimit	 rl;
};

struct api_conn;

struct api_http {
	unsigned		 magic;
	struct api		*api;
	enum api_port		 port;
	struct api_http_opts	 opts;
	struct evhttp		*evh;
	SSL_CTX			*ctx;		/* the workers' */
	struct api_listener	 lis[API_LIS_MAX];
	size_t			 n_lis;
	/*
	 * Its connections, newest first.  Plain pointers: libevent's headers
	 * undefine <sys/queue.h>'s macros behind them.
	 */
	struct api_conn		*conns;
	size_t			 n_conns;
	struct api_route	 routes[API_ROUTES_MAX];
	size_t			 n_routes;
	size_t			 n_streams;	/* streaming routes among them */
	api_guard_fn		 guard;
	void			*guard_arg;
	struct log_ratelimit	 rl;		/* what a peer provokes at will */
};

struct api_conn {
	unsigned		 magic;
	struct api_conn		*next;
	struct api_conn		*prev;
	struct api_http		*http;
	struct bufferevent	*bev;		/* one reference is ours */
	struct evhttp_connection *evcon;	/* from the admission on */
	SSL			*ssl;		/* the bev's; NULL: plain */
	/* Deferred work: the admission, then the close. */
	struct event		 ev;
	enum api_conn_state	 state;
	bool			 closing;	/* ours: ev frees it */
	const char		*doom;		/* why we close it */
	char			 why[160];	/* room for a doom */
	int			 doom_hs;	/* IPC_HS_* of that, or -1 */
	int			 refuse_code;	/* the gate's 400 or 431 */
	int64_t			 accepted_ms;
	int64_t			 since_ms;	/* in its state since */
	int64_t			 deadline_ms;	/* 0: none */
	char			 addr[INET6_ADDRSTRLEN];
	char			 peer[INET6_ADDRSTRLEN + 8];	/* addr:port */
	bool			 hs_done;
	bool			 has_cert;	/* tls holds a certificate */
	struct tls_peer		 tls;		/* after the handshake */
	/* The certificate the verification refused, for the log. */
	char			 bad_serial[68];
	char			 bad_subject[256];
	struct api_req		*req;		/* in a handler */
	/* A streamed request whose body is coming in (http_stream.c). */
	struct api_req		*sreq;
	bool			 ours;		/* our reply is being written */
	/* Bytes read since the last request or reply: what a head took. */
	size_t			 in_bytes;
	/* The plain gate: bytes of the head seen, its last three. */
	size_t			 head_len;
	bool			 head_done;
	unsigned char		 head_tail[3];
};

struct api_req {
	unsigned		 magic;
	struct api_http		*http;
	struct api_conn		*conn;		/* NULL: the client went away */
	struct evhttp_request	*evreq;		/* NULL with conn */
	unsigned		 method;	/* API_* */
	bool			 head;		/* HEAD: no body in the reply */
	char			*path;
	char			*query;		/* NULL: none */
	unsigned char		*body;
	size_t			 body_len;
	char			 addr[INET6_ADDRSTRLEN];
	char			 peer[INET6_ADDRSTRLEN + 8];
	bool			 has_tls;
	struct tls_peer		 tls;		/* serial and issuer: NULL */
	/* A streaming route's (http_stream.c). */
	const struct api_stream_ops *ops;	/* begin was called */
	void			*ops_arg;
	void			*sstate;
	int			 refuse;	/* a status begin or data gave */
	uint64_t		 body_bytes;
	enum api_stream_end	 end;
	/* The client went away while a handler holds req. */
	void			(*gone)(struct api_req *, void *);
	void			*gone_arg;
	struct api_sendfd	*send;		/* api_req_reply_fd() under way */
	/*
	 * A streaming reply (http_push.c): its evhttp request, kept when
	 * the client goes away; lib_frees: the connection was closed by us,
	 * so libevent frees the request, else it left it to us.
	 */
	struct evhttp_request	*stream;
	bool			 lib_frees;
};

/* http.c */
struct api_req	*api_req_new(struct api_http *, struct api_conn *,
		    struct evhttp_request *);
/* "Not Found" for 404. */
const char	*api_http_reason(int code);
/* Let go of req (its stream's release first): no reply is sent. */
void		 api_req_free(struct api_req *);
/* The route of path (exact routes first, then prefixes), or NULL. */
struct api_route *api_http_find_route(struct api_http *, const char *path);

/* http_stream.c */
/* A new listener kind: its requests may stream. */
void		 api_stream_register(struct api_http *);
void		 api_stream_unregister(struct api_http *);
/* Bytes came in on c: its next request will be seen before its body. */
void		 api_stream_arm(struct api_conn *);
/*
 * A request reached the router (its body whole): check what http_stream.c
 * relies on against it, and take back a streaming route's body limit.
 */
void		 api_stream_reached(struct api_conn *, struct evhttp_request *);
/* A streaming route's request whose body was buffered (not streamed). */
void		 api_stream_buffered(struct api_req *, struct api_route *);

/* conn.c */
/* A streamed body is coming: busy, [api] timeout until the next piece. */
void		 api_conn_waiting(struct api_conn *);
/* evhttp_set_bevcb(): the connection's bufferevent, our SSL in it. */
struct bufferevent *api_conn_bevcb(struct event_base *, void *http);
/* The admitted connection of evcon, or NULL. */
struct api_conn	*api_conn_find(struct api_http *, struct evhttp_connection *);
/*
 * Close c from the loop (never inside libevent's call about it): why for
 * the log, hs the IPC_HS_* to count a handshake under, or -1.
 */
void		 api_conn_close(struct api_conn *, const char *why, int hs);
/* A request reached a handler / its reply is written (back to idle). */
void		 api_conn_busy(struct api_conn *);
void		 api_conn_idle(struct api_conn *);
/* Count and log a refusal of c: counter, then the message. */
void		 api_conn_refused(struct api_conn *, uint64_t *counter,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The SSL ex_data index that points at an SSL's connection. */
int		 api_conn_ssl_index(void);

#endif
