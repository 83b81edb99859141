/*
 * The admin web console (docs/console.md) on the Marti listener (8443):
 * one page for users of role admin, with its JSON routes and a stream of
 * server-sent events.  console.c: access (sessions, login, CSRF) and the
 * page's files; console_data.c: what the page shows and does.
 *
 * Access, in short: a session is a random id held here (never derived
 * from anything the client holds), sent as a cookie (Secure, HttpOnly,
 * SameSite=Strict); it is made by the login form (an admin's password,
 * checked and throttled as on 8446) or when an admin's client
 * certificate opens the page (then it is bound to that certificate's
 * serial).  Every state-changing request carries the session's CSRF
 * token in a header.  The user must still be an admin of the users file
 * in force at every request.
 */
#ifndef TAKD_API_CONSOLE_H
#define TAKD_API_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api_int.h"
#include "api/http.h"
#include "shared/users.h"

#define CONSOLE_MAGIC		0x434f4e53u	/* "CONS" */
#define CONSOLE_SESS_MAX	64	/* sessions; the oldest goes first */
#define CONSOLE_ID_BYTES	32	/* random bytes of an id, a token */
#define CONSOLE_HEX		(CONSOLE_ID_BYTES * 2 + 1)
#define CONSOLE_COOKIE		"takd_console"
#define CONSOLE_STREAMS_MAX	32	/* event streams open at once */
#define CONSOLE_LOGINS_MAX	64	/* password checks waiting */
#define CONSOLE_WAITS_MAX	32	/* status requests waiting */
/* IPC_MSG_METRICS_REQ ids with this bit are the console's (status). */
#define CONSOLE_REQ_BIT		0x80000000u

struct console_sess {
	bool		 used;
	char		 id[CONSOLE_HEX];
	char		 csrf[CONSOLE_HEX];
	char		 user[USERS_NAME_MAX];
	/* Made from a client certificate: its serial; "" for a password. */
	char		 serial[68];
	int64_t		 created_ms;	/* monotonic */
	int64_t		 last_ms;
};

/* Whether 8443 takes handshakes without a certificate (the login form). */
bool	 console_cert_optional(const struct config *);
/* The routes on http (the Marti listener): -1 logged on failure. */
int	 console_init(struct api *, struct api_http *);
void	 console_free(struct api *);
/* From the api's tick: expiries, the event streams' feed. */
void	 console_tick(struct api *, int64_t now_ms);
/* IPC_MSG_METRICS_REP for an id with CONSOLE_REQ_BIT (takes fd). */
void	 console_status_reply(struct api *, uint32_t id, uint32_t status,
	    int fd);

/* console.c, for console_data.c */
/*
 * The session of req, checked: the cookie, the expiry, the certificate
 * it is bound to, the user an admin now, and with csrf the header
 * X-CSRF-Token.  NULL after answering 403 (and logging).
 */
struct console_sess *console_auth(struct api_req *, bool csrf);
/* The headers every console answer carries. */
void	 console_headers(struct api_req *);
/* A JSON answer (code, the text of j); j is freed. */
struct json;
void	 console_reply_json(struct api_req *, int code, struct json *);
/* {"error": msg} with code. */
void	 console_reply_error(struct api_req *, int code, const char *msg);
/* A parameter of the query string or a form body: NULL when absent. */
const char *console_param(struct api_req *, const char *name, char *buf,
	    size_t len);
/*
 * A password: from the form body only (a URL ends up in logs, history and
 * Referer), its decoded copies wiped; NULL when absent.
 */
const char *console_param_secret(struct api_req *, const char *name,
	    char *buf, size_t len);

/* The login's password thread and throttle, for console_enroll.c. */
struct pwcheck	*console_pwcheck(struct api *);
struct throttle	*console_throttle(struct api *);

/* console_data.c */
int	 console_data_init(struct api *, struct api_http *);
void	 console_data_free(struct api *);
void	 console_data_tick(struct api *, int64_t now_ms);
/* A session ended: its event streams end too. */
void	 console_data_sess_gone(struct api *, const struct console_sess *);

/* console_ops.c: disconnect and revoke, through the supervisor. */
int	 console_ops_init(struct api *, struct api_http *);
void	 console_ops_free(struct api *);
void	 console_ops_tick(struct api *, int64_t now_ms);
/* IPC_MSG_DISCONNECT_ACK: status 0 closed, 1 no session, 2 no worker. */
void	 console_ops_disconnect_reply(struct api *, uint32_t id,
	    uint32_t status);
/* console_users.c: user changes, through the supervisor and takd-usersd. */
int	 console_users_init(struct api *, struct api_http *);
void	 console_users_free(struct api *);
void	 console_users_tick(struct api *, int64_t now_ms);
/* IPC_MSG_USER_EDIT_ACK: a users_status (ipc/users_msg.h) and words. */
void	 console_users_reply(struct api *, uint32_t id, uint32_t status,
	    const char *msg);
/*
 * IPC_MSG_REVOKE_ACK: status 0 revoked and in force, 1 refused, 2 not
 * installed, 3 unavailable; msg says why in words.
 */
void	 console_ops_revoke_reply(struct api *, uint32_t id, uint32_t status,
	    uint64_t number, uint32_t generation, uint32_t closed,
	    const char *msg);

/*
 * console_enroll.c: a user's enrollment package and QR codes, the
 * password typed by the admin and checked (docs/console.md).
 */
int	 console_enroll_init(struct api *, struct api_http *);
/* After the password thread stopped: answers what still waits. */
void	 console_enroll_free(struct api *);

#endif
