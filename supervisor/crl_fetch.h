/*
 * [tls] crl_url: the CRL from the network (docs/revocation.md, "CRL from a
 * URL").  Every crl_refresh the supervisor starts takd-crlfetch
 * (fetch/crlfetch.c, ipc/crlfetch_msg.h), a program of its own exec'ed as
 * the service user, which downloads and checks the CRL; the supervisor
 * never reads an HTTP answer.  A newer CRL is written as the last good
 * copy, STATE_DIR/store/CRL_FETCH_COPY, and installed by the normal
 * reload (reload_start()): crl.c's parser process reads the configured
 * file and the copy, checks both like any CRL, and takes the newer
 * (crl_fetch_pick()).  A failed fetch changes nothing but the counters,
 * the log and takctl status.  The copy is what a restart without network
 * starts with.
 */
#ifndef TAKD_SUP_CRL_FETCH_H
#define TAKD_SUP_CRL_FETCH_H

#include <stdint.h>

#include <openssl/x509.h>

#include "ipc/sign_msg.h"
#include "shared/json.h"
#include "supervisor/sup.h"

#define CRL_FETCH_MAGIC		0x48435446u	/* "FTCH" */
#define CRL_FETCH_COPY		SIGN_CRL_COPY_NAME	/* "crl-fetched.crl" */
#define CRL_FETCH_COPY_TMP	"crl-fetched.crl.tmp"
/* Beyond the fetcher's own deadlines (crl_fetch_timeout a URL). */
#define CRL_FETCH_SLACK_MS	5000
#define CRL_FETCH_NICE		10

/*
 * From crl_init(), before the first parse: the URLs (the server
 * certificate's CRL distribution points for "cdp") and where the copy is.
 * Nothing is done without [tls] crl_url.  -1 with err.
 */
int	 crl_fetch_init(struct sup *, char *err, size_t errlen);
/*
 * As root after STATE_DIR/store is made (the working directory), before
 * the drop: the fetcher's binary, the copy's directory, the CA for it.
 */
int	 crl_fetch_prepare(struct sup *, char *err, size_t errlen);
void	 crl_fetch_cleanup(struct sup *);

/*
 * In crl.c's parser process, before it closes its descriptors: the copy's
 * bytes, or NULL (none, or no crl_url).  The caller frees them.
 */
uint8_t	*crl_fetch_copy_load(struct sup *, size_t *len);
/*
 * Then, with the file's CRL (NULL when it could not be read, err saying
 * why): the newer of the two that pass the checks (tlsctx_crl_parse), the
 * copy never older than the CRL in force.  info and signer describe what
 * is returned; err is cleared when the copy stands in for a missing file.
 */
X509_CRL *crl_fetch_pick(struct sup *, X509_CRL *file_crl,
	    struct crl_info *info, X509 **signer, uint8_t *copy, size_t len,
	    char *err, size_t errlen);

/*
 * The admin console's CRL from takd-signer (a sealed memfd of DER) as the
 * last good copy, written as a fetched one is; the caller then reloads.
 * Kept also without crl_url when the console can revoke.  -1 with err.
 */
int	 crl_fetch_copy_write(struct sup *, int fd, char *err, size_t errlen);

/* Start a fetch when one is due; give up on one past its deadline. */
int	 crl_fetch_tick(struct sup *);
/* The fetcher exited (its pidfd is readable: SUP_EV_CRL_FETCH). */
void	 crl_fetch_event(struct sup *);
/* "fetch" in takctl status's "crl" object; nothing without crl_url. */
void	 crl_fetch_json(const struct sup *, struct json *);

/* For the Prometheus text: 0 when there is no crl_url. */
struct crl_fetch_stats {
	int		 on;
	uint64_t	 ok;		/* fetches that answered a valid CRL */
	uint64_t	 failed;
	uint64_t	 installed;	/* of those, newer: reloaded */
	time_t		 last_success;
	time_t		 last_failure;
};
void	 crl_fetch_stats(const struct sup *, struct crl_fetch_stats *);

#endif
