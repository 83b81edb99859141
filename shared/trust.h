/*
 * Paths that root may trust (docs/security.md).  takd starts as root and
 * then runs as an unprivileged service user: a directory that user (or any
 * other) can write to would let it swap a file or a link under root's feet
 * between a check and a use.  So every directory takd and takctl trust is
 * walked from / downwards, one openat(O_NOFOLLOW) at a time, and each
 * component must be owned by root (or by the user that started us, for a
 * developer's instance) and writable by nobody else, a root-owned sticky
 * directory such as /tmp excepted.  A symbolic link met on the way is
 * followed only when it lies in a directory that passed, as sshd's
 * StrictModes would have it.
 */
#ifndef TAKD_TRUST_H
#define TAKD_TRUST_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define TRUST_CREATE	0x1	/* make missing directories (the last: mode) */
#define TRUST_LINKS_MAX	16	/* symbolic links followed in one walk */

/*
 * The owner trusted besides root: the user that started us (call before any
 * privilege drop; 0, root itself, when started as root).  Its value stays in
 * force after the drop, so that the service user never becomes trusted.
 */
void	 trust_set_owner(uid_t);
uid_t	 trust_get_owner(void);

/*
 * Open the directory path (absolute, or relative to the working directory)
 * after checking every component from /: an O_RDONLY | O_DIRECTORY
 * descriptor, or -1 with a message in err naming the component and the fix.
 * TRUST_CREATE makes the missing components (mode 0755, the last one mode)
 * as it goes.
 */
int	 trust_dir_open(const char *path, int flags, mode_t mode, char *err,
	    size_t errlen);

/*
 * A file or directory that root trusts (st from fstat): owned by root or
 * the trusted owner, not writable by group or others.  -1 with a message
 * naming path otherwise.
 */
int	 trust_stat_check(const struct stat *st, const char *path, char *err,
	    size_t errlen);

/* dir and base of path into buffers of PATH_MAX; -1 when too long. */
int	 trust_split(const char *path, char *dir, char *base);

#endif
