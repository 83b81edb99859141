/*
 * The api process: its event loop (libevent on epoll), its control channel
 * to the supervisor, and its life (start, drain, stop).  What it serves is
 * in marti.c (8443), enroll.c (8446) and metrics.c ([metrics] listen), on
 * the framework of http.c and conn.c.  See api.h and docs/api.md.
 *
 * The control channel speaks the workers' messages (ipc/ipc_msg.h): HELLO
 * once the loop is about to run, STATUS_REQ/REP (its counters), SHUTDOWN
 * (drain), CRL and USERS (new generations, acknowledged), LOG_FD, and its
 * own METRICS_REQ/REP, SIGNER_FD and CHANNELS/CHANNELS_ACK (channels.c).
 * As in a worker, a frame that does not match its
 * type means the two sides disagree: exit 1 rather than guess.  EOF means
 * the supervisor is gone: exit 0.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "api/console.h"
#include "api/enroll.h"
#include "api/http.h"
#include "ipc/users_msg.h"
#include "shared/clock.h"
#include "shared/crlset.h"
#include "shared/grouplist.h"
#include "shared/log.h"
#include "shared/pkgstore.h"
#include "shared/store.h"
#include "shared/tlsctx.h"
#include "shared/users.h"

#define API_CTL_QUEUE		(1024 * 1024)
#define API_CTL_FRAMES		32	/* per wakeup */

void
api_stop(struct api *api, int status, const char *why)
{
	if (api->state == API_EXIT)
		return;
	log_info("stopping: %s", why);
	api->state = API_EXIT;
	api->exit_status = status;
	event_base_loopbreak(api->base);
}

/* Write what the channel queued; wait for room while some is left. */
static void
api_ctl_flush(struct api *api)
{
	int	 rc;

	if (api->ctl == NULL)
		return;
	if ((rc = ipc_flush(api->ctl)) == 1)
		event_add(api->ctl_wev, NULL);
	else if (rc == -1)
		api_stop(api, errno == EPIPE || errno == ECONNRESET ? 0 : 1,
		    "control channel failed");
}

void
api_ctl_send(struct api *api, uint32_t type, uint32_t gen,
    const void *payload, size_t len)
{
	if (api->ctl == NULL)
		return;
	if (ipc_send(api->ctl, type, gen, TAKD_API_SLOT, payload, len,
	    -1) == 0) {
		api_ctl_flush(api);
		return;
	}
	if (errno == ENOBUFS) {
		log_warnx("control channel: out-queue full, message %u "
		    "dropped", type);
		return;
	}
	log_warn("control channel: send message %u", type);
	api_stop(api, errno == EPIPE || errno == ECONNRESET ? 0 : 1,
	    "control channel failed");
}

static void
api_ack(struct api *api, uint32_t type, uint32_t gen, uint32_t status,
    uint32_t closed, const char *err)
{
	struct ipc_buf	*b;

	/* Payload buffers are 64 KiB: too big for the stack. */
	if ((b = malloc(sizeof(*b))) == NULL) {
		log_warn("control channel: ack");
		return;
	}
	ipc_buf_init(b);
	ipc_put_u32(b, status);
	if (type == IPC_MSG_USERS_ACK)
		ipc_put_u32(b, 0);	/* no session changes groups here */
	ipc_put_u32(b, closed);
	ipc_put_str(b, err);
	if (b->err == 0)
		api_ctl_send(api, type, gen, b->data, b->len);
	free(b);
}

/* A new CRL generation: the handshakes to come, then the open ones. */
static void
api_crl_install(struct api *api, int fd, uint32_t gen)
{
	struct crlset	*set;
	char		 err[512] = "";
	unsigned	 closed = 0;
	size_t		 i;

	if ((set = crlset_map(fd, err, sizeof(err))) == NULL ||
	    crlset_check_ca(set, api->args->ca, err, sizeof(err)) == -1) {
		crlset_free(set);
		log_warnx("CRL generation %u rejected, generation %u stays in "
		    "force: %s", gen, api->crl_generation, err);
		api_ack(api, IPC_MSG_CRL_ACK, gen, 1, 0, err);
		return;
	}
	/* The verify callback lets go of the old set before it is unmapped. */
	tlsctx_crl_use(set, api->cfg->crl_check);
	if (api->crl != set)
		crlset_free(api->crl);
	api->crl = set;
	api->crl_generation = gen;
	for (i = 0; i < API_PORT_MAX; i++)
		closed += api_http_revoke(api->http[i], set);
	log_info("CRL generation %u in force: %zu revoked; %u HTTPS "
	    "connection%s closed", gen, crlset_count(set), closed,
	    closed == 1 ? "" : "s");
	api_ack(api, IPC_MSG_CRL_ACK, gen, 0, closed, "");
}

/* Users with a password hash: those HTTP Basic can authenticate. */
static size_t
api_users_hashed(const struct users *us)
{
	size_t	 i, n = 0;

	for (i = 0; i < users_count(us); i++)
		if (users_has_password(users_get(us, i)))
			n++;
	return (n);
}

/* A new users generation: the groups of the requests to come. */
static void
api_users_install(struct api *api, int fd, uint32_t gen)
{
	struct users	*set;
	char		 err[512] = "";

	if ((set = users_map(fd, "users", err, sizeof(err))) == NULL) {
		log_warnx("users generation %u rejected, generation %u stays "
		    "in force: %s", gen, api->users_generation, err);
		api_ack(api, IPC_MSG_USERS_ACK, gen, 1, 0, err);
		return;
	}
	users_free(api->users);
	api->users = set;
	api->users_generation = gen;
	log_info("users generation %u in force: %zu users, %zu with a "
	    "password hash", gen, users_count(set), api_users_hashed(set));
	api_ack(api, IPC_MSG_USERS_ACK, gen, 0, 0, "");
}

/* Open descriptors, from /proc (0 when even that one is missing). */
static uint64_t
api_count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	uint64_t	 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return (n > 0 ? n - 1 : 0);	/* not the directory's own */
}

static void
api_status(struct api *api, uint32_t req)
{
	struct ipc_buf	*b;

	if ((b = malloc(sizeof(*b))) == NULL) {
		log_warn("status reply");
		return;
	}
	api->cnt.open_fds = api_count_fds();
	if (api->pkgs != NULL)
		pkgstore_usage(api->pkgs, &api->cnt.pkg_store_bytes,
		    &api->cnt.pkg_store_count);
	api->cnt.crl_generation = api->crl_generation;
	api->cnt.crl_stale_admitted = tlsctx_stale_admissions();
	enroll_routes_counters(api);
	ipc_buf_init(b);
	counters_encode(b, &api->cnt);
	grouplist_put_counts(b, NULL, 0);	/* no CoT session has groups */
	if (b->err == 0)
		api_ctl_send(api, IPC_MSG_STATUS_REP, req, b->data, b->len);
	free(b);
}

/* Stop accepting; the requests under way finish, then the loop stops. */
static void
api_drain(struct api *api, unsigned ms, const char *why)
{
	size_t	 i;

	if (api->state != API_RUN)
		return;
	log_info("draining (%s): up to %u ms", why, ms);
	api->state = API_DRAIN;
	api->drain_deadline_ms = clock_mono_ms() + ms;
	for (i = 0; i < API_PORT_MAX; i++)
		api_http_unlisten(api->http[i]);
}

/*
 * Whether msg's payload and descriptor are what its type carries; its u32
 * fields into arg (up to 4).
 */
/* IPC_MSG_REVOKE_ACK: checked and handed over; -1 when malformed. */
static int
api_revoke_ack(struct api *api, const struct ipc_msg *msg)
{
	struct ipc_rd	 rd;
	uint32_t	 st, gen, closed;
	uint64_t	 number;
	char		 text[512];

	ipc_rd_init(&rd, msg);
	st = ipc_get_u32(&rd);
	number = ipc_get_u64(&rd);
	gen = ipc_get_u32(&rd);
	closed = ipc_get_u32(&rd);
	ipc_get_str(&rd, text, sizeof(text));
	if (ipc_rd_done(&rd) == -1 || st > 3)
		return (-1);
	console_ops_revoke_reply(api, msg->hdr.gen_or_peer, st, number, gen,
	    closed, text);
	return (0);
}

/* IPC_MSG_USER_EDIT_ACK: checked and handed over; -1 when malformed. */
static int
api_user_edit_ack(struct api *api, const struct ipc_msg *msg)
{
	uint32_t	 st;
	char		 text[USERS_MSG_TEXT_MAX];

	if (users_rep_decode(msg, &st, text, sizeof(text)) == -1)
		return (-1);
	console_users_reply(api, msg->hdr.gen_or_peer, st, text);
	return (0);
}

static bool
api_ctl_valid(const struct ipc_msg *msg, uint32_t *arg)
{
	struct ipc_rd	 rd;

	ipc_rd_init(&rd, msg);
	switch (msg->hdr.type) {
	case IPC_MSG_STATUS_REQ:
		return (msg->len == 0 && msg->fd == -1);
	case IPC_MSG_SHUTDOWN:
		*arg = ipc_get_u32(&rd);
		return (ipc_rd_done(&rd) == 0 && msg->fd == -1);
	case IPC_MSG_CRL:
	case IPC_MSG_USERS:
	case IPC_MSG_LOG_FD:
	case IPC_MSG_SIGNER_FD:
		return (msg->len == 0 && msg->fd != -1);
	case IPC_MSG_METRICS_REP:
		*arg = ipc_get_u32(&rd);
		return (ipc_rd_done(&rd) == 0 && (msg->fd != -1) ==
		    (*arg == 0));
	case IPC_MSG_CHANNELS_ACK:
		arg[0] = ipc_get_u32(&rd);
		arg[1] = ipc_get_u32(&rd);
		arg[2] = ipc_get_u32(&rd);
		arg[3] = ipc_get_u32(&rd);
		return (ipc_rd_done(&rd) == 0 && msg->fd == -1);
	case IPC_MSG_DISCONNECT_ACK:
		*arg = ipc_get_u32(&rd);
		return (ipc_rd_done(&rd) == 0 && msg->fd == -1);

	default:
		return (false);
	}
}

static void
api_ctl_msg(struct api *api, struct ipc_msg *msg)
{
	uint32_t	 arg[4] = { 0, 0, 0, 0 };

	/* A string among its fields: read, checked and handed over whole. */
	if (msg->hdr.type == IPC_MSG_REVOKE_ACK && msg->fd == -1 &&
	    api_revoke_ack(api, msg) == 0)
		return;
	if (msg->hdr.type == IPC_MSG_USER_EDIT_ACK && msg->fd == -1 &&
	    api_user_edit_ack(api, msg) == 0)
		return;
	if (!api_ctl_valid(msg, arg)) {
		log_warnx("control channel: message %u that the api process "
		    "does not take, or malformed", msg->hdr.type);
		if (msg->fd != -1)
			close(msg->fd);
		api_stop(api, 1, "control channel: unexpected message");
		return;
	}
	switch (msg->hdr.type) {
	case IPC_MSG_STATUS_REQ:
		api_status(api, msg->hdr.gen_or_peer);
		break;
	case IPC_MSG_SHUTDOWN:
		api_drain(api, arg[0], "supervisor request");
		break;
	case IPC_MSG_CRL:
		api_crl_install(api, msg->fd, msg->hdr.gen_or_peer);
		close(msg->fd);
		break;
	case IPC_MSG_USERS:
		api_users_install(api, msg->fd, msg->hdr.gen_or_peer);
		close(msg->fd);
		break;
	case IPC_MSG_LOG_FD:
		log_set_fd(msg->fd);	/* takes the descriptor */
		break;
	case IPC_MSG_SIGNER_FD:
		api_enroll_signer(api, msg->fd);	/* takes it */
		break;
	case IPC_MSG_METRICS_REP:
		/* Takes the descriptor. */
		if (msg->hdr.gen_or_peer & CONSOLE_REQ_BIT)
			console_status_reply(api, msg->hdr.gen_or_peer,
			    arg[0], msg->fd);
		else
			api_metrics_reply(api, msg->hdr.gen_or_peer, arg[0],
			    msg->fd);
		break;
	case IPC_MSG_CHANNELS_ACK:
		api_channels_reply(api, msg->hdr.gen_or_peer, arg[0], arg[1],
		    arg[2], arg[3]);
		break;
	case IPC_MSG_DISCONNECT_ACK:
		console_ops_disconnect_reply(api, msg->hdr.gen_or_peer,
		    arg[0]);
		break;
	}
}

static void
api_ctl_read(evutil_socket_t fd, short what, void *arg)
{
	struct api	*api = arg;
	struct ipc_msg	 msg;
	int		 rc = 0, n;

	for (n = 0; n < API_CTL_FRAMES && api->state != API_EXIT; n++) {
		if ((rc = ipc_recv(api->ctl, &msg)) != 1)
			break;
		api_ctl_msg(api, &msg);
	}
	if (rc == -1)
		api_stop(api, errno == 0 ? 0 : 1, errno == 0 ?
		    "supervisor gone" : "control channel failed");
}

static void
api_ctl_write(evutil_socket_t fd, short what, void *arg)
{
	api_ctl_flush(arg);
}

static void
api_signal(evutil_socket_t fd, short what, void *arg)
{
	struct api		*api = arg;
	struct signalfd_siginfo	 si;

	while (read(fd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			api_drain(api, api->cfg->drain_timeout_ms,
			    si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
}

static size_t
api_conns(const struct api *api)
{
	size_t	 i, n = 0;

	for (i = 0; i < API_PORT_MAX; i++)
		n += api_http_conns(api->http[i]);
	return (n);
}

static void
api_tick(evutil_socket_t fd, short what, void *arg)
{
	struct api	*api = arg;
	int64_t		 now = clock_mono_ms();
	size_t		 i;

	for (i = 0; i < API_PORT_MAX; i++)
		api_http_tick(api->http[i], now);
	console_tick(api, now);
	/* The supervisor's death reparents us. */
	if (getppid() != api->ppid)
		api_stop(api, 0, "supervisor gone");
	if (api->state == API_DRAIN && api_conns(api) == 0)
		api_stop(api, 0, "all connections closed");
	if (api->state == API_DRAIN && now >= api->drain_deadline_ms)
		api_stop(api, 0, "drain deadline passed");
}

static int
api_signals_init(struct api *api)
{
	sigset_t	 mask;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1 ||
	    (api->sigfd = signalfd(-1, &mask, SFD_NONBLOCK |
	    SFD_CLOEXEC)) == -1) {
		log_warn("signalfd");
		return (-1);
	}
	api->sig_ev = event_new(api->base, api->sigfd, EV_READ | EV_PERSIST,
	    api_signal, api);
	return (api->sig_ev == NULL || event_add(api->sig_ev, NULL) == -1 ?
	    -1 : 0);
}

/* libevent on epoll; not select or poll, which scale with connections. */
static struct event_base *
api_base_new(void)
{
	struct event_config	*ec;
	struct event_base	*base;

	if ((ec = event_config_new()) == NULL)
		return (NULL);
	event_config_avoid_method(ec, "select");
	event_config_avoid_method(ec, "poll");
	event_config_require_features(ec, EV_FEATURE_O1);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	return (base);
}

static const struct api_http_opts *
api_opts(const struct api *api, enum api_port port)
{
	static struct api_http_opts	 o[API_PORT_MAX];
	const struct config		*cfg = api->cfg;
	size_t				 i;

	for (i = 0; i < API_PORT_MAX; i++) {
		o[i].max_body = cfg->api_max_body;
		o[i].max_headers = cfg->api_max_headers;
		o[i].timeout_ms = cfg->api_timeout_ms;
		o[i].handshake_ms = cfg->handshake_timeout_ms;
		o[i].max_conns = cfg->api_max_conns;
		o[i].max_conns_per_address = cfg->api_max_conns_per_address;
	}
	o[API_PORT_MARTI].name = "marti";
	o[API_PORT_MARTI].tls = true;
	o[API_PORT_MARTI].client_cert = true;
	o[API_PORT_MARTI].cert_optional = console_cert_optional(cfg);
	o[API_PORT_ENROLL].name = "enroll";
	o[API_PORT_ENROLL].tls = true;
	/*
	 * The metrics listener keeps what it promised before it moved here
	 * (docs/metrics.md): plain HTTP, one request per connection, a
	 * request within 5 s of the accept, 8 connections per address and
	 * 16 in all, the oldest idle one closed for a newcomer.
	 */
	o[API_PORT_METRICS].name = "metrics";
	o[API_PORT_METRICS].plain_gate = true;
	o[API_PORT_METRICS].max_body = 0;
	o[API_PORT_METRICS].timeout_ms = API_METRICS_TIMEOUT_MS;
	o[API_PORT_METRICS].max_conns = API_METRICS_MAX_CONNS;
	o[API_PORT_METRICS].max_conns_per_address = API_METRICS_PER_ADDRESS;
	return (&o[port]);
}

static int
api_http_init(struct api *api)
{
	const struct api_listen_fd	*l;
	enum api_port			 p;
	size_t				 i;
	int				 rc;

	for (i = 0; i < api->args->n_fds; i++) {
		l = &api->args->fds[i];
		p = l->port;
		if (api->http[p] == NULL) {
			if ((api->http[p] = api_http_new(api, p, api_opts(api,
			    p))) == NULL)
				return (-1);
			rc = p == API_PORT_MARTI ? api_marti_init(api,
			    api->http[p]) : p == API_PORT_ENROLL ?
			    api_enroll_init(api, api->http[p]) :
			    api_metrics_init(api, api->http[p]);
			if (rc == 0 && p == API_PORT_MARTI &&
			    api->cfg->console_on)
				rc = console_init(api, api->http[p]);
			if (rc == -1)
				return (-1);
		}
		if (api_http_listen(api->http[p], l->fd, l->address,
		    l->portno) == -1)
			return (-1);
	}
	return (0);
}

/* Whether 8443 is served (the Marti API, data packages with it). */
static bool
cfg_api_on(const struct api *api)
{
	size_t	 i;

	for (i = 0; i < api->args->n_fds; i++)
		if (api->args->fds[i].port == API_PORT_MARTI)
			return (true);
	return (false);
}

/*
 * The data package store ([api] packages_dir): its limits, and its temp
 * area emptied, for an upload under way when this process last died is
 * gone with it.  Without it the package routes answer 503.
 */
static void
api_pkgs_open(struct api *api)
{
	char	 err[512];
	int	 n;

	if ((api->pkgs = pkgstore_open(api->cfg->api_packages_dir, 0, err,
	    sizeof(err))) == NULL) {
		log_warnx("data package store: %s; its routes will answer 503",
		    err);
		return;
	}
	pkgstore_set_limits(api->pkgs, api->cfg->api_quota,
	    api->cfg->api_user_quota);
	if ((n = pkgstore_tmp_clean(api->pkgs)) > 0)
		log_info("data package store: %d unfinished upload%s removed",
		    n, n == 1 ? "" : "s");
}

static int
api_init(struct api *api, const struct api_args *args)
{
	char		 err[512];
	uint32_t	 hello[2];

	memset(api, 0, sizeof(*api));
	api->magic = API_MAGIC;
	api->sigfd = -1;
	api->args = args;
	api->cfg = args->cfg;
	api->ppid = getppid();
	/* The supervisor's sets, inherited at fork: ours from now on. */
	api->crl = args->crl;
	api->crl_generation = args->crl_generation;
	api->users = args->users;
	api->users_generation = args->users_generation;
	tlsctx_crl_use(api->crl, api->cfg->crl_check);
	if ((api->base = api_base_new()) == NULL) {
		log_warnx("cannot make an event loop on epoll");
		return (1);
	}
	if (api_signals_init(api) == -1)
		return (1);
	if ((api->ctl = ipc_chan_new(args->ctl_fd, API_CTL_QUEUE)) == NULL) {
		log_warn("control channel");
		return (1);
	}
	api->ctl_ev = event_new(api->base, api->ctl->fd, EV_READ | EV_PERSIST,
	    api_ctl_read, api);
	api->ctl_wev = event_new(api->base, api->ctl->fd, EV_WRITE,
	    api_ctl_write, api);
	api->tick_ev = event_new(api->base, -1, EV_PERSIST, api_tick, api);
	if (api->ctl_ev == NULL || api->ctl_wev == NULL ||
	    api->tick_ev == NULL || event_add(api->ctl_ev, NULL) == -1 ||
	    event_add(api->tick_ev, &(struct timeval){ 0,
	    API_TICK_MS * 1000 }) == -1) {
		log_warnx("cannot register the control channel");
		return (1);
	}
	/* The registry, read only (clientEndPoints); its directory is ".". */
	if ((api->store = store_open(".", 0, 0, STORE_OPEN_RDONLY, err,
	    sizeof(err))) == NULL)
		log_warnx("state store: %s; clientEndPoints will answer 503",
		    err);
	if (cfg_api_on(api))
		api_pkgs_open(api);
	/* A listener that cannot serve would fail the same way again. */
	if (api_http_init(api) == -1)
		return (2);
	log_info("started on %s: %zu listeners, CRL generation %u, users "
	    "generation %u (%zu users, %zu with a password hash)",
	    event_base_get_method(api->base), args->n_fds,
	    api->crl_generation, api->users_generation,
	    users_count(api->users), api_users_hashed(api->users));
	hello[0] = TAKD_API_SLOT;
	hello[1] = (uint32_t)getpid();
	api_ctl_send(api, IPC_MSG_HELLO, api->crl_generation, hello,
	    sizeof(hello));
	return (api->state == API_EXIT ? api->exit_status : 0);
}

static void
api_teardown(struct api *api)
{
	size_t	 i;

	/* Its event streams end while their connections are there. */
	console_free(api);
	for (i = 0; i < API_PORT_MAX; i++)
		api_http_free(api->http[i]);
	api_metrics_free(api);
	api_channels_free(api);
	api_enroll_free(api);
	store_close(api->store);
	pkgstore_close(api->pkgs);
	tlsctx_crl_use(NULL, api->cfg->crl_check);
	crlset_free(api->crl);
	users_free(api->users);
	if (api->ctl != NULL) {
		/* Last words (a final ack) go out if the socket has room. */
		if (ipc_pending(api->ctl))
			(void)ipc_flush(api->ctl);
		ipc_chan_free(api->ctl);
	}
	if (api->ctl_ev != NULL)
		event_free(api->ctl_ev);
	if (api->ctl_wev != NULL)
		event_free(api->ctl_wev);
	if (api->tick_ev != NULL)
		event_free(api->tick_ev);
	if (api->sig_ev != NULL)
		event_free(api->sig_ev);
	if (api->sigfd != -1)
		close(api->sigfd);
	if (api->base != NULL)
		event_base_free(api->base);
	api->magic = 0;
}

int
api_main(const struct api_args *args)
{
	struct api	 api;
	int		 status;

	if ((status = api_init(&api, args)) == 0 &&
	    event_base_dispatch(api.base) == -1)
		status = 1;
	else if (status == 0)
		status = api.exit_status;
	log_info("exiting with status %d: %" PRIu64 " connections accepted, "
	    "%" PRIu64 " handshakes ok, %" PRIu64 " failed; %" PRIu64
	    " requests", status, api.cnt.accepted, api.cnt.handshakes_ok,
	    api.cnt.handshakes_failed, api.cnt.api_req_marti +
	    api.cnt.api_req_enroll + api.cnt.api_req_metrics);
	api_teardown(&api);
	return (status);
}
