/*
 * Unit tests for shared/csr_check.c: the CSR an enrolling device sends,
 * made here with OpenSSL, accepted in every form a client posts (DER, PEM,
 * base64 with line breaks) and refused for every way it can break the
 * policy: another user's CN, an extra, missing, repeated, reordered or
 * multi-valued RDN, a wrong O or OU, weak or odd keys (RSA 1024, P-192,
 * secp256k1, Ed25519), a bad signature, a CA request, garbage, oversize
 * and non-canonical DER.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "shared/csr_check.h"
#include "unit.h"

static const struct csr_policy pol = { "TAK", "Field", CSR_KEYS_ALL };

/* One subject attribute: nid, value, and whether it joins the last RDN. */
struct rdn {
	int		 nid;
	const char	*value;
	int		 join;
};

static EVP_PKEY *p256, *p384, *rsa2048, *rsa1024, *p192, *k256, *ed;

static int
group_setup(void **state)
{
	p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	rsa2048 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	p192 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime192v1");
	k256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	return (p256 && p384 && rsa2048 && rsa1024 && p192 && k256 && ed ?
	    0 : -1);
}

static int
group_teardown(void **state)
{
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(rsa2048);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(p192);
	EVP_PKEY_free(k256);
	EVP_PKEY_free(ed);
	return (0);
}

/* A CSR as a device makes it; ext is an extension request or NULL. */
static X509_REQ *
make_req(EVP_PKEY *key, const struct rdn *rdn, size_t n, const char *ext)
{
	X509_REQ			*req;
	X509_NAME			*name;
	STACK_OF(X509_EXTENSION)	*exts = NULL;
	X509_EXTENSION			*xe;
	size_t				 i;

	req = X509_REQ_new();
	assert_non_null(req);
	assert_int_equal(X509_REQ_set_version(req, X509_REQ_VERSION_1), 1);
	name = X509_REQ_get_subject_name(req);
	for (i = 0; i < n; i++)
		assert_int_equal(X509_NAME_add_entry_by_NID(name, rdn[i].nid,
		    MBSTRING_UTF8, (const unsigned char *)rdn[i].value, -1,
		    -1, rdn[i].join ? -1 : 0), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
	if (ext != NULL) {
		exts = sk_X509_EXTENSION_new_null();
		xe = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints,
		    ext);
		if (xe == NULL)
			xe = X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage,
			    ext);
		assert_non_null(xe);
		sk_X509_EXTENSION_push(exts, xe);
		assert_int_equal(X509_REQ_add_extensions(req, exts), 1);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	assert_true(X509_REQ_sign(req, key, EVP_PKEY_get_base_id(key) ==
	    EVP_PKEY_ED25519 ? NULL : EVP_sha256()) > 0);
	return (req);
}

static size_t
req_der(X509_REQ *req, unsigned char **der)
{
	int	 n;

	*der = NULL;
	n = i2d_X509_REQ(req, der);
	assert_true(n > 0);
	return ((size_t)n);
}

/* Parse der as a client would post it and check it for user. */
static int
check_der(const unsigned char *der, size_t len, const char *user, char *why,
    size_t whylen)
{
	X509_REQ	*req;
	int		 rc;

	why[0] = '\0';
	if ((req = csr_parse(der, len, why, whylen)) == NULL)
		return (-1);
	rc = csr_check(req, user, &pol, NULL, why, whylen);
	X509_REQ_free(req);
	return (rc);
}

static int
check(X509_REQ *req, const char *user, char *why, size_t whylen)
{
	unsigned char	*der;
	size_t		 len = req_der(req, &der);
	int		 rc;

	rc = check_der(der, len, user, why, whylen);
	OPENSSL_free(der);
	X509_REQ_free(req);
	return (rc);
}

static const struct rdn good_rdn[] = {
	{ NID_commonName, "alice", 0 },
	{ NID_organizationName, "TAK", 0 },
	{ NID_organizationalUnitName, "Field", 0 },
};

static void
expect_refused(X509_REQ *req, const char *user, const char *needle)
{
	char	 why[CSR_REASON_MAX];

	if (check(req, user, why, sizeof(why)) == 0)
		fail_msg("accepted; expected a refusal with \"%s\"", needle);
	assert_contains(why, needle);
}

static void
test_accepts_keys(void **state)
{
	struct csr_info	 info;
	EVP_PKEY	*keys[] = { p256, p384, rsa2048 };
	const char	*names[] = { "EC P-256", "EC P-384", "RSA 2048" };
	char		 why[CSR_REASON_MAX];
	X509_REQ	*req;
	size_t		 i;

	for (i = 0; i < 3; i++) {
		req = make_req(keys[i], good_rdn, 3, NULL);
		if (csr_check(req, "alice", &pol, &info, why,
		    sizeof(why)) != 0)
			fail_msg("%s refused: %s", names[i], why);
		assert_string_equal(info.key, names[i]);
		X509_REQ_free(req);
	}
	/* The CN compares without ASCII case; a harmless extension passes. */
	req = make_req(p256, good_rdn, 3, "CA:FALSE");
	assert_int_equal(check(req, "ALICE", why, sizeof(why)), 0);
}

static void
test_accepts_forms(void **state)
{
	X509_REQ	*req = make_req(p256, good_rdn, 3, NULL);
	unsigned char	*der;
	size_t		 len = req_der(req, &der);
	char		 why[CSR_REASON_MAX], *b64, *lines;
	BIO		*bio;
	char		*pem;
	long		 plen;
	size_t		 i, o;
	int		 n;

	/* PEM, with blanks around it. */
	bio = BIO_new(BIO_s_mem());
	BIO_puts(bio, "\n  ");
	PEM_write_bio_X509_REQ(bio, req);
	BIO_puts(bio, "\r\n");
	plen = BIO_get_mem_data(bio, &pem);
	assert_int_equal(check_der((unsigned char *)pem, (size_t)plen,
	    "alice", why, sizeof(why)), 0);
	/* "NEW CERTIFICATE REQUEST" banners. */
	BIO_free(bio);
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_X509_REQ_NEW(bio, req);
	plen = BIO_get_mem_data(bio, &pem);
	assert_int_equal(check_der((unsigned char *)pem, (size_t)plen,
	    "alice", why, sizeof(why)), 0);
	BIO_free(bio);

	/* Base64 without banners, as ATAK posts it, whole and in lines. */
	b64 = malloc(len * 2 + 8);
	n = EVP_EncodeBlock((unsigned char *)b64, der, (int)len);
	assert_int_equal(check_der((unsigned char *)b64, (size_t)n, "alice",
	    why, sizeof(why)), 0);
	lines = malloc((size_t)n * 2 + 8);
	for (i = 0, o = 0; i < (size_t)n; i++) {
		lines[o++] = b64[i];
		if (i % 64 == 63)
			lines[o++] = '\n';
	}
	lines[o++] = '\r';
	lines[o++] = '\n';
	assert_int_equal(check_der((unsigned char *)lines, o, "alice", why,
	    sizeof(why)), 0);
	/* Garbage inside base64 is refused, not skipped. */
	lines[10] = '*';
	assert_int_equal(check_der((unsigned char *)lines, o, "alice", why,
	    sizeof(why)), -1);
	assert_contains(why, "base64");
	free(lines);
	free(b64);
	OPENSSL_free(der);
	X509_REQ_free(req);
}

static void
test_refuses_subject(void **state)
{
	const struct rdn other[] = {
		{ NID_commonName, "bob", 0 },
		{ NID_organizationName, "TAK", 0 },
		{ NID_organizationalUnitName, "Field", 0 },
	};
	const struct rdn extra[] = {
		{ NID_commonName, "alice", 0 },
		{ NID_organizationName, "TAK", 0 },
		{ NID_organizationalUnitName, "Field", 0 },
		{ NID_organizationalUnitName, "Admins", 0 },
	};
	const struct rdn extra_cn[] = {
		{ NID_commonName, "alice", 0 },
		{ NID_commonName, "admin", 0 },
		{ NID_organizationName, "TAK", 0 },
		{ NID_organizationalUnitName, "Field", 0 },
	};
	const struct rdn order[] = {
		{ NID_commonName, "alice", 0 },
		{ NID_organizationalUnitName, "Field", 0 },
		{ NID_organizationName, "TAK", 0 },
	};
	const struct rdn cn_last[] = {
		{ NID_organizationName, "TAK", 0 },
		{ NID_organizationalUnitName, "Field", 0 },
		{ NID_commonName, "alice", 0 },
	};
	const struct rdn multi[] = {
		{ NID_commonName, "alice", 0 },
		{ NID_organizationName, "TAK", 0 },
		{ NID_organizationalUnitName, "Field", 1 },
	};
	const struct rdn wrong_ou[] = {
		{ NID_commonName, "alice", 0 },
		{ NID_organizationName, "TAK", 0 },
		{ NID_organizationalUnitName, "Admins", 0 },
	};
	const struct rdn wrong_o[] = {
		{ NID_commonName, "alice", 0 },
		{ NID_organizationName, "tak", 0 },
		{ NID_organizationalUnitName, "Field", 0 },
	};
	const struct rdn prefix[] = {
		{ NID_commonName, "alicex", 0 },
		{ NID_organizationName, "TAK", 0 },
		{ NID_organizationalUnitName, "Field", 0 },
	};
	struct rdn hostile[] = {
		{ NID_commonName, "b\xc3\xb8" "b\"<x>", 0 },
		{ NID_organizationName, "TAK", 0 },
		{ NID_organizationalUnitName, "Field", 0 },
	};
	char	 why[CSR_REASON_MAX];

	expect_refused(make_req(p256, other, 3, NULL), "alice",
	    "CN \"bob\" is not the authenticated user \"alice\"");
	expect_refused(make_req(p256, prefix, 3, NULL), "alice",
	    "is not the authenticated user");
	expect_refused(make_req(p256, extra, 4, NULL), "alice",
	    "extra attribute OU");
	expect_refused(make_req(p256, extra_cn, 4, NULL), "alice",
	    "attribute 2 is CN, expected O");
	expect_refused(make_req(p256, good_rdn, 2, NULL), "alice",
	    "lacks OU \"Field\"");
	expect_refused(make_req(p256, good_rdn, 1, NULL), "alice",
	    "lacks O \"TAK\"");
	expect_refused(make_req(p256, order, 3, NULL), "alice",
	    "attribute 2 is OU, expected O");
	expect_refused(make_req(p256, cn_last, 3, NULL), "alice",
	    "attribute 1 is O, expected CN");
	expect_refused(make_req(p256, multi, 3, NULL), "alice",
	    "multi-valued RDN");
	expect_refused(make_req(p256, wrong_ou, 3, NULL), "alice",
	    "OU \"Admins\" is not the configured \"Field\"");
	expect_refused(make_req(p256, wrong_o, 3, NULL), "alice",
	    "O \"tak\" is not the configured \"TAK\"");
	/* What a client chose is shown escaped, never raw. */
	assert_int_equal(check(make_req(p256, hostile, 3, NULL), "alice", why,
	    sizeof(why)), -1);
	assert_contains(why, "CN \"b\\xc3\\xb8b\\x22<x>\" is not");
	/* A control character is no name at all. */
	hostile[0].value = "bob\nx";
	expect_refused(make_req(p256, hostile, 3, NULL), "alice",
	    "not a readable string");
	/* An empty subject. */
	expect_refused(make_req(p256, good_rdn, 0, NULL), "alice",
	    "lacks CN");
}

static void
test_policy_without_ou(void **state)
{
	const struct csr_policy	 only_o = { "TAK", "", 0 };
	const struct rdn	 two[] = {
		{ NID_commonName, "alice", 0 },
		{ NID_organizationName, "TAK", 0 },
	};
	X509_REQ		*req;
	char			 why[CSR_REASON_MAX];

	req = make_req(p256, two, 2, NULL);
	assert_int_equal(csr_check(req, "alice", &only_o, NULL, why,
	    sizeof(why)), 0);
	X509_REQ_free(req);
	/* The OU the policy does not have is an extra RDN. */
	req = make_req(p256, good_rdn, 3, NULL);
	assert_int_equal(csr_check(req, "alice", &only_o, NULL, why,
	    sizeof(why)), -1);
	assert_contains(why, "extra attribute OU");
	X509_REQ_free(req);
}

static void
test_refuses_keys(void **state)
{
	const struct csr_policy	 ec_only = { "TAK", "Field", CSR_KEY_EC_P256 };
	X509_REQ		*req;
	char			 why[CSR_REASON_MAX];

	expect_refused(make_req(rsa1024, good_rdn, 3, NULL), "alice",
	    "RSA key of 1024 bits");
	expect_refused(make_req(p192, good_rdn, 3, NULL), "alice",
	    "EC prime192v1 key not accepted");
	expect_refused(make_req(k256, good_rdn, 3, NULL), "alice",
	    "EC secp256k1 key not accepted");
	expect_refused(make_req(ed, good_rdn, 3, NULL), "alice",
	    "ED25519 key not accepted");
	req = make_req(p384, good_rdn, 3, NULL);
	assert_int_equal(csr_check(req, "alice", &ec_only, NULL, why,
	    sizeof(why)), -1);
	assert_contains(why, "EC P-384 key not accepted");
	X509_REQ_free(req);
}

static void
test_refuses_signature(void **state)
{
	X509_REQ	*req = make_req(p256, good_rdn, 3, NULL);
	EVP_PKEY	*other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	unsigned char	*der;
	size_t		 len;
	char		 why[CSR_REASON_MAX];

	/* Signed by another key than the one it carries. */
	assert_int_equal(X509_REQ_set_pubkey(req, other), 1);
	expect_refused(req, "alice", "signature does not verify");
	/* A flipped bit in the signature (the last bytes of the DER). */
	req = make_req(rsa2048, good_rdn, 3, NULL);
	len = req_der(req, &der);
	der[len - 5] ^= 0x01;
	assert_int_equal(check_der(der, len, "alice", why, sizeof(why)), -1);
	assert_contains(why, "signature does not verify");
	OPENSSL_free(der);
	X509_REQ_free(req);
	EVP_PKEY_free(other);
}

static void
test_refuses_ca(void **state)
{
	expect_refused(make_req(p256, good_rdn, 3, "critical,CA:TRUE"),
	    "alice", "asks for a CA certificate");
	expect_refused(make_req(p256, good_rdn, 3, "keyCertSign"), "alice",
	    "keyCertSign");
}

static void
test_refuses_garbage(void **state)
{
	X509_REQ	*req = make_req(p256, good_rdn, 3, NULL);
	unsigned char	*der, *big, *bad;
	size_t		 len = req_der(req, &der);
	char		 why[CSR_REASON_MAX];
	static const char *const junk[] = {
		"", "   \n", "hello world", "AAAA", "====",
		("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
		"-----END CERTIFICATE REQUEST-----\n"),
		"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"\x30\x03\x02\x01\x00",
	};
	size_t		 i;

	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		assert_null(csr_parse(junk[i], strlen(junk[i]), why,
		    sizeof(why)));
		assert_true(why[0] != '\0');
	}
	/* Oversize: refused by size before any parsing. */
	big = calloc(1, CSR_CHECK_INPUT_MAX + 1);
	memset(big, 'A', CSR_CHECK_INPUT_MAX + 1);
	assert_null(csr_parse(big, CSR_CHECK_INPUT_MAX + 1, why, sizeof(why)));
	assert_contains(why, "too large");
	free(big);
	/* Bytes after the DER, and a truncated DER. */
	bad = malloc(len + 1);
	memcpy(bad, der, len);
	bad[len] = 0;
	assert_null(csr_parse(bad, len + 1, why, sizeof(why)));
	assert_contains(why, "after the CSR");
	assert_null(csr_parse(bad, len - 1, why, sizeof(why)));
	/* Non-canonical DER: a long-form length where a short one fits. */
	assert_true(der[1] == 0x81 || der[1] == 0x82);
	free(bad);
	bad = malloc(len + 1);
	bad[0] = 0x30;
	if (der[1] == 0x81) {
		bad[1] = 0x82;
		bad[2] = 0x00;
		memcpy(bad + 3, der + 2, len - 2);
	} else {
		bad[1] = 0x83;
		bad[2] = 0x00;
		memcpy(bad + 3, der + 2, len - 2);
	}
	assert_null(csr_parse(bad, len + 1, why, sizeof(why)));
	free(bad);
	OPENSSL_free(der);
	X509_REQ_free(req);
}

static void
test_rdn_value_ok(void **state)
{
	char	 long65[66];

	assert_true(csr_rdn_value_ok(""));
	assert_true(csr_rdn_value_ok("TAK"));
	assert_true(csr_rdn_value_ok("\xc3\x89quipe 1"));
	assert_false(csr_rdn_value_ok("a\tb"));
	assert_false(csr_rdn_value_ok("\xc3"));
	memset(long65, 'x', 65);
	long65[65] = '\0';
	assert_false(csr_rdn_value_ok(long65));
	long65[64] = '\0';
	assert_true(csr_rdn_value_ok(long65));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_keys),
		cmocka_unit_test(test_accepts_forms),
		cmocka_unit_test(test_refuses_subject),
		cmocka_unit_test(test_policy_without_ou),
		cmocka_unit_test(test_refuses_keys),
		cmocka_unit_test(test_refuses_signature),
		cmocka_unit_test(test_refuses_ca),
		cmocka_unit_test(test_refuses_garbage),
		cmocka_unit_test(test_rdn_value_ok),
	};

	return (cmocka_run_group_tests(tests, group_setup, group_teardown));
}
