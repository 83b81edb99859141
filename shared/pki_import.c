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

#include "shared/pki.h"

#define PKI_JSON_DEPTH		32
#define PKI_JSON_KEY_MAX	64
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

static int
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

/* --- JSON ---------------------------------------------------------------- */

struct pki_js {
	const char	*start;
	const char	*p;
	const char	*end;
	int		 depth;
	char		*err;
	size_t		 errlen;
};

static int
js_fail(struct pki_js *s, const char *what)
{
	snprintf(s->err, s->errlen, "JSON, byte %zu: %s",
	    (size_t)(s->p - s->start), what);
	return (-1);
}

static void
js_ws(struct pki_js *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	    *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int
js_peek(struct pki_js *s)
{
	js_ws(s);
	return (s->p < s->end ? (unsigned char)*s->p : -1);
}

static int
js_char(struct pki_js *s, char c, const char *what)
{
	if (js_peek(s) != (unsigned char)c)
		return (js_fail(s, what));
	s->p++;
	return (0);
}

static int
js_hex4(struct pki_js *s, unsigned *v)
{
	int	 i;
	char	 c;

	*v = 0;
	if (s->end - s->p < 4)
		return (-1);
	for (i = 0; i < 4; i++) {
		c = *s->p++;
		if (!isxdigit((unsigned char)c))
			return (-1);
		*v = *v * 16 + (unsigned)(isdigit((unsigned char)c) ? c - '0' :
		    (tolower((unsigned char)c) - 'a' + 10));
	}
	return (0);
}

/* One UTF-8 sequence at s->p (strict: no overlong, surrogate, > U+10FFFF). */
static int
js_utf8(struct pki_js *s, unsigned *cp)
{
	const unsigned char	*u = (const unsigned char *)s->p;
	size_t			 n, i, left = (size_t)(s->end - s->p);
	unsigned		 min;

	if (u[0] < 0x80) {
		n = 1;
		*cp = u[0];
		min = 0;
	} else if ((u[0] & 0xe0) == 0xc0) {
		n = 2;
		*cp = u[0] & 0x1f;
		min = 0x80;
	} else if ((u[0] & 0xf0) == 0xe0) {
		n = 3;
		*cp = u[0] & 0x0f;
		min = 0x800;
	} else if ((u[0] & 0xf8) == 0xf0) {
		n = 4;
		*cp = u[0] & 0x07;
		min = 0x10000;
	} else
		return (-1);
	if (n > left)
		return (-1);
	for (i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return (-1);
		*cp = (*cp << 6) | (u[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return (-1);
	s->p += n;
	return (0);
}

/*
 * A string.  With out, its value (only ASCII is kept: the values we use are
 * serials, dates and reason names) goes there; *trunc says it did not fit
 * or had other characters.
 */
static int
js_string(struct pki_js *s, char *out, size_t outlen, bool *trunc)
{
	unsigned	 cp, lo;
	size_t		 n = 0;
	char		 c;

	if (trunc != NULL)
		*trunc = false;
	if (js_char(s, '"', "expected a string") == -1)
		return (-1);
	for (;;) {
		if (s->p >= s->end)
			return (js_fail(s, "unterminated string"));
		c = *s->p;
		if (c == '"') {
			s->p++;
			break;
		}
		if ((unsigned char)c < 0x20)
			return (js_fail(s, "control character in a string"));
		if (c == '\\') {
			if (++s->p >= s->end)
				return (js_fail(s, "unterminated string"));
			c = *s->p++;
			switch (c) {
			case '"': case '\\': case '/':
				cp = (unsigned char)c;
				break;
			case 'b': cp = '\b'; break;
			case 'f': cp = '\f'; break;
			case 'n': cp = '\n'; break;
			case 'r': cp = '\r'; break;
			case 't': cp = '\t'; break;
			case 'u':
				if (js_hex4(s, &cp) == -1)
					return (js_fail(s, "bad \\u escape"));
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return (js_fail(s, "lone surrogate"));
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (s->end - s->p < 2 || s->p[0] !=
					    '\\' || s->p[1] != 'u')
						return (js_fail(s,
						    "lone surrogate"));
					s->p += 2;
					if (js_hex4(s, &lo) == -1 ||
					    lo < 0xdc00 || lo > 0xdfff)
						return (js_fail(s,
						    "bad surrogate pair"));
					cp = 0x10000;	/* not ASCII */
				}
				break;
			default:
				return (js_fail(s, "bad escape in a string"));
			}
		} else if (js_utf8(s, &cp) == -1)
			return (js_fail(s, "invalid UTF-8"));
		if (out == NULL)
			continue;
		if (cp < 0x20 || cp > 0x7e || n + 1 >= outlen)
			*trunc = true;
		else
			out[n++] = (char)cp;
	}
	if (out != NULL)
		out[n] = '\0';
	return (0);
}

/* A number per RFC 8259; *tok / *len its text. */
static int
js_number(struct pki_js *s, const char **tok, size_t *len)
{
	const char	*p;

	js_ws(s);
	p = *tok = s->p;
	if (p < s->end && *p == '-')
		p++;
	if (p < s->end && *p == '0')
		p++;
	else if (p < s->end && *p >= '1' && *p <= '9')
		while (p < s->end && isdigit((unsigned char)*p))
			p++;
	else
		return (js_fail(s, "bad number"));
	if (p < s->end && *p == '.') {
		if (++p >= s->end || !isdigit((unsigned char)*p))
			return (js_fail(s, "bad number"));
		while (p < s->end && isdigit((unsigned char)*p))
			p++;
	}
	if (p < s->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < s->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= s->end || !isdigit((unsigned char)*p))
			return (js_fail(s, "bad number"));
		while (p < s->end && isdigit((unsigned char)*p))
			p++;
	}
	*len = (size_t)(p - *tok);
	s->p = p;
	return (0);
}

static int
js_literal(struct pki_js *s, const char *word)
{
	size_t	 n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return (js_fail(s, "unexpected character"));
	s->p += n;
	return (0);
}

static int	js_skip(struct pki_js *);

/* After '{' or '[': more members?  1 yes, 0 the container ended. */
static int
js_more(struct pki_js *s, char close, bool first)
{
	int	 c = js_peek(s);

	if (c == close) {
		s->p++;
		s->depth--;
		return (0);
	}
	if (!first) {
		if (c != ',')
			return (js_fail(s, "expected ',' or the end of the "
			    "container"));
		s->p++;
	}
	return (1);
}

static int
js_open(struct pki_js *s, char open)
{
	if (js_char(s, open, open == '{' ? "expected an object" :
	    "expected an array") == -1)
		return (-1);
	if (++s->depth > PKI_JSON_DEPTH)
		return (js_fail(s, "nested too deeply"));
	return (0);
}

/* A member name and its colon; the name (truncated) in key. */
static int
js_key(struct pki_js *s, char *key, size_t keylen)
{
	bool	 trunc;

	if (js_string(s, key, keylen, &trunc) == -1)
		return (-1);
	if (trunc)
		key[0] = '\0';	/* none of ours */
	return (js_char(s, ':', "expected ':'"));
}

static int
js_skip(struct pki_js *s)
{
	const char	*tok;
	size_t		 len;
	char		 key[PKI_JSON_KEY_MAX];
	int		 c, more;
	bool		 first = true;

	switch ((c = js_peek(s))) {
	case '{':
	case '[':
		if (js_open(s, (char)c) == -1)
			return (-1);
		while ((more = js_more(s, c == '{' ? '}' : ']', first)) == 1) {
			first = false;
			if (c == '{' && js_key(s, key, sizeof(key)) == -1)
				return (-1);
			if (js_skip(s) == -1)
				return (-1);
		}
		return (more);
	case '"':
		return (js_string(s, NULL, 0, NULL));
	case 't':
		return (js_literal(s, "true"));
	case 'f':
		return (js_literal(s, "false"));
	case 'n':
		return (js_literal(s, "null"));
	case -1:
		return (js_fail(s, "unexpected end"));
	default:
		if (c != '-' && !isdigit(c))
			return (js_fail(s, "unexpected character"));
		return (js_number(s, &tok, &len));
	}
}

/* A string value we use (ASCII, short), or -1 with a message. */
static int
js_value_string(struct pki_js *s, const char *what, char *out, size_t outlen)
{
	char	 msg[128];
	bool	 trunc;

	if (js_string(s, out, outlen, &trunc) == -1)
		return (-1);
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

	if (js_peek(s) != '-' && !isdigit(js_peek(s))) {
		snprintf(msg, sizeof(msg), "%s must be a non-negative "
		    "integer%s", what, fraction ? " (Unix seconds)" : "");
		return (js_fail(s, msg));
	}
	if (js_number(s, &tok, &len) == -1)
		return (-1);
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
	int	 c = js_peek(s);

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
			return (js_literal(s, "null"));
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
			return (js_literal(s, "null"));
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
	return (js_skip(s));
}

static int
js_entry(struct pki_js *s, struct pki_import *imp)
{
	struct pki_js_entry	 e;
	char			 key[PKI_JSON_KEY_MAX], why[256];
	size_t			 no = imp->n + 1;
	bool			 first = true;
	int			 more;

	memset(&e, 0, sizeof(e));
	e.reason = CRL_REASON_NONE;
	if (js_open(s, '{') == -1)
		return (-1);
	while ((more = js_more(s, '}', first)) == 1) {
		first = false;
		if (js_key(s, key, sizeof(key)) == -1 ||
		    js_entry_member(s, key, &e) == -1)
			return (-1);
	}
	if (more == -1)
		return (-1);
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
	struct pki_js	 s = { buf, buf, buf + len, 0, err, errlen };
	char		 key[PKI_JSON_KEY_MAX];
	bool		 first = true, found = false, efirst;
	int		 more, emore;

	if (js_open(&s, '{') == -1)
		return (-1);
	while ((more = js_more(&s, '}', first)) == 1) {
		first = false;
		if (js_key(&s, key, sizeof(key)) == -1)
			return (-1);
		if (strcmp(key, "revoked_certificates") != 0) {
			if (js_skip(&s) == -1)
				return (-1);
			continue;
		}
		if (found)
			return (js_fail(&s, "revoked_certificates given "
			    "twice"));
		found = true;
		if (js_open(&s, '[') == -1)
			return (-1);
		for (efirst = true; (emore = js_more(&s, ']', efirst)) == 1;
		    efirst = false)
			if (js_entry(&s, imp) == -1)
				return (-1);
		if (emore == -1)
			return (-1);
	}
	if (more == -1)
		return (-1);
	if (js_peek(&s) != -1)
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
