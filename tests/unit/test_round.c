/*
 * Unit tests for the rounds of requests to the workers (supervisor/round.c)
 * as the status round uses them through proc.c: the request reaches every
 * running worker with the round's id; done runs once, when the last worker
 * asked has answered or died, or at the deadline, never from inside the
 * start; an answer is taken for its own round only (type and id), and one
 * after the end counts no more; a worker that cannot be sent the request is
 * left out or waited for, as the caller says; a cancelled round never ends.
 *
 * The workers are played by the test: a socketpair per slot, frames read
 * on the worker's end and STATUS_REP written there for proc_ctl_event().
 * The clock is the test's (clock_fake_mono(), below).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc/ipc.h"
#include "shared/clock.h"
#include "shared/counters.h"
#include "shared/grouplist.h"
#include "supervisor/proc.h"
#include "supervisor/round.h"

#define NSLOTS		3
#define WAIT_MS		3000
/* Above any pid Linux hands out: proc.c never signals a real process. */
#define FAKE_PID	0x7ffffff0

/* The monotonic clock, the test's (clock_fake_mono()). */
static int64_t	 now_ms;

static int64_t
fake_now(void)
{
	return (now_ms);
}

static struct sup	 sup;
static struct ipc_chan	*wend[NSLOTS];	/* the workers' ends */

/* What the done callbacks saw. */
struct seen {
	unsigned	 calls;
	unsigned	 waiting;
	bool		 answered[NSLOTS];
	uint32_t	 id;
};

static void
done_cb(struct sup *s, const struct round *r, void *arg)
{
	struct seen	*seen = arg;
	int		 i;

	assert_ptr_equal(s, &sup);
	seen->calls++;
	seen->waiting = round_waiting(r);
	seen->id = round_id(r);
	for (i = 0; i < NSLOTS; i++)
		seen->answered[i] = round_answered(r, &sup.slots[i]);
}

static void
sup_start(void)
{
	int	 sv[2];
	int	 i;

	memset(&sup, 0, sizeof(sup));
	sup.magic = SUP_MAGIC;
	sup.epfd = -1;
	sup.n_slots = NSLOTS;
	for (i = 0; i < NSLOTS; i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET |
		    SOCK_CLOEXEC, 0, sv), 0);
		sup.slots[i].id = (unsigned)i;
		sup.slots[i].state = SLOT_RUNNING;
		sup.slots[i].pid = FAKE_PID + i;
		assert_non_null(sup.slots[i].chan = ipc_chan_new(sv[0],
		    1 << 16));
		assert_non_null(wend[i] = ipc_chan_new(sv[1], 1 << 16));
	}
	now_ms = 1000;
}

static void
sup_end(void)
{
	int	 i;

	assert_null(sup.rounds);	/* every round ended or was cancelled */
	for (i = 0; i < NSLOTS; i++) {
		ipc_chan_free(sup.slots[i].chan);
		sup.slots[i].chan = NULL;
		ipc_chan_free(wend[i]);
		wend[i] = NULL;
	}
}

/* Worker i received exactly one frame: type, id, fd or not. */
static void
expect_request(int i, uint32_t type, uint32_t id, bool with_fd)
{
	struct ipc_msg	 m;

	assert_int_equal(ipc_recv(wend[i], &m), 1);
	assert_int_equal(m.hdr.type, type);
	assert_int_equal(m.hdr.gen_or_peer, id);
	assert_int_equal(m.fd != -1, with_fd);
	if (m.fd != -1)
		close(m.fd);
	assert_int_equal(ipc_recv(wend[i], &m), 0);
}

/* Worker i answers a status request id with sessions, read by proc.c. */
static void
status_reply(int i, uint32_t id, uint64_t sessions)
{
	struct ipc_buf	*b;
	struct counters	 cnt;

	memset(&cnt, 0, sizeof(cnt));
	cnt.sessions = sessions;
	assert_non_null(b = malloc(sizeof(*b)));
	ipc_buf_init(b);
	counters_encode(b, &cnt);
	grouplist_put_counts(b, NULL, 0);	/* no group in use */
	assert_int_equal(ipc_send(wend[i], IPC_MSG_STATUS_REP, id, (uint32_t)i,
	    b->data, b->len, -1), 0);
	free(b);
	proc_ctl_event(&sup, &sup.slots[i], EPOLLIN);
	assert_non_null(sup.slots[i].chan);	/* not taken for broken */
}

/* Every worker answers or dies: done with the last of them, once. */
static void
test_all_answer(void **state)
{
	struct seen	 seen = { 0 };
	struct round	*r;
	uint32_t	 id;

	sup_start();
	sup.next_req_id = 41;
	assert_non_null(r = round_new(&sup, IPC_MSG_STATUS_REQ, 0, WAIT_MS,
	    done_cb, &seen));
	id = round_id(r);
	assert_int_equal(id, 42);
	round_send(&sup, r, NULL, 0, -1, ROUND_UNSENT_SKIP);
	assert_int_equal(round_waiting(r), NSLOTS);
	expect_request(0, IPC_MSG_STATUS_REQ, id, false);
	expect_request(1, IPC_MSG_STATUS_REQ, id, false);
	expect_request(2, IPC_MSG_STATUS_REQ, id, false);
	assert_int_equal(round_tick(&sup), WAIT_MS);

	status_reply(2, id, 7);
	assert_int_equal(sup.slots[2].stats.sessions, 7);
	assert_int_equal(seen.calls, 0);
	/* An answer to another request is not this round's. */
	status_reply(0, id + 1, 5);
	assert_int_equal(round_waiting(r), 2);
	status_reply(0, id, 3);
	assert_int_equal(sup.slots[0].stats.sessions, 3);
	assert_int_equal(seen.calls, 0);
	/* The last one dies: nobody left to wait for. */
	round_worker_gone(&sup, &sup.slots[1]);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.id, id);
	assert_int_equal(seen.waiting, 0);
	assert_true(seen.answered[0]);
	assert_false(seen.answered[1]);
	assert_true(seen.answered[2]);
	/* Over: a second answer finds no round, and nothing runs again. */
	status_reply(2, id, 8);
	assert_int_equal(sup.slots[2].stats.sessions, 8);
	assert_int_equal(round_tick(&sup), -1);
	assert_int_equal(seen.calls, 1);
	sup_end();
}

/* A silent worker: done at the deadline, not before; late answers count no more. */
static void
test_deadline(void **state)
{
	struct seen	 seen = { 0 };
	struct round	*r;
	uint32_t	 id;

	sup_start();
	assert_non_null(r = round_new(&sup, IPC_MSG_STATUS_REQ, 0, WAIT_MS,
	    done_cb, &seen));
	id = round_id(r);
	round_send(&sup, r, NULL, 0, -1, ROUND_UNSENT_SKIP);
	status_reply(0, id, 1);
	status_reply(1, id, 1);
	now_ms += WAIT_MS - 1;
	assert_int_equal(round_tick(&sup), 1);
	assert_int_equal(seen.calls, 0);
	now_ms += 1;
	assert_int_equal(round_tick(&sup), -1);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.waiting, 1);
	assert_true(seen.answered[0] && seen.answered[1]);
	assert_false(seen.answered[2]);
	assert_null(round_find(&sup, IPC_MSG_STATUS_REQ, id, &sup.slots[2]));
	status_reply(2, id, 9);		/* the counters are taken all the same */
	assert_int_equal(sup.slots[2].stats.sessions, 9);
	assert_int_equal(seen.calls, 1);
	sup_end();
}

/*
 * Nobody running: the round is over at once, but done runs from the
 * loop's round_tick(), never from inside the start (the requester has not
 * even got the round back yet).
 */
static void
test_nobody(void **state)
{
	struct seen	 seen = { 0 };
	struct round	*r;
	int		 i;

	sup_start();
	for (i = 0; i < NSLOTS; i++)
		sup.slots[i].state = i == 0 ? SLOT_RESPAWN_WAIT : SLOT_GAVE_UP;
	assert_non_null(r = round_new(&sup, IPC_MSG_STATUS_REQ, 0, WAIT_MS,
	    done_cb, &seen));
	round_send(&sup, r, NULL, 0, -1, ROUND_UNSENT_WAIT);
	assert_int_equal(seen.calls, 0);
	assert_int_equal(round_waiting(r), 0);
	assert_int_equal(round_tick(&sup), -1);
	assert_int_equal(seen.calls, 1);
	assert_false(seen.answered[0]);
	sup_end();
}

/*
 * A worker the request cannot reach (its end is closed: EPIPE): left out,
 * or waited for until the deadline, as the caller asked; a descriptor goes
 * with the request to each of the others.
 */
static void
test_unsent(void **state)
{
	struct seen	 seen = { 0 }, seen2 = { 0 };
	struct round	*r;
	int		 fd;

	sup_start();
	ipc_chan_free(wend[1]);
	wend[1] = NULL;
	assert_true((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0);

	assert_non_null(r = round_new(&sup, IPC_MSG_STATUS_REQ, 0, WAIT_MS,
	    done_cb, &seen));
	round_send(&sup, r, NULL, 0, -1, ROUND_UNSENT_SKIP);
	assert_int_equal(round_waiting(r), 2);
	assert_null(round_find(&sup, IPC_MSG_STATUS_REQ, round_id(r),
	    &sup.slots[1]));
	expect_request(0, IPC_MSG_STATUS_REQ, round_id(r), false);
	expect_request(2, IPC_MSG_STATUS_REQ, round_id(r), false);
	status_reply(0, round_id(r), 1);
	status_reply(2, round_id(r), 1);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.waiting, 0);

	assert_non_null(r = round_new(&sup, IPC_MSG_CRL, 5, WAIT_MS, done_cb,
	    &seen2));
	round_send(&sup, r, NULL, 0, fd, ROUND_UNSENT_WAIT);
	close(fd);
	assert_int_equal(round_waiting(r), 3);
	expect_request(0, IPC_MSG_CRL, 5, true);
	expect_request(2, IPC_MSG_CRL, 5, true);
	round_answer(&sup, round_find(&sup, IPC_MSG_CRL, 5, &sup.slots[0]),
	    &sup.slots[0]);
	round_answer(&sup, round_find(&sup, IPC_MSG_CRL, 5, &sup.slots[2]),
	    &sup.slots[2]);
	assert_int_equal(seen2.calls, 0);
	now_ms += WAIT_MS;
	assert_int_equal(round_tick(&sup), -1);
	assert_int_equal(seen2.calls, 1);
	assert_int_equal(seen2.waiting, 1);	/* reported unanswered */
	assert_false(seen2.answered[1]);
	sup_end();
}

/*
 * Two rounds of different requests with the same id, and one more: each
 * answer is its own round's; a death ends every round that waited only
 * for the dead worker (the list changes under the walk).
 */
static void
test_rounds_apart(void **state)
{
	struct seen	 a = { 0 }, b = { 0 }, c = { 0 };
	struct round	*ra, *rb, *rc;

	sup_start();
	sup.next_req_id = 6;
	assert_non_null(ra = round_new(&sup, IPC_MSG_STATUS_REQ, 0, WAIT_MS,
	    done_cb, &a));
	assert_non_null(rb = round_new(&sup, IPC_MSG_CRL, 7, WAIT_MS, done_cb,
	    &b));
	assert_non_null(rc = round_new(&sup, IPC_MSG_STATUS_REQ, 0,
	    2 * WAIT_MS, done_cb, &c));
	assert_int_equal(round_id(ra), 7);
	assert_int_equal(round_id(rc), 8);
	round_send(&sup, ra, NULL, 0, -1, ROUND_UNSENT_SKIP);
	round_send(&sup, rb, NULL, 0, -1, ROUND_UNSENT_SKIP);
	round_send(&sup, rc, NULL, 0, -1, ROUND_UNSENT_SKIP);

	assert_ptr_equal(round_find(&sup, IPC_MSG_CRL, 7, &sup.slots[0]), rb);
	assert_ptr_equal(round_find(&sup, IPC_MSG_STATUS_REQ, 7,
	    &sup.slots[0]), ra);
	assert_null(round_find(&sup, IPC_MSG_CRL, 8, &sup.slots[0]));
	round_answer(&sup, rb, &sup.slots[0]);
	round_answer(&sup, rb, &sup.slots[1]);
	status_reply(0, 7, 1);
	status_reply(1, 7, 1);
	status_reply(0, 8, 1);
	status_reply(1, 8, 1);
	assert_int_equal(round_waiting(ra), 1);
	assert_int_equal(round_waiting(rb), 1);
	assert_int_equal(round_waiting(rc), 1);
	assert_null(round_find(&sup, IPC_MSG_CRL, 7, &sup.slots[0]));
	round_worker_gone(&sup, &sup.slots[2]);
	assert_int_equal(a.calls + b.calls + c.calls, 3);
	assert_true(a.answered[0] && a.answered[1] && !a.answered[2]);
	assert_true(b.answered[0] && b.answered[1] && !b.answered[2]);
	assert_int_equal(round_tick(&sup), -1);
	sup_end();
}

/* A requester gone: its round ends without a word, others go on. */
static void
test_cancel(void **state)
{
	struct seen	 a = { 0 }, b = { 0 };
	struct round	*ra, *rb;

	sup_start();
	assert_non_null(ra = round_new(&sup, IPC_MSG_STATUS_REQ, 0, WAIT_MS,
	    done_cb, &a));
	assert_non_null(rb = round_new(&sup, IPC_MSG_STATUS_REQ, 0, WAIT_MS,
	    done_cb, &b));
	round_send(&sup, ra, NULL, 0, -1, ROUND_UNSENT_SKIP);
	round_send(&sup, rb, NULL, 0, -1, ROUND_UNSENT_SKIP);
	round_cancel(&sup, ra);
	round_cancel(&sup, NULL);
	status_reply(0, round_id(rb), 1);
	round_worker_gone(&sup, &sup.slots[1]);
	round_worker_gone(&sup, &sup.slots[2]);
	assert_int_equal(a.calls, 0);
	assert_int_equal(b.calls, 1);
	now_ms += WAIT_MS;
	assert_int_equal(round_tick(&sup), -1);
	assert_int_equal(a.calls, 0);
	sup_end();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_answer),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_nobody),
		cmocka_unit_test(test_unsent),
		cmocka_unit_test(test_rounds_apart),
		cmocka_unit_test(test_cancel),
	};

	clock_fake_mono(fake_now);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
