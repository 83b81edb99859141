/*
 * The CSR policy of enrollment: see csr_check.h.  Used by the api process
 * (unprivileged, before asking) and by the signer (again, before signing).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "shared/csr_check.h"
#include "shared/log.h"
#include "shared/utf8.h"

#define CSR_SHOW_MAX		40	/* bytes of a value quoted in a reason */
#define CSR_RSA_E_MAX_BITS	256	/* a larger exponent is only slow */

/* The reason; OpenSSL's queue cleared, for what failed is said in it. */
#define csr_why(...) do {						\
	log_why(__VA_ARGS__);						\
	ERR_clear_error();						\
} while (0)

/*
 * A value as a reason quotes it: printable ASCII kept, anything else as
 * \xNN, cut at CSR_SHOW_MAX bytes ("..." says so).  Reasons go into HTTP
 * bodies and log lines, which must not carry what a client chose raw.
 */
static const char *
csr_show(const char *s, size_t len, char *buf, size_t buflen)
{
	size_t	 i, o = 0;

	for (i = 0; i < len && i < CSR_SHOW_MAX && o + 5 < buflen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, buflen - o, "\\x%02x", c);
	}
	if (i < len && o + 4 < buflen) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o < buflen ? o : buflen - 1] = '\0';
	return (buf);
}

int
csr_rdn_value_ok(const char *v)
{
	const uint8_t	*p = (const uint8_t *)v;
	size_t		 left = strlen(v), n, chars = 0;
	uint32_t	 cp;

	while (left > 0) {
		if ((n = utf8_decode(p, left, &cp)) == 0 || cp < 0x20 ||
		    (cp >= 0x7f && cp < 0xa0))
			return (0);
		p += n;
		left -= n;
		chars++;
	}
	return (chars <= CSR_RDN_MAX);
}

X509_REQ *
csr_parse_der(const unsigned char *der, size_t len, char *why, size_t whylen)
{
	const unsigned char	*p = der;
	unsigned char		*again = NULL;
	X509_REQ		*req;
	int			 n;

	if (len == 0) {
		csr_why(why, whylen, "empty CSR");
		return (NULL);
	}
	if (len > CSR_CHECK_DER_MAX) {
		csr_why(why, whylen, "CSR too large (%zu bytes of DER, at most "
		    "%d)", len, CSR_CHECK_DER_MAX);
		return (NULL);
	}
	if ((req = d2i_X509_REQ(NULL, &p, (long)len)) == NULL) {
		csr_why(why, whylen, "not a certificate signing request "
		    "(DER does not parse)");
		return (NULL);
	}
	if (p != der + len) {
		csr_why(why, whylen, "%zu bytes after the CSR",
		    (size_t)(der + len - p));
		goto fail;
	}
	/* Canonical DER only: what we check is what was signed. */
	if ((n = i2d_X509_REQ(req, &again)) <= 0 || (size_t)n != len ||
	    memcmp(again, der, len) != 0) {
		csr_why(why, whylen, "CSR is not canonical DER");
		goto fail;
	}
	OPENSSL_free(again);
	return (req);
 fail:
	OPENSSL_free(again);
	X509_REQ_free(req);
	return (NULL);
}

static int
csr_b64_char(unsigned char c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/');
}

/* Base64 of DER, blanks and line breaks anywhere, '=' padding at the end. */
static X509_REQ *
csr_parse_b64(const unsigned char *s, size_t len, char *why, size_t whylen)
{
	unsigned char	*txt = NULL, *der = NULL;
	X509_REQ	*req = NULL;
	size_t		 i, n = 0, pad = 0;
	int		 dlen;

	if ((txt = malloc(len + 1)) == NULL ||
	    (der = malloc(len / 4 * 3 + 3)) == NULL) {
		csr_why(why, whylen, "out of memory");
		goto done;
	}
	for (i = 0; i < len; i++) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
		    s[i] == '\n')
			continue;
		if (s[i] == '=') {
			pad++;
		} else if (!csr_b64_char(s[i]) || pad > 0) {
			csr_why(why, whylen, "not a CSR: byte %zu is neither "
			    "base64 nor DER nor PEM", i);
			goto done;
		}
		txt[n++] = s[i];
	}
	if (n == 0 || n % 4 != 0 || pad > 2) {
		csr_why(why, whylen, "not a CSR: bad base64 length or padding");
		goto done;
	}
	txt[n] = '\0';
	if ((dlen = EVP_DecodeBlock(der, txt, (int)n)) < 0 ||
	    (size_t)dlen < pad) {
		csr_why(why, whylen, "not a CSR: bad base64");
		goto done;
	}
	req = csr_parse_der(der, (size_t)dlen - pad, why, whylen);
 done:
	free(txt);
	if (der != NULL) {
		OPENSSL_cleanse(der, len / 4 * 3 + 3);
		free(der);
	}
	return (req);
}

static X509_REQ *
csr_parse_pem(const unsigned char *s, size_t len, char *why, size_t whylen)
{
	BIO		*bio;
	X509_REQ	*req = NULL;
	unsigned char	*der = NULL;
	char		*name = NULL, *rest;
	long		 dlen = 0, left;

	if ((bio = BIO_new_mem_buf(s, (int)len)) == NULL) {
		csr_why(why, whylen, "out of memory");
		return (NULL);
	}
	/* Takes "CERTIFICATE REQUEST" and "NEW CERTIFICATE REQUEST". */
	if (!PEM_bytes_read_bio(&der, &dlen, &name, PEM_STRING_X509_REQ, bio,
	    NULL, NULL) || dlen <= 0) {
		csr_why(why, whylen, "not a PEM certificate request");
		goto done;
	}
	left = BIO_get_mem_data(bio, &rest);
	for (; left > 0; left--, rest++)
		if (!isspace((unsigned char)*rest)) {
			csr_why(why, whylen, "data after the PEM certificate "
			    "request");
			goto done;
		}
	req = csr_parse_der(der, (size_t)dlen, why, whylen);
 done:
	OPENSSL_free(der);
	OPENSSL_free(name);
	BIO_free(bio);
	return (req);
}

X509_REQ *
csr_parse(const void *buf, size_t len, char *why, size_t whylen)
{
	const unsigned char	*s = buf;

	if (len > CSR_CHECK_INPUT_MAX) {
		csr_why(why, whylen, "CSR too large (%zu bytes, at most %d)",
		    len, CSR_CHECK_INPUT_MAX);
		return (NULL);
	}
	while (len > 0 && isspace(*s)) {
		s++;
		len--;
	}
	if (len == 0) {
		csr_why(why, whylen, "empty CSR");
		return (NULL);
	}
	if (s[0] == 0x30)	/* SEQUENCE: DER */
		return (csr_parse_der(s, len, why, whylen));
	if (len > 10 && memcmp(s, "-----BEGIN", 10) == 0)
		return (csr_parse_pem(s, len, why, whylen));
	return (csr_parse_b64(s, len, why, whylen));
}

void
csr_key_name(EVP_PKEY *key, char *buf, size_t len)
{
	char	 group[64];
	size_t	 glen = 0;

	if (key == NULL) {
		snprintf(buf, len, "unknown");
		return;
	}
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		snprintf(buf, len, "RSA %d", EVP_PKEY_get_bits(key));
		break;
	case EVP_PKEY_RSA_PSS:
		snprintf(buf, len, "RSA-PSS %d", EVP_PKEY_get_bits(key));
		break;
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_group_name(key, group, sizeof(group), &glen))
			snprintf(group, sizeof(group), "explicit curve");
		snprintf(buf, len, "EC %s",
		    strcmp(group, SN_X9_62_prime256v1) == 0 ? "P-256" :
		    strcmp(group, SN_secp384r1) == 0 ? "P-384" : group);
		break;
	default:
		snprintf(buf, len, "%s", OBJ_nid2sn(EVP_PKEY_get_base_id(key)) !=
		    NULL ? OBJ_nid2sn(EVP_PKEY_get_base_id(key)) : "unknown");
		break;
	}
	ERR_clear_error();
}

/* The public key itself: EVP_PKEY_public_check (point on the curve...). */
static int
csr_key_valid(EVP_PKEY *key)
{
	EVP_PKEY_CTX	*ctx;
	int		 ok;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL)) == NULL)
		return (0);
	ok = EVP_PKEY_public_check(ctx) == 1;
	EVP_PKEY_CTX_free(ctx);
	return (ok);
}

static int
csr_check_key(EVP_PKEY *key, const struct csr_policy *pol,
    struct csr_info *info, char *why, size_t whylen)
{
	char		 name[32], enc[32];
	unsigned	 keys = pol->keys != 0 ? pol->keys : CSR_KEYS_ALL;
	BIGNUM		*e = NULL;
	int		 bits, ok = 0;

	csr_key_name(key, name, sizeof(name));
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_EC:
		/* Explicit parameters could hide a weak curve behind a name. */
		if (!EVP_PKEY_get_utf8_string_param(key,
		    OSSL_PKEY_PARAM_EC_ENCODING, enc, sizeof(enc), NULL) ||
		    strcmp(enc, OSSL_PKEY_EC_ENCODING_GROUP) != 0) {
			csr_why(why, whylen, "EC key with explicit curve "
			    "parameters; use the named curve P-256 or P-384");
			return (-1);
		}
		if (strcmp(name, "EC P-256") == 0)
			ok = (keys & CSR_KEY_EC_P256) != 0;
		else if (strcmp(name, "EC P-384") == 0)
			ok = (keys & CSR_KEY_EC_P384) != 0;
		break;
	case EVP_PKEY_RSA:
		if ((keys & CSR_KEY_RSA) == 0)
			break;
		bits = EVP_PKEY_get_bits(key);
		if (bits < CSR_RSA_MIN_BITS || bits > CSR_RSA_MAX_BITS) {
			csr_why(why, whylen, "RSA key of %d bits; %d to %d "
			    "bits are accepted", bits, CSR_RSA_MIN_BITS,
			    CSR_RSA_MAX_BITS);
			return (-1);
		}
		if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) ||
		    !BN_is_odd(e) || BN_num_bits(e) < 17 ||
		    BN_num_bits(e) > CSR_RSA_E_MAX_BITS) {
			BN_free(e);
			csr_why(why, whylen, "RSA key with an unusable public "
			    "exponent (want an odd one of at least 65537)");
			return (-1);
		}
		BN_free(e);
		ok = 1;
		break;
	}
	if (!ok) {
		csr_why(why, whylen, "%s key not accepted (%s%s%s)", name,
		    (keys & CSR_KEY_EC_P256) ? "EC P-256 " : "",
		    (keys & CSR_KEY_EC_P384) ? "EC P-384 " : "",
		    (keys & CSR_KEY_RSA) ? "RSA 2048..8192" : "");
		return (-1);
	}
	if (!csr_key_valid(key)) {
		csr_why(why, whylen, "%s public key is invalid", name);
		return (-1);
	}
	if (info != NULL)
		snprintf(info->key, sizeof(info->key), "%s", name);
	return (0);
}

static int
csr_check_sig(X509_REQ *req, EVP_PKEY *key, char *why, size_t whylen)
{
	int	 md = NID_undef, pk = NID_undef;

	if (!OBJ_find_sigid_algs(X509_REQ_get_signature_nid(req), &md, &pk)) {
		csr_why(why, whylen, "unknown signature algorithm");
		return (-1);
	}
	switch (md) {
	case NID_sha1:
	case NID_sha224:
	case NID_sha256:
	case NID_sha384:
	case NID_sha512:
		break;
	case NID_undef:
		if (pk == NID_rsassaPss)	/* the digest is in parameters */
			break;
		/* FALLTHROUGH */
	default:
		csr_why(why, whylen, "signature digest %s not accepted",
		    OBJ_nid2sn(md) != NULL ? OBJ_nid2sn(md) : "?");
		return (-1);
	}
	if (X509_REQ_verify(req, key) != 1) {
		csr_why(why, whylen, "CSR signature does not verify with its "
		    "own key");
		return (-1);
	}
	return (0);
}

/* The UTF-8 text of one name entry: no NUL, no control character. */
static int
csr_entry_text(const X509_NAME_ENTRY *ne, char *buf, size_t buflen)
{
	const ASN1_STRING	*v = X509_NAME_ENTRY_get_data(ne);
	unsigned char		*u = NULL;
	int			 n;

	switch (ASN1_STRING_type(v)) {
	case V_ASN1_UTF8STRING:
	case V_ASN1_PRINTABLESTRING:
	case V_ASN1_IA5STRING:
	case V_ASN1_BMPSTRING:
		break;
	default:
		return (-1);
	}
	if ((n = ASN1_STRING_to_UTF8(&u, v)) < 0)
		return (-1);
	if ((size_t)n >= buflen || memchr(u, '\0', (size_t)n) != NULL) {
		OPENSSL_free(u);
		return (-1);
	}
	memcpy(buf, u, (size_t)n);
	buf[n] = '\0';
	OPENSSL_free(u);
	return (csr_rdn_value_ok(buf) ? 0 : -1);
}

/* ASCII letters fold, every other byte must match. */
static int
csr_cn_equal(const char *a, const char *b)
{
	return (strlen(a) == strlen(b) && strcasecmp(a, b) == 0);
}

static int
csr_check_subject(X509_REQ *req, const char *user,
    const struct csr_policy *pol, char *why, size_t whylen)
{
	const X509_NAME	*name = X509_REQ_get_subject_name(req);
	const char	*want_val[3];
	int		 want_nid[3];
	char		 text[4 * CSR_RDN_MAX + 1], s1[4 * CSR_SHOW_MAX + 8];
	char		 s2[4 * CSR_SHOW_MAX + 8];
	char		 layout[32];
	const char	*sn;
	int		 nwant = 0, n, i, nid;

	want_nid[nwant] = NID_commonName;
	want_val[nwant++] = user;
	if (pol->o != NULL && *pol->o != '\0') {
		want_nid[nwant] = NID_organizationName;
		want_val[nwant++] = pol->o;
	}
	if (pol->ou != NULL && *pol->ou != '\0') {
		want_nid[nwant] = NID_organizationalUnitName;
		want_val[nwant++] = pol->ou;
	}
	snprintf(layout, sizeof(layout), "CN%s%s", nwant > 1 &&
	    want_nid[1] == NID_organizationName ? ", O" : "",
	    want_nid[nwant - 1] == NID_organizationalUnitName ? ", OU" : "");
	n = X509_NAME_entry_count(name);
	for (i = 0; i < n && i < nwant; i++) {
		const X509_NAME_ENTRY *ne = X509_NAME_get_entry(name, i);

		nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(ne));
		sn = OBJ_nid2sn(nid) != NULL && nid != NID_undef ?
		    OBJ_nid2sn(nid) : "an unknown attribute";
		/* One attribute per RDN: a multi-valued one is refused. */
		if (X509_NAME_ENTRY_set(ne) != i) {
			csr_why(why, whylen, "subject has a multi-valued RDN "
			    "(%s together with %s)", sn,
			    OBJ_nid2sn(want_nid[i - 1]));
			return (-1);
		}
		if (nid != want_nid[i]) {
			csr_why(why, whylen, "subject attribute %d is %s, "
			    "expected %s (the subject must be exactly %s, in "
			    "that order)", i + 1, sn, OBJ_nid2sn(want_nid[i]),
			    layout);
			return (-1);
		}
		if (csr_entry_text(ne, text, sizeof(text)) == -1) {
			csr_why(why, whylen, "subject %s is not a readable "
			    "string", sn);
			return (-1);
		}
		if (nid == NID_commonName ? !csr_cn_equal(text, user) :
		    strcmp(text, want_val[i]) != 0) {
			csr_why(why, whylen, "subject %s \"%s\" is not %s "
			    "\"%s\"", sn, csr_show(text, strlen(text), s1,
			    sizeof(s1)), nid == NID_commonName ?
			    "the authenticated user" : "the configured",
			    csr_show(want_val[i], strlen(want_val[i]), s2,
			    sizeof(s2)));
			return (-1);
		}
	}
	if (n < nwant) {
		csr_why(why, whylen, "subject lacks %s \"%s\" (it must be "
		    "exactly %s)", OBJ_nid2sn(want_nid[n]),
		    csr_show(want_val[n], strlen(want_val[n]), s1, sizeof(s1)),
		    layout);
		return (-1);
	}
	if (n > nwant) {
		nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(
		    X509_NAME_get_entry(name, nwant)));
		csr_why(why, whylen, "subject has an extra attribute %s after "
		    "%s (it must be exactly %s)", nid != NID_undef &&
		    OBJ_nid2sn(nid) != NULL ? OBJ_nid2sn(nid) : "(unknown)",
		    OBJ_nid2sn(want_nid[nwant - 1]), layout);
		return (-1);
	}
	return (0);
}

/* An extension OpenSSL knows must decode; one it does not is opaque. */
static int
csr_ext_parses(X509_EXTENSION *ext)
{
	const X509V3_EXT_METHOD	*m;
	void			*v;

	if ((m = X509V3_EXT_get(ext)) == NULL)
		return (0);
	if ((v = X509V3_EXT_d2i(ext)) == NULL)
		return (-1);
	if (m->it != NULL)
		ASN1_item_free(v, ASN1_ITEM_ptr(m->it));
	else if (m->ext_free != NULL)
		m->ext_free(v);
	return (0);
}

/* Requested extensions: nothing that asks for CA powers. */
static int
csr_check_exts(X509_REQ *req, char *why, size_t whylen)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION		*ext;
	BASIC_CONSTRAINTS	*bc;
	ASN1_BIT_STRING		*ku;
	int			 i, n, nid, has_req = 0, rc = -1;

	n = X509_REQ_get_attr_count(req);
	if (n > CSR_ATTRS_MAX) {
		csr_why(why, whylen, "CSR has %d attributes (at most %d)", n,
		    CSR_ATTRS_MAX);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		nid = OBJ_obj2nid(X509_ATTRIBUTE_get0_object(
		    X509_REQ_get_attr(req, i)));
		if (nid == NID_ext_req || nid == NID_ms_ext_req)
			has_req++;
	}
	if (has_req == 0)
		return (0);
	if (has_req > 1 || (exts = X509_REQ_get_extensions(req)) == NULL) {
		csr_why(why, whylen, "CSR extension request is malformed");
		return (-1);
	}
	for (i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		ext = sk_X509_EXTENSION_value(exts, i);
		nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
		switch (nid) {
		case NID_basic_constraints:
			if ((bc = X509V3_EXT_d2i(ext)) == NULL) {
				csr_why(why, whylen, "requested "
				    "basicConstraints is malformed");
				goto done;
			}
			if (bc->ca) {
				BASIC_CONSTRAINTS_free(bc);
				csr_why(why, whylen, "CSR asks for a CA "
				    "certificate (basicConstraints CA:TRUE)");
				goto done;
			}
			BASIC_CONSTRAINTS_free(bc);
			break;
		case NID_key_usage:
			if ((ku = X509V3_EXT_d2i(ext)) == NULL) {
				csr_why(why, whylen, "requested keyUsage is "
				    "malformed");
				goto done;
			}
			if (ASN1_BIT_STRING_get_bit(ku, 5) ||
			    ASN1_BIT_STRING_get_bit(ku, 6)) {
				ASN1_BIT_STRING_free(ku);
				csr_why(why, whylen, "CSR asks for keyUsage "
				    "keyCertSign or cRLSign");
				goto done;
			}
			ASN1_BIT_STRING_free(ku);
			break;
		case NID_name_constraints:
			csr_why(why, whylen, "CSR asks for nameConstraints");
			goto done;
		default:
			/* Parsed for well-formedness, then ignored. */
			if (csr_ext_parses(ext) == -1) {
				csr_why(why, whylen, "requested extension %s "
				    "is malformed", OBJ_nid2sn(nid) != NULL ?
				    OBJ_nid2sn(nid) : "?");
				goto done;
			}
			break;
		}
	}
	rc = 0;
 done:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return (rc);
}

int
csr_check(X509_REQ *req, const char *user, const struct csr_policy *pol,
    struct csr_info *info, char *why, size_t whylen)
{
	EVP_PKEY	*key;
	size_t		 ulen = user != NULL ? strlen(user) : 0;

	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if (ulen == 0 || ulen > 4 * CSR_RDN_MAX) {
		csr_why(why, whylen, "no authenticated user");
		return (-1);
	}
	if (X509_REQ_get_version(req) != X509_REQ_VERSION_1) {
		csr_why(why, whylen, "CSR version %ld is not 1",
		    X509_REQ_get_version(req) + 1);
		return (-1);
	}
	if ((key = X509_REQ_get0_pubkey(req)) == NULL) {
		csr_why(why, whylen, "CSR public key does not parse");
		return (-1);
	}
	/* The key first: a huge one would make the verification costly. */
	if (csr_check_key(key, pol, info, why, whylen) == -1 ||
	    csr_check_sig(req, key, why, whylen) == -1 ||
	    csr_check_subject(req, user, pol, why, whylen) == -1 ||
	    csr_check_exts(req, why, whylen) == -1)
		return (-1);
	ERR_clear_error();
	return (0);
}
