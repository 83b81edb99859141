/*
 * The revocation journal, [pki] dir/revoked.txt (pki.h, docs/pki.md
 * "Revocation from the console"): takd-signer appends a line for every
 * certificate the admin console revokes, through a descriptor root opened
 * for it before the privilege drop, and signs a CRL from the CRL files
 * plus this journal.  Every takctl reader of the index merges it (store.c),
 * so `takctl pki list` shows those certificates revoked, the next
 * `takctl revoke` or `crl renew` writes them into the index and crl.pem,
 * and the CRL number takctl writes goes past the signer's.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki.h"

#define PKI_REVJ_LINE_MAX	512

static int
pki_revj_number(const char *s, long long lo, long long hi, long long *out)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < lo || v > hi)
		return (-1);
	*out = v;
	return (0);
}

/* One line (NUL-terminated, no newline): 0 and the entry, or -1. */
static int
pki_revj_line(char *line, char *serial, time_t *when, int *reason,
    long *number)
{
	char		*f[6], *p = line;
	long long	 v;
	size_t		 i;

	for (i = 0; i < 6; i++) {
		f[i] = p;
		if (i < 5 && (p = strchr(p, '\t')) == NULL)
			return (-1);
		if (i < 5)
			*p++ = '\0';
	}
	if (strcmp(f[0], "R") != 0 || strchr(f[5], '\t') != NULL ||
	    pki_serial_parse(f[1], serial, PKI_SERIAL_HEX) == -1)
		return (-1);
	if (pki_revj_number(f[2], 1, (long long)INT64_MAX / 2, &v) == -1)
		return (-1);
	*when = (time_t)v;
	/* What pki_reason_revocable() takes (not linked by the signer). */
	if (pki_revj_number(f[3], -1, 9, &v) == -1 || v == 6 || v == 7 ||
	    v == 8)
		return (-1);
	*reason = (int)v;
	if (pki_revj_number(f[4], 1, LONG_MAX / 2, &v) == -1)
		return (-1);
	*number = (long)v;
	return (0);
}

int
pki_revjournal_parse(const char *buf, size_t len, struct pki_import *out,
    char *err, size_t errlen)
{
	char		 line[PKI_REVJ_LINE_MAX], serial[PKI_SERIAL_HEX];
	const char	*p, *nl, *end = buf + len;
	time_t		 when;
	long		 number;
	size_t		 ll;
	int		 reason;

	memset(out, 0, sizeof(*out));
	out->format = PKI_IMPORT_PEM;
	for (p = buf; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;		/* torn: being written */
		ll = (size_t)(nl - p);
		if (ll == 0 || ll >= sizeof(line) || memchr(p, '\0', ll) != NULL)
			continue;
		memcpy(line, p, ll);
		line[ll] = '\0';
		if (pki_revj_line(line, serial, &when, &reason, &number) == -1)
			continue;
		if (pki_import_add(out, serial, when, reason, err,
		    errlen) == -1) {
			pki_import_free(out);
			return (-1);
		}
		if (number > out->number)
			out->number = number;
	}
	return (0);
}

int
pki_revjournal_read(int dirfd, const char *dir, struct pki_import *out,
    char *err, size_t errlen)
{
	char	 path[PATH_MAX + 32];
	char	*buf;
	size_t	 len;
	int	 rc;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s/%s", dir, PKI_REVJOURNAL);
	if ((buf = fileio_read(dirfd, PKI_REVJOURNAL, path, PKI_FILE_MAX, &len,
	    err, errlen)) == NULL)
		return (errno == ENOENT ? 0 : -1);
	rc = pki_revjournal_parse(buf, len, out, err, errlen);
	free(buf);
	return (rc);
}

static int
pki_revj_cmp(const void *a, const void *b)
{
	const struct pki_import_entry	*x = a, *y = b;

	return (pki_serial_cmp(x->serial, y->serial));
}

int
pki_revjournal_merge(const struct pki_import *j, struct pki_index *idx,
    char *err, size_t errlen)
{
	struct pki_import_entry	*v = NULL, *hit, key;
	struct pki_entry	*e, ne;
	bool			*used = NULL;
	size_t			 i, n = j->n;
	int			 rc = -1;

	if (n == 0)
		return (0);
	if ((v = calloc(n, sizeof(*v))) == NULL ||
	    (used = calloc(n, sizeof(*used))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	memcpy(v, j->v, n * sizeof(*v));
	qsort(v, n, sizeof(*v), pki_revj_cmp);
	for (i = 0; i < idx->n; i++) {
		e = &idx->v[i];
		snprintf(key.serial, sizeof(key.serial), "%s", e->serial);
		if ((hit = bsearch(&key, v, n, sizeof(*v),
		    pki_revj_cmp)) == NULL)
			continue;
		/* The first line of a serial counts: the earliest date. */
		while (hit > v && pki_revj_cmp(hit - 1, hit) == 0)
			hit--;
		used[hit - v] = true;
		if (e->kind == PKI_KIND_CA || e->status == PKI_STATUS_REVOKED)
			continue;
		e->status = PKI_STATUS_REVOKED;
		e->revoked_at = hit->revoked_at;
		e->reason = hit->reason;
	}
	for (i = 0; i < n; i++) {
		if (used[i] || (i > 0 && pki_revj_cmp(&v[i - 1], &v[i]) == 0))
			continue;
		memset(&ne, 0, sizeof(ne));
		ne.kind = PKI_KIND_EXTERNAL;
		snprintf(ne.serial, sizeof(ne.serial), "%s", v[i].serial);
		snprintf(ne.name, sizeof(ne.name), "-");
		snprintf(ne.subject, sizeof(ne.subject), "-");
		ne.status = PKI_STATUS_REVOKED;
		ne.revoked_at = v[i].revoked_at;
		ne.reason = v[i].reason;
		if (pki_index_add(idx, &ne) == -1) {
			snprintf(err, errlen, "out of memory");
			goto done;
		}
	}
	rc = 0;
 done:
	free(v);
	free(used);
	return (rc);
}

int
pki_revjournal_format(char *buf, size_t len, const char *serial,
    time_t when, int reason, long number, const char *admin)
{
	int	 n;

	n = snprintf(buf, len, "R\t%s\t%lld\t%d\t%ld\t%s\n", serial,
	    (long long)when, reason, number, admin);
	return (n < 0 || (size_t)n >= len ? -1 : n);
}
