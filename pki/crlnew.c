/*
 * Building a CRL from the index (pki.h, pki_crl_new): for takctl, and for
 * takd-signer, which links this file without the rest of issue.c (no
 * PKCS#12 or zip code in the key holder).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pki/pki.h"

#define PKI_DAY			86400

static int
pki_crl_add_revoked(X509_CRL *crl, const struct pki_entry *e, time_t now)
{
	X509_REVOKED	*rev;
	ASN1_INTEGER	*serial = NULL;
	ASN1_ENUMERATED	*reason = NULL;
	ASN1_TIME	*when = NULL;

	if ((rev = X509_REVOKED_new()) == NULL ||
	    (serial = pki_serial_asn1(e->serial)) == NULL ||
	    !X509_REVOKED_set_serialNumber(rev, serial) ||
	    (when = ASN1_TIME_set(NULL, e->revoked_at != 0 ? e->revoked_at :
	    now)) == NULL ||
	    !X509_REVOKED_set_revocationDate(rev, when))
		goto fail;
	if (e->reason != CRL_REASON_NONE &&
	    ((reason = ASN1_ENUMERATED_new()) == NULL ||
	    !ASN1_ENUMERATED_set(reason, e->reason) ||
	    !X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, 0)))
		goto fail;
	if (!X509_CRL_add0_revoked(crl, rev))
		goto fail;
	rev = NULL;
	ASN1_INTEGER_free(serial);
	ASN1_ENUMERATED_free(reason);
	ASN1_TIME_free(when);
	return (0);
 fail:
	X509_REVOKED_free(rev);
	ASN1_INTEGER_free(serial);
	ASN1_ENUMERATED_free(reason);
	ASN1_TIME_free(when);
	return (-1);
}

X509_CRL *
pki_crl_new(X509 *ca, EVP_PKEY *key, const struct pki_index *idx, long number,
    unsigned days, char *err, size_t errlen)
{
	X509_CRL	*crl;
	ASN1_TIME	*t = NULL;
	ASN1_INTEGER	*num = NULL;
	X509_EXTENSION	*aki = NULL;
	X509V3_CTX	 ctx;
	time_t		 now = time(NULL);
	size_t		 i;

	if (days < 1 || days > PKI_CRL_DAYS_MAX) {
		snprintf(err, errlen, "CRL lifetime must be 1..%d days, not %u",
		    PKI_CRL_DAYS_MAX, days);
		return (NULL);
	}
	if ((crl = X509_CRL_new()) == NULL ||
	    !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) ||
	    (t = ASN1_TIME_set(NULL, now)) == NULL ||
	    !X509_CRL_set1_lastUpdate(crl, t) ||
	    ASN1_TIME_set(t, now + (time_t)days * PKI_DAY) == NULL ||
	    !X509_CRL_set1_nextUpdate(crl, t))
		goto fail;
	for (i = 0; idx != NULL && i < idx->n; i++) {
		if (idx->v[i].kind == PKI_KIND_CA ||
		    idx->v[i].status != PKI_STATUS_REVOKED)
			continue;
		if (pki_crl_add_revoked(crl, &idx->v[i], now) == -1)
			goto fail;
	}
	if (!X509_CRL_sort(crl))
		goto fail;
	if ((num = ASN1_INTEGER_new()) == NULL ||
	    !ASN1_INTEGER_set_int64(num, number) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0))
		goto fail;
	memset(&ctx, 0, sizeof(ctx));
	X509V3_set_ctx(&ctx, ca, NULL, NULL, crl, 0);
	if ((aki = X509V3_EXT_nconf_nid(NULL, &ctx,
	    NID_authority_key_identifier, "keyid:always")) == NULL ||
	    !X509_CRL_add_ext(crl, aki, -1))
		goto fail;
	if (X509_CRL_sign(crl, key, EVP_sha256()) <= 0)
		goto fail;
	X509_EXTENSION_free(aki);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(t);
	return (crl);
 fail:
	pki_sslerr(err, errlen, "cannot build the CRL");
	X509_EXTENSION_free(aki);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return (NULL);
}

long
pki_crl_number(const X509_CRL *crl)
{
	ASN1_INTEGER	*num;
	int64_t		 v = 0;

	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	if (num == NULL || !ASN1_INTEGER_get_int64(&v, num) || v < 0)
		v = 0;
	ASN1_INTEGER_free(num);
	return ((long)v);
}
