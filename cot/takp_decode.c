/*
 * TAK protocol v1 decoding: see takp.h and docs/takproto.md.
 *
 * protobuf-c hands strings over NUL-terminated without their length, so
 * a NUL inside one would cut it silently ("alice\0x" read as "alice").
 * The payload's wire format is therefore walked first, along the schema
 * of the messages we read: every string field is checked where it lies
 * (UTF-8, no NUL, only XML characters), every known field must have its
 * wire type, and every length must fit.  protobuf-c then unpacks what
 * passed, and the fields are checked as cot_parse() checks XML.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cot/cot_parse_xml.h"
#include "cot/takp_int.h"
#include "shared/utf8.h"

const char *const takp_typed_names[TAKP_T_COUNT + 1] = {
	[TAKP_T_CONTACT] = "contact",
	[TAKP_T_GROUP] = "__group",
	[TAKP_T_PRECISION] = "precisionlocation",
	[TAKP_T_STATUS] = "status",
	[TAKP_T_TAKV] = "takv",
	[TAKP_T_TRACK] = "track",
	[TAKP_T_COUNT] = NULL
};

/* Wire types. */
#define WIRE_VARINT	0
#define WIRE_I64	1
#define WIRE_LEN	2
#define WIRE_I32	5

/* How a field is checked on the wire. */
enum wire_kind {
	W_END,
	W_STR,		/* a string */
	W_MSG,		/* a message, walked with its schema */
	W_VARINT,	/* an integer */
	W_I64		/* a double */
};

struct wire_field {
	uint32_t		 num;
	enum wire_kind		 kind;
	const char		*name;
	const struct wire_field	*sub;
};

static const struct wire_field W_CONTROL[] = {
	{ 1, W_VARINT, "minProtoVersion", NULL },
	{ 2, W_VARINT, "maxProtoVersion", NULL },
	{ 3, W_STR, "contactUid", NULL },
	{ 0, W_END, NULL, NULL }
};
static const struct wire_field W_TWO_STR[] = {	/* contact, group, ... */
	{ 1, W_STR, "field 1", NULL },
	{ 2, W_STR, "field 2", NULL },
	{ 0, W_END, NULL, NULL }
};
static const struct wire_field W_STATUS[] = {
	{ 1, W_VARINT, "battery", NULL },
	{ 0, W_END, NULL, NULL }
};
static const struct wire_field W_TAKV[] = {
	{ 1, W_STR, "device", NULL },
	{ 2, W_STR, "platform", NULL },
	{ 3, W_STR, "os", NULL },
	{ 4, W_STR, "version", NULL },
	{ 0, W_END, NULL, NULL }
};
static const struct wire_field W_TRACK[] = {
	{ 1, W_I64, "speed", NULL },
	{ 2, W_I64, "course", NULL },
	{ 0, W_END, NULL, NULL }
};
static const struct wire_field W_DETAIL[] = {
	{ 1, W_STR, "xmlDetail", NULL },
	{ 2, W_MSG, "contact", W_TWO_STR },
	{ 3, W_MSG, "group", W_TWO_STR },
	{ 4, W_MSG, "precisionLocation", W_TWO_STR },
	{ 5, W_MSG, "status", W_STATUS },
	{ 6, W_MSG, "takv", W_TAKV },
	{ 7, W_MSG, "track", W_TRACK },
	{ 0, W_END, NULL, NULL }
};
static const struct wire_field W_EVENT[] = {
	{ 1, W_STR, "type", NULL },
	{ 2, W_STR, "access", NULL },
	{ 3, W_STR, "qos", NULL },
	{ 4, W_STR, "opex", NULL },
	{ 5, W_STR, "uid", NULL },
	{ 6, W_VARINT, "sendTime", NULL },
	{ 7, W_VARINT, "startTime", NULL },
	{ 8, W_VARINT, "staleTime", NULL },
	{ 9, W_STR, "how", NULL },
	{ 10, W_I64, "lat", NULL },
	{ 11, W_I64, "lon", NULL },
	{ 12, W_I64, "hae", NULL },
	{ 13, W_I64, "ce", NULL },
	{ 14, W_I64, "le", NULL },
	{ 15, W_MSG, "detail", W_DETAIL },
	{ 16, W_STR, "caveat", NULL },
	{ 17, W_STR, "releaseableTo", NULL },
	{ 0, W_END, NULL, NULL }
};
static const struct wire_field W_MESSAGE[] = {
	{ 1, W_MSG, "takControl", W_CONTROL },
	{ 2, W_MSG, "cotEvent", W_EVENT },
	{ 3, W_VARINT, "submissionTime", NULL },
	{ 4, W_VARINT, "creationTime", NULL },
	{ 0, W_END, NULL, NULL }
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

/* A varint at p[*at..n): 0, or -1 when it runs past n or past 10 bytes. */
static int
wire_varint(const uint8_t *p, size_t n, size_t *at, uint64_t *v)
{
	unsigned	 shift = 0;
	uint64_t	 x = 0;

	while (*at < n && shift < 70) {
		x |= (uint64_t)(p[*at] & 0x7f) << (shift < 64 ? shift : 63);
		if ((p[(*at)++] & 0x80) == 0) {
			*v = x;
			return (0);
		}
		shift += 7;
	}
	return (-1);
}

/*
 * Offset of the first byte of s[0..n) that is not well-formed UTF-8 or
 * not an XML 1.0 character (NUL and the C0 controls but tab, LF and CR;
 * U+FFFE, U+FFFF; surrogates and overlong forms are not UTF-8); n if
 * none.
 */
static size_t
wire_text_bad(const uint8_t *s, size_t n)
{
	size_t		 i = 0, more;
	uint32_t	 cp;

	while (i < n) {
		cp = s[i];
		if (cp < 0x80) {
			if (cp < 0x20 && cp != '\t' && cp != '\n' &&
			    cp != '\r')
				return (i);
			i++;
			continue;
		}
		if ((more = utf8_decode(s + i, n - i, &cp)) == 0 ||
		    cp == 0xfffe || cp == 0xffff)
			return (i);
		i += more;
	}
	return (n);
}

/*
 * Walk p[0..n) as a message of schema f: wire types, lengths, strings.
 * Fields not in the schema are skipped by their wire type (proto3 keeps
 * unknown fields); the groups of proto2 are refused.
 */
static int
wire_walk(const uint8_t *p, size_t n, const struct wire_field *schema,
    const char *where, char *err, size_t errlen)
{
	const struct wire_field	*f;
	uint64_t		 key, v;
	size_t			 at = 0, start, bad;
	unsigned		 wt;

	while (at < n) {
		start = at;
		if (wire_varint(p, n, &at, &key) == -1)
			return (errf(err, errlen, "%s: truncated field key at "
			    "offset %zu", where, start));
		wt = key & 7;
		for (f = schema; f->kind != W_END; f++)
			if (f->num == key >> 3)
				break;
		if (key >> 3 == 0 || key >> 3 > 0x1fffffff)
			return (errf(err, errlen, "%s: field number %llu at "
			    "offset %zu", where, (unsigned long long)(key >> 3),
			    start));
		if (f->kind != W_END) {
			static const unsigned want[] = {
				[W_STR] = WIRE_LEN, [W_MSG] = WIRE_LEN,
				[W_VARINT] = WIRE_VARINT, [W_I64] = WIRE_I64
			};

			if (wt != want[f->kind])
				return (errf(err, errlen, "%s: %s with wire "
				    "type %u, not %u", where, f->name, wt,
				    want[f->kind]));
		}
		switch (wt) {
		case WIRE_VARINT:
			if (wire_varint(p, n, &at, &v) == -1)
				return (errf(err, errlen, "%s: truncated "
				    "varint at offset %zu", where, start));
			break;
		case WIRE_I64:
			if (n - at < 8)
				return (errf(err, errlen, "%s: truncated "
				    "64-bit field at offset %zu", where,
				    start));
			at += 8;
			break;
		case WIRE_I32:
			if (n - at < 4)
				return (errf(err, errlen, "%s: truncated "
				    "32-bit field at offset %zu", where,
				    start));
			at += 4;
			break;
		case WIRE_LEN:
			if (wire_varint(p, n, &at, &v) == -1 || v > n - at)
				return (errf(err, errlen, "%s: length past the "
				    "end at offset %zu", where, start));
			if (f->kind == W_STR &&
			    (bad = wire_text_bad(p + at, (size_t)v)) <
			    (size_t)v)
				return (errf(err, errlen, "%s: %s with %s at "
				    "byte %zu", where, f->name, p[at + bad] ==
				    0 ? "a NUL" : p[at + bad] < 0x20 ?
				    "a control character" :
				    "invalid UTF-8 or a non-XML character",
				    bad));
			if (f->kind == W_MSG && wire_walk(p + at, (size_t)v,
			    f->sub, f->name, err, errlen) == -1)
				return (-1);
			at += (size_t)v;
			break;
		default:
			return (errf(err, errlen, "%s: wire type %u at offset "
			    "%zu", where, wt, start));
		}
	}
	return (0);
}

/*
 * Copy a string into a view field as cot_parse() does: never cut, no
 * control character (tab and line ends included: they would reach logs).
 */
static int
view_copy(const char *s, char *dst, size_t dstlen, const char *name,
    char *err, size_t errlen)
{
	size_t	 n = strlen(s), i;

	if (n >= dstlen)
		return (errf(err, errlen, "%s longer than %zu bytes", name,
		    dstlen - 1));
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return (errf(err, errlen, "control character in %s",
			    name));
	memcpy(dst, s, n + 1);
	return (0);
}

/* sendTime or startTime: 0 is absent. */
static int
view_time(uint64_t t, int64_t *ms, const char *name, char *err,
    size_t errlen)
{
	if (t == 0) {
		*ms = COT_TIME_UNSET;
		return (0);
	}
	if (t > (uint64_t)TAKP_TIME_MAX)
		return (errf(err, errlen, "%s %llu past year 9999", name,
		    (unsigned long long)t));
	*ms = (int64_t)t;
	return (0);
}

static int
view_control(const TakpControl *c, struct takp_control *ctl, char *err,
    size_t errlen)
{
	struct takp_control	 scratch;

	if (ctl == NULL)
		ctl = &scratch;
	ctl->present = true;
	ctl->min_version = c->minprotoversion == 0 ? 1 : c->minprotoversion;
	ctl->max_version = c->maxprotoversion == 0 ? 1 : c->maxprotoversion;
	return (view_copy(c->contactuid, ctl->contact_uid,
	    sizeof(ctl->contact_uid), "takControl contactUid", err, errlen));
}

static int
view_point(const TakpEvent *ev, struct cot_view *v, char *err,
    size_t errlen)
{
	if (!isfinite(ev->lat) || !isfinite(ev->lon) || !isfinite(ev->hae) ||
	    !isfinite(ev->ce) || !isfinite(ev->le))
		return (errf(err, errlen, "event %s with a NaN or infinite "
		    "coordinate", v->uid));
	v->lat = ev->lat;
	v->lon = ev->lon;
	v->hae = ev->hae;
	v->ce = ev->ce;
	v->le = ev->le;
	v->has_point = v->lat >= -90.0 && v->lat <= 90.0 &&
	    v->lon >= -180.0 && v->lon <= 180.0;
	return (0);
}

/*
 * The detail: xmlDetail through cot_parse_detail() (it initialises v),
 * then contact and group from the typed messages when xmlDetail has no
 * element of that name.
 */
static int
view_detail(const TakpEvent *ev, struct cot_view *v, unsigned *seen,
    char *err, size_t errlen)
{
	const TakpDetail	*d = ev->detail;
	const char		*x;
	size_t			 n;

	*seen = 0;
	if (d == NULL || d->xmldetail == NULL || d->xmldetail[0] == '\0') {
		cot_parse_view_init(v);
		if (d == NULL)
			return (0);
	} else {
		x = d->xmldetail;
		n = strlen(x);
		if (memmem(x, n, "</event>", 8) != NULL)
			return (errf(err, errlen, "xmlDetail holds \"</event>\""));
		if (cot_parse_detail(x, n, v, takp_typed_names, seen, err,
		    errlen) == -1)
			return (-1);
	}
	if (d->contact != NULL && !(*seen & (1u << TAKP_T_CONTACT))) {
		v->has_contact = true;
		if (view_copy(d->contact->callsign, v->callsign,
		    sizeof(v->callsign), "contact callsign", err, errlen) ==
		    -1 || view_copy(d->contact->endpoint, v->endpoint,
		    sizeof(v->endpoint), "contact endpoint", err, errlen) == -1)
			return (-1);
	}
	if (d->group != NULL && !(*seen & (1u << TAKP_T_GROUP)))
		if (view_copy(d->group->name, v->group_name,
		    sizeof(v->group_name), "__group name", err, errlen) == -1 ||
		    view_copy(d->group->role, v->group_role,
		    sizeof(v->group_role), "__group role", err, errlen) == -1)
			return (-1);
	return (0);
}

static int
view_event(const TakpEvent *ev, struct cot_view *v, unsigned *seen,
    char *err, size_t errlen)
{
	char	 e[COT_ERR_MAX];

	/* The detail first: it initialises v. */
	if (view_detail(ev, v, seen, e, sizeof(e)) == -1) {
		if (view_copy(ev->uid, v->uid, sizeof(v->uid), "uid", err,
		    errlen) == -1)
			return (errf(err, errlen, "event: %s", e));
		return (errf(err, errlen, "event %s: %s", v->uid, e));
	}
	if (view_copy(ev->uid, v->uid, sizeof(v->uid), "event uid", err,
	    errlen) == -1 || view_copy(ev->type, v->type, sizeof(v->type),
	    "event type", err, errlen) == -1 || view_copy(ev->how, v->how,
	    sizeof(v->how), "event how", err, errlen) == -1)
		return (-1);
	if (v->uid[0] == '\0')
		return (errf(err, errlen, "event without uid"));
	if (v->type[0] == '\0')
		return (errf(err, errlen, "event %s without type", v->uid));
	if (ev->staletime == 0)
		return (errf(err, errlen, "event %s without stale time",
		    v->uid));
	if (view_time(ev->sendtime, &v->time_ms, "sendTime", e,
	    sizeof(e)) == -1 || view_time(ev->starttime, &v->start_ms,
	    "startTime", e, sizeof(e)) == -1 || view_time(ev->staletime,
	    &v->stale_ms, "staleTime", e, sizeof(e)) == -1)
		return (errf(err, errlen, "event %s: %s", v->uid, e));
	return (view_point(ev, v, err, errlen));
}

int
takp_unpack(const uint8_t *payload, size_t len, struct cot_view *v,
    struct takp_control *ctl, struct takp_msg *msg, char *err, size_t errlen)
{
	char	 scratch[1];

	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof(scratch);
	}
	memset(msg, 0, sizeof(*msg));
	if (ctl != NULL)
		memset(ctl, 0, sizeof(*ctl));
	if (len > COT_PARSE_MAX_BYTES)
		return (errf(err, errlen, "TakMessage of %zu bytes (limit %d)",
		    len, COT_PARSE_MAX_BYTES));
	if (wire_walk(payload, len, W_MESSAGE, "TakMessage", err, errlen) ==
	    -1)
		return (-1);
	msg->m = atakmap__commoncommo__protobuf__v1__tak_message__unpack(NULL,
	    len, payload);
	if (msg->m == NULL)
		return (errf(err, errlen, "TakMessage does not decode"));
	if (msg->m->takcontrol != NULL &&
	    view_control(msg->m->takcontrol, ctl, err, errlen) == -1)
		goto fail;
	if ((msg->ev = msg->m->cotevent) == NULL) {
		if (msg->m->takcontrol != NULL)
			return (TAKP_CONTROL);
		(void)errf(err, errlen, "TakMessage without cotEvent");
		goto fail;
	}
	if (view_event(msg->ev, v, &msg->xml_seen, err, errlen) == -1)
		goto fail;
	return (TAKP_EVENT);
fail:
	takp_msg_free(msg);
	return (-1);
}

void
takp_msg_free(struct takp_msg *msg)
{
	if (msg->m != NULL)
		atakmap__commoncommo__protobuf__v1__tak_message__free_unpacked(
		    msg->m, NULL);
	memset(msg, 0, sizeof(*msg));
}

int
takp_decode(const uint8_t *payload, size_t len, struct cot_view *v,
    struct takp_control *ctl, char *err, size_t errlen)
{
	struct takp_msg	 msg;
	int		 r;

	if ((r = takp_unpack(payload, len, v, ctl, &msg, err, errlen)) != -1)
		takp_msg_free(&msg);
	return (r);
}
