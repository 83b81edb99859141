/*
 * User changes from the admin console (docs/console.md, docs/security.md
 * "Console: who changes the users file"): the request the api process
 * sends the supervisor (IPC_MSG_USER_EDIT) and the supervisor relays, as
 * is, to takd-usersd over their own SOCK_SEQPACKET pair; the answer comes
 * back the same way (IPC_MSG_USER_EDIT_ACK).  gen is the sender's request
 * id, echoed in the answer.
 *
 *   IPC_MSG_USER_EDIT
 *	u32 op			enum users_op
 *	str admin		the console user who asks
 *	str admin_password	that admin's password, typed again
 *	str user		the user changed
 *	str password		add, passwd: the new password; else ""
 *	str groups, in, out	add, groups: the three lists (grouplist.h:
 *				"A,B"), both halves, IN only, OUT only
 *   IPC_MSG_USER_EDIT_ACK
 *	u32 status		enum users_status
 *	str message		words for the admin
 *
 * Decoding checks lengths, NULs and that nothing follows; what the fields
 * mean (names, groups, the admin's password) is takd-usersd's to check
 * (usersd/change.h), never the relays'.
 */
#ifndef TAKD_USERS_MSG_H
#define TAKD_USERS_MSG_H

#include <stdint.h>

#include "ipc/ipc.h"
#include "shared/grouplist.h"
#include "shared/password.h"
#include "shared/users.h"

#define USERS_MSG_TEXT_MAX	512	/* a message, NUL included */

enum users_op {
	USERS_OP_ADD = 1,
	USERS_OP_PASSWD,
	USERS_OP_GROUPS,
	USERS_OP_DEL,
	USERS_OP_MAX
};

enum users_status {
	USERS_ST_OK = 0,
	USERS_ST_BAD,		/* a name, a group, a password: 400 */
	USERS_ST_DENIED,	/* the admin's password, an admin target: 403 */
	USERS_ST_NOT_FOUND,	/* no such user: 404 */
	USERS_ST_EXISTS,	/* add: the user exists: 409 */
	USERS_ST_BUSY,		/* the rate: 429 */
	USERS_ST_UNAVAILABLE,	/* no helper: 503 */
	USERS_ST_ERROR,		/* the write failed: 500 */
	USERS_ST_MAX
};

struct users_req {
	uint32_t	 op;
	char		 admin[USERS_NAME_MAX];
	char		 admin_pw[PASSWORD_MAX + 1];
	char		 user[USERS_NAME_MAX];
	char		 password[PASSWORD_MAX + 1];
	char		 groups[GROUPLIST_STR_MAX];
	char		 in[GROUPLIST_STR_MAX];
	char		 out[GROUPLIST_STR_MAX];
};

/* Into b (ipc_buf_init'ed by the caller); -1 when it does not fit. */
int	 users_req_encode(const struct users_req *, struct ipc_buf *b);
/* From m; -1 when malformed (an unknown op among it). */
int	 users_req_decode(const struct ipc_msg *m, struct users_req *);
/* Forget the passwords of a request. */
void	 users_req_clear(struct users_req *);

int	 users_rep_encode(uint32_t status, const char *msg, struct ipc_buf *b);
int	 users_rep_decode(const struct ipc_msg *m, uint32_t *status,
	    char *msg, size_t msglen);
/* "add", "passwd", "groups", "delete": for the log. */
const char *users_op_name(uint32_t op);
/* The HTTP status of a users_status. */
int	 users_status_http(uint32_t status);

#endif
