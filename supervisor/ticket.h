/*
 * Session ticket keys, owned by the supervisor (OpenBSD style): a {current,
 * previous} ring made from RAND_priv_bytes, rotated every [tls]
 * ticket_key_rotation and pushed to every worker (IPC_MSG_TICKET_KEYS) when
 * it is spawned and at each rotation, so that every worker resumes every
 * worker's tickets and a respawned one gets the ring in force.  A key is
 * current for one period, previous for the next (its tickets are renewed),
 * then wiped: no ticket is accepted two periods after its key was made.
 * The workers' side is worker/tls.h (tls_ticket_*).
 */
#ifndef TAKD_SUP_TICKET_H
#define TAKD_SUP_TICKET_H

#include <stdint.h>

#include "supervisor/sup.h"
#include "worker/tls.h"

#define TICKET_RING_MAGIC	0x544b5252u	/* "TKRR" */
/* After a failed rotation (no randomness), try again this soon. */
#define TICKET_RETRY_MS		1000

struct ticket_ring {
	unsigned	 magic;
	struct tls_ticket_ring ring;	/* keys[0] current, keys[1] previous */
	int64_t		 period_ms;
	int64_t		 next_ms;	/* next rotation, CLOCK_MONOTONIC */
};

/*
 * A ring with one fresh key, made at now_ms, rotated every period_ms.
 * NULL when the keys cannot be made (logged).
 */
struct ticket_ring *ticket_ring_new(int64_t period_ms, int64_t now_ms);
/* Wipes every key. */
void	 ticket_ring_free(struct ticket_ring *);
/*
 * A new current key made at now_ms; the current one becomes the previous
 * one (unless it already expired) and the previous one is wiped.  The next
 * rotation is one period from now.  -1 when no key could be made: then
 * nothing changed and the next try is TICKET_RETRY_MS away.
 */
int	 ticket_ring_rotate(struct ticket_ring *, int64_t now_ms);

/* At start, before the first worker is spawned: sup->tickets.  -1 on error. */
int	 ticket_init(struct sup *);
void	 ticket_free(struct sup *);
/* Send the ring in force to one worker (at spawn). */
void	 ticket_send(struct sup *, struct proc_slot *);
/*
 * From the loop: rotate when due and push the new ring to every running
 * worker.  Returns ms until the next rotation, -1 when none is due.
 */
int	 ticket_tick(struct sup *);

#endif
