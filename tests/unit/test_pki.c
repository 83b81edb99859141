/*
 * Unit tests for shared/pki.c and shared/pki_store.c: a CA, a server and a
 * client issued into a mkdtemp directory and checked with OpenSSL itself
 * (chain verification, CRL signature, PKCS#12 algorithms), plus the index
 * format, names, passwords, no-overwrite and file modes.
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
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "shared/pki.h"

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
	char	 a[128];

	snprintf(a, sizeof(a), "%s/a", root);
	if (access(a, F_OK) == 0 &&
	    nftw(a, rm_cb, 16, FTW_DEPTH | FTW_PHYS) == -1)
		return (-1);
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
	};

	return (cmocka_run_group_tests(tests, group_setup, group_teardown));
}
