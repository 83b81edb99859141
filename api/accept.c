/*
 * The Accept header of signClient/v2 (accept.h).
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "api/accept.h"

#define ACCEPT_Q_ONE		1000	/* q-values in thousandths */
#define ACCEPT_NCAND		3

/* What the server can send, in the order of preference on a tie. */
static const struct accept_cand {
	const char		*type;
	const char		*subtype;
	enum accept_format	 format;
	const char		*content_type;
} accept_cands[ACCEPT_NCAND] = {
	{ "application", "json", ACCEPT_JSON, "application/json" },
	{ "application", "xml", ACCEPT_XML, "application/xml" },
	{ "text", "xml", ACCEPT_XML, "text/xml" },
};

struct accept_rd {
	const char	*p;
	const char	*end;
};

/* RFC 9110 tchar. */
static bool
accept_tchar(unsigned char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL));
}

static void
accept_ows(struct accept_rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t'))
		r->p++;
}

/* A token at r: its start and length, 0 when there is none. */
static size_t
accept_token(struct accept_rd *r, const char **tok)
{
	*tok = r->p;
	while (r->p < r->end && accept_tchar((unsigned char)*r->p))
		r->p++;
	return ((size_t)(r->p - *tok));
}

/* A quoted-string at r (RFC 9110 section 5.6.4); -1 when malformed. */
static int
accept_quoted(struct accept_rd *r)
{
	unsigned char	 c;

	r->p++;					/* the opening '"' */
	while (r->p < r->end) {
		c = (unsigned char)*r->p++;
		if (c == '"')
			return (0);
		if (c == '\\') {
			if (r->p == r->end)
				return (-1);
			c = (unsigned char)*r->p++;
			if (c != '\t' && (c < 0x20 || c == 0x7f))
				return (-1);
		} else if (c != '\t' && (c < 0x20 || c == 0x7f))
			return (-1);
	}
	return (-1);
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
static int
accept_qvalue(const char *s, size_t len, unsigned *q)
{
	size_t	 i;
	unsigned v, scale = 100;

	if (len == 0 || (s[0] != '0' && s[0] != '1'))
		return (-1);
	v = (unsigned)(s[0] - '0') * ACCEPT_Q_ONE;
	if (len > 1) {
		if (s[1] != '.' || len > 5)
			return (-1);
		for (i = 2; i < len; i++, scale /= 10) {
			if (s[i] < '0' || s[i] > '9')
				return (-1);
			v += (unsigned)(s[i] - '0') * scale;
		}
	}
	if (v > ACCEPT_Q_ONE)
		return (-1);
	*q = v;
	return (0);
}

static bool
accept_eq(const char *a, size_t alen, const char *b)
{
	return (alen == strlen(b) && strncasecmp(a, b, alen) == 0);
}

int
accept_choose(const char *value, size_t len, struct accept_choice *out,
    const char **why)
{
	struct accept_rd r;
	const char	*type, *sub, *name, *val;
	size_t		 tl, sl, nl, vl, nranges = 0, i;
	unsigned	 q, best_q[ACCEPT_NCAND] = { 0 };
	int		 spec, best_spec[ACCEPT_NCAND] = { -1, -1, -1 };
	int		 win = -1;

	*why = NULL;
	if (value == NULL)
		len = 0;
	if (len > ACCEPT_VALUE_MAX) {
		*why = "Accept longer than 2048 bytes";
		return (-1);
	}
	r.p = value;
	r.end = value + len;
	accept_ows(&r);
	if (r.p == r.end) {
		/* No header, or an empty one: anything goes. */
		out->format = ACCEPT_JSON;
		out->content_type = accept_cands[0].content_type;
		return (0);
	}
	while (r.p < r.end) {
		accept_ows(&r);
		if (r.p < r.end && *r.p == ',') {	/* empty element */
			r.p++;
			continue;
		}
		if (r.p == r.end)
			break;
		if (++nranges > ACCEPT_RANGES_MAX) {
			*why = "more than 32 media ranges in Accept";
			return (-1);
		}
		tl = accept_token(&r, &type);
		if (tl == 0 || r.p == r.end || *r.p != '/') {
			*why = "malformed media range in Accept";
			return (-1);
		}
		r.p++;
		sl = accept_token(&r, &sub);
		if (sl == 0 || (accept_eq(type, tl, "*") &&
		    !accept_eq(sub, sl, "*"))) {
			*why = "malformed media range in Accept";
			return (-1);
		}
		q = ACCEPT_Q_ONE;
		for (;;) {
			accept_ows(&r);
			if (r.p == r.end || *r.p == ',')
				break;
			if (*r.p != ';') {
				*why = "malformed media range in Accept";
				return (-1);
			}
			r.p++;
			accept_ows(&r);
			if (r.p == r.end || *r.p == ',' || *r.p == ';')
				continue;		/* empty parameter */
			nl = accept_token(&r, &name);
			if (nl == 0 || r.p == r.end || *r.p != '=') {
				*why = "malformed parameter in Accept";
				return (-1);
			}
			r.p++;
			if (r.p < r.end && *r.p == '"') {
				if (accept_quoted(&r) == -1) {
					*why = "malformed quoted string in "
					    "Accept";
					return (-1);
				}
				continue;
			}
			vl = accept_token(&r, &val);
			if (vl == 0) {
				*why = "malformed parameter in Accept";
				return (-1);
			}
			if (accept_eq(name, nl, "q") &&
			    accept_qvalue(val, vl, &q) == -1) {
				*why = "malformed q-value in Accept";
				return (-1);
			}
		}
		for (i = 0; i < ACCEPT_NCAND; i++) {
			if (accept_eq(type, tl, "*"))
				spec = 0;
			else if (!accept_eq(type, tl, accept_cands[i].type))
				continue;
			else if (accept_eq(sub, sl, "*"))
				spec = 1;
			else if (accept_eq(sub, sl, accept_cands[i].subtype))
				spec = 2;
			else
				continue;
			/* The most specific range decides; among equals, the
			 * highest q. */
			if (spec > best_spec[i] || (spec == best_spec[i] &&
			    q > best_q[i])) {
				best_spec[i] = spec;
				best_q[i] = q;
			}
		}
	}
	for (i = 0; i < ACCEPT_NCAND; i++)
		if (best_q[i] > 0 && (win == -1 || best_q[i] > best_q[win]))
			win = (int)i;
	if (win == -1) {
		*why = "Accept allows neither JSON nor XML";
		return (-1);
	}
	out->format = accept_cands[win].format;
	out->content_type = accept_cands[win].content_type;
	return (0);
}
