/*
 * Budgets: what one client may cost the others, and what a worker may hold
 * for its clients.  See budget.h and docs/datapath.md.
 *
 * Everything on an event's path is O(1): two token buckets, a comparison
 * with the class cap, and for memory a sum compared with the limit and a
 * session moved between two lists when its size crosses a power of two.
 * The lists are only walked when the worker is over its budget, from the
 * top class down, and each step either closes a session or moves one that
 * shrank down to the class it belongs in.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cot/cot_frame.h"
#include "ipc/ipc_msg.h"
#include "shared/clock.h"
#include "shared/config.h"
#include "shared/log.h"
#include "worker/budget.h"
#include "worker/conn.h"
#include "worker/deliver.h"
#include "worker/outq.h"
#include "worker/session.h"
#include "worker/takproto.h"
#include "worker/worker_int.h"

/* A pause this long fills any bucket; it also keeps the products small. */
#define BUDGET_REFILL_MAX_MS	((int64_t)1000 * 1000)

static const char BUDGET_WHY_IN[] =
    "memory budget: the most input held for an unfinished event";
static const char BUDGET_WHY_OUT[] =
    "memory budget: the most output queued";

/* --- token buckets ---------------------------------------------------- */

size_t
budget_byte_burst(const struct config *cfg)
{
	size_t	 burst;

	if (cfg->max_bytes_per_second == 0)
		return (0);
	/* Whatever the rate, one event of the largest size must pass. */
	burst = cfg->max_bytes_per_second * BUDGET_BURST_S;
	return (burst > cfg->max_event_bytes ? burst : cfg->max_event_bytes);
}

void
budget_bucket_fill(struct budget_bucket *b, const struct config *cfg,
    int64_t now)
{
	b->ev_tokens = (uint64_t)cfg->max_events_per_second * 1000;
	b->byte_tokens = (uint64_t)budget_byte_burst(cfg) * 1000;
	b->refill_ms = now;
}

/* rate per second is rate thousandths per ms. */
static void
budget_refill(uint64_t *tokens, uint64_t rate, uint64_t cap, int64_t dt)
{
	uint64_t	 add;

	if (dt >= BUDGET_REFILL_MAX_MS || *tokens >= cap) {
		*tokens = cap;
		return;
	}
	add = (uint64_t)dt * rate;
	*tokens = add >= cap - *tokens ? cap : *tokens + add;
}

enum budget_verdict
budget_bucket_take(struct budget_bucket *b, const struct config *cfg,
    size_t len, int64_t now)
{
	uint64_t	 ev_rate = cfg->max_events_per_second;
	uint64_t	 byte_rate = cfg->max_bytes_per_second;
	uint64_t	 need = (uint64_t)len * 1000;

	if (now > b->refill_ms) {
		if (ev_rate > 0)
			budget_refill(&b->ev_tokens, ev_rate, ev_rate * 1000,
			    now - b->refill_ms);
		if (byte_rate > 0)
			budget_refill(&b->byte_tokens, byte_rate,
			    (uint64_t)budget_byte_burst(cfg) * 1000,
			    now - b->refill_ms);
		b->refill_ms = now;
	}
	if (ev_rate > 0 && b->ev_tokens < 1000)
		return (BUDGET_OVER_RATE);
	if (byte_rate > 0 && b->byte_tokens < need)
		return (BUDGET_OVER_BYTES);
	if (ev_rate > 0)
		b->ev_tokens -= 1000;
	if (byte_rate > 0)
		b->byte_tokens -= need;
	return (BUDGET_OK);
}

size_t
budget_class_cap(const struct config *cfg, unsigned cls)
{
	switch (cls) {
	case IPC_EV_SA:
		return (cfg->max_sa_bytes);
	case IPC_EV_CHAT:
		return (cfg->max_chat_bytes);
	default:
		return (0);
	}
}

/* One more drop of a kind: whether its line is due, with *n to report. */
static bool
budget_drop_due(struct budget_drops *d, int64_t now, uint64_t *n)
{
	d->n++;
	if (d->logged && now - d->logged_ms < BUDGET_LOG_MS)
		return (false);
	*n = d->n;
	d->n = 0;
	d->logged = true;
	d->logged_ms = now;
	return (true);
}

void
budget_session_start(struct worker *w, struct conn *c)
{
	budget_bucket_fill(&c->s.budget.bucket, w->cfg, clock_mono_ms());
}

bool
budget_admit(struct worker *w, struct conn *c, size_t len, int64_t now)
{
	struct budget_sess	*b = &c->s.budget;
	uint64_t		 n;
	char			 who[CONN_WHO_MAX];

	/*
	 * A gateway ([cot] relay_certs) publishes for many: the per-client
	 * rate and byte budgets are not its (class caps and the memory
	 * budget are).  Listing it is the operator's trust.
	 */
	if (c->s.relay)
		return (true);
	switch (budget_bucket_take(&b->bucket, w->cfg, len, now)) {
	case BUDGET_OK:
		return (true);
	case BUDGET_OVER_RATE:
		w->cnt.drop_rate++;
		if (budget_drop_due(&b->rate, now, &n))
			log_warnx("session %" PRIu64 ": more than %u events/s: "
			    "dropping the excess, %" PRIu64 " since the last "
			    "such line (%s)", c->id,
			    w->cfg->max_events_per_second, n,
			    conn_who(c, who, sizeof(who)));
		return (false);
	case BUDGET_OVER_BYTES:
		w->cnt.drop_bytes++;
		if (budget_drop_due(&b->bytes, now, &n))
			log_warnx("session %" PRIu64 ": more than %zu bytes/s "
			    "(and a burst of %zu): dropping the excess, this "
			    "event of %zu bytes and %" PRIu64 " in all since "
			    "the last such line (%s)", c->id,
			    w->cfg->max_bytes_per_second,
			    budget_byte_burst(w->cfg), len, n,
			    conn_who(c, who, sizeof(who)));
		return (false);
	}
	return (false);
}

bool
budget_class_ok(struct worker *w, struct conn *c, unsigned cls,
    const char *type, size_t len, int64_t now)
{
	size_t		 cap = budget_class_cap(w->cfg, cls);
	uint64_t	 n;
	char		 who[CONN_WHO_MAX];

	if (cap == 0 || len <= cap)
		return (true);
	w->cnt.drop_size++;
	if (budget_drop_due(&c->s.budget.size, now, &n))
		log_warnx("session %" PRIu64 ": %s event of %zu bytes (type "
		    "%s) over [cot] %s (%zu): dropped, %" PRIu64 " since the "
		    "last such line (%s)", c->id, cls == IPC_EV_SA ? "SA" :
		    "chat", len, type, cls == IPC_EV_SA ? "max_sa_bytes" :
		    "max_chat_bytes", cap, n, conn_who(c, who, sizeof(who)));
	return (false);
}

void
budget_session_end(struct worker *w, struct conn *c)
{
	struct budget_sess	*b = &c->s.budget;

	if (b->rate.n > 0)
		log_info("session %" PRIu64 ": %" PRIu64 " more events dropped "
		    "over %u events/s before it closed", c->id, b->rate.n,
		    w->cfg->max_events_per_second);
	if (b->bytes.n > 0)
		log_info("session %" PRIu64 ": %" PRIu64 " more events dropped "
		    "over %zu bytes/s before it closed", c->id, b->bytes.n,
		    w->cfg->max_bytes_per_second);
	if (b->size.n > 0)
		log_info("session %" PRIu64 ": %" PRIu64 " more events dropped "
		    "over their class size before it closed", c->id,
		    b->size.n);
	b->rate.n = b->bytes.n = b->size.n = 0;
}

/* --- memory ------------------------------------------------------------ */

size_t
budget_mem_limit(const struct config *cfg)
{
	if (cfg->max_buffered_bytes > 0)
		return (cfg->max_buffered_bytes);
	return (BUDGET_AUTO_BASE +
	    (size_t)cfg->max_sessions * BUDGET_AUTO_PER_SESSION);
}

size_t
budget_mem_used(const struct worker *w)
{
	return (w->mem.in_bytes - w->mem.deferred + outq_mem());
}

/* The size class of n bytes: its bit length, the last class capping it. */
static unsigned
budget_class_of(size_t n)
{
	unsigned	 k;

	if (n == 0)
		return (0);
	k = 64 - (unsigned)__builtin_clzll((unsigned long long)n);
	return (k < BUDGET_CLASSES ? k : BUDGET_CLASSES - 1);
}

static void
budget_set_in(struct worker *w, struct conn *c, unsigned k)
{
	struct budget_sess	*b = &c->s.budget;

	if (b->in_class == k)
		return;
	if (b->in_class != 0)
		LIST_REMOVE(c, s.budget.in_entry);
	/* The newest of a class is taken first: the one that grew last. */
	if (k != 0)
		LIST_INSERT_HEAD(&w->mem.in[k], c, s.budget.in_entry);
	b->in_class = (uint8_t)k;
}

static void
budget_set_out(struct worker *w, struct conn *c, unsigned k)
{
	struct budget_sess	*b = &c->s.budget;

	if (b->out_class == k)
		return;
	if (b->out_class != 0)
		LIST_REMOVE(c, s.budget.out_entry);
	if (k != 0)
		LIST_INSERT_HEAD(&w->mem.out[k], c, s.budget.out_entry);
	b->out_class = (uint8_t)k;
}

/* The framer's allocation as the worker counts it. */
static void
budget_sync_in(struct worker *w, struct conn *c)
{
	struct budget_sess	*b = &c->s.budget;
	size_t			 a = takproto_in_alloc(c);

	w->mem.in_bytes -= b->in_alloc;
	w->mem.in_bytes += a;
	b->in_alloc = a;
}

/* The session holding the largest input buffer, to a factor of two. */
static struct conn *
budget_top_in(struct worker *w)
{
	struct conn	*c;
	unsigned	 k;

	for (k = BUDGET_CLASSES - 1; k > 0; k--)
		if ((c = LIST_FIRST(&w->mem.in[k])) != NULL)
			return (c);
	return (NULL);
}

/*
 * The session with the most output queued, to a factor of two.  Writes do
 * not move a session down (they are conn.c's), so a class may be too high:
 * such a session moves down to its true class and the search goes on.
 */
static struct conn *
budget_top_out(struct worker *w)
{
	struct conn	*c;
	unsigned	 k = BUDGET_CLASSES - 1, real;

	while (k > 0) {
		if ((c = LIST_FIRST(&w->mem.out[k])) == NULL) {
			k--;
			continue;
		}
		if ((real = budget_class_of(outq_bytes(&c->s.outq))) >= k)
			return (c);
		budget_set_out(w, c, real);
	}
	return (NULL);
}

/*
 * Over the limit: close sessions holding more than their share, the one
 * with the largest input buffer first (unfinished input is of no use to
 * anybody yet), then the one with the most output queued, until the
 * worker is back under the limit.  A session whose framer session_input()
 * is using gives its buffer back when that returns: counted as freed.
 */
static void
budget_enforce(struct worker *w, size_t used, size_t limit)
{
	struct conn	*c;
	const char	*why;
	size_t		 share, held;
	char		 who[CONN_WHO_MAX];

	if (w->mem.busy)
		return;
	w->mem.busy = true;
	share = limit / (w->cnt.sessions > 0 ? w->cnt.sessions : 1);
	while (used > limit) {
		if ((c = budget_top_in(w)) != NULL &&
		    (held = c->s.budget.in_alloc) > share)
			why = BUDGET_WHY_IN;
		else if ((c = budget_top_out(w)) != NULL &&
		    (held = outq_bytes(&c->s.outq)) > share)
			why = BUDGET_WHY_OUT;
		else {
			/* Configuration, not an attack: say it now and then. */
			w->mem.rl_stuck.burst = 1;
			w->mem.rl_stuck.window = 60;
			log_limited(&w->mem.rl_stuck, LOG_WARNING, "sessions "
			    "hold %zu bytes, over [cot] max_buffered_bytes "
			    "(%zu), but none more than its share (%zu bytes): "
			    "max_buffered_bytes is too small for this many "
			    "sessions", used, limit, share);
			break;
		}
		w->cnt.close_memory++;
		log_limited(&w->mem.rl, LOG_WARNING, "session %" PRIu64 ": "
		    "sessions hold %zu bytes, over [cot] max_buffered_bytes "
		    "(%zu): closing it, it holds %zu bytes %s, more than its "
		    "share (%zu) (%s)", c->id, used, limit, held,
		    why == BUDGET_WHY_IN ? "of an unfinished event" :
		    "of queued output", share, conn_who(c, who, sizeof(who)));
		deliver_doom(w, c, why);
		budget_release(w, c);
		used = budget_mem_used(w);
	}
	w->mem.busy = false;
}

static void
budget_check(struct worker *w)
{
	size_t	 used = budget_mem_used(w), limit;

	if (used > w->cnt.mem_high_water)
		w->cnt.mem_high_water = used;
	if (used > (limit = budget_mem_limit(w->cfg)))
		budget_enforce(w, used, limit);
}

void
budget_input(struct worker *w, struct conn *c)
{
	/* Doomed while session_input() used its framer: free it now. */
	if (c->s.doom != NULL) {
		budget_release(w, c);
		return;
	}
	/* Nothing held: a big buffer goes back (a quiet session's is small). */
	takproto_in_trim(c);
	budget_sync_in(w, c);
	budget_set_in(w, c, budget_class_of(c->s.budget.in_alloc));
	budget_check(w);
}

void
budget_output(struct worker *w, struct conn *c)
{
	unsigned	 k;

	if (c->s.doom != NULL)
		return;
	/* Only ever up here: the search brings stale classes down. */
	k = budget_class_of(outq_bytes(&c->s.outq));
	if (k > c->s.budget.out_class)
		budget_set_out(w, c, k);
	budget_check(w);
}

void
budget_release(struct worker *w, struct conn *c)
{
	struct budget_sess	*b = &c->s.budget;

	budget_set_in(w, c, 0);
	budget_set_out(w, c, 0);
	if (b->in_input) {
		/* Its events point into the buffer: counted as freed. */
		if (!b->deferred)
			w->mem.deferred += b->in_alloc;
		b->deferred = true;
		return;
	}
	if (b->deferred)
		w->mem.deferred -= b->in_alloc;
	b->deferred = false;
	takproto_in_free(c);
	budget_sync_in(w, c);
}
