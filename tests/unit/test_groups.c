/*
 * Unit tests for groups (docs/groups.md, "Routing"): group names and lists
 * (shared/grouplist.c) and the worker's table and sets (worker/groups.c).
 *
 * The rule: an event from S reaches D only when some group has S in its IN
 * half and D in its OUT half.
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

#include "tests/unit/unit.h"

#include "ipc/ipc.h"
#include "shared/grouplist.h"
#include "worker/groups.h"

/* --- helpers ---------------------------------------------------------- */

/*
 * Members from a spec: names separated by spaces, "G" both halves, ">G"
 * IN only (publishes to G), "<G" OUT only (receives from G).  names holds
 * the copies.
 */
static size_t
members(const char *spec, struct groups_member *m, char names[][64],
    size_t max)
{
	const char	*p = spec;
	size_t		 n = 0, len;

	while (*p != '\0' && n < max) {
		p += strspn(p, " ");
		if ((len = strcspn(p, " ")) == 0)
			break;
		m[n].halves = GROUPS_IN | GROUPS_OUT;
		if (*p == '>' || *p == '<') {
			m[n].halves = *p == '>' ? GROUPS_IN : GROUPS_OUT;
			p++;
			len--;
		}
		snprintf(names[n], 64, "%.*s", (int)len, p);
		m[n].name = names[n];
		p += len;
		n++;
	}
	return (n);
}

/* --- names and lists (shared/grouplist.c) ----------------------------- */

static void
test_names(void **state)
{
	static const char *const good[] = { "Blue", "__ANON__", "Team 2",
	    "Acme/Blue", "\xc3\xa9quipe", "a",
	    "123456789012345678901234567890123456789012345678901234567890123" };
	static const char *const bad[] = { "", " Blue", "Blue ", "a,b", "a:b",
	    "a\tb", "a\x7f", "\xc3", "\xc2\x85", "\xed\xa0\x80", "\xc0\xaf",
	    "1234567890123456789012345678901234567890123456789012345678901234" };
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!grouplist_name_ok(good[i], strlen(good[i])))
			fail_msg("\"%s\" refused", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (grouplist_name_ok(bad[i], strlen(bad[i])))
			fail_msg("\"%s\" accepted", bad[i]);
	assert_false(grouplist_name_ok(NULL, 0));

	assert_int_equal(grouplist_check("", 0), 0);
	assert_int_equal(grouplist_check("Blue", 4), 1);
	assert_int_equal(grouplist_check("Blue,HQ,Team 2", 14), 3);
	assert_int_equal(grouplist_check(",", 1), -1);
	assert_int_equal(grouplist_check("Blue,", 5), -1);
	assert_int_equal(grouplist_check(",Blue", 5), -1);
	assert_int_equal(grouplist_check("Blue,,HQ", 8), -1);
	assert_int_equal(grouplist_check("Blue, HQ", 8), -1);
}

static void
test_counts_wire(void **state)
{
	struct grouplist_count	 v[3], *out;
	struct ipc_buf		*b;
	struct ipc_msg		 m;
	struct ipc_rd		 rd;
	size_t			 n, i;

	(void)state;
	assert_non_null(b = malloc(sizeof(*b)));
	memset(v, 0, sizeof(v));
	snprintf(v[0].name, sizeof(v[0].name), "Blue");
	v[0].sessions = 3;
	snprintf(v[1].name, sizeof(v[1].name), "__ANON__");
	v[1].sessions = 1;
	snprintf(v[2].name, sizeof(v[2].name), "\xc3\xa9quipe \"2\"");
	v[2].sessions = UINT64_MAX;
	ipc_buf_init(b);
	grouplist_put_counts(b, v, 3);
	memset(&m, 0, sizeof(m));
	m.payload = b->data;
	m.len = b->len;
	ipc_rd_init(&rd, &m);
	assert_int_equal(grouplist_get_counts(&rd, &out, &n), 0);
	assert_int_equal(ipc_rd_done(&rd), 0);
	assert_int_equal(n, 3);
	for (i = 0; i < 3; i++) {
		assert_string_equal(out[i].name, v[i].name);
		assert_true(out[i].sessions == v[i].sessions);
	}
	free(out);

	/* No group: the count only. */
	ipc_buf_init(b);
	grouplist_put_counts(b, v, 0);
	m.len = b->len;
	ipc_rd_init(&rd, &m);
	assert_int_equal(grouplist_get_counts(&rd, &out, &n), 0);
	assert_int_equal(n, 0);
	assert_null(out);

	/* More than a worker can hold, a name that is none, truncated. */
	ipc_buf_init(b);
	ipc_put_u32(b, GROUPLIST_TABLE_MAX + 1);
	m.len = b->len;
	ipc_rd_init(&rd, &m);
	assert_int_equal(grouplist_get_counts(&rd, &out, &n), -1);
	ipc_buf_init(b);
	ipc_put_u32(b, 1);
	ipc_put_str(b, "a,b");
	ipc_put_u64(b, 1);
	m.len = b->len;
	ipc_rd_init(&rd, &m);
	assert_int_equal(grouplist_get_counts(&rd, &out, &n), -1);
	ipc_buf_init(b);
	ipc_put_u32(b, 2);
	ipc_put_str(b, "a");
	ipc_put_u64(b, 1);
	m.len = b->len;
	ipc_rd_init(&rd, &m);
	assert_int_equal(grouplist_get_counts(&rd, &out, &n), -1);
	assert_null(out);
	free(b);
}

/* --- the table and the sets (worker/groups.c) ------------------------- */

/* Take the groups of spec into gs: 0 or -1 (err). */
static int
take(struct groups *t, struct groups_sess *gs, const char *spec)
{
	struct groups_member	 m[GROUPLIST_MAX];
	char			 names[GROUPLIST_MAX][64], err[256];

	return (groups_sess_take(t, gs, GROUPS_SRC_USER, m,
	    members(spec, m, names, GROUPLIST_MAX), err, sizeof(err)));
}

/* Whether an event of a reaches b: a's IN meets b's OUT. */
static bool
reaches(const struct groups_sess *a, const struct groups_sess *b)
{
	return (groups_meet(&a->in, &b->out));
}

static void
test_rule(void **state)
{
	struct groups		*t;
	struct groups_sess	 blue, red, hq, obs, gate, anon, anon2, none;

	(void)state;
	assert_non_null(t = groups_new());
	assert_int_equal(take(t, &blue, "Blue"), 0);
	assert_int_equal(take(t, &red, "Red"), 0);
	assert_int_equal(take(t, &hq, "Blue Red HQ"), 0);
	/* A read-only observer: receives from Blue, publishes nowhere. */
	assert_int_equal(take(t, &obs, "<Blue"), 0);
	/* A gateway publishing into Red only. */
	assert_int_equal(take(t, &gate, ">Red"), 0);
	assert_int_equal(take(t, &anon, GROUPLIST_ANON), 0);
	assert_int_equal(take(t, &anon2, GROUPLIST_ANON), 0);
	assert_int_equal(take(t, &none, ""), 0);

	assert_true(reaches(&blue, &blue));
	assert_false(reaches(&blue, &red));
	assert_false(reaches(&red, &blue));
	assert_true(reaches(&blue, &hq));
	assert_true(reaches(&red, &hq));
	assert_true(reaches(&hq, &blue));
	assert_true(reaches(&hq, &red));
	/* OUT only: gets Blue's, reaches nobody, not even Blue. */
	assert_true(reaches(&blue, &obs));
	assert_true(reaches(&hq, &obs));
	assert_false(reaches(&red, &obs));
	assert_false(reaches(&obs, &blue));
	assert_false(reaches(&obs, &obs));
	/* IN only: reaches Red and HQ, gets nothing. */
	assert_true(reaches(&gate, &red));
	assert_true(reaches(&gate, &hq));
	assert_false(reaches(&gate, &blue));
	assert_false(reaches(&red, &gate));
	assert_false(reaches(&hq, &gate));
	/* __ANON__ is a group like any other. */
	assert_true(reaches(&anon, &anon2));
	assert_false(reaches(&anon, &blue));
	assert_false(reaches(&hq, &anon));
	/* No group at all: nothing either way. */
	assert_false(reaches(&none, &blue));
	assert_false(reaches(&hq, &none));

	assert_string_equal(hq.in_list, "Blue,Red,HQ");
	assert_string_equal(obs.in_list, "");
	assert_string_equal(gate.in_list, "Red");
	assert_int_equal(groups_count(t), 4);
	assert_int_equal(groups_refs(t, (unsigned)groups_id(t, "Blue", 4)),
	    3);
	/* The same groups with the same halves, whatever the order. */
	{
		struct groups_sess	 hq2;

		assert_int_equal(take(t, &hq2, "HQ Red Blue"), 0);
		assert_true(groups_sess_same(&hq, &hq2));
		assert_false(groups_sess_same(&hq, &blue));
		groups_sess_drop(t, &hq2);
	}
	groups_sess_drop(t, &blue);
	groups_sess_drop(t, &red);
	groups_sess_drop(t, &hq);
	groups_sess_drop(t, &obs);
	groups_sess_drop(t, &gate);
	groups_sess_drop(t, &anon);
	groups_sess_drop(t, &anon2);
	groups_sess_drop(t, &none);
	assert_int_equal(groups_count(t), 0);
	assert_int_equal(groups_id(t, "Blue", 4), -1);
	groups_free(t);
}

/* A name given twice is one group with both its halves. */
static void
test_members(void **state)
{
	struct groups		*t;
	struct groups_sess	 gs, two;
	struct groups_member	 m[GROUPLIST_MAX + 1];
	char			 names[GROUPLIST_MAX + 1][64], err[256];
	size_t			 i;

	(void)state;
	assert_non_null(t = groups_new());
	assert_int_equal(take(t, &gs, ">Blue <Blue"), 0);
	assert_int_equal(take(t, &two, "Blue"), 0);
	assert_true(groups_sess_same(&gs, &two));
	assert_int_equal(gs.n, 1);
	assert_int_equal(groups_refs(t, gs.id[0]), 2);
	groups_sess_drop(t, &two);
	groups_sess_drop(t, &gs);

	/* Refused, nothing taken: a bad name, no half, one too many. */
	assert_int_equal(take(t, &gs, "Blue a,b"), -1);
	assert_int_equal(groups_count(t), 0);
	assert_int_equal(gs.n, 0);
	assert_null(gs.in_list);
	m[0].name = "Blue";
	m[0].halves = 0;
	assert_int_equal(groups_sess_take(t, &gs, GROUPS_SRC_USER, m, 1, err,
	    sizeof(err)), -1);
	assert_contains(err, "halves");
	m[0].name = NULL;
	m[0].halves = GROUPS_IN;
	assert_int_equal(groups_sess_take(t, &gs, GROUPS_SRC_USER, m, 1, err,
	    sizeof(err)), -1);
	for (i = 0; i < GROUPLIST_MAX + 1; i++) {
		snprintf(names[i], 64, "g%zu", i);
		m[i].name = names[i];
		m[i].halves = GROUPS_IN;
	}
	assert_int_equal(groups_sess_take(t, &gs, GROUPS_SRC_USER, m,
	    GROUPLIST_MAX, err, sizeof(err)), 0);
	assert_int_equal(grouplist_check(gs.in_list, strlen(gs.in_list)),
	    GROUPLIST_MAX);
	groups_sess_drop(t, &gs);
	assert_int_equal(groups_sess_take(t, &gs, GROUPS_SRC_USER, m,
	    GROUPLIST_MAX + 1, err, sizeof(err)), -1);
	assert_contains(err, "more than 64 groups");
	assert_int_equal(groups_count(t), 0);
	groups_free(t);
}

/*
 * GROUPS_MAX groups in use: one more is refused, loudly, and nothing is
 * taken; a group let go frees its id for the next.  Sets of ids past the
 * first word meet exactly where they should.
 */
static void
test_bound(void **state)
{
	struct groups		*t;
	struct groups_sess	 gs[GROUPS_MAX / GROUPLIST_MAX], more, low;
	struct groups_member	 m[GROUPLIST_MAX];
	struct groups_set	 s;
	char			 names[GROUPLIST_MAX][64], err[256];
	size_t			 i, k;

	(void)state;
	assert_non_null(t = groups_new());
	for (k = 0; k < GROUPS_MAX / GROUPLIST_MAX; k++) {
		for (i = 0; i < GROUPLIST_MAX; i++) {
			snprintf(names[i], 64, "g%zu", k * GROUPLIST_MAX + i);
			m[i].name = names[i];
			m[i].halves = GROUPS_IN | GROUPS_OUT;
		}
		assert_int_equal(groups_sess_take(t, &gs[k], GROUPS_SRC_USER,
		    m, GROUPLIST_MAX, err, sizeof(err)), 0);
	}
	assert_int_equal(groups_count(t), GROUPS_MAX);
	/* The last session's groups are in the last word. */
	k = GROUPS_MAX / GROUPLIST_MAX - 1;
	assert_int_equal(gs[k].out.nw, GROUPS_WORDS);
	assert_false(groups_meet(&gs[0].in, &gs[k].out));
	assert_true(groups_meet(&gs[k].in, &gs[k].out));
	groups_resolve(t, "g511,nobody", 11, &s);
	assert_int_equal(s.nw, GROUPS_WORDS);
	assert_true(groups_meet(&s, &gs[k].out));
	assert_false(groups_meet(&s, &gs[0].out));

	/* Full: a new group is refused, a known one still taken. */
	assert_int_equal(take(t, &more, "g0 new"), -1);
	assert_int_equal(groups_count(t), GROUPS_MAX);
	assert_int_equal(groups_refs(t, (unsigned)groups_id(t, "g0", 2)), 1);
	assert_int_equal(take(t, &more, "g0 g511"), 0);
	assert_int_equal(groups_refs(t, (unsigned)groups_id(t, "g0", 2)), 2);
	groups_sess_drop(t, &more);

	/* Room again: the lowest free id, so the set stays in word 0. */
	groups_sess_drop(t, &gs[0]);
	assert_int_equal(take(t, &low, "new"), 0);
	assert_int_equal(low.id[0], 0);
	assert_int_equal(low.out.nw, 1);
	groups_sess_drop(t, &low);
	for (k = 1; k < GROUPS_MAX / GROUPLIST_MAX; k++)
		groups_sess_drop(t, &gs[k]);
	assert_int_equal(groups_count(t), 0);
	groups_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_counts_wire),
		cmocka_unit_test(test_rule),
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_bound),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
