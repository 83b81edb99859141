/*
 * [ocsp] staple: ask the responder through takd-ocspfetch, keep the
 * verified response, push it to the workers.  See ocsp.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "ipc/ipc.h"
#include "ipc/ocspfetch_msg.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "shared/pkiutil.h"
#include "supervisor/fetcher.h"
#include "supervisor/ocsp.h"
#include "supervisor/proc.h"

_Static_assert(OCSPFETCH_FD_RES == FETCHER_FD_RES &&
    OCSPFETCH_FD_CERTS == FETCHER_FD_IN &&
    OCSPFETCH_FD_OUT == FETCHER_FD_OUT &&
    OCSPFETCH_FD_EXE == FETCHER_FD_EXE, "takd-ocspfetch's descriptors");

struct ocsp_state {
	unsigned	 magic;
	char		 url[CONFIG_CRL_URL_LEN];
	bool		 from_aia;
	struct fetcher	 fetcher;	/* in: leaf, issuer, CA */
	int64_t		 next_ms;	/* the next request, monotonic */
	/* The staple in force: none when len is 0. */
	uint8_t		 der[OCSPFETCH_RESP_MAX];
	size_t		 len;
	uint32_t	 generation;	/* +1 each new staple */
	uint32_t	 status;	/* OCSPFETCH_GOOD or _REVOKED */
	int32_t		 reason;
	time_t		 this_update;
	time_t		 next_update;	/* stapled until then */
	time_t		 revoked_at;
	bool		 expiry_logged;
	/* What takctl status and the metrics show. */
	uint64_t	 ok;
	uint64_t	 failed;
	time_t		 last_attempt;
	time_t		 last_success;
	time_t		 last_failure;
	char		 last_error[sizeof(((struct ocspfetch_res *)0)->err)];
};

/* The issuer of x among the server's chain and the CA, or NULL. */
static X509 *
ocsp_issuer(const struct sup *sup, X509 *x)
{
	STACK_OF(X509)	*chain = NULL;
	X509		*c;
	int		 i;

	(void)SSL_CTX_get0_chain_certs(sup->ssl_ctx, &chain);
	for (i = 0; chain != NULL && i < sk_X509_num(chain); i++)
		if (X509_check_issued(c = sk_X509_value(chain, i), x) ==
		    X509_V_OK)
			return (c);
	for (i = 0; i < sk_X509_num(sup->ca); i++)
		if (X509_check_issued(c = sk_X509_value(sup->ca, i), x) ==
		    X509_V_OK)
			return (c);
	return (NULL);
}

/* The first http(s) OCSP URL of the certificate's AIA into os. */
static int
ocsp_aia(X509 *x, struct ocsp_state *os)
{
	STACK_OF(OPENSSL_STRING)	*urls;
	const char			*u;
	int				 i, found = -1;

	if ((urls = X509_get1_ocsp(x)) == NULL)
		return (-1);
	for (i = 0; i < sk_OPENSSL_STRING_num(urls) && found == -1; i++) {
		u = sk_OPENSSL_STRING_value(urls, i);
		if ((strncasecmp(u, "http://", 7) == 0 ||
		    strncasecmp(u, "https://", 8) == 0) &&
		    strlen(u) < sizeof(os->url) && strpbrk(u, " \t@") == NULL) {
			snprintf(os->url, sizeof(os->url), "%s", u);
			found = 0;
		}
	}
	X509_email_free(urls);
	return (found);
}

int
ocsp_prepare(struct sup *sup, char *err, size_t errlen)
{
	const struct config	*cfg = sup->cfg;
	struct ocsp_state	*os;
	X509			*certs[2];

	if (!cfg->ocsp_staple)
		return (0);
	if ((os = calloc(1, sizeof(*os))) == NULL) {
		snprintf(err, errlen, "[ocsp] staple: out of memory");
		return (-1);
	}
	os->magic = OCSP_STATE_MAGIC;
	fetcher_init(&os->fetcher, OCSPFETCH_EXE, "OCSP", SUP_EV_OCSP_FETCH,
	    OCSP_NICE);
	sup->ocsp = os;
	if ((certs[0] = SSL_CTX_get0_certificate(sup->ssl_ctx)) == NULL ||
	    (certs[1] = ocsp_issuer(sup, certs[0])) == NULL) {
		snprintf(err, errlen, "[ocsp] staple: the issuer of the server "
		    "certificate %.200s is neither in its chain nor in [tls] "
		    "ca", cfg->cert);
		return (-1);
	}
	if (cfg->ocsp_responder[0] != '\0')
		snprintf(os->url, sizeof(os->url), "%s", cfg->ocsp_responder);
	else if (ocsp_aia(certs[0], os) == -1) {
		snprintf(err, errlen, "[ocsp] staple: the server certificate "
		    "%.200s names no http(s) OCSP responder (Authority "
		    "Information Access): set [ocsp] responder", cfg->cert);
		return (-1);
	} else
		os->from_aia = true;
	if (fetcher_prepare(&os->fetcher, "[ocsp] staple", err, errlen) == -1)
		return (-1);
	if ((os->fetcher.in_fd = fetcher_certs_memfd("takd-ocspfetch-certs",
	    certs, 2, sup->ca)) == -1) {
		snprintf(err, errlen, "[ocsp] staple: %s", strerror(errno));
		return (-1);
	}
	log_info("OCSP stapling: responder %s%s, asked every %u s at most",
	    os->url, os->from_aia ? " (the certificate's AIA)" : "",
	    cfg->ocsp_refresh_ms / 1000);
	return (0);
}

void
ocsp_cleanup(struct sup *sup)
{
	struct ocsp_state	*os = sup->ocsp;

	if (os == NULL)
		return;
	fetcher_cleanup(sup, &os->fetcher);
	os->magic = 0;
	free(os);
	sup->ocsp = NULL;
}

/* takd-ocspfetch's command line (ipc/ocspfetch_msg.h), then started. */
static int
ocsp_spawn(struct sup *sup, struct ocsp_state *os)
{
	char		 o_t[] = "-t", o_u[] = "-u", name[] = OCSPFETCH_EXE;
	char		 t[24], u[24];
	char		*argv[] = { name, o_t, t, o_u, u, os->url, NULL };

	snprintf(t, sizeof(t), "%u", sup->cfg->ocsp_timeout_ms);
	snprintf(u, sizeof(u), "%lld", (long long)os->this_update);
	if (fetcher_spawn(sup, &os->fetcher, argv, sup->cfg->ocsp_timeout_ms +
	    OCSP_SLACK_MS) == -1)
		return (-1);
	os->last_attempt = time(NULL);
	return (0);
}

static const char *
ocsp_state_name(const struct ocsp_state *os, time_t now)
{
	if (os->len == 0)
		return ("none");
	if (now >= os->next_update)
		return ("expired");
	return (os->status == OCSPFETCH_REVOKED ? "revoked" : "good");
}

static void
ocsp_failed(struct sup *sup, struct ocsp_state *os, const char *why)
{
	time_t	 now = time(NULL);
	char	 until[64];

	os->failed++;
	os->last_failure = now;
	snprintf(os->last_error, sizeof(os->last_error), "%s", why);
	os->next_ms = clock_mono_ms() + (sup->cfg->ocsp_refresh_ms <
	    OCSP_RETRY_MAX_MS ? sup->cfg->ocsp_refresh_ms : OCSP_RETRY_MAX_MS);
	if (os->len > 0 && now < os->next_update) {
		pki_time_format(os->next_update, until, sizeof(until));
		log_warnx("OCSP request failed (%llu so far); the staple in "
		    "force is served until its nextUpdate %s: %s",
		    (unsigned long long)os->failed, until, why);
	} else
		log_warnx("OCSP request failed (%llu so far); handshakes go "
		    "on without a staple: %s", (unsigned long long)os->failed,
		    why);
}

/* The staple to one slot, or every running worker (slot NULL). */
static void
ocsp_push(struct sup *sup, struct ocsp_state *os, struct proc_slot *slot)
{
	struct ipc_buf	*b;
	unsigned	 i;

	if (os->len == 0)
		return;
	if ((b = malloc(sizeof(*b))) == NULL) {
		log_warn("OCSP staple %u not sent", os->generation);
		return;
	}
	ipc_buf_init(b);
	ipc_put_u64(b, (uint64_t)os->next_update);
	ipc_put_u32(b, os->status);
	ipc_put_bytes(b, os->der, os->len);
	for (i = 0; b->err == 0 && i < sup->n_slots; i++) {
		if ((slot != NULL && slot != &sup->slots[i]) ||
		    sup->slots[i].state != SLOT_RUNNING)
			continue;
		/* proc_send() says why a frame was not sent. */
		(void)proc_send(sup, &sup->slots[i], IPC_MSG_OCSP_STAPLE,
		    os->generation, b->data, b->len, -1);
	}
	if (b->err != 0)
		log_warnx("OCSP staple %u does not fit in a frame",
		    os->generation);
	free(b);
}

void
ocsp_send(struct sup *sup, struct proc_slot *slot)
{
	if (sup->ocsp != NULL)
		ocsp_push(sup, sup->ocsp, slot);
}

/* When to ask again after an answer valid from this_update to next. */
static void
ocsp_schedule(struct sup *sup, struct ocsp_state *os, time_t now)
{
	int64_t	 delay = sup->cfg->ocsp_refresh_ms, until, margin, gap;

	if (os->next_update > os->this_update) {
		margin = (os->next_update - os->this_update) / 4;
		if (margin > OCSP_MARGIN_MAX_S)
			margin = OCSP_MARGIN_MAX_S;
		until = ((int64_t)os->next_update - margin - now) * 1000;
		if (until < delay)
			delay = until;
	}
	gap = sup->cfg->ocsp_refresh_ms < OCSP_GAP_MAX_MS ?
	    sup->cfg->ocsp_refresh_ms : OCSP_GAP_MAX_MS;
	if (delay < gap)
		delay = gap;
	os->next_ms = clock_mono_ms() + delay;
}

/* A verified answer: the new staple, pushed at once. */
static void
ocsp_take(struct sup *sup, struct ocsp_state *os,
    const struct ocspfetch_res *res)
{
	struct stat	 st;
	time_t		 now = time(NULL);
	char		 upd[64], until[64];
	uint8_t		*der;
	ssize_t		 n = -1;

	/* Read aside: the staple in force stays if this one is bad. */
	if ((der = malloc(OCSPFETCH_RESP_MAX)) == NULL || res->bytes == 0 ||
	    res->bytes > OCSPFETCH_RESP_MAX ||
	    fstat(os->fetcher.out_fd, &st) == -1 ||
	    (uint64_t)st.st_size != res->bytes ||
	    (n = pread(os->fetcher.out_fd, der, res->bytes, 0)) !=
	    (ssize_t)res->bytes) {
		free(der);
		ocsp_failed(sup, os, "takd-ocspfetch's answer is "
		    "inconsistent");
		return;
	}
	memcpy(os->der, der, (size_t)n);
	free(der);
	os->len = res->bytes;
	os->generation++;
	os->status = res->status;
	os->reason = res->reason;
	os->this_update = (time_t)res->this_update;
	os->revoked_at = (time_t)res->revoked_at;
	/* None: stapled until the next request is due, no longer. */
	os->next_update = res->next_update != 0 ? (time_t)res->next_update :
	    now + (time_t)(sup->cfg->ocsp_refresh_ms / 1000);
	os->expiry_logged = false;
	os->ok++;
	os->last_success = now;
	ocsp_schedule(sup, os, now);
	pki_time_format(os->this_update, upd, sizeof(upd));
	pki_time_format(os->next_update, until, sizeof(until));
	if (res->status == OCSPFETCH_REVOKED)
		log_warnx("OCSP: the responder says the server certificate %s "
		    "is REVOKED (reason %s, thisUpdate %s); stapling that until "
		    "%s: replace the certificate (takctl pki renew-server)",
		    sup->cfg->cert, pki_reason_name(res->reason), upd,
		    until);
	else
		log_info("OCSP staple %u: good, thisUpdate %s, stapled until "
		    "%s", os->generation, upd, until);
	ocsp_push(sup, os, NULL);
}

void
ocsp_event(struct sup *sup)
{
	struct ocsp_state	*os = sup->ocsp;
	struct ocspfetch_res	 res;
	ssize_t			 n;

	if (os == NULL || !fetcher_running(&os->fetcher))
		return;
	n = read(os->fetcher.res_fd, &res, sizeof(res));
	if (n != (ssize_t)sizeof(res) || res.magic != OCSPFETCH_MAGIC ||
	    res.status > OCSPFETCH_FAILED) {
		fetcher_end(sup, &os->fetcher, true);
		ocsp_failed(sup, os, "takd-ocspfetch ended without a valid "
		    "result");
		return;
	}
	res.err[sizeof(res.err) - 1] = '\0';
	switch (res.status) {
	case OCSPFETCH_GOOD:
	case OCSPFETCH_REVOKED:
		ocsp_take(sup, os, &res);
		break;
	case OCSPFETCH_UNKNOWN:
		ocsp_failed(sup, os, "the responder does not know the server "
		    "certificate (status unknown): is it the CA's responder?");
		break;
	default:
		ocsp_failed(sup, os, res.err[0] != '\0' ? res.err :
		    "no reason given");
		break;
	}
	fetcher_end(sup, &os->fetcher, false);
}

int
ocsp_tick(struct sup *sup)
{
	struct ocsp_state	*os = sup->ocsp;
	int64_t			 now = clock_mono_ms(), wait;
	time_t			 wall = time(NULL);

	if (os == NULL || os->fetcher.exe_fd == -1 || sup->stopping)
		return (-1);
	/* The workers stop by themselves; say it once. */
	if (os->len > 0 && wall >= os->next_update && !os->expiry_logged) {
		log_warnx("OCSP staple %u expired (nextUpdate passed without a "
		    "newer response): handshakes go on without a staple",
		    os->generation);
		os->expiry_logged = true;
	}
	if (fetcher_running(&os->fetcher)) {
		if (now < os->fetcher.deadline_ms)
			return ((int)(os->fetcher.deadline_ms - now));
		fetcher_end(sup, &os->fetcher, true);
		ocsp_failed(sup, os, "takd-ocspfetch did not finish in time: "
		    "killed");
	} else if (now >= os->next_ms) {
		if (ocsp_spawn(sup, os) == 0)
			return ((int)(os->fetcher.deadline_ms - now));
		ocsp_failed(sup, os, "takd-ocspfetch could not be started");
	}
	wait = os->next_ms - now;
	if (os->len > 0 && !os->expiry_logged &&
	    (os->next_update - wall) * 1000 < wait)
		wait = (os->next_update - wall) * 1000 + 1;
	return (wait < 0 ? 0 : (int)wait);
}

void
ocsp_json(const struct sup *sup, struct json *j)
{
	const struct ocsp_state	*os = sup->ocsp;
	time_t			 now = time(NULL);
	int64_t			 next;

	if (os == NULL)
		return;
	json_key(j, "ocsp");
	json_obj_begin(j);
	json_kv_str(j, "responder", os->url);
	json_kv_bool(j, "from_aia", os->from_aia);
	json_kv_str(j, "staple", ocsp_state_name(os, now));
	json_kv_time(j, "this_update", os->len ? os->this_update : 0);
	json_kv_time(j, "next_update", os->len ? os->next_update : 0);
	json_kv_time(j, "revoked_at", os->len ? os->revoked_at : 0);
	json_kv_uint(j, "refresh_seconds", sup->cfg->ocsp_refresh_ms / 1000);
	json_kv_bool(j, "running", fetcher_running(&os->fetcher));
	next = fetcher_running(&os->fetcher) ? 0 :
	    (os->next_ms - clock_mono_ms()) / 1000;
	json_kv_int(j, "next_request_in", next < 0 ? 0 : next);
	json_kv_uint(j, "ok", os->ok);
	json_kv_uint(j, "failed", os->failed);
	json_kv_time(j, "last_attempt", os->last_attempt);
	json_kv_time(j, "last_success", os->last_success);
	json_kv_time(j, "last_failure", os->last_failure);
	json_kv_str(j, "last_error", os->last_error[0] ? os->last_error :
	    NULL);
	json_obj_end(j);
}

void
ocsp_metrics(const struct sup *sup, struct metrics_buf *b)
{
	static const char *const states[] = { "good", "revoked", "expired",
	    "none" };
	const struct ocsp_state	*os = sup->ocsp;
	const char		*cur;
	size_t			 i;

	if (os == NULL)
		return;
	cur = ocsp_state_name(os, time(NULL));
	metrics_buf_printf(b, "# HELP takd_ocsp_staple The OCSP staple of the "
	    "server certificate: 1 for its state (good, revoked: stapled; "
	    "expired, none: no staple).\n# TYPE takd_ocsp_staple gauge\n");
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		metrics_buf_printf(b, "takd_ocsp_staple{state=\"%s\"} %d\n",
		    states[i], strcmp(cur, states[i]) == 0);
	metrics_buf_printf(b, "# HELP takd_ocsp_staple_next_update_timestamp"
	    "_seconds Until when the staple is served, Unix time (0: none)."
	    "\n# TYPE takd_ocsp_staple_next_update_timestamp_seconds gauge\n"
	    "takd_ocsp_staple_next_update_timestamp_seconds %lld\n",
	    os->len ? (long long)os->next_update : 0LL);
	metrics_buf_printf(b, "# HELP takd_ocsp_requests_total Requests to "
	    "the OCSP responder, by result (failed: the staple in force "
	    "stays).\n# TYPE takd_ocsp_requests_total counter\n"
	    "takd_ocsp_requests_total{result=\"ok\"} %" PRIu64 "\n"
	    "takd_ocsp_requests_total{result=\"failed\"} %" PRIu64 "\n",
	    os->ok, os->failed);
}
