/*
 * The OpenSSL side of a session: non-blocking handshake, reading, close_notify,
 * and what we keep of the peer certificate.  Every call clears the error queue
 * first and leaves it empty, and turns SSL_get_error() into a small result plus
 * a human-readable reason, so conn.c never touches the error queue.
 *
 * Also the session ticket keys of the process (tls_ticket_*): the supervisor
 * owns a {current, previous} ring and sends it to every worker
 * (IPC_MSG_TICKET_KEYS) at spawn and at each rotation; the worker's ticket
 * callback encrypts with the current key and decrypts with either, renewing
 * the tickets of the previous one (and every TLS 1.3 ticket: single use).
 * Encoding and decoding the message live here too, free of any worker
 * state, so that the fuzzer and the unit tests run the real code.
 */
#ifndef TAKD_WORKER_TLS_H
#define TAKD_WORKER_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ipc/ipc.h"

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
	/*
	 * The subject's O then OU values joined with '/' (tls_name_orgunit):
	 * the name of its group with [auth] ou_groups (docs/groups.md).
	 */
	char		 orgunit[256];
	bool		 orgunit_long;	/* did not fit, or unreadable */
	/*
	 * The value of the subject's [auth] user_rdn (CN by default): who the
	 * users file knows it as, "" when it has none.  user_bad: several
	 * values, or one that is unreadable or longer than a user name.
	 */
	char		 user[64];
	bool		 user_bad;
	/*
	 * The certificate's notAfter (seconds since the epoch), for the
	 * registry and the console; 0 when unknown (a session resumed from
	 * a cache entry an older takd wrote).
	 */
	time_t		 not_after;
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

/*
 * The O values of name, then its OU values, each in the name's order, as
 * UTF-8 joined with '/' ("Acme/Blue"), into dst; "" when it has none.
 * *toolong says that one did not fit or could not be read: dst is then no
 * name to use.
 */
void	 tls_name_orgunit(const X509_NAME *, char *dst, size_t len,
	    bool *toolong);
/* Fill peer from the session's certificate.  -1 when there is none. */
int	 tls_peer_get(SSL *, int user_nid, struct tls_peer *);
void	 tls_peer_clear(struct tls_peer *);

/* One session ticket key (IPC_MSG_TICKET_KEYS has the sizes). */
struct tls_ticket_key {
	uint8_t		 name[IPC_TICKET_NAME_LEN];
	uint8_t		 aes[IPC_TICKET_AES_LEN];	/* AES-256-CBC */
	uint8_t		 hmac[IPC_TICKET_HMAC_LEN];	/* HMAC-SHA256 */
	int64_t		 expires_ms;	/* CLOCK_MONOTONIC; unusable from then */
};

/* keys[0] is the current key, keys[1] (if n is 2) the previous one. */
struct tls_ticket_ring {
	struct tls_ticket_key keys[IPC_TICKET_KEYS_MAX];
	unsigned	 n;
	uint32_t	 generation;
};

/* Append IPC_MSG_TICKET_KEYS's payload for ring to b (errors stick in b). */
void	 tls_ticket_encode(struct ipc_buf *, const struct tls_ticket_ring *);
/*
 * Check an IPC_MSG_TICKET_KEYS frame (exact size, 1 to IPC_TICKET_KEYS_MAX
 * keys of IPC_TICKET_KEY_LEN bytes, distinct names, expiry in range) and
 * decode it into ring unless ring is NULL; generation from the header.
 * 0, or -1 when malformed (ring untouched).
 */
int	 tls_ticket_decode(const struct ipc_msg *, struct tls_ticket_ring *);
/* The key that encrypts new tickets at now_ms; NULL when none is usable. */
const struct tls_ticket_key *tls_ticket_current(
	    const struct tls_ticket_ring *, int64_t now_ms);
/*
 * The key that decrypts a ticket whose key name is name, at now_ms: 1 for
 * the current key, 2 for the previous one (the ticket is to be renewed),
 * 0 when there is none (unknown, or expired); *key is set when not 0.
 */
int	 tls_ticket_find(const struct tls_ticket_ring *, const uint8_t *name,
	    int64_t now_ms, const struct tls_ticket_key **key);
/*
 * Put ring in force for every handshake from now on (copied; the ring in
 * force before is wiped), and install the ticket callback on ctx (in place
 * of tlsctx's, which makes and takes no ticket).  The callback counts in
 * *renewed the tickets of the previous key it accepts and in *refused those
 * whose key is unknown or expired.  -1 when the callback cannot be
 * installed.
 */
int	 tls_ticket_set(SSL_CTX *, const struct tls_ticket_ring *,
	    uint64_t *renewed, uint64_t *refused);

#endif
