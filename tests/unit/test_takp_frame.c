/*
 * Unit tests for cot/takp_frame.c, the TAK protocol v1 stream framer:
 * varints (encode, decode, every prefix, hostile forms); a stream of
 * several frames (real TakMessages, empty ones, 1-, 2- and 3-byte lengths,
 * non-minimal headers, stray zeros) split at every offset and every pair
 * of offsets and fed a byte at a time; hostile lengths (max, max + 1,
 * 2^63, 2^64 - 1, an 11-byte varint, overflow in the 10th byte, 0x80
 * runs) refused at the byte that decides, before any payload is waited for
 * or allocated; bytes other than 0xBF where a frame must start; the bound
 * on stray zeros; a frame followed at once by garbage; partial frames and
 * their time; the buffer bound with a stream of maximal frames; trim;
 * linear cost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tests/unit/unit.h"

#include "cot/takp_frame.h"

#define MAX_FRAMES	4096
#define DEF_MAX		(64 * 1024)
#define BOUND(max)	((max) + TAKP_FRAME_HEADER_MAX + TAKP_FRAME_FEED_MAX)

/*
 * Real TakMessages, encoded by Python's protobuf (python3-protobuf 4.21,
 * from a .proto written from the field table of the protocol notes), not
 * by takd: a ping's cotEvent (type t-x-c-t, uid, how, times, point), and a
 * takControl {minProtoVersion 1, maxProtoVersion 1, contactUid}.
 */
static const uint8_t msg_ping[] = {
	0x12, 0x54, 0x0a, 0x07, 0x74, 0x2d, 0x78, 0x2d, 0x63, 0x2d, 0x74, 0x2a,
	0x1d, 0x41, 0x4e, 0x44, 0x52, 0x4f, 0x49, 0x44, 0x2d, 0x35, 0x66, 0x33,
	0x63, 0x39, 0x61, 0x31, 0x65, 0x37, 0x62, 0x32, 0x64, 0x34, 0x63, 0x36,
	0x30, 0x2d, 0x70, 0x69, 0x6e, 0x67, 0x30, 0x90, 0xd6, 0xad, 0xbb, 0xa0,
	0x34, 0x38, 0x90, 0xd6, 0xad, 0xbb, 0xa0, 0x34, 0x40, 0xa0, 0xa4, 0xae,
	0xbb, 0xa0, 0x34, 0x4a, 0x03, 0x6d, 0x2d, 0x67, 0x69, 0x00, 0x00, 0x00,
	0xe0, 0xcf, 0x12, 0x63, 0x41, 0x71, 0x00, 0x00, 0x00, 0xe0, 0xcf, 0x12,
	0x63, 0x41,
};
static const uint8_t msg_control[] = {
	0x0a, 0x1e, 0x08, 0x01, 0x10, 0x01, 0x1a, 0x18, 0x41, 0x4e, 0x44, 0x52,
	0x4f, 0x49, 0x44, 0x2d, 0x35, 0x66, 0x33, 0x63, 0x39, 0x61, 0x31, 0x65,
	0x37, 0x62, 0x32, 0x64, 0x34, 0x63, 0x36, 0x30,
};

/* What a run of the framer produced. */
struct result {
	size_t		 n;
	struct blob	 fr[MAX_FRAMES];
	const char	*err;		/* NULL: no error */
	char		 errcopy[TAKP_FRAME_ERR_MAX];
	uint64_t	 err_at;	/* its stream offset */
	size_t		 held;
	uint64_t	 zeros;
	size_t		 peak_alloc;
};

static struct blob
blob_new(void)
{
	struct blob	 b;

	b.len = 0;
	b.data = malloc(1);
	assert_non_null(b.data);
	b.data[0] = '\0';
	return (b);
}

static void
blob_cat(struct blob *b, const void *p, size_t n)
{
	b->data = realloc(b->data, b->len + n + 1);
	assert_non_null(b->data);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
blob_byte(struct blob *b, uint8_t c, size_t times)
{
	while (times-- > 0)
		blob_cat(b, &c, 1);
}

static struct blob
blob_of(const void *p, size_t n)
{
	struct blob	 b = blob_new();

	blob_cat(&b, p, n);
	return (b);
}

/* n bytes of a pattern that never repeats at a short period. */
static struct blob
payload_of(size_t n, unsigned seed)
{
	struct blob	 b;
	size_t		 i;

	b.len = n;
	b.data = malloc(n + 1);
	assert_non_null(b.data);
	for (i = 0; i < n; i++)
		b.data[i] = (char)(uint8_t)(i * 131 + seed * 7 + (i >> 8));
	b.data[n] = '\0';
	return (b);
}

/* A frame of p: 0xBF, its length in the fewest bytes, p. */
static void
frame_cat(struct blob *s, const struct blob *p)
{
	uint8_t	 h[TAKP_FRAME_HEADER_MAX];
	size_t	 n;

	n = takp_frame_header(h, p->len);
	blob_cat(s, h, n);
	blob_cat(s, p->data, p->len);
}

/* The same with the length in exactly width bytes (non-minimal). */
static void
frame_cat_wide(struct blob *s, const struct blob *p, size_t width)
{
	uint8_t	 h[TAKP_FRAME_HEADER_MAX];
	uint64_t v = p->len;
	size_t	 i;

	assert_true(width >= 1 && width <= TAKP_VARINT_MAX);
	h[0] = TAKP_FRAME_LEAD;
	for (i = 0; i < width; i++) {
		h[1 + i] = (uint8_t)(v & 0x7f);
		if (i + 1 < width)
			h[1 + i] |= 0x80;
		v >>= 7;
	}
	assert_int_equal(v, 0);
	blob_cat(s, h, 1 + width);
	blob_cat(s, p->data, p->len);
}

static void
result_free(struct result *r)
{
	size_t	 i;

	for (i = 0; i < r->n; i++)
		free(r->fr[i].data);
	memset(r, 0, sizeof(*r));
}

static void
blobs_free(struct blob *b, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(b[i].data);
}

static void
result_error(struct takp_framer *f, struct result *r, const char *why)
{
	assert_non_null(why);
	snprintf(r->errcopy, sizeof(r->errcopy), "%s", why);
	r->err = r->errcopy;
	r->err_at = takp_framer_error_offset(f);
}

static void
drain(struct takp_framer *f, struct result *r)
{
	const uint8_t	*msg;
	const char	*why = NULL;
	size_t		 len;
	int		 rc;

	while ((rc = takp_framer_next(f, &msg, &len, &why)) == 1) {
		assert_true(r->n < MAX_FRAMES);
		assert_non_null(msg);
		r->fr[r->n] = blob_of(msg, len);
		r->n++;
	}
	if (rc == -1)
		result_error(f, r, why);
}

/*
 * Feed data in pieces: cuts[] lists the offsets where a new feed starts
 * (ascending); with step > 0, every step bytes instead.  After every feed
 * the allocation must stay within the documented bound.
 */
static void
run(const void *bytes, size_t len, size_t max, const size_t *cuts,
    size_t ncuts, size_t step, struct result *r)
{
	const uint8_t		*data = bytes;
	struct takp_framer	 f;
	const char		*why = NULL;
	size_t			 at = 0, next, k = 0;

	memset(r, 0, sizeof(*r));
	assert_int_equal(takp_framer_init(&f, max), 0);
	while (at < len && r->err == NULL) {
		if (step > 0)
			next = at + step < len ? at + step : len;
		else
			next = k < ncuts ? cuts[k++] : len;
		if (next <= at)
			continue;
		if (takp_framer_feed(&f, data + at, next - at, (int64_t)at,
		    &why) == -1) {
			result_error(&f, r, why);
			break;
		}
		if (takp_framer_alloc(&f) > r->peak_alloc)
			r->peak_alloc = takp_framer_alloc(&f);
		if (r->peak_alloc > BOUND(max))
			fail_msg("buffer of %zu bytes, bound %zu",
			    r->peak_alloc, (size_t)BOUND(max));
		drain(&f, r);
		at = next;
	}
	r->held = takp_framer_held(&f, NULL);
	r->zeros = takp_framer_zeros(&f);
	takp_framer_free(&f);
}

static void
result_expect(const struct result *r, const struct blob *exp, size_t nexp,
    const char *err, const char *what)
{
	size_t	 i;

	if (r->n != nexp)
		fail_msg("%s: %zu frames, expected %zu (error %s)", what, r->n,
		    nexp, r->err ? r->err : "none");
	for (i = 0; i < nexp; i++)
		if (r->fr[i].len != exp[i].len || (exp[i].len > 0 &&
		    memcmp(r->fr[i].data, exp[i].data, exp[i].len) != 0))
			fail_msg("%s: frame %zu differs (%zu bytes, expected "
			    "%zu)", what, i, r->fr[i].len, exp[i].len);
	if (err == NULL && r->err != NULL)
		fail_msg("%s: unexpected error: %s", what, r->err);
	if (err != NULL && (r->err == NULL || strstr(r->err, err) == NULL))
		fail_msg("%s: error \"%s\", expected one with \"%s\"", what,
		    r->err ? r->err : "none", err);
}

/* Whether a cut run gave what the one-feed run gave. */
static void
result_same(const struct result *r, const struct blob *exp, size_t nexp,
    const char *err, const struct result *ref, const char *what)
{
	result_expect(r, exp, nexp, err, what);
	if (err == NULL) {
		if (r->held != ref->held)
			fail_msg("%s: %zu bytes held, %zu in one feed", what,
			    r->held, ref->held);
	} else if (r->err_at != ref->err_at || strcmp(r->err, ref->err) != 0)
		fail_msg("%s: error \"%s\" at %llu, \"%s\" at %llu in one "
		    "feed", what, r->err, (unsigned long long)r->err_at,
		    ref->err, (unsigned long long)ref->err_at);
	if (r->zeros != ref->zeros)
		fail_msg("%s: %llu zeros skipped, %llu in one feed", what,
		    (unsigned long long)r->zeros,
		    (unsigned long long)ref->zeros);
}

/*
 * The whole contract: the same frames, zeros and error at the same offset
 * whether the stream comes in one feed, in two feeds cut at any offset, in
 * three cut at any two (pairs: streams up to 400 bytes), or a byte at a
 * time.  Returns what stayed held after the single feed, or with an error
 * its stream offset.
 */
static size_t
check_all_splits(const struct blob *in, size_t max, const struct blob *exp,
    size_t nexp, const char *err)
{
	struct result	 ref, r;
	char		 what[64];
	size_t		 cut[2], ret;

	run(in->data, in->len, max, NULL, 0, 0, &ref);
	result_expect(&ref, exp, nexp, err, "one feed");
	for (cut[0] = 1; cut[0] < in->len; cut[0]++) {
		run(in->data, in->len, max, cut, 1, 0, &r);
		snprintf(what, sizeof(what), "cut at %zu", cut[0]);
		result_same(&r, exp, nexp, err, &ref, what);
		result_free(&r);
		if (in->len > 400)
			continue;
		for (cut[1] = cut[0] + 1; cut[1] < in->len; cut[1]++) {
			run(in->data, in->len, max, cut, 2, 0, &r);
			snprintf(what, sizeof(what), "cuts at %zu, %zu",
			    cut[0], cut[1]);
			result_same(&r, exp, nexp, err, &ref, what);
			result_free(&r);
		}
	}
	run(in->data, in->len, max, NULL, 0, 1, &r);
	result_same(&r, exp, nexp, err, &ref, "byte at a time");
	result_free(&r);
	ret = err == NULL ? ref.held : (size_t)ref.err_at;
	result_free(&ref);
	return (ret);
}

static void
test_varint(void **state)
{
	static const struct {
		uint64_t	 v;
		size_t		 n;
		uint8_t		 b[TAKP_VARINT_MAX];
	} known[] = {
		{ 0, 1, { 0x00 } },
		{ 1, 1, { 0x01 } },
		{ 127, 1, { 0x7f } },
		{ 128, 2, { 0x80, 0x01 } },
		{ 300, 2, { 0xac, 0x02 } },
		{ 16383, 2, { 0xff, 0x7f } },
		{ 16384, 3, { 0x80, 0x80, 0x01 } },
		{ 16 * 1024 * 1024, 4, { 0x80, 0x80, 0x80, 0x08 } },
		{ UINT32_MAX, 5, { 0xff, 0xff, 0xff, 0xff, 0x0f } },
		{ (uint64_t)1 << 63, 10, { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		    0x80, 0x80, 0x80, 0x01 } },
		{ UINT64_MAX, 10, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0xff, 0xff, 0x01 } },
	};
	uint8_t		 b[TAKP_VARINT_MAX], h[TAKP_FRAME_HEADER_MAX];
	uint64_t	 v;
	size_t		 i, k, n, used;
	const char	*why;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		memset(b, 0xee, sizeof(b));
		n = takp_varint_encode(b, known[i].v);
		assert_int_equal(n, known[i].n);
		assert_memory_equal(b, known[i].b, n);
		/* every proper prefix: more bytes needed */
		for (k = 0; k < n; k++)
			assert_int_equal(takp_varint_decode(b, k, &v, &used,
			    NULL), 0);
		v = 0xdead;
		assert_int_equal(takp_varint_decode(b, n, &v, &used, NULL), 1);
		assert_true(v == known[i].v);
		assert_int_equal(used, n);
		/* what follows is not read */
		assert_int_equal(takp_varint_decode(b, sizeof(b), &v, &used,
		    NULL), 1);
		assert_int_equal(used, n);
	}
	/* every power of two and its neighbours, both ways */
	for (i = 0; i < 64; i++)
		for (k = 0; k < 3; k++) {
			uint64_t x = ((uint64_t)1 << i) + k - 1;

			n = takp_varint_encode(b, x);
			assert_int_equal(n, x == 0 ? 1 : (size_t)(64 -
			    __builtin_clzll(x) + 6) / 7);
			assert_int_equal(takp_varint_decode(b, n, &v, &used,
			    NULL), 1);
			assert_true(v == x);
			assert_int_equal(used, n);
		}

	/* Non-minimal forms are accepted (as protobuf reads them). */
	memcpy(b, "\x80\x00", 2);
	assert_int_equal(takp_varint_decode(b, 2, &v, &used, NULL), 1);
	assert_true(v == 0 && used == 2);
	memset(b, 0x80, 9);
	b[9] = 0x00;
	assert_int_equal(takp_varint_decode(b, 10, &v, &used, NULL), 1);
	assert_true(v == 0 && used == 10);
	memcpy(b, "\x85\x80\x80\x00", 4);
	assert_int_equal(takp_varint_decode(b, 4, &v, &used, NULL), 1);
	assert_true(v == 5 && used == 4);

	/* Hostile: decided at the 10th byte, whatever follows. */
	memset(b, 0x80, sizeof(b));
	for (k = 0; k < 9; k++)
		assert_int_equal(takp_varint_decode(b, k + 1, &v, &used, NULL),
		    0);
	why = NULL;
	assert_int_equal(takp_varint_decode(b, 10, &v, &used, &why), -1);
	assert_int_equal(used, 9);
	assert_non_null(strstr(why, "longer than 10 bytes"));
	for (k = 0x02; k <= 0xff; k++) {
		memset(b, 0xff, 9);
		b[9] = (uint8_t)k;
		why = NULL;
		assert_int_equal(takp_varint_decode(b, 10, &v, &used, &why),
		    -1);
		assert_int_equal(used, 9);
		assert_non_null(strstr(why, (k & 0x80) ? "longer than 10" :
		    "overflows 64 bits"));
	}
	/* a NULL why is fine */
	assert_int_equal(takp_varint_decode(b, 10, &v, &used, NULL), -1);

	/* headers */
	assert_int_equal(takp_frame_header(h, 0), 2);
	assert_memory_equal(h, "\xbf\x00", 2);
	assert_int_equal(takp_frame_header(h, 127), 2);
	assert_memory_equal(h, "\xbf\x7f", 2);
	assert_int_equal(takp_frame_header(h, 128), 3);
	assert_memory_equal(h, "\xbf\x80\x01", 3);
	assert_int_equal(takp_frame_header(h, 65536), 4);
	assert_memory_equal(h, "\xbf\x80\x80\x04", 4);
	assert_int_equal(takp_frame_header(h, SIZE_MAX),
	    SIZE_MAX > UINT32_MAX ? TAKP_FRAME_HEADER_MAX : 6);
}

/*
 * The stream of several frames: real messages, empty ones, lengths of 1,
 * 2 and 3 bytes, non-minimal headers, the peer's zero after a frame.
 * Returns the payloads expected in exp[] and their number.
 */
static size_t
stream_several(struct blob *s, struct blob *exp, int big)
{
	size_t	 n = 0;

	*s = blob_new();
	exp[n] = blob_of(msg_control, sizeof(msg_control));
	frame_cat(s, &exp[n++]);
	exp[n] = blob_new();		/* an empty TakMessage */
	frame_cat(s, &exp[n++]);
	blob_byte(s, 0, 1);		/* the peer server's stray zero */
	exp[n] = blob_of(msg_ping, sizeof(msg_ping));
	frame_cat(s, &exp[n++]);
	blob_byte(s, 0, 1);
	exp[n] = payload_of(1, 1);
	frame_cat_wide(s, &exp[n++], 3);	/* non-minimal: 0x81 0x80 0x00 */
	exp[n] = blob_new();
	frame_cat_wide(s, &exp[n++], 10);	/* empty, 10-byte length */
	blob_byte(s, 0, TAKP_FRAME_ZEROS_MAX);
	exp[n] = payload_of(127, 2);
	frame_cat(s, &exp[n++]);
	if (big) {
		exp[n] = payload_of(128, 3);
		frame_cat(s, &exp[n++]);
		exp[n] = payload_of(300, 4);
		frame_cat(s, &exp[n++]);
		blob_byte(s, 0, 1);
		exp[n] = payload_of(20000, 5);	/* 3-byte length */
		frame_cat(s, &exp[n++]);
		exp[n] = blob_of(msg_ping, sizeof(msg_ping));
		frame_cat(s, &exp[n++]);
	}
	return (n);
}

static void
test_frames_every_split(void **state)
{
	struct blob	 s, exp[16];
	struct result	 r;
	size_t		 n;

	/* small: every single cut and every pair of cuts */
	n = stream_several(&s, exp, 0);
	assert_true(s.len <= 400);
	assert_int_equal(check_all_splits(&s, DEF_MAX, exp, n, NULL), 0);
	run(s.data, s.len, DEF_MAX, NULL, 0, 0, &r);
	assert_int_equal(r.zeros, 2 + TAKP_FRAME_ZEROS_MAX);
	result_free(&r);
	free(s.data);
	blobs_free(exp, n);

	/* with longer frames: every single cut */
	n = stream_several(&s, exp, 1);
	assert_int_equal(check_all_splits(&s, DEF_MAX, exp, n, NULL), 0);
	/* and in feeds of odd sizes */
	run(s.data, s.len, DEF_MAX, NULL, 0, 7, &r);
	result_expect(&r, exp, n, NULL, "7-byte feeds");
	result_free(&r);
	run(s.data, s.len, DEF_MAX, NULL, 0, TAKP_FRAME_FEED_MAX, &r);
	result_expect(&r, exp, n, NULL, "16 KiB feeds");
	result_free(&r);
	free(s.data);
	blobs_free(exp, n);
}

/* As many frames as one TLS record carries, all in one feed. */
static void
test_many_in_one_feed(void **state)
{
	struct blob	 s = blob_new(), exp[MAX_FRAMES];
	struct result	 r;
	size_t		 n = 0;

	while (s.len + 2 + sizeof(msg_ping) <= TAKP_FRAME_FEED_MAX) {
		exp[n] = blob_of(msg_ping, sizeof(msg_ping));
		frame_cat(&s, &exp[n++]);
	}
	assert_true(n > 150);
	run(s.data, s.len, DEF_MAX, NULL, 0, 0, &r);
	result_expect(&r, exp, n, NULL, "pings in one feed");
	assert_int_equal(r.held, 0);
	result_free(&r);
	free(s.data);
	blobs_free(exp, n);
}

/*
 * The cap: exactly max_event_bytes is a frame, one more is an error at
 * the varint's last byte, as soon as the header is complete: no byte of
 * the payload is waited for.
 */
static void
test_max_length(void **state)
{
	struct takp_framer f;
	struct blob	 p, s;
	const uint8_t	*msg;
	const char	*why;
	size_t		 max = 1024, len, hl;
	uint8_t		 h[TAKP_FRAME_HEADER_MAX];

	p = payload_of(max, 9);
	s = blob_new();
	frame_cat(&s, &p);
	check_all_splits(&s, max, &p, 1, NULL);
	free(s.data);
	/* and with a non-minimal 10-byte length */
	s = blob_new();
	frame_cat_wide(&s, &p, 10);
	check_all_splits(&s, max, &p, 1, NULL);
	free(s.data);
	free(p.data);

	p = payload_of(max + 1, 9);
	s = blob_new();
	frame_cat(&s, &p);
	/* BF 81 08: decided at offset 2 */
	assert_int_equal(check_all_splits(&s, max, NULL, 0,
	    "frame of 1025 bytes, larger than max_event_bytes (1024)"), 2);
	free(s.data);
	free(p.data);

	/*
	 * The header alone decides.  The largest cap, a header announcing
	 * it: a frame in progress, and the buffer holds the header only.
	 */
	hl = takp_frame_header(h, TAKP_FRAME_PAYLOAD_MAX);
	assert_int_equal(takp_framer_init(&f, TAKP_FRAME_PAYLOAD_MAX), 0);
	assert_int_equal(takp_framer_feed(&f, h, hl, 5, &why), 0);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 0);
	assert_int_equal(takp_framer_held(&f, NULL), hl);
	assert_true(takp_framer_alloc(&f) <= 2048);
	takp_framer_free(&f);
	/* one byte more: refused on the header, nothing else needed */
	hl = takp_frame_header(h, TAKP_FRAME_PAYLOAD_MAX + 1);
	assert_int_equal(takp_framer_init(&f, TAKP_FRAME_PAYLOAD_MAX), 0);
	assert_int_equal(takp_framer_feed(&f, h, hl, 5, &why), 0);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), -1);
	assert_non_null(strstr(why, "frame of 16777217 bytes"));
	assert_int_equal(takp_framer_error_offset(&f), hl - 1);
	assert_true(takp_framer_alloc(&f) <= 2048);
	takp_framer_free(&f);
}

/*
 * Hostile lengths, each refused at the byte that decides, alone and after
 * a good frame (which still comes out), however the stream is cut.
 */
static void
test_hostile_lengths(void **state)
{
	static const struct {
		const char	*what;
		uint8_t		 b[24];
		size_t		 n;
		const char	*err;
		size_t		 at;
	} cases[] = {
		{ "max + 1 (1024)", { 0xbf, 0x81, 0x08 }, 3,
		    "frame of 1025 bytes", 2 },
		{ "2^28", { 0xbf, 0x80, 0x80, 0x80, 0x80, 0x01 }, 6,
		    "frame of 268435456 bytes", 5 },
		{ "2^32 - 1", { 0xbf, 0xff, 0xff, 0xff, 0xff, 0x0f }, 6,
		    "frame of 4294967295 bytes", 5 },
		{ "2^63", { 0xbf, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		    0x80, 0x80, 0x01 }, 11,
		    "frame of 9223372036854775808 bytes", 10 },
		{ "2^64 - 1", { 0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0xff, 0xff, 0x01 }, 11,
		    "frame of 18446744073709551615 bytes", 10 },
		{ "overflow in the 10th byte", { 0xbf, 0xff, 0xff, 0xff, 0xff,
		    0xff, 0xff, 0xff, 0xff, 0xff, 0x02 }, 11,
		    "overflows 64 bits", 10 },
		{ "overflow, 10th byte 0x7F", { 0xbf, 0x80, 0x80, 0x80, 0x80,
		    0x80, 0x80, 0x80, 0x80, 0x80, 0x7f }, 11,
		    "overflows 64 bits", 10 },
		{ "11-byte varint", { 0xbf, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 12,
		    "longer than 10 bytes", 10 },
		{ "11-byte varint of 1", { 0xbf, 0x81, 0x80, 0x80, 0x80, 0x80,
		    0x80, 0x80, 0x80, 0x80, 0x80, 0x00 }, 12,
		    "longer than 10 bytes", 10 },
		{ "0x80 run of 20", { 0xbf, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		    0x80, 0x80, 0x80, 0x80 }, 21, "longer than 10 bytes", 10 },
	};
	struct blob	 in, good, exp;
	size_t		 i, got;

	good = blob_new();
	exp = blob_of(msg_ping, sizeof(msg_ping));
	frame_cat(&good, &exp);
	blob_byte(&good, 0, 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* and payload bytes after it, which never come out */
		in = blob_of(cases[i].b, cases[i].n);
		blob_byte(&in, 'p', 40);
		got = check_all_splits(&in, 1024, NULL, 0, cases[i].err);
		if (got != cases[i].at)
			fail_msg("%s: error at %zu, expected %zu",
			    cases[i].what, got, cases[i].at);
		free(in.data);
		in = blob_of(good.data, good.len);
		blob_cat(&in, cases[i].b, cases[i].n);
		got = check_all_splits(&in, 1024, &exp, 1, cases[i].err);
		if (got != good.len + cases[i].at)
			fail_msg("%s after a frame: error at %zu, expected %zu",
			    cases[i].what, got, good.len + cases[i].at);
		free(in.data);
	}
	/* A 0x80 run shorter than 10 is only an unfinished header. */
	in = blob_new();
	blob_byte(&in, TAKP_FRAME_LEAD, 1);
	blob_byte(&in, 0x80, 9);
	assert_int_equal(check_all_splits(&in, 1024, NULL, 0, NULL), 10);
	free(in.data);
	free(good.data);
	free(exp.data);
}

/*
 * A byte other than 0xBF (or a tolerated zero) where a frame must start:
 * an error at that byte, with the byte in the reason; frames before it
 * still come out.  Also a frame followed at once by garbage.
 */
static void
test_not_a_frame(void **state)
{
	static const struct {
		const char	*in;
		size_t		 n;
		const char	*err;
	} cases[] = {
		{ "<event uid=\"x\"/>", 16, "'<' (XML) where 0xBF" },
		{ "<?xml version=\"1.0\"?>", 21, "'<' (XML)" },
		{ "\x01\xbf\x00", 3, "0x01 where 0xBF must start one" },
		{ "\xbe\x00", 2, "0xBE where 0xBF" },
		{ "\xff", 1, "0xFF where 0xBF" },
		{ "\x16\x03\x01\x02\x00", 5, "0x16 where" },
		{ "\x0a\x1e\x08\x01", 4, "0x0A where" },	/* no header */
		{ " \xbf\x00", 3, "0x20 where" },
	};
	struct blob	 in, good, exp[2];
	size_t		 i;

	exp[0] = blob_of(msg_ping, sizeof(msg_ping));
	exp[1] = blob_of(msg_control, sizeof(msg_control));
	good = blob_new();
	frame_cat(&good, &exp[0]);
	frame_cat(&good, &exp[1]);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		in = blob_of(cases[i].in, cases[i].n);
		assert_int_equal(check_all_splits(&in, DEF_MAX, NULL, 0,
		    cases[i].err), 0);
		free(in.data);
		/* right after a frame, and after a frame and a zero */
		in = blob_of(good.data, good.len);
		blob_cat(&in, cases[i].in, cases[i].n);
		assert_int_equal(check_all_splits(&in, DEF_MAX, exp, 2,
		    cases[i].err), good.len);
		free(in.data);
		in = blob_of(good.data, good.len);
		blob_byte(&in, 0, 3);
		blob_cat(&in, cases[i].in, cases[i].n);
		assert_int_equal(check_all_splits(&in, DEF_MAX, exp, 2,
		    cases[i].err), good.len + 3);
		free(in.data);
	}
	/*
	 * A frame one byte shorter than its header says swallows the next
	 * frame's 0xBF; the byte after is no frame start.
	 */
	in = blob_new();
	blob_byte(&in, TAKP_FRAME_LEAD, 1);
	blob_byte(&in, sizeof(msg_control) + 1, 1);
	blob_cat(&in, msg_control, sizeof(msg_control));
	frame_cat(&in, &exp[0]);
	free(exp[1].data);
	exp[1] = blob_of(in.data + 2, sizeof(msg_control) + 1);
	/* 0x56: the ping's length, 86 */
	assert_int_equal(check_all_splits(&in, DEF_MAX, &exp[1], 1,
	    "0x56 where 0xBF"), 2 + sizeof(msg_control) + 1);
	free(in.data);
	free(good.data);
	blobs_free(exp, 2);
}

/*
 * Stray zeros: up to TAKP_FRAME_ZEROS_MAX in a row between frames and
 * before the first are skipped and counted, never held; one more is an
 * error at that zero.  The count starts again after each frame.
 */
static void
test_stray_zeros(void **state)
{
	struct takp_framer f;
	struct blob	 in, exp[3];
	struct result	 r;
	const uint8_t	*msg;
	const char	*why;
	size_t		 len;
	int64_t		 since;

	exp[0] = blob_of(msg_ping, sizeof(msg_ping));
	exp[1] = blob_of(msg_control, sizeof(msg_control));
	exp[2] = blob_new();

	/* The peer server's stream: one zero after every frame. */
	in = blob_new();
	frame_cat(&in, &exp[0]);
	blob_byte(&in, 0, 1);
	frame_cat(&in, &exp[1]);
	blob_byte(&in, 0, 1);
	frame_cat(&in, &exp[2]);
	blob_byte(&in, 0, 1);
	assert_int_equal(check_all_splits(&in, DEF_MAX, exp, 3, NULL), 0);
	run(in.data, in.len, DEF_MAX, NULL, 0, 0, &r);
	assert_int_equal(r.zeros, 3);
	result_free(&r);
	free(in.data);

	/* The most before the first frame, in every gap, and at the end. */
	in = blob_new();
	blob_byte(&in, 0, TAKP_FRAME_ZEROS_MAX);
	frame_cat(&in, &exp[0]);
	blob_byte(&in, 0, TAKP_FRAME_ZEROS_MAX);
	frame_cat(&in, &exp[1]);
	blob_byte(&in, 0, TAKP_FRAME_ZEROS_MAX);
	frame_cat(&in, &exp[2]);
	blob_byte(&in, 0, TAKP_FRAME_ZEROS_MAX);
	assert_int_equal(check_all_splits(&in, DEF_MAX, exp, 3, NULL), 0);
	run(in.data, in.len, DEF_MAX, NULL, 0, 0, &r);
	assert_int_equal(r.zeros, 4 * TAKP_FRAME_ZEROS_MAX);
	result_free(&r);
	/* one more at the end: the error is at that zero */
	blob_byte(&in, 0, 1);
	assert_int_equal(check_all_splits(&in, DEF_MAX, exp, 3,
	    "more than 8 zero bytes between"), in.len - 1);
	free(in.data);

	/* one more before the first frame, and in a middle gap */
	in = blob_new();
	blob_byte(&in, 0, TAKP_FRAME_ZEROS_MAX + 1);
	frame_cat(&in, &exp[0]);
	assert_int_equal(check_all_splits(&in, DEF_MAX, NULL, 0,
	    "more than 8 zero bytes"), TAKP_FRAME_ZEROS_MAX);
	free(in.data);
	in = blob_new();
	frame_cat(&in, &exp[0]);
	blob_byte(&in, 0, TAKP_FRAME_ZEROS_MAX + 1);
	frame_cat(&in, &exp[1]);
	assert_int_equal(check_all_splits(&in, DEF_MAX, exp, 1,
	    "more than 8 zero bytes"), 2 + sizeof(msg_ping) +
	    TAKP_FRAME_ZEROS_MAX);
	free(in.data);

	/* An endless run of zeros: refused at the 9th, whatever the cuts. */
	in = blob_new();
	blob_byte(&in, 0, 1000);
	assert_int_equal(check_all_splits(&in, DEF_MAX, NULL, 0,
	    "more than 8 zero bytes"), TAKP_FRAME_ZEROS_MAX);
	free(in.data);

	/*
	 * Empty frames between the zeros are frames (handed out, for the
	 * caller's budgets) and so start a new gap; zeros are never held.
	 */
	assert_int_equal(takp_framer_init(&f, DEF_MAX), 0);
	assert_int_equal(takp_framer_feed(&f, "\0\0\0", 3, 10, &why), 0);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 0);
	assert_int_equal(takp_framer_held(&f, &since), 0);
	assert_int_equal(since, 0);
	assert_int_equal(takp_framer_zeros(&f), 3);
	assert_int_equal(takp_framer_feed(&f, "\0\0\0\0\0\xbf\0\0", 8, 20,
	    &why), 0);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 1);
	assert_int_equal(len, 0);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 0);
	assert_int_equal(takp_framer_zeros(&f), 9);
	assert_int_equal(takp_framer_feed(&f, "\0\0\0\0\0\0\0", 7, 30, &why),
	    0);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 0);
	assert_int_equal(takp_framer_held(&f, NULL), 0);
	assert_int_equal(takp_framer_feed(&f, "\0", 1, 40, &why), 0);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), -1);
	assert_int_equal(takp_framer_error_offset(&f), 18);
	takp_framer_free(&f);
	blobs_free(exp, 3);
}

/* Errors are sticky: every later feed and next() gives the same one. */
static void
test_sticky(void **state)
{
	struct takp_framer f;
	const uint8_t	*msg;
	const char	*why, *first;
	uint8_t		 good[2 + sizeof(msg_control)];
	size_t		 len;

	assert_int_equal(takp_frame_header(good, sizeof(msg_control)), 2);
	memcpy(good + 2, msg_control, sizeof(msg_control));
	assert_int_equal(takp_framer_init(&f, DEF_MAX), 0);
	assert_int_equal(takp_framer_feed(&f, good, sizeof(good), 1, &why),
	    0);
	assert_int_equal(takp_framer_feed(&f, "x", 1, 2, &why), 0);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 1);
	assert_int_equal(len, sizeof(msg_control));
	assert_memory_equal(msg, msg_control, len);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), -1);
	first = why;
	assert_non_null(strstr(why, "0x78 where 0xBF"));
	assert_int_equal(takp_framer_error_offset(&f), sizeof(good));
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), -1);
	assert_ptr_equal(why, first);
	assert_int_equal(takp_framer_feed(&f, good, sizeof(good), 3, &why),
	    -1);
	assert_ptr_equal(why, first);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), -1);
	assert_int_equal(takp_framer_error_offset(&f), sizeof(good));
	takp_framer_free(&f);
}

/*
 * A partial frame is held, dated by the feed that brought its first byte:
 * the header in pieces, the payload in pieces, a frame that ends in a
 * feed which starts the next one.
 */
static void
test_held(void **state)
{
	struct takp_framer f;
	const uint8_t	*msg;
	const char	*why;
	uint8_t		 s[2 * (3 + 300)];
	size_t		 len, hl;
	int64_t		 since;
	struct blob	 p = payload_of(300, 7);

	hl = takp_frame_header(s, 300);
	assert_int_equal(hl, 3);
	memcpy(s + hl, p.data, 300);
	memcpy(s + hl + 300, s, hl + 300);

	assert_int_equal(takp_framer_init(&f, DEF_MAX), 0);
	assert_int_equal(takp_framer_held(&f, &since), 0);
	assert_int_equal(since, 0);
	/* 0xBF alone, then the length's first byte: held since 1000 */
	assert_int_equal(takp_framer_feed(&f, s, 1, 1000, &why), 0);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 0);
	assert_int_equal(takp_framer_held(&f, &since), 1);
	assert_int_equal(since, 1000);
	assert_int_equal(takp_framer_feed(&f, s + 1, 1, 2000, &why), 0);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 0);
	assert_int_equal(takp_framer_held(&f, &since), 2);
	assert_int_equal(since, 1000);
	/* the rest of the header and some payload */
	assert_int_equal(takp_framer_feed(&f, s + 2, 100, 3000, &why), 0);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 0);
	assert_int_equal(takp_framer_held(&f, &since), 102);
	assert_int_equal(since, 1000);
	/* the end of the frame and the start of the next: since 4000 */
	assert_int_equal(takp_framer_feed(&f, s + 102, 303, 4000, &why), 0);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 1);
	assert_int_equal(len, 300);
	assert_memory_equal(msg, p.data, 300);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 0);
	assert_int_equal(takp_framer_held(&f, &since), 102);
	assert_int_equal(since, 4000);
	/* its end, then two zeros: nothing held */
	assert_int_equal(takp_framer_feed(&f, s + 405, 201, 5000, &why), 0);
	assert_int_equal(takp_framer_feed(&f, "\0\0", 2, 5001, &why), 0);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 1);
	assert_int_equal(len, 300);
	assert_memory_equal(msg, p.data, 300);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 0);
	assert_int_equal(takp_framer_held(&f, &since), 0);
	/* zeros then a frame's start in one feed: held since that feed */
	assert_int_equal(takp_framer_feed(&f, "\0\xbf\x80", 3, 6000, &why), 0);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 0);
	assert_int_equal(takp_framer_held(&f, &since), 2);
	assert_int_equal(since, 6000);
	/* an empty frame, non-minimal: handed out, nothing held */
	assert_int_equal(takp_framer_feed(&f, "\x00", 1, 7000, &why), 0);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 1);
	assert_int_equal(len, 0);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 0);
	assert_int_equal(takp_framer_held(&f, &since), 0);
	takp_framer_free(&f);
	free(p.data);
}

/*
 * The buffer bound: streams of maximal frames (with the longest header
 * too) in feeds of every size up to TAKP_FRAME_FEED_MAX never take the
 * buffer past max + TAKP_FRAME_HEADER_MAX + TAKP_FRAME_FEED_MAX (run()
 * checks after every feed), and every frame comes out.
 */
static void
test_buffer_bound(void **state)
{
	static const size_t maxes[] = { TAKP_FRAME_PAYLOAD_MIN, 4096, 65536,
	    100000 };
	static const size_t steps[] = { 1, 7, 4095, 16383, TAKP_FRAME_FEED_MAX };
	struct blob	 s, exp[8];
	struct result	 r;
	size_t		 m, k, i, n;

	for (m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
		s = blob_new();
		n = 0;
		for (i = 0; i < 6; i++) {
			exp[n] = payload_of(maxes[m], (unsigned)i);
			if (i % 2 == 0)
				frame_cat(&s, &exp[n++]);
			else
				frame_cat_wide(&s, &exp[n++], 10);
			if (i == 2)
				blob_byte(&s, 0, TAKP_FRAME_ZEROS_MAX);
		}
		for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			if (steps[k] == 1 && maxes[m] > 4096)
				continue;
			run(s.data, s.len, maxes[m], NULL, 0, steps[k], &r);
			result_expect(&r, exp, n, NULL, "maximal frames");
			assert_true(r.peak_alloc <= BOUND(maxes[m]));
			/* the frames need that much: no waste either way */
			assert_true(r.peak_alloc >= maxes[m]);
			result_free(&r);
		}
		free(s.data);
		blobs_free(exp, n);
	}
}

/*
 * takp_framer_trim() gives a big buffer back once nothing is held, keeps
 * it while something is; the stream goes on as if nothing happened.
 */
static void
test_trim(void **state)
{
	struct takp_framer f;
	const uint8_t	*msg;
	const char	*why;
	struct blob	 p = payload_of(40000, 3), s = blob_new();
	size_t		 len;

	frame_cat(&s, &p);
	assert_int_equal(takp_framer_init(&f, DEF_MAX), 0);
	assert_int_equal(takp_framer_alloc(&f), 0);
	assert_int_equal(takp_framer_feed(&f, s.data, s.len - 8, 1, &why), 0);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 0);
	assert_int_equal(takp_framer_alloc(&f), 65536);
	takp_framer_trim(&f);
	assert_int_equal(takp_framer_alloc(&f), 65536);
	assert_int_equal(takp_framer_feed(&f, s.data + s.len - 8, 8, 2, &why),
	    0);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 1);
	assert_int_equal(len, p.len);
	assert_memory_equal(msg, p.data, p.len);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 0);
	takp_framer_trim(&f);
	assert_int_equal(takp_framer_alloc(&f), 0);
	/* the stream goes on */
	assert_int_equal(takp_framer_feed(&f, "\0\xbf\x02x", 4, 3, &why), 0);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 0);
	assert_int_equal(takp_framer_alloc(&f), 2048);
	takp_framer_trim(&f);
	assert_int_equal(takp_framer_alloc(&f), 2048);
	assert_int_equal(takp_framer_feed(&f, "y", 1, 4, &why), 0);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 1);
	assert_int_equal(len, 2);
	assert_memory_equal(msg, "xy", 2);
	/* Without a trim, the next small feed after a big frame lets go. */
	assert_int_equal(takp_framer_feed(&f, s.data, s.len, 5, &why), 0);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 1);
	assert_int_equal(len, p.len);
	assert_int_equal(takp_framer_alloc(&f), 65536);
	assert_int_equal(takp_framer_feed(&f, "\xbf\x01", 2, 6, &why), 0);
	assert_int_equal(takp_framer_alloc(&f), 2048);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), 0);
	assert_int_equal(takp_framer_held(&f, NULL), 2);
	takp_framer_free(&f);
	assert_int_equal(takp_framer_alloc(&f), 0);
	takp_framer_trim(&f);		/* on a freed framer: nothing */
	free(p.data);
	free(s.data);
}

static void
test_api_bounds(void **state)
{
	struct takp_framer f;
	const uint8_t	*msg;
	const char	*why;
	struct blob	 s, p;
	size_t		 len, cap, n = 0;

	assert_int_equal(takp_framer_init(&f, 0), -1);
	assert_int_equal(takp_framer_init(&f, TAKP_FRAME_PAYLOAD_MIN - 1), -1);
	assert_int_equal(takp_framer_init(&f, TAKP_FRAME_PAYLOAD_MAX + 1), -1);
	assert_int_equal(takp_framer_next(&f, &msg, &len, &why), -1);
	assert_int_equal(takp_framer_feed(&f, "\xbf", 1, 0, &why), -1);
	assert_int_equal(takp_framer_held(&f, NULL), 0);
	assert_int_equal(takp_framer_zeros(&f), 0);
	takp_framer_free(&f);
	takp_framer_free(NULL);

	/* One feed larger than the cap is refused, not buffered. */
	cap = BOUND(1024);
	p = payload_of(1024, 1);
	s = blob_new();
	while (s.len + 3 + 1024 <= cap)
		frame_cat(&s, &p);
	/* and one shorter frame to fill it exactly */
	assert_true(cap - s.len >= 3 + 128);
	p.len = cap - s.len - 3;
	frame_cat(&s, &p);
	p.len = 1024;
	assert_true(s.len == cap);
	blob_byte(&s, 0, 1);
	assert_int_equal(takp_framer_init(&f, 1024), 0);
	assert_int_equal(takp_framer_feed(&f, s.data, cap + 1, 0, &why), -1);
	assert_non_null(strstr(why, "buffer full"));
	assert_int_equal(takp_framer_alloc(&f), 0);
	takp_framer_free(&f);
	/* exactly the cap is fine: frames, then zeros (up to 8) */
	assert_int_equal(takp_framer_init(&f, 1024), 0);
	assert_int_equal(takp_framer_feed(&f, s.data, cap, 0, &why), 0);
	while (takp_framer_next(&f, &msg, &len, &why) == 1)
		n++;
	assert_int_equal(n, 17);
	assert_int_equal(takp_framer_held(&f, NULL), 0);
	assert_true(takp_framer_alloc(&f) <= cap);
	assert_int_equal(takp_framer_feed(&f, "", 0, 0, &why), 0);
	takp_framer_free(&f);
	free(s.data);
	free(p.data);
}

static double
elapsed_ms(const struct timespec *a)
{
	struct timespec	 b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((double)(b.tv_sec - a->tv_sec) * 1e3 +
	    (double)(b.tv_nsec - a->tv_nsec) / 1e6);
}

/*
 * Slow feeds cost linear time: a 1 MiB frame a byte at a time would take
 * minutes if each feed moved or rescanned the held bytes.
 */
static void
test_linear(void **state)
{
	struct blob	 p = payload_of(1024 * 1024, 5), s = blob_new();
	struct result	 r;
	struct timespec	 t0;
	double		 ms;
	size_t		 i;

	frame_cat(&s, &p);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run(s.data, s.len, 1024 * 1024, NULL, 0, 1, &r);
	ms = elapsed_ms(&t0);
	result_expect(&r, &p, 1, NULL, "1 MiB a byte at a time");
	result_free(&r);
	print_message("1 MiB frame fed a byte at a time: %.0f ms\n", ms);
	assert_true(ms < 10000);
	free(s.data);

	/* and thousands of small frames in odd-sized feeds */
	s = blob_new();
	for (i = 0; i < 4000; i++) {
		blob_cat(&s, "\xbf\x20", 2);
		blob_cat(&s, msg_control, sizeof(msg_control));
		blob_byte(&s, 0, 1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run(s.data, s.len, DEF_MAX, NULL, 0, 7, &r);
	ms = elapsed_ms(&t0);
	assert_null(r.err);
	assert_int_equal(r.n, 4000);
	assert_int_equal(r.zeros, 4000);
	result_free(&r);
	assert_true(ms < 10000);
	free(s.data);
	free(p.data);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varint),
		cmocka_unit_test(test_frames_every_split),
		cmocka_unit_test(test_many_in_one_feed),
		cmocka_unit_test(test_max_length),
		cmocka_unit_test(test_hostile_lengths),
		cmocka_unit_test(test_not_a_frame),
		cmocka_unit_test(test_stray_zeros),
		cmocka_unit_test(test_sticky),
		cmocka_unit_test(test_held),
		cmocka_unit_test(test_buffer_bound),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_api_bounds),
		cmocka_unit_test(test_linear),
	};

	/* test_takp_frame [PATTERN]: run only the matching tests */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
