/*
 * CoT event parser: see cot_parse.h and docs/cot.md.
 *
 * The bytes are checked before libxml2 sees them (size, UTF-8, no NUL, the
 * prolog is at most one declaration that passes the framer's check, then
 * "<event"), so the parser is only ever given one element in UTF-8 without
 * a DTD.  libxml2 then parses it through SAX2 callbacks that copy the few
 * fields routing needs; no tree is built.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include "cot/cot_frame.h"
#include "cot/cot_parse.h"
#include "cot/cot_parse_xml.h"
#include "shared/utf8.h"

/*
 * No entity substitution, no DTD loading or defaulted attributes, no
 * network, no relaxed limits; CDATA comes as text (which we ignore).
 */
#define PARSE_OPTIONS	(XML_PARSE_NONET | XML_PARSE_NOCDATA | \
			 XML_PARSE_NOERROR | XML_PARSE_NOWARNING | \
			 XML_PARSE_IGNORE_ENC)

/*
 * libxml2 looks every element's namespace up by a linear walk over the
 * declarations in scope; CoT uses none, so a few are plenty.
 */
#define PARSE_NAMESPACES	16

/* Where an element sits, for the few paths we read. */
enum parse_at {
	AT_OTHER,
	AT_EVENT,
	AT_DETAIL,
	AT_MARTI,
	AT_TAKCONTROL
};

struct parse_state {
	xmlParserCtxtPtr ctxt;
	struct cot_view	*v;
	char		*err;
	size_t		 errlen;
	int		 failed;
	int		 depth;
	int		 nns;		/* namespace declarations so far */
	int		 line_base;	/* lines skipped before "<event" */
	unsigned char	 at[COT_PARSE_DEPTH + 1];
	int		 seen_point;
	int		 seen_contact;
	int		 seen_group;
	int		 seen_fileshare;
	const char *const *names;	/* children of <detail> to look for */
	unsigned	*seen;		/* their bits */
	/* event attributes kept for the checks after the parse */
	int		 has_stale;
	char		 stale[48];
};

static const char COT_ALL_STREAMING[] = "All Streaming";

static void
parse_fail(struct parse_state *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
parse_fail(struct parse_state *st, const char *fmt, ...)
{
	va_list	 ap;

	if (st->failed)
		return;
	st->failed = 1;
	va_start(ap, fmt);
	(void)vsnprintf(st->err, st->errlen, fmt, ap);
	va_end(ap);
	if (st->ctxt != NULL)
		xmlStopParser(st->ctxt);
}

static int
errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return (-1);
}

/*
 * Offset of the first byte that is not well-formed UTF-8 (overlong forms,
 * surrogates and code points past U+10FFFF included) or is NUL; len if none.
 */
static size_t
parse_utf8_bad(const uint8_t *s, size_t len)
{
	size_t	 i = 0, n;
	uint32_t cp;
	uint64_t w;

	while (i < len) {
		/* Plain ASCII without NUL goes eight bytes at a time. */
		if (len - i >= 8) {
			memcpy(&w, s + i, 8);
			if ((w & 0x8080808080808080ULL) == 0 &&
			    ((w - 0x0101010101010101ULL) & ~w &
			    0x8080808080808080ULL) == 0) {
				i += 8;
				continue;
			}
		}
		cp = s[i];
		if (cp == 0)
			return (i);
		if (cp < 0x80) {
			i++;
			continue;
		}
		if ((n = utf8_decode(s + i, len - i, &cp)) == 0)
			return (i);
		i += n;
	}
	return (len);
}

/*
 * Most attributes in any one tag, counted on the raw bytes ('=' outside
 * quoted values, per '<' ... '>').  libxml2 checks attributes for duplicates
 * pairwise, so thousands of them in one 64 KiB tag would cost a quadratic
 * amount of CPU: refuse them before libxml2 runs.  An over-count (a comment
 * with a quote in it) only errs towards rejecting, and only past the cap.
 */
static size_t
parse_max_attrs(const uint8_t *s, size_t len)
{
	size_t	 i, n = 0, most = 0;
	int	 in_tag = 0, quote = 0;

	for (i = 0; i < len; i++) {
		if (quote) {
			if (s[i] == quote)
				quote = 0;
			continue;
		}
		switch (s[i]) {
		case '<':
			in_tag = 1;
			n = 0;
			break;
		case '>':
			in_tag = 0;
			break;
		case '"':
		case '\'':
			if (in_tag)
				quote = s[i];
			break;
		case '=':
			if (in_tag && ++n > most)
				most = n;
			break;
		}
	}
	return (most);
}

static int
parse_ws(uint8_t c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\n');
}

/*
 * Skip whitespace and one XML declaration; return the offset of what
 * follows ("<event" when all is well), counting newlines into *lines.
 * The declaration must pass the framer's check (cot_scan_decl()): the
 * framer drops declarations, so one here came from elsewhere, and nothing
 * may hide in it (an event smuggled inside would reach whoever got these
 * bytes as an event of its own).  Its encoding is not trusted anyway.
 */
static int
parse_prolog(const uint8_t *b, size_t len, size_t *at, int *lines, char *err,
    size_t errlen)
{
	struct cot_decl_scan	 st;
	const char		*why;
	size_t			 i = 0, j, n, end;
	int			 decl = 0, r;

	*lines = 0;
	for (;;) {
		while (i < len && parse_ws(b[i]))
			if (b[i++] == '\n')
				(*lines)++;
		if (decl || len - i < 6 || memcmp(b + i, "<?xml", 5) != 0 ||
		    !(parse_ws(b[i + 5]) || b[i + 5] == '?'))
			break;
		memset(&st, 0, sizeof(st));
		if ((r = cot_scan_decl(&st, b + i, 5, len - i, &end, &why)) ==
		    -1)
			return (errf(err, errlen, "%s (at offset %zu)", why,
			    i + end));
		if (r == 0)
			return (errf(err, errlen,
			    "unterminated XML declaration"));
		for (j = i; j < i + end; j++)
			if (b[j] == '\n')
				(*lines)++;
		i += end;
		decl = 1;
	}
	if (len - i >= 7 && memcmp(b + i, "<event", 6) == 0 &&
	    (parse_ws(b[i + 6]) || b[i + 6] == '>' || b[i + 6] == '/')) {
		*at = i;
		return (0);
	}
	if (len - i >= 9 && memcmp(b + i, "<!DOCTYPE", 9) == 0)
		return (errf(err, errlen,
		    "DOCTYPE not allowed (CoT never has one)"));
	if (i == len)
		return (errf(err, errlen, "no <event> element"));
	if (b[i] == '<' && i + 1 < len && b[i + 1] != '!' && b[i + 1] != '?') {
		for (n = 0; i + 1 + n < len && n < 32; n++) {
			j = i + 1 + n;
			if (parse_ws(b[j]) || b[j] == '>' || b[j] == '/' ||
			    b[j] < 0x20 || b[j] >= 0x7f || b[j] == '<')
				break;
		}
		return (errf(err, errlen, "root element is <%.*s>, not <event>",
		    (int)n, (const char *)b + i + 1));
	}
	return (errf(err, errlen,
	    "expected <event> after the XML declaration"));
}

/*
 * Copy one attribute value into a field.  Too long or a control character
 * is an error: identities are never cut, and never carry line breaks into
 * logs.  Without entity substitution libxml2 hands a '&' (from "&amp;" or a
 * character reference) over as "&#38;", for a tree builder to decode
 * later; we are that decoder.
 */
static int
parse_copy(struct parse_state *st, const xmlChar *val, const xmlChar *end,
    char *dst, size_t dstlen, const char *elem, const char *name)
{
	size_t	 o = 0;

	for (; val < end; val++) {
		if (o + 1 >= dstlen) {
			parse_fail(st, "<%s> %s longer than %zu bytes", elem,
			    name, dstlen - 1);
			return (-1);
		}
		if (*val < 0x20 || *val == 0x7f) {
			parse_fail(st, "control character in <%s> %s", elem,
			    name);
			return (-1);
		}
		if (*val == '&') {
			if (end - val < 5 || memcmp(val, "&#38;", 5) != 0) {
				parse_fail(st, "unexpected reference in <%s> "
				    "%s", elem, name);
				return (-1);
			}
			val += 4;	/* to the ';' */
			dst[o++] = '&';
			continue;
		}
		dst[o++] = (char)*val;
	}
	dst[o] = '\0';
	return (0);
}

/*
 * parse_copy() for a value that never refuses its event: one that does not
 * fit, has a control character or a reference but "&#38;" leaves dst "".
 */
static void
parse_copy_soft(const xmlChar *val, const xmlChar *end, char *dst,
    size_t dstlen)
{
	size_t	 o = 0;

	for (; val < end; val++) {
		if (o + 1 >= dstlen || *val < 0x20 || *val == 0x7f)
			goto none;
		if (*val == '&') {
			if (end - val < 5 || memcmp(val, "&#38;", 5) != 0)
				goto none;
			val += 4;	/* to the ';' */
			dst[o++] = '&';
			continue;
		}
		dst[o++] = (char)*val;
	}
	dst[o] = '\0';
	return;
 none:
	dst[0] = '\0';
}

static int
attr_is(const xmlChar **a, const char *name)
{
	return (a[1] == NULL && strcmp((const char *)a[0], name) == 0);
}

static int64_t
parse_time_attr(const xmlChar *val, const xmlChar *end)
{
	char	 buf[48];
	size_t	 n = (size_t)(end - val);
	int64_t	 ms;

	if (n >= sizeof(buf))
		return (COT_TIME_UNSET);
	memcpy(buf, val, n);
	buf[n] = '\0';
	if (cot_time_parse(buf, &ms) == -1)
		return (COT_TIME_UNSET);
	return (ms);
}

/* A finite number, else -1. */
static int
parse_double(const xmlChar *val, const xmlChar *end, double *d)
{
	char	 buf[64], *ep;
	size_t	 n = (size_t)(end - val);

	if (n == 0 || n >= sizeof(buf))
		return (-1);
	memcpy(buf, val, n);
	buf[n] = '\0';
	errno = 0;
	*d = strtod(buf, &ep);
	if (*ep != '\0' || errno == ERANGE || !isfinite(*d))
		return (-1);
	return (0);
}

static void
parse_event(struct parse_state *st, int nattr, const xmlChar **a)
{
	struct cot_view	*v = st->v;
	int		 i;

	for (i = 0; i < nattr; i++, a += 5) {
		if (attr_is(a, "uid")) {
			if (parse_copy(st, a[3], a[4], v->uid, sizeof(v->uid),
			    "event", "uid") == -1)
				return;
		} else if (attr_is(a, "type")) {
			if (parse_copy(st, a[3], a[4], v->type,
			    sizeof(v->type), "event", "type") == -1)
				return;
		} else if (attr_is(a, "how")) {
			if (parse_copy(st, a[3], a[4], v->how, sizeof(v->how),
			    "event", "how") == -1)
				return;
		} else if (attr_is(a, "time"))
			v->time_ms = parse_time_attr(a[3], a[4]);
		else if (attr_is(a, "start"))
			v->start_ms = parse_time_attr(a[3], a[4]);
		else if (attr_is(a, "stale")) {
			st->has_stale = 1;
			if (parse_copy(st, a[3], a[4], st->stale,
			    sizeof(st->stale), "event", "stale") == -1)
				return;
			v->stale_ms = parse_time_attr(a[3], a[4]);
		}
	}
}

static void
parse_point(struct parse_state *st, int nattr, const xmlChar **a)
{
	struct cot_view	*v = st->v;
	double		 d;
	int		 i, lat = 0, lon = 0;

	for (i = 0; i < nattr; i++, a += 5) {
		if (a[1] != NULL || parse_double(a[3], a[4], &d) == -1)
			continue;
		if (attr_is(a, "lat") && d >= -90.0 && d <= 90.0) {
			v->lat = d;
			lat = 1;
		} else if (attr_is(a, "lon") && d >= -180.0 && d <= 180.0) {
			v->lon = d;
			lon = 1;
		} else if (attr_is(a, "hae"))
			v->hae = d;
		else if (attr_is(a, "ce"))
			v->ce = d;
		else if (attr_is(a, "le"))
			v->le = d;
	}
	v->has_point = lat && lon;
}

static void
parse_contact(struct parse_state *st, int nattr, const xmlChar **a)
{
	struct cot_view	*v = st->v;
	int		 i;

	v->has_contact = true;
	for (i = 0; i < nattr; i++, a += 5) {
		if (attr_is(a, "callsign")) {
			if (parse_copy(st, a[3], a[4], v->callsign,
			    sizeof(v->callsign), "contact", "callsign") == -1)
				return;
		} else if (attr_is(a, "endpoint")) {
			if (parse_copy(st, a[3], a[4], v->endpoint,
			    sizeof(v->endpoint), "contact", "endpoint") == -1)
				return;
		}
	}
}

static void
parse_group(struct parse_state *st, int nattr, const xmlChar **a)
{
	struct cot_view	*v = st->v;
	int		 i;

	for (i = 0; i < nattr; i++, a += 5) {
		if (attr_is(a, "name")) {
			if (parse_copy(st, a[3], a[4], v->group_name,
			    sizeof(v->group_name), "__group", "name") == -1)
				return;
		} else if (attr_is(a, "role")) {
			if (parse_copy(st, a[3], a[4], v->group_role,
			    sizeof(v->group_role), "__group", "role") == -1)
				return;
		}
	}
}

static void
parse_link(struct parse_state *st, int nattr, const xmlChar **a)
{
	struct cot_view	*v = st->v;
	const xmlChar	**uid = NULL, **type = NULL;
	int		 i;

	if (v->link_uid[0] != '\0')
		return;
	for (i = 0; i < nattr; i++, a += 5) {
		if (attr_is(a, "uid"))
			uid = a;
		else if (attr_is(a, "type"))
			type = a;
	}
	if (uid == NULL || uid[3] == uid[4])
		return;
	if (parse_copy(st, uid[3], uid[4], v->link_uid, sizeof(v->link_uid),
	    "link", "uid") == -1)
		return;
	if (type != NULL)
		(void)parse_copy(st, type[3], type[4], v->link_type,
		    sizeof(v->link_type), "link", "type");
}

/* <fileshare senderUrl>: the b-f-t-r's download URL. */
static void
parse_fileshare(struct parse_state *st, int nattr, const xmlChar **a)
{
	int	 i;

	for (i = 0; i < nattr; i++, a += 5)
		if (attr_is(a, "senderUrl")) {
			parse_copy_soft(a[3], a[4], st->v->fileshare_url,
			    sizeof(st->v->fileshare_url));
			return;
		}
}

static void
parse_dest_add(struct parse_state *st, enum cot_dest_kind kind,
    const xmlChar **a)
{
	struct cot_view	*v = st->v;
	struct cot_dest	*d;

	if (kind == COT_DEST_CALLSIGN &&
	    (size_t)(a[4] - a[3]) == sizeof(COT_ALL_STREAMING) - 1 &&
	    memcmp(a[3], COT_ALL_STREAMING, sizeof(COT_ALL_STREAMING) - 1) ==
	    0) {
		v->dest_all = true;
		return;
	}
	if (v->n_dest == COT_MAX_DEST) {
		parse_fail(st, "more than %d <marti><dest> recipients",
		    COT_MAX_DEST);
		return;
	}
	d = &v->dest[v->n_dest];
	d->kind = kind;
	if (parse_copy(st, a[3], a[4], d->value, sizeof(d->value), "dest",
	    kind == COT_DEST_UID ? "uid" : "callsign") == 0)
		v->n_dest++;
}

static void
parse_dest(struct parse_state *st, int nattr, const xmlChar **a)
{
	int	 i, used = 0;

	for (i = 0; i < nattr && !st->failed; i++, a += 5) {
		if (a[3] == a[4])
			continue;
		if (attr_is(a, "callsign")) {
			parse_dest_add(st, COT_DEST_CALLSIGN, a);
			used = 1;
		} else if (attr_is(a, "uid")) {
			parse_dest_add(st, COT_DEST_UID, a);
			used = 1;
		}
	}
	if (!used)
		st->v->n_dest_other++;
}

/*
 * <TakControl><TakRequest version="N"/>: the TAK protocol version a
 * t-x-takp-q asks for, a decimal from 1 to COT_TAKP_VERSION_MAX; anything
 * else (no version, "01x", "0") is -1, which the answer refuses.
 */
static void
parse_takp_request(struct parse_state *st, int nattr, const xmlChar **a)
{
	const xmlChar	*p;
	int		 i, n;

	if (st->v->takp_request != 0)
		return;		/* "Only ONE TakRequest element is allowed" */
	st->v->takp_request = -1;
	for (i = 0; i < nattr; i++, a += 5) {
		if (!attr_is(a, "version"))
			continue;
		for (n = 0, p = a[3]; p < a[4]; p++) {
			if (*p < '0' || *p > '9' ||
			    n > (COT_TAKP_VERSION_MAX - (*p - '0')) / 10)
				return;
			n = n * 10 + (*p - '0');
		}
		if (n >= 1)
			st->v->takp_request = n;
		return;
	}
}

/* Bit i of *st->seen for a child of <detail> named st->names[i]. */
static void
parse_seen(struct parse_state *st, const char *n)
{
	unsigned	 i;

	if (st->names == NULL)
		return;
	for (i = 0; i < 32 && st->names[i] != NULL; i++)
		if (strcmp(st->names[i], n) == 0)
			*st->seen |= 1u << i;
}

static void
parse_start(void *ctx, const xmlChar *name, const xmlChar *prefix,
    const xmlChar *uri, int nns, const xmlChar **ns, int nattr, int ndef,
    const xmlChar **attrs)
{
	struct parse_state	*st = ctx;
	const char		*n = (const char *)name;
	int			 parent, at = AT_OTHER;

	if (st->failed)
		return;
	if (nattr > COT_PARSE_ATTRS) {
		parse_fail(st, "element <%s> with more than %d attributes", n,
		    COT_PARSE_ATTRS);
		return;
	}
	if ((st->nns += nns) > PARSE_NAMESPACES) {
		parse_fail(st, "more than %d namespace declarations",
		    PARSE_NAMESPACES);
		return;
	}
	if (++st->depth > COT_PARSE_DEPTH) {
		parse_fail(st, "elements nested deeper than %d levels",
		    COT_PARSE_DEPTH);
		return;
	}
	parent = st->depth > 1 ? st->at[st->depth - 1] : AT_OTHER;
	if (prefix != NULL)
		;	/* CoT has no namespaces: not one of ours */
	else if (st->depth == 1) {
		/* parse_prolog() saw "<event", but be sure. */
		if (strcmp(n, "event") != 0) {
			parse_fail(st, "root element is <%s>, not <event>", n);
			return;
		}
		at = AT_EVENT;
		parse_event(st, nattr, attrs);
	} else if (parent == AT_EVENT) {
		if (strcmp(n, "detail") == 0)
			at = AT_DETAIL;
		else if (strcmp(n, "point") == 0 && !st->seen_point) {
			st->seen_point = 1;
			parse_point(st, nattr, attrs);
		}
	} else if (parent == AT_DETAIL) {
		parse_seen(st, n);
		if (strcmp(n, "contact") == 0 && !st->seen_contact) {
			st->seen_contact = 1;
			parse_contact(st, nattr, attrs);
		} else if (strcmp(n, "__group") == 0 && !st->seen_group) {
			st->seen_group = 1;
			parse_group(st, nattr, attrs);
		} else if (strcmp(n, "link") == 0)
			parse_link(st, nattr, attrs);
		else if (strcmp(n, "fileshare") == 0 && !st->seen_fileshare) {
			st->seen_fileshare = 1;
			parse_fileshare(st, nattr, attrs);
		} else if (strcmp(n, "marti") == 0) {
			at = AT_MARTI;
			st->v->has_marti = true;
		} else if (strcmp(n, "TakControl") == 0)
			at = AT_TAKCONTROL;
	} else if (parent == AT_MARTI && strcmp(n, "dest") == 0)
		parse_dest(st, nattr, attrs);
	else if (parent == AT_TAKCONTROL && strcmp(n, "TakRequest") == 0)
		parse_takp_request(st, nattr, attrs);
	st->at[st->depth] = (unsigned char)at;
}

static void
parse_end(void *ctx, const xmlChar *name, const xmlChar *prefix,
    const xmlChar *uri)
{
	struct parse_state	*st = ctx;

	if (!st->failed && st->depth > 0)
		st->depth--;
}

/* Never reached (the prolog check refuses a DOCTYPE): a second lock. */
static void
parse_subset(void *ctx, const xmlChar *name, const xmlChar *eid,
    const xmlChar *sid)
{
	parse_fail(ctx, "DOCTYPE not allowed (CoT never has one)");
}

static void
parse_entity_decl(void *ctx, const xmlChar *name, int type,
    const xmlChar *pid, const xmlChar *sid, xmlChar *content)
{
	parse_fail(ctx, "entity declaration not allowed");
}

static xmlEntityPtr
parse_get_entity(void *ctx, const xmlChar *name)
{
	/* Only the five predefined ones, which libxml2 handles itself. */
	return (NULL);
}

/* libxml2's errors: keep the first one, print nothing. */
static void
parse_error(void *ctx, xmlErrorPtr e)
{
	struct parse_state	*st = ctx;
	char			 msg[160];
	size_t			 i, n;

	if (e == NULL || e->level < XML_ERR_ERROR || st->failed)
		return;
	n = 0;
	if (e->message != NULL) {
		/* It may quote the input: no control character into logs. */
		for (i = 0; e->message[i] != '\0' && n < sizeof(msg) - 1; i++)
			msg[n++] = (unsigned char)e->message[i] < 0x20 ||
			    e->message[i] == 0x7f ? ' ' : e->message[i];
		/* cut inside a UTF-8 sequence: drop its start too */
		if (((unsigned char)e->message[i] & 0xc0) == 0x80) {
			while (n > 0 && ((unsigned char)msg[n - 1] & 0xc0) ==
			    0x80)
				n--;
			if (n > 0 && (unsigned char)msg[n - 1] >= 0xc0)
				n--;
		}
		while (n > 0 && msg[n - 1] == ' ')
			n--;
	}
	msg[n] = '\0';
	parse_fail(st, "malformed XML at line %d, column %d: %s",
	    e->line + st->line_base, e->int2, n > 0 ? msg : "parse error");
}

static void
parse_view_init(struct cot_view *v, size_t event_off)
{
	v->event_off = event_off;
	v->uid[0] = v->type[0] = v->how[0] = '\0';
	v->time_ms = v->start_ms = v->stale_ms = COT_TIME_UNSET;
	v->has_point = false;
	v->lat = v->lon = 0.0;
	v->hae = v->ce = v->le = 9999999.0;
	v->has_contact = false;
	v->callsign[0] = v->endpoint[0] = '\0';
	v->group_name[0] = v->group_role[0] = '\0';
	v->has_marti = v->dest_all = false;
	v->n_dest = v->n_dest_other = 0;
	v->link_uid[0] = v->link_type[0] = '\0';
	v->fileshare_url[0] = '\0';
	v->takp_request = 0;
}

void
cot_parse_view_init(struct cot_view *v)
{
	parse_view_init(v, 0);
}

void
cot_parse_init(void)
{
	xmlInitParser();
}

/*
 * The checks on the raw bytes before libxml2 sees them: UTF-8 without NUL,
 * at most COT_PARSE_ATTRS attributes per tag.  off: where b sits in the
 * caller's input, for the message.
 */
static int
parse_bytes_ok(const uint8_t *b, size_t len, size_t off, char *err,
    size_t errlen)
{
	size_t	 bad;

	if ((bad = parse_utf8_bad(b, len)) < len)
		return (errf(err, errlen, b[bad] == 0 ?
		    "NUL byte at offset %zu" : "invalid UTF-8 at offset %zu",
		    off + bad));
	if (parse_max_attrs(b, len) > COT_PARSE_ATTRS)
		return (errf(err, errlen, "an element with more than %d "
		    "attributes", COT_PARSE_ATTRS));
	return (0);
}

/*
 * The SAX2 pass over one element (<event>, or the <detail> that
 * cot_parse_detail() wraps a fragment in), bytes already checked.
 */
static int
parse_run(struct parse_state *st, const uint8_t *b, size_t len)
{
	xmlSAXHandler		 sax;
	xmlSAXHandlerPtr	 saved;
	xmlParserCtxtPtr	 ctxt;
	int			 rc, wf;

	memset(&sax, 0, sizeof(sax));
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = parse_start;
	sax.endElementNs = parse_end;
	sax.internalSubset = parse_subset;
	sax.externalSubset = parse_subset;
	sax.entityDecl = parse_entity_decl;
	sax.getEntity = parse_get_entity;
	sax.serror = parse_error;

	ctxt = xmlCreateMemoryParserCtxt((const char *)b, (int)len);
	if (ctxt == NULL)
		return (errf(st->err, st->errlen,
		    "out of memory for the XML parser"));
	(void)xmlCtxtUseOptions(ctxt, PARSE_OPTIONS);
	(void)xmlSwitchEncoding(ctxt, XML_CHAR_ENCODING_UTF8);
	saved = ctxt->sax;
	ctxt->sax = &sax;
	ctxt->userData = st;
	st->ctxt = ctxt;
	rc = xmlParseDocument(ctxt);
	wf = ctxt->wellFormed;
	ctxt->sax = saved;
	st->ctxt = NULL;
	xmlFreeParserCtxt(ctxt);

	if (st->failed)
		return (-1);
	if (rc != 0 || !wf)
		return (errf(st->err, st->errlen, "malformed XML"));
	return (0);
}

int
cot_parse(const void *buf, size_t len, struct cot_view *v, char *err,
    size_t errlen)
{
	char			 scratch[1];
	const uint8_t		*b = buf;
	struct parse_state	 st;
	size_t			 at = 0;
	int			 lines;

	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof(scratch);
	}
	if (len > COT_PARSE_MAX_BYTES)
		return (errf(err, errlen, "event of %zu bytes (limit %d)", len,
		    COT_PARSE_MAX_BYTES));
	if (parse_prolog(b, len, &at, &lines, err, errlen) == -1)
		return (-1);
	if (parse_bytes_ok(b + at, len - at, at, err, errlen) == -1)
		return (-1);

	memset(&st, 0, sizeof(st));
	st.v = v;
	st.err = err;
	st.errlen = errlen;
	st.line_base = lines;
	parse_view_init(v, at);
	if (parse_run(&st, b + at, len - at) == -1)
		return (-1);

	if (v->uid[0] == '\0')
		return (errf(err, errlen, "event without uid"));
	if (v->type[0] == '\0')
		return (errf(err, errlen, "event %s without type", v->uid));
	if (!st.has_stale)
		return (errf(err, errlen, "event %s without stale time",
		    v->uid));
	if (v->stale_ms == COT_TIME_UNSET)
		return (errf(err, errlen, "event %s with invalid stale time "
		    "\"%s\"", v->uid, st.stale));
	return (0);
}

static const char DETAIL_OPEN[] = "<detail>";
static const char DETAIL_CLOSE[] = "</detail>";

int
cot_parse_detail(const void *frag, size_t len, struct cot_view *v,
    const char *const *names, unsigned *seen, char *err, size_t errlen)
{
	char			 scratch[1];
	struct parse_state	 st;
	uint8_t			*b;
	size_t			 n;
	unsigned		 none;
	int			 rc;

	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof(scratch);
	}
	if (seen == NULL)
		seen = &none;
	*seen = 0;
	parse_view_init(v, 0);
	if (len > COT_PARSE_MAX_BYTES)
		return (errf(err, errlen, "detail of %zu bytes (limit %d)",
		    len, COT_PARSE_MAX_BYTES));
	if (parse_bytes_ok(frag, len, 0, err, errlen) == -1)
		return (-1);
	/*
	 * One element for libxml2: a fragment that closes the wrapper
	 * ("</detail><point .../><detail>") leaves two roots, malformed.
	 */
	n = sizeof(DETAIL_OPEN) - 1 + len + sizeof(DETAIL_CLOSE) - 1;
	if ((b = malloc(n)) == NULL)
		return (errf(err, errlen, "out of memory for the detail"));
	memcpy(b, DETAIL_OPEN, sizeof(DETAIL_OPEN) - 1);
	if (len > 0)
		memcpy(b + sizeof(DETAIL_OPEN) - 1, frag, len);
	memcpy(b + n - (sizeof(DETAIL_CLOSE) - 1), DETAIL_CLOSE,
	    sizeof(DETAIL_CLOSE) - 1);

	memset(&st, 0, sizeof(st));
	st.v = v;
	st.err = err;
	st.errlen = errlen;
	/*
	 * As if inside <event>: the wrapper is event/detail at level 2, so
	 * depth counts as in cot_parse() and the paths read are the same.
	 */
	st.depth = 1;
	st.at[1] = AT_EVENT;
	st.names = names;
	st.seen = seen;
	rc = parse_run(&st, b, n);
	free(b);
	return (rc);
}

xmlDocPtr
cot_parse_doc(const void *buf, size_t len, struct cot_view *v, char *err,
    size_t errlen)
{
	xmlDocPtr	 doc;

	if (cot_parse(buf, len, v, err, errlen) == -1)
		return (NULL);
	/*
	 * The bytes cot_parse() just accepted (no DTD, UTF-8, depth and
	 * attributes within the caps), under the same options.
	 */
	doc = xmlReadMemory((const char *)buf + v->event_off,
	    (int)(len - v->event_off), NULL, "UTF-8", PARSE_OPTIONS);
	if (doc == NULL || xmlDocGetRootElement(doc) == NULL) {
		xmlFreeDoc(doc);
		(void)errf(err, errlen, "event %s: no tree", v->uid);
		return (NULL);
	}
	return (doc);
}

bool
cot_is_takp_request(const struct cot_view *v)
{
	return (strcmp(v->type, "t-x-takp-q") == 0);
}

bool
cot_is_ping(const struct cot_view *v)
{
	return (strcmp(v->type, "t-x-c-t") == 0);
}

bool
cot_is_sa(const struct cot_view *v)
{
	return (v->type[0] == 'a' && v->type[1] == '-');
}

bool
cot_is_disconnect(const struct cot_view *v)
{
	return (strcmp(v->type, "t-x-d-d") == 0 && v->link_uid[0] != '\0');
}

const char *
cot_identity_uid(const struct cot_view *v)
{
	size_t	 n = strlen(v->uid);

	if (n == 0 || !v->has_contact || v->callsign[0] == '\0' ||
	    v->endpoint[0] == '\0')
		return (NULL);
	if (n >= 5 && strcmp(v->uid + n - 5, "-ping") == 0)
		return (NULL);
	return (v->uid);
}
