/*
 * Requests to every worker and their answers.  See round.h.
 */
#include <assert.h>
#include <stdlib.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "supervisor/proc.h"
#include "supervisor/round.h"

struct round {
	unsigned	 magic;
	struct round	*next;		/* sup->rounds */
	uint32_t	 type;		/* the request's IPC_MSG_* */
	uint32_t	 id;
	int64_t		 deadline_ms;
	unsigned	 waiting;	/* asked, not answered, alive */
	round_done_fn	 done;
	void		*arg;
	/* By slot id: the workers', then the api process's (TAKD_API_SLOT). */
	bool		 asked[TAKD_SLOT_IDS];	/* and not yet answered */
	bool		 answered[TAKD_SLOT_IDS];
};

struct round *
round_new(struct sup *sup, uint32_t type, uint32_t id, unsigned wait_ms,
    round_done_fn done, void *arg)
{
	struct round	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		log_warn("request to the workers");
		return (NULL);
	}
	r->magic = ROUND_MAGIC;
	r->type = type;
	if ((r->id = id) == 0 && (r->id = ++sup->next_req_id) == 0)
		r->id = ++sup->next_req_id;
	r->deadline_ms = clock_mono_ms() + wait_ms;
	r->done = done;
	r->arg = arg;
	r->next = sup->rounds;
	sup->rounds = r;
	return (r);
}

void
round_send(struct sup *sup, struct round *r, const void *payload, size_t len,
    int fd, enum round_unsent unsent)
{
	round_send_fds(sup, r, payload, len, fd, fd, unsent);
}

/* The workers, then with api the api process (one past them). */
static void
round_send_to(struct sup *sup, struct round *r, const void *payload,
    size_t len, int fd, int api_fd, enum round_unsent unsent, bool api)
{
	struct proc_slot	*s;
	unsigned		 i;

	assert(r->magic == ROUND_MAGIC);
	for (i = 0; i < sup->n_slots + (api ? 1 : 0); i++) {
		s = i < sup->n_slots ? &sup->slots[i] : &sup->api;
		/* Not running: a respawn starts with what is in force. */
		if (s->state != SLOT_RUNNING || s->id >= TAKD_SLOT_IDS)
			continue;
		if (proc_send(sup, s, r->type, r->id, payload, len,
		    s == &sup->api ? api_fd : fd) == -1 &&
		    unsent == ROUND_UNSENT_SKIP)
			continue;
		r->asked[s->id] = true;
		r->waiting++;
	}
}

void
round_send_fds(struct sup *sup, struct round *r, const void *payload,
    size_t len, int fd, int api_fd, enum round_unsent unsent)
{
	round_send_to(sup, r, payload, len, fd, api_fd, unsent, true);
}

void
round_send_workers(struct sup *sup, struct round *r, const void *payload,
    size_t len, enum round_unsent unsent)
{
	round_send_to(sup, r, payload, len, -1, -1, unsent, false);
}

static void
round_unlink(struct sup *sup, struct round *r)
{
	struct round	**pp;

	for (pp = &sup->rounds; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			return;
		}
}

static void
round_free(struct sup *sup, struct round *r)
{
	round_unlink(sup, r);
	r->magic = 0;
	free(r);
}

void
round_cancel(struct sup *sup, struct round *r)
{
	if (r == NULL)
		return;
	assert(r->magic == ROUND_MAGIC);
	round_free(sup, r);
}

static void
round_finish(struct sup *sup, struct round *r)
{
	/* Out of the list first: done may start another round. */
	round_unlink(sup, r);
	r->done(sup, r, r->arg);
	r->magic = 0;
	free(r);
}

struct round *
round_find(struct sup *sup, uint32_t type, uint32_t id,
    const struct proc_slot *slot)
{
	struct round	*r;

	if (slot->id >= TAKD_SLOT_IDS)
		return (NULL);
	for (r = sup->rounds; r != NULL; r = r->next)
		if (r->type == type && r->id == id && r->asked[slot->id])
			return (r);
	return (NULL);
}

/* slot is no longer waited for in r; done runs if it was the last. */
static bool
round_drop(struct sup *sup, struct round *r, const struct proc_slot *slot,
    bool answered)
{
	r->asked[slot->id] = false;
	r->answered[slot->id] = answered;
	if (--r->waiting > 0)
		return (false);
	round_finish(sup, r);
	return (true);
}

void
round_answer(struct sup *sup, struct round *r, const struct proc_slot *slot)
{
	assert(r->magic == ROUND_MAGIC && slot->id < TAKD_SLOT_IDS &&
	    r->asked[slot->id]);
	(void)round_drop(sup, r, slot, true);
}

void
round_worker_gone(struct sup *sup, const struct proc_slot *slot)
{
	struct round	*r;

	if (slot->id >= TAKD_SLOT_IDS)
		return;
again:
	for (r = sup->rounds; r != NULL; r = r->next)
		if (r->asked[slot->id] && round_drop(sup, r, slot, false))
			goto again;	/* the list changed under us */
}

int
round_tick(struct sup *sup)
{
	struct round	*r;
	int64_t		 now = clock_mono_ms(), wait = -1;

again:
	for (r = sup->rounds; r != NULL; r = r->next)
		if (r->waiting == 0 || r->deadline_ms <= now) {
			round_finish(sup, r);
			goto again;
		}
	for (r = sup->rounds; r != NULL; r = r->next)
		if (wait == -1 || r->deadline_ms - now < wait)
			wait = r->deadline_ms - now;
	return ((int)wait);
}

uint32_t
round_id(const struct round *r)
{
	return (r->id);
}

void *
round_arg(const struct round *r)
{
	return (r->arg);
}

bool
round_answered(const struct round *r, const struct proc_slot *s)
{
	return (s->id < TAKD_SLOT_IDS && r->answered[s->id]);
}

bool
round_waits_for(const struct round *r, const struct proc_slot *s)
{
	return (s->id < TAKD_SLOT_IDS && r->asked[s->id]);
}

unsigned
round_waiting(const struct round *r)
{
	return (r->waiting);
}
