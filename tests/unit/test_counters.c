/*
 * Unit tests for the one list of worker counters (shared/counters.h): the
 * rules every output written in one pass over it relies on (rows of a JSON
 * object, of a Prometheus family and of a takctl stats heading adjacent;
 * a HELP line on each family's first row), the STATUS_REP round trip, and
 * the status JSON made from it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ipc/ipc.h"
#include "shared/counters.h"
#include "shared/json.h"
#include "unit.h"

/* Whether rows [0, i) hold a run of value v that ended before i - 1. */
static int
seen_before(size_t i, const char *(*get)(const struct counter_def *),
    const char *v)
{
	size_t	 k;

	for (k = 0; k + 1 < i; k++)
		if (get(&counter_defs[k]) != NULL &&
		    strcmp(get(&counter_defs[k]), v) == 0)
			return (1);
	return (0);
}

static const char *
def_group(const struct counter_def *d)
{
	/* An A row is an object of its own, whatever its neighbours. */
	return (d->names != NULL || d->group[0] == '\0' ? NULL : d->group);
}

static const char *
def_family(const struct counter_def *d)
{
	return (d->family);
}

static const char *
def_heading(const struct counter_def *d)
{
	return (d->text != NULL ? d->heading : NULL);
}

/* A value shared by several rows appears in one run only. */
static void
check_adjacent(const char *what, const char *(*get)(const struct counter_def *))
{
	const char	*v, *prev = NULL;
	size_t		 i;

	for (i = 0; i < counter_ndefs; i++) {
		v = get(&counter_defs[i]);
		if (v != NULL && (prev == NULL || strcmp(v, prev) != 0) &&
		    seen_before(i + 1, get, v))
			fail_msg("%s \"%s\" of %s is not adjacent to its other "
			    "rows", what, v, counter_defs[i].field);
		if (v != NULL)
			prev = v;
	}
}

static void
test_counters_layout(void **state)
{
	const struct counter_def	*d;
	size_t				 i, k, total = 0;

	(void)state;
	check_adjacent("JSON object", def_group);
	check_adjacent("family", def_family);
	check_adjacent("stats heading", def_heading);
	for (i = 0; i < counter_ndefs; i++) {
		d = &counter_defs[i];
		total += d->n;
		assert_true(d->n >= 1);
		assert_non_null(d->heading);
		if (d->names == NULL)
			assert_non_null(d->key);
		for (k = 0; d->names != NULL && k < d->n; k++)
			assert_non_null(d->names[k]);
		if (d->family == NULL)
			continue;
		/* The first row of a family carries its HELP line. */
		if (i == 0 || counter_defs[i - 1].family == NULL ||
		    strcmp(counter_defs[i - 1].family, d->family) != 0)
			assert_non_null(d->help);
		else
			assert_int_equal(counter_defs[i - 1].type, d->type);
		/* Prometheus: counters, and only they, end in _total. */
		k = strlen(d->family);
		assert_int_equal(d->type == COUNTER_COUNTER,
		    k > 6 && strcmp(d->family + k - 6, "_total") == 0);
		if (d->label != NULL && d->names == NULL)
			assert_non_null(d->value);
	}
	/* Every member of struct counters is a row. */
	assert_int_equal(total, COUNTERS_N);
}

static void
test_counters_roundtrip(void **state)
{
	struct counters	 a, b;
	struct ipc_buf	 buf;
	struct ipc_msg	 m;
	struct ipc_rd	 rd;
	uint64_t	 v[COUNTERS_N];
	size_t		 i;

	(void)state;
	for (i = 0; i < COUNTERS_N; i++)
		v[i] = (uint64_t)i * 0x0101010101010101ull + 7;
	memcpy(&a, v, sizeof(a));
	ipc_buf_init(&buf);
	counters_encode(&buf, &a);
	memset(&m, 0, sizeof(m));
	m.payload = buf.data;
	m.len = buf.len;
	ipc_rd_init(&rd, &m);
	memset(&b, 0, sizeof(b));
	assert_int_equal(counters_decode(&rd, &b), 0);
	assert_int_equal(ipc_rd_done(&rd), 0);
	assert_memory_equal(&a, &b, sizeof(a));

	/* A reply of another build (another count) is refused. */
	ipc_buf_init(&buf);
	ipc_put_u32(&buf, (uint32_t)COUNTERS_N - 1);
	for (i = 0; i + 1 < COUNTERS_N; i++)
		ipc_put_u64(&buf, 1);
	m.payload = buf.data;
	m.len = buf.len;
	ipc_rd_init(&rd, &m);
	assert_int_equal(counters_decode(&rd, &b), -1);
	/* A cut one fails ipc_rd_done(). */
	ipc_buf_init(&buf);
	counters_encode(&buf, &a);
	m.payload = buf.data;
	m.len = buf.len - 8;
	ipc_rd_init(&rd, &m);
	(void)counters_decode(&rd, &b);
	assert_int_equal(ipc_rd_done(&rd), -1);
}

static void
test_counters_json(void **state)
{
	struct counters	 c;
	struct json	 j;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.sessions = 5;
	c.drop_rate = 9;
	c.hs_fail[IPC_HS_TIMEOUT] = 4;
	c.ev_in[IPC_EV_UNPARSED] = 3;
	c.ev_out[IPC_EV_CHAT] = 2;
	c.outq_high_water = 65536;
	c.fanout_dropped_full = 11;
	json_init(&j);
	json_obj_begin(&j);
	counters_json(&j, &c);
	json_obj_end(&j);
	assert_int_equal(j.err, 0);
	assert_int_equal(j.depth, 0);
	/* The keys takctl status has always had, where it had them. */
	assert_contains(j.buf, "\"sessions\":5,");
	assert_contains(j.buf, "\"dropped\":{\"malformed\":0,"
	    "\"rate_limited\":9,");
	assert_contains(j.buf, "\"timeout\":4,\"closed_by_peer\":0}");
	assert_contains(j.buf, "\"events_in\":{\"sa\":0,\"chat\":0,"
	    "\"ping\":0,\"other\":0,\"unparsed\":3}");
	assert_contains(j.buf, "\"events_out\":{\"sa\":0,\"chat\":2,"
	    "\"ping\":0,\"other\":0}");
	assert_contains(j.buf, "\"outq\":{\"high_water_bytes\":65536,");
	assert_contains(j.buf, "\"events\":{\"in\":0,\"out\":0,");
	assert_contains(j.buf, "\"closed\":{\"framing\":0,");
	assert_contains(j.buf, "\"store\":{\"commits\":0,");
	assert_contains(j.buf, "\"fanout\":{\"peers\":0,");
	assert_contains(j.buf, "\"dropped_full\":11,");
	json_free(&j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_layout),
		cmocka_unit_test(test_counters_roundtrip),
		cmocka_unit_test(test_counters_json),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
