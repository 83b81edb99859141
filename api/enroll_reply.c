/*
 * The answers of the enrollment port (enroll_reply.h).
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "api/enroll_reply.h"
#include "shared/json.h"
#include "shared/utf8.h"

#define ENROLL_P12_ITER		2048	/* as pki/'s bundles */
#define ENROLL_B64_LINE		64

size_t
enroll_reply_cas(const struct enroll_der *chain, size_t n,
    struct enroll_der *out)
{
	size_t	 i;

	for (i = 0; i < n && i < ENROLL_CHAIN_MAX; i++)
		out[i] = chain[i];
	/* ca1 must exist for some iTAK builds: the one CA again. */
	if (i == 1)
		out[i++] = chain[0];
	return (i);
}

/* Whether der is one certificate and nothing else; its X509 if x. */
static int
enroll_cert_check(const struct enroll_der *d, X509 **x, const char *what,
    char *err, size_t errlen)
{
	const unsigned char	*p = d->der;
	X509			*c;

	if (d->der == NULL || d->len == 0 || d->len > LONG_MAX ||
	    (c = d2i_X509(NULL, &p, (long)d->len)) == NULL) {
		snprintf(err, errlen, "%s is not a DER certificate", what);
		return (-1);
	}
	if ((size_t)(p - d->der) != d->len) {
		X509_free(c);
		snprintf(err, errlen, "%s: bytes after the certificate", what);
		return (-1);
	}
	if (x != NULL)
		*x = c;
	else
		X509_free(c);
	return (0);
}

/* Check cert and chain, then list what to send (cert first). */
static int
enroll_inputs(const struct enroll_der *cert, const struct enroll_der *chain,
    size_t n, struct enroll_der *cas, size_t *ncas, char *err,
    size_t errlen)
{
	char	 what[32];
	size_t	 i;

	if (n < 1 || n > ENROLL_CHAIN_MAX) {
		snprintf(err, errlen, "a chain of %zu CAs (1 to %d)", n,
		    ENROLL_CHAIN_MAX);
		return (-1);
	}
	if (enroll_cert_check(cert, NULL, "the issued certificate", err,
	    errlen) == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "CA %zu of the chain", i);
		if (enroll_cert_check(&chain[i], NULL, what, err,
		    errlen) == -1)
			return (-1);
	}
	*ncas = enroll_reply_cas(chain, n, cas);
	return (0);
}

/*
 * The base64 of d, a '\n' after every 64 characters (after the last too
 * when it is a full line), as the official server's certToPEM(c, false).
 */
static char *
enroll_b64(const struct enroll_der *d)
{
	unsigned char	*one;
	char		*out;
	size_t		 n, i, o = 0;

	if ((one = malloc(4 * (d->len / 3 + 1) + 1)) == NULL)
		return (NULL);
	n = (size_t)EVP_EncodeBlock(one, d->der, (int)d->len);
	if ((out = malloc(n + n / ENROLL_B64_LINE + 1)) == NULL) {
		free(one);
		return (NULL);
	}
	for (i = 0; i < n; i++) {
		out[o++] = (char)one[i];
		if ((i + 1) % ENROLL_B64_LINE == 0)
			out[o++] = '\n';
	}
	out[o] = '\0';
	free(one);
	return (out);
}

/* Why an O or OU value cannot go into the XML, or NULL. */
static const char *
enroll_name_why(const char *s)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, n, len = strlen(s);
	uint32_t		 c;

	if (len >= ENROLL_NAME_MAX)
		return ("longer than 255 bytes");
	for (i = 0; i < len; i += n) {
		if ((n = utf8_decode(u + i, len - i, &c)) == 0)
			return ("not UTF-8");
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) ||
		    c == 0xfffe || c == 0xffff)
			return ("a control character");
	}
	return (NULL);
}

/* s as an XML attribute value, inside double quotes. */
static void
enroll_xml_attr(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* Close the memory stream f into *out and *len; -1 with err. */
static int
enroll_stream_done(FILE *f, char **out, size_t *len, char *err,
    size_t errlen)
{
	int	 bad = ferror(f);

	if (fclose(f) != 0 || bad) {
		free(*out);
		*out = NULL;
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	return (0);
}

int
enroll_reply_tls_config(const char *o, const char *ou, unsigned validity_days,
    char **out, size_t *len, char *err, size_t errlen)
{
	const char	*why, *names[2] = { "O", "OU" }, *vals[2];
	FILE		*f;
	int		 i;

	*out = NULL;
	*len = 0;
	vals[0] = o;
	vals[1] = ou;
	for (i = 0; i < 2; i++)
		if (vals[i] != NULL && (why = enroll_name_why(vals[i])) !=
		    NULL) {
			snprintf(err, errlen, "the %s value is %s", names[i],
			    why);
			return (-1);
		}
	if ((f = open_memstream(out, len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
	    "<ns2:certificateConfig", f);
	if (validity_days > 0)
		fprintf(f, " validityDays=\"%u\"", validity_days);
	fputs(" xmlns=\"http://bbn.com/marti/xml/config\""
	    " xmlns:ns2=\"com.bbn.marti.config\"><nameEntries>", f);
	for (i = 0; i < 2; i++) {
		if (vals[i] == NULL || vals[i][0] == '\0')
			continue;
		fprintf(f, "<nameEntry name=\"%s\" value=\"", names[i]);
		enroll_xml_attr(f, vals[i]);
		fputs("\"/>", f);
	}
	fputs("</nameEntries></ns2:certificateConfig>", f);
	return (enroll_stream_done(f, out, len, err, errlen));
}

int
enroll_reply_json(const struct enroll_der *cert,
    const struct enroll_der *chain, size_t n, char **out, size_t *len,
    char *err, size_t errlen)
{
	struct enroll_der	 cas[ENROLL_CAS_MAX];
	struct json		 j;
	char			 key[32], *b;
	size_t			 ncas, i;

	*out = NULL;
	*len = 0;
	if (enroll_inputs(cert, chain, n, cas, &ncas, err, errlen) == -1)
		return (-1);
	json_init(&j);
	json_obj_begin(&j);
	for (i = 0; i <= ncas; i++) {
		if ((b = enroll_b64(i == 0 ? cert : &cas[i - 1])) == NULL) {
			json_free(&j);
			snprintf(err, errlen, "out of memory");
			return (-1);
		}
		if (i == 0)
			snprintf(key, sizeof(key), "signedCert");
		else
			snprintf(key, sizeof(key), "ca%zu", i - 1);
		json_kv_str(&j, key, b);
		free(b);
	}
	json_obj_end(&j);
	if (j.err) {
		json_free(&j);
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	*out = j.buf;
	*len = j.len;
	return (0);
}

int
enroll_reply_xml(const struct enroll_der *cert,
    const struct enroll_der *chain, size_t n, char **out, size_t *len,
    char *err, size_t errlen)
{
	struct enroll_der	 cas[ENROLL_CAS_MAX];
	FILE			*f;
	char			*b;
	size_t			 ncas, i;

	*out = NULL;
	*len = 0;
	if (enroll_inputs(cert, chain, n, cas, &ncas, err, errlen) == -1)
		return (-1);
	if ((f = open_memstream(out, len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	/* base64 needs no escaping in XML text. */
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?><enrollment>", f);
	for (i = 0; i <= ncas; i++) {
		if ((b = enroll_b64(i == 0 ? cert : &cas[i - 1])) == NULL) {
			fclose(f);
			free(*out);
			*out = NULL;
			snprintf(err, errlen, "out of memory");
			return (-1);
		}
		fprintf(f, i == 0 ? "<signedCert>%s</signedCert>" :
		    "<ca>%s</ca>", b);
		free(b);
	}
	fputs("</enrollment>", f);
	return (enroll_stream_done(f, out, len, err, errlen));
}

int
enroll_reply_p12(const struct enroll_der *cert,
    const struct enroll_der *chain, size_t n, unsigned char **out,
    size_t *len, char *err, size_t errlen)
{
	struct enroll_der		 cas[ENROLL_CAS_MAX];
	STACK_OF(PKCS12_SAFEBAG)	*bags = NULL;
	STACK_OF(PKCS7)			*safes = NULL;
	PKCS12_SAFEBAG			*bag;
	PKCS12				*p12 = NULL;
	X509				*x = NULL;
	unsigned char			*der = NULL;
	char				 name[32];
	size_t				 ncas, i;
	int				 dl, rc = -1;

	*out = NULL;
	*len = 0;
	if (enroll_inputs(cert, chain, n, cas, &ncas, err, errlen) == -1)
		return (-1);
	/*
	 * What the official server's KeyStore.store() holds: one certificate
	 * bag per certificate, its friendly name the alias an Android
	 * keystore shows; encrypted with PBE-SHA1-3DES (in OpenSSL 3's
	 * default provider, unlike RC2) and a SHA-1 MAC, as pki/'s bundles.
	 */
	for (i = 0; i <= ncas; i++) {
		if (i == 0)
			snprintf(name, sizeof(name), "signedCert");
		else
			snprintf(name, sizeof(name), "ca%zu", i - 1);
		if (enroll_cert_check(i == 0 ? cert : &cas[i - 1], &x, name,
		    err, errlen) == -1)
			goto done;
		if ((bag = PKCS12_add_cert(&bags, x)) == NULL ||
		    !PKCS12_add_friendlyname(bag, name, -1))
			goto sslerr;
		X509_free(x);
		x = NULL;
	}
	if (PKCS12_add_safe(&safes, bags,
	    NID_pbe_WithSHA1And3_Key_TripleDES_CBC, ENROLL_P12_ITER,
	    ENROLL_P12_PASSWORD) == 0 ||
	    (p12 = PKCS12_add_safes(safes, 0)) == NULL ||
	    !PKCS12_set_mac(p12, ENROLL_P12_PASSWORD, -1, NULL, 0,
	    ENROLL_P12_ITER, EVP_sha1()) ||
	    (dl = i2d_PKCS12(p12, &der)) <= 0)
		goto sslerr;
	/* The caller frees with free(), as the other answers. */
	if ((*out = malloc((size_t)dl)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	memcpy(*out, der, (size_t)dl);
	*len = (size_t)dl;
	rc = 0;
	goto done;
 sslerr:
	snprintf(err, errlen, "cannot build the PKCS#12: %s",
	    ERR_reason_error_string(ERR_peek_last_error()) != NULL ?
	    ERR_reason_error_string(ERR_peek_last_error()) : "unknown");
	ERR_clear_error();
 done:
	X509_free(x);
	OPENSSL_free(der);
	PKCS12_free(p12);
	sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	return (rc);
}
