/*
 * takload (see takload.c): one generator process.  An epoll loop of
 * non-blocking OpenSSL clients: connect at the ramp rate, handshake, wait
 * for the server's ticket, then per mode close at once (handshake), hold,
 * or send SA events on schedule and read and account for everything that
 * arrives (fanout).  Counters go to the process's tl_report.  A fan-out
 * client of --v1's share answers takd's TAK protocol offer, counts as up
 * once it is on v1, and sends and reads v1 frames from then on (v1.c).
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "tests/common/tlsclient.h"
#include "tests/load/takload.h"

#define TL_CLIENT_MAGIC		0x71c11e47U
#define TL_RX_CAP		(64 * 1024)
#define TL_TX_CAP		(16 * 1024)
#define TL_EVENT_MAX		2048
#define TL_SCRATCH		(16 * 1024)
#define TL_HS_TIMEOUT_US	(15 * 1000000LL)
#define TL_TICKET_WAIT_US	(3 * 1000000LL)
#define TL_MAX_INFLIGHT		128	/* handshakes at once, per process */
#define TL_TICK_US		10000	/* longest sleep (flags polled) */
#define TL_DUP_MAX_CLIENTS	4096	/* sequence checks up to */

static const char	 TL_END_TAG[] = "</event>";
static const char	 TL_MARK[] = "<takload s=\"";

enum cl_state {
	CL_IDLE,		/* not started, or between two handshakes */
	CL_CONNECTING,		/* non-blocking connect() */
	CL_HANDSHAKE,		/* SSL_connect() */
	CL_TICKET,		/* our side done; wait for the server */
	CL_OPEN,		/* accepted: holding, sending, reading */
	CL_CLOSED,		/* gone (failed, or closed by the server) */
};

struct client {
	unsigned	 magic;
	enum cl_state	 state;
	unsigned	 gidx;		/* global client index */
	struct tlsclient tc;		/* socket, TLS session, --resume ticket */
	uint32_t	 events;	/* epoll interest registered */
	uint32_t	 rd_want;	/* what reading or handshaking wants */
	uint32_t	 wr_want;	/* what a blocked write waits for */
	int64_t		 t_start;	/* connect() */
	int64_t		 deadline;
	uint32_t	 seq;
	uint8_t		*rx;
	size_t		 rx_len;
	size_t		 rx_scan;	/* "</event>" not before this */
	char		 tx[TL_TX_CAP];
	size_t		 tx_len;
	size_t		 tx_off;
	uint32_t	*last_seq;	/* per sender, fanout */
	bool		 v1;		/* asks for TAK protocol v1 */
	bool		 v1_on;		/* switched: v1 frames both ways */
	struct tl_v1	 tmpl;		/* its SA in v1, made at the switch */
};

/* One generator process. */
struct tl_proc {
	const struct opts *o;
	struct tl_report *rep;
	struct tl_report st;		/* local counters, published */
	struct addrinfo	**ai;		/* each node's */
	struct client	*cl;
	unsigned	 n;		/* clients (handshake slots) */
	unsigned	 next_start;	/* ramp: next client to connect */
	unsigned	 inflight;
	int64_t		 t_ramp;
	int		 epfd;
	bool		 go;
	int64_t		 t_go;
	int64_t		 t_end;		/* handshake, hold: the end */
	unsigned	 send_round;	/* fanout send schedule */
	unsigned	 send_idx;
	bool		 sends_done;
	unsigned	 warming;	/* resume: first, full handshakes */
	unsigned	 negotiating;	/* v1 clients up, not switched yet */
	uint8_t		 scratch[TL_SCRATCH];
};

/* --cert-dir: a certificate and key for each client, in turn. */
struct cert_pair {
	X509		*x509;
	EVP_PKEY	*pkey;
};

static struct cert_pair	*tl_certs;
static unsigned		 tl_ncerts;
static SSL_CTX		*tl_ctx;	/* made before the fork */

/* --- TLS material -------------------------------------------------------- */

static int
tl_pass_cb(char *buf, int size, int rwflag, void *u)
{
	const char	*pass = u;
	size_t		 n;

	if (pass == NULL)
		return (0);
	n = strlen(pass);
	if (n > (size_t)size)
		n = (size_t)size;
	memcpy(buf, pass, n);
	return ((int)n);
}

static void
tl_load_pair(const struct opts *o, const char *cert, const char *key,
    struct cert_pair *cp)
{
	FILE	*f;

	if ((f = fopen(cert, "r")) == NULL)
		tl_fail("%s: %s", cert, strerror(errno));
	cp->x509 = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (cp->x509 == NULL)
		tl_fail("%s: not a PEM certificate", cert);
	if ((f = fopen(key, "r")) == NULL)
		tl_fail("%s: %s", key, strerror(errno));
	cp->pkey = PEM_read_PrivateKey(f, NULL, tl_pass_cb,
	    (void *)(uintptr_t)o->pass);
	fclose(f);
	if (cp->pkey == NULL)
		tl_fail("%s: cannot read the key (wrong --pass?)", key);
	if (X509_check_private_key(cp->x509, cp->pkey) != 1)
		tl_fail("%s: key does not match %s", key, cert);
}

static int
tl_namecmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* NAME.pem + NAME.key pairs of a directory (takctl's clients/), sorted. */
static void
tl_load_dir(const struct opts *o)
{
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL, cert[PATH_MAX], key[PATH_MAX];
	size_t		 n = 0, cap = 0, len, i;

	if ((d = opendir(o->cert_dir)) == NULL)
		tl_fail("%s: %s", o->cert_dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 4 || strcmp(de->d_name + len - 4, ".pem") != 0)
			continue;
		snprintf(key, sizeof(key), "%s/%.*s.key", o->cert_dir,
		    (int)(len - 4), de->d_name);
		if (access(key, R_OK) == -1)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((names = realloc(names, cap * sizeof(*names))) ==
			    NULL)
				tl_fail("out of memory");
		}
		if ((names[n++] = strndup(de->d_name, len - 4)) == NULL)
			tl_fail("out of memory");
	}
	closedir(d);
	if (n == 0)
		tl_fail("%s: no NAME.pem with a NAME.key", o->cert_dir);
	qsort(names, n, sizeof(*names), tl_namecmp);
	if ((tl_certs = calloc(n, sizeof(*tl_certs))) == NULL)
		tl_fail("out of memory");
	for (i = 0; i < n; i++) {
		snprintf(cert, sizeof(cert), "%s/%s.pem", o->cert_dir,
		    names[i]);
		snprintf(key, sizeof(key), "%s/%s.key", o->cert_dir, names[i]);
		tl_load_pair(o, cert, key, &tl_certs[i]);
		free(names[i]);
	}
	free(names);
	tl_ncerts = (unsigned)n;
}

/*
 * The TLS client context of every generator process, and the certificates
 * of --cert-dir: made once, in the coordinator, so that a bad file stops
 * the run before it starts.
 */
void
tl_tls_init(const struct opts *o)
{
	struct tlsclient_conf	 cf = {
		.cert = o->cert,
		.key = o->key,
		.pass = o->pass,
		.ca = o->ca,
		/*
		 * One read() for every record the socket holds rather than
		 * two per record (header, body): a fan-out client reads
		 * hundreds a second.
		 */
		.read_ahead = 1,
		/* Thousands of idle sessions should not each hold 34 KB. */
		.release_buffers = o->mode == MODE_HOLD,
	};
	char			 err[512];

	if (o->cert_dir != NULL)
		tl_load_dir(o);
	if ((tl_ctx = tlsclient_ctx_new(&cf, err, sizeof(err))) == NULL)
		tl_fail("%s", err);
}

/* --- teams (--teams, --hq) ------------------------------------------------ */

/*
 * The last o->hq clients are HQ, in every team; client i of the others is
 * in team i % o->teams, so that each team's sends spread over the period
 * as everybody's do.  The team of client i, o->teams for HQ.
 */
static unsigned
tl_team(const struct opts *o, unsigned i)
{
	return (i >= o->clients - o->hq ? o->teams : i % o->teams);
}

/*
 * The receivers of client i's events: everybody else without teams;
 * with them, an HQ client's reach everybody else, a team member's its
 * team mates and HQ.
 */
static unsigned
tl_reach(const struct opts *o, unsigned i)
{
	unsigned	 m = o->clients - o->hq, t;

	if (o->teams == 0 || (t = tl_team(o, i)) == o->teams)
		return (o->clients - 1);
	return (m / o->teams + (t < m % o->teams ? 1 : 0) - 1 + o->hq);
}

/* --- one client ---------------------------------------------------------- */

static void	 tl_send_sa(struct tl_proc *, struct client *);

static void
cl_error(struct tl_proc *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
cl_error(struct tl_proc *x, const char *fmt, ...)
{
	va_list	 ap;

	if (x->st.first_error[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(x->st.first_error, sizeof(x->st.first_error), fmt, ap);
	va_end(ap);
}

static void
cl_interest(struct tl_proc *x, struct client *c)
{
	struct epoll_event	 ev;
	uint32_t		 want = c->rd_want | c->wr_want;

	if (want == c->events || c->tc.fd == -1)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = want;
	ev.data.ptr = c;
	if (epoll_ctl(x->epfd, EPOLL_CTL_MOD, c->tc.fd, &ev) == -1)
		tl_fail("epoll_ctl: %s", strerror(errno));
	c->events = want;
}

static bool
cl_handshaking(const struct client *c)
{
	return (c->state == CL_CONNECTING || c->state == CL_HANDSHAKE ||
	    c->state == CL_TICKET);
}

/*
 * Close c's socket (which drops the epoll registration too) and session;
 * notify sends close_notify first.
 */
static void
cl_release(struct tl_proc *x, struct client *c, bool notify,
    enum cl_state next)
{
	tlsclient_close(&c->tc, notify);
	if (cl_handshaking(c))
		x->inflight--;
	if (c->state == CL_OPEN && c->v1 && !c->v1_on)
		x->negotiating--;
	c->v1_on = false;
	tl_v1_free(&c->tmpl);
	c->events = c->rd_want = c->wr_want = 0;
	c->tx_len = c->tx_off = c->rx_len = c->rx_scan = 0;
	c->state = next;
}

/* The handshake failed, or the server closed the session. */
static void
cl_lost(struct tl_proc *x, struct client *c, const char *why)
{
	if (cl_handshaking(c)) {
		if (x->o->mode != MODE_HANDSHAKE || x->go)
			x->st.failed++;
		cl_error(x, "handshake: %s", why);
	} else if (c->state == CL_OPEN) {
		x->st.closed_early++;
		cl_error(x, "session closed by the server: %s", why);
	}
	cl_release(x, c, false, x->o->mode == MODE_HANDSHAKE ? CL_IDLE :
	    CL_CLOSED);
}

static void
cl_start(struct tl_proc *x, struct client *c, int64_t now)
{
	static const struct tlsclient_sock so = { .nodelay = 1 };
	struct epoll_event	 ev;
	const struct cert_pair	*cp;
	const char		*what;
	int			 rc;

	rc = tlsclient_connect(&c->tc, x->ai[c->gidx % x->o->nnodes], &so,
	    &what);
	if (c->tc.fd == -1)
		tl_fail("socket: %s (raise the descriptor limit?)",
		    strerror(errno));
	c->state = CL_CONNECTING;
	c->t_start = now;
	c->deadline = now + TL_HS_TIMEOUT_US;
	x->inflight++;
	if (rc == -1) {
		cl_lost(x, c, strerror(errno));
		return;
	}
	if (tlsclient_tls(&c->tc, tl_ctx, NULL) == -1)
		tl_fail("cannot make a TLS session");
	if (x->o->cert_dir != NULL) {
		cp = &tl_certs[c->gidx % tl_ncerts];
		if (SSL_use_certificate(c->tc.ssl, cp->x509) != 1 ||
		    SSL_use_PrivateKey(c->tc.ssl, cp->pkey) != 1)
			tl_fail("cannot use client certificate %u",
			    c->gidx % tl_ncerts);
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = c->events = c->rd_want = EPOLLOUT;	/* connected */
	ev.data.ptr = c;
	if (epoll_ctl(x->epfd, EPOLL_CTL_ADD, c->tc.fd, &ev) == -1)
		tl_fail("epoll_ctl: %s", strerror(errno));
}

static void
cl_tls_info(struct tl_proc *x, SSL *ssl)
{
	const char	*g;
	int		 nid;

	if (x->st.version[0] != '\0')
		return;
	snprintf(x->st.version, sizeof(x->st.version), "%s",
	    SSL_get_version(ssl));
	snprintf(x->st.cipher, sizeof(x->st.cipher), "%s",
	    SSL_get_cipher_name(ssl));
	nid = SSL_get_negotiated_group(ssl);
	g = nid != 0 ? SSL_group_to_name(ssl, nid) : NULL;
	snprintf(x->st.group, sizeof(x->st.group), "%s", g ? g : "");
}

/* The server accepted the session (its ticket or data came). */
static void
cl_accepted(struct tl_proc *x, struct client *c, int64_t now)
{
	x->inflight--;
	c->state = CL_OPEN;
	if (x->o->mode == MODE_HANDSHAKE) {
		if (!x->go)
			x->warming--;
		else {
			x->st.handshakes++;
			if (SSL_session_reused(c->tc.ssl))
				x->st.resumed++;
			hist_add(&x->st.hs, (uint64_t)(now - c->t_start));
		}
		cl_release(x, c, true, CL_IDLE);
		return;
	}
	/* A v1 client is up once it switched (cl_negotiate()). */
	if (c->v1)
		x->negotiating++;
	else
		x->st.established++;
	hist_add(&x->st.hs, (uint64_t)(now - c->t_start));
	/*
	 * --register: one SA, so that takd binds the session's uid and
	 * callsign and the registry (clientEndPoints) lists it.
	 */
	if (x->o->mode == MODE_HOLD && x->o->register_sa) {
		tl_send_sa(x, c);
		return;
	}
	if (x->o->mode == MODE_FANOUT && c->rx == NULL &&
	    (c->rx = malloc(TL_RX_CAP)) == NULL)
		tl_fail("out of memory");
	if (x->o->mode == MODE_FANOUT && c->last_seq == NULL &&
	    x->o->clients <= TL_DUP_MAX_CLIENTS &&
	    (c->last_seq = calloc(x->o->clients, sizeof(uint32_t))) == NULL)
		tl_fail("out of memory");
}

/* Digits up to a quote, from p (at most to end); 0 when malformed. */
static int
cl_num(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t	*p = *pp;
	uint64_t	 n = 0;

	if (p >= end || !isdigit(*p))
		return (-1);
	while (p < end && isdigit(*p))
		n = n * 10 + (uint64_t)(*p++ - '0');
	if (p >= end || *p != '"')
		return (-1);
	*v = n;
	*pp = p + 1;
	return (0);
}

static int
cl_attr(const uint8_t **pp, const uint8_t *end, const char *name,
    uint64_t *v)
{
	size_t	 n = strlen(name);

	if ((size_t)(end - *pp) < n || memcmp(*pp, name, n) != 0)
		return (-1);
	*pp += n;
	return (cl_num(pp, end, v));
}

static void	 cl_flush(struct tl_proc *, struct client *);

/*
 * A v1 client's XML before the switch: the offer is answered with the
 * request; the answer "true" switches it (v1 from the next byte on).
 */
static void
cl_negotiate(struct tl_proc *x, struct client *c, const uint8_t *ev,
    size_t len)
{
	size_t	 n = strlen(tl_v1_request);

	if (memmem(ev, len, "\"t-x-takp-v\"", 12) != NULL) {
		if (TL_TX_CAP - c->tx_len < n)
			tl_fail("no room for the TAK protocol request");
		memcpy(c->tx + c->tx_len, tl_v1_request, n);
		c->tx_len += n;
		cl_flush(x, c);
	} else if (memmem(ev, len, "\"t-x-takp-r\"", 12) != NULL) {
		if (memmem(ev, len, "status=\"true\"", 13) == NULL)
			tl_fail("takd refused TAK protocol v1");
		c->v1_on = true;
		x->negotiating--;
		x->st.established++;
		x->st.v1++;
	}
}

/* One event received: ours (a delivery), an old one of ours, or other. */
static void
cl_event(struct tl_proc *x, struct client *c, const uint8_t *ev,
    size_t len, int64_t now)
{
	const uint8_t	*p, *end = ev + len;
	/*
	 * The marker is last in <detail>, but a v1 sender's event converted
	 * to XML has the typed elements after it, and a v1 frame has them
	 * after xmlDetail: look at the whole event.
	 */
	size_t		 tail = len < 1024 ? len : 1024;
	uint64_t	 s, q, t;

	if (c->v1 && !c->v1_on) {
		cl_negotiate(x, c, ev, len);
		x->st.other++;
		return;
	}
	p = memmem(end - tail, tail, TL_MARK, sizeof(TL_MARK) - 1);
	if (p == NULL) {
		x->st.other++;	/* a pong, a disconnect notice */
		return;
	}
	p += sizeof(TL_MARK) - 1;
	if (cl_num(&p, end, &s) == -1 || cl_attr(&p, end, " q=\"", &q) ==
	    -1 || cl_attr(&p, end, " t=\"", &t) == -1) {
		x->st.other++;
		cl_error(x, "malformed <takload> marker received");
		return;
	}
	if (!x->go || (int64_t)t < x->t_go) {
		x->st.replayed++;
		return;
	}
	x->st.delivered++;
	x->st.delivered_node[c->gidx % x->o->nnodes]++;
	x->st.last_rx_us = now;
	hist_add(&x->st.lat, now > (int64_t)t ? (uint64_t)(now - (int64_t)t) :
	    0);
	/* By class: a chat line (--chat) says so in its type, near the start. */
	if (x->o->chat_pct > 0 && memmem(ev, len < 256 ? len : 256,
	    "type=\"b-t-f\"", 12) != NULL) {
		x->st.delivered_chat++;
		hist_add(&x->st.lat_chat, now > (int64_t)t ?
		    (uint64_t)(now - (int64_t)t) : 0);
	} else
		hist_add(&x->st.lat_sa, now > (int64_t)t ?
		    (uint64_t)(now - (int64_t)t) : 0);
	/* Several nodes: what crossed from the sender's node to ours. */
	if (x->o->nnodes > 1 && s % x->o->nnodes != c->gidx % x->o->nnodes) {
		x->st.delivered_x++;
		hist_add(&x->st.lat_x, now > (int64_t)t ?
		    (uint64_t)(now - (int64_t)t) : 0);
	}
	if (s == c->gidx) {
		x->st.dup++;
		cl_error(x, "client %u got its own event back", c->gidx);
	} else if (x->o->teams > 0 && s < x->o->clients &&
	    tl_team(x->o, c->gidx) != x->o->teams &&
	    tl_team(x->o, (unsigned)s) != x->o->teams &&
	    tl_team(x->o, (unsigned)s) != tl_team(x->o, c->gidx)) {
		x->st.foreign++;
		cl_error(x, "client %u (team %u) got an event of client %"
		    PRIu64 " (team %u)", c->gidx, tl_team(x->o, c->gidx) + 1,
		    s, tl_team(x->o, (unsigned)s) + 1);
	} else if (c->last_seq != NULL && s < x->o->clients) {
		if (q <= c->last_seq[s])
			x->st.dup++;
		else
			c->last_seq[s] = (uint32_t)q;
	}
}

/*
 * Cut what c's buffer holds into events: at each "</event>" in XML, by
 * their headers once on v1 (which may start in the middle of a read).
 */
static void
cl_events(struct tl_proc *x, struct client *c, int64_t now)
{
	const uint8_t	*e;
	size_t		 pos = 0, scan = c->rx_scan, n, hlen, plen;
	int		 r;

	for (;;) {
		if (c->v1_on) {
			r = tl_v1_cut(c->rx + pos, c->rx_len - pos, &hlen,
			    &plen);
			if (r == 0)
				break;
			if (r == -1) {
				cl_error(x, "a byte other than 0xBF where a "
				    "v1 frame starts");
				pos = c->rx_len;
				break;
			}
			cl_event(x, c, c->rx + pos + hlen, plen, now);
			pos += hlen + plen;
			continue;
		}
		if ((e = memmem(c->rx + scan, c->rx_len - scan, TL_END_TAG,
		    sizeof(TL_END_TAG) - 1)) == NULL)
			break;
		n = (size_t)(e - c->rx) + sizeof(TL_END_TAG) - 1;
		cl_event(x, c, c->rx + pos, n - pos, now);
		pos = scan = n;
	}
	if (pos > 0) {
		memmove(c->rx, c->rx + pos, c->rx_len - pos);
		c->rx_len -= pos;
	}
	c->rx_scan = !c->v1_on && c->rx_len >= sizeof(TL_END_TAG) - 1 ?
	    c->rx_len - (sizeof(TL_END_TAG) - 2) : 0;
}

/*
 * n bytes read into buf: c's buffer, or the scratch buffer while c has
 * none.  A fan-out client keeps its buffer; the others (whose only input is
 * the replay of a reused state dir) get one while an event is partial.
 */
static void
cl_take(struct tl_proc *x, struct client *c, const uint8_t *buf, size_t n,
    int64_t now)
{
	if (c->state != CL_OPEN)
		return;
	if (c->rx == NULL && (c->rx = malloc(TL_RX_CAP)) == NULL)
		tl_fail("out of memory");
	/*
	 * Read into the scratch buffer: c had none yet, or got one when this
	 * read made it accepted (takd's first words, its TAK protocol offer,
	 * come with the ticket).
	 */
	if (buf != c->rx + c->rx_len)
		memcpy(c->rx + c->rx_len, buf, n);
	c->rx_len += n;
	cl_events(x, c, now);
	if (x->o->mode != MODE_FANOUT && c->rx_len == 0) {
		free(c->rx);
		c->rx = NULL;
	}
}

/* The epoll interest of an I/O call that would block. */
static uint32_t
cl_want(enum tlsclient_io io)
{
	return (io == TLSCLIENT_WANT_WRITE ? EPOLLOUT : EPOLLIN);
}

static void
cl_read(struct tl_proc *x, struct client *c, int64_t now)
{
	enum tlsclient_io	 io;
	char			 why[160];
	uint8_t			*buf;
	size_t			 len, n;

	for (;;) {
		if (c->rx != NULL) {
			if (c->rx_len == TL_RX_CAP) {
				cl_error(x, "an event of more than %d bytes",
				    TL_RX_CAP);
				c->rx_len = c->rx_scan = 0;
			}
			buf = c->rx + c->rx_len;
			len = TL_RX_CAP - c->rx_len;
		} else {
			buf = x->scratch;
			len = sizeof(x->scratch);
		}
		io = tlsclient_read(&c->tc, buf, len, &n, why, sizeof(why));
		if (c->state == CL_TICKET && (c->tc.ticket ||
		    io == TLSCLIENT_OK)) {
			cl_accepted(x, c, now);
			if (c->state != CL_OPEN)
				return;	/* handshake mode: closed */
		}
		if (io == TLSCLIENT_OK) {
			x->st.bytes_rx += n;
			cl_take(x, c, buf, n, now);
			continue;
		}
		if (io == TLSCLIENT_CLOSED) {
			cl_lost(x, c, why);
			return;
		}
		c->rd_want = cl_want(io);
		break;
	}
	cl_interest(x, c);
}

static void
cl_flush(struct tl_proc *x, struct client *c)
{
	enum tlsclient_io	 io;
	char			 why[160];
	size_t			 n;

	while (c->tx_off < c->tx_len) {
		io = tlsclient_write(&c->tc, c->tx + c->tx_off,
		    c->tx_len - c->tx_off, &n, why, sizeof(why));
		if (io == TLSCLIENT_OK) {
			c->tx_off += n;
			continue;
		}
		if (io == TLSCLIENT_CLOSED) {
			cl_lost(x, c, why);
			return;
		}
		c->wr_want = cl_want(io);
		cl_interest(x, c);
		return;
	}
	c->tx_off = c->tx_len = 0;
	c->wr_want = 0;
	cl_interest(x, c);
}

static void
cl_handshake(struct tl_proc *x, struct client *c, int64_t now)
{
	enum tlsclient_io	 io;
	char			 why[160];

	io = tlsclient_handshake(&c->tc, why, sizeof(why));
	if (io == TLSCLIENT_OK) {
		cl_tls_info(x, c->tc.ssl);
		c->state = CL_TICKET;
		c->deadline = now + TL_TICKET_WAIT_US;
		/* In TLS 1.2 the server has finished before we do. */
		if (SSL_version(c->tc.ssl) < TLS1_3_VERSION) {
			cl_accepted(x, c, now);
			if (c->state != CL_OPEN)
				return;
		}
		cl_read(x, c, now);	/* the ticket may be here already */
		return;
	}
	if (io == TLSCLIENT_CLOSED) {
		cl_lost(x, c, why);
		return;
	}
	c->rd_want = cl_want(io);
	cl_interest(x, c);
}

/*
 * c's socket is ready for something: its state says which call to try (one
 * that still cannot go on just says what to wait for again).
 */
static void
cl_handle(struct tl_proc *x, struct client *c, int64_t now)
{
	if (c->magic != TL_CLIENT_MAGIC || c->tc.fd == -1)
		return;
	switch (c->state) {
	case CL_CONNECTING:
		if (tlsclient_connected(&c->tc) == -1) {
			cl_lost(x, c, strerror(errno));
			return;
		}
		c->state = CL_HANDSHAKE;
		/* FALLTHROUGH */
	case CL_HANDSHAKE:
		cl_handshake(x, c, now);
		return;
	case CL_TICKET:
	case CL_OPEN:
		if (c->tx_len > c->tx_off)
			cl_flush(x, c);
		if (c->state == CL_OPEN || c->state == CL_TICKET)
			cl_read(x, c, now);
		return;
	default:
		return;
	}
}

/* --- sending ------------------------------------------------------------- */

/* Where client c is, for its send number seq. */
static double
tl_lat(const struct client *c)
{
	return (38.8 + c->gidx * 1e-4);
}

static double
tl_lon(const struct client *c, uint32_t seq)
{
	return (-77.0 + (seq % 1000) * 1e-5);
}

/*
 * An ATAK-like SA (the shape of tests/data/cot/sa-atak.xml, 690-700
 * bytes) with the client's own uid and callsign, so that takd binds an
 * identity per session, and the <takload> marker last in <detail>; with
 * width, the marker's numbers zero-padded (a v1 template).
 */
static size_t
tl_format_sa(struct tl_proc *x, struct client *c, char *buf, size_t len,
    int64_t ms, uint64_t t_us, int width)
{
	char		 now_s[96], stale_s[96];
	int		 n;

	tl_iso(now_s, sizeof(now_s), ms);
	tl_iso(stale_s, sizeof(stale_s), ms + 5 * 60 * 1000);
	n = snprintf(buf, len,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	    "<event version=\"2.0\" uid=\"%s-%05u\" type=\"a-f-G-U-C\" "
	    "how=\"m-g\" time=\"%s\" start=\"%s\" stale=\"%s\">"
	    "<point lat=\"%.6f\" lon=\"%.6f\" hae=\"21.4\" ce=\"9.9\" "
	    "le=\"9999999.0\"/><detail><takv os=\"34\" version=\"5.2.0.12 "
	    "(takload)\" device=\"TAKLOAD\" platform=\"ATAK-CIV\"/>"
	    "<contact callsign=\"LOAD-%05u\" endpoint=\"*:-1:stcp\"/>"
	    "<uid Droid=\"LOAD-%05u\"/><precisionlocation altsrc=\"GPS\" "
	    "geopointsrc=\"GPS\"/><__group name=\"Cyan\" role=\"Team "
	    "Member\"/><status battery=\"78\"/><track course=\"80.2\" "
	    "speed=\"1.4\"/><takload s=\"%0*u\" q=\"%0*u\" t=\"%0*" PRIu64
	    "\"/></detail></event>",
	    x->o->uid_prefix, c->gidx, now_s, now_s, stale_s,
	    tl_lat(c), tl_lon(c, c->seq), c->gidx, c->gidx,
	    width ? 7 : 0, c->gidx, width ? 10 : 0, c->seq + 1,
	    width ? 20 : 0, t_us);
	if (n < 0 || (size_t)n >= len)
		tl_fail("SA event does not fit in %zu bytes", len);
	return ((size_t)n);
}

/*
 * --chat: a GeoChat-like line to everybody (no <contact>: no identity, so
 * its uid is free), with the same <takload> marker as an SA.
 */
static size_t
tl_format_chat(struct tl_proc *x, struct client *c, char *buf, size_t len,
    int64_t ms, uint64_t t_us)
{
	char		 now_s[96], stale_s[96];
	int		 n;

	tl_iso(now_s, sizeof(now_s), ms);
	tl_iso(stale_s, sizeof(stale_s), ms + 5 * 60 * 1000);
	n = snprintf(buf, len,
	    "<event version=\"2.0\" uid=\"GeoChat.%s-%05u.All Chat Rooms.%u\" "
	    "type=\"b-t-f\" how=\"h-g-i-g-o\" time=\"%s\" start=\"%s\" "
	    "stale=\"%s\"><point lat=\"%.6f\" lon=\"%.6f\" hae=\"0\" "
	    "ce=\"9\" le=\"9\"/><detail><__chat chatroom=\"All Chat Rooms\" "
	    "senderCallsign=\"LOAD-%05u\"/><remarks>chat %u</remarks>"
	    "<takload s=\"%u\" q=\"%u\" t=\"%" PRIu64 "\"/></detail></event>",
	    x->o->uid_prefix, c->gidx, c->seq, now_s, now_s, stale_s,
	    tl_lat(c), tl_lon(c, c->seq), c->gidx, c->seq, c->gidx,
	    c->seq + 1, t_us);
	if (n < 0 || (size_t)n >= len)
		tl_fail("chat event does not fit in %zu bytes", len);
	return ((size_t)n);
}

/* Whether send seq of client gidx is a chat line: pct of them, spread. */
static bool
tl_is_chat(const struct opts *o, unsigned gidx, unsigned seq)
{
	return (o->chat_pct > 0 && (seq * 37u + gidx * 11u) % 100u <
	    o->chat_pct);
}

static void
tl_send_sa(struct tl_proc *x, struct client *c)
{
	if (c->state != CL_OPEN)
		return;
	char	 xml[TL_EVENT_MAX], err[256];
	int64_t	 ms;
	size_t	 n;

	if (TL_TX_CAP - c->tx_len < TL_EVENT_MAX) {
		x->st.send_skipped++;	/* takd is not reading us */
		return;
	}
	ms = tl_wall_ms();
	if (!c->v1_on && tl_is_chat(x->o, c->gidx, c->seq))
		c->tx_len += tl_format_chat(x, c, c->tx + c->tx_len,
		    TL_EVENT_MAX, ms, (uint64_t)mono_us());
	else if (!c->v1_on)
		c->tx_len += tl_format_sa(x, c, c->tx + c->tx_len,
		    TL_EVENT_MAX, ms, (uint64_t)mono_us(), 0);
	else {
		/* Encoded once (its first send), patched from then on. */
		if (c->tmpl.frame == NULL) {
			n = tl_format_sa(x, c, xml, sizeof(xml), ms, 0, 1);
			if (tl_v1_template(&c->tmpl, xml, n, err,
			    sizeof(err)) == -1)
				tl_fail("v1 SA: %s", err);
		}
		c->tx_len += tl_v1_fill(&c->tmpl, (uint8_t *)c->tx +
		    c->tx_len, TL_EVENT_MAX, ms, ms + 5 * 60 * 1000,
		    tl_lat(c), tl_lon(c, c->seq), c->gidx, c->seq + 1,
		    mono_us());
	}
	c->seq++;
	x->st.sent++;
	if (x->o->teams > 0) {
		x->st.expected += tl_reach(x->o, c->gidx);
		x->st.excluded += x->o->clients - 1 - tl_reach(x->o, c->gidx);
	}
	cl_flush(x, c);
}

/* --- one generator process ----------------------------------------------- */

#define PUB(f)	__atomic_store_n(&x->rep->f, x->st.f, __ATOMIC_RELAXED)

static void
tl_publish(struct tl_proc *x)
{
	unsigned	 k;

	PUB(established);
	PUB(failed);
	PUB(closed_early);
	PUB(handshakes);
	PUB(resumed);
	PUB(no_ticket);
	PUB(sent);
	PUB(send_skipped);
	PUB(delivered);
	PUB(delivered_x);
	PUB(delivered_chat);
	for (k = 0; k < TL_MAX_NODES; k++)
		__atomic_store_n(&x->rep->delivered_node[k],
		    x->st.delivered_node[k], __ATOMIC_RELAXED);
	PUB(replayed);
	PUB(other);
	PUB(dup);
	PUB(v1);
	PUB(foreign);
	PUB(expected);
	PUB(excluded);
	PUB(bytes_rx);
	PUB(last_rx_us);
	PUB(done_us);
}

#undef PUB

/* Handshakes or tickets that take too long, looked at every 100 ms. */
static void
tl_expire(struct tl_proc *x, int64_t now)
{
	struct client	*c;
	unsigned	 i;

	for (i = 0; i < x->n; i++) {
		c = &x->cl[i];
		if (!cl_handshaking(c) || now < c->deadline)
			continue;
		if (c->state == CL_TICKET) {
			/* Silent but not refused: count it and go on. */
			x->st.no_ticket++;
			cl_accepted(x, c, now);
			continue;
		}
		cl_lost(x, c, "timed out");
	}
}

/* The send time of client slot i in round r (fanout). */
static int64_t
tl_send_due(const struct tl_proc *x, unsigned r, unsigned i)
{
	double	 period = 1e6 / x->o->sa_rate;

	return (x->t_go + (int64_t)(period * r +
	    period * x->cl[i].gidx / x->o->clients));
}

/*
 * What is due now (connects, sends, the end of the run); returns the µs
 * until the next thing, at most TL_TICK_US.
 */
static int64_t
tl_schedule(struct tl_proc *x, int64_t now)
{
	const struct opts	*o = x->o;
	int64_t			 next = now + TL_TICK_US, due;
	double			 every;
	unsigned		 i;

	if (o->mode == MODE_HANDSHAKE) {
		if (!x->go || now < x->t_go) {
			/* --resume: first a full handshake each. */
			for (i = 0; o->resume && i < x->n; i++)
				if (x->cl[i].state == CL_IDLE &&
				    x->cl[i].tc.sess == NULL)
					tl_fail("warm-up handshake failed: %s",
					    x->st.first_error);
			return (x->go ? x->t_go : next);
		}
		if (now < x->t_end) {
			for (i = 0; i < x->n; i++)
				if (x->cl[i].state == CL_IDLE)
					cl_start(x, &x->cl[i], now);
			return (next < x->t_end ? next : x->t_end);
		}
		if (x->inflight == 0 && x->st.done_us == 0) {
			x->st.done_us = now;
			x->rep->cpu_end = self_cpu_s();
			__atomic_store_n(&x->rep->done, 1, __ATOMIC_RELEASE);
		}
		return (next);
	}
	/* hold, fanout: the ramp */
	every = o->rate > 0 ? 1e6 * o->procs / o->rate : 0;
	while (x->next_start < x->n && x->inflight < TL_MAX_INFLIGHT) {
		due = x->t_ramp + (int64_t)(every * x->next_start);
		if (due > now) {
			if (due < next)
				next = due;
			break;
		}
		cl_start(x, &x->cl[x->next_start++], now);
	}
	if (!x->go)
		return (next);
	if (now < x->t_go)
		return (x->t_go < next ? x->t_go : next);
	if (o->mode == MODE_HOLD) {
		if (now >= x->t_end && x->st.done_us == 0) {
			x->st.done_us = now;
			__atomic_store_n(&x->rep->done, 1, __ATOMIC_RELEASE);
		}
		return (x->t_end > now && x->t_end < next ? x->t_end : next);
	}
	while (!x->sends_done) {
		due = tl_send_due(x, x->send_round, x->send_idx);
		if (due > now) {
			if (due < next)
				next = due;
			break;
		}
		tl_send_sa(x, &x->cl[x->send_idx]);
		if (++x->send_idx == x->n) {
			x->send_idx = 0;
			if (++x->send_round == x->o->rounds) {
				x->sends_done = true;
				x->st.done_us = now;
				__atomic_store_n(&x->rep->done, 1,
				    __ATOMIC_RELEASE);
			}
		}
	}
	return (next);
}

static void
tl_proc_ready(struct tl_proc *x)
{
	if (__atomic_load_n(&x->rep->ready, __ATOMIC_RELAXED))
		return;
	if (x->o->mode == MODE_HANDSHAKE ? x->warming == 0 :
	    x->next_start == x->n && x->inflight == 0 &&
	    x->negotiating == 0)
		__atomic_store_n(&x->rep->ready, 1, __ATOMIC_RELEASE);
}

void
tl_proc_main(const struct opts *o, struct tl_shm *shm, unsigned id,
    struct addrinfo **ai)
{
	struct tl_proc		*x;
	struct epoll_event	 evs[512];
	struct client		*c;
	int64_t			 now, next, last_expire = 0;
	unsigned		 i, total;
	int			 n, k, timeout;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		tl_fail("out of memory");
	x->o = o;
	x->rep = &shm->r[id];
	x->ai = ai;
	if ((x->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		tl_fail("epoll_create1: %s", strerror(errno));
	/* Clients id, id + procs, ...: every process spans the period. */
	total = o->mode == MODE_HANDSHAKE ? o->concurrency : o->clients;
	x->n = total / o->procs + (id < total % o->procs ? 1 : 0);
	if (x->n == 0)
		x->n = 1;
	if ((x->cl = calloc(x->n, sizeof(*x->cl))) == NULL)
		tl_fail("out of memory for %u clients", x->n);
	for (i = 0; i < x->n; i++) {
		x->cl[i].magic = TL_CLIENT_MAGIC;
		/* --resume: the next connection offers this one's ticket. */
		tlsclient_init(&x->cl[i].tc, o->resume);
		x->cl[i].gidx = id + i * o->procs;
		/* --v1 PCT: spread evenly (50: every other client). */
		x->cl[i].v1 = o->mode == MODE_FANOUT &&
		    (x->cl[i].gidx * o->v1_pct) % 100 < o->v1_pct;
	}
	x->t_ramp = mono_us();
	if (o->mode == MODE_HANDSHAKE && o->resume) {
		x->warming = x->n;
		for (i = 0; i < x->n; i++)
			cl_start(x, &x->cl[i], x->t_ramp);
	}
	for (;;) {
		now = mono_us();
		if (!x->go && __atomic_load_n(&shm->go, __ATOMIC_ACQUIRE)) {
			x->go = true;
			x->t_go = shm->t_go_us;
			x->t_end = x->t_go + (int64_t)(o->duration * 1e6);
		}
		if (x->go && x->rep->cpu_go == 0 && now >= x->t_go)
			x->rep->cpu_go = self_cpu_s();
		if (__atomic_load_n(&shm->stop, __ATOMIC_ACQUIRE))
			break;
		next = tl_schedule(x, now);
		if (now - last_expire >= 100000) {
			tl_expire(x, now);
			last_expire = now;
		}
		tl_proc_ready(x);
		tl_publish(x);
		now = mono_us();
		timeout = next <= now ? 0 : (int)((next - now + 999) / 1000);
		if ((n = epoll_wait(x->epfd, evs, 512, timeout)) == -1) {
			if (errno == EINTR)
				continue;
			tl_fail("epoll_wait: %s", strerror(errno));
		}
		if (n > 0)
			now = mono_us();
		for (k = 0; k < n; k++) {
			c = evs[k].data.ptr;
			cl_handle(x, c, now);
		}
	}
	if (x->rep->cpu_end == 0)
		x->rep->cpu_end = self_cpu_s();
	for (i = 0; i < x->n; i++) {
		cl_release(x, &x->cl[i], true, CL_CLOSED);
		tlsclient_free(&x->cl[i].tc);
	}
	tl_publish(x);
	x->rep->lat = x->st.lat;
	x->rep->lat_x = x->st.lat_x;
	x->rep->lat_sa = x->st.lat_sa;
	x->rep->lat_chat = x->st.lat_chat;
	x->rep->hs = x->st.hs;
	memcpy(x->rep->first_error, x->st.first_error,
	    sizeof(x->rep->first_error));
	memcpy(x->rep->version, x->st.version, sizeof(x->rep->version));
	memcpy(x->rep->cipher, x->st.cipher, sizeof(x->rep->cipher));
	memcpy(x->rep->group, x->st.group, sizeof(x->rep->group));
	__atomic_store_n(&x->rep->exited, 1, __ATOMIC_RELEASE);
	_exit(0);
}
