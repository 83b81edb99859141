/*
 * libFuzzer target for the TAK protocol v1 stream framer
 * (cot/takp_frame.h), and the place where the v1 decoder joins it.
 *
 * Input: byte 0 picks how the stream is cut into feeds (bits 0-2), the
 * payload cap (bits 3-5) and whether the buffer is trimmed after every
 * drain (bit 6); byte 1 seeds the cutting; the rest is the stream.
 *
 * The stream is read twice.  ref_frame() is a reference reader written
 * for clarity, not speed: the whole stream at once, the varint bit by bit,
 * the rules of docs/cot.md ("TAK protocol v1 framing") spelled out.  Then
 * the real framer is fed the stream cut as byte 0 says, draining after
 * every feed as the worker does.  Both must agree on every frame (offset,
 * length, bytes), on the zeros skipped, on the error (its kind and stream
 * offset) and on what is left held.  After every feed the framer's buffer
 * must stay within max + TAKP_FRAME_HEADER_MAX + TAKP_FRAME_FEED_MAX, the
 * held bytes must be exactly the frame in progress, dated by the feed that
 * brought its 0xBF, and a feed of at most TAKP_FRAME_FEED_MAX never fails;
 * errors are sticky.  Any difference aborts, which libFuzzer reports.
 *
 * Each payload handed out then goes through fz_decode(): takp_decode(),
 * the TakMessage decoder, on an exact-size copy (fuzz_takp checks what
 * it decodes; here, the two together on streams).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cot/cot_parse.h"
#include "cot/takp.h"
#include "cot/takp_frame.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	 LLVMFuzzerInitialize(int *, char ***);

/* What the decoder fills: static, a view is 10 KiB. */
static struct cot_view		 fz_view;
static struct takp_control	 fz_ctl;
static char			 fz_err[COT_ERR_MAX];

/* Payload caps worth trying: the minimum, odd sizes, the maximum. */
static const size_t caps[8] = {
	TAKP_FRAME_PAYLOAD_MIN, TAKP_FRAME_PAYLOAD_MIN + 1, 300, 1000, 4096,
	16384, 64 * 1024, TAKP_FRAME_PAYLOAD_MAX
};

static void
fz_fail(const char *what, size_t a, size_t b)
{
	fprintf(stderr, "fuzz_takp_frame: %s (%zu, %zu)\n", what, a, b);
	abort();
}

static void *
fz_grow(void *p, size_t *alloc, size_t need, size_t elem)
{
	size_t	 n = *alloc > 0 ? *alloc : 16;

	if (need <= *alloc)
		return (p);
	while (n < need)
		n *= 2;
	if ((p = realloc(p, n * elem)) == NULL)
		fz_fail("out of memory", need, elem);
	*alloc = n;
	return (p);
}

/*
 * Every payload the framer hands out (one TakMessage, possibly empty,
 * possibly anything) is decoded here once, in an allocation of its exact
 * size so that ASan catches a read one byte past its end.  What a decode
 * accepts is fuzz_takp's to check (it round-trips it through XML); here the
 * point is the two together on streams cut anywhere.
 */
static void
fz_decode(const uint8_t *msg, size_t len)
{
	uint8_t	*copy;

	if ((copy = malloc(len > 0 ? len : 1)) == NULL)
		fz_fail("out of memory", len, 0);
	if (len > 0)
		memcpy(copy, msg, len);
	/* Whatever it says; ASan and UBSan watch it read the exact copy. */
	(void)takp_decode(copy, len, &fz_view, &fz_ctl, fz_err,
	    sizeof(fz_err));
	free(copy);
}

/* Kinds of error, and the words of the framer's reason for each. */
enum ref_err {
	REF_NONE,
	REF_LEAD,		/* a byte other than 0xBF or 0x00 */
	REF_ZEROS,		/* the 9th zero in a row */
	REF_LONG,		/* 10th varint byte says "more" */
	REF_OVERFLOW,		/* 10th varint byte past bit 63 */
	REF_SIZE		/* length over the cap */
};
static const char *const ref_words[] = {
	"", "where 0xBF must start one", "zero bytes between",
	"longer than 10 bytes", "overflows 64 bits",
	"larger than max_event_bytes"
};

struct ref_frame {
	size_t		 start;		/* of its 0xBF */
	size_t		 hlen;		/* 0xBF and the varint */
	size_t		 plen;
};

/* What the reference reader found. */
struct ref {
	struct ref_frame *fr;
	size_t		 n, alloc;
	uint64_t	 zeros;
	enum ref_err	 err;
	size_t		 err_at;
	size_t		 open;		/* start of the frame left open */
	int		 has_open;	/* a frame (or an error's) started */
};

static void
ref_add(struct ref *r, size_t start, size_t hlen, size_t plen)
{
	r->fr = fz_grow(r->fr, &r->alloc, r->n + 1, sizeof(*r->fr));
	r->fr[r->n].start = start;
	r->fr[r->n].hlen = hlen;
	r->fr[r->n].plen = plen;
	r->n++;
}

/*
 * The rules, read off the whole stream: between frames at most 8 zeros in
 * a row; a frame is 0xBF, a varint of at most 10 bytes whose 10th byte
 * holds at most bit 63 (non-minimal forms fine), a length at most max, and
 * that many bytes.
 */
static void
ref_frame(const uint8_t *s, size_t n, size_t max, struct ref *r)
{
	size_t		 pos = 0, q, k, hend;
	unsigned	 run = 0;
	uint64_t	 v;
	uint8_t		 b;
	int		 done;

	memset(r, 0, sizeof(*r));
	while (pos < n) {
		if (s[pos] == 0x00) {
			if (run == 8) {
				r->err = REF_ZEROS;
				r->err_at = pos;
				return;
			}
			run++;
			r->zeros++;
			pos++;
			continue;
		}
		if (s[pos] != 0xbf) {
			r->err = REF_LEAD;
			r->err_at = pos;
			return;
		}
		r->open = pos;
		r->has_open = 1;
		v = 0;
		done = 0;
		hend = 0;
		for (q = pos + 1, k = 0; q < n && !done; q++, k++) {
			b = s[q];
			if (k == 9 && (b & 0x80)) {
				r->err = REF_LONG;
				r->err_at = q;
				return;
			}
			if (k == 9 && b > 1) {
				r->err = REF_OVERFLOW;
				r->err_at = q;
				return;
			}
			if (k == 9)
				v |= (uint64_t)b << 63;
			else
				v |= (uint64_t)(b & 0x7f) << (7 * k);
			if ((b & 0x80) == 0) {
				done = 1;
				hend = q + 1;
			}
		}
		if (!done)
			return;			/* header unfinished */
		if (v > max) {
			r->err = REF_SIZE;
			r->err_at = hend - 1;
			return;
		}
		if (n - hend < v)
			return;			/* payload unfinished */
		ref_add(r, pos, hend - pos, (size_t)v);
		r->has_open = 0;
		pos = hend + (size_t)v;
		run = 0;
	}
}

/*
 * What the framer must hold once the first fed bytes are drained: the
 * frame in progress, from its 0xBF, if one started before fed and is not
 * complete by then.  Frames are in stream order, so the search goes on
 * from *cur.
 */
static size_t
ref_held(const struct ref *r, size_t fed, size_t *cur)
{
	const struct ref_frame	*f;

	while (*cur < r->n) {
		f = &r->fr[*cur];
		if (f->start >= fed)
			return (0);
		if (f->start + f->hlen + f->plen > fed)
			return (fed - f->start);
		(*cur)++;
	}
	if (r->has_open && r->open < fed)
		return (fed - r->open);
	return (0);
}

/* Small, seeded, reproducible. */
static uint32_t
fz_rand(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return (*x);
}

/* Size of the next feed in cutting mode mode. */
static size_t
next_cut(int mode, uint32_t *rnd, size_t left, size_t total, uint8_t seed,
    int nth)
{
	static const size_t most[8] = {
		TAKP_FRAME_FEED_MAX, 1, 8, 64, 1024, TAKP_FRAME_FEED_MAX, 0, 3
	};
	size_t	 n;

	if (mode == 0)
		n = TAKP_FRAME_FEED_MAX;
	else if (mode == 1)
		n = 1;
	else if (mode == 6)
		/* Two feeds, split where the seed says. */
		n = nth == 0 ? total * seed / 256 : left;
	else
		n = 1 + fz_rand(rnd) % most[mode];
	if (n == 0)
		n = 1;
	if (n > TAKP_FRAME_FEED_MAX)
		n = TAKP_FRAME_FEED_MAX;
	return (n < left ? n : left);
}

/* A frame handed out: the reference's next one, byte for byte. */
static void
check_frame(const uint8_t *s, const struct ref *r, size_t i,
    const uint8_t *msg, size_t len)
{
	const struct ref_frame	*f;

	if (i >= r->n)
		fz_fail("a frame the reference does not have", i, len);
	f = &r->fr[i];
	if (len != f->plen)
		fz_fail("frame length differs", len, f->plen);
	if (len > 0 && memcmp(msg, s + f->start + f->hlen, len) != 0)
		fz_fail("frame bytes differ", i, len);
}

static void
check_error(const struct takp_framer *fr, const char *why,
    const struct ref *r)
{
	if (r->err == REF_NONE) {
		fprintf(stderr, "fuzz_takp_frame: framer: %s\n", why);
		fz_fail("an error the reference does not have",
		    (size_t)takp_framer_error_offset(fr), 0);
	}
	if (strstr(why, ref_words[r->err]) == NULL) {
		fprintf(stderr, "fuzz_takp_frame: framer: %s\n"
		    "fuzz_takp_frame: reference: ... %s\n", why,
		    ref_words[r->err]);
		fz_fail("another error", (size_t)r->err, 0);
	}
	if (takp_framer_error_offset(fr) != r->err_at)
		fz_fail("error at another offset",
		    (size_t)takp_framer_error_offset(fr), r->err_at);
}

static void
frame(const uint8_t *s, size_t slen, size_t max, int mode, int trim,
    uint8_t seed, const struct ref *r)
{
	struct takp_framer f;
	const uint8_t	*msg;
	const char	*why = NULL, *err = NULL;
	size_t		 off = 0, n, len, held, want, nfr = 0, cur = 0;
	size_t		*starts = NULL, nstarts = 0, astarts = 0, first, fc = 0;
	int64_t		 since;
	uint32_t	 rnd = 0x9e3779b9u ^ ((uint32_t)seed * 2654435761u);
	int		 rc = 0, nth = 0;

	if (takp_framer_init(&f, max) == -1)
		fz_fail("takp_framer_init refused a valid cap", max, 0);
	while (off < slen) {
		n = next_cut(mode, &rnd, slen - off, slen, seed, nth);
		starts = fz_grow(starts, &astarts, nstarts + 1,
		    sizeof(size_t));
		starts[nstarts++] = off;
		/* now_ms is the feed's number, 1 on. */
		if (takp_framer_feed(&f, s + off, n, (int64_t)nstarts,
		    &why) == -1) {
			fprintf(stderr, "fuzz_takp_frame: %s\n", why);
			fz_fail("takp_framer_feed failed", off, n);
		}
		off += n;
		nth++;
		if (takp_framer_alloc(&f) > max + TAKP_FRAME_HEADER_MAX +
		    TAKP_FRAME_FEED_MAX)
			fz_fail("buffer past its bound", takp_framer_alloc(&f),
			    max);
		while ((rc = takp_framer_next(&f, &msg, &len, &why)) == 1) {
			check_frame(s, r, nfr++, msg, len);
			fz_decode(msg, len);
		}
		if (rc == -1) {
			err = why;
			break;
		}
		if (trim)
			takp_framer_trim(&f);
		held = takp_framer_held(&f, &since);
		want = ref_held(r, off, &cur);
		if (held != want)
			fz_fail("holds other than the frame in progress", held,
			    want);
		if (held == 0) {
			if (since != 0)
				fz_fail("nothing held but a time", 0, 0);
			continue;
		}
		/* The feed that brought the 0xBF of the frame in progress. */
		first = off - held;
		while (fc + 1 < nstarts && starts[fc + 1] <= first)
			fc++;
		if (since != (int64_t)fc + 1)
			fz_fail("held bytes dated by the wrong feed",
			    (size_t)since, fc + 1);
	}
	if (err != NULL) {
		check_error(&f, err, r);
		/* Sticky: feeding more changes nothing. */
		if (takp_framer_feed(&f, "\xbf", 1, 0, &why) != -1 ||
		    why != err || takp_framer_next(&f, &msg, &len, &why) !=
		    -1 || why != err)
			fz_fail("error not sticky", 0, 0);
	} else if (r->err != REF_NONE)
		fz_fail("the framer missed an error", (size_t)r->err,
		    r->err_at);
	if (nfr != r->n)
		fz_fail("number of frames differs", nfr, r->n);
	if (takp_framer_zeros(&f) != r->zeros)
		fz_fail("zeros counted differ", (size_t)takp_framer_zeros(&f),
		    (size_t)r->zeros);
	takp_framer_free(&f);
	free(starts);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ref	 r;
	size_t		 max;

	if (size < 2)
		return (0);
	max = caps[(data[0] >> 3) & 7];
	ref_frame(data + 2, size - 2, max, &r);
	frame(data + 2, size - 2, max, data[0] & 7, (data[0] >> 6) & 1,
	    data[1], &r);
	free(r.fr);
	return (0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	cot_parse_init();
	return (0);
}
