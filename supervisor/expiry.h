/*
 * Expiry you cannot miss (docs/revocation.md, "Renewing certificates
 * before they expire"): the days left of the server certificate, the CA
 * and the CRL in force, in takctl status ("expiry") and /metrics, and a
 * warning in the log once a day for each within its window ([tls]
 * cert_warn_days for the certificates; the CRL keeps its hourly warning of
 * crl.c and [tls] crl_warn_days).
 *
 * Client certificates: the index is root's and 0600 and the supervisor runs
 * as the service user once started, so takctl, as root, leaves their
 * notAfter dates in STATE_DIR/store/pki-expiry (shared/expiry_note.h),
 * which the supervisor counts.
 */
#ifndef TAKD_SUP_EXPIRY_H
#define TAKD_SUP_EXPIRY_H

#include <time.h>

#include "shared/json.h"
#include "supervisor/sup.h"

#define EXPIRY_WARN_INTERVAL_MS	(24 * 60 * 60 * 1000)

struct expiry_info {
	time_t		 server;	/* notAfter, 0: unknown */
	time_t		 ca;		/* the earliest of the CA certificates */
	time_t		 crl;		/* nextUpdate, 0: none */
};

void	 expiry_get(const struct sup *, struct expiry_info *);
/* Days left from now, rounded down (negative once past). */
long	 expiry_days_left(time_t when, time_t now);
/*
 * Client certificates of the note expiring within [tls] cert_warn_days
 * (or expired), and when takctl counted them (*as_of); -1 without a note.
 */
long	 expiry_clients(const struct sup *, time_t now, time_t *as_of);
/* "expiry" of takctl status. */
void	 expiry_json(const struct sup *, struct json *);
/* The daily warnings, the first at start; ms until the next. */
int	 expiry_tick(struct sup *);

#endif
