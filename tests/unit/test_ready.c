/*
 * Unit tests for the readiness notification at start (supervisor/proc.c,
 * supervisor/notify.c): READY=1 reaches the service manager's socket only
 * once every worker has said hello over its control channel, or after
 * PROC_READY_WAIT_MS when at least one has; never during a stop; and no
 * READY=1 or RELOADING=1 of a CRL reload goes out before it.
 *
 * The workers are played by the test: a socketpair per slot, HELLO frames
 * written on the worker's end and read by proc_ctl_event().  The clock is
 * the test's (clock_fake_mono(), below), the manager an abstract datagram socket.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc/ipc.h"
#include "shared/clock.h"
#include "supervisor/notify.h"
#include "supervisor/proc.h"

/* Above any pid Linux hands out: proc.c never signals a real process. */
#define READY_FAKE_PID	0x7ffffff0

/* The monotonic clock, the test's (clock_fake_mono()). */
static int64_t	 now_ms;

static int64_t
fake_now(void)
{
	return (now_ms);
}

static int		 manager = -1;	/* the service manager's socket */
static struct sup	 sup;
static struct ipc_chan	*wend[2];	/* the workers' ends */

/* Bind an abstract socket and point notify.c at it, once per process. */
static int
setup_manager(void **state)
{
	struct sockaddr_un	 sun;
	char			 name[64];
	socklen_t		 len;

	snprintf(name, sizeof(name), "takd-unit-ready-%d", (int)getpid());
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, name, strlen(name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(name));
	if ((manager = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(manager, (struct sockaddr *)&sun, len) == -1)
		return (-1);
	snprintf(name, sizeof(name), "@takd-unit-ready-%d", (int)getpid());
	setenv("NOTIFY_SOCKET", name, 1);
	return (notify_init());
}

static int
teardown_manager(void **state)
{
	notify_close();
	close(manager);
	return (0);
}

/* The next notification, or "" when none is waiting. */
static const char *
received(void)
{
	static char	 buf[1024];
	ssize_t		 n;

	n = recv(manager, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		n = 0;
	assert_true(n >= 0);
	buf[n] = '\0';
	return (buf);
}

/* Two running slots, their channels, readiness armed at time 0. */
static void
sup_start(void)
{
	int	 sv[2];
	int	 i;

	memset(&sup, 0, sizeof(sup));
	sup.magic = SUP_MAGIC;
	sup.epfd = -1;
	sup.n_slots = 2;
	sup.n_listeners = 1;
	sup.crl.info.generation = 1;
	for (i = 0; i < 2; i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET |
		    SOCK_CLOEXEC, 0, sv), 0);
		sup.slots[i].id = (unsigned)i;
		sup.slots[i].state = SLOT_RUNNING;
		sup.slots[i].pid = READY_FAKE_PID + i;
		assert_non_null(sup.slots[i].chan = ipc_chan_new(sv[0],
		    1 << 16));
		assert_non_null(wend[i] = ipc_chan_new(sv[1], 1 << 16));
	}
	now_ms = 0;
	proc_ready_arm(&sup);
}

static void
sup_end(void)
{
	int	 i;

	for (i = 0; i < 2; i++) {
		ipc_chan_free(sup.slots[i].chan);
		sup.slots[i].chan = NULL;
		ipc_chan_free(wend[i]);
		wend[i] = NULL;
	}
	assert_string_equal(received(), "");
}

/* Worker i says hello and the supervisor reads it. */
static void
hello(int i)
{
	struct ipc_buf	*b;

	assert_non_null(b = malloc(sizeof(*b)));
	ipc_buf_init(b);
	ipc_put_u32(b, (uint32_t)i);
	ipc_put_u32(b, (uint32_t)(READY_FAKE_PID + i));
	assert_int_equal(ipc_send(wend[i], IPC_MSG_HELLO, 1, (uint32_t)i,
	    b->data, b->len, -1), 0);
	free(b);
	proc_ctl_event(&sup, &sup.slots[i], EPOLLIN);
	assert_non_null(sup.slots[i].chan);	/* not taken for broken */
}

/* Before the start is complete, a reload says nothing; a stop does. */
static void
test_gate(void **state)
{
	notify_reloading();
	notify_send("READY=1\nSTATUS=2 workers, CRL generation 2");
	assert_string_equal(received(), "");
	/* Not READY=1 itself: sent. */
	notify_send("READY=10");
	assert_string_equal(received(), "READY=10");
}

/* Both workers say hello: READY=1 with the second, not before. */
static void
test_all_hello(void **state)
{
	char	 want[256];

	sup_start();
	assert_int_equal(proc_ready_tick(&sup), PROC_READY_WAIT_MS);
	hello(1);
	assert_true(sup.slots[1].hello);
	assert_string_equal(received(), "");
	now_ms = 2000;
	assert_int_equal(proc_ready_tick(&sup), PROC_READY_WAIT_MS - 2000);
	hello(0);
	snprintf(want, sizeof(want), "READY=1\nMAINPID=%d\nSTATUS=2 workers, "
	    "1 listeners, CRL generation 1", (int)getpid());
	assert_string_equal(received(), want);
	assert_true(sup.ready);
	assert_int_equal(proc_ready_tick(&sup), -1);
	/* Once only; and a CRL reload's pair now goes out. */
	now_ms = PROC_READY_WAIT_MS;
	assert_int_equal(proc_ready_tick(&sup), -1);
	assert_string_equal(received(), "");
	notify_reloading();
	assert_non_null(strstr(received(), "RELOADING=1\nMONOTONIC_USEC="));
	notify_send("READY=1\nSTATUS=x");
	assert_string_equal(received(), "READY=1\nSTATUS=x");
	sup_end();
}

/* One worker silent: READY=1 at the deadline, saying 1 of 2. */
static void
test_deadline(void **state)
{
	char	 want[256];

	sup_start();
	hello(1);
	now_ms = PROC_READY_WAIT_MS - 1;
	assert_int_equal(proc_ready_tick(&sup), 1);
	assert_string_equal(received(), "");
	now_ms = PROC_READY_WAIT_MS;
	assert_int_equal(proc_ready_tick(&sup), -1);
	snprintf(want, sizeof(want), "READY=1\nMAINPID=%d\nSTATUS=1 of 2 "
	    "workers up, 1 listeners, CRL generation 1", (int)getpid());
	assert_string_equal(received(), want);
	/* The late one's hello changes nothing. */
	hello(0);
	sup_end();
}

/* Nobody up at the deadline: no READY=1 until the first hello. */
static void
test_none_up(void **state)
{
	sup_start();
	now_ms = PROC_READY_WAIT_MS;
	assert_int_equal(proc_ready_tick(&sup), -1);
	assert_string_equal(received(), "");
	assert_false(sup.ready);
	now_ms = 30000;
	assert_int_equal(proc_ready_tick(&sup), -1);
	assert_string_equal(received(), "");
	hello(0);
	assert_non_null(strstr(received(), "STATUS=1 of 2 workers up"));
	sup_end();
}

/*
 * A worker that said hello and died counts no more: its replacement must
 * say hello.  One that gave up holds nothing back.
 */
static void
test_respawn_and_gave_up(void **state)
{
	sup_start();
	hello(0);
	sup.slots[0].hello = false;	/* proc_exited(), then proc_spawn() */
	hello(1);
	assert_string_equal(received(), "");
	hello(0);
	assert_non_null(strstr(received(), "STATUS=2 workers"));
	sup_end();

	sup_start();
	sup.slots[1].state = SLOT_GAVE_UP;
	hello(0);
	assert_non_null(strstr(received(), "STATUS=1 of 2 workers up"));
	sup_end();
}

/* A stop during the start: no READY=1 ever. */
static void
test_stopping(void **state)
{
	sup_start();
	sup.stopping = true;
	hello(0);
	hello(1);
	now_ms = PROC_READY_WAIT_MS;
	assert_int_equal(proc_ready_tick(&sup), -1);
	assert_false(sup.ready);
	sup_end();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* First: the gate holds only until the first READY=1. */
		cmocka_unit_test(test_gate),
		cmocka_unit_test(test_none_up),
		cmocka_unit_test(test_stopping),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_respawn_and_gave_up),
		cmocka_unit_test(test_all_hello),
	};

	clock_fake_mono(fake_now);
	return (cmocka_run_group_tests(tests, setup_manager,
	    teardown_manager));
}
