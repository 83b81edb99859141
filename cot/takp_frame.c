/*
 * TAK protocol v1 stream framer: see takp_frame.h and docs/cot.md.
 *
 * One growing buffer, as in cot_frame.c.  Between frames the bytes are
 * looked at one by one (0x00 skipped, 0xBF starts a header); a header is
 * at most 11 bytes, so an unfinished one is simply decoded again from its
 * start when more bytes come; once it is complete the frame's size is
 * known and the payload is only counted, never scanned.  Consumed bytes
 * are moved only when they exceed half of the buffer (or the buffer must
 * make room), so the cost is linear in the bytes received.
 *
 * Every decision depends only on the bytes, never on how they were split
 * into feeds: a stream always yields the same frames and the same error at
 * the same offset.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cot/cot_frame.h"
#include "cot/takp_frame.h"

/* One [cot] max_event_bytes for both encodings. */
_Static_assert(TAKP_FRAME_PAYLOAD_MIN == COT_FRAME_EVENT_MIN, "payload min");
_Static_assert(TAKP_FRAME_PAYLOAD_MAX == COT_FRAME_EVENT_MAX, "payload max");
_Static_assert(TAKP_FRAME_FEED_MAX == COT_FRAME_FEED_MAX, "feed max");

/* First allocation, and the size kept across an idle moment. */
#define TAKP_ALLOC_MIN	2048
#define TAKP_KEEP	(16 * 1024)

/* 8: TAKP_FRAME_ZEROS_MAX */
static const char ERR_ZEROS[] =
    "more than 8 zero bytes between TAK protocol v1 frames";
static const char ERR_VARINT_LONG[] =
    "TAK protocol v1 frame length: varint longer than 10 bytes";
static const char ERR_VARINT_OVERFLOW[] =
    "TAK protocol v1 frame length: varint overflows 64 bits";
static const char ERR_FULL[] =
    "framer buffer full (feed at most TAKP_FRAME_FEED_MAX bytes, then drain)";
static const char ERR_NOMEM[] = "out of memory for the input buffer";
static const char ERR_MAGIC[] = "framer not initialised";

static int
takp_fail(struct takp_framer *f, const char *why, size_t at,
    const char **whyp)
{
	f->err = why;
	f->err_at = f->base + at;
	*whyp = why;
	return (-1);
}

/* A byte at at where a frame must start: say which, for the log line. */
static int
takp_fail_lead(struct takp_framer *f, size_t at, const char **why)
{
	uint8_t	 c = f->buf[at];

	if (c == '<')
		/* The likeliest mistake: a client that went on in XML. */
		snprintf(f->errbuf, sizeof(f->errbuf), "not a TAK protocol "
		    "v1 frame: '<' (XML) where 0xBF must start one");
	else
		snprintf(f->errbuf, sizeof(f->errbuf), "not a TAK protocol "
		    "v1 frame: 0x%02X where 0xBF must start one", c);
	return (takp_fail(f, f->errbuf, at, why));
}

static int
takp_fail_size(struct takp_framer *f, uint64_t v, size_t at,
    const char **why)
{
	snprintf(f->errbuf, sizeof(f->errbuf), "TAK protocol v1 frame of %"
	    PRIu64 " bytes, larger than max_event_bytes (%zu)", v,
	    f->max_payload);
	return (takp_fail(f, f->errbuf, at, why));
}

/*
 * Between frames: skip zeros, read the header of the next frame.  Returns
 * 1 when a header is complete (hlen, flen set), 0 for more bytes, -1 on
 * error.
 */
static int
takp_header(struct takp_framer *f, const char **why)
{
	const char	*vwhy = NULL;
	uint64_t	 v;
	size_t		 used;
	int		 r;

	for (;;) {
		if (f->off == f->len)
			return (0);
		if (f->buf[f->off] != 0)
			break;
		if (f->zeros == TAKP_FRAME_ZEROS_MAX)
			return (takp_fail(f, ERR_ZEROS, f->off, why));
		f->zeros++;
		f->zeros_total++;
		f->off++;
	}
	if (f->buf[f->off] != TAKP_FRAME_LEAD)
		return (takp_fail_lead(f, f->off, why));
	r = takp_varint_decode(f->buf + f->off + 1, f->len - f->off - 1, &v,
	    &used, &vwhy);
	if (r == 0)
		return (0);
	if (r == -1)
		return (takp_fail(f, vwhy, f->off + 1 + used, why));
	/* Before a byte of the payload is waited for, let alone kept. */
	if (v > f->max_payload)
		return (takp_fail_size(f, v, f->off + used, why));
	f->hlen = 1 + used;
	f->flen = f->hlen + (size_t)v;
	f->zeros = 0;
	return (1);
}

int
takp_framer_next(struct takp_framer *f, const uint8_t **msg, size_t *len,
    const char **why)
{
	size_t	 off0;
	int	 r = 0;

	if (f == NULL || f->magic != TAKP_FRAMER_MAGIC) {
		*why = ERR_MAGIC;
		return (-1);
	}
	if (f->err != NULL) {
		*why = f->err;
		return (-1);
	}
	off0 = f->off;
	if (f->hlen == 0)
		r = takp_header(f, why);
	if (r >= 0 && f->hlen > 0) {
		if (f->len - f->off >= f->flen) {
			*msg = f->buf + f->off + f->hlen;
			*len = f->flen - f->hlen;
			f->off += f->flen;
			f->hlen = 0;
			f->flen = 0;
			r = 1;
		} else
			r = 0;
	}
	/*
	 * Bytes left after something was consumed (a frame, zeros) arrived
	 * in the latest feed: the caller drains after every feed, so what
	 * was consumed ended in it.  A frame waiting from an earlier feed
	 * is never left behind by a consumption: nothing is consumed while
	 * a frame is unfinished.
	 */
	if (r >= 0 && f->off != off0 && f->off < f->len)
		f->since_ms = f->last_feed_ms;
	return (r);
}

int
takp_framer_init(struct takp_framer *f, size_t max_event_bytes)
{
	memset(f, 0, sizeof(*f));
	if (max_event_bytes < TAKP_FRAME_PAYLOAD_MIN ||
	    max_event_bytes > TAKP_FRAME_PAYLOAD_MAX) {
		errno = EINVAL;
		return (-1);
	}
	f->magic = TAKP_FRAMER_MAGIC;
	f->max_payload = max_event_bytes;
	f->cap = max_event_bytes + TAKP_FRAME_HEADER_MAX + TAKP_FRAME_FEED_MAX;
	return (0);
}

void
takp_framer_free(struct takp_framer *f)
{
	if (f == NULL)
		return;
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

static void
takp_compact(struct takp_framer *f)
{
	size_t	 by = f->off;

	if (f->len > by)
		memmove(f->buf, f->buf + by, f->len - by);
	f->len -= by;
	f->base += by;
	f->off = 0;
}

int
takp_framer_feed(struct takp_framer *f, const void *data, size_t n,
    int64_t now_ms, const char **why)
{
	uint8_t	*nb;
	size_t	 held, want;

	if (f == NULL || f->magic != TAKP_FRAMER_MAGIC) {
		*why = ERR_MAGIC;
		return (-1);
	}
	if (f->err != NULL) {
		*why = f->err;
		return (-1);
	}
	if (n == 0)
		return (0);
	held = f->len - f->off;
	if (n > f->cap - held)
		return (takp_fail(f, ERR_FULL, f->len, why));
	if (held == 0) {
		/* Nothing pending: start over at the front, cheaply. */
		f->since_ms = now_ms;
		takp_compact(f);
		if (f->alloc > TAKP_KEEP && n <= TAKP_KEEP) {
			free(f->buf);
			f->buf = NULL;
			f->alloc = 0;
		}
	} else if (f->off > 0 &&
	    (f->off > f->alloc / 2 || f->len + n > f->alloc))
		takp_compact(f);
	if (f->len + n > f->alloc) {
		/*
		 * Grow with what arrived, doubling: a header announcing
		 * max_event_bytes costs its sender those bytes before it
		 * costs us memory.
		 */
		want = f->alloc > 0 ? f->alloc : TAKP_ALLOC_MIN;
		while (want < f->len + n)
			want *= 2;
		if (want > f->cap)
			want = f->cap;
		if ((nb = realloc(f->buf, want)) == NULL)
			return (takp_fail(f, ERR_NOMEM, f->len, why));
		f->buf = nb;
		f->alloc = want;
	}
	memcpy(f->buf + f->len, data, n);
	f->len += n;
	f->last_feed_ms = now_ms;
	return (0);
}

size_t
takp_framer_held(const struct takp_framer *f, int64_t *since_ms)
{
	size_t	 held;

	held = f->magic == TAKP_FRAMER_MAGIC ? f->len - f->off : 0;
	if (since_ms != NULL)
		*since_ms = held > 0 ? f->since_ms : 0;
	return (held);
}

size_t
takp_framer_alloc(const struct takp_framer *f)
{
	return (f->magic == TAKP_FRAMER_MAGIC ? f->alloc : 0);
}

void
takp_framer_trim(struct takp_framer *f)
{
	/* As takp_framer_feed() does when the next bytes arrive. */
	if (f->magic != TAKP_FRAMER_MAGIC || f->len != f->off ||
	    f->alloc <= TAKP_KEEP)
		return;
	takp_compact(f);
	free(f->buf);
	f->buf = NULL;
	f->alloc = 0;
}

uint64_t
takp_framer_error_offset(const struct takp_framer *f)
{
	return (f->err != NULL ? f->err_at : 0);
}

uint64_t
takp_framer_zeros(const struct takp_framer *f)
{
	return (f->magic == TAKP_FRAMER_MAGIC ? f->zeros_total : 0);
}

size_t
takp_varint_encode(uint8_t out[TAKP_VARINT_MAX], uint64_t v)
{
	size_t	 n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return (n);
}

int
takp_varint_decode(const uint8_t *p, size_t n, uint64_t *v, size_t *used,
    const char **why)
{
	uint64_t	 x = 0;
	size_t		 i;
	uint8_t		 b;

	for (i = 0; i < n; i++) {
		b = p[i];
		if (i == TAKP_VARINT_MAX - 1 && b > 1) {
			/* The 10th byte has room for bit 63 alone. */
			*used = i;
			if (why != NULL)
				*why = (b & 0x80) != 0 ? ERR_VARINT_LONG :
				    ERR_VARINT_OVERFLOW;
			return (-1);
		}
		x |= (uint64_t)(b & 0x7f) << (7 * i);
		if ((b & 0x80) == 0) {
			*v = x;
			*used = i + 1;
			return (1);
		}
	}
	return (0);
}

size_t
takp_frame_header(uint8_t out[TAKP_FRAME_HEADER_MAX], size_t payload_len)
{
	out[0] = TAKP_FRAME_LEAD;
	return (1 + takp_varint_encode(out + 1, payload_len));
}
