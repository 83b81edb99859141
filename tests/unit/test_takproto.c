/*
 * Unit tests for TAK protocol v1 in the worker (worker/takproto.c,
 * worker/evconv.c and their part of session.c, deliver.c): the
 * negotiation, the switch of both directions to the byte, delivery in
 * mixed fleets with at most one conversion per event, the events takd
 * makes (pong, notices, replay) in each recipient's encoding, and what a
 * v1 session's bad input costs it.  Sessions are plain-TCP sessions on
 * socketpairs (tests/unit/worker_fx.h); what a v1 client receives is cut
 * into frames and read back with the codec (cot/takp.h).
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/unit.h"
#include "tests/unit/worker_fx.h"

#include "cot/cot_parse.h"
#include "cot/takp.h"
#include "cot/takp_frame.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "worker/conn.h"
#include "worker/evconv.h"
#include "worker/outq.h"
#include "worker/session.h"
#include "worker/takproto.h"
#include "worker/worker_int.h"

#define STALE		WORKER_FX_STALE
#define RX_MAX		64

/* One event a client received, read back as XML and as a view. */
struct rx_ev {
	bool		 v1;		/* came as a v1 frame */
	char		*xml;
	struct cot_view	 v;
};

struct rx {
	struct rx_ev	 ev[RX_MAX];
	int		 n;
};

/* Whether client i was told "true": what follows is v1 (the test's view). */
static bool	 rx_v1[WORKER_FX_MAX];

static void
rx_free(struct rx *r)
{
	int	 i;

	for (i = 0; i < r->n; i++)
		free(r->ev[i].xml);
	r->n = 0;
}

/*
 * Everything client i received since the last call, as events: XML up to
 * and including a "true" answer, v1 frames after it (each read with
 * takp_to_xml() and takp_decode()).  Fails on a byte that is neither.
 */
static void
rx_take(struct worker_fx *f, int i, struct rx *r)
{
	struct rx_ev	*e;
	const uint8_t	*p, *end;
	const char	*q;
	uint64_t	 plen;
	size_t		 used, xlen;
	char		 err[COT_ERR_MAX];

	memset(r, 0, sizeof(*r));
	worker_fx_recv(f, i);
	if (f->rx[i] == NULL)
		return;
	p = (const uint8_t *)f->rx[i];
	end = p + f->rxlen[i];
	while (p < end) {
		assert_true(r->n < RX_MAX);
		e = &r->ev[r->n++];
		if (!rx_v1[i]) {
			assert_memory_equal(p, "<event", 6);
			q = strstr((const char *)p, "</event>");
			assert_non_null(q);
			xlen = (size_t)(q + 8 - (const char *)p);
			assert_non_null(e->xml = strndup((const char *)p,
			    xlen));
			if (cot_parse(e->xml, xlen, &e->v, err,
			    sizeof(err)) == -1)
				fail_msg("XML event: %s: %s", err, e->xml);
			if (strcmp(e->v.type, "t-x-takp-r") == 0 &&
			    strstr(e->xml, "status=\"true\"") != NULL)
				rx_v1[i] = true;
			p += xlen;
			continue;
		}
		e->v1 = true;
		assert_int_equal(*p, TAKP_FRAME_LEAD);
		assert_int_equal(takp_varint_decode(p + 1, (size_t)(end - p - 1),
		    &plen, &used, NULL), 1);
		p += 1 + used;
		assert_true(plen <= (uint64_t)(end - p));
		if (takp_to_xml(p, plen, &e->xml, &xlen, err, sizeof(err)) ==
		    -1 || takp_decode(p, plen, &e->v, NULL, err,
		    sizeof(err)) != TAKP_EVENT)
			fail_msg("v1 frame of %zu bytes: %s", (size_t)plen,
			    err);
		p += plen;
	}
	free(f->rx[i]);
	f->rx[i] = NULL;
	f->rxlen[i] = 0;
}

/* The event of r of this type, or NULL. */
static struct rx_ev *
rx_find(struct rx *r, const char *type)
{
	int	 i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->ev[i].v.type, type) == 0)
			return (&r->ev[i]);
	return (NULL);
}

/* A TAK protocol request, as ATAK writes it. */
static char *
request(int version)
{
	char	*b;

	assert_non_null(b = malloc(1024));
	snprintf(b, 1024, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<event version=\"2.0\" uid=\"protouid\" type=\"t-x-takp-q\" "
	    "time=\"2026-11-23T08:00:00Z\" start=\"2026-11-23T08:00:00Z\" "
	    "stale=\"%s\" how=\"m-g\"><point lat=\"0.0\" lon=\"0.0\" "
	    "hae=\"0.0\" ce=\"999999\" le=\"999999\"/><detail><TakControl>"
	    "<TakRequest version=\"%d\"/></TakControl></detail></event>",
	    STALE, version);
	return (b);
}

/* The v1 frame of an XML event (freed by the caller). */
static uint8_t *
frame_of(const char *xml, size_t *len)
{
	uint8_t	*out;
	char	 err[COT_ERR_MAX];

	if (takp_from_xml(xml, strlen(xml), &out, len, err,
	    sizeof(err)) == -1)
		fail_msg("takp_from_xml: %s", err);
	return (out);
}

/* Client i sends the v1 frame of xml (freed). */
static void
send_v1(struct worker_fx *f, int i, char *xml)
{
	uint8_t	*fr;
	size_t	 len;

	fr = frame_of(xml, &len);
	worker_fx_send(f, i, (const char *)fr, len);
	free(fr);
	free(xml);
}

/* Client i connects with the offer on, reads it, and switches to v1. */
static void
connect_v1(struct worker_fx *f, int i)
{
	struct rx	 r;
	char		*q;

	worker_fx_connect(f, i);
	worker_fx_turn(f);
	rx_v1[i] = false;
	q = request(1);
	worker_fx_send(f, i, q, strlen(q));
	free(q);
	rx_take(f, i, &r);
	assert_non_null(rx_find(&r, "t-x-takp-v"));
	assert_non_null(rx_find(&r, "t-x-takp-r"));
	assert_true(rx_v1[i]);
	assert_int_equal(f->c[i]->s.enc, EVBUF_V1);
	rx_free(&r);
}

/* Bind v1 client i as uid/callsign with a v1 SA; clear what others got. */
static void
bind_v1(struct worker_fx *f, int i, const char *uid, const char *cs)
{
	int	 j;

	send_v1(f, i, worker_fx_sa(uid, cs, STALE, 0));
	assert_string_equal(f->c[i]->s.uid, uid);
	for (j = 0; j < WORKER_FX_MAX; j++)
		if (f->c[j] != NULL && f->peer[j] > 0)
			(void)worker_fx_events(f, j, NULL, 0);
}

/* Client i connects with the offer on and stays on XML. */
static void
connect_xml(struct worker_fx *f, int i)
{
	worker_fx_connect(f, i);
	worker_fx_turn(f);
	rx_v1[i] = false;
	(void)worker_fx_events(f, i, NULL, 0);	/* the offer */
}

/* Client i's deferred replay is due now. */
static void
replay_now(struct worker_fx *f, int i)
{
	takproto_sweep(&f->w, f->c[i], clock_mono_ms() +
	    TAKPROTO_REPLAY_WAIT_MS);
	worker_fx_turn(f);
}

static int
offer_setup(void **state)
{
	struct worker_fx	*f;

	if (worker_fx_setup(state) != 0)
		return (-1);
	f = *state;
	f->cfg.protocol_offer = true;
	worker_fx_budgets_off(f);
	memset(rx_v1, 0, sizeof(rx_v1));
	return (0);
}

/* --- the conversion cache --------------------------------------------- */

/* One conversion per event, whatever the number of recipients. */
static void
test_evconv_once(void **state)
{
	struct counters	 cnt;
	struct evbuf	*ev, *v1, *again, *back, *bad;
	const uint8_t	*body;
	char		*sa, *xml;
	const char	*nopoint;
	size_t		 mem0 = outq_mem(), len, xlen;
	char		 err[COT_ERR_MAX];

	(void)state;
	memset(&cnt, 0, sizeof(cnt));
	sa = worker_fx_sa("UID-A", "ALPHA", STALE, 0);
	assert_non_null(ev = evbuf_new(worker_fx_body(sa),
	    strlen(worker_fx_body(sa))));
	assert_ptr_equal(evconv_get0(ev, EVBUF_XML, &cnt), ev);
	assert_non_null(v1 = evconv_get0(ev, EVBUF_V1, &cnt));
	assert_int_equal(v1->enc, EVBUF_V1);
	assert_int_equal(v1->data[0], TAKP_FRAME_LEAD);
	/* The frame the codec writes, byte for byte. */
	{
		uint8_t	*fr;

		fr = frame_of(worker_fx_body(sa), &len);
		assert_int_equal(v1->len, len);
		assert_memory_equal(v1->data, fr, len);
		free(fr);
	}
	for (int i = 0; i < 100; i++) {
		assert_non_null(again = evconv_get0(ev, EVBUF_V1, &cnt));
		assert_ptr_equal(again, v1);
	}
	assert_int_equal(cnt.takp_xml_to_v1, 1);
	assert_int_equal(cnt.takp_v1_to_xml, 0);
	/* A queue's reference keeps the counterpart past the original. */
	evbuf_ref(v1);
	evbuf_unref(ev);
	assert_int_equal(v1->refs, 1);

	/* The way back: the v1 event's XML, once. */
	body = evbuf_body(v1, &len);
	assert_non_null(ev = evbuf_new_v1(body, len));
	assert_int_equal(ev->len, v1->len);
	assert_memory_equal(ev->data, v1->data, v1->len);
	assert_non_null(back = evconv_get0(ev, EVBUF_XML, &cnt));
	assert_ptr_equal(evconv_get0(ev, EVBUF_XML, &cnt), back);
	assert_int_equal(cnt.takp_v1_to_xml, 1);
	assert_int_equal(takp_to_xml(body, len, &xml, &xlen, err,
	    sizeof(err)), 0);
	assert_int_equal(back->len, xlen);
	assert_memory_equal(back->data, xml, xlen);
	free(xml);
	evbuf_unref(ev);
	evbuf_unref(v1);

	/* v1 carries no event without a point: refused once, remembered. */
	nopoint = "<event version=\"2.0\" uid=\"x\" type=\"b-t-f\" "
	    "how=\"h-e\" time=\"2026-11-23T08:00:00Z\" "
	    "start=\"2026-11-23T08:00:00Z\" stale=\"2099-01-01T00:00:00Z\">"
	    "<detail/></event>";
	assert_non_null(bad = evbuf_new(nopoint, strlen(nopoint)));
	assert_null(evconv_get0(bad, EVBUF_V1, &cnt));
	assert_null(evconv_get0(bad, EVBUF_V1, &cnt));
	assert_true(bad->unconvertible);
	assert_int_equal(cnt.takp_xml_to_v1_failed, 1);
	assert_int_equal(cnt.takp_xml_to_v1, 1);
	evbuf_unref(bad);
	free(sa);
	/* Every event and counterpart was freed. */
	assert_int_equal(outq_mem(), mem0);
}

/* --- negotiation ------------------------------------------------------ */

/*
 * The offer is the first thing a session gets; the replay waits for its
 * answer, which comes as XML, and everything after it as v1.  The v1
 * frame the client sent in the same write as its request is read as v1.
 */
static void
test_offer_switch(void **state)
{
	struct worker_fx	*f = *state;
	struct rx		 r;
	char			*q, *sa, buf[4096];
	uint8_t			*fr;
	size_t			 flen, qlen;

	connect_xml(f, 0);
	worker_fx_bind(f, 0, "UID-X", "XRAY");
	worker_fx_connect(f, 1);
	worker_fx_turn(f);
	rx_take(f, 1, &r);
	/* The offer alone: the replay of UID-X waits. */
	assert_int_equal(r.n, 1);
	assert_string_equal(r.ev[0].v.type, "t-x-takp-v");
	assert_string_equal(r.ev[0].v.uid, "protouid");
	assert_non_null(strstr(r.ev[0].xml,
	    "<TakProtocolSupport version=\"1\"/>"));
	assert_true(f->c[1]->s.replay_due);
	rx_free(&r);
	assert_int_equal(f->w.cnt.takp_offered, 2);

	/* The request and a first v1 frame in one write. */
	q = request(1);
	sa = worker_fx_sa("UID-V", "VICTOR", STALE, 0);
	fr = frame_of(worker_fx_body(sa), &flen);
	qlen = strlen(q);
	assert_true(qlen + flen < sizeof(buf));
	memcpy(buf, q, qlen);
	memcpy(buf + qlen, fr, flen);
	worker_fx_send(f, 1, buf, qlen + flen);
	assert_true(worker_fx_alive(f, 1));
	assert_int_equal(f->c[1]->s.enc, EVBUF_V1);
	assert_int_equal(f->c[1]->s.takp, TAKPROTO_V1);
	/* Bound by its v1 SA. */
	assert_string_equal(f->c[1]->s.uid, "UID-V");
	assert_int_equal(f->w.cnt.takp_accepted, 1);

	rx_take(f, 1, &r);
	/* The answer in XML, under the request's uid; the replay in v1. */
	assert_int_equal(r.n, 2);
	assert_false(r.ev[0].v1);
	assert_string_equal(r.ev[0].v.type, "t-x-takp-r");
	assert_string_equal(r.ev[0].v.uid, "protouid");
	assert_non_null(strstr(r.ev[0].xml, "<TakResponse status=\"true\"/>"));
	assert_true(r.ev[1].v1);
	assert_string_equal(r.ev[1].v.uid, "UID-X");
	assert_false(f->c[1]->s.replay_due);
	rx_free(&r);

	/* Its SA reached the XML client as XML, with its content. */
	rx_take(f, 0, &r);
	assert_int_equal(r.n, 1);
	assert_false(r.ev[0].v1);
	assert_string_equal(r.ev[0].v.uid, "UID-V");
	assert_string_equal(r.ev[0].v.callsign, "VICTOR");
	assert_true(r.ev[0].v.has_point);
	assert_true(r.ev[0].v.lat == 1.0 && r.ev[0].v.lon == 2.0);
	assert_non_null(strstr(r.ev[0].xml, "<__group name=\"Cyan\" "
	    "role=\"Team Member\"/>"));
	rx_free(&r);
	{
		uint64_t	 x, v;

		takproto_count(&f->w, &x, &v);
		assert_int_equal(x, 1);
		assert_int_equal(v, 1);
	}
	free(fr);
	free(sa);
	free(q);
}

/*
 * Wherever the reads split the request and the frames behind it, the
 * outcome is the same: the switch happens after the request's last byte.
 */
static void
test_switch_splits(void **state)
{
	struct worker_fx	*f = *state;
	struct rx		 r;
	char			*q, *ping, buf[4096];
	uint8_t			*fr;
	size_t			 flen, qlen, len, k;
	int			 i = 0;

	q = request(1);
	ping = worker_fx_ping("UID-S");
	fr = frame_of(ping, &flen);
	qlen = strlen(q);
	memcpy(buf, q, qlen);
	/* Whitespace after </event> is the XML stream's, then 2 frames. */
	memcpy(buf + qlen, "\r\n", 2);
	memcpy(buf + qlen + 2, fr, flen);
	memcpy(buf + qlen + 2 + flen, fr, flen);
	len = qlen + 2 + 2 * flen;
	for (k = qlen - 3; k < len; k += k < qlen + 4 ? 1 : 7) {
		worker_fx_connect(f, i);
		worker_fx_turn(f);
		rx_v1[i] = false;
		worker_fx_send(f, i, buf, k);
		worker_fx_send(f, i, buf + k, len - k);
		assert_true(worker_fx_alive(f, i));
		rx_take(f, i, &r);
		/* Offer, answer, two pongs in v1. */
		if (r.n != 4)
			fail_msg("split at %zu: %d events", k, r.n);
		assert_string_equal(r.ev[1].v.type, "t-x-takp-r");
		assert_true(r.ev[2].v1 && r.ev[3].v1);
		assert_string_equal(r.ev[2].v.uid, "takPong");
		assert_string_equal(r.ev[3].v.type, "t-x-c-t-r");
		rx_free(&r);
		conn_close(&f->w, f->c[i], "next split");
		conn_reap(&f->w);
		close(f->peer[i]);
		f->peer[i] = -1;
		f->c[i] = NULL;
	}
	free(fr);
	free(ping);
	free(q);
}

/* Another version, late requests, no offer: "false", and XML stays. */
static void
test_refusals(void **state)
{
	struct worker_fx	*f = *state;
	struct rx		 r;
	char			*q;

	connect_xml(f, 0);
	q = request(2);
	worker_fx_send(f, 0, q, strlen(q));
	free(q);
	rx_take(f, 0, &r);
	assert_int_equal(r.n, 1);
	assert_non_null(strstr(r.ev[0].xml, "status=\"false\""));
	assert_false(rx_v1[0]);
	rx_free(&r);
	assert_int_equal(f->c[0]->s.enc, EVBUF_XML);
	assert_int_equal(f->w.cnt.takp_refused, 1);
	/* Still XML: an SA in XML binds it. */
	worker_fx_send_str(f, 0, worker_fx_sa("UID-A", "ALPHA", STALE, 0));
	assert_string_equal(f->c[0]->s.uid, "UID-A");
	/* A refused client has another minute: version 1 now works. */
	f->c[0]->s.takp_until_ms = clock_mono_ms() + 100;
	q = request(1);
	worker_fx_send(f, 0, q, strlen(q));
	free(q);
	assert_int_equal(f->c[0]->s.enc, EVBUF_V1);
	assert_int_equal(f->w.cnt.takp_accepted, 1);
	rx_take(f, 0, &r);
	assert_int_equal(r.n, 1);
	assert_non_null(strstr(r.ev[0].xml, "status=\"true\""));
	rx_free(&r);

	/* Past the window: refused, counted as timed out. */
	connect_xml(f, 1);
	f->c[1]->s.takp_until_ms = clock_mono_ms() - 1;
	q = request(1);
	worker_fx_send(f, 1, q, strlen(q));
	free(q);
	rx_take(f, 1, &r);
	/* The answer, then the replay it waited for, in XML. */
	assert_int_equal(r.n, 2);
	assert_non_null(strstr(r.ev[0].xml, "status=\"false\""));
	assert_false(r.ev[1].v1);
	assert_string_equal(r.ev[1].v.uid, "UID-A");
	rx_free(&r);
	assert_int_equal(f->c[1]->s.enc, EVBUF_XML);
	assert_int_equal(f->w.cnt.takp_timed_out, 1);

	/* A request without a version is refused too. */
	q = request(1);
	*strstr(q, " version=\"1\"") = '\0';
	strcat(q, "/></TakControl></detail></event>");
	connect_xml(f, 2);
	worker_fx_send(f, 2, q, strlen(q));
	free(q);
	assert_int_equal(f->c[2]->s.enc, EVBUF_XML);
	assert_int_equal(f->w.cnt.takp_refused, 2);

	/* No offer made: no switch either. */
	f->cfg.protocol_offer = false;
	worker_fx_connect(f, 3);
	worker_fx_turn(f);
	/* No offer, and the replay at once. */
	rx_take(f, 3, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.ev[0].v.uid, "UID-A");
	rx_free(&r);
	q = request(1);
	worker_fx_send(f, 3, q, strlen(q));
	free(q);
	rx_take(f, 3, &r);
	assert_int_equal(r.n, 1);
	assert_non_null(strstr(r.ev[0].xml, "status=\"false\""));
	rx_free(&r);
	assert_int_equal(f->c[3]->s.enc, EVBUF_XML);
	assert_int_equal(f->w.cnt.takp_refused, 3);
	assert_int_equal(f->w.cnt.takp_offered, 3);
	/* Nothing of the negotiation reached anybody else. */
	rx_take(f, 0, &r);
	assert_int_equal(r.n, 0);
}

/* A v1 session that asks again: dropped, no answer, v1 stays. */
static void
test_request_after_switch(void **state)
{
	struct worker_fx	*f = *state;
	struct rx		 r;

	connect_v1(f, 0);
	connect_xml(f, 1);
	send_v1(f, 0, request(1));
	assert_true(worker_fx_alive(f, 0));
	assert_int_equal(f->c[0]->s.enc, EVBUF_V1);
	assert_int_equal(f->w.cnt.drop_server_only, 1);
	assert_int_equal(f->w.cnt.takp_accepted, 1);
	rx_take(f, 0, &r);
	assert_int_equal(r.n, 0);
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);
	/* A client's offer or answer is never relayed either. */
	worker_fx_send_str(f, 1, strdup("<event version=\"2.0\" "
	    "uid=\"protouid\" type=\"t-x-takp-v\" how=\"m-g\" "
	    "time=\"2026-11-23T08:00:00Z\" start=\"2026-11-23T08:00:00Z\" "
	    "stale=\"2099-01-01T00:00:00Z\"><point lat=\"0\" lon=\"0\" "
	    "hae=\"0\" ce=\"9\" le=\"9\"/><detail><TakControl>"
	    "<TakProtocolSupport version=\"1\"/></TakControl></detail>"
	    "</event>"));
	assert_int_equal(f->w.cnt.drop_server_only, 2);
	rx_take(f, 0, &r);
	assert_int_equal(r.n, 0);
}

/* --- delivery ---------------------------------------------------------- */

/*
 * Two XML and three v1 clients: each gets every event in its own
 * encoding, with the same content, and each event is converted once.
 */
static void
test_mixed_fleet(void **state)
{
	struct worker_fx	*f = *state;
	static const char *const to_x0[] = { "callsign=XRAY0", NULL };
	static const char *const to_v3[] = { "uid=UID-V3", NULL };
	struct rx		 r;
	char			*sa;
	int			 i;

	connect_xml(f, 0);
	connect_xml(f, 1);
	connect_v1(f, 2);
	connect_v1(f, 3);
	connect_v1(f, 4);
	worker_fx_bind(f, 0, "UID-X0", "XRAY0");
	worker_fx_bind(f, 1, "UID-X1", "XRAY1");
	/* The replays of 2..4 are due: they happened at their answers. */
	f->w.cnt.takp_xml_to_v1 = f->w.cnt.takp_v1_to_xml = 0;

	/* An XML SA: the XML clients get its bytes, the v1 ones a frame. */
	sa = worker_fx_sa("UID-X0", "XRAY0", STALE, 5);
	worker_fx_send(f, 0, sa, strlen(sa));
	rx_take(f, 1, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.ev[0].xml, worker_fx_body(sa));
	rx_free(&r);
	for (i = 2; i <= 4; i++) {
		rx_take(f, i, &r);
		assert_int_equal(r.n, 1);
		assert_true(r.ev[0].v1);
		assert_string_equal(r.ev[0].v.uid, "UID-X0");
		assert_string_equal(r.ev[0].v.callsign, "XRAY0");
		assert_string_equal(r.ev[0].v.group_name, "Cyan");
		assert_non_null(strstr(r.ev[0].xml,
		    "<remarks>xxxxx</remarks>"));
		rx_free(&r);
	}
	assert_int_equal(f->w.cnt.takp_xml_to_v1, 1);
	free(sa);

	/* A v1 SA: one conversion for both XML clients and the store. */
	send_v1(f, 2, worker_fx_sa("UID-V2", "VICTOR2", STALE, 3));
	assert_string_equal(f->c[2]->s.uid, "UID-V2");
	for (i = 0; i <= 4; i++) {
		if (i == 2)
			continue;
		rx_take(f, i, &r);
		assert_int_equal(r.n, 1);
		assert_int_equal(r.ev[0].v1, i >= 2);
		assert_string_equal(r.ev[0].v.uid, "UID-V2");
		assert_string_equal(r.ev[0].v.callsign, "VICTOR2");
		assert_non_null(strstr(r.ev[0].xml,
		    "<remarks>xxx</remarks>"));
		rx_free(&r);
	}
	assert_int_equal(f->w.cnt.takp_v1_to_xml, 1);
	assert_int_equal(f->w.cnt.sa_stored, 4);

	/* Directed, both ways: only the one named, in its encoding. */
	bind_v1(f, 3, "UID-V3", "VICTOR3");
	send_v1(f, 2, worker_fx_chat("chat-1", "to-x0", to_x0));
	rx_take(f, 0, &r);
	assert_int_equal(r.n, 1);
	assert_false(r.ev[0].v1);
	assert_string_equal(r.ev[0].v.uid, "chat-1");
	assert_non_null(strstr(r.ev[0].xml, "<remarks>to-x0</remarks>"));
	assert_non_null(strstr(r.ev[0].xml, "<dest callsign=\"XRAY0\"/>"));
	rx_free(&r);
	worker_fx_send_str(f, 1, worker_fx_chat("chat-2", "to-v3", to_v3));
	rx_take(f, 3, &r);
	assert_int_equal(r.n, 1);
	assert_true(r.ev[0].v1);
	assert_string_equal(r.ev[0].v.uid, "chat-2");
	assert_int_equal(r.ev[0].v.n_dest, 1);
	rx_free(&r);
	for (i = 0; i <= 4; i++)
		assert_int_equal(worker_fx_events(f, i, NULL, 0), 0);
}

/* Pongs, disconnect notices and group notices in v1 for a v1 client. */
static void
test_made_events_v1(void **state)
{
	struct worker_fx	*f = *state;
	struct rx		 r;

	connect_v1(f, 0);
	connect_xml(f, 1);
	connect_v1(f, 2);
	worker_fx_bind(f, 1, "UID-X", "XRAY");
	bind_v1(f, 2, "UID-V", "VICTOR");
	f->w.cnt.takp_xml_to_v1 = 0;
	send_v1(f, 0, worker_fx_ping("UID-P"));
	rx_take(f, 0, &r);
	assert_int_equal(r.n, 1);
	assert_true(r.ev[0].v1);
	assert_string_equal(r.ev[0].v.uid, "takPong");
	assert_string_equal(r.ev[0].v.type, "t-x-c-t-r");
	rx_free(&r);
	assert_int_equal(f->w.cnt.pongs, 1);

	/* XML client leaves: v1 clients are told in v1. */
	close(f->peer[1]);
	f->peer[1] = -1;
	conn_handle(&f->w, f->c[1], EPOLLIN);
	worker_fx_turn(f);
	rx_take(f, 0, &r);
	assert_int_equal(r.n, 1);
	assert_true(r.ev[0].v1);
	assert_string_equal(r.ev[0].v.type, "t-x-d-d");
	assert_string_equal(r.ev[0].v.link_uid, "UID-X");
	rx_free(&r);
	/* One conversion of the notice for two v1 clients (and the pong). */
	rx_take(f, 2, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.ev[0].v.link_uid, "UID-X");
	rx_free(&r);
	assert_int_equal(f->w.cnt.takp_xml_to_v1, 2);
	conn_reap(&f->w);
}

/*
 * The latest-SA replay: right after the answer (in v1) for a client that
 * asks, after the wait (in XML) for one that does not, at once without an
 * offer.  A replay that waited leaves out the client's own uid and what
 * was stored after it connected (it got that live).  The store keeps XML,
 * a v1 sender's SA included.
 */
static void
test_replay(void **state)
{
	struct worker_fx	*f = *state;
	struct rx		 r;
	int			 i;

	connect_v1(f, 0);
	send_v1(f, 0, worker_fx_sa("UID-V", "VICTOR", STALE, 0));
	/* The store dates SAs to the ms: keep these apart. */
	usleep(3000);
	connect_xml(f, 1);
	usleep(3000);
	worker_fx_bind(f, 1, "UID-X", "XRAY");
	send_v1(f, 0, worker_fx_sa("UID-V", "VICTOR", STALE, 4));
	rx_take(f, 1, &r);
	assert_int_equal(r.n, 1);
	assert_non_null(strstr(r.ev[0].xml, "<remarks>xxxx</remarks>"));
	rx_free(&r);
	replay_now(f, 1);
	rx_take(f, 1, &r);
	assert_int_equal(r.n, 0);
	assert_false(f->c[1]->s.replay_due);
	assert_int_equal(f->w.cnt.sa_replayed, 0);
	(void)worker_fx_events(f, 0, NULL, 0);
	usleep(3000);

	/* Never asks: nothing but the offer until the wait is over. */
	worker_fx_connect(f, 3);
	worker_fx_turn(f);
	rx_take(f, 3, &r);
	assert_int_equal(r.n, 1);
	rx_free(&r);
	takproto_sweep(&f->w, f->c[3], clock_mono_ms());
	worker_fx_turn(f);
	assert_int_equal(worker_fx_events(f, 3, NULL, 0), 0);
	replay_now(f, 3);
	rx_take(f, 3, &r);
	assert_int_equal(r.n, 2);
	assert_false(r.ev[0].v1 || r.ev[1].v1);
	/* The v1 sender's SA, kept as XML, its latest. */
	i = strcmp(r.ev[0].v.uid, "UID-V") == 0 ? 0 : 1;
	assert_string_equal(r.ev[i].v.uid, "UID-V");
	assert_non_null(strstr(r.ev[i].xml, "<remarks>xxxx</remarks>"));
	assert_string_equal(r.ev[1 - i].v.uid, "UID-X");
	rx_free(&r);

	/* Without the offer, at once, as before. */
	f->cfg.protocol_offer = false;
	worker_fx_connect(f, 4);
	worker_fx_turn(f);
	assert_int_equal(worker_fx_events(f, 4, NULL, 0), 2);
	assert_int_equal(f->w.cnt.sa_replayed, 4);
}

/* The replay a v1 client gets at its answer: counted, in v1, complete. */
static void
test_replay_in_v1(void **state)
{
	struct worker_fx	*f = *state;
	struct rx		 r;
	char			*q;

	connect_xml(f, 0);
	worker_fx_bind(f, 0, "UID-X", "XRAY");
	worker_fx_connect(f, 1);
	worker_fx_turn(f);
	q = request(1);
	worker_fx_send(f, 1, q, strlen(q));
	free(q);
	rx_take(f, 1, &r);
	assert_int_equal(r.n, 3);
	assert_string_equal(r.ev[0].v.type, "t-x-takp-v");
	assert_string_equal(r.ev[1].v.type, "t-x-takp-r");
	assert_true(r.ev[2].v1);
	assert_string_equal(r.ev[2].v.uid, "UID-X");
	assert_string_equal(r.ev[2].v.callsign, "XRAY");
	rx_free(&r);
}

/* --- bad input ---------------------------------------------------------- */

/*
 * A message the codec refuses, or a TakControl alone, is dropped and the
 * session stays (the frame kept the stream in step); a framing error
 * closes the session, and only it.
 */
static void
test_v1_bad_input(void **state)
{
	struct worker_fx	*f = *state;
	static const uint8_t garbage[] = { 0xbf, 0x04, 0xff, 0xff, 0xff, 0xff };
	/* TakMessage { takControl { minProtoVersion 1 } } */
	static const uint8_t control[] = { 0xbf, 0x04, 0x0a, 0x02, 0x08, 0x01 };
	static const uint8_t zeros[] = { 0x00, 0x00 };
	static const uint8_t huge[] = { 0xbf, 0xff, 0xff, 0xff, 0xff, 0x0f };
	struct rx		 r;

	connect_v1(f, 0);
	connect_v1(f, 1);
	connect_xml(f, 2);
	worker_fx_send(f, 0, (const char *)garbage, sizeof(garbage));
	assert_true(worker_fx_alive(f, 0));
	assert_int_equal(f->w.cnt.drop_takp_invalid, 1);
	worker_fx_send(f, 0, (const char *)control, sizeof(control));
	worker_fx_send(f, 0, (const char *)zeros, sizeof(zeros));
	assert_true(worker_fx_alive(f, 0));
	assert_int_equal(f->w.cnt.drop_takp_control, 1);
	/* The next frame goes through. */
	send_v1(f, 0, worker_fx_sa("UID-A", "ALPHA", STALE, 0));
	assert_string_equal(f->c[0]->s.uid, "UID-A");
	assert_int_equal(f->w.cnt.takp_zeros, 2);
	assert_int_equal(worker_fx_events(f, 2, NULL, 0), 1);
	rx_take(f, 1, &r);
	assert_int_equal(r.n, 1);
	rx_free(&r);

	/* XML on a v1 stream: a framing error, this session only. */
	worker_fx_send_str(f, 0, worker_fx_ping("UID-A"));
	assert_false(worker_fx_alive(f, 0));
	assert_int_equal(f->w.cnt.close_framing, 1);
	assert_int_equal(f->w.cnt.takp_framing, 1);
	/* A length past max_event_bytes: refused at the header. */
	worker_fx_send(f, 1, (const char *)huge, sizeof(huge));
	assert_false(worker_fx_alive(f, 1));
	assert_int_equal(f->w.cnt.takp_framing, 2);
	assert_true(worker_fx_alive(f, 2));
	conn_reap(&f->w);
}

/*
 * An event v1 cannot carry (no <point>) reaches the XML clients and none
 * of the v1 ones: counted once as a failed conversion, per recipient as
 * dropped; never a broken frame.
 */
static void
test_unconvertible(void **state)
{
	struct worker_fx	*f = *state;
	struct rx		 r;
	static const char	 ev[] = "<event version=\"2.0\" uid=\"m-1\" "
	    "type=\"b-m-p-s-m\" how=\"h-e\" time=\"2026-11-23T08:00:00Z\" "
	    "start=\"2026-11-23T08:00:00Z\" stale=\"2099-01-01T00:00:00Z\">"
	    "<detail><remarks>no point</remarks></detail></event>";

	connect_xml(f, 0);
	connect_xml(f, 1);
	connect_v1(f, 2);
	connect_v1(f, 3);
	worker_fx_send(f, 0, ev, strlen(ev));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 1);
	rx_take(f, 2, &r);
	assert_int_equal(r.n, 0);
	rx_take(f, 3, &r);
	assert_int_equal(r.n, 0);
	assert_int_equal(f->w.cnt.takp_xml_to_v1_failed, 1);
	assert_int_equal(f->w.cnt.drop_unconvertible, 2);
	assert_true(worker_fx_alive(f, 2) && worker_fx_alive(f, 3));
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evconv_once),
		cmocka_unit_test_setup_teardown(test_offer_switch,
		    offer_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_switch_splits,
		    offer_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_refusals,
		    offer_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_request_after_switch,
		    offer_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_mixed_fleet,
		    offer_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_made_events_v1,
		    offer_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_replay,
		    offer_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_replay_in_v1,
		    offer_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_v1_bad_input,
		    offer_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_unconvertible,
		    offer_setup, worker_fx_teardown),
	};

	log_init(LOG_DEST_STDERR, NULL, LOG_WARNING);
	cot_parse_init();
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
