/*
 * One established session's events: framing, parsing, routing, identity,
 * the disconnect notice when it leaves.  See session.h and
 * docs/datapath.md ("One event's path").
 *
 * session_input() feeds the framer of the session's encoding (XML, or TAK
 * protocol v1 once negotiated: takproto.c) and hands each event to
 * session_event(), which runs one small function per job: session_parse()
 * (the sender's token buckets, cot_parse() or takp_decode() into a view on
 * the stack, its class's size cap: budget.c), then the answer to a TAK
 * protocol request, a pong for a ping, or session_may_send() (identity:
 * server-only events, uids and callsigns of others, the first binding),
 * session_route() (route.c decides, deliver.c delivers: at most one
 * allocation, the struct evbuf shared by every recipient here in the
 * sender's encoding, converted at most once for the others, copied once
 * more by the fan-out to the other workers) and session_record() (the SA
 * kept for replay, in XML).  LMDB only sees batched writes, committed
 * before the loop sleeps.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cot/takp.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "worker/conn.h"
#include "worker/evconv.h"
#include "worker/fileshare.h"
#include "worker/registry.h"
#include "worker/route.h"
#include "worker/session.h"
#include "worker/takproto.h"
#include "worker/worker_int.h"

/* Room for a pong or a disconnect notice (they take about 400 bytes). */
#define SESSION_MADE_MAX	1024


void
session_init(struct worker *w, struct conn *c)
{
	struct session	*s = &c->s;

	memset(s, 0, sizeof(*s));
	/* The config bounds max_event_bytes inside the framer's range. */
	(void)cot_framer_init(&s->framer, w->cfg->max_event_bytes);
	s->enc = EVBUF_XML;
	outq_init(&s->outq, w->cfg->max_queue_bytes > 0 ?
	    w->cfg->max_queue_bytes : OUTQ_DEFAULT_MAX);
}

static void
session_pong(struct worker *w, struct conn *c, int64_t wall)
{
	struct evbuf	*ev;
	char		 buf[SESSION_MADE_MAX];
	size_t		 n;

	if ((n = cot_make_pong(buf, sizeof(buf), wall)) == 0 ||
	    (ev = evbuf_new(buf, n)) == NULL) {
		w->cnt.drop_nomem++;
		return;
	}
	deliver_enqueue(w, c, ev, 0, 0, IPC_EV_PING);
	evbuf_unref(ev);
	w->cnt.pongs++;
}

/*
 * Drop an event the session may not send (an identity another certificate
 * holds, a server's event): counted, and logged with both sides at most
 * once per BUDGET_LOG_MS.
 */
static void
session_refuse(struct worker *w, struct conn *c, const struct cot_view *v,
    uint64_t *counter, const char *why, const char *other)
{
	struct session	*s = &c->s;
	int64_t		 now = clock_mono_ms();
	char		 who[CONN_WHO_MAX];

	(*counter)++;
	s->refused++;
	if (s->refused_logged_ms != 0 &&
	    now - s->refused_logged_ms < BUDGET_LOG_MS)
		return;
	log_warnx("session %" PRIu64 ": event \"%s\" type %s callsign "
	    "\"%s\" dropped: %s%s%s%s (%" PRIu64 " such event%s since the "
	    "last such line) (%s)", c->id, v->uid, v->type, v->callsign, why,
	    other != NULL ? " (held by \"" : "", other != NULL ? other : "",
	    other != NULL ? "\")" : "", s->refused, s->refused == 1 ? "" : "s",
	    conn_who(c, who, sizeof(who)));
	s->refused_logged_ms = now;
	s->refused = 0;
}

static bool
session_set(char *dst, size_t len, const char *src)
{
	if (strcmp(dst, src) == 0)
		return (false);
	snprintf(dst, len, "%s", src);
	return (true);
}

/*
 * The session's first identity (a contact with callsign and endpoint): its
 * uid and callsign must not be another certificate's.  A uid that a session
 * of the same certificate holds is taken over: that session is closed (a
 * client that reconnected before its old connection timed out).  -1: the
 * event is refused.
 */
static int
session_bind(struct worker *w, struct conn *c, const struct cot_view *v)
{
	struct session		*s = &c->s;
	enum registry_claim	 claim;
	char			 other[REGISTRY_OWNER_MAX], who[CONN_WHO_MAX];
	bool			 remote;

	claim = registry_claim_uid(w, c, v->uid, true, other, &remote);
	if (claim == REGISTRY_OTHER) {
		session_refuse(w, c, v, &w->cnt.drop_identity, "its uid "
		    "belongs to another certificate", other);
		return (-1);
	}
	if (registry_claim_callsign(w, c, v->callsign, other) ==
	    REGISTRY_OTHER) {
		session_refuse(w, c, v, &w->cnt.drop_identity, "its callsign "
		    "belongs to another certificate", other);
		return (-1);
	}
	snprintf(s->uid, sizeof(s->uid), "%s", v->uid);
	snprintf(s->callsign, sizeof(s->callsign), "%s", v->callsign);
	snprintf(s->group, sizeof(s->group), "%s", v->group_name);
	snprintf(s->role, sizeof(s->role), "%s", v->group_role);
	registry_bind(w, c);
	/*
	 * Committed now, before the event is relayed: a client of another
	 * worker that learns the uid from it cannot claim it first.
	 */
	registry_commit(w);
	log_info("session %" PRIu64 ": uid \"%s\" callsign \"%s\" (%s)",
	    c->id, s->uid, s->callsign, conn_who(c, who, sizeof(who)));
	if (claim == REGISTRY_OWN)
		registry_takeover(w, c, remote);
	return (0);
}

/*
 * A later identity event of the bound uid may change the callsign (to one
 * no other certificate holds), the group and the role: a user who renames
 * himself stays reachable by the new name.
 */
static int
session_rebind(struct worker *w, struct conn *c, const struct cot_view *v)
{
	struct session	*s = &c->s;
	char		 old[COT_CALLSIGN_MAX], other[REGISTRY_OWNER_MAX];
	bool		 changed = false;

	if (strcmp(v->callsign, s->callsign) != 0 &&
	    registry_claim_callsign(w, c, v->callsign, other) ==
	    REGISTRY_OTHER) {
		session_refuse(w, c, v, &w->cnt.drop_identity, "its new "
		    "callsign belongs to another certificate", other);
		return (-1);
	}
	snprintf(old, sizeof(old), "%s", s->callsign);
	changed |= session_set(s->callsign, sizeof(s->callsign), v->callsign);
	changed |= session_set(s->group, sizeof(s->group), v->group_name);
	changed |= session_set(s->role, sizeof(s->role), v->group_role);
	if (!changed)
		return (0);
	registry_bind(w, c);
	if (strcmp(old, s->callsign) != 0)
		log_info("session %" PRIu64 ": uid \"%s\" is now callsign "
		    "\"%s\" (was \"%s\")", c->id, s->uid, s->callsign, old);
	return (0);
}

/*
 * Whether the session may send this event under its uid: its own bound
 * uid; or a uid no other certificate holds, live or stored (markers,
 * chats, other non-identity events keep their own uids), and then an
 * identity only from a relay ([cot] relay_certs).  The first identity binds
 * the session.  -1: refused (dropped and counted).
 */
static int
session_accept(struct worker *w, struct conn *c, const struct cot_view *v)
{
	struct session	*s = &c->s;
	const char	*id = cot_identity_uid(v);
	char		 other[REGISTRY_OWNER_MAX];

	if (s->uid[0] != '\0' && strcmp(v->uid, s->uid) == 0)
		return (id != NULL ? session_rebind(w, c, v) : 0);
	if (id != NULL && s->uid[0] == '\0')
		return (session_bind(w, c, v));
	if (id != NULL && !s->relay) {
		session_refuse(w, c, v, &w->cnt.drop_identity, "an identity "
		    "other than the session's own uid (not a relay_certs "
		    "certificate)", NULL);
		return (-1);
	}
	if (registry_claim_uid(w, c, v->uid, true, other, NULL) ==
	    REGISTRY_OTHER) {
		session_refuse(w, c, v, &w->cnt.drop_identity, "its uid "
		    "belongs to another certificate", other);
		return (-1);
	}
	if (id != NULL && registry_claim_callsign(w, c, v->callsign, other) ==
	    REGISTRY_OTHER) {
		session_refuse(w, c, v, &w->cnt.drop_identity, "its callsign "
		    "belongs to another certificate", other);
		return (-1);
	}
	return (0);
}

/*
 * A v1 message the codec refused: the frame around it was sound, so the
 * stream is still in step and only the message is lost (docs/takproto.md);
 * counted, and logged at most once per BUDGET_LOG_MS.
 */
static void
session_v1_invalid(struct worker *w, struct conn *c, const char *err)
{
	struct session	*s = &c->s;
	int64_t		 now = clock_mono_ms();
	char		 who[CONN_WHO_MAX];

	w->cnt.drop_takp_invalid++;
	s->v1_invalid++;
	if (s->v1_invalid_logged_ms != 0 &&
	    now - s->v1_invalid_logged_ms < BUDGET_LOG_MS)
		return;
	log_warnx("session %" PRIu64 ": TAK protocol v1 message dropped: %s "
	    "(%" PRIu64 " such message%s since the last such line) (%s)",
	    c->id, err, s->v1_invalid, s->v1_invalid == 1 ? "" : "s",
	    conn_who(c, who, sizeof(who)));
	s->v1_invalid_logged_ms = now;
	s->v1_invalid = 0;
}

/*
 * One event into v: an XML event (cot_parse(): -1 closes the session) or a
 * v1 TakMessage (takp_decode(): a refused one, or a TakControl alone, is
 * dropped and counted, 0).
 */
static int
session_decode(struct worker *w, struct conn *c, enum evbuf_enc enc,
    const uint8_t *bytes, size_t len, struct cot_view *v, char *reason,
    size_t rlen)
{
	char	 err[COT_ERR_MAX];
	int	 r;

	if (enc == EVBUF_XML) {
		if (cot_parse(bytes, len, v, err, sizeof(err)) == 0)
			return (1);
		w->cnt.drop_malformed++;
		snprintf(reason, rlen, "malformed event: %s", err);
		return (-1);
	}
	if ((r = takp_decode(bytes, len, v, NULL, err, sizeof(err))) ==
	    TAKP_EVENT)
		return (1);
	if (r == TAKP_CONTROL) {
		/* Meant for mesh peers; a server has no use for it. */
		w->cnt.drop_takp_control++;
		log_debug("session %" PRIu64 ": TAK protocol v1 TakControl "
		    "without an event: dropped", c->id);
	} else
		session_v1_invalid(w, c, err);
	return (0);
}

/*
 * Parse: the sender's budgets before (rate and bytes), the decoder of its
 * encoding, its class's size cap after.  1: v and cls are filled, go on;
 * 0: dropped (counted); -1: malformed, close the session with reason.
 */
static int
session_parse(struct worker *w, struct conn *c, enum evbuf_enc enc,
    const uint8_t *bytes, size_t len, int64_t now, struct cot_view *v,
    enum ipc_ev_class *cls, char *reason, size_t rlen)
{
	struct session	*s = &c->s;
	int		 r;

	s->last_event_ms = now;
	s->events_in++;
	w->cnt.events_in++;
	if (!budget_admit(w, c, len, now)) {
		w->cnt.ev_in[IPC_EV_UNPARSED]++;
		return (0);
	}
	if ((r = session_decode(w, c, enc, bytes, len, v, reason, rlen)) !=
	    1) {
		w->cnt.ev_in[IPC_EV_UNPARSED]++;
		return (r);
	}
	*cls = route_class(v->type);
	w->cnt.ev_in[*cls]++;
	if (!budget_class_ok(w, c, *cls, v->type, len, now))
		return (0);
	return (1);
}

/*
 * Identity: whether the session may send v.  Events only a server makes
 * are refused whoever sends them; then its uid (and callsign) must be the
 * session's own or nobody else's (session_accept(), which binds the first
 * identity).  -1: dropped and counted.
 */
static int
session_may_send(struct worker *w, struct conn *c, const struct cot_view *v)
{
	const char	*why;

	if ((why = route_server_only(v, c->s.uid)) != NULL) {
		session_refuse(w, c, v, &w->cnt.drop_server_only, why, NULL);
		return (-1);
	}
	return (session_accept(w, c, v));
}

/*
 * Route and deliver: the event, as received (ev, in the sender's
 * encoding), to the recipients route_decide() chose, here and on every
 * other worker (deliver.c).
 */
static void
session_route(struct worker *w, struct conn *c, const struct cot_view *v,
    enum route_action act, enum ipc_ev_class cls, struct evbuf *ev)
{
	struct deliver	 d;

	memset(&d, 0, sizeof(d));
	d.kind = act == ROUTE_DIRECTED ? DELIVER_DIRECTED : DELIVER_BROADCAST;
	d.flags = cot_is_sa(v) ? DELIVER_F_SA : 0;
	d.cls = cls;
	d.src_worker = w->args->id;
	d.src_conn = c->id;
	/* Who may get it: every session whose OUT groups meet these. */
	d.in = &c->s.groups.in;
	d.groups = c->s.groups.in_list;
	memcpy(d.uid, v->uid, sizeof(d.uid));
	if (d.kind == DELIVER_DIRECTED) {
		d.n_dest = v->n_dest;
		d.dest = v->dest;
	}
	deliver_event(w, &d, ev, true);
}

/*
 * SA record: only the session's own position is kept for replay (a marker
 * is an "a-" type too), or a relay's identities, and never a directed one.
 * The store keeps XML: a v1 sender's SA is converted (at most once: an XML
 * recipient may have made it already), and one that cannot be is not kept.
 */
static void
session_record(struct worker *w, struct conn *c, const struct cot_view *v,
    enum route_action act, struct evbuf *ev, int64_t wall)
{
	struct session	*s = &c->s;
	struct evbuf	*xml;
	const uint8_t	*bytes;
	size_t		 len;
	bool		 own;

	if (act != ROUTE_BROADCAST || !cot_is_sa(v))
		return;
	own = s->uid[0] != '\0' && strcmp(v->uid, s->uid) == 0;
	if (own)
		snprintf(s->last_sa_type, sizeof(s->last_sa_type), "%s",
		    v->type);
	else if (!s->relay || cot_identity_uid(v) == NULL)
		return;
	if ((xml = evconv_get0(ev, EVBUF_XML, &w->cnt)) == NULL)
		return;
	bytes = evbuf_body(xml, &len);
	registry_sa(w, c, v, bytes, len, wall);
}

/* The event's bytes as received, in their encoding, for every recipient. */
static struct evbuf *
session_evbuf(struct worker *w, struct conn *c, enum evbuf_enc enc,
    const uint8_t *bytes, size_t len)
{
	struct evbuf	*ev;

	ev = enc == EVBUF_V1 ? evbuf_new_v1(bytes, len) :
	    evbuf_new(bytes, len);
	if (ev == NULL) {
		w->cnt.drop_nomem++;
		log_warn("session %" PRIu64 ": event of %zu bytes", c->id, len);
	}
	return (ev);
}

/*
 * One event of the stream (framed by session_input()), in encoding enc:
 * parse, then the answer to a TAK protocol request, a pong for a ping, or
 * identity, route and deliver, SA record; -1 closes the session with
 * reason.
 */
static int
session_event(struct worker *w, struct conn *c, enum evbuf_enc enc,
    const uint8_t *bytes, size_t len, int64_t now, char *reason, size_t rlen)
{
	struct cot_view		 v;
	struct evbuf		*ev;
	enum route_action	 act;
	enum ipc_ev_class	 cls;
	int64_t			 wall;
	int			 r;

	if ((r = session_parse(w, c, enc, bytes, len, now, &v, &cls, reason,
	    rlen)) != 1)
		return (r);
	wall = clock_wall_ms();
	act = route_decide(&v);
	if (cot_is_takp_request(&v))
		takproto_request(w, c, &v);
	else if (act == ROUTE_PONG)
		session_pong(w, c, wall);
	else if (session_may_send(w, c, &v) == -1)
		;	/* refused, counted */
	else if (act == ROUTE_NO_RECIPIENT) {
		w->cnt.drop_no_recipient++;
		log_debug("session %" PRIu64 ": event \"%s\" type %s has "
		    "<marti> but no dest takd can resolve: not delivered",
		    c->id, v.uid, v.type);
	} else if ((ev = session_evbuf(w, c, enc, bytes, len)) != NULL) {
		session_route(w, c, &v, act, cls, ev);
		session_record(w, c, &v, act, ev, wall);
		evbuf_unref(ev);
		fileshare_check(w, c, &v);
	}
	registry_touch(w, c, wall);
	return (0);
}

/* A framing error of either encoding: counted, the reason for the close. */
static int
session_framing(struct worker *w, struct conn *c, const char *why,
    char *reason, size_t rlen)
{
	struct session	*s = &c->s;

	w->cnt.close_framing++;
	if (s->enc == EVBUF_XML) {
		snprintf(reason, rlen, "%s (at stream byte %" PRIu64 ")", why,
		    cot_framer_error_offset(&s->framer));
		return (-1);
	}
	w->cnt.takp_framing++;
	snprintf(reason, rlen, "%s (at TAK protocol v1 stream byte %" PRIu64
	    ")", why, takp_framer_error_offset(&s->tframer));
	return (-1);
}

/* The frames of a v1 session's framer, each an event. */
static int
session_frames_v1(struct worker *w, struct conn *c, int64_t now,
    char *reason, size_t rlen)
{
	struct session	*s = &c->s;
	const uint8_t	*msg;
	const char	*why = NULL;
	uint64_t	 zeros = takp_framer_zeros(&s->tframer);
	size_t		 len;
	int		 r = 0;

	while (s->doom == NULL &&
	    (r = takp_framer_next(&s->tframer, &msg, &len, &why)) == 1)
		if (session_event(w, c, EVBUF_V1, msg, len, now, reason,
		    rlen) == -1)
			return (-1);
	/* One peer server's habit (docs/cot.md): counted, not refused. */
	w->cnt.takp_zeros += takp_framer_zeros(&s->tframer) - zeros;
	if (s->doom == NULL && r == -1)
		return (session_framing(w, c, why, reason, rlen));
	return (0);
}

/*
 * An XML session's read: its events, until the one that switches it to v1
 * (a request answered "true"), after which the rest of the read is v1.
 */
static int
session_input_xml(struct worker *w, struct conn *c, const uint8_t *buf,
    size_t n, int64_t now, char *reason, size_t rlen)
{
	struct session	*s = &c->s;
	const uint8_t	*ev;
	const char	*why = NULL;
	size_t		 len;
	int		 r = 0;

	if (cot_framer_feed(&s->framer, buf, n, now, &why) == -1) {
		w->cnt.close_framing++;
		snprintf(reason, rlen, "%s", why);
		return (-1);
	}
	while (s->doom == NULL && s->enc == EVBUF_XML &&
	    (r = cot_framer_next(&s->framer, &ev, &len, &why)) == 1)
		if (session_event(w, c, EVBUF_XML, ev, len, now, reason,
		    rlen) == -1)
			return (-1);
	if (s->doom != NULL)
		return (0);
	if (s->enc == EVBUF_V1) {
		if (takproto_switch(w, c, now, &why) == -1)
			return (session_framing(w, c, why, reason, rlen));
		return (session_frames_v1(w, c, now, reason, rlen));
	}
	if (r == -1)
		return (session_framing(w, c, why, reason, rlen));
	return (0);
}

int
session_input(struct worker *w, struct conn *c, const uint8_t *buf,
    size_t n, char *reason, size_t rlen)
{
	struct session	*s = &c->s;
	const char	*why = NULL;
	int64_t		 now = clock_mono_ms();
	int		 rc;

	/* Events point into the framer: the budget must not free it. */
	s->budget.in_input = true;
	if (s->enc == EVBUF_XML)
		rc = session_input_xml(w, c, buf, n, now, reason, rlen);
	else if (takproto_feed(w, c, buf, n, now, &why) == -1)
		rc = session_framing(w, c, why, reason, rlen);
	else
		rc = session_frames_v1(w, c, now, reason, rlen);
	s->budget.in_input = false;
	/* Its input buffer grew or shrank: the worker's budget is checked. */
	if (rc == 0)
		budget_input(w, c);
	return (rc);
}

/*
 * The session's groups from the first source that has some (docs/groups.md):
 * the listener's fixed group; the user's (ug, nu > 0); with [auth]
 * ou_groups, one group named from the certificate's O and OU values; else
 * __ANON__, both halves.  0, or -1 with err and gs empty.
 */
static int
session_groups_pick(struct worker *w, struct conn *c,
    const struct groups_member *ug, size_t nu, struct groups_sess *gs,
    char *err, size_t errlen)
{
	struct groups_member	 one;
	enum groups_source	 src;

	one.halves = GROUPS_IN | GROUPS_OUT;
	if (c->acceptor != NULL && c->acceptor->group != NULL &&
	    c->acceptor->group[0] != '\0') {
		one.name = c->acceptor->group;
		src = GROUPS_SRC_LISTENER;
	} else if (nu > 0)
		return (groups_sess_take(w->groups, gs, GROUPS_SRC_USER, ug,
		    nu, err, errlen));
	else if (w->cfg->ou_groups && c->tls.orgunit[0] != '\0') {
		/* Never __ANON__ instead: that would widen what it sees. */
		if (c->tls.orgunit_long || !grouplist_name_ok(c->tls.orgunit,
		    strlen(c->tls.orgunit))) {
			memset(gs, 0, sizeof(*gs));
			snprintf(err, errlen, "its certificate's O and OU "
			    "values \"%.80s%s\" make no group name ([auth] "
			    "ou_groups)", c->tls.orgunit, c->tls.orgunit_long ?
			    "..." : "");
			return (-1);
		}
		one.name = c->tls.orgunit;
		src = GROUPS_SRC_CERT;
	} else {
		one.name = GROUPLIST_ANON;
		src = GROUPS_SRC_ANON;
	}
	return (groups_sess_take(w->groups, gs, src, &one, 1, err, errlen));
}

/* No group could be given: the session goes, loudly. */
static void
session_groups_refuse(struct worker *w, struct conn *c, const char *err)
{
	char	 who[CONN_WHO_MAX];

	log_warnx("session %" PRIu64 ": no groups can be given%s%s%s: %s "
	    "(%s)", c->id, c->s.user[0] != '\0' ? " to user \"" : "",
	    c->s.user, c->s.user[0] != '\0' ? "\"" : "", err,
	    conn_who(c, who, sizeof(who)));
	if (!c->s.started) {
		/* session_start() closes it. */
		c->s.groups.source = GROUPS_SRC_REFUSED;
		return;
	}
	w->cnt.close_groups++;
	deliver_doom(w, c, "no groups could be given (see above)");
}

void
session_start(struct worker *w, struct conn *c)
{
	struct session	*s = &c->s;
	char		 err[256];

	s->started = true;
	s->connected_wall_ms = clock_wall_ms();
	s->last_event_ms = clock_mono_ms();
	budget_session_start(w, c);
	registry_owner_init(w, c);
	if (s->groups.source == GROUPS_SRC_NONE && session_groups_pick(w, c,
	    NULL, 0, &s->groups, err, sizeof(err)) == -1) {
		session_groups_refuse(w, c, err);	/* closes it */
		return;
	}
	/* session_set_groups() at the handshake refused them. */
	if (s->groups.source == GROUPS_SRC_REFUSED) {
		w->cnt.close_groups++;
		deliver_doom(w, c, "no groups could be given (see above)");
		return;
	}
	log_debug("session %" PRIu64 ": groups in \"%s\" (%s)", c->id,
	    s->groups.in_list, groups_source_name(s->groups.source));
	receivers_stale(w);
	registry_connect(w, c);
	/* The offer first: a v1 client gets the replay in v1. */
	if (!takproto_start(w, c))
		deliver_replay(w, c, NULL);
}

/* Tell the session that its groups changed: a t-x-g-c for it alone. */
static void
session_groups_notice(struct worker *w, struct conn *c)
{
	struct evbuf	*ev;
	char		 buf[SESSION_MADE_MAX];
	size_t		 n;

	if ((n = cot_make_group_change(buf, sizeof(buf), c->s.uid,
	    clock_wall_ms())) == 0 || (ev = evbuf_new(buf, n)) == NULL) {
		w->cnt.drop_nomem++;
		return;
	}
	deliver_enqueue(w, c, ev, 0, 0, IPC_EV_OTHER);
	evbuf_unref(ev);
}

int
session_set_groups(struct worker *w, struct conn *c, const char *user,
    const struct groups_member *g, size_t n)
{
	return (session_set_groups_flags(w, c, user, g, n, 0));
}

int
session_set_groups_flags(struct worker *w, struct conn *c, const char *user,
    const struct groups_member *g, size_t n, unsigned flags)
{
	struct session		*s = &c->s;
	struct groups_sess	 ng, old;
	char			 err[256], was[256], now[256];
	char			 who[CONN_WHO_MAX];

	snprintf(s->user, sizeof(s->user), "%s", user != NULL ? user : "");
	if (s->doom != NULL || s->groups.source == GROUPS_SRC_REFUSED)
		return (-1);
	if (session_groups_pick(w, c, g, n, &ng, err, sizeof(err)) == -1) {
		session_groups_refuse(w, c, err);
		return (-1);
	}
	/* Both held while they are compared: their ids cannot mix. */
	old = s->groups;
	s->groups = ng;
	receivers_stale(w);
	if (!s->started || groups_sess_same(&old, &ng)) {
		groups_sess_drop(w->groups, &old);
		if (s->started)
			registry_connect(w, c);	/* the user may have changed */
		return (0);
	}
	groups_sess_list(w->groups, &old, GROUPS_OUT, was, sizeof(was));
	groups_sess_list(w->groups, &ng, GROUPS_OUT, now, sizeof(now));
	log_info("session %" PRIu64 ": groups changed: in \"%s\" out \"%s\" "
	    "(%s%s%s%s; receives from \"%s\" before) (%s)", c->id, ng.in_list,
	    now, groups_source_name(ng.source), s->user[0] != '\0' ?
	    " \"" : "", s->user, s->user[0] != '\0' ? "\"" : "", was,
	    conn_who(c, who, sizeof(who)));
	w->cnt.groups_changed++;
	/* The notice first: a client may clear its map when it comes. */
	if (!(flags & SESSION_GROUPS_NO_NOTICE))
		session_groups_notice(w, c);
	/* A replay still due will be made with the new groups. */
	if (!s->replay_due)
		deliver_replay(w, c, &old.out);
	groups_sess_drop(w->groups, &old);
	registry_connect(w, c);
	return (0);
}

void
session_close_user(struct worker *w, struct conn *c)
{
	char	 why[128];

	if (c->magic != CONN_MAGIC || c->state == CONN_HANDSHAKE)
		return;
	w->cnt.close_user_deleted++;
	snprintf(why, sizeof(why), "user \"%s\" is no longer in the users "
	    "file", c->s.user);
	conn_close(w, c, why);
}

int
session_close_admin(struct worker *w, uint64_t id, const char *admin)
{
	struct conn	*c;
	char		 why[160];

	TAILQ_FOREACH(c, &w->live, entry)
		if (c->magic == CONN_MAGIC && c->id == id &&
		    c->state == CONN_ESTABLISHED)
			break;
	if (c == NULL)
		return (-1);
	w->cnt.close_admin++;
	snprintf(why, sizeof(why), "disconnected by admin \"%s\" from the "
	    "console", admin);
	conn_close(w, c, why);
	return (0);
}

/*
 * The t-x-d-d notice that uid left, linking its last SA type, queued to
 * every local session but the sender src_conn of src_worker and, with
 * fanout, sent to every other worker: for a session that closed here, and
 * for the clients of a worker that died (the supervisor tells each worker,
 * so that one does not fan out).
 */
int
session_disconnect_notice(struct worker *w, const char *uid,
    const char *last_type, const struct groups_set *in, const char *groups,
    uint32_t src_worker, uint64_t src_conn, bool fanout)
{
	struct deliver	 d;
	struct evbuf	*ev;
	char		 buf[SESSION_MADE_MAX];
	size_t		 n;

	if ((n = cot_make_disconnect(buf, sizeof(buf), uid, last_type,
	    clock_wall_ms())) == 0) {
		log_warnx("cannot write the disconnect notice of uid \"%s\"",
		    uid);
		return (-1);
	}
	memset(&d, 0, sizeof(d));
	d.kind = DELIVER_BROADCAST;
	d.flags = DELIVER_F_SYSTEM;
	d.cls = IPC_EV_OTHER;
	d.src_worker = src_worker;
	d.src_conn = src_conn;
	/* Only those who could see it are told that it left. */
	d.in = in;
	d.groups = groups != NULL ? groups : "";
	snprintf(d.uid, sizeof(d.uid), "%s", uid);
	if ((ev = evbuf_new(buf, n)) == NULL) {
		w->cnt.drop_nomem++;
		return (-1);
	}
	deliver_event(w, &d, ev, fanout);
	evbuf_unref(ev);
	w->cnt.disconnect_notices++;
	return (0);
}

bool
session_departed(struct worker *w, uint32_t worker, const char *uid,
    const char *last_type, const char *groups)
{
	/*
	 * The supervisor saw no session holding uid when it cleaned up after
	 * the dead worker; one that bound it here since (the client came
	 * back) must not vanish from the others' maps.
	 */
	if (registry_uid_local(w, uid)) {
		log_debug("worker %u died: no disconnect notice for uid \"%s\": "
		    "connected here", worker, uid);
		return (false);
	}
	return (session_disconnect_notice(w, uid, last_type, NULL, groups,
	    worker, 0, false) == 0);
}

void
session_end(struct worker *w, struct conn *c)
{
	struct session	*s = &c->s;
	bool		 notice;

	w->cnt.drop_closed += outq_free(&s->outq);
	/* conn.c never closes a session from inside its read: free it all. */
	s->budget.in_input = false;
	budget_release(w, c);
	if (!s->started) {
		groups_sess_drop(w->groups, &s->groups);
		return;
	}
	s->started = false;
	receivers_stale(w);
	budget_session_end(w, c);
	/*
	 * A client that reconnected before its old session ended must not
	 * vanish from the others' maps.  While the worker exits, the notice
	 * has nobody left to reach here and its fan-out may be gone.
	 */
	notice = s->uid[0] != '\0' && w->state != WORKER_EXIT &&
	    !registry_uid_elsewhere(w, c);
	registry_disconnect(w, c);
	if (notice)
		(void)session_disconnect_notice(w, s->uid, s->last_sa_type,
		    &s->groups.in, s->groups.in_list, w->args->id, c->id, true);
	else if (s->uid[0] != '\0')
		log_debug("session %" PRIu64 ": no disconnect notice for uid "
		    "\"%s\"%s", c->id, s->uid, w->state == WORKER_EXIT ?
		    " (worker exiting)" : ": connected elsewhere");
	/* After its notice, which follows them. */
	groups_sess_drop(w->groups, &s->groups);
}

void
session_sweep(struct worker *w, int64_t now)
{
	struct conn	*c, *next;
	int64_t		 since;
	size_t		 held;
	unsigned	 idle = w->cfg->idle_timeout_ms;
	unsigned	 partial = w->cfg->partial_timeout_ms;
	unsigned	 stall = w->cfg->write_timeout_ms;
	unsigned	 every = SESSION_SWEEP_MS;
	char		 why[128];

	if (now < w->next_sweep_ms)
		return;
	if (partial == 0)
		partial = SESSION_UNCLOSED_MS;
	/* Short timeouts (tests) are checked often enough to be exact. */
	if (partial / 2 < every)
		every = partial / 2;
	if (idle > 0 && idle / 2 < every)
		every = idle / 2;
	if (stall > 0 && stall / 2 < every)
		every = stall / 2;
	if (every < SESSION_SWEEP_MIN_MS)
		every = SESSION_SWEEP_MIN_MS;
	w->next_sweep_ms = now + every;
	for (c = TAILQ_FIRST(&w->live); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (!deliver_receives(c))
			continue;
		if (idle > 0 && now - c->s.last_event_ms >= idle) {
			w->cnt.close_idle++;
			snprintf(why, sizeof(why), "idle timeout: no event for "
			    "%u ms", idle);
			conn_close(w, c, why);
			continue;
		}
		if (c->s.replay_due)
			takproto_sweep(w, c, now);
		held = takproto_in_held(c, &since);
		if (held > 0 && now - since >= partial) {
			w->cnt.close_unclosed++;
			snprintf(why, sizeof(why), "unclosed event: %zu bytes "
			    "held for %u ms", held, partial);
			conn_abort(w, c, why);
			continue;
		}
		if (stall > 0 && outq_bytes(&c->s.outq) > 0 &&
		    now - c->s.write_ms >= stall) {
			w->cnt.close_slow++;
			snprintf(why, sizeof(why), "write timeout: %zu bytes "
			    "queued, none read for %u ms",
			    outq_bytes(&c->s.outq), stall);
			conn_abort(w, c, why);
		}
	}
}
