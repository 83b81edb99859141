/*
 * The plumbing of the fetcher programs the supervisor execs, takd-crlfetch
 * (crl_fetch.c) and takd-ocspfetch (ocsp.c): their binary opened as root
 * before the privilege drop, beside takd like takd-signer, and checked as
 * the signer is (trust_stat_check()); their input certificates, PEM, in a
 * sealed memfd; one process per request, exec'ed from that descriptor as
 * the service user with an empty environment and only the descriptors of
 * the interface (FETCHER_FD_*: ipc/crlfetch_msg.h, ipc/ocspfetch_msg.h),
 * watched through its pidfd (the caller's sup_ev kind) and killed past
 * its deadline.  What the request means and what its answer says stay
 * with the caller; this file never reads the result.
 */
#ifndef TAKD_SUP_FETCHER_H
#define TAKD_SUP_FETCHER_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "supervisor/sup.h"

#define FETCHER_MAGIC		0x52484346u	/* "FCHR" */
/* The descriptors a fetcher is started with (its interface header's). */
#define FETCHER_FD_RES		3	/* pipe: its one result struct */
#define FETCHER_FD_IN		4	/* the sealed memfd of certificates */
#define FETCHER_FD_OUT		5	/* an empty memfd: its DER answer */
#define FETCHER_FD_EXE		6	/* the binary itself: close-on-exec */
#define FETCHER_PARK		64	/* descriptors moved here before dup2 */

struct fetcher {
	unsigned	 magic;
	const char	*exe;		/* its name, beside takd */
	const char	*what;		/* "CRL fetch": log lines */
	int		 nice;
	int		 exe_fd;	/* -1 before fetcher_prepare() */
	int		 in_fd;		/* FETCHER_FD_IN's, -1: none yet */
	/* The running fetcher. */
	int		 pidfd;		/* -1: none */
	int		 res_fd;	/* the read end of FETCHER_FD_RES */
	int		 out_fd;	/* FETCHER_FD_OUT, shared */
	struct sup_ev	 ev;
	bool		 polled;
	int64_t		 deadline_ms;	/* monotonic */
};

/* Nothing open, nothing running: kind is the pidfd's event. */
void	 fetcher_init(struct fetcher *, const char *exe, const char *what,
	    enum sup_ev_kind kind, int nice);
/*
 * As root, before the drop: the binary beside takd, opened and checked.
 * err is prefixed with cfgkey ("[tls] crl_url").  -1 with err.
 */
int	 fetcher_prepare(struct fetcher *, const char *cfgkey, char *err,
	    size_t errlen);
/*
 * The sealed memfd (named name) of the certificates head[0..n_head) then
 * the CA, PEM: FETCHER_FD_IN of every request.  -1 with errno.
 */
int	 fetcher_certs_memfd(const char *name, X509 *const *head,
	    size_t n_head, STACK_OF(X509) *ca);
/*
 * Start one request: argv (argv[0] the program's name) given to the
 * binary, killed budget_ms from now.  -1, logged, when it cannot start.
 */
int	 fetcher_spawn(struct sup *, struct fetcher *, char *const argv[],
	    int64_t budget_ms);
/* The request is over: reaped (killed first with kill_it), closed. */
void	 fetcher_end(struct sup *, struct fetcher *, bool kill_it);
/* fetcher_end(), then the binary and the memfd closed. */
void	 fetcher_cleanup(struct sup *, struct fetcher *);
bool	 fetcher_running(const struct fetcher *);

#endif
