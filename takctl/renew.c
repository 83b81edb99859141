/*
 * takctl pki renew NAME [--grace D] and pki renew-server: a new
 * certificate before the old one expires (docs/revocation.md, "Renewing
 * certificates before they expire").
 *
 * The old client certificate stays valid for the grace period, so that a
 * device keeps working until its user imported the new package, and is
 * then revoked.  takd never holds the CA key, so it cannot revoke it by
 * itself when the grace ends: takctl writes the pending revocation to
 * PKI_DIR/RENEW_PENDING ("SERIAL DUE NAME" lines) and every later run of
 * `takctl pki renew`, `pki renew-server` or `crl renew` (which a daily
 * timer runs anyway to keep the CRL fresh: etc/takd-crl-renew.timer)
 * revokes the due ones (reason superseded) and has takd reload.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki/pki.h"
#include "shared/fileio.h"
#include "takctl/takctl.h"

#define RENEW_PENDING		"renew-pending.txt"
#define RENEW_PENDING_TMP	"renew-pending.txt.tmp"
#define RENEW_PENDING_MAX	(1024 * 1024)
#define RENEW_GRACE_DEFAULT_MS	(7u * 24 * 3600 * 1000)
#define RENEW_LINE_MAX		(PKI_SERIAL_HEX + PKI_NAME_MAX + 64)

/* The key type of a certificate's public key, for the same again. */
static int
renew_keytype(const char *path, struct pki_req *req, X509 **out, char *err,
    size_t errlen)
{
	char		 why[512];
	char		*buf;
	size_t		 len;
	BIO		*bio = NULL;
	X509		*x = NULL;
	EVP_PKEY	*pk;
	int		 rc = -1;

	if ((buf = fileio_read(AT_FDCWD, path, path, 1024 * 1024, &len, why,
	    sizeof(why))) == NULL) {
		snprintf(err, errlen, "%s", why);
		return (-1);
	}
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL ||
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL ||
	    (pk = X509_get0_pubkey(x)) == NULL) {
		pki_sslerr(err, errlen, "%s: not a PEM certificate", path);
		goto done;
	}
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA) {
		req->keytype = PKI_KEY_RSA;
		req->rsa_bits = (unsigned)EVP_PKEY_get_bits(pk);
	} else
		req->keytype = PKI_KEY_EC;
	*out = x;
	x = NULL;
	rc = 0;
done:
	X509_free(x);
	BIO_free(bio);
	free(buf);
	return (rc);
}

/* The pending file, locked: its descriptor, or -1 with err. */
static int
renew_pending_open(const struct config *cfg, char *err, size_t errlen)
{
	char	 path[PATH_MAX + 32];
	int	 fd;

	snprintf(path, sizeof(path), "%s/%s", cfg->pki_dir, RENEW_PENDING);
	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) == -1 || flock(fd, LOCK_EX) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return (-1);
	}
	return (fd);
}

/* Replace the pending file's text with buf (temporary file, rename). */
static int
renew_pending_write(const struct config *cfg, const char *buf, size_t len,
    char *err, size_t errlen)
{
	char	 tmp[PATH_MAX + 32], path[PATH_MAX + 32];
	int	 fd;

	snprintf(path, sizeof(path), "%s/%s", cfg->pki_dir, RENEW_PENDING);
	snprintf(tmp, sizeof(tmp), "%s/%s", cfg->pki_dir, RENEW_PENDING_TMP);
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		goto fail;
	if ((len > 0 && write(fd, buf, len) != (ssize_t)len) ||
	    fsync(fd) == -1) {
		close(fd);
		goto fail;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1)
		goto fail;
	return (0);
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	(void)unlink(tmp);
	return (-1);
}

/*
 * Revoke the pending certificates whose grace has ended.  The number
 * revoked (takd must reload), or -1 with err; the others stay pending.
 * An entry that cannot be revoked for a reason of its own (revoked or
 * unknown meanwhile) is dropped with a warning.
 */
int
renew_apply_due(struct config *cfg, size_t *entries, char *err, size_t errlen)
{
	struct pki_revoke_req	 req;
	struct pki_crl_out	 out;
	struct stat		 st;
	char			*buf = NULL, *keep = NULL, *line, *next;
	char			 serial[PKI_SERIAL_HEX], name[PKI_NAME_MAX + 1];
	char			 why[PATH_MAX + 512], t[32];
	long long		 due;
	size_t			 klen = 0;
	ssize_t			 n;
	int			 fd, done = 0, rc = -1;

	if ((fd = renew_pending_open(cfg, err, errlen)) == -1)
		return (-1);
	if (fstat(fd, &st) == -1 || st.st_size > RENEW_PENDING_MAX ||
	    (buf = calloc(1, (size_t)st.st_size + 1)) == NULL ||
	    (keep = calloc(1, (size_t)st.st_size + 1)) == NULL ||
	    (n = pread(fd, buf, (size_t)st.st_size, 0)) != st.st_size) {
		snprintf(err, errlen, "%s/%s: cannot read it", cfg->pki_dir,
		    RENEW_PENDING);
		goto done;
	}
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (sscanf(line, "%40s %lld %64s", serial, &due, name) != 3) {
			takctl_warnx("warning: %s/%s: line \"%.80s\" dropped: "
			    "not SERIAL DUE NAME", cfg->pki_dir,
			    RENEW_PENDING, line);
			continue;
		}
		if (due > (long long)time(NULL)) {
			klen += (size_t)snprintf(keep + klen,
			    (size_t)st.st_size + 1 - klen, "%s\n", line);
			continue;
		}
		memset(&req, 0, sizeof(req));
		req.by = PKI_REVOKE_SERIAL;
		req.arg = serial;
		req.reason = CRL_REASON_SUPERSEDED;
		pki_time_format((time_t)due, t, sizeof(t));
		if (pki_revoke(cfg->pki_dir, cfg->crl, &req, &out, why,
		    sizeof(why)) == -1) {
			takctl_warnx("warning: the renewed certificate of %s "
			    "(serial %s, grace ended %s) was not revoked: %s",
			    name, serial, t, why);
			continue;
		}
		printf("revoked: %s serial %s (superseded: renewed, grace "
		    "ended %s)\n", name, serial, t);
		*entries = out.entries;
		pki_crl_out_free(&out);
		done++;
	}
	if (renew_pending_write(cfg, keep, klen, err, errlen) == -1)
		goto done;
	rc = done;
done:
	free(buf);
	free(keep);
	close(fd);	/* and its lock */
	return (rc);
}

/* Record serial of name as revoked at due. */
static int
renew_pending_add(struct config *cfg, const char *serial, const char *name,
    time_t due, char *err, size_t errlen)
{
	char	 line[RENEW_LINE_MAX];
	int	 fd, len, rc = -1;

	if ((fd = renew_pending_open(cfg, err, errlen)) == -1)
		return (-1);
	len = snprintf(line, sizeof(line), "%s %lld %s\n", serial,
	    (long long)due, name);
	if (lseek(fd, 0, SEEK_END) == -1 || write(fd, line, (size_t)len) !=
	    len || fsync(fd) == -1)
		snprintf(err, errlen, "%s/%s: %s", cfg->pki_dir,
		    RENEW_PENDING, strerror(errno));
	else
		rc = 0;
	close(fd);
	return (rc);
}

/* Apply the due revocations, and have takd load the CRL if any. */
static int
renew_due_and_reload(struct config *cfg)
{
	char	 err[PATH_MAX + 512];
	size_t	 entries = 0;
	int	 n;

	if ((n = renew_apply_due(cfg, &entries, err, sizeof(err))) == -1) {
		takctl_warnx("%s", err);
		return (TAKCTL_EX_FAIL);
	}
	return (n > 0 ? revoke_reload(cfg, false, entries) : TAKCTL_EX_OK);
}

static const struct option renew_opts[] = {
	{ "grace",	required_argument,	NULL, 'g' },
	{ "days",	required_argument,	NULL, 'd' },
	{ "password",	required_argument,	NULL, 'p' },
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 }
};

int
renew_cmd_client(struct config *cfg, int argc, char **argv)
{
	struct pki_index	 idx;
	struct pki_req		 req;
	struct pki_result	 res;
	X509			*old = NULL;
	char			 err[PATH_MAX + 512], path[PATH_MAX + 96], t[32];
	char			(*serials)[PKI_SERIAL_HEX] = NULL;
	unsigned		 grace_ms = RENEW_GRACE_DEFAULT_MS, days = 0;
	size_t			 i, n = 0;
	char			*argpw = NULL, *end;
	const char		*name;
	int			 ch, rc = TAKCTL_EX_FAIL;

	optind = 0;	/* GNU getopt: start over, permuting */
	while ((ch = getopt_long(argc, argv, "", renew_opts, NULL)) != -1) {
		switch (ch) {
		case 'g':
			if (config_parse_duration(optarg, &grace_ms) == -1) {
				takctl_warnx("--grace: expected a duration "
				    "with a unit (0s, 10s, 2h, 7d; at most "
				    "49d)");
				return (TAKCTL_EX_USAGE);
			}
			break;
		case 'd':
			days = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0' || days == 0 || days > PKI_DAYS_MAX) {
				takctl_warnx("--days: expected 1..%d",
				    PKI_DAYS_MAX);
				return (TAKCTL_EX_USAGE);
			}
			break;
		case 'p':
			argpw = optarg;
			break;
		case 'h':
			printf("usage: takctl pki renew NAME [--grace 7d] "
			    "[--days N] [--password P]\n");
			return (TAKCTL_EX_OK);
		default:
			return (TAKCTL_EX_USAGE);
		}
	}
	if (optind != argc - 1) {
		takctl_warnx("usage: takctl pki renew NAME [--grace 7d] "
		    "[--days N] [--password P]");
		return (TAKCTL_EX_USAGE);
	}
	name = argv[optind];
	if (renew_due_and_reload(cfg) != TAKCTL_EX_OK)
		return (TAKCTL_EX_FAIL);
	if (pki_name_check(name, err, sizeof(err)) == -1 ||
	    pki_index_load(cfg->pki_dir, &idx, err, sizeof(err)) == -1) {
		takctl_warnx("%s", err);
		return (TAKCTL_EX_FAIL);
	}
	/* The certificates of name that the new one supersedes. */
	if ((serials = calloc(idx.n + 1, sizeof(*serials))) == NULL) {
		pki_index_free(&idx);
		takctl_warnx("out of memory");
		return (TAKCTL_EX_FAIL);
	}
	for (i = 0; i < idx.n; i++)
		if (idx.v[i].kind == PKI_KIND_CLIENT &&
		    idx.v[i].status == PKI_STATUS_VALID &&
		    strcmp(idx.v[i].name, name) == 0)
			snprintf(serials[n++], PKI_SERIAL_HEX, "%s",
			    idx.v[i].serial);
	pki_index_free(&idx);
	if (n == 0) {
		takctl_warnx("%s has no valid client certificate in %s/%s: "
		    "nothing to renew (takctl pki client %s makes one)", name,
		    cfg->pki_dir, PKI_INDEX, name);
		goto done;
	}
	memset(&req, 0, sizeof(req));
	snprintf(path, sizeof(path), "%s/%s/%s.pem", cfg->pki_dir,
	    PKI_CLIENT_DIR, name);
	if (renew_keytype(path, &req, &old, err, sizeof(err)) == -1) {
		takctl_warnx("%s", err);
		goto done;
	}
	req.days = days;
	req.force = true;
	req.password = argpw != NULL ? argpw : cfg->client_password[0] ?
	    cfg->client_password : NULL;
	if (cfg->server_host[0] != '\0')
		req.pkg_host = cfg->server_host;
	if (cfg->n_tls_listen > 0 && strcmp(cfg->tls_listen[0].port, "0") != 0)
		req.pkg_port = cfg->tls_listen[0].port;
	if (pki_issue_client(cfg->pki_dir, name, &req, &res, err,
	    sizeof(err)) == -1) {
		takctl_warnx("%s", err);
		goto done;
	}
	pki_time_format(res.not_after, t, sizeof(t));
	printf("renewed: %s\nserial: %s\nnot after: %s\n", res.subject,
	    res.serial, t);
	printf("data package: %s/%s/%s.zip connects to %s:%s:ssl\n",
	    cfg->pki_dir, PKI_CLIENT_DIR, name, res.pkg_host, res.pkg_port);
	if (res.password_generated) {
		printf("password: %s\n(also in %s/%s/%s.p12.password; it is "
		    "not shown again)\n", res.password, cfg->pki_dir,
		    PKI_CLIENT_DIR, name);
		OPENSSL_cleanse(res.password, sizeof(res.password));
	}
	pki_time_format(time(NULL) + grace_ms / 1000, t, sizeof(t));
	for (i = 0; i < n; i++) {
		if (renew_pending_add(cfg, serials[i], name, time(NULL) +
		    grace_ms / 1000, err, sizeof(err)) == -1) {
			takctl_warnx("%s: the old certificate %s is NOT "
			    "scheduled for revocation: revoke it by hand "
			    "(takctl revoke --serial %s)", err, serials[i],
			    serials[i]);
			goto done;
		}
		printf("old certificate: serial %s, valid until %s, then "
		    "revoked by the next `takctl crl renew` (or pki renew)\n",
		    serials[i], t);
	}
	/* A grace of 0: revoked now. */
	rc = grace_ms == 0 ? renew_due_and_reload(cfg) : TAKCTL_EX_OK;
done:
	if (argpw != NULL)
		OPENSSL_cleanse(argpw, strlen(argpw));
	X509_free(old);
	free(serials);
	return (rc);
}

/* The SANs of x to ask for again: what pki_issue_server adds is left. */
static void
renew_server_sans(X509 *x, const char *cn, struct pki_req *req,
    char sans[][PKI_HOST_MAX + 8])
{
	GENERAL_NAMES	*gens;
	GENERAL_NAME	*g;
	const unsigned char *ip;
	char		 a[64];
	int		 i;

	if ((gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	    NULL)) == NULL)
		return;
	for (i = 0; i < sk_GENERAL_NAME_num(gens) && req->n_san < PKI_MAX_SAN;
	    i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		a[0] = '\0';
		if (g->type == GEN_DNS && ASN1_STRING_length(g->d.dNSName) <
		    (int)sizeof(a))
			snprintf(a, sizeof(a), "%.*s",
			    ASN1_STRING_length(g->d.dNSName),
			    ASN1_STRING_get0_data(g->d.dNSName));
		else if (g->type == GEN_IPADD) {
			ip = ASN1_STRING_get0_data(g->d.iPAddress);
			if (ASN1_STRING_length(g->d.iPAddress) == 4)
				snprintf(a, sizeof(a), "%u.%u.%u.%u", ip[0],
				    ip[1], ip[2], ip[3]);
			else if (ASN1_STRING_length(g->d.iPAddress) == 16 &&
			    ip[15] == 1 && memcmp(ip, "\0\0\0\0\0\0\0\0\0\0"
			    "\0\0\0\0\0", 15) == 0)
				snprintf(a, sizeof(a), "::1");
			else
				continue;	/* takctl never wrote others */
		}
		if (a[0] == '\0' || strcmp(a, cn) == 0 ||
		    strcmp(a, "localhost") == 0 || strcmp(a, "127.0.0.1") ==
		    0 || strcmp(a, "::1") == 0)
			continue;
		snprintf(sans[req->n_san], PKI_HOST_MAX + 8, "%s:%s",
		    g->type == GEN_DNS ? "DNS" : "IP", a);
		req->san[req->n_san] = sans[req->n_san];
		req->n_san++;
	}
	GENERAL_NAMES_free(gens);
}

int
renew_cmd_server(struct config *cfg, int argc, char **argv)
{
	static char		 sans[PKI_MAX_SAN][PKI_HOST_MAX + 8];
	struct pki_req		 req;
	struct pki_result	 res;
	X509			*old = NULL;
	char			 err[PATH_MAX + 512], path[PATH_MAX + 96], t[32];
	char			 cn[PKI_HOST_MAX];
	char			*end;
	unsigned		 days = 0;
	int			 ch, rc = TAKCTL_EX_FAIL;

	optind = 0;	/* GNU getopt: start over, permuting */
	while ((ch = getopt_long(argc, argv, "", renew_opts, NULL)) != -1) {
		if (ch == 'd') {
			days = (unsigned)strtoul(optarg, &end, 10);
			if (*end == '\0' && days > 0 && days <= PKI_DAYS_MAX)
				continue;
		} else if (ch == 'h') {
			printf("usage: takctl pki renew-server [--days N]\n");
			return (TAKCTL_EX_OK);
		}
		takctl_warnx("usage: takctl pki renew-server [--days N]");
		return (TAKCTL_EX_USAGE);
	}
	if (optind != argc) {
		takctl_warnx("usage: takctl pki renew-server [--days N]");
		return (TAKCTL_EX_USAGE);
	}
	if (renew_due_and_reload(cfg) != TAKCTL_EX_OK)
		return (TAKCTL_EX_FAIL);
	memset(&req, 0, sizeof(req));
	snprintf(path, sizeof(path), "%s/%s", cfg->pki_dir, PKI_SERVER_CERT);
	if (renew_keytype(path, &req, &old, err, sizeof(err)) == -1) {
		takctl_warnx("%s", err);
		return (TAKCTL_EX_FAIL);
	}
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(old),
	    NID_commonName, cn, sizeof(cn)) <= 0) {
		takctl_warnx("%s has no CN to renew", path);
		goto done;
	}
	renew_server_sans(old, cn, &req, sans);
	req.cn = cn;
	req.days = days;
	req.force = true;
	if (pki_issue_server(cfg->pki_dir, &req, &res, err,
	    sizeof(err)) == -1) {
		takctl_warnx("%s", err);
		goto done;
	}
	pki_time_format(res.not_after, t, sizeof(t));
	printf("renewed: server %s\nserial: %s\nnot after: %s\n", res.subject,
	    res.serial, t);
	printf("takd uses it from its next start: restart takd (a reload, "
	    "SIGHUP or takctl reload, keeps the certificate it started "
	    "with)\n");
	rc = TAKCTL_EX_OK;
done:
	X509_free(old);
	return (rc);
}
