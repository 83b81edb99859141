/*
 * takd-usersd's Landlock sandbox: see sandbox.h.
 *
 * Without capabilities, uid 0 keeps the owner's access to every file of
 * root's: /etc/passwd, /etc/shadow, root's crontab and ssh keys.  The
 * capability drop alone would leave a helper taken over through its
 * channel one write away from a root login.  Landlock (Linux 5.13) takes
 * that away: after usersd_sandbox() this process may touch files beneath
 * the users file's directory only, may list directories (the trust walk
 * opens its components O_PATH, which Landlock does not check, but a kernel
 * may), and may neither execute nor make devices, links elsewhere or TCP
 * connections.  The rules hold for the process and anything it could
 * start, and cannot be lifted.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/landlock.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "usersd/sandbox.h"

/* The filesystem rights of each Landlock ABI, cumulated. */
static uint64_t
sandbox_fs_rights(int abi)
{
	uint64_t	 r;

	r = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	    LANDLOCK_ACCESS_FS_MAKE_SYM;
#ifdef LANDLOCK_ACCESS_FS_REFER
	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
#ifdef LANDLOCK_ACCESS_FS_IOCTL_DEV
	if (abi >= 5)
		r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
#endif
	return (r);
}

/* What this ABI reads of the attribute: an older kernel refuses more. */
static size_t
sandbox_attr_size(int abi)
{
#ifdef LANDLOCK_ACCESS_NET_CONNECT_TCP
	if (abi < 4)
		return (offsetof(struct landlock_ruleset_attr,
		    handled_access_net));
#endif
	(void)abi;
	return (sizeof(struct landlock_ruleset_attr));
}

static int
sandbox_allow(int ruleset, const char *path, uint64_t rights, char *err,
    size_t errlen)
{
	struct landlock_path_beneath_attr	 pb;
	int					 fd, rc;

	if ((fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = rights;
	pb.parent_fd = fd;
	rc = (int)syscall(SYS_landlock_add_rule, ruleset,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	if (rc == -1)
		snprintf(err, errlen, "landlock_add_rule(%s): %s", path,
		    strerror(errno));
	close(fd);
	return (rc);
}

int
usersd_sandbox(const char *dir, char *err, size_t errlen)
{
	struct landlock_ruleset_attr	 ra;
	uint64_t			 all, root = LANDLOCK_ACCESS_FS_READ_DIR;
	int				 abi, ruleset = -1;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		snprintf(err, errlen, "Landlock unavailable (%s)",
		    strerror(errno));
		return (1);
	}
	all = sandbox_fs_rights(abi);
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = all;
#ifdef LANDLOCK_ACCESS_NET_CONNECT_TCP
	/* No TCP at all: the helper has no business on the network. */
	if (abi >= 4)
		ra.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP |
		    LANDLOCK_ACCESS_NET_CONNECT_TCP;
#endif
	if ((ruleset = (int)syscall(SYS_landlock_create_ruleset, &ra,
	    sandbox_attr_size(abi), 0)) == -1) {
		snprintf(err, errlen, "landlock_create_ruleset: %s",
		    strerror(errno));
		return (-1);
	}
	/*
	 * Listing directories anywhere; everything in the users' directory
	 * but executing and making devices.  Sanitizer builds may also read
	 * and execute anywhere: LeakSanitizer reads /proc/self at exit and a
	 * report runs the symbolizer.  Writing stays confined in every build.
	 */
#ifdef TAKD_SANITIZE
	root = LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_EXECUTE;
#endif
	if (sandbox_allow(ruleset, "/", root, err,
	    errlen) == -1 || sandbox_allow(ruleset, dir, all &
	    ~(uint64_t)(LANDLOCK_ACCESS_FS_EXECUTE |
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_BLOCK),
	    err, errlen) == -1)
		goto fail;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS): %s",
		    strerror(errno));
		goto fail;
	}
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) == -1) {
		snprintf(err, errlen, "landlock_restrict_self: %s",
		    strerror(errno));
		goto fail;
	}
	close(ruleset);
	return (0);
 fail:
	close(ruleset);
	return (-1);
}
