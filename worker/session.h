/*
 * The CoT side of an established connection: its stream is cut into events
 * (cot/cot_frame.c), each parsed (cot/cot_parse.c), routed (route.c) and
 * delivered (deliver.c), its identity bound and recorded (registry.c), and
 * what it is sent waits in its output queue (outq.c) until conn.c writes
 * it.  See docs/datapath.md.
 *
 * conn.c owns the life cycle and calls session_init() at accept,
 * session_start() once the connection is established, session_input() with
 * every read, and session_end() when it closes.
 */
#ifndef TAKD_WORKER_SESSION_H
#define TAKD_WORKER_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cot/cot_frame.h"
#include "cot/cot_parse.h"
#include "worker/budget.h"
#include "worker/deliver.h"
#include "worker/outq.h"
#include "worker/registry.h"

struct conn;
struct worker;

/*
 * A partial event held longer than [cot] partial_timeout closes the session
 * ("unclosed event"); this is its default.  Generous: a 64 KiB event takes
 * 30 s only below about 17 kbit/s.
 */
#define SESSION_UNCLOSED_MS	30000
/* Idle and unclosed checks run this often, or as often as those need. */
#define SESSION_SWEEP_MS	1000
#define SESSION_SWEEP_MIN_MS	100

struct session {
	struct cot_framer framer;
	struct outq	 outq;
	bool		 started;	/* session_start() ran */
	const char	*doom;		/* close at the next pass, and why */

	/* Identity, bound by the first event with a contact. */
	char		 uid[COT_UID_MAX];
	char		 callsign[COT_CALLSIGN_MAX];
	char		 group[COT_GROUP_MAX];
	char		 role[COT_GROUP_MAX];
	char		 last_sa_type[COT_TYPE_MAX];
	char		 owner[REGISTRY_OWNER_MAX];	/* registry.h */
	bool		 relay;		/* may publish other identities */
	uint64_t	 refused;	/* since the last identity line */
	int64_t		 refused_logged_ms;
	struct registry_node uid_node;
	struct registry_node cs_node;
	uint64_t	 deliver_mark;	/* dedup of one directed delivery */

	int64_t		 connected_wall_ms;
	int64_t		 last_event_ms;	/* monotonic */
	int64_t		 write_ms;	/* output last moved, or began waiting */
	int64_t		 last_touch_wall_ms;

	/* Rate, size and memory budgets (budget.c). */
	struct budget_sess budget;

	uint64_t	 events_in;
	uint64_t	 events_out;
};

/* At accept: an idle session (no allocation). */
void	 session_init(struct worker *, struct conn *);
/* Established: register it and queue the latest SA of the others. */
void	 session_start(struct worker *, struct conn *);
/*
 * n bytes read from the connection.  -1 with a reason when the session must
 * be closed for what it sent (framing or parse error); the counters are
 * updated already.
 */
int	 session_input(struct worker *, struct conn *, const uint8_t *,
	    size_t n, char *reason, size_t);
/*
 * The connection is closing (already off the live list): drop its queue,
 * unregister it and, when it had bound a uid nobody else holds, tell the
 * other clients that it left.
 */
void	 session_end(struct worker *, struct conn *);

/*
 * Tell the clients that uid left with a t-x-d-d event linking last_type
 * (its last SA type; "" or NULL for unknown): every local session but
 * src_conn of worker src_worker (0: none) gets it and, with fanout, every
 * other worker.  Counted in disconnect_notices.  -1 (logged or counted as
 * drop_nomem) when it could not be made.
 */
int	 session_disconnect_notice(struct worker *, const char *uid,
	    const char *last_type, uint32_t src_worker, uint64_t src_conn,
	    bool fanout);
/*
 * uid was bound on a session of worker, which died (IPC_MSG_DEPARTED): the
 * local sessions get the disconnect notice unless one of them holds uid
 * now.  true when it was made for them.
 */
bool	 session_departed(struct worker *, uint32_t worker, const char *uid,
	    const char *last_type);

/* Idle timeout and unclosed events; cheap to call every loop turn. */
void	 session_sweep(struct worker *, int64_t now_ms);


#endif
