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
 * An event's bytes, shared by every local output queue that holds it: one
 * allocation per event per worker, whatever the number of recipients
 * (outq.c makes them: it counts their memory for the budget).
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
 * An event of this worker (a session's, or a notice takd made): its bytes
 * become d->ev, queued to every matching local session (deliver_local())
 * and, with fanout, sent to every other worker; d->ev is NULL again on
 * return.  A directed event that reached no local session, in a worker
 * with no other worker to ask, counts as dropped.no_recipient.  -1 when
 * the event buffer could not be made (counted as drop_nomem, errno set).
 */
int	 deliver_event(struct worker *, struct deliver *, const void *bytes,
	    size_t len, bool fanout);
/*
 * Queue ev for c (a reference is taken), whatever the groups: for the
 * events takd makes for c alone (a pong, a group change notice) and the
 * deliveries above once they checked them.  flags are DELIVER_F_*; key is
 * the SA uid hash (outq_hash()); cls is the event's class (enum
 * ipc_ev_class), counted when it is written.  A notice (DELIVER_F_SYSTEM)
 * that would fill more than half of the queue is dropped; a queue that
 * reaches its bound dooms the session (slow consumer).
 */
void	 deliver_enqueue(struct worker *, struct conn *, struct evbuf *,
	    uint32_t flags, uint64_t key, unsigned cls);
/*
 * A session that was just established: queue it the latest SA of every
 * known uid (the store's) whose sender's IN groups meet its OUT set,
 * newest first, within half of its queue.  With before (a live session
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
