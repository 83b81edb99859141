/*
 * The console's enrollment action (docs/console.md, "Enrollment"): for a
 * user of the users file, the enrollment package (the zip `takctl pki
 * enroll-package` writes) and the QR codes ATAK and iTAK scan, built here
 * by shared/pkgzip.c and shared/qr.c from the CA certificate the api
 * process trusts and the configuration.  No key, nothing of pki/.
 *
 * ATAK's QR code carries the user's password, which the console never
 * knows (the users file holds hashes): the admin types it, it is checked
 * against the user's hash on the password thread (api/pwcheck.c) and a
 * wrong one is refused, counted and slowed by the login throttle (per
 * address and per user name, api/throttle.c), so the dialog is no faster
 * a password oracle than the login form.  The password is never logged;
 * the reply is no-store and the buffers that held it are wiped.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "api/console.h"
#include "api/pwcheck.h"
#include "api/throttle.h"
#include "shared/clock.h"
#include "shared/json.h"
#include "shared/log.h"
#include "shared/pkgzip.h"
#include "shared/qr.h"

#define ENROLL_MAGIC		0x43454e52u	/* "CENR" */
#define ENROLL_WAITS_MAX	16	/* requests checking a password */
#define ENROLL_JSON		"application/json; charset=utf-8"

struct console_enroll_req {
	unsigned			 magic;
	struct console_enroll_req	*next, *prev;
	struct api			*api;
	struct api_req			*req;
	struct event			*timer;	/* the throttle's delay */
	char				 admin[USERS_NAME_MAX];
	char				 user[USERS_NAME_MAX];
	char				 hash[USERS_HASH_MAX];
	char				 pw[PASSWORD_MAX + 1];
	struct sockaddr_storage		 ss;
	bool				 has_ss;
	bool				 checking;	/* the thread has it */
};

struct console_enroll {
	unsigned			 magic;
	struct console_enroll_req	*reqs;
	size_t				 n;
	struct log_ratelimit		 rl;
};

static void	console_enroll_post(struct api_req *, void *);

/* The route (tests/integ/console/console_http.py walks this table too). */
static const struct api_route_def console_enroll_routes[] = {
	{ "/console/api/users/enroll", API_POST, console_enroll_post },
};

static void
console_enroll_end(struct console_enroll_req *r)
{
	struct console_enroll	*ce = r->api->console_enroll;

	if (r->timer != NULL)
		event_free(r->timer);
	if (r->next != NULL)
		r->next->prev = r->prev;
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		ce->reqs = r->next;
	ce->n--;
	OPENSSL_cleanse(r, sizeof(*r));
	free(r);
}

/*
 * Where the package points the device, as takctl's pki_package_host():
 * [pki] server_host, else the CN of the server certificate (the one this
 * process serves, [tls] cert), else this machine's name.
 */
static void
console_enroll_host(const struct api *api, char *buf, size_t len)
{
	X509		*x;
	X509_NAME	*n;

	buf[0] = '\0';
	if (api->cfg->server_host[0] != '\0') {
		snprintf(buf, len, "%s", api->cfg->server_host);
		return;
	}
	if (api->args->ssl_ctx != NULL &&
	    (x = SSL_CTX_get0_certificate(api->args->ssl_ctx)) != NULL &&
	    (n = X509_get_subject_name(x)) != NULL &&
	    X509_NAME_get_text_by_NID(n, NID_commonName, buf, (int)len) > 0)
		return;
	if (gethostname(buf, len) == -1 || buf[0] == '\0')
		snprintf(buf, len, "takd");
	buf[len - 1] = '\0';
}

/* The QR code of s as SVG into j under key; -1 with err. */
static int
console_enroll_svg(struct json *j, const char *key, const char *s,
    char *err, size_t errlen)
{
	QRcode	*qr;
	FILE	*fp;
	char	*svg = NULL;
	size_t	 len = 0;

	if ((qr = qr_encode(s, err, errlen)) == NULL)
		return (-1);
	if ((fp = open_memstream(&svg, &len)) == NULL) {
		QRcode_free(qr);
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	qr_svg(qr, fp);
	QRcode_free(qr);
	if (fclose(fp) == EOF) {
		free(svg);
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	json_kv_str(j, key, svg);
	free(svg);
	return (0);
}

/* The package as base64 into j under "package"; -1 with err. */
static int
console_enroll_zip(struct api *api, const char *user, const char *host,
    const char *port, struct json *j, char *err, size_t errlen)
{
	struct pkgzip_enroll	 pkg;
	unsigned char		*zip = NULL, *b64 = NULL;
	size_t			 len = 0;
	int			 rc = -1;

	if (api->args->ca == NULL || sk_X509_num(api->args->ca) < 1) {
		snprintf(err, errlen, "no CA certificate in [tls] ca");
		return (-1);
	}
	memset(&pkg, 0, sizeof(pkg));
	pkg.user = user;
	pkg.host = host;
	pkg.port = port;
	pkg.enroll_port = PKGZIP_ENROLL_PORT;
	/* The first certificate of [tls] ca: takctl's reads ca.pem's first. */
	pkg.ca = sk_X509_value(api->args->ca, 0);
	if (pkgzip_enroll_new(&pkg, &zip, &len, err, errlen) == -1)
		return (-1);
	if ((b64 = malloc(4 * ((len + 2) / 3) + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	(void)EVP_EncodeBlock(b64, zip, (int)len);
	json_kv_str(j, "package", (const char *)b64);
	json_kv_uint(j, "package_bytes", len);
	rc = 0;
 done:
	free(b64);
	free(zip);
	return (rc);
}

/* The answer of a checked password: the package and both QR codes. */
static void
console_enroll_reply(struct console_enroll_req *r)
{
	struct api		*api = r->api;
	struct json		 j;
	char			 host[PKGZIP_HOST_MAX], safe[PKGZIP_HOST_MAX];
	char			 url[QR_URL_MAX], itak[QR_ITAK_MAX];
	char			 name[USERS_NAME_MAX + 16], err[512];
	const char		*port = PKGZIP_PORT;

	console_enroll_host(api, host, sizeof(host));
	if (api->cfg->n_tls_listen > 0 &&
	    strcmp(api->cfg->tls_listen[0].port, "0") != 0)
		port = api->cfg->tls_listen[0].port;
	json_init(&j);
	if (pkgzip_server_name(host, safe, sizeof(safe), err,
	    sizeof(err)) == -1)
		goto fail;
	qr_enroll_url(host, r->user, r->pw, url, sizeof(url));
	qr_itak_string(host, port, itak, sizeof(itak));
	snprintf(name, sizeof(name), "%s-enroll.zip", r->user);
	json_obj_begin(&j);
	json_kv_bool(&j, "ok", true);
	json_kv_str(&j, "user", r->user);
	json_kv_str(&j, "host", host);
	json_kv_str(&j, "port", port);
	json_kv_str(&j, "enroll_port", PKGZIP_ENROLL_PORT);
	json_kv_str(&j, "url", url);
	json_kv_str(&j, "itak", itak);
	json_kv_str(&j, "package_name", name);
	if (console_enroll_svg(&j, "qr_svg", url, err, sizeof(err)) == -1 ||
	    console_enroll_svg(&j, "itak_svg", itak, err, sizeof(err)) == -1 ||
	    console_enroll_zip(api, r->user, host, port, &j, err,
	    sizeof(err)) == -1)
		goto fail;
	json_obj_end(&j);
	OPENSSL_cleanse(url, sizeof(url));
	if (j.err) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	log_info("console: %s: enrollment package and QR code of \"%s\" for "
	    "admin \"%s\"", api_req_peer(r->req), r->user, r->admin);
	/* Cache-Control: no-store, as every answer of 8443 (http.c). */
	console_headers(r->req);
	api_req_reply(r->req, 200, ENROLL_JSON, j.buf, j.len);
	OPENSSL_cleanse(j.buf, j.cap);
	json_free(&j);
	return;
 fail:
	OPENSSL_cleanse(url, sizeof(url));
	if (j.buf != NULL)
		OPENSSL_cleanse(j.buf, j.cap);
	json_free(&j);
	log_warnx("console: %s: enrollment of \"%s\" for admin \"%s\": %s",
	    api_req_peer(r->req), r->user, r->admin, err);
	console_reply_error(r->req, 500, err);
}

static void
console_enroll_done(void *arg, bool match)
{
	struct console_enroll_req	*r = arg;
	struct api			*api = r->api;
	struct console_enroll		*ce = api->console_enroll;
	const struct sockaddr		*sa;
	time_t				 now;

	if (r->magic != ENROLL_MAGIC)
		fatalx("console enroll: bad magic");
	r->checking = false;
	now = (time_t)(clock_mono_ms() / 1000);
	sa = r->has_ss ? (const struct sockaddr *)&r->ss : NULL;
	if (!match) {
		throttle_fail(console_throttle(api), now, sa, r->user);
		api->cnt.api_unauthorized++;
		log_limited(&ce->rl, LOG_WARNING, "console: %s: admin \"%s\" "
		    "gave a wrong password for the enrollment of \"%s\"",
		    api_req_peer(r->req), r->admin, r->user);
		console_reply_error(r->req, 403, "that is not the password of "
		    "this user in the users file: a phone would be refused");
	} else {
		throttle_ok(console_throttle(api), now, sa, r->user);
		console_enroll_reply(r);
	}
	console_enroll_end(r);
}

/* The throttle's delay waited (or none): the check goes to the thread. */
static void
console_enroll_check(struct console_enroll_req *r)
{
	if (api_req_gone(r->req)) {
		console_reply_error(r->req, 503, "gone");
		console_enroll_end(r);
		return;
	}
	if (pwcheck_submit(console_pwcheck(r->api), r->pw, r->hash,
	    console_enroll_done, r) == -1) {
		console_reply_error(r->req, 503, "out of memory");
		console_enroll_end(r);
		return;
	}
	OPENSSL_cleanse(r->hash, sizeof(r->hash));
	r->checking = true;
}

static void
console_enroll_timer(evutil_socket_t fd, short what, void *arg)
{
	console_enroll_check(arg);
}

/*
 * POST /console/api/users/enroll?user=NAME, body password=PASSWORD (the
 * user's, typed by the admin): 200 {"ok","user","host","port",
 * "enroll_port","url","itak","package_name","qr_svg","itak_svg",
 * "package" (base64),"package_bytes"}; 403 wrong password, 404 no such
 * user, 409 a user without a password, 400 no password given.
 */
static void
console_enroll_post(struct api_req *req, void *arg)
{
	struct api			*api = api_req_api(req);
	struct console_enroll		*ce = api->console_enroll;
	struct console_enroll_req	*r;
	struct console_sess		*s;
	const struct users_user		*u;
	char				 user[USERS_NAME_MAX];
	struct timeval			 tv;
	unsigned			 delay;

	if ((s = console_auth(req, true)) == NULL)
		return;
	if (console_param(req, "user", user, sizeof(user)) == NULL) {
		console_reply_error(req, 400, "which user? (user=NAME)");
		return;
	}
	if ((u = users_find(api->users, user)) == NULL) {
		console_reply_error(req, 404, "no such user in the users file "
		    "in force");
		return;
	}
	if (u->hash[0] != '$') {
		console_reply_error(req, 409, "this user has no password, so "
		    "it cannot enroll: set one first");
		return;
	}
	if (ce->n >= ENROLL_WAITS_MAX || (r = calloc(1, sizeof(*r))) == NULL) {
		api_req_set_header(req, "Retry-After", "10");
		console_reply_error(req, 503, "too many enrollments at once");
		return;
	}
	r->magic = ENROLL_MAGIC;
	r->api = api;
	r->req = req;
	if ((r->next = ce->reqs) != NULL)
		r->next->prev = r;
	ce->reqs = r;
	ce->n++;
	snprintf(r->admin, sizeof(r->admin), "%s", s->user);
	snprintf(r->user, sizeof(r->user), "%s", u->name);
	snprintf(r->hash, sizeof(r->hash), "%s", u->hash);
	/* Never from the query string: URLs end up in logs. */
	if (console_param_secret(req, "password", r->pw, sizeof(r->pw)) ==
	    NULL || r->pw[0] == '\0') {
		console_reply_error(req, 400, "type the user's password: the "
		    "QR code carries it (password=... in the body)");
		console_enroll_end(r);
		return;
	}
	if ((r->timer = evtimer_new(api->base, console_enroll_timer,
	    r)) == NULL) {
		console_reply_error(req, 500, "out of memory");
		console_enroll_end(r);
		return;
	}
	r->has_ss = throttle_addr(api_req_addr(req), &r->ss);
	delay = throttle_check(console_throttle(api),
	    (time_t)(clock_mono_ms() / 1000), r->has_ss ?
	    (const struct sockaddr *)&r->ss : NULL, r->user);
	if (delay == 0) {
		console_enroll_check(r);
		return;
	}
	api->cnt.api_login_delayed++;
	log_limited(&ce->rl, LOG_INFO, "console: %s: enrollment of \"%s\" "
	    "held %u s for earlier wrong passwords", api_req_peer(req),
	    r->user, delay);
	tv.tv_sec = delay;
	tv.tv_usec = 0;
	evtimer_add(r->timer, &tv);
}

int
console_enroll_init(struct api *api, struct api_http *http)
{
	struct console_enroll	*ce;

	if ((ce = calloc(1, sizeof(*ce))) == NULL) {
		log_warn("console enroll");
		return (-1);
	}
	ce->magic = ENROLL_MAGIC;
	api->console_enroll = ce;
	return (api_http_routes(http, console_enroll_routes,
	    sizeof(console_enroll_routes) / sizeof(console_enroll_routes[0]),
	    ce, "console"));
}

void
console_enroll_free(struct api *api)
{
	struct console_enroll	*ce = api->console_enroll;

	if (ce == NULL)
		return;
	/* The password thread is gone (console_free): nothing calls back. */
	while (ce->reqs != NULL) {
		console_reply_error(ce->reqs->req, 503, "stopping");
		console_enroll_end(ce->reqs);
	}
	ce->magic = 0;
	free(ce);
	api->console_enroll = NULL;
}
