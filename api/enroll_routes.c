/*
 * The enrollment routes of [api] enroll_listen (8446; docs/api.md,
 * "Enrollment"): GET /Marti/api/tls/config, POST
 * /Marti/api/tls/signClient (v1, a PKCS#12) and signClient/v2 (JSON or
 * XML), each behind HTTP Basic against the users file.
 *
 * A request goes through, in this order:
 *
 *   1. the throttle (api/throttle.h): its delay, for earlier failures of
 *      the name tried or of the address, is waited on a timer of the
 *      loop, before the password is checked: one address can make at most
 *      [api] max_connections_per_address checks per delay;
 *   2. the login (api/basic_auth.h): every failed verdict is answered the
 *      same 401, counted by verdict and logged with the peer and the name
 *      tried; the check runs in the loop (one crypt(3), docs/api.md gives
 *      what it costs);
 *   3. for a signing: the query (clientUid), Accept (v2), the body to DER
 *      (api/csr_body.h), the CSR policy (shared/csr_check.h: CN = the
 *      user, the configured O/OU, the key), each refusal a 400 with its
 *      reason, counted and logged;
 *   4. the request to takd-signer over its channel (ipc/sign_msg.h), and
 *      the request waits outside the loop's handlers for the reply, at
 *      most [api] timeout: ok 200 (api/enroll_reply.h), refused 400 with
 *      the signer's reason, busy 503, error 500; no signer, no answer in
 *      time, or a signer gone meanwhile 503.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "api/accept.h"
#include "api/basic_auth.h"
#include "api/csr_body.h"
#include "api/enroll.h"
#include "api/enroll_reply.h"
#include "api/pwcheck.h"
#include "api/query.h"
#include "api/throttle.h"
#include "ipc/sign_msg.h"
#include "shared/clock.h"
#include "shared/csr_check.h"
#include "shared/log.h"

#define ENROLL_MAGIC		0x454e524cu	/* "ENRL" */
#define ENROLL_JOB_MAGIC	0x454e4a42u	/* "ENJB" */
/* Requests held at once (delayed or signing); more are answered 503. */
#define ENROLL_JOBS_MAX		256
#define ENROLL_CHAN_QUEUE	(256 * 1024)
#define ENROLL_TLS_CONFIG	"/Marti/api/tls/config"
#define ENROLL_SIGN_V1		"/Marti/api/tls/signClient"
#define ENROLL_SIGN_V2		"/Marti/api/tls/signClient/v2"
#define ENROLL_CHALLENGE	"Basic realm=\"takd\", charset=\"UTF-8\""

enum enroll_kind {
	ENROLL_CONFIG,
	ENROLL_V1,
	ENROLL_V2
};

struct enroll;

/* One request between its arrival and its answer. */
struct enroll_job {
	unsigned		 magic;
	struct enroll_job	*next;
	struct enroll_job	*prev;
	struct enroll		*en;
	struct api_req		*req;
	enum enroll_kind	 kind;
	struct event		*timer;		/* the delay, then the signer */
	bool			 signing;	/* waits for reply id */
	uint32_t		 id;
	struct accept_choice	 accept;	/* v2 */
	/* The credentials, parsed; wiped once checked. */
	struct basic_auth	 ba;
	const char		*ba_why;	/* NULL: parsed */
	char			 tried[USERS_NAME_MAX];
	char			 user[USERS_NAME_MAX];	/* authenticated */
	char			 uid[SIGN_UID_MAX + 1];
	struct sockaddr_storage	 ss;
	bool			 has_ss;
	/* While its password is checked (pwcheck.h): what a match means. */
	bool			 checking;
	enum basic_auth_verdict	 if_match;
	int64_t			 check_ms;
};

struct enroll {
	unsigned		 magic;
	struct api		*api;
	struct throttle		*thr;
	struct basic_auth_verifier *ver;
	struct pwcheck		*pw;
	char			*tls_config;
	size_t			 tls_config_len;
	/* The channel to takd-signer; NULL: none now (503). */
	struct ipc_chan		*sign;
	struct event		*sign_ev;
	struct event		*sign_wev;
	uint32_t		 next_id;
	struct enroll_job	*jobs;
	size_t			 n_jobs;
	struct log_ratelimit	 rl;
};

static void	 enroll_login(struct enroll_job *);
static void	 enroll_login_done(void *, bool);

/* --- jobs --------------------------------------------------------------- */

static void
enroll_job_free(struct enroll_job *job)
{
	struct enroll	*en = job->en;

	/* Its password check would call back into freed memory. */
	if (job->checking && en->pw != NULL)
		abort();
	if (job->prev != NULL)
		job->prev->next = job->next;
	else
		en->jobs = job->next;
	if (job->next != NULL)
		job->next->prev = job->prev;
	en->n_jobs--;
	if (job->timer != NULL)
		event_free(job->timer);
	basic_auth_clear(&job->ba);
	job->magic = 0;
	free(job);
}

/* Answer the job's request and free the job. */
static void
enroll_answer(struct enroll_job *job, int code, const char *ctype,
    const void *body, size_t len)
{
	api_req_reply(job->req, code, ctype, body, len);
	job->req = NULL;
	enroll_job_free(job);
}

/* A refusal: counted, logged with the peer and the user, text answer. */
static void
enroll_refuse(struct enroll_job *job, int code, uint64_t *counter,
    const char *why)
{
	struct enroll	*en = job->en;
	char		 body[CSR_REASON_MAX + SIGN_REASON_MAX + 16];

	if (counter != NULL)
		(*counter)++;
	log_limited(&en->rl, LOG_WARNING, "enroll: %s: %s%s%s%s: %d: %s",
	    api_req_peer(job->req), api_req_path(job->req),
	    job->user[0] != '\0' ? " (user \"" : "", job->user,
	    job->user[0] != '\0' ? "\")" : "", code, why);
	if (code == 503)
		api_req_set_header(job->req, "Retry-After", "60");
	snprintf(body, sizeof(body), "%s\n", why);
	enroll_answer(job, code, "text/plain; charset=utf-8", body,
	    strlen(body));
}

static void
enroll_timer(evutil_socket_t fd, short what, void *arg)
{
	struct enroll_job	*job = arg;

	if (job->magic != ENROLL_JOB_MAGIC)
		return;
	if (job->signing) {
		job->en->api->cnt.api_enroll_unavailable++;
		enroll_refuse(job, 503, NULL, "the signer did not answer in "
		    "time; try again later");
		return;
	}
	enroll_login(job);
}

/* --- the signer's channel ------------------------------------------------ */

static struct enroll_job *
enroll_job_find(struct enroll *en, uint32_t id)
{
	struct enroll_job	*job;

	for (job = en->jobs; job != NULL; job = job->next)
		if (job->signing && job->id == id)
			return (job);
	return (NULL);
}

/* The channel is gone: every signing under way is answered 503. */
static void
enroll_signer_drop(struct enroll *en, const char *why)
{
	struct enroll_job	*job, *next;

	if (en->sign == NULL)
		return;
	log_warnx("enroll: channel to the signer closed: %s", why);
	event_free(en->sign_ev);
	event_free(en->sign_wev);
	ipc_chan_free(en->sign);
	en->sign = NULL;
	en->sign_ev = en->sign_wev = NULL;
	for (job = en->jobs; job != NULL; job = next) {
		next = job->next;
		if (!job->signing)
			continue;
		en->api->cnt.api_enroll_unavailable++;
		enroll_refuse(job, 503, NULL, "the signer went away; try "
		    "again later");
	}
}

static void
enroll_signer_flush(struct enroll *en)
{
	int	 rc;

	if ((rc = ipc_flush(en->sign)) == 1)
		event_add(en->sign_wev, NULL);
	else if (rc == -1)
		enroll_signer_drop(en, "write failed");
}

static void
enroll_signer_write(evutil_socket_t fd, short what, void *arg)
{
	struct enroll	*en = arg;

	if (en->magic == ENROLL_MAGIC && en->sign != NULL)
		enroll_signer_flush(en);
}

/* The serial of a DER certificate, for the log line. */
static void
enroll_serial(const uint8_t *der, size_t len, char *buf, size_t buflen)
{
	const unsigned char	*p = der;
	X509			*x;
	BIGNUM			*bn = NULL;
	char			*hex = NULL;

	snprintf(buf, buflen, "?");
	if ((x = d2i_X509(NULL, &p, (long)len)) != NULL &&
	    (bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) !=
	    NULL && (hex = BN_bn2hex(bn)) != NULL)
		snprintf(buf, buflen, "%s", hex);
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(x);
	ERR_clear_error();
}

/* The certificate the signer issued, as the route answers it. */
static void
enroll_signed(struct enroll_job *job, const struct sign_rep *rep)
{
	struct enroll_der	 cert, chain[SIGN_CHAIN_MAX];
	struct api		*api = job->en->api;
	const char		*ctype, *form;
	char			 err[256], serial[68];
	void			*out = NULL;
	size_t			 len = 0, i;
	int			 rc;

	cert.der = rep->cert;
	cert.len = rep->cert_len;
	for (i = 0; i < rep->n_chain; i++) {
		chain[i].der = rep->chain[i];
		chain[i].len = rep->chain_len[i];
	}
	if (job->kind == ENROLL_V1) {
		rc = enroll_reply_p12(&cert, chain, rep->n_chain,
		    (unsigned char **)&out, &len, err, sizeof(err));
		ctype = "application/x-pkcs12";
		form = "PKCS#12";
	} else if (job->accept.format == ACCEPT_XML) {
		rc = enroll_reply_xml(&cert, chain, rep->n_chain,
		    (char **)&out, &len, err, sizeof(err));
		ctype = job->accept.content_type;
		form = "XML";
	} else {
		rc = enroll_reply_json(&cert, chain, rep->n_chain,
		    (char **)&out, &len, err, sizeof(err));
		ctype = job->accept.content_type;
		form = "JSON";
	}
	if (rc == -1) {
		log_warnx("enroll: %s: user \"%s\": cannot build the answer: %s",
		    api_req_peer(job->req), job->user, err);
		enroll_refuse(job, 500, &api->cnt.api_enroll_error,
		    "cannot build the answer; see the server's log");
		return;
	}
	enroll_serial(rep->cert, rep->cert_len, serial, sizeof(serial));
	api->cnt.api_enroll_signed++;
	log_info("enroll: %s: user \"%s\" clientUid \"%s\": certificate %s "
	    "issued (%s)", api_req_peer(job->req), job->user,
	    job->uid[0] != '\0' ? job->uid : "-", serial, form);
	enroll_answer(job, 200, ctype, out, len);
	free(out);
}

static void
enroll_signer_reply(struct enroll *en, const struct sign_rep *rep)
{
	struct enroll_job	*job;
	struct api		*api = en->api;
	char			 why[SIGN_REASON_MAX + 64];

	if ((job = enroll_job_find(en, rep->id)) == NULL) {
		log_debug("enroll: reply %u from the signer: nobody waits "
		    "for it (answered 503 already)", rep->id);
		return;
	}
	switch (rep->status) {
	case SIGN_OK:
		enroll_signed(job, rep);
		break;
	case SIGN_REFUSED:
		snprintf(why, sizeof(why), "refused by the signer: %s",
		    rep->reason);
		enroll_refuse(job, 400, &api->cnt.api_enroll_refused, why);
		break;
	case SIGN_BUSY:
		enroll_refuse(job, 503, &api->cnt.api_enroll_busy,
		    rep->reason);
		break;
	default:
		enroll_refuse(job, 500, &api->cnt.api_enroll_error,
		    rep->reason);
		break;
	}
}

static void
enroll_signer_read(evutil_socket_t fd, short what, void *arg)
{
	struct enroll	*en = arg;
	struct ipc_msg	 m;
	struct sign_rep	 rep;
	char		 why[128];
	int		 rc;

	if (en->magic != ENROLL_MAGIC || en->sign == NULL)
		return;
	while ((rc = ipc_recv(en->sign, &m)) == 1) {
		if (m.fd != -1) {
			close(m.fd);
			enroll_signer_drop(en, "a descriptor from the signer");
			return;
		}
		if (m.hdr.type != IPC_MSG_SIGN_REP) {
			snprintf(why, sizeof(why), "message %u from the signer",
			    m.hdr.type);
			enroll_signer_drop(en, why);
			return;
		}
		if (sign_rep_decode(m.payload, m.len, &rep, why,
		    sizeof(why)) == -1) {
			enroll_signer_drop(en, why);
			return;
		}
		enroll_signer_reply(en, &rep);
		if (en->sign == NULL)
			return;
	}
	if (rc == -1)
		enroll_signer_drop(en, errno == 0 ? "the signer exited" :
		    strerror(errno));
}

void
enroll_routes_signer(struct api *api, int fd)
{
	struct enroll	*en = api->enroll;

	if (en == NULL || en->magic != ENROLL_MAGIC) {
		if (fd >= 0)
			close(fd);
		return;
	}
	enroll_signer_drop(en, "a new signer was started");
	if (fd < 0)
		return;
	if ((en->sign = ipc_chan_new(fd, ENROLL_CHAN_QUEUE)) == NULL) {
		log_warn("enroll: the signer's channel");
		close(fd);
		return;
	}
	en->sign_ev = event_new(api->base, fd, EV_READ | EV_PERSIST,
	    enroll_signer_read, en);
	en->sign_wev = event_new(api->base, fd, EV_WRITE,
	    enroll_signer_write, en);
	if (en->sign_ev == NULL || en->sign_wev == NULL ||
	    event_add(en->sign_ev, NULL) == -1) {
		log_warnx("enroll: cannot watch the signer's channel");
		if (en->sign_ev != NULL)
			event_free(en->sign_ev);
		if (en->sign_wev != NULL)
			event_free(en->sign_wev);
		en->sign_ev = en->sign_wev = NULL;
		ipc_chan_free(en->sign);
		en->sign = NULL;
		return;
	}
	log_info("enroll: channel to the signer up");
}

/* --- requests ------------------------------------------------------------ */

/* The request's CSR to the signer: 0, or -1 when the job was answered. */
static int
enroll_sign(struct enroll_job *job)
{
	struct enroll		*en = job->en;
	struct api		*api = en->api;
	struct query_enroll	 q;
	struct sign_req		 sr;
	struct csr_policy	 pol;
	struct csr_info		 info;
	unsigned char		 der[CSR_DER_MAX];
	const unsigned char	*body;
	const char		*query, *acc, *why = NULL;
	char			 reason[CSR_REASON_MAX];
	X509_REQ		*csr;
	size_t			 len, derlen;
	struct timeval		 tv;

	query = api_req_query(job->req);
	if (query_enroll_parse(query, query != NULL ? strlen(query) : 0, &q,
	    &why) == -1) {
		snprintf(reason, sizeof(reason), "query string: %s", why);
		enroll_refuse(job, 400, &api->cnt.api_enroll_bad_request,
		    reason);
		return (-1);
	}
	if (!sign_uid_ok(q.client_uid)) {
		enroll_refuse(job, 400, &api->cnt.api_enroll_bad_request,
		    "clientUid: longer than 128 bytes");
		return (-1);
	}
	/* At most SIGN_UID_MAX bytes: sign_uid_ok() said so. */
	memcpy(job->uid, q.client_uid, strlen(q.client_uid) + 1);
	if (job->kind == ENROLL_V2) {
		acc = api_req_header(job->req, "Accept");
		if (accept_choose(acc, acc != NULL ? strlen(acc) : 0,
		    &job->accept, &why) == -1) {
			snprintf(reason, sizeof(reason), "Accept: %s", why);
			enroll_refuse(job, 400,
			    &api->cnt.api_enroll_bad_request, reason);
			return (-1);
		}
	}
	body = api_req_body(job->req, &len);
	if (csr_body_decode((const char *)body, len, der, sizeof(der),
	    &derlen, &why) == -1) {
		snprintf(reason, sizeof(reason), "body: %s", why);
		enroll_refuse(job, 400, &api->cnt.api_enroll_bad_request,
		    reason);
		return (-1);
	}
	memset(&pol, 0, sizeof(pol));
	pol.o = api->cfg->cert_o;
	pol.ou = api->cfg->cert_ou;
	pol.keys = CSR_KEYS_ALL;
	if ((csr = csr_parse_der(der, derlen, reason,
	    sizeof(reason))) == NULL || csr_check(csr, job->user, &pol, &info,
	    reason, sizeof(reason)) == -1) {
		X509_REQ_free(csr);
		ERR_clear_error();
		enroll_refuse(job, 400, &api->cnt.api_enroll_bad_csr, reason);
		return (-1);
	}
	X509_REQ_free(csr);
	if (en->sign == NULL) {
		enroll_refuse(job, 503, &api->cnt.api_enroll_unavailable,
		    "the signer is not running; try again later");
		return (-1);
	}
	memset(&sr, 0, sizeof(sr));
	sr.id = job->id = ++en->next_id;
	snprintf(sr.user, sizeof(sr.user), "%s", job->user);
	memcpy(sr.client_uid, job->uid, sizeof(sr.client_uid));
	sr.csr = der;
	sr.csr_len = derlen;
	if (sign_req_send(en->sign, &sr) == -1) {
		log_warn("enroll: request %u to the signer", sr.id);
		enroll_refuse(job, 503, &api->cnt.api_enroll_unavailable,
		    "the signer cannot take the request; try again later");
		return (-1);
	}
	job->signing = true;
	tv.tv_sec = api->cfg->api_timeout_ms / 1000;
	tv.tv_usec = (api->cfg->api_timeout_ms % 1000) * 1000;
	evtimer_add(job->timer, &tv);
	log_debug("enroll: %s: user \"%s\": request %u to the signer, %s key",
	    api_req_peer(job->req), job->user, sr.id, info.key);
	enroll_signer_flush(en);
	return (0);
}

/*
 * The login of a request, its throttle delay waited: its password goes to
 * the checking thread (pwcheck.h), enroll_login_done() goes on.  A
 * malformed Authorization costs no hash: it says nothing about a user.
 */
static void
enroll_login(struct enroll_job *job)
{
	struct enroll		*en = job->en;
	const char		*hash;

	/* Gone while it waited: no password is checked for nobody. */
	if (api_req_gone(job->req)) {
		enroll_answer(job, 401, "text/plain; charset=utf-8", NULL, 0);
		return;
	}
	if (job->ba_why != NULL) {
		enroll_login_done(job, false);
		return;
	}
	hash = basic_auth_hash_for(en->ver, en->api->users, &job->ba,
	    &job->if_match);
	job->check_ms = clock_mono_ms();
	if (pwcheck_submit(en->pw, job->ba.password, hash, enroll_login_done,
	    job) == -1) {
		enroll_refuse(job, 503, NULL, "out of memory for the password "
		    "check");
		return;
	}
	/* The thread has its own copy. */
	basic_auth_clear(&job->ba);
	job->checking = true;
}

/* The password checked (match), or not needed (malformed): the verdict. */
static void
enroll_login_done(void *arg, bool match)
{
	struct enroll_job		*job = arg;
	struct enroll			*en = job->en;
	struct api			*api = en->api;
	const struct users_user		*u = NULL;
	enum basic_auth_verdict		 v = BASIC_AUTH_UNKNOWN_USER;
	const struct sockaddr		*sa;
	char				 tried[USERS_NAME_MAX + 16];
	uint64_t			*counter;
	time_t				 now;

	sa = job->has_ss ? (const struct sockaddr *)&job->ss : NULL;
	now = (time_t)(clock_mono_ms() / 1000);
	if (job->ba_why != NULL)
		counter = &api->cnt.api_login_malformed;
	else {
		job->checking = false;
		v = basic_auth_verdict_of(en->ver, job->if_match, match);
		log_debug("enroll: %s: password check of \"%s\": %lld ms",
		    api_req_peer(job->req), job->tried,
		    (long long)(clock_mono_ms() - job->check_ms));
		/* A reload may have taken the user away meanwhile. */
		if (v == BASIC_AUTH_OK &&
		    (u = users_find(api->users, job->tried)) == NULL)
			v = BASIC_AUTH_UNKNOWN_USER;
		counter = v == BASIC_AUTH_OK ? &api->cnt.api_login_ok :
		    v == BASIC_AUTH_BAD_PASSWORD ?
		    &api->cnt.api_login_bad_password :
		    v == BASIC_AUTH_NO_PASSWORD ?
		    &api->cnt.api_login_no_password :
		    &api->cnt.api_login_unknown_user;
	}
	basic_auth_clear(&job->ba);
	(*counter)++;
	if (job->ba_why != NULL || v != BASIC_AUTH_OK) {
		throttle_fail(en->thr, now, sa, job->tried);
		api->cnt.api_unauthorized++;
		snprintf(tried, sizeof(tried), "\"%s\"", job->tried);
		log_limited(&en->rl, LOG_WARNING, "enroll: %s: %s: login "
		    "refused for user %s: %s", api_req_peer(job->req),
		    api_req_path(job->req), job->tried[0] != '\0' ? tried :
		    "(none)", job->ba_why != NULL ? job->ba_why :
		    basic_auth_verdict_name(v));
		/* The same answer whatever the verdict. */
		api_req_set_header(job->req, "WWW-Authenticate",
		    ENROLL_CHALLENGE);
		enroll_answer(job, 401, "text/plain; charset=utf-8",
		    "401 Unauthorized\n", 17);
		return;
	}
	throttle_ok(en->thr, now, sa, job->tried);
	snprintf(job->user, sizeof(job->user), "%s", u->name);
	if (job->kind == ENROLL_CONFIG) {
		log_debug("enroll: %s: tls/config for user \"%s\"",
		    api_req_peer(job->req), job->user);
		enroll_answer(job, 200, "application/xml; charset=utf-8",
		    en->tls_config, en->tls_config_len);
		return;
	}
	(void)enroll_sign(job);
}

static void
enroll_start(struct enroll *en, struct api_req *req, enum enroll_kind kind)
{
	struct api		*api = en->api;
	struct enroll_job	*job;
	const char		*auth;
	struct timeval		 tv;
	unsigned		 delay;

	if (en->n_jobs >= ENROLL_JOBS_MAX ||
	    (job = calloc(1, sizeof(*job))) == NULL) {
		api->cnt.api_enroll_unavailable++;
		log_limited(&en->rl, LOG_WARNING, "enroll: %s: %zu requests "
		    "held already: 503", api_req_peer(req), en->n_jobs);
		api_req_set_header(req, "Retry-After", "10");
		api_req_reply_text(req, 503, NULL);
		return;
	}
	job->magic = ENROLL_JOB_MAGIC;
	job->en = en;
	job->req = req;
	job->kind = kind;
	if ((job->next = en->jobs) != NULL)
		job->next->prev = job;
	en->jobs = job;
	en->n_jobs++;
	if ((job->timer = evtimer_new(api->base, enroll_timer, job)) == NULL) {
		enroll_refuse(job, 500, NULL, "out of memory");
		return;
	}
	job->has_ss = throttle_addr(api_req_addr(req), &job->ss);
	if ((auth = api_req_authorization(req)) == NULL)
		job->ba_why = "no Authorization header";
	else if (basic_auth_parse(auth, strlen(auth), &job->ba,
	    &job->ba_why) == 0)
		snprintf(job->tried, sizeof(job->tried), "%s", job->ba.user);
	/* The name tried counts whether it exists or not (throttle.h). */
	delay = throttle_check(en->thr, (time_t)(clock_mono_ms() / 1000),
	    job->has_ss ? (const struct sockaddr *)&job->ss : NULL,
	    job->tried);
	if (delay == 0) {
		enroll_login(job);
		return;
	}
	api->cnt.api_login_delayed++;
	log_limited(&en->rl, LOG_INFO, "enroll: %s: login of \"%s\" held %u s "
	    "for earlier failures", api_req_peer(req), job->tried, delay);
	tv.tv_sec = delay;
	tv.tv_usec = 0;
	evtimer_add(job->timer, &tv);
}

static void
enroll_tls_config(struct api_req *req, void *arg)
{
	enroll_start(arg, req, ENROLL_CONFIG);
}

static void
enroll_sign_v1(struct api_req *req, void *arg)
{
	enroll_start(arg, req, ENROLL_V1);
}

static void
enroll_sign_v2(struct api_req *req, void *arg)
{
	enroll_start(arg, req, ENROLL_V2);
}

int
enroll_routes_register(struct api *api, struct api_http *http)
{
	struct enroll	*en;
	char		 err[256];

	if ((en = calloc(1, sizeof(*en))) == NULL) {
		log_warn("enroll");
		return (-1);
	}
	en->magic = ENROLL_MAGIC;
	en->api = api;
	en->rl.burst = 20;
	en->rl.window = 10;
	api->enroll = en;
	if ((en->thr = throttle_new(0)) == NULL) {
		log_warnx("enroll: out of memory for the throttle");
		return (-1);
	}
	if ((en->ver = basic_auth_verifier_new(err, sizeof(err))) == NULL) {
		log_warnx("enroll: %s", err);
		return (-1);
	}
	if ((en->pw = pwcheck_new(api->base, err, sizeof(err))) == NULL) {
		log_warnx("enroll: password checks: %s", err);
		return (-1);
	}
	/* The same for everybody: made once. */
	if (enroll_reply_tls_config(api->cfg->cert_o, api->cfg->cert_ou, 0,
	    &en->tls_config, &en->tls_config_len, err, sizeof(err)) == -1) {
		log_warnx("enroll: tls/config: %s", err);
		return (-1);
	}
	if (api_http_route(http, ENROLL_TLS_CONFIG, API_GET,
	    enroll_tls_config, en) == -1 ||
	    api_http_route(http, ENROLL_SIGN_V1, API_POST, enroll_sign_v1,
	    en) == -1 ||
	    api_http_route(http, ENROLL_SIGN_V2, API_POST, enroll_sign_v2,
	    en) == -1)
		return (-1);
	if (api->args->signer_fd >= 0)
		enroll_routes_signer(api, api->args->signer_fd);
	else
		log_warnx("enroll: no signer: signing answers 503");
	return (0);
}

void
enroll_routes_counters(struct api *api)
{
	struct throttle_counters	 tc;

	if (api->enroll == NULL)
		return;
	throttle_counters(api->enroll->thr, &tc);
	api->cnt.api_throttle_names = tc.users;
	api->cnt.api_throttle_addrs = tc.addrs;
	api->cnt.api_throttle_evictions = tc.evictions;
}

void
enroll_routes_free(struct api *api)
{
	struct enroll	*en = api->enroll;

	if (en == NULL)
		return;
	/* First: no check may call back into a job freed below. */
	pwcheck_free(en->pw);
	en->pw = NULL;
	/* The requests held are answered by nobody: their clients are gone. */
	while (en->jobs != NULL)
		enroll_answer(en->jobs, 503, "text/plain; charset=utf-8",
		    NULL, 0);
	if (en->sign != NULL) {
		event_free(en->sign_ev);
		event_free(en->sign_wev);
		ipc_chan_free(en->sign);
	}
	throttle_free(en->thr);
	basic_auth_verifier_free(en->ver);
	free(en->tls_config);
	en->magic = 0;
	free(en);
	api->enroll = NULL;
}
