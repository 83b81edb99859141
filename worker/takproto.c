/*
 * A session's TAK protocol: the offer, the answer to a request, the switch
 * to v1 frames.  See takproto.h and docs/takproto.md ("In the worker").
 *
 * The switch is exact to the byte in both directions.  Output: the answer
 * is queued while the session is still XML, behind whatever XML was queued
 * before it, and everything queued from then on is in v1 (deliver_enqueue()
 * converts to the session's encoding), so the client reads XML up to and
 * including the answer and v1 after it.  Input: the request is one event
 * of a read; the bytes of that read after it are still in the XML framer,
 * and go to the v1 framer (takproto_switch()) before anything else is read.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "worker/conn.h"
#include "worker/deliver.h"
#include "worker/registry.h"
#include "worker/session.h"
#include "worker/takproto.h"
#include "worker/worker_int.h"

/* Room for an offer or an answer (they take about 400 bytes). */
#define TAKPROTO_MADE_MAX	1024

const char *
takproto_enc_name(unsigned enc)
{
	return (enc == EVBUF_V1 ? "v1" : "xml");
}

/* An event takd made (XML) for c alone, ahead of anything queued later. */
static void
takproto_queue(struct worker *w, struct conn *c, const char *buf, size_t n)
{
	struct evbuf	*ev;

	if (n == 0 || (ev = evbuf_new(buf, n)) == NULL) {
		w->cnt.drop_nomem++;
		return;
	}
	/* Not a notice (DELIVER_F_SYSTEM): a full half never drops it. */
	deliver_enqueue(w, c, ev, 0, 0, IPC_EV_OTHER);
	evbuf_unref(ev);
}

bool
takproto_start(struct worker *w, struct conn *c)
{
	struct session	*s = &c->s;
	char		 buf[TAKPROTO_MADE_MAX];
	int64_t		 now = clock_mono_ms();

	if (!w->cfg->protocol_offer)
		return (false);
	takproto_queue(w, c, buf, cot_make_takp_offer(buf, sizeof(buf),
	    clock_wall_ms()));
	s->takp = TAKPROTO_OFFERED;
	s->takp_until_ms = now + TAKPROTO_WINDOW_MS;
	s->replay_due = true;
	s->replay_at_ms = now + TAKPROTO_REPLAY_WAIT_MS;
	w->cnt.takp_offered++;
	return (true);
}

/* The latest-SA replay that waited for the negotiation. */
static void
takproto_replay(struct worker *w, struct conn *c)
{
	c->s.replay_due = false;
	if (deliver_receives(c))
		deliver_replay(w, c, NULL);
}

void
takproto_sweep(struct worker *w, struct conn *c, int64_t now)
{
	if (c->s.replay_due && now >= c->s.replay_at_ms)
		takproto_replay(w, c);
}

/* The session goes to v1, both ways, from the next byte. */
static void
takproto_to_v1(struct worker *w, struct conn *c)
{
	struct session	*s = &c->s;

	s->enc = EVBUF_V1;
	s->takp = TAKPROTO_V1;
	s->v1_lead = true;
	/* The config bounds max_event_bytes inside the framer's range. */
	(void)takp_framer_init(&s->tframer, w->cfg->max_event_bytes);
	/* takctl clients shows it. */
	registry_connect(w, c);
}

void
takproto_request(struct worker *w, struct conn *c, const struct cot_view *v)
{
	struct session	*s = &c->s;
	const char	*why = NULL;
	char		 buf[TAKPROTO_MADE_MAX], asked[64];
	char		 who[CONN_WHO_MAX];
	int64_t		 now = clock_mono_ms();
	bool		 ok = false;

	if (s->takp == TAKPROTO_V1) {
		/* It negotiated once; v1 has no way back (docs/takproto.md). */
		w->cnt.drop_server_only++;
		log_debug("session %" PRIu64 ": TAK protocol request on a v1 "
		    "session: dropped", c->id);
		return;
	}
	if (v->takp_request > 0)
		snprintf(asked, sizeof(asked), "version %d", v->takp_request);
	else
		snprintf(asked, sizeof(asked), "%s", v->takp_request == 0 ?
		    "no version" : "a version that is no number");
	if (s->takp == TAKPROTO_NONE) {
		w->cnt.takp_refused++;
		why = "refused: no offer was made ([cot] protocol_offer off)";
	} else if (now > s->takp_until_ms) {
		/* The client would wait a minute for an answer, then hang up. */
		w->cnt.takp_timed_out++;
		why = "refused: more than 60 s after the offer";
	} else if (v->takp_request != 1) {
		/* The protocol gives a refused client another minute. */
		w->cnt.takp_refused++;
		s->takp_until_ms = now + TAKPROTO_WINDOW_MS;
		why = "refused: takd speaks version 1";
	} else {
		w->cnt.takp_accepted++;
		ok = true;
	}
	takproto_queue(w, c, buf, cot_make_takp_response(buf, sizeof(buf),
	    v->uid, ok, clock_wall_ms()));
	if (ok)
		takproto_to_v1(w, c);
	log_info("session %" PRIu64 ": TAK protocol %s asked for: %s (%s)",
	    c->id, asked, ok ? "switched to v1" : why,
	    conn_who(c, who, sizeof(who)));
	/* Right behind the answer, in the encoding it leaves the session in. */
	if (s->replay_due)
		takproto_replay(w, c);
}

int
takproto_feed(struct worker *w, struct conn *c, const uint8_t *buf,
    size_t n, int64_t now, const char **why)
{
	struct session	*s = &c->s;

	/* Between the request's </event> and the switch, XML's whitespace. */
	while (s->v1_lead && n > 0 && (*buf == ' ' || *buf == '\t' ||
	    *buf == '\r' || *buf == '\n')) {
		buf++;
		n--;
	}
	if (n == 0)
		return (0);
	s->v1_lead = false;
	return (takp_framer_feed(&s->tframer, buf, n, now, why));
}

int
takproto_switch(struct worker *w, struct conn *c, int64_t now,
    const char **why)
{
	struct session	*s = &c->s;
	const uint8_t	*rest;
	size_t		 n, k;
	int		 rc = 0;

	/*
	 * What came after the request in this read: at most one read's worth
	 * (the request ended in it), fed as the v1 framer takes it.
	 */
	n = cot_framer_rest(&s->framer, &rest);
	while (rc == 0 && n > 0) {
		k = n < TAKP_FRAME_FEED_MAX ? n : TAKP_FRAME_FEED_MAX;
		rc = takproto_feed(w, c, rest, k, now, why);
		rest += k;
		n -= k;
	}
	cot_framer_free(&s->framer);
	return (rc);
}

size_t
takproto_in_alloc(const struct conn *c)
{
	return (cot_framer_alloc(&c->s.framer) +
	    takp_framer_alloc(&c->s.tframer));
}

void
takproto_in_trim(struct conn *c)
{
	cot_framer_trim(&c->s.framer);
	takp_framer_trim(&c->s.tframer);
}

size_t
takproto_in_held(const struct conn *c, int64_t *since)
{
	if (c->s.enc == EVBUF_V1)
		return (takp_framer_held(&c->s.tframer, since));
	return (cot_framer_held(&c->s.framer, since));
}

void
takproto_in_free(struct conn *c)
{
	cot_framer_free(&c->s.framer);
	takp_framer_free(&c->s.tframer);
}

void
takproto_count(struct worker *w, uint64_t *xml, uint64_t *v1)
{
	struct conn	*c;

	*xml = *v1 = 0;
	TAILQ_FOREACH(c, &w->live, entry) {
		if (c->state != CONN_ESTABLISHED || !c->s.started)
			continue;
		if (c->s.enc == EVBUF_V1)
			(*v1)++;
		else
			(*xml)++;
	}
}
