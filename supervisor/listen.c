/*
 * Listening sockets, bound by the supervisor as root before the privilege
 * drop.  Every address of [tls] listen and [tcp] listen is a SO_REUSEPORT
 * group of one socket per worker slot: the kernel picks the socket of a new
 * connection by a hash of its addresses and ports, so sessions spread evenly
 * over the workers whatever their arrival rate (one shared socket with
 * EPOLLEXCLUSIVE kept waking the same worker: 0/200 at 20 connections a
 * second).  The supervisor holds every socket from start to stop and never
 * accepts on them; a worker gets its slot's sockets at the fork, so a
 * respawned worker takes over the socket and the backlog of the one that
 * died.  A slot that gives up has its sockets closed, so that the others
 * take its share.  See docs/architecture.md.
 *
 * The supervisor's own listeners ([metrics]) are single sockets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "supervisor/listen.h"

#define LISTEN_BACKLOG	4096

static size_t	 listen_fds(const struct sup *, const char *, unsigned, int *,
		    size_t);
static void	 listen_free(struct listener *);

static int
listen_resolve(const struct config_listen *la, struct addrinfo **res)
{
	struct addrinfo	 hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	return (getaddrinfo(la->host[0] != '\0' ? la->host : NULL, la->port,
	    &hints, res));
}

int
listen_addr_str(const struct sockaddr_storage *ss, char *addr, size_t len,
    unsigned *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, addr, (socklen_t)len);
		*port = ntohs(sin->sin_port);
		return (0);
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, (socklen_t)len);
		*port = ntohs(sin6->sin6_port);
		return (0);
	}
	return (-1);
}

static void
listen_describe(int fd, struct listener *l)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		(void)listen_addr_str(&ss, l->address, sizeof(l->address),
		    &l->port);
}

/* listen_bind_one() flags. */
#define LISTEN_REUSEPORT	0x1	/* SO_REUSEPORT: one socket of a group */
#define LISTEN_BIND_ONLY	0x2	/* bind, do not listen */

static int
listen_bind_one(const struct addrinfo *ai, const struct sockaddr *sa,
    int flags, char *err, size_t errlen)
{
	int	 fd, on = 1;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return (-1);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	/* Separate v4 and v6 sockets: "[::]" must not also claim 0.0.0.0. */
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (((flags & LISTEN_REUSEPORT) && setsockopt(fd, SOL_SOCKET,
	    SO_REUSEPORT, &on, sizeof(on)) == -1) ||
	    bind(fd, sa, ai->ai_addrlen) == -1 ||
	    (!(flags & LISTEN_BIND_ONLY) && listen(fd, LISTEN_BACKLOG) == -1)) {
		int saved = errno;

		snprintf(err, errlen, "%s", strerror(saved));
		close(fd);
		errno = saved;
		return (-1);
	}
	return (fd);
}

/*
 * The address is free: nobody listens there.  A bind without SO_REUSEPORT
 * fails where any socket listens, whereas ours would join the group of
 * another takd started on the same port by mistake (as root too) and take
 * a share of its connections instead of failing.
 */
static int
listen_check_free(const struct addrinfo *ai, char *err, size_t errlen)
{
	int	 fd;

	if ((fd = listen_bind_one(ai, ai->ai_addr, LISTEN_BIND_ONLY, err,
	    errlen)) == -1)
		return (-1);
	close(fd);
	return (0);
}

static unsigned
listen_get_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)(const void *)ss)->
		    sin_port));
	if (ss->ss_family == AF_INET6)
		return (ntohs(((const struct sockaddr_in6 *)(const void *)ss)->
		    sin6_port));
	return (0);
}

static void
listen_set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)(void *)ss)->sin_port = htons(port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)(void *)ss)->sin6_port = htons(port);
}

/*
 * The sockets of one resolved address: one, or nslots of a SO_REUSEPORT
 * group, bound in slot order (the kernel's order in the group).  Port 0
 * binds the first one to a port of the kernel's choice and the others to
 * that port.  fds are in l->slot_fds, or l->fd alone; -1 with err.
 */
static int
listen_bind_addr(const struct addrinfo *ai, unsigned nslots,
    struct listener *l, char *err, size_t errlen)
{
	struct sockaddr_storage	 ss;
	unsigned		 i;
	int			 fd, saved;

	if (nslots == 0) {
		if ((l->fd = listen_bind_one(ai, ai->ai_addr, 0, err,
		    errlen)) == -1)
			return (-1);
		listen_describe(l->fd, l);
		return (0);
	}
	if (ai->ai_addrlen > sizeof(ss)) {
		snprintf(err, errlen, "address too long");
		errno = EINVAL;
		return (-1);
	}
	if ((l->slot_fds = calloc(nslots, sizeof(*l->slot_fds))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return (-1);
	}
	memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
	if (listen_get_port(&ss) != 0 && listen_check_free(ai, err,
	    errlen) == -1)
		goto fail;
	for (i = 0; i < nslots; i++) {
		if ((fd = listen_bind_one(ai, (struct sockaddr *)&ss,
		    LISTEN_REUSEPORT, err, errlen)) == -1)
			goto fail;
		l->slot_fds[l->n_slot_fds++] = fd;
		if (i == 0) {
			listen_describe(fd, l);
			listen_set_port(&ss, l->port);
		}
	}
	l->fd = l->slot_fds[0];
	return (0);
fail:
	saved = errno;
	while (l->n_slot_fds > 0)
		close(l->slot_fds[--l->n_slot_fds]);
	free(l->slot_fds);
	l->slot_fds = NULL;
	errno = saved;
	return (-1);
}

static int
listen_bind_n(const char *proto, const struct config_listen *la,
    unsigned nslots, struct listener *out, size_t max, char *err,
    size_t errlen)
{
	struct addrinfo	*res, *ai;
	struct listener	*l;
	char		 why[256];
	size_t		 n = 0;
	int		 rc, is_default = (la->line == 0);

	if ((rc = listen_resolve(la, &res)) != 0) {
		snprintf(err, errlen, "%s listen %s:%s: %s", proto, la->host,
		    la->port, gai_strerror(rc));
		return (-1);
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (n == max) {
			snprintf(err, errlen, "too many listeners");
			goto fail;
		}
		l = &out[n];
		memset(l, 0, sizeof(*l));
		l->proto = proto;
		l->fd = -1;
		if (listen_bind_addr(ai, nslots, l, why, sizeof(why)) == -1) {
			if (is_default && ai->ai_family == AF_INET6 &&
			    (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL)) {
				log_warnx("%s listener [%s]:%s skipped: %s",
				    proto, la->host, la->port, why);
				continue;
			}
			snprintf(err, errlen, "%s listen %s%s%s:%s: %s", proto,
			    ai->ai_family == AF_INET6 ? "[" : "", la->host,
			    ai->ai_family == AF_INET6 ? "]" : "", la->port, why);
			goto fail;
		}
		n++;
		if (nslots > 0)
			log_info("%s listener on %s%s%s:%u: %u sockets, one "
			    "per worker (SO_REUSEPORT)", proto,
			    ai->ai_family == AF_INET6 ? "[" : "", l->address,
			    ai->ai_family == AF_INET6 ? "]" : "", l->port,
			    nslots);
		else
			log_info("%s listener on %s%s%s:%u", proto,
			    ai->ai_family == AF_INET6 ? "[" : "", l->address,
			    ai->ai_family == AF_INET6 ? "]" : "", l->port);
	}
	freeaddrinfo(res);
	return ((int)n);
fail:
	freeaddrinfo(res);
	while (n > 0)
		listen_free(&out[--n]);
	return (-1);
}

int
listen_bind(const char *proto, const struct config_listen *la,
    struct listener *out, size_t max, char *err, size_t errlen)
{
	return (listen_bind_n(proto, la, 0, out, max, err, errlen));
}

static int
listen_open(struct sup *sup, const char *proto, const struct config_listen *la,
    unsigned nslots, char *err, size_t errlen)
{
	size_t	 max = sizeof(sup->listeners) / sizeof(sup->listeners[0]);
	int	 n;

	n = listen_bind_n(proto, la, nslots, &sup->listeners[sup->n_listeners],
	    max - sup->n_listeners, err, errlen);
	if (n == -1)
		return (-1);
	sup->n_listeners += (size_t)n;
	return (0);
}

int
listen_open_all(struct sup *sup, unsigned nslots, char *err, size_t errlen)
{
	const struct config	*cfg = sup->cfg;
	size_t			 i;

	for (i = 0; i < cfg->n_tls_listen; i++)
		if (listen_open(sup, "tls", &cfg->tls_listen[i], nslots, err,
		    errlen) == -1)
			return (-1);
	for (i = 0; i < cfg->n_tcp_listen; i++) {
		if (listen_open(sup, "tcp", &cfg->tcp_listen[i], nslots, err,
		    errlen) == -1)
			return (-1);
		log_warnx("plain TCP listener %s:%s: clients are neither "
		    "authenticated nor encrypted; use it on a trusted network "
		    "only", cfg->tcp_listen[i].host[0] ? cfg->tcp_listen[i].host :
		    "*", cfg->tcp_listen[i].port);
	}
	if (listen_tls_fds(sup, 0, NULL, 0) == 0) {
		snprintf(err, errlen, "no TLS listener could be opened");
		return (-1);
	}
	return (0);
}

static void
listen_free(struct listener *l)
{
	unsigned	 i;

	if (l->slot_fds == NULL) {
		if (l->fd >= 0)
			close(l->fd);
	} else {
		for (i = 0; i < l->n_slot_fds; i++)
			if (l->slot_fds[i] >= 0)
				close(l->slot_fds[i]);
		free(l->slot_fds);
	}
	l->slot_fds = NULL;
	l->n_slot_fds = 0;
	l->fd = -1;
}

void
listen_close_all(struct sup *sup)
{
	size_t	 i;

	for (i = 0; i < sup->n_listeners; i++)
		listen_free(&sup->listeners[i]);
}

void
listen_close_slot(struct sup *sup, unsigned slot)
{
	struct listener	*l;
	size_t		 i;
	unsigned	 j;

	for (i = 0; i < sup->n_listeners; i++) {
		l = &sup->listeners[i];
		if (slot >= l->n_slot_fds || l->slot_fds[slot] < 0)
			continue;
		close(l->slot_fds[slot]);
		l->slot_fds[slot] = -1;
		log_info("%s listener %s:%u: socket of worker %u closed, the "
		    "other workers take its share", l->proto, l->address,
		    l->port, slot);
		l->fd = -1;
		for (j = 0; j < l->n_slot_fds && l->fd < 0; j++)
			l->fd = l->slot_fds[j];
	}
}

int
listen_accept_error(struct sup *sup, int fd, const char *what,
    struct listen_pause *p)
{
	int	 err = errno;

	switch (err) {
	case EAGAIN:
#if EAGAIN != EWOULDBLOCK
	case EWOULDBLOCK:
#endif
		return (-1);
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case EPERM:		/* a firewall rule */
	case ENETDOWN:
	case ENETUNREACH:
	case EHOSTDOWN:
	case EHOSTUNREACH:
	case ENONET:
	case ENOPROTOOPT:
	case EOPNOTSUPP:
		return (0);
	}
	/* EMFILE, ENFILE, ENOBUFS, ENOMEM, or worse: it would fail again. */
	if (p->rl.burst == 0) {
		p->rl.burst = 1;
		p->rl.window = 10;
	}
	log_limited(&p->rl, LOG_WARNING, "%s: accept: %s; pausing %d ms",
	    what, strerror(err), LISTEN_PAUSE_MS);
	if (epoll_ctl(sup->epfd, EPOLL_CTL_DEL, fd, NULL) == -1)
		log_warn("%s: epoll_ctl", what);
	p->until_ms = clock_mono_ms() + LISTEN_PAUSE_MS;
	return (-1);
}

int64_t
listen_pause_tick(struct sup *sup, int fd, struct sup_ev *ev,
    struct listen_pause *p, int64_t now)
{
	struct epoll_event	 e;

	if (p->until_ms == 0)
		return (-1);
	if (p->until_ms > now)
		return (p->until_ms - now);
	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN;
	e.data.ptr = ev;
	if (epoll_ctl(sup->epfd, EPOLL_CTL_ADD, fd, &e) == -1 &&
	    errno != EEXIST) {
		/* Out of memory too: try again after another pause. */
		log_limited(&p->rl, LOG_WARNING, "listener: epoll_ctl: %s",
		    strerror(errno));
		p->until_ms = now + LISTEN_PAUSE_MS;
		return (LISTEN_PAUSE_MS);
	}
	p->until_ms = 0;
	return (-1);
}

size_t
listen_tls_fds(const struct sup *sup, unsigned slot, int *fds, size_t max)
{
	return (listen_fds(sup, "tls", slot, fds, max));
}

size_t
listen_tcp_fds(const struct sup *sup, unsigned slot, int *fds, size_t max)
{
	return (listen_fds(sup, "tcp", slot, fds, max));
}

static size_t
listen_fds(const struct sup *sup, const char *proto, unsigned slot, int *fds,
    size_t max)
{
	const struct listener	*l;
	size_t			 i, n = 0;

	for (i = 0; i < sup->n_listeners; i++) {
		l = &sup->listeners[i];
		if (strcmp(l->proto, proto) != 0 || slot >= l->n_slot_fds ||
		    l->slot_fds[slot] < 0)
			continue;
		if (fds != NULL && n < max)
			fds[n] = l->slot_fds[slot];
		n++;
	}
	return (n);
}
