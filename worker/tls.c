/*
 * OpenSSL calls of a session: see tls.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "worker/sesscache.h"
#include "worker/tls.h"

#define TLS_TICKETS_MAGIC	0x544b5453u	/* "TKTS" */

SSL *
tls_new(SSL_CTX *ctx, int fd)
{
	SSL	*ssl;

	ERR_clear_error();
	if ((ssl = SSL_new(ctx)) == NULL)
		return (NULL);
	if (SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return (NULL);
	}
	SSL_set_accept_state(ssl);
	/* Idle sessions give their record buffers back (16-34 KB each). */
	SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
	/*
	 * One read() takes a record's header and body, and whatever follows
	 * (two per record without it).  What it takes past the record stays
	 * in OpenSSL, where epoll cannot see it: conn_read() asks
	 * SSL_has_pending() before it waits.
	 */
	SSL_set_read_ahead(ssl, 1);
	return (ssl);
}

/* The reason of a failed handshake caused by the first queued error e. */
static void
tls_reason_ssl(SSL *ssl, unsigned long e, char *reason, size_t len)
{
	const char	*s;
	long		 vr;

	if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
		snprintf(reason, len, "%s", TLS_REASON_NO_CERT);
		return;
	}
	vr = SSL_get_verify_result(ssl);
	if (vr != X509_V_OK || (ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED)) {
		snprintf(reason, len, "certificate verify failed: %s",
		    X509_verify_cert_error_string(vr));
		return;
	}
	if (e == 0) {
		snprintf(reason, len, "TLS protocol error");
		return;
	}
	if ((s = ERR_reason_error_string(e)) != NULL)
		snprintf(reason, len, "%s", s);
	else
		ERR_error_string_n(e, reason, len);
}

/*
 * Map SSL_get_error() of a call that returned ret.  saved_errno is errno right
 * after the call: OpenSSL reports socket errors through it.
 */
static enum tls_res
tls_result(SSL *ssl, int ret, int saved_errno, char *reason, size_t len)
{
	enum tls_res	 res;

	switch (SSL_get_error(ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		res = TLS_WANT_READ;
		break;
	case SSL_ERROR_WANT_WRITE:
		res = TLS_WANT_WRITE;
		break;
	case SSL_ERROR_ZERO_RETURN:
		/* close_notify, or EOF under SSL_OP_IGNORE_UNEXPECTED_EOF */
		snprintf(reason, len, "closed by peer");
		res = TLS_CLOSED;
		break;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() != 0) {
			tls_reason_ssl(ssl, ERR_peek_error(), reason, len);
			res = TLS_ERROR;
		} else if (saved_errno == 0) {
			snprintf(reason, len, "closed by peer");
			res = TLS_CLOSED;
		} else {
			snprintf(reason, len, "%s", strerror(saved_errno));
			res = TLS_ERROR;
		}
		break;
	case SSL_ERROR_SSL:
	default:
		tls_reason_ssl(ssl, ERR_peek_error(), reason, len);
		res = TLS_ERROR;
		break;
	}
	ERR_clear_error();
	return (res);
}

enum tls_res
tls_handshake(SSL *ssl, char *reason, size_t len)
{
	int	 ret;

	ERR_clear_error();
	errno = 0;
	if ((ret = SSL_do_handshake(ssl)) == 1)
		return (TLS_DONE);
	return (tls_result(ssl, ret, errno, reason, len));
}

enum tls_res
tls_read(SSL *ssl, void *buf, size_t len, size_t *n, char *reason,
    size_t rlen)
{
	int	 ret;

	ERR_clear_error();
	errno = 0;
	*n = 0;
	if ((ret = SSL_read_ex(ssl, buf, len, n)) == 1)
		return (TLS_DONE);
	return (tls_result(ssl, ret, errno, reason, rlen));
}

enum tls_res
tls_write(SSL *ssl, const void *buf, size_t len, size_t *n, char *reason,
    size_t rlen)
{
	int	 ret;

	ERR_clear_error();
	errno = 0;
	*n = 0;
	if ((ret = SSL_write_ex(ssl, buf, len, n)) == 1)
		return (TLS_DONE);
	return (tls_result(ssl, ret, errno, reason, rlen));
}

enum tls_res
tls_shutdown(SSL *ssl, char *reason, size_t len)
{
	int	 ret;

	ERR_clear_error();
	errno = 0;
	ret = SSL_shutdown(ssl);
	if (ret == 1)
		return (TLS_DONE);
	if (ret == 0)
		return (TLS_WANT_READ);
	return (tls_result(ssl, ret, errno, reason, len));
}

static void
tls_serial_hex(const ASN1_INTEGER *serial, char *dst, size_t len)
{
	BIGNUM	*bn;
	char	*hex = NULL;

	snprintf(dst, len, "?");
	if ((bn = ASN1_INTEGER_to_BN(serial, NULL)) == NULL)
		return;
	if ((hex = BN_bn2hex(bn)) != NULL) {
		if (strlen(hex) >= len)
			snprintf(dst, len, "%.*s..", (int)len - 3, hex);
		else
			snprintf(dst, len, "%s", hex);
	}
	OPENSSL_free(hex);
	BN_free(bn);
}

static void
tls_name_oneline(const X509_NAME *name, char *dst, size_t len)
{
	BIO	*bio;
	int	 n;

	dst[0] = '\0';
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return;
	/*
	 * RFC 2253 escaping covers control characters and quotes, so a subject
	 * cannot forge a log line.
	 */
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0 &&
	    (n = BIO_read(bio, dst, (int)len - 1)) > 0)
		dst[n] = '\0';
	BIO_free(bio);
}

/* The values of one RDN type, in the name's order, appended to dst. */
static void
tls_name_append(const X509_NAME *name, int nid, char *dst, size_t len,
    size_t *off, bool *toolong)
{
	const X509_NAME_ENTRY	*e;
	unsigned char		*u;
	int			 i = -1, n;

	while ((i = X509_NAME_get_index_by_NID(name, nid, i)) != -1) {
		if ((e = X509_NAME_get_entry(name, i)) == NULL ||
		    (n = ASN1_STRING_to_UTF8(&u,
		    X509_NAME_ENTRY_get_data(e))) < 0) {
			*toolong = true;	/* unreadable: no name */
			continue;
		}
		/* A NUL inside would cut the name short: no name. */
		if (*off + (*off > 0) + (size_t)n >= len ||
		    memchr(u, '\0', (size_t)n) != NULL)
			*toolong = true;
		else {
			if (*off > 0)
				dst[(*off)++] = '/';
			memcpy(dst + *off, u, (size_t)n);
			*off += (size_t)n;
			dst[*off] = '\0';
		}
		OPENSSL_free(u);
	}
}

void
tls_name_orgunit(const X509_NAME *name, char *dst, size_t len, bool *toolong)
{
	size_t	 off = 0;

	*toolong = false;
	if (len == 0)
		return;
	dst[0] = '\0';
	tls_name_append(name, NID_organizationName, dst, len, &off, toolong);
	tls_name_append(name, NID_organizationalUnitName, dst, len, &off,
	    toolong);
}

/*
 * The one value of RDN nid in name: user names a user only when it is the
 * only one (two CNs could name two users).
 */
static void
tls_name_user(const X509_NAME *name, int nid, char *dst, size_t len,
    bool *bad)
{
	int	 i;

	*bad = false;
	dst[0] = '\0';
	if ((i = X509_NAME_get_index_by_NID(name, nid, -1)) == -1)
		return;
	if (X509_NAME_get_index_by_NID(name, nid, i) != -1) {
		*bad = true;
		return;
	}
	tls_name_append(name, nid, dst, len, &(size_t){ 0 }, bad);
	if (*bad)
		dst[0] = '\0';
}

/* An ASN1_TIME as time_t; 0 for NULL or unreadable. */
static time_t
tls_asn1_time(const ASN1_TIME *t)
{
	struct tm	 tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return (0);
	return (timegm(&tm));
}

/*
 * Fill peer from the three names that takd keeps of a certificate, and
 * its notAfter (NULL: unknown).
 */
static int
tls_peer_fill(struct tls_peer *peer, const ASN1_INTEGER *serial,
    const X509_NAME *issuer, const X509_NAME *subject,
    const ASN1_TIME *not_after, int user_nid)
{
	peer->serial = ASN1_INTEGER_dup(serial);
	peer->issuer = X509_NAME_dup(issuer);
	if (peer->serial == NULL || peer->issuer == NULL) {
		tls_peer_clear(peer);
		ERR_clear_error();
		return (-1);
	}
	tls_serial_hex(peer->serial, peer->serial_hex,
	    sizeof(peer->serial_hex));
	tls_name_oneline(subject, peer->subject, sizeof(peer->subject));
	tls_name_orgunit(subject, peer->orgunit, sizeof(peer->orgunit),
	    &peer->orgunit_long);
	tls_name_user(subject, user_nid, peer->user, sizeof(peer->user),
	    &peer->user_bad);
	peer->not_after = tls_asn1_time(not_after);
	ERR_clear_error();
	return (0);
}

/*
 * The identity of a session in the shared cache (sesscache.h) and in the
 * application data of the session resumed from it: the certificate's
 * serial, issuer, subject and notAfter, each DER with a 2-byte length
 * before it.  Decoding them needs no public key, unlike decoding the
 * certificate.  An identity of three (an older takd's, without notAfter)
 * is read with notAfter unknown.
 */
static int
tls_ident_put(uint8_t *dst, size_t cap, size_t *off, const void *obj,
    int (*i2d)(const void *, unsigned char **))
{
	unsigned char	*p;
	int		 n;

	if ((n = i2d(obj, NULL)) <= 0 || n > 0xffff ||
	    *off + 2 + (size_t)n > cap)
		return (-1);
	dst[(*off)++] = (uint8_t)(n >> 8);
	dst[(*off)++] = (uint8_t)n;
	p = dst + *off;
	if (i2d(obj, &p) != n)
		return (-1);
	*off += (size_t)n;
	return (0);
}

static int
tls_i2d_serial(const void *o, unsigned char **p)
{
	return (i2d_ASN1_INTEGER((const ASN1_INTEGER *)o, p));
}

static int
tls_i2d_name(const void *o, unsigned char **p)
{
	return (i2d_X509_NAME((const X509_NAME *)o, p));
}

static int
tls_i2d_time(const void *o, unsigned char **p)
{
	return (i2d_ASN1_TIME((const ASN1_TIME *)o, p));
}

static int
tls_ident_make(const X509 *x, uint8_t *dst, size_t cap, size_t *len)
{
	*len = 0;
	if (tls_ident_put(dst, cap, len, X509_get0_serialNumber(x),
	    tls_i2d_serial) == -1 ||
	    tls_ident_put(dst, cap, len, X509_get_issuer_name(x),
	    tls_i2d_name) == -1 ||
	    tls_ident_put(dst, cap, len, X509_get_subject_name(x),
	    tls_i2d_name) == -1 ||
	    tls_ident_put(dst, cap, len, X509_get0_notAfter(x),
	    tls_i2d_time) == -1) {
		ERR_clear_error();
		return (-1);
	}
	return (0);
}

/* The next DER object of an identity: its bytes and length, or NULL. */
static const unsigned char *
tls_ident_next(const uint8_t *src, size_t len, size_t *off, long *n)
{
	const unsigned char	*p;

	if (*off + 2 > len)
		return (NULL);
	*n = ((long)src[*off] << 8) | src[*off + 1];
	*off += 2;
	if (*n == 0 || *off + (size_t)*n > len)
		return (NULL);
	p = src + *off;
	*off += (size_t)*n;
	return (p);
}

static int
tls_ident_peer(const uint8_t *src, size_t len, int user_nid,
    struct tls_peer *peer)
{
	const unsigned char	*p;
	ASN1_INTEGER		*serial = NULL;
	X509_NAME		*issuer = NULL, *subject = NULL;
	ASN1_TIME		*na = NULL;
	size_t			 off = 0;
	long			 n;
	int			 rv = -1;

	if ((p = tls_ident_next(src, len, &off, &n)) == NULL ||
	    (serial = d2i_ASN1_INTEGER(NULL, &p, n)) == NULL ||
	    (p = tls_ident_next(src, len, &off, &n)) == NULL ||
	    (issuer = d2i_X509_NAME(NULL, &p, n)) == NULL ||
	    (p = tls_ident_next(src, len, &off, &n)) == NULL ||
	    (subject = d2i_X509_NAME(NULL, &p, n)) == NULL)
		goto fail;
	if (off != len && ((p = tls_ident_next(src, len, &off, &n)) == NULL ||
	    (na = d2i_ASN1_TIME(NULL, &p, n)) == NULL || off != len))
		goto fail;
	rv = tls_peer_fill(peer, serial, issuer, subject, na, user_nid);
fail:
	ASN1_TIME_free(na);
	ASN1_INTEGER_free(serial);
	X509_NAME_free(issuer);
	X509_NAME_free(subject);
	ERR_clear_error();
	return (rv);
}

int
tls_peer_get(SSL *ssl, int user_nid, struct tls_peer *peer)
{
	const SSL_SESSION	*sess;
	const void		*ident;
	size_t			 len;
	X509			*x;

	tls_peer_clear(peer);
	if ((x = SSL_get0_peer_certificate(ssl)) != NULL)
		return (tls_peer_fill(peer, X509_get0_serialNumber(x),
		    X509_get_issuer_name(x), X509_get_subject_name(x),
		    X509_get0_notAfter(x), user_nid));
	/*
	 * Resumed from the shared cache (tls_sess_get_cb()): the identity the
	 * certificate had when it was verified.  revoke_check_resumed() checks
	 * its serial against the CRL in force.
	 */
	if (!SSL_session_reused(ssl) || (sess = SSL_get0_session(ssl)) == NULL)
		return (-1);
	SSL_SESSION_get0_ticket_appdata((SSL_SESSION *)(uintptr_t)sess,
	    (void **)(uintptr_t)&ident, &len);
	if (ident == NULL || len == 0)
		return (-1);
	return (tls_ident_peer(ident, len, user_nid, peer));
}

void
tls_peer_clear(struct tls_peer *peer)
{
	ASN1_INTEGER_free(peer->serial);
	X509_NAME_free(peer->issuer);
	memset(peer, 0, sizeof(*peer));
}

/* What IPC_MSG_TICKET_KEYS holds for each key beside its bytes. */
#define TLS_TICKET_REC_LEN	(sizeof(uint64_t) + sizeof(uint32_t) + \
				    IPC_TICKET_KEY_LEN)

/* The ring in force in this process, and where the callback counts. */
static struct {
	unsigned		 magic;
	struct tls_ticket_ring	 ring;
	uint64_t		*renewed;
	uint64_t		*refused;
} tls_tickets;

void
tls_ticket_encode(struct ipc_buf *b, const struct tls_ticket_ring *ring)
{
	uint8_t		 key[IPC_TICKET_KEY_LEN];
	unsigned	 i;

	ipc_put_u32(b, ring->n);
	for (i = 0; i < ring->n && i < IPC_TICKET_KEYS_MAX; i++) {
		memcpy(key, ring->keys[i].name, IPC_TICKET_NAME_LEN);
		memcpy(key + IPC_TICKET_NAME_LEN, ring->keys[i].aes,
		    IPC_TICKET_AES_LEN);
		memcpy(key + IPC_TICKET_NAME_LEN + IPC_TICKET_AES_LEN,
		    ring->keys[i].hmac, IPC_TICKET_HMAC_LEN);
		ipc_put_u64(b, (uint64_t)ring->keys[i].expires_ms);
		ipc_put_bytes(b, key, sizeof(key));
	}
	OPENSSL_cleanse(key, sizeof(key));
}

int
tls_ticket_decode(const struct ipc_msg *msg, struct tls_ticket_ring *out)
{
	struct tls_ticket_ring	 r;
	struct ipc_rd		 rd;
	const uint8_t		*p;
	size_t			 len;
	uint64_t		 expires;
	uint32_t		 n, i, j;
	int			 rv = -1;

	memset(&r, 0, sizeof(r));
	ipc_rd_init(&rd, msg);
	n = ipc_get_u32(&rd);
	if (rd.err != 0 || n == 0 || n > IPC_TICKET_KEYS_MAX ||
	    msg->len != sizeof(uint32_t) + n * TLS_TICKET_REC_LEN)
		goto done;
	for (i = 0; i < n; i++) {
		expires = ipc_get_u64(&rd);
		p = ipc_get_bytes(&rd, &len);
		if (rd.err != 0 || len != IPC_TICKET_KEY_LEN || expires == 0 ||
		    expires > INT64_MAX)
			goto done;
		r.keys[i].expires_ms = (int64_t)expires;
		memcpy(r.keys[i].name, p, IPC_TICKET_NAME_LEN);
		memcpy(r.keys[i].aes, p + IPC_TICKET_NAME_LEN,
		    IPC_TICKET_AES_LEN);
		memcpy(r.keys[i].hmac, p + IPC_TICKET_NAME_LEN +
		    IPC_TICKET_AES_LEN, IPC_TICKET_HMAC_LEN);
		/* The name alone picks the key: two alike are ambiguous. */
		for (j = 0; j < i; j++)
			if (memcmp(r.keys[j].name, r.keys[i].name,
			    IPC_TICKET_NAME_LEN) == 0)
				goto done;
	}
	if (ipc_rd_done(&rd) == -1)
		goto done;
	r.n = n;
	r.generation = msg->hdr.gen_or_peer;
	if (out != NULL)
		*out = r;
	rv = 0;
done:
	OPENSSL_cleanse(&r, sizeof(r));
	return (rv);
}

const struct tls_ticket_key *
tls_ticket_current(const struct tls_ticket_ring *ring, int64_t now_ms)
{
	if (ring->n == 0 || now_ms >= ring->keys[0].expires_ms)
		return (NULL);
	return (&ring->keys[0]);
}

int
tls_ticket_find(const struct tls_ticket_ring *ring, const uint8_t *name,
    int64_t now_ms, const struct tls_ticket_key **key)
{
	unsigned	 i;

	for (i = 0; i < ring->n && i < IPC_TICKET_KEYS_MAX; i++) {
		if (memcmp(ring->keys[i].name, name, IPC_TICKET_NAME_LEN) != 0)
			continue;
		if (now_ms >= ring->keys[i].expires_ms)
			return (0);
		*key = &ring->keys[i];
		return (i == 0 ? 1 : 2);
	}
	return (0);
}


/* Key the cipher (with iv) and the MAC of one ticket. */
static int
tls_ticket_keyed(const struct tls_ticket_key *k, const unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	OSSL_PARAM	 params[3];

	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
	    (void *)(uintptr_t)k->hmac, IPC_TICKET_HMAC_LEN);
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(hctx, params) != 1)
		return (-1);
	if (EVP_CipherInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes, iv,
	    enc) != 1)
		return (-1);
	return (0);
}

/*
 * SSL_CTX_set_tlsext_ticket_key_evp_cb(): enc 1 makes a ticket with the
 * current key (0: none, the handshake goes on without), enc 0 picks the key
 * named in a ticket: 1 current, 2 previous (OpenSSL decrypts it and sends
 * a new ticket), 0 unknown or expired (a full handshake).  TLS 1.3 tickets
 * are renewed whatever their key, as OpenSSL does with its own keys: they
 * are meant for one use (RFC 8446, C.4), and a client that resumed without
 * getting a new one would make a full handshake next time.  A failure to
 * key OpenSSL's contexts makes no ticket rather than failing the handshake.
 */
static int
tls_ticket_cb(SSL *ssl, unsigned char *name, unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	const struct tls_ticket_key	*k = NULL;
	int				 r = 1, ivlen;

	if (tls_tickets.magic != TLS_TICKETS_MAGIC)
		return (0);
	if (enc) {
		if ((k = tls_ticket_current(&tls_tickets.ring,
		    clock_mono_ms())) == NULL)
			return (0);
		ivlen = EVP_CIPHER_get_iv_length(EVP_aes_256_cbc());
		if (ivlen <= 0 || ivlen > EVP_MAX_IV_LENGTH ||
		    RAND_bytes(iv, ivlen) != 1)
			goto fail;
		memcpy(name, k->name, IPC_TICKET_NAME_LEN);
	} else {
		r = tls_ticket_find(&tls_tickets.ring, name, clock_mono_ms(), &k);
		if (r == 0) {
			(*tls_tickets.refused)++;
			return (0);
		}
		if (r == 2)
			(*tls_tickets.renewed)++;
		else if (SSL_version(ssl) >= TLS1_3_VERSION)
			r = 2;
	}
	if (tls_ticket_keyed(k, iv, cctx, hctx, enc) == 0)
		return (r);
fail:
	log_warnx("session ticket: cannot %s with the key of generation %u",
	    enc ? "encrypt" : "decrypt", tls_tickets.ring.generation);
	ERR_clear_error();
	return (0);
}

/*
 * SSL_CTX_sess_set_new_cb(): a TLS 1.3 session whose ticket was just made
 * (its id) goes to the shared cache with what takd keeps of its peer: from
 * the certificate after a full handshake, from the session it renews after
 * a resumption.  OpenSSL keeps its own reference (returns 0).
 */
static int
tls_sess_new_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct sesscache_rec	 rec;
	const struct tls_ticket_key *k;
	const unsigned char	*id, *sidctx;
	const SSL_CIPHER	*c;
	const void		*ident;
	X509			*x;
	size_t			 len;
	unsigned int		 idlen, sidctxlen;

	(void)ssl;
	/* No key in force, no ticket: as with stateless tickets. */
	if (SSL_SESSION_get_protocol_version(sess) < TLS1_3_VERSION ||
	    (c = SSL_SESSION_get0_cipher(sess)) == NULL ||
	    tls_tickets.magic != TLS_TICKETS_MAGIC ||
	    (k = tls_ticket_current(&tls_tickets.ring, clock_mono_ms())) == NULL)
		return (0);
	memset(&rec, 0, sizeof(rec));
	id = SSL_SESSION_get_id(sess, &idlen);
	sidctx = SSL_SESSION_get0_id_context(sess, &sidctxlen);
	len = SSL_SESSION_get_master_key(sess, rec.key, sizeof(rec.key));
	if (idlen == 0 || idlen > sizeof(rec.id) || len == 0 ||
	    len > sizeof(rec.key) || sidctxlen > sizeof(rec.sidctx))
		goto done;
	memcpy(rec.sidctx, sidctx, sidctxlen);
	rec.sidctxlen = (uint16_t)sidctxlen;
	if ((x = SSL_SESSION_get0_peer(sess)) != NULL) {
		if (tls_ident_make(x, rec.ident, sizeof(rec.ident), &len) == -1)
			goto done;
	} else {
		/* None when the session has no certificate: no identity. */
		SSL_SESSION_get0_ticket_appdata(sess,
		    (void **)(uintptr_t)&ident, &len);
		if (len > sizeof(rec.ident))
			goto done;
		if (len > 0)
			memcpy(rec.ident, ident, len);
	}
	rec.identlen = (uint16_t)len;
	memcpy(rec.id, id, idlen);
	rec.idlen = (uint16_t)idlen;
	rec.keylen = (uint16_t)SSL_SESSION_get_master_key(sess, NULL, 0);
	rec.cipher = SSL_CIPHER_get_protocol_id(c);
	rec.version = SSL_SESSION_get_protocol_version(sess);
	rec.made = (int64_t)SSL_SESSION_get_time(sess);
	rec.timeout = (int64_t)SSL_SESSION_get_timeout(sess);
	rec.expires = rec.made + rec.timeout;
	memcpy(rec.key_name, k->name, sizeof(rec.key_name));
	(void)sesscache_put(&rec, (int64_t)time(NULL));
done:
	OPENSSL_cleanse(&rec, sizeof(rec));
	return (0);
}

/*
 * SSL_CTX_sess_set_get_cb(): the session of a TLS 1.3 ticket, taken out
 * of the shared cache (one use: sesscache.h) while the ticket key current
 * when it was made is in force, and rebuilt from its secret, suite and
 * times: no certificate to decode.  The identity rides along as the session's
 * application data (tls_peer_get()); the ticket that renews it copies it.
 * No remove callback: OpenSSL would drop the session of every connection
 * closed without close_notify, which tickets never were.
 */
static SSL_SESSION *
tls_sess_get_cb(SSL *ssl, const unsigned char *id, int idlen, int *copy)
{
	struct sesscache_rec	 rec;
	const struct tls_ticket_key *k;
	const SSL_CIPHER	*c;
	SSL_SESSION		*sess = NULL;
	unsigned char		 cs[2];
	int			 r;

	*copy = 0;
	if (SSL_version(ssl) < TLS1_3_VERSION || idlen <= 0)
		return (NULL);
	if (tls_tickets.magic != TLS_TICKETS_MAGIC)
		return (NULL);
	/*
	 * An entry lives as long as a stateless ticket of the key current
	 * when it was made would: that key still in the ring and unexpired
	 * (tls_ticket_find()); made with the previous one, it is renewed.
	 */
	if (sesscache_take(id, (size_t)idlen, (int64_t)time(NULL),
	    &rec) == -1 || (r = tls_ticket_find(&tls_tickets.ring,
	    rec.key_name, clock_mono_ms(), &k)) == 0) {
		OPENSSL_cleanse(&rec, sizeof(rec));
		(*tls_tickets.refused)++;
		return (NULL);
	}
	if (r == 2)
		(*tls_tickets.renewed)++;
	cs[0] = (unsigned char)(rec.cipher >> 8);
	cs[1] = (unsigned char)rec.cipher;
	if (rec.version != SSL_version(ssl) ||
	    (c = SSL_CIPHER_find(ssl, cs)) == NULL ||
	    (sess = SSL_SESSION_new()) == NULL ||
	    SSL_SESSION_set_protocol_version(sess, rec.version) != 1 ||
	    SSL_SESSION_set_cipher(sess, c) != 1 ||
	    SSL_SESSION_set1_master_key(sess, rec.key, rec.keylen) != 1 ||
	    SSL_SESSION_set1_id(sess, rec.id, rec.idlen) != 1 ||
	    SSL_SESSION_set1_id_context(sess, rec.sidctx,
	    rec.sidctxlen) != 1 ||
	    SSL_SESSION_set_time(sess, (long)rec.made) == 0 ||
	    SSL_SESSION_set_timeout(sess, (long)rec.timeout) == 0 ||
	    (rec.identlen > 0 && SSL_SESSION_set1_ticket_appdata(sess,
	    rec.ident, rec.identlen) != 1)) {
		log_warnx("session cache: cannot rebuild a session (%s)",
		    ERR_reason_error_string(ERR_peek_error()) != NULL ?
		    ERR_reason_error_string(ERR_peek_error()) : "no suite");
		SSL_SESSION_free(sess);
		sess = NULL;
	}
	OPENSSL_cleanse(&rec, sizeof(rec));
	ERR_clear_error();
	return (sess);
}

/*
 * SSL_CTX_set_client_hello_cb(): TLS 1.3 sessions resume from the shared
 * cache (SSL_OP_NO_TICKET makes OpenSSL's TLS 1.3 tickets stateful: a
 * session id); TLS 1.2 keeps its stateless tickets (tls_ticket_cb()), as
 * a TLS 1.2 session rebuilt from its secret would lack its extended master
 * secret flag.  The client's supported_versions decides which it will be.
 */
static int
tls_hello_cb(SSL *ssl, int *al, void *arg)
{
	const unsigned char	*p;
	size_t			 len, i;
	long			 max;
	bool			 v13 = false;

	(void)al;
	(void)arg;
	max = SSL_get_max_proto_version(ssl);
	if ((max == 0 || max >= TLS1_3_VERSION) &&
	    SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_supported_versions,
	    &p, &len) == 1 && len >= 1 && (size_t)p[0] + 1 <= len)
		for (i = 1; i + 1 <= (size_t)p[0]; i += 2)
			if (p[i] == 0x03 && p[i + 1] == 0x04)
				v13 = true;
	if (v13)
		SSL_set_options(ssl, SSL_OP_NO_TICKET);
	else
		SSL_clear_options(ssl, SSL_OP_NO_TICKET);
	return (SSL_CLIENT_HELLO_SUCCESS);
}

int
tls_ticket_set(SSL_CTX *ctx, const struct tls_ticket_ring *ring,
    uint64_t *renewed, uint64_t *refused)
{
	if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, tls_ticket_cb) != 1) {
		ERR_clear_error();
		return (-1);
	}
	/* Without the shared table, stateless tickets in both versions. */
	if (sesscache_ready()) {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER |
		    SSL_SESS_CACHE_NO_INTERNAL);
		SSL_CTX_sess_set_new_cb(ctx, tls_sess_new_cb);
		SSL_CTX_sess_set_get_cb(ctx, tls_sess_get_cb);
		SSL_CTX_set_client_hello_cb(ctx, tls_hello_cb, NULL);
	}
	OPENSSL_cleanse(&tls_tickets.ring, sizeof(tls_tickets.ring));
	tls_tickets.ring = *ring;
	tls_tickets.renewed = renewed;
	tls_tickets.refused = refused;
	tls_tickets.magic = TLS_TICKETS_MAGIC;
	return (0);
}
