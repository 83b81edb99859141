/*
 * libFuzzer target for api/csr_body.c: the body of signClient, base64 or
 * PEM, to DER.
 *
 * Checked on every input:
 * - a refusal has a reason and a zero length;
 * - what is taken came from at most CSR_BODY_MAX bytes and is one whole
 *   DER SEQUENCE of at most CSR_DER_MAX bytes (read again with
 *   ASN1_get_object), which d2i_X509_REQ may then parse as csr_check does
 *   (its verdict is not ours to check, its memory safety is);
 * - its base64, in PEM banners when they fit, decodes to the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "api/csr_body.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_csr_body: %s\n", what);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char	 der[CSR_DER_MAX], again[CSR_DER_MAX];
	static char		 pem[2 * CSR_BODY_MAX];
	const unsigned char	*p;
	const char		*why;
	X509_REQ		*req;
	size_t			 dl, dl2;
	long			 olen;
	int			 tag, xclass, n, o;

	if (csr_body_decode((const char *)data, size, der, sizeof(der), &dl,
	    &why) == -1) {
		if (why == NULL || dl != 0)
			fz_fail("refused without a reason, or with a length");
		return (0);
	}
	if (size > CSR_BODY_MAX || dl == 0 || dl > CSR_DER_MAX)
		fz_fail("taken out of bounds");
	p = der;
	if (ASN1_get_object(&p, &olen, &tag, &xclass, (long)dl) !=
	    V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE ||
	    (size_t)(p - der) + (size_t)olen != dl)
		fz_fail("not one DER SEQUENCE");
	p = der;
	if ((req = d2i_X509_REQ(NULL, &p, (long)dl)) != NULL)
		X509_REQ_free(req);
	/* Banners only when they fit under the cap with the base64. */
	o = 0;
	if (4 * ((dl + 2) / 3) + 80 <= CSR_BODY_MAX)
		o = snprintf(pem, sizeof(pem),
		    "-----BEGIN CERTIFICATE REQUEST-----\n");
	n = EVP_EncodeBlock((unsigned char *)pem + o, der, (int)dl);
	if (o > 0)
		n += snprintf(pem + o + n, sizeof(pem) - (size_t)(o + n),
		    "\n-----END CERTIFICATE REQUEST-----\n");
	o += n;
	if (csr_body_decode(pem, (size_t)o, again, sizeof(again), &dl2,
	    &why) == -1 || dl2 != dl || memcmp(again, der, dl) != 0)
		fz_fail("the DER as PEM does not decode to itself");
	return (0);
}
