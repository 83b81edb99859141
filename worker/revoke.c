/*
 * Revocation checks the verification store cannot make: live sessions
 * against a new CRL generation, and resumed sessions against the CRL in
 * force.  See revoke.h and docs/worker.md ("Revocation").
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "shared/log.h"
#include "shared/pki.h"
#include "worker/conn.h"
#include "worker/revoke.h"

void
revoke_set_crl(struct worker *w, X509_CRL *crl)
{
	X509_CRL_free(w->crl);
	w->crl = crl;
}

void
revoke_free(struct worker *w)
{
	X509_CRL_free(w->crl);
	w->crl = NULL;
}

static void
revoke_describe(const X509_REVOKED *rev, char *why, size_t len)
{
	const ASN1_TIME	*at = X509_REVOKED_get0_revocationDate(rev);
	const char	*name;
	char		 since[32] = "unknown";
	int		 reason = pki_revoked_reason(rev);

	if (at != NULL)
		pki_time_format(pki_asn1_time(at), since, sizeof(since));
	name = reason == CRL_REASON_NONE ? "unspecified" :
	    pki_reason_name(reason);
	snprintf(why, len, "certificate revoked (reason %s, since %s)",
	    name != NULL ? name : "unknown", since);
	ERR_clear_error();
}

int
revoke_listed(const struct worker *w, const struct tls_peer *peer,
    char *why, size_t len)
{
	X509_REVOKED	*rev = NULL;
	int		 r;

	if (w->crl == NULL || peer->serial == NULL || peer->issuer == NULL)
		return (0);
	/* Serials are unique per issuer only: a CRL speaks for its CA. */
	if (X509_NAME_cmp(peer->issuer, X509_CRL_get_issuer(w->crl)) != 0)
		return (0);
	r = X509_CRL_get0_by_serial(w->crl, &rev, peer->serial);
	ERR_clear_error();
	/* 2 is a removeFromCRL entry: listed, but no longer revoked. */
	if (r != 1 || rev == NULL)
		return (0);
	revoke_describe(rev, why, len);
	return (1);
}

int
revoke_check_resumed(const struct worker *w, const struct tls_peer *peer,
    char *why, size_t len)
{
	const ASN1_TIME	*next;

	if (revoke_listed(w, peer, why, len))
		return (-1);
	if (w->crl == NULL || w->cfg->crl_stale != CRL_STALE_STRICT)
		return (0);
	next = X509_CRL_get0_nextUpdate(w->crl);
	if (next != NULL && X509_cmp_current_time(next) < 0) {
		snprintf(why, len, "CRL past its nextUpdate ([tls] crl_stale "
		    "= strict)");
		ERR_clear_error();
		return (-1);
	}
	ERR_clear_error();
	return (0);
}

unsigned
revoke_sweep(struct worker *w)
{
	struct conn	*c, *next;
	char		 why[REVOKE_WHY_MAX], reason[TLS_REASON_MAX];
	unsigned	 n = 0;

	if (w->crl == NULL)
		return (0);
	for (c = TAILQ_FIRST(&w->live); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->plain || c->ssl == NULL ||
		    !revoke_listed(w, &c->tls, why, sizeof(why)))
			continue;
		/* One attempt at close_notify: a revoked peer gets no wait. */
		if (!c->shutdown_sent)
			(void)tls_shutdown(c->ssl, reason, sizeof(reason));
		w->cnt.revoked_closed++;
		n++;
		conn_abort(w, c, why);
		/* Closing one may have closed others: then start over. */
		if (next != NULL && next->magic != CONN_MAGIC)
			next = TAILQ_FIRST(&w->live);
	}
	return (n);
}
