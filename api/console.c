/*
 * The admin console's access and its page (api/console.h, docs/console.md,
 * docs/security.md "The admin console").
 *
 * Routes are one table (console_routes[]): the page and the login are
 * the only ones a request without a session reaches, and they give the
 * login page with a 403; every other route goes through console_auth()
 * first (tests/integ/test_console.sh walks this table).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "api/basic_auth.h"
#include "api/console.h"
#include "api/pwcheck.h"
#include "api/throttle.h"
#include "shared/clock.h"
#include "shared/json.h"
#include "shared/log.h"
#include "worker/tls.h"

#define CONSOLE_FILE_MAX	(4 * 1024 * 1024)	/* leaflet.js: 150 KiB */
#define CONSOLE_LOGIN_MAGIC	0x434c4f47u		/* "CLOG" */
#define CONSOLE_JSON		"application/json; charset=utf-8"

enum console_file {
	CF_INDEX, CF_LOGIN, CF_APP_JS, CF_LOGIN_JS, CF_CSS, CF_LEAFLET_JS,
	CF_LEAFLET_CSS, CF_ENROLL_JS, CF_USERS_JS,
	CF_MAX
};

static const struct {
	const char	*name;		/* in www_dir, or leaflet_dir */
	bool		 leaflet;
	const char	*ctype;
} console_files[CF_MAX] = {
	{ "index.html", false, "text/html; charset=utf-8" },
	{ "login.html", false, "text/html; charset=utf-8" },
	{ "console.js", false, "text/javascript; charset=utf-8" },
	{ "login.js", false, "text/javascript; charset=utf-8" },
	{ "console.css", false, "text/css; charset=utf-8" },
	{ "leaflet.js", true, "text/javascript; charset=utf-8" },
	{ "leaflet.css", true, "text/css; charset=utf-8" },
	{ "enroll.js", false, "text/javascript; charset=utf-8" },
	{ "users.js", false, "text/javascript; charset=utf-8" },
};

struct console_login {
	unsigned		 magic;
	struct console_login	*next, *prev;
	struct console		*con;
	struct api_req		*req;
	struct event		*timer;		/* the throttle's delay */
	struct basic_auth	 ba;
	const char		*ba_why;	/* malformed: why */
	char			 tried[USERS_NAME_MAX];
	enum basic_auth_verdict	 if_match;
	struct sockaddr_storage	 ss;
	bool			 has_ss;
	bool			 checking;	/* the thread has it */
};

struct console {
	unsigned		 magic;
	struct api		*api;
	char			*file[CF_MAX];
	size_t			 file_len[CF_MAX];
	char			 csp[768];
	struct console_sess	 sess[CONSOLE_SESS_MAX];
	struct console_login	*logins;
	size_t			 n_logins;
	struct basic_auth_verifier *ver;
	struct pwcheck		*pw;
	struct throttle		*thr;
	struct log_ratelimit	 rl;
};

static void	console_page(struct api_req *, void *);
static void	console_asset(struct api_req *, void *);
static void	console_login_post(struct api_req *, void *);
static void	console_logout(struct api_req *, void *);
static void	console_session(struct api_req *, void *);

/*
 * Every route of the console.  open: reached without a session (the login
 * page and what it needs); the rest check console_auth() first, here or in
 * console_data.c (whose routes are listed in console_data_routes[]).
 */
static const struct {
	const char	*path;
	unsigned	 methods;
	api_route_fn	 fn;
	int		 file;		/* console_asset: its file; else -1 */
	bool		 open;
} console_routes[] = {
	{ "/", API_GET, console_page, -1, true },
	{ "/console/login", API_POST, console_login_post, -1, true },
	{ "/console/login.js", API_GET, console_asset, CF_LOGIN_JS, true },
	{ "/console/console.css", API_GET, console_asset, CF_CSS, true },
	{ "/console/console.js", API_GET, console_asset, CF_APP_JS, false },
	{ "/console/users.js", API_GET, console_asset, CF_USERS_JS, false },
	{ "/console/leaflet/leaflet.js", API_GET, console_asset,
	    CF_LEAFLET_JS, false },
	{ "/console/leaflet/leaflet.css", API_GET, console_asset,
	    CF_LEAFLET_CSS, false },
	{ "/console/enroll.js", API_GET, console_asset, CF_ENROLL_JS, false },
	{ "/console/logout", API_POST, console_logout, -1, false },
	{ "/console/api/session", API_GET, console_session, -1, false },
};

#define NROUTES	(sizeof(console_routes) / sizeof(console_routes[0]))

bool
console_cert_optional(const struct config *cfg)
{
	return (cfg->api_on && cfg->console_on && cfg->console_login &&
	    cfg->api_listen.port[0] != '\0');
}

static struct console *
console_of(struct api_req *req)
{
	struct console	*con = api_req_api(req)->console;

	if (con == NULL || con->magic != CONSOLE_MAGIC)
		fatalx("console: bad magic");
	return (con);
}

/* --- answers ---------------------------------------------------------- */

void
console_headers(struct api_req *req)
{
	struct console	*con = console_of(req);

	api_req_set_header(req, "Content-Security-Policy", con->csp);
	api_req_set_header(req, "X-Frame-Options", "DENY");
	api_req_set_header(req, "X-Content-Type-Options", "nosniff");
	api_req_set_header(req, "Referrer-Policy", "no-referrer");
}

void
console_reply_json(struct api_req *req, int code, struct json *j)
{
	console_headers(req);
	if (j->err)
		api_req_reply_text(req, 500, NULL);
	else
		api_req_reply(req, code, CONSOLE_JSON, j->buf, j->len);
	json_free(j);
}

void
console_reply_error(struct api_req *req, int code, const char *msg)
{
	struct json	 j;

	json_init(&j);
	json_obj_begin(&j);
	json_kv_str(&j, "error", msg);
	json_obj_end(&j);
	console_reply_json(req, code, &j);
}

static void
console_send_file(struct api_req *req, int code, enum console_file f)
{
	struct console	*con = console_of(req);

	console_headers(req);
	if (con->file[f] == NULL) {
		api_req_reply_text(req, 404, "not installed with takd: see "
		    "[console] www_dir and leaflet_dir\n");
		return;
	}
	api_req_reply(req, code, console_files[f].ctype, con->file[f],
	    con->file_len[f]);
}

/*
 * name from one urlencoded string (a query or a form body) into buf:
 * libevent's parser decodes it; a value longer than len - 1, or with a
 * control character, counts as absent.  A secret's decoded copies, which
 * libevent frees, are wiped first.
 */
static const char *
console_param_in(const char *src, const char *name, char *buf, size_t len,
    bool secret)
{
	struct evkeyvalq	 q;
	struct evkeyval		*kv;
	const char		*v, *p, *ret = NULL;

	/* TAILQ_INIT: libevent's headers hide <sys/queue.h>'s. */
	q.tqh_first = NULL;
	q.tqh_last = &q.tqh_first;
	if (evhttp_parse_query_str(src, &q) == 0 &&
	    (v = evhttp_find_header(&q, name)) != NULL && strlen(v) < len) {
		for (p = v; *p != '\0' && (unsigned char)*p >= 0x20 &&
		    *p != 0x7f; p++)
			;
		if (*p == '\0') {
			snprintf(buf, len, "%s", v);
			ret = buf;
		}
	}
	for (kv = q.tqh_first; secret && kv != NULL; kv = kv->next.tqe_next)
		if (kv->value != NULL)
			OPENSSL_cleanse(kv->value, strlen(kv->value));
	evhttp_clear_headers(&q);
	return (ret);
}

/* The body as a string, when it is one (no NUL inside); else NULL. */
static const char *
console_body_str(struct api_req *req)
{
	const unsigned char	*body;
	size_t			 blen;

	body = api_req_body(req, &blen);
	return (blen > 0 && memchr(body, '\0', blen) == NULL ?
	    (const char *)body : NULL);
}

const char *
console_param(struct api_req *req, const char *name, char *buf, size_t len)
{
	const char	*src, *ret = NULL;

	if ((src = api_req_query(req)) != NULL)
		ret = console_param_in(src, name, buf, len, false);
	if (ret == NULL && (src = console_body_str(req)) != NULL)
		ret = console_param_in(src, name, buf, len, false);
	return (ret);
}

const char *
console_param_secret(struct api_req *req, const char *name, char *buf,
    size_t len)
{
	const char	*src;

	if ((src = console_body_str(req)) == NULL)
		return (NULL);
	return (console_param_in(src, name, buf, len, true));
}

struct pwcheck *
console_pwcheck(struct api *api)
{
	return (api->console->pw);
}

struct throttle *
console_throttle(struct api *api)
{
	return (api->console->thr);
}

/* --- sessions --------------------------------------------------------- */

static int
console_random_hex(char *out)
{
	unsigned char	 r[CONSOLE_ID_BYTES];
	size_t		 i;

	if (RAND_bytes(r, sizeof(r)) != 1)
		return (-1);
	for (i = 0; i < sizeof(r); i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	OPENSSL_cleanse(r, sizeof(r));
	return (0);
}

static void
console_sess_drop(struct console *con, struct console_sess *s,
    const char *why)
{
	if (!s->used)
		return;
	log_info("console: session of \"%s\" ended: %s", s->user, why);
	console_data_sess_gone(con->api, s);
	OPENSSL_cleanse(s, sizeof(*s));
	s->used = false;
}

/* A new session for user (serial: a certificate's, or ""); NULL: none. */
static struct console_sess *
console_sess_new(struct console *con, const char *user, const char *serial)
{
	struct console_sess	*s = NULL;
	size_t			 i;

	for (i = 0; i < CONSOLE_SESS_MAX; i++) {
		if (!con->sess[i].used) {
			s = &con->sess[i];
			break;
		}
		if (s == NULL || con->sess[i].last_ms < s->last_ms)
			s = &con->sess[i];
	}
	console_sess_drop(con, s, "the oldest, for a new one");
	memset(s, 0, sizeof(*s));
	if (console_random_hex(s->id) == -1 ||
	    console_random_hex(s->csrf) == -1) {
		log_warnx("console: no random bytes for a session");
		OPENSSL_cleanse(s, sizeof(*s));
		return (NULL);
	}
	s->used = true;
	snprintf(s->user, sizeof(s->user), "%s", user);
	snprintf(s->serial, sizeof(s->serial), "%s", serial);
	s->created_ms = s->last_ms = clock_mono_ms();
	return (s);
}

static void
console_set_cookie(struct api_req *req, const struct console_sess *s)
{
	struct console	*con = console_of(req);
	char		 v[256];

	if (s != NULL)
		snprintf(v, sizeof(v), "%s=%s; Path=/; Max-Age=%u; Secure; "
		    "HttpOnly; SameSite=Strict", CONSOLE_COOKIE, s->id,
		    con->api->cfg->console_max_ms / 1000);
	else
		snprintf(v, sizeof(v), "%s=; Path=/; Max-Age=0; Secure; "
		    "HttpOnly; SameSite=Strict", CONSOLE_COOKIE);
	api_req_set_header(req, "Set-Cookie", v);
}

/* The cookie's value (64 hex digits) into id; false when there is none. */
static bool
console_cookie(struct api_req *req, char *id)
{
	const char	*h, *p;
	size_t		 n = strlen(CONSOLE_COOKIE), i;

	if ((h = api_req_header(req, "Cookie")) == NULL)
		return (false);
	for (p = h; (p = strstr(p, CONSOLE_COOKIE "=")) != NULL; p += n) {
		if (p != h && p[-1] != ' ' && p[-1] != ';')
			continue;
		p += n + 1;
		for (i = 0; i < CONSOLE_HEX - 1; i++)
			if (!((p[i] >= '0' && p[i] <= '9') ||
			    (p[i] >= 'a' && p[i] <= 'f')))
				return (false);
		if (p[i] != '\0' && p[i] != ';' && p[i] != ' ')
			return (false);
		memcpy(id, p, CONSOLE_HEX - 1);
		id[CONSOLE_HEX - 1] = '\0';
		return (true);
	}
	return (false);
}

static struct console_sess *
console_sess_find(struct console *con, const char *id)
{
	struct console_sess	*found = NULL;
	size_t			 i;

	/* Every slot compared, in constant time each. */
	for (i = 0; i < CONSOLE_SESS_MAX; i++)
		if (con->sess[i].used && CRYPTO_memcmp(con->sess[i].id, id,
		    CONSOLE_HEX - 1) == 0)
			found = &con->sess[i];
	return (found);
}

/* The user is an admin of the users file in force. */
static bool
console_is_admin(const struct api *api, const char *user)
{
	const struct users_user	*u;

	return (user[0] != '\0' && (u = users_find(api->users, user)) !=
	    NULL && u->role == USERS_ROLE_ADMIN);
}

/* Why s is no longer good, or NULL. */
static const char *
console_sess_why(struct console *con, const struct console_sess *s,
    int64_t now)
{
	const struct config	*cfg = con->api->cfg;

	if (now - s->last_ms >= (int64_t)cfg->console_idle_ms)
		return ("unused for [console] session_idle");
	if (now - s->created_ms >= (int64_t)cfg->console_max_ms)
		return ("older than [console] session_max");
	if (!console_is_admin(con->api, s->user))
		return ("the user is no longer an admin of the users file");
	return (NULL);
}

static void
console_refuse(struct api_req *req, const char *why)
{
	struct console	*con = console_of(req);

	con->api->cnt.api_unauthorized++;
	log_limited(&con->rl, LOG_WARNING, "console: %s: %s %s refused: %s",
	    api_req_peer(req), api_req_method(req) == API_POST ? "POST" :
	    "GET", api_req_path(req), why);
	console_reply_error(req, 403, why);
}

struct console_sess *
console_auth(struct api_req *req, bool csrf)
{
	struct console		*con = console_of(req);
	const struct tls_peer	*tp = api_req_tls_peer(req);
	struct console_sess	*s;
	const char		*why, *tok, *origin, *host;
	char			 id[CONSOLE_HEX], want[300];
	int64_t			 now = clock_mono_ms();

	if (!console_cookie(req, id) || (s = console_sess_find(con, id)) ==
	    NULL) {
		OPENSSL_cleanse(id, sizeof(id));
		console_refuse(req, "no console session: log in");
		return (NULL);
	}
	OPENSSL_cleanse(id, sizeof(id));
	if ((why = console_sess_why(con, s, now)) != NULL) {
		console_sess_drop(con, s, why);
		console_set_cookie(req, NULL);
		console_refuse(req, "the session ended: log in again");
		return (NULL);
	}
	/* A certificate's session stays with that certificate. */
	if (s->serial[0] != '\0' && (tp == NULL ||
	    strcmp(tp->serial_hex, s->serial) != 0)) {
		console_refuse(req, "this session belongs to another client "
		    "certificate");
		return (NULL);
	}
	if (csrf) {
		tok = api_req_header(req, "X-CSRF-Token");
		if (tok == NULL || strlen(tok) != CONSOLE_HEX - 1 ||
		    CRYPTO_memcmp(tok, s->csrf, CONSOLE_HEX - 1) != 0) {
			console_refuse(req, "missing or wrong CSRF token");
			return (NULL);
		}
		/* Browsers send Origin with a POST: it must be this server. */
		origin = api_req_header(req, "Origin");
		host = api_req_header(req, "Host");
		snprintf(want, sizeof(want), "https://%s", host != NULL ?
		    host : "");
		if (origin != NULL && strcmp(origin, want) != 0) {
			console_refuse(req, "request from another origin");
			return (NULL);
		}
	}
	s->last_ms = now;
	return (s);
}

/* --- the page, the files ---------------------------------------------- */

/*
 * "/": the console for a session, or for an admin's certificate (which
 * gets a session bound to it); anybody else the login page, with a 403.
 */
static void
console_page(struct api_req *req, void *arg)
{
	struct console		*con = console_of(req);
	const struct tls_peer	*tp = api_req_tls_peer(req);
	struct console_sess	*s;
	char			 id[CONSOLE_HEX];
	bool			 have;

	have = console_cookie(req, id) && (s = console_sess_find(con, id)) !=
	    NULL && console_sess_why(con, s, clock_mono_ms()) == NULL &&
	    (s->serial[0] == '\0' || (tp != NULL &&
	    strcmp(tp->serial_hex, s->serial) == 0));
	OPENSSL_cleanse(id, sizeof(id));
	if (!have && tp != NULL && !tp->user_bad &&
	    console_is_admin(con->api, tp->user)) {
		if ((s = console_sess_new(con, tp->user, tp->serial_hex)) ==
		    NULL) {
			api_req_reply_text(req, 503, NULL);
			return;
		}
		log_info("console: %s: session for admin \"%s\" by its "
		    "certificate %s", api_req_peer(req), s->user,
		    tp->serial_hex);
		console_set_cookie(req, s);
		have = true;
	}
	if (!have) {
		con->api->cnt.api_unauthorized++;
		console_send_file(req, 403, CF_LOGIN);
		return;
	}
	console_send_file(req, 200, CF_INDEX);
}

static void
console_asset(struct api_req *req, void *arg)
{
	size_t	 i;

	for (i = 0; i < NROUTES; i++) {
		if (console_routes[i].fn != console_asset ||
		    strcmp(console_routes[i].path, api_req_path(req)) != 0)
			continue;
		if (!console_routes[i].open && console_auth(req, false) ==
		    NULL)
			return;
		console_send_file(req, 200, console_routes[i].file);
		return;
	}
	api_req_reply_text(req, 404, NULL);
}

/* GET /console/api/session: who, the CSRF token, the page's settings. */
static void
console_session(struct api_req *req, void *arg)
{
	struct console		*con = console_of(req);
	const struct config	*cfg = con->api->cfg;
	struct console_sess	*s;
	struct json		 j;

	if ((s = console_auth(req, false)) == NULL)
		return;
	json_init(&j);
	json_obj_begin(&j);
	json_kv_str(&j, "user", s->user);
	json_kv_str(&j, "via", s->serial[0] != '\0' ? "certificate" :
	    "password");
	json_kv_str(&j, "csrf", s->csrf);
	json_kv_str(&j, "tiles", cfg->console_tiles);
	json_kv_uint(&j, "session_idle_s", cfg->console_idle_ms / 1000);
	json_kv_uint(&j, "session_max_s", cfg->console_max_ms / 1000);
	json_kv_str(&j, "version", TAKD_VERSION);
	json_obj_end(&j);
	console_reply_json(req, 200, &j);
}

static void
console_logout(struct api_req *req, void *arg)
{
	struct console		*con = console_of(req);
	struct console_sess	*s;

	if ((s = console_auth(req, true)) == NULL)
		return;
	log_info("console: %s: \"%s\" logged out", api_req_peer(req),
	    s->user);
	console_sess_drop(con, s, "logged out");
	console_set_cookie(req, NULL);
	console_reply_error(req, 200, "logged out");
}

/* --- the login form --------------------------------------------------- */

static void	console_login_check(struct console_login *);

static void
console_login_end(struct console_login *l, int code, const char *msg,
    const struct console_sess *s)
{
	struct console	*con = l->con;
	struct json	 j;

	if (l->checking)
		return;		/* the thread's answer frees it */
	if (s != NULL)
		console_set_cookie(l->req, s);
	json_init(&j);
	json_obj_begin(&j);
	json_kv_bool(&j, "ok", s != NULL);
	json_kv_str(&j, s != NULL ? "user" : "error", msg);
	json_obj_end(&j);
	console_reply_json(l->req, code, &j);
	basic_auth_clear(&l->ba);
	if (l->timer != NULL)
		event_free(l->timer);
	if (l->next != NULL)
		l->next->prev = l->prev;
	if (l->prev != NULL)
		l->prev->next = l->next;
	else
		con->logins = l->next;
	con->n_logins--;
	l->magic = 0;
	free(l);
}

static void
console_login_done(void *arg, bool match)
{
	struct console_login	*l = arg;
	struct console		*con = l->con;
	struct api		*api = con->api;
	struct console_sess	*s;
	enum basic_auth_verdict	 v = BASIC_AUTH_UNKNOWN_USER;
	const struct users_user	*u = NULL;
	const struct sockaddr	*sa;
	time_t			 now = (time_t)(clock_mono_ms() / 1000);

	if (l->magic != CONSOLE_LOGIN_MAGIC)
		fatalx("console login: bad magic");
	l->checking = false;
	sa = l->has_ss ? (const struct sockaddr *)&l->ss : NULL;
	if (l->ba_why == NULL) {
		v = basic_auth_verdict_of(con->ver, l->if_match, match);
		if (v == BASIC_AUTH_OK && (u = users_find(api->users,
		    l->tried)) == NULL)
			v = BASIC_AUTH_UNKNOWN_USER;
	}
	basic_auth_clear(&l->ba);
	if (v != BASIC_AUTH_OK) {
		throttle_fail(con->thr, now, sa, l->tried);
		api->cnt.api_unauthorized++;
		log_limited(&con->rl, LOG_WARNING, "console: %s: login "
		    "refused for user \"%s\": %s", api_req_peer(l->req),
		    l->tried, l->ba_why != NULL ? l->ba_why :
		    basic_auth_verdict_name(v));
		console_login_end(l, 403, "wrong user name or password",
		    NULL);
		return;
	}
	throttle_ok(con->thr, now, sa, l->tried);
	if (u->role != USERS_ROLE_ADMIN) {
		api->cnt.api_unauthorized++;
		log_warnx("console: %s: login of \"%s\" refused: not an admin",
		    api_req_peer(l->req), u->name);
		console_login_end(l, 403, "the console is for admins only",
		    NULL);
		return;
	}
	if ((s = console_sess_new(con, u->name, "")) == NULL) {
		console_login_end(l, 503, "no session could be made", NULL);
		return;
	}
	log_info("console: %s: \"%s\" logged in with a password",
	    api_req_peer(l->req), s->user);
	console_login_end(l, 200, s->user, s);
}

/* The throttle's delay waited (or none): the check goes to the thread. */
static void
console_login_check(struct console_login *l)
{
	struct console	*con = l->con;
	const char	*hash;

	if (api_req_gone(l->req) || l->ba_why != NULL) {
		console_login_done(l, false);
		return;
	}
	hash = basic_auth_hash_for(con->ver, con->api->users, &l->ba,
	    &l->if_match);
	if (pwcheck_submit(con->pw, l->ba.password, hash, console_login_done,
	    l) == -1) {
		console_login_end(l, 503, "out of memory", NULL);
		return;
	}
	basic_auth_clear(&l->ba);
	l->checking = true;
}

static void
console_login_timer(evutil_socket_t fd, short what, void *arg)
{
	console_login_check(arg);
}

/*
 * POST /console/login with "Authorization: Basic" (the page's script
 * sends it: a form of another site cannot, so no login CSRF), parsed as
 * on 8446; failures are slowed by the same throttle rules.
 */
static void
console_login_post(struct api_req *req, void *arg)
{
	struct console		*con = console_of(req);
	struct console_login	*l;
	const char		*auth;
	struct timeval		 tv;
	unsigned		 delay;

	if (!con->api->cfg->console_login) {
		console_refuse(req, "password login is off ([console] "
		    "password_login)");
		return;
	}
	if (con->n_logins >= CONSOLE_LOGINS_MAX ||
	    (l = calloc(1, sizeof(*l))) == NULL) {
		api_req_set_header(req, "Retry-After", "10");
		console_reply_error(req, 503, "too many logins at once");
		return;
	}
	l->magic = CONSOLE_LOGIN_MAGIC;
	l->con = con;
	l->req = req;
	if ((l->next = con->logins) != NULL)
		l->next->prev = l;
	con->logins = l;
	con->n_logins++;
	if ((l->timer = evtimer_new(con->api->base, console_login_timer,
	    l)) == NULL) {
		console_login_end(l, 500, "out of memory", NULL);
		return;
	}
	l->has_ss = throttle_addr(api_req_addr(req), &l->ss);
	if ((auth = api_req_authorization(req)) == NULL)
		l->ba_why = "no Authorization header";
	else if (basic_auth_parse(auth, strlen(auth), &l->ba,
	    &l->ba_why) == 0)
		snprintf(l->tried, sizeof(l->tried), "%s", l->ba.user);
	delay = throttle_check(con->thr, (time_t)(clock_mono_ms() / 1000),
	    l->has_ss ? (const struct sockaddr *)&l->ss : NULL, l->tried);
	if (delay == 0) {
		console_login_check(l);
		return;
	}
	con->api->cnt.api_login_delayed++;
	log_limited(&con->rl, LOG_INFO, "console: %s: login of \"%s\" held "
	    "%u s for earlier failures", api_req_peer(req), l->tried, delay);
	tv.tv_sec = delay;
	tv.tv_usec = 0;
	evtimer_add(l->timer, &tv);
}

/* --- 8443 without a certificate -------------------------------------- */

/*
 * With the login form on, 8443 takes connections without a certificate:
 * they reach the console's routes (which want a session) and nothing
 * else of the Marti API.
 */
static bool
console_guard(struct api_req *req, void *arg)
{
	const char	*path = api_req_path(req);

	if (api_req_tls_peer(req) != NULL || strcmp(path, "/") == 0 ||
	    strncmp(path, "/console/", 9) == 0)
		return (true);
	console_refuse(req, "a client certificate is required here");
	return (false);
}

/* --- life ------------------------------------------------------------- */

static int
console_load(struct console *con, enum console_file f)
{
	const struct config	*cfg = con->api->cfg;
	char			 path[PATH_MAX + 64];
	struct stat		 st;
	ssize_t			 n;
	size_t			 off = 0;
	int			 fd;

	snprintf(path, sizeof(path), "%s/%s", console_files[f].leaflet ?
	    cfg->console_leaflet : cfg->console_www, console_files[f].name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > CONSOLE_FILE_MAX) {
		log_warnx("console: %s: %s", path, fd == -1 ? strerror(errno) :
		    "not a regular file of at most 4 MiB");
		goto fail;
	}
	if ((con->file[f] = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	while (off < (size_t)st.st_size) {
		if ((n = read(fd, con->file[f] + off, (size_t)st.st_size -
		    off)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			log_warnx("console: %s: short read", path);
			goto fail;
		}
		off += (size_t)n;
	}
	con->file_len[f] = off;
	close(fd);
	return (0);
fail:
	free(con->file[f]);
	con->file[f] = NULL;
	if (fd != -1)
		close(fd);
	return (-1);
}

/* The tiles' origin for img-src ("{s}." subdomains as a wildcard). */
static void
console_csp(struct console *con)
{
	const char	*t = con->api->cfg->console_tiles, *h, *e;
	char		 origin[512] = "", *s;

	if (t[0] != '\0' && (h = strstr(t, "://")) != NULL) {
		e = strchr(h + 3, '/');
		snprintf(origin, sizeof(origin), " %.*s", (int)((e != NULL ?
		    e : t + strlen(t)) - t), t);
		if ((s = strstr(origin, "{s}")) != NULL) {
			*s = '*';
			memmove(s + 1, s + 3, strlen(s + 3) + 1);
		}
	}
	snprintf(con->csp, sizeof(con->csp), "default-src 'none'; "
	    "script-src 'self'; style-src 'self'; img-src 'self' data:%s; "
	    "connect-src 'self'; form-action 'self'; base-uri 'none'; "
	    "frame-ancestors 'none'", origin);
}

int
console_init(struct api *api, struct api_http *http)
{
	struct console	*con;
	char		 err[256];
	size_t		 i;

	if ((con = calloc(1, sizeof(*con))) == NULL) {
		log_warn("console");
		return (-1);
	}
	con->magic = CONSOLE_MAGIC;
	con->api = api;
	api->console = con;
	for (i = 0; i < CF_MAX; i++)
		(void)console_load(con, (enum console_file)i);
	if (con->file[CF_INDEX] == NULL || con->file[CF_LOGIN] == NULL)
		log_warnx("console: the page is not installed in %s: every "
		    "route answers, the page 404", api->cfg->console_www);
	console_csp(con);
	if ((con->thr = throttle_new(0)) == NULL ||
	    (con->ver = basic_auth_verifier_new(err, sizeof(err))) == NULL ||
	    (con->pw = pwcheck_new(api->base, err, sizeof(err))) == NULL) {
		log_warnx("console: the login: %s", con->thr == NULL ?
		    "out of memory" : err);
		return (-1);
	}
	for (i = 0; i < NROUTES; i++)
		if (api_http_route(http, console_routes[i].path,
		    console_routes[i].methods, console_routes[i].fn,
		    con) == -1) {
			log_warnx("console: route %s", console_routes[i].path);
			return (-1);
		}
	if (console_cert_optional(api->cfg))
		api_http_guard(http, console_guard, con);
	if (console_data_init(api, http) == -1 ||
	    console_ops_init(api, http) == -1 ||
	    console_enroll_init(api, http) == -1 ||
	    console_users_init(api, http) == -1)
		return (-1);
	log_info("console on the Marti listener: %s", console_cert_optional(
	    api->cfg) ? "admin certificates and the login form (a "
	    "certificate is asked for, not required)" : "admin certificates "
	    "only");
	return (0);
}

void
console_tick(struct api *api, int64_t now)
{
	struct console	*con = api->console;
	const char	*why;
	size_t		 i;

	if (con == NULL)
		return;
	for (i = 0; i < CONSOLE_SESS_MAX; i++)
		if (con->sess[i].used && (why = console_sess_why(con,
		    &con->sess[i], now)) != NULL)
			console_sess_drop(con, &con->sess[i], why);
	console_data_tick(api, now);
	console_ops_tick(api, now);
	console_users_tick(api, now);
}

void
console_free(struct api *api)
{
	struct console	*con = api->console;
	size_t		 i;

	if (con == NULL)
		return;
	console_data_free(api);
	console_ops_free(api);
	console_users_free(api);
	/* The thread first: it may still hold a login's arguments. */
	pwcheck_free(con->pw);
	con->pw = NULL;
	console_enroll_free(api);
	while (con->logins != NULL) {
		con->logins->checking = false;
		console_login_end(con->logins, 503, "stopping", NULL);
	}
	throttle_free(con->thr);
	basic_auth_verifier_free(con->ver);
	for (i = 0; i < CF_MAX; i++)
		free(con->file[i]);
	OPENSSL_cleanse(con->sess, sizeof(con->sess));
	con->magic = 0;
	free(con);
	api->console = NULL;
}
