/*
 * Routing, the same in every worker: what to do with one parsed event, the
 * class it counts in, and what a client may not send.  Pure: no session,
 * no worker state; delivery is deliver.h's.  See docs/datapath.md.
 */
#ifndef TAKD_WORKER_ROUTE_H
#define TAKD_WORKER_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "cot/cot_parse.h"
#include "ipc/ipc_msg.h"

enum route_action {
	ROUTE_PONG,		/* ping: answer the sender, forward nothing */
	ROUTE_BROADCAST,	/* every other client */
	ROUTE_DIRECTED,		/* only the <marti><dest> recipients */
	ROUTE_NO_RECIPIENT	/* <marti> without a dest takd can resolve */
};

enum route_action route_decide(const struct cot_view *);
const char	*route_action_name(enum route_action);
/*
 * Why a client may not send this event, which only a server makes, or NULL:
 * a pong ("t-x-c-t-r", or uid "takPong"), a TAK server control event
 * ("t-x-takp-*"), a group change notice ("t-x-g-c"), or a disconnect notice ("t-x-d-d") for anybody but the
 * sender's own bound uid own_uid ("" when it has none): a client may
 * announce its own departure, as ATAK does.
 */
const char	*route_server_only(const struct cot_view *, const char *own_uid);

/*
 * The class of an event type for the metrics: "a-*" SA, "b-t-f" and
 * "b-t-f-*" chat, "t-x-c-t" and "t-x-c-t-*" ping (and pong), else other.
 */
enum ipc_ev_class route_class(const char *type);

#endif
