/*
 * Changing the users file ([auth] users, users.h) under the lock of its
 * directory: the one write path of takctl user (takctl/user_file.c) and
 * of takd-usersd, the console's helper (usersd/, docs/security.md), so
 * that neither ever loses the other's change and takd never reads half a
 * file.
 *
 * The write is pki/store.c's transaction (the flock of the directory, a
 * temporary file made O_CREAT|O_EXCL|O_NOFOLLOW with its final mode,
 * fsync, rename, fsync of the directory); the directory goes through the
 * trust walk (shared/trust.h) before anything is written.  Run as root,
 * the file is root's with the service user's group, mode 0640: takd reads
 * it after dropping root.
 *
 * Linked into takctl and takd-usersd only (it needs pki/): the Makefile
 * keeps it out of takd.
 */
#ifndef TAKD_USERS_TXN_H
#define TAKD_USERS_TXN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pki/pki.h"
#include "shared/users.h"

#define USERS_TXN_FILE_MODE	0640	/* root rw, the service group r */
#define USERS_TXN_DIR_MODE	0755	/* made when missing, like state_dir */
#define USERS_TXN_ERR_MAX	(PATH_MAX + 1024)

/* The users file of one change: read, and locked. */
struct users_txn {
	struct pki_txn	 pki;
	const char	*path;		/* [auth] users */
	bool		 locked;
	char		 dir[PATH_MAX];
	char		 base[PATH_MAX];
	gid_t		 gid;		/* the service group; -1: keep ours */
	struct users	*us;
};

/*
 * Read the users file path into t->us (an empty set when there is none).
 * With lock: make its directory when missing, after the trust walk, and
 * hold its lock until users_txn_end(); gid is the group the written file
 * gets (-1: the writer's).  -1 with a message in err.
 */
int	 users_txn_begin(struct users_txn *t, const char *path, gid_t gid,
	    bool lock, char *err, size_t errlen);
/* Write t->us in place of the file, all or nothing; -1 with err. */
int	 users_txn_commit(struct users_txn *t, char *err, size_t errlen);
/* Release the lock and the set. */
void	 users_txn_end(struct users_txn *t);

#endif
