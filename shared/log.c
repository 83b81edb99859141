/*
 * Logging: see log.h.  Lines are written with one write(2) each so that lines of
 * several processes sharing a file or stderr never interleave mid-line.
 */
#include <errno.h>
#include <fcntl.h>
#include <paths.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "shared/clock.h"
#include "shared/log.h"

#define LOG_LINE_MAX		2048
#define LOG_SYSLOG_RETRY	1	/* seconds between connect attempts */
#define LOG_SUN_PATH		sizeof(((struct sockaddr_un *)NULL)->sun_path)

static enum log_dest	 log_dest = LOG_DEST_STDERR;
static int		 log_level = LOG_INFO;
static int		 log_fd = STDERR_FILENO;
static char		 log_path[4096];
static char		 log_prefix[32] = "takd";
static int		 log_sock = -1;		/* to syslog */
static char		 log_sock_path[LOG_SUN_PATH] = _PATH_LOG;
static time_t		 log_sock_retry;	/* no connect before (monotonic s) */
static unsigned long	 log_lost;		/* lines syslog did not take */
static int		 log_journal;		/* stderr is the journal */

static const char *const level_names[] = {
	[LOG_ERR] = "error",
	[LOG_WARNING] = "warning",
	[LOG_NOTICE] = "notice",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

int
log_level_parse(const char *s)
{
	int	 i;

	for (i = LOG_ERR; i <= LOG_DEBUG; i++)
		if (level_names[i] != NULL && strcmp(s, level_names[i]) == 0)
			return (i);
	if (strcmp(s, "warn") == 0)
		return (LOG_WARNING);
	return (-1);
}

const char *
log_level_name(int level)
{
	if (level < LOG_ERR || level > LOG_DEBUG || level_names[level] == NULL)
		return ("?");
	return (level_names[level]);
}

static int		 log_dirfd = -1;	/* the log file's directory */

/*
 * Reopening goes through a descriptor of the directory taken at start, so
 * that after the privilege drop only that directory (not its ancestors) must
 * be searchable by the service user.  The file is opened as root at start:
 * never through a link, never a FIFO or device that would hang us, never a
 * file with other names (a hard link to someone else's file), since its
 * owner is changed next (log_chown).
 */
static int
log_open_file(const char *path)
{
	const char	*base;
	char		 dir[4096];
	struct stat	 st;
	int		 fd, saved;

	if (log_dirfd == -1) {
		snprintf(dir, sizeof(dir), "%s", path);
		if ((base = strrchr(dir, '/')) != NULL)
			dir[base - dir + (base == dir)] = '\0';
		else
			snprintf(dir, sizeof(dir), ".");
		log_dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (log_dirfd == -1)
			return (-1);
	}
	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	fd = openat(log_dirfd, base, O_WRONLY | O_APPEND | O_CREAT |
	    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0640);
	if (fd == -1)
		return (-1);
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		errno = S_ISREG(st.st_mode) ? EMLINK : EINVAL;
		goto fail;
	}
	return (fd);
 fail:
	saved = errno;
	close(fd);
	errno = saved;
	return (-1);
}

static time_t
log_monotonic(void)
{
	return ((time_t)(clock_mono_ms() / 1000));
}

/*
 * Connect to the local syslog socket.  Non-blocking: a syslog daemon that
 * falls behind costs log lines, never a stalled event loop.  Failing is not
 * an error (there may be no syslog yet); the next try comes a second later,
 * not at every line, since each try costs three system calls.
 */
static void
log_syslog_open(void)
{
	struct sockaddr_un	 sun;

	if (log_sock != -1 || (log_sock_retry != 0 &&
	    log_monotonic() < log_sock_retry))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, log_sock_path, sizeof(sun.sun_path));
	if ((log_sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) != -1 &&
	    connect(log_sock, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		log_sock_retry = 0;
		return;
	}
	if (log_sock != -1)
		close(log_sock);
	log_sock = -1;
	log_sock_retry = log_monotonic() + LOG_SYSLOG_RETRY;
}

static void
log_syslog_close(void)
{
	if (log_sock != -1)
		close(log_sock);
	log_sock = -1;
}

void
log_syslog_path(const char *path)
{
	snprintf(log_sock_path, sizeof(log_sock_path), "%s",
	    path != NULL ? path : _PATH_LOG);
	log_syslog_close();
	log_sock_retry = 0;
}

/* $JOURNAL_STREAM is "DEV:INODE" of the stream systemd gave as stderr. */
static int
log_stderr_is_journal(void)
{
	const char		*env = getenv("JOURNAL_STREAM");
	struct stat		 st;
	unsigned long long	 dev, ino;

	if (env == NULL || sscanf(env, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return (0);
	return ((unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino);
}

int
log_chown(uid_t uid, gid_t gid)
{
	if (log_dest != LOG_DEST_FILE)
		return (0);
	return (fchown(log_fd, uid, gid));
}

int
log_init_fd(int fd, int level)
{
	log_level = level;
	if (log_fd != STDERR_FILENO && log_fd >= 0 && log_fd != fd)
		close(log_fd);
	log_fd = fd;
	log_path[0] = '\0';
	log_syslog_close();
	log_journal = 0;
	log_dest = LOG_DEST_FILE;
	return (0);
}

int
log_init(enum log_dest dest, const char *path, int level)
{
	return (log_init_at(dest, -1, path, level));
}

int
log_init_at(enum log_dest dest, int dirfd, const char *path, int level)
{
	int	 fd;

	log_level = level;
	if (dest == LOG_DEST_FILE) {
		/* Another path may be in another directory. */
		if (log_dirfd != -1)
			close(log_dirfd);
		log_dirfd = dirfd;
		if ((fd = log_open_file(path)) == -1)
			return (-1);
		snprintf(log_path, sizeof(log_path), "%s", path);
	} else
		fd = STDERR_FILENO;
	/* What the previous destination held open is not needed now. */
	if (log_fd != STDERR_FILENO && log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	log_syslog_close();
	log_sock_retry = 0;
	log_journal = 0;
	if (dest == LOG_DEST_SYSLOG)
		log_syslog_open();
	else if (dest == LOG_DEST_STDERR)
		log_journal = log_stderr_is_journal();
	log_dest = dest;
	return (0);
}

void
log_procinit(const char *prefix)
{
	snprintf(log_prefix, sizeof(log_prefix), "%s", prefix);
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_reopen(void)
{
	int	 fd;

	if (log_dest != LOG_DEST_FILE)
		return (0);
	if ((fd = log_open_file(log_path)) == -1)
		return (-1);
	if (log_fd >= 0 && log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = fd;
	return (0);
}

enum log_dest
log_get_dest(void)
{
	return (log_dest);
}

int
log_get_fd(void)
{
	if (log_dest == LOG_DEST_SYSLOG)
		return (log_sock);
	return (log_dest == LOG_DEST_FILE ? log_fd : -1);
}

void
log_set_fd(int fd)
{
	if (log_dest != LOG_DEST_FILE) {
		close(fd);
		return;
	}
	if (log_fd >= 0 && log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = fd;
}

/* One line in the BSD syslog format (RFC 3164) that syslog(3) sends. */
static size_t
log_syslog_format(char *line, size_t size, int level, const char *msg)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t		 now = time(NULL);
	struct tm	 tm;
	int		 n;

	localtime_r(&now, &tm);
	n = snprintf(line, size, "<%d>%s %2d %02d:%02d:%02d takd[%d]: %s: %s",
	    LOG_DAEMON | level, mon[tm.tm_mon], tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)getpid(), log_prefix, msg);
	if (n < 0)
		return (0);
	return ((size_t)n >= size ? size - 1 : (size_t)n);
}

/* One datagram to syslog: 0 sent, -1 lost. */
static int
log_syslog_send(const char *line, size_t n)
{
	ssize_t	 r;
	int	 tries;

	for (tries = 0; tries < 2; tries++) {
		log_syslog_open();
		if (log_sock == -1)
			return (-1);
		do {
			r = send(log_sock, line, n, MSG_NOSIGNAL);
		} while (r == -1 && errno == EINTR);
		if (r != -1)
			return (0);
		/*
		 * Its queue is full (EAGAIN), memory is short (ENOBUFS), or
		 * it takes no datagram this long: this line is lost, the
		 * connection is still good.
		 */
		if (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ENOBUFS || errno == ENOMEM || errno == EMSGSIZE)
			return (-1);
		/*
		 * ECONNREFUSED, ENOTCONN: the daemon restarted and its
		 * socket is a new one; connect again and retry once.
		 */
		log_syslog_close();
	}
	/* A socket that connects but takes nothing: as if it were away. */
	log_sock_retry = log_monotonic() + LOG_SYSLOG_RETRY;
	return (-1);
}

static void
log_syslog_emit(int level, const char *msg)
{
	char	 line[LOG_LINE_MAX + 128], lost[96];
	size_t	 n;

	/* Say what was lost first, once syslog takes lines again. */
	if (log_lost > 0) {
		snprintf(lost, sizeof(lost), "%lu log lines lost (syslog busy "
		    "or unreachable)", log_lost);
		n = log_syslog_format(line, sizeof(line), LOG_WARNING, lost);
		if (n > 0 && log_syslog_send(line, n) == 0)
			log_lost = 0;
	}
	n = log_syslog_format(line, sizeof(line), level, msg);
	if (n == 0 || log_syslog_send(line, n) == -1)
		log_lost++;
}

static void
log_emit(int level, const char *msg)
{
	char		 line[LOG_LINE_MAX + 128];
	int64_t		 wall;
	time_t		 sec;
	struct tm	 tm;
	int		 n;

	if (log_dest == LOG_DEST_SYSLOG) {
		log_syslog_emit(level, msg);
		return;
	}
	if (log_journal)	/* the journal stamps the time itself */
		n = snprintf(line, sizeof(line), "<%d>%s[%d] %s: %s\n", level,
		    log_prefix, (int)getpid(), log_level_name(level), msg);
	else {
		wall = clock_wall_ms();
		sec = (time_t)(wall / 1000);
		gmtime_r(&sec, &tm);
		n = snprintf(line, sizeof(line),
		    "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s[%d] %s: %s\n",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, (int)(wall % 1000), log_prefix,
		    (int)getpid(), log_level_name(level), msg);
	}
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* A failed log write has nowhere to be reported; the daemon carries on. */
	while (write(log_fd, line, (size_t)n) == -1 && errno == EINTR)
		;
}

static void log_vfmt(int, int, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
log_vfmt(int level, int with_errno, const char *fmt, va_list ap)
{
	char	 msg[LOG_LINE_MAX];
	int	 saved = errno;
	size_t	 len;

	/* Lines below the level cost a comparison, not a formatting. */
	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len, ": %s", strerror(saved));
	}
	log_emit(level, msg);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vfmt(LOG_WARNING, 1, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vfmt(LOG_WARNING, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vfmt(LOG_INFO, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vfmt(LOG_DEBUG, 0, fmt, ap);
	va_end(ap);
}

void
log_ssl(int level, const char *fmt, ...)
{
	char		 msg[LOG_LINE_MAX];
	char		 err[256];
	unsigned long	 e;
	size_t		 len;
	va_list		 ap;

	if (level > log_level) {
		ERR_clear_error();
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, err, sizeof(err));
		len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len, ": %s", err);
	}
	log_emit(level, msg);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vfmt(LOG_ERR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vfmt(LOG_ERR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx_status(int status, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vfmt(LOG_ERR, 0, fmt, ap);
	va_end(ap);
	exit(status);
}

/*
 * 1 when a line under rl may go out now, 0 when it is over the rate;
 * *suppressed gets the lines dropped since the last one allowed.
 */
static int
log_ratelimit_ok(struct log_ratelimit *rl, unsigned long *suppressed)
{
	time_t		 now = log_monotonic();

	if (rl->burst == 0)
		rl->burst = 10;
	if (rl->window == 0)
		rl->window = 1;
	if (now - rl->window_start >= (long)rl->window) {
		rl->window_start = now;
		rl->count = 0;
	}
	if (rl->count++ < rl->burst) {
		*suppressed = rl->suppressed;
		rl->suppressed = 0;
		return (1);
	}
	rl->suppressed++;
	return (0);
}

void
log_limited(struct log_ratelimit *rl, int level, const char *fmt, ...)
{
	char		 msg[LOG_LINE_MAX];
	unsigned long	 suppressed;
	size_t		 len;
	va_list		 ap;

	if (level > log_level || !log_ratelimit_ok(rl, &suppressed))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (suppressed > 0) {
		len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len,
		    " (%lu similar lines suppressed)", suppressed);
	}
	log_emit(level, msg);
}

void
log_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	 ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}
