/*
 * Server-made events (pong, disconnect and group change notices, the TAK
 * protocol negotiation): see cot_parse.h and docs/cot.md.  Each writes one
 * event into the caller's buffer; every value is XML-escaped, and one that
 * cot_parse() would refuse (control characters, too long) is refused here.
 */
#include <sys/random.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cot/cot_parse.h"

/*
 * XML-escape an attribute value.  Control characters are refused, as
 * cot_parse() refuses them in the fields it reads back.
 */
static int
make_escape(const char *s, char *out, size_t outlen)
{
	const char	*rep;
	char		 one[2];
	size_t		 o = 0, n;

	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':	rep = "&amp;";	break;
		case '<':	rep = "&lt;";	break;
		case '>':	rep = "&gt;";	break;
		case '"':	rep = "&quot;";	break;
		case '\'':	rep = "&apos;";	break;
		default:
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				return (-1);
			one[0] = *s;
			one[1] = '\0';
			rep = one;
			break;
		}
		n = strlen(rep);
		if (outlen - o <= n)
			return (-1);
		memcpy(out + o, rep, n);
		o += n;
	}
	out[o] = '\0';
	return (0);
}

static size_t
make_done(char *buf, size_t len, int n)
{
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return (0);
	}
	return ((size_t)n);
}

#define MAKE_STALE_MS	20000
#define MAKE_POINT \
	"<point lat=\"0.0\" lon=\"0.0\" hae=\"0.0\" ce=\"9999999\" " \
	"le=\"9999999\"/>"

size_t
cot_make_pong(char *buf, size_t len, int64_t now_ms)
{
	char	 now[32], stale[32];

	if (cot_time_format(now_ms, now, sizeof(now)) == 0 ||
	    cot_time_format(now_ms + MAKE_STALE_MS, stale, sizeof(stale)) == 0)
		return (make_done(buf, len, -1));
	return (make_done(buf, len, snprintf(buf, len,
	    "<event version=\"2.0\" uid=\"takPong\" type=\"t-x-c-t-r\" "
	    "how=\"h-g-i-g-o\" time=\"%s\" start=\"%s\" stale=\"%s\">"
	    MAKE_POINT "</event>", now, now, stale)));
}

/* A random (version 4) UUID. */
static int
make_uuid(char *out, size_t outlen)
{
	uint8_t	 b[16];
	size_t	 got = 0;
	ssize_t	 n;
	int	 r;

	while (got < sizeof(b)) {
		n = getrandom(b + got, sizeof(b) - got, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		got += (size_t)n;
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	r = snprintf(out, outlen, "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
	    b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
	    b[14], b[15]);
	return (r < 0 || (size_t)r >= outlen ? -1 : 0);
}

/*
 * A notice of takd's own with a fresh uid and a link to another object
 * (TAK Server's shape for t-x-d-d and t-x-g-c): link_type NULL leaves the
 * link's type out.
 */
static size_t
make_link_event(char *buf, size_t len, const char *type, const char *link_uid,
    const char *link_type, int64_t now_ms)
{
	char	 now[32], stale[32], uuid[40];
	char	 uid[COT_UID_MAX * 6], ltype[COT_TYPE_MAX * 6];

	ltype[0] = '\0';
	if (strlen(link_uid) >= COT_UID_MAX ||
	    make_escape(link_uid, uid, sizeof(uid)) == -1 ||
	    (link_type != NULL && (strlen(link_type) >= COT_TYPE_MAX ||
	    make_escape(link_type, ltype, sizeof(ltype)) == -1)) ||
	    make_uuid(uuid, sizeof(uuid)) == -1 ||
	    cot_time_format(now_ms, now, sizeof(now)) == 0 ||
	    cot_time_format(now_ms + MAKE_STALE_MS, stale, sizeof(stale)) == 0)
		return (make_done(buf, len, -1));
	return (make_done(buf, len, snprintf(buf, len,
	    "<event version=\"2.0\" uid=\"%s\" type=\"%s\" "
	    "how=\"h-g-i-g-o\" time=\"%s\" start=\"%s\" stale=\"%s\">"
	    MAKE_POINT "<detail><link%s%s%s%s%s%s relation=\"p-p\"/>"
	    "</detail></event>", uuid, type, now, now, stale,
	    uid[0] != '\0' ? " uid=\"" : "", uid, uid[0] != '\0' ? "\"" : "",
	    link_type != NULL ? " type=\"" : "", ltype,
	    link_type != NULL ? "\"" : "")));
}

size_t
cot_make_disconnect(char *buf, size_t len, const char *departed_uid,
    const char *last_type, int64_t now_ms)
{
	if (last_type == NULL || last_type[0] == '\0')
		last_type = "a-f-G-U-C";
	if (departed_uid == NULL || departed_uid[0] == '\0')
		return (make_done(buf, len, -1));
	return (make_link_event(buf, len, "t-x-d-d", departed_uid, last_type,
	    now_ms));
}

size_t
cot_make_group_change(char *buf, size_t len, const char *uid, int64_t now_ms)
{
	return (make_link_event(buf, len, "t-x-g-c", uid != NULL ? uid : "",
	    NULL, now_ms));
}

/*
 * The TAK protocol negotiation (docs/takproto.md), in the shape of the
 * protocol's own examples and tests/data/cot/takp-offer.xml: the offer is
 * answered for 60 s, so it is stale then.
 */
#define MAKE_TAKP_STALE_MS	60000
#define MAKE_TAKP_UID		"protouid"

static size_t
make_takp(char *buf, size_t len, const char *uid, const char *type,
    const char *control, int64_t now_ms)
{
	char	 now[32], stale[32], u[COT_UID_MAX * 6];

	if (uid == NULL || uid[0] == '\0')
		uid = MAKE_TAKP_UID;
	if (strlen(uid) >= COT_UID_MAX ||
	    make_escape(uid, u, sizeof(u)) == -1 ||
	    cot_time_format(now_ms, now, sizeof(now)) == 0 ||
	    cot_time_format(now_ms + MAKE_TAKP_STALE_MS, stale,
	    sizeof(stale)) == 0)
		return (make_done(buf, len, -1));
	return (make_done(buf, len, snprintf(buf, len,
	    "<event version=\"2.0\" uid=\"%s\" type=\"%s\" how=\"m-g\" "
	    "time=\"%s\" start=\"%s\" stale=\"%s\"><point lat=\"0.0\" "
	    "lon=\"0.0\" hae=\"0.0\" ce=\"999999\" le=\"999999\"/>"
	    "<detail><TakControl>%s</TakControl></detail></event>", u, type,
	    now, now, stale, control)));
}

size_t
cot_make_takp_offer(char *buf, size_t len, int64_t now_ms)
{
	return (make_takp(buf, len, NULL, "t-x-takp-v",
	    "<TakProtocolSupport version=\"1\"/>", now_ms));
}

size_t
cot_make_takp_response(char *buf, size_t len, const char *uid, bool status,
    int64_t now_ms)
{
	return (make_takp(buf, len, uid, "t-x-takp-r", status ?
	    "<TakResponse status=\"true\"/>" :
	    "<TakResponse status=\"false\"/>", now_ms));
}
