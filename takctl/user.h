/*
 * takctl user and group (user.c), their file (user_file.c) and the import
 * of TAK Server's users (user_import.c).
 */
#ifndef TAKD_TAKCTL_USER_H
#define TAKD_TAKCTL_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pki/pki.h"
#include "shared/config.h"
#include "shared/users.h"
#include "shared/users_txn.h"

/* The users file of one command: shared/users_txn.h. */

/*
 * Read [auth] users into t->us (an empty set when there is none).  With
 * lock: make its directory when missing, after the trust walk, and hold
 * its lock until user_end().  -1 after a message.
 */
int	 user_begin(const struct config *, struct users_txn *t, bool lock);
/* Write t->us in place of the file, all or nothing; -1 after a message. */
int	 user_commit(const struct config *, struct users_txn *t);
/* Release the lock and the set. */
void	 user_end(struct users_txn *t);

/*
 * The new password of name, hashed into hash: asked twice without echo
 * at a terminal, else one line of stdin.  -1 after a message.
 */
int	 user_password(const char *name, char *hash, size_t hashlen);

/*
 * The current password of name into pw (pwlen bytes): asked once without
 * echo at a terminal, else one line of stdin.  Its length, -1 after a
 * message.
 */
ssize_t	 user_password_read(const char *name, char *pw, size_t pwlen);

/*
 * takctl pki enroll-package USER (enroll.c): the enrollment package and
 * the QR strings of a user of the users file.  The exit status.
 */
int	 pki_cmd_enroll_package(struct config *, int argc, char **argv);
/* takctl/expiring.c: pki expiring; the count for takctl status (-1: none) */
int	 pki_cmd_expiring(struct config *, int argc, char **argv);
long	 pki_expiring_clients(const struct config *, unsigned days);

/*
 * takctl user import-tak FILE (user_import.c): add the users of a TAK
 * Server UserAuthenticationFile.xml.  The exit status.
 */
int	 user_import_tak(const struct config *, const char *file);

#endif
