/*
 * mkcrl: a CRL of any size, fast, for the tests of huge CRLs.
 *
 *	mkcrl --ca CA.pem --key CA.key --out FILE [--random N] [--seed S]
 *	    [--revoke CERT.pem [--reason R]]... [--serial HEX]...
 *	    [--days N] [--pem]
 *
 * Lists N random serials (16 bytes each, positive, from a generator seeded
 * with S, so that a run can be repeated), the serials of the given
 * certificates (with the reason given after each) and the given serials,
 * all revoked a day ago, and signs it with the CA key (SHA-256), valid
 * from now for N days (default 7).  DER unless --pem.  `openssl ca` needs
 * an index line per entry and minutes for a million; this takes seconds.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define MK_NAMED_MAX	64

static void __attribute__((noreturn))
mk_die(const char *what)
{
	fprintf(stderr, "mkcrl: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static void __attribute__((noreturn))
mk_usage(void)
{
	fprintf(stderr, "usage: mkcrl --ca CA.pem --key CA.key --out FILE "
	    "[--random N] [--seed S]\n"
	    "             [--revoke CERT.pem [--reason CODE]]... "
	    "[--serial HEX]... [--days N] [--pem]\n");
	exit(2);
}

/* xorshift64*: plenty for serials nobody has to guess. */
static uint64_t
mk_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (*s * 2685821657736338717ULL);
}

static void
mk_add(X509_CRL *crl, ASN1_INTEGER *serial, const ASN1_TIME *when,
    int reason)
{
	X509_REVOKED	*rev;
	ASN1_ENUMERATED	*e = NULL;

	if ((rev = X509_REVOKED_new()) == NULL ||
	    !X509_REVOKED_set_serialNumber(rev, serial) ||
	    !X509_REVOKED_set_revocationDate(rev, (ASN1_TIME *)(uintptr_t)when))
		mk_die("entry");
	if (reason >= 0) {
		if ((e = ASN1_ENUMERATED_new()) == NULL ||
		    !ASN1_ENUMERATED_set(e, reason) ||
		    !X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, e, 0, 0))
			mk_die("reason");
		ASN1_ENUMERATED_free(e);
	}
	if (!X509_CRL_add0_revoked(crl, rev))
		mk_die("add entry");
}

static X509 *
mk_read_cert(const char *path)
{
	FILE	*fp;
	X509	*x;

	if ((fp = fopen(path, "r")) == NULL)
		mk_die(path);
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	if (x == NULL)
		mk_die(path);
	return (x);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "ca",		required_argument,	NULL, 'c' },
		{ "key",	required_argument,	NULL, 'k' },
		{ "out",	required_argument,	NULL, 'o' },
		{ "random",	required_argument,	NULL, 'n' },
		{ "seed",	required_argument,	NULL, 's' },
		{ "revoke",	required_argument,	NULL, 'r' },
		{ "reason",	required_argument,	NULL, 'R' },
		{ "serial",	required_argument,	NULL, 'S' },
		{ "days",	required_argument,	NULL, 'd' },
		{ "pem",	no_argument,		NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*ca_path = NULL, *key_path = NULL, *out = NULL;
	const char	*certs[MK_NAMED_MAX], *serials[MK_NAMED_MAX];
	int		 reasons[MK_NAMED_MAX];
	size_t		 n_certs = 0, n_serials = 0, i;
	unsigned long	 n_random = 0, days = 7;
	uint64_t	 seed = 1, r[2];
	int		 ch, pem = 0;
	unsigned char	 raw[16];
	X509		*ca, *x;
	X509_CRL	*crl;
	EVP_PKEY	*key;
	ASN1_TIME	*when, *last, *next;
	ASN1_INTEGER	*ai;
	BIGNUM		*bn = NULL;
	FILE		*fp;
	int		 ok;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': ca_path = optarg; break;
		case 'k': key_path = optarg; break;
		case 'o': out = optarg; break;
		case 'n': n_random = strtoul(optarg, NULL, 10); break;
		case 's': seed = strtoull(optarg, NULL, 10) | 1; break;
		case 'd': days = strtoul(optarg, NULL, 10); break;
		case 'p': pem = 1; break;
		case 'r':
			if (n_certs == MK_NAMED_MAX)
				mk_usage();
			reasons[n_certs] = -1;
			certs[n_certs++] = optarg;
			break;
		case 'R':
			if (n_certs == 0)
				mk_usage();
			reasons[n_certs - 1] = atoi(optarg);
			break;
		case 'S':
			if (n_serials == MK_NAMED_MAX)
				mk_usage();
			serials[n_serials++] = optarg;
			break;
		default:
			mk_usage();
		}
	}
	if (ca_path == NULL || key_path == NULL || out == NULL || optind != argc)
		mk_usage();
	ca = mk_read_cert(ca_path);
	if ((fp = fopen(key_path, "r")) == NULL)
		mk_die(key_path);
	key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	if (key == NULL)
		mk_die(key_path);

	if ((crl = X509_CRL_new()) == NULL || !X509_CRL_set_version(crl, 1) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)))
		mk_die("CRL");
	when = X509_time_adj_ex(NULL, -1, 0, NULL);
	last = X509_time_adj_ex(NULL, 0, -60, NULL);
	next = X509_time_adj_ex(NULL, (long)days, 0, NULL);
	if (when == NULL || last == NULL || next == NULL ||
	    !X509_CRL_set1_lastUpdate(crl, last) ||
	    !X509_CRL_set1_nextUpdate(crl, next))
		mk_die("dates");
	if ((ai = ASN1_INTEGER_new()) == NULL)
		mk_die("serial");
	for (i = 0; i < n_random; i++) {
		r[0] = mk_rand(&seed);
		r[1] = mk_rand(&seed);
		memcpy(raw, r, sizeof(raw));
		raw[0] &= 0x7f;
		raw[0] |= 0x40;		/* 16 bytes, never shorter */
		if (!ASN1_STRING_set(ai, raw, sizeof(raw)))
			mk_die("random serial");
		mk_add(crl, ai, when, -1);
	}
	for (i = 0; i < n_certs; i++) {
		x = mk_read_cert(certs[i]);
		mk_add(crl, X509_get_serialNumber(x), when, reasons[i]);
		X509_free(x);
	}
	for (i = 0; i < n_serials; i++) {
		if (BN_hex2bn(&bn, serials[i]) == 0 ||
		    BN_to_ASN1_INTEGER(bn, ai) == NULL)
			mk_die(serials[i]);
		mk_add(crl, ai, when, -1);
	}
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	if (!X509_CRL_sort(crl) || X509_CRL_sign(crl, key, EVP_sha256()) <= 0)
		mk_die("sign");
	if ((fp = fopen(out, "wb")) == NULL)
		mk_die(out);
	ok = pem ? PEM_write_X509_CRL(fp, crl) : i2d_X509_CRL_fp(fp, crl);
	if (fclose(fp) == EOF || !ok)
		mk_die(out);
	X509_CRL_free(crl);
	ASN1_TIME_free(when);
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	EVP_PKEY_free(key);
	X509_free(ca);
	return (0);
}
