/*
 * When a session's queued output is written: see outsched.h and
 * docs/datapath.md ("Output").
 *
 * Deliveries only queue (session.c, deliver.c); conn_output() decides when
 * the conn is written: on the outlist, written by conn_flush_pending()
 * before the loop sleeps; on the written list while [cot] flush_delay
 * since its last write has not passed; on the sawait list while only
 * positions are queued and the oldest of them has not waited [cot]
 * sa_flush_delay.
 */
#include <stdbool.h>
#include <stdint.h>

#include "shared/clock.h"
#include "worker/conn.h"
#include "worker/outq.h"
#include "worker/outsched.h"
#include "worker/worker_int.h"

void
conn_outlist_del(struct worker *w, struct conn *c)
{
	if (!c->on_outlist)
		return;
	TAILQ_REMOVE(&w->outlist, c, out_entry);
	c->on_outlist = false;
}

void
conn_written_del(struct worker *w, struct conn *c)
{
	if (!c->on_written)
		return;
	TAILQ_REMOVE(&w->written, c, wr_entry);
	c->on_written = false;
}

void
conn_sawait_del(struct worker *w, struct conn *c)
{
	if (!c->on_sawait)
		return;
	TAILQ_REMOVE(&w->sawait, c, sa_entry);
	c->on_sawait = false;
}

/* When the oldest SA queued for c must go: its turn + sa_flush_delay. */
static int64_t
conn_sa_due(struct worker *w, struct conn *c)
{
	int32_t	 age;

	age = (int32_t)((uint32_t)w->turn_ms - outq_head_at(&c->s.outq));
	return (w->turn_ms - age + w->cfg->sa_flush_delay_ms);
}

/*
 * Whether c's output may wait for its SA deadline: only positions are
 * queued, less than a record's worth, no write is under way and the
 * session is not draining.
 */
static bool
conn_sa_may_wait(struct worker *w, struct conn *c)
{
	const struct outq	*q = &c->s.outq;

	return (w->cfg->sa_flush_delay_ms > 0 && !c->draining &&
	    outq_bytes(q) > 0 && outq_bytes(q) < CONN_IO_BUF &&
	    !outq_urgent(q));
}

/*
 * Whether c's output waits for its SA deadline, which comes from the
 * oldest position queued.  The sawait list stays sorted by deadline: the
 * deadline of a fresh queue is the latest, and what a write of whole
 * records left behind was mostly queued in this turn.
 */
bool
conn_sa_hold(struct worker *w, struct conn *c)
{
	struct conn	*p;
	int64_t		 due;

	if (!conn_sa_may_wait(w, c))
		return (false);
	if (c->on_sawait)
		return (true);
	/*
	 * conn_flush_pending() takes it off the list when it is due; a
	 * deadline that came stays until a write (conn_written()).
	 */
	due = conn_sa_due(w, c);
	if (c->sa_due_ms == 0 || due < c->sa_due_ms)
		c->sa_due_ms = due;
	if (c->sa_due_ms <= clock_mono_ms())
		return (false);
	p = TAILQ_LAST(&w->sawait, conn_list);
	while (p != NULL && p->sa_due_ms > c->sa_due_ms)
		p = TAILQ_PREV(p, conn_list, sa_entry);
	if (p == NULL)
		TAILQ_INSERT_HEAD(&w->sawait, c, sa_entry);
	else
		TAILQ_INSERT_AFTER(&w->sawait, p, c, sa_entry);
	c->on_sawait = true;
	return (true);
}

/*
 * c was written at now: output that comes within [cot] flush_delay waits
 * for the delay to end.  Appended, so the written list stays oldest first
 * and the output pass looks at no more of it than what is due.
 */
void
conn_written(struct worker *w, struct conn *c, int64_t now)
{
	c->flushed_ms = now;
	/* What is left, if anything, waits from its own oldest position. */
	c->sa_due_ms = 0;
	if (outq_bytes(&c->s.outq) == 0)
		conn_sawait_del(w, c);
	if (w->cfg->flush_delay_ms == 0)
		return;
	conn_written_del(w, c);
	TAILQ_INSERT_TAIL(&w->written, c, wr_entry);
	c->on_written = true;
}

/*
 * c has output (or was doomed): it goes on the outlist, written before the
 * loop sleeps, unless its last write is less than the delay ago.  Then it
 * stays on the written list and conn_flush_pending() moves it here when the
 * delay ends; a draining session and a record's worth queued do not wait.
 */
void
conn_output(struct worker *w, struct conn *c)
{
	if (c->magic != CONN_MAGIC || c->on_outlist)
		return;
	if (c->s.doom == NULL) {
		/* A blocked write is resumed by its epoll event. */
		if (c->wr_wait != 0 || c->state != CONN_ESTABLISHED)
			return;
		if (conn_sa_hold(w, c))
			return;
		if (c->on_written && !c->draining &&
		    outq_bytes(&c->s.outq) < CONN_IO_BUF)
			return;
	}
	conn_sawait_del(w, c);
	TAILQ_INSERT_TAIL(&w->outlist, c, out_entry);
	c->on_outlist = true;
}

