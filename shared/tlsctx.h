/*
 * TLS material shared by the supervisor (which loads and validates it as root,
 * before forking) and the workers (which inherit the SSL_CTX across fork).
 * The verification store holds the CA certificates only: revocation is
 * checked by the verify callback against the CRL set in force (crlset.h),
 * which the workers swap for each CRL generation they are sent.
 */
#ifndef TAKD_TLSCTX_H
#define TAKD_TLSCTX_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "shared/config.h"

struct crlset;

/* What status and logs say about a CRL. */
struct crl_info {
	uint32_t	 generation;	/* 0 = no CRL in force */
	size_t		 entries;
	time_t		 last_update;
	time_t		 next_update;	/* 0 when the CRL has none */
	/* Its cRLNumber; -1 when it has none or one beyond 63 bits. */
	int64_t		 number;
	char		 issuer[256];
};

/*
 * The cipher suites takd offers (docs/security.md, "TLS"): AEAD only.  TLS
 * 1.2 is limited to ECDHE (forward secrecy) with AES-GCM or
 * ChaCha20-Poly1305, for ECDSA and RSA server keys alike; no CBC, no RSA
 * key exchange, no DHE.  TLS 1.3 keeps OpenSSL's default suites, all AEAD.
 */
#define TLSCTX_CIPHERS_TLS12	"ECDHE-ECDSA-AES128-GCM-SHA256:" \
				"ECDHE-RSA-AES128-GCM-SHA256:" \
				"ECDHE-ECDSA-AES256-GCM-SHA384:" \
				"ECDHE-RSA-AES256-GCM-SHA384:" \
				"ECDHE-ECDSA-CHACHA20-POLY1305:" \
				"ECDHE-RSA-CHACHA20-POLY1305"
#define TLSCTX_CIPHERS_TLS13	"TLS_AES_256_GCM_SHA384:" \
				"TLS_CHACHA20_POLY1305_SHA256:" \
				"TLS_AES_128_GCM_SHA256"

/*
 * Server SSL_CTX: certificate chain and key (key_password if set), key/cert
 * match, client verification against the CA (SSL_VERIFY_PEER |
 * SSL_VERIFY_FAIL_IF_NO_PEER_CERT) under the [tls] crl_stale policy, min
 * protocol, the cipher suites above (checked: every one AEAD, and ECDHE
 * below TLS 1.3), safe options, client CA list.
 * Session tickets: a session lives two [tls] ticket_key_rotation periods
 * (SSL_CTX_set_timeout, also the ticket lifetime hint); no ticket is made
 * or accepted until the worker installs the key ring the supervisor sends
 * it (worker/tls.h, tls_ticket_set()).
 * The verification store is set separately with tlsctx_set_store().
 * Returns NULL with a message in err.
 */
SSL_CTX	*tlsctx_server_new(const struct config *, char *err, size_t errlen);

/* Load every certificate of a PEM CA file.  NULL with a message in err. */
STACK_OF(X509) *tlsctx_load_ca(const char *path, char *err, size_t errlen);

/*
 * Read a whole file (a CRL) of at most max bytes, path relative to a directory
 * descriptor (after the privilege drop), into memory; NUL-terminated one past
 * *len, the caller frees it.  NULL with a message in err.  Like every file
 * takd trusts (certificate, key, CA), it is opened without following a link
 * or waiting on a FIFO, must be a regular file and root's, not writable by
 * group or others (trust.h).
 */
uint8_t	*tlsctx_read_at(int dirfd, const char *path, size_t max, size_t *len,
	    char *err, size_t errlen);
/* The same, name inside dirfd, path (the whole path) for the messages. */
uint8_t	*tlsctx_read_named(int dirfd, const char *name, const char *path,
	    size_t max, size_t *len, char *err, size_t errlen);

/*
 * Decode a CRL from bytes: the first PEM X509 CRL block, or DER.  NULL when
 * it is neither (the OpenSSL error queue says why).  No check of any kind.
 */
X509_CRL *tlsctx_crl_decode(const uint8_t *buf, size_t len);

/*
 * Parse a CRL from bytes (PEM or DER) and check it: signed by one of the CA
 * certificates, issuer equal to that CA's subject, lastUpdate not in the
 * future.  Being past nextUpdate is not an error here (policy decides); info
 * is filled (generation left 0), and *signer (unless NULL) is the CA
 * certificate that signed it, borrowed from ca.  NULL with a message in err.
 */
X509_CRL *tlsctx_crl_parse(const uint8_t *buf, size_t len,
	    STACK_OF(X509) *ca, struct crl_info *info, X509 **signer,
	    char *err, size_t errlen);

/* The cRLNumber of a CRL; -1 when none or beyond 63 bits. */
int64_t	 tlsctx_crl_number(const X509_CRL *);

/*
 * The order of two CRLs of one CA: by cRLNumber when both have one, by
 * lastUpdate otherwise.  <0: a is older than b, 0: the same, >0: newer.
 */
int	 tlsctx_crl_cmp(const struct crl_info *a, const struct crl_info *b);

/* A new verification store: the CA certificates, no CRL, no CRL flags. */
X509_STORE *tlsctx_store_new(STACK_OF(X509) *ca);

/*
 * The CRL set the verify callback checks client chains against from now
 * on, under mode ([tls] crl_check): the client's certificate (leaf) or
 * every certificate of its chain (chain), X509_V_ERR_CERT_REVOKED for a
 * listed serial, the [tls] crl_stale policy once the CRL is past its
 * nextUpdate.  NULL with a mode other than off refuses every client.  The
 * set is borrowed: the caller keeps it until the next call.  A process
 * forked later inherits it.
 */
void	 tlsctx_crl_use(const struct crlset *, enum crl_check mode);

/* Install a store for the handshakes that start from now on. */
int	 tlsctx_set_store(SSL_CTX *, X509_STORE *);

/*
 * Handshakes this process admitted although the CRL was past nextUpdate
 * ([tls] crl_stale = enforce-listed).
 */
unsigned long tlsctx_stale_admissions(void);

/*
 * The reason a handshake failed for, as counted (enum ipc_hs_fail of
 * ipc/ipc_msg.h), from a verification result other than X509_V_OK: a
 * revoked certificate, an unknown CA (a CA of the same name but another
 * key fails the signature), an expired one, a CRL problem, or another.
 */
int	 tlsctx_verify_class(long verify_result);

/* 1 when path is readable by group or others (warned about like ssh does). */
int	 tlsctx_key_too_open(const char *path);

#endif
