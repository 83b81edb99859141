/*
 * Unit tests for the TAK protocol v1 codec (cot/takp.h): every sample
 * through XML -> v1 -> XML and into the same view as cot_parse(), the
 * exact-match rule of the typed detail messages, xmlDetail winning over
 * them, dests and links from xmlDetail, XML escaping of every string
 * field, number formatting, and the negotiation events (cot/cot_make.c)
 * and <TakRequest> parsing (cot/cot_parse.c).  Hostile payloads are in
 * test_takp_hostile.c.
 *
 * Samples are read from $TESTDATA/cot (tests/run.sh exports it; else
 * tests/data/cot, relative to the repository root).
 */
#include <dirent.h>
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
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "tests/unit/takp_fx.h"
#include "tests/unit/unit.h"

#include "cot/cot_parse.h"
#include "cot/takp.h"
#include "cot/takp_int.h"

#define ANDROID_UID	"ANDROID-5f3c9a1e7b2d4c60"

static struct cot_view	 xview;	/* 10 KiB: not on the stack */

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

/*
 * Every sample: XML -> v1 -> XML keeps every element and attribute value
 * (compared as trees), and the v1 decodes into the view cot_parse() gives.
 */
static void
test_samples(void **state)
{
	const char	*dir;
	char		 path[1024], why[512], *x;
	DIR		*d;
	struct dirent	*de;
	struct blob	 b;
	struct pb	 pay;
	size_t		 n, xlen;
	int		 count = 0;

	if ((dir = getenv("TESTDATA")) == NULL)
		dir = "tests/data";
	snprintf(path, sizeof(path), "%s/cot", dir);
	assert_non_null(d = opendir(path));
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".xml") != 0)
			continue;
		b = unit_sample(de->d_name);
		if (cot_parse(b.data, b.len, &xview, fx_err, sizeof(fx_err)) != 0)
			fail_msg("%s: %s", de->d_name, fx_err);
		fx_encode_ok(b.data, b.len, &pay);
		fx_decode_ok(&pay);
		fx_views_equal(&xview, &fx_view, de->d_name);
		x = fx_to_xml_ok(&pay, &xlen);
		fx_views_equal(&xview, &fx_view, de->d_name);
		if (takp_fx_equiv(b.data + xview.event_off, b.len -
		    xview.event_off, x, xlen, why, sizeof(why)) != 0)
			fail_msg("%s: %s\n%s", de->d_name, why, x);
		/* and the comparison does see a change */
		assert_int_not_equal(takp_fx_equiv(b.data + xview.event_off,
		    b.len - xview.event_off, "<event/>", 8, why, sizeof(why)),
		    0);
		free(x);
		pb_free(&pay);
		free(b.data);
		count++;
	}
	closedir(d);
	assert_true(count >= 10);
}

/* sa-atak.xml: what lands in which field. */
static void
test_sa_atak_fields(void **state)
{
	struct blob	 b = unit_sample("sa-atak.xml");
	struct pb	 pay;
	TakpMessage	*m;
	TakpEvent	*ev;
	TakpDetail	*d;

	fx_encode_ok(b.data, b.len, &pay);
	m = atakmap__commoncommo__protobuf__v1__tak_message__unpack(NULL,
	    pay.len, pay.p);
	assert_non_null(m);
	assert_null(m->takcontrol);
	assert_non_null(ev = m->cotevent);
	assert_string_equal(ev->uid, ANDROID_UID);
	assert_string_equal(ev->type, "a-f-G-U-C");
	assert_string_equal(ev->how, "m-g");
	assert_true(ev->sendtime == (uint64_t)utc_ms(2026, 11, 23, 8, 0, 0, 0));
	assert_true(ev->starttime == ev->sendtime);
	assert_true(ev->staletime == ev->sendtime + 360000);
	assert_true(ev->lat == 38.8895 && ev->lon == -77.0353);
	assert_true(ev->hae == 21.4 && ev->ce == 9.9 && ev->le == 9999999.0);
	assert_string_equal(ev->access, "");
	assert_non_null(d = ev->detail);
	/* all but <uid Droid> are exact matches */
	assert_string_equal(d->xmldetail, "<uid Droid=\"HAWK\"/>");
	assert_non_null(d->contact);
	assert_string_equal(d->contact->callsign, "HAWK");
	assert_string_equal(d->contact->endpoint, "*:-1:stcp");
	assert_non_null(d->group);
	assert_string_equal(d->group->name, "Cyan");
	assert_string_equal(d->group->role, "Team Member");
	assert_non_null(d->precisionlocation);
	assert_string_equal(d->precisionlocation->geopointsrc, "GPS");
	assert_string_equal(d->precisionlocation->altsrc, "GPS");
	assert_non_null(d->status);
	assert_int_equal(d->status->battery, 78);
	assert_non_null(d->takv);
	assert_string_equal(d->takv->device, "GOOGLE PIXEL 8");
	assert_string_equal(d->takv->platform, "ATAK-CIV");
	assert_string_equal(d->takv->os, "34");
	assert_string_equal(d->takv->version,
	    "5.2.0.12 (a1b2c3d4)[playstore].1700000000-CIV");
	assert_non_null(d->track);
	assert_true(d->track->speed == 1.4 && d->track->course == 80.2);
	atakmap__commoncommo__protobuf__v1__tak_message__free_unpacked(m,
	    NULL);
	/* smaller than the XML, as the protocol means it to be */
	assert_true(pay.len < b.len / 2);
	pb_free(&pay);
	free(b.data);

	/* No <detail>: no Detail; an empty one: an empty Detail. */
	b = unit_sample("pong.xml");
	fx_encode_ok(b.data, b.len, &pay);
	m = atakmap__commoncommo__protobuf__v1__tak_message__unpack(NULL,
	    pay.len, pay.p);
	assert_null(m->cotevent->detail);
	atakmap__commoncommo__protobuf__v1__tak_message__free_unpacked(m,
	    NULL);
	pb_free(&pay);
	free(b.data);
	b = unit_sample("ping.xml");
	fx_encode_ok(b.data, b.len, &pay);
	m = atakmap__commoncommo__protobuf__v1__tak_message__unpack(NULL,
	    pay.len, pay.p);
	assert_non_null(m->cotevent->detail);
	assert_string_equal(m->cotevent->detail->xmldetail, "");
	assert_null(m->cotevent->detail->contact);
	atakmap__commoncommo__protobuf__v1__tak_message__free_unpacked(m,
	    NULL);
	pb_free(&pay);
	free(b.data);
}

#define EV_HEAD	"<event version=\"2.0\" uid=\"u-1\" type=\"a-f-G-U-C\" " \
		"how=\"m-g\" time=\"2026-11-23T08:00:00.000Z\" " \
		"start=\"2026-11-23T08:00:00.000Z\" " \
		"stale=\"2026-11-23T08:06:00.000Z\"><point lat=\"1.5\" " \
		"lon=\"2.5\" hae=\"3\" ce=\"4\" le=\"5\"/><detail>"
#define EV_TAIL	"</detail></event>"

/*
 * One detail: which typed messages it gives (a bit per enum takp_typed)
 * and what stays in xmlDetail; then the round trip and the views.
 */
static void
mapping(const char *detail, unsigned typed, const char *xml_detail)
{
	char		 xml[4096], why[512], *x;
	struct pb	 pay;
	TakpMessage	*m;
	TakpDetail	*d;
	size_t		 xlen;
	unsigned	 got = 0;

	snprintf(xml, sizeof(xml), EV_HEAD "%s" EV_TAIL, detail);
	if (cot_parse(xml, strlen(xml), &xview, fx_err, sizeof(fx_err)) != 0)
		fail_msg("%s: %s", xml, fx_err);
	fx_encode_ok(xml, strlen(xml), &pay);
	m = atakmap__commoncommo__protobuf__v1__tak_message__unpack(NULL,
	    pay.len, pay.p);
	assert_non_null(m);
	d = m->cotevent->detail;
	assert_non_null(d);
	got |= d->contact != NULL ? 1u << TAKP_T_CONTACT : 0;
	got |= d->group != NULL ? 1u << TAKP_T_GROUP : 0;
	got |= d->precisionlocation != NULL ? 1u << TAKP_T_PRECISION : 0;
	got |= d->status != NULL ? 1u << TAKP_T_STATUS : 0;
	got |= d->takv != NULL ? 1u << TAKP_T_TAKV : 0;
	got |= d->track != NULL ? 1u << TAKP_T_TRACK : 0;
	if (got != typed)
		fail_msg("%s: typed 0x%x, expected 0x%x", detail, got, typed);
	if (strcmp(d->xmldetail, xml_detail) != 0)
		fail_msg("%s: xmlDetail \"%s\", expected \"%s\"", detail,
		    d->xmldetail, xml_detail);
	atakmap__commoncommo__protobuf__v1__tak_message__free_unpacked(m,
	    NULL);
	fx_decode_ok(&pay);
	fx_views_equal(&xview, &fx_view, detail);
	x = fx_to_xml_ok(&pay, &xlen);
	if (takp_fx_equiv(xml, strlen(xml), x, xlen, why, sizeof(why)) != 0)
		fail_msg("%s: %s\n%s", detail, why, x);
	free(x);
	pb_free(&pay);
}

#define B(t)	(1u << TAKP_T_ ## t)

/* Typed messages only for exact matches: the rest stays XML. */
static void
test_exact_match(void **state)
{
	mapping("<contact callsign=\"HAWK\" endpoint=\"*:-1:stcp\"/>",
	    B(CONTACT), "");
	/* ATAK's phone number: the whole contact stays XML */
	mapping("<contact callsign=\"HAWK\" endpoint=\"*:-1:stcp\" "
	    "phone=\"5551234\"/>", 0, "<contact callsign=\"HAWK\" "
	    "endpoint=\"*:-1:stcp\" phone=\"5551234\"/>");
	mapping("<contact callsign=\"HAWK\" emailAddress=\"a@b\"/>", 0,
	    "<contact callsign=\"HAWK\" emailAddress=\"a@b\"/>");
	/* a subset is fine; an empty value or a child is not */
	mapping("<contact callsign=\"HAWK\"/>", B(CONTACT), "");
	mapping("<contact/>", B(CONTACT), "");
	mapping("<contact callsign=\"\"/>", 0, "<contact callsign=\"\"/>");
	mapping("<contact callsign=\"A\"><x/></contact>", 0,
	    "<contact callsign=\"A\"><x/></contact>");
	mapping("<contact callsign=\"A\">text</contact>", 0,
	    "<contact callsign=\"A\">text</contact>");
	mapping("<contact callsign=\"A\"> </contact>", 0,
	    "<contact callsign=\"A\"> </contact>");
	/* twice: neither is typed (cot_parse reads the first) */
	mapping("<contact callsign=\"A\"/><contact callsign=\"B\"/>", 0,
	    "<contact callsign=\"A\"/><contact callsign=\"B\"/>");
	/* a namespace makes it another element */
	mapping("<x:contact xmlns:x=\"urn:x\" callsign=\"A\"/>", 0,
	    "<x:contact xmlns:x=\"urn:x\" callsign=\"A\"/>");
	mapping("<contact xmlns:x=\"urn:x\" x:callsign=\"A\"/>", 0,
	    "<contact xmlns:x=\"urn:x\" x:callsign=\"A\"/>");
	/* track: speed and course, both numbers, nothing else */
	mapping("<track course=\"80.2\" speed=\"1.4\"/>", B(TRACK), "");
	mapping("<track course=\"80.2\" speed=\"1.4\" slope=\"2\"/>", 0,
	    "<track course=\"80.2\" speed=\"1.4\" slope=\"2\"/>");
	mapping("<track speed=\"1.4\"/>", 0, "<track speed=\"1.4\"/>");
	mapping("<track course=\"NaN\" speed=\"1.4\"/>", 0,
	    "<track course=\"NaN\" speed=\"1.4\"/>");
	mapping("<track course=\"0x10\" speed=\"1.4\"/>", 0,
	    "<track course=\"0x10\" speed=\"1.4\"/>");
	mapping("<track course=\"-1.5e2\" speed=\"0.0\"/>", B(TRACK), "");
	/* status: battery, a decimal uint32 */
	mapping("<status battery=\"78\"/>", B(STATUS), "");
	mapping("<status battery=\"4294967295\"/>", B(STATUS), "");
	mapping("<status battery=\"4294967296\"/>", 0,
	    "<status battery=\"4294967296\"/>");
	mapping("<status battery=\"-1\"/>", 0, "<status battery=\"-1\"/>");
	mapping("<status battery=\"78.5\"/>", 0,
	    "<status battery=\"78.5\"/>");
	mapping("<status readiness=\"true\"/>", 0,
	    "<status readiness=\"true\"/>");
	mapping("<status/>", 0, "<status/>");
	/* the string ones */
	mapping("<__group name=\"Cyan\" role=\"Team Member\"/>", B(GROUP),
	    "");
	mapping("<__group name=\"Cyan\" role=\"Team Member\" x=\"1\"/>", 0,
	    "<__group name=\"Cyan\" role=\"Team Member\" x=\"1\"/>");
	mapping("<precisionlocation altsrc=\"DTED0\"/>", B(PRECISION), "");
	mapping("<precisionlocation altsrc=\"DTED0\" geopointsrc=\"GPS\" "
	    "spd=\"1\"/>", 0, "<precisionlocation altsrc=\"DTED0\" "
	    "geopointsrc=\"GPS\" spd=\"1\"/>");
	mapping("<takv platform=\"iTAK\" version=\"2.1\"/>", B(TAKV), "");
	mapping("<takv platform=\"iTAK\" build=\"9\"/>", 0,
	    "<takv platform=\"iTAK\" build=\"9\"/>");
	/* a mix: order kept in xmlDetail, typed ones taken out */
	mapping("<remarks>hi &amp; bye</remarks><status battery=\"5\"/>"
	    "<!-- note --><track speed=\"1\" course=\"2\" x=\"y\"/>",
	    B(STATUS), "<remarks>hi &amp; bye</remarks><!-- note -->"
	    "<track speed=\"1\" course=\"2\" x=\"y\"/>");
	/* only layout left: no xmlDetail */
	mapping("\n  <status battery=\"5\"/>\n  <contact callsign=\"A\"/>\n",
	    B(STATUS) | B(CONTACT), "");
}

/* A namespace declared on the event travels with the child using it. */
static void
test_namespaces(void **state)
{
	const char	*xml = "<event xmlns:x=\"urn:x\" uid=\"u-1\" "
	    "type=\"a-f\" stale=\"2026-11-23T08:06:00Z\"><point lat=\"1\" "
	    "lon=\"2\" hae=\"3\" ce=\"4\" le=\"5\"/><detail><x:foo x:a=\"1\">"
	    "<x:bar/></x:foo></detail></event>";
	char		*x;
	struct pb	 pay;
	size_t		 xlen;

	fx_encode_ok(xml, strlen(xml), &pay);
	x = fx_to_xml_ok(&pay, &xlen);
	assert_contains(x, "<detail><x:foo xmlns:x=\"urn:x\" x:a=\"1\">"
	    "<x:bar/></x:foo></detail>");
	free(x);
	pb_free(&pay);
}

/* xmlDetail wins over a typed message for the same element. */
static void
test_xml_detail_wins(void **state)
{
	struct pb	 det, c, g, msg;
	char		*x;
	size_t		 xlen;

	memset(&det, 0, sizeof(det));
	memset(&c, 0, sizeof(c));
	memset(&g, 0, sizeof(g));
	pb_str(&det, 1, "<contact callsign=\"FROM-XML\" endpoint=\"e\"/>");
	pb_str(&c, 1, "typed-endpoint");
	pb_str(&c, 2, "FROM-TYPED");
	pb_msg(&det, 2, &c);
	pb_str(&g, 1, "Cyan");
	pb_str(&g, 2, "HQ");
	pb_msg(&det, 3, &g);
	fx_event_detail(&msg, &det);
	fx_decode_ok(&msg);
	assert_string_equal(fx_view.callsign, "FROM-XML");
	assert_string_equal(fx_view.endpoint, "e");
	/* no __group in xmlDetail: the typed one counts */
	assert_string_equal(fx_view.group_name, "Cyan");
	assert_string_equal(fx_view.group_role, "HQ");
	x = fx_to_xml_ok(&msg, &xlen);
	assert_contains(x, "<detail><contact callsign=\"FROM-XML\" "
	    "endpoint=\"e\"/><__group name=\"Cyan\" role=\"HQ\"/></detail>");
	assert_null(strstr(x, "FROM-TYPED"));
	free(x);
	pb_free(&msg);
	pb_free(&det);

	/* typed only: written as elements, read into the view */
	memset(&det, 0, sizeof(det));
	pb_msg(&det, 2, &c);
	fx_event_detail(&msg, &det);
	fx_decode_ok(&msg);
	assert_true(fx_view.has_contact);
	assert_string_equal(fx_view.callsign, "FROM-TYPED");
	assert_string_equal(fx_view.endpoint, "typed-endpoint");
	x = fx_to_xml_ok(&msg, &xlen);
	assert_contains(x, "<detail><contact callsign=\"FROM-TYPED\" "
	    "endpoint=\"typed-endpoint\"/></detail>");
	free(x);
	pb_free(&msg);
	pb_free(&det);
	pb_free(&c);
	pb_free(&g);
}

/* dests and links come from xmlDetail, as from XML's detail */
static void
test_detail_routing(void **state)
{
	static const char d[] = "<marti><dest uid=\"U1\"/><dest callsign="
	    "\"All Streaming\"/><dest mission=\"m\"/><dest callsign=\"C2\"/>"
	    "</marti><link uid=\"L\" type=\"a-f-G\" relation=\"p-p\"/>"
	    "<TakControl><TakRequest version=\"1\"/></TakControl>";
	struct pb	 msg;

	fx_event_xml_detail(&msg, d, sizeof(d) - 1);
	fx_decode_ok(&msg);
	assert_true(fx_view.has_marti && fx_view.dest_all);
	assert_int_equal(fx_view.n_dest, 2);
	assert_int_equal(fx_view.dest[0].kind, COT_DEST_UID);
	assert_string_equal(fx_view.dest[0].value, "U1");
	assert_string_equal(fx_view.dest[1].value, "C2");
	assert_int_equal(fx_view.n_dest_other, 1);
	assert_string_equal(fx_view.link_uid, "L");
	assert_string_equal(fx_view.link_type, "a-f-G");
	assert_int_equal(fx_view.takp_request, 1);
	pb_free(&msg);
}

/* Every string field with <&"'> comes back intact through XML. */
static void
test_escaping(void **state)
{
	static const char nasty[] = "<a&b\"c'd>";
	static const char ws[] = "t\tl\nc\r";
	static const struct {
		const char	*elem;
		const char	*attr;
	} where[] = {
		{ "event", "uid" }, { "event", "type" }, { "event", "how" },
		{ "event", "access" }, { "event", "qos" }, { "event", "opex" },
		{ "event", "caveat" }, { "event", "releasableTo" },
		{ "contact", "callsign" }, { "contact", "endpoint" },
		{ "__group", "name" }, { "__group", "role" },
		{ "precisionlocation", "geopointsrc" },
		{ "precisionlocation", "altsrc" },
		{ "takv", "device" }, { "takv", "platform" },
		{ "takv", "os" }, { "takv", "version" },
	};
	struct pb	 ev, det, c, g, p, t, msg;
	xmlDocPtr	 doc;
	xmlNodePtr	 n;
	xmlChar		*v;
	char		*x;
	size_t		 xlen, i;

	memset(&ev, 0, sizeof(ev));
	memset(&msg, 0, sizeof(msg));
	memset(&det, 0, sizeof(det));
	memset(&c, 0, sizeof(c));
	memset(&g, 0, sizeof(g));
	memset(&p, 0, sizeof(p));
	memset(&t, 0, sizeof(t));
	for (i = 1; i <= 2; i++) {
		pb_str(&c, (uint32_t)i, nasty);
		pb_str(&g, (uint32_t)i, nasty);
		pb_str(&p, (uint32_t)i, nasty);
	}
	for (i = 1; i <= 4; i++)
		pb_str(&t, (uint32_t)i, nasty);
	pb_msg(&det, 2, &c);
	pb_msg(&det, 3, &g);
	pb_msg(&det, 4, &p);
	pb_msg(&det, 6, &t);
	pb_event_base(&ev, nasty);
	pb_str(&ev, 1, nasty);
	pb_str(&ev, 9, nasty);
	pb_str(&ev, 2, nasty);
	pb_str(&ev, 3, nasty);
	pb_str(&ev, 4, nasty);
	pb_str(&ev, 16, nasty);
	pb_str(&ev, 17, nasty);
	pb_msg(&ev, 15, &det);
	pb_wrap_event(&msg, &ev);
	x = fx_to_xml_ok(&msg, &xlen);	/* cot_parse() takes it */
	assert_string_equal(fx_view.uid, nasty);
	assert_string_equal(fx_view.callsign, nasty);
	assert_string_equal(fx_view.group_role, nasty);
	doc = xmlReadMemory(x, (int)xlen, NULL, "UTF-8", XML_PARSE_NONET);
	assert_non_null(doc);
	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		n = xmlDocGetRootElement(doc);
		if (strcmp(where[i].elem, "event") != 0) {
			for (n = n->children; n != NULL &&
			    !xmlStrEqual(n->name, (const xmlChar *)"detail");
			    n = n->next)
				;
			assert_non_null(n);
			for (n = n->children; n != NULL &&
			    !xmlStrEqual(n->name, (const xmlChar *)where[i].elem);
			    n = n->next)
				;
			assert_non_null(n);
		}
		v = xmlGetProp(n, (const xmlChar *)where[i].attr);
		if (v == NULL || strcmp((char *)v, nasty) != 0)
			fail_msg("<%s %s> is \"%s\"", where[i].elem,
			    where[i].attr, v);
		xmlFree(v);
	}
	xmlFreeDoc(doc);
	free(x);
	pb_free(&msg);

	/* tab and line ends survive attribute normalisation */
	pb_str(&ev, 2, ws);
	pb_wrap_event(&msg, &ev);
	x = fx_to_xml_ok(&msg, &xlen);
	assert_contains(x, "access=\"t&#9;l&#10;c&#13;\"");
	doc = xmlReadMemory(x, (int)xlen, NULL, "UTF-8", XML_PARSE_NONET);
	assert_non_null(doc);
	v = xmlGetProp(xmlDocGetRootElement(doc), (const xmlChar *)"access");
	assert_string_equal((char *)v, ws);
	xmlFree(v);
	xmlFreeDoc(doc);
	free(x);
	pb_free(&msg);
	pb_free(&ev);
	pb_free(&det);
	pb_free(&c);
	pb_free(&g);
	pb_free(&p);
	pb_free(&t);

	/* and from XML: escaped values travel decoded */
	{
		struct pb	 pay;
		TakpMessage	*m;
		const char	*xml = "<event uid=\"a&amp;b&lt;&quot;&apos;\" "
		    "type=\"a\" access=\"x&#10;y\" caveat=\"C\" releasableTo=\"R&amp;\" "
		    "qos=\"Q\" opex=\"O\" stale=\"2026-11-23T08:06:00Z\">"
		    "<point lat=\"1\" lon=\"2\" hae=\"3\" ce=\"4\" le=\"5\"/>"
		    "<detail><contact callsign=\"A&amp;B&gt;\"/><remarks>1 &lt; 2 "
		    "&amp; 3</remarks></detail></event>";

		fx_encode_ok(xml, strlen(xml), &pay);
		m = atakmap__commoncommo__protobuf__v1__tak_message__unpack(
		    NULL, pay.len, pay.p);
		assert_string_equal(m->cotevent->uid, "a&b<\"'");
		assert_string_equal(m->cotevent->access, "x\ny");
		assert_string_equal(m->cotevent->caveat, "C");
		assert_string_equal(m->cotevent->releaseableto, "R&");
		assert_string_equal(m->cotevent->qos, "Q");
		assert_string_equal(m->cotevent->opex, "O");
		assert_string_equal(m->cotevent->detail->contact->callsign,
		    "A&B>");
		assert_string_equal(m->cotevent->detail->xmldetail,
		    "<remarks>1 &lt; 2 &amp; 3</remarks>");
		atakmap__commoncommo__protobuf__v1__tak_message__free_unpacked(
		    m, NULL);
		pb_free(&pay);
	}
}

/* Numbers come back as the same double, in few digits. */
static void
test_numbers(void **state)
{
	static const double values[] = {
		38.8895, -77.0353, 21.4, 9.9, 9999999.0, 999999.0, 0.0, -0.0,
		0.1, 1e-7, 123456789.123456789, 1.7976931348623157e308,
		4.9406564584124654e-324, 2.2250738585072014e-308, 1.0 / 3.0,
		-179.99999999999997, 90.0
	};
	static const struct {
		double		 d;
		const char	*text;
	} shortest[] = {
		{ 38.8895, "\"38.8895\"" }, { 9999999.0, "\"9999999\"" },
		{ 0.1, "\"0.1\"" }, { 1.0 / 3.0, "\"0.3333333333333333\"" },
		{ 100.0, "\"100\"" },
	};
	struct pb	 e, msg;
	char		*x, *p, *ep;
	size_t		 n, i;
	double		 back;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		memset(&e, 0, sizeof(e));
		pb_double(&e, 12, values[i]);	/* hae */
		fx_event_with(&msg, "u-1", &e);
		x = fx_to_xml_ok(&msg, &n);
		assert_non_null(p = strstr(x, " hae=\""));
		back = strtod(p + 6, &ep);
		assert_int_equal(*ep, '"');
		if (back != values[i] || signbit(back) != signbit(values[i]))
			fail_msg("hae %.17g written as %.*s", values[i],
			    (int)(ep - p - 6), p + 6);
		/* cot_parse() reads subnormals as out of range: no hae */
		if (isnormal(values[i]) || values[i] == 0.0)
			assert_true(fx_view.hae == values[i]);
		free(x);
		pb_free(&msg);
		pb_free(&e);
	}
	for (i = 0; i < sizeof(shortest) / sizeof(shortest[0]); i++) {
		memset(&e, 0, sizeof(e));
		pb_double(&e, 13, shortest[i].d);	/* ce */
		fx_event_with(&msg, "u-1", &e);
		x = fx_to_xml_ok(&msg, &n);
		assert_non_null(p = strstr(x, " ce="));
		if (strncmp(p + 4, shortest[i].text,
		    strlen(shortest[i].text)) != 0)
			fail_msg("ce %.17g: %.30s, expected %s", shortest[i].d,
			    p + 4, shortest[i].text);
		free(x);
		pb_free(&msg);
		pb_free(&e);
	}
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
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_sa_atak_fields),
		cmocka_unit_test(test_exact_match),
		cmocka_unit_test(test_namespaces),
		cmocka_unit_test(test_xml_detail_wins),
		cmocka_unit_test(test_detail_routing),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_negotiation),
	};

	cot_parse_init();
	/* test_takp [PATTERN]: run only the matching tests */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
