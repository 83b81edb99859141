/*
 * takctl clients: who is connected, from the supervisor's view of the shared
 * registry, with each client's user, the groups it publishes to (IN) and
 * receives from (OUT), the encoding of its stream (xml, or v1: TAK
 * protocol version 1) and its certificate's expiry (notAfter).  --json prints the array as takd sent it;
 * otherwise a table.  --cluster lists every node's clients
 * (docs/cluster.md), each with its node.
 */
#include <stdio.h>
#include <string.h>

#include "takctl/report.h"
#include "takctl/takctl.h"

static const struct report_col cols[] = {
	{ "callsign",	"CALLSIGN",	16 },
	{ "uid",	"UID",		28 },
	{ "worker",	"W",		2 },
	{ "user",	"USER",		12 },
	{ "groups.in",	"IN",		16 },
	{ "groups.out",	"OUT",		16 },
	{ "encoding",	"ENC",		3 },
	{ "peer",	"PEER",		22 },
	{ "connected",	"CONNECTED",	20 },
	{ "expires",	"EXPIRES",	20 },
	{ "serial",	"SERIAL",	32 },
	{ "subject",	"SUBJECT",	0 },
};

static const struct report_col cluster_cols[] = {
	{ "node",	"NODE",		12 },
	{ "callsign",	"CALLSIGN",	16 },
	{ "uid",	"UID",		28 },
	{ "user",	"USER",		12 },
	{ "groups.in",	"IN",		16 },
	{ "groups.out",	"OUT",		16 },
	{ "encoding",	"ENC",		3 },
	{ "peer",	"PEER",		22 },
	{ "connected",	"CONNECTED",	20 },
	{ "subject",	"SUBJECT",	0 },
};

static int
clients_table(const char *arr, size_t len)
{
	return (report_table(arr, len, cols, sizeof(cols) / sizeof(cols[0]),
	    "client", "clients", " connected"));
}

static int
clients_cluster_table(const char *arr, size_t len)
{
	return (report_table(arr, len, cluster_cols, sizeof(cluster_cols) /
	    sizeof(cluster_cols[0]), "client", "clients", " connected to "
	    "the cluster"));
}

int
cmd_clients(struct config *c, int argc, char **argv)
{
	int	 json = 0, cluster = 0, i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--cluster") == 0)
			cluster = 1;
		else {
			takctl_warnx("usage: takctl clients [--cluster] "
			    "[--json]");
			return (TAKCTL_EX_USAGE);
		}
	}
	if (cluster)
		return (report_list(c, "clients cluster", "clients",
		    "a client list", json, clients_cluster_table));
	return (report_list(c, "clients", "clients", "a client list", json,
	    clients_table));
}
