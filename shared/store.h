/*
 * Shared client state in LMDB (state_dir/data.mdb): the registry of connected
 * clients and the latest SA event per uid.  docs/state.md describes the
 * databases, the record encodings and the durability choice.  store.c (the
 * environment, transactions, batching), store_conn.c (the registry and its
 * uid index), store_sa.c (the latest SA per uid) and store_channels.c
 * (the channels users turned off) implement it.
 *
 * Every process opens its own store after fork: an LMDB environment must not
 * cross a fork.  store_open() in a forked child first releases any store the
 * child inherited (never use one), so that closing it later cannot drop the
 * locks of the child's own environment.
 *
 * Writes are batched: store_batch_*() only copy into memory, and
 * store_commit() applies the whole batch in one short write transaction (the
 * worker calls it once per loop iteration, before sleeping).  Reads run in a
 * read transaction that is reset, not freed, between uses; the callbacks of
 * the foreach functions must not call store_commit() or store_close().
 */
#ifndef TAKD_STORE_H
#define TAKD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_DEFAULT_MAPSIZE	((size_t)256 << 20)
#define STORE_DEFAULT_READERS	126
#define STORE_MAP_GROWTH	16	/* up to 16x the map size asked */

/* Connection ids: the worker slot in the top 16 bits, a sequence below. */
#define STORE_CONN_ID(worker, seq) \
	(((uint64_t)(worker) << 48) | ((uint64_t)(seq) & 0xffffffffffffULL))
#define STORE_CONN_WORKER(id)	((unsigned)((id) >> 48))
#define STORE_WORKER_MAX	0xffffU

/* Field sizes, NUL included.  Longer values must be refused by the caller. */
#define STORE_UID_SIZE		256
#define STORE_CALLSIGN_SIZE	128
#define STORE_GROUP_SIZE	64
#define STORE_ROLE_SIZE		64
#define STORE_SUBJECT_SIZE	512
#define STORE_SERIAL_SIZE	128
#define STORE_PEER_SIZE		80
#define STORE_TYPE_SIZE		64
#define STORE_USER_SIZE		64	/* a users file name (grouplist.h) */
/* A list of group names, "A,B" (shared/grouplist.h). */
#define STORE_GROUPS_SIZE	4096
#define STORE_SA_MAX		((size_t)1 << 20)	/* event bytes */
/*
 * An SA's owner: the subject of the certificate that stored it ("tcp:ADDR"
 * for a plain TCP session), one LMDB key at most (511 bytes).
 */
#define STORE_OWNER_SIZE	512

/* A last-seen touch that advances the time by less than this is not written. */
#define STORE_TOUCH_GRAIN_MS	1000

/* store_open() flags */
#define STORE_OPEN_RDONLY	0x01	/* takctl: no writes */
#define STORE_OPEN_START	0x02	/* supervisor, once per start */

struct store;

/* One connected client.  Strings are NUL-terminated, "" when not known yet. */
struct store_client {
	uint64_t	 conn_id;
	unsigned	 worker;	/* == STORE_CONN_WORKER(conn_id) */
	char		 uid[STORE_UID_SIZE];	/* "" until bound */
	char		 callsign[STORE_CALLSIGN_SIZE];
	char		 group[STORE_GROUP_SIZE];
	char		 role[STORE_ROLE_SIZE];
	/* The peer certificate's subject, and its serial in hex. */
	char		 subject[STORE_SUBJECT_SIZE];
	char		 serial[STORE_SERIAL_SIZE];
	char		 peer[STORE_PEER_SIZE];	/* "addr:port" */
	/*
	 * Access (docs/groups.md): the users file's user ("" none) and the
	 * session's groups, IN and OUT halves, each a list of names.
	 */
	char		 user[STORE_USER_SIZE];
	char		 groups_in[STORE_GROUPS_SIZE];
	char		 groups_out[STORE_GROUPS_SIZE];
	uint64_t	 connected_ms;	/* ms since the epoch */
	uint64_t	 last_seen_ms;
	/* The session's stream: TAK protocol v1 (docs/takproto.md), or XML. */
	bool		 v1;
	/*
	 * The client certificate's notAfter, seconds since the epoch; 0
	 * unknown (no certificate, or a record an older takd wrote).
	 */
	int64_t		 not_after;
};

/* The latest SA of a uid, as handed to store_foreach_sa() callbacks. */
struct store_sa {
	char			 uid[STORE_UID_SIZE];
	char			 type[STORE_TYPE_SIZE];
	uint64_t		 stale_ms;
	uint64_t		 time_ms;	/* when takd stored it */
	unsigned		 flags;		/* STORE_SA_F_* */
	char			 owner[STORE_OWNER_SIZE];	/* "" unknown */
	char			 serial[STORE_SERIAL_SIZE];	/* "" none */
	/* Its sender's IN groups when stored: who may have it replayed. */
	char			 groups[STORE_GROUPS_SIZE];
	const unsigned char	*event;	/* borrowed, for the call */
	size_t			 len;
};

#define STORE_SA_F_CLAMPED	0x01	/* its stale time was cut short */

/*
 * One SA to store (store_batch_sa_put).  The owner and serial say whose it
 * is: an owner keeps at most max_per_owner SAs (0: no cap), its oldest
 * going first, and store_sa_delete() finds them by owner CN or serial.
 */
struct store_sa_put {
	const char	*uid;
	const char	*type;		/* NULL: "" */
	const char	*owner;		/* NULL or "": unowned */
	const char	*serial;	/* NULL or "": none */
	/*
	 * The sender's IN groups (a list of names, shared/grouplist.h): the
	 * replay gives the SA only to sessions whose OUT groups meet them.
	 * NULL or "": nobody.
	 */
	const char	*groups;
	uint64_t	 stale_ms;
	uint64_t	 now_ms;
	unsigned	 flags;		/* STORE_SA_F_* */
	unsigned	 max_per_owner;
	const void	*event;
	size_t		 len;
};

/* Which SAs store_sa_delete() removes. */
enum store_sa_sel {
	STORE_SA_SEL_ALL,
	STORE_SA_SEL_UID,	/* value: the uid */
	STORE_SA_SEL_CN,	/* value: the owner certificate's CN */
	STORE_SA_SEL_SERIALS,	/* serials: n hex serials (any order) */
	STORE_SA_SEL_SERIAL_FN,	/* serial_fn(hex serial, arg) says yes */
	STORE_SA_SEL_STALE	/* stale for at least max_age_ms at now_ms */
};

struct store_sa_match {
	enum store_sa_sel	 sel;
	const char		*value;
	const char *const	*serials;
	size_t			 n;
	bool			(*serial_fn)(const char *, void *);
	void			*arg;
	uint64_t		 now_ms;
	uint64_t		 max_age_ms;
};

/*
 * The counters are this process's; map_used is the environment's, the same
 * in every process that has it open.
 */
struct store_stats {
	uint64_t	 commits;	/* write transactions committed */
	/*
	 * Write transactions that failed or were refused (read-only store,
	 * inside a read): a batch lost, or an immediate write.
	 */
	uint64_t	 commit_failures;
	uint64_t	 ops_dropped;	/* batched operations lost or refused */
	uint64_t	 map_grows;
	size_t		 mapsize;	/* map size in bytes, as mapped here */
	size_t		 map_max;	/* what the map may grow to */
	/* Bytes of the data file in use: its pages up to the last one used. */
	size_t		 map_used;
	/* SAs removed at a commit to keep an owner's or the total cap. */
	uint64_t	 sa_evicted;
};

/*
 * Open (creating when allowed) the environment in dir, which may be relative
 * ("." once the supervisor has chdir()ed into state_dir).  mapsize 0 and
 * max_readers 0 pick the defaults; every process holds one reader slot, so
 * max_readers must exceed the number of processes (the first opener decides).
 *
 * STORE_OPEN_START is for the supervisor's open at start, before any worker
 * exists: a state that a system crash may have torn (see docs/state.md) is
 * discarded and the store starts empty.  The START store's store_close()
 * flushes the file and marks it clean: call it after every worker is gone.
 * With STORE_OPEN_RDONLY, a missing state is an error (nothing is created).
 *
 * Returns NULL with a message in err on error.
 */
struct store	*store_open(const char *dir, size_t mapsize,
		    unsigned max_readers, int flags, char *err, size_t errlen);
/* Pending batched operations are dropped, not committed.  NULL is a no-op. */
void		 store_close(struct store *);

/*
 * Batched writes: copied into the batch, applied by the next store_commit()
 * in order.  Return -1 (and log) when an argument is out of range or the batch
 * is over its cap; the operation is then dropped and counted.
 */
int	 store_batch_client(struct store *, const struct store_client *);
int	 store_batch_client_del(struct store *, uint64_t conn_id);
/* Only the newest touch per connection is kept; missing connections ignored. */
int	 store_batch_touch(struct store *, uint64_t conn_id,
	    uint64_t now_ms);
/* Supersedes the uid's previous SA (the same as put, without owner). */
int	 store_batch_sa(struct store *, const char *uid, const char *type,
	    uint64_t stale_ms, uint64_t now_ms, const void *event, size_t len);
int	 store_batch_sa_put(struct store *, const struct store_sa_put *);
/*
 * The SAs together (uid, record and indexes) may take max_bytes at most
 * (0: no cap): a commit that goes over removes the oldest stored first.
 */
void	 store_set_sa_max_bytes(struct store *, uint64_t max_bytes);
/* Apply the batch in one write transaction.  The batch is empty afterwards. */
int	 store_commit(struct store *);

/*
 * A uid that store_del_worker() took out of the registry: a connection it
 * removed had bound it, and no connection of any worker holds it any more,
 * so the other clients must be told that it left.  Borrowed for the call.
 */
struct store_departed {
	const char	*uid;
	const char	*type;	/* the type of its latest SA, "" when none */
	/* The IN groups of its last connection: who may be told. */
	const char	*groups;
};

/*
 * Immediate writes, each one transaction (supervisor only): they return how
 * many entries they removed, or -1.  store_reset_clients() empties the
 * registry (a fresh start: nothing is connected); store_del_worker() removes
 * every connection of a worker slot (after reaping it) and, once that is
 * committed, calls departed (unless NULL) for every uid left without a
 * connection, once each, until it returns non-zero.
 */
long	 store_reset_clients(struct store *);
long	 store_del_worker(struct store *, unsigned worker,
	    int (*departed)(const struct store_departed *, void *), void *);
/* Delete SA entries that have been stale for at least max_age_ms. */
long	 store_sa_purge(struct store *, uint64_t now_ms,
	    uint64_t max_age_ms);
/* Delete the SA entries that m selects; how many, or -1. */
long	 store_sa_delete(struct store *, const struct store_sa_match *m);
/*
 * Delete the SA entries stored by certificates of these serials (hex), or
 * of the serials for which revoked() says true (the CRL in force).
 */
long	 store_sa_purge_serials(struct store *, const char *const *serials,
	    size_t n);
long	 store_sa_purge_revoked(struct store *,
	    bool (*revoked)(const char *serial, void *), void *arg);
/* Clear the reader slots of dead processes; *dead gets how many. */
int	 store_reader_check(struct store *, int *dead);

/*
 * Reads.  Callbacks return 0 to go on, anything else to stop early; the
 * functions return 0 (also when stopped) or -1 on a store error.
 */
int	 store_foreach_client(struct store *,
	    int (*)(const struct store_client *, void *), void *);
/*
 * SA entries with stale_ms > now_ms, except skip_uid's (NULL: none), the
 * most recently stored first: a flood of old entries cannot push a live
 * client out of a replay that stops early.
 */
int	 store_foreach_sa(struct store *, uint64_t now_ms,
	    const char *skip_uid, int (*)(const struct store_sa *, void *),
	    void *);
/*
 * The owner of uid's stored SA into owner (STORE_OWNER_SIZE bytes): 0, or
 * 1 when uid has no SA (or an unowned one), -1 on error.
 */
int	 store_get_sa_owner(struct store *, const char *uid, char *owner);
/* 0 and *c filled when found, 1 when not, -1 on error. */
int	 store_get_client(struct store *, uint64_t conn_id,
	    struct store_client *);
/*
 * Connection ids bound to uid, in ascending order: up to max in ids, the
 * total in *n (which may exceed max).
 */
int	 store_lookup_uid(struct store *, const char *uid, uint64_t *ids,
	    size_t max, size_t *n);
/* The same for the connections whose callsign is callsign. */
int	 store_lookup_callsign(struct store *, const char *callsign,
	    uint64_t *ids, size_t max, size_t *n);

/*
 * Connections whose client certificate has serial (hex, as recorded),
 * those of worker skip_worker left out, counted up to max into *n.
 */
int	 store_count_serial(struct store *, const char *serial,
	    unsigned skip_worker, size_t max, size_t *n);

/*
 * The channels user turned off (shared/channels.h, encoded): into buf (cap
 * bytes), its length in *len; 0, 1 when the user has none (everything
 * on), -1 on error (also a value longer than cap).
 */
int	 store_get_channels(struct store *, const char *user, char *buf,
	    size_t cap, size_t *len);
/*
 * Record them, an immediate write (the supervisor's); len 0 removes the
 * user's entry.  0, or -1 logged.
 */
int	 store_put_channels(struct store *, const char *user, const char *rec,
	    size_t len);

void	 store_get_stats(const struct store *, struct store_stats *);
/*
 * The id of the last committed write transaction (any process's): a
 * reader learns whether anything changed without a read transaction (the
 * console's event feed, docs/console.md).  0 on error.
 */
uint64_t store_last_txn(struct store *);

#endif
