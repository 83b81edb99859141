/*
 * [ocsp] staple: OCSP stapling of the server certificate (docs/
 * revocation.md, "OCSP stapling").  The supervisor starts takd-ocspfetch
 * (fetch/ocspfetch.c, ipc/ocspfetch_msg.h), a program of its own exec'ed
 * as the service user, which asks the responder and checks the answer;
 * the supervisor never reads an HTTP answer.  A verified response (good
 * or revoked) is pushed to every worker (IPC_MSG_OCSP_STAPLE), which
 * staples it in the handshakes of clients that ask until its nextUpdate
 * (worker/staple.c).  It is asked again `[ocsp] refresh` after the last
 * answer, or sooner near its nextUpdate.  A failure keeps the staple in
 * force, and changes nothing else.
 */
#ifndef TAKD_SUP_OCSP_H
#define TAKD_SUP_OCSP_H

#include "shared/json.h"
#include "supervisor/metrics.h"
#include "supervisor/sup.h"

#define OCSP_STATE_MAGIC	0x5053434fu	/* "OCSP" */
/* Beyond the fetcher's own deadline ([ocsp] timeout). */
#define OCSP_SLACK_MS		5000
/* A failed request is tried again after refresh, at most this. */
#define OCSP_RETRY_MAX_MS	(5 * 60 * 1000)
/* Asked again before nextUpdate by a quarter of the validity, at most. */
#define OCSP_MARGIN_MAX_S	3600
/* Never two requests closer than refresh, at most this. */
#define OCSP_GAP_MAX_MS		(60 * 1000)
#define OCSP_NICE		10

/*
 * As root, before the drop, after the server certificate is loaded: the
 * responder's URL ([ocsp] responder or the AIA), the issuer, the
 * fetcher's binary.  Nothing without [ocsp] staple.  -1 with err.
 */
int	 ocsp_prepare(struct sup *, char *err, size_t errlen);
void	 ocsp_cleanup(struct sup *);
/* Start a request when one is due; give up on one past its deadline. */
int	 ocsp_tick(struct sup *);
/* The fetcher exited (its pidfd is readable: SUP_EV_OCSP_FETCH). */
void	 ocsp_event(struct sup *);
/* The staple in force to a worker just spawned. */
void	 ocsp_send(struct sup *, struct proc_slot *);
/* "ocsp" in takctl status; nothing without [ocsp] staple. */
void	 ocsp_json(const struct sup *, struct json *);
/* takd_ocsp_* in /metrics; nothing without [ocsp] staple. */
void	 ocsp_metrics(const struct sup *, struct metrics_buf *);

#endif
