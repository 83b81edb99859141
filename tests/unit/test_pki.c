/*
 * Unit tests for shared/pki*.c: a CA, a server and a client issued into a
 * mkdtemp directory and checked with OpenSSL itself (chain verification, CRL
 * signature, PKCS#12 algorithms), plus the index format, names, passwords,
 * no-overwrite and file modes; the ATAK data package read back with libzip
 * and libxml2; revocation, CRL renewal and the FreeTAKServer imports, checked
 * on the CRL that comes out.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>
#include <zip.h>

#include "pki/pki.h"
#include "shared/tlsctx.h"

static char	 root[64];	/* mkdtemp */
static char	 dir[128];	/* root/a/pki: init-ca creates the parents */
static char	 err[1024];

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return (remove(path));
}

static int
group_setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/test_pki.XXXXXX");
	if (mkdtemp(root) == NULL)
		return (-1);
	snprintf(dir, sizeof(dir), "%s/a/pki", root);
	return (0);
}

static int
group_teardown(void **state)
{
	return (nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS));
}

/* Each test that issues starts from an empty directory. */
static int
fresh(void **state)
{
	static const char *const subs[] = { "a", "other", "twin" };
	char	 a[128];
	size_t	 i;

	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		snprintf(a, sizeof(a), "%s/%s", root, subs[i]);
		if (access(a, F_OK) == 0 &&
		    nftw(a, rm_cb, 16, FTW_DEPTH | FTW_PHYS) == -1)
			return (-1);
	}
	return (0);
}

static X509 *
load_cert(const char *name)
{
	char	 path[256];
	FILE	*fp;
	X509	*x;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(fp = fopen(path, "r"));
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(x);
	return (x);
}

static X509_CRL *
load_crl(void)
{
	char		 path[256];
	FILE		*fp;
	X509_CRL	*crl;

	snprintf(path, sizeof(path), "%s/%s", dir, PKI_CRL);
	assert_non_null(fp = fopen(path, "r"));
	crl = PEM_read_X509_CRL(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(crl);
	return (crl);
}

static mode_t
file_mode(const char *name)
{
	char		 path[256];
	struct stat	 st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &st) == -1)
		return ((mode_t)-1);
	return (st.st_mode & 07777);
}

static char *
slurp(const char *name, size_t *len)
{
	char	 path[256];
	char	*buf;
	FILE	*fp;
	long	 n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(fp = fopen(path, "rb"));
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	assert_non_null(buf = malloc((size_t)n + 1));
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	if (len != NULL)
		*len = (size_t)n;
	return (buf);
}

/* No temporary file may survive an operation, failed or not. */
static void
assert_no_temp(const char *sub)
{
	char		 path[256];
	DIR		*d;
	struct dirent	*de;

	snprintf(path, sizeof(path), "%s%s%s", dir, sub ? "/" : "",
	    sub ? sub : "");
	assert_non_null(d = opendir(path));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_name[0] == '.')
			fail_msg("temporary file left: %s/%s", path,
			    de->d_name);
	}
	closedir(d);
}

/* CA + server + client with the defaults the integration tests use. */
static void
issue_all(const char *password)
{
	struct pki_req		 req;
	struct pki_result	 res;

	memset(&req, 0, sizeof(req));
	if (pki_init_ca(dir, &req, &res, err, sizeof(err)) == -1)
		fail_msg("init-ca: %s", err);
	req.cn = "localhost";
	if (pki_issue_server(dir, &req, &res, err, sizeof(err)) == -1)
		fail_msg("server: %s", err);
	memset(&req, 0, sizeof(req));
	req.password = password;
	if (pki_issue_client(dir, "alice", &req, &res, err,
	    sizeof(err)) == -1)
		fail_msg("client: %s", err);
}

static int
verify(X509 *ca, X509_CRL *crl, X509 *leaf, int purpose)
{
	X509_STORE	*store;
	X509_STORE_CTX	*ctx;
	int		 rc;

	assert_non_null(store = X509_STORE_new());
	assert_int_equal(X509_STORE_add_cert(store, ca), 1);
	if (crl != NULL) {
		assert_int_equal(X509_STORE_add_crl(store, crl), 1);
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	}
	X509_STORE_set_purpose(store, purpose);
	assert_non_null(ctx = X509_STORE_CTX_new());
	assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, NULL), 1);
	rc = X509_verify_cert(ctx) == 1 ? X509_V_OK :
	    X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return (rc);
}

static void
test_chain_verifies(void **state)
{
	X509			*ca, *srv, *cli;
	X509_CRL		*crl;
	BASIC_CONSTRAINTS	*bc;
	const ASN1_INTEGER	*serial;
	int			 crit;

	issue_all("s3cret");
	ca = load_cert(PKI_CA_CERT);
	srv = load_cert(PKI_SERVER_CERT);
	cli = load_cert("clients/alice.pem");
	crl = load_crl();

	assert_int_equal(verify(ca, crl, srv, X509_PURPOSE_SSL_SERVER),
	    X509_V_OK);
	assert_int_equal(verify(ca, crl, cli, X509_PURPOSE_SSL_CLIENT),
	    X509_V_OK);
	/* The EKUs are right, not just present. */
	assert_int_not_equal(verify(ca, crl, cli, X509_PURPOSE_SSL_SERVER),
	    X509_V_OK);
	assert_int_not_equal(verify(ca, crl, srv, X509_PURPOSE_SSL_CLIENT),
	    X509_V_OK);

	/* CA: critical CA:TRUE, keyCertSign|cRLSign, SKI and AKI. */
	bc = X509_get_ext_d2i(ca, NID_basic_constraints, &crit, NULL);
	assert_non_null(bc);
	assert_true(bc->ca);
	assert_int_equal(crit, 1);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_equal(X509_get_key_usage(ca),
	    KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_non_null(X509_get0_subject_key_id(ca));
	assert_non_null(X509_get0_authority_key_id(ca));
	assert_int_equal(X509_get_signature_nid(ca), NID_ecdsa_with_SHA256);
	assert_int_equal(EVP_PKEY_get_base_id(X509_get0_pubkey(ca)),
	    EVP_PKEY_EC);

	/* Serial: positive, at most 16 octets. */
	serial = X509_get0_serialNumber(cli);
	assert_int_equal(ASN1_STRING_type(serial), V_ASN1_INTEGER);
	assert_true(ASN1_STRING_length(serial) <= PKI_SERIAL_BYTES);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(ca),
	    serial), 0);

	assert_int_equal(X509_get_key_usage(cli), KU_DIGITAL_SIGNATURE);
	assert_int_equal(X509_get_key_usage(srv), KU_DIGITAL_SIGNATURE);
	assert_int_equal(X509_check_host(srv, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(srv, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(srv, "::1", 0), 1);
	assert_int_equal(X509_check_host(srv, "example.org", 0, 0, NULL), 0);

	X509_CRL_free(crl);
	X509_free(cli);
	X509_free(srv);
	X509_free(ca);
	assert_no_temp(NULL);
	assert_no_temp(PKI_CLIENT_DIR);
}

static void
test_crl(void **state)
{
	X509			*ca, *cli;
	X509_CRL		*crl;
	X509_REVOKED		*rev;
	EVP_PKEY		*cakey;
	struct pki_index	 idx;
	struct pki_entry	 e;
	ASN1_ENUMERATED		*reason;
	time_t			 next, now = time(NULL);
	STACK_OF(X509_REVOKED)	*list;

	issue_all("s3cret");
	ca = load_cert(PKI_CA_CERT);
	cli = load_cert("clients/alice.pem");
	crl = load_crl();

	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ca)), 1);
	assert_int_equal(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
	assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(ca)), 0);
	list = X509_CRL_get_REVOKED(crl);
	assert_int_equal(list == NULL ? 0 : sk_X509_REVOKED_num(list), 0);
	assert_int_equal(pki_crl_number(crl), 1);
	next = pki_asn1_time(X509_CRL_get0_nextUpdate(crl));
	assert_true(next >= now + 30 * 86400 - 60 &&
	    next <= now + 30 * 86400 + 60);
	assert_true(pki_asn1_time(X509_CRL_get0_lastUpdate(crl)) <= now + 1);
	assert_true(X509_CRL_get_ext_by_NID(crl, NID_authority_key_identifier,
	    -1) >= 0);
	X509_CRL_free(crl);

	/* A CRL built from an index with alice revoked rejects alice. */
	X509_free(ca);
	assert_int_equal(pki_ca_load(dir, &ca, &cakey, err, sizeof(err)), 0);
	assert_int_equal(pki_index_load(dir, &idx, err, sizeof(err)), 0);
	assert_int_equal(idx.n, 3);
	e = idx.v[2];
	assert_int_equal(e.kind, PKI_KIND_CLIENT);
	idx.v[2].status = PKI_STATUS_REVOKED;
	idx.v[2].revoked_at = now - 10;
	idx.v[2].reason = CRL_REASON_KEY_COMPROMISE;
	/* A "revoked" CA line is never put on its own CRL. */
	idx.v[0].status = PKI_STATUS_REVOKED;
	crl = pki_crl_new(ca, cakey, &idx, 7, 2, err, sizeof(err));
	assert_non_null(crl);
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ca)), 1);
	assert_int_equal(pki_crl_number(crl), 7);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 1);
	assert_int_equal(X509_CRL_get0_by_cert(crl, &rev, cli), 1);
	reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
	assert_non_null(reason);
	assert_int_equal(ASN1_ENUMERATED_get(reason),
	    CRL_REASON_KEY_COMPROMISE);
	ASN1_ENUMERATED_free(reason);
	assert_int_equal(pki_asn1_time(X509_REVOKED_get0_revocationDate(rev)),
	    now - 10);
	assert_int_equal(verify(ca, crl, cli, X509_PURPOSE_SSL_CLIENT),
	    X509_V_ERR_CERT_REVOKED);
	assert_null(pki_crl_new(ca, cakey, NULL, 1, 0, err, sizeof(err)));

	pki_index_free(&idx);
	X509_CRL_free(crl);
	EVP_PKEY_free(cakey);
	X509_free(cli);
	X509_free(ca);
}

/* The algorithm of an encrypted PKCS#7 or of a shrouded key bag. */
static int
p12_alg_nid(const X509_ALGOR *alg)
{
	const ASN1_OBJECT	*obj;

	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	return (OBJ_obj2nid(obj));
}

static void
test_p12(void **state)
{
	PKCS12			*p12;
	EVP_PKEY		*key = NULL;
	X509			*cert = NULL, *ca;
	STACK_OF(X509)		*chain = NULL;
	STACK_OF(PKCS7)		*safes;
	STACK_OF(PKCS12_SAFEBAG) *bags;
	const PKCS12_SAFEBAG	*bag;
	const X509_ALGOR	*macalg;
	const ASN1_INTEGER	*iter;
	const X509_ALGOR	*alg;
	char			*der;
	const unsigned char	*p, *alias;
	size_t			 len;
	int			 i, j, alen, n_enc = 0, n_key = 0;

	issue_all("s3cret");
	der = slurp("clients/alice.p12", &len);
	p = (const unsigned char *)der;
	assert_non_null(p12 = d2i_PKCS12(NULL, &p, (long)len));
	free(der);

	assert_int_equal(PKCS12_verify_mac(p12, "wrong", -1), 0);
	assert_int_equal(PKCS12_verify_mac(p12, "s3cret", -1), 1);
	assert_int_equal(PKCS12_parse(p12, "s3cret", &key, &cert, &chain), 1);
	assert_non_null(key);
	assert_non_null(cert);
	assert_int_equal(X509_check_private_key(cert, key), 1);
	assert_int_equal(sk_X509_num(chain), 1);
	ca = load_cert(PKI_CA_CERT);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 0), ca), 0);
	assert_int_equal(X509_check_issued(ca, cert), X509_V_OK);
	alias = X509_alias_get0(cert, &alen);
	assert_non_null(alias);
	assert_int_equal(alen, 5);
	assert_memory_equal(alias, "alice", 5);

	/* SHA-1 MAC, 2048 iterations. */
	assert_int_equal(PKCS12_mac_present(p12), 1);
	PKCS12_get0_mac(NULL, &macalg, NULL, &iter, p12);
	assert_int_equal(p12_alg_nid(macalg), NID_sha1);
	assert_int_equal(ASN1_INTEGER_get(iter), PKI_P12_ITER);

	/* PBE-SHA1-3DES for the certificates and for the key. */
	assert_non_null(safes = PKCS12_unpack_authsafes(p12));
	for (i = 0; i < sk_PKCS7_num(safes); i++) {
		PKCS7 *p7 = sk_PKCS7_value(safes, i);

		if (OBJ_obj2nid(p7->type) == NID_pkcs7_encrypted) {
			alg = p7->d.encrypted->enc_data->algorithm;
			assert_int_equal(p12_alg_nid(alg),
			    NID_pbe_WithSHA1And3_Key_TripleDES_CBC);
			n_enc++;
			continue;
		}
		assert_int_equal(OBJ_obj2nid(p7->type), NID_pkcs7_data);
		assert_non_null(bags = PKCS12_unpack_p7data(p7));
		for (j = 0; j < sk_PKCS12_SAFEBAG_num(bags); j++) {
			bag = sk_PKCS12_SAFEBAG_value(bags, j);
			assert_int_equal(PKCS12_SAFEBAG_get_nid(bag),
			    NID_pkcs8ShroudedKeyBag);
			X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &alg,
			    NULL);
			assert_int_equal(p12_alg_nid(alg),
			    NID_pbe_WithSHA1And3_Key_TripleDES_CBC);
			n_key++;
		}
		sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	}
	assert_int_equal(n_enc, 1);
	assert_int_equal(n_key, 1);
	sk_PKCS7_pop_free(safes, PKCS7_free);

	sk_X509_pop_free(chain, X509_free);
	X509_free(cert);
	X509_free(ca);
	EVP_PKEY_free(key);
	PKCS12_free(p12);
}

static void
test_modes(void **state)
{
	mode_t		 old;

	/* Modes must not depend on the umask: 077 would strip the 0644s. */
	old = umask(077);
	issue_all(NULL);
	umask(old);
	assert_int_equal(file_mode(PKI_CA_KEY), 0600);
	assert_int_equal(file_mode(PKI_CA_CERT), 0644);
	assert_int_equal(file_mode(PKI_CRL), 0644);
	assert_int_equal(file_mode(PKI_INDEX), 0600);
	assert_int_equal(file_mode(PKI_SERVER_KEY), 0600);
	assert_int_equal(file_mode(PKI_SERVER_CERT), 0644);
	assert_int_equal(file_mode("clients/alice.key"), 0600);
	assert_int_equal(file_mode("clients/alice.pem"), 0644);
	assert_int_equal(file_mode("clients/alice.p12"), 0600);
	assert_int_equal(file_mode("clients/alice.p12.password"), 0600);
	assert_int_equal(file_mode(""), 0711);
	assert_int_equal(file_mode(PKI_CLIENT_DIR), 0700);

	/* And with no umask at all, keys stay private. */
	assert_int_equal(fresh(state), 0);
	old = umask(0);
	issue_all("x");
	umask(old);
	assert_int_equal(file_mode(PKI_CA_KEY), 0600);
	assert_int_equal(file_mode("clients/alice.p12"), 0600);
}

static void
test_generated_password(void **state)
{
	struct pki_req		 req;
	struct pki_result	 res;
	PKCS12			*p12;
	char			*file, *der;
	const unsigned char	*p;
	size_t			 len, i;

	issue_all("first");
	memset(&req, 0, sizeof(req));
	assert_int_equal(pki_issue_client(dir, "bob", &req, &res, err,
	    sizeof(err)), 0);
	assert_true(res.password_generated);
	assert_int_equal(strlen(res.password), PKI_PASSWORD_LEN);
	for (i = 0; i < PKI_PASSWORD_LEN; i++)
		assert_null(strchr("0O1lI", res.password[i]));
	file = slurp("clients/bob.p12.password", NULL);
	assert_int_equal(strncmp(file, res.password, PKI_PASSWORD_LEN), 0);
	assert_string_equal(file + PKI_PASSWORD_LEN, "\n");
	free(file);
	der = slurp("clients/bob.p12", &len);
	p = (const unsigned char *)der;
	assert_non_null(p12 = d2i_PKCS12(NULL, &p, (long)len));
	assert_int_equal(PKCS12_verify_mac(p12, res.password, -1), 1);
	PKCS12_free(p12);
	free(der);

	/* Reissued with a given password: the old password file goes. */
	req.password = "given";
	req.force = true;
	assert_int_equal(pki_issue_client(dir, "bob", &req, &res, err,
	    sizeof(err)), 0);
	assert_false(res.password_generated);
	assert_int_equal(file_mode("clients/bob.p12.password"), (mode_t)-1);
}

static void
test_no_overwrite(void **state)
{
	struct pki_req		 req;
	struct pki_result	 res;
	struct pki_index	 idx;
	char			*before, *after;

	issue_all("pw");
	before = slurp(PKI_CA_KEY, NULL);
	memset(&req, 0, sizeof(req));
	assert_int_equal(pki_init_ca(dir, &req, &res, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ca.key exists; use --force to replace "
	    "it"));
	after = slurp(PKI_CA_KEY, NULL);
	assert_string_equal(before, after);
	free(after);

	req.cn = "localhost";
	assert_int_equal(pki_issue_server(dir, &req, &res, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "server.key exists"));
	req.cn = NULL;
	req.password = "pw";
	assert_int_equal(pki_issue_client(dir, "alice", &req, &res, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "clients/alice.key exists"));
	assert_no_temp(NULL);
	assert_no_temp(PKI_CLIENT_DIR);
	assert_int_equal(pki_index_load(dir, &idx, err, sizeof(err)), 0);
	assert_int_equal(idx.n, 3);	/* nothing was added */
	pki_index_free(&idx);

	/* --force: a new CA, a new index, the old one kept. */
	req.force = true;
	assert_int_equal(pki_init_ca(dir, &req, &res, err, sizeof(err)), 0);
	assert_true(res.stale_leaves);
	after = slurp(PKI_CA_KEY, NULL);
	assert_string_not_equal(before, after);
	free(after);
	free(before);
	assert_int_equal(pki_index_load(dir, &idx, err, sizeof(err)), 0);
	assert_int_equal(idx.n, 1);
	assert_int_equal(idx.v[0].kind, PKI_KIND_CA);
	assert_string_equal(idx.v[0].serial, res.serial);
	pki_index_free(&idx);
	assert_int_equal(file_mode(PKI_INDEX_OLD), 0600);
}

static void
test_errors(void **state)
{
	struct pki_req		 req;
	struct pki_result	 res;
	int			 fd;
	char			 path[256];

	memset(&req, 0, sizeof(req));
	/* No CA yet. */
	assert_int_equal(pki_issue_server(dir, &req, &res, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "init-ca"));
	assert_int_equal(pki_init_ca(dir, &req, &res, err, sizeof(err)), 0);

	req.san[0] = "URI:http://x";
	req.n_san = 1;
	assert_int_equal(pki_issue_server(dir, &req, &res, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "URI:http://x"));
	req.san[0] = "DNS:a..b";
	assert_int_equal(pki_issue_server(dir, &req, &res, err,
	    sizeof(err)), -1);
	req.n_san = 0;
	req.cn = "no spaces";
	assert_int_equal(pki_issue_server(dir, &req, &res, err,
	    sizeof(err)), -1);
	req.cn = "a\tb";
	assert_int_equal(pki_init_ca(dir, &req, &res, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "control character"));
	req.cn = NULL;
	req.days = PKI_DAYS_MAX + 1;
	assert_int_equal(pki_issue_client(dir, "x", &req, &res, err,
	    sizeof(err)), -1);
	req.days = 0;
	req.password = "";
	assert_int_equal(pki_issue_client(dir, "x", &req, &res, err,
	    sizeof(err)), -1);
	assert_null(pki_key_new(PKI_KEY_RSA, 1024, err, sizeof(err)));

	/* A damaged index is reported with its line, and not appended to. */
	snprintf(path, sizeof(path), "%s/%s", dir, PKI_INDEX);
	assert_true((fd = open(path, O_WRONLY | O_APPEND)) != -1);
	assert_int_equal(write(fd, "bogus\n", 6), 6);
	close(fd);
	req.password = "pw";
	assert_int_equal(pki_issue_client(dir, "x", &req, &res, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "index.txt: line 2:"));
	assert_int_equal(file_mode("clients/x.pem"), (mode_t)-1);
	assert_no_temp(NULL);
	assert_int_equal(truncate(path, 0), 0);

	/* A rename that fails midway leaves no temporary file behind. */
	snprintf(path, sizeof(path), "%s/clients/y.pem", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/clients/y.pem/keep", dir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) != -1);
	close(fd);
	req.force = true;
	assert_int_equal(pki_issue_client(dir, "y", &req, &res, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "clients/y.pem: rename"));
	assert_no_temp(NULL);
	assert_no_temp(PKI_CLIENT_DIR);
}

static void
test_server_options(void **state)
{
	struct pki_req		 req;
	struct pki_result	 res;
	X509			*srv;
	GENERAL_NAMES		*gens;

	memset(&req, 0, sizeof(req));
	req.keytype = PKI_KEY_RSA;
	req.rsa_bits = 2048;
	req.days = 30;
	assert_int_equal(pki_init_ca(dir, &req, &res, err, sizeof(err)), 0);
	memset(&req, 0, sizeof(req));
	req.cn = "10.0.0.7";
	req.san[0] = "DNS:tak.example.org";
	req.san[1] = "IP:10.0.0.7";	/* a duplicate of the CN */
	req.n_san = 2;
	assert_int_equal(pki_issue_server(dir, &req, &res, err,
	    sizeof(err)), 0);
	/* Asked for 825 days, cut to the CA's 30. */
	assert_true(res.clamped);
	srv = load_cert(PKI_SERVER_CERT);
	assert_int_equal(EVP_PKEY_get_base_id(X509_get0_pubkey(srv)),
	    EVP_PKEY_RSA);
	assert_int_equal(X509_get_key_usage(srv),
	    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	assert_int_equal(X509_check_ip_asc(srv, "10.0.0.7", 0), 1);
	assert_int_equal(X509_check_host(srv, "tak.example.org", 0, 0, NULL),
	    1);
	/* CN, the --san name, localhost, 127.0.0.1, ::1: no duplicate. */
	assert_non_null(gens = X509_get_ext_d2i(srv, NID_subject_alt_name,
	    NULL, NULL));
	assert_int_equal(sk_GENERAL_NAME_num(gens), 5);
	GENERAL_NAMES_free(gens);
	X509_free(srv);
}

static void
test_names(void **state)
{
	static const char *const good[] = { "alice", "A.b_c-9", "x" };
	static const char *const bad[] = { "", ".x", "-x", "a/b", "a b",
	    "..", "\xc3\xa9", "a\n" };
	char	 longname[PKI_NAME_MAX + 2];
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (pki_name_check(good[i], err, sizeof(err)) != 0)
			fail_msg("\"%s\" refused: %s", good[i], err);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pki_name_check(bad[i], err, sizeof(err)) != -1)
			fail_msg("\"%s\" accepted", bad[i]);
	memset(longname, 'a', PKI_NAME_MAX);
	longname[PKI_NAME_MAX] = '\0';
	assert_int_equal(pki_name_check(longname, err, sizeof(err)), 0);
	longname[PKI_NAME_MAX] = 'a';
	longname[PKI_NAME_MAX + 1] = '\0';
	assert_int_equal(pki_name_check(longname, err, sizeof(err)), -1);
}

static void
test_password(void **state)
{
	char	 a[PKI_PASSWORD_LEN + 1], b[PKI_PASSWORD_LEN + 1];

	assert_int_equal(pki_password_generate(a, sizeof(a)), 0);
	assert_int_equal(pki_password_generate(b, sizeof(b)), 0);
	assert_int_equal(strlen(a), PKI_PASSWORD_LEN);
	assert_string_not_equal(a, b);
	assert_int_equal(strspn(a, "ABCDEFGHJKLMNPQRSTUVWXYZ"
	    "abcdefghijkmnopqrstuvwxyz23456789"), PKI_PASSWORD_LEN);
	assert_int_equal(pki_password_generate(a, 0), -1);
}

static void
test_index_format(void **state)
{
	struct pki_index	 idx;
	struct pki_entry	 e;
	char			 buf[4096], line[1024];
	size_t			 off = 0;
	int			 n;

	memset(&e, 0, sizeof(e));
	e.kind = PKI_KIND_CLIENT;
	snprintf(e.serial, sizeof(e.serial), "0A1B");
	e.not_after = 1800000000;
	snprintf(e.name, sizeof(e.name), "alice");
	snprintf(e.subject, sizeof(e.subject), "CN=alice");
	e.reason = CRL_REASON_NONE;
	n = pki_index_format(&e, line, sizeof(line));
	assert_string_equal(line,
	    "client\t0A1B\t2027-01-15T08:00:00Z\talice\tCN=alice\tvalid\n");
	memcpy(buf + off, line, (size_t)n);
	off += (size_t)n;
	e.status = PKI_STATUS_REVOKED;
	e.revoked_at = 1700000000;
	e.reason = CRL_REASON_SUPERSEDED;
	e.kind = PKI_KIND_SERVER;
	n = pki_index_format(&e, line, sizeof(line));
	assert_string_equal(line, "server\t0A1B\t2027-01-15T08:00:00Z\talice\t"
	    "CN=alice\trevoked\t2023-11-14T22:13:20Z\tsuperseded\n");
	memcpy(buf + off, line, (size_t)n);
	off += (size_t)n;
	off += (size_t)snprintf(buf + off, sizeof(buf) - off,
	    "# comment\n\nca\tff\t2001-01-01T00:00:00Z\tCA\tCN=CA\tvalid");

	assert_int_equal(pki_index_parse(buf, off, &idx, err, sizeof(err)), 0);
	assert_int_equal(idx.n, 3);
	assert_int_equal(idx.v[0].kind, PKI_KIND_CLIENT);
	assert_int_equal(idx.v[0].not_after, 1800000000);
	assert_string_equal(pki_entry_status(&idx.v[0], 1700000000), "valid");
	assert_int_equal(idx.v[1].status, PKI_STATUS_REVOKED);
	assert_int_equal(idx.v[1].revoked_at, 1700000000);
	assert_int_equal(idx.v[1].reason, CRL_REASON_SUPERSEDED);
	assert_string_equal(pki_entry_status(&idx.v[1], 0), "revoked");
	assert_string_equal(idx.v[2].serial, "FF");
	assert_string_equal(pki_entry_status(&idx.v[2], time(NULL)),
	    "expired");
	pki_index_free(&idx);

	/* Whatever year takctl wrote (a foreign certificate's), it reads. */
	e.kind = PKI_KIND_EXTERNAL;
	e.not_after = -2208988800;	/* 1900-01-01 */
	e.revoked_at = 1700000000;
	n = pki_index_format(&e, line, sizeof(line));
	assert_true(n > 0);
	assert_int_equal(pki_index_parse(line, (size_t)n, &idx, err,
	    sizeof(err)), 0);
	assert_int_equal(idx.n, 1);
	assert_int_equal(idx.v[0].not_after, -2208988800);
	pki_index_free(&idx);

	/* Separators inside a field cannot be written. */
	snprintf(e.name, sizeof(e.name), "a\tb");
	assert_int_equal(pki_index_format(&e, line, sizeof(line)), -1);
	assert_int_equal(pki_index_format(&e, line, 8), -1);

#define BAD(s, msg) do {						\
	assert_int_equal(pki_index_parse(s, strlen(s), &idx, err,	\
	    sizeof(err)), -1);						\
	assert_non_null(strstr(err, msg));				\
} while (0)
	BAD("client\t1\t2027-01-15T08:00:00Z\ta\tCN=a\n", "line 1: 5 fields");
	BAD("\nuser\t1\t2027-01-15T08:00:00Z\ta\tCN=a\tvalid",
	    "line 2: unknown kind");
	BAD("ca\tXYZ\t2027-01-15T08:00:00Z\ta\tCN=a\tvalid", "bad serial");
	BAD("ca\t1\t2027-01-15\ta\tCN=a\tvalid", "bad not-after");
	/* A day that does not exist is refused, not moved to March. */
	BAD("ca\t1\t2027-02-30T08:00:00Z\ta\tCN=a\tvalid", "bad not-after");
	BAD("ca\t1\t2027-01-15T24:00:00Z\ta\tCN=a\tvalid", "bad not-after");
	BAD("ca\t1\t2027-01-15T08:00:00+\ta\tCN=a\tvalid", "bad not-after");
	BAD("ca\t1\t2027-01-15T08:00:00Z\ta\tCN=a\tgone", "unknown status");
	BAD("ca\t1\t2027-01-15T08:00:00Z\ta\tCN=a\tvalid\t-\t-",
	    "revocation fields on a valid");
	BAD("ca\t1\t2027-01-15T08:00:00Z\ta\tCN=a\trevoked\t-\tlost",
	    "unknown revocation reason");
	BAD("ca\t1\t2027-01-15T08:00:00Z\ta\tCN=a\tvalid\tx\ty\tz",
	    "fields");
#undef BAD
	assert_int_equal(pki_reason_parse("keyCompromise"),
	    CRL_REASON_KEY_COMPROMISE);
	assert_null(pki_reason_name(7));
	assert_int_equal(pki_index_load("/nonexistent/pki", &idx, err,
	    sizeof(err)), 1);
}

/* --- the ATAK data package ------------------------------------------------ */

/* One entry of a zip, NUL-terminated; NULL when there is none. */
static char *
zip_entry(zip_t *za, const char *name, size_t *len)
{
	zip_stat_t	 st;
	zip_file_t	*zf;
	char		*buf;

	if (zip_stat(za, name, 0, &st) == -1)
		return (NULL);
	assert_non_null(buf = malloc((size_t)st.size + 1));
	assert_non_null(zf = zip_fopen(za, name, 0));
	assert_int_equal(zip_fread(zf, buf, st.size), (zip_int64_t)st.size);
	zip_fclose(zf);
	buf[st.size] = '\0';
	if (len != NULL)
		*len = (size_t)st.size;
	return (buf);
}

static xmlNode *
xml_child(xmlNode *n, const char *name)
{
	for (n = n->children; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)n->name, name) == 0)
			return (n);
	return (NULL);
}

/* The attribute of a node as a string compared to want. */
static void
assert_attr(xmlNode *n, const char *attr, const char *want)
{
	xmlChar	*v = xmlGetProp(n, (const xmlChar *)attr);

	if (v == NULL)
		fail_msg("<%s> has no %s", n->name, attr);
	if (strcmp((const char *)v, want) != 0)
		fail_msg("<%s %s=\"%s\">, expected \"%s\"", n->name, attr,
		    (const char *)v, want);
	xmlFree(v);
}

/* <entry key=KEY> of <preference name=PREF> must be VALUE of CLASS. */
static void
assert_pref(xmlDoc *doc, const char *pref, const char *key,
    const char *class, const char *value)
{
	xmlNode	*top = xmlDocGetRootElement(doc), *p, *e;
	xmlChar	*v, *name;
	char	 cls[64];

	assert_string_equal((const char *)top->name, "preferences");
	for (p = top->children; p != NULL; p = p->next) {
		if (p->type != XML_ELEMENT_NODE)
			continue;
		name = xmlGetProp(p, (const xmlChar *)"name");
		if (name != NULL && strcmp((const char *)name, pref) == 0) {
			xmlFree(name);
			break;
		}
		xmlFree(name);
	}
	if (p == NULL)
		fail_msg("no preference %s", pref);
	assert_attr(p, "version", "1");
	for (e = p->children; e != NULL; e = e->next) {
		if (e->type != XML_ELEMENT_NODE)
			continue;
		v = xmlGetProp(e, (const xmlChar *)"key");
		if (v != NULL && strcmp((const char *)v, key) == 0) {
			xmlFree(v);
			break;
		}
		xmlFree(v);
	}
	if (e == NULL)
		fail_msg("no entry %s in %s", key, pref);
	snprintf(cls, sizeof(cls), "class java.lang.%s", class);
	assert_attr(e, "class", cls);
	v = xmlNodeGetContent(e);
	if (strcmp((const char *)v, value) != 0)
		fail_msg("%s/%s is \"%s\", expected \"%s\"", pref, key,
		    (const char *)v, value);
	xmlFree(v);
}

static void
check_manifest(const char *xml, const char *name, const char *const *want)
{
	xmlDoc	*doc;
	xmlNode	*top, *conf, *n;
	xmlChar	*v, *uid = NULL;
	size_t	 i = 0, j;
	char	 uname[128];

	assert_non_null(doc = xmlReadMemory(xml, (int)strlen(xml),
	    "manifest.xml", NULL, XML_PARSE_NONET));
	top = xmlDocGetRootElement(doc);
	assert_string_equal((const char *)top->name,
	    "MissionPackageManifest");
	assert_attr(top, "version", "2");
	assert_non_null(conf = xml_child(top, "Configuration"));
	snprintf(uname, sizeof(uname), "%s takd", name);
	for (n = conf->children, j = 0; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		v = xmlGetProp(n, (const xmlChar *)"name");
		assert_non_null(v);
		if (strcmp((const char *)v, "uid") == 0)
			uid = xmlGetProp(n, (const xmlChar *)"value");
		else if (strcmp((const char *)v, "name") == 0)
			assert_attr(n, "value", uname);
		else if (strcmp((const char *)v, "onReceiveDelete") == 0)
			assert_attr(n, "value", "true");
		else
			fail_msg("unexpected parameter %s", (const char *)v);
		xmlFree(v);
		j++;
	}
	assert_int_equal(j, 3);
	/* A random version 4 UUID. */
	assert_non_null(uid);
	assert_int_equal(strlen((const char *)uid), 36);
	assert_int_equal(uid[8], '-');
	assert_int_equal(uid[13], '-');
	assert_int_equal(uid[14], '4');
	assert_int_equal(uid[18], '-');
	assert_non_null(strchr("89ab", uid[19]));
	assert_int_equal(uid[23], '-');
	xmlFree(uid);
	assert_non_null(n = xml_child(top, "Contents"));
	for (n = n->children; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		assert_true(i < 3);
		assert_attr(n, "zipEntry", want[i++]);
		assert_attr(n, "ignore", "false");
	}
	assert_int_equal(i, 3);
	xmlFreeDoc(doc);
}

static void
check_truststore(const char *der, size_t len, const char *password)
{
	const unsigned char	*p = (const unsigned char *)der;
	PKCS12			*p12;
	EVP_PKEY		*key = NULL;
	X509			*cert = NULL, *ca;
	STACK_OF(X509)		*chain = NULL;
	STACK_OF(PKCS7)		*safes;
	PKCS7			*p7;
	const X509_ALGOR	*macalg;

	assert_non_null(p12 = d2i_PKCS12(NULL, &p, (long)len));
	assert_int_equal(PKCS12_verify_mac(p12, password, -1), 1);
	PKCS12_get0_mac(NULL, &macalg, NULL, NULL, p12);
	assert_int_equal(p12_alg_nid(macalg), NID_sha1);
	assert_int_equal(PKCS12_parse(p12, password, &key, &cert, &chain), 1);
	/* The CA certificate alone: no key, no leaf. */
	assert_null(key);
	assert_null(cert);
	assert_int_equal(sk_X509_num(chain), 1);
	ca = load_cert(PKI_CA_CERT);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 0), ca), 0);
	X509_free(ca);
	sk_X509_pop_free(chain, X509_free);
	assert_non_null(safes = PKCS12_unpack_authsafes(p12));
	assert_int_equal(sk_PKCS7_num(safes), 1);
	p7 = sk_PKCS7_value(safes, 0);
	assert_int_equal(OBJ_obj2nid(p7->type), NID_pkcs7_encrypted);
	assert_int_equal(p12_alg_nid(p7->d.encrypted->enc_data->algorithm),
	    NID_pbe_WithSHA1And3_Key_TripleDES_CBC);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	PKCS12_free(p12);
}

/*
 * Read clients/alice.zip back and check every part of it: version 2, flat,
 * the files named after the server host.
 */
static void
check_package(const char *password, const char *conn, const char *host)
{
	char		 pref[300], ts[300], bundle[300];
	const char	*names[4];
	char		 path[256], *buf, *p12;
	size_t		 len, p12len, i;
	zip_t		*za;
	xmlDoc		*doc;
	int		 zerr;

	snprintf(pref, sizeof(pref), "takd-%s.pref", host);
	snprintf(ts, sizeof(ts), "truststore-%s.p12", host);
	snprintf(bundle, sizeof(bundle), "alice-%s.p12", host);
	names[0] = PKI_PKG_MANIFEST;
	names[1] = pref;
	names[2] = ts;
	names[3] = bundle;

	assert_int_equal(file_mode("clients/alice.zip"), 0600);
	snprintf(path, sizeof(path), "%s/clients/alice.zip", dir);
	assert_non_null(za = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS,
	    &zerr));
	assert_int_equal(zip_get_num_entries(za, 0), 4);
	for (i = 0; i < 4; i++) {
		/* Relative, no "..", in this order. */
		assert_string_equal(zip_get_name(za, i, 0), names[i]);
	}

	buf = zip_entry(za, PKI_PKG_MANIFEST, NULL);
	check_manifest(buf, "alice", names + 1);
	free(buf);

	buf = zip_entry(za, pref, &len);
	assert_non_null(doc = xmlReadMemory(buf, (int)len, "takd.pref", NULL,
	    XML_PARSE_NONET));
	assert_pref(doc, "cot_streams", "count", "Integer", "1");
	assert_pref(doc, "cot_streams", "enabled0", "Boolean", "true");
	assert_pref(doc, "cot_streams", "connectString0", "String", conn);
	assert_pref(doc, "cot_streams", "caLocation0", "String", ts);
	assert_pref(doc, "cot_streams", "caPassword0", "String", password);
	assert_pref(doc, "cot_streams", "certificateLocation0", "String",
	    bundle);
	assert_pref(doc, "cot_streams", "clientPassword0", "String", password);
	assert_pref(doc, "com.atakmap.app_preferences", "caLocation", "String",
	    ts);
	assert_pref(doc, "com.atakmap.app_preferences", "certificateLocation",
	    "String", bundle);
	assert_pref(doc, "com.atakmap.app_preferences", "caPassword",
	    "String", password);
	assert_pref(doc, "com.atakmap.app_preferences", "clientPassword",
	    "String", password);
	assert_pref(doc, "com.atakmap.app_preferences",
	    "displayServerConnectionWidget", "Boolean", "true");
	xmlFreeDoc(doc);
	free(buf);

	buf = zip_entry(za, ts, &len);
	check_truststore(buf, len, password);
	free(buf);

	/* The bundle in the package is the bundle on disk. */
	buf = zip_entry(za, bundle, &len);
	p12 = slurp("clients/alice.p12", &p12len);
	assert_int_equal(len, p12len);
	assert_memory_equal(buf, p12, len);
	free(p12);
	free(buf);
	zip_close(za);
}

static void
test_package(void **state)
{
	struct pki_req		 req;
	struct pki_result	 res;
	char			 path[256];

	/* The host is the server certificate's CN; the default port. */
	issue_all("s3cret");
	check_package("s3cret", "localhost:8089:ssl", "localhost");

	/* [pki] server_host and the port of [tls] listen, as takctl sets. */
	memset(&req, 0, sizeof(req));
	req.password = "a&b<c>\"d'e";	/* XML escapes */
	req.pkg_host = "tak.example.org";
	req.pkg_port = "8443";
	req.force = true;
	assert_int_equal(pki_issue_client(dir, "alice", &req, &res, err,
	    sizeof(err)), 0);
	assert_false(res.pkg_host_guessed);
	assert_string_equal(res.pkg_host, "tak.example.org");
	check_package(req.password, "tak.example.org:8443:ssl",
	    "tak.example.org");

	/* An IPv6 literal cannot be in a connect string: refused, unwritten. */
	req.pkg_host = "2001:db8::1";
	assert_int_equal(pki_issue_client(dir, "erin", &req, &res, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "IPv6"));
	assert_non_null(strstr(err, "DNS name"));
	assert_int_equal(file_mode("clients/erin.pem"), (mode_t)-1);
	assert_no_temp(PKI_CLIENT_DIR);
	req.pkg_host = "tak.example.org";

	/* XML cannot carry a control character: refused, nothing written. */
	req.password = "tab\there";
	assert_int_equal(pki_issue_client(dir, "carol", &req, &res, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "control character"));
	assert_int_equal(file_mode("clients/carol.pem"), (mode_t)-1);
	assert_no_temp(PKI_CLIENT_DIR);

	/* No server.pem and no host given: this machine's name, flagged. */
	snprintf(path, sizeof(path), "%s/%s", dir, PKI_SERVER_CERT);
	assert_int_equal(unlink(path), 0);
	req.password = "x";
	req.pkg_host = NULL;
	assert_int_equal(pki_issue_client(dir, "dave", &req, &res, err,
	    sizeof(err)), 0);
	assert_true(res.pkg_host_guessed);
	assert_int_equal(file_mode("clients/dave.zip"), 0600);
}

/* --- revocation ------------------------------------------------------------ */

/*
 * The reason of serial in crl: -2 absent (or unreadable), CRL_REASON_NONE
 * no reason code.
 */
static int
crl_reason(X509_CRL *crl, const char *serial, time_t *when)
{
	STACK_OF(X509_REVOKED)	*list = X509_CRL_get_REVOKED(crl);
	X509_REVOKED		*rev;
	char			 hex[PKI_SERIAL_HEX];
	int			 i;

	for (i = 0; i < sk_X509_REVOKED_num(list); i++) {
		rev = sk_X509_REVOKED_value(list, i);
		assert_int_equal(pki_serial_hex(
		    X509_REVOKED_get0_serialNumber(rev), hex, sizeof(hex)), 0);
		if (pki_serial_cmp(hex, serial) != 0)
			continue;
		if (when != NULL)
			*when = pki_asn1_time(
			    X509_REVOKED_get0_revocationDate(rev));
		return (pki_revoked_reason(rev));
	}
	return (-2);
}

static int
crl_entries(X509_CRL *crl)
{
	STACK_OF(X509_REVOKED)	*list = X509_CRL_get_REVOKED(crl);

	return (list == NULL ? 0 : sk_X509_REVOKED_num(list));
}

/* The index entry of serial (a copy), or fail. */
static struct pki_entry
index_entry(const char *serial)
{
	struct pki_index	 idx;
	struct pki_entry	 e;
	size_t			 i;

	assert_int_equal(pki_index_load(dir, &idx, err, sizeof(err)), 0);
	for (i = 0; i < idx.n; i++)
		if (pki_serial_cmp(idx.v[i].serial, serial) == 0)
			break;
	if (i == idx.n)
		fail_msg("serial %s not in the index", serial);
	e = idx.v[i];
	pki_index_free(&idx);
	return (e);
}

static void
serial_of(const char *name, char *buf, size_t len)
{
	char	 f[128];
	X509	*x;

	snprintf(f, sizeof(f), "clients/%s.pem", name);
	x = load_cert(f);
	assert_int_equal(pki_serial_hex(X509_get0_serialNumber(x), buf, len),
	    0);
	X509_free(x);
}

static void
test_revoke(void **state)
{
	struct pki_revoke_req	 req;
	struct pki_crl_out	 out;
	struct pki_req		 ireq;
	struct pki_result	 res;
	struct pki_entry	 e;
	X509			*ca, *alice;
	X509_CRL		*crl;
	char			 s_alice[PKI_SERIAL_HEX], s_new[PKI_SERIAL_HEX];
	char			 s_bob[PKI_SERIAL_HEX], path[256];
	char			*before, *after;
	time_t			 now = time(NULL), when;
	int			 fd;

	issue_all("pw");
	ca = load_cert(PKI_CA_CERT);
	alice = load_cert("clients/alice.pem");
	serial_of("alice", s_alice, sizeof(s_alice));

	/* A comment in the index survives the rewrite, in its place. */
	snprintf(path, sizeof(path), "%s/%s", dir, PKI_INDEX);
	assert_true((fd = open(path, O_WRONLY | O_APPEND)) != -1);
	assert_int_equal(write(fd, "# kept\n", 7), 7);
	close(fd);

	memset(&req, 0, sizeof(req));
	req.by = PKI_REVOKE_NAME;
	req.arg = "alice";
	req.reason = CRL_REASON_KEY_COMPROMISE;
	if (pki_revoke(dir, NULL, &req, &out, err, sizeof(err)) == -1)
		fail_msg("revoke: %s", err);
	assert_int_equal(out.n_revoked, 1);
	assert_string_equal(out.revoked[0].serial, s_alice);
	assert_int_equal(out.number, 2);	/* init-ca wrote 1 */
	assert_int_equal(out.entries, 1);
	assert_true(out.next_update >= now + 30 * 86400 - 5 &&
	    out.next_update <= now + 30 * 86400 + 60);
	assert_string_equal(out.warn, "");
	pki_crl_out_free(&out);

	e = index_entry(s_alice);
	assert_int_equal(e.status, PKI_STATUS_REVOKED);
	assert_int_equal(e.reason, CRL_REASON_KEY_COMPROMISE);
	assert_true(e.revoked_at >= now && e.revoked_at <= now + 60);
	before = slurp(PKI_INDEX, NULL);
	assert_non_null(strstr(before, "\tkeyCompromise\n# kept\n"));
	free(before);

	crl = load_crl();
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ca)), 1);
	assert_int_equal(pki_crl_number(crl), 2);
	assert_int_equal(crl_entries(crl), 1);
	assert_int_equal(crl_reason(crl, s_alice, &when),
	    CRL_REASON_KEY_COMPROMISE);
	assert_int_equal(when, e.revoked_at);
	assert_int_equal(verify(ca, crl, alice, X509_PURPOSE_SSL_CLIENT),
	    X509_V_ERR_CERT_REVOKED);
	X509_CRL_free(crl);
	assert_int_equal(file_mode(PKI_CRL), 0644);
	assert_int_equal(file_mode(PKI_INDEX), 0600);

	/* Again: refused, and nothing changes. */
	before = slurp(PKI_CRL, NULL);
	assert_int_equal(pki_revoke(dir, NULL, &req, &out, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "already revoked"));
	assert_non_null(strstr(err, s_alice));
	after = slurp(PKI_CRL, NULL);
	assert_string_equal(before, after);
	free(before);
	free(after);

	/* Reissued under the same name: only the valid one is revoked. */
	memset(&ireq, 0, sizeof(ireq));
	ireq.password = "pw";
	ireq.force = true;
	assert_int_equal(pki_issue_client(dir, "alice", &ireq, &res, err,
	    sizeof(err)), 0);
	snprintf(s_new, sizeof(s_new), "%s", res.serial);
	req.reason = CRL_REASON_SUPERSEDED;
	assert_int_equal(pki_revoke(dir, NULL, &req, &out, err, sizeof(err)),
	    0);
	assert_int_equal(out.n_revoked, 1);
	assert_string_equal(out.revoked[0].serial, s_new);
	pki_crl_out_free(&out);
	crl = load_crl();
	assert_int_equal(crl_entries(crl), 2);
	assert_int_equal(crl_reason(crl, s_alice, NULL),
	    CRL_REASON_KEY_COMPROMISE);
	assert_int_equal(crl_reason(crl, s_new, NULL), CRL_REASON_SUPERSEDED);
	assert_int_equal(pki_crl_number(crl), 3);
	X509_CRL_free(crl);

	/* Two valid certificates of one name: both revoked, both listed. */
	assert_int_equal(pki_issue_client(dir, "bob", &ireq, &res, err,
	    sizeof(err)), 0);
	snprintf(s_bob, sizeof(s_bob), "%s", res.serial);
	assert_int_equal(pki_issue_client(dir, "bob", &ireq, &res, err,
	    sizeof(err)), 0);
	req.arg = "bob";
	req.reason = CRL_REASON_UNSPECIFIED;	/* written as no reason code */
	assert_int_equal(pki_revoke(dir, NULL, &req, &out, err, sizeof(err)),
	    0);
	assert_int_equal(out.n_revoked, 2);
	assert_string_equal(out.revoked[0].serial, s_bob);
	assert_string_equal(out.revoked[1].serial, res.serial);
	pki_crl_out_free(&out);
	crl = load_crl();
	assert_int_equal(crl_entries(crl), 4);
	assert_int_equal(crl_reason(crl, s_bob, NULL), CRL_REASON_NONE);
	X509_CRL_free(crl);

	/* Names that are not clients, or unknown. */
	req.arg = "localhost";
	assert_int_equal(pki_revoke(dir, NULL, &req, &out, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "server certificate"));
	req.arg = "nobody";
	assert_int_equal(pki_revoke(dir, NULL, &req, &out, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "no client named \"nobody\""));
	req.arg = "../x";
	assert_int_equal(pki_revoke(dir, NULL, &req, &out, err, sizeof(err)),
	    -1);
	req.arg = "alice";
	req.reason = CRL_REASON_CERTIFICATE_HOLD;
	assert_int_equal(pki_revoke(dir, NULL, &req, &out, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "certificateHold"));
	assert_no_temp(NULL);
	X509_free(alice);
	X509_free(ca);
}

static void
test_revoke_serial_cert(void **state)
{
	struct pki_revoke_req	 req;
	struct pki_crl_out	 out;
	struct pki_req		 ireq;
	struct pki_result	 res;
	struct pki_entry	 e;
	X509_CRL		*crl;
	X509			*srv;
	char			 s_ca[PKI_SERIAL_HEX], s_srv[PKI_SERIAL_HEX];
	char			 s_alice[PKI_SERIAL_HEX], other[160], path[512];
	char			 crlpath[256];
	struct stat		 st;
	FILE			*fp;

	issue_all("pw");
	serial_of("alice", s_alice, sizeof(s_alice));

	/* An unknown serial, typed with colons and lower case: external. */
	memset(&req, 0, sizeof(req));
	req.by = PKI_REVOKE_SERIAL;
	req.arg = "0a:1b:2c";
	req.reason = CRL_REASON_CESSATION_OF_OPERATION;
	assert_int_equal(pki_revoke(dir, NULL, &req, &out, err, sizeof(err)),
	    0);
	assert_int_equal(out.n_external, 1);
	assert_string_equal(out.revoked[0].serial, "0A1B2C");
	pki_crl_out_free(&out);
	e = index_entry("0A1B2C");
	assert_int_equal(e.kind, PKI_KIND_EXTERNAL);
	assert_int_equal(e.not_after, 0);
	assert_int_equal(e.status, PKI_STATUS_REVOKED);
	/* The same serial written differently is the same serial. */
	req.arg = "0x000A1B2C";
	assert_int_equal(pki_revoke(dir, NULL, &req, &out, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "already revoked"));
	req.arg = "xyz";
	assert_int_equal(pki_revoke(dir, NULL, &req, &out, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "not a serial number"));
	req.arg = "1:2::3";
	assert_int_equal(pki_revoke(dir, NULL, &req, &out, err, sizeof(err)),
	    -1);
	/* 21 octets: more than RFC 5280 allows. */
	req.arg = "010203040506070809101112131415161718192021";
	assert_int_equal(pki_revoke(dir, NULL, &req, &out, err, sizeof(err)),
	    -1);

	/* The CA's own serial is refused; the server's is revoked. */
	srv = load_cert(PKI_SERVER_CERT);
	assert_int_equal(pki_serial_hex(X509_get0_serialNumber(srv), s_srv,
	    sizeof(s_srv)), 0);
	X509_free(srv);
	srv = load_cert(PKI_CA_CERT);
	assert_int_equal(pki_serial_hex(X509_get0_serialNumber(srv), s_ca,
	    sizeof(s_ca)), 0);
	X509_free(srv);
	req.arg = s_ca;
	assert_int_equal(pki_revoke(dir, NULL, &req, &out, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "the CA itself"));
	req.arg = s_srv;
	assert_int_equal(pki_revoke(dir, NULL, &req, &out, err, sizeof(err)),
	    0);
	assert_non_null(strstr(out.warn, "server certificate"));
	pki_crl_out_free(&out);

	/* By certificate file. */
	req.by = PKI_REVOKE_CERT;
	req.reason = CRL_REASON_NONE;
	snprintf(path, sizeof(path), "%s/clients/alice.pem", dir);
	req.arg = path;
	assert_int_equal(pki_revoke(dir, NULL, &req, &out, err, sizeof(err)),
	    0);
	assert_string_equal(out.revoked[0].serial, s_alice);
	assert_string_equal(out.revoked[0].name, "alice");
	pki_crl_out_free(&out);

	/* A certificate of another CA cannot be revoked by this one. */
	snprintf(other, sizeof(other), "%s/other", root);
	memset(&ireq, 0, sizeof(ireq));
	assert_int_equal(pki_init_ca(other, &ireq, &res, err, sizeof(err)),
	    0);
	ireq.password = "pw";
	assert_int_equal(pki_issue_client(other, "eve", &ireq, &res, err,
	    sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/clients/eve.pem", other);
	assert_int_equal(pki_revoke(dir, NULL, &req, &out, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "was not issued by the CA"));
	req.arg = "/nonexistent.pem";
	assert_int_equal(pki_revoke(dir, NULL, &req, &out, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "/nonexistent.pem"));

	/*
	 * A certificate the index does not know, issued by this CA (here:
	 * eve of a second directory that uses the same CA files): revoked
	 * by serial, with its subject and not-after in the external line.
	 */
	snprintf(path, sizeof(path), "%s/twin", root);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "cp %s/ca.pem %s/ca.key %s/twin/", dir,
	    dir, root);
	assert_int_equal(system(path), 0);
	snprintf(other, sizeof(other), "%s/twin", root);
	assert_int_equal(pki_issue_client(other, "eve", &ireq, &res, err,
	    sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/twin/clients/eve.pem", root);
	req.arg = path;
	/* And the CRL goes where [tls] crl says, outside the PKI dir. */
	snprintf(crlpath, sizeof(crlpath), "%s/twin/published.crl", root);
	assert_int_equal(pki_revoke(dir, crlpath, &req, &out, err,
	    sizeof(err)), 0);
	assert_int_equal(out.n_external, 1);
	pki_crl_out_free(&out);
	e = index_entry(res.serial);
	assert_int_equal(e.kind, PKI_KIND_EXTERNAL);
	assert_string_equal(e.name, "eve");
	assert_string_equal(e.subject, "CN=eve");
	assert_int_equal(e.not_after, res.not_after);
	snprintf(path, sizeof(path), "%s/twin/published.crl", root);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_non_null(fp = fopen(path, "r"));
	crl = PEM_read_X509_CRL(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(crl);
	/* 0A1B2C, the server, alice, eve. */
	assert_int_equal(crl_entries(crl), 4);
	assert_int_equal(crl_reason(crl, res.serial, NULL), CRL_REASON_NONE);
	assert_int_equal(crl_reason(crl, "0A1B2C", NULL),
	    CRL_REASON_CESSATION_OF_OPERATION);
	X509_CRL_free(crl);
	assert_no_temp(NULL);
}

static void
test_renew(void **state)
{
	struct pki_revoke_req	 req;
	struct pki_crl_out	 out;
	X509_CRL		*a, *b;
	X509			*ca;
	char			 s_alice[PKI_SERIAL_HEX];
	time_t			 now = time(NULL);
	int			 i;

	issue_all("pw");
	serial_of("alice", s_alice, sizeof(s_alice));
	memset(&req, 0, sizeof(req));
	req.by = PKI_REVOKE_NAME;
	req.arg = "alice";
	req.reason = CRL_REASON_AFFILIATION_CHANGED;
	assert_int_equal(pki_revoke(dir, NULL, &req, &out, err, sizeof(err)),
	    0);
	pki_crl_out_free(&out);
	req.by = PKI_REVOKE_SERIAL;
	req.arg = "7777";
	req.reason = CRL_REASON_PRIVILEGE_WITHDRAWN;
	assert_int_equal(pki_revoke(dir, NULL, &req, &out, err, sizeof(err)),
	    0);
	pki_crl_out_free(&out);
	a = load_crl();

	assert_int_equal(pki_crl_renew(dir, NULL, 60, &out, err, sizeof(err)),
	    0);
	assert_int_equal(out.entries, 2);
	assert_int_equal(out.number, pki_crl_number(a) + 1);
	pki_crl_out_free(&out);
	b = load_crl();
	ca = load_cert(PKI_CA_CERT);
	assert_int_equal(X509_CRL_verify(b, X509_get0_pubkey(ca)), 1);
	assert_int_equal(pki_crl_number(b), pki_crl_number(a) + 1);
	assert_true(pki_asn1_time(X509_CRL_get0_nextUpdate(b)) >=
	    now + 60 * 86400 - 5);
	assert_true(pki_asn1_time(X509_CRL_get0_lastUpdate(b)) >= now - 5);
	/* The same entries, dates and reasons. */
	assert_int_equal(crl_entries(b), crl_entries(a));
	for (i = 0; i < crl_entries(a); i++) {
		X509_REVOKED	*ra = sk_X509_REVOKED_value(
		    X509_CRL_get_REVOKED(a), i);
		X509_REVOKED	*rb = sk_X509_REVOKED_value(
		    X509_CRL_get_REVOKED(b), i);

		assert_int_equal(ASN1_INTEGER_cmp(
		    X509_REVOKED_get0_serialNumber(ra),
		    X509_REVOKED_get0_serialNumber(rb)), 0);
		assert_int_equal(ASN1_TIME_compare(
		    X509_REVOKED_get0_revocationDate(ra),
		    X509_REVOKED_get0_revocationDate(rb)), 0);
	}
	assert_int_equal(crl_reason(b, s_alice, NULL),
	    CRL_REASON_AFFILIATION_CHANGED);
	assert_int_equal(crl_reason(b, "7777", NULL),
	    CRL_REASON_PRIVILEGE_WITHDRAWN);
	X509_CRL_free(a);
	X509_CRL_free(b);

	assert_int_equal(pki_crl_renew(dir, NULL, PKI_CRL_DAYS_MAX + 1, &out,
	    err, sizeof(err)), -1);
	/* No CA: a clear error. */
	assert_int_equal(pki_crl_renew("/nonexistent/pki", NULL, 0, &out, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "init-ca"));
	X509_free(ca);
}

/* A PEM CRL signed by the CA of cadir, listing serials (external). */
static char *
crl_pem(const char *cadir, const char *const *serials, const int *reasons,
    size_t n, size_t *len)
{
	struct pki_index	 idx;
	struct pki_entry	 e;
	X509			*ca;
	EVP_PKEY		*key;
	X509_CRL		*crl;
	BIO			*bio;
	char			*p, *out;
	long			 l;
	size_t			 i;

	assert_int_equal(pki_ca_load(cadir, &ca, &key, err, sizeof(err)), 0);
	memset(&idx, 0, sizeof(idx));
	for (i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		e.kind = PKI_KIND_EXTERNAL;
		snprintf(e.serial, sizeof(e.serial), "%s", serials[i]);
		e.status = PKI_STATUS_REVOKED;
		e.revoked_at = 1700000000 + (time_t)i;
		e.reason = reasons[i];
		assert_int_equal(pki_index_add(&idx, &e), 0);
	}
	assert_non_null(crl = pki_crl_new(ca, key, &idx, 41, 100, err,
	    sizeof(err)));
	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_X509_CRL(bio, crl), 1);
	l = BIO_get_mem_data(bio, &p);
	assert_non_null(out = malloc((size_t)l + 1));
	memcpy(out, p, (size_t)l);
	out[l] = '\0';
	*len = (size_t)l;
	BIO_free(bio);
	X509_CRL_free(crl);
	pki_index_free(&idx);
	X509_free(ca);
	EVP_PKEY_free(key);
	return (out);
}

/* A CRL listing serial 0404 from another CA (root/other), named cn. */
static char *
other_ca_crl(const char *cn, size_t *len)
{
	struct pki_req		 req;
	struct pki_result	 res;
	char			 other[160];

	snprintf(other, sizeof(other), "%s/other", root);
	memset(&req, 0, sizeof(req));
	req.cn = cn;
	assert_int_equal(pki_init_ca(other, &req, &res, err, sizeof(err)), 0);
	return (crl_pem(other, (const char *const[]){ "0404" },
	    (const int[]){ CRL_REASON_NONE }, 1, len));
}

static void
test_import_json(void **state)
{
	struct pki_crl_out	 out;
	struct pki_entry	 e;
	X509_CRL		*crl;
	X509			*ca, *alice;
	BIGNUM			*bn = NULL;
	char			 s_alice[PKI_SERIAL_HEX], json[2048];
	char			*dec;
	time_t			 when;

	issue_all("pw");
	serial_of("alice", s_alice, sizeof(s_alice));
	assert_true(BN_hex2bn(&bn, s_alice) > 0);
	assert_non_null(dec = BN_bn2dec(bn));
	BN_free(bn);
	/*
	 * alice as a JSON number (decimal, as Python's json writes an int);
	 * then a decimal string, a 0x string, hex with letters, hex with
	 * colons; reasons as RFC names, Python names, codes and null; dates
	 * in several ISO-8601 forms, Unix seconds and none.  One duplicate.
	 */
	snprintf(json, sizeof(json),
	    "{\"version\": 1, \"revoked_certificates\": [\n"
	    " {\"serial_number\": %s, \"revocation_date\": "
	    "\"2024-05-01T10:00:00Z\", \"reason\": \"key_compromise\"},\n"
	    " {\"serial_number\": \"4660\", \"revocation_date\": "
	    "\"2024-05-01 12:00:00.123456+02:00\", \"reason\": 5},\n"
	    " {\"serial_number\": \"0x1234\", \"reason\": null},\n"
	    " {\"serial_number\": \"ABCDEF\", \"revocation_date\": "
	    "1714557600, \"reason\": \"ReasonFlags.superseded\"},\n"
	    " {\"serial_number\": \"ab:cd:ef:01\", \"revocation_date\": "
	    "\"May  1 10:00:00 2024 GMT\", \"extra\": [1, {\"a\": true}]},\n"
	    " {\"serial_number\": 99, \"revocation_date\": \"2024-05-01\","
	    " \"reason\": \"cACompromise\"}\n"
	    "], \"note\": \"\\u00e9t\\u00e9\"}", dec);
	OPENSSL_free(dec);

	if (pki_crl_import(dir, NULL, "fts.json", json, strlen(json), 0,
	    &out, err, sizeof(err)) == -1)
		fail_msg("import: %s", err);
	assert_int_equal(out.n_new, 1);		/* alice */
	/* 4660 = 0x1234: one serial; ABCDEF, ABCDEF01, 99 (0x63). */
	assert_int_equal(out.n_external, 4);
	assert_int_equal(out.n_already, 0);
	assert_int_equal(out.entries, 5);
	assert_non_null(strstr(out.warn, "1 duplicate"));
	pki_crl_out_free(&out);

	e = index_entry(s_alice);
	assert_int_equal(e.kind, PKI_KIND_CLIENT);
	assert_int_equal(e.status, PKI_STATUS_REVOKED);
	assert_int_equal(e.reason, CRL_REASON_KEY_COMPROMISE);
	assert_int_equal(e.revoked_at, 1714557600);	/* 2024-05-01T10Z */
	e = index_entry("1234");
	assert_int_equal(e.kind, PKI_KIND_EXTERNAL);
	/* Duplicates merge: the earliest date (12:00+02:00 = 10:00Z). */
	assert_int_equal(e.revoked_at, 1714557600);
	assert_int_equal(e.reason, CRL_REASON_CESSATION_OF_OPERATION);

	crl = load_crl();
	ca = load_cert(PKI_CA_CERT);
	alice = load_cert("clients/alice.pem");
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ca)), 1);
	assert_int_equal(verify(ca, crl, alice, X509_PURPOSE_SSL_CLIENT),
	    X509_V_ERR_CERT_REVOKED);
	assert_int_equal(crl_reason(crl, "ABCDEF", &when),
	    CRL_REASON_SUPERSEDED);
	assert_int_equal(when, 1714557600);
	assert_int_equal(crl_reason(crl, "ABCDEF01", &when), CRL_REASON_NONE);
	assert_int_equal(when, 1714557600);
	assert_int_equal(crl_reason(crl, "63", &when),
	    CRL_REASON_CA_COMPROMISE);
	assert_int_equal(when, 1714521600);		/* 2024-05-01T00Z */
	X509_CRL_free(crl);

	/* Importing the same again changes nothing but the CRL's number. */
	assert_int_equal(pki_crl_import(dir, NULL, "fts.json", json,
	    strlen(json), 0, &out, err, sizeof(err)), 0);
	assert_int_equal(out.n_new, 0);
	assert_int_equal(out.n_external, 0);
	assert_int_equal(out.n_already, 5);
	assert_int_equal(out.entries, 5);
	pki_crl_out_free(&out);
	X509_free(alice);
	X509_free(ca);
}

static void
test_import_json_errors(void **state)
{
	static const struct {
		const char	*json;
		const char	*msg;
	} bad[] = {
		{ "{}", "no \"revoked_certificates\"" },
		{ "[]", "expected an object" },
		{ "{\"revoked_certificates\": {}}", "expected an array" },
		{ "{\"revoked_certificates\": [{}]}", "no serial_number" },
		{ "{\"revoked_certificates\": [{\"serial_number\": 1.5}]}",
		    "non-negative integer" },
		{ "{\"revoked_certificates\": [{\"serial_number\": -1}]}",
		    "non-negative integer" },
		{ "{\"revoked_certificates\": [{\"serial_number\": \"x1\"}]}",
		    "not a positive decimal or hex" },
		{ "{\"revoked_certificates\": [{\"serial_number\": true}]}",
		    "non-negative integer" },
		{ "{\"revoked_certificates\": [{\"serial_number\": 1, "
		    "\"reason\": \"lost\"}]}", "unknown reason" },
		{ "{\"revoked_certificates\": [{\"serial_number\": 1, "
		    "\"reason\": 7}]}", "unknown reason code" },
		{ "{\"revoked_certificates\": [{\"serial_number\": 1, "
		    "\"reason\": \"removeFromCRL\"}]}", "removeFromCRL" },
		{ "{\"revoked_certificates\": [{\"serial_number\": 1, "
		    "\"revocation_date\": \"yesterday\"}]}", "not a date" },
		{ "{\"revoked_certificates\": [{\"serial_number\": 1, "
		    "\"revocation_date\": \"2024-02-30\"}]}", "not a date" },
		{ "{\"revoked_certificates\": [{\"serial_number\": 1,}]}",
		    "expected a string" },
		{ "{\"revoked_certificates\": [{\"serial_number\": 1}],}",
		    "expected a string" },
		{ "{\"revoked_certificates\": [{\"serial_number\": 1}]} x",
		    "data after" },
		{ "{\"revoked_certificates\": [{\"serial_number\": 1}]",
		    "expected ','" },
		{ "{\"revoked_certificates\": [], \"revoked_certificates\": []}",
		    "given twice" },
		{ "{\"revoked_certificates\": [{\"serial_number\": 1, "
		    "\"serial_number\": 2}]}", "given twice" },
		{ "{\"a\": \"\\x\", \"revoked_certificates\": []}",
		    "bad escape" },
		{ "{\"a\": \"\\ud800\", \"revoked_certificates\": []}",
		    "lone surrogate" },
		{ "{\"a\": \"\xc3\x28\", \"revoked_certificates\": []}",
		    "invalid UTF-8" },
		{ "{\"a\": \"\xc0\xaf\", \"revoked_certificates\": []}",
		    "invalid UTF-8" },
		{ "{\"a\": \"tab\there\", \"revoked_certificates\": []}",
		    "control character" },
		{ "{\"a\": 01, \"revoked_certificates\": []}", "expected ','" },
		{ "{\"a\": tru, \"revoked_certificates\": []}",
		    "unexpected character" },
		{ "{\"a\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]"
		    "]]]]]]]]]]]]]], \"revoked_certificates\": []}",
		    "nested too deeply" },
		{ "not json", "neither an X.509 CRL" },
		{ "-----BEGIN CERTIFICATE-----\n", "without an X509 CRL" },
	};
	static const char	 ok20[] = "{\"revoked_certificates\":[{"
	    "\"serial_number\":\"7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\"}]}";
	static const char	 bad21[] = "{\"revoked_certificates\":[{"
	    "\"serial_number\":\"7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\"}]}";
	static const char	 half[] = "{\"revoked_certificates\": "
	    "[{\"serial_number\": 1}, {}]}";
	struct pki_import	 imp;
	struct pki_crl_out	 out;
	char			*before, *after;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pki_import_parse(bad[i].json, strlen(bad[i].json), NULL,
		    &imp, err, sizeof(err)) != -1)
			fail_msg("accepted: %s", bad[i].json);
		if (strstr(err, bad[i].msg) == NULL)
			fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].json,
			    err, bad[i].msg);
		assert_null(imp.v);
	}
	/* An empty list is fine; so is a 20-octet serial, not 21. */
	assert_int_equal(pki_import_parse("{\"revoked_certificates\":[]}", 27,
	    NULL, &imp, err, sizeof(err)), 0);
	assert_int_equal(imp.n, 0);
	pki_import_free(&imp);
	assert_int_equal(strlen(strstr(ok20, "7F")), 40 + 4);
	assert_int_equal(pki_import_parse(ok20, strlen(ok20), NULL, &imp, err,
	    sizeof(err)), 0);
	assert_int_equal(imp.n, 1);
	pki_import_free(&imp);
	assert_int_equal(pki_import_parse(bad21, strlen(bad21), NULL, &imp,
	    err, sizeof(err)), -1);

	/* A failed import leaves the CRL and the index alone. */
	issue_all("pw");
	before = slurp(PKI_INDEX, NULL);
	assert_int_equal(pki_crl_import(dir, NULL, "bad.json", half,
	    strlen(half), 0, &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bad.json: JSON"));
	after = slurp(PKI_INDEX, NULL);
	assert_string_equal(before, after);
	free(before);
	free(after);
	assert_no_temp(NULL);
}

static void
test_import_pem(void **state)
{
	static const char *const serials[] = { "0101", "0202", "0303" };
	static const int reasons[] = { CRL_REASON_KEY_COMPROMISE,
	    CRL_REASON_NONE, CRL_REASON_CERTIFICATE_HOLD };
	static const char damaged[] = "-----BEGIN X509 CRL-----\n"
	    "not base64!\n-----END X509 CRL-----\n";
	struct pki_crl_out	 out;
	struct pki_import	 imp;
	X509_CRL		*crl;
	char			*pem, *capem, *both;
	size_t			 len, calen;
	time_t			 when;

	issue_all("pw");
	/* FTS_CRL.json: a PEM CRL signed by the (FTS) CA, whatever its name. */
	pem = crl_pem(dir, serials, reasons, 3, &len);
	if (pki_crl_import(dir, NULL, "FTS_CRL.json", pem, len, 0, &out, err,
	    sizeof(err)) == -1)
		fail_msg("import: %s", err);
	assert_int_equal(out.n_external, 3);
	assert_int_equal(out.entries, 3);
	assert_int_equal(out.number, 42);	/* past the imported CRL's 41 */
	assert_string_equal(out.warn, "");
	pki_crl_out_free(&out);
	crl = load_crl();
	assert_int_equal(crl_reason(crl, "0101", &when),
	    CRL_REASON_KEY_COMPROMISE);
	assert_int_equal(when, 1700000000);
	assert_int_equal(crl_reason(crl, "0202", NULL), CRL_REASON_NONE);
	assert_int_equal(crl_reason(crl, "0303", NULL),
	    CRL_REASON_CERTIFICATE_HOLD);
	X509_CRL_free(crl);

	/* ca.pem with the CRL appended: the certificate is skipped. */
	capem = slurp(PKI_CA_CERT, &calen);
	assert_non_null(both = malloc(calen + len + 1));
	memcpy(both, capem, calen);
	memcpy(both + calen, pem, len + 1);
	assert_int_equal(pki_import_parse(both, calen + len, NULL, &imp, err,
	    sizeof(err)), 0);
	assert_int_equal(imp.format, PKI_IMPORT_PEM);
	assert_int_equal(imp.n_crls, 1);
	assert_int_equal(imp.n, 3);
	assert_int_equal(imp.number, 41);
	assert_false(imp.foreign);
	pki_import_free(&imp);
	assert_int_equal(pki_crl_import(dir, NULL, "ca.pem", both,
	    calen + len, 0, &out, err, sizeof(err)), 0);
	assert_int_equal(out.n_already, 3);
	assert_int_equal(out.entries, 3);
	pki_crl_out_free(&out);
	free(both);
	free(capem);
	free(pem);

	/* Signed by another CA: imported, with a warning that says so. */
	pem = other_ca_crl("FTS CA", &len);
	assert_int_equal(pki_crl_import(dir, NULL, "FTS_CRL.json", pem, len,
	    0, &out, err, sizeof(err)), 0);
	assert_non_null(strstr(out.warn, "not signed by the CA"));
	assert_non_null(strstr(out.warn, "FTS CA"));
	assert_int_equal(out.n_external, 1);
	assert_int_equal(out.entries, 4);
	pki_crl_out_free(&out);
	free(pem);

	/* DER works too; a damaged PEM block is an error. */
	crl = load_crl();
	{
		unsigned char	*der = NULL;
		int		 dlen = i2d_X509_CRL(crl, &der);

		assert_true(dlen > 0);
		assert_int_equal(pki_import_parse((char *)der, (size_t)dlen,
		    NULL, &imp, err, sizeof(err)), 0);
		assert_int_equal(imp.format, PKI_IMPORT_DER);
		assert_int_equal(imp.n, 4);
		pki_import_free(&imp);
		OPENSSL_free(der);
	}
	X509_CRL_free(crl);
	assert_int_equal(pki_import_parse(damaged, strlen(damaged), NULL, &imp,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "damaged"));
}

/*
 * A DER CRL of the CA in dir with one entry whose CRLReason is code, which
 * pki_crl_new() (an int) cannot write.
 */
static unsigned char *
crl_der_reason(int64_t code, int *len)
{
	X509		*ca;
	EVP_PKEY	*key;
	X509_CRL	*crl;
	X509_REVOKED	*rev;
	ASN1_INTEGER	*serial;
	ASN1_TIME	*when;
	ASN1_ENUMERATED	*re;
	unsigned char	*der = NULL;

	assert_int_equal(pki_ca_load(dir, &ca, &key, err, sizeof(err)), 0);
	assert_non_null(crl = pki_crl_new(ca, key, NULL, 7, 100, err,
	    sizeof(err)));
	assert_non_null(rev = X509_REVOKED_new());
	assert_non_null(serial = pki_serial_asn1("0505"));
	assert_non_null(when = ASN1_TIME_set(NULL, 1700000000));
	assert_non_null(re = ASN1_ENUMERATED_new());
	assert_int_equal(ASN1_ENUMERATED_set_int64(re, code), 1);
	assert_int_equal(X509_REVOKED_set_serialNumber(rev, serial), 1);
	assert_int_equal(X509_REVOKED_set_revocationDate(rev, when), 1);
	assert_int_equal(X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, re, 0,
	    0), 1);
	assert_int_equal(X509_CRL_add0_revoked(crl, rev), 1);
	assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
	*len = i2d_X509_CRL(crl, &der);
	assert_true(*len > 0);
	ASN1_ENUMERATED_free(re);
	ASN1_TIME_free(when);
	ASN1_INTEGER_free(serial);
	X509_CRL_free(crl);
	X509_free(ca);
	EVP_PKEY_free(key);
	return (der);
}

/*
 * Reason codes are read exactly: one past 2^32 is not keyCompromise (1), and
 * a negative or huge one is not "no reason" (CRL_REASON_NONE is -1).
 */
static void
test_import_reason_codes(void **state)
{
	static const struct {
		int64_t		 code;
		const char	*want;	/* NULL: imported */
	} cases[] = {
		{ CRL_REASON_SUPERSEDED, NULL },
		{ ((int64_t)1 << 32) + CRL_REASON_KEY_COMPROMISE,
		    "unreadable reason code" },
		{ -1, "unreadable reason code" },
		{ INT64_MAX, "unreadable reason code" },
		{ 7, "unknown reason code 7" },
		{ CRL_REASON_REMOVE_FROM_CRL, "removeFromCRL" },
	};
	struct pki_import	 imp;
	unsigned char		*der;
	size_t			 i;
	int			 len;

	issue_all("pw");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		der = crl_der_reason(cases[i].code, &len);
		if (cases[i].want == NULL) {
			if (pki_import_parse((char *)der, (size_t)len, NULL,
			    &imp, err, sizeof(err)) == -1)
				fail_msg("code %lld: %s",
				    (long long)cases[i].code, err);
			assert_int_equal(imp.n, 1);
			assert_int_equal(imp.v[0].reason, cases[i].code);
			pki_import_free(&imp);
		} else {
			if (pki_import_parse((char *)der, (size_t)len, NULL,
			    &imp, err, sizeof(err)) != -1)
				fail_msg("code %lld imported",
				    (long long)cases[i].code);
			if (strstr(err, cases[i].want) == NULL)
				fail_msg("code %lld: \"%s\" lacks \"%s\"",
				    (long long)cases[i].code, err,
				    cases[i].want);
		}
		OPENSSL_free(der);
	}
}

/* What takd makes of the CRL that takctl wrote (shared/tlsctx.c). */
static void
test_tlsctx_crl(void **state)
{
	STACK_OF(X509)	*ca;
	struct crl_info	 info;
	X509_CRL	*crl;
	X509		*signer = NULL;
	uint8_t		*buf;
	char		 path[256], *pem;
	size_t		 len;
	time_t		 now = time(NULL);
	int		 dirfd;

	issue_all("pw");
	snprintf(path, sizeof(path), "%s/%s", dir, PKI_CA_CERT);
	assert_non_null(ca = tlsctx_load_ca(path, err, sizeof(err)));
	/* takd reads it through an O_PATH descriptor of its directory. */
	dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(dirfd >= 0);
	buf = tlsctx_read_at(dirfd, PKI_CRL, 1 << 20, &len, err, sizeof(err));
	if (buf == NULL)
		fail_msg("read: %s", err);
	assert_int_equal(buf[len], '\0');
	crl = tlsctx_crl_parse(buf, len, ca, &info, &signer, err,
	    sizeof(err));
	assert_ptr_equal(signer, sk_X509_value(ca, 0));
	if (crl == NULL)
		fail_msg("parse: %s", err);
	assert_int_equal(info.entries, 0);
	assert_true(info.last_update <= now + 1 && info.last_update > now - 600);
	assert_true(info.next_update > now + 29 * 86400);
	X509_CRL_free(crl);
	free(buf);

	/* Too big, not a file, missing: refused, with the reason. */
	assert_null(tlsctx_read_at(dirfd, PKI_CRL, 16, &len, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "larger than 16 bytes"));
	assert_null(tlsctx_read_at(dirfd, PKI_CLIENT_DIR, 1 << 20, &len, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
	assert_null(tlsctx_read_at(dirfd, "none.pem", 1 << 20, &len, err,
	    sizeof(err)));
	assert_non_null(strstr(err, strerror(ENOENT)));
	close(dirfd);

	/* Signed by another CA, or not a CRL at all: refused. */
	pem = other_ca_crl("Other CA", &len);
	assert_null(tlsctx_crl_parse((uint8_t *)pem, len, ca, &info, NULL,
	    err, sizeof(err)));
	assert_non_null(strstr(err, "not signed by the configured CA"));
	free(pem);
	assert_null(tlsctx_crl_parse((const uint8_t *)"{}", 2, ca, &info,
	    NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "not a PEM or DER X.509 CRL"));
	sk_X509_pop_free(ca, X509_free);
}

/* Serials of the CRL on disk that the index lacks are kept, not dropped. */
static void
test_crl_carry(void **state)
{
	struct pki_revoke_req	 req;
	struct pki_crl_out	 out;
	struct pki_entry	 e;
	X509_CRL		*crl;
	char			*pem, path[256];
	size_t			 len;
	FILE			*fp;

	issue_all("pw");
	/* A CRL made by other means (openssl ca, FTS) with serial 0505. */
	pem = crl_pem(dir, (const char *const[]){ "0505" },
	    (const int[]){ CRL_REASON_SUPERSEDED }, 1, &len);
	snprintf(path, sizeof(path), "%s/%s", dir, PKI_CRL);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fwrite(pem, 1, len, fp), len);
	fclose(fp);
	free(pem);

	memset(&req, 0, sizeof(req));
	req.by = PKI_REVOKE_NAME;
	req.arg = "alice";
	assert_int_equal(pki_revoke(dir, NULL, &req, &out, err, sizeof(err)),
	    0);
	assert_int_equal(out.n_carried, 1);
	assert_int_equal(out.number, 42);	/* crl_pem wrote 41 */
	assert_non_null(strstr(out.warn, "stay revoked"));
	pki_crl_out_free(&out);
	e = index_entry("0505");
	assert_int_equal(e.kind, PKI_KIND_EXTERNAL);
	assert_int_equal(e.reason, CRL_REASON_SUPERSEDED);
	assert_int_equal(e.revoked_at, 1700000000);
	crl = load_crl();
	assert_int_equal(crl_entries(crl), 2);
	assert_int_equal(crl_reason(crl, "0505", NULL), CRL_REASON_SUPERSEDED);
	X509_CRL_free(crl);

	/* A CRL that cannot be read: its number is lost, so a jump. */
	assert_non_null(fp = fopen(path, "w"));
	fputs("garbage\n", fp);
	fclose(fp);
	assert_int_equal(pki_crl_renew(dir, NULL, 0, &out, err, sizeof(err)),
	    0);
	assert_true(out.number >= (long)time(NULL) - 5);
	assert_non_null(strstr(out.warn, "cannot be read"));
	assert_int_equal(out.entries, 2);
	pki_crl_out_free(&out);
}

static void
test_parse_helpers(void **state)
{
	static const struct {
		const char	*s;
		time_t		 t;
	} dates[] = {
		{ "2024-05-01T10:00:00Z", 1714557600 },
		{ "2024-05-01T10:00:00", 1714557600 },
		{ "2024-05-01t10:00:00z", 1714557600 },
		{ "2024-05-01 10:00:00", 1714557600 },
		{ "2024-05-01 10:00:00 UTC", 1714557600 },
		{ "2024-05-01T10:00", 1714557600 },
		{ "2024-05-01T10:00:00.999999Z", 1714557600 },
		{ "2024-05-01T12:00:00+02:00", 1714557600 },
		{ "2024-05-01T05:30:00-0430", 1714557600 },
		{ "2024-05-01T11:00:00+01", 1714557600 },
		{ "2024-05-01", 1714521600 },
		{ "May  1 10:00:00 2024 GMT", 1714557600 },
		{ "1714557600", 1714557600 },
		{ "1714557600.5", 1714557600 },
		{ "2016-12-31T23:59:60Z", 1483228799 },	/* leap second */
	};
	static const char *const bad_dates[] = { "", "2024", "2024-13-01",
	    "2024-02-30", "2024-05-01T25:00", "2024-05-01T10:00:00+", 
	    "2024-05-01 ", "1949-12-31", "May 32 10:00:00 2024 GMT",
	    "2024-05-01T10:00:00 PST", "-5", "1714557600x" };
	char	 buf[PKI_SERIAL_HEX];
	time_t	 t;
	size_t	 i;

	for (i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		if (pki_date_parse(dates[i].s, &t) == -1)
			fail_msg("\"%s\" refused", dates[i].s);
		if (t != dates[i].t)
			fail_msg("\"%s\" gave %lld", dates[i].s, (long long)t);
	}
	for (i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++)
		if (pki_date_parse(bad_dates[i], &t) != -1)
			fail_msg("\"%s\" accepted", bad_dates[i]);

	assert_int_equal(pki_serial_parse("7cd8", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "7CD8");
	assert_int_equal(pki_serial_parse("0x00ff", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "FF");
	assert_int_equal(pki_serial_parse("a:b:cd", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0A0BCD");
	assert_int_equal(pki_serial_parse("abc:d", buf, sizeof(buf)), -1);
	assert_int_equal(pki_serial_parse(":ab", buf, sizeof(buf)), -1);
	assert_int_equal(pki_serial_parse("ab:", buf, sizeof(buf)), -1);
	assert_int_equal(pki_serial_parse("", buf, sizeof(buf)), -1);
	assert_int_equal(pki_serial_parse("-1", buf, sizeof(buf)), -1);
	assert_int_equal(pki_serial_cmp("00ff", "FF"), 0);
	assert_true(pki_serial_cmp("FF", "0100") < 0);
	assert_true(pki_serial_cmp("1000", "0FFF") > 0);

	assert_int_equal(pki_reason_parse_loose("key_compromise"),
	    CRL_REASON_KEY_COMPROMISE);
	assert_int_equal(pki_reason_parse_loose("ReasonFlags.ca_compromise"),
	    CRL_REASON_CA_COMPROMISE);
	assert_int_equal(pki_reason_parse_loose("Cessation-Of-Operation"),
	    CRL_REASON_CESSATION_OF_OPERATION);
	assert_int_equal(pki_reason_parse_loose("none"), -2);
	assert_true(pki_reason_revocable(CRL_REASON_PRIVILEGE_WITHDRAWN));
	assert_false(pki_reason_revocable(CRL_REASON_REMOVE_FROM_CRL));
	assert_false(pki_reason_revocable(CRL_REASON_CERTIFICATE_HOLD));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_password),
		cmocka_unit_test(test_index_format),
		cmocka_unit_test_setup(test_chain_verifies, fresh),
		cmocka_unit_test_setup(test_crl, fresh),
		cmocka_unit_test_setup(test_p12, fresh),
		cmocka_unit_test_setup(test_modes, fresh),
		cmocka_unit_test_setup(test_generated_password, fresh),
		cmocka_unit_test_setup(test_no_overwrite, fresh),
		cmocka_unit_test_setup(test_errors, fresh),
		cmocka_unit_test_setup(test_server_options, fresh),
		cmocka_unit_test(test_parse_helpers),
		cmocka_unit_test_setup(test_package, fresh),
		cmocka_unit_test_setup(test_revoke, fresh),
		cmocka_unit_test_setup(test_revoke_serial_cert, fresh),
		cmocka_unit_test_setup(test_renew, fresh),
		cmocka_unit_test_setup(test_import_json, fresh),
		cmocka_unit_test_setup(test_import_json_errors, fresh),
		cmocka_unit_test_setup(test_import_pem, fresh),
		cmocka_unit_test_setup(test_import_reason_codes, fresh),
		cmocka_unit_test_setup(test_tlsctx_crl, fresh),
		cmocka_unit_test_setup(test_crl_carry, fresh),
	};

	return (cmocka_run_group_tests(tests, group_setup, group_teardown));
}
