/*
 * A session's output queue: references to shared event buffers (struct evbuf,
 * deliver.h) waiting to be written, in order, with a bound in bytes and the
 * slow-consumer policy.  Pure: no sockets, no clock, no globals but the hash
 * seed and a count of the bytes allocated, so it is unit tested on its own
 * (tests/unit/test_outq.c).  See docs/datapath.md.
 *
 * Writing: outq_peek() copies the bytes at the head into the caller's staging
 * buffer (several events coalesced), the caller writes them, then reports
 * what was written with outq_consume().  A TLS write that failed with
 * WANT_READ/WANT_WRITE must be retried with the same leading bytes: the
 * caller says so with outq_pin(), and the queue then keeps those bytes out of
 * reach of the supersede policy until they are consumed.
 *
 * Policy, applied by outq_push():
 * - past half the bound, or always with OUTQ_F_COALESCE, a new SA entry
 *   (OUTQ_F_SA) drops the queued SA entries with the same key (the sender
 *   uid's hash): they are superseded ([cot] sa_flush_delay holds SA-only
 *   queues back, so that a recipient gets each uid's latest position);
 * - an entry that would take the queue past the bound is refused
 *   (OUTQ_FULL): the caller disconnects the slow consumer.
 */
#ifndef TAKD_WORKER_OUTQ_H
#define TAKD_WORKER_OUTQ_H

#include <stddef.h>
#include <stdint.h>

#include "worker/deliver.h"

#define OUTQ_MAGIC		0x4f555451u	/* "OUTQ" */

/* Default bound of one session's queue, until [cot] max_queue_bytes exists. */
#define OUTQ_DEFAULT_MAX	((size_t)1 << 20)
#define OUTQ_MIN_MAX		((size_t)64 << 10)

#define OUTQ_F_SA		0x1	/* newer SA of the same key supersedes it */
#define OUTQ_F_COALESCE		0x2	/* supersede whatever the queue's fill */
#define OUTQ_F_URGENT		0x4	/* an SA that may not wait (directed) */
/*
 * A class of the caller's (bits 8-11 of the flags), for counting what was
 * written by class (outq_consume_count).
 */
#define OUTQ_CLASSES		16
#define OUTQ_CLASS_SHIFT	8
#define OUTQ_F_CLASS(c)		(((uint32_t)(c) & 0xfu) << OUTQ_CLASS_SHIFT)

#define OUTQ_BLOOM_WORDS	4
#define OUTQ_BLOOM_BITS		(OUTQ_BLOOM_WORDS * 64)

struct outq_ent {
	struct evbuf	*ev;		/* NULL: dropped, skipped when written */
	uint64_t	 key;		/* uid hash of an SA entry */
	uint32_t	 flags;
	uint32_t	 at;		/* the caller's clock at push (ms) */
};

/* Fields are private to outq.c; embed the struct, do not touch them. */
struct outq {
	unsigned	 magic;
	struct outq_ent	*ring;
	uint32_t	 cap;		/* slots, a power of two, or 0 */
	uint32_t	 head;		/* slot of the oldest entry */
	uint32_t	 n;		/* entries, dropped ones included */
	uint32_t	 ndead;		/* dropped entries still in the ring */
	uint32_t	 nurgent;	/* live entries not SA, or OUTQ_F_URGENT */
	size_t		 bytes;		/* unwritten bytes of live entries */
	size_t		 head_off;	/* bytes of the head entry written */
	size_t		 pinned;	/* leading bytes a retry must resend */
	size_t		 max;		/* the bound in bytes */
	/*
	 * A Bloom filter of the keys of the SA entries queued since the
	 * queue was last empty (OUTQ_BLOOM_BITS, two bits a key): a push
	 * whose key is not in it has nothing to supersede and skips the walk.
	 */
	uint64_t	 sa_keys[OUTQ_BLOOM_WORDS];
};

enum outq_res {
	OUTQ_OK,
	OUTQ_FULL,		/* past the bound: disconnect the consumer */
	OUTQ_NOMEM
};

/* An empty queue bounded at max bytes (at least OUTQ_MIN_MAX). */
void	 outq_init(struct outq *, size_t max);
/* Drop every entry and free the ring; returns how many live entries. */
size_t	 outq_free(struct outq *);

/*
 * Queue a reference to ev (taken here: the caller keeps its own).  flags
 * OUTQ_F_SA with key: see the policy above; *superseded (may be NULL) gets
 * the number of queued entries dropped for it.
 */
enum outq_res outq_push(struct outq *, struct evbuf *, uint32_t flags,
	    uint64_t key, size_t *superseded);
/*
 * The same, stamping the entry with the caller's clock at (milliseconds,
 * modulo 2^32; outq_push() stamps 0), which outq_head_at() gives back.
 */
enum outq_res outq_push_at(struct outq *, struct evbuf *, uint32_t flags,
	    uint64_t key, uint32_t at, size_t *superseded);
/* The stamp of the oldest live entry (a partly written one); 0 if none. */
uint32_t outq_head_at(const struct outq *);

/* Unwritten bytes, and live entries (a partly written one included). */
size_t	 outq_bytes(const struct outq *);
size_t	 outq_events(const struct outq *);
/*
 * Whether the queue must be written without waiting for an SA deadline:
 * an entry other than SA, or with OUTQ_F_URGENT, is queued, or a write is
 * under way (a partly written head, pinned bytes).
 */
int	 outq_urgent(const struct outq *);

/*
 * Copy up to len bytes from the head into buf (at least the pinned bytes:
 * len must be at least as large as in the call that was pinned).  Returns
 * the bytes copied, 0 when the queue is empty.
 */
size_t	 outq_peek(const struct outq *, uint8_t *buf, size_t len);
/*
 * The same, but only whole entries, as many as fit in len: what is left
 * starts with an entry not yet begun.  When the head does not fit (or a
 * partly written head, pinned bytes), as outq_peek().
 */
size_t	 outq_peek_whole(const struct outq *, uint8_t *buf, size_t len);
/*
 * n bytes from the head were written.  Returns how many entries were
 * written completely by it.
 */
size_t	 outq_consume(struct outq *, size_t n);
/*
 * The same, and add 1 to by_class[class] for every entry written completely
 * whose class is below nclasses.
 */
size_t	 outq_consume_count(struct outq *, size_t n, uint64_t *by_class,
	    size_t nclasses);
/* A write of the first n peeked bytes must be retried with the same bytes. */
void	 outq_pin(struct outq *, size_t n);

/*
 * Bytes allocated now for evbufs and queue rings, in the whole process (the
 * worker's memory budget): an evbuf counts once, however many queues hold
 * it.
 */
size_t	 outq_mem(void);

/* Seeded 64-bit hash of a NUL-terminated string (uid keys, index buckets). */
uint64_t outq_hash(const char *);
void	 outq_hash_seed(uint64_t);

#endif
