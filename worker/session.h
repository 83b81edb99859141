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
#include "cot/takp_frame.h"
#include "worker/budget.h"
#include "worker/deliver.h"
#include "worker/groups.h"
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
	struct cot_framer framer;	/* its input while on XML */
	struct outq	 outq;
	bool		 started;	/* session_start() ran */
	const char	*doom;		/* close at the next pass, and why */

	/*
	 * TAK protocol (takproto.h, docs/takproto.md): the encoding of its
	 * stream, both ways, and where its negotiation stands.
	 */
	struct takp_framer tframer;	/* its input once on v1 */
	uint8_t		 enc;		/* enum evbuf_enc */
	uint8_t		 takp;		/* enum takproto_state */
	bool		 v1_lead;	/* no v1 byte yet: whitespace is XML's */
	bool		 replay_due;	/* the latest-SA replay waits for it */
	int64_t		 takp_until_ms;	/* a request is answered true until */
	int64_t		 replay_at_ms;	/* the deferred replay, at the latest */
	uint64_t	 v1_invalid;	/* since the last such line */
	int64_t		 v1_invalid_logged_ms;

	/* Identity, bound by the first event with a contact. */
	char		 uid[COT_UID_MAX];
	char		 callsign[COT_CALLSIGN_MAX];
	char		 group[COT_GROUP_MAX];
	char		 role[COT_GROUP_MAX];
	char		 last_sa_type[COT_TYPE_MAX];
	char		 owner[REGISTRY_OWNER_MAX];	/* registry.h */
	bool		 relay;		/* may publish other identities */
	uint64_t	 sa_uid_hash;	/* outq_hash() of its last stored SA's uid */
	uint64_t	 refused;	/* since the last identity line */
	int64_t		 refused_logged_ms;
	struct registry_node uid_node;
	struct registry_node cs_node;
	uint64_t	 deliver_mark;	/* dedup of one directed delivery */

	/*
	 * Access (groups.h, docs/groups.md): what it may publish to (in) and
	 * receive from (out), and the users file's user ("" none).
	 */
	struct groups_sess groups;
	char		 user[GROUPLIST_NAME_MAX];

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
/*
 * Established: its groups, unless session_set_groups() gave them (the
 * listener's fixed group, the O/OU group with [auth] ou_groups, else
 * __ANON__); register it and queue the latest SA of the others it may
 * receive.  A session no group could be given is closed at the next output
 * pass (closed.groups).
 */
void	 session_start(struct worker *, struct conn *);

/*
 * The users file's word on a session (docs/groups.md): user is the user its
 * certificate names ("" for none), g its n groups with their halves.  The
 * sources keep their order: a listener's fixed group wins (user is only
 * recorded); a user with no group falls to the O/OU group or __ANON__.
 *
 * Call it at the handshake, before session_start() (conn_established()),
 * and at a reload for every live session whose user is in the new file.
 * On a live session whose groups changed, the new ones are in force at
 * once: it gets a t-x-g-c event, then the latest SA of the clients it can
 * see now and could not before; nothing of a group it left reaches it from
 * then on (what was queued before stays queued).  The registry record
 * follows (takctl clients).
 *
 * 0; -1 when the groups cannot be given (a name that is not a group name,
 * more than GROUPLIST_MAX, the worker's table full): logged, and the
 * session is closed at the next output pass (closed.groups), never left
 * with other groups than its user's.
 */
int	 session_set_groups(struct worker *, struct conn *, const char *user,
	    const struct groups_member *g, size_t n);
/*
 * The same with flags: SESSION_GROUPS_NO_NOTICE sends no t-x-g-c (the
 * session asked for the change itself: PUT /Marti/api/groups/active, whose
 * client knows already, as TAK Server does).
 */
#define SESSION_GROUPS_NO_NOTICE	0x1
int	 session_set_groups_flags(struct worker *, struct conn *,
	    const char *user, const struct groups_member *g, size_t n,
	    unsigned flags);
/*
 * The session's user was deleted from the users file: close it now, its
 * disconnect notice going out (logged, closed.user_deleted).  c is freed at
 * the end of the loop turn: a walk of w->live must keep its next pointer.
 */
void	 session_close_user(struct worker *, struct conn *);
/*
 * An admin closed the session of connection number id from the console
 * (IPC_MSG_DISCONNECT): logged with the admin's name, closed.admin, its
 * disconnect notice going out.  -1 when no established session has it.
 */
int	 session_close_admin(struct worker *, uint64_t id, const char *admin);
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
 * src_conn of worker src_worker (0: none) whose OUT groups meet the
 * departed client's IN groups (in, this worker's set, or NULL; groups, the
 * names) gets it and, with fanout, every other worker.  Counted in
 * disconnect_notices.  -1 (logged or counted as drop_nomem) when it could
 * not be made.
 */
int	 session_disconnect_notice(struct worker *, const char *uid,
	    const char *last_type, const struct groups_set *in,
	    const char *groups, uint32_t src_worker, uint64_t src_conn,
	    bool fanout);
/*
 * uid, of IN groups groups (a list of names), was bound on a session of
 * worker, which died (IPC_MSG_DEPARTED): the local sessions that could see
 * it get the disconnect notice unless one of them holds uid now.  true
 * when it was made for them.
 */
bool	 session_departed(struct worker *, uint32_t worker, const char *uid,
	    const char *last_type, const char *groups);

/* Idle timeout and unclosed events; cheap to call every loop turn. */
void	 session_sweep(struct worker *, int64_t now_ms);


#endif
