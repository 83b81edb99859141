/*
 * The enrollment package of a user, clients/USER-enroll.zip: what a phone
 * imports to enroll for its own certificate on port 8446 with the user's
 * name and password (docs/pki.md, "Enrollment package").  It holds the CA
 * certificate and no secret, so only ca.pem is read: ca.key stays shut.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "pki/pki.h"

/* ca.pem of the locked directory, the certificate only. */
static X509 *
pki_enroll_ca(struct pki_txn *txn, char *err, size_t errlen)
{
	char	 why[256];
	char	*buf;
	size_t	 len;
	BIO	*bio;
	X509	*x = NULL;

	if ((buf = fileio_read(txn->dirfd, PKI_CA_CERT, PKI_CA_CERT,
	    PKI_FILE_MAX, &len, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "%s/%s: %s (run `takctl pki init-ca` "
		    "first)", txn->dir, PKI_CA_CERT, why);
		return (NULL);
	}
	if ((bio = BIO_new_mem_buf(buf, (int)len)) != NULL)
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (x == NULL)
		pki_sslerr(err, errlen, "%s/%s: not a PEM certificate",
		    txn->dir, PKI_CA_CERT);
	BIO_free(bio);
	free(buf);
	return (x);
}

int
pki_issue_enroll(const char *dir, const char *user, const struct pki_req *req,
    struct pki_result *res, char *err, size_t errlen)
{
	struct pkgzip_enroll pkg;
	struct pki_txn	 txn;
	X509		*ca = NULL;
	unsigned char	*zip = NULL;
	char		 f_zip[PKI_NAME_MAX + 16];
	size_t		 ziplen = 0;
	int		 rc = -1;

	memset(res, 0, sizeof(*res));
	if (pki_name_check(user, err, errlen) == -1)
		return (-1);
	snprintf(f_zip, sizeof(f_zip), "%s-enroll.zip", user);
	if (pki_txn_begin(&txn, dir, false, err, errlen) == -1)
		return (-1);
	if (pki_txn_clients(&txn, err, errlen) == -1 ||
	    pki_txn_check_absent(&txn, txn.clientfd, f_zip, req->force, err,
	    errlen) == -1 ||
	    (ca = pki_enroll_ca(&txn, err, errlen)) == NULL)
		goto done;
	pki_package_host(&txn, req, res);
	memset(&pkg, 0, sizeof(pkg));
	pkg.user = user;
	pkg.host = res->pkg_host;
	pkg.port = res->pkg_port;
	pkg.enroll_port = PKI_ENROLL_PORT;
	pkg.ca = ca;
	if (pkgzip_enroll_new(&pkg, &zip, &ziplen, err, errlen) == -1 ||
	    pki_txn_stage(&txn, txn.clientfd, f_zip, zip, ziplen, 0600, err,
	    errlen) == -1 ||
	    pki_txn_commit(&txn, err, errlen) == -1)
		goto done;
	rc = 0;
 done:
	pki_txn_end(&txn);
	free(zip);
	X509_free(ca);
	return (rc);
}
