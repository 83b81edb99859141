/*
 * The streaming multipart/form-data splitter (multipart.h).
 *
 * The body is scanned for the delimiter "\r\n--boundary" so that a
 * delimiter split across any two (or more) pieces is still found: the
 * bytes that might begin a delimiter are held back (they are a prefix of
 * the delimiter itself, so nothing is copied) and handed out as data as
 * soon as they cannot.  A partial match never has to fall back to a
 * shorter one (Knuth-Morris-Pratt's failure table is all zeros here): the
 * delimiter begins with CR and no boundary character is a CR, so on a
 * mismatch everything held is data and only the byte at hand may start a
 * new match.  The stream is taken to begin with a CRLF, so that a body
 * that starts with "--boundary" (no preamble, the usual case) matches
 * too.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/multipart.h"

#define MP_PARAM_NAME_MAX	32
#define MP_PAD_MAX		64	/* transport padding after a delimiter */

/* After a delimiter: what was seen of the rest of its line. */
enum {
	MP_AFTER_START,
	MP_AFTER_DASH,
	MP_AFTER_CR,
	MP_AFTER_PAD
};

static int
mp_error(struct multipart *mp, const char *why)
{
	if (mp->state != MP_ERROR)
		snprintf(mp->err, sizeof(mp->err), "%s", why);
	mp->state = MP_ERROR;
	mp->in_file = false;
	return (-1);
}

/* RFC 2046: bchars, space allowed but not last. */
static bool
mp_boundary_ok(const char *b, size_t len)
{
	static const char	 extra[] = "'()+_,-./:=? ";
	size_t			 i;

	if (len == 0 || len > MP_BOUNDARY_MAX || b[len - 1] == ' ')
		return (false);
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)b[i]) &&
		    strchr(extra, b[i]) == NULL)
			return (false);
	return (true);
}

static bool
mp_tchar(unsigned char c)
{
	return (c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?={}", c) ==
	    NULL);
}

/*
 * The next parameter of a header value (";name=value", the value a token
 * or a quoted string taken literally: browsers escape a quote as %22 and
 * leave backslashes alone).  1 with name and value, 0 at the end, -1 when
 * malformed or too long.  Values hold no control byte.
 */
static int
mp_param_next(const char **sp, char *name, size_t nlen, char *val,
    size_t vlen)
{
	const char	*s = *sp;
	size_t		 n = 0, v = 0;
	unsigned char	 c;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0')
		return (0);
	if (*s++ != ';')
		return (-1);
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0')		/* a trailing ';' */
		return (0);
	while (mp_tchar((unsigned char)*s)) {
		if (n + 1 >= nlen)
			return (-1);
		name[n++] = *s++;
	}
	name[n] = '\0';
	if (n == 0 || *s++ != '=')
		return (-1);
	if (*s == '"') {
		for (s++; *s != '"'; s++) {
			c = (unsigned char)*s;
			if (c == '\0' || c < 0x20 || c == 0x7f || v + 1 >= vlen)
				return (-1);
			val[v++] = (char)c;
		}
		s++;
	} else {
		while (mp_tchar((unsigned char)*s)) {
			if (v + 1 >= vlen)
				return (-1);
			val[v++] = *s++;
		}
		if (v == 0)
			return (-1);
	}
	val[v] = '\0';
	*sp = s;
	return (1);
}

/* The media type of a header value ("multipart/form-data"), lowered. */
static const char *
mp_media_type(const char *s, char *buf, size_t len)
{
	size_t	 n = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	while (*s != '\0' && *s != ';' && *s != ' ' && *s != '\t') {
		if (n + 1 >= len)
			return (NULL);
		buf[n++] = (char)tolower((unsigned char)*s++);
	}
	buf[n] = '\0';
	return (s);
}

int
multipart_init(struct multipart *mp, const char *ctype, mp_data_fn cb,
    void *arg)
{
	char		 type[64], name[MP_PARAM_NAME_MAX];
	char		 val[MP_BOUNDARY_MAX + 2], boundary[MP_BOUNDARY_MAX + 1];
	const char	*s;
	size_t		 blen = 0;
	int		 rc;

	memset(mp, 0, sizeof(*mp));
	mp->magic = MP_MAGIC;
	mp->cb = cb;
	mp->arg = arg;
	if (ctype == NULL)
		return (mp_error(mp, "no Content-Type: multipart/form-data "
		    "with a part named " MP_FIELD " is expected"));
	if ((s = mp_media_type(ctype, type, sizeof(type))) == NULL ||
	    strcmp(type, "multipart/form-data") != 0)
		return (mp_error(mp, "Content-Type is not multipart/form-data"));
	while ((rc = mp_param_next(&s, name, sizeof(name), val,
	    sizeof(val))) == 1) {
		if (strcasecmp(name, "boundary") != 0)
			continue;
		if (blen != 0)
			return (mp_error(mp, "two boundary parameters"));
		blen = strlen(val);
		if (!mp_boundary_ok(val, blen))
			return (mp_error(mp, "a boundary of 1 to 70 "
			    "characters of RFC 2046 is expected"));
		memcpy(boundary, val, blen + 1);
	}
	if (rc == -1)
		return (mp_error(mp, "malformed Content-Type parameters"));
	if (blen == 0)
		return (mp_error(mp, "no boundary in the Content-Type"));
	memcpy(mp->delim, "\r\n--", 4);
	memcpy(mp->delim + 4, boundary, blen);
	mp->dlen = blen + 4;
	mp->state = MP_PREAMBLE;
	mp->match = 2;		/* the CRLF the stream is taken to begin with */
	return (0);
}

/* Data of the state under way: the file's to cb, the rest counted. */
static int
mp_emit(struct multipart *mp, const unsigned char *p, size_t n)
{
	if (n == 0)
		return (0);
	if (mp->state == MP_PREAMBLE) {
		if ((mp->preamble += n) > MP_PREAMBLE_MAX)
			return (mp_error(mp, "a preamble over 4 KiB before "
			    "the first boundary"));
		return (0);
	}
	if (!mp->in_file) {
		if ((mp->other += n) > MP_OTHER_MAX)
			return (mp_error(mp, "parts other than " MP_FIELD
			    " over 64 KiB"));
		return (0);
	}
	mp->file_bytes += n;
	if (mp->cb != NULL && mp->cb(p, n, mp->arg) == -1)
		return (mp_error(mp, "stopped by the receiver"));
	return (0);
}

/*
 * Scan p for the delimiter, handing out what precedes it.  The bytes
 * used (through the delimiter, or all of them), or -1.
 */
static long
mp_scan(struct multipart *mp, const unsigned char *p, size_t len, bool *hit)
{
	const unsigned char	*q;
	size_t			 i = 0, n;
	unsigned char		 c;

	*hit = false;
	while (i < len) {
		if (mp->match == 0) {
			/* Nothing held: up to the next CR is data. */
			q = memchr(p + i, '\r', len - i);
			n = q == NULL ? len - i : (size_t)(q - (p + i));
			if (mp_emit(mp, p + i, n) == -1)
				return (-1);
			if ((i += n) == len)
				break;
		}
		c = p[i++];
		if (mp->match > 0 && c != mp->delim[mp->match]) {
			/* What was held is data; c may begin a delimiter. */
			if (mp_emit(mp, mp->delim, mp->match) == -1)
				return (-1);
			mp->match = 0;
		}
		if (c == mp->delim[mp->match])
			mp->match++;
		else if (mp_emit(mp, &c, 1) == -1)
			return (-1);
		if (mp->match == mp->dlen) {
			mp->match = 0;
			*hit = true;
			break;
		}
	}
	return ((long)i);
}

/* A header line's value: leading and trailing blanks gone. */
static char *
mp_trim(char *v)
{
	size_t	 n;

	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		v[--n] = '\0';
	return (v);
}

static int
mp_disposition(struct multipart *mp, const char *v, bool *file)
{
	char		 type[32], name[MP_PARAM_NAME_MAX];
	char		 val[MP_NAME_MAX + 1], field[64] = "";
	char		 filename[MP_NAME_MAX + 1] = "";
	bool		 has_name = false, has_file = false;
	const char	*s;
	int		 rc;

	if ((s = mp_media_type(v, type, sizeof(type))) == NULL ||
	    strcmp(type, "form-data") != 0)
		return (mp_error(mp, "a part whose Content-Disposition is not "
		    "form-data"));
	while ((rc = mp_param_next(&s, name, sizeof(name), val,
	    sizeof(val))) == 1) {
		if (strcasecmp(name, "name") == 0) {
			if (has_name || strlen(val) >= sizeof(field))
				return (mp_error(mp, "a part's name is given "
				    "twice or is too long"));
			has_name = true;
			memcpy(field, val, strlen(val) + 1);
		} else if (strcasecmp(name, "filename") == 0) {
			if (has_file)
				return (mp_error(mp, "two filename= in a "
				    "part"));
			has_file = true;
			memcpy(filename, val, strlen(val) + 1);
		}
	}
	if (rc == -1)
		return (mp_error(mp, "a malformed Content-Disposition (or a "
		    "filename over 255 bytes)"));
	if (!has_name)
		return (mp_error(mp, "a part without a name"));
	*file = strcmp(field, MP_FIELD) == 0;
	if (*file)
		memcpy(mp->filename, filename, sizeof(mp->filename));
	return (0);
}

/* The headers of a part are whole (head holds them, the empty line too). */
static int
mp_headers(struct multipart *mp)
{
	char	*line, *next, *colon, *v, ctype[MP_CTYPE_MAX + 1] = "";
	bool	 disp = false, file = false;
	size_t	 i;

	mp->head[mp->head_len] = '\0';
	for (line = mp->head; *line != '\0'; line = next) {
		if ((next = strstr(line, "\r\n")) == NULL)
			return (mp_error(mp, "a part header without CRLF"));
		*next = '\0';
		next += 2;
		if (*line == '\0')
			break;
		if (*line == ' ' || *line == '\t')
			return (mp_error(mp, "a folded part header"));
		if (strchr(line, '\r') != NULL || strchr(line, '\n') != NULL)
			return (mp_error(mp, "a bare CR or LF in a part "
			    "header"));
		if ((colon = strchr(line, ':')) == NULL || colon == line)
			return (mp_error(mp, "a malformed part header"));
		*colon = '\0';
		for (i = 0; line[i] != '\0'; i++)
			if (!mp_tchar((unsigned char)line[i]))
				return (mp_error(mp, "a malformed part header "
				    "name"));
		v = mp_trim(colon + 1);
		if (strcasecmp(line, "Content-Disposition") == 0) {
			if (disp)
				return (mp_error(mp, "two Content-Disposition "
				    "in a part"));
			disp = true;
			if (mp_disposition(mp, v, &file) == -1)
				return (-1);
		} else if (strcasecmp(line, "Content-Type") == 0) {
			if (strlen(v) > MP_CTYPE_MAX)
				return (mp_error(mp, "a part's Content-Type "
				    "over 127 bytes"));
			for (i = 0; v[i] != '\0'; i++)
				if ((unsigned char)v[i] < 0x20 ||
				    (unsigned char)v[i] >= 0x7f)
					return (mp_error(mp, "a part's "
					    "Content-Type outside printable "
					    "ASCII"));
			memcpy(ctype, v, strlen(v) + 1);
		} else if (strcasecmp(line, "Content-Transfer-Encoding") ==
		    0 && strcasecmp(v, "binary") != 0 &&
		    strcasecmp(v, "8bit") != 0 && strcasecmp(v, "7bit") != 0)
			return (mp_error(mp, "a Content-Transfer-Encoding "
			    "other than binary"));
	}
	if (!disp)
		return (mp_error(mp, "a part without Content-Disposition"));
	if (file) {
		if (mp->found)
			return (mp_error(mp, "two parts named " MP_FIELD));
		mp->found = true;
		mp->in_file = true;
		memcpy(mp->ctype, ctype, sizeof(mp->ctype));
	}
	mp->head_len = 0;
	mp->state = MP_BODY;
	return (0);
}

/* The rest of a delimiter's line: "--" (the end), or padding and CRLF. */
static int
mp_after(struct multipart *mp, unsigned char c)
{
	switch (mp->after) {
	case MP_AFTER_START:
	case MP_AFTER_PAD:
		if (c == ' ' || c == '\t') {
			if (++mp->pad > MP_PAD_MAX)
				return (mp_error(mp, "padding after a "
				    "boundary"));
			mp->after = MP_AFTER_PAD;
			return (0);
		}
		if (c == '\r') {
			mp->after = MP_AFTER_CR;
			return (0);
		}
		if (c == '-' && mp->after == MP_AFTER_START) {
			mp->after = MP_AFTER_DASH;
			return (0);
		}
		break;
	case MP_AFTER_DASH:
		if (c != '-')
			break;
		mp->closed = true;
		mp->state = MP_EPILOGUE;
		return (0);
	case MP_AFTER_CR:
		if (c != '\n')
			break;
		if (++mp->parts > MP_PARTS_MAX)
			return (mp_error(mp, "more than 16 parts"));
		mp->state = MP_HEADERS;
		mp->head_len = 0;
		return (0);
	}
	return (mp_error(mp, "a boundary followed by something else than "
	    "CRLF or \"--\""));
}

int
multipart_feed(struct multipart *mp, const unsigned char *p, size_t len)
{
	size_t	 i = 0;
	long	 used;
	bool	 hit;

	while (i < len) {
		switch (mp->state) {
		case MP_PREAMBLE:
		case MP_BODY:
			if ((used = mp_scan(mp, p + i, len - i, &hit)) == -1)
				return (-1);
			i += (size_t)used;
			if (!hit)
				break;
			if (mp->in_file) {
				mp->in_file = false;
				mp->file_done = true;
			}
			mp->state = MP_AFTER_DELIM;
			mp->after = MP_AFTER_START;
			mp->pad = 0;
			break;
		case MP_AFTER_DELIM:
			if (mp_after(mp, p[i++]) == -1)
				return (-1);
			break;
		case MP_HEADERS:
			if (mp->head_len == MP_HEAD_MAX)
				return (mp_error(mp, "a part's headers over "
				    "4 KiB"));
			if (p[i] == '\0')
				return (mp_error(mp, "a NUL in a part's "
				    "headers"));
			mp->head[mp->head_len++] = (char)p[i++];
			/* Done at the empty line (or no header at all). */
			if ((mp->head_len == 2 && memcmp(mp->head, "\r\n",
			    2) == 0) || (mp->head_len >= 4 &&
			    memcmp(mp->head + mp->head_len - 4, "\r\n\r\n",
			    4) == 0)) {
				if (mp_headers(mp) == -1)
					return (-1);
			}
			break;
		case MP_EPILOGUE:
			return (0);
		case MP_ERROR:
			return (-1);
		}
	}
	return (mp->state == MP_ERROR ? -1 : 0);
}

int
multipart_finish(struct multipart *mp)
{
	if (mp->state == MP_ERROR)
		return (-1);
	if (!mp->closed)
		return (mp_error(mp, "the body ended before its closing "
		    "boundary"));
	if (!mp->found || !mp->file_done)
		return (mp_error(mp, "no part named " MP_FIELD));
	return (0);
}
