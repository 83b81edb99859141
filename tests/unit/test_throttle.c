/*
 * Unit tests for api/throttle.c: the delay schedule; failures counted per
 * user name (whatever the address) and per address (whatever the name);
 * IPv6 by /64 and IPv4-mapped as IPv4; forgetting after the quiet period
 * and not before; a success forgetting its name and address only; a table
 * of 64 slots under 10,000 distinct names and addresses staying at 64 and
 * evicting the least recently failed; a clock set back.  Time is passed
 * in: no test sleeps.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/throttle.h"

/* An address from its text (IPv4 or IPv6). */
static const struct sockaddr *
sa(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1)
		s6->sin6_family = AF_INET6;
	else
		fail_msg("bad address %s", text);
	return ((const struct sockaddr *)ss);
}

static unsigned
check(struct throttle *t, time_t now, const char *addr, const char *user)
{
	struct sockaddr_storage	 ss;

	return (throttle_check(t, now, sa(addr, &ss), user));
}

static void
fail_n(struct throttle *t, time_t now, const char *addr, const char *user,
    int n)
{
	struct sockaddr_storage	 ss;
	int			 i;

	for (i = 0; i < n; i++)
		throttle_fail(t, now, sa(addr, &ss), user);
}

static void
test_throttle_schedule(void **state)
{
	static const unsigned want[] = { 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60,
	    60, 60 };
	unsigned	 n;

	(void)state;
	for (n = 0; n < sizeof(want) / sizeof(want[0]); n++)
		assert_int_equal(throttle_delay(n, 3), want[n]);
	assert_int_equal(throttle_delay(10, 10), 0);
	assert_int_equal(throttle_delay(11, 10), 1);
	assert_int_equal(throttle_delay(16, 10), 32);
	assert_int_equal(throttle_delay(17, 10), 60);
	assert_int_equal(throttle_delay(100000, 3), 60);
	assert_int_equal(throttle_delay(~0u, 3), 60);
}

/* Guessing one user's password from ever new addresses. */
static void
test_throttle_per_user(void **state)
{
	struct throttle	*t = throttle_new(0);
	char		 addr[32];
	int		 i;

	(void)state;
	assert_non_null(t);
	for (i = 0; i < 3; i++) {
		assert_int_equal(check(t, 100, "198.51.100.1", "alice"), 0);
		snprintf(addr, sizeof(addr), "192.0.2.%d", i + 1);
		fail_n(t, 100, addr, "alice", 1);
	}
	assert_int_equal(check(t, 100, "198.51.100.1", "alice"), 0);
	fail_n(t, 101, "192.0.2.9", "alice", 1);
	assert_int_equal(check(t, 101, "198.51.100.1", "alice"), 1);
	fail_n(t, 102, "192.0.2.10", "alice", 1);
	assert_int_equal(check(t, 102, "198.51.100.1", "alice"), 2);
	fail_n(t, 103, "192.0.2.11", "alice", 4);
	assert_int_equal(check(t, 103, "198.51.100.1", "alice"), 32);
	fail_n(t, 104, "192.0.2.12", "alice", 1);
	assert_int_equal(check(t, 104, "198.51.100.1", "alice"), 60);
	fail_n(t, 105, "192.0.2.13", "alice", 50);
	assert_int_equal(check(t, 105, "198.51.100.1", "alice"), 60);
	/* Another name from the same fresh address is not slowed. */
	assert_int_equal(check(t, 105, "198.51.100.1", "bob"), 0);
	throttle_free(t);
}

/* Spraying many names from one address. */
static void
test_throttle_per_addr(void **state)
{
	struct throttle	*t = throttle_new(0);
	char		 user[16];
	int		 i;

	(void)state;
	for (i = 0; i < THROTTLE_ADDR_FREE; i++) {
		snprintf(user, sizeof(user), "user%d", i);
		fail_n(t, 10, "203.0.113.7", user, 1);
	}
	assert_int_equal(check(t, 10, "203.0.113.7", "fresh"), 0);
	fail_n(t, 10, "203.0.113.7", "another", 1);
	assert_int_equal(check(t, 10, "203.0.113.7", "fresh"), 1);
	/* No name parsed at all: the address alone. */
	assert_int_equal(check(t, 10, "203.0.113.7", NULL), 1);
	assert_int_equal(check(t, 10, "203.0.113.7", ""), 1);
	fail_n(t, 10, "203.0.113.7", NULL, 2);
	assert_int_equal(check(t, 10, "203.0.113.7", NULL), 4);
	assert_int_equal(check(t, 10, "203.0.113.8", "fresh"), 0);
	/* Without an address (a Unix socket, say): one shared bucket. */
	assert_int_equal(throttle_check(t, 10, NULL, "x"), 0);
	for (i = 0; i < 11; i++)
		throttle_fail(t, 10, NULL, NULL);
	assert_int_equal(throttle_check(t, 10, NULL, "x"), 1);
	throttle_free(t);
}

static void
test_throttle_ipv6_prefix(void **state)
{
	struct throttle	*t = throttle_new(0);

	(void)state;
	/* 11 failures spread over one /64: the /64 is slowed. */
	fail_n(t, 5, "2001:db8:1:2::1", NULL, 4);
	fail_n(t, 5, "2001:db8:1:2:ffff:ffff:ffff:fffe", NULL, 4);
	fail_n(t, 5, "2001:db8:1:2:1234::9", NULL, 3);
	assert_int_equal(check(t, 5, "2001:db8:1:2:aaaa::1", "u"), 1);
	assert_int_equal(check(t, 5, "2001:db8:1:3::1", "u"), 0);
	assert_int_equal(check(t, 5, "2001:db8:1:2::", "u"), 1);
	/* The IPv4-mapped form of an address is that address. */
	fail_n(t, 5, "192.0.2.44", NULL, 6);
	fail_n(t, 5, "::ffff:192.0.2.44", NULL, 5);
	assert_int_equal(check(t, 5, "192.0.2.44", "u"), 1);
	assert_int_equal(check(t, 5, "::ffff:192.0.2.44", "u"), 1);
	assert_int_equal(check(t, 5, "192.0.2.45", "u"), 0);
	throttle_free(t);
}

static void
test_throttle_quiet(void **state)
{
	struct throttle			*t = throttle_new(0);
	struct throttle_counters	 c;

	(void)state;
	fail_n(t, 1000, "192.0.2.1", "alice", 6);
	assert_int_equal(check(t, 1000, "192.0.2.2", "alice"), 4);
	/* Quiet counts from the latest failure, not the first. */
	fail_n(t, 1500, "192.0.2.1", "alice", 1);
	assert_int_equal(check(t, 1500 + THROTTLE_QUIET - 1, "192.0.2.2",
	    "alice"), 8);
	assert_int_equal(check(t, 1500 + THROTTLE_QUIET, "192.0.2.2",
	    "alice"), 0);
	throttle_counters(t, &c);
	assert_int_equal(c.users, 0);
	/* Counting starts again from one. */
	fail_n(t, 1500 + THROTTLE_QUIET, "192.0.2.1", "alice", 4);
	assert_int_equal(check(t, 1500 + THROTTLE_QUIET, "192.0.2.2",
	    "alice"), 1);
	/* A clock set back: no time passed, nothing forgotten. */
	assert_int_equal(check(t, 10, "192.0.2.2", "alice"), 1);
	throttle_free(t);
}

static void
test_throttle_ok_resets(void **state)
{
	struct throttle			*t = throttle_new(0);
	struct throttle_counters	 c;

	(void)state;
	fail_n(t, 1, "192.0.2.1", "alice", 5);
	fail_n(t, 1, "192.0.2.1", "bob", 6);
	fail_n(t, 1, "192.0.2.9", "carol", 5);
	assert_int_equal(check(t, 2, "192.0.2.1", "alice"), 2);
	{
		struct sockaddr_storage	 ss;

		throttle_ok(t, 2, sa("192.0.2.1", &ss), "alice");
	}
	assert_int_equal(check(t, 2, "192.0.2.1", "alice"), 0);
	/* bob's own failures stay; the address's are forgotten. */
	assert_int_equal(check(t, 2, "192.0.2.5", "bob"), 4);
	assert_int_equal(check(t, 2, "192.0.2.1", "nobody"), 0);
	assert_int_equal(check(t, 2, "192.0.2.9", "carol"), 2);
	throttle_counters(t, &c);
	assert_int_equal(c.failures, 16);
	assert_int_equal(c.successes, 1);
	assert_int_equal(c.users, 2);
	assert_int_equal(c.addrs, 1);
	assert_int_equal(c.checks, 5);
	assert_int_equal(c.delayed, 3);
	throttle_free(t);
}

/*
 * 10,000 failures with distinct names and addresses (IPv4 and distinct
 * /64s) into 64 slots: the tables stay at 64; a name that failed after
 * all but the newest 63 others keeps its count, the next one evicts it.
 */
static void
test_throttle_bounded(void **state)
{
	struct throttle			*t = throttle_new(64);
	struct throttle_counters	 c;
	char				 addr[64], user[32];
	time_t				 now = 1;
	int				 i;

	(void)state;
	for (i = 0; i < 10000; i++, now++) {
		snprintf(user, sizeof(user), "spray%d", i);
		if (i % 2)
			snprintf(addr, sizeof(addr), "10.%d.%d.%d", i >> 16,
			    (i >> 8) & 255, i & 255);
		else
			snprintf(addr, sizeof(addr), "2001:db8:%x:%x::1",
			    i >> 16, i & 0xffff);
		fail_n(t, now, addr, user, 1);
	}
	throttle_counters(t, &c);
	assert_int_equal(c.users, 64);
	assert_int_equal(c.addrs, 64);
	assert_int_equal(c.evictions, 2 * (10000 - 64));
	fail_n(t, now++, "192.0.2.1", "victim", 5);
	assert_int_equal(check(t, now, "192.0.2.2", "victim"), 2);
	for (i = 0; i < 63; i++, now++) {
		snprintf(user, sizeof(user), "late%d", i);
		fail_n(t, now, "198.51.100.1", user, 1);
	}
	assert_int_equal(check(t, now, "192.0.2.2", "victim"), 2);
	fail_n(t, now++, "198.51.100.1", "one-more", 1);
	assert_int_equal(check(t, now, "192.0.2.2", "victim"), 0);
	throttle_counters(t, &c);
	assert_int_equal(c.users, 64);
	assert_int_equal(c.addrs, 64);
	throttle_free(t);
	/* The size is rounded up to a power of two, and capped. */
	assert_null(throttle_new(THROTTLE_SLOTS_MAX + 1));
	throttle_free(NULL);
}

/* A name longer than any user counts by its first 63 bytes. */
static void
test_throttle_long_name(void **state)
{
	struct throttle	*t = throttle_new(0);
	char		 a[200], b[200];

	(void)state;
	memset(a, 'x', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	memcpy(b, a, sizeof(b));
	b[100] = 'y';
	fail_n(t, 1, "192.0.2.1", a, 4);
	assert_int_equal(check(t, 1, "192.0.2.2", b), 1);
	throttle_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_throttle_schedule),
		cmocka_unit_test(test_throttle_per_user),
		cmocka_unit_test(test_throttle_per_addr),
		cmocka_unit_test(test_throttle_ipv6_prefix),
		cmocka_unit_test(test_throttle_quiet),
		cmocka_unit_test(test_throttle_ok_resets),
		cmocka_unit_test(test_throttle_bounded),
		cmocka_unit_test(test_throttle_long_name),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
