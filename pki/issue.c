/*
 * Issuing: keys, the CRL and PKCS#12 bundles, and the three
 * operations takctl exposes (init-ca, server, client); certificates are
 * built by cert.c.  File handling and the
 * index live in store.c.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "pki/pki.h"

#define PKI_DAY			86400

/* Letters and digits without 0/O, 1/l/I: read aloud or typed on a phone. */
static const char pki_alphabet[] =
    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

struct pki_san {
	int		 type;		/* GEN_DNS or GEN_IPADD */
	char		 dns[254];
	unsigned char	 ip[16];
	int		 iplen;
};

static int
pki_days_check(unsigned days, unsigned max, const char *what, char *err,
    size_t errlen)
{
	if (days < 1 || days > max) {
		snprintf(err, errlen, "%s must be 1..%u days, not %u", what,
		    max, days);
		return (-1);
	}
	return (0);
}

/* Printable UTF-8 without control characters, 1..64 characters. */
static int
pki_cn_check(const char *cn, char *err, size_t errlen)
{
	const unsigned char	*p;
	size_t			 chars = 0;

	for (p = (const unsigned char *)cn; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "common name contains a control "
			    "character");
			return (-1);
		}
		if ((*p & 0xc0) != 0x80)
			chars++;
	}
	if (chars == 0 || chars > PKI_CN_MAX) {
		snprintf(err, errlen, "common name must have 1..%d "
		    "characters", PKI_CN_MAX);
		return (-1);
	}
	return (0);
}

/* A host name: labels of letters, digits, '-' and '_'; "*." with wild. */
static int
pki_dns_ok(const char *s, bool wild)
{
	size_t	 label = 0, len = strlen(s);

	if (len == 0 || len > 253)
		return (0);
	if (wild && strncmp(s, "*.", 2) == 0)
		s += 2;
	for (; ; s++) {
		if (*s == '.' || *s == '\0') {
			if (label == 0 || label > 63 || s[-1] == '-')
				return (0);
			if (*s == '\0')
				return (1);
			label = 0;
			continue;
		}
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && *s != '-' && *s != '_')
			return (0);
		if (label == 0 && *s == '-')
			return (0);
		label++;
	}
}

static int
pki_san_parse(const char *s, struct pki_san *san, char *err, size_t errlen)
{
	memset(san, 0, sizeof(*san));
	if (strncasecmp(s, "DNS:", 4) == 0) {
		if (!pki_dns_ok(s + 4, true)) {
			snprintf(err, errlen, "bad DNS name in \"%s\"", s);
			return (-1);
		}
		san->type = GEN_DNS;
		snprintf(san->dns, sizeof(san->dns), "%s", s + 4);
		return (0);
	}
	if (strncasecmp(s, "IP:", 3) == 0) {
		san->type = GEN_IPADD;
		if (inet_pton(AF_INET, s + 3, san->ip) == 1)
			san->iplen = 4;
		else if (inet_pton(AF_INET6, s + 3, san->ip) == 1)
			san->iplen = 16;
		else {
			snprintf(err, errlen, "bad IP address in \"%s\"", s);
			return (-1);
		}
		return (0);
	}
	snprintf(err, errlen, "bad subject alternative name \"%s\" (want "
	    "DNS:NAME or IP:ADDRESS)", s);
	return (-1);
}

/* Append san to list unless it is already there. */
static void
pki_san_add(struct pki_san *list, size_t *n, const struct pki_san *san)
{
	size_t	 i;

	for (i = 0; i < *n; i++) {
		if (list[i].type != san->type)
			continue;
		if (san->type == GEN_DNS &&
		    strcasecmp(list[i].dns, san->dns) == 0)
			return;
		if (san->type == GEN_IPADD && list[i].iplen == san->iplen &&
		    memcmp(list[i].ip, san->ip, (size_t)san->iplen) == 0)
			return;
	}
	list[(*n)++] = *san;
}

static GENERAL_NAMES *
pki_san_names(const struct pki_san *list, size_t n)
{
	GENERAL_NAMES		*gens;
	GENERAL_NAME		*gen = NULL;
	ASN1_STRING		*str = NULL;
	size_t			 i;

	if ((gens = GENERAL_NAMES_new()) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		if ((gen = GENERAL_NAME_new()) == NULL)
			goto fail;
		if (list[i].type == GEN_DNS) {
			str = ASN1_IA5STRING_new();
			if (str == NULL ||
			    !ASN1_STRING_set(str, list[i].dns, -1))
				goto fail;
		} else {
			str = ASN1_OCTET_STRING_new();
			if (str == NULL || !ASN1_OCTET_STRING_set(str,
			    list[i].ip, list[i].iplen))
				goto fail;
		}
		GENERAL_NAME_set0_value(gen, list[i].type, str);
		str = NULL;
		if (!sk_GENERAL_NAME_push(gens, gen))
			goto fail;
		gen = NULL;
	}
	return (gens);
 fail:
	ASN1_STRING_free(str);
	GENERAL_NAME_free(gen);
	GENERAL_NAMES_free(gens);
	return (NULL);
}

EVP_PKEY *
pki_key_new(enum pki_keytype type, unsigned bits, char *err, size_t errlen)
{
	EVP_PKEY	*key;

	if (type == PKI_KEY_RSA) {
		if (bits < 2048 || bits > 16384) {
			snprintf(err, errlen, "RSA keys must have 2048..16384 "
			    "bits, not %u", bits);
			return (NULL);
		}
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	} else
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (key == NULL)
		pki_sslerr(err, errlen, "key generation failed");
	return (key);
}

/* A PKCS#12 bundle with the Android-compatible legacy algorithms. */
static PKCS12 *
pki_p12_new(const char *password, const char *name, EVP_PKEY *key,
    X509 *cert, X509 *ca, char *err, size_t errlen)
{
	STACK_OF(X509)	*chain;
	PKCS12		*p12 = NULL;

	if ((chain = sk_X509_new_null()) == NULL || !sk_X509_push(chain, ca))
		goto fail;
	/*
	 * Android's keystore (and so ATAK) cannot read OpenSSL 3's defaults
	 * (PBES2/AES, HMAC-SHA-256): use PBE-SHA1-3DES for both bags and a
	 * SHA-1 MAC.  3DES is in the default provider; RC2 would not be.
	 * mac_iter -1 leaves the MAC out so that it is set explicitly below.
	 */
	p12 = PKCS12_create(password, name, key, cert, chain,
	    NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
	    NID_pbe_WithSHA1And3_Key_TripleDES_CBC, PKI_P12_ITER, -1, 0);
	if (p12 == NULL || !PKCS12_set_mac(p12, password, -1, NULL, 0,
	    PKI_P12_ITER, EVP_sha1()))
		goto fail;
	sk_X509_free(chain);
	return (p12);
 fail:
	pki_sslerr(err, errlen, "cannot build the PKCS#12 bundle");
	PKCS12_free(p12);
	sk_X509_free(chain);
	return (NULL);
}

int
pki_name_check(const char *name, char *err, size_t errlen)
{
	size_t	 i, len = strlen(name);

	if (len == 0 || len > PKI_NAME_MAX) {
		snprintf(err, errlen, "client name must have 1..%d characters",
		    PKI_NAME_MAX);
		return (-1);
	}
	if (name[0] == '.' || name[0] == '-') {
		snprintf(err, errlen, "client name \"%s\" must not start with "
		    "'%c'", name, name[0]);
		return (-1);
	}
	for (i = 0; i < len; i++) {
		if ((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '.' || name[i] == '_' || name[i] == '-')
			continue;
		snprintf(err, errlen, "client name may only contain letters, "
		    "digits, '.', '_' and '-'");
		return (-1);
	}
	return (0);
}

int
pki_password_generate(char *buf, size_t len)
{
	const size_t	 n = sizeof(pki_alphabet) - 1;
	const unsigned	 limit = 256 - 256 % n;	/* no modulo bias */
	unsigned char	 r[64];
	size_t		 i = 0, j;

	if (len == 0)
		return (-1);
	while (i < len - 1) {
		if (RAND_bytes(r, sizeof(r)) != 1)
			return (-1);
		for (j = 0; j < sizeof(r) && i < len - 1; j++)
			if (r[j] < limit)
				buf[i++] = pki_alphabet[r[j] % n];
	}
	buf[i] = '\0';
	OPENSSL_cleanse(r, sizeof(r));
	return (0);
}

static void
pki_result_fill(struct pki_result *res, const struct pki_entry *e)
{
	snprintf(res->serial, sizeof(res->serial), "%s", e->serial);
	snprintf(res->subject, sizeof(res->subject), "%s", e->subject);
	res->not_after = e->not_after;
}

/* Leaves use the CA's kind of key unless told otherwise. */
static EVP_PKEY *
pki_leaf_key(const struct pki_req *req, EVP_PKEY *cakey, char *err,
    size_t errlen)
{
	if (req->keytype != PKI_KEY_DEFAULT)
		return (pki_key_new(req->keytype, req->rsa_bits, err, errlen));
	if (EVP_PKEY_get_base_id(cakey) == EVP_PKEY_RSA)
		return (pki_key_new(PKI_KEY_RSA,
		    (unsigned)EVP_PKEY_get_bits(cakey), err, errlen));
	return (pki_key_new(PKI_KEY_EC, 0, err, errlen));
}

int
pki_init_ca(const char *dir, const struct pki_req *req,
    struct pki_result *res, char *err, size_t errlen)
{
	struct pki_txn	 txn;
	struct pki_entry e;
	EVP_PKEY	*key = NULL;
	X509		*cert = NULL;
	X509_CRL	*crl = NULL;
	char		 cn[4 * PKI_CN_MAX + 1], host[256];
	unsigned	 days, crl_days;
	bool		 clamped;
	int		 rc = -1;

	memset(res, 0, sizeof(*res));
	days = req->days != 0 ? req->days : PKI_DAYS_CA;
	crl_days = req->crl_days != 0 ? req->crl_days : PKI_DAYS_CRL;
	if (pki_days_check(days, PKI_DAYS_MAX, "certificate lifetime", err,
	    errlen) == -1 || pki_days_check(crl_days, PKI_CRL_DAYS_MAX,
	    "CRL lifetime", err, errlen) == -1)
		return (-1);
	if (req->cn != NULL)
		snprintf(cn, sizeof(cn), "%s", req->cn);
	else {
		if (gethostname(host, sizeof(host)) == -1)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(cn, sizeof(cn), "takd CA %.*s", PKI_CN_MAX - 8, host);
	}
	if (pki_cn_check(cn, err, errlen) == -1)
		return (-1);

	if (pki_txn_begin(&txn, dir, true, err, errlen) == -1)
		return (-1);
	if (pki_txn_check_absent(&txn, txn.dirfd, PKI_CA_KEY, req->force,
	    err, errlen) == -1 || pki_txn_check_absent(&txn, txn.dirfd,
	    PKI_CA_CERT, req->force, err, errlen) == -1 ||
	    pki_txn_clients(&txn, err, errlen) == -1)
		goto done;
	if ((key = pki_key_new(req->keytype == PKI_KEY_RSA ? PKI_KEY_RSA :
	    PKI_KEY_EC, req->rsa_bits, err, errlen)) == NULL ||
	    (cert = pki_cert_new(PKI_KIND_CA, cn, NULL, days, NULL, key, NULL, NULL,
	    &clamped, err, errlen)) == NULL ||
	    (crl = pki_crl_new(cert, key, NULL, 1, crl_days, err,
	    errlen)) == NULL)
		goto done;
	if (pki_entry_fill(&e, PKI_KIND_CA, cn, cert) == -1) {
		snprintf(err, errlen, "cannot read back the serial number");
		goto done;
	}
	if (pki_txn_stage_index(&txn, &e, true, &res->stale_leaves, err,
	    errlen) == -1 ||
	    pki_txn_stage_pem(&txn, txn.dirfd, PKI_CA_KEY, 0600, NULL, NULL,
	    key, err, errlen) == -1 ||
	    pki_txn_stage_pem(&txn, txn.dirfd, PKI_CA_CERT, 0644, cert, NULL,
	    NULL, err, errlen) == -1 ||
	    pki_txn_stage_pem(&txn, txn.dirfd, PKI_CRL, 0644, NULL, crl, NULL,
	    err, errlen) == -1)
		goto done;
	if (faccessat(txn.dirfd, PKI_SERVER_CERT, F_OK, 0) == 0)
		res->stale_leaves = true;
	if (pki_txn_commit(&txn, err, errlen) == -1)
		goto done;
	pki_result_fill(res, &e);
	rc = 0;
 done:
	pki_txn_end(&txn);
	X509_CRL_free(crl);
	X509_free(cert);
	EVP_PKEY_free(key);
	return (rc);
}

int
pki_issue_server(const char *dir, const struct pki_req *req,
    struct pki_result *res, char *err, size_t errlen)
{
	struct pki_txn	 txn;
	struct pki_entry e;
	struct pki_san	 sans[PKI_MAX_SAN + 4], san;
	GENERAL_NAMES	*gens = NULL;
	EVP_PKEY	*cakey = NULL, *key = NULL;
	X509		*ca = NULL, *cert = NULL;
	char		 cn[256], why[sizeof(cn) + 8];
	const char	*defaults[] = { "DNS:localhost", "IP:127.0.0.1",
			    "IP:::1" };
	size_t		 i, nsans = 0;
	unsigned	 days;
	bool		 is_ip;
	int		 rc = -1;

	memset(res, 0, sizeof(*res));
	days = req->days != 0 ? req->days : PKI_DAYS_SERVER;
	if (pki_days_check(days, PKI_DAYS_MAX, "certificate lifetime", err,
	    errlen) == -1)
		return (-1);
	if (req->cn != NULL)
		snprintf(cn, sizeof(cn), "%s", req->cn);
	else if (gethostname(cn, sizeof(cn)) == -1)
		snprintf(cn, sizeof(cn), "localhost");
	cn[sizeof(cn) - 1] = '\0';
	/* The CN is the name clients dial: an address or a host name. */
	is_ip = inet_pton(AF_INET, cn, san.ip) == 1 ||
	    inet_pton(AF_INET6, cn, san.ip) == 1;
	if (strlen(cn) > PKI_CN_MAX || (!is_ip && !pki_dns_ok(cn, false))) {
		snprintf(err, errlen, "server name \"%s\" is not a host name "
		    "or IP address of at most %d characters", cn, PKI_CN_MAX);
		return (-1);
	}
	snprintf(why, sizeof(why), "%s:%s", is_ip ? "IP" : "DNS", cn);
	if (pki_san_parse(why, &san, err, errlen) == -1)
		return (-1);
	pki_san_add(sans, &nsans, &san);
	if (req->n_san > PKI_MAX_SAN) {
		snprintf(err, errlen, "at most %d --san entries",
		    PKI_MAX_SAN);
		return (-1);
	}
	for (i = 0; i < req->n_san; i++) {
		if (pki_san_parse(req->san[i], &san, err, errlen) == -1)
			return (-1);
		pki_san_add(sans, &nsans, &san);
	}
	for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		(void)pki_san_parse(defaults[i], &san, why, sizeof(why));
		pki_san_add(sans, &nsans, &san);
	}
	if ((gens = pki_san_names(sans, nsans)) == NULL) {
		pki_sslerr(err, errlen, "cannot build the alternative names");
		return (-1);
	}

	if (pki_txn_begin(&txn, dir, false, err, errlen) == -1) {
		GENERAL_NAMES_free(gens);
		return (-1);
	}
	if (pki_txn_ca_load(&txn, &ca, &cakey, err, errlen) == -1 ||
	    pki_txn_check_absent(&txn, txn.dirfd, PKI_SERVER_KEY, req->force,
	    err, errlen) == -1 || pki_txn_check_absent(&txn, txn.dirfd,
	    PKI_SERVER_CERT, req->force, err, errlen) == -1)
		goto done;
	if ((key = pki_leaf_key(req, cakey, err, errlen)) == NULL ||
	    (cert = pki_cert_new(PKI_KIND_SERVER, cn, NULL, days, gens, key, ca,
	    cakey, &res->clamped, err, errlen)) == NULL)
		goto done;
	if (pki_entry_fill(&e, PKI_KIND_SERVER, cn, cert) == -1) {
		snprintf(err, errlen, "cannot read back the serial number");
		goto done;
	}
	if (pki_txn_stage_index(&txn, &e, false, NULL, err, errlen) == -1 ||
	    pki_txn_stage_pem(&txn, txn.dirfd, PKI_SERVER_KEY, 0600, NULL, NULL,
	    key, err, errlen) == -1 ||
	    pki_txn_stage_pem(&txn, txn.dirfd, PKI_SERVER_CERT, 0644, cert,
	    NULL, NULL, err, errlen) == -1 ||
	    pki_txn_commit(&txn, err, errlen) == -1)
		goto done;
	pki_result_fill(res, &e);
	rc = 0;
 done:
	pki_txn_end(&txn);
	GENERAL_NAMES_free(gens);
	X509_free(cert);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(cakey);
	return (rc);
}

void
pki_package_host(struct pki_txn *txn, const struct pki_req *req,
    struct pki_result *res)
{
	char	 why[256];
	char	*buf;
	size_t	 len;
	BIO	*bio = NULL;
	X509	*x = NULL;
	int	 n = -1;

	snprintf(res->pkg_port, sizeof(res->pkg_port), "%s",
	    req->pkg_port != NULL && *req->pkg_port != '\0' ? req->pkg_port :
	    PKI_PKG_PORT);
	if (req->pkg_host != NULL && *req->pkg_host != '\0') {
		snprintf(res->pkg_host, sizeof(res->pkg_host), "%s",
		    req->pkg_host);
		return;
	}
	buf = fileio_read(txn->dirfd, PKI_SERVER_CERT, PKI_SERVER_CERT,
	    PKI_FILE_MAX, &len, why, sizeof(why));
	if (buf != NULL && (bio = BIO_new_mem_buf(buf, (int)len)) != NULL &&
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		n = X509_NAME_get_text_by_NID(X509_get_subject_name(x),
		    NID_commonName, res->pkg_host, sizeof(res->pkg_host));
	X509_free(x);
	BIO_free(bio);
	free(buf);
	ERR_clear_error();
	if (n > 0 && pki_cn_check(res->pkg_host, why, sizeof(why)) == 0)
		return;
	res->pkg_host_guessed = true;
	if (gethostname(res->pkg_host, sizeof(res->pkg_host)) == -1)
		snprintf(res->pkg_host, sizeof(res->pkg_host), "localhost");
	res->pkg_host[sizeof(res->pkg_host) - 1] = '\0';
}

int
pki_issue_client(const char *dir, const char *name, const struct pki_req *req,
    struct pki_result *res, char *err, size_t errlen)
{
	struct pki_txn	 txn;
	struct pki_entry e;
	EVP_PKEY	*cakey = NULL, *key = NULL;
	X509		*ca = NULL, *cert = NULL;
	PKCS12		*p12 = NULL;
	struct pkgzip_client pkg;
	unsigned char	*der = NULL, *zip = NULL;
	const char	*password;
	char		 f_pem[PKI_NAME_MAX + 8], f_key[PKI_NAME_MAX + 8];
	char		 f_p12[PKI_NAME_MAX + 8], f_pw[PKI_NAME_MAX + 24];
	char		 f_zip[PKI_NAME_MAX + 8];
	char		 pwline[PKI_PASSWORD_LEN + 2];
	size_t		 ziplen = 0;
	unsigned	 days;
	int		 derlen = 0, rc = -1;

	memset(res, 0, sizeof(*res));
	days = req->days != 0 ? req->days : PKI_DAYS_CLIENT;
	if (pki_name_check(name, err, errlen) == -1 ||
	    pki_days_check(days, PKI_DAYS_MAX, "certificate lifetime", err,
	    errlen) == -1)
		return (-1);
	if (req->password != NULL && (*req->password == '\0' ||
	    strlen(req->password) > PKI_PASSWORD_MAX)) {
		snprintf(err, errlen, "the PKCS#12 password must have 1..%d "
		    "characters", PKI_PASSWORD_MAX);
		return (-1);
	}
	snprintf(f_pem, sizeof(f_pem), "%s.pem", name);
	snprintf(f_key, sizeof(f_key), "%s.key", name);
	snprintf(f_p12, sizeof(f_p12), "%s.p12", name);
	snprintf(f_pw, sizeof(f_pw), "%s.p12.password", name);
	snprintf(f_zip, sizeof(f_zip), "%s.zip", name);

	if (pki_txn_begin(&txn, dir, false, err, errlen) == -1)
		return (-1);
	if (pki_txn_ca_load(&txn, &ca, &cakey, err, errlen) == -1 ||
	    pki_txn_clients(&txn, err, errlen) == -1 ||
	    pki_txn_check_absent(&txn, txn.clientfd, f_key, req->force, err,
	    errlen) == -1 ||
	    pki_txn_check_absent(&txn, txn.clientfd, f_pem, req->force, err,
	    errlen) == -1 ||
	    pki_txn_check_absent(&txn, txn.clientfd, f_p12, req->force, err,
	    errlen) == -1 ||
	    pki_txn_check_absent(&txn, txn.clientfd, f_zip, req->force, err,
	    errlen) == -1)
		goto done;
	if ((password = req->password) == NULL) {
		if (pki_password_generate(res->password,
		    sizeof(res->password)) == -1) {
			pki_sslerr(err, errlen, "cannot generate a password");
			goto done;
		}
		res->password_generated = true;
		password = res->password;
	}
	if ((key = pki_leaf_key(req, cakey, err, errlen)) == NULL ||
	    (cert = pki_cert_new(PKI_KIND_CLIENT, name, NULL, days, NULL, key, ca,
	    cakey, &res->clamped, err, errlen)) == NULL ||
	    (p12 = pki_p12_new(password, name, key, cert, ca, err,
	    errlen)) == NULL)
		goto done;
	if ((derlen = i2d_PKCS12(p12, &der)) <= 0) {
		pki_sslerr(err, errlen, "cannot encode the PKCS#12 bundle");
		goto done;
	}
	pki_package_host(&txn, req, res);
	memset(&pkg, 0, sizeof(pkg));
	pkg.name = name;
	pkg.host = res->pkg_host;
	pkg.port = res->pkg_port;
	pkg.password = password;
	pkg.ca = ca;
	pkg.p12 = der;
	pkg.p12_len = (size_t)derlen;
	if (pkgzip_client_new(&pkg, &zip, &ziplen, err, errlen) == -1)
		goto done;
	if (pki_entry_fill(&e, PKI_KIND_CLIENT, name, cert) == -1) {
		snprintf(err, errlen, "cannot read back the serial number");
		goto done;
	}
	if (pki_txn_stage_index(&txn, &e, false, NULL, err, errlen) == -1 ||
	    pki_txn_stage_pem(&txn, txn.clientfd, f_key, 0600, NULL, NULL, key,
	    err, errlen) == -1 ||
	    pki_txn_stage_pem(&txn, txn.clientfd, f_pem, 0644, cert, NULL, NULL,
	    err, errlen) == -1 ||
	    pki_txn_stage(&txn, txn.clientfd, f_p12, der, (size_t)derlen,
	    0600, err, errlen) == -1 ||
	    pki_txn_stage(&txn, txn.clientfd, f_zip, zip, ziplen, 0600, err,
	    errlen) == -1)
		goto done;
	if (res->password_generated) {
		snprintf(pwline, sizeof(pwline), "%s\n", res->password);
		rc = pki_txn_stage(&txn, txn.clientfd, f_pw, pwline,
		    strlen(pwline), 0600, err, errlen);
		OPENSSL_cleanse(pwline, sizeof(pwline));
		if (rc == -1)
			goto done;
		rc = -1;
	}
	if (pki_txn_commit(&txn, err, errlen) == -1)
		goto done;
	/* A password file left from an earlier bundle would now be wrong. */
	if (!res->password_generated &&
	    unlinkat(txn.clientfd, f_pw, 0) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "%s/%s/%s: %s", dir, PKI_CLIENT_DIR,
		    f_pw, strerror(errno));
		goto done;
	}
	pki_result_fill(res, &e);
	rc = 0;
 done:
	pki_txn_end(&txn);
	if (der != NULL) {
		OPENSSL_cleanse(der, (size_t)derlen);
		OPENSSL_free(der);
	}
	if (zip != NULL) {
		OPENSSL_cleanse(zip, ziplen);
		free(zip);
	}
	if (rc == -1)
		OPENSSL_cleanse(res->password, sizeof(res->password));
	PKCS12_free(p12);
	X509_free(cert);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(cakey);
	return (rc);
}
