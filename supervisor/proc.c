/*
 * The worker slot table: fork, reap, respawn with exponential backoff.  A slot
 * keeps its number across respawns so that status and logs can say "worker 1
 * was restarted 3 times".
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/ipc.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "shared/store.h"
#include "supervisor/api_proc.h"
#include "supervisor/chanpush.h"
#include "supervisor/cluster_proc.h"
#include "supervisor/console_sup.h"
#include "supervisor/listen.h"
#include "supervisor/notify.h"
#include "supervisor/proc.h"
#include "supervisor/reload.h"
#include "supervisor/round.h"
#include "supervisor/state.h"
#include "supervisor/ocsp.h"
#include "supervisor/ticket.h"
#include "supervisor/usersd_proc.h"
#include "worker/worker.h"

#define PROC_CHAN_QUEUE		(1024 * 1024)

/*
 * The most a worker's control channel may queue.  Besides PROC_CHAN_QUEUE
 * for the usual traffic, room for the uids of every session of every other
 * worker (IPC_MSG_DEPARTED, sent all at once when they die): a frame that
 * does not fit is lost, and its clients stay on the maps.  A bound, not an
 * allocation: it is used only while a worker is behind.
 */
static size_t
proc_chan_queue(const struct sup *sup)
{
	return (PROC_CHAN_QUEUE + (size_t)sup->cfg->max_sessions *
	    (sup->n_slots - 1) * STATE_DEPARTED_REC_MAX);
}

const char *
proc_name(const struct proc_slot *slot, char *buf)
{
	if (slot->id == TAKD_API_SLOT)
		snprintf(buf, PROC_NAME_MAX, "api process");
	else if (slot->id == TAKD_CLUSTER_SLOT)
		snprintf(buf, PROC_NAME_MAX, "cluster process");
	else
		snprintf(buf, PROC_NAME_MAX, "worker %u", slot->id);
	return (buf);
}

void
proc_describe_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (SIG%s)%s",
		    WTERMSIG(status), sigabbrev_np(WTERMSIG(status)) ?
		    sigabbrev_np(WTERMSIG(status)) : "?",
		    WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, len, "ended with wait status 0x%x", status);
}

/*
 * In the child: close every descriptor the worker must not hold, the
 * listening sockets of the other slots among them (there may be thousands:
 * one per slot and address), in rounds of PROC_CLOSE_BATCH.
 */
#define PROC_CLOSE_BATCH	1024

void
proc_close_inherited(const int *keep, size_t nkeep)
{
	DIR		*d;
	struct dirent	*de;
	int		 fd, dfd;
	size_t		 i;
	int		 close_list[PROC_CLOSE_BATCH];
	size_t		 n;

	do {
		n = 0;
		if ((d = opendir("/proc/self/fd")) == NULL)
			fatal("opendir /proc/self/fd");
		dfd = dirfd(d);
		while ((de = readdir(d)) != NULL && n < PROC_CLOSE_BATCH) {
			if (de->d_name[0] == '.')
				continue;
			fd = atoi(de->d_name);
			if (fd <= STDERR_FILENO || fd == dfd)
				continue;
			for (i = 0; i < nkeep; i++)
				if (keep[i] == fd)
					break;
			if (i == nkeep)
				close_list[n++] = fd;
		}
		closedir(d);
		for (i = 0; i < n; i++)
			close(close_list[i]);
	} while (n == PROC_CLOSE_BATCH);
}

/*
 * In a child just forked (a worker or the api process), before anything
 * else: what it must not keep of the supervisor's, and its signals.
 */
void
proc_child_prepare(struct sup *sup)
{
	sigset_t	 mask;

	/* The supervisor may die without a chance to tell us. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		fatal("prctl(PR_SET_PDEATHSIG)");
	/*
	 * Release the inherited LMDB environment while its descriptors are
	 * still its own: closed below, their numbers would be reused, and a
	 * later release (the worker's store_open()) would close those.
	 */
	store_close(sup->store);
	sup->store = NULL;
	/*
	 * The worker gets the ticket keys over the channel; this copy of the
	 * supervisor's would never rotate and outlive its keys.
	 */
	ticket_free(sup);
	/* The signer's files, ca.key among them, are the supervisor's only. */
	signer_close(&sup->signer);
	/* takd-usersd's channel is the supervisor's only. */
	usersd_proc_child_close(sup);
	/*
	 * TERM and INT stay blocked: the child reads them from its own
	 * signalfd, so there is no window where they would kill it outright.
	 */
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_SETMASK, &mask, NULL);
}

static void __attribute__((noreturn))
proc_child(struct sup *sup, struct proc_slot *slot, int ctl_fd, pid_t parent)
{
	struct worker_args	 args;
	int			 fds[2 * TAKD_MAX_LISTEN], tcp[2 * TAKD_MAX_LISTEN];
	int			 keep[4 * TAKD_MAX_LISTEN + 2];
	size_t			 n, ntcp, nkeep = 0, i;
	char			 name[32];

	if (slot->id == TAKD_API_SLOT)
		api_proc_child(sup, ctl_fd, parent);
	if (slot->id == TAKD_CLUSTER_SLOT)
		cluster_proc_child(sup, ctl_fd, parent);
	proc_child_prepare(sup);
	/* This slot's listening sockets, the ones its predecessor had. */
	n = listen_tls_fds(sup, slot->id, fds, 2 * TAKD_MAX_LISTEN);
	for (i = 0; i < n; i++)
		keep[nkeep++] = fds[i];
	ntcp = listen_tcp_fds(sup, slot->id, tcp, 2 * TAKD_MAX_LISTEN);
	for (i = 0; i < ntcp; i++)
		keep[nkeep++] = tcp[i];
	keep[nkeep++] = ctl_fd;
	if (log_get_fd() >= 0)
		keep[nkeep++] = log_get_fd();
	proc_close_inherited(keep, nkeep);

	snprintf(name, sizeof(name), "worker %u", slot->id);
	log_procinit(name);
	/* The supervisor died between fork and PR_SET_PDEATHSIG. */
	if (getppid() != parent)
		exit(0);

	memset(&args, 0, sizeof(args));
	args.id = slot->id;
	args.ctl_fd = ctl_fd;
	args.tls_fds = fds;
	args.n_tls_fds = n;
	args.tcp_fds = tcp;
	args.n_tcp_fds = ntcp;
	args.ssl_ctx = sup->ssl_ctx;
	args.ca = sup->ca;
	args.crl_generation = sup->crl.info.generation;
	args.crl = sup->crl.crl;
	args.users = sup->users.set;
	args.users_generation = sup->users.generation;
	args.cfg = sup->cfg;
	for (i = 0; i < sup->n_api_lis; i++)
		if (strcmp(sup->api_lis[i].proto, "https") == 0) {
			args.api_port = sup->api_lis[i].port;
			break;
		}
	exit(worker_main(&args));
}

int
proc_spawn(struct sup *sup, struct proc_slot *slot)
{
	struct epoll_event	 ev;
	int			 sv[2];
	pid_t			 pid, parent = getpid();
	char			 name[PROC_NAME_MAX];

	(void)proc_name(slot, name);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("%s: socketpair", name);
		return (-1);
	}
	/* Each api process gets a signer of its own (api_proc.h). */
	if (slot->id == TAKD_API_SLOT)
		api_proc_signer_fork(sup);
	if ((pid = fork()) == -1) {
		log_warn("%s: fork", name);
		close(sv[0]);
		close(sv[1]);
		if (slot->id == TAKD_API_SLOT)
			api_proc_signer_forked(sup);
		return (-1);
	}
	if (pid == 0) {
		close(sv[0]);
		proc_child(sup, slot, sv[1], parent);
	}
	close(sv[1]);
	if (slot->id == TAKD_API_SLOT)
		api_proc_signer_forked(sup);
	if ((slot->chan = ipc_chan_new(sv[0], proc_chan_queue(sup))) == NULL) {
		log_warnx("%s: cannot set up control channel", name);
		kill(pid, SIGKILL);
		slot->pid = pid;
		slot->state = SLOT_RUNNING;
		return (0);	/* reaped and respawned like any dead worker */
	}
	slot->pid = pid;
	slot->state = SLOT_RUNNING;
	slot->hello = false;
	slot->started = time(NULL);
	slot->started_ms = clock_mono_ms();
	memset(&slot->stats, 0, sizeof(slot->stats));
	free(slot->groups);
	slot->groups = NULL;
	slot->n_groups = 0;
	slot->ev.kind = SUP_EV_WORKER;
	slot->ev.ptr = slot;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &slot->ev;
	if (epoll_ctl(sup->epfd, EPOLL_CTL_ADD, slot->chan->fd, &ev) == -1)
		log_warn("%s: epoll_ctl", name);
	log_info("%s started, pid %d", name, (int)pid);
	/* The api process makes no session ticket and joins no mesh. */
	if (slot->id == TAKD_API_SLOT)
		return (0);
	/* The cluster process is one more peer of the mesh, no more. */
	if (slot->id == TAKD_CLUSTER_SLOT) {
		mesh_connect(sup, slot);
		cluster_proc_spawned(sup);
		return (0);
	}
	/* Frames wait in the socket until the worker reads them. */
	ticket_send(sup, slot);
	ocsp_send(sup, slot);
	mesh_connect(sup, slot);
	return (0);
}

/* Wait for EPOLLOUT only while frames are queued. */
static void
proc_watch(struct sup *sup, struct proc_slot *slot)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (ipc_pending(slot->chan) ? EPOLLOUT : 0);
	ev.data.ptr = &slot->ev;
	epoll_ctl(sup->epfd, EPOLL_CTL_MOD, slot->chan->fd, &ev);
}

int
proc_send(struct sup *sup, struct proc_slot *slot, uint32_t type, uint32_t gen,
    const void *payload, size_t len, int pass_fd)
{
	int	 rc;

	if (slot->state != SLOT_RUNNING || slot->chan == NULL)
		return (-1);
	rc = ipc_send(slot->chan, type, gen, 0, payload, len, pass_fd);
	/* EPIPE: the worker is exiting and SIGCHLD will say why. */
	if (rc == -1 && errno != EPIPE && errno != ECONNRESET) {
		char	 name[PROC_NAME_MAX];

		log_warn("%s: control message %u not sent",
		    proc_name(slot, name), type);
	}
	proc_watch(sup, slot);
	return (rc);
}

/*
 * Readiness at start.  Under systemd (Type=notify) `systemctl start takd`
 * returns at READY=1, so it goes only once the worker of every slot has said
 * hello, which a worker does from its loop, its acceptors armed and its
 * store open (worker/ctl.c): takd then serves.  A worker that dies before
 * is respawned as usual and its replacement must say hello; one that said
 * hello and died before the others did counts no more.  A slot that gave up
 * (exit 2) never will: it does not hold readiness back.  A stop during the
 * start cancels it: STOPPING=1 is the last word.
 *
 * The wait is bounded.  After PROC_READY_WAIT_MS, READY=1 goes as soon as
 * one worker is up, with a STATUS= that says how many are, and a warning in
 * the log.  The alternative, failing the start, would take down the workers
 * that do serve (connections reach them), whereas
 * a worker that keeps dying is respawned with backoff and shows in the log,
 * in takctl status and in takd_worker_restarts_total; and waiting on would
 * only end with systemd killing takd at TimeoutStartSec.  With no worker up
 * nothing serves and READY=1 would be false: then TimeoutStartSec decides.
 */
static void
proc_ready_check(struct sup *sup)
{
	const struct proc_slot	*slot;
	unsigned		 i, up = 0, pending = 0;
	int64_t			 waited;

	if (sup->ready || sup->stopping || sup->ready_deadline_ms == 0)
		return;
	for (i = 0; i < sup->n_slots; i++) {
		slot = &sup->slots[i];
		if (slot->state == SLOT_RUNNING && slot->hello)
			up++;
		else if (slot->state != SLOT_GAVE_UP)
			pending++;
	}
	waited = clock_mono_ms() - sup->ready_deadline_ms + PROC_READY_WAIT_MS;
	if (up == 0 || (pending > 0 && waited < PROC_READY_WAIT_MS))
		return;
	sup->ready = true;
	if (up == sup->n_slots) {
		log_info("all %u workers up: ready", up);
		notify_ready("READY=1\nMAINPID=%d\nSTATUS=%u workers, %zu "
		    "listeners, CRL generation %u", (int)getpid(), up,
		    sup->n_listeners, sup->crl.info.generation);
		return;
	}
	if (pending > 0)
		log_warnx("only %u of %u workers said hello in %lld ms; "
		    "telling the service manager takd is ready anyway", up,
		    sup->n_slots, (long long)waited);
	else
		log_warnx("only %u of %u workers up, the others gave up; "
		    "ready", up, sup->n_slots);
	notify_ready("READY=1\nMAINPID=%d\nSTATUS=%u of %u workers up, %zu "
	    "listeners, CRL generation %u", (int)getpid(), up, sup->n_slots,
	    sup->n_listeners, sup->crl.info.generation);
}

void
proc_ready_arm(struct sup *sup)
{
	sup->ready = false;
	sup->ready_deadline_ms = clock_mono_ms() + PROC_READY_WAIT_MS;
}

int
proc_ready_tick(struct sup *sup)
{
	int64_t	 left;

	if (sup->ready || sup->stopping || sup->ready_deadline_ms == 0)
		return (-1);
	if ((left = sup->ready_deadline_ms - clock_mono_ms()) > 0)
		return ((int)left);
	/* Past it, the next hello sends READY=1 if nobody is up now. */
	proc_ready_check(sup);
	return (-1);
}

static struct proc_slot *
proc_find(struct sup *sup, pid_t pid)
{
	unsigned	 i;

	for (i = 0; i < sup->n_slots; i++)
		if (sup->slots[i].pid == pid &&
		    sup->slots[i].state == SLOT_RUNNING)
			return (&sup->slots[i]);
	if (sup->api_run && sup->api.pid == pid &&
	    sup->api.state == SLOT_RUNNING)
		return (&sup->api);
	if (sup->cluster_run && sup->cluster.pid == pid &&
	    sup->cluster.state == SLOT_RUNNING)
		return (&sup->cluster);
	return (NULL);
}

static void
proc_close_chan(struct sup *sup, struct proc_slot *slot)
{
	if (slot->chan == NULL)
		return;
	epoll_ctl(sup->epfd, EPOLL_CTL_DEL, slot->chan->fd, NULL);
	ipc_chan_free(slot->chan);
	slot->chan = NULL;
}

static void
proc_schedule_respawn(struct sup *sup, struct proc_slot *slot)
{
	int64_t	 lived = clock_mono_ms() - slot->started_ms;
	char	 name[PROC_NAME_MAX];

	if (lived >= PROC_STABLE_MS)
		slot->backoff_ms = PROC_BACKOFF_MIN_MS;
	else if (slot->backoff_ms == 0)
		slot->backoff_ms = PROC_BACKOFF_MIN_MS;
	else if ((slot->backoff_ms *= 2) > PROC_BACKOFF_MAX_MS)
		slot->backoff_ms = PROC_BACKOFF_MAX_MS;
	slot->respawn_at_ms = clock_mono_ms() + slot->backoff_ms;
	slot->state = SLOT_RESPAWN_WAIT;
	log_info("%s will be respawned in %u ms", proc_name(slot, name),
	    slot->backoff_ms);
}

static void
proc_exited(struct sup *sup, struct proc_slot *slot, int status)
{
	char	 why[96], name[PROC_NAME_MAX];

	(void)proc_name(slot, name);
	proc_describe_status(status, why, sizeof(why));
	slot->last_status = status;
	slot->pid = 0;
	slot->hello = false;
	proc_close_chan(sup, slot);
	round_worker_gone(sup, slot);
	if (sup->stopping) {
		slot->state = SLOT_STOPPED;
		log_info("%s %s", name, why);
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
		slot->state = SLOT_GAVE_UP;
		log_warnx("%s %s (do not respawn); slot left empty", name,
		    why);
		/* Nobody would ever accept what the kernel queues there. */
		if (slot->id == TAKD_API_SLOT)
			api_proc_close_listeners(sup);
		else
			listen_close_slot(sup, slot->id);
		return;
	}
	log_warnx("%s died: %s", name, why);
	proc_schedule_respawn(sup, slot);
}

void
proc_reap(struct sup *sup)
{
	struct proc_slot	*slot;
	pid_t			 pid;
	int			 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		/* takd-signer: its own backoff (api_proc_signer_tick()). */
		if (signer_exited(&sup->signer, pid, status,
		    clock_mono_ms()) || usersd_proc_exited(sup, pid, status))
			continue;
		if ((slot = proc_find(sup, pid)) == NULL) {
			log_debug("reaped unknown child %d", (int)pid);
			continue;
		}
		proc_exited(sup, slot, status);
		/* Before the slot is respawned, which is never right away. */
		state_worker_gone(sup, slot);
	}
	/* A slot that gave up no longer holds readiness back. */
	proc_ready_check(sup);
}

int
proc_respawn_due(struct sup *sup)
{
	int64_t		 now = clock_mono_ms(), next = -1;
	unsigned	 i;
	struct proc_slot *slot;

	if (sup->stopping)
		return (-1);
	/* The workers, then the api and cluster processes. */
	for (i = 0; i <= sup->n_slots + 1; i++) {
		slot = i < sup->n_slots ? &sup->slots[i] : i == sup->n_slots ?
		    &sup->api : &sup->cluster;
		if (slot->state != SLOT_RESPAWN_WAIT)
			continue;
		if (slot->respawn_at_ms <= now) {
			slot->restarts++;
			if (proc_spawn(sup, slot) == -1) {
				proc_schedule_respawn(sup, slot);
				slot->restarts--;
			} else
				continue;
		}
		if (next == -1 || slot->respawn_at_ms - now < next)
			next = slot->respawn_at_ms - now;
	}
	return ((int)next);
}

void
proc_shutdown_all(struct sup *sup)
{
	struct ipc_buf	 b;
	unsigned	 i;

	struct proc_slot *s;

	ipc_buf_init(&b);
	ipc_put_u32(&b, sup->cfg->drain_timeout_ms);
	for (i = 0; i <= sup->n_slots + 1; i++) {
		s = i < sup->n_slots ? &sup->slots[i] : i == sup->n_slots ?
		    &sup->api : &sup->cluster;
		if (s->state == SLOT_RESPAWN_WAIT || s->state == SLOT_EMPTY)
			s->state = SLOT_STOPPED;
		if (s->state != SLOT_RUNNING || s->chan == NULL)
			continue;
		if (proc_send(sup, s, IPC_MSG_SHUTDOWN, 0, b.data, b.len,
		    -1) == -1)
			kill(s->pid, SIGTERM);
	}
}

unsigned
proc_running(const struct sup *sup)
{
	unsigned	 i, n = 0;

	for (i = 0; i < sup->n_slots; i++)
		if (sup->slots[i].state == SLOT_RUNNING)
			n++;
	if (sup->api.state == SLOT_RUNNING)
		n++;
	if (sup->cluster.state == SLOT_RUNNING)
		n++;
	return (n);
}

void
proc_kill_all(struct sup *sup, int sig)
{
	unsigned	 i;

	for (i = 0; i < sup->n_slots; i++)
		if (sup->slots[i].state == SLOT_RUNNING && sup->slots[i].pid > 0)
			kill(sup->slots[i].pid, sig);
	if (sup->api.state == SLOT_RUNNING && sup->api.pid > 0)
		kill(sup->api.pid, sig);
	if (sup->cluster.state == SLOT_RUNNING && sup->cluster.pid > 0)
		kill(sup->cluster.pid, sig);
}

static int
proc_ctl_msg(struct sup *sup, struct proc_slot *slot, const struct ipc_msg *m)
{
	struct grouplist_count	*groups = NULL;
	struct ipc_rd		 rd;
	struct round		*r;
	uint32_t		 id, pid;
	size_t			 n;
	char			 name[PROC_NAME_MAX];

	(void)proc_name(slot, name);
	ipc_rd_init(&rd, m);
	switch (m->hdr.type) {
	case IPC_MSG_HELLO:
		id = ipc_get_u32(&rd);
		pid = ipc_get_u32(&rd);
		if (ipc_rd_done(&rd) == -1)
			return (-1);
		if (id != slot->id || pid != (uint32_t)slot->pid) {
			log_warnx("%s (pid %d) says hello as %u, pid %u", name,
			    (int)slot->pid, id, pid);
			return (-1);
		}
		log_debug("%s says hello", name);
		slot->hello = true;
		proc_ready_check(sup);
		return (0);
	case IPC_MSG_STATUS_REP:
		if (counters_decode(&rd, &slot->stats) == -1)
			return (-1);
		/* Then its sessions per group (takd_group_sessions). */
		if (grouplist_get_counts(&rd, &groups, &n) == -1 ||
		    ipc_rd_done(&rd) == -1) {
			free(groups);
			return (-1);
		}
		free(slot->groups);
		slot->groups = groups;
		slot->n_groups = n;
		/* Late or unasked, the counters are still the freshest. */
		if ((r = round_find(sup, IPC_MSG_STATUS_REQ,
		    m->hdr.gen_or_peer, slot)) != NULL)
			round_answer(sup, r, slot);
		return (0);
	case IPC_MSG_CRL_ACK:
		return (reload_worker_ack(sup, slot, m));
	case IPC_MSG_USERS_ACK:
		return (reload_users_ack(sup, slot, m));
	case IPC_MSG_METRICS_REQ:
		/* No payload: /metrics; a u32 1: takctl status (console). */
		if (slot->id != TAKD_API_SLOT || (m->len != 0 &&
		    (m->len != sizeof(uint32_t) ||
		    memcmp(m->payload, &(uint32_t){ 1 }, sizeof(uint32_t)) !=
		    0)))
			break;
		api_proc_metrics_req(sup, m->hdr.gen_or_peer, m->len != 0);
		return (0);
	case IPC_MSG_CHANNELS:
		if (slot->id != TAKD_API_SLOT)
			break;
		return (chanpush_req(sup, m));
	case IPC_MSG_CHANNELS_ACK:
		return (chanpush_ack(sup, slot, m));
	case IPC_MSG_DISCONNECT:
		if (slot->id != TAKD_API_SLOT)
			break;
		return (console_sup_disconnect(sup, m));
	case IPC_MSG_DISCONNECT_ACK:
		return (console_sup_disconnect_ack(sup, slot, m));
	case IPC_MSG_REVOKE:
		if (slot->id != TAKD_API_SLOT)
			break;
		return (console_sup_revoke(sup, m));
	case IPC_MSG_USER_EDIT:
		if (slot->id != TAKD_API_SLOT)
			break;
		return (usersd_proc_request(sup, m));
	case IPC_MSG_CLUSTER_STATUS:
	case IPC_MSG_CLUSTER_CLIENTS:
	case IPC_MSG_CLUSTER_CRL:
		if (slot->id != TAKD_CLUSTER_SLOT)
			break;
		return (cluster_proc_msg(sup, m));
	default:
		break;
	}
	log_warnx("%s sent unexpected message type %u", name, m->hdr.type);
	return (-1);
}

void
proc_ctl_event(struct sup *sup, struct proc_slot *slot, unsigned events)
{
	struct ipc_msg	 m;
	int		 rc = 0;

	if (events & EPOLLOUT) {
		ipc_flush(slot->chan);
		proc_watch(sup, slot);
	}
	while (slot->chan != NULL && (rc = ipc_recv(slot->chan, &m)) == 1) {
		rc = proc_ctl_msg(sup, slot, &m);
		if (m.fd >= 0)
			close(m.fd);
		if (rc == -1)
			goto broken;
		rc = 1;
	}
	if (slot->chan == NULL)
		return;
	if (rc == -1)
		goto broken;
	return;
broken:
	/*
	 * EOF means the worker is exiting; SIGCHLD will tell us how.  A
	 * malformed frame means it cannot be trusted: kill it, respawn.
	 */
	if (errno == EBADMSG || rc == 1) {
		char	 name[PROC_NAME_MAX];

		log_warnx("%s: broken control channel; killing it",
		    proc_name(slot, name));
		kill(slot->pid, SIGKILL);
	}
	proc_close_chan(sup, slot);
}
