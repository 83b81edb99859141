/*
 * takctl stats: the numbers of the metrics (docs/metrics.md) as a table, one
 * column per worker and one for the total, from takd's status; with
 * --prometheus, the exposition text exactly as the [metrics] listener serves
 * it (the admin command "metrics", same generator).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shared/counters.h"
#include "takctl/admin_client.h"
#include "takctl/takctl.h"

#define STATS_LABEL_W		34
#define STATS_COL_W		12

enum stats_total {
	TOTAL_SUM,
	TOTAL_MAX,		/* a high-water mark: the largest */
	TOTAL_NONE		/* no total makes sense (generations, text) */
};

struct stats_row {
	const char	*label;
	const char	*path;		/* in a worker: "a.b" */
	enum stats_total total;
};

/* What a worker slot is, before its counters (shared/counters.h). */
static const struct stats_row slot_rows[] = {
	{ "state", "state", TOTAL_NONE },
	{ "pid", "pid", TOTAL_NONE },
	{ "answered", "responding", TOTAL_NONE },
	{ "restarts", "restarts", TOTAL_SUM },
};
#define STATS_SLOT_HEADING	"workers"

/* A JSON value found by a dot-separated path of object keys. */
static int
stats_get(const char *obj, size_t len, const char *path, const char **v,
    size_t *vlen)
{
	char		 key[64];
	const char	*dot;
	size_t		 klen;

	for (;;) {
		dot = strchr(path, '.');
		klen = dot != NULL ? (size_t)(dot - path) : strlen(path);
		if (klen >= sizeof(key))
			return (-1);
		memcpy(key, path, klen);
		key[klen] = '\0';
		if (admin_json_get(obj, len, key, v, vlen) != 1)
			return (-1);
		if (dot == NULL)
			return (0);
		obj = *v;
		len = *vlen;
		path = dot + 1;
	}
}

/* A value as text for a cell: strings unquoted, absent as "-". */
static void
stats_cell(const char *obj, size_t len, const char *path, char *buf,
    size_t buflen)
{
	const char	*v;
	size_t		 vlen;

	if (stats_get(obj, len, path, &v, &vlen) == -1 ||
	    (vlen == 4 && memcmp(v, "null", 4) == 0)) {
		snprintf(buf, buflen, "-");
		return;
	}
	if (vlen >= 2 && v[0] == '"') {
		v++;
		vlen -= 2;
	} else if (vlen == 4 && memcmp(v, "true", 4) == 0) {
		v = "yes";
		vlen = 3;
	} else if (vlen == 5 && memcmp(v, "false", 5) == 0) {
		v = "no";
		vlen = 2;
	}
	snprintf(buf, buflen, "%.*s", (int)vlen, v);
}

static void
stats_print_row(const struct stats_row *r, const char **w, const size_t *wl,
    size_t n)
{
	char		 cell[64], *end;
	uint64_t	 total = 0, v;
	bool		 numeric = true;
	size_t		 i;

	printf("  %-*s", STATS_LABEL_W - 2, r->label);
	for (i = 0; i < n; i++) {
		stats_cell(w[i], wl[i], r->path, cell, sizeof(cell));
		printf(" %*s", STATS_COL_W, cell);
		v = strtoull(cell, &end, 10);
		if (cell[0] < '0' || cell[0] > '9' || *end != '\0') {
			numeric = false;
			continue;
		}
		if (r->total == TOTAL_SUM)
			total += v;
		else if (r->total == TOTAL_MAX && v > total)
			total = v;
	}
	if (r->total != TOTAL_NONE && numeric)
		printf(" %*" PRIu64, STATS_COL_W, total);
	putchar('\n');
}

/* The rows of one counter definition (n of them for an array). */
static void
stats_print_def(const struct counter_def *d, const char **w,
    const size_t *wl, size_t n)
{
	struct stats_row	 r;
	char			 label[STATS_LABEL_W + 1], path[128];
	size_t			 k;

	r.total = d->type == COUNTER_PEAK ? TOTAL_MAX :
	    d->type == COUNTER_LEVEL ? TOTAL_NONE : TOTAL_SUM;
	for (k = 0; k < d->n; k++) {
		if (d->names != NULL)
			snprintf(label, sizeof(label), "%s%s", d->text,
			    counters_name(d, k));
		else
			snprintf(label, sizeof(label), "%s", d->text);
		snprintf(path, sizeof(path), "%s%s%s", d->group,
		    d->group[0] != '\0' ? "." : "", counters_name(d, k));
		r.label = label;
		r.path = path;
		stats_print_row(&r, w, wl, n);
	}
}

/* The slot rows, then every counter takctl stats shows, by heading. */
static void
stats_print_rows(const char **w, const size_t *wl, size_t n)
{
	const struct counter_def	*d;
	const char			*heading = STATS_SLOT_HEADING;
	size_t				 i;

	printf("%s\n", heading);
	for (i = 0; i < sizeof(slot_rows) / sizeof(slot_rows[0]); i++)
		stats_print_row(&slot_rows[i], w, wl, n);
	for (i = 0; i < counter_ndefs; i++) {
		d = &counter_defs[i];
		if (d->text == NULL)
			continue;
		if (strcmp(d->heading, heading) != 0) {
			heading = d->heading;
			printf("%s\n", heading);
		}
		stats_print_def(d, w, wl, n);
	}
}

static void
stats_print_duration(long long s)
{
	const char	*sign = s < 0 ? "-" : "";

	if (s < 0)
		s = -s;
	if (s >= 86400)
		printf("%s%lldd %lldh", sign, s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		printf("%s%lldh %lldm", sign, s / 3600, s % 3600 / 60);
	else
		printf("%s%lldm %llds", sign, s / 60, s % 60);
}

/* A size in bytes as KiB, MiB or GiB when it is a whole number of them. */
static void
stats_print_size(const char *obj, size_t len, const char *path)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB" };
	char		 cell[64], *end;
	uint64_t	 v;
	size_t		 u = 0;

	stats_cell(obj, len, path, cell, sizeof(cell));
	v = strtoull(cell, &end, 10);
	if (cell[0] < '0' || cell[0] > '9' || *end != '\0') {
		printf("%s", cell);
		return;
	}
	while (u + 1 < sizeof(units) / sizeof(units[0]) && v >= 1024 &&
	    v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	printf("%" PRIu64 " %s", v, units[u]);
}

/*
 * The state store file, shared by every process, and the supervisor's
 * writes to it (the workers' are in the table).
 */
static void
stats_print_store(const char *st, size_t len)
{
	const char	*o;
	size_t		 olen;
	char		 a[64], b[64];

	if (admin_json_get(st, len, "store", &o, &olen) != 1)
		return;
	stats_cell(o, olen, "open", a, sizeof(a));
	if (strcmp(a, "yes") != 0) {
		printf("State store not open\n");
		return;
	}
	printf("State store ");
	stats_print_size(o, olen, "used_bytes");
	printf(" used, map ");
	stats_print_size(o, olen, "map_size_bytes");
	printf(" (grows up to ");
	stats_print_size(o, olen, "map_max_bytes");
	stats_cell(o, olen, "commits", a, sizeof(a));
	stats_cell(o, olen, "commit_failures", b, sizeof(b));
	printf("); supervisor %s commits, %s failed\n", a, b);
}

/* The lines above the table: takd itself, the CRL in force, the store. */
static void
stats_print_header(const char *st, size_t len)
{
	const char	*crl, *v;
	size_t		 crllen, vlen;
	char		 a[64], b[64], c[64], d[64];

	stats_cell(st, len, "version", a, sizeof(a));
	stats_cell(st, len, "pid", b, sizeof(b));
	printf("takd %s, pid %s, up ", a, b);
	stats_cell(st, len, "uptime", a, sizeof(a));
	stats_print_duration(strtoll(a, NULL, 10));
	stats_cell(st, len, "sessions", a, sizeof(a));
	printf(", %s sessions\n", a);
	if (admin_json_get(st, len, "crl", &crl, &crllen) != 1)
		return;
	stats_cell(crl, crllen, "generation", a, sizeof(a));
	stats_cell(crl, crllen, "entries", b, sizeof(b));
	stats_cell(crl, crllen, "next_update", c, sizeof(c));
	stats_cell(crl, crllen, "stale", d, sizeof(d));
	printf("CRL generation %s, %s entries, next update %s", a, b, c);
	if (admin_json_get(crl, crllen, "seconds_to_next_update", &v,
	    &vlen) == 1 && vlen > 0 && v[0] != 'n') {
		printf(" (in ");
		stats_print_duration(strtoll(v, NULL, 10));
		putchar(')');
	}
	printf(", %s\n", strcmp(d, "yes") == 0 ? "STALE" : "not stale");
	stats_print_store(st, len);
	putchar('\n');
}

static int
stats_table(const char *st, size_t len)
{
	const char	*arr, *pos, *end, *w[TAKD_MAX_WORKERS], *id;
	size_t		 alen, wl[TAKD_MAX_WORKERS], n = 0, i, idlen;
	int		 rc = 0;

	if (admin_json_get(st, len, "workers", &arr, &alen) != 1 ||
	    alen == 0 || arr[0] != '[') {
		takctl_warnx("takd sent a status without workers: %.*s",
		    (int)(len > 200 ? 200 : len), st);
		return (TAKCTL_EX_FAIL);
	}
	pos = arr;
	end = arr + alen;
	while (n < TAKD_MAX_WORKERS &&
	    (rc = admin_json_array_next(&pos, end, &w[n], &wl[n])) == 1)
		n++;
	if (n < TAKD_MAX_WORKERS && rc == -1) {
		takctl_warnx("takd sent a malformed worker list");
		return (TAKCTL_EX_FAIL);
	}
	stats_print_header(st, len);
	printf("%-*s", STATS_LABEL_W, "");
	for (i = 0; i < n; i++) {
		char	 col[32];

		if (admin_json_get(w[i], wl[i], "id", &id, &idlen) != 1)
			idlen = 0;
		snprintf(col, sizeof(col), "worker %.*s", (int)idlen, id);
		printf(" %*s", STATS_COL_W, col);
	}
	printf(" %*s\n", STATS_COL_W, "total");
	stats_print_rows(w, wl, n);
	return (TAKCTL_EX_OK);
}

/* The exposition text as takd made it; a JSON object is an error. */
static int
stats_prometheus(struct config *c)
{
	const char	*v;
	char		 err[PATH_MAX + 256], *reply;
	size_t		 len, vlen;
	int		 rc = TAKCTL_EX_OK;

	if (admin_request(c, "metrics", 0, &reply, &len, err,
	    sizeof(err)) < 0) {
		takctl_warnx("%s", err);
		return (TAKCTL_EX_FAIL);
	}
	if (reply[0] == '{') {
		if (admin_json_get(reply, len, "error", &v, &vlen) == 1)
			takctl_warnx("takd: %.*s", (int)vlen, v);
		else
			takctl_warnx("takd did not send metrics");
		rc = TAKCTL_EX_FAIL;
	} else if (reply[len - 1] != '\n') {
		/* Every line of the exposition ends with one. */
		takctl_warnx("takd closed the connection in the middle of the "
		    "metrics");
		rc = TAKCTL_EX_FAIL;
	} else
		fwrite(reply, 1, len, stdout);
	free(reply);
	if (fflush(stdout) == EOF) {
		takctl_warnx("writing the metrics failed");
		rc = TAKCTL_EX_FAIL;
	}
	return (rc);
}

int
cmd_stats(struct config *c, int argc, char **argv)
{
	char	 err[PATH_MAX + 256], *reply;
	size_t	 len;
	int	 rc;

	if (argc == 2 && strcmp(argv[1], "--prometheus") == 0)
		return (stats_prometheus(c));
	if (argc != 1) {
		takctl_warnx("usage: takctl stats [--prometheus]");
		return (TAKCTL_EX_USAGE);
	}
	if (admin_request(c, "status", 0, &reply, &len, err,
	    sizeof(err)) < 0) {
		takctl_warnx("%s", err);
		return (TAKCTL_EX_FAIL);
	}
	rc = stats_table(reply, len);
	free(reply);
	if (fflush(stdout) == EOF) {
		takctl_warnx("writing the table failed");
		rc = TAKCTL_EX_FAIL;
	}
	return (rc);
}
