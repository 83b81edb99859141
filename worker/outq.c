/*
 * Shared event buffers and per-session output queues: see outq.h.
 *
 * The queue is a ring of entries that grows by doubling and is given back
 * when it empties, so a steady stream costs no allocation per event and an
 * idle session holds no ring at all.  A superseded entry is dropped in place
 * (its slot becomes a hole that writing skips), and the ring is compacted
 * when holes outnumber live entries, so a stalled consumer fed with SA events
 * of a few uids keeps a short ring.
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cot/takp_frame.h"
#include "worker/outq.h"

#define OUTQ_FIRST_SLOTS	16
#define OUTQ_KEEP_SLOTS		64	/* an empty ring larger than this is freed */
#define OUTQ_COMPACT_MIN	16	/* holes before compaction is worth it */
/* An entry that makes the queue urgent (outq_urgent()). */
#define OUTQ_IS_URGENT(f)	(!((f) & OUTQ_F_SA) || ((f) & OUTQ_F_URGENT))

static uint64_t		 outq_seed;
/* Bytes of live evbufs and rings: the output side of the memory budget. */
static size_t		 outq_mem_bytes;

/* An event of len bytes, hlen of them a header (filled by the caller). */
static struct evbuf *
evbuf_alloc(enum evbuf_enc enc, size_t hlen, const void *bytes, size_t len)
{
	struct evbuf	*ev;

	if (len == 0 || len > UINT32_MAX - sizeof(*ev) - hlen) {
		errno = EINVAL;
		return (NULL);
	}
	if ((ev = malloc(sizeof(*ev) + hlen + len)) == NULL)
		return (NULL);
	outq_mem_bytes += sizeof(*ev) + hlen + len;
	ev->refs = 1;
	ev->len = (uint32_t)(hlen + len);
	ev->enc = (uint8_t)enc;
	ev->hlen = (uint8_t)hlen;
	ev->unconvertible = false;
	ev->other = NULL;
	memcpy(ev->data + hlen, bytes, len);
	return (ev);
}

struct evbuf *
evbuf_new(const void *bytes, size_t len)
{
	return (evbuf_alloc(EVBUF_XML, 0, bytes, len));
}

struct evbuf *
evbuf_new_v1(const void *msg, size_t len)
{
	struct evbuf	*ev;
	uint8_t		 hdr[TAKP_FRAME_HEADER_MAX];
	size_t		 hlen;

	hlen = takp_frame_header(hdr, len);
	if ((ev = evbuf_alloc(EVBUF_V1, hlen, msg, len)) != NULL)
		memcpy(ev->data, hdr, hlen);
	return (ev);
}

struct evbuf *
evbuf_ref(struct evbuf *ev)
{
	assert(ev->refs > 0 && ev->refs < UINT32_MAX);
	ev->refs++;
	return (ev);
}

void
evbuf_unref(struct evbuf *ev)
{
	if (ev == NULL)
		return;
	assert(ev->refs > 0);
	if (--ev->refs == 0) {
		outq_mem_bytes -= sizeof(*ev) + ev->len;
		/* A counterpart lives on in the queues that hold it. */
		evbuf_unref(ev->other);
		free(ev);
	}
}

size_t
outq_mem(void)
{
	return (outq_mem_bytes);
}

void
outq_hash_seed(uint64_t seed)
{
	outq_seed = seed;
}

/*
 * FNV-1a over the bytes, then a 64-bit finaliser (Murmur3's fmix64) so that
 * the low bits used for buckets depend on every byte.  The seed is random
 * per process: uids come from clients.
 */
uint64_t
outq_hash(const char *s)
{
	uint64_t	 h = 0xcbf29ce484222325ULL ^ outq_seed;

	for (; *s != '\0'; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (h);
}

/* The two bits of key in the queue's filter (outq.h). */
static void
outq_bloom_bits(uint64_t key, unsigned *a, unsigned *b)
{
	*a = (unsigned)(key % OUTQ_BLOOM_BITS);
	*b = (unsigned)((key >> 32) % OUTQ_BLOOM_BITS);
}

static void
outq_bloom_add(struct outq *q, uint64_t key)
{
	unsigned	 a, b;

	outq_bloom_bits(key, &a, &b);
	q->sa_keys[a / 64] |= (uint64_t)1 << (a % 64);
	q->sa_keys[b / 64] |= (uint64_t)1 << (b % 64);
}

static bool
outq_bloom_has(const struct outq *q, uint64_t key)
{
	unsigned	 a, b;

	outq_bloom_bits(key, &a, &b);
	return ((q->sa_keys[a / 64] >> (a % 64) & 1) &&
	    (q->sa_keys[b / 64] >> (b % 64) & 1));
}

static struct outq_ent *
outq_slot(const struct outq *q, uint32_t i)
{
	return (&q->ring[(q->head + i) & (q->cap - 1)]);
}

/*
 * The filter again from the entries left, once a write took at least as
 * many as are left (so in amortised constant time per entry written): a
 * queue that seldom empties (whole records written, the rest waiting)
 * would otherwise keep the keys of every entry since it last did.
 */
static void
outq_bloom_rebuild(struct outq *q)
{
	const struct outq_ent	*e;
	uint32_t		 i;

	memset(q->sa_keys, 0, sizeof(q->sa_keys));
	for (i = 0; i < q->n; i++) {
		e = outq_slot(q, i);
		if (e->ev != NULL && (e->flags & OUTQ_F_SA))
			outq_bloom_add(q, e->key);
	}
}

void
outq_init(struct outq *q, size_t max)
{
	memset(q, 0, sizeof(*q));
	q->magic = OUTQ_MAGIC;
	q->max = max < OUTQ_MIN_MAX ? OUTQ_MIN_MAX : max;
}

/* Give the ring back once it is empty and larger than needed when idle. */
static void
outq_shrink(struct outq *q)
{
	if (q->n != 0)
		return;
	q->head = 0;
	memset(q->sa_keys, 0, sizeof(q->sa_keys));
	if (q->cap > OUTQ_KEEP_SLOTS) {
		outq_mem_bytes -= q->cap * sizeof(*q->ring);
		free(q->ring);
		q->ring = NULL;
		q->cap = 0;
	}
}

/* Holes at the head go at once: the head is always a live entry. */
static void
outq_pop_holes(struct outq *q)
{
	while (q->n > 0 && outq_slot(q, 0)->ev == NULL) {
		q->head = (q->head + 1) & (q->cap - 1);
		q->n--;
		q->ndead--;
	}
	outq_shrink(q);
}

static void
outq_compact(struct outq *q)
{
	struct outq_ent	 e;
	uint32_t	 i, j = 0;

	for (i = 0; i < q->n; i++) {
		e = *outq_slot(q, i);
		if (e.ev != NULL)
			*outq_slot(q, j++) = e;
	}
	q->n = j;
	q->ndead = 0;
}

static int
outq_grow(struct outq *q)
{
	struct outq_ent	*ring;
	uint32_t	 cap, i;

	cap = q->cap == 0 ? OUTQ_FIRST_SLOTS : q->cap * 2;
	if (cap < q->cap || cap > (1U << 30))
		return (-1);
	if ((ring = malloc(cap * sizeof(*ring))) == NULL)
		return (-1);
	for (i = 0; i < q->n; i++)
		ring[i] = *outq_slot(q, i);
	outq_mem_bytes += (cap - q->cap) * sizeof(*ring);
	free(q->ring);
	q->ring = ring;
	q->cap = cap;
	q->head = 0;
	return (0);
}

/*
 * Drop the queued SA entries with this key, except those a write is under
 * way for: the partly written head and the pinned bytes.
 */
static size_t
outq_supersede(struct outq *q, uint64_t key)
{
	struct outq_ent	*e;
	size_t		 off = 0, dropped = 0;
	uint32_t	 i;

	for (i = 0; i < q->n; i++) {
		e = outq_slot(q, i);
		if (e->ev == NULL)
			continue;
		if ((e->flags & OUTQ_F_SA) && e->key == key &&
		    off >= q->pinned && !(i == 0 && q->head_off > 0)) {
			q->bytes -= e->ev->len;
			if (OUTQ_IS_URGENT(e->flags))
				q->nurgent--;
			evbuf_unref(e->ev);
			e->ev = NULL;
			q->ndead++;
			dropped++;
			continue;
		}
		off += e->ev->len - (i == 0 ? q->head_off : 0);
	}
	if (dropped > 0)
		outq_pop_holes(q);
	return (dropped);
}

enum outq_res
outq_push(struct outq *q, struct evbuf *ev, uint32_t flags, uint64_t key,
    size_t *superseded)
{
	return (outq_push_at(q, ev, flags, key, 0, superseded));
}

enum outq_res
outq_push_at(struct outq *q, struct evbuf *ev, uint32_t flags, uint64_t key,
    uint32_t at, size_t *superseded)
{
	struct outq_ent	*e;
	size_t		 dropped = 0;

	assert(q->magic == OUTQ_MAGIC);
	if (superseded != NULL)
		*superseded = 0;
	if (ev->len == 0)
		return (OUTQ_OK);
	if ((flags & OUTQ_F_SA) && q->n > 0 && ((flags & OUTQ_F_COALESCE) ||
	    q->bytes + ev->len > q->max / 2) && outq_bloom_has(q, key))
		dropped = outq_supersede(q, key);
	if (superseded != NULL)
		*superseded = dropped;
	if (q->bytes + ev->len > q->max)
		return (OUTQ_FULL);
	if (q->n == q->cap && q->ndead > 0)
		outq_compact(q);
	if (q->n == q->cap && outq_grow(q) == -1)
		return (OUTQ_NOMEM);
	e = outq_slot(q, q->n);
	e->ev = evbuf_ref(ev);
	e->key = key;
	e->flags = flags;
	e->at = at;
	if (flags & OUTQ_F_SA)
		outq_bloom_add(q, key);
	q->n++;
	if (OUTQ_IS_URGENT(flags))
		q->nurgent++;
	q->bytes += ev->len;
	if (q->ndead >= OUTQ_COMPACT_MIN && q->ndead > q->n / 2)
		outq_compact(q);
	return (OUTQ_OK);
}

size_t
outq_bytes(const struct outq *q)
{
	return (q->bytes);
}

size_t
outq_events(const struct outq *q)
{
	return (q->n - q->ndead);
}

int
outq_urgent(const struct outq *q)
{
	return (q->nurgent > 0 || q->head_off > 0 || q->pinned > 0);
}

uint32_t
outq_head_at(const struct outq *q)
{
	/* outq_pop_holes(): the head is live whenever the queue is not empty. */
	return (q->n > 0 ? outq_slot(q, 0)->at : 0);
}

size_t
outq_peek(const struct outq *q, uint8_t *buf, size_t len)
{
	const struct outq_ent	*e;
	size_t			 done = 0, skip = q->head_off, take;
	uint32_t		 i;

	for (i = 0; i < q->n && done < len; i++) {
		e = outq_slot(q, i);
		if (e->ev == NULL)
			continue;
		take = e->ev->len - skip;
		if (take > len - done)
			take = len - done;
		memcpy(buf + done, e->ev->data + skip, take);
		done += take;
		skip = 0;
	}
	/* A retry that resent fewer bytes would corrupt the stream. */
	assert(done >= q->pinned);
	return (done);
}

size_t
outq_peek_whole(const struct outq *q, uint8_t *buf, size_t len)
{
	const struct outq_ent	*e;
	size_t			 done = 0;
	uint32_t		 i;

	if (q->head_off > 0 || q->pinned > 0)
		return (outq_peek(q, buf, len));
	for (i = 0; i < q->n; i++) {
		e = outq_slot(q, i);
		if (e->ev == NULL)
			continue;
		if (e->ev->len > len - done)
			break;
		memcpy(buf + done, e->ev->data, e->ev->len);
		done += e->ev->len;
	}
	return (done > 0 ? done : outq_peek(q, buf, len));
}

size_t
outq_consume(struct outq *q, size_t n)
{
	return (outq_consume_count(q, n, NULL, 0));
}

size_t
outq_consume_count(struct outq *q, size_t n, uint64_t *by_class,
    size_t nclasses)
{
	unsigned	 cls;
	struct outq_ent	*e;
	size_t		 rem, events = 0;

	assert(n <= q->bytes);
	q->pinned = q->pinned > n ? q->pinned - n : 0;
	q->bytes -= n;
	while (n > 0 && q->n > 0) {
		e = outq_slot(q, 0);
		rem = e->ev->len - q->head_off;
		if (n < rem) {
			q->head_off += n;
			break;
		}
		n -= rem;
		cls = (e->flags >> OUTQ_CLASS_SHIFT) & (OUTQ_CLASSES - 1);
		if (cls < nclasses)
			by_class[cls]++;
		if (OUTQ_IS_URGENT(e->flags))
			q->nurgent--;
		evbuf_unref(e->ev);
		e->ev = NULL;
		q->head_off = 0;
		q->head = (q->head + 1) & (q->cap - 1);
		q->n--;
		events++;
		outq_pop_holes(q);
	}
	if (events > 0 && q->n > 0 && events >= q->n)
		outq_bloom_rebuild(q);
	return (events);
}

void
outq_pin(struct outq *q, size_t n)
{
	assert(n <= q->bytes);
	if (n > q->pinned)
		q->pinned = n;
}

size_t
outq_free(struct outq *q)
{
	struct outq_ent	*e;
	size_t		 live = 0;
	uint32_t	 i;

	for (i = 0; i < q->n; i++) {
		e = outq_slot(q, i);
		if (e->ev != NULL) {
			evbuf_unref(e->ev);
			live++;
		}
	}
	outq_mem_bytes -= q->cap * sizeof(*q->ring);
	free(q->ring);
	q->ring = NULL;
	q->cap = q->head = q->n = q->ndead = q->nurgent = 0;
	q->bytes = q->head_off = q->pinned = 0;
	memset(q->sa_keys, 0, sizeof(q->sa_keys));
	return (live);
}
