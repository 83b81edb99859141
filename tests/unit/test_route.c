/*
 * Unit tests for routing in one worker: route_decide() on real samples, and
 * the whole data path of worker/session.c, route.c, registry.c, outq.c and
 * the output side of conn.c, driven through plain-TCP sessions on
 * socketpairs (tests/unit/worker_fx.h: the real conn_new() with a [tcp]
 * acceptor, no TLS): events written at one end come out, byte for byte,
 * at the ends of the sessions they are routed to.  The LMDB store lives in
 * a temp dir per test.
 *
 * Samples are read with unit_sample() (tests/unit/unit.h).
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "shared/clock.h"
#include "tests/unit/unit.h"
#include "tests/unit/worker_fx.h"

#include "cot/cot_parse.h"
#include "shared/config.h"
#include "shared/log.h"
#include "worker/conn.h"
#include "worker/registry.h"
#include "worker/route.h"
#include "worker/session.h"
#include "worker/worker_int.h"

#define STALE		WORKER_FX_STALE
#define PAST		"2001-01-01T00:00:00.000Z"

/* --- tests -------------------------------------------------------- */

static void
test_decide(void **state)
{
	static const struct {
		const char		*sample;
		enum route_action	 want;
	} samples[] = {
		{ "ping.xml", ROUTE_PONG },
		{ "sa-atak.xml", ROUTE_BROADCAST },
		{ "sa-wintak.xml", ROUTE_BROADCAST },
		{ "chat-all.xml", ROUTE_BROADCAST },
		{ "chat-direct.xml", ROUTE_DIRECTED },
		{ "marker-directed-uid.xml", ROUTE_DIRECTED },
		{ "disconnect.xml", ROUTE_BROADCAST },
		{ "pong.xml", ROUTE_BROADCAST },
	};
	static const char *const bravo[] = { "callsign=BRAVO", NULL };
	static const char *const all[] = { "callsign=All Streaming", NULL };
	static const char *const all_b[] = { "callsign=All Streaming",
	    "uid=B", NULL };
	static const char *const mission[] = { "mission=M1", NULL };
	static const char *const none[] = { NULL };
	struct {
		const char *const	*dests;
		enum route_action	 want;
	} made[] = {
		{ NULL, ROUTE_BROADCAST },
		{ bravo, ROUTE_DIRECTED },
		{ all, ROUTE_BROADCAST },
		{ all_b, ROUTE_BROADCAST },
		{ mission, ROUTE_NO_RECIPIENT },
		{ none, ROUTE_NO_RECIPIENT },
	};
	struct cot_view	*v;
	struct blob	 s;
	char		 err[COT_ERR_MAX], *b;
	size_t		 i;

	v = malloc(sizeof(*v));
	assert_non_null(v);
	/* Before any fixture: unit_sample() may use a relative path. */
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		s = unit_sample(samples[i].sample);
		if (cot_parse(s.data, s.len, v, err, sizeof(err)) == -1)
			fail_msg("%s: %s", samples[i].sample, err);
		if (route_decide(v) != samples[i].want)
			fail_msg("%s: %s, want %s", samples[i].sample,
			    route_action_name(route_decide(v)),
			    route_action_name(samples[i].want));
		free(s.data);
	}
	for (i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		b = worker_fx_chat("U", "t", made[i].dests);
		if (cot_parse(b, strlen(b), v, err, sizeof(err)) == -1)
			fail_msg("case %zu: %s", i, err);
		if (route_decide(v) != made[i].want)
			fail_msg("case %zu: %s, want %s", i,
			    route_action_name(route_decide(v)),
			    route_action_name(made[i].want));
		free(b);
	}
	free(v);
}

static void
test_broadcast_sa(void **state)
{
	struct worker_fx	*f = *state;
	char			*sa, got[4096];
	int			 i;

	for (i = 0; i < 3; i++)
		worker_fx_connect(f, i);
	sa = worker_fx_sa("UID-A", "ALPHA", STALE, 0);
	worker_fx_send(f, 0, sa, strlen(sa));
	/*
	 * The others get it byte for byte from "<event": the declaration
	 * before it is dropped, never relayed.
	 */
	for (i = 1; i < 3; i++) {
		assert_int_equal(worker_fx_events(f, i, got, sizeof(got)), 1);
		assert_string_equal(got, worker_fx_body(sa));
	}
	/* Never back to its sender. */
	assert_int_equal(worker_fx_events(f, 0, NULL, 0), 0);
	assert_string_equal(f->c[0]->s.uid, "UID-A");
	assert_string_equal(f->c[0]->s.callsign, "ALPHA");
	assert_string_equal(f->c[0]->s.group, "Cyan");
	assert_string_equal(f->c[0]->s.last_sa_type, "a-f-G-U-C");
	assert_int_equal(f->w.cnt.events_in, 1);
	assert_int_equal(f->w.cnt.events_out, 2);

	/* Several events in one read come out in order. */
	free(sa);
	sa = malloc(8192);
	assert_non_null(sa);
	snprintf(sa, 8192, "%s\n%s", "<event uid=\"m1\" type=\"a-h-G\" "
	    "stale=\"" STALE "\"/>", "<event uid=\"m2\" type=\"a-h-G\" "
	    "stale=\"" STALE "\"></event>");
	worker_fx_send(f, 1, sa, strlen(sa));
	assert_int_equal(worker_fx_events(f, 0, got, sizeof(got)), 2);
	assert_non_null(strstr(got, "m1"));
	assert_true(strstr(got, "m1") < strstr(got, "m2"));
	free(sa);
}

static void
test_ping_pong(void **state)
{
	struct worker_fx	*f = *state;
	char			 got[4096];

	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	worker_fx_send_str(f, 0, worker_fx_ping("UID-A"));
	assert_int_equal(worker_fx_events(f, 0, got, sizeof(got)), 1);
	assert_non_null(strstr(got, "uid=\"takPong\""));
	assert_non_null(strstr(got, "type=\"t-x-c-t-r\""));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);
	/* A ping binds no identity. */
	assert_string_equal(f->c[0]->s.uid, "");
	assert_int_equal(f->w.cnt.pongs, 1);
}

static void
test_directed(void **state)
{
	static const char *const to_b[] = { "callsign=BRAVO", NULL };
	static const char *const to_c_uid[] = { "uid=UID-C", NULL };
	static const char *const to_b_twice[] = { "callsign=BRAVO",
	    "uid=UID-B", NULL };
	static const char *const to_b_c[] = { "callsign=BRAVO",
	    "callsign=CHARLIE", NULL };
	static const char *const to_nobody[] = { "callsign=ZULU", NULL };
	static const char *const to_self[] = { "callsign=ALPHA", NULL };
	static const char *const to_all[] = { "callsign=All Streaming",
	    NULL };
	struct worker_fx	*f = *state;
	char			 got[4096];
	uint64_t		 nr;

	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	worker_fx_connect(f, 2);
	worker_fx_bind(f, 0, "UID-A", "ALPHA");
	worker_fx_bind(f, 1, "UID-B", "BRAVO");
	worker_fx_bind(f, 2, "UID-C", "CHARLIE");

	worker_fx_send_str(f, 0, worker_fx_chat("c1", "to bravo", to_b));
	assert_int_equal(worker_fx_events(f, 1, got, sizeof(got)), 1);
	assert_non_null(strstr(got, "to bravo"));
	assert_non_null(strstr(got, "<dest callsign=\"BRAVO\"/>"));
	assert_int_equal(worker_fx_events(f, 2, NULL, 0), 0);

	worker_fx_send_str(f, 0, worker_fx_chat("c2", "to C by uid", to_c_uid));
	assert_int_equal(worker_fx_events(f, 2, NULL, 0), 1);
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);

	/* Named twice, delivered once. */
	worker_fx_send_str(f, 0, worker_fx_chat("c3", "twice", to_b_twice));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 1);
	assert_int_equal(worker_fx_events(f, 2, NULL, 0), 0);

	worker_fx_send_str(f, 0, worker_fx_chat("c4", "both", to_b_c));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 1);
	assert_int_equal(worker_fx_events(f, 2, NULL, 0), 1);

	/* Nobody by that name: counted (no other worker could have it). */
	nr = f->w.cnt.drop_no_recipient;
	worker_fx_send_str(f, 0, worker_fx_chat("c5", "nobody", to_nobody));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);
	assert_int_equal(worker_fx_events(f, 2, NULL, 0), 0);
	assert_int_equal(f->w.cnt.drop_no_recipient, nr + 1);

	/* The sender naming itself gets nothing back. */
	worker_fx_send_str(f, 0, worker_fx_chat("c6", "self", to_self));
	assert_int_equal(worker_fx_events(f, 0, NULL, 0), 0);
	assert_int_equal(f->w.cnt.drop_no_recipient, nr + 2);

	worker_fx_send_str(f, 0, worker_fx_chat("c7", "all", to_all));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 1);
	assert_int_equal(worker_fx_events(f, 2, NULL, 0), 1);
	assert_int_equal(worker_fx_events(f, 0, NULL, 0), 0);
	assert_int_equal(f->w.cnt.drop_no_recipient, nr + 2);
}

static void
test_no_recipient(void **state)
{
	static const char *const mission[] = { "mission=M1", NULL };
	struct worker_fx	*f = *state;

	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	worker_fx_send_str(f, 0, worker_fx_chat("m", "mission only", mission));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);
	assert_int_equal(f->w.cnt.drop_no_recipient, 1);
	/* A restricted event never lands in the replay store either. */
	assert_int_equal(f->w.cnt.events_in, 1);
}

/* Directed and broadcast to sessions that share a callsign or a uid. */
static void
test_shared_names(void **state)
{
	static const char *const to_twin[] = { "callsign=TWIN", NULL };
	static const char *const to_old[] = { "callsign=ALPHA", NULL };
	static const char *const to_new[] = { "callsign=ALPHA-2", NULL };
	struct worker_fx	*f = *state;

	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	worker_fx_connect(f, 2);
	worker_fx_bind(f, 1, "UID-T1", "TWIN");
	worker_fx_bind(f, 2, "UID-T2", "TWIN");
	worker_fx_send_str(f, 0, worker_fx_chat("t", "twins", to_twin));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 1);
	assert_int_equal(worker_fx_events(f, 2, NULL, 0), 1);

	/* A renamed client is reachable by its new callsign only. */
	worker_fx_bind(f, 0, "UID-A", "ALPHA");
	worker_fx_send_str(f, 0, worker_fx_sa("UID-A", "ALPHA-2", STALE, 0));
	assert_string_equal(f->c[0]->s.callsign, "ALPHA-2");
	(void)worker_fx_events(f, 1, NULL, 0);
	(void)worker_fx_events(f, 2, NULL, 0);
	worker_fx_send_str(f, 1, worker_fx_chat("r1", "old name", to_old));
	assert_int_equal(worker_fx_events(f, 0, NULL, 0), 0);
	worker_fx_send_str(f, 1, worker_fx_chat("r2", "new name", to_new));
	assert_int_equal(worker_fx_events(f, 0, NULL, 0), 1);

	/* Another uid relayed by the same client binds nothing. */
	worker_fx_send_str(f, 0, worker_fx_sa("UID-OTHER", "OTHER", STALE, 0));
	assert_string_equal(f->c[0]->s.uid, "UID-A");
}

static char *
marker_event(const char *uid, const char *type, const char *link)
{
	char	*b = malloc(1024);

	assert_non_null(b);
	snprintf(b, 1024, "<event version=\"2.0\" uid=\"%s\" type=\"%s\" "
	    "how=\"h-g-i-g-o\" time=\"2026-11-23T08:00:00Z\" "
	    "start=\"2026-11-23T08:00:00Z\" stale=\"%s\"><point lat=\"1\" "
	    "lon=\"2\" hae=\"0\" ce=\"9\" le=\"9\"/><detail>%s%s%s"
	    "</detail></event>", uid, type, STALE,
	    link != NULL ? "<link uid=\"" : "", link != NULL ? link : "",
	    link != NULL ? "\" type=\"a-f-G-U-C\" relation=\"p-p\"/>" : "");
	return (b);
}

/*
 * A uid and a callsign belong to the certificate that bound them: another
 * certificate's claims are dropped, whatever the event, and the victim
 * keeps its directed messages, its stored SA and its disconnect notice.
 */
static void
test_identity_owner(void **state)
{
	static const char *const to_alpha[] = { "callsign=ALPHA", NULL };
	static const char *const to_uid_a[] = { "uid=UID-A", NULL };
	struct worker_fx	*f = *state;
	char			 got[8192];

	worker_fx_connect(f, 0);
	worker_fx_as_cert(f, 0, "CN=alice,O=TAK", "0A");
	worker_fx_connect(f, 1);
	worker_fx_as_cert(f, 1, "CN=mallory,O=TAK", "0B");
	worker_fx_connect(f, 2);
	worker_fx_as_cert(f, 2, "CN=carol,O=TAK", "0C");
	worker_fx_bind(f, 0, "UID-A", "ALPHA");

	/* Alice's uid, with or without her callsign; her callsign. */
	worker_fx_send_str(f, 1, worker_fx_sa("UID-A", "ALPHA", STALE, 3));
	worker_fx_send_str(f, 1, worker_fx_sa("UID-A", "MIKE", STALE, 3));
	worker_fx_send_str(f, 1, worker_fx_sa("UID-M", "ALPHA", STALE, 3));
	/* Her uid on a marker, a chat, anything. */
	worker_fx_send_str(f, 1, marker_event("UID-A", "a-h-G", NULL));
	assert_int_equal(f->w.cnt.drop_identity, 4);
	assert_string_equal(f->c[1]->s.uid, "");
	assert_int_equal(worker_fx_events(f, 2, NULL, 0), 0);
	assert_int_equal(worker_fx_events(f, 0, NULL, 0), 0);

	/* Mallory as herself is fine, and so are her markers. */
	worker_fx_bind(f, 1, "UID-M", "MIKE");
	worker_fx_send_str(f, 1, marker_event("MARKER-1", "a-h-G", NULL));
	assert_int_equal(worker_fx_events(f, 2, NULL, 0), 1);
	assert_int_equal(worker_fx_events(f, 0, NULL, 0), 1);
	/* ... but not another identity than her own. */
	worker_fx_send_str(f, 1, worker_fx_sa("UID-M2", "MIKE-2", STALE, 0));
	assert_int_equal(worker_fx_events(f, 2, NULL, 0), 0);
	assert_int_equal(f->w.cnt.drop_identity, 5);

	/* Alice's directed messages reach Alice only. */
	worker_fx_send_str(f, 2, worker_fx_chat("c1", "to alpha", to_alpha));
	worker_fx_send_str(f, 2, worker_fx_chat("c2", "to uid", to_uid_a));
	assert_int_equal(worker_fx_events(f, 0, NULL, 0), 2);
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);

	/* Her stored SA is hers. */
	worker_fx_connect(f, 3);
	worker_fx_turn(f);
	assert_int_equal(worker_fx_events(f, 3, got, sizeof(got)), 2);
	assert_non_null(strstr(got, "callsign=\"ALPHA\""));
	assert_null(strstr(got, "xxx"));

	/* She leaves: everybody is told. */
	close(f->peer[0]);
	f->peer[0] = -1;
	conn_handle(&f->w, f->c[0], EPOLLIN);
	worker_fx_turn(f);
	assert_int_equal(worker_fx_events(f, 2, got, sizeof(got)), 1);
	assert_non_null(strstr(got, "<link uid=\"UID-A\""));
	/* Her stored position keeps her uid hers while it lasts. */
	worker_fx_send_str(f, 1, marker_event("UID-A", "a-f-G-U-C", NULL));
	assert_int_equal(worker_fx_events(f, 2, NULL, 0), 0);
	assert_int_equal(f->w.cnt.drop_identity, 6);
	conn_reap(&f->w);
}

/* The same certificate binding its live uid again takes it over. */
static void
test_takeover(void **state)
{
	struct worker_fx	*f = *state;

	worker_fx_connect(f, 0);
	worker_fx_as_cert(f, 0, "CN=alice,O=TAK", "0A");
	worker_fx_connect(f, 1);
	worker_fx_as_cert(f, 1, "CN=alice,O=TAK", "0A");
	worker_fx_connect(f, 2);
	worker_fx_as_cert(f, 2, "CN=carol,O=TAK", "0C");
	worker_fx_bind(f, 0, "UID-A", "ALPHA");
	worker_fx_bind(f, 1, "UID-A", "ALPHA");
	assert_int_equal(f->w.cnt.close_takeover, 1);
	assert_int_equal(f->c[0]->magic, CONN_DEAD_MAGIC);
	/* The uid stayed connected: nobody is told it left. */
	assert_int_equal(worker_fx_events(f, 2, NULL, 0), 0);
	assert_int_equal(f->w.cnt.disconnect_notices, 0);
	assert_int_equal(f->w.cnt.drop_identity, 0);
	conn_reap(&f->w);
}

/* Pongs, TAK server control events, others' departures: never relayed. */
static void
test_server_only(void **state)
{
	struct worker_fx	*f = *state;
	char			 got[4096];

	worker_fx_connect(f, 0);
	worker_fx_as_cert(f, 0, "CN=mallory,O=TAK", "0B");
	worker_fx_connect(f, 1);
	worker_fx_as_cert(f, 1, "CN=carol,O=TAK", "0C");
	/* Before binding, no departure at all. */
	worker_fx_send_str(f, 0, marker_event("d0", "t-x-d-d", "UID-M"));
	worker_fx_bind(f, 0, "UID-M", "MIKE");
	worker_fx_send_str(f, 0, marker_event("takPong", "t-x-c-t-r", NULL));
	worker_fx_send_str(f, 0, marker_event("p2", "t-x-c-t-r", NULL));
	worker_fx_send_str(f, 0, marker_event("x", "t-x-takp-v", NULL));
	worker_fx_send_str(f, 0, marker_event("d1", "t-x-d-d", "UID-A"));
	worker_fx_send_str(f, 0, marker_event("d2", "t-x-d-d", NULL));
	/* "Your groups changed" is takd's to say, to each client alone. */
	worker_fx_send_str(f, 0, marker_event("g1", "t-x-g-c", "UID-M"));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);
	assert_int_equal(f->w.cnt.drop_server_only, 7);
	/* Its own departure, as ATAK sends it, goes out. */
	worker_fx_send_str(f, 0, marker_event("d3", "t-x-d-d", "UID-M"));
	assert_int_equal(worker_fx_events(f, 1, got, sizeof(got)), 1);
	assert_non_null(strstr(got, "<link uid=\"UID-M\""));
}

/*
 * One certificate reconnecting with a new uid each time keeps at most
 * sa_uids_per_cert SAs stored, its oldest going first; a replay shows the
 * newest first, so a flood stored before a real client's last position
 * cannot push it out.
 */
static void
test_sa_caps(void **state)
{
	struct worker_fx	*f = *state;
	char			 uid[32], got[65536];
	int			 i;

	f->cfg.sa_uids_per_cert = 4;
	for (i = 0; i < 20; i++) {
		worker_fx_connect(f, 0);
		worker_fx_as_cert(f, 0, "CN=mallory,O=TAK", "0B");
		snprintf(uid, sizeof(uid), "JUNK-%02d", i);
		worker_fx_send_str(f, 0, worker_fx_sa(uid, uid, STALE, 0));
		close(f->peer[0]);
		f->peer[0] = -1;
		conn_handle(&f->w, f->c[0], EPOLLIN);
		worker_fx_turn(f);
		conn_reap(&f->w);
	}
	assert_int_equal(f->w.cnt.sa_evicted, 16);
	worker_fx_connect(f, 1);
	worker_fx_as_cert(f, 1, "CN=alice,O=TAK", "0A");
	worker_fx_bind(f, 1, "UID-A", "ALPHA");
	/* An SA over [cot] max_sa_bytes is neither relayed nor stored. */
	f->cfg.max_sa_bytes = 4096;
	worker_fx_connect(f, 2);
	worker_fx_as_cert(f, 2, "CN=bob,O=TAK", "0D");
	worker_fx_send_str(f, 2, worker_fx_sa("UID-B", "BRAVO", STALE, 5000));
	assert_int_equal(f->w.cnt.drop_size, 1);
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);

	worker_fx_connect(f, 3);
	worker_fx_turn(f);
	assert_int_equal(worker_fx_events(f, 3, got, sizeof(got)), 5);
	assert_non_null(strstr(got, "JUNK-19"));
	assert_non_null(strstr(got, "JUNK-16"));
	assert_null(strstr(got, "JUNK-15"));
	assert_null(strstr(got, "UID-B"));
	assert_true(strstr(got, "UID-A") < strstr(got, "JUNK-19"));
}

static void
test_stale_rewrite(void **state)
{
	static const char ev[] = "<?xml version='1.0'?>\n<event "
	    "stale = 'x' uid=\"a stale='no'\" stale=\"9999-01-01T00:00:00Z\" "
	    "type=\"a-f\"><detail stale=\"keep\"/></event>";
	static const char want[] = "<?xml version='1.0'?>\n<event "
	    "stale = '2026-11-23T08:00:00.000Z' uid=\"a stale='no'\" "
	    "stale=\"9999-01-01T00:00:00Z\" type=\"a-f\"><detail "
	    "stale=\"keep\"/></event>";
	char	 out[512];
	size_t	 n, off = strchr(ev, '\n') + 1 - ev;
	int64_t	 ms;

	assert_int_equal(cot_time_parse("2026-11-23T08:00:00Z", &ms), 0);
	n = registry_stale_rewrite(ev, strlen(ev), off, ms, out, sizeof(out));
	assert_int_equal(n, strlen(want));
	assert_memory_equal(out, want, n);
	/* No room, no <event> at the offset, no stale: nothing. */
	assert_int_equal(registry_stale_rewrite(ev, strlen(ev), off, ms, out,
	    n - 1), 0);
	assert_int_equal(registry_stale_rewrite(ev, strlen(ev), 0, ms, out,
	    sizeof(out)), 0);
	assert_int_equal(registry_stale_rewrite("<event uid='a'/>", 16, 0, ms,
	    out, sizeof(out)), 0);
}

static void
test_malformed_closes_one(void **state)
{
	struct worker_fx	*f = *state;
	char			 got[4096], bad[] = "<event uid=\"x\" "
	    "type=\"a-f\" stale=\"garbage\"></event>";

	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	worker_fx_connect(f, 2);
	worker_fx_bind(f, 0, "UID-A", "ALPHA");
	worker_fx_bind(f, 1, "UID-B", "BRAVO");
	worker_fx_send(f, 1, bad, strlen(bad));
	assert_int_equal(f->c[1]->magic, CONN_DEAD_MAGIC);
	assert_int_equal(f->w.cnt.drop_malformed, 1);
	assert_int_equal(f->w.cnt.sessions, 2);
	/* The others learn that UID-B left, and nothing else. */
	assert_int_equal(worker_fx_events(f, 0, got, sizeof(got)), 1);
	assert_non_null(strstr(got, "type=\"t-x-d-d\""));
	assert_non_null(strstr(got, "<link uid=\"UID-B\" "
	    "type=\"a-f-G-U-C\""));
	assert_int_equal(worker_fx_events(f, 2, NULL, 0), 1);
	assert_int_equal(f->w.cnt.disconnect_notices, 1);
	/* ... and go on talking. */
	worker_fx_send_str(f, 0, worker_fx_sa("UID-A", "ALPHA", STALE, 0));
	assert_int_equal(worker_fx_events(f, 2, NULL, 0), 1);

	/* Garbage closes its session too, counted as framing. */
	worker_fx_send(f, 2, "hello", 5);
	assert_int_equal(f->c[2]->magic, CONN_DEAD_MAGIC);
	assert_int_equal(f->w.cnt.close_framing, 1);
	/* UID-C was never bound: no notice. */
	assert_int_equal(worker_fx_events(f, 0, NULL, 0), 0);
	conn_reap(&f->w);
}

static void
test_replay(void **state)
{
	struct worker_fx	*f = *state;
	char			*sa_a, *sa_b, got[8192];

	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	sa_a = worker_fx_sa("UID-A", "ALPHA", STALE, 0);
	sa_b = worker_fx_sa("UID-B", "BRAVO", STALE, 0);
	worker_fx_send(f, 0, sa_a, strlen(sa_a));
	worker_fx_send(f, 1, sa_b, strlen(sa_b));
	/* A stale SA is kept but not replayed. */
	worker_fx_connect(f, 2);
	worker_fx_send_str(f, 2, worker_fx_sa("UID-C", "CHARLIE", PAST, 0));
	/* A newer SA of A supersedes the first in the store. */
	free(sa_a);
	sa_a = worker_fx_sa("UID-A", "ALPHA", STALE, 10);
	worker_fx_send(f, 0, sa_a, strlen(sa_a));
	worker_fx_turn(f);

	worker_fx_connect(f, 3);
	worker_fx_turn(f);
	if (worker_fx_events(f, 3, got, sizeof(got)) != 2)
		fail_msg("replayed: %s", got);
	/*
	 * Newest first, and with the stale time cut to sa_max_stale: the
	 * client's "2099" would keep it on every map for good.
	 */
	assert_non_null(strstr(got, "uid=\"UID-A\""));
	assert_non_null(strstr(got, "<remarks>xxxxxxxxxx</remarks>"));
	assert_non_null(strstr(got, "uid=\"UID-B\""));
	assert_null(strstr(got, STALE));
	/* The store keeps the event from "<event", no declaration. */
	assert_null(strstr(got, "<?xml"));
	assert_null(strstr(got, "UID-C"));
	assert_int_equal(f->w.cnt.sa_clamped, 3);
	/* Client 2 got A's and B's first SA when it connected. */
	assert_int_equal(f->w.cnt.sa_replayed, 4);
	free(sa_a);
	free(sa_b);
}

static void
test_disconnect_notice(void **state)
{
	struct worker_fx	*f = *state;
	char			 got[4096];

	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	worker_fx_connect(f, 2);
	worker_fx_bind(f, 0, "UID-A", "ALPHA");
	/* The same device again: a reconnect before the old session ended. */
	worker_fx_bind(f, 1, "UID-A", "ALPHA");
	close(f->peer[0]);
	f->peer[0] = -1;
	conn_handle(&f->w, f->c[0], EPOLLIN);
	worker_fx_turn(f);
	assert_int_equal(f->c[0]->magic, CONN_DEAD_MAGIC);
	/* UID-A is still connected: no notice. */
	assert_int_equal(worker_fx_events(f, 2, NULL, 0), 0);
	close(f->peer[1]);
	f->peer[1] = -1;
	conn_handle(&f->w, f->c[1], EPOLLIN);
	worker_fx_turn(f);
	assert_int_equal(worker_fx_events(f, 2, got, sizeof(got)), 1);
	assert_non_null(strstr(got, "type=\"t-x-d-d\""));
	assert_non_null(strstr(got, "<link uid=\"UID-A\""));
	conn_reap(&f->w);
}

/*
 * A burst of disconnect notices (a worker with thousands of clients died)
 * must not cut off a client as a slow consumer: past half of its queue
 * they are dropped and counted.  A client that reads gets every one.
 */
static void
test_notice_burst(void **state)
{
	struct worker_fx	*f = *state;
	char			 uid[64];
	int			 i, got0 = 0;

	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	for (i = 0; i < 6000; i++) {
		snprintf(uid, sizeof(uid), "ANDROID-departed-%05d", i);
		assert_true(session_departed(&f->w, 1, uid, "a-f-G-U-C",
		    GROUPLIST_ANON));
		if (i % 100 == 99) {
			worker_fx_turn(f);
			got0 += worker_fx_events(f, 0, NULL, 0);
		}
	}
	worker_fx_turn(f);
	got0 += worker_fx_events(f, 0, NULL, 0);
	assert_int_equal(got0, 6000);
	/* Client 1 never read: still connected, its queue at most half. */
	assert_int_equal(f->c[1]->magic, CONN_MAGIC);
	assert_int_equal(f->w.cnt.close_slow, 0);
	assert_true(f->w.cnt.drop_notice > 0);
	assert_true(outq_bytes(&f->c[1]->s.outq) <= f->cfg.max_queue_bytes / 2);
	conn_reap(&f->w);
}

/* Client 1 never reads; 2 does.  Superseded SA first, then disconnect. */
static void
test_slow_consumer(void **state)
{
	static const char *const to_all[] = { "callsign=All Streaming",
	    NULL };
	struct worker_fx	*f = *state;
	char			*ev, big[40000];
	int			 i, got2 = 0;

	worker_fx_budgets_off(f);
	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	worker_fx_connect(f, 2);
	/* SA of one uid, 8 KiB each: the stalled queue keeps few. */
	for (i = 0; i < 300; i++) {
		worker_fx_send_str(f, 0, worker_fx_sa("UID-A", "ALPHA", STALE,
		    8192));
		got2 += worker_fx_events(f, 2, NULL, 0);
	}
	assert_int_equal(got2, 300);
	assert_true(f->w.cnt.drop_superseded > 0);
	assert_int_equal(f->c[1]->magic, CONN_MAGIC);
	assert_int_equal(f->c[1]->s.outq.max, f->cfg.max_queue_bytes);
	assert_true(outq_bytes(&f->c[1]->s.outq) <=
	    f->cfg.max_queue_bytes / 2 + 9000);
	assert_int_equal(f->w.cnt.close_slow, 0);

	/* Chat is never superseded: the queue fills and 1 is cut off. */
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (i = 0; i < 60 && f->c[1]->magic == CONN_MAGIC; i++) {
		ev = worker_fx_chat("big", big, to_all);
		worker_fx_send_str(f, 0, ev);
		(void)worker_fx_events(f, 2, NULL, 0);
	}
	assert_int_equal(f->c[1]->magic, CONN_DEAD_MAGIC);
	assert_int_equal(f->w.cnt.close_slow, 1);
	assert_true(f->w.cnt.drop_closed > 0);
	/* The others go on. */
	worker_fx_send_str(f, 0, worker_fx_sa("UID-A", "ALPHA", STALE, 0));
	assert_int_equal(worker_fx_events(f, 2, NULL, 0), 1);
	assert_int_equal(f->c[0]->magic, CONN_MAGIC);
	assert_int_equal(f->c[2]->magic, CONN_MAGIC);
	conn_reap(&f->w);
}

/* [cot] max_queue_bytes bounds the queue of the sessions. */
static void
test_queue_bound_config(void **state)
{
	struct worker_fx	*f = *state;
	char			 text[10000];
	int			 i, sndbuf = 0;
	socklen_t		 sl = sizeof(sndbuf);

	f->cfg.max_queue_bytes = 64 * 1024;
	worker_fx_budgets_off(f);
	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	assert_int_equal(f->c[1]->s.outq.max, 64 * 1024);
	assert_int_equal(getsockopt(f->c[1]->fd, SOL_SOCKET, SO_SNDBUF,
	    &sndbuf, &sl), 0);
	memset(text, 'q', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	for (i = 0; i < 200 && f->c[1]->magic == CONN_MAGIC; i++)
		worker_fx_send_str(f, 0, worker_fx_chat("q", text, NULL));
	assert_int_equal(f->c[1]->magic, CONN_DEAD_MAGIC);
	assert_int_equal(f->w.cnt.close_slow, 1);
	/* The socket buffer, then 64 KiB of queue, and no more. */
	assert_true((size_t)i * 10000 <= (size_t)sndbuf * 2 + 64 * 1024 +
	    2 * 10000);
	conn_reap(&f->w);
}

static void
test_rate_limit(void **state)
{
	struct worker_fx	*f = *state;
	char			*one, *burst;
	size_t			 len, i;

	f->cfg.max_events_per_second = 5;
	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	one = worker_fx_chat("r", "x", NULL);
	len = strlen(one);
	burst = malloc(len * 20 + 1);
	assert_non_null(burst);
	for (i = 0; i < 20; i++)
		memcpy(burst + i * len, one, len);
	worker_fx_send(f, 0, burst, len * 20);
	/* A full bucket: one second's worth passes. */
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 5);
	assert_int_equal(f->w.cnt.drop_rate, 15);
	assert_int_equal(f->w.cnt.events_in, 20);
	assert_int_equal(f->c[0]->magic, CONN_MAGIC);
	free(one);
	free(burst);
}

static void
test_timeouts(void **state)
{
	struct worker_fx	*f = *state;
	const char		 part[] = "<event uid=\"p\" type=\"a-f\" "
	    "stale=\"";
	int64_t			 now;

	f->cfg.idle_timeout_ms = 60000;
	assert_int_equal(f->cfg.partial_timeout_ms, 30000);
	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	worker_fx_send(f, 0, part, strlen(part));
	worker_fx_send_str(f, 1, worker_fx_ping("B"));
	now = clock_mono_ms();
	/* Nothing yet. */
	session_sweep(&f->w, now + 1000);
	assert_int_equal(f->c[0]->magic, CONN_MAGIC);
	/* A partial event held for 30 s closes its session only. */
	session_sweep(&f->w, now + f->cfg.partial_timeout_ms + 10);
	assert_int_equal(f->c[0]->magic, CONN_DEAD_MAGIC);
	assert_int_equal(f->w.cnt.close_unclosed, 1);
	assert_int_equal(f->c[1]->magic, CONN_MAGIC);
	/* No event for idle_timeout: closed. */
	session_sweep(&f->w, now + 61000);
	assert_int_equal(f->c[1]->magic, CONN_DEAD_MAGIC);
	assert_int_equal(f->w.cnt.close_idle, 1);
	conn_reap(&f->w);
}

/* What a client sends in tiny pieces arrives whole. */
static void
test_split_reads(void **state)
{
	struct worker_fx	*f = *state;
	char			*sa, got[4096];
	size_t			 i, len;

	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	sa = worker_fx_sa("UID-A", "ALPHA", STALE, 0);
	len = strlen(sa);
	for (i = 0; i < len; i += 7)
		worker_fx_send(f, 0, sa + i, len - i < 7 ? len - i : 7);
	assert_int_equal(worker_fx_events(f, 1, got, sizeof(got)), 1);
	assert_string_equal(got, worker_fx_body(sa));
	free(sa);
}

/*
 * A write that fails closes its session in the middle of the output pass:
 * its disconnect notice is queued to the others, those already on the
 * outlist and one that was not, and all go out in the same pass.
 */
static void
test_close_in_pass(void **state)
{
	struct worker_fx	*f = *state;
	char			 got[8192];

	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	worker_fx_connect(f, 2);
	worker_fx_bind(f, 1, "UID-B", "BRAVO");
	close(f->peer[1]);
	f->peer[1] = -1;
	/* To 1 and 2; writing 1 fails (EPIPE), which closes it. */
	worker_fx_send_str(f, 0, worker_fx_chat("C", "x", NULL));
	assert_int_equal(f->c[1]->magic, CONN_DEAD_MAGIC);
	assert_int_equal(worker_fx_events(f, 2, got, sizeof(got)), 2);
	assert_non_null(strstr(got, "<link uid=\"UID-B\""));
	assert_int_equal(worker_fx_events(f, 0, got, sizeof(got)), 1);
	assert_non_null(strstr(got, "type=\"t-x-d-d\""));
	assert_true(TAILQ_EMPTY(&f->w.outlist));
	conn_reap(&f->w);
}

/* As if ms had passed: the written list keeps its order. */
static void
time_passes(struct worker_fx *f, int64_t ms)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &f->w.written, wr_entry)
		c->flushed_ms -= ms;
}

/*
 * [cot] flush_delay: a quiet session's event goes out at once; what comes
 * within the delay of that write waits for its end, unless a record's
 * worth (16 KiB) is queued, or the session is doomed or drains.
 */
static void
test_flush_delay(void **state)
{
	struct worker_fx	*f = *state;
	char			 text[8000];
	uint64_t		 closed;

	f->cfg.flush_delay_ms = 5000;
	worker_fx_budgets_off(f);
	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	worker_fx_connect(f, 2);
	worker_fx_send_str(f, 0, worker_fx_chat("D", "one", NULL));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 1);
	assert_int_equal(worker_fx_events(f, 2, NULL, 0), 1);
	worker_fx_send_str(f, 0, worker_fx_chat("D", "two", NULL));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);
	assert_int_equal(worker_fx_events(f, 2, NULL, 0), 0);
	assert_true(f->c[1]->on_written && !f->c[1]->on_outlist);
	/* Not yet, then the delay ends. */
	time_passes(f, 4000);
	worker_fx_turn(f);
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);
	time_passes(f, 1000);
	worker_fx_turn(f);
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 1);
	assert_int_equal(worker_fx_events(f, 2, NULL, 0), 1);
	worker_fx_send_str(f, 0, worker_fx_chat("D", "three", NULL));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);

	/* Two of 8 KiB: past 16 KiB, written at once. */
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	worker_fx_send_str(f, 0, worker_fx_chat("D", text, NULL));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);
	worker_fx_send_str(f, 0, worker_fx_chat("D", text, NULL));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 3);
	assert_int_equal(worker_fx_events(f, 2, NULL, 0), 3);

	/*
	 * Waiting, then doomed: its queue's memory goes at once (counted as
	 * lost at close), the connection at the next pass.
	 */
	worker_fx_send_str(f, 0, worker_fx_chat("D", "four", NULL));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);
	assert_true(outq_bytes(&f->c[2]->s.outq) > 0);
	closed = f->w.cnt.drop_closed;
	deliver_doom(&f->w, f->c[2], "test");
	assert_int_equal(outq_bytes(&f->c[2]->s.outq), 0);
	assert_int_equal(f->w.cnt.drop_closed, closed + 1);
	worker_fx_turn(f);
	assert_int_equal(f->c[2]->magic, CONN_DEAD_MAGIC);
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);

	/* Waiting, then the worker drains: written at once. */
	f->w.state = WORKER_DRAIN;
	conn_drain_all(&f->w);
	worker_fx_turn(f);
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 1);
	conn_reap(&f->w);
}

/*
 * Drain: a session's queued output goes out before its close, also when the
 * last record a pass may write (16 of 16 KiB, conn.c) empties the queue.
 */
static void
test_drain_full_pass(void **state)
{
	struct worker_fx	*f = *state;
	struct evbuf		*ev;
	char			 rec[16384], buf[65536];
	int			 i, sndbuf = 1 << 20;
	size_t			 got = 0;
	ssize_t			 n;

	worker_fx_connect(f, 0);
	/* Room for the whole pass: no write blocks. */
	assert_int_equal(setsockopt(f->c[0]->fd, SOL_SOCKET, SO_SNDBUF,
	    &sndbuf, sizeof(sndbuf)), 0);
	memset(rec, 'r', sizeof(rec));
	ev = evbuf_new(rec, sizeof(rec));
	assert_non_null(ev);
	for (i = 0; i < 16; i++)
		deliver_enqueue(&f->w, f->c[0], ev, 0, 0, IPC_EV_OTHER);
	evbuf_unref(ev);
	f->w.state = WORKER_DRAIN;
	conn_drain_all(&f->w);
	worker_fx_turn(f);
	assert_int_equal(outq_bytes(&f->c[0]->s.outq), 0);
	assert_int_equal(f->c[0]->state, CONN_CLOSING);
	/* Its close (a half-close, plain TCP) follows what was queued. */
	conn_run_ready(&f->w);
	while ((n = read(f->peer[0], buf, sizeof(buf))) > 0)
		got += (size_t)n;
	assert_int_equal(n, 0);
	assert_int_equal(got, 16 * sizeof(rec));
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test_setup_teardown(test_broadcast_sa,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_ping_pong,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_directed,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_no_recipient,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_shared_names,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_malformed_closes_one,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_replay,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_disconnect_notice,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_notice_burst,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_slow_consumer,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_queue_bound_config,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_timeouts,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_split_reads,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_close_in_pass,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_flush_delay,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_identity_owner,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_takeover,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_server_only,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_sa_caps,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_stale_rewrite,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_drain_full_pass,
		    worker_fx_setup, worker_fx_teardown),
	};

	log_init(LOG_DEST_STDERR, NULL, LOG_WARNING);
	cot_parse_init();
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
