/*
 * Unit tests for cot/cot_parse.c: the fields of every sample, the lying
 * WinTAK declaration, every hostile sample refused without expansion, file
 * or network access, the size, depth, attribute and recipient caps, times,
 * and the server-made pong and disconnect events.
 *
 * Samples are read from $TESTDATA/cot (tests/run.sh exports it; else
 * tests/data/cot, relative to the repository root).
 */
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/unit.h"

#include "cot/cot_frame.h"
#include "cot/cot_parse.h"

#define ANDROID_UID	"ANDROID-5f3c9a1e7b2d4c60"
#define WINTAK_UID	"S-1-5-21-2720623347-3037847324-4167270909-1002"

static struct cot_view	 view;	/* 10 KiB: not on the stack each time */
static char		 err[COT_ERR_MAX];

/* Independent of cot_time_parse(): timegm() on the broken-down time. */
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

static int
parse_str(const char *s)
{
	return (cot_parse(s, strlen(s), &view, err, sizeof(err)));
}

static void
parse_ok(const char *s)
{
	if (parse_str(s) != 0)
		fail_msg("parse failed: %s\ninput: %s", err, s);
}

static void
parse_bad(const char *s, const char *want)
{
	if (parse_str(s) == 0)
		fail_msg("parsed, expected an error with \"%s\"\ninput: %s",
		    want, s);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\", expected one with \"%s\"", err, want);
}

static void
sample_ok(const char *name)
{
	struct blob	 b = unit_sample(name);

	if (cot_parse(b.data, b.len, &view, err, sizeof(err)) != 0)
		fail_msg("%s: %s", name, err);
	free(b.data);
}

static void
test_sa_atak(void **state)
{
	sample_ok("sa-atak.xml");
	assert_string_equal(view.uid, ANDROID_UID);
	assert_string_equal(view.type, "a-f-G-U-C");
	assert_string_equal(view.how, "m-g");
	assert_int_equal(view.event_off, strlen("<?xml version=\"1.0\" "
	    "encoding=\"UTF-8\" standalone=\"yes\"?>\n"));
	assert_true(view.time_ms == utc_ms(2026, 11, 23, 8, 0, 0, 0));
	assert_true(view.start_ms == view.time_ms);
	assert_true(view.stale_ms == utc_ms(2026, 11, 23, 8, 6, 0, 0));
	assert_true(view.has_point);
	assert_true(view.lat == 38.8895 && view.lon == -77.0353);
	assert_true(view.hae == 21.4 && view.ce == 9.9 && view.le == 9999999.0);
	assert_true(view.has_contact);
	assert_string_equal(view.callsign, "HAWK");
	assert_string_equal(view.endpoint, "*:-1:stcp");
	assert_string_equal(view.group_name, "Cyan");
	assert_string_equal(view.group_role, "Team Member");
	assert_false(view.has_marti);
	assert_int_equal(view.n_dest, 0);
	assert_string_equal(view.link_uid, "");
	assert_true(cot_is_sa(&view));
	assert_false(cot_is_ping(&view));
	assert_false(cot_is_disconnect(&view));
	assert_string_equal(cot_identity_uid(&view), ANDROID_UID);
}

/* Declares utf-16, sends UTF-8: the declaration is not trusted. */
static void
test_sa_wintak(void **state)
{
	sample_ok("sa-wintak.xml");
	assert_string_equal(view.uid, WINTAK_UID);
	assert_string_equal(view.type, "a-f-G-U-C");
	assert_string_equal(view.how, "h-e");
	assert_int_equal(view.event_off,
	    strlen("<?xml version=\"1.0\" encoding=\"utf-16\"?>\n"));
	assert_true(view.time_ms == utc_ms(2026, 11, 23, 8, 0, 5, 120));
	assert_true(view.stale_ms == utc_ms(2026, 11, 23, 8, 1, 20, 120));
	assert_true(view.has_point);
	assert_true(view.lat == 38.8977 && view.lon == -77.0365);
	assert_string_equal(view.callsign, "OWL");
	assert_string_equal(view.endpoint, "*:-1:stcp");
	assert_string_equal(view.group_name, "Magenta");
	assert_string_equal(view.group_role, "Team Lead");
	assert_string_equal(cot_identity_uid(&view), WINTAK_UID);

	/* non-ASCII UTF-8 under the same lie comes through as UTF-8 */
	parse_ok("<?xml version=\"1.0\" encoding=\"utf-16\"?>\n<event "
	    "uid=\"w\" type=\"a-f-G\" stale=\"2026-11-23T08:01:20Z\"><detail>"
	    "<contact callsign=\"\xc3\x91" "and" "\xc3\xba\" "
	    "endpoint=\"*:-1:stcp\"/>"
	    "</detail></event>");
	assert_string_equal(view.callsign, "\xc3\x91" "and" "\xc3\xba");
	/* a Latin-1 byte is not UTF-8 */
	parse_bad("<?xml version=\"1.0\" encoding=\"UTF-8\"?><event "
	    "uid=\"caf\xe9\" type=\"a\" stale=\"2026-11-23T08:01:20Z\"/>",
	    "invalid UTF-8");
	/* and a Latin-1 declaration is refused before that */
	parse_bad("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><event "
	    "uid=\"caf\xe9\" type=\"a\" stale=\"2026-11-23T08:01:20Z\"/>",
	    "XML declaration of an encoding other than UTF-8, US-ASCII, "
	    "ASCII or UTF-16 (at offset 30)");
}

static void
test_ping_pong_samples(void **state)
{
	sample_ok("ping.xml");
	assert_string_equal(view.uid, ANDROID_UID "-ping");
	assert_string_equal(view.type, "t-x-c-t");
	assert_true(cot_is_ping(&view));
	assert_false(cot_is_sa(&view));
	assert_null(cot_identity_uid(&view));
	assert_true(view.stale_ms == utc_ms(2026, 11, 23, 8, 0, 20, 0));

	sample_ok("pong.xml");
	assert_string_equal(view.uid, "takPong");
	assert_string_equal(view.type, "t-x-c-t-r");
	assert_string_equal(view.how, "h-g-i-g-o");
	assert_false(cot_is_ping(&view));
	assert_true(view.time_ms == utc_ms(2026, 11, 23, 8, 0, 10, 4));
	assert_true(view.stale_ms == utc_ms(2026, 11, 23, 8, 0, 30, 4));
	assert_int_equal(view.event_off, 0);
}

static void
test_chat_samples(void **state)
{
	sample_ok("chat-all.xml");
	assert_string_equal(view.uid, "GeoChat." ANDROID_UID ".All Chat Rooms."
	    "7e1d2c3b-4a59-4f60-8c71-92a0b1c2d3e4");
	assert_string_equal(view.type, "b-t-f");
	assert_string_equal(view.link_uid, ANDROID_UID);
	assert_string_equal(view.link_type, "a-f-G-U-C");
	assert_false(view.has_contact);
	assert_false(view.has_marti);
	assert_int_equal(view.n_dest, 0);
	assert_null(cot_identity_uid(&view));
	assert_false(cot_is_disconnect(&view));

	sample_ok("chat-direct.xml");
	assert_string_equal(view.uid, "GeoChat." ANDROID_UID "." WINTAK_UID
	    ".0b9f8e7d-6c5b-4a39-8281-7f6e5d4c3b2a");
	assert_true(view.has_marti);
	assert_false(view.dest_all);
	assert_int_equal(view.n_dest, 1);
	assert_int_equal(view.dest[0].kind, COT_DEST_CALLSIGN);
	assert_string_equal(view.dest[0].value, "OWL");
	assert_int_equal(view.n_dest_other, 0);
}

static void
test_other_samples(void **state)
{
	sample_ok("marker-directed-uid.xml");
	assert_string_equal(view.uid, "9c2f7a10-55e1-4d8b-a0e3-1f2d3c4b5a69");
	assert_string_equal(view.type, "a-h-G");
	assert_true(cot_is_sa(&view));
	assert_string_equal(view.callsign, "Hostile vehicle");
	assert_string_equal(view.endpoint, "");
	assert_null(cot_identity_uid(&view));	/* a marker, not a sender */
	assert_true(view.has_marti);
	assert_int_equal(view.n_dest, 2);
	assert_int_equal(view.dest[0].kind, COT_DEST_UID);
	assert_string_equal(view.dest[0].value, WINTAK_UID);
	assert_int_equal(view.dest[1].kind, COT_DEST_CALLSIGN);
	assert_string_equal(view.dest[1].value, "FALCON");
	assert_string_equal(view.link_uid, ANDROID_UID);

	sample_ok("emergency.xml");
	assert_string_equal(view.uid, ANDROID_UID "-9-1-1");
	assert_string_equal(view.type, "b-a-o-tbl");
	assert_string_equal(view.how, "h-e");
	assert_string_equal(view.callsign, "HAWK-Alert");
	assert_null(cot_identity_uid(&view));
	assert_string_equal(view.link_uid, ANDROID_UID);

	sample_ok("disconnect.xml");
	assert_string_equal(view.uid, "0f4e3d2c-1b0a-4998-8776-655443322110");
	assert_true(cot_is_disconnect(&view));
	assert_string_equal(view.link_uid, ANDROID_UID);
	assert_string_equal(view.link_type, "a-f-G-U-C");

	sample_ok("takp-offer.xml");
	assert_string_equal(view.uid, "protouid");
	assert_string_equal(view.type, "t-x-takp-v");
	assert_true(view.stale_ms == utc_ms(2026, 11, 23, 8, 1, 0, 0));
}

/* Every event the framer cuts from the mixed stream parses. */
static void
test_stream_through_framer(void **state)
{
	static const char *uids[] = {
		ANDROID_UID, ANDROID_UID "-ping", "GeoChat." ANDROID_UID
		".All Chat Rooms.7e1d2c3b-4a59-4f60-8c71-92a0b1c2d3e4",
		WINTAK_UID, ANDROID_UID "-9-1-1",
	};
	struct blob	 in = unit_sample("stream-mixed.txt");
	struct cot_framer f;
	const uint8_t	*ev;
	const char	*why;
	size_t		 len, n = 0;

	assert_int_equal(cot_framer_init(&f, 65536), 0);
	assert_int_equal(cot_framer_feed(&f, in.data, in.len, 0, &why), 0);
	while (cot_framer_next(&f, &ev, &len, &why) == 1) {
		if (cot_parse(ev, len, &view, err, sizeof(err)) != 0)
			fail_msg("event %zu: %s", n, err);
		assert_true(n < 5);
		assert_string_equal(view.uid, uids[n]);
		/* the framer hands out the event alone */
		assert_int_equal(view.event_off, 0);
		n++;
	}
	assert_int_equal(n, 5);
	cot_framer_free(&f);
	free(in.data);
}

static void
stderr_begin(int *saved, char *path, size_t pathlen)
{
	int	 fd;

	snprintf(path, pathlen, "/tmp/takd-test-stderr.XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	fflush(stderr);
	*saved = dup(2);
	assert_true(*saved >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
}

static void
stderr_end(int saved, const char *path)
{
	struct stat	 st;

	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	assert_int_equal(stat(path, &st), 0);
	unlink(path);
	if (st.st_size != 0)
		fail_msg("libxml2 wrote %lld bytes to stderr",
		    (long long)st.st_size);
}

/* Every hostile sample is refused, with its reason; nothing on stderr. */
static void
test_hostile_samples(void **state)
{
	static const struct {
		const char	*name;
		const char	*err;
	} cases[] = {
		{ "hostile/deep-nesting.xml", "nested deeper than 64" },
		{ "hostile/entity-bomb.xml", "DOCTYPE not allowed" },
		{ "hostile/external-entity.xml", "DOCTYPE not allowed" },
		{ "hostile/invalid-utf8.xml", "invalid UTF-8 at offset 29" },
		{ "hostile/malformed-attr.xml", "malformed XML at line 1" },
		{ "hostile/nul-byte.xml", "NUL byte at offset 29" },
		{ "hostile/unclosed-prefix.xml", "malformed XML at line 1" },
		{ "hostile/tls-garbage.bin", "expected <event>" },
	};
	struct blob	 b;
	char		 path[64];
	size_t		 i;
	int		 saved;

	stderr_begin(&saved, path, sizeof(path));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b = unit_sample(cases[i].name);
		if (cot_parse(b.data, b.len, &view, err, sizeof(err)) == 0)
			fail_msg("%s parsed", cases[i].name);
		if (strstr(err, cases[i].err) == NULL)
			fail_msg("%s: \"%s\", expected \"%s\"", cases[i].name,
			    err, cases[i].err);
		free(b.data);
	}
	stderr_end(saved, path);
}

/*
 * External entities: a watched local file and a listening loopback port;
 * after the parse neither was opened nor connected to, in any placement of
 * the DOCTYPE.
 */
static void
test_no_external_access(void **state)
{
	struct sockaddr_in sin;
	socklen_t	 sl = sizeof(sin);
	char		 file[64], doc[1024], buf[4096], path[64];
	const char	*pre[] = { "", "<?xml version=\"1.0\"?>", "\n  ",
			    "<!-- c -->", "<?xml version=\"1.0\"?><!-- c -->" };
	size_t		 i;
	ssize_t		 n;
	int		 fd, in, ls, c, saved;

	snprintf(file, sizeof(file), "/tmp/takd-test-xxe.XXXXXX");
	assert_true((fd = mkstemp(file)) >= 0);
	assert_int_equal(write(fd, "secret", 6), 6);
	close(fd);
	assert_true((in = inotify_init1(IN_NONBLOCK)) >= 0);
	assert_true(inotify_add_watch(in, file, IN_OPEN | IN_ACCESS) >= 0);

	ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(ls >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(ls, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(ls, 8), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sin, &sl), 0);

	stderr_begin(&saved, path, sizeof(path));
	for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
		snprintf(doc, sizeof(doc), "%s<!DOCTYPE event [<!ENTITY x "
		    "SYSTEM \"file://%s\"><!ENTITY y SYSTEM "
		    "\"http://127.0.0.1:%u/x\">]><event uid=\"u\" type=\"a\" "
		    "stale=\"2026-11-23T08:05:00Z\"><detail><contact "
		    "callsign=\"&x;&y;\"/>&x;&y;</detail></event>", pre[i],
		    file, ntohs(sin.sin_port));
		assert_int_not_equal(parse_str(doc), 0);
		assert_true(strstr(err, "DOCTYPE") != NULL ||
		    strstr(err, "expected <event>") != NULL);
	}
	/* references without a DTD are undefined entities, not fetches */
	snprintf(doc, sizeof(doc), "<event uid=\"u\" type=\"a\" stale=\""
	    "2026-11-23T08:05:00Z\"><detail><contact callsign=\"&x;\"/>"
	    "</detail></event>");
	parse_bad(doc, "malformed XML at line 1");
	assert_non_null(strstr(err, "'x'"));
	stderr_end(saved, path);

	n = read(in, buf, sizeof(buf));
	assert_int_equal(n, -1);
	assert_int_equal(errno, EAGAIN);
	c = accept(ls, NULL, NULL);
	assert_int_equal(c, -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	close(ls);
	close(in);
	unlink(file);
}

/*
 * What parse_prolog() accepts before "<event" is what the framer accepts:
 * one declaration that passes cot_scan_decl().  An event smuggled inside a
 * declaration (the attack of issue 12), control characters, non-ASCII
 * bytes, an unknown pseudo-attribute or a version other than 1.0 in it
 * fail the whole event, even though what follows is a valid event.
 */
static void
test_bad_prolog(void **state)
{
	static const struct {
		const char	*decl;
		const char	*err;
	} cases[] = {
		{ "<?xml version=\"1.0\" <event uid=\"smuggled\" "
		    "type=\"a-f-G\" stale=\"2099-01-01T00:00:00Z\"><detail>"
		    "\x01\xff<a><a><a></a></a></a></detail></event>?>",
		    "'<' inside an XML declaration (at offset 20)" },
		{ "<?xml version=\"1.0\"\x1b[2J?>",
		    "control character or non-ASCII byte in an XML declaration "
		    "(at offset 19)" },
		{ "<?xml version=\"1.0\" encoding=\"\xc3\xa9\"?>",
		    "non-ASCII byte in an XML declaration (at offset 30)" },
		{ "<?xml version=\"1.1\"?>",
		    "version other than 1.0 (at offset 15)" },
		{ "<?xml version=\"1.0\" evil=\"yes\"?>",
		    "malformed XML declaration (takd accepts version, "
		    "encoding, standalone, in that order) (at offset 21)" },
		{ "<?xml version=\"1.0\" standalone=\"yes\" "
		    "encoding=\"UTF-8\"?>", "malformed XML declaration" },
		{ "<?xml version=\"1.0\"                                    "
		    "                                                 ?>",
		    "XML declaration longer than 100 bytes (at offset 100)" },
		{ "\r\n  <?xml version=\"1.0\"?<a>",
		    "'<' inside an XML declaration (at offset 24)" },
	};
	const char	*ev = "<event uid=\"u\" type=\"a-f-G\" "
	    "stale=\"2026-11-23T08:05:00Z\"/>";
	char		 doc[1024];
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(doc, sizeof(doc), "%s\n%s", cases[i].decl, ev);
		parse_bad(doc, cases[i].err);
	}
	/* the event alone is fine, and so with an accepted declaration */
	parse_ok(ev);
	assert_int_equal(view.event_off, 0);
	snprintf(doc, sizeof(doc), "<?xml version='1.0' encoding='us-ascii' "
	    "standalone='no' ?>\r\n%s", ev);
	parse_ok(doc);
	assert_int_equal(view.event_off, strlen(doc) - strlen(ev));
	/* two declarations are one too many, as before */
	parse_bad("<?xml version=\"1.0\"?><?xml version=\"1.0\"?><event/>",
	    "expected <event> after the XML declaration");
	parse_bad("<?xml version=\"1.0\" ", "unterminated XML declaration");
}

static void
test_truncated(void **state)
{
	struct blob	 b = unit_sample("sa-atak.xml");
	const char	*end = strstr(b.data, "</event>");
	size_t		 full, n;

	assert_non_null(end);
	full = (size_t)(end - b.data) + 8;
	for (n = 0; n < full; n++)
		if (cot_parse(b.data, n, &view, err, sizeof(err)) == 0)
			fail_msg("a %zu-byte prefix parsed", n);
	assert_int_equal(cot_parse(b.data, full, &view, err, sizeof(err)), 0);
	free(b.data);
}

static void
test_required_fields(void **state)
{
	const char	*ok_stale = "stale=\"2026-11-23T08:05:00Z\"";
	char		 doc[512];

	parse_bad("<foo uid=\"x\" type=\"a\"/>", "root element is <foo>");
	parse_bad("<events uid=\"x\"/>", "root element is <events>");
	parse_bad("", "no <event> element");
	parse_bad("<?xml version=\"1.0\"?>", "no <event> element");
	parse_bad("<?xml version=\"1.0\"", "unterminated XML declaration");
	parse_bad("<?xml version=\"1.0\"?><?xml version=\"1.0\"?><event/>",
	    "expected <event>");
	parse_bad("<event type=\"a\" stale=\"2026-11-23T08:05:00Z\"/>",
	    "event without uid");
	parse_bad("<event uid=\"\" type=\"a\" stale=\"2026-11-23T08:05:00Z\"/>",
	    "event without uid");
	parse_bad("<event uid=\"x\" stale=\"2026-11-23T08:05:00Z\"/>",
	    "event x without type");
	parse_bad("<event uid=\"x\" type=\"a\"/>", "without stale time");
	parse_bad("<event uid=\"x\" type=\"a\" stale=\"soon\"/>",
	    "invalid stale time \"soon\"");
	parse_bad("<event uid=\"x\" type=\"a\" "
	    "stale=\"2026-02-29T00:00:00Z\"/>",
	    "invalid stale time");
	/* line numbers count the declaration's lines too */
	parse_bad("<?xml version=\"1.0\"?>\n<event uid=\"x\"\n type=a/>",
	    "malformed XML at line 3, column 7: AttValue");
	/* an event followed by anything but whitespace is not one event */
	parse_bad("<event uid=\"x\" type=\"a\" stale=\"2026-11-23T08:05:00Z\"/>"
	    "<event/>", "malformed XML");
	parse_ok("<event uid=\"x\" type=\"a\" stale=\"2026-11-23T08:05:00Z\"/>"
	    "\r\n");

	/* bad time and start are not fatal, just unset */
	snprintf(doc, sizeof(doc), "<event uid=\"x\" type=\"a\" time=\"x\" "
	    "start=\"2026-13-01T00:00:00Z\" %s><point lat=\"91\" lon=\"0\"/>"
	    "</event>", ok_stale);
	parse_ok(doc);
	assert_true(view.time_ms == COT_TIME_UNSET);
	assert_true(view.start_ms == COT_TIME_UNSET);
	assert_false(view.has_point);
	assert_false(view.has_contact);
	assert_null(cot_identity_uid(&view));

	/* an identity needs callsign and endpoint, and no -ping suffix */
	snprintf(doc, sizeof(doc), "<event uid=\"d-ping\" type=\"a-f-G\" %s>"
	    "<detail><contact callsign=\"C\" endpoint=\"*:-1:stcp\"/></detail>"
	    "</event>", ok_stale);
	parse_ok(doc);
	assert_null(cot_identity_uid(&view));
	snprintf(doc, sizeof(doc), "<event uid=\"d\" type=\"a-f-G\" %s>"
	    "<detail><contact callsign=\"C\" endpoint=\"*:-1:stcp\"/>"
	    "<contact callsign=\"second\"/></detail></event>", ok_stale);
	parse_ok(doc);
	assert_string_equal(cot_identity_uid(&view), "d");
	assert_string_equal(view.callsign, "C");	/* the first wins */
	/* a contact elsewhere than under detail is not the sender's */
	snprintf(doc, sizeof(doc), "<event uid=\"d\" type=\"a-f-G\" %s>"
	    "<detail><x><contact callsign=\"C\" endpoint=\"e\"/></x></detail>"
	    "</event>", ok_stale);
	parse_ok(doc);
	assert_false(view.has_contact);
	/* entities in values are decoded */
	snprintf(doc, sizeof(doc), "<event uid=\"a&amp;b&#x41;\" type=\"a\" "
	    "%s><detail><contact callsign=\"&lt;&quot;\"/></detail></event>",
	    ok_stale);
	parse_ok(doc);
	assert_string_equal(view.uid, "a&bA");
	assert_string_equal(view.callsign, "<\"");
	/* a line break smuggled in by reference is refused */
	snprintf(doc, sizeof(doc), "<event uid=\"a&#10;b\" type=\"a\" %s/>",
	    ok_stale);
	parse_bad(doc, "control character in <event> uid");
	/* t-x-d-d without a link is plain traffic (pytak's hello) */
	snprintf(doc, sizeof(doc), "<event uid=\"p\" type=\"t-x-d-d\" %s/>",
	    ok_stale);
	parse_ok(doc);
	assert_false(cot_is_disconnect(&view));
}

/* Values that do not fit are errors, never truncated. */
static void
test_field_lengths(void **state)
{
	char	*doc, *val;
	size_t	 cap = 4096;

	doc = malloc(cap);
	val = malloc(cap);
	assert_non_null(doc);
	assert_non_null(val);

	memset(val, 'u', COT_UID_MAX - 1);
	val[COT_UID_MAX - 1] = '\0';
	snprintf(doc, cap, "<event uid=\"%s\" type=\"a\" "
	    "stale=\"2026-11-23T08:05:00Z\"/>", val);
	parse_ok(doc);
	assert_int_equal(strlen(view.uid), COT_UID_MAX - 1);
	memset(val, 'u', COT_UID_MAX);
	val[COT_UID_MAX] = '\0';
	snprintf(doc, cap, "<event uid=\"%s\" type=\"a\" "
	    "stale=\"2026-11-23T08:05:00Z\"/>", val);
	parse_bad(doc, "<event> uid longer than 255 bytes");

	memset(val, 'c', COT_CALLSIGN_MAX);
	val[COT_CALLSIGN_MAX] = '\0';
	snprintf(doc, cap, "<event uid=\"x\" type=\"a\" stale=\"2026-11-23T08:"
	    "05:00Z\"><detail><contact callsign=\"%s\"/></detail></event>",
	    val);
	parse_bad(doc, "<contact> callsign longer than 127 bytes");

	memset(val, 't', COT_TYPE_MAX);
	val[COT_TYPE_MAX] = '\0';
	snprintf(doc, cap, "<event uid=\"x\" type=\"%s\" stale=\"2026-11-23T08:"
	    "05:00Z\"/>", val);
	parse_bad(doc, "<event> type longer than 127 bytes");

	memset(val, 'd', COT_UID_MAX);
	val[COT_UID_MAX] = '\0';
	snprintf(doc, cap, "<event uid=\"x\" type=\"a\" stale=\"2026-11-23T08:"
	    "05:00Z\"><detail><marti><dest uid=\"%s\"/></marti></detail>"
	    "</event>", val);
	parse_bad(doc, "<dest> uid longer than 255 bytes");
	free(doc);
	free(val);
}

static void
test_dests(void **state)
{
	char	 doc[8192];
	size_t	 o, i, n;

	for (n = COT_MAX_DEST; n <= COT_MAX_DEST + 1; n++) {
		o = (size_t)snprintf(doc, sizeof(doc), "<event uid=\"x\" "
		    "type=\"b-t-f\" stale=\"2026-11-23T08:05:00Z\"><detail>"
		    "<marti>");
		for (i = 0; i < n; i++)
			o += (size_t)snprintf(doc + o, sizeof(doc) - o,
			    "<dest %s=\"r%zu\"/>", i % 2 ? "uid" : "callsign",
			    i);
		snprintf(doc + o, sizeof(doc) - o, "</marti></detail></event>");
		if (n == COT_MAX_DEST) {
			parse_ok(doc);
			assert_int_equal(view.n_dest, COT_MAX_DEST);
			assert_int_equal(view.dest[31].kind, COT_DEST_UID);
			assert_string_equal(view.dest[31].value, "r31");
		} else
			parse_bad(doc, "more than 32 <marti><dest> recipients");
	}
	parse_ok("<event uid=\"x\" type=\"b-t-f\" "
	    "stale=\"2026-11-23T08:05:00Z\">"
	    "<detail><marti><dest callsign=\"All Streaming\"/><dest "
	    "mission=\"m\"/><dest callsign=\"\"/></marti><marti><dest "
	    "uid=\"u2\"/></marti></detail></event>");
	assert_true(view.has_marti);
	assert_true(view.dest_all);
	assert_int_equal(view.n_dest, 1);
	assert_int_equal(view.n_dest_other, 2);
	assert_string_equal(view.dest[0].value, "u2");
	/* dest outside marti is not a recipient */
	parse_ok("<event uid=\"x\" type=\"b-t-f\" "
	    "stale=\"2026-11-23T08:05:00Z\">"
	    "<detail><dest callsign=\"B\"/><marti/></detail></event>");
	assert_true(view.has_marti);
	assert_int_equal(view.n_dest, 0);
}

static void
test_depth_and_attrs(void **state)
{
	char		*doc;
	size_t		 cap = 200000, o, i, depth;
	struct timespec	 t0, t1;

	doc = malloc(cap);
	assert_non_null(doc);
	/* <event> is level 1, <detail> 2: 62 more fit in 64 */
	for (depth = 62; depth <= 63; depth++) {
		o = (size_t)snprintf(doc, cap, "<event uid=\"x\" type=\"a\" "
		    "stale=\"2026-11-23T08:05:00Z\"><detail>");
		for (i = 0; i < depth; i++)
			o += (size_t)snprintf(doc + o, cap - o, "<a>");
		for (i = 0; i < depth; i++)
			o += (size_t)snprintf(doc + o, cap - o, "</a>");
		snprintf(doc + o, cap - o, "</detail></event>");
		if (depth == 62)
			parse_ok(doc);
		else
			parse_bad(doc, "nested deeper than 64 levels");
	}

	/* 64 attributes on one element, then 65 */
	for (depth = 64; depth <= 65; depth++) {
		o = (size_t)snprintf(doc, cap, "<event uid=\"x\" type=\"a\" "
		    "stale=\"2026-11-23T08:05:00Z\"><detail><e");
		for (i = 0; i < depth; i++)
			o += (size_t)snprintf(doc + o, cap - o, " a%zu='='", i);
		snprintf(doc + o, cap - o, "/></detail></event>");
		if (depth == 64)
			parse_ok(doc);
		else
			parse_bad(doc, "more than 64 attributes");
	}

	/*
	 * 100,000 attributes in 1 MB: refused before libxml2's pairwise
	 * duplicate check, which would take seconds.
	 */
	free(doc);
	cap = 1024 * 1024;
	doc = malloc(cap);
	assert_non_null(doc);
	o = (size_t)snprintf(doc, cap, "<event uid=\"x\" type=\"a\" "
	    "stale=\"2026-11-23T08:05:00Z\"><detail><e");
	for (i = 0; o + 32 < cap - 64; i++)
		o += (size_t)snprintf(doc + o, cap - o, " a%zu=\"\"", i);
	snprintf(doc + o, cap - o, "/></detail></event>");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	parse_bad(doc, "an element with more than 64 attributes");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000 < 500);

	/* namespace declarations are capped too */
	o = (size_t)snprintf(doc, cap, "<event uid=\"x\" type=\"a\" "
	    "stale=\"2026-11-23T08:05:00Z\"><detail>");
	for (i = 0; i < 17; i++)
		o += (size_t)snprintf(doc + o, cap - o, "<e xmlns:p%zu=\"u\">",
		    i);
	for (i = 0; i < 17; i++)
		o += (size_t)snprintf(doc + o, cap - o, "</e>");
	snprintf(doc + o, cap - o, "</detail></event>");
	parse_bad(doc, "more than 16 namespace declarations");
	free(doc);

	doc = malloc(COT_PARSE_MAX_BYTES + 1);
	assert_non_null(doc);
	memset(doc, ' ', COT_PARSE_MAX_BYTES + 1);
	assert_int_equal(cot_parse(doc, COT_PARSE_MAX_BYTES + 1, &view, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "limit"));
	free(doc);
}

static void
test_times(void **state)
{
	static const struct {
		const char	*s;
		int64_t		 off_ms;	/* from 2026-11-23T08:00:00Z */
	} ok[] = {
		{ "2026-11-23T08:00:00Z", 0 },
		{ "2026-11-23T08:00:00.000Z", 0 },
		{ "2026-11-23T08:00:00.5Z", 500 },
		{ "2026-11-23T08:00:00.12Z", 120 },
		{ "2026-11-23T08:00:00.1239999Z", 123 },
		{ "2026-11-23T08:00:00", 0 },
		{ "2026-11-23t08:00:00z", 0 },
		{ "2026-11-23T10:00:00+02:00", 0 },
		{ "2026-11-23T10:30:00+0230", 0 },
		{ "2026-11-23T03:00:00-05", 0 },
		{ "2026-11-23T07:59:59.999Z", -1 },
	};
	static const char *bad[] = {
		"", "2026-11-23", "2026-11-23 08:00:00Z",
		"2026-13-23T08:00:00Z",
		"2026-11-31T08:00:00Z", "2026-11-23T24:00:00Z",
		"2026-11-23T08:60:00Z", "2026-11-23T08:00:00.Z",
		"2026-11-23T08:00:00ZZ", "2026-11-23T08:00:00+2",
		"2026-11-23T08:00:00+02:0", "0000-01-01T00:00:00Z",
		"+026-11-23T08:00:00Z", "2026-11-23T08:00:00 ",
	};
	int64_t	 base = utc_ms(2026, 11, 23, 8, 0, 0, 0), ms;
	char	 buf[32];
	size_t	 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (cot_time_parse(ok[i].s, &ms) != 0)
			fail_msg("\"%s\" refused", ok[i].s);
		assert_true(ms == base + ok[i].off_ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cot_time_parse(bad[i], &ms) == 0)
			fail_msg("\"%s\" accepted", bad[i]);
	assert_int_equal(cot_time_parse("2024-02-29T00:00:00Z", &ms), 0);
	assert_true(ms == utc_ms(2024, 2, 29, 0, 0, 0, 0));
	assert_int_equal(cot_time_parse("2000-03-01T00:00:00Z", &ms), 0);
	assert_true(ms == utc_ms(2000, 3, 1, 0, 0, 0, 0));
	assert_int_equal(cot_time_parse("1969-12-31T23:59:59.5Z", &ms), 0);
	assert_true(ms == -500);

	assert_int_equal(cot_time_format(base + 4, buf, sizeof(buf)), 24);
	assert_string_equal(buf, "2026-11-23T08:00:00.004Z");
	assert_int_equal(cot_time_format(-500, buf, sizeof(buf)), 24);
	assert_string_equal(buf, "1969-12-31T23:59:59.500Z");
	assert_int_equal(cot_time_format(base, buf, 24), 0);
	assert_string_equal(buf, "");
}

static void
test_make_pong(void **state)
{
	struct blob	 b = unit_sample("pong.xml");
	int64_t		 now = utc_ms(2026, 11, 23, 8, 0, 10, 4);
	char		 buf[1024];
	size_t		 n;

	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	n = cot_make_pong(buf, sizeof(buf), now);
	assert_int_equal(n, b.len);
	assert_string_equal(buf, b.data);
	assert_int_equal(cot_parse(buf, n, &view, err, sizeof(err)), 0);
	assert_string_equal(view.uid, "takPong");
	assert_string_equal(view.type, "t-x-c-t-r");
	assert_true(view.time_ms == now && view.start_ms == now);
	assert_true(view.stale_ms == now + 20000);
	assert_false(cot_is_ping(&view));
	/* too small: nothing half-written */
	assert_int_equal(cot_make_pong(buf, n, now), 0);
	assert_string_equal(buf, "");
	free(b.data);
}

static int
is_uuid4(const char *s)
{
	size_t	 i;

	if (strlen(s) != 36 || s[14] != '4' || strchr("89ab", s[19]) == NULL)
		return (0);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return (0);
		} else if (strchr("0123456789abcdef", s[i]) == NULL)
			return (0);
	}
	return (1);
}

static void
test_make_disconnect(void **state)
{
	struct blob	 b = unit_sample("disconnect.xml");
	int64_t		 now = utc_ms(2026, 11, 23, 8, 5, 0, 0);
	char		 buf[2048], want[2048], uid1[COT_UID_MAX];
	const char	*u, *q;
	size_t		 n;

	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	n = cot_make_disconnect(buf, sizeof(buf), ANDROID_UID, "a-f-G-U-C",
	    now);
	assert_true(n > 0);
	assert_int_equal(cot_parse(buf, n, &view, err, sizeof(err)), 0);
	assert_true(is_uuid4(view.uid));
	snprintf(uid1, sizeof(uid1), "%s", view.uid);
	/* the sample with our fresh uid in place of its own */
	u = strstr(b.data, "uid=\"") + 5;
	q = strchr(u, '"');
	snprintf(want, sizeof(want), "%.*s%s%s", (int)(u - b.data), b.data,
	    view.uid, q);
	assert_string_equal(buf, want);
	assert_true(cot_is_disconnect(&view));
	assert_string_equal(view.link_uid, ANDROID_UID);
	assert_string_equal(view.link_type, "a-f-G-U-C");
	assert_true(view.stale_ms == now + 20000);

	/* a fresh uid every time */
	assert_true(cot_make_disconnect(buf, sizeof(buf), ANDROID_UID, NULL,
	    now) > 0);
	assert_int_equal(cot_parse(buf, strlen(buf), &view, err, sizeof(err)),
	    0);
	assert_string_not_equal(view.uid, uid1);
	assert_string_equal(view.link_type, "a-f-G-U-C");

	/* values are escaped and come back intact */
	/* what cot_parse() would refuse is not written */
	assert_int_equal(cot_make_disconnect(buf, sizeof(buf), "a\tb", "a-f-G",
	    now), 0);
	assert_true(cot_make_disconnect(buf, sizeof(buf), "a\"b&c<d>'e",
	    "a-f-G", now) > 0);
	assert_int_equal(cot_parse(buf, strlen(buf), &view, err, sizeof(err)),
	    0);
	assert_string_equal(view.link_uid, "a\"b&c<d>'e");

	assert_int_equal(cot_make_disconnect(buf, sizeof(buf), "", NULL, now),
	    0);
	assert_int_equal(cot_make_disconnect(buf, sizeof(buf), NULL, NULL, now),
	    0);
	assert_int_equal(cot_make_disconnect(buf, sizeof(buf), "a\001b", NULL,
	    now), 0);
	assert_int_equal(cot_make_disconnect(buf, 100, ANDROID_UID, NULL, now),
	    0);
	free(b.data);
}

/*
 * <fileshare senderUrl>: the first one's, "&amp;" decoded; a value that
 * does not fit or that cot_parse() could not copy leaves it "" and the
 * event parses all the same.
 */
static void
test_fileshare(void **state)
{
	static const char head[] = "<event version=\"2.0\" uid=\"FT-1\" "
	    "type=\"b-f-t-r\" how=\"h-e\" time=\"2026-11-23T08:00:00Z\" "
	    "start=\"2026-11-23T08:00:00Z\" stale=\"2026-11-23T08:01:00Z\">"
	    "<point lat=\"0\" lon=\"0\"/><detail>";
	char	 buf[4 * COT_URL_MAX], url[COT_URL_MAX + 1];

	snprintf(buf, sizeof(buf), "%s<fileshare filename=\"p.zip\" "
	    "senderUrl=\"https://tak:8443/Marti/sync/content?hash=ab&amp;x=1\"/>"
	    "<fileshare senderUrl=\"https://second/\"/>"
	    "<marti><dest callsign=\"B\"/></marti></detail></event>", head);
	parse_ok(buf);
	assert_string_equal(view.fileshare_url,
	    "https://tak:8443/Marti/sync/content?hash=ab&x=1");
	assert_int_equal(view.n_dest, 1);

	/* Under <detail> only. */
	snprintf(buf, sizeof(buf), "%s<x><fileshare senderUrl=\"https://a/\"/>"
	    "</x></detail></event>", head);
	parse_ok(buf);
	assert_string_equal(view.fileshare_url, "");

	/* One byte too long, a character reference: "", not refused. */
	memset(url, 'a', COT_URL_MAX);
	url[COT_URL_MAX] = '\0';
	snprintf(buf, sizeof(buf), "%s<fileshare senderUrl=\"%s\"/>"
	    "</detail></event>", head, url);
	parse_ok(buf);
	assert_string_equal(view.fileshare_url, "");
	url[COT_URL_MAX - 1] = '\0';
	snprintf(buf, sizeof(buf), "%s<fileshare senderUrl=\"%s\"/>"
	    "</detail></event>", head, url);
	parse_ok(buf);
	assert_string_equal(view.fileshare_url, url);
	snprintf(buf, sizeof(buf), "%s<fileshare senderUrl=\"a&#9;b\"/>"
	    "</detail></event>", head);
	parse_ok(buf);
	assert_string_equal(view.fileshare_url, "");
}

/* t-x-g-c: a client's groups changed; the shape of t-x-d-d. */
static void
test_make_group_change(void **state)
{
	int64_t		 now = utc_ms(2026, 11, 23, 8, 5, 0, 0);
	char		 buf[2048], uid1[COT_UID_MAX];
	size_t		 n;

	n = cot_make_group_change(buf, sizeof(buf), ANDROID_UID, now);
	assert_true(n > 0);
	assert_int_equal(strlen(buf), n);
	assert_int_equal(cot_parse(buf, n, &view, err, sizeof(err)), 0);
	assert_true(is_uuid4(view.uid));
	snprintf(uid1, sizeof(uid1), "%s", view.uid);
	assert_string_equal(view.type, "t-x-g-c");
	assert_string_equal(view.how, "h-g-i-g-o");
	assert_string_equal(view.link_uid, ANDROID_UID);
	assert_non_null(strstr(buf, "<link uid=\"" ANDROID_UID "\" "
	    "relation=\"p-p\"/>"));
	assert_true(view.time_ms == now && view.stale_ms == now + 20000);
	/* Its uid not known yet: a link without one. */
	assert_true(cot_make_group_change(buf, sizeof(buf), "", now) > 0);
	assert_int_equal(cot_parse(buf, strlen(buf), &view, err, sizeof(err)),
	    0);
	assert_string_not_equal(view.uid, uid1);
	assert_string_equal(view.link_uid, "");
	assert_non_null(strstr(buf, "<detail><link relation=\"p-p\"/>"));
	assert_true(cot_make_group_change(buf, sizeof(buf), NULL, now) > 0);
	/* Escaped, never broken; what cot_parse() would refuse is not made. */
	assert_true(cot_make_group_change(buf, sizeof(buf), "a\"b<c", now) >
	    0);
	assert_int_equal(cot_parse(buf, strlen(buf), &view, err, sizeof(err)),
	    0);
	assert_string_equal(view.link_uid, "a\"b<c");
	assert_int_equal(cot_make_group_change(buf, sizeof(buf), "a\001b",
	    now), 0);
	assert_int_equal(cot_make_group_change(buf, 100, ANDROID_UID, now), 0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sa_atak),
		cmocka_unit_test(test_sa_wintak),
		cmocka_unit_test(test_ping_pong_samples),
		cmocka_unit_test(test_chat_samples),
		cmocka_unit_test(test_other_samples),
		cmocka_unit_test(test_stream_through_framer),
		cmocka_unit_test(test_hostile_samples),
		cmocka_unit_test(test_no_external_access),
		cmocka_unit_test(test_bad_prolog),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_required_fields),
		cmocka_unit_test(test_field_lengths),
		cmocka_unit_test(test_dests),
		cmocka_unit_test(test_depth_and_attrs),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_make_pong),
		cmocka_unit_test(test_make_disconnect),
		cmocka_unit_test(test_make_group_change),
		cmocka_unit_test(test_fileshare),
	};

	cot_parse_init();
	/* test_cot_parse [PATTERN]: run only the matching tests */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
