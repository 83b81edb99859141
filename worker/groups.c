/*
 * The worker's table of group names and the sets of ids its sessions hold:
 * see groups.h.
 *
 * The table is a fixed array of GROUPS_MAX entries, hashed into twice as
 * many buckets (chains of indexes): no allocation once made.  Names come
 * from the operator (users file, config, the CA's certificates), never
 * from a client's events, so a plain FNV-1a hash is enough.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/groups.h"

#define GROUPS_MAGIC	0x47525053u	/* "GRPS" */
#define GROUPS_BUCKETS	(2 * GROUPS_MAX)

struct groups_entry {
	char		 name[GROUPLIST_NAME_MAX];
	size_t		 len;
	uint32_t	 refs;		/* sessions holding it; 0: free */
	int32_t		 next;		/* in its bucket, -1 ends */
	uint32_t	 bucket;
};

struct groups {
	unsigned		 magic;
	size_t			 n;	/* entries in use */
	int32_t			 bucket[GROUPS_BUCKETS];
	struct groups_entry	 e[GROUPS_MAX];
};

static const char *const groups_source_names[] = {
	[GROUPS_SRC_NONE] = "none",
	[GROUPS_SRC_LISTENER] = "listener",
	[GROUPS_SRC_USER] = "user",
	[GROUPS_SRC_CERT] = "certificate",
	[GROUPS_SRC_ANON] = "anonymous",
	[GROUPS_SRC_REFUSED] = "refused",
};

const char *
groups_source_name(enum groups_source s)
{
	return ((size_t)s < sizeof(groups_source_names) /
	    sizeof(groups_source_names[0]) ? groups_source_names[s] : "?");
}

void
groups_set_add(struct groups_set *s, unsigned id)
{
	if (id >= GROUPS_MAX)
		return;
	s->w[id / 64] |= (uint64_t)1 << (id % 64);
	if (id / 64 + 1 > s->nw)
		s->nw = id / 64 + 1;
}

bool
groups_set_equal(const struct groups_set *a, const struct groups_set *b)
{
	return (a->nw == b->nw &&
	    memcmp(a->w, b->w, a->nw * sizeof(a->w[0])) == 0);
}

static uint32_t
groups_hash(const char *s, size_t len)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	size_t		 i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return ((uint32_t)(h ^ h >> 32) % GROUPS_BUCKETS);
}

struct groups *
groups_new(void)
{
	struct groups	*t;
	size_t		 i;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (NULL);
	t->magic = GROUPS_MAGIC;
	for (i = 0; i < GROUPS_BUCKETS; i++)
		t->bucket[i] = -1;
	return (t);
}

void
groups_free(struct groups *t)
{
	if (t == NULL)
		return;
	t->magic = 0;
	free(t);
}

size_t
groups_count(const struct groups *t)
{
	return (t != NULL ? t->n : 0);
}

int
groups_id(const struct groups *t, const char *name, size_t len)
{
	int32_t	 i;

	if (t == NULL || len == 0 || len >= GROUPLIST_NAME_MAX)
		return (-1);
	for (i = t->bucket[groups_hash(name, len)]; i != -1; i = t->e[i].next)
		if (t->e[i].len == len && memcmp(t->e[i].name, name, len) == 0)
			return (i);
	return (-1);
}

const char *
groups_name(const struct groups *t, unsigned id)
{
	return (id < GROUPS_MAX && t->e[id].refs > 0 ? t->e[id].name : "?");
}

uint32_t
groups_refs(const struct groups *t, unsigned id)
{
	return (id < GROUPS_MAX ? t->e[id].refs : 0);
}

/* One more reference to name (valid), added at the lowest free id. */
static int
groups_ref(struct groups *t, const char *name, size_t len, unsigned *id)
{
	struct groups_entry	*e;
	int			 i;

	if ((i = groups_id(t, name, len)) != -1) {
		t->e[i].refs++;
		*id = (unsigned)i;
		return (0);
	}
	if (t->n == GROUPS_MAX)
		return (-1);
	/* The lowest: sets of few groups stay in the first words. */
	for (i = 0; t->e[i].refs > 0; i++)
		;
	e = &t->e[i];
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	e->len = len;
	e->refs = 1;
	e->bucket = groups_hash(name, len);
	e->next = t->bucket[e->bucket];
	t->bucket[e->bucket] = i;
	t->n++;
	*id = (unsigned)i;
	return (0);
}

static void
groups_unref(struct groups *t, unsigned id)
{
	struct groups_entry	*e;
	int32_t			*pp;

	if (id >= GROUPS_MAX || (e = &t->e[id])->refs == 0 || --e->refs > 0)
		return;
	for (pp = &t->bucket[e->bucket]; *pp != -1; pp = &t->e[*pp].next)
		if (*pp == (int32_t)id) {
			*pp = e->next;
			break;
		}
	memset(e, 0, sizeof(*e));
	t->n--;
}

void
groups_sess_drop(struct groups *t, struct groups_sess *gs)
{
	unsigned	 i;

	for (i = 0; i < gs->n; i++)
		groups_unref(t, gs->id[i]);
	free(gs->in_list);
	memset(gs, 0, sizeof(*gs));
}

/*
 * The members as distinct names with their halves merged: 0, or -1 with
 * err.  names[] point into m.
 */
static int
groups_merge(const struct groups_member *m, size_t n, const char **names,
    size_t *lens, unsigned *halves, size_t *nd, char *err, size_t errlen)
{
	size_t	 i, j, len;

	*nd = 0;
	for (i = 0; i < n; i++) {
		len = m[i].name != NULL ? strlen(m[i].name) : 0;
		if (!grouplist_name_ok(m[i].name, len)) {
			snprintf(err, errlen, "\"%.*s\" is not a group name",
			    m[i].name != NULL ? (int)(len < 80 ? len : 80) : 0,
			    m[i].name != NULL ? m[i].name : "");
			return (-1);
		}
		if ((m[i].halves & (GROUPS_IN | GROUPS_OUT)) == 0 ||
		    (m[i].halves & ~(unsigned)(GROUPS_IN | GROUPS_OUT)) != 0) {
			snprintf(err, errlen, "group \"%s\" with halves %#x",
			    m[i].name, m[i].halves);
			return (-1);
		}
		for (j = 0; j < *nd; j++)
			if (lens[j] == len && memcmp(names[j], m[i].name,
			    len) == 0)
				break;
		if (j < *nd) {
			halves[j] |= m[i].halves;
			continue;
		}
		if (*nd == GROUPLIST_MAX) {
			snprintf(err, errlen, "more than %d groups",
			    GROUPLIST_MAX);
			return (-1);
		}
		names[j] = m[i].name;
		lens[j] = len;
		halves[j] = m[i].halves;
		(*nd)++;
	}
	return (0);
}

int
groups_sess_take(struct groups *t, struct groups_sess *gs,
    enum groups_source source, const struct groups_member *m, size_t n,
    char *err, size_t errlen)
{
	const char	*names[GROUPLIST_MAX];
	char		 list[GROUPLIST_STR_MAX];
	size_t		 lens[GROUPLIST_MAX], nd, i, off = 0;
	unsigned	 halves[GROUPLIST_MAX], id;

	memset(gs, 0, sizeof(*gs));
	if (groups_merge(m, n, names, lens, halves, &nd, err, errlen) == -1)
		return (-1);
	list[0] = '\0';
	for (i = 0; i < nd; i++) {
		if (groups_ref(t, names[i], lens[i], &id) == -1) {
			snprintf(err, errlen, "%d groups are in use in this "
			    "worker, the most it can hold: no room for \"%s\"",
			    GROUPS_MAX, names[i]);
			groups_sess_drop(t, gs);
			return (-1);
		}
		gs->id[gs->n++] = (uint16_t)id;
		if (halves[i] & GROUPS_OUT)
			groups_set_add(&gs->out, id);
		if (halves[i] & GROUPS_IN) {
			groups_set_add(&gs->in, id);
			/* GROUPLIST_MAX names and commas fit by definition. */
			off += (size_t)snprintf(list + off, sizeof(list) - off,
			    "%s%s", off > 0 ? "," : "", names[i]);
		}
	}
	/* Its own size: every session keeps one. */
	if ((gs->in_list = strdup(list)) == NULL) {
		snprintf(err, errlen, "out of memory");
		groups_sess_drop(t, gs);
		return (-1);
	}
	gs->source = source;
	return (0);
}

void
groups_sess_list(const struct groups *t, const struct groups_sess *gs,
    unsigned half, char *buf, size_t len)
{
	const struct groups_set	*s = half == GROUPS_IN ? &gs->in : &gs->out;
	size_t			 off = 0;
	unsigned		 i;
	int			 r;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < gs->n && off < len; i++) {
		if (!groups_set_has(s, gs->id[i]))
			continue;
		r = snprintf(buf + off, len - off, "%s%s", off > 0 ? "," : "",
		    groups_name(t, gs->id[i]));
		if (r < 0 || (size_t)r >= len - off) {
			buf[off] = '\0';
			break;
		}
		off += (size_t)r;
	}
}

bool
groups_sess_same(const struct groups_sess *a, const struct groups_sess *b)
{
	return (groups_set_equal(&a->in, &b->in) &&
	    groups_set_equal(&a->out, &b->out));
}

void
groups_resolve(const struct groups *t, const char *list, size_t len,
    struct groups_set *set)
{
	const char	*pos = list, *end = list + len, *name;
	size_t		 n;
	int		 id;

	memset(set, 0, sizeof(*set));
	if (list == NULL)
		return;
	while ((name = grouplist_next(&pos, end, &n)) != NULL)
		if ((id = groups_id(t, name, n)) != -1)
			groups_set_add(set, (unsigned)id);
}

size_t
groups_counts(const struct groups *t, struct grouplist_count *v, size_t max)
{
	size_t	 i, n = 0;

	for (i = 0; i < GROUPS_MAX && n < max; i++) {
		if (t->e[i].refs == 0)
			continue;
		memcpy(v[n].name, t->e[i].name, t->e[i].len + 1);
		v[n].sessions = t->e[i].refs;
		n++;
	}
	return (n);
}
