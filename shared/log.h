/*
 * Logging for every takd process.  One line per event worth logging, with the
 * process prefix set by log_procinit() ("supervisor", "worker 1").  Destinations:
 * stderr, syslog, or a file opened O_APPEND (reopened on SIGUSR1 by the supervisor,
 * which hands the new descriptor to the workers).
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
const char *log_level_name(int);

/*
 * Start logging.  For LOG_DEST_FILE, path is opened (created 0640) and the
 * descriptor kept; returns -1 with errno set when it cannot be opened.
 */
int	 log_init(enum log_dest, const char *path, int level);
void	 log_procinit(const char *prefix);
void	 log_setlevel(int);
int	 log_getlevel(void);

/* Give the log file to the service user before the privilege drop. */
int	 log_chown(uid_t, gid_t);
/* Reopen the log file by path (supervisor).  0 on success or when not a file. */
int	 log_reopen(void);
/* Descriptor of the log file, or -1 when not logging to a file. */
int	 log_get_fd(void);
/* Replace the log file descriptor (worker, after the supervisor reopened). */
void	 log_set_fd(int);

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
 * Rate limiting for per-peer noise: returns 1 when a line may be logged now,
 * 0 when it is suppressed; *suppressed counts the lines dropped since the last
 * one allowed, so the next allowed line can say how many were hidden.
 */
struct log_ratelimit {
	long		 window_start;	/* monotonic seconds */
	unsigned	 burst;		/* lines allowed per window */
	unsigned	 count;
	unsigned long	 suppressed;
};
int	 log_ratelimit_ok(struct log_ratelimit *, unsigned long *suppressed);

#endif
