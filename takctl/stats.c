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
#include "shared/json.h"
#include "takctl/admin_client.h"
#include "takctl/report.h"
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
		report_cell(w[i], wl[i], r->path, cell, sizeof(cell));
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

static int
stats_table(const char *st, size_t len)
{
	const char	*arr, *pos, *end, *w[TAKD_MAX_WORKERS], *id;
	size_t		 alen, wl[TAKD_MAX_WORKERS], n = 0, i, idlen;
	int		 rc = 0;

	if (json_get(st, len, "workers", &arr, &alen) != 1 ||
	    alen == 0 || arr[0] != '[') {
		takctl_warnx("takd sent a status without workers: %.*s",
		    (int)(len > 200 ? 200 : len), st);
		return (TAKCTL_EX_FAIL);
	}
	pos = arr;
	end = arr + alen;
	while (n < TAKD_MAX_WORKERS &&
	    (rc = json_array_next(&pos, end, &w[n], &wl[n])) == 1)
		n++;
	if (n < TAKD_MAX_WORKERS && rc == -1) {
		takctl_warnx("takd sent a malformed worker list");
		return (TAKCTL_EX_FAIL);
	}
	report_header(st, len);
	printf("%-*s", STATS_LABEL_W, "");
	for (i = 0; i < n; i++) {
		char	 col[32];

		if (json_get(w[i], wl[i], "id", &id, &idlen) != 1)
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
		if (json_get(reply, len, "error", &v, &vlen) == 1)
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
	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		return (takctl_admin(c, "status", 0, NULL));
	if (argc != 1) {
		takctl_warnx("usage: takctl stats [--prometheus|--json]");
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
