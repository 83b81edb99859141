/*
 * The body of POST /Marti/api/tls/signClient[/v2]: a PKCS#10 CSR in
 * base64, with or without PEM banners, as TAK clients send it (ATAK: bare
 * base64 on one line; tools: PEM with "CERTIFICATE REQUEST" or the older
 * "NEW CERTIFICATE REQUEST"), turned into its DER bytes.  What the CSR
 * says (CN, O/OU, key) is shared/csr_check's business; this only extracts
 * the bytes and checks that they are one DER SEQUENCE and nothing more.
 *
 * Accepted: blanks, tabs, CR and LF anywhere around and inside the base64
 * (line-wrapped at any width, CRLF or LF); at most one pair of matching
 * BEGIN/END banners around it.  Refused with a reason: an empty or
 * oversized body, other banners or PEM headers, characters outside the
 * base64 alphabet, unpadded or mis-padded base64, bytes that are not one
 * whole DER SEQUENCE.
 */
#ifndef TAKD_API_CSR_BODY_H
#define TAKD_API_CSR_BODY_H

#include <stddef.h>

/*
 * 16 KiB of body: a CSR with an RSA 8192 key is about 1.4 KB of DER and
 * 2 KB of PEM; 16 KiB leaves room for extensions and generous wrapping,
 * and the HTTP layer refuses bigger bodies before they are read.
 */
#define CSR_BODY_MAX		16384
#define CSR_DER_MAX		(CSR_BODY_MAX / 4 * 3)

/*
 * Decode body (len bytes) into der (room for dercap bytes; CSR_DER_MAX is
 * always enough).  0 with *derlen set, or -1 with a static reason in *why
 * (answer 400).
 */
int	 csr_body_decode(const char *body, size_t len, unsigned char *der,
	    size_t dercap, size_t *derlen, const char **why);

#endif
