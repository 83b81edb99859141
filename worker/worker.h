/*
 * A worker process: one epoll loop, no threads, owning its sessions for their
 * whole life.  Entered from the supervisor's fork, after the privilege drop.
 */
#ifndef TAKD_WORKER_H
#define TAKD_WORKER_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "shared/config.h"

struct crlset;
struct users;

struct worker_args {
	unsigned	 id;		/* slot number, 0 .. workers-1 */
	int		 ctl_fd;	/* SOCK_SEQPACKET end to the supervisor */
	/*
	 * This slot's listening sockets, non-blocking: one per address, of
	 * a SO_REUSEPORT group whose other sockets are the other slots'.
	 * The supervisor keeps them open: a respawned worker gets the same.
	 */
	const int	*tls_fds;
	size_t		 n_tls_fds;
	const int	*tcp_fds;	/* [tcp] listen: plain CoT, may be 0 */
	size_t		 n_tcp_fds;
	SSL_CTX		*ssl_ctx;	/* built by the supervisor, store set */
	STACK_OF(X509)	*ca;		/* for CRL generations sent later */
	unsigned	 crl_generation; /* generation in force at fork */
	/*
	 * That generation's revoked-serial set (shared/crlset.h), NULL if
	 * crl_check = off: the supervisor's, inherited with its mapping, the
	 * worker's own copy from the fork on.
	 */
	struct crlset	*crl;
	/*
	 * The users file in force at fork (no hashes), and its generation:
	 * the supervisor's, the worker's own copy from the fork on.
	 */
	struct users	*users;
	uint32_t	 users_generation;
	const struct config *cfg;
	/*
	 * The port [api] listen is bound to (its "0" resolved), 0 when 8443
	 * is not served: what a b-f-t-r's senderUrl to this server names
	 * (fileshare.h).
	 */
	unsigned	 api_port;
};

/*
 * Run until told to stop or the supervisor goes away.  Returns the process
 * exit status: 0 on a requested stop, 2 for "do not respawn" (a config or
 * environment error that a restart cannot fix), 1 otherwise.
 */
int	 worker_main(const struct worker_args *);

#endif
