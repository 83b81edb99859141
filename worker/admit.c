/*
 * Admission before authentication: see admit.h for the policy.
 *
 * Sources are a chained hash table keyed by a seeded hash of the address
 * (the seed is random per worker, so a peer cannot aim its /64s at one
 * chain).  A source exists while it has handshakes; it holds their count and
 * its FRESH ones, oldest first, so that its victim is found without a walk.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "worker/admit.h"

#define ADMIT_FIRST_BUCKETS	64

struct admit_src {
	struct admit_key	 key;
	unsigned		 n;	/* handshakes of this source */
	struct admit_list	 fresh;	/* its FRESH ones, oldest first */
	struct admit_src	*next;	/* hash chain */
};

static uint64_t
admit_hash(const struct admit *a, const struct admit_key *k)
{
	uint64_t	 h = a->seed ^ 0x9e3779b97f4a7c15ULL;
	size_t		 i;

	/* Per byte, then a strong finalizer (splitmix64's). */
	for (i = 0; i < ADMIT_KEY_LEN; i++)
		h = (h ^ k->b[i]) * 0x100000001b3ULL;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return (h);
}

int
admit_init(struct admit *a, unsigned max_total, unsigned max_per_src,
    uint64_t seed)
{
	memset(a, 0, sizeof(*a));
	TAILQ_INIT(&a->fresh);
	TAILQ_INIT(&a->hello);
	a->max_total = max_total;
	a->max_per_src = max_per_src;
	a->seed = seed;
	if (max_per_src > 0) {
		a->nb = ADMIT_FIRST_BUCKETS;
		if ((a->b = calloc(a->nb, sizeof(*a->b))) == NULL)
			return (-1);
	}
	a->magic = ADMIT_MAGIC;
	return (0);
}

void
admit_free(struct admit *a)
{
	struct admit_src	*s, *next;
	size_t			 i;

	for (i = 0; i < a->nb; i++)
		for (s = a->b[i]; s != NULL; s = next) {
			next = s->next;
			free(s);
		}
	free(a->b);
	a->b = NULL;
	a->nb = a->nsrc = 0;
	a->magic = 0;
}

void
admit_key_set(struct admit_key *k, const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	memset(k, 0, sizeof(*k));
	if (sa->sa_family == AF_INET && len >= sizeof(*sin)) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		k->b[0] = AF_INET;
		memcpy(k->b + 1, &sin->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6 && len >= sizeof(*sin6)) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		/* A dual-stack listener's IPv4 peer is that IPv4 address. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			k->b[0] = AF_INET;
			memcpy(k->b + 1, &sin6->sin6_addr.s6_addr[12], 4);
		} else {
			/* A host gets a /64 and picks addresses in it freely. */
			k->b[0] = AF_INET6;
			memcpy(k->b + 1, &sin6->sin6_addr, 8);
		}
	} else
		k->b[0] = (unsigned char)sa->sa_family;
}

void
admit_key_format(const struct admit_key *k, char *buf, size_t len)
{
	struct in6_addr	 a6;
	char		 s[INET6_ADDRSTRLEN];

	snprintf(buf, len, "?");
	if (k->b[0] == AF_INET) {
		if (inet_ntop(AF_INET, k->b + 1, s, sizeof(s)) != NULL)
			snprintf(buf, len, "%s", s);
	} else if (k->b[0] == AF_INET6) {
		memset(&a6, 0, sizeof(a6));
		memcpy(&a6, k->b + 1, 8);
		if (inet_ntop(AF_INET6, &a6, s, sizeof(s)) != NULL)
			snprintf(buf, len, "%s/64", s);
	} else if (k->b[0] == AF_UNIX)
		snprintf(buf, len, "unix");
}

static struct admit_src *
admit_src_find(const struct admit *a, const struct admit_key *k)
{
	struct admit_src	*s;

	if (a->nb == 0)
		return (NULL);
	for (s = a->b[admit_hash(a, k) & (a->nb - 1)]; s != NULL; s = s->next)
		if (memcmp(s->key.b, k->b, ADMIT_KEY_LEN) == 0)
			return (s);
	return (NULL);
}

/* Double the buckets; on failure the chains just get longer. */
static void
admit_grow(struct admit *a)
{
	struct admit_src	**b, *s, *next;
	size_t			  nb = a->nb * 2, i, h;

	if (nb < a->nb || (b = calloc(nb, sizeof(*b))) == NULL)
		return;
	for (i = 0; i < a->nb; i++)
		for (s = a->b[i]; s != NULL; s = next) {
			next = s->next;
			h = admit_hash(a, &s->key) & (nb - 1);
			s->next = b[h];
			b[h] = s;
		}
	free(a->b);
	a->b = b;
	a->nb = nb;
}

static void
admit_src_drop(struct admit *a, struct admit_src *s)
{
	struct admit_src	**pp;

	for (pp = &a->b[admit_hash(a, &s->key) & (a->nb - 1)]; *pp != NULL;
	    pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			a->nsrc--;
			break;
		}
	free(s);
}

unsigned
admit_src_count(const struct admit *a, const struct admit_key *k)
{
	const struct admit_src	*s = admit_src_find(a, k);

	return (s != NULL ? s->n : 0);
}

enum admit_verdict
admit_check(const struct admit *a, const struct admit_key *k,
    struct admit_node **victim)
{
	const struct admit_src	*s;

	*victim = NULL;
	if (a->max_per_src > 0 && (s = admit_src_find(a, k)) != NULL &&
	    s->n >= a->max_per_src) {
		if ((*victim = TAILQ_FIRST(&s->fresh)) != NULL)
			return (ADMIT_EVICT_ADDR);
		return (ADMIT_REFUSE_ADDR);
	}
	if (a->max_total > 0 && a->n >= a->max_total) {
		if ((*victim = TAILQ_FIRST(&a->fresh)) != NULL ||
		    (*victim = TAILQ_FIRST(&a->hello)) != NULL)
			return (ADMIT_EVICT_FULL);
		return (ADMIT_REFUSE_FULL);
	}
	return (ADMIT_OK);
}

int
admit_add(struct admit *a, struct admit_node *n, const struct admit_key *k)
{
	struct admit_src	*s = NULL;
	size_t			 h;

	memset(n, 0, sizeof(*n));
	if (a->max_per_src > 0 && (s = admit_src_find(a, k)) == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return (-1);
		s->key = *k;
		TAILQ_INIT(&s->fresh);
		if (a->nsrc >= a->nb)
			admit_grow(a);
		h = admit_hash(a, k) & (a->nb - 1);
		s->next = a->b[h];
		a->b[h] = s;
		a->nsrc++;
	}
	n->src = s;
	n->level = ADMIT_FRESH;
	TAILQ_INSERT_TAIL(&a->fresh, n, lvl_entry);
	if (s != NULL) {
		TAILQ_INSERT_TAIL(&s->fresh, n, src_entry);
		s->n++;
	}
	n->linked = true;
	a->n++;
	return (0);
}

/* Take n off the level lists (and its source's FRESH list). */
static void
admit_unlist(struct admit *a, struct admit_node *n)
{
	switch (n->level) {
	case ADMIT_FRESH:
		TAILQ_REMOVE(&a->fresh, n, lvl_entry);
		if (n->src != NULL)
			TAILQ_REMOVE(&n->src->fresh, n, src_entry);
		break;
	case ADMIT_HELLO:
		TAILQ_REMOVE(&a->hello, n, lvl_entry);
		break;
	case ADMIT_AUTH:
		break;
	}
}

void
admit_raise(struct admit *a, struct admit_node *n, enum admit_level level)
{
	if (!n->linked || level <= n->level)
		return;
	admit_unlist(a, n);
	n->level = level;
	/* Appended: the list stays in the order they got there. */
	if (level == ADMIT_HELLO)
		TAILQ_INSERT_TAIL(&a->hello, n, lvl_entry);
}

void
admit_del(struct admit *a, struct admit_node *n)
{
	if (!n->linked)
		return;
	admit_unlist(a, n);
	if (n->src != NULL && --n->src->n == 0)
		admit_src_drop(a, n->src);
	n->src = NULL;
	n->linked = false;
	a->n--;
}
