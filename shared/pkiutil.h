/*
 * The few PKI helpers takd itself needs (shared/pkiutil.c): the CA code
 * (pki/, linked into takctl only) builds on them, the daemon uses them to
 * read CRLs and certificates and to write their dates and reasons into logs
 * and JSON.
 */
#ifndef TAKD_PKIUTIL_H
#define TAKD_PKIUTIL_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

/* RFC 5280 CRLReason names ("keyCompromise"); parse returns -2 if unknown. */
const char *pki_reason_name(int reason);
int	 pki_reason_parse(const char *);
/*
 * Lenient, for imports: case, '_', '-' and blanks ignored, so that Python's
 * "key_compromise" and "ReasonFlags.key_compromise" are keyCompromise.
 */
int	 pki_reason_parse_loose(const char *);

/*
 * The CRLReason code of a CRL entry: CRL_REASON_NONE when it has none, -2
 * when the extension is unreadable or its value is negative or beyond int.
 * A code in range is returned as it is: pki_reason_name() tells if known.
 */
int	 pki_revoked_reason(const X509_REVOKED *);

/* An ASN1_TIME as time_t, 0 when unreadable. */
time_t	 pki_asn1_time(const ASN1_TIME *);

/* ISO-8601 UTC ("2026-11-23T08:00:00Z"); "-" when t cannot be written. */
void	 pki_time_format(time_t, char *buf, size_t len);

#endif
