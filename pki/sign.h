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

#endif
