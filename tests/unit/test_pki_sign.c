/*
 * Unit tests for pki/sign.c and the enrolled lines of the index
 * (pki/store.c): a CSR signed with the client profile chains to the CA,
 * is recorded in the journal enrolled.txt with its user and clientUid,
 * shows in the index, is revoked by name (even a user name that is no
 * file name) and by serial, lands in the CRL, and a broken or hostile
 * journal never stops a revocation nor smuggles in anything but valid
 * enrolled client lines.  init-ca --force sets the journal aside.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki/pki.h"
#include "pki/sign.h"
#include "shared/csr_check.h"
#include "unit.h"

static char	 root[64];
static char	 dir[128];
static char	 err[1024];

struct fds {
	int	 ca, key, dir, journal;
};

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return (remove(path));
}

static int
setup(void **state)
{
	struct pki_req		 req;
	struct pki_result	 res;

	snprintf(root, sizeof(root), "/tmp/test_pki_sign.XXXXXX");
	if (mkdtemp(root) == NULL)
		return (-1);
	snprintf(dir, sizeof(dir), "%s/pki", root);
	memset(&req, 0, sizeof(req));
	req.cn = "test CA";
	if (pki_init_ca(dir, &req, &res, err, sizeof(err)) == -1) {
		fprintf(stderr, "init-ca: %s\n", err);
		return (-1);
	}
	return (0);
}

static int
teardown(void **state)
{
	return (nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS));
}

/* What root opens for takd-signer before the drop. */
static void
open_fds(struct fds *f)
{
	f->dir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->dir >= 0);
	f->ca = openat(f->dir, PKI_CA_CERT, O_RDONLY | O_CLOEXEC);
	f->key = openat(f->dir, PKI_CA_KEY, O_RDONLY | O_CLOEXEC);
	f->journal = openat(f->dir, PKI_JOURNAL, O_WRONLY | O_APPEND |
	    O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	assert_true(f->ca >= 0 && f->key >= 0 && f->journal >= 0);
}

static void
close_fds(struct fds *f)
{
	close(f->ca);
	close(f->key);
	close(f->dir);
	close(f->journal);
}

static X509_REQ *
make_csr(const char *cn, EVP_PKEY **keyp)
{
	EVP_PKEY	*key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509_REQ	*req = X509_REQ_new();
	X509_NAME	*n = X509_REQ_get_subject_name(req);

	assert_non_null(key);
	X509_REQ_set_version(req, X509_REQ_VERSION_1);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
	    (const unsigned char *)"TAK", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8,
	    (const unsigned char *)"Field", -1, -1, 0);
	X509_REQ_set_pubkey(req, key);
	assert_true(X509_REQ_sign(req, key, EVP_sha256()) > 0);
	if (keyp != NULL)
		*keyp = key;
	else
		EVP_PKEY_free(key);
	return (req);
}

/* Sign for user with clientUid uid; the certificate and its index line. */
static X509 *
enroll(struct pki_signer *s, const char *user, const char *uid,
    struct pki_entry *e)
{
	const struct csr_policy	 pol = { "TAK", "Field", 0 };
	struct pki_enroll_req	 er;
	X509_REQ		*csr = make_csr(user, NULL);
	X509			*cert;
	char			 why[CSR_REASON_MAX];

	if (csr_check(csr, user, &pol, NULL, why, sizeof(why)) == -1)
		fail_msg("csr_check: %s", why);
	memset(&er, 0, sizeof(er));
	er.csr = csr;
	er.user = user;
	er.o = "TAK";
	er.ou = "Field";
	er.client_uid = uid;
	er.days = 30;
	cert = pki_sign_enroll(s, &er, e, err, sizeof(err));
	if (cert == NULL)
		fail_msg("pki_sign_enroll: %s", err);
	X509_REQ_free(csr);
	return (cert);
}

static X509 *
read_ca(void)
{
	char	 p[PATH_MAX];
	FILE	*fp;
	X509	*ca;

	snprintf(p, sizeof(p), "%s/%s", dir, PKI_CA_CERT);
	assert_non_null(fp = fopen(p, "r"));
	ca = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(ca);
	return (ca);
}

static const struct pki_entry *
find(const struct pki_index *idx, const char *serial)
{
	size_t	 i;

	for (i = 0; i < idx->n; i++)
		if (strcmp(idx->v[i].serial, serial) == 0)
			return (&idx->v[i]);
	return (NULL);
}

static void
test_sign_chains_and_records(void **state)
{
	struct pki_signer	 s;
	struct pki_entry	 e;
	struct pki_index	 idx;
	struct fds		 f;
	X509			*cert, *ca = read_ca();
	X509_STORE		*store = X509_STORE_new();
	X509_STORE_CTX		*ctx = X509_STORE_CTX_new();
	const struct pki_entry	*ie;
	char			 subj[256];
	BASIC_CONSTRAINTS	*bc;

	open_fds(&f);
	if (pki_signer_load(&s, f.ca, f.key, f.dir, f.journal, err,
	    sizeof(err)) == -1)
		fail_msg("load: %s", err);
	cert = enroll(&s, "alice", "ANDROID-1234", &e);
	/* It chains to the CA as a TLS client certificate. */
	X509_STORE_add_cert(store, ca);
	X509_STORE_CTX_init(ctx, store, cert, NULL);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	assert_int_equal(X509_verify_cert(ctx), 1);
	pki_subject(X509_get_subject_name(cert), subj, sizeof(subj));
	assert_string_equal(subj, "OU=Field,O=TAK,CN=alice");
	bc = X509_get_ext_d2i(cert, NID_basic_constraints, NULL, NULL);
	assert_non_null(bc);
	assert_false(bc->ca);
	BASIC_CONSTRAINTS_free(bc);
	assert_true(e.enrolled);
	assert_string_equal(e.client_uid, "ANDROID-1234");

	/* The index (journal merged) lists it with the user and the uid. */
	assert_int_equal(pki_index_load(dir, &idx, err, sizeof(err)), 0);
	assert_non_null(ie = find(&idx, e.serial));
	assert_int_equal(ie->kind, PKI_KIND_CLIENT);
	assert_string_equal(ie->name, "alice");
	assert_true(ie->enrolled);
	assert_string_equal(ie->client_uid, "ANDROID-1234");
	assert_int_equal(ie->status, PKI_STATUS_VALID);
	pki_index_free(&idx);

	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(cert);
	X509_free(ca);
	pki_signer_clear(&s);
	close_fds(&f);
}

/* Revocation by the user's name and by serial, and the CRL. */
static void
test_revoke_enrolled(void **state)
{
	struct pki_signer	 s;
	struct pki_entry	 a1, a2, j;
	struct pki_index	 idx;
	struct pki_revoke_req	 rr;
	struct pki_crl_out	 out;
	struct fds		 f;
	X509			*c1, *c2, *c3;
	char			 p[PATH_MAX], *buf;
	size_t			 len;

	open_fds(&f);
	assert_int_equal(pki_signer_load(&s, f.ca, f.key, f.dir, f.journal,
	    err, sizeof(err)), 0);
	/* The same (user, clientUid) twice: both recorded, both valid. */
	c1 = enroll(&s, "alice", "ANDROID-1", &a1);
	c2 = enroll(&s, "alice", "ANDROID-1", &a2);
	c3 = enroll(&s, "John Smith", "", &j);
	assert_string_not_equal(a1.serial, a2.serial);

	memset(&rr, 0, sizeof(rr));
	rr.by = PKI_REVOKE_SERIAL;
	rr.arg = a1.serial;
	rr.reason = CRL_REASON_NONE;
	if (pki_revoke(dir, NULL, &rr, &out, err, sizeof(err)) == -1)
		fail_msg("revoke --serial: %s", err);
	assert_int_equal(out.n_revoked, 1);
	assert_int_equal(out.entries, 1);
	pki_crl_out_free(&out);
	/* The index now holds the enrolled lines with their uid. */
	snprintf(p, sizeof(p), "%s/%s", dir, PKI_INDEX);
	assert_non_null(buf = fileio_read(AT_FDCWD, p, p, 1 << 20, &len, err,
	    sizeof(err)));
	assert_contains(buf, "\tenroll=ANDROID-1\n");
	assert_contains(buf, "\tJohn Smith\t");
	assert_contains(buf, "\tenroll=\n");
	free(buf);

	/* By name: the other one of alice's, then a name with a blank. */
	rr.by = PKI_REVOKE_NAME;
	rr.arg = "alice";
	if (pki_revoke(dir, NULL, &rr, &out, err, sizeof(err)) == -1)
		fail_msg("revoke alice: %s", err);
	assert_int_equal(out.n_revoked, 1);
	assert_string_equal(out.revoked[0].serial, a2.serial);
	pki_crl_out_free(&out);
	rr.arg = "John Smith";
	if (pki_revoke(dir, NULL, &rr, &out, err, sizeof(err)) == -1)
		fail_msg("revoke \"John Smith\": %s", err);
	assert_int_equal(out.entries, 3);
	pki_crl_out_free(&out);
	/* A name nobody has is still refused with the old message. */
	rr.arg = "Nobody Here";
	assert_int_equal(pki_revoke(dir, NULL, &rr, &out, err, sizeof(err)),
	    -1);

	assert_int_equal(pki_index_load(dir, &idx, err, sizeof(err)), 0);
	assert_int_equal(find(&idx, a1.serial)->status, PKI_STATUS_REVOKED);
	assert_int_equal(find(&idx, a2.serial)->status, PKI_STATUS_REVOKED);
	assert_int_equal(find(&idx, j.serial)->status, PKI_STATUS_REVOKED);
	pki_index_free(&idx);
	X509_free(c1);
	X509_free(c2);
	X509_free(c3);
	pki_signer_clear(&s);
	close_fds(&f);
}

/* Append raw bytes to the journal, as a broken or hostile signer would. */
static void
journal_add(const char *text)
{
	char	 p[PATH_MAX];
	int	 fd;

	snprintf(p, sizeof(p), "%s/%s", dir, PKI_JOURNAL);
	fd = open(p, O_WRONLY | O_APPEND | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void
test_journal_hostile(void **state)
{
	struct pki_signer	 s;
	struct pki_entry	 a;
	struct pki_index	 idx;
	struct pki_revoke_req	 rr;
	struct pki_crl_out	 out;
	struct fds		 f;
	X509			*c;
	char			 line[1024];
	size_t			 i, enrolled = 0;

	open_fds(&f);
	assert_int_equal(pki_signer_load(&s, f.ca, f.key, f.dir, f.journal,
	    err, sizeof(err)), 0);
	c = enroll(&s, "alice", "U1", &a);
	/* The same line again, garbage, a forged CA, server and revoked. */
	assert_true(pki_index_format(&a, line, sizeof(line)) > 0);
	journal_add(line);
	journal_add("garbage line\n");
	journal_add("ca\t0A\t2030-01-01T00:00:00Z\tx\tCN=x\tvalid\n");
	journal_add("server\t0B\t2030-01-01T00:00:00Z\tx\tCN=x\tvalid\n");
	journal_add("client\t0C\t2030-01-01T00:00:00Z\tx\tCN=x\trevoked\t-\t-"
	    "\tenroll=U\n");
	journal_add("client\t0D\t2030-01-01T00:00:00Z\tx\tCN=x\tvalid\n");
	/* A torn last line (a crash mid-write) is not taken either. */
	journal_add("client\t0E\t2030-01-01T00:00:00Z\tx\tCN=x\tvalid\tenr");

	assert_int_equal(pki_index_load(dir, &idx, err, sizeof(err)), 0);
	for (i = 0; i < idx.n; i++) {
		assert_true(idx.v[i].kind == PKI_KIND_CA ||
		    idx.v[i].kind == PKI_KIND_CLIENT);
		if (idx.v[i].enrolled)
			enrolled++;
		assert_true(strcmp(idx.v[i].serial, "0A") != 0 &&
		    strcmp(idx.v[i].serial, "0B") != 0 &&
		    strcmp(idx.v[i].serial, "0C") != 0 &&
		    strcmp(idx.v[i].serial, "0D") != 0 &&
		    strcmp(idx.v[i].serial, "0E") != 0);
	}
	assert_int_equal(enrolled, 1);
	pki_index_free(&idx);
	/* And revocation works through it. */
	memset(&rr, 0, sizeof(rr));
	rr.by = PKI_REVOKE_NAME;
	rr.arg = "alice";
	rr.reason = CRL_REASON_NONE;
	if (pki_revoke(dir, NULL, &rr, &out, err, sizeof(err)) == -1)
		fail_msg("revoke: %s", err);
	assert_int_equal(out.n_revoked, 1);
	pki_crl_out_free(&out);
	/* Revoked in the index, the journal's "valid" no longer counts. */
	assert_int_equal(pki_index_load(dir, &idx, err, sizeof(err)), 0);
	assert_int_equal(find(&idx, a.serial)->status, PKI_STATUS_REVOKED);
	pki_index_free(&idx);
	X509_free(c);
	pki_signer_clear(&s);
	close_fds(&f);
}

static void
test_init_ca_sets_journal_aside(void **state)
{
	struct pki_signer	 s;
	struct pki_entry	 a;
	struct pki_index	 idx;
	struct pki_req		 req;
	struct pki_result	 res;
	struct fds		 f;
	struct stat		 st;
	char			 p[PATH_MAX];
	X509			*c;
	size_t			 i;

	open_fds(&f);
	assert_int_equal(pki_signer_load(&s, f.ca, f.key, f.dir, f.journal,
	    err, sizeof(err)), 0);
	c = enroll(&s, "alice", "U1", &a);
	memset(&req, 0, sizeof(req));
	req.cn = "new CA";
	req.force = true;
	if (pki_init_ca(dir, &req, &res, err, sizeof(err)) == -1)
		fail_msg("init-ca --force: %s", err);
	snprintf(p, sizeof(p), "%s/%s", dir, PKI_JOURNAL_OLD);
	assert_int_equal(stat(p, &st), 0);
	assert_true(st.st_size > 0);
	snprintf(p, sizeof(p), "%s/%s", dir, PKI_JOURNAL);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 0);
	/* The old CA's certificate is not in the new index. */
	assert_int_equal(pki_index_load(dir, &idx, err, sizeof(err)), 0);
	for (i = 0; i < idx.n; i++)
		assert_false(idx.v[i].enrolled);
	pki_index_free(&idx);
	X509_free(c);
	pki_signer_clear(&s);
	close_fds(&f);
}

static void
test_load_refuses(void **state)
{
	struct pki_signer	 s;
	struct fds		 f;
	int			 ro;

	open_fds(&f);
	/* The journal must be open for appending. */
	ro = openat(f.dir, PKI_JOURNAL, O_RDONLY | O_CLOEXEC);
	assert_int_equal(pki_signer_load(&s, f.ca, f.key, f.dir, ro, err,
	    sizeof(err)), -1);
	assert_contains(err, "appending");
	close(ro);
	/* ca.pem where ca.key belongs. */
	assert_int_equal(pki_signer_load(&s, f.ca, f.ca, f.dir, f.journal,
	    err, sizeof(err)), -1);
	assert_contains(err, PKI_CA_KEY);
	close_fds(&f);
}

static void
test_index_enroll_field(void **state)
{
	struct pki_index	 idx;
	static const char *const bad[] = {
		"server\t0A\t2030-01-01T00:00:00Z\tx\tCN=x\tvalid\tenroll=u\n",
		"client\t0A\t2030-01-01T00:00:00Z\tx\tCN=x\tvalid\tenroll=a b\n",
		"client\t0A\t2030-01-01T00:00:00Z\tx\tCN=x\tvalid\tfoo=u\n",
		("client\t0A\t2030-01-01T00:00:00Z\tx\tCN=x\tvalid\tenroll=u"
		    "\tenroll=v\n"),
	};
	const char *good = "client\t0A\t2030-01-01T00:00:00Z\tx y\tCN=x y\t"
	    "revoked\t2026-01-01T00:00:00Z\tkeyCompromise\tenroll=ANDROID-9\n";
	char	 line[1024];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pki_index_parse(bad[i], strlen(bad[i]), &idx, err,
		    sizeof(err)) == 0)
			fail_msg("accepted: %s", bad[i]);
	assert_int_equal(pki_index_parse(good, strlen(good), &idx, err,
	    sizeof(err)), 0);
	assert_int_equal(idx.n, 1);
	assert_true(idx.v[0].enrolled);
	assert_string_equal(idx.v[0].client_uid, "ANDROID-9");
	assert_int_equal(idx.v[0].status, PKI_STATUS_REVOKED);
	assert_true(pki_index_format(&idx.v[0], line, sizeof(line)) > 0);
	assert_string_equal(line, good);
	pki_index_free(&idx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sign_chains_and_records,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_enrolled, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_journal_hostile, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_init_ca_sets_journal_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_refuses, setup,
		    teardown),
		cmocka_unit_test(test_index_enroll_field),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
