/*
 * A session's TAK protocol (docs/takproto.md, "In the worker"): the offer
 * of version 1 when it starts, the answer to its request, the switch of
 * both directions to v1 frames, and which framer holds its input.
 *
 *	started --offer--> OFFERED --t-x-takp-q version 1, within 60 s--> V1
 *	                      |  \--any other version: "false", 60 s more
 *	                      |   \--after the window: "false", timed out
 *	                      \--(never asked) stays XML for good
 *
 * session.c calls takproto_start() from session_start(), hands every
 * t-x-takp-q to takproto_request(), and feeds a v1 session's reads to the
 * v1 framer through takproto_feed().  Output needs nothing here: what is
 * queued after the switch is queued in the session's encoding
 * (deliver_enqueue(), evconv.h), what was queued before (in XML, the
 * response last) goes out first.
 */
#ifndef TAKD_WORKER_TAKPROTO_H
#define TAKD_WORKER_TAKPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cot/cot_parse.h"

struct conn;
struct worker;

/* A request is answered "true" this long after the offer (or a "false"). */
#define TAKPROTO_WINDOW_MS	60000
/*
 * The latest-SA replay of a session that was offered v1 waits this long
 * for its request, so that a v1 client gets it in v1; a client that asks
 * sooner gets it right after the response.
 */
#define TAKPROTO_REPLAY_WAIT_MS	1000

enum takproto_state {
	TAKPROTO_NONE,		/* no offer made ([cot] protocol_offer off) */
	TAKPROTO_OFFERED,	/* XML; a request may come */
	TAKPROTO_V1		/* switched: v1 both ways, for good */
};

/*
 * The session just started: queue the offer when [cot] protocol_offer is
 * on.  true when it was made: the latest-SA replay is then deferred
 * (takproto_sweep(), takproto_request()); false: replay now.
 */
bool	 takproto_start(struct worker *, struct conn *);

/*
 * A t-x-takp-q of the session (never routed): answered "true" and the
 * session switched to v1 (s->enc) when it asks for version 1 within the
 * window, "false" otherwise, logged and counted; a deferred replay goes
 * out right after the answer, in the session's encoding then.  A request
 * on a v1 session is dropped (dropped.server_only): it negotiated already.
 * The caller stops handing XML events out of the framer once the session
 * is v1 and calls takproto_switch().
 */
void	 takproto_request(struct worker *, struct conn *,
	    const struct cot_view *);

/*
 * The session switched in the middle of a read: the bytes the XML framer
 * holds after the request go to the v1 framer, the XML framer is freed.
 * -1 with *why when the v1 framer refused them.
 */
int	 takproto_switch(struct worker *, struct conn *, int64_t now_ms,
	    const char **why);

/*
 * n bytes of a v1 session's stream to its v1 framer.  Whitespace before
 * the first frame is still the XML stream's (between the request's
 * </event> and the switch) and is skipped.  -1 with *why on a framing
 * error.
 */
int	 takproto_feed(struct worker *, struct conn *, const uint8_t *,
	    size_t n, int64_t now_ms, const char **why);

/* The sweep: the deferred replay of a session whose wait is over. */
void	 takproto_sweep(struct worker *, struct conn *, int64_t now_ms);

/*
 * The session's input buffer, whichever framer holds it: its allocation
 * (the memory budget), a trim once nothing is held, the bytes of an
 * unfinished event or frame (the partial timeout), and its release.
 */
size_t	 takproto_in_alloc(const struct conn *);
void	 takproto_in_trim(struct conn *);
size_t	 takproto_in_held(const struct conn *, int64_t *since_ms);
void	 takproto_in_free(struct conn *);

/* Established sessions by encoding, for the status (takp.sessions_*). */
void	 takproto_count(struct worker *, uint64_t *xml, uint64_t *v1);

/* "xml" or "v1". */
const char *takproto_enc_name(unsigned enc);

#endif
