/*
 * The CSR of a signClient body, base64 or PEM, to DER (csr_body.h).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>

#include "api/csr_body.h"

static const char *const csr_body_labels[] = {
	"CERTIFICATE REQUEST",
	"NEW CERTIFICATE REQUEST",
};

static bool
csr_body_space(unsigned char c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\n');
}

static bool
csr_body_b64(unsigned char c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/');
}

/*
 * If [*p, *end) starts with a BEGIN banner, require the matching END
 * banner at its end and narrow the span to what is between them.  0, or
 * -1 with *why.
 */
static int
csr_body_banners(const char **p, const char **end, const char **why)
{
	static const char	 begin[] = "-----BEGIN ", endb[] = "-----END ";
	static const char	 dashes[] = "-----";
	const char		*s = *p, *e = *end;
	size_t			 i, ll, bl = strlen(begin), el = strlen(endb);
	size_t			 dl = strlen(dashes);

	if ((size_t)(e - s) < dl || memcmp(s, dashes, dl) != 0)
		return (0);
	for (i = 0; i < sizeof(csr_body_labels) / sizeof(*csr_body_labels);
	    i++) {
		ll = strlen(csr_body_labels[i]);
		if ((size_t)(e - s) < bl + ll + dl ||
		    memcmp(s, begin, bl) != 0 ||
		    memcmp(s + bl, csr_body_labels[i], ll) != 0 ||
		    memcmp(s + bl + ll, dashes, dl) != 0)
			continue;
		s += bl + ll + dl;
		if ((size_t)(e - s) < el + ll + dl ||
		    memcmp(e - dl, dashes, dl) != 0 ||
		    memcmp(e - dl - ll, csr_body_labels[i], ll) != 0 ||
		    memcmp(e - dl - ll - el, endb, el) != 0) {
			*why = "PEM BEGIN banner without its END banner";
			return (-1);
		}
		*p = s;
		*end = e - dl - ll - el;
		return (0);
	}
	*why = "PEM banner of something else than a certificate request";
	return (-1);
}

int
csr_body_decode(const char *body, size_t len, unsigned char *der,
    size_t dercap, size_t *derlen, const char **why)
{
	EVP_ENCODE_CTX		*ctx = NULL;
	const char		*p = body, *end = body + len;
	const unsigned char	*d;
	char			*b64 = NULL;
	size_t			 n = 0, pad = 0, i;
	long			 olen;
	int			 outl = 0, fin = 0, tag, xclass, rc = -1;

	*why = NULL;
	*derlen = 0;
	if (len > CSR_BODY_MAX) {
		*why = "body longer than 16384 bytes";
		return (-1);
	}
	while (p < end && csr_body_space((unsigned char)*p))
		p++;
	while (end > p && csr_body_space((unsigned char)end[-1]))
		end--;
	if (p == end) {
		*why = "empty body";
		return (-1);
	}
	if (csr_body_banners(&p, &end, why) == -1)
		return (-1);
	if ((b64 = malloc((size_t)(end - p) + 1)) == NULL) {
		*why = "out of memory";
		return (-1);
	}
	/* The base64 without its blanks and line breaks. */
	for (; p < end; p++) {
		if (csr_body_space((unsigned char)*p))
			continue;
		if (!csr_body_b64((unsigned char)*p) && *p != '=') {
			*why = "character outside base64 in the body";
			goto done;
		}
		b64[n++] = *p;
	}
	if (n >= 1 && b64[n - 1] == '=')
		pad = n >= 2 && b64[n - 2] == '=' ? 2 : 1;
	for (i = 0; i < n - pad; i++)
		if (b64[i] == '=')
			break;
	if (n == 0 || n % 4 != 0 || i != n - pad) {
		*why = "base64 of the body not padded right";
		goto done;
	}
	if (n / 4 * 3 > dercap) {
		*why = "no room for the CSR";
		goto done;
	}
	if ((ctx = EVP_ENCODE_CTX_new()) == NULL) {
		*why = "out of memory";
		goto done;
	}
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, der, &outl, (unsigned char *)b64,
	    (int)n) < 0 || EVP_DecodeFinal(ctx, der + outl, &fin) != 1) {
		*why = "base64 of the body does not decode";
		goto done;
	}
	outl += fin;
	/* One SEQUENCE of definite length, and nothing after it. */
	d = der;
	if (ASN1_get_object(&d, &olen, &tag, &xclass, outl) !=
	    V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE || xclass != V_ASN1_UNIVERSAL ||
	    (size_t)(d - der) + (size_t)olen != (size_t)outl) {
		*why = "body is not one DER SEQUENCE";
		goto done;
	}
	*derlen = (size_t)outl;
	rc = 0;
 done:
	EVP_ENCODE_CTX_free(ctx);
	free(b64);
	return (rc);
}
