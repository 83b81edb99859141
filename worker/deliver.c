/*
 * Delivery to this worker's sessions: see deliver.h and docs/datapath.md.
 *
 * Delivery makes no allocation and no copy: each recipient's queue takes a
 * reference to the one struct evbuf of the event, or to its counterpart in
 * the other encoding (TAK protocol v1 or XML), made once by the first
 * recipient that needs it (evconv.c).  A broadcast walks the
 * live sessions; a directed event looks each recipient up in the local
 * index (registry.c), and a sequence mark on the session keeps a session
 * named twice (by uid and by callsign) from getting the event twice.
 * Every recipient passes the groups check first (groups_meet(): the
 * sender's IN set against the recipient's OUT set, a few word ANDs); a
 * delivery it refuses is counted under withheld, by kind.  What is queued
 * waits for conn.c's output pass (conn_flush_pending()).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "worker/conn.h"
#include "worker/deliver.h"
#include "worker/evconv.h"
#include "worker/fanout.h"
#include "worker/groups.h"
#include "worker/registry.h"
#include "worker/session.h"
#include "worker/worker_int.h"

_Static_assert(IPC_EV_CLASS_MAX <= OUTQ_CLASSES, "event classes");

bool
deliver_receives(const struct conn *c)
{
	return (c->magic == CONN_MAGIC && c->state == CONN_ESTABLISHED &&
	    c->s.started && c->s.doom == NULL);
}

void
deliver_doom(struct worker *w, struct conn *c, const char *why)
{
	struct session	*s = &c->s;

	if (s->doom != NULL)
		return;
	s->doom = why;
	receivers_stale(w);
	/* Its memory goes now; the connection at the next output pass. */
	w->cnt.drop_closed += outq_free(&s->outq);
	budget_release(w, c);
	conn_output(w, c);
}

void
deliver_enqueue(struct worker *w, struct conn *c, struct evbuf *ev,
    uint32_t flags, uint64_t key, unsigned cls)
{
	struct session	*s = &c->s;
	size_t		 superseded = 0;
	uint32_t	 oflags;
	char		 who[CONN_WHO_MAX];

	/* In the recipient's encoding: converted once, by the first. */
	if ((ev = evconv_get0(ev, s->enc, &w->cnt)) == NULL) {
		w->cnt.drop_unconvertible++;
		return;
	}
	/*
	 * Notices takd makes itself come in bursts (a worker's death, many
	 * sessions closing in one turn): past half the queue they are
	 * dropped, as the SA replay is, so that they never close a client
	 * as a slow consumer.
	 */
	if ((flags & DELIVER_F_SYSTEM) &&
	    outq_bytes(&s->outq) + ev->len > s->outq.max / 2) {
		w->cnt.drop_notice++;
		return;
	}
	/* The write timeout counts from the moment output waits. */
	if (outq_bytes(&s->outq) == 0)
		s->write_ms = clock_mono_ms();
	/* Positions may wait for sa_flush_delay, a directed one not. */
	oflags = OUTQ_F_CLASS(cls);
	if (flags & DELIVER_F_SA)
		oflags |= OUTQ_F_SA;
	if ((flags & DELIVER_F_SA) && w->cfg->sa_flush_delay_ms > 0)
		oflags |= (flags & DELIVER_F_DIRECTED) ? OUTQ_F_URGENT :
		    OUTQ_F_COALESCE;
	switch (outq_push_at(&s->outq, ev, oflags, key, (uint32_t)w->turn_ms,
	    &superseded)) {
	case OUTQ_OK:
		if (outq_bytes(&s->outq) > w->cnt.outq_high_water)
			w->cnt.outq_high_water = outq_bytes(&s->outq);
		/* May close the biggest holder: this session too. */
		budget_output(w, c);
		break;
	case OUTQ_FULL:
		w->cnt.close_slow++;
		w->cnt.drop_closed++;
		log_warnx("session %" PRIu64 ": slow consumer, %zu bytes in %zu "
		    "events queued and more coming: disconnecting (%s)", c->id,
		    outq_bytes(&s->outq), outq_events(&s->outq),
		    conn_who(c, who, sizeof(who)));
		deliver_doom(w, c, "slow consumer: output queue full");
		break;
	case OUTQ_NOMEM:
		w->cnt.drop_nomem++;
		deliver_doom(w, c, "out of memory for the output queue");
		break;
	}
	w->cnt.drop_superseded += superseded;
	conn_output(w, c);
}

struct deliver_ctx {
	const struct deliver	*d;
	const struct groups_set	*in;	/* the sender's IN set, here */
	uint64_t		 key;
	uint64_t		 mark;
	size_t			 n;
	size_t			 withheld;	/* recipients of no shared group */
};

static bool
deliver_is_sender(const struct worker *w, const struct deliver *d,
    const struct conn *c)
{
	return (d->src_conn != 0 && d->src_worker == w->args->id &&
	    d->src_conn == c->id);
}

static void
deliver_directed_one(struct worker *w, struct conn *c, void *arg)
{
	struct deliver_ctx	*ctx = arg;

	if (c->s.deliver_mark == ctx->mark || !deliver_receives(c) ||
	    deliver_is_sender(w, ctx->d, c))
		return;
	c->s.deliver_mark = ctx->mark;
	if (!groups_meet(ctx->in, &c->s.groups.out)) {
		ctx->withheld++;
		return;
	}
	deliver_enqueue(w, c, ctx->d->ev, ctx->d->flags | DELIVER_F_DIRECTED,
	    ctx->key, ctx->d->cls);
	ctx->n++;
}

/* The deliveries the groups refused, counted by their kind. */
static void
deliver_count_withheld(struct worker *w, const struct deliver *d, size_t n)
{
	if (d->flags & DELIVER_F_SYSTEM)
		w->cnt.withheld_notice += n;
	else if (d->kind == DELIVER_DIRECTED)
		w->cnt.withheld_directed += n;
	else
		w->cnt.withheld_broadcast += n;
}

/*
 * A broadcast to the receivers table: a session that shares no group with
 * the sender costs one entry, its struct conn is not read.  (A session
 * doomed during this walk, as a slow consumer, counts as withheld when its
 * groups refuse the event: the counter may differ by that one.)
 */
static void
deliver_broadcast(struct worker *w, struct deliver_ctx *ctx,
    const struct receiver *r, size_t n)
{
	const struct deliver	*d = ctx->d;
	uint64_t		 in0 = ctx->in->w[0], self = 0;
	bool			 wide = ctx->in->nw > 1;
	size_t			 i;

	if (d->src_conn != 0 && d->src_worker == w->args->id)
		self = d->src_conn;
	for (i = 0; i < n; i++) {
		if (r[i].id == self)
			continue;
		if ((r[i].out0 & in0) == 0 && !(wide && r[i].wide &&
		    groups_meet(ctx->in, &r[i].c->s.groups.out))) {
			ctx->withheld++;
			continue;
		}
		if (!deliver_receives(r[i].c))
			continue;
		deliver_enqueue(w, r[i].c, d->ev, d->flags, ctx->key, d->cls);
		ctx->n++;
	}
}

/*
 * deliver_local(), returning the number of sessions the event was queued
 * to (a session named twice counts once) and in *withheld the number its
 * groups kept it from; for DELIVER_F_TAKEOVER, the number of sessions
 * closed.
 */
static size_t
deliver_queue(struct worker *w, const struct deliver *d, size_t *withheld)
{
	struct deliver_ctx	 ctx;
	struct groups_set	 in;
	const struct receiver	*rcv;
	struct conn		*c;
	size_t			 i, nrcv;

	memset(&ctx, 0, sizeof(ctx));
	*withheld = 0;
	ctx.d = d;
	if (d->ev == NULL)
		return (0);
	if (d->flags & DELIVER_F_TAKEOVER)
		return (registry_takeover_local(w, d));
	/* From another worker: its names, in this worker's ids. */
	if ((ctx.in = d->in) == NULL) {
		groups_resolve(w->groups, d->groups, d->groups != NULL ?
		    strlen(d->groups) : 0, &in);
		ctx.in = &in;
	}
	if (d->flags & DELIVER_F_SA)
		ctx.key = outq_hash(d->uid);
	if (d->kind == DELIVER_BROADCAST &&
	    receivers_get(w, &rcv, &nrcv) == 0)
		deliver_broadcast(w, &ctx, rcv, nrcv);
	else if (d->kind == DELIVER_BROADCAST) {
		/* Dooming a session keeps it on the list: the walk is safe. */
		TAILQ_FOREACH(c, &w->live, entry) {
			if (!deliver_receives(c) || deliver_is_sender(w, d, c))
				continue;
			if (!groups_meet(ctx.in, &c->s.groups.out)) {
				ctx.withheld++;
				continue;
			}
			deliver_enqueue(w, c, d->ev, d->flags, ctx.key, d->cls);
			ctx.n++;
		}
	} else {
		ctx.mark = ++w->deliver_seq;
		for (i = 0; i < d->n_dest; i++)
			registry_match(w, d->dest[i].kind, d->dest[i].value,
			    deliver_directed_one, &ctx);
	}
	deliver_count_withheld(w, d, ctx.withheld);
	*withheld = ctx.withheld;
	return (ctx.n);
}

void
deliver_local(struct worker *w, const struct deliver *d)
{
	size_t	 withheld;

	(void)deliver_queue(w, d, &withheld);
}

void
deliver_event(struct worker *w, struct deliver *d, struct evbuf *ev,
    bool fanout)
{
	struct fanout_stats	 fs;
	size_t			 n, withheld;

	d->ev = ev;
	n = deliver_queue(w, d, &withheld);
	/* The original bytes and their encoding: each worker converts. */
	if (fanout)
		fanout_send(w, d);
	d->ev = NULL;
	if (n == 0 && withheld == 0 && d->kind == DELIVER_DIRECTED) {
		/* With no other worker, nobody can get it. */
		fanout_get_stats(w, &fs);
		if (fs.peers == 0)
			w->cnt.drop_no_recipient++;
	}
}

struct deliver_replay {
	struct worker		*w;
	struct conn		*c;
	const struct groups_set	*before;
	size_t			 queued;
	size_t			 skipped;
	size_t			 withheld;
};

static int
deliver_replay_one(const char *uid, const char *groups, const void *bytes,
    size_t len, void *arg)
{
	struct deliver_replay	*r = arg;
	struct outq		*q = &r->c->s.outq;
	struct groups_set	 in;
	struct evbuf		*ev;

	/* Its sender's IN groups, stored by name with it. */
	groups_resolve(r->w->groups, groups, strlen(groups), &in);
	if (!groups_meet(&in, &r->c->s.groups.out)) {
		r->withheld++;
		return (0);
	}
	if (r->before != NULL && groups_meet(&in, r->before))
		return (0);	/* it has it already */
	/*
	 * Half the queue at most: live traffic must still fit behind it.
	 * Stored in XML: a v1 session gets each converted (its own copy).
	 */
	if (r->c->s.doom != NULL || outq_bytes(q) + len > q->max / 2 ||
	    (ev = evbuf_new(bytes, len)) == NULL) {
		r->skipped++;
		return (0);
	}
	deliver_enqueue(r->w, r->c, ev, DELIVER_F_SA, outq_hash(uid),
	    IPC_EV_SA);
	evbuf_unref(ev);
	r->queued++;
	return (0);
}

void
deliver_replay(struct worker *w, struct conn *c,
    const struct groups_set *before)
{
	struct deliver_replay	 r;
	char			 who[CONN_WHO_MAX];

	memset(&r, 0, sizeof(r));
	r.w = w;
	r.c = c;
	r.before = before;
	/*
	 * At connect its uid is not known yet; later (a replay that waited
	 * for the TAK protocol negotiation, a change of groups) its own SA is
	 * its own.  What was stored after it connected, it got live: a
	 * replay that waited must not send it twice.  This worker's
	 * positions still in the batch go first (registry_commit_due()).
	 */
	registry_commit_sa(w);
	if (registry_foreach_sa(w, before != NULL ? clock_wall_ms() :
	    c->s.connected_wall_ms, before != NULL ? 0 :
	    c->s.connected_wall_ms, c->s.uid, deliver_replay_one, &r) == -1)
		log_warnx("session %" PRIu64 ": latest SA replay failed (state "
		    "store error)", c->id);
	w->cnt.sa_replayed += r.queued;
	w->cnt.replay_skipped += r.skipped;
	w->cnt.withheld_replay += r.withheld;
	if (r.skipped > 0)
		log_warnx("session %" PRIu64 ": %zu latest SA events replayed, "
		    "%zu skipped: they would fill more than half of its output "
		    "queue (%s)", c->id, r.queued, r.skipped,
		    conn_who(c, who, sizeof(who)));
	else if (r.queued > 0)
		log_debug("session %" PRIu64 ": %zu latest SA events replayed"
		    "%s, %zu of groups it does not receive", c->id, r.queued,
		    before != NULL ? " for its new groups" : "", r.withheld);
}
