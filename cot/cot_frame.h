/*
 * CoT stream framer: cuts one session's byte stream (TAK protocol version 0,
 * XML) into whole events, however the bytes arrive.  Pure: no sockets, no
 * clock, no globals; one struct cot_framer per session.  See docs/cot.md.
 *
 * Usage: after every cot_framer_feed(), call cot_framer_next() until it
 * returns 0 (need more bytes) or -1 (protocol error: close the session).
 *
 *	if (cot_framer_feed(&f, buf, n, now_ms, &why) == -1)
 *		close(why);
 *	while ((r = cot_framer_next(&f, &ev, &evlen, &why)) == 1)
 *		deliver(ev, evlen);
 *	if (r == -1)
 *		close(why);
 *
 * An event is "<event" (followed by whitespace, '>' or '/') up to and
 * including the first literal "</event>" after its start tag, or the start
 * tag itself when it is self-closing.  The bytes handed out are the event
 * alone, from "<event": an XML declaration before it is checked (see
 * cot_scan_decl()) and dropped, never forwarded, like the whitespace,
 * comments and <auth> elements between events.
 */
#ifndef TAKD_COT_FRAME_H
#define TAKD_COT_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define COT_FRAMER_MAGIC	0x43465231u	/* "CFR1" */

/* Bounds of [cot] max_event_bytes that the framer accepts. */
#define COT_FRAME_EVENT_MIN	256
#define COT_FRAME_EVENT_MAX	(16 * 1024 * 1024)

/*
 * Most bytes held before an event starts: one unfinished comment or <auth>
 * element.
 */
#define COT_FRAME_PREFIX_MAX	4096

/*
 * Longest XML declaration accepted, "<?xml" to "?>" included.  The longest
 * form takd accepts, written as clients write it,
 * <?xml version="1.0" encoding="US-ASCII" standalone="yes"?>, is 58 bytes;
 * 100 leaves room for odd whitespace (CRLF, tabs, spaces around '=') and
 * for nothing else, so a declaration never holds more than a few bytes of
 * the buffer and one that goes on is refused at its 101st byte.
 */
#define COT_DECL_MAX		100

/*
 * Largest single feed that can never overflow the buffer of a framer that is
 * drained after every feed: one TLS record's plaintext.  The buffer is capped
 * at max_event_bytes + COT_FRAME_PREFIX_MAX + COT_FRAME_FEED_MAX.
 */
#define COT_FRAME_FEED_MAX	16384

/*
 * Where the check of one XML declaration stands (cot_scan_decl()); fields
 * are private, zero it before the first call.
 */
struct cot_decl_scan {
	int		 state;
	int		 next;		/* pseudo-attribute allowed next */
	int		 attr;		/* the one being read */
	int		 quote;		/* its value's quote */
	size_t		 k;		/* bytes of its name matched */
	size_t		 mark;		/* where its value starts */
};

/* Fields are private to cot_frame.c; embed the struct, do not touch them. */
struct cot_framer {
	unsigned	 magic;
	uint8_t		*buf;		/* NULL until the first feed */
	size_t		 alloc;		/* bytes allocated at buf */
	size_t		 off;		/* first byte not consumed */
	size_t		 len;		/* bytes in buf */
	size_t		 cap;		/* most bytes ever held (len - off) */
	size_t		 max_event;
	int		 state;
	size_t		 scan;		/* where scanning resumes */
	size_t		 tok;		/* start of the construct in progress */
	size_t		 nul_ok;	/* bytes before this hold no NUL */
	int		 quote;		/* open quote in a start tag, or 0 */
	int		 kind;		/* element in progress: event or auth */
	struct cot_decl_scan decl;	/* the declaration in progress */
	int64_t		 last_feed_ms;
	int64_t		 since_ms;	/* held bytes waiting since */
	uint64_t	 base;		/* stream offset of buf[0] */
	uint64_t	 err_at;	/* stream offset of the error */
	const char	*err;		/* sticky once set */
};

/*
 * Prepare f for a new session; max_event_bytes caps one event, counted from
 * "<event" (COT_FRAME_EVENT_MIN .. COT_FRAME_EVENT_MAX).  No memory is
 * allocated until the first feed.  Returns -1 (EINVAL) on a bad cap.
 */
int	 cot_framer_init(struct cot_framer *, size_t max_event_bytes);
/* Release the buffer and clear the magic; a zeroed struct is fine too. */
void	 cot_framer_free(struct cot_framer *);

/*
 * Append n received bytes.  now_ms (any monotonic clock) dates the bytes for
 * cot_framer_held().  Returns -1 with *why set when the framer already failed,
 * when the held bytes plus n would exceed the buffer cap (feed at most
 * COT_FRAME_FEED_MAX bytes and drain in between, and this never happens on
 * valid input), or when memory runs out.
 */
int	 cot_framer_feed(struct cot_framer *, const void *, size_t n,
	    int64_t now_ms, const char **why);

/*
 * Next whole event: returns 1 and (*ev, *len), borrowed until the next feed
 * or next call; 0 when more bytes are needed; -1 on a protocol error, with a
 * static reason in *why (the error is sticky).
 */
int	 cot_framer_next(struct cot_framer *, const uint8_t **ev, size_t *len,
	    const char **why);

/*
 * Bytes held for a construct that is not complete yet (usually a partial
 * event), and in *since_ms the now_ms of the feed that brought its first
 * byte.  Exact when next() is drained after every feed; 0 when nothing is
 * held.  The worker closes a session whose partial event stays open too long.
 */
size_t	 cot_framer_held(const struct cot_framer *, int64_t *since_ms);

/*
 * Bytes allocated for the buffer (the worker's memory budget counts them),
 * and cot_framer_trim() to give a large one back once nothing is held: a
 * session that sent one big event must not keep its buffer while quiet.
 */
size_t	 cot_framer_alloc(const struct cot_framer *);
void	 cot_framer_trim(struct cot_framer *);

/* Stream offset (bytes since the session started) of the error, for logs. */
uint64_t cot_framer_error_offset(const struct cot_framer *);

/*
 * The bytes fed and not consumed yet (*rest, borrowed until the next feed,
 * next or free): right after next() handed an event out, everything that
 * came after it.  For a session that leaves XML after that event (TAK
 * protocol v1): what follows is the other framer's.
 */
size_t	 cot_framer_rest(const struct cot_framer *, const uint8_t **rest);

/*
 * Check an XML declaration: decl[0..5) is "<?xml"; bytes from..to of decl
 * are examined, each once as it comes (a value's few bytes are compared
 * again at its closing quote), the state carried in *st between calls
 * (zeroed before the first, which starts at from = 5).  Accepted, in this
 * order: whitespace, version="1.0", optionally encoding= one of UTF-8,
 * US-ASCII, ASCII, UTF-16 (any case), optionally standalone="yes" or "no",
 * optional whitespace, "?>"; single or double quotes, whitespace around
 * '='; at most COT_DECL_MAX bytes.  Returns 1 with *at just past the "?>";
 * 0 when all is fine so far but the "?>" has not come; -1 with *at on the
 * bad byte (the first byte of a refused value) and a static reason in
 * *why.  The framer and cot_parse() both use it.
 */
int	 cot_scan_decl(struct cot_decl_scan *st, const uint8_t *decl,
	    size_t from, size_t to, size_t *at, const char **why);

#endif
