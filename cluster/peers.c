/*
 * The cluster process's end of the workers' fan-out mesh (docs/fanout.md):
 * one SOCK_SEQPACKET channel per worker, handed over by the supervisor
 * (IPC_MSG_PEER), carrying the same frames as between workers.  What a
 * worker routes comes in here once and is published once (local.c); what
 * another node sent goes to every worker as one batch per loop turn.  The
 * frames are checked by the workers' own decoder (fanout_decode()) and
 * made by their encoder, so the two ends cannot drift apart.
 */
#include <sys/epoll.h>

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster_int.h"
#include "worker/fanout.h"

#define PEERS_QUEUE_MAX		(8 * 1024 * 1024)
#define PEERS_FRAMES_PER_WAKEUP	32
#define PEERS_LARGE_INFLIGHT	((uint64_t)64 * 1024 * 1024)

struct cpeer {
	unsigned	 magic;		/* CLUSTER_PEER_MAGIC, first */
	unsigned	 id;
	bool		 closed;
	bool		 out_armed;
	struct ipc_chan	*chan;
	uint64_t	 large_out;
	uint64_t	 credit_owed;
	struct cpeer	*next_dead;
};

static struct cpeer *peers_dead;

static void
peers_close(struct cluster *c, struct cpeer *p, bool fault, const char *why)
{
	if (p->closed)
		return;
	if (fault)
		log_warnx("mesh: channel to worker %u closed: %s", p->id, why);
	else if (c->state == CLUSTER_RUN)
		log_info("mesh: channel to worker %u closed: %s", p->id, why);
	(void)epoll_ctl(c->epfd, EPOLL_CTL_DEL, p->chan->fd, NULL);
	p->closed = true;
	if (c->peer[p->id] == p)
		c->peer[p->id] = NULL;
	p->next_dead = peers_dead;
	peers_dead = p;
}

static void
peers_reap(void)
{
	struct cpeer	*p;

	while ((p = peers_dead) != NULL) {
		peers_dead = p->next_dead;
		ipc_chan_free(p->chan);
		p->magic = 0;
		free(p);
	}
}

unsigned
peers_up(const struct cluster *c)
{
	unsigned	 i, n = 0;

	for (i = 0; i < c->id_end; i++)
		if (c->peer[i] != NULL)
			n++;
	return (n);
}

void
peers_add(struct cluster *c, unsigned id, int fd)
{
	struct cpeer		*p, *old;
	struct epoll_event	 ev;

	if (id >= CLUSTER_PEERS) {
		log_warnx("mesh: channel to worker %u refused: id out of "
		    "range", id);
		close(fd);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		log_warn("mesh: channel to worker %u", id);
		close(fd);
		return;
	}
	p->magic = CLUSTER_PEER_MAGIC;
	p->id = id;
	if ((p->chan = ipc_chan_new(fd, PEERS_QUEUE_MAX)) == NULL) {
		log_warn("mesh: channel to worker %u refused", id);
		free(p);
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = p;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, p->chan->fd, &ev) == -1) {
		log_warn("mesh: channel to worker %u: epoll_ctl", id);
		ipc_chan_free(p->chan);
		free(p);
		return;
	}
	if ((old = c->peer[id]) != NULL)
		peers_close(c, old, false, "replaced: the worker was "
		    "restarted");
	c->peer[id] = p;
	if (id >= c->id_end)
		c->id_end = id + 1;
	log_info("mesh: channel to worker %u up (%u worker%s)", id,
	    peers_up(c), peers_up(c) == 1 ? "" : "s");
}

/* ---- to the workers ---- */

static void
peers_send(struct cluster *c, struct cpeer *p, uint32_t type,
    const struct ipc_buf *b, int fd, uint32_t nevents, uint64_t large)
{
	if (large > 0 && p->large_out + large > PEERS_LARGE_INFLIGHT) {
		c->st.drop_mesh += nevents;
		return;
	}
	if (ipc_send(p->chan, type, 0, TAKD_CLUSTER_SLOT, b->data, b->len,
	    fd) == 0) {
		p->large_out += large;
		return;
	}
	c->st.drop_mesh += nevents;
	if (errno == ENOBUFS)
		log_limited(&c->rl_drop, LOG_WARNING, "mesh: queue to worker "
		    "%u full (%zu bytes): %u events of other nodes dropped",
		    p->id, p->chan->queued_bytes, nevents);
	else if (errno != ENOMEM && errno != EMFILE && errno != ENFILE)
		peers_close(c, p, false, strerror(errno));
}

static void
peers_flush_batch(struct cluster *c)
{
	unsigned	 i;

	if (c->batch_events == 0)
		return;
	for (i = 0; i < c->id_end; i++)
		if (c->peer[i] != NULL)
			peers_send(c, c->peer[i], IPC_MSG_EVENT, &c->batch, -1,
			    c->batch_events, 0);
	ipc_buf_init(&c->batch);
	c->batch_events = 0;
}

void
peers_deliver(struct cluster *c, const struct deliver *d)
{
	size_t		 len;
	unsigned	 i;
	int		 fd;

	if (peers_up(c) == 0) {
		c->st.drop_mesh++;
		return;
	}
	if (fanout_encode(&c->batch, d) == 0) {
		c->batch_events++;
		return;
	}
	if (errno == EMSGSIZE && c->batch_events > 0) {
		peers_flush_batch(c);
		if (fanout_encode(&c->batch, d) == 0) {
			c->batch_events++;
			return;
		}
	}
	if (errno != EMSGSIZE || fanout_encode_large(&c->aux, d, &fd) == -1) {
		c->st.drop_mesh++;
		log_limited(&c->rl_drop, LOG_WARNING, "mesh: an event of %u "
		    "bytes from another node not passed on: %s", d->ev->len,
		    strerror(errno));
		return;
	}
	/* Too large for a frame: alone, in a sealed memfd, in order. */
	(void)evbuf_body(d->ev, &len);
	for (i = 0; i < c->id_end; i++)
		if (c->peer[i] != NULL)
			peers_send(c, c->peer[i], IPC_MSG_EVENT_LARGE, &c->aux,
			    fd, 1, len);
	close(fd);
}

/* ---- from the workers ---- */

struct peers_rx {
	struct cluster	*c;
};

static void
peers_rec(const struct fanout_rec *r, void *arg)
{
	struct peers_rx	*rx = arg;

	local_event(rx->c, &r->d, r->enc, r->bytes, r->len);
}

static void
peers_credit_send(struct cluster *c, struct cpeer *p)
{
	if (p->closed || p->credit_owed == 0)
		return;
	ipc_buf_init(&c->aux);
	ipc_put_u64(&c->aux, p->credit_owed);
	if (ipc_send(p->chan, IPC_MSG_EVENT_CREDIT, 0, TAKD_CLUSTER_SLOT,
	    c->aux.data, c->aux.len, -1) == 0)
		p->credit_owed = 0;
	else if (errno != ENOBUFS && errno != ENOMEM)
		peers_close(c, p, false, strerror(errno));
}

static int
peers_frame(struct cluster *c, struct cpeer *p, const struct ipc_msg *m,
    char *err, size_t errlen)
{
	struct peers_rx	 rx = { c };
	struct ipc_rd	 rd;
	size_t		 large = 0;
	uint64_t	 v;

	if (m->hdr.src_worker != p->id) {
		snprintf(err, errlen, "frame claims to come from worker %u",
		    m->hdr.src_worker);
		return (-1);
	}
	switch (m->hdr.type) {
	case IPC_MSG_EVENT:
	case IPC_MSG_EVENT_LARGE:
		if (fanout_decode(m, c->cfg->max_event_bytes, peers_rec, &rx,
		    &large, err, errlen) == -1)
			return (-1);
		if (large > 0) {
			p->credit_owed += large;
			peers_credit_send(c, p);
		}
		return (0);
	case IPC_MSG_EVENT_CREDIT:
		ipc_rd_init(&rd, m);
		v = ipc_get_u64(&rd);
		if (ipc_rd_done(&rd) == -1 || m->fd != -1 || v == 0 ||
		    v > p->large_out) {
			snprintf(err, errlen, "bad credit frame");
			return (-1);
		}
		p->large_out -= v;
		return (0);
	default:
		snprintf(err, errlen, "unexpected message type %u",
		    m->hdr.type);
		return (-1);
	}
}

void
peers_handle(struct cluster *c, void *ptr, uint32_t events)
{
	struct cpeer	*p = ptr;
	struct ipc_msg	 m;
	char		 err[256], why[320];
	int		 i, r, bad;

	assert(p->magic == CLUSTER_PEER_MAGIC);
	if (p->closed)
		return;
	if ((events & EPOLLOUT) && ipc_flush(p->chan) == -1) {
		peers_close(c, p, false, strerror(errno));
		return;
	}
	for (i = 0; i < PEERS_FRAMES_PER_WAKEUP && !p->closed; i++) {
		if ((r = ipc_recv(p->chan, &m)) == 0)
			return;
		if (r == -1) {
			peers_close(c, p, errno == EBADMSG, errno == 0 ?
			    "the worker closed it" : strerror(errno));
			return;
		}
		err[0] = '\0';
		bad = peers_frame(c, p, &m, err, sizeof(err));
		if (m.fd != -1)
			close(m.fd);
		if (bad == -1) {
			snprintf(why, sizeof(why), "malformed frame (type %u, "
			    "%zu bytes): %s", m.hdr.type, m.len, err);
			peers_close(c, p, true, why);
			return;
		}
	}
}

void
peers_before_sleep(struct cluster *c)
{
	struct epoll_event	 ev;
	struct cpeer		*p;
	unsigned		 i;
	bool			 want;

	peers_flush_batch(c);
	for (i = 0; i < c->id_end; i++) {
		if ((p = c->peer[i]) == NULL)
			continue;
		peers_credit_send(c, p);
		if (!p->closed && ipc_pending(p->chan) &&
		    ipc_flush(p->chan) == -1)
			peers_close(c, p, false, strerror(errno));
		if (p->closed)
			continue;
		want = ipc_pending(p->chan) != 0;
		if (want == p->out_armed)
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
		ev.data.ptr = p;
		if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, p->chan->fd, &ev) == 0)
			p->out_armed = want;
	}
	peers_reap();
}

void
peers_free(struct cluster *c)
{
	unsigned	 i;

	peers_flush_batch(c);
	for (i = 0; i < c->id_end; i++)
		if (c->peer[i] != NULL) {
			if (ipc_pending(c->peer[i]->chan))
				(void)ipc_flush(c->peer[i]->chan);
			peers_close(c, c->peer[i], false, "stopping");
		}
	peers_reap();
}
