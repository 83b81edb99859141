/*
 * libFuzzer target for the CoT stream framer (cot/cot_frame.h).
 *
 * Input: byte 0 picks the event cap and how the stream is cut into feeds,
 * byte 1 seeds the cutting, the rest is the stream.  The stream is framed
 * twice: once in COT_FRAME_FEED_MAX pieces (the reference) and once cut as
 * byte 0 says, draining after every feed both times, as the worker does.
 * The framer promises that its decisions depend only on the bytes, so both
 * runs must hand out the same events and end in the same error at the same
 * stream offset.  Every event is also checked against the framing rule of
 * cot_frame.h (from "<event", never a declaration in front, no "</event>"
 * but at its end), and cot_framer_held() against the feeds that brought
 * the bytes it reports.  Any difference aborts, which libFuzzer reports as a
 * crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cot/cot_frame.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Event caps worth trying: the minimum, odd sizes, the maximum. */
static const size_t caps[8] = {
	COT_FRAME_EVENT_MIN, COT_FRAME_EVENT_MIN + 1, 300, 512, 1000, 4096,
	64 * 1024, COT_FRAME_EVENT_MAX
};

/* What one run produced: events back to back in buf, lengths in lens. */
struct run {
	uint8_t		*buf;
	size_t		 used, alloc;
	size_t		*lens;
	size_t		 n, nalloc;
	const char	*err;
	uint64_t	 err_at;
	size_t		 held;
};

static void
fz_fail(const char *what, size_t a, size_t b)
{
	fprintf(stderr, "fuzz_cot_frame: %s (%zu, %zu)\n", what, a, b);
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

static void
run_add(struct run *r, const uint8_t *ev, size_t len)
{
	r->buf = fz_grow(r->buf, &r->alloc, r->used + len, 1);
	memcpy(r->buf + r->used, ev, len);
	r->used += len;
	r->lens = fz_grow(r->lens, &r->nalloc, r->n + 1, sizeof(size_t));
	r->lens[r->n++] = len;
}

static void
run_free(struct run *r)
{
	free(r->buf);
	free(r->lens);
}

static int
fz_ws(uint8_t c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\n');
}

/*
 * The framing rule: "<event" and a delimiter (never a declaration: those
 * are dropped), up to "</event>" or a self-closing "/>"; no NUL; at most
 * max_event bytes; and the bytes are the stream's, in order, after the
 * previous event (*pos is where that one ended).
 */
static void
check_event(const uint8_t *s, size_t slen, size_t *pos, const uint8_t *ev,
    size_t len, size_t max_event)
{
	const uint8_t	*q;

	if (len == 0)
		fz_fail("empty event", 0, 0);
	if (memchr(ev, 0, len) != NULL)
		fz_fail("NUL byte in an event", len, 0);
	if (len < 8 || memcmp(ev, "<event", 6) != 0 ||
	    !(fz_ws(ev[6]) || ev[6] == '>' || ev[6] == '/'))
		fz_fail("event does not start with <event", len, 0);
	if (len > max_event)
		fz_fail("event larger than its cap", len, max_event);
	if (memcmp(ev + len - 2, "/>", 2) != 0 &&
	    memcmp(ev + len - 8, "</event>", 8) != 0)
		fz_fail("event does not end with </event> or />", len, 0);
	/*
	 * Receivers cut their stream at each "</event>": each one must see
	 * this event whole and as one, nothing smuggled in front of it.
	 */
	q = memmem(ev, len, "</event>", 8);
	if (q != NULL && q != ev + len - 8)
		fz_fail("</event> before the end of an event",
		    (size_t)(q - ev), len);
	if (*pos > slen ||
	    (q = memmem(s + *pos, slen - *pos, ev, len)) == NULL)
		fz_fail("event bytes are not the stream's, in order", *pos,
		    len);
	*pos = (size_t)(q - s) + len;
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
		COT_FRAME_FEED_MAX, 1, 8, 64, 1024, COT_FRAME_FEED_MAX, 0, 3
	};
	size_t	 n;

	if (mode == 0)
		n = COT_FRAME_FEED_MAX;
	else if (mode == 1)
		n = 1;
	else if (mode == 6)
		/* Two feeds, split where the seed says. */
		n = nth == 0 ? total * seed / 256 : left;
	else
		n = 1 + fz_rand(rnd) % most[mode];
	if (n == 0)
		n = 1;
	if (n > COT_FRAME_FEED_MAX)
		n = COT_FRAME_FEED_MAX;
	return (n < left ? n : left);
}

/*
 * Frame s as mode says, draining after every feed, into r.  With check,
 * also verify every event and what cot_framer_held() says after each feed.
 */
static void
frame(const uint8_t *s, size_t slen, size_t max_event, int mode,
    uint8_t seed, struct run *r)
{
	struct cot_framer f;
	const uint8_t	*ev;
	const char	*why;
	size_t		 off = 0, n, len, pos = 0, held, *starts = NULL;
	size_t		 nstarts = 0, astarts = 0, first, cur = 0;
	int64_t		 since;
	uint32_t	 rnd = 0x9e3779b9u ^ ((uint32_t)seed * 2654435761u);
	int		 rc, nth = 0;

	memset(r, 0, sizeof(*r));
	if (cot_framer_init(&f, max_event) == -1)
		fz_fail("cot_framer_init refused a valid cap", max_event, 0);
	while (off < slen) {
		n = next_cut(mode, &rnd, slen - off, slen, seed, nth);
		/* now_ms is the feed's number, 1 on. */
		starts = fz_grow(starts, &astarts, nstarts + 1,
		    sizeof(size_t));
		starts[nstarts++] = off;
		/*
		 * Never fails here: no error is pending (the loop stops at
		 * one) and at most FEED_MAX bytes come after a drain.
		 */
		if (cot_framer_feed(&f, s + off, n, (int64_t)nstarts,
		    &why) == -1) {
			fprintf(stderr, "fuzz_cot_frame: %s\n", why);
			fz_fail("cot_framer_feed failed", off, n);
		}
		off += n;
		nth++;
		while ((rc = cot_framer_next(&f, &ev, &len, &why)) == 1) {
			check_event(s, slen, &pos, ev, len, max_event);
			run_add(r, ev, len);
		}
		if (rc == -1)
			break;
		held = cot_framer_held(&f, &since);
		if (held > off)
			fz_fail("holds more than was fed", held, off);
		if (held == 0) {
			if (since != 0)
				fz_fail("nothing held but a time", 0, 0);
			continue;
		}
		/*
		 * The feed that brought the first held byte; held bytes only
		 * ever start later, so the search resumes where it ended.
		 */
		first = off - held;
		if (first < starts[cur])
			fz_fail("held bytes start earlier than before", first,
			    starts[cur]);
		while (cur + 1 < nstarts && starts[cur + 1] <= first)
			cur++;
		if (since != (int64_t)cur + 1)
			fz_fail("held bytes dated by the wrong feed",
			    (size_t)since, cur + 1);
	}
	if (cot_framer_next(&f, &ev, &len, &why) == -1) {
		r->err = why;
		r->err_at = cot_framer_error_offset(&f);
		if (r->err_at > off)
			fz_fail("error past the bytes fed", r->err_at, off);
		/* Sticky: feeding more changes nothing. */
		if (cot_framer_feed(&f, "<", 1, 0, &why) != -1 ||
		    why != r->err)
			fz_fail("error not sticky", 0, 0);
	} else
		r->held = cot_framer_held(&f, NULL);
	cot_framer_free(&f);
	free(starts);
}

static void
compare(const struct run *a, const struct run *b)
{
	if (a->n != b->n)
		fz_fail("cutting changed the number of events", a->n, b->n);
	if (a->used != b->used || (a->used > 0 &&
	    memcmp(a->buf, b->buf, a->used) != 0) || (a->n > 0 &&
	    memcmp(a->lens, b->lens, a->n * sizeof(size_t)) != 0))
		fz_fail("cutting changed the events' bytes", a->used, b->used);
	if ((a->err == NULL) != (b->err == NULL) ||
	    (a->err != NULL && strcmp(a->err, b->err) != 0)) {
		fprintf(stderr, "fuzz_cot_frame: reference: %s\n"
		    "fuzz_cot_frame: cut: %s\n", a->err ? a->err : "none",
		    b->err ? b->err : "none");
		fz_fail("cutting changed the error", 0, 0);
	}
	if (a->err_at != b->err_at)
		fz_fail("cutting moved the error", a->err_at, b->err_at);
	if (a->held != b->held)
		fz_fail("cutting changed what is held", a->held, b->held);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run	 ref, cut;
	size_t		 max_event;
	int		 mode;

	if (size < 2)
		return (0);
	mode = data[0] & 7;
	max_event = caps[(data[0] >> 3) & 7];
	frame(data + 2, size - 2, max_event, 0, data[1], &ref);
	if (mode != 0) {
		frame(data + 2, size - 2, max_event, mode, data[1], &cut);
		compare(&ref, &cut);
		run_free(&cut);
	}
	run_free(&ref);
	return (0);
}
