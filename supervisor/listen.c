/*
 * Listening sockets.  Bound once by the supervisor and inherited by every worker,
 * which accept on them with EPOLLEXCLUSIVE so a connection wakes one worker.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shared/log.h"
#include "supervisor/listen.h"

#define LISTEN_BACKLOG	4096

static size_t	 listen_fds(const struct sup *, const char *, int *, size_t);

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

static int
listen_bind_one(const struct addrinfo *ai, char *err, size_t errlen)
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
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1) {
		int saved = errno;

		snprintf(err, errlen, "%s", strerror(saved));
		close(fd);
		errno = saved;
		return (-1);
	}
	return (fd);
}

int
listen_bind(const char *proto, const struct config_listen *la,
    struct listener *out, size_t max, char *err, size_t errlen)
{
	struct addrinfo	*res, *ai;
	struct listener	*l;
	char		 why[256];
	size_t		 n = 0;
	int		 rc, fd, is_default = (la->line == 0);

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
		if ((fd = listen_bind_one(ai, why, sizeof(why))) == -1) {
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
		l = &out[n++];
		memset(l, 0, sizeof(*l));
		l->proto = proto;
		l->fd = fd;
		listen_describe(fd, l);
		log_info("%s listener on %s%s%s:%u", proto,
		    ai->ai_family == AF_INET6 ? "[" : "", l->address,
		    ai->ai_family == AF_INET6 ? "]" : "", l->port);
	}
	freeaddrinfo(res);
	return ((int)n);
fail:
	freeaddrinfo(res);
	while (n > 0) {
		close(out[--n].fd);
		out[n].fd = -1;
	}
	return (-1);
}

static int
listen_open(struct sup *sup, const char *proto, const struct config_listen *la,
    char *err, size_t errlen)
{
	size_t	 max = sizeof(sup->listeners) / sizeof(sup->listeners[0]);
	int	 n;

	n = listen_bind(proto, la, &sup->listeners[sup->n_listeners],
	    max - sup->n_listeners, err, errlen);
	if (n == -1)
		return (-1);
	sup->n_listeners += (size_t)n;
	return (0);
}

int
listen_open_all(struct sup *sup, char *err, size_t errlen)
{
	const struct config	*cfg = sup->cfg;
	size_t			 i;

	for (i = 0; i < cfg->n_tls_listen; i++)
		if (listen_open(sup, "tls", &cfg->tls_listen[i], err,
		    errlen) == -1)
			return (-1);
	for (i = 0; i < cfg->n_tcp_listen; i++) {
		if (listen_open(sup, "tcp", &cfg->tcp_listen[i], err,
		    errlen) == -1)
			return (-1);
		log_warnx("plain TCP listener %s:%s: clients are neither "
		    "authenticated nor encrypted; use it on a trusted network "
		    "only", cfg->tcp_listen[i].host[0] ? cfg->tcp_listen[i].host :
		    "*", cfg->tcp_listen[i].port);
	}
	if (listen_tls_fds(sup, NULL, 0) == 0) {
		snprintf(err, errlen, "no TLS listener could be opened");
		return (-1);
	}
	return (0);
}

void
listen_close_all(struct sup *sup)
{
	size_t	 i;

	for (i = 0; i < sup->n_listeners; i++) {
		if (sup->listeners[i].fd >= 0)
			close(sup->listeners[i].fd);
		sup->listeners[i].fd = -1;
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
	p->until_ms = sup_now_ms() + LISTEN_PAUSE_MS;
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
listen_tls_fds(const struct sup *sup, int *fds, size_t max)
{
	return (listen_fds(sup, "tls", fds, max));
}

size_t
listen_tcp_fds(const struct sup *sup, int *fds, size_t max)
{
	return (listen_fds(sup, "tcp", fds, max));
}

static size_t
listen_fds(const struct sup *sup, const char *proto, int *fds, size_t max)
{
	size_t	 i, n = 0;

	for (i = 0; i < sup->n_listeners; i++) {
		if (strcmp(sup->listeners[i].proto, proto) != 0 ||
		    sup->listeners[i].fd < 0)
			continue;
		if (fds != NULL && n < max)
			fds[n] = sup->listeners[i].fd;
		n++;
	}
	return (n);
}
