/*
 * The policy for certificate signing requests made by enrolling devices
 * (issue 17, docs/security.md "The signer"): what the api process checks
 * before it asks the signer, and what the signer checks again before it
 * signs.  Pure functions over OpenSSL objects and buffers: no file, no
 * socket, no configuration file (the caller passes [api] cert_o and
 * cert_ou).
 *
 * A CSR is accepted only when:
 *  - it is canonical DER (or PEM, or base64 of DER without banners, as
 *    ATAK posts it) of at most CSR_CHECK_DER_MAX bytes, and version 1;
 *  - its public key is EC P-256 or P-384 (named curve, the point on the
 *    curve) or RSA of CSR_RSA_MIN_BITS to CSR_RSA_MAX_BITS bits with an odd
 *    public exponent of at least 65537, as the policy allows;
 *  - its signature verifies with that key (proof of possession), with a
 *    SHA-1 or SHA-2 digest (or RSASSA-PSS);
 *  - its subject is exactly CN, then O, then OU, one attribute per RDN,
 *    nothing more, nothing repeated: CN equal to the authenticated user
 *    (ASCII case-insensitive, other bytes exact), O and OU equal to the
 *    configured values (an empty value means that RDN must be absent);
 *  - it requests no CA powers: no basicConstraints CA:TRUE, no keyUsage
 *    keyCertSign or cRLSign, no nameConstraints, and every extension it
 *    requests is well-formed.  The issued profile ignores requested
 *    extensions anyway; these are refused because no honest phone asks
 *    for them.
 * Anything else is refused with a short reason fit for a 4xx body and a
 * log line (printable ASCII, values quoted and cut).
 */
#ifndef TAKD_CSR_CHECK_H
#define TAKD_CSR_CHECK_H

#include <stddef.h>

#include <openssl/x509.h>

/* Not CSR_DER_MAX: api/csr_body.h has that name (its own decoder's cap). */
#define CSR_CHECK_INPUT_MAX	16384	/* bytes of PEM or base64 */
#define CSR_CHECK_DER_MAX	8192	/* an RSA 8192 CSR is ~2.3 KB */
#define CSR_RDN_MAX		64	/* characters (ub-organization-name) */
#define CSR_REASON_MAX		192
#define CSR_RSA_MIN_BITS	2048
#define CSR_RSA_MAX_BITS	8192
#define CSR_ATTRS_MAX		16	/* CSR attributes of any kind */

/* Keys a policy accepts. */
#define CSR_KEY_EC_P256		0x1
#define CSR_KEY_EC_P384		0x2
#define CSR_KEY_RSA		0x4
#define CSR_KEYS_ALL		(CSR_KEY_EC_P256 | CSR_KEY_EC_P384 | \
				    CSR_KEY_RSA)

struct csr_policy {
	const char	*o;	/* [api] cert_o; NULL or "": no O RDN */
	const char	*ou;	/* [api] cert_ou; NULL or "": no OU RDN */
	unsigned	 keys;	/* CSR_KEY_*; 0 means CSR_KEYS_ALL */
};

/* What an accepted CSR holds, for the log line. */
struct csr_info {
	char		 key[32];	/* "EC P-256", "RSA 2048" */
};

/*
 * A CSR from what a client sent: DER, PEM ("CERTIFICATE REQUEST" or "NEW
 * CERTIFICATE REQUEST"), or base64 of DER without banners (line breaks and
 * blanks allowed), at most CSR_CHECK_INPUT_MAX bytes.  The DER must be
 * canonical (it encodes back to the same bytes) with nothing after it.
 * NULL with a reason in why.
 */
X509_REQ	*csr_parse(const void *buf, size_t len, char *why,
		    size_t whylen);
/* The same for DER only (what the api hands the signer). */
X509_REQ	*csr_parse_der(const unsigned char *der, size_t len, char *why,
		    size_t whylen);

/*
 * 0 when req meets the policy for user (the authenticated name, 1..63
 * bytes), with info filled (may be NULL); -1 with a reason in why.
 */
int		 csr_check(X509_REQ *req, const char *user,
		    const struct csr_policy *, struct csr_info *info,
		    char *why, size_t whylen);

/*
 * The key's kind as the log line names it ("EC P-256", "RSA 2048",
 * "ED25519"); "unknown" when it cannot be told.
 */
void		 csr_key_name(EVP_PKEY *, char *buf, size_t len);

/*
 * Whether v is usable as [api] cert_o / cert_ou: "" or 1..CSR_RDN_MAX
 * characters of UTF-8 without control characters.
 */
int		 csr_rdn_value_ok(const char *v);

#endif
