/*
 * The api <-> signer messages: see sign_msg.h.  Both ends check
 * everything: the signer trusts the api no more than the api trusts a
 * phone, and the api does not pass on what a broken signer says.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/sign_msg.h"
#include "shared/log.h"
#include "shared/users.h"

static int
sign_ascii_ok(const char *s, unsigned char lo)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < lo || (unsigned char)*s > 0x7e)
			return (0);
	return (1);
}

int
sign_uid_ok(const char *s)
{
	return (strlen(s) <= SIGN_UID_MAX && sign_ascii_ok(s, 0x21));
}

const char *
sign_status_name(enum sign_status st)
{
	static const char *const names[] = { "ok", "refused", "busy",
	    "error" };

	return ((unsigned)st < SIGN_STATUS_MAX ? names[st] : "?");
}

static int
sign_user_ok(const char *s)
{
	return (strlen(s) < SIGN_USER_MAX && users_name_ok(s));
}

static int
sign_reason_ok(const struct sign_rep *rep)
{
	size_t	 n = strlen(rep->reason);

	if (n >= SIGN_REASON_MAX || !sign_ascii_ok(rep->reason, 0x20))
		return (0);
	return (rep->status == SIGN_OK ? n == 0 : n > 0);
}

/* The combinations of a reply, on either side of the channel. */
static const char *
sign_rep_shape(const struct sign_rep *rep)
{
	size_t	 i;

	if ((unsigned)rep->status >= SIGN_STATUS_MAX)
		return ("unknown status");
	if (!sign_reason_ok(rep))
		return ("bad reason text");
	if (rep->status != SIGN_OK)
		return (rep->cert_len != 0 || rep->n_chain != 0 ?
		    "certificate in a refusal" : NULL);
	if (rep->cert_len == 0 || rep->cert_len > SIGN_CERT_MAX)
		return ("bad certificate length");
	if (rep->n_chain == 0 || rep->n_chain > SIGN_CHAIN_MAX)
		return ("bad chain length");
	for (i = 0; i < rep->n_chain; i++)
		if (rep->chain_len[i] == 0 ||
		    rep->chain_len[i] > SIGN_CERT_MAX)
			return ("bad chain certificate length");
	return (NULL);
}

int
sign_req_encode(const struct sign_req *req, struct ipc_buf *b)
{
	if (!sign_user_ok(req->user) || !sign_uid_ok(req->client_uid) ||
	    req->csr == NULL || req->csr_len == 0 ||
	    req->csr_len > SIGN_CSR_MAX)
		return (-1);
	ipc_put_u32(b, req->id);
	ipc_put_str(b, req->user);
	ipc_put_str(b, req->client_uid);
	ipc_put_bytes(b, req->csr, req->csr_len);
	return (b->err != 0 ? -1 : 0);
}

int
sign_rep_encode(const struct sign_rep *rep, struct ipc_buf *b)
{
	size_t	 i;

	if (sign_rep_shape(rep) != NULL)
		return (-1);
	ipc_put_u32(b, rep->id);
	ipc_put_u32(b, (uint32_t)rep->status);
	ipc_put_str(b, rep->reason);
	ipc_put_bytes(b, rep->cert, rep->cert_len);
	ipc_put_u32(b, (uint32_t)rep->n_chain);
	for (i = 0; i < rep->n_chain; i++)
		ipc_put_bytes(b, rep->chain[i], rep->chain_len[i]);
	return (b->err != 0 ? -1 : 0);
}

static void
sign_rd_init(struct ipc_rd *r, const uint8_t *p, size_t len)
{
	struct ipc_msg	 m;

	memset(&m, 0, sizeof(m));
	m.payload = p;
	m.len = len;
	m.fd = -1;
	ipc_rd_init(r, &m);
}

int
sign_req_decode(const uint8_t *p, size_t len, struct sign_req *req,
    char *why, size_t whylen)
{
	struct ipc_rd	 r;

	memset(req, 0, sizeof(*req));
	sign_rd_init(&r, p, len);
	req->id = ipc_get_u32(&r);
	ipc_get_str(&r, req->user, sizeof(req->user));
	if (r.err != 0 || !sign_user_ok(req->user)) {
		log_why(why, whylen, "sign request: bad user name");
		goto fail;
	}
	ipc_get_str(&r, req->client_uid, sizeof(req->client_uid));
	if (r.err != 0 || !sign_uid_ok(req->client_uid)) {
		log_why(why, whylen, "sign request: bad clientUid");
		goto fail;
	}
	req->csr = ipc_get_bytes(&r, &req->csr_len);
	if (r.err != 0 || req->csr_len == 0 || req->csr_len > SIGN_CSR_MAX) {
		log_why(why, whylen, "sign request: bad CSR length");
		goto fail;
	}
	if (ipc_rd_done(&r) == -1) {
		log_why(why, whylen, "sign request: %zu bytes after the CSR",
		    len - r.off);
		goto fail;
	}
	return (0);
 fail:
	memset(req, 0, sizeof(*req));
	return (-1);
}

int
sign_rep_decode(const uint8_t *p, size_t len, struct sign_rep *rep,
    char *why, size_t whylen)
{
	struct ipc_rd	 r;
	const char	*bad;
	uint32_t	 st, n;
	size_t		 i;

	memset(rep, 0, sizeof(*rep));
	sign_rd_init(&r, p, len);
	rep->id = ipc_get_u32(&r);
	st = ipc_get_u32(&r);
	if (r.err != 0 || st >= SIGN_STATUS_MAX) {
		log_why(why, whylen, "sign reply: bad status");
		goto fail;
	}
	rep->status = (enum sign_status)st;
	ipc_get_str(&r, rep->reason, sizeof(rep->reason));
	rep->cert = ipc_get_bytes(&r, &rep->cert_len);
	if (rep->cert_len == 0)
		rep->cert = NULL;
	n = ipc_get_u32(&r);
	if (r.err != 0 || n > SIGN_CHAIN_MAX) {
		log_why(why, whylen, "sign reply: truncated or bad chain "
		    "count");
		goto fail;
	}
	rep->n_chain = n;
	for (i = 0; i < n; i++)
		rep->chain[i] = ipc_get_bytes(&r, &rep->chain_len[i]);
	if (ipc_rd_done(&r) == -1) {
		log_why(why, whylen, "sign reply: truncated, or bytes after "
		    "the chain");
		goto fail;
	}
	if ((bad = sign_rep_shape(rep)) != NULL) {
		log_why(why, whylen, "sign reply: %s", bad);
		goto fail;
	}
	return (0);
 fail:
	memset(rep, 0, sizeof(*rep));
	return (-1);
}

int
sign_req_send(struct ipc_chan *c, const struct sign_req *req)
{
	struct ipc_buf	*b;
	int		 rc = -1;

	if ((b = malloc(sizeof(*b))) == NULL)
		return (-1);
	ipc_buf_init(b);
	if (sign_req_encode(req, b) == -1)
		errno = EINVAL;
	else
		rc = ipc_send(c, IPC_MSG_SIGN_REQ, 0, 0, b->data, b->len, -1);
	free(b);
	return (rc);
}

int
sign_rep_send(struct ipc_chan *c, const struct sign_rep *rep)
{
	struct ipc_buf	*b;
	int		 rc = -1;

	if ((b = malloc(sizeof(*b))) == NULL)
		return (-1);
	ipc_buf_init(b);
	if (sign_rep_encode(rep, b) == -1)
		errno = EINVAL;
	else
		rc = ipc_send(c, IPC_MSG_SIGN_REP, 0, 0, b->data, b->len, -1);
	free(b);
	return (rc);
}

/* --- revocation (supervisor <-> signer) ------------------------------- */

int
sign_serial_ok(const char *s)
{
	size_t	 n = strlen(s);

	if (n == 0 || n >= SIGN_SERIAL_MAX)
		return (0);
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'F')))
			return (0);
	return (1);
}

static int
sign_crl_reason_ok(int reason)
{
	/* RFC 5280's codes an operator may give (pki_reason_revocable). */
	return (reason == -1 || (reason >= 0 && reason <= 5) || reason == 9);
}

int
sign_revoke_req_encode(const struct sign_revoke_req *req, struct ipc_buf *b)
{
	if (!sign_serial_ok(req->serial) || !sign_user_ok(req->admin) ||
	    !sign_crl_reason_ok(req->reason))
		return (-1);
	ipc_put_u32(b, req->id);
	ipc_put_str(b, req->serial);
	ipc_put_u32(b, (uint32_t)req->reason);
	ipc_put_str(b, req->admin);
	return (b->err != 0 ? -1 : 0);
}

int
sign_revoke_req_decode(const uint8_t *p, size_t len,
    struct sign_revoke_req *req, char *why, size_t whylen)
{
	struct ipc_rd	 r;

	memset(req, 0, sizeof(*req));
	sign_rd_init(&r, p, len);
	req->id = ipc_get_u32(&r);
	ipc_get_str(&r, req->serial, sizeof(req->serial));
	req->reason = (int)ipc_get_u32(&r);
	ipc_get_str(&r, req->admin, sizeof(req->admin));
	if (ipc_rd_done(&r) == -1 || !sign_serial_ok(req->serial) ||
	    !sign_user_ok(req->admin) || !sign_crl_reason_ok(req->reason)) {
		log_why(why, whylen, "revoke request: malformed");
		memset(req, 0, sizeof(*req));
		return (-1);
	}
	return (0);
}

int
sign_revoke_rep_encode(const struct sign_revoke_rep *rep, struct ipc_buf *b)
{
	size_t	 n = strlen(rep->reason);

	if ((unsigned)rep->status >= SIGN_STATUS_MAX ||
	    n >= SIGN_REASON_MAX || !sign_ascii_ok(rep->reason, 0x20) ||
	    (rep->status == SIGN_OK) != (n == 0))
		return (-1);
	ipc_put_u32(b, rep->id);
	ipc_put_u32(b, (uint32_t)rep->status);
	ipc_put_str(b, rep->reason);
	ipc_put_u64(b, rep->number);
	ipc_put_u32(b, rep->entries);
	return (b->err != 0 ? -1 : 0);
}

int
sign_revoke_rep_decode(const uint8_t *p, size_t len,
    struct sign_revoke_rep *rep, char *why, size_t whylen)
{
	struct ipc_rd	 r;
	uint32_t	 st;
	size_t		 n;

	memset(rep, 0, sizeof(*rep));
	sign_rd_init(&r, p, len);
	rep->id = ipc_get_u32(&r);
	st = ipc_get_u32(&r);
	ipc_get_str(&r, rep->reason, sizeof(rep->reason));
	rep->number = ipc_get_u64(&r);
	rep->entries = ipc_get_u32(&r);
	n = strlen(rep->reason);
	if (ipc_rd_done(&r) == -1 || st >= SIGN_STATUS_MAX ||
	    !sign_ascii_ok(rep->reason, 0x20) ||
	    (st == SIGN_OK) != (n == 0)) {
		log_why(why, whylen, "revoke reply: malformed");
		memset(rep, 0, sizeof(*rep));
		return (-1);
	}
	rep->status = (enum sign_status)st;
	return (0);
}
