/*
 * The Prometheus text exposition (format 0.0.4) of the workers' counters, the
 * api process's, the CRL state and the state store: see metrics.h, and
 * docs/metrics.md for what each metric means.  The api process serves it
 * (api/metrics.c), takctl stats --prometheus prints it.
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
#include "supervisor/cluster_proc.h"
#include "supervisor/crl_fetch.h"
#include "supervisor/expiry.h"
#include "supervisor/ocsp.h"
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

const char *
metrics_hs_fail_name(int i)
{
	return (i >= 0 && i < IPC_HS_FAIL_MAX ? counters_hs_fail_names[i] :
	    "?");
}

const char *
metrics_ev_class_name(int i)
{
	return (i >= 0 && i < IPC_EV_CLASS_MAX ? counters_ev_class_names[i] :
	    "?");
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

/*
 * The family that starts at counter_defs[first] (its rows are adjacent, see
 * shared/counters.h), for the workers that answered.  Returns the index of
 * the row after it.
 */
static size_t
metrics_family(const struct metrics_snap *s, size_t first,
    struct metrics_buf *b)
{
	const struct counter_def	*d = &counter_defs[first];
	const struct metrics_worker	*w;
	size_t				 end, i, r, k;

	for (end = first + 1; end < counter_ndefs &&
	    counter_defs[end].family != NULL &&
	    strcmp(counter_defs[end].family, d->family) == 0; end++)
		;
	/* The api process's own rows: metrics_format_api() shows them. */
	if (strcmp(d->group, "api") == 0)
		return (end);
	metrics_head(b, d->family, d->type == COUNTER_COUNTER ? "counter" :
	    "gauge", d->help);
	for (i = 0; i < s->n_workers; i++) {
		w = &s->workers[i];
		if (!w->up)
			continue;
		for (r = first; r < end; r++) {
			d = &counter_defs[r];
			for (k = 0; k < d->n; k++) {
				if (d->label == NULL)
					metrics_buf_printf(b, "takd_%s{worker="
					    "\"%u\"} %" PRIu64 "\n", d->family,
					    w->id, counters_get(&w->st, d, k));
				else
					metrics_buf_printf(b, "takd_%s{worker="
					    "\"%u\",%s=\"%s\"} %" PRIu64 "\n",
					    d->family, w->id, d->label,
					    d->names != NULL ? d->names[k] :
					    d->value, counters_get(&w->st, d, k));
			}
		}
	}
	return (end);
}

/* A label value as the text format wants it: \\, \" and \n escaped. */
static void
metrics_label_value(struct metrics_buf *b, const char *v)
{
	const char	*p;

	for (p = v; *p != '\0'; p++) {
		if (*p == '\\' || *p == '"')
			metrics_buf_printf(b, "\\%c", *p);
		else if (*p == '\n')
			metrics_buf_append(b, "\\n", 2);
		else
			metrics_buf_append(b, p, 1);
	}
}

static int
metrics_group_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct grouplist_count *)a)->name,
	    ((const struct grouplist_count *)b)->name));
}

/*
 * takd_group_sessions{group="..."}: the sessions holding each group (either
 * half), summed over the workers that answered, by name (ids are each
 * worker's own).  A group no session holds has no sample.
 */
static void
metrics_format_groups(const struct metrics_snap *s, struct metrics_buf *b)
{
	const struct metrics_worker	*w;
	struct grouplist_count		*all;
	size_t				 i, n = 0, j;
	uint64_t			 sum;

	for (i = 0; i < s->n_workers; i++)
		if (s->workers[i].up)
			n += s->workers[i].n_groups;
	if (n == 0)
		return;
	if ((all = calloc(n, sizeof(*all))) == NULL) {
		b->err = 1;
		return;
	}
	for (i = 0, n = 0; i < s->n_workers; i++) {
		w = &s->workers[i];
		if (!w->up || w->n_groups == 0)
			continue;
		memcpy(all + n, w->groups, w->n_groups * sizeof(*all));
		n += w->n_groups;
	}
	qsort(all, n, sizeof(*all), metrics_group_cmp);
	metrics_head(b, "group_sessions", "gauge", "Sessions in the group "
	    "(either half), over all workers.");
	for (i = 0; i < n; i = j) {
		for (sum = 0, j = i; j < n && strcmp(all[j].name,
		    all[i].name) == 0; j++)
			sum += all[j].sessions;
		metrics_buf_printf(b, "takd_group_sessions{group=\"");
		metrics_label_value(b, all[i].name);
		metrics_buf_printf(b, "\"} %" PRIu64 "\n", sum);
	}
	free(all);
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
	metrics_head(b, "cert_expiry_timestamp_seconds", "gauge", "notAfter "
	    "of the server certificate and of the CA, Unix time.");
	if (s->cert_server_not_after != 0)
		metrics_buf_printf(b, "takd_cert_expiry_timestamp_seconds"
		    "{cert=\"server\"} %lld\n",
		    (long long)s->cert_server_not_after);
	if (s->cert_ca_not_after != 0)
		metrics_buf_printf(b, "takd_cert_expiry_timestamp_seconds"
		    "{cert=\"ca\"} %lld\n", (long long)s->cert_ca_not_after);
	metrics_head(b, "days_left", "gauge", "Whole days until the server "
	    "certificate or the CA expires, or the CRL's nextUpdate "
	    "(negative: past).");
	if (s->cert_server_not_after != 0)
		metrics_buf_printf(b, "takd_days_left{what=\"server_cert\"} "
		    "%ld\n", expiry_days_left(s->cert_server_not_after, s->now));
	if (s->cert_ca_not_after != 0)
		metrics_buf_printf(b, "takd_days_left{what=\"ca\"} %ld\n",
		    expiry_days_left(s->cert_ca_not_after, s->now));
	if (s->crl_on && s->crl_next_update != 0)
		metrics_buf_printf(b, "takd_days_left{what=\"crl\"} %ld\n",
		    expiry_days_left(s->crl_next_update, s->now));
	if (s->cert_clients_expiring >= 0) {
		metrics_head(b, "client_certs_expiring", "gauge", "Valid "
		    "client certificates of the PKI index expiring within "
		    "[tls] cert_warn_days or expired, as takctl last counted "
		    "them.");
		metrics_buf_printf(b, "takd_client_certs_expiring{days=\"%u\"} "
		    "%ld\n", s->cert_warn_days, s->cert_clients_expiring);
		metrics_gauge(b, "client_certs_counted_timestamp_seconds",
		    "When takctl last wrote the client certificates' dates, "
		    "Unix time.", (int64_t)s->cert_clients_counted_at);
	}
	if (!s->crl_fetch_on)
		return;
	metrics_head(b, "crl_fetch_total", "counter", "Fetches of [tls] "
	    "crl_url, by result (failed: the CRL in force stays).");
	metrics_buf_printf(b, "takd_crl_fetch_total{result=\"ok\"} %" PRIu64
	    "\ntakd_crl_fetch_total{result=\"failed\"} %" PRIu64 "\n",
	    s->crl_fetch_ok, s->crl_fetch_failed);
	metrics_head(b, "crl_fetch_installed_total", "counter", "Fetched "
	    "CRLs newer than the one in force, installed by a reload.");
	metrics_buf_printf(b, "takd_crl_fetch_installed_total %" PRIu64 "\n",
	    s->crl_fetch_installed);
	metrics_gauge(b, "crl_fetch_last_success_timestamp_seconds", "When a "
	    "fetch of [tls] crl_url last gave a valid CRL, Unix time (0: "
	    "never).", (int64_t)s->crl_fetch_last_success);
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

/*
 * What the api process has in common with a worker, under names of its
 * own: takd_api_* never mixes into the workers' sums.
 */
static const struct {
	const char	*field;
	const char	*name;
	const char	*help;
} metrics_api_rows[] = {
	{ "open_fds", "api_open_fds", "Open descriptors of the api process." },
	{ "crl_generation", "api_crl_generation",
	    "CRL generation in force in the api process." },
	{ "accepted", "api_connections_accepted_total",
	    "Connections the api process accepted, every listener." },
	{ "handshakes_ok", "api_handshakes_ok_total",
	    "TLS handshakes of the api process completed and admitted." },
	{ "hs_fail", "api_handshake_failures_total",
	    "TLS handshakes of the api process that failed, by reason." },
	{ "revoked_refused", "api_revoked_refused_total",
	    "Handshakes of the api process refused: certificate revoked." },
	{ "revoked_closed", "api_revoked_closed_total",
	    "HTTPS connections closed because a new CRL revoked them." },
};

static void
metrics_api_row(const struct metrics_snap *s, const struct counter_def *d,
    const char *name, const char *help, struct metrics_buf *b)
{
	size_t	 k;

	if (help != NULL)
		metrics_head(b, name, d->type == COUNTER_COUNTER ? "counter" :
		    "gauge", help);
	for (k = 0; k < d->n; k++) {
		if (d->label == NULL)
			metrics_buf_printf(b, "takd_%s %" PRIu64 "\n", name,
			    counters_get(&s->api.st, d, k));
		else
			metrics_buf_printf(b, "takd_%s{%s=\"%s\"} %" PRIu64
			    "\n", name, d->label, d->names != NULL ?
			    d->names[k] : d->value, counters_get(&s->api.st, d,
			    k));
	}
}

/* The api process: up, restarts, and its counters when it answered. */
static void
metrics_format_api(const struct metrics_snap *s, struct metrics_buf *b)
{
	const struct counter_def	*d;
	size_t				 i, r;

	if (!s->api_run)
		return;
	metrics_gauge(b, "api_up", "1 when the api process answered this "
	    "scrape; its samples below are fresh.", s->api.up ? 1 : 0);
	metrics_head(b, "api_restarts_total", "counter", "Times the api "
	    "process was respawned after it died.");
	metrics_buf_printf(b, "takd_api_restarts_total %u\n",
	    s->api.restarts);
	if (!s->api.up)
		return;
	for (r = 0; r < sizeof(metrics_api_rows) /
	    sizeof(metrics_api_rows[0]); r++)
		for (i = 0; i < counter_ndefs; i++)
			if (strcmp(counter_defs[i].field,
			    metrics_api_rows[r].field) == 0)
				metrics_api_row(s, &counter_defs[i],
				    metrics_api_rows[r].name,
				    metrics_api_rows[r].help, b);
	/* Its own rows, a family's rows adjacent (counters.h). */
	for (i = 0; i < counter_ndefs; i++) {
		d = &counter_defs[i];
		if (strcmp(d->group, "api") != 0 || d->family == NULL)
			continue;
		metrics_api_row(s, d, d->family, i > 0 &&
		    counter_defs[i - 1].family != NULL &&
		    strcmp(counter_defs[i - 1].family, d->family) == 0 ?
		    NULL : d->help, b);
	}
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
	metrics_format_api(s, b);
	/* A family without a sample is noise: none when no worker answered. */
	if (metrics_n_up(s) == 0)
		return;
	for (i = 0; i < counter_ndefs; )
		if (counter_defs[i].family == NULL)
			i++;
		else
			i = metrics_family(s, i, b);
	metrics_format_groups(s, b);
}

void
metrics_render(const struct sup *sup, const struct round *r,
    struct metrics_buf *b)
{
	struct metrics_snap	 s;
	struct crl_fetch_stats	 fs;
	struct expiry_info	 ei;
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
	crl_fetch_stats(sup, &fs);
	s.crl_fetch_on = fs.on;
	s.crl_fetch_ok = fs.ok;
	s.crl_fetch_failed = fs.failed;
	s.crl_fetch_installed = fs.installed;
	s.crl_fetch_last_success = fs.last_success;
	expiry_get(sup, &ei);
	s.cert_server_not_after = ei.server;
	s.cert_ca_not_after = ei.ca;
	s.cert_clients_expiring = expiry_clients(sup, s.now,
	    &s.cert_clients_counted_at);
	s.cert_warn_days = sup->cfg->cert_warn_days;
	s.store_open = sup->store != NULL;
	store_get_stats(sup->store, &s.store);
	for (i = 0; i < sup->n_slots; i++) {
		slot = &sup->slots[i];
		w[i].id = slot->id;
		w[i].up = slot->state == SLOT_RUNNING &&
		    round_answered(r, slot);
		w[i].restarts = slot->restarts;
		w[i].st = slot->stats;
		w[i].groups = slot->groups;
		w[i].n_groups = slot->n_groups;
	}
	s.n_workers = sup->n_slots;
	s.workers = w;
	s.api_run = sup->api_run;
	s.api.id = sup->api.id;
	s.api.up = sup->api.state == SLOT_RUNNING &&
	    round_answered(r, &sup->api);
	s.api.restarts = sup->api.restarts;
	s.api.st = sup->api.stats;
	metrics_format(&s, b);
	/* takd_cluster_* (supervisor/cluster_proc.c, docs/cluster.md). */
	cluster_proc_metrics(sup, b);
	ocsp_metrics(sup, b);	/* takd_ocsp_* ([ocsp] staple) */
	free(w);
}

