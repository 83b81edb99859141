/*
 * The data package store: see pkgstore.h and docs/datapackages.md.
 *
 * This file holds the environment (open, close, map growth), the record
 * encoding, the counters and the operations on records: get, set_public,
 * delete, foreach, usage.  pkgstore_file.c moves files (temp files, the
 * commit, content, gc); pkgstore_check.c validates what clients send.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "shared/log.h"
#include "shared/pkgstore.h"
#include "shared/pkgstore_int.h"

#define TOTALS_BYTES	"bytes"
#define TOTALS_COUNT	"count"

/* ---- the environment ---- */

bool
pkgstore_usable(struct pkgstore *s, const char *what, bool write)
{
	if (s == NULL || s->magic != PKGSTORE_MAGIC || s->env == NULL) {
		log_warnx("pkgstore: %s on a closed or invalid store", what);
		return (false);
	}
	if (s->pid != getpid()) {
		log_warnx("pkgstore %s: %s in a process that did not open it",
		    s->dir, what);
		return (false);
	}
	if (write && (s->flags & PKGSTORE_RDONLY)) {
		log_warnx("pkgstore %s: %s on a read-only store", s->dir, what);
		return (false);
	}
	return (true);
}

/* Another process may have grown the map past ours: adopt its size. */
int
pkgstore_txn_begin(struct pkgstore *s, unsigned flags, MDB_txn **txn)
{
	int	 rc;

	rc = mdb_txn_begin(s->env, NULL, flags, txn);
	if (rc == MDB_MAP_RESIZED && (rc = mdb_env_set_mapsize(s->env, 0)) ==
	    0)
		rc = mdb_txn_begin(s->env, NULL, flags, txn);
	return (rc);
}

/* Double the map, up to its limit.  No transaction of ours is active. */
int
pkgstore_map_grow(struct pkgstore *s)
{
	MDB_envinfo	 info;
	size_t		 size;
	int		 rc;

	if (mdb_env_info(s->env, &info) != 0 ||
	    info.me_mapsize >= PKGSTORE_MAP_MAX)
		return (-1);
	size = info.me_mapsize > PKGSTORE_MAP_MAX / 2 ? PKGSTORE_MAP_MAX :
	    info.me_mapsize * 2;
	if ((rc = mdb_env_set_mapsize(s->env, size)) != 0) {
		log_warnx("pkgstore %s: growing the map to %zu bytes: %s",
		    s->dir, size, mdb_strerror(rc));
		return (-1);
	}
	log_info("pkgstore %s: map grown to %zu MiB", s->dir, size >> 20);
	return (0);
}

/*
 * A directory of the store, relative to dirfd: created 0700 unless
 * !create, never reached through a link, ours and not writable by others
 * (a store another user can write to is not one we trust).
 */
static int
pkgstore_dir_open(int dirfd, const char *name, const char *path,
    bool create, char *err, size_t errlen)
{
	struct stat	 st;
	int		 fd;

	if (create && mkdirat(dirfd, name, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: mkdir: %s", path, strerror(errno));
		return (-1);
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
		    errno == ENOENT ? " (no package store yet)" :
		    errno == ELOOP || errno == ENOTDIR ? " (not a directory; "
		    "links are not followed)" : "");
		return (-1);
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %u, not by us (uid %u)",
		    path, (unsigned)st.st_uid, (unsigned)geteuid());
		goto fail;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s: writable by others (mode %03o)",
		    path, (unsigned)(st.st_mode & 0777));
		goto fail;
	}
	return (fd);
 fail:
	close(fd);
	return (-1);
}

/* LMDB opens its files by path: refuse links planted in their place. */
static int
pkgstore_env_files_ok(struct pkgstore *s, char *err, size_t errlen)
{
	static const char *const files[] = { "data.mdb", "lock.mdb" };
	struct stat	 st;
	size_t		 i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (fstatat(s->dirfd, files[i], &st, AT_SYMLINK_NOFOLLOW) ==
		    -1) {
			if (errno == ENOENT)
				continue;
			snprintf(err, errlen, "%s/%s: %s", s->dir, files[i],
			    strerror(errno));
			return (-1);
		}
		if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
			snprintf(err, errlen, "%s/%s: not a regular file of "
			    "ours", s->dir, files[i]);
			return (-1);
		}
	}
	return (0);
}

static int
pkgstore_env_open(struct pkgstore *s)
{
	MDB_txn		*txn;
	unsigned	 create, envflags;
	int		 rc;

	if ((rc = mdb_env_create(&s->env)) != 0) {
		s->env = NULL;
		return (rc);
	}
	if ((rc = mdb_env_set_maxdbs(s->env, 3)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, PKGSTORE_READERS)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, PKGSTORE_MAP_INIT)) != 0)
		return (rc);
	/*
	 * Durable: no MDB_NOSYNC.  A record says "these bytes are here";
	 * after a crash it must not point at nothing, nor a file stay
	 * uncharged.  Commits are rare (one per upload).
	 */
	create = (s->flags & (PKGSTORE_RDONLY | PKGSTORE_NOCREATE)) ? 0 :
	    MDB_CREATE;
	envflags = MDB_NOTLS;
	if (s->flags & PKGSTORE_RDONLY)
		envflags |= MDB_RDONLY;
	if ((rc = mdb_env_open(s->env, s->dir, envflags, 0600)) != 0)
		return (rc);
	if ((rc = pkgstore_txn_begin(s, create ? 0 : MDB_RDONLY, &txn)) != 0)
		return (rc);
	if ((rc = mdb_dbi_open(txn, "meta", create, &s->dbi_meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "users", create, &s->dbi_users)) != 0 ||
	    (rc = mdb_dbi_open(txn, "totals", create, &s->dbi_totals)) != 0) {
		mdb_txn_abort(txn);
		return (rc);
	}
	/* Committing, even read-only, keeps the handles for the env. */
	return (mdb_txn_commit(txn));
}

struct pkgstore *
pkgstore_open(const char *dir, unsigned flags, char *err, size_t errlen)
{
	struct pkgstore	*s;
	char		 path[PATH_MAX];
	bool		 create;
	int		 rc;

	if (dir == NULL || dir[0] != '/' || strlen(dir) + 16 >= PATH_MAX) {
		snprintf(err, errlen, "bad packages directory \"%.64s\" (an "
		    "absolute path)", dir != NULL ? dir : "");
		return (NULL);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return (NULL);
	}
	s->magic = PKGSTORE_MAGIC;
	s->flags = flags;
	s->pid = getpid();
	s->dirfd = s->objfd = s->tmpfd = -1;
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	snprintf(s->tmpdir, sizeof(s->tmpdir), "%s/%s", dir, PKGSTORE_TMP);
	create = !(flags & (PKGSTORE_RDONLY | PKGSTORE_NOCREATE));

	/* The parent is the operator's (state_dir): only the last is made. */
	if ((s->dirfd = pkgstore_dir_open(AT_FDCWD, dir, dir, create, err,
	    errlen)) == -1)
		goto fail;
	snprintf(path, sizeof(path), "%s/%s", dir, PKGSTORE_OBJECTS);
	if ((s->objfd = pkgstore_dir_open(s->dirfd, PKGSTORE_OBJECTS, path,
	    create, err, errlen)) == -1)
		goto fail;
	if ((s->tmpfd = pkgstore_dir_open(s->dirfd, PKGSTORE_TMP, s->tmpdir,
	    create, err, errlen)) == -1)
		goto fail;
	if (pkgstore_env_files_ok(s, err, errlen) == -1)
		goto fail;
	/* Not creating: the environment must be there already. */
	if (!create && faccessat(s->dirfd, "data.mdb", F_OK,
	    AT_SYMLINK_NOFOLLOW) == -1) {
		snprintf(err, errlen, "%s: no package store yet (data.mdb: "
		    "%s)", dir, strerror(errno));
		goto fail;
	}
	if ((rc = pkgstore_env_open(s)) != 0) {
		snprintf(err, errlen, "%s: %s%s", dir, mdb_strerror(rc),
		    rc == MDB_NOTFOUND ? " (not a package store?)" : "");
		goto fail;
	}
	return (s);
 fail:
	pkgstore_close(s);
	return (NULL);
}

void
pkgstore_close(struct pkgstore *s)
{
	if (s == NULL)
		return;
	if (s->env != NULL && s->pid == getpid())
		mdb_env_close(s->env);
	if (s->dirfd != -1)
		close(s->dirfd);
	if (s->objfd != -1)
		close(s->objfd);
	if (s->tmpfd != -1)
		close(s->tmpfd);
	s->magic = 0;
	free(s);
}

const char *
pkgstore_dir(const struct pkgstore *s)
{
	return (s != NULL ? s->dir : "");
}

void
pkgstore_set_limits(struct pkgstore *s, uint64_t quota_total,
    uint64_t quota_user)
{
	if (s == NULL || s->magic != PKGSTORE_MAGIC)
		return;
	s->quota_total = quota_total;
	s->quota_user = quota_user;
}

/* ---- records ---- */

static uint8_t *
put_u64(uint8_t *p, uint64_t v)
{
	int	 i;

	for (i = 0; i < 8; i++)
		*p++ = (uint8_t)(v >> (8 * i));
	return (p);
}

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return (v);
}

static uint8_t *
put_str(uint8_t *p, const char *s)
{
	size_t	 n = strlen(s);

	*p++ = (uint8_t)(n & 0xff);
	*p++ = (uint8_t)(n >> 8);
	memcpy(p, s, n);
	return (p + n);
}

/* A string field of at most size - 1 bytes, no NUL inside. */
static int
get_str(const uint8_t **p, const uint8_t *end, char *dst, size_t size)
{
	size_t	 n;

	if (end - *p < 2)
		return (-1);
	n = (size_t)(*p)[0] | ((size_t)(*p)[1] << 8);
	*p += 2;
	if (n >= size || (size_t)(end - *p) < n || memchr(*p, '\0', n) != NULL)
		return (-1);
	memcpy(dst, *p, n);
	dst[n] = '\0';
	*p += n;
	return (0);
}

/*
 * u8 version, u8 flags (1: public), u64 size, u64 submitted_ms (little
 * endian), then name, mime, keywords, creator_uid, user, groups, each a
 * u16 length and its bytes.  The hash is the key.
 */
size_t
pkgstore_rec_encode(const struct pkg_meta *m, uint8_t *buf, size_t len)
{
	uint8_t	*p = buf;

	if (len < PKGSTORE_REC_MAX)
		return (0);
	*p++ = PKGSTORE_REC_VERSION;
	*p++ = m->public ? 1 : 0;
	p = put_u64(p, m->size);
	p = put_u64(p, (uint64_t)m->submitted_ms);
	p = put_str(p, m->name);
	p = put_str(p, m->mime);
	p = put_str(p, m->keywords);
	p = put_str(p, m->creator_uid);
	p = put_str(p, m->user);
	p = put_str(p, m->groups);
	return ((size_t)(p - buf));
}

int
pkgstore_rec_decode(const MDB_val *key, const MDB_val *v, struct pkg_meta *m)
{
	const uint8_t	*p = v->mv_data, *end = p + v->mv_size;

	memset(m, 0, sizeof(*m));
	if (key->mv_size != PKG_HASH_LEN || v->mv_size < 18 ||
	    p[0] != PKGSTORE_REC_VERSION || (p[1] & ~1U) != 0)
		return (-1);
	pkgstore_hash_hex(key->mv_data, m->hash);
	m->public = p[1] & 1;
	m->size = get_u64(p + 2);
	m->submitted_ms = (int64_t)get_u64(p + 10);
	p += 18;
	if (get_str(&p, end, m->name, sizeof(m->name)) == -1 ||
	    get_str(&p, end, m->mime, sizeof(m->mime)) == -1 ||
	    get_str(&p, end, m->keywords, sizeof(m->keywords)) == -1 ||
	    get_str(&p, end, m->creator_uid, sizeof(m->creator_uid)) == -1 ||
	    get_str(&p, end, m->user, sizeof(m->user)) == -1 ||
	    get_str(&p, end, m->groups, sizeof(m->groups)) == -1 || p != end)
		return (-1);
	return (0);
}

int
pkgstore_rec_get(struct pkgstore *s, MDB_txn *txn, const uint8_t *bin,
    struct pkg_meta *m)
{
	MDB_val	 k, v;
	int	 rc;

	k.mv_data = (void *)(uintptr_t)bin;
	k.mv_size = PKG_HASH_LEN;
	if ((rc = mdb_get(txn, s->dbi_meta, &k, &v)) == MDB_NOTFOUND)
		return (PKG_ERR_NOTFOUND);
	if (rc != 0) {
		log_warnx("pkgstore %s: reading a record: %s", s->dir,
		    mdb_strerror(rc));
		return (-1);
	}
	if (pkgstore_rec_decode(&k, &v, m) == -1) {
		pkgstore_hash_hex(bin, m->hash);
		log_warnx("pkgstore %s: record %s is damaged", s->dir,
		    m->hash);
		return (-1);
	}
	return (0);
}

/* ---- counters ---- */

static int
pkgstore_u64_get(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t *out)
{
	MDB_val	 k, v;
	int	 rc;

	*out = 0;
	k.mv_data = (void *)(uintptr_t)name;
	k.mv_size = strlen(name);
	if ((rc = mdb_get(txn, dbi, &k, &v)) == MDB_NOTFOUND)
		return (0);
	if (rc != 0)
		return (rc);
	if (v.mv_size != 8)
		return (MDB_CORRUPTED);
	*out = get_u64(v.mv_data);
	return (0);
}

static int
pkgstore_u64_put(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t val)
{
	MDB_val	 k, v;
	uint8_t	 buf[8];
	int	 rc;

	k.mv_data = (void *)(uintptr_t)name;
	k.mv_size = strlen(name);
	if (val == 0) {
		rc = mdb_del(txn, dbi, &k, NULL);
		return (rc == MDB_NOTFOUND ? 0 : rc);
	}
	put_u64(buf, val);
	v.mv_data = buf;
	v.mv_size = sizeof(buf);
	return (mdb_put(txn, dbi, &k, &v, 0));
}

int
pkgstore_totals_get(struct pkgstore *s, MDB_txn *txn,
    struct pkgstore_totals *t)
{
	int	 rc;

	if ((rc = pkgstore_u64_get(txn, s->dbi_totals, TOTALS_BYTES,
	    &t->bytes)) == 0)
		rc = pkgstore_u64_get(txn, s->dbi_totals, TOTALS_COUNT,
		    &t->count);
	return (rc);
}

int
pkgstore_user_get(struct pkgstore *s, MDB_txn *txn, const char *user,
    uint64_t *bytes)
{
	*bytes = 0;
	if (user == NULL || user[0] == '\0')
		return (0);
	return (pkgstore_u64_get(txn, s->dbi_users, user, bytes));
}

/* Saturating: a damaged counter never wraps below zero. */
static uint64_t
add_signed(uint64_t a, uint64_t b, int sign)
{
	if (sign > 0)
		return (a > UINT64_MAX - b ? UINT64_MAX : a + b);
	return (a < b ? 0 : a - b);
}

int
pkgstore_charge(struct pkgstore *s, MDB_txn *txn, const char *user,
    uint64_t size, int sign)
{
	struct pkgstore_totals	 t;
	uint64_t		 u;
	int			 rc;

	if ((rc = pkgstore_totals_get(s, txn, &t)) != 0)
		return (rc);
	if ((rc = pkgstore_u64_put(txn, s->dbi_totals, TOTALS_BYTES,
	    add_signed(t.bytes, size, sign))) != 0 ||
	    (rc = pkgstore_u64_put(txn, s->dbi_totals, TOTALS_COUNT,
	    add_signed(t.count, 1, sign))) != 0)
		return (rc);
	if (user[0] == '\0')
		return (0);
	if ((rc = pkgstore_user_get(s, txn, user, &u)) != 0)
		return (rc);
	return (pkgstore_u64_put(txn, s->dbi_users, user,
	    add_signed(u, size, sign)));
}

/* 0, PKG_ERR_QUOTA, PKG_ERR_USER_QUOTA, or an LMDB error (> 0). */
int
pkgstore_quota_check(struct pkgstore *s, MDB_txn *txn, const char *user,
    uint64_t size)
{
	struct pkgstore_totals	 t;
	uint64_t		 u;
	int			 rc;

	if (s->quota_total > 0) {
		if ((rc = pkgstore_totals_get(s, txn, &t)) != 0)
			return (rc);
		if (size > s->quota_total || t.bytes > s->quota_total - size)
			return (PKG_ERR_QUOTA);
	}
	if (s->quota_user > 0 && user != NULL && user[0] != '\0') {
		if ((rc = pkgstore_user_get(s, txn, user, &u)) != 0)
			return (rc);
		if (size > s->quota_user || u > s->quota_user - size)
			return (PKG_ERR_USER_QUOTA);
	}
	return (0);
}

int
pkgstore_room(struct pkgstore *s, const char *user, uint64_t size)
{
	MDB_txn	*txn;
	int	 rc;

	if (!pkgstore_usable(s, "room", false))
		return (-1);
	if ((rc = pkgstore_txn_begin(s, MDB_RDONLY, &txn)) != 0) {
		log_warnx("pkgstore %s: room: %s", s->dir, mdb_strerror(rc));
		return (-1);
	}
	rc = pkgstore_quota_check(s, txn, user, size);
	mdb_txn_abort(txn);
	if (rc > 0) {
		log_warnx("pkgstore %s: room: %s", s->dir, mdb_strerror(rc));
		return (-1);
	}
	return (rc);
}

void
pkgstore_usage(struct pkgstore *s, uint64_t *bytes, uint64_t *count)
{
	struct pkgstore_totals	 t = { 0, 0 };
	MDB_txn			*txn;

	if (pkgstore_usable(s, "usage", false) &&
	    pkgstore_txn_begin(s, MDB_RDONLY, &txn) == 0) {
		if (pkgstore_totals_get(s, txn, &t) != 0)
			t.bytes = t.count = 0;
		mdb_txn_abort(txn);
	}
	if (bytes != NULL)
		*bytes = t.bytes;
	if (count != NULL)
		*count = t.count;
}

uint64_t
pkgstore_user_usage(struct pkgstore *s, const char *user)
{
	MDB_txn		*txn;
	uint64_t	 u = 0;

	if (user == NULL || user[0] == '\0' || strlen(user) >= PKG_USER_SIZE ||
	    !pkgstore_usable(s, "user usage", false) ||
	    pkgstore_txn_begin(s, MDB_RDONLY, &txn) != 0)
		return (0);
	if (pkgstore_user_get(s, txn, user, &u) != 0)
		u = 0;
	mdb_txn_abort(txn);
	return (u);
}

/* ---- operations on records ---- */

int
pkgstore_get(struct pkgstore *s, const char *hash, struct pkg_meta *m)
{
	uint8_t	 bin[PKG_HASH_LEN];
	MDB_txn	*txn;
	int	 rc;

	if (!pkgstore_hash_bin(hash, bin))
		return (PKG_ERR_INVAL);
	if (!pkgstore_usable(s, "get", false))
		return (-1);
	if ((rc = pkgstore_txn_begin(s, MDB_RDONLY, &txn)) != 0) {
		log_warnx("pkgstore %s: get: %s", s->dir, mdb_strerror(rc));
		return (-1);
	}
	rc = pkgstore_rec_get(s, txn, bin, m);
	mdb_txn_abort(txn);
	return (rc);
}

int
pkgstore_write(struct pkgstore *s, const char *what,
    int (*apply)(struct pkgstore *, MDB_txn *, void *), void *arg)
{
	MDB_txn	*txn;
	int	 rc, grown = 0;

	for (;;) {
		if ((rc = pkgstore_txn_begin(s, 0, &txn)) != 0)
			break;
		if ((rc = apply(s, txn, arg)) != 0)
			mdb_txn_abort(txn);
		else
			rc = mdb_txn_commit(txn);
		if (rc != MDB_MAP_FULL || grown++ > 0 ||
		    pkgstore_map_grow(s) == -1)
			break;
	}
	if (rc > 0) {
		log_warnx("pkgstore %s: %s: %s", s->dir, what,
		    mdb_strerror(rc));
		return (rc == ENOSPC || rc == EDQUOT ? PKG_ERR_NOSPACE : -1);
	}
	return (rc);
}

struct public_arg {
	uint8_t		 bin[PKG_HASH_LEN];
	bool		 public;
};

static int
pkgstore_apply_public(struct pkgstore *s, MDB_txn *txn, void *arg)
{
	struct public_arg	*a = arg;
	struct pkg_meta		 m;
	uint8_t			 buf[PKGSTORE_REC_MAX];
	MDB_val			 k, v;
	int			 rc;

	if ((rc = pkgstore_rec_get(s, txn, a->bin, &m)) != 0)
		return (rc);
	if (m.public == a->public)
		return (0);
	m.public = a->public;
	k.mv_data = a->bin;
	k.mv_size = PKG_HASH_LEN;
	v.mv_data = buf;
	v.mv_size = pkgstore_rec_encode(&m, buf, sizeof(buf));
	return (mdb_put(txn, s->dbi_meta, &k, &v, 0));
}

int
pkgstore_set_public(struct pkgstore *s, const char *hash, bool public)
{
	struct public_arg	 a;

	if (!pkgstore_hash_bin(hash, a.bin))
		return (PKG_ERR_INVAL);
	if (!pkgstore_usable(s, "set_public", true))
		return (-1);
	a.public = public;
	return (pkgstore_write(s, "set_public", pkgstore_apply_public, &a));
}

struct delete_arg {
	uint8_t		 bin[PKG_HASH_LEN];
	char		 hex[PKG_HASH_HEX];
	char		 trash[PKG_HASH_HEX + 8];
	int		 subfd;
	bool		 moved;
};

/*
 * The record goes, and the file is moved aside into tmp/ before the
 * commit, under LMDB's write lock: a commit of the same bytes by another
 * process cannot slip in between and lose its file to our unlink.  The
 * caller unlinks the moved file once committed, or moves it back.
 */
static int
pkgstore_apply_delete(struct pkgstore *s, MDB_txn *txn, void *arg)
{
	struct delete_arg	*a = arg;
	struct pkg_meta		 m;
	MDB_val			 k;
	int			 rc;

	/* A retry after a full map: the last attempt's move is undone. */
	if (a->moved) {
		if (renameat(s->tmpfd, a->trash, a->subfd, a->hex) == -1)
			return (pkgstore_errno_err(errno));
		a->moved = false;
	}
	if ((rc = pkgstore_rec_get(s, txn, a->bin, &m)) != 0)
		return (rc);
	k.mv_data = a->bin;
	k.mv_size = PKG_HASH_LEN;
	if ((rc = mdb_del(txn, s->dbi_meta, &k, NULL)) != 0 ||
	    (rc = pkgstore_charge(s, txn, m.user, m.size, -1)) != 0)
		return (rc);
	if (a->subfd == -1)
		return (0);
	if (renameat(a->subfd, a->hex, s->tmpfd, a->trash) == 0)
		a->moved = true;
	else if (errno != ENOENT) {
		log_warn("pkgstore %s: delete %s: moving the file aside",
		    s->dir, a->hex);
		return (pkgstore_errno_err(errno));
	}
	return (0);
}

int
pkgstore_delete(struct pkgstore *s, const char *hash)
{
	struct delete_arg	 a;
	int			 rc;

	if (!pkgstore_hash_bin(hash, a.bin))
		return (PKG_ERR_INVAL);
	if (!pkgstore_usable(s, "delete", true))
		return (-1);
	pkgstore_hash_hex(a.bin, a.hex);
	snprintf(a.trash, sizeof(a.trash), ".del.%s", a.hex);
	a.moved = false;
	/* No subdirectory: no file; the record goes all the same. */
	a.subfd = pkgstore_subdir_open(s, a.hex, false);
	rc = pkgstore_write(s, "delete", pkgstore_apply_delete, &a);
	if (a.moved && rc != 0 &&
	    renameat(s->tmpfd, a.trash, a.subfd, a.hex) == -1)
		log_warn("pkgstore %s: delete %s failed and its file could "
		    "not be put back", s->dir, a.hex);
	else if (a.moved && rc == 0 && unlinkat(s->tmpfd, a.trash, 0) == -1)
		log_warn("pkgstore %s: delete %s: unlink", s->dir, a.hex);
	if (a.subfd != -1)
		close(a.subfd);
	if (rc == 0)
		log_info("pkgstore %s: %s deleted", s->dir, a.hex);
	return (rc);
}

/* ---- the walk in submission order ---- */

struct order {
	int64_t		 ms;
	uint8_t		 bin[PKG_HASH_LEN];
};

static int
order_cmp(const void *a, const void *b)
{
	const struct order	*x = a, *y = b;

	if (x->ms != y->ms)
		return (x->ms < y->ms ? -1 : 1);
	return (memcmp(x->bin, y->bin, PKG_HASH_LEN));
}

/*
 * Collect (time, hash) pairs in one read transaction, sort them, then read
 * each record on its own: the callback runs outside any transaction.
 */
int
pkgstore_foreach(struct pkgstore *s, int (*cb)(const struct pkg_meta *,
    void *), void *arg)
{
	struct order	*v = NULL, *nv;
	struct pkg_meta	 m;
	MDB_cursor	*cur;
	MDB_txn		*txn;
	MDB_val		 k, d;
	size_t		 n = 0, cap = 0, i;
	char		 hex[PKG_HASH_HEX];
	int		 rc, ret = -1;

	if (!pkgstore_usable(s, "foreach", false))
		return (-1);
	if ((rc = pkgstore_txn_begin(s, MDB_RDONLY, &txn)) != 0) {
		log_warnx("pkgstore %s: foreach: %s", s->dir, mdb_strerror(rc));
		return (-1);
	}
	if ((rc = mdb_cursor_open(txn, s->dbi_meta, &cur)) != 0) {
		mdb_txn_abort(txn);
		log_warnx("pkgstore %s: foreach: %s", s->dir, mdb_strerror(rc));
		return (-1);
	}
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (k.mv_size != PKG_HASH_LEN || d.mv_size < 18)
			continue;	/* reported by the read below */
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				rc = ENOMEM;
				break;
			}
			v = nv;
		}
		v[n].ms = (int64_t)get_u64((const uint8_t *)d.mv_data + 10);
		memcpy(v[n].bin, k.mv_data, PKG_HASH_LEN);
		n++;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (rc != MDB_NOTFOUND) {
		log_warnx("pkgstore %s: foreach: %s", s->dir, mdb_strerror(rc));
		goto done;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), order_cmp);
	for (i = 0; i < n; i++) {
		pkgstore_hash_hex(v[i].bin, hex);
		rc = pkgstore_get(s, hex, &m);
		if (rc == PKG_ERR_NOTFOUND)
			continue;	/* deleted meanwhile */
		if (rc != 0)
			goto done;
		if (cb(&m, arg) != 0)
			break;
	}
	ret = 0;
 done:
	free(v);
	return (ret);
}
