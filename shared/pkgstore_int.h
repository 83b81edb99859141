/*
 * What pkgstore.c (the environment, records, reads and small writes),
 * pkgstore_file.c (temp files, commit, content, gc) and pkgstore_check.c
 * (validation, visibility) share.  Not for other modules: pkgstore.h.
 */
#ifndef TAKD_PKGSTORE_INT_H
#define TAKD_PKGSTORE_INT_H

#include <sys/types.h>

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <lmdb.h>

#include "shared/pkgstore.h"

#define PKGSTORE_MAGIC		0x706b6773U	/* "pkgs" */
#define PKGSTORE_REC_VERSION	1
#define PKGSTORE_OBJECTS	"objects"
#define PKGSTORE_TMP		"tmp"
/*
 * The map: records are at most ~5 KiB, so 256 MiB holds tens of
 * thousands; it doubles on MDB_MAP_FULL up to 16 GiB (address space only:
 * data.mdb grows with what is written).
 */
#define PKGSTORE_MAP_INIT	((size_t)256 << 20)
#define PKGSTORE_MAP_MAX	((size_t)16 << 30)
#define PKGSTORE_READERS	126

struct pkgstore {
	unsigned	 magic;
	unsigned	 flags;
	pid_t		 pid;
	MDB_env		*env;
	MDB_dbi		 dbi_meta;
	MDB_dbi		 dbi_users;
	MDB_dbi		 dbi_totals;
	int		 dirfd;		/* packages_dir */
	int		 objfd;		/* objects/ */
	int		 tmpfd;		/* tmp/ */
	uint64_t	 quota_total;
	uint64_t	 quota_user;
	char		 dir[PATH_MAX];
	char		 tmpdir[PATH_MAX];	/* dir/tmp */
};

/* A record's usage counters (totals) and a user's charge. */
struct pkgstore_totals {
	uint64_t	 bytes;
	uint64_t	 count;
};

bool	 pkgstore_usable(struct pkgstore *, const char *what, bool write);
int	 pkgstore_txn_begin(struct pkgstore *, unsigned flags, MDB_txn **);
int	 pkgstore_map_grow(struct pkgstore *);
/*
 * Run one write: apply() in a transaction, committed when it returns 0;
 * once more after growing the map when it is full.  apply returns 0, a
 * PKG_ERR_* (< 0) or an LMDB error (> 0), which is logged with what and
 * returned as PKG_ERR_NOSPACE or -1.
 */
int	 pkgstore_write(struct pkgstore *, const char *what,
	    int (*apply)(struct pkgstore *, MDB_txn *, void *), void *arg);
/* Hex (either case) to binary; false when not a hash. */
bool	 pkgstore_hash_bin(const char *hex, uint8_t bin[PKG_HASH_LEN]);
void	 pkgstore_hash_hex(const uint8_t bin[PKG_HASH_LEN],
	    char hex[PKG_HASH_HEX]);

/* Records: encode into buf (its length), decode (0, or -1 when damaged). */
size_t	 pkgstore_rec_encode(const struct pkg_meta *, uint8_t *buf,
	    size_t len);
int	 pkgstore_rec_decode(const MDB_val *key, const MDB_val *v,
	    struct pkg_meta *);
/* The record of bin in txn: 0, PKG_ERR_NOTFOUND or -1 (logged). */
int	 pkgstore_rec_get(struct pkgstore *, MDB_txn *, const uint8_t *bin,
	    struct pkg_meta *);
#define PKGSTORE_REC_MAX	(2 + 16 + 6 * 2 + PKG_NAME_SIZE + \
	    PKG_MIME_SIZE + PKG_KEYWORDS_SIZE + PKG_UID_SIZE + PKG_USER_SIZE + \
	    PKG_GROUPS_SIZE)

/* Inside a write transaction: read/charge the counters. */
int	 pkgstore_totals_get(struct pkgstore *, MDB_txn *,
	    struct pkgstore_totals *);
int	 pkgstore_user_get(struct pkgstore *, MDB_txn *, const char *user,
	    uint64_t *bytes);
/* Add (sign 1) or give back (sign -1) a record's size and count. */
int	 pkgstore_charge(struct pkgstore *, MDB_txn *, const char *user,
	    uint64_t size, int sign);
/* The quota check of a new record of size bytes by user. */
int	 pkgstore_quota_check(struct pkgstore *, MDB_txn *, const char *user,
	    uint64_t size);

/* The two-hex subdirectory of objects/ for hex, opened (fd or -1). */
int	 pkgstore_subdir_open(struct pkgstore *, const char *hex, bool create);
/* Map an errno to PKG_ERR_NOSPACE or PKG_ERR_IO. */
int	 pkgstore_errno_err(int);
/* Union of two group lists into dst (dstlen): 1 changed, 0 same. */
int	 pkgstore_groups_union(char *dst, size_t dstlen, const char *add,
	    const char *hash);

#endif
