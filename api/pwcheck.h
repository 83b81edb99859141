/*
 * Password checks off the api process's event loop (docs/api.md,
 * "Enrollment").  A yescrypt check costs about 20 ms of CPU: on the loop,
 * eight logins at once held every other request of the process (8443,
 * /metrics) for 170 ms.  One thread does the checks, one at a time, in the
 * order they come; the loop hands it a copy of the password and of the
 * hash and is called back, from the loop, with the result.
 *
 * The thread touches nothing but its jobs: not the users table (a reload
 * may replace it meanwhile), not libevent, not the log.
 */
#ifndef TAKD_API_PWCHECK_H
#define TAKD_API_PWCHECK_H

#include <stdbool.h>

struct event_base;
struct pwcheck;

/* Called on the loop with whether the password matched the hash. */
typedef void	(*pwcheck_done_fn)(void *arg, bool match);

/* The thread started, its wake-up in base; NULL with the reason in err. */
struct pwcheck	*pwcheck_new(struct event_base *, char *err, size_t errlen);
/*
 * Check password against hash (both copied; the copy of the password is
 * wiped once checked); done(arg, match) later, from the loop.  -1 (out of
 * memory, or either too long): nothing will be called.
 */
int		 pwcheck_submit(struct pwcheck *, const char *password,
		    const char *hash, pwcheck_done_fn, void *arg);
/* Checks queued or running. */
unsigned	 pwcheck_pending(const struct pwcheck *);
/*
 * Stop and join the thread.  Jobs not called back yet are dropped
 * without a call: the caller frees what their args pointed to.
 */
void		 pwcheck_free(struct pwcheck *);

#endif
