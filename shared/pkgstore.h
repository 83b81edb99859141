/*
 * The data package store (issue 18, docs/datapackages.md): files shared by
 * TAK clients, stored content-addressed under [api] packages_dir, with
 * their metadata in an LMDB environment of their own.  The api process
 * writes it (uploads, deletes), takctl packages reads and cleans it.
 *
 *	packages/data.mdb, lock.mdb	the environment (durable: every commit
 *					is synced, unlike the SA store's)
 *	packages/objects/ab/<64 hex>	a file's bytes, named by its SHA-256
 *					(lowercase hex; "ab" its first byte)
 *	packages/tmp/<random>		uploads in progress
 *
 * Nothing a client sends becomes a path: files are named by their hash
 * only, the client's file name is a field of the record.  Every file is
 * opened relative to a directory descriptor with O_NOFOLLOW; a symbolic
 * link or anything but a regular file in the store is refused.
 *
 * Databases: "meta" (32-byte binary SHA-256 -> record, with a version
 * byte), "users" (user name -> bytes charged to that user, u64), "totals"
 * ("bytes", "count" -> u64).  A record and its counters change in one
 * write transaction; LMDB's write lock also orders the file operations of
 * concurrent processes (a commit's rename, a delete's unlink, gc), so a
 * file and its record come and go together.
 *
 * Functions that take a hash accept 64 hex digits in either case; records
 * hold it in lowercase.  Errors are logged here, with the hash and user.
 * An environment must not cross a fork: each process opens its own.
 * Not thread-safe: one store per thread.
 */
#ifndef TAKD_PKGSTORE_H
#define TAKD_PKGSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKG_HASH_HEX		65	/* 64 lowercase hex + NUL */
#define PKG_HASH_LEN		32	/* binary SHA-256 */
/* Field sizes, NUL included; longer values are refused (pkgstore_meta_ok). */
#define PKG_NAME_SIZE		256
#define PKG_MIME_SIZE		128
#define PKG_KEYWORDS_SIZE	512
#define PKG_UID_SIZE		256
#define PKG_USER_SIZE		64	/* USERS_NAME_MAX */
#define PKG_GROUPS_SIZE		4096	/* GROUPLIST_STR_MAX */

/* Temp files older than this are stale to pkgstore_gc() (not to _tmp_clean). */
#define PKGSTORE_TMP_STALE_S	(24 * 3600)

/* pkgstore_open() flags */
#define PKGSTORE_RDONLY		0x01	/* no writes, never creates anything */
#define PKGSTORE_NOCREATE	0x02	/* writable, but the store must exist */

/* Results: 0 is success; -1 is PKG_ERR_IO. */
#define PKG_ERR_IO		(-1)	/* I/O, LMDB or a damaged store */
#define PKG_ERR_NOTFOUND	(-2)	/* no record (or its file is gone) */
#define PKG_ERR_QUOTA		(-3)	/* [api] quota, the store's total */
#define PKG_ERR_USER_QUOTA	(-4)	/* [api] user_quota */
#define PKG_ERR_NOSPACE		(-5)	/* ENOSPC/EDQUOT: the disk is full */
#define PKG_ERR_INVAL		(-6)	/* a bad hash, name, field or temp */

struct pkgstore;

struct pkg_meta {
	char		 hash[PKG_HASH_HEX];
	/*
	 * The file name as given: 1 to 255 bytes of UTF-8 without control
	 * characters, '/' or '\\', not "." or "..".  Never a path.
	 */
	char		 name[PKG_NAME_SIZE];
	char		 mime[PKG_MIME_SIZE];	/* printable ASCII, may be "" */
	char		 keywords[PKG_KEYWORDS_SIZE]; /* "a,b" as given, UTF-8 */
	char		 creator_uid[PKG_UID_SIZE];	/* UTF-8, may be "" */
	/*
	 * The uploader's user (its certificate's user, users_name_ok()),
	 * "" for none.  The per-user quota is charged to it; "" is charged
	 * to nobody (only the total).  On a dedup the first uploader keeps
	 * the charge and this field.
	 */
	char		 user[PKG_USER_SIZE];
	/*
	 * The uploaders' IN-half groups, "A,B" (grouplist.h): who may see it
	 * are the users with one of them in their OUT half.  A second upload
	 * of the same bytes adds its groups (the union; at most
	 * GROUPLIST_MAX, further ones are dropped with a log line).
	 */
	char		 groups[PKG_GROUPS_SIZE];
	uint64_t	 size;		/* bytes: the temp file's, checked */
	int64_t		 submitted_ms;	/* unix ms, the first upload's */
	bool		 public;	/* tool flag: everybody may see it */
};

struct pkgstore_gc_report {
	uint64_t	 orphan_files;	/* objects/ without a record: removed */
	uint64_t	 orphan_bytes;
	uint64_t	 orphan_records; /* records without a file: removed */
	uint64_t	 stale_tmp;	/* tmp/ older than PKGSTORE_TMP_STALE_S */
	uint64_t	 foreign;	/* not ours (links, dirs, bad names): removed */
};

/*
 * Open (creating the directory 0700, objects/, tmp/ and the environment
 * when absent, unless RDONLY or NOCREATE) the store in dir.  NULL with a
 * message in err.  RDONLY and NOCREATE fail when the store does not exist.
 */
struct pkgstore	*pkgstore_open(const char *dir, unsigned flags, char *err,
		    size_t errlen);
void		 pkgstore_close(struct pkgstore *);	/* NULL: nothing */
const char	*pkgstore_dir(const struct pkgstore *);

/* Limits ([api] quota, user_quota), in bytes; 0 is none.  Default none. */
void		 pkgstore_set_limits(struct pkgstore *, uint64_t quota_total,
		    uint64_t quota_user);

/*
 * A new temp file in tmp/, mode 0600, O_RDWR|O_CLOEXEC: its descriptor
 * (the caller closes it) and its path in path (len >= PATH_MAX is safe),
 * or -1 (PKG_ERR_NOSPACE when the disk is full).
 */
int		 pkgstore_tmp_create(struct pkgstore *, char *path, size_t len);
/* Remove every file in tmp/ (the api at start).  The count, or -1. */
int		 pkgstore_tmp_clean(struct pkgstore *);
/* Remove one temp file (an aborted upload); a path not in tmp/ is refused. */
int		 pkgstore_tmp_remove(struct pkgstore *, const char *tmp_path);

/*
 * Would size more bytes by user fit under the limits?  0, PKG_ERR_QUOTA,
 * PKG_ERR_USER_QUOTA, or -1.  A hint before streaming an upload: commit
 * checks again.
 */
int		 pkgstore_room(struct pkgstore *, const char *user,
		    uint64_t size);

/*
 * Move a finished temp file (from pkgstore_tmp_create(); written and
 * closed or not by the caller, fsync'd here) into objects/ under
 * meta->hash and record meta (checked by pkgstore_meta_ok(); meta->size
 * must be the file's size; the hash is trusted: the caller computed it
 * over the bytes it wrote).  Same bytes already stored: nothing new on
 * disk, the existing record keeps its fields and its groups become the
 * union, no quota charged, *existed true.  Quotas are checked inside the
 * write transaction.  0 or PKG_ERR_*; the temp file is always gone
 * afterwards, and a failure leaves neither a new file nor a record.
 */
int		 pkgstore_commit(struct pkgstore *, const char *tmp_path,
		    const struct pkg_meta *, bool *existed);

/* The record of hash: 0, PKG_ERR_NOTFOUND, PKG_ERR_INVAL, -1. */
int		 pkgstore_get(struct pkgstore *, const char *hash,
		    struct pkg_meta *);
/*
 * The file of hash, O_RDONLY|O_CLOEXEC, a regular file never reached
 * through a link: its descriptor (*size its length; size may be NULL),
 * PKG_ERR_NOTFOUND (no record, or no file), PKG_ERR_INVAL or -1.
 */
int		 pkgstore_content_open(struct pkgstore *, const char *hash,
		    uint64_t *size);
int		 pkgstore_set_public(struct pkgstore *, const char *hash,
		    bool);			/* 0, PKG_ERR_NOTFOUND, -1 */
/* The record and its file, the charge given back: 0, PKG_ERR_NOTFOUND, -1. */
int		 pkgstore_delete(struct pkgstore *, const char *hash);

/*
 * Call cb for every record, oldest submission first (ties by hash), outside
 * any transaction: cb may call the other functions (a record deleted
 * meanwhile is skipped).  cb returns 0 to go on.  0, or -1.
 */
int		 pkgstore_foreach(struct pkgstore *,
		    int (*cb)(const struct pkg_meta *, void *), void *arg);

/*
 * Remove files in objects/ without a record (and anything there that is
 * not a regular file named by a hash), records without a file (their
 * charge given back), temp files older than PKGSTORE_TMP_STALE_S.  rep
 * may be NULL.  0, or -1.
 */
int		 pkgstore_gc(struct pkgstore *, struct pkgstore_gc_report *rep);

/* What is stored: bytes and records (the totals; 0 on error). */
void		 pkgstore_usage(struct pkgstore *, uint64_t *bytes,
		    uint64_t *count);
/* The bytes charged to user (0 for none or ""). */
uint64_t	 pkgstore_user_usage(struct pkgstore *, const char *user);

/* 64 hex digits, either case.  pkgstore_hash_lower() lowers one in place. */
bool		 pkgstore_hash_ok(const char *hex);
void		 pkgstore_hash_lower(char *hex);
bool		 pkgstore_name_ok(const char *name);
/* Every field of meta (hash, name, mime, ...) bounded and valid. */
bool		 pkgstore_meta_ok(const struct pkg_meta *, char *err,
		    size_t errlen);

/*
 * Whether a requester sees a package: admins see all, anybody a public
 * one, else one of meta->groups must be in out_groups (the requester's
 * OUT half, a list as in grouplist.h; NULL is "").
 */
bool		 pkgstore_visible(const struct pkg_meta *,
		    const char *out_groups, bool admin);

/* A result as text ("quota exceeded", ...), for logs and answers. */
const char	*pkgstore_strerror(int);

#endif
