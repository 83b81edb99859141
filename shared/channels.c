/*
 * Channels: the body of PUT /Marti/api/groups/active and the off set it
 * leaves.  See channels.h.
 */
#include <stdio.h>
#include <string.h>

#include "shared/channels.h"
#include "shared/grouplist.h"
#include "shared/json.h"

/* Members of an entry the reader looks at. */
#define CHANNELS_HAS_NAME	0x1
#define CHANNELS_HAS_DIR	0x2
#define CHANNELS_HAS_ACTIVE	0x4

static int
channels_fail(char *err, size_t errlen, const struct json_rd *r,
    const char *what, size_t i)
{
	if (r != NULL && r->err != NULL)
		snprintf(err, errlen, "malformed JSON at byte %zu: %s",
		    r->err_at, r->err);
	else
		snprintf(err, errlen, "entry %zu: %s", i, what != NULL ? what :
		    "malformed");
	return (-1);
}

/* One member of entry i; *seen gets its bit. */
static int
channels_member(struct json_rd *r, const char *key, struct channels_entry *e,
    unsigned *seen, size_t i, char *err, size_t errlen)
{
	char		 dir[8];
	unsigned	 bit;
	bool		 trunc;
	int		 c;

	if (strcmp(key, "name") == 0)
		bit = CHANNELS_HAS_NAME;
	else if (strcmp(key, "direction") == 0)
		bit = CHANNELS_HAS_DIR;
	else if (strcmp(key, "active") == 0)
		bit = CHANNELS_HAS_ACTIVE;
	else
		return (json_rd_skip(r) == -1 ? channels_fail(err, errlen, r,
		    NULL, i) : 0);
	if (*seen & bit)
		return (channels_fail(err, errlen, NULL, "a member given twice",
		    i));
	*seen |= bit;
	c = json_rd_peek(r);
	if (bit == CHANNELS_HAS_ACTIVE) {
		if (c != 't' && c != 'f')
			return (channels_fail(err, errlen, NULL, "\"active\" "
			    "is not true or false", i));
		e->active = c == 't';
		if (json_rd_literal(r, e->active ? "true" : "false") == -1)
			return (channels_fail(err, errlen, r, NULL, i));
		return (0);
	}
	if (c != '"')
		return (channels_fail(err, errlen, NULL, bit ==
		    CHANNELS_HAS_NAME ? "\"name\" is not a string" :
		    "\"direction\" is not a string", i));
	if (bit == CHANNELS_HAS_NAME) {
		if (json_rd_string(r, e->name, sizeof(e->name), &trunc) == -1)
			return (channels_fail(err, errlen, r, NULL, i));
		e->name_bad = trunc || !grouplist_name_ok(e->name,
		    strlen(e->name));
		return (0);
	}
	if (json_rd_string(r, dir, sizeof(dir), &trunc) == -1)
		return (channels_fail(err, errlen, r, NULL, i));
	if (!trunc && strcmp(dir, "IN") == 0)
		e->half = USERS_IN;
	else if (!trunc && strcmp(dir, "OUT") == 0)
		e->half = USERS_OUT;
	else
		return (channels_fail(err, errlen, NULL, "\"direction\" is not "
		    "\"IN\" or \"OUT\"", i));
	return (0);
}

/* Entry i, an object. */
static int
channels_entry(struct json_rd *r, struct channels_entry *e, size_t i,
    char *err, size_t errlen)
{
	char		 key[JSON_RD_KEY_MAX];
	unsigned	 seen = 0;
	bool		 first = true;
	int		 more;

	memset(e, 0, sizeof(*e));
	e->active = true;	/* the Group class's default */
	if (json_rd_peek(r) != '{')
		return (channels_fail(err, errlen, NULL, "not an object", i));
	if (json_rd_open(r, '{') == -1)
		return (channels_fail(err, errlen, r, NULL, i));
	while ((more = json_rd_more(r, '}', &first)) == 1) {
		if (json_rd_key(r, key, sizeof(key)) == -1)
			return (channels_fail(err, errlen, r, NULL, i));
		if (channels_member(r, key, e, &seen, i, err, errlen) == -1)
			return (-1);
	}
	if (more == -1)
		return (channels_fail(err, errlen, r, NULL, i));
	if (!(seen & CHANNELS_HAS_NAME))
		return (channels_fail(err, errlen, NULL, "no \"name\"", i));
	if (!(seen & CHANNELS_HAS_DIR))
		return (channels_fail(err, errlen, NULL, "no \"direction\"",
		    i));
	return (0);
}

int
channels_parse(const char *body, size_t len, struct channels_req *req,
    char *err, size_t errlen)
{
	struct json_rd		 r;
	struct channels_entry	*e;
	size_t			 i;
	bool			 first = true;
	int			 more;

	req->n = 0;
	json_rd_init(&r, body, len);
	if (json_rd_peek(&r) != '[') {
		snprintf(err, errlen, "the body is not a JSON array of groups");
		return (-1);
	}
	if (json_rd_open(&r, '[') == -1)
		return (channels_fail(err, errlen, &r, NULL, 0));
	while ((more = json_rd_more(&r, ']', &first)) == 1) {
		if (req->n == CHANNELS_ENTRIES_MAX) {
			snprintf(err, errlen, "more than %d entries",
			    CHANNELS_ENTRIES_MAX);
			goto fail;
		}
		e = &req->e[req->n];
		if (channels_entry(&r, e, req->n, err, errlen) == -1)
			goto fail;
		for (i = 0; i < req->n; i++)
			if (req->e[i].half == e->half &&
			    strcmp(req->e[i].name, e->name) == 0 &&
			    req->e[i].active != e->active) {
				snprintf(err, errlen, "entries %zu and %zu: "
				    "group \"%s\" %s both on and off", i,
				    req->n, e->name, e->half == USERS_IN ?
				    "IN" : "OUT");
				goto fail;
			}
		req->n++;
	}
	if (more == -1 || json_rd_end(&r) == -1) {
		channels_fail(err, errlen, &r, NULL, 0);
		goto fail;
	}
	return (0);
 fail:
	req->n = 0;
	return (-1);
}

enum channels_verdict
channels_choose(const struct channels_req *req, const struct users_user *u,
    struct channels_off *off, char *err, size_t errlen)
{
	const struct channels_entry	*e;
	unsigned			 on[USERS_GROUPS_MAX], any = 0, h;
	size_t				 i, j, n = u->n_groups;

	off->n = 0;
	if (n > USERS_GROUPS_MAX)
		n = USERS_GROUPS_MAX;
	memset(on, 0, sizeof(on));
	for (i = 0; i < req->n; i++) {
		e = &req->e[i];
		for (j = 0; j < n; j++)
			if (!e->name_bad && (u->groups[j].halves & e->half) &&
			    strcmp(u->groups[j].name, e->name) == 0)
				break;
		if (j == n) {
			if (!e->active)
				continue;	/* off already */
			snprintf(err, errlen, "user \"%s\" has no %s half of "
			    "group \"%.80s\"", u->name, e->half == USERS_IN ?
			    "IN" : "OUT", e->name);
			return (CHANNELS_FOREIGN);
		}
		if (e->active)
			on[j] |= e->half;
	}
	for (j = 0; j < n; j++)
		any |= on[j];
	if (any == 0) {
		snprintf(err, errlen, "no group of user \"%s\" would be on: "
		    "at least one must stay on", u->name);
		return (CHANNELS_NONE);
	}
	for (j = 0; j < n; j++)
		if ((h = u->groups[j].halves & ~on[j]) != 0) {
			memcpy(off->g[off->n].name, u->groups[j].name,
			    sizeof(off->g[off->n].name));
			off->g[off->n++].halves = h;
		}
	return (CHANNELS_OK);
}

unsigned
channels_off_halves(const struct channels_off *off, const char *name)
{
	size_t	 i;

	for (i = 0; i < off->n; i++)
		if (strcmp(off->g[i].name, name) == 0)
			return (off->g[i].halves);
	return (0);
}

bool
channels_apply(const struct channels_off *off, const struct users_user *u,
    unsigned *halves)
{
	size_t		 i, n = u->n_groups;
	unsigned	 left = 0;
	bool		 narrowed = false;

	if (n > USERS_GROUPS_MAX)
		n = USERS_GROUPS_MAX;
	for (i = 0; i < n; i++) {
		halves[i] = u->groups[i].halves;
		if (off != NULL)
			halves[i] &= ~channels_off_halves(off,
			    u->groups[i].name);
		if (halves[i] != u->groups[i].halves)
			narrowed = true;
		left |= halves[i];
	}
	if (left != 0 || n == 0)
		return (narrowed);
	/* Nothing left on: the choice is set aside. */
	for (i = 0; i < n; i++)
		halves[i] = u->groups[i].halves;
	return (false);
}

int
channels_encode(const struct channels_off *off, char *buf, size_t cap,
    size_t *len)
{
	size_t	 i, n, at = 0;

	for (i = 0; i < off->n; i++) {
		n = strnlen(off->g[i].name, sizeof(off->g[i].name));
		if (off->g[i].halves == 0 ||
		    (off->g[i].halves & ~(USERS_IN | USERS_OUT)) != 0 ||
		    at + n + 2 > cap)
			return (-1);
		buf[at++] = (char)('0' + off->g[i].halves);
		memcpy(buf + at, off->g[i].name, n);
		at += n;
		buf[at++] = '\n';
	}
	*len = at;
	return (0);
}

int
channels_decode(const char *buf, size_t len, struct channels_off *off)
{
	const char	*p = buf, *end = buf + len, *nl;
	size_t		 n, i;

	off->n = 0;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL ||
		    off->n == USERS_GROUPS_MAX || *p < '1' || *p > '3')
			goto fail;
		n = (size_t)(nl - p - 1);
		if (!grouplist_name_ok(p + 1, n))
			goto fail;
		memcpy(off->g[off->n].name, p + 1, n);
		off->g[off->n].name[n] = '\0';
		off->g[off->n].halves = (unsigned)(*p - '0');
		for (i = 0; i < off->n; i++)
			if (strcmp(off->g[i].name, off->g[off->n].name) == 0)
				goto fail;
		off->n++;
		p = nl + 1;
	}
	return (0);
 fail:
	off->n = 0;
	return (-1);
}
