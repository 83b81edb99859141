/*
 * A client of the cluster's tables, this node's or another's: what
 * local.c and nodes.c keep of it, and its form on the wire.  See
 * cluster_int.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_int.h"

unsigned
cclient_hash(const char *s, unsigned n)
{
	unsigned	 h = 2166136261u;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return (h % n);
}

void
cclient_clear(struct cclient *cl)
{
	free(cl->uid);
	free(cl->callsign);
	free(cl->gin);
	free(cl->gout);
	free(cl->subject);
	free(cl->serial);
	free(cl->user);
	free(cl->peer);
}

int
cclient_from_wire(struct cclient *cl, const struct wire_client *w)
{
	cl->connected_ms = w->connected_ms;
	cl->v1 = w->v1;
	if ((cl->uid = strdup(w->uid)) == NULL ||
	    (cl->callsign = strdup(w->callsign)) == NULL ||
	    (cl->gin = strdup(w->groups_in)) == NULL ||
	    (cl->gout = strdup(w->groups_out)) == NULL ||
	    (cl->subject = strdup(w->subject)) == NULL ||
	    (cl->serial = strdup(w->serial)) == NULL ||
	    (cl->user = strdup(w->user)) == NULL ||
	    (cl->peer = strdup(w->peer)) == NULL)
		return (-1);
	return (0);
}

void
cclient_to_wire(const struct cclient *cl, bool up, struct wire_client *w)
{
	memset(w, 0, sizeof(*w));
	w->up = up;
	snprintf(w->uid, sizeof(w->uid), "%s", cl->uid);
	snprintf(w->callsign, sizeof(w->callsign), "%s", cl->callsign);
	snprintf(w->groups_in, sizeof(w->groups_in), "%s", cl->gin);
	snprintf(w->groups_out, sizeof(w->groups_out), "%s", cl->gout);
	snprintf(w->subject, sizeof(w->subject), "%s", cl->subject);
	snprintf(w->serial, sizeof(w->serial), "%s", cl->serial);
	snprintf(w->user, sizeof(w->user), "%s", cl->user);
	snprintf(w->peer, sizeof(w->peer), "%s", cl->peer);
	w->connected_ms = cl->connected_ms;
	w->v1 = cl->v1;
}
