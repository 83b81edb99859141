/*
 * Unit tests for cot/cot_frame.c: every sample stream split at every
 * byte offset and fed a byte at a time yields the same events with the same
 * bytes and the same error at the same offset; prefixes (declarations,
 * comments, <auth>), the check of XML declarations (each accepted form
 * dropped, each refused one an error at its byte, an event smuggled inside
 * one), size caps, garbage, NUL, TAK v1 frames, partial events and the cost
 * of slow feeds.
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

#include "cot/cot_frame.h"

#define MAX_EVENTS	4096
#define DEF_MAX		(64 * 1024)

/* What a run of the framer produced. */
struct result {
	size_t		 n;
	struct blob	 ev[MAX_EVENTS];
	const char	*err;		/* NULL: no error */
	uint64_t	 err_at;	/* its stream offset */
	size_t		 held;
};

static const char *single_samples[] = {
	"chat-all.xml", "chat-direct.xml", "disconnect.xml", "emergency.xml",
	"marker-directed-uid.xml", "ping.xml", "pong.xml", "sa-atak.xml",
	"sa-wintak.xml", "takp-offer.xml",
};
#define N_SINGLE	(sizeof(single_samples) / sizeof(single_samples[0]))

static struct blob
blob_str(const char *s)
{
	struct blob	 b;

	b.len = strlen(s);
	b.data = malloc(b.len + 1);
	assert_non_null(b.data);
	memcpy(b.data, s, b.len + 1);
	return (b);
}

static void
blob_cat(struct blob *b, const void *p, size_t n)
{
	b->data = realloc(b->data, b->len + n + 1);
	assert_non_null(b->data);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
blob_cats(struct blob *b, const char *s)
{
	blob_cat(b, s, strlen(s));
}

/* A sample without trailing whitespace (its declaration kept). */
static struct blob
sample_raw(const char *name)
{
	struct blob	 b = unit_sample(name);

	while (b.len > 0 && (b.data[b.len - 1] == '\n' ||
	    b.data[b.len - 1] == '\r' || b.data[b.len - 1] == ' '))
		b.len--;
	b.data[b.len] = '\0';
	return (b);
}

/*
 * A sample as the framer should hand it out: from "<event" (a declaration
 * before it is dropped), without trailing whitespace.
 */
static struct blob
sample_event(const char *name)
{
	struct blob	 b = sample_raw(name);
	const char	*ev = strstr((const char *)b.data, "<event");

	assert_non_null(ev);
	b.len -= (size_t)(ev - (const char *)b.data);
	memmove(b.data, ev, b.len + 1);
	return (b);
}

static void
result_free(struct result *r)
{
	size_t	 i;

	for (i = 0; i < r->n; i++)
		free(r->ev[i].data);
	memset(r, 0, sizeof(*r));
}

static void
drain(struct cot_framer *f, struct result *r)
{
	const uint8_t	*ev;
	const char	*why = NULL;
	size_t		 len;
	int		 rc;

	while ((rc = cot_framer_next(f, &ev, &len, &why)) == 1) {
		assert_true(r->n < MAX_EVENTS);
		r->ev[r->n].data = malloc(len + 1);
		assert_non_null(r->ev[r->n].data);
		memcpy(r->ev[r->n].data, ev, len);
		r->ev[r->n].len = len;
		r->n++;
	}
	if (rc == -1) {
		assert_non_null(why);
		r->err = why;
		r->err_at = cot_framer_error_offset(f);
	}
}

/*
 * Feed data in pieces: cut[] lists the offsets where a new feed starts
 * (ascending); with step > 0, every step bytes instead.
 */
static void
run(const void *bytes, size_t len, size_t max_event, const size_t *cuts,
    size_t ncuts, size_t step, struct result *r)
{
	const uint8_t		*data = bytes;
	struct cot_framer	 f;
	const char		*why = NULL;
	size_t			 at = 0, next, k = 0;

	memset(r, 0, sizeof(*r));
	assert_int_equal(cot_framer_init(&f, max_event), 0);
	while (at < len && r->err == NULL) {
		if (step > 0)
			next = at + step < len ? at + step : len;
		else
			next = k < ncuts ? cuts[k++] : len;
		if (next <= at)
			continue;
		if (cot_framer_feed(&f, data + at, next - at, (int64_t)at,
		    &why) == -1) {
			r->err = why;
			r->err_at = cot_framer_error_offset(&f);
			break;
		}
		drain(&f, r);
		at = next;
	}
	r->held = cot_framer_held(&f, NULL);
	cot_framer_free(&f);
}

static void
result_expect(const struct result *r, const struct blob *exp, size_t nexp,
    const char *err, const char *what)
{
	size_t	 i;

	if (r->n != nexp)
		fail_msg("%s: %zu events, expected %zu (error %s)", what, r->n,
		    nexp, r->err ? r->err : "none");
	for (i = 0; i < nexp; i++) {
		if (r->ev[i].len != exp[i].len ||
		    memcmp(r->ev[i].data, exp[i].data, exp[i].len) != 0)
			fail_msg("%s: event %zu differs:\n got %.*s\nwant %.*s",
			    what, i, (int)r->ev[i].len,
			    (const char *)r->ev[i].data, (int)exp[i].len,
			    (const char *)exp[i].data);
	}
	if (err == NULL && r->err != NULL)
		fail_msg("%s: unexpected error: %s", what, r->err);
	if (err != NULL && (r->err == NULL || strstr(r->err, err) == NULL))
		fail_msg("%s: error \"%s\", expected one with \"%s\"", what,
		    r->err ? r->err : "none", err);
}

/*
 * The whole contract: the same events and the same error at the same
 * offset whether the stream comes in one feed, in two feeds cut at any
 * offset, or a byte at a time.  Returns what stayed held after the single
 * feed, or with an error its stream offset.
 */
static size_t
check_all_splits(const struct blob *in, size_t max_event,
    const struct blob *exp, size_t nexp, const char *err)
{
	struct result	 r;
	char		 what[64];
	size_t		 cut, held;
	uint64_t	 err_at;

	run(in->data, in->len, max_event, NULL, 0, 0, &r);
	result_expect(&r, exp, nexp, err, "one feed");
	held = r.held;
	err_at = r.err_at;
	result_free(&r);
	for (cut = 1; cut < in->len; cut++) {
		run(in->data, in->len, max_event, &cut, 1, 0, &r);
		snprintf(what, sizeof(what), "cut at %zu", cut);
		result_expect(&r, exp, nexp, err, what);
		if (err == NULL)
			assert_int_equal(r.held, held);
		else if (r.err_at != err_at)
			fail_msg("%s: error at %llu, at %llu in one feed",
			    what, (unsigned long long)r.err_at,
			    (unsigned long long)err_at);
		result_free(&r);
	}
	run(in->data, in->len, max_event, NULL, 0, 1, &r);
	result_expect(&r, exp, nexp, err, "byte at a time");
	if (err == NULL)
		assert_int_equal(r.held, held);
	else
		assert_int_equal(r.err_at, err_at);
	result_free(&r);
	return (err == NULL ? held : (size_t)err_at);
}

static void
blobs_free(struct blob *b, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(b[i].data);
}

static void
test_single_samples(void **state)
{
	struct blob	 in, exp;
	size_t		 i;

	for (i = 0; i < N_SINGLE; i++) {
		in = unit_sample(single_samples[i]);
		exp = sample_event(single_samples[i]);
		assert_int_equal(check_all_splits(&in, DEF_MAX, &exp, 1, NULL),
		    0);
		free(in.data);
		free(exp.data);
	}
}

/* stream-mixed.txt is these five events with whitespace and CRLF between. */
static void
test_stream_mixed(void **state)
{
	struct blob	 in, exp[5];

	in = unit_sample("stream-mixed.txt");
	exp[0] = sample_event("sa-atak.xml");
	exp[1] = sample_event("ping.xml");
	exp[2] = sample_event("chat-all.xml");
	/* WinTAK's event after another declaration, no newline between */
	exp[3] = sample_event("sa-wintak.xml");
	exp[4] = sample_event("emergency.xml");
	assert_int_equal(check_all_splits(&in, DEF_MAX, exp, 5, NULL), 0);
	free(in.data);
	blobs_free(exp, 5);
}

/*
 * Every sample back to back, declarations included, with the separators
 * clients use: the events come out alone.
 */
static void
test_concatenations(void **state)
{
	static const char *seps[] = { "", "\n", "\r\n", " \t\r\n\n  " };
	struct blob	 in, exp[N_SINGLE], ev;
	size_t		 i, s;

	for (i = 0; i < N_SINGLE; i++)
		exp[i] = sample_event(single_samples[i]);
	for (s = 0; s < sizeof(seps) / sizeof(seps[0]); s++) {
		in = blob_str("");
		for (i = 0; i < N_SINGLE; i++) {
			ev = sample_raw(single_samples[i]);
			blob_cat(&in, ev.data, ev.len);
			blob_cats(&in, seps[s]);
			free(ev.data);
		}
		check_all_splits(&in, DEF_MAX, exp, N_SINGLE, NULL);
		free(in.data);
	}
	blobs_free(exp, N_SINGLE);
}

static void
test_many_in_one_feed(void **state)
{
	struct blob	 ping = unit_sample("ping.xml");
	struct blob	 ev = sample_event("ping.xml");
	struct blob	 in = blob_str(""), exp[MAX_EVENTS];
	struct result	 r;
	size_t		 i, n = 0;

	/* As many as fit the 16 KiB a TLS record carries. */
	while (in.len + ping.len <= COT_FRAME_FEED_MAX) {
		blob_cat(&in, ping.data, ping.len);
		exp[n++] = ev;
	}
	assert_true(n > 40);
	run(in.data, in.len, DEF_MAX, NULL, 0, 0, &r);
	result_expect(&r, exp, n, NULL, "pings in one feed");
	assert_int_equal(r.held, 0);
	result_free(&r);
	/* and in feeds of the maximum size, with a partial event held */
	for (i = 0; i < 3; i++) {
		struct blob	 copy = blob_str((const char *)in.data);

		blob_cat(&in, copy.data, copy.len);
		free(copy.data);
	}
	run(in.data, in.len, DEF_MAX, NULL, 0, COT_FRAME_FEED_MAX, &r);
	assert_null(r.err);
	assert_int_equal(r.n, n * 8);
	result_free(&r);
	free(in.data);
	free(ping.data);
	free(ev.data);
}

/*
 * An event of exactly len bytes, padded in an attribute value when
 * self-closing, else in the body.
 */
static struct blob
event_of(size_t len, int self_closing)
{
	const char	*head = self_closing ?
	    "<event uid=\"x\" type=\"a-f-G\" r=\"" :
	    "<event uid=\"x\" type=\"a-f-G\"><detail><remarks>";
	const char	*tail = self_closing ? "\"/>" :
	    "</remarks></detail></event>";
	struct blob	 b;
	size_t		 hl = strlen(head), tl = strlen(tail);

	assert_true(len > hl + tl);
	b.len = len;
	b.data = malloc(len + 1);
	assert_non_null(b.data);
	memcpy(b.data, head, hl);
	memset(b.data + hl, 'p', len - hl - tl);
	memcpy(b.data + len - tl, tail, tl);
	b.data[len] = '\0';
	return (b);
}

static void
test_max_event(void **state)
{
	const char	*decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
	struct blob	 ev, in;
	struct result	 r;
	size_t		 max = 1024, cut;
	int		 sc;

	for (sc = 0; sc <= 1; sc++) {
		/* exactly max: fine, and the declaration does not count */
		ev = event_of(max, sc);
		check_all_splits(&ev, max, &ev, 1, NULL);
		in = blob_str(decl);
		blob_cat(&in, ev.data, ev.len);
		check_all_splits(&in, max, &ev, 1, NULL);
		free(in.data);
		free(ev.data);
		/* max + 1: refused */
		ev = event_of(max + 1, sc);
		check_all_splits(&ev, max, NULL, 0, "larger than max_event");
		free(ev.data);
	}
	/* The error comes as soon as the held bytes prove it. */
	ev = event_of(10 * max, 0);
	cut = max;
	run(ev.data, max, max, &cut, 1, 0, &r);
	assert_null(r.err);
	assert_int_equal(r.held, max);
	result_free(&r);
	run(ev.data, max + 1, max, NULL, 0, 0, &r);
	assert_non_null(r.err);
	assert_non_null(strstr(r.err, "larger than max_event_bytes"));
	result_free(&r);
	free(ev.data);
}

static void
test_garbage(void **state)
{
	static const struct {
		const char	*in;
		const char	*err;
	} cases[] = {
		{ "hello <event uid=\"x\"/>", "unexpected bytes before" },
		{ "GET / HTTP/1.1\r\n\r\n", "unexpected bytes before <event>" },
		{ "<events uid=\"x\"></events>", "unexpected bytes" },
		{ "<?xml-stylesheet href=\"a\"?><event/>", "unexpected bytes" },
		{ "<?XML version=\"1.0\"?><event/>", "unexpected bytes" },
		{ "<?foo version=\"1.0\"?><event/>", "unexpected bytes" },
		{ "  \n<foo/>", "unexpected bytes" },
		{ "</event>", "unexpected bytes" },
		{ "<!DOCTYPE event><event/>", "DOCTYPE" },
		{ "\x16\x03\x01\x02\x00\x01", "TLS handshake" },
		{ "<event uid=\"a<b\"></event>", "'<' inside the start tag" },
	};
	struct blob	 in, bin;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		in = blob_str(cases[i].in);
		check_all_splits(&in, DEF_MAX, NULL, 0, cases[i].err);
		free(in.data);
	}
	bin = unit_sample("hostile/tls-garbage.bin");
	check_all_splits(&bin, DEF_MAX, NULL, 0, "not a CoT stream");
	free(bin.data);
}

/* Garbage after good events: the events come out, then the error. */
static void
test_garbage_after_events(void **state)
{
	struct blob	 in = unit_sample("sa-atak.xml");
	struct blob	 exp = sample_event("sa-atak.xml");
	struct cot_framer f;
	const uint8_t	*ev;
	const char	*why;
	size_t		 len;

	blob_cats(&in, "junk");
	check_all_splits(&in, DEF_MAX, &exp, 1, "unexpected bytes");
	assert_int_equal(cot_framer_init(&f, DEF_MAX), 0);
	assert_int_equal(cot_framer_feed(&f, in.data, in.len, 0, &why), 0);
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), 1);
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), -1);
	assert_int_equal(cot_framer_error_offset(&f), in.len - 4);
	/* sticky */
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), -1);
	assert_int_equal(cot_framer_feed(&f, "\n", 1, 0, &why), -1);
	assert_non_null(strstr(why, "unexpected bytes"));
	cot_framer_free(&f);
	free(in.data);
	free(exp.data);
}

/* The hostile files that must never get past the framer. */
static void
test_hostile_streams(void **state)
{
	static const struct {
		const char	*name;
		const char	*err;
	} cases[] = {
		{ "hostile/entity-bomb.xml", "DOCTYPE" },
		{ "hostile/external-entity.xml", "DOCTYPE" },
		{ "hostile/nul-byte.xml", "NUL byte" },
		{ "hostile/tls-garbage.bin", "not a CoT stream" },
	};
	struct blob	 in;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		in = unit_sample(cases[i].name);
		check_all_splits(&in, DEF_MAX, NULL, 0, cases[i].err);
		free(in.data);
	}
}

/* The XML-level ones pass the framer whole (the parser refuses them). */
static void
test_hostile_whole(void **state)
{
	static const char *names[] = {
		"hostile/deep-nesting.xml", "hostile/invalid-utf8.xml",
		"hostile/malformed-attr.xml",
	};
	struct blob	 in, exp;
	size_t		 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		in = unit_sample(names[i]);
		exp = sample_event(names[i]);
		check_all_splits(&in, DEF_MAX, &exp, 1, NULL);
		free(in.data);
		free(exp.data);
	}
}

static void
test_auth_and_comments(void **state)
{
	struct blob	 sa = sample_event("sa-atak.xml"), ping, in, exp[3];
	const char	*decl = "<?xml version=\"1.0\"?>";

	/* <auth> first, as some clients send it; then two events */
	in = blob_str("<auth><cot username=\"u\" password=\"p&gt;\" "
	    "uid=\"x\"/></auth>\n");
	blob_cat(&in, sa.data, sa.len);
	blob_cats(&in, "<auth/><!-- a comment with <event> inside -->\r\n");
	ping = sample_event("ping.xml");
	blob_cat(&in, ping.data, ping.len);
	exp[0] = sa;
	exp[1] = ping;
	check_all_splits(&in, DEF_MAX, exp, 2, NULL);
	free(in.data);

	/* Declarations are dropped wherever they are between events. */
	in = blob_str(decl);
	blob_cats(&in, "\n<auth user='a>b'></auth>");
	blob_cats(&in, decl);
	blob_cats(&in, "\n\n<event uid=\"a\"/>");
	blob_cats(&in, decl);
	blob_cats(&in, "<!-- c --><event uid=\"b\"/>");
	blob_cats(&in, decl);
	blob_cats(&in, decl);
	blob_cats(&in, "<event uid=\"c\"></event>");
	blob_cats(&in, decl);
	exp[0] = blob_str("<event uid=\"a\"/>");
	exp[1] = blob_str("<event uid=\"b\"/>");
	exp[2] = blob_str("<event uid=\"c\"></event>");
	check_all_splits(&in, DEF_MAX, exp, 3, NULL);
	blobs_free(exp, 3);
	free(in.data);

	/* an unfinished <auth> or comment is held, not an error */
	in = blob_str("<auth><cot username=\"u\"");
	assert_int_equal(check_all_splits(&in, DEF_MAX, NULL, 0, NULL),
	    in.len);
	free(in.data);
	in = blob_str("<!-- <event>");
	assert_int_equal(check_all_splits(&in, DEF_MAX, NULL, 0, NULL),
	    in.len);
	free(in.data);
	free(sa.data);
	free(ping.data);
}

static void
test_prefix_limit(void **state)
{
	struct blob	 in, ev = sample_event("ping.xml");
	struct result	 r;
	char		*pad;
	size_t		 n = COT_FRAME_PREFIX_MAX + 10;

	pad = malloc(n + 1);
	assert_non_null(pad);
	memset(pad, ' ', n);
	pad[n] = '\0';

	/* whitespace alone is dropped as it comes: no limit */
	in = blob_str(pad);
	blob_cat(&in, ev.data, ev.len);
	check_all_splits(&in, DEF_MAX, &ev, 1, NULL);
	free(in.data);

	/* after a declaration too: the declaration is not held either */
	in = blob_str("<?xml version=\"1.0\"?>");
	blob_cats(&in, pad);
	blob_cat(&in, ev.data, ev.len);
	check_all_splits(&in, DEF_MAX, &ev, 1, NULL);
	free(in.data);

	memset(pad, 'c', n);
	in = blob_str("<!--");
	blob_cats(&in, pad);
	blob_cats(&in, "-->");
	run(in.data, in.len, DEF_MAX, NULL, 0, 0, &r);
	assert_non_null(r.err);
	assert_non_null(strstr(r.err, "more than 4096 bytes"));
	result_free(&r);
	free(in.data);

	in = blob_str("<auth>");
	blob_cats(&in, pad);
	run(in.data, in.len, DEF_MAX, NULL, 0, 0, &r);
	assert_non_null(r.err);
	assert_non_null(strstr(r.err, "more than 4096 bytes"));
	result_free(&r);
	free(in.data);
	free(pad);
	free(ev.data);
}

/*
 * Every form of declaration takd accepts is dropped, before an event or on
 * its own, and the event comes out alone, however the stream is cut.
 */
static void
test_decl_valid(void **state)
{
	static const char *decls[] = {
		"<?xml version=\"1.0\"?>",
		"<?xml version='1.0'?>",
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
		"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>",
		"<?xml version=\"1.0\" encoding=\"utf-8\" standalone='no'?>",
		/* Python's ElementTree */
		"<?xml version='1.0' encoding='us-ascii'?>",
		"<?xml version=\"1.0\" encoding=\"ASCII\"?>",
		/* WinTAK: declares UTF-16, sends UTF-8 */
		"<?xml version=\"1.0\" encoding=\"utf-16\"?>",
		"<?xml version=\"1.0\" standalone=\"yes\"?>",
		"<?xml version=\"1.0\" ?>",
		/* odd whitespace everywhere it may be */
		("<?xml\tversion = \"1.0\"\r\n encoding\t=\t'Utf-8'  "
		    "standalone =\"no\"\n?>"),
	};
	const char	*ev = "<event uid=\"d\" how='?>'></event>";
	struct blob	 in, all, exp[2 * sizeof(decls) / sizeof(decls[0])];
	char		 pad[COT_DECL_MAX + 1];
	size_t		 i, n = sizeof(decls) / sizeof(decls[0]);

	all = blob_str("");
	for (i = 0; i < n; i++) {
		assert_true(strlen(decls[i]) <= COT_DECL_MAX);
		exp[i] = blob_str(ev);
		exp[n + i] = blob_str(ev);
		in = blob_str(decls[i]);
		blob_cats(&in, ev);
		check_all_splits(&in, DEF_MAX, exp, 1, NULL);
		blob_cat(&all, in.data, in.len);
		free(in.data);
		in = blob_str(decls[i]);
		blob_cats(&in, "\r\n");
		blob_cats(&in, ev);
		blob_cats(&in, "\n");
		blob_cats(&in, decls[i]);
		check_all_splits(&in, DEF_MAX, exp, 1, NULL);
		blob_cat(&all, in.data, in.len);
		free(in.data);
	}
	check_all_splits(&all, DEF_MAX, exp, 2 * n, NULL);
	free(all.data);

	/* exactly COT_DECL_MAX bytes is fine */
	snprintf(pad, sizeof(pad), "<?xml version=\"1.0\"%*s?>",
	    COT_DECL_MAX - 21, "");
	assert_int_equal(strlen(pad), COT_DECL_MAX);
	in = blob_str(pad);
	blob_cats(&in, ev);
	check_all_splits(&in, DEF_MAX, exp, 1, NULL);
	free(in.data);
	blobs_free(exp, 2 * n);
}

/*
 * Every declaration takd refuses: an error with its reason at the stream
 * offset of the byte that decided (where "at" first occurs in the input,
 * plus skip), whatever the cuts.
 */
static void
test_decl_invalid(void **state)
{
	static const struct {
		const char	*in;
		const char	*err;
		const char	*at;
		size_t		 skip;
	} cases[] = {
		/* an element inside */
		{ "<?xml version=\"1.0\" <event uid=\"s\"/>?>",
		    "'<' inside an XML declaration", "<event", 0 },
		{ "<?xml <a/>?>", "'<' inside", "<a", 0 },
		/* bytes that have no place in it */
		{ "<?xml version=\"1.0\"\x01?>", "control character", "\x01",
		    0 },
		{ "<?xml version=\"1.0\"\x7f?>", "control character", "\x7f",
		    0 },
		{ "<?xml version=\"1.0\" encoding=\"UTF-8\xc3\xa9\"?>",
		    "non-ASCII byte", "\xc3", 0 },
		{ "<?xml version=\"1.0\"\xef\xbb\xbf?>", "non-ASCII byte",
		    "\xef", 0 },
		/* values */
		{ "<?xml version=\"1.1\"?>", "version other than 1.0", "1.1",
		    0 },
		{ "<?xml version=\"\"?>", "version other than 1.0", "\"?>", 0 },
		{ "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>",
		    "encoding other than", "ISO", 0 },
		{ "<?xml version=\"1.0\" encoding=\"UTF-32\"?>",
		    "encoding other than", "UTF-32", 0 },
		{ "<?xml version=\"1.0\" encoding=\"UTF-8x\"?>",
		    "encoding other than", "UTF-8x", 0 },
		{ "<?xml version=\"1.0\" standalone=\"maybe\"?>",
		    "standalone other than yes or no", "maybe", 0 },
		{ "<?xml version=\"1.0\" standalone=\"YES\"?>",
		    "standalone other than", "YES", 0 },
		/* syntax: names, order, quoting, whitespace, the end */
		{ "<?xml?>", "malformed XML declaration", "?>", 0 },
		{ "<?xml ?>", "malformed XML declaration", "?>", 0 },
		{ "<?xml encoding=\"UTF-8\"?>", "malformed", "encoding", 0 },
		{ "<?xml Version=\"1.0\"?>", "malformed", "Version", 0 },
		{ "<?xml versions=\"1.0\"?>", "malformed", "s=", 0 },
		{ "<?xml vers=\"1.0\"?>", "malformed", "=", 0 },
		{ "<?xml version=\"1.0\" foo=\"bar\"?>", "malformed", "foo",
		    0 },
		{ "<?xml version=\"1.0\" standalone=\"yes\" "
		    "encoding=\"UTF-8\"?>", "malformed", "encoding", 0 },
		{ "<?xml version=\"1.0\" version=\"1.0\"?>", "malformed",
		    "\" version", 2 },
		{ "<?xml version=\"1.0\" encoding=\"UTF-8\" "
		    "encoding=\"UTF-8\"?>", "malformed", "8\" encoding", 3 },
		{ "<?xml version=\"1.0\"encoding=\"UTF-8\"?>", "malformed",
		    "encoding", 0 },
		{ "<?xml version=1.0?>", "malformed", "1.0", 0 },
		{ "<?xml version=\"1.0'?>", "malformed", "'", 0 },
		{ "<?xml version=\"1.0\" encoding=\"UTF 8\"?>", "malformed",
		    " 8", 0 },
		{ "<?xml version==\"1.0\"?>", "malformed", "==", 1 },
		{ "<?xml version=\"1.0\" >", "malformed", ">", 0 },
		{ "<?xml version=\"1.0\"? >", "malformed", " >", 0 },
		{ "<?xml version=\"1.0\"?<event/>", "'<' inside", "<event",
		    0 },
		{ "<?xml version=\"1.0\" ?? >", "malformed", "? >", 0 },
	};
	struct blob	 in, sa, exp;
	const char	*at;
	size_t		 i, off, got;

	sa = sample_raw("sa-atak.xml");
	exp = sample_event("sa-atak.xml");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		at = strstr(cases[i].in, cases[i].at);
		assert_non_null(at);
		off = (size_t)(at - cases[i].in) + cases[i].skip;
		/* and an event after it, which never comes out */
		in = blob_str(cases[i].in);
		blob_cats(&in, "\n<event uid=\"after\"/>");
		got = check_all_splits(&in, DEF_MAX, NULL, 0, cases[i].err);
		if (got != off)
			fail_msg("case %zu (%s): error at %zu, expected %zu",
			    i, cases[i].err, got, off);
		free(in.data);
		/* the event before it comes out, then the error */
		in = blob_str("");
		blob_cat(&in, sa.data, sa.len);
		blob_cats(&in, "\r\n");
		blob_cats(&in, cases[i].in);
		got = check_all_splits(&in, DEF_MAX, &exp, 1, cases[i].err);
		if (got != sa.len + 2 + off)
			fail_msg("case %zu after an event: error at %zu, "
			    "expected %zu", i, got, sa.len + 2 + off);
		free(in.data);
	}

	/*
	 * Longer than COT_DECL_MAX: refused at byte 101, whether it would
	 * end there or never.
	 */
	in = blob_str("<?xml version=\"1.0\"");
	while (in.len < COT_DECL_MAX - 1)
		blob_cats(&in, " ");
	blob_cats(&in, "?>");
	assert_int_equal(in.len, COT_DECL_MAX + 1);
	assert_int_equal(check_all_splits(&in, DEF_MAX, NULL, 0,
	    "XML declaration longer than 100 bytes"), COT_DECL_MAX);
	free(in.data);
	in = blob_str("<?xml version=\"1.0\" encoding=\"UTF-8\"");
	while (in.len < 4 * COT_DECL_MAX)
		blob_cats(&in, "\t");
	assert_int_equal(check_all_splits(&in, DEF_MAX, NULL, 0,
	    "XML declaration longer than 100 bytes"), COT_DECL_MAX);
	free(in.data);
	free(sa.data);
	free(exp.data);
}

/*
 * The attack of issue 12: a whole event, with control characters, invalid
 * UTF-8 and deep nesting, inside a declaration before a valid SA.  A
 * receiver that cuts at "</event>" would take it for an event of its own:
 * nothing comes out, the stream ends at the smuggled '<'.
 */
static void
test_decl_smuggled(void **state)
{
	struct blob	 in, sa = sample_event("sa-atak.xml"), exp;
	size_t		 i, at;

	in = blob_str("<?xml version=\"1.0\" encoding=\"UTF-8\" ");
	at = in.len;
	blob_cats(&in, "<event version=\"2.0\" uid=\"smuggled\" type=\"a-f-G\" "
	    "stale=\"2099-01-01T00:00:00Z\"><detail><remarks>\x01\x1b[2J"
	    "\xff\xfe</remarks>");
	for (i = 0; i < 200; i++)
		blob_cats(&in, "<a>");
	for (i = 0; i < 200; i++)
		blob_cats(&in, "</a>");
	blob_cats(&in, "</detail></event>?>\n");
	blob_cat(&in, sa.data, sa.len);
	assert_int_equal(check_all_splits(&in, DEF_MAX, NULL, 0,
	    "'<' inside an XML declaration"), at);
	free(in.data);

	/* the same after a good event: that one alone comes out */
	exp = sample_event("ping.xml");
	in = sample_raw("ping.xml");
	at = in.len + 1 + strlen("<?xml version=\"1.0\"");
	blob_cats(&in, "\n<?xml version=\"1.0\"<event uid=\"smuggled\"/>?>");
	blob_cat(&in, sa.data, sa.len);
	assert_int_equal(check_all_splits(&in, DEF_MAX, &exp, 1,
	    "'<' inside an XML declaration"), at);
	free(in.data);
	free(exp.data);
	free(sa.data);
}

static void
test_v1_and_nul(void **state)
{
	static const uint8_t v1[] = { 0xbf, 0x05, 0x12, 0x03, 0x0a, 0x01 };
	struct blob	 sa = unit_sample("sa-atak.xml");
	struct blob	 exp = sample_event("sa-atak.xml"), in;

	in = blob_str("");
	blob_cat(&in, v1, sizeof(v1));
	check_all_splits(&in, DEF_MAX, NULL, 0, "TAK protocol v1");
	free(in.data);

	in = blob_str("");
	blob_cat(&in, sa.data, sa.len);
	blob_cat(&in, v1, sizeof(v1));
	check_all_splits(&in, DEF_MAX, &exp, 1, "TAK protocol v1");
	free(in.data);

	/* NUL between events, in a declaration, in a start tag, in a body */
	in = blob_str("");
	blob_cat(&in, sa.data, sa.len);
	blob_cat(&in, "\0", 1);
	check_all_splits(&in, DEF_MAX, &exp, 1, "NUL byte");
	free(in.data);
	in = blob_str("<?xml version=\"1.0\"");
	blob_cat(&in, "\0?>", 3);
	check_all_splits(&in, DEF_MAX, NULL, 0, "NUL byte");
	free(in.data);
	in = blob_str("<event uid=\"");
	blob_cat(&in, "\0\"/>", 4);
	check_all_splits(&in, DEF_MAX, NULL, 0, "NUL byte");
	free(in.data);
	in = blob_str("<event><detail>");
	blob_cat(&in, "\0</detail></event>", 18);
	check_all_splits(&in, DEF_MAX, NULL, 0, "NUL byte");
	free(in.data);
	free(sa.data);
	free(exp.data);
}

/* '>' and "/>" inside quoted attribute values do not end a start tag. */
static void
test_quotes(void **state)
{
	struct blob	 in, exp[2];

	exp[0] = blob_str("<event uid='a/>b' how=\"x>\"></event>");
	exp[1] = blob_str("<event\tuid=\"c\"\n/>");
	in = blob_str("");
	blob_cat(&in, exp[0].data, exp[0].len);
	blob_cat(&in, exp[1].data, exp[1].len);
	check_all_splits(&in, DEF_MAX, exp, 2, NULL);
	free(in.data);
	blobs_free(exp, 2);
}

static void
test_unclosed_held(void **state)
{
	struct blob	 in = unit_sample("hostile/unclosed-prefix.xml");
	struct cot_framer f;
	const uint8_t	*ev;
	const char	*why;
	const char	*rest = "</remarks></detail></event>\n<event uid=\"n\"";
	size_t		 len, held;
	int64_t		 since;

	held = check_all_splits(&in, DEF_MAX, NULL, 0, NULL);
	assert_int_equal(held, in.len);

	assert_int_equal(cot_framer_init(&f, DEF_MAX), 0);
	assert_int_equal(cot_framer_held(&f, &since), 0);
	assert_int_equal(cot_framer_feed(&f, in.data, 100, 1000, &why), 0);
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), 0);
	assert_int_equal(cot_framer_feed(&f, in.data + 100, in.len - 100, 2000,
	    &why), 0);
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), 0);
	assert_int_equal(cot_framer_held(&f, &since), in.len);
	assert_int_equal(since, 1000);
	/* the rest closes it and starts another: held since this feed */
	assert_int_equal(cot_framer_feed(&f, rest, strlen(rest), 3000, &why),
	    0);
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), 1);
	assert_int_equal(len, in.len + strlen("</remarks></detail></event>"));
	assert_memory_equal(ev, in.data, in.len);
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), 0);
	assert_int_equal(cot_framer_held(&f, &since),
	    strlen("<event uid=\"n\""));
	assert_int_equal(since, 3000);
	/* whitespace only: nothing held */
	assert_int_equal(cot_framer_feed(&f, "/>\n\n", 4, 4000, &why), 0);
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), 1);
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), 0);
	assert_int_equal(cot_framer_held(&f, &since), 0);
	assert_int_equal(cot_framer_feed(&f, "<ev", 3, 5000, &why), 0);
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), 0);
	assert_int_equal(cot_framer_held(&f, &since), 3);
	assert_int_equal(since, 5000);
	cot_framer_free(&f);

	/*
	 * A complete declaration is not held; one that comes in pieces is,
	 * since its first byte; a '<' that waits for the bytes telling what
	 * it starts is held since it came, not since the latest feed.
	 */
	assert_int_equal(cot_framer_init(&f, DEF_MAX), 0);
	assert_int_equal(cot_framer_feed(&f, "<?xml version=\"1.0\"?>\n", 22,
	    6000, &why), 0);
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), 0);
	assert_int_equal(cot_framer_held(&f, &since), 0);
	assert_int_equal(cot_framer_feed(&f, "<", 1, 7000, &why), 0);
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), 0);
	assert_int_equal(cot_framer_held(&f, &since), 1);
	assert_int_equal(since, 7000);
	assert_int_equal(cot_framer_feed(&f, "?xml ver", 8, 8000, &why), 0);
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), 0);
	assert_int_equal(cot_framer_held(&f, &since), 9);
	assert_int_equal(since, 7000);
	assert_int_equal(cot_framer_feed(&f, "sion='1.0'?>\r\n<!-- c", 20,
	    9000, &why), 0);
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), 0);
	assert_int_equal(cot_framer_held(&f, &since), 6);
	assert_int_equal(since, 9000);
	assert_int_equal(cot_framer_feed(&f, " -->  <event/>", 14, 10000,
	    &why), 0);
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), 1);
	assert_int_equal(len, 8);
	assert_memory_equal(ev, "<event/>", 8);
	assert_int_equal(cot_framer_held(&f, &since), 0);
	cot_framer_free(&f);
	free(in.data);
}

/*
 * cot_framer_trim() gives a big buffer back once nothing is held, keeps it
 * while something is, and the stream goes on as if nothing happened;
 * cot_framer_alloc() says what is allocated.
 */
static void
test_trim(void **state)
{
	struct cot_framer f;
	const uint8_t	*ev;
	const char	*why;
	char		*big;
	size_t		 len, n = 40000;

	big = malloc(n);
	assert_non_null(big);
	memcpy(big, "<event uid=\"b\">", 15);
	memset(big + 15, 'x', n - 15 - 8);
	memcpy(big + n - 8, "</event>", 8);
	assert_int_equal(cot_framer_init(&f, DEF_MAX), 0);
	assert_int_equal(cot_framer_alloc(&f), 0);
	assert_int_equal(cot_framer_feed(&f, big, n - 8, 1, &why), 0);
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), 0);
	assert_int_equal(cot_framer_alloc(&f), 65536);
	/* Held: kept. */
	cot_framer_trim(&f);
	assert_int_equal(cot_framer_alloc(&f), 65536);
	assert_int_equal(cot_framer_feed(&f, big + n - 8, 8, 2, &why), 0);
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), 1);
	assert_int_equal(len, n);
	assert_memory_equal(ev, big, n);
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), 0);
	cot_framer_trim(&f);
	assert_int_equal(cot_framer_alloc(&f), 0);
	/* The stream goes on, split anywhere. */
	assert_int_equal(cot_framer_feed(&f, "\n<event uid=\"c\"", 15, 3,
	    &why), 0);
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), 0);
	assert_int_equal(cot_framer_alloc(&f), 2048);
	/* Small: kept. */
	cot_framer_trim(&f);
	assert_int_equal(cot_framer_alloc(&f), 2048);
	assert_int_equal(cot_framer_feed(&f, "/>", 2, 4, &why), 0);
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), 1);
	assert_int_equal(len, 16);
	assert_memory_equal(ev, "<event uid=\"c\"/>", 16);
	cot_framer_trim(&f);
	assert_int_equal(cot_framer_alloc(&f), 2048);
	cot_framer_free(&f);
	assert_int_equal(cot_framer_alloc(&f), 0);
	cot_framer_trim(&f);		/* on a freed framer: nothing */
	free(big);
}

/*
 * What came after an event, for a session that leaves XML after it (TAK
 * protocol v1): every byte, untouched, whatever the split of the feeds,
 * and nothing of the event or of the whitespace before it.
 */
static void
test_rest(void **state)
{
	static const char	 in[] = "\n<event uid=\"q\"><detail/></event>"
	    "\r\n\xbf\x03\x12\x01\x2a<event";
	struct cot_framer	 f;
	const uint8_t		*ev, *rest;
	const char		*why;
	size_t			 len, k, n = sizeof(in) - 1, end;

	(void)state;
	end = (size_t)(strstr(in, "</event>") - in) + 8;	/* 33 */
	for (k = 1; k < n; k++) {
		assert_int_equal(cot_framer_init(&f, DEF_MAX), 0);
		assert_int_equal(cot_framer_rest(&f, &rest), 0);
		assert_int_equal(cot_framer_feed(&f, in, k, 1, &why), 0);
		if (cot_framer_next(&f, &ev, &len, &why) != 1) {
			assert_int_equal(cot_framer_feed(&f, in + k, n - k, 2,
			    &why), 0);
			assert_int_equal(cot_framer_next(&f, &ev, &len, &why),
			    1);
		}
		assert_int_equal(len, end - 1);
		assert_memory_equal(ev, in + 1, len);
		/* Fed so far: all of it, or the first k bytes. */
		len = cot_framer_rest(&f, &rest);
		assert_int_equal(len, (k < end ? n : k) - end);
		assert_memory_equal(rest, in + end, len);
		cot_framer_free(&f);
		assert_int_equal(cot_framer_rest(&f, &rest), 0);
	}
}

static void
test_api_bounds(void **state)
{
	struct cot_framer f;
	const uint8_t	*ev;
	const char	*why;
	uint8_t		*big;
	size_t		 len, cap;

	assert_int_equal(cot_framer_init(&f, 0), -1);
	assert_int_equal(cot_framer_init(&f, COT_FRAME_EVENT_MIN - 1), -1);
	assert_int_equal(cot_framer_init(&f, COT_FRAME_EVENT_MAX + 1), -1);
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), -1);
	cot_framer_free(&f);
	cot_framer_free(NULL);

	/* One feed larger than the cap is refused, not buffered. */
	assert_int_equal(cot_framer_init(&f, 1024), 0);
	cap = 1024 + COT_FRAME_PREFIX_MAX + COT_FRAME_FEED_MAX;
	big = malloc(cap + 1);
	assert_non_null(big);
	memset(big, ' ', cap + 1);
	assert_int_equal(cot_framer_feed(&f, big, cap + 1, 0, &why), -1);
	assert_non_null(strstr(why, "buffer full"));
	cot_framer_free(&f);
	/* exactly the cap is fine (whitespace: all dropped) */
	assert_int_equal(cot_framer_init(&f, 1024), 0);
	assert_int_equal(cot_framer_feed(&f, big, cap, 0, &why), 0);
	assert_int_equal(cot_framer_next(&f, &ev, &len, &why), 0);
	assert_int_equal(cot_framer_feed(&f, "", 0, 0, &why), 0);
	assert_int_equal(cot_framer_held(&f, NULL), 0);
	cot_framer_free(&f);
	free(big);
}

static double
elapsed_ms(const struct timespec *a)
{
	struct timespec	 b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((double)(b.tv_sec - a->tv_sec) * 1e3 +
	    (double)(b.tv_nsec - a->tv_nsec) / 1e6);
}

/*
 * Slow feeds cost linear time: a 1 MiB event a byte at a time would take
 * minutes if each feed rescanned the held bytes.
 */
static void
test_linear(void **state)
{
	struct blob	 ev = event_of(1024 * 1024, 0), in;
	struct result	 r;
	struct timespec	 t0;
	double		 ms;
	size_t		 i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	run(ev.data, ev.len, 1024 * 1024, NULL, 0, 1, &r);
	ms = elapsed_ms(&t0);
	result_expect(&r, &ev, 1, NULL, "1 MiB a byte at a time");
	result_free(&r);
	print_message("1 MiB event fed a byte at a time: %.0f ms\n", ms);
	assert_true(ms < 10000);

	/* and thousands of small events in odd-sized feeds */
	in = blob_str("");
	for (i = 0; i < 4000; i++)
		blob_cats(&in, "<?xml version=\"1.0\"?>\n<event uid=\"u\"/>\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run(in.data, in.len, DEF_MAX, NULL, 0, 7, &r);
	ms = elapsed_ms(&t0);
	assert_null(r.err);
	assert_int_equal(r.n, 4000);
	result_free(&r);
	assert_true(ms < 10000);
	free(in.data);
	free(ev.data);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_samples),
		cmocka_unit_test(test_stream_mixed),
		cmocka_unit_test(test_concatenations),
		cmocka_unit_test(test_many_in_one_feed),
		cmocka_unit_test(test_max_event),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_garbage_after_events),
		cmocka_unit_test(test_hostile_streams),
		cmocka_unit_test(test_hostile_whole),
		cmocka_unit_test(test_auth_and_comments),
		cmocka_unit_test(test_prefix_limit),
		cmocka_unit_test(test_decl_valid),
		cmocka_unit_test(test_decl_invalid),
		cmocka_unit_test(test_decl_smuggled),
		cmocka_unit_test(test_v1_and_nul),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_unclosed_held),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_rest),
		cmocka_unit_test(test_api_bounds),
		cmocka_unit_test(test_linear),
	};

	/* test_cot_frame [PATTERN]: run only the matching tests */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
