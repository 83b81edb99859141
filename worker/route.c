/*
 * Routing decisions: see route.h.  Pure: they look at the parsed event (and
 * the sender's bound uid) only; delivery is deliver.c's.
 */
#include <stdbool.h>
#include <string.h>

#include "worker/route.h"

enum route_action
route_decide(const struct cot_view *v)
{
	if (cot_is_ping(v))
		return (ROUTE_PONG);
	/*
	 * <marti> restricts delivery.  "All Streaming" among its dests means
	 * everybody; dests takd cannot resolve (missions, groups) must not
	 * widen a restricted event into a broadcast.
	 */
	if (!v->has_marti || v->dest_all)
		return (ROUTE_BROADCAST);
	if (v->n_dest == 0)
		return (ROUTE_NO_RECIPIENT);
	return (ROUTE_DIRECTED);
}

/* type is prefix, alone or followed by "-" and more. */
static bool
route_type_is(const char *type, const char *prefix)
{
	size_t	 n = strlen(prefix);

	return (strncmp(type, prefix, n) == 0 &&
	    (type[n] == '\0' || type[n] == '-'));
}

const char *
route_server_only(const struct cot_view *v, const char *own_uid)
{
	if (route_type_is(v->type, "t-x-c-t-r") ||
	    strcmp(v->uid, "takPong") == 0)
		return ("a pong");
	if (route_type_is(v->type, "t-x-takp"))
		return ("a TAK server control event");
	/* It would tell others that their groups changed: takd's word. */
	if (route_type_is(v->type, "t-x-g-c"))
		return ("a group change notice");
	if (strcmp(v->type, "t-x-d-d") == 0 && (own_uid[0] == '\0' ||
	    strcmp(v->link_uid, own_uid) != 0))
		return ("a disconnect notice for another uid");
	return (NULL);
}

enum ipc_ev_class
route_class(const char *type)
{
	if (type[0] == 'a' && type[1] == '-')
		return (IPC_EV_SA);
	if (route_type_is(type, "b-t-f"))
		return (IPC_EV_CHAT);
	if (route_type_is(type, "t-x-c-t"))
		return (IPC_EV_PING);
	return (IPC_EV_OTHER);
}

const char *
route_action_name(enum route_action a)
{
	switch (a) {
	case ROUTE_PONG:
		return ("pong");
	case ROUTE_BROADCAST:
		return ("broadcast");
	case ROUTE_DIRECTED:
		return ("directed");
	case ROUTE_NO_RECIPIENT:
		return ("no recipient");
	}
	return ("?");
}
