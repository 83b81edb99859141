/*
 * When a session's queued output is written (worker/outsched.c): the
 * worker's outlist (written before the loop sleeps), its written list
 * ([cot] flush_delay) and its sawait list ([cot] sa_flush_delay, latency
 * classes).  Private to conn.c and outsched.c; conn_output() is conn.h's.
 * See docs/datapath.md, "Output".
 */
#ifndef TAKD_WORKER_OUTSCHED_H
#define TAKD_WORKER_OUTSCHED_H

#include <stdbool.h>
#include <stdint.h>

/* One TLS record's plaintext: a read, and the staging of one write. */
#define CONN_IO_BUF		16384

struct conn;
struct worker;

/* Take c off the outlist, the written list, the sawait list. */
void	 conn_outlist_del(struct worker *, struct conn *);
void	 conn_written_del(struct worker *, struct conn *);
void	 conn_sawait_del(struct worker *, struct conn *);
/*
 * Whether c's output waits for its SA deadline (then c is on the sawait
 * list, in deadline order).
 */
bool	 conn_sa_hold(struct worker *, struct conn *);
/* c was written at now (monotonic ms). */
void	 conn_written(struct worker *, struct conn *, int64_t now);

#endif
