/* Fixtures of the v1 codec's tests: see takp_fx.h. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "cot/cot_parse.h"
#include "cot/takp.h"
#include "tests/unit/takp_fx.h"
#include "tests/unit/unit.h"

struct cot_view	 fx_view;
char		 fx_err[COT_ERR_MAX];

void
pb_free(struct pb *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void
pb_raw(struct pb *b, const void *p, size_t n)
{
	if (b->cap - b->len < n) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

void
pb_varint(struct pb *b, uint64_t v)
{
	uint8_t	 c;

	do {
		c = v & 0x7f;
		v >>= 7;
		if (v != 0)
			c |= 0x80;
		pb_raw(b, &c, 1);
	} while (v != 0);
}

void
pb_key(struct pb *b, uint32_t field, unsigned wire)
{
	pb_varint(b, (uint64_t)field << 3 | wire);
}

void
pb_u64(struct pb *b, uint32_t field, uint64_t v)
{
	pb_key(b, field, 0);
	pb_varint(b, v);
}

void
pb_double(struct pb *b, uint32_t field, double d)
{
	uint64_t	 u;
	uint8_t		 le[8];
	int		 i;

	memcpy(&u, &d, 8);
	for (i = 0; i < 8; i++)
		le[i] = (uint8_t)(u >> (8 * i));
	pb_key(b, field, 1);
	pb_raw(b, le, 8);
}

void
pb_bytes(struct pb *b, uint32_t field, const void *p, size_t n)
{
	pb_key(b, field, 2);
	pb_varint(b, n);
	pb_raw(b, p, n);
}

void
pb_str(struct pb *b, uint32_t field, const char *s)
{
	pb_bytes(b, field, s, strlen(s));
}

void
pb_msg(struct pb *b, uint32_t field, const struct pb *m)
{
	pb_bytes(b, field, m->p, m->len);
}

/* 2026-11-23T08:00:00Z */
#define FX_T0	UINT64_C(1795420800000)

void
pb_event_base(struct pb *ev, const char *uid)
{
	pb_str(ev, 1, "a-f-G-U-C");
	pb_str(ev, 5, uid);
	pb_u64(ev, 6, FX_T0);
	pb_u64(ev, 7, FX_T0);
	pb_u64(ev, 8, FX_T0 + 360000);
	pb_str(ev, 9, "m-g");
	pb_double(ev, 10, 38.8895);
	pb_double(ev, 11, -77.0353);
	pb_double(ev, 12, 21.4);
	pb_double(ev, 13, 9.9);
	pb_double(ev, 14, 9999999.0);
}

void
pb_wrap_event(struct pb *msg, const struct pb *ev)
{
	pb_msg(msg, 2, ev);
}

const uint8_t *
takp_fx_payload(const uint8_t *frame, size_t len, size_t *plen)
{
	uint64_t	 v = 0;
	size_t		 i = 1;
	unsigned	 shift = 0;

	assert_true(len >= 2);
	assert_int_equal(frame[0], 0xbf);
	for (;;) {
		assert_true(i < len && shift < 64);
		v |= (uint64_t)(frame[i] & 0x7f) << shift;
		if ((frame[i++] & 0x80) == 0)
			break;
		shift += 7;
	}
	/* minimal: no trailing 0x00 group after the first byte */
	if (i > 2)
		assert_int_not_equal(frame[i - 1], 0);
	assert_int_equal(v, len - i);
	*plen = len - i;
	return (frame + i);
}

static int
fx_diff(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fx_diff(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return (-1);
}

/* A plain decimal (what the codec writes and reads), to a double. */
static int
fx_number(const char *s, double *d)
{
	char	*ep;

	if (*s == '\0' || strspn(s, "+-.0123456789eE") != strlen(s))
		return (-1);
	*d = strtod(s, &ep);
	return (*ep == '\0' ? 0 : -1);
}

static int
fx_values_equal(const char *a, const char *b)
{
	double	 x, y;
	int64_t	 s, t;

	if (strcmp(a, b) == 0)
		return (1);
	if (fx_number(a, &x) == 0 && fx_number(b, &y) == 0)
		return (x == y);
	if (cot_time_parse(a, &s) == 0 && cot_time_parse(b, &t) == 0)
		return (s == t);
	return (0);
}

/* Whitespace-only text is layout, not content. */
static int
fx_blank(xmlNodePtr n)
{
	const xmlChar	*p;

	if (n->type != XML_TEXT_NODE)
		return (0);
	for (p = n->content; p != NULL && *p != '\0'; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			return (0);
	return (1);
}

static const char *
fx_ns(xmlNsPtr ns)
{
	return (ns == NULL ? "" : (const char *)ns->href);
}

static int fx_node(xmlNodePtr, xmlNodePtr, char *, size_t);

static int
fx_attrs(xmlNodePtr a, xmlNodePtr b, char *why, size_t whylen)
{
	xmlAttrPtr	 p, q;
	xmlChar		*va, *vb;
	int		 na = 0, nb = 0, ok;

	for (p = a->properties; p != NULL; p = p->next)
		na++;
	for (q = b->properties; q != NULL; q = q->next)
		nb++;
	if (na != nb)
		return (fx_diff(why, whylen, "<%s>: %d attributes, then %d",
		    a->name, na, nb));
	for (p = a->properties; p != NULL; p = p->next) {
		for (q = b->properties; q != NULL; q = q->next)
			if (xmlStrEqual(p->name, q->name) &&
			    strcmp(fx_ns(p->ns), fx_ns(q->ns)) == 0)
				break;
		if (q == NULL)
			return (fx_diff(why, whylen, "<%s> %s lost", a->name,
			    p->name));
		va = xmlNodeListGetString(a->doc, p->children, 1);
		vb = xmlNodeListGetString(b->doc, q->children, 1);
		ok = fx_values_equal(va != NULL ? (char *)va : "",
		    vb != NULL ? (char *)vb : "");
		if (!ok)
			(void)fx_diff(why, whylen, "<%s> %s=\"%s\" became "
			    "\"%s\"", a->name, p->name, va, vb);
		xmlFree(va);
		xmlFree(vb);
		if (!ok)
			return (-1);
	}
	return (0);
}

/* The children of n that carry content. */
static size_t
fx_children(xmlNodePtr n, xmlNodePtr *out, size_t max)
{
	xmlNodePtr	 c;
	size_t		 k = 0;

	for (c = n->children; c != NULL; c = c->next) {
		if (fx_blank(c))
			continue;
		assert_true(k < max);
		out[k++] = c;
	}
	return (k);
}

#define FX_KIDS	256

static int
fx_node(xmlNodePtr a, xmlNodePtr b, char *why, size_t whylen)
{
	xmlNodePtr	*ka, *kb;
	size_t		 na, nb, i, j;
	char		 sub[512];
	int		 rc = -1, unordered;
	uint8_t		 used[FX_KIDS];

	if (a->type != b->type)
		return (fx_diff(why, whylen, "node type %d became %d",
		    a->type, b->type));
	if (a->type == XML_TEXT_NODE || a->type == XML_CDATA_SECTION_NODE ||
	    a->type == XML_COMMENT_NODE || a->type == XML_PI_NODE) {
		if (!xmlStrEqual(a->name, b->name) ||
		    !xmlStrEqual(a->content, b->content))
			return (fx_diff(why, whylen, "text \"%s\" became "
			    "\"%s\"", a->content, b->content));
		return (0);
	}
	if (!xmlStrEqual(a->name, b->name) ||
	    strcmp(fx_ns(a->ns), fx_ns(b->ns)) != 0)
		return (fx_diff(why, whylen, "<%s> became <%s>", a->name,
		    b->name));
	if (fx_attrs(a, b, why, whylen) == -1)
		return (-1);
	ka = calloc(FX_KIDS, sizeof(*ka));
	kb = calloc(FX_KIDS, sizeof(*kb));
	assert_non_null(ka);
	assert_non_null(kb);
	na = fx_children(a, ka, FX_KIDS);
	nb = fx_children(b, kb, FX_KIDS);
	if (na != nb) {
		(void)fx_diff(why, whylen, "<%s>: %zu children, then %zu",
		    a->name, na, nb);
		goto done;
	}
	unordered = xmlStrEqual(a->name, (const xmlChar *)"detail");
	memset(used, 0, sizeof(used));
	for (i = 0; i < na; i++) {
		if (!unordered) {
			if (fx_node(ka[i], kb[i], why, whylen) == -1)
				goto done;
			continue;
		}
		for (j = 0; j < nb; j++)
			if (!used[j] && fx_node(ka[i], kb[j], sub,
			    sizeof(sub)) == 0)
				break;
		if (j == nb) {
			(void)fx_diff(why, whylen, "<detail> child <%s> has "
			    "no equal", ka[i]->name);
			goto done;
		}
		used[j] = 1;
	}
	rc = 0;
done:
	free(ka);
	free(kb);
	return (rc);
}

int
takp_fx_equiv(const char *a, size_t alen, const char *b, size_t blen,
    char *why, size_t whylen)
{
	xmlDocPtr	 da, db;
	int		 rc = -1;

	/* No entities, no DTD, no network: these are our own test inputs,
	 * but the options cost nothing. */
	da = xmlReadMemory(a, (int)alen, NULL, "UTF-8", XML_PARSE_NONET |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_IGNORE_ENC);
	db = xmlReadMemory(b, (int)blen, NULL, "UTF-8", XML_PARSE_NONET |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_IGNORE_ENC);
	if (da == NULL || db == NULL)
		(void)fx_diff(why, whylen, "%s does not parse", da == NULL ?
		    "the first" : "the second");
	else
		rc = fx_node(xmlDocGetRootElement(da),
		    xmlDocGetRootElement(db), why, whylen);
	xmlFreeDoc(da);
	xmlFreeDoc(db);
	return (rc);
}

/* The XML event's frame, checked; the payload copied into *pay. */
void
fx_encode_ok(const char *xml, size_t len, struct pb *pay)
{
	uint8_t		*frame;
	const uint8_t	*p;
	size_t		 flen, plen;

	if (takp_from_xml(xml, len, &frame, &flen, fx_err, sizeof(fx_err)) != 0)
		fail_msg("takp_from_xml: %s\ninput: %.*s", fx_err, (int)len, xml);
	p = takp_fx_payload(frame, flen, &plen);
	memset(pay, 0, sizeof(*pay));
	pb_raw(pay, p, plen);
	free(frame);
}

void
fx_encode_bad(const char *xml, const char *want)
{
	uint8_t	*frame = NULL;
	size_t	 flen;

	if (takp_from_xml(xml, strlen(xml), &frame, &flen, fx_err,
	    sizeof(fx_err)) == 0)
		fail_msg("encoded, expected an error with \"%s\"\ninput: %s",
		    want, xml);
	assert_null(frame);
	assert_contains(fx_err, want);
}

/* v1 to XML; the result must parse with cot_parse() (into fx_view). */
char *
fx_to_xml_ok(const struct pb *pay, size_t *len)
{
	char	*x;

	if (takp_to_xml(pay->p, pay->len, &x, len, fx_err, sizeof(fx_err)) != 0)
		fail_msg("takp_to_xml: %s", fx_err);
	assert_int_equal(strlen(x), *len);
	if (cot_parse(x, *len, &fx_view, fx_err, sizeof(fx_err)) != 0)
		fail_msg("cot_parse of takp_to_xml's output: %s\n%s", fx_err, x);
	return (x);
}

void
fx_decode_bad(const struct pb *pay, const char *want)
{
	char	*x = NULL;
	size_t	 n;

	if (takp_decode(pay->p, pay->len, &fx_view, NULL, fx_err,
	    sizeof(fx_err)) != -1)
		fail_msg("decoded, expected an error with \"%s\"", want);
	assert_contains(fx_err, want);
	/* and nothing of it becomes XML */
	assert_int_equal(takp_to_xml(pay->p, pay->len, &x, &n, fx_err,
	    sizeof(fx_err)), -1);
	assert_null(x);
	assert_contains(fx_err, want);
}

void
fx_decode_ok(const struct pb *pay)
{
	if (takp_decode(pay->p, pay->len, &fx_view, NULL, fx_err,
	    sizeof(fx_err)) != TAKP_EVENT)
		fail_msg("takp_decode: %s", fx_err);
}

/* An event around extra CotEvent fields (written after the base ones). */
void
fx_event_with(struct pb *msg, const char *uid, const struct pb *extra)
{
	struct pb	 ev;

	memset(&ev, 0, sizeof(ev));
	memset(msg, 0, sizeof(*msg));
	pb_event_base(&ev, uid);
	if (extra != NULL)
		pb_raw(&ev, extra->p, extra->len);
	pb_wrap_event(msg, &ev);
	pb_free(&ev);
}

/* An event whose Detail is det. */
void
fx_event_detail(struct pb *msg, const struct pb *det)
{
	struct pb	 x;

	memset(&x, 0, sizeof(x));
	pb_msg(&x, 15, det);
	fx_event_with(msg, "u-1", &x);
	pb_free(&x);
}

/* A Detail with xmlDetail s. */
void
fx_event_xml_detail(struct pb *msg, const char *s, size_t n)
{
	struct pb	 det;

	memset(&det, 0, sizeof(det));
	pb_bytes(&det, 1, s, n);
	fx_event_detail(msg, &det);
	pb_free(&det);
}

void
fx_views_equal(const struct cot_view *a, const struct cot_view *b,
    const char *what)
{
	size_t	 i;

#define SAME_STR(f) if (strcmp(a->f, b->f) != 0) \
	fail_msg("%s: " #f " \"%s\" vs \"%s\"", what, a->f, b->f)
#define SAME_NUM(f) if (a->f != b->f) \
	fail_msg("%s: " #f " differs", what)
	SAME_STR(uid);
	SAME_STR(type);
	SAME_STR(how);
	SAME_NUM(time_ms);
	SAME_NUM(start_ms);
	SAME_NUM(stale_ms);
	SAME_NUM(has_point);
	SAME_NUM(lat);
	SAME_NUM(lon);
	SAME_NUM(hae);
	SAME_NUM(ce);
	SAME_NUM(le);
	SAME_NUM(has_contact);
	SAME_STR(callsign);
	SAME_STR(endpoint);
	SAME_STR(group_name);
	SAME_STR(group_role);
	SAME_NUM(has_marti);
	SAME_NUM(dest_all);
	SAME_NUM(n_dest);
	SAME_NUM(n_dest_other);
	for (i = 0; i < a->n_dest; i++) {
		SAME_NUM(dest[i].kind);
		SAME_STR(dest[i].value);
	}
	SAME_STR(link_uid);
	SAME_STR(link_type);
	SAME_NUM(takp_request);
#undef SAME_STR
#undef SAME_NUM
}
