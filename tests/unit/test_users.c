/*
 * Unit tests for shared/users.c (the users file: parser, formatter,
 * lookups, changes, the safe read) and shared/password.c (libcrypt
 * hashes): round trips, every malformed line refused with its line number,
 * the limits, put/del leaving the set as it was on failure, a password
 * that verifies and one that does not, hashes of other schemes, and the
 * time to parse a file of 100,000 users (printed, not asserted).
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "shared/password.h"
#include "shared/users.h"
#include "tests/unit/unit.h"

#define HASH_Y	"$y$j9T$zSXb6RGQ.zqNfUpi166gO1$953x83Eidc.NjrbqyIxy2eYIXn9vbHmaPuZd/UQIoo9"

static struct users *
parse_ok(const char *text)
{
	struct users	*us;
	char		 err[512];

	if ((us = users_parse(text, strlen(text), "users", err,
	    sizeof(err))) == NULL)
		fail_msg("unexpected error: %s\nfor file:\n%s", err, text);
	return (us);
}

/* Expect "users:LINE: ..." containing want. */
static void
parse_fail(const char *text, size_t len, unsigned line, const char *want)
{
	struct users	*us;
	char		 err[512], prefix[32];

	us = users_parse(text, len, "users", err, sizeof(err));
	if (us != NULL) {
		users_free(us);
		fail_msg("parsed, but expected \"%s\" on line %u for:\n%s",
		    want, line, text);
	}
	snprintf(prefix, sizeof(prefix), "users:%u: ", line);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("\"%s\" does not start with \"%s\"", err, prefix);
	assert_contains(err, want);
}

/* Two sets hold the same users, field by field, in the same order. */
static void
assert_users_equal(const struct users *a, const struct users *b)
{
	const struct users_user	*x, *y;
	size_t			 i, j;

	assert_int_equal(users_count(a), users_count(b));
	for (i = 0; i < users_count(a); i++) {
		x = users_get(a, i);
		y = users_get(b, i);
		assert_string_equal(x->name, y->name);
		assert_string_equal(x->hash, y->hash);
		assert_int_equal(x->role, y->role);
		assert_int_equal(x->n_groups, y->n_groups);
		for (j = 0; j < x->n_groups; j++) {
			assert_string_equal(x->groups[j].name,
			    y->groups[j].name);
			assert_int_equal(x->groups[j].halves,
			    y->groups[j].halves);
		}
	}
	assert_int_equal(users_group_count(a), users_group_count(b));
	for (i = 0; i < users_group_count(a); i++)
		assert_string_equal(users_group_name(a, i),
		    users_group_name(b, i));
}

static char *
format_ok(const struct users *us, size_t *len)
{
	char	*text;

	text = users_format(us, len);
	assert_non_null(text);
	assert_int_equal(strlen(text), *len);
	return (text);
}

/* A hand-written file: comments, CRLF, out of order, UTF-8 names. */
static const char sample[] =
    "# takd users 1\n"
    "# the HQ\n"
    "zulu:" HASH_Y ":admin:HQ,Blue,Red::\n"
    "\n"
    "alice:!:user:Blue:HQ:\r\n"
    "   \n"
    "bob::user::Red,Blue:HQ\n"
    "Jos\xc3\xa9 Garc\xc3\xad" "a:$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW:user:\xe7\xac\xac\xe4\xb8\x80 Team::\n"
    "observer:!:user:::Blue,Red\n"
    "gateway:!:user::Blue:";

static void
test_round_trip(void **state)
{
	struct users		*a, *b;
	const struct users_user	*u;
	char			*t1, *t2;
	size_t			 l1, l2;

	/* "   " is a line of blanks, not a blank line: refused. */
	parse_fail(sample, sizeof(sample) - 1, 6, "fields");
	a = users_parse(sample, 0, "users", NULL, 0);
	assert_non_null(a);
	assert_int_equal(users_count(a), 0);
	users_free(a);

	{
		char	 text[sizeof(sample)];
		char	*p;

		memcpy(text, sample, sizeof(sample));
		p = strstr(text, "   \n");
		memcpy(p, "#  ", 3);
		a = parse_ok(text);
	}
	assert_int_equal(users_count(a), 6);
	/* Sorted by name, bytes compared: upper case first. */
	assert_string_equal(users_get(a, 0)->name, "Jos\xc3\xa9 Garc\xc3\xad"
	    "a");
	assert_string_equal(users_get(a, 1)->name, "alice");
	assert_string_equal(users_get(a, 5)->name, "zulu");
	assert_null(users_get(a, 6));
	u = users_find(a, "bob");
	assert_non_null(u);
	assert_string_equal(u->hash, "");
	assert_false(users_has_password(u));
	assert_int_equal(u->n_groups, 3);
	assert_string_equal(u->groups[0].name, "Red");
	assert_int_equal(u->groups[0].halves, USERS_IN);
	assert_string_equal(u->groups[1].name, "Blue");
	assert_int_equal(u->groups[1].halves, USERS_IN);
	assert_string_equal(u->groups[2].name, "HQ");
	assert_int_equal(u->groups[2].halves, USERS_OUT);
	u = users_find(a, "zulu");
	assert_int_equal(u->role, USERS_ROLE_ADMIN);
	assert_true(users_has_password(u));
	assert_int_equal(u->n_groups, 3);
	assert_int_equal(u->groups[2].halves, USERS_IN | USERS_OUT);
	u = users_find(a, "alice");
	assert_string_equal(u->hash, "!");
	assert_string_equal(u->groups[0].name, "Blue");
	assert_int_equal(u->groups[1].halves, USERS_IN);

	t1 = format_ok(a, &l1);
	assert_string_equal(t1,
	    "# takd users 1\n"
	    "Jos\xc3\xa9 Garc\xc3\xad" "a:$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW:user:\xe7\xac\xac\xe4\xb8\x80 Team::\n"
	    "alice:!:user:Blue:HQ:\n"
	    "bob::user::Red,Blue:HQ\n"
	    "gateway:!:user::Blue:\n"
	    "observer:!:user:::Blue,Red\n"
	    "zulu:" HASH_Y ":admin:HQ,Blue,Red::\n");
	b = parse_ok(t1);
	assert_users_equal(a, b);
	t2 = format_ok(b, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(t1, t2, l1);
	free(t1);
	free(t2);
	users_free(a);
	users_free(b);

	/* An empty set: the header alone, and back. */
	a = users_new();
	t1 = format_ok(a, &l1);
	assert_string_equal(t1, "# takd users 1\n");
	b = parse_ok(t1);
	assert_int_equal(users_count(b), 0);
	assert_int_equal(users_group_count(b), 0);
	free(t1);
	users_free(a);
	users_free(b);
}

struct bad {
	const char	*text;
	unsigned	 line;
	const char	*want;
};

static const struct bad bad[] = {
	{ "a:!:user:::\nb:!:user::\n", 2, "5 fields, expected 6" },
	{ "a:!:user:::\n\nb:!:user::::\n", 3, "7 fields, expected 6" },
	{ "a\n", 1, "1 fields" },
	{ ":!:user:::\n", 1, "user name \"\": empty" },
	{ " a:!:user:::\n", 1, "a blank at its start or end" },
	{ "a :!:user:::\n", 1, "a blank at its start or end" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ":!:user:::\n", 1, "longer than 63 bytes" },
	{ "a\tb:!:user:::\n", 1, "user name \"a\\x09b\": a control" },
	{ "a\x7f:!:user:::\n", 1, "a control character" },
	{ "a\xc2\x85:!:user:::\n", 1, "a control character" },	/* NEL */
	{ "a\xff:!:user:::\n", 1, "not UTF-8" },
	{ "a\xc0\xaf:!:user:::\n", 1, "not UTF-8" },		/* overlong */
	{ "a\xed\xa0\x80:!:user:::\n", 1, "not UTF-8" },	/* surrogate */
	{ "a\xf4\x90\x80\x80:!:user:::\n", 1, "not UTF-8" },	/* > 10FFFF */
	{ "a\xe2\x82:!:user:::\n", 1, "not UTF-8" },		/* cut */
	{ "a:plain:user:::\n", 1, "user \"a\": the password hash is not" },
	{ "a:$:user:::\n", 1, "the password hash is not" },
	{ "a:$y:user:::\n", 1, "the password hash is not" },
	{ "a:$y$:user:::\n", 1, "the password hash is not" },
	{ "a:$$abc:user:::\n", 1, "the password hash is not" },
	{ "a:$Y$abc:user:::\n", 1, "the password hash is not" },
	{ "a:$y$ab c:user:::\n", 1, "the password hash is not" },
	{ "a:!!:user:::\n", 1, "the password hash is not" },
	{ "a:*:user:::\n", 1, "the password hash is not" },
	{ "a:!:root:::\n", 1, "user \"a\": role \"root\": expected user or "
	    "admin" },
	{ "a:!::::\n", 1, "role \"\"" },
	{ "a:!:Admin:::\n", 1, "role \"Admin\"" },
	{ "a:!:user:x,,y::\n", 1, "user \"a\": GROUPS: group \"\": empty" },
	{ "a:!:user:x,::\n", 1, "GROUPS: group \"\": empty" },
	{ "a:!:user::,x:\n", 1, "IN: group \"\": empty" },
	{ "a:!:user:::x ,y\n", 1, "OUT: group \"x \": a blank" },
	{ "a:!:user:#x::\n", 1, "starts with '#'" },
	{ "a:!:user:x\x01::\n", 1, "GROUPS: group \"x\\x01\": a control" },
	{ "a:!:user:x,x::\n", 1, "GROUPS: group \"x\" given twice" },
	{ "a:!:user:x:x:\n", 1, "IN: group \"x\" given twice" },
	{ "a:!:user::x:x\n", 1, "OUT: group \"x\" given twice" },
	{ "a:!:user:x::y,x\n", 1, "OUT: group \"x\" given twice" },
	{ "# takd users 2\na:!:user:::\n", 1, "format version \"2\" unknown" },
	{ "# takd users 10\n", 1, "format version \"10\" unknown" },
	{ "a:!:user:::\nb:!:user:::\na:!:user:x::\n", 3, "user \"a\" given "
	    "twice (first on line 1)" },
	{ "c:!:user:::\nb:!:user:::\nc:!:admin:::\n", 3, "user \"c\" given "
	    "twice (first on line 1)" },
	{ "b:!:user:::\nc:!:user:::\nc:!:user:::\n", 3, "user \"c\" given "
	    "twice (first on line 2)" },
};

static void
test_malformed(void **state)
{
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse_fail(bad[i].text, strlen(bad[i].text), bad[i].line,
		    bad[i].want);
	/* A NUL byte, on line 2. */
	parse_fail("a:!:user:::\nb\0:!:user:::\n", 25, 2, "a NUL byte");
	/* What a name may hold: blanks inside, any printable UTF-8. */
	users_free(parse_ok("Team Blue 1:!:user:Blue Team,\xe2\x98\x85:"
	    "__ANON__:\n"));
}

/* n groups named g0, g1, ... in one list. */
static void
groups_text(char *buf, size_t len, size_t n)
{
	size_t	 i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, len - o, "%sg%zu",
		    i > 0 ? "," : "", i);
}

static void
test_limits(void **state)
{
	char		 text[4096], name[80], g[1024], hash[200];
	struct users	*us;

	/* A name of 63 bytes (a 3-byte character across the end too). */
	memset(name, 'n', 63);
	name[63] = '\0';
	snprintf(text, sizeof(text), "%s:!:user:%s::\n", name, name);
	us = parse_ok(text);
	assert_non_null(users_find(us, name));
	users_free(us);
	memcpy(name + 60, "\xe2\x98\x85", 4);	/* 63 bytes, ends with a star */
	snprintf(text, sizeof(text), "%s:!:user:::\n", name);
	users_free(parse_ok(text));
	memcpy(name + 61, "\xe2\x98\x85", 4);	/* 64 bytes */
	snprintf(text, sizeof(text), "%s:!:user:::\n", name);
	parse_fail(text, strlen(text), 1, "longer than 63 bytes");
	snprintf(text, sizeof(text), "a:!:user:x:%s:\n", name);
	parse_fail(text, strlen(text), 1, "IN: group");

	/* 64 groups over the three lists; 65 are too many. */
	groups_text(g, sizeof(g), 64);
	snprintf(text, sizeof(text), "a:!:user:%s::\n", g);
	us = parse_ok(text);
	assert_int_equal(users_find(us, "a")->n_groups, USERS_GROUPS_MAX);
	assert_int_equal(users_group_count(us), 64);
	users_free(us);
	snprintf(text, sizeof(text), "a:!:user:%s::x\n", g);
	parse_fail(text, strlen(text), 1, "user \"a\": more than 64 groups");

	/* A hash of 127 bytes; 128 is too long. */
	hash[0] = '$';
	hash[1] = '6';
	hash[2] = '$';
	memset(hash + 3, 'a', 124);
	hash[127] = '\0';
	snprintf(text, sizeof(text), "a:%s:user:::\n", hash);
	users_free(parse_ok(text));
	hash[127] = 'a';
	hash[128] = '\0';
	snprintf(text, sizeof(text), "a:%s:user:::\n", hash);
	parse_fail(text, strlen(text), 1, "at most 127 bytes");
	/* A file too large for the format, whatever it holds. */
	us = users_parse("", (size_t)USERS_FILE_MAX + 1, "users", text,
	    sizeof(text));
	assert_null(us);
	assert_contains(text, "users: larger than");
}

static void
test_lookups(void **state)
{
	struct users	*us;
	size_t		 i;

	us = parse_ok("m:!:user:B,A::\nc:!:user::C:\nx:!:user:::A\n"
	    "a:!:user:::\nz:!:user:Z::\n");
	assert_non_null(users_find(us, "a"));
	assert_non_null(users_find(us, "c"));
	assert_non_null(users_find(us, "m"));
	assert_non_null(users_find(us, "x"));
	assert_non_null(users_find(us, "z"));
	assert_null(users_find(us, ""));
	assert_null(users_find(us, "b"));
	assert_null(users_find(us, "zz"));
	assert_null(users_find(us, "A"));
	for (i = 1; i < users_count(us); i++)
		assert_true(strcmp(users_get(us, i - 1)->name,
		    users_get(us, i)->name) < 0);
	/* Groups: A B C Z, each once, their index in name order. */
	assert_int_equal(users_group_count(us), 4);
	assert_string_equal(users_group_name(us, 0), "A");
	assert_string_equal(users_group_name(us, 3), "Z");
	assert_null(users_group_name(us, 4));
	assert_int_equal(users_group_index(us, "A"), 0);
	assert_int_equal(users_group_index(us, "B"), 1);
	assert_int_equal(users_group_index(us, "C"), 2);
	assert_int_equal(users_group_index(us, "Z"), 3);
	assert_int_equal(users_group_index(us, "a"), -1);
	assert_int_equal(users_group_index(us, "D"), -1);
	users_free(us);
}

static void
set_user(struct users_user *u, struct users_group *g, const char *name,
    const char *hash, enum users_role role, size_t n, ...)
{
	va_list	 ap;
	size_t	 i;

	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", name);
	snprintf(u->hash, sizeof(u->hash), "%s", hash);
	u->role = role;
	u->n_groups = n;
	u->groups = g;
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		snprintf(g[i].name, sizeof(g[i].name), "%s",
		    va_arg(ap, const char *));
		g[i].halves = va_arg(ap, unsigned);
	}
	va_end(ap);
}

/* put/del that fail change nothing: the text stays the same bytes. */
static void
expect_put_fails(struct users *us, const struct users_user *u,
    const char *want)
{
	char	 err[512], *before, *after;
	size_t	 lb, la;

	before = format_ok(us, &lb);
	assert_int_equal(users_put(us, u, err, sizeof(err)), -1);
	assert_contains(err, want);
	after = format_ok(us, &la);
	assert_int_equal(lb, la);
	assert_memory_equal(before, after, lb);
	free(before);
	free(after);
}

static void
test_put_del(void **state)
{
	struct users_group	 g[USERS_GROUPS_MAX + 1];
	struct users_user	 u;
	struct users		*us = users_new(), *back;
	char			 err[512], *text;
	size_t			 len, i;

	assert_non_null(us);
	set_user(&u, g, "bob", "!", USERS_ROLE_USER, 3, "R", USERS_OUT,
	    "B", USERS_IN | USERS_OUT, "H", USERS_IN);
	assert_int_equal(users_put(us, &u, err, sizeof(err)), 0);
	set_user(&u, g, "alice", HASH_Y, USERS_ROLE_ADMIN, 1, "B",
	    USERS_IN | USERS_OUT);
	assert_int_equal(users_put(us, &u, err, sizeof(err)), 0);
	set_user(&u, g, "carol", "", USERS_ROLE_USER, 0);
	assert_int_equal(users_put(us, &u, err, sizeof(err)), 0);
	/* The caller's order is not the file's: both, IN, OUT. */
	text = format_ok(us, &len);
	assert_string_equal(text, "# takd users 1\n"
	    "alice:" HASH_Y ":admin:B::\n"
	    "bob:!:user:B:H:R\n"
	    "carol::user:::\n");
	back = parse_ok(text);
	assert_users_equal(us, back);
	users_free(back);
	free(text);
	assert_int_equal(users_group_count(us), 3);

	/* Replace bob: new groups, and H and R are gone from the table. */
	set_user(&u, g, "bob", "!", USERS_ROLE_USER, 1, "X", USERS_IN);
	assert_int_equal(users_put(us, &u, err, sizeof(err)), 0);
	assert_int_equal(users_count(us), 3);
	assert_int_equal(users_find(us, "bob")->n_groups, 1);
	assert_int_equal(users_group_count(us), 2);
	assert_int_equal(users_group_index(us, "H"), -1);
	assert_int_equal(users_group_index(us, "X"), 1);
	/* The caller's groups were copied. */
	strcpy(g[0].name, "changed");
	assert_string_equal(users_find(us, "bob")->groups[0].name, "X");

	/* Refused, and nothing changed. */
	set_user(&u, g, "bad name ", "!", USERS_ROLE_USER, 0);
	expect_put_fails(us, &u, "a blank at its start or end");
	set_user(&u, g, "bob", "!", USERS_ROLE_USER, 0);
	u.name[0] = '\0';
	expect_put_fails(us, &u, "empty");
	set_user(&u, g, "bob", "secret", USERS_ROLE_USER, 0);
	expect_put_fails(us, &u, "not a crypt(3) hash");
	set_user(&u, g, "bob", "!", (enum users_role)7, 0);
	expect_put_fails(us, &u, "unknown role");
	set_user(&u, g, "bob", "!", USERS_ROLE_USER, 2, "A", USERS_IN,
	    "A", USERS_OUT);
	expect_put_fails(us, &u, "group \"A\" given twice");
	set_user(&u, g, "bob", "!", USERS_ROLE_USER, 1, "A,B", USERS_IN);
	expect_put_fails(us, &u, "a ':' or ','");
	set_user(&u, g, "bob", "!", USERS_ROLE_USER, 1, "A", 0u);
	expect_put_fails(us, &u, "no half");
	set_user(&u, g, "bob", "!", USERS_ROLE_USER, 1, "A", 4u);
	expect_put_fails(us, &u, "no half");
	set_user(&u, g, "new:user", "!", USERS_ROLE_USER, 0);
	expect_put_fails(us, &u, "a ':' or ','");
	set_user(&u, g, "bob", "!", USERS_ROLE_USER, 0);
	u.n_groups = USERS_GROUPS_MAX + 1;
	for (i = 0; i < u.n_groups; i++) {
		snprintf(g[i].name, sizeof(g[i].name), "g%zu", i);
		g[i].halves = USERS_IN;
	}
	expect_put_fails(us, &u, "65 groups, at most 64");
	u.n_groups = USERS_GROUPS_MAX;
	assert_int_equal(users_put(us, &u, err, sizeof(err)), 0);
	assert_int_equal(users_group_count(us), 65);	/* B and g0..g63 */

	/* del */
	text = format_ok(us, &len);
	assert_int_equal(users_del(us, "nobody", err, sizeof(err)), -1);
	assert_string_equal(err, "no user \"nobody\"");
	{
		char	*same;
		size_t	 l2;

		same = format_ok(us, &l2);
		assert_string_equal(text, same);
		free(same);
	}
	free(text);
	assert_int_equal(users_del(us, "bob", err, sizeof(err)), 0);
	assert_int_equal(users_count(us), 2);
	assert_null(users_find(us, "bob"));
	assert_int_equal(users_group_count(us), 1);
	assert_int_equal(users_del(us, "alice", err, sizeof(err)), 0);
	assert_int_equal(users_del(us, "carol", err, sizeof(err)), 0);
	assert_int_equal(users_count(us), 0);
	assert_int_equal(users_group_count(us), 0);
	assert_int_equal(users_del(us, "carol", err, sizeof(err)), -1);
	users_free(us);
}

static void
test_names(void **state)
{
	assert_true(users_name_ok("alice"));
	assert_true(users_name_ok("a b"));
	assert_true(users_name_ok("__ANON__"));
	assert_true(users_name_ok("a#"));
	assert_false(users_name_ok(""));
	assert_false(users_name_ok("#a"));
	assert_false(users_name_ok("a,b"));
	assert_false(users_name_ok("a:b"));
	assert_false(users_name_ok("a\n"));
	assert_false(users_name_ok(" a"));
	assert_true(users_hash_ok(""));
	assert_true(users_hash_ok("!"));
	assert_true(users_hash_ok(HASH_Y));
	assert_true(users_hash_ok("$6$rounds=5000$salt$abc"));
	assert_true(users_hash_ok("$pbkdf2-sha256$29000$abc"));
	assert_false(users_hash_ok("$y$"));
	assert_false(users_hash_ok("abcdefghijklm"));	/* DES: not taken */
	assert_string_equal(users_role_name(USERS_ROLE_ADMIN), "admin");
	assert_string_equal(users_role_name(USERS_ROLE_USER), "user");
}

static void
test_password(void **state)
{
	char		 h[USERS_HASH_MAX], h2[USERS_HASH_MAX], err[256];
	char		 big[PASSWORD_MAX + 2];
	struct timespec	 t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(password_hash("correct horse", h, sizeof(h), err,
	    sizeof(err)), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("password: one yescrypt hash in %.1f ms\n",
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	assert_true(strncmp(h, "$y$", 3) == 0);
	assert_true(users_hash_ok(h));
	assert_true(password_verify("correct horse", h));
	assert_false(password_verify("correct horse ", h));
	assert_false(password_verify("Correct horse", h));
	assert_false(password_verify("", h));
	/* A fresh salt each time. */
	assert_int_equal(password_hash("correct horse", h2, sizeof(h2), err,
	    sizeof(err)), 0);
	assert_string_not_equal(h, h2);
	assert_true(password_verify("correct horse", h2));
	/* No password: nothing verifies. */
	assert_false(password_verify("", ""));
	assert_false(password_verify("!", "!"));
	assert_false(password_verify("x", "!"));
	/* Bad input to hash. */
	assert_int_equal(password_hash("", h, sizeof(h), err, sizeof(err)),
	    -1);
	assert_contains(err, "1 to 1024 bytes");
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(password_hash(big, h, sizeof(h), err, sizeof(err)),
	    -1);
	assert_int_equal(password_hash("x", h, 20, err, sizeof(err)), -1);
	assert_contains(err, "does not fit");

	/*
	 * Other schemes libcrypt knows: sha512crypt made by OpenSSL
	 * (`openssl passwd -6 -salt saltsalt secret`), and bcrypt ("$2a$",
	 * what TAK Server's UserAuthenticationFile.xml holds; the test
	 * vector of OpenBSD and John the Ripper for "U*U").
	 */
	assert_true(password_verify("secret", "$6$saltsalt$TVLlQcbpFVof5W3Yz4"
	    "DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5"
	    "hVO1"));
	assert_false(password_verify("Secret", "$6$saltsalt$TVLlQcbpFVof5W3Yz4"
	    "DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5"
	    "hVO1"));
	assert_true(password_verify("U*U",
	    "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
	assert_false(password_verify("U*V",
	    "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
	/* A cut hash, a scheme nobody knows. */
	assert_false(password_verify("U*U",
	    "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe"));
	assert_false(password_verify("x", "$nosuch$abc$def"));
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int	 fd;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void
test_read(void **state)
{
	char		 dir[] = "/tmp/takd-test-users.XXXXXX";
	char		 path[128], link[128], err[1024];
	struct users	*us;
	int		 dfd;

	assert_non_null(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	snprintf(path, sizeof(path), "%s/users", dir);

	assert_int_equal(users_read(dfd, "users", path, &us, err,
	    sizeof(err)), 1);
	assert_non_null(us);
	assert_int_equal(users_count(us), 0);
	users_free(us);

	write_file(path, "a:!:user:X::\n", 0640);
	assert_int_equal(users_read(dfd, "users", path, &us, err,
	    sizeof(err)), 0);
	assert_non_null(users_find(us, "a"));
	users_free(us);

	/* Others may write it: whoever can decides who sees whom. */
	write_file(path, "a:!:user:X::\n", 0642);
	assert_int_equal(users_read(dfd, "users", path, &us, err,
	    sizeof(err)), -1);
	assert_null(us);
	assert_contains(err, "is writable by others");

	write_file(path, "a:!:user:X::\nb:!:boss:::\n", 0640);
	assert_int_equal(users_read(dfd, "users", path, &us, err,
	    sizeof(err)), -1);
	assert_contains(err, "/users:2: user \"b\": role \"boss\"");

	/* A link is not followed. */
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(users_read(dfd, "link", link, &us, err,
	    sizeof(err)), -1);
	assert_contains(err, "is a symbolic link");
	assert_int_equal(unlink(link), 0);
	assert_int_equal(unlink(path), 0);
	close(dfd);
	assert_int_equal(rmdir(dir), 0);
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec	 t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return ((double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e6);
}

/*
 * 100,000 users with yescrypt hashes and three groups each out of 200,
 * written in reverse order (the parser sorts): the time is printed for
 * the report; one more user is refused.
 */
/*
 * What the supervisor hands the workers at a reload: the set without its
 * hashes, in a sealed memfd, parsed back the same; an unsealed descriptor
 * or a file that is no users file is refused.
 */
static void
test_memfd(void **state)
{
	struct users		*us, *back;
	const struct users_user	*u;
	char			 err[512];
	int			 fd;

	(void)state;
	us = parse_ok("alice:" HASH_Y ":admin:Blue,HQ:Red:Cyan\n"
	    "bob:!:user:::Blue\n");
	users_strip(us);
	u = users_find(us, "alice");
	assert_non_null(u);
	assert_string_equal(u->hash, "!");
	assert_false(users_has_password(u));
	fd = users_memfd(us, err, sizeof(err));
	assert_true(fd >= 0);
	/* Sealed: nobody may change what the workers parse. */
	assert_int_equal(write(fd, "x", 1), -1);
	back = users_map(fd, "users", err, sizeof(err));
	if (back == NULL)
		fail_msg("users_map: %s", err);
	assert_int_equal(users_count(back), 2);
	u = users_find(back, "alice");
	assert_non_null(u);
	assert_int_equal(u->role, USERS_ROLE_ADMIN);
	assert_int_equal(u->n_groups, 4);
	assert_string_equal(u->groups[0].name, "Blue");
	assert_int_equal(u->groups[0].halves, USERS_IN | USERS_OUT);
	assert_string_equal(u->groups[2].name, "Red");
	assert_int_equal(u->groups[2].halves, USERS_IN);
	assert_string_equal(u->groups[3].name, "Cyan");
	assert_int_equal(u->groups[3].halves, USERS_OUT);
	assert_string_equal(u->hash, "!");
	users_free(back);
	close(fd);
	users_free(us);

	/* A descriptor that is not sealed. */
	fd = memfd_create("t", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "bob:!:user:::\n", 14), 14);
	assert_null(users_map(fd, "users", err, sizeof(err)));
	assert_contains(err, "not sealed");
	close(fd);

	/* Sealed, but not a users file. */
	fd = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "bob:!:boss:::\n", 14), 14);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK |
	    F_SEAL_GROW | F_SEAL_WRITE), 0);
	assert_null(users_map(fd, "users", err, sizeof(err)));
	assert_contains(err, "users:1:");
	close(fd);
}

static void
test_parse_100k(void **state)
{
	struct timespec	 t0;
	struct users	*us, *back;
	char		*text, *out, *p, err[256];
	size_t		 cap = (size_t)USERS_MAX * 160 + 200, len = 0, olen;
	double		 ms, ms_sorted, ms_fmt;
	long		 i;

	text = malloc(cap);
	assert_non_null(text);
	for (i = USERS_MAX - 1; i >= 0; i--)
		len += (size_t)snprintf(text + len, cap - len,
		    "user%06ld:" HASH_Y ":user:team%ld:hq%ld:obs%ld\n", i,
		    i % 200, i % 50, i % 7);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	us = users_parse(text, len, "users", err, sizeof(err));
	ms = ms_since(&t0);
	if (us == NULL)
		fail_msg("%s", err);
	assert_int_equal(users_count(us), USERS_MAX);
	assert_int_equal(users_group_count(us), 200 + 50 + 7);
	assert_non_null(users_find(us, "user000000"));
	assert_non_null(users_find(us, "user099999"));
	assert_int_equal(users_find(us, "user012345")->n_groups, 3);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	out = users_format(us, &olen);
	ms_fmt = ms_since(&t0);
	assert_non_null(out);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	back = users_parse(out, olen, "users", err, sizeof(err));
	ms_sorted = ms_since(&t0);
	assert_non_null(back);
	assert_users_equal(us, back);
	print_message("users: %d users, %zu bytes: parsed in %.0f ms "
	    "(reverse order), %.0f ms (sorted, as takctl writes it); "
	    "formatted in %.0f ms\n", USERS_MAX, olen, ms, ms_sorted,
	    ms_fmt);
	users_free(back);
	users_free(us);

	/* One more is refused, on its line. */
	p = realloc(out, olen + 64);
	assert_non_null(p);
	olen += (size_t)snprintf(p + olen, 64, "zz:!:user:::\n");
	back = users_parse(p, olen, "users", err, sizeof(err));
	assert_null(back);
	assert_contains(err, "users:100002: more than 100000 users");
	free(p);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_put_del),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_password),
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_memfd),
		cmocka_unit_test(test_parse_100k),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
