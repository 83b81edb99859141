/*
 * Unit tests for the latency classes of the output path ([cot]
 * sa_flush_delay, worker/conn.c and deliver.c), through the whole data path
 * of one worker on socketpairs (tests/unit/worker_fx.h): a queue of SA
 * positions alone waits for its deadline, a newer position of a uid
 * supersedes the queued one, any other event takes the positions along at
 * once, and 0 writes positions at once as before.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/worker_fx.h"

#include "cot/cot_parse.h"
#include "shared/clock.h"
#include "shared/config.h"
#include "shared/log.h"
#include "worker/conn.h"
#include "worker/registry.h"
#include "worker/worker_int.h"

#define STALE		WORKER_FX_STALE

/* As if ms had passed for the SA deadlines: the sawait list keeps its order. */
static void
sa_time_passes(struct worker_fx *f, int64_t ms)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &f->w.sawait, sa_entry)
		c->sa_due_ms -= ms;
}

/* Client 0 sends an SA of uid with pad bytes of remarks; returns its body. */
static char *
send_sa(struct worker_fx *f, const char *uid, size_t pad)
{
	char	*sa = worker_fx_sa(uid, "ALPHA", STALE, pad);
	char	*body;

	assert_non_null(body = strdup(worker_fx_body(sa)));
	worker_fx_send_str(f, 0, sa);
	return (body);
}

/*
 * Positions wait for their deadline, the latest of the uid survives and
 * the one it replaced is counted as superseded.
 */
static void
test_sa_deadline(void **state)
{
	struct worker_fx	*f = *state;
	char			 got[8192], *b1, *b2;

	f->cfg.sa_flush_delay_ms = 5000;
	worker_fx_budgets_off(f);
	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	b1 = send_sa(f, "UID-A", 1);
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);
	assert_true(f->c[1]->on_sawait && !f->c[1]->on_outlist);
	b2 = send_sa(f, "UID-A", 2);
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);
	assert_int_equal(f->w.cnt.drop_superseded, 1);
	/* Not yet, then the deadline comes: the newer position alone. */
	sa_time_passes(f, 4000);
	worker_fx_turn(f);
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);
	sa_time_passes(f, 1000);
	worker_fx_turn(f);
	assert_int_equal(worker_fx_events(f, 1, got, sizeof(got)), 1);
	assert_string_equal(got, b2);
	assert_false(f->c[1]->on_sawait);
	assert_int_equal(f->c[1]->sa_due_ms, 0);
	/* The next position starts a new deadline. */
	free(send_sa(f, "UID-A", 3));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);
	assert_true(f->c[1]->on_sawait);
	free(b1);
	free(b2);
}

/*
 * A chat line goes out at once and takes the queued positions along, in
 * their order; a ping's pong does too.
 */
static void
test_sa_urgent(void **state)
{
	struct worker_fx	*f = *state;
	char			 got[8192], *sa, *chat;

	f->cfg.sa_flush_delay_ms = 5000;
	worker_fx_budgets_off(f);
	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	sa = send_sa(f, "UID-A", 1);
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);
	chat = worker_fx_chat("C", "now", NULL);
	worker_fx_send_str(f, 0, chat);
	assert_int_equal(worker_fx_events(f, 1, got, sizeof(got)), 2);
	assert_true(strncmp(got, sa, strlen(sa)) == 0);
	assert_non_null(strstr(got + strlen(sa), "<remarks>now</remarks>"));
	assert_false(f->c[1]->on_sawait);
	free(sa);

	/* Client 1's own pong: positions queued for it come with it. */
	free(send_sa(f, "UID-A", 2));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);
	worker_fx_send_str(f, 1, worker_fx_ping("UID-B"));
	assert_int_equal(worker_fx_events(f, 1, got, sizeof(got)), 2);
	assert_non_null(strstr(got, "t-x-c-t-r"));
	assert_int_equal(f->w.cnt.drop_superseded, 0);
}

/* 16 KiB of positions do not wait; sa_flush_delay = 0 never waits. */
static void
test_sa_record_and_off(void **state)
{
	struct worker_fx	*f = *state;

	f->cfg.sa_flush_delay_ms = 5000;
	worker_fx_budgets_off(f);
	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	free(send_sa(f, "UID-A", 6000));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);
	free(send_sa(f, "UID-A", 17000));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 1);
	assert_int_equal(f->w.cnt.drop_superseded, 1);
	assert_false(f->c[1]->on_sawait);

	f->cfg.sa_flush_delay_ms = 0;
	free(send_sa(f, "UID-A", 1));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 1);
	free(send_sa(f, "UID-A", 2));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 1);
	assert_false(f->c[1]->on_sawait);
	assert_int_equal(f->w.cnt.drop_superseded, 1);
}

/*
 * Over a record's worth of positions: whole events go at once, as one
 * record, and the rest waits for its own deadline instead of a small
 * write of its own.
 */
static void
test_sa_whole_records(void **state)
{
	struct worker_fx	*f = *state;
	char			 got[8192];

	f->cfg.sa_flush_delay_ms = 5000;
	worker_fx_budgets_off(f);
	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	worker_fx_connect(f, 2);
	worker_fx_connect(f, 3);
	worker_fx_send_str(f, 0, worker_fx_sa("UID-A", "ALPHA", STALE, 5000));
	worker_fx_send_str(f, 2, worker_fx_sa("UID-C", "CHARLIE", STALE, 5000));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 0);
	/* About 20 KiB queued: A and C (12 KiB) now, D later. */
	worker_fx_send_str(f, 3, worker_fx_sa("UID-D", "DELTA", STALE, 7000));
	assert_int_equal(worker_fx_events(f, 1, NULL, 0), 2);
	assert_true(f->c[1]->on_sawait && !f->c[1]->on_outlist);
	sa_time_passes(f, 5000);
	worker_fx_turn(f);
	assert_int_equal(worker_fx_events(f, 1, got, sizeof(got)), 1);
	assert_non_null(strstr(got, "UID-D"));
	assert_false(f->c[1]->on_sawait);
	assert_int_equal(f->w.cnt.drop_superseded, 0);
}

/*
 * A stored position waits in the store's batch as long as it may wait for
 * its live recipients, not REGISTRY_SA_COMMIT_MS.
 */
static void
test_sa_store_batch(void **state)
{
	struct worker_fx	*f = *state;
	char			*sa;
	int64_t			 now;

	f->cfg.sa_flush_delay_ms = 5000;
	worker_fx_budgets_off(f);
	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	/* The first position of a uid is committed at the end of its turn. */
	free(send_sa(f, "UID-A", 1));
	assert_int_equal(registry_commit_wait(&f->w, clock_mono_ms()), -1);
	/* The next one, read as worker_fx_send() does but without its commit. */
	sa = worker_fx_sa("UID-A", "ALPHA", STALE, 2);
	assert_int_equal(write(f->peer[0], sa, strlen(sa)), (ssize_t)strlen(sa));
	free(sa);
	f->w.turn_ms = clock_mono_ms();
	conn_handle(&f->w, f->c[0], EPOLLIN);
	now = clock_mono_ms();
	registry_commit_due(&f->w, now + REGISTRY_SA_COMMIT_MS);
	assert_true(registry_commit_wait(&f->w, now) > 4000);
	registry_commit_due(&f->w, now + 5000);
	assert_int_equal(registry_commit_wait(&f->w, now), -1);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sa_deadline,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_sa_urgent,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_sa_record_and_off,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_sa_whole_records,
		    worker_fx_setup, worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_sa_store_batch,
		    worker_fx_setup, worker_fx_teardown),
	};

	log_init(LOG_DEST_STDERR, NULL, LOG_WARNING);
	cot_parse_init();
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
