/*
 * Data package uploads on 8443 (datapkg.h, docs/datapackages.md).
 *
 *   POST /Marti/sync/missionupload?hash=H&filename=F&creatorUid=U
 *	ATAK: multipart/form-data, the file in the part named assetfile
 *	(api/multipart.h); answer the download URL as text/plain, as the
 *	official server's MissionPackageUploadServlet does.
 *   POST /Marti/sync/upload?name=N&keywords=K&creatorUid=U
 *	iTAK: the file is the body, its type the Content-Type; answer the
 *	metadata as JSON, as the official server's UploadServlet does.
 *
 * Both stream (api/http.h, "streaming routes"): the head is checked first
 * (certificate, query, room under the quotas for Content-Length), the body
 * goes to a temp file of the store (pkgstore_tmp_create) while its SHA-256
 * is computed (EVP), and the store takes the finished file
 * (pkgstore_commit: content-addressed, one copy of the same bytes).  A
 * refused, stalled or abandoned upload leaves nothing: its temp file is
 * removed when it is refused, or when the request is let go of.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/evp.h>

#include "api/api_int.h"
#include "api/datapkg.h"
#include "api/http.h"
#include "api/multipart.h"
#include "shared/clock.h"
#include "shared/json.h"
#include "shared/log.h"
#include "worker/tls.h"

#define DP_UP_MAGIC		0x44505550u	/* "DPUP" */
#define DP_DEFAULT_MIME		"application/octet-stream"
#define DP_MISSION_MIME		"application/x-zip-compressed"
/*
 * What an upload gathers before it hashes and writes: the multipart
 * splitter hands out the file in pieces cut at every CR (one in 256 bytes
 * of a zip), which written one by one cost a system call each (10 ms of
 * CPU per MiB, measured); gathered, 0.1 % of that.
 */
#define DP_WBUF			(128 * 1024)

enum dp_kind {
	DP_MISSION,		/* ATAK: multipart */
	DP_ITAK			/* iTAK: the raw body */
};

/* An upload under way: the request's stream state. */
struct dp_up {
	unsigned	 magic;
	struct api	*api;
	struct api_req	*req;
	enum dp_kind	 kind;
	int		 fd;
	char		 tmp[PATH_MAX];		/* "": none (any more) */
	EVP_MD_CTX	*md;
	uint64_t	 size;
	unsigned char	*wbuf;		/* DP_WBUF: bytes not yet written */
	size_t		 wlen;
	struct multipart mp;
	struct pkg_meta	 meta;
	char		 want[PKG_HASH_HEX];	/* hash= given, lowered */
	/* A refusal taken while the body came; answered when it is whole. */
	int		 code;
	uint64_t	*counter;
	char		 msg[320];
};

static struct api_stream_ops	 dp_ops[2];

static int	 dp_up_refuse(struct dp_up *, uint64_t *, int, const char *,
		    ...) __attribute__((format(printf, 4, 5)));

struct pkgstore *
dp_store(struct api *api)
{
	return (api->pkgs);
}

void
dp_log(struct api_req *req, int prio, const char *fmt, ...)
{
	const struct tls_peer	*p = api_req_tls_peer(req);
	va_list			 ap;
	char			 msg[512];

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (prio == LOG_INFO)
		log_info("datapkg: %s: user \"%s\" serial %s: %s",
		    api_req_peer(req), p != NULL ? p->user : "",
		    p != NULL ? p->serial_hex : "-", msg);
	else
		log_warnx("datapkg: %s: user \"%s\" serial %s: %s",
		    api_req_peer(req), p != NULL ? p->user : "",
		    p != NULL ? p->serial_hex : "-", msg);
}

void
dp_refuse(struct api_req *req, uint64_t *counter, int code, const char *fmt,
    ...)
{
	va_list	 ap;
	char	 msg[384];

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (counter != NULL)
		(*counter)++;
	dp_log(req, LOG_WARNING, "%s %s: %d: %s", api_req_method(req) ==
	    API_GET ? "GET" : api_req_method(req) == API_POST ? "POST" :
	    api_req_method(req) == API_PUT ? "PUT" : api_req_method(req) ==
	    API_DELETE ? "DELETE" : "HEAD", api_req_path(req), code, msg);
	snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "\n");
	api_req_reply_text(req, code, msg);
}

/* libevent's headers leave out <sys/queue.h>'s TAILQ_INIT. */
static void
dp_kv_init(struct evkeyvalq *kv)
{
	kv->tqh_first = NULL;
	kv->tqh_last = &kv->tqh_first;
}

int
dp_query(struct api_req *req, struct evkeyvalq *kv)
{
	struct api	*api = api_req_api(req);
	const char	*q = api_req_query(req);

	dp_kv_init(kv);
	if (q == NULL)
		return (0);
	if (strlen(q) > DP_QUERY_MAX || evhttp_parse_query_str(q, kv) == -1) {
		evhttp_clear_headers(kv);
		dp_refuse(req, &api->cnt.pkg_ref_bad, 400, "malformed query "
		    "string");
		return (-1);
	}
	return (0);
}

/* hash= of kv into out (lowered): 0, 1 absent, -1 malformed. */
static int
dp_hash_of(struct evkeyvalq *kv, char *out)
{
	const char	*h;

	out[0] = '\0';
	if ((h = evhttp_find_header(kv, "hash")) == NULL || h[0] == '\0')
		return (1);
	if (!pkgstore_hash_ok(h))
		return (-1);
	snprintf(out, PKG_HASH_HEX, "%s", h);
	pkgstore_hash_lower(out);
	return (0);
}

int
dp_query_hash(struct api_req *req, struct evkeyvalq *kv, char *out)
{
	struct api	*api = api_req_api(req);

	switch (dp_hash_of(kv, out)) {
	case 0:
		return (0);
	case 1:
		dp_refuse(req, &api->cnt.pkg_ref_bad, 400, "no hash= in the "
		    "query");
		return (-1);
	}
	dp_refuse(req, &api->cnt.pkg_ref_bad, 400, "hash= is not 64 hex "
	    "digits (a SHA-256)");
	return (-1);
}

void
dp_content_url(struct api *api, const char *hash, char *buf, size_t len)
{
	char		 host[256];
	unsigned	 port = 8443;
	size_t		 i;

	marti_hostname(api, host, sizeof(host));
	/* The port bound ([api] listen may say 0: the kernel's choice). */
	for (i = 0; i < api->args->n_fds; i++)
		if (api->args->fds[i].port == API_PORT_MARTI) {
			port = api->args->fds[i].portno;
			break;
		}
	snprintf(buf, len, "https://%s%s%s:%u/Marti/sync/content?hash=%s",
	    strchr(host, ':') != NULL ? "[" : "", host,
	    strchr(host, ':') != NULL ? "]" : "", port, hash);
}

void
dp_time(int64_t ms, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 t = (time_t)(ms / 1000);

	if (ms < 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(buf, len, "1970-01-01T00:00:00");
	snprintf(buf + strlen(buf), len - strlen(buf), ".%03uZ",
	    (unsigned)(ms < 0 ? 0 : ms % 1000));
}

int
dp_who(struct api_req *req, struct marti_who *who, char *out, size_t len)
{
	if (marti_groups(req, who) == -1)
		return (-1);
	if (marti_halves(who, USERS_OUT, out, len) == -1) {
		dp_refuse(req, &api_req_api(req)->cnt.pkg_ref_error, 500,
		    "too many groups");
		return (-1);
	}
	return (0);
}

/* --- an upload's state -------------------------------------------- */

/* A refusal while the body comes: the temp file goes at once. */
static int
dp_up_refuse(struct dp_up *up, uint64_t *counter, int code, const char *fmt,
    ...)
{
	va_list	 ap;

	if (up->code != 0)
		return (up->code);
	va_start(ap, fmt);
	(void)vsnprintf(up->msg, sizeof(up->msg), fmt, ap);
	va_end(ap);
	up->code = code;
	up->counter = counter;
	if (up->fd != -1) {
		close(up->fd);
		up->fd = -1;
	}
	if (up->tmp[0] != '\0' && up->api->pkgs != NULL) {
		(void)pkgstore_tmp_remove(up->api->pkgs, up->tmp);
		up->tmp[0] = '\0';
	}
	return (code);
}

/* Bytes of the file: hashed and written. */
static int
dp_up_out(struct dp_up *up, const unsigned char *p, size_t n)
{
	ssize_t	 w;
	int	 err;

	if (up->code != 0)
		return (-1);
	if (EVP_DigestUpdate(up->md, p, n) != 1) {
		dp_up_refuse(up, &up->api->cnt.pkg_ref_error, 500, "SHA-256 "
		    "failed");
		return (-1);
	}
	while (n > 0) {
		if ((w = write(up->fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			err = errno;
			if (err == ENOSPC || err == EDQUOT)
				dp_up_refuse(up, &up->api->cnt.pkg_ref_disk_full,
				    507, "the disk of the data package store "
				    "is full (%s)", strerror(err));
			else if (err == EFBIG)
				dp_up_refuse(up, &up->api->cnt.pkg_ref_disk_full,
				    507, "the store cannot hold a file this "
				    "large (%s)", strerror(err));
			else
				dp_up_refuse(up, &up->api->cnt.pkg_ref_error,
				    500, "cannot write the upload: %s",
				    strerror(err));
			return (-1);
		}
		p += w;
		n -= (size_t)w;
	}
	return (0);
}

/* What the buffer holds, out. */
static int
dp_up_flush(struct dp_up *up)
{
	size_t	 n = up->wlen;

	up->wlen = 0;
	return (n > 0 ? dp_up_out(up, up->wbuf, n) : 0);
}

/* The file's next bytes: gathered, hashed and written DP_WBUF at a time. */
static int
dp_up_write(struct dp_up *up, const unsigned char *p, size_t n)
{
	size_t	 take;

	if (up->code != 0)
		return (-1);
	up->size += n;
	if (n >= DP_WBUF)
		return (dp_up_flush(up) == -1 ? -1 : dp_up_out(up, p, n));
	while (n > 0) {
		take = DP_WBUF - up->wlen < n ? DP_WBUF - up->wlen : n;
		memcpy(up->wbuf + up->wlen, p, take);
		up->wlen += take;
		p += take;
		n -= take;
		if (up->wlen == DP_WBUF && dp_up_flush(up) == -1)
			return (-1);
	}
	return (0);
}

static int
dp_mp_cb(const unsigned char *p, size_t n, void *arg)
{
	return (dp_up_write(arg, p, n));
}

static void
dp_up_free(struct dp_up *up)
{
	if (up == NULL)
		return;
	if (up->fd != -1)
		close(up->fd);
	if (up->tmp[0] != '\0' && up->api->pkgs != NULL)
		(void)pkgstore_tmp_remove(up->api->pkgs, up->tmp);
	EVP_MD_CTX_free(up->md);
	free(up->wbuf);
	up->magic = 0;
	free(up);
}

/* A field of the query into buf (len with the NUL): -1 when too long. */
static int
dp_field(struct evkeyvalq *kv, const char *name, char *buf, size_t len)
{
	const char	*v;

	buf[0] = '\0';
	if ((v = evhttp_find_header(kv, name)) == NULL)
		return (0);
	if (strlen(v) >= len)
		return (-1);
	memcpy(buf, v, strlen(v) + 1);
	return (0);
}

/*
 * The head is in: who, the query, room under the quotas; the temp file,
 * the digest, the multipart splitter.  0 or a refusal (dp_up_refuse).
 */
static int
dp_up_head(struct dp_up *up, struct api_req *req)
{
	struct api		*api = up->api;
	struct evkeyvalq	 kv;
	struct marti_who	 who;
	const char		*cl, *ct, *tool;
	char			*end, err[256];
	uint64_t		 want_len = 0;
	int			 rc;

	dp_kv_init(&kv);
	if (api->pkgs == NULL)
		return (dp_up_refuse(up, &api->cnt.pkg_ref_error, 503, "the "
		    "data package store is not available"));
	if (marti_who(req, &who) == -1)
		return (dp_up_refuse(up, &api->cnt.pkg_ref_bad, 403, "the "
		    "certificate names no single user"));
	snprintf(up->meta.user, sizeof(up->meta.user), "%s", who.user);
	if (marti_halves(&who, USERS_IN, up->meta.groups,
	    sizeof(up->meta.groups)) == -1)
		return (dp_up_refuse(up, &api->cnt.pkg_ref_error, 500, "too "
		    "many groups"));
	if (api_req_query(req) != NULL && (strlen(api_req_query(req)) >
	    DP_QUERY_MAX || evhttp_parse_query_str(api_req_query(req),
	    &kv) == -1)) {
		evhttp_clear_headers(&kv);
		return (dp_up_refuse(up, &api->cnt.pkg_ref_bad, 400,
		    "malformed query string"));
	}
	rc = dp_hash_of(&kv, up->want);
	if (rc == -1) {
		evhttp_clear_headers(&kv);
		return (dp_up_refuse(up, &api->cnt.pkg_ref_bad, 400, "hash= is "
		    "not 64 hex digits (a SHA-256)"));
	}
	if (dp_field(&kv, up->kind == DP_MISSION ? "filename" : "name",
	    up->meta.name, sizeof(up->meta.name)) == -1 ||
	    dp_field(&kv, "creatorUid", up->meta.creator_uid,
	    sizeof(up->meta.creator_uid)) == -1 ||
	    dp_field(&kv, up->kind == DP_MISSION ? "keyword" : "keywords",
	    up->meta.keywords, sizeof(up->meta.keywords)) == -1 ||
	    (up->kind == DP_MISSION && dp_field(&kv, "mimetype",
	    up->meta.mime, sizeof(up->meta.mime)) == -1)) {
		evhttp_clear_headers(&kv);
		return (dp_up_refuse(up, &api->cnt.pkg_ref_bad, 400, "a query "
		    "parameter too long"));
	}
	/* What ATAK lists a server's packages by, as the official server. */
	if (up->kind == DP_MISSION && up->meta.keywords[0] == '\0')
		snprintf(up->meta.keywords, sizeof(up->meta.keywords),
		    "missionpackage");
	/* Private (the uploader's groups) unless asked: not TAK's default. */
	tool = evhttp_find_header(&kv, "tool");
	up->meta.public = tool != NULL && strcasecmp(tool, "public") == 0;
	evhttp_clear_headers(&kv);
	if (up->meta.name[0] != '\0' && !pkgstore_name_ok(up->meta.name))
		return (dp_up_refuse(up, &api->cnt.pkg_ref_bad, 400, "file name "
		    "refused (a name, not a path: no '/', '\\\\', control "
		    "character, \".\" or \"..\")"));
	if (up->kind == DP_ITAK && up->meta.name[0] == '\0')
		return (dp_up_refuse(up, &api->cnt.pkg_ref_bad, 400, "no "
		    "name= in the query"));
	ct = api_req_header(req, "Content-Type");
	if (up->kind == DP_MISSION) {
		if (multipart_init(&up->mp, ct, dp_mp_cb, up) == -1)
			return (dp_up_refuse(up, &api->cnt.pkg_ref_bad, 400,
			    "%s", up->mp.err));
	} else if (up->meta.mime[0] == '\0' && ct != NULL &&
	    strlen(ct) < sizeof(up->meta.mime))
		snprintf(up->meta.mime, sizeof(up->meta.mime), "%s", ct);
	/* Room for what Content-Length announces (commit checks again). */
	if ((cl = api_req_header(req, "Content-Length")) != NULL) {
		errno = 0;
		want_len = strtoull(cl, &end, 10);
		if (errno != 0 || end == cl || *end != '\0')
			want_len = 0;
	}
	switch (pkgstore_room(api->pkgs, up->meta.user, want_len)) {
	case 0:
		break;
	case PKG_ERR_QUOTA:
		return (dp_up_refuse(up, &api->cnt.pkg_ref_quota, 507, "the "
		    "data package store is full: %llu more bytes would pass "
		    "[api] quota", (unsigned long long)want_len));
	case PKG_ERR_USER_QUOTA:
		return (dp_up_refuse(up, &api->cnt.pkg_ref_user_quota, 413,
		    "%llu more bytes would pass your share of the store "
		    "([api] user_quota; %llu bytes used)",
		    (unsigned long long)want_len, (unsigned long long)
		    pkgstore_user_usage(api->pkgs, up->meta.user)));
	default:
		return (dp_up_refuse(up, &api->cnt.pkg_ref_error, 500, "the "
		    "data package store failed (see the log)"));
	}
	if ((up->fd = pkgstore_tmp_create(api->pkgs, up->tmp,
	    sizeof(up->tmp))) < 0) {
		up->fd = -1;
		up->tmp[0] = '\0';
		snprintf(err, sizeof(err), "cannot make a temp file");
		return (dp_up_refuse(up, &api->cnt.pkg_ref_disk_full, 507,
		    "%s: the disk of the data package store is full or "
		    "unwritable", err));
	}
	if ((up->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(up->md, EVP_sha256(), NULL) != 1)
		return (dp_up_refuse(up, &api->cnt.pkg_ref_error, 500,
		    "SHA-256 unavailable"));
	if ((up->wbuf = malloc(DP_WBUF)) == NULL)
		return (dp_up_refuse(up, &api->cnt.pkg_ref_error, 503,
		    "out of memory"));
	return (0);
}

static int
dp_begin(struct api_req *req, struct api *api, enum dp_kind kind)
{
	struct dp_up	*up;

	if ((up = calloc(1, sizeof(*up))) == NULL) {
		log_warnx("datapkg: %s: out of memory", api_req_peer(req));
		return (503);
	}
	up->magic = DP_UP_MAGIC;
	up->api = api;
	up->req = req;
	up->kind = kind;
	up->fd = -1;
	api_req_set_stream_state(req, up);
	return (dp_up_head(up, req));
}

static int
dp_begin_mission(struct api_req *req, void *arg)
{
	return (dp_begin(req, arg, DP_MISSION));
}

static int
dp_begin_itak(struct api_req *req, void *arg)
{
	return (dp_begin(req, arg, DP_ITAK));
}

static int
dp_data(struct api_req *req, const unsigned char *p, size_t n, void *arg)
{
	struct dp_up	*up = api_req_stream_state(req);

	if (up == NULL || up->magic != DP_UP_MAGIC)
		return (500);
	if (up->code != 0)
		return (up->code);
	if (up->kind == DP_MISSION) {
		if (multipart_feed(&up->mp, p, n) == -1 && up->code == 0)
			dp_up_refuse(up, &up->api->cnt.pkg_ref_bad, 400,
			    "invalid multipart body: %s", up->mp.err);
	} else
		(void)dp_up_write(up, p, n);
	return (up->code);
}

/* The request is let go of: an upload that did not finish leaves nothing. */
static void
dp_release(struct api_req *req, void *arg)
{
	struct dp_up	*up = api_req_stream_state(req);
	struct api	*api = arg;

	if (up == NULL || up->magic != DP_UP_MAGIC)
		return;
	api_req_set_stream_state(req, NULL);
	switch (api_req_stream_end(req)) {
	case API_STREAM_ANSWERED:
		break;
	case API_STREAM_GONE:
		api->cnt.pkg_ref_aborted++;
		dp_log(req, LOG_WARNING, "upload broken off after %llu bytes: "
		    "nothing kept", (unsigned long long)api_req_body_bytes(req));
		break;
	case API_STREAM_STALLED:
		api->cnt.pkg_ref_stalled++;
		dp_log(req, LOG_WARNING, "upload stalled after %llu bytes "
		    "([api] timeout): nothing kept",
		    (unsigned long long)api_req_body_bytes(req));
		break;
	case API_STREAM_TOO_LARGE:
		api->cnt.pkg_ref_too_large++;
		break;
	}
	dp_up_free(up);
}

void
dp_json_keywords(struct json *j, const char *keywords)
{
	char		 word[PKG_KEYWORDS_SIZE];
	const char	*pos, *comma;
	size_t		 len;

	json_key(j, "Keywords");
	json_arr_begin(j);
	for (pos = keywords; *pos != '\0'; pos += len + (comma != NULL)) {
		comma = strchr(pos, ',');
		len = comma != NULL ? (size_t)(comma - pos) : strlen(pos);
		if (len >= sizeof(word))
			break;
		memcpy(word, pos, len);
		word[len] = '\0';
		if (len > 0)
			json_str(j, word);
	}
	json_arr_end(j);
}

/* iTAK's answer: the official server's Metadata.toJSONObject() fields. */
static void
dp_reply_itak(struct api_req *req, const struct pkg_meta *m)
{
	struct json	 j;
	char		 t[40], size[24];

	dp_time(m->submitted_ms, t, sizeof(t));
	/* Size is a string there too (Metadata holds strings). */
	snprintf(size, sizeof(size), "%llu", (unsigned long long)m->size);
	json_init(&j);
	json_obj_begin(&j);
	json_kv_str(&j, "UID", m->hash);
	json_kv_str(&j, "Name", m->name);
	json_kv_str(&j, "Hash", m->hash);
	json_kv_str(&j, "MIMEType", m->mime[0] != '\0' ? m->mime :
	    DP_DEFAULT_MIME);
	json_kv_str(&j, "SubmissionDateTime", t);
	json_kv_str(&j, "SubmissionUser", m->user);
	json_kv_str(&j, "CreatorUid", m->creator_uid);
	json_kv_str(&j, "Size", size);
	dp_json_keywords(&j, m->keywords);
	json_kv_str(&j, "Tool", m->public ? "public" : "private");
	json_obj_end(&j);
	if (j.err)
		api_req_reply_text(req, 500, NULL);
	else
		api_req_reply(req, 200, DP_JSON, j.buf, j.len);
	json_free(&j);
}

/* The body is whole: check, store, answer. */
static void
dp_upload(struct api_req *req, void *arg)
{
	struct api	*api = arg;
	struct dp_up	*up = api_req_stream_state(req);
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned	 mdlen = 0, i;
	char		 got[PKG_HASH_HEX], url[512], err[256];
	bool		 existed = false;
	int		 rc;

	if (up == NULL || up->magic != DP_UP_MAGIC) {
		dp_refuse(req, &api->cnt.pkg_ref_error, 500, "no upload state");
		return;
	}
	if (up->code == 0 && up->kind == DP_MISSION &&
	    multipart_finish(&up->mp) == -1)
		dp_up_refuse(up, &api->cnt.pkg_ref_bad, 400, "invalid multipart "
		    "body: %s", up->mp.err);
	if (up->code == 0)
		(void)dp_up_flush(up);	/* refuses on a failure */
	if (up->code == 0 && up->kind == DP_MISSION) {
		/* The query's filename=, else the part's. */
		if (up->meta.name[0] == '\0')
			snprintf(up->meta.name, sizeof(up->meta.name), "%s",
			    up->mp.filename);
		if (up->meta.mime[0] == '\0')
			snprintf(up->meta.mime, sizeof(up->meta.mime), "%s",
			    up->mp.ctype[0] != '\0' ? up->mp.ctype :
			    DP_MISSION_MIME);
		if (!pkgstore_name_ok(up->meta.name))
			dp_up_refuse(up, &api->cnt.pkg_ref_bad, 400, "file name "
			    "refused (absent, or not a plain name: no '/', "
			    "'\\\\', control character, \".\" or \"..\")");
	}
	if (up->code == 0 && (EVP_DigestFinal_ex(up->md, md, &mdlen) != 1 ||
	    mdlen != PKG_HASH_LEN))
		dp_up_refuse(up, &api->cnt.pkg_ref_error, 500, "SHA-256 failed");
	if (up->code == 0) {
		for (i = 0; i < mdlen; i++)
			snprintf(got + 2 * i, 3, "%02x", md[i]);
		if (up->want[0] != '\0' && strcmp(up->want, got) != 0)
			dp_up_refuse(up, &api->cnt.pkg_ref_hash, 400, "hash "
			    "mismatch: the body's SHA-256 is %s, hash= says %s",
			    got, up->want);
	}
	if (up->code != 0) {
		dp_refuse(req, up->counter, up->code, "%s", up->msg);
		return;
	}
	memcpy(up->meta.hash, got, sizeof(got));
	up->meta.size = up->size;
	up->meta.submitted_ms = clock_wall_ms();
	if (!pkgstore_meta_ok(&up->meta, err, sizeof(err))) {
		dp_refuse(req, &api->cnt.pkg_ref_bad, 400, "%s", err);
		return;
	}
	close(up->fd);
	up->fd = -1;
	rc = pkgstore_commit(api->pkgs, up->tmp, &up->meta, &existed);
	up->tmp[0] = '\0';		/* gone either way */
	switch (rc) {
	case 0:
		break;
	case PKG_ERR_QUOTA:
		dp_refuse(req, &api->cnt.pkg_ref_quota, 507, "the data package "
		    "store is full: %llu more bytes would pass [api] quota",
		    (unsigned long long)up->size);
		return;
	case PKG_ERR_USER_QUOTA:
		dp_refuse(req, &api->cnt.pkg_ref_user_quota, 413, "%llu more "
		    "bytes would pass your share of the store ([api] "
		    "user_quota)", (unsigned long long)up->size);
		return;
	case PKG_ERR_NOSPACE:
		dp_refuse(req, &api->cnt.pkg_ref_disk_full, 507, "the disk of "
		    "the data package store is full");
		return;
	case PKG_ERR_INVAL:
		dp_refuse(req, &api->cnt.pkg_ref_bad, 400, "refused by the "
		    "store: %s", pkgstore_strerror(rc));
		return;
	default:
		dp_refuse(req, &api->cnt.pkg_ref_error, 500, "the data package "
		    "store failed (see the log)");
		return;
	}
	api->cnt.pkg_uploads++;
	api->cnt.pkg_bytes_in += up->size;
	dp_log(req, LOG_INFO, "%s \"%s\" %s, %llu bytes, creatorUid \"%s\"%s",
	    up->kind == DP_MISSION ? "missionupload" : "upload",
	    up->meta.name, got, (unsigned long long)up->size,
	    up->meta.creator_uid, existed ? " (already stored: shared)" : "");
	if (up->kind == DP_ITAK) {
		if (existed && pkgstore_get(api->pkgs, got, &up->meta) != 0)
			memcpy(up->meta.hash, got, sizeof(got));
		dp_reply_itak(req, &up->meta);
		return;
	}
	dp_content_url(api, got, url, sizeof(url));
	api_req_reply(req, 200, DP_TEXT, url, strlen(url));
}

int
api_datapkg_init(struct api *api, struct api_http *http)
{
	size_t	 i;

	for (i = 0; i < 2; i++) {
		dp_ops[i].max = api->cfg->api_max_upload;
		dp_ops[i].begin = i == DP_MISSION ? dp_begin_mission :
		    dp_begin_itak;
		dp_ops[i].data = dp_data;
		dp_ops[i].release = dp_release;
	}
	/*
	 * Without streaming (another libevent: http_stream.c) uploads are
	 * not served, logged; the rest of 8443 is.
	 */
	if (api_http_streaming() && (api_http_route_stream(http,
	    "/Marti/sync/missionupload", API_POST, dp_upload, api,
	    &dp_ops[DP_MISSION]) == -1 || api_http_route_stream(http,
	    "/Marti/sync/upload", API_POST, dp_upload, api,
	    &dp_ops[DP_ITAK]) == -1))
		return (-1);
	if (!api_http_streaming())
		log_warnx("datapkg: libevent %s cannot stream request bodies: "
		    "uploads are not served (404)", event_get_version());
	return (dp_get_init(api, http));
}
