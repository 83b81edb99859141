/*
 * The console's user changes (docs/console.md, "Users"): add a user,
 * reset a password, change groups, delete.  The api process changes
 * nothing itself and cannot: it relays the request, with the admin's own
 * password typed again, to the supervisor (IPC_MSG_USER_EDIT), which asks
 * takd-usersd; that helper checks the password against the users file,
 * refuses anything that would make or touch an admin, writes the file,
 * and the supervisor reloads it before answering (docs/security.md,
 * "Console: who changes the users file").  Every route wants a session
 * and its CSRF token (console_auth).  Passwords are never logged and are
 * wiped from this process's buffers once sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api/console.h"
#include "ipc/ipc_msg.h"
#include "ipc/users_msg.h"
#include "shared/clock.h"
#include "shared/json.h"
#include "shared/log.h"

#define CONSOLE_USERS_MAGIC	0x43555352u	/* "CUSR" */
#define CONSOLE_USERS_WAITS	4	/* the helper takes one at a time */
#define CONSOLE_USERS_WAIT_MS	20000	/* the helper 10 s, a reload 3 s */

struct console_users_wait {
	struct api_req	*req;		/* NULL: free slot */
	uint32_t	 id;
	int64_t		 deadline_ms;
	uint32_t	 op;
	char		 admin[USERS_NAME_MAX];
	char		 user[USERS_NAME_MAX];
};

struct console_users {
	unsigned			 magic;
	struct console_users_wait	 w[CONSOLE_USERS_WAITS];
	uint32_t			 next_id;
};

static void
console_users_answer(struct console_users_wait *w, int code, const char *msg)
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

/* A parameter that must be there; 400 in words when it is not. */
static bool
console_users_param(struct api_req *req, const char *name, char *buf,
    size_t len, bool required, const char *what)
{
	char	 msg[256];
	bool	 secret = strstr(name, "password") != NULL;

	if ((secret ? console_param_secret(req, name, buf, len) :
	    console_param(req, name, buf, len)) == NULL)
		buf[0] = '\0';
	if (!required || buf[0] != '\0')
		return (true);
	snprintf(msg, sizeof(msg), "%s: %s expected", name, what);
	console_reply_error(req, 400, msg);
	return (false);
}

static void
console_users_edit(struct api_req *req, uint32_t op)
{
	struct api		*api = api_req_api(req);
	struct console_users	*cu = api->console_users;
	struct console_users_wait *w = NULL;
	struct console_sess	*sess;
	struct users_req	*r;
	struct ipc_buf		*b = NULL;
	char			 role[USERS_NAME_MAX];
	size_t			 i;

	if ((sess = console_auth(req, true)) == NULL)
		return;
	/*
	 * The request to takd-usersd has no role: every user it adds is a
	 * user.  A page (or a forger) asking for another is told so here.
	 */
	if (console_param(req, "role", role, sizeof(role)) != NULL &&
	    strcmp(role, "user") != 0) {
		log_warnx("console: %s: admin \"%s\" asked for role \"%s\": "
		    "refused", api_req_peer(req), sess->user, role);
		console_reply_error(req, 403, "admins (and roles) are changed "
		    "with takctl user on the server only");
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		console_reply_error(req, 500, "out of memory");
		return;
	}
	r->op = op;
	snprintf(r->admin, sizeof(r->admin), "%s", sess->user);
	if (!console_users_param(req, "admin_password", r->admin_pw,
	    sizeof(r->admin_pw), true, "your own password, typed again") ||
	    !console_users_param(req, "user", r->user, sizeof(r->user), true,
	    "the user's name") ||
	    !console_users_param(req, "password", r->password,
	    sizeof(r->password), op == USERS_OP_ADD || op == USERS_OP_PASSWD,
	    "the new password") ||
	    !console_users_param(req, "groups", r->groups, sizeof(r->groups),
	    false, "") ||
	    !console_users_param(req, "in", r->in, sizeof(r->in), false, "") ||
	    !console_users_param(req, "out", r->out, sizeof(r->out), false,
	    ""))
		goto done;
	for (i = 0; i < CONSOLE_USERS_WAITS && w == NULL; i++)
		if (cu->w[i].req == NULL)
			w = &cu->w[i];
	if (w == NULL) {
		console_reply_error(req, 503, "too many user changes under "
		    "way; try again");
		goto done;
	}
	memset(w, 0, sizeof(*w));
	if ((w->id = ++cu->next_id) == 0)
		w->id = ++cu->next_id;
	w->deadline_ms = clock_mono_ms() + CONSOLE_USERS_WAIT_MS;
	w->op = op;
	snprintf(w->admin, sizeof(w->admin), "%s", r->admin);
	snprintf(w->user, sizeof(w->user), "%s", r->user);
	if ((b = malloc(sizeof(*b))) == NULL) {
		w->req = req;
		console_users_answer(w, 500, "out of memory");
		goto done;
	}
	ipc_buf_init(b);
	if (users_req_encode(r, b) == -1) {
		w->req = req;
		console_users_answer(w, 400, "the request is too long");
		goto done;
	}
	w->req = req;
	log_info("console: %s: admin \"%s\" asks to %s user \"%s\"",
	    api_req_peer(req), r->admin, users_op_name(op), r->user);
	api_ctl_send(api, IPC_MSG_USER_EDIT, w->id, b->data, b->len);
 done:
	if (b != NULL) {
		OPENSSL_cleanse(b->data, b->len);
		free(b);
	}
	users_req_clear(r);
	free(r);
}

/* POST /console/api/users/add: user, password, groups, in, out. */
static void
console_users_add(struct api_req *req, void *arg)
{
	console_users_edit(req, USERS_OP_ADD);
}

/* POST /console/api/users/passwd: user, password. */
static void
console_users_passwd(struct api_req *req, void *arg)
{
	console_users_edit(req, USERS_OP_PASSWD);
}

/* POST /console/api/users/groups: user, groups, in, out. */
static void
console_users_groups(struct api_req *req, void *arg)
{
	console_users_edit(req, USERS_OP_GROUPS);
}

/* POST /console/api/users/delete: user. */
static void
console_users_delete(struct api_req *req, void *arg)
{
	console_users_edit(req, USERS_OP_DEL);
}

void
console_users_reply(struct api *api, uint32_t id, uint32_t status,
    const char *msg)
{
	struct console_users		*cu = api->console_users;
	struct console_users_wait	*w = NULL;
	size_t				 i;

	for (i = 0; cu != NULL && i < CONSOLE_USERS_WAITS; i++)
		if (cu->w[i].req != NULL && cu->w[i].id == id)
			w = &cu->w[i];
	if (w == NULL)
		return;
	log_info("console: admin \"%s\": %s user \"%s\": %s", w->admin,
	    users_op_name(w->op), w->user, msg);
	console_users_answer(w, users_status_http(status), msg);
}

/* Every route here wants a session and its CSRF token. */
static const struct api_route_def console_users_routes[] = {
	{ "/console/api/users/add", API_POST, console_users_add },
	{ "/console/api/users/passwd", API_POST, console_users_passwd },
	{ "/console/api/users/groups", API_POST, console_users_groups },
	{ "/console/api/users/delete", API_POST, console_users_delete },
};

int
console_users_init(struct api *api, struct api_http *http)
{
	struct console_users	*cu;

	if ((cu = calloc(1, sizeof(*cu))) == NULL) {
		log_warn("console");
		return (-1);
	}
	cu->magic = CONSOLE_USERS_MAGIC;
	api->console_users = cu;
	return (api_http_routes(http, console_users_routes,
	    sizeof(console_users_routes) / sizeof(console_users_routes[0]),
	    cu, "console"));
}

void
console_users_tick(struct api *api, int64_t now)
{
	struct console_users	*cu = api->console_users;
	size_t			 i;

	for (i = 0; cu != NULL && i < CONSOLE_USERS_WAITS; i++)
		if (cu->w[i].req != NULL && now >= cu->w[i].deadline_ms) {
			log_warnx("console: admin \"%s\": %s user \"%s\": the "
			    "supervisor did not answer in %d ms",
			    cu->w[i].admin, users_op_name(cu->w[i].op),
			    cu->w[i].user, CONSOLE_USERS_WAIT_MS);
			console_users_answer(&cu->w[i], 503, "the server did "
			    "not answer in time; look at the users again");
		}
}

void
console_users_free(struct api *api)
{
	struct console_users	*cu = api->console_users;
	size_t			 i;

	if (cu == NULL)
		return;
	for (i = 0; i < CONSOLE_USERS_WAITS; i++)
		if (cu->w[i].req != NULL)
			console_users_answer(&cu->w[i], 503, "stopping");
	cu->magic = 0;
	free(cu);
	api->console_users = NULL;
}
