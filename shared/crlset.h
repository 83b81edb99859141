/*
 * The CRL in force as a compact, sorted set of revoked serials.
 *
 * OpenSSL keeps a parsed CRL as an object per entry: about 250 bytes each,
 * 300 MB for a million entries, in every process that holds it.  takd parses
 * and verifies a CRL once, in a short-lived process of the supervisor
 * (supervisor/crl.c), and writes what the checks need into a sealed memfd:
 * a header (issuer, the signer's key, dates) and one 32-byte entry per
 * revoked serial, sorted.  Every process maps that memfd read-only: one copy
 * in memory however many workers there are, and a lookup is a binary search.
 *
 * Layout (host byte order: the memfd never leaves the machine):
 *
 *	0		struct crlset_hdr, the rest of CRLSET_HDR_SIZE zero
 *	CRLSET_HDR_SIZE	n struct crlset_entry, strictly increasing
 *			(crlset_entry_cmp), nothing after them
 *
 * A serial is kept as its magnitude without leading zero bytes and a sign;
 * one longer than CRLSET_SERIAL_MAX bytes (RFC 5280 allows 20) as the
 * first bytes of its SHA-256, so that it still matches exactly itself (a
 * collision could only refuse another certificate, never admit a revoked
 * one).  removeFromCRL entries are not revoked and are left out;
 * duplicates are kept once (the earliest revocation).
 */
#ifndef TAKD_CRLSET_H
#define TAKD_CRLSET_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#define CRLSET_MAGIC		0x5445534cu	/* "LSET" */
#define CRLSET_VERSION		1
#define CRLSET_HDR_SIZE		4096
#define CRLSET_SERIAL_MAX	20
#define CRLSET_HASHED		0xff		/* entry len: a digest */
#define CRLSET_ISSUER_MAX	2048		/* DER of the issuer name */
#define CRLSET_DIGEST_LEN	32		/* SHA-256 */
/* A 64 MiB CRL (CRL_FILE_MAX) holds fewer: an entry takes 20 bytes or more. */
#define CRLSET_ENTRIES_MAX	(4u * 1024 * 1024)

struct crlset_hdr {
	uint32_t	 magic;
	uint32_t	 version;
	uint64_t	 size;		/* bytes of the whole memfd */
	uint64_t	 n;		/* entries in the set */
	uint64_t	 crl_entries;	/* entries of the CRL, n or more */
	int64_t		 last_update;
	int64_t		 next_update;	/* 0: the CRL has none */
	uint32_t	 issuer_len;
	uint32_t	 zero;
	uint8_t		 signer[CRLSET_DIGEST_LEN]; /* SHA-256 of its key */
	uint8_t		 issuer[CRLSET_ISSUER_MAX]; /* DER X509_NAME */
};

struct crlset_entry {
	uint8_t		 serial[CRLSET_SERIAL_MAX]; /* zero past len */
	uint8_t		 len;		/* bytes used, or CRLSET_HASHED */
	uint8_t		 neg;		/* 1: a negative serial */
	int8_t		 reason;	/* CRL_REASON_*, CRL_REASON_NONE, -2 */
	uint8_t		 zero;
	int64_t		 revoked_at;	/* 0: unreadable */
};

struct crlset;

/*
 * Map a memfd made by crlset_build() read-only, after checking that it is
 * sealed against writing, shrinking and growing, and that its header and
 * every entry are well formed and in order (so lookups can trust it).  The
 * descriptor may be closed afterwards.  NULL with a message in err.
 */
struct crlset *crlset_map(int fd, char *err, size_t errlen);
void	 crlset_free(struct crlset *);

/* The header's numbers. */
size_t	 crlset_count(const struct crlset *);
size_t	 crlset_crl_entries(const struct crlset *);
time_t	 crlset_last_update(const struct crlset *);
time_t	 crlset_next_update(const struct crlset *);
const X509_NAME *crlset_issuer(const struct crlset *);

/* 1 when the CRL is past its nextUpdate at now. */
int	 crlset_stale(const struct crlset *, time_t now);

/* 1 when the CRL speaks for certificates of this issuer name. */
int	 crlset_covers(const struct crlset *, const X509_NAME *issuer);

/* 1 when the key of x signed the CRL (x is the issuer of a certificate). */
int	 crlset_signed_by(const struct crlset *, X509 *x);

/*
 * 0 when one of the CA certificates has the CRL's issuer as subject and
 * signed it; -1 with a message otherwise (a set from elsewhere).
 */
int	 crlset_check_ca(const struct crlset *, STACK_OF(X509) *ca, char *err,
	    size_t errlen);

/*
 * 1 and the entry when serial is in the set, 0 when not.  The caller
 * checks the issuer (crlset_covers): serials are unique per CA only.
 */
int	 crlset_find(const struct crlset *, const ASN1_INTEGER *serial,
	    const struct crlset_entry **);

/* The key of a serial, as an entry holds it (reason and date zero). */
void	 crlset_key(const ASN1_INTEGER *, struct crlset_entry *);
/* The order of the set: by sign, length, then bytes. */
int	 crlset_entry_cmp(const struct crlset_entry *,
	    const struct crlset_entry *);

/*
 * shared/crlset_build.c: write the set of crl into fd, an empty memfd made
 * with MFD_ALLOW_SEALING, and seal it.  crl must have been verified
 * (tlsctx_crl_parse) and signer is the CA certificate whose key signed it.
 * A CRL the set cannot stand for is refused: a delta CRL, one with an
 * issuingDistributionPoint (a partial CRL), an indirect one (entries of
 * other issuers), any other critical extension OpenSSL would not handle
 * either.  -1 with a message in err.
 */
int	 crlset_build(int fd, X509_CRL *crl, X509 *signer, char *err,
	    size_t errlen);

#endif
