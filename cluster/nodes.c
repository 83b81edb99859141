/*
 * The other nodes (docs/cluster.md): what they publish, checked, then
 * acted on.  Their events go to every worker of this node, their latest
 * SAs into this node's state store (the replay a client gets at connect is
 * then the whole cluster's), their clients into a table kept from their
 * presence messages and snapshots.  A node not heard from for [cluster]
 * node_timeout, or that says goodbye, is gone: each of its clients gets
 * one t-x-d-d here, and the node is forgotten until it is heard again.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_int.h"
#include "shared/clock.h"
#include "shared/json.h"
#include "shared/store.h"
#include "worker/evconv.h"
#include "worker/registry.h"

#define NODES_MAX		64
#define NODES_HASH		256
#define NODES_SYNC_RETRY_MS	3000
/* Room for an event's header around [cot] max_event_bytes. */
#define NODES_EVENT_SLACK	(64 * 1024)

/* A client of another node. */
struct rcl {
	struct rcl	*next;
	struct cclient	 cl;
};

struct rtab {
	struct rcl	*hash[NODES_HASH];
	size_t		 n;
};

struct rnode {
	char		 id[TAKD_CLUSTER_TOKEN_MAX];
	uint64_t	 instance;
	int64_t		 last_ms;	/* monotonic: last message */
	int64_t		 last_wall_ms;	/* for status */
	uint64_t	 pres_seq;	/* applied up to */
	bool		 synced;	/* its snapshot was applied */
	int64_t		 sync_asked_ms;	/* 0: none pending */
	uint32_t	 hb_clients;
	struct rtab	 clients;
	struct rtab	 incoming;	/* a snapshot being received */
	bool		 receiving;
	uint64_t	 events;
};

struct cnodes {
	struct rnode	*node[NODES_MAX];
	size_t		 n;
	size_t		 max_msg;
};

static void
rcl_free(struct rcl *e)
{
	cclient_clear(&e->cl);
	free(e);
}

static struct rcl *
rtab_find(const struct rtab *t, const char *uid)
{
	struct rcl	*e;

	for (e = t->hash[cclient_hash(uid, NODES_HASH)]; e != NULL; e = e->next)
		if (strcmp(e->cl.uid, uid) == 0)
			return (e);
	return (NULL);
}

static void
rtab_clear(struct rtab *t)
{
	struct rcl	*e;
	unsigned	 i;

	for (i = 0; i < NODES_HASH; i++)
		while ((e = t->hash[i]) != NULL) {
			t->hash[i] = e->next;
			rcl_free(e);
		}
	t->n = 0;
}

static void
rtab_del(struct rtab *t, const char *uid)
{
	struct rcl	**pp, *e;

	for (pp = &t->hash[cclient_hash(uid, NODES_HASH)]; (e = *pp) != NULL;
	    pp = &e->next)
		if (strcmp(e->cl.uid, uid) == 0) {
			*pp = e->next;
			rcl_free(e);
			t->n--;
			return;
		}
}

static int
rtab_put(struct rtab *t, const struct wire_client *w)
{
	struct rcl	*e;
	unsigned	 h;

	rtab_del(t, w->uid);
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return (-1);
	if (cclient_from_wire(&e->cl, w) == -1) {
		rcl_free(e);
		return (-1);
	}
	h = cclient_hash(w->uid, NODES_HASH);
	e->next = t->hash[h];
	t->hash[h] = e;
	t->n++;
	return (0);
}

/* ---- nodes ---- */

static struct rnode *
nodes_find(struct cnodes *ns, const char *id, size_t *idx)
{
	size_t	 i;

	for (i = 0; i < ns->n; i++)
		if (strcmp(ns->node[i]->id, id) == 0) {
			if (idx != NULL)
				*idx = i;
			return (ns->node[i]);
		}
	return (NULL);
}

bool
nodes_uid_remote(const struct cluster *c, const char *uid)
{
	const struct cnodes	*ns = c->nodes;
	size_t			 i;

	for (i = 0; ns != NULL && i < ns->n; i++)
		if (rtab_find(&ns->node[i]->clients, uid) != NULL)
			return (true);
	return (false);
}

static void
nodes_ask_sync(struct cluster *c, struct rnode *n, int64_t now)
{
	char	 subj[WIRE_SUBJECT_MAX], inbox[WIRE_SUBJECT_MAX];

	if (!cnats_connected(c))
		return;
	cluster_subject(c, subj, sizeof(subj), "sync.%s", n->id);
	cluster_subject(c, inbox, sizeof(inbox), "inbox.%s.%016" PRIx64,
	    c->cfg->cluster_node, c->instance);
	wire_put_hdr(&c->out, WIRE_SYNC, c->cfg->cluster_node, c->instance);
	if (c->out.err == 0 && cnats_publish(c, subj, inbox, c->out.p,
	    c->out.len) == 0) {
		c->st.syncs_asked++;
		n->sync_asked_ms = now;
		rtab_clear(&n->incoming);
		n->receiving = false;
	}
}

void
nodes_resync(struct cluster *c)
{
	struct cnodes	*ns = c->nodes;
	size_t		 i;

	for (i = 0; ns != NULL && i < ns->n; i++)
		nodes_ask_sync(c, ns->node[i], clock_mono_ms());
}

static struct rnode *
nodes_get(struct cluster *c, const char *id, uint64_t instance, int64_t now)
{
	struct cnodes	*ns = c->nodes;
	struct rnode	*n;

	if ((n = nodes_find(ns, id, NULL)) != NULL)
		return (n);
	if (ns->n == NODES_MAX) {
		log_limited(&c->rl_in, LOG_WARNING, "cluster: node %s ignored: "
		    "%d nodes known already", id, NODES_MAX);
		return (NULL);
	}
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return (NULL);
	snprintf(n->id, sizeof(n->id), "%s", id);
	n->instance = instance;
	n->last_ms = now;
	ns->node[ns->n++] = n;
	log_info("cluster: node %s joined (%zu other node%s)", id, ns->n,
	    ns->n == 1 ? "" : "s");
	nodes_ask_sync(c, n, now);
	/* It takes ours if it is newer than its own (and we its). */
	ccrl_publish(c);
	return (n);
}

/* ---- departures ---- */

struct nodes_types {
	const struct rtab *t;
	char		**types;	/* parallel to a walk of t: by uid */
	struct rtab	 found;		/* uid -> type in callsign */
};

static int
nodes_type_one(const struct store_sa *sa, void *arg)
{
	struct nodes_types	*nt = arg;
	struct wire_client	 w;

	if (rtab_find(nt->t, sa->uid) == NULL || rtab_find(&nt->found,
	    sa->uid) != NULL)
		return (0);
	memset(&w, 0, sizeof(w));
	snprintf(w.uid, sizeof(w.uid), "%s", sa->uid);
	snprintf(w.callsign, sizeof(w.callsign), "%s", sa->type);
	(void)rtab_put(&nt->found, &w);
	return (0);
}

/* One t-x-d-d to this node's sessions that could see uid. */
static void
nodes_depart_one(struct cluster *c, const struct rcl *e, const char *type)
{
	struct deliver	 d;
	struct evbuf	*ev;
	char		 buf[2048];
	size_t		 n;

	/* Back here, or on another node: not gone. */
	if (local_uid_here(c, e->cl.uid) || nodes_uid_remote(c, e->cl.uid))
		return;
	if ((n = cot_make_disconnect(buf, sizeof(buf), e->cl.uid,
	    type != NULL && type[0] != '\0' ? type : NULL,
	    clock_wall_ms())) == 0 ||
	    (ev = evbuf_new(buf, n)) == NULL)
		return;
	memset(&d, 0, sizeof(d));
	d.kind = DELIVER_BROADCAST;
	d.flags = DELIVER_F_SYSTEM;
	d.cls = IPC_EV_OTHER;
	d.src_worker = TAKD_CLUSTER_SLOT;
	d.groups = e->cl.gin;
	d.ev = ev;
	snprintf(d.uid, sizeof(d.uid), "%s", e->cl.uid);
	peers_deliver(c, &d);
	evbuf_unref(ev);
	c->st.departures++;
}

/*
 * The clients of t (taken out of their node first, so that they do not
 * count as elsewhere) left: one notice each, with the type of their
 * latest SA as this node's store has it.
 */
static void
nodes_depart(struct cluster *c, struct rtab *t, const char *node,
    const char *why)
{
	struct nodes_types	 nt;
	const struct rcl	*e, *f;
	unsigned		 i;
	uint64_t		 before = c->st.departures;

	if (t->n == 0)
		return;
	memset(&nt, 0, sizeof(nt));
	nt.t = t;
	if (c->store != NULL)
		(void)store_foreach_sa(c->store, 0, NULL, nodes_type_one, &nt);
	for (i = 0; i < NODES_HASH; i++)
		for (e = t->hash[i]; e != NULL; e = e->next) {
			f = rtab_find(&nt.found, e->cl.uid);
			nodes_depart_one(c, e, f != NULL ? f->cl.callsign :
			    NULL);
		}
	rtab_clear(&nt.found);
	log_info("cluster: node %s %s: %llu of its %zu clients told gone "
	    "here", node, why, (unsigned long long)(c->st.departures -
	    before), t->n);
}

static void
nodes_remove(struct cluster *c, size_t idx, const char *why)
{
	struct cnodes	*ns = c->nodes;
	struct rnode	*n = ns->node[idx];
	struct rtab	 gone;

	ns->node[idx] = ns->node[--ns->n];
	/* Out of the table first: its clients are elsewhere no more. */
	gone = n->clients;
	memset(&n->clients, 0, sizeof(n->clients));
	nodes_depart(c, &gone, n->id, why);
	if (gone.n == 0)
		log_info("cluster: node %s %s", n->id, why);
	rtab_clear(&gone);
	rtab_clear(&n->incoming);
	free(n);
}

/* ---- messages ---- */

/* An SA of another node into this node's store, for the replay. */
static void
nodes_store_sa(struct cluster *c, const char *uid, const char *type,
    const char *owner, const char *serial, const char *groups,
    uint64_t stale_ms, unsigned flags, const void *bytes, size_t len)
{
	struct store_sa_put	 p;
	uint64_t		 now = (uint64_t)clock_wall_ms();

	if (c->store == NULL || stale_ms <= now || len > STORE_SA_MAX)
		return;
	memset(&p, 0, sizeof(p));
	p.uid = uid;
	p.type = type;
	p.owner = owner;
	p.serial = serial;
	p.groups = groups;
	p.stale_ms = stale_ms;
	p.now_ms = now;
	p.flags = flags;
	/* Its own node capped it; the store's total cap still holds. */
	p.max_per_owner = 0;
	p.event = bytes;
	p.len = len;
	if (store_batch_sa_put(c->store, &p) == 0)
		c->st.sa_stored++;
}

/*
 * A live SA of another node, for the store: its type and stale time come
 * from the event itself (XML; a v1 one converted), the stale time cut as
 * its own node cut it (docs/datapath.md: [cot] sa_max_stale), in the bytes
 * too; owner and serial from that node's presence.
 */
static void
nodes_event_sa(struct cluster *c, const struct wire_event *e,
    const struct rnode *n)
{
	struct cot_view	 v;
	struct counters	 cnt;
	struct evbuf	*v1 = NULL, *xml;
	const uint8_t	*bytes = e->bytes;
	size_t		 len = e->len, cut;
	const struct rcl *who;
	int64_t		 max_stale = clock_wall_ms() +
			    (int64_t)c->cfg->sa_max_stale_ms;
	unsigned	 flags = 0;
	char		 err[128], *scratch = NULL;

	if (e->d.kind != DELIVER_BROADCAST || !(e->d.flags & DELIVER_F_SA) ||
	    c->store == NULL)
		return;
	if (e->enc == EVBUF_V1) {
		memset(&cnt, 0, sizeof(cnt));
		if ((v1 = evbuf_new_v1(e->bytes, e->len)) == NULL ||
		    (xml = evconv_get0(v1, EVBUF_XML, &cnt)) == NULL)
			goto done;
		bytes = xml->data;
		len = xml->len;
	}
	if (cot_parse(bytes, len, &v, err, sizeof(err)) == -1 ||
	    strcmp(v.uid, e->d.uid) != 0)
		goto done;
	if (v.stale_ms > max_stale) {
		if ((scratch = malloc(len + 64)) == NULL ||
		    (cut = registry_stale_rewrite(bytes, len, v.event_off,
		    max_stale, scratch, len + 64)) == 0)
			goto done;
		bytes = (const uint8_t *)scratch;
		len = cut;
		v.stale_ms = max_stale;
		flags = STORE_SA_F_CLAMPED;
	}
	who = rtab_find(&n->clients, v.uid);
	nodes_store_sa(c, v.uid, v.type, who != NULL ? who->cl.subject : "",
	    who != NULL ? who->cl.serial : "", e->groups,
	    (uint64_t)v.stale_ms, flags, bytes, len);
done:
	free(scratch);
	if (v1 != NULL)
		evbuf_unref(v1);
}

static void
nodes_event(struct cluster *c, struct rnode *n, const uint8_t *p, size_t len)
{
	struct wire_event	*e;
	struct evbuf		*ev;
	char			 err[256];

	if ((e = malloc(sizeof(*e))) == NULL)
		return;
	if (wire_get_event(p, len, c->cfg->max_event_bytes, e, err,
	    sizeof(err)) == -1) {
		c->st.drop_undecodable++;
		log_limited(&c->rl_in, LOG_WARNING, "cluster: event from node "
		    "%s dropped: %s", n->id, err);
		goto done;
	}
	/* A notice that a client left, who is connected here now: stale. */
	if ((e->d.flags & DELIVER_F_SYSTEM) && local_uid_here(c, e->d.uid)) {
		c->st.drop_here++;
		goto done;
	}
	ev = e->enc == EVBUF_V1 ? evbuf_new_v1(e->bytes, e->len) :
	    evbuf_new(e->bytes, e->len);
	if (ev == NULL)
		goto done;
	e->d.src_worker = TAKD_CLUSTER_SLOT;
	e->d.src_conn = 0;
	e->d.ev = ev;
	peers_deliver(c, &e->d);
	evbuf_unref(ev);
	c->st.events_in++;
	n->events++;
	nodes_event_sa(c, e, n);
done:
	free(e);
}

struct nodes_pres {
	struct cluster	*c;
	struct rnode	*n;
	struct rtab	*t;
	bool		 oom;
};

static void
nodes_pres_one(const struct wire_client *w, void *arg)
{
	struct nodes_pres	*np = arg;

	if (!w->up)
		rtab_del(np->t, w->uid);
	else if (rtab_put(np->t, w) == -1)
		np->oom = true;
}

static void
nodes_presence(struct cluster *c, struct rnode *n, const uint8_t *p,
    size_t len, bool snapshot, int64_t now)
{
	struct nodes_pres	 np = { c, n, NULL, false };
	struct rtab		 old;
	const struct rcl	*e;
	uint64_t		 seq;
	unsigned		 flags, i;
	char			 err[256];

	/* Checked whole first (into a scratch table: no callback here). */
	np.t = snapshot ? &n->incoming : &n->clients;
	if (!snapshot && (!n->synced || n->sync_asked_ms != 0)) {
		/* Its snapshot brings the same, and the rest. */
		struct rtab	 scratch;

		memset(&scratch, 0, sizeof(scratch));
		np.t = &scratch;
		if (wire_get_presence(p, len, &seq, &flags, nodes_pres_one,
		    &np, err, sizeof(err)) == -1)
			goto bad;
		rtab_clear(&scratch);
		if (n->sync_asked_ms == 0)
			nodes_ask_sync(c, n, now);
		return;
	}
	if (wire_get_presence(p, len, &seq, &flags, nodes_pres_one, &np, err,
	    sizeof(err)) == -1)
		goto bad;
	if (np.oom)
		log_warnx("cluster: out of memory for the clients of node %s",
		    n->id);
	if (!snapshot) {
		if (seq != n->pres_seq + 1 || (flags & WIRE_PRES_FIRST)) {
			/* A change was lost: the whole list again. */
			log_info("cluster: node %s: presence %llu after %llu: "
			    "asking for its snapshot", n->id,
			    (unsigned long long)seq,
			    (unsigned long long)n->pres_seq);
			nodes_ask_sync(c, n, now);
			return;
		}
		n->pres_seq = seq;
		return;
	}
	if (flags & WIRE_PRES_FIRST)
		n->receiving = true;
	if (!(flags & WIRE_PRES_LAST))
		return;
	if (!n->receiving) {
		nodes_ask_sync(c, n, now);
		return;
	}
	/* Complete: who was there and is not any more left meanwhile. */
	old = n->clients;
	n->clients = n->incoming;
	memset(&n->incoming, 0, sizeof(n->incoming));
	for (i = 0; i < NODES_HASH; i++)
		for (e = old.hash[i]; e != NULL; e = e->next)
			if (rtab_find(&n->clients, e->cl.uid) != NULL)
				rtab_del(&old, e->cl.uid), e = NULL;
	(void)e;
	nodes_depart(c, &old, n->id, "changed while we were apart");
	rtab_clear(&old);
	n->pres_seq = seq;
	n->synced = true;
	n->sync_asked_ms = 0;
	n->receiving = false;
	log_info("cluster: node %s: %zu clients, in step (presence %llu)",
	    n->id, n->clients.n, (unsigned long long)seq);
	return;
bad:
	c->st.drop_undecodable++;
	log_limited(&c->rl_in, LOG_WARNING, "cluster: presence from node %s "
	    "dropped: %s", n->id, err);
}

/* A snapshot's SAs: into the store, and to the sessions (they catch up). */
static void
nodes_sa_one(const struct wire_sa *s, void *arg)
{
	struct nodes_pres	*np = arg;
	struct cluster		*c = np->c;
	struct deliver		 d;
	struct evbuf		*ev;

	nodes_store_sa(c, s->uid, s->type, s->owner, s->serial, s->groups,
	    s->stale_ms, s->flags, s->bytes, s->len);
	if (s->stale_ms <= (uint64_t)clock_wall_ms() ||
	    (ev = evbuf_new(s->bytes, s->len)) == NULL)
		return;
	memset(&d, 0, sizeof(d));
	d.kind = DELIVER_BROADCAST;
	d.flags = DELIVER_F_SA;
	d.cls = IPC_EV_SA;
	d.src_worker = TAKD_CLUSTER_SLOT;
	d.groups = s->groups;
	d.ev = ev;
	snprintf(d.uid, sizeof(d.uid), "%s", s->uid);
	peers_deliver(c, &d);
	evbuf_unref(ev);
}

/* subject is takd.NAME.KIND.REST: KIND and REST. */
static int
nodes_split(const struct cluster *c, const char *subject, char *kind,
    size_t kindlen, const char **rest)
{
	size_t	 n = strlen(c->prefix), k;

	if (strncmp(subject, c->prefix, n) != 0 || subject[n] != '.')
		return (-1);
	subject += n + 1;
	k = strcspn(subject, ".");
	if (k == 0 || k >= kindlen || subject[k] != '.')
		return (-1);
	memcpy(kind, subject, k);
	kind[k] = '\0';
	*rest = subject + k + 1;
	return (0);
}

/* The last token of a subject: the sending node, on every kind but inbox. */
static const char *
nodes_last_token(const char *s)
{
	const char	*dot = strrchr(s, '.');

	return (dot != NULL ? dot + 1 : s);
}

void
nodes_message(struct cluster *c, const char *subject, const char *reply,
    const uint8_t *p, size_t len)
{
	struct cnodes		*ns = c->nodes;
	struct wire_hdr		 h;
	struct wire_heartbeat	 hb;
	struct nodes_pres	 np;
	struct rnode		*n;
	const char		*rest, *claimed;
	char			 kind[16], err[256];
	int64_t			 now = clock_mono_ms();
	size_t			 idx = 0;

	if (nodes_split(c, subject, kind, sizeof(kind), &rest) == -1) {
		c->st.drop_undecodable++;
		return;
	}
	if (len > ns->max_msg) {
		c->st.drop_oversized++;
		log_limited(&c->rl_in, LOG_WARNING, "cluster: message of %zu "
		    "bytes on %s dropped: larger than %zu", len, subject,
		    ns->max_msg);
		return;
	}
	if (wire_get_hdr(p, len, &h, err, sizeof(err)) == -1) {
		c->st.drop_undecodable++;
		log_limited(&c->rl_in, LOG_WARNING, "cluster: message on %s "
		    "dropped: %s", subject, err);
		return;
	}
	/*
	 * No-echo keeps our own messages from coming back: one that names
	 * us is somebody else's.  Every subject but our inbox ends with its
	 * sender's id, which NATS permissions can tie to its credentials.
	 */
	claimed = strcmp(kind, "inbox") == 0 || strcmp(kind, "sync") == 0 ?
	    NULL : nodes_last_token(rest);
	if (strcmp(h.node, c->cfg->cluster_node) == 0 ||
	    (claimed != NULL && strcmp(claimed, h.node) != 0)) {
		c->st.drop_foreign_id++;
		log_limited(&c->rl_in, LOG_WARNING, "cluster: message on %s "
		    "dropped: it claims to come from node %s", subject,
		    h.node);
		return;
	}
	if (strcmp(kind, "sync") == 0) {
		if (h.type != WIRE_SYNC || reply == NULL || reply[0] == '\0') {
			c->st.drop_undecodable++;
			return;
		}
		local_snapshot(c, reply);
		return;
	}
	if (strcmp(kind, "crl") == 0) {
		if (h.type != WIRE_CRL) {
			c->st.drop_undecodable++;
			return;
		}
		ccrl_message(c, h.node, p, len);
		return;
	}
	if ((n = nodes_find(ns, h.node, &idx)) != NULL &&
	    n->instance != h.instance) {
		/* It started again: its old sessions are gone with it. */
		nodes_remove(c, idx, "restarted");
		n = NULL;
	}
	if (n == NULL && (h.type == WIRE_HEARTBEAT || h.type == WIRE_EVENT ||
	    h.type == WIRE_PRESENCE)) {
		if (h.type == WIRE_HEARTBEAT && wire_get_heartbeat(p, len, &hb,
		    err, sizeof(err)) == 0 && hb.bye)
			return;
		n = nodes_get(c, h.node, h.instance, now);
	}
	if (n == NULL)
		return;
	/* A snapshot nobody asked of that node is not taken. */
	if (strcmp(kind, "inbox") == 0 && n->sync_asked_ms == 0) {
		c->st.drop_foreign_id++;
		log_limited(&c->rl_in, LOG_WARNING, "cluster: snapshot on %s "
		    "dropped: none was asked of node %s", subject, h.node);
		return;
	}
	n->last_ms = now;
	n->last_wall_ms = clock_wall_ms();
	switch (h.type) {
	case WIRE_EVENT:
		if (strcmp(kind, "ev") != 0)
			break;
		nodes_event(c, n, p, len);
		return;
	case WIRE_HEARTBEAT:
		if (strcmp(kind, "hb") != 0)
			break;
		if (wire_get_heartbeat(p, len, &hb, err, sizeof(err)) == -1)
			goto bad;
		n->hb_clients = hb.clients;
		if (hb.bye) {
			(void)nodes_find(ns, h.node, &idx);
			nodes_remove(c, idx, "is stopping");
			return;
		}
		if (n->sync_asked_ms == 0 && (!n->synced ||
		    hb.pres_seq != n->pres_seq))
			nodes_ask_sync(c, n, now);
		return;
	case WIRE_PRESENCE:
		if (strcmp(kind, "pres") != 0 && strcmp(kind, "inbox") != 0)
			break;
		nodes_presence(c, n, p, len, strcmp(kind, "inbox") == 0, now);
		return;
	case WIRE_SA:
		if (strcmp(kind, "inbox") != 0)
			break;
		memset(&np, 0, sizeof(np));
		np.c = c;
		np.n = n;
		if (wire_get_sa(p, len, c->cfg->max_event_bytes, nodes_sa_one,
		    &np, err, sizeof(err)) == -1)
			goto bad;
		return;
	default:
		break;
	}
	snprintf(err, sizeof(err), "message type %u on a %s subject", h.type,
	    kind);
bad:
	c->st.drop_undecodable++;
	log_limited(&c->rl_in, LOG_WARNING, "cluster: message from node %s "
	    "on %s dropped: %s", h.node, subject, err);
}

int
nodes_tick(struct cluster *c, int64_t now)
{
	struct cnodes	*ns = c->nodes;
	struct rnode	*n;
	int64_t		 next = -1, t;
	size_t		 i;
	unsigned	 timeout = c->cfg->cluster_node_timeout_ms;
	char		 why[64];

	for (i = 0; i < ns->n; ) {
		n = ns->node[i];
		/*
		 * Not while we cannot hear anybody: then it is us.  Our own
		 * link coming back asks every node again (nodes_resync()).
		 */
		if (cnats_connected(c) && now - n->last_ms >= timeout) {
			c->st.node_timeouts++;
			snprintf(why, sizeof(why), "silent for %lld ms",
			    (long long)(now - n->last_ms));
			nodes_remove(c, i, why);
			continue;
		}
		if (n->sync_asked_ms != 0 && now - n->sync_asked_ms >=
		    NODES_SYNC_RETRY_MS)
			nodes_ask_sync(c, n, now);
		t = n->last_ms + timeout;
		if (next == -1 || t < next)
			next = t;
		i++;
	}
	return (next == -1 ? -1 : next > now ? (int)(next - now) : 0);
}

int
nodes_init(struct cluster *c)
{
	struct cnodes	*ns;

	if ((ns = calloc(1, sizeof(*ns))) == NULL)
		return (-1);
	ns->max_msg = c->cfg->max_event_bytes + NODES_EVENT_SLACK +
	    4 * WIRE_CHUNK_BYTES;
	c->nodes = ns;
	return (0);
}

void
nodes_free(struct cluster *c)
{
	struct cnodes	*ns = c->nodes;
	size_t		 i;

	if (ns == NULL)
		return;
	for (i = 0; i < ns->n; i++) {
		rtab_clear(&ns->node[i]->clients);
		rtab_clear(&ns->node[i]->incoming);
		free(ns->node[i]);
	}
	free(ns);
	c->nodes = NULL;
}

void
nodes_status(const struct cluster *c, struct cluster_status *st)
{
	const struct cnodes	*ns = c->nodes;
	const struct rnode	*n;
	int64_t			 now = clock_mono_ms();
	size_t			 i;

	for (i = 0; i < ns->n && i < CSTATUS_NODES_MAX; i++) {
		n = ns->node[i];
		snprintf(st->nodes[i].id, sizeof(st->nodes[i].id), "%s",
		    n->id);
		st->nodes[i].age_ms = (uint64_t)(now - n->last_ms);
		st->nodes[i].last_wall_ms = (uint64_t)n->last_wall_ms;
		st->nodes[i].clients = (uint32_t)n->clients.n;
		st->nodes[i].synced = n->synced;
		st->nodes[i].events = n->events;
	}
	st->n_nodes = (uint32_t)i;
}

/* A list of group names as a JSON array, as takctl clients shows it. */
static void
nodes_groups_json(struct json *j, const char *key, const char *list)
{
	const char	*pos = list, *end = list + strlen(list), *name;
	char		 one[GROUPLIST_NAME_MAX];
	size_t		 n;

	json_key(j, key);
	json_arr_begin(j);
	while ((name = grouplist_next(&pos, end, &n)) != NULL) {
		snprintf(one, sizeof(one), "%.*s", (int)n, name);
		json_str(j, one);
	}
	json_arr_end(j);
}

char *
nodes_clients_json(const struct cluster *c, size_t *len)
{
	const struct cnodes	*ns = c->nodes;
	const struct rcl	*e;
	struct json		 j;
	size_t			 i;
	unsigned		 h;

	json_init(&j);
	json_arr_begin(&j);
	for (i = 0; i < ns->n; i++)
		for (h = 0; h < NODES_HASH; h++)
			for (e = ns->node[i]->clients.hash[h]; e != NULL;
			    e = e->next) {
				/* The keys of a local client's (admin.c). */
				json_obj_begin(&j);
				json_kv_str(&j, "node", ns->node[i]->id);
				json_kv_str(&j, "uid", e->cl.uid);
				json_kv_str(&j, "callsign", e->cl.callsign);
				json_kv_str(&j, "subject", e->cl.subject);
				json_kv_str(&j, "serial", e->cl.serial);
				json_kv_str(&j, "peer", e->cl.peer);
				json_kv_str(&j, "encoding", e->cl.v1 ? "v1" :
				    "xml");
				json_kv_str(&j, "user", e->cl.user);
				json_key(&j, "groups");
				json_obj_begin(&j);
				nodes_groups_json(&j, "in", e->cl.gin);
				nodes_groups_json(&j, "out", e->cl.gout);
				json_obj_end(&j);
				json_kv_time(&j, "connected",
				    (time_t)(e->cl.connected_ms / 1000));
				json_obj_end(&j);
			}
	json_arr_end(&j);
	if (j.err != 0) {
		json_free(&j);
		return (NULL);
	}
	*len = j.len;
	return (j.buf);
}
