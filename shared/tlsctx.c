/*
 * TLS material: see tlsctx.h.  Everything here but the verify callback runs
 * before any client traffic (supervisor start, -t, reload), so it favours
 * clear error messages over speed.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ipc/ipc_msg.h"
#include "shared/crlset.h"
#include "shared/fileio.h"
#include "shared/pkiutil.h"
#include "shared/tlsctx.h"
#include "shared/trust.h"

static void tlsctx_errf(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Format a message and append the most specific queued OpenSSL error. */
static void
tlsctx_errf(char *err, size_t errlen, const char *fmt, ...)
{
	char		 ssl[256] = "";
	unsigned long	 e;
	size_t		 len;
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	/* The last queued error is usually the most specific one. */
	while ((e = ERR_get_error()) != 0)
		ERR_error_string_n(e, ssl, sizeof(ssl));
	if (ssl[0] != '\0') {
		len = strlen(err);
		snprintf(err + len, errlen - len, " (%s)", ssl);
	}
}

/* The largest certificate, key or CA file: CA bundles run to a few 100 KB. */
#define TLSCTX_FILE_MAX	(4u * 1024 * 1024)

/*
 * One reader of whole files for the tree, fileio_read(): no link followed,
 * no FIFO waited on, a regular file only.  What takd trusts must also be
 * root's (trust.h): a CA, key or CRL that the service user could rewrite
 * would be its to choose.
 */
static uint8_t *
tlsctx_read_trusted(int dirfd, const char *name, const char *path, size_t max,
    size_t *len, char *err, size_t errlen)
{
	struct stat	 st;
	char		*buf;

	buf = fileio_read_st(dirfd, name, path, max, len, &st, err, errlen);
	if (buf == NULL)
		return (NULL);
	if (trust_stat_check(&st, path, err, errlen) == -1) {
		OPENSSL_cleanse(buf, *len);
		free(buf);
		return (NULL);
	}
	return ((uint8_t *)buf);
}

uint8_t *
tlsctx_read_at(int dirfd, const char *path, size_t max, size_t *len,
    char *err, size_t errlen)
{
	return (tlsctx_read_trusted(dirfd, path, path, max, len, err, errlen));
}

uint8_t *
tlsctx_read_named(int dirfd, const char *name, const char *path, size_t max,
    size_t *len, char *err, size_t errlen)
{
	return (tlsctx_read_trusted(dirfd, name, path, max, len, err, errlen));
}

/* By path: its directory walked from / (trust.h), then the file read. */
static uint8_t *
tlsctx_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	char		 dir[PATH_MAX], base[PATH_MAX], why[512];
	uint8_t		*buf;
	int		 dirfd;

	if (trust_split(path, dir, base) == -1) {
		snprintf(err, errlen, "%s: not a file name", path);
		return (NULL);
	}
	if ((dirfd = trust_dir_open(dir, 0, 0, why, sizeof(why))) == -1) {
		snprintf(err, errlen, "%s: %s", path, why);
		return (NULL);
	}
	buf = tlsctx_read_trusted(dirfd, base, path, TLSCTX_FILE_MAX, len,
	    err, errlen);
	close(dirfd);
	return (buf);
}

/* A file's bytes as a read-only memory BIO; the buffer outlives it. */
static BIO *
tlsctx_mem_bio(const uint8_t *buf, size_t len, const char *what,
    const char *path, char *err, size_t errlen)
{
	BIO	*bio;

	if (len > INT_MAX || (bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		tlsctx_errf(err, errlen, "%s %s: cannot load", what, path);
		return (NULL);
	}
	return (bio);
}

STACK_OF(X509) *
tlsctx_load_ca(const char *path, char *err, size_t errlen)
{
	STACK_OF(X509)	*ca = NULL;
	X509		*x;
	BIO		*bio;
	uint8_t		*buf;
	size_t		 len;
	char		 why[768];

	if ((buf = tlsctx_read_file(path, &len, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "CA file %s", why);
		return (NULL);
	}
	if ((bio = tlsctx_mem_bio(buf, len, "CA file", path, err,
	    errlen)) == NULL) {
		free(buf);
		return (NULL);
	}
	if ((ca = sk_X509_new_null()) == NULL)
		goto fail;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(ca, x)) {
			X509_free(x);
			goto fail;
		}
	}
	/* Reaching the end of the file leaves a "no start line" error queued. */
	ERR_clear_error();
	if (sk_X509_num(ca) == 0) {
		snprintf(err, errlen, "CA file %s: no certificate in it", path);
		goto fail_quiet;
	}
	BIO_free(bio);
	free(buf);
	return (ca);
fail:
	tlsctx_errf(err, errlen, "CA file %s: cannot load", path);
fail_quiet:
	sk_X509_pop_free(ca, X509_free);
	BIO_free(bio);
	free(buf);
	return (NULL);
}

/*
 * The server certificate and the chain after it, as
 * SSL_CTX_use_certificate_chain_file() would, but from bytes read safely.
 */
static int
tlsctx_use_chain(SSL_CTX *ctx, const char *path, char *err, size_t errlen)
{
	X509		*x = NULL;
	BIO		*bio = NULL;
	uint8_t		*buf;
	size_t		 len;
	unsigned long	 e;
	char		 why[768];
	int		 rc = -1;

	if ((buf = tlsctx_read_file(path, &len, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "certificate file %s", why);
		return (-1);
	}
	if ((bio = tlsctx_mem_bio(buf, len, "certificate file", path, err,
	    errlen)) == NULL)
		goto done;
	if ((x = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL)) == NULL ||
	    SSL_CTX_use_certificate(ctx, x) != 1 ||
	    SSL_CTX_clear_chain_certs(ctx) != 1)
		goto fail;
	X509_free(x);
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1)
			goto fail;
	/* The end of the file is "no start line"; anything else is bad. */
	e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) != ERR_LIB_PEM ||
	    ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
		goto fail;
	ERR_clear_error();
	rc = 0;
	goto done;
fail:
	X509_free(x);
	tlsctx_errf(err, errlen, "certificate file %s: cannot load", path);
done:
	BIO_free(bio);
	free(buf);
	return (rc);
}

static int
tlsctx_password_cb(char *buf, int size, int rwflag, void *u)
{
	const char	*pw = u;
	size_t		 len;

	if (pw == NULL || pw[0] == '\0')
		return (-1);
	len = strlen(pw);
	if (len > (size_t)size)
		return (-1);
	memcpy(buf, pw, len);
	return ((int)len);
}

static EVP_PKEY *
tlsctx_load_key(const struct config *cfg, char *err, size_t errlen)
{
	EVP_PKEY	*key = NULL;
	BIO		*bio;
	uint8_t		*buf;
	size_t		 len;
	char		 why[768];

	if ((buf = tlsctx_read_file(cfg->key, &len, why, sizeof(why))) ==
	    NULL) {
		snprintf(err, errlen, "key file %s", why);
		return (NULL);
	}
	if ((bio = tlsctx_mem_bio(buf, len, "key file", cfg->key, err,
	    errlen)) != NULL) {
		key = PEM_read_bio_PrivateKey(bio, NULL, tlsctx_password_cb,
		    (void *)(uintptr_t)cfg->key_password);
		BIO_free(bio);
		if (key == NULL)
			tlsctx_errf(err, errlen, "key file %s: cannot load%s",
			    cfg->key, cfg->key_password[0] != '\0' ?
			    " (wrong key_password?)" :
			    " (encrypted key without key_password?)");
	}
	OPENSSL_cleanse(buf, len);
	free(buf);
	return (key);
}

static enum crl_stale	 tlsctx_stale_policy = CRL_STALE_ENFORCE_LISTED;
static enum crl_check	 tlsctx_crl_mode = CRL_CHECK_OFF;
static const struct crlset *tlsctx_crlset;	/* the caller's, see _use */
static unsigned long	 tlsctx_stale_admitted;

void
tlsctx_crl_use(const struct crlset *set, enum crl_check mode)
{
	tlsctx_crlset = set;
	tlsctx_crl_mode = mode;
}

/*
 * The certificate that issued the one at depth: the next one up the chain,
 * or itself at the top when it is self-signed (a root checked by its own
 * CRL under crl_check = chain).
 */
static X509 *
tlsctx_chain_issuer(X509_STORE_CTX *xs, int depth)
{
	STACK_OF(X509)	*chain = X509_STORE_CTX_get0_chain(xs);
	X509		*x;

	if (chain == NULL || depth < 0 || depth >= sk_X509_num(chain))
		return (NULL);
	if (depth + 1 < sk_X509_num(chain))
		return (sk_X509_value(chain, depth + 1));
	x = sk_X509_value(chain, depth);
	return (X509_check_issued(x, x) == X509_V_OK ? x : NULL);
}

/*
 * The certificate at depth against the CRL set, with the verdicts (and
 * errors) OpenSSL's own CRL check gave when the CRL was in its store: a
 * certificate of an issuer the CRL does not speak for cannot be checked,
 * one whose issuer's key did not sign the CRL neither.  A CRL past its
 * nextUpdate refuses everybody under strict; under enforce-listed it still
 * refuses the serials it lists and admits the others, counted: never the
 * fleet-wide lock-out this daemon exists to prevent, never an un-revoke.
 */
static int
tlsctx_crl_check(X509_STORE_CTX *xs, int depth)
{
	const struct crlset	*set = tlsctx_crlset;
	X509			*x = X509_STORE_CTX_get_current_cert(xs);
	int			 stale;

	if (set == NULL || x == NULL ||
	    !crlset_covers(set, X509_get_issuer_name(x)))
		return (X509_V_ERR_UNABLE_TO_GET_CRL);
	if (!crlset_signed_by(set, tlsctx_chain_issuer(xs, depth)))
		return (X509_V_ERR_CRL_SIGNATURE_FAILURE);
	stale = crlset_stale(set, time(NULL));
	if (stale && tlsctx_stale_policy == CRL_STALE_STRICT)
		return (X509_V_ERR_CRL_HAS_EXPIRED);
	if (crlset_find(set, X509_get0_serialNumber(x), NULL))
		return (X509_V_ERR_CERT_REVOKED);
	if (stale && depth == 0)
		tlsctx_stale_admitted++;
	return (X509_V_OK);
}

/*
 * OpenSSL calls back with ok = 1 for each certificate of the chain it has
 * verified (signature, dates), from the top down to the client's: the
 * revocation check goes there, for the client's certificate only under
 * crl_check = leaf, for every one under chain.  Its errors are kept as
 * they are: the store holds no CRL, so none of them is about one.
 */
static int
tlsctx_verify_cb(int ok, X509_STORE_CTX *xs)
{
	int	 depth = X509_STORE_CTX_get_error_depth(xs), err;

	if (!ok || tlsctx_crl_mode == CRL_CHECK_OFF ||
	    (depth > 0 && tlsctx_crl_mode == CRL_CHECK_LEAF))
		return (ok);
	if ((err = tlsctx_crl_check(xs, depth)) == X509_V_OK)
		return (1);
	X509_STORE_CTX_set_error(xs, err);
	return (0);
}

unsigned long
tlsctx_stale_admissions(void)
{
	return (tlsctx_stale_admitted);
}

static int
tlsctx_add_client_cas(SSL_CTX *ctx, STACK_OF(X509) *ca)
{
	int	 i;

	for (i = 0; i < sk_X509_num(ca); i++)
		if (!SSL_CTX_add_client_CA(ctx, sk_X509_value(ca, i)))
			return (-1);
	return (0);
}

/* Every suite the context would negotiate is AEAD, and ECDHE below 1.3. */
static int
tlsctx_ciphers_check(SSL_CTX *ctx, char *err, size_t errlen)
{
	STACK_OF(SSL_CIPHER)	*sk;
	const SSL_CIPHER	*c;
	int			 i, kx;

	if ((sk = SSL_CTX_get_ciphers(ctx)) == NULL ||
	    sk_SSL_CIPHER_num(sk) == 0) {
		snprintf(err, errlen, "no cipher suite left");
		return (-1);
	}
	for (i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
		c = sk_SSL_CIPHER_value(sk, i);
		kx = SSL_CIPHER_get_kx_nid(c);
		if (!SSL_CIPHER_is_aead(c) ||
		    (kx != NID_kx_any && kx != NID_kx_ecdhe)) {
			snprintf(err, errlen, "cipher suite %s would be "
			    "offered: not AEAD with ECDHE",
			    SSL_CIPHER_get_name(c));
			return (-1);
		}
	}
	return (0);
}

/* AEAD suites only (tlsctx.h). */
static int
tlsctx_set_ciphers(SSL_CTX *ctx, char *err, size_t errlen)
{
	if (SSL_CTX_set_cipher_list(ctx, TLSCTX_CIPHERS_TLS12) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLSCTX_CIPHERS_TLS13) != 1) {
		tlsctx_errf(err, errlen, "%s", "cannot set the cipher suites");
		return (-1);
	}
	return (tlsctx_ciphers_check(ctx, err, errlen));
}

/*
 * The ticket callback of a context that has no keys yet: OpenSSL's own
 * ticket keys are random per SSL_CTX and never rotate, so they are never
 * used.  0 makes no ticket (enc) or refuses one (a full handshake).
 */
static int
tlsctx_ticket_none_cb(SSL *ssl, unsigned char name[16], unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	return (0);
}

/* Sessions and tickets (tlsctx.h). */
static int
tlsctx_set_tickets(SSL_CTX *ctx, const struct config *cfg, char *err,
    size_t errlen)
{
	long	 life;

	/*
	 * No per-process cache: it would miss across workers.  A worker
	 * turns on the shared TLS 1.3 cache with its first ticket key ring
	 * (worker/tls.c, tls_ticket_set()).
	 */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 1);
	/*
	 * A ticket's key encrypts for one period and decrypts for one more
	 * (worker/tls.c): no ticket outlives two periods.  Its session says
	 * so too: OpenSSL sends it as the lifetime hint and checks it when
	 * it resumes a TLS 1.2 session (in TLS 1.3 only for early data).
	 */
	life = (long)((2ULL * cfg->ticket_key_rotation_ms + 999) / 1000);
	SSL_CTX_set_timeout(ctx, life);
	if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx,
	    tlsctx_ticket_none_cb) != 1) {
		tlsctx_errf(err, errlen, "%s",
		    "cannot set the ticket callback");
		return (-1);
	}
	return (0);
}

SSL_CTX *
tlsctx_server_new(const struct config *cfg, char *err, size_t errlen)
{
	SSL_CTX		*ctx;
	EVP_PKEY	*key = NULL;
	STACK_OF(X509)	*ca = NULL;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tlsctx_errf(err, errlen, "%s", "cannot create SSL_CTX");
		return (NULL);
	}
	if (!SSL_CTX_set_min_proto_version(ctx, cfg->min_protocol)) {
		tlsctx_errf(err, errlen, "%s", "cannot set min_protocol");
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (tlsctx_set_ciphers(ctx, err, errlen) == -1 ||
	    tlsctx_set_tickets(ctx, cfg, err, errlen) == -1)
		goto fail;
	/* Without it OpenSSL refuses to resume sessions of verified peers. */
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"takd", 4);

	if (tlsctx_use_chain(ctx, cfg->cert, err, errlen) == -1)
		goto fail;
	if ((key = tlsctx_load_key(cfg, err, errlen)) == NULL)
		goto fail;
	if (SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		tlsctx_errf(err, errlen, "key file %s does not match the "
		    "certificate", cfg->key);
		goto fail;
	}
	if ((ca = tlsctx_load_ca(cfg->ca, err, errlen)) == NULL)
		goto fail;
	if (tlsctx_add_client_cas(ctx, ca) == -1) {
		tlsctx_errf(err, errlen, "CA file %s: cannot use", cfg->ca);
		goto fail;
	}
	tlsctx_stale_policy = cfg->crl_stale;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, tlsctx_verify_cb);
	SSL_CTX_set_verify_depth(ctx, 4);
	EVP_PKEY_free(key);
	sk_X509_pop_free(ca, X509_free);
	return (ctx);
fail:
	EVP_PKEY_free(key);
	sk_X509_pop_free(ca, X509_free);
	SSL_CTX_free(ctx);
	return (NULL);
}

X509_CRL *
tlsctx_crl_decode(const uint8_t *buf, size_t len)
{
	const unsigned char	*p = buf;
	X509_CRL		*crl;
	BIO			*bio;

	if (len > INT32_MAX)
		return (NULL);
	if (len > 10 && memmem(buf, len, "-----BEGIN X509 CRL-----", 24)) {
		if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL)
			return (NULL);
		crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
		BIO_free(bio);
		return (crl);
	}
	return (d2i_X509_CRL(NULL, &p, (long)len));
}

static X509 *
tlsctx_crl_signer(X509_CRL *crl, STACK_OF(X509) *ca)
{
	X509		*x;
	EVP_PKEY	*pub;
	int		 i;

	for (i = 0; i < sk_X509_num(ca); i++) {
		x = sk_X509_value(ca, i);
		if (X509_NAME_cmp(X509_get_subject_name(x),
		    X509_CRL_get_issuer(crl)) != 0)
			continue;
		if ((pub = X509_get0_pubkey(x)) != NULL &&
		    X509_CRL_verify(crl, pub) == 1)
			return (x);
	}
	ERR_clear_error();
	return (NULL);
}

int64_t
tlsctx_crl_number(const X509_CRL *crl)
{
	ASN1_INTEGER	*n;
	uint64_t	 v;
	int64_t		 r = -1;

	n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	if (n != NULL && ASN1_INTEGER_get_uint64(&v, n) == 1 &&
	    v <= INT64_MAX)
		r = (int64_t)v;
	ASN1_INTEGER_free(n);
	return (r);
}

int
tlsctx_crl_cmp(const struct crl_info *a, const struct crl_info *b)
{
	if (a->number >= 0 && b->number >= 0 && a->number != b->number)
		return (a->number < b->number ? -1 : 1);
	if (a->number >= 0 && b->number >= 0)
		return (0);
	if (a->last_update != b->last_update)
		return (a->last_update < b->last_update ? -1 : 1);
	return (0);
}

X509_CRL *
tlsctx_crl_parse(const uint8_t *buf, size_t len, STACK_OF(X509) *ca,
    struct crl_info *info, X509 **signer, char *err, size_t errlen)
{
	X509_CRL		*crl;
	X509			*by;
	STACK_OF(X509_REVOKED)	*revoked;
	time_t			 now = time(NULL);

	memset(info, 0, sizeof(*info));
	if ((crl = tlsctx_crl_decode(buf, len)) == NULL) {
		tlsctx_errf(err, errlen, "%s", "not a PEM or DER X.509 CRL");
		return (NULL);
	}
	X509_NAME_oneline(X509_CRL_get_issuer(crl), info->issuer,
	    sizeof(info->issuer));
	if ((by = tlsctx_crl_signer(crl, ca)) == NULL) {
		snprintf(err, errlen, "CRL issued by %s is not signed by the "
		    "configured CA", info->issuer);
		goto fail;
	}
	info->last_update = pki_asn1_time(X509_CRL_get0_lastUpdate(crl));
	info->next_update = pki_asn1_time(X509_CRL_get0_nextUpdate(crl));
	if (info->last_update == 0) {
		snprintf(err, errlen, "%s", "CRL has no valid lastUpdate");
		goto fail;
	}
	/* A little slack for clocks that disagree by a few seconds. */
	if (info->last_update > now + 300) {
		snprintf(err, errlen, "%s", "CRL lastUpdate is in the future");
		goto fail;
	}
	info->number = tlsctx_crl_number(crl);
	revoked = X509_CRL_get_REVOKED(crl);
	info->entries = revoked != NULL ? (size_t)sk_X509_REVOKED_num(revoked) :
	    0;
	if (signer != NULL)
		*signer = by;
	return (crl);
fail:
	X509_CRL_free(crl);
	return (NULL);
}

X509_STORE *
tlsctx_store_new(STACK_OF(X509) *ca)
{
	X509_STORE	*store;
	int		 i;

	if ((store = X509_STORE_new()) == NULL)
		return (NULL);
	for (i = 0; i < sk_X509_num(ca); i++)
		if (!X509_STORE_add_cert(store, sk_X509_value(ca, i)))
			goto fail;
	return (store);
fail:
	X509_STORE_free(store);
	return (NULL);
}

int
tlsctx_set_store(SSL_CTX *ctx, X509_STORE *store)
{
	/*
	 * set1 takes its own reference: SSL objects created before keep the
	 * store they were made with, so live sessions are not disturbed.
	 */
	return (SSL_CTX_set1_verify_cert_store(ctx, store) == 1 ? 0 : -1);
}

int
tlsctx_key_too_open(const char *path)
{
	struct stat	 st;

	if (lstat(path, &st) == -1)
		return (0);
	return ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0);
}

int
tlsctx_verify_class(long vr)
{
	switch (vr) {
	case X509_V_ERR_CERT_REVOKED:
		return (IPC_HS_REVOKED);
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
		/* A CA of the same name but another key fails the signature. */
		return (IPC_HS_UNKNOWN_CA);
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return (IPC_HS_EXPIRED);
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
		return (IPC_HS_CRL);
	default:
		return (IPC_HS_OTHER_VERIFY);
	}
}
