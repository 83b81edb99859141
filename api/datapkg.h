/*
 * Data packages over HTTPS on 8443 (issue 18, docs/datapackages.md): what
 * ATAK and iTAK do to share a file through the server.  The store is
 * shared/pkgstore.h; this is its HTTP side in the api process.
 *
 *   datapkg.c		uploads: POST /Marti/sync/missionupload (ATAK,
 *			multipart) and /Marti/sync/upload (iTAK, raw body),
 *			streamed to a temp file while SHA-256 is computed
 *   datapkg_get.c	GET /Marti/sync/content, missionquery, search;
 *			PUT /Marti/api/sync/metadata/{hash}/tool;
 *			DELETE /Marti/sync/delete
 *
 * Who may see a package: its uploaders' IN-half groups meet the
 * requester's OUT half, or it is public, or the requester is an admin of
 * the users file.  Anything else is answered 404, as if it were absent.
 */
#ifndef TAKD_API_DATAPKG_H
#define TAKD_API_DATAPKG_H

#include <stdarg.h>
#include <stdint.h>

#include "api/marti.h"
#include "shared/pkgstore.h"

#define DP_TEXT		"text/plain; charset=utf-8"
#define DP_JSON		"application/json; charset=utf-8"
#define DP_QUERY_MAX	4096	/* bytes of a query string */

struct api;
struct api_http;
struct api_req;
struct evkeyvalq;

/* datapkg.c: the routes of both files on 8443; -1 logged. */
int	 api_datapkg_init(struct api *, struct api_http *);
/* The store in force (api.c opens it); NULL: answered 503. */
struct pkgstore *dp_store(struct api *);
/*
 * A log line of a request on packages: "datapkg: PEER user U serial S:
 * ..." at LOG_WARNING (refusals) or LOG_INFO.
 */
void	 dp_log(struct api_req *, int prio, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Answer a refusal: its counter, the log line, code and text. */
void	 dp_refuse(struct api_req *, uint64_t *counter, int code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The query as pairs (libevent's parser): 0, or -1 answered 400. */
int	 dp_query(struct api_req *, struct evkeyvalq *);
/*
 * The hash= of a query, 64 hex digits lowered into out: 0, or -1
 * answered 400 (absent or malformed).
 */
int	 dp_query_hash(struct api_req *, struct evkeyvalq *, char *out);
/* https://HOST:PORT/Marti/sync/content?hash=H, as ATAK expects it. */
void	 dp_content_url(struct api *, const char *hash, char *buf, size_t);
/* "2026-01-02T03:04:05.678Z" */
void	 dp_time(int64_t ms, char *buf, size_t len);
/* "Keywords": ["a", "b"] from "a,b", into an object being written. */
struct json;
void	 dp_json_keywords(struct json *, const char *keywords);
/* The requester's OUT-half groups, "A,B"; -1 answered 403. */
int	 dp_who(struct api_req *, struct marti_who *, char *out, size_t len);

/* datapkg_get.c */
int	 dp_get_init(struct api *, struct api_http *);

#endif
