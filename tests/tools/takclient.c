/*
 * takclient: the project's own TLS test client.  Opens one or more TLS
 * sessions (mutual TLS when given a certificate) to takd or any TLS server,
 * reports how each handshake went and, with --hold, whether the server kept
 * the session open.  --raw opens plain TCP connections instead, to test what
 * the server does with a peer that never starts a handshake, and
 * --abort-handshake hangs up in the middle of one: after the server answered
 * the ClientHello, so that it holds a TLS session for the connection.
 *
 * In TLS 1.3 the client finishes its handshake before the server has looked
 * at the client certificate: a rejection arrives afterwards, as an alert or
 * an EOF.  So a handshake counts as accepted only once the server has sent
 * something after it (a session ticket, data) or stayed quiet for the settle
 * time.  Every session is a small non-blocking state machine driven by one
 * poll loop, so that --parallel needs no processes or threads.
 *
 * CoT mode (any of --send, --expect-*, --forbid, --print, --out, --script,
 * --plain) runs one session as a CoT peer: after the handshake it works
 * through a list of steps (send a file, wait for events matching a filter,
 * assert that none arrive, sleep, ...), taken from the command line or from
 * a script file, while it splits what the server sends into events on the
 * literal "</event>".  See docs/testing.md for the options and the script
 * language.
 *
 * Exit status: 0 every session ok (every expectation met), 1 a handshake
 * failed, 2 usage or setup error, 3 the server closed a session before its
 * hold time or script ended, 4 an expectation was not met (or a forbidden
 * event arrived).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "tests/common/tlsclient.h"

#define TC_EXIT_OK		0
#define TC_EXIT_FAIL		1
#define TC_EXIT_USAGE		2
#define TC_EXIT_CLOSED		3
#define TC_EXIT_UNMET		4

#define TC_SESS_MAGIC		0x7c5e5510U
#define TC_COT_MAGIC		0x7c0755a1U
#define TC_MAX_SESSIONS		10000
#define TC_TIMEOUT_MS		10000
#define TC_SETTLE_MS		2000
#define TC_WAIT_MS		5000	/* --wait default */
#define TC_WAITFILE_MS		30000	/* wait-file default */
#define TC_POLL_FILE_MS		20	/* how often wait-file looks */
#define TC_MAX_STEPS		1024
#define TC_MAX_TERMS		64	/* uid= or grep= terms of one filter */
#define TC_MAX_FORBID		32
#define TC_MAX_FILE		(64 * 1024 * 1024)
#define TC_MAX_RX		(256 * 1024 * 1024)	/* all events kept */
#define TC_REPORT_MAX		50	/* uid/type lines when unmet */
#define TC_STALE_MS		(5 * 60 * 1000)	/* @STALE@ = now + 5 min */
#define TC_PAST_MS		(60 * 1000)	/* @PAST@ = now - 1 min */
#define TC_UID_MAX		256
#define TC_TYPE_MAX		128

static const char	 TC_END_TAG[] = "</event>";

enum tc_state {
	TC_IDLE,		/* not started yet */
	TC_CONNECTING,		/* non-blocking connect() in progress */
	TC_HANDSHAKING,		/* SSL_connect() in progress */
	TC_SETTLING,		/* waiting for the server to accept or reject */
	TC_HOLDING,		/* connected, reading and discarding */
	TC_STREAMING,		/* CoT mode: running the steps */
	TC_DONE
};

/* What a CoT step does; see tc_step_begin() and docs/testing.md. */
enum tc_op {
	TC_OP_SEND,		/* send a file (placeholders filled) */
	TC_OP_EVERY,		/* from now on send a file every ms */
	TC_OP_SLEEP,		/* keep reading for ms */
	TC_OP_EXPECT,		/* wait for matching events */
	TC_OP_NONE,		/* for ms, no matching event */
	TC_OP_FORBID,		/* never a matching event in this session */
	TC_OP_MARK,		/* later expects look only at newer events */
	TC_OP_WAITFILE,		/* wait until a file exists */
	TC_OP_TOUCH,		/* create a file */
	TC_OP_PAUSE,		/* read nothing for ms: a reader that stalls */
	TC_OP_GAP,		/* matching events since the mark <= ms apart */
	TC_OP_CLOSE		/* end the session here */
};

/*
 * Which events a step is about.  An event matches when its type is type
 * (unless NULL), it contains every grep string, and its uid is one of uid[]
 * (unless n_uid is 0).  An expect with uids wants count events from each.
 */
struct tc_filter {
	const char	*type;
	const char	*uid[TC_MAX_TERMS];
	size_t		 n_uid;
	const char	*grep[TC_MAX_TERMS];
	size_t		 n_grep;
};

struct tc_step {
	enum tc_op	 op;
	int		 line;		/* of the script, 0: command line */
	struct tc_filter f;
	unsigned	 count;		/* expect: per uid; every: 0 = no end */
	long		 ms;		/* sleep, within, interval */
	const char	*path;		/* wait-file, touch, the file sent */
	char		*data;		/* the file sent (a template) */
	size_t		 len;
	char		*text;		/* owned: what f and path point into */
};

/* One event received: the bytes since the previous one, up to </event>. */
struct tc_event {
	char		*bytes;
	size_t		 len;
	size_t		 off;		/* of "<event", len if none */
	long		 at;		/* ms since the connect started */
	char		 uid[TC_UID_MAX];
	char		 type[TC_TYPE_MAX];
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
	int		 plain;		/* CoT over plain TCP */
	int		 quiet;
	int		 verbose;
	int		 parallel;
	unsigned	 window;	/* sessions at once with --parallel */
	int		 abort_hs;	/* hang up in the middle of handshakes */
	int		 rcvbuf;	/* SO_RCVBUF, 0: the kernel's default */
	const char	*bind;		/* --bind: local address, NULL: any */
	struct sockaddr_storage bind_ss;
	socklen_t	 bind_len;
	unsigned	 count;
	long		 timeout_ms;	/* connect + handshake */
	long		 hold_ms;	/* 0: leave right after the handshake */
	long		 settle_ms;

	/* CoT mode */
	int		 cot;
	int		 print;
	const char	*out;
	const char	*script;
	const char	*uid;
	const char	*callsign;
	long		 every_ms;
	unsigned	 every_count;
	long		 wait_ms;
	int		 have_expect;
	unsigned	 expect_count;
	struct tc_filter expect;
	const char	*send[TC_MAX_STEPS];
	size_t		 n_send;
	const char	*forbid[TC_MAX_FORBID];
	size_t		 n_forbid;
};

/* The CoT side of the one session of CoT mode. */
struct tc_cot {
	unsigned	 magic;
	struct tc_step	*steps;
	size_t		 n_steps;
	size_t		 cur;		/* the step running */
	int		 started;	/* cur has begun */
	long		 t0;		/* connect started */
	long		 step_t0;
	long		 step_deadline;

	char		*rx;		/* bytes of the event arriving */
	size_t		 rx_len, rx_cap, rx_scan;
	size_t		 rx_total;
	struct tc_event	*ev;
	size_t		 n_ev, ev_cap;
	size_t		 mark;		/* expects look at ev[mark..] */

	char		*tx;		/* bytes to send */
	size_t		 tx_len, tx_off, tx_cap;
	int		 want_write;	/* OpenSSL wants POLLOUT */

	const struct tc_step *every;
	unsigned	 every_sent;
	long		 every_next;
	const struct tc_filter *forbid[TC_MAX_FORBID];
	size_t		 n_forbid;
	unsigned	 seq;		/* @SEQ@ of the next send */
	FILE		*out;
};

struct tc_sess {
	unsigned	 magic;
	unsigned	 id;
	enum tc_state	 state;
	struct tlsclient tc;		/* socket and TLS session */
	short		 events;	/* poll interest of the current state */
	int		 hello_sent;	/* --abort-handshake: ClientHello out */
	int		 replied;	/* server sent data after the handshake */
	long		 t_hold;	/* when the hold started */
	long		 deadline;	/* of the current state */
	int		 result;	/* TC_EXIT_* once TC_DONE */
	struct tc_cot	*cot;		/* CoT mode */
};

static const struct tc_opts *opts;
static SSL_CTX		*tls_ctx;

static void	 tc_cot_received(struct tc_sess *, const char *, size_t);
static void	 tc_cot_start(struct tc_sess *);
static void	 tc_step_streaming(struct tc_sess *, long);
static void	 tc_cot_report(const struct tc_cot *);
static int	 tc_cot_paused(const struct tc_cot *, long);

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
	/* A close_notify when the session is good; never wait. */
	tlsclient_close(&s->tc, result != TC_EXIT_FAIL);
	s->state = TC_DONE;
	s->result = result;
}

static void
tc_sess_fail(struct tc_sess *s, const char *reason)
{
	tc_say(s, "handshake failed: %s", reason);
	tc_sess_close(s, TC_EXIT_FAIL);
}

/*
 * The server accepted us: it sent a session ticket or data after the
 * handshake (a rejection comes as an alert or an EOF instead).
 */
static int
tc_sess_replied(const struct tc_sess *s)
{
	return (s->replied || s->tc.ticket);
}

/* The poll interest of an I/O call that would block. */
static void
tc_sess_want(struct tc_sess *s, enum tlsclient_io io)
{
	s->events = io == TLSCLIENT_WANT_WRITE ? POLLOUT : POLLIN;
}

static void
tc_sess_start(struct tc_sess *s, const struct addrinfo *ai)
{
	struct tlsclient_sock	 so = {
		.rcvbuf = opts->rcvbuf,
		.bind = opts->bind != NULL ?
		    (const struct sockaddr *)&opts->bind_ss : NULL,
		.bind_len = opts->bind_len,
	};
	const char		*what;
	char			 reason[128];

	s->deadline = tc_now_ms() + opts->timeout_ms;
	if (s->cot != NULL)
		s->cot->t0 = tc_now_ms();
	s->state = TC_CONNECTING;
	s->events = POLLOUT;
	if (tlsclient_connect(&s->tc, ai, &so, &what) == -1) {
		if (strcmp(what, "bind") == 0)
			snprintf(reason, sizeof(reason), "bind %s: %s",
			    opts->bind, strerror(errno));
		else
			snprintf(reason, sizeof(reason), "%s: %s", what,
			    strerror(errno));
		tc_sess_fail(s, reason);
	}
}

static void
tc_sess_hold(struct tc_sess *s)
{
	s->t_hold = tc_now_ms();
	if (s->cot != NULL) {
		tc_cot_start(s);
		return;
	}
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
	if (s->cot != NULL && !opts->quiet)
		tc_cot_report(s->cot);
	tc_sess_close(s, TC_EXIT_CLOSED);
}

/* Our address, so that a test can find this session in the server's log. */
static void
tc_say_local(const struct tc_sess *s)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			 host[NI_MAXHOST], port[NI_MAXSERV];

	if (getsockname(s->tc.fd, (struct sockaddr *)&ss, &len) == -1 ||
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port,
	    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return;
	tc_say(s, ss.ss_family == AF_INET6 ? "local address [%s]:%s" :
	    "local address %s:%s", host, port);
}

/*
 * --abort-handshake: OpenSSL writes to the socket but reads from an empty
 * memory BIO, so SSL_connect() sends the ClientHello and can never go on
 * with the server's reply, however fast that comes (a client scheduled out
 * between its write and its read would otherwise finish the handshake).
 */
static int
tc_ssl_set_abort_bio(struct tc_sess *s)
{
	BIO	*rb, *wb;

	rb = BIO_new(BIO_s_mem());
	wb = BIO_new_socket(s->tc.fd, BIO_NOCLOSE);
	if (rb == NULL || wb == NULL) {
		BIO_free(rb);
		BIO_free(wb);
		return (0);
	}
	BIO_set_mem_eof_return(rb, -1);		/* empty: retry, not EOF */
	SSL_set_bio(s->tc.ssl, rb, wb);	/* frees the socket's BIO */
	return (1);
}

static void
tc_step_connecting(struct tc_sess *s)
{
	char	 reason[128];

	if (tlsclient_connected(&s->tc) == -1) {
		snprintf(reason, sizeof(reason), "connect: %s",
		    strerror(errno));
		tc_sess_fail(s, reason);
		return;
	}
	if (opts->verbose)
		tc_say_local(s);
	if (opts->raw || opts->plain) {
		tc_say(s, "connect ok");
		tc_sess_hold(s);
		return;
	}
	if (tlsclient_tls(&s->tc, tls_ctx, opts->servername) == -1 ||
	    (opts->abort_hs && !tc_ssl_set_abort_bio(s))) {
		tc_sess_fail(s, "cannot create TLS session");
		return;
	}
	s->state = TC_HANDSHAKING;
}

static void
tc_step_handshaking(struct tc_sess *s)
{
	enum tlsclient_io	 io;
	char			 reason[160];

	if ((io = tlsclient_handshake(&s->tc, reason, sizeof(reason))) ==
	    TLSCLIENT_OK) {
		s->state = TC_SETTLING;
		s->deadline = tc_now_ms() + opts->settle_ms;
		s->events = POLLIN;
		return;
	}
	if (io != TLSCLIENT_CLOSED) {
		tc_sess_want(s, io);
		/* The first call that waits has written the ClientHello. */
		s->hello_sent = 1;
		return;
	}
	tc_sess_fail(s, reason);
}

/*
 * Read whatever the server sends: discarded, or handed to the CoT side in
 * CoT mode.  Returns 1 while the session is open (or when the CoT side
 * ended it: state TC_DONE), 0 when the server ended it (reason set).
 */
static int
tc_sess_read(struct tc_sess *s, char *reason, size_t len)
{
	enum tlsclient_io	 io;
	char			 buf[16384];
	size_t			 n;

	for (;;) {
		io = tlsclient_read(&s->tc, buf, sizeof(buf), &n, reason, len);
		if (io == TLSCLIENT_OK) {
			s->replied = 1;
			tc_cot_received(s, buf, n);
			if (s->state == TC_DONE)
				return (1);
			continue;
		}
		if (io == TLSCLIENT_CLOSED)
			return (0);
		tc_sess_want(s, io);
		return (1);
	}
}

static void
tc_step_settling(struct tc_sess *s, long now)
{
	char	 reason[160];

	int	 open;

	/* A ticket before the close still means we were accepted. */
	open = tc_sess_read(s, reason, sizeof(reason));
	if (s->state == TC_DONE)
		return;
	if (!open && !tc_sess_replied(s)) {
		tc_sess_fail(s, reason);
		return;
	}
	if (open && !tc_sess_replied(s) && now < s->deadline)
		return;
	tc_say(s, "handshake ok %s", SSL_get_version(s->tc.ssl));
	tc_sess_hold(s);
	if (!open && (s->state == TC_HOLDING || s->state == TC_STREAMING))
		tc_sess_closed_early(s, reason);
}

static void
tc_step_holding(struct tc_sess *s, long now)
{
	char	 reason[160];

	if (!tc_sess_read(s, reason, sizeof(reason))) {
		tc_sess_closed_early(s, reason);
		return;
	}
	if (now >= s->deadline) {
		if (opts->hold_ms > 0)
			tc_say(s, "held %ld ms", now - s->t_hold);
		tc_sess_close(s, TC_EXIT_OK);
	}
}

/*
 * --abort-handshake: the server answered our ClientHello (it now holds a TLS
 * session for us and waits for our certificate); hang up without a word.
 * Odd sessions reset the connection, even ones close it (FIN, after reading
 * what has come: unread data would make the close a reset too), so that
 * both ways a peer can vanish are exercised.
 */
static void
tc_sess_abort(struct tc_sess *s)
{
	struct linger	 lg = { 1, 0 };
	char		 c, buf[4096], reason[128];
	ssize_t		 n;
	int		 rst = s->id % 2;

	while ((n = recv(s->tc.fd, &c, 1, MSG_PEEK)) == -1 && errno == EINTR)
		;
	if (n <= 0) {
		snprintf(reason, sizeof(reason), "closed by server before "
		    "its reply to the ClientHello%s%s", n == -1 ? ": " : "",
		    n == -1 ? strerror(errno) : "");
		tc_sess_fail(s, reason);
		return;
	}
	if (rst && setsockopt(s->tc.fd, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)) == -1) {
		snprintf(reason, sizeof(reason), "SO_LINGER: %s",
		    strerror(errno));
		tc_sess_fail(s, reason);
		return;
	}
	while (!rst && (n = recv(s->tc.fd, buf, sizeof(buf), 0)) > 0)
		;
	tc_say(s, "handshake aborted (%s)", rst ? "reset" : "closed");
	tlsclient_close(&s->tc, 0);	/* no alert, no close_notify */
	tc_sess_close(s, TC_EXIT_OK);
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
	if (s->state == TC_HANDSHAKING && opts->abort_hs && s->hello_sent &&
	    revents != 0) {
		tc_sess_abort(s);
		return;
	}
	/* A paused reader polls for nothing; a hangup ends its pause. */
	if (s->state == TC_STREAMING && (revents & (POLLHUP | POLLERR)) &&
	    tc_cot_paused(s->cot, now))
		s->cot->step_deadline = now;
	switch (s->state) {
	case TC_CONNECTING:
		tc_step_connecting(s);
		if (s->state != TC_HANDSHAKING)
			break;
		/* FALLTHROUGH */
	case TC_HANDSHAKING:
		tc_step_handshaking(s);
		if (s->state != TC_SETTLING || opts->abort_hs)
			break;
		/* FALLTHROUGH */
	case TC_SETTLING:
		tc_step_settling(s, tc_now_ms());
		break;
	case TC_HOLDING:
		tc_step_holding(s, now);
		break;
	case TC_STREAMING:
		tc_step_streaming(s, now);
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
	unsigned	 nfail = 0, nclosed = 0, nunmet = 0;
	long		 now, wait;

	window = !opts->parallel ? 1 : opts->window > 0 &&
	    opts->window < opts->count ? opts->window : opts->count;
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
			pfd[n].fd = ss[i].tc.fd;
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
			nunmet += ss[first].result == TC_EXIT_UNMET;
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
	if (opts->cot)
		return (ss[0].result);
	if (nfail > 0)
		return (TC_EXIT_FAIL);
	if (nclosed > 0)
		return (TC_EXIT_CLOSED);
	return (nunmet > 0 ? TC_EXIT_UNMET : TC_EXIT_OK);
}

/* --- CoT mode: templates ----------------------------------------------- */

/* Read a whole file; NULL (and a message) on error.  Always NUL-terminated. */
static char *
tc_file_load(const char *path, size_t *lenp)
{
	struct stat	 st;
	char		*buf = NULL;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode) || st.st_size > TC_MAX_FILE) {
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	while (len < (size_t)st.st_size &&
	    (n = read(fd, buf + len, (size_t)st.st_size - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	*lenp = len;
	return (buf);
fail:
	fprintf(stderr, "takclient: %s: %s\n", path, strerror(errno));
	free(buf);
	if (fd != -1)
		close(fd);
	return (NULL);
}

/* ISO 8601 UTC with milliseconds, as CoT writes it. */
static void
tc_iso_time(long offset_ms, char *buf, size_t len)
{
	struct timespec	 ts;
	struct tm	 tm;
	time_t		 t;
	long		 ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (long)(ts.tv_nsec / 1000000) + offset_ms % 1000;
	t = ts.tv_sec + offset_ms / 1000 + (ms < 0 ? -1 : ms / 1000);
	ms = (ms + 1000) % 1000;
	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ms);
}

/*
 * The value of placeholder p ("@NOW@" ...) into buf; 0 if p is not one.
 * The identity placeholders need --uid and --callsign (checked at load).
 */
static int
tc_tmpl_value(const char *p, size_t plen, unsigned seq, char *buf,
    size_t len)
{
	if (plen == 5 && memcmp(p, "@SEQ@", 5) == 0)
		snprintf(buf, len, "%u", seq);
	else if (plen == 5 && memcmp(p, "@NOW@", 5) == 0)
		tc_iso_time(0, buf, len);
	else if (plen == 7 && memcmp(p, "@STALE@", 7) == 0)
		tc_iso_time(TC_STALE_MS, buf, len);
	else if (plen == 6 && memcmp(p, "@PAST@", 6) == 0)
		tc_iso_time(-TC_PAST_MS, buf, len);
	else if (plen == 5 && memcmp(p, "@UID@", 5) == 0)
		snprintf(buf, len, "%s", opts->uid != NULL ? opts->uid : "");
	else if (plen == 10 && memcmp(p, "@CALLSIGN@", 10) == 0)
		snprintf(buf, len, "%s", opts->callsign != NULL ?
		    opts->callsign : "");
	else
		return (0);
	return (1);
}

/* A template using @UID@ or @CALLSIGN@ needs the option that fills it. */
static int
tc_tmpl_check(const char *data, const char *path)
{
	if (strstr(data, "@UID@") != NULL && opts->uid == NULL) {
		fprintf(stderr, "takclient: %s uses @UID@: give --uid\n", path);
		return (-1);
	}
	if (strstr(data, "@CALLSIGN@") != NULL && opts->callsign == NULL) {
		fprintf(stderr, "takclient: %s uses @CALLSIGN@: give "
		    "--callsign\n", path);
		return (-1);
	}
	return (0);
}

static int
tc_tx_append(struct tc_cot *c, const char *p, size_t n)
{
	char	*nb;
	size_t	 cap;

	if (n == 0)
		return (0);
	if (c->tx_off > 0 && c->tx_off == c->tx_len)
		c->tx_off = c->tx_len = 0;
	if (c->tx_len + n > c->tx_cap) {
		cap = c->tx_cap == 0 ? 4096 : c->tx_cap;
		while (cap < c->tx_len + n)
			cap *= 2;
		if ((nb = realloc(c->tx, cap)) == NULL)
			return (-1);
		c->tx = nb;
		c->tx_cap = cap;
	}
	memcpy(c->tx + c->tx_len, p, n);
	c->tx_len += n;
	return (0);
}

/* Queue a template with its placeholders filled; @SEQ@ counts sends. */
static int
tc_tmpl_send(struct tc_cot *c, const char *data, size_t len)
{
	const char	*p, *at, *end = data + len;
	char		 val[TC_UID_MAX];
	unsigned	 seq = ++c->seq;

	for (p = data; p < end; ) {
		if ((at = memchr(p, '@', (size_t)(end - p))) == NULL)
			return (tc_tx_append(c, p, (size_t)(end - p)));
		if (tc_tx_append(c, p, (size_t)(at - p)) == -1)
			return (-1);
		p = at + 1;
		while (p < end && *p != '@' && p - at < 12)
			p++;
		if (p < end && *p == '@' && tc_tmpl_value(at,
		    (size_t)(p - at) + 1, seq, val, sizeof(val))) {
			if (tc_tx_append(c, val, strlen(val)) == -1)
				return (-1);
			p++;
		} else {
			if (tc_tx_append(c, at, 1) == -1)
				return (-1);
			p = at + 1;
		}
	}
	return (0);
}

/* --- CoT mode: received events ------------------------------------------ */

/* The value of attribute name in the start tag at tag (len bytes on). */
static void
tc_attr_get(const char *tag, size_t len, const char *name, char *out,
    size_t outlen)
{
	const char	*p = tag, *end = tag + len, *n0, *v0;
	size_t		 nlen, vlen;
	char		 q;

	out[0] = '\0';
	while (p < end && *p != ' ' && *p != '\t' && *p != '\r' &&
	    *p != '\n' && *p != '>')
		p++;	/* "<event" */
	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
		    *p == '\n'))
			p++;
		if (p >= end || *p == '>' || *p == '/')
			return;
		for (n0 = p; p < end && *p != '=' && *p != ' ' && *p != '>';)
			p++;
		nlen = (size_t)(p - n0);
		while (p < end && *p == ' ')
			p++;
		if (p >= end || *p != '=')
			return;
		for (p++; p < end && *p == ' '; p++)
			continue;
		if (p >= end || (*p != '"' && *p != '\''))
			return;
		q = *p++;
		for (v0 = p; p < end && *p != q; p++)
			continue;
		if (p >= end)
			return;
		vlen = (size_t)(p++ - v0);
		if (nlen == strlen(name) && memcmp(n0, name, nlen) == 0) {
			if (vlen >= outlen)
				vlen = outlen - 1;
			memcpy(out, v0, vlen);
			out[vlen] = '\0';
			return;
		}
	}
}

/* Where "<event" (followed by a blank, '>' or '/') starts in b, or len. */
static size_t
tc_event_start(const char *b, size_t len)
{
	const char	*p = b, *end = b + len;

	while ((p = memmem(p, (size_t)(end - p), "<event", 6)) != NULL) {
		if (p + 6 < end && strchr(" \t\r\n>/", p[6]) != NULL)
			return ((size_t)(p - b));
		p += 6;
	}
	return (len);
}

static int
tc_filter_match(const struct tc_filter *f, const struct tc_event *e,
    const char *uid)
{
	size_t	 i;

	if (f->type != NULL && strcmp(f->type, e->type) != 0)
		return (0);
	for (i = 0; i < f->n_grep; i++)
		if (memmem(e->bytes, e->len, f->grep[i],
		    strlen(f->grep[i])) == NULL)
			return (0);
	if (uid != NULL)
		return (strcmp(uid, e->uid) == 0);
	if (f->n_uid == 0)
		return (1);
	for (i = 0; i < f->n_uid; i++)
		if (strcmp(f->uid[i], e->uid) == 0)
			return (1);
	return (0);
}

/* "uid=A uid=B type=T grep=S", for messages. */
static void
tc_filter_describe(const struct tc_filter *f, char *buf, size_t len)
{
	size_t	 i, o = 0;

	buf[0] = '\0';
#define TC_ADD(...) do {						\
	if (o < len)							\
		o += (size_t)snprintf(buf + o, len - o, __VA_ARGS__);	\
} while (0)
	if (f->type != NULL)
		TC_ADD(" type=%s", f->type);
	for (i = 0; i < f->n_uid; i++)
		TC_ADD(" uid=%s", f->uid[i]);
	for (i = 0; i < f->n_grep; i++)
		TC_ADD(" grep='%s'", f->grep[i]);
	if (o == 0)
		TC_ADD(" any event");
#undef TC_ADD
}

/* One event per line: from "<event" on, line breaks as blanks. */
static void
tc_event_print(const struct tc_event *e)
{
	size_t	 i;

	for (i = e->off < e->len ? e->off : 0; i < e->len; i++)
		putchar(e->bytes[i] == '\n' || e->bytes[i] == '\r' ? ' ' :
		    e->bytes[i]);
	putchar('\n');
	fflush(stdout);
}

static void
tc_cot_fail(struct tc_sess *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* An expectation failed: say what and what came, and end the session. */
static void
tc_cot_fail(struct tc_sess *s, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	tc_cot_report(s->cot);
	tc_sess_close(s, TC_EXIT_UNMET);
}

static void
tc_forbid_check(struct tc_sess *s, const struct tc_filter *f,
    const struct tc_event *e)
{
	char	 what[512];

	if (!tc_filter_match(f, e, NULL))
		return;
	tc_filter_describe(f, what, sizeof(what));
	tc_cot_fail(s, "forbidden event received after %ld ms (forbid%s): "
	    "uid=%s type=%s", e->at, what, e->uid, e->type);
}

/* A whole event arrived: keep it, print it, check the forbids. */
static int
tc_event_add(struct tc_sess *s, const char *b, size_t len)
{
	struct tc_cot	*c = s->cot;
	struct tc_event	*e;
	size_t		 i, cap;

	if (c->n_ev == c->ev_cap) {
		cap = c->ev_cap == 0 ? 64 : c->ev_cap * 2;
		if ((e = realloc(c->ev, cap * sizeof(*e))) == NULL)
			return (-1);
		c->ev = e;
		c->ev_cap = cap;
	}
	e = &c->ev[c->n_ev];
	if ((e->bytes = malloc(len + 1)) == NULL)
		return (-1);
	memcpy(e->bytes, b, len);
	e->bytes[len] = '\0';
	e->len = len;
	e->at = tc_now_ms() - c->t0;
	e->off = tc_event_start(b, len);
	tc_attr_get(b + e->off, len - e->off, "uid", e->uid, sizeof(e->uid));
	tc_attr_get(b + e->off, len - e->off, "type", e->type,
	    sizeof(e->type));
	c->n_ev++;
	if (opts->print)
		tc_event_print(e);
	for (i = 0; i < c->n_forbid && s->state != TC_DONE; i++)
		tc_forbid_check(s, c->forbid[i], e);
	return (0);
}

/* Bytes from the server: to --out as they are, then cut into events. */
static void
tc_cot_received(struct tc_sess *s, const char *buf, size_t n)
{
	struct tc_cot	*c = s->cot;
	const char	*end;
	size_t		 cap, elen, from;
	char		*nb;

	if (c == NULL || s->state == TC_DONE)
		return;
	if (c->out != NULL && (fwrite(buf, 1, n, c->out) != n ||
	    fflush(c->out) != 0)) {
		fprintf(stderr, "takclient: %s: %s\n", opts->out,
		    strerror(errno));
		tc_sess_close(s, TC_EXIT_USAGE);
		return;
	}
	if ((c->rx_total += n) > TC_MAX_RX)
		goto nomem;
	if (c->rx_len + n > c->rx_cap) {
		for (cap = c->rx_cap == 0 ? 16384 : c->rx_cap;
		    cap < c->rx_len + n; cap *= 2)
			continue;
		if ((nb = realloc(c->rx, cap)) == NULL)
			goto nomem;
		c->rx = nb;
		c->rx_cap = cap;
	}
	memcpy(c->rx + c->rx_len, buf, n);
	c->rx_len += n;
	from = 0;
	while (s->state != TC_DONE && (end = memmem(c->rx + c->rx_scan,
	    c->rx_len - c->rx_scan, TC_END_TAG, sizeof(TC_END_TAG) - 1)) !=
	    NULL) {
		elen = (size_t)(end - c->rx) + sizeof(TC_END_TAG) - 1;
		if (tc_event_add(s, c->rx + from, elen - from) == -1)
			goto nomem;
		from = c->rx_scan = elen;
	}
	memmove(c->rx, c->rx + from, c->rx_len - from);
	c->rx_len -= from;
	/* "</event>" may straddle two reads: rescan its length less one. */
	c->rx_scan = c->rx_len < sizeof(TC_END_TAG) - 1 ? 0 :
	    c->rx_len - (sizeof(TC_END_TAG) - 2);
	return;
nomem:
	if (s->state != TC_DONE) {
		fprintf(stderr, "takclient: out of memory for events\n");
		tc_sess_close(s, TC_EXIT_USAGE);
	}
}

static int
tc_event_same(const struct tc_event *a, const struct tc_event *b)
{
	return (strcmp(a->uid, b->uid) == 0 && strcmp(a->type, b->type) == 0);
}

/*
 * What came since the mark, for a failed expectation: one line per uid and
 * type, in the order they first came.
 */
static void
tc_cot_report(const struct tc_cot *c)
{
	size_t	 i, j, n, groups = 0;
	long	 last;

	printf("received %zu events, %zu since the last mark%s\n", c->n_ev,
	    c->n_ev - c->mark, c->n_ev > c->mark ? ":" : "");
	for (i = c->mark; i < c->n_ev; i++) {
		for (j = c->mark; j < i && !tc_event_same(&c->ev[j],
		    &c->ev[i]); j++)
			continue;
		if (j < i)
			continue;	/* listed with its first */
		if (++groups > TC_REPORT_MAX) {
			printf("  ...\n");
			break;
		}
		for (j = i, n = 0, last = 0; j < c->n_ev; j++) {
			if (!tc_event_same(&c->ev[j], &c->ev[i]))
				continue;
			n++;
			last = c->ev[j].at;
		}
		printf("  %4zu x uid=%s type=%s (at %ld", n, c->ev[i].uid,
		    c->ev[i].type, c->ev[i].at);
		if (n > 1)
			printf(" .. %ld", last);
		printf(" ms)\n");
	}
	fflush(stdout);
}

/* --- CoT mode: steps ----------------------------------------------------- */

/* Does expect step st hold on the events since the mark? */
static int
tc_expect_holds(const struct tc_cot *c, const struct tc_step *st,
    char *why, size_t len)
{
	size_t		 i, u, n, nu = st->f.n_uid > 0 ? st->f.n_uid : 1;
	size_t		 o = 0;
	int		 ok = 1;

	why[0] = '\0';
	for (u = 0; u < nu; u++) {
		const char *uid = st->f.n_uid > 0 ? st->f.uid[u] : NULL;

		for (i = c->mark, n = 0; i < c->n_ev; i++)
			n += tc_filter_match(&st->f, &c->ev[i], uid);
		if (n >= st->count)
			continue;
		ok = 0;
		if (o < len)
			o += (size_t)snprintf(why + o, len - o, "%s%s%s: %zu "
			    "of %u", o > 0 ? ", " : "", uid != NULL ? "uid=" :
			    "matching", uid != NULL ? uid : "", n, st->count);
	}
	return (ok);
}

/* The first event since the mark matching the filter of st, or NULL. */
static const struct tc_event *
tc_find_since_mark(const struct tc_cot *c, const struct tc_step *st)
{
	size_t	 i;

	for (i = c->mark; i < c->n_ev; i++)
		if (tc_filter_match(&st->f, &c->ev[i], NULL))
			return (&c->ev[i]);
	return (NULL);
}

static const char *
tc_step_where(const struct tc_step *st, char *buf, size_t len)
{
	if (st->line == 0)
		return ("");
	snprintf(buf, len, " (%s line %d)", opts->script, st->line);
	return (buf);
}

/*
 * max-gap: the longest wait between two events matching st's filter since
 * the mark, printed; the session fails when it is over st->ms or fewer than
 * two such events came (nothing was measured).
 */
static void
tc_gap_check(struct tc_sess *s, const struct tc_step *st)
{
	const struct tc_cot	*c = s->cot;
	const struct tc_event	*prev = NULL;
	char			 what[512], where[256];
	size_t			 i, n = 0;
	long			 gap = -1, at = 0;

	for (i = c->mark; i < c->n_ev; i++) {
		if (!tc_filter_match(&st->f, &c->ev[i], NULL))
			continue;
		n++;
		if (prev != NULL && c->ev[i].at - prev->at > gap) {
			gap = c->ev[i].at - prev->at;
			at = prev->at;
		}
		prev = &c->ev[i];
	}
	tc_filter_describe(&st->f, what, sizeof(what));
	printf("longest gap %ld ms (from %ld ms on) between %zu events:%s\n",
	    gap, at, n, what);
	fflush(stdout);
	if (n < 2 || gap > st->ms)
		tc_cot_fail(s, "max-gap %ld failed:%s%s", st->ms, what,
		    tc_step_where(st, where, sizeof(where)));
}

/* Start step st: 1 when it is over at once, 0 when it runs on, -1 failed. */
static int
tc_step_begin(struct tc_sess *s, const struct tc_step *st, long now)
{
	struct tc_cot		*c = s->cot;
	size_t			 i;
	int			 fd;

	c->step_t0 = now;
	c->step_deadline = now + st->ms;
	switch (st->op) {
	case TC_OP_SEND:
		return (tc_tmpl_send(c, st->data, st->len) == 0 ? 1 : -1);
	case TC_OP_EVERY:
		c->every = st;
		c->every_sent = 0;
		c->every_next = now;
		return (1);
	case TC_OP_FORBID:
		if (c->n_forbid == TC_MAX_FORBID)
			return (-1);
		c->forbid[c->n_forbid++] = &st->f;
		for (i = 0; i < c->n_ev && s->state != TC_DONE; i++)
			tc_forbid_check(s, &st->f, &c->ev[i]);
		return (s->state == TC_DONE ? 0 : 1);
	case TC_OP_MARK:
		c->mark = c->n_ev;
		return (1);
	case TC_OP_GAP:
		tc_gap_check(s, st);
		return (s->state == TC_DONE ? 0 : 1);
	case TC_OP_TOUCH:
		if ((fd = open(st->path, O_WRONLY | O_CREAT | O_CLOEXEC,
		    0644)) == -1) {
			fprintf(stderr, "takclient: touch %s: %s\n", st->path,
			    strerror(errno));
			return (-1);
		}
		close(fd);
		return (1);
	default:	/* the waiting steps: tc_step_poll() */
		return (0);
	}
}

/* Step st runs on: 1 when it is over, 0 not yet (or the session ended). */
static int
tc_step_poll(struct tc_sess *s, const struct tc_step *st, long now)
{
	struct tc_cot		*c = s->cot;
	const struct tc_event	*e;
	char			 why[512], what[512], where[256];

	tc_filter_describe(&st->f, what, sizeof(what));
	switch (st->op) {
	case TC_OP_SLEEP:
	case TC_OP_PAUSE:
		return (now >= c->step_deadline);
	case TC_OP_WAITFILE:
		if (access(st->path, F_OK) == 0)
			return (1);
		if (now < c->step_deadline)
			return (0);
		tc_cot_fail(s, "wait-file %s: not there after %ld ms%s",
		    st->path, st->ms, tc_step_where(st, where, sizeof(where)));
		return (0);
	case TC_OP_NONE:
		if ((e = tc_find_since_mark(c, st)) != NULL) {
			tc_cot_fail(s, "expect-none failed (%s): uid=%s "
			    "type=%s arrived at %ld ms%s", what + 1, e->uid,
			    e->type, e->at, tc_step_where(st, where,
			    sizeof(where)));
			return (0);
		}
		return (now >= c->step_deadline);
	case TC_OP_EXPECT:
		if (tc_expect_holds(c, st, why, sizeof(why))) {
			tc_say(s, "expect ok after %ld ms:%s count=%u",
			    now - c->step_t0, what, st->count);
			return (1);
		}
		if (now < c->step_deadline)
			return (0);
		tc_cot_fail(s, "expect failed after %ld ms:%s count=%u%s: "
		    "%s", now - c->step_t0, what, st->count,
		    tc_step_where(st, where, sizeof(where)), why);
		return (0);
	default:
		return (1);
	}
}

/* Periodic sends of send-every; returns -1 when out of memory. */
static int
tc_every_run(struct tc_cot *c, long now)
{
	const struct tc_step	*st = c->every;

	if (st == NULL || now < c->every_next)
		return (0);
	if (st->count > 0 && c->every_sent >= st->count) {
		c->every = NULL;
		return (0);
	}
	if (tc_tmpl_send(c, st->data, st->len) == -1)
		return (-1);
	c->every_sent++;
	/* Keep the beat even when a poll woke late. */
	c->every_next += st->ms;
	if (c->every_next < now)
		c->every_next = now + st->ms;
	return (0);
}

/* Run the steps as far as they go now. */
static void
tc_cot_advance(struct tc_sess *s, long now)
{
	struct tc_cot		*c = s->cot;
	const struct tc_step	*st;
	int			 r;

	while (s->state == TC_STREAMING && c->cur < c->n_steps) {
		st = &c->steps[c->cur];
		if (st->op == TC_OP_CLOSE) {
			c->cur = c->n_steps;
			break;
		}
		if (c->started)
			r = tc_step_poll(s, st, now);
		else {
			c->started = 1;
			r = tc_step_begin(s, st, now);
			/* What came before the step may settle it now. */
			if (r == 0 && s->state == TC_STREAMING)
				r = tc_step_poll(s, st, now);
		}
		if (r == -1) {
			tc_sess_close(s, TC_EXIT_USAGE);
			return;
		}
		if (r == 0)
			break;
		c->cur++;
		c->started = 0;
	}
	if (s->state == TC_STREAMING && tc_every_run(c, now) == -1)
		tc_sess_close(s, TC_EXIT_USAGE);
}

/*
 * Send what is queued.  Returns 1 while the session is open, 0 when the
 * server ended it (reason set).
 */
static int
tc_cot_flush(struct tc_sess *s, char *reason, size_t len)
{
	struct tc_cot		*c = s->cot;
	enum tlsclient_io	 io;
	size_t			 n;

	c->want_write = 0;
	while (c->tx_off < c->tx_len) {
		io = tlsclient_write(&s->tc, c->tx + c->tx_off,
		    c->tx_len - c->tx_off, &n, reason, len);
		if (io == TLSCLIENT_CLOSED)
			return (0);
		if (io != TLSCLIENT_OK) {
			c->want_write = 1;
			return (1);
		}
		c->tx_off += n;
	}
	return (1);
}

/* A pause step runs: what the server sends stays in the socket. */
static int
tc_cot_paused(const struct tc_cot *c, long now)
{
	return (c->cur < c->n_steps && c->started &&
	    c->steps[c->cur].op == TC_OP_PAUSE && now < c->step_deadline);
}

static void
tc_step_streaming(struct tc_sess *s, long now)
{
	struct tc_cot	*c = s->cot;
	char		 reason[160];
	long		 next;
	int		 open = 1;

	if (!tc_cot_paused(c, now))
		open = tc_sess_read(s, reason, sizeof(reason));
	if (s->state == TC_DONE)
		return;
	/* What came with the server's close may still meet the steps. */
	tc_cot_advance(s, now);
	if (s->state != TC_STREAMING)
		return;
	if (!open) {
		if (c->cur < c->n_steps)
			tc_sess_closed_early(s, reason);
		else
			tc_sess_close(s, TC_EXIT_OK);
		return;
	}
	if (!tc_cot_flush(s, reason, sizeof(reason))) {
		tc_sess_closed_early(s, reason);
		return;
	}
	if (c->cur == c->n_steps && c->tx_off == c->tx_len) {
		tc_sess_close(s, TC_EXIT_OK);
		return;
	}
	s->events = (tc_cot_paused(c, now) ? 0 : POLLIN) |
	    (c->want_write ? POLLOUT : 0);
	next = now + 60000;
	if (c->cur < c->n_steps) {
		switch (c->steps[c->cur].op) {
		case TC_OP_WAITFILE:
			next = now + TC_POLL_FILE_MS;
			/* FALLTHROUGH */
		case TC_OP_SLEEP:
		case TC_OP_PAUSE:
		case TC_OP_EXPECT:
		case TC_OP_NONE:
			if (c->step_deadline < next)
				next = c->step_deadline;
			break;
		default:
			next = now;
			break;
		}
	}
	if (c->every != NULL && c->every_next < next)
		next = c->every_next;
	s->deadline = next;
}

static void
tc_cot_start(struct tc_sess *s)
{
	s->state = TC_STREAMING;
	s->events = POLLIN;
	s->deadline = s->t_hold;	/* run the first steps at once */
}

/* --- CoT mode: the steps from a script or the command line --------------- */

/*
 * Split a line into words at blanks; a word may quote blanks with '...' or
 * "..." (the quotes are removed).  Returns the number of words, -1 if too
 * many or a quote is not closed.
 */
static int
tc_split(char *line, char **word, int max)
{
	char	*r = line, *w, q;
	int	 n = 0;

	for (;;) {
		while (*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n')
			r++;
		if (*r == '\0' || *r == '#')
			return (n);
		if (n == max)
			return (-1);
		word[n++] = w = r;
		while (*r != '\0' && *r != ' ' && *r != '\t' && *r != '\r' &&
		    *r != '\n') {
			if (*r == '"' || *r == '\'') {
				q = *r++;
				while (*r != '\0' && *r != q)
					*w++ = *r++;
				if (*r++ != q)
					return (-1);
			} else
				*w++ = *r++;
		}
		if (*r != '\0')
			r++;
		*w = '\0';
	}
}

static int
tc_parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char	*end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    *v > max ? -1 : 0);
}

/* One "key=value" term of a filter; count= and within= where allowed. */
static int
tc_filter_term(struct tc_step *st, char *term)
{
	unsigned long	 v;
	char		*val;

	int		 filter, expect;

	filter = st->op == TC_OP_EXPECT || st->op == TC_OP_NONE ||
	    st->op == TC_OP_FORBID || st->op == TC_OP_GAP;
	expect = st->op == TC_OP_EXPECT;
	if ((val = strchr(term, '=')) == NULL || val[1] == '\0')
		return (-1);
	*val++ = '\0';
	if (filter && strcmp(term, "uid") == 0 && st->f.n_uid < TC_MAX_TERMS)
		st->f.uid[st->f.n_uid++] = val;
	else if (filter && strcmp(term, "grep") == 0 &&
	    st->f.n_grep < TC_MAX_TERMS)
		st->f.grep[st->f.n_grep++] = val;
	else if (filter && strcmp(term, "type") == 0 && st->f.type == NULL)
		st->f.type = val;
	else if (strcmp(term, "count") == 0 && (expect ||
	    st->op == TC_OP_EVERY) && tc_parse_uint(val, 1000000, &v) == 0 &&
	    (v > 0 || !expect))
		st->count = (unsigned)v;
	else if (strcmp(term, "within") == 0 && (filter || st->op ==
	    TC_OP_WAITFILE) && st->op != TC_OP_FORBID &&
	    st->op != TC_OP_GAP &&
	    tc_parse_uint(val, 86400000, &v) == 0)
		st->ms = (long)v;
	else
		return (-1);
	return (0);
}

static const struct {
	const char	*name;
	enum tc_op	 op;
	int		 args;		/* words before the terms */
	int		 terms;		/* key=value terms allowed */
} tc_ops[] = {
	{ "send",	TC_OP_SEND,	1, 0 },
	{ "send-every",	TC_OP_EVERY,	2, 1 },
	{ "sleep",	TC_OP_SLEEP,	1, 0 },
	{ "expect",	TC_OP_EXPECT,	0, 1 },
	{ "expect-none", TC_OP_NONE,	0, 1 },
	{ "forbid",	TC_OP_FORBID,	0, 1 },
	{ "mark",	TC_OP_MARK,	0, 0 },
	{ "wait-file",	TC_OP_WAITFILE,	1, 1 },
	{ "touch",	TC_OP_TOUCH,	1, 0 },
	{ "pause",	TC_OP_PAUSE,	1, 0 },
	{ "max-gap",	TC_OP_GAP,	1, 1 },
	{ "close",	TC_OP_CLOSE,	0, 0 },
};

/* Load the file a send or send-every step sends. */
static int
tc_step_load(struct tc_step *st, const char *path)
{
	st->path = path;
	if ((st->data = tc_file_load(path, &st->len)) == NULL)
		return (-1);
	return (tc_tmpl_check(st->data, path));
}

/* Fill st from the words of one script line. */
static int
tc_step_parse(struct tc_step *st, char **w, int n)
{
	unsigned long	 v;
	size_t		 k;
	int		 i;

	for (k = 0; k < sizeof(tc_ops) / sizeof(tc_ops[0]); k++)
		if (strcmp(w[0], tc_ops[k].name) == 0)
			break;
	if (k == sizeof(tc_ops) / sizeof(tc_ops[0]) || n - 1 < tc_ops[k].args ||
	    (!tc_ops[k].terms && n - 1 > tc_ops[k].args))
		return (-1);
	st->op = tc_ops[k].op;
	st->count = st->op == TC_OP_EXPECT ? 1 : 0;
	st->ms = st->op == TC_OP_WAITFILE ? TC_WAITFILE_MS : opts->wait_ms;
	if (st->op == TC_OP_SLEEP || st->op == TC_OP_PAUSE ||
	    st->op == TC_OP_EVERY || st->op == TC_OP_GAP) {
		if (tc_parse_uint(w[1], 86400000, &v) == -1 ||
		    (st->op == TC_OP_EVERY && v == 0))
			return (-1);
		st->ms = (long)v;
	}
	if (st->op == TC_OP_WAITFILE || st->op == TC_OP_TOUCH)
		st->path = w[1];
	for (i = 1 + tc_ops[k].args; i < n; i++)
		if (tc_filter_term(st, w[i]) == -1)
			return (-1);
	if (st->op == TC_OP_FORBID && st->f.type == NULL &&
	    st->f.n_uid == 0 && st->f.n_grep == 0)
		return (-1);	/* forbid everything: say expect-none */
	if (st->op == TC_OP_SEND || st->op == TC_OP_EVERY)
		return (tc_step_load(st, w[st->op == TC_OP_EVERY ? 2 : 1]) ==
		    -1 ? -2 : 0);
	return (0);
}

static struct tc_step *
tc_steps_add(struct tc_cot *c)
{
	struct tc_step	*st;

	if (c->n_steps == TC_MAX_STEPS) {
		fprintf(stderr, "takclient: more than %d steps\n",
		    TC_MAX_STEPS);
		return (NULL);
	}
	st = &c->steps[c->n_steps++];
	memset(st, 0, sizeof(*st));
	return (st);
}

static int
tc_script_load(struct tc_cot *c, const char *path)
{
	struct tc_step	*st;
	char		*buf, *line, *next, *w[2 * TC_MAX_TERMS + 4];
	size_t		 len;
	int		 n, lineno = 0, r = 0;

	if ((buf = tc_file_load(path, &len)) == NULL)
		return (-1);
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((st = tc_steps_add(c)) == NULL)
			goto fail;
		if ((st->text = strdup(line)) == NULL)
			goto fail;
		st->line = lineno;
		if ((n = tc_split(st->text, w, (int)(sizeof(w) /
		    sizeof(w[0])))) == 0) {
			free(st->text);
			c->n_steps--;
			continue;
		}
		if (n == -1 || (r = tc_step_parse(st, w, n)) == -1) {
			fprintf(stderr, "takclient: %s:%d: cannot read \"%s\""
			    "\n", path, lineno, line);
			goto fail;
		}
		if (r == -2)
			goto fail;	/* the file sent: already said */
	}
	free(buf);
	return (0);
fail:
	free(buf);
	return (-1);
}

/* The steps of the CoT options: forbids, sends, the expectation, hold. */
static int
tc_steps_from_options(struct tc_cot *c, const struct tc_opts *o)
{
	struct tc_step	*st;
	char		*w[TC_MAX_TERMS + 1];
	size_t		 i;
	int		 n, k;

	for (i = 0; i < o->n_forbid; i++) {
		if ((st = tc_steps_add(c)) == NULL ||
		    (st->text = strdup(o->forbid[i])) == NULL)
			return (-1);
		st->op = TC_OP_FORBID;
		n = tc_split(st->text, w, (int)(sizeof(w) / sizeof(w[0])));
		for (k = 0; k < n; k++)
			if (tc_filter_term(st, w[k]) == -1)
				n = -1;
		if (n <= 0) {
			fprintf(stderr, "takclient: --forbid wants "
			    "uid=, type= or grep= terms: %s\n", o->forbid[i]);
			return (-1);
		}
	}
	for (i = 0; i < o->n_send; i++) {
		if ((st = tc_steps_add(c)) == NULL)
			return (-1);
		st->op = o->every_ms > 0 ? TC_OP_EVERY : TC_OP_SEND;
		st->ms = o->every_ms;
		st->count = o->every_count;
		if (tc_step_load(st, o->send[i]) == -1)
			return (-1);
		if (o->every_ms > 0 && i > 0) {
			fprintf(stderr, "takclient: --send-every sends one "
			    "file\n");
			return (-1);
		}
	}
	if (o->have_expect) {
		if ((st = tc_steps_add(c)) == NULL)
			return (-1);
		st->op = TC_OP_EXPECT;
		st->f = o->expect;
		st->count = o->expect_count;
		st->ms = o->wait_ms;
	}
	if (o->hold_ms > 0) {
		if ((st = tc_steps_add(c)) == NULL)
			return (-1);
		st->op = TC_OP_SLEEP;
		st->ms = o->hold_ms;
	}
	return (0);
}

static void
tc_cot_free(struct tc_cot *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n_steps; i++) {
		free(c->steps[i].data);
		free(c->steps[i].text);
	}
	for (i = 0; i < c->n_ev; i++)
		free(c->ev[i].bytes);
	if (c->out != NULL && fclose(c->out) != 0)
		fprintf(stderr, "takclient: %s: %s\n", opts->out,
		    strerror(errno));
	free(c->steps);
	free(c->ev);
	free(c->rx);
	free(c->tx);
	c->magic = 0;
	free(c);
}

static struct tc_cot *
tc_cot_new(const struct tc_opts *o)
{
	struct tc_cot	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->steps = calloc(TC_MAX_STEPS, sizeof(*c->steps))) == NULL) {
		fprintf(stderr, "takclient: out of memory\n");
		free(c);
		return (NULL);
	}
	c->magic = TC_COT_MAGIC;
	if ((o->script != NULL ? tc_script_load(c, o->script) :
	    tc_steps_from_options(c, o)) == -1)
		goto fail;
	if (o->out != NULL && (c->out = fopen(o->out, "wbe")) == NULL) {
		fprintf(stderr, "takclient: %s: %s\n", o->out,
		    strerror(errno));
		goto fail;
	}
	return (c);
fail:
	tc_cot_free(c);
	return (NULL);
}

/* --- options --------------------------------------------------------------- */

static void
tc_usage(void)
{
	fprintf(stderr,
	    "usage: takclient --connect HOST:PORT [--cert FILE --key FILE "
	    "[--pass PASS] | --no-cert]\n"
	    "                 [--ca FILE [--servername NAME]] "
	    "[--timeout SEC] [--hold SEC] [--settle SEC]\n"
	    "                 [--count N [--parallel] [--window N]] "
	    "[--raw | --abort-handshake]\n"
	    "                 [--rcvbuf BYTES] [--bind ADDR] "
	    "[--quiet | --verbose]\n"
	    "  CoT mode:      [--plain] [--uid UID] [--callsign NAME] "
	    "[--send FILE]... [--send-every MS]\n"
	    "                 [--expect-count N] [--expect-uid UID]... "
	    "[--expect-type TYPE]\n"
	    "                 [--expect-grep STRING]... [--wait SEC] "
	    "[--forbid FILTER]...\n"
	    "                 [--print] [--out FILE] [--script FILE]\n");
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

/* Append to one of the repeatable options' lists. */
static int
tc_list_add(const char **list, size_t *n, size_t max, const char *v,
    const char *what)
{
	if (*n == max) {
		fprintf(stderr, "takclient: more than %zu %s\n", max, what);
		return (-1);
	}
	list[(*n)++] = v;
	return (0);
}

/* The options of CoT mode; 1 if ch is not one of them. */
static int
tc_parse_cot_arg(int ch, char *arg, struct tc_opts *o)
{
	unsigned long	 v;

	o->cot = 1;
	switch (ch) {
	case 'e':
		if (tc_parse_uint(arg, 86400000, &v) == -1 || v == 0) {
			fprintf(stderr, "takclient: --send-every wants "
			    "milliseconds: %s\n", arg);
			return (-1);
		}
		o->every_ms = (long)v;
		return (0);
	case 'X':
		if (tc_parse_uint(arg, 1000000, &v) == -1 || v == 0) {
			fprintf(stderr, "takclient: --expect-count wants "
			    "1..1000000: %s\n", arg);
			return (-1);
		}
		o->expect_count = (unsigned)v;
		o->have_expect = 1;
		return (0);
	case 'U':
		o->have_expect = 1;
		return (tc_list_add(o->expect.uid, &o->expect.n_uid,
		    TC_MAX_TERMS, arg, "--expect-uid"));
	case 'G':
		o->have_expect = 1;
		return (tc_list_add(o->expect.grep, &o->expect.n_grep,
		    TC_MAX_TERMS, arg, "--expect-grep"));
	case 'T':
		o->have_expect = 1;
		o->expect.type = arg;
		return (0);
	case 'W':
		return (tc_parse_seconds(arg, &o->wait_ms));
	case 'f':
		return (tc_list_add(o->send, &o->n_send, TC_MAX_STEPS, arg,
		    "--send"));
	case 'F':
		return (tc_list_add(o->forbid, &o->n_forbid, TC_MAX_FORBID,
		    arg, "--forbid"));
	case 'i': o->uid = arg; return (0);
	case 'l': o->callsign = arg; return (0);
	case 'o': o->out = arg; return (0);
	case 'x': o->print = 1; return (0);
	case 'R': o->script = arg; return (0);
	case 'L': o->plain = 1; return (0);
	default:
		o->cot = 0;
		return (1);
	}
}

/* What CoT mode's options mean together. */
static int
tc_check_cot(struct tc_opts *o)
{
	if (o->every_ms > 0 && o->n_send == 0) {
		fprintf(stderr, "takclient: --send-every needs --send\n");
		return (-1);
	}
	if (o->every_ms > 0) {		/* --count repeats the send */
		o->every_count = o->count > 1 ? o->count : 0;
		o->count = 1;
	}
	if (o->count > 1 || o->parallel || o->raw) {
		fprintf(stderr, "takclient: CoT mode runs one session "
		    "(no --count, --parallel or --raw)\n");
		return (-1);
	}
	if (o->script != NULL && (o->n_send > 0 || o->have_expect ||
	    o->n_forbid > 0 || o->hold_ms > 0)) {
		fprintf(stderr, "takclient: --script with --send, --expect-*, "
		    "--forbid or --hold\n");
		return (-1);
	}
	if (o->have_expect && o->expect_count == 0)
		o->expect_count = 1;
	if (o->plain) {
		o->no_cert = 1;
		o->cert = o->key = NULL;
	}
	return (0);
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
		{ "window",	required_argument,	NULL, 'w' },
		{ "abort-handshake", no_argument,	NULL, 'A' },
		{ "rcvbuf",	required_argument,	NULL, 'B' },
		{ "bind",	required_argument,	NULL, 'b' },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "plain",	no_argument,		NULL, 'L' },
		{ "send",	required_argument,	NULL, 'f' },
		{ "send-every",	required_argument,	NULL, 'e' },
		{ "expect-count", required_argument,	NULL, 'X' },
		{ "expect-uid",	required_argument,	NULL, 'U' },
		{ "expect-type", required_argument,	NULL, 'T' },
		{ "expect-grep", required_argument,	NULL, 'G' },
		{ "wait",	required_argument,	NULL, 'W' },
		{ "forbid",	required_argument,	NULL, 'F' },
		{ "print",	no_argument,		NULL, 'x' },
		{ "out",	required_argument,	NULL, 'o' },
		{ "uid",	required_argument,	NULL, 'i' },
		{ "callsign",	required_argument,	NULL, 'l' },
		{ "script",	required_argument,	NULL, 'R' },
		{ NULL,		0,			NULL, 0 }
	};
	char	*end;
	long	 n;
	int	 ch, cot = 0, r;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if ((r = tc_parse_cot_arg(ch, optarg, o)) == -1)
			return (-1);
		cot |= o->cot;
		if (r == 0)
			continue;
		switch (ch) {
		case 'C':
			if (tlsclient_hostport(optarg, &o->host, &o->port) ==
			    -1) {
				fprintf(stderr, "takclient: --connect wants "
				    "HOST:PORT: %s\n", optarg);
				return (-1);
			}
			break;
		case 'c': o->cert = optarg; break;
		case 'k': o->key = optarg; break;
		case 'P': o->pass = optarg; break;
		case 'a': o->ca = optarg; break;
		case 's': o->servername = optarg; break;
		case 'n': o->no_cert = 1; break;
		case 'p': o->parallel = 1; break;
		case 'r': o->raw = 1; break;
		case 'A': o->abort_hs = 1; break;
		case 'w':
		case 'B':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || n < 1 ||
			    n > (ch == 'w' ? TC_MAX_SESSIONS : 64 << 20)) {
				fprintf(stderr, "takclient: --%s wants 1..%d: "
				    "%s\n", ch == 'w' ? "window" : "rcvbuf",
				    ch == 'w' ? TC_MAX_SESSIONS : 64 << 20,
				    optarg);
				return (-1);
			}
			if (ch == 'w') {
				o->window = (unsigned)n;
				o->parallel = 1;
			} else
				o->rcvbuf = (int)n;
			break;
		case 'b': o->bind = optarg; break;
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
	o->cot = cot;
	if (optind != argc || o->host == NULL) {
		fprintf(stderr, "takclient: %s\n", optind != argc ?
		    "unexpected argument" : "--connect is required");
		return (-1);
	}
	if (o->cot && tc_check_cot(o) == -1)
		return (-1);
	if (o->abort_hs && (o->raw || o->cot || o->hold_ms > 0)) {
		fprintf(stderr, "takclient: --abort-handshake with --raw, "
		    "--hold or CoT mode\n");
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
		.wait_ms = TC_WAIT_MS,
	};
	struct addrinfo	 hints, *ai = NULL, *bi = NULL;
	struct tlsclient_conf tconf;
	struct tc_sess	*ss = NULL;
	struct tc_cot	*cot = NULL;
	char		 err[512];
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
	if (o.bind != NULL) {
		hints.ai_family = ai->ai_family;
		hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
		if ((e = getaddrinfo(o.bind, "0", &hints, &bi)) != 0) {
			fprintf(stderr, "takclient: --bind %s: %s\n", o.bind,
			    gai_strerror(e));
			goto done;
		}
		memcpy(&o.bind_ss, bi->ai_addr, bi->ai_addrlen);
		o.bind_len = bi->ai_addrlen;
		freeaddrinfo(bi);
	}
	if (o.cot && (cot = tc_cot_new(&o)) == NULL)
		goto done;
	if (!o.raw && !o.plain) {
		memset(&tconf, 0, sizeof(tconf));
		if (!o.no_cert) {
			tconf.cert = o.cert;
			tconf.key = o.key;
		}
		tconf.pass = o.pass;
		tconf.ca = o.ca;
		if ((tls_ctx = tlsclient_ctx_new(&tconf, err,
		    sizeof(err))) == NULL) {
			fprintf(stderr, "takclient: %s\n", err);
			goto done;
		}
	}
	if ((ss = calloc(o.count, sizeof(*ss))) == NULL) {
		fprintf(stderr, "takclient: out of memory\n");
		goto done;
	}
	for (i = 0; i < o.count; i++) {
		ss[i].magic = TC_SESS_MAGIC;
		ss[i].id = i + 1;
		tlsclient_init(&ss[i].tc, 0);
	}
	ss[0].cot = cot;
	rc = tc_run(ss, ai);
done:
	if (ss != NULL) {
		for (i = 0; i < o.count; i++) {
			if (ss[i].state != TC_DONE)
				tc_sess_close(&ss[i], TC_EXIT_FAIL);
			tlsclient_free(&ss[i].tc);
			ss[i].magic = 0;
		}
	}
	free(ss);
	tc_cot_free(cot);
	SSL_CTX_free(tls_ctx);
	freeaddrinfo(ai);
	return (rc);
}
