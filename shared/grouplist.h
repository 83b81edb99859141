/*
 * Group names as takd's processes write them down and hand them to each
 * other (docs/groups.md, "Routing"): what a valid name is, the list of a
 * session's groups as one string ("Blue,HQ": the names, separated by
 * commas, in no particular order; "" is no group), and the per-group
 * session counts a worker adds to its IPC_MSG_STATUS_REP.
 *
 * Ids of groups are per worker process (worker/groups.h): whatever leaves
 * a process (the mesh, the state store, the supervisor) names groups.
 */
#ifndef TAKD_GROUPLIST_H
#define TAKD_GROUPLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A group name, NUL included (the users file's USERS_NAME_MAX). */
#define GROUPLIST_NAME_MAX	64
/* Groups of one session, both halves together (USERS_GROUPS_MAX). */
#define GROUPLIST_MAX		64
/* A list of GROUPLIST_MAX names and their commas, NUL included. */
#define GROUPLIST_STR_MAX	(GROUPLIST_MAX * GROUPLIST_NAME_MAX)
/* Distinct groups in use at once in one worker (worker/groups.h). */
#define GROUPLIST_TABLE_MAX	512
/* The group of a session that no other source gave one. */
#define GROUPLIST_ANON		"__ANON__"

/*
 * Whether the len bytes at s are a group name: 1 to GROUPLIST_NAME_MAX - 1
 * bytes of UTF-8 without control characters, ',' or ':' (the separators
 * of these lists and of the users file), and no blank at either end.
 */
bool	 grouplist_name_ok(const char *s, size_t len);

/*
 * Check a list of len bytes: names that pass grouplist_name_ok() separated
 * by single commas, at most GROUPLIST_MAX, shorter than GROUPLIST_STR_MAX.
 * The number of names (0 for ""), or -1.
 */
int	 grouplist_check(const char *list, size_t len);

/*
 * Walk the names of a list: *pos starts at the list, end is its end.  The
 * next name and its length, or NULL after the last.  The list is not
 * checked: use it on lists that were.
 */
const char *grouplist_next(const char **pos, const char *end, size_t *len);

/* One group and the sessions of a worker that hold it (either half). */
struct grouplist_count {
	char		 name[GROUPLIST_NAME_MAX];
	uint64_t	 sessions;
};

struct ipc_buf;
struct ipc_rd;

/*
 * The tail of IPC_MSG_STATUS_REP after the counters: u32 n (at most
 * GROUPLIST_TABLE_MAX), then n times str name, u64 sessions.
 */
void	 grouplist_put_counts(struct ipc_buf *, const struct grouplist_count *,
	    size_t n);
/*
 * The reverse: *v (the caller frees it; NULL when n is 0) and *n.  -1 when
 * malformed (too many, a name that is not one), nothing allocated.
 */
int	 grouplist_get_counts(struct ipc_rd *, struct grouplist_count **v,
	    size_t *n);

#endif
