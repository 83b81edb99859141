/*
 * Unit tests for api/query.c: the query strings ATAK, iTAK and tools send
 * to the enrollment calls (clientUid and clientUID, version with spaces
 * and brackets, '+' and %-escapes, unknown parameters, empty pairs), the
 * bounds (255-byte uid and 128-byte version taken, one more refused, 2048
 * bytes of query), and every refusal: duplicates, bad or truncated or NUL
 * escapes, raw bytes outside printable ASCII, a space or a control in the
 * uid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/query.h"
#include "tests/unit/unit.h"

static struct query_enroll
parse_ok(const char *q)
{
	struct query_enroll	 e;
	const char		*why;

	if (query_enroll_parse(q, q == NULL ? 0 : strlen(q), &e, &why) != 0)
		fail_msg("\"%s\" refused: %s", q, why);
	return (e);
}

static void
refuse(const char *q, size_t len, const char *want)
{
	struct query_enroll	 e;
	const char		*why = NULL;

	if (query_enroll_parse(q, len, &e, &why) == 0)
		fail_msg("\"%.*s\" taken (uid \"%s\")", (int)len, q,
		    e.client_uid);
	assert_non_null(why);
	assert_contains(why, want);
	assert_false(e.has_client_uid);
	assert_int_equal(e.client_uid[0], 0);
}

static void
test_query_clients(void **state)
{
	struct query_enroll	 e;

	(void)state;
	e = parse_ok("clientUid=ANDROID-0123456789abcdef&version=4.10.0.5+"
	    "%281a2b3c4d%29%5Bplaystore%5D.1700000000-CIV");
	assert_true(e.has_client_uid && e.has_version);
	assert_string_equal(e.client_uid, "ANDROID-0123456789abcdef");
	assert_string_equal(e.version,
	    "4.10.0.5 (1a2b3c4d)[playstore].1700000000-CIV");
	/* Unescaped brackets and parentheses are taken as they are. */
	e = parse_ok("version=4.10(x)[y]&clientUid=abc");
	assert_string_equal(e.version, "4.10(x)[y]");
	e = parse_ok("clientUID=E4D2C1B0-1234-4ABC-9DEF-001122334455");
	assert_string_equal(e.client_uid,
	    "E4D2C1B0-1234-4ABC-9DEF-001122334455");
	assert_false(e.has_version);
	e = parse_ok("clientUid=S-1-5-21-1004336348-1177238915-682003330-512"
	    "&version=WinTAK%204.10");
	assert_string_equal(e.version, "WinTAK 4.10");
	e = parse_ok(NULL);
	assert_false(e.has_client_uid || e.has_version);
	assert_string_equal(e.client_uid, "");
	e = parse_ok("");
	assert_false(e.has_client_uid);
	e = parse_ok("clientUid=&version");
	assert_true(e.has_client_uid && e.has_version);
	assert_string_equal(e.client_uid, "");
	assert_string_equal(e.version, "");
	e = parse_ok("&&clientUid=a%2Fb%3d%25&&foo=bar&x&=y&&");
	assert_string_equal(e.client_uid, "a/b=%");
	/* Names are decoded too, and case matters. */
	e = parse_ok("client%55id=u1&ClientUid=zz&CLIENTUID=yy");
	assert_string_equal(e.client_uid, "u1");
	/* Other parameters may repeat; '=' may appear in a value. */
	e = parse_ok("a=1&a=2&clientUid=x=y&b=%C3%A9");
	assert_string_equal(e.client_uid, "x=y");
}

static void
test_query_bounds(void **state)
{
	char			 q[QUERY_MAX + 64];
	struct query_enroll	 e;
	int			 n;

	(void)state;
	n = snprintf(q, sizeof(q), "clientUid=");
	memset(q + n, 'u', QUERY_UID_MAX);
	q[n + QUERY_UID_MAX] = '\0';
	e = parse_ok(q);
	assert_int_equal(strlen(e.client_uid), QUERY_UID_MAX);
	memcpy(q + n + QUERY_UID_MAX, "u", 2);
	refuse(q, strlen(q), "clientUid longer than 255");
	/* An escape counts as the one byte it decodes to. */
	memcpy(q + n + QUERY_UID_MAX - 1, "%41", 4);
	e = parse_ok(q);
	assert_int_equal(e.client_uid[QUERY_UID_MAX - 1], 'A');

	n = snprintf(q, sizeof(q), "version=");
	memset(q + n, 'v', QUERY_VERSION_MAX);
	q[n + QUERY_VERSION_MAX] = '\0';
	e = parse_ok(q);
	assert_int_equal(strlen(e.version), QUERY_VERSION_MAX);
	memcpy(q + n + QUERY_VERSION_MAX, "+", 2);
	refuse(q, strlen(q), "version longer than 128");

	/* 2048 bytes of query, most of them an unknown parameter. */
	n = snprintf(q, sizeof(q), "clientUid=abc&pad=");
	memset(q + n, 'p', QUERY_MAX - n);
	q[QUERY_MAX] = '\0';
	e = parse_ok(q);
	assert_string_equal(e.client_uid, "abc");
	q[QUERY_MAX] = 'p';
	q[QUERY_MAX + 1] = '\0';
	refuse(q, QUERY_MAX + 1, "query longer than 2048");
}

static void
test_query_refused(void **state)
{
	(void)state;
	refuse("clientUid=a&clientUid=b", 23, "clientUid given twice");
	refuse("clientUid=a&clientUID=b", 23, "clientUid given twice");
	refuse("clientUid=&clientUid=", 21, "clientUid given twice");
	refuse("version=1&version=1", 19, "version given twice");
	refuse("clientUid=a%2", 13, "truncated");
	refuse("clientUid=a%", 12, "truncated");
	refuse("clientUid=a%zz", 14, "malformed %-escape");
	refuse("clientUid=a%4g", 14, "malformed %-escape");
	refuse("clientUid=a%00b", 15, "%00");
	refuse("foo=%00", 7, "%00");
	refuse("x%=1", 4, "truncated");
	refuse("x%4=1", 5, "truncated");
	refuse("clientUid=a b", 13, "raw byte");
	refuse("clientUid=a\tb", 13, "raw byte");
	refuse("clientUid=a\0b", 13, "raw byte");
	refuse("clientUid=\xc3\xa9", 12, "raw byte");
	refuse("foo=\x7f", 5, "raw byte");
	refuse("clientUid=a\r\nX-Injected: 1", 26, "raw byte");
	refuse("clientUid=a+b", 13, "clientUid not printable");
	refuse("clientUid=a%20b", 15, "clientUid not printable");
	refuse("clientUid=a%0Ab", 15, "clientUid not printable");
	refuse("clientUid=%C3%A9", 16, "clientUid not printable");
	refuse("clientUid=a%7F", 14, "clientUid not printable");
	refuse("version=a%0Db", 13, "version not printable");
	refuse("version=%1B%5B2J", 16, "version not printable");
	refuse("version=%FF", 11, "version not printable");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_clients),
		cmocka_unit_test(test_query_bounds),
		cmocka_unit_test(test_query_refused),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
