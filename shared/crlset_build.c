/*
 * Building the revoked-serial set of a verified CRL (crlset.h).  It runs in
 * the supervisor's CRL parser process (supervisor/crl.c): what a huge CRL
 * costs in memory and time is spent there, never in the supervisor's loop
 * or in a worker.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "shared/crlset.h"
#include "shared/pkiutil.h"

#define CRLSET_SEAL_ALL	(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | \
			 F_SEAL_SEAL)

static void
crlset_ext_name(X509_EXTENSION *ext, char *buf, size_t len)
{
	if (OBJ_obj2txt(buf, (int)len, X509_EXTENSION_get_object(ext), 0) <= 0)
		snprintf(buf, len, "?");
}

/*
 * What OpenSSL's CRL check would not have taken either (an unhandled
 * critical extension fails every client), and what a set of serials of one
 * issuer cannot stand for: a delta CRL or a partial one (an
 * issuingDistributionPoint scopes it to some certificates or reasons).
 */
static int
crlset_check_crl_exts(X509_CRL *crl, char *err, size_t errlen)
{
	X509_EXTENSION	*ext;
	char		 name[80];
	int		 i, nid;

	for (i = 0; i < X509_CRL_get_ext_count(crl); i++) {
		ext = X509_CRL_get_ext(crl, i);
		nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
		crlset_ext_name(ext, name, sizeof(name));
		if (nid == NID_delta_crl || nid == NID_issuing_distribution_point) {
			snprintf(err, errlen, "CRL has a %s extension: a delta "
			    "or partial CRL; takd needs its CA's complete "
			    "CRL", name);
			return (-1);
		}
		if (X509_EXTENSION_get_critical(ext) &&
		    nid != NID_authority_key_identifier) {
			snprintf(err, errlen, "CRL has a critical extension "
			    "takd does not handle: %s", name);
			return (-1);
		}
	}
	return (0);
}

/*
 * The last revocation date converted: entries revoked together share it,
 * and converting each one is a good part of the build (a million of them).
 */
struct crlset_when {
	unsigned char	 der[32];
	int		 len;
	int		 type;		/* UTCTime or GeneralizedTime */
	int64_t		 t;
};

static int64_t
crlset_when(struct crlset_when *w, const ASN1_TIME *at)
{
	const unsigned char	*p;
	int			 len;

	if (at == NULL)
		return (0);
	p = ASN1_STRING_get0_data(at);
	len = ASN1_STRING_length(at);
	if (len > 0 && len == w->len && ASN1_STRING_type(at) == w->type &&
	    memcmp(p, w->der, (size_t)len) == 0)
		return (w->t);
	w->t = (int64_t)pki_asn1_time(at);
	w->type = ASN1_STRING_type(at);
	w->len = len > 0 && (size_t)len <= sizeof(w->der) ? len : 0;
	if (w->len > 0)
		memcpy(w->der, p, (size_t)len);
	return (w->t);
}

/* One CRL entry into e: 1 kept, 0 left out (removeFromCRL), -1 refused. */
static int
crlset_entry_fill(X509_REVOKED *rev, size_t i, struct crlset_entry *e,
    struct crlset_when *when, char *err, size_t errlen)
{
	X509_EXTENSION	*ext;
	char		 name[80];
	int		 j, n, nid, reason = CRL_REASON_NONE;

	n = X509_REVOKED_get_ext_count(rev);
	for (j = 0; j < n; j++) {
		ext = X509_REVOKED_get_ext(rev, j);
		nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
		crlset_ext_name(ext, name, sizeof(name));
		if (nid == NID_certificate_issuer) {
			snprintf(err, errlen, "CRL entry %zu names another "
			    "issuer (an indirect CRL)", i);
			return (-1);
		}
		/* As OpenSSL: any critical entry extension is unhandled. */
		if (X509_EXTENSION_get_critical(ext)) {
			snprintf(err, errlen, "CRL entry %zu has a critical "
			    "extension takd does not handle: %s", i, name);
			return (-1);
		}
	}
	if (n > 0)
		reason = pki_revoked_reason(rev);
	if (reason == CRL_REASON_REMOVE_FROM_CRL)
		return (0);	/* listed, no longer revoked */
	crlset_key(X509_REVOKED_get0_serialNumber(rev), e);
	e->reason = (int8_t)(reason <= CRL_REASON_AA_COMPROMISE ? reason : -2);
	e->revoked_at = crlset_when(when,
	    X509_REVOKED_get0_revocationDate(rev));
	return (1);
}

/* By key, then the earliest revocation first (the one kept). */
static int
crlset_sort_cmp(const void *va, const void *vb)
{
	const struct crlset_entry	*a = va, *b = vb;
	int				 c;

	if ((c = crlset_entry_cmp(a, b)) != 0)
		return (c);
	if (a->revoked_at != b->revoked_at)
		return (a->revoked_at < b->revoked_at ? -1 : 1);
	return (a->reason < b->reason ? -1 : a->reason > b->reason);
}

/* CRLs usually come sorted by serial already: then no sort is needed. */
static int
crlset_sorted(const struct crlset_entry *ent, size_t n)
{
	size_t	 i;

	for (i = 1; i < n; i++)
		if (crlset_sort_cmp(&ent[i - 1], &ent[i]) > 0)
			return (0);
	return (1);
}

static size_t
crlset_dedup(struct crlset_entry *ent, size_t n)
{
	size_t	 i, j = 0;

	for (i = 0; i < n; i++)
		if (j == 0 || crlset_entry_cmp(&ent[j - 1], &ent[i]) != 0)
			ent[j++] = ent[i];
	return (j);
}

static int
crlset_fill_hdr(struct crlset_hdr *h, X509_CRL *crl, X509 *signer,
    size_t n, size_t n_crl, char *err, size_t errlen)
{
	const X509_NAME	*issuer = X509_CRL_get_issuer(crl);
	unsigned char	*p = h->issuer;
	unsigned int	 mdlen = 0;
	int		 len;

	memset(h, 0, CRLSET_HDR_SIZE);
	h->magic = CRLSET_MAGIC;
	h->version = CRLSET_VERSION;
	h->size = CRLSET_HDR_SIZE + n * sizeof(struct crlset_entry);
	h->n = n;
	h->crl_entries = n_crl;
	h->last_update = pki_asn1_time(X509_CRL_get0_lastUpdate(crl));
	h->next_update = pki_asn1_time(X509_CRL_get0_nextUpdate(crl));
	if (h->last_update <= 0) {
		snprintf(err, errlen, "CRL has no valid lastUpdate");
		return (-1);
	}
	if ((len = i2d_X509_NAME(issuer, NULL)) <= 0 ||
	    len > CRLSET_ISSUER_MAX || i2d_X509_NAME(issuer, &p) != len) {
		snprintf(err, errlen, "CRL issuer name unusable (%d bytes, at "
		    "most %d)", len, CRLSET_ISSUER_MAX);
		return (-1);
	}
	h->issuer_len = (uint32_t)len;
	if (!X509_pubkey_digest(signer, EVP_sha256(), h->signer, &mdlen) ||
	    mdlen != CRLSET_DIGEST_LEN) {
		snprintf(err, errlen, "cannot digest the CRL signer's key");
		return (-1);
	}
	return (0);
}

int
crlset_build(int fd, X509_CRL *crl, X509 *signer, char *err, size_t errlen)
{
	STACK_OF(X509_REVOKED)	*revs = X509_CRL_get_REVOKED(crl);
	struct crlset_entry	*ent;
	struct crlset_when	 when;
	uint8_t			*map = MAP_FAILED;
	size_t			 n_crl, n = 0, i, size = 0;
	int			 r;

	n_crl = revs != NULL ? (size_t)sk_X509_REVOKED_num(revs) : 0;
	if (crlset_check_crl_exts(crl, err, errlen) == -1)
		goto fail;
	if (n_crl > CRLSET_ENTRIES_MAX) {
		snprintf(err, errlen, "CRL has %zu entries, more than %u",
		    n_crl, CRLSET_ENTRIES_MAX);
		goto fail;
	}
	size = CRLSET_HDR_SIZE + n_crl * sizeof(*ent);
	if (ftruncate(fd, (off_t)size) == -1 || (map = mmap(NULL, size,
	    PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		snprintf(err, errlen, "CRL set of %zu bytes: %s", size,
		    strerror(errno));
		goto fail;
	}
	ent = (struct crlset_entry *)(void *)(map + CRLSET_HDR_SIZE);
	memset(&when, 0, sizeof(when));
	for (i = 0; i < n_crl; i++) {
		r = crlset_entry_fill(sk_X509_REVOKED_value(revs, (int)i), i,
		    &ent[n], &when, err, errlen);
		if (r == -1)
			goto fail;
		n += (size_t)r;
	}
	if (!crlset_sorted(ent, n))
		qsort(ent, n, sizeof(*ent), crlset_sort_cmp);
	n = crlset_dedup(ent, n);
	if (crlset_fill_hdr((struct crlset_hdr *)(void *)map, crl, signer, n,
	    n_crl, err, errlen) == -1)
		goto fail;
	/* No writable mapping may remain when F_SEAL_WRITE is added. */
	munmap(map, size);
	map = MAP_FAILED;
	size = CRLSET_HDR_SIZE + n * sizeof(*ent);
	if (ftruncate(fd, (off_t)size) == -1 ||
	    fcntl(fd, F_ADD_SEALS, CRLSET_SEAL_ALL) == -1) {
		snprintf(err, errlen, "CRL set: sealing: %s", strerror(errno));
		goto fail;
	}
	ERR_clear_error();
	return (0);
fail:
	if (map != MAP_FAILED)
		munmap(map, size);
	ERR_clear_error();
	return (-1);
}
