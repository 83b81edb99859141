/*
 * Shared client state in LMDB: see store.h, and docs/state.md for the
 * databases, the encodings and why MDB_NOSYNC is safe here.
 *
 * This file holds the environment (open and close, the crash marker, map
 * growth), transactions and reads, the batch and its commit, the walk that
 * deletes in one write transaction, the reader check and the stats.  The
 * registry of connections is in store_conn.c, the latest SA per uid in
 * store_sa.c; store_int.h is what they share.
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
#include "shared/store_int.h"

#define STORE_ARENA_KEEP	((size_t)1 << 20)
#define STORE_MAPSIZE_MIN	((size_t)64 << 10)

#define STORE_BOOT_FILE		"store.boot"
#define STORE_BOOT_SIZE		128	/* the marker's fixed size */
#define STORE_BOOT_ID		"/proc/sys/kernel/random/boot_id"

/*
 * Stores opened here or inherited through fork.  An inherited one is
 * released but kept: its read transaction must not be aborted in the child
 * (that would clear the parent's slot in the shared reader table), so it
 * stays referenced from here.
 */
static struct store	*store_list;

/* ---- transactions ---- */

bool
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
int
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
int
store_scan(struct store *s, const char *what, int db, const MDB_val *key,
    int (*visit)(const MDB_val *, const MDB_val *, void *), void *arg)
{
	return (store_scan_dir(s, what, db, key, 0, visit, arg));
}

MDB_txn *
store_rtxn(struct store *s)
{
	return (s->rdepth > 0 ? s->rtxn : NULL);
}

int
store_scan_dir(struct store *s, const char *what, int db, const MDB_val *key,
    unsigned flags, int (*visit)(const MDB_val *, const MDB_val *, void *),
    void *arg)
{
	MDB_txn		*txn;
	MDB_cursor	*cur, *own = NULL;
	MDB_val		 k, v;
	MDB_cursor_op	 first, next;
	int		 rc;

	if (key != NULL) {
		first = MDB_SET_KEY;
		next = MDB_NEXT_DUP;
	} else if (flags & STORE_SCAN_REVERSE) {
		first = MDB_LAST;
		next = MDB_PREV;
	} else {
		first = MDB_FIRST;
		next = MDB_NEXT;
	}

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
	rc = mdb_cursor_get(cur, &k, &v, first);
	while (rc == 0 && visit(&k, &v, arg) == 0) {
		if (key != NULL && db != STORE_DB_UIDX &&
		    db != STORE_DB_CSIDX && db != STORE_DB_SA_OWNER &&
		    db != STORE_DB_SIDX)
			break;
		rc = mdb_cursor_get(cur, &k, &v, next);
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

int
store_visit_done(struct store *s, const struct store_visit *sv,
    const char *what, int rc)
{
	if (sv->bad > 0)
		log_warnx("store %s: %s: %zu unreadable entries skipped",
		    s->dir, what, sv->bad);
	return (rc);
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

/*
 * The marker is one fixed-size record, rewritten in place: once it exists,
 * marking the store open or closed needs no new disk space, so that takd
 * starts (and stops cleanly) on a full state_dir.  A record of a few dozen
 * bytes in one sector is written whole or not at all.
 */
static int
store_boot_line(char *line, const char *boot, bool closed)
{
	int	 n;

	n = snprintf(line, STORE_BOOT_SIZE, "takd-store 1 %s %s",
	    boot[0] != '\0' ? boot : "-", closed ? "closed" : "open");
	if (n < 0 || n >= STORE_BOOT_SIZE - 1)
		return (-1);
	memset(line + n, ' ', STORE_BOOT_SIZE - 1 - (size_t)n);
	line[STORE_BOOT_SIZE - 1] = '\n';
	return (0);
}

static int
store_write_all(int fd, const char *buf, size_t n, off_t at)
{
	size_t	 off;
	ssize_t	 w;

	/* Until an error says why a write came up short (ENOSPC). */
	for (off = 0; off < n; off += (size_t)w)
		if ((w = pwrite(fd, buf + off, n - off, at + (off_t)off)) <=
		    0) {
			if (w == 0)
				errno = EIO;
			return (-1);
		}
	return (0);
}

/* The first marker: made beside and renamed, so never seen half-written. */
static int
store_boot_create(const char *dir, const char *path, const char *line)
{
	char	 tmp[PATH_MAX];
	int	 fd, n, saved;

	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, STORE_BOOT_FILE);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return (-1);
	if (store_write_all(fd, line, STORE_BOOT_SIZE, 0) == -1 ||
	    fsync(fd) == -1)
		goto fail;
	/* close() too may report a write that failed late (NFS, quotas). */
	n = close(fd);
	fd = -1;
	if (n == -1 || rename(tmp, path) == -1)
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
	unlink(tmp);
	errno = saved;
	return (-1);
}

/* Write the marker durably: in place when it exists. */
static int
store_boot_write(const char *dir, const char *boot, bool closed, char *err,
    size_t errlen)
{
	char	 path[PATH_MAX], line[STORE_BOOT_SIZE];
	int	 fd, n;

	snprintf(path, sizeof(path), "%s/%s", dir, STORE_BOOT_FILE);
	if (store_boot_line(line, boot, closed) == -1) {
		snprintf(err, errlen, "%s: boot id too long", path);
		return (-1);
	}
	if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT && store_boot_create(dir, path, line) == 0)
			return (0);
		goto fail;
	}
	/* An older, shorter marker grows within its block; a longer shrinks. */
	if (store_write_all(fd, line, sizeof(line), 0) == -1 ||
	    ftruncate(fd, STORE_BOOT_SIZE) == -1 || fsync(fd) == -1) {
		n = errno;
		close(fd);
		errno = n;
		goto fail;
	}
	if (close(fd) == -1)
		goto fail;
	return (0);
 fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
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
		"clients", "uid_index", "sa", "callsign_index", "sa_time",
		"sa_owner", "meta", "serial_index", "channels"
	};
	static const unsigned dbflags[STORE_NDB] = {
		0, MDB_DUPSORT | MDB_DUPFIXED, 0, MDB_DUPSORT | MDB_DUPFIXED,
		0, MDB_DUPSORT, 0, MDB_DUPSORT | MDB_DUPFIXED, 0
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
	for (i = 0; i < STORE_NDB; i++) {
		rc = mdb_dbi_open(txn, names[i], dbflags[i] | create,
		    &s->dbi[i]);
		/*
		 * A reader of a store an older takd made (takctl before the
		 * daemon's restart): channels came later; none are set.
		 */
		if (rc == MDB_NOTFOUND && !create && i == STORE_DB_CHANNELS) {
			s->no_channels = true;
			continue;
		}
		if (rc != 0) {
			mdb_txn_abort(txn);
			return (rc);
		}
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

int
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

int
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
struct store_op *
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

static int
store_touch_cmp(const void *a, const void *b)
{
	const struct store_touch *x = a, *y = b;

	if (x->conn_id != y->conn_id)
		return (x->conn_id < y->conn_id ? -1 : 1);
	return (x->ms < y->ms ? -1 : x->ms > y->ms);
}

static int
store_apply(struct store *s, MDB_txn *txn, void *arg)
{
	const struct store_op	*op;
	size_t			 i;
	int			 rc = 0;

	/* A run again after the map grew counts its evictions again. */
	s->evicting = 0;
	store_sa_begin(s);
	for (i = 0; i < s->nops && rc == 0; i++) {
		op = &s->ops[i];
		if (op->kind == STORE_OP_SA)
			rc = store_apply_sa(s, txn, op);
		else if ((rc = store_apply_serial(s, txn, op)) == 0)
			rc = store_apply_client(s, txn, op);
	}
	if (rc == 0)
		rc = store_sa_end(s, txn);
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
store_write(struct store *s, const char *what,
    int (*apply)(struct store *, MDB_txn *, void *), void *arg)
{
	MDB_txn	*txn;
	int	 rc = 0, grown = 0;

	if (!store_usable(s, what, true)) {
		if (s != NULL && s->magic == STORE_MAGIC)
			s->stats.commit_failures++;
		return (-1);
	}
	for (;;) {
		if ((rc = store_txn_begin(s, 0, &txn)) != 0)
			break;
		if ((rc = apply(s, txn, arg)) != 0)
			mdb_txn_abort(txn);
		else
			rc = mdb_txn_commit(txn);
		/* Grow once per write: a loop iteration stays short. */
		if (rc != MDB_MAP_FULL || grown++ > 0 ||
		    store_map_grow(s) == -1)
			break;
	}
	if (rc != 0) {
		s->stats.commit_failures++;
		log_warnx("store %s: %s: %s", s->dir, what, mdb_strerror(rc));
		return (-1);
	}
	s->stats.commits++;
	return (0);
}

int
store_commit(struct store *s)
{
	char	 what[64];
	size_t	 n;
	int	 rc = 0;

	if (s == NULL || s->magic != STORE_MAGIC) {
		log_warnx("store: commit on a closed or invalid store");
		return (-1);
	}
	if (s->refused > 1)
		log_warnx("store %s: %zu operations dropped from this batch",
		    s->dir, s->refused);
	if ((n = s->nops + s->ntouch) > 0) {
		if (s->ntouch > 1)
			qsort(s->touches, s->ntouch, sizeof(*s->touches),
			    store_touch_cmp);
		snprintf(what, sizeof(what), "commit of %zu operations (batch "
		    "dropped)", n);
		if ((rc = store_write(s, what, store_apply, NULL)) == -1)
			s->stats.ops_dropped += n;
		else
			s->stats.sa_evicted += s->evicting;
		s->evicting = 0;
	}
	s->nops = s->alen = s->ntouch = s->refused = 0;
	/* Give a burst's memory back; a usual batch stays allocated. */
	if (s->acap > STORE_ARENA_KEEP) {
		free(s->arena);
		s->arena = NULL;
		s->acap = 0;
	}
	return (rc);
}

/* ---- immediate writes (supervisor) ---- */

/*
 * Inside txn, delete the entries of db, from key on (NULL: the first), that
 * cull() picks: 1 delete, 0 keep, -1 stop.  cull() may write more in txn and
 * then reports an LMDB error in *rc.  *n gets how many were deleted.
 */
int
store_cull(struct store *s, MDB_txn *txn, int db, const MDB_val *from,
    int (*cull)(struct store *, MDB_txn *, const MDB_val *, const MDB_val *,
    void *, int *), void *arg, long *n)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	int		 rc, act;

	*n = 0;
	if ((rc = mdb_cursor_open(txn, s->dbi[db], &cur)) != 0)
		return (rc);
	if (from != NULL)
		k = *from;
	rc = mdb_cursor_get(cur, &k, &v, from != NULL ? MDB_SET_RANGE :
	    MDB_FIRST);
	while (rc == 0) {
		if ((act = cull(s, txn, &k, &v, arg, &rc)) == -1 || rc != 0)
			break;
		if (act == 1 && (rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		*n += act;
		/* After a delete, MDB_NEXT lands on the entry that followed. */
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return (rc == MDB_NOTFOUND ? 0 : rc);
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

uint64_t
store_last_txn(struct store *s)
{
	MDB_envinfo	 info;

	if (s == NULL || mdb_env_info(s->env, &info) != 0)
		return (0);
	return ((uint64_t)info.me_last_txnid);
}
