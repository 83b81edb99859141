/*
 * The data package store: what a client sends, checked before it gets
 * anywhere near a record or a path (hashes, names, every field), group
 * lists (visibility, the union on a dedup) and the results as text.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "shared/grouplist.h"
#include "shared/log.h"
#include "shared/pkgstore.h"
#include "shared/pkgstore_int.h"
#include "shared/users.h"
#include "shared/utf8.h"

_Static_assert(PKG_USER_SIZE == USERS_NAME_MAX, "a user is a users name");
_Static_assert(PKG_GROUPS_SIZE == GROUPLIST_STR_MAX, "a group list");

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

bool
pkgstore_hash_ok(const char *hex)
{
	size_t	 i;

	if (hex == NULL)
		return (false);
	for (i = 0; i < PKG_HASH_HEX - 1; i++)
		if (hexval(hex[i]) == -1)
			return (false);
	return (hex[i] == '\0');
}

void
pkgstore_hash_lower(char *hex)
{
	for (; *hex != '\0'; hex++)
		if (*hex >= 'A' && *hex <= 'F')
			*hex = (char)(*hex - 'A' + 'a');
}

bool
pkgstore_hash_bin(const char *hex, uint8_t bin[PKG_HASH_LEN])
{
	size_t	 i;

	if (!pkgstore_hash_ok(hex))
		return (false);
	for (i = 0; i < PKG_HASH_LEN; i++)
		bin[i] = (uint8_t)(hexval(hex[2 * i]) << 4 |
		    hexval(hex[2 * i + 1]));
	return (true);
}

void
pkgstore_hash_hex(const uint8_t bin[PKG_HASH_LEN], char hex[PKG_HASH_HEX])
{
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < PKG_HASH_LEN; i++) {
		hex[2 * i] = digits[bin[i] >> 4];
		hex[2 * i + 1] = digits[bin[i] & 0xf];
	}
	hex[2 * PKG_HASH_LEN] = '\0';
}

/*
 * Whether s is shorter than size and well-formed UTF-8 without control
 * characters (C0, DEL, C1) nor any of the bytes in refuse.
 */
static bool
text_ok(const char *s, size_t size, const char *refuse)
{
	const uint8_t	*p = (const uint8_t *)s;
	uint32_t	 cp;
	size_t		 len, i, n;

	if ((len = strnlen(s, size)) >= size)
		return (false);
	for (i = 0; i < len; i += n) {
		if ((n = utf8_decode(p + i, len - i, &cp)) == 0 || cp < 0x20 ||
		    (cp >= 0x7f && cp <= 0x9f) ||
		    (cp < 0x80 && strchr(refuse, (int)cp) != NULL))
			return (false);
	}
	return (true);
}

bool
pkgstore_name_ok(const char *name)
{
	if (name == NULL || name[0] == '\0' || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return (false);
	return (text_ok(name, PKG_NAME_SIZE, "/\\"));
}

/* A MIME type: printable ASCII without blanks' ends, may be "". */
static bool
mime_ok(const char *s)
{
	size_t	 i, len;

	if ((len = strnlen(s, PKG_MIME_SIZE)) >= PKG_MIME_SIZE)
		return (false);
	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return (false);
	return (len == 0 || (s[0] != ' ' && s[len - 1] != ' '));
}

bool
pkgstore_meta_ok(const struct pkg_meta *m, char *err, size_t errlen)
{
	const char	*bad = NULL;
	size_t		 glen;

	if (!pkgstore_hash_ok(m->hash))
		bad = "hash (64 hex digits)";
	else if (!pkgstore_name_ok(m->name))
		bad = "name (1 to 255 bytes of UTF-8, no '/', '\\', control "
		    "characters, \".\" or \"..\")";
	else if (!mime_ok(m->mime))
		bad = "MIME type (printable ASCII, under 128 bytes)";
	else if (!text_ok(m->keywords, sizeof(m->keywords), ""))
		bad = "keywords (UTF-8 without control characters, under 512 "
		    "bytes)";
	else if (!text_ok(m->creator_uid, sizeof(m->creator_uid), ""))
		bad = "creator uid (UTF-8 without control characters, under "
		    "256 bytes)";
	else if (strnlen(m->user, sizeof(m->user)) >= sizeof(m->user) ||
	    (m->user[0] != '\0' && !users_name_ok(m->user)))
		bad = "user (a users file name, or none)";
	else if ((glen = strnlen(m->groups, sizeof(m->groups))) >=
	    sizeof(m->groups) || grouplist_check(m->groups, glen) == -1)
		bad = "groups (a list of group names)";
	if (bad == NULL)
		return (true);
	snprintf(err, errlen, "bad %s", bad);
	return (false);
}

/* Whether name (len bytes) is one of the list's names. */
static bool
groups_has(const char *list, const char *name, size_t len)
{
	const char	*pos = list, *end = list + strlen(list), *g;
	size_t		 glen;

	while ((g = grouplist_next(&pos, end, &glen)) != NULL)
		if (glen == len && memcmp(g, name, len) == 0)
			return (true);
	return (false);
}

int
pkgstore_groups_union(char *dst, size_t dstlen, const char *add,
    const char *hash)
{
	const char	*pos = add, *end = add + strlen(add), *g;
	size_t		 glen, dlen = strlen(dst);
	int		 n, changed = 0;

	n = grouplist_check(dst, dlen);
	while ((g = grouplist_next(&pos, end, &glen)) != NULL) {
		if (groups_has(dst, g, glen))
			continue;
		if (n >= GROUPLIST_MAX || dlen + glen + 2 > dstlen) {
			log_warnx("pkgstore: %s: group %.*s not added (the "
			    "package has %d groups already)", hash, (int)glen,
			    g, n);
			continue;
		}
		if (dlen > 0)
			dst[dlen++] = ',';
		memcpy(dst + dlen, g, glen);
		dlen += glen;
		dst[dlen] = '\0';
		n++;
		changed = 1;
	}
	return (changed);
}

bool
pkgstore_visible(const struct pkg_meta *m, const char *out_groups,
    bool admin)
{
	const char	*pos, *end, *g;
	size_t		 glen;

	if (admin || m->public)
		return (true);
	if (out_groups == NULL)
		return (false);
	pos = m->groups;
	end = pos + strnlen(m->groups, sizeof(m->groups));
	while ((g = grouplist_next(&pos, end, &glen)) != NULL)
		if (glen > 0 && groups_has(out_groups, g, glen))
			return (true);
	return (false);
}

const char *
pkgstore_strerror(int rc)
{
	switch (rc) {
	case 0:
		return ("ok");
	case PKG_ERR_NOTFOUND:
		return ("no such package");
	case PKG_ERR_QUOTA:
		return ("the package store's quota is exceeded");
	case PKG_ERR_USER_QUOTA:
		return ("the user's quota is exceeded");
	case PKG_ERR_NOSPACE:
		return ("no space left on the server's disk");
	case PKG_ERR_INVAL:
		return ("invalid package");
	default:
		return ("package store error");
	}
}
