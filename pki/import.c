/*
 * Reading revocations made elsewhere: what FreeTAKServer leaves behind (a PEM
 * CRL in a file it names FTS_CRL.json, CRLs appended to its ca.pem, or the
 * JSON form its documentation shows), and any PEM or DER CRL.  The caller
 * caps the input size; the JSON depth, string lengths and the number of
 * entries are capped here, and the JSON is checked against RFC 8259 as a
 * whole (UTF-8, escapes, number grammar, nothing after the top-level
 * object), not only the parts we use.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki/pki.h"
#include "shared/json.h"

#define PKI_JSON_STR_MAX	128	/* a value we use */

static const char pki_crl_pem_tag[] = "-----BEGIN X509 CRL-----";

/*
 * A serial as FTS may have written it into its JSON: "0x..." or with colons
 * or a letter a-f is hex, all digits is decimal (Python's str(int)).
 */
static int
pki_serial_text(const char *s, char *buf, size_t len)
{
	const char	*p;
	bool		 digits_only = true;

	if (*s == '\0')
		return (-1);
	for (p = s; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p))
			digits_only = false;
	if (digits_only)
		return (pki_serial_decimal(s, buf, len));
	return (pki_serial_parse(s, buf, len));
}

int
pki_import_add(struct pki_import *imp, const char *serial, time_t when,
    int reason, char *err, size_t errlen)
{
	struct pki_import_entry	*v;
	size_t			 cap;

	if (imp->n == PKI_IMPORT_MAX) {
		snprintf(err, errlen, "more than %d revoked certificates",
		    PKI_IMPORT_MAX);
		return (-1);
	}
	if (imp->n == imp->cap) {
		cap = imp->cap == 0 ? 64 : imp->cap * 2;
		if ((v = reallocarray(imp->v, cap, sizeof(*v))) == NULL) {
			snprintf(err, errlen, "out of memory");
			return (-1);
		}
		imp->v = v;
		imp->cap = cap;
	}
	v = &imp->v[imp->n++];
	snprintf(v->serial, sizeof(v->serial), "%s", serial);
	v->revoked_at = when;
	/* RFC 5280: "unspecified" SHOULD be absent. */
	v->reason = reason == CRL_REASON_UNSPECIFIED ? CRL_REASON_NONE :
	    reason;
	return (0);
}

/* A reason that can be imported: a known code, and not an un-revocation. */
static int
pki_import_reason(int reason, size_t no, char *err, size_t errlen)
{
	if (reason == CRL_REASON_NONE || (reason >= 0 &&
	    pki_reason_name(reason) != NULL &&
	    reason != CRL_REASON_REMOVE_FROM_CRL))
		return (0);
	if (reason == CRL_REASON_REMOVE_FROM_CRL)
		snprintf(err, errlen, "entry %zu: reason removeFromCRL "
		    "un-revokes (delta CRLs); it cannot be imported", no);
	else
		snprintf(err, errlen, "entry %zu: unknown reason code %d", no,
		    reason);
	return (-1);
}

/* --- PEM and DER CRLs ------------------------------------------------------ */

static int
pki_import_crl(X509_CRL *crl, X509 *ca, struct pki_import *imp, char *err,
    size_t errlen)
{
	STACK_OF(X509_REVOKED)	*list;
	X509_REVOKED		*rev;
	const ASN1_INTEGER	*ai;
	char			 serial[PKI_SERIAL_HEX], why[256];
	int			 i, reason;
	time_t			 when;

	imp->n_crls++;
	if (pki_crl_number(crl) > imp->number)
		imp->number = pki_crl_number(crl);
	if (ca != NULL && (X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(ca)) != 0 ||
	    X509_CRL_verify(crl, X509_get0_pubkey(ca)) != 1)) {
		if (!imp->foreign)
			X509_NAME_oneline(X509_CRL_get_issuer(crl),
			    imp->issuer, sizeof(imp->issuer));
		imp->foreign = true;
		ERR_clear_error();
	}
	list = X509_CRL_get_REVOKED(crl);
	for (i = 0; i < sk_X509_REVOKED_num(list); i++) {
		rev = sk_X509_REVOKED_value(list, i);
		ai = X509_REVOKED_get0_serialNumber(rev);
		if (ASN1_STRING_type(ai) == V_ASN1_NEG_INTEGER ||
		    pki_serial_hex(ai, serial, sizeof(serial)) == -1) {
			snprintf(err, errlen, "CRL %zu, entry %d: negative or "
			    "over-long serial number", imp->n_crls, i + 1);
			return (-1);
		}
		when = pki_asn1_time(X509_REVOKED_get0_revocationDate(rev));
		if ((reason = pki_revoked_reason(rev)) == -2) {
			snprintf(err, errlen, "CRL %zu, entry %d (serial %s): "
			    "unreadable reason code", imp->n_crls, i + 1,
			    serial);
			return (-1);
		}
		if (pki_import_reason(reason, (size_t)i + 1, why,
		    sizeof(why)) == -1) {
			snprintf(err, errlen, "CRL %zu, %s", imp->n_crls, why);
			return (-1);
		}
		if (pki_import_add(imp, serial, when, reason, err,
		    errlen) == -1)
			return (-1);
	}
	return (0);
}

static int
pki_import_pem(const char *buf, size_t len, X509 *ca, struct pki_import *imp,
    char *err, size_t errlen)
{
	BIO		*bio;
	X509_CRL	*crl;
	unsigned long	 e;
	int		 rc = 0;

	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		pki_sslerr(err, errlen, "out of memory");
		return (-1);
	}
	/* Certificates before, between or after the CRLs are skipped. */
	while (rc == 0 && (crl = PEM_read_bio_X509_CRL(bio, NULL, NULL,
	    NULL)) != NULL) {
		rc = pki_import_crl(crl, ca, imp, err, errlen);
		X509_CRL_free(crl);
	}
	BIO_free(bio);
	if (rc == -1)
		return (-1);
	e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
		ERR_clear_error();	/* the normal end */
	else if (e != 0) {
		pki_sslerr(err, errlen, "CRL %zu of the PEM file is damaged",
		    imp->n_crls + 1);
		return (-1);
	}
	return (0);
}

/* --- JSON (shared/json.h's reader) ---------------------------------------- */

/* The reader and where its error message goes. */
struct pki_js {
	struct json_rd	 r;
	char		*err;
	size_t		 errlen;
	char		 msg[256];	/* a message of ours, for r.err */
};

/* The reader's error, or ours (with what), as "JSON, byte N: ...". */
static int
js_fail(struct pki_js *s, const char *what)
{
	if (what != NULL && s->r.err == NULL) {
		snprintf(s->msg, sizeof(s->msg), "%s", what);
		s->r.err = s->msg;
		s->r.err_at = (size_t)(s->r.p - s->r.start);
	}
	snprintf(s->err, s->errlen, "JSON, byte %zu: %s", s->r.err_at,
	    s->r.err != NULL ? s->r.err : "invalid");
	return (-1);
}

/* A string value we use (ASCII, short), or -1 with a message. */
static int
js_value_string(struct pki_js *s, const char *what, char *out, size_t outlen)
{
	char	 msg[128];
	bool	 trunc;

	const char	*c;

	if (json_rd_string(&s->r, out, outlen, &trunc) == -1)
		return (js_fail(s, NULL));
	/* Only printable ASCII: the values we use are serials, dates, names. */
	for (c = out; !trunc && *c != '\0'; c++)
		trunc = *c < 0x20 || *c > 0x7e;
	if (trunc) {
		snprintf(msg, sizeof(msg), "%s: too long or not ASCII", what);
		return (js_fail(s, msg));
	}
	return (0);
}

/*
 * A non-negative integer number (with fraction: a fraction is allowed and
 * dropped) as a C string of its digits.
 */
static int
js_value_digits(struct pki_js *s, const char *what, bool fraction,
    char *out, size_t outlen)
{
	const char	*tok;
	size_t		 len, digits = 0, i;
	char		 msg[128];
	bool		 ok;

	if (json_rd_peek(&s->r) != '-' && !isdigit(json_rd_peek(&s->r))) {
		snprintf(msg, sizeof(msg), "%s must be a non-negative "
		    "integer%s", what, fraction ? " (Unix seconds)" : "");
		return (js_fail(s, msg));
	}
	if (json_rd_number(&s->r, &tok, &len) == -1)
		return (js_fail(s, NULL));
	while (digits < len && isdigit((unsigned char)tok[digits]))
		digits++;
	ok = digits > 0 && digits < outlen;
	if (ok && digits < len) {
		/* Only ".DIGITS" may follow, and only with fraction. */
		ok = fraction && tok[digits] == '.';
		for (i = digits + 1; ok && i < len; i++)
			ok = isdigit((unsigned char)tok[i]);
	}
	if (!ok) {
		snprintf(msg, sizeof(msg), "%s must be a non-negative "
		    "integer%s", what, fraction ? " (Unix seconds)" : "");
		return (js_fail(s, msg));
	}
	memcpy(out, tok, digits);
	out[digits] = '\0';
	return (0);
}

struct pki_js_entry {
	char	 serial[PKI_SERIAL_HEX];
	time_t	 when;
	int	 reason;
	bool	 have_serial, have_date, have_reason;
};

static int
js_entry_member(struct pki_js *s, const char *key, struct pki_js_entry *e)
{
	char	 v[PKI_JSON_STR_MAX];
	int	 c = json_rd_peek(&s->r);

	if (strcmp(key, "serial_number") == 0) {
		if (e->have_serial)
			return (js_fail(s, "serial_number given twice"));
		e->have_serial = true;
		if (c == '"') {
			if (js_value_string(s, "serial_number", v,
			    sizeof(v)) == -1)
				return (-1);
			if (pki_serial_text(v, e->serial,
			    sizeof(e->serial)) == -1)
				return (js_fail(s, "serial_number is not a "
				    "positive decimal or hex number of at most "
				    "20 octets"));
			return (0);
		}
		if (js_value_digits(s, "serial_number", false, v,
		    sizeof(v)) == -1)
			return (-1);
		if (pki_serial_decimal(v, e->serial, sizeof(e->serial)) == -1)
			return (js_fail(s, "serial_number is larger than 20 "
			    "octets"));
		return (0);
	}
	if (strcmp(key, "revocation_date") == 0) {
		if (e->have_date)
			return (js_fail(s, "revocation_date given twice"));
		e->have_date = true;
		if (c == 'n')
			return (json_rd_literal(&s->r, "null") == -1 ?
			    js_fail(s, NULL) : 0);
		if (c == '"') {
			if (js_value_string(s, "revocation_date", v,
			    sizeof(v)) == -1)
				return (-1);
		} else if (js_value_digits(s, "revocation_date", true, v,
		    sizeof(v)) == -1)
			return (-1);
		if (pki_date_parse(v, &e->when) == -1)
			return (js_fail(s, "revocation_date is not a date "
			    "(ISO-8601, or Unix seconds) from 1950 on"));
		return (0);
	}
	if (strcmp(key, "reason") == 0) {
		if (e->have_reason)
			return (js_fail(s, "reason given twice"));
		e->have_reason = true;
		if (c == 'n')
			return (json_rd_literal(&s->r, "null") == -1 ?
			    js_fail(s, NULL) : 0);
		if (c == '"') {
			if (js_value_string(s, "reason", v, sizeof(v)) == -1)
				return (-1);
			if (*v == '\0')
				return (0);
			if ((e->reason = pki_reason_parse_loose(v)) < 0)
				return (js_fail(s, "unknown reason (want an "
				    "RFC 5280 name or code)"));
			return (0);
		}
		if (js_value_digits(s, "reason", false, v, sizeof(v)) == -1)
			return (-1);
		if (strlen(v) > 2 || pki_reason_name(atoi(v)) == NULL)
			return (js_fail(s, "unknown reason code"));
		e->reason = atoi(v);
		return (0);
	}
	return (json_rd_skip(&s->r) == -1 ? js_fail(s, NULL) : 0);
}

static int
js_entry(struct pki_js *s, struct pki_import *imp)
{
	struct pki_js_entry	 e;
	char			 key[JSON_RD_KEY_MAX], why[256];
	size_t			 no = imp->n + 1;
	bool			 first = true;
	int			 more;

	memset(&e, 0, sizeof(e));
	e.reason = CRL_REASON_NONE;
	if (json_rd_open(&s->r, '{') == -1)
		return (js_fail(s, NULL));
	while ((more = json_rd_more(&s->r, '}', &first)) == 1) {
		if (json_rd_key(&s->r, key, sizeof(key)) == -1)
			return (js_fail(s, NULL));
		if (js_entry_member(s, key, &e) == -1)
			return (-1);
	}
	if (more == -1)
		return (js_fail(s, NULL));
	if (!e.have_serial) {
		snprintf(why, sizeof(why), "entry %zu has no serial_number",
		    no);
		return (js_fail(s, why));
	}
	if (pki_import_reason(e.reason, no, why, sizeof(why)) == -1)
		return (js_fail(s, why));
	return (pki_import_add(imp, e.serial, e.when, e.reason, s->err,
	    s->errlen));
}

static int
pki_import_json(const char *buf, size_t len, struct pki_import *imp,
    char *err, size_t errlen)
{
	struct pki_js	 s;
	char		 key[JSON_RD_KEY_MAX];
	bool		 first = true, found = false, efirst;
	int		 more, emore;

	memset(&s, 0, sizeof(s));
	json_rd_init(&s.r, buf, len);
	s.err = err;
	s.errlen = errlen;
	if (json_rd_open(&s.r, '{') == -1)
		return (js_fail(&s, NULL));
	while ((more = json_rd_more(&s.r, '}', &first)) == 1) {
		if (json_rd_key(&s.r, key, sizeof(key)) == -1)
			return (js_fail(&s, NULL));
		if (strcmp(key, "revoked_certificates") != 0) {
			if (json_rd_skip(&s.r) == -1)
				return (js_fail(&s, NULL));
			continue;
		}
		if (found)
			return (js_fail(&s, "revoked_certificates given "
			    "twice"));
		found = true;
		if (json_rd_open(&s.r, '[') == -1)
			return (js_fail(&s, NULL));
		efirst = true;
		while ((emore = json_rd_more(&s.r, ']', &efirst)) == 1)
			if (js_entry(&s, imp) == -1)
				return (-1);
		if (emore == -1)
			return (js_fail(&s, NULL));
	}
	if (more == -1)
		return (js_fail(&s, NULL));
	if (json_rd_peek(&s.r) != -1)
		return (js_fail(&s, "data after the top-level object"));
	if (!found) {
		snprintf(err, errlen, "JSON: no \"revoked_certificates\" "
		    "array at the top level");
		return (-1);
	}
	return (0);
}

/* --- all of it ---------------------------------------------------------- */

static int
pki_import_entry_cmp(const void *a, const void *b)
{
	const struct pki_import_entry	*x = a, *y = b;

	return (pki_serial_cmp(x->serial, y->serial));
}

/* Sort by serial and merge duplicates: earliest date, first reason. */
static void
pki_import_dedup(struct pki_import *imp)
{
	struct pki_import_entry	*w, *r;
	size_t			 i;

	if (imp->n < 2)
		return;
	qsort(imp->v, imp->n, sizeof(imp->v[0]), pki_import_entry_cmp);
	w = imp->v;
	for (i = 1; i < imp->n; i++) {
		r = &imp->v[i];
		if (pki_serial_cmp(w->serial, r->serial) != 0) {
			*++w = *r;
			continue;
		}
		imp->n_dup++;
		if (r->revoked_at != 0 && (w->revoked_at == 0 ||
		    r->revoked_at < w->revoked_at))
			w->revoked_at = r->revoked_at;
		if (w->reason == CRL_REASON_NONE)
			w->reason = r->reason;
	}
	imp->n = (size_t)(w - imp->v) + 1;
}

int
pki_import_parse(const char *buf, size_t len, X509 *ca,
    struct pki_import *imp, char *err, size_t errlen)
{
	const unsigned char	*p = (const unsigned char *)buf;
	X509_CRL		*crl;
	size_t			 i;
	int			 rc;

	memset(imp, 0, sizeof(*imp));
	ERR_clear_error();	/* the PEM reader's end is told by its error */
	for (i = 0; i < len && isspace((unsigned char)buf[i]); i++)
		;
	if (len > INT32_MAX) {
		snprintf(err, errlen, "input too big");
		return (-1);
	}
	if (memmem(buf, len, pki_crl_pem_tag, sizeof(pki_crl_pem_tag) - 1)) {
		imp->format = PKI_IMPORT_PEM;
		rc = pki_import_pem(buf, len, ca, imp, err, errlen);
	} else if (i < len && (buf[i] == '{' || buf[i] == '[')) {
		imp->format = PKI_IMPORT_JSON;
		rc = pki_import_json(buf, len, imp, err, errlen);
	} else if (i < len && buf[i] == '-') {
		snprintf(err, errlen, "a PEM file without an X509 CRL block "
		    "(only certificates or keys?)");
		rc = -1;
	} else if ((crl = d2i_X509_CRL(NULL, &p, (long)len)) != NULL &&
	    p == (const unsigned char *)buf + len) {
		imp->format = PKI_IMPORT_DER;
		rc = pki_import_crl(crl, ca, imp, err, errlen);
		X509_CRL_free(crl);
	} else {
		X509_CRL_free(crl);
		ERR_clear_error();
		snprintf(err, errlen, "neither an X.509 CRL (PEM or DER) nor "
		    "FreeTAKServer's JSON {\"revoked_certificates\": [...]}");
		rc = -1;
	}
	if (rc == -1) {
		pki_import_free(imp);
		return (-1);
	}
	pki_import_dedup(imp);
	return (0);
}

void
pki_import_free(struct pki_import *imp)
{
	if (imp == NULL)
		return;
	free(imp->v);
	memset(imp, 0, sizeof(*imp));
}
