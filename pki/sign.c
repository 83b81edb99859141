/*
 * Signing the CSR of an enrolled device (takd-signer, docs/pki.md
 * "Enrolled certificates"): the client profile of `takctl pki client`,
 * subject CN=user, O, OU, recorded in the signer's journal enrolled.txt
 * before the certificate leaves the process, so that a certificate that
 * exists is always known to `takctl revoke`.
 *
 * The signer runs as the service user: it cannot open anything in [pki]
 * dir.  Root opened what it needs before the privilege drop (ca.pem,
 * ca.key, the directory itself for the lock, enrolled.txt for appending)
 * and handed the descriptors down; this file works on descriptors only.
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

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "pki/pki.h"
#include "pki/sign.h"

#define PKI_SIGN_FILE_MAX	(1u << 20)
#define PKI_SIGN_LOCK_TRIES	100	/* x 100 ms, as pki_txn_begin */

/* A whole file from a descriptor shared with others: pread, from 0. */
static char *
pki_fd_read(int fd, const char *what, size_t *lenp, char *err, size_t errlen)
{
	struct stat	 st;
	char		*buf;
	size_t		 len = 0;
	ssize_t		 n;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", what, strerror(errno));
		return (NULL);
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (size_t)st.st_size > PKI_SIGN_FILE_MAX) {
		snprintf(err, errlen, "%s: not a regular file of 1 to %u bytes",
		    what, PKI_SIGN_FILE_MAX);
		return (NULL);
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", what);
		return (NULL);
	}
	while (len < (size_t)st.st_size) {
		n = pread(fd, buf + len, (size_t)st.st_size - len,
		    (off_t)len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: %s", what, n == 0 ?
			    "shorter than its size" : strerror(errno));
			OPENSSL_cleanse(buf, len);
			free(buf);
			return (NULL);
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	*lenp = len;
	return (buf);
}

static int
pki_sign_no_password(char *buf, int size, int rw, void *arg)
{
	return (0);
}

int
pki_signer_load(struct pki_signer *s, int ca_fd, int key_fd, int dirfd,
    int journalfd, char *err, size_t errlen)
{
	char	*buf = NULL;
	size_t	 len = 0;
	BIO	*bio = NULL;
	int	 fl;

	memset(s, 0, sizeof(*s));
	s->dirfd = dirfd;
	s->journalfd = journalfd;
	if ((fl = fcntl(journalfd, F_GETFL)) == -1 || (fl & O_APPEND) == 0 ||
	    (fl & O_ACCMODE) == O_RDONLY) {
		snprintf(err, errlen, "%s: not open for appending",
		    PKI_JOURNAL);
		return (-1);
	}
	if ((buf = pki_fd_read(ca_fd, PKI_CA_CERT, &len, err,
	    errlen)) == NULL)
		goto fail;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL ||
	    (s->ca = PEM_read_bio_X509(bio, NULL, pki_sign_no_password,
	    NULL)) == NULL) {
		pki_sslerr(err, errlen, "%s: not a PEM certificate",
		    PKI_CA_CERT);
		goto fail;
	}
	BIO_free(bio);
	free(buf);
	bio = NULL;
	buf = NULL;
	if (X509_check_ca(s->ca) < 1) {
		snprintf(err, errlen, "%s: not a CA certificate", PKI_CA_CERT);
		goto fail;
	}
	if (pki_asn1_time(X509_get0_notAfter(s->ca)) <= time(NULL)) {
		snprintf(err, errlen, "%s: the CA certificate has expired",
		    PKI_CA_CERT);
		goto fail;
	}
	if ((buf = pki_fd_read(key_fd, PKI_CA_KEY, &len, err,
	    errlen)) == NULL)
		goto fail;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL ||
	    (s->key = PEM_read_bio_PrivateKey(bio, NULL, pki_sign_no_password,
	    NULL)) == NULL) {
		pki_sslerr(err, errlen, "%s: cannot read the key (encrypted "
		    "CA keys are not supported)", PKI_CA_KEY);
		goto fail;
	}
	if (!X509_check_private_key(s->ca, s->key)) {
		ERR_clear_error();
		snprintf(err, errlen, "%s does not belong to %s", PKI_CA_KEY,
		    PKI_CA_CERT);
		goto fail;
	}
	BIO_free(bio);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return (0);
 fail:
	BIO_free(bio);
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	pki_signer_clear(s);
	return (-1);
}

void
pki_signer_clear(struct pki_signer *s)
{
	if (s == NULL)
		return;
	X509_free(s->ca);
	EVP_PKEY_free(s->key);
	s->ca = NULL;
	s->key = NULL;
}

/* CN=user, then O and OU when configured: what csr_check() accepted. */
static X509_NAME *
pki_sign_subject(const struct pki_enroll_req *req)
{
	X509_NAME	*name;

	if ((name = X509_NAME_new()) == NULL ||
	    !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	    (const unsigned char *)req->user, -1, -1, 0) ||
	    (req->o != NULL && *req->o != '\0' &&
	    !X509_NAME_add_entry_by_NID(name, NID_organizationName,
	    MBSTRING_UTF8, (const unsigned char *)req->o, -1, -1, 0)) ||
	    (req->ou != NULL && *req->ou != '\0' &&
	    !X509_NAME_add_entry_by_NID(name, NID_organizationalUnitName,
	    MBSTRING_UTF8, (const unsigned char *)req->ou, -1, -1, 0))) {
		X509_NAME_free(name);
		return (NULL);
	}
	return (name);
}

/* Append one line to the journal under the directory's lock, durably. */
static int
pki_journal_append(struct pki_signer *s, const struct pki_entry *e,
    char *err, size_t errlen)
{
	char	 line[2048];
	ssize_t	 w;
	int	 n, tries, rc = -1;

	if ((n = pki_index_format(e, line, sizeof(line))) == -1) {
		snprintf(err, errlen, "cannot format the index line");
		return (-1);
	}
	/* takctl reads the journal under this lock: never half a line. */
	for (tries = 0; flock(s->dirfd, LOCK_EX | LOCK_NB) == -1; tries++) {
		if (errno != EWOULDBLOCK || tries == PKI_SIGN_LOCK_TRIES) {
			snprintf(err, errlen, "cannot lock the PKI directory: "
			    "%s", errno == EWOULDBLOCK ? "takctl holds it" :
			    strerror(errno));
			return (-1);
		}
		nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	}
	/* O_APPEND: one write is one line at the end. */
	do
		w = write(s->journalfd, line, (size_t)n);
	while (w == -1 && errno == EINTR);
	if (w != n) {
		snprintf(err, errlen, "%s: %s", PKI_JOURNAL, w == -1 ?
		    strerror(errno) : "short write");
		goto done;
	}
	if (fsync(s->journalfd) == -1) {
		snprintf(err, errlen, "%s: fsync: %s", PKI_JOURNAL,
		    strerror(errno));
		goto done;
	}
	rc = 0;
 done:
	(void)flock(s->dirfd, LOCK_UN);
	return (rc);
}

X509 *
pki_sign_enroll(struct pki_signer *s, const struct pki_enroll_req *req,
    struct pki_entry *e, char *err, size_t errlen)
{
	X509_NAME	*subject = NULL;
	X509		*cert = NULL;
	EVP_PKEY	*key;
	bool		 clamped;

	if (req->days < 1 || req->days > PKI_DAYS_MAX ||
	    strlen(req->client_uid) > PKI_UID_MAX) {
		snprintf(err, errlen, "bad enrollment request");
		return (NULL);
	}
	if ((key = X509_REQ_get0_pubkey(req->csr)) == NULL ||
	    (subject = pki_sign_subject(req)) == NULL) {
		pki_sslerr(err, errlen, "cannot build the subject");
		goto fail;
	}
	if ((cert = pki_cert_new(PKI_KIND_CLIENT, req->user, subject,
	    req->days, NULL, key, s->ca, s->key, &clamped, err,
	    errlen)) == NULL)
		goto fail;
	if (pki_entry_fill(e, PKI_KIND_CLIENT, req->user, cert) == -1) {
		snprintf(err, errlen, "cannot read back the serial number");
		goto fail;
	}
	e->enrolled = true;
	snprintf(e->client_uid, sizeof(e->client_uid), "%s", req->client_uid);
	if (pki_journal_append(s, e, err, errlen) == -1)
		goto fail;
	X509_NAME_free(subject);
	return (cert);
 fail:
	X509_NAME_free(subject);
	X509_free(cert);
	return (NULL);
}
