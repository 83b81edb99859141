/*
 * Fan-out between workers: the worker's end of the mesh (see fanout.h and
 * docs/fanout.md).
 *
 * Every other worker is one SOCK_SEQPACKET channel.  Events routed here are
 * appended to one batch, which goes to every peer when it is full and before
 * the loop sleeps: one encode and one sendmsg() per peer for many events.  An
 * event too large for a frame goes alone, its bytes in a sealed memfd.
 * Sending never blocks: a peer whose bounded out-queue is full misses the
 * batch, counted and logged at a limited rate.
 *
 * A closed peer is unhooked at once but freed only before the loop sleeps:
 * later events of the same epoll batch, and the frame being decoded, may
 * still point at it.
 *
 * This file calls nothing in worker.c or the session code but deliver_local()
 * and evbuf_*(), so that its unit test can run two of these in one process.
 */
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/ipc.h"
#include "shared/clock.h"
#include "shared/config.h"
#include "shared/grouplist.h"
#include "shared/log.h"
#include "cluster/cluster.h"
#include "worker/fanout.h"
#include "worker/worker_int.h"

#define FANOUT_MAGIC		0x46414e4fu	/* "FANO" */
#define FANOUT_QUEUE_MAX	(8 * 1024 * 1024)	/* per peer */
#define FANOUT_FRAMES_PER_WAKEUP 32
/* memfd bytes sent to one peer and not yet credited back. */
#define FANOUT_LARGE_INFLIGHT	((uint64_t)64 * 1024 * 1024)
/* The workers by id, then the cluster process (docs/cluster.md). */
#define FANOUT_PEERS		(TAKD_MAX_WORKERS + 1)
#define FANOUT_CLUSTER_IDX	TAKD_MAX_WORKERS
#define FANOUT_SEALS		(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

struct fanout_peer {
	unsigned	 magic;		/* FANOUT_PEER_MAGIC, first */
	unsigned	 id;
	unsigned	 idx;		/* in the peer table (fanout_idx()) */
	bool		 closed;	/* unhooked; freed before sleeping */
	bool		 out_armed;	/* EPOLLOUT in the interest set */
	struct ipc_chan	*chan;
	uint64_t	 large_out;	/* memfd bytes sent, not credited */
	uint64_t	 credit_owed;	/* memfd bytes consumed, not credited */
	struct fanout_peer *next_dead;
};

struct fanout {
	unsigned	 magic;
	struct worker	*w;
	struct fanout_peer *peer[FANOUT_PEERS];	/* up, by fanout_idx() */
	bool		 known[FANOUT_PEERS];	/* had a channel once */
	unsigned	 n_known;
	unsigned	 id_end;	/* 1 + highest id ever added */
	struct fanout_peer *dead;

	struct ipc_buf	 batch;		/* IPC_MSG_EVENT being filled */
	uint32_t	 batch_events;
	bool		 batch_urgent;	/* holds more than broadcast positions */
	int64_t		 batch_ms;	/* turn of its first event */
	struct ipc_buf	 aux;		/* LARGE and CREDIT payloads */

	struct fanout_stats st;
	struct log_ratelimit rl_drop;
	struct log_ratelimit rl_err;
};

static void	 fanout_peer_close(struct fanout *, struct fanout_peer *,
		    int, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

/* ---- wire form ---- */

static int
fanout_deliver_valid(const struct deliver *d)
{
	size_t	 i;

	if (d == NULL || d->ev == NULL || d->ev->len <= d->ev->hlen ||
	    d->ev->enc >= EVBUF_ENC_MAX)
		return (0);
	if (d->kind != DELIVER_BROADCAST && d->kind != DELIVER_DIRECTED)
		return (0);
	if ((d->flags & ~(uint32_t)DELIVER_F_ALL) != 0)
		return (0);
	if ((unsigned)d->cls >= IPC_EV_CLASS_MAX)
		return (0);
	if (strnlen(d->uid, sizeof(d->uid)) == sizeof(d->uid))
		return (0);
	if (d->groups != NULL && grouplist_check(d->groups,
	    strnlen(d->groups, GROUPLIST_STR_MAX)) == -1)
		return (0);
	if (d->kind == DELIVER_BROADCAST)
		return (1);
	if (d->n_dest == 0 || d->n_dest > COT_MAX_DEST || d->dest == NULL)
		return (0);
	for (i = 0; i < d->n_dest; i++) {
		if (d->dest[i].kind != COT_DEST_CALLSIGN &&
		    d->dest[i].kind != COT_DEST_UID)
			return (0);
		if (d->dest[i].value[0] == '\0' ||
		    strnlen(d->dest[i].value, sizeof(d->dest[i].value)) ==
		    sizeof(d->dest[i].value))
			return (0);
	}
	return (1);
}

/* Everything of a record but the event. */
static void
fanout_put_meta(struct ipc_buf *b, const struct deliver *d)
{
	size_t	 i, n = d->kind == DELIVER_DIRECTED ? d->n_dest : 0;

	ipc_put_u32(b, (uint32_t)d->kind);
	ipc_put_u32(b, d->flags);
	ipc_put_u32(b, (uint32_t)d->cls);
	/* The event goes as it came: each worker converts for its own. */
	ipc_put_u32(b, d->ev->enc);
	ipc_put_u32(b, d->src_worker);
	ipc_put_u64(b, d->src_conn);
	ipc_put_str(b, d->uid);
	/* The receiver decides who may get it: the sender's IN groups. */
	ipc_put_str(b, d->groups != NULL ? d->groups : "");
	ipc_put_u32(b, (uint32_t)n);
	for (i = 0; i < n; i++) {
		ipc_put_u32(b, (uint32_t)d->dest[i].kind);
		ipc_put_str(b, d->dest[i].value);
	}
}

int
fanout_encode(struct ipc_buf *b, const struct deliver *d)
{
	const uint8_t	*body;
	size_t		 mark = b->len, len;

	if (b->err != 0 || !fanout_deliver_valid(d)) {
		errno = EINVAL;
		return (-1);
	}
	fanout_put_meta(b, d);
	body = evbuf_body(d->ev, &len);
	ipc_put_bytes(b, body, len);
	if (b->err != 0) {
		/* The puts only fail for room: undo the partial record. */
		b->len = mark;
		b->err = 0;
		errno = EMSGSIZE;
		return (-1);
	}
	return (0);
}

/* A memfd holding bytes, sealed so that the receiver may map it safely. */
static int
fanout_memfd(const uint8_t *bytes, size_t len)
{
	size_t	 off = 0;
	ssize_t	 n;
	int	 fd, saved;

	if ((fd = memfd_create("takd-event", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		return (-1);
	while (off < len) {
		if ((n = write(fd, bytes + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, FANOUT_SEALS | F_SEAL_SEAL) == -1)
		goto fail;
	return (fd);
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return (-1);
}

int
fanout_encode_large(struct ipc_buf *b, const struct deliver *d, int *memfd)
{
	const uint8_t	*body;
	size_t		 len;

	*memfd = -1;
	if (!fanout_deliver_valid(d)) {
		errno = EINVAL;
		return (-1);
	}
	body = evbuf_body(d->ev, &len);
	ipc_buf_init(b);
	fanout_put_meta(b, d);
	ipc_put_u32(b, (uint32_t)len);
	if (b->err != 0) {
		errno = b->err;
		return (-1);
	}
	if ((*memfd = fanout_memfd(body, len)) == -1)
		return (-1);
	return (0);
}

static const char *
fanout_str_error(int err)
{
	return (err == ENAMETOOLONG ? "too long" :
	    "truncated or not a string");
}

/*
 * One record into r, checked.  For a LARGE frame the event is only its
 * length (bytes stays NULL).  0, or -1 with the reason in err.
 */
static int
fanout_get_rec(struct ipc_rd *rd, bool large, size_t max_bytes,
    struct fanout_rec *r, char *err, size_t errlen)
{
	struct deliver	*d = &r->d;
	uint32_t	 kind, cls, enc, n, dk, i;

	memset(d, 0, sizeof(*d));
	r->bytes = NULL;
	r->len = 0;
	kind = ipc_get_u32(rd);
	d->flags = ipc_get_u32(rd);
	cls = ipc_get_u32(rd);
	enc = ipc_get_u32(rd);
	d->src_worker = ipc_get_u32(rd);
	d->src_conn = ipc_get_u64(rd);
	if (rd->err != 0) {
		snprintf(err, errlen, "truncated header");
		return (-1);
	}
	ipc_get_str(rd, d->uid, sizeof(d->uid));
	if (rd->err != 0) {
		snprintf(err, errlen, "uid %s", fanout_str_error(rd->err));
		return (-1);
	}
	ipc_get_str(rd, r->groups, sizeof(r->groups));
	if (rd->err != 0) {
		snprintf(err, errlen, "groups %s", fanout_str_error(rd->err));
		return (-1);
	}
	if (grouplist_check(r->groups, strlen(r->groups)) == -1) {
		snprintf(err, errlen, "groups \"%.64s\" are no list of group "
		    "names", r->groups);
		return (-1);
	}
	d->groups = r->groups;
	if (kind != DELIVER_BROADCAST && kind != DELIVER_DIRECTED) {
		snprintf(err, errlen, "unknown kind %u", kind);
		return (-1);
	}
	d->kind = (enum deliver_kind)kind;
	if ((d->flags & ~(uint32_t)DELIVER_F_ALL) != 0) {
		snprintf(err, errlen, "unknown flags %#x", d->flags);
		return (-1);
	}
	if (cls >= IPC_EV_CLASS_MAX) {
		snprintf(err, errlen, "unknown event class %u", cls);
		return (-1);
	}
	d->cls = (enum ipc_ev_class)cls;
	if (enc >= EVBUF_ENC_MAX) {
		snprintf(err, errlen, "unknown encoding %u", enc);
		return (-1);
	}
	r->enc = (enum evbuf_enc)enc;
	n = ipc_get_u32(rd);
	if (rd->err != 0) {
		snprintf(err, errlen, "truncated before the recipients");
		return (-1);
	}
	if (kind == DELIVER_BROADCAST ? n != 0 : n == 0 || n > COT_MAX_DEST) {
		snprintf(err, errlen, "%s event with %u recipients",
		    kind == DELIVER_BROADCAST ? "broadcast" : "directed", n);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		dk = ipc_get_u32(rd);
		ipc_get_str(rd, r->dest[i].value, sizeof(r->dest[i].value));
		if (rd->err != 0) {
			snprintf(err, errlen, "recipient %u: %s", i,
			    fanout_str_error(rd->err));
			return (-1);
		}
		if (dk != COT_DEST_CALLSIGN && dk != COT_DEST_UID) {
			snprintf(err, errlen, "recipient %u: unknown kind %u",
			    i, dk);
			return (-1);
		}
		if (r->dest[i].value[0] == '\0') {
			snprintf(err, errlen, "recipient %u: empty", i);
			return (-1);
		}
		r->dest[i].kind = (enum cot_dest_kind)dk;
	}
	d->n_dest = n;
	d->dest = n > 0 ? r->dest : NULL;
	if (large)
		r->len = ipc_get_u32(rd);
	else
		r->bytes = ipc_get_bytes(rd, &r->len);
	if (rd->err != 0) {
		snprintf(err, errlen, "truncated event");
		return (-1);
	}
	if (r->len == 0 || r->len > max_bytes) {
		snprintf(err, errlen, "event of %zu bytes (limit %zu)",
		    r->len, max_bytes);
		return (-1);
	}
	return (0);
}

/* Map the memfd of a LARGE frame: exactly len bytes, sealed. */
static void *
fanout_map(int fd, size_t len, char *err, size_t errlen)
{
	struct stat	 st;
	void		*p;
	int		 seals;

	if (fd == -1) {
		snprintf(err, errlen, "large event without a descriptor");
		return (NULL);
	}
	if ((seals = fcntl(fd, F_GET_SEALS)) == -1 ||
	    (seals & FANOUT_SEALS) != FANOUT_SEALS) {
		snprintf(err, errlen, "large event descriptor is not a "
		    "sealed memfd");
		return (NULL);
	}
	if (fstat(fd, &st) == -1 || st.st_size < 0 ||
	    (uint64_t)st.st_size != len) {
		snprintf(err, errlen, "large event descriptor holds %lld "
		    "bytes, the frame says %zu", (long long)st.st_size, len);
		return (NULL);
	}
	if ((p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0)) ==
	    MAP_FAILED) {
		snprintf(err, errlen, "large event: mmap: %s",
		    strerror(errno));
		return (NULL);
	}
	return (p);
}

int
fanout_decode(const struct ipc_msg *msg, size_t max_bytes,
    void (*cb)(const struct fanout_rec *, void *), void *arg,
    size_t *large_len, char *err, size_t errlen)
{
	struct fanout_rec	 r;
	struct ipc_rd		 rd;
	void			*map;
	int			 n, pass;
	bool			 large = msg->hdr.type == IPC_MSG_EVENT_LARGE;

	*large_len = 0;
	if (msg->hdr.type != IPC_MSG_EVENT && !large) {
		snprintf(err, errlen, "type %u is not an event",
		    msg->hdr.type);
		return (-1);
	}
	if (!large && msg->fd != -1) {
		snprintf(err, errlen, "event frame with a descriptor");
		return (-1);
	}
	if (large) {
		ipc_rd_init(&rd, msg);
		if (fanout_get_rec(&rd, true, max_bytes, &r, err, errlen) ==
		    -1)
			return (-1);
		if (ipc_rd_done(&rd) == -1) {
			snprintf(err, errlen, "%zu bytes after the record",
			    rd.len - rd.off);
			return (-1);
		}
		if ((map = fanout_map(msg->fd, r.len, err, errlen)) == NULL)
			return (-1);
		r.bytes = map;
		cb(&r, arg);
		munmap(map, r.len);
		*large_len = r.len;
		return (1);
	}
	/* Check the whole frame before delivering any of it. */
	for (pass = 0; pass < 2; pass++) {
		ipc_rd_init(&rd, msg);
		for (n = 0; rd.off < rd.len; n++) {
			if (fanout_get_rec(&rd, false, max_bytes, &r, err,
			    errlen) == -1) {
				assert(pass == 0);
				/* Say where: the detail alone is ambiguous. */
				snprintf(err + strlen(err), errlen -
				    strlen(err), " (record %d)", n);
				return (-1);
			}
			if (pass == 1)
				cb(&r, arg);
		}
		if (n == 0) {
			snprintf(err, errlen, "no event in the frame");
			return (-1);
		}
	}
	return (n);
}

/* ---- peers ---- */

/*
 * A peer's place in the table: a worker's id, or the one after them for
 * the cluster process, one more peer of the mesh whose events come from
 * other nodes (cluster/peers.c).  -1 for any other id.
 */
static int
fanout_idx(unsigned id)
{
	if (id < TAKD_MAX_WORKERS)
		return ((int)id);
	if (id == TAKD_CLUSTER_SLOT)
		return (FANOUT_CLUSTER_IDX);
	return (-1);
}

static struct fanout *
fanout_get(const struct worker *w)
{
	struct fanout	*f = w->fanout;

	assert(f == NULL || f->magic == FANOUT_MAGIC);
	return (f);
}

static int
fanout_peer_interest(struct fanout *f, struct fanout_peer *p, bool out)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (out ? EPOLLOUT : 0);
	ev.data.ptr = p;
	if (epoll_ctl(f->w->epfd, EPOLL_CTL_MOD, p->chan->fd, &ev) == -1)
		return (-1);
	p->out_armed = out;
	return (0);
}

/*
 * Unhook a peer: out of the table and the epoll set now, freed before the
 * loop sleeps.  level is LOG_INFO for a peer that went away, LOG_WARNING
 * for a fault.
 */
static void
fanout_peer_close(struct fanout *f, struct fanout_peer *p, int level,
    const char *fmt, ...)
{
	char	 why[256];
	va_list	 ap;

	if (p->closed)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (level <= LOG_WARNING)
		log_warnx("fan-out: channel to worker %u closed: %s", p->id,
		    why);
	else if (f->w->state == WORKER_RUN)
		log_info("fan-out: channel to worker %u closed: %s", p->id,
		    why);
	else	/* the whole mesh goes down with takd */
		log_debug("fan-out: channel to worker %u closed: %s", p->id,
		    why);
	(void)epoll_ctl(f->w->epfd, EPOLL_CTL_DEL, p->chan->fd, NULL);
	p->closed = true;
	if (f->peer[p->idx] == p) {
		f->peer[p->idx] = NULL;
		f->st.peers--;
	}
	p->next_dead = f->dead;
	f->dead = p;
}

static void
fanout_peer_free(struct fanout_peer *p)
{
	ipc_chan_free(p->chan);
	p->magic = 0;
	free(p);
}

static void
fanout_reap(struct fanout *f)
{
	struct fanout_peer	*p;

	while ((p = f->dead) != NULL) {
		f->dead = p->next_dead;
		fanout_peer_free(p);
	}
}

int
fanout_init(struct worker *w)
{
	struct fanout	*f;

	if ((f = calloc(1, sizeof(*f))) == NULL) {
		log_warn("fan-out");
		return (-1);
	}
	f->magic = FANOUT_MAGIC;
	f->w = w;
	/* A stuck peer drops every batch: one line a second says enough. */
	f->rl_drop.burst = 1;
	ipc_buf_init(&f->batch);
	ipc_buf_init(&f->aux);
	w->fanout = f;
	return (0);
}

void
fanout_add_peer(struct worker *w, unsigned id, int fd)
{
	struct fanout		*f = fanout_get(w);
	struct fanout_peer	*p, *old;
	struct epoll_event	 ev;
	int			 idx = fanout_idx(id);

	if (f == NULL || idx == -1 || id == w->args->id) {
		log_warnx("fan-out: channel to worker %u refused: %s", id,
		    f == NULL ? "fan-out not initialised" :
		    id == w->args->id ? "that is this worker" :
		    "worker id out of range");
		close(fd);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		log_warn("fan-out: channel to worker %u", id);
		close(fd);
		return;
	}
	p->magic = FANOUT_PEER_MAGIC;
	p->id = id;
	p->idx = (unsigned)idx;
	if ((p->chan = ipc_chan_new(fd, FANOUT_QUEUE_MAX)) == NULL) {
		log_warn("fan-out: channel to worker %u refused (fd %d)", id,
		    fd);
		free(p);
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = p;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, p->chan->fd, &ev) == -1) {
		log_warn("fan-out: channel to worker %u: epoll_ctl", id);
		fanout_peer_free(p);
		return;
	}
	/* The supervisor sends a new channel when the peer was respawned. */
	if ((old = f->peer[idx]) != NULL)
		fanout_peer_close(f, old, LOG_INFO, "replaced: worker %u was "
		    "restarted", id);
	f->peer[idx] = p;
	f->st.peers++;
	if (!f->known[idx]) {
		f->known[idx] = true;
		f->n_known++;
	}
	if ((unsigned)idx >= f->id_end)
		f->id_end = (unsigned)idx + 1;
	log_info("fan-out: channel to worker %u up (%u peer%s)", id,
	    f->st.peers, f->st.peers == 1 ? "" : "s");
}

/*
 * One frame to one peer, carrying nevents events (large: the memfd bytes
 * it pins).  Failures are counted as drops; a dead channel is closed.
 */
static void
fanout_peer_send(struct fanout *f, struct fanout_peer *p, uint32_t type,
    const struct ipc_buf *b, int fd, uint32_t nevents, uint64_t large)
{
	int	 err;

	if (large > 0 && p->large_out + large > FANOUT_LARGE_INFLIGHT) {
		f->st.dropped_full += nevents;
		log_limited(&f->rl_drop, LOG_WARNING,
		    "fan-out: worker %u has %llu "
		    "bytes of large events unread: event of %llu bytes "
		    "dropped", p->id, (unsigned long long)p->large_out,
		    (unsigned long long)large);
		return;
	}
	if (ipc_send(p->chan, type, 0, f->w->args->id, b->data, b->len,
	    fd) == 0) {
		f->st.sent++;
		f->st.events_sent += nevents;
		p->large_out += large;
		if (large > 0)
			f->st.large_sent++;
		return;
	}
	err = errno;
	switch (err) {
	case ENOBUFS:
		f->st.dropped_full += nevents;
		log_limited(&f->rl_drop, LOG_WARNING,
		    "fan-out: queue to worker %u "
		    "full (%zu bytes): %u events dropped, %llu so far", p->id,
		    p->chan->queued_bytes, nevents,
		    (unsigned long long)f->st.dropped_full);
		break;
	case ENOMEM:
	case EMFILE:
	case ENFILE:
		/* Could not queue a copy; the channel itself is fine. */
		f->st.dropped_error += nevents;
		log_limited(&f->rl_err, LOG_WARNING,
		    "fan-out: to worker %u: %s: "
		    "%u events dropped", p->id, strerror(err), nevents);
		break;
	case EPIPE:
	case ECONNRESET:
	case ENOTCONN:
	case ECONNREFUSED:
		f->st.dropped_down += nevents;
		fanout_peer_close(f, p, LOG_INFO, "worker %u went away (%s)",
		    p->id, strerror(err));
		break;
	default:
		f->st.dropped_error += nevents;
		fanout_peer_close(f, p, LOG_WARNING, "send: %s",
		    strerror(err));
		break;
	}
}

/* Peers that had a channel once and have none now miss what is sent. */
static void
fanout_count_down(struct fanout *f, uint32_t nevents)
{
	f->st.dropped_down += (uint64_t)nevents * (f->n_known - f->st.peers);
}

static void
fanout_flush_batch(struct fanout *f)
{
	unsigned	 i;

	if (f->batch_events == 0)
		return;
	for (i = 0; i < f->id_end; i++)
		if (f->peer[i] != NULL)
			fanout_peer_send(f, f->peer[i], IPC_MSG_EVENT,
			    &f->batch, -1, f->batch_events, 0);
	fanout_count_down(f, f->batch_events);
	ipc_buf_init(&f->batch);
	f->batch_events = 0;
	f->batch_urgent = false;
}

/*
 * A batch of broadcast positions alone may wait a quarter of [cot]
 * sa_flush_delay (the receiver holds them for its clients anyway): one
 * frame then carries many turns' positions, where each frame costs a
 * sendmsg() here, a wake-up and two recvmsg() there.  Anything else in the
 * batch makes it go at the end of the turn (fanout_wait()).
 */
static void
fanout_batch_mark(struct fanout *f, const struct deliver *d)
{
	if (f->batch_events == 0)
		f->batch_ms = f->w->turn_ms;
	if (d->kind != DELIVER_BROADCAST || d->flags != DELIVER_F_SA)
		f->batch_urgent = true;
}

int64_t
fanout_wait(const struct worker *w, int64_t now_ms)
{
	const struct fanout	*f = w->fanout;
	int64_t			 t;

	if (f == NULL || f->batch_events == 0)
		return (-1);
	if (f->batch_urgent)
		return (0);
	t = f->batch_ms + f->w->cfg->sa_flush_delay_ms / 4 - now_ms;
	return (t < 0 ? 0 : t);
}

static void
fanout_send_large(struct fanout *f, const struct deliver *d)
{
	size_t		 len;
	unsigned	 i;
	int		 fd;

	/* What the memfd pins and the peer credits back: the body. */
	(void)evbuf_body(d->ev, &len);
	/* Keep the order: what was batched before goes first. */
	fanout_flush_batch(f);
	if (fanout_encode_large(&f->aux, d, &fd) == -1) {
		f->st.dropped_error += f->st.peers;
		log_limited(&f->rl_err, LOG_WARNING,
		    "fan-out: event of %u bytes "
		    "from session %llu not sent: %s", d->ev->len,
		    (unsigned long long)d->src_conn, strerror(errno));
		return;
	}
	for (i = 0; i < f->id_end; i++)
		if (f->peer[i] != NULL)
			fanout_peer_send(f, f->peer[i], IPC_MSG_EVENT_LARGE,
			    &f->aux, fd, 1, len);
	fanout_count_down(f, 1);
	close(fd);
}

void
fanout_send(struct worker *w, const struct deliver *d)
{
	struct fanout	*f = fanout_get(w);

	if (f == NULL || f->n_known == 0)
		return;		/* a single worker */
	if (d->kind == DELIVER_DIRECTED && d->n_dest == 0)
		return;		/* for nobody */
	if (f->st.peers == 0) {
		fanout_count_down(f, 1);
		return;
	}
	fanout_batch_mark(f, d);
	if (fanout_encode(&f->batch, d) == 0) {
		f->batch_events++;
		return;
	}
	if (errno == EMSGSIZE && f->batch_events > 0) {
		fanout_flush_batch(f);
		fanout_batch_mark(f, d);
		if (fanout_encode(&f->batch, d) == 0) {
			f->batch_events++;
			return;
		}
	}
	if (errno == EMSGSIZE) {
		fanout_send_large(f, d);
		return;
	}
	f->st.dropped_error += f->st.peers;
	log_limited(&f->rl_err, LOG_WARNING,
	    "fan-out: invalid event from session "
	    "%llu not sent (kind %d, flags %#x, %zu recipients, %u bytes)",
	    (unsigned long long)d->src_conn, (int)d->kind, d->flags,
	    d->n_dest, d->ev != NULL ? d->ev->len : 0);
}

/* ---- receiving ---- */

static void
fanout_deliver_rec(const struct fanout_rec *r, void *arg)
{
	struct fanout	*f = arg;
	struct deliver	 d = r->d;

	d.ev = r->enc == EVBUF_V1 ? evbuf_new_v1(r->bytes, r->len) :
	    evbuf_new(r->bytes, r->len);
	if (d.ev == NULL) {
		f->st.dropped_error++;
		log_limited(&f->rl_err, LOG_WARNING,
		    "fan-out: event of %zu bytes "
		    "from worker %u lost: out of memory", r->len,
		    d.src_worker);
		return;
	}
	f->st.events_received++;
	deliver_local(f->w, &d);
	evbuf_unref(d.ev);
}

/* Return the credit of consumed large events; retried before sleeping. */
static void
fanout_send_credit(struct fanout *f, struct fanout_peer *p)
{
	if (p->closed || p->credit_owed == 0)
		return;
	ipc_buf_init(&f->aux);
	ipc_put_u64(&f->aux, p->credit_owed);
	if (ipc_send(p->chan, IPC_MSG_EVENT_CREDIT, 0, f->w->args->id,
	    f->aux.data, f->aux.len, -1) == 0) {
		p->credit_owed = 0;
		return;
	}
	if (errno == ENOBUFS || errno == ENOMEM)
		return;
	fanout_peer_close(f, p, LOG_INFO, "send: %s", strerror(errno));
}

static int
fanout_credit(struct fanout_peer *p, const struct ipc_msg *msg, char *err,
    size_t errlen)
{
	struct ipc_rd	 rd;
	uint64_t	 v;

	ipc_rd_init(&rd, msg);
	v = ipc_get_u64(&rd);
	if (ipc_rd_done(&rd) == -1 || msg->fd != -1) {
		snprintf(err, errlen, "credit frame of %zu bytes%s", msg->len,
		    msg->fd != -1 ? " with a descriptor" : "");
		return (-1);
	}
	if (v == 0 || v > p->large_out) {
		snprintf(err, errlen, "credit of %llu bytes, %llu in flight",
		    (unsigned long long)v, (unsigned long long)p->large_out);
		return (-1);
	}
	p->large_out -= v;
	return (0);
}

/* One received frame.  0, or -1 when it was malformed (reason in err). */
static int
fanout_frame(struct fanout *f, struct fanout_peer *p,
    const struct ipc_msg *msg, char *err, size_t errlen)
{
	size_t	 large = 0;

	if (msg->hdr.src_worker != p->id) {
		snprintf(err, errlen, "frame claims to come from worker %u",
		    msg->hdr.src_worker);
		return (-1);
	}
	switch (msg->hdr.type) {
	case IPC_MSG_EVENT:
	case IPC_MSG_EVENT_LARGE:
		if (fanout_decode(msg, f->w->cfg->max_event_bytes,
		    fanout_deliver_rec, f, &large, err, errlen) == -1)
			return (-1);
		f->st.received++;
		if (large > 0) {
			p->credit_owed += large;
			fanout_send_credit(f, p);
		}
		return (0);
	case IPC_MSG_EVENT_CREDIT:
		return (fanout_credit(p, msg, err, errlen));
	default:
		snprintf(err, errlen, "unexpected message type %u",
		    msg->hdr.type);
		return (-1);
	}
}

static void
fanout_read(struct fanout *f, struct fanout_peer *p)
{
	struct ipc_msg	 msg;
	char		 err[256];
	int		 i, r, bad;

	for (i = 0; i < FANOUT_FRAMES_PER_WAKEUP && !p->closed; i++) {
		if ((r = ipc_recv(p->chan, &msg)) == 0)
			return;
		if (r == -1) {
			if (errno == 0)
				fanout_peer_close(f, p, LOG_INFO, "worker %u "
				    "closed it", p->id);
			else if (errno == EBADMSG) {
				/* ipc_recv() logged the detail. */
				f->st.malformed++;
				fanout_peer_close(f, p, LOG_WARNING,
				    "malformed frame");
			} else
				fanout_peer_close(f, p, LOG_WARNING,
				    "receive: %s", strerror(errno));
			return;
		}
		err[0] = '\0';
		bad = fanout_frame(f, p, &msg, err, sizeof(err));
		if (msg.fd != -1)
			close(msg.fd);
		if (bad == -1) {
			f->st.malformed++;
			fanout_peer_close(f, p, LOG_WARNING, "malformed frame "
			    "(type %u, %zu bytes): %s", msg.hdr.type, msg.len,
			    err);
			return;
		}
	}
}

void
fanout_handle(struct worker *w, void *ptr, uint32_t events)
{
	struct fanout		*f = fanout_get(w);
	struct fanout_peer	*p = ptr;

	assert(p != NULL && p->magic == FANOUT_PEER_MAGIC);
	if (f == NULL || p->closed)
		return;		/* closed earlier in this batch */
	if ((events & EPOLLOUT) && ipc_flush(p->chan) == -1) {
		fanout_peer_close(f, p, LOG_INFO, "send: %s", strerror(errno));
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
		fanout_read(f, p);
}

void
fanout_before_sleep(struct worker *w)
{
	struct fanout		*f = fanout_get(w);
	struct fanout_peer	*p;
	unsigned		 i;
	bool			 want;

	if (f == NULL)
		return;
	if (fanout_wait(w, clock_mono_ms()) == 0)
		fanout_flush_batch(f);
	for (i = 0; i < f->id_end; i++) {
		if ((p = f->peer[i]) == NULL)
			continue;
		fanout_send_credit(f, p);
		if (!p->closed && ipc_pending(p->chan) &&
		    ipc_flush(p->chan) == -1) {
			fanout_peer_close(f, p, LOG_INFO, "send: %s",
			    strerror(errno));
			continue;
		}
		if (p->closed)
			continue;
		want = ipc_pending(p->chan) != 0;
		if (want != p->out_armed && fanout_peer_interest(f, p,
		    want) == -1)
			fanout_peer_close(f, p, LOG_WARNING, "epoll_ctl: %s",
			    strerror(errno));
	}
	fanout_reap(f);
}

void
fanout_free(struct worker *w)
{
	struct fanout	*f = fanout_get(w);
	unsigned	 i;

	if (f == NULL)
		return;
	/* Last words (disconnect notices) go out if the sockets have room. */
	fanout_flush_batch(f);
	for (i = 0; i < f->id_end; i++) {
		if (f->peer[i] == NULL)
			continue;
		if (ipc_pending(f->peer[i]->chan))
			(void)ipc_flush(f->peer[i]->chan);
		fanout_peer_free(f->peer[i]);
		f->peer[i] = NULL;
	}
	fanout_reap(f);
	f->magic = 0;
	free(f);
	w->fanout = NULL;
}

void
fanout_get_stats(const struct worker *w, struct fanout_stats *st)
{
	const struct fanout	*f = fanout_get(w);

	if (f == NULL) {
		memset(st, 0, sizeof(*st));
		return;
	}
	*st = f->st;
}
