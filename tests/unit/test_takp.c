/*
 * Unit tests of the TAK protocol (docs/takproto.md): the negotiation
 * events (cot/cot_make.c) and the <TakRequest> version of a t-x-takp-q
 * (cot/cot_parse.c).
 *
 * Samples are read from $TESTDATA/cot (tests/run.sh exports it; else
 * tests/data/cot, relative to the repository root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tests/unit/unit.h"

#include "cot/cot_parse.h"

static struct cot_view	 xview;	/* 10 KiB: not on the stack */
static char		 fx_err[COT_ERR_MAX];

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

/* t-x-takp-v and t-x-takp-r, and the version a t-x-takp-q asks for. */
static void
test_negotiation(void **state)
{
	struct blob	 b = unit_sample("takp-offer.xml");
	int64_t		 now = utc_ms(2026, 11, 23, 8, 0, 0, 0);
	char		 buf[1024], q[1024];
	size_t		 n, i;
	static const struct {
		const char	*req;
		int		 version;
	} reqs[] = {
		{ "<TakControl><TakRequest version=\"1\"/></TakControl>", 1 },
		{ "<TakControl><TakRequest version=\"2\"/></TakControl>", 2 },
		{ "<TakControl><TakRequest version=\"0\"/></TakControl>", -1 },
		{ "<TakControl><TakRequest version=\"\"/></TakControl>", -1 },
		{ "<TakControl><TakRequest version=\"1x\"/></TakControl>", -1 },
		{ "<TakControl><TakRequest version=\"-1\"/></TakControl>", -1 },
		{ "<TakControl><TakRequest version=\"99999999999\"/>"
		    "</TakControl>", -1 },
		{ "<TakControl><TakRequest/></TakControl>", -1 },
		{ "<TakControl><TakRequest version=\"3\"/><TakRequest "
		    "version=\"1\"/></TakControl>", 3 },
		{ "<TakControl><TakProtocolSupport version=\"1\"/>"
		    "</TakControl>", 0 },
		{ "<TakRequest version=\"1\"/>", 0 },
		{ "<x><TakControl><TakRequest version=\"1\"/></TakControl>"
		    "</x>", 0 },
		{ "", 0 },
	};

	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	n = cot_make_takp_offer(buf, sizeof(buf), now);
	assert_int_equal(n, b.len);
	assert_string_equal(buf, b.data);
	assert_int_equal(cot_parse(buf, n, &xview, fx_err, sizeof(fx_err)), 0);
	assert_string_equal(xview.type, "t-x-takp-v");
	assert_true(xview.stale_ms == now + 60000);
	assert_false(cot_is_takp_request(&xview));
	assert_int_equal(cot_make_takp_offer(buf, n, now), 0);
	free(b.data);

	n = cot_make_takp_response(buf, sizeof(buf), "q-uid", true, now);
	assert_true(n > 0);
	assert_int_equal(cot_parse(buf, n, &xview, fx_err, sizeof(fx_err)), 0);
	assert_string_equal(xview.uid, "q-uid");
	assert_string_equal(xview.type, "t-x-takp-r");
	assert_contains(buf, "<detail><TakControl><TakResponse "
	    "status=\"true\"/></TakControl></detail>");
	assert_true(cot_make_takp_response(buf, sizeof(buf), NULL, false,
	    now) > 0);
	assert_contains(buf, "uid=\"protouid\"");
	assert_contains(buf, "<TakResponse status=\"false\"/>");
	assert_true(cot_make_takp_response(buf, sizeof(buf), "a\"<&", false,
	    now) > 0);
	assert_int_equal(cot_parse(buf, strlen(buf), &xview, fx_err,
	    sizeof(fx_err)), 0);
	assert_string_equal(xview.uid, "a\"<&");
	assert_int_equal(cot_make_takp_response(buf, sizeof(buf), "a\nb",
	    true, now), 0);
	assert_int_equal(cot_make_takp_response(buf, 100, "q", true, now), 0);

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		snprintf(q, sizeof(q), "<event version=\"2.0\" uid=\"protouid\""
		    " type=\"t-x-takp-q\" how=\"m-g\" "
		    "time=\"2026-11-23T08:00:01Z\" "
		    "start=\"2026-11-23T08:00:01Z\" "
		    "stale=\"2026-11-23T08:01:01Z\"><point lat=\"0.0\" "
		    "lon=\"0.0\" hae=\"0.0\" ce=\"999999\" le=\"999999\"/>"
		    "<detail>%s</detail></event>", reqs[i].req);
		if (cot_parse(q, strlen(q), &xview, fx_err, sizeof(fx_err)) != 0)
			fail_msg("%s: %s", reqs[i].req, fx_err);
		assert_true(cot_is_takp_request(&xview));
		if (xview.takp_request != reqs[i].version)
			fail_msg("%s: version %d, expected %d", reqs[i].req,
			    xview.takp_request, reqs[i].version);
	}
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_negotiation),
	};

	cot_parse_init();
	/* test_takp [PATTERN]: run only the matching tests */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
