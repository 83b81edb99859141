/*
 * The HTTP listener of the Prometheus exposition (metrics_text.c): see
 * metrics.h for what it answers and its limits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "supervisor/admin.h"
#include "supervisor/crl.h"
#include "supervisor/listen.h"
#include "supervisor/metrics.h"

#define METRICS_MAGIC		0x4d545243u	/* "MTRC" */
#define METRICS_ACC_MAGIC	0x4d414343u	/* "MACC" */
#define METRICS_CLIENT_MAGIC	0x4d434c54u	/* "MCLT" */
#define METRICS_DEAD_MAGIC	0x4d444541u	/* "MDEA": closed */

#define METRICS_DRAIN_MAX	(64 * 1024)	/* input read before close */
#define METRICS_ACCEPT_BATCH	64		/* accepts per wakeup */
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* --- the HTTP listener --------------------------------------------- */

struct metrics_acceptor {
	unsigned	 magic;
	int		 fd;
	struct sup_ev	 ev;
	struct listen_pause pause;	/* out of descriptors */
};

enum metrics_state {
	MC_READ,		/* the request head is coming */
	MC_WAIT,		/* waiting for the workers' counters */
	MC_WRITE		/* the reply is going out */
};

struct metrics_client {
	unsigned	 magic;
	struct metrics_client *next;
	struct sup_ev	 ev;
	int		 fd;
	bool		 in_epoll;
	enum metrics_state state;
	bool		 head;		/* HEAD: a reply without body */
	char		 addr[INET6_ADDRSTRLEN];	/* source, for limits */
	char		 peer[64];	/* address:port, for the log */
	int64_t		 accepted_ms;
	char		 in[METRICS_REQ_MAX + 1];
	size_t		 inlen;
	struct metrics_buf out;
	size_t		 outoff;
	int64_t		 deadline_ms;
	struct round	*round;
};

struct metrics {
	unsigned	 magic;
	struct listener	 lis[METRICS_MAX_LISTEN];
	struct metrics_acceptor acc[METRICS_MAX_LISTEN];
	size_t		 n_lis;
	struct metrics_client *clients;
	struct metrics_client *dead;	/* freed by metrics_tick() */
	unsigned	 n_clients;
	uint64_t	 idle_closed;	/* to make room for a newcomer */
	bool		 has_token;
	unsigned char	 token_md[EVP_MAX_MD_SIZE];
	unsigned	 token_mdlen;
	struct log_ratelimit rl;	/* what a peer can provoke at will */
};

static void	 metrics_client_close(struct sup *, struct metrics_client *);

/* Bound to loopback: only local users reach it, a token is optional. */
static bool
metrics_loopback(const struct listener *l)
{
	return (strncmp(l->address, "127.", 4) == 0 ||
	    strcmp(l->address, "::1") == 0);
}

int
metrics_open(struct sup *sup, char *err, size_t errlen)
{
	const struct config	*cfg = sup->cfg;
	struct metrics		*m;
	struct epoll_event	 ev;
	size_t			 i;
	int			 n;

	if (!cfg->metrics_on)
		return (0);
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		snprintf(err, errlen, "metrics: out of memory");
		return (-1);
	}
	m->magic = METRICS_MAGIC;
	sup->metrics = m;
	/* Only the digest is compared: no early exit, no length leak. */
	if (cfg->metrics_token[0] != '\0') {
		if (EVP_Digest(cfg->metrics_token, strlen(cfg->metrics_token),
		    m->token_md, &m->token_mdlen, EVP_sha256(), NULL) != 1) {
			snprintf(err, errlen, "metrics: cannot hash the token");
			return (-1);
		}
		m->has_token = true;
	}
	n = listen_bind("metrics", &cfg->metrics_listen, m->lis,
	    METRICS_MAX_LISTEN, err, errlen);
	if (n == -1)
		return (-1);
	m->n_lis = (size_t)n;
	for (i = 0; i < m->n_lis; i++) {
		m->acc[i].magic = METRICS_ACC_MAGIC;
		m->acc[i].fd = m->lis[i].fd;
		m->acc[i].ev.kind = SUP_EV_METRICS;
		m->acc[i].ev.ptr = &m->acc[i];
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = &m->acc[i].ev;
		if (epoll_ctl(sup->epfd, EPOLL_CTL_ADD, m->acc[i].fd,
		    &ev) == -1) {
			snprintf(err, errlen, "metrics: epoll_ctl: %s",
			    strerror(errno));
			return (-1);
		}
		if (!m->has_token && !metrics_loopback(&m->lis[i]))
			log_warnx("metrics on %s:%u without [metrics] token: "
			    "whoever reaches it reads the counters",
			    m->lis[i].address, m->lis[i].port);
	}
	return (0);
}

static void
metrics_client_free(struct metrics_client *c)
{
	metrics_buf_free(&c->out);
	c->magic = 0;
	free(c);
}

void
metrics_close(struct sup *sup)
{
	struct metrics	*m = sup->metrics;
	size_t		 i;

	if (m == NULL)
		return;
	while (m->clients != NULL)
		metrics_client_close(sup, m->clients);
	(void)metrics_tick(sup, 0);	/* frees the closed */
	for (i = 0; i < m->n_lis; i++)
		close(m->lis[i].fd);
	OPENSSL_cleanse(m->token_md, sizeof(m->token_md));
	m->magic = 0;
	free(m);
	sup->metrics = NULL;
}

const struct listener *
metrics_listener(const struct sup *sup, size_t i)
{
	if (sup->metrics == NULL || i >= sup->metrics->n_lis)
		return (NULL);
	return (&sup->metrics->lis[i]);
}

/* Unread input would turn the close into a reset that loses the reply. */
static void
metrics_drain_close(int fd)
{
	char	 drain[4096];
	size_t	 left = METRICS_DRAIN_MAX;
	ssize_t	 n;

	shutdown(fd, SHUT_WR);
	while (left > 0 && (n = recv(fd, drain, sizeof(drain),
	    MSG_DONTWAIT)) > 0)
		left -= (size_t)n < left ? (size_t)n : left;
	close(fd);
}

/*
 * Off every list but the dead one: a later event of the same epoll batch
 * may still point at it, so it is freed between batches.
 */
static void
metrics_client_close(struct sup *sup, struct metrics_client *c)
{
	struct metrics		 *m = sup->metrics;
	struct metrics_client	**pp;

	for (pp = &m->clients; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	m->n_clients--;
	round_cancel(sup, c->round);
	c->round = NULL;
	if (c->in_epoll)
		epoll_ctl(sup->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	metrics_drain_close(c->fd);
	c->fd = -1;
	c->magic = METRICS_DEAD_MAGIC;
	c->next = m->dead;
	m->dead = c;
}

static int
metrics_client_watch(struct sup *sup, struct metrics_client *c,
    uint32_t events)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = &c->ev;
	if (epoll_ctl(sup->epfd, c->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
	    c->fd, &ev) == -1) {
		log_warn("metrics: epoll_ctl");
		return (-1);
	}
	c->in_epoll = true;
	return (0);
}

/* Send what is left of the reply; close once it is all out. */
static void
metrics_client_write(struct sup *sup, struct metrics_client *c)
{
	ssize_t	 n;

	while (c->outoff < c->out.len) {
		n = send(c->fd, c->out.buf + c->outoff, c->out.len - c->outoff,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (metrics_client_watch(sup, c, EPOLLOUT) == -1)
				break;
			return;
		}
		if (n <= 0)
			break;		/* the scraper went away */
		c->outoff += (size_t)n;
	}
	metrics_client_close(sup, c);
}

static const char *
metrics_status_text(int code)
{
	switch (code) {
	case 200:
		return ("OK");
	case 400:
		return ("Bad Request");
	case 401:
		return ("Unauthorized");
	case 404:
		return ("Not Found");
	case 405:
		return ("Method Not Allowed");
	case 431:
		return ("Request Header Fields Too Large");
	case 500:
		return ("Internal Server Error");
	case 503:
		return ("Service Unavailable");
	}
	return ("Error");
}

/* The whole reply into c->out, then out it goes. */
static void
metrics_reply(struct sup *sup, struct metrics_client *c, int code,
    const char *ctype, const char *body, size_t len)
{
	const char	*extra = "";

	if (code == 401)
		extra = "WWW-Authenticate: Bearer realm=\"takd\"\r\n";
	else if (code == 405)
		extra = "Allow: GET, HEAD\r\n";
	metrics_buf_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n%s"
	    "Connection: close\r\n\r\n", code, metrics_status_text(code),
	    ctype, len, extra);
	if (!c->head)
		metrics_buf_append(&c->out, body, len);
	if (c->out.err) {
		log_warnx("metrics: out of memory for a reply to %s", c->peer);
		metrics_client_close(sup, c);
		return;
	}
	log_debug("metrics: %s: %d, %zu bytes", c->peer, code, len);
	c->state = MC_WRITE;
	c->outoff = 0;
	c->deadline_ms = clock_mono_ms() + METRICS_WRITE_MS;
	metrics_client_write(sup, c);
}

static void
metrics_reply_error(struct sup *sup, struct metrics_client *c, int code)
{
	char	 body[64];
	int	 n;

	n = snprintf(body, sizeof(body), "%d %s\n", code,
	    metrics_status_text(code));
	metrics_reply(sup, c, code, "text/plain; charset=utf-8", body,
	    (size_t)n);
}

static void
metrics_round_done(struct sup *sup, const struct round *r, void *arg)
{
	struct metrics_client	*c = arg;
	struct metrics_buf	 body;

	c->round = NULL;
	memset(&body, 0, sizeof(body));
	metrics_render(sup, r, &body);
	if (body.err)
		metrics_reply_error(sup, c, 500);
	else
		metrics_reply(sup, c, 200, METRICS_CONTENT_TYPE, body.buf,
		    body.len);
	metrics_buf_free(&body);
}

/* "Authorization: Bearer TOKEN" among the header lines, compared blindly. */
static bool
metrics_authorized(const struct metrics *m, char *headers)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned	 mdlen = 0;
	char		*line, *save = NULL, *v;
	bool		 ok = false;

	if (!m->has_token)
		return (true);
	for (line = strtok_r(headers, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		line[strcspn(line, "\r")] = '\0';
		if (strncasecmp(line, "Authorization:", 14) != 0)
			continue;
		for (v = line + 14; *v == ' ' || *v == '\t'; v++)
			;
		if (strncasecmp(v, "Bearer ", 7) != 0)
			break;
		for (v += 7; *v == ' ' || *v == '\t'; v++)
			;
		v[strcspn(v, " \t")] = '\0';
		if (EVP_Digest(v, strlen(v), md, &mdlen, EVP_sha256(),
		    NULL) == 1 && mdlen == m->token_mdlen)
			ok = CRYPTO_memcmp(md, m->token_md, mdlen) == 0;
		OPENSSL_cleanse(md, sizeof(md));
		break;
	}
	return (ok);
}

/* A method: one or more letters. */
static bool
metrics_is_method(const char *s)
{
	if (*s == '\0')
		return (false);
	for (; *s != '\0'; s++)
		if (*s < 'A' || *s > 'Z')
			return (false);
	return (true);
}

/* The request head is complete in c->in: decide and answer. */
static void
metrics_request(struct sup *sup, struct metrics_client *c)
{
	char	*line = c->in, *rest, *method, *target, *version, *sp;

	/* The head ends after the request line when there are no headers. */
	if ((rest = strchr(line, '\n')) != NULL)
		*rest++ = '\0';
	else
		rest = line + strlen(line);
	line[strcspn(line, "\r")] = '\0';
	method = line;
	if ((sp = strchr(method, ' ')) == NULL)
		goto bad;
	*sp = '\0';
	target = sp + 1;
	if ((sp = strchr(target, ' ')) == NULL)
		goto bad;
	*sp = '\0';
	version = sp + 1;
	if (!metrics_is_method(method) || target[0] == '\0' ||
	    (strcmp(version, "HTTP/1.0") != 0 && strcmp(version,
	    "HTTP/1.1") != 0))
		goto bad;
	c->head = strcmp(method, "HEAD") == 0;
	if (strcmp(method, "GET") != 0 && !c->head) {
		metrics_reply_error(sup, c, 405);
		return;
	}
	if (!metrics_authorized(sup->metrics, rest)) {
		log_limited(&sup->metrics->rl, LOG_WARNING, "metrics: %s: "
		    "request without the right bearer token refused", c->peer);
		metrics_reply_error(sup, c, 401);
		return;
	}
	target[strcspn(target, "?")] = '\0';
	if (strcmp(target, "/metrics") != 0) {
		metrics_reply_error(sup, c, 404);
		return;
	}
	/* Fresh counters first; the client waits outside the epoll set. */
	if (c->in_epoll) {
		epoll_ctl(sup->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		c->in_epoll = false;
	}
	c->state = MC_WAIT;
	c->round = admin_stats_start(sup, METRICS_WAIT_MS, metrics_round_done,
	    c);
	if (c->round == NULL)
		metrics_reply_error(sup, c, 500);
	return;
bad:
	metrics_reply_error(sup, c, 400);
}

/*
 * The line break that ends the request head's last line, or NULL while its
 * empty line has not come.  Only the bytes from offset from are new (a slow
 * client sends a few at a time); an empty line ("\n\n" or "\n\r\n") may
 * have begun before them.  true in *bad when a byte no HTTP head has came
 * first (a TLS hello, binary garbage): no need to wait.
 */
static char *
metrics_head_end(struct metrics_client *c, size_t from, bool *bad)
{
	const char	*in = c->in;
	size_t		 i;
	unsigned char	 ch;

	for (i = from; i < c->inlen; i++) {
		ch = (unsigned char)in[i];
		if ((ch < 0x20 && ch != '\r' && ch != '\n' && ch != '\t') ||
		    ch >= 0x7f) {
			*bad = true;
			return (NULL);
		}
		if (ch != '\n' || i == 0)
			continue;
		if (in[i - 1] == '\n')
			return (c->in + i - 1);
		if (in[i - 1] == '\r' && i >= 2 && in[i - 2] == '\n')
			return (c->in + i - 2);
	}
	return (NULL);
}

static void
metrics_client_read(struct sup *sup, struct metrics_client *c)
{
	size_t	 before;
	ssize_t	 n;
	bool	 bad = false;
	char	*end;

	for (;;) {
		if (c->inlen == METRICS_REQ_MAX) {
			metrics_reply_error(sup, c, 431);
			return;
		}
		n = recv(c->fd, c->in + c->inlen, METRICS_REQ_MAX - c->inlen,
		    0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			/* Gone before a whole request: nobody to answer. */
			metrics_client_close(sup, c);
			return;
		}
		before = c->inlen;
		c->inlen += (size_t)n;
		c->in[c->inlen] = '\0';
		end = metrics_head_end(c, before, &bad);
		if (bad) {
			metrics_reply_error(sup, c, 400);
			return;
		}
		if (end != NULL) {
			end[0] = '\0';
			metrics_request(sup, c);
			return;
		}
	}
}

static void
metrics_peer(int fd, char *addr, size_t alen, char *buf, size_t len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	unsigned		 port = 0;

	snprintf(addr, alen, "?");
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		(void)listen_addr_str(&ss, addr, alen, &port);
	snprintf(buf, len, "%s:%u", addr, port);
}

static unsigned
metrics_count(const struct metrics *m, const char *addr)
{
	const struct metrics_client	*c;
	unsigned			 n = 0;

	for (c = m->clients; c != NULL; c = c->next)
		if (strcmp(c->addr, addr) == 0)
			n++;
	return (n);
}

/* The oldest connection still sending its request, from addr (or any). */
static struct metrics_client *
metrics_oldest_idle(const struct metrics *m, const char *addr)
{
	struct metrics_client	*c, *best = NULL;

	for (c = m->clients; c != NULL; c = c->next)
		if (c->state == MC_READ && (addr == NULL ||
		    strcmp(c->addr, addr) == 0) && (best == NULL ||
		    c->accepted_ms <= best->accepted_ms))
			best = c;
	return (best);
}

/*
 * Room for a connection from addr: idle connections give way rather than
 * the newcomer being refused.  The oldest idle one of addr when it holds
 * its share; else, when every slot is taken, the oldest idle one of the
 * address that holds the most.  -1 when every slot is busy with a request.
 */
static int
metrics_make_room(struct sup *sup, const char *addr)
{
	struct metrics		*m = sup->metrics;
	struct metrics_client	*c, *victim = NULL;
	unsigned		 n, most = 0;

	if (metrics_count(m, addr) >= METRICS_PER_PEER_MAX)
		victim = metrics_oldest_idle(m, addr);
	else if (m->n_clients >= METRICS_MAX_CLIENTS) {
		for (c = m->clients; c != NULL; c = c->next) {
			if (c->state != MC_READ)
				continue;
			n = metrics_count(m, c->addr);
			if (n > most) {
				most = n;
				victim = metrics_oldest_idle(m, c->addr);
			}
		}
	} else
		return (0);
	if (victim == NULL)
		return (-1);
	m->idle_closed++;
	log_limited(&m->rl, LOG_WARNING, "metrics: %s: no request after %lld "
	    "ms, closed to make room for %s", victim->peer,
	    (long long)(clock_mono_ms() - victim->accepted_ms), addr);
	metrics_client_close(sup, victim);
	return (0);
}

uint64_t
metrics_idle_closed(const struct sup *sup)
{
	return (sup->metrics != NULL ? sup->metrics->idle_closed : 0);
}

/* Past the connection limit: say so if the socket takes it, and close. */
static void
metrics_refuse(struct metrics *m, int fd)
{
	static const char	 busy[] =
	    "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n";

	(void)send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	metrics_drain_close(fd);
	log_limited(&m->rl, LOG_WARNING, "metrics: %u connections busy with "
	    "a request, one more refused", m->n_clients);
}

/* A bounded number per wakeup: a connection storm must not hold the loop. */
static void
metrics_accept(struct sup *sup, struct metrics_acceptor *a)
{
	struct metrics		*m = sup->metrics;
	struct metrics_client	*c;
	char			 addr[INET6_ADDRSTRLEN], peer[64];
	int			 fd, i;

	for (i = 0; i < METRICS_ACCEPT_BATCH; i++) {
		fd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (listen_accept_error(sup, a->fd, "metrics",
			    &a->pause) == -1)
				return;
			continue;
		}
		metrics_peer(fd, addr, sizeof(addr), peer, sizeof(peer));
		if (metrics_make_room(sup, addr) == -1) {
			metrics_refuse(m, fd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			log_warn("metrics: connection");
			close(fd);
			continue;
		}
		c->magic = METRICS_CLIENT_MAGIC;
		c->fd = fd;
		c->ev.kind = SUP_EV_METRICS;
		c->ev.ptr = c;
		c->state = MC_READ;
		c->accepted_ms = clock_mono_ms();
		/* From the accept, never extended: a trickle cannot hold it. */
		c->deadline_ms = c->accepted_ms + METRICS_READ_MS;
		snprintf(c->addr, sizeof(c->addr), "%s", addr);
		snprintf(c->peer, sizeof(c->peer), "%s", peer);
		c->next = m->clients;
		m->clients = c;
		m->n_clients++;
		if (metrics_client_watch(sup, c, EPOLLIN | EPOLLRDHUP) == -1)
			metrics_client_close(sup, c);
	}
}

void
metrics_event(struct sup *sup, void *ptr, unsigned events)
{
	struct metrics_client	*c = ptr;

	if (sup->metrics == NULL)
		return;
	if (*(unsigned *)ptr == METRICS_ACC_MAGIC) {
		metrics_accept(sup, ptr);
		return;
	}
	if (c->magic != METRICS_CLIENT_MAGIC)
		return;		/* closed earlier in this epoll batch */
	if (c->state == MC_READ)
		metrics_client_read(sup, c);
	else if (c->state == MC_WRITE)
		metrics_client_write(sup, c);
}

int64_t
metrics_tick(struct sup *sup, int64_t now)
{
	struct metrics		*m = sup->metrics;
	struct metrics_client	*c, *next;
	int64_t			 wait = -1, left;
	size_t			 i;

	if (m == NULL)
		return (-1);
	while ((c = m->dead) != NULL) {
		m->dead = c->next;
		metrics_client_free(c);
	}
	for (i = 0; i < m->n_lis; i++) {
		left = listen_pause_tick(sup, m->acc[i].fd, &m->acc[i].ev,
		    &m->acc[i].pause, now);
		if (left >= 0 && (wait == -1 || left < wait))
			wait = left;
	}
	for (c = m->clients; c != NULL; c = next) {
		next = c->next;
		if (c->state == MC_WAIT)
			continue;	/* the round has a deadline */
		if (c->deadline_ms <= now) {
			log_debug("metrics: %s: timed out %s", c->peer,
			    c->state == MC_READ ? "reading the request" :
			    "writing the reply");
			metrics_client_close(sup, c);
			continue;
		}
		if (wait == -1 || c->deadline_ms - now < wait)
			wait = c->deadline_ms - now;
	}
	/* Those just closed are freed on the next turn, right away. */
	if (m->dead != NULL)
		wait = 0;
	return (wait);
}
