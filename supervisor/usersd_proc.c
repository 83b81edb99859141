/*
 * takd-usersd, supervisor side: see usersd_proc.h.
 */
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ipc/ipc_msg.h"
#include "ipc/users_msg.h"
#include "shared/clock.h"
#include "shared/json.h"
#include "shared/log.h"
#include "shared/trust.h"
#include "supervisor/api_proc.h"
#include "supervisor/proc.h"
#include "supervisor/reload.h"
#include "supervisor/usersd_proc.h"
#include "usersd/usersd.h"

#define USERSD_PROC_MAGIC	0x55534544u	/* "USED" */
#define USERSD_QUEUE		(256 * 1024)
#define USERSD_ANSWER_MS	10000	/* two yescrypt runs and a write */
#define USERSD_RETRY_MS		200	/* a reload in flight: try again */

extern char **environ;

enum usersd_stage {
	USERSD_IDLE,
	USERSD_ASKED,		/* the helper has the request */
	USERSD_RELOAD_DUE,	/* written; a reload to start */
	USERSD_RELOADING
};

struct usersd_proc {
	unsigned	 magic;
	pid_t		 pid;		/* -1: not running */
	struct ipc_chan	*chan;
	struct sup_ev	 ev;
	bool		 polled;
	int		 last_status;	/* waitpid's, once it exited */
	char		 why[128];	/* why it is not running */
	enum usersd_stage stage;
	uint32_t	 api_id;	/* the request in flight */
	uint32_t	 next_id;
	int64_t		 deadline_ms;
	char		 admin[USERS_NAME_MAX];
	char		 msg[USERS_MSG_TEXT_MAX];
	uint64_t	 changes;
	uint64_t	 refused;
};

static struct usersd_proc *
usersd_get(struct sup *sup)
{
	struct usersd_proc	*up = sup->usersd;

	if (up == NULL) {
		if ((up = calloc(1, sizeof(*up))) == NULL)
			return (NULL);
		up->magic = USERSD_PROC_MAGIC;
		up->pid = -1;
		up->ev.kind = SUP_EV_USERSD;
		up->ev.ptr = up;
		snprintf(up->why, sizeof(up->why), "not started");
		sup->usersd = up;
	}
	return (up);
}

/* In the child: the channel at 3, the log at 4, nothing else. */
static void __attribute__((noreturn))
usersd_child(int exe, int sock, gid_t gid, pid_t parent, char *users,
    int level)
{
	char		 gbuf[16], lvl[16], dest[8];
	char		 name[] = USERSD_EXE, o_u[] = "-u", o_g[] = "-g";
	char		 o_l[] = "-l", o_v[] = "-v";
	char		*argv[12];
	sigset_t	 none;
	int		 i = 0, sig, logfd, e, s;

	/* Never outlive the supervisor; and not its signal mask. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != parent)
		_exit(0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)signal(sig, SIG_DFL);
	logfd = log_get_dest() == LOG_DEST_FILE ? log_get_fd() : -1;
	snprintf(dest, sizeof(dest), "%s", logfd != -1 ? "file" :
	    log_get_dest() == LOG_DEST_SYSLOG ? "syslog" : "stderr");
	snprintf(lvl, sizeof(lvl), "%s", log_level_name(level));
	/* Above the targets first, so that no dup2 overwrites a source. */
	if ((e = fcntl(exe, F_DUPFD_CLOEXEC, 64)) == -1 ||
	    (s = fcntl(sock, F_DUPFD_CLOEXEC, 64)) == -1 ||
	    (logfd != -1 && (logfd = fcntl(logfd, F_DUPFD_CLOEXEC, 64)) ==
	    -1) || dup2(s, USERSD_FD_SOCK) == -1 ||
	    (logfd != -1 && dup2(logfd, USERSD_FD_LOG) == -1) ||
	    dup2(e, USERSD_FD_LOG + 1) == -1)
		_exit(2);
	if (logfd == -1)
		(void)close(USERSD_FD_LOG);
	/* Only the binary's descriptor closes at exec. */
	(void)fcntl(USERSD_FD_LOG + 1, F_SETFD, FD_CLOEXEC);
	if (syscall(SYS_close_range, USERSD_FD_LOG + 2, ~0U, 0) == -1)
		for (i = USERSD_FD_LOG + 2; i < 4096; i++)
			(void)close(i);
	i = 0;
	argv[i++] = name;
	argv[i++] = o_u;
	argv[i++] = users;
	if (gid != (gid_t)-1) {
		snprintf(gbuf, sizeof(gbuf), "%u", (unsigned)gid);
		argv[i++] = o_g;
		argv[i++] = gbuf;
	}
	argv[i++] = o_l;
	argv[i++] = dest;
	argv[i++] = o_v;
	argv[i++] = lvl;
	argv[i] = NULL;
	fexecve(USERSD_FD_LOG + 1, argv, environ);
	_exit(2);		/* a binary that does not run will not later */
}

/* takd-usersd next to the running takd. */
static int
usersd_exe_open(char *err, size_t errlen)
{
	struct stat	 st;
	char		 self[PATH_MAX], exe[PATH_MAX + 32];
	char		*slash;
	ssize_t		 n;
	int		 fd;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		snprintf(err, errlen, "/proc/self/exe: %s", strerror(errno));
		return (-1);
	}
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	snprintf(exe, sizeof(exe), "%s/%s", self, USERSD_EXE);
	if ((fd = open(exe, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", exe, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 0111) == 0) {
		snprintf(err, errlen, "%s: not an executable file", exe);
		close(fd);
		return (-1);
	}
	/* Run as root: root's, writable by nobody else. */
	if (trust_stat_check(&st, exe, err, errlen) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

static void
usersd_attach(struct sup *sup, struct usersd_proc *up)
{
	struct epoll_event	 ev;

	if (up->chan == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (ipc_pending(up->chan) ? EPOLLOUT : 0);
	ev.data.ptr = &up->ev;
	if (epoll_ctl(sup->epfd, up->polled ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
	    up->chan->fd, &ev) == -1) {
		log_warn("usersd: epoll_ctl");
		return;
	}
	up->polled = true;
}

static void
usersd_close_chan(struct sup *sup, struct usersd_proc *up)
{
	if (up->chan == NULL)
		return;
	if (up->polled)
		(void)epoll_ctl(sup->epfd, EPOLL_CTL_DEL, up->chan->fd, NULL);
	up->polled = false;
	ipc_chan_free(up->chan);
	up->chan = NULL;
}

void
usersd_proc_start(struct sup *sup, gid_t gid)
{
	struct usersd_proc	*up;
	char			 err[PATH_MAX + 256];
	pid_t			 pid, parent = getpid();
	int			 sv[2], exe;

	if (!api_proc_console_revokes(sup->cfg) || sup->cfg->users[0] == '\0')
		return;
	if ((up = usersd_get(sup)) == NULL) {
		log_warn("usersd");
		return;
	}
	if ((exe = usersd_exe_open(err, sizeof(err))) == -1) {
		log_warnx("usersd: %s; user changes from the console are "
		    "unavailable (use takctl user)", err);
		snprintf(up->why, sizeof(up->why), "not installed");
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("usersd: socketpair");
		close(exe);
		return;
	}
	if ((pid = fork()) == -1) {
		log_warn("usersd: fork");
		close(exe);
		close(sv[0]);
		close(sv[1]);
		return;
	}
	if (pid == 0) {
		close(sv[0]);
		usersd_child(exe, sv[1], gid, parent, sup->cfg->users,
		    sup->cfg->log_level);
	}
	close(exe);
	close(sv[1]);
	if ((up->chan = ipc_chan_new(sv[0], USERSD_QUEUE)) == NULL) {
		log_warn("usersd: its channel");
		snprintf(up->why, sizeof(up->why), "no channel");
		return;
	}
	up->pid = pid;
	up->why[0] = '\0';
	usersd_attach(sup, up);
	log_info("usersd started, pid %d: user changes from the console",
	    (int)pid);
}

void
usersd_proc_child_close(struct sup *sup)
{
	struct usersd_proc	*up = sup->usersd;

	if (up == NULL || up->chan == NULL)
		return;
	/* Not epoll_ctl: the epoll set is shared with the supervisor's. */
	ipc_chan_free(up->chan);
	up->chan = NULL;
	up->polled = false;
}

/* The api's answer (IPC_MSG_USER_EDIT_ACK). */
static void
usersd_reply(struct sup *sup, uint32_t api_id, uint32_t st, const char *msg)
{
	struct ipc_buf	*b;
	char		 text[USERS_MSG_TEXT_MAX];
	size_t		 n;

	if ((b = malloc(sizeof(*b))) == NULL) {
		log_warn("usersd reply");
		return;
	}
	/* What the api takes: cut, never refused as malformed. */
	n = strnlen(msg, sizeof(text) - 1);
	memcpy(text, msg, n);
	text[n] = '\0';
	ipc_buf_init(b);
	if (users_rep_encode(st, text, b) == 0)
		(void)proc_send(sup, &sup->api, IPC_MSG_USER_EDIT_ACK, api_id,
		    b->data, b->len, -1);
	free(b);
}

static void
usersd_finish(struct sup *sup, struct usersd_proc *up, uint32_t st,
    const char *msg)
{
	usersd_reply(sup, up->api_id, st, msg);
	up->stage = USERSD_IDLE;
}

static void
usersd_unavailable(struct usersd_proc *up, char *msg, size_t len)
{
	snprintf(msg, len, "user changes are unavailable until takd "
	    "restarts (the helper takd-usersd is %s; see the server's log); "
	    "takctl user on the server still works", up == NULL ? "not "
	    "started" : up->why[0] != '\0' ? up->why : "not running");
}

int
usersd_proc_exited(struct sup *sup, pid_t pid, int status)
{
	struct usersd_proc	*up = sup->usersd;
	char			 msg[USERS_MSG_TEXT_MAX];

	if (up == NULL || pid <= 0 || pid != up->pid)
		return (0);
	up->pid = -1;
	up->last_status = status;
	usersd_close_chan(sup, up);
	if (sup->stopping) {
		snprintf(up->why, sizeof(up->why), "stopped");
		log_info("usersd (pid %d) stopped", (int)pid);
		return (1);
	}
	if (WIFEXITED(status))
		snprintf(up->why, sizeof(up->why), "exited with status %d",
		    WEXITSTATUS(status));
	else
		snprintf(up->why, sizeof(up->why), "killed by signal %d",
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	log_warnx("usersd (pid %d) %s; it cannot be restarted without root: "
	    "user changes from the console are unavailable until takd "
	    "restarts", (int)pid, up->why);
	if (up->stage == USERSD_ASKED) {
		usersd_unavailable(up, msg, sizeof(msg));
		usersd_finish(sup, up, USERS_ST_UNAVAILABLE, msg);
	}
	return (1);
}

int
usersd_proc_request(struct sup *sup, const struct ipc_msg *m)
{
	struct usersd_proc	*up = sup->usersd;
	struct users_req	*r;
	struct ipc_buf		*b;
	char			 msg[USERS_MSG_TEXT_MAX];
	uint32_t		 api_id = m->hdr.gen_or_peer;

	if ((r = malloc(sizeof(*r))) == NULL) {
		usersd_reply(sup, api_id, USERS_ST_ERROR, "out of memory");
		return (0);
	}
	if (users_req_decode(m, r) == -1) {
		log_warnx("api: malformed user change request");
		free(r);
		return (-1);
	}
	if (up == NULL || up->chan == NULL) {
		usersd_unavailable(up, msg, sizeof(msg));
		usersd_reply(sup, api_id, USERS_ST_UNAVAILABLE, msg);
		goto done;
	}
	if (up->stage != USERSD_IDLE) {
		usersd_reply(sup, api_id, USERS_ST_BUSY, "another user change "
		    "is under way; try again");
		goto done;
	}
	if ((b = malloc(sizeof(*b))) == NULL) {
		usersd_reply(sup, api_id, USERS_ST_ERROR, "out of memory");
		goto done;
	}
	ipc_buf_init(b);
	up->api_id = api_id;
	if (++up->next_id == 0)
		up->next_id = 1;
	if (users_req_encode(r, b) == -1 || ipc_send(up->chan,
	    IPC_MSG_USER_EDIT, up->next_id, 0, b->data, b->len, -1) == -1) {
		usersd_reply(sup, api_id, USERS_ST_UNAVAILABLE, "the helper "
		    "takd-usersd cannot be asked; see the server's log");
	} else {
		log_info("console: admin \"%s\" asks takd-usersd to %s user "
		    "\"%s\"", r->admin, users_op_name(r->op), r->user);
		snprintf(up->admin, sizeof(up->admin), "%s", r->admin);
		up->stage = USERSD_ASKED;
		up->deadline_ms = clock_mono_ms() + USERSD_ANSWER_MS;
		usersd_attach(sup, up);
	}
	OPENSSL_cleanse(b->data, b->len);
	free(b);
 done:
	users_req_clear(r);
	free(r);
	return (0);
}

static void
usersd_reload_done(struct sup *sup, const struct reload_report *rep,
    void *arg)
{
	struct usersd_proc	*up = arg;
	char			 msg[USERS_MSG_TEXT_MAX + RELOAD_ERROR_MAX + 64];

	if (up->magic != USERSD_PROC_MAGIC || up->stage != USERSD_RELOADING)
		return;
	if (rep->users.rc == -1) {
		log_warnx("console: the users file written for admin \"%s\" "
		    "was not taken by the reload: %s", up->admin,
		    rep->users.error);
		snprintf(msg, sizeof(msg), "%s, but the reload did not take "
		    "the file: %s", up->msg, rep->users.error);
		usersd_finish(sup, up, USERS_ST_ERROR, msg);
		return;
	}
	log_info("console: %s for admin \"%s\": users generation %u, %u "
	    "live session%s closed, %u changed", up->msg, up->admin,
	    rep->users.generation, rep->users.closed,
	    rep->users.closed == 1 ? "" : "s", rep->users.changed);
	snprintf(msg, sizeof(msg), "%s (in force: %u session%s closed, %u "
	    "changed)", up->msg, rep->users.closed,
	    rep->users.closed == 1 ? "" : "s", rep->users.changed);
	usersd_finish(sup, up, USERS_ST_OK, msg);
}

static void
usersd_reload(struct sup *sup, struct usersd_proc *up)
{
	up->stage = USERSD_RELOADING;
	if (reload_start(sup, usersd_reload_done, up, NULL, 0) == 0)
		return;
	/* One reload at a time: this one waits for the one in flight. */
	up->stage = USERSD_RELOAD_DUE;
	up->deadline_ms = clock_mono_ms() + USERSD_RETRY_MS;
}

static void
usersd_answer(struct sup *sup, struct usersd_proc *up, uint32_t id,
    uint32_t st, const char *msg)
{
	if (up->stage != USERSD_ASKED || id != up->next_id) {
		log_warnx("usersd: a late answer (request %u): %s", id, msg);
		/* Given up on, but written: the file must still take effect. */
		if (st == USERS_ST_OK)
			(void)reload_start(sup, NULL, NULL, NULL, 0);
		return;
	}
	if (st != USERS_ST_OK) {
		up->refused++;
		usersd_finish(sup, up, st, msg);
		return;
	}
	up->changes++;
	snprintf(up->msg, sizeof(up->msg), "%s", msg);
	usersd_reload(sup, up);
}

void
usersd_proc_event(struct sup *sup, unsigned events)
{
	struct usersd_proc	*up = sup->usersd;
	struct ipc_msg		 m;
	char			 msg[USERS_MSG_TEXT_MAX];
	uint32_t		 st;
	int			 rc = 0;

	if (up == NULL || up->chan == NULL)
		return;
	if ((events & EPOLLOUT) && ipc_flush(up->chan) == -1)
		rc = -1;
	while (rc == 0 && (rc = ipc_recv(up->chan, &m)) == 1) {
		rc = 0;
		if (m.hdr.type != IPC_MSG_USER_EDIT_ACK ||
		    users_rep_decode(&m, &st, msg, sizeof(msg)) == -1) {
			if (m.fd != -1)
				close(m.fd);
			log_warnx("usersd: a malformed answer; its channel is "
			    "closed");
			rc = -1;
			break;
		}
		usersd_answer(sup, up, m.hdr.gen_or_peer, st, msg);
	}
	if (rc == -1) {
		/* Its exit (SIGCHLD) says the rest; the channel is gone. */
		snprintf(up->why, sizeof(up->why), "gone");
		usersd_close_chan(sup, up);
		if (up->stage == USERSD_ASKED) {
			usersd_unavailable(up, msg, sizeof(msg));
			usersd_finish(sup, up, USERS_ST_UNAVAILABLE, msg);
		}
		return;
	}
	usersd_attach(sup, up);
}

void
usersd_proc_log_fd(struct sup *sup)
{
	struct usersd_proc	*up = sup->usersd;

	if (up == NULL || up->chan == NULL ||
	    log_get_dest() != LOG_DEST_FILE)
		return;
	if (ipc_send(up->chan, IPC_MSG_LOG_FD, 0, 0, NULL, 0,
	    log_get_fd()) == 0)
		usersd_attach(sup, up);
}

int
usersd_proc_tick(struct sup *sup)
{
	struct usersd_proc	*up = sup->usersd;
	char			 msg[USERS_MSG_TEXT_MAX];
	int64_t			 now = clock_mono_ms();

	if (up == NULL || (up->stage != USERSD_ASKED &&
	    up->stage != USERSD_RELOAD_DUE))
		return (-1);
	if (now < up->deadline_ms)
		return ((int)(up->deadline_ms - now));
	if (up->stage == USERSD_RELOAD_DUE)
		usersd_reload(sup, up);
	else {
		log_warnx("usersd: no answer in %d ms", USERSD_ANSWER_MS);
		snprintf(msg, sizeof(msg), "the helper takd-usersd did not "
		    "answer in time; look at the users again");
		usersd_finish(sup, up, USERS_ST_UNAVAILABLE, msg);
	}
	return (USERSD_RETRY_MS);
}

void
usersd_proc_free(struct sup *sup)
{
	struct usersd_proc	*up = sup->usersd;

	if (up == NULL)
		return;
	usersd_close_chan(sup, up);
	if (up->stage == USERSD_RELOADING)
		reload_detach(sup, up);
	up->magic = 0;
	free(up);
	sup->usersd = NULL;
}

void
usersd_proc_json(const struct sup *sup, struct json *j)
{
	const struct usersd_proc	*up = sup->usersd;

	if (up == NULL)
		return;
	json_key(j, "usersd");
	json_obj_begin(j);
	json_kv_str(j, "state", up->chan != NULL ? "running" : "unavailable");
	json_kv_int(j, "pid", up->pid > 0 ? up->pid : 0);
	json_kv_str(j, "why", up->chan != NULL ? "" : up->why);
	json_kv_uint(j, "changes", up->changes);
	json_kv_uint(j, "refused", up->refused);
	json_obj_end(j);
}
