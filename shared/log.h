/*
 * Logging for every takd process.  One line per event worth logging, with the
 * process prefix set by log_procinit() ("supervisor", "worker 1").  Destinations:
 * stderr, syslog, or a file opened O_APPEND (reopened on SIGUSR1 by the supervisor,
 * which hands the new descriptor to the workers).
 *
 * syslog is spoken by this module over its own datagram socket to /dev/log
 * rather than by syslog(3): the C library's hidden descriptor would be closed
 * by the descriptor sweep of a forked worker, and its later reconnect would
 * close whatever took that number (the worker's epoll set).  Ours is
 * log_get_fd(), which a forked child keeps.
 *
 * On stderr connected to the systemd journal ($JOURNAL_STREAM names it),
 * lines carry a "<N>" priority prefix instead of a timestamp, so that the
 * journal records each line's level (journalctl -p warning works).
 *
 * Never call these from a signal handler.
 */
#ifndef TAKD_LOG_H
#define TAKD_LOG_H

#include <stdarg.h>
#include <sys/types.h>
#include <syslog.h>		/* LOG_ERR ... LOG_DEBUG are the levels */

enum log_dest {
	LOG_DEST_STDERR,
	LOG_DEST_SYSLOG,
	LOG_DEST_FILE
};

/* Parse "error", "warning", "info", "debug"; returns -1 when unknown. */
int	 log_level_parse(const char *);
/* "error", "warning", "info"...: what log_level_parse() takes. */
const char *log_level_name(int);

/*
 * Start logging.  For LOG_DEST_FILE, path is opened (created 0640) and the
 * descriptor kept; returns -1 with errno set when it cannot be opened: ELOOP
 * a symbolic link, EINVAL not a regular file, EMLINK a file with other hard
 * links.  log_init_at() takes the descriptor of path's directory (checked
 * by the caller, kept for log_reopen()) instead of opening it.
 */
int	 log_init(enum log_dest, const char *path, int level);
int	 log_init_at(enum log_dest, int dirfd, const char *path, int level);
/*
 * Log to a file descriptor inherited from the supervisor (takd-signer, an
 * exec'ed child): LOG_DEST_FILE without a path, so log_reopen() cannot
 * reopen it; the supervisor restarts such a child after a reopen.
 */
int	 log_init_fd(int fd, int level);
void	 log_procinit(const char *prefix);
void	 log_setlevel(int);

/*
 * Give the log file to the service user before the privilege drop: fchown of
 * the descriptor, never of a path.
 */
int	 log_chown(uid_t, gid_t);
/* Reopen the log file by path (supervisor).  0 on success or when not a file. */
int	 log_reopen(void);
enum log_dest log_get_dest(void);
/*
 * The descriptor logging writes to and a forked child must keep open: the
 * log file, or the syslog socket (-1 while not connected); -1 for stderr.
 */
int	 log_get_fd(void);
/* Replace the log file descriptor (worker, after the supervisor reopened). */
void	 log_set_fd(int);
/*
 * The syslog socket to send to (NULL: _PATH_LOG, /dev/log), for tests and
 * for systems whose syslog listens elsewhere.  Lines that syslog does not
 * take (its queue is full, it is down or restarting) are counted, and the
 * count is logged as soon as a line gets through again.
 */
void	 log_syslog_path(const char *);

void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Logs the OpenSSL error queue after the message, then clears it. */
void	 log_ssl(int level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
/* Exit with a specific status (78 for configuration errors). */
void	 fatalx_status(int, const char *, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
/*
 * A check's reason into why (whylen; nothing with NULL or 0), for its
 * caller to log or send back: no log line of its own.
 */
void	 log_why(char *why, size_t whylen, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * Rate limiting for per-peer noise, one struct per kind of line.  A zeroed
 * struct allows 10 lines a second; set burst and window (seconds) for another
 * rate, e.g. 1 line per 10 s for a condition that can last.
 */
struct log_ratelimit {
	long		 window_start;	/* monotonic seconds */
	unsigned	 burst;		/* lines allowed per window */
	unsigned	 window;	/* seconds; 0 means 1 */
	unsigned	 count;
	unsigned long	 suppressed;
};
/*
 * A line at level (LOG_WARNING, LOG_INFO, LOG_DEBUG) under rl: dropped when
 * below the log level or over the rate; the next one that goes out says how
 * many were suppressed.
 */
void	 log_limited(struct log_ratelimit *, int level, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
