/*
 * Data packages on 8443 besides uploads (datapkg.h): download, existence,
 * search, the tool flag and deletion, as the official server's
 * ContentServlet, MissionPackageQueryServlet, SearchServlet, MetadataApi
 * and DeleteServlet answer them (docs/datapackages.md).
 *
 *   GET /Marti/sync/content?hash=H	the file, streamed from the store
 *   GET /Marti/sync/missionquery?hash=H	200 with the content URL, or 404
 *   GET /Marti/sync/search?keywords=K&tool=T	{"resultCount", "results"}
 *   PUT /Marti/api/sync/metadata/H/tool	body "public" or "private"
 *   DELETE /Marti/sync/delete?hash=H	(POST too, as the official server)
 *
 * A package the requester may not see is answered 404 like an absent one;
 * changing its flag or deleting it takes its uploader or an admin (403
 * for another user who sees it).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "api/api_int.h"
#include "api/datapkg.h"
#include "api/http.h"
#include "shared/grouplist.h"
#include "shared/json.h"
#include "shared/log.h"

#define DP_META_PREFIX		"/Marti/api/sync/metadata/"
#define DP_SEARCH_MAX		10000	/* results of one search */
#define DP_FLAG_MAX		64	/* bytes of a tool body */

/* The record of hash if the requester may see it: 0, or answered. */
static int
dp_visible(struct api_req *req, const char *hash, const char *out,
    const struct marti_who *who, struct pkg_meta *m)
{
	struct api	*api = api_req_api(req);

	switch (pkgstore_get(api->pkgs, hash, m)) {
	case 0:
		if (pkgstore_visible(m, out, who->admin))
			return (0);
		/* Not to be told apart from an absent one. */
		/* FALLTHROUGH */
	case PKG_ERR_NOTFOUND:
		dp_refuse(req, &api->cnt.pkg_ref_not_found, 404, "no package "
		    "%s that this user may see", hash);
		return (-1);
	case PKG_ERR_INVAL:
		dp_refuse(req, &api->cnt.pkg_ref_bad, 400, "bad hash");
		return (-1);
	}
	dp_refuse(req, &api->cnt.pkg_ref_error, 500, "the data package store "
	    "failed (see the log)");
	return (-1);
}

/* Who asks, and hash= of the query: 0, or answered. */
static int
dp_ask(struct api_req *req, struct marti_who *who, char *out, size_t outlen,
    char *hash)
{
	struct api		*api = api_req_api(req);
	struct evkeyvalq	 kv;
	int			 rc;

	if (api->pkgs == NULL) {
		dp_refuse(req, &api->cnt.pkg_ref_error, 503, "the data package "
		    "store is not available");
		return (-1);
	}
	if (dp_who(req, who, out, outlen) == -1 || dp_query(req, &kv) == -1)
		return (-1);
	rc = dp_query_hash(req, &kv, hash);
	evhttp_clear_headers(&kv);
	return (rc);
}

static void
dp_sent(struct api_req *req, uint64_t sent, bool whole, void *arg)
{
	struct api	*api = arg;

	api->cnt.pkg_bytes_out += sent;
	if (api_req_method(req) == API_HEAD)
		return;
	if (whole)
		api->cnt.pkg_downloads++;
	else
		dp_log(req, LOG_WARNING, "download of %s broken off after %llu "
		    "bytes", api_req_path(req), (unsigned long long)sent);
}

/*
 * Content-Disposition for name: an ASCII fallback (what is not a safe
 * character becomes '_') and RFC 6266's filename* with every byte.
 */
static void
dp_disposition(const char *name, char *buf, size_t len)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 o, i;
	unsigned char		 c;

	o = (size_t)snprintf(buf, len, "attachment; filename=\"");
	for (i = 0; name[i] != '\0' && o + 2 < len; i++) {
		c = (unsigned char)name[i];
		buf[o++] = isalnum(c) || strchr("._-+()[] ", c) != NULL ?
		    (char)c : '_';
	}
	o += (size_t)snprintf(buf + o, o < len ? len - o : 0,
	    "\"; filename*=UTF-8''");
	for (i = 0; name[i] != '\0' && o + 4 < len; i++) {
		c = (unsigned char)name[i];
		if (isalnum(c) || strchr("._-", c) != NULL)
			buf[o++] = (char)c;
		else {
			buf[o++] = '%';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 0xf];
		}
	}
	buf[o < len ? o : len - 1] = '\0';
}

static void
dp_content(struct api_req *req, void *arg)
{
	struct api		*api = arg;
	struct marti_who	 who;
	struct pkg_meta		 m;
	char			 out[GROUPLIST_STR_MAX], hash[PKG_HASH_HEX];
	char			 disp[4 * PKG_NAME_SIZE + 64];
	uint64_t		 size;
	int			 fd;

	if (dp_ask(req, &who, out, sizeof(out), hash) == -1 ||
	    dp_visible(req, hash, out, &who, &m) == -1)
		return;
	if ((fd = pkgstore_content_open(api->pkgs, hash, &size)) < 0) {
		if (fd == PKG_ERR_NOTFOUND)
			dp_refuse(req, &api->cnt.pkg_ref_not_found, 404,
			    "package %s has no file", hash);
		else
			dp_refuse(req, &api->cnt.pkg_ref_error, 500, "cannot "
			    "open package %s", hash);
		return;
	}
	dp_disposition(m.name, disp, sizeof(disp));
	api_req_set_header(req, "Content-Disposition", disp);
	/* The type is the uploader's: a browser must not render it as ours. */
	api_req_set_header(req, "X-Content-Type-Options", "nosniff");
	dp_log(req, LOG_INFO, "download \"%s\" %s, %llu bytes", m.name, hash,
	    (unsigned long long)size);
	api_req_reply_fd(req, m.mime[0] != '\0' ? m.mime :
	    "application/octet-stream", fd, size, dp_sent, api);
}

static void
dp_missionquery(struct api_req *req, void *arg)
{
	struct api		*api = arg;
	struct marti_who	 who;
	struct pkg_meta		 m;
	char			 out[GROUPLIST_STR_MAX], hash[PKG_HASH_HEX];
	char			 url[512];

	if (dp_ask(req, &who, out, sizeof(out), hash) == -1 ||
	    dp_visible(req, hash, out, &who, &m) == -1)
		return;
	dp_content_url(api, hash, url, sizeof(url));
	api_req_reply(req, 200, DP_TEXT, url, strlen(url));
}

/* Whether the comma lists a and b share a word (case-insensitive). */
static bool
dp_words_meet(const char *a, const char *b)
{
	const char	*p, *q, *pe, *qe;
	size_t		 pl, ql;

	for (p = a; *p != '\0'; p = pe + (*pe == ',')) {
		pe = strchr(p, ',') != NULL ? strchr(p, ',') : p + strlen(p);
		pl = (size_t)(pe - p);
		for (q = b; *q != '\0'; q = qe + (*qe == ',')) {
			qe = strchr(q, ',') != NULL ? strchr(q, ',') :
			    q + strlen(q);
			ql = (size_t)(qe - q);
			if (pl > 0 && pl == ql && strncasecmp(p, q, pl) == 0)
				return (true);
		}
	}
	return (false);
}

struct dp_search {
	const struct marti_who	*who;
	const char		*out;
	const char		*keywords;	/* NULL: any */
	int			 tool;		/* -1 any, 0 private, 1 public */
	struct json		*j;
	size_t			 n;
};

static int
dp_search_one(const struct pkg_meta *m, void *arg)
{
	struct dp_search	*s = arg;
	char			 t[40], size[24];

	if (!pkgstore_visible(m, s->out, s->who->admin) ||
	    (s->tool != -1 && m->public != (s->tool == 1)) ||
	    (s->keywords != NULL && !dp_words_meet(m->keywords, s->keywords)))
		return (0);
	dp_time(m->submitted_ms, t, sizeof(t));
	snprintf(size, sizeof(size), "%llu", (unsigned long long)m->size);
	json_obj_begin(s->j);
	json_kv_str(s->j, "UID", m->hash);
	json_kv_str(s->j, "Name", m->name);
	json_kv_str(s->j, "Hash", m->hash);
	json_kv_str(s->j, "MIMEType", m->mime);
	json_kv_str(s->j, "SubmissionDateTime", t);
	json_kv_str(s->j, "SubmissionUser", m->user);
	json_kv_str(s->j, "CreatorUid", m->creator_uid);
	json_kv_str(s->j, "Size", size);
	dp_json_keywords(s->j, m->keywords);
	json_kv_str(s->j, "Tool", m->public ? "public" : "private");
	json_obj_end(s->j);
	return (++s->n == DP_SEARCH_MAX);
}

static void
dp_search(struct api_req *req, void *arg)
{
	struct api		*api = arg;
	struct marti_who	 who;
	struct evkeyvalq	 kv;
	struct dp_search	 s;
	struct json		 j;
	const char		*tool;
	char			 out[GROUPLIST_STR_MAX];

	if (api->pkgs == NULL) {
		dp_refuse(req, &api->cnt.pkg_ref_error, 503, "the data package "
		    "store is not available");
		return;
	}
	if (dp_who(req, &who, out, sizeof(out)) == -1 ||
	    dp_query(req, &kv) == -1)
		return;
	memset(&s, 0, sizeof(s));
	s.who = &who;
	s.out = out;
	s.j = &j;
	s.keywords = evhttp_find_header(&kv, "keywords");
	if (s.keywords == NULL)
		s.keywords = evhttp_find_header(&kv, "keyword");
	if (s.keywords != NULL && s.keywords[0] == '\0')
		s.keywords = NULL;
	tool = evhttp_find_header(&kv, "tool");
	s.tool = tool == NULL || tool[0] == '\0' ? -1 :
	    strcasecmp(tool, "public") == 0 ? 1 :
	    strcasecmp(tool, "private") == 0 ? 0 : -2;
	json_init(&j);
	json_obj_begin(&j);
	json_key(&j, "results");
	json_arr_begin(&j);
	/* An unknown tool matches nothing, as in the official server. */
	if (s.tool != -2 && pkgstore_foreach(api->pkgs, dp_search_one,
	    &s) == -1) {
		evhttp_clear_headers(&kv);
		json_free(&j);
		dp_refuse(req, &api->cnt.pkg_ref_error, 500, "the data package "
		    "store failed (see the log)");
		return;
	}
	evhttp_clear_headers(&kv);
	json_arr_end(&j);
	json_kv_uint(&j, "resultCount", s.n);
	json_obj_end(&j);
	if (j.err)
		api_req_reply_text(req, 500, NULL);
	else
		api_req_reply(req, 200, DP_JSON, j.buf, j.len);
	json_free(&j);
}

/* Whether the requester may change or delete m: 0, or answered 403. */
static int
dp_owner(struct api_req *req, const struct marti_who *who,
    const struct pkg_meta *m, const char *what)
{
	struct api	*api = api_req_api(req);

	if (who->admin || (who->user[0] != '\0' &&
	    strcmp(who->user, m->user) == 0))
		return (0);
	dp_refuse(req, &api->cnt.pkg_ref_forbidden, 403, "only its uploader "
	    "(\"%s\") or an admin may %s package %s", m->user, what, m->hash);
	return (-1);
}

/* PUT /Marti/api/sync/metadata/{hash}/tool, body "public" or "private". */
static void
dp_tool(struct api_req *req, void *arg)
{
	struct api		*api = arg;
	struct marti_who	 who;
	struct pkg_meta		 m;
	const unsigned char	*body;
	const char		*p = api_req_path(req) + strlen(DP_META_PREFIX);
	char			 out[GROUPLIST_STR_MAX], hash[PKG_HASH_HEX];
	char			 flag[DP_FLAG_MAX];
	size_t			 len, a = 0, b;
	bool			 pub;

	if (strlen(p) != PKG_HASH_HEX - 1 + strlen("/tool") ||
	    strcmp(p + PKG_HASH_HEX - 1, "/tool") != 0) {
		api_req_reply_text(req, 404, NULL);
		return;
	}
	memcpy(hash, p, PKG_HASH_HEX - 1);
	hash[PKG_HASH_HEX - 1] = '\0';
	if (api->pkgs == NULL) {
		dp_refuse(req, &api->cnt.pkg_ref_error, 503, "the data package "
		    "store is not available");
		return;
	}
	if (!pkgstore_hash_ok(hash)) {
		dp_refuse(req, &api->cnt.pkg_ref_bad, 400, "not a SHA-256 in "
		    "the path");
		return;
	}
	pkgstore_hash_lower(hash);
	body = api_req_body(req, &len);
	while (a < len && isspace(body[a]))
		a++;
	for (b = len; b > a && isspace(body[b - 1]); b--)
		;
	if (b - a >= sizeof(flag)) {
		dp_refuse(req, &api->cnt.pkg_ref_bad, 400, "the body must be "
		    "\"public\" or \"private\"");
		return;
	}
	memcpy(flag, body + a, b - a);
	flag[b - a] = '\0';
	if (strcasecmp(flag, "public") == 0)
		pub = true;
	else if (strcasecmp(flag, "private") == 0)
		pub = false;
	else {
		dp_refuse(req, &api->cnt.pkg_ref_bad, 400, "the body must be "
		    "\"public\" or \"private\"");
		return;
	}
	if (dp_who(req, &who, out, sizeof(out)) == -1 ||
	    dp_visible(req, hash, out, &who, &m) == -1 ||
	    dp_owner(req, &who, &m, "change") == -1)
		return;
	if (pkgstore_set_public(api->pkgs, hash, pub) != 0) {
		dp_refuse(req, &api->cnt.pkg_ref_error, 500, "the data package "
		    "store failed (see the log)");
		return;
	}
	dp_log(req, LOG_INFO, "package %s is now %s", hash, pub ? "public" :
	    "private");
	api_req_reply_text(req, 200, pub ? "public\n" : "private\n");
}

static void
dp_delete(struct api_req *req, void *arg)
{
	struct api		*api = arg;
	struct marti_who	 who;
	struct pkg_meta		 m;
	char			 out[GROUPLIST_STR_MAX], hash[PKG_HASH_HEX];

	if (dp_ask(req, &who, out, sizeof(out), hash) == -1 ||
	    dp_visible(req, hash, out, &who, &m) == -1 ||
	    dp_owner(req, &who, &m, "delete") == -1)
		return;
	switch (pkgstore_delete(api->pkgs, hash)) {
	case 0:
		break;
	case PKG_ERR_NOTFOUND:
		dp_refuse(req, &api->cnt.pkg_ref_not_found, 404, "no package "
		    "%s", hash);
		return;
	default:
		dp_refuse(req, &api->cnt.pkg_ref_error, 500, "the data package "
		    "store failed (see the log)");
		return;
	}
	dp_log(req, LOG_INFO, "package \"%s\" %s deleted (%llu bytes)",
	    m.name, hash, (unsigned long long)m.size);
	api_req_reply_text(req, 200, "deleted\n");
}

int
dp_get_init(struct api *api, struct api_http *http)
{
	if (api_http_route(http, "/Marti/sync/content", API_GET, dp_content,
	    api) == -1 ||
	    api_http_route(http, "/Marti/sync/missionquery", API_GET,
	    dp_missionquery, api) == -1 ||
	    api_http_route(http, "/Marti/sync/search", API_GET, dp_search,
	    api) == -1 ||
	    api_http_route(http, "/Marti/sync/delete", API_DELETE | API_POST,
	    dp_delete, api) == -1 ||
	    api_http_route_prefix(http, DP_META_PREFIX, API_PUT, dp_tool,
	    api) == -1)
		return (-1);
	return (0);
}
