/*
 * takd-usersd's one decision (usersd/usersd.c, docs/security.md "Console:
 * who changes the users file"): whether a request of the console may
 * change the users file, and the change.  Pure over the set of users but
 * for the password hashing (shared/password.h), so that the unit tests
 * drive it as the helper does.
 *
 * A request passes only when its admin is a user of the file with role
 * admin and a password, and admin_password verifies against that hash:
 * what the api process says about who is logged in counts for nothing.
 * It never creates an admin nor changes a role (the request has no role:
 * users are added with role user), never touches a user whose role is
 * admin (an admin's password, groups, removal: takctl user on the
 * server), and takes names and groups only as the users file's own
 * validators do (users_name_ok, grouplist_check, users_put).
 */
#ifndef TAKD_USERSD_CHANGE_H
#define TAKD_USERSD_CHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/users_msg.h"
#include "shared/users.h"

/*
 * Check r against us and, when it passes, apply it to us (new passwords
 * hashed here, yescrypt as takctl user add does).  The users_status, with
 * words for the admin in msg; us is unchanged unless USERS_ST_OK.
 */
uint32_t usersd_change(struct users *us, const struct users_req *r,
	    char *msg, size_t msglen);

#endif
