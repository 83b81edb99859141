/*
 * The days left of what takd holds: server certificate, CA, CRL.  See
 * expiry.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "shared/clock.h"
#include "shared/expiry_note.h"
#include "shared/fileio.h"
#include "shared/log.h"
#include "shared/pkiutil.h"
#include "supervisor/expiry.h"

void
expiry_get(const struct sup *sup, struct expiry_info *ei)
{
	X509	*x;
	time_t	 t;
	int	 i;

	memset(ei, 0, sizeof(*ei));
	if (sup->ssl_ctx != NULL &&
	    (x = SSL_CTX_get0_certificate(sup->ssl_ctx)) != NULL)
		ei->server = pki_asn1_time(X509_get0_notAfter(x));
	for (i = 0; i < sk_X509_num(sup->ca); i++) {
		t = pki_asn1_time(X509_get0_notAfter(sk_X509_value(sup->ca, i)));
		if (t != 0 && (ei->ca == 0 || t < ei->ca))
			ei->ca = t;
	}
	if (sup->crl.crl != NULL)
		ei->crl = sup->crl.info.next_update;
}

/*
 * The expiry note's dates (shared/expiry_note.h), read again only when the
 * file changed: takctl replaces it, so its inode or mtime moves.
 */
static struct {
	bool		 have;
	dev_t		 dev;
	ino_t		 ino;
	struct timespec	 mtime;
	off_t		 size;
	time_t		*v;
	size_t		 n;
} expiry_note;

static int
expiry_note_parse(const char *buf, time_t **out, size_t *n)
{
	const char	*p = buf, *nl;
	long long	 t;
	char		*end;
	time_t		*v;
	size_t		 cap = 0, i = 0;

	if (strncmp(p, EXPIRY_NOTE_HEADER "\n", sizeof(EXPIRY_NOTE_HEADER)) !=
	    0)
		return (-1);
	p += sizeof(EXPIRY_NOTE_HEADER);
	for (nl = p; (nl = strchr(nl, '\n')) != NULL; nl++)
		cap++;
	if ((v = calloc(cap + 1, sizeof(*v))) == NULL)
		return (-1);
	while (*p != '\0') {
		errno = 0;
		t = strtoll(p, &end, 10);
		if (errno != 0 || end == p || *end != '\n' || t <= 0 ||
		    i == cap) {
			free(v);
			return (-1);
		}
		v[i++] = (time_t)t;
		p = end + 1;
	}
	*out = v;
	*n = i;
	return (0);
}

/* Load the note if it changed: 0, or -1 when there is none (logged once). */
static int
expiry_note_load(const struct sup *sup)
{
	static bool	 warned;
	struct stat	 st;
	char		 path[PATH_MAX], err[PATH_MAX + 128];
	char		*buf;
	size_t		 len, n;
	time_t		*v;

	if (snprintf(path, sizeof(path), "%s/%s/%s", sup->cfg->state_dir,
	    EXPIRY_NOTE_DIR, EXPIRY_NOTE_FILE) >= (int)sizeof(path))
		return (-1);
	if (fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		expiry_note.have = false;
		return (-1);
	}
	if (expiry_note.have && st.st_dev == expiry_note.dev &&
	    st.st_ino == expiry_note.ino && st.st_size == expiry_note.size &&
	    st.st_mtim.tv_sec == expiry_note.mtime.tv_sec &&
	    st.st_mtim.tv_nsec == expiry_note.mtime.tv_nsec)
		return (0);
	expiry_note.have = false;
	if ((buf = fileio_read_st(AT_FDCWD, path, path, EXPIRY_NOTE_MAX, &len,
	    &st, err, sizeof(err))) == NULL || expiry_note_parse(buf, &v,
	    &n) == -1) {
		if (!warned)
			log_warnx("%s: %s: the count of expiring client "
			    "certificates is unknown until takctl writes it "
			    "again", path, buf == NULL ? err : "not a note of "
			    "takctl's");
		warned = true;
		free(buf);
		return (-1);
	}
	free(buf);
	warned = false;
	free(expiry_note.v);
	expiry_note.v = v;
	expiry_note.n = n;
	expiry_note.dev = st.st_dev;
	expiry_note.ino = st.st_ino;
	expiry_note.size = st.st_size;
	expiry_note.mtime = st.st_mtim;
	expiry_note.have = true;
	return (0);
}

long
expiry_clients(const struct sup *sup, time_t now, time_t *as_of)
{
	time_t	 limit = now + (time_t)sup->cfg->cert_warn_days * 86400;
	size_t	 i;
	long	 n = 0;

	*as_of = 0;
	if (expiry_note_load(sup) == -1)
		return (-1);
	for (i = 0; i < expiry_note.n; i++)
		if (expiry_note.v[i] <= limit)
			n++;
	*as_of = expiry_note.mtime.tv_sec;
	return (n);
}

long
expiry_days_left(time_t when, time_t now)
{
	long long	 s = (long long)when - (long long)now;

	/* Rounded down, also below zero: 1 s past is day -1, not day 0. */
	return ((long)(s >= 0 ? s / 86400 : -((-s + 86399) / 86400)));
}

static void
expiry_json_one(struct json *j, const char *name, time_t when, time_t now)
{
	json_key(j, name);
	json_obj_begin(j);
	json_kv_time(j, "not_after", when);
	json_key(j, "days_left");
	if (when != 0)
		json_int(j, expiry_days_left(when, now));
	else
		json_null(j);
	json_obj_end(j);
}

void
expiry_json(const struct sup *sup, struct json *j)
{
	struct expiry_info	 ei;
	time_t			 now = time(NULL), as_of;
	long			 clients;

	expiry_get(sup, &ei);
	json_key(j, "expiry");
	json_obj_begin(j);
	json_kv_uint(j, "cert_warn_days", sup->cfg->cert_warn_days);
	expiry_json_one(j, "server_cert", ei.server, now);
	expiry_json_one(j, "ca", ei.ca, now);
	expiry_json_one(j, "crl", ei.crl, now);
	clients = expiry_clients(sup, now, &as_of);
	json_key(j, "client_certs");
	json_obj_begin(j);
	json_key(j, "expiring");
	if (clients >= 0)
		json_int(j, clients);
	else
		json_null(j);
	json_kv_time(j, "counted_at", as_of);
	json_obj_end(j);
	json_obj_end(j);
}

static void
expiry_warn(const struct sup *sup, const char *what, const char *path,
    time_t when, time_t now, const char *fix)
{
	char	 t[32];
	long	 days;

	if (when == 0 || sup->cfg->cert_warn_days == 0)
		return;
	days = expiry_days_left(when, now);
	if (days >= (long)sup->cfg->cert_warn_days)
		return;
	pki_time_format(when, t, sizeof(t));
	if (when <= now)
		log_warnx("%s %s EXPIRED on %s: %s", what, path, t, fix);
	else
		log_warnx("%s %s expires in %ld days (%s; [tls] cert_warn_days "
		    "%u): %s", what, path, days, t, sup->cfg->cert_warn_days,
		    fix);
}

int
expiry_tick(struct sup *sup)
{
	static int64_t		 next_ms;
	struct expiry_info	 ei;
	int64_t			 now_ms = clock_mono_ms();
	time_t			 now = time(NULL);

	if (next_ms != 0 && now_ms < next_ms)
		return ((int)(next_ms - now_ms));
	next_ms = now_ms + EXPIRY_WARN_INTERVAL_MS;
	expiry_get(sup, &ei);
	expiry_warn(sup, "server certificate", sup->cfg->cert, ei.server, now,
	    "renew it (takctl pki server --force, then restart takd)");
	expiry_warn(sup, "CA certificate", sup->cfg->ca, ei.ca, now,
	    "every client certificate dies with it: plan a new CA");
	return (EXPIRY_WARN_INTERVAL_MS);
}
