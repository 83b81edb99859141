/*
 * takctl sa: the latest SA events takd keeps for replay (the supervisor
 * reads its store and answers over the admin socket: takctl, run as root,
 * never opens the service user's LMDB files).
 *
 *	takctl sa list [--json]
 *	takctl sa purge UID | --cert NAME | --all
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/json.h"
#include "takctl/admin_client.h"
#include "takctl/report.h"
#include "takctl/takctl.h"

static const struct report_col sa_cols[] = {
	{ "uid",	"UID",		28 },
	{ "type",	"TYPE",		14 },
	{ "stored",	"STORED",	20 },
	{ "stale",	"STALE",	20 },
	{ "bytes",	"BYTES",	6 },
	{ "owner",	"OWNER",	0 },
};

static int
sa_table(const char *arr, size_t len)
{
	return (report_table(arr, len, sa_cols,
	    sizeof(sa_cols) / sizeof(sa_cols[0]), "stored SA event",
	    "stored SA events", ""));
}

static int
sa_list(struct config *c, int json)
{
	return (report_list(c, "sa list", "sa", "an SA list", json,
	    sa_table));
}

static int
sa_purge(struct config *c, const char *what, const char *value)
{
	const char	*n;
	char		 req[512], err[PATH_MAX + 256], *reply;
	size_t		 len, nlen;

	if (value != NULL && (value[0] == '\0' ||
	    strpbrk(value, "\r\n") != NULL)) {
		takctl_warnx("sa purge: bad %s", what);
		return (TAKCTL_EX_USAGE);
	}
	if ((size_t)snprintf(req, sizeof(req), "sa purge %s%s%s", what,
	    value != NULL ? " " : "", value != NULL ? value : "") >=
	    sizeof(req)) {
		takctl_warnx("sa purge: %s too long", what);
		return (TAKCTL_EX_USAGE);
	}
	if (admin_request(c, req, 0, &reply, &len, err, sizeof(err)) < 0) {
		takctl_warnx("%s", err);
		return (TAKCTL_EX_FAIL);
	}
	if (json_get(reply, len, "removed", &n, &nlen) != 1) {
		takctl_warnx("takd refused: %.*s", (int)(len > 200 ? 200 :
		    len), reply);
		free(reply);
		return (TAKCTL_EX_FAIL);
	}
	printf("%.*s stored SA event%s removed\n", (int)nlen, n,
	    nlen == 1 && n[0] == '1' ? "" : "s");
	free(reply);
	return (TAKCTL_EX_OK);
}

int
cmd_sa(struct config *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "list") == 0) {
		if (argc == 2)
			return (sa_list(c, 0));
		if (argc == 3 && strcmp(argv[2], "--json") == 0)
			return (sa_list(c, 1));
	} else if (argc == 3 && strcmp(argv[1], "purge") == 0) {
		if (strcmp(argv[2], "--all") == 0)
			return (sa_purge(c, "all", NULL));
		if (argv[2][0] != '-')
			return (sa_purge(c, "uid", argv[2]));
	} else if (argc == 4 && strcmp(argv[1], "purge") == 0 &&
	    strcmp(argv[2], "--cert") == 0)
		return (sa_purge(c, "cert", argv[3]));
	takctl_warnx("usage: takctl sa list [--json] | sa purge UID | "
	    "sa purge --cert NAME | sa purge --all");
	return (TAKCTL_EX_USAGE);
}
