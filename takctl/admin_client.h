/*
 * takctl's side of the admin socket: one request line, then the reply (a
 * JSON document; the Prometheus text for "metrics") until takd closes the
 * connection.  Every command that talks to takd goes through
 * admin_request().
 */
#ifndef TAKD_ADMIN_CLIENT_H
#define TAKD_ADMIN_CLIENT_H

#include <stddef.h>

#include "shared/config.h"

#define ADMIN_TIMEOUT_MS	5000
/* A reload parses the CRL and waits for every worker: big CRLs take a while. */
#define ADMIN_RELOAD_TIMEOUT_MS	30000
#define ADMIN_REPLY_MAX		(16u << 20)
#define ADMIN_NOT_RUNNING	(-2)

/*
 * Send "request\n" and read the reply until EOF, within timeout_ms (0:
 * ADMIN_TIMEOUT_MS).  Returns 0 with *reply (NUL-terminated, *len bytes; the
 * caller frees it), ADMIN_NOT_RUNNING when nothing listens on the socket
 * (no socket file, or connection refused), or -1; both with the message to
 * print in err.
 */
int	 admin_request(const struct config *, const char *request,
	    int timeout_ms, char **reply, size_t *len, char *err,
	    size_t errlen);

#endif
