/*
 * Unit tests for worker/budget.c: the token buckets of events and bytes on
 * their own (exact counts, refill, burst), then through the real data path
 * of one worker with plain sessions on socketpairs (as tests/unit/
 * test_route.c drives it): the byte budget and the class caps drop and
 * count without closing anybody; the memory budget closes the sessions
 * holding the most (input first, then output), counts an event queued to
 * several sessions once, and gives a big input buffer back.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/unit.h"
#include "tests/unit/worker_fx.h"

#include "shared/config.h"
#include "worker/budget.h"
#include "worker/conn.h"
#include "worker/outq.h"
#include "worker/session.h"
#include "worker/worker_int.h"

#define STALE		"2099-01-01T00:00:00.000Z"

/* --- events of an exact size ------------------------------------------ */

/*
 * An event of exactly size bytes: type, uid and, for an SA, a contact;
 * padded in <remarks>.  With open, the end tag is left out (size counts
 * what is written): an event that never ends.
 */
static char *
event_of(const char *type, const char *uid, size_t size, int open)
{
	char	 head[512], *b;
	int	 n;
	size_t	 tail;

	n = snprintf(head, sizeof(head), "<event version=\"2.0\" uid=\"%s\" "
	    "type=\"%s\" how=\"h-g-i-g-o\" time=\"2026-11-23T08:00:00Z\" "
	    "start=\"2026-11-23T08:00:00Z\" stale=\"%s\"><point lat=\"1\" "
	    "lon=\"2\" hae=\"0\" ce=\"9\" le=\"9\"/><detail>%s<remarks>", uid,
	    type, STALE, type[0] == 'a' ? "<contact callsign=\"CS\" "
	    "endpoint=\"*:-1:stcp\"/>" : "");
	assert_true(n > 0 && (size_t)n < sizeof(head));
	tail = open ? 0 : strlen("</remarks></detail></event>");
	assert_true(size > (size_t)n + tail);
	b = malloc(size + 1);
	assert_non_null(b);
	memcpy(b, head, (size_t)n);
	memset(b + n, 'p', size - (size_t)n - tail);
	memcpy(b + size - tail, "</remarks></detail></event>", tail);
	b[size] = '\0';
	return (b);
}

/* --- the fixture (tests/unit/worker_fx.h) ----------------------------- */

/* Every test ends with the memory it counted back to 0. */
static int
setup(void **state)
{
	if (worker_fx_setup(state) == -1)
		return (-1);
	((struct worker_fx *)*state)->check_mem = true;
	return (0);
}

/*
 * Events client i can read now whose bytes contain what (NULL: any); the
 * start of an event not read whole yet waits for the next call.
 */
static int
client_events(struct worker_fx *f, int i, const char *what)
{
	static char	 buf[WORKER_FX_MAX][1 << 20];
	static size_t	 have[WORKER_FX_MAX];
	char		*p, *end;
	size_t		 used = 0;
	ssize_t		 n;
	int		 k = 0;

	while (have[i] < sizeof(buf[i]) - 1 && (n = recv(f->peer[i],
	    buf[i] + have[i], sizeof(buf[i]) - 1 - have[i], MSG_DONTWAIT)) > 0)
		have[i] += (size_t)n;
	buf[i][have[i]] = '\0';
	for (p = buf[i]; (p = strstr(p, "<event ")) != NULL; p = end) {
		if ((end = strstr(p, "</event>")) == NULL)
			break;
		*end = '\0';
		if (what == NULL || strstr(p, what) != NULL)
			k++;
		end += 8;
		used = (size_t)(end - buf[i]);
	}
	memmove(buf[i], buf[i] + used, have[i] - used);
	have[i] -= used;
	return (k);
}

/*
 * Client i reads until its queue in the worker is empty: the events read
 * that contain what (NULL: any).
 */
static int
client_drain(struct worker_fx *f, int i, const char *what)
{
	int	 n, k = 0;

	for (n = 0; n < 1000 && outq_bytes(&f->c[i]->s.outq) > 0; n++) {
		k += client_events(f, i, what);
		conn_handle(&f->w, f->c[i], EPOLLOUT);
		worker_fx_turn(f);
	}
	k += client_events(f, i, what);
	assert_int_equal(outq_bytes(&f->c[i]->s.outq), 0);
	return (k);
}

/* --- token buckets ----------------------------------------------------- */

static void
test_bucket_events(void **state)
{
	struct config		 cfg;
	struct budget_bucket	 b;
	int			 i;

	config_init(&cfg);
	cfg.max_events_per_second = 10;
	cfg.max_bytes_per_second = 0;
	budget_bucket_fill(&b, &cfg, 5000);
	/* A second's worth at once, then none. */
	for (i = 0; i < 10; i++)
		assert_int_equal(budget_bucket_take(&b, &cfg, 100, 5000),
		    BUDGET_OK);
	assert_int_equal(budget_bucket_take(&b, &cfg, 100, 5000),
	    BUDGET_OVER_RATE);
	/* One every 100 ms, not a millisecond earlier. */
	assert_int_equal(budget_bucket_take(&b, &cfg, 100, 5099),
	    BUDGET_OVER_RATE);
	assert_int_equal(budget_bucket_take(&b, &cfg, 100, 5100), BUDGET_OK);
	assert_int_equal(budget_bucket_take(&b, &cfg, 100, 5100),
	    BUDGET_OVER_RATE);
	/* A long pause fills it to a second's worth, no more. */
	for (i = 0; i < 10; i++)
		assert_int_equal(budget_bucket_take(&b, &cfg, 100,
		    5100 + 3600 * 1000), BUDGET_OK);
	assert_int_equal(budget_bucket_take(&b, &cfg, 100, 5100 + 3600 * 1000),
	    BUDGET_OVER_RATE);
	/* Off. */
	cfg.max_events_per_second = 0;
	for (i = 0; i < 1000; i++)
		assert_int_equal(budget_bucket_take(&b, &cfg, 100, 0),
		    BUDGET_OK);
}

static void
test_bucket_bytes(void **state)
{
	struct config		 cfg;
	struct budget_bucket	 b;
	int			 i;

	config_init(&cfg);
	cfg.max_events_per_second = 100;
	cfg.max_bytes_per_second = 1000;
	cfg.max_event_bytes = 1024;
	/* The burst: 8 seconds' worth, more than one largest event. */
	assert_int_equal(budget_byte_burst(&cfg), 8000);
	budget_bucket_fill(&b, &cfg, 1000);
	for (i = 0; i < 8; i++)
		assert_int_equal(budget_bucket_take(&b, &cfg, 1000, 1000),
		    BUDGET_OK);
	assert_int_equal(budget_bucket_take(&b, &cfg, 1, 1000),
	    BUDGET_OVER_BYTES);
	/* 999 bytes after 999 ms, and exactly that. */
	assert_int_equal(budget_bucket_take(&b, &cfg, 1000, 1999),
	    BUDGET_OVER_BYTES);
	assert_int_equal(budget_bucket_take(&b, &cfg, 999, 1999), BUDGET_OK);
	assert_int_equal(budget_bucket_take(&b, &cfg, 1, 1999),
	    BUDGET_OVER_BYTES);
	/* Refused by bytes: no event token taken (1 taken at 1999). */
	for (i = 0; i < 50; i++)
		assert_int_equal(budget_bucket_take(&b, &cfg, 1, 1999),
		    BUDGET_OVER_BYTES);
	cfg.max_bytes_per_second = 0;
	for (i = 0; i < 99; i++)
		assert_int_equal(budget_bucket_take(&b, &cfg, 1, 1999),
		    BUDGET_OK);
	assert_int_equal(budget_bucket_take(&b, &cfg, 1, 1999),
	    BUDGET_OVER_RATE);
	cfg.max_bytes_per_second = 1000;
	/* Full after a pause, never more than the burst. */
	assert_int_equal(budget_bucket_take(&b, &cfg, 8000, 100000),
	    BUDGET_OK);
	assert_int_equal(budget_bucket_take(&b, &cfg, 1, 100000),
	    BUDGET_OVER_BYTES);
	assert_int_equal(budget_bucket_take(&b, &cfg, 8001, 900000),
	    BUDGET_OVER_BYTES);

	/* A slow rate still lets one event of max_event_bytes through. */
	cfg.max_bytes_per_second = 256;
	cfg.max_event_bytes = 65536;
	assert_int_equal(budget_byte_burst(&cfg), 65536);
	budget_bucket_fill(&b, &cfg, 0);
	assert_int_equal(budget_bucket_take(&b, &cfg, 65536, 0), BUDGET_OK);
	assert_int_equal(budget_bucket_take(&b, &cfg, 256, 999),
	    BUDGET_OVER_BYTES);
	assert_int_equal(budget_bucket_take(&b, &cfg, 256, 1000), BUDGET_OK);
	/* Off. */
	cfg.max_bytes_per_second = 0;
	assert_int_equal(budget_byte_burst(&cfg), 0);
	assert_int_equal(budget_bucket_take(&b, &cfg, 1 << 24, 1000),
	    BUDGET_OK);
}

/* The defaults: a flooder's burst and rate, as configuration.md says. */
static void
test_defaults(void **state)
{
	struct config	 cfg;

	config_init(&cfg);
	assert_int_equal(cfg.max_bytes_per_second, 8192);
	assert_int_equal(budget_byte_burst(&cfg), 65536);
	assert_int_equal(cfg.max_events_per_second, 50);
	assert_int_equal(budget_class_cap(&cfg, IPC_EV_SA), 8192);
	assert_int_equal(budget_class_cap(&cfg, IPC_EV_CHAT), 8192);
	assert_int_equal(budget_class_cap(&cfg, IPC_EV_PING), 0);
	assert_int_equal(budget_class_cap(&cfg, IPC_EV_OTHER), 0);
	/* auto: 64 MiB + 16 KiB for each of 10,000 sessions. */
	assert_int_equal(budget_mem_limit(&cfg), (size_t)64 * 1048576 +
	    10000 * 16384);
	cfg.max_buffered_bytes = 5 << 20;
	assert_int_equal(budget_mem_limit(&cfg), 5 << 20);
}

/* --- through the data path -------------------------------------------- */

/*
 * One client floods events of 6,500 bytes: a burst's worth (64 KiB)
 * passes, the rest is dropped and counted; it stays connected, and the
 * reader gets exactly what passed.
 */
static void
test_byte_budget(void **state)
{
	struct worker_fx	*f = *state;
	char			*one, *burst;
	size_t			 len = 6500, i;

	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	one = event_of("u-d-f", "flood", len, 0);
	burst = malloc(len * 20);
	assert_non_null(burst);
	for (i = 0; i < 20; i++)
		memcpy(burst + i * len, one, len);
	worker_fx_send(f, 0, burst, len * 20);
	assert_int_equal(client_events(f, 1, "uid=\"flood\""), 65536 / 6500);
	assert_int_equal(f->w.cnt.drop_bytes, 20 - 65536 / 6500);
	assert_int_equal(f->w.cnt.events_in, 20);
	assert_int_equal(f->w.cnt.ev_in[IPC_EV_UNPARSED], 20 - 65536 / 6500);
	assert_int_equal(f->w.cnt.drop_rate, 0);
	assert_true(worker_fx_alive(f, 0));
	/* Another client's budget is its own. */
	worker_fx_connect(f, 2);
	worker_fx_send(f, 2, one, len);
	assert_int_equal(client_events(f, 1, "uid=\"flood\""), 1);
	/* A gateway ([cot] relay_certs) sends for many: no such budget. */
	worker_fx_connect(f, 3);
	f->c[3]->s.relay = true;
	worker_fx_send(f, 3, burst, len * 20);
	assert_int_equal(client_events(f, 1, "uid=\"flood\""), 20);
	assert_int_equal(f->w.cnt.drop_bytes, 20 - 65536 / 6500);
	free(one);
	free(burst);
}

/*
 * SA and chat over their caps are dropped and counted, the sender stays;
 * at the cap they pass; other events may be as large as max_event_bytes.
 * A dropped SA binds no identity.
 */
static void
test_class_caps(void **state)
{
	struct worker_fx	*f = *state;

	/* The caps alone: these would take more than one burst. */
	f->cfg.max_bytes_per_second = 0;
	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	worker_fx_send_str(f, 0, event_of("a-f-G-U-C", "sa-big", 8193, 0));
	assert_int_equal(client_events(f, 1, NULL), 0);
	assert_int_equal(f->w.cnt.drop_size, 1);
	assert_string_equal(f->c[0]->s.uid, "");
	worker_fx_send_str(f, 0, event_of("a-f-G-U-C", "sa-cap", 8192, 0));
	assert_int_equal(client_events(f, 1, "uid=\"sa-cap\""), 1);
	assert_string_equal(f->c[0]->s.uid, "sa-cap");
	worker_fx_send_str(f, 0, event_of("b-t-f", "chat-big", 9000, 0));
	worker_fx_send_str(f, 0, event_of("b-t-f-r", "receipt-big", 8193, 0));
	assert_int_equal(client_events(f, 1, NULL), 0);
	assert_int_equal(f->w.cnt.drop_size, 3);
	worker_fx_send_str(f, 0, event_of("b-t-f", "chat-cap", 8192, 0));
	worker_fx_send_str(f, 0, event_of("u-d-f", "drawing", 40000, 0));
	assert_int_equal(client_events(f, 1, NULL), 2);
	assert_int_equal(f->w.cnt.drop_size, 3);
	assert_int_equal(f->w.cnt.drop_bytes, 0);
	assert_true(worker_fx_alive(f, 0));
	/* Off: only max_event_bytes. */
	f->cfg.max_chat_bytes = 0;
	worker_fx_send_str(f, 1, event_of("b-t-f", "chat-big", 9000, 0));
	assert_int_equal(client_events(f, 0, "uid=\"chat-big\""), 1);
}

/*
 * Sessions holding unfinished events past max_buffered_bytes: the one
 * holding the most is closed first (not the one that went over), until
 * the worker is under the budget again; well-behaved sessions go on.
 */
static void
test_memory_input(void **state)
{
	struct worker_fx	*f = *state;
	size_t			 limit = 1 << 20;
	char			*sa;

	f->cfg.max_buffered_bytes = limit;
	f->cfg.max_event_bytes = 1 << 20;
	f->cfg.max_bytes_per_second = 0;
	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	worker_fx_connect(f, 2);
	worker_fx_connect(f, 3);
	worker_fx_connect(f, 4);
	worker_fx_connect(f, 5);
	/* Buffers of 128, 512 and 256 KiB: under the budget. */
	worker_fx_send_str(f, 2, event_of("u-d-f", "p2", 100000, 1));
	worker_fx_send_str(f, 3, event_of("u-d-f", "p3", 300000, 1));
	worker_fx_send_str(f, 4, event_of("u-d-f", "p4", 150000, 1));
	assert_int_equal(f->w.mem.in_bytes, 896 * 1024);
	assert_int_equal(f->w.cnt.close_memory, 0);
	/* 256 KiB more: the 512 KiB one goes, the newcomer stays. */
	worker_fx_send_str(f, 5, event_of("u-d-f", "p5", 200000, 1));
	assert_int_equal(f->w.cnt.close_memory, 1);
	assert_false(worker_fx_alive(f, 3));
	assert_true(worker_fx_alive(f, 2) && worker_fx_alive(f, 4) &&
	    worker_fx_alive(f, 5));
	assert_true(budget_mem_used(&f->w) <= limit);
	assert_true(f->w.cnt.mem_high_water > limit);
	/* The well-behaved pair never noticed. */
	sa = event_of("a-f-G-U-C", "good", 700, 0);
	worker_fx_send(f, 0, sa, strlen(sa));
	assert_int_equal(client_events(f, 1, "uid=\"good\""), 1);
	assert_true(worker_fx_alive(f, 0) && worker_fx_alive(f, 1));
	/*
	 * Those left finish their events: their buffers go back (0 keeps
	 * the small one of its SA).
	 */
	worker_fx_send(f, 2, "</remarks></detail></event>", 27);
	worker_fx_send(f, 4, "</remarks></detail></event>", 27);
	worker_fx_send(f, 5, "</remarks></detail></event>", 27);
	assert_int_equal(f->w.mem.in_bytes, 2048);
	assert_int_equal(f->w.cnt.close_memory, 1);
	free(sa);
}

/*
 * The sender itself holds the most while its event is being delivered
 * (the event's own buffer takes the worker over): it is closed, its
 * framer freed only once its input returns (the SA is stored for replay
 * from it after the delivery: ASan would see otherwise), and the event it
 * completed still reaches everybody.
 */
static void
test_memory_sender(void **state)
{
	struct worker_fx	*f = *state;
	size_t			 limit = 1536 << 10;

	f->cfg.max_buffered_bytes = limit;
	f->cfg.max_event_bytes = 1 << 20;
	f->cfg.max_bytes_per_second = 0;
	f->cfg.max_sa_bytes = 0;
	f->cfg.max_queue_bytes = 4 << 20;	/* room to replay it */
	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	worker_fx_connect(f, 2);
	worker_fx_send_str(f, 0, event_of("a-f-G-U-C", "big", 700000, 1));
	assert_int_equal(f->w.mem.in_bytes, 1 << 20);
	assert_int_equal(f->w.cnt.close_memory, 0);
	/* The end: a 700 KB event next to its 1 MiB buffer. */
	worker_fx_send(f, 0, "</remarks></detail></event>", 27);
	assert_int_equal(f->w.cnt.close_memory, 1);
	assert_false(worker_fx_alive(f, 0));
	assert_int_equal(client_drain(f, 1, "version=\"2.0\" uid=\"big\""), 1);
	assert_int_equal(client_drain(f, 2, "version=\"2.0\" uid=\"big\""), 1);
	assert_int_equal(f->w.mem.in_bytes, 0);
	/* Stored for replay: a newcomer gets it. */
	worker_fx_connect(f, 3);
	assert_int_equal(client_drain(f, 3, "version=\"2.0\" uid=\"big\""), 1);
}

/*
 * Over the budget because of memory no session holds (here an event
 * buffer of the test's): a session holding less than its share is never
 * closed for it; one holding more is.
 */
static void
test_memory_share(void **state)
{
	struct worker_fx	*f = *state;
	struct evbuf		*ev;
	char			*big;

	f->cfg.max_buffered_bytes = 1 << 20;
	f->cfg.max_event_bytes = 1 << 20;
	f->cfg.max_bytes_per_second = 0;
	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	worker_fx_connect(f, 2);
	big = calloc(1, 2 << 20);
	assert_non_null(big);
	ev = evbuf_new(big, 2 << 20);
	assert_non_null(ev);
	/* 128 KiB, under a share of 1 MiB / 3. */
	worker_fx_send_str(f, 0, event_of("u-d-f", "s0", 100000, 1));
	assert_true(budget_mem_used(&f->w) > f->cfg.max_buffered_bytes);
	assert_int_equal(f->w.cnt.close_memory, 0);
	assert_true(worker_fx_alive(f, 0));
	/* 512 KiB: over it. */
	worker_fx_send_str(f, 1, event_of("u-d-f", "s1", 400000, 1));
	assert_int_equal(f->w.cnt.close_memory, 1);
	assert_false(worker_fx_alive(f, 1));
	assert_true(worker_fx_alive(f, 0) && worker_fx_alive(f, 2));
	evbuf_unref(ev);
	free(big);
}

/* One big event, complete: its buffer goes back at once. */
static void
test_memory_trim(void **state)
{
	struct worker_fx	*f = *state;

	f->cfg.max_bytes_per_second = 0;
	worker_fx_connect(f, 0);
	worker_fx_connect(f, 1);
	worker_fx_send_str(f, 0, event_of("u-d-f", "d", 60000, 0));
	assert_int_equal(client_events(f, 1, "uid=\"d\""), 1);
	assert_int_equal(cot_framer_alloc(&f->c[0]->s.framer), 0);
	assert_int_equal(f->w.mem.in_bytes, 0);
	/* Its class is gone with it; a small partial keeps a small one. */
	assert_int_equal(f->c[0]->s.budget.in_class, 0);
	worker_fx_send(f, 0, "<event uid=\"x\"", 14);
	assert_int_equal(f->w.mem.in_bytes, 2048);
	assert_int_equal(f->c[0]->s.budget.in_class, 12);
}

/*
 * Output: an event queued to several stalled readers is counted once;
 * past the budget the readers with the most queued go (memory budget, not
 * slow consumer), the readers that keep up are never touched.
 */
static void
test_memory_output(void **state)
{
	struct worker_fx	*f = *state;
	size_t			 limit = 2 << 20, queued;
	char			*ev;
	int			 i, got = 0;

	f->cfg.max_buffered_bytes = limit;
	f->cfg.max_queue_bytes = 16 << 20;
	f->cfg.max_bytes_per_second = 0;
	f->cfg.max_events_per_second = 0;
	for (i = 0; i < 5; i++)
		worker_fx_connect(f, i);
	ev = event_of("u-d-f", "o", 30000, 0);
	/* 1.5 MB to 1, 2 and 3, which do not read: 4 MB queued, held once. */
	for (i = 0; i < 50; i++) {
		worker_fx_send(f, 0, ev, 30000);
		got += client_events(f, 4, NULL);
	}
	queued = outq_bytes(&f->c[1]->s.outq) + outq_bytes(&f->c[2]->s.outq) +
	    outq_bytes(&f->c[3]->s.outq);
	assert_true(queued > limit);
	assert_true(budget_mem_used(&f->w) <= limit);
	assert_int_equal(f->w.cnt.close_memory, 0);
	/*
	 * 2 catches up and keeps up; 1 and 3 hold the same events: closing
	 * one frees nothing, so both go once the worker is over.
	 */
	(void)client_drain(f, 2, NULL);
	for (i = 0; i < 60 && f->w.cnt.close_memory < 2; i++) {
		worker_fx_send(f, 0, ev, 30000);
		got += client_events(f, 4, NULL);
		(void)client_drain(f, 2, NULL);
	}
	assert_int_equal(f->w.cnt.close_memory, 2);
	assert_int_equal(f->w.cnt.close_slow, 0);
	assert_true(budget_mem_used(&f->w) <= limit);
	assert_false(worker_fx_alive(f, 1));
	assert_false(worker_fx_alive(f, 3));
	assert_true(worker_fx_alive(f, 0) && worker_fx_alive(f, 2) &&
	    worker_fx_alive(f, 4));
	/* The reader got every event. */
	assert_int_equal(got, 50 + i);
	free(ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_events),
		cmocka_unit_test(test_bucket_bytes),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test_setup_teardown(test_byte_budget, setup,
		    worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_class_caps, setup,
		    worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_memory_input, setup,
		    worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_memory_sender, setup,
		    worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_memory_share, setup,
		    worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_memory_trim, setup,
		    worker_fx_teardown),
		cmocka_unit_test_setup_teardown(test_memory_output, setup,
		    worker_fx_teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
