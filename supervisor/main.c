/*
 * takd: the supervisor.  Reads the configuration, loads keys and the CRL as
 * root, binds the listeners, drops privileges, forks the workers and then only
 * supervises: signals, worker control channels and the admin socket.  It never
 * touches client traffic.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cot/cot_parse.h"
#include "ipc/ipc.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "shared/trust.h"
#include "supervisor/admin.h"
#include "supervisor/api_proc.h"
#include "supervisor/cluster_proc.h"
#include "supervisor/crl.h"
#include "supervisor/crl_fetch.h"
#include "supervisor/console_sup.h"
#include "supervisor/expiry.h"
#include "supervisor/ocsp.h"
#include "supervisor/listen.h"
#include "supervisor/notify.h"
#include "supervisor/privdrop.h"
#include "supervisor/usersd_proc.h"
#include "supervisor/proc.h"
#include "supervisor/reload.h"
#include "supervisor/round.h"
#include "supervisor/state.h"
#include "supervisor/ticket.h"
#include "supervisor/userfile.h"

#define STOP_GRACE_MS	3000	/* beyond drain_timeout before SIGKILL */

static struct config	 config;
static struct sup	 sup;


static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: takd [-f] [-t] [-c FILE]\n"
	    "  -c FILE  configuration file (default: embedded defaults)\n"
	    "  -f       stay in the foreground, log to stderr\n"
	    "  -t       check the configuration and the files it names, "
	    "then exit\n"
	    "  -v       print the version\n");
	exit(64);
}

static void __attribute__((noreturn))
config_fail(const char *msg)
{
	fprintf(stderr, "takd: %s\n", msg);
	exit(TAKD_EX_CONFIG);
}

/* Everything that -t checks and start-up needs: key, certificates, CRL. */
static void
load_tls(struct sup *s)
{
	char		 err[1024];
	const char	*key = s->cfg->key;

	if ((s->ca = tlsctx_load_ca(s->cfg->ca, err, sizeof(err))) == NULL)
		config_fail(err);
	if ((s->ssl_ctx = tlsctx_server_new(s->cfg, err, sizeof(err))) == NULL)
		config_fail(err);
	if (crl_init(s, err, sizeof(err)) == -1)
		config_fail(err);
	if (crl_install(s, s->crl.crl, err, sizeof(err)) == -1)
		config_fail(err);
	if (tlsctx_key_too_open(key))
		log_warnx("private key %s is readable by group or others; "
		    "chmod 600 it", key);
}

/* The users file: takd does not start on an invalid one. */
static void
load_users(struct sup *s, const struct privdrop_ids *ids)
{
	char	 err[PATH_MAX + 1024];

	if (userfile_init(s, ids, err, sizeof(err)) == -1)
		config_fail(err);
}

/* Descriptors a worker holds besides its sessions (listeners, epoll, mesh). */
#define NOFILE_RESERVE	64

/*
 * RLIMIT_NOFILE to [server] nofile: beyond the hard limit only as root (under
 * systemd, LimitNOFILE= sets both and no privilege is needed).  Every worker
 * inherits it.
 */
static void
raise_nofile(unsigned long want, unsigned max_sessions)
{
	struct rlimit	 rl;
	rlim_t		 asked = (rlim_t)want;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("getrlimit(RLIMIT_NOFILE)");
		return;
	}
	if (asked > rl.rlim_max && geteuid() == 0) {
		struct rlimit	 up = { asked, asked };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	rl.rlim_cur = asked < rl.rlim_max ? asked : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("setrlimit(RLIMIT_NOFILE, %lu)", want);
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < asked)
		log_warnx("nofile: asked %lu, got %lu (hard limit %lu); raise "
		    "LimitNOFILE= in the systemd unit", want,
		    (unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max);
	else
		log_info("nofile: asked %lu, got %lu", want,
		    (unsigned long)rl.rlim_cur);
	/* Each session is one descriptor; past the limit accept() sheds. */
	if (rl.rlim_cur < (rlim_t)max_sessions + NOFILE_RESERVE)
		log_warnx("nofile %lu is below max_sessions %u + %u: a full "
		    "worker will drop new connections for want of descriptors "
		    "before max_sessions", (unsigned long)rl.rlim_cur,
		    max_sessions, NOFILE_RESERVE);
}

/*
 * A directory takd trusts, walked from / (shared/trust.h): root's (or the
 * invoking user's), writable by nobody else.  Made when missing.
 */
static int
open_trusted_dir(const char *key, const char *path, int flags)
{
	char	 err[1024];
	int	 fd;

	if ((fd = trust_dir_open(path, flags, 0755, err, sizeof(err))) == -1)
		fatalx_status(TAKD_EX_CONFIG, "%s %s: %s", key, path, err);
	return (fd);
}

/*
 * The [pki] dir holds the CA takd trusts and the keys takctl writes as root:
 * root's and closed to the service user, or takd does not start (like
 * sshd's StrictModes).  A PKI kept elsewhere ([tls] files named one by one)
 * may leave it missing; the files' own directories are walked as they are
 * read (tlsctx.c).
 */
static void
check_pki_dir(const struct sup *s)
{
	char	 err[1024], msg[PATH_MAX + 1100];
	int	 fd;

	if ((fd = trust_dir_open(s->cfg->pki_dir, 0, 0, err,
	    sizeof(err))) != -1) {
		close(fd);
		return;
	}
	if (errno == ENOENT)
		return;
	snprintf(msg, sizeof(msg), "[pki] dir %s: %s", s->cfg->pki_dir, err);
	config_fail(msg);
}

/*
 * [api] packages_dir (docs/datapackages.md), when 8443 is served: the api
 * process writes it as the service user, so root makes it (its parent
 * must exist) and hands it over, as STATE_DIR/store.  The api process
 * answers 503 to the package routes when it cannot open it.
 */
static void
prepare_packages_dir(struct sup *s, const struct privdrop_ids *ids,
    int as_root)
{
	const char	*dir = s->cfg->api_packages_dir;
	struct stat	 st;
	int		 fd;

	if (!s->cfg->api_on || s->cfg->api_listen.port[0] == '\0' ||
	    dir[0] == '\0')
		return;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		log_warn("[api] packages_dir %s", dir);
		return;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		log_warn("[api] packages_dir %s", dir);
		return;
	}
	if (fstat(fd, &st) == 0 && as_root && (st.st_uid != ids->uid ||
	    st.st_gid != ids->gid) && fchown(fd, ids->uid, ids->gid) == -1)
		log_warn("chown [api] packages_dir %s", dir);
	close(fd);
}

/*
 * The layout when started as root (docs/security.md): state_dir and run_dir
 * stay root's, so the service user can plant no link where root creates
 * the pidfile and binds the admin socket; the LMDB store moves to
 * STATE_DIR/store, the one directory given to the service user, made here
 * and handed over by descriptor.  We work in it: every process opens its
 * store by a relative path, even when a directory above is closed to the
 * service user (a checkout under /root, say).
 */
static void
prepare_dirs(struct sup *s, const struct privdrop_ids *ids, int as_root)
{
	struct stat	 st;
	int		 state_fd, store_fd;

	state_fd = open_trusted_dir("[server] state_dir", s->cfg->state_dir,
	    TRUST_CREATE);
	s->run_dirfd = open_trusted_dir("[server] run_dir", s->cfg->run_dir,
	    TRUST_CREATE);
	if (mkdirat(state_fd, TAKD_STORE_DIR, 0700) == -1 && errno != EEXIST)
		fatal("mkdir %s/%s", s->cfg->state_dir, TAKD_STORE_DIR);
	store_fd = openat(state_fd, TAKD_STORE_DIR, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (store_fd == -1)
		fatalx_status(TAKD_EX_CONFIG, "[server] state_dir %s: %s: %s",
		    s->cfg->state_dir, TAKD_STORE_DIR, errno == ELOOP ||
		    errno == ENOTDIR ? "not a directory" : strerror(errno));
	if (fstat(store_fd, &st) == -1)
		fatal("%s/%s", s->cfg->state_dir, TAKD_STORE_DIR);
	/*
	 * Only what differs: under the unit's capability set root may chown
	 * (CAP_CHOWN) but not chmod what is no longer its own (CAP_FOWNER).
	 */
	if ((st.st_mode & 07777) != 0700 && fchmod(store_fd, 0700) == -1)
		log_warn("chmod 0700 %s/%s", s->cfg->state_dir,
		    TAKD_STORE_DIR);
	if (as_root && (st.st_uid != ids->uid || st.st_gid != ids->gid) &&
	    fchown(store_fd, ids->uid, ids->gid) == -1)
		fatal("chown %s/%s", s->cfg->state_dir, TAKD_STORE_DIR);
	if (fchdir(store_fd) == -1)
		fatal("chdir %s/%s", s->cfg->state_dir, TAKD_STORE_DIR);
	close(store_fd);
	/* An older takd kept its store in state_dir itself. */
	if (fstatat(state_fd, "data.mdb", &st, AT_SYMLINK_NOFOLLOW) == 0)
		log_info("%s/data.mdb is an older takd's store (now in %s/%s): "
		    "it is no longer read and may be removed with lock.mdb",
		    s->cfg->state_dir, s->cfg->state_dir, TAKD_STORE_DIR);
	close(state_fd);
}

/*
 * In run_dir, root's: a stale pidfile (a takd that died; the admin socket
 * probe said no takd runs) is removed and a new one created, never opened
 * through whatever might be in its place.
 */
static bool
pidfile_no_space(int err)
{
	return (err == ENOSPC || err == EDQUOT);
}

static void
write_pidfile(struct sup *s)
{
	char	 buf[32];
	int	 fd, n;

	if (unlinkat(s->run_dirfd, TAKD_PIDFILE, 0) == -1 && errno != ENOENT)
		fatal("remove the stale pidfile %s/%s", s->cfg->run_dir,
		    TAKD_PIDFILE);
	fd = openat(s->run_dirfd, TAKD_PIDFILE, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd == -1 && pidfile_no_space(errno))
		goto full;
	if (fd == -1)
		fatal("pidfile %s/%s", s->cfg->run_dir, TAKD_PIDFILE);
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		if (!pidfile_no_space(errno))
			fatal("pidfile write");
		close(fd);
		(void)unlinkat(s->run_dirfd, TAKD_PIDFILE, 0);
		goto full;
	}
	close(fd);
	return;
	/*
	 * A full disk must not keep takd from serving (a pidfile is a
	 * convenience: systemd takes the main pid from sd_notify, takctl
	 * finds takd by its socket).
	 */
full:
	log_warnx("no pidfile %s/%s: %s; serving without it", s->cfg->run_dir,
	    TAKD_PIDFILE, strerror(errno));
}

static void
daemonize(void)
{
	pid_t	 pid;
	int	 fd;

	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		fatal("setsid");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

/*
 * A log file is opened as root and handed to the service user: its
 * directory must be root's (like /var/log/takd of the unit), so nobody can
 * put a link or someone else's file in its place.
 */
static void
start_logging(const struct config *cfg, int foreground)
{
	enum log_dest	 dest = LOG_DEST_STDERR;
	char		 dir[PATH_MAX], base[PATH_MAX], msg[PATH_MAX + 160];
	int		 dirfd = -1;

	if (strcmp(cfg->log, "syslog") == 0 ||
	    (strcmp(cfg->log, "stderr") == 0 && !foreground))
		dest = LOG_DEST_SYSLOG;
	else if (strcmp(cfg->log, "stderr") != 0)
		dest = LOG_DEST_FILE;
	if (dest == LOG_DEST_FILE) {
		if (trust_split(cfg->log, dir, base) == -1) {
			snprintf(msg, sizeof(msg), "[server] log %s: not a "
			    "file name", cfg->log);
			config_fail(msg);
		}
		dirfd = open_trusted_dir("[server] log", dir, 0);
	}
	if (log_init_at(dest, dirfd, cfg->log, cfg->log_level) == -1) {
		snprintf(msg, sizeof(msg), "[server] log %s: %s", cfg->log,
		    errno == ELOOP ? "a symbolic link (not followed)" :
		    errno == EINVAL ? "not a regular file" : errno == EMLINK ?
		    "has other hard links" : strerror(errno));
		config_fail(msg);
	}
	log_procinit("supervisor");
}

static void
setup_signals(struct sup *s)
{
	struct epoll_event	 ev;
	sigset_t		 mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		fatal("sigprocmask");
	signal(SIGPIPE, SIG_IGN);
	if ((s->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	s->sig_ev.kind = SUP_EV_SIGNAL;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &s->sig_ev;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sigfd, &ev) == -1)
		fatal("epoll_ctl signalfd");
}

static void
start_stop(struct sup *s, const char *why)
{
	static int64_t	 first_ms;

	/*
	 * A second signal from an impatient operator kills the workers; one
	 * that arrives within a second is the same stop delivered twice (to
	 * the process and to its group, as timeout(1) and terminals do).
	 */
	if (s->stopping) {
		if (clock_mono_ms() - first_ms < 1000)
			return;
		log_warnx("%s again: killing the workers now", why);
		proc_kill_all(s, SIGKILL);
		return;
	}
	log_info("%s: stopping (drain up to %u ms)", why,
	    s->cfg->drain_timeout_ms);
	notify_send("STOPPING=1\nSTATUS=stopping (%s): draining sessions", why);
	first_ms = clock_mono_ms();
	s->stopping = true;
	s->stop_deadline_ms = clock_mono_ms() + s->cfg->drain_timeout_ms +
	    STOP_GRACE_MS;
	listen_close_all(s);
	api_proc_close_listeners(s);
	proc_shutdown_all(s);
	/* Signings in flight are answered 503 while the api drains. */
	signer_shutdown(&s->signer);
}

static void
reopen_log(struct sup *s)
{
	unsigned	 i;

	if (log_reopen() == -1) {
		log_warn("SIGUSR1: cannot reopen log file %s", s->cfg->log);
		return;
	}
	if (log_get_dest() != LOG_DEST_FILE) {
		log_info("SIGUSR1: logging to %s, no file to reopen",
		    log_get_dest() == LOG_DEST_SYSLOG ? "syslog" : "stderr");
		return;
	}
	log_info("log file reopened");
	for (i = 0; i < s->n_slots; i++)
		proc_send(s, &s->slots[i], IPC_MSG_LOG_FD, 0, NULL, 0,
		    log_get_fd());
	if (s->api_run)
		proc_send(s, &s->api, IPC_MSG_LOG_FD, 0, NULL, 0,
		    log_get_fd());
	if (s->cluster_run)
		proc_send(s, &s->cluster, IPC_MSG_LOG_FD, 0, NULL, 0,
		    log_get_fd());
	/* takd-signer writes to the file it was started with: a new one. */
	api_proc_signer_renew(s);
	usersd_proc_log_fd(s);
}

static void
handle_signals(struct sup *s)
{
	struct signalfd_siginfo	 si;

	while (read(s->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			proc_reap(s);
			break;
		case SIGTERM:
			start_stop(s, "SIGTERM");
			break;
		case SIGINT:
			start_stop(s, "SIGINT");
			break;
		case SIGHUP:
			log_info("SIGHUP: reloading the CRL and the users file");
			if (!s->stopping)
				(void)reload_start(s, NULL, NULL, NULL, 0);
			break;
		case SIGUSR1:
			reopen_log(s);
			break;
		}
	}
}

static void
dispatch(struct sup *s, struct epoll_event *ev)
{
	struct sup_ev	*se = ev->data.ptr;

	switch (se->kind) {
	case SUP_EV_SIGNAL:
		handle_signals(s);
		break;
	case SUP_EV_ADMIN_LISTEN:
		admin_accept(s);
		break;
	case SUP_EV_ADMIN_CLIENT:
		admin_client_event(s, se->ptr, ev->events);
		break;
	case SUP_EV_WORKER:
		proc_ctl_event(s, se->ptr, ev->events);
		break;
	case SUP_EV_CRL_WATCH:
		crl_watch_event(s);
		break;
	case SUP_EV_CRL_PARSER:
		crl_parser_event(s);
		break;
	case SUP_EV_CRL_FETCH:
		crl_fetch_event(s);
		break;
	case SUP_EV_OCSP_FETCH:
		ocsp_event(s);
		break;
	case SUP_EV_SIGNER:
		console_sup_signer_event(s, ev->events);
		break;
	case SUP_EV_USERSD:
		usersd_proc_event(s, ev->events);
		break;
	}
}

static int
min_timeout(int a, int b)
{
	if (a < 0)
		return (b);
	if (b < 0)
		return (a);
	return (a < b ? a : b);
}

static int
all_gave_up(const struct sup *s)
{
	unsigned	 i;

	for (i = 0; i < s->n_slots; i++)
		if (s->slots[i].state != SLOT_GAVE_UP)
			return (0);
	return (1);
}

static void
main_loop(struct sup *s)
{
	struct epoll_event	 evs[32];
	int			 n, i, timeout;
	int64_t			 left;

	for (;;) {
		/* Rounds first: a client waiting on one is answered. */
		timeout = round_tick(s);
		reload_tick(s);
		timeout = min_timeout(timeout, proc_respawn_due(s));
		timeout = min_timeout(timeout, admin_tick(s));
		timeout = min_timeout(timeout, state_tick(s));
		timeout = min_timeout(timeout, crl_tick(s));
		timeout = min_timeout(timeout, crl_fetch_tick(s));
		timeout = min_timeout(timeout, ocsp_tick(s));
		timeout = min_timeout(timeout, console_sup_tick(s));
		timeout = min_timeout(timeout, usersd_proc_tick(s));
		timeout = min_timeout(timeout, expiry_tick(s));
		timeout = min_timeout(timeout, proc_ready_tick(s));
		timeout = min_timeout(timeout, ticket_tick(s));
		timeout = min_timeout(timeout, api_proc_signer_tick(s));
		if (s->stopping) {
			if (proc_running(s) == 0)
				return;
			left = s->stop_deadline_ms - clock_mono_ms();
			if (left <= 0) {
				log_warnx("workers did not stop in time; "
				    "killing them");
				proc_kill_all(s, SIGKILL);
				s->stop_deadline_ms = clock_mono_ms() + 1000;
				left = 1000;
			}
			timeout = min_timeout(timeout, (int)left);
		} else if (all_gave_up(s))
			fatalx("every worker failed and none can be respawned");
		n = epoll_wait(s->epfd, evs, 32, timeout);
		if (n == -1 && errno != EINTR)
			fatal("epoll_wait");
		for (i = 0; i < n; i++)
			dispatch(s, &evs[i]);
	}
}

static unsigned
worker_count(const struct config *cfg)
{
	long	 n;

	if (cfg->workers > 0)
		return (cfg->workers);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	return (n > TAKD_MAX_WORKERS ? TAKD_MAX_WORKERS : (unsigned)n);
}

/*
 * Started as root, the pidfile and the admin socket are root's in root's
 * run_dir, out of reach of the service user we now are: they stay, the next
 * start replaces them (the socket that no longer answers is stale) and the
 * systemd unit removes them (ExecStopPost=).  Without the drop, they are
 * ours to remove.
 */
static void
cleanup(struct sup *s)
{
	if (!s->dropped) {
		if (unlinkat(s->run_dirfd, TAKD_PIDFILE, 0) == -1)
			log_warn("remove pidfile");
		if (unlinkat(s->run_dirfd, TAKD_ADMIN_SOCKET, 0) == -1)
			log_warn("remove admin socket");
	} else
		log_debug("%s/%s and %s are root's: left for the next start",
		    s->cfg->run_dir, TAKD_PIDFILE, TAKD_ADMIN_SOCKET);
	admin_close(s);
	api_proc_close_listeners(s);
	console_sup_free(s);
	usersd_proc_free(s);
	signer_close(&s->signer);
	reload_free(s);		/* its requesters are gone */
	notify_close();
	state_close(s);		/* every worker is gone */
	crl_cleanup(s);
	userfile_cleanup(s);
	ticket_free(s);
	ocsp_cleanup(s);
	listen_close_all(s);
	SSL_CTX_free(s->ssl_ctx);
	sk_X509_pop_free(s->ca, X509_free);
	close(s->run_dirfd);
	close(s->sigfd);
	close(s->epfd);
	cluster_proc_free(s);
	config_clear_secrets(s->cfg);
}

static void
start_workers(struct sup *s)
{
	unsigned	 i;

	s->n_slots = worker_count(s->cfg);
	for (i = 0; i < s->n_slots; i++) {
		s->slots[i].id = i;
		if (proc_spawn(s, &s->slots[i]) == -1)
			fatalx("cannot start worker %u", i);
	}
	log_info("takd %s running as %s: %u workers, %zu listeners",
	    TAKD_VERSION, s->user, s->n_slots, s->n_listeners);
	/* READY=1 once the workers say hello, from the loop (proc.c). */
	proc_ready_arm(s);
}

static void
drop_privileges(struct sup *s, const struct privdrop_ids *ids, int as_root)
{
	if (!as_root) {
		log_info("not started as root: running as uid %u, no "
		    "privilege drop", (unsigned)getuid());
		return;
	}
	privdrop_apply(ids);
	s->dropped = true;
	log_info("privileges dropped to %s (uid %u, gid %u)", s->user,
	    (unsigned)ids->uid, (unsigned)ids->gid);
}

int
main(int argc, char *argv[])
{
	struct privdrop_ids	 ids = { getuid(), getgid() };
	const char		*path = NULL;
	char			 err[1024];
	int			 ch, test_only = 0, as_root = (geteuid() == 0);

	while ((ch = getopt(argc, argv, "c:fhntv")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			sup.foreground = true;
			break;
		case 'n':
		case 't':
			test_only = 1;
			break;
		case 'v':
			printf("takd %s\n", TAKD_VERSION);
			return (0);
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	config_init(&config);
	if (config_load(&config, path, err, sizeof(err)) == -1)
		config_fail(err);
	sup.magic = SUP_MAGIC;
	signer_init(&sup.signer);
	sup.signer_fd = -1;
	sup.cfg = &config;
	sup.admin_fd = sup.sigfd = sup.run_dirfd = sup.users.dirfd = -1;
	snprintf(sup.user, sizeof(sup.user), "%s", as_root ? config.user : "");
	if (as_root && privdrop_lookup(config.user, config.group, &ids, err,
	    sizeof(err)) == -1)
		config_fail(err);
	if (!as_root)
		snprintf(sup.user, sizeof(sup.user), "uid %u",
		    (unsigned)getuid());
	/* Root, or the developer who started us: never the service user. */
	trust_set_owner(geteuid());

	if (test_only) {
		log_init(LOG_DEST_STDERR, NULL, config.log_level);
		check_pki_dir(&sup);
		load_tls(&sup);
		load_users(&sup, as_root ? &ids : NULL);
		api_proc_signer_prepare(&sup);
		signer_close(&sup.signer);
		cluster_proc_prepare(&sup);
		cluster_proc_free(&sup);
		if (ocsp_prepare(&sup, err, sizeof(err)) == -1)
			config_fail(err);
		ocsp_cleanup(&sup);
		printf("takd: configuration %s is valid\n",
		    path ? path : "(embedded defaults)");
		crl_cleanup(&sup);
		userfile_cleanup(&sup);
		SSL_CTX_free(sup.ssl_ctx);
		sk_X509_pop_free(sup.ca, X509_free);
		return (0);
	}

	start_logging(&config, sup.foreground);
	log_info("takd %s starting, configuration %s", TAKD_VERSION,
	    path ? path : "(embedded defaults)");
	raise_nofile(config.nofile, config.max_sessions);
	check_pki_dir(&sup);
	load_tls(&sup);
	prepare_dirs(&sup, &ids, as_root);
	prepare_packages_dir(&sup, &ids, as_root);
	/* In STATE_DIR by default: made just now. */
	load_users(&sup, as_root ? &ids : NULL);
	/* takd-signer's files (ca.key), as root; logging is up. */
	api_proc_signer_prepare(&sup);
	/* The cluster process's NATS keys and credentials, as root. */
	cluster_proc_prepare(&sup);
	/* takd-crlfetch's binary and the CRL copy's directory, as root. */
	if (crl_fetch_prepare(&sup, err, sizeof(err)) == -1)
		fatalx_status(TAKD_EX_CONFIG, "%s", err);
	/* takd-ocspfetch's binary, the responder and the issuer, as root. */
	if (ocsp_prepare(&sup, err, sizeof(err)) == -1)
		fatalx_status(TAKD_EX_CONFIG, "%s", err);
	if (as_root && log_chown(ids.uid, ids.gid) == -1)
		log_warn("chown %s", config.log);
	if (!sup.foreground)
		daemonize();	/* keeps the working directory */
	/* The manager's socket is root's: connect before the drop. */
	(void)notify_init();
	sup.started = time(NULL);
	if ((sup.epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	if (admin_open(&sup, err, sizeof(err)) == -1)
		fatalx_status(TAKD_EX_CONFIG, "%s", err);
	if (listen_open_all(&sup, worker_count(&config), err,
	    sizeof(err)) == -1)
		fatalx_status(TAKD_EX_CONFIG, "%s", err);
	/* The api process's: [api] listen, enroll_listen, [metrics] listen. */
	if (api_proc_open(&sup, err, sizeof(err)) == -1)
		fatalx_status(TAKD_EX_CONFIG, "%s", err);
	setup_signals(&sup);
	if (crl_watch_register(&sup) == -1)
		fatal("epoll_ctl crl_watch");
	write_pidfile(&sup);
	/*
	 * The console's users file writer keeps uid 0 (without capabilities):
	 * the last child forked as root, with the signals set up.
	 */
	usersd_proc_start(&sup, as_root ? ids.gid : (gid_t)-1);
	drop_privileges(&sup, &ids, as_root);
	/* Files owned by the service user; open before any worker forks. */
	if (state_open(&sup, worker_count(&config), err, sizeof(err)) == -1)
		fatalx_status(TAKD_EX_CONFIG, "%s", err);
	cot_parse_init();	/* once, before the workers fork */
	if (ticket_init(&sup) == -1)
		fatalx("cannot make the session ticket keys");
	start_workers(&sup);
	api_proc_start(&sup);
	cluster_proc_start(&sup);

	main_loop(&sup);

	log_info("all workers stopped; takd exits");
	cleanup(&sup);
	return (0);
}
