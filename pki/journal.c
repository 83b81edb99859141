/*
 * The signer's journal, [pki] dir/enrolled.txt (docs/pki.md, "Enrolled
 * certificates"): takd-signer appends one index line per certificate it
 * issues, through a descriptor root opened for it, because the service
 * user may not write index.txt.  Every reader of the index merges it
 * (pki_journal_merge, from store.c), so takctl revoke, crl renew and pki
 * list see enrolled certificates at once, and the first rewrite of the
 * index takes them into it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki.h"

struct pki_jkey {
	const char	*serial;
	size_t		 pos;
};

static int
pki_jkey_cmp(const void *a, const void *b)
{
	const struct pki_jkey	*x = a, *y = b;
	int			 c;

	if ((c = pki_serial_cmp(x->serial, y->serial)) != 0)
		return (c);
	return (x->pos < y->pos ? -1 : x->pos > y->pos);
}

static int
pki_jkey_serial_cmp(const void *a, const void *b)
{
	const struct pki_jkey	*x = a, *y = b;

	return (pki_serial_cmp(x->serial, y->serial));
}

/*
 * The journal of the signer (enrolled.txt): every certificate it issued,
 * one index line each, appended under the directory's lock.  Lines whose
 * serial the index does not have are added to idx, in journal order, so
 * that whoever rewrites the index (a revocation) writes them into it.  The
 * signer writes this file through a descriptor root opened for it: what it
 * says is taken only as valid, enrolled client lines, and a line that is
 * anything else (a torn last line, garbage) is skipped, so that a broken
 * journal never stops a revocation.
 */
int
pki_journal_merge(int dirfd, const char *dir, struct pki_index *idx,
    char *err, size_t errlen)
{
	struct pki_index	 j = { NULL, 0, 0 };
	struct pki_jkey		*ik = NULL, *jk = NULL, key;
	struct pki_entry	 e;
	char			 path[PATH_MAX + 32], line[2048], why[256];
	const char		*p, *nl, *end;
	char			*buf;
	size_t			 len, i, ll;
	int			 rc = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, PKI_JOURNAL);
	if ((buf = fileio_read(dirfd, PKI_JOURNAL, path, PKI_FILE_MAX, &len,
	    err, errlen)) == NULL)
		return (errno == ENOENT ? 0 : -1);
	end = buf + len;
	for (p = buf; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;		/* torn: being written, or never ended */
		ll = (size_t)(nl - p);
		if (ll == 0 || *p == '#' || ll >= sizeof(line) ||
		    memchr(p, '\0', ll) != NULL)
			continue;
		memcpy(line, p, ll);
		line[ll] = '\0';
		if (pki_index_line(line, &e, why, sizeof(why)) == -1 ||
		    e.kind != PKI_KIND_CLIENT || !e.enrolled ||
		    e.status != PKI_STATUS_VALID)
			continue;
		if (pki_index_add(&j, &e) == -1)
			goto nomem;
	}
	if (j.n == 0) {
		rc = 0;
		goto done;
	}
	if ((ik = calloc(idx->n + 1, sizeof(*ik))) == NULL ||
	    (jk = calloc(j.n, sizeof(*jk))) == NULL)
		goto nomem;
	for (i = 0; i < idx->n; i++) {
		ik[i].serial = idx->v[i].serial;
		ik[i].pos = i;
	}
	qsort(ik, idx->n, sizeof(*ik), pki_jkey_serial_cmp);
	for (i = 0; i < j.n; i++) {
		jk[i].serial = j.v[i].serial;
		jk[i].pos = i;
	}
	/* By serial, then journal order: the first of duplicates counts. */
	qsort(jk, j.n, sizeof(*jk), pki_jkey_cmp);
	for (i = 0; i < j.n; i++) {
		key.serial = jk[i].serial;
		if ((i > 0 && pki_serial_cmp(jk[i - 1].serial,
		    jk[i].serial) == 0) || bsearch(&key, ik, idx->n,
		    sizeof(*ik), pki_jkey_serial_cmp) != NULL)
			j.v[jk[i].pos].kind = PKI_KIND_EXTERNAL;	/* known */
	}
	for (i = 0; i < j.n; i++)
		if (j.v[i].kind == PKI_KIND_CLIENT &&
		    pki_index_add(idx, &j.v[i]) == -1)
			goto nomem;
	rc = 0;
	goto done;
 nomem:
	snprintf(err, errlen, "out of memory");
 done:
	free(ik);
	free(jk);
	pki_index_free(&j);
	free(buf);
	return (rc);
}

/*
 * A new CA: the signer's journal lists the old CA's certificates, which
 * must not enter the new index.  It is kept as enrolled.txt.old and an
 * empty one takes its place (a running signer still holds the old one and
 * the old CA key: takd must be restarted after init-ca --force anyway).
 */
/* name kept as name.old, an empty name in its place (none: nothing). */
static int
pki_txn_journal_reset_one(struct pki_txn *txn, const char *name,
    const char *oldname, char *err, size_t errlen)
{
	char	 path[PATH_MAX + 32];
	char	*old;
	size_t	 len;
	int	 rc;

	snprintf(path, sizeof(path), "%s/%s", txn->dir, name);
	if ((old = fileio_read(txn->dirfd, name, path, PKI_FILE_MAX,
	    &len, err, errlen)) == NULL)
		return (errno == ENOENT ? 0 : -1);
	rc = pki_txn_stage(txn, txn->dirfd, oldname, old, len, 0600,
	    err, errlen);
	if (rc == 0)
		rc = pki_txn_stage(txn, txn->dirfd, name, "", 0, 0600,
		    err, errlen);
	free(old);
	return (rc);
}

/* The console's revocations (revoked.txt) are the old CA's too. */
int
pki_txn_journal_reset(struct pki_txn *txn, char *err, size_t errlen)
{
	if (pki_txn_journal_reset_one(txn, PKI_JOURNAL, PKI_JOURNAL_OLD, err,
	    errlen) == -1)
		return (-1);
	return (pki_txn_journal_reset_one(txn, PKI_REVJOURNAL,
	    PKI_REVJOURNAL ".old", err, errlen));
}
