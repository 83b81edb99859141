/*
 * Routing decisions and local delivery: see route.h and deliver.h.
 *
 * Delivery makes no allocation and no copy: each recipient's queue takes a
 * reference to the one struct evbuf of the event.  A broadcast walks the
 * live sessions; a directed event looks each recipient up in the local
 * index (registry.c), and a sequence mark on the session keeps a session
 * named twice (by uid and by callsign) from getting the event twice.
 */
#include <string.h>

#include "worker/conn.h"
#include "worker/registry.h"
#include "worker/route.h"
#include "worker/session.h"
#include "worker/worker_int.h"

enum route_action
route_decide(const struct cot_view *v)
{
	if (cot_is_ping(v))
		return (ROUTE_PONG);
	/*
	 * <marti> restricts delivery.  "All Streaming" among its dests means
	 * everybody; dests takd cannot resolve (missions, groups) must not
	 * widen a restricted event into a broadcast.
	 */
	if (!v->has_marti || v->dest_all)
		return (ROUTE_BROADCAST);
	if (v->n_dest == 0)
		return (ROUTE_NO_RECIPIENT);
	return (ROUTE_DIRECTED);
}

/* type is prefix, alone or followed by "-" and more. */
static bool
route_type_is(const char *type, const char *prefix)
{
	size_t	 n = strlen(prefix);

	return (strncmp(type, prefix, n) == 0 &&
	    (type[n] == '\0' || type[n] == '-'));
}

const char *
route_server_only(const struct cot_view *v, const char *own_uid)
{
	if (route_type_is(v->type, "t-x-c-t-r") ||
	    strcmp(v->uid, "takPong") == 0)
		return ("a pong");
	if (route_type_is(v->type, "t-x-takp"))
		return ("a TAK server control event");
	if (strcmp(v->type, "t-x-d-d") == 0 && (own_uid[0] == '\0' ||
	    strcmp(v->link_uid, own_uid) != 0))
		return ("a disconnect notice for another uid");
	return (NULL);
}

enum ipc_ev_class
route_class(const char *type)
{
	if (type[0] == 'a' && type[1] == '-')
		return (IPC_EV_SA);
	if (route_type_is(type, "b-t-f"))
		return (IPC_EV_CHAT);
	if (route_type_is(type, "t-x-c-t"))
		return (IPC_EV_PING);
	return (IPC_EV_OTHER);
}

const char *
route_action_name(enum route_action a)
{
	switch (a) {
	case ROUTE_PONG:
		return ("pong");
	case ROUTE_BROADCAST:
		return ("broadcast");
	case ROUTE_DIRECTED:
		return ("directed");
	case ROUTE_NO_RECIPIENT:
		return ("no recipient");
	}
	return ("?");
}

struct route_ctx {
	const struct deliver	*d;
	uint64_t		 key;
	uint64_t		 mark;
	size_t			 n;
};

static bool
route_is_sender(const struct worker *w, const struct deliver *d,
    const struct conn *c)
{
	return (d->src_conn != 0 && d->src_worker == w->args->id &&
	    d->src_conn == c->id);
}

static void
route_directed_one(struct worker *w, struct conn *c, void *arg)
{
	struct route_ctx	*ctx = arg;

	if (c->s.deliver_mark == ctx->mark || !session_receives(c) ||
	    route_is_sender(w, ctx->d, c))
		return;
	c->s.deliver_mark = ctx->mark;
	session_enqueue(w, c, ctx->d->ev, ctx->d->flags, ctx->key,
	    ctx->d->cls);
	ctx->n++;
}

size_t
route_deliver(struct worker *w, const struct deliver *d)
{
	struct route_ctx	 ctx;
	struct conn		*c;
	size_t			 i;

	memset(&ctx, 0, sizeof(ctx));
	ctx.d = d;
	if (d->ev == NULL)
		return (0);
	if (d->flags & DELIVER_F_TAKEOVER)
		return (registry_takeover_local(w, d));
	if (d->flags & DELIVER_F_SA)
		ctx.key = outq_hash(d->uid);
	if (d->kind == DELIVER_BROADCAST) {
		/* Dooming a session keeps it on the list: the walk is safe. */
		TAILQ_FOREACH(c, &w->live, entry) {
			if (!session_receives(c) || route_is_sender(w, d, c))
				continue;
			session_enqueue(w, c, d->ev, d->flags, ctx.key, d->cls);
			ctx.n++;
		}
		return (ctx.n);
	}
	ctx.mark = ++w->deliver_seq;
	for (i = 0; i < d->n_dest; i++)
		registry_match(w, d->dest[i].kind, d->dest[i].value,
		    route_directed_one, &ctx);
	return (ctx.n);
}

void
deliver_local(struct worker *w, const struct deliver *d)
{
	(void)route_deliver(w, d);
}
