/*
 * TAK protocol version 1 codec: one TakMessage payload (protobuf, package
 * atakmap.commoncommo.protobuf.v1, the files of proto/) to the event view
 * routing uses and to XML, and one XML event to a v1 frame.  Pure: no
 * sockets, no clock, no globals beyond libxml2's own initialisation
 * (cot_parse_init()).  The stream framing (0xBF, varint length) is
 * cot/takp_frame.h's; negotiation and per-recipient encoding are the
 * worker's.  See docs/takproto.md.
 *
 * What v1 carries is checked as strictly as cot_parse() checks XML, and
 * more: everything takp_decode() accepts becomes XML that cot_parse()
 * accepts (takp_to_xml()), so a v1 sender can never hand an XML recipient
 * an event that breaks it.  Refused:
 *   - a payload protobuf cannot decode (truncated, a wire type other than
 *     the field's, a length past the end, a group wire type);
 *   - any string field with invalid UTF-8, NUL, another C0 control than
 *     tab, LF and CR, U+FFFE or U+FFFF (not XML characters);
 *   - a view field (uid, type, how, callsign, endpoint, group name and
 *     role, contactUid) too long for struct cot_view or with any control
 *     character, as cot_parse() refuses them;
 *   - a TakMessage with neither cotEvent nor takControl, a cotEvent
 *     without uid, type or staleTime;
 *   - a time past 9999-12-31T23:59:59.999Z (ISO 8601 has four year
 *     digits; a negative Java long sent as uint64 is one of these); a
 *     sendTime or startTime of 0 means "absent", as in proto3;
 *   - a NaN or infinite lat, lon, hae, ce or le (finite coordinates out of
 *     range are kept, and give has_point false, as in XML);
 *   - an xmlDetail that cot_parse() would refuse inside <detail> (not
 *     well-formed, DTD, entities, depth, attributes, namespaces), or that
 *     holds the literal "</event>" (in a comment, CDATA or processing
 *     instruction: XML receivers cut their stream there).
 */
#ifndef TAKD_TAKP_H
#define TAKD_TAKP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cot/cot_parse.h"

/* What takp_decode() found. */
#define TAKP_EVENT	0	/* a cotEvent: the view is filled */
#define TAKP_CONTROL	1	/* a takControl alone (negotiation, mesh) */

/*
 * Latest time v1 may carry: 9999-12-31T23:59:59.999Z, the last one
 * cot_time_format() writes.
 */
#define TAKP_TIME_MAX	INT64_C(253402300799999)

/* The TakControl of a message. */
struct takp_control {
	bool		 present;
	uint32_t	 min_version;	/* 0 on the wire reads as 1 */
	uint32_t	 max_version;	/* likewise */
	char		 contact_uid[COT_UID_MAX];	/* "" when absent */
};

/*
 * Decode one TakMessage payload (the bytes after 0xBF and the varint; len
 * may be 0).  Returns TAKP_EVENT with v filled exactly as cot_parse()
 * fills it for the same event in XML (event_off 0; contact, __group,
 * marti dests, link and TakRequest from xmlDetail, else contact and group
 * from the typed messages: xmlDetail wins), TAKP_CONTROL for a takControl
 * without cotEvent (v then holds nothing useful), or -1 with a one-line
 * reason in err (COT_ERR_MAX is a good size).  ctl may be NULL; else it
 * receives the takControl, if any (ctl->present), beside either result.
 * v and ctl are clobbered either way.
 */
int	 takp_decode(const uint8_t *payload, size_t len, struct cot_view *v,
	    struct takp_control *ctl, char *err, size_t errlen);

/*
 * One XML event (bytes as the XML framer hands them out, from <event>; a
 * declaration before it is allowed as cot_parse() allows it) to a whole v1
 * stream frame: 0xBF, the varint length, the TakMessage.  *out is
 * malloc'd (free() it), *outlen its length.  Returns 0, or -1 with err:
 * whatever cot_parse() refuses, and what v1 cannot carry: a time, start
 * or stale before or at 1970-01-01T00:00:00Z, a time or start that is not
 * a time cot_parse() reads, no <point>, a point without a plain finite
 * decimal lat, lon, hae, ce or le, and a detail holding the literal
 * "</event>" (the framer never hands one out; takp_decode() would refuse
 * its xmlDetail).
 *
 * Mapping (docs/takproto.md): a child of the first <detail> becomes its
 * typed message (contact, __group, precisionlocation, status, takv, track)
 * only when it is the only child of that name, has no children (not even
 * text) and no namespace, and its attributes are a subset of the
 * message's, each non-empty, with battery a decimal uint32 and speed and
 * course both present and plain finite decimals; every other child (and
 * text, comments) stays XML in xmlDetail, without the <detail> wrapper.
 * No <detail>: no Detail message; an empty one: an empty Detail.  What v1
 * has no field for is dropped: <event> attributes other than uid, type,
 * how, time, start, stale, access, qos, opex, caveat, releasableTo
 * (version is always 2.0), <point> attributes other than the five,
 * children of <event> other than the first point and the first detail,
 * and <detail>'s own attributes.
 */
int	 takp_from_xml(const void *xml, size_t len, uint8_t **out,
	    size_t *outlen, char *err, size_t errlen);

/*
 * One TakMessage payload with a cotEvent (checked as takp_decode() checks
 * it) to one XML event, <event ...>...</event> without a declaration,
 * NUL-terminated: *out is malloc'd (free() it), *outlen its length without
 * the NUL.  Returns 0, or -1 with err (a control message has no XML form).
 *
 * Writing: attributes in the order version ("2.0"), uid, type, how, time,
 * start, stale, access, qos, opex, caveat, releasableTo; a string only when
 * non-empty, a time only when not 0; every value escaped (& < > " ' and
 * tab, LF, CR as character references, so attribute normalisation cannot
 * change them).  Times as cot_time_format() writes them
 * (2026-11-23T08:00:00.000Z).  Numbers in the fewest significant digits
 * (15 to 17, %g) that read back as the same double; battery as a decimal.
 * <point> always (v1 always carries one); <detail> when the event has a
 * Detail: xmlDetail as sent, then each typed message as its element
 * (string attributes only when non-empty; battery, speed and course
 * always), unless xmlDetail holds an element of that name, which wins.
 */
int	 takp_to_xml(const uint8_t *payload, size_t len, char **out,
	    size_t *outlen, char *err, size_t errlen);

#endif
