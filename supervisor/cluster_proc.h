/*
 * The cluster process seen from the supervisor (docs/cluster.md): on when
 * [cluster] nats is set; its NATS credentials read here as root; its slot
 * (sup->cluster), spawned, reaped and respawned by proc.c like a worker's,
 * joined to the workers' mesh (mesh.c); its report once a second, shown by
 * takctl status ("cluster") and /metrics (takd_cluster_*); the other nodes'
 * clients for takctl clients --cluster.  It is in no round: it holds no
 * session, no CRL generation and no users file.
 */
#ifndef TAKD_CLUSTER_PROC_H
#define TAKD_CLUSTER_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "supervisor/sup.h"

struct ipc_msg;
struct json;
struct metrics_buf;

/* As root, before the drop: read its TLS and credentials files (exit 78). */
void	 cluster_proc_prepare(struct sup *);
/* After the workers: fork it (fatal when it cannot be). */
void	 cluster_proc_start(struct sup *);
/* In the child proc_spawn() forked for sup->cluster: never returns. */
void	 cluster_proc_child(struct sup *, int ctl_fd, pid_t parent)
	    __attribute__((noreturn));
/* Its messages but HELLO: 0, or -1 for a malformed one. */
int	 cluster_proc_msg(struct sup *, const struct ipc_msg *);
/* The "cluster" key of takctl status, when it runs. */
void	 cluster_proc_json(const struct sup *, struct json *);
/* The takd_cluster_* families of /metrics, when it runs. */
void	 cluster_proc_metrics(const struct sup *, struct metrics_buf *);
/*
 * takctl clients --cluster: ask the cluster process; done(sup, json, len,
 * arg) later with the JSON array of the other nodes' clients (NULL: none
 * could be had, with why).  -1 when it cannot be asked.
 */
typedef void	(*cluster_clients_fn)(struct sup *, const char *json,
		    size_t len, const char *why, void *arg);
int	 cluster_proc_clients(struct sup *, cluster_clients_fn, void *arg);
/* A client gone before the answer: its request is forgotten. */
void	 cluster_proc_clients_cancel(struct sup *, void *arg);
void	 cluster_proc_free(struct sup *);
/*
 * A CRL generation was committed: hand its bytes to the cluster process,
 * to publish when it was this node's (publish), else tell it that the one
 * it handed over is in force.
 */
void	 cluster_proc_crl(struct sup *, bool publish);
/* After the fork: the CRL in force, for the nodes that join. */
void	 cluster_proc_spawned(struct sup *);

#endif
