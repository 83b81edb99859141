/*
 * The CA side of enrollment (pki/sign.c), for takd-signer: sign a CSR that
 * csr_check() accepted with the client profile and record the certificate
 * in the journal [pki] dir/enrolled.txt, which every takctl operation
 * merges into the index (pki/store.c).  Works on descriptors opened by
 * root: see signer/signer.c and supervisor/signer_proc.c.
 */
#ifndef TAKD_PKI_SIGN_H
#define TAKD_PKI_SIGN_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pki/pki.h"

struct pki_signer {
	X509		*ca;
	EVP_PKEY	*key;
	int		 dirfd;		/* [pki] dir, for the lock (not owned) */
	int		 journalfd;	/* enrolled.txt, O_APPEND (not owned) */
};

/*
 * Read ca.pem and ca.key (descriptors read with pread, not closed) and
 * check them as takctl does: a CA, not expired, the key its own.
 */
int	 pki_signer_load(struct pki_signer *, int ca_fd, int key_fd,
	    int dirfd, int journalfd, char *err, size_t errlen);
/* Free the CA and its key (wiped by OpenSSL). */
void	 pki_signer_clear(struct pki_signer *);

struct pki_enroll_req {
	X509_REQ	*csr;		/* accepted by csr_check() */
	const char	*user;		/* the CN */
	const char	*o;		/* [api] cert_o, "" for none */
	const char	*ou;		/* [api] cert_ou, "" for none */
	const char	*client_uid;	/* "" when the device sent none */
	unsigned	 days;		/* [api] cert_days */
};

/*
 * The certificate, recorded (e is its journal line) before it is
 * returned; NULL with a message in err, and then nothing was recorded.
 */
X509	*pki_sign_enroll(struct pki_signer *, const struct pki_enroll_req *,
	    struct pki_entry *e, char *err, size_t errlen);

/*
 * Revocation for the admin console (sign_crl.c, docs/security.md "The
 * signer"): where the CRLs in force are, read through descriptors root
 * opened (the service user cannot open [pki] dir's files by name).
 */
struct pki_revoke_base {
	int		 crl_dirfd;	/* [tls] crl's directory, or -1 */
	const char	*crl_name;
	int		 copy_dirfd;	/* STATE_DIR/store, or -1 */
	const char	*copy_name;	/* the last good copy: crl-fetched.crl */
	int		 journalfd;	/* revoked.txt, O_RDWR | O_APPEND */
	unsigned	 days;		/* the CRL's lifetime */
};

struct pki_revoke_out {
	long		 number;
	size_t		 entries;
	bool		 refused;	/* err says why (not a failure) */
};

/*
 * Revoke serial (the index's hex form) with reason (CRL_REASON_*, -1),
 * for admin: under the PKI directory's lock, take every serial of the CRL
 * file and of the copy that the CA signed, and of the journal; refuse the
 * CA's own serial and one listed already (out->refused); append the
 * revocation to the journal (synced), then sign a CRL of all of them with
 * a number above every one seen.  NULL with err (out->refused: a refusal,
 * else a failure; the journal line may be written already then).
 */
X509_CRL *pki_sign_revoke(struct pki_signer *, const struct pki_revoke_base *,
	    const char *serial, int reason, const char *admin,
	    struct pki_revoke_out *, char *err, size_t errlen);

#endif
