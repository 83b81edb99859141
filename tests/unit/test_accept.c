/*
 * Unit tests for api/accept.c: the Accept headers TAK clients and tools
 * send (none, empty, * / *, curl's, browsers'), q-values and lists decided
 * by the most specific range and the highest q, case, parameters and
 * quoted strings, and every refusal: types neither JSON nor XML, q=0 for
 * both, malformed ranges, parameters and q-values, too long, too many.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/accept.h"
#include "tests/unit/unit.h"

static void
choose(const char *value, enum accept_format want, const char *ctype)
{
	struct accept_choice	 c;
	const char		*why;

	if (accept_choose(value, value == NULL ? 0 : strlen(value), &c,
	    &why) != 0)
		fail_msg("\"%s\" refused: %s", value, why);
	if (c.format != want)
		fail_msg("\"%s\": %s, expected %s", value,
		    c.format == ACCEPT_JSON ? "JSON" : "XML",
		    want == ACCEPT_JSON ? "JSON" : "XML");
	assert_string_equal(c.content_type, ctype);
}

static void
refuse(const char *value, size_t len, const char *want)
{
	struct accept_choice	 c;
	const char		*why = NULL;

	if (accept_choose(value, len, &c, &why) == 0)
		fail_msg("\"%.*s\" taken as %s", (int)len, value,
		    c.content_type);
	assert_non_null(why);
	assert_contains(why, want);
}

#define J	ACCEPT_JSON
#define X	ACCEPT_XML
#define AJ	"application/json"
#define AX	"application/xml"

static void
test_accept_simple(void **state)
{
	(void)state;
	choose(NULL, J, AJ);
	choose("", J, AJ);
	choose("  ", J, AJ);
	choose("*/*", J, AJ);
	choose("application/json", J, AJ);
	choose("application/xml", X, AX);
	choose("text/xml", X, "text/xml");
	choose("Application/JSON", J, AJ);
	choose("APPLICATION/XML", X, AX);
	choose("application/*", J, AJ);
	choose("text/*", X, "text/xml");
	choose("application/json; charset=utf-8", J, AJ);
	choose("application/xml;charset=\"utf-8\"", X, AX);
	/* A browser's. */
	choose("text/html,application/xhtml+xml,application/xml;q=0.9,"
	    "image/avif,image/webp,*/*;q=0.8", X, AX);
}

static void
test_accept_lists(void **state)
{
	(void)state;
	choose("application/xml;q=0.9, application/json", J, AJ);
	choose("application/json;q=0.5, application/xml", X, AX);
	choose("application/json;q=0.5, application/xml;q=0.5", J, AJ);
	choose("application/xml, application/json", J, AJ);
	choose("application/json;q=0, */*", X, AX);
	choose("application/json;q=0, application/xml;q=0, text/*", X,
	    "text/xml");
	choose("*/*;q=0.1, application/xml;q=0.2", X, AX);
	choose("application/*;q=0.3, application/json;q=0.2, "
	    "application/xml;q=0.25", X, AX);
	choose(",,application/xml , ,", X, AX);
	choose("application/xml;q=1.000", X, AX);
	choose("application/xml;Q=0.001, application/json;q=0.000", X, AX);
	choose("application/xml ; q=0.5 ; level=1", X, AX);
	choose("application/xml;;q=0.5", X, AX);
	choose("image/png, application/xml;q=0.01", X, AX);
	choose("application/xml;p=\"a,b;q=0\", image/png", X, AX);
	choose("application/xml;p=\"a\\\"b\"", X, AX);
}

static void
test_accept_refused(void **state)
{
	char	 big[ACCEPT_VALUE_MAX + 1], many[32 * 40];
	int	 i, o = 0;

	(void)state;
	refuse("text/html", 9, "neither JSON nor XML");
	refuse("image/png, text/plain", 21, "neither JSON nor XML");
	refuse("application/json;q=0", 20, "neither JSON nor XML");
	refuse("*/*;q=0", 7, "neither JSON nor XML");
	refuse("application/json;q=0, application/xml;q=0, text/xml;q=0", 55,
	    "neither JSON nor XML");
	refuse("application/xml+json", 20, "neither JSON nor XML");
	refuse("json", 4, "malformed media range");
	refuse("application/", 12, "malformed media range");
	refuse("/json", 5, "malformed media range");
	refuse("*/json", 6, "malformed media range");
	refuse("application/json/x", 18, "malformed media range");
	refuse("application /json", 17, "malformed media range");
	refuse("application/json x", 18, "malformed media range");
	refuse("application/json;q", 18, "malformed parameter");
	refuse("application/json;=1", 19, "malformed parameter");
	refuse("application/json;q=", 19, "malformed parameter");
	refuse("application/json;q=2", 20, "malformed q-value");
	refuse("application/json;q=1.5", 22, "malformed q-value");
	refuse("application/json;q=1.001", 24, "malformed q-value");
	refuse("application/json;q=0.0001", 25, "malformed q-value");
	refuse("application/json;q=.5", 21, "malformed q-value");
	refuse("application/json;q=-1", 21, "malformed q-value");
	refuse("application/json;q=0,5", 22, "malformed media range");
	refuse("application/json;a=\"x", 21, "quoted string");
	refuse("application/json;a=\"x\x01\"", 23, "quoted string");
	refuse("application/json;a=\"x\\", 22, "quoted string");
	refuse("application/j\0son", 17, "malformed media range");
	refuse("application/json\n", 17, "malformed media range");
	refuse("application/jsön", 17, "malformed media range");
	memset(big, ' ', sizeof(big));
	memcpy(big, "application/json", 16);
	refuse(big, sizeof(big), "longer than 2048");
	for (i = 0; i < 33; i++)
		o += snprintf(many + o, sizeof(many) - o, "a/b%d,", i);
	refuse(many, (size_t)o, "more than 32");
	/* 32 are taken. */
	choose("a/a,a/a,a/a,a/a,a/a,a/a,a/a,a/a,a/a,a/a,a/a,a/a,a/a,a/a,a/a,"
	    "a/a,a/a,a/a,a/a,a/a,a/a,a/a,a/a,a/a,a/a,a/a,a/a,a/a,a/a,a/a,a/a,"
	    "application/xml", X, AX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_simple),
		cmocka_unit_test(test_accept_lists),
		cmocka_unit_test(test_accept_refused),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
