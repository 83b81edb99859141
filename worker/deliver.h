/*
 * The contract between a worker's data path (session input, routing, output
 * queues: worker/session.c, route.c, outq.c) and the fan-out to the other
 * workers (worker/fanout.c).
 *
 * An event that a local session sent is routed once, where it arrived:
 * pings are answered there and go nowhere else; every other event becomes a
 * struct deliver that is handed to deliver_local() for this worker's sessions
 * and to fanout_send() for every other worker, which calls deliver_local()
 * on its side with the same fields.  No worker re-parses an event it got from
 * another worker.
 */
#ifndef TAKD_WORKER_DELIVER_H
#define TAKD_WORKER_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cot/cot_parse.h"
#include "ipc/ipc_msg.h"

struct worker;

/*
 * An event's bytes, shared by every local output queue that holds it: one
 * allocation per event per worker, whatever the number of recipients.
 */
struct evbuf {
	uint32_t	 refs;
	uint32_t	 len;
	uint8_t		 data[];
};

struct evbuf	*evbuf_new(const void *bytes, size_t len);
struct evbuf	*evbuf_ref(struct evbuf *);
void		 evbuf_unref(struct evbuf *);

enum deliver_kind {
	DELIVER_BROADCAST,	/* every session but the sender */
	DELIVER_DIRECTED	/* only sessions matching dest[] */
};

#define DELIVER_F_SA		0x1	/* a position report: newer ones supersede it */
#define DELIVER_F_SYSTEM	0x2	/* made by takd (disconnect notice) */
/*
 * Not an event: the sender's new session took over uid (d.uid); every
 * other session bound to it whose owner is the event's bytes is closed.
 */
#define DELIVER_F_TAKEOVER	0x4
#define DELIVER_F_ALL		(DELIVER_F_SA | DELIVER_F_SYSTEM | \
	DELIVER_F_TAKEOVER)

struct deliver {
	enum deliver_kind kind;
	uint32_t	 flags;
	enum ipc_ev_class cls;		/* for the counters, set where parsed */
	uint32_t	 src_worker;	/* where the sender is connected */
	uint64_t	 src_conn;	/* never delivered back to it; 0 = none */
	/* Sender's uid: the key for "superseded SA" in slow output queues. */
	char		 uid[COT_UID_MAX];
	size_t		 n_dest;
	const struct cot_dest *dest;	/* n_dest entries, DELIVER_DIRECTED */
	struct evbuf	*ev;		/* borrowed: take a ref to keep it */
};

/* Queue d for every matching session of this worker (data path). */
void	 deliver_local(struct worker *, const struct deliver *);

/*
 * fanout.c: send d to every other worker.  Never blocks: a peer whose queue
 * is full loses the event, counted per reason ("peer queue full", "peer
 * down"), and logged at a limited rate.
 */
void	 fanout_send(struct worker *, const struct deliver *);

#endif
