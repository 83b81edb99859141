/*
 * The packed table of broadcast receivers: see receivers.h.
 */
#include <stdlib.h>

#include "worker/conn.h"
#include "worker/deliver.h"
#include "worker/receivers.h"
#include "worker/worker_int.h"

void
receivers_stale(struct worker *w)
{
	w->rcv.stale = true;
}

static int
receivers_build(struct worker *w)
{
	struct receivers	*t = &w->rcv;
	struct receiver		*r;
	struct conn		*c;
	size_t			 cap;

	/* Room for every live session: a session that starts needs no more. */
	if (t->cap < w->cnt.sessions) {
		cap = w->cnt.sessions + w->cnt.sessions / 4 + 16;
		if ((r = reallocarray(t->r, cap, sizeof(*r))) == NULL)
			return (-1);
		t->r = r;
		t->cap = cap;
	}
	t->n = 0;
	TAILQ_FOREACH(c, &w->live, entry) {
		if (!deliver_receives(c) || t->n == t->cap)
			continue;
		r = &t->r[t->n++];
		r->out0 = c->s.groups.out.w[0];
		r->id = c->id;
		r->c = c;
		r->wide = c->s.groups.out.nw > 1;
	}
	t->stale = false;
	return (0);
}

int
receivers_get(struct worker *w, const struct receiver **r, size_t *n)
{
	if (w->rcv.stale && receivers_build(w) == -1)
		return (-1);
	*r = w->rcv.r;
	*n = w->rcv.n;
	return (0);
}

void
receivers_free(struct worker *w)
{
	free(w->rcv.r);
	w->rcv.r = NULL;
	w->rcv.n = w->rcv.cap = 0;
	w->rcv.stale = true;
}
