/*
 * Unit tests for the respawn bookkeeping of supervisor/signer_proc.c:
 * exponential backoff from 100 ms to 30 s, reset after a stable run; exit
 * status 2 never respawned; a signer replaced by a spawn reaped quietly;
 * pids that are not the signer's left to the caller.  (Spawning itself
 * runs in tests/integ/test_signer.sh.)
 */
#include <sys/wait.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "supervisor/signer_proc.h"

#define EXITED(n)	((n) << 8)	/* a waitpid status of exit(n) */

static void
test_backoff(void **state)
{
	struct signer_proc	 sp;
	int64_t			 now = 1000000;

	signer_init(&sp);
	sp.exe_fd = 99;			/* as if prepared */
	assert_false(signer_respawn_due(&sp, now));	/* never died */
	sp.pid = 100;
	assert_false(signer_respawn_due(&sp, now));	/* running */
	sp.started_ms = now;
	assert_int_equal(signer_exited(&sp, 555, EXITED(1), now), 0);
	assert_int_equal(signer_exited(&sp, 100, EXITED(1), now + 10), 1);
	assert_int_equal(sp.pid, -1);
	assert_int_equal(sp.backoff_ms, SIGNER_BACKOFF_MIN_MS);
	assert_false(signer_respawn_due(&sp, now + 10 + 99));
	assert_true(signer_respawn_due(&sp, now + 10 + 100));
	/* Dying again at once doubles the wait, up to the cap. */
	sp.pid = 101;
	sp.started_ms = now + 200;
	assert_int_equal(signer_exited(&sp, 101, SIGKILL, now + 250), 1);
	assert_int_equal(sp.backoff_ms, 2 * SIGNER_BACKOFF_MIN_MS);
	sp.backoff_ms = SIGNER_BACKOFF_MAX_MS;
	sp.pid = 102;
	assert_int_equal(signer_exited(&sp, 102, EXITED(1), now + 300), 1);
	assert_int_equal(sp.backoff_ms, SIGNER_BACKOFF_MAX_MS);
	/* A stable run starts over. */
	sp.pid = 103;
	sp.started_ms = now;
	assert_int_equal(signer_exited(&sp, 103, EXITED(0),
	    now + SIGNER_STABLE_MS), 1);
	assert_int_equal(sp.backoff_ms, SIGNER_BACKOFF_MIN_MS);
	assert_int_equal(sp.restarts, 4);
	sp.exe_fd = -1;
	signer_close(&sp);
}

static void
test_gave_up_and_replaced(void **state)
{
	struct signer_proc	 sp;

	signer_init(&sp);
	sp.exe_fd = 99;
	sp.pid = 200;
	sp.old_pid = 150;
	/* The one a spawn replaced: reaped, nothing scheduled. */
	assert_int_equal(signer_exited(&sp, 150, EXITED(0), 5000), 1);
	assert_int_equal(sp.pid, 200);
	assert_int_equal(sp.old_pid, -1);
	/* Exit 2: cannot start, never respawned. */
	assert_int_equal(signer_exited(&sp, 200, EXITED(2), 6000), 1);
	assert_true(sp.gave_up);
	assert_false(signer_respawn_due(&sp, 1000000000));
	/* Not prepared: nothing to spawn. */
	signer_init(&sp);
	assert_false(signer_respawn_due(&sp, 1000000000));
	sp.exe_fd = -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_gave_up_and_replaced),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
