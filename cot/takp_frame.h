/*
 * TAK protocol version 1 stream framer: cuts one session's byte stream,
 * once v1 is negotiated, into whole frames, however the bytes arrive.
 * Pure: no sockets, no clock, no globals; one struct takp_framer per
 * session.  The sibling of cot_frame.h (version 0, XML), with the same
 * usage and the same buffer discipline.  See docs/cot.md "TAK protocol v1
 * framing".
 *
 * A frame is the byte 0xBF, then the payload length as an unsigned varint
 * (7 bits a byte, least significant first, high bit set = more), then that
 * many payload bytes: one protobuf TakMessage, not decoded here.  What is
 * handed out is the payload alone.
 *
 * Usage: after every takp_framer_feed(), call takp_framer_next() until it
 * returns 0 (need more bytes) or -1 (framing error: close the session).
 *
 *	if (takp_framer_feed(&f, buf, n, now_ms, &why) == -1)
 *		close(why);
 *	while ((r = takp_framer_next(&f, &msg, &msglen, &why)) == 1)
 *		deliver(msg, msglen);		(msglen may be 0)
 *	if (r == -1)
 *		close(why);
 *
 * Between frames (and before the first) at most TAKP_FRAME_ZEROS_MAX
 * consecutive 0x00 bytes are skipped: one peer server writes one after
 * every frame.  Any other byte where a frame must start is an error.
 */
#ifndef TAKD_TAKP_FRAME_H
#define TAKD_TAKP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define TAKP_FRAMER_MAGIC	0x544b4631u	/* "TKF1" */

/* The byte every frame starts with. */
#define TAKP_FRAME_LEAD		0xbf

/* Longest varint: 10 bytes carry 64 bits (9 x 7 + 1). */
#define TAKP_VARINT_MAX		10
/* Longest frame header: 0xBF and the longest varint. */
#define TAKP_FRAME_HEADER_MAX	(1 + TAKP_VARINT_MAX)

/*
 * Bounds of the payload cap ([cot] max_event_bytes) that the framer
 * accepts: those of the XML framer (COT_FRAME_EVENT_MIN/MAX), so that one
 * setting serves both encodings.
 */
#define TAKP_FRAME_PAYLOAD_MIN	256
#define TAKP_FRAME_PAYLOAD_MAX	(16 * 1024 * 1024)

/*
 * Largest single feed that can never overflow the buffer of a framer that
 * is drained after every feed: one TLS record's plaintext.  The buffer is
 * capped at max_event_bytes + TAKP_FRAME_HEADER_MAX + TAKP_FRAME_FEED_MAX:
 * after a drain it holds at most one unfinished frame (its header and
 * fewer than max_event_bytes payload bytes), then one feed.
 */
#define TAKP_FRAME_FEED_MAX	16384

/*
 * Most consecutive 0x00 bytes skipped between two frames (or before the
 * first); the next one is an error.  The peer that sends them writes one
 * after each frame; 8 leaves room and still costs a sender at most 8
 * unbudgeted bytes per frame, and frames go through the caller's budgets.
 */
#define TAKP_FRAME_ZEROS_MAX	8

/* Room for the reasons formatted with a value (the byte, the length). */
#define TAKP_FRAME_ERR_MAX	128

/* Fields are private to takp_frame.c; embed the struct, do not touch them. */
struct takp_framer {
	unsigned	 magic;
	uint8_t		*buf;		/* NULL until the first feed */
	size_t		 alloc;		/* bytes allocated at buf */
	size_t		 off;		/* first byte not consumed */
	size_t		 len;		/* bytes in buf */
	size_t		 cap;		/* most bytes ever held (len - off) */
	size_t		 max_payload;
	size_t		 hlen;		/* header of the frame at off, or 0 */
	size_t		 flen;		/* its header + payload bytes */
	unsigned	 zeros;		/* 0x00 bytes in the current gap */
	uint64_t	 zeros_total;
	int64_t		 last_feed_ms;
	int64_t		 since_ms;	/* held bytes waiting since */
	uint64_t	 base;		/* stream offset of buf[0] */
	uint64_t	 err_at;	/* stream offset of the error */
	const char	*err;		/* sticky once set */
	char		 errbuf[TAKP_FRAME_ERR_MAX];
};

/*
 * Prepare f for a new session (or for the bytes that follow a switch to
 * v1: stream offsets count from here); max_event_bytes caps one payload
 * (TAKP_FRAME_PAYLOAD_MIN .. TAKP_FRAME_PAYLOAD_MAX).  No memory is
 * allocated until the first feed.  Returns -1 (EINVAL) on a bad cap.
 */
int	 takp_framer_init(struct takp_framer *, size_t max_event_bytes);
/* Release the buffer and clear the magic; a zeroed struct is fine too. */
void	 takp_framer_free(struct takp_framer *);

/*
 * Append n received bytes.  now_ms (any monotonic clock) dates the bytes
 * for takp_framer_held().  Returns -1 with *why set when the framer
 * already failed, when the held bytes plus n would exceed the buffer cap
 * (feed at most TAKP_FRAME_FEED_MAX bytes and drain in between, and this
 * never happens), or when memory runs out.  The buffer grows with the
 * bytes that arrive, never with the length a header announces.
 */
int	 takp_framer_feed(struct takp_framer *, const void *, size_t n,
	    int64_t now_ms, const char **why);

/*
 * Next whole frame: returns 1 and its payload (*msg, *len), borrowed until
 * the next feed or next call (*len is 0 for an empty TakMessage, 0xBF
 * 0x00: handed out like any frame, see docs/cot.md); 0 when more bytes are
 * needed; -1 on a framing error, with a reason in *why (static, or in f:
 * valid until takp_framer_free()); the error is sticky.  The payload's
 * length is checked against max_event_bytes as soon as its varint is
 * complete, before a byte of the payload is waited for.
 */
int	 takp_framer_next(struct takp_framer *, const uint8_t **msg,
	    size_t *len, const char **why);

/*
 * Bytes held for a frame that is not complete yet (its header or part of
 * its payload), and in *since_ms the now_ms of the feed that brought its
 * first byte.  Exact when next() is drained after every feed; 0 when
 * nothing is held (skipped zeros are never held).  The worker closes a
 * session whose partial frame stays open too long, as for XML.
 */
size_t	 takp_framer_held(const struct takp_framer *, int64_t *since_ms);

/*
 * Bytes allocated for the buffer (the worker's memory budget counts them),
 * and takp_framer_trim() to give a large one back once nothing is held.
 */
size_t	 takp_framer_alloc(const struct takp_framer *);
void	 takp_framer_trim(struct takp_framer *);

/* Stream offset (bytes fed since init) of the error, for logs. */
uint64_t takp_framer_error_offset(const struct takp_framer *);

/* 0x00 bytes skipped between frames so far, for a counter. */
uint64_t takp_framer_zeros(const struct takp_framer *);

/*
 * Varints, as protobuf writes them.  takp_varint_encode() writes v in the
 * fewest bytes (1 to TAKP_VARINT_MAX) and returns how many.
 * takp_varint_decode() reads one from p[0..n): returns 1 with *v and in
 * *used its length; 0 when all n bytes say "more" and n < 10; -1 when the
 * 10th byte says "more" (longer than 10 bytes) or carries more than the
 * 64th bit (overflow), with *used the index of that byte (9) and a static
 * reason in *why (why may be NULL).  Non-minimal forms (0x80 0x00 for 0)
 * are accepted, as protobuf's own readers accept them.
 */
size_t	 takp_varint_encode(uint8_t out[TAKP_VARINT_MAX], uint64_t v);
int	 takp_varint_decode(const uint8_t *p, size_t n, uint64_t *v,
	    size_t *used, const char **why);

/*
 * The header of a frame of payload_len bytes: 0xBF and the varint, the
 * fewest bytes; returns how many (2 to TAKP_FRAME_HEADER_MAX).
 */
size_t	 takp_frame_header(uint8_t out[TAKP_FRAME_HEADER_MAX],
	    size_t payload_len);

#endif
