/*
 * libFuzzer target for the JSON reader (shared/json.h): what takctl reads
 * from takd and what `takctl crl import-fts` reads from a FreeTAKServer file.
 *
 * Checked on every input:
 * - a refusal names a reason and a byte offset inside the input;
 * - json_get() says "not an object" exactly when the input is not one
 *   valid object;
 * - in a valid object, every member found by walking it is found by
 *   json_get() (the first of a repeated name), and its raw value is one
 *   valid value again;
 * - every string value of a valid object that decodes whole, written back
 *   by the JSON writer, reads back to the same bytes;
 * - json_array_next() walks a valid array to its end without an error.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/json.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FZ_MEMBERS	16	/* members of an object checked */
#define FZ_STR		256

static void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_json: %s\n", what);
	abort();
}

static bool
fz_valid(const char *p, size_t len)
{
	struct json_rd	 r;

	json_rd_init(&r, p, len);
	if (json_rd_skip(&r) == 0 && json_rd_end(&r) == 0)
		return (true);
	if (r.err == NULL || r.err_at > len)
		fz_fail("refusal without a reason or past the input");
	return (false);
}

/* A decoded string, through the writer and back. */
static void
fz_string_roundtrip(const char *v, size_t vl)
{
	struct json_rd	 r;
	struct json	 j;
	char		 a[FZ_STR], b[FZ_STR];
	bool		 trunc;

	json_rd_init(&r, v, vl);
	if (json_rd_string(&r, a, sizeof(a), &trunc) == -1)
		fz_fail("a valid string value does not read");
	if (trunc)
		return;
	json_init(&j);
	json_str(&j, a);
	if (j.err)
		return;
	json_rd_init(&r, j.buf, j.len);
	if (json_rd_string(&r, b, sizeof(b), &trunc) == -1 || trunc ||
	    strcmp(a, b) != 0 || json_rd_end(&r) == -1)
		fz_fail("the writer's string does not read back the same");
	json_free(&j);
}

static void
fz_object(const char *p, size_t len)
{
	struct json_rd	 r;
	const char	*v, *g;
	size_t		 vl, gl, n = 0;
	char		 key[JSON_RD_KEY_MAX];
	bool		 first = true, trunc;
	int		 more;

	json_rd_init(&r, p, len);
	if (json_rd_open(&r, '{') == -1)
		fz_fail("a valid object does not open");
	while (n < FZ_MEMBERS && (more = json_rd_more(&r, '}', &first)) == 1) {
		if (json_rd_string(&r, key, sizeof(key), &trunc) == -1 ||
		    json_rd_peek(&r) != ':')
			fz_fail("a member name does not read");
		r.p++;
		if (json_rd_value(&r, &v, &vl) == -1)
			fz_fail("a member value does not read");
		n++;
		if (!fz_valid(v, vl))
			fz_fail("a member's raw value is not valid");
		if (v[0] == '"')
			fz_string_roundtrip(v, vl);
		if (trunc)
			continue;
		if (json_get(p, len, key, &g, &gl) != 1)
			fz_fail("json_get() misses a member");
		/* The first of the name: it starts no later than this one. */
		if (g > v)
			fz_fail("json_get() found a later member");
	}
}

static void
fz_array(const char *p, size_t len)
{
	const char	*pos = p, *e;
	size_t		 el;
	int		 rc, n = 0;

	while ((rc = json_array_next(&pos, p + len, &e, &el)) == 1)
		if (++n > 100000)
			fz_fail("json_array_next() does not end");
	if (rc == -1)
		fz_fail("json_array_next() fails on a valid array");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data, *v;
	struct json_rd	 r;
	size_t		 vl;
	bool		 valid, object;

	valid = fz_valid(p, size);
	json_rd_init(&r, p, size);
	object = valid && json_rd_peek(&r) == '{';
	if ((json_get(p, size, "workers", &v, &vl) != -1) != object)
		fz_fail("json_get() and the reader disagree on the object");
	if (object)
		fz_object(p, size);
	else if (valid && json_rd_peek(&r) == '[')
		fz_array(p, size);
	return (0);
}
