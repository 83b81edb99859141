/*
 * Unit tests for worker/admit.c: which unauthenticated connection gives up
 * its place when a new one finds a handshake limit reached, and when the
 * new one is refused instead.  Nodes stand for connections; the test plays
 * the worker's part (closing the victim named, reporting progress).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <cmocka.h>

#include "worker/admit.h"

#define NODES		256

static struct admit_node node[NODES];

static struct admit_key
key4(const char *addr)
{
	struct sockaddr_in	 sin;
	struct admit_key	 k;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(40000);
	assert_int_equal(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	admit_key_set(&k, (struct sockaddr *)&sin, sizeof(sin));
	return (k);
}

static struct admit_key
key6(const char *addr)
{
	struct sockaddr_in6	 sin6;
	struct admit_key	 k;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, addr, &sin6.sin6_addr), 1);
	admit_key_set(&k, (struct sockaddr *)&sin6, sizeof(sin6));
	return (k);
}

/* What the worker does for a new connection i from k: the verdict. */
static enum admit_verdict
arrive(struct admit *a, size_t i, const struct admit_key *k,
    struct admit_node **evicted)
{
	struct admit_node	*victim;
	enum admit_verdict	 v, first = ADMIT_OK;
	int			 n;

	*evicted = NULL;
	for (n = 0; n < 3; n++) {
		v = admit_check(a, k, &victim);
		if (n == 0)
			first = v;
		if (v == ADMIT_EVICT_ADDR || v == ADMIT_EVICT_FULL) {
			assert_non_null(victim);
			assert_true(victim->level != ADMIT_AUTH);
			*evicted = victim;
			admit_del(a, victim);
			continue;
		}
		if (v == ADMIT_OK)
			assert_int_equal(admit_add(a, &node[i], k), 0);
		return (first);
	}
	fail_msg("no decision after 3 evictions");
	return (first);
}

static void
test_keys(void **state)
{
	struct admit_key	 a, b;
	struct sockaddr_in6	 m;
	struct sockaddr_un	 un;
	char			 s[ADMIT_KEY_STR];

	a = key4("203.0.113.7");
	admit_key_format(&a, s, sizeof(s));
	assert_string_equal(s, "203.0.113.7");
	assert_memory_not_equal(a.b, key4("203.0.113.8").b, ADMIT_KEY_LEN);

	/* One /64: one source, whatever the host part. */
	a = key6("2001:db8:1:2::1");
	b = key6("2001:db8:1:2:aaaa:bbbb:cccc:dddd");
	assert_memory_equal(a.b, b.b, ADMIT_KEY_LEN);
	assert_memory_not_equal(a.b, key6("2001:db8:1:3::1").b,
	    ADMIT_KEY_LEN);
	admit_key_format(&b, s, sizeof(s));
	assert_string_equal(s, "2001:db8:1:2::/64");

	/* A dual-stack listener's IPv4 peer is the IPv4 source. */
	memset(&m, 0, sizeof(m));
	m.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "::ffff:203.0.113.7",
	    &m.sin6_addr), 1);
	admit_key_set(&b, (struct sockaddr *)&m, sizeof(m));
	a = key4("203.0.113.7");
	assert_memory_equal(a.b, b.b, ADMIT_KEY_LEN);

	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	admit_key_set(&a, (struct sockaddr *)&un, sizeof(un));
	admit_key_format(&a, s, sizeof(s));
	assert_string_equal(s, "unix");
}

/*
 * One address over its limit: its oldest connection that sent nothing is
 * closed for the new one; other addresses are not touched.
 */
static void
test_per_address_evicts_oldest_fresh(void **state)
{
	struct admit		 a;
	struct admit_key	 bad = key4("192.0.2.66"), good = key4("192.0.2.1");
	struct admit_node	*ev;
	size_t			 i;

	assert_int_equal(admit_init(&a, 100, 4, 42), 0);
	assert_int_equal(arrive(&a, 0, &good, &ev), ADMIT_OK);
	for (i = 1; i <= 4; i++)
		assert_int_equal(arrive(&a, i, &bad, &ev), ADMIT_OK);
	assert_int_equal(admit_src_count(&a, &bad), 4);
	/* The 5th, 6th: the oldest of that address go, in order. */
	assert_int_equal(arrive(&a, 5, &bad, &ev), ADMIT_EVICT_ADDR);
	assert_ptr_equal(ev, &node[1]);
	assert_int_equal(arrive(&a, 6, &bad, &ev), ADMIT_EVICT_ADDR);
	assert_ptr_equal(ev, &node[2]);
	assert_int_equal(admit_src_count(&a, &bad), 4);
	assert_int_equal(admit_src_count(&a, &good), 1);
	assert_true(node[0].linked);
	/* One that answered ClientHello is passed over. */
	admit_raise(&a, &node[3], ADMIT_HELLO);
	assert_int_equal(arrive(&a, 7, &bad, &ev), ADMIT_EVICT_ADDR);
	assert_ptr_equal(ev, &node[4]);
	assert_true(node[3].linked);
	admit_del(&a, &node[0]);
	assert_int_equal(admit_src_count(&a, &good), 0);
	for (i = 3; i <= 7; i++)
		admit_del(&a, &node[i]);
	assert_int_equal(a.n, 0);
	assert_int_equal(a.nsrc, 0);
	admit_free(&a);
}

/*
 * A burst behind one NAT: once every place of the address is waiting for
 * certificates, a newcomer is refused rather than evicting a handshake
 * about to finish.
 */
static void
test_per_address_refuses_when_all_progressed(void **state)
{
	struct admit		 a;
	struct admit_key	 nat = key6("2001:db8:5:6::10");
	struct admit_key	 nat2 = key6("2001:db8:5:6::11");
	struct admit_node	*ev;
	size_t			 i;

	assert_int_equal(admit_init(&a, 0, 3, 7), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(arrive(&a, i, i % 2 ? &nat : &nat2, &ev),
		    ADMIT_OK);
		admit_raise(&a, &node[i], i == 2 ? ADMIT_AUTH : ADMIT_HELLO);
	}
	assert_int_equal(arrive(&a, 3, &nat, &ev), ADMIT_REFUSE_ADDR);
	assert_null(ev);
	assert_false(node[3].linked);
	/* One finishes: the next gets its place. */
	admit_del(&a, &node[2]);
	assert_int_equal(arrive(&a, 3, &nat, &ev), ADMIT_OK);
	for (i = 0; i < 4; i++)
		admit_del(&a, &node[i]);
	admit_free(&a);
}

/*
 * The worker's limit: the oldest FRESH connection of any address, then
 * the oldest HELLO one; never an AUTH one; refused when only those are
 * left.
 */
static void
test_worker_limit(void **state)
{
	struct admit		 a;
	struct admit_key	 k[4];
	struct admit_node	*ev;
	char			 addr[32];
	size_t			 i;

	for (i = 0; i < 4; i++) {
		snprintf(addr, sizeof(addr), "198.51.100.%zu", i + 1);
		k[i] = key4(addr);
	}
	assert_int_equal(admit_init(&a, 4, 0, 1), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(arrive(&a, i, &k[i], &ev), ADMIT_OK);
	admit_raise(&a, &node[0], ADMIT_HELLO);
	admit_raise(&a, &node[1], ADMIT_AUTH);
	/* FRESH ones first, oldest first: 2, then 3. */
	assert_int_equal(arrive(&a, 4, &k[0], &ev), ADMIT_EVICT_FULL);
	assert_ptr_equal(ev, &node[2]);
	admit_raise(&a, &node[4], ADMIT_HELLO);
	assert_int_equal(arrive(&a, 5, &k[0], &ev), ADMIT_EVICT_FULL);
	assert_ptr_equal(ev, &node[3]);
	admit_raise(&a, &node[5], ADMIT_AUTH);
	/* No FRESH left: the oldest HELLO (0, before 4). */
	assert_int_equal(arrive(&a, 6, &k[1], &ev), ADMIT_EVICT_FULL);
	assert_ptr_equal(ev, &node[0]);
	admit_raise(&a, &node[6], ADMIT_HELLO);
	/* In the order they answered: 4 before 6. */
	assert_int_equal(arrive(&a, 7, &k[1], &ev), ADMIT_EVICT_FULL);
	assert_ptr_equal(ev, &node[4]);
	/* 1 and 5 are AUTH, 6 and 7 made progress: refuse when all are. */
	admit_raise(&a, &node[6], ADMIT_AUTH);
	admit_raise(&a, &node[7], ADMIT_AUTH);
	assert_int_equal(arrive(&a, 8, &k[2], &ev), ADMIT_REFUSE_FULL);
	assert_false(node[8].linked);
	/* Levels never go back. */
	admit_raise(&a, &node[7], ADMIT_FRESH);
	assert_int_equal(node[7].level, ADMIT_AUTH);
	assert_int_equal(a.n, 4);
	for (i = 0; i < 8; i++)
		admit_del(&a, &node[i]);
	assert_int_equal(a.n, 0);
	admit_free(&a);
}

/*
 * A flood from many addresses against a few legitimate clients that send
 * their ClientHello right away: the legitimate ones are never evicted while
 * the flood's idle connections are there to take.
 */
static void
test_flood_spares_progressing(void **state)
{
	struct admit		 a;
	struct admit_key	 k;
	struct admit_node	*ev;
	char			 addr[32];
	size_t			 i, legit = 0, refused = 0;

	assert_int_equal(admit_init(&a, 24, 4, 99), 0);
	for (i = 0; i < NODES; i++) {
		snprintf(addr, sizeof(addr), "10.0.%zu.%zu", i % 8, i % 8);
		if (i % 16 == 0)
			snprintf(addr, sizeof(addr), "192.0.2.%zu", i / 16);
		k = key4(addr);
		switch (arrive(&a, i, &k, &ev)) {
		case ADMIT_REFUSE_ADDR:
		case ADMIT_REFUSE_FULL:
			refused++;
			continue;
		default:
			break;
		}
		if (ev != NULL)
			assert_true(ev->level == ADMIT_FRESH);
		if (i % 16 == 0) {
			admit_raise(&a, &node[i], ADMIT_HELLO);
			legit++;
		}
	}
	assert_int_equal(refused, 0);
	for (i = 0; i < NODES; i += 16)
		assert_true(node[i].linked);
	assert_true(legit <= 16);
	for (i = 0; i < NODES; i++)
		admit_del(&a, &node[i]);
	assert_int_equal(a.n, 0);
	assert_int_equal(a.nsrc, 0);
	admit_free(&a);
}

/* Many sources: the table grows and every count stays right. */
static void
test_many_sources(void **state)
{
	struct admit		 a;
	struct admit_key	 k;
	struct admit_node	*ev;
	char			 addr[64];
	size_t			 i;

	assert_int_equal(admit_init(&a, 0, 2, 5), 0);
	for (i = 0; i < NODES; i++) {
		snprintf(addr, sizeof(addr), "2001:db8:%zx::1", i / 2);
		k = key6(addr);
		assert_int_equal(arrive(&a, i, &k, &ev), ADMIT_OK);
	}
	assert_int_equal(a.nsrc, NODES / 2);
	assert_true(a.nb >= NODES / 2);
	for (i = 0; i < NODES; i += 2) {
		snprintf(addr, sizeof(addr), "2001:db8:%zx::99", i / 2);
		k = key6(addr);
		assert_int_equal(admit_src_count(&a, &k), 2);
	}
	for (i = 0; i < NODES; i++)
		admit_del(&a, &node[i]);
	assert_int_equal(a.nsrc, 0);
	admit_free(&a);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_per_address_evicts_oldest_fresh),
		cmocka_unit_test(test_per_address_refuses_when_all_progressed),
		cmocka_unit_test(test_worker_limit),
		cmocka_unit_test(test_flood_spares_progressing),
		cmocka_unit_test(test_many_sources),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
