/*
 * Revocation in a worker.  The supervisor pushes each new CRL generation as
 * a sealed memfd of its revoked-serial set (shared/crlset.h, IPC_MSG_CRL);
 * the worker keeps the set in force, which the verify callback checks new
 * handshakes against (shared/tlsctx.c), and checks here what the
 * handshake's verification does not see: the live sessions when a new
 * generation arrives, and sessions resumed from a ticket (resumption skips
 * certificate verification).
 */
#ifndef TAKD_WORKER_REVOKE_H
#define TAKD_WORKER_REVOKE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "worker/tls.h"
#include "worker/worker_int.h"

/* Room for "certificate revoked (reason keyCompromise, since ...)". */
#define REVOKE_WHY_MAX		128

struct crlset;

/*
 * Make set the one in force, for the verify callback too, taking it over
 * and freeing the one before (NULL: no CRL check).
 */
void	 revoke_set_crl(struct worker *, struct crlset *);
void	 revoke_free(struct worker *);

/*
 * IPC_MSG_CRL of generation gen, its set in fd (borrowed): map it and check
 * it whole and of one of our CAs (crlset_map(), crlset_check_ca()), put it
 * in force, close the live sessions it lists (revoke_sweep()) and answer
 * IPC_MSG_CRL_ACK: status 0 and the number closed, or status 1 and why,
 * the set in force staying.
 */
void	 revoke_install(struct worker *, int fd, uint32_t gen);

/*
 * 1 when set lists the certificate of serial by issuer (why says the reason
 * and date), 0 when it does not, or set, serial or issuer is NULL (no CRL,
 * no certificate).  Serials are unique per CA only: a set of another
 * issuer lists nobody.
 */
int	 revoke_listed(const struct crlset *, const ASN1_INTEGER *serial,
	    const X509_NAME *issuer, char *why, size_t);

/*
 * Whether a session resumed from a ticket may go on: not listed, and under
 * [tls] crl_stale = strict not while the CRL is past its nextUpdate (a full
 * handshake would be refused then too).  0 ok, -1 refused with why.
 */
int	 revoke_check_resumed(const struct worker *, const struct tls_peer *,
	    char *why, size_t);

/*
 * Close every established session whose certificate the set in force
 * lists, logging subject, serial and reason; returns how many.
 */
unsigned revoke_sweep(struct worker *);

#endif
