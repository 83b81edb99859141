/*
 * The users file: parser, formatter, lookups and changes (users.h).
 *
 * A set is an array of users sorted by name (binary search), each with its
 * own array of groups, and a table of the distinct group names in name
 * order, rebuilt after every change.  A change allocates everything it
 * needs before it touches the set, so that a failure leaves it as it was.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "shared/fileio.h"
#include "shared/trust.h"
#include "shared/users.h"
#include "shared/utf8.h"

#define USERS_MAGIC		0x75737273	/* "usrs" */
#define USERS_FIELDS		6
#define USERS_HEADER		"# takd users "
#define USERS_SHOWN		40	/* bytes of a bad value in messages */

struct users {
	unsigned		 magic;
	struct users_user	*v;		/* sorted by name */
	size_t			 n;
	size_t			 cap;
	size_t			 n_members;	/* sum of v[i].n_groups */
	const char		**gtab;		/* distinct groups, sorted */
	size_t			 n_gtab;
};

/* One field of a line: not NUL-terminated. */
struct users_span {
	const char	*p;
	size_t		 len;
};

static const char *const users_list_names[] = { "GROUPS", "IN", "OUT" };
static const unsigned users_list_halves[] = {
	USERS_IN | USERS_OUT, USERS_IN, USERS_OUT
};

const char *
users_role_name(enum users_role r)
{
	return (r == USERS_ROLE_ADMIN ? "admin" : "user");
}

/*
 * s as a quoted string for a message: at most USERS_SHOWN bytes, bytes
 * outside printable ASCII as \xNN, so that a bad value cannot write
 * control sequences to the operator's terminal.
 */
static const char *
users_quote(const char *s, size_t len, char *buf, size_t buflen)
{
	size_t		 i, o = 0;
	unsigned char	 c;

	buf[o++] = '"';
	for (i = 0; i < len && i < USERS_SHOWN && o + 8 < buflen; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, buflen - o, "\\x%02x",
			    c);
		else
			buf[o++] = (char)c;
	}
	if (i < len && o + 4 < buflen) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return (buf);
}

/* Why s (len bytes) is not a user or group name, or NULL. */
static const char *
users_name_why(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, n;
	uint32_t		 c;

	if (len == 0)
		return ("empty");
	if (len >= USERS_NAME_MAX)
		return ("longer than 63 bytes");
	if (s[0] == ' ' || s[len - 1] == ' ')
		return ("a blank at its start or end");
	if (s[0] == '#')
		return ("starts with '#' (a comment)");
	for (i = 0; i < len; i += n) {
		if ((n = utf8_decode(u + i, len - i, &c)) == 0)
			return ("not UTF-8");
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
			return ("a control character");
		if (c == ':' || c == ',')
			return ("a ':' or ','");
	}
	return (NULL);
}

bool
users_name_ok(const char *s)
{
	return (users_name_why(s, strlen(s)) == NULL);
}

/*
 * "" or "!" (no password), or "$ID$REST": ID of [a-z0-9-], REST of crypt's
 * alphabet [./0-9A-Za-z] and the '$', '=' and ',' of its parameters.  The
 * hash itself is libcrypt's business (password.h).
 */
static bool
users_hash_shape(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || (len == 1 && s[0] == '!'))
		return (true);
	if (len >= USERS_HASH_MAX || s[0] != '$')
		return (false);
	for (i = 1; i < len && s[i] != '$'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return (false);
	if (i == 1 || i + 1 >= len)
		return (false);
	for (i++; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		    s[i] == '/' || s[i] == '$' || s[i] == '=' || s[i] == ','))
			return (false);
	return (true);
}

bool
users_hash_ok(const char *s)
{
	return (users_hash_shape(s, strlen(s)));
}

bool
users_has_password(const struct users_user *u)
{
	return (u->hash[0] != '\0' && strcmp(u->hash, "!") != 0);
}

/* The index of name in the sorted v, or where it would go (*found). */
static size_t
users_search(const struct users *us, const char *name, bool *found)
{
	size_t	 lo = 0, hi = us->n, mid;
	int	 c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(name, us->v[mid].name)) == 0) {
			*found = true;
			return (mid);
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = false;
	return (lo);
}

static int
users_cmp_str(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

/*
 * Fill tab (room for n_members names) with the distinct group names of the
 * set, sorted, and make it the set's table.  Cannot fail.
 */
static void
users_gtab_build(struct users *us, const char **tab)
{
	size_t	 i, j, k = 0;

	for (i = 0; i < us->n; i++)
		for (j = 0; j < us->v[i].n_groups; j++)
			tab[k++] = us->v[i].groups[j].name;
	qsort(tab, k, sizeof(*tab), users_cmp_str);
	for (i = j = 0; i < k; i++)
		if (j == 0 || strcmp(tab[j - 1], tab[i]) != 0)
			tab[j++] = tab[i];
	free(us->gtab);
	us->gtab = tab;
	us->n_gtab = j;
}

/* A table for n names: never NULL for n == 0, so that failure is clear. */
static const char **
users_gtab_alloc(size_t n)
{
	return (reallocarray(NULL, n == 0 ? 1 : n, sizeof(const char *)));
}

struct users *
users_new(void)
{
	struct users	*us;

	if ((us = calloc(1, sizeof(*us))) == NULL)
		return (NULL);
	us->magic = USERS_MAGIC;
	return (us);
}

void
users_strip(struct users *us)
{
	size_t	 i;

	for (i = 0; i < us->n; i++) {
		OPENSSL_cleanse(us->v[i].hash, sizeof(us->v[i].hash));
		snprintf(us->v[i].hash, sizeof(us->v[i].hash), "!");
	}
}

void
users_free(struct users *us)
{
	size_t	 i;

	if (us == NULL)
		return;
	for (i = 0; i < us->n; i++) {
		free(us->v[i].groups);
		OPENSSL_cleanse(us->v[i].hash, sizeof(us->v[i].hash));
	}
	free(us->v);
	free(us->gtab);
	us->magic = 0;
	free(us);
}

size_t
users_count(const struct users *us)
{
	return (us->n);
}

const struct users_user *
users_get(const struct users *us, size_t i)
{
	return (i < us->n ? &us->v[i] : NULL);
}

const struct users_user *
users_find(const struct users *us, const char *name)
{
	bool	 found;
	size_t	 i;

	i = users_search(us, name, &found);
	return (found ? &us->v[i] : NULL);
}

size_t
users_group_count(const struct users *us)
{
	return (us->n_gtab);
}

const char *
users_group_name(const struct users *us, size_t i)
{
	return (i < us->n_gtab ? us->gtab[i] : NULL);
}

long
users_group_index(const struct users *us, const char *name)
{
	size_t	 lo = 0, hi = us->n_gtab, mid;
	int	 c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(name, us->gtab[mid])) == 0)
			return ((long)mid);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (-1);
}

/* Whether g (n groups) already has a group called name. */
static bool
users_has_group(const struct users_group *g, size_t n, const char *name)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(g[i].name, name) == 0)
			return (true);
	return (false);
}

/*
 * Append the comma-separated list f (of list k: GROUPS, IN or OUT) to the
 * n groups in g.  -1 with the reason in err.
 */
static int
users_parse_list(struct users_span f, size_t k, struct users_group *g,
    size_t *n, char *err, size_t errlen)
{
	const char	*p = f.p, *end = f.p + f.len, *comma;
	const char	*why;
	char		 q[USERS_SHOWN * 4 + 8];
	size_t		 len;

	while (f.len > 0) {
		if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL)
			comma = end;
		len = (size_t)(comma - p);
		if ((why = users_name_why(p, len)) != NULL) {
			snprintf(err, errlen, "%s: group %s: %s",
			    users_list_names[k], users_quote(p, len, q,
			    sizeof(q)), why);
			return (-1);
		}
		if (*n == USERS_GROUPS_MAX) {
			snprintf(err, errlen, "more than %d groups",
			    USERS_GROUPS_MAX);
			return (-1);
		}
		memcpy(g[*n].name, p, len);
		g[*n].name[len] = '\0';
		if (users_has_group(g, *n, g[*n].name)) {
			snprintf(err, errlen, "%s: group %s given twice (a "
			    "group appears once in GROUPS, IN and OUT; GROUPS "
			    "gives both halves)", users_list_names[k],
			    users_quote(p, len, q, sizeof(q)));
			return (-1);
		}
		g[*n].halves = users_list_halves[k];
		(*n)++;
		if (comma == end)
			break;
		p = comma + 1;
	}
	return (0);
}

/*
 * One line (not a comment) into u, its groups in tmp and then in a new
 * array of u.  -1 with the reason in err and nothing allocated.
 */
static int
users_parse_line(const char *line, size_t len, struct users_user *u,
    struct users_group *tmp, char *err, size_t errlen)
{
	struct users_span	 f[USERS_FIELDS];
	const char		*p = line, *end = line + len, *colon;
	const char		*why;
	char			 q[USERS_SHOWN * 4 + 8], sub[400];
	size_t			 n = 0, k, ng = 0;

	for (;;) {
		colon = memchr(p, ':', (size_t)(end - p));
		if (n < USERS_FIELDS) {
			f[n].p = p;
			f[n].len = (size_t)((colon == NULL ? end : colon) - p);
		}
		n++;
		if (colon == NULL)
			break;
		p = colon + 1;
	}
	if (n != USERS_FIELDS) {
		snprintf(err, errlen, "%zu fields, expected %d: "
		    "NAME:HASH:ROLE:GROUPS:IN:OUT", n, USERS_FIELDS);
		return (-1);
	}
	if ((why = users_name_why(f[0].p, f[0].len)) != NULL) {
		snprintf(err, errlen, "user name %s: %s", users_quote(f[0].p,
		    f[0].len, q, sizeof(q)), why);
		return (-1);
	}
	memcpy(u->name, f[0].p, f[0].len);
	u->name[f[0].len] = '\0';
	if (!users_hash_shape(f[1].p, f[1].len)) {
		snprintf(err, errlen, "user \"%s\": the password hash is not a "
		    "crypt(3) hash (\"$id$...\", at most %d bytes), \"\" or "
		    "\"!\"", u->name, USERS_HASH_MAX - 1);
		return (-1);
	}
	memcpy(u->hash, f[1].p, f[1].len);
	u->hash[f[1].len] = '\0';
	if (f[2].len == 4 && memcmp(f[2].p, "user", 4) == 0)
		u->role = USERS_ROLE_USER;
	else if (f[2].len == 5 && memcmp(f[2].p, "admin", 5) == 0)
		u->role = USERS_ROLE_ADMIN;
	else {
		snprintf(err, errlen, "user \"%s\": role %s: expected user or "
		    "admin", u->name, users_quote(f[2].p, f[2].len, q,
		    sizeof(q)));
		return (-1);
	}
	for (k = 0; k < 3; k++) {
		if (users_parse_list(f[3 + k], k, tmp, &ng, sub,
		    sizeof(sub)) == -1) {
			snprintf(err, errlen, "user \"%s\": %s", u->name, sub);
			return (-1);
		}
	}
	u->n_groups = ng;
	u->groups = NULL;
	if (ng > 0) {
		if ((u->groups = reallocarray(NULL, ng,
		    sizeof(*u->groups))) == NULL) {
			snprintf(err, errlen, "out of memory");
			return (-1);
		}
		memcpy(u->groups, tmp, ng * sizeof(*tmp));
	}
	return (0);
}

/* qsort_r: user indices by name. */
static int
users_cmp_idx(const void *a, const void *b, void *arg)
{
	const struct users_user	*v = arg;

	return (strcmp(v[*(const size_t *)a].name,
	    v[*(const size_t *)b].name));
}

/*
 * Put the parsed users (lines[i]: the line of v[i]) in name order; a name
 * given twice is an error naming both lines.
 */
static int
users_sort(struct users *us, unsigned *lines, const char *name, char *err,
    size_t errlen)
{
	struct users_user	*sorted = NULL;
	unsigned		*sl = NULL;
	size_t			*idx = NULL, i;
	int			 c, rc = -1;

	for (i = 1; i < us->n; i++)
		if (strcmp(us->v[i - 1].name, us->v[i].name) >= 0)
			break;
	if (i < us->n) {
		if ((idx = reallocarray(NULL, us->n, sizeof(*idx))) == NULL ||
		    (sorted = reallocarray(NULL, us->n,
		    sizeof(*sorted))) == NULL ||
		    (sl = reallocarray(NULL, us->n, sizeof(*sl))) == NULL) {
			snprintf(err, errlen, "%s: out of memory", name);
			goto done;
		}
		for (i = 0; i < us->n; i++)
			idx[i] = i;
		qsort_r(idx, us->n, sizeof(*idx), users_cmp_idx, us->v);
		for (i = 0; i < us->n; i++) {
			sorted[i] = us->v[idx[i]];
			sl[i] = lines[idx[i]];
		}
		memcpy(us->v, sorted, us->n * sizeof(*sorted));
		memcpy(lines, sl, us->n * sizeof(*sl));
	}
	for (i = 1; i < us->n; i++) {
		if ((c = strcmp(us->v[i - 1].name, us->v[i].name)) != 0)
			continue;
		/* Name the later line: the first one stands. */
		if (lines[i - 1] > lines[i])
			snprintf(err, errlen, "%s:%u: user \"%s\" given twice "
			    "(first on line %u)", name, lines[i - 1],
			    us->v[i].name, lines[i]);
		else
			snprintf(err, errlen, "%s:%u: user \"%s\" given twice "
			    "(first on line %u)", name, lines[i],
			    us->v[i].name, lines[i - 1]);
		goto done;
	}
	rc = 0;
 done:
	free(idx);
	free(sorted);
	free(sl);
	return (rc);
}

/* "# takd users N" on line 1: only version 1 is known. */
static int
users_header(const char *p, size_t ll, const char *name, char *err,
    size_t errlen)
{
	size_t	 hl = sizeof(USERS_HEADER) - 1;

	if (ll < hl || memcmp(p, USERS_HEADER, hl) != 0)
		return (0);
	if (ll == hl + 1 && p[hl] == '0' + USERS_VERSION)
		return (0);
	snprintf(err, errlen, "%s:1: format version \"%.*s\" unknown (this "
	    "takd reads version %d): written by a newer takctl?", name,
	    (int)(ll - hl > 16 ? 16 : ll - hl), p + hl, USERS_VERSION);
	return (-1);
}

struct users *
users_parse(const char *buf, size_t len, const char *name, char *err,
    size_t errlen)
{
	struct users		*us;
	struct users_group	*tmp = NULL;
	unsigned		*lines = NULL, lineno = 0;
	const char		*p, *nl, *end = buf + len;
	const char		**tab = NULL;
	char			 why[512];
	size_t			 ll, n;

	if ((us = users_new()) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return (NULL);
	}
	if (len > USERS_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %u bytes", name,
		    USERS_FILE_MAX);
		goto fail;
	}
	/* One allocation for the largest possible number of users. */
	for (p = buf, n = 1; p < end && (nl = memchr(p, '\n',
	    (size_t)(end - p))) != NULL; p = nl + 1)
		n++;
	if (n > USERS_MAX + 1)
		n = USERS_MAX + 1;
	if ((us->v = reallocarray(NULL, n, sizeof(*us->v))) == NULL ||
	    (lines = reallocarray(NULL, n, sizeof(*lines))) == NULL ||
	    (tmp = reallocarray(NULL, USERS_GROUPS_MAX,
	    sizeof(*tmp))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		goto fail;
	}
	us->cap = n;
	for (p = buf; p < end; p = nl + 1) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		ll = (size_t)(nl - p);
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		if (memchr(p, '\0', ll) != NULL) {
			snprintf(err, errlen, "%s:%u: a NUL byte", name,
			    lineno);
			goto fail;
		}
		if (lineno == 1 && users_header(p, ll, name, err,
		    errlen) == -1)
			goto fail;
		if (ll == 0 || *p == '#')
			continue;
		if (us->n == USERS_MAX) {
			snprintf(err, errlen, "%s:%u: more than %d users",
			    name, lineno, USERS_MAX);
			goto fail;
		}
		if (users_parse_line(p, ll, &us->v[us->n], tmp, why,
		    sizeof(why)) == -1) {
			snprintf(err, errlen, "%s:%u: %s", name, lineno, why);
			goto fail;
		}
		us->n_members += us->v[us->n].n_groups;
		lines[us->n++] = lineno;
	}
	if (users_sort(us, lines, name, err, errlen) == -1)
		goto fail;
	if ((tab = users_gtab_alloc(us->n_members)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		goto fail;
	}
	users_gtab_build(us, tab);
	free(lines);
	free(tmp);
	return (us);
 fail:
	free(lines);
	free(tmp);
	users_free(us);
	return (NULL);
}

int
users_read(int dirfd, const char *name, const char *path,
    struct users **out, char *err, size_t errlen)
{
	struct stat	 st;
	char		*buf;
	size_t		 len = 0;

	*out = NULL;
	if ((buf = fileio_read_st(dirfd, name, path, USERS_FILE_MAX, &len,
	    &st, err, errlen)) == NULL) {
		if (errno != ENOENT)
			return (-1);
		if ((*out = users_new()) == NULL) {
			snprintf(err, errlen, "%s: out of memory", path);
			return (-1);
		}
		return (1);
	}
	/* Who may change it decides who may read whose traffic. */
	if (trust_stat_check(&st, path, err, errlen) == 0)
		*out = users_parse(buf, len, path, err, errlen);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return (*out == NULL ? -1 : 0);
}

/* Check u as the parser would; -1 with the reason in err. */
static int
users_check(const struct users_user *u, char *err, size_t errlen)
{
	const char	*why;
	char		 q[USERS_SHOWN * 4 + 8];
	size_t		 i, nlen, glen;

	nlen = strnlen(u->name, sizeof(u->name));
	if ((why = users_name_why(u->name, nlen)) != NULL) {
		snprintf(err, errlen, "user name %s: %s", users_quote(u->name,
		    nlen, q, sizeof(q)), why);
		return (-1);
	}
	if (strnlen(u->hash, sizeof(u->hash)) == sizeof(u->hash) ||
	    !users_hash_ok(u->hash)) {
		snprintf(err, errlen, "user \"%s\": the password hash is not a "
		    "crypt(3) hash, \"\" or \"!\"", u->name);
		return (-1);
	}
	if (u->role != USERS_ROLE_USER && u->role != USERS_ROLE_ADMIN) {
		snprintf(err, errlen, "user \"%s\": unknown role %d", u->name,
		    (int)u->role);
		return (-1);
	}
	if (u->n_groups > USERS_GROUPS_MAX) {
		snprintf(err, errlen, "user \"%s\": %zu groups, at most %d",
		    u->name, u->n_groups, USERS_GROUPS_MAX);
		return (-1);
	}
	for (i = 0; i < u->n_groups; i++) {
		glen = strnlen(u->groups[i].name, sizeof(u->groups[i].name));
		if ((why = users_name_why(u->groups[i].name, glen)) != NULL) {
			snprintf(err, errlen, "user \"%s\": group %s: %s",
			    u->name, users_quote(u->groups[i].name, glen, q,
			    sizeof(q)), why);
			return (-1);
		}
		if (u->groups[i].halves == 0 ||
		    (u->groups[i].halves & ~(unsigned)(USERS_IN | USERS_OUT))) {
			snprintf(err, errlen, "user \"%s\": group \"%s\": "
			    "no half", u->name, u->groups[i].name);
			return (-1);
		}
		if (users_has_group(u->groups, i, u->groups[i].name)) {
			snprintf(err, errlen, "user \"%s\": group \"%s\" given "
			    "twice", u->name, u->groups[i].name);
			return (-1);
		}
	}
	return (0);
}

int
users_put(struct users *us, const struct users_user *u, char *err,
    size_t errlen)
{
	struct users_user	 nu, *v;
	struct users_group	*g = NULL, *old_groups = NULL;
	const char		**tab = NULL;
	size_t			 i, j, k, pos, cap, members;
	bool			 found;

	if (users_check(u, err, errlen) == -1)
		return (-1);
	pos = users_search(us, u->name, &found);
	if (!found && us->n == USERS_MAX) {
		snprintf(err, errlen, "user \"%s\": already %d users, the most "
		    "a file holds", u->name, USERS_MAX);
		return (-1);
	}
	if (!found && us->n == us->cap) {
		cap = us->cap == 0 ? 16 : us->cap * 2;
		if ((v = reallocarray(us->v, cap, sizeof(*v))) == NULL)
			goto nomem;
		us->v = v;
		us->cap = cap;
	}
	members = us->n_members + u->n_groups -
	    (found ? us->v[pos].n_groups : 0);
	if ((u->n_groups > 0 && (g = reallocarray(NULL, u->n_groups,
	    sizeof(*g))) == NULL) || (tab = users_gtab_alloc(members)) == NULL)
		goto nomem;
	/* Both halves, then IN, then OUT: the order of the file. */
	for (k = 0, i = 0; k < 3; k++)
		for (j = 0; j < u->n_groups; j++)
			if (u->groups[j].halves == users_list_halves[k])
				g[i++] = u->groups[j];
	nu = *u;
	nu.groups = g;

	if (found) {
		old_groups = us->v[pos].groups;
		OPENSSL_cleanse(us->v[pos].hash, sizeof(us->v[pos].hash));
	} else {
		memmove(&us->v[pos + 1], &us->v[pos],
		    (us->n - pos) * sizeof(*us->v));
		us->n++;
	}
	us->v[pos] = nu;
	us->n_members = members;
	users_gtab_build(us, tab);
	free(old_groups);
	return (0);
 nomem:
	free(g);
	free(tab);
	snprintf(err, errlen, "out of memory");
	return (-1);
}

int
users_del(struct users *us, const char *name, char *err, size_t errlen)
{
	struct users_group	*old;
	const char		**tab;
	size_t			 pos;
	bool			 found;

	pos = users_search(us, name, &found);
	if (!found) {
		snprintf(err, errlen, "no user \"%s\"", name);
		return (-1);
	}
	if ((tab = users_gtab_alloc(us->n_members -
	    us->v[pos].n_groups)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	old = us->v[pos].groups;
	us->n_members -= us->v[pos].n_groups;
	OPENSSL_cleanse(us->v[pos].hash, sizeof(us->v[pos].hash));
	memmove(&us->v[pos], &us->v[pos + 1],
	    (us->n - pos - 1) * sizeof(*us->v));
	us->n--;
	users_gtab_build(us, tab);
	free(old);
	return (0);
}

/* The groups of u with exactly halves, comma-separated, at p. */
static size_t
users_format_list(const struct users_user *u, unsigned halves, char *p)
{
	size_t	 i, o = 0, len;

	for (i = 0; i < u->n_groups; i++) {
		if (u->groups[i].halves != halves)
			continue;
		if (o > 0 && p != NULL)
			p[o] = ',';
		if (o > 0)
			o++;
		len = strlen(u->groups[i].name);
		if (p != NULL)
			memcpy(p + o, u->groups[i].name, len);
		o += len;
	}
	return (o);
}

/* One line of u at p (NULL: only its length). */
static size_t
users_format_line(const struct users_user *u, char *p)
{
	const char	*fields[3];
	size_t		 o = 0, k, len;

	fields[0] = u->name;
	fields[1] = u->hash;
	fields[2] = users_role_name(u->role);
	for (k = 0; k < 3; k++) {
		len = strlen(fields[k]);
		if (p != NULL) {
			memcpy(p + o, fields[k], len);
			p[o + len] = ':';
		}
		o += len + 1;
	}
	for (k = 0; k < 3; k++) {
		o += users_format_list(u, users_list_halves[k],
		    p == NULL ? NULL : p + o);
		if (p != NULL)
			p[o] = k < 2 ? ':' : '\n';
		o++;
	}
	return (o);
}

char *
users_format(const struct users *us, size_t *lenp)
{
	char	 head[32];
	char	*buf;
	size_t	 i, len, o;
	int	 hl;

	hl = snprintf(head, sizeof(head), "%s%d\n", USERS_HEADER,
	    USERS_VERSION);
	len = (size_t)hl;
	for (i = 0; i < us->n; i++)
		len += users_format_line(&us->v[i], NULL);
	if ((buf = malloc(len + 1)) == NULL)
		return (NULL);
	memcpy(buf, head, (size_t)hl);
	o = (size_t)hl;
	for (i = 0; i < us->n; i++)
		o += users_format_line(&us->v[i], buf + o);
	buf[o] = '\0';
	*lenp = o;
	return (buf);
}
