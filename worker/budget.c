/*
 * Budgets: what one client may cost the others.  See budget.h and
 * docs/datapath.md.
 *
 * Everything on an event's path is O(1): two token buckets and a
 * comparison with the class cap.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ipc/ipc_msg.h"
#include "shared/config.h"
#include "shared/log.h"
#include "worker/budget.h"
#include "worker/conn.h"
#include "worker/session.h"
#include "worker/worker_int.h"

/* A pause this long fills any bucket; it also keeps the products small. */
#define BUDGET_REFILL_MAX_MS	((int64_t)1000 * 1000)

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
	budget_bucket_fill(&c->s.budget.bucket, w->cfg, worker_now_ms());
}

bool
budget_admit(struct worker *w, struct conn *c, size_t len, int64_t now)
{
	struct budget_sess	*b = &c->s.budget;
	uint64_t		 n;
	char			 who[CONN_WHO_MAX];

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
