/*
 * The few PKI helpers the daemon shares with the CA code of pki/ (pkiutil.h):
 * CRL reason names, times as text and ASN.1 times as time_t, and the reason
 * of a CRL entry.  Nothing here signs or writes anything.
 */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "shared/pkiutil.h"

static const char *const pki_reasons[] = {
	"unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
	"superseded", "cessationOfOperation", "certificateHold", NULL,
	"removeFromCRL", "privilegeWithdrawn", "aACompromise"
};
#define PKI_NREASONS	(sizeof(pki_reasons) / sizeof(pki_reasons[0]))

const char *
pki_reason_name(int reason)
{
	if (reason < 0 || (size_t)reason >= PKI_NREASONS ||
	    pki_reasons[reason] == NULL)
		return (NULL);
	return (pki_reasons[reason]);
}

int
pki_reason_parse_loose(const char *s)
{
	char		 a[64], b[64];
	const char	*p;
	size_t		 i, n;

	if (strncmp(s, "ReasonFlags.", 12) == 0)	/* Python's str() */
		s += 12;
	for (n = 0, p = s; *p != '\0'; p++) {
		if (*p == '_' || *p == '-' || *p == ' ')
			continue;
		if (n == sizeof(a) - 1)
			return (-2);
		a[n++] = (char)tolower((unsigned char)*p);
	}
	a[n] = '\0';
	for (i = 0; i < PKI_NREASONS; i++) {
		if (pki_reasons[i] == NULL)
			continue;
		for (n = 0, p = pki_reasons[i]; *p != '\0'; p++)
			b[n++] = (char)tolower((unsigned char)*p);
		b[n] = '\0';
		if (strcmp(a, b) == 0)
			return ((int)i);
	}
	return (-2);
}

int
pki_reason_parse(const char *s)
{
	size_t	 i;

	for (i = 0; i < PKI_NREASONS; i++)
		if (pki_reasons[i] != NULL && strcmp(pki_reasons[i], s) == 0)
			return ((int)i);
	return (-2);
}

void
pki_time_format(time_t t, char *buf, size_t len)
{
	struct tm	 tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "-");
}

time_t
pki_asn1_time(const ASN1_TIME *t)
{
	struct tm	 tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return (0);
	return (timegm(&tm));
}

int
pki_revoked_reason(const X509_REVOKED *rev)
{
	ASN1_ENUMERATED	*re;
	int64_t		 v;
	int		 crit, reason = CRL_REASON_NONE;

	re = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, &crit, NULL);
	/*
	 * Exactly: a long cut to int turns 2^32 + 1 into keyCompromise, and
	 * ASN1_ENUMERATED_get() says -1, CRL_REASON_NONE, for "too large".
	 */
	if ((re == NULL && crit != -1) || (re != NULL &&
	    (!ASN1_ENUMERATED_get_int64(&v, re) || v < 0 || v > INT_MAX)))
		reason = -2;
	else if (re != NULL)
		reason = (int)v;
	ASN1_ENUMERATED_free(re);
	ERR_clear_error();
	return (reason);
}
