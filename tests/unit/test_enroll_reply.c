/*
 * Unit tests for api/enroll_reply.c, with a CA, an intermediate and a
 * client certificate made here with OpenSSL:
 * - the CA list: one CA given twice (ca0, ca1), longer chains as given;
 * - tls/config: the exact bytes of the official server's shape, values
 *   XML-escaped and read back by libxml2, validityDays, an empty OU left
 *   out, bad values refused;
 * - signClient v1: the PKCS#12 read by PKCS12_parse with "atakatak" (no
 *   key, the certificates in order, friendly names signedCert, ca0, ca1)
 *   and by `openssl pkcs12 -legacy -info` (SHA-1 MAC, PBE-SHA1-3DES), a
 *   wrong password refused;
 * - signClient/v2 JSON read by /usr/bin/python3's json (exact keys, the
 *   base64 back to the DER, 64-character lines) and XML by libxml2;
 * - refusals: no chain, too long a chain, a non-certificate, trailing
 *   bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "api/enroll_reply.h"
#include "tests/unit/unit.h"

/* The certificates: [0] client, [1] intermediate, [2] root. */
static unsigned char	*der[3];
static int		 derlen[3];
static struct enroll_der cert, chain1[1], chain2[2];

static X509 *
mkcert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, int ca,
    long serial)
{
	X509		*x = X509_new();
	X509_NAME	*n;
	X509_EXTENSION	*e;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : n);
	X509_set_pubkey(x, key);
	e = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "CA:FALSE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	if (X509_sign(x, ikey != NULL ? ikey : key, EVP_sha256()) <= 0)
		fail_msg("X509_sign");
	return (x);
}

static int
setup(void **state)
{
	EVP_PKEY	*k[3];
	X509		*x[3];
	int		 i;

	(void)state;
	for (i = 0; i < 3; i++)
		assert_non_null(k[i] = EVP_EC_gen("P-256"));
	x[2] = mkcert("takd test root", k[2], NULL, NULL, 1, 1);
	x[1] = mkcert("takd test intermediate", k[1], x[2], k[2], 1, 2);
	x[0] = mkcert("alice", k[0], x[1], k[1], 0, 3);
	for (i = 0; i < 3; i++) {
		der[i] = NULL;
		assert_true((derlen[i] = i2d_X509(x[i], &der[i])) > 0);
		X509_free(x[i]);
		EVP_PKEY_free(k[i]);
	}
	cert.der = der[0];
	cert.len = (size_t)derlen[0];
	chain1[0].der = der[2];
	chain1[0].len = (size_t)derlen[2];
	chain2[0].der = der[1];
	chain2[0].len = (size_t)derlen[1];
	chain2[1] = chain1[0];
	return (0);
}

static int
teardown(void **state)
{
	int	 i;

	(void)state;
	for (i = 0; i < 3; i++)
		OPENSSL_free(der[i]);
	return (0);
}

static void
test_enroll_cas(void **state)
{
	struct enroll_der	 out[ENROLL_CAS_MAX], many[ENROLL_CHAIN_MAX];
	size_t			 i;

	(void)state;
	assert_int_equal(enroll_reply_cas(chain1, 1, out), 2);
	assert_ptr_equal(out[0].der, der[2]);
	assert_ptr_equal(out[1].der, der[2]);
	assert_int_equal(enroll_reply_cas(chain2, 2, out), 2);
	assert_ptr_equal(out[0].der, der[1]);
	assert_ptr_equal(out[1].der, der[2]);
	for (i = 0; i < ENROLL_CHAIN_MAX; i++)
		many[i] = chain1[0];
	assert_int_equal(enroll_reply_cas(many, ENROLL_CHAIN_MAX, out),
	    ENROLL_CHAIN_MAX);
}

/* An attribute of the first element called name below node. */
static xmlNode *
xml_child(xmlNode *node, const char *name)
{
	xmlNode	*c;

	for (c = node->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)c->name, name) == 0)
			return (c);
	fail_msg("no <%s> in <%s>", name, (const char *)node->name);
	return (NULL);
}

static void
test_enroll_tls_config(void **state)
{
	static const char exact[] = "<?xml version=\"1.0\" encoding=\"UTF-8\" "
	    "standalone=\"yes\"?><ns2:certificateConfig "
	    "xmlns=\"http://bbn.com/marti/xml/config\" "
	    "xmlns:ns2=\"com.bbn.marti.config\"><nameEntries>"
	    "<nameEntry name=\"O\" value=\"TAK\"/>"
	    "<nameEntry name=\"OU\" value=\"Blue Team\"/>"
	    "</nameEntries></ns2:certificateConfig>";
	char		*x, err[256], big[ENROLL_NAME_MAX + 1];
	size_t		 len;
	xmlDoc		*doc;
	xmlNode		*root, *e;
	xmlChar		*v;

	(void)state;
	assert_int_equal(enroll_reply_tls_config("TAK", "Blue Team", 0, &x,
	    &len, err, sizeof(err)), 0);
	assert_string_equal(x, exact);
	assert_int_equal(len, strlen(exact));
	free(x);

	/* Escaped, and read back as written. */
	assert_int_equal(enroll_reply_tls_config("A&B <\"x'>", "caf\xc3\xa9",
	    30, &x, &len, err, sizeof(err)), 0);
	assert_contains(x, "value=\"A&amp;B &lt;&quot;x&apos;&gt;\"");
	assert_contains(x, "<ns2:certificateConfig validityDays=\"30\" ");
	doc = xmlReadMemory(x, (int)len, "config.xml", NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	root = xmlDocGetRootElement(doc);
	assert_string_equal((const char *)root->name, "certificateConfig");
	assert_string_equal((const char *)root->ns->href,
	    "com.bbn.marti.config");
	v = xmlGetProp(root, (const xmlChar *)"validityDays");
	assert_string_equal((const char *)v, "30");
	xmlFree(v);
	e = xml_child(xml_child(root, "nameEntries"), "nameEntry");
	assert_string_equal((const char *)e->ns->href,
	    "http://bbn.com/marti/xml/config");
	v = xmlGetProp(e, (const xmlChar *)"value");
	assert_string_equal((const char *)v, "A&B <\"x'>");
	xmlFree(v);
	for (e = e->next; e->type != XML_ELEMENT_NODE; e = e->next)
		;
	v = xmlGetProp(e, (const xmlChar *)"value");
	assert_string_equal((const char *)v, "caf\xc3\xa9");
	xmlFree(v);
	xmlFreeDoc(doc);
	free(x);

	/* No OU configured: no OU entry. */
	assert_int_equal(enroll_reply_tls_config("TAK", "", 0, &x, &len, err,
	    sizeof(err)), 0);
	assert_contains(x, "<nameEntries><nameEntry name=\"O\" value=\"TAK\"/>"
	    "</nameEntries>");
	free(x);
	assert_int_equal(enroll_reply_tls_config(NULL, NULL, 0, &x, &len,
	    err, sizeof(err)), 0);
	assert_contains(x, "<nameEntries></nameEntries>");
	free(x);

	assert_int_equal(enroll_reply_tls_config("a\nb", "x", 0, &x, &len,
	    err, sizeof(err)), -1);
	assert_null(x);
	assert_contains(err, "the O value is a control character");
	assert_int_equal(enroll_reply_tls_config("x", "\xff", 0, &x, &len,
	    err, sizeof(err)), -1);
	assert_contains(err, "the OU value is not UTF-8");
	assert_int_equal(enroll_reply_tls_config("x", "a\xc2\x9b", 0, &x,
	    &len, err, sizeof(err)), -1);
	assert_contains(err, "control character");
	memset(big, 'o', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(enroll_reply_tls_config(big, "x", 0, &x, &len, err,
	    sizeof(err)), -1);
	assert_contains(err, "longer than 255");
	big[sizeof(big) - 2] = '\0';
	assert_int_equal(enroll_reply_tls_config(big, "x", 0, &x, &len, err,
	    sizeof(err)), 0);
	free(x);
}

/* Write len bytes to a new temporary file; its path in path. */
static void
tmpfile_write(char *path, size_t pathlen, const char *suffix,
    const void *p, size_t len)
{
	FILE	*f;
	int	 fd;

	snprintf(path, pathlen, "/tmp/test_enroll_reply.XXXXXX%s", suffix);
	assert_true((fd = mkstemps(path, (int)strlen(suffix))) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* The output of a command, NUL-terminated; its exit status in *status. */
static char *
run(const char *cmd, int *status)
{
	FILE	*p;
	char	*out = calloc(1, 65536);
	size_t	 n;

	assert_non_null(out);
	assert_non_null(p = popen(cmd, "r"));
	n = fread(out, 1, 65535, p);
	out[n] = '\0';
	*status = pclose(p);
	return (out);
}

static void
check_p12(const unsigned char *p12der, size_t len, size_t nchain,
    const int *order)
{
	const unsigned char	*p = p12der;
	PKCS12			*p12;
	EVP_PKEY		*key = NULL;
	X509			*c = NULL;
	STACK_OF(X509)		*ca = NULL;
	const char		*names[] = { "signedCert", "ca0", "ca1", "ca2" };
	unsigned char		*d;
	size_t			 i;
	int			 dl;

	assert_non_null(p12 = d2i_PKCS12(NULL, &p, (long)len));
	assert_int_equal(PKCS12_verify_mac(p12, "wrong", -1), 0);
	assert_int_equal(PKCS12_parse(p12, "wrong", &key, &c, &ca), 0);
	assert_int_equal(PKCS12_parse(p12, ENROLL_P12_PASSWORD, &key, &c,
	    &ca), 1);
	assert_null(key);
	assert_null(c);
	assert_non_null(ca);
	assert_int_equal(sk_X509_num(ca), nchain + 1);
	for (i = 0; i <= nchain; i++) {
		d = NULL;
		dl = i2d_X509(sk_X509_value(ca, (int)i), &d);
		assert_int_equal(dl, derlen[order[i]]);
		assert_memory_equal(d, der[order[i]], dl);
		OPENSSL_free(d);
		assert_string_equal(X509_alias_get0(sk_X509_value(ca, (int)i),
		    NULL), names[i]);
	}
	sk_X509_pop_free(ca, X509_free);
	PKCS12_free(p12);
}

static void
test_enroll_p12(void **state)
{
	static const int	 one[] = { 0, 2, 2 }, two[] = { 0, 1, 2 };
	unsigned char		*p12;
	size_t			 len;
	char			 err[256], path[64], cmd[256], *out;
	int			 status;

	(void)state;
	assert_int_equal(enroll_reply_p12(&cert, chain1, 1, &p12, &len, err,
	    sizeof(err)), 0);
	check_p12(p12, len, 2, one);
	/* The openssl command, with the legacy provider as clients need. */
	tmpfile_write(path, sizeof(path), ".p12", p12, len);
	snprintf(cmd, sizeof(cmd), "openssl pkcs12 -legacy -info -nokeys "
	    "-in %s -passin pass:atakatak 2>&1", path);
	out = run(cmd, &status);
	if (status != 0)
		fail_msg("%s: status %d\n%s", cmd, status, out);
	assert_contains(out, "MAC: sha1");
	assert_contains(out, "PKCS7 Encrypted data: "
	    "pbeWithSHA1And3-KeyTripleDES-CBC");
	assert_contains(out, "friendlyName: signedCert");
	assert_contains(out, "friendlyName: ca0");
	assert_contains(out, "friendlyName: ca1");
	assert_contains(out, "subject=CN = alice");
	assert_null(strstr(out, "PRIVATE KEY"));
	assert_null(strstr(out, "Shrouded Keybag"));
	free(out);
	snprintf(cmd, sizeof(cmd), "openssl pkcs12 -legacy -info -nokeys "
	    "-in %s -passin pass:atakata 2>&1", path);
	free(run(cmd, &status));
	assert_int_not_equal(status, 0);
	unlink(path);
	free(p12);

	assert_int_equal(enroll_reply_p12(&cert, chain2, 2, &p12, &len, err,
	    sizeof(err)), 0);
	check_p12(p12, len, 2, two);
	free(p12);
}

/* /usr/bin/python3 reads the JSON and compares it with the DER files. */
static void
test_enroll_json(void **state)
{
	static const char script[] =
	    "import base64, json, sys\n"
	    "doc = json.load(open(sys.argv[1]))\n"
	    "want = [open(p, 'rb').read() for p in sys.argv[2:]]\n"
	    "keys = ['signedCert'] + ['ca%d' % i for i in range(len(want) - 1)]\n"
	    "assert list(doc) == keys, list(doc)\n"
	    "for k, w in zip(keys, want):\n"
	    "    lines = doc[k].split('\\n')\n"
	    "    assert all(len(l) == 64 for l in lines[:-1]), k\n"
	    "    assert 0 < len(lines[-1]) <= 64 or lines[-1] == '', k\n"
	    "    assert base64.b64decode(''.join(lines), validate=True) == w, k\n"
	    "print('ok', len(keys))\n";
	char	*j, err[256], js[64], py[64], d[3][64], cmd[512], *out;
	size_t	 len;
	int	 i, status;

	(void)state;
	assert_int_equal(enroll_reply_json(&cert, chain1, 1, &j, &len, err,
	    sizeof(err)), 0);
	assert_int_equal(strlen(j), len);
	assert_contains(j, "{\"signedCert\":\"");
	tmpfile_write(js, sizeof(js), ".json", j, len);
	tmpfile_write(py, sizeof(py), ".py", script, strlen(script));
	for (i = 0; i < 3; i++)
		tmpfile_write(d[i], sizeof(d[i]), ".der", der[i],
		    (size_t)derlen[i]);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s %s %s %s 2>&1", py,
	    js, d[0], d[2], d[2]);
	out = run(cmd, &status);
	if (status != 0)
		fail_msg("%s\n%s\n%s", cmd, out, j);
	assert_string_equal(out, "ok 3\n");
	free(out);
	free(j);
	unlink(js);

	assert_int_equal(enroll_reply_json(&cert, chain2, 2, &j, &len, err,
	    sizeof(err)), 0);
	tmpfile_write(js, sizeof(js), ".json", j, len);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s %s %s %s 2>&1", py,
	    js, d[0], d[1], d[2]);
	out = run(cmd, &status);
	if (status != 0)
		fail_msg("%s\n%s\n%s", cmd, out, j);
	assert_string_equal(out, "ok 3\n");
	free(out);
	free(j);
	unlink(js);
	unlink(py);
	for (i = 0; i < 3; i++)
		unlink(d[i]);
}

/* The text of node, base64 without line breaks, decoded. */
static void
xml_der_equal(xmlNode *node, int which)
{
	xmlChar		*t = xmlNodeGetContent(node);
	unsigned char	 buf[4096];
	char		 flat[4096];
	size_t		 i, o = 0;
	int		 n;

	for (i = 0; t[i] != '\0'; i++)
		if (t[i] != '\n')
			flat[o++] = (char)t[i];
	flat[o] = '\0';
	n = EVP_DecodeBlock(buf, (const unsigned char *)flat, (int)o);
	/* EVP_DecodeBlock counts the padding as bytes. */
	n -= (o > 0 && flat[o - 1] == '=') + (o > 1 && flat[o - 2] == '=');
	assert_int_equal(n, derlen[which]);
	assert_memory_equal(buf, der[which], n);
	xmlFree(t);
}

static void
test_enroll_xml(void **state)
{
	char	*x, err[256];
	size_t	 len;
	xmlDoc	*doc;
	xmlNode	*root, *c;
	int	 want[] = { 0, 2, 2 }, i = 0;

	(void)state;
	assert_int_equal(enroll_reply_xml(&cert, chain1, 1, &x, &len, err,
	    sizeof(err)), 0);
	assert_true(strncmp(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<enrollment><signedCert>", 62) == 0);
	assert_non_null(doc = xmlReadMemory(x, (int)len, "e.xml", NULL,
	    XML_PARSE_NONET));
	root = xmlDocGetRootElement(doc);
	assert_string_equal((const char *)root->name, "enrollment");
	for (c = root->children; c != NULL; c = c->next) {
		assert_int_equal(c->type, XML_ELEMENT_NODE);
		assert_string_equal((const char *)c->name,
		    i == 0 ? "signedCert" : "ca");
		xml_der_equal(c, want[i++]);
	}
	assert_int_equal(i, 3);
	xmlFreeDoc(doc);
	free(x);
}

static void
test_enroll_refused(void **state)
{
	struct enroll_der	 bad, many[ENROLL_CHAIN_MAX + 1];
	unsigned char		 longer[4096], *p12;
	char			*s, err[256];
	size_t			 len, i;

	(void)state;
	assert_int_equal(enroll_reply_json(&cert, chain1, 0, &s, &len, err,
	    sizeof(err)), -1);
	assert_null(s);
	assert_contains(err, "a chain of 0 CAs");
	for (i = 0; i <= ENROLL_CHAIN_MAX; i++)
		many[i] = chain1[0];
	assert_int_equal(enroll_reply_xml(&cert, many, ENROLL_CHAIN_MAX + 1,
	    &s, &len, err, sizeof(err)), -1);
	assert_contains(err, "a chain of 9 CAs");
	bad.der = (const unsigned char *)"\x30\x03\x02\x01\x01";
	bad.len = 5;
	assert_int_equal(enroll_reply_p12(&bad, chain1, 1, &p12, &len, err,
	    sizeof(err)), -1);
	assert_null(p12);
	assert_contains(err, "the issued certificate is not a DER");
	assert_int_equal(enroll_reply_json(&cert, &bad, 1, &s, &len, err,
	    sizeof(err)), -1);
	assert_contains(err, "CA 0 of the chain is not a DER");
	memcpy(longer, der[0], derlen[0]);
	longer[derlen[0]] = 0;
	bad.der = longer;
	bad.len = (size_t)derlen[0] + 1;
	assert_int_equal(enroll_reply_xml(&bad, chain1, 1, &s, &len, err,
	    sizeof(err)), -1);
	assert_contains(err, "bytes after the certificate");
	bad.len = 0;
	assert_int_equal(enroll_reply_json(&bad, chain1, 1, &s, &len, err,
	    sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enroll_cas),
		cmocka_unit_test(test_enroll_tls_config),
		cmocka_unit_test(test_enroll_p12),
		cmocka_unit_test(test_enroll_json),
		cmocka_unit_test(test_enroll_xml),
		cmocka_unit_test(test_enroll_refused),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
