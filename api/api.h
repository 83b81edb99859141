/*
 * The api process (docs/api.md): HTTPS for TAK clients and the Prometheus
 * endpoint, on libevent's evhttp over OpenSSL, one event loop (epoll), no
 * threads.  Forked by the supervisor like a worker (supervisor/api_proc.c),
 * after the privilege drop; it never holds the CA key.
 */
#ifndef TAKD_API_H
#define TAKD_API_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "shared/config.h"

/* What a listening socket is for. */
enum api_port {
	API_PORT_MARTI,		/* [api] listen, 8443: mutual TLS */
	API_PORT_ENROLL,	/* [api] enroll_listen, 8446: server TLS */
	API_PORT_METRICS,	/* [metrics] listen: plain HTTP */
	API_PORT_MAX
};

struct api_listen_fd {
	int		 fd;		/* bound and listening, non-blocking */
	enum api_port	 port;
	char		 address[64];	/* for the log */
	unsigned	 portno;
};

#define API_LISTEN_MAX	12
/*
 * The api process's slot id, in its HELLO and in the supervisor's rounds:
 * one past the workers' (supervisor/sup.h).
 */
#define TAKD_API_SLOT	TAKD_MAX_WORKERS

struct crlset;
struct users;

struct api_args {
	int		 ctl_fd;	/* SOCK_SEQPACKET end to the supervisor */
	/* Bound by the supervisor as root; the same at every respawn. */
	const struct api_listen_fd *fds;
	size_t		 n_fds;
	SSL_CTX		*ssl_ctx;	/* the workers': same chain, CA, verify */
	STACK_OF(X509)	*ca;		/* for CRL generations sent later */
	uint32_t	 crl_generation;
	/* The set in force at fork (NULL: crl_check off), ours from then. */
	struct crlset	*crl;
	/*
	 * The users file in force at fork, ours from then: with the password
	 * hashes when it serves enrollment, else without.
	 */
	struct users	*users;
	uint32_t	 users_generation;
	const struct config *cfg;
	/* Its end of the channel to takd-signer; -1: no enrollment. */
	int		 signer_fd;
};

/*
 * Run until told to stop or the supervisor goes away.  The process's exit
 * status: 0 on a requested stop, 2 for "do not respawn" (what a restart
 * cannot fix), 1 otherwise.
 */
int	 api_main(const struct api_args *);

#endif
