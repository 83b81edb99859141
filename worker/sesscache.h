/*
 * The TLS 1.3 session cache that every worker shares (stateful tickets).
 *
 * A stateless ticket carries the whole session, client certificate
 * included: OpenSSL 3.0 decodes that certificate (its public key, through
 * the provider decoders) once to resume and once more to make the next
 * ticket, about as much CPU as a full handshake's.  Here the ticket is only
 * a random session id; the session's secret and the few names takd needs
 * (serial, issuer, subject: tls_peer_get()) stay in a table of anonymous
 * shared memory the supervisor maps before it forks the workers, so a
 * ticket made in one worker resumes in any other, and nothing of it ever
 * reaches a file (the mapping is MADV_DONTDUMP).  An entry lives as long
 * as the ticket key that was current when it was made would have (the
 * caller checks: tls_sess_get_cb()), and is used once: the first
 * resumption with it takes it out of the table, a replay of the ticket
 * gets a full handshake, and the resumed session's own new ticket is the
 * client's next one (RFC 8446, 8.1 and C.4).  A full table overwrites the
 * oldest entry of the slots an id hashes to.
 */
#ifndef TAKD_WORKER_SESSCACHE_H
#define TAKD_WORKER_SESSCACHE_H

#include <stddef.h>
#include <stdint.h>

#define SESSCACHE_ID_MAX	32	/* SSL_MAX_SSL_SESSION_ID_LENGTH */
#define SESSCACHE_KEY_MAX	48	/* TLS1_3 PSK of SHA-384 */
#define SESSCACHE_IDENT_MAX	1024	/* serial, issuer, subject, notAfter: DER */
/* Entries (about 10 MiB): past them the oldest tickets go. */
#define SESSCACHE_ENTRIES	8192
/* The slots one id may live in: the oldest of them makes room. */
#define SESSCACHE_WAYS		8

struct sesscache_rec {
	uint8_t		 id[SESSCACHE_ID_MAX];
	uint8_t		 key[SESSCACHE_KEY_MAX];
	uint8_t		 ident[SESSCACHE_IDENT_MAX];
	uint8_t		 sidctx[SESSCACHE_ID_MAX];	/* must match to resume */
	int64_t		 expires;	/* wall clock, s */
	int64_t		 made;		/* wall clock, s: SSL_SESSION_get_time */
	int64_t		 timeout;	/* s */
	uint8_t		 key_name[16];	/* the ticket key current when made */
	uint16_t	 idlen;
	uint16_t	 keylen;
	uint16_t	 identlen;
	uint16_t	 sidctxlen;
	uint16_t	 cipher;	/* the suite's IANA number */
	int32_t		 version;
};

/* In the supervisor, before the first fork.  -1 on error (logged). */
int	 sesscache_init(void);
/* Whether this process has the table. */
int	 sesscache_ready(void);
/* Store r (replacing the oldest of its slots).  -1 when not stored. */
int	 sesscache_put(const struct sesscache_rec *r, int64_t now);
/* Copy the entry of id into *r and remove it: 0, or -1 when none or expired. */
int	 sesscache_take(const uint8_t *id, size_t idlen, int64_t now,
	    struct sesscache_rec *r);

#endif
