/*
 * What the parts of the store share, and nothing else includes: struct
 * store, the pending batch, the database handles, the byte codecs and the
 * helpers each file calls in another.  The public API is store.h.
 *
 *   store.c       the environment (open, close, crash marker, map growth),
 *                 transactions and reads, every write transaction (the
 *                 batch's commit, the supervisor's immediate writes), the
 *                 walk that deletes, reader check, stats;
 *   store_conn.c  the registry of connections and the uid index: client
 *                 records, their batched writes, a dead worker's cleanup,
 *                 lookups;
 *   store_sa.c    the latest SA per uid: batching, purge, replay;
 *   store_channels.c  the channels each user turned off.
 */
#ifndef TAKD_STORE_INT_H
#define TAKD_STORE_INT_H

#include <sys/types.h>

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "shared/store.h"

#define STORE_MAGIC		0x53544f52	/* "STOR" */
#define STORE_DEAD_MAGIC	0x44454144	/* inherited, released */

#define STORE_SA_VERSION	3
#define STORE_SA_HDR		24	/* docs/state.md */
#define STORE_SCHEMA		3	/* meta "schema": the SA layout */

#define STORE_BATCH_BYTES	((size_t)32 << 20)
#define STORE_BATCH_OPS		((size_t)1 << 20)

#define STORE_DIR_MAX		(PATH_MAX - 64)	/* + file names */

enum store_op_kind {
	STORE_OP_CLIENT,
	STORE_OP_CLIENT_DEL,
	STORE_OP_SA
};

struct store_op {
	enum store_op_kind	 kind;
	uint64_t		 conn_id;
	unsigned		 max_per_owner;	/* SA */
	/* Offsets in the arena: the key (SA: the uid), the encoded value. */
	size_t			 koff, klen;
	size_t			 voff, vlen;
};

struct store_touch {
	uint64_t	 conn_id;
	uint64_t	 ms;
};

enum {
	STORE_DB_CLIENTS,
	STORE_DB_UIDX,
	STORE_DB_SA,
	STORE_DB_CSIDX,		/* callsign -> connection ids */
	STORE_DB_SA_TIME,	/* stored time + uid -> "" */
	STORE_DB_SA_OWNER,	/* owner -> stored time + uid (dups) */
	STORE_DB_META,		/* "schema", "sa_bytes" */
	STORE_DB_SIDX,		/* certificate serial -> connection ids */
	STORE_DB_CHANNELS,	/* user -> its channels turned off */
	STORE_NDB
};

/* Scan order (store_scan_dir). */
#define STORE_SCAN_REVERSE	0x01

struct store {
	unsigned		 magic;
	MDB_env			*env;
	MDB_dbi			 dbi[STORE_NDB];
	bool			 no_channels;	/* read-only, made before them */
	MDB_txn			*rtxn;	/* reset between reads */
	MDB_cursor		*rcur[STORE_NDB];	/* renewed with it */
	bool			 rcur_busy[STORE_NDB];
	unsigned		 rdepth;	/* nested reads */
	pid_t			 pid;	/* the opener's */
	int			 flags;
	dev_t			 dev;
	ino_t			 ino;
	size_t			 map_max;
	char			 dir[STORE_DIR_MAX];
	char			 boot[64];
	struct store		*next;	/* store_list */

	struct store_op		*ops;	/* the pending batch */
	size_t			 nops, opscap;
	unsigned char		*arena;
	size_t			 alen, acap;
	struct store_touch	*touches;
	size_t			 ntouch, touchcap;
	size_t			 refused;
	uint64_t		 sa_max_bytes;	/* 0: no cap */
	uint64_t		 evicting;	/* by the commit under way */
	/* meta "sa_bytes" inside the write under way, written at its end */
	bool			 sa_bytes_loaded;
	bool			 sa_bytes_dirty;
	uint64_t		 sa_bytes;

	struct store_stats	 stats;
};

/* The reads' visitors: one argument for every kind of walk. */
struct store_visit {
	int		(*client_cb)(const struct store_client *, void *);
	int		(*sa_cb)(const struct store_sa *, void *);
	void		*arg;
	struct store	*store;
	struct store_sa	*sa;		/* store_foreach_sa() fills it */
	char		*owner;		/* store_get_sa_owner() */
	struct store_client *client;	/* store_get_client() */
	uint64_t	 now_ms;
	const char	*skip;
	size_t		 skiplen;
	uint64_t	*ids;
	size_t		 max, n;
	unsigned	 skip_worker;	/* store_count_serial() */
	size_t		 bad;
};

/* MDB_val points at data LMDB only reads (a key, a value to put). */
static inline void *
store_ro(const void *p)
{
	return ((void *)(uintptr_t)p);
}

static inline void
store_put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static inline void
store_put64(unsigned char *p, uint64_t v)
{
	int	 i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static inline unsigned
store_get16(const unsigned char *p)
{
	return ((unsigned)p[0] << 8 | p[1]);
}

static inline uint64_t
store_get64(const unsigned char *p)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (v);
}

/* store.c */
bool	 store_usable(struct store *, const char *what, bool write);
int	 store_txn_begin(struct store *, unsigned flags, MDB_txn **);
int	 store_scan(struct store *, const char *what, int db,
	    const MDB_val *key, int (*visit)(const MDB_val *, const MDB_val *,
	    void *), void *);
/* The same, newest key first with STORE_SCAN_REVERSE (no key then). */
int	 store_scan_dir(struct store *, const char *what, int db,
	    const MDB_val *key, unsigned flags, int (*visit)(const MDB_val *,
	    const MDB_val *, void *), void *);
/* The read transaction of the scan under way (for the visitors' gets). */
MDB_txn	*store_rtxn(struct store *);
int	 store_visit_done(struct store *, const struct store_visit *,
	    const char *what, int rc);
int	 store_refuse(struct store *, const char *what);
int	 store_array_grow(void **p, size_t *cap, size_t need, size_t elem,
	    size_t max);
struct store_op	*store_op_add(struct store *, enum store_op_kind,
		    uint64_t conn_id, size_t len);
/*
 * Every write: apply() in one write transaction, then the commit, counted
 * in the stats.  A full map is grown once and apply() run again from the
 * start, so it must rebuild whatever it keeps in arg.  0, or -1 logged with
 * what.
 */
int	 store_write(struct store *, const char *what,
	    int (*apply)(struct store *, MDB_txn *, void *), void *);
int	 store_cull(struct store *, MDB_txn *, int db, const MDB_val *from,
	    int (*cull)(struct store *, MDB_txn *, const MDB_val *,
	    const MDB_val *, void *, int *), void *, long *n);

/*
 * store_sa.c: the type an SA value names (not NUL-terminated), -1 when the
 * value is not one takd wrote.
 */
int	 store_sa_type(const MDB_val *, const char **type, size_t *len);
/* Apply one batched SA put, with its indexes and caps. */
int	 store_apply_sa(struct store *, MDB_txn *, const struct store_op *);
/*
 * Around every write that may touch SAs: forget (begin) or write (end) the
 * SA byte count kept in memory during the write.
 */
void	 store_sa_begin(struct store *);
int	 store_sa_end(struct store *, MDB_txn *);
/*
 * At start: an SA database of an older layout is emptied (its entries have
 * no indexes), the meta records written.
 */
int	 store_sa_migrate(struct store *, MDB_txn *);

/* store_conn.c: applying a batch's client operations and touches. */
int	 store_apply_client(struct store *, MDB_txn *,
	    const struct store_op *);
/* The serial index's part of a client operation, before the record's. */
int	 store_apply_serial(struct store *, MDB_txn *,
	    const struct store_op *);
int	 store_apply_touch(struct store *, MDB_txn *, uint64_t conn_id,
	    uint64_t ms);

#endif
