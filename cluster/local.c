/*
 * This node, as the other nodes see it (docs/cluster.md): the events its
 * workers route, published once; its clients, read from the state store
 * (the registry every worker writes) twice a second, sent as presence
 * changes and as a whole in a snapshot when another node asks; the
 * subjects its sessions can receive, subscribed as their groups come and
 * go; its heartbeat.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_int.h"
#include "shared/clock.h"
#include "shared/store.h"

#define LOCAL_POLL_MS		500
#define LOCAL_HASH		1024	/* buckets of the client table */
#define LOCAL_HB_MIN_MS		500
#define LOCAL_HB_MAX_MS		5000

/* A client of this node, by uid (a uid held twice is one client). */
struct lcl {
	struct lcl	*next;
	unsigned	 gen;		/* the last poll that saw it */
	bool		 changed;	/* to be sent in this poll's presence */
	struct cclient	 cl;
};

/* A group token this node subscribes to (takd.C.ev.*.TOKEN.*). */
struct lsub {
	struct lsub	*next;
	char		 tok[WIRE_GTOKEN_MAX];
	unsigned	 gen;
	void		*sub;
};

struct clocal {
	struct lcl	*hash[LOCAL_HASH];
	size_t		 n;
	unsigned	 gen;
	struct lsub	*subs;
	void		*sys_subs[5];	/* hb, pres, sync, inbox, crl */
	void		*multi_sub;	/* senders of several groups */
	uint64_t	 pres_seq;
	int64_t		 next_poll_ms;
	int64_t		 next_hb_ms;
	unsigned	 hb_ms;
	struct wbuf	 pres;		/* presence being filled */
	size_t		 pres_count_at;
	uint32_t	 pres_count;
	bool		 store_warned;
};

static struct lcl *
local_find(struct clocal *l, const char *uid)
{
	struct lcl	*e;

	for (e = l->hash[cclient_hash(uid, LOCAL_HASH)]; e != NULL; e = e->next)
		if (strcmp(e->cl.uid, uid) == 0)
			return (e);
	return (NULL);
}

static void
lcl_free(struct lcl *e)
{
	cclient_clear(&e->cl);
	free(e);
}

/* Set *dst to a copy of v when it differs: whether it changed. */
static bool
local_set(char **dst, const char *v, bool *oom)
{
	char	*p;

	if (*dst != NULL && strcmp(*dst, v) == 0)
		return (false);
	if ((p = strdup(v)) == NULL) {
		*oom = true;
		return (false);
	}
	free(*dst);
	*dst = p;
	return (true);
}

bool
local_uid_here(struct cluster *c, const char *uid)
{
	uint64_t	 id;
	size_t		 n = 0;

	if (c->local != NULL && local_find(c->local, uid) != NULL)
		return (true);
	/* Bound since the last poll: the store knows. */
	return (c->store != NULL && store_lookup_uid(c->store, uid, &id, 1,
	    &n) == 0 && n > 0);
}

/* ---- subscriptions ---- */

static void
local_sub_token(struct cluster *c, const char *tok, size_t len)
{
	struct clocal	*l = c->local;
	struct lsub	*s;
	char		 subj[WIRE_SUBJECT_MAX];

	for (s = l->subs; s != NULL; s = s->next)
		if (strlen(s->tok) == len && memcmp(s->tok, tok, len) == 0) {
			s->gen = l->gen;
			return;
		}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return;
	snprintf(s->tok, sizeof(s->tok), "%.*s", (int)len, tok);
	s->gen = l->gen;
	cluster_subject(c, subj, sizeof(subj), "ev.*.%s.*", s->tok);
	if (cnats_subscribe(c, subj, &s->sub) == 0)
		log_info("cluster: subscribed to %s (a session of group "
		    "token %s is here)", subj, s->tok);
	s->next = l->subs;
	l->subs = s;
}

static void
local_sub_groups(struct cluster *c, const char *groups)
{
	const char	*pos = groups, *end = groups + strlen(groups), *name;
	char		 tok[WIRE_GTOKEN_MAX];
	size_t		 len;

	while ((name = grouplist_next(&pos, end, &len)) != NULL) {
		wire_name_token(name, len, tok, sizeof(tok));
		local_sub_token(c, tok, strlen(tok));
	}
}

/* Tokens no session of this node needs any more: unsubscribed. */
static void
local_sub_prune(struct cluster *c)
{
	struct clocal	*l = c->local;
	struct lsub	**pp = &l->subs, *s;
	char		 subj[WIRE_SUBJECT_MAX];

	while ((s = *pp) != NULL) {
		if (s->gen == l->gen) {
			pp = &s->next;
			continue;
		}
		*pp = s->next;
		cluster_subject(c, subj, sizeof(subj), "ev.*.%s.*", s->tok);
		log_info("cluster: unsubscribed from %s (no session of it "
		    "left)", subj);
		cnats_unsubscribe(c, s->sub);
		free(s);
	}
}

void
local_resubscribe(struct cluster *c)
{
	struct clocal	*l = c->local;
	struct lsub	*s;
	char		 subj[WIRE_SUBJECT_MAX];
	if (l == NULL)
		return;
	/* Subscriptions made before the first connection are kept. */
	if (l->sys_subs[0] != NULL)
		goto data;
	cluster_subject(c, subj, sizeof(subj), "hb.*");
	(void)cnats_subscribe(c, subj, &l->sys_subs[0]);
	cluster_subject(c, subj, sizeof(subj), "pres.*");
	(void)cnats_subscribe(c, subj, &l->sys_subs[1]);
	cluster_subject(c, subj, sizeof(subj), "sync.%s",
	    c->cfg->cluster_node);
	(void)cnats_subscribe(c, subj, &l->sys_subs[2]);
	cluster_subject(c, subj, sizeof(subj), "inbox.%s.%016" PRIx64,
	    c->cfg->cluster_node, c->instance);
	(void)cnats_subscribe(c, subj, &l->sys_subs[3]);
	cluster_subject(c, subj, sizeof(subj), "crl.*");
	(void)cnats_subscribe(c, subj, &l->sys_subs[4]);
	cluster_subject(c, subj, sizeof(subj), "ev.*.%s.*",
	    WIRE_GTOKEN_MULTI);
	(void)cnats_subscribe(c, subj, &l->multi_sub);
data:
	for (s = l->subs; s != NULL; s = s->next)
		if (s->sub == NULL) {
			cluster_subject(c, subj, sizeof(subj), "ev.*.%s.*",
			    s->tok);
			(void)cnats_subscribe(c, subj, &s->sub);
		}
	/* Everybody learns at once that we are (back). */
	l->next_hb_ms = 0;
	l->next_poll_ms = 0;
}

/* ---- presence ---- */

static void
local_pres_flush(struct cluster *c)
{
	struct clocal	*l = c->local;
	char		 subj[WIRE_SUBJECT_MAX];

	if (l->pres_count == 0)
		return;
	wire_put_count_at(&l->pres, l->pres_count_at, l->pres_count);
	if (l->pres.err == 0) {
		cluster_subject(c, subj, sizeof(subj), "pres.%s",
		    c->cfg->cluster_node);
		(void)cnats_publish(c, subj, NULL, l->pres.p, l->pres.len);
	}
	l->pres_count = 0;
	wbuf_reset(&l->pres);
}

/*
 * One client into the presence being filled: a new message (its own
 * sequence number) when the last is full.  flags: of a snapshot, 0 for
 * changes.
 */
static void
local_pres_add(struct cluster *c, const struct lcl *e, bool up,
    unsigned flags, const char *reply)
{
	struct clocal		*l = c->local;
	struct wire_client	*w;
	char			 subj[WIRE_SUBJECT_MAX];

	if ((w = malloc(sizeof(*w))) == NULL)
		return;
	cclient_to_wire(&e->cl, up, w);
	if (l->pres_count >= WIRE_PRES_MAX || l->pres.len >= WIRE_CHUNK_BYTES) {
		if (reply != NULL) {
			wire_put_count_at(&l->pres, l->pres_count_at,
			    l->pres_count);
			(void)cnats_publish(c, reply, NULL, l->pres.p,
			    l->pres.len);
			l->pres_count = 0;
			wbuf_reset(&l->pres);
		} else
			local_pres_flush(c);
	}
	if (l->pres_count == 0) {
		wire_put_hdr(&l->pres, WIRE_PRESENCE, c->cfg->cluster_node,
		    c->instance);
		if (reply == NULL)
			l->pres_seq++;
		l->pres_count_at = l->pres.len + 9;
		wire_put_pres_head(&l->pres, l->pres_seq, flags);
	}
	if (wire_put_client(&l->pres, w) == 0)
		l->pres_count++;
	(void)subj;
	free(w);
}

struct local_poll {
	struct cluster	*c;
	bool		 oom;
};

static int
local_poll_one(const struct store_client *sc, void *arg)
{
	struct local_poll	*p = arg;
	struct clocal		*l = p->c->local;
	struct lcl		*e;
	bool			 ch = false;
	unsigned		 h;

	/* Every session, bound or not, may receive: its groups' subjects. */
	local_sub_groups(p->c, sc->groups_out);
	if (sc->uid[0] == '\0')
		return (0);
	if ((e = local_find(l, sc->uid)) == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL ||
		    (e->cl.uid = strdup(sc->uid)) == NULL) {
			free(e);
			p->oom = true;
			return (0);
		}
		h = cclient_hash(sc->uid, LOCAL_HASH);
		e->next = l->hash[h];
		l->hash[h] = e;
		l->n++;
		ch = true;
	} else if (e->gen == l->gen)
		return (0);	/* its other session: the first one counts */
	ch |= local_set(&e->cl.callsign, sc->callsign, &p->oom);
	ch |= local_set(&e->cl.gin, sc->groups_in, &p->oom);
	ch |= local_set(&e->cl.gout, sc->groups_out, &p->oom);
	ch |= local_set(&e->cl.subject, sc->subject, &p->oom);
	ch |= local_set(&e->cl.serial, sc->serial, &p->oom);
	ch |= local_set(&e->cl.user, sc->user, &p->oom);
	ch |= local_set(&e->cl.peer, sc->peer, &p->oom);
	if (e->cl.connected_ms != sc->connected_ms || e->cl.v1 != sc->v1)
		ch = true;
	e->cl.connected_ms = sc->connected_ms;
	e->cl.v1 = sc->v1;
	e->gen = l->gen;
	e->changed = ch;
	return (0);
}

static void
local_poll(struct cluster *c)
{
	struct clocal		*l = c->local;
	struct local_poll	 p = { c, false };
	struct lcl		**pp, *e;
	unsigned		 i;

	if (c->store == NULL)
		return;
	l->gen++;
	if (store_foreach_client(c->store, local_poll_one, &p) == -1) {
		if (!l->store_warned)
			log_warnx("cluster: cannot read this node's clients "
			    "from the state store");
		l->store_warned = true;
		return;
	}
	if (p.oom) {
		log_warnx("cluster: out of memory reading the clients");
		return;
	}
	local_sub_prune(c);
	for (i = 0; i < LOCAL_HASH; i++) {
		for (pp = &l->hash[i]; (e = *pp) != NULL; ) {
			if (e->gen != l->gen) {
				/* Gone: the others stop counting it here. */
				local_pres_add(c, e, false, 0, NULL);
				*pp = e->next;
				l->n--;
				lcl_free(e);
				continue;
			}
			if (e->changed)
				local_pres_add(c, e, true, 0, NULL);
			e->changed = false;
			pp = &e->next;
		}
	}
	local_pres_flush(c);
}

static void
local_heartbeat(struct cluster *c, bool bye)
{
	struct clocal		*l = c->local;
	struct wire_heartbeat	 hb;
	char			 subj[WIRE_SUBJECT_MAX];

	memset(&hb, 0, sizeof(hb));
	hb.pres_seq = l->pres_seq;
	hb.clients = (uint32_t)l->n;
	hb.interval_ms = l->hb_ms;
	hb.bye = bye;
	wire_put_hdr(&c->out, WIRE_HEARTBEAT, c->cfg->cluster_node,
	    c->instance);
	if (wire_put_heartbeat(&c->out, &hb) == -1)
		return;
	cluster_subject(c, subj, sizeof(subj), "hb.%s", c->cfg->cluster_node);
	(void)cnats_publish(c, subj, NULL, c->out.p, c->out.len);
}

int
local_tick(struct cluster *c, int64_t now)
{
	struct clocal	*l = c->local;
	int64_t		 next;

	if (l == NULL)
		return (-1);
	if (now >= l->next_poll_ms) {
		local_poll(c);
		l->next_poll_ms = now + LOCAL_POLL_MS;
	}
	if (now >= l->next_hb_ms && cnats_connected(c)) {
		local_heartbeat(c, false);
		l->next_hb_ms = now + l->hb_ms;
	}
	next = l->next_poll_ms;
	if (cnats_connected(c) && l->next_hb_ms < next)
		next = l->next_hb_ms;
	return (next > now ? (int)(next - now) : 0);
}

void
local_bye(struct cluster *c)
{
	if (c->local != NULL && cnats_connected(c))
		local_heartbeat(c, true);
}

/* ---- events out ---- */

void
local_event(struct cluster *c, const struct deliver *d, enum evbuf_enc enc,
    const uint8_t *bytes, size_t len)
{
	char		 subj[WIRE_SUBJECT_MAX], tok[WIRE_GTOKEN_MAX];
	const char	*cls;

	/* A takeover is this node's business; pings never travel. */
	if ((d->flags & DELIVER_F_TAKEOVER) || (cls =
	    wire_class_token(d->cls)) == NULL)
		return;
	/*
	 * A position of a uid we do not know: a session that just bound
	 * it, which its worker committed to the store before routing the
	 * event.  Read the store now rather than at the next poll, so that
	 * its groups' subjects are subscribed before the answers come.
	 */
	if ((d->flags & DELIVER_F_SA) && d->uid[0] != '\0' &&
	    local_find(c->local, d->uid) == NULL)
		c->local->next_poll_ms = 0;
	/* No group: it reaches nobody, here or there. */
	if (d->groups == NULL || wire_group_token(d->groups, tok,
	    sizeof(tok)) == -1)
		return;
	wire_put_hdr(&c->out, WIRE_EVENT, c->cfg->cluster_node, c->instance);
	if (wire_put_event(&c->out, d, enc, bytes, len) == -1) {
		c->st.publish_failed++;
		log_limited(&c->rl_drop, LOG_WARNING, "cluster: event of %zu "
		    "bytes from worker %u not published: %s", len,
		    d->src_worker, strerror(c->out.err));
		return;
	}
	cluster_subject(c, subj, sizeof(subj), "ev.%s.%s.%s", cls, tok,
	    c->cfg->cluster_node);
	if (cnats_publish(c, subj, NULL, c->out.p, c->out.len) == 0)
		c->st.events_out++;
}

void
local_departed(struct cluster *c, const char *uid, const char *type,
    const char *groups)
{
	struct deliver	 d;
	char		 buf[2048];
	size_t		 n;

	if ((n = cot_make_disconnect(buf, sizeof(buf), uid, type[0] != '\0' ?
	    type : NULL, clock_wall_ms())) == 0)
		return;
	memset(&d, 0, sizeof(d));
	d.kind = DELIVER_BROADCAST;
	d.flags = DELIVER_F_SYSTEM;
	d.cls = IPC_EV_OTHER;
	d.src_worker = TAKD_CLUSTER_SLOT;
	d.groups = groups;
	snprintf(d.uid, sizeof(d.uid), "%s", uid);
	local_event(c, &d, EVBUF_XML, (const uint8_t *)buf, n);
}

/* ---- snapshot ---- */

struct local_snap {
	struct cluster	*c;
	const char	*reply;
	struct wbuf	*b;
	size_t		 count_at;
	uint32_t	 count;
};

static void
local_snap_flush(struct local_snap *s)
{
	if (s->count == 0)
		return;
	wire_put_count_at(s->b, s->count_at, s->count);
	if (s->b->err == 0)
		(void)cnats_publish(s->c, s->reply, NULL, s->b->p, s->b->len);
	s->count = 0;
}

static int
local_snap_sa(const struct store_sa *sa, void *arg)
{
	struct local_snap	*s = arg;
	struct wire_sa		 w;

	/* This node's clients' only: the others' nodes send their own. */
	if (local_find(s->c->local, sa->uid) == NULL)
		return (0);
	if (s->count >= WIRE_SA_MAX || s->b->len >= WIRE_CHUNK_BYTES)
		local_snap_flush(s);
	if (s->count == 0) {
		wire_put_hdr(s->b, WIRE_SA, s->c->cfg->cluster_node,
		    s->c->instance);
		s->count_at = s->b->len;
		wire_put_sa_head(s->b);
	}
	memset(&w, 0, sizeof(w));
	snprintf(w.uid, sizeof(w.uid), "%s", sa->uid);
	snprintf(w.type, sizeof(w.type), "%s", sa->type);
	snprintf(w.owner, sizeof(w.owner), "%s", sa->owner);
	snprintf(w.serial, sizeof(w.serial), "%s", sa->serial);
	snprintf(w.groups, sizeof(w.groups), "%s", sa->groups);
	w.stale_ms = sa->stale_ms;
	w.time_ms = sa->time_ms;
	w.flags = sa->flags;
	w.bytes = sa->event;
	w.len = sa->len;
	if (wire_put_sa(s->b, &w) == 0)
		s->count++;
	return (0);
}

void
local_snapshot(struct cluster *c, const char *reply)
{
	struct clocal		*l = c->local;
	struct local_snap	 s;
	struct wbuf		 b;
	struct lcl		*e;
	unsigned		 i, flags = WIRE_PRES_FIRST;

	if (l == NULL)
		return;
	c->st.syncs_served++;
	/* Fresh: what the store says now. */
	local_poll(c);
	wbuf_init(&b, WIRE_CHUNK_BYTES + 2 * c->cfg->max_event_bytes + 65536);
	memset(&s, 0, sizeof(s));
	s.c = c;
	s.reply = reply;
	s.b = &b;
	if (c->store != NULL)
		(void)store_foreach_sa(c->store, (uint64_t)clock_wall_ms(),
		    NULL, local_snap_sa, &s);
	local_snap_flush(&s);
	wbuf_free(&b);
	/* The clients, the last message flagged: the SAs came first. */
	wbuf_reset(&l->pres);
	l->pres_count = 0;
	for (i = 0; i < LOCAL_HASH; i++)
		for (e = l->hash[i]; e != NULL; e = e->next) {
			local_pres_add(c, e, true, flags, reply);
			flags = 0;
		}
	if (l->pres_count == 0) {
		/* No client: one empty message that says so. */
		wire_put_hdr(&l->pres, WIRE_PRESENCE, c->cfg->cluster_node,
		    c->instance);
		l->pres_count_at = l->pres.len + 9;
		wire_put_pres_head(&l->pres, l->pres_seq, WIRE_PRES_FIRST);
	}
	if (l->pres.err == 0) {
		/* The flags byte sits right before the count. */
		l->pres.p[l->pres_count_at - 1] |= WIRE_PRES_LAST;
		wire_put_count_at(&l->pres, l->pres_count_at, l->pres_count);
		(void)cnats_publish(c, reply, NULL, l->pres.p, l->pres.len);
	}
	l->pres_count = 0;
	wbuf_reset(&l->pres);
}

/* ---- life ---- */

int
local_init(struct cluster *c)
{
	struct clocal	*l;
	unsigned	 hb = c->cfg->cluster_node_timeout_ms / 5;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return (-1);
	if (hb < LOCAL_HB_MIN_MS)
		hb = LOCAL_HB_MIN_MS;
	if (hb > LOCAL_HB_MAX_MS)
		hb = LOCAL_HB_MAX_MS;
	l->hb_ms = hb;
	wbuf_init(&l->pres, 4 * WIRE_CHUNK_BYTES);
	c->local = l;
	return (0);
}

void
local_unsubscribe_all(struct cluster *c)
{
	struct clocal	*l = c->local;
	struct lsub	*s;
	unsigned	 i;

	if (l == NULL)
		return;
	for (i = 0; i < 5; i++) {
		cnats_unsubscribe(c, l->sys_subs[i]);
		l->sys_subs[i] = NULL;
	}
	cnats_unsubscribe(c, l->multi_sub);
	l->multi_sub = NULL;
	for (s = l->subs; s != NULL; s = s->next) {
		cnats_unsubscribe(c, s->sub);
		s->sub = NULL;
	}
}

void
local_free(struct cluster *c)
{
	struct clocal	*l = c->local;
	struct lcl	*e;
	struct lsub	*s;
	unsigned	 i;

	if (l == NULL)
		return;
	for (i = 0; i < LOCAL_HASH; i++)
		while ((e = l->hash[i]) != NULL) {
			l->hash[i] = e->next;
			lcl_free(e);
		}
	while ((s = l->subs) != NULL) {
		l->subs = s->next;
		free(s);
	}
	wbuf_free(&l->pres);
	free(l);
	c->local = NULL;
}

void
local_status(const struct cluster *c, struct cluster_status *st)
{
	const struct clocal	*l = c->local;
	const struct lsub	*s;

	if (l == NULL)
		return;
	st->clients = (uint32_t)l->n;
	for (s = l->subs; s != NULL; s = s->next)
		st->subjects++;
	st->pres_seq = l->pres_seq;
}
