/*
 * The cluster process (docs/cluster.md): the node's link to the other takd
 * nodes over NATS.  Forked by the supervisor like a worker when [cluster]
 * nats is set (supervisor/cluster_proc.c), after the privilege drop; one
 * more peer on the workers' fan-out mesh.
 */
#ifndef TAKD_CLUSTER_H
#define TAKD_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "shared/config.h"

/*
 * The cluster process's slot id, in its HELLO and as a mesh peer: two
 * past the workers' (the api process is one past them, api/api.h).
 */
#define TAKD_CLUSTER_SLOT	(TAKD_MAX_WORKERS + 1)

/*
 * What the supervisor read as root for the NATS connection: PEM texts and
 * the credentials file's text, NULL when not configured.  The child keeps
 * them for its reconnections; the supervisor for the next fork.
 */
struct cluster_secrets {
	char		*tls_ca;
	char		*tls_cert;
	char		*tls_key;
	char		*creds;
};

struct cluster_args {
	int		 ctl_fd;	/* SOCK_SEQPACKET end to the supervisor */
	const struct config *cfg;
	const struct cluster_secrets *secrets;
	/*
	 * This run of takd, random at the supervisor's start: a respawned
	 * cluster process is the same node to the others, a restarted takd
	 * a new one (whose clients before are gone).
	 */
	uint64_t	 instance;
	/* The CRL file (its directory and name) to publish after a reload. */
	int		 crl_dirfd;
	const char	*crl_name;
};

/*
 * Run until told to stop or the supervisor goes away.  0 on a requested
 * stop, 2 for "do not respawn", 1 otherwise.
 */
int	 cluster_main(const struct cluster_args *);

#endif
