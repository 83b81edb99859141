/*
 * The worker fixture of the data-path unit tests (test_route.c,
 * test_budget.c): one struct worker without its loop, its LMDB store in a
 * temp dir that is the working directory during the test, and plain-TCP
 * sessions on socketpairs (the real conn_new() with a [tcp] acceptor, no
 * TLS) that the test drives as epoll would.  Fails the running cmocka test
 * on error.
 */
#ifndef TAKD_TESTS_WORKER_FX_H
#define TAKD_TESTS_WORKER_FX_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "shared/config.h"
#include "worker/conn.h"
#include "worker/worker_int.h"

/* Clients a test may connect (slots of c[] and peer[]). */
#define WORKER_FX_MAX	10

/*
 * cfg is config_init()'s with flush_delay 0 (each turn's output is read at
 * once); acc a plain listener (sessions without TLS); dir the temp dir and
 * working directory, cwd the one before.  peer[i] is client i's end of its
 * socketpair, rx[i] a buffer the test may fill with what it read.
 */
struct worker_fx {
	struct worker		 w;
	struct worker_args	 args;
	struct config		 cfg;
	struct acceptor		 acc;
	char			 dir[64];
	char			 cwd[PATH_MAX];
	struct conn		*c[WORKER_FX_MAX];
	int			 peer[WORKER_FX_MAX];
	char			*rx[WORKER_FX_MAX];
	size_t			 rxlen[WORKER_FX_MAX];
	int			 nfds;	/* open at setup */
	size_t			 mem0;	/* outq_mem() at setup */
	bool			 check_mem;	/* see teardown */
};

/*
 * cmocka setup and teardown: *state is the struct worker_fx.  Teardown
 * closes every session, frees rx[], removes the temp dir and checks that
 * no descriptor was left open and, with check_mem, that the memory budget
 * counts what it counted at setup again (no input buffer, outq_mem()).
 */
int		 worker_fx_setup(void **state);
int		 worker_fx_teardown(void **state);

/* Connect client i: a plain session on a socketpair, established. */
struct conn	*worker_fx_connect(struct worker_fx *, int i);
/* Whether client i's session is still open (not closed this turn). */
bool		 worker_fx_alive(const struct worker_fx *, int i);
/*
 * One loop turn's end, as worker.c ends it: the output pass, then the
 * store's commit.
 */
void		 worker_fx_turn(struct worker_fx *);
/*
 * Client i sends bytes (as long as its session is open); the worker reads
 * them as they come and ends its turn.
 */
void		 worker_fx_send(struct worker_fx *, int i, const char *,
		    size_t len);
/* The same with a NUL-terminated string, which it frees. */
void		 worker_fx_send_str(struct worker_fx *, int i, char *s);

#endif
