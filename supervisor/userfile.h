/*
 * The users file in the supervisor (docs/groups.md): read at start (takd
 * does not start on an invalid one), read again at every reload (an
 * invalid one keeps the set in force), handed to the workers: inherited
 * at fork, pushed in a sealed memfd at a reload (reload.c).  The set kept
 * has no password hashes (users_strip): no worker checks a password.  The
 * api process does when it serves enrollment (HTTP Basic on 8446): it
 * alone gets the text with the hashes (users.api_fd), at its fork and at
 * every reload (docs/security.md, "The users file").
 */
#ifndef TAKD_USERFILE_H
#define TAKD_USERFILE_H

#include <stdint.h>
#include <time.h>

#include "supervisor/sup.h"

struct privdrop_ids;

/*
 * Open the file's directory (walked from /, trust.h: kept for the reloads
 * after the privilege drop) and read the file.  A missing file is an empty
 * set.  Started as root (ids: the service user's), a file in a directory
 * the service user cannot search is refused, since no reload could read
 * it.  -1 with err: takd must not start.
 */
int	 userfile_init(struct sup *, const struct privdrop_ids *ids, char *err,
	    size_t errlen);
/*
 * Read the file again.  0: a new generation is in force here (the caller
 * pushes it); -1 with err (logged, kept for takctl status): the set in
 * force stays.
 */
int	 userfile_reload(struct sup *, char *err, size_t errlen);
/* The set in force in a sealed memfd for IPC_MSG_USERS, or -1 (logged). */
int	 userfile_memfd(struct sup *);
/*
 * What the api process gets of it: the memfd with the hashes when
 * enrollment is on, else fd (the workers' one).  Borrowed.
 */
int	 userfile_api_fd(const struct sup *, int fd);
void	 userfile_cleanup(struct sup *);

#endif
