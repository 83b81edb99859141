/*
 * Unit tests for worker/budget.c: the token buckets of events and bytes on
 * their own (exact counts, refill, burst), then through the real data path
 * of one worker with plain sessions on socketpairs (as tests/unit/
 * test_route.c drives it): the byte budget and the class caps drop and
 * count without closing anybody.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/unit.h"

#include "shared/config.h"
#include "worker/budget.h"
#include "worker/conn.h"
#include "worker/outq.h"
#include "worker/registry.h"
#include "worker/session.h"
#include "worker/worker_int.h"

#define MAXS		10
#define STALE		"2099-01-01T00:00:00.000Z"

struct fx {
	struct worker		 w;
	struct worker_args	 args;
	struct config		 cfg;
	struct acceptor		 acc;
	char			 dir[64];
	char			 cwd[PATH_MAX];
	struct conn		*c[MAXS];
	int			 peer[MAXS];
	int			 nfds;
};

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

/* --- the fixture (as in test_route.c) --------------------------------- */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return (remove(path));
}

static int
setup(void **state)
{
	struct fx	*f;

	/* Everything the last test allocated for queues was given back. */
	assert_int_equal(outq_mem(), 0);
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->nfds = unit_count_fds();
	assert_non_null(getcwd(f->cwd, sizeof(f->cwd)));
	snprintf(f->dir, sizeof(f->dir), "/tmp/takd-budget-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(chdir(f->dir), 0);
	config_init(&f->cfg);
	f->cfg.flush_delay_ms = 0;
	f->args.cfg = &f->cfg;
	f->w.magic = WORKER_MAGIC;
	f->w.args = &f->args;
	f->w.cfg = &f->cfg;
	f->w.sigfd = f->w.spare_fd = -1;
	TAILQ_INIT(&f->w.handshaking);
	TAILQ_INIT(&f->w.live);
	TAILQ_INIT(&f->w.ready);
	TAILQ_INIT(&f->w.dead);
	TAILQ_INIT(&f->w.outlist);
	TAILQ_INIT(&f->w.written);
	f->w.epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(f->w.epfd >= 0);
	assert_int_equal(registry_init(&f->w), 0);
	f->acc.magic = ACCEPTOR_MAGIC;
	f->acc.fd = -1;
	f->acc.plain = true;
	snprintf(f->acc.name, sizeof(f->acc.name), "test");
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fx	*f = *state;
	int		 i;

	f->w.state = WORKER_EXIT;
	conn_close_all(&f->w, false, "test over");
	conn_reap(&f->w);
	registry_free(&f->w);
	close(f->w.epfd);
	for (i = 0; i < MAXS; i++)
		if (f->peer[i] > 0)
			close(f->peer[i]);
	assert_int_equal(outq_mem(), 0);
	assert_int_equal(chdir(f->cwd), 0);
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	assert_int_equal(unit_count_fds(), f->nfds);
	free(f);
	return (0);
}

static struct conn *
connect_client(struct fx *f, int i)
{
	struct sockaddr_un	 sun;
	int			 sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv), 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	f->c[i] = conn_new(&f->w, &f->acc, sv[0], (struct sockaddr *)&sun,
	    sizeof(sun.sun_family));
	assert_non_null(f->c[i]);
	f->peer[i] = sv[1];
	return (f->c[i]);
}

static bool
alive(struct fx *f, int i)
{
	return (f->c[i]->magic == CONN_MAGIC);
}

/* Client i sends bytes; the worker reads them and ends its turn. */
static void
client_send(struct fx *f, int i, const char *bytes, size_t len)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < len && alive(f, i)) {
		n = write(f->peer[i], bytes + off, len - off);
		assert_true(n > 0);
		off += (size_t)n;
		conn_handle(&f->w, f->c[i], EPOLLIN);
		while (alive(f, i) && f->c[i]->on_ready)
			conn_run_ready(&f->w);
	}
	session_before_sleep(&f->w);
}

static void
client_send_str(struct fx *f, int i, char *s)
{
	client_send(f, i, s, strlen(s));
	free(s);
}

/*
 * Events client i can read now whose bytes contain what (NULL: any); the
 * start of an event not read whole yet waits for the next call.
 */
static int
client_events(struct fx *f, int i, const char *what)
{
	static char	 buf[MAXS][1 << 20];
	static size_t	 have[MAXS];
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
	struct fx	*f = *state;
	char		*one, *burst;
	size_t		 len = 6500, i;

	connect_client(f, 0);
	connect_client(f, 1);
	one = event_of("u-d-f", "flood", len, 0);
	burst = malloc(len * 20);
	assert_non_null(burst);
	for (i = 0; i < 20; i++)
		memcpy(burst + i * len, one, len);
	client_send(f, 0, burst, len * 20);
	assert_int_equal(client_events(f, 1, "uid=\"flood\""), 65536 / 6500);
	assert_int_equal(f->w.cnt.drop_bytes, 20 - 65536 / 6500);
	assert_int_equal(f->w.cnt.events_in, 20);
	assert_int_equal(f->w.cnt.ev_in[IPC_EV_UNPARSED], 20 - 65536 / 6500);
	assert_int_equal(f->w.cnt.drop_rate, 0);
	assert_true(alive(f, 0));
	/* Another client's budget is its own. */
	connect_client(f, 2);
	client_send(f, 2, one, len);
	assert_int_equal(client_events(f, 1, "uid=\"flood\""), 1);
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
	struct fx	*f = *state;

	/* The caps alone: these would take more than one burst. */
	f->cfg.max_bytes_per_second = 0;
	connect_client(f, 0);
	connect_client(f, 1);
	client_send_str(f, 0, event_of("a-f-G-U-C", "sa-big", 8193, 0));
	assert_int_equal(client_events(f, 1, NULL), 0);
	assert_int_equal(f->w.cnt.drop_size, 1);
	assert_string_equal(f->c[0]->s.uid, "");
	client_send_str(f, 0, event_of("a-f-G-U-C", "sa-cap", 8192, 0));
	assert_int_equal(client_events(f, 1, "uid=\"sa-cap\""), 1);
	assert_string_equal(f->c[0]->s.uid, "sa-cap");
	client_send_str(f, 0, event_of("b-t-f", "chat-big", 9000, 0));
	client_send_str(f, 0, event_of("b-t-f-r", "receipt-big", 8193, 0));
	assert_int_equal(client_events(f, 1, NULL), 0);
	assert_int_equal(f->w.cnt.drop_size, 3);
	client_send_str(f, 0, event_of("b-t-f", "chat-cap", 8192, 0));
	client_send_str(f, 0, event_of("u-d-f", "drawing", 40000, 0));
	assert_int_equal(client_events(f, 1, NULL), 2);
	assert_int_equal(f->w.cnt.drop_size, 3);
	assert_int_equal(f->w.cnt.drop_bytes, 0);
	assert_true(alive(f, 0));
	/* Off: only max_event_bytes. */
	f->cfg.max_chat_bytes = 0;
	client_send_str(f, 1, event_of("b-t-f", "chat-big", 9000, 0));
	assert_int_equal(client_events(f, 0, "uid=\"chat-big\""), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_events),
		cmocka_unit_test(test_bucket_bytes),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test_setup_teardown(test_byte_budget, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_class_caps, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
