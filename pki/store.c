/*
 * The files of the PKI directory: a locked, all-or-nothing set of writes, and
 * the index of issued certificates.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki/pki.h"
#include "shared/trust.h"

#define PKI_LOCK_TRIES		100	/* x 100 ms */
#define PKI_KEY_FILE_MAX	(1u << 20)


int
pki_txn_begin(struct pki_txn *txn, const char *dir, bool create, char *err,
    size_t errlen)
{
	int	 tries;

	memset(txn, 0, sizeof(*txn));
	txn->dirfd = txn->clientfd = txn->crlfd = -1;
	if (strlen(dir) >= sizeof(txn->dir)) {
		snprintf(err, errlen, "PKI directory path too long");
		return (-1);
	}
	snprintf(txn->dir, sizeof(txn->dir), "%s", dir);
	/*
	 * Root writes private keys here and takd trusts the CA in it: every
	 * directory down to it must be root's (trust.h).  0711: takd re-reads
	 * crl.pem after dropping root, which needs search permission here.
	 * Nothing is listable; what others can open by name is public
	 * (ca.pem, crl.pem, server.pem), the rest is 0600 or inside clients/
	 * (0700).
	 */
	txn->dirfd = trust_dir_open(dir, create ? TRUST_CREATE : 0,
	    PKI_DIR_MODE, err, errlen);
	if (txn->dirfd == -1) {
		if (errno == ENOENT && !create)
			snprintf(err, errlen, "%s: no such directory; run "
			    "`takctl pki init-ca` first", dir);
		else if (errno != EPERM) {
			char	 why[512];

			snprintf(why, sizeof(why), "%s", err);
			snprintf(err, errlen, "[pki] dir %s: %s", dir, why);
		}
		return (-1);
	}
	/* Serialises takctl runs: serials, index and CRL numbers. */
	for (tries = 0; flock(txn->dirfd, LOCK_EX | LOCK_NB) == -1; tries++) {
		if (errno != EWOULDBLOCK || tries == PKI_LOCK_TRIES) {
			snprintf(err, errlen, "%s: cannot lock: %s", dir,
			    errno == EWOULDBLOCK ? "another takctl is working "
			    "on it" : strerror(errno));
			pki_txn_end(txn);
			return (-1);
		}
		nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	}
	return (0);
}

int
pki_txn_clients(struct pki_txn *txn, char *err, size_t errlen)
{
	if (txn->clientfd != -1)
		return (0);
	if (mkdirat(txn->dirfd, PKI_CLIENT_DIR, PKI_CLIENT_DIR_MODE) == 0) {
		if (fchmodat(txn->dirfd, PKI_CLIENT_DIR, PKI_CLIENT_DIR_MODE,
		    0) == -1)
			goto fail;
	} else if (errno != EEXIST)
		goto fail;
	txn->clientfd = openat(txn->dirfd, PKI_CLIENT_DIR,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (txn->clientfd == -1)
		goto fail;
	return (0);
 fail:
	snprintf(err, errlen, "%s/%s: %s", txn->dir, PKI_CLIENT_DIR,
	    strerror(errno));
	return (-1);
}

int
pki_txn_crl(struct pki_txn *txn, const char *path, char *err, size_t errlen)
{
	char		 why[512];
	struct stat	 a, b;
	const char	*base;
	size_t		 dlen;

	if (txn->crlfd != -1)
		return (0);
	if (path == NULL || *path == '\0') {
		txn->crlfd = txn->dirfd;
		snprintf(txn->crl_name, sizeof(txn->crl_name), "%s", PKI_CRL);
		snprintf(txn->crl_dir, sizeof(txn->crl_dir), "%s", txn->dir);
		return (0);
	}
	if ((base = strrchr(path, '/')) == NULL) {
		base = path;
		snprintf(txn->crl_dir, sizeof(txn->crl_dir), ".");
	} else {
		dlen = base == path ? 1 : (size_t)(base - path);
		if (dlen >= sizeof(txn->crl_dir)) {
			snprintf(err, errlen, "%s: path too long", path);
			return (-1);
		}
		memcpy(txn->crl_dir, path, dlen);
		txn->crl_dir[dlen] = '\0';
		base++;
	}
	if (*base == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0 || strlen(base) >= sizeof(txn->crl_name)) {
		snprintf(err, errlen, "%s: not a usable CRL file name (at most "
		    "%zu characters)", path, sizeof(txn->crl_name) - 1);
		return (-1);
	}
	snprintf(txn->crl_name, sizeof(txn->crl_name), "%s", base);
	if (stat(txn->crl_dir, &a) == 0 && fstat(txn->dirfd, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
		txn->crlfd = txn->dirfd;
		snprintf(txn->crl_dir, sizeof(txn->crl_dir), "%s", txn->dir);
		return (0);
	}
	txn->crlfd = trust_dir_open(txn->crl_dir, 0, 0, why, sizeof(why));
	if (txn->crlfd == -1) {
		snprintf(err, errlen, "%s (the directory of [tls] crl): %s",
		    txn->crl_dir, why);
		return (-1);
	}
	return (0);
}

const char *
pki_txn_path(const struct pki_txn *txn, int dirfd, const char *name,
    char *buf, size_t len)
{
	if (dirfd == txn->clientfd && dirfd != -1)
		snprintf(buf, len, "%s/%s/%s", txn->dir, PKI_CLIENT_DIR, name);
	else if (dirfd == txn->crlfd && dirfd != txn->dirfd)
		snprintf(buf, len, "%s/%s", txn->crl_dir, name);
	else
		snprintf(buf, len, "%s/%s", txn->dir, name);
	return (buf);
}

int
pki_txn_check_absent(struct pki_txn *txn, int dirfd, const char *name,
    bool force, char *err, size_t errlen)
{
	char		 path[PATH_MAX + 128];
	struct stat	 st;

	pki_txn_path(txn, dirfd, name, path, sizeof(path));
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (force)
			return (0);
		snprintf(err, errlen, "%s exists; use --force to replace it",
		    path);
		return (-1);
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	return (0);
}

static int
pki_write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;	/* no progress: never spin */
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

int
pki_txn_stage(struct pki_txn *txn, int dirfd, const char *name,
    const void *buf, size_t len, mode_t mode, char *err, size_t errlen)
{
	struct pki_txn_file	*f;
	char			 path[PATH_MAX + 128];
	int			 fd, i;

	if (txn->n == PKI_TXN_MAX || strlen(name) >= sizeof(f->name)) {
		snprintf(err, errlen, "%s: internal error: too many files",
		    name);
		return (-1);
	}
	f = &txn->f[txn->n];
	pki_txn_path(txn, dirfd, name, path, sizeof(path));
	for (i = 0, fd = -1; fd == -1 && i < 100; i++) {
		snprintf(f->tmp, sizeof(f->tmp), ".%s.%ld.%d", name,
		    (long)getpid(), i);
		/* 0600 until the final mode is set, whatever the umask. */
		fd = openat(dirfd, f->tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd == -1 && errno != EEXIST)
			break;
	}
	if (fd == -1) {
		snprintf(err, errlen, "%s: cannot create a temporary file: %s",
		    path, strerror(errno));
		return (-1);
	}
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->dirfd = dirfd;
	f->done = false;
	txn->n++;
	if (fchmod(fd, mode) == -1 || pki_write_all(fd, buf, len) == -1 ||
	    fsync(fd) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	if (close(fd) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	return (0);
}

int
pki_txn_commit(struct pki_txn *txn, char *err, size_t errlen)
{
	struct pki_txn_file	*f;
	char			 path[PATH_MAX + 128];
	size_t			 i;

	for (i = 0; i < txn->n; i++) {
		f = &txn->f[i];
		if (renameat(f->dirfd, f->tmp, f->dirfd, f->name) == -1) {
			snprintf(err, errlen, "%s: rename: %s",
			    pki_txn_path(txn, f->dirfd, f->name, path,
			    sizeof(path)), strerror(errno));
			return (-1);
		}
		f->done = true;
	}
	if (fsync(txn->dirfd) == -1 ||
	    (txn->clientfd != -1 && fsync(txn->clientfd) == -1) ||
	    (txn->crlfd != -1 && txn->crlfd != txn->dirfd &&
	    fsync(txn->crlfd) == -1)) {
		snprintf(err, errlen, "%s: fsync: %s", txn->dir,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

void
pki_txn_end(struct pki_txn *txn)
{
	size_t	 i;

	for (i = 0; i < txn->n; i++)
		if (!txn->f[i].done)
			(void)unlinkat(txn->f[i].dirfd, txn->f[i].tmp, 0);
	txn->n = 0;
	if (txn->clientfd != -1)
		close(txn->clientfd);
	if (txn->crlfd != -1 && txn->crlfd != txn->dirfd)
		close(txn->crlfd);
	if (txn->dirfd != -1)
		close(txn->dirfd);	/* releases the flock */
	txn->clientfd = txn->dirfd = txn->crlfd = -1;
}

/* No prompting: an encrypted CA key is reported, not asked for. */
static int
pki_no_password(char *buf, int size, int rw, void *arg)
{
	return (0);
}

int
pki_txn_ca_load(struct pki_txn *txn, X509 **certp, EVP_PKEY **keyp,
    char *err, size_t errlen)
{
	char		 path[PATH_MAX + 32];
	char		*buf = NULL;
	size_t		 len = 0;
	BIO		*bio = NULL;
	X509		*cert = NULL;
	EVP_PKEY	*key = NULL;
	time_t		 end;

	pki_txn_path(txn, txn->dirfd, PKI_CA_CERT, path, sizeof(path));
	if ((buf = fileio_read(txn->dirfd, PKI_CA_CERT, path,
	    PKI_KEY_FILE_MAX, &len, err, errlen)) == NULL)
		goto missing;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL ||
	    (cert = PEM_read_bio_X509(bio, NULL, pki_no_password,
	    NULL)) == NULL) {
		pki_sslerr(err, errlen, "%s: cannot read the certificate",
		    path);
		goto fail;
	}
	BIO_free(bio);
	free(buf);
	bio = NULL;
	buf = NULL;
	if (X509_check_ca(cert) < 1) {
		snprintf(err, errlen, "%s: not a CA certificate", path);
		goto fail;
	}
	if ((end = pki_asn1_time(X509_get0_notAfter(cert))) <= time(NULL)) {
		snprintf(err, errlen, "%s: the CA certificate has expired; "
		    "create a new CA with `takctl pki init-ca --force`", path);
		goto fail;
	}

	pki_txn_path(txn, txn->dirfd, PKI_CA_KEY, path, sizeof(path));
	if ((buf = fileio_read(txn->dirfd, PKI_CA_KEY, path,
	    PKI_KEY_FILE_MAX, &len, err, errlen)) == NULL)
		goto missing;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL ||
	    (key = PEM_read_bio_PrivateKey(bio, NULL, pki_no_password,
	    NULL)) == NULL) {
		pki_sslerr(err, errlen, "%s: cannot read the key (encrypted "
		    "CA keys are not supported)", path);
		goto fail;
	}
	if (!X509_check_private_key(cert, key)) {
		ERR_clear_error();
		snprintf(err, errlen, "%s does not belong to %s/%s", path,
		    txn->dir, PKI_CA_CERT);
		goto fail;
	}
	BIO_free(bio);
	OPENSSL_cleanse(buf, len);
	free(buf);
	*certp = cert;
	*keyp = key;
	return (0);
 missing:
	if (errno == ENOENT)
		snprintf(err, errlen, "%s: no such file; run `takctl pki "
		    "init-ca` first", path);
 fail:
	BIO_free(bio);
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	return (-1);
}

int
pki_ca_load(const char *dir, X509 **cert, EVP_PKEY **key, char *err,
    size_t errlen)
{
	struct pki_txn	 txn;
	int		 rc;

	if (pki_txn_begin(&txn, dir, false, err, errlen) == -1)
		return (-1);
	rc = pki_txn_ca_load(&txn, cert, key, err, errlen);
	pki_txn_end(&txn);
	return (rc);
}

/* PEM-encode one object into a wiping memory BIO and stage that. */
int
pki_txn_stage_pem(struct pki_txn *txn, int dirfd, const char *name,
    mode_t mode, X509 *cert, X509_CRL *crl, EVP_PKEY *key, char *err,
    size_t errlen)
{
	BIO	*bio;
	char	*p;
	long	 n;
	int	 ok, rc = -1;

	if ((bio = BIO_new(BIO_s_secmem())) == NULL) {
		pki_sslerr(err, errlen, "%s", name);
		return (-1);
	}
	if (cert != NULL)
		ok = PEM_write_bio_X509(bio, cert);
	else if (crl != NULL)
		ok = PEM_write_bio_X509_CRL(bio, crl);
	else
		ok = PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL,
		    NULL);
	if (!ok || (n = BIO_get_mem_data(bio, &p)) <= 0)
		pki_sslerr(err, errlen, "%s: cannot encode", name);
	else
		rc = pki_txn_stage(txn, dirfd, name, p, (size_t)n, mode, err,
		    errlen);
	BIO_free(bio);
	return (rc);
}

/* The console's revocations (revjournal.c), merged like enrolled.txt. */
static int
pki_index_revjournal(int dirfd, const char *dir, struct pki_index *idx,
    char *err, size_t errlen)
{
	struct pki_import	 j;
	int			 rc;

	if (pki_revjournal_read(dirfd, dir, &j, err, errlen) == -1)
		return (-1);
	rc = pki_revjournal_merge(&j, idx, err, errlen);
	pki_import_free(&j);
	return (rc);
}

/*
 * Read and parse dir/index.txt through dirfd, with the signer's journal
 * merged (pki_journal_merge): 0 with idx and the file in *raw (the caller
 * frees both), 1 when there is no index, -1 with a message in err when it
 * cannot be read or is damaged.
 */
static int
pki_index_read_at(int dirfd, const char *dir, struct pki_index *idx,
    char **raw, size_t *rawlen, char *err, size_t errlen)
{
	char	 path[PATH_MAX + 32], why[256];

	memset(idx, 0, sizeof(*idx));
	*rawlen = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, PKI_INDEX);
	if ((*raw = fileio_read(dirfd, PKI_INDEX, path, PKI_FILE_MAX, rawlen,
	    err, errlen)) == NULL)
		return (errno == ENOENT ? 1 : -1);
	if (pki_index_parse(*raw, *rawlen, idx, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto fail;
	}
	if (pki_journal_merge(dirfd, dir, idx, err, errlen) == -1 ||
	    pki_index_revjournal(dirfd, dir, idx, err, errlen) == -1) {
		pki_index_free(idx);
		goto fail;
	}
	return (0);
 fail:
	free(*raw);
	*raw = NULL;
	*rawlen = 0;
	return (-1);
}

/*
 * Stage index.txt with e appended.  fresh (a new CA) starts a new index and
 * keeps the old one as index.txt.old; *had_leaves says whether it listed
 * server or client certificates.
 */
int
pki_txn_stage_index(struct pki_txn *txn, const struct pki_entry *e,
    bool fresh, bool *had_leaves, char *err, size_t errlen)
{
	struct pki_index	 idx;
	char			 line[2048];
	char			*old, *buf = NULL;
	size_t			 len, i;
	int			 n, rc = -1;

	if (had_leaves != NULL)
		*had_leaves = false;
	if ((n = pki_index_format(e, line, sizeof(line))) == -1) {
		snprintf(err, errlen, "cannot format the index entry");
		return (-1);
	}
	/* Appending to a damaged index would hide the damage. */
	if (pki_index_read_at(txn->dirfd, txn->dir, &idx, &old, &len, err,
	    errlen) == -1)
		return (-1);
	for (i = 0; i < idx.n && had_leaves != NULL; i++)
		if (idx.v[i].kind != PKI_KIND_CA)
			*had_leaves = true;
	pki_index_free(&idx);
	if (fresh && old != NULL) {
		if (pki_txn_stage(txn, txn->dirfd, PKI_INDEX_OLD, old, len,
		    0600, err, errlen) == -1)
			goto done;
		len = 0;
	}
	if (fresh && pki_txn_journal_reset(txn, err, errlen) == -1)
		goto done;
	if ((buf = malloc(len + 1 + (size_t)n)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	if (len > 0)
		memcpy(buf, old, len);
	if (len > 0 && buf[len - 1] != '\n')
		buf[len++] = '\n';
	memcpy(buf + len, line, (size_t)n);
	/* The roster of clients is nobody else's business. */
	rc = pki_txn_stage(txn, txn->dirfd, PKI_INDEX, buf, len + (size_t)n,
	    0600, err, errlen);
 done:
	free(buf);
	free(old);
	return (rc);
}

int
pki_txn_index_read(struct pki_txn *txn, struct pki_index *idx, char **raw,
    size_t *rawlen, char *err, size_t errlen)
{
	return (pki_index_read_at(txn->dirfd, txn->dir, idx, raw, rawlen, err,
	    errlen) == -1 ? -1 : 0);
}

struct pki_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static int
pki_buf_add(struct pki_buf *b, const void *data, size_t len)
{
	char	*np;
	size_t	 cap;

	if (b->len + len > b->cap) {
		for (cap = b->cap == 0 ? 65536 : b->cap; cap < b->len + len; )
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL)
			return (-1);
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return (0);
}

int
pki_txn_stage_index_all(struct pki_txn *txn, const char *raw, size_t rawlen,
    const struct pki_index *idx, char *err, size_t errlen)
{
	struct pki_buf		 out = { NULL, 0, 0 };
	const struct pki_entry	*e = NULL;
	const char		*p, *nl, *end = raw + rawlen;
	char			 line[2048];
	size_t			 k = 0, ll;
	int			 n, rc;

	/* The same walk as pki_index_parse(), so entry k is line k. */
	for (p = raw; raw != NULL && p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		ll = (size_t)(nl - p);
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		if (ll == 0 || *p == '#') {
			if (pki_buf_add(&out, p, ll) == -1 ||
			    pki_buf_add(&out, "\n", 1) == -1)
				goto nomem;
			continue;
		}
		if (k == idx->n)
			break;		/* cannot happen: entries are not removed */
		e = &idx->v[k++];
		if ((n = pki_index_format(e, line, sizeof(line))) == -1)
			goto bad;
		if (pki_buf_add(&out, line, (size_t)n) == -1)
			goto nomem;
	}
	for (; k < idx->n; k++) {
		e = &idx->v[k];
		if ((n = pki_index_format(e, line, sizeof(line))) == -1)
			goto bad;
		if (pki_buf_add(&out, line, (size_t)n) == -1)
			goto nomem;
	}
	rc = pki_txn_stage(txn, txn->dirfd, PKI_INDEX, out.p == NULL ? "" :
	    out.p, out.len, 0600, err, errlen);
	free(out.p);
	return (rc);
 bad:
	snprintf(err, errlen, "cannot format the index entry of serial %s",
	    e->serial);
	free(out.p);
	return (-1);
 nomem:
	snprintf(err, errlen, "out of memory");
	free(out.p);
	return (-1);
}

const char *
pki_entry_status(const struct pki_entry *e, time_t now)
{
	if (e->status == PKI_STATUS_REVOKED)
		return ("revoked");
	if (e->not_after < now)
		return ("expired");
	return ("valid");
}

int
pki_index_add(struct pki_index *idx, const struct pki_entry *e)
{
	struct pki_entry	*v;
	size_t			 cap;

	if (idx->n == idx->cap) {
		cap = idx->cap == 0 ? 16 : idx->cap * 2;
		if ((v = reallocarray(idx->v, cap, sizeof(*v))) == NULL)
			return (-1);
		idx->v = v;
		idx->cap = cap;
	}
	idx->v[idx->n++] = *e;
	return (0);
}

void
pki_index_free(struct pki_index *idx)
{
	if (idx == NULL)
		return;
	free(idx->v);
	memset(idx, 0, sizeof(*idx));
}

/* A field must not carry the separators of the format. */
static int
pki_field_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\t' || *s == '\n' || *s == '\r')
			return (0);
	return (1);
}

int
pki_index_format(const struct pki_entry *e, char *buf, size_t len)
{
	char	 na[32], ra[32];
	int	 n;

	char	 ext[PKI_UID_MAX + 16];

	if (!pki_field_ok(e->name) || !pki_field_ok(e->subject) ||
	    !pki_field_ok(e->serial) || !pki_field_ok(e->client_uid))
		return (-1);
	/* Enrolled certificates carry a last field: enroll=CLIENTUID. */
	if (e->enrolled)
		snprintf(ext, sizeof(ext), "\tenroll=%s", e->client_uid);
	else
		ext[0] = '\0';
	/* External entries may come from a bare serial: no date known. */
	if (e->not_after == 0 && e->kind == PKI_KIND_EXTERNAL)
		snprintf(na, sizeof(na), "-");
	else
		pki_time_format(e->not_after, na, sizeof(na));
	if (e->status == PKI_STATUS_REVOKED) {
		pki_time_format(e->revoked_at, ra, sizeof(ra));
		n = snprintf(buf, len, "%s\t%s\t%s\t%s\t%s\trevoked\t%s\t%s"
		    "%s\n", pki_kind_name(e->kind), e->serial, na, e->name,
		    e->subject, e->revoked_at == 0 ? "-" : ra,
		    pki_reason_name(e->reason) == NULL ? "-" :
		    pki_reason_name(e->reason), ext);
	} else
		n = snprintf(buf, len, "%s\t%s\t%s\t%s\t%s\tvalid%s\n",
		    pki_kind_name(e->kind), e->serial, na, e->name,
		    e->subject, ext);
	if (n < 0 || (size_t)n >= len)
		return (-1);
	return (n);
}

/* Split line (modified in place) into at most max tab-separated fields. */
static size_t
pki_split(char *line, char **fields, size_t max)
{
	size_t	 n = 0;
	char	*p;

	fields[n++] = line;
	for (p = line; *p != '\0'; p++) {
		if (*p != '\t')
			continue;
		*p = '\0';
		if (n == max)
			return (max + 1);
		fields[n++] = p + 1;
	}
	return (n);
}

int
pki_index_line(char *line, struct pki_entry *e, char *err, size_t errlen)
{
	char	*f[9];
	size_t	 n, i;

	memset(e, 0, sizeof(*e));
	e->reason = CRL_REASON_NONE;
	n = pki_split(line, f, 9);
	/* After the 6 or 8 fields: enroll=CLIENTUID on enrolled lines. */
	if (n >= 7 && n <= 9 && strncmp(f[n - 1], "enroll=", 7) == 0) {
		n--;
		if (strlen(f[n] + 7) > PKI_UID_MAX) {
			snprintf(err, errlen, "clientUid longer than %d bytes",
			    PKI_UID_MAX);
			return (-1);
		}
		for (i = 7; f[n][i] != '\0'; i++)
			if ((unsigned char)f[n][i] <= 0x20 ||
			    (unsigned char)f[n][i] >= 0x7f) {
				snprintf(err, errlen, "clientUid with a blank "
				    "or non-ASCII byte");
				return (-1);
			}
		e->enrolled = true;
		snprintf(e->client_uid, sizeof(e->client_uid), "%s", f[n] + 7);
	}
	if (n != 6 && n != 8) {
		snprintf(err, errlen, "%zu fields, expected 6 or 8 (and "
		    "enroll=)", n);
		return (-1);
	}
	if (strcmp(f[0], "ca") == 0)
		e->kind = PKI_KIND_CA;
	else if (strcmp(f[0], "server") == 0)
		e->kind = PKI_KIND_SERVER;
	else if (strcmp(f[0], "client") == 0)
		e->kind = PKI_KIND_CLIENT;
	else if (strcmp(f[0], "external") == 0)
		e->kind = PKI_KIND_EXTERNAL;
	else {
		snprintf(err, errlen, "unknown kind \"%s\"", f[0]);
		return (-1);
	}
	if (e->enrolled && e->kind != PKI_KIND_CLIENT) {
		snprintf(err, errlen, "enroll= on a %s line", f[0]);
		return (-1);
	}
	for (i = 0; f[1][i] != '\0'; i++)
		if (!isxdigit((unsigned char)f[1][i]))
			break;
	if (i == 0 || f[1][i] != '\0' || i >= sizeof(e->serial)) {
		snprintf(err, errlen, "bad serial \"%s\"", f[1]);
		return (-1);
	}
	for (i = 0; f[1][i] != '\0'; i++)
		e->serial[i] = (char)toupper((unsigned char)f[1][i]);
	if (e->kind == PKI_KIND_EXTERNAL && strcmp(f[2], "-") == 0)
		e->not_after = 0;
	else if (pki_time_parse(f[2], &e->not_after) == -1) {
		snprintf(err, errlen, "bad not-after time \"%s\"", f[2]);
		return (-1);
	}
	if (*f[3] == '\0' || strlen(f[3]) >= sizeof(e->name) ||
	    strlen(f[4]) >= sizeof(e->subject)) {
		snprintf(err, errlen, "bad name or subject");
		return (-1);
	}
	snprintf(e->name, sizeof(e->name), "%s", f[3]);
	snprintf(e->subject, sizeof(e->subject), "%s", f[4]);
	if (strcmp(f[5], "valid") == 0)
		e->status = PKI_STATUS_VALID;
	else if (strcmp(f[5], "revoked") == 0)
		e->status = PKI_STATUS_REVOKED;
	else {
		snprintf(err, errlen, "unknown status \"%s\"", f[5]);
		return (-1);
	}
	/* An external line exists only because its serial was revoked. */
	if (e->kind == PKI_KIND_EXTERNAL && e->status != PKI_STATUS_REVOKED) {
		snprintf(err, errlen, "an external entry must be revoked");
		return (-1);
	}
	if (n == 8) {
		if (e->status != PKI_STATUS_REVOKED) {
			snprintf(err, errlen, "revocation fields on a valid "
			    "certificate");
			return (-1);
		}
		if (strcmp(f[6], "-") != 0 &&
		    pki_time_parse(f[6], &e->revoked_at) == -1) {
			snprintf(err, errlen, "bad revocation time \"%s\"",
			    f[6]);
			return (-1);
		}
		if (strcmp(f[7], "-") != 0 &&
		    (e->reason = pki_reason_parse(f[7])) < 0) {
			snprintf(err, errlen, "unknown revocation reason "
			    "\"%s\"", f[7]);
			return (-1);
		}
	}
	return (0);
}

int
pki_index_parse(const char *buf, size_t len, struct pki_index *idx,
    char *err, size_t errlen)
{
	struct pki_entry	 e;
	char			 line[2048], why[256];
	const char		*p, *nl, *end = buf + len;
	size_t			 ll, lines;
	unsigned		 lineno = 0;

	memset(idx, 0, sizeof(*idx));
	/* One allocation for big indexes, not a copy at every doubling. */
	for (p = buf, lines = 1; p < end && (nl = memchr(p, '\n',
	    (size_t)(end - p))) != NULL; p = nl + 1)
		lines++;
	if (lines > 16 && (idx->v = reallocarray(NULL, lines,
	    sizeof(*idx->v))) != NULL)
		idx->cap = lines;
	for (p = buf; p < end; p = nl + 1) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		ll = (size_t)(nl - p);
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		if (ll == 0 || *p == '#')
			continue;
		if (ll >= sizeof(line) || memchr(p, '\0', ll) != NULL) {
			snprintf(err, errlen, "line %u: line too long or "
			    "binary", lineno);
			goto fail;
		}
		memcpy(line, p, ll);
		line[ll] = '\0';
		if (pki_index_line(line, &e, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "line %u: %s", lineno, why);
			goto fail;
		}
		if (pki_index_add(idx, &e) == -1) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	return (0);
 fail:
	pki_index_free(idx);
	return (-1);
}

int
pki_index_load(const char *dir, struct pki_index *idx, char *err,
    size_t errlen)
{
	char	*raw;
	size_t	 len;
	int	 dirfd, rc;

	memset(idx, 0, sizeof(*idx));
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd == -1 && errno == ENOENT)
		return (1);
	if (dirfd == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return (-1);
	}
	rc = pki_index_read_at(dirfd, dir, idx, &raw, &len, err, errlen);
	close(dirfd);
	free(raw);
	return (rc);
}
