/*
 * A round: one request to every running worker (and the api process,
 * sup->api, whose slot id is one past theirs), then their answers; done
 * when every worker asked has answered or died, or at the deadline.  The
 * status of `takctl status` and of /metrics is one (IPC_MSG_STATUS_REQ,
 * admin.c), the push of a new CRL generation another (IPC_MSG_CRL,
 * reload.c).  What is sent and what an answer says are the caller's: the
 * round knows who was asked, who answered, and when to give up.
 *
 * A worker answers its control channel in order, so an answer carrying the
 * round's id is as fresh as the request.  Rounds of different requests may
 * share an id: a round is found by request type and id.
 */
#ifndef TAKD_ROUND_H
#define TAKD_ROUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor/sup.h"

#define ROUND_MAGIC	0x524e4453u	/* "RNDS" */

struct round;

/*
 * The round is over: every worker asked answered or died, or the deadline
 * passed (round_waiting() says how many never answered).  The round is
 * freed once done returns.
 */
typedef void	(*round_done_fn)(struct sup *, const struct round *,
		    void *arg);

/* A worker whose control queue is full cannot be sent the request. */
enum round_unsent {
	ROUND_UNSENT_SKIP,	/* left out of the round */
	ROUND_UNSENT_WAIT	/* still waited for: it will not answer */
};

/*
 * A round of request type (an IPC_MSG_*) with id (0: a fresh one), over
 * wait_ms from now.  done(sup, round, arg) runs from the loop: from
 * round_answer(), round_worker_gone() or round_tick(), never from inside
 * round_new() or round_send(); a round with nobody to wait for is finished
 * by the next round_tick(), which the loop runs before it sleeps.  NULL
 * when out of memory.
 */
struct round	*round_new(struct sup *, uint32_t type, uint32_t id,
		    unsigned wait_ms, round_done_fn, void *arg);
/*
 * Send the request (the round's id in the header, payload, a descriptor
 * or -1) to every running worker, and wait for those it went to (and, with
 * ROUND_UNSENT_WAIT, for those it did not go to).  Once per round.
 */
void		 round_send(struct sup *, struct round *, const void *payload,
		    size_t len, int fd, enum round_unsent);
/* The same, with api_fd instead of fd for the api process. */
void		 round_send_fds(struct sup *, struct round *,
		    const void *payload, size_t len, int fd, int api_fd,
		    enum round_unsent);
/* The same, to the workers only (no descriptor): not the api process. */
void		 round_send_workers(struct sup *, struct round *,
		    const void *payload, size_t len, enum round_unsent);
/* The requester went away: done never runs.  NULL does nothing. */
void		 round_cancel(struct sup *, struct round *);

/*
 * The round of request type with id that waits for slot's answer, or NULL:
 * an answer after the round's end, to a round cancelled, to nobody.
 */
struct round	*round_find(struct sup *, uint32_t type, uint32_t id,
		    const struct proc_slot *);
/* slot answered r (found by round_find()): done runs if it was the last. */
void		 round_answer(struct sup *, struct round *,
		    const struct proc_slot *);
/* slot's worker died (proc.c): no round waits for it any longer. */
void		 round_worker_gone(struct sup *, const struct proc_slot *);
/*
 * Finish the rounds past their deadline or with nobody left to wait for;
 * ms to the next deadline, or -1.
 */
int		 round_tick(struct sup *);

uint32_t	 round_id(const struct round *);
/* The arg given to round_new() (the answers' accumulator of the caller). */
void		*round_arg(const struct round *);
/* Whether the worker in slot answered this round. */
bool		 round_answered(const struct round *, const struct proc_slot *);
/* Whether the round still waits for slot's answer (asked, alive, silent). */
bool		 round_waits_for(const struct round *,
		    const struct proc_slot *);
/* Workers asked that have neither answered nor died. */
unsigned	 round_waiting(const struct round *);

#endif
