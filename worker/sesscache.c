/*
 * The workers' shared TLS 1.3 session cache: see sesscache.h.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/crypto.h>

#include "shared/log.h"
#include "worker/sesscache.h"

#define SESSCACHE_MAGIC		0x54534331u	/* "TSC1" */

struct sesscache_slot {
	struct sesscache_rec	 rec;
	int			 used;
};

struct sesscache {
	unsigned		 magic;
	pthread_mutex_t		 mtx;
	struct sesscache_slot	 slots[SESSCACHE_ENTRIES];
};

/* Inherited by every worker across fork(). */
static struct sesscache	*sesscache;

int
sesscache_init(void)
{
	pthread_mutexattr_t	 attr;
	struct sesscache	*sc;

	if (sesscache != NULL)
		return (0);
	sc = mmap(NULL, sizeof(*sc), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sc == MAP_FAILED) {
		log_warn("session cache: mmap of %zu bytes", sizeof(*sc));
		return (-1);
	}
	/*
	 * Secrets stay out of core dumps.  Not locked: pages are touched as
	 * sessions come, as the heap holding every session's keys is.
	 */
	(void)madvise(sc, sizeof(*sc), MADV_DONTDUMP);
	if (pthread_mutexattr_init(&attr) != 0 ||
	    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) != 0 ||
	    pthread_mutex_init(&sc->mtx, &attr) != 0) {
		log_warnx("session cache: cannot make its lock");
		munmap(sc, sizeof(*sc));
		return (-1);
	}
	pthread_mutexattr_destroy(&attr);
	sc->magic = SESSCACHE_MAGIC;
	sesscache = sc;
	return (0);
}

int
sesscache_ready(void)
{
	return (sesscache != NULL && sesscache->magic == SESSCACHE_MAGIC);
}

/* A worker that died holding the lock left at most one slot half written. */
static int
sesscache_lock(void)
{
	int	 r;

	r = pthread_mutex_lock(&sesscache->mtx);
	if (r == EOWNERDEAD)
		r = pthread_mutex_consistent(&sesscache->mtx);
	return (r == 0 ? 0 : -1);
}

/* The first of the SESSCACHE_WAYS slots of an id (ids are random). */
static size_t
sesscache_base(const uint8_t *id, size_t idlen)
{
	uint32_t	 h = 2166136261u;
	size_t		 i;

	for (i = 0; i < idlen; i++)
		h = (h ^ id[i]) * 16777619u;
	return ((h % (SESSCACHE_ENTRIES / SESSCACHE_WAYS)) * SESSCACHE_WAYS);
}

static struct sesscache_slot *
sesscache_find(const uint8_t *id, size_t idlen)
{
	struct sesscache_slot	*s;
	size_t			 b, i;

	b = sesscache_base(id, idlen);
	for (i = 0; i < SESSCACHE_WAYS; i++) {
		s = &sesscache->slots[b + i];
		if (s->used && s->rec.idlen == idlen &&
		    CRYPTO_memcmp(s->rec.id, id, idlen) == 0)
			return (s);
	}
	return (NULL);
}

static void
sesscache_wipe(struct sesscache_slot *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

int
sesscache_put(const struct sesscache_rec *r, int64_t now)
{
	struct sesscache_slot	*s, *victim = NULL;
	size_t			 b, i;

	if (!sesscache_ready() || r->idlen == 0 ||
	    r->idlen > SESSCACHE_ID_MAX || sesscache_lock() == -1)
		return (-1);
	b = sesscache_base(r->id, r->idlen);
	for (i = 0; i < SESSCACHE_WAYS; i++) {
		s = &sesscache->slots[b + i];
		if (!s->used || s->rec.expires <= now) {
			victim = s;
			break;
		}
		if (victim == NULL || s->rec.made < victim->rec.made)
			victim = s;
	}
	sesscache_wipe(victim);
	victim->rec = *r;
	victim->used = 1;
	pthread_mutex_unlock(&sesscache->mtx);
	return (0);
}

/*
 * One use (RFC 8446, 8.1 and C.4): the entry goes as it is copied out,
 * under the lock, so that of two handshakes offering the same ticket, in
 * one worker or two, only the first resumes.
 */
int
sesscache_take(const uint8_t *id, size_t idlen, int64_t now,
    struct sesscache_rec *r)
{
	struct sesscache_slot	*s;
	int			 rv = -1;

	if (!sesscache_ready() || idlen == 0 || idlen > SESSCACHE_ID_MAX ||
	    sesscache_lock() == -1)
		return (-1);
	if ((s = sesscache_find(id, idlen)) != NULL) {
		if (s->rec.expires > now) {
			*r = s->rec;
			rv = 0;
		}
		sesscache_wipe(s);
	}
	pthread_mutex_unlock(&sesscache->mtx);
	return (rv);
}
