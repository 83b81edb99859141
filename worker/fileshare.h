/*
 * File transfer requests (b-f-t-r) that point at this server
 * (docs/datapackages.md, "What the b-f-t-r carries").  ATAK announces a
 * data package with a b-f-t-r whose <fileshare senderUrl> is the URL its
 * upload got; the workers route it like any directed event.  When that
 * URL names this server's api ([pki] server_host, the host name, a
 * loopback or own address, and the port [api] listen is bound to) and a
 * package the store does not hold, its recipients will get 404: the
 * worker logs it (rate-limited, with the sender's uid and certificate)
 * and counts it.  The event is delivered all the same.
 *
 * The worker reads the package store through a read-only LMDB handle
 * (PKGSTORE_RDONLY) of its own, opened after the fork at the first such
 * event (the api process creates the environment, maybe after the worker
 * started) and again at most every FILESHARE_RETRY_MS after a failure.
 * An LMDB reader never waits for the writer, so an upload being committed
 * by the api process never holds a worker up.
 */
#ifndef TAKD_WORKER_FILESHARE_H
#define TAKD_WORKER_FILESHARE_H

#include "cot/cot_parse.h"

struct config;
struct conn;
struct fileshare;
struct worker;

/* NULL when out of memory.  api_port 0: nothing points at us. */
struct fileshare *fileshare_new(const struct config *, unsigned api_port);
void		 fileshare_free(struct fileshare *);	/* NULL: nothing */

/*
 * v, from session c, about to be delivered: when it is a b-f-t-r whose
 * senderUrl points at this server, look its package up and count what
 * the store says (w->cnt.fs_*); an unknown one is logged.
 */
void		 fileshare_check(struct worker *, struct conn *,
		    const struct cot_view *);

#endif
