/*
 * Groups in a worker: who may see whom (docs/groups.md, "Routing").
 *
 * Every group has an IN half ("may publish to") and an OUT half ("receives
 * from"); an event from S reaches D only when some group has S in IN and D
 * in OUT.  A session holds two sets, in and out; an event carries its
 * sender's in set; the check for one delivery is groups_meet(): an AND of
 * the few words both sets use.
 *
 * A set is a bitset of ids.  Ids are this process's: the table (struct
 * groups, one per worker) gives each group name that a local session holds
 * a small id, counted by references (one per session holding it, either
 * half) and given back when the last session lets it go.  At most
 * GROUPS_MAX groups are in use at once in a worker; a session that needs
 * one more is refused (closed, loudly), never given fewer or other groups.
 * Groups cross process boundaries by name (shared/grouplist.h): a name
 * that no local session holds has no id here, and no local session can
 * receive through it, which is why groups_resolve() may simply skip it.
 */
#ifndef TAKD_WORKER_GROUPS_H
#define TAKD_WORKER_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/grouplist.h"

#define GROUPS_MAX	GROUPLIST_TABLE_MAX
#define GROUPS_WORDS	(GROUPS_MAX / 64)

_Static_assert(GROUPS_MAX % 64 == 0 && GROUPS_MAX <= UINT16_MAX,
    "GROUPS_MAX");

/* The halves of a group a session has (the users file's USERS_IN/OUT). */
#define GROUPS_IN	0x1	/* may publish to it */
#define GROUPS_OUT	0x2	/* receives from it */

/*
 * A set of ids.  nw is the number of words up to the last one with a bit
 * set: the check reads no further.  Ids are handed out lowest first, so a
 * worker with fewer than 64 groups in use compares one word.
 */
struct groups_set {
	uint64_t	 w[GROUPS_WORDS];
	unsigned	 nw;
};

/*
 * Whether a and b share a group: the whole cost of one delivery's check.
 * Word 0 first, whatever nw says (a word past nw is 0): it holds every id
 * of a worker with fewer than 64 groups in use.
 */
static inline bool
groups_meet(const struct groups_set *a, const struct groups_set *b)
{
	unsigned	 i, n;

	if (a->w[0] & b->w[0])
		return (true);
	n = a->nw < b->nw ? a->nw : b->nw;
	for (i = 1; i < n; i++)
		if (a->w[i] & b->w[i])
			return (true);
	return (false);
}

static inline bool
groups_set_has(const struct groups_set *s, unsigned id)
{
	return (id < GROUPS_MAX && (s->w[id / 64] >> (id % 64) & 1) != 0);
}

void	 groups_set_add(struct groups_set *, unsigned id);
bool	 groups_set_equal(const struct groups_set *, const struct groups_set *);

/* Where a session's groups came from, in the order they are looked for. */
enum groups_source {
	GROUPS_SRC_NONE,	/* not given yet */
	GROUPS_SRC_LISTENER,	/* the listener's fixed group ([tcp] group) */
	GROUPS_SRC_USER,	/* the user's, from the users file */
	GROUPS_SRC_CERT,	/* one named from the certificate's O and OU */
	GROUPS_SRC_ANON,	/* __ANON__, both halves */
	GROUPS_SRC_REFUSED	/* none could be given: the session closes */
};

const char	*groups_source_name(enum groups_source);

/* One group of a session as a source gives it. */
struct groups_member {
	const char	*name;
	unsigned	 halves;	/* GROUPS_IN | GROUPS_OUT, not 0 */
};

/*
 * What a session holds: its sets, one reference per group (ids, either
 * half) and its IN names as a list, which its events carry to the other
 * workers and its stored SA keeps (allocated, "" for none).
 */
struct groups_sess {
	struct groups_set in;
	struct groups_set out;
	enum groups_source source;
	unsigned	 n;
	uint16_t	 id[GROUPLIST_MAX];
	char		*in_list;
};

struct groups;

/* An empty table; NULL when out of memory. */
struct groups	*groups_new(void);
void		 groups_free(struct groups *);
/* Groups in use (with at least one session). */
size_t		 groups_count(const struct groups *);
/* The id of the len bytes of name, -1 when no session holds it. */
int		 groups_id(const struct groups *, const char *name, size_t len);
/* The name of an id in use. */
const char	*groups_name(const struct groups *, unsigned id);
/* Sessions holding id. */
uint32_t	 groups_refs(const struct groups *, unsigned id);

/*
 * Fill gs (zeroed first) from n members for source: one reference to each
 * distinct group, halves of a name given twice merged.  0; -1 with the
 * reason in err, nothing taken and gs empty, when a name is not a group
 * name (shared/grouplist.h), a member has no half, there are more than
 * GROUPLIST_MAX, the table has no room for another group (GROUPS_MAX in
 * use), or out of memory.
 */
int	 groups_sess_take(struct groups *, struct groups_sess *gs,
	    enum groups_source source, const struct groups_member *, size_t n,
	    char *err, size_t errlen);
/* Give gs's references back; gs is empty again.  Empty: nothing. */
void	 groups_sess_drop(struct groups *, struct groups_sess *gs);
/* The names of gs's groups that have half, joined with ',', into buf. */
void	 groups_sess_list(const struct groups *, const struct groups_sess *,
	    unsigned half, char *buf, size_t len);
/* Whether a and b are the same groups with the same halves. */
bool	 groups_sess_same(const struct groups_sess *, const struct groups_sess *);

/*
 * The set of the names in list (len bytes, shared/grouplist.h) that have an
 * id here, into set: names no local session holds are no member.
 */
void	 groups_resolve(const struct groups *, const char *list, size_t len,
	    struct groups_set *set);

/*
 * Every group in use and its sessions, into v (at most max, by id): how
 * many were written.
 */
size_t	 groups_counts(const struct groups *, struct grouplist_count *v,
	    size_t max);

#endif
