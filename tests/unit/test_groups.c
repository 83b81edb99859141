/*
 * Unit tests for groups (docs/groups.md, "Routing"): group names and lists
 * (shared/grouplist.c), the worker's table and sets (worker/groups.c), and,
 * on the worker fixture (tests/unit/worker_fx.h), where a session's groups
 * come from and what they let through: broadcasts, directed events, the
 * latest-SA replay, disconnect notices, events of other workers, a live
 * change of a session's groups and a deleted user.
 *
 * The rule: an event from S reaches D only when some group has S in its IN
 * half and D in its OUT half.  Every routing case checks that a client of
 * another group reads not one byte.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/x509.h>

#include "tests/unit/unit.h"
#include "tests/unit/worker_fx.h"

#include "ipc/ipc.h"
#include "shared/grouplist.h"
#include "shared/store.h"
#include "worker/conn.h"
#include "worker/deliver.h"
#include "worker/groups.h"
#include "worker/outq.h"
#include "worker/registry.h"
#include "worker/session.h"
#include "worker/tls.h"

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

/* The users file says client i is user with the groups of spec. */
static int
set_user(struct worker_fx *f, int i, const char *user, const char *spec)
{
	struct groups_member	 m[GROUPLIST_MAX];
	char			 names[GROUPLIST_MAX][64];
	size_t			 n;
	int			 rc;

	n = members(spec, m, names, GROUPLIST_MAX);
	rc = session_set_groups(&f->w, f->c[i], user, m, n);
	worker_fx_turn(f);
	return (rc);
}

/* Client i reads not one byte. */
static void
assert_silent(struct worker_fx *f, int i)
{
	worker_fx_recv(f, i);
	if (f->rx[i] != NULL)
		fail_msg("client %d read %zu bytes: %s", i, f->rxlen[i],
		    f->rx[i]);
}

/* Client i reads exactly one event, containing what. */
static void
assert_got(struct worker_fx *f, int i, const char *what)
{
	char	 got[16384];
	int	 n;

	if ((n = worker_fx_events(f, i, got, sizeof(got))) != 1)
		fail_msg("client %d: %d events, want one with %s: %s", i, n,
		    what, n > 0 ? got : "");
	assert_contains(got, what);
}

/* Connect client i through a listener of group ("" none). */
static struct conn *
connect_in(struct worker_fx *f, int i, const char *group)
{
	f->acc.group = group[0] != '\0' ? group : NULL;
	return (worker_fx_connect(f, i));
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

/* The O and OU values of a certificate's subject, as ou_groups names. */
static void
test_orgunit(void **state)
{
	static const struct {
		const char	*rdns[5][2];
		const char	*want;
		bool		 toolong;
	} cases[] = {
		{ { { "CN", "alice" }, { "OU", "Blue" }, { "O", "Acme" },
		    { "OU", "Team 2" } }, "Acme/Blue/Team 2", false },
		{ { { "CN", "alice" } }, "", false },
		{ { { "CN", "bob" }, { "O", "Acme" } }, "Acme", false },
		{ { { "OU", "x" }, { "OU", "y" } }, "x/y", false },
		{ { { "O", "\xc3\xa9quipe" } }, "\xc3\xa9quipe", false },
	};
	X509_NAME	*name;
	char		 out[256], big[300];
	bool		 toolong;
	size_t		 i, j;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_non_null(name = X509_NAME_new());
		for (j = 0; j < 5 && cases[i].rdns[j][0] != NULL; j++)
			assert_int_equal(X509_NAME_add_entry_by_txt(name,
			    cases[i].rdns[j][0], MBSTRING_UTF8,
			    (const unsigned char *)cases[i].rdns[j][1], -1, -1,
			    0), 1);
		tls_name_orgunit(name, out, sizeof(out), &toolong);
		assert_string_equal(out, cases[i].want);
		assert_int_equal(toolong, cases[i].toolong);
		X509_NAME_free(name);
	}
	/* Too long for the room (five OUs of 60), or a NUL inside: no name. */
	assert_non_null(name = X509_NAME_new());
	memset(big, 'a', 60);
	big[60] = '\0';
	for (i = 0; i < 5; i++)
		assert_int_equal(X509_NAME_add_entry_by_txt(name, "OU",
		    MBSTRING_UTF8, (const unsigned char *)big, -1, -1, 0), 1);
	tls_name_orgunit(name, out, sizeof(out), &toolong);
	assert_true(toolong);
	X509_NAME_free(name);
	assert_non_null(name = X509_NAME_new());
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "O", V_ASN1_UTF8STRING,
	    (const unsigned char *)"Blue\0Red", 8, -1, 0), 1);
	tls_name_orgunit(name, out, sizeof(out), &toolong);
	assert_true(toolong);
	X509_NAME_free(name);
}

/* --- where a session's groups come from -------------------------------- */

/*
 * In this order: the listener's fixed group; the user's groups; with
 * [auth] ou_groups, one named from the certificate's O and OU; __ANON__.
 */
static void
test_sources(void **state)
{
	struct worker_fx	*f = *state;
	struct conn		*c;

	/* Nothing else: __ANON__, both halves. */
	c = connect_in(f, 0, "");
	assert_int_equal(c->s.groups.source, GROUPS_SRC_ANON);
	assert_string_equal(c->s.groups.in_list, GROUPLIST_ANON);
	assert_true(groups_meet(&c->s.groups.in, &c->s.groups.out));

	/* The listener's group wins over the user's. */
	c = connect_in(f, 1, "Gate");
	assert_int_equal(c->s.groups.source, GROUPS_SRC_LISTENER);
	assert_int_equal(set_user(f, 1, "alice", "Blue Red"), 0);
	assert_int_equal(c->s.groups.source, GROUPS_SRC_LISTENER);
	assert_string_equal(c->s.groups.in_list, "Gate");
	assert_string_equal(c->s.user, "alice");
	f->acc.group = NULL;

	/* The user's groups, then none: back to the next source. */
	c = f->c[0];
	assert_int_equal(set_user(f, 0, "bob", "Blue >Red"), 0);
	assert_int_equal(c->s.groups.source, GROUPS_SRC_USER);
	assert_string_equal(c->s.groups.in_list, "Blue,Red");
	assert_int_equal(set_user(f, 0, "bob", ""), 0);
	assert_int_equal(c->s.groups.source, GROUPS_SRC_ANON);

	/* O and OU, only with ou_groups, only when there are some. */
	snprintf(c->tls.orgunit, sizeof(c->tls.orgunit), "Acme/Blue");
	assert_int_equal(set_user(f, 0, "", ""), 0);
	assert_int_equal(c->s.groups.source, GROUPS_SRC_ANON);
	f->cfg.ou_groups = true;
	assert_int_equal(set_user(f, 0, "", ""), 0);
	assert_int_equal(c->s.groups.source, GROUPS_SRC_CERT);
	assert_string_equal(c->s.groups.in_list, "Acme/Blue");
	/* The user's still come first. */
	assert_int_equal(set_user(f, 0, "bob", "Red"), 0);
	assert_int_equal(c->s.groups.source, GROUPS_SRC_USER);
	c->tls.orgunit[0] = '\0';
	assert_int_equal(set_user(f, 0, "", ""), 0);
	assert_int_equal(c->s.groups.source, GROUPS_SRC_ANON);
	assert_int_equal(f->w.cnt.close_groups, 0);

	/*
	 * O and OU that make no group name close the session: __ANON__
	 * instead would widen what it sees.
	 */
	snprintf(c->tls.orgunit, sizeof(c->tls.orgunit), "Acme,Inc");
	assert_int_equal(set_user(f, 0, "", ""), -1);
	assert_false(worker_fx_alive(f, 0));
	assert_int_equal(f->w.cnt.close_groups, 1);
	c = connect_in(f, 2, "");
	c->tls.orgunit_long = true;
	snprintf(c->tls.orgunit, sizeof(c->tls.orgunit), "Acme");
	assert_int_equal(set_user(f, 2, "", ""), -1);
	assert_false(worker_fx_alive(f, 2));
	assert_int_equal(f->w.cnt.close_groups, 2);
}

/*
 * At the handshake, before session_start(): the user's groups are taken as
 * they are (no notice: nothing changed for the client), and the replay at
 * start follows them.  A session built by hand, never on the worker's
 * lists: conn.c has no handshake without TLS.
 */
static void
test_before_start(void **state)
{
	struct worker_fx	*f = *state;
	struct groups_member	 blue = { "Blue", GROUPS_IN | GROUPS_OUT };
	struct groups_member	 bad = { "a,b", GROUPS_IN | GROUPS_OUT };
	struct conn		*c;

	connect_in(f, 0, "Blue");
	connect_in(f, 1, "Red");
	worker_fx_send_str(f, 0, worker_fx_sa("UID-B", "BLUE",
	    WORKER_FX_STALE, 0));
	worker_fx_send_str(f, 1, worker_fx_sa("UID-R", "RED",
	    WORKER_FX_STALE, 0));
	f->acc.group = NULL;

	assert_non_null(c = calloc(1, sizeof(*c)));
	c->magic = CONN_MAGIC;
	c->fd = -1;
	c->id = 1000;
	c->acceptor = &f->acc;
	c->plain = true;
	session_init(&f->w, c);
	assert_int_equal(session_set_groups(&f->w, c, "alice", &blue, 1), 0);
	assert_int_equal(c->s.groups.source, GROUPS_SRC_USER);
	assert_int_equal(outq_events(&c->s.outq), 0);
	session_start(&f->w, c);
	/* Its user's groups stay; Blue's SA is replayed, not Red's. */
	assert_int_equal(c->s.groups.source, GROUPS_SRC_USER);
	assert_string_equal(c->s.groups.in_list, "Blue");
	assert_int_equal(outq_events(&c->s.outq), 1);
	assert_int_equal(f->w.cnt.withheld_replay, 1);
	assert_int_equal(f->w.cnt.groups_changed, 0);
	session_end(&f->w, c);

	/* Refused before the start: no group, the start closes it. */
	session_init(&f->w, c);
	assert_int_equal(session_set_groups(&f->w, c, "bob", &bad, 1), -1);
	assert_int_equal(c->s.groups.source, GROUPS_SRC_REFUSED);
	assert_int_equal(c->s.groups.in.nw + c->s.groups.out.nw, 0);
	assert_int_equal(session_set_groups(&f->w, c, "bob", &blue, 1), -1);
	session_end(&f->w, c);
	free(c);
}

/* --- routing ----------------------------------------------------------- */

/* Two isolated teams: Blue (0, 1) and Red (2, 3). */
static void
test_isolated_teams(void **state)
{
	static const char *const to_r1[] = { "callsign=RED-1", NULL };
	static const char *const to_r1_uid[] = { "uid=UID-R1", NULL };
	static const char *const to_b2[] = { "callsign=BLUE-2", NULL };
	static const char *const to_all[] = { "callsign=All Streaming",
	    NULL };
	struct worker_fx	*f = *state;
	uint64_t		 nr;
	int			 i;

	connect_in(f, 0, "Blue");
	connect_in(f, 1, "Blue");
	connect_in(f, 2, "Red");
	connect_in(f, 3, "Red");
	worker_fx_bind(f, 0, "UID-B1", "BLUE-1");
	worker_fx_bind(f, 1, "UID-B2", "BLUE-2");
	worker_fx_bind(f, 2, "UID-R1", "RED-1");
	worker_fx_bind(f, 3, "UID-R2", "RED-2");
	/* The binds were broadcasts: 2 of each 4 withheld... */
	assert_int_equal(f->w.cnt.withheld_broadcast, 8);

	worker_fx_send_str(f, 0, worker_fx_sa("UID-B1", "BLUE-1",
	    WORKER_FX_STALE, 0));
	assert_got(f, 1, "UID-B1");
	assert_silent(f, 2);
	assert_silent(f, 3);
	assert_int_equal(f->w.cnt.withheld_broadcast, 10);
	worker_fx_send_str(f, 2, worker_fx_chat("c1", "red only", to_all));
	assert_got(f, 3, "red only");
	assert_silent(f, 0);
	assert_silent(f, 1);

	/* Directed across teams, by callsign and by uid: withheld. */
	nr = f->w.cnt.drop_no_recipient;
	worker_fx_send_str(f, 0, worker_fx_chat("c2", "psst", to_r1));
	worker_fx_send_str(f, 0, worker_fx_chat("c3", "psst", to_r1_uid));
	assert_int_equal(f->w.cnt.withheld_directed, 2);
	/* Someone was there: not "no recipient". */
	assert_int_equal(f->w.cnt.drop_no_recipient, nr);
	worker_fx_send_str(f, 0, worker_fx_chat("c4", "team", to_b2));
	assert_got(f, 1, "team");
	assert_int_equal(f->w.cnt.withheld_directed, 2);

	/* A ping is answered whatever the groups. */
	worker_fx_send_str(f, 2, worker_fx_ping("UID-R1"));
	assert_got(f, 2, "t-x-c-t-r");
	for (i = 0; i < 4; i++)
		assert_silent(f, i);
}

/* HQ sees all, teams see only themselves (and HQ). */
static void
test_hq(void **state)
{
	struct worker_fx	*f = *state;
	struct groups_member	 hq[3] = {
		{ "Blue", GROUPS_IN | GROUPS_OUT },
		{ "Red", GROUPS_IN | GROUPS_OUT },
		{ "HQ", GROUPS_IN | GROUPS_OUT },
	};

	connect_in(f, 0, "");
	f->acc.group = NULL;
	assert_int_equal(session_set_groups(&f->w, f->c[0], "hq", hq, 3), 0);
	connect_in(f, 1, "Blue");
	connect_in(f, 2, "Red");
	worker_fx_turn(f);
	(void)worker_fx_events(f, 0, NULL, 0);	/* its t-x-g-c */
	worker_fx_bind(f, 0, "UID-HQ", "HQ");
	worker_fx_bind(f, 1, "UID-B", "BLUE");
	worker_fx_bind(f, 2, "UID-R", "RED");

	worker_fx_send_str(f, 0, worker_fx_sa("UID-HQ", "HQ",
	    WORKER_FX_STALE, 0));
	assert_got(f, 1, "UID-HQ");
	assert_got(f, 2, "UID-HQ");
	worker_fx_send_str(f, 1, worker_fx_sa("UID-B", "BLUE",
	    WORKER_FX_STALE, 0));
	assert_got(f, 0, "UID-B");
	assert_silent(f, 2);
	worker_fx_send_str(f, 2, worker_fx_sa("UID-R", "RED",
	    WORKER_FX_STALE, 0));
	assert_got(f, 0, "UID-R");
	assert_silent(f, 1);
}

/* A read-only observer: receives Blue's, publishes to nobody. */
static void
test_observer(void **state)
{
	struct worker_fx	*f = *state;
	uint64_t		 w;

	connect_in(f, 0, "Blue");
	connect_in(f, 1, "");
	f->acc.group = NULL;
	assert_int_equal(set_user(f, 1, "watcher", "<Blue"), 0);
	(void)worker_fx_events(f, 1, NULL, 0);	/* its t-x-g-c */
	worker_fx_bind(f, 0, "UID-B", "BLUE");
	worker_fx_send_str(f, 0, worker_fx_sa("UID-B", "BLUE",
	    WORKER_FX_STALE, 0));
	assert_got(f, 1, "UID-B");
	w = f->w.cnt.withheld_broadcast;
	worker_fx_send_str(f, 1, worker_fx_sa("UID-W", "WATCH",
	    WORKER_FX_STALE, 0));
	assert_silent(f, 0);
	assert_int_equal(f->w.cnt.withheld_broadcast, w + 1);
	/* It still gets its pong. */
	worker_fx_send_str(f, 1, worker_fx_ping("UID-W"));
	assert_got(f, 1, "t-x-c-t-r");
	/* Its stored SA is replayed to nobody: it has no IN group. */
	connect_in(f, 2, "Blue");
	worker_fx_turn(f);
	assert_got(f, 2, "UID-B");
}

/*
 * The latest SA replayed at connect: only those whose sender's IN groups
 * meet the newcomer's OUT groups.
 */
static void
test_replay(void **state)
{
	struct worker_fx	*f = *state;

	connect_in(f, 0, "Blue");
	connect_in(f, 1, "Red");
	worker_fx_send_str(f, 0, worker_fx_sa("UID-B", "BLUE",
	    WORKER_FX_STALE, 0));
	worker_fx_send_str(f, 1, worker_fx_sa("UID-R", "RED",
	    WORKER_FX_STALE, 0));
	connect_in(f, 2, "Blue");
	worker_fx_turn(f);
	assert_got(f, 2, "UID-B");
	assert_int_equal(f->w.cnt.withheld_replay, 1);
	connect_in(f, 3, "Green");
	worker_fx_turn(f);
	assert_silent(f, 3);
	assert_int_equal(f->w.cnt.withheld_replay, 3);
	assert_int_equal(f->w.cnt.sa_replayed, 1);
}

/* A disconnect notice reaches only those who could see who left. */
static void
test_notices(void **state)
{
	struct worker_fx	*f = *state;

	connect_in(f, 0, "Blue");
	connect_in(f, 1, "Blue");
	connect_in(f, 2, "Red");
	worker_fx_bind(f, 0, "UID-B1", "BLUE-1");
	conn_close(&f->w, f->c[0], "test");
	worker_fx_turn(f);
	assert_got(f, 1, "t-x-d-d");
	assert_silent(f, 2);
	assert_int_equal(f->w.cnt.withheld_notice, 1);

	/* A dead worker's client, by its IN groups. */
	assert_true(session_departed(&f->w, 1, "UID-X", "a-f-G", "Red"));
	worker_fx_turn(f);
	assert_got(f, 2, "UID-X");
	assert_silent(f, 1);
	assert_true(session_departed(&f->w, 1, "UID-Y", "a-f-G", ""));
	worker_fx_turn(f);
	assert_silent(f, 1);
	assert_silent(f, 2);
	assert_int_equal(f->w.cnt.withheld_notice, 4);
}

/*
 * An event of another worker carries its sender's IN groups by name: this
 * worker resolves them against its own table.
 */
static void
test_from_mesh(void **state)
{
	static const struct cot_dest to_r[] = { { COT_DEST_CALLSIGN, "RED" } };
	struct worker_fx	*f = *state;
	struct deliver		 d;
	const char		*ev = "<event uid=\"m\" type=\"a-h-G\"/>";

	connect_in(f, 0, "Blue");
	connect_in(f, 1, "Red");
	worker_fx_bind(f, 1, "UID-R", "RED");
	memset(&d, 0, sizeof(d));
	d.kind = DELIVER_BROADCAST;
	d.cls = IPC_EV_SA;
	d.src_worker = 1;
	d.src_conn = 7;
	d.groups = "Green,Red";
	assert_non_null(d.ev = evbuf_new(ev, strlen(ev)));
	deliver_local(&f->w, &d);
	worker_fx_turn(f);
	assert_got(f, 1, "uid=\"m\"");
	assert_silent(f, 0);
	/* Groups nobody here holds, or none: nobody. */
	d.groups = "Green";
	deliver_local(&f->w, &d);
	d.groups = "";
	deliver_local(&f->w, &d);
	d.groups = NULL;
	deliver_local(&f->w, &d);
	worker_fx_turn(f);
	assert_silent(f, 0);
	assert_silent(f, 1);
	/* Client 0 missed client 1's bind, then each of these. */
	assert_int_equal(f->w.cnt.withheld_broadcast, 1 + 1 + 2 + 2 + 2);
	/* Directed, of a group its recipient does not receive from. */
	d.kind = DELIVER_DIRECTED;
	d.dest = to_r;
	d.n_dest = 1;
	d.groups = "Blue";
	deliver_local(&f->w, &d);
	worker_fx_turn(f);
	assert_silent(f, 1);
	assert_int_equal(f->w.cnt.withheld_directed, 1);
	evbuf_unref(d.ev);
}

/*
 * A live change: the new groups at once, a t-x-g-c, the latest SA of those
 * it can see now and could not before, and nothing of the old group after.
 */
static void
test_live_change(void **state)
{
	struct worker_fx	*f = *state;
	struct conn		*c;
	char			 got[16384];
	int			 n;

	f->acc.group = NULL;
	c = connect_in(f, 0, "");
	connect_in(f, 1, "");
	connect_in(f, 2, "");
	f->acc.group = NULL;
	assert_int_equal(set_user(f, 1, "b", "Blue"), 0);
	assert_int_equal(set_user(f, 2, "r", "Red"), 0);
	(void)worker_fx_events(f, 1, NULL, 0);
	(void)worker_fx_events(f, 2, NULL, 0);
	worker_fx_send_str(f, 1, worker_fx_sa("UID-B", "BLUE",
	    WORKER_FX_STALE, 0));
	worker_fx_send_str(f, 2, worker_fx_sa("UID-R", "RED",
	    WORKER_FX_STALE, 0));
	worker_fx_bind(f, 0, "UID-A", "ALICE");
	assert_silent(f, 0);

	/* To Blue: the notice, then Blue's SA, not Red's. */
	assert_int_equal(set_user(f, 0, "alice", "Blue"), 0);
	n = worker_fx_events(f, 0, got, sizeof(got));
	if (n != 2)
		fail_msg("%d events: %s", n, got);
	assert_true(strstr(got, "t-x-g-c") != NULL &&
	    strstr(got, "t-x-g-c") < strstr(got, "UID-B"));
	assert_contains(got, "<link uid=\"UID-A\" relation=\"p-p\"/>");
	assert_null(strstr(got, "UID-R"));
	/* Clients 1 and 2 left __ANON__ too. */
	assert_int_equal(f->w.cnt.groups_changed, 3);
	assert_silent(f, 1);
	assert_silent(f, 2);
	worker_fx_send_str(f, 1, worker_fx_sa("UID-B", "BLUE",
	    WORKER_FX_STALE, 0));
	assert_got(f, 0, "UID-B");
	worker_fx_send_str(f, 2, worker_fx_sa("UID-R", "RED",
	    WORKER_FX_STALE, 0));
	assert_silent(f, 0);

	/* The same groups again: no notice, nothing replayed. */
	assert_int_equal(set_user(f, 0, "alice", "Blue"), 0);
	assert_silent(f, 0);
	assert_int_equal(f->w.cnt.groups_changed, 3);

	/* Blue and Red: only Red's SA is new to it. */
	assert_int_equal(set_user(f, 0, "alice", "Blue Red"), 0);
	n = worker_fx_events(f, 0, got, sizeof(got));
	if (n != 2)
		fail_msg("%d events: %s", n, got);
	assert_contains(got, "UID-R");
	assert_null(strstr(got, "UID-B"));

	/* To Red only: nothing of Blue from then on. */
	assert_int_equal(set_user(f, 0, "alice", "Red"), 0);
	assert_got(f, 0, "t-x-g-c");
	worker_fx_send_str(f, 1, worker_fx_sa("UID-B", "BLUE",
	    WORKER_FX_STALE, 0));
	worker_fx_send_str(f, 1, worker_fx_chat("c", "blue chat", NULL));
	assert_silent(f, 0);
	worker_fx_send_str(f, 2, worker_fx_chat("c2", "red chat", NULL));
	assert_got(f, 0, "red chat");
	/* What it sends goes to Red now. */
	worker_fx_send_str(f, 0, worker_fx_sa("UID-A", "ALICE",
	    WORKER_FX_STALE, 0));
	assert_got(f, 2, "UID-A");
	assert_silent(f, 1);
	assert_int_equal(f->w.cnt.groups_changed, 5);
	assert_string_equal(c->s.user, "alice");
}

/*
 * What the registry records for takctl clients, read as the supervisor
 * reads it: by another process (a process opens a store once).
 */
static void
test_record(void **state)
{
	struct worker_fx	*f = *state;
	struct store		*st;
	struct store_client	*sc;
	char			 err[256];
	pid_t			 pid;
	int			 status, rc = 9;

	connect_in(f, 0, "");
	f->acc.group = NULL;
	assert_int_equal(set_user(f, 0, "alice", "Blue >Gate <Watch"), 0);
	worker_fx_turn(f);
	assert_true((pid = fork()) != -1);
	if (pid == 0) {
		if ((st = store_open(".", 0, 0, 0, err, sizeof(err))) != NULL &&
		    (sc = malloc(sizeof(*sc))) != NULL &&
		    store_get_client(st, STORE_CONN_ID(0, f->c[0]->id),
		    sc) == 0)
			rc = strcmp(sc->user, "alice") != 0 ? 1 :
			    strcmp(sc->groups_in, "Blue,Gate") != 0 ? 2 :
			    strcmp(sc->groups_out, "Blue,Watch") != 0 ? 3 : 0;
		_exit(rc);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The users file lost the session's user: it is closed, loudly. */
static void
test_user_deleted(void **state)
{
	struct worker_fx	*f = *state;

	connect_in(f, 0, "");
	connect_in(f, 1, "");
	worker_fx_bind(f, 0, "UID-A", "ALICE");
	assert_int_equal(set_user(f, 0, "alice", GROUPLIST_ANON), 0);
	session_close_user(&f->w, f->c[0]);
	worker_fx_turn(f);
	assert_false(worker_fx_alive(f, 0));
	assert_int_equal(f->w.cnt.close_user_deleted, 1);
	assert_got(f, 1, "t-x-d-d");
}

/*
 * The worker's table full: a session that needs one more group is closed
 * (at connect or at a change), never given fewer or other groups.
 */
static void
test_table_full(void **state)
{
	struct worker_fx	*f = *state;
	struct groups_member	 m[GROUPLIST_MAX];
	char			 names[GROUPLIST_MAX][64];
	int			 i, k;

	/*
	 * Each connects in __ANON__, which the last one keeps: 7 x 64, then
	 * 63 and __ANON__.
	 */
	for (k = 0; k < GROUPS_MAX / GROUPLIST_MAX; k++) {
		connect_in(f, k, "");
		f->acc.group = NULL;
		for (i = 0; i < GROUPLIST_MAX; i++) {
			snprintf(names[i], 64, "g%d", k * GROUPLIST_MAX + i);
			m[i].name = names[i];
			m[i].halves = GROUPS_IN | GROUPS_OUT;
		}
		if (k == GROUPS_MAX / GROUPLIST_MAX - 1)
			m[GROUPLIST_MAX - 1].name = GROUPLIST_ANON;
		assert_int_equal(session_set_groups(&f->w, f->c[k], "u", m,
		    GROUPLIST_MAX), 0);
	}
	worker_fx_turn(f);
	assert_int_equal(groups_count(f->w.groups), GROUPS_MAX);
	/* Client 8: its listener's group has no room. */
	connect_in(f, 8, "one-more");
	worker_fx_turn(f);
	assert_false(worker_fx_alive(f, 8));
	assert_int_equal(f->w.cnt.close_groups, 1);
	/* Client 0 asks for a new one: closed, its old ones given back. */
	assert_int_equal(set_user(f, 0, "u", "g0 brand-new"), -1);
	assert_false(worker_fx_alive(f, 0));
	assert_int_equal(f->w.cnt.close_groups, 2);
	assert_int_equal(groups_count(f->w.groups),
	    GROUPS_MAX - GROUPLIST_MAX);
	/* Now there is room. */
	connect_in(f, 9, "one-more");
	worker_fx_turn(f);
	assert_true(worker_fx_alive(f, 9));
}

/* The sessions of every group, for takd_group_sessions. */
static void
test_counts(void **state)
{
	struct worker_fx	*f = *state;
	struct grouplist_count	 v[8];
	size_t			 n, i;
	bool			 blue = false, red = false;

	connect_in(f, 0, "Blue");
	connect_in(f, 1, "Blue");
	connect_in(f, 2, "Red");
	n = groups_counts(f->w.groups, v, 8);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		if (strcmp(v[i].name, "Blue") == 0) {
			blue = true;
			assert_int_equal(v[i].sessions, 2);
		} else if (strcmp(v[i].name, "Red") == 0) {
			red = true;
			assert_int_equal(v[i].sessions, 1);
		}
	}
	assert_true(blue && red);
	conn_close(&f->w, f->c[1], "test");
	worker_fx_turn(f);
	n = groups_counts(f->w.groups, v, 8);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].sessions + v[1].sessions, 2);
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
		cmocka_unit_test(test_orgunit),
#define FX(t)	cmocka_unit_test_setup_teardown(t, worker_fx_setup, \
		    worker_fx_teardown)
		FX(test_sources),
		FX(test_before_start),
		FX(test_isolated_teams),
		FX(test_hq),
		FX(test_observer),
		FX(test_replay),
		FX(test_notices),
		FX(test_from_mesh),
		FX(test_live_change),
		FX(test_record),
		FX(test_user_deleted),
		FX(test_table_full),
		FX(test_counts),
#undef FX
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
