/*
 * takctl clients: who is connected, from the supervisor's view of the shared
 * registry.  --json prints the array as takd sent it; otherwise a table.
 */
#include <stdio.h>
#include <string.h>

#include "shared/json.h"
#include "takctl/report.h"
#include "takctl/takctl.h"

struct clients_col {
	const char	*key;
	const char	*title;
	int		 width;
};

static const struct clients_col cols[] = {
	{ "callsign",	"CALLSIGN",	16 },
	{ "uid",	"UID",		28 },
	{ "worker",	"W",		2 },
	{ "peer",	"PEER",		22 },
	{ "connected",	"CONNECTED",	20 },
	{ "serial",	"SERIAL",	32 },
	{ "subject",	"SUBJECT",	0 },
};

/* A value as text: strings without their quotes, null as "-". */
static void
clients_print_value(const char *obj, size_t len, const struct clients_col *c)
{
	const char	*v;
	size_t		 vlen;
	int		 w;

	if (json_get(obj, len, c->key, &v, &vlen) != 1 ||
	    (vlen == 4 && memcmp(v, "null", 4) == 0) ||
	    (vlen == 2 && memcmp(v, "\"\"", 2) == 0)) {
		v = "-";
		vlen = 1;
	} else if (vlen >= 2 && v[0] == '"') {
		v++;
		vlen -= 2;
	}
	w = c->width == 0 ? (int)vlen : c->width;
	printf("%-*.*s ", w, (int)(vlen < (size_t)w ? vlen : (size_t)w), v);
}

static int
clients_table(const char *arr, size_t len)
{
	const char	*pos = arr, *end = arr + len, *obj;
	size_t		 olen, i, n = 0;
	int		 rc;

	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		printf("%-*s ", cols[i].width, cols[i].title);
	putchar('\n');
	while ((rc = json_array_next(&pos, end, &obj, &olen)) == 1) {
		for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
			clients_print_value(obj, olen, &cols[i]);
		putchar('\n');
		n++;
	}
	if (rc == -1) {
		takctl_warnx("takd sent a malformed client list");
		return (TAKCTL_EX_FAIL);
	}
	printf("%zu client%s connected\n", n, n == 1 ? "" : "s");
	return (TAKCTL_EX_OK);
}

int
cmd_clients(struct config *c, int argc, char **argv)
{
	int	 json = 0;

	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		json = 1;
	else if (argc != 1) {
		takctl_warnx("usage: takctl clients [--json]");
		return (TAKCTL_EX_USAGE);
	}
	return (report_list(c, "clients", "clients", "a client list", json,
	    clients_table));
}
