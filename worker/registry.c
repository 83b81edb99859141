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

#include "shared/channels.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "shared/store.h"
#include "worker/conn.h"
#include "worker/deliver.h"
#include "worker/fanout.h"
#include "worker/groups.h"
#include "worker/outq.h"
#include "worker/registry.h"
#include "worker/session.h"
#include "worker/worker_int.h"

/* A stale time written as "2026-12-07T12:44:18.054Z" vs the shortest. */
#define REGISTRY_STALE_SLACK	32
#define REGISTRY_MAGIC		0x52454753u	/* "REGS" */
#define REGISTRY_FIRST_BUCKETS	64
#define REGISTRY_LOOKUP_MAX	16	/* conn ids read per uid lookup */
/* Room for the stale time an SA's tag gets instead of its own. */
#define REGISTRY_STALE_ROOM	64

_Static_assert(REGISTRY_OWNER_MAX == STORE_OWNER_SIZE, "owner size");
_Static_assert(GROUPLIST_STR_MAX == STORE_GROUPS_SIZE &&
    GROUPLIST_NAME_MAX == STORE_USER_SIZE, "group list sizes");

struct registry_index {
	struct registry_node	**b;
	size_t			  nb;		/* a power of two */
	size_t			  count;
};

struct registry {
	unsigned		 magic;
	struct store		*store;		/* NULL: running without */
	bool			 dirty;		/* batched writes to commit */
	bool			 urgent;	/* among them, who is connected */
	bool			 sa_batched;	/* among them, positions */
	int64_t			 committed_ms;	/* the last commit, monotonic */
	uint64_t		 evicted;	/* the store's, last seen */
	char			*scratch;	/* an SA with its stale cut */
	size_t			 scratch_len;
	struct registry_index	 uid;
	struct registry_index	 cs;
	struct registry_index	 cert;	/* by certificate serial */
	struct store_client	 client;	/* registry_put_client()'s */
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

/*
 * The largest SA kept: what [cot] max_sa_bytes lets through (no cap: the
 * largest event), and room for the longest stale time the cut may write
 * in place of a shorter one.
 */
static size_t
registry_sa_max(const struct worker *w)
{
	size_t	 max = w->cfg->max_sa_bytes;

	if (max == 0 || max > w->cfg->max_event_bytes)
		max = w->cfg->max_event_bytes;
	return (max + REGISTRY_STALE_SLACK);
}

int
registry_init(struct worker *w)
{
	struct registry	*reg;
	uint64_t	 seed = 0;
	char		 err[512];

	/* Without entropy the hash is merely predictable; not fatal. */
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint64_t)getpid() ^ (uint64_t)clock_mono_ms();
	outq_hash_seed(seed);
	if ((reg = calloc(1, sizeof(*reg))) == NULL) {
		log_warn("registry");
		return (-1);
	}
	reg->magic = REGISTRY_MAGIC;
	if (registry_index_init(&reg->uid) == -1 ||
	    registry_index_init(&reg->cs) == -1 ||
	    registry_index_init(&reg->cert) == -1) {
		log_warn("registry");
		goto fail;
	}
	/*
	 * The supervisor works in STATE_DIR/store (ours) and forked us there.
	 * Without the store (a full disk the supervisor could not recover from) the
	 * worker still serves: no replay, identities checked here only.
	 */
	if ((reg->store = store_open(".", 0, 0, 0, err, sizeof(err))) ==
	    NULL)
		log_warnx("state store (%s): %s; running without it: no "
		    "latest SA replay, identities checked within this worker "
		    "only", w->cfg->state_dir, err);
	else
		store_set_sa_max_bytes(reg->store, w->cfg->sa_store_max);
	w->reg = reg;
	return (0);
fail:
	free(reg->uid.b);
	free(reg->cs.b);
	free(reg->cert.b);
	free(reg);
	return (-1);
}

void
registry_commit(struct worker *w)
{
	struct registry	*reg = w->reg;

	struct store_stats	 st;

	if (reg == NULL || !reg->dirty)
		return;
	reg->dirty = reg->urgent = reg->sa_batched = false;
	reg->committed_ms = clock_mono_ms();
	/* store_commit() logs and counts a failure; the batch is gone. */
	(void)store_commit(reg->store);
	store_get_stats(reg->store, &st);
	w->cnt.sa_evicted += st.sa_evicted - reg->evicted;
	reg->evicted = st.sa_evicted;
}

/*
 * How long positions and last-seen times wait in the batch: with [cot]
 * sa_flush_delay, as long as a position may wait for its live recipients
 * (a client that connects to another worker meanwhile gets the one
 * before, as one that connected a moment earlier would have got it).
 */
static int64_t
registry_sa_commit_ms(const struct worker *w)
{
	if (w->cfg->sa_flush_delay_ms > REGISTRY_SA_COMMIT_MS)
		return (w->cfg->sa_flush_delay_ms);
	return (REGISTRY_SA_COMMIT_MS);
}

/*
 * Positions and last-seen times wait up to registry_sa_commit_ms() and
 * share one transaction: a commit is a few page writes whatever it holds,
 * and a busy fleet sends an SA per turn of the loop.  Who is connected
 * goes at the end of the turn: other workers count a certificate's
 * sessions there.
 */
void
registry_commit_due(struct worker *w, int64_t now_ms)
{
	struct registry	*reg = w->reg;

	if (reg == NULL || !reg->dirty)
		return;
	if (reg->urgent || now_ms - reg->committed_ms >= registry_sa_commit_ms(w))
		registry_commit(w);
}

void
registry_commit_sa(struct worker *w)
{
	if (w->reg != NULL && w->reg->sa_batched)
		registry_commit(w);
}

int64_t
registry_commit_wait(const struct worker *w, int64_t now_ms)
{
	const struct registry	*reg = w->reg;

	if (reg == NULL || !reg->dirty)
		return (-1);
	if (reg->urgent)
		return (0);
	return (reg->committed_ms + registry_sa_commit_ms(w) - now_ms);
}

void
registry_get_stats(const struct worker *w, struct store_stats *st)
{
	/* store_get_stats() zeroes st for a NULL store. */
	store_get_stats(w->reg != NULL ? w->reg->store : NULL, st);
}

int
registry_channels(struct worker *w, const char *user,
    struct channels_off *off)
{
	struct store	*st = w->reg != NULL ? w->reg->store : NULL;
	char		 rec[CHANNELS_REC_MAX];
	size_t		 len;
	int		 rc;

	off->n = 0;
	if (st == NULL)
		return (0);	/* no store: nobody's choice is known */
	/* Read once per handshake of a user and per change, never per event. */
	if ((rc = store_get_channels(st, user, rec, sizeof(rec), &len)) == 1)
		return (0);
	if (rc == -1 || channels_decode(rec, len, off) == -1) {
		log_warnx("the channels of user \"%s\" cannot be read: every "
		    "group of the user is on", user);
		off->n = 0;
		return (-1);
	}
	return (0);
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
	free(reg->scratch);
	free(reg->cert.b);
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
	struct store_client	*sc = &w->reg->client;

	if (w->reg->store == NULL)
		return;
	/* With its two group lists, too large for the stack: reused. */
	memset(sc, 0, sizeof(*sc));
	sc->conn_id = registry_conn_id(w, c);
	sc->worker = w->args->id;
	/* The field sizes match (cot_parse.h, store.h, tls.h, conn.h). */
	snprintf(sc->uid, sizeof(sc->uid), "%s", s->uid);
	snprintf(sc->callsign, sizeof(sc->callsign), "%s", s->callsign);
	snprintf(sc->group, sizeof(sc->group), "%s", s->group);
	snprintf(sc->role, sizeof(sc->role), "%s", s->role);
	snprintf(sc->subject, sizeof(sc->subject), "%s", c->tls.subject);
	snprintf(sc->serial, sizeof(sc->serial), "%s", c->tls.serial_hex);
	sc->not_after = (int64_t)c->tls.not_after;
	snprintf(sc->peer, sizeof(sc->peer), "%s", c->peer);
	snprintf(sc->user, sizeof(sc->user), "%s", s->user);
	groups_sess_list(w->groups, &s->groups, GROUPS_IN, sc->groups_in,
	    sizeof(sc->groups_in));
	groups_sess_list(w->groups, &s->groups, GROUPS_OUT, sc->groups_out,
	    sizeof(sc->groups_out));
	sc->connected_ms = (uint64_t)s->connected_wall_ms;
	sc->last_seen_ms = (uint64_t)(s->last_touch_wall_ms > 0 ?
	    s->last_touch_wall_ms : s->connected_wall_ms);
	sc->v1 = s->enc == EVBUF_V1;
	if (store_batch_client(w->reg->store, sc) == 0)
		w->reg->dirty = w->reg->urgent = true;
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
	if (w->reg->store == NULL)
		return (false);
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
	if (w->reg->store != NULL && store_batch_client_del(w->reg->store,
	    registry_conn_id(w, c)) == 0)
		w->reg->dirty = w->reg->urgent = true;
}

void
registry_touch(struct worker *w, struct conn *c, int64_t wall_ms)
{
	struct session	*s = &c->s;

	/* The store would skip it anyway; this saves the call. */
	if (wall_ms - s->last_touch_wall_ms < STORE_TOUCH_GRAIN_MS ||
	    w->reg->store == NULL)
		return;
	s->last_touch_wall_ms = wall_ms;
	if (store_batch_touch(w->reg->store, registry_conn_id(w, c),
	    (uint64_t)wall_ms) == 0)
		w->reg->dirty = true;
}

static bool
registry_is_space(char ch)
{
	return (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n');
}

/*
 * The value of the stale attribute of the <event> start tag at off, as
 * [*vs, *ve).  The parser accepted the event, so the tag is well-formed
 * XML: names, '=', and values in quotes that do not contain their quote.
 */
static int
registry_find_stale(const char *b, size_t len, size_t off, size_t *vs,
    size_t *ve)
{
	size_t	 i = off + 6, ns, ne;
	char	 q;

	if (off > len || len - off < 6 || memcmp(b + off, "<event", 6) != 0)
		return (-1);
	for (;;) {
		while (i < len && registry_is_space(b[i]))
			i++;
		if (i >= len || b[i] == '>' || b[i] == '/')
			return (-1);
		ns = i;
		while (i < len && !registry_is_space(b[i]) && b[i] != '=')
			i++;
		ne = i;
		while (i < len && registry_is_space(b[i]))
			i++;
		if (i >= len || b[i++] != '=')
			return (-1);
		while (i < len && registry_is_space(b[i]))
			i++;
		if (i >= len || (b[i] != '"' && b[i] != '\''))
			return (-1);
		q = b[i++];
		*vs = i;
		while (i < len && b[i] != q)
			i++;
		if (i >= len)
			return (-1);
		*ve = i++;
		if (ne - ns == 5 && memcmp(b + ns, "stale", 5) == 0)
			return (0);
	}
}

size_t
registry_stale_rewrite(const void *event, size_t len, size_t event_off,
    int64_t stale_ms, char *out, size_t outlen)
{
	const char	*b = event;
	char		 t[REGISTRY_STALE_ROOM];
	size_t		 vs, ve, tlen, n;

	if (registry_find_stale(b, len, event_off, &vs, &ve) == -1 ||
	    (tlen = cot_time_format(stale_ms, t, sizeof(t))) == 0)
		return (0);
	n = len - (ve - vs) + tlen;
	if (n > outlen)
		return (0);
	memcpy(out, b, vs);
	memcpy(out + vs, t, tlen);
	memcpy(out + vs + tlen, b + ve, len - ve);
	return (n);
}

void
registry_sa(struct worker *w, struct conn *c, const struct cot_view *v,
    const void *event, size_t len, int64_t wall_ms)
{
	struct registry		*reg = w->reg;
	struct store_sa_put	 p;
	uint64_t		 h;
	int64_t			 max_stale;
	size_t			 n, max;
	char			*nb;

	if (reg->store == NULL)
		return;
	/*
	 * An SA over [cot] max_sa_bytes is never relayed, so never gets
	 * here; the scratch buffer for the cut is made at the first need.
	 */
	if (reg->scratch_len < (max = registry_sa_max(w))) {
		if ((nb = realloc(reg->scratch, max)) == NULL) {
			log_warn("session %" PRIu64 ": SA not kept for replay",
			    c->id);
			return;
		}
		reg->scratch = nb;
		reg->scratch_len = max;
	}
	memset(&p, 0, sizeof(p));
	p.stale_ms = v->stale_ms > 0 ? (uint64_t)v->stale_ms : 0;
	p.event = event;
	p.len = len;
	/*
	 * The client's stale time would keep its position on every map for
	 * as long as it likes (and in the store across restarts): cut it,
	 * in the bytes the replay sends too.
	 */
	max_stale = wall_ms + (int64_t)w->cfg->sa_max_stale_ms;
	if (v->stale_ms > max_stale) {
		if ((n = registry_stale_rewrite(event, len, v->event_off,
		    max_stale, reg->scratch, reg->scratch_len)) == 0) {
			w->cnt.sa_too_large++;
			log_debug("session %" PRIu64 ": SA of uid \"%s\" not "
			    "kept for replay: %zu bytes with its stale time "
			    "cut exceed %zu", c->id, v->uid, len,
			    reg->scratch_len);
			return;
		}
		p.event = reg->scratch;
		p.len = n;
		p.stale_ms = (uint64_t)max_stale;
		p.flags |= STORE_SA_F_CLAMPED;
		w->cnt.sa_clamped++;
	}
	if (strlen(v->type) >= STORE_TYPE_SIZE || p.len > max) {
		w->cnt.sa_too_large++;
		log_debug("session %" PRIu64 ": SA of uid \"%s\" not kept for "
		    "replay (type of %zu bytes, event of %zu bytes, at most "
		    "%zu)", c->id, v->uid, strlen(v->type), p.len, max);
		return;
	}
	p.uid = v->uid;
	p.type = v->type;
	/* Who may have it replayed: its sender's IN groups now. */
	p.groups = c->s.groups.in_list;
	p.owner = c->s.owner;
	p.serial = c->tls.serial_hex;
	p.now_ms = (uint64_t)wall_ms;
	p.max_per_owner = c->s.relay ? w->cfg->relay_max_uids :
	    w->cfg->sa_uids_per_cert;
	if (store_batch_sa_put(reg->store, &p) == 0) {
		reg->dirty = reg->sa_batched = true;
		w->cnt.sa_stored++;
		/*
		 * A uid's first position goes at the end of the turn: a client
		 * that connects to another worker right after it must be
		 * replayed it, not nothing.  Its later ones wait (a replay
		 * then gives the one before).  A relay alternates uids.
		 */
		h = outq_hash(v->uid);
		if (h != c->s.sa_uid_hash) {
			reg->urgent = true;
			c->s.sa_uid_hash = h;
		}
	}
}

/* ---- identity ownership ---- */

/* The value of the subject's first CN, "" when none. */
static void
registry_subject_cn(const char *subject, char *cn, size_t len)
{
	const char	*p = subject;
	size_t		 n = 0;

	cn[0] = '\0';
	while (*p != '\0') {
		if (strncmp(p, "CN=", 3) == 0) {
			for (p += 3; *p != '\0' && *p != ',' && n + 1 < len;
			    p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				cn[n++] = *p;
			}
			cn[n] = '\0';
			return;
		}
		/* The next RDN, after a ',' that is not escaped. */
		for (; *p != '\0' && *p != ','; p++)
			if (*p == '\\' && p[1] != '\0')
				p++;
		if (*p == ',')
			p++;
		while (*p == ' ')
			p++;
	}
}

/* Whether name is one of the words of list (spaces or commas between). */
static bool
registry_listed(const char *list, const char *name)
{
	size_t	 n = strlen(name), w;

	if (n == 0)
		return (false);
	while (*list != '\0') {
		list += strspn(list, " ,\t");
		w = strcspn(list, " ,\t");
		if (w == n && strncmp(list, name, n) == 0)
			return (true);
		list += w;
	}
	return (false);
}

/* Owner of a TLS subject, or of a plain peer "ADDR:PORT"/"[V6]:PORT". */
static void
registry_owner_format(const char *subject, const char *serial,
    const char *peer, char *owner, size_t len)
{
	const char	*colon;

	if (subject[0] != '\0')
		snprintf(owner, len, "%s", subject);
	else if (serial[0] != '\0')
		snprintf(owner, len, "serial:%s", serial);
	else if ((colon = strrchr(peer, ':')) != NULL)
		snprintf(owner, len, "tcp:%.*s", (int)(colon - peer), peer);
	else
		snprintf(owner, len, "tcp:%s", peer);
}

void
registry_owner_init(struct worker *w, struct conn *c)
{
	char	 cn[256];

	registry_owner_format(c->tls.subject, c->tls.serial_hex, c->peer,
	    c->s.owner, sizeof(c->s.owner));
	registry_subject_cn(c->tls.subject, cn, sizeof(cn));
	c->s.relay = !c->plain && registry_listed(w->cfg->relay_certs, cn);
}

/*
 * The owners of the connections of other workers bound to key (uid or
 * callsign) in the store: REGISTRY_OTHER (another's copied to other) as
 * soon as one differs, else whether one is mine.
 */
static enum registry_claim
registry_claim_store(struct worker *w, struct conn *c, bool by_uid,
    const char *key, char *other, bool *remote)
{
	struct store_client	 sc;
	enum registry_claim	 r = REGISTRY_FREE;
	uint64_t		 ids[REGISTRY_LOOKUP_MAX];
	size_t			 i, total = 0;
	char			 owner[REGISTRY_OWNER_MAX];

	if (w->reg->store == NULL)
		return (REGISTRY_FREE);
	if ((by_uid ? store_lookup_uid(w->reg->store, key, ids,
	    REGISTRY_LOOKUP_MAX, &total) : store_lookup_callsign(w->reg->store,
	    key, ids, REGISTRY_LOOKUP_MAX, &total)) == -1)
		return (REGISTRY_FREE);
	for (i = 0; i < total && i < REGISTRY_LOOKUP_MAX; i++) {
		/* Our own entries may be closed sessions still batched. */
		if (STORE_CONN_WORKER(ids[i]) == w->args->id ||
		    store_get_client(w->reg->store, ids[i], &sc) != 0)
			continue;
		registry_owner_format(sc.subject, sc.serial, sc.peer, owner,
		    sizeof(owner));
		if (strcmp(owner, c->s.owner) != 0) {
			memcpy(other, owner, sizeof(owner));
			return (REGISTRY_OTHER);
		}
		r = REGISTRY_OWN;
		if (remote != NULL)
			*remote = true;
	}
	return (r);
}

/* The same in a local index. */
static enum registry_claim
registry_claim_local(struct worker *w, struct conn *c,
    struct registry_index *idx, const char *key, char *other)
{
	const struct registry_node	*n;
	enum registry_claim		 r = REGISTRY_FREE;
	uint64_t			 h = outq_hash(key);

	for (n = idx->b[h & (idx->nb - 1)]; n != NULL; n = n->next) {
		if (n->conn == c || n->hash != h || strcmp(n->key, key) != 0)
			continue;
		if (strcmp(n->conn->s.owner, c->s.owner) != 0) {
			snprintf(other, REGISTRY_OWNER_MAX, "%s",
			    n->conn->s.owner);
			return (REGISTRY_OTHER);
		}
		r = REGISTRY_OWN;
	}
	return (r);
}

enum registry_claim
registry_claim_uid(struct worker *w, struct conn *c, const char *uid,
    bool sticky, char *other, bool *remote)
{
	enum registry_claim	 r, st;
	char			 owner[REGISTRY_OWNER_MAX];

	if (remote != NULL)
		*remote = false;
	if (uid[0] == '\0')
		return (REGISTRY_FREE);
	if ((r = registry_claim_local(w, c, &w->reg->uid, uid, other)) ==
	    REGISTRY_OTHER)
		return (r);
	if ((st = registry_claim_store(w, c, true, uid, other, remote)) !=
	    REGISTRY_FREE)
		r = st;
	if (r == REGISTRY_OTHER || !sticky || w->reg->store == NULL)
		return (r);
	/* A position stays its owner's while it is stored (docs/security.md). */
	if (store_get_sa_owner(w->reg->store, uid, owner) == 0) {
		if (strcmp(owner, c->s.owner) != 0) {
			memcpy(other, owner, sizeof(owner));
			return (REGISTRY_OTHER);
		}
		r = REGISTRY_OWN;
	}
	return (r);
}

enum registry_claim
registry_claim_callsign(struct worker *w, struct conn *c,
    const char *callsign, char *other)
{
	enum registry_claim	 r;

	if (callsign[0] == '\0')
		return (REGISTRY_FREE);
	if ((r = registry_claim_local(w, c, &w->reg->cs, callsign, other)) ==
	    REGISTRY_OTHER)
		return (r);
	return (registry_claim_store(w, c, false, callsign, other, NULL) ==
	    REGISTRY_OTHER ? REGISTRY_OTHER : r);
}

struct registry_takeover {
	const struct deliver	*d;
	size_t			 n;
};

static void
registry_takeover_one(struct worker *w, struct conn *c, void *arg)
{
	struct registry_takeover	*t = arg;
	const struct deliver		*d = t->d;
	char				 who[CONN_WHO_MAX];

	if ((d->src_worker == w->args->id && d->src_conn == c->id) ||
	    !deliver_receives(c) || strlen(c->s.owner) != d->ev->len ||
	    memcmp(c->s.owner, d->ev->data, d->ev->len) != 0)
		return;
	w->cnt.close_takeover++;
	t->n++;
	log_info("session %" PRIu64 ": uid \"%s\" taken over by a new "
	    "session of the same certificate (worker %u session %" PRIu64
	    "): closing this one (%s)", c->id, c->s.uid, d->src_worker,
	    d->src_conn, conn_who(c, who, sizeof(who)));
	deliver_doom(w, c, "uid taken over by a new session of the same "
	    "certificate");
}

size_t
registry_takeover_local(struct worker *w, const struct deliver *d)
{
	struct registry_takeover	 t;

	t.d = d;
	t.n = 0;
	if (d->ev == NULL)
		return (0);
	registry_match(w, COT_DEST_UID, d->uid, registry_takeover_one, &t);
	return (t.n);
}

void
registry_takeover(struct worker *w, struct conn *c, bool remote)
{
	struct deliver	 d;
	struct cot_dest	 dest;

	memset(&d, 0, sizeof(d));
	memset(&dest, 0, sizeof(dest));
	dest.kind = COT_DEST_UID;
	snprintf(dest.value, sizeof(dest.value), "%s", c->s.uid);
	d.kind = DELIVER_DIRECTED;
	d.flags = DELIVER_F_TAKEOVER;
	d.cls = IPC_EV_OTHER;
	d.src_worker = w->args->id;
	d.src_conn = c->id;
	memcpy(d.uid, c->s.uid, sizeof(d.uid));
	d.n_dest = 1;
	d.dest = &dest;
	d.groups = "";		/* not an event: nothing to see */
	if ((d.ev = evbuf_new(c->s.owner, strlen(c->s.owner))) == NULL) {
		w->cnt.drop_nomem++;
		return;
	}
	(void)registry_takeover_local(w, &d);
	/* After the commit of the new binding: see session_bind(). */
	if (remote)
		fanout_send(w, &d);
	evbuf_unref(d.ev);
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
	int		(*fn)(const char *, const char *, const void *, size_t,
			    void *);
	void		*arg;
	int64_t		 stored_by;
};

static int
registry_sa_cb(const struct store_sa *sa, void *arg)
{
	struct registry_sa_ctx	*ctx = arg;

	if (ctx->stored_by > 0 && sa->time_ms > (uint64_t)ctx->stored_by)
		return (0);
	return (ctx->fn(sa->uid, sa->groups, sa->event, sa->len, ctx->arg));
}

int
registry_foreach_sa(struct worker *w, int64_t wall_ms, int64_t stored_by,
    const char *skip_uid, int (*fn)(const char *, const char *, const void *,
    size_t, void *), void *arg)
{
	struct registry_sa_ctx	 ctx;

	if (w->reg->store == NULL)
		return (0);
	ctx.fn = fn;
	ctx.arg = arg;
	ctx.stored_by = stored_by;
	return (store_foreach_sa(w->reg->store, (uint64_t)wall_ms,
	    skip_uid != NULL && skip_uid[0] != '\0' ? skip_uid : NULL,
	    registry_sa_cb, &ctx));
}

void
registry_cert_add(struct worker *w, struct conn *c)
{
	if (w->reg == NULL || c->plain)
		return;
	registry_index_add(&w->reg->cert, &c->cert_node, c, c->tls.serial_hex);
}

void
registry_cert_del(struct worker *w, struct conn *c)
{
	if (w->reg == NULL)
		return;
	registry_index_del(&w->reg->cert, &c->cert_node);
}

size_t
registry_cert_count(struct worker *w, struct conn *c, size_t max,
    size_t *here, struct conn **oldest)
{
	const struct registry_node	*n;
	const char			*serial = c->tls.serial_hex;
	struct conn			*o;
	uint64_t			 h;
	size_t				 elsewhere = 0;

	*here = 0;
	*oldest = NULL;
	if (w->reg == NULL || serial[0] == '\0')
		return (0);
	h = outq_hash(serial);
	for (n = w->reg->cert.b[h & (w->reg->cert.nb - 1)]; n != NULL;
	    n = n->next) {
		o = n->conn;
		if (o == c || n->hash != h || strcmp(n->key, serial) != 0)
			continue;
		(*here)++;
		/* Ids grow with time: the smallest is the oldest. */
		if (*oldest == NULL || o->id < (*oldest)->id)
			*oldest = o;
	}
	/* Our own entries in the store may lag: the index is the truth. */
	if (*here < max && store_count_serial(w->reg->store, serial,
	    w->args->id, max - *here, &elsewhere) == -1)
		elsewhere = 0;
	return (*here + elsewhere);
}
