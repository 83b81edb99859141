/*
 * XML to TAK protocol v1: see takp.h and docs/takproto.md.
 *
 * cot_parse_doc() checks the event as cot_parse() does and builds a tree
 * of the same bytes under the same options; the <event> attributes, the
 * first <point> and the children of <detail> are read from the tree, each
 * detail child either becomes its typed message (an exact match) or is
 * serialised by libxml2 into xmlDetail, and protobuf-c packs the result
 * behind the stream header.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "cot/cot_parse_xml.h"
#include "cot/takp_frame.h"
#include "cot/takp_int.h"

/*
 * Strings taken from the tree for the message, freed after packing: at
 * most 16 for <event> and <point>, and 31 for the typed candidates (each
 * attribute read by enc_exact() and again by enc_fill(), plus battery,
 * speed and course once more).
 */
#define ENC_STRS	64

struct enc {
	xmlDocPtr	 doc;
	TakpMessage	 m;
	TakpEvent	 ev;
	TakpDetail	 d;
	TakpContact	 contact;
	TakpGroup	 group;
	TakpPrecision	 precision;
	TakpStatus	 status;
	TakpTakv	 takv;
	TakpTrack	 track;
	xmlChar		*strs[ENC_STRS];
	int		 nstrs;
	xmlBufferPtr	 xml;		/* xmlDetail, written */
	xmlChar		*xml_detail;	/* and taken out */
	/* per typed name: how many children of <detail>, and the one */
	int		 count[TAKP_T_COUNT];
	xmlNodePtr	 typed[TAKP_T_COUNT];
};

/* The attributes each typed message carries. */
static const char *const enc_attrs[TAKP_T_COUNT][5] = {
	[TAKP_T_CONTACT] = { "callsign", "endpoint", NULL },
	[TAKP_T_GROUP] = { "name", "role", NULL },
	[TAKP_T_PRECISION] = { "geopointsrc", "altsrc", NULL },
	[TAKP_T_STATUS] = { "battery", NULL },
	[TAKP_T_TAKV] = { "device", "platform", "os", "version", NULL },
	[TAKP_T_TRACK] = { "speed", "course", NULL }
};

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

static int
enc_is(xmlNodePtr n, const char *name)
{
	return (n->type == XML_ELEMENT_NODE && n->ns == NULL &&
	    strcmp((const char *)n->name, name) == 0);
}

/*
 * The value of the attribute name (no namespace) of n, kept in e until the
 * end; NULL when absent.  "" for an absent one goes to *out (protobuf-c's
 * empty string is any "").
 */
static int
enc_prop(struct enc *e, xmlNodePtr n, const char *name, char **out)
{
	xmlChar	*s;

	*out = NULL;
	if ((s = xmlGetNoNsProp(n, (const xmlChar *)name)) == NULL)
		return (0);
	if (e->nstrs == ENC_STRS) {	/* never: see ENC_STRS */
		xmlFree(s);
		return (-1);
	}
	e->strs[e->nstrs++] = s;
	*out = (char *)s;
	return (0);
}

/* The attribute, or "" when absent. */
static int
enc_str(struct enc *e, xmlNodePtr n, const char *name, char **field)
{
	char	*s;

	if (enc_prop(e, n, name, &s) == -1)
		return (-1);
	if (s != NULL)
		*field = s;
	return (0);
}

/*
 * A plain finite decimal number: [+-] digits [. digits] [e [+-] digits],
 * what every TAK client writes; no hex, no "NaN", no spaces.
 */
static int
enc_number(const char *s, double *d)
{
	const char	*p = s;
	char		*ep;
	int		 digits = 0;

	if (*p == '+' || *p == '-')
		p++;
	for (; *p >= '0' && *p <= '9'; p++)
		digits++;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			digits++;
	if (digits == 0)
		return (-1);
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (*p < '0' || *p > '9')
			return (-1);
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p != '\0')
		return (-1);
	errno = 0;
	*d = strtod(s, &ep);
	if (*ep != '\0' || !isfinite(*d))
		return (-1);
	return (0);
}

static int
enc_double(struct enc *e, xmlNodePtr n, const char *name, double *d)
{
	char	*s;

	if (enc_prop(e, n, name, &s) == -1 || s == NULL)
		return (-1);
	return (enc_number(s, d));
}

/*
 * A time attribute: absent is 0; present, cot_parse() must have read it
 * (ms, not COT_TIME_UNSET: the same reading, cap on the length included)
 * and it must fit v1: after 1970, before year 10000.
 */
static int
enc_time(xmlNodePtr n, const char *name, int64_t ms, uint64_t *out,
    const char *uid, char *err, size_t errlen)
{
	*out = 0;
	if (xmlHasNsProp(n, (const xmlChar *)name, NULL) == NULL)
		return (0);
	if (ms == COT_TIME_UNSET)
		return (errf(err, errlen, "event %s: %s is not a time", uid,
		    name));
	if (ms <= 0 || ms > TAKP_TIME_MAX)
		return (errf(err, errlen, "event %s: %s out of v1's range "
		    "(after 1970, before 10000)", uid, name));
	*out = (uint64_t)ms;
	return (0);
}

static int
enc_point(struct enc *e, xmlNodePtr root, const char *uid, char *err,
    size_t errlen)
{
	static const char *const names[] = { "lat", "lon", "hae", "ce", "le" };
	double		*dst[5];
	xmlNodePtr	 n;
	size_t		 i;

	for (n = root->children; n != NULL; n = n->next)
		if (enc_is(n, "point"))
			break;
	if (n == NULL)
		return (errf(err, errlen, "event %s without <point>", uid));
	dst[0] = &e->ev.lat;
	dst[1] = &e->ev.lon;
	dst[2] = &e->ev.hae;
	dst[3] = &e->ev.ce;
	dst[4] = &e->ev.le;
	for (i = 0; i < 5; i++)
		if (enc_double(e, n, names[i], dst[i]) == -1)
			return (errf(err, errlen, "event %s: <point> %s missing "
			    "or not a finite decimal number", uid, names[i]));
	return (0);
}

/* Index of a typed element name, or -1. */
static int
enc_typed_index(xmlNodePtr n)
{
	int	 i;

	if (n->type != XML_ELEMENT_NODE || n->ns != NULL)
		return (-1);
	for (i = 0; i < TAKP_T_COUNT; i++)
		if (strcmp((const char *)n->name, takp_typed_names[i]) == 0)
			return (i);
	return (-1);
}

/*
 * Does n match its typed message exactly: no children, attributes (no
 * namespace) among the message's, each non-empty; battery a decimal
 * uint32, speed and course both there and plain finite numbers.
 */
static int
enc_exact(struct enc *e, xmlNodePtr n, int t)
{
	const char *const	*a;
	xmlAttrPtr		 p;
	char			*s, *ep;
	unsigned long		 bat;
	double			 d;

	if (n->children != NULL)
		return (0);
	for (p = n->properties; p != NULL; p = p->next) {
		if (p->ns != NULL)
			return (0);
		for (a = enc_attrs[t]; *a != NULL; a++)
			if (strcmp((const char *)p->name, *a) == 0)
				break;
		if (*a == NULL)
			return (0);
		if (enc_prop(e, n, *a, &s) == -1 || s == NULL || s[0] == '\0')
			return (0);
	}
	switch (t) {
	case TAKP_T_STATUS:
		if (enc_prop(e, n, "battery", &s) == -1 || s == NULL ||
		    s[0] < '0' || s[0] > '9' || strlen(s) > 10)
			return (0);
		errno = 0;
		bat = strtoul(s, &ep, 10);
		if (*ep != '\0' || errno != 0 || bat > UINT32_MAX)
			return (0);
		break;
	case TAKP_T_TRACK:
		if (enc_double(e, n, "speed", &d) == -1 ||
		    enc_double(e, n, "course", &d) == -1)
			return (0);
		break;
	}
	return (1);
}

/* Fill typed message t from n, which enc_exact() accepted. */
static int
enc_fill(struct enc *e, xmlNodePtr n, int t)
{
	char	*s;

	switch (t) {
	case TAKP_T_CONTACT:
		e->d.contact = &e->contact;
		return (enc_str(e, n, "callsign", &e->contact.callsign) |
		    enc_str(e, n, "endpoint", &e->contact.endpoint));
	case TAKP_T_GROUP:
		e->d.group = &e->group;
		return (enc_str(e, n, "name", &e->group.name) |
		    enc_str(e, n, "role", &e->group.role));
	case TAKP_T_PRECISION:
		e->d.precisionlocation = &e->precision;
		return (enc_str(e, n, "geopointsrc",
		    &e->precision.geopointsrc) |
		    enc_str(e, n, "altsrc", &e->precision.altsrc));
	case TAKP_T_STATUS:
		e->d.status = &e->status;
		if (enc_prop(e, n, "battery", &s) == -1 || s == NULL)
			return (-1);
		e->status.battery = (uint32_t)strtoul(s, NULL, 10);
		return (0);
	case TAKP_T_TAKV:
		e->d.takv = &e->takv;
		return (enc_str(e, n, "device", &e->takv.device) |
		    enc_str(e, n, "platform", &e->takv.platform) |
		    enc_str(e, n, "os", &e->takv.os) |
		    enc_str(e, n, "version", &e->takv.version));
	case TAKP_T_TRACK:
		e->d.track = &e->track;
		return (enc_double(e, n, "speed", &e->track.speed) |
		    enc_double(e, n, "course", &e->track.course));
	}
	return (-1);
}

/*
 * Namespaces that a detail child c or its descendants use but that are
 * declared above it (on <detail> or <event>) are declared again on c, so
 * that c serialised alone is still well-formed.
 */
static int
enc_own_ns(xmlNodePtr c, xmlNodePtr n)
{
	xmlNsPtr	 ns, d;
	xmlNodePtr	 up, k;
	xmlAttrPtr	 a;
	int		 i;

	for (i = 0, a = NULL; ; i++) {
		if (i == 0)
			ns = n->ns;
		else {
			a = a == NULL ? n->properties : a->next;
			if (a == NULL)
				break;
			ns = a->ns;
		}
		if (ns == NULL || (ns->prefix != NULL &&
		    strcmp((const char *)ns->prefix, "xml") == 0))
			continue;
		for (up = n; up != c->parent; up = up->parent) {
			for (d = up->nsDef; d != NULL; d = d->next)
				if (d == ns)
					break;
			if (d != NULL)
				break;
		}
		if (up == c->parent && xmlNewNs(c, ns->href, ns->prefix) ==
		    NULL) {
			/* the prefix may be declared on c already: fine */
			for (d = c->nsDef; d != NULL; d = d->next)
				if (xmlStrEqual(d->prefix, ns->prefix))
					break;
			if (d == NULL)
				return (-1);
		}
	}
	for (k = n->children; k != NULL; k = k->next)
		if (k->type == XML_ELEMENT_NODE && enc_own_ns(c, k) == -1)
			return (-1);
	return (0);
}

/* Whitespace only (or nothing)? */
static int
enc_blank(const xmlChar *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' &&
		    s[i] != '\n')
			return (0);
	return (1);
}

/*
 * Every child of every <detail> of the event (cot_parse() reads them
 * all): a typed message for an exact match, else XML in xmlDetail.
 */
static int
enc_detail(struct enc *e, xmlNodePtr root, const char *uid, char *err,
    size_t errlen)
{
	xmlSaveCtxtPtr	 save;
	xmlNodePtr	 d, n;
	int		 t, any = 0;

	for (d = root->children; d != NULL; d = d->next) {
		if (!enc_is(d, "detail"))
			continue;
		any = 1;
		for (n = d->children; n != NULL; n = n->next)
			if ((t = enc_typed_index(n)) != -1) {
				e->count[t]++;
				e->typed[t] = n;
			}
	}
	if (!any)
		return (0);
	e->ev.detail = &e->d;
	for (t = 0; t < TAKP_T_COUNT; t++) {
		if (e->count[t] != 1 || !enc_exact(e, e->typed[t], t)) {
			e->typed[t] = NULL;
			continue;
		}
		if (enc_fill(e, e->typed[t], t) != 0)
			return (errf(err, errlen, "event %s: out of memory",
			    uid));
	}

	if ((e->xml = xmlBufferCreate()) == NULL)
		return (errf(err, errlen, "event %s: out of memory", uid));
	save = xmlSaveToBuffer(e->xml, "UTF-8", XML_SAVE_NO_DECL |
	    XML_SAVE_AS_XML);
	if (save == NULL)
		return (errf(err, errlen, "event %s: out of memory", uid));
	for (d = root->children; d != NULL; d = d->next) {
		if (!enc_is(d, "detail"))
			continue;
		for (n = d->children; n != NULL; n = n->next) {
			if ((t = enc_typed_index(n)) != -1 &&
			    e->typed[t] == n)
				continue;
			if (n->type == XML_ELEMENT_NODE &&
			    enc_own_ns(n, n) == -1)
				break;
			if (xmlSaveTree(save, n) == -1)
				break;
		}
		if (n != NULL)
			break;
	}
	if (xmlSaveClose(save) == -1 || d != NULL)
		return (errf(err, errlen, "event %s: cannot serialise the "
		    "detail", uid));
	if (enc_blank(xmlBufferContent(e->xml),
	    (size_t)xmlBufferLength(e->xml)))
		return (0);
	/*
	 * The framer cuts XML at the first "</event>", but a caller may hand
	 * over more: takp_decode() would refuse this xmlDetail, so refuse it
	 * here already.
	 */
	if (memmem(xmlBufferContent(e->xml), (size_t)xmlBufferLength(e->xml),
	    "</event>", 8) != NULL)
		return (errf(err, errlen, "event %s: detail holds \"</event>\"",
		    uid));
	if ((e->xml_detail = xmlBufferDetach(e->xml)) == NULL)
		return (errf(err, errlen, "event %s: out of memory", uid));
	e->d.xmldetail = (char *)e->xml_detail;
	return (0);
}

static void
enc_free(struct enc *e)
{
	int	 i;

	for (i = 0; i < e->nstrs; i++)
		xmlFree(e->strs[i]);
	if (e->xml != NULL)
		xmlBufferFree(e->xml);
	xmlFree(e->xml_detail);
	xmlFreeDoc(e->doc);
	free(e);
}

int
takp_from_xml(const void *xml, size_t len, uint8_t **out, size_t *outlen,
    char *err, size_t errlen)
{
	char		 scratch[1];
	struct cot_view	*v = NULL;
	struct enc	*e = NULL;
	xmlNodePtr	 root;
	uint8_t		 hdr[TAKP_FRAME_HEADER_MAX], *buf;
	size_t		 n, h;

	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof(scratch);
	}
	*out = NULL;
	*outlen = 0;
	if ((v = malloc(sizeof(*v))) == NULL ||
	    (e = calloc(1, sizeof(*e))) == NULL) {
		(void)errf(err, errlen, "out of memory");
		free(v);
		free(e);
		return (-1);
	}
	atakmap__commoncommo__protobuf__v1__tak_message__init(&e->m);
	atakmap__commoncommo__protobuf__v1__cot_event__init(&e->ev);
	atakmap__commoncommo__protobuf__v1__detail__init(&e->d);
	atakmap__commoncommo__protobuf__v1__contact__init(&e->contact);
	atakmap__commoncommo__protobuf__v1__group__init(&e->group);
	atakmap__commoncommo__protobuf__v1__precision_location__init(
	    &e->precision);
	atakmap__commoncommo__protobuf__v1__status__init(&e->status);
	atakmap__commoncommo__protobuf__v1__takv__init(&e->takv);
	atakmap__commoncommo__protobuf__v1__track__init(&e->track);
	e->m.cotevent = &e->ev;

	if ((e->doc = cot_parse_doc(xml, len, v, err, errlen)) == NULL)
		goto fail;
	root = xmlDocGetRootElement(e->doc);
	if (enc_str(e, root, "uid", &e->ev.uid) == -1 ||
	    enc_str(e, root, "type", &e->ev.type) == -1 ||
	    enc_str(e, root, "how", &e->ev.how) == -1 ||
	    enc_str(e, root, "access", &e->ev.access) == -1 ||
	    enc_str(e, root, "qos", &e->ev.qos) == -1 ||
	    enc_str(e, root, "opex", &e->ev.opex) == -1 ||
	    enc_str(e, root, "caveat", &e->ev.caveat) == -1 ||
	    enc_str(e, root, "releasableTo", &e->ev.releaseableto) == -1) {
		(void)errf(err, errlen, "event %s: out of memory", v->uid);
		goto fail;
	}
	if (enc_time(root, "time", v->time_ms, &e->ev.sendtime, v->uid, err,
	    errlen) == -1 || enc_time(root, "start", v->start_ms,
	    &e->ev.starttime, v->uid, err, errlen) == -1 ||
	    enc_time(root, "stale", v->stale_ms, &e->ev.staletime, v->uid, err,
	    errlen) == -1 ||
	    enc_point(e, root, v->uid, err, errlen) == -1 ||
	    enc_detail(e, root, v->uid, err, errlen) == -1)
		goto fail;

	n = atakmap__commoncommo__protobuf__v1__tak_message__get_packed_size(
	    &e->m);
	h = takp_frame_header(hdr, n);
	if ((buf = malloc(h + n)) == NULL) {
		(void)errf(err, errlen, "event %s: out of memory", v->uid);
		goto fail;
	}
	memcpy(buf, hdr, h);
	if (atakmap__commoncommo__protobuf__v1__tak_message__pack(&e->m,
	    buf + h) != n) {
		free(buf);
		(void)errf(err, errlen, "event %s: packing failed", v->uid);
		goto fail;
	}
	*out = buf;
	*outlen = h + n;
	enc_free(e);
	free(v);
	return (0);
fail:
	enc_free(e);
	free(v);
	return (-1);
}
