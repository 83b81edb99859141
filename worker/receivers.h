/*
 * The sessions of a worker that receive broadcasts, packed for the walk
 * that every broadcast makes (deliver.c).  With groups most of the walk is
 * skipping: an event of one group of five is withheld from four sessions
 * in five.  Skipping a session of the live list reads several cache lines
 * of its struct conn; here it reads one 32-byte entry holding the first
 * word of its OUT set.
 *
 * The table is a copy, rebuilt at the next broadcast after anything it
 * copies changed: call receivers_stale() wherever a session joins or
 * leaves the live list, starts or ends, is doomed or gets new groups.
 * Pointers in it stay valid during one walk: a session leaves the live
 * list (and is freed) only at the end of the loop turn.
 */
#ifndef TAKD_WORKER_RECEIVERS_H
#define TAKD_WORKER_RECEIVERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct worker;

struct receiver {
	uint64_t	 out0;	/* word 0 of its OUT set (groups.h) */
	uint64_t	 id;	/* its conn id: the sender's own is skipped */
	struct conn	*c;
	bool		 wide;	/* its OUT set uses more than word 0 */
};

struct receivers {
	struct receiver	*r;
	size_t		 n;
	size_t		 cap;
	bool		 stale;
};

/* Something copied into the table changed: rebuild before the next walk. */
void	receivers_stale(struct worker *);
/*
 * The table, rebuilt if stale; -1 when out of memory (the caller walks
 * the live list instead).
 */
int	receivers_get(struct worker *, const struct receiver **, size_t *n);
void	receivers_free(struct worker *);

#endif
