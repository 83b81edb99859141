/*
 * The users file's transaction: see users_txn.h.  Moved here from
 * takctl/user_file.c so that takd-usersd writes the file exactly as
 * takctl does.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "shared/trust.h"
#include "shared/users_txn.h"

static int
users_txn_split(struct users_txn *t, char *err, size_t errlen)
{
	if (trust_split(t->path, t->dir, t->base) == -1 ||
	    strcmp(t->base, ".") == 0 || strcmp(t->base, "..") == 0) {
		snprintf(err, errlen, "[auth] users %s: not a file name",
		    t->path);
		return (-1);
	}
	/* pki_txn_stage's room for a name. */
	if (strlen(t->base) >= sizeof(t->pki.f[0].name)) {
		snprintf(err, errlen, "[auth] users %s: a file name of at "
		    "most %zu bytes", t->path, sizeof(t->pki.f[0].name) - 1);
		return (-1);
	}
	return (0);
}

int
users_txn_begin(struct users_txn *t, const char *path, gid_t gid, bool lock,
    char *err, size_t errlen)
{
	char	 why[USERS_TXN_ERR_MAX];
	int	 fd;

	memset(t, 0, sizeof(*t));
	t->pki.dirfd = t->pki.clientfd = t->pki.crlfd = -1;
	t->path = path;
	t->gid = gid;
	if (users_txn_split(t, err, errlen) == -1)
		return (-1);
	if (!lock) {
		if ((fd = trust_dir_open(t->dir, 0, 0, why,
		    sizeof(why))) == -1) {
			if (errno == ENOENT &&
			    (t->us = users_new()) != NULL)
				return (0);
			snprintf(err, errlen, "[auth] users %s: %s", path, why);
			return (-1);
		}
		if (users_read(fd, t->base, path, &t->us, err, errlen) == -1) {
			close(fd);
			return (-1);
		}
		close(fd);
		return (0);
	}
	/* Walk and make the directory, then lock it as the PKI does. */
	if ((fd = trust_dir_open(t->dir, TRUST_CREATE, USERS_TXN_DIR_MODE,
	    why, sizeof(why))) == -1) {
		snprintf(err, errlen, "[auth] users %s: %s", path, why);
		return (-1);
	}
	close(fd);
	if (pki_txn_begin(&t->pki, t->dir, false, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "[auth] users %s: %s", path, why);
		return (-1);
	}
	t->locked = true;
	if (users_read(t->pki.dirfd, t->base, path, &t->us, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "%s (nothing changed)", why);
		return (-1);
	}
	return (0);
}

void
users_txn_end(struct users_txn *t)
{
	if (t->locked)
		pki_txn_end(&t->pki);
	t->locked = false;
	users_free(t->us);
	t->us = NULL;
}

/*
 * Give the staged file (a temporary, ours) to the service group.  Only
 * the group: the owner stays whoever writes (root), and an owner may
 * give its file to a group it is a member of without CAP_CHOWN, which
 * takd-usersd, root without capabilities, relies on.
 */
static int
users_txn_chown_staged(struct users_txn *t, char *err, size_t errlen)
{
	const char	*tmp = t->pki.f[t->pki.n - 1].tmp;
	int		 fd, rc = 0;

	if (t->gid == (gid_t)-1)
		return (0);
	fd = openat(t->pki.dirfd, tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fchown(fd, (uid_t)-1, t->gid) == -1 ||
	    fsync(fd) == -1) {
		snprintf(err, errlen, "%s: chgrp %u: %s", t->path,
		    (unsigned)t->gid, strerror(errno));
		rc = -1;
	}
	if (fd != -1)
		close(fd);
	return (rc);
}

int
users_txn_commit(struct users_txn *t, char *err, size_t errlen)
{
	char	 why[USERS_TXN_ERR_MAX];
	char	*buf;
	size_t	 len;
	int	 rc = -1;

	if (!t->locked) {
		snprintf(err, errlen, "%s: not locked", t->path);
		return (-1);
	}
	if ((buf = users_format(t->us, &len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	if (pki_txn_stage(&t->pki, t->pki.dirfd, t->base, buf, len,
	    USERS_TXN_FILE_MODE, why, sizeof(why)) == -1 ||
	    users_txn_chown_staged(t, why, sizeof(why)) == -1 ||
	    pki_txn_commit(&t->pki, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s; %s: not written, nothing changed",
		    why, t->path);
		goto done;
	}
	rc = 0;
 done:
	OPENSSL_cleanse(buf, len);
	free(buf);
	return (rc);
}
