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

#include "shared/grouplist.h"
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
/*
 * Milliseconds until the batch of positions must go (0: at once), -1 when
 * there is none: the loop sleeps no longer.
 */
int64_t	 fanout_wait(const struct worker *, int64_t now_ms);

/* Counters for status (fanout.c keeps them). */
struct fanout_stats {
	uint64_t	 sent;		/* frames to peers */
	uint64_t	 received;
	uint64_t	 dropped_full;	/* a peer's queue was full */
	uint64_t	 dropped_down;	/* no channel to that peer */
	uint32_t	 peers;		/* channels up */
	/* Added with fanout.c; events are counted once per peer. */
	uint64_t	 events_sent;	/* events in frames to peers */
	uint64_t	 events_received;
	uint64_t	 large_sent;	/* IPC_MSG_EVENT_LARGE frames (memfd) */
	uint64_t	 dropped_error;	/* no memory or descriptors; invalid */
	uint64_t	 malformed;	/* channels closed for a bad frame */
};
void	 fanout_get_stats(const struct worker *, struct fanout_stats *);

/*
 * The wire form (docs/fanout.md), for fanout.c and its unit test.
 *
 * An IPC_MSG_EVENT payload is one or more records, one struct deliver each:
 * u32 kind, u32 flags, u32 class (enum ipc_ev_class), u32 encoding (enum
 * evbuf_enc: the event's bytes are an XML event or a v1 TakMessage without
 * its frame header), u32 src_worker,
 * u64 src_conn, str uid, str groups (the sender's IN groups, a list of
 * names: shared/grouplist.h), u32 n_dest,
 * n_dest x (u32 dest kind, str value), bytes event.  An event that does not
 * fit in a frame travels alone as IPC_MSG_EVENT_LARGE: the same record with
 * the event replaced by its u32 length, the bytes in a sealed memfd passed
 * with the frame.
 */
struct ipc_buf;
struct ipc_msg;

/*
 * Append d to the payload in b.  0; -1 with errno EMSGSIZE when the record
 * does not fit (b is left as it was), EINVAL when d cannot be sent (no event,
 * unknown kind, flags or class, a directed event without recipients, a string that
 * is too long, groups that are no list of group names; NULL groups go as
 * "").
 */
int	 fanout_encode(struct ipc_buf *, const struct deliver *);
/*
 * Encode d alone as an IPC_MSG_EVENT_LARGE payload into b, its event bytes
 * into a new sealed memfd returned in *memfd (the caller passes and closes
 * it).  0, or -1 with errno.
 */
int	 fanout_encode_large(struct ipc_buf *, const struct deliver *,
	    int *memfd);

/*
 * One decoded record: d.dest points into dest, d.groups into groups, d.in
 * and d.ev are NULL, and the event is bytes/len in encoding enc (for v1,
 * the TakMessage alone), borrowed from the frame (or the memfd's mapping)
 * for the duration of the callback.
 */
struct fanout_rec {
	struct deliver	 d;
	enum evbuf_enc	 enc;
	struct cot_dest	 dest[COT_MAX_DEST];
	char		 groups[GROUPLIST_STR_MAX];
	const uint8_t	*bytes;
	size_t		 len;
};

/*
 * Check a received IPC_MSG_EVENT or IPC_MSG_EVENT_LARGE frame as a whole
 * (for LARGE, msg->fd must be a sealed memfd holding the bytes; it stays the
 * caller's), then call cb for every record in order.  An event longer than
 * max_bytes is malformed.  Returns the number of records (for LARGE: the
 * event's length in *large_len, else 0 there), or -1 with the reason in err
 * and cb never called.
 */
int	 fanout_decode(const struct ipc_msg *, size_t max_bytes,
	    void (*cb)(const struct fanout_rec *, void *), void *arg,
	    size_t *large_len, char *err, size_t errlen);

#endif
