/* JSON writer: see json.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/json.h"
#include "shared/pkiutil.h"

void
json_init(struct json *j)
{
	memset(j, 0, sizeof(*j));
	j->first[0] = true;
}

void
json_free(struct json *j)
{
	free(j->buf);
	memset(j, 0, sizeof(*j));
}

static void
json_raw(struct json *j, const char *s, size_t n)
{
	char	*nb;
	size_t	 ncap;

	if (j->err)
		return;
	if (j->len + n + 1 > j->cap) {
		ncap = j->cap ? j->cap : 256;
		while (j->len + n + 1 > ncap)
			ncap *= 2;
		if ((nb = realloc(j->buf, ncap)) == NULL) {
			j->err = 1;
			return;
		}
		j->buf = nb;
		j->cap = ncap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

/* Every value and key goes through here: it places the comma. */
static void
json_sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		json_raw(j, ",", 1);
	j->first[j->depth] = false;
}

static void
json_open(struct json *j, const char *c)
{
	json_sep(j);
	json_raw(j, c, 1);
	if (j->depth + 1 >= JSON_MAX_DEPTH) {
		j->err = 1;
		return;
	}
	j->first[++j->depth] = true;
}

static void
json_close(struct json *j, const char *c)
{
	if (j->depth > 0)
		j->depth--;
	json_raw(j, c, 1);
}

void
json_obj_begin(struct json *j)
{
	json_open(j, "{");
}

void
json_obj_end(struct json *j)
{
	json_close(j, "}");
}

void
json_arr_begin(struct json *j)
{
	json_open(j, "[");
}

void
json_arr_end(struct json *j)
{
	json_close(j, "]");
}

static void
json_quoted(struct json *j, const char *s)
{
	char		 esc[8];
	const char	*run = s;

	json_raw(j, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		json_raw(j, run, (size_t)(s - run));
		if (c == '"' || c == '\\')
			snprintf(esc, sizeof(esc), "\\%c", c);
		else
			snprintf(esc, sizeof(esc), "\\u%04x", c);
		json_raw(j, esc, strlen(esc));
		run = s + 1;
	}
	json_raw(j, run, (size_t)(s - run));
	json_raw(j, "\"", 1);
}

void
json_key(struct json *j, const char *k)
{
	json_sep(j);
	json_quoted(j, k);
	json_raw(j, ":", 1);
	j->after_key = true;
}

void
json_str(struct json *j, const char *s)
{
	json_sep(j);
	if (s == NULL)
		json_raw(j, "null", 4);
	else
		json_quoted(j, s);
}

void
json_value(struct json *j, const char *text, size_t n)
{
	json_sep(j);
	json_raw(j, text, n);
}

void
json_int(struct json *j, int64_t v)
{
	char	 b[32];

	json_sep(j);
	snprintf(b, sizeof(b), "%" PRId64, v);
	json_raw(j, b, strlen(b));
}

void
json_uint(struct json *j, uint64_t v)
{
	char	 b[32];

	json_sep(j);
	snprintf(b, sizeof(b), "%" PRIu64, v);
	json_raw(j, b, strlen(b));
}

void
json_bool(struct json *j, bool v)
{
	json_sep(j);
	json_raw(j, v ? "true" : "false", v ? 4 : 5);
}

void
json_null(struct json *j)
{
	json_sep(j);
	json_raw(j, "null", 4);
}

void
json_time(struct json *j, time_t t)
{
	char	 b[32];

	/* pki_time_format() writes "-" for a time it cannot represent. */
	if (t != 0)
		pki_time_format(t, b, sizeof(b));
	if (t == 0 || strcmp(b, "-") == 0)
		json_null(j);
	else
		json_str(j, b);
}

void
json_kv_str(struct json *j, const char *k, const char *v)
{
	json_key(j, k);
	json_str(j, v);
}

void
json_kv_int(struct json *j, const char *k, int64_t v)
{
	json_key(j, k);
	json_int(j, v);
}

void
json_kv_uint(struct json *j, const char *k, uint64_t v)
{
	json_key(j, k);
	json_uint(j, v);
}

void
json_kv_bool(struct json *j, const char *k, bool v)
{
	json_key(j, k);
	json_bool(j, v);
}

void
json_kv_time(struct json *j, const char *k, time_t v)
{
	json_key(j, k);
	json_time(j, v);
}

/* --- reader -------------------------------------------------------------- */

static int
json_rd_fail(struct json_rd *r, const char *what)
{
	if (r->err == NULL) {
		r->err = what;
		r->err_at = (size_t)(r->p - r->start);
	}
	return (-1);
}

void
json_rd_init(struct json_rd *r, const char *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->start = r->p = buf;
	r->end = buf + len;
}

static void
json_rd_ws(struct json_rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
	    *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

int
json_rd_peek(struct json_rd *r)
{
	json_rd_ws(r);
	return (r->p < r->end ? (unsigned char)*r->p : -1);
}

static int
json_rd_char(struct json_rd *r, char c, const char *what)
{
	if (json_rd_peek(r) != (unsigned char)c)
		return (json_rd_fail(r, what));
	r->p++;
	return (0);
}

static bool
json_is_digit(char c)
{
	return (c >= '0' && c <= '9');
}

static int
json_hexval(char c)
{
	if (json_is_digit(c))
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

static int
json_rd_hex4(struct json_rd *r, unsigned *v)
{
	int	 i, h;

	*v = 0;
	if (r->end - r->p < 4)
		return (-1);
	for (i = 0; i < 4; i++) {
		if ((h = json_hexval(*r->p++)) == -1)
			return (-1);
		*v = *v * 16 + (unsigned)h;
	}
	return (0);
}

/* One UTF-8 sequence (strict: no overlong form, surrogate, > U+10FFFF). */
static int
json_rd_utf8(struct json_rd *r, unsigned *cp, size_t *n)
{
	const unsigned char	*u = (const unsigned char *)r->p;
	size_t			 i, left = (size_t)(r->end - r->p);
	unsigned		 min;

	if (u[0] < 0x80) {
		*n = 1;
		*cp = u[0];
		min = 0;
	} else if ((u[0] & 0xe0) == 0xc0) {
		*n = 2;
		*cp = u[0] & 0x1f;
		min = 0x80;
	} else if ((u[0] & 0xf0) == 0xe0) {
		*n = 3;
		*cp = u[0] & 0x0f;
		min = 0x800;
	} else if ((u[0] & 0xf8) == 0xf0) {
		*n = 4;
		*cp = u[0] & 0x07;
		min = 0x10000;
	} else
		return (-1);
	if (*n > left)
		return (-1);
	for (i = 1; i < *n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return (-1);
		*cp = (*cp << 6) | (u[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return (-1);
	return (0);
}

/* The \X escape after the backslash at r->p, as a code point. */
static int
json_rd_escape(struct json_rd *r, unsigned *cp)
{
	unsigned	 lo;
	char		 c = *r->p++;

	switch (c) {
	case '"': case '\\': case '/':
		*cp = (unsigned char)c;
		return (0);
	case 'b': *cp = '\b'; return (0);
	case 'f': *cp = '\f'; return (0);
	case 'n': *cp = '\n'; return (0);
	case 'r': *cp = '\r'; return (0);
	case 't': *cp = '\t'; return (0);
	case 'u':
		if (json_rd_hex4(r, cp) == -1)
			return (json_rd_fail(r, "bad \\u escape"));
		if (*cp >= 0xdc00 && *cp <= 0xdfff)
			return (json_rd_fail(r, "lone surrogate"));
		if (*cp < 0xd800 || *cp > 0xdbff)
			return (0);
		if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
			return (json_rd_fail(r, "lone surrogate"));
		r->p += 2;
		if (json_rd_hex4(r, &lo) == -1 || lo < 0xdc00 || lo > 0xdfff)
			return (json_rd_fail(r, "bad surrogate pair"));
		*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
		return (0);
	default:
		return (json_rd_fail(r, "bad escape in a string"));
	}
}

/* cp as UTF-8 into out at *n, if there is room (a NUL after it). */
static void
json_put_utf8(unsigned cp, char *out, size_t outlen, size_t *n, bool *trunc)
{
	char	 b[4];
	size_t	 k;

	if (cp < 0x80) {
		b[0] = (char)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		k = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		k = 4;
	}
	/* NUL from \u0000 would cut the C string: it does not fit either. */
	if (cp == 0 || *n + k >= outlen) {
		*trunc = true;
		return;
	}
	memcpy(out + *n, b, k);
	*n += k;
}

int
json_rd_string(struct json_rd *r, char *out, size_t outlen, bool *trunc)
{
	unsigned	 cp;
	size_t		 n = 0, k;
	bool		 dummy;
	char		 c;

	if (trunc == NULL)
		trunc = &dummy;
	*trunc = false;
	if (json_rd_char(r, '"', "expected a string") == -1)
		return (-1);
	for (;;) {
		if (r->p >= r->end)
			return (json_rd_fail(r, "unterminated string"));
		c = *r->p;
		if (c == '"') {
			r->p++;
			break;
		}
		if ((unsigned char)c < 0x20)
			return (json_rd_fail(r, "control character in a "
			    "string"));
		if (c == '\\') {
			if (++r->p >= r->end)
				return (json_rd_fail(r, "unterminated string"));
			if (json_rd_escape(r, &cp) == -1)
				return (-1);
		} else {
			if (json_rd_utf8(r, &cp, &k) == -1)
				return (json_rd_fail(r, "invalid UTF-8"));
			r->p += k;
		}
		if (out != NULL)
			json_put_utf8(cp, out, outlen, &n, trunc);
	}
	if (out != NULL && outlen > 0)
		out[n] = '\0';
	return (0);
}

int
json_rd_number(struct json_rd *r, const char **tok, size_t *len)
{
	const char	*p;

	json_rd_ws(r);
	p = *tok = r->p;
	if (p < r->end && *p == '-')
		p++;
	if (p < r->end && *p == '0')
		p++;
	else if (p < r->end && *p >= '1' && *p <= '9')
		while (p < r->end && json_is_digit(*p))
			p++;
	else
		return (json_rd_fail(r, "bad number"));
	if (p < r->end && *p == '.') {
		if (++p >= r->end || !json_is_digit(*p))
			return (json_rd_fail(r, "bad number"));
		while (p < r->end && json_is_digit(*p))
			p++;
	}
	if (p < r->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < r->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= r->end || !json_is_digit(*p))
			return (json_rd_fail(r, "bad number"));
		while (p < r->end && json_is_digit(*p))
			p++;
	}
	*len = (size_t)(p - *tok);
	r->p = p;
	return (0);
}

int
json_rd_literal(struct json_rd *r, const char *word)
{
	size_t	 n = strlen(word);

	json_rd_ws(r);
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return (json_rd_fail(r, "unexpected character"));
	r->p += n;
	return (0);
}

int
json_rd_open(struct json_rd *r, char open)
{
	if (json_rd_char(r, open, open == '{' ? "expected an object" :
	    "expected an array") == -1)
		return (-1);
	if (++r->depth > JSON_RD_DEPTH)
		return (json_rd_fail(r, "nested too deeply"));
	return (0);
}

int
json_rd_more(struct json_rd *r, char close, bool *first)
{
	int	 c = json_rd_peek(r);

	if (c == close) {
		r->p++;
		r->depth--;
		return (0);
	}
	if (!*first) {
		if (c != ',')
			return (json_rd_fail(r, "expected ',' or the end of "
			    "the container"));
		r->p++;
	}
	*first = false;
	return (1);
}

int
json_rd_key(struct json_rd *r, char *key, size_t keylen)
{
	bool	 trunc;

	if (json_rd_string(r, key, keylen, &trunc) == -1)
		return (-1);
	/* A name too long for key is no name the caller looks for. */
	if (trunc)
		key[0] = '\0';
	return (json_rd_char(r, ':', "expected ':'"));
}

int
json_rd_skip(struct json_rd *r)
{
	const char	*tok;
	size_t		 len;
	int		 c, more;
	bool		 first = true;

	switch ((c = json_rd_peek(r))) {
	case '{':
	case '[':
		if (json_rd_open(r, (char)c) == -1)
			return (-1);
		while ((more = json_rd_more(r, c == '{' ? '}' : ']',
		    &first)) == 1) {
			if (c == '{' && (json_rd_string(r, NULL, 0,
			    NULL) == -1 || json_rd_char(r, ':',
			    "expected ':'") == -1))
				return (-1);
			if (json_rd_skip(r) == -1)
				return (-1);
		}
		return (more);
	case '"':
		return (json_rd_string(r, NULL, 0, NULL));
	case 't':
		return (json_rd_literal(r, "true"));
	case 'f':
		return (json_rd_literal(r, "false"));
	case 'n':
		return (json_rd_literal(r, "null"));
	case -1:
		return (json_rd_fail(r, "unexpected end"));
	default:
		if (c != '-' && !json_is_digit((char)c))
			return (json_rd_fail(r, "unexpected character"));
		return (json_rd_number(r, &tok, &len));
	}
}

int
json_rd_value(struct json_rd *r, const char **v, size_t *vlen)
{
	json_rd_ws(r);
	*v = r->p;
	if (json_rd_skip(r) == -1)
		return (-1);
	*vlen = (size_t)(r->p - *v);
	return (0);
}

int
json_rd_end(struct json_rd *r)
{
	if (json_rd_peek(r) != -1)
		return (json_rd_fail(r, "data after the top-level value"));
	return (0);
}

int
json_get(const char *obj, size_t len, const char *key, const char **v,
    size_t *vlen)
{
	struct json_rd	 r;
	const char	*val;
	size_t		 vl;
	char		 k[JSON_RD_KEY_MAX];
	bool		 first = true;
	int		 more, found = 0;

	json_rd_init(&r, obj, len);
	if (json_rd_open(&r, '{') == -1)
		return (-1);
	while ((more = json_rd_more(&r, '}', &first)) == 1) {
		if (json_rd_key(&r, k, sizeof(k)) == -1 ||
		    json_rd_value(&r, &val, &vl) == -1)
			return (-1);
		/* The first of a repeated key, as the old reader did. */
		if (!found && strcmp(k, key) == 0) {
			found = 1;
			*v = val;
			*vlen = vl;
		}
	}
	if (more == -1 || json_rd_end(&r) == -1)
		return (-1);
	return (found);
}

int
json_array_next(const char **pos, const char *end, const char **elem,
    size_t *elen)
{
	struct json_rd	 r;
	bool		 first;
	int		 more;

	json_rd_init(&r, *pos, (size_t)(end - *pos));
	/* At '[' the walk starts; else *pos is just past an element. */
	if (json_rd_peek(&r) == '[') {
		if (json_rd_open(&r, '[') == -1)
			return (-1);
		first = true;
	} else {
		r.depth = 1;
		first = false;
	}
	if ((more = json_rd_more(&r, ']', &first)) != 1) {
		*pos = r.p;
		return (more);
	}
	if (json_rd_value(&r, elem, elen) == -1)
		return (-1);
	*pos = r.p;
	return (1);
}
