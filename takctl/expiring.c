/*
 * takctl pki expiring [--days N] [--json]: the certificates of the index
 * (CA, server, clients; not revoked) that expire within N days (default
 * [tls] cert_warn_days) or have expired, soonest first.  Also the count of
 * client certificates takctl status shows: the index is root's (0600), so
 * takctl counts them, not takd (docs/revocation.md).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pki/pki.h"
#include "shared/json.h"
#include "shared/pkiutil.h"
#include "takctl/takctl.h"
#include "takctl/user.h"

static int
expiring_cmp(const void *a, const void *b)
{
	const struct pki_entry	*x = *(const struct pki_entry *const *)a;
	const struct pki_entry	*y = *(const struct pki_entry *const *)b;

	return (x->not_after < y->not_after ? -1 : x->not_after > y->not_after);
}

/*
 * The entries of idx expiring before limit, soonest first, into *out (the
 * caller frees the array, not the entries).  -1: out of memory.
 */
static int
expiring_select(const struct pki_index *idx, time_t limit, bool clients_only,
    const struct pki_entry ***out, size_t *n)
{
	const struct pki_entry	**v;
	size_t			 i;

	*n = 0;
	if ((v = calloc(idx->n + 1, sizeof(*v))) == NULL)
		return (-1);
	for (i = 0; i < idx->n; i++) {
		const struct pki_entry *e = &idx->v[i];

		if (e->status != PKI_STATUS_VALID || e->not_after == 0 ||
		    e->kind == PKI_KIND_EXTERNAL || e->not_after > limit ||
		    (clients_only && e->kind != PKI_KIND_CLIENT))
			continue;
		v[(*n)++] = e;
	}
	qsort(v, *n, sizeof(*v), expiring_cmp);
	*out = v;
	return (0);
}

long
pki_expiring_clients(const struct config *cfg, unsigned days)
{
	struct pki_index	 idx;
	const struct pki_entry	**v;
	char			 err[PATH_MAX + 256];
	size_t			 n;

	if (pki_index_load(cfg->pki_dir, &idx, err, sizeof(err)) != 0)
		return (-1);
	if (expiring_select(&idx, time(NULL) + (time_t)days * 86400, true, &v,
	    &n) == -1)
		n = (size_t)-1;
	else
		free(v);
	pki_index_free(&idx);
	return ((long)n);
}

static long
expiring_days(time_t t, time_t now)
{
	long long	 s = (long long)t - (long long)now;

	return ((long)(s >= 0 ? s / 86400 : -((-s + 86399) / 86400)));
}

static void
expiring_json(const struct pki_entry **v, size_t n, unsigned days,
    time_t now)
{
	struct json	 j;
	size_t		 i;

	json_init(&j);
	json_obj_begin(&j);
	json_kv_uint(&j, "days", days);
	json_key(&j, "certificates");
	json_arr_begin(&j);
	for (i = 0; i < n; i++) {
		json_obj_begin(&j);
		json_kv_str(&j, "name", v[i]->name);
		json_kv_str(&j, "kind", pki_kind_name(v[i]->kind));
		json_kv_str(&j, "serial", v[i]->serial);
		json_kv_str(&j, "subject", v[i]->subject);
		json_kv_time(&j, "not_after", v[i]->not_after);
		json_kv_int(&j, "days_left", expiring_days(v[i]->not_after,
		    now));
		json_kv_bool(&j, "expired", v[i]->not_after <= now);
		json_kv_bool(&j, "enrolled", v[i]->enrolled);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	if (!j.err)
		printf("%.*s\n", (int)j.len, j.buf);
	json_free(&j);
}

int
pki_cmd_expiring(struct config *cfg, int argc, char **argv)
{
	struct pki_index	 idx;
	const struct pki_entry	**v;
	char			 err[PATH_MAX + 256], t[32], d[24], *end;
	unsigned long		 ul;
	unsigned		 days = cfg->cert_warn_days;
	bool			 json = false;
	time_t			 now = time(NULL);
	size_t			 i, n;
	int			 k, rc;

	for (k = 1; k < argc; k++) {
		if (strcmp(argv[k], "--json") == 0)
			json = true;
		else if (strcmp(argv[k], "--days") == 0 && k + 1 < argc) {
			errno = 0;
			ul = strtoul(argv[++k], &end, 10);
			if (errno != 0 || end == argv[k] || *end != '\0' ||
			    argv[k][0] == '-' || ul > 36500) {
				takctl_warnx("--days: expected a number of days "
				    "from 0 to 36500, got \"%s\"", argv[k]);
				return (TAKCTL_EX_USAGE);
			}
			days = (unsigned)ul;
		} else {
			takctl_warnx("usage: takctl pki expiring [--days N] "
			    "[--json]");
			return (TAKCTL_EX_USAGE);
		}
	}
	if ((rc = pki_index_load(cfg->pki_dir, &idx, err, sizeof(err))) ==
	    -1) {
		takctl_warnx("%s", err);
		return (TAKCTL_EX_FAIL);
	}
	if (expiring_select(&idx, now + (time_t)days * 86400, false, &v,
	    &n) == -1) {
		pki_index_free(&idx);
		takctl_warnx("out of memory");
		return (TAKCTL_EX_FAIL);
	}
	if (json)
		expiring_json(v, n, days, now);
	else if (n == 0)
		printf("no certificate of %s/%s expires within %u days\n",
		    cfg->pki_dir, PKI_INDEX, days);
	else {
		printf("%-8s  %-20s  %-9s  %s\n", "KIND", "NOT-AFTER",
		    "DAYS-LEFT", "NAME (SERIAL)");
		for (i = 0; i < n; i++) {
			pki_time_format(v[i]->not_after, t, sizeof(t));
			if (v[i]->not_after <= now)
				snprintf(d, sizeof(d), "EXPIRED");
			else
				snprintf(d, sizeof(d), "%ld",
				    expiring_days(v[i]->not_after, now));
			printf("%-8s  %-20s  %-9s  %s (%s)\n",
			    pki_kind_name(v[i]->kind), t, d, v[i]->name,
			    v[i]->serial);
		}
	}
	free(v);
	pki_index_free(&idx);
	return (TAKCTL_EX_OK);
}
