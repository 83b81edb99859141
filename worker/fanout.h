/*
 * Fan-out between workers: one SOCK_SEQPACKET channel per pair of workers
 * (the mesh), built by the supervisor, which passes each worker its ends
 * over the control channel (IPC_MSG_PEER) when a worker starts or a peer is
 * respawned.  Events travel as IPC_MSG_EVENT frames carrying a struct
 * deliver; see deliver.h.
 */
#ifndef TAKD_WORKER_FANOUT_H
#define TAKD_WORKER_FANOUT_H

#include <stdint.h>

#include "worker/deliver.h"

#define FANOUT_PEER_MAGIC	0x46414e50u	/* "FANP": epoll data of a peer */

struct worker;

int	 fanout_init(struct worker *);
void	 fanout_free(struct worker *);
/* IPC_MSG_PEER from the supervisor: fd is our end towards worker peer. */
void	 fanout_add_peer(struct worker *, unsigned peer, int fd);
/* An epoll event whose data is a heap pointer starting with FANOUT_PEER_MAGIC. */
void	 fanout_handle(struct worker *, void *peer, uint32_t events);
/* Before the loop sleeps: flush peer queues, arm EPOLLOUT where needed. */
void	 fanout_before_sleep(struct worker *);

/* Counters for status (fanout.c keeps them). */
struct fanout_stats {
	uint64_t	 sent;		/* frames to peers */
	uint64_t	 received;
	uint64_t	 dropped_full;	/* a peer's queue was full */
	uint64_t	 dropped_down;	/* no channel to that peer */
	uint32_t	 peers;		/* channels up */
};
void	 fanout_get_stats(const struct worker *, struct fanout_stats *);

#endif
