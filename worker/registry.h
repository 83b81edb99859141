/*
 * Who is connected, twice: a local index of this worker's sessions by bound
 * uid and by callsign (directed delivery looks recipients up here, never in
 * LMDB), and the shared registry in LMDB (shared/store.h), written in
 * batches that registry_commit() applies once per loop iteration.  See
 * docs/datapath.md.
 */
#ifndef TAKD_WORKER_REGISTRY_H
#define TAKD_WORKER_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker/cot_parse.h"

struct conn;
struct store_stats;
struct worker;

/* A session's place in one index (embedded in struct session). */
struct registry_node {
	struct registry_node *next;
	uint64_t	 hash;
	const char	*key;		/* the session's uid or callsign */
	struct conn	*conn;
	bool		 linked;
};

/*
 * Open the store (state_dir is the working directory) and set up the
 * indexes.  -1 when the store cannot be opened: the worker cannot run.
 */
int	 registry_init(struct worker *);
/* Commit what is batched and close the store. */
void	 registry_free(struct worker *);
/* Apply the batched writes (before the loop sleeps). */
void	 registry_commit(struct worker *);
/* The counters of the worker's store (all 0 before registry_init()). */
void	 registry_get_stats(const struct worker *, struct store_stats *);

/* The session completed its handshake: record it, identity unknown. */
void	 registry_connect(struct worker *, struct conn *);
/*
 * The session's uid, callsign, group or role changed (s.uid set): index it
 * under the new uid and callsign and record it.
 */
void	 registry_bind(struct worker *, struct conn *);
/*
 * The session is closing: true when another session still holds its uid,
 * here or in another worker (then no disconnect notice is due).
 */
bool	 registry_uid_elsewhere(struct worker *, struct conn *);
/* Whether a local session holds uid (bound to it), by the local index. */
bool	 registry_uid_local(struct worker *, const char *uid);
/* Remove the session from the indexes and from the store. */
void	 registry_disconnect(struct worker *, struct conn *);
/* An event arrived: last seen (written at most once a second). */
void	 registry_touch(struct worker *, struct conn *, int64_t wall_ms);
/* The session's latest SA, for the replay to clients that connect later. */
void	 registry_sa(struct worker *, struct conn *, const struct cot_view *,
	    const void *event, size_t len, int64_t wall_ms);

/*
 * Call fn for every local session whose bound uid (COT_DEST_UID) or
 * callsign (COT_DEST_CALLSIGN) is value.
 */
void	 registry_match(struct worker *, enum cot_dest_kind, const char *value,
	    void (*fn)(struct worker *, struct conn *, void *), void *);

/*
 * The latest SA of every client, stale ones excepted, for a session that
 * just connected: fn is called with each event's bytes (borrowed for the
 * call) and uid, until it returns non-zero.  -1 on a store error.
 */
int	 registry_foreach_sa(struct worker *, int64_t wall_ms,
	    int (*fn)(const char *uid, const void *, size_t, void *), void *);

#endif
