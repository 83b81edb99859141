/*
 * Starting takd-signer: see signer_proc.h.  Nothing here parses a key or
 * a certificate; takd stays free of pki/.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/sign_msg.h"
#include "shared/clock.h"
#include "shared/fileio.h"
#include "shared/log.h"
#include "shared/trust.h"
#include "supervisor/signer_proc.h"

#define SIGNER_FD_EXE		(SIGN_FD_LAST + 1)	/* only until exec */
#define SIGNER_CTL_QUEUE	(256 * 1024)
#define SIGNER_FD_PARK		64	/* above every target while moving */

extern char **environ;

static void	 signer_close_revoke(struct signer_proc *);

int
signer_exe_default(char *buf, size_t len)
{
	char	 self[PATH_MAX];
	char	*slash;
	ssize_t	 n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return (-1);
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return (-1);
	*slash = '\0';
	n = snprintf(buf, len, "%s/%s", self, SIGNER_EXE);
	return (n < 0 || (size_t)n >= len ? -1 : 0);
}

static void
signer_fds_init(struct signer_proc *sp)
{
	sp->exe_fd = sp->ca_fd = sp->key_fd = sp->dir_fd = -1;
	sp->journal_fd = sp->usersdir_fd = -1;
	sp->revj_fd = sp->crldir_fd = sp->storedir_fd = -1;
}

void
signer_init(struct signer_proc *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->magic = SIGNER_PROC_MAGIC;
	sp->pid = sp->old_pid = -1;
	signer_fds_init(sp);
}

/* A file of the PKI directory, read only, checked as takd checks keys. */
static int
signer_open_pki(struct signer_proc *sp, const char *dir, const char *name,
    char *err, size_t errlen)
{
	struct stat	 st;
	char		 path[PATH_MAX + 64];
	int		 fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = fileio_open(sp->dir_fd, name, path, &st, err,
	    errlen)) == -1) {
		if (errno == ENOENT)
			snprintf(err, errlen, "%s: no such file; enrollment "
			    "needs the CA (takctl pki init-ca)", path);
		return (-1);
	}
	if (trust_stat_check(&st, path, err, errlen) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

static const char *
signer_level_name(int level)
{
	switch (level) {
	case LOG_ERR:
		return ("error");
	case LOG_WARNING:
		return ("warning");
	case LOG_DEBUG:
		return ("debug");
	default:
		return ("info");
	}
}

int
signer_prepare(struct signer_proc *sp, const struct config *cfg,
    const char *exe, char *err, size_t errlen)
{
	struct stat	 st;
	char		 dir[PATH_MAX], base[PATH_MAX], why[PATH_MAX + 256];

	signer_init(sp);
	/* The binary: opened now, exec'ed later by descriptor. */
	if ((sp->exe_fd = open(exe, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", exe, strerror(errno));
		goto fail;
	}
	if (fstat(sp->exe_fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 0111) == 0) {
		snprintf(err, errlen, "%s: not an executable file", exe);
		goto fail;
	}
	if (trust_stat_check(&st, exe, err, errlen) == -1)
		goto fail;

	if ((sp->dir_fd = trust_dir_open(cfg->pki_dir, 0, 0, why,
	    sizeof(why))) == -1) {
		snprintf(err, errlen, "[pki] dir: %s", why);
		goto fail;
	}
	if ((sp->ca_fd = signer_open_pki(sp, cfg->pki_dir, "ca.pem", err,
	    errlen)) == -1 ||
	    (sp->key_fd = signer_open_pki(sp, cfg->pki_dir, "ca.key", err,
	    errlen)) == -1)
		goto fail;
	if (fstat(sp->key_fd, &st) == 0 && (st.st_mode & 077) != 0)
		log_warnx("%s/ca.key is readable by group or others; chmod "
		    "600 it", cfg->pki_dir);
	/*
	 * Only appended to, by the signer; root's, like the index.
	 * O_NONBLOCK: a FIFO planted there must not hang the start-up.
	 */
	sp->journal_fd = openat(sp->dir_fd, "enrolled.txt", O_WRONLY |
	    O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (sp->journal_fd == -1 || fstat(sp->journal_fd, &st) == -1 ||
	    !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s/enrolled.txt: %s", cfg->pki_dir,
		    sp->journal_fd == -1 ? strerror(errno) :
		    "not a regular file");
		goto fail;
	}
	if (trust_stat_check(&st, "enrolled.txt", err, errlen) == -1)
		goto fail;
	(void)fcntl(sp->journal_fd, F_SETFL, O_APPEND);

	if (trust_split(cfg->users, dir, base) == -1) {
		snprintf(err, errlen, "[auth] users: path too long");
		goto fail;
	}
	if (strlen(base) >= sizeof(sp->users_name)) {
		snprintf(err, errlen, "[auth] users: file name too long");
		goto fail;
	}
	if ((sp->usersdir_fd = trust_dir_open(dir, 0, 0, why,
	    sizeof(why))) == -1) {
		snprintf(err, errlen, "[auth] users: %s", why);
		goto fail;
	}
	memcpy(sp->users_name, base, strlen(base) + 1);
	snprintf(sp->days, sizeof(sp->days), "%u", cfg->cert_days);
	snprintf(sp->o, sizeof(sp->o), "%s", cfg->cert_o);
	snprintf(sp->ou, sizeof(sp->ou), "%s", cfg->cert_ou);
	snprintf(sp->trusted, sizeof(sp->trusted), "%u",
	    (unsigned)trust_get_owner());
	sp->level = signer_level_name(cfg->log_level);
	sp->rate = cfg->enroll_rate;
	sp->burst = cfg->enroll_burst;
	return (0);
 fail:
	signer_close(sp);
	return (-1);
}

int
signer_prepare_revoke(struct signer_proc *sp, const struct config *cfg,
    char *err, size_t errlen)
{
	struct stat	 st;
	char		 dir[PATH_MAX], base[PATH_MAX], why[PATH_MAX + 256];
	int		 fd;

	if (sp->dir_fd == -1) {
		snprintf(err, errlen, "the signer is not prepared");
		return (-1);
	}
	/* Like enrolled.txt: root's, 0600; read back by the signer too. */
	sp->revj_fd = openat(sp->dir_fd, SIGN_REVJOURNAL_NAME, O_RDWR |
	    O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (sp->revj_fd == -1 || fstat(sp->revj_fd, &st) == -1 ||
	    !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s/%s: %s", cfg->pki_dir,
		    SIGN_REVJOURNAL_NAME, sp->revj_fd == -1 ? strerror(errno) :
		    "not a regular file");
		goto fail;
	}
	if (trust_stat_check(&st, SIGN_REVJOURNAL_NAME, err, errlen) == -1)
		goto fail;
	(void)fcntl(sp->revj_fd, F_SETFL, O_APPEND);
	/* The CRL file's directory, walked as takd walks it. */
	if (cfg->crl[0] != '\0' && trust_split(cfg->crl, dir, base) == 0 &&
	    strlen(base) < sizeof(sp->crl_name)) {
		if ((sp->crldir_fd = trust_dir_open(dir, 0, 0, why,
		    sizeof(why))) == -1) {
			snprintf(err, errlen, "[tls] crl: %s", why);
			goto fail;
		}
		memcpy(sp->crl_name, base, strlen(base) + 1);
	}
	/* STATE_DIR/store: the service user's; its CRL is checked anyway. */
	if ((fd = trust_dir_open(cfg->state_dir, 0, 0, why,
	    sizeof(why))) != -1) {
		sp->storedir_fd = openat(fd, "store", O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		close(fd);
	}
	return (0);
 fail:
	signer_close_revoke(sp);
	return (-1);
}

/*
 * In the child: every descriptor to its number.  Each source goes above
 * the targets first, so that no dup2() overwrites one still to be moved.
 */
static void
signer_child_fds(struct signer_proc *sp, int sock, int ctl)
{
	int	 src[] = { sock, sp->ca_fd, sp->key_fd, sp->dir_fd,
		    sp->journal_fd, sp->usersdir_fd, log_get_dest() ==
		    LOG_DEST_FILE ? log_get_fd() : -1, ctl, sp->revj_fd,
		    sp->crldir_fd, sp->storedir_fd, sp->exe_fd };
	int	 dst[] = { SIGN_FD_SOCK, SIGN_FD_CA, SIGN_FD_KEY,
		    SIGN_FD_PKIDIR, SIGN_FD_JOURNAL, SIGN_FD_USERSDIR,
		    SIGN_FD_LOG, SIGN_FD_CTL, SIGN_FD_REVJOURNAL,
		    SIGN_FD_CRLDIR, SIGN_FD_STOREDIR, SIGNER_FD_EXE };
	int	 park[sizeof(src) / sizeof(src[0])];
	size_t	 i, n = sizeof(src) / sizeof(src[0]);

	for (i = 0; i < n; i++) {
		park[i] = -1;
		if (src[i] >= 0 && (park[i] = fcntl(src[i], F_DUPFD_CLOEXEC,
		    SIGNER_FD_PARK)) == -1)
			_exit(2);
	}
	for (i = 0; i < n; i++) {
		if (park[i] == -1) {
			/* Not given: nothing of the parent's at its number. */
			(void)close(dst[i]);
			continue;
		}
		if (dup2(park[i], dst[i]) == -1)
			_exit(2);
	}
	/* Only the exec'ed binary's descriptor closes at exec. */
	(void)fcntl(SIGNER_FD_EXE, F_SETFD, FD_CLOEXEC);
	/* Nothing else crosses: listeners, LMDB, channels, the parked. */
	if (syscall(SYS_close_range, SIGNER_FD_EXE + 1, ~0U, 0) == -1)
		for (i = SIGNER_FD_EXE + 1; i < 4096; i++)
			(void)close((int)i);
}

static void __attribute__((noreturn))
signer_child(struct signer_proc *sp, int sock, int ctl, pid_t parent)
{
	char		 rate[16], burst[16], dest[8], level[16];
	char		 copy[] = SIGN_CRL_COPY_NAME, o_c[] = "-c", o_C[] = "-C";
	char		 name[] = SIGNER_EXE, o_d[] = "-d", o_o[] = "-o";
	char		 o_u[] = "-u", o_n[] = "-n", o_T[] = "-T", o_l[] = "-l";
	char		 o_v[] = "-v", o_r[] = "-r", o_b[] = "-b";
	sigset_t	 none;
	char		*argv[32];
	int		 i = 0, sig;

	/* Never outlive the supervisor; and not its signal mask. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != parent)
		_exit(0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)signal(sig, SIG_DFL);
	snprintf(dest, sizeof(dest), "%s", log_get_dest() == LOG_DEST_FILE ?
	    "file" : log_get_dest() == LOG_DEST_SYSLOG ? "syslog" : "stderr");
	snprintf(level, sizeof(level), "%s", sp->level);
	signer_child_fds(sp, sock, ctl);
	snprintf(rate, sizeof(rate), "%u", sp->rate);
	snprintf(burst, sizeof(burst), "%u", sp->burst);
	argv[i++] = name;
	argv[i++] = o_d;
	argv[i++] = sp->days;
	argv[i++] = o_o;
	argv[i++] = sp->o;
	argv[i++] = o_u;
	argv[i++] = sp->ou;
	argv[i++] = o_n;
	argv[i++] = sp->users_name;
	argv[i++] = o_T;
	argv[i++] = sp->trusted;
	argv[i++] = o_l;
	argv[i++] = dest;
	argv[i++] = o_v;
	argv[i++] = level;
	if (sp->rate != 0) {
		argv[i++] = o_r;
		argv[i++] = rate;
	}
	if (sp->burst != 0) {
		argv[i++] = o_b;
		argv[i++] = burst;
	}
	if (sp->revj_fd != -1 && sp->crl_name[0] != '\0') {
		argv[i++] = o_c;
		argv[i++] = sp->crl_name;
	}
	if (sp->revj_fd != -1 && sp->storedir_fd != -1) {
		argv[i++] = o_C;
		argv[i++] = copy;
	}
	argv[i] = NULL;
	fexecve(SIGNER_FD_EXE, argv, environ);
	log_warn("signer: exec %s", SIGNER_EXE);
	_exit(2);		/* a binary that does not run will not later */
}

static void
signer_pair_close(int sv[2])
{
	if (sv[0] != -1)
		close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	sv[0] = sv[1] = -1;
}

int
signer_spawn(struct signer_proc *sp, int *api_fd)
{
	pid_t	 pid, parent = getpid();
	int	 sv[2] = { -1, -1 }, cv[2] = { -1, -1 };

	if (api_fd != NULL)
		*api_fd = -1;
	if (sp->magic != SIGNER_PROC_MAGIC || sp->exe_fd == -1) {
		log_warnx("signer: not prepared");
		return (-1);
	}
	if (sp->pid != -1) {
		/* Its channel goes with the api it served: a new pair. */
		signer_stop(sp);
		sp->old_pid = sp->pid;
		sp->pid = -1;
	}
	ipc_chan_free(sp->ctl);
	sp->ctl = NULL;
	if ((api_fd != NULL && socketpair(AF_UNIX, SOCK_SEQPACKET |
	    SOCK_CLOEXEC, 0, sv) == -1) || (sp->revj_fd != -1 &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, cv) == -1)) {
		log_warn("signer: socketpair");
		signer_pair_close(sv);
		return (-1);
	}
	if ((pid = fork()) == -1) {
		log_warn("signer: fork");
		signer_pair_close(sv);
		signer_pair_close(cv);
		return (-1);
	}
	if (pid == 0) {
		if (sv[0] != -1)
			close(sv[0]);
		if (cv[0] != -1)
			close(cv[0]);
		signer_child(sp, sv[1], cv[1], parent);
	}
	if (sv[1] != -1)
		close(sv[1]);
	if (cv[1] != -1)
		close(cv[1]);
	if (cv[0] != -1 && (sp->ctl = ipc_chan_new(cv[0],
	    SIGNER_CTL_QUEUE)) == NULL)
		log_warn("signer: its revocation channel");
	sp->pid = pid;
	sp->started_ms = clock_mono_ms();
	sp->respawn_at_ms = 0;
	log_info("signer started, pid %d%s%s", (int)pid, api_fd != NULL ?
	    ", enrollment" : "", sp->ctl != NULL ? ", revocation" : "");
	if (api_fd != NULL)
		*api_fd = sv[0];
	return (0);
}

int
signer_exited(struct signer_proc *sp, pid_t pid, int status, int64_t now_ms)
{
	if (sp->magic != SIGNER_PROC_MAGIC || pid == -1)
		return (0);
	if (pid == sp->old_pid) {
		sp->old_pid = -1;
		log_debug("replaced signer (pid %d) reaped", (int)pid);
		return (1);
	}
	if (pid != sp->pid)
		return (0);
	sp->pid = -1;
	sp->last_status = status;
	if (sp->stopping) {
		log_info("signer (pid %d) stopped", (int)pid);
		return (1);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
		sp->gave_up = true;
		log_warnx("signer (pid %d) cannot start; not respawned: "
		    "enrollment is refused until takd restarts", (int)pid);
		return (1);
	}
	if (now_ms - sp->started_ms >= SIGNER_STABLE_MS ||
	    sp->backoff_ms == 0)
		sp->backoff_ms = SIGNER_BACKOFF_MIN_MS;
	else if ((sp->backoff_ms *= 2) > SIGNER_BACKOFF_MAX_MS)
		sp->backoff_ms = SIGNER_BACKOFF_MAX_MS;
	sp->respawn_at_ms = now_ms + sp->backoff_ms;
	sp->restarts++;
	if (WIFEXITED(status))
		log_info("signer (pid %d) exited with status %d; respawn in "
		    "%u ms", (int)pid, WEXITSTATUS(status), sp->backoff_ms);
	else
		log_warnx("signer (pid %d) killed by signal %d; respawn in "
		    "%u ms", (int)pid, WIFSIGNALED(status) ?
		    WTERMSIG(status) : 0, sp->backoff_ms);
	return (1);
}

bool
signer_respawn_due(const struct signer_proc *sp, int64_t now_ms)
{
	/* respawn_at_ms is set by an exit only: a first start is explicit. */
	return (sp->magic == SIGNER_PROC_MAGIC && sp->pid == -1 &&
	    !sp->gave_up && !sp->stopping && sp->exe_fd != -1 && sp->respawn_at_ms != 0 &&
	    now_ms >= sp->respawn_at_ms);
}

void
signer_stop(struct signer_proc *sp)
{
	if (sp->magic == SIGNER_PROC_MAGIC && sp->pid > 0)
		(void)kill(sp->pid, SIGTERM);
}

void
signer_shutdown(struct signer_proc *sp)
{
	if (sp->magic != SIGNER_PROC_MAGIC)
		return;
	sp->stopping = true;
	signer_stop(sp);
}

static void
signer_close_revoke(struct signer_proc *sp)
{
	int	*fds[] = { &sp->revj_fd, &sp->crldir_fd, &sp->storedir_fd };
	size_t	 i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

void
signer_close(struct signer_proc *sp)
{
	signer_close_revoke(sp);
	ipc_chan_free(sp->ctl);
	sp->ctl = NULL;
	int	*fds[] = { &sp->exe_fd, &sp->ca_fd, &sp->key_fd, &sp->dir_fd,
		    &sp->journal_fd, &sp->usersdir_fd };
	size_t	 i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}
