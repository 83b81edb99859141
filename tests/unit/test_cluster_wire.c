/*
 * Unit tests for cluster/wire.c, the messages between takd nodes: an
 * event, a heartbeat, presence and snapshot SAs made and read back; every
 * truncation of a message refused; wrong magic, unknown types, foreign
 * bytes at the end, control characters, groups that are no list, a ping
 * or a takeover, an oversized event refused; the subject tokens of groups.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/wire.h"
#include "unit.h"

static const char ev_xml[] = "<event uid=\"a1\" type=\"a-f-G\"/>";

static void
make_event(struct wbuf *b, uint32_t flags, enum ipc_ev_class cls)
{
	struct deliver	 d;
	struct cot_dest	 dest[2];

	memset(&d, 0, sizeof(d));
	memset(dest, 0, sizeof(dest));
	d.kind = DELIVER_DIRECTED;
	d.flags = flags;
	d.cls = cls;
	snprintf(d.uid, sizeof(d.uid), "a1");
	d.groups = "Blue,__ANON__";
	dest[0].kind = COT_DEST_CALLSIGN;
	snprintf(dest[0].value, sizeof(dest[0].value), "BOB");
	dest[1].kind = COT_DEST_UID;
	snprintf(dest[1].value, sizeof(dest[1].value), "b1");
	d.dest = dest;
	d.n_dest = 2;
	wire_put_hdr(b, WIRE_EVENT, "n1", 42);
	assert_int_equal(wire_put_event(b, &d, EVBUF_XML, ev_xml,
	    strlen(ev_xml)), 0);
}

static void
test_wire_event(void **state)
{
	struct wbuf		 b;
	struct wire_event	 e;
	struct wire_hdr		 h;
	char			 err[256];
	size_t			 n;

	wbuf_init(&b, 1 << 20);
	make_event(&b, DELIVER_F_SA, IPC_EV_SA);
	assert_int_equal(wire_get_hdr(b.p, b.len, &h, err, sizeof(err)), 0);
	assert_string_equal(h.node, "n1");
	assert_true(h.instance == 42 && h.type == WIRE_EVENT);
	assert_int_equal(wire_get_event(b.p, b.len, 65536, &e, err,
	    sizeof(err)), 0);
	assert_string_equal(e.d.uid, "a1");
	assert_string_equal(e.d.groups, "Blue,__ANON__");
	assert_int_equal(e.d.n_dest, 2);
	assert_string_equal(e.dest[0].value, "BOB");
	assert_int_equal(e.dest[1].kind, COT_DEST_UID);
	assert_int_equal(e.len, strlen(ev_xml));
	assert_memory_equal(e.bytes, ev_xml, e.len);
	/* Every truncation, and a byte more, is refused. */
	for (n = 0; n < b.len; n++)
		assert_int_equal(wire_get_event(b.p, n, 65536, &e, err,
		    sizeof(err)), -1);
	b.p[b.len] = 0;
	assert_int_equal(wire_get_event(b.p, b.len + 1, 65536, &e, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "after the message"));
	/* An event larger than the cap. */
	assert_int_equal(wire_get_event(b.p, b.len, 8, &e, err,
	    sizeof(err)), -1);
	/* Bad magic. */
	b.p[0] = 'X';
	assert_int_equal(wire_get_event(b.p, b.len, 65536, &e, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "magic"));
	wbuf_free(&b);
}

static void
test_wire_event_refused(void **state)
{
	struct wbuf		 b;
	struct wire_event	 e;
	char			 err[256];
	uint8_t			*p;

	wbuf_init(&b, 1 << 20);
	/* A takeover is never sent; a ping neither. */
	make_event(&b, DELIVER_F_TAKEOVER, IPC_EV_SA);
	assert_int_equal(wire_get_event(b.p, b.len, 65536, &e, err,
	    sizeof(err)), -1);
	make_event(&b, 0, IPC_EV_PING);
	assert_int_equal(wire_get_event(b.p, b.len, 65536, &e, err,
	    sizeof(err)), -1);
	/* A control character in the uid. */
	make_event(&b, 0, IPC_EV_CHAT);
	p = memmem(b.p, b.len, "a1", 2);
	assert_non_null(p);
	p[1] = '\n';
	assert_int_equal(wire_get_event(b.p, b.len, 65536, &e, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "control"));
	/* Groups that are no list of names. */
	make_event(&b, 0, IPC_EV_CHAT);
	p = memmem(b.p, b.len, "Blue,", 5);
	assert_non_null(p);
	p[4] = ':';
	assert_int_equal(wire_get_event(b.p, b.len, 65536, &e, err,
	    sizeof(err)), -1);
	/* A node id that is no subject token. */
	make_event(&b, 0, IPC_EV_CHAT);
	p = memmem(b.p, b.len, "n1", 2);
	p[1] = '.';
	assert_int_equal(wire_get_event(b.p, b.len, 65536, &e, err,
	    sizeof(err)), -1);
	wbuf_free(&b);
}

static void
test_wire_heartbeat(void **state)
{
	struct wbuf		 b;
	struct wire_heartbeat	 hb, got;
	char			 err[256];
	size_t			 n;

	wbuf_init(&b, 4096);
	memset(&hb, 0, sizeof(hb));
	hb.pres_seq = 7;
	hb.clients = 3;
	hb.interval_ms = 3000;
	hb.bye = true;
	wire_put_hdr(&b, WIRE_HEARTBEAT, "n2", 1);
	assert_int_equal(wire_put_heartbeat(&b, &hb), 0);
	assert_int_equal(wire_get_heartbeat(b.p, b.len, &got, err,
	    sizeof(err)), 0);
	assert_true(got.pres_seq == 7 && got.clients == 3 && got.bye);
	for (n = 0; n < b.len; n++)
		assert_int_equal(wire_get_heartbeat(b.p, n, &got, err,
		    sizeof(err)), -1);
	/* Not an event. */
	assert_int_equal(wire_get_heartbeat(b.p, b.len, &got, err,
	    sizeof(err)), 0);
	wbuf_free(&b);
}

static int	 n_clients;

static void
count_client(const struct wire_client *c, void *arg)
{
	assert_string_equal(c->groups_out, "Blue");
	n_clients++;
}

static void
test_wire_presence(void **state)
{
	struct wbuf		 b;
	struct wire_client	*c = calloc(1, sizeof(*c));
	uint64_t		 seq;
	unsigned		 flags;
	char			 err[256];
	size_t			 at, n;

	assert_non_null(c);
	wbuf_init(&b, 1 << 20);
	wire_put_hdr(&b, WIRE_PRESENCE, "n1", 1);
	at = b.len + 9;
	wire_put_pres_head(&b, 5, WIRE_PRES_FIRST);
	c->up = true;
	snprintf(c->uid, sizeof(c->uid), "u1");
	snprintf(c->groups_in, sizeof(c->groups_in), "Blue");
	snprintf(c->groups_out, sizeof(c->groups_out), "Blue");
	assert_int_equal(wire_put_client(&b, c), 0);
	snprintf(c->uid, sizeof(c->uid), "u2");
	assert_int_equal(wire_put_client(&b, c), 0);
	wire_put_count_at(&b, at, 2);
	n_clients = 0;
	assert_int_equal(wire_get_presence(b.p, b.len, &seq, &flags,
	    count_client, NULL, err, sizeof(err)), 0);
	assert_int_equal(n_clients, 2);
	assert_true(seq == 5 && flags == WIRE_PRES_FIRST);
	/* A truncated list delivers nobody: checked whole first. */
	for (n = 0; n < b.len; n++) {
		n_clients = 0;
		assert_int_equal(wire_get_presence(b.p, n, &seq, &flags,
		    count_client, NULL, err, sizeof(err)), -1);
		assert_int_equal(n_clients, 0);
	}
	/* A count above the cap. */
	wire_put_count_at(&b, at, WIRE_PRES_MAX + 1);
	assert_int_equal(wire_get_presence(b.p, b.len, &seq, &flags,
	    count_client, NULL, err, sizeof(err)), -1);
	free(c);
	wbuf_free(&b);
}

static void
test_wire_tokens(void **state)
{
	char	 tok[WIRE_GTOKEN_MAX], tok2[WIRE_GTOKEN_MAX];

	assert_int_equal(wire_group_token("__ANON__", tok, sizeof(tok)), 0);
	assert_string_equal(tok, "g__ANON__");
	assert_int_equal(wire_group_token("Blue,Red", tok, sizeof(tok)), 0);
	assert_string_equal(tok, WIRE_GTOKEN_MULTI);
	assert_int_equal(wire_group_token("", tok, sizeof(tok)), -1);
	/* A dot or a blank cannot be in a subject token: a digest. */
	assert_int_equal(wire_group_token("takd test/Blue", tok,
	    sizeof(tok)), 0);
	assert_int_equal(tok[0], 'h');
	assert_int_equal(strlen(tok), 17);
	assert_int_equal(wire_group_token("takd test/Red", tok2,
	    sizeof(tok2)), 0);
	assert_string_not_equal(tok, tok2);
	assert_null(strpbrk(tok, ". *>"));
	assert_true(wire_token_ok("n-1_b"));
	assert_false(wire_token_ok("n.1"));
	assert_false(wire_token_ok(""));
	assert_string_equal(wire_class_token(IPC_EV_CHAT), "chat");
	assert_null(wire_class_token(IPC_EV_PING));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_event),
		cmocka_unit_test(test_wire_event_refused),
		cmocka_unit_test(test_wire_heartbeat),
		cmocka_unit_test(test_wire_presence),
		cmocka_unit_test(test_wire_tokens),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
