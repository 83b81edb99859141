#ifndef TAKD_PRIVDROP_H
#define TAKD_PRIVDROP_H

#include <sys/types.h>

struct privdrop_ids {
	uid_t	 uid;
	gid_t	 gid;
};

/* Look up [server] user and group.  -1 with err when either is unknown. */
int	 privdrop_lookup(const char *user, const char *group,
	    struct privdrop_ids *, char *err, size_t errlen);
/*
 * setgroups, setresgid, setresuid, then check that root cannot be regained
 * and set PR_SET_NO_NEW_PRIVS.  Every failure is fatal: a half-dropped daemon
 * must not run.
 */
void	 privdrop_apply(const struct privdrop_ids *);

#endif
