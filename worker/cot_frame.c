/*
 * CoT stream framer: see cot_frame.h and docs/cot.md.
 *
 * The framer is a small state machine over one growing buffer.  Every byte
 * is examined once: the searches for "?>", "-->" and the end tags resume
 * where they stopped, the NUL check remembers how far it got, and consumed
 * bytes are only moved when they exceed half of the buffer (or the buffer
 * must make room), so the cost is linear in the bytes received.
 *
 * All positions are offsets into buf; they shift when the buffer is
 * compacted.  Every decision depends only on the bytes, never on how they
 * were split into feeds, so a stream always yields the same events and the
 * same error.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "worker/cot_frame.h"

#define FRAME_NONE	SIZE_MAX

/* First allocation, and the size kept across an idle moment. */
#define FRAME_ALLOC_MIN	2048
#define FRAME_KEEP	(16 * 1024)

enum frame_state {
	FRAME_GAP,		/* between events */
	FRAME_DECL,		/* in "<?xml ... ?>" */
	FRAME_COMMENT,		/* in "<!-- ... -->" */
	FRAME_STAG,		/* in the start tag of an event or auth */
	FRAME_BODY		/* after that start tag, before the end tag */
};

enum frame_kind {
	KIND_NONE,
	KIND_EVENT,
	KIND_AUTH,
	KIND_DECL,
	KIND_COMMENT,
	KIND_DOCTYPE
};

/*
 * What may start with '<' between events.  "delim" means the name must be
 * followed by whitespace, '>' or '/' ('?' for the declaration), so that
 * "<events" or "<?xml-stylesheet" are not taken for what they are not.
 */
static const struct frame_lead {
	const char	*text;
	size_t		 len;
	bool		 delim;
	enum frame_kind	 kind;
} frame_leads[] = {
	{ "<event",	6, true,  KIND_EVENT },
	{ "<?xml",	5, true,  KIND_DECL },
	{ "<!--",	4, false, KIND_COMMENT },
	{ "<auth",	5, true,  KIND_AUTH },
	{ "<!DOCTYPE",	9, false, KIND_DOCTYPE },
};

static const char ERR_GARBAGE[] =
    "not a CoT stream: unexpected bytes before <event>";
static const char ERR_TLS[] =
    "not a CoT stream: a TLS handshake (TLS client on a plain TCP port?)";
static const char ERR_DOCTYPE[] =
    "DOCTYPE in the stream (CoT never has one)";
static const char ERR_PREFIX[] =
    "more than 4096 bytes of declarations, comments or <auth> before <event>";
static const char ERR_TOO_BIG[] = "event larger than max_event_bytes";
static const char ERR_NUL[] = "NUL byte in stream";
static const char ERR_V1[] =
    "TAK protocol v1 frame but v1 was not negotiated";
static const char ERR_STAG[] = "'<' inside the start tag of an element";
static const char ERR_FULL[] =
    "framer buffer full (feed at most COT_FRAME_FEED_MAX bytes, then drain)";
static const char ERR_NOMEM[] = "out of memory for the input buffer";
static const char ERR_MAGIC[] = "framer not initialised";

static bool
frame_ws(uint8_t c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\n');
}

static int
frame_fail(struct cot_framer *f, const char *why, size_t at, const char **whyp)
{
	f->err = why;
	f->err_at = f->base + at;
	*whyp = why;
	return (-1);
}

/*
 * Position of the first NUL before "to", or FRAME_NONE.  nul_ok stops on a
 * NUL it finds, so asking again costs nothing; every byte is searched once.
 */
static size_t
frame_nul(struct cot_framer *f, size_t to)
{
	const uint8_t	*p;

	if (f->nul_ok >= to)
		return (FRAME_NONE);
	p = memchr(f->buf + f->nul_ok, 0, to - f->nul_ok);
	if (p == NULL) {
		f->nul_ok = to;
		return (FRAME_NONE);
	}
	f->nul_ok = (size_t)(p - f->buf);
	return (f->nul_ok);
}

/*
 * Classify the '<' at p: the kind it starts, KIND_NONE when it can start
 * nothing we accept, or -1 when more bytes are needed to tell.
 */
static int
frame_lead(const struct cot_framer *f, size_t p)
{
	const struct frame_lead	*l;
	size_t			 avail = f->len - p, n, i;
	bool			 maybe = false;
	uint8_t			 c;

	for (i = 0; i < sizeof(frame_leads) / sizeof(frame_leads[0]); i++) {
		l = &frame_leads[i];
		n = avail < l->len ? avail : l->len;
		if (memcmp(f->buf + p, l->text, n) != 0)
			continue;
		if (avail < l->len + (l->delim ? 1 : 0)) {
			maybe = true;
			continue;
		}
		if (!l->delim)
			return (l->kind);
		c = f->buf[p + l->len];
		if (frame_ws(c) || (l->kind == KIND_DECL ? c == '?' :
		    c == '>' || c == '/'))
			return (l->kind);
	}
	return (maybe ? -1 : KIND_NONE);
}

/* Where the construct in progress must end: its size cap. */
static size_t
frame_limit(const struct cot_framer *f)
{
	size_t	 lim;

	if (f->state == FRAME_STAG || f->state == FRAME_BODY) {
		if (f->kind == KIND_EVENT)
			lim = f->tok + f->max_event;
		else
			lim = f->off + COT_FRAME_PREFIX_MAX;
	} else
		lim = f->off + COT_FRAME_PREFIX_MAX;
	return (lim < f->len ? lim : f->len);
}

static const char *
frame_limit_error(const struct cot_framer *f)
{
	if ((f->state == FRAME_STAG || f->state == FRAME_BODY) &&
	    f->kind == KIND_EVENT)
		return (ERR_TOO_BIG);
	return (ERR_PREFIX);
}

/*
 * Between events.  Returns 1 when a construct starts (state changed), 0 when
 * more bytes are needed, -1 on error.
 */
static int
frame_gap(struct cot_framer *f, const char **why)
{
	size_t	 p;
	int	 kind;
	uint8_t	 c;

	for (p = f->scan; p < f->len; p++) {
		c = f->buf[p];
		if (frame_ws(c)) {
			if (f->decl == FRAME_NONE)
				f->off = p + 1;
			else if (p + 1 - f->off > COT_FRAME_PREFIX_MAX)
				return (frame_fail(f, ERR_PREFIX, p, why));
			continue;
		}
		f->scan = p;
		if (c == 0)
			return (frame_fail(f, ERR_NUL, p, why));
		if (c == 0xbf)
			return (frame_fail(f, ERR_V1, p, why));
		if (c == 0x16) {
			/* A TLS record header: 0x16 0x03 (handshake, v3.x). */
			if (p + 1 == f->len)
				return (0);
			if (f->buf[p + 1] == 0x03)
				return (frame_fail(f, ERR_TLS, p, why));
		}
		if (c != '<')
			return (frame_fail(f, ERR_GARBAGE, p, why));
		if ((kind = frame_lead(f, p)) == -1) {
			/*
			 * The '<' may wait here over several feeds; remember
			 * the one that brought it, for cot_framer_held().
			 */
			if (f->base + p >= f->feed_at)
				f->wait_ms = f->last_feed_ms;
			return (0);
		}
		switch (kind) {
		case KIND_EVENT:
			f->state = FRAME_STAG;
			f->scan = p + 6;
			break;
		case KIND_AUTH:
			f->state = FRAME_STAG;
			f->scan = p + 5;
			break;
		case KIND_DECL:
			f->state = FRAME_DECL;
			f->scan = p + 5;
			break;
		case KIND_COMMENT:
			f->state = FRAME_COMMENT;
			f->scan = p + 4;
			break;
		case KIND_DOCTYPE:
			return (frame_fail(f, ERR_DOCTYPE, p, why));
		default:
			return (frame_fail(f, ERR_GARBAGE, p, why));
		}
		/*
		 * Only an event keeps the declaration before it; anything
		 * else in between (a newer declaration too) drops it.
		 */
		if (kind != KIND_EVENT && f->decl != FRAME_NONE) {
			f->off = p;
			f->decl = FRAME_NONE;
			/* p may have waited since an earlier feed. */
			f->off_ms = f->base + p >= f->feed_at ?
			    f->last_feed_ms : f->wait_ms;
		}
		if (kind == KIND_DECL)
			f->decl = p;
		f->kind = kind;
		f->tok = p;
		f->quote = 0;
		return (1);
	}
	f->scan = p;
	return (0);
}

/*
 * Search for a terminator ("?>", "-->", "</event>", "</auth>") from scan.
 * Returns 1 with *end just past it, 0 when more bytes are needed, -1 on
 * error (a NUL, or the construct outgrew its cap).
 */
static int
frame_until(struct cot_framer *f, const char *term, size_t tlen, size_t *end,
    const char **why)
{
	const uint8_t	*q;
	size_t		 lim, stop, at;

	lim = frame_limit(f);
	q = NULL;
	if (lim > f->scan)
		q = memmem(f->buf + f->scan, lim - f->scan, term, tlen);
	stop = q != NULL ? (size_t)(q - f->buf) + tlen : lim;
	if ((at = frame_nul(f, stop)) != FRAME_NONE)
		return (frame_fail(f, ERR_NUL, at, why));
	if (q != NULL) {
		*end = stop;
		return (1);
	}
	if (lim < f->len)
		return (frame_fail(f, frame_limit_error(f), lim, why));
	/* Keep the tail that may be the start of the terminator. */
	if (lim >= tlen - 1 && lim - (tlen - 1) > f->scan)
		f->scan = lim - (tlen - 1);
	return (0);
}

/*
 * In the start tag of an event or auth element: find its '>' outside quoted
 * attribute values.  Returns 1 and *end when the element is complete
 * (self-closing), 2 when the body starts, 0 for more bytes, -1 on error.
 */
static int
frame_stag(struct cot_framer *f, size_t *end, const char **why)
{
	size_t	 p, lim;
	uint8_t	 c;

	lim = frame_limit(f);
	for (p = f->scan; p < lim; p++) {
		c = f->buf[p];
		if (c == 0)
			return (frame_fail(f, ERR_NUL, p, why));
		if (c == '<')
			return (frame_fail(f, ERR_STAG, p, why));
		if (f->quote != 0) {
			if (c == f->quote)
				f->quote = 0;
			continue;
		}
		if (c == '"' || c == '\'')
			f->quote = c;
		else if (c == '>') {
			if (p + 1 > f->nul_ok)
				f->nul_ok = p + 1;
			f->scan = p + 1;
			if (f->buf[p - 1] == '/') {
				*end = p + 1;
				return (1);
			}
			f->state = FRAME_BODY;
			return (2);
		}
	}
	if (p > f->nul_ok)
		f->nul_ok = p;
	f->scan = p;
	if (lim < f->len)
		return (frame_fail(f, frame_limit_error(f), lim, why));
	return (0);
}

/* The construct in progress ended at end. */
static int
frame_done(struct cot_framer *f, size_t end, const uint8_t **ev, size_t *len)
{
	size_t	 start;
	int	 kind = f->kind;

	f->state = FRAME_GAP;
	f->kind = KIND_NONE;
	f->scan = end;
	if (kind == KIND_DECL)
		return (0);	/* held until we see what follows */
	if (kind == KIND_EVENT) {
		start = f->decl != FRAME_NONE ? f->decl : f->tok;
		*ev = f->buf + start;
		*len = end - start;
	}
	f->off = end;
	f->decl = FRAME_NONE;
	f->tok = FRAME_NONE;
	return (kind == KIND_EVENT);
}

static int
frame_step(struct cot_framer *f, const uint8_t **ev, size_t *len,
    const char **why)
{
	size_t	 end = 0;
	int	 r;

	for (;;) {
		switch (f->state) {
		case FRAME_GAP:
			/* A construct started: go on in its state. */
			if ((r = frame_gap(f, why)) <= 0)
				return (r);
			continue;
		case FRAME_DECL:
			r = frame_until(f, "?>", 2, &end, why);
			break;
		case FRAME_COMMENT:
			r = frame_until(f, "-->", 3, &end, why);
			break;
		case FRAME_STAG:
			if ((r = frame_stag(f, &end, why)) == 2)
				continue;
			break;
		case FRAME_BODY:
			if (f->kind == KIND_EVENT)
				r = frame_until(f, "</event>", 8, &end, why);
			else
				r = frame_until(f, "</auth>", 7, &end, why);
			break;
		default:
			return (frame_fail(f, ERR_MAGIC, f->scan, why));
		}
		if (r <= 0)
			return (r);
		if (frame_done(f, end, ev, len) == 1)
			return (1);
	}
}

int
cot_framer_next(struct cot_framer *f, const uint8_t **ev, size_t *len,
    const char **why)
{
	size_t	 off0;
	int	 r;

	if (f == NULL || f->magic != COT_FRAMER_MAGIC) {
		*why = ERR_MAGIC;
		return (-1);
	}
	if (f->err != NULL) {
		*why = f->err;
		return (-1);
	}
	off0 = f->off;
	r = frame_step(f, ev, len, why);
	/*
	 * Bytes left after something was consumed arrived in the latest feed
	 * (the caller drains after every feed), unless they start at a '<'
	 * that waited for the bytes telling what it starts: a declaration
	 * is dropped there only once that is known.
	 */
	if (r >= 0 && f->off != off0 && f->off < f->len)
		f->since_ms = f->base + f->off >= f->feed_at ?
		    f->last_feed_ms : f->off_ms;
	return (r);
}

int
cot_framer_init(struct cot_framer *f, size_t max_event_bytes)
{
	memset(f, 0, sizeof(*f));
	if (max_event_bytes < COT_FRAME_EVENT_MIN ||
	    max_event_bytes > COT_FRAME_EVENT_MAX) {
		errno = EINVAL;
		return (-1);
	}
	f->magic = COT_FRAMER_MAGIC;
	f->max_event = max_event_bytes;
	f->cap = max_event_bytes + COT_FRAME_PREFIX_MAX + COT_FRAME_FEED_MAX;
	f->state = FRAME_GAP;
	f->kind = KIND_NONE;
	f->tok = FRAME_NONE;
	f->decl = FRAME_NONE;
	return (0);
}

void
cot_framer_free(struct cot_framer *f)
{
	if (f == NULL)
		return;
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

static void
frame_shift(size_t *pos, size_t by)
{
	if (*pos != FRAME_NONE)
		*pos -= by;
}

static void
frame_compact(struct cot_framer *f)
{
	size_t	 by = f->off;

	if (f->len > by)
		memmove(f->buf, f->buf + by, f->len - by);
	f->len -= by;
	f->base += by;
	f->off = 0;
	f->scan -= by;
	f->nul_ok = f->nul_ok > by ? f->nul_ok - by : 0;
	frame_shift(&f->tok, by);
	frame_shift(&f->decl, by);
}

int
cot_framer_feed(struct cot_framer *f, const void *data, size_t n,
    int64_t now_ms, const char **why)
{
	uint8_t	*nb;
	size_t	 held, want;

	if (f == NULL || f->magic != COT_FRAMER_MAGIC) {
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
		return (frame_fail(f, ERR_FULL, f->len, why));
	if (held == 0) {
		/* Nothing pending: start over at the front, cheaply. */
		f->since_ms = now_ms;
		frame_compact(f);
		if (f->alloc > FRAME_KEEP && n <= FRAME_KEEP) {
			free(f->buf);
			f->buf = NULL;
			f->alloc = 0;
		}
	} else if (f->off > 0 &&
	    (f->off > f->alloc / 2 || f->len + n > f->alloc))
		frame_compact(f);
	if (f->len + n > f->alloc) {
		want = f->alloc > 0 ? f->alloc : FRAME_ALLOC_MIN;
		while (want < f->len + n)
			want *= 2;
		if (want > f->cap)
			want = f->cap;
		if ((nb = realloc(f->buf, want)) == NULL)
			return (frame_fail(f, ERR_NOMEM, f->len, why));
		f->buf = nb;
		f->alloc = want;
	}
	f->feed_at = f->base + f->len;
	memcpy(f->buf + f->len, data, n);
	f->len += n;
	f->last_feed_ms = now_ms;
	return (0);
}

size_t
cot_framer_held(const struct cot_framer *f, int64_t *since_ms)
{
	size_t	 held;

	held = f->magic == COT_FRAMER_MAGIC ? f->len - f->off : 0;
	if (since_ms != NULL)
		*since_ms = held > 0 ? f->since_ms : 0;
	return (held);
}

uint64_t
cot_framer_error_offset(const struct cot_framer *f)
{
	return (f->err != NULL ? f->err_at : 0);
}
