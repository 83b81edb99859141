/*
 * Revocation: turn index entries into "revoked" ones and write the CRL that
 * takd loads, for `takctl revoke`, `takctl crl renew` and `takctl crl
 * import-fts`.  The CRL is always rebuilt from the whole index, so the index
 * is the record; whatever the CRL on disk lists and the index does not (a CRL
 * made with other tools, FreeTAKServer's) is first taken into the index, so
 * that a rewrite never un-revokes a certificate.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki/pki.h"

#define PKI_CERT_FILE_MAX	(1u << 20)

/* One serial of the index, for lookups by serial. */
struct pki_key {
	char	 serial[PKI_SERIAL_HEX];
	size_t	 pos;		/* in idx.v */
};

/* What every revocation operation does between lock and unlock. */
struct pki_work {
	struct pki_txn	 txn;
	X509		*ca;
	EVP_PKEY	*cakey;
	struct pki_index idx;
	char		*raw;		/* index.txt as read */
	size_t		 rawlen;
	struct pki_key	*keys;		/* sorted by serial */
	size_t		 nkeys;
	long		 number;	/* crlNumber to write */
	time_t		 now;
};

int
pki_reason_revocable(int reason)
{
	switch (reason) {
	case CRL_REASON_NONE:
	case CRL_REASON_UNSPECIFIED:
	case CRL_REASON_KEY_COMPROMISE:
	case CRL_REASON_CA_COMPROMISE:
	case CRL_REASON_AFFILIATION_CHANGED:
	case CRL_REASON_SUPERSEDED:
	case CRL_REASON_CESSATION_OF_OPERATION:
	case CRL_REASON_PRIVILEGE_WITHDRAWN:
		return (1);
	}
	return (0);
}

static void
pki_warn(struct pki_crl_out *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Append one line to out->warn (what does not fit is cut). */
static void
pki_warn(struct pki_crl_out *out, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 n = strlen(out->warn);

	if (n > 0 && n + 1 < sizeof(out->warn))
		out->warn[n++] = '\n';
	if (n + 1 >= sizeof(out->warn))
		return;
	va_start(ap, fmt);
	vsnprintf(out->warn + n, sizeof(out->warn) - n, fmt, ap);
	va_end(ap);
}

static int
pki_key_cmp(const void *a, const void *b)
{
	const struct pki_key	*x = a, *y = b;

	return (pki_serial_cmp(x->serial, y->serial));
}

static int
pki_work_index_keys(struct pki_work *w, char *err, size_t errlen)
{
	size_t	 i;

	free(w->keys);
	w->nkeys = 0;
	if ((w->keys = calloc(w->idx.n + 1, sizeof(*w->keys))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	for (i = 0; i < w->idx.n; i++) {
		memcpy(w->keys[i].serial, w->idx.v[i].serial,
		    sizeof(w->keys[i].serial));
		w->keys[i].pos = i;
	}
	w->nkeys = w->idx.n;
	qsort(w->keys, w->nkeys, sizeof(*w->keys), pki_key_cmp);
	return (0);
}

/* The index position of serial (as of the last pki_work_index_keys). */
static struct pki_entry *
pki_work_find(struct pki_work *w, const char *serial)
{
	struct pki_key	 k, *hit;

	snprintf(k.serial, sizeof(k.serial), "%s", serial);
	hit = bsearch(&k, w->keys, w->nkeys, sizeof(*w->keys), pki_key_cmp);
	return (hit == NULL ? NULL : &w->idx.v[hit->pos]);
}

static int
pki_work_add(struct pki_work *w, const struct pki_entry *e, char *err,
    size_t errlen)
{
	if (pki_index_add(&w->idx, e) == -1) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	return (0);
}

/* A revoked "external" line: a serial takctl did not issue. */
static void
pki_external(struct pki_entry *e, const char *serial, time_t when, int reason)
{
	memset(e, 0, sizeof(*e));
	e->kind = PKI_KIND_EXTERNAL;
	snprintf(e->serial, sizeof(e->serial), "%s", serial);
	snprintf(e->name, sizeof(e->name), "-");
	snprintf(e->subject, sizeof(e->subject), "-");
	e->status = PKI_STATUS_REVOKED;
	e->revoked_at = when;
	e->reason = reason;
}

/*
 * The current CRL: its crlNumber sets the next one, and its serials that the
 * index does not know become external lines.
 */
static int
pki_work_old_crl(struct pki_work *w, struct pki_crl_out *out, char *err,
    size_t errlen)
{
	struct pki_import	 old;
	struct pki_entry	 e;
	char			 path[PATH_MAX + 128], why[512];
	char			*buf;
	size_t			 len, i;
	int			 rc = -1;

	pki_txn_path(&w->txn, w->txn.crlfd, w->txn.crl_name, path,
	    sizeof(path));
	buf = fileio_read(w->txn.crlfd, w->txn.crl_name, path, PKI_FILE_MAX,
	    &len, why, sizeof(why));
	if (buf == NULL && errno == ENOENT) {
		w->number = 1;
		return (0);
	}
	if (buf == NULL || pki_import_parse(buf, len, w->ca, &old, why,
	    sizeof(why)) == -1 || old.format == PKI_IMPORT_JSON) {
		if (buf != NULL && old.format == PKI_IMPORT_JSON) {
			pki_import_free(&old);
			snprintf(why, sizeof(why), "JSON, not a CRL");
		}
		/* crlNumber must still grow: seconds outgrow any counter. */
		w->number = (long)w->now;
		pki_warn(out, "the current CRL %s cannot be read (%s): its "
		    "entries, if any, are lost; crlNumber jumps to %ld", path,
		    why, w->number);
		free(buf);
		return (0);
	}
	free(buf);
	w->number = old.number + 1;
	if (old.foreign && old.n > 0)
		pki_warn(out, "the current CRL %s is not signed by the CA "
		    "(issuer %s); its %zu serials are kept anyway", path,
		    old.issuer, old.n);
	for (i = 0; i < old.n; i++) {
		if (pki_work_find(w, old.v[i].serial) != NULL)
			continue;
		pki_external(&e, old.v[i].serial, old.v[i].revoked_at != 0 ?
		    old.v[i].revoked_at : w->now, old.v[i].reason);
		if (pki_work_add(w, &e, err, errlen) == -1)
			goto done;
		out->n_carried++;
	}
	if (out->n_carried > 0) {
		pki_warn(out, "%zu serials of the current CRL were not in the "
		    "index; they stay revoked (index lines of kind external)",
		    out->n_carried);
		if (pki_work_index_keys(w, err, errlen) == -1)
			goto done;
	}
	rc = 0;
 done:
	pki_import_free(&old);
	return (rc);
}

/*
 * The signer's CRLs for the console (revjournal.c) carry numbers of their
 * own: the next CRL goes past them, or the CRL parser would keep the
 * signer's (takd takes the newer of the file and its copy).
 */
static int
pki_work_revjournal(struct pki_work *w, char *err, size_t errlen)
{
	struct pki_import	 j;

	if (pki_revjournal_read(w->txn.dirfd, w->txn.dir, &j, err,
	    errlen) == -1)
		return (-1);
	if (j.number >= w->number)
		w->number = j.number + 1;
	pki_import_free(&j);
	return (0);
}

static int
pki_work_begin(struct pki_work *w, const char *dir, const char *crl_path,
    struct pki_crl_out *out, char *err, size_t errlen)
{
	memset(w, 0, sizeof(*w));
	memset(out, 0, sizeof(*out));
	w->now = time(NULL);
	if (pki_txn_begin(&w->txn, dir, false, err, errlen) == -1)
		return (-1);
	if (pki_txn_ca_load(&w->txn, &w->ca, &w->cakey, err, errlen) == -1 ||
	    pki_txn_crl(&w->txn, crl_path, err, errlen) == -1 ||
	    pki_txn_index_read(&w->txn, &w->idx, &w->raw, &w->rawlen, err,
	    errlen) == -1 ||
	    pki_work_index_keys(w, err, errlen) == -1 ||
	    pki_work_old_crl(w, out, err, errlen) == -1 ||
	    pki_work_revjournal(w, err, errlen) == -1)
		return (-1);
	return (0);
}

static void
pki_work_end(struct pki_work *w)
{
	pki_txn_end(&w->txn);
	X509_free(w->ca);
	EVP_PKEY_free(w->cakey);
	pki_index_free(&w->idx);
	free(w->raw);
	free(w->keys);
	w->ca = NULL;
	w->cakey = NULL;
	w->raw = NULL;
	w->keys = NULL;
}

/*
 * Stage the CRL as PEM.  A freshly signed CRL has no cached encoding, so
 * PEM_write_bio_X509_CRL would encode every entry once more: encode once.
 */
static int
pki_work_stage_crl(struct pki_work *w, X509_CRL *crl, char *err,
    size_t errlen)
{
	unsigned char	*der = NULL;
	BIO		*bio;
	char		*pem;
	long		 n;
	int		 len, rc = -1;

	if ((len = i2d_X509_CRL(crl, &der)) <= 0 ||
	    (bio = BIO_new(BIO_s_mem())) == NULL) {
		pki_sslerr(err, errlen, "cannot encode the CRL");
		OPENSSL_free(der);
		return (-1);
	}
	if (PEM_write_bio(bio, PEM_STRING_X509_CRL, "", der, len) <= 0 ||
	    (n = BIO_get_mem_data(bio, &pem)) <= 0)
		pki_sslerr(err, errlen, "cannot encode the CRL");
	else
		rc = pki_txn_stage(&w->txn, w->txn.crlfd, w->txn.crl_name, pem,
		    (size_t)n, 0644, err, errlen);
	BIO_free(bio);
	OPENSSL_free(der);
	return (rc);
}

/* Write the index and the CRL from it, all or nothing. */
static int
pki_work_commit(struct pki_work *w, unsigned days, struct pki_crl_out *out,
    char *err, size_t errlen)
{
	STACK_OF(X509_REVOKED)	*list;
	X509_CRL		*crl;
	char			 path[PATH_MAX + 128];
	int			 rc = -1;

	if ((crl = pki_crl_new(w->ca, w->cakey, &w->idx, w->number, days,
	    err, errlen)) == NULL)
		return (-1);
	/* The index first: what the CRL lists is always in the index. */
	if (pki_txn_stage_index_all(&w->txn, w->raw, w->rawlen, &w->idx, err,
	    errlen) == -1 ||
	    pki_work_stage_crl(w, crl, err, errlen) == -1)
		goto done;
	if (pki_txn_commit(&w->txn, err, errlen) == -1) {
		if (w->txn.f[0].done)
			snprintf(err + strlen(err), errlen - strlen(err),
			    " (the index is updated but the CRL %s is not: "
			    "run `takctl crl renew`)", pki_txn_path(&w->txn,
			    w->txn.crlfd, w->txn.crl_name, path,
			    sizeof(path)));
		goto done;
	}
	list = X509_CRL_get_REVOKED(crl);
	out->entries = list == NULL ? 0 : (size_t)sk_X509_REVOKED_num(list);
	out->number = w->number;
	out->last_update = pki_asn1_time(X509_CRL_get0_lastUpdate(crl));
	out->next_update = pki_asn1_time(X509_CRL_get0_nextUpdate(crl));
	rc = 0;
 done:
	X509_CRL_free(crl);
	return (rc);
}

static int
pki_days_ok(unsigned *days, char *err, size_t errlen)
{
	if (*days == 0)
		*days = PKI_DAYS_CRL;
	if (*days > PKI_CRL_DAYS_MAX) {
		snprintf(err, errlen, "CRL lifetime must be 1..%d days, not "
		    "%u", PKI_CRL_DAYS_MAX, *days);
		return (-1);
	}
	return (0);
}

static int
pki_out_revoked(struct pki_crl_out *out, const struct pki_entry *e,
    char *err, size_t errlen)
{
	struct pki_entry	*v;

	v = reallocarray(out->revoked, out->n_revoked + 1, sizeof(*v));
	if (v == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	out->revoked = v;
	v[out->n_revoked++] = *e;
	return (0);
}

static void
pki_mark(struct pki_entry *e, time_t when, int reason)
{
	e->status = PKI_STATUS_REVOKED;
	e->revoked_at = when;
	e->reason = reason;
}

static int
pki_already(const struct pki_entry *e, const char *what, char *err,
    size_t errlen)
{
	char	 t[32];

	pki_time_format(e->revoked_at, t, sizeof(t));
	snprintf(err, errlen, "%s%sserial %s%s is already revoked, since %s%s%s",
	    what != NULL ? what : "", what != NULL ? " (" : "", e->serial,
	    what != NULL ? ")" : "", e->revoked_at != 0 ? t : "an unknown date",
	    pki_reason_name(e->reason) != NULL ? ", reason " : "",
	    pki_reason_name(e->reason) != NULL ? pki_reason_name(e->reason) :
	    "");
	return (-1);
}

static int
pki_revoke_name(struct pki_work *w, const char *name, int reason,
    struct pki_crl_out *out, char *err, size_t errlen)
{
	struct pki_entry	*e, *last = NULL, *other = NULL;
	size_t			 i;

	if (pki_name_check(name, err, errlen) == -1) {
		/* A user's name (enrolled certificates) may be no file name. */
		for (i = 0; i < w->idx.n; i++)
			if (w->idx.v[i].enrolled &&
			    strcmp(w->idx.v[i].name, name) == 0)
				break;
		if (i == w->idx.n)
			return (-1);
	}
	for (i = 0; i < w->idx.n; i++) {
		e = &w->idx.v[i];
		if (strcmp(e->name, name) != 0)
			continue;
		if (e->kind != PKI_KIND_CLIENT) {
			other = e;
			continue;
		}
		last = e;
		if (e->status == PKI_STATUS_REVOKED)
			continue;
		pki_mark(e, w->now, reason);
		if (pki_out_revoked(out, e, err, errlen) == -1)
			return (-1);
	}
	if (out->n_revoked > 0)
		return (0);
	if (last != NULL)
		return (pki_already(last, name, err, errlen));
	if (other != NULL)
		snprintf(err, errlen, "\"%s\" is the %s certificate, not a "
		    "client's; revoke it with --serial %s", name,
		    other->kind == PKI_KIND_CA ? "CA" : "server", other->serial);
	else
		snprintf(err, errlen, "no client named \"%s\" in %s/%s (`takctl "
		    "pki list` shows them; --serial revokes any serial)", name,
		    w->txn.dir, PKI_INDEX);
	return (-1);
}

/* e: the index entry of serial, or NULL; from: a certificate, or NULL. */
static int
pki_revoke_one(struct pki_work *w, const char *serial, X509 *from,
    int reason, struct pki_crl_out *out, char *err, size_t errlen)
{
	struct pki_entry	*e, ne;
	char			 cn[4 * PKI_CN_MAX + 1];

	if ((e = pki_work_find(w, serial)) != NULL) {
		if (e->kind == PKI_KIND_CA) {
			snprintf(err, errlen, "serial %s is the CA itself; a "
			    "CA is not revoked on its own CRL (make a new one "
			    "with `takctl pki init-ca --force`)", serial);
			return (-1);
		}
		if (e->status == PKI_STATUS_REVOKED)
			return (pki_already(e, e->kind == PKI_KIND_EXTERNAL ?
			    NULL : e->name, err, errlen));
		if (e->kind == PKI_KIND_SERVER)
			pki_warn(out, "%s is takd's server certificate: issue "
			    "a new one with `takctl pki server --force`",
			    serial);
		pki_mark(e, w->now, reason);
		return (pki_out_revoked(out, e, err, errlen));
	}
	/* Not issued by takctl (FreeTAKServer, openssl ca): by serial. */
	pki_external(&ne, serial, w->now, reason);
	if (from != NULL) {
		pki_subject(X509_get_subject_name(from), ne.subject,
		    sizeof(ne.subject));
		if (ne.subject[0] == '\0' || strchr(ne.subject, '\t') != NULL)
			snprintf(ne.subject, sizeof(ne.subject), "-");
		ne.not_after = pki_asn1_time(X509_get0_notAfter(from));
		if (X509_NAME_get_text_by_NID(X509_get_subject_name(from),
		    NID_commonName, cn, sizeof(cn)) > 0 &&
		    pki_name_check(cn, err, errlen) == 0)
			snprintf(ne.name, sizeof(ne.name), "%s", cn);
		ERR_clear_error();
	}
	out->n_external++;
	if (pki_work_add(w, &ne, err, errlen) == -1)
		return (-1);
	return (pki_out_revoked(out, &ne, err, errlen));
}

/* A certificate file (PEM or DER) that the CA issued. */
static X509 *
pki_cert_file(struct pki_work *w, const char *path, char *err, size_t errlen)
{
	const unsigned char	*p;
	X509			*x = NULL;
	BIO			*bio;
	char			*buf;
	size_t			 len;

	if ((buf = fileio_read(AT_FDCWD, path, path, PKI_CERT_FILE_MAX, &len,
	    err, errlen)) == NULL)
		return (NULL);
	if (memmem(buf, len, "-----BEGIN", 10) != NULL) {
		if ((bio = BIO_new_mem_buf(buf, (int)len)) != NULL)
			x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
	} else {
		p = (const unsigned char *)buf;
		x = d2i_X509(NULL, &p, (long)len);
	}
	free(buf);
	if (x == NULL) {
		pki_sslerr(err, errlen, "%s: not a PEM or DER certificate",
		    path);
		return (NULL);
	}
	if (X509_check_issued(w->ca, x) != X509_V_OK ||
	    X509_verify(x, X509_get0_pubkey(w->ca)) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "%s was not issued by the CA in %s (its "
		    "CRL could not revoke it)", path, w->txn.dir);
		X509_free(x);
		return (NULL);
	}
	return (x);
}

int
pki_revoke(const char *dir, const char *crl_path,
    const struct pki_revoke_req *req, struct pki_crl_out *out, char *err,
    size_t errlen)
{
	struct pki_work	 w;
	X509		*x = NULL;
	char		 serial[PKI_SERIAL_HEX];
	unsigned	 days = req->days;
	int		 reason = req->reason, rc = -1;

	memset(out, 0, sizeof(*out));
	if (!pki_reason_revocable(reason)) {
		snprintf(err, errlen, "reason %s cannot be given to a "
		    "revocation", pki_reason_name(reason) != NULL ?
		    pki_reason_name(reason) : "?");
		return (-1);
	}
	if (reason == CRL_REASON_UNSPECIFIED)
		reason = CRL_REASON_NONE;	/* RFC 5280: SHOULD be absent */
	if (pki_days_ok(&days, err, errlen) == -1)
		return (-1);
	if (req->by == PKI_REVOKE_SERIAL &&
	    pki_serial_parse(req->arg, serial, sizeof(serial)) == -1) {
		snprintf(err, errlen, "\"%s\" is not a serial number (hex, "
		    "as `takctl pki list` prints it; at most 20 octets)",
		    req->arg);
		return (-1);
	}
	if (pki_work_begin(&w, dir, crl_path, out, err, errlen) == -1)
		goto done;
	switch (req->by) {
	case PKI_REVOKE_NAME:
		if (pki_revoke_name(&w, req->arg, reason, out, err,
		    errlen) == -1)
			goto done;
		break;
	case PKI_REVOKE_CERT:
		if ((x = pki_cert_file(&w, req->arg, err, errlen)) == NULL ||
		    pki_serial_hex(X509_get0_serialNumber(x), serial,
		    sizeof(serial)) == -1) {
			if (x != NULL)
				snprintf(err, errlen, "%s: unusable serial "
				    "number", req->arg);
			goto done;
		}
		/* FALLTHROUGH */
	case PKI_REVOKE_SERIAL:
		if (pki_revoke_one(&w, serial, x, reason, out, err,
		    errlen) == -1)
			goto done;
		break;
	}
	rc = pki_work_commit(&w, days, out, err, errlen);
 done:
	X509_free(x);
	pki_work_end(&w);
	if (rc == -1)
		pki_crl_out_free(out);
	return (rc);
}

int
pki_crl_renew(const char *dir, const char *crl_path, unsigned days,
    struct pki_crl_out *out, char *err, size_t errlen)
{
	struct pki_work	 w;
	int		 rc = -1;

	memset(out, 0, sizeof(*out));
	if (pki_days_ok(&days, err, errlen) == -1)
		return (-1);
	if (pki_work_begin(&w, dir, crl_path, out, err, errlen) == 0)
		rc = pki_work_commit(&w, days, out, err, errlen);
	pki_work_end(&w);
	if (rc == -1)
		pki_crl_out_free(out);
	return (rc);
}

int
pki_crl_import(const char *dir, const char *crl_path, const char *name,
    const char *buf, size_t len, unsigned days, struct pki_crl_out *out,
    char *err, size_t errlen)
{
	struct pki_work		 w;
	struct pki_import	 imp;
	struct pki_entry	*e, ne;
	const struct pki_import_entry *ie;
	char			 why[512];
	size_t			 i;
	int			 rc = -1;

	memset(&imp, 0, sizeof(imp));
	memset(out, 0, sizeof(*out));
	if (pki_days_ok(&days, err, errlen) == -1)
		return (-1);
	if (pki_work_begin(&w, dir, crl_path, out, err, errlen) == -1)
		goto done;
	if (pki_import_parse(buf, len, w.ca, &imp, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", name, why);
		goto done;
	}
	/* Whoever else reads the CRL must see the number grow past FTS's. */
	if (!imp.foreign && imp.number >= w.number)
		w.number = imp.number + 1;
	if (imp.foreign)
		pki_warn(out, "%s is not signed by the CA in %s (issuer %s); "
		    "its serials are imported anyway", name, dir, imp.issuer);
	if (imp.n_crls > 1)
		pki_warn(out, "%s holds %zu CRLs; the serials of all of them "
		    "are imported", name, imp.n_crls);
	if (imp.n_dup > 0)
		pki_warn(out, "%zu duplicate serials merged", imp.n_dup);
	for (i = 0; i < imp.n; i++) {
		ie = &imp.v[i];
		if ((e = pki_work_find(&w, ie->serial)) != NULL) {
			if (e->kind == PKI_KIND_CA)
				out->n_skipped++;
			else if (e->status == PKI_STATUS_REVOKED)
				out->n_already++;
			else {
				pki_mark(e, ie->revoked_at != 0 ?
				    ie->revoked_at : w.now, ie->reason);
				out->n_new++;
			}
			continue;
		}
		pki_external(&ne, ie->serial, ie->revoked_at != 0 ?
		    ie->revoked_at : w.now, ie->reason);
		if (pki_work_add(&w, &ne, err, errlen) == -1)
			goto done;
		out->n_external++;
	}
	if (out->n_skipped > 0)
		pki_warn(out, "the CA's own serial is listed; skipped (a CA is "
		    "not revoked on its own CRL)");
	rc = pki_work_commit(&w, days, out, err, errlen);
 done:
	pki_import_free(&imp);
	pki_work_end(&w);
	if (rc == -1)
		pki_crl_out_free(out);
	return (rc);
}

void
pki_crl_out_free(struct pki_crl_out *out)
{
	if (out == NULL)
		return;
	free(out->revoked);
	out->revoked = NULL;
	out->n_revoked = 0;
}
