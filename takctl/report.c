/*
 * What takctl status and takctl stats print for people, from takd's status
 * JSON: a value by its path, a cell of the table, durations, and the lines
 * about takd, its CRL and its state store above both.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/json.h"
#include "takctl/admin_client.h"
#include "takctl/report.h"
#include "takctl/takctl.h"

/* A JSON value found by a dot-separated path of object keys. */
int
report_get(const char *obj, size_t len, const char *path, const char **v,
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
		if (json_get(obj, len, key, v, vlen) != 1)
			return (-1);
		if (dot == NULL)
			return (0);
		obj = *v;
		len = *vlen;
		path = dot + 1;
	}
}

/* A value as text for a cell: strings unquoted, absent as "-". */
void
report_cell(const char *obj, size_t len, const char *path, char *buf,
    size_t buflen)
{
	const char	*v;
	size_t		 vlen;

	if (report_get(obj, len, path, &v, &vlen) == -1 ||
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

void
report_duration(long long s)
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
report_size(const char *obj, size_t len, const char *path)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB" };
	char		 cell[64], *end;
	uint64_t	 v;
	size_t		 u = 0;

	report_cell(obj, len, path, cell, sizeof(cell));
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

/* The users file in force, and the last one refused. */
static void
report_users(const char *st, size_t len)
{
	const char	*u;
	size_t		 ulen;
	char		 path[512], gen[32], n[32], g[32], present[8];
	char		 err[600];

	if (json_get(st, len, "users", &u, &ulen) != 1)
		return;
	report_cell(u, ulen, "path", path, sizeof(path));
	report_cell(u, ulen, "generation", gen, sizeof(gen));
	report_cell(u, ulen, "count", n, sizeof(n));
	report_cell(u, ulen, "groups", g, sizeof(g));
	report_cell(u, ulen, "present", present, sizeof(present));
	if (strcmp(present, "yes") == 0)
		printf("users file %s: generation %s, %s users, %s groups\n",
		    path, gen, n, g);
	else
		printf("users file %s: none (generation %s)\n", path, gen);
	report_cell(u, ulen, "last_error", err, sizeof(err));
	if (strcmp(err, "-") != 0)
		printf("users file: last reload refused: %s\n", err);
}

/*
 * The state store file, shared by every process, and the supervisor's
 * writes to it (the workers' are in the table).
 */
static void
report_store(const char *st, size_t len)
{
	const char	*o;
	size_t		 olen;
	char		 a[64], b[64];

	if (json_get(st, len, "store", &o, &olen) != 1)
		return;
	report_cell(o, olen, "open", a, sizeof(a));
	if (strcmp(a, "yes") != 0) {
		printf("State store not open\n");
		return;
	}
	printf("State store ");
	report_size(o, olen, "used_bytes");
	printf(" used, map ");
	report_size(o, olen, "map_size_bytes");
	printf(" (grows up to ");
	report_size(o, olen, "map_max_bytes");
	report_cell(o, olen, "commits", a, sizeof(a));
	report_cell(o, olen, "commit_failures", b, sizeof(b));
	printf("); supervisor %s commits, %s failed\n", a, b);
}

/* The lines above the table: takd itself, the CRL in force, the store. */
void
report_header(const char *st, size_t len)
{
	const char	*crl, *v;
	size_t		 crllen, vlen;
	char		 a[64], b[64], c[64], d[64];

	report_cell(st, len, "version", a, sizeof(a));
	report_cell(st, len, "pid", b, sizeof(b));
	printf("takd %s, pid %s, up ", a, b);
	report_cell(st, len, "uptime", a, sizeof(a));
	report_duration(strtoll(a, NULL, 10));
	report_cell(st, len, "sessions", a, sizeof(a));
	printf(", %s sessions\n", a);
	if (json_get(st, len, "crl", &crl, &crllen) != 1)
		return;
	report_cell(crl, crllen, "generation", a, sizeof(a));
	report_cell(crl, crllen, "entries", b, sizeof(b));
	report_cell(crl, crllen, "next_update", c, sizeof(c));
	report_cell(crl, crllen, "stale", d, sizeof(d));
	printf("CRL generation %s, %s entries, next update %s", a, b, c);
	if (json_get(crl, crllen, "seconds_to_next_update", &v,
	    &vlen) == 1 && vlen > 0 && v[0] != 'n') {
		printf(" (in ");
		report_duration(strtoll(v, NULL, 10));
		putchar(')');
	}
	printf(", %s\n", strcmp(d, "yes") == 0 ? "STALE" : "not stale");
	report_users(st, len);
	report_store(st, len);
	putchar('\n');
}

int
report_list(const struct config *c, const char *request, const char *key,
    const char *what, bool json, int (*table)(const char *, size_t))
{
	const char	*arr;
	char		 err[PATH_MAX + 256], *reply;
	size_t		 len, alen;
	int		 rc;

	if (admin_request(c, request, 0, &reply, &len, err,
	    sizeof(err)) < 0) {
		takctl_warnx("%s", err);
		return (TAKCTL_EX_FAIL);
	}
	if (json_get(reply, len, key, &arr, &alen) != 1 ||
	    alen == 0 || arr[0] != '[') {
		takctl_warnx("takd did not send %s: %.*s", what,
		    (int)(len > 200 ? 200 : len), reply);
		free(reply);
		return (TAKCTL_EX_FAIL);
	}
	if (json) {
		fwrite(arr, 1, alen, stdout);
		putchar('\n');
		rc = TAKCTL_EX_OK;
	} else
		rc = table(arr, alen);
	free(reply);
	return (rc);
}

/* An array of strings as "a,b,c" in buf ("" when empty or malformed). */
static void
report_join(const char *arr, size_t len, char *buf, size_t buflen)
{
	const char	*pos = arr, *end = arr + len, *e;
	size_t		 elen, off = 0;
	int		 n;

	buf[0] = '\0';
	while (json_array_next(&pos, end, &e, &elen) == 1) {
		if (elen >= 2 && e[0] == '"') {
			e++;
			elen -= 2;
		}
		n = snprintf(buf + off, buflen - off, "%s%.*s", off > 0 ?
		    "," : "", (int)elen, e);
		if (n < 0 || (size_t)n >= buflen - off)
			break;
		off += (size_t)n;
	}
}

/* A value as text: strings without their quotes, null and "" as "-". */
static void
report_value(const char *obj, size_t len, const struct report_col *c)
{
	const char	*v;
	size_t		 vlen;
	char		 joined[1024];
	int		 w;

	if (report_get(obj, len, c->key, &v, &vlen) == 0 && vlen > 0 &&
	    v[0] == '[') {
		/* A list of names (groups): joined, "-" when empty. */
		report_join(v, vlen, joined, sizeof(joined));
		v = joined[0] != '\0' ? joined : "-";
		vlen = strlen(v);
	} else if (report_get(obj, len, c->key, &v, &vlen) == -1 ||
	    (vlen == 4 && memcmp(v, "null", 4) == 0) ||
	    (vlen == 2 && memcmp(v, "\"\"", 2) == 0)) {
		v = "-";
		vlen = 1;
	} else if (vlen >= 2 && v[0] == '"') {
		v++;
		vlen -= 2;
	}
	w = c->width == 0 ? (int)vlen : c->width;
	printf("%-*.*s ", w, (int)(vlen < (size_t)w ? vlen : (size_t)w), v);
}

int
report_table(const char *arr, size_t len, const struct report_col *cols,
    size_t ncols, const char *one, const char *many, const char *suffix)
{
	const char	*pos = arr, *end = arr + len, *obj;
	size_t		 olen, i, n = 0;
	int		 rc;

	for (i = 0; i < ncols; i++)
		printf("%-*s ", cols[i].width, cols[i].title);
	putchar('\n');
	while ((rc = json_array_next(&pos, end, &obj, &olen)) == 1) {
		for (i = 0; i < ncols; i++)
			report_value(obj, olen, &cols[i]);
		putchar('\n');
		n++;
	}
	if (rc == -1) {
		takctl_warnx("takd sent a malformed list of %s", many);
		return (TAKCTL_EX_FAIL);
	}
	printf("%zu %s%s\n", n, n == 1 ? one : many, suffix);
	return (TAKCTL_EX_OK);
}
