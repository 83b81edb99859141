/*
 * The checks of a console user change: see change.h.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "shared/grouplist.h"
#include "shared/password.h"
#include "usersd/change.h"

/*
 * The three lists of r into g (room for USERS_GROUPS_MAX), each name
 * checked as the users file checks it.  Their number, or -1 with msg.
 */
static long
usersd_groups(const struct users_req *r, struct users_group *g, char *msg,
    size_t msglen)
{
	const char	*lists[3] = { r->groups, r->in, r->out };
	const char	*what[3] = { "groups", "in", "out" };
	const unsigned	 halves[3] = { USERS_IN | USERS_OUT, USERS_IN,
			    USERS_OUT };
	const char	*pos, *end, *name;
	size_t		 n = 0, len, k;

	for (k = 0; k < 3; k++) {
		end = lists[k] + strlen(lists[k]);
		if (grouplist_check(lists[k], strlen(lists[k])) == -1) {
			snprintf(msg, msglen, "%s: not a list of group names "
			    "(names of 1 to %d bytes separated by commas, "
			    "without ':' or control characters)", what[k],
			    USERS_NAME_MAX - 1);
			return (-1);
		}
		pos = lists[k];
		while ((name = grouplist_next(&pos, end, &len)) != NULL) {
			if (n == USERS_GROUPS_MAX) {
				snprintf(msg, msglen, "at most %d groups a "
				    "user", USERS_GROUPS_MAX);
				return (-1);
			}
			memcpy(g[n].name, name, len);
			g[n].name[len] = '\0';
			if (!users_name_ok(g[n].name)) {
				snprintf(msg, msglen, "%s: \"%s\" is not a "
				    "group name", what[k], g[n].name);
				return (-1);
			}
			g[n++].halves = halves[k];
		}
	}
	return ((long)n);
}

/* A new password, checked and hashed into hash. */
static uint32_t
usersd_hash(const char *pw, char *hash, size_t hashlen, char *msg,
    size_t msglen)
{
	char	 err[256];

	if (pw[0] == '\0') {
		snprintf(msg, msglen, "password: empty; give the new user a "
		    "password (users without one: takctl user add "
		    "--no-password)");
		return (USERS_ST_BAD);
	}
	if (password_hash(pw, hash, hashlen, err, sizeof(err)) == -1) {
		snprintf(msg, msglen, "password: %s", err);
		return (USERS_ST_BAD);
	}
	return (USERS_ST_OK);
}

/* Whether r's admin may change anything: the file says, not the api. */
static bool
usersd_admin_ok(const struct users *us, const struct users_req *r)
{
	const struct users_user	*a;

	if (!users_name_ok(r->admin) ||
	    (a = users_find(us, r->admin)) == NULL ||
	    a->role != USERS_ROLE_ADMIN || !users_has_password(a))
		return (false);
	return (password_verify(r->admin_pw, a->hash));
}

uint32_t
usersd_change(struct users *us, const struct users_req *r, char *msg,
    size_t msglen)
{
	const struct users_user	*cur;
	struct users_user	 u;
	struct users_group	*g = NULL;
	char			 err[512];
	long			 n;
	uint32_t		 st;

	msg[0] = '\0';
	memset(&u, 0, sizeof(u));
	if (r->op < USERS_OP_ADD || r->op >= USERS_OP_MAX) {
		snprintf(msg, msglen, "unknown operation");
		return (USERS_ST_BAD);
	}
	/* First: nothing about the file is told to whoever lacks this. */
	if (!usersd_admin_ok(us, r)) {
		snprintf(msg, msglen, "the admin password is wrong (or \"%s\" "
		    "is not an admin of the users file)", r->admin);
		return (USERS_ST_DENIED);
	}
	if (!users_name_ok(r->user)) {
		snprintf(msg, msglen, "user: not a user name (1 to %d bytes "
		    "of printable UTF-8 without ':' or ',', no blank at either "
		    "end, not starting with '#')", USERS_NAME_MAX - 1);
		return (USERS_ST_BAD);
	}
	cur = users_find(us, r->user);
	if (cur != NULL && cur->role == USERS_ROLE_ADMIN) {
		snprintf(msg, msglen, "\"%s\" is an admin: admins are changed "
		    "with takctl user on the server only", r->user);
		return (USERS_ST_DENIED);
	}
	if (r->op == USERS_OP_ADD && cur != NULL) {
		snprintf(msg, msglen, "user \"%s\" exists", r->user);
		return (USERS_ST_EXISTS);
	}
	if (r->op != USERS_OP_ADD && cur == NULL) {
		snprintf(msg, msglen, "no user \"%s\"", r->user);
		return (USERS_ST_NOT_FOUND);
	}
	if (r->op == USERS_OP_DEL) {
		if (users_del(us, r->user, err, sizeof(err)) == -1) {
			snprintf(msg, msglen, "%s", err);
			return (USERS_ST_ERROR);
		}
		snprintf(msg, msglen, "user \"%s\" deleted", r->user);
		return (USERS_ST_OK);
	}
	/* The new entry: the current one's fields, or a plain user. */
	snprintf(u.name, sizeof(u.name), "%s", r->user);
	u.role = USERS_ROLE_USER;
	if (cur != NULL) {
		memcpy(u.hash, cur->hash, sizeof(u.hash));
		u.n_groups = cur->n_groups;
		u.groups = cur->groups;
	}
	if (r->op == USERS_OP_ADD || r->op == USERS_OP_GROUPS) {
		if ((g = calloc(USERS_GROUPS_MAX, sizeof(*g))) == NULL) {
			snprintf(msg, msglen, "out of memory");
			return (USERS_ST_ERROR);
		}
		if ((n = usersd_groups(r, g, msg, msglen)) == -1) {
			st = USERS_ST_BAD;
			goto done;
		}
		u.groups = g;
		u.n_groups = (size_t)n;
	}
	if ((r->op == USERS_OP_ADD || r->op == USERS_OP_PASSWD) &&
	    (st = usersd_hash(r->password, u.hash, sizeof(u.hash), msg,
	    msglen)) != USERS_ST_OK)
		goto done;
	/* users_put checks the whole entry again (duplicate groups...). */
	if (users_put(us, &u, err, sizeof(err)) == -1) {
		snprintf(msg, msglen, "%s", err);
		st = USERS_ST_BAD;
		goto done;
	}
	snprintf(msg, msglen, "user \"%s\": %s", r->user,
	    r->op == USERS_OP_ADD ? "added" : r->op == USERS_OP_PASSWD ?
	    "password changed" : "groups changed");
	st = USERS_ST_OK;
 done:
	OPENSSL_cleanse(u.hash, sizeof(u.hash));
	free(g);
	return (st);
}
