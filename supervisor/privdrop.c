/*
 * Dropping root.  Order matters: supplementary groups and gid must go while we
 * still have CAP_SETGID, uid last; then prove the drop by trying to get root
 * back.  Every step is fatal.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "shared/log.h"
#include "supervisor/privdrop.h"

int
privdrop_lookup(const char *user, const char *group, struct privdrop_ids *ids,
    char *err, size_t errlen)
{
	struct passwd	*pw;
	struct group	*gr;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "[server] user %s: no such user; create "
		    "the account takd runs as once started (useradd --system "
		    "--home-dir /nonexistent --shell /usr/sbin/nologin %s), "
		    "or name another unprivileged account of its own", user,
		    user);
		return (-1);
	}
	ids->uid = pw->pw_uid;
	ids->gid = pw->pw_gid;
	if (group[0] != '\0') {
		if ((gr = getgrnam(group)) == NULL) {
			snprintf(err, errlen, "[server] group %s: no such group",
			    group);
			return (-1);
		}
		ids->gid = gr->gr_gid;
	}
	if (ids->uid == 0) {
		snprintf(err, errlen, "[server] user %s is root; takd will not "
		    "run its workers as root", user);
		return (-1);
	}
	return (0);
}

void
privdrop_apply(const struct privdrop_ids *ids)
{
	if (setgroups(1, &ids->gid) == -1)
		fatal("setgroups");
	if (setresgid(ids->gid, ids->gid, ids->gid) == -1)
		fatal("setresgid %u", (unsigned)ids->gid);
	if (setresuid(ids->uid, ids->uid, ids->uid) == -1)
		fatal("setresuid %u", (unsigned)ids->uid);
	if (setuid(0) != -1 || seteuid(0) != -1)
		fatalx("privilege drop failed: root could be regained");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
#ifdef TAKD_SANITIZE
	/*
	 * Sanitizer builds only: LeakSanitizer needs to ptrace its own process,
	 * which the kernel forbids once a uid change cleared "dumpable".
	 * Release builds stay undumpable (no core files holding keys).
	 */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
}
