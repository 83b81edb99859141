/*
 * Certificate enrollment on [api] enroll_listen (8446, server TLS only):
 * the route table the enrollment handlers plug into (docs/api.md,
 * "Enrollment").
 *
 * This process serves GET /Marti/api/tls/profile/enrollment (204: no
 * profile package is configured).  The other routes, GET
 * /Marti/api/tls/config and POST /Marti/api/tls/signClient(/v2) with HTTP
 * Basic against the users file, are built from the enrollment modules
 * (api/basic_auth.h, api/throttle.h, api/accept.h, api/query.h,
 * api/csr_body.h, api/enroll_reply.h) and the signer client, in
 * api/enroll_routes.c: api_enroll_init() calls its
 * enroll_routes_register() after its own routes.  What a handler gets is
 * api/http.h: the peer, the raw Authorization header, the query string,
 * the body (at most [api] max_body), and a reply now or later (signing
 * answers from the control channel).
 */
#ifndef TAKD_API_ENROLL_H
#define TAKD_API_ENROLL_H

#include "api/http.h"

#define ENROLL_PROFILE_PATH	"/Marti/api/tls/profile/enrollment"

/*
 * api/enroll_routes.c: add the enrollment routes to http
 * (api_http_route(), maybe api_http_guard()).  0, or -1 logged: the api
 * process does not start (exit 2).
 */
int	 enroll_routes_register(struct api *, struct api_http *);
/*
 * A new channel to takd-signer (takes fd; -1: none): the signings in
 * flight on the old one are answered 503.
 */
void	 enroll_routes_signer(struct api *, int fd);
/* The throttle's gauges into api->cnt (before a status reply). */
void	 enroll_routes_counters(struct api *);
/* Everything, the requests held answered to nobody (teardown). */
void	 enroll_routes_free(struct api *);

#endif
