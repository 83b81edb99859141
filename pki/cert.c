/*
 * Certificates: the profiles (CA, server, client), random serials and
 * signing, and the small helpers every part of pki/ shares.  Split from
 * issue.c so that takd-signer links what signs a certificate and no more
 * (no libzip, no PKCS#12, no key generation).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "pki/pki.h"

#define PKI_BACKDATE		300	/* seconds of clock skew tolerated */
#define PKI_DAY			86400

/* err = message + ": " + the first OpenSSL error; clears the queue. */
void
pki_sslerr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list		 ap;
	unsigned long	 e;
	char		 why[256];
	int		 n;

	va_start(ap, fmt);
	n = vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if ((e = ERR_get_error()) != 0 && n >= 0 && (size_t)n < errlen) {
		ERR_error_string_n(e, why, sizeof(why));
		snprintf(err + n, errlen - (size_t)n, ": %s", why);
	}
	ERR_clear_error();
}

static ASN1_INTEGER *
pki_serial_new(void)
{
	unsigned char	 b[PKI_SERIAL_BYTES];
	ASN1_INTEGER	*ai = NULL;
	BIGNUM		*bn = NULL;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return (NULL);
	b[0] &= 0x7f;	/* positive in DER, at most 16 octets */
	b[sizeof(b) - 1] |= 0x01;	/* never zero */
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) != NULL)
		ai = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	return (ai);
}

void
pki_subject(const X509_NAME *name, char *buf, size_t len)
{
	BIO	*bio;
	char	*p;
	long	 n;

	buf[0] = '\0';
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return;
	/* RFC 2253 with UTF-8 kept; control characters are escaped. */
	if (X509_NAME_print_ex(bio, name, 0,
	    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		n = BIO_get_mem_data(bio, &p);
		if (n > 0)
			snprintf(buf, len, "%.*s", (int)n, p);
	}
	BIO_free(bio);
}

int
pki_entry_fill(struct pki_entry *e, enum pki_kind kind, const char *name,
    X509 *cert)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->status = PKI_STATUS_VALID;
	e->reason = CRL_REASON_NONE;
	snprintf(e->name, sizeof(e->name), "%s", name);
	pki_subject(X509_get_subject_name(cert), e->subject,
	    sizeof(e->subject));
	e->not_after = pki_asn1_time(X509_get0_notAfter(cert));
	return (pki_serial_hex(X509_get0_serialNumber(cert), e->serial,
	    sizeof(e->serial)));
}

struct pki_ext {
	int		 nid;
	const char	*value;
};

static const struct pki_ext pki_ext_ca[] = {
	{ NID_basic_constraints,	"critical,CA:TRUE" },
	{ NID_key_usage,		"critical,keyCertSign,cRLSign" },
	{ NID_subject_key_identifier,	"hash" },
	{ NID_authority_key_identifier,	"keyid:always" },
	{ NID_undef,			NULL }
};
static const struct pki_ext pki_ext_server[] = {
	{ NID_basic_constraints,	"critical,CA:FALSE" },
	{ NID_key_usage,		"critical,digitalSignature" },
	{ NID_ext_key_usage,		"serverAuth" },
	{ NID_subject_key_identifier,	"hash" },
	{ NID_authority_key_identifier,	"keyid:always" },
	{ NID_undef,			NULL }
};
static const struct pki_ext pki_ext_client[] = {
	{ NID_basic_constraints,	"critical,CA:FALSE" },
	{ NID_key_usage,		"critical,digitalSignature" },
	{ NID_ext_key_usage,		"clientAuth" },
	{ NID_subject_key_identifier,	"hash" },
	{ NID_authority_key_identifier,	"keyid:always" },
	{ NID_undef,			NULL }
};

static int
pki_cert_exts(X509 *x, X509 *issuer, enum pki_kind kind, bool rsa)
{
	const struct pki_ext	*ext;
	X509_EXTENSION		*xe;
	X509V3_CTX		 ctx;
	const char		*value;

	ext = kind == PKI_KIND_CA ? pki_ext_ca : kind == PKI_KIND_SERVER ?
	    pki_ext_server : pki_ext_client;
	memset(&ctx, 0, sizeof(ctx));
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	/* In order: the AKI of a self-signed CA is taken from its SKI. */
	for (; ext->nid != NID_undef; ext++) {
		value = ext->value;
		/* TLS 1.2 RSA key exchange encrypts to the server key. */
		if (ext->nid == NID_key_usage && kind == PKI_KIND_SERVER && rsa)
			value = "critical,digitalSignature,keyEncipherment";
		xe = X509V3_EXT_nconf_nid(NULL, &ctx, ext->nid, value);
		if (xe == NULL)
			return (-1);
		if (!X509_add_ext(x, xe, -1)) {
			X509_EXTENSION_free(xe);
			return (-1);
		}
		X509_EXTENSION_free(xe);
	}
	return (0);
}

X509 *
pki_cert_new(enum pki_kind kind, const char *cn, const X509_NAME *subject,
    unsigned days, GENERAL_NAMES *san, EVP_PKEY *key, X509 *ca,
    EVP_PKEY *cakey, bool *clamped, char *err, size_t errlen)
{
	X509		*x;
	X509_NAME	*name = NULL;
	ASN1_INTEGER	*serial = NULL;
	time_t		 now, end, ca_end;

	*clamped = false;
	now = time(NULL);
	end = now + (time_t)days * PKI_DAY;
	if (ca != NULL) {
		ca_end = pki_asn1_time(X509_get0_notAfter(ca));
		if (end > ca_end) {
			end = ca_end;
			*clamped = true;
		}
	}
	if ((x = X509_new()) == NULL ||
	    !X509_set_version(x, X509_VERSION_3) ||
	    (serial = pki_serial_new()) == NULL ||
	    !X509_set_serialNumber(x, serial) ||
	    (name = subject != NULL ? X509_NAME_dup(subject) :
	    X509_NAME_new()) == NULL ||
	    (subject == NULL && !X509_NAME_add_entry_by_txt(name, "CN",
	    MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0)) ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, ca != NULL ?
	    X509_get_subject_name(ca) : name) ||
	    ASN1_TIME_set(X509_getm_notBefore(x), now - PKI_BACKDATE) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), end) == NULL ||
	    !X509_set_pubkey(x, key)) {
		pki_sslerr(err, errlen, "cannot build the certificate");
		goto fail;
	}
	if (pki_cert_exts(x, ca != NULL ? ca : x, kind,
	    EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) == -1 ||
	    (san != NULL && !X509_add1_ext_i2d(x, NID_subject_alt_name, san,
	    0, X509V3_ADD_DEFAULT))) {
		pki_sslerr(err, errlen, "cannot add certificate extensions");
		goto fail;
	}
	if (X509_sign(x, ca != NULL ? cakey : key, EVP_sha256()) <= 0) {
		pki_sslerr(err, errlen, "cannot sign the certificate");
		goto fail;
	}
	ASN1_INTEGER_free(serial);
	X509_NAME_free(name);
	return (x);
 fail:
	ASN1_INTEGER_free(serial);
	X509_NAME_free(name);
	X509_free(x);
	return (NULL);
}
