/*
 * The cluster process (docs/cluster.md): its epoll loop (the control
 * channel, its signals, the mesh channels of the workers, the eventfd of
 * the NATS queue), its timers (the presence poll, heartbeats, node
 * timeouts), its report to the supervisor.  Forked after the privilege
 * drop; it holds no key but the NATS credentials it was given.
 */
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster_int.h"
#include "shared/clock.h"
#include "shared/store.h"

#define CLUSTER_CTL_QUEUE	(4 * 1024 * 1024)
#define CLUSTER_STATUS_MS	1000
#define CLUSTER_EVENTS		64
#define CLUSTER_MEMFD_SEALS	(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | \
				    F_SEAL_WRITE)


void
cluster_subject(const struct cluster *c, char *buf, size_t len,
    const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	n = snprintf(buf, len, "%s.", c->prefix);
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
}

static void
cluster_stop(struct cluster *c, const char *why)
{
	if (c->state == CLUSTER_STOP)
		return;
	log_info("stopping: %s", why);
	c->state = CLUSTER_STOP;
}

void
cluster_send(struct cluster *c, uint32_t type, uint32_t gen,
    const struct ipc_buf *b, int fd)
{
	if (b != NULL && b->err != 0)
		return;
	if (ipc_send(c->ctl, type, gen, TAKD_CLUSTER_SLOT, b != NULL ?
	    b->data : NULL, b != NULL ? b->len : 0, fd) == 0)
		return;
	if (errno == EPIPE || errno == ECONNRESET)
		cluster_stop(c, "the supervisor went away");
}

static void
cluster_report(struct cluster *c)
{
	struct cluster_status	*st;
	struct ipc_buf		*b;

	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (b = malloc(sizeof(*b))) == NULL) {
		free(st);
		return;
	}
	st->connected = cnats_connected(c);
	cnats_server(c, st->server, sizeof(st->server));
	st->workers = peers_up(c);
	st->slow_consumers = cnats_slow_consumers(c);
	st->st = c->st;
	local_status(c, st);
	nodes_status(c, st);
	ipc_buf_init(b);
	cstatus_encode(b, st);
	cluster_send(c, IPC_MSG_CLUSTER_STATUS, 0, b, -1);
	free(b);
	free(st);
}

/* The other nodes' clients, as JSON in a sealed memfd. */
static void
cluster_clients(struct cluster *c, uint32_t id)
{
	struct ipc_buf	 b;
	char		*json;
	size_t		 len = 0, off = 0;
	ssize_t		 n;
	int		 fd = -1;

	ipc_buf_init(&b);
	if ((json = nodes_clients_json(c, &len)) == NULL)
		goto fail;
	if ((fd = memfd_create("takd-cluster-clients", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		goto fail;
	while (off < len) {
		if ((n = write(fd, json + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, CLUSTER_MEMFD_SEALS) == -1)
		goto fail;
	free(json);
	ipc_put_u32(&b, 0);
	cluster_send(c, IPC_MSG_CLUSTER_CLIENTS, id, &b, fd);
	close(fd);
	return;
fail:
	log_warn("cluster: the other nodes' clients for takctl");
	free(json);
	if (fd != -1)
		close(fd);
	ipc_put_u32(&b, 1);
	cluster_send(c, IPC_MSG_CLUSTER_CLIENTS, id, &b, -1);
}

/* IPC_MSG_DEPARTED: clients of a worker of this node that died. */
static int
cluster_departed(struct cluster *c, const struct ipc_msg *m)
{
	struct ipc_rd	 rd;
	char		 uid[STORE_UID_SIZE], type[STORE_TYPE_SIZE];
	char		*groups;
	int		 n = 0;

	if ((groups = malloc(GROUPLIST_STR_MAX)) == NULL)
		return (0);
	ipc_rd_init(&rd, m);
	while (rd.off < rd.len && rd.err == 0 && n < IPC_DEPARTED_MAX) {
		ipc_get_str(&rd, uid, sizeof(uid));
		ipc_get_str(&rd, type, sizeof(type));
		ipc_get_str(&rd, groups, GROUPLIST_STR_MAX);
		if (rd.err != 0 || uid[0] == '\0' ||
		    grouplist_check(groups, strlen(groups)) == -1)
			break;
		local_departed(c, uid, type, groups);
		n++;
	}
	free(groups);
	return (ipc_rd_done(&rd));
}

static int
cluster_ctl_msg(struct cluster *c, struct ipc_msg *m)
{
	struct ipc_rd	 rd;

	switch (m->hdr.type) {
	case IPC_MSG_SHUTDOWN:
		cluster_stop(c, "asked by the supervisor");
		return (0);
	case IPC_MSG_PEER:
		if (m->fd == -1 || m->len != 0)
			return (-1);
		peers_add(c, m->hdr.gen_or_peer, m->fd);
		m->fd = -1;
		return (0);
	case IPC_MSG_LOG_FD:
		if (m->fd == -1)
			return (-1);
		log_set_fd(m->fd);
		m->fd = -1;
		return (0);
	case IPC_MSG_DEPARTED:
		return (cluster_departed(c, m));
	case IPC_MSG_CLUSTER_CLIENTS:
		if (m->len != 0)
			return (-1);
		cluster_clients(c, m->hdr.gen_or_peer);
		return (0);
	case IPC_MSG_STATUS_REQ:
		ipc_rd_init(&rd, m);
		return (ipc_rd_done(&rd));
	case IPC_MSG_CLUSTER_CRL:
		return (ccrl_from_supervisor(c, m));
	default:
		log_warnx("control channel: unexpected message type %u",
		    m->hdr.type);
		return (-1);
	}
}

static void
cluster_ctl(struct cluster *c, uint32_t events)
{
	struct ipc_msg	 m;
	int		 r, bad;

	if ((events & EPOLLOUT) && ipc_flush(c->ctl) == -1) {
		cluster_stop(c, "the supervisor went away");
		return;
	}
	while ((r = ipc_recv(c->ctl, &m)) == 1) {
		bad = cluster_ctl_msg(c, &m);
		if (m.fd != -1)
			close(m.fd);
		if (bad == -1) {
			log_warnx("control channel: malformed message type "
			    "%u", m.hdr.type);
			cluster_stop(c, "supervisor protocol error");
			return;
		}
	}
	if (r == -1)
		cluster_stop(c, errno == 0 ? "the supervisor closed the "
		    "control channel" : "control channel failed");
}

static void
cluster_ctl_interest(struct cluster *c)
{
	struct epoll_event	 ev;
	bool			 want = ipc_pending(c->ctl) != 0;

	if (want == c->ctl_out)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0);
	ev.data.u64 = CLUSTER_EV_CTL;
	if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->ctl->fd, &ev) == 0)
		c->ctl_out = want;
}

static int
cluster_add_fd(struct cluster *c, int fd, uint64_t data, uint32_t events)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u64 = data;
	return (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev));
}

static int
cluster_init(struct cluster *c, const struct cluster_args *args)
{
	struct sigaction	 sa;
	sigset_t		 set;
	char			 err[256];

	memset(c, 0, sizeof(*c));
	c->magic = CLUSTER_MAGIC;
	c->args = args;
	c->cfg = args->cfg;
	c->epfd = c->sigfd = -1;
	c->ppid = getppid();
	c->instance = args->instance;
	c->rl_drop.burst = 1;
	snprintf(c->prefix, sizeof(c->prefix), "takd.%s",
	    c->cfg->cluster_name);
	ipc_buf_init(&c->batch);
	ipc_buf_init(&c->aux);
	wbuf_init(&c->out, c->cfg->max_event_bytes + 128 * 1024);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGHUP, &sa, NULL) == -1 ||
	    sigaction(SIGPIPE, &sa, NULL) == -1 ||
	    sigaction(SIGUSR1, &sa, NULL) == -1)
		return (-1);
	/* Blocked before libnats starts a thread: they inherit the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (c->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    (c->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		log_warn("cluster: signals, epoll");
		return (-1);
	}
	if ((c->ctl = ipc_chan_new(args->ctl_fd, CLUSTER_CTL_QUEUE)) == NULL ||
	    cluster_add_fd(c, c->sigfd, CLUSTER_EV_SIGNAL, EPOLLIN) == -1 ||
	    cluster_add_fd(c, c->ctl->fd, CLUSTER_EV_CTL, EPOLLIN |
	    EPOLLRDHUP) == -1) {
		log_warn("cluster: control channel");
		return (-1);
	}
	/* The store of this node: its clients, and where others' SAs go. */
	if ((c->store = store_open(".", 0, 0, 0, err, sizeof(err))) == NULL)
		log_warnx("cluster: state store: %s; other nodes' positions "
		    "are not replayed here, this node's clients not "
		    "announced", err);
	else
		store_set_sa_max_bytes(c->store, c->cfg->sa_store_max);
	if (local_init(c) == -1 || nodes_init(c) == -1)
		return (-1);
	if (cnats_start(c) == -1)
		return (-1);
	if (cluster_add_fd(c, cnats_eventfd(c), CLUSTER_EV_NATS,
	    EPOLLIN) == -1)
		return (-1);
	return (0);
}

static void
cluster_teardown(struct cluster *c)
{
	/* Its threads first: nothing may call back into what goes next. */
	local_unsubscribe_all(c);
	cnats_stop(c);
	peers_free(c);
	local_free(c);
	nodes_free(c);
	ccrl_free(c);
	if (c->store != NULL) {
		(void)store_commit(c->store);
		store_close(c->store);
	}
	wbuf_free(&c->out);
	if (c->ctl != NULL) {
		if (ipc_pending(c->ctl))
			(void)ipc_flush(c->ctl);
		ipc_chan_free(c->ctl);
	}
	if (c->sigfd != -1)
		close(c->sigfd);
	if (c->epfd != -1)
		close(c->epfd);
	c->magic = 0;
}

static void
cluster_dispatch(struct cluster *c, const struct epoll_event *ev)
{
	struct signalfd_siginfo	 si;
	const unsigned		*magic;

	switch (ev->data.u64) {
	case CLUSTER_EV_SIGNAL:
		while (read(c->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			cluster_stop(c, si.ssi_signo == SIGINT ? "SIGINT" :
			    "SIGTERM");
		return;
	case CLUSTER_EV_CTL:
		cluster_ctl(c, ev->events);
		return;
	case CLUSTER_EV_NATS:
		cnats_drain(c);
		return;
	default:
		break;
	}
	magic = ev->data.ptr;
	if (*magic == CLUSTER_PEER_MAGIC)
		peers_handle(c, ev->data.ptr, ev->events);
}

static int
cluster_min(int a, int b)
{
	if (a < 0)
		return (b);
	if (b < 0)
		return (a);
	return (a < b ? a : b);
}

int
cluster_main(const struct cluster_args *args)
{
	struct cluster		 c;
	struct epoll_event	 evs[CLUSTER_EVENTS];
	struct ipc_buf		 b;
	int64_t			 now;
	int			 n, i, timeout;

	if (cluster_init(&c, args) == -1) {
		cluster_teardown(&c);
		return (1);
	}
	log_info("started: node %s of cluster %s, NATS %s, node_timeout %u ms",
	    c.cfg->cluster_node, c.cfg->cluster_name, c.cfg->cluster_nats,
	    c.cfg->cluster_node_timeout_ms);
	ipc_buf_init(&b);
	ipc_put_u32(&b, TAKD_CLUSTER_SLOT);
	ipc_put_u32(&b, (uint32_t)getpid());
	cluster_send(&c, IPC_MSG_HELLO, 0, &b, -1);
	while (c.state == CLUSTER_RUN) {
		now = clock_mono_ms();
		timeout = local_tick(&c, now);
		timeout = cluster_min(timeout, nodes_tick(&c, now));
		if (now >= c.next_status_ms) {
			cluster_report(&c);
			c.next_status_ms = now + CLUSTER_STATUS_MS;
		}
		timeout = cluster_min(timeout, (int)(c.next_status_ms - now));
		if (c.store != NULL)
			(void)store_commit(c.store);
		peers_before_sleep(&c);
		cluster_ctl_interest(&c);
		n = epoll_wait(c.epfd, evs, CLUSTER_EVENTS, timeout);
		if (n == -1 && errno != EINTR) {
			log_warn("epoll_wait");
			break;
		}
		for (i = 0; i < n; i++)
			cluster_dispatch(&c, &evs[i]);
		if (getppid() != c.ppid)
			cluster_stop(&c, "the supervisor is gone");
	}
	/* The others tell their clients now, not in node_timeout. */
	local_bye(&c);
	cluster_teardown(&c);
	return (0);
}
