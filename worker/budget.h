/*
 * What one client may cost the others, and what a worker may hold for its
 * clients.  See docs/datapath.md ("Budgets") and docs/security.md.
 *
 * Per session, before an event is parsed: a token bucket of events ([cot]
 * max_events_per_second, a second's worth of burst) and one of bytes ([cot]
 * max_bytes_per_second, BUDGET_BURST_S seconds' worth of burst and at least
 * one event of max_event_bytes).  After parsing, a size cap per class: SA
 * ([cot] max_sa_bytes) and chat ([cot] max_chat_bytes); everything else is
 * bounded by max_event_bytes alone.  An event over any of them is dropped,
 * counted and logged at most once per BUDGET_LOG_MS per session and kind:
 * the session stays.
 *
 * Per worker: [cot] max_buffered_bytes bounds the memory held for sessions,
 * the framers' buffers (input of unfinished events) plus the event buffers
 * and rings of the output queues (an event queued to many sessions is one
 * buffer: counted once).  Each session sits in a size class (a power of
 * two) of its input buffer and one of its queued output, so that the
 * biggest is found without a scan.  Past the budget, sessions holding more
 * than their share (the budget divided by the sessions) are closed, the
 * biggest input first, then the biggest output queue, until the worker is
 * back under it.  Nothing here blocks or slows a session that stays under
 * its share.
 */
#ifndef TAKD_WORKER_BUDGET_H
#define TAKD_WORKER_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "shared/log.h"

struct config;
struct conn;
struct worker;

/* Seconds of max_bytes_per_second a quiet client may send at once. */
#define BUDGET_BURST_S		8
/* At most one drop line per session and kind this often. */
#define BUDGET_LOG_MS		10000
/*
 * Size classes: class k holds sessions with 2^(k-1) to 2^k - 1 bytes, the
 * last one everything larger; class 0 (nothing held) is no list.
 */
#define BUDGET_CLASSES		40
/*
 * [cot] max_buffered_bytes = auto: this much for what is in flight, plus
 * BUDGET_AUTO_PER_SESSION for each of max_sessions (the most input buffer
 * a quiet session keeps: one TLS record's worth).
 */
#define BUDGET_AUTO_BASE	((size_t)64 << 20)
#define BUDGET_AUTO_PER_SESSION	((size_t)16 << 10)

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

LIST_HEAD(budget_list, conn);

/* A session's part: embedded in struct session, zero at accept. */
struct budget_sess {
	struct budget_bucket bucket;
	struct budget_drops rate;
	struct budget_drops bytes;
	struct budget_drops size;
	size_t		 in_alloc;	/* framer bytes counted in the worker */
	uint8_t		 in_class;	/* 0: on no list */
	uint8_t		 out_class;	/* as last seen: may be too high */
	bool		 in_input;	/* session_input() uses the framer */
	bool		 deferred;	/* released while in_input */
	LIST_ENTRY(conn) in_entry;
	LIST_ENTRY(conn) out_entry;
};

/* A worker's part: embedded in struct worker, zero at start. */
struct budget_mem {
	size_t		 in_bytes;	/* sum of the sessions' in_alloc */
	size_t		 deferred;	/* of it, freed once input returns */
	struct budget_list in[BUDGET_CLASSES];
	struct budget_list out[BUDGET_CLASSES];
	bool		 busy;		/* enforcing: no recursion */
	struct log_ratelimit rl;	/* the sessions it closes */
	struct log_ratelimit rl_stuck;	/* over, and nobody to close */
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
/* max_buffered_bytes, auto resolved. */
size_t	 budget_mem_limit(const struct config *);

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

/*
 * Memory.  budget_input() after every session_input() (the framer may have
 * grown or shrunk), budget_output() after every event queued to c; both
 * update c's class and enforce the budget when the worker is over it.
 * budget_release() when c is doomed or closes: off the lists, and its
 * framer freed unless session_input() is using it.
 */
void	 budget_input(struct worker *, struct conn *);
void	 budget_output(struct worker *, struct conn *);
void	 budget_release(struct worker *, struct conn *);
/*
 * Bytes held for sessions now, as compared with the limit: less the input
 * buffer of a session closed while its input is read, freed when that
 * returns.
 */
size_t	 budget_mem_used(const struct worker *);

#endif
