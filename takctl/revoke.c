/*
 * takctl revoke | crl renew | crl show | crl import-fts: option parsing and
 * reporting around pki/revoke.c, then the reload of the running takd,
 * whose answer decides the exit status: the revocation only counts once takd
 * enforces it (or takd is not running, and loads the CRL when it starts).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "pki/pki.h"
#include "shared/tlsctx.h"
#include "shared/json.h"
#include "takctl/admin_client.h"
#include "takctl/takctl.h"

#define REVOKE_DAY		86400

enum {
	OPT_SERIAL = 256,
	OPT_CERT,
	OPT_REASON,
	OPT_DAYS,
	OPT_NO_RELOAD,
	OPT_HELP
};

static const struct option revoke_opts[] = {
	{ "serial",	required_argument,	NULL, OPT_SERIAL },
	{ "cert",	required_argument,	NULL, OPT_CERT },
	{ "reason",	required_argument,	NULL, OPT_REASON },
	{ "days",	required_argument,	NULL, OPT_DAYS },
	{ "no-reload",	no_argument,		NULL, OPT_NO_RELOAD },
	{ "help",	no_argument,		NULL, OPT_HELP },
	{ NULL,		0,			NULL, 0 }
};

static const char revoke_usage_text[] =
    "usage: takctl revoke NAME|--serial HEX|--cert FILE [--reason R] "
    "[--days N] [--no-reload]\n"
    "reasons: unspecified, keyCompromise, cACompromise, affiliationChanged,\n"
    "         superseded, cessationOfOperation, privilegeWithdrawn\n";

static const char crl_usage_text[] =
    "usage: takctl crl renew [--days N] [--no-reload]\n"
    "       takctl crl show [FILE]\n"
    "       takctl crl import-fts FILE [--days N] [--no-reload]\n";

/* What the options of revoke and the crl subcommands leave. */
struct revoke_args {
	const char	*serial;
	const char	*cert;
	int		 reason;
	unsigned	 days;
	bool		 no_reload;
	char		**pos;
	int		 npos;
};

static int
revoke_usage(const char *text)
{
	fputs(text, stderr);
	fputs("(takctl -h lists every command)\n", stderr);
	return (TAKCTL_EX_USAGE);
}

/*
 * Parse argv (argv[0] is the command) with the options allowed in allow
 * ("sc" serial/cert/reason, "d" days, "n" no-reload).  0 ok, 1 after
 * --help, -1 after a reported usage error.
 */
static int
revoke_getopt(int argc, char **argv, const char *allow, const char *usage,
    struct revoke_args *a)
{
	unsigned long	 v;
	char		*end;
	int		 ch, idx;

	memset(a, 0, sizeof(*a));
	a->reason = CRL_REASON_NONE;
	optind = 0;	/* glibc: full re-initialisation */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", revoke_opts, &idx)) != -1) {
		/* One option table: refuse what this command does not take. */
		if (((ch == OPT_SERIAL || ch == OPT_CERT || ch == OPT_REASON) &&
		    strchr(allow, 's') == NULL) ||
		    (ch == OPT_DAYS && strchr(allow, 'd') == NULL) ||
		    (ch == OPT_NO_RELOAD && strchr(allow, 'n') == NULL)) {
			takctl_warnx("%s: unknown option \"--%s\"", argv[0],
			    revoke_opts[idx].name);
			fputs(usage, stderr);
			return (-1);
		}
		switch (ch) {
		case OPT_SERIAL:
			a->serial = optarg;
			break;
		case OPT_CERT:
			a->cert = optarg;
			break;
		case OPT_REASON:
			a->reason = pki_reason_parse_loose(optarg);
			if (a->reason < 0 || !pki_reason_revocable(a->reason)) {
				takctl_warnx("--reason: \"%s\" is not one of "
				    "the reasons below", optarg);
				fputs(usage, stderr);
				return (-1);
			}
			break;
		case OPT_DAYS:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end != '\0' ||
			    errno != 0 || v < 1 || v > PKI_CRL_DAYS_MAX) {
				takctl_warnx("--days: \"%s\" is not a number "
				    "from 1 to %d", optarg, PKI_CRL_DAYS_MAX);
				return (-1);
			}
			a->days = (unsigned)v;
			break;
		case OPT_NO_RELOAD:
			a->no_reload = true;
			break;
		case OPT_HELP:
			fputs(usage, stdout);
			return (1);
		case ':':
			takctl_warnx("%s: %s needs a value", argv[0],
			    argv[optind - 1]);
			fputs(usage, stderr);
			return (-1);
		default:
			takctl_warnx("%s: unknown option \"%s\"", argv[0],
			    argv[optind - 1]);
			fputs(usage, stderr);
			return (-1);
		}
	}
	a->pos = argv + optind;
	a->npos = argc - optind;
	return (0);
}

static void
revoke_warnings(const char *warn)
{
	const char	*p, *nl;

	for (p = warn; *p != '\0'; p = *nl == '\0' ? nl : nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		takctl_warnx("warning: %.*s", (int)(nl - p), p);
	}
}

/* A JSON value of reply as text: strings without quotes, "-" if absent. */
static void
revoke_json_text(const char *reply, size_t len, const char *key, char *buf,
    size_t buflen)
{
	const char	*v;
	size_t		 vlen;

	if (json_get(reply, len, key, &v, &vlen) != 1) {
		snprintf(buf, buflen, "-");
		return;
	}
	if (vlen >= 2 && v[0] == '"') {
		v++;
		vlen -= 2;
	}
	snprintf(buf, buflen, "%.*s", (int)vlen, v);
}

/*
 * Make takd load the CRL just written.  TAKCTL_EX_OK when it did, or when it
 * is not running (it loads the file when it starts); TAKCTL_EX_FAIL when it
 * runs and did not take it.
 */
int
revoke_reload(struct config *cfg, bool no_reload, size_t entries)
{
	char		 err[PATH_MAX + 256], gen[32], ent[32], closed[32];
	char		 why[512], ok[32];
	char		*reply;
	const char	*v;
	size_t		 len, vlen;
	int		 rc;

	if (no_reload) {
		printf("takd: not reloaded (--no-reload); `takctl reload` or "
		    "SIGHUP makes it load the new CRL\n");
		return (TAKCTL_EX_OK);
	}
	rc = admin_request(cfg, "reload", ADMIN_RELOAD_TIMEOUT_MS, &reply,
	    &len, err, sizeof(err));
	if (rc == ADMIN_NOT_RUNNING) {
		printf("takd: not running (nothing listens on %s/%s), so not "
		    "reloaded; it loads the new CRL when it starts\n",
		    cfg->run_dir, TAKD_ADMIN_SOCKET);
		return (TAKCTL_EX_OK);
	}
	if (rc < 0) {
		takctl_warnx("the CRL is written, but takd did not confirm the "
		    "reload: %s", err);
		return (TAKCTL_EX_FAIL);
	}
	if (json_get(reply, len, "error", &v, &vlen) == -1) {
		takctl_warnx("takd sent a reply that is not a JSON object: "
		    "%.*s", (int)(len > 200 ? 200 : len), reply);
		free(reply);
		return (TAKCTL_EX_FAIL);
	}
	revoke_json_text(reply, len, "error", why, sizeof(why));
	/* The CRL's part alone: a refused users file is the next warning's. */
	revoke_json_text(reply, len, "crl_ok", ok, sizeof(ok));
	if (strcmp(ok, "true") != 0) {
		takctl_warnx("the CRL is written, but takd did not take it: %s",
		    strcmp(why, "-") != 0 ? why : "not confirmed (a worker did "
		    "not answer, or [tls] crl_check = off)");
		free(reply);
		return (TAKCTL_EX_FAIL);
	}
	revoke_json_text(reply, len, "generation", gen, sizeof(gen));
	revoke_json_text(reply, len, "entries", ent, sizeof(ent));
	revoke_json_text(reply, len, "sessions_closed", closed,
	    sizeof(closed));
	printf("takd: reloaded, CRL generation %s active (%s entries, %s "
	    "sessions closed)\n", gen, ent, closed);
	if (strcmp(why, "-") != 0)
		takctl_warnx("warning: %s", why);
	if (strtoul(ent, NULL, 10) != entries)
		takctl_warnx("warning: takd reports %s entries but the CRL "
		    "written has %zu: does takd use another [tls] crl than %s?",
		    ent, entries, cfg->crl);
	free(reply);
	return (TAKCTL_EX_OK);
}

/*
 * After the CRL file is written: say what it holds and what to know, then
 * have takd load it.  Frees out; the exit status.
 */
static int
revoke_finish(struct config *cfg, struct pki_crl_out *out, bool no_reload)
{
	char	 t[32];
	int	 rc;

	pki_time_format(out->next_update, t, sizeof(t));
	printf("CRL: %s, crlNumber %ld, %zu entr%s, next update %s\n",
	    cfg->crl, out->number, out->entries, out->entries == 1 ? "y" :
	    "ies", t);
	revoke_warnings(out->warn);
	if (cfg->crl_check == CRL_CHECK_OFF)
		takctl_warnx("warning: [tls] crl_check = off: takd does not "
		    "check revocation at all");
	fflush(stdout);
	rc = revoke_reload(cfg, no_reload, out->entries);
	pki_crl_out_free(out);
	return (rc);
}

int
cmd_revoke(struct config *cfg, int argc, char **argv)
{
	struct pki_revoke_req	 req;
	struct pki_crl_out	 out;
	struct revoke_args	 a;
	const struct pki_entry	*e;
	char			 err[PATH_MAX + 512];
	size_t			 i;
	int			 rc, n;

	if ((rc = revoke_getopt(argc, argv, "sdn", revoke_usage_text,
	    &a)) != 0)
		return (rc == 1 ? TAKCTL_EX_OK : TAKCTL_EX_USAGE);
	n = (a.npos > 0) + (a.serial != NULL) + (a.cert != NULL);
	if (n != 1 || a.npos > 1) {
		takctl_warnx("revoke needs exactly one of NAME, --serial HEX "
		    "and --cert FILE");
		return (revoke_usage(revoke_usage_text));
	}
	memset(&req, 0, sizeof(req));
	req.by = a.npos > 0 ? PKI_REVOKE_NAME : a.serial != NULL ?
	    PKI_REVOKE_SERIAL : PKI_REVOKE_CERT;
	req.arg = a.npos > 0 ? a.pos[0] : a.serial != NULL ? a.serial : a.cert;
	req.reason = a.reason;
	req.days = a.days;
	if (pki_revoke(cfg->pki_dir, cfg->crl, &req, &out, err,
	    sizeof(err)) == -1) {
		takctl_warnx("%s", err);
		return (TAKCTL_EX_FAIL);
	}
	for (i = 0; i < out.n_revoked; i++) {
		e = &out.revoked[i];
		printf("revoked: %s serial %s (%s%s)\n",
		    e->kind == PKI_KIND_EXTERNAL ? "external" : e->name,
		    e->serial, pki_reason_name(e->reason) != NULL ?
		    pki_reason_name(e->reason) : "unspecified",
		    e->kind == PKI_KIND_EXTERNAL ? ", not in the index until "
		    "now" : "");
	}
	if (out.n_revoked > 1)
		printf("%zu certificates of %s revoked\n", out.n_revoked,
		    req.arg);
	return (revoke_finish(cfg, &out, a.no_reload));
}

static int
crl_renew(struct config *cfg, int argc, char **argv)
{
	struct pki_crl_out	 out;
	struct revoke_args	 a;
	char			 err[PATH_MAX + 512];
	int			 rc;

	if ((rc = revoke_getopt(argc, argv, "dn", crl_usage_text, &a)) != 0)
		return (rc == 1 ? TAKCTL_EX_OK : TAKCTL_EX_USAGE);
	if (a.npos != 0)
		return (revoke_usage(crl_usage_text));
	/* Renewed certificates whose grace ended (takctl/renew.c). */
	if (renew_apply_due(cfg, &(size_t){ 0 }, err, sizeof(err)) == -1)
		takctl_warnx("warning: %s", err);
	if (pki_crl_renew(cfg->pki_dir, cfg->crl, a.days, &out, err,
	    sizeof(err)) == -1) {
		takctl_warnx("%s", err);
		return (TAKCTL_EX_FAIL);
	}
	printf("renewed: ");
	return (revoke_finish(cfg, &out, a.no_reload));
}

static int
crl_import(struct config *cfg, int argc, char **argv)
{
	struct pki_crl_out	 out;
	struct revoke_args	 a;
	char			 err[PATH_MAX + 512];
	char			*buf;
	size_t			 len;
	int			 rc;

	if ((rc = revoke_getopt(argc, argv, "dn", crl_usage_text, &a)) != 0)
		return (rc == 1 ? TAKCTL_EX_OK : TAKCTL_EX_USAGE);
	if (a.npos != 1) {
		takctl_warnx("crl import-fts needs exactly one FILE");
		return (revoke_usage(crl_usage_text));
	}
	if ((buf = fileio_read(AT_FDCWD, a.pos[0], a.pos[0], PKI_FILE_MAX,
	    &len, err, sizeof(err))) == NULL) {
		takctl_warnx("%s", err);
		return (TAKCTL_EX_FAIL);
	}
	rc = pki_crl_import(cfg->pki_dir, cfg->crl, a.pos[0], buf, len,
	    a.days, &out, err, sizeof(err));
	free(buf);
	if (rc == -1) {
		takctl_warnx("%s", err);
		return (TAKCTL_EX_FAIL);
	}
	printf("imported from %s: %zu revoked now, %zu new external "
	    "serials, %zu already revoked\n", a.pos[0], out.n_new,
	    out.n_external, out.n_already);
	return (revoke_finish(cfg, &out, a.no_reload));
}

/* Is crl signed by one of the certificates of the CA file? */
static void
crl_show_signer(const struct config *cfg, X509_CRL *crl)
{
	STACK_OF(X509)	*ca;
	X509		*x;
	char		 err[PATH_MAX + 256];
	int		 i, ok = 0;

	if ((ca = tlsctx_load_ca(cfg->ca, err, sizeof(err))) == NULL) {
		printf("signature: not checked (%s)\n", err);
		return;
	}
	for (i = 0; i < sk_X509_num(ca) && !ok; i++) {
		x = sk_X509_value(ca, i);
		ok = X509_NAME_cmp(X509_get_subject_name(x),
		    X509_CRL_get_issuer(crl)) == 0 &&
		    X509_CRL_verify(crl, X509_get0_pubkey(x)) == 1;
	}
	ERR_clear_error();
	printf("signature: %s %s\n", ok ? "good, by the CA in" :
	    "NOT made by the CA in", cfg->ca);
	sk_X509_pop_free(ca, X509_free);
}

static int
crl_show(struct config *cfg, int argc, char **argv)
{
	STACK_OF(X509_REVOKED)	*list;
	X509_REVOKED		*rev;
	X509_CRL		*crl = NULL;
	struct revoke_args	 a;
	const char		*path, *name;
	char			 err[PATH_MAX + 256], issuer[PKI_SUBJECT_MAX];
	char			 serial[PKI_SERIAL_HEX], t[32];
	char			*buf;
	size_t			 len;
	time_t			 now = time(NULL), next;
	int			 i, n, rc, reason;

	if ((rc = revoke_getopt(argc, argv, "", crl_usage_text, &a)) != 0)
		return (rc == 1 ? TAKCTL_EX_OK : TAKCTL_EX_USAGE);
	if (a.npos > 1)
		return (revoke_usage(crl_usage_text));
	path = a.npos == 1 ? a.pos[0] : cfg->crl;
	if ((buf = fileio_read(AT_FDCWD, path, path, PKI_FILE_MAX, &len,
	    err, sizeof(err))) == NULL) {
		takctl_warnx("%s", err);
		return (TAKCTL_EX_FAIL);
	}
	crl = tlsctx_crl_decode((const uint8_t *)buf, len);
	free(buf);
	if (crl == NULL) {
		ERR_clear_error();
		takctl_warnx("%s: not a PEM or DER X.509 CRL", path);
		return (TAKCTL_EX_FAIL);
	}
	pki_subject(X509_CRL_get_issuer(crl), issuer, sizeof(issuer));
	printf("file: %s\nissuer: %s\n", path, issuer);
	crl_show_signer(cfg, crl);
	pki_time_format(pki_asn1_time(X509_CRL_get0_lastUpdate(crl)), t,
	    sizeof(t));
	printf("this update: %s\n", t);
	if ((next = pki_asn1_time(X509_CRL_get0_nextUpdate(crl))) == 0)
		printf("next update: none\n");
	else {
		pki_time_format(next, t, sizeof(t));
		/* Whole days, rounded: a 30-day CRL says 30 all day long. */
		if (next < now)
			printf("next update: %s STALE (%lld days ago; `takctl "
			    "crl renew`)\n", t, (long long)((now - next +
			    REVOKE_DAY / 2) / REVOKE_DAY));
		else
			printf("next update: %s (in %lld days)\n", t,
			    (long long)((next - now + REVOKE_DAY / 2) /
			    REVOKE_DAY));
	}
	printf("crl number: %ld\n", pki_crl_number(crl));
	list = X509_CRL_get_REVOKED(crl);
	n = list == NULL ? 0 : sk_X509_REVOKED_num(list);
	printf("entries: %d\n", n);
	if (n > 0)
		printf("%-40s  %-20s  %s\n", "SERIAL", "REVOKED", "REASON");
	for (i = 0; i < n; i++) {
		rev = sk_X509_REVOKED_value(list, i);
		if (pki_serial_hex(X509_REVOKED_get0_serialNumber(rev), serial,
		    sizeof(serial)) == -1)
			snprintf(serial, sizeof(serial), "(unreadable)");
		pki_time_format(pki_asn1_time(
		    X509_REVOKED_get0_revocationDate(rev)), t, sizeof(t));
		/* RFC 5280: no reasonCode means unspecified. */
		if ((reason = pki_revoked_reason(rev)) == CRL_REASON_NONE)
			reason = CRL_REASON_UNSPECIFIED;
		name = pki_reason_name(reason);
		printf("%-40s  %-20s  %s\n", serial, t, name != NULL ? name :
		    "?");
	}
	ERR_clear_error();
	X509_CRL_free(crl);
	if (fflush(stdout) == EOF) {
		takctl_warnx("writing the output failed");
		return (TAKCTL_EX_FAIL);
	}
	return (TAKCTL_EX_OK);
}

int
cmd_crl(struct config *cfg, int argc, char **argv)
{
	if (argc < 2) {
		takctl_warnx("crl needs a subcommand");
		return (revoke_usage(crl_usage_text));
	}
	if (strcmp(argv[1], "renew") == 0)
		return (crl_renew(cfg, argc - 1, argv + 1));
	if (strcmp(argv[1], "show") == 0)
		return (crl_show(cfg, argc - 1, argv + 1));
	if (strcmp(argv[1], "import-fts") == 0)
		return (crl_import(cfg, argc - 1, argv + 1));
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(crl_usage_text, stdout);
		return (TAKCTL_EX_OK);
	}
	takctl_warnx("unknown crl subcommand \"%s\"", argv[1]);
	return (revoke_usage(crl_usage_text));
}
