/*
 * The api process seen from the supervisor: see api_proc.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "api/api.h"
#include "ipc/ipc.h"
#include "ipc/sign_msg.h"
#include "shared/clock.h"
#include "shared/json.h"
#include "shared/log.h"
#include "shared/users.h"
#include "supervisor/admin.h"
#include "supervisor/api_proc.h"
#include "supervisor/console_sup.h"
#include "supervisor/listen.h"
#include "supervisor/metrics.h"
#include "supervisor/proc.h"
#include "supervisor/round.h"

#define API_METRICS_MAGIC	0x41504d52u	/* "APMR" */
#define API_MEMFD_SEALS		(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | \
				    F_SEAL_WRITE)

/* One scrape the api process waits for. */
struct api_metrics_req {
	unsigned	 magic;
	uint32_t	 id;
	bool		 status_json;	/* the console's health */
};

/* Bound to loopback: only local users reach it, a token is optional. */
static bool
api_proc_loopback(const struct listener *l)
{
	return (strncmp(l->address, "127.", 4) == 0 ||
	    strcmp(l->address, "::1") == 0);
}

static int
api_proc_bind(struct sup *sup, const char *proto,
    const struct config_listen *la, char *err, size_t errlen)
{
	char	 why[512];
	int	 n;

	if (la->port[0] == '\0')
		return (0);
	n = listen_bind(proto, la, sup->api_lis + sup->n_api_lis,
	    TAKD_API_LISTEN_MAX - sup->n_api_lis, why, sizeof(why));
	if (n == -1) {
		snprintf(err, errlen, "%s", why);
		return (-1);
	}
	sup->n_api_lis += (size_t)n;
	return (0);
}

int
api_proc_open(struct sup *sup, char *err, size_t errlen)
{
	const struct config	*cfg = sup->cfg;
	size_t			 i;

	sup->api.id = TAKD_API_SLOT;
	sup->api.state = SLOT_EMPTY;
	sup->api_run = cfg->api_on || cfg->metrics_on;
	if (!sup->api_run)
		return (0);
	if (cfg->api_on && (api_proc_bind(sup, "https", &cfg->api_listen,
	    err, errlen) == -1 || api_proc_bind(sup, "enroll",
	    &cfg->api_enroll_listen, err, errlen) == -1))
		goto fail;
	if (cfg->metrics_on && api_proc_bind(sup, "metrics",
	    &cfg->metrics_listen, err, errlen) == -1)
		goto fail;
	for (i = 0; i < sup->n_api_lis; i++)
		if (strcmp(sup->api_lis[i].proto, "metrics") == 0 &&
		    cfg->metrics_token[0] == '\0' &&
		    !api_proc_loopback(&sup->api_lis[i]))
			log_warnx("metrics on %s:%u without [metrics] token: "
			    "whoever reaches it reads the counters",
			    sup->api_lis[i].address, sup->api_lis[i].port);
	return (0);
fail:
	api_proc_close_listeners(sup);
	return (-1);
}

bool
api_proc_enrolls(const struct config *cfg)
{
	return (cfg->api_on && cfg->api_enroll_listen.port[0] != '\0');
}

bool
api_proc_console_login(const struct config *cfg)
{
	return (cfg->api_on && cfg->console_on && cfg->console_login &&
	    cfg->api_listen.port[0] != '\0');
}

bool
api_proc_console_revokes(const struct config *cfg)
{
	return (cfg->api_on && cfg->console_on &&
	    cfg->api_listen.port[0] != '\0');
}

/* The console only: a signer that cannot be prepared is no reason to stop. */
static void
api_proc_revoke_prepare(struct sup *sup, const char *exe)
{
	char	 err[PATH_MAX + 512];

	if (!api_proc_console_revokes(sup->cfg))
		return;
	if (!sup->signer_on && signer_prepare(&sup->signer, sup->cfg, exe,
	    err, sizeof(err)) == -1) {
		log_warnx("console: revocation off: %s", err);
		return;
	}
	if (signer_prepare_revoke(&sup->signer, sup->cfg, err,
	    sizeof(err)) == -1) {
		log_warnx("console: revocation off: %s", err);
		if (!sup->signer_on)
			signer_close(&sup->signer);
		return;
	}
	sup->signer_on = true;
	log_info("console: revocation through %s, journal %s/%s", exe,
	    sup->cfg->pki_dir, SIGN_REVJOURNAL_NAME);
}

void
api_proc_signer_prepare(struct sup *sup)
{
	char	 exe[PATH_MAX], err[PATH_MAX + 512];

	if (!api_proc_enrolls(sup->cfg) && !api_proc_console_revokes(sup->cfg))
		return;
	if (signer_exe_default(exe, sizeof(exe)) == -1)
		fatalx_status(TAKD_EX_CONFIG, "enrollment: cannot find %s next "
		    "to takd (/proc/self/exe)", SIGNER_EXE);
	if (api_proc_enrolls(sup->cfg)) {
		if (signer_prepare(&sup->signer, sup->cfg, exe, err,
		    sizeof(err)) == -1)
			fatalx_status(TAKD_EX_CONFIG, "enrollment: %s", err);
		sup->signer_on = true;
		log_info("enrollment on: %s prepared, [pki] dir %s", exe,
		    sup->cfg->pki_dir);
	}
	api_proc_revoke_prepare(sup, exe);
}

/* Spawn with the api's channel only when it enrolls; the console's too. */
static int
api_proc_signer_spawn(struct sup *sup, int *api_fd)
{
	int	 rc;

	console_sup_signer_detach(sup);
	rc = signer_spawn(&sup->signer, api_proc_enrolls(sup->cfg) ? api_fd :
	    NULL);
	console_sup_signer_attach(sup);
	return (rc);
}

void
api_proc_signer_fork(struct sup *sup)
{
	sup->signer_fd = -1;
	if (!sup->signer_on || sup->signer.gave_up)
		return;
	/* Stops the signer of a previous api process, if any is left. */
	if (api_proc_signer_spawn(sup, &sup->signer_fd) == -1)
		log_warnx("enrollment answers 503 until a signer runs");
}

void
api_proc_signer_forked(struct sup *sup)
{
	if (sup->signer_fd >= 0)
		close(sup->signer_fd);
	sup->signer_fd = -1;
}

/* Start a signer for the running api process and hand it the channel. */
static int
api_proc_signer_hand(struct sup *sup)
{
	int	 fd = -1;

	if (api_proc_signer_spawn(sup, &fd) == -1)
		return (-1);
	if (fd == -1)
		return (0);	/* the console's only: no api channel */
	if (proc_send(sup, &sup->api, IPC_MSG_SIGNER_FD, 0, NULL, 0,
	    fd) == -1)
		log_warnx("signer: its channel could not be sent to the api "
		    "process");
	close(fd);
	return (0);
}

int
api_proc_signer_tick(struct sup *sup)
{
	struct signer_proc	*sp = &sup->signer;
	int64_t			 now = clock_mono_ms();

	if (!sup->signer_on || sup->stopping || sp->pid != -1 ||
	    sp->gave_up || sp->respawn_at_ms == 0)
		return (-1);
	/* No api running: its next fork starts a signer with it. */
	if (sup->api.state != SLOT_RUNNING || sup->api.chan == NULL)
		return (-1);
	if (!signer_respawn_due(sp, now))
		return ((int)(sp->respawn_at_ms - now));
	/* A failed fork is tried again in a second. */
	return (api_proc_signer_hand(sup) == -1 ? 1000 : -1);
}

void
api_proc_signer_renew(struct sup *sup)
{
	if (!sup->signer_on || sup->stopping)
		return;
	if (sup->signer.pid != -1 && sup->api.state == SLOT_RUNNING &&
	    sup->api.chan != NULL && api_proc_signer_hand(sup) == 0)
		return;
	signer_stop(&sup->signer);
}

void
api_proc_start(struct sup *sup)
{
	if (!sup->api_run)
		return;
	if (proc_spawn(sup, &sup->api) == -1)
		fatalx("cannot start the api process");
}

void
api_proc_close_listeners(struct sup *sup)
{
	size_t	 i;

	for (i = 0; i < sup->n_api_lis; i++)
		if (sup->api_lis[i].fd >= 0) {
			close(sup->api_lis[i].fd);
			sup->api_lis[i].fd = -1;
		}
}

const struct listener *
api_proc_listener(const struct sup *sup, size_t i)
{
	size_t	 k;

	for (k = 0; k < sup->n_api_lis; k++)
		if (sup->api_lis[k].fd >= 0 && i-- == 0)
			return (&sup->api_lis[k]);
	return (NULL);
}

static enum api_port
api_proc_port(const char *proto)
{
	if (strcmp(proto, "https") == 0)
		return (API_PORT_MARTI);
	if (strcmp(proto, "enroll") == 0)
		return (API_PORT_ENROLL);
	return (API_PORT_METRICS);
}

void
api_proc_child(struct sup *sup, int ctl_fd, pid_t parent)
{
	struct api_args		 args;
	struct api_listen_fd	 fds[TAKD_API_LISTEN_MAX];
	int			 keep[TAKD_API_LISTEN_MAX + 3];
	struct users		*users = sup->users.set;
	char			 err[512];
	size_t			 n = 0, nkeep = 0, i;

	proc_child_prepare(sup);
	/*
	 * The users with their password hashes (HTTP Basic), read before the
	 * memfd closes with every descriptor not kept.
	 */
	if (sup->users.api_fd != -1 && (users = users_map(sup->users.api_fd,
	    "users", err, sizeof(err))) == NULL) {
		log_warnx("api: the users file with its hashes: %s", err);
		exit(1);
	}
	for (i = 0; i < sup->n_api_lis; i++) {
		if (sup->api_lis[i].fd < 0)
			continue;
		fds[n].fd = sup->api_lis[i].fd;
		fds[n].port = api_proc_port(sup->api_lis[i].proto);
		snprintf(fds[n].address, sizeof(fds[n].address), "%s",
		    sup->api_lis[i].address);
		fds[n].portno = sup->api_lis[i].port;
		keep[nkeep++] = fds[n++].fd;
	}
	/* Not a worker's socket, not the admin socket, not the CRL watch. */
	keep[nkeep++] = ctl_fd;
	if (log_get_fd() >= 0)
		keep[nkeep++] = log_get_fd();
	/* Its channel to the signer; the signer's files (ca.key) go. */
	if (sup->signer_fd >= 0)
		keep[nkeep++] = sup->signer_fd;
	proc_close_inherited(keep, nkeep);
	log_procinit("api");
	/* The supervisor died between fork and PR_SET_PDEATHSIG. */
	if (getppid() != parent)
		exit(0);

	memset(&args, 0, sizeof(args));
	args.ctl_fd = ctl_fd;
	args.fds = fds;
	args.n_fds = n;
	args.ssl_ctx = sup->ssl_ctx;
	args.ca = sup->ca;
	args.crl_generation = sup->crl.info.generation;
	args.crl = sup->crl.crl;
	args.users = users;
	args.users_generation = sup->users.generation;
	args.cfg = sup->cfg;
	args.signer_fd = sup->signer_fd;
	exit(api_main(&args));
}

/* The exposition into a sealed memfd: it may be larger than a frame. */
static int
api_proc_memfd(const struct metrics_buf *b)
{
	size_t	 off = 0;
	ssize_t	 n;
	int	 fd;

	if ((fd = memfd_create("takd-metrics", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		return (-1);
	while (off < b->len) {
		if ((n = write(fd, b->buf + off, b->len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, API_MEMFD_SEALS) == -1)
		goto fail;
	return (fd);
fail:
	close(fd);
	return (-1);
}

static void
api_proc_metrics_done(struct sup *sup, const struct round *r, void *arg)
{
	struct api_metrics_req	*req = arg;
	struct metrics_buf	 body;
	struct json		 j;
	struct ipc_buf		*b;
	uint32_t		 status = 1;
	int			 fd = -1;

	if (req->magic != API_METRICS_MAGIC)
		fatalx("api metrics request: bad magic");
	memset(&body, 0, sizeof(body));
	if (req->status_json) {
		/* The console's health: takctl status's own JSON. */
		json_init(&j);
		admin_json_status(sup, r, &j);
		if (j.err)
			body.err = 1;
		else
			metrics_buf_append(&body, j.buf, j.len);
		json_free(&j);
	} else
		metrics_render(sup, r, &body);
	if (!body.err && (fd = api_proc_memfd(&body)) != -1)
		status = 0;
	else
		log_warn("metrics: cannot hand the exposition to the api "
		    "process");
	metrics_buf_free(&body);
	/* Payload buffers are 64 KiB: too big for the stack. */
	if ((b = malloc(sizeof(*b))) != NULL) {
		ipc_buf_init(b);
		ipc_put_u32(b, status);
		/* A respawned api process ignores an id it never asked. */
		(void)proc_send(sup, &sup->api, IPC_MSG_METRICS_REP, req->id,
		    b->data, b->len, fd);
		free(b);
	}
	if (fd != -1)
		close(fd);
	req->magic = 0;
	free(req);
}

void
api_proc_metrics_req(struct sup *sup, uint32_t id, bool status_json)
{
	struct api_metrics_req	*req;
	uint32_t		 status = 1;	/* as ipc_put_u32() puts it */

	if ((req = calloc(1, sizeof(*req))) != NULL) {
		req->magic = API_METRICS_MAGIC;
		req->id = id;
		req->status_json = status_json;
		if (admin_stats_start(sup, METRICS_WAIT_MS,
		    api_proc_metrics_done, req) != NULL)
			return;
		free(req);
	}
	log_warnx("metrics: out of memory for a scrape");
	(void)proc_send(sup, &sup->api, IPC_MSG_METRICS_REP, id, &status,
	    sizeof(status), -1);
}
