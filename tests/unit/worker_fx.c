/* The worker fixture of the data-path unit tests: see worker_fx.h. */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "shared/clock.h"
#include "tests/unit/unit.h"
#include "tests/unit/worker_fx.h"

#include "worker/groups.h"
#include "worker/outq.h"
#include "worker/registry.h"
#include "worker/session.h"

static int
worker_fx_rm(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	return (remove(path));
}

int
worker_fx_setup(void **state)
{
	struct worker_fx	*f;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->mem0 = outq_mem();
	f->nfds = unit_count_fds();
	assert_non_null(getcwd(f->cwd, sizeof(f->cwd)));
	snprintf(f->dir, sizeof(f->dir), "/tmp/takd-worker-fx-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(chdir(f->dir), 0);

	config_init(&f->cfg);
	/* Each turn's output is read at once: no batching here. */
	f->cfg.flush_delay_ms = 0;
	f->cfg.sa_flush_delay_ms = 0;	/* test_saclass.c turns it on */
	/*
	 * No TAK protocol offer: the tests count what clients receive, and
	 * the replay comes at connect (test_takproto.c turns it on).
	 */
	f->cfg.protocol_offer = false;
	f->args.id = 0;
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
	TAILQ_INIT(&f->w.sawait);
	f->w.epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(f->w.epfd >= 0);
	assert_int_equal(registry_init(&f->w), 0);
	assert_non_null(f->w.groups = groups_new());
	f->acc.magic = ACCEPTOR_MAGIC;
	f->acc.fd = -1;
	f->acc.plain = true;
	snprintf(f->acc.name, sizeof(f->acc.name), "test");
	*state = f;
	return (0);
}

int
worker_fx_teardown(void **state)
{
	struct worker_fx	*f = *state;
	int			 i;

	f->w.state = WORKER_EXIT;
	conn_close_all(&f->w, false, "test over");
	conn_reap(&f->w);
	/* Every session gave its groups back. */
	assert_int_equal(groups_count(f->w.groups), 0);
	groups_free(f->w.groups);
	receivers_free(&f->w);
	registry_free(&f->w);
	close(f->w.epfd);
	for (i = 0; i < WORKER_FX_MAX; i++) {
		if (f->peer[i] > 0)
			close(f->peer[i]);
		free(f->rx[i]);
	}
	if (f->check_mem) {
		/* The memory the budget counted went back to what it was. */
		assert_int_equal(f->w.mem.in_bytes, 0);
		assert_int_equal(outq_mem(), f->mem0);
	}
	assert_int_equal(chdir(f->cwd), 0);
	nftw(f->dir, worker_fx_rm, 8, FTW_DEPTH | FTW_PHYS);
	/* Every session's socket and the store's files were closed. */
	assert_int_equal(unit_count_fds(), f->nfds);
	free(f);
	return (0);
}

struct conn *
worker_fx_connect(struct worker_fx *f, int i)
{
	struct sockaddr_un	 sun;
	int			 sv[2];

	assert_true(i >= 0 && i < WORKER_FX_MAX);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv), 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	f->c[i] = conn_new(&f->w, &f->acc, sv[0], (struct sockaddr *)&sun,
	    sizeof(sun.sun_family));
	assert_non_null(f->c[i]);
	assert_int_equal(f->c[i]->state, CONN_ESTABLISHED);
	f->peer[i] = sv[1];
	return (f->c[i]);
}

bool
worker_fx_alive(const struct worker_fx *f, int i)
{
	return (f->c[i]->magic == CONN_MAGIC);
}

void
worker_fx_turn(struct worker_fx *f)
{
	conn_flush_pending(&f->w);
	registry_commit(&f->w);
}

void
worker_fx_send(struct worker_fx *f, int i, const char *bytes, size_t len)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < len && worker_fx_alive(f, i)) {
		n = write(f->peer[i], bytes + off, len - off);
		assert_true(n > 0);
		off += (size_t)n;
		/* As epoll would report it, at the start of a turn. */
		f->w.turn_ms = clock_mono_ms();
		conn_handle(&f->w, f->c[i], EPOLLIN);
		while (worker_fx_alive(f, i) && f->c[i]->on_ready)
			conn_run_ready(&f->w);
	}
	worker_fx_turn(f);
}

void
worker_fx_send_str(struct worker_fx *f, int i, char *s)
{
	worker_fx_send(f, i, s, strlen(s));
	free(s);
}

/* --- events and clients ------------------------------------------------ */

char *
worker_fx_sa(const char *uid, const char *cs, const char *stale, size_t pad)
{
	char	*b, *p;
	size_t	 len = 1024 + pad;

	b = malloc(len);
	assert_non_null(b);
	p = malloc(pad + 1);
	assert_non_null(p);
	memset(p, 'x', pad);
	p[pad] = '\0';
	snprintf(b, len, "<?xml version=\"1.0\" encoding=\"UTF-8\" "
	    "standalone=\"yes\"?>\n<event version=\"2.0\" uid=\"%s\" "
	    "type=\"a-f-G-U-C\" how=\"m-g\" time=\"2026-11-23T08:00:00Z\" "
	    "start=\"2026-11-23T08:00:00Z\" stale=\"%s\"><point lat=\"1\" "
	    "lon=\"2\" hae=\"0\" ce=\"9\" le=\"9\"/><detail><contact "
	    "callsign=\"%s\" endpoint=\"*:-1:stcp\"/><__group name=\"Cyan\" "
	    "role=\"Team Member\"/><remarks>%s</remarks></detail></event>",
	    uid, stale, cs, p);
	free(p);
	return (b);
}

/* What takd relays of an event: from "<event", its declaration dropped. */
const char *
worker_fx_body(const char *ev)
{
	const char	*p = strstr(ev, "<event");

	assert_non_null(p);
	assert_ptr_not_equal(p, ev);	/* worker_fx_sa() has a declaration */
	return (p);
}

/* dests: "callsign=X" or "uid=Y", NULL-terminated; "" gives <marti/>. */
char *
worker_fx_chat(const char *uid, const char *text, const char *const *dests)
{
	char	 d[2048] = "", one[300], *b;
	size_t	 len;

	for (; dests != NULL && *dests != NULL; dests++) {
		const char	*eq = strchr(*dests, '=');

		if (eq == NULL)
			continue;
		snprintf(one, sizeof(one), "<dest %.*s=\"%s\"/>",
		    (int)(eq - *dests), *dests, eq + 1);
		strncat(d, one, sizeof(d) - strlen(d) - 1);
	}
	len = 1024 + strlen(d) + strlen(text);
	b = malloc(len);
	assert_non_null(b);
	snprintf(b, len, "<event version=\"2.0\" uid=\"%s\" type=\"b-t-f\" "
	    "how=\"h-g-i-g-o\" time=\"2026-11-23T08:00:00Z\" "
	    "start=\"2026-11-23T08:00:00Z\" stale=\"%s\"><point lat=\"0\" "
	    "lon=\"0\" hae=\"0\" ce=\"9\" le=\"9\"/><detail><remarks>%s"
	    "</remarks>%s%s%s</detail></event>", uid, WORKER_FX_STALE, text,
	    dests != NULL ? "<marti>" : "", d, dests != NULL ? "</marti>" : "");
	return (b);
}

char *
worker_fx_ping(const char *uid)
{
	char	*b = malloc(512);

	assert_non_null(b);
	snprintf(b, 512, "<event version=\"2.0\" uid=\"%s-ping\" "
	    "type=\"t-x-c-t\" how=\"m-g\" time=\"2026-11-23T08:00:00Z\" "
	    "start=\"2026-11-23T08:00:00Z\" stale=\"%s\"><point lat=\"0\" "
	    "lon=\"0\" hae=\"0\" ce=\"9999999\" le=\"9999999\"/><detail/>"
	    "</event>", uid, WORKER_FX_STALE);
	return (b);
}

/*
 * What one test client sends to fill queues stands for a whole fleet's
 * traffic: the per-client budgets (test_budget.c) would drop it.
 */
void
worker_fx_budgets_off(struct worker_fx *f)
{
	f->cfg.max_events_per_second = 0;
	f->cfg.max_bytes_per_second = 0;
	f->cfg.max_sa_bytes = f->cfg.max_chat_bytes = 0;
}

/* Client i presents a certificate of this subject (and serial). */
void
worker_fx_as_cert(struct worker_fx *f, int i, const char *subject,
    const char *serial)
{
	snprintf(f->c[i]->tls.subject, sizeof(f->c[i]->tls.subject), "%s",
	    subject);
	snprintf(f->c[i]->tls.serial_hex, sizeof(f->c[i]->tls.serial_hex),
	    "%s", serial);
	f->c[i]->plain = false;
	registry_owner_init(&f->w, f->c[i]);
}

/* Everything client i can read now, appended to f->rx[i]. */
void
worker_fx_recv(struct worker_fx *f, int i)
{
	char	 buf[65536];
	ssize_t	 n;

	while ((n = recv(f->peer[i], buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		f->rx[i] = realloc(f->rx[i], f->rxlen[i] + (size_t)n + 1);
		assert_non_null(f->rx[i]);
		memcpy(f->rx[i] + f->rxlen[i], buf, (size_t)n);
		f->rxlen[i] += (size_t)n;
		f->rx[i][f->rxlen[i]] = '\0';
	}
}

/* Events client i received since the last call; forgets them. */
int
worker_fx_events(struct worker_fx *f, int i, char *last, size_t lastlen)
{
	const char	*p;
	int		 n = 0;

	worker_fx_recv(f, i);
	if (f->rx[i] == NULL)
		return (0);
	/* "<event" then a space, '>' or '/': self-closing events count. */
	for (p = f->rx[i]; (p = strstr(p, "<event")) != NULL; p += 6)
		if (p[6] == ' ' || p[6] == '>' || p[6] == '/')
			n++;
	if (last != NULL && lastlen > 0)
		snprintf(last, lastlen, "%s", f->rx[i]);
	free(f->rx[i]);
	f->rx[i] = NULL;
	f->rxlen[i] = 0;
	return (n);
}

/* Bind client i as uid/callsign with an SA, and clear what others got. */
void
worker_fx_bind(struct worker_fx *f, int i, const char *uid, const char *cs)
{
	int	 j;

	worker_fx_send_str(f, i, worker_fx_sa(uid, cs, WORKER_FX_STALE, 0));
	assert_string_equal(f->c[i]->s.uid, uid);
	assert_string_equal(f->c[i]->s.callsign, cs);
	for (j = 0; j < WORKER_FX_MAX; j++)
		if (f->c[j] != NULL)
			(void)worker_fx_events(f, j, NULL, 0);
}
