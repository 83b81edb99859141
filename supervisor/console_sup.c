/*
 * The admin console's actions, supervisor side: see console_sup.h.
 */
#include <sys/epoll.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ipc/sign_msg.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "shared/store.h"
#include "shared/users.h"
#include "supervisor/console_sup.h"
#include "supervisor/crl_fetch.h"
#include "supervisor/proc.h"
#include "supervisor/reload.h"

/* What the api is told (IPC_MSG_DISCONNECT_ACK). */
#define CONSOLE_OPS_CLOSED	0
#define CONSOLE_OPS_NO_SESSION	1
#define CONSOLE_OPS_NO_WORKER	2

static void
console_sup_disconnect_reply(struct sup *sup, uint32_t id, uint32_t status)
{
	/* The api may have been respawned: it drops an id it never sent. */
	(void)proc_send(sup, &sup->api, IPC_MSG_DISCONNECT_ACK, id, &status,
	    sizeof(status), -1);
}

int
console_sup_disconnect(struct sup *sup, const struct ipc_msg *m)
{
	struct proc_slot	*slot = NULL;
	struct ipc_rd		 rd;
	struct ipc_buf		*b;
	char			 admin[USERS_NAME_MAX];
	uint64_t		 conn;
	unsigned		 worker, i;

	ipc_rd_init(&rd, m);
	conn = ipc_get_u64(&rd);
	ipc_get_str(&rd, admin, sizeof(admin));
	if (ipc_rd_done(&rd) == -1 || m->fd != -1 || !users_name_ok(admin)) {
		log_warnx("api: malformed disconnect request");
		return (-1);
	}
	worker = STORE_CONN_WORKER(conn);
	for (i = 0; i < sup->n_slots; i++)
		if (sup->slots[i].id == worker)
			slot = &sup->slots[i];
	if (slot == NULL || slot->state != SLOT_RUNNING) {
		log_info("console: admin \"%s\" asked to disconnect session "
		    "%llu of worker %u: that worker is not running", admin,
		    (unsigned long long)conn, worker);
		console_sup_disconnect_reply(sup, m->hdr.gen_or_peer,
		    CONSOLE_OPS_NO_WORKER);
		return (0);
	}
	if ((b = malloc(sizeof(*b))) == NULL) {
		log_warn("disconnect");
		console_sup_disconnect_reply(sup, m->hdr.gen_or_peer,
		    CONSOLE_OPS_NO_WORKER);
		return (0);
	}
	ipc_buf_init(b);
	/* The worker's own number: the low bits of the registry's id. */
	ipc_put_u64(b, conn & ((UINT64_C(1) << 48) - 1));
	ipc_put_str(b, admin);
	if (b->err != 0 || proc_send(sup, slot, IPC_MSG_DISCONNECT,
	    m->hdr.gen_or_peer, b->data, b->len, -1) == -1)
		console_sup_disconnect_reply(sup, m->hdr.gen_or_peer,
		    CONSOLE_OPS_NO_WORKER);
	free(b);
	return (0);
}

int
console_sup_disconnect_ack(struct sup *sup, struct proc_slot *slot,
    const struct ipc_msg *m)
{
	struct ipc_rd	 rd;
	uint32_t	 status;

	ipc_rd_init(&rd, m);
	status = ipc_get_u32(&rd);
	if (ipc_rd_done(&rd) == -1 || m->fd != -1 ||
	    slot->id >= TAKD_API_SLOT || status > CONSOLE_OPS_NO_SESSION)
		return (-1);
	console_sup_disconnect_reply(sup, m->hdr.gen_or_peer, status);
	return (0);
}

/* --- revoke ----------------------------------------------------------- */

#define COPS_MAGIC		0x434f5053u	/* "COPS" */
#define COPS_QUEUE		8	/* revocations waiting, one running */
#define COPS_SIGNER_MS		15000	/* the signer's answer (the lock) */
#define COPS_RETRY_MS		200	/* a reload in flight: try again */

/* What the api is told (IPC_MSG_REVOKE_ACK). */
enum cops_status {
	COPS_REVOKED = 0,	/* in force: sessions closed */
	COPS_REFUSED = 1,	/* the signer or the supervisor said no */
	COPS_NOT_INSTALLED = 2,	/* signed and journalled, not in force */
	COPS_UNAVAILABLE = 3	/* no signer, busy, failed */
};

enum cops_stage {
	COPS_IDLE,
	COPS_SIGNING,		/* asked the signer */
	COPS_RELOAD_DUE,	/* the copy is written; a reload to start */
	COPS_RELOADING
};

struct cops_req {
	uint32_t	 api_id;
	char		 serial[SIGN_SERIAL_MAX];
	int		 reason;
	char		 admin[USERS_NAME_MAX];
};

struct console_ops {
	unsigned	 magic;
	struct cops_req	 q[COPS_QUEUE];
	size_t		 n;
	struct cops_req	 cur;
	enum cops_stage	 stage;
	uint32_t	 sign_id;
	pid_t		 sign_pid;	/* the signer asked */
	int64_t		 deadline_ms;
	uint64_t	 number;	/* of the signer's CRL */
	struct sup_ev	 ev;
	int		 polled_fd;	/* the signer channel in epoll, or -1 */
};

static struct console_ops *
cops_get(struct sup *sup)
{
	struct console_ops	*co = sup->cops;

	if (co == NULL) {
		if ((co = calloc(1, sizeof(*co))) == NULL)
			return (NULL);
		co->magic = COPS_MAGIC;
		co->polled_fd = -1;
		co->ev.kind = SUP_EV_SIGNER;
		co->ev.ptr = co;
		sup->cops = co;
	}
	return (co);
}

static void
cops_reply(struct sup *sup, uint32_t api_id, enum cops_status st,
    uint64_t number, uint32_t generation, uint32_t closed, const char *msg)
{
	struct ipc_buf	*b;

	if ((b = malloc(sizeof(*b))) == NULL) {
		log_warn("revoke reply");
		return;
	}
	ipc_buf_init(b);
	ipc_put_u32(b, (uint32_t)st);
	ipc_put_u64(b, number);
	ipc_put_u32(b, generation);
	ipc_put_u32(b, closed);
	ipc_put_str(b, msg);
	if (b->err == 0)
		(void)proc_send(sup, &sup->api, IPC_MSG_REVOKE_ACK, api_id,
		    b->data, b->len, -1);
	free(b);
}

/* The server's own certificate: a console click must not take it. */
static bool
cops_is_server_cert(struct sup *sup, const char *serial)
{
	X509		*x;
	BIGNUM		*bn;
	char		*hex;
	const char	*a, *b;
	bool		 same = false;

	if (sup->ssl_ctx == NULL ||
	    (x = SSL_CTX_get0_certificate(sup->ssl_ctx)) == NULL ||
	    (bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) ==
	    NULL)
		return (false);
	if ((hex = BN_bn2hex(bn)) != NULL) {
		for (a = hex; *a == '0' && a[1] != '\0'; a++)
			;
		for (b = serial; *b == '0' && b[1] != '\0'; b++)
			;
		same = strcmp(a, b) == 0;
		OPENSSL_free(hex);
	}
	BN_free(bn);
	return (same);
}

static void	cops_next(struct sup *, struct console_ops *);

static void
cops_finish(struct sup *sup, struct console_ops *co, enum cops_status st,
    uint32_t generation, uint32_t closed, const char *msg)
{
	cops_reply(sup, co->cur.api_id, st, co->number, generation, closed,
	    msg);
	co->stage = COPS_IDLE;
	co->number = 0;
	cops_next(sup, co);
}

static void
cops_reload_done(struct sup *sup, const struct reload_report *rep, void *arg)
{
	struct console_ops	*co = arg;
	char			 msg[RELOAD_ERROR_MAX + 128];

	if (co->magic != COPS_MAGIC || co->stage != COPS_RELOADING)
		return;
	if (!rep->crl) {
		cops_finish(sup, co, COPS_NOT_INSTALLED, 0, 0, "revoked in the "
		    "journal, but [tls] crl_check is off: takd checks no CRL");
		return;
	}
	if (rep->rc == -1) {
		log_warnx("console: serial %s: the signer's CRL number %llu "
		    "was not installed: %s", co->cur.serial,
		    (unsigned long long)co->number, rep->error);
		snprintf(msg, sizeof(msg), "revoked and journalled, but the "
		    "new CRL was not installed: %s", rep->error);
		cops_finish(sup, co, COPS_NOT_INSTALLED, rep->generation, 0,
		    msg);
		return;
	}
	log_info("console: serial %s revoked for admin \"%s\": CRL number "
	    "%llu in force as generation %u, %u live session%s closed",
	    co->cur.serial, co->cur.admin, (unsigned long long)co->number,
	    rep->generation, rep->sessions_closed,
	    rep->sessions_closed == 1 ? "" : "s");
	cops_finish(sup, co, COPS_REVOKED, rep->generation,
	    rep->sessions_closed, "revoked");
}

static void
cops_reload(struct sup *sup, struct console_ops *co)
{
	char	 err[256];

	co->stage = COPS_RELOADING;
	if (reload_start(sup, cops_reload_done, co, err, sizeof(err)) == 0)
		return;
	/* One reload at a time: this one waits for the one in flight. */
	co->stage = COPS_RELOAD_DUE;
	co->deadline_ms = clock_mono_ms() + COPS_RETRY_MS;
}

static void
cops_next(struct sup *sup, struct console_ops *co)
{
	struct sign_revoke_req	 req;
	struct ipc_buf		*b;

	if (co->stage != COPS_IDLE || co->n == 0)
		return;
	co->cur = co->q[0];
	memmove(&co->q[0], &co->q[1], --co->n * sizeof(co->q[0]));
	if (sup->signer.ctl == NULL) {
		cops_finish(sup, co, COPS_UNAVAILABLE, 0, 0, "the signer is "
		    "not running; see the server's log");
		return;
	}
	memset(&req, 0, sizeof(req));
	req.id = ++co->sign_id;
	memcpy(req.serial, co->cur.serial, sizeof(req.serial));
	req.reason = co->cur.reason;
	memcpy(req.admin, co->cur.admin, sizeof(req.admin));
	if ((b = malloc(sizeof(*b))) == NULL) {
		cops_finish(sup, co, COPS_UNAVAILABLE, 0, 0, "out of memory");
		return;
	}
	ipc_buf_init(b);
	if (sign_revoke_req_encode(&req, b) == -1 ||
	    ipc_send(sup->signer.ctl, IPC_MSG_SIGN_REVOKE_REQ, 0, 0, b->data,
	    b->len, -1) == -1) {
		free(b);
		cops_finish(sup, co, COPS_UNAVAILABLE, 0, 0, "the signer "
		    "cannot be asked");
		return;
	}
	free(b);
	co->stage = COPS_SIGNING;
	co->sign_pid = sup->signer.pid;
	co->deadline_ms = clock_mono_ms() + COPS_SIGNER_MS;
	console_sup_signer_attach(sup);		/* EPOLLOUT while queued */
}

int
console_sup_revoke(struct sup *sup, const struct ipc_msg *m)
{
	struct console_ops	*co;
	struct cops_req		 r;
	struct ipc_rd		 rd;

	memset(&r, 0, sizeof(r));
	ipc_rd_init(&rd, m);
	ipc_get_str(&rd, r.serial, sizeof(r.serial));
	r.reason = (int)ipc_get_u32(&rd);
	ipc_get_str(&rd, r.admin, sizeof(r.admin));
	if (ipc_rd_done(&rd) == -1 || m->fd != -1 ||
	    !sign_serial_ok(r.serial) || !users_name_ok(r.admin) ||
	    r.reason < -1 || r.reason > 10) {
		log_warnx("api: malformed revoke request");
		return (-1);
	}
	r.api_id = m->hdr.gen_or_peer;
	if (!sup->signer_on || sup->signer.revj_fd == -1) {
		cops_reply(sup, r.api_id, COPS_UNAVAILABLE, 0, 0, 0, "this "
		    "server cannot revoke from the console (no CA key in [pki] "
		    "dir: use the CA's own tools); see the server's log");
		return (0);
	}
	if (cops_is_server_cert(sup, r.serial)) {
		log_warnx("console: admin \"%s\" tried to revoke serial %s, "
		    "the server's own certificate: refused", r.admin,
		    r.serial);
		cops_reply(sup, r.api_id, COPS_REFUSED, 0, 0, 0, "that is the "
		    "server's own certificate (takctl revoke --serial can)");
		return (0);
	}
	if ((co = cops_get(sup)) == NULL || co->n == COPS_QUEUE) {
		cops_reply(sup, r.api_id, COPS_UNAVAILABLE, 0, 0, 0, "too "
		    "many revocations under way; try again");
		return (0);
	}
	log_info("console: admin \"%s\" revokes serial %s (reason %d)",
	    r.admin, r.serial, r.reason);
	co->q[co->n++] = r;
	cops_next(sup, co);
	return (0);
}

static void
cops_signed(struct sup *sup, struct console_ops *co,
    const struct sign_revoke_rep *rep, int fd)
{
	char	 err[512], msg[SIGN_REASON_MAX + 64];

	if (rep->status != SIGN_OK) {
		snprintf(msg, sizeof(msg), "%s", rep->reason);
		cops_finish(sup, co, rep->status == SIGN_REFUSED ?
		    COPS_REFUSED : COPS_UNAVAILABLE, 0, 0, msg);
		return;
	}
	co->number = rep->number;
	if (fd == -1 || crl_fetch_copy_write(sup, fd, err, sizeof(err)) ==
	    -1) {
		log_warnx("console: serial %s: the signer's CRL number %llu: "
		    "%s", co->cur.serial, (unsigned long long)rep->number,
		    fd == -1 ? "no CRL came with the answer" : err);
		cops_finish(sup, co, COPS_NOT_INSTALLED, 0, 0, "revoked and "
		    "journalled, but the new CRL could not be kept; see the "
		    "server's log (takctl crl renew installs it)");
		return;
	}
	cops_reload(sup, co);
}

static void
cops_signer_gone(struct sup *sup, struct console_ops *co, const char *why)
{
	log_warnx("console: the signer's revocation channel: %s", why);
	console_sup_signer_detach(sup);
	ipc_chan_free(sup->signer.ctl);
	sup->signer.ctl = NULL;
	if (co->stage == COPS_SIGNING)
		cops_finish(sup, co, COPS_UNAVAILABLE, 0, 0, "the signer "
		    "stopped; try again");
}

void
console_sup_signer_event(struct sup *sup, unsigned events)
{
	struct console_ops	*co = sup->cops;
	struct sign_revoke_rep	 rep;
	struct ipc_msg		 m;
	char			 why[128];
	int			 rc = 0;

	if (co == NULL || sup->signer.ctl == NULL)
		return;
	if (events & EPOLLOUT)
		(void)ipc_flush(sup->signer.ctl);
	while (sup->signer.ctl != NULL &&
	    (rc = ipc_recv(sup->signer.ctl, &m)) == 1) {
		if (m.hdr.type != IPC_MSG_SIGN_REVOKE_REP ||
		    sign_revoke_rep_decode(m.payload, m.len, &rep, why,
		    sizeof(why)) == -1) {
			if (m.fd != -1)
				close(m.fd);
			cops_signer_gone(sup, co, "a malformed answer");
			signer_stop(&sup->signer);
			return;
		}
		if (co->stage == COPS_SIGNING && rep.id == co->sign_id)
			cops_signed(sup, co, &rep, m.fd);
		else
			log_warnx("console: an answer of the signer nobody "
			    "waits for (request %u)", rep.id);
		if (m.fd != -1)
			close(m.fd);
	}
	if (sup->signer.ctl != NULL && rc == -1)
		cops_signer_gone(sup, co, errno == 0 ? "the signer exited" :
		    strerror(errno));
	else
		console_sup_signer_attach(sup);
}

void
console_sup_signer_attach(struct sup *sup)
{
	struct console_ops	*co;
	struct epoll_event	 ev;
	struct ipc_chan		*c = sup->signer.ctl;

	if ((co = sup->cops) != NULL && co->stage == COPS_SIGNING &&
	    co->sign_pid != sup->signer.pid) {
		/* A new signer knows nothing of the old one's request. */
		cops_finish(sup, co, COPS_UNAVAILABLE, 0, 0, "the signer was "
		    "restarted; try again");
		c = sup->signer.ctl;
	}
	if (c == NULL || (co = cops_get(sup)) == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (ipc_pending(c) ? EPOLLOUT : 0);
	ev.data.ptr = &co->ev;
	if (co->polled_fd == c->fd) {
		(void)epoll_ctl(sup->epfd, EPOLL_CTL_MOD, c->fd, &ev);
		return;
	}
	console_sup_signer_detach(sup);
	if (epoll_ctl(sup->epfd, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		log_warn("console: the signer's channel");
		return;
	}
	co->polled_fd = c->fd;
}

void
console_sup_signer_detach(struct sup *sup)
{
	struct console_ops	*co = sup->cops;

	if (co == NULL || co->polled_fd == -1)
		return;
	(void)epoll_ctl(sup->epfd, EPOLL_CTL_DEL, co->polled_fd, NULL);
	co->polled_fd = -1;
}

int
console_sup_tick(struct sup *sup)
{
	struct console_ops	*co = sup->cops;
	int64_t			 now = clock_mono_ms();

	if (co == NULL || (co->stage != COPS_SIGNING &&
	    co->stage != COPS_RELOAD_DUE))
		return (-1);
	if (now < co->deadline_ms)
		return ((int)(co->deadline_ms - now));
	if (co->stage == COPS_RELOAD_DUE)
		cops_reload(sup, co);
	else {
		log_warnx("console: serial %s: the signer did not answer in "
		    "%d ms", co->cur.serial, COPS_SIGNER_MS);
		cops_finish(sup, co, COPS_UNAVAILABLE, 0, 0, "the signer did "
		    "not answer in time");
	}
	return (COPS_RETRY_MS);
}

void
console_sup_free(struct sup *sup)
{
	struct console_ops	*co = sup->cops;

	if (co == NULL)
		return;
	console_sup_signer_detach(sup);
	if (co->stage == COPS_RELOADING)
		reload_detach(sup, co);
	co->magic = 0;
	free(co);
	sup->cops = NULL;
}
