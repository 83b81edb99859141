/*
 * What the admin console changes (api/console.h, docs/console.md): close
 * a client's session, and (with takd-signer) revoke its certificate.  The
 * api process does neither itself: it asks the supervisor over its
 * control channel and answers the browser with the supervisor's word.
 * Every route here wants a session and its CSRF token (console_auth), and
 * every action is logged with the admin's name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/console.h"
#include "shared/clock.h"
#include "shared/json.h"
#include "shared/log.h"
#include "shared/store.h"

#define CONSOLE_OPS_MAGIC	0x434f5053u	/* "COPS" */
#define CONSOLE_OPS_WAITS	16	/* actions waiting for the supervisor */
#define CONSOLE_OPS_WAIT_MS	5000
#define CONSOLE_REVOKE_WAIT_MS	25000	/* the signer 15 s, a reload 3 s */

enum console_op {
	CONSOLE_OP_DISCONNECT,
	CONSOLE_OP_REVOKE
};

/* The reasons the page offers (RFC 5280 codes; the signer checks again). */
static const struct {
	const char	*name;
	int		 code;		/* -1: none (unspecified) */
} console_reasons[] = {
	{ "unspecified", -1 },
	{ "keyCompromise", 1 },
	{ "affiliationChanged", 3 },
	{ "superseded", 4 },
	{ "cessationOfOperation", 5 },
	{ "privilegeWithdrawn", 9 },
};

struct console_op_wait {
	struct api_req	*req;		/* NULL: free slot */
	enum console_op	 op;
	uint32_t	 id;
	int64_t		 deadline_ms;
	char		 admin[USERS_NAME_MAX];
	char		 what[640];	/* for the answer and the log */
};

struct console_ops {
	unsigned		 magic;
	struct api		*api;
	struct console_op_wait	 w[CONSOLE_OPS_WAITS];
	uint32_t		 next_id;
};

static struct console_op_wait *
console_ops_slot(struct console_ops *co, struct api_req *req,
    enum console_op op)
{
	struct console_op_wait	*w = NULL;
	size_t			 i;

	for (i = 0; i < CONSOLE_OPS_WAITS && w == NULL; i++)
		if (co->w[i].req == NULL)
			w = &co->w[i];
	if (w == NULL) {
		console_reply_error(req, 503, "too many actions under way; "
		    "try again");
		return (NULL);
	}
	memset(w, 0, sizeof(*w));
	w->req = req;
	w->op = op;
	if ((w->id = ++co->next_id) == 0)
		w->id = ++co->next_id;
	w->deadline_ms = clock_mono_ms() + CONSOLE_OPS_WAIT_MS;
	return (w);
}

static struct console_op_wait *
console_ops_find(struct console_ops *co, enum console_op op, uint32_t id)
{
	size_t	 i;

	for (i = 0; co != NULL && i < CONSOLE_OPS_WAITS; i++)
		if (co->w[i].req != NULL && co->w[i].op == op &&
		    co->w[i].id == id)
			return (&co->w[i]);
	return (NULL);
}

static void
console_ops_answer(struct console_op_wait *w, int code, const char *msg)
{
	struct json	 j;

	json_init(&j);
	json_obj_begin(&j);
	if (code == 200) {
		json_kv_bool(&j, "ok", true);
		json_kv_str(&j, "message", msg);
	} else
		json_kv_str(&j, "error", msg);
	json_obj_end(&j);
	console_reply_json(w->req, code, &j);
	w->req = NULL;
}

/* --- disconnect ------------------------------------------------------- */

/* POST /console/api/clients/disconnect?id=N (the registry's id). */
static void
console_disconnect(struct api_req *req, void *arg)
{
	struct api		*api = api_req_api(req);
	struct console_ops	*co = api->console_ops;
	struct console_sess	*sess;
	struct console_op_wait	*w;
	struct store_client	*sc = NULL;
	struct ipc_buf		*b = NULL;
	char			 idbuf[32], *end;
	unsigned long long	 id;

	if ((sess = console_auth(req, true)) == NULL)
		return;
	errno = 0;
	if (console_param(req, "id", idbuf, sizeof(idbuf)) == NULL ||
	    idbuf[0] < '0' || idbuf[0] > '9' ||
	    (id = strtoull(idbuf, &end, 10), errno != 0 || *end != '\0')) {
		console_reply_error(req, 400, "id: the client's id (a number) "
		    "expected");
		return;
	}
	/* Only a session of the registry: its callsign for the log. */
	if ((sc = calloc(1, sizeof(*sc))) == NULL || api->store == NULL ||
	    store_get_client(api->store, (uint64_t)id, sc) != 0) {
		free(sc);
		console_reply_error(req, 404, "no such client connected (it "
		    "may have left)");
		return;
	}
	if ((w = console_ops_slot(co, req, CONSOLE_OP_DISCONNECT)) == NULL) {
		free(sc);
		return;
	}
	snprintf(w->admin, sizeof(w->admin), "%s", sess->user);
	snprintf(w->what, sizeof(w->what), "%s%s%s", sc->callsign[0] != '\0' ?
	    sc->callsign : sc->uid[0] != '\0' ? sc->uid : "the client",
	    sc->user[0] != '\0' ? " of user " : "", sc->user);
	log_info("console: %s: admin \"%s\" disconnects session %llu (%s, "
	    "worker %u, %s)", api_req_peer(req), sess->user, id, w->what,
	    sc->worker, sc->peer);
	free(sc);
	if ((b = malloc(sizeof(*b))) == NULL) {
		console_ops_answer(w, 500, "out of memory");
		return;
	}
	ipc_buf_init(b);
	ipc_put_u64(b, (uint64_t)id);
	ipc_put_str(b, sess->user);
	api_ctl_send(api, IPC_MSG_DISCONNECT, w->id, b->data, b->len);
	free(b);
}

void
console_ops_disconnect_reply(struct api *api, uint32_t id, uint32_t status)
{
	struct console_op_wait	*w;
	char			 msg[sizeof(w->what) + 32];

	if ((w = console_ops_find(api->console_ops, CONSOLE_OP_DISCONNECT,
	    id)) == NULL)
		return;		/* answered 503 already */
	switch (status) {
	case 0:
		snprintf(msg, sizeof(msg), "%s disconnected", w->what);
		console_ops_answer(w, 200, msg);
		break;
	case 1:
		console_ops_answer(w, 404, "that session is not connected any "
		    "more");
		break;
	default:
		console_ops_answer(w, 503, "the worker holding that session "
		    "is not running");
		break;
	}
}

/* --- revoke ----------------------------------------------------------- */

/* Upper-case hex without leading zeros, as the index writes serials. */
static bool
console_serial(const char *in, char *out, size_t len)
{
	size_t	 n = 0;

	while (*in == '0' && in[1] != '\0')
		in++;
	for (; *in != '\0'; in++) {
		if (n + 1 >= len || !((*in >= '0' && *in <= '9') ||
		    (*in >= 'a' && *in <= 'f') || (*in >= 'A' && *in <= 'F')))
			return (false);
		out[n++] = (*in >= 'a' && *in <= 'f') ? (char)(*in - 32) : *in;
	}
	out[n] = '\0';
	return (n > 0);
}

/* POST /console/api/clients/revoke?serial=HEX&reason=NAME */
static void
console_revoke(struct api_req *req, void *arg)
{
	struct api		*api = api_req_api(req);
	struct console_ops	*co = api->console_ops;
	struct console_sess	*sess;
	struct console_op_wait	*w;
	struct ipc_buf		*b;
	char			 raw[64], serial[41], reason[32];
	size_t			 i;
	int			 code = -2;

	if ((sess = console_auth(req, true)) == NULL)
		return;
	if (console_param(req, "serial", raw, sizeof(raw)) == NULL ||
	    !console_serial(raw, serial, sizeof(serial))) {
		console_reply_error(req, 400, "serial: the certificate's serial "
		    "number (hexadecimal, at most 20 bytes) expected");
		return;
	}
	if (console_param(req, "reason", reason, sizeof(reason)) == NULL)
		snprintf(reason, sizeof(reason), "unspecified");
	for (i = 0; i < sizeof(console_reasons) / sizeof(console_reasons[0]);
	    i++)
		if (strcmp(reason, console_reasons[i].name) == 0)
			code = console_reasons[i].code;
	if (code == -2) {
		console_reply_error(req, 400, "reason: one of unspecified, "
		    "keyCompromise, affiliationChanged, superseded, "
		    "cessationOfOperation, privilegeWithdrawn");
		return;
	}
	if ((w = console_ops_slot(co, req, CONSOLE_OP_REVOKE)) == NULL)
		return;
	snprintf(w->admin, sizeof(w->admin), "%s", sess->user);
	snprintf(w->what, sizeof(w->what), "certificate %s", serial);
	log_info("console: %s: admin \"%s\" revokes certificate %s (%s)",
	    api_req_peer(req), sess->user, serial, reason);
	/* Signing, journalling and the reload take longer than a close. */
	w->deadline_ms = clock_mono_ms() + CONSOLE_REVOKE_WAIT_MS;
	if ((b = malloc(sizeof(*b))) == NULL) {
		console_ops_answer(w, 500, "out of memory");
		return;
	}
	ipc_buf_init(b);
	ipc_put_str(b, serial);
	ipc_put_u32(b, (uint32_t)code);
	ipc_put_str(b, sess->user);
	api_ctl_send(api, IPC_MSG_REVOKE, w->id, b->data, b->len);
	free(b);
}

void
console_ops_revoke_reply(struct api *api, uint32_t id, uint32_t status,
    uint64_t number, uint32_t generation, uint32_t closed, const char *msg)
{
	struct console_op_wait	*w;
	struct json		 j;
	int			 code;

	if ((w = console_ops_find(api->console_ops, CONSOLE_OP_REVOKE,
	    id)) == NULL)
		return;
	code = status == 0 ? 200 : status == 1 ? 409 : status == 2 ? 500 :
	    503;
	log_info("console: admin \"%s\": %s: %s (CRL number %llu, "
	    "generation %u, %u session%s closed)", w->admin, w->what,
	    status == 0 ? "revoked" : msg, (unsigned long long)number,
	    generation, closed, closed == 1 ? "" : "s");
	json_init(&j);
	json_obj_begin(&j);
	if (code == 200) {
		json_kv_bool(&j, "ok", true);
		json_kv_uint(&j, "crl_number", number);
		json_kv_uint(&j, "generation", generation);
		json_kv_uint(&j, "sessions_closed", closed);
		json_kv_str(&j, "message", w->what);
	} else {
		json_kv_str(&j, "error", msg);
		if (number != 0)
			json_kv_uint(&j, "crl_number", number);
	}
	json_obj_end(&j);
	console_reply_json(w->req, code, &j);
	w->req = NULL;
}

/* --- life ------------------------------------------------------------- */

/* Every route here wants a session and its CSRF token. */
static const struct api_route_def console_ops_routes[] = {
	{ "/console/api/clients/disconnect", API_POST, console_disconnect },
	{ "/console/api/clients/revoke", API_POST, console_revoke },
};

int
console_ops_init(struct api *api, struct api_http *http)
{
	struct console_ops	*co;

	if ((co = calloc(1, sizeof(*co))) == NULL) {
		log_warn("console");
		return (-1);
	}
	co->magic = CONSOLE_OPS_MAGIC;
	co->api = api;
	api->console_ops = co;
	return (api_http_routes(http, console_ops_routes,
	    sizeof(console_ops_routes) / sizeof(console_ops_routes[0]),
	    co, "console"));
}

void
console_ops_tick(struct api *api, int64_t now)
{
	struct console_ops	*co = api->console_ops;
	size_t			 i;

	for (i = 0; co != NULL && i < CONSOLE_OPS_WAITS; i++)
		if (co->w[i].req != NULL && now >= co->w[i].deadline_ms) {
			log_warnx("console: admin \"%s\": %s: the supervisor "
			    "did not answer in %d ms", co->w[i].admin,
			    co->w[i].what, CONSOLE_OPS_WAIT_MS);
			console_ops_answer(&co->w[i], 503, "the server did "
			    "not answer in time; look at the clients again");
		}
}

void
console_ops_free(struct api *api)
{
	struct console_ops	*co = api->console_ops;
	size_t			 i;

	if (co == NULL)
		return;
	for (i = 0; i < CONSOLE_OPS_WAITS; i++)
		if (co->w[i].req != NULL)
			console_ops_answer(&co->w[i], 503, "stopping");
	co->magic = 0;
	free(co);
	api->console_ops = NULL;
}
