/*
 * Start the fetcher programs, watch them, end them.  See fetcher.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "shared/trust.h"
#include "supervisor/fetcher.h"
#include "supervisor/signer_proc.h"

void
fetcher_init(struct fetcher *f, const char *exe, const char *what,
    enum sup_ev_kind kind, int nice)
{
	memset(f, 0, sizeof(*f));
	f->magic = FETCHER_MAGIC;
	f->exe = exe;
	f->what = what;
	f->nice = nice;
	f->ev.kind = kind;
	f->exe_fd = f->in_fd = -1;
	f->pidfd = f->res_fd = f->out_fd = -1;
}

int
fetcher_prepare(struct fetcher *f, const char *cfgkey, char *err,
    size_t errlen)
{
	char		 exe[PATH_MAX], dir[PATH_MAX], *p;
	struct stat	 st;

	/* Beside takd, like takd-signer: opened now, exec'ed later. */
	if (signer_exe_default(dir, sizeof(dir)) == -1 ||
	    (p = strrchr(dir, '/')) == NULL) {
		snprintf(err, errlen, "%s: cannot find %s", cfgkey, f->exe);
		return (-1);
	}
	*p = '\0';
	if (snprintf(exe, sizeof(exe), "%s/%s", dir, f->exe) >=
	    (int)sizeof(exe)) {
		snprintf(err, errlen, "%s: path too long", cfgkey);
		return (-1);
	}
	if ((f->exe_fd = open(exe, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %.200s: %s", cfgkey, exe,
		    strerror(errno));
		return (-1);
	}
	if (fstat(f->exe_fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 0111) == 0) {
		snprintf(err, errlen, "%s: %.200s: not an executable file",
		    cfgkey, exe);
		return (-1);
	}
	return (trust_stat_check(&st, exe, err, errlen));
}

int
fetcher_certs_memfd(const char *name, X509 *const *head, size_t n_head,
    STACK_OF(X509) *ca)
{
	BIO	*bio;
	size_t	 k;
	int	 fd, i, ok = 1;

	if ((fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING)) == -1)
		return (-1);
	if ((bio = BIO_new_fd(fd, BIO_NOCLOSE)) == NULL)
		ok = 0;
	for (k = 0; ok && k < n_head; k++)
		ok = PEM_write_bio_X509(bio, head[k]);
	for (i = 0; ok && i < sk_X509_num(ca); i++)
		ok = PEM_write_bio_X509(bio, sk_X509_value(ca, i));
	BIO_free(bio);
	if (!ok || fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW |
	    F_SEAL_SHRINK | F_SEAL_SEAL) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

bool
fetcher_running(const struct fetcher *f)
{
	return (f->pidfd != -1);
}

void
fetcher_end(struct sup *sup, struct fetcher *f, bool kill_it)
{
	siginfo_t	 si;

	if (f->pidfd == -1)
		return;
	if (f->polled)
		(void)epoll_ctl(sup->epfd, EPOLL_CTL_DEL, f->pidfd, NULL);
	f->polled = false;
	if (kill_it)
		(void)pidfd_send_signal(f->pidfd, SIGKILL, NULL, 0);
	memset(&si, 0, sizeof(si));
	(void)waitid(P_PIDFD, (id_t)f->pidfd, &si, WEXITED | WNOHANG);
	close(f->pidfd);
	close(f->res_fd);
	close(f->out_fd);
	f->pidfd = f->res_fd = f->out_fd = -1;
}

void
fetcher_cleanup(struct sup *sup, struct fetcher *f)
{
	fetcher_end(sup, f, true);
	if (f->exe_fd != -1)
		close(f->exe_fd);
	if (f->in_fd != -1)
		close(f->in_fd);
	f->exe_fd = f->in_fd = -1;
	f->magic = 0;
}

/*
 * In the child: the interface's descriptors at their numbers (parked above
 * them first, so that none is overwritten), nothing else; then the binary.
 */
static void __attribute__((noreturn))
fetcher_child(struct fetcher *f, int res, int out, char *const argv[])
{
	int		 src[] = { res, -1, out, f->exe_fd };
	int		 dst[] = { FETCHER_FD_RES, FETCHER_FD_IN,
			    FETCHER_FD_OUT, FETCHER_FD_EXE };
	int		 park[4];
	char		 path[64];
	char		*envp[] = { NULL };
	sigset_t	 none;
	size_t		 i;

	/* The memfd opened anew: its own offset, at 0, for this child. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", f->in_fd);
	if ((src[1] = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		_exit(127);
	for (i = 0; i < 4; i++)
		if ((park[i] = fcntl(src[i], F_DUPFD_CLOEXEC,
		    FETCHER_PARK)) == -1)
			_exit(127);
	for (i = 0; i < 4; i++)
		if (dup2(park[i], dst[i]) == -1)
			_exit(127);
	(void)fcntl(FETCHER_FD_EXE, F_SETFD, FD_CLOEXEC);
	if (syscall(SYS_close_range, FETCHER_FD_EXE + 1, ~0U, 0) == -1)
		for (i = FETCHER_FD_EXE + 1; i < 4096; i++)
			(void)close((int)i);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)setpriority(PRIO_PROCESS, 0, f->nice);
	/* No environment: no proxy, no locale, nothing of the service's. */
	fexecve(FETCHER_FD_EXE, argv, envp);
	_exit(127);
}

int
fetcher_spawn(struct sup *sup, struct fetcher *f, char *const argv[],
    int64_t budget_ms)
{
	struct epoll_event	 ev;
	char			 name[64];
	int			 p[2] = { -1, -1 }, out = -1, pidfd = -1;
	pid_t			 pid;

	snprintf(name, sizeof(name), "%s-out", f->exe);
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1 ||
	    (out = memfd_create(name, MFD_CLOEXEC)) == -1) {
		log_warn("%s: cannot start %s", f->what, f->exe);
		goto fail;
	}
	if ((pid = fork()) == -1) {
		log_warn("%s: fork", f->what);
		goto fail;
	}
	if (pid == 0)
		fetcher_child(f, p[1], out, argv);
	close(p[1]);
	p[1] = -1;
	if ((pidfd = pidfd_open(pid, 0)) == -1) {
		log_warn("%s: pidfd_open", f->what);
		kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		goto fail;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &f->ev;
	f->pidfd = pidfd;
	f->res_fd = p[0];
	f->out_fd = out;
	if (epoll_ctl(sup->epfd, EPOLL_CTL_ADD, pidfd, &ev) == -1) {
		log_warn("%s: epoll_ctl", f->what);
		fetcher_end(sup, f, true);
		return (-1);
	}
	f->polled = true;
	f->deadline_ms = clock_mono_ms() + budget_ms;
	return (0);
fail:
	if (p[0] != -1)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	if (out != -1)
		close(out);
	return (-1);
}
