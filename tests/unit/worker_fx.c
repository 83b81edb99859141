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

#include "tests/unit/unit.h"
#include "tests/unit/worker_fx.h"

#include "worker/outq.h"
#include "worker/registry.h"

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

int
worker_fx_teardown(void **state)
{
	struct worker_fx	*f = *state;
	int			 i;

	f->w.state = WORKER_EXIT;
	conn_close_all(&f->w, false, "test over");
	conn_reap(&f->w);
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
		/* As epoll would report it. */
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
