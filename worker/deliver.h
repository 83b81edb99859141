/*
 * Delivery: how an event reaches the output queues of a worker's sessions
 * (worker/deliver.c), and the contract between a worker's data path and the
 * fan-out to the other workers (worker/fanout.c).
 *
 * An event that a local session sent is routed once, where it arrived
 * (route.h): pings are answered there and go nowhere else; every other event
 * becomes a struct deliver that deliver_event() hands to deliver_local() for
 * this worker's sessions and to fanout_send() for every other worker, which
 * calls deliver_local() on its side with the same fields.  No worker
 * re-parses an event it got from another worker.  deliver_enqueue() is the
 * one way into a session's output queue; conn.c's output pass writes it.
 */
#ifndef TAKD_WORKER_DELIVER_H
#define TAKD_WORKER_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cot/cot_parse.h"
#include "ipc/ipc_msg.h"

struct conn;
struct groups_set;
struct worker;

/*
 * The two encodings of a session's stream, and of an event's bytes
 * (docs/takproto.md): every session starts on XML and may negotiate v1.
 */
enum evbuf_enc {
	EVBUF_XML,	/* TAK protocol 0: <event>...</event> */
	EVBUF_V1,	/* TAK protocol 1: 0xBF, varint length, TakMessage */
	EVBUF_ENC_MAX
};

/*
 * An event's bytes as a recipient is written them, shared by every local
 * output queue that holds it: one allocation per event per worker,
 * whatever the number of recipients (outq.c makes them: it counts their
 * memory for the budget).  An event keeps the encoding it came in; a
 * recipient of the other encoding is given its counterpart (evconv.h),
 * made once, at the first such recipient, and held by the original until
 * the original goes.
 */
struct evbuf {
	uint32_t	 refs;
	uint32_t	 len;		/* bytes at data */
	uint8_t		 enc;		/* enum evbuf_enc */
	uint8_t		 hlen;		/* v1: the frame header, before the message */
	bool		 unconvertible;	/* no counterpart can be made */
	struct evbuf	*other;		/* the counterpart (a reference), or NULL */
	uint8_t		 data[];
};

/* An XML event (from "<event"). */
struct evbuf	*evbuf_new(const void *bytes, size_t len);
/*
 * A v1 event: msg is one TakMessage (len bytes, at least 1), written
 * behind its frame header (0xBF and the length).
 */
struct evbuf	*evbuf_new_v1(const void *msg, size_t len);
struct evbuf	*evbuf_ref(struct evbuf *);
/* The last reference frees the event and drops its counterpart's. */
void		 evbuf_unref(struct evbuf *);

/*
 * What a codec reads and the mesh carries: the XML event, or the
 * TakMessage without its frame header.
 */
static inline const uint8_t *
evbuf_body(const struct evbuf *ev, size_t *len)
{
	*len = ev->len - ev->hlen;
	return (ev->data + ev->hlen);
}

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
/*
 * Given to deliver_enqueue() only, never sent: a directed event, which
 * does not wait for [cot] sa_flush_delay even when it is a position.
 */
#define DELIVER_F_DIRECTED	0x100

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
	/*
	 * Who may get it (worker/groups.h): the sender's IN groups, as the
	 * names in groups (shared/grouplist.h: what the mesh carries) and,
	 * for a sender of this worker, as its set in.  A session gets the
	 * event only when in meets its OUT set; a worker that has no in
	 * (an event from another worker) resolves groups against its own
	 * table.  Neither ("" or NULL): nobody.  Not used by
	 * DELIVER_F_TAKEOVER, which is no event.
	 */
	const struct groups_set *in;
	const char	*groups;
	struct evbuf	*ev;		/* borrowed: take a ref to keep it */
};

/* Queue d for every matching session of this worker (data path). */
void	 deliver_local(struct worker *, const struct deliver *);

/*
 * The rest is the data path's own (deliver.c), not the fan-out's.
 *
 * An event of this worker (a session's, or a notice takd made), ev in the
 * encoding it was received or made in (borrowed: the queues take their
 * references): queued to every matching local session (deliver_local())
 * and, with fanout, sent to every other worker; d->ev is NULL again on
 * return.  A directed event that reached no local session, in a worker
 * with no other worker to ask, counts as dropped.no_recipient.
 */
void	 deliver_event(struct worker *, struct deliver *, struct evbuf *ev,
	    bool fanout);
/*
 * Queue ev for c (a reference is taken), whatever the groups: for the
 * events takd makes for c alone (a pong, a group change notice) and the
 * deliveries above once they checked them.  ev is queued in c's encoding:
 * itself, or its counterpart (evconv.h), made at the first recipient that
 * needs it; one that cannot be converted is not queued
 * (dropped.unconvertible).  flags are DELIVER_F_*; key is
 * the SA uid hash (outq_hash()); cls is the event's class (enum
 * ipc_ev_class), counted when it is written.  A notice (DELIVER_F_SYSTEM)
 * that would fill more than half of the queue is dropped; a queue that
 * reaches its bound dooms the session (slow consumer).
 */
void	 deliver_enqueue(struct worker *, struct conn *, struct evbuf *,
	    uint32_t flags, uint64_t key, unsigned cls);
/*
 * A session that was just established: queue it the latest SA of every
 * known uid (the store's; its own excepted once it bound one, as when the
 * replay waited for the TAK protocol negotiation) whose sender's IN groups
 * meet its OUT set, newest first, within half of its queue.  With before (a live session
 * whose groups changed), only those that did not meet before, and not its
 * own uid's.
 */
void	 deliver_replay(struct worker *, struct conn *,
	    const struct groups_set *before);
/*
 * Stop delivering to c: its queue and budgets are freed now, the
 * connection closed at the next output pass with why (slow consumer, out
 * of memory, memory budget, uid taken over).
 */
void	 deliver_doom(struct worker *, struct conn *, const char *why);
/* Whether c may be queued to: established, started, not doomed. */
bool	 deliver_receives(const struct conn *);

/*
 * fanout.c: send d to every other worker.  Never blocks: a peer whose queue
 * is full loses the event, counted per reason ("peer queue full", "peer
 * down"), and logged at a limited rate.
 */
void	 fanout_send(struct worker *, const struct deliver *);

#endif
