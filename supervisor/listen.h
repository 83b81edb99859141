#ifndef TAKD_LISTEN_H
#define TAKD_LISTEN_H

#include <stdint.h>
#include <sys/socket.h>

#include "shared/log.h"
#include "supervisor/sup.h"

/*
 * Bind every [tls] listen address (and [tcp] ones when configured) as root,
 * before the privilege drop: nslots sockets each, a SO_REUSEPORT group with
 * one socket per worker slot.  An address where something already listens
 * (another takd too) is refused.  An explicitly configured address that
 * cannot be bound is fatal; the default "[::]:8089" is skipped with a
 * warning on a host without IPv6.  Returns 0 or -1 with err.
 */
int	 listen_open_all(struct sup *, unsigned nslots, char *err,
	    size_t errlen);
/* At stop: every socket of every listener. */
void	 listen_close_all(struct sup *);
/*
 * The sockets of a slot that will not be respawned (it gave up): closed, so
 * that the kernel spreads new connections over the other slots' sockets.
 */
void	 listen_close_slot(struct sup *, unsigned slot);
/*
 * The supervisor's own listeners ([metrics]): bind every address la resolves
 * to (as root) into out, at most max of them, one socket each: fd
 * (non-blocking, close-on-exec), address, port and proto.  Returns how
 * many, or -1 with err and nothing left open.
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
/*
 * The supervisor's own listeners (the admin socket, [metrics]) when accept4()
 * fails for want of descriptors or memory: the connection stays in the
 * backlog and keeps the listener readable, so rather than spin the loop the
 * listener leaves the epoll set for LISTEN_PAUSE_MS and comes back on a tick.
 */
#define LISTEN_PAUSE_MS		200

struct listen_pause {
	int64_t			 until_ms;	/* 0: in the epoll set */
	struct log_ratelimit	 rl;
};

/*
 * accept4() on fd failed with errno.  0 when that connection alone failed
 * (it went away) and accepting goes on; -1 when accepting stops for this
 * turn: nothing is waiting, or fd was paused (a warning about what, at most
 * one per 10 s).
 */
int	 listen_accept_error(struct sup *, int fd, const char *what,
	    struct listen_pause *);
/*
 * Put a paused fd back into the epoll set (EPOLLIN, ev) once its pause is
 * over: the ms until then, or -1 when it is not paused.
 */
int64_t	 listen_pause_tick(struct sup *, int fd, struct sup_ev *ev,
	    struct listen_pause *, int64_t now);
/*
 * The TLS listening sockets of a worker slot, one per address, into fds (at
 * most max); returns how many there are.
 */
size_t	 listen_tls_fds(const struct sup *, unsigned slot, int *fds,
	    size_t max);
/* The same for the plain TCP listeners ([tcp] listen). */
size_t	 listen_tcp_fds(const struct sup *, unsigned slot, int *fds,
	    size_t max);

#endif
