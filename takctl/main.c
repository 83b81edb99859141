/*
 * takctl [-c FILE] COMMAND ...: the PKI commands work on [pki] dir directly,
 * user and group on [auth] users; status, reload, clients and stats ask the
 * running takd over its admin socket.
 *
 * Exit status: 0 success, 1 failure, 64 usage error, 78 configuration error.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/config.h"
#include "shared/json.h"
#include "takctl/admin_client.h"
#include "takctl/takctl.h"

static const char usage_text[] =
"usage: takctl [-c FILE] COMMAND [ARGS]\n"
"\n"
"  -c FILE   the takd configuration (default: built-in defaults, state\n"
"            in ./var)\n"
"  -h        this help\n"
"\n"
"commands:\n"
"  pki init-ca [--cn NAME] [--days N] [--crl-days N] [--rsa 2048|3072|4096]\n"
"              [--force]         create the CA, its key and an empty CRL\n"
"  pki server [--cn HOST] [--san DNS:NAME|IP:ADDR]... [--days N]\n"
"             [--rsa BITS|--ec] [--force]\n"
"                                issue the server certificate\n"
"  pki client NAME [--days N] [--password P] [--rsa BITS|--ec] [--force]\n"
"                                issue a client certificate, .p12 bundle\n"
"                                and ATAK data package (.zip)\n"
"  pki enroll-package USER [--no-password] [--force] [--qr FILE.svg|.pbm]\n"
"                     [--qr-itak FILE] [--qr-terminal]\n"
"                                write the enrollment package of USER and\n"
"                                print the ATAK and iTAK QR strings\n"
"  pki list                      list the certificates issued by the CA\n"
"  pki expiring [--days N] [--json]  certificates that expire within N days\n"
"  pki renew NAME [--grace 7d] [--days N] [--password P]\n"
"                                a new certificate and package for NAME;\n"
"                                the old one revoked once the grace ends\n"
"  pki renew-server [--days N]   a new server certificate (same name, key\n"
"                                type); takd uses it after a restart\n"
"  revoke NAME|--serial HEX|--cert FILE [--reason R] [--days N]\n"
"         [--no-reload]          revoke, write the CRL and reload takd\n"
"  crl renew [--days N] [--no-reload]\n"
"                                re-sign the CRL with a new nextUpdate;\n"
"                                revoke renewed certificates past grace\n"
"  crl show [FILE]               print the CRL takd uses ([tls] crl)\n"
"  crl import-fts FILE [--days N] [--no-reload]\n"
"                                merge a FreeTAKServer CRL (PEM or JSON)\n"
"  status [--json]               the status of the running takd: a summary\n"
"                                at a terminal, else (or with --json) JSON\n"
"  reload                        make takd re-read its CRL and users file\n"
"                                (like SIGHUP)\n"
"  clients [--json]              list the connected clients\n"
"  sa list [--json]              the latest SA events kept for replay\n"
"  sa purge UID|--cert NAME|--all\n"
"                                remove stored SA events\n"
"  stats [--prometheus|--json]   the metrics as a table, per worker and in\n"
"                                total, or in the Prometheus text format,\n"
"                                or the status JSON\n"
"  user add NAME [--groups G1,G2] [--in G,...] [--out G,...]\n"
"           [--role admin|user] [--no-password]\n"
"                                add a user to [auth] users; the password\n"
"                                is asked at the terminal, or read from\n"
"                                stdin (one line)\n"
"  user passwd NAME [--no-password]\n"
"                                set (or remove) a user's password\n"
"  user del NAME                 remove a user\n"
"  user groups NAME G1[,G2...] [--in G,...] [--out G,...]\n"
"                                replace a user's groups (\"\" for none)\n"
"  user list [--json]            the users, roles and groups\n"
"  user import-tak FILE          add the users of a TAK Server\n"
"                                UserAuthenticationFile.xml\n"
"  group list [--json]           every group and its members\n"
"                                (user and group changes take effect at\n"
"                                `takctl reload`)\n"
"  packages list [--json]        the data packages in [api] packages_dir\n"
"  packages rm HASH              remove a package (record and file)\n"
"  packages gc [--json]          remove files without a record, records\n"
"                                without a file, stale temp files\n"
"\n"
"exit status: 0 ok, 1 failed, 64 usage error, 78 configuration error\n";

struct command {
	const char	*name;
	int		(*fn)(struct config *, int, char **);
};

static const struct command commands[] = {
	{ "pki",	cmd_pki },
	{ "status",	cmd_status },
	{ "reload",	cmd_reload },
	{ "clients",	cmd_clients },
	{ "sa",		cmd_sa },
	{ "stats",	cmd_stats },
	{ "revoke",	cmd_revoke },
	{ "crl",	cmd_crl },
	{ "user",	cmd_user },
	{ "group",	cmd_group },
	{ "packages",	cmd_packages },
};

/* Large (many PATH_MAX buffers): not on the stack. */
static struct config	 cfg;

void
takctl_warnx(const char *fmt, ...)
{
	va_list	 ap;

	fputs("takctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
takctl_help(void)
{
	fputs(usage_text, stdout);
}

int
takctl_usage(void)
{
	fputs(usage_text, stderr);
	return (TAKCTL_EX_USAGE);
}

/*
 * Send request and print the JSON reply.  It failed when the reply has an
 * "error" key or, with ok_key, when that key is not true.
 */
int
takctl_admin(struct config *c, const char *request, int timeout_ms,
    const char *ok_key)
{
	const char	*v;
	size_t		 len, vlen;
	char		 err[PATH_MAX + 256];
	char		*reply;
	int		 rc, found;

	if (admin_request(c, request, timeout_ms, &reply, &len, err,
	    sizeof(err)) < 0) {
		takctl_warnx("%s", err);
		return (TAKCTL_EX_FAIL);
	}
	fwrite(reply, 1, len, stdout);
	if (reply[len - 1] != '\n')
		fputc('\n', stdout);

	rc = TAKCTL_EX_OK;
	if ((found = json_get(reply, len, "error", &v, &vlen)) == -1) {
		takctl_warnx("takd sent a reply that is not a JSON object");
		rc = TAKCTL_EX_FAIL;
	} else if (found == 1)
		rc = TAKCTL_EX_FAIL;
	else if (ok_key != NULL && (json_get(reply, len, ok_key, &v,
	    &vlen) != 1 || vlen != 4 ||
	    memcmp(v, "true", 4) != 0))
		rc = TAKCTL_EX_FAIL;
	free(reply);
	if (fflush(stdout) == EOF) {
		takctl_warnx("writing the reply failed");
		rc = TAKCTL_EX_FAIL;
	}
	return (rc);
}

int
cmd_reload(struct config *c, int argc, char **argv)
{
	if (argc != 1) {
		takctl_warnx("%s takes no arguments", argv[0]);
		return (takctl_usage());
	}
	return (takctl_admin(c, "reload", ADMIN_RELOAD_TIMEOUT_MS, "ok"));
}

int
main(int argc, char **argv)
{
	const struct command	*cmd = NULL;
	const char		*file = NULL;
	char			 err[PATH_MAX + 256];
	size_t			 i;
	int			 ch, rc;

	/* '+': stop at the command, whose options are its own. */
	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'h':
			takctl_help();
			return (TAKCTL_EX_OK);
		default:
			return (takctl_usage());
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return (takctl_usage());
	if (strcmp(argv[0], "help") == 0) {
		takctl_help();
		return (TAKCTL_EX_OK);
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		takctl_warnx("unknown command \"%s\"", argv[0]);
		return (takctl_usage());
	}

	config_init(&cfg);
	if (config_load(&cfg, file, err, sizeof(err)) == -1) {
		takctl_warnx("%s", err);
		config_clear_secrets(&cfg);
		return (TAKD_EX_CONFIG);
	}
	rc = cmd->fn(&cfg, argc, argv);
	/* What changes the index, status, and the daily crl renew. */
	if (cmd->fn == cmd_pki || cmd->fn == cmd_revoke ||
	    cmd->fn == cmd_crl || cmd->fn == cmd_status)
		takctl_expiry_note(&cfg);
	config_clear_secrets(&cfg);
	return (rc);
}
