/*
 * What the admin console shows (api/console.h, docs/console.md): the
 * connected clients with their latest positions, live over server-sent
 * events; the health (takctl status's JSON, from the supervisor); the
 * users of the users file in force; the data packages.  Every route
 * checks the session first (console_auth), and a state-changing one its
 * CSRF token.
 *
 * The feed.  Workers write the registry (clients, latest SA) to LMDB in
 * batches, once per loop turn with activity.  While at least one event
 * stream is open, every CONSOLE_FEED_MS the console reads LMDB's last
 * transaction id (mdb_env_info: the meta page, no read transaction); only
 * when it moved does it read the registry, and only a snapshot that
 * differs from the last one sent goes out.  No stream open: no read at
 * all.  So LMDB sees at most two read transactions a second from the
 * console, however many admins watch and however busy the fleet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "api/console.h"
#include "api/http_push.h"
#include "shared/clock.h"
#include "shared/json.h"
#include "shared/log.h"
#include "shared/pkgstore.h"
#include "shared/store.h"

#define CONSOLE_DATA_MAGIC	0x43444154u	/* "CDAT" */
#define CONSOLE_FEED_MS		500	/* at most 2 registry reads a second */
#define CONSOLE_BEAT_MS		15000	/* a comment line keeps proxies open */
#define CONSOLE_STREAM_BACKLOG	(1024 * 1024)	/* unread: the stream ends */
#define CONSOLE_SA_MAX		4096	/* positions in one snapshot */
#define CONSOLE_STATUS_WAIT_MS	4000
#define CONSOLE_STATUS_MAX	(4 * 1024 * 1024)
#define CONSOLE_PARSE_OPTIONS	(XML_PARSE_NONET | XML_PARSE_NOCDATA | \
				 XML_PARSE_NOERROR | XML_PARSE_NOWARNING | \
				 XML_PARSE_IGNORE_ENC)

struct console_stream {
	struct api_req	*req;		/* NULL: free slot */
	char		 sess_id[CONSOLE_HEX];
	int64_t		 beat_ms;	/* the last bytes sent */
};

struct console_wait {
	struct api_req	*req;		/* NULL: free slot */
	uint32_t	 id;
	int64_t		 deadline_ms;
};

/* A position, from a stored SA. */
struct console_pos {
	char		 uid[STORE_UID_SIZE];
	double		 lat, lon, course;
	bool		 has_course;
	char		 team[64];
	char		 role[64];
	uint64_t	 stale_ms, time_ms;
};

struct console_data {
	unsigned		 magic;
	struct api		*api;
	struct console_stream	 st[CONSOLE_STREAMS_MAX];
	size_t			 n_st;
	struct console_wait	 w[CONSOLE_WAITS_MAX];
	uint32_t		 next_id;
	uint64_t		 last_txn;
	int64_t			 next_feed_ms;
	char			*last;		/* the last snapshot sent */
	size_t			 last_len;
	struct log_ratelimit	 rl;
};

/* --- the clients and their positions ---------------------------------- */

static const char *
console_attr(xmlNode *n, const char *name, char *buf, size_t len)
{
	xmlChar	*v;

	buf[0] = '\0';
	if ((v = xmlGetProp(n, (const xmlChar *)name)) == NULL)
		return (NULL);
	snprintf(buf, len, "%s", (const char *)v);
	xmlFree(v);
	return (buf);
}

static xmlNode *
console_child(xmlNode *n, const char *name)
{
	for (n = n != NULL ? n->children : NULL; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)n->name, name) == 0)
			return (n);
	return (NULL);
}

/*
 * A stored SA's point, team and course.  The workers parsed and checked it
 * before storing it; it is parsed again here with the same options (no
 * network, no entities, no DTD).
 */
static bool
console_sa_pos(const struct store_sa *sa, struct console_pos *p)
{
	xmlDoc	*doc;
	xmlNode	*ev, *pt, *det, *n;
	char	 a[64], b[64], *end;
	bool	 ok = false;

	memset(p, 0, sizeof(*p));
	if (sa->len > INT32_MAX || (doc = xmlReadMemory((const char *)
	    sa->event, (int)sa->len, NULL, NULL, CONSOLE_PARSE_OPTIONS)) ==
	    NULL)
		return (false);
	ev = xmlDocGetRootElement(doc);
	if (ev == NULL || (pt = console_child(ev, "point")) == NULL ||
	    console_attr(pt, "lat", a, sizeof(a)) == NULL ||
	    console_attr(pt, "lon", b, sizeof(b)) == NULL)
		goto done;
	p->lat = strtod(a, &end);
	if (*end != '\0' || !(p->lat >= -90 && p->lat <= 90))
		goto done;
	p->lon = strtod(b, &end);
	if (*end != '\0' || !(p->lon >= -180 && p->lon <= 180))
		goto done;
	det = console_child(ev, "detail");
	if ((n = console_child(det, "__group")) != NULL) {
		(void)console_attr(n, "name", p->team, sizeof(p->team));
		(void)console_attr(n, "role", p->role, sizeof(p->role));
	}
	if ((n = console_child(det, "track")) != NULL &&
	    console_attr(n, "course", a, sizeof(a)) != NULL) {
		p->course = strtod(a, &end);
		p->has_course = *end == '\0' && p->course >= 0 &&
		    p->course <= 360;
	}
	snprintf(p->uid, sizeof(p->uid), "%s", sa->uid);
	p->stale_ms = sa->stale_ms;
	p->time_ms = sa->time_ms;
	ok = true;
done:
	xmlFreeDoc(doc);
	return (ok);
}

struct console_walk {
	struct console_pos	*pos;
	size_t			 n_pos;
	struct json		*j;
};

static int
console_sa_cb(const struct store_sa *sa, void *arg)
{
	struct console_walk	*w = arg;

	if (w->n_pos >= CONSOLE_SA_MAX)
		return (1);
	if (console_sa_pos(sa, &w->pos[w->n_pos]))
		w->n_pos++;
	return (0);
}

static const struct console_pos *
console_pos_find(const struct console_walk *w, const char *uid)
{
	size_t	 i;

	if (uid[0] == '\0')
		return (NULL);
	for (i = 0; i < w->n_pos; i++)
		if (strcmp(w->pos[i].uid, uid) == 0)
			return (&w->pos[i]);
	return (NULL);
}

static int
console_client_cb(const struct store_client *sc, void *arg)
{
	struct console_walk		*w = arg;
	struct json			*j = w->j;
	const struct console_pos	*p;
	char				 id[32];

	snprintf(id, sizeof(id), "%llu", (unsigned long long)sc->conn_id);
	json_obj_begin(j);
	json_kv_str(j, "id", id);
	json_kv_str(j, "uid", sc->uid);
	json_kv_str(j, "callsign", sc->callsign);
	json_kv_str(j, "user", sc->user);
	json_kv_str(j, "groups_in", sc->groups_in);
	json_kv_str(j, "groups_out", sc->groups_out);
	json_kv_uint(j, "worker", sc->worker);
	json_kv_str(j, "encoding", sc->v1 ? "TAK protocol v1" : "XML");
	json_kv_str(j, "address", sc->peer);
	json_kv_uint(j, "connected_ms", sc->connected_ms);
	json_kv_uint(j, "last_ms", sc->last_seen_ms);
	json_kv_str(j, "serial", sc->serial);
	/* The certificate's notAfter, s since the epoch; 0 unknown. */
	json_kv_int(j, "not_after", sc->not_after);
	json_kv_str(j, "subject", sc->subject);
	json_kv_str(j, "team", sc->group);
	if ((p = console_pos_find(w, sc->uid)) != NULL) {
		json_key(j, "pos");
		json_obj_begin(j);
		/* Text: %.7f is a centimetre; JSON has no NaN to fear. */
		json_key(j, "lat");
		json_int(j, (int64_t)(p->lat * 1e7));
		json_key(j, "lon");
		json_int(j, (int64_t)(p->lon * 1e7));
		if (p->has_course)
			json_kv_int(j, "course", (int64_t)p->course);
		json_kv_str(j, "team", p->team);
		json_kv_str(j, "role", p->role);
		json_kv_uint(j, "stale_ms", p->stale_ms);
		json_kv_uint(j, "time_ms", p->time_ms);
		json_obj_end(j);
	}
	json_obj_end(j);
	return (0);
}

/*
 * {"now_ms", "cert_warn_days", "clients": [...]}: every connected client
 * of the registry,
 * each with its latest position (lat and lon in 1e-7 degrees).  -1 when
 * the registry cannot be read.
 */
static int
console_snapshot(struct api *api, struct json *j)
{
	struct console_walk	 w;
	int			 rc = -1;

	memset(&w, 0, sizeof(w));
	w.j = j;
	if (api->store == NULL || (w.pos = calloc(CONSOLE_SA_MAX,
	    sizeof(*w.pos))) == NULL)
		return (-1);
	/* Every SA, stale ones too: the map greys them. */
	if (store_foreach_sa(api->store, 0, NULL, console_sa_cb, &w) == -1)
		goto done;
	json_obj_begin(j);
	json_kv_uint(j, "now_ms", (uint64_t)clock_wall_ms());
	/* Expiries closer than this are shown red ([tls] cert_warn_days). */
	json_kv_uint(j, "cert_warn_days", api->cfg->cert_warn_days);
	json_key(j, "clients");
	json_arr_begin(j);
	if (store_foreach_client(api->store, console_client_cb, &w) == -1)
		goto done;
	json_arr_end(j);
	json_obj_end(j);
	rc = j->err ? -1 : 0;
done:
	free(w.pos);
	return (rc);
}

static void
console_clients(struct api_req *req, void *arg)
{
	struct api	*api = api_req_api(req);
	struct json	 j;

	if (console_auth(req, false) == NULL)
		return;
	json_init(&j);
	if (console_snapshot(api, &j) == -1) {
		json_free(&j);
		console_reply_error(req, 503, "the registry cannot be read");
		return;
	}
	console_reply_json(req, 200, &j);
}

/* --- the event stream ------------------------------------------------- */

static void
console_stream_end(struct console_data *cd, struct console_stream *s)
{
	api_req_push_end(s->req);
	memset(s, 0, sizeof(*s));
	cd->n_st--;
}

static int
console_stream_put(struct console_stream *s, const char *data, size_t len)
{
	static const char	 head[] = "event: clients\ndata: ";

	/* JSON has no newline of its own: one data line. */
	if (api_req_push_send(s->req, head, sizeof(head) - 1) == -1 ||
	    api_req_push_send(s->req, data, len) == -1 ||
	    api_req_push_send(s->req, "\n\n", 2) == -1)
		return (-1);
	s->beat_ms = clock_mono_ms();
	return (0);
}

/* GET /console/api/events: text/event-stream of snapshots. */
static void
console_events(struct api_req *req, void *arg)
{
	struct api		*api = api_req_api(req);
	struct console_data	*cd = api->console_data;
	struct console_sess	*sess;
	struct console_stream	*s = NULL;
	struct json		 j;
	size_t			 i;

	if ((sess = console_auth(req, false)) == NULL)
		return;
	for (i = 0; i < CONSOLE_STREAMS_MAX && s == NULL; i++)
		if (cd->st[i].req == NULL)
			s = &cd->st[i];
	if (s == NULL) {
		api_req_set_header(req, "Retry-After", "10");
		console_reply_error(req, 503, "too many event streams open");
		return;
	}
	json_init(&j);
	if (console_snapshot(api, &j) == -1) {
		json_free(&j);
		console_reply_error(req, 503, "the registry cannot be read");
		return;
	}
	s->req = req;
	snprintf(s->sess_id, sizeof(s->sess_id), "%s", sess->id);
	cd->n_st++;
	console_headers(req);
	if (api_req_push_start(req, "text/event-stream") == -1 ||
	    console_stream_put(s, j.buf, j.len) == -1)
		console_stream_end(cd, s);
	json_free(&j);
	log_debug("console: %s: event stream of \"%s\" open (%zu)",
	    api_req_peer(req), sess->user, cd->n_st);
}

/* What changed since the last look goes to every stream. */
static void
console_feed(struct console_data *cd, int64_t now)
{
	struct json	 j;
	uint64_t	 txn;
	size_t		 i;
	char		*copy;

	if (now < cd->next_feed_ms)
		return;
	cd->next_feed_ms = now + CONSOLE_FEED_MS;
	if ((txn = store_last_txn(cd->api->store)) == cd->last_txn &&
	    txn != 0)
		return;
	cd->last_txn = txn;
	json_init(&j);
	if (console_snapshot(cd->api, &j) == -1) {
		json_free(&j);
		return;
	}
	/* now_ms aside, an unchanged registry is not sent again. */
	if (cd->last != NULL && cd->last_len == j.len &&
	    memcmp(strchr(cd->last, ','), strchr(j.buf, ','),
	    (size_t)(cd->last + cd->last_len - strchr(cd->last, ','))) == 0) {
		json_free(&j);
		return;
	}
	if ((copy = malloc(j.len + 1)) != NULL) {
		memcpy(copy, j.buf, j.len);
		copy[j.len] = '\0';
		free(cd->last);
		cd->last = copy;
		cd->last_len = j.len;
	}
	for (i = 0; i < CONSOLE_STREAMS_MAX; i++)
		if (cd->st[i].req != NULL &&
		    console_stream_put(&cd->st[i], j.buf, j.len) == -1)
			console_stream_end(cd, &cd->st[i]);
	json_free(&j);
}

void
console_data_tick(struct api *api, int64_t now)
{
	struct console_data	*cd = api->console_data;
	struct console_stream	*s;
	struct console_wait	*w;
	size_t			 i;

	if (cd == NULL)
		return;
	for (i = 0; i < CONSOLE_WAITS_MAX; i++) {
		w = &cd->w[i];
		if (w->req != NULL && now >= w->deadline_ms) {
			console_reply_error(w->req, 503, "the supervisor did "
			    "not answer");
			w->req = NULL;
		}
	}
	for (i = 0; i < CONSOLE_STREAMS_MAX; i++) {
		s = &cd->st[i];
		if (s->req == NULL)
			continue;
		/* Gone, draining, or not reading what it is sent. */
		if (api_req_gone(s->req) || api->state != API_RUN ||
		    api_req_push_pending(s->req) > CONSOLE_STREAM_BACKLOG)
			console_stream_end(cd, s);
		else if (now - s->beat_ms >= CONSOLE_BEAT_MS &&
		    api_req_push_send(s->req, ": beat\n\n", 8) == 0)
			s->beat_ms = now;
	}
	if (cd->n_st > 0)
		console_feed(cd, now);
}

void
console_data_sess_gone(struct api *api, const struct console_sess *sess)
{
	struct console_data	*cd = api->console_data;
	size_t			 i;

	if (cd == NULL)
		return;
	for (i = 0; i < CONSOLE_STREAMS_MAX; i++)
		if (cd->st[i].req != NULL &&
		    strcmp(cd->st[i].sess_id, sess->id) == 0)
			console_stream_end(cd, &cd->st[i]);
}

/* --- health: takctl status's JSON ------------------------------------- */

static void
console_status(struct api_req *req, void *arg)
{
	struct api		*api = api_req_api(req);
	struct console_data	*cd = api->console_data;
	struct console_wait	*w = NULL;
	uint32_t		 fmt = 1;
	size_t			 i;

	if (console_auth(req, false) == NULL)
		return;
	for (i = 0; i < CONSOLE_WAITS_MAX && w == NULL; i++)
		if (cd->w[i].req == NULL)
			w = &cd->w[i];
	if (w == NULL) {
		console_reply_error(req, 503, "too many status requests");
		return;
	}
	w->req = req;
	w->id = CONSOLE_REQ_BIT | (cd->next_id++ & ~CONSOLE_REQ_BIT);
	w->deadline_ms = clock_mono_ms() + CONSOLE_STATUS_WAIT_MS;
	api_ctl_send(api, IPC_MSG_METRICS_REQ, w->id, &fmt, sizeof(fmt));
}

void
console_status_reply(struct api *api, uint32_t id, uint32_t status, int fd)
{
	struct console_data	*cd = api->console_data;
	struct console_wait	*w = NULL;
	struct stat		 st;
	void			*p = MAP_FAILED;
	size_t			 i;

	for (i = 0; cd != NULL && i < CONSOLE_WAITS_MAX && w == NULL; i++)
		if (cd->w[i].req != NULL && cd->w[i].id == id)
			w = &cd->w[i];
	if (w == NULL)
		goto done;		/* answered 503 already */
	if (status != 0 || fd == -1 || fstat(fd, &st) == -1 ||
	    st.st_size <= 0 || st.st_size > CONSOLE_STATUS_MAX ||
	    (p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
	    0)) == MAP_FAILED) {
		console_reply_error(w->req, 503, "the supervisor gave no "
		    "status");
		w->req = NULL;
		goto done;
	}
	console_headers(w->req);
	api_req_reply(w->req, 200, "application/json; charset=utf-8", p,
	    (size_t)st.st_size);
	w->req = NULL;
	munmap(p, (size_t)st.st_size);
done:
	if (fd != -1)
		close(fd);
}

/* --- users ------------------------------------------------------------ */

static void
console_users(struct api_req *req, void *arg)
{
	struct api		*api = api_req_api(req);
	const struct users_user	*u;
	struct json		 j;
	size_t			 i, k;

	if (console_auth(req, false) == NULL)
		return;
	json_init(&j);
	json_obj_begin(&j);
	json_kv_uint(&j, "generation", api->users_generation);
	json_key(&j, "users");
	json_arr_begin(&j);
	for (i = 0; i < users_count(api->users); i++) {
		u = users_get(api->users, i);
		json_obj_begin(&j);
		json_kv_str(&j, "name", u->name);
		json_kv_str(&j, "role", users_role_name(u->role));
		json_kv_bool(&j, "password", users_has_password(u));
		json_key(&j, "groups");
		json_arr_begin(&j);
		for (k = 0; k < u->n_groups; k++) {
			json_obj_begin(&j);
			json_kv_str(&j, "name", u->groups[k].name);
			json_kv_bool(&j, "in", u->groups[k].halves & USERS_IN);
			json_kv_bool(&j, "out", u->groups[k].halves &
			    USERS_OUT);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	console_reply_json(req, 200, &j);
}

/* --- data packages ---------------------------------------------------- */

/*
 * The api process's one handle on the store (datapkg.c opens it): LMDB
 * forbids a second environment on the same files in one process.
 */
static struct pkgstore *
console_pkg(struct console_data *cd)
{
	if (cd->api->pkgs == NULL)
		log_limited(&cd->rl, LOG_WARNING, "console: packages: the "
		    "store is not open (see the api process's start)");
	return (cd->api->pkgs);
}

static int
console_pkg_cb(const struct pkg_meta *m, void *arg)
{
	struct json	*j = arg;

	json_obj_begin(j);
	json_kv_str(j, "hash", m->hash);
	json_kv_str(j, "name", m->name);
	json_kv_uint(j, "size", m->size);
	json_kv_str(j, "user", m->user);
	json_kv_str(j, "groups", m->groups);
	json_kv_str(j, "mime", m->mime);
	json_kv_int(j, "submitted_ms", m->submitted_ms);
	json_kv_bool(j, "public", m->public);
	json_obj_end(j);
	return (0);
}

static void
console_packages(struct api_req *req, void *arg)
{
	struct console_data	*cd = api_req_api(req)->console_data;
	struct pkgstore		*s;
	struct json		 j;

	if (console_auth(req, false) == NULL)
		return;
	json_init(&j);
	json_obj_begin(&j);
	json_key(&j, "packages");
	json_arr_begin(&j);
	if ((s = console_pkg(cd)) != NULL &&
	    pkgstore_foreach(s, console_pkg_cb, &j) == -1) {
		json_free(&j);
		console_reply_error(req, 503, "the package store cannot be "
		    "read");
		return;
	}
	json_arr_end(&j);
	json_kv_bool(&j, "store", s != NULL);
	json_obj_end(&j);
	console_reply_json(req, 200, &j);
}

/* POST /console/api/packages/delete?hash=H */
static void
console_package_delete(struct api_req *req, void *arg)
{
	struct console_data	*cd = api_req_api(req)->console_data;
	struct console_sess	*sess;
	struct pkgstore		*s;
	struct pkg_meta		 m;
	char			 hash[PKG_HASH_HEX + 1];
	int			 rc;

	if ((sess = console_auth(req, true)) == NULL)
		return;
	if (console_param(req, "hash", hash, sizeof(hash)) == NULL ||
	    !pkgstore_hash_ok(hash)) {
		console_reply_error(req, 400, "hash: 64 hexadecimal digits "
		    "expected");
		return;
	}
	if ((s = console_pkg(cd)) == NULL) {
		console_reply_error(req, 503, "no package store");
		return;
	}
	if ((rc = pkgstore_get(s, hash, &m)) == 0)
		rc = pkgstore_delete(s, hash);
	if (rc != 0) {
		console_reply_error(req, rc == PKG_ERR_NOTFOUND ? 404 : 500,
		    pkgstore_strerror(rc));
		return;
	}
	log_info("console: %s: admin \"%s\" deleted package %s (\"%s\", %llu "
	    "bytes, uploaded by \"%s\")", api_req_peer(req), sess->user,
	    m.hash, m.name, (unsigned long long)m.size, m.user);
	console_reply_error(req, 200, "deleted");
}

/* --- life ------------------------------------------------------------- */

/* Every route here wants a session (console_auth), POSTs a CSRF token. */
static const struct api_route_def console_data_routes[] = {
	{ "/console/api/clients", API_GET, console_clients },
	{ "/console/api/events", API_GET, console_events },
	{ "/console/api/status", API_GET, console_status },
	{ "/console/api/users", API_GET, console_users },
	{ "/console/api/packages", API_GET, console_packages },
	{ "/console/api/packages/delete", API_POST, console_package_delete },
};

int
console_data_init(struct api *api, struct api_http *http)
{
	struct console_data	*cd;

	if ((cd = calloc(1, sizeof(*cd))) == NULL) {
		log_warn("console");
		return (-1);
	}
	cd->magic = CONSOLE_DATA_MAGIC;
	cd->api = api;
	api->console_data = cd;
	return (api_http_routes(http, console_data_routes,
	    sizeof(console_data_routes) / sizeof(console_data_routes[0]),
	    cd, "console"));
}

void
console_data_free(struct api *api)
{
	struct console_data	*cd = api->console_data;
	size_t			 i;

	if (cd == NULL)
		return;
	for (i = 0; i < CONSOLE_STREAMS_MAX; i++)
		if (cd->st[i].req != NULL)
			console_stream_end(cd, &cd->st[i]);
	for (i = 0; i < CONSOLE_WAITS_MAX; i++)
		if (cd->w[i].req != NULL)
			console_reply_error(cd->w[i].req, 503, "stopping");
	free(cd->last);
	cd->magic = 0;
	free(cd);
	api->console_data = NULL;
}
