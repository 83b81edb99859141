/*
 * Unit tests for api/csr_body.c: a CSR made here with OpenSSL (P-256,
 * CN/O/OU) sent the ways clients send it (bare base64 on one line, wrapped
 * at 64 and 76 with LF or CRLF, PEM with either banner, blanks around)
 * comes out as its exact DER, which d2i_X509_REQ reads; every refusal
 * with its reason: empty, only blanks, over 16 KiB, other or unmatched
 * banners, PEM headers, characters outside base64, bad padding, raw DER,
 * and decoded bytes that are not one whole DER SEQUENCE (trailing bytes,
 * truncated, indefinite length, not a SEQUENCE).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "api/csr_body.h"
#include "tests/unit/unit.h"

static unsigned char	*csr_der;
static int		 csr_len;

static int
setup(void **state)
{
	EVP_PKEY	*k;
	X509_REQ	*req;
	X509_NAME	*n;

	(void)state;
	k = EVP_EC_gen("P-256");
	req = X509_REQ_new();
	n = X509_REQ_get_subject_name(req);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"alice", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)"TAK", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC,
	    (const unsigned char *)"Blue", -1, -1, 0);
	if (k == NULL || X509_REQ_set_pubkey(req, k) != 1 ||
	    X509_REQ_sign(req, k, EVP_sha256()) <= 0 ||
	    (csr_len = i2d_X509_REQ(req, &csr_der)) <= 0)
		fail_msg("cannot make a CSR");
	X509_REQ_free(req);
	EVP_PKEY_free(k);
	return (0);
}

static int
teardown(void **state)
{
	(void)state;
	OPENSSL_free(csr_der);
	return (0);
}

/* The base64 of der, a line break (eol) every width characters (0: none). */
static char *
b64(const unsigned char *der, int len, int width, const char *eol)
{
	char	*one, *out;
	int	 n, i, o = 0;

	one = calloc(1, 4 * (len / 3 + 2));
	n = EVP_EncodeBlock((unsigned char *)one, der, len);
	out = calloc(1, 2 * n + 16);
	assert_non_null(one);
	assert_non_null(out);
	for (i = 0; i < n; i++) {
		if (width > 0 && i > 0 && i % width == 0) {
			strcpy(out + o, eol);
			o += strlen(eol);
		}
		out[o++] = one[i];
	}
	free(one);
	return (out);
}

static void
decode_ok(const char *body, size_t len)
{
	unsigned char		 der[CSR_DER_MAX];
	const unsigned char	*p = der;
	size_t			 dl;
	const char		*why;
	X509_REQ		*req;

	if (csr_body_decode(body, len, der, sizeof(der), &dl, &why) != 0)
		fail_msg("refused (%s):\n%s", why, body);
	assert_int_equal(dl, csr_len);
	assert_memory_equal(der, csr_der, dl);
	assert_non_null(req = d2i_X509_REQ(NULL, &p, (long)dl));
	X509_REQ_free(req);
}

static void
refuse(const char *body, size_t len, const char *want)
{
	unsigned char	 der[CSR_DER_MAX];
	size_t		 dl = 99;
	const char	*why = NULL;

	if (csr_body_decode(body, len, der, sizeof(der), &dl, &why) == 0)
		fail_msg("taken, expected \"%s\":\n%.*s", want, (int)len,
		    body);
	assert_non_null(why);
	if (strstr(why, want) == NULL)
		fail_msg("\"%s\", expected \"%s\", for:\n%.*s", why, want,
		    (int)len, body);
	assert_int_equal(dl, 0);
}

/* fmt with its one "%s" replaced by a (no printf: the tests' bodies). */
static size_t
subst(char *body, size_t cap, const char *fmt, const char *a)
{
	const char	*at = strstr(fmt, "%s");
	size_t		 pre, al = strlen(a), post;

	assert_non_null(at);
	pre = (size_t)(at - fmt);
	post = strlen(at + 2);
	assert_true(pre + al + post < cap);
	memcpy(body, fmt, pre);
	memcpy(body + pre, a, al);
	memcpy(body + pre + al, at + 2, post + 1);
	return (pre + al + post);
}

static void
decode_fmt(const char *fmt, const char *a)
{
	char	 body[CSR_BODY_MAX + 1];

	decode_ok(body, subst(body, sizeof(body), fmt, a));
}

static void
refuse_fmt(const char *fmt, const char *a, const char *want)
{
	char	 body[CSR_BODY_MAX + 1];

	refuse(body, subst(body, sizeof(body), fmt, a), want);
}

static void
test_csr_body_forms(void **state)
{
	char	*one = b64(csr_der, csr_len, 0, ""), *w64, *w76, *crlf;

	(void)state;
	w64 = b64(csr_der, csr_len, 64, "\n");
	w76 = b64(csr_der, csr_len, 76, "\n");
	crlf = b64(csr_der, csr_len, 64, "\r\n");
	decode_fmt("%s", one);			/* ATAK */
	decode_fmt("%s\n", one);
	decode_fmt(" \t\r\n%s\r\n\r\n", one);
	decode_fmt("%s", w64);
	decode_fmt("%s", w76);
	decode_fmt("%s\r\n", crlf);
	decode_fmt("-----BEGIN CERTIFICATE REQUEST-----\n%s\n"
	    "-----END CERTIFICATE REQUEST-----\n", w64);	/* openssl req */
	decode_fmt("-----BEGIN NEW CERTIFICATE REQUEST-----\r\n%s\r\n"
	    "-----END NEW CERTIFICATE REQUEST-----\r\n", crlf);
	decode_fmt("-----BEGIN CERTIFICATE REQUEST-----%s"
	    "-----END CERTIFICATE REQUEST-----", one);
	decode_fmt("\n\n  -----BEGIN CERTIFICATE REQUEST-----\n\t%s \n"
	    "-----END CERTIFICATE REQUEST-----  \n\n", w76);
	free(one);
	free(w64);
	free(w76);
	free(crlf);
}

static void
test_csr_body_refused(void **state)
{
	char		*one = b64(csr_der, csr_len, 0, ""), *w64, *b;
	char		 big[CSR_BODY_MAX + 2];
	unsigned char	 buf[4096];
	size_t		 n = strlen(one);

	(void)state;
	w64 = b64(csr_der, csr_len, 64, "\n");
	refuse("", 0, "empty body");
	refuse(" \r\n\t", 4, "empty body");
	memset(big, ' ', sizeof(big));
	refuse(big, CSR_BODY_MAX + 1, "longer than 16384");
	memcpy(big, one, n);
	decode_ok(big, CSR_BODY_MAX);		/* blanks up to the cap */
	refuse_fmt("-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----"
	    "\n", w64, "something else");
	refuse_fmt("-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----",
	    w64, "something else");
	refuse_fmt("-----BEGIN CERTIFICATE REQUEST-----\n%s\n", w64,
	    "without its END");
	refuse_fmt("-----BEGIN NEW CERTIFICATE REQUEST-----\n%s\n"
	    "-----END CERTIFICATE REQUEST-----\n", w64, "without its END");
	refuse_fmt("%s\n-----END CERTIFICATE REQUEST-----\n", w64,
	    "outside base64");
	refuse_fmt("-----BEGIN CERTIFICATE REQUEST-----\n-----BEGIN "
	    "CERTIFICATE REQUEST-----\n%s\n-----END CERTIFICATE REQUEST-----\n"
	    "-----END CERTIFICATE REQUEST-----\n", w64, "outside base64");
	refuse_fmt("-----BEGIN CERTIFICATE REQUEST-----\nProc-Type: 4,"
	    "ENCRYPTED\n\n%s\n-----END CERTIFICATE REQUEST-----\n", w64,
	    "outside base64");
	refuse_fmt("%s*", one, "outside base64");
	refuse_fmt("\"%s\"", one, "outside base64");	/* a JSON string */
	refuse_fmt("csr=%s", one, "not padded right");
	refuse_fmt("csr:%s", one, "outside base64");
	refuse_fmt("%s\v", one, "outside base64");
	b = strdup(one);
	b[10] = '\0';
	refuse(b, n, "outside base64");
	b[10] = '=';
	refuse(b, n, "not padded right");
	free(b);
	refuse(one, n - 1, "not padded right");
	refuse(one, n - 4, "not one DER SEQUENCE");	/* truncated */
	refuse("====", 4, "not padded right");
	refuse("QQ==QQ==", 8, "not padded right");
	refuse((const char *)csr_der, (size_t)csr_len, "outside base64");
	refuse("aGVsbG8gd29ybGQ=", 16, "not one DER SEQUENCE");
	/* The CSR and one byte more. */
	memcpy(buf, csr_der, csr_len);
	buf[csr_len] = 0;
	b = b64(buf, csr_len + 1, 64, "\n");
	refuse(b, strlen(b), "not one DER SEQUENCE");
	free(b);
	/* An indefinite length (BER, not DER). */
	memcpy(buf, "\x30\x80\x02\x01\x01\x00\x00", 7);
	b = b64(buf, 7, 0, "");
	refuse(b, strlen(b), "not one DER SEQUENCE");
	free(b);
	/* A SET, and a length past the end. */
	b = b64((const unsigned char *)"\x31\x03\x02\x01\x01", 5, 0, "");
	refuse(b, strlen(b), "not one DER SEQUENCE");
	free(b);
	b = b64((const unsigned char *)"\x30\x84\x7f\xff\xff\xff\x02\x01", 8,
	    0, "");
	refuse(b, strlen(b), "not one DER SEQUENCE");
	free(b);
	free(one);
	free(w64);
}

/* The caller's buffer is checked, not assumed. */
static void
test_csr_body_room(void **state)
{
	char		*one = b64(csr_der, csr_len, 0, "");
	unsigned char	 der[16];
	size_t		 dl;
	const char	*why;

	(void)state;
	assert_int_equal(csr_body_decode(one, strlen(one), der, sizeof(der),
	    &dl, &why), -1);
	assert_contains(why, "no room");
	free(one);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csr_body_forms),
		cmocka_unit_test(test_csr_body_refused),
		cmocka_unit_test(test_csr_body_room),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
