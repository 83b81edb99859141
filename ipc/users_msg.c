/*
 * The console's user changes on the wire: see users_msg.h.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "ipc/users_msg.h"

int
users_req_encode(const struct users_req *r, struct ipc_buf *b)
{
	ipc_put_u32(b, r->op);
	ipc_put_str(b, r->admin);
	ipc_put_str(b, r->admin_pw);
	ipc_put_str(b, r->user);
	ipc_put_str(b, r->password);
	ipc_put_str(b, r->groups);
	ipc_put_str(b, r->in);
	ipc_put_str(b, r->out);
	return (b->err != 0 ? -1 : 0);
}

int
users_req_decode(const struct ipc_msg *m, struct users_req *r)
{
	struct ipc_rd	 rd;

	memset(r, 0, sizeof(*r));
	ipc_rd_init(&rd, m);
	r->op = ipc_get_u32(&rd);
	ipc_get_str(&rd, r->admin, sizeof(r->admin));
	ipc_get_str(&rd, r->admin_pw, sizeof(r->admin_pw));
	ipc_get_str(&rd, r->user, sizeof(r->user));
	ipc_get_str(&rd, r->password, sizeof(r->password));
	ipc_get_str(&rd, r->groups, sizeof(r->groups));
	ipc_get_str(&rd, r->in, sizeof(r->in));
	ipc_get_str(&rd, r->out, sizeof(r->out));
	if (ipc_rd_done(&rd) == -1 || m->fd != -1 || r->op < USERS_OP_ADD ||
	    r->op >= USERS_OP_MAX) {
		users_req_clear(r);
		return (-1);
	}
	return (0);
}

void
users_req_clear(struct users_req *r)
{
	OPENSSL_cleanse(r->admin_pw, sizeof(r->admin_pw));
	OPENSSL_cleanse(r->password, sizeof(r->password));
}

int
users_rep_encode(uint32_t status, const char *msg, struct ipc_buf *b)
{
	ipc_put_u32(b, status);
	ipc_put_str(b, msg);
	return (b->err != 0 ? -1 : 0);
}

int
users_rep_decode(const struct ipc_msg *m, uint32_t *status, char *msg,
    size_t msglen)
{
	struct ipc_rd	 rd;

	ipc_rd_init(&rd, m);
	*status = ipc_get_u32(&rd);
	ipc_get_str(&rd, msg, msglen);
	if (ipc_rd_done(&rd) == -1 || m->fd != -1 ||
	    *status >= USERS_ST_MAX)
		return (-1);
	return (0);
}

const char *
users_op_name(uint32_t op)
{
	switch (op) {
	case USERS_OP_ADD:
		return ("add");
	case USERS_OP_PASSWD:
		return ("passwd");
	case USERS_OP_GROUPS:
		return ("groups");
	case USERS_OP_DEL:
		return ("delete");
	default:
		return ("?");
	}
}

int
users_status_http(uint32_t status)
{
	static const int	 code[USERS_ST_MAX] = {
		[USERS_ST_OK] = 200,
		[USERS_ST_BAD] = 400,
		[USERS_ST_DENIED] = 403,
		[USERS_ST_NOT_FOUND] = 404,
		[USERS_ST_EXISTS] = 409,
		[USERS_ST_BUSY] = 429,
		[USERS_ST_UNAVAILABLE] = 503,
		[USERS_ST_ERROR] = 500,
	};

	return (status < USERS_ST_MAX ? code[status] : 500);
}
