/*
 * Failed-login counting and delays (throttle.h).
 *
 * Each table is an array of slots with hash chains (bucket heads and a
 * next index per slot, both int32) and a free list.  The hash is FNV-1a
 * from a random seed per table, so that the chains an attacker's names
 * fall into are not known in advance; a chain is at worst the whole
 * (bounded) table.  A full table reuses the slot failed least recently,
 * found by one pass over the slots: only when full, and only on a failure,
 * which has already cost a password hash.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "api/throttle.h"
#include "shared/users.h"

#define THROTTLE_MAGIC		0x7468726f	/* "thro" */
#define THROTTLE_KEY_MAX	(USERS_NAME_MAX - 1)
#define THROTTLE_FAILS_MAX	100000		/* a count saturates there */
#define THROTTLE_NONE		(-1)

struct throttle_slot {
	int32_t		 next;		/* in its chain or the free list */
	uint32_t	 hash;
	bool		 used;
	unsigned	 fails;
	time_t		 last;		/* of the latest failure */
	uint8_t		 keylen;
	unsigned char	 key[THROTTLE_KEY_MAX];
};

struct throttle_tab {
	struct throttle_slot	*slot;
	int32_t			*head;		/* nbuckets chain heads */
	size_t			 n;		/* slots, = buckets, 2^k */
	size_t			 used;
	int32_t			 free;
	uint32_t		 seed;
};

struct throttle {
	unsigned		 magic;
	struct throttle_tab	 user;
	struct throttle_tab	 addr;
	struct throttle_counters cnt;
};

/* A source address as counted: family tag and address or /64 prefix. */
struct throttle_addr {
	unsigned char	 b[9];
	size_t		 len;
};

unsigned
throttle_delay(unsigned n, unsigned free)
{
	unsigned	 over;

	if (n <= free)
		return (0);
	over = n - free - 1;		/* 0 for the first delayed failure */
	if (over >= 6)			/* 1 << 6 = 64 > THROTTLE_DELAY_MAX */
		return (THROTTLE_DELAY_MAX);
	return (THROTTLE_DELAY_FIRST << over > THROTTLE_DELAY_MAX ?
	    THROTTLE_DELAY_MAX : THROTTLE_DELAY_FIRST << over);
}

static uint32_t
throttle_hash(uint32_t seed, const unsigned char *k, size_t len)
{
	uint32_t	 h = 2166136261u ^ seed;
	size_t		 i;

	for (i = 0; i < len; i++) {
		h ^= k[i];
		h *= 16777619u;
	}
	return (h);
}

static int
throttle_tab_init(struct throttle_tab *t, size_t n)
{
	size_t	 i;

	t->n = n;
	if ((t->slot = calloc(n, sizeof(*t->slot))) == NULL ||
	    (t->head = calloc(n, sizeof(*t->head))) == NULL)
		return (-1);
	for (i = 0; i < n; i++) {
		t->head[i] = THROTTLE_NONE;
		t->slot[i].next = i + 1 < n ? (int32_t)(i + 1) : THROTTLE_NONE;
	}
	t->free = 0;
	if (RAND_bytes((unsigned char *)&t->seed, sizeof(t->seed)) != 1)
		return (-1);
	return (0);
}

static void
throttle_tab_free(struct throttle_tab *t)
{
	free(t->slot);
	free(t->head);
}

struct throttle *
throttle_new(size_t slots)
{
	struct throttle	*t;
	size_t		 n = 1;

	if (slots == 0)
		slots = THROTTLE_SLOTS;
	if (slots > THROTTLE_SLOTS_MAX)
		return (NULL);
	while (n < slots)
		n <<= 1;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (NULL);
	if (throttle_tab_init(&t->user, n) == -1 ||
	    throttle_tab_init(&t->addr, n) == -1) {
		throttle_tab_free(&t->user);
		throttle_tab_free(&t->addr);
		free(t);
		return (NULL);
	}
	t->magic = THROTTLE_MAGIC;
	return (t);
}

void
throttle_free(struct throttle *t)
{
	if (t == NULL)
		return;
	throttle_tab_free(&t->user);
	throttle_tab_free(&t->addr);
	t->magic = 0;
	free(t);
}

static void
throttle_unlink(struct throttle_tab *t, int32_t i)
{
	struct throttle_slot	*s = &t->slot[i];
	int32_t			*p = &t->head[s->hash & (t->n - 1)];

	while (*p != i)
		p = &t->slot[*p].next;
	*p = s->next;
	memset(s, 0, sizeof(*s));
	s->next = t->free;
	t->free = i;
	t->used--;
}

/* The slot of key, or THROTTLE_NONE; a slot gone quiet is freed first. */
static int32_t
throttle_find(struct throttle_tab *t, time_t now, const unsigned char *key,
    size_t len)
{
	uint32_t		 h = throttle_hash(t->seed, key, len);
	int32_t			 i;
	struct throttle_slot	*s;

	for (i = t->head[h & (t->n - 1)]; i != THROTTLE_NONE; i = s->next) {
		s = &t->slot[i];
		if (s->hash != h || s->keylen != len ||
		    memcmp(s->key, key, len) != 0)
			continue;
		/* A clock set back counts as no time passed. */
		if (now > s->last && now - s->last >= THROTTLE_QUIET) {
			throttle_unlink(t, i);
			return (THROTTLE_NONE);
		}
		return (i);
	}
	return (THROTTLE_NONE);
}

/* A slot for a new key: a free one, else the least recently failed. */
static int32_t
throttle_take(struct throttle *th, struct throttle_tab *t, time_t now,
    const unsigned char *key, size_t len)
{
	struct throttle_slot	*s;
	int32_t			 i, old = THROTTLE_NONE;
	size_t			 j;

	if (t->free == THROTTLE_NONE) {
		for (j = 0; j < t->n; j++)
			if (old == THROTTLE_NONE ||
			    t->slot[j].last < t->slot[old].last)
				old = (int32_t)j;
		if (now <= t->slot[old].last ||
		    now - t->slot[old].last < THROTTLE_QUIET)
			th->cnt.evictions++;
		throttle_unlink(t, old);
	}
	i = t->free;
	s = &t->slot[i];
	t->free = s->next;
	s->used = true;
	s->hash = throttle_hash(t->seed, key, len);
	s->keylen = (uint8_t)len;
	memcpy(s->key, key, len);
	s->next = t->head[s->hash & (t->n - 1)];
	t->head[s->hash & (t->n - 1)] = i;
	t->used++;
	return (i);
}

static void
throttle_addr_key(const struct sockaddr *sa, struct throttle_addr *k)
{
	const struct sockaddr_in	*s4;
	const struct sockaddr_in6	*s6;

	memset(k, 0, sizeof(*k));
	k->len = 1;
	if (sa == NULL) {
		k->b[0] = '?';
	} else if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		k->b[0] = '4';
		memcpy(k->b + 1, &s4->sin_addr, 4);
		k->len = 5;
	} else if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			k->b[0] = '4';
			memcpy(k->b + 1, s6->sin6_addr.s6_addr + 12, 4);
			k->len = 5;
		} else {
			/* The /64: the rest is the host's to choose. */
			k->b[0] = '6';
			memcpy(k->b + 1, s6->sin6_addr.s6_addr, 8);
			k->len = 9;
		}
	} else
		k->b[0] = '?';
}

static size_t
throttle_user_len(const char *user)
{
	return (user == NULL ? 0 : strnlen(user, THROTTLE_KEY_MAX));
}

static unsigned
throttle_fails(struct throttle_tab *t, time_t now, const unsigned char *key,
    size_t len)
{
	int32_t	 i;

	if (len == 0 || (i = throttle_find(t, now, key, len)) == THROTTLE_NONE)
		return (0);
	return (t->slot[i].fails);
}

unsigned
throttle_check(struct throttle *t, time_t now, const struct sockaddr *addr,
    const char *user)
{
	struct throttle_addr	 k;
	unsigned		 du, da;

	if (t->magic != THROTTLE_MAGIC)
		abort();
	throttle_addr_key(addr, &k);
	du = throttle_delay(throttle_fails(&t->user, now,
	    (const unsigned char *)user, throttle_user_len(user)),
	    THROTTLE_USER_FREE);
	da = throttle_delay(throttle_fails(&t->addr, now, k.b, k.len),
	    THROTTLE_ADDR_FREE);
	t->cnt.checks++;
	if (du > 0 || da > 0)
		t->cnt.delayed++;
	return (du > da ? du : da);
}

static void
throttle_count(struct throttle *th, struct throttle_tab *t, time_t now,
    const unsigned char *key, size_t len)
{
	struct throttle_slot	*s;
	int32_t			 i;

	if (len == 0)
		return;
	if ((i = throttle_find(t, now, key, len)) == THROTTLE_NONE)
		i = throttle_take(th, t, now, key, len);
	s = &t->slot[i];
	if (s->fails < THROTTLE_FAILS_MAX)
		s->fails++;
	s->last = now;
}

void
throttle_fail(struct throttle *t, time_t now, const struct sockaddr *addr,
    const char *user)
{
	struct throttle_addr	 k;

	if (t->magic != THROTTLE_MAGIC)
		abort();
	throttle_addr_key(addr, &k);
	throttle_count(t, &t->user, now, (const unsigned char *)user,
	    throttle_user_len(user));
	throttle_count(t, &t->addr, now, k.b, k.len);
	t->cnt.failures++;
}

void
throttle_ok(struct throttle *t, time_t now, const struct sockaddr *addr,
    const char *user)
{
	struct throttle_addr	 k;
	size_t			 len = throttle_user_len(user);
	int32_t			 i;

	if (t->magic != THROTTLE_MAGIC)
		abort();
	throttle_addr_key(addr, &k);
	if (len > 0 && (i = throttle_find(&t->user, now,
	    (const unsigned char *)user, len)) != THROTTLE_NONE)
		throttle_unlink(&t->user, i);
	if ((i = throttle_find(&t->addr, now, k.b, k.len)) != THROTTLE_NONE)
		throttle_unlink(&t->addr, i);
	t->cnt.successes++;
}

void
throttle_counters(const struct throttle *t, struct throttle_counters *c)
{
	*c = t->cnt;
	c->users = t->user.used;
	c->addrs = t->addr.used;
}

bool
throttle_addr(const char *addr, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		return (true);
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		return (true);
	}
	return (false);
}
