/*
 * Local index of sessions by uid and callsign, and the LMDB registry: see
 * registry.h.
 *
 * The indexes are chained hash tables over nodes embedded in the sessions
 * (no allocation per session), keyed by the seeded hash of outq.c.  Several
 * sessions may share a key (a client that reconnected before its old session
 * timed out, two devices with one callsign): a lookup visits every one.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "shared/log.h"
#include "shared/store.h"
#include "worker/conn.h"
#include "worker/registry.h"
#include "worker/session.h"
#include "worker/worker_int.h"

#define REGISTRY_MAGIC		0x52454753u	/* "REGS" */
#define REGISTRY_FIRST_BUCKETS	64
#define REGISTRY_LOOKUP_MAX	16	/* conn ids read per uid lookup */

struct registry_index {
	struct registry_node	**b;
	size_t			  nb;		/* a power of two */
	size_t			  count;
};

struct registry {
	unsigned		 magic;
	struct store		*store;
	bool			 dirty;		/* batched writes to commit */
	struct registry_index	 uid;
	struct registry_index	 cs;
};

static int
registry_index_init(struct registry_index *idx)
{
	idx->nb = REGISTRY_FIRST_BUCKETS;
	idx->count = 0;
	if ((idx->b = calloc(idx->nb, sizeof(*idx->b))) == NULL)
		return (-1);
	return (0);
}

/* Double the buckets; on failure the chains just get longer. */
static void
registry_index_grow(struct registry_index *idx)
{
	struct registry_node	**b, *n, *next;
	size_t			  nb = idx->nb * 2, i;

	if (nb < idx->nb || (b = calloc(nb, sizeof(*b))) == NULL)
		return;
	for (i = 0; i < idx->nb; i++)
		for (n = idx->b[i]; n != NULL; n = next) {
			next = n->next;
			n->next = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	free(idx->b);
	idx->b = b;
	idx->nb = nb;
}

static void
registry_index_del(struct registry_index *idx, struct registry_node *node)
{
	struct registry_node	**pp;

	if (!node->linked)
		return;
	for (pp = &idx->b[node->hash & (idx->nb - 1)]; *pp != NULL;
	    pp = &(*pp)->next)
		if (*pp == node) {
			*pp = node->next;
			idx->count--;
			break;
		}
	node->next = NULL;
	node->linked = false;
}

/* Index node under key (a string that lives as long as the node). */
static void
registry_index_add(struct registry_index *idx, struct registry_node *node,
    struct conn *c, const char *key)
{
	struct registry_node	**head;

	registry_index_del(idx, node);
	if (key[0] == '\0')
		return;
	if (idx->count >= idx->nb)
		registry_index_grow(idx);
	node->key = key;
	node->hash = outq_hash(key);
	node->conn = c;
	head = &idx->b[node->hash & (idx->nb - 1)];
	node->next = *head;
	*head = node;
	node->linked = true;
	idx->count++;
}

int
registry_init(struct worker *w)
{
	struct registry	*reg;
	uint64_t	 seed = 0;
	char		 err[512];

	/* Without entropy the hash is merely predictable; not fatal. */
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint64_t)getpid() ^ (uint64_t)worker_now_ms();
	outq_hash_seed(seed);
	if ((reg = calloc(1, sizeof(*reg))) == NULL) {
		log_warn("registry");
		return (-1);
	}
	reg->magic = REGISTRY_MAGIC;
	if (registry_index_init(&reg->uid) == -1 ||
	    registry_index_init(&reg->cs) == -1) {
		log_warn("registry");
		goto fail;
	}
	/*
	 * The supervisor works in STATE_DIR/store (ours) and forked us there.
	 */
	if ((reg->store = store_open(".", 0, 0, 0, err, sizeof(err))) ==
	    NULL) {
		log_warnx("state store (%s): %s", w->cfg->state_dir, err);
		goto fail;
	}
	w->reg = reg;
	return (0);
fail:
	free(reg->uid.b);
	free(reg->cs.b);
	free(reg);
	return (-1);
}

void
registry_commit(struct worker *w)
{
	struct registry	*reg = w->reg;

	if (reg == NULL || !reg->dirty)
		return;
	reg->dirty = false;
	/* store_commit() logs and counts a failure; the batch is gone. */
	(void)store_commit(reg->store);
}

void
registry_get_stats(const struct worker *w, struct store_stats *st)
{
	/* store_get_stats() zeroes st for a NULL store. */
	store_get_stats(w->reg != NULL ? w->reg->store : NULL, st);
}

void
registry_free(struct worker *w)
{
	struct registry	*reg = w->reg;

	if (reg == NULL)
		return;
	registry_commit(w);
	store_close(reg->store);
	free(reg->uid.b);
	free(reg->cs.b);
	reg->magic = 0;
	free(reg);
	w->reg = NULL;
}

static uint64_t
registry_conn_id(const struct worker *w, const struct conn *c)
{
	return (STORE_CONN_ID(w->args->id, c->id));
}

static void
registry_put_client(struct worker *w, struct conn *c)
{
	const struct session	*s = &c->s;
	struct store_client	 sc;

	memset(&sc, 0, sizeof(sc));
	sc.conn_id = registry_conn_id(w, c);
	sc.worker = w->args->id;
	/* The field sizes match (cot_parse.h, store.h, tls.h, conn.h). */
	snprintf(sc.uid, sizeof(sc.uid), "%s", s->uid);
	snprintf(sc.callsign, sizeof(sc.callsign), "%s", s->callsign);
	snprintf(sc.group, sizeof(sc.group), "%s", s->group);
	snprintf(sc.role, sizeof(sc.role), "%s", s->role);
	snprintf(sc.subject, sizeof(sc.subject), "%s", c->tls.subject);
	snprintf(sc.serial, sizeof(sc.serial), "%s", c->tls.serial_hex);
	snprintf(sc.peer, sizeof(sc.peer), "%s", c->peer);
	sc.connected_ms = (uint64_t)s->connected_wall_ms;
	sc.last_seen_ms = (uint64_t)(s->last_touch_wall_ms > 0 ?
	    s->last_touch_wall_ms : s->connected_wall_ms);
	if (store_batch_client(w->reg->store, &sc) == 0)
		w->reg->dirty = true;
}

void
registry_connect(struct worker *w, struct conn *c)
{
	registry_put_client(w, c);
}

void
registry_bind(struct worker *w, struct conn *c)
{
	struct session	*s = &c->s;

	registry_index_add(&w->reg->uid, &s->uid_node, c, s->uid);
	registry_index_add(&w->reg->cs, &s->cs_node, c, s->callsign);
	registry_put_client(w, c);
}

/* Whether a local session other than except (NULL: none) holds uid. */
static bool
registry_uid_held(struct worker *w, const char *uid, const struct conn *except)
{
	const struct registry_node	*n;
	uint64_t			 h;

	if (uid[0] == '\0')
		return (false);
	h = outq_hash(uid);
	for (n = w->reg->uid.b[h & (w->reg->uid.nb - 1)]; n != NULL;
	    n = n->next)
		if (n->conn != except && n->hash == h &&
		    strcmp(n->key, uid) == 0)
			return (true);
	return (false);
}

bool
registry_uid_local(struct worker *w, const char *uid)
{
	return (registry_uid_held(w, uid, NULL));
}

bool
registry_uid_elsewhere(struct worker *w, struct conn *c)
{
	uint64_t	 ids[REGISTRY_LOOKUP_MAX];
	size_t		 i, total = 0;

	if (c->s.uid[0] == '\0')
		return (false);
	if (registry_uid_held(w, c->s.uid, c))
		return (true);
	/*
	 * Our own worker's entries in the store may be closed sessions whose
	 * removal is still batched: the local index above is the truth for
	 * them.
	 */
	if (store_lookup_uid(w->reg->store, c->s.uid, ids, REGISTRY_LOOKUP_MAX,
	    &total) == -1)
		return (false);
	for (i = 0; i < total && i < REGISTRY_LOOKUP_MAX; i++)
		if (STORE_CONN_WORKER(ids[i]) != w->args->id)
			return (true);
	return (false);
}

void
registry_disconnect(struct worker *w, struct conn *c)
{
	registry_index_del(&w->reg->uid, &c->s.uid_node);
	registry_index_del(&w->reg->cs, &c->s.cs_node);
	if (store_batch_client_del(w->reg->store, registry_conn_id(w, c)) == 0)
		w->reg->dirty = true;
}

void
registry_touch(struct worker *w, struct conn *c, int64_t wall_ms)
{
	struct session	*s = &c->s;

	/* The store would skip it anyway; this saves the call. */
	if (wall_ms - s->last_touch_wall_ms < STORE_TOUCH_GRAIN_MS)
		return;
	s->last_touch_wall_ms = wall_ms;
	if (store_batch_touch(w->reg->store, registry_conn_id(w, c),
	    (uint64_t)wall_ms) == 0)
		w->reg->dirty = true;
}

void
registry_sa(struct worker *w, struct conn *c, const struct cot_view *v,
    const void *event, size_t len, int64_t wall_ms)
{
	/* Refused by the store; rare enough that not keeping it is fine. */
	if (strlen(v->type) >= STORE_TYPE_SIZE || len > STORE_SA_MAX) {
		log_debug("session %" PRIu64 ": SA of uid \"%s\" not kept for "
		    "replay (type of %zu bytes, event of %zu bytes)", c->id,
		    v->uid, strlen(v->type), len);
		return;
	}
	if (store_batch_sa(w->reg->store, v->uid, v->type,
	    v->stale_ms > 0 ? (uint64_t)v->stale_ms : 0, (uint64_t)wall_ms,
	    event, len) == 0)
		w->reg->dirty = true;
}

void
registry_match(struct worker *w, enum cot_dest_kind kind, const char *value,
    void (*fn)(struct worker *, struct conn *, void *), void *arg)
{
	struct registry_index	*idx;
	struct registry_node	*n, *next;
	uint64_t		 h;

	if (value[0] == '\0')
		return;
	idx = kind == COT_DEST_UID ? &w->reg->uid : &w->reg->cs;
	h = outq_hash(value);
	for (n = idx->b[h & (idx->nb - 1)]; n != NULL; n = next) {
		next = n->next;
		if (n->hash == h && strcmp(n->key, value) == 0)
			fn(w, n->conn, arg);
	}
}

struct registry_sa_ctx {
	int		(*fn)(const char *, const void *, size_t, void *);
	void		*arg;
};

static int
registry_sa_cb(const struct store_sa *sa, void *arg)
{
	struct registry_sa_ctx	*ctx = arg;

	return (ctx->fn(sa->uid, sa->event, sa->len, ctx->arg));
}

int
registry_foreach_sa(struct worker *w, int64_t wall_ms,
    int (*fn)(const char *, const void *, size_t, void *), void *arg)
{
	struct registry_sa_ctx	 ctx;

	ctx.fn = fn;
	ctx.arg = arg;
	return (store_foreach_sa(w->reg->store, (uint64_t)wall_ms, NULL,
	    registry_sa_cb, &ctx));
}
