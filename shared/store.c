/*
 * Shared client state in LMDB: see store.h, and docs/state.md for the
 * databases, the encodings and why MDB_NOSYNC is safe here.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "shared/log.h"
#include "shared/store.h"

#define STORE_MAGIC		0x53544f52	/* "STOR" */
#define STORE_DEAD_MAGIC	0x44454144	/* inherited, released */

#define STORE_REC_VERSION	1
#define STORE_REC_HDR		20	/* docs/state.md */
#define STORE_REC_LASTSEEN	12	/* offset of last_seen_ms */
#define STORE_REC_NFIELDS	7
#define STORE_REC_MAX		(STORE_REC_HDR + 2 * STORE_REC_NFIELDS + \
	STORE_UID_SIZE + STORE_CALLSIGN_SIZE + STORE_GROUP_SIZE + \
	STORE_ROLE_SIZE + STORE_SUBJECT_SIZE + STORE_SERIAL_SIZE + \
	STORE_PEER_SIZE)
#define STORE_SA_VERSION	1
#define STORE_SA_HDR		20	/* docs/state.md */

#define STORE_BATCH_BYTES	((size_t)32 << 20)
#define STORE_BATCH_OPS		((size_t)1 << 20)
#define STORE_ARENA_KEEP	((size_t)1 << 20)
#define STORE_MAPSIZE_MIN	((size_t)64 << 10)

#define STORE_DIR_MAX		(PATH_MAX - 64)	/* + file names */
#define STORE_BOOT_FILE		"store.boot"
#define STORE_BOOT_ID		"/proc/sys/kernel/random/boot_id"

enum store_op_kind {
	STORE_OP_CLIENT,
	STORE_OP_CLIENT_DEL,
	STORE_OP_SA
};

struct store_op {
	enum store_op_kind	 kind;
	uint64_t		 conn_id;
	/* Offsets in the arena: the key (SA: the uid), the encoded value. */
	size_t			 koff, klen;
	size_t			 voff, vlen;
};

struct store_touch {
	uint64_t	 conn_id;
	uint64_t	 ms;
};

enum { STORE_DB_CLIENTS, STORE_DB_UIDX, STORE_DB_SA, STORE_NDB };

struct store {
	unsigned		 magic;
	MDB_env			*env;
	MDB_dbi			 dbi[STORE_NDB];
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

	struct store_stats	 stats;
};

/*
 * Stores opened here or inherited through fork.  An inherited one is
 * released but kept: its read transaction must not be aborted in the child
 * (that would clear the parent's slot in the shared reader table), so it
 * stays referenced from here.
 */
static struct store	*store_list;

static const struct {
	const char	*name;
	size_t		 off;
	size_t		 size;
} store_fields[STORE_REC_NFIELDS] = {
	{ "uid", offsetof(struct store_client, uid), STORE_UID_SIZE },
	{ "callsign", offsetof(struct store_client, callsign),
	    STORE_CALLSIGN_SIZE },
	{ "group", offsetof(struct store_client, group), STORE_GROUP_SIZE },
	{ "role", offsetof(struct store_client, role), STORE_ROLE_SIZE },
	{ "subject", offsetof(struct store_client, subject),
	    STORE_SUBJECT_SIZE },
	{ "serial", offsetof(struct store_client, serial), STORE_SERIAL_SIZE },
	{ "peer", offsetof(struct store_client, peer), STORE_PEER_SIZE },
};

static void
store_put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void
store_put64(unsigned char *p, uint64_t v)
{
	int	 i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static unsigned
store_get16(const unsigned char *p)
{
	return ((unsigned)p[0] << 8 | p[1]);
}

static uint64_t
store_get64(const unsigned char *p)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (v);
}

/* ---- client records ---- */

/* Encoded size of a client record, 0 when a field is not terminated. */
static size_t
store_rec_size(const struct store_client *c)
{
	const char	*f;
	size_t		 i, n, len = STORE_REC_HDR;

	for (i = 0; i < STORE_REC_NFIELDS; i++) {
		f = (const char *)c + store_fields[i].off;
		if ((n = strnlen(f, store_fields[i].size)) ==
		    store_fields[i].size) {
			log_warnx("store: connection %llx: %s not terminated",
			    (unsigned long long)c->conn_id,
			    store_fields[i].name);
			return (0);
		}
		len += 2 + n;
	}
	return (len);
}

static void
store_rec_encode(const struct store_client *c, unsigned char *p)
{
	const char	*f;
	size_t		 i, n;

	p[0] = STORE_REC_VERSION;
	p[1] = 0;
	store_put16(p + 2, c->worker);
	store_put64(p + 4, c->connected_ms);
	store_put64(p + STORE_REC_LASTSEEN, c->last_seen_ms);
	p += STORE_REC_HDR;
	for (i = 0; i < STORE_REC_NFIELDS; i++) {
		f = (const char *)c + store_fields[i].off;
		n = strlen(f);
		store_put16(p, (unsigned)n);
		memcpy(p + 2, f, n);
		p += 2 + n;
	}
}

/* Decode the first nfields strings (1: the uid only); -1 if malformed. */
static int
store_rec_decode(const unsigned char *p, size_t len, size_t nfields,
    struct store_client *c)
{
	char	*f;
	size_t	 i, n, off = STORE_REC_HDR;

	if (len < STORE_REC_HDR || p[0] != STORE_REC_VERSION)
		return (-1);
	c->worker = store_get16(p + 2);
	c->connected_ms = store_get64(p + 4);
	c->last_seen_ms = store_get64(p + STORE_REC_LASTSEEN);
	for (i = 0; i < nfields; i++) {
		if (len - off < 2)
			return (-1);
		n = store_get16(p + off);
		off += 2;
		if (n >= store_fields[i].size || n > len - off)
			return (-1);
		f = (char *)c + store_fields[i].off;
		memcpy(f, p + off, n);
		f[n] = '\0';
		off += n;
	}
	return (nfields < STORE_REC_NFIELDS || off == len ? 0 : -1);
}

/* ---- transactions ---- */

static bool
store_usable(struct store *s, const char *what, bool write)
{
	if (s == NULL || s->magic != STORE_MAGIC || s->env == NULL) {
		log_warnx("store: %s on a closed or invalid store", what);
		return (false);
	}
	if (s->pid != getpid())
		log_warnx("store %s: %s in a process that did not open it",
		    s->dir, what);
	else if (write && (s->flags & STORE_OPEN_RDONLY))
		log_warnx("store %s: %s on a read-only store", s->dir, what);
	else if (write && s->rdepth > 0)
		/* Growing or adopting the map would unmap its pages. */
		log_warnx("store %s: %s inside a read", s->dir, what);
	else
		return (true);
	return (false);
}

/* Another process may have grown the map past ours: adopt its size. */
static int
store_txn_begin(struct store *s, unsigned flags, MDB_txn **txn)
{
	int	 rc;

	rc = mdb_txn_begin(s->env, NULL, flags, txn);
	if (rc == MDB_MAP_RESIZED && (rc = mdb_env_set_mapsize(s->env, 0)) ==
	    0)
		rc = mdb_txn_begin(s->env, NULL, flags, txn);
	return (rc);
}

static void
store_rtxn_drop(struct store *s)
{
	int	 i;

	for (i = 0; i < STORE_NDB; i++) {
		if (s->rcur[i] != NULL)
			mdb_cursor_close(s->rcur[i]);
		s->rcur[i] = NULL;
	}
	if (s->rtxn != NULL)
		mdb_txn_abort(s->rtxn);
	s->rtxn = NULL;
}

static int
store_read_begin(struct store *s, const char *what, MDB_txn **txn)
{
	int	 rc;

	if (!store_usable(s, what, false))
		return (-1);
	if (s->rdepth == 0) {
		rc = s->rtxn != NULL ? mdb_txn_renew(s->rtxn) : MDB_BAD_TXN;
		if (rc != 0) {
			/* MDB_MAP_RESIZED, say: start over with a new one. */
			store_rtxn_drop(s);
			if ((rc = store_txn_begin(s, MDB_RDONLY, &s->rtxn)) !=
			    0) {
				s->rtxn = NULL;
				log_warnx("store %s: %s: read transaction: %s",
				    s->dir, what, mdb_strerror(rc));
				return (-1);
			}
		}
	}
	s->rdepth++;
	*txn = s->rtxn;
	return (0);
}

static void
store_read_end(struct store *s)
{
	if (--s->rdepth == 0)
		mdb_txn_reset(s->rtxn);
}

/*
 * Walk db in a read transaction: every entry, or with key only key's
 * duplicates (one entry for a plain database).  visit() returns 0 to go on.
 */
static int
store_scan(struct store *s, const char *what, int db, const MDB_val *key,
    int (*visit)(const MDB_val *, const MDB_val *, void *), void *arg)
{
	MDB_txn		*txn;
	MDB_cursor	*cur, *own = NULL;
	MDB_val		 k, v;
	int		 rc;

	if (store_read_begin(s, what, &txn) == -1)
		return (-1);
	/* A cached cursor, unless a nested read is using it. */
	if (s->rcur_busy[db])
		rc = mdb_cursor_open(txn, s->dbi[db], &own);
	else if (s->rcur[db] == NULL)
		rc = mdb_cursor_open(txn, s->dbi[db], &s->rcur[db]);
	else
		rc = mdb_cursor_renew(txn, s->rcur[db]);
	if (rc != 0)
		goto done;
	cur = own != NULL ? own : s->rcur[db];
	s->rcur_busy[db] = true;
	if (key != NULL)
		k = *key;
	rc = mdb_cursor_get(cur, &k, &v, key != NULL ? MDB_SET_KEY :
	    MDB_FIRST);
	while (rc == 0 && visit(&k, &v, arg) == 0) {
		if (key != NULL && db != STORE_DB_UIDX)
			break;
		rc = mdb_cursor_get(cur, &k, &v, key != NULL ? MDB_NEXT_DUP :
		    MDB_NEXT);
	}
	if (own != NULL)
		mdb_cursor_close(own);
	else
		s->rcur_busy[db] = false;
 done:
	store_read_end(s);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		log_warnx("store %s: %s: %s", s->dir, what, mdb_strerror(rc));
		return (-1);
	}
	return (0);
}

/* ---- crash marker (STORE_OPEN_START) ---- */

static int
store_read_small(const char *path, char *buf, size_t size)
{
	ssize_t	 n;
	int	 fd;

	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	return (0);
}

/* Replace the marker atomically and durably. */
static int
store_boot_write(const char *dir, const char *boot, bool closed, char *err,
    size_t errlen)
{
	char	 path[PATH_MAX], tmp[PATH_MAX], line[160];
	size_t	 off;
	ssize_t	 w;
	int	 fd, n, saved;

	snprintf(path, sizeof(path), "%s/%s", dir, STORE_BOOT_FILE);
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, STORE_BOOT_FILE);
	n = snprintf(line, sizeof(line), "takd-store 1 %s %s\n",
	    boot[0] != '\0' ? boot : "-", closed ? "closed" : "open");
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		goto fail;
	/* Until an error says why a write came up short (ENOSPC). */
	for (off = 0; off < (size_t)n; off += (size_t)w)
		if ((w = write(fd, line + off, (size_t)n - off)) <= 0) {
			if (w == 0)
				errno = EIO;
			goto fail;
		}
	if (fsync(fd) == -1)
		goto fail;
	/* close() too may report a write that failed late (NFS, quotas). */
	n = close(fd);
	fd = -1;
	if (n == -1)
		goto fail;
	if (rename(tmp, path) == -1)
		goto fail;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1)
		goto fail;
	close(fd);
	return (0);
 fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	snprintf(err, errlen, "%s: %s", path, strerror(saved));
	unlink(tmp);
	return (-1);
}

/*
 * With MDB_NOSYNC a system crash (a process crash is harmless: the page
 * cache survives it) can leave data.mdb torn.  Keep the file only when it was
 * closed cleanly, or last written during this same boot.
 */
static int
store_boot_check(struct store *s, char *err, size_t errlen)
{
	char		 path[PATH_MAX], buf[160], mboot[64], state[8];
	const char	*why = NULL;

	if (store_read_small(STORE_BOOT_ID, s->boot, sizeof(s->boot)) == 0)
		s->boot[strcspn(s->boot, " \t\r\n")] = '\0';
	snprintf(path, sizeof(path), "%s/%s", s->dir, STORE_BOOT_FILE);
	if (store_read_small(path, buf, sizeof(buf)) == -1 ||
	    sscanf(buf, "takd-store 1 %63s %7s", mboot, state) != 2 ||
	    (strcmp(state, "open") != 0 && strcmp(state, "closed") != 0))
		why = "has no valid " STORE_BOOT_FILE " marker";
	else if (strcmp(state, "open") == 0 && (s->boot[0] == '\0' ||
	    strcmp(mboot, s->boot) != 0))
		why = "was not closed before a reboot (a system crash may "
		    "have torn it)";
	snprintf(path, sizeof(path), "%s/data.mdb", s->dir);
	if (why != NULL && access(path, F_OK) == 0) {
		log_warnx("store %s: data.mdb %s; starting with an empty "
		    "state", s->dir, why);
		if (unlink(path) == -1)
			goto fail;
		snprintf(path, sizeof(path), "%s/lock.mdb", s->dir);
		if (unlink(path) == -1 && errno != ENOENT)
			goto fail;
	}
	/* Durable before the first unsynced write can reach the disk. */
	return (store_boot_write(s->dir, s->boot, false, err, errlen));
 fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return (-1);
}

/* ---- open and close ---- */

static void
store_batch_free(struct store *s)
{
	free(s->ops);
	free(s->arena);
	free(s->touches);
	s->ops = NULL;
	s->arena = NULL;
	s->touches = NULL;
	s->nops = s->opscap = s->alen = s->acap = 0;
	s->ntouch = s->touchcap = 0;
}

static void
store_release(struct store *s)
{
	/* LMDB clears only this pid's reader slots: the parent's stay. */
	if (s->env != NULL)
		mdb_env_close(s->env);
	s->env = NULL;
	s->magic = STORE_DEAD_MAGIC;
	store_batch_free(s);
}

static int
store_prepare_dir(struct store *s, char *err, size_t errlen)
{
	char		 path[PATH_MAX];
	struct stat	 st;

	if (stat(s->dir, &st) == -1 && errno == ENOENT &&
	    !(s->flags & STORE_OPEN_RDONLY) && mkdir(s->dir, 0700) == -1) {
		snprintf(err, errlen, "mkdir %s: %s", s->dir, strerror(errno));
		return (-1);
	}
	if (stat(s->dir, &st) == -1) {
		snprintf(err, errlen, "%s: %s", s->dir, strerror(errno));
		return (-1);
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", s->dir);
		return (-1);
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	if (!(s->flags & STORE_OPEN_RDONLY))
		return (0);
	/* A reader must not create a lock file the daemon cannot open. */
	snprintf(path, sizeof(path), "%s/data.mdb", s->dir);
	if (access(path, F_OK) == 0) {
		snprintf(path, sizeof(path), "%s/lock.mdb", s->dir);
		if (access(path, F_OK) == 0)
			return (0);
	}
	snprintf(err, errlen, "%s: no state (%s); is takd running?", s->dir,
	    strerror(errno));
	return (-1);
}

static int
store_open_env(struct store *s, size_t mapsize, unsigned max_readers)
{
	static const char *const names[STORE_NDB] = {
		"clients", "uid_index", "sa"
	};
	static const unsigned dbflags[STORE_NDB] = {
		0, MDB_DUPSORT | MDB_DUPFIXED, 0
	};
	MDB_txn		*txn;
	unsigned	 envflags, create;
	int		 i, rc;

	if ((rc = mdb_env_create(&s->env)) != 0) {
		s->env = NULL;
		return (rc);
	}
	if ((rc = mdb_env_set_maxdbs(s->env, STORE_NDB)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, max_readers)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, mapsize)) != 0)
		return (rc);
	/*
	 * MDB_NOSYNC: a commit never waits for the disk; store_boot_check()
	 * keeps that crash-safe.  MDB_NOTLS: a reader slot belongs to our
	 * reset-and-renewed transaction, not to a thread.
	 */
	create = (s->flags & STORE_OPEN_RDONLY) ? 0 : MDB_CREATE;
	envflags = MDB_NOTLS | (create ? MDB_NOSYNC : MDB_RDONLY);
	if ((rc = mdb_env_open(s->env, s->dir, envflags, 0600)) != 0)
		return (rc);
	if ((rc = store_txn_begin(s, create ? 0 : MDB_RDONLY, &txn)) != 0)
		return (rc);
	for (i = 0; i < STORE_NDB; i++)
		if ((rc = mdb_dbi_open(txn, names[i], dbflags[i] | create,
		    &s->dbi[i])) != 0) {
			mdb_txn_abort(txn);
			return (rc);
		}
	/* Committing, even read-only, keeps the handles for the env. */
	if ((rc = mdb_txn_commit(txn)) != 0)
		return (rc);
	/* Take the reader slot now: a full table shows here, not later. */
	if ((rc = store_txn_begin(s, MDB_RDONLY, &s->rtxn)) != 0) {
		s->rtxn = NULL;
		return (rc);
	}
	mdb_txn_reset(s->rtxn);
	return (0);
}

struct store *
store_open(const char *dir, size_t mapsize, unsigned max_readers, int flags,
    char *err, size_t errlen)
{
	struct store	*s, *o;
	int		 rc;

	if (dir == NULL || dir[0] == '\0' || strlen(dir) >= STORE_DIR_MAX) {
		snprintf(err, errlen, "bad state directory \"%.64s\"",
		    dir != NULL ? dir : "");
		return (NULL);
	}
	if ((flags & STORE_OPEN_RDONLY) && (flags & STORE_OPEN_START)) {
		snprintf(err, errlen, "%s: read-only start", dir);
		return (NULL);
	}
	/* Closing an inherited env later would drop our new env's locks. */
	for (o = store_list; o != NULL; o = o->next)
		if (o->pid != getpid())
			store_release(o);
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return (NULL);
	}
	s->magic = STORE_MAGIC;
	s->pid = getpid();
	s->flags = flags;
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	if (mapsize == 0)
		mapsize = STORE_DEFAULT_MAPSIZE;
	if (mapsize < STORE_MAPSIZE_MIN)
		mapsize = STORE_MAPSIZE_MIN;
	s->map_max = mapsize > SIZE_MAX / STORE_MAP_GROWTH ? mapsize :
	    mapsize * STORE_MAP_GROWTH;
	if (max_readers == 0)
		max_readers = STORE_DEFAULT_READERS;

	if (store_prepare_dir(s, err, errlen) == -1)
		goto fail;
	/* Two envs on one file in a process break LMDB's fcntl locks. */
	for (o = store_list; o != NULL; o = o->next)
		if (o->env != NULL && o->dev == s->dev && o->ino == s->ino) {
			snprintf(err, errlen, "%s: already open in this "
			    "process", dir);
			goto fail;
		}
	if ((flags & STORE_OPEN_START) && store_boot_check(s, err, errlen) ==
	    -1)
		goto fail;
	if ((rc = store_open_env(s, mapsize, max_readers)) != 0) {
		snprintf(err, errlen, "%s: %s%s", dir, mdb_strerror(rc),
		    rc == MDB_READERS_FULL ? " (raise max_readers)" :
		    rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE ?
		    " (not a takd state?)" : "");
		goto fail;
	}
	s->next = store_list;
	store_list = s;
	return (s);
 fail:
	store_rtxn_drop(s);
	if (s->env != NULL)
		mdb_env_close(s->env);
	free(s);
	return (NULL);
}

void
store_close(struct store *s)
{
	struct store	**pp;
	char		  err[PATH_MAX + 64];
	int		  rc;

	if (s == NULL)
		return;
	if (s->pid != getpid()) {
		store_release(s);	/* inherited: stays on the list */
		return;
	}
	if (s->magic != STORE_MAGIC)
		return;
	store_rtxn_drop(s);
	if (s->flags & STORE_OPEN_START) {
		/* Only a flushed file may be trusted after a reboot. */
		if ((rc = mdb_env_sync(s->env, 1)) != 0)
			log_warnx("store %s: sync: %s", s->dir,
			    mdb_strerror(rc));
		else if (store_boot_write(s->dir, s->boot, true, err,
		    sizeof(err)) == -1)
			log_warnx("store: %s", err);
	}
	mdb_env_close(s->env);
	for (pp = &store_list; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	store_batch_free(s);
	s->magic = 0;
	free(s);
}

/* ---- batched writes ---- */

static int
store_refuse(struct store *s, const char *what)
{
	if (s != NULL && s->magic == STORE_MAGIC) {
		if (s->refused++ == 0)
			log_warnx("store %s: %s: operation dropped", s->dir,
			    what);
		s->stats.ops_dropped++;
	}
	return (-1);
}

static int
store_array_grow(void **p, size_t *cap, size_t need, size_t elem, size_t max)
{
	size_t	 n;
	void	*np;

	if (need <= *cap)
		return (0);
	if (need > max)
		return (-1);
	for (n = *cap > 0 ? *cap : 64; n < need; n *= 2)
		;
	if (n > max)
		n = max;
	if ((np = realloc(*p, n * elem)) == NULL)
		return (-1);
	*p = np;
	*cap = n;
	return (0);
}

/* Append an operation with len bytes of arena; NULL when over the cap. */
static struct store_op *
store_op_add(struct store *s, enum store_op_kind kind, uint64_t conn_id,
    size_t len)
{
	struct store_op	*op;
	void		*p;

	if (s == NULL || s->magic != STORE_MAGIC) {
		log_warnx("store: write on a closed or invalid store");
		return (NULL);
	}
	p = s->ops;
	if (store_array_grow(&p, &s->opscap, s->nops + 1, sizeof(*s->ops),
	    STORE_BATCH_OPS) == -1) {
		store_refuse(s, "batch full");
		return (NULL);
	}
	s->ops = p;
	p = s->arena;
	if (len > STORE_BATCH_BYTES - s->alen || store_array_grow(&p,
	    &s->acap, s->alen + len, 1, STORE_BATCH_BYTES) == -1) {
		store_refuse(s, "batch full");
		return (NULL);
	}
	s->arena = p;
	op = &s->ops[s->nops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->conn_id = conn_id;
	op->voff = s->alen;
	op->vlen = len;
	s->alen += len;
	return (op);
}

int
store_batch_client(struct store *s, const struct store_client *c)
{
	struct store_op	*op;
	size_t		 len;

	if (c->worker != STORE_CONN_WORKER(c->conn_id)) {
		log_warnx("store: connection %llx: worker %u does not match",
		    (unsigned long long)c->conn_id, c->worker);
		return (store_refuse(s, "client"));
	}
	if ((len = store_rec_size(c)) == 0)
		return (store_refuse(s, "client"));
	if ((op = store_op_add(s, STORE_OP_CLIENT, c->conn_id, len)) == NULL)
		return (-1);
	store_rec_encode(c, s->arena + op->voff);
	return (0);
}

int
store_batch_client_del(struct store *s, uint64_t conn_id)
{
	return (store_op_add(s, STORE_OP_CLIENT_DEL, conn_id, 0) == NULL ?
	    -1 : 0);
}

int
store_batch_touch(struct store *s, uint64_t conn_id, uint64_t now_ms)
{
	struct store_touch	*t;
	void			*p;

	if (s == NULL || s->magic != STORE_MAGIC) {
		log_warnx("store: touch on a closed or invalid store");
		return (-1);
	}
	/* A connection's events tend to come in a row. */
	if (s->ntouch > 0 && s->touches[s->ntouch - 1].conn_id == conn_id) {
		t = &s->touches[s->ntouch - 1];
		if (now_ms > t->ms)
			t->ms = now_ms;
		return (0);
	}
	p = s->touches;
	if (store_array_grow(&p, &s->touchcap, s->ntouch + 1,
	    sizeof(*s->touches), STORE_BATCH_OPS) == -1)
		return (store_refuse(s, "batch full"));
	s->touches = p;
	t = &s->touches[s->ntouch++];
	t->conn_id = conn_id;
	t->ms = now_ms;
	return (0);
}

int
store_batch_sa(struct store *s, const char *uid, const char *type,
    uint64_t stale_ms, uint64_t now_ms, const void *event, size_t len)
{
	struct store_op	*op;
	unsigned char	*p;
	const char	*why = NULL;
	size_t		 ulen, tlen;

	if (type == NULL)
		type = "";
	ulen = uid != NULL ? strnlen(uid, STORE_UID_SIZE) : 0;
	tlen = strnlen(type, STORE_TYPE_SIZE);
	if (ulen == 0)
		why = "empty uid";
	else if (ulen == STORE_UID_SIZE)
		why = "uid too long";
	else if (tlen == STORE_TYPE_SIZE)
		why = "type too long";
	else if (event == NULL || len == 0 || len > STORE_SA_MAX)
		why = "bad event size";
	if (why != NULL) {
		log_warnx("store: SA of uid \"%.64s\" (%zu bytes) refused: %s",
		    uid != NULL ? uid : "", len, why);
		return (store_refuse(s, "SA"));
	}
	if ((op = store_op_add(s, STORE_OP_SA, 0, ulen + STORE_SA_HDR + tlen +
	    len)) == NULL)
		return (-1);
	/* The arena holds the uid (the key), then the value. */
	p = s->arena + op->voff;
	memcpy(p, uid, ulen);
	op->koff = op->voff;
	op->klen = ulen;
	op->voff += ulen;
	op->vlen -= ulen;
	p += ulen;
	p[0] = STORE_SA_VERSION;
	p[1] = (unsigned char)tlen;
	p[2] = p[3] = 0;
	store_put64(p + 4, stale_ms);
	store_put64(p + 12, now_ms);
	memcpy(p + STORE_SA_HDR, type, tlen);
	memcpy(p + STORE_SA_HDR + tlen, event, len);
	return (0);
}

/*
 * Drop the index entry of a connection's stored record unless keep_uid.
 * removed (STORE_UID_SIZE bytes, or NULL) gets the uid whose entry this
 * deleted, "" when none.
 */
static int
store_unindex(struct store *s, MDB_txn *txn, unsigned char *idkey,
    const MDB_val *old, const char *keep_uid, char *removed)
{
	struct store_client	 c;
	MDB_val			 k, v;
	int			 rc;

	if (removed != NULL)
		removed[0] = '\0';
	if (store_rec_decode(old->mv_data, old->mv_size, 1, &c) == -1) {
		log_warnx("store %s: connection %llx: unreadable record "
		    "dropped", s->dir, (unsigned long long)store_get64(idkey));
		return (0);
	}
	if (c.uid[0] == '\0' || (keep_uid != NULL &&
	    strcmp(c.uid, keep_uid) == 0))
		return (0);
	k.mv_data = c.uid;
	k.mv_size = strlen(c.uid);
	v.mv_data = idkey;
	v.mv_size = 8;
	rc = mdb_del(txn, s->dbi[STORE_DB_UIDX], &k, &v);
	if (rc == 0 && removed != NULL)
		memcpy(removed, c.uid, k.mv_size + 1);
	return (rc == MDB_NOTFOUND ? 0 : rc);
}

static int
store_apply_client(struct store *s, MDB_txn *txn, const struct store_op *op)
{
	struct store_client	 c;
	MDB_val			 k, v, old;
	unsigned char		 idkey[8];
	int			 rc;

	store_put64(idkey, op->conn_id);
	k.mv_data = idkey;
	k.mv_size = sizeof(idkey);
	c.uid[0] = '\0';
	if (op->kind == STORE_OP_CLIENT && store_rec_decode(s->arena +
	    op->voff, op->vlen, 1, &c) == -1)
		return (EINVAL);	/* we encoded it: cannot happen */
	rc = mdb_get(txn, s->dbi[STORE_DB_CLIENTS], &k, &old);
	if (rc == 0)
		rc = store_unindex(s, txn, idkey, &old,
		    op->kind == STORE_OP_CLIENT ? c.uid : NULL, NULL);
	else if (rc == MDB_NOTFOUND)
		rc = 0;
	if (rc != 0)
		return (rc);
	if (op->kind == STORE_OP_CLIENT_DEL) {
		rc = mdb_del(txn, s->dbi[STORE_DB_CLIENTS], &k, NULL);
		return (rc == MDB_NOTFOUND ? 0 : rc);
	}
	v.mv_data = s->arena + op->voff;
	v.mv_size = op->vlen;
	if ((rc = mdb_put(txn, s->dbi[STORE_DB_CLIENTS], &k, &v, 0)) != 0 ||
	    c.uid[0] == '\0')
		return (rc);
	k.mv_data = c.uid;
	k.mv_size = strlen(c.uid);
	v.mv_data = idkey;
	v.mv_size = sizeof(idkey);
	rc = mdb_put(txn, s->dbi[STORE_DB_UIDX], &k, &v, MDB_NODUPDATA);
	return (rc == MDB_KEYEXIST ? 0 : rc);
}

static int
store_apply_touch(struct store *s, MDB_txn *txn, uint64_t conn_id,
    uint64_t ms)
{
	MDB_val		 k, v;
	unsigned char	 idkey[8], rec[STORE_REC_MAX], *p;
	int		 rc;

	store_put64(idkey, conn_id);
	k.mv_data = idkey;
	k.mv_size = sizeof(idkey);
	if ((rc = mdb_get(txn, s->dbi[STORE_DB_CLIENTS], &k, &v)) != 0)
		return (rc == MDB_NOTFOUND ? 0 : rc);	/* gone: fine */
	p = v.mv_data;
	if (v.mv_size < STORE_REC_HDR || v.mv_size > sizeof(rec) ||
	    p[0] != STORE_REC_VERSION ||
	    ms < store_get64(p + STORE_REC_LASTSEEN) + STORE_TOUCH_GRAIN_MS)
		return (0);
	memcpy(rec, p, v.mv_size);
	store_put64(rec + STORE_REC_LASTSEEN, ms);
	v.mv_data = rec;
	return (mdb_put(txn, s->dbi[STORE_DB_CLIENTS], &k, &v, 0));
}

static int
store_touch_cmp(const void *a, const void *b)
{
	const struct store_touch *x = a, *y = b;

	if (x->conn_id != y->conn_id)
		return (x->conn_id < y->conn_id ? -1 : 1);
	return (x->ms < y->ms ? -1 : x->ms > y->ms);
}

static int
store_apply(struct store *s, MDB_txn *txn)
{
	const struct store_op	*op;
	MDB_val			 k, v;
	size_t			 i;
	int			 rc = 0;

	for (i = 0; i < s->nops && rc == 0; i++) {
		op = &s->ops[i];
		if (op->kind != STORE_OP_SA) {
			rc = store_apply_client(s, txn, op);
			continue;
		}
		k.mv_data = s->arena + op->koff;
		k.mv_size = op->klen;
		v.mv_data = s->arena + op->voff;
		v.mv_size = op->vlen;
		rc = mdb_put(txn, s->dbi[STORE_DB_SA], &k, &v, 0);
	}
	/* Sorted: the newest of each run wins, keys are visited in order. */
	for (i = 0; i < s->ntouch && rc == 0; i++)
		if (i + 1 == s->ntouch ||
		    s->touches[i + 1].conn_id != s->touches[i].conn_id)
			rc = store_apply_touch(s, txn, s->touches[i].conn_id,
			    s->touches[i].ms);
	return (rc);
}

/* Double the map, up to its limit.  No transaction of ours is active. */
static int
store_map_grow(struct store *s)
{
	MDB_envinfo	 info;
	size_t		 size;
	int		 rc;

	if (mdb_env_info(s->env, &info) != 0 || info.me_mapsize >= s->map_max)
		return (-1);
	size = info.me_mapsize > s->map_max / 2 ? s->map_max :
	    info.me_mapsize * 2;
	if ((rc = mdb_env_set_mapsize(s->env, size)) != 0) {
		log_warnx("store %s: growing the map to %zu bytes: %s", s->dir,
		    size, mdb_strerror(rc));
		return (-1);
	}
	s->stats.map_grows++;
	log_info("store %s: map grown to %zu KiB", s->dir, size >> 10);
	return (0);
}

int
store_commit(struct store *s)
{
	MDB_txn	*txn;
	size_t	 n;
	int	 rc = EINVAL, grown = 0;

	if (s == NULL || s->magic != STORE_MAGIC) {
		log_warnx("store: commit on a closed or invalid store");
		return (-1);
	}
	if (s->refused > 1)
		log_warnx("store %s: %zu operations dropped from this batch",
		    s->dir, s->refused);
	if ((n = s->nops + s->ntouch) == 0)
		goto done;
	if (!store_usable(s, "commit", true))
		goto done;
	if (s->ntouch > 1)
		qsort(s->touches, s->ntouch, sizeof(*s->touches),
		    store_touch_cmp);
	for (;;) {
		if ((rc = store_txn_begin(s, 0, &txn)) != 0)
			break;
		if ((rc = store_apply(s, txn)) != 0)
			mdb_txn_abort(txn);
		else
			rc = mdb_txn_commit(txn);
		/* Grow once per commit: the loop iteration stays short. */
		if (rc != MDB_MAP_FULL || grown++ > 0 ||
		    store_map_grow(s) == -1)
			break;
	}
	if (rc != 0)
		log_warnx("store %s: commit of %zu operations failed: %s; "
		    "batch dropped", s->dir, n, mdb_strerror(rc));
 done:
	if (n > 0 && rc != 0) {
		s->stats.commit_failures++;
		s->stats.ops_dropped += n;
	} else if (n > 0)
		s->stats.commits++;
	s->nops = s->alen = s->ntouch = s->refused = 0;
	/* Give a burst's memory back; a usual batch stays allocated. */
	if (s->acap > STORE_ARENA_KEEP) {
		free(s->arena);
		s->arena = NULL;
		s->acap = 0;
	}
	return (n > 0 && rc != 0 ? -1 : 0);
}

/* ---- immediate writes (supervisor) ---- */

/*
 * One write transaction deleting the entries of db, from key on (NULL: the
 * first), that cull() picks: 1 delete, 0 keep, -1 stop.  cull() may write
 * more in txn and then reports an LMDB error in *rc.
 */
static long
store_cull(struct store *s, const char *what, int db, const MDB_val *from,
    int (*cull)(struct store *, MDB_txn *, const MDB_val *, const MDB_val *,
    void *, int *), void *arg)
{
	MDB_txn		*txn;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	long		 n = 0;
	int		 rc, act;

	if (!store_usable(s, what, true))
		return (-1);
	if ((rc = store_txn_begin(s, 0, &txn)) != 0)
		goto fail;
	if ((rc = mdb_cursor_open(txn, s->dbi[db], &cur)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if (from != NULL)
		k = *from;
	rc = mdb_cursor_get(cur, &k, &v, from != NULL ? MDB_SET_RANGE :
	    MDB_FIRST);
	while (rc == 0) {
		if ((act = cull(s, txn, &k, &v, arg, &rc)) == -1 || rc != 0)
			break;
		if (act == 1 && (rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		n += act;
		/* After a delete, MDB_NEXT lands on the entry that followed. */
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	s->stats.commits++;
	return (n);
 fail:
	s->stats.commit_failures++;
	log_warnx("store %s: %s: %s", s->dir, what, mdb_strerror(rc));
	return (-1);
}

/* store_del_worker(): the worker slot, and the uids left unconnected. */
struct store_gone {
	unsigned	 worker;
	bool		 collect;
	char		*buf;		/* "uid\0type\0" per departed uid */
	size_t		 len, cap;
	size_t		 n;
	size_t		 lost;		/* not noted: out of memory */
};

/*
 * uid just lost an index entry.  When it has none left (every connection
 * of the dead worker that held it is gone, and no other worker's holds it),
 * note it with the type of its latest SA.  Each uid reaches that state once
 * per walk, so each is noted once.
 */
static int
store_gone_note(struct store *s, MDB_txn *txn, struct store_gone *g,
    char *uid)
{
	const unsigned char	*p;
	const char		*type = "";
	MDB_val			 k, v;
	size_t			 ulen = strlen(uid), tlen = 0;
	void			*np;
	int			 rc;

	k.mv_data = uid;
	k.mv_size = ulen;
	if ((rc = mdb_get(txn, s->dbi[STORE_DB_UIDX], &k, &v)) == 0)
		return (0);
	if (rc != MDB_NOTFOUND)
		return (rc);
	if ((rc = mdb_get(txn, s->dbi[STORE_DB_SA], &k, &v)) == 0) {
		p = v.mv_data;
		if (v.mv_size >= STORE_SA_HDR && p[0] == STORE_SA_VERSION &&
		    p[1] < STORE_TYPE_SIZE && v.mv_size - STORE_SA_HDR >= p[1] &&
		    memchr(p + STORE_SA_HDR, '\0', p[1]) == NULL) {
			type = (const char *)p + STORE_SA_HDR;
			tlen = p[1];
		}
	} else if (rc != MDB_NOTFOUND)
		return (rc);
	np = g->buf;
	if (store_array_grow(&np, &g->cap, g->len + ulen + tlen + 2, 1,
	    STORE_BATCH_BYTES) == -1) {
		g->lost++;
		return (0);
	}
	g->buf = np;
	memcpy(g->buf + g->len, uid, ulen + 1);
	g->len += ulen + 1;
	memcpy(g->buf + g->len, type, tlen);
	g->buf[g->len + tlen] = '\0';
	g->len += tlen + 1;
	g->n++;
	return (0);
}

static int
store_cull_worker(struct store *s, MDB_txn *txn, const MDB_val *k,
    const MDB_val *v, void *arg, int *rc)
{
	struct store_gone	*g = arg;
	unsigned char		 idkey[8];
	char			 uid[STORE_UID_SIZE];

	if (k->mv_size != 8 ||
	    STORE_CONN_WORKER(store_get64(k->mv_data)) != g->worker)
		return (-1);
	memcpy(idkey, k->mv_data, sizeof(idkey));
	*rc = store_unindex(s, txn, idkey, v, NULL, uid);
	if (*rc == 0 && g->collect && uid[0] != '\0')
		*rc = store_gone_note(s, txn, g, uid);
	return (1);
}

static int
store_cull_sa(struct store *s, MDB_txn *txn, const MDB_val *k,
    const MDB_val *v, void *arg, int *rc)
{
	const uint64_t		*lim = arg;	/* now, max age */
	const unsigned char	*p = v->mv_data;
	uint64_t		 stale;

	/* Unreadable entries go too: nothing could replay them. */
	if (v->mv_size < STORE_SA_HDR || p[0] != STORE_SA_VERSION)
		return (1);
	stale = store_get64(p + 4);
	return (stale <= lim[0] && lim[0] - stale >= lim[1]);
}

long
store_reset_clients(struct store *s)
{
	MDB_txn		*txn;
	MDB_stat	 st;
	int		 rc;

	if (!store_usable(s, "registry reset", true))
		return (-1);
	if ((rc = store_txn_begin(s, 0, &txn)) != 0)
		goto fail;
	if ((rc = mdb_stat(txn, s->dbi[STORE_DB_CLIENTS], &st)) != 0 ||
	    (rc = mdb_drop(txn, s->dbi[STORE_DB_CLIENTS], 0)) != 0 ||
	    (rc = mdb_drop(txn, s->dbi[STORE_DB_UIDX], 0)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	s->stats.commits++;
	return ((long)st.ms_entries);
 fail:
	s->stats.commit_failures++;
	log_warnx("store %s: registry reset: %s", s->dir, mdb_strerror(rc));
	return (-1);
}

long
store_del_worker(struct store *s, unsigned worker,
    int (*departed)(const struct store_departed *, void *), void *arg)
{
	struct store_gone	 g;
	struct store_departed	 d;
	MDB_val			 k;
	unsigned char		 lo[8];
	size_t			 i, off = 0;
	long			 n;

	if (worker > STORE_WORKER_MAX) {
		log_warnx("store: no worker %u", worker);
		return (-1);
	}
	memset(&g, 0, sizeof(g));
	g.worker = worker;
	g.collect = departed != NULL;
	/* A worker's connections are one key range. */
	store_put64(lo, STORE_CONN_ID(worker, 0));
	k.mv_data = lo;
	k.mv_size = sizeof(lo);
	n = store_cull(s, "worker cleanup", STORE_DB_CLIENTS, &k,
	    store_cull_worker, &g);
	if (n >= 0 && g.lost > 0)
		log_warnx("store %s: worker %u cleanup: %zu uids left without "
		    "a connection cannot be reported: out of memory", s->dir,
		    worker, g.lost);
	/* Only what is committed: a failed walk removed nothing. */
	for (i = 0; n >= 0 && i < g.n; i++) {
		d.uid = g.buf + off;
		off += strlen(d.uid) + 1;
		d.type = g.buf + off;
		off += strlen(d.type) + 1;
		if (departed(&d, arg) != 0)
			break;
	}
	free(g.buf);
	return (n);
}

long
store_sa_purge(struct store *s, uint64_t now_ms, uint64_t max_age_ms)
{
	uint64_t	 lim[2] = { now_ms, max_age_ms };

	return (store_cull(s, "SA purge", STORE_DB_SA, NULL, store_cull_sa,
	    lim));
}

int
store_reader_check(struct store *s, int *dead)
{
	int	 rc, n = 0;

	if (!store_usable(s, "reader check", false))
		return (-1);
	if ((rc = mdb_reader_check(s->env, &n)) != 0) {
		log_warnx("store %s: reader check: %s", s->dir,
		    mdb_strerror(rc));
		return (-1);
	}
	if (dead != NULL)
		*dead = n;
	return (0);
}

/* ---- reads ---- */

struct store_visit {
	int		(*client_cb)(const struct store_client *, void *);
	int		(*sa_cb)(const struct store_sa *, void *);
	void		*arg;
	struct store_client *client;	/* store_get_client() */
	uint64_t	 now_ms;
	const char	*skip;
	size_t		 skiplen;
	uint64_t	*ids;
	size_t		 max, n;
	size_t		 bad;
};

static int
store_visit_client(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct store_visit	*sv = arg;
	struct store_client	 c, *cp;

	cp = sv->client != NULL ? sv->client : &c;
	memset(cp, 0, sizeof(*cp));
	if (k->mv_size != 8 || store_rec_decode(v->mv_data, v->mv_size,
	    STORE_REC_NFIELDS, cp) == -1) {
		sv->bad++;
		return (0);
	}
	cp->conn_id = store_get64(k->mv_data);
	sv->n++;
	return (sv->client_cb != NULL ? (sv->client_cb(cp, sv->arg) != 0) : 1);
}

static int
store_visit_sa(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct store_visit	*sv = arg;
	struct store_sa		 sa;
	const unsigned char	*p = v->mv_data;
	size_t			 tlen;

	if (sv->skip != NULL && k->mv_size == sv->skiplen &&
	    memcmp(k->mv_data, sv->skip, sv->skiplen) == 0)
		return (0);
	if (k->mv_size == 0 || k->mv_size >= sizeof(sa.uid) ||
	    v->mv_size < STORE_SA_HDR || p[0] != STORE_SA_VERSION ||
	    (tlen = p[1]) >= sizeof(sa.type) ||
	    v->mv_size - STORE_SA_HDR <= tlen) {
		sv->bad++;
		return (0);
	}
	if ((sa.stale_ms = store_get64(p + 4)) <= sv->now_ms)
		return (0);
	memcpy(sa.uid, k->mv_data, k->mv_size);
	sa.uid[k->mv_size] = '\0';
	memcpy(sa.type, p + STORE_SA_HDR, tlen);
	sa.type[tlen] = '\0';
	sa.time_ms = store_get64(p + 12);
	sa.event = p + STORE_SA_HDR + tlen;
	sa.len = v->mv_size - STORE_SA_HDR - tlen;
	return (sv->sa_cb(&sa, sv->arg) != 0);
}

static int
store_visit_uid(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct store_visit	*sv = arg;

	if (v->mv_size != 8)
		return (0);
	if (sv->n < sv->max)
		sv->ids[sv->n] = store_get64(v->mv_data);
	sv->n++;
	return (0);
}

static int
store_visit_done(struct store *s, const struct store_visit *sv,
    const char *what, int rc)
{
	if (sv->bad > 0)
		log_warnx("store %s: %s: %zu unreadable entries skipped",
		    s->dir, what, sv->bad);
	return (rc);
}

int
store_foreach_client(struct store *s,
    int (*cb)(const struct store_client *, void *), void *arg)
{
	struct store_visit	 sv = { .client_cb = cb, .arg = arg };

	return (store_visit_done(s, &sv, "client list", store_scan(s,
	    "client list", STORE_DB_CLIENTS, NULL, store_visit_client, &sv)));
}

int
store_foreach_sa(struct store *s, uint64_t now_ms, const char *skip_uid,
    int (*cb)(const struct store_sa *, void *), void *arg)
{
	struct store_visit	 sv = { .sa_cb = cb, .arg = arg };

	sv.now_ms = now_ms;
	sv.skip = skip_uid;
	sv.skiplen = skip_uid != NULL ? strlen(skip_uid) : 0;
	return (store_visit_done(s, &sv, "SA replay", store_scan(s,
	    "SA replay", STORE_DB_SA, NULL, store_visit_sa, &sv)));
}

int
store_get_client(struct store *s, uint64_t conn_id, struct store_client *c)
{
	struct store_visit	 sv = { .client = c };
	MDB_val			 k;
	unsigned char		 idkey[8];

	store_put64(idkey, conn_id);
	k.mv_data = idkey;
	k.mv_size = sizeof(idkey);
	if (store_visit_done(s, &sv, "client lookup", store_scan(s,
	    "client lookup", STORE_DB_CLIENTS, &k, store_visit_client,
	    &sv)) == -1 || sv.bad > 0)
		return (-1);
	return (sv.n > 0 ? 0 : 1);
}

int
store_lookup_uid(struct store *s, const char *uid, uint64_t *ids, size_t max,
    size_t *n)
{
	struct store_visit	 sv = { .ids = ids, .max = max };
	MDB_val			 k;
	char			 kbuf[STORE_UID_SIZE];
	int			 rc;

	*n = 0;
	k.mv_size = strnlen(uid, sizeof(kbuf));
	if (k.mv_size == 0 || k.mv_size == sizeof(kbuf))
		return (0);	/* never indexed */
	memcpy(kbuf, uid, k.mv_size);
	k.mv_data = kbuf;
	rc = store_scan(s, "uid lookup", STORE_DB_UIDX, &k, store_visit_uid,
	    &sv);
	*n = sv.n;
	return (rc);
}

void
store_get_stats(const struct store *s, struct store_stats *st)
{
	MDB_envinfo	 info;
	MDB_stat	 ms;

	memset(st, 0, sizeof(*st));
	if (s == NULL || s->magic != STORE_MAGIC)
		return;
	*st = s->stats;
	st->map_max = s->map_max;
	if (s->env == NULL || s->pid != getpid())
		return;
	if (mdb_env_info(s->env, &info) != 0)
		return;
	st->mapsize = info.me_mapsize;
	/* Freed pages are reused before the file grows: a high-water mark. */
	if (mdb_env_stat(s->env, &ms) == 0)
		st->map_used = ((size_t)info.me_last_pgno + 1) * ms.ms_psize;
}
