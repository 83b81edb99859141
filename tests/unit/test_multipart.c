/*
 * Unit tests for api/multipart.c, the streaming splitter of ATAK's data
 * package upload: the bodies ATAK, curl -F, Python and browsers send
 * (preamble or none, other fields before and after, quoted and bare
 * boundaries, transport padding), every way of cutting a body into pieces
 * (the delimiter split at each of its positions, one byte at a time, a
 * near-delimiter inside the file: "\r\n--boundar" and a boundary prefix
 * that repeats), and the refusals: no or a bad boundary, no assetfile,
 * two of them, a truncated body, headers too long or folded or with NUL,
 * too many parts, other parts too large, a base64 part, a bad delimiter
 * line, a filename over 255 bytes, and a receiver that stops.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/multipart.h"
#include "tests/unit/unit.h"

struct sink {
	unsigned char	*buf;
	size_t		 len;
	size_t		 cap;
	size_t		 calls;
	size_t		 stop_at;	/* refuse once this many bytes came */
};

static int
sink_cb(const unsigned char *p, size_t n, void *arg)
{
	struct sink	*s = arg;

	if (n == 0)
		fail_msg("an empty piece handed out");
	if (s->stop_at != 0 && s->len + n >= s->stop_at)
		return (-1);
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		if ((s->buf = realloc(s->buf, s->cap)) == NULL)
			fail_msg("out of memory");
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->calls++;
	return (0);
}

/* Feed body in pieces cut at cuts[] (increasing offsets); 0 or -1. */
static int
run_cuts(struct multipart *mp, const char *ctype, const unsigned char *body,
    size_t len, const size_t *cuts, size_t ncuts, struct sink *s)
{
	size_t	 from = 0, i, to;

	memset(s, 0, sizeof(*s));
	if (multipart_init(mp, ctype, sink_cb, s) == -1)
		return (-1);
	for (i = 0; i <= ncuts; i++) {
		to = i < ncuts ? cuts[i] : len;
		if (multipart_feed(mp, body + from, to - from) == -1)
			return (-1);
		from = to;
	}
	return (multipart_finish(mp));
}

static void
want_file(const char *ctype, const char *body, size_t len, const char *file,
    size_t flen)
{
	struct multipart	 mp;
	struct sink		 s;
	size_t			 cut[2], a, b;

	/* Whole, then cut in two at every position, then in three. */
	if (run_cuts(&mp, ctype, (const unsigned char *)body, len, NULL, 0,
	    &s) == -1)
		fail_msg("whole body refused: %s", mp.err);
	assert_int_equal(s.len, flen);
	if (flen > 0)
		assert_memory_equal(s.buf, file, flen);
	free(s.buf);
	for (a = 0; a <= len; a++) {
		cut[0] = a;
		if (run_cuts(&mp, ctype, (const unsigned char *)body, len, cut,
		    1, &s) == -1)
			fail_msg("cut at %zu refused: %s", a, mp.err);
		if (s.len != flen || (flen > 0 && memcmp(s.buf, file,
		    flen) != 0))
			fail_msg("cut at %zu: %zu bytes out, %zu expected", a,
			    s.len, flen);
		free(s.buf);
	}
	for (a = 0; a <= len; a += 3)
		for (b = a; b <= len; b += 5) {
			cut[0] = a;
			cut[1] = b;
			if (run_cuts(&mp, ctype, (const unsigned char *)body,
			    len, cut, 2, &s) == -1 || s.len != flen ||
			    (flen > 0 && memcmp(s.buf, file, flen) != 0))
				fail_msg("cuts at %zu, %zu: wrong", a, b);
			free(s.buf);
		}
}

static void
want_refused(const char *ctype, const char *body, const char *why)
{
	struct multipart	 mp;
	struct sink		 s;
	size_t			 cut, len = strlen(body);

	if (run_cuts(&mp, ctype, (const unsigned char *)body, len, NULL, 0,
	    &s) == 0)
		fail_msg("taken: %s", body);
	assert_contains(mp.err, why);
	free(s.buf);
	/* The same verdict whatever the pieces. */
	for (cut = 0; cut <= len; cut++) {
		if (run_cuts(&mp, ctype, (const unsigned char *)body, len, &cut,
		    1, &s) == 0)
			fail_msg("taken when cut at %zu", cut);
		free(s.buf);
	}
}

#define CT	"multipart/form-data; boundary=XyZ"
#define FILEPART \
	"Content-Disposition: form-data; name=\"assetfile\"; " \
	"filename=\"pkg.zip\"\r\nContent-Type: application/x-zip-compressed" \
	"\r\n\r\n"

static void
test_multipart_atak(void **state)
{
	static const char	 body[] = "--XyZ\r\n" FILEPART
	    "PK\3\4 data\r\n-- not it\r\n--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"other\"\r\n\r\nvalue"
	    "\r\n--XyZ--\r\n";
	struct multipart	 mp;
	struct sink		 s;

	static const char	 file[] = "PK\3\4 data\r\n-- not it";

	want_file(CT, body, sizeof(body) - 1, file, sizeof(file) - 1);
	assert_int_equal(run_cuts(&mp, CT, (const unsigned char *)body,
	    sizeof(body) - 1, NULL, 0, &s), 0);
	assert_string_equal(mp.filename, "pkg.zip");
	assert_string_equal(mp.ctype, "application/x-zip-compressed");
	free(s.buf);
}

static void
test_multipart_shapes(void **state)
{
	/* A preamble, a field first, a quoted boundary, padding. */
	static const char	 b1[] = "preamble\r\n--a'b c\r\n"
	    "Content-Disposition: form-data; name=\"hash\"\r\n\r\n00ff"
	    "\r\n--a'b c  \t\r\n" FILEPART "x\r\n--a'b c--";
	/* curl -F: no Content-Type in the part, bare name token. */
	static const char	 b2[] = "--b\r\nContent-Disposition: "
	    "form-data; name=assetfile; filename=f\r\n\r\n\r\n\r\n--b--"
	    "epilogue";
	/* An empty file, the headers' names in another case. */
	static const char	 b3[] = "--b\r\ncontent-disposition: "
	    "form-data; NAME=\"assetfile\"\r\n\r\n\r\n--b--\r\n";
	/* Near-delimiters inside the file, a self-overlapping boundary. */
	static const char	 b4[] = "--abab\r\n" FILEPART
	    "\r\n--aba\r\n--abaab\r\r\n--abacab\r\n--abab--";
	struct multipart	 mp;
	struct sink		 s;

	want_file("multipart/form-data; boundary=\"a'b c\"", b1,
	    sizeof(b1) - 1, "x", 1);
	want_file("Multipart/Form-Data;boundary=b", b2, sizeof(b2) - 1,
	    "\r\n", 2);
	assert_int_equal(run_cuts(&mp, "multipart/form-data; boundary=b", 
	    (const unsigned char *)b2, sizeof(b2) - 1, NULL, 0, &s), 0);
	assert_string_equal(mp.filename, "f");
	assert_string_equal(mp.ctype, "");
	free(s.buf);
	want_file("multipart/form-data; charset=x; boundary=b", b3,
	    sizeof(b3) - 1, "", 0);
	want_file("multipart/form-data; boundary=abab", b4, sizeof(b4) - 1,
	    "\r\n--aba\r\n--abaab\r\r\n--abacab", 27);
}

/* A large file in small pieces: what comes out is what went in. */
static void
test_multipart_large(void **state)
{
	struct multipart	 mp;
	struct sink		 s;
	unsigned char		*body, *file;
	size_t			 flen = 1 << 20, len, off, n, i;
	const char		*head = "--0123456789\r\n" FILEPART;
	const char		*tail = "\r\n--0123456789--\r\n";

	file = malloc(flen);
	body = malloc(flen + 512);
	assert_non_null(file);
	assert_non_null(body);
	/* Binary with CRs and dashes aplenty. */
	for (i = 0; i < flen; i++)
		file[i] = (unsigned char)(i * 7 % 251 == 0 ? '\r' : i % 13 ==
		    0 ? '-' : i % 17 == 0 ? '\n' : (i * 31) & 0xff);
	len = strlen(head);
	memcpy(body, head, len);
	memcpy(body + len, file, flen);
	len += flen;
	memcpy(body + len, tail, strlen(tail));
	len += strlen(tail);
	memset(&s, 0, sizeof(s));
	assert_int_equal(multipart_init(&mp, "multipart/form-data; "
	    "boundary=0123456789", sink_cb, &s), 0);
	for (off = 0; off < len; off += n) {
		n = 1 + (off * 2654435761u) % 9000;
		if (n > len - off)
			n = len - off;
		assert_int_equal(multipart_feed(&mp, body + off, n), 0);
	}
	assert_int_equal(multipart_finish(&mp), 0);
	assert_int_equal(s.len, flen);
	assert_memory_equal(s.buf, file, flen);
	assert_int_equal(mp.file_bytes, flen);
	free(s.buf);
	free(file);
	free(body);
}

static void
test_multipart_refused(void **state)
{
	struct multipart	 mp;
	struct sink		 s;
	char			 big[MP_HEAD_MAX + 200], *p;
	const char		*part;
	size_t			 i;

	/* The Content-Type. */
	assert_int_equal(multipart_init(&mp, NULL, sink_cb, &s), -1);
	assert_int_equal(multipart_init(&mp, "application/zip", sink_cb, &s),
	    -1);
	assert_contains(mp.err, "not multipart/form-data");
	assert_int_equal(multipart_init(&mp, "multipart/form-data", sink_cb,
	    &s), -1);
	assert_contains(mp.err, "no boundary");
	assert_int_equal(multipart_init(&mp, "multipart/form-data; "
	    "boundary=", sink_cb, &s), -1);
	assert_int_equal(multipart_init(&mp, "multipart/form-data; "
	    "boundary=\"a \"", sink_cb, &s), -1);
	assert_int_equal(multipart_init(&mp, "multipart/form-data; "
	    "boundary=a; boundary=b", sink_cb, &s), -1);
	assert_int_equal(multipart_init(&mp, "multipart/form-data; "
	    "boundary=\"a\x01\"", sink_cb, &s), -1);
	assert_int_equal(multipart_init(&mp, "multipart/form-data; boundary="
	    "12345678901234567890123456789012345678901234567890123456789012345"
	    "678901", sink_cb, &s), -1);
	assert_int_equal(multipart_init(&mp, "multipart/form-data; boundary="
	    "1234567890123456789012345678901234567890123456789012345678901234"
	    "567890", sink_cb, &s), 0);

	want_refused(CT, "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"x\"\r\n\r\nv\r\n--XyZ--", "no part named assetfile");
	want_refused(CT, "--XyZ\r\n" FILEPART "abc", "before its closing");
	want_refused(CT, "--XyZ\r\n" FILEPART "abc\r\n--XyZ\r\n" FILEPART
	    "d\r\n--XyZ--", "two parts named");
	want_refused(CT, "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"assetfile\"\r\n folded\r\n\r\nx\r\n--XyZ--", "folded");
	want_refused(CT, "--XyZ\r\nContent-Disposition: attachment; "
	    "name=\"assetfile\"\r\n\r\nx\r\n--XyZ--", "not form-data");
	want_refused(CT, "--XyZ\r\nContent-Type: a/b\r\n\r\nx\r\n--XyZ--",
	    "without Content-Disposition");
	want_refused(CT, "--XyZ\r\n\r\nx\r\n--XyZ--",
	    "without Content-Disposition");
	want_refused(CT, "--XyZ\r\nContent-Disposition: form-data; "
	    "filename=\"a\"\r\n\r\nx\r\n--XyZ--", "without a name");
	want_refused(CT, "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"assetfile\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	    "eA==\r\n--XyZ--", "Content-Transfer-Encoding");
	want_refused(CT, "--XyZ\r\n" FILEPART "x\r\n--XyZjunk\r\n--XyZ--",
	    "followed by something else");
	want_refused(CT, "--XyZ\r\nContent-Disposition form-data\r\n\r\n"
	    "x\r\n--XyZ--", "malformed part header");
	want_refused(CT, "--XyZ\nContent-Disposition: form-data; "
	    "name=assetfile\n\nx\n--XyZ--", "followed by something else");
	want_refused(CT, "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"assetfile\"; filename=\"a\r\n\r\nx\r\n--XyZ--",
	    "malformed Content-Disposition");

	/* A NUL in the headers. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(multipart_init(&mp, CT, sink_cb, &s), 0);
	assert_int_equal(multipart_feed(&mp, (const unsigned char *)
	    "--XyZ\r\nContent-Disposition: form-data; name=\"a\0\"\r\n\r\n",
	    50), -1);
	assert_contains(mp.err, "NUL");

	/* Headers over MP_HEAD_MAX. */
	p = big + snprintf(big, sizeof(big), "--XyZ\r\nX-Pad: ");
	for (i = 0; i < MP_HEAD_MAX; i++)
		*p++ = 'a';
	strcpy(p, "\r\n\r\n");
	want_refused(CT, big, "headers over");

	/* A filename of 255 bytes is taken, 256 refused. */
	p = big + snprintf(big, sizeof(big), "--XyZ\r\nContent-Disposition: "
	    "form-data; name=assetfile; filename=\"");
	for (i = 0; i < MP_NAME_MAX; i++)
		*p++ = 'n';
	snprintf(p, sizeof(big) - (size_t)(p - big), "\"\r\n\r\nx\r\n--XyZ--");
	want_file(CT, big, strlen(big), "x", 1);
	p = big + snprintf(big, sizeof(big), "--XyZ\r\nContent-Disposition: "
	    "form-data; name=assetfile; filename=\"");
	for (i = 0; i <= MP_NAME_MAX; i++)
		*p++ = 'n';
	snprintf(p, sizeof(big) - (size_t)(p - big), "\"\r\n\r\nx\r\n--XyZ--");
	want_refused(CT, big, "over 255 bytes");

	/* Too many parts; other parts too large; a long preamble. */
	p = big;
	for (i = 0; i <= MP_PARTS_MAX; i++)
		p += sprintf(p, "--XyZ\r\nContent-Disposition: form-data; "
		    "name=f\r\n\r\nv\r\n");
	sprintf(p, "--XyZ--");
	want_refused(CT, big, "more than 16 parts");
	memset(&s, 0, sizeof(s));
	assert_int_equal(multipart_init(&mp, CT, sink_cb, &s), 0);
	part = "--XyZ\r\nContent-Disposition: form-data; name=f\r\n\r\n";
	assert_int_equal(multipart_feed(&mp, (const unsigned char *)part,
	    strlen(part)), 0);
	memset(big, 'v', sizeof(big));
	for (i = 0; i < MP_OTHER_MAX / sizeof(big); i++)
		assert_int_equal(multipart_feed(&mp, (unsigned char *)big,
		    sizeof(big)), 0);
	assert_int_equal(multipart_feed(&mp, (unsigned char *)big,
	    sizeof(big)), -1);
	assert_contains(mp.err, "over 64 KiB");
	assert_int_equal(multipart_init(&mp, CT, sink_cb, &s), 0);
	assert_int_equal(multipart_feed(&mp, (unsigned char *)big,
	    MP_PREAMBLE_MAX + 1), -1);
	assert_contains(mp.err, "preamble");

	/* The receiver stops: the splitter stays stopped. */
	memset(&s, 0, sizeof(s));
	s.stop_at = 3;
	assert_int_equal(multipart_init(&mp, CT, sink_cb, &s), 0);
	assert_int_equal(multipart_feed(&mp, (const unsigned char *)
	    "--XyZ\r\n" FILEPART "abcdef", strlen("--XyZ\r\n" FILEPART) + 6),
	    -1);
	assert_contains(mp.err, "stopped");
	assert_int_equal(multipart_feed(&mp, (const unsigned char *)"x", 1),
	    -1);
	assert_int_equal(multipart_finish(&mp), -1);
	free(s.buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_multipart_atak),
		cmocka_unit_test(test_multipart_shapes),
		cmocka_unit_test(test_multipart_large),
		cmocka_unit_test(test_multipart_refused),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
