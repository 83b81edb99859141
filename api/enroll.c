/*
 * The enrollment listener's own routes and the place where the others
 * plug in: see enroll.h.
 */
#include <stddef.h>

#include "api/enroll.h"
#include "shared/log.h"

/*
 * The device profile a phone fetches after it enrolled
 * (?clientUid=...): a zip of settings when one is configured; none is
 * yet, so 204, which ATAK and iTAK take as "nothing to apply".
 */
static void
enroll_profile(struct api_req *req, void *arg)
{
	log_debug("enroll: %s: no enrollment profile configured: 204",
	    api_req_peer(req));
	api_req_reply(req, 204, NULL, NULL, 0);
}

int
api_enroll_init(struct api *api, struct api_http *http)
{
	if (api_http_route(http, ENROLL_PROFILE_PATH, API_GET, enroll_profile,
	    api) == -1)
		return (-1);
	return (enroll_routes_register(api, http));
}

void
api_enroll_signer(struct api *api, int fd)
{
	enroll_routes_signer(api, fd);
}

void
api_enroll_free(struct api *api)
{
	enroll_routes_free(api);
}
