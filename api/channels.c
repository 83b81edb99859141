/*
 * Channels on [api] listen (8443; docs/groups.md "Channels", docs/api.md):
 *
 *   PUT /Marti/api/groups/active?clientUid=U	the halves of the
 *		requester's groups it turns on (shared/channels.h); 200 once
 *		every worker put them in force on the user's live sessions
 *
 * (GET /Marti/api/groups/all shows the choice, and groupCacheEnabled says
 * that the server keeps it: marti.c.)
 *
 * Who may change what: the requester is its certificate's user, a user of
 * the users file with groups; it chooses among its own groups' halves only
 * (a half it does not have turned on: 403), and clientUid must be the uid
 * of one of its own live streaming sessions (another user's, or nobody's:
 * 403).  The api process never writes the choice: it hands it to the
 * supervisor (IPC_MSG_CHANNELS), which records it in LMDB and asks the
 * workers, and answers once they did (IPC_MSG_CHANNELS_ACK).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "api/http.h"
#include "api/query.h"
#include "shared/channels.h"
#include "shared/log.h"
#include "shared/store.h"
#include "shared/users.h"
#include "worker/tls.h"

#define API_CHANNELS_MAGIC	0x4143484eu	/* "ACHN" */
#define API_CHWAIT_MAGIC	0x41435754u	/* "ACWT" */
/* The supervisor answers within CHANPUSH_WAIT_MS (2 s): a backstop. */
#define API_CHWAIT_MS		6000
/* Requests waiting for the supervisor at once. */
#define API_CHWAIT_MAX		256
/* The uid's connections looked at (a uid is held by one, or a few). */
#define API_CHANNELS_CONNS	16

/* One PUT waiting for the supervisor. */
struct api_chwait {
	unsigned		 magic;
	struct api_chwait	*next;
	struct api_channels	*ch;
	uint32_t		 id;
	struct api_req		*req;
	struct event		*timer;
	char			 user[USERS_NAME_MAX];
};

struct api_channels {
	unsigned		 magic;
	struct api		*api;
	uint32_t		 next_id;
	size_t			 n_waits;
	struct api_chwait	*waits;
};

static void
api_chwait_free(struct api_channels *ch, struct api_chwait *cw)
{
	struct api_chwait	**pp;

	for (pp = &ch->waits; *pp != NULL; pp = &(*pp)->next)
		if (*pp == cw) {
			*pp = cw->next;
			ch->n_waits--;
			break;
		}
	event_free(cw->timer);
	cw->magic = 0;
	free(cw);
}

/* A refusal: counted, logged with the peer, the user and why. */
static void
api_channels_refuse(struct api_req *req, uint64_t *counter, int code,
    const char *user, const char *why)
{
	char	 body[512];

	(*counter)++;
	log_warnx("channels: %s: user \"%s\": %s: refused (%d)",
	    api_req_peer(req), user, why, code);
	snprintf(body, sizeof(body), "%s\n", why);
	api_req_reply_text(req, code, body);
}

/*
 * Whether uid is bound to a live session of user (the registry of every
 * worker).  1 yes, 0 no (the owner's user into other, "" for nobody),
 * -1 when the registry cannot be read.
 */
static int
api_channels_owner(struct api *api, const char *uid, const char *user,
    char *other, size_t otherlen)
{
	struct store_client	*sc;
	uint64_t		 ids[API_CHANNELS_CONNS];
	size_t			 n, i;
	int			 rc = 0;

	other[0] = '\0';
	if (api->store == NULL ||
	    store_lookup_uid(api->store, uid, ids, API_CHANNELS_CONNS, &n) ==
	    -1)
		return (-1);
	if ((sc = malloc(sizeof(*sc))) == NULL)
		return (-1);
	for (i = 0; i < n && i < API_CHANNELS_CONNS && rc == 0; i++) {
		if (store_get_client(api->store, ids[i], sc) != 0)
			continue;	/* gone meanwhile */
		if (strcmp(sc->user, user) == 0)
			rc = 1;
		else
			snprintf(other, otherlen, "%s", sc->user);
	}
	free(sc);
	return (rc);
}

static void
api_chwait_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct api_chwait	*cw = arg;

	if (cw->magic != API_CHWAIT_MAGIC)
		return;
	api_channels_refuse(cw->req, &cw->ch->api->cnt.api_channels_unavailable,
	    503, cw->user, "the supervisor did not answer in time");
	api_chwait_free(cw->ch, cw);
}

/* Hand the off set to the supervisor; the reply waits for its answer. */
static void
api_channels_send(struct api_channels *ch, struct api_req *req,
    const char *user, const char *uid, const struct channels_off *off)
{
	struct api		*api = ch->api;
	struct api_chwait	*cw = NULL;
	struct ipc_buf		*b = NULL;
	struct timeval		 tv = { API_CHWAIT_MS / 1000, 0 };
	char			 rec[CHANNELS_REC_MAX + 1];
	size_t			 len;

	if (ch->n_waits >= API_CHWAIT_MAX) {
		api_channels_refuse(req, &api->cnt.api_channels_unavailable,
		    503, user, "too many channel changes under way");
		return;
	}
	if (channels_encode(off, rec, sizeof(rec) - 1, &len) == -1 ||
	    (cw = calloc(1, sizeof(*cw))) == NULL ||
	    (b = malloc(sizeof(*b))) == NULL ||
	    (cw->timer = evtimer_new(api->base, api_chwait_timeout, cw)) ==
	    NULL) {
		free(cw);
		free(b);
		log_warnx("channels: %s: out of memory", api_req_peer(req));
		api_req_reply_text(req, 500, NULL);
		return;
	}
	rec[len] = '\0';
	cw->magic = API_CHWAIT_MAGIC;
	cw->ch = ch;
	cw->req = req;
	snprintf(cw->user, sizeof(cw->user), "%s", user);
	if ((cw->id = ++ch->next_id) == 0)
		cw->id = ++ch->next_id;
	cw->next = ch->waits;
	ch->waits = cw;
	ch->n_waits++;
	evtimer_add(cw->timer, &tv);
	ipc_buf_init(b);
	ipc_put_str(b, user);
	ipc_put_str(b, uid);
	ipc_put_str(b, rec);
	api_ctl_send(api, IPC_MSG_CHANNELS, cw->id, b->data, b->len);
	free(b);
}

static void
api_channels_put(struct api_req *req, void *arg)
{
	struct api_channels	*ch = arg;
	struct api		*api = ch->api;
	const struct tls_peer	*p = api_req_tls_peer(req);
	const struct users_user	*u = NULL;
	const unsigned char	*body;
	const char		*q, *why;
	struct query_enroll	 qe;
	struct channels_req	*cr = NULL;
	struct channels_off	 off;
	char			 err[300], other[USERS_NAME_MAX];
	size_t			 len;
	int			 rc;

	if (p == NULL || p->user_bad) {
		api_channels_refuse(req, &api->cnt.api_channels_forbidden, 403,
		    "", "the certificate names no single user");
		return;
	}
	if (p->user[0] != '\0' && api->users != NULL)
		u = users_find(api->users, p->user);
	if (u == NULL || u->n_groups == 0) {
		api_channels_refuse(req, &api->cnt.api_channels_forbidden, 403,
		    p->user, "not a user of the users file with groups: no "
		    "channels to choose");
		return;
	}
	q = api_req_query(req);
	if (query_enroll_parse(q, q != NULL ? strlen(q) : 0, &qe, &why) ==
	    -1) {
		api_channels_refuse(req, &api->cnt.api_channels_bad_request,
		    400, u->name, why);
		return;
	}
	if (qe.client_uid[0] == '\0') {
		api_channels_refuse(req, &api->cnt.api_channels_bad_request,
		    400, u->name, "clientUid is required");
		return;
	}
	body = api_req_body(req, &len);
	if (len > CHANNELS_BODY_MAX) {
		snprintf(err, sizeof(err), "a body of %zu bytes; at most %u "
		    "are taken", len, CHANNELS_BODY_MAX);
		api_channels_refuse(req, &api->cnt.api_channels_bad_request,
		    413, u->name, err);
		return;
	}
	if ((cr = malloc(sizeof(*cr))) == NULL) {
		api_req_reply_text(req, 500, NULL);
		return;
	}
	if (channels_parse((const char *)body, len, cr, err, sizeof(err)) ==
	    -1) {
		api_channels_refuse(req, &api->cnt.api_channels_bad_request,
		    400, u->name, err);
		goto done;
	}
	if ((rc = api_channels_owner(api, qe.client_uid, u->name, other,
	    sizeof(other))) == -1) {
		api_channels_refuse(req, &api->cnt.api_channels_unavailable,
		    503, u->name, "the client registry cannot be read");
		goto done;
	}
	if (rc == 0) {
		/* The same answer for another user's uid and for nobody's. */
		log_warnx("channels: %s: user \"%s\": clientUid \"%s\" is %s%s%s",
		    api_req_peer(req), u->name, qe.client_uid, other[0] != '\0' ?
		    "a session of user \"" : "no live session", other,
		    other[0] != '\0' ? "\"" : "");
		snprintf(err, sizeof(err), "clientUid \"%.128s\" is not a live "
		    "session of user \"%s\"", qe.client_uid, u->name);
		api_channels_refuse(req, &api->cnt.api_channels_forbidden, 403,
		    u->name, err);
		goto done;
	}
	switch (channels_choose(cr, u, &off, err, sizeof(err))) {
	case CHANNELS_FOREIGN:
		api_channels_refuse(req, &api->cnt.api_channels_forbidden, 403,
		    u->name, err);
		goto done;
	case CHANNELS_NONE:
		api_channels_refuse(req, &api->cnt.api_channels_bad_request,
		    400, u->name, err);
		goto done;
	case CHANNELS_OK:
		break;
	}
	api_channels_send(ch, req, u->name, qe.client_uid, &off);
 done:
	free(cr);
}

void
api_channels_reply(struct api *api, uint32_t id, uint32_t status,
    uint32_t acked, uint32_t unanswered, uint32_t changed)
{
	struct api_channels	*ch = api->channels;
	struct api_chwait	*cw = NULL;

	if (ch != NULL)
		for (cw = ch->waits; cw != NULL; cw = cw->next)
			if (cw->id == id)
				break;
	if (cw == NULL) {
		log_debug("channels: a late answer (request %u)", id);
		return;
	}
	if (status != 0) {
		api_channels_refuse(cw->req, &api->cnt.api_channels_unavailable,
		    503, cw->user, "the choice could not be recorded");
		api_chwait_free(ch, cw);
		return;
	}
	api->cnt.api_channels_set++;
	if (unanswered > 0)
		log_warnx("channels: %s: user \"%s\": recorded; %u live "
		    "sessions changed groups, but %u workers did not answer "
		    "(%u did): their sessions get it at their next connect",
		    api_req_peer(cw->req), cw->user, changed, unanswered,
		    acked);
	else
		log_info("channels: %s: user \"%s\": choice in force: %u "
		    "live sessions changed groups (%u workers)",
		    api_req_peer(cw->req), cw->user, changed, acked);
	/* TAK Server answers 200 with no body. */
	api_req_reply(cw->req, 200, "text/plain; charset=utf-8", "", 0);
	api_chwait_free(ch, cw);
}

int
api_channels_off(struct api *api, const char *user, struct channels_off *off)
{
	char	 rec[CHANNELS_REC_MAX];
	size_t	 len;
	int	 rc;

	off->n = 0;
	if (api->store == NULL)
		return (-1);
	if ((rc = store_get_channels(api->store, user, rec, sizeof(rec),
	    &len)) == 1)
		return (0);
	if (rc == -1 || channels_decode(rec, len, off) == -1) {
		log_warnx("channels: the choice of user \"%s\" cannot be read",
		    user);
		off->n = 0;
		return (-1);
	}
	return (0);
}

int
api_channels_init(struct api *api, struct api_http *http)
{
	struct api_channels	*ch;

	if ((ch = calloc(1, sizeof(*ch))) == NULL) {
		log_warn("channels");
		return (-1);
	}
	ch->magic = API_CHANNELS_MAGIC;
	ch->api = api;
	api->channels = ch;
	return (api_http_route(http, "/Marti/api/groups/active", API_PUT,
	    api_channels_put, ch));
}

void
api_channels_free(struct api *api)
{
	struct api_channels	*ch = api->channels;

	if (ch == NULL)
		return;
	while (ch->waits != NULL) {
		api_req_reply_text(ch->waits->req, 503, NULL);
		api_chwait_free(ch, ch->waits);
	}
	ch->magic = 0;
	free(ch);
	api->channels = NULL;
}
