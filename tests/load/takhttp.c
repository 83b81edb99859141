/*
 * takhttp: the HTTPS client of `make bench` for takd's api process
 * (docs/api.md; docs/performance.md, "The api process").  Blocking OpenSSL
 * sockets, HTTP/1.1 requests written whole and a minimal reader of the
 * replies (the status line, Content-Length, Connection: close, the body):
 * a load tool talking to takd, not a parser facing a network.  Replies
 * without a Content-Length (chunked, or up to the close) are refused: takd's
 * api (libevent's evhttp_send_reply) always sends one.
 *
 *   takhttp status --connect H:P --ca CA [--cert C --key K] [--method M]
 *                  --path P
 *	one request on a new connection; prints the status code (000 when
 *	the connection or the handshake failed).  The bench's probe.
 *
 *   takhttp get --connect H:P --ca CA --cert C --key K [--path P]
 *               [--requests N] [--expect E --wait S] [--pid NAME=PID]...
 *	GET P (default /Marti/api/clientEndPoints): first, with --expect,
 *	the same request every 200 ms on one connection until the reply
 *	lists E entries or S seconds passed (the registry catching up with
 *	the sessions' SAs); then a cold request (a new TCP connection and a
 *	full TLS handshake, timed with them); then N requests one after the
 *	other on that keep-alive connection.  Entries are the "uid" keys of
 *	the JSON reply.  The CPU each --pid used over the N requests (and
 *	over the cold one) comes from /proc/PID/task/ * /schedstat.
 *
 *   takhttp enroll --connect H:P --ca CA --user NAME:PASSWORD...
 *                  [--requests N] [--o O] [--ou OU] [--pid NAME=PID]...
 *	N certificate enrollments, POST /Marti/api/tls/signClient/v2 with
 *	HTTP Basic, over one keep-alive connection per --user (they run at
 *	once, one process each).  The N CSRs (EC P-256, CN = the user, then
 *	O and OU when given) are made before the measured window.  A 200
 *	counts when its JSON has a signedCert.
 *
 *   takhttp packages --connect H:P --ca CA --cert C --key K --file F
 *                    [--requests N] [--pid NAME=PID]...
 *	N data package uploads streamed from F, then their downloads
 *	(takhttp_pkg.c).
 *
 * Every mode prints one flat JSON line on stdout; errors go to stderr
 * and exit 1.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tests/common/tlsclient.h"
#include "tests/load/takhttp.h"
#include "tests/load/takload.h"

#define TH_STATUS_MAX		600
#define TH_MAX_REQUESTS		1000000
#define TH_HEAD_MAX		(64 * 1024)
#define TH_BODY_MAX		(256 * 1024 * 1024)
#define TH_IO_TIMEOUT_S		60
#define TH_POLL_US		200000	/* --expect: between two requests */
#define TH_PATH_ENDPOINTS	"/Marti/api/clientEndPoints"
#define TH_PATH_ENROLL		"/Marti/api/tls/signClient/v2"

static SSL_CTX		*th_ctx;
static struct addrinfo	*th_ai;

void
th_fail(const char *fmt, ...)
{
	va_list	 ap;

	fputs("takhttp: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* --- one connection ---------------------------------------------------- */

int
th_connect(struct th_conn *c, char *why, size_t len)
{
	struct timeval	 tv = { TH_IO_TIMEOUT_S, 0 };
	int		 one = 1, rc;

	memset(c, 0, sizeof(*c));
	c->fd = socket(th_ai->ai_family, th_ai->ai_socktype | SOCK_CLOEXEC,
	    th_ai->ai_protocol);
	if (c->fd == -1)
		th_fail("socket: %s", strerror(errno));
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, th_ai->ai_addr, th_ai->ai_addrlen) == -1) {
		snprintf(why, len, "connect: %s", strerror(errno));
		goto fail;
	}
	if ((c->ssl = SSL_new(th_ctx)) == NULL || SSL_set_fd(c->ssl,
	    c->fd) != 1)
		th_fail("cannot make a TLS session");
	if ((rc = SSL_connect(c->ssl)) != 1) {
		snprintf(why, len, "TLS handshake: %s", ERR_reason_error_string(
		    ERR_peek_last_error()) ? ERR_reason_error_string(
		    ERR_peek_last_error()) : rc == 0 ? "closed" :
		    strerror(errno));
		ERR_clear_error();
		goto fail;
	}
	return (0);
fail:
	SSL_free(c->ssl);
	close(c->fd);
	c->ssl = NULL;
	c->fd = -1;
	return (-1);
}

void
th_close(struct th_conn *c)
{
	if (c->fd == -1)
		return;
	if (c->ssl != NULL)
		(void)SSL_shutdown(c->ssl);
	SSL_free(c->ssl);
	close(c->fd);
	free(c->rx);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* More bytes into c->rx, at least one; -1 at the end or an error. */
static int
th_fill(struct th_conn *c, size_t max)
{
	size_t	 cap, n;
	char	*nrx;

	if (c->rx_len + 16384 > c->rx_cap) {
		cap = c->rx_cap ? c->rx_cap * 2 : 65536;
		while (cap < c->rx_len + 16384)
			cap *= 2;
		if (cap > max + 16384 + 1)
			cap = max + 16384 + 1;
		if (cap <= c->rx_len + 1)
			return (-1);
		if ((nrx = realloc(c->rx, cap)) == NULL)
			th_fail("out of memory");
		c->rx = nrx;
		c->rx_cap = cap;
	}
	if (SSL_read_ex(c->ssl, c->rx + c->rx_len, c->rx_cap - c->rx_len - 1,
	    &n) != 1) {
		ERR_clear_error();
		return (-1);
	}
	c->rx_len += n;
	c->rx[c->rx_len] = '\0';
	return (0);
}

/*
 * The value of header name in head (lines after the status line), or
 * NULL; its length in *vlen.
 */
static const char *
th_header(const char *head, size_t hlen, const char *name, size_t *vlen)
{
	const char	*p = head, *end = head + hlen, *eol, *v;
	size_t		 nl = strlen(name);

	while (p < end && (eol = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p = eol + 1;
		if ((size_t)(end - p) > nl && strncasecmp(p, name, nl) == 0 &&
		    p[nl] == ':') {
			v = p + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			eol = memchr(v, '\n', (size_t)(end - v));
			*vlen = (size_t)((eol ? eol : end) - v);
			while (*vlen > 0 && (v[*vlen - 1] == '\r' ||
			    v[*vlen - 1] == ' '))
				(*vlen)--;
			return (v);
		}
	}
	return (NULL);
}

int
th_write(struct th_conn *c, const void *buf, size_t len, char *why,
    size_t wlen)
{
	size_t	 n, off = 0;

	while (off < len) {
		if (SSL_write_ex(c->ssl, (const char *)buf + off, len - off,
		    &n) != 1) {
			ERR_clear_error();
			snprintf(why, wlen, "write: the server closed");
			return (-1);
		}
		off += n;
	}
	return (0);
}

int
th_head(struct th_conn *c, struct th_reply *r, size_t *clen, char *why,
    size_t wlen)
{
	const char	*e, *v;
	size_t		 vlen;
	char		 num[32];

	memset(r, 0, sizeof(*r));
	while (c->rx == NULL || (e = strstr(c->rx, "\r\n\r\n")) == NULL) {
		if (c->rx_len >= TH_HEAD_MAX || th_fill(c, TH_HEAD_MAX) == -1) {
			snprintf(why, wlen, "no reply head (%zu bytes read)",
			    c->rx_len);
			return (-1);
		}
	}
	r->head_len = (size_t)(e - c->rx) + 4;
	if (sscanf(c->rx, "HTTP/1.%*1d %3d", &r->status) != 1) {
		snprintf(why, wlen, "not an HTTP/1.x status line");
		return (-1);
	}
	if ((v = th_header(c->rx, r->head_len, "Connection", &vlen)) != NULL &&
	    vlen == 5 && strncasecmp(v, "close", 5) == 0)
		r->close = true;
	if ((v = th_header(c->rx, r->head_len, "Content-Length", &vlen)) ==
	    NULL || vlen == 0 || vlen >= sizeof(num)) {
		snprintf(why, wlen, "status %d without a Content-Length",
		    r->status);
		return (-1);
	}
	memcpy(num, v, vlen);
	num[vlen] = '\0';
	*clen = strtoul(num, NULL, 10);
	return (0);
}

int
th_exchange(struct th_conn *c, const char *req, size_t len,
    struct th_reply *r, char *why, size_t wlen)
{
	size_t	 clen;

	memset(r, 0, sizeof(*r));
	if (th_write(c, req, len, why, wlen) == -1 ||
	    th_head(c, r, &clen, why, wlen) == -1)
		return (-1);
	if (clen > TH_BODY_MAX) {
		snprintf(why, wlen, "a body of %zu bytes", clen);
		return (-1);
	}
	while (c->rx_len < r->head_len + clen)
		if (th_fill(c, r->head_len + clen) == -1) {
			snprintf(why, wlen, "body cut at %zu of %zu bytes",
			    c->rx_len - r->head_len, clen);
			return (-1);
		}
	if ((r->body = malloc(clen + 1)) == NULL)
		th_fail("out of memory");
	memcpy(r->body, c->rx + r->head_len, clen);
	r->body[clen] = '\0';
	r->body_len = clen;
	/* Whatever follows is the next reply's (none: no pipelining). */
	memmove(c->rx, c->rx + r->head_len + clen, c->rx_len - r->head_len -
	    clen + 1);
	c->rx_len -= r->head_len + clen;
	return (0);
}

void
th_reply_free(struct th_reply *r)
{
	free(r->body);
	r->body = NULL;
}

/* How many times needle occurs in hay[0..len). */
static unsigned
th_count(const char *hay, size_t len, const char *needle)
{
	const char	*p = hay, *end = hay + len;
	size_t		 nl = strlen(needle);
	unsigned	 n = 0;

	while ((p = memmem(p, (size_t)(end - p), needle, nl)) != NULL) {
		n++;
		p += nl;
	}
	return (n);
}

/* --- figures --------------------------------------------------------- */

int
th_cmp_i64(const void *a, const void *b)
{
	int64_t	 x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x < y ? -1 : x > y);
}

double
th_pct(const int64_t *v, size_t n, double q)
{
	size_t	 i;

	if (n == 0)
		return (0);
	i = (size_t)(q * (double)n + 0.999999);
	if (i == 0)
		i = 1;
	if (i > n)
		i = n;
	return ((double)v[i - 1] / 1e3);
}

void
th_cpu_mark(struct th_opts *o, bool end)
{
	unsigned	 i;
	double		 v;

	for (i = 0; i < o->npids; i++) {
		if ((v = tl_proc_cpu_s(o->pids[i].pid)) < 0)
			th_fail("--pid %s=%d: no such process",
			    o->pids[i].name, (int)o->pids[i].pid);
		if (end)
			o->pids[i].cpu1 = v;
		else
			o->pids[i].cpu0 = v;
	}
}

/* "cpu_NAME_s" and "cpu_us_NAME_per_req" of every --pid, per n requests. */
static void
th_print_cpu(const struct th_opts *o, const char *pfx, unsigned n)
{
	unsigned	 i;
	double		 d;

	for (i = 0; i < o->npids; i++) {
		d = o->pids[i].cpu1 - o->pids[i].cpu0;
		printf(",\"%scpu_%s_s\":%.4f,\"%scpu_us_%s_per_req\":%.1f",
		    pfx, o->pids[i].name, d, pfx, o->pids[i].name,
		    n > 0 ? d * 1e6 / n : 0);
	}
}

/* --- status: the probe --------------------------------------------------- */

static int
th_status(const struct th_opts *o)
{
	struct th_conn	 c;
	struct th_reply	 r;
	char		 req[1024], why[256];
	int		 n;

	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n", o->method,
	    o->path, o->host);
	if (n < 0 || (size_t)n >= sizeof(req))
		th_fail("--path too long");
	if (th_connect(&c, why, sizeof(why)) == -1) {
		printf("000\n");
		fprintf(stderr, "takhttp: %s\n", why);
		return (0);
	}
	if (th_exchange(&c, req, (size_t)n, &r, why, sizeof(why)) == -1) {
		printf("000\n");
		fprintf(stderr, "takhttp: %s\n", why);
	} else
		printf("%03d\n", r.status);
	th_reply_free(&r);
	th_close(&c);
	return (0);
}

/* --- get ----------------------------------------------------------------- */

/* One GET on c that must succeed: its latency (µs), bytes and entries. */
static void
th_get_one(const struct th_opts *o, struct th_conn *c, const char *req,
    size_t len, int64_t *us, size_t *bytes, unsigned *entries)
{
	struct th_reply	 r;
	int64_t		 t0;
	char		 why[256];

	t0 = mono_us();
	if (th_exchange(c, req, len, &r, why, sizeof(why)) == -1)
		th_fail("GET %s: %s", o->path, why);
	*us = mono_us() - t0;
	if (r.status != 200)
		th_fail("GET %s: status %d: %.200s", o->path, r.status, r.body);
	if (r.close)
		th_fail("GET %s: the server closes the connection after a "
		    "reply (Connection: close)", o->path);
	*bytes = r.head_len + r.body_len;
	*entries = th_count(r.body, r.body_len, "\"uid\":");
	th_reply_free(&r);
}

static int
th_get(struct th_opts *o)
{
	struct th_conn	 c;
	int64_t		*lat, cold_us, cold_req_us, t0, t1, us;
	double		 self0, self1, wait_s = 0;
	size_t		 bytes = 0, b, len;
	unsigned	 i, e, emin = UINT_MAX, emax = 0, cold_entries, polls = 0;
	char		 req[1024], why[256];
	int		 n;

	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "Accept: application/json\r\n\r\n", o->path, o->host);
	if (n < 0 || (size_t)n >= sizeof(req))
		th_fail("--path too long");
	len = (size_t)n;
	if ((lat = calloc(o->requests + 1, sizeof(*lat))) == NULL)
		th_fail("out of memory");
	/* The registry catching up with the sessions' SAs. */
	if (o->expect > 0) {
		if (th_connect(&c, why, sizeof(why)) == -1)
			th_fail("%s", why);
		t0 = mono_us();
		for (;;) {
			th_get_one(o, &c, req, len, &us, &b, &e);
			polls++;
			if (e >= o->expect || mono_us() - t0 >=
			    (int64_t)(o->wait * 1e6))
				break;
			usleep(TH_POLL_US);
		}
		wait_s = (double)(mono_us() - t0) / 1e6;
		th_close(&c);
	}
	/* Cold: a new connection, its handshake timed with the request. */
	th_cpu_mark(o, false);
	t0 = mono_us();
	if (th_connect(&c, why, sizeof(why)) == -1)
		th_fail("%s", why);
	th_get_one(o, &c, req, len, &cold_req_us, &b, &cold_entries);
	cold_us = mono_us() - t0;
	th_cpu_mark(o, true);
	printf("{\"mode\":\"get\",\"path\":\"%s\",\"requests\":%u,"
	    "\"expected\":%u,\"wait_s\":%.2f,\"polls\":%u,\"cold_ms\":%.3f,"
	    "\"cold_request_ms\":%.3f,\"cold_entries\":%u,\"cold_bytes\":%zu",
	    o->path, o->requests, o->expect, wait_s, polls,
	    (double)cold_us / 1e3, (double)cold_req_us / 1e3, cold_entries, b);
	th_print_cpu(o, "cold_", 1);
	/* Warm: N requests one after the other on that connection. */
	self0 = self_cpu_s();
	th_cpu_mark(o, false);
	t0 = mono_us();
	for (i = 0; i < o->requests; i++) {
		th_get_one(o, &c, req, len, &lat[i], &b, &e);
		bytes += b;
		if (e < emin)
			emin = e;
		if (e > emax)
			emax = e;
	}
	t1 = mono_us();
	th_cpu_mark(o, true);
	self1 = self_cpu_s();
	th_close(&c);
	qsort(lat, o->requests, sizeof(*lat), th_cmp_i64);
	if (o->requests == 0)
		emin = emax = cold_entries;
	printf(",\"entries\":%u,\"entries_min\":%u,\"entries_max\":%u,"
	    "\"bytes\":%zu,\"window_s\":%.3f,\"per_s\":%.1f,"
	    "\"lat_p50_ms\":%.3f,\"lat_p99_ms\":%.3f,\"lat_max_ms\":%.3f,"
	    "\"lat_mean_ms\":%.3f,\"client_cpu_us_per_req\":%.1f",
	    emin, emin, emax, o->requests ? bytes / o->requests : b,
	    (double)(t1 - t0) / 1e6, t1 > t0 ? o->requests * 1e6 /
	    (double)(t1 - t0) : 0, th_pct(lat, o->requests, 0.5),
	    th_pct(lat, o->requests, 0.99), o->requests ?
	    (double)lat[o->requests - 1] / 1e3 : 0, o->requests ?
	    (double)(t1 - t0) / 1e3 / o->requests : 0, o->requests ?
	    (self1 - self0) * 1e6 / o->requests : 0);
	th_print_cpu(o, "", o->requests);
	printf("}\n");
	free(lat);
	return (0);
}

/* --- enroll -------------------------------------------------------------- */

/* What the enrolling processes share with the parent. */
struct th_enroll_shm {
	int		 go;
	unsigned	 done;
	unsigned	 reconnects;
	unsigned	 status[TH_STATUS_MAX];	/* by code, 0: none */
	unsigned	 ok;		/* 200 with a signedCert */
	unsigned	 failed;	/* no reply at all */
	int64_t		 t_end;
	char		 first_error[256];
	int64_t		 lat[];		/* µs, by request */
};

/* An EC P-256 CSR for CN=user[, O][, OU], base64 DER: what ATAK sends. */
static char *
th_csr(const struct th_opts *o, const char *user)
{
	EVP_PKEY	*pk = NULL;
	X509_REQ	*rq = NULL;
	X509_NAME	*nm;
	unsigned char	*der = NULL;
	char		*b64 = NULL;
	int		 n;

	if ((pk = EVP_EC_gen("P-256")) == NULL || (rq = X509_REQ_new()) ==
	    NULL || (nm = X509_REQ_get_subject_name(rq)) == NULL)
		goto fail;
	if (X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8,
	    (const unsigned char *)user, -1, -1, 0) != 1 ||
	    (o->o != NULL && X509_NAME_add_entry_by_txt(nm, "O",
	    MBSTRING_UTF8, (const unsigned char *)o->o, -1, -1, 0) != 1) ||
	    (o->ou != NULL && X509_NAME_add_entry_by_txt(nm, "OU",
	    MBSTRING_UTF8, (const unsigned char *)o->ou, -1, -1, 0) != 1) ||
	    X509_REQ_set_pubkey(rq, pk) != 1 ||
	    X509_REQ_sign(rq, pk, EVP_sha256()) <= 0 ||
	    (n = i2d_X509_REQ(rq, &der)) <= 0)
		goto fail;
	if ((b64 = malloc(4 * (((size_t)n + 2) / 3) + 1)) == NULL)
		goto fail;
	EVP_EncodeBlock((unsigned char *)b64, der, n);
	OPENSSL_free(der);
	X509_REQ_free(rq);
	EVP_PKEY_free(pk);
	return (b64);
fail:
	th_fail("cannot make a CSR for %s", user);
}

static void
th_enroll_err(struct th_enroll_shm *sh, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
th_enroll_err(struct th_enroll_shm *sh, const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[sizeof(sh->first_error)];

	if (sh->first_error[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	memcpy(sh->first_error, buf, sizeof(buf));
}

/* Process k: the requests k, k + C, ... over one keep-alive connection. */
static void __attribute__((noreturn))
th_enroll_proc(const struct th_opts *o, struct th_enroll_shm *sh,
    char **csr, unsigned k)
{
	struct th_conn	 c = { .fd = -1 };
	struct th_reply	 r;
	unsigned char	*auth64;
	char		*req, why[256], *colon;
	size_t		 alen, rlen;
	int64_t		 t0;
	unsigned	 i, reconnects = 0;
	int		 n;

	alen = strlen(o->users[k]);
	if ((auth64 = malloc(4 * ((alen + 2) / 3) + 1)) == NULL ||
	    (req = malloc(strlen(csr[k]) + 2048)) == NULL)
		th_fail("out of memory");
	EVP_EncodeBlock(auth64, (const unsigned char *)o->users[k], (int)alen);
	colon = strchr(o->users[k], ':');
	while (!__atomic_load_n(&sh->go, __ATOMIC_ACQUIRE))
		usleep(1000);
	for (i = k; i < o->requests; i += o->nusers) {
		n = snprintf(req, strlen(csr[i]) + 2048, "POST %s?clientUid="
		    "takhttp-%.*s-%u&version=bench HTTP/1.1\r\nHost: %s\r\n"
		    "Authorization: Basic %s\r\nAccept: application/json\r\n"
		    "Content-Length: %zu\r\n\r\n%s", TH_PATH_ENROLL,
		    (int)(colon - o->users[k]), o->users[k], i, o->host,
		    (const char *)auth64, strlen(csr[i]), csr[i]);
		rlen = (size_t)n;
		t0 = mono_us();
		if (c.fd == -1) {
			if (th_connect(&c, why, sizeof(why)) == -1) {
				__atomic_fetch_add(&sh->failed, 1,
				    __ATOMIC_RELAXED);
				th_enroll_err(sh, "%s", why);
				continue;
			}
			if (i != k)
				reconnects++;
		}
		if (th_exchange(&c, req, rlen, &r, why, sizeof(why)) == -1) {
			__atomic_fetch_add(&sh->failed, 1, __ATOMIC_RELAXED);
			th_enroll_err(sh, "request %u: %s", i, why);
			th_reply_free(&r);
			th_close(&c);
			continue;
		}
		sh->lat[i] = mono_us() - t0;
		__atomic_fetch_add(&sh->status[r.status < TH_STATUS_MAX && r.status > 0 ?
		    r.status : 0], 1, __ATOMIC_RELAXED);
		if (r.status == 200 && strstr(r.body, "\"signedCert\"") != NULL)
			__atomic_fetch_add(&sh->ok, 1, __ATOMIC_RELAXED);
		else
			th_enroll_err(sh, "request %u: status %d: %.160s", i,
			    r.status, r.body);
		if (r.close)
			th_close(&c);
		th_reply_free(&r);
	}
	th_close(&c);
	__atomic_fetch_add(&sh->reconnects, reconnects, __ATOMIC_RELAXED);
	_exit(0);
}

static int
th_enroll(struct th_opts *o)
{
	struct th_enroll_shm *sh;
	char		**csr, *colon;
	int64_t		 t0, t1, *lat;
	double		 gen_s;
	size_t		 shsz, i, nlat = 0;
	pid_t		 kids[TH_MAX_USERS];
	unsigned	 k;
	int		 st;

	if (o->nusers == 0)
		th_fail("enroll: give --user NAME:PASSWORD (one per "
		    "connection)");
	/* The CSRs, before anything is measured: request i is user i % C's. */
	if ((csr = calloc(o->requests, sizeof(*csr))) == NULL)
		th_fail("out of memory");
	t0 = mono_us();
	for (i = 0; i < o->requests; i++) {
		colon = strchr(o->users[i % o->nusers], ':');
		*colon = '\0';
		csr[i] = th_csr(o, o->users[i % o->nusers]);
		*colon = ':';
	}
	gen_s = (double)(mono_us() - t0) / 1e6;
	shsz = sizeof(*sh) + o->requests * sizeof(int64_t);
	sh = mmap(NULL, shsz, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		th_fail("mmap: %s", strerror(errno));
	memset(sh, 0, shsz);
	for (i = 0; i < o->requests; i++)
		sh->lat[i] = -1;
	fflush(NULL);
	for (k = 0; k < o->nusers; k++) {
		if ((kids[k] = fork()) == -1)
			th_fail("fork: %s", strerror(errno));
		if (kids[k] == 0)
			th_enroll_proc(o, sh, csr, k);
	}
	th_cpu_mark(o, false);
	t0 = mono_us();
	__atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
	for (k = 0; k < o->nusers; k++)
		while (waitpid(kids[k], &st, 0) == -1 && errno == EINTR)
			;
	t1 = mono_us();
	th_cpu_mark(o, true);
	if ((lat = calloc(o->requests + 1, sizeof(*lat))) == NULL)
		th_fail("out of memory");
	for (i = 0; i < o->requests; i++)
		if (sh->lat[i] >= 0)
			lat[nlat++] = sh->lat[i];
	qsort(lat, nlat, sizeof(*lat), th_cmp_i64);
	printf("{\"mode\":\"enroll\",\"requests\":%u,\"connections\":%u,"
	    "\"csr_gen_s\":%.3f,\"ok\":%u,\"failed\":%u,\"reconnects\":%u,"
	    "\"window_s\":%.3f,\"per_s\":%.1f,\"lat_p50_ms\":%.3f,"
	    "\"lat_p99_ms\":%.3f,\"lat_max_ms\":%.3f,\"statuses\":\"",
	    o->requests, o->nusers, gen_s, sh->ok, sh->failed, sh->reconnects,
	    (double)(t1 - t0) / 1e6, t1 > t0 ? sh->ok * 1e6 /
	    (double)(t1 - t0) : 0, th_pct(lat, nlat, 0.5),
	    th_pct(lat, nlat, 0.99), nlat ? (double)lat[nlat - 1] / 1e3 : 0);
	for (k = 0, st = 0; k < TH_STATUS_MAX; k++)
		if (sh->status[k] > 0)
			printf("%s%03u: %u", st++ ? "; " : "", k, sh->status[k]);
	printf("\"");
	th_print_cpu(o, "", sh->ok);
	printf(",\"first_error\":\"");
	for (const char *p = sh->first_error; *p; p++)
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if ((unsigned char)*p >= 0x20)
			putchar(*p);
	printf("\"}\n");
	for (i = 0; i < o->requests; i++)
		free(csr[i]);
	free(csr);
	free(lat);
	munmap(sh, shsz);
	return (0);
}

/* --- main ---------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr,
"usage: takhttp status --connect HOST:PORT --ca FILE [--cert FILE --key FILE]\n"
"               [--method M] --path P\n"
"       takhttp get --connect HOST:PORT --ca FILE --cert FILE --key FILE\n"
"               [--path P] [--requests N] [--expect E --wait S]\n"
"               [--pid NAME=PID]...\n"
"       takhttp enroll --connect HOST:PORT --ca FILE --user NAME:PASSWORD...\n"
"               [--requests N] [--o O] [--ou OU] [--pid NAME=PID]...\n"
"       takhttp packages --connect HOST:PORT --ca FILE --cert FILE --key FILE\n"
"               --file FILE [--requests N] [--pid NAME=PID]...\n");
	exit(2);
}

static double
th_num(const char *name, const char *v, double min, double max)
{
	char	*end;
	double	 d;

	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || d < min || d > max) {
		fprintf(stderr, "takhttp: --%s: expected a number from %g to "
		    "%g, got \"%s\"\n", name, min, max, v);
		exit(2);
	}
	return (d);
}

static void
th_add_pid(struct th_opts *o, const char *arg)
{
	const char	*eq = strchr(arg, '=');
	struct th_pid	*p;

	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(p->name) ||
	    o->npids == TH_MAX_PIDS)
		usage();
	p = &o->pids[o->npids++];
	snprintf(p->name, sizeof(p->name), "%.*s", (int)(eq - arg), arg);
	p->pid = (pid_t)th_num("pid", eq + 1, 1, INT_MAX);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "connect",	required_argument, NULL, 'c' },
		{ "ca",		required_argument, NULL, 'A' },
		{ "cert",	required_argument, NULL, 'C' },
		{ "key",	required_argument, NULL, 'K' },
		{ "method",	required_argument, NULL, 'm' },
		{ "path",	required_argument, NULL, 'p' },
		{ "requests",	required_argument, NULL, 'n' },
		{ "expect",	required_argument, NULL, 'e' },
		{ "wait",	required_argument, NULL, 'w' },
		{ "pid",	required_argument, NULL, 'P' },
		{ "user",	required_argument, NULL, 'u' },
		{ "o",		required_argument, NULL, 'O' },
		{ "ou",		required_argument, NULL, 'U' },
		{ "file",	required_argument, NULL, 'f' },
		{ NULL,		0,		   NULL, 0 }
	};
	struct tlsclient_conf	 cf;
	struct th_opts		 o;
	struct addrinfo		 hints;
	char			 err[512];
	int			 ch, rc;

	if (argc < 2)
		usage();
	memset(&o, 0, sizeof(o));
	o.mode = argv[1];
	o.method = "GET";
	o.requests = 200;
	o.wait = 30;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			if (tlsclient_hostport(optarg, &o.host, &o.port) == -1)
				usage();
			break;
		case 'A': o.ca = optarg; break;
		case 'C': o.cert = optarg; break;
		case 'K': o.key = optarg; break;
		case 'm': o.method = optarg; break;
		case 'p': o.path = optarg; break;
		case 'n': o.requests = (unsigned)th_num("requests", optarg, 0,
		    TH_MAX_REQUESTS); break;
		case 'e': o.expect = (unsigned)th_num("expect", optarg, 0,
		    TL_MAX_CLIENTS); break;
		case 'w': o.wait = th_num("wait", optarg, 0, 3600); break;
		case 'P': th_add_pid(&o, optarg); break;
		case 'u':
			if (o.nusers == TH_MAX_USERS || strchr(optarg, ':') ==
			    NULL)
				usage();
			o.users[o.nusers++] = optarg;
			break;
		case 'O': o.o = optarg; break;
		case 'U': o.ou = optarg; break;
		case 'f': o.file = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || o.host == NULL || o.ca == NULL ||
	    (o.cert != NULL) != (o.key != NULL))
		usage();
	if (o.path == NULL)
		o.path = TH_PATH_ENDPOINTS;
	if (strpbrk(o.path, " \r\n") != NULL || strpbrk(o.method,
	    " \r\n") != NULL)
		usage();
	signal(SIGPIPE, SIG_IGN);
	memset(&cf, 0, sizeof(cf));
	cf.cert = o.cert;
	cf.key = o.key;
	cf.ca = o.ca;
	if ((th_ctx = tlsclient_ctx_new(&cf, err, sizeof(err))) == NULL)
		th_fail("%s", err);
	/* One full handshake per connection, as a phone's first one. */
	SSL_CTX_set_session_cache_mode(th_ctx, SSL_SESS_CACHE_OFF);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(o.host, o.port, &hints, &th_ai)) != 0)
		th_fail("%s:%s: %s", o.host, o.port, gai_strerror(rc));
	if (strcmp(o.mode, "status") == 0)
		rc = th_status(&o);
	else if (strcmp(o.mode, "get") == 0) {
		if (o.cert == NULL)
			usage();
		rc = th_get(&o);
	} else if (strcmp(o.mode, "enroll") == 0)
		rc = th_enroll(&o);
	else if (strcmp(o.mode, "packages") == 0) {
		if (o.cert == NULL || o.file == NULL)
			usage();
		rc = th_packages(&o);
	}
	else
		usage();
	freeaddrinfo(th_ai);
	SSL_CTX_free(th_ctx);
	return (rc);
}
