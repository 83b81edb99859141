/*
 * The data package store's files: temp files, the commit of an upload
 * (its rename into objects/ and its record in one write transaction), the
 * content of a package, and gc.  See pkgstore.h.
 *
 * Every name used here is ours: a temp file's random name, or a hash in
 * lowercase hex.  Every file is reached relative to a directory
 * descriptor with O_NOFOLLOW (or AT_SYMLINK_NOFOLLOW), so a link planted
 * in the store is never followed: it is refused, and gc removes it.
 */
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "shared/log.h"
#include "shared/pkgstore.h"
#include "shared/pkgstore_int.h"

#define TMP_PREFIX	"up."
#define TMP_RANDOM	12		/* bytes of randomness in a name */

int
pkgstore_errno_err(int e)
{
	return (e == ENOSPC || e == EDQUOT ? PKG_ERR_NOSPACE : PKG_ERR_IO);
}

int
pkgstore_subdir_open(struct pkgstore *s, const char *hex, bool create)
{
	char	 sub[3] = { hex[0], hex[1], '\0' };

	if (create && mkdirat(s->objfd, sub, 0700) == -1 && errno != EEXIST)
		return (-1);
	return (openat(s->objfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC));
}

/* The name in tmp/ of path, when path is one of our temp files; or NULL. */
static const char *
pkgstore_tmp_base(struct pkgstore *s, const char *path)
{
	size_t		 n = strlen(s->tmpdir);
	const char	*base;

	if (path == NULL || strncmp(path, s->tmpdir, n) != 0 || path[n] != '/')
		return (NULL);
	base = path + n + 1;
	if (strncmp(base, TMP_PREFIX, strlen(TMP_PREFIX)) != 0 ||
	    strchr(base, '/') != NULL || strlen(base) > 64)
		return (NULL);
	return (base);
}

int
pkgstore_tmp_create(struct pkgstore *s, char *path, size_t len)
{
	uint8_t		 rnd[TMP_RANDOM];
	char		 name[sizeof(TMP_PREFIX) + 2 * TMP_RANDOM];
	size_t		 i;
	int		 fd, tries, e;

	if (!pkgstore_usable(s, "tmp_create", true))
		return (-1);
	for (tries = 0; tries < 8; tries++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			log_warn("pkgstore %s: getrandom", s->dir);
			return (-1);
		}
		memcpy(name, TMP_PREFIX, strlen(TMP_PREFIX));
		for (i = 0; i < sizeof(rnd); i++)
			snprintf(name + strlen(TMP_PREFIX) + 2 * i, 3, "%02x",
			    rnd[i]);
		if ((size_t)snprintf(path, len, "%s/%s", s->tmpdir, name) >=
		    len) {
			log_warnx("pkgstore %s: temp path buffer too short",
			    s->dir);
			return (-1);
		}
		fd = openat(s->tmpfd, name, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd != -1)
			return (fd);
		if (errno != EEXIST)
			break;
	}
	e = errno;
	log_warn("pkgstore %s: creating a temp file", s->dir);
	return (pkgstore_errno_err(e));
}

int
pkgstore_tmp_remove(struct pkgstore *s, const char *tmp_path)
{
	const char	*base;

	if (s == NULL || s->magic != PKGSTORE_MAGIC)
		return (-1);
	if ((base = pkgstore_tmp_base(s, tmp_path)) == NULL) {
		log_warnx("pkgstore %s: %.80s is not a temp file of the store",
		    s->dir, tmp_path != NULL ? tmp_path : "(null)");
		return (-1);
	}
	if (unlinkat(s->tmpfd, base, 0) == -1 && errno != ENOENT) {
		log_warn("pkgstore %s: removing %s", s->dir, tmp_path);
		return (-1);
	}
	return (0);
}

/*
 * Remove what tmp/ holds: everything (older_s 0), or what was last
 * modified more than older_s seconds ago.  The count, or -1.
 */
static int
pkgstore_tmp_sweep(struct pkgstore *s, time_t older_s)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	time_t		 now = time(NULL);
	int		 fd, n = 0;

	if ((fd = openat(s->tmpfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (d = fdopendir(fd)) == NULL) {
		log_warn("pkgstore %s: reading %s", s->dir, s->tmpdir);
		if (fd != -1)
			close(fd);
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(s->tmpfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    -1)
			continue;
		if (older_s > 0 && S_ISREG(st.st_mode) &&
		    st.st_mtime > now - older_s)
			continue;
		if (unlinkat(s->tmpfd, de->d_name, S_ISDIR(st.st_mode) ?
		    AT_REMOVEDIR : 0) == -1) {
			log_warn("pkgstore %s: removing %s/%s", s->dir,
			    s->tmpdir, de->d_name);
			continue;
		}
		n++;
	}
	closedir(d);
	return (n);
}

int
pkgstore_tmp_clean(struct pkgstore *s)
{
	int	 n;

	if (!pkgstore_usable(s, "tmp_clean", true))
		return (-1);
	if ((n = pkgstore_tmp_sweep(s, 0)) > 0)
		log_info("pkgstore %s: %d temp file%s of interrupted uploads "
		    "removed", s->dir, n, n == 1 ? "" : "s");
	return (n);
}

/* ---- commit ---- */

struct commit_arg {
	struct pkg_meta	 m;
	uint8_t		 bin[PKG_HASH_LEN];
	const char	*base;		/* in tmp/ */
	int		 subfd;		/* objects/ab */
	bool		 moved;		/* the temp file is in objects/ */
	bool		 existed;
};

/* Move the temp file into objects/, durably. */
static int
commit_move(struct pkgstore *s, struct commit_arg *a)
{
	if (renameat(s->tmpfd, a->base, a->subfd, a->m.hash) == -1) {
		log_warn("pkgstore %s: %s: moving it into objects/", s->dir,
		    a->m.hash);
		return (pkgstore_errno_err(errno));
	}
	a->moved = true;
	if (fsync(a->subfd) == -1) {
		log_warn("pkgstore %s: %s: fsync of its directory", s->dir,
		    a->m.hash);
		return (pkgstore_errno_err(errno));
	}
	return (0);
}

static int
pkgstore_apply_commit(struct pkgstore *s, MDB_txn *txn, void *arg)
{
	struct commit_arg	*a = arg;
	struct pkg_meta		 old;
	struct stat		 st;
	uint8_t			 buf[PKGSTORE_REC_MAX];
	MDB_val			 k, v;
	int			 rc;

	/* A retry after a full map: the last attempt's move is undone. */
	if (a->moved) {
		if (renameat(a->subfd, a->m.hash, s->tmpfd, a->base) == -1)
			return (pkgstore_errno_err(errno));
		a->moved = false;
	}
	k.mv_data = a->bin;
	k.mv_size = PKG_HASH_LEN;
	v.mv_data = buf;
	a->existed = false;
	rc = pkgstore_rec_get(s, txn, a->bin, &old);
	if (rc == 0) {
		/* The same bytes: nothing new, the groups joined. */
		a->existed = true;
		if (pkgstore_groups_union(old.groups, sizeof(old.groups),
		    a->m.groups, old.hash)) {
			v.mv_size = pkgstore_rec_encode(&old, buf, sizeof(buf));
			if ((rc = mdb_put(txn, s->dbi_meta, &k, &v, 0)) != 0)
				return (rc);
		}
		/* Its file lost (a record gc would drop): ours replaces it. */
		if (old.size == a->m.size && (fstatat(a->subfd, a->m.hash, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode))) {
			log_warnx("pkgstore %s: %s: the record had no file; "
			    "the upload restores it", s->dir, a->m.hash);
			return (commit_move(s, a));
		}
		return (0);
	}
	if (rc != PKG_ERR_NOTFOUND)
		return (rc);
	if ((rc = pkgstore_quota_check(s, txn, a->m.user, a->m.size)) != 0)
		return (rc);
	v.mv_size = pkgstore_rec_encode(&a->m, buf, sizeof(buf));
	if ((rc = mdb_put(txn, s->dbi_meta, &k, &v, MDB_NOOVERWRITE)) != 0 ||
	    (rc = pkgstore_charge(s, txn, a->m.user, a->m.size, 1)) != 0)
		return (rc);
	/* Last: LMDB's write lock orders it with deletes and gc. */
	return (commit_move(s, a));
}

/* The temp file: open, a regular file of the announced size, synced. */
static int
commit_check_tmp(struct pkgstore *s, const char *base,
    const struct pkg_meta *m)
{
	struct stat	 st;
	int		 fd, rc = PKG_ERR_INVAL, e;

	fd = openat(s->tmpfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1) {
		e = errno;
		log_warn("pkgstore %s: %s: temp file %s", s->dir, m->hash,
		    base);
		return (e == ENOENT || e == ELOOP ? PKG_ERR_INVAL : -1);
	}
	if (fstat(fd, &st) == -1) {
		rc = pkgstore_errno_err(errno);
		log_warn("pkgstore %s: %s: fstat", s->dir, m->hash);
	} else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != m->size)
		log_warnx("pkgstore %s: %s: temp file %s is not a file of "
		    "%llu bytes", s->dir, m->hash, base,
		    (unsigned long long)m->size);
	else if (fsync(fd) == -1) {
		rc = pkgstore_errno_err(errno);
		log_warn("pkgstore %s: %s: fsync", s->dir, m->hash);
	} else
		rc = 0;
	close(fd);
	return (rc);
}

static int
pkgstore_write_commit(struct pkgstore *s, struct commit_arg *a)
{
	char	 what[PKG_HASH_HEX + 16];
	int	 rc;

	snprintf(what, sizeof(what), "%s: recording it", a->m.hash);
	rc = pkgstore_write(s, what, pkgstore_apply_commit, a);
	/* Failed after the move: the file leaves objects/ with no record. */
	if (rc != 0 && a->moved &&
	    renameat(a->subfd, a->m.hash, s->tmpfd, a->base) == -1 &&
	    unlinkat(a->subfd, a->m.hash, 0) == -1)
		log_warn("pkgstore %s: %s: removing the unrecorded file "
		    "(gc will)", s->dir, a->m.hash);
	return (rc);
}

int
pkgstore_commit(struct pkgstore *s, const char *tmp_path,
    const struct pkg_meta *meta, bool *existed)
{
	struct commit_arg	 a;
	char			 err[160];
	int			 rc;

	if (existed != NULL)
		*existed = false;
	if (s == NULL || s->magic != PKGSTORE_MAGIC || meta == NULL)
		return (-1);
	memset(&a, 0, sizeof(a));
	a.subfd = -1;
	if ((a.base = pkgstore_tmp_base(s, tmp_path)) == NULL) {
		log_warnx("pkgstore %s: commit of %.80s: not a temp file of "
		    "the store", s->dir, tmp_path != NULL ? tmp_path : "");
		return (PKG_ERR_INVAL);
	}
	if (!pkgstore_usable(s, "commit", true)) {
		rc = -1;
		goto done;
	}
	if (!pkgstore_meta_ok(meta, err, sizeof(err))) {
		log_warnx("pkgstore %s: commit by user \"%.63s\": %s", s->dir,
		    meta->user, err);
		rc = PKG_ERR_INVAL;
		goto done;
	}
	a.m = *meta;
	pkgstore_hash_lower(a.m.hash);
	(void)pkgstore_hash_bin(a.m.hash, a.bin);
	if (a.m.submitted_ms <= 0) {
		struct timespec	 ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		a.m.submitted_ms = (int64_t)ts.tv_sec * 1000 +
		    ts.tv_nsec / 1000000;
	}
	if ((rc = commit_check_tmp(s, a.base, &a.m)) != 0)
		goto done;
	if ((a.subfd = pkgstore_subdir_open(s, a.m.hash, true)) == -1) {
		rc = pkgstore_errno_err(errno);
		log_warn("pkgstore %s: %s: objects/%.2s", s->dir, a.m.hash,
		    a.m.hash);
		goto done;
	}
	rc = pkgstore_write_commit(s, &a);
	if (rc == 0 && existed != NULL)
		*existed = a.existed;
	if (rc == 0)
		log_info("pkgstore %s: %s %s (\"%s\", %llu bytes, user "
		    "\"%s\")", s->dir, a.m.hash, a.existed ? "uploaded again" :
		    "stored", a.m.name, (unsigned long long)a.m.size, a.m.user);
	else if (rc == PKG_ERR_QUOTA || rc == PKG_ERR_USER_QUOTA)
		log_warnx("pkgstore %s: %s (%llu bytes, user \"%s\") refused: "
		    "%s", s->dir, a.m.hash, (unsigned long long)a.m.size,
		    a.m.user, pkgstore_strerror(rc));
 done:
	/* Moved or not, the temp name is gone afterwards. */
	if (unlinkat(s->tmpfd, a.base, 0) == -1 && errno != ENOENT)
		log_warn("pkgstore %s: removing temp file %s", s->dir, a.base);
	if (a.subfd != -1)
		close(a.subfd);
	return (rc);
}

/* ---- content ---- */

int
pkgstore_content_open(struct pkgstore *s, const char *hash, uint64_t *size)
{
	struct pkg_meta	 m;
	struct stat	 st;
	int		 subfd, fd, rc;

	if ((rc = pkgstore_get(s, hash, &m)) != 0)
		return (rc);
	if ((subfd = pkgstore_subdir_open(s, m.hash, false)) == -1) {
		fd = -1;
	} else {
		fd = openat(subfd, m.hash, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC);
		close(subfd);
	}
	if (fd == -1) {
		if (errno == ENOENT) {
			log_warnx("pkgstore %s: %s has a record but no file "
			    "(takctl packages gc drops it)", s->dir, m.hash);
			return (PKG_ERR_NOTFOUND);
		}
		log_warn("pkgstore %s: %s: opening its file%s", s->dir, m.hash,
		    errno == ELOOP ? " (a link: refused)" : "");
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != m.size) {
		log_warnx("pkgstore %s: %s: its file is not a regular file of "
		    "%llu bytes: refused", s->dir, m.hash,
		    (unsigned long long)m.size);
		close(fd);
		return (-1);
	}
	if (size != NULL)
		*size = m.size;
	return (fd);
}

/* ---- gc ---- */

static bool
lowhex(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return (false);
	return (s[n] == '\0');
}

/* Remove an entry of dirfd that is not ours; a non-empty dir is kept. */
static void
gc_foreign(struct pkgstore *s, int dirfd, const char *where, const char *name,
    const struct stat *st, struct pkgstore_gc_report *rep)
{
	if (unlinkat(dirfd, name, S_ISDIR(st->st_mode) ? AT_REMOVEDIR : 0) ==
	    -1) {
		log_warn("pkgstore %s: gc: %s%s is not ours and stays", s->dir,
		    where, name);
		return;
	}
	log_warnx("pkgstore %s: gc: %s%s removed (%s, not a package file)",
	    s->dir, where, name, S_ISLNK(st->st_mode) ? "a symbolic link" :
	    S_ISDIR(st->st_mode) ? "a directory" : S_ISREG(st->st_mode) ?
	    "a badly named file" : "a special file");
	rep->foreign++;
}

/* Files of objects/sub: without a record, or not ours, they go. */
static int
gc_subdir(struct pkgstore *s, MDB_txn *txn, const char *sub,
    struct pkgstore_gc_report *rep)
{
	struct pkg_meta	 m;
	struct dirent	*de;
	struct stat	 st;
	uint8_t		 bin[PKG_HASH_LEN];
	char		 where[8];
	DIR		*d;
	int		 fd, rc;

	snprintf(where, sizeof(where), "%s/", sub);
	fd = openat(s->objfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		log_warn("pkgstore %s: gc: objects/%s", s->dir, sub);
		if (fd != -1)
			close(fd);
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (!S_ISREG(st.st_mode) || !lowhex(de->d_name, 64) ||
		    strncmp(de->d_name, sub, 2) != 0) {
			gc_foreign(s, fd, where, de->d_name, &st, rep);
			continue;
		}
		(void)pkgstore_hash_bin(de->d_name, bin);
		if ((rc = pkgstore_rec_get(s, txn, bin, &m)) == 0)
			continue;
		if (rc != PKG_ERR_NOTFOUND)
			continue;	/* damaged: logged, kept */
		if (unlinkat(fd, de->d_name, 0) == -1) {
			log_warn("pkgstore %s: gc: objects/%s%s", s->dir,
			    where, de->d_name);
			continue;
		}
		log_info("pkgstore %s: gc: %s (%lld bytes) had no record: "
		    "removed", s->dir, de->d_name, (long long)st.st_size);
		rep->orphan_files++;
		rep->orphan_bytes += (uint64_t)st.st_size;
	}
	closedir(d);
	return (0);
}

static int
gc_objects(struct pkgstore *s, MDB_txn *txn, struct pkgstore_gc_report *rep)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	int		 fd, ret = 0;

	if ((fd = openat(s->objfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (d = fdopendir(fd)) == NULL) {
		log_warn("pkgstore %s: gc: objects/", s->dir);
		if (fd != -1)
			close(fd);
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(s->objfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    -1)
			continue;
		if (S_ISDIR(st.st_mode) && lowhex(de->d_name, 2)) {
			if (gc_subdir(s, txn, de->d_name, rep) == -1)
				ret = -1;
		} else
			gc_foreign(s, s->objfd, "", de->d_name, &st, rep);
	}
	closedir(d);
	return (ret);
}

/* Records whose file is gone (or is not a regular file): dropped. */
static int
gc_records(struct pkgstore *s, MDB_txn *txn, struct pkgstore_gc_report *rep)
{
	struct pkg_meta	 m;
	struct stat	 st;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	uint8_t		(*drop)[PKG_HASH_LEN] = NULL, (*nd)[PKG_HASH_LEN];
	size_t		 n = 0, cap = 0, i;
	int		 rc, subfd, gone;

	if ((rc = mdb_cursor_open(txn, s->dbi_meta, &cur)) != 0)
		return (rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (pkgstore_rec_decode(&k, &v, &m) == -1)
			continue;	/* damaged: kept for a person to see */
		gone = 0;
		if ((subfd = pkgstore_subdir_open(s, m.hash, false)) == -1)
			gone = errno == ENOENT;
		else {
			gone = fstatat(subfd, m.hash, &st,
			    AT_SYMLINK_NOFOLLOW) == -1 ? errno == ENOENT :
			    !S_ISREG(st.st_mode);
			close(subfd);
		}
		if (!gone)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((nd = reallocarray(drop, cap, sizeof(*drop))) ==
			    NULL) {
				rc = ENOMEM;
				break;
			}
			drop = nd;
		}
		memcpy(drop[n++], k.mv_data, PKG_HASH_LEN);
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		goto done;
	/* Deleted after the walk: no cursor to keep valid meanwhile. */
	for (rc = 0, i = 0; i < n && rc == 0; i++) {
		if ((rc = pkgstore_rec_get(s, txn, drop[i], &m)) != 0) {
			rc = rc == PKG_ERR_NOTFOUND ? 0 : MDB_CORRUPTED;
			continue;
		}
		k.mv_data = drop[i];
		k.mv_size = PKG_HASH_LEN;
		if ((rc = mdb_del(txn, s->dbi_meta, &k, NULL)) == 0 &&
		    (rc = pkgstore_charge(s, txn, m.user, m.size, -1)) == 0) {
			log_warnx("pkgstore %s: gc: %s (\"%s\") had no file: "
			    "record removed", s->dir, m.hash, m.name);
			rep->orphan_records++;
		}
	}
 done:
	free(drop);
	return (rc);
}

static int
pkgstore_apply_gc(struct pkgstore *s, MDB_txn *txn, void *arg)
{
	struct pkgstore_gc_report	*rep = arg;

	/* Files first: a link planted as a hash is gone, then its record. */
	memset(rep, 0, sizeof(*rep));
	if (gc_objects(s, txn, rep) == -1)
		return (PKG_ERR_IO);
	return (gc_records(s, txn, rep));
}

/*
 * One write transaction for both walks: LMDB's write lock keeps a commit
 * (which moves its file in under it) from being seen half done.
 */
int
pkgstore_gc(struct pkgstore *s, struct pkgstore_gc_report *rep)
{
	struct pkgstore_gc_report	 r;
	MDB_txn				*txn;
	int				 rc, n;

	if (!pkgstore_usable(s, "gc", true))
		return (-1);
	memset(&r, 0, sizeof(r));
	if ((rc = pkgstore_txn_begin(s, 0, &txn)) == 0) {
		if ((rc = pkgstore_apply_gc(s, txn, &r)) != 0)
			mdb_txn_abort(txn);
		else
			rc = mdb_txn_commit(txn);
	}
	if (rc > 0)
		log_warnx("pkgstore %s: gc: %s", s->dir, mdb_strerror(rc));
	if ((n = pkgstore_tmp_sweep(s, PKGSTORE_TMP_STALE_S)) > 0)
		r.stale_tmp = (uint64_t)n;
	if (rep != NULL)
		*rep = r;
	log_info("pkgstore %s: gc: %llu orphan files (%llu bytes), %llu "
	    "orphan records, %llu stale temp files, %llu foreign entries",
	    s->dir, (unsigned long long)r.orphan_files,
	    (unsigned long long)r.orphan_bytes,
	    (unsigned long long)r.orphan_records,
	    (unsigned long long)r.stale_tmp, (unsigned long long)r.foreign);
	return (rc == 0 && n >= 0 ? 0 : -1);
}
