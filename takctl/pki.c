/*
 * takctl pki init-ca | server | client NAME | list: option parsing and
 * reporting around pki/issue.c, which does the work.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "pki/pki.h"
#include "takctl/takctl.h"
#include "takctl/user.h"

enum {
	OPT_CN = 256,
	OPT_DAYS,
	OPT_CRL_DAYS,
	OPT_RSA,
	OPT_EC,
	OPT_SAN,
	OPT_PASSWORD,
	OPT_FORCE,
	OPT_HELP
};

static const struct option pki_opts_ca[] = {
	{ "cn",		required_argument,	NULL, OPT_CN },
	{ "days",	required_argument,	NULL, OPT_DAYS },
	{ "crl-days",	required_argument,	NULL, OPT_CRL_DAYS },
	{ "rsa",	required_argument,	NULL, OPT_RSA },
	{ "force",	no_argument,		NULL, OPT_FORCE },
	{ "help",	no_argument,		NULL, OPT_HELP },
	{ NULL,		0,			NULL, 0 }
};
static const struct option pki_opts_server[] = {
	{ "cn",		required_argument,	NULL, OPT_CN },
	{ "san",	required_argument,	NULL, OPT_SAN },
	{ "days",	required_argument,	NULL, OPT_DAYS },
	{ "rsa",	required_argument,	NULL, OPT_RSA },
	{ "ec",		no_argument,		NULL, OPT_EC },
	{ "force",	no_argument,		NULL, OPT_FORCE },
	{ "help",	no_argument,		NULL, OPT_HELP },
	{ NULL,		0,			NULL, 0 }
};
static const struct option pki_opts_client[] = {
	{ "days",	required_argument,	NULL, OPT_DAYS },
	{ "password",	required_argument,	NULL, OPT_PASSWORD },
	{ "rsa",	required_argument,	NULL, OPT_RSA },
	{ "ec",		no_argument,		NULL, OPT_EC },
	{ "force",	no_argument,		NULL, OPT_FORCE },
	{ "help",	no_argument,		NULL, OPT_HELP },
	{ NULL,		0,			NULL, 0 }
};
static const struct option pki_opts_none[] = {
	{ "help",	no_argument,		NULL, OPT_HELP },
	{ NULL,		0,			NULL, 0 }
};

struct pki_sub {
	const char		*name;
	int			(*fn)(struct config *, int, char **);
	const char		*usage;
};

static const struct pki_sub *pki_sub_find(const char *);

/* A usage error of one subcommand: its own usage line, not the whole text. */
static int
pki_usage(const char *sub)
{
	const struct pki_sub	*s = pki_sub_find(sub);

	if (s != NULL)
		fprintf(stderr, "usage: takctl pki %s %s\n", s->name,
		    s->usage);
	fprintf(stderr, "(takctl -h lists every command)\n");
	return (TAKCTL_EX_USAGE);
}

static int
pki_number(const char *opt, const char *s, unsigned max, unsigned *out)
{
	unsigned long	 v;
	char		*end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v < 1 ||
	    v > max) {
		takctl_warnx("--%s: \"%s\" is not a number from 1 to %u", opt,
		    s, max);
		return (-1);
	}
	*out = (unsigned)v;
	return (0);
}

/*
 * Parse the options of one pki subcommand (argv[0] is its name) into req.
 * *pos / *npos get the positional arguments.  Returns 0, 1 after --help,
 * or -1 after a usage error was reported.
 */
static int
pki_getopt(int argc, char **argv, const struct option *longopts,
    struct pki_req *req, char ***pos, int *npos, char **password)
{
	int	 ch, idx;

	memset(req, 0, sizeof(*req));
	if (password != NULL)
		*password = NULL;
	optind = 0;	/* glibc: full re-initialisation */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", longopts, &idx)) != -1) {
		switch (ch) {
		case OPT_CN:
			req->cn = optarg;
			break;
		case OPT_DAYS:
			if (pki_number("days", optarg, PKI_DAYS_MAX,
			    &req->days) == -1)
				return (-1);
			break;
		case OPT_CRL_DAYS:
			if (pki_number("crl-days", optarg, 3650,
			    &req->crl_days) == -1)
				return (-1);
			break;
		case OPT_RSA:
			if (pki_number("rsa", optarg, 16384,
			    &req->rsa_bits) == -1)
				return (-1);
			if (req->rsa_bits != 2048 && req->rsa_bits != 3072 &&
			    req->rsa_bits != 4096) {
				takctl_warnx("--rsa: use 2048, 3072 or 4096");
				return (-1);
			}
			req->keytype = PKI_KEY_RSA;
			break;
		case OPT_EC:
			req->keytype = PKI_KEY_EC;
			break;
		case OPT_SAN:
			if (req->n_san == PKI_MAX_SAN) {
				takctl_warnx("at most %d --san options",
				    PKI_MAX_SAN);
				return (-1);
			}
			req->san[req->n_san++] = optarg;
			break;
		case OPT_PASSWORD:
			req->password = optarg;
			if (password != NULL)
				*password = optarg;
			break;
		case OPT_FORCE:
			req->force = true;
			break;
		case OPT_HELP:
			takctl_help();
			return (1);
		case ':':
			takctl_warnx("pki %s: %s needs a value", argv[0],
			    argv[optind - 1]);
			return (-1);
		default:
			takctl_warnx("pki %s: unknown option \"%s\"", argv[0],
			    argv[optind - 1]);
			return (-1);
		}
	}
	*pos = argv + optind;
	*npos = argc - optind;
	return (0);
}

static void
pki_print_result(const char *what, const struct pki_result *res)
{
	char	 t[32];

	pki_time_format(res->not_after, t, sizeof(t));
	printf("%s: %s\nserial: %s\nnot after: %s\n", what, res->subject,
	    res->serial, t);
	if (res->clamped)
		takctl_warnx("warning: the lifetime was cut to end with the "
		    "CA's, %s", t);
}

/* A note when takd is configured to use another file than we wrote. */
static void
pki_note_path(const char *dir, const char *name, const char *used,
    const char *key)
{
	char	 path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (*used != '\0' && strcmp(path, used) != 0)
		takctl_warnx("note: %s is %s, so takd does not use %s", key,
		    used, path);
}

static int
pki_cmd_init_ca(struct config *cfg, int argc, char **argv)
{
	struct pki_req	 req;
	struct pki_result res;
	char		 err[PATH_MAX + 512];
	char		**pos;
	int		 npos, rc;

	if ((rc = pki_getopt(argc, argv, pki_opts_ca, &req, &pos,
	    &npos, NULL)) != 0 || npos != 0)
		return (rc == 1 ? TAKCTL_EX_OK : pki_usage(argv[0]));
	if (pki_init_ca(cfg->pki_dir, &req, &res, err, sizeof(err)) == -1) {
		takctl_warnx("%s", err);
		return (TAKCTL_EX_FAIL);
	}
	pki_print_result("CA", &res);
	printf("files: %s/{%s,%s,%s}\n", cfg->pki_dir, PKI_CA_CERT,
	    PKI_CA_KEY, PKI_CRL);
	if (res.stale_leaves)
		takctl_warnx("warning: certificates issued by the previous CA "
		    "no longer verify: reissue them with `takctl pki server "
		    "--force` and `takctl pki client NAME --force` (the old "
		    "index is %s/%s)", cfg->pki_dir, PKI_INDEX_OLD);
	pki_note_path(cfg->pki_dir, PKI_CA_CERT, cfg->ca, "[tls] ca");
	pki_note_path(cfg->pki_dir, PKI_CRL, cfg->crl, "[tls] crl");
	return (TAKCTL_EX_OK);
}

static int
pki_cmd_server(struct config *cfg, int argc, char **argv)
{
	struct pki_req	 req;
	struct pki_result res;
	char		 err[PATH_MAX + 512];
	char		**pos;
	int		 npos, rc;

	if ((rc = pki_getopt(argc, argv, pki_opts_server, &req, &pos,
	    &npos, NULL)) != 0 || npos != 0)
		return (rc == 1 ? TAKCTL_EX_OK : pki_usage(argv[0]));
	if (req.cn == NULL && cfg->server_host[0] != '\0')
		req.cn = cfg->server_host;
	if (pki_issue_server(cfg->pki_dir, &req, &res, err,
	    sizeof(err)) == -1) {
		takctl_warnx("%s", err);
		return (TAKCTL_EX_FAIL);
	}
	pki_print_result("server", &res);
	printf("files: %s/{%s,%s}\n", cfg->pki_dir, PKI_SERVER_CERT,
	    PKI_SERVER_KEY);
	pki_note_path(cfg->pki_dir, PKI_SERVER_CERT, cfg->cert, "[tls] cert");
	pki_note_path(cfg->pki_dir, PKI_SERVER_KEY, cfg->key, "[tls] key");
	return (TAKCTL_EX_OK);
}

static int
pki_cmd_client(struct config *cfg, int argc, char **argv)
{
	struct pki_req	 req;
	struct pki_result res;
	char		 err[PATH_MAX + 512];
	char		**pos, *argpw = NULL;
	int		 npos, rc;

	if ((rc = pki_getopt(argc, argv, pki_opts_client, &req, &pos,
	    &npos, &argpw)) != 0)
		return (rc == 1 ? TAKCTL_EX_OK : pki_usage(argv[0]));
	if (npos != 1) {
		takctl_warnx("pki client needs exactly one NAME");
		return (pki_usage(argv[0]));
	}
	if (req.password == NULL && cfg->client_password[0] != '\0')
		req.password = cfg->client_password;
	/* The data package dials what clients should: see docs/pki.md. */
	if (cfg->server_host[0] != '\0')
		req.pkg_host = cfg->server_host;
	if (cfg->n_tls_listen > 0 && strcmp(cfg->tls_listen[0].port, "0") != 0)
		req.pkg_port = cfg->tls_listen[0].port;
	rc = pki_issue_client(cfg->pki_dir, pos[0], &req, &res, err,
	    sizeof(err));
	/* Less time for the password to sit in /proc/PID/cmdline. */
	if (argpw != NULL)
		OPENSSL_cleanse(argpw, strlen(argpw));
	if (rc == -1) {
		takctl_warnx("%s", err);
		return (TAKCTL_EX_FAIL);
	}
	pki_print_result("client", &res);
	printf("files: %s/%s/%s.{pem,key,p12,zip}\n", cfg->pki_dir,
	    PKI_CLIENT_DIR, pos[0]);
	printf("data package: %s/%s/%s.zip connects to %s:%s:ssl\n",
	    cfg->pki_dir, PKI_CLIENT_DIR, pos[0], res.pkg_host, res.pkg_port);
	if (res.pkg_host_guessed)
		takctl_warnx("warning: no [pki] server_host and no %s/%s: the "
		    "data package uses this machine's name %s; set [pki] "
		    "server_host and reissue with --force if devices cannot "
		    "resolve it", cfg->pki_dir, PKI_SERVER_CERT, res.pkg_host);
	if (res.password_generated) {
		printf("password: %s\n(also in %s/%s/%s.p12.password; it is "
		    "not shown again)\n", res.password, cfg->pki_dir,
		    PKI_CLIENT_DIR, pos[0]);
		OPENSSL_cleanse(res.password, sizeof(res.password));
	}
	return (TAKCTL_EX_OK);
}

/* Columns line up by characters, and names may be UTF-8. */
static int
pki_width(const char *s)
{
	int	 n = 0;

	for (; *s != '\0'; s++)
		if ((*s & 0xc0) != 0x80)
			n++;
	return (n);
}

static void
pki_column(const char *s, int width)
{
	printf("%s%*s  ", s, width - pki_width(s), "");
}

static int
pki_cmd_list(struct config *cfg, int argc, char **argv)
{
	struct pki_index	 idx;
	const struct pki_entry	*e;
	struct pki_req		 req;
	char			 err[PATH_MAX + 512], t[32];
	char			**pos;
	int			 npos, rc, w[4];
	size_t			 i;
	time_t			 now = time(NULL);

	if ((rc = pki_getopt(argc, argv, pki_opts_none, &req, &pos,
	    &npos, NULL)) != 0 || npos != 0)
		return (rc == 1 ? TAKCTL_EX_OK : pki_usage(argv[0]));
	if ((rc = pki_index_load(cfg->pki_dir, &idx, err,
	    sizeof(err))) == -1) {
		takctl_warnx("%s", err);
		return (TAKCTL_EX_FAIL);
	}
	if (rc == 1) {
		takctl_warnx("%s/%s: no certificates issued yet (run `takctl "
		    "pki init-ca`)", cfg->pki_dir, PKI_INDEX);
		return (TAKCTL_EX_OK);
	}
	w[0] = pki_width("SERIAL");
	w[1] = pki_width("external");
	w[2] = pki_width("NAME");
	w[3] = pki_width("SUBJECT");
	for (i = 0; i < idx.n; i++) {
		e = &idx.v[i];
		if (pki_width(e->serial) > w[0])
			w[0] = pki_width(e->serial);
		if (pki_width(e->name) > w[2])
			w[2] = pki_width(e->name);
		if (pki_width(e->subject) > w[3])
			w[3] = pki_width(e->subject);
	}
	pki_column("SERIAL", w[0]);
	pki_column("KIND", w[1]);
	pki_column("NAME", w[2]);
	pki_column("SUBJECT", w[3]);
	printf("%-20s  STATUS\n", "NOT-AFTER");
	for (i = 0; i < idx.n; i++) {
		e = &idx.v[i];
		if (e->not_after == 0)
			snprintf(t, sizeof(t), "-");
		else
			pki_time_format(e->not_after, t, sizeof(t));
		pki_column(e->serial, w[0]);
		pki_column(pki_kind_name(e->kind), w[1]);
		pki_column(e->name, w[2]);
		pki_column(e->subject, w[3]);
		printf("%-20s  %s", t, pki_entry_status(e, now));
		if (e->status == PKI_STATUS_REVOKED) {
			if (e->revoked_at != 0)
				pki_time_format(e->revoked_at, t, sizeof(t));
			else
				snprintf(t, sizeof(t), "-");
			printf(" %s %s", t, pki_reason_name(e->reason) != NULL ?
			    pki_reason_name(e->reason) : "unspecified");
		}
		/* Certificates a device enrolled for (docs/pki.md). */
		if (e->enrolled)
			printf(" enrolled uid=%s", e->client_uid[0] != '\0' ?
			    e->client_uid : "-");
		putchar('\n');
	}
	pki_index_free(&idx);
	return (TAKCTL_EX_OK);
}

static const struct pki_sub pki_subs[] = {
	{ "init-ca",	pki_cmd_init_ca,	"[--cn NAME] [--days N] "
	    "[--crl-days N] [--rsa 2048|3072|4096] [--force]" },
	{ "server",	pki_cmd_server,		"[--cn HOST] "
	    "[--san DNS:NAME|IP:ADDR]... [--days N] [--rsa BITS|--ec] "
	    "[--force]" },
	{ "client",	pki_cmd_client,		"NAME [--days N] "
	    "[--password P] [--rsa BITS|--ec] [--force]" },
	{ "enroll-package", pki_cmd_enroll_package, "USER [--no-password] "
	    "[--force] [--qr FILE] [--qr-itak FILE] [--qr-terminal]" },
	{ "list",	pki_cmd_list,		"" },
	{ "expiring",	pki_cmd_expiring,	"[--days N] [--json]" },
	{ "renew",	renew_cmd_client,	"NAME [--grace 7d] [--days N] "
	    "[--password P]" },
	{ "renew-server", renew_cmd_server,	"[--days N]" },
};

static const struct pki_sub *
pki_sub_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(pki_subs) / sizeof(pki_subs[0]); i++)
		if (strcmp(name, pki_subs[i].name) == 0)
			return (&pki_subs[i]);
	return (NULL);
}

int
cmd_pki(struct config *cfg, int argc, char **argv)
{
	const struct pki_sub	*s;

	if (argc < 2) {
		takctl_warnx("pki needs a subcommand");
		return (takctl_usage());
	}
	if ((s = pki_sub_find(argv[1])) == NULL) {
		takctl_warnx("unknown pki subcommand \"%s\"", argv[1]);
		return (takctl_usage());
	}
	return (s->fn(cfg, argc - 1, argv + 1));
}
