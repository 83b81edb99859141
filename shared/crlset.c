/*
 * The revoked-serial set: mapping, checking and looking up (crlset.h).
 * Every process that maps a set checks it whole first: the memfd comes from
 * another process, and a lookup trusts the order of the entries.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "shared/crlset.h"

#define CRLSET_OBJ_MAGIC	0x43534554u	/* "CSET" */
#define CRLSET_SEALS		(F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW)

_Static_assert(sizeof(struct crlset_entry) == 32, "entry layout");
_Static_assert(sizeof(struct crlset_hdr) <= CRLSET_HDR_SIZE, "header");

struct crlset {
	unsigned		 magic;
	const uint8_t		*map;
	size_t			 maplen;
	const struct crlset_hdr	*hdr;
	const struct crlset_entry *ent;
	size_t			 n;
	X509_NAME		*issuer;
};

int
crlset_entry_cmp(const struct crlset_entry *a, const struct crlset_entry *b)
{
	if (a->neg != b->neg)
		return (a->neg > b->neg ? -1 : 1);
	if (a->len != b->len)
		return (a->len < b->len ? -1 : 1);
	/* Bytes past len are zero in both. */
	return (memcmp(a->serial, b->serial, sizeof(a->serial)));
}

void
crlset_key(const ASN1_INTEGER *ai, struct crlset_entry *e)
{
	const unsigned char	*p = ASN1_STRING_get0_data(ai);
	int			 len = ASN1_STRING_length(ai);
	unsigned char		 md[EVP_MAX_MD_SIZE];

	memset(e, 0, sizeof(*e));
	/* OpenSSL keeps the magnitude; zero may come as one zero byte. */
	while (len > 0 && *p == 0) {
		p++;
		len--;
	}
	e->neg = len > 0 && ASN1_STRING_type(ai) == V_ASN1_NEG_INTEGER;
	if (len <= CRLSET_SERIAL_MAX) {
		if (len > 0)
			memcpy(e->serial, p, (size_t)len);
		e->len = (uint8_t)len;
		return;
	}
	if (!EVP_Digest(p, (size_t)len, md, NULL, EVP_sha256(), NULL)) {
		/* Out of memory: a key that matches nothing real. */
		memset(md, 0xff, sizeof(md));
		ERR_clear_error();
	}
	memcpy(e->serial, md, CRLSET_SERIAL_MAX);
	e->len = CRLSET_HASHED;
}

static int
crlset_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
crlset_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	n = snprintf(err, errlen, "CRL set: ");
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return (-1);
}

static int
crlset_zero(const uint8_t *p, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (p[i] != 0)
			return (0);
	return (1);
}

static int
crlset_check_hdr(const struct crlset_hdr *h, size_t size, char *err,
    size_t errlen)
{
	const uint8_t	*raw = (const uint8_t *)h;

	if (h->magic != CRLSET_MAGIC || h->version != CRLSET_VERSION)
		return (crlset_err(err, errlen, "bad magic or version "
		    "(%#x, %u)", h->magic, h->version));
	if (h->size != size)
		return (crlset_err(err, errlen, "header says %llu bytes, the "
		    "descriptor has %zu", (unsigned long long)h->size, size));
	if (h->n != (size - CRLSET_HDR_SIZE) / sizeof(struct crlset_entry) ||
	    h->crl_entries < h->n)
		return (crlset_err(err, errlen, "%llu entries (of %llu) in "
		    "%zu bytes", (unsigned long long)h->n,
		    (unsigned long long)h->crl_entries, size));
	if (h->issuer_len == 0 || h->issuer_len > CRLSET_ISSUER_MAX ||
	    h->zero != 0 || h->last_update <= 0 || h->next_update < 0)
		return (crlset_err(err, errlen, "malformed header"));
	/* Nothing hides in the padding. */
	if (!crlset_zero(h->issuer + h->issuer_len, CRLSET_ISSUER_MAX -
	    h->issuer_len) || !crlset_zero(raw + sizeof(*h),
	    CRLSET_HDR_SIZE - sizeof(*h)))
		return (crlset_err(err, errlen, "header padding not zero"));
	return (0);
}

static int
crlset_check_entries(const struct crlset_entry *ent, size_t n, char *err,
    size_t errlen)
{
	const struct crlset_entry *e;
	size_t			 i;

	for (i = 0; i < n; i++) {
		e = &ent[i];
		if ((e->len > CRLSET_SERIAL_MAX && e->len != CRLSET_HASHED) ||
		    e->neg > 1 || e->zero != 0 || e->reason < -2 ||
		    e->reason > CRL_REASON_AA_COMPROMISE ||
		    e->reason == CRL_REASON_REMOVE_FROM_CRL)
			return (crlset_err(err, errlen, "entry %zu malformed",
			    i));
		/* One encoding per serial: no leading zero, no -0. */
		if (e->len != CRLSET_HASHED && ((e->len > 0 &&
		    e->serial[0] == 0) || (e->len == 0 && e->neg) ||
		    !crlset_zero(e->serial + e->len, CRLSET_SERIAL_MAX -
		    e->len)))
			return (crlset_err(err, errlen, "entry %zu: serial "
			    "not canonical", i));
		if (i > 0 && crlset_entry_cmp(&ent[i - 1], e) >= 0)
			return (crlset_err(err, errlen, "entry %zu out of "
			    "order or repeated", i));
	}
	return (0);
}

struct crlset *
crlset_map(int fd, char *err, size_t errlen)
{
	struct crlset		*s = NULL;
	struct stat		 st;
	const unsigned char	*p;
	void			*map = MAP_FAILED;
	size_t			 size;
	int			 seals;

	if (fstat(fd, &st) == -1) {
		crlset_err(err, errlen, "fstat: %s", strerror(errno));
		return (NULL);
	}
	if (st.st_size < CRLSET_HDR_SIZE || (size_t)st.st_size >
	    CRLSET_HDR_SIZE + (size_t)CRLSET_ENTRIES_MAX *
	    sizeof(struct crlset_entry) || (st.st_size - CRLSET_HDR_SIZE) %
	    sizeof(struct crlset_entry) != 0) {
		crlset_err(err, errlen, "size %lld out of range",
		    (long long)st.st_size);
		return (NULL);
	}
	size = (size_t)st.st_size;
	/* Sealed, the bytes checked here are the bytes looked up later. */
	if ((seals = fcntl(fd, F_GET_SEALS)) == -1 ||
	    (seals & CRLSET_SEALS) != CRLSET_SEALS) {
		crlset_err(err, errlen, "descriptor not sealed%s%s",
		    seals == -1 ? ": " : "", seals == -1 ? strerror(errno) :
		    "");
		return (NULL);
	}
	if ((map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0)) ==
	    MAP_FAILED) {
		crlset_err(err, errlen, "mmap: %s", strerror(errno));
		return (NULL);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		crlset_err(err, errlen, "out of memory");
		goto fail;
	}
	s->magic = CRLSET_OBJ_MAGIC;
	s->map = map;
	s->maplen = size;
	s->hdr = map;
	s->ent = (const struct crlset_entry *)(const void *)(s->map +
	    CRLSET_HDR_SIZE);
	if (crlset_check_hdr(s->hdr, size, err, errlen) == -1)
		goto fail;
	s->n = (size_t)s->hdr->n;
	p = s->hdr->issuer;
	if ((s->issuer = d2i_X509_NAME(NULL, &p, s->hdr->issuer_len)) ==
	    NULL || p != s->hdr->issuer + s->hdr->issuer_len) {
		crlset_err(err, errlen, "issuer name undecodable");
		goto fail;
	}
	if (crlset_check_entries(s->ent, s->n, err, errlen) == -1)
		goto fail;
	ERR_clear_error();
	return (s);
fail:
	ERR_clear_error();
	if (s != NULL) {
		X509_NAME_free(s->issuer);
		free(s);
	}
	munmap(map, size);
	return (NULL);
}

void
crlset_free(struct crlset *s)
{
	if (s == NULL)
		return;
	X509_NAME_free(s->issuer);
	munmap((void *)(uintptr_t)s->map, s->maplen);
	s->magic = 0;
	free(s);
}

size_t
crlset_count(const struct crlset *s)
{
	return (s->n);
}

size_t
crlset_crl_entries(const struct crlset *s)
{
	return ((size_t)s->hdr->crl_entries);
}

time_t
crlset_last_update(const struct crlset *s)
{
	return ((time_t)s->hdr->last_update);
}

time_t
crlset_next_update(const struct crlset *s)
{
	return ((time_t)s->hdr->next_update);
}

const X509_NAME *
crlset_issuer(const struct crlset *s)
{
	return (s->issuer);
}

int
crlset_stale(const struct crlset *s, time_t now)
{
	return (s->hdr->next_update != 0 && now > s->hdr->next_update);
}

int
crlset_covers(const struct crlset *s, const X509_NAME *issuer)
{
	return (issuer != NULL && X509_NAME_cmp(issuer, s->issuer) == 0);
}

int
crlset_signed_by(const struct crlset *s, X509 *x)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 len = 0;

	if (x == NULL || !X509_pubkey_digest(x, EVP_sha256(), md, &len) ||
	    len != CRLSET_DIGEST_LEN) {
		ERR_clear_error();
		return (0);
	}
	return (memcmp(md, s->hdr->signer, CRLSET_DIGEST_LEN) == 0);
}

int
crlset_check_ca(const struct crlset *s, STACK_OF(X509) *ca, char *err,
    size_t errlen)
{
	X509	*x;
	int	 i;

	for (i = 0; i < sk_X509_num(ca); i++) {
		x = sk_X509_value(ca, i);
		if (X509_NAME_cmp(X509_get_subject_name(x), s->issuer) == 0 &&
		    crlset_signed_by(s, x))
			return (0);
	}
	return (crlset_err(err, errlen, "not the CRL of a configured CA"));
}

int
crlset_find(const struct crlset *s, const ASN1_INTEGER *serial,
    const struct crlset_entry **hit)
{
	struct crlset_entry	 key;
	size_t			 lo = 0, hi = s->n, mid;
	int			 c;

	if (serial == NULL)
		return (0);
	crlset_key(serial, &key);
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = crlset_entry_cmp(&key, &s->ent[mid])) == 0) {
			if (hit != NULL)
				*hit = &s->ent[mid];
			return (1);
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (0);
}
