/*
 * takd-usersd: writes the users file ([auth] users) for the admin console
 * (docs/security.md, "Console: who changes the users file").
 *
 * The users file is root's, mode 0640, group the service user's, in a
 * directory of root's; every process of takd runs as the service user
 * after the privilege drop.  So this helper is started by the supervisor
 * before the drop and keeps uid 0, but nothing else of root: first thing,
 * before it reads a byte from anyone, it takes the service group as its
 * only supplementary group, locks the securebits (no capabilities for
 * uid 0 at an exec, none kept or regained at a uid change, no ambient
 * ones), empties the bounding set and sets its capabilities to none.
 * What is left is the owner's access to root's own files and
 * directories: enough to write a temporary file in the users file's
 * directory, fsync it, give it to the service group (an owner may give a
 * file to one of its groups without CAP_CHOWN) and rename it over the
 * file; not enough to read or write any other user's file, kill another
 * user's process, bind a port, load a module or change its identity.
 *
 * Its only channel is a SOCK_SEQPACKET pair with the supervisor
 * (USERSD_FD_SOCK), closed in every other process of takd.  A request
 * (ipc/users_msg.h) passes only as usersd_change() says (usersd/change.h:
 * the admin's own password verified against the file here, no admin
 * created, no admin touched); at most USERSD_RATE requests a minute are
 * looked at (USERSD_BURST at once), the rest answered "busy".  The file
 * is changed under takctl's lock (shared/users_txn.h).  Every change and
 * every refusal is logged with the admin's name.
 *
 * Exit statuses: 0 the supervisor closed its end, 1 a malformed frame,
 * 2 it cannot start.  It is never respawned (the supervisor is no longer
 * root): user changes answer 503 until takd restarts.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <linux/capability.h>
#include <linux/securebits.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ipc/ipc_msg.h"
#include "ipc/users_msg.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "shared/trust.h"
#include "shared/users_txn.h"
#include "usersd/change.h"
#include "usersd/sandbox.h"
#include "usersd/usersd.h"

#define USERSD_NOFILE		32
#define USERSD_QUEUE_MAX	(64 * 1024)
#define USERSD_CAP_TRIES	64	/* capability numbers tried to drop */

struct usersd {
	const char	*path;		/* [auth] users */
	gid_t		 gid;		/* the service group, -1: none */
	struct ipc_chan	*chan;
	double		 tokens;
	int64_t		 refilled_ms;
	unsigned long	 changes;
	unsigned long	 refused;
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: takd-usersd -u users-file [-g gid] "
	    "[-l stderr|syslog|file] [-v level]\n(started by takd)\n");
	exit(USERSD_EX_START);
}

/*
 * Root without root's powers: see the top of this file.  Before anything
 * is read from the channel; any failure but the securebits' is fatal.
 */
static void
usersd_drop_caps(gid_t gid)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[2];
	unsigned long			 bits;
	int				 cap;

	if (gid != (gid_t)-1 && setgroups(1, &gid) == -1)
		fatal("setgroups(%u)", (unsigned)gid);
	bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
	    SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
	    SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
	    SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
	if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) == -1)
		log_warn("prctl(PR_SET_SECUREBITS): going on with the "
		    "capabilities dropped only");
	/*
	 * Without CAP_SETPCAP (a unit's CapabilityBoundingSet without it)
	 * the bounding set stays as it is: with no capability left and
	 * no_new_privs, an exec gains none from it anyway.
	 */
	for (cap = 0; cap < USERSD_CAP_TRIES; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1) {
			if (errno == EINVAL)
				break;		/* past the last one */
			if (errno == EPERM) {
				log_warnx("prctl(PR_CAPBSET_DROP): no "
				    "CAP_SETPCAP; the bounding set is kept");
				break;
			}
			fatal("prctl(PR_CAPBSET_DROP, %d)", cap);
		}
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capset, &hdr, data) == -1)
		fatal("capset");
	/* Checked, not assumed. */
	if (syscall(SYS_capget, &hdr, data) == -1)
		fatal("capget");
	if ((data[0].effective | data[0].permitted | data[0].inheritable |
	    data[1].effective | data[1].permitted | data[1].inheritable) != 0)
		fatalx_status(USERSD_EX_START, "capabilities left after "
		    "dropping them all");
}

/*
 * No core files, no ptrace, few descriptors, files no bigger than a users
 * file.  RLIMIT_NPROC 0 stops a fork only when not uid 0 (the kernel does
 * not count root's processes); without capabilities a child could do no
 * more than this process anyway.  Sanitizer builds keep dumpable:
 * LeakSanitizer ptraces its own process at exit.
 */
static void
usersd_harden(void)
{
	struct rlimit	 rl;

	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		fatal("setrlimit(RLIMIT_CORE)");
#ifndef TAKD_SANITIZE
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_DUMPABLE)");
	if (setrlimit(RLIMIT_NPROC, &rl) == -1)
		fatal("setrlimit(RLIMIT_NPROC)");
#endif
	rl.rlim_cur = rl.rlim_max = USERSD_NOFILE;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("setrlimit(RLIMIT_NOFILE)");
	rl.rlim_cur = rl.rlim_max = (rlim_t)USERS_FILE_MAX + 4096;
	if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
		fatal("setrlimit(RLIMIT_FSIZE)");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
}

/*
 * Beneath the users file's directory only (usersd/sandbox.c: uid 0 still
 * owns /etc/passwd).  A kernel without Landlock is said loudly and
 * tolerated: the capability drop holds there alone.
 */
static void
usersd_confine(const char *path)
{
	char	 dir[PATH_MAX], base[PATH_MAX], err[256];
	int	 rc;

	if (trust_split(path, dir, base) == -1)
		fatalx_status(USERSD_EX_START, "%s: not a file path", path);
	if ((rc = usersd_sandbox(dir, err, sizeof(err))) == -1)
		fatalx_status(USERSD_EX_START, "sandbox: %s", err);
	if (rc == 1)
		log_warnx("sandbox: %s: files of root's outside %s stay "
		    "writable to this process", err, dir);
	else
		log_debug("sandbox: files beneath %s only", dir);
}

/* A token bucket over requests: the brake on a guessing api. */
static bool
usersd_take_token(struct usersd *ud)
{
	int64_t	 now = clock_mono_ms();

	ud->tokens += (double)(now - ud->refilled_ms) * USERSD_RATE / 60000.0;
	if (ud->tokens > USERSD_BURST)
		ud->tokens = USERSD_BURST;
	ud->refilled_ms = now;
	if (ud->tokens < 1.0)
		return (false);
	ud->tokens -= 1.0;
	return (true);
}

/* One request: checked, applied under the lock, logged.  The status. */
static uint32_t
usersd_handle(struct usersd *ud, const struct users_req *r, char *msg,
    size_t msglen)
{
	struct users_txn	 t;
	char			 err[USERS_TXN_ERR_MAX];
	uint32_t		 st;

	if (!usersd_take_token(ud)) {
		snprintf(msg, msglen, "too many user changes; try again in a "
		    "minute");
		st = USERS_ST_BUSY;
		goto out;
	}
	if (users_txn_begin(&t, ud->path, ud->gid, true, err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		users_txn_end(&t);
		snprintf(msg, msglen, "the users file cannot be read or "
		    "locked; see the server's log");
		st = USERS_ST_ERROR;
		goto out;
	}
	if ((st = usersd_change(t.us, r, msg, msglen)) == USERS_ST_OK &&
	    users_txn_commit(&t, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		snprintf(msg, msglen, "the users file could not be written; "
		    "nothing changed; see the server's log");
		st = USERS_ST_ERROR;
	}
	users_txn_end(&t);
 out:
	if (st == USERS_ST_OK) {
		ud->changes++;
		log_info("admin \"%s\": %s user \"%s\": %s", r->admin,
		    users_op_name(r->op), r->user, msg);
	} else {
		ud->refused++;
		log_warnx("admin \"%s\": %s user \"%s\" refused: %s",
		    r->admin, users_op_name(r->op), r->user, msg);
	}
	return (st);
}

static int
usersd_reply(struct usersd *ud, uint32_t id, uint32_t st, const char *msg)
{
	struct ipc_buf	*b;
	int		 rc = -1;

	if ((b = malloc(sizeof(*b))) == NULL)
		return (-1);
	ipc_buf_init(b);
	if (users_rep_encode(st, msg, b) == 0 && ipc_send(ud->chan,
	    IPC_MSG_USER_EDIT_ACK, id, 0, b->data, b->len, -1) == 0)
		rc = 0;
	free(b);
	return (rc);
}

/* One frame of the supervisor's.  -1: malformed (exit 1). */
static int
usersd_msg(struct usersd *ud, struct ipc_msg *m)
{
	struct users_req	*r;
	char			 msg[USERS_MSG_TEXT_MAX];
	uint32_t		 st;
	int			 rc = -1;

	if (m->hdr.type == IPC_MSG_LOG_FD && m->fd != -1 && m->len == 0) {
		/* The log file was reopened (SIGUSR1): write to the new. */
		(void)fcntl(m->fd, F_SETFD, FD_CLOEXEC);
		log_set_fd(m->fd);	/* closes the old, or this one */
		m->fd = -1;
		return (0);
	}
	if (m->hdr.type != IPC_MSG_USER_EDIT)
		return (-1);
	if ((r = malloc(sizeof(*r))) == NULL)
		return (-1);
	if (users_req_decode(m, r) == -1)
		goto done;
	st = usersd_handle(ud, r, msg, sizeof(msg));
	rc = usersd_reply(ud, m->hdr.gen_or_peer, st, msg);
 done:
	users_req_clear(r);
	free(r);
	return (rc);
}

static int
usersd_loop(struct usersd *ud)
{
	struct pollfd	 pfd;
	struct ipc_msg	 m;
	int		 rc;

	for (;;) {
		pfd.fd = ud->chan->fd;
		pfd.events = POLLIN | (ipc_pending(ud->chan) ? POLLOUT : 0);
		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if ((pfd.revents & POLLOUT) && ipc_flush(ud->chan) == -1)
			return (0);
		while ((rc = ipc_recv(ud->chan, &m)) == 1) {
			if (usersd_msg(ud, &m) == -1) {
				if (m.fd != -1)
					close(m.fd);
				log_warnx("a malformed frame from the "
				    "supervisor (type %u): exiting",
				    m.hdr.type);
				return (1);
			}
		}
		if (rc == -1) {
			log_info("the supervisor closed the channel: %lu "
			    "change%s, %lu refused", ud->changes,
			    ud->changes == 1 ? "" : "s", ud->refused);
			return (0);
		}
	}
}

int
main(int argc, char *argv[])
{
	struct usersd	 ud;
	const char	*logdest = "stderr";
	char		*end;
	unsigned long	 v;
	int		 ch, level = LOG_INFO, rc;

	memset(&ud, 0, sizeof(ud));
	ud.gid = (gid_t)-1;
	while ((ch = getopt(argc, argv, "g:l:u:v:")) != -1) {
		switch (ch) {
		case 'g':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || *optarg == '\0' ||
			    v >= UINT_MAX)
				usage();
			ud.gid = (gid_t)v;
			break;
		case 'l':
			logdest = optarg;
			break;
		case 'u':
			ud.path = optarg;
			break;
		case 'v':
			if ((level = log_level_parse(optarg)) == -1)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc || ud.path == NULL || ud.path[0] != '/' ||
	    strlen(ud.path) >= PATH_MAX)
		usage();
	if (strcmp(logdest, "file") == 0) {
		if (fcntl(USERSD_FD_LOG, F_GETFD) == -1)
			usage();
		(void)fcntl(USERSD_FD_LOG, F_SETFD, FD_CLOEXEC);
		log_init_fd(USERSD_FD_LOG, level);
	} else if (strcmp(logdest, "syslog") == 0)
		log_init(LOG_DEST_SYSLOG, NULL, level);
	else if (strcmp(logdest, "stderr") == 0)
		log_init(LOG_DEST_STDERR, NULL, level);
	else
		usage();
	log_procinit("usersd");
	if (geteuid() == 0)
		usersd_drop_caps(ud.gid);
	usersd_harden();
	usersd_confine(ud.path);
	/* Root's files (or, not started as root, ours) are the trusted. */
	trust_set_owner(geteuid());
	if ((ud.chan = ipc_chan_new(USERSD_FD_SOCK, USERSD_QUEUE_MAX)) ==
	    NULL)
		fatalx_status(USERSD_EX_START, "descriptor %d: %s: "
		    "takd-usersd is started by takd", USERSD_FD_SOCK,
		    strerror(errno));
	ud.tokens = USERSD_BURST;
	ud.refilled_ms = clock_mono_ms();
	log_info("ready: uid %u without capabilities, users file %s, at "
	    "most %d changes a minute", (unsigned)geteuid(), ud.path,
	    USERSD_RATE);
	rc = usersd_loop(&ud);
	ipc_chan_free(ud.chan);
	return (rc);
}
