/*
 * Metrics: the Prometheus text exposition (format 0.0.4) of the workers'
 * counters, the CRL state and the state store, served on [metrics] listen
 * by a small HTTP server in the supervisor's loop, and to `takctl stats
 * --prometheus` over the admin socket (admin.c).  docs/metrics.md lists
 * every metric.
 *
 * The server speaks HTTP/1.0 and 1.1, one request per connection: GET or
 * HEAD of /metrics (a query string is ignored).  401 without the right
 * "Authorization: Bearer TOKEN" when [metrics] token is set, 404 for other
 * paths, 405 for other methods, 400 for what is not HTTP, 431 for a request
 * head over METRICS_REQ_MAX.  A request must arrive within METRICS_READ_MS
 * of the accept and its reply be taken within METRICS_WRITE_MS.  At
 * METRICS_PER_PEER_MAX connections of one source address, or
 * METRICS_MAX_CLIENTS in all, the oldest connection still sending its
 * request (of that address, or of the address holding the most) is closed
 * to make room: idle connections cannot keep a scraper out.  503 only when
 * every connection is busy with a request.  Nothing blocks the supervisor: a scrape asks every
 * worker for fresh counters (admin_stats_start) and is answered when all
 * replied or after METRICS_WAIT_MS, a silent worker showing as
 * takd_worker_up 0.
 */
#ifndef TAKD_METRICS_H
#define TAKD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "shared/store.h"
#include "supervisor/sup.h"

#define METRICS_WAIT_MS		2000
#define METRICS_READ_MS		5000
#define METRICS_WRITE_MS	10000
#define METRICS_REQ_MAX		8192
#define METRICS_MAX_CLIENTS	16
#define METRICS_PER_PEER_MAX	8	/* connections of one source address */
#define METRICS_MAX_LISTEN	4

/* A growing text buffer; err sticks after a failed allocation. */
struct metrics_buf {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	int	 err;
};

void	 metrics_buf_append(struct metrics_buf *, const void *, size_t);
void	 metrics_buf_printf(struct metrics_buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 metrics_buf_free(struct metrics_buf *);

/* One worker slot as the exposition shows it. */
struct metrics_worker {
	unsigned	 id;
	bool		 up;		/* answered: stats are fresh */
	unsigned	 restarts;
	struct counters	 st;
	/* Its groups and their sessions (borrowed). */
	const struct grouplist_count *groups;
	size_t		 n_groups;
};

/* Everything the exposition shows, copied so that formatting is pure. */
struct metrics_snap {
	const char	*version;
	time_t		 now;
	time_t		 started;
	bool		 crl_on;		/* crl_check is not off */
	uint32_t	 crl_generation;
	uint64_t	 crl_entries;
	time_t		 crl_last_update;
	time_t		 crl_next_update;	/* 0: the CRL has none */
	time_t		 crl_loaded_at;
	time_t		 crl_last_error_at; /* 0: no failed reload */
	bool		 crl_stale;
	bool		 store_open;
	struct store_stats store;	/* the supervisor's */
	size_t		 n_workers;
	const struct metrics_worker *workers;
};

/* Append the exposition of snap to b. */
void	 metrics_format(const struct metrics_snap *, struct metrics_buf *);
/* Append the exposition of the supervisor's state after round r to b. */
void	 metrics_render(const struct sup *, const struct round *,
	    struct metrics_buf *);

/* Label values: enum ipc_hs_fail and enum ipc_ev_class (ipc_msg.h). */
const char *metrics_hs_fail_name(int);
const char *metrics_ev_class_name(int);

/*
 * Bind [metrics] listen (as root, before the privilege drop) and register
 * it in the supervisor's epoll; nothing when metrics are off.  -1 with err.
 */
int	 metrics_open(struct sup *, char *err, size_t errlen);
void	 metrics_close(struct sup *);
/* An epoll event of kind SUP_EV_METRICS: ptr is a listener or a client. */
void	 metrics_event(struct sup *, void *ptr, unsigned events);
/*
 * Close clients past their deadline and free the closed ones (called from
 * admin_tick(), between epoll batches); ms to the next deadline or -1.
 */
int64_t	 metrics_tick(struct sup *, int64_t now_ms);
/* Idle connections closed to make room for others (status). */
uint64_t metrics_idle_closed(const struct sup *);
/* The i-th metrics listener, NULL past the last (for status). */
const struct listener *metrics_listener(const struct sup *, size_t i);

#endif
