/*
 * Metrics: the Prometheus text exposition (format 0.0.4) of the counters of
 * every process (the workers' and the api process's), the CRL state and the
 * state store.  The supervisor makes it, since the counters meet here: for
 * the api process, which serves it on [metrics] listen (api/metrics.c asks
 * with IPC_MSG_METRICS_REQ, supervisor/api_proc.c answers), and for
 * `takctl stats --prometheus` over the admin socket (admin.c).  The
 * supervisor speaks no HTTP.  A scrape asks every process for fresh
 * counters and is answered when all replied or after METRICS_WAIT_MS, a
 * silent worker showing as takd_worker_up 0.  docs/metrics.md lists every
 * metric.
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
	/* [tls] crl_url (crl_fetch.h); all 0 without it. */
	bool		 crl_fetch_on;
	uint64_t	 crl_fetch_ok;
	uint64_t	 crl_fetch_failed;
	uint64_t	 crl_fetch_installed;
	time_t		 crl_fetch_last_success;
	/* notAfter of the server certificate and the CA (expiry.h), 0: none */
	time_t		 cert_server_not_after;
	time_t		 cert_ca_not_after;
	/* Client certificates expiring within cert_warn_days, -1: unknown. */
	long		 cert_clients_expiring;
	time_t		 cert_clients_counted_at;
	unsigned	 cert_warn_days;
	bool		 store_open;
	struct store_stats store;	/* the supervisor's */
	size_t		 n_workers;
	const struct metrics_worker *workers;
	/* The api process (id unused), when it runs. */
	bool		 api_run;
	struct metrics_worker api;
};

/* Append the exposition of snap to b. */
void	 metrics_format(const struct metrics_snap *, struct metrics_buf *);
/* Append the exposition of the supervisor's state after round r to b. */
void	 metrics_render(const struct sup *, const struct round *,
	    struct metrics_buf *);

/* Label values: enum ipc_hs_fail and enum ipc_ev_class (ipc_msg.h). */
const char *metrics_hs_fail_name(int);
const char *metrics_ev_class_name(int);

#endif
