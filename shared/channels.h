/*
 * Channels (ATAK 4.4+, docs/groups.md "Channels"): the halves of a user's
 * groups that the user turned off with PUT /Marti/api/groups/active.
 *
 * The body is what TAK Server's setActiveGroups takes, an array of its
 * Group objects: [{"name":"Blue","direction":"IN","active":true,...},...],
 * one entry per half, "active" true when absent (the Group class's
 * default); every other member ("created", "type", "bitpos",
 * "description"...) is passed over.  The halves the body turns on are the
 * user's choice; every other half of its groups is off.  What is kept (in
 * LMDB, shared/store.h) is the off set: a group the users file gives the
 * user later is on until the user turns it off.
 *
 * Nothing here reads a file or the network: the api process parses and
 * chooses, the supervisor stores the encoded off set, the workers and the
 * api decode it and apply it to the user's groups of the users file in
 * force (channels_apply()), so that a group a reload took away is gone
 * whatever the choice said.
 */
#ifndef TAKD_CHANNELS_H
#define TAKD_CHANNELS_H

#include <stdbool.h>
#include <stddef.h>

#include "shared/users.h"

#define CHANNELS_BODY_MAX	(32u << 10)	/* bytes of a PUT body */
/* Entries of a body: one per half of at most USERS_GROUPS_MAX groups. */
#define CHANNELS_ENTRIES_MAX	(2 * USERS_GROUPS_MAX)
/* An encoded off set: one line per group, "H" + name + "\n". */
#define CHANNELS_REC_MAX	(USERS_GROUPS_MAX * (USERS_NAME_MAX + 1))

/* One entry of a body: a group's half and whether it is to be on. */
struct channels_entry {
	char		 name[USERS_NAME_MAX];
	bool		 name_bad;	/* no group name: nobody's group */
	unsigned	 half;		/* USERS_IN or USERS_OUT */
	bool		 active;
};

struct channels_req {
	size_t			 n;
	struct channels_entry	 e[CHANNELS_ENTRIES_MAX];
};

/* The halves of a user's groups that are off (name and halves). */
struct channels_off {
	size_t			 n;
	struct users_group	 g[USERS_GROUPS_MAX];
};

/* What channels_choose() says of a body for a user. */
enum channels_verdict {
	CHANNELS_OK,
	CHANNELS_FOREIGN,	/* turns on a half the user does not have */
	CHANNELS_NONE		/* leaves none of the user's halves on */
};

/*
 * Parse a body (len bytes, not NUL-terminated).  0, or -1 with the reason
 * in err (answer 400): not a JSON array of objects, a member of the wrong
 * type, a missing name or direction, a direction other than "IN" or "OUT",
 * more than CHANNELS_ENTRIES_MAX entries, a member given twice in an
 * entry, one half given twice with two answers.  A name that is no group
 * name (too long, a ',' or a control character) is not refused here: it is
 * nobody's group (name_bad).
 */
int	 channels_parse(const char *body, size_t len, struct channels_req *,
	    char *err, size_t errlen);

/*
 * The off set of user u for req: every half of u's groups that req does
 * not turn on.  An entry that turns a half off, or names a half u does not
 * have with "active":false, changes nothing.  CHANNELS_FOREIGN or
 * CHANNELS_NONE with the reason in err; off is then empty.
 */
enum channels_verdict channels_choose(const struct channels_req *req,
	    const struct users_user *u, struct channels_off *off, char *err,
	    size_t errlen);

/* The halves of group name that off turns off (0: none). */
unsigned channels_off_halves(const struct channels_off *, const char *name);

/*
 * u's groups under off: halves[i] = u->groups[i].halves without off's.
 * When that leaves no half at all (a reload took away every group the
 * user kept on), the choice is set aside and halves[] are u's own: a
 * session is never left with no group because of it (it would fall to
 * the next source, __ANON__, and see more).  Whether off narrowed
 * anything.  halves has room for u->n_groups.
 */
bool	 channels_apply(const struct channels_off *off,
	    const struct users_user *u, unsigned *halves);

/*
 * The stored form: for each group, one byte '1' (IN off), '2' (OUT off)
 * or '3' (both), the name, '\n'.  An empty off set encodes to 0 bytes.
 * encode: 0, or -1 when it does not fit in cap.  decode: 0, or -1 when buf
 * is not such a record (a bad line, a name that is no group name, a name
 * twice, too many).
 */
int	 channels_encode(const struct channels_off *, char *buf, size_t cap,
	    size_t *len);
int	 channels_decode(const char *buf, size_t len, struct channels_off *);

#endif
