/*
 * TAK protocol v1 to XML: see takp.h and docs/takproto.md.
 *
 * The payload is unpacked and checked by takp_unpack() (the checks of
 * takp_decode()), so every string is UTF-8 made of XML characters and
 * xmlDetail is a well-formed fragment without "</event>"; what is left
 * here is escaping, number and time formatting, and the order of things.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cot/takp_int.h"

/* The event being written; a failed append sticks. */
struct xbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 failed;
};

static void
xb_add(struct xbuf *b, const char *s, size_t n)
{
	size_t	 cap;
	char	*p;

	if (b->failed)
		return;
	if (b->cap - b->len <= n) {
		cap = b->cap == 0 ? 1024 : b->cap;
		while (cap - b->len <= n) {
			if (cap > SIZE_MAX / 2) {
				b->failed = 1;
				return;
			}
			cap *= 2;
		}
		if ((p = realloc(b->p, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
xb_str(struct xbuf *b, const char *s)
{
	xb_add(b, s, strlen(s));
}

/*
 * An attribute value.  Tab, LF and CR as references: a literal one would
 * become a space under XML's attribute-value normalisation.
 */
static void
xb_escaped(struct xbuf *b, const char *s)
{
	const char	*run = s, *rep;

	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':	rep = "&amp;";	break;
		case '<':	rep = "&lt;";	break;
		case '>':	rep = "&gt;";	break;
		case '"':	rep = "&quot;";	break;
		case '\'':	rep = "&apos;";	break;
		case '\t':	rep = "&#9;";	break;
		case '\n':	rep = "&#10;";	break;
		case '\r':	rep = "&#13;";	break;
		default:
			continue;
		}
		xb_add(b, run, (size_t)(s - run));
		xb_str(b, rep);
		run = s + 1;
	}
	xb_add(b, run, (size_t)(s - run));
}

/* name="value", or nothing for an empty string. */
static void
xb_attr(struct xbuf *b, const char *name, const char *val)
{
	if (val == NULL || val[0] == '\0')
		return;
	xb_str(b, " ");
	xb_str(b, name);
	xb_str(b, "=\"");
	xb_escaped(b, val);
	xb_str(b, "\"");
}

/*
 * The fewest significant digits (15, 16 or 17) that read back as the same
 * double: 38.8895 stays "38.8895", 9999999.0 becomes "9999999".
 */
static void
xb_double(struct xbuf *b, const char *name, double d)
{
	char	 num[40];
	int	 prec;

	for (prec = 15; prec < 17; prec++) {
		(void)snprintf(num, sizeof(num), "%.*g", prec, d);
		if (strtod(num, NULL) == d)
			break;
	}
	if (prec == 17)
		(void)snprintf(num, sizeof(num), "%.17g", d);
	xb_str(b, " ");
	xb_str(b, name);
	xb_str(b, "=\"");
	xb_str(b, num);
	xb_str(b, "\"");
}

/* A time, unless 0 (absent); takp_unpack() checked the range. */
static void
xb_time(struct xbuf *b, const char *name, uint64_t ms)
{
	char	 t[32];

	if (ms == 0)
		return;
	if (cot_time_format((int64_t)ms, t, sizeof(t)) == 0) {
		b->failed = 1;
		return;
	}
	xb_attr(b, name, t);
}

/* The typed messages that xmlDetail does not override, as elements. */
static void
xb_typed(struct xbuf *b, const TakpDetail *d, unsigned seen)
{
	char	 num[16];

#define TYPED(t, field)	(d->field != NULL && !(seen & (1u << (t))))
	if (TYPED(TAKP_T_CONTACT, contact)) {
		xb_str(b, "<contact");
		xb_attr(b, "callsign", d->contact->callsign);
		xb_attr(b, "endpoint", d->contact->endpoint);
		xb_str(b, "/>");
	}
	if (TYPED(TAKP_T_GROUP, group)) {
		xb_str(b, "<__group");
		xb_attr(b, "name", d->group->name);
		xb_attr(b, "role", d->group->role);
		xb_str(b, "/>");
	}
	if (TYPED(TAKP_T_PRECISION, precisionlocation)) {
		xb_str(b, "<precisionlocation");
		xb_attr(b, "geopointsrc", d->precisionlocation->geopointsrc);
		xb_attr(b, "altsrc", d->precisionlocation->altsrc);
		xb_str(b, "/>");
	}
	if (TYPED(TAKP_T_STATUS, status)) {
		(void)snprintf(num, sizeof(num), "%" PRIu32,
		    d->status->battery);
		xb_str(b, "<status");
		xb_attr(b, "battery", num);
		xb_str(b, "/>");
	}
	if (TYPED(TAKP_T_TAKV, takv)) {
		xb_str(b, "<takv");
		xb_attr(b, "device", d->takv->device);
		xb_attr(b, "platform", d->takv->platform);
		xb_attr(b, "os", d->takv->os);
		xb_attr(b, "version", d->takv->version);
		xb_str(b, "/>");
	}
	if (TYPED(TAKP_T_TRACK, track)) {
		xb_str(b, "<track");
		xb_double(b, "speed", d->track->speed);
		xb_double(b, "course", d->track->course);
		xb_str(b, "/>");
	}
#undef TYPED
}

int
takp_to_xml(const uint8_t *payload, size_t len, char **out, size_t *outlen,
    char *err, size_t errlen)
{
	char		 scratch[1];
	struct cot_view	*v = NULL;
	struct takp_msg	 msg;
	struct xbuf	 b;
	const TakpEvent	*ev;
	int		 r;

	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof(scratch);
	}
	*out = NULL;
	*outlen = 0;
	memset(&b, 0, sizeof(b));
	if ((v = malloc(sizeof(*v))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return (-1);
	}
	r = takp_unpack(payload, len, v, NULL, &msg, err, errlen);
	free(v);
	if (r == -1)
		return (-1);
	if (r == TAKP_CONTROL) {
		(void)snprintf(err, errlen, "a TakControl message has no XML "
		    "form");
		goto fail;
	}
	ev = msg.ev;

	xb_str(&b, "<event version=\"2.0\"");
	xb_attr(&b, "uid", ev->uid);
	xb_attr(&b, "type", ev->type);
	xb_attr(&b, "how", ev->how);
	xb_time(&b, "time", ev->sendtime);
	xb_time(&b, "start", ev->starttime);
	xb_time(&b, "stale", ev->staletime);
	xb_attr(&b, "access", ev->access);
	xb_attr(&b, "qos", ev->qos);
	xb_attr(&b, "opex", ev->opex);
	xb_attr(&b, "caveat", ev->caveat);
	xb_attr(&b, "releasableTo", ev->releaseableto);
	xb_str(&b, "><point");
	xb_double(&b, "lat", ev->lat);
	xb_double(&b, "lon", ev->lon);
	xb_double(&b, "hae", ev->hae);
	xb_double(&b, "ce", ev->ce);
	xb_double(&b, "le", ev->le);
	xb_str(&b, "/>");
	if (ev->detail != NULL) {
		xb_str(&b, "<detail>");
		xb_str(&b, ev->detail->xmldetail);
		xb_typed(&b, ev->detail, msg.xml_seen);
		xb_str(&b, "</detail>");
	}
	xb_str(&b, "</event>");
	if (b.failed) {
		(void)snprintf(err, errlen, "event %s: out of memory or a "
		    "time that cannot be written", ev->uid);
		goto fail;
	}
	takp_msg_free(&msg);
	*out = b.p;
	*outlen = b.len;
	return (0);
fail:
	takp_msg_free(&msg);
	free(b.p);
	return (-1);
}
