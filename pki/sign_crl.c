/*
 * takd-signer's CRLs for the admin console: see pki_sign_revoke() in
 * sign.h and revjournal.c.  The CRL the signer makes must never drop a
 * revocation that is in force, or an admin's click would un-revoke
 * somebody: it lists the union of every CRL of this CA it can see (the
 * file takctl writes, the last good copy takd installs, which may be a
 * fetched one or the signer's previous one) and of its own journal, and
 * its number is above all of theirs.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "pki/pki.h"
#include "pki/sign.h"

#define PKI_REVOKE_LOCK_TRIES	100	/* x 100 ms, as pki_txn_begin */

static int
pki_revoke_lock(struct pki_signer *s, char *err, size_t errlen)
{
	int	 tries;

	for (tries = 0; flock(s->dirfd, LOCK_EX | LOCK_NB) == -1; tries++) {
		if (errno != EWOULDBLOCK || tries == PKI_REVOKE_LOCK_TRIES) {
			snprintf(err, errlen, "cannot lock the PKI directory: "
			    "%s", errno == EWOULDBLOCK ? "takctl holds it" :
			    strerror(errno));
			return (-1);
		}
		nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	}
	return (0);
}

/* The serials of a CRL file the CA signed into all (missing: none). */
static int
pki_revoke_take_crl(struct pki_signer *s, int dirfd, const char *name,
    struct pki_import *all, long *number, char *err, size_t errlen)
{
	struct pki_import	 imp;
	char			*buf, why[512];
	size_t			 len, i;
	int			 rc = -1;

	if (dirfd == -1 || name == NULL)
		return (0);
	if ((buf = fileio_read(dirfd, name, name, PKI_FILE_MAX, &len, why,
	    sizeof(why))) == NULL)
		return (0);	/* missing or unreadable: takctl's business */
	if (pki_import_parse(buf, len, s->ca, &imp, why, sizeof(why)) == -1 ||
	    imp.format == PKI_IMPORT_JSON || imp.foreign) {
		/* Not the CA's: its serials cannot be trusted either way. */
		pki_import_free(&imp);
		free(buf);
		return (0);
	}
	free(buf);
	for (i = 0; i < imp.n; i++)
		if (pki_import_add(all, imp.v[i].serial, imp.v[i].revoked_at,
		    imp.v[i].reason, err, errlen) == -1)
			goto done;
	if (imp.number > *number)
		*number = imp.number;
	rc = 0;
 done:
	pki_import_free(&imp);
	return (rc);
}

/* The journal through its descriptor: pread from 0, whole. */
static int
pki_revoke_take_journal(int fd, struct pki_import *all, long *number,
    char *err, size_t errlen)
{
	struct pki_import	 j;
	struct stat		 st;
	char			*buf;
	size_t			 len = 0, i;
	ssize_t			 n;
	int			 rc = -1;

	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > PKI_FILE_MAX) {
		snprintf(err, errlen, "%s: not a regular file of at most %u "
		    "bytes", PKI_REVJOURNAL, PKI_FILE_MAX);
		return (-1);
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	while (len < (size_t)st.st_size) {
		n = pread(fd, buf + len, (size_t)st.st_size - len, (off_t)len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* shrunk meanwhile: what was read */
		len += (size_t)n;
	}
	if (pki_revjournal_parse(buf, len, &j, err, errlen) == -1)
		goto done;
	for (i = 0; i < j.n; i++)
		if (pki_import_add(all, j.v[i].serial, j.v[i].revoked_at,
		    j.v[i].reason, err, errlen) == -1)
			goto done;
	if (j.number > *number)
		*number = j.number;
	rc = 0;
 done:
	pki_import_free(&j);
	free(buf);
	return (rc);
}

static int
pki_revoke_cmp(const void *a, const void *b)
{
	const struct pki_import_entry	*x = a, *y = b;
	int				 c;

	if ((c = pki_serial_cmp(x->serial, y->serial)) != 0)
		return (c);
	/* The earliest revocation of a serial first. */
	return (x->revoked_at < y->revoked_at ? -1 :
	    x->revoked_at > y->revoked_at);
}

static int
pki_revoke_append(int fd, const char *line, size_t n, char *err,
    size_t errlen)
{
	ssize_t	 w;

	/* O_APPEND: one write is one line at the end. */
	do
		w = write(fd, line, n);
	while (w == -1 && errno == EINTR);
	if (w != (ssize_t)n || fsync(fd) == -1) {
		snprintf(err, errlen, "%s: %s", PKI_REVJOURNAL, w == -1 ||
		    w == (ssize_t)n ? strerror(errno) : "short write");
		return (-1);
	}
	return (0);
}

X509_CRL *
pki_sign_revoke(struct pki_signer *s, const struct pki_revoke_base *b,
    const char *serial, int reason, const char *admin,
    struct pki_revoke_out *out, char *err, size_t errlen)
{
	struct pki_import	 all;
	struct pki_import_entry	*hit;
	struct pki_index	 idx = { NULL, 0, 0 };
	struct pki_entry	 e;
	X509_CRL		*crl = NULL;
	char			 ca_serial[PKI_SERIAL_HEX], line[512], t[32];
	long			 number = 0;
	time_t			 now = time(NULL);
	size_t			 i;
	int			 n;

	memset(&all, 0, sizeof(all));
	memset(out, 0, sizeof(*out));
	if (pki_serial_hex(X509_get0_serialNumber(s->ca), ca_serial,
	    sizeof(ca_serial)) == 0 && pki_serial_cmp(ca_serial, serial) == 0) {
		out->refused = true;
		snprintf(err, errlen, "serial %s is the CA itself", serial);
		return (NULL);
	}
	if (pki_revoke_lock(s, err, errlen) == -1)
		return (NULL);
	if (pki_revoke_take_crl(s, b->crl_dirfd, b->crl_name, &all, &number,
	    err, errlen) == -1 ||
	    pki_revoke_take_crl(s, b->copy_dirfd, b->copy_name, &all, &number,
	    err, errlen) == -1 ||
	    pki_revoke_take_journal(b->journalfd, &all, &number, err,
	    errlen) == -1)
		goto done;
	hit = NULL;
	for (i = 0; i < all.n && hit == NULL; i++)
		if (pki_serial_cmp(all.v[i].serial, serial) == 0)
			hit = &all.v[i];
	if (hit != NULL) {
		pki_time_format(hit->revoked_at, t, sizeof(t));
		out->refused = true;
		snprintf(err, errlen, "serial %s is revoked already, since %s",
		    serial, hit->revoked_at != 0 ? t : "an unknown date");
		goto done;
	}
	number++;
	if ((n = pki_revjournal_format(line, sizeof(line), serial, now, reason,
	    number, admin)) == -1) {
		snprintf(err, errlen, "cannot format the journal line");
		goto done;
	}
	if (pki_revoke_append(b->journalfd, line, (size_t)n, err,
	    errlen) == -1 ||
	    pki_import_add(&all, serial, now, reason, err, errlen) == -1)
		goto done;
	qsort(all.v, all.n, sizeof(*all.v), pki_revoke_cmp);
	for (i = 0; i < all.n; i++) {
		if (i > 0 && pki_serial_cmp(all.v[i - 1].serial,
		    all.v[i].serial) == 0)
			continue;	/* the earliest counts */
		memset(&e, 0, sizeof(e));
		e.kind = PKI_KIND_EXTERNAL;
		snprintf(e.serial, sizeof(e.serial), "%s", all.v[i].serial);
		e.status = PKI_STATUS_REVOKED;
		e.revoked_at = all.v[i].revoked_at != 0 ?
		    all.v[i].revoked_at : now;
		e.reason = all.v[i].reason;
		if (pki_index_add(&idx, &e) == -1) {
			snprintf(err, errlen, "out of memory");
			goto done;
		}
	}
	if ((crl = pki_crl_new(s->ca, s->key, &idx, number, b->days, err,
	    errlen)) == NULL)
		goto done;
	out->number = number;
	out->entries = idx.n;
 done:
	(void)flock(s->dirfd, LOCK_UN);
	pki_index_free(&idx);
	pki_import_free(&all);
	ERR_clear_error();
	return (crl);
}
