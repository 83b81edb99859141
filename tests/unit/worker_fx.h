/*
 * The worker fixture of the data-path unit tests (test_route.c,
 * test_budget.c): one struct worker without its loop, its LMDB store in a
 * temp dir that is the working directory during the test, and plain-TCP
 * sessions on socketpairs (the real conn_new() with a [tcp] acceptor, no
 * TLS) that the test drives as epoll would, and the events and client ends
 * the tests send and read.  Fails the running cmocka test on error.
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

/*
 * Events and clients of the data-path tests (test_route.c, test_groups.c).
 * The events are allocated (the caller frees them, or worker_fx_send_str()
 * does); WORKER_FX_STALE is a stale time far ahead.
 */
#define WORKER_FX_STALE	"2099-01-01T00:00:00.000Z"

/*
 * A position of uid/callsign cs with an XML declaration, stale at stale,
 * padded with pad bytes of remarks.
 */
char		*worker_fx_sa(const char *uid, const char *cs,
		    const char *stale, size_t pad);
/* What takd relays of an event: from "<event", its declaration dropped. */
const char	*worker_fx_body(const char *ev);
/*
 * A chat; dests: "callsign=X" or "uid=Y", NULL-terminated; an empty list
 * gives <marti/>, NULL no <marti> at all.
 */
char		*worker_fx_chat(const char *uid, const char *text,
		    const char *const *dests);
/* A ping of uid. */
char		*worker_fx_ping(const char *uid);
/*
 * What one test client sends stands for a whole fleet's traffic: the
 * per-client budgets (test_budget.c) would drop it.
 */
void		 worker_fx_budgets_off(struct worker_fx *);
/* Client i presents a certificate of this subject (and serial). */
void		 worker_fx_as_cert(struct worker_fx *, int i, const char *subject,
		    const char *serial);
/* Everything client i can read now, appended to rx[i]. */
void		 worker_fx_recv(struct worker_fx *, int i);
/*
 * The events client i received since the last call (their text into last
 * when not NULL); forgets them.
 */
int		 worker_fx_events(struct worker_fx *, int i, char *last,
		    size_t lastlen);
/* Bind client i as uid/callsign with an SA; clear what the others got. */
void		 worker_fx_bind(struct worker_fx *, int i, const char *uid,
		    const char *cs);

#endif
