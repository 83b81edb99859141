/*
 * The Marti API on [api] listen (8443, mutual TLS): what ATAK asks once
 * connected (../shared/protocol.md; docs/api.md has each reply).
 *
 *   GET /Marti/api/version		text: the server's name and version
 *   GET /Marti/api/version/config	JSON ServerConfig: version, API 3,
 *					hostname
 *   GET /Marti/api/clientEndPoints	JSON: the connected clients the
 *					requester's groups let it see
 *   GET /Marti/api/groups/all		JSON: the requester's groups, one
 *					entry per half (IN, OUT), "active"
 *					as its channels say
 *   GET /Marti/api/groups/groupCacheEnabled  JSON Boolean true
 *   PUT /Marti/api/groups/active	its channels (api/channels.c)
 *
 * The requester is its certificate's user ([auth] user_rdn); its groups
 * come from the users file as the workers give them to a CoT session
 * (docs/groups.md): the user's, else with [auth] ou_groups the group of
 * its O/OU, else __ANON__.  A client is listed when the requester would
 * receive its events: some group holds the client in its IN half and the
 * requester in its OUT half.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/datapkg.h"
#include "api/http.h"
#include "api/marti.h"
#include "shared/channels.h"
#include "shared/clock.h"
#include "shared/grouplist.h"
#include "shared/json.h"
#include "shared/log.h"
#include "shared/store.h"
#include "shared/users.h"
#include "worker/tls.h"

#define MARTI_API_VERSION	"3"
#define MARTI_JSON		"application/json; charset=utf-8"
#define MARTI_CLIENTS_MAX	100000	/* listed at most */

int
marti_who(const struct api_req *req, struct marti_who *who)
{
	struct api		*api = api_req_api(req);
	const struct tls_peer	*p = api_req_tls_peer(req);
	const struct users_user	*u = NULL;
	size_t			 i;

	who->n = 0;
	who->u = NULL;
	who->user = NULL;
	who->admin = false;
	if (p == NULL || p->user_bad) {
		log_warnx("marti: %s: its certificate names no single user "
		    "([auth] user_rdn %s): refused", api_req_peer(req),
		    api->cfg->user_rdn);
		return (-1);
	}
	who->user = p->user;
	if (p->user[0] != '\0' && api->users != NULL)
		u = users_find(api->users, p->user);
	who->admin = u != NULL && u->role == USERS_ROLE_ADMIN;
	if (u != NULL && u->n_groups > 0) {
		who->u = u;
		for (i = 0; i < u->n_groups && i < USERS_GROUPS_MAX; i++) {
			who->g[who->n].name = u->groups[i].name;
			who->g[who->n++].halves = u->groups[i].halves;
		}
		return (0);
	}
	if (api->cfg->ou_groups && p->orgunit[0] != '\0') {
		/* Never __ANON__ instead: that would widen what it sees. */
		if (p->orgunit_long || !grouplist_name_ok(p->orgunit,
		    strlen(p->orgunit))) {
			log_warnx("marti: %s: its O and OU make no group name "
			    "([auth] ou_groups): refused", api_req_peer(req));
			return (-1);
		}
		who->g[0].name = p->orgunit;
	} else
		who->g[0].name = GROUPLIST_ANON;
	who->g[0].halves = USERS_IN | USERS_OUT;
	who->n = 1;
	return (0);
}

int
marti_groups(struct api_req *req, struct marti_who *who)
{
	if (marti_who(req, who) == -1) {
		api_req_reply_text(req, 403, NULL);
		return (-1);
	}
	return (0);
}

int
marti_halves(const struct marti_who *who, unsigned half, char *buf,
    size_t len)
{
	size_t	 i, o = 0, n;

	buf[0] = '\0';
	for (i = 0; i < who->n; i++) {
		if ((who->g[i].halves & half) == 0)
			continue;
		n = strlen(who->g[i].name);
		if (o + n + 2 > len)
			return (-1);
		if (o > 0)
			buf[o++] = ',';
		memcpy(buf + o, who->g[i].name, n + 1);
		o += n;
	}
	return (0);
}

bool
marti_sees(const struct marti_who *who, const char *list)
{
	const char	*pos = list, *end = list + strlen(list), *name;
	size_t		 len, i;

	while ((name = grouplist_next(&pos, end, &len)) != NULL)
		for (i = 0; i < who->n; i++)
			if ((who->g[i].halves & USERS_OUT) &&
			    strlen(who->g[i].name) == len &&
			    memcmp(who->g[i].name, name, len) == 0)
				return (true);
	return (false);
}

void
marti_hostname(const struct api *api, char *buf, size_t len)
{
	if (api->cfg->server_host[0] != '\0')
		snprintf(buf, len, "%s", api->cfg->server_host);
	else if (gethostname(buf, len) == -1 || buf[0] == '\0')
		snprintf(buf, len, "takd");
	buf[len - 1] = '\0';
}

static void
marti_reply_json(struct api_req *req, struct json *j)
{
	if (j->err)
		api_req_reply_text(req, 500, NULL);
	else
		api_req_reply(req, 200, MARTI_JSON, j->buf, j->len);
	json_free(j);
}

static void
marti_version(struct api_req *req, void *arg)
{
	api_req_reply_text(req, 200, "takd " TAKD_VERSION "\n");
}

static void
marti_version_config(struct api_req *req, void *arg)
{
	struct json	 j;
	char		 host[256];

	marti_hostname(api_req_api(req), host, sizeof(host));
	json_init(&j);
	json_obj_begin(&j);
	json_kv_str(&j, "version", MARTI_API_VERSION);
	json_kv_str(&j, "type", "ServerConfig");
	json_key(&j, "data");
	json_obj_begin(&j);
	json_kv_str(&j, "version", "takd-" TAKD_VERSION);
	json_kv_str(&j, "api", MARTI_API_VERSION);
	json_kv_str(&j, "hostname", host);
	json_obj_end(&j);
	json_kv_str(&j, "nodeId", host);
	json_obj_end(&j);
	marti_reply_json(req, &j);
}

/* One client of the registry, as clientEndPoints lists it. */
struct marti_client {
	char		 uid[STORE_UID_SIZE];
	char		 callsign[STORE_CALLSIGN_SIZE];
	char		 user[STORE_USER_SIZE];
	uint64_t	 last_seen_ms;
};

struct marti_walk {
	const struct marti_who	*who;
	struct marti_client	*v;
	size_t			 n;
	size_t			 cap;
	bool			 nomem;
};

static int
marti_walk_one(const struct store_client *sc, void *arg)
{
	struct marti_walk	*w = arg;
	struct marti_client	*c, *nv;
	size_t			 cap;

	/* Not bound to a uid yet, or out of the requester's sight. */
	if (sc->uid[0] == '\0' || !marti_sees(w->who, sc->groups_in))
		return (0);
	if (w->n == MARTI_CLIENTS_MAX)
		return (1);
	if (w->n == w->cap) {
		cap = w->cap == 0 ? 64 : w->cap * 2;
		if ((nv = reallocarray(w->v, cap, sizeof(*nv))) == NULL) {
			w->nomem = true;
			return (1);
		}
		w->v = nv;
		w->cap = cap;
	}
	c = &w->v[w->n++];
	snprintf(c->uid, sizeof(c->uid), "%s", sc->uid);
	snprintf(c->callsign, sizeof(c->callsign), "%s", sc->callsign);
	snprintf(c->user, sizeof(c->user), "%s", sc->user);
	c->last_seen_ms = sc->last_seen_ms;
	return (0);
}

/* By uid, the most recently seen first: one entry per uid is kept. */
static int
marti_client_cmp(const void *a, const void *b)
{
	const struct marti_client	*x = a, *y = b;
	int				 r;

	if ((r = strcmp(x->uid, y->uid)) != 0)
		return (r);
	return (x->last_seen_ms > y->last_seen_ms ? -1 :
	    x->last_seen_ms < y->last_seen_ms ? 1 : 0);
}

/* "2026-01-02T03:04:05.678Z", what the official server writes. */
static void
marti_time(uint64_t ms, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 t = (time_t)(ms / 1000);

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(buf, len, "1970-01-01T00:00:00");
	snprintf(buf + strlen(buf), len - strlen(buf), ".%03uZ",
	    (unsigned)(ms % 1000));
}

static void
marti_client_endpoints(struct api_req *req, void *arg)
{
	struct api		*api = api_req_api(req);
	struct marti_who	 who;
	struct marti_walk	 w;
	struct json		 j;
	char			 t[40], host[256];
	size_t			 i;

	if (marti_groups(req, &who) == -1)
		return;
	if (api->store == NULL) {
		api_req_reply_text(req, 503, "the client registry is not "
		    "available\n");
		return;
	}
	memset(&w, 0, sizeof(w));
	w.who = &who;
	if (store_foreach_client(api->store, marti_walk_one, &w) == -1 ||
	    w.nomem) {
		log_warnx("marti: %s: cannot read the client registry",
		    api_req_peer(req));
		free(w.v);
		api_req_reply_text(req, 500, NULL);
		return;
	}
	if (w.n > 1)
		qsort(w.v, w.n, sizeof(*w.v), marti_client_cmp);
	marti_hostname(api, host, sizeof(host));
	json_init(&j);
	json_obj_begin(&j);
	json_kv_str(&j, "version", MARTI_API_VERSION);
	json_kv_str(&j, "type", "com.bbn.marti.remote.ClientEndpoint");
	json_key(&j, "data");
	json_arr_begin(&j);
	for (i = 0; i < w.n; i++) {
		if (i > 0 && strcmp(w.v[i].uid, w.v[i - 1].uid) == 0)
			continue;
		marti_time(w.v[i].last_seen_ms, t, sizeof(t));
		json_obj_begin(&j);
		json_kv_str(&j, "callsign", w.v[i].callsign);
		json_kv_str(&j, "uid", w.v[i].uid);
		json_kv_str(&j, "username", w.v[i].user);
		json_kv_str(&j, "lastEventTime", t);
		json_kv_str(&j, "lastStatus", "Connected");
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_kv_str(&j, "nodeId", host);
	json_obj_end(&j);
	free(w.v);
	marti_reply_json(req, &j);
}

static void
marti_group_json(struct json *j, const char *name, const char *dir,
    size_t bit, bool active)
{
	json_obj_begin(j);
	json_kv_str(j, "name", name);
	json_kv_str(j, "direction", dir);
	json_kv_str(j, "created", "1970-01-01");
	json_kv_str(j, "type", "SYSTEM");
	json_kv_uint(j, "bitpos", bit);
	json_kv_bool(j, "active", active);
	json_kv_str(j, "description", "");
	json_obj_end(j);
}

static void
marti_groups_all(struct api_req *req, void *arg)
{
	struct marti_who	 who;
	struct channels_off	 off;
	struct json		 j;
	unsigned		 on[USERS_GROUPS_MAX];
	char			 host[256];
	size_t			 i;

	if (marti_groups(req, &who) == -1)
		return;
	/* The halves the user's channels leave on (docs/groups.md). */
	for (i = 0; i < who.n; i++)
		on[i] = who.g[i].halves;
	if (who.u != NULL) {
		(void)api_channels_off(api_req_api(req), who.u->name, &off);
		(void)channels_apply(&off, who.u, on);
	}
	marti_hostname(api_req_api(req), host, sizeof(host));
	json_init(&j);
	json_obj_begin(&j);
	json_kv_str(&j, "version", MARTI_API_VERSION);
	json_kv_str(&j, "type", "com.bbn.marti.remote.groups.Group");
	json_key(&j, "data");
	json_arr_begin(&j);
	/* One entry per half, as the official server lists them. */
	for (i = 0; i < who.n; i++) {
		if (who.g[i].halves & USERS_IN)
			marti_group_json(&j, who.g[i].name, "IN", i,
			    (on[i] & USERS_IN) != 0);
		if (who.g[i].halves & USERS_OUT)
			marti_group_json(&j, who.g[i].name, "OUT", i,
			    (on[i] & USERS_OUT) != 0);
	}
	json_arr_end(&j);
	json_kv_str(&j, "nodeId", host);
	json_obj_end(&j);
	marti_reply_json(req, &j);
}

/* TAK Server's Boolean: whether it keeps the channels; takd does. */
static void
marti_group_cache(struct api_req *req, void *arg)
{
	struct json	 j;
	char		 host[256];

	marti_hostname(api_req_api(req), host, sizeof(host));
	json_init(&j);
	json_obj_begin(&j);
	json_kv_str(&j, "version", MARTI_API_VERSION);
	json_kv_str(&j, "type", "java.lang.Boolean");
	json_kv_bool(&j, "data", true);
	json_kv_str(&j, "nodeId", host);
	json_obj_end(&j);
	marti_reply_json(req, &j);
}

int
api_marti_init(struct api *api, struct api_http *http)
{
	if (api_http_route(http, "/Marti/api/version", API_GET, marti_version,
	    api) == -1 ||
	    api_http_route(http, "/Marti/api/version/config", API_GET,
	    marti_version_config, api) == -1 ||
	    api_http_route(http, "/Marti/api/clientEndPoints", API_GET,
	    marti_client_endpoints, api) == -1 ||
	    api_http_route(http, "/Marti/api/groups/all", API_GET,
	    marti_groups_all, api) == -1 ||
	    api_http_route(http, "/Marti/api/groups/groupCacheEnabled",
	    API_GET, marti_group_cache, api) == -1)
		return (-1);
	if (api_channels_init(api, http) == -1)
		return (-1);
	/* Data packages (datapkg.c): 8443 too. */
	return (api_datapkg_init(api, http));
}
