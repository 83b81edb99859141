/*
 * The cluster process's report to the supervisor (IPC_MSG_CLUSTER_STATUS,
 * once a second): the NATS link, the counters, the other nodes.  What
 * `takctl status` shows under "cluster" and /metrics as takd_cluster_*.
 */
#ifndef TAKD_CLUSTER_CSTATUS_H
#define TAKD_CLUSTER_CSTATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "shared/config.h"

/* X(field, help): every counter, in the order they travel. */
#define CLUSTER_STATS(X)						\
	X(published, "Messages handed to NATS.")			\
	X(publish_failed, "Messages NATS refused (its buffer full, or "	\
	    "no connection yet), dropped.")				\
	X(events_out, "Events of this node's clients published.")	\
	X(received, "Messages received from NATS.")			\
	X(events_in, "Events of other nodes delivered to this node's "	\
	    "workers.")							\
	X(drop_undecodable, "Messages from NATS dropped: they did not "	\
	    "decode.")							\
	X(drop_foreign_id, "Messages from NATS dropped: they claimed "	\
	    "another node's id (or this node's).")			\
	X(drop_oversized, "Messages from NATS dropped: too large.")	\
	X(drop_slow, "Messages from NATS dropped: this node could not "	\
	    "keep up (slow consumer).")					\
	X(drop_mesh, "Events of other nodes not passed to a worker: "	\
	    "its queue full, or no worker up.")				\
	X(drop_here, "Disconnect notices of other nodes dropped: the "	\
	    "client is connected here.")				\
	X(node_timeouts, "Nodes declared gone: silent for "		\
	    "node_timeout.")						\
	X(departures, "Disconnect notices made here for the clients of "	\
	    "nodes that went.")						\
	X(syncs_asked, "Snapshots asked of other nodes.")		\
	X(syncs_served, "Snapshots sent to other nodes.")		\
	X(sa_stored, "Latest SAs of other nodes' clients stored here.")	\
	X(disconnects, "Times the NATS connection was lost.")		\
	X(reconnects, "Times it came back.")				\
	X(crl_published, "CRLs of this node published.")		\
	X(crl_received, "CRLs of other nodes installed here.")		\
	X(crl_refused, "CRLs of other nodes refused (signature, "	\
	    "issuer, or older than the one in force).")

struct cluster_stats {
#define CLUSTER_STAT_FIELD(f, h)	uint64_t f;
	CLUSTER_STATS(CLUSTER_STAT_FIELD)
#undef CLUSTER_STAT_FIELD
};

#define CSTATUS_NODES_MAX	64

struct cstatus_node {
	char		 id[TAKD_CLUSTER_TOKEN_MAX];
	uint64_t	 age_ms;	/* since its last message */
	uint64_t	 last_wall_ms;
	uint32_t	 clients;
	bool		 synced;
	uint64_t	 events;
};

struct cluster_status {
	bool		 connected;
	char		 server[256];	/* "" none */
	uint32_t	 workers;	/* mesh channels up */
	uint32_t	 clients;	/* this node's, by uid */
	uint32_t	 subjects;	/* group tokens subscribed */
	uint64_t	 pres_seq;
	uint64_t	 slow_consumers;	/* libnats's events */
	struct cluster_stats st;
	uint32_t	 n_nodes;
	struct cstatus_node nodes[CSTATUS_NODES_MAX];
};

struct ipc_buf;
struct ipc_msg;
struct json;

void	 cstatus_encode(struct ipc_buf *, const struct cluster_status *);
int	 cstatus_decode(const struct ipc_msg *, struct cluster_status *);
/* The "cluster" object of takctl status (its key written by the caller). */
void	 cstatus_json(struct json *, const struct cluster_status *,
	    int64_t age_ms);

#endif
