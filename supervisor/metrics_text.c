/*
 * The Prometheus text exposition (format 0.0.4) of the workers' counters, the
 * CRL state and the state store: see metrics.h, and docs/metrics.md for what
 * each metric means.  metrics_http.c serves it.
 *
 * Formatting is split from the supervisor's state: metrics_render() copies
 * what it needs into a struct metrics_snap, and metrics_format() turns that
 * into text without looking at anything else (tests/unit/test_metrics.c).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/admin.h"
#include "supervisor/crl.h"
#include "supervisor/metrics.h"

/* --- text buffer --------------------------------------------------- */

static int
metrics_buf_room(struct metrics_buf *b, size_t more)
{
	size_t	 cap;
	char	*p;

	if (b->err)
		return (-1);
	if (b->len + more + 1 <= b->cap)
		return (0);
	cap = b->cap == 0 ? 4096 : b->cap;
	while (cap < b->len + more + 1)
		cap *= 2;
	if ((p = realloc(b->buf, cap)) == NULL) {
		b->err = 1;
		return (-1);
	}
	b->buf = p;
	b->cap = cap;
	return (0);
}

void
metrics_buf_append(struct metrics_buf *b, const void *p, size_t n)
{
	if (metrics_buf_room(b, n) == -1)
		return;
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void
metrics_buf_printf(struct metrics_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || metrics_buf_room(b, (size_t)n) == -1) {
		b->err = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
metrics_buf_free(struct metrics_buf *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

/* --- the exposition ------------------------------------------------ */

static const char *const metrics_hs_fail_names[IPC_HS_FAIL_MAX] = {
	[IPC_HS_NO_CERT] = "no_certificate",
	[IPC_HS_UNKNOWN_CA] = "unknown_ca",
	[IPC_HS_REVOKED] = "revoked",
	[IPC_HS_EXPIRED] = "expired",
	[IPC_HS_CRL] = "crl",
	[IPC_HS_OTHER_VERIFY] = "other_verify",
	[IPC_HS_PROTOCOL] = "protocol",
	[IPC_HS_TIMEOUT] = "timeout",
	[IPC_HS_CLOSED] = "closed_by_peer",
};

static const char *const metrics_ev_class_names[IPC_EV_CLASS_MAX] = {
	[IPC_EV_SA] = "sa",
	[IPC_EV_CHAT] = "chat",
	[IPC_EV_PING] = "ping",
	[IPC_EV_OTHER] = "other",
	[IPC_EV_UNPARSED] = "unparsed",
};

const char *
metrics_hs_fail_name(int i)
{
	return (i >= 0 && i < IPC_HS_FAIL_MAX ? metrics_hs_fail_names[i] : "?");
}

const char *
metrics_ev_class_name(int i)
{
	return (i >= 0 && i < IPC_EV_CLASS_MAX ? metrics_ev_class_names[i] :
	    "?");
}

#define MF64(l, f)	{ l, offsetof(struct slot_stats, f), false }
#define MF32(l, f)	{ l, offsetof(struct slot_stats, f), true }

/*
 * One family of per-worker samples: without a label (one field) or with
 * label over n fields.
 */
struct metrics_family {
	const char	*name;
	const char	*type;
	const char	*help;
	const char	*label;		/* NULL: worker only */
	const struct metrics_field *fields;
	size_t		 n;
};

#define MFAM(name, type, help, f) \
	{ name, type, help, NULL, (const struct metrics_field[]){ f }, 1 }
#define MFAML(name, type, help, label, arr) \
	{ name, type, help, label, arr, sizeof(arr) / sizeof(arr[0]) }

static const struct metrics_field metrics_rejects[] = {
	MF64("max_sessions", rejected_full),
	MF64("no_descriptors", rejected_emfile),
};

const struct metrics_field metrics_drops[METRICS_N_DROPS] = {
	MF64("malformed", drop_malformed),
	MF64("rate_limited", drop_rate),
	MF64("no_recipient", drop_no_recipient),
	MF64("superseded", drop_superseded),
	MF64("closed", drop_closed),
	MF64("no_memory", drop_nomem),
	MF64("notice_queue_half_full", drop_notice),
};

const struct metrics_field metrics_closes[METRICS_N_CLOSES] = {
	MF64("framing", close_framing),
	MF64("unclosed_event", close_unclosed),
	MF64("idle", close_idle),
	MF64("slow_consumer", close_slow),
};

static const struct metrics_family metrics_families[] = {
	MFAM("sessions", "gauge",
	    "Established client sessions.", MF32(NULL, sessions)),
	MFAM("handshakes_in_progress", "gauge",
	    "Connections in their TLS handshake.", MF32(NULL, handshaking)),
	MFAM("open_fds", "gauge",
	    "Open descriptors of the worker process.", MF32(NULL, open_fds)),
	MFAM("worker_crl_generation", "gauge",
	    "CRL generation in force in the worker.",
	    MF32(NULL, crl_generation)),
	MFAM("connections_accepted_total", "counter",
	    "Connections accepted, TLS and plain TCP.", MF64(NULL, accepted)),
	MFAML("connections_rejected_total", "counter",
	    "Connections closed at accept, by reason.", "reason",
	    metrics_rejects),
	MFAM("handshakes_ok_total", "counter",
	    "TLS handshakes completed and admitted.",
	    MF64(NULL, handshakes_ok)),
	MFAM("handshakes_resumed_total", "counter",
	    "Admitted handshakes that resumed a session (a ticket).",
	    MF64(NULL, handshakes_resumed)),
	MFAM("revoked_refused_total", "counter",
	    "Handshakes refused because the certificate is revoked.",
	    MF64(NULL, revoked_refused)),
	MFAM("revoked_closed_total", "counter",
	    "Live sessions closed because a new CRL revoked them.",
	    MF64(NULL, revoked_closed)),
	MFAM("crl_stale_admissions_total", "counter",
	    "Clients admitted while the CRL was past its nextUpdate "
	    "(crl_stale = enforce-listed).", MF64(NULL, crl_stale_admitted)),
	MFAM("bytes_in_total", "counter",
	    "Application bytes read from clients (after TLS).",
	    MF64(NULL, bytes_in)),
	MFAM("bytes_out_total", "counter",
	    "Application bytes written to clients (before TLS).",
	    MF64(NULL, bytes_out)),
	MFAML("events_dropped_total", "counter",
	    "Events not delivered, by reason.", "reason", metrics_drops),
	MFAML("sessions_closed_total", "counter",
	    "Sessions closed for what they did, by reason.", "reason",
	    metrics_closes),
	MFAM("pongs_total", "counter",
	    "Pongs sent in answer to pings.", MF64(NULL, pongs)),
	MFAM("sa_replayed_total", "counter",
	    "Latest SA of other clients queued to a session at connect.",
	    MF64(NULL, sa_replayed)),
	MFAM("sa_replay_skipped_total", "counter",
	    "Latest SA not replayed: it would fill half the output queue.",
	    MF64(NULL, replay_skipped)),
	MFAM("disconnect_notices_total", "counter",
	    "Disconnect notices (t-x-d-d) sent for clients that left.",
	    MF64(NULL, disconnect_notices)),
	MFAM("outq_high_water_bytes", "gauge",
	    "Largest output queue of any session since the worker started.",
	    MF64(NULL, outq_high_water)),
	MFAM("outq_bytes", "gauge",
	    "Bytes waiting in the output queues of all sessions now.",
	    MF64(NULL, outq_bytes)),
	MFAM("store_commits_total", "counter",
	    "Write transactions the worker committed to the state store.",
	    MF64(NULL, store_commits)),
	MFAM("store_commit_failures_total", "counter",
	    "Write transactions of the worker that failed (the batch of "
	    "registry and SA writes was lost).",
	    MF64(NULL, store_commit_failures)),
	MFAM("store_ops_dropped_total", "counter",
	    "Registry and SA writes of the worker lost: refused, or in a "
	    "failed commit.", MF64(NULL, store_ops_dropped)),
	MFAM("store_map_grows_total", "counter",
	    "Times the worker grew the state store's map.",
	    MF64(NULL, store_map_grows)),
	MFAM("store_map_size_bytes", "gauge",
	    "Size of the state store's map as the worker has it mapped.",
	    MF64(NULL, store_map_size)),
};

uint64_t
metrics_field_get(const struct slot_stats *st, const struct metrics_field *f)
{
	const char	*p = (const char *)st + f->off;
	uint32_t	 v32;
	uint64_t	 v64;

	if (f->u32) {
		memcpy(&v32, p, sizeof(v32));
		return (v32);
	}
	memcpy(&v64, p, sizeof(v64));
	return (v64);
}

static void
metrics_head(struct metrics_buf *b, const char *name, const char *type,
    const char *help)
{
	metrics_buf_printf(b, "# HELP takd_%s %s\n# TYPE takd_%s %s\n", name,
	    help, name, type);
}

static size_t
metrics_n_up(const struct metrics_snap *s)
{
	size_t	 i, n = 0;

	for (i = 0; i < s->n_workers; i++)
		n += s->workers[i].up;
	return (n);
}

/* A family of per-worker samples, for the workers that answered. */
static void
metrics_per_worker(const struct metrics_snap *s, const struct metrics_family *f,
    struct metrics_buf *b)
{
	const struct metrics_worker	*w;
	size_t				 i, k;

	metrics_head(b, f->name, f->type, f->help);
	for (i = 0; i < s->n_workers; i++) {
		w = &s->workers[i];
		if (!w->up)
			continue;
		for (k = 0; k < f->n; k++) {
			if (f->label == NULL)
				metrics_buf_printf(b, "takd_%s{worker=\"%u\"} "
				    "%" PRIu64 "\n", f->name, w->id,
				    metrics_field_get(&w->st, &f->fields[k]));
			else
				metrics_buf_printf(b, "takd_%s{worker=\"%u\","
				    "%s=\"%s\"} %" PRIu64 "\n", f->name, w->id,
				    f->label, f->fields[k].label,
				    metrics_field_get(&w->st, &f->fields[k]));
		}
	}
}

/* A family over one of struct slot_stats' arrays (reasons, classes). */
static void
metrics_per_worker_array(const struct metrics_snap *s, const char *name,
    const char *help, const char *label, const char *(*label_name)(int),
    size_t off, int n, struct metrics_buf *b)
{
	const struct metrics_worker	*w;
	uint64_t			 v;
	size_t				 i;
	int				 k;

	metrics_head(b, name, "counter", help);
	for (i = 0; i < s->n_workers; i++) {
		w = &s->workers[i];
		if (!w->up)
			continue;
		for (k = 0; k < n; k++) {
			memcpy(&v, (const char *)&w->st + off +
			    (size_t)k * sizeof(v), sizeof(v));
			metrics_buf_printf(b, "takd_%s{worker=\"%u\","
			    "%s=\"%s\"} %" PRIu64 "\n", name, w->id, label,
			    label_name(k), v);
		}
	}
}

static void
metrics_gauge(struct metrics_buf *b, const char *name, const char *help,
    int64_t v)
{
	metrics_head(b, name, "gauge", help);
	metrics_buf_printf(b, "takd_%s %" PRId64 "\n", name, v);
}

static void
metrics_format_crl(const struct metrics_snap *s, struct metrics_buf *b)
{
	metrics_gauge(b, "crl_generation", "CRL generation in force "
	    "(0: none).", s->crl_generation);
	metrics_gauge(b, "crl_entries", "Serials the CRL in force revokes.",
	    (int64_t)s->crl_entries);
	metrics_gauge(b, "crl_stale", "1 while the CRL is past its "
	    "nextUpdate.", s->crl_stale);
	if (s->crl_on && s->crl_last_update != 0)
		metrics_gauge(b, "crl_last_update_timestamp_seconds",
		    "lastUpdate of the CRL in force, Unix time.",
		    (int64_t)s->crl_last_update);
	if (s->crl_on && s->crl_next_update != 0) {
		metrics_gauge(b, "crl_next_update_timestamp_seconds",
		    "nextUpdate of the CRL in force, Unix time.",
		    (int64_t)s->crl_next_update);
		metrics_gauge(b, "crl_seconds_to_next_update", "Seconds until "
		    "the CRL's nextUpdate (negative: stale).",
		    (int64_t)(s->crl_next_update - s->now));
	}
	metrics_gauge(b, "crl_loaded_timestamp_seconds", "When the CRL in "
	    "force was loaded, Unix time (0: none).",
	    (int64_t)s->crl_loaded_at);
	metrics_gauge(b, "crl_last_error_timestamp_seconds", "When a CRL "
	    "reload last failed, Unix time (0: never).",
	    (int64_t)s->crl_last_error_at);
}

/*
 * The store file (shared by every process) and the supervisor's writes.
 * Those are immediate, never batched: nothing to drop, and they do not grow
 * the map (the workers' commits do).
 */
static void
metrics_format_store(const struct metrics_snap *s, struct metrics_buf *b)
{
	const struct store_stats	*st = &s->store;

	if (!s->store_open)
		return;
	metrics_gauge(b, "store_used_bytes", "Bytes of the state store file "
	    "in use (a high-water mark: freed pages are reused).",
	    (int64_t)st->map_used);
	metrics_gauge(b, "store_map_max_bytes", "Size the state store's map "
	    "may grow to; writes fail beyond it.", (int64_t)st->map_max);
	metrics_head(b, "supervisor_store_commits_total", "counter", "Write "
	    "transactions the supervisor committed to the state store.");
	metrics_buf_printf(b, "takd_supervisor_store_commits_total %" PRIu64
	    "\n", st->commits);
	metrics_head(b, "supervisor_store_commit_failures_total", "counter",
	    "Write transactions of the supervisor that failed (registry "
	    "cleanup, SA purge).");
	metrics_buf_printf(b, "takd_supervisor_store_commit_failures_total %"
	    PRIu64 "\n", st->commit_failures);
	metrics_gauge(b, "supervisor_store_map_size_bytes", "Size of the "
	    "state store's map as the supervisor has it mapped.",
	    (int64_t)st->mapsize);
}

void
metrics_format(const struct metrics_snap *s, struct metrics_buf *b)
{
	const struct metrics_worker	*w;
	size_t				 i;

	metrics_head(b, "info", "gauge", "Version of the running takd.");
	metrics_buf_printf(b, "takd_info{version=\"%s\"} 1\n", s->version);
	metrics_gauge(b, "start_time_seconds", "When takd started, Unix time.",
	    (int64_t)s->started);
	metrics_format_crl(s, b);
	metrics_format_store(s, b);

	metrics_head(b, "worker_up", "gauge", "1 when the worker answered "
	    "this scrape; its samples below are fresh.");
	for (i = 0; i < s->n_workers; i++) {
		w = &s->workers[i];
		metrics_buf_printf(b, "takd_worker_up{worker=\"%u\"} %d\n",
		    w->id, w->up ? 1 : 0);
	}
	metrics_head(b, "worker_restarts_total", "counter", "Times the "
	    "worker was respawned after it died.");
	for (i = 0; i < s->n_workers; i++) {
		w = &s->workers[i];
		metrics_buf_printf(b, "takd_worker_restarts_total"
		    "{worker=\"%u\"} %u\n", w->id, w->restarts);
	}
	/* A family without a sample is noise: none when no worker answered. */
	if (metrics_n_up(s) == 0)
		return;
	for (i = 0; i < sizeof(metrics_families) / sizeof(metrics_families[0]);
	    i++)
		metrics_per_worker(s, &metrics_families[i], b);
	metrics_per_worker_array(s, "handshake_failures_total", "TLS "
	    "handshakes that failed, by reason (timeouts included).",
	    "reason", metrics_hs_fail_name,
	    offsetof(struct slot_stats, hs_fail), IPC_HS_FAIL_MAX, b);
	metrics_per_worker_array(s, "events_in_total", "Events read from "
	    "clients, by the class of their type.", "class",
	    metrics_ev_class_name, offsetof(struct slot_stats, ev_in),
	    IPC_EV_CLASS_MAX, b);
	/* Nothing unparsed is ever written. */
	metrics_per_worker_array(s, "events_out_total", "Events written "
	    "whole to clients, by the class of their type.", "class",
	    metrics_ev_class_name, offsetof(struct slot_stats, ev_out),
	    IPC_EV_UNPARSED, b);
}

void
metrics_render(const struct sup *sup, const struct stats_round *r,
    struct metrics_buf *b)
{
	struct metrics_snap	 s;
	struct metrics_worker	*w;
	const struct proc_slot	*slot;
	unsigned		 i;

	memset(&s, 0, sizeof(s));
	if ((w = calloc(sup->n_slots > 0 ? sup->n_slots : 1,
	    sizeof(*w))) == NULL) {
		b->err = 1;
		return;
	}
	s.version = TAKD_VERSION;
	s.now = time(NULL);
	s.started = sup->started;
	s.crl_on = sup->crl.crl != NULL;
	s.crl_generation = sup->crl.info.generation;
	s.crl_entries = sup->crl.info.entries;
	s.crl_last_update = sup->crl.info.last_update;
	s.crl_next_update = sup->crl.info.next_update;
	s.crl_loaded_at = sup->crl.loaded_at;
	s.crl_last_error_at = sup->crl.last_error_at;
	s.crl_stale = crl_is_stale(sup);
	s.store_open = sup->store != NULL;
	store_get_stats(sup->store, &s.store);
	for (i = 0; i < sup->n_slots; i++) {
		slot = &sup->slots[i];
		w[i].id = slot->id;
		w[i].up = slot->state == SLOT_RUNNING &&
		    admin_stats_answered(r, slot);
		w[i].restarts = slot->restarts;
		w[i].st = slot->stats;
	}
	s.n_workers = sup->n_slots;
	s.workers = w;
	metrics_format(&s, b);
	free(w);
}

