/*
 * The cluster process seen from the supervisor: see cluster_proc.h.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cluster/cluster.h"
#include "cluster/cstatus.h"
#include "ipc/ipc.h"
#include "shared/clock.h"
#include "shared/fileio.h"
#include "shared/json.h"
#include "shared/log.h"
#include "supervisor/cluster_proc.h"
#include "supervisor/metrics.h"
#include "supervisor/proc.h"
#include "supervisor/reload.h"
#include "shared/tlsctx.h"

#define CLUSTER_FILE_MAX	(256 * 1024)
#define CLUSTER_CLIENTS_MAX	((size_t)64 * 1024 * 1024)
#define CLUSTER_CLIENTS_WAIT	8

/* One takctl clients --cluster waiting for the cluster process. */
struct cluster_req {
	uint32_t		 id;
	cluster_clients_fn	 done;
	void			*arg;
};

static struct cluster_req cluster_reqs[CLUSTER_CLIENTS_WAIT];
static uint32_t cluster_req_next;

static char *
cluster_read(const char *what, const char *path)
{
	char	 err[512], *text;
	size_t	 len;

	if (path[0] == '\0')
		return (NULL);
	if ((text = fileio_read(AT_FDCWD, path, path, CLUSTER_FILE_MAX, &len,
	    err, sizeof(err))) == NULL)
		fatalx_status(TAKD_EX_CONFIG, "[cluster] %s: %s", what, err);
	return (text);
}

void
cluster_proc_prepare(struct sup *sup)
{
	const struct config	*cfg = sup->cfg;
	struct cluster_secrets	*s = &sup->cluster_secrets;

	sup->cluster.id = TAKD_CLUSTER_SLOT;
	sup->cluster.state = SLOT_EMPTY;
	sup->cluster_run = cfg->cluster_nats[0] != '\0';
	if (!sup->cluster_run)
		return;
	/* Keys are read as root; the process runs as the service user. */
	s->tls_ca = cluster_read("tls_ca", cfg->cluster_tls_ca);
	s->tls_cert = cluster_read("tls_cert", cfg->cluster_tls_cert);
	s->tls_key = cluster_read("tls_key", cfg->cluster_tls_key);
	s->creds = cluster_read("creds", cfg->cluster_creds);
	if (RAND_bytes((unsigned char *)&sup->cluster_instance,
	    sizeof(sup->cluster_instance)) != 1)
		fatalx("cluster: no random instance number");
	log_info("cluster on: node %s of cluster %s, NATS %s%s%s",
	    cfg->cluster_node, cfg->cluster_name, cfg->cluster_nats,
	    s->tls_ca != NULL || s->tls_cert != NULL ? ", TLS" : "",
	    s->creds != NULL ? ", credentials" : "");
}

void
cluster_proc_start(struct sup *sup)
{
	if (!sup->cluster_run)
		return;
	if (proc_spawn(sup, &sup->cluster) == -1)
		fatalx("cannot start the cluster process");
}

void
cluster_proc_child(struct sup *sup, int ctl_fd, pid_t parent)
{
	struct cluster_args	 args;
	int			 keep[2];
	size_t			 nkeep = 0;

	proc_child_prepare(sup);
	keep[nkeep++] = ctl_fd;
	if (log_get_fd() >= 0)
		keep[nkeep++] = log_get_fd();
	/* No listener, no admin socket, no CRL watch: NATS and the mesh. */
	proc_close_inherited(keep, nkeep);
	log_procinit("cluster");
	if (getppid() != parent)
		exit(0);
	memset(&args, 0, sizeof(args));
	args.ctl_fd = ctl_fd;
	args.cfg = sup->cfg;
	args.secrets = &sup->cluster_secrets;
	args.instance = sup->cluster_instance;
	args.crl_dirfd = -1;
	exit(cluster_main(&args));
}

static void
cluster_req_done(struct sup *sup, uint32_t id, const char *json, size_t len,
    const char *why)
{
	unsigned	 i;

	for (i = 0; i < CLUSTER_CLIENTS_WAIT; i++)
		if (cluster_reqs[i].done != NULL && cluster_reqs[i].id == id) {
			cluster_clients_fn	 fn = cluster_reqs[i].done;

			cluster_reqs[i].done = NULL;
			fn(sup, json, len, why, cluster_reqs[i].arg);
			return;
		}
}

static int
cluster_proc_clients_rep(struct sup *sup, const struct ipc_msg *m)
{
	struct ipc_rd	 rd;
	struct stat	 st;
	uint32_t	 status;
	void		*p;

	ipc_rd_init(&rd, m);
	status = ipc_get_u32(&rd);
	if (ipc_rd_done(&rd) == -1)
		return (-1);
	if (status != 0 || m->fd == -1) {
		cluster_req_done(sup, m->hdr.gen_or_peer, NULL, 0, "the cluster "
		    "process could not list them");
		return (0);
	}
	if (fstat(m->fd, &st) == -1 || st.st_size <= 0 ||
	    (size_t)st.st_size > CLUSTER_CLIENTS_MAX || (fcntl(m->fd,
	    F_GET_SEALS) & F_SEAL_WRITE) == 0 || (p = mmap(NULL,
	    (size_t)st.st_size, PROT_READ, MAP_PRIVATE, m->fd, 0)) ==
	    MAP_FAILED) {
		cluster_req_done(sup, m->hdr.gen_or_peer, NULL, 0, "the cluster "
		    "process's answer is not a sealed memfd");
		return (0);
	}
	cluster_req_done(sup, m->hdr.gen_or_peer, p, (size_t)st.st_size, NULL);
	munmap(p, (size_t)st.st_size);
	return (0);
}

#define CLUSTER_CRL_MAX		(16 * 1024 * 1024)
#define CLUSTER_MEMFD_SEALS	(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | \
				    F_SEAL_WRITE)

/* The CRL file's bytes to the cluster process (gen 0 or 1). */
static void
cluster_crl_send(struct sup *sup, uint32_t gen)
{
	uint8_t	*buf;
	size_t	 len, off = 0;
	ssize_t	 n;
	char	 why[512];
	int	 fd;

	if (sup->crl.dirfd == -1 || (buf = tlsctx_read_named(sup->crl.dirfd,
	    sup->crl.name, sup->cfg->crl, CLUSTER_CRL_MAX, &len, why,
	    sizeof(why))) == NULL)
		return;
	if ((fd = memfd_create("takd-crl", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		goto done;
	while (off < len) {
		if ((n = write(fd, buf + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto done;
		}
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, CLUSTER_MEMFD_SEALS) == 0)
		(void)proc_send(sup, &sup->cluster, IPC_MSG_CLUSTER_CRL, gen,
		    NULL, 0, fd);
done:
	if (fd != -1)
		close(fd);
	free(buf);
}

void
cluster_proc_crl(struct sup *sup, bool publish)
{
	if (!sup->cluster_run || sup->cluster.state != SLOT_RUNNING)
		return;
	if (publish)
		cluster_crl_send(sup, 1);
	else
		(void)proc_send(sup, &sup->cluster, IPC_MSG_CLUSTER_CRL, 2,
		    NULL, 0, -1);
}

void
cluster_proc_spawned(struct sup *sup)
{
	if (sup->crl.crl != NULL)
		cluster_crl_send(sup, 0);
}

/* Another node's CRL: the next reload reads it (crl.c), checked there. */
static int
cluster_proc_crl_in(struct sup *sup, const struct ipc_msg *m)
{
	struct stat	 st;
	uint8_t		*p;
	ssize_t		 n;
	char		 err[512];

	if (m->len != 0 || m->fd == -1)
		return (-1);
	if (sup->cfg->crl_check == CRL_CHECK_OFF)
		return (0);
	if (fstat(m->fd, &st) == -1 || st.st_size <= 0 ||
	    st.st_size > CLUSTER_CRL_MAX || (fcntl(m->fd, F_GET_SEALS) &
	    F_SEAL_WRITE) == 0 || (p = malloc((size_t)st.st_size)) == NULL)
		return (0);
	if ((n = pread(m->fd, p, (size_t)st.st_size, 0)) != st.st_size) {
		free(p);
		return (0);
	}
	free(sup->crl.remote);
	sup->crl.remote = p;
	sup->crl.remote_len = (size_t)n;
	log_info("a CRL of another node came (%zd bytes): reloading with it",
	    n);
	if (reload_start(sup, NULL, NULL, err, sizeof(err)) == -1)
		log_warnx("CRL of another node not taken: %s", err);
	return (0);
}

int
cluster_proc_msg(struct sup *sup, const struct ipc_msg *m)
{
	struct cluster_status	*st;

	switch (m->hdr.type) {
	case IPC_MSG_CLUSTER_STATUS:
		if ((st = malloc(sizeof(*st))) == NULL)
			return (0);
		if (cstatus_decode(m, st) == -1) {
			free(st);
			return (-1);
		}
		free(sup->cluster_status);
		sup->cluster_status = st;
		sup->cluster_status_ms = clock_mono_ms();
		return (0);
	case IPC_MSG_CLUSTER_CLIENTS:
		return (cluster_proc_clients_rep(sup, m));
	case IPC_MSG_CLUSTER_CRL:
		return (cluster_proc_crl_in(sup, m));
	default:
		return (-1);
	}
}

int
cluster_proc_clients(struct sup *sup, cluster_clients_fn done, void *arg)
{
	unsigned	 i;

	if (!sup->cluster_run || sup->cluster.state != SLOT_RUNNING)
		return (-1);
	for (i = 0; i < CLUSTER_CLIENTS_WAIT; i++)
		if (cluster_reqs[i].done == NULL)
			break;
	if (i == CLUSTER_CLIENTS_WAIT)
		return (-1);
	if (++cluster_req_next == 0)
		cluster_req_next = 1;
	if (proc_send(sup, &sup->cluster, IPC_MSG_CLUSTER_CLIENTS,
	    cluster_req_next, NULL, 0, -1) == -1)
		return (-1);
	cluster_reqs[i].id = cluster_req_next;
	cluster_reqs[i].done = done;
	cluster_reqs[i].arg = arg;
	return (0);
}

void
cluster_proc_clients_cancel(struct sup *sup, void *arg)
{
	unsigned	 i;

	for (i = 0; i < CLUSTER_CLIENTS_WAIT; i++)
		if (cluster_reqs[i].done != NULL && cluster_reqs[i].arg == arg)
			cluster_reqs[i].done = NULL;
}

void
cluster_proc_json(const struct sup *sup, struct json *j)
{
	const struct proc_slot	*s = &sup->cluster;

	if (!sup->cluster_run)
		return;
	json_key(j, "cluster");
	json_obj_begin(j);
	json_kv_str(j, "name", sup->cfg->cluster_name);
	json_kv_str(j, "node", sup->cfg->cluster_node);
	json_kv_str(j, "nats", sup->cfg->cluster_nats);
	json_kv_int(j, "pid", s->pid);
	json_kv_uint(j, "restarts", s->restarts);
	json_kv_bool(j, "running", s->state == SLOT_RUNNING);
	if (sup->cluster_status != NULL && s->state == SLOT_RUNNING) {
		json_key(j, "link");
		cstatus_json(j, sup->cluster_status, clock_mono_ms() -
		    sup->cluster_status_ms);
	}
	json_obj_end(j);
}

void
cluster_proc_metrics(const struct sup *sup, struct metrics_buf *b)
{
	const struct cluster_status	*st = sup->cluster_status;
	uint32_t			 i;

	if (!sup->cluster_run)
		return;
	metrics_buf_printf(b, "# HELP takd_cluster_up 1 when the cluster "
	    "process runs and reported in the last 5 s.\n"
	    "# TYPE takd_cluster_up gauge\ntakd_cluster_up %d\n",
	    sup->cluster.state == SLOT_RUNNING && st != NULL &&
	    clock_mono_ms() - sup->cluster_status_ms < 5000 ? 1 : 0);
	metrics_buf_printf(b, "# HELP takd_cluster_restarts_total Times the "
	    "cluster process was restarted.\n# TYPE "
	    "takd_cluster_restarts_total counter\n"
	    "takd_cluster_restarts_total %u\n", sup->cluster.restarts);
	if (st == NULL)
		return;
	metrics_buf_printf(b, "# HELP takd_cluster_nats_connected 1 while "
	    "connected to a NATS server.\n# TYPE takd_cluster_nats_connected "
	    "gauge\ntakd_cluster_nats_connected{server=\"%s\"} %d\n",
	    st->server, st->connected ? 1 : 0);
	metrics_buf_printf(b, "# HELP takd_cluster_nodes Other nodes heard "
	    "within node_timeout.\n# TYPE takd_cluster_nodes gauge\n"
	    "takd_cluster_nodes %u\n", st->n_nodes);
	metrics_buf_printf(b, "# HELP takd_cluster_node_last_heard_seconds "
	    "Since another node was last heard.\n# TYPE "
	    "takd_cluster_node_last_heard_seconds gauge\n");
	for (i = 0; i < st->n_nodes; i++)
		metrics_buf_printf(b, "takd_cluster_node_last_heard_seconds"
		    "{node=\"%s\"} %.3f\n", st->nodes[i].id,
		    (double)st->nodes[i].age_ms / 1000.0);
	metrics_buf_printf(b, "# HELP takd_cluster_node_clients Clients of "
	    "another node.\n# TYPE takd_cluster_node_clients gauge\n");
	for (i = 0; i < st->n_nodes; i++)
		metrics_buf_printf(b, "takd_cluster_node_clients{node=\"%s\"} "
		    "%u\n", st->nodes[i].id, st->nodes[i].clients);
	metrics_buf_printf(b, "# HELP takd_cluster_nats_slow_consumer_"
	    "events_total Slow-consumer errors libnats reported.\n# TYPE "
	    "takd_cluster_nats_slow_consumer_events_total counter\n"
	    "takd_cluster_nats_slow_consumer_events_total %llu\n",
	    (unsigned long long)st->slow_consumers);
#define CLUSTER_STAT_METRIC(f, h)					\
	metrics_buf_printf(b, "# HELP takd_cluster_" #f "_total " h "\n"	\
	    "# TYPE takd_cluster_" #f "_total counter\n"			\
	    "takd_cluster_" #f "_total %llu\n",				\
	    (unsigned long long)st->st.f);
	CLUSTER_STATS(CLUSTER_STAT_METRIC)
#undef CLUSTER_STAT_METRIC
}

void
cluster_proc_free(struct sup *sup)
{
	struct cluster_secrets	*s = &sup->cluster_secrets;

	free(sup->cluster_status);
	sup->cluster_status = NULL;
	if (s->tls_key != NULL)
		OPENSSL_cleanse(s->tls_key, strlen(s->tls_key));
	if (s->creds != NULL)
		OPENSSL_cleanse(s->creds, strlen(s->creds));
	free(s->tls_ca);
	free(s->tls_cert);
	free(s->tls_key);
	free(s->creds);
	memset(s, 0, sizeof(*s));
}
