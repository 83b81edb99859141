/*
 * Unit tests for shared/crlset*.c, the revoked-serial set of a CRL, and for
 * the verify callback of shared/tlsctx.c that checks chains against it:
 * build from CRLs made here (serials short, 20 bytes, longer, negative,
 * zero, with leading zeros; duplicates; removeFromCRL), lookups that hit
 * and miss, CRLs the set cannot stand for, memfds that are malformed or
 * not sealed, X509_verify_cert() with takd's callback under leaf, chain
 * and off, fresh and stale (enforce-listed, strict), and the worker's
 * check of a live or resumed session (revoke_listed(), worker/revoke.c).
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
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
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "shared/config.h"
#include "shared/crlset.h"
#include "shared/pkiutil.h"
#include "shared/tlsctx.h"
#include "tests/unit/unit.h"
#include "worker/revoke.h"

#define DAY	86400

static char	 err[512];

static EVP_PKEY *
key_new(void)
{
	EVP_PKEY	*k;

	if ((k = EVP_EC_gen("P-256")) == NULL)
		fail_msg("EVP_EC_gen");
	return (k);
}

/* A certificate CN=cn with serial (hex), signed by issuer/ikey (NULL: self). */
static X509 *
cert_new(const char *cn, const char *serial, EVP_PKEY *key, X509 *issuer,
    EVP_PKEY *ikey, int ca)
{
	X509		*x;
	X509_NAME	*name;
	BIGNUM		*bn = NULL;
	X509V3_CTX	 v3;
	X509_EXTENSION	*ext;

	assert_non_null(x = X509_new());
	assert_true(X509_set_version(x, 2));
	assert_true(BN_hex2bn(&bn, serial) > 0);
	assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
	BN_free(bn);
	assert_non_null(name = X509_NAME_new());
	assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0));
	assert_true(X509_set_subject_name(x, name));
	assert_true(X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : name));
	X509_NAME_free(name);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -DAY));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 30 * DAY));
	assert_true(X509_set_pubkey(x, key));
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	assert_non_null(ext = X509V3_EXT_conf_nid(NULL, &v3,
	    NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE"));
	assert_true(X509_add_ext(x, ext, -1));
	X509_EXTENSION_free(ext);
	if (ca) {
		assert_non_null(ext = X509V3_EXT_conf_nid(NULL, &v3,
		    NID_key_usage, "critical,keyCertSign,cRLSign"));
		assert_true(X509_add_ext(x, ext, -1));
		X509_EXTENSION_free(ext);
	}
	/* Key identifiers: chain building picks the issuer by them. */
	assert_non_null(ext = X509V3_EXT_conf_nid(NULL, &v3,
	    NID_subject_key_identifier, "hash"));
	assert_true(X509_add_ext(x, ext, -1));
	X509_EXTENSION_free(ext);
	if (issuer != NULL) {
		assert_non_null(ext = X509V3_EXT_conf_nid(NULL, &v3,
		    NID_authority_key_identifier, "keyid:always"));
		assert_true(X509_add_ext(x, ext, -1));
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(x, ikey != NULL ? ikey : key, EVP_sha256()) > 0);
	return (x);
}

/* One CRL entry: serial as DER content bytes, negative or not. */
struct ent {
	const char	*hex;		/* magnitude, may have leading zeros */
	int		 neg;
	int		 reason;	/* -1: no reason extension */
	long		 ago;		/* revoked this many seconds ago */
};

static ASN1_INTEGER *
int_new(const char *hex, int neg)
{
	ASN1_INTEGER	*ai;
	unsigned char	 b[64];
	size_t		 n = strlen(hex) / 2, i;
	unsigned int	 v;

	assert_true(n <= sizeof(b));
	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		b[i] = (unsigned char)v;
	}
	assert_non_null(ai = ASN1_INTEGER_new());
	/* Raw: the leading zeros stay as given. */
	assert_true(ASN1_STRING_set(ai, b, (int)n));
	if (neg)
		ai->type = V_ASN1_NEG_INTEGER;
	return (ai);
}

static void
crl_add(X509_CRL *crl, const struct ent *e, int critical_ext)
{
	X509_REVOKED	*rev;
	ASN1_INTEGER	*ai = int_new(e->hex, e->neg);
	ASN1_TIME	*t;
	ASN1_ENUMERATED	*r;

	assert_non_null(rev = X509_REVOKED_new());
	assert_true(X509_REVOKED_set_serialNumber(rev, ai));
	assert_non_null(t = X509_time_adj_ex(NULL, 0, -e->ago, NULL));
	assert_true(X509_REVOKED_set_revocationDate(rev, t));
	if (e->reason >= 0) {
		assert_non_null(r = ASN1_ENUMERATED_new());
		assert_true(ASN1_ENUMERATED_set(r, e->reason));
		assert_true(X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, r,
		    critical_ext, 0));
		ASN1_ENUMERATED_free(r);
	}
	assert_true(X509_CRL_add0_revoked(crl, rev));
	ASN1_INTEGER_free(ai);
	ASN1_TIME_free(t);
}

/* A CRL by ca/key with entries, valid from last to next (from now). */
static X509_CRL *
crl_new(X509 *ca, EVP_PKEY *key, const struct ent *ents, size_t n,
    long last, long next)
{
	X509_CRL	*crl;
	ASN1_TIME	*t;
	size_t		 i;

	assert_non_null(crl = X509_CRL_new());
	assert_true(X509_CRL_set_version(crl, 1));
	assert_true(X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)));
	assert_non_null(t = X509_time_adj_ex(NULL, 0, last, NULL));
	assert_true(X509_CRL_set1_lastUpdate(crl, t));
	ASN1_TIME_free(t);
	assert_non_null(t = X509_time_adj_ex(NULL, 0, next, NULL));
	assert_true(X509_CRL_set1_nextUpdate(crl, t));
	ASN1_TIME_free(t);
	for (i = 0; i < n; i++)
		crl_add(crl, &ents[i], 0);
	assert_true(X509_CRL_sort(crl));
	assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
	return (crl);
}

static int
memfd_new(void)
{
	int	 fd;

	fd = memfd_create("test-crlset", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_true(fd >= 0);
	return (fd);
}

/* The set of crl, built and mapped; NULL (err set) when the build fails. */
static struct crlset *
set_new(X509_CRL *crl, X509 *signer)
{
	struct crlset	*s;
	int		 fd = memfd_new();

	err[0] = '\0';
	if (crlset_build(fd, crl, signer, err, sizeof(err)) == -1) {
		close(fd);
		return (NULL);
	}
	s = crlset_map(fd, err, sizeof(err));
	close(fd);
	if (s == NULL)
		fail_msg("crlset_map of a built set: %s", err);
	return (s);
}

static int
listed(const struct crlset *s, const char *hex, int neg,
    const struct crlset_entry **e)
{
	ASN1_INTEGER	*ai = int_new(hex, neg);
	int		 r;

	r = crlset_find(s, ai, e);
	ASN1_INTEGER_free(ai);
	return (r);
}

static const char	 s20[] = "ff0102030405060708090a0b0c0d0e0f10111213";
static const char	 s25[] =
    "7f0102030405060708090a0b0c0d0e0f101112131415161718";
static const char	 s25b[] =
    "7f0102030405060708090a0b0c0d0e0f101112131415161719";

static void
test_build_lookup(void **state)
{
	static const struct ent ents[] = {
		{ "01", 0, 1, 3600 },		/* keyCompromise */
		{ "0a1b2c3d4e5f60718293a4b5c6d7e8f9", 0, -1, 7200 },
		{ s20, 0, 4, 60 },		/* 20 bytes, top bit set */
		{ s25, 0, 5, 60 },		/* longer than RFC 5280 allows */
		{ "05", 1, 2, 60 },		/* -5 */
		{ "00", 0, 0, 60 },		/* zero */
		{ "0101", 0, 3, 60 },
		{ "0101", 0, 9, 86400 },	/* again, earlier: kept */
		{ "0202", 0, 8, 60 },		/* removeFromCRL: left out */
		{ "0303", 0, 42, 60 },		/* a code nobody knows */
	};
	const struct crlset_entry *e = NULL;
	struct crlset	*s;
	EVP_PKEY	*k = key_new(), *k2 = key_new();
	X509		*ca = cert_new("Test CA", "01", k, NULL, NULL, 1);
	X509		*other = cert_new("Other CA", "02", k2, NULL, NULL, 1);
	X509		*twin = cert_new("Test CA", "03", k2, NULL, NULL, 1);
	X509_CRL	*crl;
	STACK_OF(X509)	*cas;
	time_t		 now = time(NULL);

	crl = crl_new(ca, k, ents, sizeof(ents) / sizeof(ents[0]), -60,
	    7 * DAY);
	assert_non_null(s = set_new(crl, ca));
	assert_int_equal(crlset_crl_entries(s), 10);
	assert_int_equal(crlset_count(s), 8);	/* a duplicate, a removal */
	assert_true(crlset_last_update(s) <= now - 59);
	assert_true(crlset_next_update(s) >= now + 7 * DAY - 1);
	assert_false(crlset_stale(s, now));
	assert_true(crlset_stale(s, now + 8 * DAY));

	/* Hits, with reason and date; the leading zeros do not matter. */
	assert_int_equal(listed(s, "01", 0, &e), 1);
	assert_int_equal(e->reason, CRL_REASON_KEY_COMPROMISE);
	assert_true(e->revoked_at <= now - 3599 && e->revoked_at >= now - 3700);
	assert_int_equal(listed(s, "000001", 0, NULL), 1);
	assert_int_equal(listed(s, "0a1b2c3d4e5f60718293a4b5c6d7e8f9", 0, &e),
	    1);
	assert_int_equal(e->reason, CRL_REASON_NONE);
	assert_int_equal(listed(s, s20, 0, &e), 1);
	assert_int_equal(e->reason, CRL_REASON_SUPERSEDED);
	assert_int_equal(listed(s, s25, 0, &e), 1);
	assert_int_equal(e->len, CRLSET_HASHED);
	assert_int_equal(listed(s, "05", 1, NULL), 1);
	assert_int_equal(listed(s, "00", 0, NULL), 1);
	assert_int_equal(listed(s, "", 0, NULL), 1);	/* zero, no byte */
	assert_int_equal(listed(s, "0101", 0, &e), 1);
	assert_int_equal(e->reason, CRL_REASON_PRIVILEGE_WITHDRAWN);
	assert_true(e->revoked_at <= now - DAY + 1);
	assert_int_equal(listed(s, "0303", 0, &e), 1);
	assert_int_equal(e->reason, -2);

	/* Misses: neighbours, the other sign, removeFromCRL. */
	assert_int_equal(listed(s, "02", 0, NULL), 0);
	assert_int_equal(listed(s, "05", 0, NULL), 0);
	assert_int_equal(listed(s, "01", 1, NULL), 0);
	assert_int_equal(listed(s, s25b, 0, NULL), 0);
	assert_int_equal(listed(s, s20 + 2, 0, NULL), 0);
	assert_int_equal(listed(s, "0202", 0, NULL), 0);
	assert_int_equal(crlset_find(s, NULL, NULL), 0);

	/* Issuer: the name, and the key that signed. */
	assert_true(crlset_covers(s, X509_get_subject_name(ca)));
	assert_false(crlset_covers(s, X509_get_subject_name(other)));
	assert_false(crlset_covers(s, NULL));
	assert_true(crlset_signed_by(s, ca));
	assert_false(crlset_signed_by(s, twin));
	assert_false(crlset_signed_by(s, NULL));
	assert_non_null(cas = sk_X509_new_null());
	assert_true(sk_X509_push(cas, other));
	assert_true(sk_X509_push(cas, twin));
	assert_int_equal(crlset_check_ca(s, cas, err, sizeof(err)), -1);
	assert_contains(err, "not the CRL of a configured CA");
	assert_true(sk_X509_push(cas, ca));
	assert_int_equal(crlset_check_ca(s, cas, err, sizeof(err)), 0);
	sk_X509_free(cas);

	crlset_free(s);
	crlset_free(NULL);
	X509_CRL_free(crl);
	X509_free(ca);
	X509_free(other);
	X509_free(twin);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

/* An empty CRL, and no nextUpdate. */
static void
test_build_empty(void **state)
{
	struct crlset	*s;
	EVP_PKEY	*k = key_new();
	X509		*ca = cert_new("Test CA", "01", k, NULL, NULL, 1);
	X509_CRL	*crl;
	ASN1_TIME	*t;

	assert_non_null(crl = X509_CRL_new());
	assert_true(X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)));
	assert_non_null(t = X509_time_adj_ex(NULL, 0, -10, NULL));
	assert_true(X509_CRL_set1_lastUpdate(crl, t));
	ASN1_TIME_free(t);
	assert_true(X509_CRL_sign(crl, k, EVP_sha256()) > 0);
	assert_non_null(s = set_new(crl, ca));
	assert_int_equal(crlset_count(s), 0);
	assert_int_equal(crlset_next_update(s), 0);
	assert_false(crlset_stale(s, time(NULL) + 3650 * DAY));
	assert_int_equal(listed(s, "01", 0, NULL), 0);
	crlset_free(s);
	X509_CRL_free(crl);
	X509_free(ca);
	EVP_PKEY_free(k);
}


/* What the set cannot stand for is refused, with the reason. */
static void
test_build_refuses(void **state)
{
	static const struct ent one = { "01", 0, 1, 60 };
	EVP_PKEY	*k = key_new();
	X509		*ca = cert_new("Test CA", "01", k, NULL, NULL, 1);
	X509_CRL	*crl;
	X509_REVOKED	*rev;
	X509_EXTENSION	*ext;
	ASN1_OCTET_STRING *os;
	GENERAL_NAMES	*gens;
	GENERAL_NAME	*gen;
	ASN1_INTEGER	*base;
	ASN1_OBJECT	*obj;
	ISSUING_DIST_POINT *idp;

	/* A delta CRL lists changes only. */
	crl = crl_new(ca, k, &one, 1, -60, DAY);
	assert_non_null(base = ASN1_INTEGER_new());
	assert_true(ASN1_INTEGER_set(base, 1));
	assert_true(X509_CRL_add1_ext_i2d(crl, NID_delta_crl, base, 1, 0));
	ASN1_INTEGER_free(base);
	assert_null(set_new(crl, ca));
	assert_contains(err, "delta or partial CRL");
	X509_CRL_free(crl);

	/* A partial one, for users' certificates only. */
	crl = crl_new(ca, k, &one, 1, -60, DAY);
	assert_non_null(idp = ISSUING_DIST_POINT_new());
	idp->onlyuser = 0xff;
	assert_true(X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point,
	    idp, 1, 0));
	ISSUING_DIST_POINT_free(idp);
	assert_null(set_new(crl, ca));
	assert_contains(err, "delta or partial CRL");
	X509_CRL_free(crl);

	/* A critical extension nobody handles. */
	crl = crl_new(ca, k, &one, 1, -60, DAY);
	assert_non_null(os = ASN1_OCTET_STRING_new());
	assert_true(ASN1_OCTET_STRING_set(os, (const unsigned char *)"\x05\x00",
	    2));
	assert_non_null(obj = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1));
	assert_non_null(ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, os));
	assert_true(X509_CRL_add_ext(crl, ext, -1));
	X509_EXTENSION_free(ext);
	ASN1_OBJECT_free(obj);
	ASN1_OCTET_STRING_free(os);
	assert_null(set_new(crl, ca));
	assert_contains(err, "critical extension takd does not handle");
	X509_CRL_free(crl);

	/* An entry of another issuer (indirect CRL). */
	crl = crl_new(ca, k, &one, 1, -60, DAY);
	rev = sk_X509_REVOKED_value(X509_CRL_get_REVOKED(crl), 0);
	assert_non_null(gens = GENERAL_NAMES_new());
	assert_non_null(gen = GENERAL_NAME_new());
	gen->type = GEN_DIRNAME;
	gen->d.directoryName = X509_NAME_dup(X509_get_subject_name(ca));
	assert_true(sk_GENERAL_NAME_push(gens, gen));
	assert_true(X509_REVOKED_add1_ext_i2d(rev, NID_certificate_issuer,
	    gens, 1, 0));
	GENERAL_NAMES_free(gens);
	assert_null(set_new(crl, ca));
	assert_contains(err, "names another issuer");
	X509_CRL_free(crl);

	/* A critical entry extension (OpenSSL refused those too). */
	assert_non_null(crl = crl_new(ca, k, NULL, 0, -60, DAY));
	crl_add(crl, &one, 1);
	assert_null(set_new(crl, ca));
	assert_contains(err, "entry 0 has a critical extension");
	X509_CRL_free(crl);

	X509_free(ca);
	EVP_PKEY_free(k);
}

/* The bytes of a set as crlset_build() writes them. */
static uint8_t *
set_bytes(size_t *len)
{
	static const struct ent ents[] = {
		{ "01", 0, 1, 60 }, { "02", 0, -1, 60 }, { "0303", 0, 3, 60 },
		{ "05", 1, 2, 60 },
	};
	EVP_PKEY	*k = key_new();
	X509		*ca = cert_new("Test CA", "01", k, NULL, NULL, 1);
	X509_CRL	*crl = crl_new(ca, k, ents, 4, -60, DAY);
	struct stat	 st;
	uint8_t		*b;
	int		 fd = memfd_new();

	assert_int_equal(crlset_build(fd, crl, ca, err, sizeof(err)), 0);
	assert_int_equal(fstat(fd, &st), 0);
	*len = (size_t)st.st_size;
	assert_int_equal(*len, CRLSET_HDR_SIZE + 4 *
	    sizeof(struct crlset_entry));
	assert_non_null(b = malloc(*len));
	assert_int_equal(pread(fd, b, *len, 0), (ssize_t)*len);
	/* Sealed against everything: even its maker cannot write it now. */
	assert_int_equal(pwrite(fd, "x", 1, 0), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(fd, 0), -1);
	close(fd);
	X509_CRL_free(crl);
	X509_free(ca);
	EVP_PKEY_free(k);
	return (b);
}

/* Map len bytes of b from a memfd with those seals. */
static struct crlset *
map_bytes(const uint8_t *b, size_t len, int seals)
{
	struct crlset	*s;
	int		 fd = memfd_new();

	assert_int_equal(write(fd, b, len), (ssize_t)len);
	if (seals != 0)
		assert_int_equal(fcntl(fd, F_ADD_SEALS, seals), 0);
	err[0] = '\0';
	s = crlset_map(fd, err, sizeof(err));
	close(fd);
	return (s);
}

#define SEALED	(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

static void
expect_refused(const uint8_t *b, size_t len, const char *why)
{
	struct crlset	*s;

	if ((s = map_bytes(b, len, SEALED)) != NULL) {
		crlset_free(s);
		fail_msg("a malformed set was mapped (%s expected)", why);
	}
	assert_contains(err, why);
}

/* The worker's side: whatever is not exactly a well-formed set is refused. */
static void
test_map_refuses(void **state)
{
	struct crlset_hdr	*h;
	struct crlset_entry	*e;
	struct crlset		*s;
	uint8_t			*good, *b, *big;
	size_t			 len;
	int			 fd;

	good = set_bytes(&len);
	assert_non_null(b = malloc(len + 64));
	h = (struct crlset_hdr *)(void *)b;
	e = (struct crlset_entry *)(void *)(b + CRLSET_HDR_SIZE);

	/* As built: fine. */
	assert_non_null(s = map_bytes(good, len, SEALED));
	assert_int_equal(crlset_count(s), 4);
	crlset_free(s);

	/* Not sealed, or not against all of writing, shrinking, growing. */
	assert_null(map_bytes(good, len, 0));
	assert_contains(err, "not sealed");
	assert_null(map_bytes(good, len, F_SEAL_SHRINK | F_SEAL_GROW));
	assert_contains(err, "not sealed");
	assert_null(map_bytes(good, len, F_SEAL_WRITE | F_SEAL_GROW));
	assert_contains(err, "not sealed");
	/* Not a memfd at all: no seals either. */
	assert_true((fd = open("/dev/null", O_RDONLY)) >= 0);
	assert_null(crlset_map(fd, err, sizeof(err)));
	close(fd);

	/* Sizes. */
	expect_refused(good, 0, "out of range");
	expect_refused(good, CRLSET_HDR_SIZE - 1, "out of range");
	expect_refused(good, len - 1, "out of range");
	memcpy(b, good, len);
	memset(b + len, 0, sizeof(struct crlset_entry));
	expect_refused(b, len + sizeof(struct crlset_entry), "header says");

#define MUTATE(stmt, why) do {						\
	memcpy(b, good, len);						\
	stmt;								\
	expect_refused(b, len, why);					\
} while (0)
	MUTATE(h->magic ^= 1, "bad magic");
	MUTATE(h->version = 2, "bad magic or version");
	MUTATE(h->size += 32, "header says");
	MUTATE(h->n = 3, "entries");
	MUTATE(h->crl_entries = 3, "entries");
	MUTATE(h->issuer_len = 0, "malformed header");
	MUTATE(h->issuer_len = CRLSET_ISSUER_MAX + 1, "malformed header");
	MUTATE(h->zero = 1, "malformed header");
	MUTATE(h->last_update = 0, "malformed header");
	MUTATE(h->next_update = -1, "malformed header");
	MUTATE(h->issuer[h->issuer_len] = 1, "padding");
	MUTATE(b[CRLSET_HDR_SIZE - 1] = 1, "padding");
	MUTATE(h->issuer[0] ^= 0xff, "issuer name undecodable");
	MUTATE((h->issuer_len -= 1, h->issuer[h->issuer_len] = 0),
	    "issuer name undecodable");
	/* Entries: order, repeats, fields, one encoding per serial. */
	MUTATE(e[1] = e[0], "out of order or repeated");
	MUTATE((e[0] = e[2], e[2] = ((struct crlset_entry *)(void *)
	    (good + CRLSET_HDR_SIZE))[0]), "out of order");
	MUTATE(e[3].len = CRLSET_SERIAL_MAX + 1, "entry 3 malformed");
	MUTATE(e[3].neg = 2, "entry 3 malformed");
	MUTATE(e[3].zero = 1, "entry 3 malformed");
	MUTATE(e[3].reason = CRL_REASON_REMOVE_FROM_CRL, "entry 3 malformed");
	MUTATE(e[3].reason = 11, "entry 3 malformed");
	MUTATE(e[3].reason = -3, "entry 3 malformed");
	MUTATE((e[3].serial[1] = e[3].serial[0], e[3].serial[0] = 0,
	    e[3].len = 2), "not canonical");
	MUTATE(e[3].serial[CRLSET_SERIAL_MAX - 1] = 1, "not canonical");
	MUTATE((e[0].len = 0, e[0].serial[0] = 0), "not canonical");
#undef MUTATE

	/* More entries than any CRL takd reads. */
	len = CRLSET_HDR_SIZE + ((size_t)CRLSET_ENTRIES_MAX + 1) *
	    sizeof(struct crlset_entry);
	assert_non_null(big = calloc(1, len));
	memcpy(big, good, CRLSET_HDR_SIZE);
	expect_refused(big, len, "out of range");
	free(big);
	free(b);
	free(good);
}

/* --- the verify callback ------------------------------------------------ */

struct pki {
	EVP_PKEY	*k, *k2, *kl;
	X509		*ca, *other, *alice, *carol, *stranger;
	STACK_OF(X509)	*cas;
	char		 dir[64];
	struct config	 cfg;
};

static void
pem_write(const char *path, X509 *x, EVP_PKEY *k)
{
	FILE	*fp;

	assert_non_null(fp = fopen(path, "w"));
	if (x != NULL)
		assert_true(PEM_write_X509(fp, x));
	if (k != NULL)
		assert_true(PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL,
		    NULL));
	assert_int_equal(fclose(fp), 0);
}

static void
pki_make(struct pki *p)
{
	memset(p, 0, sizeof(*p));
	p->k = key_new();
	p->k2 = key_new();
	p->kl = key_new();
	p->ca = cert_new("Test CA", "7f01", p->k, NULL, NULL, 1);
	p->other = cert_new("Other CA", "7f02", p->k2, NULL, NULL, 1);
	p->alice = cert_new("alice", "1001", p->kl, p->ca, p->k, 0);
	p->carol = cert_new("carol", "1003", p->kl, p->ca, p->k, 0);
	p->stranger = cert_new("stranger", "1004", p->kl, p->other, p->k2, 0);
	assert_non_null(p->cas = sk_X509_new_null());
	assert_true(sk_X509_push(p->cas, p->ca));
	assert_true(sk_X509_push(p->cas, p->other));

	/* tlsctx_server_new() reads files: a server certificate and key. */
	snprintf(p->dir, sizeof(p->dir), "/tmp/test_crlset.XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	config_init(&p->cfg);
	snprintf(p->cfg.cert, sizeof(p->cfg.cert), "%s/server.pem", p->dir);
	snprintf(p->cfg.key, sizeof(p->cfg.key), "%s/server.key", p->dir);
	snprintf(p->cfg.ca, sizeof(p->cfg.ca), "%s/ca.pem", p->dir);
	pem_write(p->cfg.cert, p->alice, NULL);
	pem_write(p->cfg.key, NULL, p->kl);
	pem_write(p->cfg.ca, p->ca, NULL);
}

static void
pki_free(struct pki *p)
{
	unlink(p->cfg.cert);
	unlink(p->cfg.key);
	unlink(p->cfg.ca);
	rmdir(p->dir);
	sk_X509_free(p->cas);
	X509_free(p->ca);
	X509_free(p->other);
	X509_free(p->alice);
	X509_free(p->carol);
	X509_free(p->stranger);
	EVP_PKEY_free(p->k);
	EVP_PKEY_free(p->k2);
	EVP_PKEY_free(p->kl);
}

/* X509_verify_cert() of leaf with takd's callback, under policy stale. */
static int
verify(struct pki *p, X509 *leaf, enum crl_stale stale)
{
	X509_STORE	*store;
	X509_STORE_CTX	*xs;
	SSL_CTX		*ctx;
	int		 ok, e;

	p->cfg.crl_stale = stale;
	if ((ctx = tlsctx_server_new(&p->cfg, err, sizeof(err))) == NULL)
		fail_msg("tlsctx_server_new: %s", err);
	assert_non_null(store = tlsctx_store_new(p->cas));
	assert_non_null(xs = X509_STORE_CTX_new());
	assert_true(X509_STORE_CTX_init(xs, store, leaf, NULL));
	X509_STORE_CTX_set_verify_cb(xs, SSL_CTX_get_verify_callback(ctx));
	ok = X509_verify_cert(xs);
	e = X509_STORE_CTX_get_error(xs);
	assert_true(ok == 1 ? e == X509_V_OK : e != X509_V_OK);
	X509_STORE_CTX_free(xs);
	X509_STORE_free(store);
	SSL_CTX_free(ctx);
	return (e);
}

static void
test_verify_cb(void **state)
{
	static const struct ent ents[] = {
		{ "1003", 0, 1, 60 },		/* carol */
		{ "1004", 0, 1, 60 },		/* the stranger's serial */
	};
	static const struct ent root[] = { { "7f01", 0, 2, 60 } };
	struct pki	 p;
	struct crlset	*s, *stale, *rs;
	X509_CRL	*crl;
	unsigned long	 admitted;

	pki_make(&p);
	crl = crl_new(p.ca, p.k, ents, 2, -60, DAY);
	assert_non_null(s = set_new(crl, p.ca));
	X509_CRL_free(crl);
	crl = crl_new(p.ca, p.k, ents, 2, -2 * DAY, -DAY);
	assert_non_null(stale = set_new(crl, p.ca));
	X509_CRL_free(crl);
	crl = crl_new(p.ca, p.k, root, 1, -60, DAY);
	assert_non_null(rs = set_new(crl, p.ca));
	X509_CRL_free(crl);

	/* leaf: carol is revoked, alice is not. */
	tlsctx_crl_use(s, CRL_CHECK_LEAF);
	assert_int_equal(verify(&p, p.alice, CRL_STALE_ENFORCE_LISTED),
	    X509_V_OK);
	assert_int_equal(verify(&p, p.carol, CRL_STALE_ENFORCE_LISTED),
	    X509_V_ERR_CERT_REVOKED);
	/* A certificate of a CA the CRL does not speak for: unverifiable. */
	assert_int_equal(verify(&p, p.stranger, CRL_STALE_ENFORCE_LISTED),
	    X509_V_ERR_UNABLE_TO_GET_CRL);
	/* No set at all (cannot happen in takd): nobody. */
	tlsctx_crl_use(NULL, CRL_CHECK_LEAF);
	assert_int_equal(verify(&p, p.alice, CRL_STALE_ENFORCE_LISTED),
	    X509_V_ERR_UNABLE_TO_GET_CRL);

	/* Stale: enforce-listed admits alice (counted), not carol. */
	tlsctx_crl_use(stale, CRL_CHECK_LEAF);
	admitted = tlsctx_stale_admissions();
	assert_int_equal(verify(&p, p.alice, CRL_STALE_ENFORCE_LISTED),
	    X509_V_OK);
	assert_int_equal(tlsctx_stale_admissions(), admitted + 1);
	assert_int_equal(verify(&p, p.carol, CRL_STALE_ENFORCE_LISTED),
	    X509_V_ERR_CERT_REVOKED);
	assert_int_equal(tlsctx_stale_admissions(), admitted + 1);
	/* strict: everybody, as the CRL has expired. */
	assert_int_equal(verify(&p, p.alice, CRL_STALE_STRICT),
	    X509_V_ERR_CRL_HAS_EXPIRED);
	assert_int_equal(verify(&p, p.carol, CRL_STALE_STRICT),
	    X509_V_ERR_CRL_HAS_EXPIRED);

	/* The CA's own serial listed: chain refuses everybody, leaf not. */
	tlsctx_crl_use(rs, CRL_CHECK_LEAF);
	assert_int_equal(verify(&p, p.alice, CRL_STALE_ENFORCE_LISTED),
	    X509_V_OK);
	tlsctx_crl_use(rs, CRL_CHECK_CHAIN);
	assert_int_equal(verify(&p, p.alice, CRL_STALE_ENFORCE_LISTED),
	    X509_V_ERR_CERT_REVOKED);
	tlsctx_crl_use(s, CRL_CHECK_CHAIN);
	assert_int_equal(verify(&p, p.alice, CRL_STALE_ENFORCE_LISTED),
	    X509_V_OK);
	assert_int_equal(verify(&p, p.carol, CRL_STALE_ENFORCE_LISTED),
	    X509_V_ERR_CERT_REVOKED);
	/* Under chain the other CA itself has no CRL either. */
	assert_int_equal(verify(&p, p.stranger, CRL_STALE_ENFORCE_LISTED),
	    X509_V_ERR_UNABLE_TO_GET_CRL);

	/* off: nothing checked. */
	tlsctx_crl_use(NULL, CRL_CHECK_OFF);
	assert_int_equal(verify(&p, p.carol, CRL_STALE_ENFORCE_LISTED),
	    X509_V_OK);

	crlset_free(s);
	crlset_free(stale);
	crlset_free(rs);
	pki_free(&p);
}

/*
 * A CA of the same name but another key in the CA file (a twin): the CRL
 * signed by the real one cannot speak for the twin's certificates.
 */
static void
test_verify_twin(void **state)
{
	static const struct ent ents[] = { { "1003", 0, 1, 60 } };
	struct pki	 p;
	struct crlset	*s;
	X509_CRL	*crl;
	X509		*twin, *mallory;

	pki_make(&p);
	twin = cert_new("Test CA", "7f03", p.k2, NULL, NULL, 1);
	mallory = cert_new("mallory", "1005", p.kl, twin, p.k2, 0);
	assert_true(sk_X509_push(p.cas, twin));
	crl = crl_new(p.ca, p.k, ents, 1, -60, DAY);
	assert_non_null(s = set_new(crl, p.ca));
	X509_CRL_free(crl);
	tlsctx_crl_use(s, CRL_CHECK_LEAF);
	assert_int_equal(verify(&p, p.alice, CRL_STALE_ENFORCE_LISTED),
	    X509_V_OK);
	assert_int_equal(verify(&p, mallory, CRL_STALE_ENFORCE_LISTED),
	    X509_V_ERR_CRL_SIGNATURE_FAILURE);
	tlsctx_crl_use(NULL, CRL_CHECK_OFF);
	crlset_free(s);
	X509_free(twin);
	X509_free(mallory);
	pki_free(&p);
}

/*
 * A live or resumed session's certificate, by serial and issuer: listed
 * with its reason and date, or not; a serial of another CA is not the
 * same certificate.
 */
static void
test_revoke_listed(void **state)
{
	static const struct ent ents[] = {
		{ "1003", 0, 1, 3600 },		/* carol, keyCompromise */
		{ "1004", 0, 1, 60 },		/* the stranger's serial */
		{ "1006", 0, -1, 60 },		/* no reason given */
		{ "1007", 0, 42, 60 },		/* a code nobody knows */
	};
	const struct crlset_entry *e;
	struct pki	 p;
	struct crlset	*s;
	X509_CRL	*crl;
	ASN1_INTEGER	*ai;
	const X509_NAME	*ca, *other;
	char		 why[REVOKE_WHY_MAX], since[32], want[REVOKE_WHY_MAX];

	pki_make(&p);
	crl = crl_new(p.ca, p.k, ents, 4, -60, DAY);
	assert_non_null(s = set_new(crl, p.ca));
	X509_CRL_free(crl);
	ca = X509_get_issuer_name(p.carol);
	other = X509_get_issuer_name(p.stranger);

	/* carol: the reason and the date of her entry. */
	strcpy(why, "untouched");
	assert_int_equal(revoke_listed(s, X509_get0_serialNumber(p.carol), ca,
	    why, sizeof(why)), 1);
	assert_int_equal(crlset_find(s, X509_get0_serialNumber(p.carol), &e),
	    1);
	pki_time_format((time_t)e->revoked_at, since, sizeof(since));
	snprintf(want, sizeof(want), "certificate revoked (reason "
	    "keyCompromise, since %s)", since);
	assert_string_equal(why, want);
	/* alice is not listed. */
	assert_int_equal(revoke_listed(s, X509_get0_serialNumber(p.alice), ca,
	    why, sizeof(why)), 0);
	/* 1004 is listed, but by this CA: the other CA's 1004 is not it. */
	assert_int_equal(revoke_listed(s, X509_get0_serialNumber(p.stranger),
	    other, why, sizeof(why)), 0);
	assert_int_equal(revoke_listed(s, X509_get0_serialNumber(p.stranger),
	    ca, why, sizeof(why)), 1);
	/* No reason extension, and a reason takd has no name for. */
	ai = int_new("1006", 0);
	assert_int_equal(revoke_listed(s, ai, ca, why, sizeof(why)), 1);
	assert_contains(why, "(reason unspecified, since ");
	ASN1_INTEGER_free(ai);
	ai = int_new("1007", 0);
	assert_int_equal(revoke_listed(s, ai, ca, why, sizeof(why)), 1);
	assert_contains(why, "(reason unknown, since ");
	ASN1_INTEGER_free(ai);
	/* A cut message still ends in a NUL. */
	assert_int_equal(revoke_listed(s, X509_get0_serialNumber(p.carol), ca,
	    why, 12), 1);
	assert_string_equal(why, "certificate");
	/* No CRL (crl_check = off), no certificate: nobody is listed. */
	assert_int_equal(revoke_listed(NULL, X509_get0_serialNumber(p.carol),
	    ca, why, sizeof(why)), 0);
	assert_int_equal(revoke_listed(s, NULL, ca, why, sizeof(why)), 0);
	assert_int_equal(revoke_listed(s, X509_get0_serialNumber(p.carol),
	    NULL, why, sizeof(why)), 0);

	crlset_free(s);
	pki_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_lookup),
		cmocka_unit_test(test_build_empty),
		cmocka_unit_test(test_build_refuses),
		cmocka_unit_test(test_map_refuses),
		cmocka_unit_test(test_verify_cb),
		cmocka_unit_test(test_verify_twin),
		cmocka_unit_test(test_revoke_listed),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
