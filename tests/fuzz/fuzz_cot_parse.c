/*
 * libFuzzer target for the CoT event parser (cot/cot_parse.h).
 *
 * Input: one event's bytes, as the framer hands them out (or anything
 * else).  Checked on every input:
 * - a failure leaves a one-line reason, and the same reason (cut short)
 *   with a tiny err buffer or none;
 * - an accepted event has a uid, a type and a stale time, and every string
 *   of the view is terminated inside its field and free of control
 *   characters, as cot_parse.h promises;
 * - before its "<event" there is at most whitespace and one short
 *   declaration of printable ASCII with no '<' inside (nothing smuggled);
 * - the disconnect notice takd would make for that uid and type parses
 *   back to the same uid and type (escaping and parsing agree);
 * - a stale time formats and parses back to the same instant;
 * - short inputs are also tried as ISO 8601 times, with the same round
 *   trip.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cot/cot_frame.h"
#include "cot/cot_parse.h"

int	 LLVMFuzzerInitialize(int *, char ***);
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Any fixed instant will do: the notice's times are not compared. */
#define FZ_NOW_MS	INT64_C(1795420800000)

static void
fz_fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_cot_parse: %s%s%s\n", what,
	    detail != NULL ? ": " : "", detail != NULL ? detail : "");
	abort();
}

/* A field is terminated inside its size and holds no control character. */
static void
check_str(const char *s, size_t size, const char *name)
{
	size_t	 i;

	for (i = 0; i < size && s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			fz_fail("control character in the view", name);
	if (i == size)
		fz_fail("unterminated field in the view", name);
}

static void
check_err(const char *err)
{
	const char	*p;

	if (err[0] == '\0')
		fz_fail("failure without a reason", NULL);
	for (p = err; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			fz_fail("reason is not one line", err);
}

/*
 * What an accepted event may have before "<event": whitespace and one
 * short declaration of printable ASCII with no '<' but its first byte (so
 * nothing, an event least of all, can hide in it).  Written apart from
 * cot_scan_decl(), which is stricter.
 */
static void
check_prolog(const uint8_t *p, size_t n)
{
	size_t	 i = 0, start;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
	    p[i] == '\n'))
		i++;
	if (i == n)
		return;
	if (n - i < 7 || memcmp(p + i, "<?xml", 5) != 0)
		fz_fail("accepted with something else than a declaration "
		    "before <event", NULL);
	start = i;
	for (i++; i < n && !(p[i - 1] == '?' && p[i] == '>'); i++)
		if (p[i] == '<' || p[i] >= 0x7f || (p[i] < 0x20 &&
		    p[i] != ' ' && p[i] != '\t' && p[i] != '\r' &&
		    p[i] != '\n'))
			fz_fail("accepted a declaration with '<', a control "
			    "character or a non-ASCII byte", NULL);
	if (i == n || i + 1 - start > COT_DECL_MAX)
		fz_fail("accepted a declaration without its end or too long",
		    NULL);
	for (i++; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' &&
		    p[i] != '\n')
			fz_fail("accepted more than one declaration before "
			    "<event", NULL);
}

static void
check_view(const struct cot_view *v, const uint8_t *data, size_t size)
{
	size_t	 i;

	check_str(v->uid, sizeof(v->uid), "uid");
	check_str(v->type, sizeof(v->type), "type");
	check_str(v->how, sizeof(v->how), "how");
	check_str(v->callsign, sizeof(v->callsign), "callsign");
	check_str(v->endpoint, sizeof(v->endpoint), "endpoint");
	check_str(v->group_name, sizeof(v->group_name), "group name");
	check_str(v->group_role, sizeof(v->group_role), "group role");
	check_str(v->link_uid, sizeof(v->link_uid), "link uid");
	check_str(v->link_type, sizeof(v->link_type), "link type");
	if (v->uid[0] == '\0' || v->type[0] == '\0')
		fz_fail("accepted without uid or type", NULL);
	if (v->stale_ms == COT_TIME_UNSET)
		fz_fail("accepted without a stale time", v->uid);
	if (v->event_off + 6 > size ||
	    memcmp(data + v->event_off, "<event", 6) != 0)
		fz_fail("event_off does not point at <event", NULL);
	check_prolog(data, v->event_off);
	if (v->n_dest > COT_MAX_DEST)
		fz_fail("too many recipients", NULL);
	for (i = 0; i < v->n_dest; i++) {
		check_str(v->dest[i].value, sizeof(v->dest[i].value), "dest");
		if (v->dest[i].value[0] == '\0')
			fz_fail("empty recipient", NULL);
		if (v->dest[i].kind != COT_DEST_CALLSIGN &&
		    v->dest[i].kind != COT_DEST_UID)
			fz_fail("recipient of no kind", NULL);
	}
	if (v->has_point && (v->lat < -90 || v->lat > 90 || v->lon < -180 ||
	    v->lon > 180))
		fz_fail("point out of range", NULL);
	if (!v->has_marti && (v->n_dest > 0 || v->dest_all))
		fz_fail("recipients without <marti>", NULL);
	(void)cot_is_ping(v);
	(void)cot_is_sa(v);
	if (cot_is_disconnect(v) && v->link_uid[0] == '\0')
		fz_fail("disconnect without a departed uid", NULL);
	if (cot_identity_uid(v) != NULL && (v->callsign[0] == '\0' ||
	    v->endpoint[0] == '\0'))
		fz_fail("identity without callsign or endpoint", v->uid);
}

/* Formatted, then parsed back: the same instant. */
static void
check_time_roundtrip(int64_t ms)
{
	char	 buf[40];
	int64_t	 back;

	if (cot_time_format(ms, buf, sizeof(buf)) == 0)
		return;		/* outside years 1..9999 */
	if (cot_time_parse(buf, &back) == -1)
		fz_fail("formatted time does not parse", buf);
	if (back != ms)
		fz_fail("time changed in a round trip", buf);
}

/* takd's disconnect notice for this sender parses back to it. */
static void
check_disconnect(const struct cot_view *v)
{
	static char		 buf[8192];
	static struct cot_view	 back;
	char			 err[COT_ERR_MAX];

	if (cot_make_disconnect(buf, sizeof(buf), v->uid, v->type,
	    FZ_NOW_MS) == 0)
		fz_fail("no disconnect notice for a parsed uid", v->uid);
	if (cot_parse(buf, strlen(buf), &back, err, sizeof(err)) == -1)
		fz_fail("takd's own disconnect notice does not parse", err);
	if (!cot_is_disconnect(&back) ||
	    strcmp(back.link_uid, v->uid) != 0 ||
	    strcmp(back.link_type, v->type) != 0)
		fz_fail("disconnect notice names another uid or type", buf);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	cot_parse_init();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cot_view	 v, v2;
	char			 err[COT_ERR_MAX], small[8], one[1];
	char			 str[64];
	int64_t			 ms;
	int			 rc;

	memset(err, 'x', sizeof(err));
	rc = cot_parse(data, size, &v, err, sizeof(err));
	if (rc != 0 && rc != -1)
		fz_fail("cot_parse returned neither 0 nor -1", NULL);
	if (rc == -1)
		check_err(err);
	else {
		check_view(&v, data, size);
		check_time_roundtrip(v.stale_ms);
		check_disconnect(&v);
	}

	/*
	 * Same answer, whatever room the reason has: one of three err
	 * buffers, by the input's length, to keep to two parses an input.
	 */
	switch (size % 3) {
	case 0:
		if (cot_parse(data, size, &v2, small, sizeof(small)) != rc)
			fz_fail("result depends on the size of err", NULL);
		if (rc == -1 && (strlen(small) >= sizeof(small) ||
		    strncmp(small, err, strlen(small)) != 0))
			fz_fail("short reason is not the reason cut short",
			    small);
		break;
	case 1:
		one[0] = 'x';
		if (cot_parse(data, size, &v2, one, sizeof(one)) != rc ||
		    (rc == -1 && one[0] != '\0'))
			fz_fail("one-byte err mishandled", NULL);
		break;
	default:
		if (cot_parse(data, size, &v2, NULL, 0) != rc)
			fz_fail("result depends on having an err buffer",
			    NULL);
		break;
	}
	if (rc == 0 && (strcmp(v.uid, v2.uid) != 0 ||
	    strcmp(v.type, v2.type) != 0 || v.stale_ms != v2.stale_ms ||
	    v.n_dest != v2.n_dest || v.dest_all != v2.dest_all ||
	    strcmp(v.link_uid, v2.link_uid) != 0))
		fz_fail("the same bytes parsed differently", v.uid);

	/* Short inputs double as times. */
	if (size < sizeof(str) && memchr(data, 0, size) == NULL) {
		memcpy(str, data, size);
		str[size] = '\0';
		if (cot_time_parse(str, &ms) == 0)
			check_time_roundtrip(ms);
	}
	return (0);
}
