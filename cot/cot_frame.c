/*
 * CoT stream framer: see cot_frame.h and docs/cot.md.
 *
 * The framer is a small state machine over one growing buffer.  Every byte
 * is examined once: the XML declaration is checked byte by byte by a small
 * state machine of its own, the searches for "-->" and the end tags resume
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
#include <strings.h>

#include "cot/cot_frame.h"

#define FRAME_NONE	SIZE_MAX

/* First allocation, and the size kept across an idle moment. */
#define FRAME_ALLOC_MIN	2048
#define FRAME_KEEP	(16 * 1024)

enum frame_state {
	FRAME_GAP,		/* between events */
	FRAME_DECL,		/* in "<?xml ... ?>": cot_scan_decl() */
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
    "more than 4096 bytes of comment or <auth> before <event>";
static const char ERR_TOO_BIG[] = "event larger than max_event_bytes";
static const char ERR_NUL[] = "NUL byte in stream";
static const char ERR_V1[] =
    "TAK protocol v1 frame but v1 was not negotiated";
static const char ERR_STAG[] = "'<' inside the start tag of an element";
static const char ERR_FULL[] =
    "framer buffer full (feed at most COT_FRAME_FEED_MAX bytes, then drain)";
static const char ERR_NOMEM[] = "out of memory for the input buffer";
static const char ERR_MAGIC[] = "framer not initialised";
/* 100: COT_DECL_MAX */
static const char ERR_DECL_LONG[] = "XML declaration longer than 100 bytes";
static const char ERR_DECL_LT[] = "'<' inside an XML declaration";
static const char ERR_DECL_BYTE[] =
    "control character or non-ASCII byte in an XML declaration";
static const char ERR_DECL_SYNTAX[] = "malformed XML declaration "
    "(takd accepts version, encoding, standalone, in that order)";
static const char ERR_DECL_VERSION[] = "XML declaration of a version "
    "other than 1.0";
static const char ERR_DECL_ENCODING[] = "XML declaration of an encoding "
    "other than UTF-8, US-ASCII, ASCII or UTF-16";
static const char ERR_DECL_STANDALONE[] = "XML declaration with standalone "
    "other than yes or no";

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
			f->off = p + 1;
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
		if ((kind = frame_lead(f, p)) == -1)
			return (0);
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
			memset(&f->decl, 0, sizeof(f->decl));
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
		f->kind = kind;
		f->tok = p;
		f->quote = 0;
		return (1);
	}
	f->scan = p;
	return (0);
}

/*
 * In an XML declaration: check the bytes that came since the last call.
 * Returns 1 and *end when it is complete (and fine), 0 for more bytes, -1 on
 * error.
 */
static int
frame_decl(struct cot_framer *f, size_t *end, const char **why)
{
	size_t	 at;
	int	 r;

	r = cot_scan_decl(&f->decl, f->buf + f->tok, f->scan - f->tok,
	    f->len - f->tok, &at, why);
	if (r == -1)
		return (frame_fail(f, *why, f->tok + at, why));
	if (r == 0) {
		f->scan = f->len;
		return (0);
	}
	*end = f->tok + at;
	/* cot_scan_decl() refuses NUL; the gap before it had none either. */
	if (*end > f->nul_ok)
		f->nul_ok = *end;
	return (1);
}

/*
 * Search for a terminator ("-->", "</event>", "</auth>") from scan.
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
	int	 kind = f->kind;

	f->state = FRAME_GAP;
	f->kind = KIND_NONE;
	f->scan = end;
	if (kind == KIND_EVENT) {
		*ev = f->buf + f->tok;
		*len = end - f->tok;
	}
	/* Whatever it was, a declaration too, it is never held past its end. */
	f->off = end;
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
			r = frame_decl(f, &end, why);
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
	 * (the caller drains after every feed): the construct before them
	 * ended in it, or they follow whitespace that came in it.  Nothing
	 * is held past its end, so what waited from an earlier feed (an
	 * unfinished construct, a '<' not yet told apart) is never left
	 * behind by a consumption.
	 */
	if (r >= 0 && f->off != off0 && f->off < f->len)
		f->since_ms = f->last_feed_ms;
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

size_t
cot_framer_rest(const struct cot_framer *f, const uint8_t **rest)
{
	if (f->magic != COT_FRAMER_MAGIC || f->buf == NULL) {
		*rest = NULL;
		return (0);
	}
	*rest = f->buf + f->off;
	return (f->len - f->off);
}

size_t
cot_framer_alloc(const struct cot_framer *f)
{
	return (f->magic == COT_FRAMER_MAGIC ? f->alloc : 0);
}

void
cot_framer_trim(struct cot_framer *f)
{
	/* As cot_framer_feed() does when the next bytes arrive. */
	if (f->magic != COT_FRAMER_MAGIC || f->len != f->off ||
	    f->alloc <= FRAME_KEEP)
		return;
	frame_compact(f);
	free(f->buf);
	f->buf = NULL;
	f->alloc = 0;
}

/*
 * The XML declaration.  CoT clients send one before each event (ATAK the
 * same one every time) and takd drops it, so it needs no meaning here; but
 * whatever a client may hide in it has to be refused, not skipped: a
 * receiver cuts its stream at each "</event>", so an event smuggled inside
 * a declaration would reach it as an event of its own.  Hence a strict
 * check of XML 1.0's XMLDecl, restricted to what takd can stand behind.
 */
enum decl_state {
	DECL_SPACE1,		/* after "<?xml": whitespace first */
	DECL_SPACE,		/* in whitespace: a name, or "?>" */
	DECL_NAME,		/* in a pseudo-attribute's name */
	DECL_EQ,		/* after the name: '=' */
	DECL_QUOTE,		/* after '=': the opening quote */
	DECL_VALUE,		/* in the quoted value */
	DECL_AFTER,		/* after the closing quote */
	DECL_END		/* after '?': '>' */
};

/*
 * Encodings a declaration may name.  The bytes from "<event" on are UTF-8
 * whatever it says (cot_parse() checks), so these are the names that do not
 * contradict that: UTF-8 and its ASCII subset, and UTF-16, which WinTAK
 * declares while it sends UTF-8 (as .NET writers to a string do); refusing
 * it would cut off every WinTAK client.  Latin-1 and the like are refused:
 * their bytes past 0x7F are not UTF-8, and takd relays only UTF-8.
 */
static const char *const decl_encodings[] = {
	"UTF-8", "US-ASCII", "ASCII", "UTF-16"
};

static bool
decl_version_ok(const uint8_t *v, size_t n)
{
	/*
	 * 1.1 is refused: the event is relayed without its declaration, so
	 * receivers read it as XML 1.0, and no TAK client writes 1.1.
	 */
	return (n == 3 && memcmp(v, "1.0", 3) == 0);
}

static bool
decl_encoding_ok(const uint8_t *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < sizeof(decl_encodings) / sizeof(decl_encodings[0]);
	    i++)
		if (strlen(decl_encodings[i]) == n &&
		    strncasecmp((const char *)v, decl_encodings[i], n) == 0)
			return (true);
	return (false);
}

static bool
decl_standalone_ok(const uint8_t *v, size_t n)
{
	return ((n == 3 && memcmp(v, "yes", 3) == 0) ||
	    (n == 2 && memcmp(v, "no", 2) == 0));
}

/* The pseudo-attributes, in the order XML requires; version is not optional. */
static const struct decl_attr {
	const char	*name;
	size_t		 len;
	bool		(*ok)(const uint8_t *, size_t);
	const char	*err;
} decl_attrs[] = {
	{ "version",	7,  decl_version_ok,	ERR_DECL_VERSION },
	{ "encoding",	8,  decl_encoding_ok,	ERR_DECL_ENCODING },
	{ "standalone",	10, decl_standalone_ok,	ERR_DECL_STANDALONE },
};
#define DECL_NATTRS	((int)(sizeof(decl_attrs) / sizeof(decl_attrs[0])))

/* A byte of a value: what VersionNum, EncName and yes/no are made of. */
static bool
decl_value_byte(uint8_t c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
}

/* decl_byte()'s answer for the byte that ended the declaration. */
static const char DECL_DONE[] = "";

/*
 * One byte of the declaration, in its state; i is its offset from "<?xml".
 * Returns NULL to go on, DECL_DONE when it ended the declaration, else the
 * reason it is refused, with *bad moved to the start of the value when
 * that is what is refused.
 */
static const char *
decl_byte(struct cot_decl_scan *st, const uint8_t *decl, size_t i,
    size_t *bad)
{
	const struct decl_attr	*a;
	uint8_t			 c = decl[i];
	int			 n;

	if (i >= COT_DECL_MAX)
		return (ERR_DECL_LONG);
	if (c == 0)
		return (ERR_NUL);
	if (c == '<')
		return (ERR_DECL_LT);
	if ((c < 0x20 && !frame_ws(c)) || c >= 0x7f)
		return (ERR_DECL_BYTE);
	/* From here on, what can be wrong is the syntax. */
	switch (st->state) {
	case DECL_SPACE1:
		if (!frame_ws(c))
			return (ERR_DECL_SYNTAX);
		st->state = DECL_SPACE;
		return (NULL);
	case DECL_SPACE:
		if (frame_ws(c))
			return (NULL);
		if (c == '?' && st->next > 0) {
			st->state = DECL_END;
			return (NULL);
		}
		/* version first, then encoding and standalone, in order */
		n = st->next;
		while (st->next > 0 && n < DECL_NATTRS &&
		    decl_attrs[n].name[0] != c)
			n++;
		if (n == DECL_NATTRS || decl_attrs[n].name[0] != c)
			return (ERR_DECL_SYNTAX);
		st->attr = n;
		st->k = 1;
		st->state = DECL_NAME;
		return (NULL);
	case DECL_NAME:
		a = &decl_attrs[st->attr];
		if (st->k < a->len) {
			if (c != (uint8_t)a->name[st->k++])
				return (ERR_DECL_SYNTAX);
		} else if (c == '=')
			st->state = DECL_QUOTE;
		else if (frame_ws(c))
			st->state = DECL_EQ;
		else
			return (ERR_DECL_SYNTAX);
		return (NULL);
	case DECL_EQ:
		if (c == '=')
			st->state = DECL_QUOTE;
		else if (!frame_ws(c))
			return (ERR_DECL_SYNTAX);
		return (NULL);
	case DECL_QUOTE:
		if (c == '"' || c == '\'') {
			st->quote = c;
			st->mark = i + 1;
			st->state = DECL_VALUE;
		} else if (!frame_ws(c))
			return (ERR_DECL_SYNTAX);
		return (NULL);
	case DECL_VALUE:
		if (c == st->quote) {
			a = &decl_attrs[st->attr];
			if (!a->ok(decl + st->mark, i - st->mark)) {
				*bad = st->mark;
				return (a->err);
			}
			st->next = st->attr + 1;
			st->state = DECL_AFTER;
		} else if (!decl_value_byte(c))
			return (ERR_DECL_SYNTAX);
		return (NULL);
	case DECL_AFTER:
		if (c == '?')
			st->state = DECL_END;
		else if (frame_ws(c))
			st->state = DECL_SPACE;
		else
			return (ERR_DECL_SYNTAX);
		return (NULL);
	case DECL_END:
		return (c == '>' ? DECL_DONE : ERR_DECL_SYNTAX);
	}
	return (ERR_MAGIC);
}

int
cot_scan_decl(struct cot_decl_scan *st, const uint8_t *decl, size_t from,
    size_t to, size_t *at, const char **why)
{
	struct cot_decl_scan	 s = *st;
	const char		*r;
	size_t			 i, bad;

	/*
	 * On a local copy: decl's bytes may alias anything, so the state
	 * behind st would be stored and reloaded around every byte.
	 */
	for (i = from; i < to; i++) {
		bad = i;
		if ((r = decl_byte(&s, decl, i, &bad)) == NULL)
			continue;
		*st = s;
		if (r == DECL_DONE) {
			*at = i + 1;
			return (1);
		}
		*at = bad;
		*why = r;
		return (-1);
	}
	*st = s;
	return (0);
}
