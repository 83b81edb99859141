/*
 * Unit tests for the TAK protocol v1 codec (cot/takp.h), hostile
 * payloads: truncated, wrong wire types, lengths past the end, NUL and
 * invalid UTF-8 in strings, sizes, NaN coordinates, times out of range,
 * missing fields, and an xmlDetail that would break out of <detail>.
 * Everything refused by takp_decode() must be refused by takp_to_xml()
 * too.  The samples, the mapping and the XML side are in test_takp.c.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tests/unit/takp_fx.h"
#include "tests/unit/unit.h"

#include "cot/cot_parse.h"
#include "cot/takp.h"

static int64_t
utc_ms(int y, int mo, int d, int h, int mi, int s, int ms)
{
	struct tm	 tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return ((int64_t)timegm(&tm) * 1000 + ms);
}

/* Every proper prefix of a real payload is refused, none crashes. */
static void
test_truncated(void **state)
{
	struct blob	 b = unit_sample("sa-atak.xml");
	struct pb	 pay;
	size_t		 n;

	fx_encode_ok(b.data, b.len, &pay);
	fx_decode_ok(&pay);
	for (n = 0; n < pay.len; n++) {
		if (takp_decode(pay.p, n, &fx_view, NULL, fx_err,
		    sizeof(fx_err)) != -1)
			fail_msg("prefix of %zu bytes of %zu decoded", n,
			    pay.len);
	}
	pb_free(&pay);
	free(b.data);
}

static void
test_wire_faults(void **state)
{
	struct pb	 x, msg;
	static const uint8_t long_key[] = {
		0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		0x01
	};

	/* uid (5) as a varint */
	memset(&x, 0, sizeof(x));
	pb_u64(&x, 5, 7);
	fx_event_with(&msg, "u-1", &x);
	fx_decode_bad(&msg, "uid with wire type 0");
	pb_free(&msg);
	pb_free(&x);
	/* lat (10) as a varint, staleTime (8) as a string */
	pb_u64(&x, 10, 1);
	fx_event_with(&msg, "u-1", &x);
	fx_decode_bad(&msg, "lat with wire type 0");
	pb_free(&msg);
	pb_free(&x);
	pb_str(&x, 8, "soon");
	fx_event_with(&msg, "u-1", &x);
	fx_decode_bad(&msg, "staleTime with wire type 2");
	pb_free(&msg);
	pb_free(&x);
	/* cotEvent as a fixed64 */
	pb_double(&msg, 2, 1.0);
	fx_decode_bad(&msg, "cotEvent with wire type 1");
	pb_free(&msg);
	/* a proto2 group, even in an unknown field */
	pb_key(&x, 99, 3);
	fx_event_with(&msg, "u-1", &x);
	fx_decode_bad(&msg, "wire type 3");
	pb_free(&msg);
	pb_free(&x);
	/* lengths past the end: inside the event, and huge */
	pb_key(&x, 16, 2);
	pb_varint(&x, 5);
	pb_raw(&x, "ab", 2);
	memset(&msg, 0, sizeof(msg));
	pb_key(&msg, 2, 2);
	pb_varint(&msg, x.len);
	pb_raw(&msg, x.p, x.len);
	fx_decode_bad(&msg, "length past the end");
	pb_free(&msg);
	pb_free(&x);
	pb_key(&msg, 2, 2);
	pb_varint(&msg, UINT64_C(0xffffffffffffffff));
	pb_raw(&msg, "xyz", 3);
	fx_decode_bad(&msg, "length past the end");
	pb_free(&msg);
	pb_key(&msg, 2, 2);
	pb_varint(&msg, UINT64_C(1) << 62);
	fx_decode_bad(&msg, "length past the end");
	pb_free(&msg);
	/* a key longer than 10 bytes, a field number 0 */
	pb_raw(&msg, long_key, sizeof(long_key));
	fx_decode_bad(&msg, "truncated field key");
	pb_free(&msg);
	pb_u64(&msg, 0, 1);
	fx_decode_bad(&msg, "field number 0");
	pb_free(&msg);
	/* a truncated fixed64 and varint at the very end */
	pb_key(&x, 12, 1);
	pb_raw(&x, "1234", 4);
	fx_event_with(&msg, "u-1", &x);
	fx_decode_bad(&msg, "truncated 64-bit field");
	pb_free(&msg);
	pb_free(&x);
	/* unknown fields of every wire type are skipped, as proto3 says */
	pb_u64(&x, 40, 1);
	pb_double(&x, 41, 1.0);
	pb_str(&x, 42, "\x01\x02");	/* bytes, maybe: not checked */
	pb_key(&x, 43, 5);
	pb_raw(&x, "abcd", 4);
	fx_event_with(&msg, "u-1", &x);
	fx_decode_ok(&msg);
	assert_string_equal(fx_view.uid, "u-1");
	pb_free(&msg);
	pb_free(&x);
}

/*
 * One string field set to s[0..n): of the event (sub 0), of Detail
 * (field 15: sub is the Detail field, 1 for xmlDetail), or of a typed
 * message (field: its Detail field, sub: its own).
 */
static void
string_case(uint32_t field, uint32_t sub, const char *s, size_t n,
    const char *want)
{
	struct pb	 x, det, m, msg;

	memset(&x, 0, sizeof(x));
	memset(&det, 0, sizeof(det));
	memset(&m, 0, sizeof(m));
	if (sub == 0)
		pb_bytes(&x, field, s, n);
	else if (field == 15) {
		pb_bytes(&det, sub, s, n);
		pb_msg(&x, 15, &det);
	} else {
		pb_bytes(&m, sub, s, n);
		pb_msg(&det, field, &m);
		pb_msg(&x, 15, &det);
	}
	fx_event_with(&msg, "u-1", &x);
	if (want != NULL)
		fx_decode_bad(&msg, want);
	else
		fx_decode_ok(&msg);
	pb_free(&msg);
	pb_free(&x);
	pb_free(&det);
	pb_free(&m);
}

static void
test_bad_strings(void **state)
{
	/* NUL: protobuf-c would cut the string there */
	string_case(5, 0, "alice\0evil", 10, "uid with a NUL");
	string_case(1, 0, "a-f\0", 4, "type with a NUL");
	string_case(2, 0, "x\0", 2, "access with a NUL");
	string_case(17, 0, "\0", 1, "releaseableTo with a NUL");
	string_case(2, 2, "HA\0WK", 5, "with a NUL");	/* contact callsign */
	string_case(6, 1, "dev\0", 4, "with a NUL");	/* takv device */
	string_case(1, 0, "", 0, "without type");
	/* invalid UTF-8: a lone continuation, overlong, surrogate, past
	 * U+10FFFF, cut short */
	string_case(5, 0, "a\x80", 2, "invalid UTF-8");
	string_case(5, 0, "\xc0\xaf", 2, "invalid UTF-8");
	string_case(5, 0, "\xed\xa0\x80", 3, "invalid UTF-8");
	string_case(5, 0, "\xf4\x90\x80\x80", 4, "invalid UTF-8");
	string_case(3, 0, "\xe2\x82", 2, "invalid UTF-8");
	string_case(15, 1, "\xff", 1, "invalid UTF-8");	/* xmlDetail */
	/* not XML characters at all */
	string_case(4, 0, "\x01", 1, "a control character");
	string_case(4, 0, "\xef\xbf\xbe", 3, "non-XML character");
	string_case(3, 0, "\xef\xbf\xbf", 3, "non-XML character");
	string_case(15, 1, "<a>\x1b</a>", 8, "a control character");
	/* tab and line ends: text and attributes may hold them, view fields
	 * may not (they reach logs) */
	string_case(2, 0, "a\tb\nc\rd", 7, NULL);
	string_case(15, 1, "<remarks>a\nb</remarks>", 22, NULL);
	string_case(5, 0, "a\tb", 3, "control character in event uid");
	string_case(9, 0, "m\ng", 3, "control character in event how");
	string_case(2, 2, "H\x7f", 2, "control character in contact callsign");
	/* fine UTF-8 goes through */
	string_case(5, 0, "\xc3\x91" "and\xc3\xba \xf0\x9f\x9b\xb0", 12,
	    NULL);
	assert_string_equal(fx_view.uid, "\xc3\x91" "and\xc3\xba \xf0\x9f\x9b"
	    "\xb0");
}

static void
test_sizes(void **state)
{
	char		 s[COT_UID_MAX + 2];
	struct pb	 msg;

	memset(s, 'u', sizeof(s));
	s[COT_UID_MAX - 1] = '\0';
	fx_event_with(&msg, s, NULL);
	fx_decode_ok(&msg);
	assert_int_equal(strlen(fx_view.uid), COT_UID_MAX - 1);
	pb_free(&msg);
	s[COT_UID_MAX - 1] = 'u';
	s[COT_UID_MAX] = '\0';
	fx_event_with(&msg, s, NULL);
	fx_decode_bad(&msg, "event uid longer than 255 bytes");
	pb_free(&msg);
	/* a typed callsign past the view's field, never cut */
	s[COT_CALLSIGN_MAX] = '\0';
	string_case(2, 2, s, COT_CALLSIGN_MAX, "contact callsign longer");
	s[COT_GROUP_MAX] = '\0';
	string_case(3, 1, s, COT_GROUP_MAX, "__group name longer");
	/* a payload past the cap is refused before anything is read */
	assert_int_equal(takp_decode((const uint8_t *)s,
	    (size_t)COT_PARSE_MAX_BYTES + 1, &fx_view, NULL, fx_err, sizeof(fx_err)),
	    -1);
	assert_contains(fx_err, "limit");
}

static void
point_case(uint32_t field, double d, const char *want)
{
	struct pb	 x, msg;

	memset(&x, 0, sizeof(x));
	pb_double(&x, field, d);
	fx_event_with(&msg, "u-1", &x);
	if (want != NULL)
		fx_decode_bad(&msg, want);
	else
		fx_decode_ok(&msg);
	pb_free(&msg);
	pb_free(&x);
}

static void
test_coordinates(void **state)
{
	char		*x;
	size_t		 n;
	struct pb	 msg, e;

	point_case(10, NAN, "NaN or infinite coordinate");
	point_case(11, -NAN, "NaN or infinite coordinate");
	point_case(12, INFINITY, "NaN or infinite coordinate");
	point_case(13, -INFINITY, "NaN or infinite coordinate");
	point_case(14, NAN, "NaN or infinite coordinate");
	/* finite but off the globe: kept, no point for routing (as XML) */
	memset(&e, 0, sizeof(e));
	pb_double(&e, 10, 91.0);
	fx_event_with(&msg, "u-1", &e);
	fx_decode_ok(&msg);
	assert_false(fx_view.has_point);
	x = fx_to_xml_ok(&msg, &n);
	assert_contains(x, "<point lat=\"91\" lon=\"-77.0353\"");
	assert_false(fx_view.has_point);
	free(x);
	pb_free(&msg);
	pb_free(&e);
	point_case(11, 180.0, NULL);
	assert_true(fx_view.has_point);
	/* XML that v1 cannot carry */
	fx_encode_bad("<event uid=\"u\" type=\"a\" stale=\"2026-11-23T08:06:00Z\""
	    "/>", "event u without <point>");
	fx_encode_bad("<event uid=\"u\" type=\"a\" stale=\"2026-11-23T08:06:00Z\""
	    "><point lat=\"1\" lon=\"2\" hae=\"3\" ce=\"4\"/></event>",
	    "<point> le missing");
	fx_encode_bad("<event uid=\"u\" type=\"a\" stale=\"2026-11-23T08:06:00Z\""
	    "><point lat=\"NaN\" lon=\"2\" hae=\"3\" ce=\"4\" le=\"5\"/>"
	    "</event>", "<point> lat missing or not a finite");
	fx_encode_bad("<event uid=\"u\" type=\"a\" stale=\"2026-11-23T08:06:00Z\""
	    "><point lat=\"1\" lon=\"2\" hae=\"1e999\" ce=\"4\" le=\"5\"/>"
	    "</event>", "<point> hae missing or not a finite");
}

static void
time_case(uint32_t field, uint64_t t, const char *want)
{
	struct pb	 x, msg;

	memset(&x, 0, sizeof(x));
	pb_u64(&x, field, t);
	fx_event_with(&msg, "u-1", &x);
	if (want != NULL)
		fx_decode_bad(&msg, want);
	else
		fx_decode_ok(&msg);
	pb_free(&msg);
	pb_free(&x);
}

static void
test_times(void **state)
{
	struct pb	 x, msg;
	char		*xml;
	size_t		 n;

	/* 0: absent for time and start (as a missing XML attribute) */
	time_case(6, 0, NULL);
	assert_true(fx_view.time_ms == COT_TIME_UNSET);
	assert_true(fx_view.start_ms != COT_TIME_UNSET);
	time_case(7, 0, NULL);
	assert_true(fx_view.start_ms == COT_TIME_UNSET);
	time_case(8, 0, "without stale time");
	/* the last millisecond of year 9999, and the next one */
	time_case(8, (uint64_t)TAKP_TIME_MAX, NULL);
	assert_true(fx_view.stale_ms == utc_ms(9999, 12, 31, 23, 59, 59, 999));
	time_case(8, (uint64_t)TAKP_TIME_MAX + 1, "staleTime");
	time_case(6, (uint64_t)TAKP_TIME_MAX + 1, "past year 9999");
	time_case(7, UINT64_MAX, "past year 9999");
	/* a negative Java long (before 1970) sent as uint64 */
	time_case(6, (uint64_t)-1000, "past year 9999");
	time_case(8, (uint64_t)INT64_MIN, "past year 9999");
	/* 1970-01-01T00:00:00.001Z is the first time */
	time_case(6, 1, NULL);
	assert_true(fx_view.time_ms == 1);

	/* to XML: an absent time has no attribute, ms always written */
	memset(&x, 0, sizeof(x));
	pb_u64(&x, 6, 0);
	pb_u64(&x, 7, 1795420800007);
	fx_event_with(&msg, "u-1", &x);
	xml = fx_to_xml_ok(&msg, &n);
	assert_null(strstr(xml, " time="));
	assert_contains(xml, " start=\"2026-11-23T08:00:00.007Z\"");
	assert_true(fx_view.time_ms == COT_TIME_UNSET);
	free(xml);
	pb_free(&msg);
	pb_free(&x);

	/* XML v1 cannot carry */
	fx_encode_bad("<event uid=\"u\" type=\"a\" time=\"1969-12-31T23:59:59Z\" "
	    "stale=\"2026-11-23T08:06:00Z\"><point lat=\"1\" lon=\"2\" "
	    "hae=\"3\" ce=\"4\" le=\"5\"/></event>", "time out of v1's range");
	fx_encode_bad("<event uid=\"u\" type=\"a\" start=\"1970-01-01T00:00:00Z\" "
	    "stale=\"2026-11-23T08:06:00Z\"><point lat=\"1\" lon=\"2\" "
	    "hae=\"3\" ce=\"4\" le=\"5\"/></event>", "start out of v1's range");
	fx_encode_bad("<event uid=\"u\" type=\"a\" time=\"yesterday\" "
	    "stale=\"2026-11-23T08:06:00Z\"><point lat=\"1\" lon=\"2\" "
	    "hae=\"3\" ce=\"4\" le=\"5\"/></event>", "time is not a time");
	fx_encode_bad("<event uid=\"u\" type=\"a\" "
	    "stale=\"9999-12-31T23:59:59-01:00\"><point lat=\"1\" lon=\"2\" "
	    "hae=\"3\" ce=\"4\" le=\"5\"/></event>", "stale out of v1's range");
	/* a time cot_parse() does not read (longer than it reads) */
	fx_encode_bad("<event uid=\"u\" type=\"a\" "
	    "time=\"2026-11-23T08:04:00.01111111111111111111111111111Z\" "
	    "stale=\"2026-11-23T08:06:00Z\"><point lat=\"1\" lon=\"2\" "
	    "hae=\"3\" ce=\"4\" le=\"5\"/></event>", "time is not a time");
	/* an end tag in a comment: the framer cuts there, a caller may not */
	fx_encode_bad("<event uid=\"u\" type=\"a\" "
	    "stale=\"2026-11-23T08:06:00Z\"><point lat=\"1\" lon=\"2\" "
	    "hae=\"3\" ce=\"4\" le=\"5\"/><detail><!-- </event> -->"
	    "</detail></event>", "detail holds \"</event>\"");
	/* and what cot_parse refuses, from_xml refuses */
	fx_encode_bad("<event uid=\"u\" type=\"a\"><point lat=\"1\" lon=\"2\" "
	    "hae=\"3\" ce=\"4\" le=\"5\"/></event>", "without stale time");
}

static void
test_missing(void **state)
{
	struct pb	 ev, ctl, msg;
	struct takp_control c;

	memset(&msg, 0, sizeof(msg));
	fx_decode_bad(&msg, "TakMessage without cotEvent");	/* empty */
	pb_u64(&msg, 3, 1795420800000);		/* submissionTime only */
	fx_decode_bad(&msg, "TakMessage without cotEvent");
	pb_free(&msg);
	/* an empty cotEvent, then without uid, type, stale */
	memset(&ev, 0, sizeof(ev));
	pb_wrap_event(&msg, &ev);
	fx_decode_bad(&msg, "event without uid");
	pb_free(&msg);
	pb_str(&ev, 5, "u-1");
	pb_wrap_event(&msg, &ev);
	fx_decode_bad(&msg, "event u-1 without type");
	pb_free(&msg);
	pb_str(&ev, 1, "a-f");
	pb_wrap_event(&msg, &ev);
	fx_decode_bad(&msg, "event u-1 without stale time");
	pb_free(&msg);
	pb_u64(&ev, 8, 1795420800000);
	pb_wrap_event(&msg, &ev);
	fx_decode_ok(&msg);
	/* no point at all is lat/lon 0 (proto3 defaults): a point */
	assert_true(fx_view.has_point && fx_view.lat == 0.0);
	pb_free(&msg);
	pb_free(&ev);

	/* a TakControl alone */
	memset(&ctl, 0, sizeof(ctl));
	pb_str(&ctl, 3, "ANDROID-1");
	pb_msg(&msg, 1, &ctl);
	assert_int_equal(takp_decode(msg.p, msg.len, &fx_view, &c, fx_err,
	    sizeof(fx_err)), TAKP_CONTROL);
	assert_true(c.present);
	assert_int_equal(c.min_version, 1);	/* 0 reads as 1 */
	assert_int_equal(c.max_version, 1);
	assert_string_equal(c.contact_uid, "ANDROID-1");
	assert_int_equal(takp_decode(msg.p, msg.len, &fx_view, NULL, fx_err,
	    sizeof(fx_err)), TAKP_CONTROL);
	{
		char	*x = NULL;
		size_t	 xn;

		assert_int_equal(takp_to_xml(msg.p, msg.len, &x, &xn, fx_err,
		    sizeof(fx_err)), -1);
		assert_null(x);
		assert_contains(fx_err, "no XML form");
	}
	pb_free(&msg);
	pb_u64(&ctl, 1, 2);
	pb_u64(&ctl, 2, 3);
	pb_msg(&msg, 1, &ctl);
	fx_event_with(&ev, "u-1", NULL);
	pb_raw(&msg, ev.p, ev.len);
	assert_int_equal(takp_decode(msg.p, msg.len, &fx_view, &c, fx_err,
	    sizeof(fx_err)), TAKP_EVENT);
	assert_true(c.present && c.min_version == 2 && c.max_version == 3);
	assert_string_equal(fx_view.uid, "u-1");
	pb_free(&msg);
	pb_free(&ev);
	pb_free(&ctl);
	pb_str(&ctl, 3, "a\nb");
	pb_msg(&msg, 1, &ctl);
	assert_int_equal(takp_decode(msg.p, msg.len, &fx_view, &c, fx_err,
	    sizeof(fx_err)), -1);
	assert_contains(fx_err, "control character in takControl contactUid");
	pb_free(&msg);
	pb_free(&ctl);
}

/* xmlDetail must be what cot_parse() would take inside <detail>. */
static void
test_hostile_detail(void **state)
{
	static const struct {
		const char	*detail;
		const char	*want;
	} cases[] = {
		/* escaping the wrapper to add a point or a second event */
		{ "</detail><point lat=\"1\" lon=\"2\"/><detail>",
		    "malformed XML" },
		{ "</detail><event uid=\"x\"><detail>", "malformed XML" },
		{ "</detail></event><event uid=\"x\"><detail>",
		    "holds \"</event>\"" },
		{ "<!-- </event><event uid=\"evil\" type=\"a\"/> -->",
		    "holds \"</event>\"" },
		{ "<![CDATA[</event>]]>", "holds \"</event>\"" },
		{ "<?x </event>?>", "holds \"</event>\"" },
		{ "<!DOCTYPE x [<!ENTITY e \"e\">]><x/>", "malformed XML" },
		{ "<x>&e;</x>", "malformed XML" },
		{ "<x>&#0;</x>", "malformed XML" },
		{ "<?xml version=\"1.0\"?><x/>", "malformed XML" },
		{ "<a><b></a>", "malformed XML" },
		{ "<a>", "malformed XML" },
		{ "<x:a/>", "malformed XML" },	/* undeclared prefix */
		{ "<a b=\"1\" b=\"2\"/>", "malformed XML" },
		{ "<marti>" "<dest uid=\"1\"/><dest uid=\"2\"/><dest uid=\"3\"/>"
		    "<dest uid=\"4\"/><dest uid=\"5\"/><dest uid=\"6\"/>"
		    "<dest uid=\"7\"/><dest uid=\"8\"/><dest uid=\"9\"/>"
		    "<dest uid=\"10\"/><dest uid=\"11\"/><dest uid=\"12\"/>"
		    "<dest uid=\"13\"/><dest uid=\"14\"/><dest uid=\"15\"/>"
		    "<dest uid=\"16\"/><dest uid=\"17\"/><dest uid=\"18\"/>"
		    "<dest uid=\"19\"/><dest uid=\"20\"/><dest uid=\"21\"/>"
		    "<dest uid=\"22\"/><dest uid=\"23\"/><dest uid=\"24\"/>"
		    "<dest uid=\"25\"/><dest uid=\"26\"/><dest uid=\"27\"/>"
		    "<dest uid=\"28\"/><dest uid=\"29\"/><dest uid=\"30\"/>"
		    "<dest uid=\"31\"/><dest uid=\"32\"/><dest uid=\"33\"/>"
		    "</marti>", "more than 32" },
		{ "<link uid=\"a&#10;b\"/>", "control character in <link>" },
		{ "<contact callsign=\"a&#9;b\"/>",
		    "control character in <contact>" },
	};
	struct pb	 msg;
	char		 deep[1024];
	size_t		 i, n = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fx_event_xml_detail(&msg, cases[i].detail,
		    strlen(cases[i].detail));
		fx_decode_bad(&msg, cases[i].want);
		pb_free(&msg);
	}
	/* depth: event and detail are levels 1 and 2 */
	for (i = 0; i < COT_PARSE_DEPTH - 1; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "<a>");
	for (i = 0; i < COT_PARSE_DEPTH - 1; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "</a>");
	fx_event_xml_detail(&msg, deep, n);
	fx_decode_bad(&msg, "nested deeper than 64");
	pb_free(&msg);
	/* one level less is fine */
	fx_event_xml_detail(&msg, deep + 3, n - 7);
	fx_decode_ok(&msg);
	pb_free(&msg);
	/* an empty xmlDetail is no xmlDetail */
	fx_event_xml_detail(&msg, "", 0);
	fx_decode_ok(&msg);
	pb_free(&msg);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_wire_faults),
		cmocka_unit_test(test_bad_strings),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_coordinates),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_hostile_detail),
	};

	cot_parse_init();
	/* test_takp_hostile [PATTERN]: run only the matching tests */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
