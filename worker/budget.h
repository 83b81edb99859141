/*
 * What one client may cost the others.  See docs/datapath.md ("Budgets")
 * and docs/security.md.
 *
 * Per session, before an event is parsed: a token bucket of events ([cot]
 * max_events_per_second, a second's worth of burst) and one of bytes ([cot]
 * max_bytes_per_second, BUDGET_BURST_S seconds' worth of burst and at least
 * one event of max_event_bytes).  After parsing, a size cap per class: SA
 * ([cot] max_sa_bytes) and chat ([cot] max_chat_bytes); everything else is
 * bounded by max_event_bytes alone.  An event over any of them is dropped,
 * counted and logged at most once per BUDGET_LOG_MS per session and kind:
 * the session stays.
 */
#ifndef TAKD_WORKER_BUDGET_H
#define TAKD_WORKER_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct conn;
struct worker;

/* Seconds of max_bytes_per_second a quiet client may send at once. */
#define BUDGET_BURST_S		8
/* At most one drop line per session and kind this often. */
#define BUDGET_LOG_MS		10000

enum budget_verdict {
	BUDGET_OK,
	BUDGET_OVER_RATE,	/* max_events_per_second */
	BUDGET_OVER_BYTES	/* max_bytes_per_second */
};

/* The token buckets of one session, full when it starts. */
struct budget_bucket {
	uint64_t	 ev_tokens;	/* in 1/1000 events */
	uint64_t	 byte_tokens;	/* in 1/1000 bytes */
	int64_t		 refill_ms;
};

/* Drops of one kind since the session's last line about them. */
struct budget_drops {
	uint64_t	 n;
	int64_t		 logged_ms;
	bool		 logged;	/* a line was written */
};

/* A session's part: embedded in struct session, zero at accept. */
struct budget_sess {
	struct budget_bucket bucket;
	struct budget_drops rate;
	struct budget_drops bytes;
	struct budget_drops size;
};

/*
 * The token buckets alone, pure (unit tests): fill them, and take one event
 * of len bytes at now_ms.  An event is taken from both buckets or from
 * neither.
 */
void	 budget_bucket_fill(struct budget_bucket *, const struct config *,
	    int64_t now_ms);
enum budget_verdict budget_bucket_take(struct budget_bucket *,
	    const struct config *, size_t len, int64_t now_ms);
/* Burst of the byte bucket in bytes; 0 when max_bytes_per_second is off. */
size_t	 budget_byte_burst(const struct config *);
/* The class cap of an event class (enum ipc_ev_class); 0: none. */
size_t	 budget_class_cap(const struct config *, unsigned cls);

/* Session start: full buckets. */
void	 budget_session_start(struct worker *, struct conn *);
/*
 * An event of len bytes framed from c: whether it may go on.  When not, it
 * is counted (drop_rate or drop_bytes) and logged, rate-limited.
 */
bool	 budget_admit(struct worker *, struct conn *, size_t len,
	    int64_t now_ms);
/*
 * The event parsed as class cls (enum ipc_ev_class): whether it is within
 * its class cap.  When not, it is counted (drop_size) and logged,
 * rate-limited.
 */
bool	 budget_class_ok(struct worker *, struct conn *, unsigned cls,
	    const char *type, size_t len, int64_t now_ms);
/* The session is closing: its last drop counts, if any. */
void	 budget_session_end(struct worker *, struct conn *);

#endif
