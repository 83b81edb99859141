/*
 * takctl pki enroll-package USER [--no-password] [--force] [--qr FILE]
 * [--qr-itak FILE] [--qr-terminal]: the
 * enrollment package of a user of [auth] users (pki/enroll.c writes it)
 * and the strings of the QR codes a phone scans instead (docs/pki.md,
 * "Enrollment package").  The password, when given, is read like `takctl
 * user passwd` reads it (never argv) and checked against the users file,
 * so that a QR code that cannot work is never printed.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "pki/pki.h"
#include "shared/password.h"
#include "shared/qr.h"
#include "takctl/qr.h"
#include "takctl/takctl.h"
#include "takctl/user.h"

enum {
	ENR_NO_PASSWORD = 256,
	ENR_FORCE,
	ENR_QR,
	ENR_QR_ITAK,
	ENR_QR_TERMINAL,
	ENR_HELP
};

static const struct option enroll_opts[] = {
	{ "no-password",	no_argument,	NULL, ENR_NO_PASSWORD },
	{ "force",		no_argument,	NULL, ENR_FORCE },
	{ "qr",			required_argument, NULL, ENR_QR },
	{ "qr-itak",		required_argument, NULL, ENR_QR_ITAK },
	{ "qr-terminal",	no_argument,	NULL, ENR_QR_TERMINAL },
	{ "help",		no_argument,	NULL, ENR_HELP },
	{ NULL,			0,		NULL, 0 }
};

#define ENROLL_USAGE	"usage: takctl pki enroll-package USER " \
			"[--no-password] [--force] [--qr FILE.svg|FILE.pbm] " \
			"[--qr-itak FILE] [--qr-terminal]\n"
/*
 * The user's hash into hash; -1 after a message when there is no such
 * user or it has no password (Basic authentication needs one).
 */
static int
enroll_user(struct config *cfg, const char *name, char *hash, size_t len)
{
	const struct users_user	*u;
	struct users_txn		 t;
	int			 rc = -1;

	if (user_begin(cfg, &t, false) == -1)
		return (-1);
	if ((u = users_find(t.us, name)) == NULL)
		takctl_warnx("no user \"%s\" in %s: add it with `takctl user "
		    "add %s` first", name, cfg->users, name);
	else if (u->hash[0] != '$')
		takctl_warnx("user \"%s\" has no password, so it cannot "
		    "enroll: set one with `takctl user passwd %s`", name,
		    name);
	else {
		snprintf(hash, len, "%s", u->hash);
		rc = 0;
	}
	user_end(&t);
	return (rc);
}

/* The password of name, checked; 0, or -1 after a message. */
static int
enroll_password(const char *name, const char *hash, char *pw, size_t len)
{
	ssize_t	 n;

	if ((n = user_password_read(name, pw, len)) == -1)
		return (-1);
	if (n == 0) {
		takctl_warnx("empty password; nothing written (--no-password "
		    "leaves it out of the QR code)");
		return (-1);
	}
	if (!password_verify(pw, hash)) {
		takctl_warnx("that is not the password of \"%s\" in the users "
		    "file: the phone would be refused; nothing written", name);
		return (-1);
	}
	return (0);
}

int
pki_cmd_enroll_package(struct config *cfg, int argc, char **argv)
{
	struct pki_req		 req;
	struct pki_result	 res;
	char			 hash[USERS_HASH_MAX], pw[PASSWORD_MAX + 1];
	char			 err[PATH_MAX + 512], url[QR_URL_MAX];
	char			 itak[QR_ITAK_MAX];
	const char		*name, *qr = NULL, *qr_itak = NULL;
	bool			 no_password = false, qr_term = false;
	int			 ch, idx, rc = TAKCTL_EX_FAIL;

	memset(&req, 0, sizeof(req));
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", enroll_opts, &idx)) != -1) {
		switch (ch) {
		case ENR_NO_PASSWORD:
			no_password = true;
			break;
		case ENR_FORCE:
			req.force = true;
			break;
		case ENR_QR:
			qr = optarg;
			break;
		case ENR_QR_ITAK:
			qr_itak = optarg;
			break;
		case ENR_QR_TERMINAL:
			qr_term = true;
			break;
		case ENR_HELP:
			fputs(ENROLL_USAGE, stdout);
			return (TAKCTL_EX_OK);
		default:
			takctl_warnx("pki enroll-package: unknown option "
			    "\"%s\"", argv[optind - 1]);
			fputs(ENROLL_USAGE, stderr);
			return (TAKCTL_EX_USAGE);
		}
	}
	if (argc - optind != 1) {
		takctl_warnx("pki enroll-package needs exactly one USER");
		fputs(ENROLL_USAGE, stderr);
		return (TAKCTL_EX_USAGE);
	}
	name = argv[optind];
	pw[0] = url[0] = '\0';
	if (enroll_user(cfg, name, hash, sizeof(hash)) == -1 ||
	    (!no_password && enroll_password(name, hash, pw,
	    sizeof(pw)) == -1))
		goto done;
	if (cfg->server_host[0] != '\0')
		req.pkg_host = cfg->server_host;
	if (cfg->n_tls_listen > 0 && strcmp(cfg->tls_listen[0].port, "0") != 0)
		req.pkg_port = cfg->tls_listen[0].port;
	if (pki_issue_enroll(cfg->pki_dir, name, &req, &res, err,
	    sizeof(err)) == -1) {
		takctl_warnx("%s", err);
		goto done;
	}
	printf("enrollment package: %s/%s/%s-enroll.zip connects to "
	    "%s:%s:ssl, enrolls on %s:%s\n", cfg->pki_dir, PKI_CLIENT_DIR,
	    name, res.pkg_host, res.pkg_port, res.pkg_host, PKI_ENROLL_PORT);
	if (res.pkg_host_guessed)
		takctl_warnx("warning: no [pki] server_host and no %s/%s: the "
		    "package uses this machine's name %s", cfg->pki_dir,
		    PKI_SERVER_CERT, res.pkg_host);
	qr_enroll_url(res.pkg_host, name, no_password ? NULL : pw, url,
	    sizeof(url));
	qr_itak_string(res.pkg_host, res.pkg_port, itak, sizeof(itak));
	printf("ATAK QR: %s\n", url);
	if (qr_term && qr_print(url, stdout) == -1)
		goto done;
	printf("iTAK QR: %s\n", itak);
	if (qr_term && qr_print(itak, stdout) == -1)
		goto done;
	if ((qr != NULL && qr_write_file(url, qr, req.force) == -1) ||
	    (qr_itak != NULL && qr_write_file(itak, qr_itak,
	    req.force) == -1))
		goto done;
	rc = TAKCTL_EX_OK;
 done:
	OPENSSL_cleanse(url, sizeof(url));
	OPENSSL_cleanse(pw, sizeof(pw));
	OPENSSL_cleanse(hash, sizeof(hash));
	return (rc);
}
