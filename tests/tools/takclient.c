/*
 * takclient: the project's own TLS test client.  Opens one or more TLS
 * sessions (mutual TLS when given a certificate) to takd or any TLS server,
 * reports how each handshake went and, with --hold, whether the server kept
 * the session open.  --raw opens plain TCP connections instead, to test what
 * the server does with a peer that never starts a handshake.
 *
 * In TLS 1.3 the client finishes its handshake before the server has looked
 * at the client certificate: a rejection arrives afterwards, as an alert or
 * an EOF.  So a handshake counts as accepted only once the server has sent
 * something after it (a session ticket, data) or stayed quiet for the settle
 * time.  Every session is a small non-blocking state machine driven by one
 * poll loop, so that --parallel needs no processes or threads.
 *
 * Exit status: 0 every session ok, 1 a handshake failed, 2 usage or setup
 * error, 3 the server closed a held session before the hold time ended.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define TC_EXIT_OK		0
#define TC_EXIT_FAIL		1
#define TC_EXIT_USAGE		2
#define TC_EXIT_CLOSED		3

#define TC_SESS_MAGIC		0x7c5e5510U
#define TC_MAX_SESSIONS		10000
#define TC_TIMEOUT_MS		10000
#define TC_SETTLE_MS		2000

enum tc_state {
	TC_IDLE,		/* not started yet */
	TC_CONNECTING,		/* non-blocking connect() in progress */
	TC_HANDSHAKING,		/* SSL_connect() in progress */
	TC_SETTLING,		/* waiting for the server to accept or reject */
	TC_HOLDING,		/* connected, reading and discarding */
	TC_DONE
};

struct tc_opts {
	char		*host;
	char		*port;
	const char	*cert;
	const char	*key;
	char		*pass;
	const char	*ca;
	char		*servername;
	int		 no_cert;
	int		 raw;
	int		 quiet;
	int		 verbose;
	int		 parallel;
	unsigned	 count;
	long		 timeout_ms;	/* connect + handshake */
	long		 hold_ms;	/* 0: leave right after the handshake */
	long		 settle_ms;
};

struct tc_sess {
	unsigned	 magic;
	unsigned	 id;
	enum tc_state	 state;
	int		 fd;
	SSL		*ssl;
	short		 events;	/* poll interest of the current state */
	int		 replied;	/* server spoke after the handshake */
	long		 t_hold;	/* when the hold started */
	long		 deadline;	/* of the current state */
	int		 result;	/* TC_EXIT_* once TC_DONE */
};

static const struct tc_opts *opts;
static SSL_CTX		*tls_ctx;

static long
tc_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
tc_say(const struct tc_sess *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One result line per session, prefixed with its number when there are many. */
static void
tc_say(const struct tc_sess *s, const char *fmt, ...)
{
	va_list	 ap;

	if (opts->quiet)
		return;
	if (opts->count > 1)
		printf("[%u] ", s->id);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void
tc_sess_close(struct tc_sess *s, int result)
{
	if (s->ssl != NULL) {
		/* A close_notify when the session is good; never wait. */
		if (result != TC_EXIT_FAIL && SSL_is_init_finished(s->ssl)) {
			ERR_clear_error();
			(void)SSL_shutdown(s->ssl);
		}
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	ERR_clear_error();
	s->state = TC_DONE;
	s->result = result;
}

static void
tc_sess_fail(struct tc_sess *s, const char *reason)
{
	tc_say(s, "handshake failed: %s", reason);
	tc_sess_close(s, TC_EXIT_FAIL);
}

/* Why an SSL call failed, in words an operator or a test can match. */
static void
tc_ssl_reason(struct tc_sess *s, int ret, char *buf, size_t len)
{
	const char	*str;
	unsigned long	 e;
	long		 vr;
	int		 err;

	err = SSL_get_error(s->ssl, ret);
	e = ERR_peek_last_error();
	str = ERR_reason_error_string(e);
	if (err == SSL_ERROR_ZERO_RETURN)
		snprintf(buf, len, "closed by server (close_notify)");
	else if (opts->ca != NULL &&
	    (vr = SSL_get_verify_result(s->ssl)) != X509_V_OK)
		snprintf(buf, len, "server certificate: %s",
		    X509_verify_cert_error_string(vr));
	else if (err == SSL_ERROR_SYSCALL && errno != 0)
		snprintf(buf, len, "%s", strerror(errno));
	else if (err == SSL_ERROR_SYSCALL ||
	    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
		snprintf(buf, len, "connection closed by server (EOF)");
	else	/* alerts read "tlsv13 alert certificate required" */
		snprintf(buf, len, "%s", str != NULL ? str : "TLS error");
}

/* A session ticket is the server saying it accepted our certificate. */
static int
tc_new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct tc_sess	*s = SSL_get_app_data(ssl);

	if (s != NULL && s->magic == TC_SESS_MAGIC)
		s->replied = 1;
	return (0);	/* not kept */
}

static SSL_CTX *
tc_ctx_new(const struct tc_opts *o)
{
	SSL_CTX		*ctx;
	const char	*what = "";
	char		 err[256];

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		goto fail;
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, tc_new_session_cb);
	if (o->pass != NULL)
		SSL_CTX_set_default_passwd_cb_userdata(ctx, o->pass);
	if (!o->no_cert) {
		what = o->cert;
		if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1)
			goto fail;
		what = o->key;
		if (SSL_CTX_use_PrivateKey_file(ctx, o->key,
		    SSL_FILETYPE_PEM) != 1)
			goto fail;
		what = "key does not match certificate";
		if (SSL_CTX_check_private_key(ctx) != 1)
			goto fail;
	}
	if (o->ca != NULL) {
		what = o->ca;
		if (SSL_CTX_load_verify_locations(ctx, o->ca, NULL) != 1)
			goto fail;
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	return (ctx);
fail:
	/* The first error says why ("No such file or directory"). */
	ERR_error_string_n(ERR_peek_error(), err, sizeof(err));
	fprintf(stderr, "takclient: %s: %s\n", what, err);
	SSL_CTX_free(ctx);
	return (NULL);
}

static void
tc_sess_start(struct tc_sess *s, const struct addrinfo *ai)
{
	char	 reason[128];

	s->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (s->fd == -1) {
		snprintf(reason, sizeof(reason), "socket: %s", strerror(errno));
		tc_sess_fail(s, reason);
		return;
	}
	s->deadline = tc_now_ms() + opts->timeout_ms;
	s->state = TC_CONNECTING;
	s->events = POLLOUT;
	if (connect(s->fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
	    errno != EINPROGRESS) {
		snprintf(reason, sizeof(reason), "connect: %s",
		    strerror(errno));
		tc_sess_fail(s, reason);
	}
}

static void
tc_sess_hold(struct tc_sess *s)
{
	s->t_hold = tc_now_ms();
	if (opts->hold_ms <= 0) {
		tc_sess_close(s, TC_EXIT_OK);
		return;
	}
	s->state = TC_HOLDING;
	s->deadline = s->t_hold + opts->hold_ms;
	s->events = POLLIN;
}

static void
tc_sess_closed_early(struct tc_sess *s, const char *why)
{
	tc_say(s, "closed by server after %ld ms%s%s", tc_now_ms() - s->t_hold,
	    why[0] != '\0' ? ": " : "", why);
	tc_sess_close(s, TC_EXIT_CLOSED);
}

/* Our address, so that a test can find this session in the server's log. */
static void
tc_say_local(const struct tc_sess *s)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			 host[NI_MAXHOST], port[NI_MAXSERV];

	if (getsockname(s->fd, (struct sockaddr *)&ss, &len) == -1 ||
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port,
	    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return;
	tc_say(s, ss.ss_family == AF_INET6 ? "local address [%s]:%s" :
	    "local address %s:%s", host, port);
}

static void
tc_step_connecting(struct tc_sess *s)
{
	char		 reason[128];
	socklen_t	 len = sizeof(int);
	int		 err = 0;

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		snprintf(reason, sizeof(reason), "connect: %s", strerror(err));
		tc_sess_fail(s, reason);
		return;
	}
	if (opts->verbose)
		tc_say_local(s);
	if (opts->raw) {
		tc_say(s, "connect ok");
		tc_sess_hold(s);
		return;
	}
	if ((s->ssl = SSL_new(tls_ctx)) == NULL ||
	    SSL_set_fd(s->ssl, s->fd) != 1) {
		tc_sess_fail(s, "cannot create TLS session");
		return;
	}
	SSL_set_app_data(s->ssl, s);
	if (opts->servername != NULL && (SSL_set_tlsext_host_name(s->ssl,
	    opts->servername) != 1 || (opts->ca != NULL &&
	    SSL_set1_host(s->ssl, opts->servername) != 1))) {
		tc_sess_fail(s, "cannot set server name");
		return;
	}
	SSL_set_connect_state(s->ssl);
	s->state = TC_HANDSHAKING;
}

/* Sets the poll interest for an SSL call that would block; 0 if it failed. */
static int
tc_ssl_would_block(struct tc_sess *s, int ret)
{
	switch (SSL_get_error(s->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		s->events = POLLIN;
		return (1);
	case SSL_ERROR_WANT_WRITE:
		s->events = POLLOUT;
		return (1);
	default:
		return (0);
	}
}

static void
tc_step_handshaking(struct tc_sess *s)
{
	char	 reason[160];
	int	 ret;

	ERR_clear_error();
	errno = 0;
	if ((ret = SSL_connect(s->ssl)) == 1) {
		s->state = TC_SETTLING;
		s->deadline = tc_now_ms() + opts->settle_ms;
		s->events = POLLIN;
		return;
	}
	if (tc_ssl_would_block(s, ret))
		return;
	tc_ssl_reason(s, ret, reason, sizeof(reason));
	tc_sess_fail(s, reason);
}

/*
 * Read and discard whatever the server sends.  Returns 1 while the session
 * is open, 0 when the server ended it (reason set).
 */
static int
tc_ssl_drain(struct tc_sess *s, char *reason, size_t len)
{
	char	 buf[4096];
	int	 ret;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((ret = SSL_read(s->ssl, buf, sizeof(buf))) > 0) {
			s->replied = 1;
			continue;
		}
		if (tc_ssl_would_block(s, ret))
			return (1);
		tc_ssl_reason(s, ret, reason, len);
		return (0);
	}
}

static void
tc_step_settling(struct tc_sess *s, long now)
{
	char	 reason[160];

	int	 open;

	/* A ticket before the close still means we were accepted. */
	open = tc_ssl_drain(s, reason, sizeof(reason));
	if (!open && !s->replied) {
		tc_sess_fail(s, reason);
		return;
	}
	if (open && !s->replied && now < s->deadline)
		return;
	tc_say(s, "handshake ok %s", SSL_get_version(s->ssl));
	tc_sess_hold(s);
	if (!open && s->state == TC_HOLDING)
		tc_sess_closed_early(s, reason);
}

static void
tc_step_holding(struct tc_sess *s, long now)
{
	char	 reason[160], buf[4096];
	ssize_t	 n;

	if (s->ssl != NULL) {
		if (!tc_ssl_drain(s, reason, sizeof(reason))) {
			tc_sess_closed_early(s, reason);
			return;
		}
	} else {
		while ((n = read(s->fd, buf, sizeof(buf))) > 0)
			continue;
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			tc_sess_closed_early(s, n == 0 ? "EOF" :
			    strerror(errno));
			return;
		}
	}
	if (now >= s->deadline) {
		if (opts->hold_ms > 0)
			tc_say(s, "held %ld ms", now - s->t_hold);
		tc_sess_close(s, TC_EXIT_OK);
	}
}

static void
tc_sess_step(struct tc_sess *s, short revents)
{
	char	 reason[64];
	long	 now = tc_now_ms();

	if ((s->state == TC_CONNECTING || s->state == TC_HANDSHAKING) &&
	    revents == 0 && now >= s->deadline) {
		snprintf(reason, sizeof(reason), "timeout after %ld ms",
		    opts->timeout_ms);
		tc_sess_fail(s, reason);
		return;
	}
	switch (s->state) {
	case TC_CONNECTING:
		tc_step_connecting(s);
		if (s->state != TC_HANDSHAKING)
			break;
		/* FALLTHROUGH */
	case TC_HANDSHAKING:
		tc_step_handshaking(s);
		if (s->state != TC_SETTLING)
			break;
		/* FALLTHROUGH */
	case TC_SETTLING:
		tc_step_settling(s, tc_now_ms());
		break;
	case TC_HOLDING:
		tc_step_holding(s, now);
		break;
	case TC_IDLE:
	case TC_DONE:
		break;
	}
}

/* Run every session to the end, at most `window' of them at a time. */
static int
tc_run(struct tc_sess *ss, const struct addrinfo *ai)
{
	struct pollfd	*pfd;
	unsigned	*idx, i, n, first = 0, next = 0, window;
	unsigned	 nfail = 0, nclosed = 0;
	long		 now, wait;

	window = opts->parallel ? opts->count : 1;
	pfd = calloc(window, sizeof(*pfd));
	idx = calloc(window, sizeof(*idx));
	if (pfd == NULL || idx == NULL) {
		fprintf(stderr, "takclient: out of memory\n");
		free(pfd);
		free(idx);
		return (TC_EXIT_USAGE);
	}
	while (first < opts->count) {
		for (; next - first < window && next < opts->count; next++)
			tc_sess_start(&ss[next], ai);
		now = tc_now_ms();
		wait = -1;
		for (i = first, n = 0; i < next; i++) {
			if (ss[i].state == TC_DONE)
				continue;
			pfd[n].fd = ss[i].fd;
			pfd[n].events = ss[i].events;
			pfd[n].revents = 0;
			idx[n++] = i;
			if (wait == -1 || ss[i].deadline - now < wait)
				wait = ss[i].deadline - now;
		}
		if (wait < 0 && n > 0)
			wait = 0;
		if (n > 0 && poll(pfd, n, (int)wait) == -1 && errno != EINTR) {
			perror("takclient: poll");
			break;
		}
		now = tc_now_ms();
		for (i = 0; i < n; i++) {
			if (pfd[i].revents != 0 || now >= ss[idx[i]].deadline)
				tc_sess_step(&ss[idx[i]], pfd[i].revents);
		}
		/* Sessions end in order only when run one at a time. */
		while (first < next && ss[first].state == TC_DONE) {
			nfail += ss[first].result == TC_EXIT_FAIL;
			nclosed += ss[first].result == TC_EXIT_CLOSED;
			first++;
		}
	}
	if (opts->count > 1)
		printf("%u sessions: %u ok, %u failed, %u closed early\n",
		    opts->count, opts->count - nfail - nclosed, nfail, nclosed);
	free(pfd);
	free(idx);
	if (first < opts->count)
		return (TC_EXIT_USAGE);
	return (nfail > 0 ? TC_EXIT_FAIL : nclosed > 0 ? TC_EXIT_CLOSED :
	    TC_EXIT_OK);
}

static void
tc_usage(void)
{
	fprintf(stderr,
	    "usage: takclient --connect HOST:PORT [--cert FILE --key FILE "
	    "[--pass PASS] | --no-cert]\n"
	    "                 [--ca FILE [--servername NAME]] "
	    "[--timeout SEC] [--hold SEC] [--settle SEC]\n"
	    "                 [--count N [--parallel]] [--raw] "
	    "[--quiet | --verbose]\n");
}

/* Seconds, fractions allowed ("0.5"), into milliseconds. */
static int
tc_parse_seconds(const char *arg, long *ms)
{
	char	*end;
	double	 d;

	errno = 0;
	d = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || d < 0 || d > 86400) {
		fprintf(stderr, "takclient: bad number of seconds: %s\n", arg);
		return (-1);
	}
	*ms = (long)(d * 1000 + 0.5);
	return (0);
}

/* "HOST:PORT" or "[V6]:PORT"; splits arg in place. */
static int
tc_parse_hostport(char *arg, struct tc_opts *o)
{
	char	*colon;

	if ((colon = strrchr(arg, ':')) == NULL || colon[1] == '\0' ||
	    colon == arg)
		goto fail;
	*colon = '\0';
	o->port = colon + 1;
	o->host = arg;
	if (arg[0] == '[') {
		if (colon[-1] != ']')
			goto fail;
		colon[-1] = '\0';
		o->host = arg + 1;
	}
	return (0);
fail:
	fprintf(stderr, "takclient: --connect wants HOST:PORT: %s\n", arg);
	return (-1);
}

static int
tc_parse_args(int argc, char *argv[], struct tc_opts *o)
{
	static const struct option longopts[] = {
		{ "connect",	required_argument,	NULL, 'C' },
		{ "cert",	required_argument,	NULL, 'c' },
		{ "key",	required_argument,	NULL, 'k' },
		{ "pass",	required_argument,	NULL, 'P' },
		{ "ca",		required_argument,	NULL, 'a' },
		{ "servername",	required_argument,	NULL, 's' },
		{ "no-cert",	no_argument,		NULL, 'n' },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "hold",	required_argument,	NULL, 'h' },
		{ "settle",	required_argument,	NULL, 'S' },
		{ "count",	required_argument,	NULL, 'N' },
		{ "parallel",	no_argument,		NULL, 'p' },
		{ "raw",	no_argument,		NULL, 'r' },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ NULL,		0,			NULL, 0 }
	};
	char	*end;
	long	 n;
	int	 ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'C':
			if (tc_parse_hostport(optarg, o) == -1)
				return (-1);
			break;
		case 'c': o->cert = optarg; break;
		case 'k': o->key = optarg; break;
		case 'P': o->pass = optarg; break;
		case 'a': o->ca = optarg; break;
		case 's': o->servername = optarg; break;
		case 'n': o->no_cert = 1; break;
		case 'p': o->parallel = 1; break;
		case 'r': o->raw = 1; break;
		case 'q': o->quiet = 1; break;
		case 'v': o->verbose = 1; break;
		case 't':
		case 'h':
		case 'S':
			if (tc_parse_seconds(optarg, ch == 't' ?
			    &o->timeout_ms : ch == 'h' ? &o->hold_ms :
			    &o->settle_ms) == -1)
				return (-1);
			break;
		case 'N':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || n < 1 ||
			    n > TC_MAX_SESSIONS) {
				fprintf(stderr, "takclient: --count wants "
				    "1..%d: %s\n", TC_MAX_SESSIONS, optarg);
				return (-1);
			}
			o->count = (unsigned)n;
			break;
		default:
			return (-1);
		}
	}
	if (optind != argc || o->host == NULL) {
		fprintf(stderr, "takclient: %s\n", optind != argc ?
		    "unexpected argument" : "--connect is required");
		return (-1);
	}
	if (!o->raw && !o->no_cert && (o->cert == NULL) != (o->key == NULL)) {
		fprintf(stderr, "takclient: --cert and --key go together\n");
		return (-1);
	}
	if (!o->raw && !o->no_cert && o->cert == NULL)
		o->no_cert = 1;
	if (o->no_cert && o->cert != NULL) {
		fprintf(stderr, "takclient: --no-cert with --cert\n");
		return (-1);
	}
	return (0);
}

int
main(int argc, char *argv[])
{
	struct tc_opts	 o = {
		.count = 1,
		.timeout_ms = TC_TIMEOUT_MS,
		.settle_ms = TC_SETTLE_MS,
	};
	struct addrinfo	 hints, *ai = NULL;
	struct tc_sess	*ss = NULL;
	unsigned	 i;
	int		 rc = TC_EXIT_USAGE, e;

	if (tc_parse_args(argc, argv, &o) == -1) {
		tc_usage();
		return (TC_EXIT_USAGE);
	}
	opts = &o;
	signal(SIGPIPE, SIG_IGN);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(o.host, o.port, &hints, &ai)) != 0) {
		fprintf(stderr, "takclient: %s:%s: %s\n", o.host, o.port,
		    gai_strerror(e));
		return (TC_EXIT_USAGE);
	}
	if (!o.raw && (tls_ctx = tc_ctx_new(&o)) == NULL)
		goto done;
	if ((ss = calloc(o.count, sizeof(*ss))) == NULL) {
		fprintf(stderr, "takclient: out of memory\n");
		goto done;
	}
	for (i = 0; i < o.count; i++) {
		ss[i].magic = TC_SESS_MAGIC;
		ss[i].id = i + 1;
		ss[i].fd = -1;
	}
	rc = tc_run(ss, ai);
done:
	if (ss != NULL) {
		for (i = 0; i < o.count; i++) {
			if (ss[i].state != TC_DONE)
				tc_sess_close(&ss[i], TC_EXIT_FAIL);
			ss[i].magic = 0;
		}
	}
	free(ss);
	SSL_CTX_free(tls_ctx);
	freeaddrinfo(ai);
	return (rc);
}
