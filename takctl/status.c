/*
 * takctl status [--json]: takd's status.  JSON (exactly what takd sent) with
 * --json or when stdout is not a terminal, so that scripts keep working; a
 * short summary for a person at a terminal: takd, the CRL and the days to
 * its nextUpdate, the state store, one line per worker with its sessions
 * and what it dropped, one for the api process when it runs, one for
 * takd-signer when enrollment is on, and the listeners.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/counters.h"
#include "shared/json.h"
#include "takctl/admin_client.h"
#include "takctl/report.h"
#include "takctl/takctl.h"
#include "takctl/user.h"

/* A number at path in obj; 0 when absent or not a number. */
static uint64_t
status_num(const char *obj, size_t len, const char *path)
{
	char	 cell[64], *end;
	uint64_t v;

	report_cell(obj, len, path, cell, sizeof(cell));
	v = strtoull(cell, &end, 10);
	return (cell[0] >= '0' && cell[0] <= '9' && *end == '\0' ? v : 0);
}

/*
 * The sum of a worker's counters in JSON object group whose key starts with
 * prefix: all events it dropped, all sessions it closed.
 */
static uint64_t
status_sum(const char *w, size_t wl, const char *group, const char *prefix)
{
	const struct counter_def	*d;
	char				 path[128];
	uint64_t			 sum = 0;
	size_t				 i, k;

	for (i = 0; i < counter_ndefs; i++) {
		d = &counter_defs[i];
		if (strcmp(d->group, group) != 0)
			continue;
		for (k = 0; k < d->n; k++) {
			if (strncmp(counters_name(d, k), prefix,
			    strlen(prefix)) != 0)
				continue;
			snprintf(path, sizeof(path), "%s.%s", group,
			    counters_name(d, k));
			sum += status_num(w, wl, path);
		}
	}
	return (sum);
}

static void
status_workers(const char *st, size_t len)
{
	const char	*arr, *pos, *w;
	char		 state[32], pid[32];
	size_t		 alen, wl;

	if (report_get(st, len, "workers", &arr, &alen) == -1 ||
	    alen == 0 || arr[0] != '[')
		return;
	printf("%-7s %-11s %8s %9s %12s %9s %8s %7s\n", "worker", "state",
	    "pid", "sessions", "handshaking", "restarts", "dropped", "closed");
	pos = arr;
	while (json_array_next(&pos, arr + alen, &w, &wl) == 1) {
		report_cell(w, wl, "state", state, sizeof(state));
		report_cell(w, wl, "pid", pid, sizeof(pid));
		printf("%-7" PRIu64 " %-11s %8s %9" PRIu64 " %12" PRIu64
		    " %9" PRIu64 " %8" PRIu64 " %7" PRIu64 "\n",
		    status_num(w, wl, "id"), state, pid,
		    status_num(w, wl, "sessions"),
		    status_num(w, wl, "handshaking"),
		    status_num(w, wl, "restarts"),
		    status_sum(w, wl, "dropped", "") +
		    status_sum(w, wl, "fanout", "dropped_"),
		    status_sum(w, wl, "closed", ""));
	}
}

/* The api process (docs/api.md), when takd runs one. */
static void
status_api(const char *st, size_t len)
{
	const char	*a;
	char		 state[32], pid[32];
	size_t		 al;

	if (report_get(st, len, "api", &a, &al) == -1 || al == 0 ||
	    a[0] != '{')
		return;
	report_cell(a, al, "state", state, sizeof(state));
	report_cell(a, al, "pid", pid, sizeof(pid));
	printf("api process %s, pid %s, %" PRIu64 " restarts: %" PRIu64
	    " connections open, %" PRIu64 " requests, %" PRIu64 " handshakes "
	    "refused, %" PRIu64 " requests refused\n", state, pid,
	    status_num(a, al, "restarts"), status_num(a, al, "api.connections"),
	    status_sum(a, al, "api", "requests_"),
	    status_sum(a, al, "handshake_failures", ""),
	    status_num(a, al, "api.plain_http_on_tls") +
	    status_num(a, al, "api.bad_request") +
	    status_num(a, al, "api.head_too_large") +
	    status_num(a, al, "api.body_too_large") +
	    status_num(a, al, "api.not_found") +
	    status_num(a, al, "api.bad_method") +
	    status_num(a, al, "api.unauthorized") +
	    status_num(a, al, "api.timeouts") +
	    status_num(a, al, "api.connections_refused"));
}

/* takd-signer (docs/security.md, "The signer"), when enrollment is on. */
static void
status_signer(const char *st, size_t len)
{
	const char	*a;
	char		 state[32], pid[32];
	size_t		 al;

	if (report_get(st, len, "signer", &a, &al) == -1 || al == 0 ||
	    a[0] != '{')
		return;
	report_cell(a, al, "state", state, sizeof(state));
	report_cell(a, al, "pid", pid, sizeof(pid));
	printf("signer %s, pid %s, %" PRIu64 " restarts%s\n", state, pid,
	    status_num(a, al, "restarts"), strcmp(state, "gave_up") == 0 ?
	    ": enrollment answers 503 until takd restarts" : "");
}

/* takd-usersd (docs/security.md), when the console runs. */
static void
status_usersd(const char *st, size_t len)
{
	const char	*a;
	char		 state[32], pid[32], why[128];
	size_t		 al;

	if (report_get(st, len, "usersd", &a, &al) == -1 || al == 0 ||
	    a[0] != '{')
		return;
	report_cell(a, al, "state", state, sizeof(state));
	report_cell(a, al, "pid", pid, sizeof(pid));
	report_cell(a, al, "why", why, sizeof(why));
	if (strcmp(state, "running") == 0)
		printf("usersd running, pid %s, %" PRIu64 " user changes, %"
		    PRIu64 " refused\n", pid, status_num(a, al, "changes"),
		    status_num(a, al, "refused"));
	else
		printf("usersd %s: user changes from the console are "
		    "unavailable until takd restarts\n", why);
}

static void
status_listeners(const char *st, size_t len)
{
	const char	*arr, *pos, *l;
	char		 proto[16], addr[64], port[16];
	size_t		 alen, ll;
	const char	*sep = "listening: ";

	if (report_get(st, len, "listeners", &arr, &alen) == -1 ||
	    alen == 0 || arr[0] != '[')
		return;
	pos = arr;
	while (json_array_next(&pos, arr + alen, &l, &ll) == 1) {
		report_cell(l, ll, "proto", proto, sizeof(proto));
		report_cell(l, ll, "address", addr, sizeof(addr));
		report_cell(l, ll, "port", port, sizeof(port));
		printf("%s%s %s%s%s:%s", sep, proto, strchr(addr, ':') ? "[" :
		    "", addr, strchr(addr, ':') ? "]" : "", port);
		sep = ", ";
	}
	if (strcmp(sep, ", ") == 0)
		putchar('\n');
}

/* [tls] crl_url: the fetches, and the last failure while it is the news. */
static void
status_crl_fetch(const char *st, size_t len)
{
	char	 ok[32], failed[32], ls[64], lf[64], err[512];

	report_cell(st, len, "crl.fetch.ok", ok, sizeof(ok));
	if (strcmp(ok, "-") == 0)
		return;		/* no [tls] crl_url */
	report_cell(st, len, "crl.fetch.failed", failed, sizeof(failed));
	report_cell(st, len, "crl.fetch.last_success", ls, sizeof(ls));
	report_cell(st, len, "crl.fetch.last_failure", lf, sizeof(lf));
	report_cell(st, len, "crl.fetch.last_error", err, sizeof(err));
	printf("CRL fetch: %s ok, %s failed, last success %s\n", ok, failed,
	    strcmp(ls, "-") != 0 ? ls : "never");
	/* ISO times compare as text; "-" (never) sorts before them. */
	if (strcmp(lf, "-") != 0 && strcmp(lf, ls) >= 0)
		printf("  FAILING since at least %s: %s\n", lf, err);
}

/* [ocsp] staple: the staple's state, and the last failure while news. */
static void
status_ocsp(const char *st, size_t len)
{
	char	 state[32], until[64], ls[64], lf[64], err[512];

	report_cell(st, len, "ocsp.staple", state, sizeof(state));
	if (strcmp(state, "-") == 0)
		return;		/* no [ocsp] staple */
	report_cell(st, len, "ocsp.next_update", until, sizeof(until));
	report_cell(st, len, "ocsp.last_success", ls, sizeof(ls));
	report_cell(st, len, "ocsp.last_failure", lf, sizeof(lf));
	report_cell(st, len, "ocsp.last_error", err, sizeof(err));
	printf("OCSP staple: %s%s%s\n", state, strcmp(until, "-") != 0 ?
	    ", until " : "", strcmp(until, "-") != 0 ? until : "");
	if (strcmp(lf, "-") != 0 && strcmp(lf, ls) >= 0)
		printf("  FAILING since at least %s: %s\n", lf, err);
}

/*
 * Days left of the server certificate, the CA and the CRL (from takd), and
 * the client certificates of the index expiring within [tls]
 * cert_warn_days (counted here: the index is root's).
 */
static void
status_expiry(const struct config *c, const char *st, size_t len)
{
	char	 s[32], a[32], r[32];
	long	 n;

	report_cell(st, len, "expiry.server_cert.days_left", s, sizeof(s));
	report_cell(st, len, "expiry.ca.days_left", a, sizeof(a));
	report_cell(st, len, "expiry.crl.days_left", r, sizeof(r));
	printf("Days left: server certificate %s, CA %s, CRL nextUpdate %s",
	    s, a, r);
	if ((n = pki_expiring_clients(c, c->cert_warn_days)) >= 0)
		printf("; %ld client certificate%s expire%s within %u days%s",
		    n, n == 1 ? "" : "s", n == 1 ? "s" : "", c->cert_warn_days,
		    n > 0 ? " (takctl pki expiring)" : "");
	putchar('\n');
}

int
cmd_status(struct config *c, int argc, char **argv)
{
	const char	*v;
	char		 err[PATH_MAX + 256], *reply;
	size_t		 len, vlen;
	bool		 json = !isatty(STDOUT_FILENO);

	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		json = true;
	else if (argc != 1) {
		takctl_warnx("usage: takctl status [--json]");
		return (TAKCTL_EX_USAGE);
	}
	if (json)
		return (takctl_admin(c, "status", 0, NULL));
	if (admin_request(c, "status", 0, &reply, &len, err,
	    sizeof(err)) < 0) {
		takctl_warnx("%s", err);
		return (TAKCTL_EX_FAIL);
	}
	if (json_get(reply, len, "error", &v, &vlen) == 1 ||
	    json_get(reply, len, "workers", &v, &vlen) != 1) {
		takctl_warnx("takd: %.*s", (int)(len > 300 ? 300 : len),
		    reply);
		free(reply);
		return (TAKCTL_EX_FAIL);
	}
	report_header(reply, len);
	status_crl_fetch(reply, len);
	status_ocsp(reply, len);
	status_expiry(c, reply, len);
	status_workers(reply, len);
	status_api(reply, len);
	status_signer(reply, len);
	status_usersd(reply, len);
	putchar('\n');
	status_listeners(reply, len);
	printf("Every counter: takctl stats; all of it as JSON: takctl status "
	    "--json\n");
	free(reply);
	if (fflush(stdout) == EOF) {
		takctl_warnx("writing the status failed");
		return (TAKCTL_EX_FAIL);
	}
	return (TAKCTL_EX_OK);
}
