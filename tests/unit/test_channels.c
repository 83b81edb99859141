/*
 * Unit tests for shared/channels.c: the body of PUT
 * /Marti/api/groups/active as ATAK and TAK Server's Group class write it
 * (every member, "active" absent means true, unknown members passed over),
 * every refusal of a body (not an array, not objects, wrong types, a
 * direction that is not IN or OUT, no name, a member twice, one half both
 * on and off, too many entries, trailing bytes, invalid JSON), the choice
 * against a user's groups (a half the user lacks turned on: refused; off:
 * ignored; nothing left on: refused), how an off set applies to the user's
 * groups of a later users file (a group taken away is gone; nothing left
 * on sets the choice aside), and the stored record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "shared/channels.h"
#include "tests/unit/unit.h"

static struct channels_req	req;

static void
parse_ok(const char *body)
{
	char	 err[300];

	if (channels_parse(body, strlen(body), &req, err, sizeof(err)) != 0)
		fail_msg("%s refused: %s", body, err);
}

static void
refuse(const char *body, size_t len, const char *want)
{
	char	 err[300] = "";

	if (channels_parse(body, len, &req, err, sizeof(err)) == 0)
		fail_msg("%.*s taken", (int)len, body);
	if (strstr(err, want) == NULL)
		fail_msg("%.*s: \"%s\", not \"%s\"", (int)len, body, err, want);
	assert_int_equal(req.n, 0);
}

/* A literal body, its length from sizeof (it may hold a NUL). */
#define REFUSE(b, want)	refuse(b, sizeof(b) - 1, want)

static void
test_channels_parse(void **state)
{
	/* What ATAK sends back: groups/all's entries with "active" toggled. */
	parse_ok("[{\"name\":\"Blue\",\"direction\":\"IN\",\"created\":"
	    "\"2024-01-01\",\"type\":\"SYSTEM\",\"bitpos\":2,\"active\":true,"
	    "\"description\":\"d\"},{\"name\":\"Blue\",\"direction\":\"OUT\","
	    "\"active\":false,\"x\":{\"y\":[1,2,null]}}]");
	assert_int_equal(req.n, 2);
	assert_string_equal(req.e[0].name, "Blue");
	assert_int_equal(req.e[0].half, USERS_IN);
	assert_true(req.e[0].active);
	assert_int_equal(req.e[1].half, USERS_OUT);
	assert_false(req.e[1].active);
	assert_false(req.e[1].name_bad);
	/* "active" absent: the Group class's default, true. */
	parse_ok(" [ {\"direction\":\"OUT\",\"name\":\"Team Red\"} ] \n");
	assert_int_equal(req.n, 1);
	assert_true(req.e[0].active);
	assert_string_equal(req.e[0].name, "Team Red");
	parse_ok("[]");
	assert_int_equal(req.n, 0);
	/* The same answer twice is no conflict. */
	parse_ok("[{\"name\":\"A\",\"direction\":\"IN\"},"
	    "{\"name\":\"A\",\"direction\":\"IN\",\"active\":true}]");
	assert_int_equal(req.n, 2);
	/* A name that is no group name is nobody's group, not an error. */
	parse_ok("[{\"name\":\"a,b\",\"direction\":\"IN\"},{\"name\":"
	    "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxx\",\"direction\":\"IN\"},{\"name\":\"a\\u0000\","
	    "\"direction\":\"IN\"},{\"name\":\"\",\"direction\":\"OUT\"}]");
	assert_int_equal(req.n, 4);
	assert_true(req.e[0].name_bad && req.e[1].name_bad &&
	    req.e[2].name_bad && req.e[3].name_bad);
}

static void
test_channels_refused(void **state)
{
	char	 big[64 * CHANNELS_ENTRIES_MAX];
	size_t	 i, n;

	REFUSE("", "not a JSON array");
	REFUSE("{\"name\":\"A\"}", "not a JSON array");
	REFUSE("\"Blue\"", "not a JSON array");
	REFUSE("[\"Blue\"]", "entry 0: not an object");
	REFUSE("[{\"name\":\"A\",\"direction\":\"IN\"},1]",
	    "entry 1: not an object");
	REFUSE("[{\"direction\":\"IN\"}]", "no \"name\"");
	REFUSE("[{\"name\":\"A\"}]", "no \"direction\"");
	REFUSE("[{\"name\":\"A\",\"direction\":\"in\"}]", "\"IN\" or");
	REFUSE("[{\"name\":\"A\",\"direction\":\"INOUT\"}]", "\"IN\" or");
	REFUSE("[{\"name\":\"A\",\"direction\":3}]", "not a string");
	REFUSE("[{\"name\":7,\"direction\":\"IN\"}]", "not a string");
	REFUSE("[{\"name\":\"A\",\"direction\":\"IN\",\"active\":\"yes\"}]", "not true or false");
	REFUSE("[{\"name\":\"A\",\"direction\":\"IN\",\"active\":null}]", "not true or false");
	REFUSE("[{\"name\":\"A\",\"name\":\"B\",\"direction\":\"IN\"}]",
	    "given twice");
	REFUSE("[{\"name\":\"A\",\"direction\":\"IN\"},{\"name\":\"A\","
	    "\"direction\":\"IN\",\"active\":false}]", "both on and off");
	REFUSE("[{\"name\":\"A\",\"direction\":\"IN\"}", "malformed JSON");
	REFUSE("[{\"name\":\"A\",\"direction\":\"IN\"}] x",
	    "malformed JSON");
	REFUSE("[{\"name\":\"A\",\"direction\":\"IN\",}]",
	    "malformed JSON");
	REFUSE("[{\"name\":\"\xff\",\"direction\":\"IN\"}]",
	    "malformed JSON");
	/* One more entry than two halves of USERS_GROUPS_MAX groups. */
	n = 0;
	big[n++] = '[';
	for (i = 0; i <= CHANNELS_ENTRIES_MAX; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n,
		    "%s{\"name\":\"g%zu\",\"direction\":\"IN\"}", i > 0 ? "," :
		    "", i);
	big[n++] = ']';
	refuse(big, n, "more than");
	/* Exactly the bound is taken. */
	n = 0;
	big[n++] = '[';
	for (i = 0; i < CHANNELS_ENTRIES_MAX; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n,
		    "%s{\"name\":\"g%zu\",\"direction\":\"OUT\"}", i > 0 ? "," :
		    "", i);
	big[n++] = ']';
	big[n] = '\0';
	parse_ok(big);
	assert_int_equal(req.n, CHANNELS_ENTRIES_MAX);
}

/* alice: A both halves, B both halves, R IN only, C OUT only. */
static struct users_group alice_groups[] = {
	{ "A", USERS_IN | USERS_OUT },
	{ "B", USERS_IN | USERS_OUT },
	{ "R", USERS_IN },
	{ "C", USERS_OUT },
};
static struct users_user alice = { "alice", "", USERS_ROLE_USER, 4,
    alice_groups };

static enum channels_verdict
choose(const char *body, struct channels_off *off, char *err, size_t errlen)
{
	parse_ok(body);
	return (channels_choose(&req, &alice, off, err, errlen));
}

static void
test_channels_choose(void **state)
{
	struct channels_off	 off;
	char			 err[300];

	/* B turned off (both entries false), the rest on. */
	assert_int_equal(choose("[{\"name\":\"A\",\"direction\":\"IN\"},"
	    "{\"name\":\"A\",\"direction\":\"OUT\"},{\"name\":\"B\","
	    "\"direction\":\"IN\",\"active\":false},{\"name\":\"B\","
	    "\"direction\":\"OUT\",\"active\":false},{\"name\":\"R\","
	    "\"direction\":\"IN\"},{\"name\":\"C\",\"direction\":\"OUT\"}]",
	    &off, err, sizeof(err)), CHANNELS_OK);
	assert_int_equal(off.n, 1);
	assert_string_equal(off.g[0].name, "B");
	assert_int_equal(off.g[0].halves, USERS_IN | USERS_OUT);
	/* Each entry is one half: B's OUT only on, IN off; absent is off. */
	assert_int_equal(choose("[{\"name\":\"B\",\"direction\":\"OUT\"}]",
	    &off, err, sizeof(err)), CHANNELS_OK);
	assert_int_equal(off.n, 4);
	assert_int_equal(channels_off_halves(&off, "A"), USERS_IN | USERS_OUT);
	assert_int_equal(channels_off_halves(&off, "B"), USERS_IN);
	assert_int_equal(channels_off_halves(&off, "R"), USERS_IN);
	assert_int_equal(channels_off_halves(&off, "C"), USERS_OUT);
	assert_int_equal(channels_off_halves(&off, "Z"), 0);
	/* Everything on: nothing off. */
	assert_int_equal(choose("[{\"name\":\"A\",\"direction\":\"IN\"},"
	    "{\"name\":\"A\",\"direction\":\"OUT\"},{\"name\":\"B\","
	    "\"direction\":\"IN\"},{\"name\":\"B\",\"direction\":\"OUT\"},"
	    "{\"name\":\"R\",\"direction\":\"IN\"},{\"name\":\"C\","
	    "\"direction\":\"OUT\"}]", &off, err, sizeof(err)), CHANNELS_OK);
	assert_int_equal(off.n, 0);
	/* A group she is not in, or a half she lacks, turned on: refused. */
	assert_int_equal(choose("[{\"name\":\"A\",\"direction\":\"IN\"},"
	    "{\"name\":\"Z\",\"direction\":\"IN\"}]", &off, err, sizeof(err)),
	    CHANNELS_FOREIGN);
	assert_non_null(strstr(err, "\"Z\""));
	assert_int_equal(off.n, 0);
	assert_int_equal(choose("[{\"name\":\"R\",\"direction\":\"OUT\"}]",
	    &off, err, sizeof(err)), CHANNELS_FOREIGN);
	assert_int_equal(choose("[{\"name\":\"a\",\"direction\":\"IN\"}]",
	    &off, err, sizeof(err)), CHANNELS_FOREIGN);	/* case matters */
	assert_int_equal(choose("[{\"name\":\"a,b\",\"direction\":\"IN\"}]",
	    &off, err, sizeof(err)), CHANNELS_FOREIGN);
	/* ... turned off: nothing to do, not refused. */
	assert_int_equal(choose("[{\"name\":\"A\",\"direction\":\"IN\"},"
	    "{\"name\":\"Z\",\"direction\":\"OUT\",\"active\":false}]", &off,
	    err, sizeof(err)), CHANNELS_OK);
	/* Nothing left on. */
	assert_int_equal(choose("[]", &off, err, sizeof(err)), CHANNELS_NONE);
	assert_int_equal(choose("[{\"name\":\"A\",\"direction\":\"IN\","
	    "\"active\":false}]", &off, err, sizeof(err)), CHANNELS_NONE);
	assert_int_equal(off.n, 0);
}

static void
test_channels_apply(void **state)
{
	struct channels_off	 off;
	unsigned		 h[USERS_GROUPS_MAX];
	struct users_group	 later_groups[] = {
		{ "A", USERS_IN | USERS_OUT },
		{ "D", USERS_IN | USERS_OUT },
	};
	struct users_user	 later = { "alice", "", USERS_ROLE_USER, 2,
	    later_groups };
	struct users_group	 onlyb_groups[] = {
		{ "B", USERS_IN | USERS_OUT },
	};
	struct users_user	 onlyb = { "alice", "", USERS_ROLE_USER, 1,
	    onlyb_groups };

	memset(&off, 0, sizeof(off));
	assert_false(channels_apply(&off, &alice, h));
	assert_int_equal(h[1], USERS_IN | USERS_OUT);
	assert_false(channels_apply(NULL, &alice, h));
	off.n = 1;
	snprintf(off.g[0].name, sizeof(off.g[0].name), "B");
	off.g[0].halves = USERS_OUT;
	assert_true(channels_apply(&off, &alice, h));
	assert_int_equal(h[0], USERS_IN | USERS_OUT);
	assert_int_equal(h[1], USERS_IN);
	assert_int_equal(h[2], USERS_IN);
	assert_int_equal(h[3], USERS_OUT);
	/* A later file: B taken away, D given (on: it was never turned off). */
	assert_false(channels_apply(&off, &later, h));
	assert_int_equal(h[0], USERS_IN | USERS_OUT);
	assert_int_equal(h[1], USERS_IN | USERS_OUT);
	/* Only B left, B off both halves: the choice is set aside. */
	off.g[0].halves = USERS_IN | USERS_OUT;
	assert_false(channels_apply(&off, &onlyb, h));
	assert_int_equal(h[0], USERS_IN | USERS_OUT);
}

static void
test_channels_record(void **state)
{
	struct channels_off	 off, back;
	char			 buf[CHANNELS_REC_MAX];
	size_t			 len;

	memset(&off, 0, sizeof(off));
	assert_int_equal(channels_encode(&off, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(channels_decode(buf, 0, &back), 0);
	assert_int_equal(back.n, 0);
	off.n = 2;
	snprintf(off.g[0].name, sizeof(off.g[0].name), "Team Blue");
	off.g[0].halves = USERS_IN | USERS_OUT;
	snprintf(off.g[1].name, sizeof(off.g[1].name), "HQ");
	off.g[1].halves = USERS_OUT;
	assert_int_equal(channels_encode(&off, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 15);
	assert_memory_equal(buf, "3Team Blue\n2HQ\n", 15);
	assert_int_equal(channels_decode(buf, len, &back), 0);
	assert_int_equal(back.n, 2);
	assert_string_equal(back.g[0].name, "Team Blue");
	assert_int_equal(back.g[1].halves, USERS_OUT);
	/* No room. */
	assert_int_equal(channels_encode(&off, buf, 14, &len), -1);
	/* Not a record. */
	assert_int_equal(channels_decode("3A", 2, &back), -1);
	assert_int_equal(channels_decode("4A\n", 3, &back), -1);
	assert_int_equal(channels_decode("0A\n", 3, &back), -1);
	assert_int_equal(channels_decode("3\n", 2, &back), -1);
	assert_int_equal(channels_decode("3a,b\n", 5, &back), -1);
	assert_int_equal(channels_decode("3A\n1A\n", 6, &back), -1);
	assert_int_equal(back.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_channels_parse),
		cmocka_unit_test(test_channels_refused),
		cmocka_unit_test(test_channels_choose),
		cmocka_unit_test(test_channels_apply),
		cmocka_unit_test(test_channels_record),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
