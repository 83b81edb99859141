#ifndef TAKD_LISTEN_H
#define TAKD_LISTEN_H

#include <sys/socket.h>

#include "supervisor/sup.h"

/*
 * Bind every [tls] listen address (and [tcp] ones when configured) as root,
 * before the privilege drop.  An explicitly configured address that cannot be
 * bound is fatal; the default "[::]:8089" is skipped with a warning on a host
 * without IPv6.  Returns 0 or -1 with err.
 */
int	 listen_open_all(struct sup *, char *err, size_t errlen);
void	 listen_close_all(struct sup *);
/*
 * Bind every address la resolves to (as root) into out, at most max of
 * them: fd (non-blocking, close-on-exec), address, port and proto.  Returns
 * how many, or -1 with err and nothing left open.  The supervisor's own
 * listeners ([metrics]) use it too.
 */
int	 listen_bind(const char *proto, const struct config_listen *,
	    struct listener *out, size_t max, char *err, size_t errlen);
/*
 * The numeric address and the port of an AF_INET or AF_INET6 socket
 * address (addr gets at least INET6_ADDRSTRLEN bytes); -1 for another family,
 * leaving both untouched.
 */
int	 listen_addr_str(const struct sockaddr_storage *, char *addr, size_t len,
	    unsigned *port);
/* TLS listener descriptors, for the workers. */
size_t	 listen_tls_fds(const struct sup *, int *fds, size_t max);
/* Plain TCP listener descriptors ([tcp] listen), for the workers. */
size_t	 listen_tcp_fds(const struct sup *, int *fds, size_t max);

#endif
