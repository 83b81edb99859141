/*
 * Group names and lists of them: see grouplist.h.
 */
#include <stdlib.h>
#include <string.h>

#include "ipc/ipc.h"
#include "shared/grouplist.h"
#include "shared/utf8.h"

/*
 * The length of the UTF-8 sequence at s (at most left bytes) when it is
 * well-formed and not a control character (C0, DEL, C1); 0 otherwise.
 */
static size_t
grouplist_utf8(const unsigned char *s, size_t left)
{
	uint32_t	 cp;
	size_t		 n;

	if ((n = utf8_decode(s, left, &cp)) == 0 || cp < 0x20 ||
	    (cp >= 0x7f && cp <= 0x9f))
		return (0);
	return (n);
}

bool
grouplist_name_ok(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, n;

	if (s == NULL || len == 0 || len >= GROUPLIST_NAME_MAX ||
	    p[0] == ' ' || p[len - 1] == ' ')
		return (false);
	for (i = 0; i < len; i += n) {
		if (p[i] == ',' || p[i] == ':' ||
		    (n = grouplist_utf8(p + i, len - i)) == 0)
			return (false);
	}
	return (true);
}

int
grouplist_check(const char *list, size_t len)
{
	const char	*pos = list, *end = list + len, *name;
	size_t		 nlen;
	int		 n = 0;

	if (len == 0)
		return (0);
	if (len >= GROUPLIST_STR_MAX || list[len - 1] == ',')
		return (-1);
	while ((name = grouplist_next(&pos, end, &nlen)) != NULL) {
		if (++n > GROUPLIST_MAX || !grouplist_name_ok(name, nlen))
			return (-1);
	}
	return (n);
}

const char *
grouplist_next(const char **pos, const char *end, size_t *len)
{
	const char	*p = *pos, *c;

	if (p >= end)
		return (NULL);
	if ((c = memchr(p, ',', (size_t)(end - p))) == NULL)
		c = end;
	*len = (size_t)(c - p);
	*pos = c < end ? c + 1 : end;
	return (p);
}

void
grouplist_put_counts(struct ipc_buf *b, const struct grouplist_count *v,
    size_t n)
{
	size_t	 i;

	ipc_put_u32(b, (uint32_t)n);
	for (i = 0; i < n; i++) {
		ipc_put_str(b, v[i].name);
		ipc_put_u64(b, v[i].sessions);
	}
}

int
grouplist_get_counts(struct ipc_rd *rd, struct grouplist_count **out,
    size_t *nout)
{
	struct grouplist_count	*v = NULL;
	uint32_t		 n, i;

	*out = NULL;
	*nout = 0;
	n = ipc_get_u32(rd);
	if (rd->err != 0 || n > GROUPLIST_TABLE_MAX)
		goto fail;
	if (n > 0 && (v = calloc(n, sizeof(*v))) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		ipc_get_str(rd, v[i].name, sizeof(v[i].name));
		v[i].sessions = ipc_get_u64(rd);
		if (rd->err != 0 ||
		    !grouplist_name_ok(v[i].name, strlen(v[i].name)))
			goto fail;
	}
	*out = v;
	*nout = n;
	return (0);
fail:
	free(v);
	return (-1);
}
