/*
 * The worker's end of the control channel to the supervisor (ipc/ipc_msg.h has
 * the messages).  The supervisor is trusted but checked: a frame of a type a
 * worker never receives, or with a payload or descriptor that does not match
 * its type, means the two sides disagree, and the worker exits with status 1
 * rather than guess.  EOF means the supervisor is gone: exit 0.  A checked
 * frame goes to the module of what it carries (a CRL to revoke.c, a peer to
 * fanout.c, ...); this file only reads, checks, dispatches and sends.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>


#include "ipc/ipc.h"
#include "shared/counters.h"
#include "shared/grouplist.h"
#include "shared/log.h"
#include "shared/store.h"
#include "shared/tlsctx.h"
#include "shared/users.h"
#include "worker/auth.h"
#include "worker/conn.h"
#include "worker/fanout.h"
#include "worker/groups.h"
#include "worker/registry.h"
#include "worker/revoke.h"
#include "worker/session.h"
#include "worker/staple.h"
#include "worker/takproto.h"
#include "worker/tls.h"
#include "worker/worker_int.h"

#define CTL_QUEUE_MAX		(1024 * 1024)	/* out-queue bytes */
#define CTL_FRAMES_PER_WAKEUP	32

static const char *const ctl_type_names[IPC_MSG_MAX] = {
	[IPC_MSG_HELLO] = "HELLO",
	[IPC_MSG_STATUS_REQ] = "STATUS_REQ",
	[IPC_MSG_STATUS_REP] = "STATUS_REP",
	[IPC_MSG_SHUTDOWN] = "SHUTDOWN",
	[IPC_MSG_CRL] = "CRL",
	[IPC_MSG_CRL_ACK] = "CRL_ACK",
	[IPC_MSG_LOG_FD] = "LOG_FD",
	[IPC_MSG_PEER] = "PEER",
	[IPC_MSG_DEPARTED] = "DEPARTED",
	[IPC_MSG_TICKET_KEYS] = "TICKET_KEYS",
	[IPC_MSG_USERS] = "USERS",
	[IPC_MSG_USERS_ACK] = "USERS_ACK",
	[IPC_MSG_CHANNELS] = "CHANNELS",
	[IPC_MSG_CHANNELS_ACK] = "CHANNELS_ACK",
	[IPC_MSG_OCSP_STAPLE] = "OCSP_STAPLE",
	[IPC_MSG_DISCONNECT] = "DISCONNECT",
	[IPC_MSG_DISCONNECT_ACK] = "DISCONNECT_ACK",
};

static const char *
ctl_type_name(uint32_t type)
{
	if (type < IPC_MSG_MAX && ctl_type_names[type] != NULL)
		return (ctl_type_names[type]);
	return ("unknown");
}

/* A send failure other than a full queue means the supervisor is gone. */
void
ctl_send(struct worker *w, uint32_t type, uint32_t gen,
    const struct ipc_buf *b)
{
	int	 err;

	if (b != NULL && b->err != 0) {
		log_warnx("control channel: %s does not fit in a frame",
		    ctl_type_name(type));
		return;
	}
	if (ipc_send(w->ctl, type, gen, w->args->id, b != NULL ? b->data :
	    NULL, b != NULL ? b->len : 0, -1) == 0)
		return;
	err = errno;
	if (err == ENOBUFS) {
		log_warnx("control channel: out-queue full, %s dropped",
		    ctl_type_name(type));
		return;
	}
	log_warnx("control channel: send %s: %s", ctl_type_name(type),
	    strerror(err));
	worker_stop(w, err == EPIPE || err == ECONNRESET ? 0 : 1,
	    "control channel failed");
}

int
ctl_init(struct worker *w)
{
	struct epoll_event	 ev;

	if ((w->ctl = ipc_chan_new(w->args->ctl_fd, CTL_QUEUE_MAX)) == NULL) {
		log_warn("control channel (fd %d)", w->args->ctl_fd);
		return (-1);
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.u64 = WORKER_EV_CTL;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->ctl->fd, &ev) == -1) {
		log_warn("control channel: epoll_ctl");
		return (-1);
	}
	return (0);
}

void
ctl_hello(struct worker *w)
{
	struct ipc_buf	*b;

	/* Payload buffers are 64 KiB: too big for the stack of every call. */
	if ((b = malloc(sizeof(*b))) == NULL) {
		log_warn("control channel: hello");
		worker_stop(w, 1, "out of memory");
		return;
	}
	ipc_buf_init(b);
	ipc_put_u32(b, w->args->id);
	ipc_put_u32(b, (uint32_t)getpid());
	ctl_send(w, IPC_MSG_HELLO, w->crl_generation, b);
	free(b);
}

void
ctl_free(struct worker *w)
{
	if (w->ctl == NULL)
		return;
	/* Last words (a final ack) go out if the socket has room. */
	if (ipc_pending(w->ctl))
		(void)ipc_flush(w->ctl);
	ipc_chan_free(w->ctl);
	w->ctl = NULL;
}

void
ctl_update_interest(struct worker *w)
{
	struct epoll_event	 ev;
	bool			 want;

	if (w->ctl == NULL)
		return;
	want = ipc_pending(w->ctl) != 0;
	if (want == w->ctl_out)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0);
	ev.data.u64 = WORKER_EV_CTL;
	if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, w->ctl->fd, &ev) == -1) {
		log_warn("control channel: epoll_ctl");
		worker_stop(w, 1, "control channel failed");
		return;
	}
	w->ctl_out = want;
}

/* Entries in /proc/self/fd, less the one opendir() holds. */
static int
ctl_count_proc_fds(uint32_t *count)
{
	struct dirent	*de;
	DIR		*d;
	uint32_t	 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	*count = n > 0 ? n - 1 : 0;
	return (0);
}

/* Open descriptors; out of them, count with the spare one's slot. */
static uint32_t
ctl_count_fds(struct worker *w)
{
	uint32_t	 n = 0;

	if (ctl_count_proc_fds(&n) == 0)
		return (n);
	if ((errno != EMFILE && errno != ENFILE) || w->spare_fd == -1)
		return (0);
	close(w->spare_fd);
	if (ctl_count_proc_fds(&n) == 0)
		n++;		/* the spare, back in a moment */
	w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return (n);
}

/* Bytes waiting in every session's output queue now. */
static uint64_t
ctl_queued_bytes(const struct worker *w)
{
	const struct conn	*c;
	uint64_t		 n = 0;

	TAILQ_FOREACH(c, &w->live, entry)
		n += outq_bytes(&c->s.outq);
	return (n);
}

/*
 * The numbers that are not counted as things happen but read when asked:
 * descriptors, queued bytes, the CRL in force, the store and the fan-out.
 */
static void
ctl_sample(struct worker *w)
{
	struct store_stats	 st;
	struct fanout_stats	 fs;

	w->cnt.open_fds = ctl_count_fds(w);
	w->cnt.crl_generation = w->crl_generation;
	w->cnt.outq_bytes = ctl_queued_bytes(w);
	w->cnt.mem_buffered = budget_mem_used(w);
	w->cnt.mem_budget = budget_mem_limit(w->cfg);
	w->cnt.crl_stale_admitted = tlsctx_stale_admissions();
	takproto_count(w, &w->cnt.takp_sessions_xml, &w->cnt.takp_sessions_v1);
	registry_get_stats(w, &st);
	w->cnt.store_commits = st.commits;
	w->cnt.store_commit_failures = st.commit_failures;
	w->cnt.store_ops_dropped = st.ops_dropped;
	w->cnt.store_map_grows = st.map_grows;
	w->cnt.store_map_size = st.mapsize;
	fanout_get_stats(w, &fs);
	w->cnt.fanout_peers = fs.peers;
	w->cnt.fanout_events_sent = fs.events_sent;
	w->cnt.fanout_events_received = fs.events_received;
	w->cnt.fanout_dropped_full = fs.dropped_full;
	w->cnt.fanout_dropped_down = fs.dropped_down;
	w->cnt.fanout_dropped_error = fs.dropped_error;
	w->cnt.fanout_malformed = fs.malformed;
}

/* The counters and every group with its sessions fit in one frame. */
_Static_assert(4 + COUNTERS_N * 8 + 4 + GROUPLIST_TABLE_MAX *
    (4 + GROUPLIST_NAME_MAX - 1 + 8) <= IPC_FRAME_MAX -
    sizeof(struct ipc_hdr), "STATUS_REP");

static void
ctl_status(struct worker *w, uint32_t req)
{
	struct grouplist_count	*g;
	struct ipc_buf		*b;
	size_t			 n;

	if ((b = malloc(sizeof(*b))) == NULL ||
	    (g = calloc(GROUPLIST_TABLE_MAX, sizeof(*g))) == NULL) {
		log_warn("status reply");
		free(b);
		return;
	}
	ipc_buf_init(b);
	ctl_sample(w);
	counters_encode(b, &w->cnt);
	/* Sessions per group, for takd_group_sessions (docs/metrics.md). */
	n = groups_counts(w->groups, g, GROUPLIST_TABLE_MAX);
	grouplist_put_counts(b, g, n);
	ctl_send(w, IPC_MSG_STATUS_REP, req, b);
	free(g);
	free(b);
}

/*
 * Walk the records of IPC_MSG_DEPARTED, calling fn (unless NULL) with each
 * uid, type and groups; how many it returned true for in *told.  -1 when
 * the frame is malformed: no record, more than IPC_DEPARTED_MAX, an empty
 * uid, a string too long, groups that are no list of group names, or a
 * short or long payload.  Checked whole (fn NULL) before anything is
 * delivered.
 */
static int
ctl_departed_walk(struct worker *w, const struct ipc_msg *msg,
    bool (*fn)(struct worker *, uint32_t, const char *, const char *,
    const char *), unsigned *told)
{
	/* 4 KiB, not for the stack; the worker has one thread. */
	static char	 groups[GROUPLIST_STR_MAX];
	struct ipc_rd	 rd;
	char		 uid[COT_UID_MAX], type[COT_TYPE_MAX];
	unsigned	 n;

	ipc_rd_init(&rd, msg);
	for (n = 0; rd.err == 0 && rd.off < rd.len; n++) {
		ipc_get_str(&rd, uid, sizeof(uid));
		ipc_get_str(&rd, type, sizeof(type));
		ipc_get_str(&rd, groups, GROUPLIST_STR_MAX);
		if (rd.err != 0 || uid[0] == '\0' || n == IPC_DEPARTED_MAX ||
		    grouplist_check(groups, strlen(groups)) == -1)
			return (-1);
		if (fn != NULL && fn(w, msg->hdr.gen_or_peer, uid, type,
		    groups))
			(*told)++;
	}
	return (n > 0 && ipc_rd_done(&rd) == 0 ? 0 : -1);
}

static void
ctl_departed(struct worker *w, const struct ipc_msg *msg)
{
	unsigned	 told = 0;

	(void)ctl_departed_walk(w, msg, session_departed, &told);
	if (told > 0)
		log_info("worker %u died: %u of its clients announced as "
		    "disconnected here", msg->hdr.gen_or_peer, told);
}

/*
 * The supervisor's session ticket key ring: in force for the handshakes
 * from now on.  The frame was checked (ctl_msg_valid()); the key bytes are
 * wiped from the receive buffer and from the stack once installed.
 */
static void
ctl_ticket_keys(struct worker *w, const struct ipc_msg *msg)
{
	struct tls_ticket_ring	 ring;

	if (tls_ticket_decode(msg, &ring) == 0 &&
	    tls_ticket_set(w->ctx, &ring, &w->cnt.tickets_renewed,
	    &w->cnt.tickets_refused) == 0)
		log_debug("session ticket keys generation %u in force (%u "
		    "keys)", ring.generation, ring.n);
	else
		log_warnx("session ticket keys generation %u: cannot install "
		    "the ticket callback; the keys in force stay",
		    msg->hdr.gen_or_peer);
	OPENSSL_cleanse(&ring, sizeof(ring));
	/* The payload is the channel's receive buffer, ours to clear. */
	OPENSSL_cleanse((void *)(uintptr_t)msg->payload, msg->len);
}

/* IPC_MSG_CHANNELS: str user, str clientUid.  NULL buffers: check only. */
static int
ctl_channels_read(const struct ipc_msg *msg, char *user, char *uid)
{
	struct ipc_rd	 rd;
	char		 ubuf[USERS_NAME_MAX], idbuf[STORE_UID_SIZE];

	ipc_rd_init(&rd, msg);
	ipc_get_str(&rd, user != NULL ? user : ubuf, USERS_NAME_MAX);
	ipc_get_str(&rd, uid != NULL ? uid : idbuf, STORE_UID_SIZE);
	if (ipc_rd_done(&rd) == -1 || (user != NULL ? user : ubuf)[0] == '\0')
		return (-1);
	return (0);
}

static void
ctl_channels(struct worker *w, const struct ipc_msg *msg)
{
	char	 user[USERS_NAME_MAX], uid[STORE_UID_SIZE];

	if (ctl_channels_read(msg, user, uid) == 0)
		auth_channels(w, msg->hdr.gen_or_peer, user, uid);
}

/* IPC_MSG_DISCONNECT: u64 connection number, str admin. */
static int
ctl_disconnect_read(const struct ipc_msg *msg, uint64_t *id, char *admin)
{
	struct ipc_rd	 rd;

	ipc_rd_init(&rd, msg);
	*id = ipc_get_u64(&rd);
	ipc_get_str(&rd, admin, USERS_NAME_MAX);
	if (ipc_rd_done(&rd) == -1 || admin[0] == '\0')
		return (-1);
	return (0);
}

static void
ctl_disconnect(struct worker *w, const struct ipc_msg *msg)
{
	struct ipc_buf	*b;
	char		 admin[USERS_NAME_MAX];
	uint64_t	 id;
	uint32_t	 status;

	if (ctl_disconnect_read(msg, &id, admin) == -1)
		return;
	status = session_close_admin(w, id, admin) == 0 ? 0 : 1;
	if (status != 0)
		log_info("admin \"%s\" asked to disconnect session %llu: not "
		    "here (closed meanwhile)", admin, (unsigned long long)id);
	if ((b = malloc(sizeof(*b))) == NULL) {
		log_warn("disconnect ack");
		return;
	}
	ipc_buf_init(b);
	ipc_put_u32(b, status);
	ctl_send(w, IPC_MSG_DISCONNECT_ACK, msg->hdr.gen_or_peer, b);
	free(b);
}

/* Check the payload and descriptor against what the type carries. */
static int
ctl_msg_valid(struct worker *w, const struct ipc_msg *msg,
    uint32_t *shutdown_ms)
{
	struct ipc_rd	 rd;

	switch (msg->hdr.type) {
	case IPC_MSG_STATUS_REQ:
		return (msg->len == 0 && msg->fd == -1);
	case IPC_MSG_SHUTDOWN:
		ipc_rd_init(&rd, msg);
		*shutdown_ms = ipc_get_u32(&rd);
		return (ipc_rd_done(&rd) == 0 && msg->fd == -1);
	case IPC_MSG_CRL:
	case IPC_MSG_USERS:
	case IPC_MSG_LOG_FD:
	case IPC_MSG_PEER:
		return (msg->len == 0 && msg->fd != -1);
	case IPC_MSG_DEPARTED:
		/* Our own death cannot be news to us. */
		return (msg->fd == -1 && msg->hdr.gen_or_peer != w->args->id &&
		    ctl_departed_walk(w, msg, NULL, NULL) == 0);
	case IPC_MSG_TICKET_KEYS:
		return (msg->fd == -1 && tls_ticket_decode(msg, NULL) == 0);
	case IPC_MSG_CHANNELS:
		return (msg->fd == -1 && ctl_channels_read(msg, NULL, NULL) ==
		    0);
	case IPC_MSG_OCSP_STAPLE:
		return (staple_check(msg) == 0);
	case IPC_MSG_DISCONNECT: {
		char		 admin[USERS_NAME_MAX];
		uint64_t	 id;

		return (msg->fd == -1 && ctl_disconnect_read(msg, &id,
		    admin) == 0);
	}
	default:
		return (0);
	}
}

static void
ctl_dispatch(struct worker *w, struct ipc_msg *msg)
{
	uint32_t	 ms = 0;

	if (!ctl_msg_valid(w, msg, &ms)) {
		log_warnx("control channel: malformed %s frame (type %u, "
		    "%zu byte payload, %s descriptor)",
		    ctl_type_name(msg->hdr.type), msg->hdr.type, msg->len,
		    msg->fd == -1 ? "no" : "with");
		if (msg->fd != -1)
			close(msg->fd);
		worker_stop(w, 1, "supervisor protocol error");
		return;
	}
	switch (msg->hdr.type) {
	case IPC_MSG_STATUS_REQ:
		ctl_status(w, msg->hdr.gen_or_peer);
		break;
	case IPC_MSG_SHUTDOWN:
		worker_drain(w, ms, "supervisor request");
		break;
	case IPC_MSG_CRL:
		revoke_install(w, msg->fd, msg->hdr.gen_or_peer);
		close(msg->fd);
		break;
	case IPC_MSG_USERS:
		auth_install(w, msg->fd, msg->hdr.gen_or_peer);
		close(msg->fd);
		break;
	case IPC_MSG_LOG_FD:
		log_set_fd(msg->fd);	/* takes the descriptor */
		break;
	case IPC_MSG_PEER:
		/* Takes the descriptor. */
		fanout_add_peer(w, msg->hdr.gen_or_peer, msg->fd);
		break;
	case IPC_MSG_DEPARTED:
		ctl_departed(w, msg);
		break;
	case IPC_MSG_TICKET_KEYS:
		ctl_ticket_keys(w, msg);
		break;
	case IPC_MSG_CHANNELS:
		ctl_channels(w, msg);
		break;
	case IPC_MSG_OCSP_STAPLE:
		if (staple_install(w->ctx, msg, &w->cnt.ocsp_stapled) == -1)
			log_warnx("OCSP staple %u: cannot install the status "
			    "callback; handshakes go on without a staple",
			    msg->hdr.gen_or_peer);
		break;
	case IPC_MSG_DISCONNECT:
		ctl_disconnect(w, msg);
		break;
	}
}

static void
ctl_read(struct worker *w, uint32_t events)
{
	struct ipc_msg	 msg;
	int		 i, r;

	for (i = 0; i < CTL_FRAMES_PER_WAKEUP; i++) {
		if (w->state == WORKER_EXIT)
			return;
		if ((r = ipc_recv(w->ctl, &msg)) == 0)
			return;
		if (r == 1) {
			ctl_dispatch(w, &msg);
			continue;
		}
		if (errno == EBADMSG) {
			/* ipc_recv logged what was wrong with it. */
			worker_stop(w, 1, "malformed frame on the control "
			    "channel");
		} else if (errno == 0 || errno == ECONNRESET ||
		    (events & (EPOLLHUP | EPOLLRDHUP))) {
			worker_stop(w, 0, "supervisor closed the control "
			    "channel");
		} else {
			log_warn("control channel: receive");
			worker_stop(w, 1, "control channel failed");
		}
		return;
	}
}

void
ctl_handle(struct worker *w, uint32_t events)
{
	if ((events & EPOLLOUT) && ipc_flush(w->ctl) == -1) {
		log_warn("control channel: send");
		worker_stop(w, 0, "supervisor closed the control channel");
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP | EPOLLERR))
		ctl_read(w, events);
}
