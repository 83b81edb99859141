/*
 * Revocation of sessions that OpenSSL does not re-verify: the live sessions
 * when a new CRL generation arrives, and sessions resumed from a ticket
 * (resumption skips certificate verification).  The worker keeps the CRL in
 * force beside the verification store built from it.
 */
#ifndef TAKD_WORKER_REVOKE_H
#define TAKD_WORKER_REVOKE_H

#include <stddef.h>

#include <openssl/x509.h>

#include "worker/tls.h"
#include "worker/worker_int.h"

/* Room for "certificate revoked (reason keyCompromise, since ...)". */
#define REVOKE_WHY_MAX		128

/* Make crl the one in force, taking it over (NULL: no CRL check). */
void	 revoke_set_crl(struct worker *, X509_CRL *);
void	 revoke_free(struct worker *);

/*
 * 1 when the CRL in force lists the peer's certificate (why says the
 * reason and date), 0 when it does not or there is no CRL.
 */
int	 revoke_listed(const struct worker *, const struct tls_peer *,
	    char *why, size_t);

/*
 * Whether a session resumed from a ticket may go on: not listed, and under
 * [tls] crl_stale = strict not while the CRL is past its nextUpdate (a full
 * handshake would be refused then too).  0 ok, -1 refused with why.
 */
int	 revoke_check_resumed(const struct worker *, const struct tls_peer *,
	    char *why, size_t);

/*
 * Close every established session whose certificate the CRL in force
 * lists, logging subject, serial and reason; returns how many.
 */
unsigned revoke_sweep(struct worker *);

#endif
