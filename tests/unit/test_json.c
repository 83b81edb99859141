/*
 * Unit tests for shared/json.c: the writer, the reader (strict RFC 8259:
 * strings and their escapes, UTF-8, numbers, literals, nesting, trailing
 * data), json_get() and json_array_next() as takctl uses them on takd's
 * replies, and the writer's output read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shared/json.h"
#include "unit.h"

/* Whether text is one valid JSON value and nothing else. */
static int
valid(const char *text)
{
	struct json_rd	 r;

	json_rd_init(&r, text, strlen(text));
	return (json_rd_skip(&r) == 0 && json_rd_end(&r) == 0);
}

static void
test_json_valid(void **state)
{
	static const char *const good[] = {
		"{}", "[]", " { \"a\" : 1 } ", "\"\"", "0", "-0", "1.5e10",
		"-12.25E-3", "true", "false", "null", "[1,\"x\",{\"y\":[]}]",
		"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u00e9\\uD83D\\uDE00\"",
		"\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", "{\"a\":{\"a\":{\"a\":1}}}",
	};
	static const char *const bad[] = {
		"", " ", "{", "}", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}",
		"{a:1}", "{\"a\":1,}", "01", "1.", ".5", "1e", "+1", "-",
		"tru", "nul", "True", "\"abc", "\"a\x01\"", "\"\\x\"",
		"\"\\u12\"", "\"\\uD800\"", "\"\\uDC00\"", "\"\\uD800\\u0041\"",
		"\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
		"\"\x80\"", "\"\xe2\x82\"", "{} {}", "[1] x", "{\"a\":1}}",
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!valid(good[i]))
			fail_msg("valid JSON refused: %s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (valid(bad[i]))
			fail_msg("invalid JSON accepted: %s", bad[i]);
}

static void
test_json_depth(void **state)
{
	char	 buf[2 * (JSON_RD_DEPTH + 1) + 1];
	size_t	 n;

	(void)state;
	for (n = JSON_RD_DEPTH; n <= JSON_RD_DEPTH + 1; n++) {
		memset(buf, '[', n);
		memset(buf + n, ']', n);
		buf[2 * n] = '\0';
		assert_int_equal(valid(buf), n <= JSON_RD_DEPTH);
	}
}

static void
test_json_string(void **state)
{
	struct json_rd	 r;
	const char	*in = "\"a\\u00e9\\uD83D\\uDE00\\n\" \"toolong\" "
	    "\"x\\u0000y\"";
	char		 out[16];
	bool		 trunc;

	(void)state;
	json_rd_init(&r, in, strlen(in));
	assert_int_equal(json_rd_string(&r, out, sizeof(out), &trunc), 0);
	assert_false(trunc);
	assert_string_equal(out, "a\xc3\xa9\xf0\x9f\x98\x80\n");
	/* What does not fit is flagged, never cut silently. */
	assert_int_equal(json_rd_string(&r, out, 4, &trunc), 0);
	assert_true(trunc);
	assert_string_equal(out, "too");
	/* A NUL cannot be part of a C string. */
	assert_int_equal(json_rd_string(&r, out, sizeof(out), &trunc), 0);
	assert_true(trunc);
	assert_int_equal(json_rd_end(&r), 0);
}

static void
test_json_error_position(void **state)
{
	struct json_rd	 r;
	const char	*in = "{\"a\": [1, 2,, 3]}";

	(void)state;
	json_rd_init(&r, in, strlen(in));
	assert_int_equal(json_rd_skip(&r), -1);
	assert_non_null(r.err);
	assert_int_equal(r.err_at, 12);
	assert_contains(r.err, "unexpected character");
}

static void
test_json_get(void **state)
{
	const char	*obj = "{ \"id\": 3, \"state\": \"running\", "
	    "\"x\": {\"id\": 9}, \"arr\": [1, {\"a\": true}], \"id\": 4 }";
	const char	*v, *pos, *e;
	size_t		 vl, el, n = 0;

	(void)state;
	assert_int_equal(json_get(obj, strlen(obj), "state", &v, &vl), 1);
	assert_int_equal(vl, 9);
	assert_memory_equal(v, "\"running\"", 9);
	/* A top-level key only, and the first of a repeated one. */
	assert_int_equal(json_get(obj, strlen(obj), "id", &v, &vl), 1);
	assert_memory_equal(v, "3", vl);
	assert_int_equal(json_get(obj, strlen(obj), "a", &v, &vl), 0);
	assert_int_equal(json_get(obj, strlen(obj), "arr", &v, &vl), 1);
	pos = v;
	while (json_array_next(&pos, v + vl, &e, &el) == 1)
		n++;
	assert_int_equal(n, 2);
	/* Not one valid object: -1, whatever the key. */
	assert_int_equal(json_get("{\"a\":1", 6, "a", &v, &vl), -1);
	assert_int_equal(json_get("[1]", 3, "a", &v, &vl), -1);
	assert_int_equal(json_get("{\"a\":1} 2", 9, "a", &v, &vl), -1);
	pos = "[1,,2]";
	assert_int_equal(json_array_next(&pos, pos + 6, &e, &el), 1);
	assert_int_equal(json_array_next(&pos, pos + 5, &e, &el), -1);
	pos = "[ ]";
	assert_int_equal(json_array_next(&pos, pos + 3, &e, &el), 0);
}

/* What the writer makes, the reader takes back unchanged. */
static void
test_json_roundtrip(void **state)
{
	struct json	 j;
	const char	*v;
	size_t		 vl;
	struct json_rd	 r;
	char		 out[64];
	bool		 trunc;

	(void)state;
	json_init(&j);
	json_obj_begin(&j);
	json_kv_str(&j, "s", "quote\" back\\ nl\n tab\t bell\a caf\xc3\xa9");
	json_kv_int(&j, "neg", -42);
	json_kv_uint(&j, "big", UINT64_MAX);
	json_kv_bool(&j, "t", true);
	json_key(&j, "n");
	json_null(&j);
	json_key(&j, "a");
	json_arr_begin(&j);
	json_uint(&j, 1);
	json_str(&j, "two");
	json_arr_end(&j);
	json_obj_end(&j);
	assert_int_equal(j.err, 0);
	assert_true(valid(j.buf));
	assert_int_equal(json_get(j.buf, j.len, "s", &v, &vl), 1);
	json_rd_init(&r, v, vl);
	assert_int_equal(json_rd_string(&r, out, sizeof(out), &trunc), 0);
	assert_false(trunc);
	assert_string_equal(out, "quote\" back\\ nl\n tab\t bell\a "
	    "caf\xc3\xa9");
	assert_int_equal(json_get(j.buf, j.len, "big", &v, &vl), 1);
	assert_memory_equal(v, "18446744073709551615", vl);
	json_free(&j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_valid),
		cmocka_unit_test(test_json_depth),
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_json_error_position),
		cmocka_unit_test(test_json_get),
		cmocka_unit_test(test_json_roundtrip),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
