/*
 * The CRL in force.  The supervisor is the only process that reads the CRL
 * file, and it does so in a parser process of its own (crl_parser_main):
 * each new version is verified there (signature by the configured CA,
 * issuer, dates) and only a valid one becomes a generation, as the sealed
 * memfd of its revoked-serial set (shared/crlset.h) that the workers are
 * sent.  No process of takd keeps a parsed X509_CRL: a CRL of a million
 * entries would cost each 300 MB, and a worker seconds of its loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "shared/clock.h"
#include "shared/crlset.h"
#include "shared/log.h"
#include "shared/pkiutil.h"
#include "shared/trust.h"
#include "supervisor/cluster_proc.h"
#include "supervisor/crl.h"
#include "supervisor/crl_fetch.h"
#include "supervisor/notify.h"
#include "supervisor/reload.h"

/* What the parser process writes to its pipe, once. */
struct crl_parse_res {
	int32_t		 status;	/* 0: the set is in the memfd */
	int32_t		 zero;
	int64_t		 number;	/* its cRLNumber, -1: none (crl_fetch.c) */
	char		 hexnum[CRL_NUMBER_MAX];	/* hex, "" none (cluster) */
	char		 err[416];
};

_Static_assert(sizeof(struct crl_parse_res) <= PIPE_BUF, "one write");

static void	 crl_errf(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* A message cut to the buffer, a path in it or not. */
static void
crl_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void
crl_log_state(const struct sup *sup, const char *what, int64_t ms)
{
	const struct crl_info	*ci = &sup->crl.info;
	char			 next[32] = "never";
	time_t			 now = time(NULL);

	if (ci->next_update != 0)
		pki_time_format(ci->next_update, next, sizeof(next));
	log_info("CRL %s: generation %u, %zu entries (%zu revoked serials), "
	    "issuer %s, next update %s; read and verified in %lld ms", what,
	    ci->generation, ci->entries, crlset_count(sup->crl.crl),
	    ci->issuer, next, (long long)ms);
	if (ci->next_update != 0 && now > ci->next_update)
		log_warnx("CRL is stale: its nextUpdate %s has passed; renew it "
		    "(takctl crl renew)", next);
	else if (ci->next_update != 0 && ci->next_update - now <
	    (time_t)sup->cfg->crl_warn_days * 86400)
		log_warnx("CRL expires soon: nextUpdate %s", next);
}

/* The directory of the CRL file, into dir (PATH_MAX). */
static const char *
crl_dir(const struct sup *sup, char *dir)
{
	snprintf(dir, PATH_MAX, "%s", sup->cfg->crl);
	return (dirname(dir));
}

static int
crl_open_dir(struct sup *sup, char *err, size_t errlen)
{
	char	 dir[PATH_MAX], base[PATH_MAX], why[512];

	snprintf(base, sizeof(base), "%s", sup->cfg->crl);
	if (snprintf(sup->crl.name, sizeof(sup->crl.name), "%s",
	    basename(base)) >= (int)sizeof(sup->crl.name)) {
		crl_errf(err, errlen, "CRL file name too long: %s",
		    sup->cfg->crl);
		return (-1);
	}
	/* Kept for the reloads after the drop: walked and checked now. */
	sup->crl.dirfd = trust_dir_open(crl_dir(sup, dir), 0, 0, why,
	    sizeof(why));
	if (sup->crl.dirfd == -1) {
		crl_errf(err, errlen, "CRL directory of %s: %s", sup->cfg->crl,
		    why);
		return (-1);
	}
	return (0);
}

static X509_CRL *
crl_read(struct sup *sup, struct crl_info *info, X509 **signer, char *err,
    size_t errlen)
{
	uint8_t		*buf;
	size_t		 len;
	X509_CRL	*crl;
	char		 why[512];

	/* Another node's (docs/cluster.md): the same checks as the file's. */
	if (sup->crl.parsing_remote) {
		if ((buf = malloc(sup->crl.remote_len)) != NULL) {
			memcpy(buf, sup->crl.remote, sup->crl.remote_len);
			len = sup->crl.remote_len;
		}
		if (buf == NULL) {
			crl_errf(err, errlen, "CRL of another node: out of "
			    "memory");
			return (NULL);
		}
		crl = tlsctx_crl_parse(buf, len, sup->ca, info, signer, why,
		    sizeof(why));
		free(buf);
		if (crl == NULL)
			crl_errf(err, errlen, "CRL of another node: %s", why);
		return (crl);
	}
	buf = tlsctx_read_named(sup->crl.dirfd, sup->crl.name, sup->cfg->crl,
	    CRL_FILE_MAX, &len, why, sizeof(why));
	if (buf == NULL) {
		crl_errf(err, errlen, "CRL %s", why);	/* why names the file */
		return (NULL);
	}
	crl = tlsctx_crl_parse(buf, len, sup->ca, info, signer, why,
	    sizeof(why));
	free(buf);
	if (crl == NULL)
		crl_errf(err, errlen, "CRL %s: %s", sup->cfg->crl, why);
	return (crl);
}

/* The CRL number extension in hex into buf ("" without one). */
static void
crl_number_hex(const X509_CRL *crl, char *buf, size_t len)
{
	ASN1_INTEGER	*n;
	BIGNUM		*bn = NULL;
	char		*hex = NULL;

	buf[0] = '\0';
	if ((n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL)) ==
	    NULL)
		return;
	if ((bn = ASN1_INTEGER_to_BN(n, NULL)) != NULL &&
	    (hex = BN_bn2hex(bn)) != NULL && strlen(hex) < len)
		snprintf(buf, len, "%s", hex);
	OPENSSL_free(hex);
	BN_free(bn);
	ASN1_INTEGER_free(n);
}

/* a against b, CRL numbers in hex; "" (none) is below any number. */
static int
crl_number_cmp(const char *a, const char *b)
{
	BIGNUM	*x = NULL, *y = NULL;
	int	 r;

	if (a[0] == '\0' || b[0] == '\0')
		return (a[0] == '\0' ? (b[0] == '\0' ? 0 : -1) : 1);
	if (BN_hex2bn(&x, a) == 0 || BN_hex2bn(&y, b) == 0)
		r = -1;		/* unreadable: never "newer" */
	else
		r = BN_cmp(x, y);
	BN_free(x);
	BN_free(y);
	return (r);
}

/*
 * The parser process keeps only the result pipe, the memfd and the CRL's
 * directory: an admin client's or a worker's socket held open here would
 * not see its peer close until the parse is over.
 */
static void
crl_parser_close_fds(int a, int b, int c)
{
	int		 keep[3] = { a, b, c }, t;
	unsigned	 lo = STDERR_FILENO + 1;
	size_t		 i, j;

	for (i = 0; i < 3; i++)
		for (j = i + 1; j < 3; j++)
			if (keep[j] < keep[i]) {
				t = keep[i];
				keep[i] = keep[j];
				keep[j] = t;
			}
	for (i = 0; i < 3; i++) {
		if ((unsigned)keep[i] > lo)
			(void)close_range(lo, (unsigned)keep[i] - 1, 0);
		if ((unsigned)keep[i] + 1 > lo)
			lo = (unsigned)keep[i] + 1;
	}
	(void)close_range(lo, ~0U, 0);
}

/*
 * The parser process: read and verify the CRL file (tlsctx_crl_parse, as
 * before the fork), write its revoked-serial set into the memfd and the
 * outcome into the pipe.  A million entries cost OpenSSL some 300 MB and a
 * second or two: here, at a lower priority than the workers, and all of it
 * gone when the process exits.
 */
static void __attribute__((noreturn))
crl_parser_main(struct sup *sup, int out, int set_fd, pid_t parent)
{
	struct crl_parse_res	 res;
	struct crl_info		 info;
	X509_CRL		*crl;
	X509			*signer = NULL;
	char			 why[sizeof(res.err)];
	uint8_t			*copy;
	size_t			 copy_len = 0;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	/* [tls] crl_url: the last good copy, read before its dirfd goes. */
	copy = crl_fetch_copy_load(sup, &copy_len);
	crl_parser_close_fds(out, set_fd, sup->crl.dirfd);
	(void)setpriority(PRIO_PROCESS, 0, CRL_PARSE_NICE);
	memset(&res, 0, sizeof(res));
	res.status = -1;
	res.number = -1;
	crl = crl_read(sup, &info, &signer, res.err, sizeof(res.err));
	crl = crl_fetch_pick(sup, crl, &info, &signer, copy, copy_len,
	    res.err, sizeof(res.err));
	if (crl != NULL) {
		res.number = info.number;
		crl_number_hex(crl, res.hexnum, sizeof(res.hexnum));
		/* Another node's never takes us back, nor re-installs ours. */
		if (sup->crl.parsing_remote && crl_number_cmp(res.hexnum,
		    sup->crl.number) <= 0)
			crl_errf(res.err, sizeof(res.err), "CRL of another node "
			    "refused: its CRL number %s is not above %s, the "
			    "one in force", res.hexnum[0] != '\0' ? res.hexnum :
			    "(none)", sup->crl.number[0] != '\0' ?
			    sup->crl.number : "(none)");
		else if (crlset_build(set_fd, crl, signer, why,
		    sizeof(why)) == 0)
			res.status = 0;
		else
			crl_errf(res.err, sizeof(res.err), "CRL %s: %s",
			    sup->cfg->crl, why);
	}
	/* Smaller than PIPE_BUF: written whole or not at all. */
	(void)write(out, &res, sizeof(res));
	/* No freeing a million entries, no atexit handlers: just go. */
	_exit(0);
}

/* Fork the parser process of the CRL file.  -1 with err. */
static int
crl_parser_spawn(struct sup *sup, char *err, size_t errlen)
{
	struct crl_parser	*p = &sup->crl.parser;
	int			 fds[2] = { -1, -1 }, set_fd = -1, pidfd;
	pid_t			 pid, parent = getpid();

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == -1 ||
	    (set_fd = memfd_create(
	    "takd-crlset", MFD_CLOEXEC | MFD_ALLOW_SEALING)) == -1) {
		crl_errf(err, errlen, "CRL parser: %s", strerror(errno));
		goto fail;
	}
	if ((pid = fork()) == -1) {
		crl_errf(err, errlen, "CRL parser: fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0)
		crl_parser_main(sup, fds[1], set_fd, parent);
	close(fds[1]);
	fds[1] = -1;
	/* By descriptor: the pid may be reaped by proc_reap() and reused. */
	if ((pidfd = pidfd_open(pid, 0)) == -1) {
		crl_errf(err, errlen, "CRL parser: pidfd_open: %s",
		    strerror(errno));
		kill(pid, SIGKILL);	/* not reaped yet: still ours */
		(void)waitpid(pid, NULL, 0);
		goto fail;
	}
	p->pidfd = pidfd;
	p->res_fd = fds[0];
	p->set_fd = set_fd;
	p->started_ms = clock_mono_ms();
	p->deadline_ms = p->started_ms + CRL_PARSE_TIMEOUT_MS;
	return (0);
fail:
	if (fds[0] != -1)
		close(fds[0]);
	if (fds[1] != -1)
		close(fds[1]);
	if (set_fd != -1)
		close(set_fd);
	return (-1);
}

/*
 * Kill the parser if it still runs, and reap it unless it has not exited
 * yet (proc_reap() will, as it may have already: never block on it).  Its
 * memfd stays: crl_commit() takes it, crl_parser_drop() closes it.
 */
static void
crl_parser_end(struct sup *sup, bool kill_it)
{
	struct crl_parser	*p = &sup->crl.parser;
	siginfo_t		 si;

	if (p->pidfd == -1)
		return;
	if (p->polled)
		(void)epoll_ctl(sup->epfd, EPOLL_CTL_DEL, p->pidfd, NULL);
	p->polled = false;
	close(p->res_fd);
	if (kill_it)
		(void)pidfd_send_signal(p->pidfd, SIGKILL, NULL, 0);
	memset(&si, 0, sizeof(si));
	(void)waitid(P_PIDFD, (id_t)p->pidfd, &si, WEXITED | WNOHANG);
	close(p->pidfd);
	p->pidfd = p->res_fd = -1;
}

/*
 * Read the outcome of a parser that has exited: 0 with res, -1 when it
 * ended without one (res->err says so).
 */
static int
crl_parser_collect(struct sup *sup, struct crl_parse_res *res)
{
	ssize_t	 n;

	while ((n = read(sup->crl.parser.res_fd, res, sizeof(*res))) == -1 &&
	    errno == EINTR)
		continue;
	if (n == (ssize_t)sizeof(*res)) {
		res->err[sizeof(res->err) - 1] = '\0';
		sup->crl.parser.number = res->number;
		return (res->status == 0 ? 0 : -1);
	}
	crl_errf(res->err, sizeof(res->err), "CRL %s: the parser process "
	    "ended without a result%s%s", sup->cfg->crl, n == -1 ? ": " : "",
	    n == -1 ? strerror(errno) : "");
	return (-1);
}

/*
 * Take the set the parser wrote: mapped and checked like a worker does
 * (crlset_map), and of our CA.  NULL with err.
 */
static struct crlset *
crl_parser_take(struct sup *sup, char *err, size_t errlen)
{
	struct crlset	*set;
	char		 why[256];

	if ((set = crlset_map(sup->crl.parser.set_fd, why, sizeof(why))) ==
	    NULL || crlset_check_ca(set, sup->ca, why, sizeof(why)) == -1) {
		crlset_free(set);
		crl_errf(err, errlen, "CRL %s: %s", sup->cfg->crl, why);
		return (NULL);
	}
	return (set);
}

static void
crl_set_info(const struct crlset *set, uint32_t generation,
    struct crl_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	ci->generation = generation;
	ci->entries = crlset_crl_entries(set);
	ci->last_update = crlset_last_update(set);
	ci->next_update = crlset_next_update(set);
	X509_NAME_oneline(crlset_issuer(set), ci->issuer, sizeof(ci->issuer));
}

/* The new set is in force in this process and the workers forked later. */
static void
crl_commit(struct sup *sup, struct crlset *set)
{
	struct crl_state	*cs = &sup->crl;

	tlsctx_crl_use(set, sup->cfg->crl_check);
	crlset_free(cs->crl);
	if (cs->set_fd != -1)
		close(cs->set_fd);
	cs->crl = set;
	cs->set_fd = cs->parser.set_fd;
	cs->parser.set_fd = -1;
	crl_set_info(set, cs->info.generation + 1, &cs->info);
	cs->info.number = cs->parser.number;
	cs->loaded_at = time(NULL);
	cs->last_error[0] = '\0';
}

/*
 * Watch the CRL's directory, as root: the watch outlives the privilege drop,
 * and the service user may not be allowed to list that directory.  A new CRL
 * arrives by rename (takctl, logrotate-style tools) or by rewriting in place.
 */
static int
crl_watch_open(struct sup *sup, char *err, size_t errlen)
{
	char		 buf[PATH_MAX];
	const char	*dir = crl_dir(sup, buf);

	sup->crl.watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (sup->crl.watch_fd == -1 || inotify_add_watch(sup->crl.watch_fd,
	    dir, IN_CLOSE_WRITE | IN_MOVED_TO) == -1) {
		crl_errf(err, errlen, "[tls] crl_watch: cannot watch %s: %s",
		    dir, strerror(errno));
		return (-1);
	}
	log_info("watching %s for a new CRL", sup->cfg->crl);
	return (0);
}

int
crl_watch_register(struct sup *sup)
{
	struct epoll_event	 ev;

	if (sup->crl.watch_fd < 0)
		return (0);
	sup->crl.watch_ev.kind = SUP_EV_CRL_WATCH;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &sup->crl.watch_ev;
	return (epoll_ctl(sup->epfd, EPOLL_CTL_ADD, sup->crl.watch_fd, &ev));
}

/*
 * Writers often touch a file more than once: reload once things settle.  An
 * overflowed queue may have lost the CRL's event: reload to be sure.
 */
void
crl_watch_event(struct sup *sup)
{
	char			 buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ie;
	ssize_t			 n;
	char			*p;

	while ((n = read(sup->crl.watch_fd, buf, sizeof(buf))) > 0)
		for (p = buf; p < buf + n; p += sizeof(*ie) + ie->len) {
			ie = (const struct inotify_event *)(void *)p;
			if ((ie->mask & IN_Q_OVERFLOW) || (ie->len > 0 &&
			    strcmp(ie->name, sup->crl.name) == 0))
				sup->crl.watch_reload_ms = clock_mono_ms() +
				    CRL_WATCH_SETTLE_MS;
		}
}

static void
crl_parser_drop(struct sup *sup)
{
	crl_parser_end(sup, true);
	if (sup->crl.parser.set_fd != -1)
		close(sup->crl.parser.set_fd);
	sup->crl.parser.set_fd = -1;
}

/*
 * Wait for the parser at start, before the loop: nothing else to serve.
 * Its pidfd is readable once it has exited, its result written before.
 */
static int
crl_parser_wait(struct sup *sup, struct crl_parse_res *res)
{
	struct pollfd	 pfd;
	int64_t		 left;

	pfd.fd = sup->crl.parser.pidfd;
	pfd.events = POLLIN;
	for (;;) {
		left = sup->crl.parser.deadline_ms - clock_mono_ms();
		if (left <= 0) {
			crl_errf(res->err, sizeof(res->err), "CRL %s: not "
			    "parsed within %d s", sup->cfg->crl,
			    CRL_PARSE_TIMEOUT_MS / 1000);
			return (-1);
		}
		pfd.revents = 0;
		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR) {
			crl_errf(res->err, sizeof(res->err), "CRL parser: "
			    "poll: %s", strerror(errno));
			return (-1);
		}
		if (pfd.revents != 0)
			return (crl_parser_collect(sup, res));
	}
}

int
crl_init(struct sup *sup, char *err, size_t errlen)
{
	struct crl_parse_res	 res;
	struct crlset		*set;
	int64_t			 t0 = clock_mono_ms();

	sup->crl.dirfd = -1;
	sup->crl.watch_fd = -1;
	sup->crl.set_fd = -1;
	sup->crl.parser.pidfd = -1;
	sup->crl.parser.res_fd = -1;
	sup->crl.parser.set_fd = -1;
	if (sup->cfg->crl_check == CRL_CHECK_OFF) {
		log_warnx("[tls] crl_check = off: revoked certificates are "
		    "accepted");
		return (0);
	}
	if (crl_open_dir(sup, err, errlen) == -1)
		return (-1);
	if (crl_fetch_init(sup, err, errlen) == -1)
		return (-1);
	if (crl_parser_spawn(sup, err, errlen) == -1)
		return (-1);
	memset(&res, 0, sizeof(res));
	if (crl_parser_wait(sup, &res) == -1) {
		crl_errf(err, errlen, "%s", res.err);
		crl_parser_drop(sup);
		return (-1);
	}
	crl_parser_end(sup, false);
	if ((set = crl_parser_take(sup, err, errlen)) == NULL) {
		crl_parser_drop(sup);
		return (-1);
	}
	crl_commit(sup, set);
	snprintf(sup->crl.number, sizeof(sup->crl.number), "%s", res.hexnum);
	crl_log_state(sup, "loaded", clock_mono_ms() - t0);
	if (sup->cfg->crl_watch && crl_watch_open(sup, err, errlen) == -1)
		return (-1);
	return (0);
}

void
crl_cleanup(struct sup *sup)
{
	crl_parser_drop(sup);
	free(sup->crl.remote);
	sup->crl.remote = NULL;
	crl_fetch_cleanup(sup);
	tlsctx_crl_use(NULL, sup->cfg->crl_check);
	crlset_free(sup->crl.crl);
	sup->crl.crl = NULL;
	if (sup->crl.set_fd >= 0)
		close(sup->crl.set_fd);
	sup->crl.set_fd = -1;
	if (sup->crl.dirfd >= 0)
		close(sup->crl.dirfd);
	sup->crl.dirfd = -1;
	if (sup->crl.watch_fd >= 0)
		close(sup->crl.watch_fd);
	sup->crl.watch_fd = -1;
}

/*
 * The supervisor's SSL_CTX gets the CA store (no CRL in it: the verify
 * callback checks the set), and the set in force is the callback's, so
 * that a worker forked later (a respawn) starts with both.
 */
int
crl_install(struct sup *sup, struct crlset *set, char *err, size_t errlen)
{
	X509_STORE	*store;

	if ((store = tlsctx_store_new(sup->ca)) == NULL ||
	    tlsctx_set_store(sup->ssl_ctx, store) == -1) {
		X509_STORE_free(store);
		crl_errf(err, errlen, "cannot build a verification store");
		return (-1);
	}
	X509_STORE_free(store);
	tlsctx_crl_use(set, sup->cfg->crl_check);
	return (0);
}

/*
 * The service manager sees the supervisor's part of every reload (SIGHUP,
 * takctl reload, crl_watch): RELOADING=1 when the parse starts, then
 * READY=1 with the generation in force when it is over, whether the new
 * CRL was taken or not.
 */
int
crl_reload(struct sup *sup, char *err, size_t errlen)
{
	struct epoll_event	 ev;

	if (sup->cfg->crl_check == CRL_CHECK_OFF) {
		crl_errf(err, errlen, "[tls] crl_check = off: no CRL to reload");
		return (-1);
	}
	if (sup->crl.parser.pidfd != -1) {
		crl_errf(err, errlen, "the CRL is being read already");
		return (-1);
	}
	/* A CRL another node accepted, waiting: this reload reads it. */
	sup->crl.parsing_remote = sup->crl.remote != NULL;
	if (crl_parser_spawn(sup, err, errlen) == -1)
		goto fail;
	if (sup->crl.parsing_remote) {
		/* The parser has its copy: a later one may come meanwhile. */
		free(sup->crl.remote);
		sup->crl.remote = NULL;
		sup->crl.remote_len = 0;
	}
	sup->crl.parser.ev.kind = SUP_EV_CRL_PARSER;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &sup->crl.parser.ev;
	if (epoll_ctl(sup->epfd, EPOLL_CTL_ADD, sup->crl.parser.pidfd,
	    &ev) == -1) {
		crl_errf(err, errlen, "CRL parser: epoll_ctl: %s",
		    strerror(errno));
		crl_parser_drop(sup);
		goto fail;
	}
	sup->crl.parser.polled = true;
	notify_reloading();
	return (0);
fail:
	sup->crl.parsing_remote = false;
	snprintf(sup->crl.last_error, sizeof(sup->crl.last_error), "%s", err);
	sup->crl.last_error_at = time(NULL);
	log_warnx("CRL reload failed, generation %u stays in force: %s",
	    sup->crl.info.generation, err);
	return (-1);
}

/* The parse is over (rc 0) or failed (rc -1, err): commit and tell. */
static void
crl_reload_done(struct sup *sup, int rc, const char *number, char *err,
    size_t errlen)
{
	struct crlset	*set = NULL;
	int64_t		 ms = clock_mono_ms() - sup->crl.parser.started_ms;
	bool		 remote = sup->crl.parsing_remote;

	crl_parser_end(sup, rc == -1);
	sup->crl.parsing_remote = false;
	if (rc == 0 && (set = crl_parser_take(sup, err, errlen)) == NULL)
		rc = -1;
	if (rc == 0) {
		crl_commit(sup, set);
		snprintf(sup->crl.number, sizeof(sup->crl.number), "%s",
		    number);
		crl_log_state(sup, remote ? "taken from another node" :
		    "reloaded", ms);
		/* The other nodes take it too, unless it came from them. */
		cluster_proc_crl(sup, !remote);
	} else {
		crl_parser_drop(sup);
		snprintf(sup->crl.last_error, sizeof(sup->crl.last_error),
		    "%s", err);
		sup->crl.last_error_at = time(NULL);
		log_warnx("CRL reload failed, generation %u stays in force: "
		    "%s", sup->crl.info.generation, err);
	}
	notify_send("READY=1\nSTATUS=%u workers, CRL generation %u%s",
	    sup->n_slots, sup->crl.info.generation, rc == -1 ?
	    " (reload failed, the old one kept)" : "");
	reload_parsed(sup, rc, err);
}

void
crl_parser_event(struct sup *sup)
{
	struct crl_parse_res	 res;
	int			 rc;

	if (sup->crl.parser.pidfd == -1)
		return;
	memset(&res, 0, sizeof(res));
	rc = crl_parser_collect(sup, &res);
	res.hexnum[sizeof(res.hexnum) - 1] = '\0';
	crl_reload_done(sup, rc, res.hexnum, res.err, sizeof(res.err));
}

int
crl_memfd(const struct sup *sup)
{
	int	 fd;

	if (sup->crl.crl == NULL || sup->crl.set_fd == -1)
		return (-1);
	if ((fd = fcntl(sup->crl.set_fd, F_DUPFD_CLOEXEC, 0)) == -1)
		log_warn("CRL set descriptor");
	return (fd);
}

int
crl_is_stale(const struct sup *sup)
{
	return (sup->crl.crl != NULL && sup->crl.info.next_update != 0 &&
	    time(NULL) > sup->crl.info.next_update);
}

int
crl_tick(struct sup *sup)
{
	static int64_t	 next_ms;
	int64_t		 now = clock_mono_ms();
	time_t		 left;
	char		 err[256];

	if (sup->crl.parser.pidfd != -1) {
		if (now >= sup->crl.parser.deadline_ms) {
			crl_errf(err, sizeof(err), "CRL %s: not parsed within "
			    "%d s", sup->cfg->crl, CRL_PARSE_TIMEOUT_MS / 1000);
			crl_reload_done(sup, -1, "", err, sizeof(err));
		} else
			return ((int)(sup->crl.parser.deadline_ms - now));
	}
	if (sup->crl.watch_reload_ms != 0) {
		if (now < sup->crl.watch_reload_ms)
			return ((int)(sup->crl.watch_reload_ms - now));
		sup->crl.watch_reload_ms = 0;
		log_info("CRL file %s changed: reloading", sup->cfg->crl);
		if (!sup->stopping)
			(void)reload_start(sup, NULL, NULL, NULL, 0);
	}
	if (sup->crl.crl == NULL || sup->crl.info.next_update == 0)
		return (-1);
	if (next_ms == 0)
		next_ms = now + CRL_WARN_INTERVAL_MS;	/* start logged it */
	if (now < next_ms)
		return ((int)(next_ms - now));
	next_ms = now + CRL_WARN_INTERVAL_MS;
	left = sup->crl.info.next_update - time(NULL);
	if (left < 0)
		log_warnx("CRL generation %u is stale since %lld s: %s; renew it "
		    "(takctl crl renew)", sup->crl.info.generation,
		    (long long)-left, sup->cfg->crl_stale == CRL_STALE_STRICT ?
		    "every client is refused ([tls] crl_stale = strict)" :
		    "listed serials stay refused, others are admitted");
	else if (left < (time_t)sup->cfg->crl_warn_days * 86400)
		log_warnx("CRL generation %u expires in %lld h; renew it "
		    "(takctl crl renew)", sup->crl.info.generation,
		    (long long)left / 3600);
	return (CRL_WARN_INTERVAL_MS);
}
