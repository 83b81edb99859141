/*
 * Revocation in a worker: the CRL generations the supervisor pushes, and
 * the checks the handshake's verification cannot make (live sessions
 * against a new generation, resumed sessions against the set in force).
 * See revoke.h and docs/worker.md ("Revocation").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509v3.h>

#include "ipc/ipc.h"
#include "shared/clock.h"
#include "shared/crlset.h"
#include "shared/log.h"
#include "shared/pkiutil.h"
#include "shared/tlsctx.h"
#include "worker/conn.h"
#include "worker/revoke.h"

void
revoke_set_crl(struct worker *w, struct crlset *set)
{
	/* The callback lets go of the old set before it is unmapped. */
	tlsctx_crl_use(set, w->cfg->crl_check);
	if (w->crl != set)
		crlset_free(w->crl);
	w->crl = set;
}

void
revoke_free(struct worker *w)
{
	tlsctx_crl_use(NULL, w->cfg != NULL ? w->cfg->crl_check :
	    CRL_CHECK_OFF);
	crlset_free(w->crl);
	w->crl = NULL;
}

static void
revoke_describe(const struct crlset_entry *e, char *why, size_t len)
{
	const char	*name;
	char		 since[32] = "unknown";

	if (e->revoked_at != 0)
		pki_time_format((time_t)e->revoked_at, since, sizeof(since));
	name = e->reason == CRL_REASON_NONE ? "unspecified" :
	    pki_reason_name(e->reason);
	snprintf(why, len, "certificate revoked (reason %s, since %s)",
	    name != NULL ? name : "unknown", since);
}

int
revoke_listed(const struct crlset *set, const ASN1_INTEGER *serial,
    const X509_NAME *issuer, char *why, size_t len)
{
	const struct crlset_entry *e;

	if (set == NULL || serial == NULL || issuer == NULL)
		return (0);
	/* Serials are unique per issuer only: a CRL speaks for its CA. */
	if (!crlset_covers(set, issuer) || !crlset_find(set, serial, &e))
		return (0);
	revoke_describe(e, why, len);
	return (1);
}

int
revoke_check_resumed(const struct worker *w, const struct tls_peer *peer,
    char *why, size_t len)
{
	if (revoke_listed(w->crl, peer->serial, peer->issuer, why, len))
		return (-1);
	if (w->crl != NULL && w->cfg->crl_stale == CRL_STALE_STRICT &&
	    crlset_stale(w->crl, time(NULL))) {
		snprintf(why, len, "CRL past its nextUpdate ([tls] crl_stale "
		    "= strict)");
		return (-1);
	}
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
		if (c->plain || c->ssl == NULL || !revoke_listed(w->crl,
		    c->tls.serial, c->tls.issuer, why, sizeof(why)))
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

static void
revoke_log_installed(const struct crlset *set, uint32_t gen, int64_t ms)
{
	char		 next[32] = "none";

	if (crlset_next_update(set) != 0)
		pki_time_format(crlset_next_update(set), next, sizeof(next));
	log_info("CRL generation %u in force for new handshakes: %zu "
	    "revoked, next update %s (set mapped and checked in %lld ms)",
	    gen, crlset_count(set), next, (long long)ms);
}

/*
 * Map the set (checked whole, and of one of our CAs), make it the one the
 * handshakes to come are checked against, then close the live sessions it
 * revokes (the others are not disturbed).  On failure nothing changes.
 */
static int
revoke_crl_take(struct worker *w, int fd, uint32_t gen, unsigned *closed,
    char *err, size_t errlen)
{
	struct crlset	*set;
	int64_t		 t0 = clock_mono_ms();

	if ((set = crlset_map(fd, err, errlen)) == NULL)
		return (-1);
	if (crlset_check_ca(set, w->args->ca, err, errlen) == -1) {
		crlset_free(set);
		return (-1);
	}
	revoke_set_crl(w, set);		/* the worker's now */
	w->crl_generation = gen;
	revoke_log_installed(set, gen, clock_mono_ms() - t0);
	*closed = revoke_sweep(w);
	if (*closed > 0)
		log_info("CRL generation %u: %u live session%s closed", gen,
		    *closed, *closed == 1 ? "" : "s");
	return (0);
}

void
revoke_install(struct worker *w, int fd, uint32_t gen)
{
	struct ipc_buf	*b;
	char		 err[512] = "";
	uint32_t	 status = 0;
	unsigned	 closed = 0;

	if (revoke_crl_take(w, fd, gen, &closed, err, sizeof(err)) == -1) {
		status = 1;
		log_warnx("CRL generation %u rejected, generation %u stays in "
		    "force: %s", gen, w->crl_generation, err);
	}
	/* Payload buffers are 64 KiB: too big for the stack. */
	if ((b = malloc(sizeof(*b))) == NULL) {
		log_warn("CRL ack");
		return;
	}
	ipc_buf_init(b);
	ipc_put_u32(b, status);
	ipc_put_u32(b, closed);
	ipc_put_str(b, err);
	ctl_send(w, IPC_MSG_CRL_ACK, gen, b);
	free(b);
}
