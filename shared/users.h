/*
 * The users file ([auth] users): who a client certificate's user is, its
 * role, and its groups with their IN ("may publish to") and OUT ("receives
 * from") halves (../shared/protocol.md, "Groups"; docs/groups.md).
 *
 * Read by the supervisor at start and at every reload (an invalid file
 * keeps the one in force), pushed to the workers, which give each session
 * its groups; written by takctl user, atomically.
 *
 * The file is text, one user a line, fields separated by ':':
 *
 *	# takd users 1
 *	NAME:HASH:ROLE:GROUPS:IN:OUT
 *
 * NAME the user (a certificate's [auth] user_rdn, CN by default); HASH a
 * crypt(3) hash ("$id$...": yescrypt, bcrypt, sha512crypt ... from
 * libcrypt, see shared/password.h; "" or "!" when the user has no
 * password: certificate only); ROLE "user" or "admin"; GROUPS the groups
 * with both halves, IN the IN-only and OUT the OUT-only ones, each a
 * comma-separated list, possibly empty.  '#' starts a comment line; blank
 * lines are ignored; a first line "# takd users N" names the format's
 * version, and only 1 is known.  A name or a group is 1 to USERS_NAME_MAX
 * - 1 bytes of printable UTF-8 without ':', ',' or control characters,
 * without blanks at either end and not starting with '#'; a user appears
 * once, and a group once among the three lists of a user.  Names compare
 * as bytes (case matters).
 *
 * takctl writes the file sorted by name with the version line first and
 * no other comment: parse(format(x)) == x.  The parser sorts what a person
 * wrote in another order.
 */
#ifndef TAKD_USERS_H
#define TAKD_USERS_H

#include <stdbool.h>
#include <stddef.h>

#define USERS_NAME_MAX		64	/* a user or group name, NUL included */
#define USERS_HASH_MAX		128	/* a crypt(3) hash, NUL included */
#define USERS_GROUPS_MAX	64	/* groups of one user, all halves */
#define USERS_MAX		100000	/* users in one file */
#define USERS_FILE_MAX		(64u << 20)
#define USERS_ANON		"__ANON__"	/* the group of nobody else's */
#define USERS_VERSION		1	/* of the format ("# takd users 1") */

enum users_role {
	USERS_ROLE_USER,
	USERS_ROLE_ADMIN
};

/* Which half of a group a user has. */
#define USERS_IN		0x1	/* may publish to it */
#define USERS_OUT		0x2	/* receives from it */

struct users_group {
	char		 name[USERS_NAME_MAX];
	unsigned	 halves;		/* USERS_IN | USERS_OUT */
};

/*
 * groups points to n_groups entries: those with both halves first, then
 * the IN-only, then the OUT-only ones, each in the order written.  (An
 * array of USERS_GROUPS_MAX in every user would take 4.4 KB a user, 440
 * MB for a file of 100,000 in every process that holds it.)
 */
struct users_user {
	char		 name[USERS_NAME_MAX];
	char		 hash[USERS_HASH_MAX];
	enum users_role	 role;
	size_t		 n_groups;
	struct users_group *groups;
};

struct users;

/*
 * Parse a users file's bytes; name is the path for messages.  NULL with
 * "NAME:LINE: message" in err when anything is wrong: nothing is half
 * taken.
 */
struct users	*users_parse(const char *buf, size_t len, const char *name,
		    char *err, size_t errlen);
/* An empty set of users (no file yet). */
struct users	*users_new(void);
void		 users_free(struct users *);

/*
 * Read and parse the file name in the directory dirfd (path for
 * messages) through fileio_read(): a regular file, no link followed, at
 * most USERS_FILE_MAX bytes, root's (or the trusted owner's, trust.h) and
 * writable by nobody else.  0 with *out set; 1 with an empty set in *out
 * when the file does not exist; -1 with a message in err.
 */
int		 users_read(int dirfd, const char *name, const char *path,
		    struct users **out, char *err, size_t errlen);

/*
 * Forget every password hash ("!" in its place): what the processes that
 * never check a password keep (docs/security.md, "The users file").
 */
void		 users_strip(struct users *);

/*
 * shared/users_fd.c: the set as the supervisor hands it to the workers at
 * a reload, the file's text (users_format) in a sealed memfd; -1 with err.
 * users_map reads one back: sealed, at most USERS_FILE_MAX bytes, parsed
 * whole (name for messages); NULL with err.
 */
int		 users_memfd(const struct users *, char *err, size_t errlen);
struct users	*users_map(int fd, const char *name, char *err,
		    size_t errlen);

size_t		 users_count(const struct users *);
/* The i-th user, in name order (strcmp). */
const struct users_user *users_get(const struct users *, size_t i);
/* The user called name, or NULL (a binary search). */
const struct users_user *users_find(const struct users *, const char *name);

/*
 * Every group named in the set, once, in name order: a group's index is
 * a small number for bitsets, valid until the next change of the set.
 * users_group_index: the index of name, or -1.
 */
size_t		 users_group_count(const struct users *);
const char	*users_group_name(const struct users *, size_t i);
long		 users_group_index(const struct users *, const char *name);

/*
 * Changes (takctl): 0, or -1 with a message in err and nothing changed.
 * users_put adds u or replaces the user of that name; every field is
 * checked as the parser checks it (names, hash, role, halves, duplicate
 * groups, at most USERS_GROUPS_MAX), u->groups may come in any order and
 * is copied.  A pointer from users_get or users_find is valid until the
 * next change.
 */
int		 users_put(struct users *, const struct users_user *, char *err,
		    size_t errlen);
int		 users_del(struct users *, const char *name, char *err,
		    size_t errlen);

/* The file's text, sorted by name; the caller frees it.  NULL: no memory. */
char		*users_format(const struct users *, size_t *len);

/* Whether s is a valid user or group name (see above). */
bool		 users_name_ok(const char *s);
/* Whether s has the shape of a crypt(3) hash, or is "" or "!". */
bool		 users_hash_ok(const char *s);
/* Whether the user has a password (a hash, not "" or "!"). */
bool		 users_has_password(const struct users_user *);
const char	*users_role_name(enum users_role);

#endif
