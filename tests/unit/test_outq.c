/*
 * Unit tests for worker/outq.c: shared event buffers, the per-session output
 * queue (order, coalescing into a staging buffer, partial writes, the pinned
 * bytes of a TLS write to retry), the bound, the supersede policy and the
 * ring's growth, wrap-around and compaction.  No sockets: the "writer" here
 * is a byte sink that accepts whatever it is told to.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "worker/outq.h"

#define STAGE		16384

/* An event of len bytes whose content tells which one it is. */
static struct evbuf *
mkev(unsigned tag, size_t len)
{
	struct evbuf	*ev;
	uint8_t		*b;
	size_t		 i;

	b = malloc(len);
	assert_non_null(b);
	for (i = 0; i < len; i++)
		b[i] = (uint8_t)('A' + (tag + i) % 26);
	if (len >= 4)
		snprintf((char *)b, 4, "%03u", tag % 1000);
	ev = evbuf_new(b, len);
	free(b);
	assert_non_null(ev);
	return (ev);
}

/* Push and drop the caller's reference. */
static enum outq_res
push1(struct outq *q, unsigned tag, size_t len, uint32_t flags, uint64_t key,
    size_t *sup)
{
	struct evbuf	*ev = mkev(tag, len);
	enum outq_res	 r;

	r = outq_push(q, ev, flags, key, sup);
	evbuf_unref(ev);
	return (r);
}

/* Drain everything through a staging buffer; returns the bytes. */
static size_t
drain(struct outq *q, uint8_t *out, size_t cap)
{
	uint8_t	 stage[STAGE];
	size_t	 n, total = 0;

	while ((n = outq_peek(q, stage, sizeof(stage))) > 0) {
		assert_true(total + n <= cap);
		memcpy(out + total, stage, n);
		total += n;
		outq_consume(q, n);
	}
	assert_int_equal(outq_bytes(q), 0);
	assert_int_equal(outq_events(q), 0);
	return (total);
}

/* The tags of the events in a drained stream of fixed-size events. */
static void
expect_tags(const uint8_t *b, size_t len, size_t evlen, const unsigned *tags,
    size_t ntags)
{
	char	 want[4];
	size_t	 i;

	assert_int_equal(len, evlen * ntags);
	for (i = 0; i < ntags; i++) {
		snprintf(want, sizeof(want), "%03u", tags[i] % 1000);
		assert_memory_equal(b + i * evlen, want, 3);
	}
}

static void
test_evbuf(void **state)
{
	struct evbuf	*ev;

	ev = evbuf_new("abc", 3);
	assert_non_null(ev);
	assert_int_equal(ev->refs, 1);
	assert_int_equal(ev->len, 3);
	assert_memory_equal(ev->data, "abc", 3);
	assert_ptr_equal(evbuf_ref(ev), ev);
	assert_int_equal(ev->refs, 2);
	evbuf_unref(ev);
	assert_int_equal(ev->refs, 1);
	evbuf_unref(ev);		/* freed: ASan checks */
	evbuf_unref(NULL);

	errno = 0;
	assert_null(evbuf_new("", 0));
	assert_int_equal(errno, EINVAL);
}

/*
 * outq_mem(): an evbuf counts once however many queues hold it, rings
 * count as they grow, and everything comes back when it is all gone.
 */
static void
test_mem(void **state)
{
	struct outq	 a, b;
	struct evbuf	*ev;
	size_t		 base = outq_mem(), one;
	int		 i;

	ev = mkev(1, 1000);
	one = outq_mem() - base;
	assert_int_equal(one, sizeof(struct evbuf) + 1000);
	outq_init(&a, 0);
	outq_init(&b, 0);
	assert_int_equal(outq_push(&a, ev, 0, 0, NULL), OUTQ_OK);
	assert_int_equal(outq_push(&b, ev, 0, 0, NULL), OUTQ_OK);
	evbuf_unref(ev);
	/* One event, two rings of 16 slots. */
	assert_int_equal(outq_mem() - base, one + 2 * 16 *
	    sizeof(struct outq_ent));
	for (i = 0; i < 20; i++)
		assert_int_equal(push1(&a, (unsigned)i, 10, 0, 0, NULL),
		    OUTQ_OK);
	assert_int_equal(outq_mem() - base, one + 20 * (sizeof(struct evbuf) +
	    10) + (32 + 16) * sizeof(struct outq_ent));
	/* Written by a, still held by b. */
	assert_int_equal(outq_consume(&a, outq_bytes(&a)), 21);
	assert_int_equal(outq_mem() - base, one + (32 + 16) *
	    sizeof(struct outq_ent));
	assert_int_equal(outq_free(&b), 1);
	assert_int_equal(outq_free(&a), 0);
	assert_int_equal(outq_mem(), base);
}

static void
test_fifo_coalesce(void **state)
{
	struct outq	 q;
	uint8_t		 stage[STAGE], out[4096];
	unsigned	 tags[10], i;
	size_t		 n;

	outq_init(&q, 0);
	assert_int_equal(q.max, OUTQ_MIN_MAX);
	assert_int_equal(outq_peek(&q, stage, sizeof(stage)), 0);
	for (i = 0; i < 10; i++) {
		assert_int_equal(push1(&q, i, 100, 0, 0, NULL), OUTQ_OK);
		tags[i] = i;
	}
	assert_int_equal(outq_bytes(&q), 1000);
	assert_int_equal(outq_events(&q), 10);
	/* Ten events in one staging copy, in order. */
	n = outq_peek(&q, stage, sizeof(stage));
	assert_int_equal(n, 1000);
	expect_tags(stage, n, 100, tags, 10);
	/* Peeking does not consume. */
	assert_int_equal(outq_peek(&q, out, sizeof(out)), 1000);
	assert_memory_equal(out, stage, 1000);
	assert_int_equal(outq_consume(&q, 1000), 10);
	assert_int_equal(outq_bytes(&q), 0);
	assert_int_equal(outq_free(&q), 0);
}

static void
test_partial_writes(void **state)
{
	struct outq	 q;
	uint8_t		 stage[STAGE], out[1024];
	size_t		 got = 0, n;
	unsigned	 tags[3] = { 1, 2, 3 };

	outq_init(&q, 0);
	push1(&q, 1, 100, 0, 0, NULL);
	push1(&q, 2, 100, 0, 0, NULL);
	push1(&q, 3, 100, 0, 0, NULL);
	/* A writer that takes 70 bytes at a time. */
	while ((n = outq_peek(&q, stage, 70)) > 0) {
		assert_true(n <= 70);
		memcpy(out + got, stage, n);
		got += n;
		/* 70 bytes end inside the first event: none complete yet. */
		if (got == 70)
			assert_int_equal(outq_consume(&q, n), 0);
		else
			outq_consume(&q, n);
	}
	expect_tags(out, got, 100, tags, 3);
	/* The socket took 150 of 300 staged bytes: 1.5 events. */
	push1(&q, 4, 100, 0, 0, NULL);
	push1(&q, 5, 100, 0, 0, NULL);
	push1(&q, 6, 100, 0, 0, NULL);
	assert_int_equal(outq_peek(&q, stage, sizeof(stage)), 300);
	assert_int_equal(outq_consume(&q, 150), 1);
	assert_int_equal(outq_bytes(&q), 150);
	assert_int_equal(outq_events(&q), 2);
	n = outq_peek(&q, stage, sizeof(stage));
	assert_int_equal(n, 150);
	/* The rest of event 5 first, then event 6 whole. */
	assert_memory_equal(stage + 50, "006", 3);
	assert_int_equal(outq_consume(&q, 150), 2);
	outq_free(&q);
}

static void
test_bound(void **state)
{
	struct outq	 q;
	size_t		 max = OUTQ_MIN_MAX, i, sup;

	outq_init(&q, max);
	for (i = 0; i < max / 1024; i++)
		assert_int_equal(push1(&q, (unsigned)i, 1024, 0, 0, &sup),
		    OUTQ_OK);
	assert_int_equal(outq_bytes(&q), max);
	/* Exactly at the bound: one more byte does not fit. */
	assert_int_equal(push1(&q, 999, 1, 0, 0, &sup), OUTQ_FULL);
	assert_int_equal(sup, 0);
	assert_int_equal(outq_bytes(&q), max);
	assert_int_equal(outq_events(&q), max / 1024);
	/* Writing makes room again. */
	outq_consume(&q, 1024);
	assert_int_equal(push1(&q, 998, 1024, 0, 0, &sup), OUTQ_OK);
	assert_int_equal(push1(&q, 997, 1, 0, 0, &sup), OUTQ_FULL);
	assert_int_equal(outq_free(&q), max / 1024);
	assert_int_equal(outq_bytes(&q), 0);
	/* Usable again after outq_free(). */
	assert_int_equal(push1(&q, 1, 10, 0, 0, NULL), OUTQ_OK);
	assert_int_equal(outq_free(&q), 1);
}

static void
test_supersede(void **state)
{
	struct outq	 q;
	uint8_t		 out[OUTQ_MIN_MAX];
	size_t		 sup, n;
	unsigned	 i;
	const uint64_t	 ka = 0xa, kb = 0xb;

	outq_init(&q, OUTQ_MIN_MAX);	/* 64 KiB: half is 32 KiB */
	/* Below half: SA of the same uid pile up, nothing is dropped. */
	for (i = 0; i < 20; i++) {
		assert_int_equal(push1(&q, 100 + i, 1000, OUTQ_F_SA,
		    i % 2 ? kb : ka, &sup), OUTQ_OK);
		assert_int_equal(sup, 0);
	}
	/* A chat (not SA) and more padding up to just below half. */
	push1(&q, 500, 1000, 0, ka, &sup);
	for (i = 0; i < 11; i++)
		push1(&q, 600 + i, 1000, 0, 0, &sup);
	assert_int_equal(outq_bytes(&q), 32000);
	/* Past half: a new SA of uid A drops the 10 queued SA of A only. */
	assert_int_equal(push1(&q, 900, 1000, OUTQ_F_SA, ka, &sup), OUTQ_OK);
	assert_int_equal(sup, 10);
	assert_int_equal(outq_events(&q), 33 - 10);
	assert_int_equal(outq_bytes(&q), 23000);
	/* The next SA of A is under half again: it is kept beside 900. */
	assert_int_equal(push1(&q, 901, 1000, OUTQ_F_SA, ka, &sup), OUTQ_OK);
	assert_int_equal(sup, 0);

	/* Order of what is left: B's SA, the chat, padding, 900, 901. */
	n = drain(&q, out, sizeof(out));
	assert_int_equal(n, 24000);
	for (i = 0; i < 10; i++) {
		char	 want[4];

		snprintf(want, sizeof(want), "%03u", 101 + 2 * i);
		assert_memory_equal(out + i * 1000, want, 3);
	}
	assert_memory_equal(out + 10000, "500", 3);
	assert_memory_equal(out + 11000, "600", 3);
	assert_memory_equal(out + 22000, "900", 3);
	assert_memory_equal(out + 23000, "901", 3);
	outq_free(&q);
}

/*
 * A TLS write that would block keeps its bytes: the retry must resend them,
 * so supersede may not drop what was staged for it, nor a head entry that
 * is partly written.
 */
static void
test_supersede_pinned(void **state)
{
	struct outq	 q;
	uint8_t		 stage[STAGE], retry[STAGE];
	size_t		 sup, n, m;
	unsigned	 i;

	outq_init(&q, OUTQ_MIN_MAX);
	for (i = 0; i < 40; i++)
		push1(&q, i, 1000, OUTQ_F_SA, 7, NULL);
	/* (Below half for the first 32, then each push drops older ones.) */
	assert_true(outq_bytes(&q) <= OUTQ_MIN_MAX / 2 + 1000);
	outq_free(&q);

	outq_init(&q, OUTQ_MIN_MAX);
	for (i = 0; i < 30; i++)
		push1(&q, i, 1000, OUTQ_F_SA, 7, NULL);
	/* A write of 16 KiB staged, and blocked. */
	n = outq_peek(&q, stage, 16000);
	assert_int_equal(n, 16000);
	outq_pin(&q, n);
	/* More SA of the same uid arrive, past half. */
	for (i = 30; i < 40; i++)
		assert_int_equal(push1(&q, i, 1000, OUTQ_F_SA, 7, &sup),
		    OUTQ_OK);
	/*
	 * The 16 pinned entries stay; the 16 unpinned older ones were
	 * superseded by the first push past half (32), and 32..39 remain.
	 */
	m = outq_peek(&q, retry, sizeof(retry));
	assert_true(m >= n);
	assert_memory_equal(retry, stage, n);
	assert_int_equal(outq_events(&q), 16 + 8);
	/* The retry went through: the pin is released with it. */
	assert_int_equal(outq_consume(&q, n), 16);
	assert_int_equal(q.pinned, 0);
	assert_int_equal(outq_events(&q), 8);
	n = outq_peek(&q, stage, sizeof(stage));
	assert_int_equal(n, 8000);
	assert_memory_equal(stage, "032", 3);
	assert_memory_equal(stage + 7000, "039", 3);
	outq_consume(&q, n);

	/* A partly written head is never dropped. */
	push1(&q, 100, 1000, OUTQ_F_SA, 9, NULL);
	for (i = 0; i < 32; i++)
		push1(&q, 300 + i, 1000, 0, 0, NULL);
	outq_peek(&q, stage, 500);
	outq_consume(&q, 500);
	assert_int_equal(push1(&q, 200, 1000, OUTQ_F_SA, 9, &sup), OUTQ_OK);
	assert_int_equal(sup, 0);
	assert_int_equal(outq_events(&q), 34);
	/* A whole SA is dropped, though, once the head moved on. */
	outq_consume(&q, 500);
	assert_int_equal(push1(&q, 201, 1000, OUTQ_F_SA, 9, &sup), OUTQ_OK);
	assert_int_equal(sup, 1);
	assert_int_equal(outq_events(&q), 33);
	outq_free(&q);
}

/*
 * [cot] sa_flush_delay: SA entries pushed with OUTQ_F_COALESCE supersede
 * the queued SA of their uid at any fill, so the queue holds the latest
 * position of each uid; other entries keep their order, and what a write
 * is under way for (a partly written head, pinned bytes) stays.
 */
static void
test_coalesce(void **state)
{
	const uint32_t	 sa = OUTQ_F_SA | OUTQ_F_COALESCE;
	struct outq	 q;
	uint8_t		 out[OUTQ_MIN_MAX], stage[STAGE];
	size_t		 sup, n;
	unsigned	 i;
	static const unsigned want[] = { 500, 501, 104, 105, 502 };

	outq_init(&q, OUTQ_MIN_MAX);
	/* Far below half: SA of uids A and B, a chat between each pair. */
	for (i = 0; i < 6; i++) {
		assert_int_equal(push1(&q, 100 + i, 100, sa, i % 2 ? 0xb : 0xa,
		    &sup), OUTQ_OK);
		assert_int_equal(sup, i < 2 ? 0 : 1);
		if (i % 2 == 1)
			assert_int_equal(push1(&q, 500 + i / 2, 100, 0, 0xa,
			    &sup), OUTQ_OK);
	}
	/* The latest of A (104) and B (105) where they came, chats in order. */
	assert_int_equal(outq_events(&q), 5);
	n = drain(&q, out, sizeof(out));
	expect_tags(out, n, 100, want, 5);

	/* A partly written SA at the head is never dropped... */
	push1(&q, 200, 100, sa, 0xa, NULL);
	push1(&q, 201, 100, sa, 0xb, NULL);
	outq_peek(&q, stage, 50);
	outq_consume(&q, 50);
	assert_int_equal(push1(&q, 202, 100, sa, 0xa, &sup), OUTQ_OK);
	assert_int_equal(sup, 0);
	/* ...nor pinned bytes of a blocked write (201 is in them). */
	n = outq_peek(&q, stage, 150);
	outq_pin(&q, n);
	assert_int_equal(push1(&q, 203, 100, sa, 0xb, &sup), OUTQ_OK);
	assert_int_equal(sup, 0);
	assert_int_equal(outq_events(&q), 4);
	/* Once written, the next SA of A does drop 202. */
	assert_int_equal(outq_consume(&q, 150), 2);
	assert_int_equal(push1(&q, 204, 100, sa, 0xa, &sup), OUTQ_OK);
	assert_int_equal(sup, 1);
	n = drain(&q, out, sizeof(out));
	assert_int_equal(n, 200);
	assert_memory_equal(out, "203", 3);
	assert_memory_equal(out + 100, "204", 3);

	/* Without OUTQ_F_COALESCE, below half, nothing is superseded. */
	push1(&q, 300, 100, OUTQ_F_SA, 0xa, NULL);
	assert_int_equal(push1(&q, 301, 100, OUTQ_F_SA, 0xa, &sup), OUTQ_OK);
	assert_int_equal(sup, 0);
	assert_int_equal(outq_events(&q), 2);
	outq_free(&q);
}

/*
 * The latency class of a queue: SA alone may wait for their deadline;
 * anything else queued, or a write under way, makes it urgent.
 */
static void
test_urgent(void **state)
{
	const uint32_t	 sa = OUTQ_F_SA | OUTQ_F_COALESCE;
	struct outq	 q;
	uint8_t		 stage[STAGE];
	size_t		 n;

	outq_init(&q, OUTQ_MIN_MAX);
	assert_false(outq_urgent(&q));
	push1(&q, 1, 100, sa, 1, NULL);
	push1(&q, 2, 100, sa, 2, NULL);
	assert_false(outq_urgent(&q));
	/* A chat line behind the SA: urgent until it is written. */
	push1(&q, 3, 100, OUTQ_F_CLASS(1), 0, NULL);
	assert_true(outq_urgent(&q));
	push1(&q, 4, 100, sa, 1, NULL);	/* supersedes 1: still urgent */
	assert_true(outq_urgent(&q));
	n = outq_peek(&q, stage, 200);
	assert_int_equal(outq_consume(&q, n), 2);	/* 2 and 3 */
	assert_false(outq_urgent(&q));
	/* A partly written SA: its write must go on now. */
	outq_peek(&q, stage, 10);
	outq_consume(&q, 10);
	assert_true(outq_urgent(&q));
	outq_consume(&q, 90);
	assert_false(outq_urgent(&q));
	/* Pinned bytes of a blocked write, too. */
	push1(&q, 5, 100, sa, 5, NULL);
	n = outq_peek(&q, stage, sizeof(stage));
	outq_pin(&q, n);
	assert_true(outq_urgent(&q));
	outq_consume(&q, n);
	assert_false(outq_urgent(&q));
	assert_int_equal(outq_events(&q), 0);
	/* A directed position (OUTQ_F_URGENT) does not wait either... */
	push1(&q, 7, 100, OUTQ_F_SA | OUTQ_F_URGENT, 7, NULL);
	assert_true(outq_urgent(&q));
	/* ...but once superseded by a broadcast one it is gone. */
	push1(&q, 8, 100, sa, 7, &n);
	assert_int_equal(n, 1);
	assert_false(outq_urgent(&q));
	n = outq_peek(&q, stage, sizeof(stage));
	outq_consume(&q, n);
	/* A freed chat leaves no urgency behind. */
	push1(&q, 6, 100, 0, 0, NULL);
	assert_int_equal(outq_free(&q), 1);
	assert_false(outq_urgent(&q));
	outq_init(&q, OUTQ_MIN_MAX);
	assert_false(outq_urgent(&q));
	outq_free(&q);
}

/*
 * Whole entries only: as many as fit, never a cut one, unless the head
 * alone does not fit or a write is under way.
 */
static void
test_peek_whole(void **state)
{
	struct outq	 q;
	uint8_t		 stage[STAGE];
	unsigned	 i;

	outq_init(&q, OUTQ_MIN_MAX);
	for (i = 0; i < 5; i++)
		push1(&q, i, 6000, OUTQ_F_SA, i, NULL);
	/* Two of 6000 fit in 16 KiB, the third would be cut. */
	assert_int_equal(outq_peek_whole(&q, stage, STAGE), 12000);
	assert_memory_equal(stage, "000", 3);
	assert_memory_equal(stage + 6000, "001", 3);
	assert_int_equal(outq_peek(&q, stage, STAGE), STAGE);
	/* A head that does not fit alone: as outq_peek(). */
	assert_int_equal(outq_peek_whole(&q, stage, 5000), 5000);
	/* A partly written head: the rest of it and on, as outq_peek(). */
	outq_consume(&q, 100);
	assert_int_equal(outq_peek_whole(&q, stage, STAGE), STAGE);
	assert_int_equal(outq_consume(&q, 5900), 1);
	assert_int_equal(outq_peek_whole(&q, stage, STAGE), 12000);
	assert_memory_equal(stage, "001", 3);
	/* Pinned bytes of a blocked write: at least those. */
	outq_pin(&q, 7000);
	assert_int_equal(outq_peek_whole(&q, stage, STAGE), STAGE);
	assert_int_equal(outq_consume(&q, 7000), 1);
	/* Then whole entries again once the cut one is out. */
	assert_int_equal(outq_consume(&q, 5000), 1);
	assert_int_equal(outq_peek_whole(&q, stage, STAGE), 12000);
	assert_memory_equal(stage, "003", 3);
	assert_memory_equal(stage + 6000, "004", 3);
	assert_int_equal(outq_free(&q), 2);
}

/* Each entry keeps its stamp; the head's is the oldest unwritten one. */
static void
test_head_at(void **state)
{
	const uint32_t	 sa = OUTQ_F_SA | OUTQ_F_COALESCE;
	struct outq	 q;
	struct evbuf	*ev;
	uint8_t		 stage[STAGE];
	size_t		 sup;

	outq_init(&q, OUTQ_MIN_MAX);
	ev = mkev(1, 100);
	assert_int_equal(outq_push_at(&q, ev, sa, 0xa, 1000, &sup), OUTQ_OK);
	assert_int_equal(outq_push_at(&q, ev, sa, 0xb, 1040, &sup), OUTQ_OK);
	assert_int_equal(outq_push_at(&q, ev, sa, 0xc, UINT32_MAX, &sup),
	    OUTQ_OK);
	assert_int_equal(outq_head_at(&q), 1000);
	/* Half of the first written: still the head. */
	outq_peek(&q, stage, 50);
	outq_consume(&q, 50);
	assert_int_equal(outq_head_at(&q), 1000);
	outq_consume(&q, 50);
	assert_int_equal(outq_head_at(&q), 1040);
	/* 0xb superseded: the head is the next live entry. */
	assert_int_equal(outq_push_at(&q, ev, sa, 0xb, 1100, &sup), OUTQ_OK);
	assert_int_equal(sup, 1);
	assert_int_equal(outq_head_at(&q), UINT32_MAX);
	evbuf_unref(ev);
	assert_int_equal(outq_free(&q), 2);
	assert_int_equal(outq_head_at(&q), 0);
}

/*
 * Many uids in one queue, past what the queue's key filter tells apart:
 * every newer SA still finds the one it supersedes, and a new uid none.
 */
static void
test_supersede_many(void **state)
{
	const uint32_t	 sa = OUTQ_F_SA | OUTQ_F_COALESCE;
	struct outq	 q;
	char		 uid[32];
	size_t		 sup;
	unsigned	 i, round;

	outq_hash_seed(0x5eed);
	outq_init(&q, (size_t)1 << 20);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < 400; i++) {
			snprintf(uid, sizeof(uid), "uid-%u", i);
			assert_int_equal(push1(&q, round * 400 + i, 100, sa,
			    outq_hash(uid), &sup), OUTQ_OK);
			assert_int_equal(sup, round);
		}
		assert_int_equal(outq_events(&q), 400);
	}
	assert_int_equal(push1(&q, 999, 100, sa, outq_hash("uid-new"), &sup),
	    OUTQ_OK);
	assert_int_equal(sup, 0);
	/*
	 * A write of 300 entries, 101 left (the filter is made again from
	 * them): the uids left still find theirs, those written none.
	 */
	assert_int_equal(outq_consume(&q, 300 * 100), 300);
	for (i = 0; i < 400; i++) {
		snprintf(uid, sizeof(uid), "uid-%u", i);
		assert_int_equal(push1(&q, 800 + i, 100, sa, outq_hash(uid),
		    &sup), OUTQ_OK);
		assert_int_equal(sup, i >= 300 ? 1 : 0);
	}
	assert_int_equal(outq_free(&q), 401);
	outq_hash_seed(0);
}

/* A stalled consumer fed with SA of a few uids: the ring stays short. */
static void
test_compaction(void **state)
{
	struct outq	 q;
	uint8_t		*out;
	size_t		 n, i;

	outq_init(&q, OUTQ_MIN_MAX);
	for (i = 0; i < 40; i++)
		push1(&q, (unsigned)i, 1000, 0, 0, NULL);
	for (i = 0; i < 100000; i++)
		assert_int_equal(push1(&q, (unsigned)i, 100, OUTQ_F_SA,
		    i % 3, NULL), OUTQ_OK);
	assert_int_equal(outq_events(&q), 40 + 3);
	assert_true(q.cap <= 256);
	out = malloc(OUTQ_MIN_MAX);
	assert_non_null(out);
	n = drain(&q, out, OUTQ_MIN_MAX);
	assert_int_equal(n, 40 * 1000 + 300);
	/* The newest of each uid, in the order they came. */
	assert_memory_equal(out + 40000, "997", 3);
	assert_memory_equal(out + 40100, "998", 3);
	assert_memory_equal(out + 40200, "999", 3);
	/* A small ring is kept for the next events. */
	assert_non_null(q.ring);
	assert_true(q.cap <= 256);
	/* An empty large one is given back. */
	for (i = 0; i < 1000; i++)
		push1(&q, (unsigned)i, 10, 0, 0, NULL);
	assert_true(q.cap >= 1000);
	n = drain(&q, out, OUTQ_MIN_MAX);
	assert_int_equal(n, 10000);
	assert_null(q.ring);
	assert_int_equal(q.cap, 0);
	free(out);
	outq_free(&q);
}

/*
 * Random pushes and random partial writes through a small ring: the bytes
 * that come out are exactly those that went in, in order.
 */
static void
test_random_stream(void **state)
{
	struct outq	 q;
	uint8_t		*in, *out, stage[STAGE];
	size_t		 inlen = 0, outlen = 0, len, n, take, cap = 1 << 22;
	unsigned	 seed = 12345, round, j;
	struct evbuf	*ev;

	in = malloc(cap);
	out = malloc(cap);
	assert_non_null(in);
	assert_non_null(out);
	for (n = 0; n < cap; n++)
		in[n] = (uint8_t)(rand_r(&seed) & 0xff);
	outq_init(&q, 256 * 1024);
	for (round = 0; round < 3000; round++) {
		/* A burst of events of 1 B .. 4 KiB. */
		for (j = rand_r(&seed) % 20; j > 0; j--) {
			len = 1 + rand_r(&seed) % 4096;
			if (inlen + len > cap)
				break;
			ev = evbuf_new(in + inlen, len);
			assert_non_null(ev);
			if (outq_push(&q, ev, 0, 0, NULL) == OUTQ_OK)
				inlen += len;
			evbuf_unref(ev);
		}
		/* A socket that takes some of what was staged. */
		n = outq_peek(&q, stage, 1 + rand_r(&seed) % sizeof(stage));
		if (n == 0)
			continue;
		take = rand_r(&seed) % 4 == 0 ? 0 : 1 + rand_r(&seed) % n;
		memcpy(out + outlen, stage, take);
		outlen += take;
		outq_consume(&q, take);
	}
	outlen += drain(&q, out + outlen, cap - outlen);
	assert_int_equal(outlen, inlen);
	assert_memory_equal(out, in, inlen);
	free(in);
	free(out);
	outq_free(&q);
}

static void
test_hash(void **state)
{
	uint64_t	 a, b;

	outq_hash_seed(1);
	a = outq_hash("ANDROID-1");
	assert_int_equal(a, outq_hash("ANDROID-1"));
	assert_int_not_equal(a, outq_hash("ANDROID-2"));
	assert_int_not_equal(outq_hash(""), outq_hash("\x01"));
	outq_hash_seed(2);
	b = outq_hash("ANDROID-1");
	assert_int_not_equal(a, b);
	outq_hash_seed(0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evbuf),
		cmocka_unit_test(test_mem),
		cmocka_unit_test(test_fifo_coalesce),
		cmocka_unit_test(test_partial_writes),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_supersede),
		cmocka_unit_test(test_supersede_pinned),
		cmocka_unit_test(test_coalesce),
		cmocka_unit_test(test_urgent),
		cmocka_unit_test(test_supersede_many),
		cmocka_unit_test(test_head_at),
		cmocka_unit_test(test_peek_whole),
		cmocka_unit_test(test_compaction),
		cmocka_unit_test(test_random_stream),
		cmocka_unit_test(test_hash),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
