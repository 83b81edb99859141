/*
 * The users file for takctl user and group (user.h): reading it, writing
 * it under the lock of its directory, and the password prompt.
 *
 * The write is shared/users_txn.c's, which takd-usersd (the console's
 * helper) uses too: the same lock, so that neither takctl nor the console
 * ever loses the other's change and takd never reads half a file.  Run as
 * root, the file is root's with the service user's group, mode 0640:
 * takd reads it after dropping root.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "shared/password.h"
#include "shared/trust.h"
#include "takctl/takctl.h"
#include "takctl/user.h"


/* --- the password ---------------------------------------------------- */

static struct termios	 user_tty_saved;
static volatile int	 user_tty_fd = -1;

/* SIGINT at the prompt: echo back on, then die of the signal. */
static void
user_tty_signal(int sig)
{
	if (user_tty_fd != -1)
		(void)tcsetattr(user_tty_fd, TCSAFLUSH, &user_tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * One line of fd into buf (room for PASSWORD_MAX bytes and the NUL),
 * without its "\n" (or "\r\n").  Its length, or -1 after a message.
 */
static ssize_t
user_read_line(int fd, char *buf, size_t len)
{
	size_t	 n = 0;
	ssize_t	 r;
	char	 c;

	for (;;) {
		r = read(fd, &c, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			takctl_warnx("reading the password: %s",
			    strerror(errno));
			return (-1);
		}
		if (r == 0 || c == '\n')
			break;
		if (c == '\0') {
			takctl_warnx("the password holds a NUL byte");
			return (-1);
		}
		if (n + 1 >= len) {
			takctl_warnx("the password is longer than %d bytes",
			    PASSWORD_MAX);
			return (-1);
		}
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return ((ssize_t)n);
}

/* A line read at the terminal fd after prompt, without echo. */
static ssize_t
user_tty_line(int fd, const char *prompt, char *buf, size_t len)
{
	struct sigaction	 sa, old[3];
	struct termios		 t;
	static const int	 sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	ssize_t			 n;
	int			 i;

	if (tcgetattr(fd, &user_tty_saved) == -1) {
		takctl_warnx("terminal: %s", strerror(errno));
		return (-1);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = user_tty_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	t = user_tty_saved;
	t.c_lflag &= ~(tcflag_t)ECHO;
	t.c_lflag |= ECHONL;
	user_tty_fd = fd;
	/*
	 * Echo off first, then the prompt: what is typed after the prompt is
	 * never echoed, nor flushed away by TCSAFLUSH (which drops what was
	 * typed before it, as getpass(3) does).
	 */
	if (tcsetattr(fd, TCSAFLUSH, &t) == -1) {
		takctl_warnx("terminal: %s", strerror(errno));
		n = -1;
	} else {
		fputs(prompt, stderr);
		fflush(stderr);
		n = user_read_line(fd, buf, len);
	}
	(void)tcsetattr(fd, TCSAFLUSH, &user_tty_saved);
	user_tty_fd = -1;
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	return (n);
}

ssize_t
user_password_read(const char *name, char *pw, size_t pwlen)
{
	char	 prompt[USERS_NAME_MAX + 64];

	if (!isatty(STDIN_FILENO))
		return (user_read_line(STDIN_FILENO, pw, pwlen));
	snprintf(prompt, sizeof(prompt), "password of %s: ", name);
	return (user_tty_line(STDIN_FILENO, prompt, pw, pwlen));
}

/*
 * The new password of name, hashed into hash: asked twice without echo
 * at a terminal, else one line of stdin.  -1 after a message.
 */
int
user_password(const char *name, char *hash, size_t hashlen)
{
	char	 pw[PASSWORD_MAX + 1], again[PASSWORD_MAX + 1];
	char	 prompt[USERS_NAME_MAX + 64], err[256];
	ssize_t	 n;
	int	 rc = -1;

	if (isatty(STDIN_FILENO)) {
		snprintf(prompt, sizeof(prompt), "password for %s: ", name);
		if ((n = user_tty_line(STDIN_FILENO, prompt, pw,
		    sizeof(pw))) == -1)
			goto done;
		if (n > 0 && user_tty_line(STDIN_FILENO, "again: ", again,
		    sizeof(again)) == -1)
			goto done;
		if (n > 0 && strcmp(pw, again) != 0) {
			takctl_warnx("the passwords differ; nothing changed");
			goto done;
		}
	} else if ((n = user_read_line(STDIN_FILENO, pw, sizeof(pw))) == -1)
		goto done;
	if (n == 0) {
		takctl_warnx("empty password; nothing changed (--no-password "
		    "makes a user that authenticates by certificate only)");
		goto done;
	}
	if (password_hash(pw, hash, hashlen, err, sizeof(err)) == -1) {
		takctl_warnx("%s", err);
		goto done;
	}
	rc = 0;
 done:
	OPENSSL_cleanse(pw, sizeof(pw));
	OPENSSL_cleanse(again, sizeof(again));
	return (rc);
}

/* --- the file -------------------------------------------------------- */


/*
 * The group takd reads the file with once it dropped root: [server]
 * group, or [server] user's primary group.  Not root: none (the file is
 * ours, as takd then runs as we do).
 */
static int
user_service_gid(const struct config *cfg, gid_t *gid)
{
	struct passwd	*pw;
	struct group	*gr;

	*gid = (gid_t)-1;
	if (geteuid() != 0)
		return (0);
	if (cfg->group[0] != '\0') {
		if ((gr = getgrnam(cfg->group)) == NULL) {
			takctl_warnx("[server] group %s: no such group; the "
			    "users file must be readable by takd's group",
			    cfg->group);
			return (-1);
		}
		*gid = gr->gr_gid;
		return (0);
	}
	if ((pw = getpwnam(cfg->user)) == NULL) {
		takctl_warnx("[server] user %s: no such user; the users file "
		    "must be readable by takd's group: create the account "
		    "(useradd --system --home-dir /nonexistent --shell "
		    "/usr/sbin/nologin %s) first", cfg->user, cfg->user);
		return (-1);
	}
	*gid = pw->pw_gid;
	return (0);
}

/*
 * Read the users file into t->us: with lock, under the directory's lock
 * (made when missing).  -1 after a message.
 */
int
user_begin(const struct config *cfg, struct users_txn *t, bool lock)
{
	char	 err[USERS_TXN_ERR_MAX];
	gid_t	 gid = (gid_t)-1;

	if (lock && user_service_gid(cfg, &gid) == -1) {
		memset(t, 0, sizeof(*t));
		return (-1);
	}
	if (users_txn_begin(t, cfg->users, gid, lock, err,
	    sizeof(err)) == -1) {
		takctl_warnx("%s", err);
		return (-1);
	}
	return (0);
}

void
user_end(struct users_txn *t)
{
	users_txn_end(t);
}

/* Write t->us in place of the file: all or nothing. */
int
user_commit(const struct config *cfg, struct users_txn *t)
{
	char	 err[USERS_TXN_ERR_MAX];

	(void)cfg;
	if (users_txn_commit(t, err, sizeof(err)) == -1) {
		takctl_warnx("%s", err);
		return (-1);
	}
	return (0);
}

/* "Blue, HQ (in), Cyan (out)" into buf. */
