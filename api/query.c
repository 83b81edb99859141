/*
 * The enrollment query string (query.h).
 */
#include <string.h>

#include "api/query.h"

#define QUERY_NAME_MAX		64	/* bytes of a decoded name we compare */

static int
query_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/*
 * Decode s (len bytes of a name or a value) into out (room for cap bytes
 * and a NUL); the decoded length, or -1 with *why.  A name or value
 * longer than cap is "too long" (the caller's message for its field).
 */
static int
query_decode(const char *s, size_t len, char *out, size_t cap,
    const char *too_long, const char **why)
{
	size_t		 i, o = 0;
	unsigned char	 c;
	int		 hi, lo;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (len - i < 3) {
				*why = "truncated %-escape in the query";
				return (-1);
			}
			if ((hi = query_hex((unsigned char)s[i + 1])) < 0 ||
			    (lo = query_hex((unsigned char)s[i + 2])) < 0) {
				*why = "malformed %-escape in the query";
				return (-1);
			}
			c = (unsigned char)(hi << 4 | lo);
			if (c == '\0') {
				*why = "%00 in the query";
				return (-1);
			}
			i += 2;
		} else if (c == '+')
			c = ' ';
		else if (c <= 0x20 || c >= 0x7f) {
			*why = "raw byte outside printable ASCII in the query";
			return (-1);
		}
		if (o == cap) {
			*why = too_long;
			return (-1);
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return ((int)o);
}

/* Whether v (len bytes) holds only bytes from lo to '~'. */
static bool
query_printable(const char *v, size_t len, unsigned char lo)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((unsigned char)v[i] < lo || (unsigned char)v[i] > '~')
			return (false);
	return (true);
}

int
query_enroll_parse(const char *q, size_t len, struct query_enroll *out,
    const char **why)
{
	char		 name[QUERY_NAME_MAX + 1], skip[QUERY_MAX + 1];
	const char	*p, *end, *amp, *eq;
	int		 nl, vl;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (q == NULL)
		return (0);
	if (len > QUERY_MAX) {
		*why = "query longer than 2048 bytes";
		return (-1);
	}
	for (p = q, end = q + len; p < end; p = amp + 1) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if (amp == p)
			continue;			/* "&&" */
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL)
			eq = amp;
		/*
		 * A name we do not know may be long: decode it into the
		 * scratch buffer, then compare its first bytes.
		 */
		if ((nl = query_decode(p, (size_t)(eq - p), skip,
		    sizeof(skip) - 1, "query parameter too long", why)) < 0)
			goto fail;
		if (nl > QUERY_NAME_MAX)
			nl = QUERY_NAME_MAX;
		memcpy(name, skip, (size_t)nl);
		name[nl] = '\0';
		if (eq < amp)
			eq++;
		if (strcmp(name, "clientUid") == 0 ||
		    strcmp(name, "clientUID") == 0) {
			if (out->has_client_uid) {
				*why = "clientUid given twice";
				goto fail;
			}
			if ((vl = query_decode(eq, (size_t)(amp - eq),
			    out->client_uid, QUERY_UID_MAX,
			    "clientUid longer than 255 bytes", why)) < 0)
				goto fail;
			if (!query_printable(out->client_uid, (size_t)vl,
			    0x21)) {
				*why = "clientUid not printable ASCII";
				goto fail;
			}
			out->has_client_uid = true;
		} else if (strcmp(name, "version") == 0) {
			if (out->has_version) {
				*why = "version given twice";
				goto fail;
			}
			if ((vl = query_decode(eq, (size_t)(amp - eq),
			    out->version, QUERY_VERSION_MAX,
			    "version longer than 128 bytes", why)) < 0)
				goto fail;
			if (!query_printable(out->version, (size_t)vl, 0x20)) {
				*why = "version not printable ASCII";
				goto fail;
			}
			out->has_version = true;
		} else if (query_decode(eq, (size_t)(amp - eq), skip,
		    sizeof(skip) - 1, "query parameter too long", why) < 0)
			goto fail;
	}
	return (0);
 fail:
	memset(out, 0, sizeof(*out));
	return (-1);
}
