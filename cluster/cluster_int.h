/*
 * What the modules of the cluster process share (docs/cluster.md):
 *   cluster.c   the process: its loop, the control channel, timers, status
 *   peers.c     its end of the workers' fan-out mesh
 *   natsconn.c  the NATS connection (libnats and its threads) and the
 *               queue that hands what it receives to the loop
 *   nodes.c     the other nodes: events in, heartbeats, presence,
 *               snapshots, a node's end
 *   local.c     this node: its clients (from the state store), the
 *               subjects they need, presence and heartbeats out, events out
 *   wire.c      the messages (wire.h)
 */
#ifndef TAKD_CLUSTER_INT_H
#define TAKD_CLUSTER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster/cluster.h"
#include "cluster/cstatus.h"
#include "cluster/wire.h"
#include "ipc/ipc.h"
#include "shared/log.h"

#define CLUSTER_MAGIC		0x434c5553u	/* "CLUS" */
#define CLUSTER_PEER_MAGIC	0x434c5050u	/* "CLPP": epoll data */
#define CLUSTER_PEERS		TAKD_MAX_WORKERS

/* epoll data of the fixed descriptors (heap objects start with a magic). */
#define CLUSTER_EV_SIGNAL	1
#define CLUSTER_EV_CTL		2
#define CLUSTER_EV_NATS		3

struct cnats;
struct cnodes;
struct clocal;
struct cpeer;
struct store;

/*
 * A client as this process keeps it: this node's (local.c) and the other
 * nodes' (nodes.c) in their tables, by uid.  A string may be NULL in a
 * local one that ran out of memory.
 */
struct cclient {
	uint64_t	 connected_ms;
	bool		 v1;
	char		*uid, *callsign, *gin, *gout, *subject, *serial;
	char		*user, *peer;
};

enum cluster_state {
	CLUSTER_RUN,
	CLUSTER_STOP
};

struct cluster {
	unsigned	 magic;
	const struct cluster_args *args;
	const struct config *cfg;
	enum cluster_state state;
	int		 epfd;
	int		 sigfd;
	struct ipc_chan	*ctl;
	bool		 ctl_out;	/* EPOLLOUT armed on ctl */
	pid_t		 ppid;
	uint64_t	 instance;	/* random, per start */
	char		 prefix[WIRE_SUBJECT_MAX];	/* "takd.NAME" */

	/* The mesh (peers.c). */
	struct cpeer	*peer[CLUSTER_PEERS];
	unsigned	 id_end;
	struct ipc_buf	 batch;		/* IPC_MSG_EVENT to every worker */
	uint32_t	 batch_events;
	struct ipc_buf	 aux;

	struct cnats	*nats;
	struct cnodes	*nodes;
	struct clocal	*local;
	struct store	*store;
	struct wbuf	 out;		/* the message being published */

	/*
	 * Revocation (crl.c): the CRL in force here, given to nodes that
	 * join; the one handed to the supervisor, in force once it says so.
	 */
	uint8_t		*crl;
	size_t		 crl_len;
	uint8_t		*crl_cand;
	size_t		 crl_cand_len;

	struct cluster_stats st;
	struct log_ratelimit rl_drop;
	struct log_ratelimit rl_in;
	int64_t		 next_status_ms;
};

/* peers.c */
void	 peers_add(struct cluster *, unsigned id, int fd);
void	 peers_handle(struct cluster *, void *peer, uint32_t events);
/* An event of another node for every worker (d->ev set). */
void	 peers_deliver(struct cluster *, const struct deliver *);
void	 peers_before_sleep(struct cluster *);
void	 peers_free(struct cluster *);
unsigned peers_up(const struct cluster *);

/* natsconn.c */
int	 cnats_start(struct cluster *);
void	 cnats_stop(struct cluster *);
/* The loop's end of the inbound queue: the eventfd fired. */
void	 cnats_drain(struct cluster *);
int	 cnats_eventfd(const struct cluster *);
/* 0 when NATS took it (sent or buffered), -1 counted. */
int	 cnats_publish(struct cluster *, const char *subject,
	    const char *reply, const void *, size_t);
int	 cnats_subscribe(struct cluster *, const char *subject, void **sub);
void	 cnats_unsubscribe(struct cluster *, void *sub);
bool	 cnats_connected(const struct cluster *);
/* The server in use ("" none), for status. */
void	 cnats_server(const struct cluster *, char *, size_t);
uint64_t cnats_slow_consumers(const struct cluster *);

/* nodes.c: messages of other nodes, by subject kind. */
int	 nodes_init(struct cluster *);
void	 nodes_free(struct cluster *);
void	 nodes_message(struct cluster *, const char *subject,
	    const char *reply, const uint8_t *, size_t);
/* Timers: heartbeat ages, syncs to ask.  ms to the next, or -1. */
int	 nodes_tick(struct cluster *, int64_t now);
/* A uid of a live node other than this one. */
bool	 nodes_uid_remote(const struct cluster *, const char *uid);
/* NATS came (back): ask every node for its snapshot again. */
void	 nodes_resync(struct cluster *);
void	 nodes_status(const struct cluster *, struct cluster_status *);
/* The remote clients as JSON text (takctl clients --cluster). */
char	*nodes_clients_json(const struct cluster *, size_t *len);

/* local.c: this node. */
int	 local_init(struct cluster *);
void	 local_free(struct cluster *);
/* Before the connection goes: every subscription released. */
void	 local_unsubscribe_all(struct cluster *);
/* An event a worker routed (from the mesh): publish it. */
void	 local_event(struct cluster *, const struct deliver *,
	    enum evbuf_enc, const uint8_t *, size_t);
/* A worker of this node died: its clients left (IPC_MSG_DEPARTED). */
void	 local_departed(struct cluster *, const char *uid, const char *type,
	    const char *groups);
/* Poll the store, publish presence and heartbeats; ms to the next. */
int	 local_tick(struct cluster *, int64_t now);
/* Answer a sync request: the snapshot to reply. */
void	 local_snapshot(struct cluster *, const char *reply);
/* Say goodbye before stopping. */
void	 local_bye(struct cluster *);
/* NATS came (back): subscribe again, send everything. */
void	 local_resubscribe(struct cluster *);
bool	 local_uid_here(struct cluster *, const char *uid);
void	 local_status(const struct cluster *, struct cluster_status *);

/* cclient.c */
/* The bucket of uid in a table of n (FNV-1a). */
unsigned cclient_hash(const char *uid, unsigned n);
/* Its strings freed (not cl itself). */
void	 cclient_clear(struct cclient *);
/* Every field a copy of w's.  -1 out of memory: cclient_clear() it. */
int	 cclient_from_wire(struct cclient *, const struct wire_client *);
/* What a presence or snapshot sends of it. */
void	 cclient_to_wire(const struct cclient *, bool up,
	    struct wire_client *);

/* crl.c: CRLs between nodes (docs/cluster.md, "Revocation"). */
int	 ccrl_from_supervisor(struct cluster *, const struct ipc_msg *);
void	 ccrl_message(struct cluster *, const char *node, const uint8_t *,
	    size_t);
/* A node joined, or we did: our CRL, that it may take it if newer. */
void	 ccrl_publish(struct cluster *);
void	 ccrl_free(struct cluster *);

/* cluster.c */
void	 cluster_send(struct cluster *, uint32_t type, uint32_t gen,
	    const struct ipc_buf *, int fd);
void	 cluster_subject(const struct cluster *, char *, size_t,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
