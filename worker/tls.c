/*
 * OpenSSL calls of a session: see tls.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "worker/tls.h"

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

int
tls_peer_get(SSL *ssl, struct tls_peer *peer)
{
	X509	*x;

	tls_peer_clear(peer);
	if ((x = SSL_get0_peer_certificate(ssl)) == NULL)
		return (-1);
	peer->serial = ASN1_INTEGER_dup(X509_get0_serialNumber(x));
	peer->issuer = X509_NAME_dup(X509_get_issuer_name(x));
	if (peer->serial == NULL || peer->issuer == NULL) {
		tls_peer_clear(peer);
		ERR_clear_error();
		return (-1);
	}
	tls_serial_hex(peer->serial, peer->serial_hex,
	    sizeof(peer->serial_hex));
	tls_name_oneline(X509_get_subject_name(x), peer->subject,
	    sizeof(peer->subject));
	ERR_clear_error();
	return (0);
}

void
tls_peer_clear(struct tls_peer *peer)
{
	ASN1_INTEGER_free(peer->serial);
	X509_NAME_free(peer->issuer);
	memset(peer, 0, sizeof(*peer));
}
