/*
 * The OpenSSL side of a session: non-blocking handshake, reading, close_notify,
 * and what we keep of the peer certificate.  Every call clears the error queue
 * first and leaves it empty, and turns SSL_get_error() into a small result plus
 * a human-readable reason, so conn.c never touches the error queue.
 */
#ifndef TAKD_WORKER_TLS_H
#define TAKD_WORKER_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

enum tls_res {
	TLS_DONE,		/* the step completed */
	TLS_WANT_READ,		/* wait until the socket is readable */
	TLS_WANT_WRITE,		/* wait until the socket is writable */
	TLS_AGAIN,		/* more to do now, yielding for fairness */
	TLS_CLOSED,		/* the peer closed (close_notify or EOF) */
	TLS_ERROR		/* failed; the reason says why */
};

/* Room for a reason such as a verification error with context. */
#define TLS_REASON_MAX		256
/* The reason of a handshake without a client certificate (conn.c counts it). */
#define TLS_REASON_NO_CERT	"no client certificate"

/*
 * What a session keeps of its peer certificate after the handshake.  serial and
 * issuer are owned copies, kept so that a new CRL generation can be checked
 * against live sessions.
 */
struct tls_peer {
	ASN1_INTEGER	*serial;
	X509_NAME	*issuer;
	char		 serial_hex[68];	/* truncated past 32 bytes */
	char		 subject[512];		/* RFC 2253, escaped */
};

/* A server-side SSL on fd, in accept state.  NULL when out of memory. */
SSL	*tls_new(SSL_CTX *, int fd);

enum tls_res tls_handshake(SSL *, char *reason, size_t);

/*
 * One SSL_read_ex: TLS_DONE with *n > 0 bytes of application data in buf,
 * or what to wait for, or why it ended.
 */
enum tls_res tls_read(SSL *, void *buf, size_t len, size_t *n,
	    char *reason, size_t);
/*
 * One SSL_write_ex of len > 0 bytes (the context allows partial writes and
 * moving buffers): TLS_DONE with *n bytes written, or what to wait for.
 * After TLS_WANT_READ/TLS_WANT_WRITE the next call must start with the
 * same len bytes (it may add more).
 */
enum tls_res tls_write(SSL *, const void *buf, size_t len, size_t *n,
	    char *reason, size_t);

/*
 * Send close_notify.  TLS_DONE: both sides closed; TLS_WANT_READ: sent, the
 * peer's close_notify has not arrived yet; TLS_WANT_WRITE: retry when writable.
 */
enum tls_res tls_shutdown(SSL *, char *reason, size_t);

/* Fill peer from the session's certificate.  -1 when there is none. */
int	 tls_peer_get(SSL *, struct tls_peer *);
void	 tls_peer_clear(struct tls_peer *);

#endif
