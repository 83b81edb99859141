/*
 * tlsclient: the TLS client side of takclient and takload (see
 * tlsclient.h).
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tests/common/tlsclient.h"

/*
 * A session ticket came.  In TLS 1.3 the client has finished its handshake
 * before the server looked at the client certificate: the ticket is the
 * server saying it accepted it.  Kept for the next connection when asked
 * (tickets are single use: every connection keeps its own, as real clients
 * do).
 */
static int
tlsclient_ticket_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct tlsclient	*c = SSL_get_app_data(ssl);

	if (c == NULL || c->magic != TLSCLIENT_MAGIC)
		return (0);
	c->ticket = 1;
	if (!c->keep_ticket)
		return (0);	/* not kept */
	SSL_SESSION_free(c->sess);
	c->sess = sess;
	return (1);
}

/* NULL and a message in err (the file and OpenSSL's reason) on error. */
SSL_CTX *
tlsclient_ctx_new(const struct tlsclient_conf *cf, char *err, size_t len)
{
	SSL_CTX		*ctx;
	const char	*what = "SSL_CTX_new";
	char		 why[256];

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		goto fail;
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* Writes come from a buffer that grows and is consumed. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (cf->read_ahead)
		SSL_CTX_set_read_ahead(ctx, 1);
	if (cf->release_buffers)
		SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, tlsclient_ticket_cb);
	if (cf->pass != NULL)
		SSL_CTX_set_default_passwd_cb_userdata(ctx,
		    (void *)(uintptr_t)cf->pass);
	if (cf->cert != NULL) {
		what = cf->cert;
		if (SSL_CTX_use_certificate_chain_file(ctx, cf->cert) != 1)
			goto fail;
		what = cf->key;
		if (SSL_CTX_use_PrivateKey_file(ctx, cf->key,
		    SSL_FILETYPE_PEM) != 1)
			goto fail;
		what = "key does not match certificate";
		if (SSL_CTX_check_private_key(ctx) != 1)
			goto fail;
	}
	if (cf->ca != NULL) {
		what = cf->ca;
		if (SSL_CTX_load_verify_locations(ctx, cf->ca, NULL) != 1)
			goto fail;
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	return (ctx);
fail:
	/* The first error says why ("No such file or directory"). */
	ERR_error_string_n(ERR_peek_error(), why, sizeof(why));
	snprintf(err, len, "%s: %s", what, why);
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return (NULL);
}

/* "HOST:PORT" or "[V6]:PORT", split in place; -1 when it is neither. */
int
tlsclient_hostport(char *arg, char **host, char **port)
{
	char	*colon;

	if ((colon = strrchr(arg, ':')) == NULL || colon[1] == '\0' ||
	    colon == arg)
		return (-1);
	*colon = '\0';
	*port = colon + 1;
	*host = arg;
	if (arg[0] == '[') {
		if (colon[-1] != ']')
			return (-1);
		colon[-1] = '\0';
		*host = arg + 1;
	}
	return (0);
}

void
tlsclient_init(struct tlsclient *c, int keep_ticket)
{
	memset(c, 0, sizeof(*c));
	c->magic = TLSCLIENT_MAGIC;
	c->fd = -1;
	c->keep_ticket = keep_ticket;
}

/*
 * A non-blocking socket and connect() to ai.  -1 with errno set and *what
 * the call that failed ("socket", "SO_RCVBUF", "bind", "connect"); c->fd
 * is -1 only when socket() itself failed.  Otherwise 0: the connection is
 * made or under way (tlsclient_connected() once writable).
 */
int
tlsclient_connect(struct tlsclient *c, const struct addrinfo *ai,
    const struct tlsclient_sock *so, const char **what)
{
	int	 on = 1;

	c->ticket = 0;
	*what = "socket";
	c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (c->fd == -1)
		return (-1);
	if (so != NULL && so->nodelay)
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof(on));
	/* Before connect(): the window it advertises depends on it. */
	*what = "SO_RCVBUF";
	if (so != NULL && so->rcvbuf > 0 && setsockopt(c->fd, SOL_SOCKET,
	    SO_RCVBUF, &so->rcvbuf, sizeof(so->rcvbuf)) == -1)
		return (-1);
	/*
	 * A source address of our own (tests of per-address limits); the
	 * port is picked at connect(), so that thousands of connections to
	 * one server do not run out of ports.
	 */
	if (so != NULL && so->bind != NULL) {
		(void)setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT,
		    &on, sizeof(on));
		*what = "bind";
		if (bind(c->fd, so->bind, so->bind_len) == -1)
			return (-1);
	}
	*what = "connect";
	if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
	    errno != EINPROGRESS)
		return (-1);
	return (0);
}

/* The socket of a connect() under way became writable: -1 (errno) if failed. */
int
tlsclient_connected(struct tlsclient *c)
{
	socklen_t	 len = sizeof(int);
	int		 err = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		return (-1);
	if (err != 0) {
		errno = err;
		return (-1);
	}
	return (0);
}

/*
 * The TLS session on the connected socket: SNI and, when the context
 * verifies the server, its name checked (servername may be NULL; not const
 * for SSL_set_tlsext_host_name()); the kept ticket offered.  -1 if OpenSSL
 * cannot make it.
 */
int
tlsclient_tls(struct tlsclient *c, SSL_CTX *ctx, char *servername)
{
	if ((c->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
		return (-1);
	SSL_set_app_data(c->ssl, c);
	if (servername != NULL && (SSL_set_tlsext_host_name(c->ssl,
	    servername) != 1 || (SSL_get_verify_mode(c->ssl) !=
	    SSL_VERIFY_NONE && SSL_set1_host(c->ssl, servername) != 1)))
		return (-1);
	if (c->sess != NULL && SSL_set_session(c->ssl, c->sess) != 1)
		return (-1);
	SSL_set_connect_state(c->ssl);
	return (0);
}

/* Why an SSL call failed, in words an operator or a test can match. */
static void
tlsclient_reason(const struct tlsclient *c, int ret, int saved_errno,
    char *buf, size_t len)
{
	const char	*str;
	unsigned long	 e;
	long		 vr;
	int		 err;

	err = SSL_get_error(c->ssl, ret);
	e = ERR_peek_last_error();
	str = ERR_reason_error_string(e);
	if (err == SSL_ERROR_ZERO_RETURN)
		snprintf(buf, len, "closed by server (close_notify)");
	else if (SSL_get_verify_mode(c->ssl) != SSL_VERIFY_NONE &&
	    (vr = SSL_get_verify_result(c->ssl)) != X509_V_OK)
		snprintf(buf, len, "server certificate: %s",
		    X509_verify_cert_error_string(vr));
	else if (err == SSL_ERROR_SYSCALL && saved_errno != 0)
		snprintf(buf, len, "%s", strerror(saved_errno));
	else if (err == SSL_ERROR_SYSCALL ||
	    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
		snprintf(buf, len, "connection closed by server (EOF)");
	else	/* alerts read "tlsv13 alert certificate required" */
		snprintf(buf, len, "%s", str != NULL ? str : "TLS error");
	ERR_clear_error();
}

/* What an SSL call that did not succeed means: wait, or the end. */
static enum tlsclient_io
tlsclient_result(const struct tlsclient *c, int ret, int saved_errno,
    char *reason, size_t len)
{
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return (TLSCLIENT_WANT_READ);
	case SSL_ERROR_WANT_WRITE:
		return (TLSCLIENT_WANT_WRITE);
	default:
		tlsclient_reason(c, ret, saved_errno, reason, len);
		return (TLSCLIENT_CLOSED);
	}
}

enum tlsclient_io
tlsclient_handshake(struct tlsclient *c, char *reason, size_t len)
{
	int	 ret, saved;

	ERR_clear_error();
	errno = 0;
	ret = SSL_connect(c->ssl);
	saved = errno;
	if (ret == 1)
		return (TLSCLIENT_OK);
	return (tlsclient_result(c, ret, saved, reason, len));
}

/* Up to len bytes into buf, *n of them; TLSCLIENT_OK when *n > 0. */
enum tlsclient_io
tlsclient_read(struct tlsclient *c, void *buf, size_t len, size_t *n,
    char *reason, size_t rlen)
{
	ssize_t	 r;
	int	 ret, saved;

	*n = 0;
	ERR_clear_error();
	errno = 0;
	if (c->ssl == NULL) {
		if ((r = read(c->fd, buf, len)) > 0) {
			*n = (size_t)r;
			return (TLSCLIENT_OK);
		}
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			return (TLSCLIENT_WANT_READ);
		snprintf(reason, rlen, "%s", r == 0 ? "EOF" : strerror(errno));
		return (TLSCLIENT_CLOSED);
	}
	ret = SSL_read_ex(c->ssl, buf, len, n);
	saved = errno;
	if (ret == 1)
		return (TLSCLIENT_OK);
	return (tlsclient_result(c, ret, saved, reason, rlen));
}

/* Up to len bytes of buf written, *n of them (partial writes are on). */
enum tlsclient_io
tlsclient_write(struct tlsclient *c, const void *buf, size_t len, size_t *n,
    char *reason, size_t rlen)
{
	ssize_t	 r;
	int	 ret, saved;

	*n = 0;
	ERR_clear_error();
	errno = 0;
	if (c->ssl == NULL) {
		if ((r = send(c->fd, buf, len, MSG_NOSIGNAL)) >= 0) {
			*n = (size_t)r;
			return (TLSCLIENT_OK);
		}
		if (errno == EAGAIN || errno == EINTR)
			return (TLSCLIENT_WANT_WRITE);
		snprintf(reason, rlen, "%s", strerror(errno));
		return (TLSCLIENT_CLOSED);
	}
	ret = SSL_write_ex(c->ssl, buf, len, n);
	saved = errno;
	if (ret == 1)
		return (TLSCLIENT_OK);
	return (tlsclient_result(c, ret, saved, reason, rlen));
}

/*
 * End the connection: a close_notify first when notify and the session is
 * up (never waiting for the server's), then the socket.  The kept ticket
 * stays for the next connection.
 */
void
tlsclient_close(struct tlsclient *c, int notify)
{
	if (c->ssl != NULL) {
		if (notify && SSL_is_init_finished(c->ssl)) {
			ERR_clear_error();
			(void)SSL_shutdown(c->ssl);
		}
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->ticket = 0;
	ERR_clear_error();
}

void
tlsclient_free(struct tlsclient *c)
{
	if (c == NULL || c->magic != TLSCLIENT_MAGIC)
		return;
	tlsclient_close(c, 0);
	SSL_SESSION_free(c->sess);
	c->sess = NULL;
	c->magic = 0;
}
