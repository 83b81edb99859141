/*
 * Who is connected, twice: a local index of this worker's sessions by bound
 * uid and by callsign (directed delivery looks recipients up here, never in
 * LMDB), and the shared registry in LMDB (shared/store.h), written in
 * batches that registry_commit() applies once per loop iteration, or for
 * positions alone every REGISTRY_SA_COMMIT_MS (or [cot] sa_flush_delay).
 * See docs/datapath.md.
 */
#ifndef TAKD_WORKER_REGISTRY_H
#define TAKD_WORKER_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cot/cot_parse.h"

struct channels_off;
struct conn;
struct deliver;
struct store_stats;
struct worker;

/*
 * Who a session is, for identity ownership: the subject of its client
 * certificate, or "tcp:ADDR" (the peer's address without its port) for a
 * plain TCP session.  As long as an LMDB key at most.
 */
#define REGISTRY_OWNER_MAX	512

/* What registry_claim_*() found. */
enum registry_claim {
	REGISTRY_FREE,		/* nobody else holds it */
	REGISTRY_OWN,		/* held (or stored) by the same owner only */
	REGISTRY_OTHER		/* held (or stored) by another owner */
};

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
/*
 * How long a stored position may wait in the batch, or [cot]
 * sa_flush_delay when longer: what a client that connects to another
 * worker may miss of the latest SA (it gets the one before).
 */
#define REGISTRY_SA_COMMIT_MS	10
/* registry_commit() when the batch holds a connect or has waited enough. */
void	 registry_commit_due(struct worker *, int64_t now_ms);
/*
 * registry_commit() when the batch holds positions: before a replay reads
 * the store.  A batch of connects alone waits for the end of the turn, so
 * that a storm of connects still costs one commit a turn.
 */
void	 registry_commit_sa(struct worker *);
/* Milliseconds until registry_commit_due() commits; -1: nothing batched. */
int64_t	 registry_commit_wait(const struct worker *, int64_t now_ms);
/* The counters of the worker's store (all 0 before registry_init()). */
void	 registry_get_stats(const struct worker *, struct store_stats *);
/*
 * The channels user turned off (shared/channels.h) from LMDB into off:
 * 0 (off->n 0 for none), or -1 logged (off->n 0: every group on).
 */
int	 registry_channels(struct worker *, const char *user,
	    struct channels_off *off);

/*
 * The session completed its handshake: record it, identity unknown; again
 * when its user or groups changed.
 */
void	 registry_connect(struct worker *, struct conn *);
/*
 * The session's uid, callsign, group or role changed (s.uid set): index it
 * under the new uid and callsign and record it.  Its user and groups
 * (docs/groups.md) are recorded with it, here and by registry_connect().
 */
void	 registry_bind(struct worker *, struct conn *);
/*
 * The session is closing: true when another session still holds its uid,
 * here or in another worker (then no disconnect notice is due).
 */
bool	 registry_uid_elsewhere(struct worker *, struct conn *);
/* Whether a local session holds uid (bound to it), by the local index. */
bool	 registry_uid_local(struct worker *, const char *uid);
/*
 * The session was established: fill its owner (s.owner) and whether its
 * certificate's CN is one of [cot] relay_certs (s.relay).
 */
void	 registry_owner_init(struct worker *, struct conn *);
/*
 * Who holds uid besides c: a live session (here or on another worker)
 * bound to it and, with sticky, the owner of uid's stored SA.  REGISTRY_
 * OTHER copies another owner into other (REGISTRY_OWNER_MAX bytes);
 * *remote (unless NULL) says whether a session of c's owner on another
 * worker holds it.  A store error counts as nobody: the local index is
 * still exact.
 */
enum registry_claim registry_claim_uid(struct worker *, struct conn *,
	    const char *uid, bool sticky, char *other, bool *remote);
/* The same for a live callsign. */
enum registry_claim registry_claim_callsign(struct worker *, struct conn *,
	    const char *callsign, char *other);
/*
 * c just bound its uid, which sessions of the same owner held: close them,
 * here now and on the other workers (with remote) through the mesh.
 */
void	 registry_takeover(struct worker *, struct conn *, bool remote);
/*
 * DELIVER_F_TAKEOVER from the mesh (or from here): close the local
 * sessions but the sender bound to d's uid whose owner is d's event bytes.
 * Returns how many.
 */
size_t	 registry_takeover_local(struct worker *, const struct deliver *);
/* Remove the session from the indexes and from the store. */
void	 registry_disconnect(struct worker *, struct conn *);
/* An event arrived: last seen (written at most once a second). */
void	 registry_touch(struct worker *, struct conn *, int64_t wall_ms);
/*
 * An SA the session owns (its own, or a relay's other identity), for the
 * replay to clients that connect later: its stale time cut to [cot]
 * sa_max_stale from now (in the stored bytes too), stored with the
 * session's owner and serial ([cot] max_sa_bytes bounds what reaches it)
 * and its IN groups (only sessions whose OUT groups meet them get it).
 */
void	 registry_sa(struct worker *, struct conn *, const struct cot_view *,
	    const void *event, size_t len, int64_t wall_ms);
/*
 * The event's bytes with the stale attribute of its <event> tag (at
 * event_off) replaced by stale_ms, into out (outlen bytes): the new length,
 * or 0 when there is no such attribute or no room.
 */
size_t	 registry_stale_rewrite(const void *event, size_t len,
	    size_t event_off, int64_t stale_ms, char *out, size_t outlen);

/*
 * Sessions by client certificate ([tls] max_sessions_per_cert): an
 * established TLS session is indexed under its certificate's serial from
 * conn_established() to its close.
 */
void	 registry_cert_add(struct worker *, struct conn *);
void	 registry_cert_del(struct worker *, struct conn *);
/*
 * The sessions other than c of c's certificate: the local ones (exact; the
 * count in *here, the oldest in *oldest, NULL when none) plus the other
 * workers' in the store, which lags by the loop turn they have not
 * committed yet.  Counting stops at max.  A store error counts the local
 * ones only (logged by the store).
 */
size_t	 registry_cert_count(struct worker *, struct conn *, size_t max,
	    size_t *here, struct conn **oldest);

/*
 * Call fn for every local session whose bound uid (COT_DEST_UID) or
 * callsign (COT_DEST_CALLSIGN) is value.
 */
void	 registry_match(struct worker *, enum cot_dest_kind, const char *value,
	    void (*fn)(struct worker *, struct conn *, void *), void *);

/*
 * The latest SA of every client, stale ones (at wall_ms), those stored
 * after stored_by (0: none) and skip_uid's (NULL or "": none) excepted,
 * for a session that just connected or whose groups changed: fn is called
 * with each event's uid, its sender's IN groups (a list of names,
 * shared/grouplist.h) and its bytes (borrowed for the call), until it
 * returns non-zero.  -1 on a store error.
 */
int	 registry_foreach_sa(struct worker *, int64_t wall_ms,
	    int64_t stored_by, const char *skip_uid, int (*fn)(const char *uid,
	    const char *groups, const void *, size_t, void *), void *);

#endif
